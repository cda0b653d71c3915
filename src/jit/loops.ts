/**
 * Counted loops run without budget checks. A loop whose trip count can be bounded when it is
 * entered (a register stepped by a constant once per iteration and compared with a constant or
 * a loop-invariant register at the back edge, as `for (i = 0; i < n; i += 2)` compiles) gets a
 * second, *fast* copy of its blocks and a *guard* block in front of both copies:
 *
 * - The guard computes the number of iterations T from the counter's value on entry and, when
 *   every value the counter takes stays in `[0, 2^31)` (where signed, unsigned, 32- and 64-bit
 *   compares all agree with plain integers) and T times the longest iteration fits in the
 *   budget left, enters the fast copy; otherwise the original (slow) copy, which charges and
 *   checks as everywhere else. The budget cannot run out in the fast copy.
 * - The fast copy keeps the count exact without keeping it in the loop: blocks on the *spine*
 *   (those that dominate the back edge, which run once in every iteration) charge nothing; the
 *   others subtract their count as they start. An edge that leaves the loop charges the spine
 *   of the iterations run so far, known from how far the counter moved: `(x - x0) / step`
 *   updates of the counter, one per iteration, minus the current iteration's when the edge
 *   leaves before the update.
 * - In the fast copy, packet accesses at `base + counter` that a range proof covers need no
 *   test at all: the guard checks `base` against the proof's lower bound (ranges.ts,
 *   `FastProof`).
 */
import type { DecodedProgram } from "../isa/decode.js";
import { OP_LDDW } from "../isa/opcodes.js";
import { JUMP_KIND, Term, naturalLoop, predecessors, type Cfg } from "./cfg.js";
import { writesReg } from "./groups.js";
import { callsOut } from "./values.js";
import { emitInRange, type Guard } from "./guards.js";
import { I32, Op, VOID, type Bytes } from "./wasm.js";

/** Largest loop body copied, in instructions. */
const MAX_BODY = 512;
/** Loops versioned per function. */
const MAX_LOOPS = 16;
/** Largest |step| of a counter. */
const MAX_STEP = 1 << 15;
/** Counter values (and limits) the fast copy admits: `[0, SAFE)` (emit as `i64(SAFE, 0)`). */
const SAFE = 0x8000_0000;

/** What a counted loop's guard and fast copy need to know. */
export interface CountedLoop {
  /** Blocks of the loop (original numbering), the header first. */
  readonly body: readonly number[];
  readonly header: number;
  readonly latch: number;
  /**
   * The counter register, its step per iteration and width (that of the add that steps it:
   * ALU32 keeps 32 bits), and the width of the back edge's compare (JMP32: 32).
   */
  readonly reg: number;
  readonly step: number;
  readonly width: 32 | 64;
  readonly cmpWidth: 32 | 64;
  /** The block that steps the counter. */
  readonly update: number;
  /**
   * The back edge is taken while `counter <pred> limit`: 0x50 (!=), 0xa0 (<), 0xb0 (<=),
   * 0x20 (>), 0x30 (>=), as integers.
   */
  readonly pred: number;
  /** The limit: a constant, or a register the loop does not write. */
  readonly limitImm?: number;
  readonly limitReg?: number;
  /** Instructions of the longest path through one iteration. */
  readonly maxCost: number;
  /** Instructions of each block. */
  readonly count: ReadonlyMap<number, number>;
  /** Blocks that run once in every iteration (they dominate the latch). */
  readonly spine: ReadonlySet<number>;
}

/** Instructions in block `b` (a `lddw` counts once). */
function blockCount(p: DecodedProgram, cfg: Cfg, b: number): number {
  let n = 0;
  for (let pc = cfg.start[b]; pc <= cfg.last[b]; pc += p.code[pc] === OP_LDDW ? 2 : 1) n++;
  return n;
}

/** Whether block `a` dominates block `b` in `cfg`. */
export function dominates(cfg: Cfg, a: number, b: number): boolean {
  for (let x = b; ; x = cfg.idom[x]) {
    if (x === a) return true;
    if (x === 0 || x < 0) return a === 0 && x === 0;
  }
}

/** Whether the instruction at `pc` may leave the block's straight line in ways a copy cannot. */
function plain(p: DecodedProgram, pc: number, supported: (code: number) => boolean): boolean {
  const c = p.code[pc];
  if (c === 0x95 || callsOut(c)) return false;
  return JUMP_KIND[c] !== 0 || supported(c);
}

/** Negations of the compare ops this module handles (the back edge on the fall-through). */
const NEGATE: Record<number, number> = {
  0x10: 0x50,
  0x20: 0xb0,
  0x30: 0xa0,
  0xa0: 0x30,
  0xb0: 0x20,
};
const SIGNED_TO_PLAIN: Record<number, number> = { 0x60: 0x20, 0x70: 0x30, 0xc0: 0xa0, 0xd0: 0xb0 };

