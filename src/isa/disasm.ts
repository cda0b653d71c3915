/**
 * Disassembler. Two syntaxes:
 * - `llvm` (default): what `llvm-objdump-19 -d` prints (`r0 = *(u32 *)(r10 - 0x4)`,
 *   `if r1 > 0x5 goto +0x3`, `w0 = w1`, `lock *(u64 *)(r1 + 0x0) += r2`, `r1 = 0x1234 ll`).
 *   Unused non-zero fields are ignored (llvm-objdump prints `<unknown>` for them); opcodes that
 *   do not exist print `<unknown>`. `alu32` gives `--mcpu=v3`/`v4`'s forms of narrow loads,
 *   stores and 32-bit atomics (`w1 = *(u8 *)(r2 + 0x0)`). Extensions where llvm-objdump prints
 *   nothing useful: `ld_ind` shows its immediate (`skb[r2 + 0x4]`), and 32-bit atomics that
 *   its default cpu cannot decode use the v4 forms.
 * - `conformance`: bpf_conformance's assembler syntax, which {@link assemble} reads back to the
 *   same bytes. An encoding the syntax cannot express (a non-zero unused field, an `lddw` with a
 *   pseudo `src`, an unknown opcode) is written as `.raw 0x…` words (the `-- raw` form of the
 *   conformance files), an extension of the syntax that {@link assemble} also reads.
 */

import { decodeProgram, type DecodedProgram } from "./decode.js";
import { ALU_OP_LLVM, ALU_OP_NAMES, ATOMIC_OP_NAMES, JMP_OP_LLVM, JMP_OP_NAMES } from "./names.js";
import { sizeBytes, sizeSuffix } from "./names.js";
import {
  BPF_ABS,
  BPF_ALU,
  BPF_ALU64,
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
  BPF_JMP,
  BPF_JMP32,
  BPF_LD,
  BPF_LDX,
  BPF_MEM,
  BPF_MEMSX,
  BPF_MOD,
  BPF_MOV,
  BPF_NEG,
  BPF_ST,
  BPF_STX,
  BPF_W,
  BPF_X,
  BPF_XCHG,
  OP_LDDW,
} from "./opcodes.js";

/** Output syntax of the disassembler. */
export type DisasmSyntax = "llvm" | "conformance";

/** Options of {@link disassemble}. */
export interface DisasmOptions {
  /** `llvm` (llvm-objdump's, the default) or `conformance` (bpf_conformance's, round-trips). */
  syntax?: DisasmSyntax;
  /** llvm syntax: print narrow loads/stores and 32-bit atomics with `w` registers (`--mcpu=v4`). */
  alu32?: boolean;
  /** Text appended to the line of the instruction at `pc` as a comment (helper, map, source). */
  annotate?: (pc: number) => string | undefined;
  /** llvm syntax: a name for a jump target pc, printed after the offset as ` <name>`. */
  targetLabel?: (targetPc: number) => string | undefined;
}

/** One disassembled instruction. */
export interface DisasmLine {
  /** Index of its first slot. */
  pc: number;
  /** Slots it takes: 2 for `lddw`. */
  slots: 1 | 2;
  /** The instruction text, with its annotation if any. */
  text: string;
}

const UNKNOWN = "<unknown>";

/** Whether slot `pc` starts a two-slot `lddw` (there must be a second slot). */
function isWide(p: DecodedProgram, pc: number): boolean {
  return p.code[pc] === OP_LDDW && pc + 1 < p.length;
}

/** Signed hex as llvm-objdump prints immediates: `0x4`, `-0x4`. */
export function llvmHex(n: number | bigint): string {
  return n < 0 ? `-0x${(-BigInt(n)).toString(16)}` : `0x${n.toString(16)}`;
}

function sign(n: number): string {
  return n < 0 ? `-0x${(-n).toString(16)}` : `+0x${n.toString(16)}`;
}

