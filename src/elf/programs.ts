/**
 * Functions of an object and their relocations, following libbpf's `bpf_object__add_programs`,
 * `bpf_object__collect_prog_relos` and `bpf_program__record_reloc`. Map and global data
 * references are applied here (they do not depend on where a function ends up); calls and
 * function addresses are recorded for the linker.
 */
import {
  BPF_PSEUDO_CALL,
  BPF_PSEUDO_FUNC,
  BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_MAP_VALUE,
} from "./constants.js";
import {
  R_BPF_64_32,
  R_BPF_64_64,
  SHN_LORESERVE,
  SHN_UNDEF,
  STB_GLOBAL,
  STB_LOCAL,
  STB_WEAK,
  STT_FUNC,
  STT_NOTYPE,
  STT_SECTION,
  STV_HIDDEN,
  STV_INTERNAL,
  describeSection,
  type ElfSection,
  type ElfSymbol,
} from "./elf.js";
import { LoadError, hex } from "./errors.js";
import type { ObjectMaps } from "./maps.js";
import { symbolAt, symbolName, type ObjectContext } from "./object.js";

/** `call` (BPF_JMP | BPF_CALL). */
export const OP_CALL = 0x85;
/** `lddw` (BPF_LD | BPF_IMM | BPF_DW). */
export const OP_LDDW = 0x18;
/** Size of one instruction. */
export const INSN_SIZE = 8;

/** A reference from an instruction to a function in `.text`, resolved at link time. */
export interface CodeRef {
  /** `call` to a subprogram, or `lddw` of a function's address. */
  kind: "call" | "func";
  /** Symbol value (byte offset in `.text`) the relocation points at. */
  symOff: number;
  /** Symbol name, for error messages. */
  symName: string;
}

/** One function (STT_FUNC symbol) of an executable section. */
export interface BpfFunction {
  /** Symbol name. */
  name: string;
  /** The section holding it. */
  section: ElfSection;
  /** Index of its first instruction in the section. */
  secInsnOff: number;
  /** Number of instructions. */
  insnCount: number;
  /** Global or weak symbol. */
  global: boolean;
  /** Hidden or internal visibility (libbpf then treats a global function as static). */
  hidden: boolean;
  /** In `.text`: a subprogram, not an entry program. */
  subprog: boolean;
  /** Its instructions (a copy), with map and global data relocations applied. */
  code: Uint8Array;
  /** A view of `code`. */
  view: DataView;
  /** Relocated calls and function-address loads, by instruction index in the function. */
  refs: Map<number, CodeRef>;
}

/** Functions of the object, sorted by section index then offset. */
export interface ObjectFunctions {
  /** Every function, entry programs and subprograms. */
  all: BpfFunction[];
  /** Functions by section index, sorted by offset. */
  bySection: Map<number, BpfFunction[]>;
}

/** Collects every STT_FUNC symbol of every executable section. */
export function collectFunctions(ctx: ObjectContext): ObjectFunctions {
  const all: BpfFunction[] = [];
  const bySection = new Map<number, BpfFunction[]>();
  const funcSyms = new Map<number, ElfSymbol[]>();
  for (const sym of ctx.symbols) {
    if (sym.type !== STT_FUNC) continue;
    const list = funcSyms.get(sym.shndx);
    if (list) list.push(sym);
    else funcSyms.set(sym.shndx, [sym]);
  }
  for (const sec of ctx.progSections) {
    const list = (funcSyms.get(sec.index) ?? []).map((sym) => makeFunction(ctx, sec, sym));
    list.sort((a, b) => a.secInsnOff - b.secInsnOff);
    bySection.set(sec.index, list);
    all.push(...list);
  }
  return { all, bySection };
}

