/**
 * Range proofs: packet accesses in loops that the program's own compares prove in range, as the
 * verifier proves them (`if (p + 2 > data_end) break; ... *(u16 *)p`), checked with one signed
 * compare against a loop-invariant lower bound instead of a cached range.
 *
 * The analysis tracks, for each register, a value `V_a + k`: `V_a` the value an instruction
 * (its pc `a`) produced when it last ran, `k` a small constant. An unsigned register compare
 * `x <= y` of `V_a + ka` against `V_b` (exactly) gives the fact `(V_a + ka) mod 2^64 <= V_b`;
 * facts about `V_a` are forgotten when the instruction at `a` runs again.
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
import { OP_LDDW } from "../isa/opcodes.js";
import { Term, type Cfg } from "./cfg.js";
import { checkedAccess } from "./groups.js";
import { dominates, type CountedLoop } from "./loops.js";

/** A register's value is not tracked. */
const TOP = 0x7fffffff;
/** The anchor of constants (`V = 0`). */
const CONST = -1;
/** Anchors of the function's arguments r1..r5 and of r10. */
const ARG = -100;
/** Largest |k| tracked. */
const MAX_OFF = 1 << 30;
/** Facts kept per program point. */
const MAX_FACTS = 16;
/** Dataflow passes before the analysis gives up (and proves nothing). */
const MAX_PASSES = 12;

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
}

interface State {
  id: Int32Array;
  off: Int32Array;
  /** Facts `(a, k, b)`, flat. */
  facts: number[];
  /** Loads whose guard holds (ran since the last call). */
  guarded: number[];
}

function entryState(): State {
  const id = new Int32Array(11).fill(TOP);
  for (let r = 1; r <= 5; r++) id[r] = ARG - r;
  id[10] = ARG - 10;
  return { id, off: new Int32Array(11), facts: [], guarded: [] };
}

function clone(s: State): State {
  return {
    id: s.id.slice(),
    off: s.off.slice(),
    facts: s.facts.slice(),
    guarded: s.guarded.slice(),
  };
}

/** `into` := meet(into, s); returns whether `into` changed. */
function meet(into: State, s: State): boolean {
  let changed = false;
  for (let r = 0; r < 11; r++) {
    if (into.id[r] !== TOP && (into.id[r] !== s.id[r] || into.off[r] !== s.off[r])) {
      into.id[r] = TOP;
      changed = true;
    }
  }
  const facts: number[] = [];
  for (let i = 0; i < into.facts.length; i += 3) {
    const [a, k, b] = [into.facts[i], into.facts[i + 1], into.facts[i + 2]];
    if (hasFact(s, a, k, b)) facts.push(a, k, b);
  }
  if (facts.length !== into.facts.length) changed = true;
  into.facts = facts;
  const guarded = into.guarded.filter((g) => s.guarded.includes(g));
  if (guarded.length !== into.guarded.length) changed = true;
  into.guarded = guarded;
  return changed;
}

function same(x: State, y: State): boolean {
  for (let r = 0; r < 11; r++) {
    if (x.id[r] !== y.id[r] || (x.id[r] !== TOP && x.off[r] !== y.off[r])) return false;
  }
  const eq = (u: number[], v: number[]) => u.length === v.length && u.every((e, i) => e === v[i]);
  return eq(x.facts, y.facts) && eq(x.guarded, y.guarded);
}

function hasFact(s: State, a: number, k: number, b: number): boolean {
  for (let i = 0; i < s.facts.length; i += 3) {
    if (s.facts[i] === a && s.facts[i + 1] === k && s.facts[i + 2] === b) return true;
  }
  return false;
}

/** The instruction at `pc` produced a new value `V_pc` in `reg` (`load`: a guardable load). */
function define(s: State, reg: number, pc: number, load: boolean): void {
  for (let r = 0; r < 11; r++) if (s.id[r] === pc) s.id[r] = TOP;
  const facts: number[] = [];
  for (let i = 0; i < s.facts.length; i += 3) {
    if (s.facts[i] !== pc && s.facts[i + 2] !== pc) facts.push(...s.facts.slice(i, i + 3));
  }
  s.facts = facts;
  s.guarded = s.guarded.filter((g) => g !== pc);
  s.id[reg] = pc;
  s.off[reg] = 0;
  if (load) s.guarded.push(pc);
}

/** `reg += k` (64-bit). */
function addConst(s: State, reg: number, k: number, pc: number): void {
  if (s.id[reg] === TOP) return;
  const off = s.off[reg] + k;
  if (Math.abs(off) > MAX_OFF) define(s, reg, pc, false);
  else s.off[reg] = off;
}