function lddwValue(p: DecodedProgram, pc: number): bigint {
  return (BigInt(p.imm[pc + 1] >>> 0) << 32n) | BigInt(p.imm[pc] >>> 0);
}

/** Formats the instruction at `pc` in llvm-objdump's syntax (without annotation). */
export function formatLlvm(p: DecodedProgram, pc: number, opts: DisasmOptions = {}): string {
  const code = p.code[pc];
  const dst = p.dst[pc];
  const src = p.src[pc];
  const off = p.off[pc];
  const imm = p.imm[pc];
  const cls = code & 0x07;
  const size = code & 0x18;
  const mode = code & 0xe0;
  const ty = `u${sizeBytes(size) * 8}`;
  const mem = (r: number): string =>
    `(r${r} ${off < 0 ? "-" : "+"} 0x${Math.abs(off).toString(16)})`;
  const narrow = (r: number): string => (opts.alu32 && size !== BPF_DW ? `w${r}` : `r${r}`);
  const target = (t: number): string => {
    const label = opts.targetLabel?.(pc + t + 1);
    return label === undefined ? sign(t) : `${sign(t)} <${label}>`;
  };
  switch (cls) {
    case BPF_LD:
      if (code === OP_LDDW) {
        if (pc + 1 >= p.length) return UNKNOWN;
        if (src !== 0) return `ld_pseudo\tr${dst}, ${llvmHex(src)}, ${llvmHex(imm)}`;
        return `r${dst} = ${llvmHex(BigInt.asIntN(64, lddwValue(p, pc)))} ll`;
      }
      if (size === BPF_DW) return UNKNOWN;
      if (mode === BPF_ABS) return `r0 = *(${ty} *)skb[${llvmHex(imm)}]`;
      if (mode === BPF_IND) {
        const add = imm === 0 ? "" : ` ${imm < 0 ? "-" : "+"} ${llvmHex(Math.abs(imm))}`;
        return `r0 = *(${ty} *)skb[r${src}${add}]`;
      }
      return UNKNOWN;
    case BPF_LDX:
      if (mode === BPF_MEM) return `${narrow(dst)} = *(${ty} *)${mem(src)}`;
      if (mode === BPF_MEMSX && size !== BPF_DW) return `r${dst} = *(s${ty.slice(1)} *)${mem(src)}`;
      return UNKNOWN;
    case BPF_ST:
      return mode === BPF_MEM ? `*(${ty} *)${mem(dst)} = ${llvmHex(imm)}` : UNKNOWN;
    case BPF_STX:
      if (mode === BPF_MEM) return `*(${ty} *)${mem(dst)} = ${narrow(src)}`;
      if (mode === BPF_ATOMIC) return formatAtomicLlvm(code, dst, src, off, imm, opts);
      return UNKNOWN;
    case BPF_ALU:
    case BPF_ALU64:
      return formatAluLlvm(code, dst, src, off, imm);
    default: {
      const op = code & 0xf0;
      const x = (code & BPF_X) !== 0;
      const r = cls === BPF_JMP32 ? "w" : "r";
      if (op === BPF_JA) {
        if (x) return UNKNOWN;
        return cls === BPF_JMP ? `goto ${target(off)}` : `gotol ${target(imm)}`;
      }
      if (op === BPF_CALL) {
        if (cls === BPF_JMP32) return UNKNOWN;
        return x ? `callx r${dst}` : `call ${llvmHex(imm)}`;
      }
      if (op === BPF_EXIT) return cls === BPF_JMP && !x ? "exit" : UNKNOWN;
      if (op === 0xe0) return cls === BPF_JMP && !x ? `may_goto ${target(off)}` : UNKNOWN;
      if (op === 0xf0) return UNKNOWN;
      const rhs = x ? `${r}${src}` : llvmHex(imm);
      return `if ${r}${dst} ${JMP_OP_LLVM[op >> 4]} ${rhs} goto ${target(off)}`;
    }
  }
}