function makeFunction(ctx: ObjectContext, sec: ElfSection, sym: ElfSymbol): BpfFunction {
  const where = describeSection(sec);
  const name = sym.name;
  if (!name)
    throw new LoadError("PROGRAM", `${where}: function symbol #${sym.index} has no name`, {
      section: sec.name,
      offset: sym.value,
    });
  if (sym.value > sec.size || sym.size > sec.size - sym.value)
    throw new LoadError(
      "PROGRAM",
      `${where}: program ${JSON.stringify(name)} at offset ${hex(sym.value)} + size ` +
        `${hex(sym.size)} crosses the section boundary (${hex(sec.size)} bytes)`,
      { section: sec.name, offset: sym.value },
    );
  if (sym.size === 0 || sym.size % INSN_SIZE !== 0 || sym.value % INSN_SIZE !== 0)
    throw new LoadError(
      "PROGRAM",
      `${where}: corrupted program ${JSON.stringify(name)}: offset ${hex(sym.value)}, size ` +
        `${hex(sym.size)} (must be non-empty multiples of ${INSN_SIZE})`,
      { section: sec.name, offset: sym.value },
    );
  const subprog = sec.index === ctx.textIndex;
  if (!subprog && sym.bind === STB_LOCAL)
    throw new LoadError(
      "UNSUPPORTED",
      `${where}: program ${JSON.stringify(name)} is static and not supported (libbpf ` +
        `refuses static functions outside .text; drop 'static' or move it to .text)`,
      { section: sec.name, offset: sym.value },
    );
  const code = sec.data.slice(sym.value, sym.value + sym.size);
  return {
    name,
    section: sec,
    secInsnOff: sym.value / INSN_SIZE,
    insnCount: sym.size / INSN_SIZE,
    global: sym.bind !== STB_LOCAL,
    hidden: sym.visibility === STV_HIDDEN || sym.visibility === STV_INTERNAL,
    subprog,
    code,
    view: new DataView(code.buffer),
    refs: new Map(),
  };
}

/** The function of section `secIndex` that contains instruction `insn`, if any. */
export function functionAt(
  fns: ObjectFunctions,
  secIndex: number,
  insn: number,
): BpfFunction | undefined {
  const list = fns.bySection.get(secIndex);
  if (!list) return undefined;
  let lo = 0;
  let hi = list.length - 1;
  while (lo < hi) {
    const mid = lo + Math.ceil((hi - lo) / 2);
    if (list[mid].secInsnOff <= insn) lo = mid;
    else hi = mid - 1;
  }
  const f = list[lo];
  return f && insn >= f.secInsnOff && insn < f.secInsnOff + f.insnCount ? f : undefined;
}

/** Applies every relocation of every executable section to the functions. */
export function applyProgramRelocations(
  ctx: ObjectContext,
  fns: ObjectFunctions,
  maps: ObjectMaps,
): void {
  for (const relSec of ctx.relSections) {
    const target = ctx.elf.sections[relSec.info];
    if (target.name === ".maps") continue;
    const relWhere = describeSection(relSec);
    ctx.elf.readRelocations(relSec).forEach((rel, i) => {
      const where = `${relWhere}: relocation #${i}`;
      const sym = symbolAt(ctx, rel.symbol, where);
      if (sym.shndx >= ctx.elf.sections.length && sym.shndx < SHN_LORESERVE)
        throw new LoadError(
          "RELOCATION",
          `${where}: symbol #${sym.index} points to invalid section #${sym.shndx}`,
          { section: target.name, offset: rel.offset },
        );
      if (rel.offset % INSN_SIZE !== 0 || rel.offset >= target.size)
        throw new LoadError(
          "RELOCATION",
          `${where}: invalid offset ${hex(rel.offset)} in ${describeSection(target)} ` +
            `(${hex(target.size)} bytes)`,
          { section: target.name, offset: rel.offset },
        );
      const insnIdx = rel.offset / INSN_SIZE;
      const fn = functionAt(fns, target.index, insnIdx);
      // libbpf skips relocations of instructions outside every function (overridden weak ones).
      if (!fn) return;
      recordRelocation(ctx, maps, fn, insnIdx - fn.secInsnOff, rel.type, sym);
    });
  }
}

function isExtern(sym: ElfSymbol): boolean {
  return (
    sym.shndx === SHN_UNDEF &&
    (sym.bind === STB_GLOBAL || sym.bind === STB_WEAK) &&
    sym.type === STT_NOTYPE
  );
}

function isSubprogSymbol(ctx: ObjectContext, sym: ElfSymbol): boolean {
  if (sym.shndx !== ctx.textIndex || ctx.textIndex < 0) return false;
  if (sym.bind === STB_LOCAL && sym.type === STT_SECTION) return true;
  return sym.type === STT_FUNC;
}

