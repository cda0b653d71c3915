/**
 * What the compiler reads off the bytecode before lowering it: where functions start and may be
 * cut into Wasm functions, and the constants a block sets up before a call (map handles, stack
 * offsets, a tail call's index).
 */
import type { DecodedProgram } from "../isa/decode.js";
import { OP_LDDW } from "../isa/opcodes.js";
import { FUNC_ADDR_BASE } from "../memory/layout.js";
import { JUMP_KIND } from "./cfg.js";
import { writesReg } from "./groups.js";
import { isCall } from "./lower.js";

/**
 * The pcs where functions may be cut: candidates that nothing falls through into and that no
 * jump crosses. Always includes 0.
 */
export function functionBoundaries(p: DecodedProgram, candidates: Iterable<number>): number[] {
  const n = p.length;
  const cross = new Int32Array(n + 2);
  const tail = new Uint8Array(n + 1);
  for (let pc = 0; pc < n; pc++) {
    const c = p.code[pc];
    if (c === OP_LDDW) {
      tail[pc + 1] = 1;
      pc++;
      continue;
    }
    if (JUMP_KIND[c]) {
      const t = c === 0x06 ? pc + p.imm[pc] + 1 : pc + p.off[pc] + 1;
      const lo = Math.max(0, Math.min(pc, t));
      const hi = Math.min(n, Math.max(pc, t));
      cross[lo + 1]++;
      cross[hi + 1]--;
    }
  }
  for (let i = 1; i <= n + 1; i++) cross[i] += cross[i - 1];
  const out = new Set<number>([0]);
  for (const b of candidates) {
    if (!(b > 0 && b < n) || tail[b] || cross[b] > 0) continue;
    const prev = tail[b - 1] ? -1 : p.code[b - 1];
    if (prev === 0x95 || prev === 0x05 || prev === 0x06) out.add(b);
  }
  return [...out].sort((a, b) => a - b);
}

/** Entry points a program needs: 0, local call targets, function addresses it loads. */
export function staticEntries(p: DecodedProgram): number[] {
  const set = new Set<number>([0]);
  for (let pc = 0; pc < p.length; pc++) {
    const c = p.code[pc];
    if (c === 0x85 && p.src[pc] === 1) {
      const t = pc + p.imm[pc] + 1;
      if (t >= 0 && t < p.length) set.add(t);
    } else if (c === OP_LDDW) {
      const lo = p.imm[pc] >>> 0;
      const t = (lo - FUNC_ADDR_BASE) / 8;
      if (p.imm[pc + 1] === 0 && lo >= FUNC_ADDR_BASE && Number.isInteger(t) && t < p.length) {
        set.add(t);
      }
      pc++;
    }
  }
  return [...set].sort((a, b) => a - b);
}

/**
 * The last instruction before `pc`, in the block that starts at `blockStart`, that writes
 * `reg`; -1 if none, or if a call (which clobbers r0-r5) came after it and `reg` is one of those.
 */
export function lastWrite(p: DecodedProgram, blockStart: number, pc: number, reg: number): number {
  let last = -1;
  for (let q = blockStart; q < pc; q += p.code[q] === OP_LDDW ? 2 : 1) {
    const c = p.code[q];
    if (isCall(c)) {
      if (reg <= 5) last = -1; // r0-r5 are clobbered; a callee keeps r6-r9
    } else if (writesReg(p, q, reg)) last = q;
  }
  return last;
}

/** The map handle `reg` holds at the call at `pc` when the block loads it as a constant. */
export function mapAt(
  p: DecodedProgram,
  blockStart: number,
  pc: number,
  reg: number,
): number | undefined {
  const last = lastWrite(p, blockStart, pc, reg);
  if (last < 0 || p.code[last] !== OP_LDDW || p.imm[last + 1] !== 0) return undefined;
  return p.imm[last];
}

/**
 * The offset from r10 that `reg` holds at the call at `pc` when the block sets it as
 * `reg = r10; reg += off`, or copies it from a register the block set so.
 */
export function frameOffsetAt(
  p: DecodedProgram,
  blockStart: number,
  pc: number,
  reg: number,
): number | undefined {
  const add = lastWrite(p, blockStart, pc, reg);
  if (add < 0) return undefined;
  // a copy of another register (`r2 = r6`): what that one held there
  if (p.code[add] === 0xbf && p.off[add] === 0 && p.src[add] !== 10) {
    return frameOffsetAt(p, blockStart, add, p.src[add]);
  }
  if (p.code[add] !== 0x07) return undefined;
  const mov = lastWrite(p, blockStart, add, reg);
  if (mov < 0 || p.code[mov] !== 0xbf || p.src[mov] !== 10 || p.off[mov] !== 0) return undefined;
  return p.imm[add];
}

/** The u32 index r3 holds at the call at `pc` when the block sets it to a constant. */
export function r3IndexAt(p: DecodedProgram, blockStart: number, pc: number): number | undefined {
  const last = lastWrite(p, blockStart, pc, 3);
  const c = last < 0 ? -1 : p.code[last];
  return c === 0xb7 || c === 0xb4 ? p.imm[last] >>> 0 : undefined;
}