/** The counted loop with header `h`, if it is one. */
function countedLoop(
  p: DecodedProgram,
  cfg: Cfg,
  preds: number[][],
  h: number,
  supported: (code: number) => boolean,
): CountedLoop | undefined {
  if (h === 0) return undefined;
  const latches = preds[h].filter((u) => u >= h);
  if (latches.length !== 1) return undefined;
  const latch = latches[0];
  const mask = naturalLoop(preds, h);
  const body: number[] = [];
  for (let b = 0; b < mask.length; b++) if (mask[b]) body.push(b);
  const inBody = new Set(body);
  let size = 0;
  const count = new Map<number, number>();
  for (const b of body) {
    // one back edge only, and nothing inside that a copy cannot run
    for (const s of [cfg.succ0[b], cfg.succ1[b]]) {
      if (s >= 0 && s <= b && !(b === latch && s === h)) return undefined;
    }
    for (let pc = cfg.start[b]; pc <= cfg.last[b]; pc += p.code[pc] === OP_LDDW ? 2 : 1) {
      if (!plain(p, pc, supported)) return undefined;
    }
    const n = blockCount(p, cfg, b);
    count.set(b, n);
    size += n;
  }
  if (size > MAX_BODY || cfg.term[latch] !== Term.Cond) return undefined;
  // the back edge's compare
  const j = cfg.last[latch];
  const code = p.code[j];
  const cmpWidth = (code & 7) === 5 ? 64 : 32;
  let op = code & 0xf0;
  op = SIGNED_TO_PLAIN[op] ?? op;
  if (cfg.succ1[latch] === h) op = NEGATE[op] ?? -1;
  else if (cfg.succ0[latch] !== h || op === 0x10) return undefined;
  if (![0x50, 0xa0, 0xb0, 0x20, 0x30].includes(op)) return undefined;
  const reg = p.dst[j];
  const byReg = (code & 8) !== 0;
  const limitReg = byReg ? p.src[j] : undefined;
  const limitImm = byReg ? undefined : p.imm[j];
  if (limitImm !== undefined && limitImm < 0) return undefined;
  if (limitReg === reg) return undefined;
  // the counter: written once in the loop, by a constant step, in a block on the spine
  let update = -1;
  let step = 0;
  let width: 32 | 64 = 64;
  for (const b of body) {
    for (let pc = cfg.start[b]; pc <= cfg.last[b]; pc += p.code[pc] === OP_LDDW ? 2 : 1) {
      if (limitReg !== undefined && writesReg(p, pc, limitReg)) return undefined;
      if (!writesReg(p, pc, reg)) continue;
      const c = p.code[pc];
      // either width: in [0, 2^31) both compares see the same number
      if (update >= 0 || (c !== 0x07 && c !== 0x17 && c !== 0x04 && c !== 0x14)) return undefined;
      step = c === 0x07 || c === 0x04 ? p.imm[pc] : -p.imm[pc];
      width = c === 0x07 || c === 0x17 ? 64 : 32;
      update = b;
    }
  }
  if (update < 0 || step === 0 || Math.abs(step) > MAX_STEP || !dominates(cfg, update, latch)) {
    return undefined;
  }
  if ((op === 0xa0 || op === 0xb0) && step < 0) return undefined;
  if ((op === 0x20 || op === 0x30) && step > 0) return undefined;
  // the longest path through one iteration (the body is acyclic without its back edge)
  const longest = new Map<number, number>();
  let maxCost = 0;
  for (const b of body) {
    let best = 0;
    if (b !== h)
      for (const q of preds[b]) if (inBody.has(q)) best = Math.max(best, longest.get(q) ?? 0);
    const v = best + (count.get(b) ?? 0);
    longest.set(b, v);
    maxCost = Math.max(maxCost, v);
  }
  const spine = new Set(body.filter((b) => dominates(cfg, b, latch)));
  return { body, header: h, latch, reg, step, width, cmpWidth, update, pred: op, limitImm, limitReg, maxCost, count, spine }; // prettier-ignore
}

/** The counted loops of a reducible `cfg` (innermost, no calls; see the module comment). */
export function findCountedLoops(
  p: DecodedProgram,
  cfg: Cfg,
  supported: (code: number) => boolean,
): CountedLoop[] {
  if (!cfg.reducible) return [];
  const preds = predecessors(cfg);
  const out: CountedLoop[] = [];
  for (let h = 0; h < cfg.n && out.length < MAX_LOOPS; h++) {
    if (!cfg.loopHeader[h]) continue;
    const l = countedLoop(p, cfg, preds, h, supported);
    if (l !== undefined) out.push(l);
  }
  return out;
}

/** Locals the guard and exit charges use. */
export interface TripLocals {
  /** i64: the counter's value on entry (kept for the exits). */
  readonly x0: number;
  /** i64 temporaries. */
  readonly t: number;
  readonly k: number;
  /** i64: the budget left. */
  readonly left: number;
}

/**
 * A lower bound a counted loop's guard checks for its fast copy (ranges.ts, `FastProof`):
 * `L0 = local reg (0 when -1) + add` must lie in the guard's range.
 */
export interface LowerBound {
  readonly reg: number;
  readonly add: number;
  readonly guard: Guard;
}

