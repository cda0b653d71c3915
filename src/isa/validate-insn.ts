/**
 * Per-instruction checks of the validator: the kernel's opcode table and the reserved-field
 * rules of `check_alu_op`, `do_check`, `check_atomic` and `resolve_pseudo_ldimm64`
 * (`kernel/bpf/verifier.c`), register numbers and writes to r10. See `validate.ts` for the
 * program-level rules and the documented choices.
 */

import type { DecodedProgram } from "./decode.js";
import { formatLlvm } from "./disasm.js";
import { ALU_OP_NAMES, JMP_OP_NAMES, sizeSuffix } from "./names.js";
import {
  BPF_ABS,
  BPF_ADD,
  BPF_ALU,
  BPF_ALU64,
  BPF_ARSH,
  BPF_ATOMIC,
  BPF_CALL,
  BPF_CMPXCHG,
  BPF_DIV,
  BPF_DW,
  BPF_END,
  BPF_EXIT,
  BPF_FETCH,
  BPF_IND,
  BPF_JA,
  BPF_JLE,
  BPF_JLT,
  BPF_JMP,
  BPF_JMP32,
  BPF_JSLE,
  BPF_JSLT,
  BPF_LD,
  BPF_LDX,
  BPF_LSH,
  BPF_MEM,
  BPF_MEMSX,
  BPF_MOD,
  BPF_MOV,
  BPF_NEG,
  BPF_RSH,
  BPF_ST,
  BPF_STX,
  BPF_W,
  BPF_X,
  BPF_XCHG,
  OP_LDDW,
} from "./opcodes.js";

/** Options of the validator (see `validateProgram`). */
export interface ValidateOptions {
  /** ISA version the program may use, 1..4 (default 4): v2 adds jlt/jle/jslt/jsle, v3 JMP32
   * and atomics beyond add, v4 sdiv/smod, movsx, sign-extending loads, bswap and gotol. */
  cpuVersion?: number;
  /** Accept `callx` (BPF_JMP | BPF_CALL | BPF_X, register in dst), which Linux refuses. */
  allowCallx?: boolean;
  /** Accept kfunc calls (`call` with src = 2). */
  allowKfuncCalls?: boolean;
  /** When given, a helper call (`call` with src = 0) whose id it refuses is an error. */
  helperExists?: (id: number) => boolean;
  /** Longest program accepted, in slots (default 1,000,000 as in Linux). */
  maxInsns?: number;
  /** Accept `BPF_LD | BPF_ABS/IND` packet loads (default true; Linux: socket filters only). */
  legacyPacketLoads?: boolean;
  /** Refuse shifts by an immediate outside 0..width-1, as Linux does (default false). */
  kernelShiftRange?: boolean;
  /** Refuse instructions no path from pc 0 reaches, as Linux does (default false). */
  rejectUnreachable?: boolean;
}

/** Why an instruction is refused: a `ValidationError` code and message. */
export interface InsnProblem {
  /** The rule that failed, e.g. `RESERVED_FIELD`. */
  code: string;
  /** What is wrong, naming the instruction. */
  message: string;
}

/** Describes an opcode for messages: `add64 with an immediate`, `ldxw`, `exit`. */
export function describeOpcode(code: number): string {
  const cls = code & 0x07;
  const op = code & 0xf0;
  const x = (code & BPF_X) !== 0;
  const sfx = sizeSuffix(code & 0x18);
  switch (cls) {
    case BPF_LD:
      return code === OP_LDDW ? "lddw" : `ld${(code & 0xe0) === BPF_ABS ? "abs" : "ind"}${sfx}`;
    case BPF_LDX:
      return `ldx${(code & 0xe0) === BPF_MEMSX ? "s" : ""}${sfx}`;
    case BPF_ST:
      return `st${sfx}`;
    case BPF_STX:
      return (code & 0xe0) === BPF_ATOMIC ? `atomic ${sfx}` : `stx${sfx}`;
    case BPF_ALU:
    case BPF_ALU64: {
      const w = cls === BPF_ALU64 ? "64" : "32";
      if (op === BPF_END) return cls === BPF_ALU64 ? "bswap" : x ? "be" : "le";
      if (op === BPF_NEG) return `neg${w}`;
      return `${ALU_OP_NAMES[op >> 4]}${w} with ${x ? "a register source" : "an immediate"}`;
    }
    default: {
      if (op === BPF_JA) return cls === BPF_JMP32 ? "ja32 (gotol)" : "ja";
      if (op === BPF_CALL) return x ? "callx" : "call";
      if (op === BPF_EXIT) return "exit";
      const w = cls === BPF_JMP32 ? "32" : "";
      return `${JMP_OP_NAMES[op >> 4]}${w} with ${x ? "a register" : "an immediate"}`;
    }
  }
}

