import type { DecodedProgram } from "../isa/decode.js";

/** A function inside a linked program. */
export interface FuncInfo {
  /** Symbol name. */
  name: string;
  /** First instruction index. */
  start: number;
}

/** A source line attached to an instruction (from `.BTF.ext`). */
export interface SourceLine {
  /** Instruction index. */
  insn: number;
  /** Source file. */
  file: string;
  /** 1-based line number. */
  line: number;
  /** Column. */
  column: number;
  /** The line's text. */
  text: string;
}

/**
 * A program ready to run: linked (subprograms appended), its `lddw` immediates resolved to
 * the 64-bit values the program sees (map handles, map value addresses, function addresses),
 * validated. Every engine runs this same form.
 */
export interface ExecProgram {
  /** Unique id within its machine. */
  readonly id: number;
  /** Program name (the C function's name). */
  readonly name: string;
  /** ELF section (libbpf SEC()) name, or "" for raw bytecode. */
  readonly section: string;
  /** Linux `BPF_PROG_TYPE_*`. */
  readonly progType: number;
  /** Linux expected attach type (`BPF_*`), 0 when none. */
  readonly attachType: number;
  /** Whether the program was loaded with BPF_F_XDP_HAS_FRAGS (`xdp.frags`). */
  readonly xdpFrags: boolean;
  /** The instructions; `lddw` slots hold the resolved value (low half in slot pc, high in pc+1). */
  readonly insns: DecodedProgram;
  /** Functions, sorted by start; the first is the program itself at 0. */
  readonly funcs: readonly FuncInfo[];
  /** Source lines, sorted by instruction. */
  readonly lines: readonly SourceLine[];
  /** Engine-private caches (the interpreter's bounds cache, the JIT's module...). */
  readonly engineData: Map<string, unknown>;
}

/** The function that contains instruction `pc`. */
export function funcAt(prog: ExecProgram, pc: number): FuncInfo {
  let best = prog.funcs[0];
  for (const f of prog.funcs) {
    if (f.start <= pc) best = f;
    else break;
  }
  return best;
}

/** A program's id, as prog_array slots report it (Linux's lookup returns the program id). */
export function progId(p: ExecProgram): number {
  return p.id;
}
