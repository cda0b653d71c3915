/**
 * Range proofs: packet accesses that the program's own compares prove in range, as the verifier
 * proves them (`if (p + 2 > data_end) break; ... *(u16 *)p`), checked once for many instead of
 * each against a cached range.
 *
 * The dataflow (values.ts) tracks, for each register, a value `V_a + k`: `V_a` the value an
 * instruction (its pc `a`) produced when it last ran, `k` a small constant. An unsigned register
 * compare `x <= y` of `V_a + ka` against `V_b` (exactly) gives the fact
 * `(V_a + ka) mod 2^64 <= V_b`; facts about `V_a` are forgotten when the instruction at `a` runs
 * again.
 *
 * A *guard* right after the load that produced `V_b` finds the accessible range that holds the
 * byte `V_b - 1` and keeps its start `lo_b` and `span_b = V_b - lo_b` (0 when that byte is not
 * accessible), from a range kept between runs in two globals or, when they miss, from a probe.
 * An access of `s` bytes at `addr = V_a + kacc` with such a fact and `kacc + s <= ka` is then
 * in `[lo_b, V_b)` whenever `(addr - lo_b) <u span_b`. Proof: `addr` is in `[lo_b, V_b)`, below
 * 2^31, and `d = ka - kacc` in `[s, 2^31]`, so `addr + d` does not wrap and equals
 * `(V_a + ka) mod 2^64 <= V_b`; hence `addr + s <= V_b`.
 *
 * Two uses:
 * - in loops, each proved access is tested that way (one compare in place of a cached range),
 *   or not at all in a counted loop's fast copy (`FastProof`);
 * - outside loops, a *pivot*: on the edge where a bounds test makes its fact, one test of
 *   `V_a + kmin` (the least offset of the accesses it covers) picks a copy of the region that
 *   follows (version.ts) in which those accesses are not tested at all: each lies between
 *   `V_a + kmin` and its own fact's bound.
 *
 * Guards only come from loads; every call forgets them (a helper may move or free memory: a
 * packet resize, a map delete), and with them every fact. When a test fails the access is
 * checked in full (without touching any cache), so a proof never changes what a run does, only
 * how fast it checks.
 */
import type { DecodedProgram } from "../isa/decode.js";
import { OP_LDDW } from "../isa/opcodes.js";
import { Term, type Cfg } from "./cfg.js";
import { checkedAccess } from "./groups.js";
import { dominates, type CountedLoop } from "./loops.js";
import { CONST, TOP, blockIndex, defBlock, numberValues, type State } from "./values.js";
import type { RegionCopy } from "./version.js";

/** What an access proved in range needs: the guard (a load's pc) whose range it tests. */
export interface ProvenAccess {
  readonly anchor: number;
  readonly write: boolean;
  /** In a counted loop's fast copy, no test at all (see below), if this is set. */
  readonly fast?: FastProof;
}

/**
 * An access in a counted loop (loops.ts; a 64-bit counter) through `V_a + kacc` where the loop
 * computed `V_a = V_c + j + x` from its counter `x` and a value `V_c` it does not change. In the
 * fast copy every counter value is in `[0, 2^31)`, so when the loop's guard finds
 * `L0 = V_c + j + kacc` in `[lo_b, V_b)` (below 2^31), the address `L0 + x` is in
 * `[lo_b, 2^32)` on every iteration, where the fact bounds it above, and needs no test. `L0` is the value of register `reg` at the loop's
 * entry (0 when `reg` is -1) plus `add`.
 */
export interface FastProof {
  /** Index of the counted loop. */
  readonly loop: number;
  readonly reg: number;
  readonly add: number;
}

/**
 * A pivot (see the module comment): the edge it guards and the region copied behind it, the
 * guard (a load's pc) whose range it tests, and the accesses the copy runs unchecked.
 */
export interface Pivot extends RegionCopy {
  readonly anchor: number;
  /** Whether a covered access writes (the guard's writable range is tested). */
  readonly write: boolean;
  /** The register holding `V_a + k` on the edge, and `kmin - k`. */
  readonly reg: number;
  readonly add: number;
  /** The accesses the proved copy runs unchecked. */
  readonly free: ReadonlySet<number>;
}

/** The range proofs of one function. */
export interface RangePlan {
  /** Proved accesses in loops, by pc. */
  readonly proven: ReadonlyMap<number, ProvenAccess>;
  /** Loads whose value guards proved accesses, by pc: whether writes need it (else reads only). */
  readonly guards: ReadonlyMap<number, { read: boolean; write: boolean }>;
  /** Pivots, with disjoint regions. */
  readonly pivots: readonly Pivot[];
  /**
   * The value (its id, see values.ts) the base register holds at each checked access, where
   * it is known: accesses through one value share bounds-check caches.
   */
  readonly baseValue: ReadonlyMap<number, number>;
}

