/**
 * Where compiled code charges the instruction budget. The interpreter decrements it before each
 * instruction; the JIT charges whole basic blocks (split after calls), and, to keep loops
 * cheap, only checks it where running on could be observed:
 *
 * - A block is *deferrable* when nothing in it can be observed (no checked memory access, call,
 *   exit or unsupported opcode) and, outside loops, it does not end in a conditional jump: its
 *   count is not charged there but carried to its successors.
 *   A successor whose only predecessor it is charges the carried count with its own; on an edge
 *   to any other block the count is charged (and checked) on the edge.
 * - Every other block charges its carried count plus its own at its start, and checks.
 *
 * Every cycle contains a check (a cycle is entered through a block with two predecessors, and
 * the edge into it from inside the cycle charges), the count is exact on every path, and
 * nothing observable runs past the budget: a run fails if and only if the interpreter's does.
 * A failing check knows the exact path since the previous check (a chain of blocks that each
 * had a single predecessor), so the error names the pc at which the interpreter stops.
 */
import type { DecodedProgram } from "../isa/decode.js";
import { OP_LDDW, inFrame } from "../isa/opcodes.js";
import type { Cfg } from "./cfg.js";
import { BlockKind } from "./version.js";

/** A block whose count was carried: blocks run in order, linked from the last. */
export interface ChainNode {
  readonly start: number;
  readonly count: number;
  readonly prev: ChainNode | null;
  /** Instructions in this block and all before it in the chain. */
  readonly total: number;
}

/** One budget check: the carried chain, then a segment `[startPc, count]` (or none). */
export interface Checkpoint {
  readonly chain: ChainNode | null;
  readonly seg: readonly [number, number] | null;
  /** Instructions charged at the check. */
  readonly total: number;
}

const SIZE_OF = [4, 2, 1, 8];

/** Whether running the instruction at `pc` could be observed (or could fail). */
export function observable(p: DecodedProgram, pc: number, supported: (code: number) => boolean) {
  const code = p.code[pc];
  if (code === 0x85 || code === 0x8d || code === 0x95) return true;
  const cls = code & 7;
  // jumps end their block and are lowered with it (the validator refused unknown ones)
  if (cls === 5 || cls === 6) return false;
  if (!supported(code)) return true;
  const size = SIZE_OF[(code >> 3) & 3];
  if (cls === 1) return !(p.src[pc] === 10 && inFrame(p.off[pc], size));
  if (cls === 2 || cls === 3) return !(p.dst[pc] === 10 && inFrame(p.off[pc], size));
  return false;
}

/** The budget plan of one function. */
export class BudgetPlan {
  /** Whether each block carries its count instead of charging it. */
  readonly deferrable: Uint8Array;
  private readonly preds: Int32Array;
  private readonly chainIn: (ChainNode | null)[];
  private readonly chainOut: (ChainNode | null)[];

  /**
   * Plans `cfg` (of `p`); checkpoints go to the module-wide list `checkpoints`. With
   * `deferAny` false every block charges at its start (for the dispatch-loop fallback).
   * `kind`: the blocks' `BlockKind` when the graph is versioned (version.ts); guards
   * and fast blocks are never deferrable.
   */
  constructor(
    p: DecodedProgram,
    cfg: Cfg,
    private readonly checkpoints: Checkpoint[],
    supported: (code: number) => boolean,
    deferAny: boolean,
    kind?: Uint8Array,
  ) {
    const n = cfg.n;
    this.preds = new Int32Array(n);
    this.preds[0] = 1; // the function's entry
    const pred = new Int32Array(n).fill(-1);
    for (let b = 0; b < n; b++) {
      for (const s of [cfg.succ0[b], cfg.succ1[b]]) {
        if (s < 0) continue;
        this.preds[s]++;
        pred[s] = b;
      }
    }
    this.deferrable = new Uint8Array(n);
    this.chainIn = new Array<ChainNode | null>(n).fill(null);
    this.chainOut = new Array<ChainNode | null>(n).fill(null);
    for (let b = 0; b < n; b++) {
      // a single predecessor precedes b in reverse postorder (a loop header has two)
      if (this.preds[b] === 1 && b !== 0 && this.deferrable[pred[b]]) {
        this.chainIn[b] = this.chainOut[pred[b]];
      }
      // a guard charges what it is carried; a counted loop's fast copy charges its own way
      if (kind !== undefined && kind[b] !== BlockKind.Plain && kind[b] !== BlockKind.Proved) continue; // prettier-ignore
      let count = 0;
      // outside loops a block that ends in a conditional jump charges at its start: one charge
      // in place of one per outgoing edge keeps long straight-line programs small
      const jcls = p.code[cfg.last[b]] & 7;
      const cond = (jcls === 5 || jcls === 6) && (p.code[cfg.last[b]] & 0xf0) !== 0;
      let quiet = deferAny && (cfg.inLoop[b] === 1 || !cond);
      for (let pc = cfg.start[b]; pc <= cfg.last[b]; pc += p.code[pc] === OP_LDDW ? 2 : 1) {
        count++;
        if (quiet && observable(p, pc, supported)) quiet = false;
      }
      if (quiet) {
        this.deferrable[b] = 1;
        const prev = this.chainIn[b];
        const total = count + (prev ? prev.total : 0);
        this.chainOut[b] = { start: cfg.start[b], count, prev, total };
      }
    }
  }

  private add(
    chain: ChainNode | null,
    seg: readonly [number, number] | null,
  ): { id: number; total: number } {
    const total = (seg ? seg[1] : 0) + (chain ? chain.total : 0);
    this.checkpoints.push({ chain, seg, total });
    return { id: this.checkpoints.length - 1, total };
  }

  /** The checkpoint of a segment of block `b` (`first`: its first segment, after the chain). */
  segment(b: number, first: boolean, start: number, count: number): { id: number; total: number } {
    return this.add(first ? this.chainIn[b] : null, [start, count]);
  }

  /** The checkpoint of the count carried into block `b`, or undefined when it is none. */
  carried(b: number): { id: number; total: number } | undefined {
    return this.chainIn[b] === null ? undefined : this.add(this.chainIn[b], null);
  }

  /** The checkpoint on the edge `from -> to`, or undefined when none is needed. */
  edge(from: number, to: number): { id: number; total: number } | undefined {
    if (!this.deferrable[from] || this.preds[to] === 1) return undefined;
    return this.add(this.chainOut[from], null);
  }
}

/** The pc at which the interpreter stops: `leftBefore` instructions into the checkpoint. */
export function budgetPc(p: DecodedProgram, cp: Checkpoint, leftBefore: number): number {
  const segs: (readonly [number, number])[] = [];
  for (let c = cp.chain; c !== null; c = c.prev) segs.unshift([c.start, c.count]);
  if (cp.seg) segs.push(cp.seg);
  let left = leftBefore;
  for (const [start, count] of segs) {
    if (left < count) {
      let pc = start;
      for (let k = 0; k < left; k++) pc += p.code[pc] === OP_LDDW ? 2 : 1;
      return pc;
    }
    left -= count;
  }
  return segs.length > 0 ? segs[segs.length - 1][0] : 0;
}