function formatAluLlvm(code: number, dst: number, src: number, off: number, imm: number): string {
  const op = code & 0xf0;
  const x = (code & BPF_X) !== 0;
  const r = (code & 0x07) === BPF_ALU64 ? "r" : "w";
  const rhs = x ? `${r}${src}` : llvmHex(imm);
  switch (op) {
    case BPF_NEG:
      return x ? UNKNOWN : `${r}${dst} = -${r}${dst}`;
    case BPF_END: {
      if ((code & 0x07) === BPF_ALU64 && x) return UNKNOWN;
      const name = (code & 0x07) === BPF_ALU64 ? "bswap" : x ? "be" : "le";
      return `r${dst} = ${name}${imm} r${dst}`;
    }
    case BPF_MOV:
      if (x && off === 1 && r === "r" && (imm === 1 || imm === 0x10000)) {
        return `r${dst} = addr_space_cast(r${src}, ${llvmHex(imm >>> 16)}, ${llvmHex(imm & 0xffff)})`;
      }
      if (x && (off === 8 || off === 16 || (off === 32 && r === "r"))) {
        return `${r}${dst} = (s${off})${r}${src}`;
      }
      return `${r}${dst} = ${rhs}`;
    case BPF_DIV:
    case BPF_MOD:
      return `${r}${dst} ${off === 1 ? "s" : ""}${ALU_OP_LLVM[op >> 4]} ${rhs}`;
    default:
      return op > BPF_END ? UNKNOWN : `${r}${dst} ${ALU_OP_LLVM[op >> 4]} ${rhs}`;
  }
}

function formatAtomicLlvm(
  code: number,
  dst: number,
  src: number,
  off: number,
  imm: number,
  opts: DisasmOptions,
): string {
  const size = code & 0x18;
  if (size !== BPF_W && size !== BPF_DW) return UNKNOWN;
  const wide = size === BPF_DW;
  const r = wide ? "r" : "w";
  const ty = wide ? "u64" : "u32";
  const addr = `r${dst} ${off < 0 ? "-" : "+"} 0x${Math.abs(off).toString(16)}`;
  if (imm === BPF_XCHG)
    return `${r}${src} = ${wide ? "xchg_64" : "xchg32_32"}(${addr}, ${r}${src})`;
  if (imm === BPF_CMPXCHG) {
    return `${r}0 = ${wide ? "cmpxchg_64" : "cmpxchg32_32"}(${addr}, ${r}0, ${r}${src})`;
  }
  const name = ATOMIC_OP_NAMES.get(imm & ~BPF_FETCH);
  if (name === undefined || (imm & ~0xf1) !== 0) return UNKNOWN;
  if (imm & BPF_FETCH) return `${r}${src} = atomic_fetch_${name}((${ty} *)(${addr}), ${r}${src})`;
  const v = !wide && (opts.alu32 || name !== "add") ? "w" : "r";
  return `lock *(${ty} *)(${addr}) ${ALU_OP_LLVM[ALU_OP_NAMES.indexOf(name)]} ${v}${src}`;
}

/** Conformance-syntax immediate: small and negative values in decimal, others in hex. */
function confImm(n: number): string {
  return n > 255 ? `0x${n.toString(16)}` : `${n}`;
}

function confOff(n: number): string {
  return n < 0 ? `${n}` : `+${n}`;
}

function confMem(r: number, off: number): string {
  return off === 0 ? `[%r${r}]` : `[%r${r}${off < 0 ? "" : "+"}${off}]`;
}

/** One slot as the 64-bit little-endian word of bpf_conformance's `-- raw` form. */
function rawWord(p: DecodedProgram, pc: number): string {
  const lo =
    (p.code[pc] | (p.dst[pc] << 8) | (p.src[pc] << 12) | ((p.off[pc] & 0xffff) << 16)) >>> 0;
  const word = (BigInt(p.imm[pc] >>> 0) << 32n) | BigInt(lo);
  return `0x${word.toString(16).padStart(16, "0")}`;
}

