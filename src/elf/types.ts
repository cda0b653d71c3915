/**
 * What the object loader produces: a description of an eBPF ELF object's programs and maps, with
 * libbpf's conventions applied (subprograms linked in, relocations resolved to map indices),
 * ready for a runtime to create the maps and load the programs.
 */
import type { Btf } from "./btf.js";
import type { BtfExt } from "./btf-ext.js";

/** Everything in an eBPF object file. */
export interface CollectionSpec {
  /** Object name, as libbpf derives it (file basename up to the first `.`, at most 15 bytes). */
  name: string;
  /**
   * Entry programs (every function in an executable section other than `.text`), in libbpf's
   * order: by section index, then by offset in the section.
   */
  programs: ProgramSpec[];
  /**
   * Maps, in libbpf's order: legacy `maps` section definitions, then BTF-defined `.maps`
   * (in the `.maps` DATASEC's order), then global data sections in section order. The `imm` of
   * every relocated `lddw` is an index into this array.
   */
  maps: MapSpec[];
  /** The `license` section's string ("" if none). */
  license: string;
  /** The `version` section's value, if the object has one. */
  kernelVersion?: number;
  /** The object's `.BTF`, if any. */
  btf?: Btf;
  /** The object's `.BTF.ext`, if any (raw records by section; programs carry theirs mapped). */
  btfExt?: BtfExt;
}

/** A function's place in a linked program. */
export interface FuncBoundary {
  /** Symbol name of the function. */
  name: string;
  /** Index of its first instruction in {@link ProgramSpec.insns} (8-byte units). */
  start: number;
  /**
   * A global function in the kernel's sense: a global or weak symbol with default visibility
   * (libbpf marks hidden ones static in BTF). The verifier checks global subprograms on their
   * own, independently of their callers' state.
   */
  global: boolean;
}

/** A `.BTF.ext` line_info record mapped onto a linked program. */
export interface LineInfo {
  /** Instruction index in the linked program. */
  insn: number;
  /** Source file name. */
  file: string;
  /** 1-based line number. */
  line: number;
  /** Column (0 when unknown). */
  column: number;
  /** Text of the source line. */
  text: string;
}

/** A `.BTF.ext` func_info record mapped onto a linked program. */
export interface FuncInfo {
  /** Instruction index of the function's start in the linked program. */
  insn: number;
  /** BTF id of the FUNC type. */
  typeId: number;
  /** Name of the FUNC type ("" if unknown). */
  name: string;
}

/** A CO-RE relocation record mapped onto a linked program (not applied by tsbpf). */
export interface CoreRelo {
  /** Instruction index in the linked program. */
  insn: number;
  /** BTF id of the root type. */
  typeId: number;
  /** Access string (`0:1:0:5`). */
  accessStr: string;
  /** `enum bpf_core_relo_kind`. */
  kind: number;
}

/** One entry program, linked with every subprogram it calls. */
export interface ProgramSpec {
  /** Symbol name of the program's function. */
  name: string;
  /** ELF section name, without libbpf's leading `?` (e.g. `xdp`, `tc/ingress`). */
  section: string;
  /** False when the section name started with `?` (libbpf's "do not load by default"). */
  autoload: boolean;
  /**
   * Linked bytecode, 8 bytes per instruction, little-endian, relocations applied: the program's
   * own instructions first, then each subprogram it reaches, in libbpf's (depth-first) order.
   * `call` to a subprogram: src_reg 1, imm pc-relative. `lddw` of a map: src_reg 1, imm = map
   * index; of global data: src_reg 2, imm = map index, second imm = offset in the value; of a
   * function: src_reg 4, imm pc-relative.
   */
  insns: Uint8Array;
  /** The program's function (at 0) and each appended subprogram, in linked order. */
  funcs: FuncBoundary[];
  /** Source line records, in linked order (empty without `.BTF.ext`). */
  lineInfo: LineInfo[];
  /** Function records, in linked order (empty without `.BTF.ext`). */
  funcInfo: FuncInfo[];
  /** CO-RE relocation records, in linked order (parsed, not applied). */
  coreRelos: CoreRelo[];
  /** The object's license string. */
  license: string;
  /** The object's kernel version, if any. */
  kernelVersion?: number;
  /** True if the program's function is a global (or weak) symbol, false if static. */
  global: boolean;
  /** Linux `BPF_PROG_TYPE_*` from the section name (0, UNSPEC, if libbpf knows no such section). */
  progType: number;
  /** Linux `enum bpf_attach_type` from the section name (0 if none). */
  expectedAttachType: number;
  /** `BPF_F_*` load flags the section implies (BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS). */
  progFlags: number;
}

/** One map to create. */
export interface MapSpec {
  /** Map name (libbpf's: the variable name, or e.g. `globals.bss` for global data). */
  name: string;
  /** Linux `BPF_MAP_TYPE_*`. */
  type: number;
  /** Key size in bytes. */
  keySize: number;
  /** Value size in bytes. */
  valueSize: number;
  /** Capacity (ring buffers: rounded up to a power-of-2 multiple of 4096, as libbpf does). */
  maxEntries: number;
  /** `BPF_F_*` map flags (global data: BPF_F_RDONLY_PROG for `.rodata*`, BPF_F_MMAPABLE). */
  flags: number;
  /** `map_extra` (bloom filter hash count, arena address). */
  mapExtra?: number;
  /** `numa_node`. */
  numaNode?: number;
  /** libbpf pinning (0 none, 1 by name). */
  pinning?: number;
  /** Initial contents of a global data map's single value (zeros for `.bss`). */
  initialValue?: Uint8Array;
  /**
   * Static initialisation from `__array(values, …)`: for a prog_array, slot → program name;
   * for array_of_maps / hash_of_maps, key → map name. Only filled slots are listed.
   */
  initialSlots?: { key: number; target: string }[];
  /** Template of the inner maps of an array_of_maps / hash_of_maps (named `<outer>.inner`). */
  innerMap?: MapSpec;
  /** BTF id of the key type, when known. */
  keyTypeId?: number;
  /** BTF id of the value type (the DATASEC for global data), when known. */
  valueTypeId?: number;
  /** ELF section the definition came from (`.maps`, `maps`, `.bss`, `.rodata.str1.1`, ...). */
  section: string;
  /** True for `.rodata*` maps: programs may not write them (BPF_F_RDONLY_PROG). */
  readonlyProg: boolean;
}

/** Options of {@link loadCollectionSpec}. */
export interface LoadCollectionOptions {
  /**
   * File name or path of the object; the object name is its basename up to the first `.`,
   * truncated to 15 bytes, as libbpf does. Default `obj`.
   */
  name?: string;
  /** Largest object accepted, in bytes (default 256 MiB): a larger one is `ELF_TOO_LARGE`. */
  maxElfBytes?: number;
}