/** Whether any block of `cfg` has an access the engine checks (LDX, ST, STX, atomics). */
function hasCheckedAccess(p: DecodedProgram, cfg: Cfg): boolean {
  for (let b = 0; b < cfg.n; b++) {
    for (let pc = cfg.start[b]; pc <= cfg.last[b]; pc++) {
      const cls = p.code[pc] & 7;
      if ((cls === 1 || cls === 2 || cls === 3) && checkedAccess(p, pc) !== undefined) return true;
    }
  }
  return false;
}

/** Largest |add| of a {@link FastProof} (the guard adds it as an i64 constant). */
const MAX_FAST_ADD = 1 << 30;

/** Plans the range proofs of `cfg` (of `p`); `loops`: its counted loops (loops.ts). */
export function planRanges(
  p: DecodedProgram,
  cfg: Cfg,
  loops: readonly CountedLoop[] = [],
): RangePlan {
  const proven = new Map<number, ProvenAccess>();
  const guards = new Map<number, { read: boolean; write: boolean }>();
  const baseValue = new Map<number, number>();
  const pivots: Pivot[] = [];
  const plan = { proven, guards, baseValue, pivots };
  if (!hasCheckedAccess(p, cfg)) return plan;
  const hasLoop = cfg.inLoop.some((x) => x === 1);
  const blockOf = blockIndex(p, cfg);
  // counted loops with a 64-bit counter, and the values they compute as V_c + j + counter
  const loopOf = new Int32Array(cfg.n).fill(-1);
  loops.forEach((l, i) => {
    if (l.width === 64) for (const b of l.body) loopOf[b] = i;
  });
  const entry = new Map<number, State>();
  const plusCounter = new Map<number, { c: number; j: number }>();
  const fastProof = (
    b: number,
    pc: number,
    s: State,
    reg: number,
    kacc: number,
    anchor: number,
  ) => {
    const i = loopOf[b];
    if (i < 0) return undefined;
    const a = s.id[reg];
    const sum = plusCounter.get(a);
    const h = entry.get(loops[i].header);
    if (sum === undefined || h === undefined || !h.guarded.includes(anchor)) return undefined;
    // the add must be this loop's (another loop's counter may never have been range-checked),
    // and run before the access in every iteration
    const ab = blockOf(a);
    if (loopOf[ab] !== i || !(ab === b ? a < pc : dominates(cfg, ab, b))) return undefined;
    const fast = (r: number, add: number) =>
      Math.abs(add) <= MAX_FAST_ADD ? { loop: i, reg: r, add } : undefined;
    if (sum.c === CONST) return fast(-1, sum.j + kacc);
    for (let r = 0; r < 11; r++) {
      if (h.id[r] === sum.c) return fast(r, sum.j - h.off[r] + kacc);
    }
    return undefined;
  };
  const useGuard = (anchor: number, write: boolean) => {
    const g = guards.get(anchor) ?? { read: false, write: false };
    if (write) g.write = true;
    else g.read = true;
    guards.set(anchor, g);
  };
  // the fact (its index in s.facts) that proves an access, if any
  const factFor = (s: State, a: { reg: number; off: number; size: number }) => {
    const kacc = s.off[a.reg] + a.off;
    for (let i = 0; i < s.facts.length; i += 3) {
      const anchor = s.facts[i + 2];
      const ok =
        s.facts[i] === s.id[a.reg] &&
        kacc + a.size <= s.facts[i + 1] &&
        !cfg.inLoop[blockOf(anchor)];
      if (ok) return i;
    }
    return -1;
  };
  const candidates = new Map<string, Candidate[]>();
  const tests = new Map<string, Test[]>();
  numberValues(p, cfg, blockOf, {
    block(b, s) {
      if (cfg.loopHeader[b]) entry.set(b, { id: s.id.slice(), off: s.off.slice(), facts: s.facts.slice(), guarded: s.guarded.slice() }); // prettier-ignore
    },
    insn(b, pc, s) {
      const l = loops[loopOf[b]];
      if (l !== undefined && p.code[pc] === 0x0f && p.src[pc] === l.reg && p.dst[pc] !== l.reg) {
        const c = s.id[p.dst[pc]];
        const invariant = !l.body.includes(defBlock(c, blockOf));
        if (c !== TOP && invariant) plusCounter.set(pc, { c, j: s.off[p.dst[pc]] });
      }
      const a = checkedAccess(p, pc);
      if (a === undefined || s.id[a.reg] === TOP) return;
      baseValue.set(pc, s.id[a.reg]);
      const i = factFor(s, a);
      if (i < 0) return;
      const anchor = s.facts[i + 2];
      const kacc = s.off[a.reg] + a.off;
      if (hasLoop && cfg.inLoop[b]) {
        const fast = fastProof(b, pc, s, a.reg, kacc, anchor);
        proven.set(pc, fast ? { anchor, write: a.write, fast } : { anchor, write: a.write });
        useGuard(anchor, a.write);
      } else if (!cfg.inLoop[b]) {
        const key = `${s.facts[i]}/${anchor}`;
        const list = candidates.get(key) ?? [];
        list.push({ pc, block: b, kacc, write: a.write });
        candidates.set(key, list);
      }
    },
    edge(from, to, which, s) {
      // a bounds test outside loops that makes a fact: `x <= y` on this edge
      if (cfg.inLoop[from] || cfg.inLoop[to] || cfg.term[from] !== Term.Cond) return;
      if (cfg.succ0[from] === cfg.succ1[from]) return;
      const j = cfg.last[from];
      for (const x of [p.dst[j], p.src[j]]) {
        for (let i = 0; i < s.facts.length; i += 3) {
          if (s.id[x] !== s.facts[i]) continue;
          const key = `${s.facts[i]}/${s.facts[i + 2]}`;
          const list = tests.get(key) ?? [];
          list.push({ from, to, which, reg: x, off: s.off[x], anchor: s.facts[i + 2] });
          tests.set(key, list);
        }
      }
    },
  });
  planPivots(p, cfg, candidates, tests, pivots);
  for (const v of pivots) useGuard(v.anchor, v.write);
  return plan;
}