/**
 * Formats the instruction at `pc` in bpf_conformance's syntax; `undefined` when the encoding
 * has no exact spelling in it (the caller then writes `.raw`).
 */
function formatConformanceExact(p: DecodedProgram, pc: number): string | undefined {
  const code = p.code[pc];
  const dst = p.dst[pc];
  const src = p.src[pc];
  const off = p.off[pc];
  const imm = p.imm[pc];
  const cls = code & 0x07;
  const size = code & 0x18;
  const mode = code & 0xe0;
  const sfx = sizeSuffix(size);
  switch (cls) {
    case BPF_LD:
      if (code === OP_LDDW) {
        if (!isWide(p, pc) || src !== 0 || off !== 0) return undefined;
        if (p.code[pc + 1] | p.dst[pc + 1] | p.src[pc + 1] | p.off[pc + 1]) return undefined;
        const v = lddwValue(p, pc);
        return `lddw %r${dst}, ${v > 255n ? `0x${v.toString(16)}` : v}`;
      }
      if (size === BPF_DW || dst !== 0 || off !== 0) return undefined;
      if (mode === BPF_ABS && src === 0) return `ldabs${sfx} ${confImm(imm)}`;
      if (mode === BPF_IND) return `ldind${sfx} %r${src}, ${confImm(imm)}`;
      return undefined;
    case BPF_LDX:
      if (imm !== 0 || (mode !== BPF_MEM && !(mode === BPF_MEMSX && size !== BPF_DW))) {
        return undefined;
      }
      return `ldx${mode === BPF_MEMSX ? "s" : ""}${sfx} %r${dst}, ${confMem(src, off)}`;
    case BPF_ST:
      return mode === BPF_MEM && src === 0
        ? `st${sfx} ${confMem(dst, off)}, ${confImm(imm)}`
        : undefined;
    case BPF_STX:
      if (mode === BPF_MEM) {
        return imm === 0 ? `stx${sfx} ${confMem(dst, off)}, %r${src}` : undefined;
      }
      if (mode !== BPF_ATOMIC || (size !== BPF_W && size !== BPF_DW)) return undefined;
      return formatAtomicConformance(size === BPF_W ? "32" : "", dst, src, off, imm);
    case BPF_ALU:
    case BPF_ALU64:
      return formatAluConformance(code, dst, src, off, imm);
    default:
      return formatJmpConformance(code, dst, src, off, imm);
  }
}

function formatAtomicConformance(
  w: string,
  dst: number,
  src: number,
  off: number,
  imm: number,
): string | undefined {
  const m = confMem(dst, off);
  if (imm === BPF_XCHG) return `lock xchg${w} ${m}, %r${src}`;
  if (imm === BPF_CMPXCHG) return `lock cmpxchg${w} ${m}, %r${src}`;
  const name = ATOMIC_OP_NAMES.get(imm & ~BPF_FETCH);
  if (name === undefined || (imm & ~0xf1) !== 0) return undefined;
  return `lock ${imm & BPF_FETCH ? "fetch " : ""}${name}${w} ${m}, %r${src}`;
}