// Field masks for unused().
const DST = 1;
const SRC = 2;
const OFF = 4;
const IMM = 8;

const quote = (p: DecodedProgram, pc: number): string => `"${formatLlvm(p, pc)}"`;

function bad(
  p: DecodedProgram,
  pc: number,
  field: string,
  value: number,
  why: string,
): InsnProblem {
  const message = `invalid field: ${field}=${value} on ${quote(p, pc)} (${describeOpcode(p.code[pc])} ${why})`;
  return { code: "RESERVED_FIELD", message };
}

/** The first of the `mask` fields that is not zero, as a problem. */
function unused(p: DecodedProgram, pc: number, mask: number): InsnProblem | undefined {
  if (mask & DST && p.dst[pc]) return bad(p, pc, "dst", p.dst[pc], "uses no destination register");
  if (mask & SRC && p.src[pc]) return bad(p, pc, "src", p.src[pc], "uses no source register");
  if (mask & OFF && p.off[pc]) return bad(p, pc, "off", p.off[pc], "uses no offset");
  if (mask & IMM && p.imm[pc]) return bad(p, pc, "imm", p.imm[pc], "uses no immediate");
  return undefined;
}

function unknown(p: DecodedProgram, pc: number): InsnProblem {
  return {
    code: "UNKNOWN_OPCODE",
    message: `unknown opcode 0x${p.code[pc].toString(16).padStart(2, "0")}`,
  };
}

function unsupported(p: DecodedProgram, pc: number, what: string): InsnProblem {
  return { code: "UNSUPPORTED", message: `${what} is not supported: ${quote(p, pc)}` };
}

function needCpu(
  p: DecodedProgram,
  pc: number,
  o: ValidateOptions,
  v: number,
  what: string,
): InsnProblem | undefined {
  if ((o.cpuVersion ?? 4) >= v) return undefined;
  return { code: "CPU_VERSION", message: `${what} needs cpu v${v}: ${quote(p, pc)}` };
}

/** Register `r` (read, or written when `write`) as `role` of the instruction. */
function reg(
  p: DecodedProgram,
  pc: number,
  r: number,
  write: boolean,
  role: string,
): InsnProblem | undefined {
  if (r > 10) {
    return {
      code: "INVALID_REGISTER",
      message: `invalid register r${r} as ${role} in ${quote(p, pc)}`,
    };
  }
  if (write && r === 10) {
    return { code: "READONLY_R10", message: `frame pointer r10 is read-only: ${quote(p, pc)}` };
  }
  return undefined;
}

const dstReg = (p: DecodedProgram, pc: number, write: boolean): InsnProblem | undefined =>
  reg(p, pc, p.dst[pc], write, "dst");
const srcReg = (p: DecodedProgram, pc: number, write = false): InsnProblem | undefined =>
  reg(p, pc, p.src[pc], write, "src");

/**
 * Checks the encoding of the instruction at `pc` alone (fields, registers, opcode; not where
 * it jumps): the problem, or undefined when it is well formed. `pc` must not be the second
 * slot of an `lddw`.
 */
export function instructionProblem(
  p: DecodedProgram,
  pc: number,
  o: ValidateOptions = {},
): InsnProblem | undefined {
  const code = p.code[pc];
  const cls = code & 0x07;
  const mode = code & 0xe0;
  const size = code & 0x18;
  switch (cls) {
    case BPF_LD:
      return checkLd(p, pc, o);
    case BPF_LDX:
      if (mode !== BPF_MEM && (mode !== BPF_MEMSX || size === BPF_DW)) return unknown(p, pc);
      if (mode === BPF_MEMSX) {
        const v = needCpu(p, pc, o, 4, "a sign-extending load");
        if (v) return v;
      }
      return unused(p, pc, IMM) ?? dstReg(p, pc, true) ?? srcReg(p, pc);
    case BPF_ST:
      if (mode !== BPF_MEM) return unknown(p, pc);
      return unused(p, pc, SRC) ?? dstReg(p, pc, false);
    case BPF_STX:
      if (mode === BPF_MEM) return unused(p, pc, IMM) ?? dstReg(p, pc, false) ?? srcReg(p, pc);
      return checkAtomic(p, pc, o);
    case BPF_ALU:
    case BPF_ALU64:
      return checkAlu(p, pc, o);
    default:
      return checkJmp(p, pc, o);
  }
}