function recordRelocation(
  ctx: ObjectContext,
  maps: ObjectMaps,
  fn: BpfFunction,
  idx: number,
  relType: number,
  sym: ElfSymbol,
): void {
  const symName = symbolName(ctx, sym);
  const secName = fn.section.name;
  const offset = (fn.secInsnOff + idx) * INSN_SIZE;
  const at =
    `${describeSection(fn.section)}: relocation at offset ${hex(offset)} ` +
    `(insn ${idx} of ${JSON.stringify(fn.name)}) against ${JSON.stringify(symName)}`;
  const err = (code: "RELOCATION" | "UNSUPPORTED", msg: string): LoadError =>
    new LoadError(code, `${at}: ${msg}`, { section: secName, offset });
  const code = fn.code;
  const o = idx * INSN_SIZE;
  const op = code[o];
  const v = fn.view;
  if (op !== OP_CALL && op !== OP_LDDW)
    throw err("RELOCATION", `instruction code ${hex(op)} is neither call nor lddw`);
  const expected = op === OP_CALL ? R_BPF_64_32 : R_BPF_64_64;
  if (relType !== expected)
    throw err(
      "RELOCATION",
      `relocation type ${relType} on ${op === OP_CALL ? "call" : "lddw"} ` +
        `(expected ${op === OP_CALL ? "R_BPF_64_32 (10)" : "R_BPF_64_64 (1)"})`,
    );
  if (isExtern(sym))
    throw err(
      "UNSUPPORTED",
      op === OP_CALL
        ? "calls to extern (kernel) functions are not supported"
        : "extern variables (.kconfig/.ksyms) are not supported",
    );
  const src = code[o + 1] >> 4;
  if (op === OP_CALL) {
    if (src !== BPF_PSEUDO_CALL)
      throw err("RELOCATION", `call with src_reg ${src} is not a bpf-to-bpf call`);
    if (sym.shndx === 0 || sym.shndx !== ctx.textIndex)
      throw err("RELOCATION", `call target is not in .text (section #${sym.shndx})`);
    if (sym.value % INSN_SIZE !== 0)
      throw err("RELOCATION", `call target offset ${hex(sym.value)} is not instruction-aligned`);
    fn.refs.set(idx, { kind: "call", symOff: sym.value, symName });
    return;
  }
  if (idx + 1 >= fn.insnCount)
    throw err("RELOCATION", `lddw is the last instruction of the function (it needs two slots)`);
  if (sym.shndx === SHN_UNDEF || sym.shndx >= SHN_LORESERVE)
    throw err(
      "RELOCATION",
      `symbol in special section ${hex(sym.shndx)}; forgot to initialize a global variable?`,
    );
  if (isSubprogSymbol(ctx, sym)) {
    const imm = v.getInt32(o + 4, true);
    if (sym.value % INSN_SIZE !== 0 || imm % INSN_SIZE !== 0)
      throw err("RELOCATION", `bad function address ${hex(sym.value)}+${imm}`);
    code[o + 1] = (code[o + 1] & 0x0f) | (BPF_PSEUDO_FUNC << 4);
    fn.refs.set(idx, { kind: "func", symOff: sym.value, symName });
    return;
  }
  if (sym.shndx === ctx.btfMapsIndex || sym.shndx === ctx.legacyMapsIndex) {
    const mapIdx = maps.bySymbol.get(`${sym.shndx}:${sym.value}`);
    if (mapIdx === undefined)
      throw err(
        "RELOCATION",
        `no map at offset ${hex(sym.value)} of ${describeSection(ctx.elf.sections[sym.shndx])}`,
      );
    code[o + 1] = (code[o + 1] & 0x0f) | (BPF_PSEUDO_MAP_FD << 4);
    v.setInt32(o + 4, mapIdx, true);
    return;
  }
  const mapIdx = maps.bySection.get(sym.shndx);
  if (mapIdx === undefined)
    throw err(
      "RELOCATION",
      `bad data relocation against ${describeSection(ctx.elf.sections[sym.shndx])} ` +
        `(not a map or global data section)`,
    );
  const addend = v.getInt32(o + 4, true);
  code[o + 1] = (code[o + 1] & 0x0f) | (BPF_PSEUDO_MAP_VALUE << 4);
  v.setInt32(o + 4, mapIdx, true);
  v.setInt32(o + 12, (addend + sym.value) | 0, true);
}