/** An access outside loops a fact proves (a pivot may cover it). */
interface Candidate {
  readonly pc: number;
  readonly block: number;
  readonly kacc: number;
  readonly write: boolean;
}

/** An edge out of a bounds test, with the register that holds `V_a + off` on it. */
interface Test {
  readonly from: number;
  readonly to: number;
  readonly which: 0 | 1;
  readonly reg: number;
  readonly off: number;
  readonly anchor: number;
}

/** Pivots per function. */
const MAX_PIVOTS = 4;
/** Instructions copied per pivot. */
const MAX_REGION = 1024;

/**
 * Chooses pivots: for each value with proved accesses outside loops (most accesses first), the
 * bounds-test edge whose region covers most of them, unless that region overlaps one chosen or
 * its accesses are all in one block.
 */
function planPivots(
  p: DecodedProgram,
  cfg: Cfg,
  candidates: ReadonlyMap<string, Candidate[]>,
  tests: ReadonlyMap<string, Test[]>,
  out: Pivot[],
): void {
  const taken = new Uint8Array(cfg.n);
  const groups = [...candidates.entries()].sort((x, y) => y[1].length - x[1].length);
  for (const [key, list] of groups) {
    if (out.length >= MAX_PIVOTS) break;
    let best: Test | undefined;
    let covered = 0;
    for (const t of tests.get(key) ?? []) {
      const n = list.filter((c) => dominates(cfg, t.to, c.block)).length;
      if (n > covered || (n === covered && best !== undefined && t.to < best.to)) {
        best = t;
        covered = n;
      }
    }
    if (best === undefined || covered < 2) continue;
    const region = regionOf(p, cfg, best.to, new Set(list.map((c) => c.block)), taken);
    if (region.length === 0) continue;
    const inRegion = new Set(region);
    const free = list.filter((c) => inRegion.has(c.block));
    // worth a test and a guard when it saves checks in two blocks at least (one block's
    // accesses are mostly one access group, one check already)
    if (new Set(free.map((c) => c.block)).size < 2) continue;
    const kmin = Math.min(...free.map((c) => c.kacc));
    if (Math.abs(kmin - best.off) >= 2 ** 31) continue; // an i64.const of one word
    for (const b of region) taken[b] = 1;
    out.push({
      from: best.from,
      which: best.which,
      to: best.to,
      region,
      anchor: best.anchor,
      write: free.some((c) => c.write),
      reg: best.reg,
      add: kmin - best.off,
      free: new Set(free.map((c) => c.pc)),
    });
  }
}

/**
 * The blocks a pivot into `to` copies: those `to` dominates, outside loops and not `taken`,
 * that lead to a block with a covered access, up to MAX_REGION instructions (in reverse
 * postorder, so every block kept has a predecessor kept); empty when `to` itself is out.
 */
function regionOf(
  p: DecodedProgram,
  cfg: Cfg,
  to: number,
  useful: ReadonlySet<number>,
  taken: Uint8Array,
): number[] {
  const inside = (b: number) => b >= to && !cfg.inLoop[b] && !taken[b] && dominates(cfg, to, b);
  const keep = new Uint8Array(cfg.n);
  for (let b = cfg.n - 1; b >= to; b--) {
    if (!inside(b)) continue;
    const next = [cfg.succ0[b], cfg.succ1[b]].some((s) => s > b && keep[s] === 1);
    if (useful.has(b) || next) keep[b] = 1;
  }
  if (!keep[to]) return [];
  const region: number[] = [];
  let size = 0;
  for (let b = to; b < cfg.n; b++) {
    if (!keep[b]) continue;
    for (let pc = cfg.start[b]; pc <= cfg.last[b]; pc += p.code[pc] === OP_LDDW ? 2 : 1) size++;
    if (size > MAX_REGION) break;
    region.push(b);
  }
  return region;
}
