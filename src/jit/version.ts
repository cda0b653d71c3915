/**
 * Versioned CFGs: a function's graph with some of its blocks copied, each copy entered through
 * a guard block that decides at run time whether the copy may run. Two kinds:
 *
 * - counted loops (loops.ts): the loop's body, copied as a *fast* copy that charges the
 *   budget per exit instead of per block; the guard sits where the loop is entered;
 * - pivots (ranges.ts): a loop-free region after a packet bounds test, copied as a *proved*
 *   copy in which the accesses the test covers go unchecked; the guard sits on the edge the
 *   test makes its fact on.
 *
 * A copy's edges to blocks outside it lead back to the original blocks, so each copy is left
 * for good at its first such edge. Copies are numbered with the rest in reverse postorder.
 */
import { Term, cfgFromGraph, type Cfg } from "./cfg.js";
import type { CountedLoop } from "./loops.js";

/** Block kinds of a {@link VersionedCfg}. */
export const BlockKind = {
  /** A block of the original graph. */
  Plain: 0,
  /** A counted loop's fast copy of a block. */
  Fast: 1,
  /** A counted loop's guard (no instructions). */
  Guard: 2,
  /** A pivot's guard (no instructions). */
  Pivot: 3,
  /** A pivot's proved copy of a block. */
  Proved: 4,
} as const;

/** A region to copy behind a guard on the edge into it (a pivot, ranges.ts). */
export interface RegionCopy {
  /** The block whose edge is guarded, and which edge: 0 the taken (or only) one, 1 the other. */
  readonly from: number;
  readonly which: 0 | 1;
  /** The edge's target: the first block of the region. */
  readonly to: number;
  /** The blocks copied (`to` and blocks it dominates, outside loops), by original number. */
  readonly region: readonly number[];
}

/** A CFG with counted loops and pivots versioned: their guards and copies added. */
export interface VersionedCfg {
  readonly cfg: Cfg;
  /** {@link BlockKind} of each block. */
  readonly kind: Uint8Array;
  /**
   * The counted loop (an index into `loops`) of each loop guard or fast block, the pivot (an
   * index into the pivots given) of each pivot guard or proved block, else -1.
   */
  readonly loop: Int32Array;
  /** The block of the original CFG each block is or copies (-1 for guards). */
  readonly orig: Int32Array;
  readonly loops: readonly CountedLoop[];
}

/** `cfg` with a guard and a fast copy for each of `loops`, and for each of `pivots`. */
export function versionCfg(
  cfg: Cfg,
  loops: readonly CountedLoop[],
  pivots: readonly RegionCopy[] = [],
): VersionedCfg {
  const n = cfg.n;
  if (loops.length === 0 && pivots.length === 0) {
    const orig = new Int32Array(n);
    for (let b = 0; b < n; b++) orig[b] = b;
    return { cfg, kind: new Uint8Array(n), loop: new Int32Array(n).fill(-1), orig, loops };
  }
  const start = [...cfg.start];
  const last = [...cfg.last];
  const term = [...cfg.term];
  const s0 = [...cfg.succ0];
  const s1 = [...cfg.succ1];
  const kind: number[] = new Array<number>(n).fill(BlockKind.Plain);
  const owner: number[] = new Array<number>(n).fill(-1);
  const orig: number[] = Array.from({ length: n }, (_, b) => b);
  const push = (b: number, k: number, i: number, succ: (s: number) => number) => {
    start.push(b < 0 ? 0 : cfg.start[b]);
    last.push(b < 0 ? -1 : cfg.last[b]);
    term.push(b < 0 ? Term.Cond : cfg.term[b]);
    s0.push(succ(b < 0 ? -1 : s0[b]));
    s1.push(succ(b < 0 ? -1 : s1[b]));
    kind.push(k);
    owner.push(i);
    orig.push(b);
  };
  loops.forEach((l, i) => {
    const inBody = new Set(l.body);
    const guard = start.length;
    const clone = new Map<number, number>();
    l.body.forEach((b, k) => clone.set(b, guard + 1 + k));
    // edges into the header from outside the loop now go to the guard
    for (let b = 0; b < n; b++) {
      if (inBody.has(b)) continue;
      if (s0[b] === l.header) s0[b] = guard;
      if (s1[b] === l.header) s1[b] = guard;
    }
    push(-1, BlockKind.Guard, i, () => -1);
    s0[guard] = clone.get(l.header) as number;
    s1[guard] = l.header;
    const map = (s: number) => (s >= 0 && inBody.has(s) ? (clone.get(s) as number) : s);
    for (const b of l.body) push(b, BlockKind.Fast, i, map);
  });
  pivots.forEach((v, i) => {
    const inRegion = new Set(v.region);
    const guard = start.length;
    const clone = new Map<number, number>();
    v.region.forEach((b, k) => clone.set(b, guard + 1 + k));
    if (v.which === 0) s0[v.from] = guard;
    else s1[v.from] = guard;
    push(-1, BlockKind.Pivot, i, () => -1);
    s0[guard] = clone.get(v.to) as number;
    s1[guard] = v.to;
    // successors as they are now: a region block's edge into a loop goes to the loop's guard
    const map = (s: number) => (s >= 0 && inRegion.has(s) ? (clone.get(s) as number) : s);
    for (const b of v.region) push(b, BlockKind.Proved, i, map);
  });
  const total = start.length;
  // reverse postorder of the new graph (taken edge first, as buildCfg orders)
  const num = new Int32Array(total).fill(-1);
  const post: number[] = [];
  const stack = [0];
  const iter = [0];
  num[0] = 0;
  while (stack.length > 0) {
    const b = stack[stack.length - 1];
    const k = iter[iter.length - 1];
    const s = k === 0 ? s0[b] : k === 1 ? s1[b] : -2;
    if (s === -2) {
      stack.pop();
      iter.pop();
      post.push(b);
      continue;
    }
    iter[iter.length - 1] = k + 1;
    if (s >= 0 && num[s] < 0) {
      num[s] = 0;
      stack.push(s);
      iter.push(0);
    }
  }
  const m = post.length;
  const rpo = new Int32Array(total).fill(-1);
  for (let i = 0; i < m; i++) rpo[post[m - 1 - i]] = i;
  const pick = <T>(arr: T[]) => {
    const out: T[] = new Array<T>(m);
    for (let b = 0; b < total; b++) if (rpo[b] >= 0) out[rpo[b]] = arr[b];
    return out;
  };
  const succ = (arr: number[]) => Int32Array.from(pick(arr), (s) => (s < 0 ? -1 : rpo[s]));
  const out = cfgFromGraph(
    m,
    Int32Array.from(pick(start)),
    Int32Array.from(pick(last)),
    Uint8Array.from(pick(term)),
    succ(s0),
    succ(s1),
  );
  return {
    cfg: out,
    kind: Uint8Array.from(pick(kind)),
    loop: Int32Array.from(pick(owner)),
    orig: Int32Array.from(pick(orig)),
    loops,
  };
}