function checkLd(p: DecodedProgram, pc: number, o: ValidateOptions): InsnProblem | undefined {
  const code = p.code[pc];
  const mode = code & 0xe0;
  if (code === OP_LDDW) {
    if (pc + 1 >= p.length) {
      return { code: "BAD_LDDW", message: "lddw at the last slot has no second half" };
    }
    const t = pc + 1;
    if (p.code[t] || p.dst[t] || p.src[t] || p.off[t]) {
      const fields = `code=0x${p.code[t].toString(16)} dst=${p.dst[t]} src=${p.src[t]} off=${p.off[t]}`;
      const message = `invalid lddw second slot (${fields}; only imm may be set)`;
      return { code: "BAD_LDDW", message };
    }
    const src = p.src[pc];
    if (src > 6) return bad(p, pc, "src", src, "takes src 0..6");
    if ((src === 1 || src === 5) && p.imm[t] !== 0) {
      return bad(p, pc, "imm", p.imm[t], `with src=${src} (a map) takes no upper immediate`);
    }
    return unused(p, pc, OFF) ?? dstReg(p, pc, true);
  }
  if ((mode !== BPF_ABS && mode !== BPF_IND) || (code & 0x18) === BPF_DW) return unknown(p, pc);
  if (o.legacyPacketLoads === false) return unsupported(p, pc, "a legacy packet load");
  return unused(p, pc, mode === BPF_ABS ? DST | SRC | OFF : DST | OFF) ?? srcReg(p, pc);
}

function checkAtomic(p: DecodedProgram, pc: number, o: ValidateOptions): InsnProblem | undefined {
  const code = p.code[pc];
  const size = code & 0x18;
  const imm = p.imm[pc];
  if ((code & 0xe0) !== BPF_ATOMIC || (size !== BPF_W && size !== BPF_DW)) return unknown(p, pc);
  if (imm === 0x100 || imm === 0x110) return unsupported(p, pc, "load-acquire/store-release");
  const rmw = imm & ~BPF_FETCH;
  const known =
    imm === BPF_XCHG ||
    imm === BPF_CMPXCHG ||
    rmw === BPF_ADD ||
    rmw === 0x40 ||
    rmw === 0x50 ||
    rmw === 0xa0;
  if (!known) return bad(p, pc, "imm", imm, "takes add/or/and/xor (| fetch), xchg or cmpxchg");
  if (imm !== BPF_ADD) {
    const v = needCpu(p, pc, o, 3, "this atomic operation");
    if (v) return v;
  }
  const writesSrc = (imm & BPF_FETCH) !== 0 && imm !== BPF_CMPXCHG;
  return dstReg(p, pc, false) ?? srcReg(p, pc, writesSrc);
}

/** The registers of an ALU instruction: dst (written), and src when `x`. */
function aluRegs(p: DecodedProgram, pc: number, x: boolean): InsnProblem | undefined {
  return dstReg(p, pc, true) ?? (x ? srcReg(p, pc) : undefined);
}

