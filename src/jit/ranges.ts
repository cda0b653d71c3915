/**
 * Range proofs: packet accesses in loops that the program's own compares prove in range, as the
 * verifier proves them (`if (p + 2 > data_end) break; ... *(u16 *)p`), checked with one signed
 * compare against a loop-invariant lower bound instead of a cached range.
 *
 * The dataflow (values.ts) tracks, for each register, a value `V_a + k`: `V_a` the value an
 * instruction (its pc `a`) produced when it last ran, `k` a small constant. An unsigned register
 * compare `x <= y` of `V_a + ka` against `V_b` (exactly) gives the fact
 * `(V_a + ka) mod 2^64 <= V_b`; facts about `V_a` are forgotten when the instruction at `a` runs
 * again.
 *
 * An access of `s` bytes at `addr = V_a + kacc` with such a fact and `kacc + s <= ka` is in
 * `[lo_b, V_b)` whenever `addr >= lo_b` as a signed compare, where `lo_b` is the start of the
 * accessible range that holds the byte `V_b - 1`, found by a guard right after the load that
 * produced `V_b` (or `INT64_MAX` when that byte is not accessible). Proof: `addr` is then in
 * `[0, 2^63)` and `d = ka - kacc` in `[s, 2^32)`, so `addr + d` does not wrap and equals
 * `(V_a + ka) mod 2^64 <= V_b`; hence `addr + s <= V_b` and the access lies in `[lo_b, V_b)`.
 *
 * Guards only come from loads; every call forgets them (a helper may move or free memory: a
 * packet resize, a map delete), and with them every fact. Only accesses inside loops whose
 * guard runs outside any loop use a proof: the guard is a table walk, worth it only when
 * hoisted. When the signed compare fails the access is checked in full (without touching any
 * cache), so a proof never changes what a run does, only how fast it checks.
 */
import type { DecodedProgram } from "../isa/decode.js";
import type { Cfg } from "./cfg.js";
import { checkedAccess } from "./groups.js";
import { dominates, type CountedLoop } from "./loops.js";
import { CONST, TOP, blockIndex, defBlock, numberValues, type State } from "./values.js";

/** What an access proved in range needs: the guard (a load's pc) whose lower bound it tests. */
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
 * `L0 = V_c + j + kacc` in `[lo_b, 2^62)`, the address `L0 + x` is in `[lo_b, 2^63)` on every
 * iteration and the access needs no test. `L0` is the value of register `reg` at the loop's
 * entry (0 when `reg` is -1) plus `add`.
 */
export interface FastProof {
  /** Index of the counted loop. */
  readonly loop: number;
  readonly reg: number;
  readonly add: number;
}

/** The range proofs of one function. */
export interface RangePlan {
  /** Proved accesses, by pc. */
  readonly proven: ReadonlyMap<number, ProvenAccess>;
  /** Loads whose value guards proved accesses, by pc: whether writes need it (else reads only). */
  readonly guards: ReadonlyMap<number, { read: boolean; write: boolean }>;
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
  const plan = { proven, guards, baseValue };
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
  const prove = (
    b: number,
    pc: number,
    s: State,
    a: { reg: number; off: number; size: number; write: boolean },
  ) => {
    const kacc = s.off[a.reg] + a.off;
    for (let i = 0; i < s.facts.length; i += 3) {
      const anchor = s.facts[i + 2];
      const ok =
        s.facts[i] === s.id[a.reg] &&
        kacc + a.size <= s.facts[i + 1] &&
        !cfg.inLoop[blockOf(anchor)];
      if (!ok) continue;
      const fast = fastProof(b, pc, s, a.reg, kacc, anchor);
      proven.set(pc, fast ? { anchor, write: a.write, fast } : { anchor, write: a.write });
      const g = guards.get(anchor) ?? { read: false, write: false };
      if (a.write) g.write = true;
      else g.read = true;
      guards.set(anchor, g);
      return;
    }
  };
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
      if (hasLoop && cfg.inLoop[b]) prove(b, pc, s, a);
    },
  });
  return plan;
}