/** The effect of the (non-jump) instruction at `pc`. */
function step(p: DecodedProgram, s: State, pc: number): void {
  const code = p.code[pc];
  const cls = code & 7;
  const d = p.dst[pc];
  if (code === 0x85 || code === 0x8d) {
    s.facts = [];
    s.guarded = [];
    for (let r = 1; r <= 5; r++) s.id[r] = TOP;
    define(s, 0, pc, false);
    return;
  }
  if (cls === 7) {
    const op = code & 0xf8;
    const src = p.src[pc];
    const imm = p.imm[pc];
    if (op === 0xb0 || op === 0xb8) {
      if (op === 0xb0) {
        s.id[d] = CONST;
        s.off[d] = imm;
      } else if (p.off[pc] === 0) {
        s.id[d] = s.id[src];
        s.off[d] = s.off[src];
      } else define(s, d, pc, false);
    } else if (op === 0x00) addConst(s, d, imm, pc);
    else if (op === 0x10) addConst(s, d, -imm, pc);
    else if ((op === 0x08 || op === 0x18) && s.id[src] === CONST) {
      addConst(s, d, op === 0x08 ? s.off[src] : -s.off[src], pc);
    } else if (op === 0x08 && s.id[d] === CONST && s.id[src] !== TOP) {
      const k = s.off[d];
      s.id[d] = s.id[src];
      s.off[d] = s.off[src];
      addConst(s, d, k, pc);
    } else define(s, d, pc, false);
    return;
  }
  if (cls === 4) {
    if ((code & 0xf8) === 0xb0 && p.imm[pc] >= 0) {
      s.id[d] = CONST;
      s.off[d] = p.imm[pc];
    } else define(s, d, pc, false);
    return;
  }
  if (cls === 1) define(s, d, pc, true);
  else if (code === OP_LDDW) define(s, d, pc, false);
  else if (cls === 0) {
    // legacy packet loads (LD_ABS, LD_IND) call out and clobber r0..r5, as calls do
    s.facts = [];
    s.guarded = [];
    for (let r = 1; r <= 5; r++) s.id[r] = TOP;
    define(s, 0, pc, false);
  } else if (code === 0xc3 || code === 0xdb) {
    const imm = p.imm[pc];
    if (imm === 0xf1) define(s, 0, pc, false);
    else if (imm & 1) define(s, p.src[pc], pc, false);
  }
}

/** Adds the fact `x + 1? <= y` where `x`, `y` are registers (`strict`: x < y). */
function addFact(s: State, x: number, y: number, strict: boolean): void {
  if (s.id[x] === TOP || s.id[y] === TOP || s.off[y] !== 0) return;
  const b = s.id[y];
  if (!s.guarded.includes(b) || s.facts.length >= 3 * MAX_FACTS) return;
  const k = s.off[x] + (strict ? 1 : 0);
  if (!hasFact(s, s.id[x], k, b)) s.facts.push(s.id[x], k, b);
}

/** The states on the taken and the fall-through edge of the conditional jump at `pc`. */
function branch(p: DecodedProgram, s: State, pc: number): [State, State] {
  const taken = clone(s);
  const fall = clone(s);
  const code = p.code[pc];
  if ((code & 7) !== 5 || (code & 8) === 0) return [taken, fall];
  const x = p.dst[pc];
  const y = p.src[pc];
  switch (code & 0xf0) {
    case 0x20: // x > y
      addFact(fall, x, y, false);
      addFact(taken, y, x, true);
      break;
    case 0x30: // x >= y
      addFact(taken, y, x, false);
      addFact(fall, x, y, true);
      break;
    case 0xa0: // x < y
      addFact(taken, x, y, true);
      addFact(fall, y, x, false);
      break;
    case 0xb0: // x <= y
      addFact(taken, x, y, false);
      addFact(fall, y, x, true);
      break;
  }
  return [taken, fall];
}