function checkAlu(p: DecodedProgram, pc: number, o: ValidateOptions): InsnProblem | undefined {
  const code = p.code[pc];
  const off = p.off[pc];
  const imm = p.imm[pc];
  const op = code & 0xf0;
  const x = (code & BPF_X) !== 0;
  const is64 = (code & 0x07) === BPF_ALU64;
  if (op > BPF_END) return unknown(p, pc);
  if (op === BPF_NEG)
    return x ? unknown(p, pc) : (unused(p, pc, SRC | OFF | IMM) ?? aluRegs(p, pc, x));
  if (op === BPF_END) {
    if (is64 && x) return unknown(p, pc);
    const v = (is64 ? needCpu(p, pc, o, 4, "bswap") : undefined) ?? unused(p, pc, SRC | OFF);
    if (v) return v;
    if (imm !== 16 && imm !== 32 && imm !== 64) {
      return bad(p, pc, "imm", imm, "takes a width of 16, 32 or 64");
    }
    return aluRegs(p, pc, x);
  }
  if (op === BPF_MOV && x && is64 && off === 1 && (imm === 1 || imm === 0x10000)) {
    return unsupported(p, pc, "addr_space_cast (arena)");
  }
  const u = unused(p, pc, x ? IMM : SRC);
  if (u) return u;
  if (op === BPF_MOV) {
    if (!x) return unused(p, pc, OFF) ?? aluRegs(p, pc, x);
    if (off !== 0) {
      const widths = is64 ? [8, 16, 32] : [8, 16];
      if (!widths.includes(off)) {
        return bad(p, pc, "off", off, `takes off 0 or a movsx width of ${widths.join(", ")}`);
      }
      const v = needCpu(p, pc, o, 4, "movsx");
      if (v) return v;
    }
    return aluRegs(p, pc, x);
  }
  if (off !== 0) {
    const signedOk = op === BPF_DIV || op === BPF_MOD;
    if (!signedOk) return unused(p, pc, OFF);
    if (off !== 1) return bad(p, pc, "off", off, "takes off 0 or 1 (signed)");
    const v = needCpu(p, pc, o, 4, op === BPF_DIV ? "sdiv" : "smod");
    if (v) return v;
  }
  if (!x && (op === BPF_DIV || op === BPF_MOD) && imm === 0) {
    return { code: "DIV_BY_ZERO", message: `division by zero: ${quote(p, pc)}` };
  }
  if (!x && o.kernelShiftRange && (op === BPF_LSH || op === BPF_RSH || op === BPF_ARSH)) {
    if (imm < 0 || imm >= (is64 ? 64 : 32)) {
      return { code: "BAD_SHIFT", message: `invalid shift ${imm}: ${quote(p, pc)}` };
    }
  }
  return aluRegs(p, pc, x);
}

function checkJmp(p: DecodedProgram, pc: number, o: ValidateOptions): InsnProblem | undefined {
  const code = p.code[pc];
  const cls = code & 0x07;
  const op = code & 0xf0;
  const x = (code & BPF_X) !== 0;
  const src = p.src[pc];
  switch (op) {
    case BPF_JA:
      if (x) return cls === BPF_JMP ? unsupported(p, pc, "gotox") : unknown(p, pc);
      if (cls === BPF_JMP) return unused(p, pc, DST | SRC | IMM);
      return needCpu(p, pc, o, 4, "gotol") ?? unused(p, pc, DST | SRC | OFF);
    case BPF_CALL:
      if (cls === BPF_JMP32) return unknown(p, pc);
      if (x) {
        if (!o.allowCallx) return unsupported(p, pc, "callx (enable allowCallx)");
        return unused(p, pc, SRC | OFF | IMM) ?? dstReg(p, pc, false);
      }
      if (src === 2) {
        return o.allowKfuncCalls ? unused(p, pc, DST) : unsupported(p, pc, "a kfunc call");
      }
      if (src > 2) return bad(p, pc, "src", src, "takes src 0 (helper), 1 (local) or 2 (kfunc)");
      {
        const u = unused(p, pc, DST | OFF);
        if (u) return u;
      }
      if (src === 0 && o.helperExists && !o.helperExists(p.imm[pc])) {
        return { code: "UNKNOWN_HELPER", message: `unknown helper ${p.imm[pc]}: ${quote(p, pc)}` };
      }
      return undefined;
    case BPF_EXIT:
      return cls === BPF_JMP32 || x ? unknown(p, pc) : unused(p, pc, DST | SRC | OFF | IMM);
    case 0xe0:
      return cls === BPF_JMP && !x ? unsupported(p, pc, "may_goto") : unknown(p, pc);
    case 0xf0:
      return unknown(p, pc);
    default: {
      const v =
        cls === BPF_JMP32
          ? needCpu(p, pc, o, 3, "a JMP32 jump")
          : op === BPF_JLT || op === BPF_JLE || op === BPF_JSLT || op === BPF_JSLE
            ? needCpu(p, pc, o, 2, JMP_OP_NAMES[op >> 4])
            : undefined;
      if (v) return v;
      return (
        unused(p, pc, x ? IMM : SRC) ?? dstReg(p, pc, false) ?? (x ? srcReg(p, pc) : undefined)
      );
    }
  }
}