/** Pushes register local `reg` as an integer of `width` bits. */
function counter(o: Bytes, width: 32 | 64, reg: number): void {
  o.get(reg);
  if (width === 32) o.op(Op.i32_wrap_i64, Op.i64_extend_i32_u);
}

/**
 * Pushes the guard's i32 condition: 1 when the fast copy may run (see the module comment), and
 * every one of `lower` holds. Leaves the counter's entry value in `x0`. `regLocal(r)`: the
 * local of register r.
 */
export function emitGuardCond(
  o: Bytes,
  l: CountedLoop,
  regLocal: (r: number) => number,
  v: TripLocals,
  lower: readonly LowerBound[] = [],
): void {
  o.u8(Op.block).u8(I32);
  // the range proofs' lower bounds (computed in x0, which is set below)
  for (const b of lower) {
    if (b.reg < 0) o.i64(0);
    else o.get(b.reg);
    o.i64(b.add).op(Op.i64_add).set(v.x0);
    emitInRange(o, v.x0, 0, b.guard);
    o.op(Op.i32_eqz).u8(Op.if).u8(VOID).i32(0).br(1).u8(Op.end);
  }
  // x0 and the limit in [0, SAFE)
  counter(o, l.width, regLocal(l.reg));
  o.tee(v.x0).i64(SAFE, 0).op(Op.i64_ge_u);
  o.u8(Op.if).u8(VOID).i32(0).br(1).u8(Op.end);
  if (l.limitReg !== undefined) {
    counter(o, l.cmpWidth, regLocal(l.limitReg));
    o.tee(v.k).i64(SAFE, 0).op(Op.i64_ge_u);
    o.u8(Op.if).u8(VOID).i32(0).br(1).u8(Op.end);
  } else o.i64(l.limitImm ?? 0).set(v.k);
  // the trip count T, in t
  const s = l.step;
  if (l.pred === 0x50) {
    // d = K - x0 must be a positive multiple of the step
    o.get(v.k).get(v.x0).op(Op.i64_sub).tee(v.t).i64(s).op(Op.i64_rem_s, Op.i64_eqz, Op.i32_eqz);
    o.u8(Op.if).u8(VOID).i32(0).br(1).u8(Op.end);
    o.get(v.t).i64(s).op(Op.i64_div_s).tee(v.t).i64(1).op(Op.i64_lt_s);
    o.u8(Op.if).u8(VOID).i32(0).br(1).u8(Op.end);
  } else {
    // counting up while x < K (x <= K: K + 1), or down while x > K (x >= K: K - 1):
    // T = max(1, ceil(distance / |step|))
    const up = l.pred === 0xa0 || l.pred === 0xb0;
    const adj = l.pred === 0xb0 ? 1 : l.pred === 0x30 ? -1 : 0;
    const a = Math.abs(s);
    if (up) o.get(v.k).i64(adj).op(Op.i64_add).get(v.x0).op(Op.i64_sub);
    else o.get(v.x0).get(v.k).i64(adj).op(Op.i64_add).op(Op.i64_sub);
    o.i64(a - 1)
      .op(Op.i64_add)
      .i64(a)
      .op(Op.i64_div_s)
      .set(v.t);
    o.get(v.t).i64(1).get(v.t).i64(1).op(Op.i64_ge_s, Op.select).set(v.t);
  }
  // the last value, x0 + T * step, in [0, SAFE)
  o.get(v.x0).get(v.t).i64(s).op(Op.i64_mul, Op.i64_add).i64(SAFE, 0).op(Op.i64_ge_u);
  o.u8(Op.if).u8(VOID).i32(0).br(1).u8(Op.end);
  // T iterations of at most maxCost instructions fit in the budget
  o.get(v.t).i64(l.maxCost).op(Op.i64_mul).get(v.left).op(Op.i64_le_s);
  o.u8(Op.end);
}

/**
 * Charges, on an edge out of the loop from a fast block (`dominatesFrom(a)`: whether original
 * block `a` dominates the block it copies), the spine of the iterations run: `(x - x0) / step`
 * counter updates, one per iteration.
 */
export function emitExitCharge(
  o: Bytes,
  l: CountedLoop,
  regLocal: (r: number) => number,
  v: TripLocals,
  dominatesFrom: (a: number) => boolean,
): void {
  let spineCost = 0;
  let before = 0;
  for (const b of l.spine) {
    const c = l.count.get(b) ?? 0;
    spineCost += c;
    if (dominatesFrom(b)) before += c;
  }
  const updated = dominatesFrom(l.update);
  // completed iterations = updates - (updated this iteration ? 1 : 0)
  o.get(v.left);
  counter(o, l.width, regLocal(l.reg));
  o.get(v.x0).op(Op.i64_sub).i64(l.step).op(Op.i64_div_s);
  if (updated) o.i64(1).op(Op.i64_sub);
  o.i64(spineCost).op(Op.i64_mul).i64(before).op(Op.i64_add);
  o.op(Op.i64_sub).set(v.left);
}