/** Plans the range proofs of `cfg` (of `p`); empty when the function has no loop. */
export function planRanges(
  p: DecodedProgram,
  cfg: Cfg,
  loops: readonly CountedLoop[] = [],
): RangePlan {
  const proven = new Map<number, ProvenAccess>();
  const guards = new Map<number, { read: boolean; write: boolean }>();
  if (!cfg.inLoop.some((x) => x === 1)) return { proven, guards };
  const next = (pc: number) => pc + (p.code[pc] === OP_LDDW ? 2 : 1);
  const blockOf = new Map<number, number>();
  for (let b = 0; b < cfg.n; b++) {
    for (let pc = cfg.start[b]; pc <= cfg.last[b]; pc = next(pc)) blockOf.set(pc, b);
  }
  // forward dataflow: each block's input is the meet of its predecessors' current outputs,
  // recomputed until nothing changes (any such fixpoint is sound; give up after a few passes)
  const preds: [number, number][][] = Array.from({ length: cfg.n }, () => []);
  for (let b = 0; b < cfg.n; b++) {
    if (cfg.succ0[b] >= 0) preds[cfg.succ0[b]].push([b, 0]);
    if (cfg.succ1[b] >= 0) preds[cfg.succ1[b]].push([b, 1]);
  }
  const out: (State | null)[][] = Array.from({ length: cfg.n }, () => [null, null]);
  const inState: (State | null)[] = new Array<State | null>(cfg.n).fill(null);
  let changed = true;
  for (let pass = 0; changed; pass++) {
    if (pass === MAX_PASSES) return { proven, guards };
    changed = false;
    for (let b = 0; b < cfg.n; b++) {
      let s: State | null = b === 0 ? entryState() : null;
      for (const [from, edge] of preds[b]) {
        const o = out[from][edge];
        if (o === null) continue;
        if (s === null) s = clone(o);
        else meet(s, o);
      }
      if (s === null) continue;
      inState[b] = clone(s);
      const term = cfg.term[b];
      const end = term === Term.Goto || term === Term.Cond ? cfg.last[b] : -1;
      for (let pc = cfg.start[b]; pc <= cfg.last[b] && pc !== end; pc = next(pc)) step(p, s, pc);
      const outs: (State | null)[] =
        term === Term.Cond
          ? branch(p, s, cfg.last[b])
          : term === Term.Exit
            ? [null, null]
            : [s, null];
      for (const e of [0, 1]) {
        const prev = out[b][e];
        const now = outs[e];
        if (now !== null && (prev === null || !same(prev, now))) changed = true;
        out[b][e] = now;
      }
    }
  }
  // counted loops with a 64-bit counter, and the values they compute as V_c + j + counter
  const loopOf = new Int32Array(cfg.n).fill(-1);
  loops.forEach((l, i) => {
    if (l.width === 64) for (const b of l.body) loopOf[b] = i;
  });
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
    const h = inState[loops[i].header];
    if (sum === undefined || h === null || !h.guarded.includes(anchor)) return undefined;
    const ab = blockOf.get(a) ?? -1;
    if (!(ab === b ? a < pc : dominates(cfg, ab, b))) return undefined;
    if (sum.c === CONST) return { loop: i, reg: -1, add: sum.j + kacc };
    for (let r = 0; r < 11; r++) {
      if (h.id[r] === sum.c) return { loop: i, reg: r, add: sum.j - h.off[r] + kacc };
    }
    return undefined;
  };
  // the accesses the facts prove
  for (let b = 0; b < cfg.n; b++) {
    const start = inState[b];
    if (start === null || !cfg.inLoop[b]) continue;
    const s = clone(start);
    for (let pc = cfg.start[b]; pc <= cfg.last[b]; pc = next(pc)) {
      const l = loops[loopOf[b]];
      if (l !== undefined && p.code[pc] === 0x0f && p.src[pc] === l.reg && p.dst[pc] !== l.reg) {
        const c = s.id[p.dst[pc]];
        const invariant = c < 0 || !l.body.includes(blockOf.get(c) ?? -1);
        if (c !== TOP && invariant) plusCounter.set(pc, { c, j: s.off[p.dst[pc]] });
      }
      const a = checkedAccess(p, pc);
      if (a !== undefined && s.id[a.reg] !== TOP) {
        const kacc = s.off[a.reg] + a.off;
        for (let i = 0; i < s.facts.length; i += 3) {
          const anchor = s.facts[i + 2];
          const ok =
            s.facts[i] === s.id[a.reg] &&
            kacc + a.size <= s.facts[i + 1] &&
            !cfg.inLoop[blockOf.get(anchor) ?? b];
          if (!ok) continue;
          const fast = fastProof(b, pc, s, a.reg, kacc, anchor);
          proven.set(pc, fast ? { anchor, write: a.write, fast } : { anchor, write: a.write });
          const g = guards.get(anchor) ?? { read: false, write: false };
          if (a.write) g.write = true;
          else g.read = true;
          guards.set(anchor, g);
          break;
        }
      }
      if (
        p.code[pc] !== 0x05 &&
        p.code[pc] !== 0x06 &&
        !(pc === cfg.last[b] && cfg.term[b] === Term.Cond)
      ) {
        step(p, s, pc);
      }
    }
  }
  return { proven, guards };
}