function formatAluConformance(
  code: number,
  dst: number,
  src: number,
  off: number,
  imm: number,
): string | undefined {
  const op = code & 0xf0;
  const x = (code & BPF_X) !== 0;
  const is64 = (code & 0x07) === BPF_ALU64;
  const w = is64 ? "" : "32";
  if (op > BPF_END) return undefined;
  if (op === BPF_NEG) return x || src || off || imm ? undefined : `neg${w} %r${dst}`;
  if (op === BPF_END) {
    if (src || off || (imm !== 16 && imm !== 32 && imm !== 64) || (is64 && x)) return undefined;
    return `${is64 ? "bswap" : x ? "be" : "le"}${imm} %r${dst}`;
  }
  if (x && imm !== 0) return undefined;
  if (!x && src !== 0) return undefined;
  let name = ALU_OP_NAMES[op >> 4];
  if (off !== 0) {
    if (op === BPF_MOV && x && (off === 8 || off === 16 || (off === 32 && is64))) {
      return `movsx${off}${is64 ? "64" : "32"} %r${dst}, %r${src}`;
    }
    if (off !== 1 || (op !== BPF_DIV && op !== BPF_MOD)) return undefined;
    name = `s${name}`;
  }
  return `${name}${w} %r${dst}, ${x ? `%r${src}` : confImm(imm)}`;
}

function formatJmpConformance(
  code: number,
  dst: number,
  src: number,
  off: number,
  imm: number,
): string | undefined {
  const cls = code & 0x07;
  const op = code & 0xf0;
  const x = (code & BPF_X) !== 0;
  const w = cls === BPF_JMP32 ? "32" : "";
  if (op === BPF_JA) {
    if (x || dst || src) return undefined;
    if (cls === BPF_JMP) return imm === 0 ? `ja ${confOff(off)}` : undefined;
    return off === 0 ? `ja32 ${confOff(imm)}` : undefined;
  }
  if (op === BPF_CALL) {
    if (cls !== BPF_JMP || off !== 0) return undefined;
    if (x) return src === 0 && imm === 0 ? `call %r${dst}` : undefined;
    if (dst !== 0) return undefined;
    if (src === 0) return `call ${imm}`;
    if (src === 1) return `call local ${confOff(imm)}`;
    return src === 2 ? `call runtime ${imm}` : undefined;
  }
  if (op === BPF_EXIT)
    return cls === BPF_JMP && !x && !dst && !src && !off && !imm ? "exit" : undefined;
  if (op > 0xd0) return undefined;
  if (x ? imm !== 0 : src !== 0) return undefined;
  return `${JMP_OP_NAMES[op >> 4]}${w} %r${dst}, ${x ? `%r${src}` : confImm(imm)}, ${confOff(off)}`;
}

/** Formats the instruction at `pc` (one line; an `lddw` covers `pc` and `pc + 1`). */
export function formatInsn(p: DecodedProgram, pc: number, opts: DisasmOptions = {}): string {
  if (opts.syntax === "conformance") {
    const text = formatConformanceExact(p, pc);
    if (text !== undefined) return text;
    return isWide(p, pc)
      ? `.raw ${rawWord(p, pc)}, ${rawWord(p, pc + 1)}`
      : `.raw ${rawWord(p, pc)}`;
  }
  return formatLlvm(p, pc, opts);
}

/** Disassembles a program into one {@link DisasmLine} per instruction (`lddw` once). */
export function disassembleLines(
  program: DecodedProgram | Uint8Array,
  opts: DisasmOptions = {},
): DisasmLine[] {
  const p = program instanceof Uint8Array ? decodeProgram(program) : program;
  const comment = opts.syntax === "conformance" ? "#" : ";";
  const lines: DisasmLine[] = [];
  for (let pc = 0; pc < p.length;) {
    const slots = isWide(p, pc) ? 2 : 1;
    let text = formatInsn(p, pc, opts);
    const note = opts.annotate?.(pc);
    if (note !== undefined && note !== "") text += `  ${comment} ${note.replace(/\n/g, " ")}`;
    lines.push({ pc, slots, text });
    pc += slots;
  }
  return lines;
}

/**
 * Disassembles a program (raw bytes or decoded): one string per instruction, `lddw` once.
 * With `syntax: "conformance"`, `assemble(lines.join("\n"))` gives back the same bytes.
 */
export function disassemble(
  program: DecodedProgram | Uint8Array,
  opts: DisasmOptions = {},
): string[] {
  return disassembleLines(program, opts).map((l) => l.text);
}
