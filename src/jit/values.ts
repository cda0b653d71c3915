/**
 * Value numbering of a function's registers, the dataflow under range proofs (ranges.ts) and
 * the keys of bounds-check caches (compile.ts).
 *
 * Each register holds `V_a + k`: `V_a` the value the instruction at pc `a` produced when it last
 * ran (negative ids: constants and the function's arguments), `k` a small constant; or nothing
 * known (TOP). Unsigned register compares add facts `(V_a + k) mod 2^64 <= V_b`. Facts and ids
 * about `V_a` are forgotten when the instruction at `a` runs again; calls forget every fact and
 * every guard (a load whose range proof guard still holds, see ranges.ts).
 *
 * Passes in reverse postorder. A block's state is the meet of its forward predecessors'; at a
 * loop header, what the loop's body may change is forgotten first (values and facts of
 * instructions in it, guards if it calls), and each register the body writes gets a new value
 * of its own, the header's *phi*: what the back edges could bring. A pointer stepped through a
 * packet (`p += 2` in the loop) is then one value within an iteration. Facts about phis are
 * assumed where the entry brings them, and kept when every back edge brings them too (an
 * induction: a loop rotated to test `p + 2 <= end` at its back edge); a dry pass drops the
 * assumptions an edge refutes, so there are one to five passes, each linear in the function.
 */
import type { DecodedProgram } from "../isa/decode.js";
import { OP_LDDW } from "../isa/opcodes.js";
import { Term, naturalLoop, predecessors, type Cfg } from "./cfg.js";
import { writesReg } from "./groups.js";

/** A register's value is not tracked. */
export const TOP = 0x7fffffff;
/** The anchor of constants (`V = 0`). */
export const CONST = -1;
/** Anchors of the function's arguments r1..r5 and of r10: `ARG - r`. */
const ARG = -100;
/**
 * Anchors of the values loop-carried registers hold at a loop header (a new one in every
 * iteration): `PHI - (16 * header + r)`.
 */
const PHI = -1000;

/** The block that produces value `id`: its instruction's, a header's for a phi, else -1. */
export function defBlock(id: number, blockOf: (pc: number) => number): number {
  if (id >= 0 && id !== TOP) return blockOf(id);
  return id <= PHI ? Math.floor((PHI - id) / 16) : -1;
}
/** Largest |k| tracked. */
const MAX_OFF = 1 << 30;
/** Facts kept per program point. */
const MAX_FACTS = 16;

/** What is known before an instruction. */
export interface State {
  id: number[];
  off: number[];
  /** Facts `(a, k, b)`, flat. */
  facts: number[];
  /** Loads whose guard holds (ran since the last call). */
  guarded: number[];
}

function entryState(): State {
  const id = new Array<number>(11).fill(TOP);
  for (let r = 1; r <= 5; r++) id[r] = ARG - r;
  id[10] = ARG - 10;
  return { id, off: new Array<number>(11).fill(0), facts: [], guarded: [] };
}

function clone(s: State): State {
  return {
    id: s.id.slice(),
    off: s.off.slice(),
    facts: s.facts.length === 0 ? [] : s.facts.slice(),
    guarded: s.guarded.length === 0 ? [] : s.guarded.slice(),
  };
}

/** `into` := meet(into, s). */
function meet(into: State, s: State): void {
  for (let r = 0; r < 11; r++) {
    if (into.id[r] !== s.id[r] || into.off[r] !== s.off[r]) into.id[r] = TOP;
  }
  if (into.facts.length > 0) {
    const facts: number[] = [];
    for (let i = 0; i < into.facts.length; i += 3) {
      const [a, k, b] = [into.facts[i], into.facts[i + 1], into.facts[i + 2]];
      if (hasFact(s, a, k, b)) facts.push(a, k, b);
    }
    into.facts = facts;
  }
  if (into.guarded.length > 0) into.guarded = into.guarded.filter((g) => s.guarded.includes(g));
}

/** Whether `s` knows `(V_a + k) mod 2^64 <= V_b`. */
export function hasFact(s: State, a: number, k: number, b: number): boolean {
  for (let i = 0; i < s.facts.length; i += 3) {
    if (s.facts[i] === a && s.facts[i + 1] === k && s.facts[i + 2] === b) return true;
  }
  return false;
}

/** Forgets the facts that mention an id `dead(id)` says is gone. */
function dropFacts(s: State, dead: (id: number) => boolean): void {
  let keep = true;
  for (let i = 0; i < s.facts.length && keep; i += 3) {
    if (dead(s.facts[i]) || dead(s.facts[i + 2])) keep = false;
  }
  if (keep) return;
  const facts: number[] = [];
  for (let i = 0; i < s.facts.length; i += 3) {
    if (!dead(s.facts[i]) && !dead(s.facts[i + 2])) facts.push(s.facts[i], s.facts[i + 1], s.facts[i + 2]); // prettier-ignore
  }
  s.facts = facts;
}

/** The instruction at `pc` produced a new value `V_pc` in `reg` (`load`: a guardable load). */
function define(s: State, reg: number, pc: number, load: boolean): void {
  for (let r = 0; r < 11; r++) if (s.id[r] === pc) s.id[r] = TOP;
  if (s.facts.length > 0) dropFacts(s, (id) => id === pc);
  if (s.guarded.includes(pc)) s.guarded = s.guarded.filter((g) => g !== pc);
  s.id[reg] = pc;
  s.off[reg] = 0;
  if (load) s.guarded.push(pc);
}

/** Whether opcode `code` calls out: a call, or a legacy packet load (LD_ABS, LD_IND). */
export function callsOut(code: number): boolean {
  return code === 0x85 || code === 0x8d || ((code & 7) === 0 && code !== OP_LDDW);
}

/** What a call (or a legacy packet load, which calls out) does: r0 new, r1..r5 clobbered. */
function call(s: State, pc: number): void {
  s.facts = [];
  s.guarded = [];
  for (let r = 1; r <= 5; r++) s.id[r] = TOP;
  define(s, 0, pc, false);
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
  if (callsOut(code)) return call(s, pc);
  if (cls === 7) {
    const op = code & 0xf8;
    const src = p.src[pc];
    const imm = p.imm[pc];
    if (op === 0xb0) {
      s.id[d] = CONST;
      s.off[d] = imm;
    } else if (op === 0xb8 && p.off[pc] === 0) {
      s.id[d] = s.id[src];
      s.off[d] = s.off[src];
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
  else if (code === 0xc3 || code === 0xdb) {
    const imm = p.imm[pc];
    if (imm === 0xf1) define(s, 0, pc, false);
    else if (imm & 1) define(s, p.src[pc], pc, false);
  }
}

/** Adds the fact `x (+ 1 when strict) <= y` where `x`, `y` are registers. */
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
  const fall = s;
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

/** What a loop's body may change, for the state at its header. */
interface LoopEffect {
  /** Blocks of the body. */
  readonly body: Uint8Array;
  /** Registers the body writes, as a bit mask. */
  readonly writes: number;
  /** Whether the body calls out. */
  readonly calls: boolean;
}

/** The effects of the natural loops of `cfg`, by header. */
function loopEffects(p: DecodedProgram, cfg: Cfg, preds: number[][]): Map<number, LoopEffect> {
  const out = new Map<number, LoopEffect>();
  for (let h = 0; h < cfg.n; h++) {
    if (!cfg.loopHeader[h]) continue;
    const body = naturalLoop(preds, h);
    let writes = 0;
    let calls = false;
    for (let b = 0; b < cfg.n; b++) {
      if (!body[b]) continue;
      for (let pc = cfg.start[b]; pc <= cfg.last[b]; pc += p.code[pc] === OP_LDDW ? 2 : 1) {
        if (callsOut(p.code[pc])) {
          calls = true;
          writes |= 0x3f;
        }
        for (let r = 0; r < 10; r++) if (writesReg(p, pc, r)) writes |= 1 << r;
      }
    }
    out.set(h, { body, writes, calls });
  }
  return out;
}

/** What {@link numberValues} reports, before each instruction of each block. */
export interface ValueVisitor {
  /** The state before the instruction at `pc` of block `b` (do not keep it: it changes). */
  insn(b: number, pc: number, s: Readonly<State>): void;
  /** The state at the entry of block `b` (do not keep it: clone it). */
  block?(b: number, s: Readonly<State>): void;
  /** The state on the forward edge `from -> to` (`which`: 0 the taken or only edge, 1 the other). */
  edge?(from: number, to: number, which: 0 | 1, s: Readonly<State>): void;
}

/**
 * Runs the dataflow over a reducible `cfg` (of `p`), calling `visit` along the way; the block
 * of each pc is `blockOf`. Returns false (and visits nothing) for an irreducible graph.
 */
export function numberValues(
  p: DecodedProgram,
  cfg: Cfg,
  blockOf: (pc: number) => number,
  visit: ValueVisitor,
): boolean {
  if (!cfg.reducible) return false;
  const preds = predecessors(cfg);
  const loops = loopEffects(p, cfg, preds);
  // facts about headers' phis assumed true: dry passes drop those an entry or a back edge
  // does not bring, until none is dropped (each pass drops one or ends)
  const assumed = new Map<number, PhiFact[]>();
  for (let round = 0; loops.size > 0; round++) {
    if (round === MAX_ROUNDS) {
      assumed.clear();
      break;
    }
    if (!pass(p, cfg, blockOf, preds, loops, assumed, round === 0, null)) break;
  }
  pass(p, cfg, blockOf, preds, loops, assumed, false, visit);
  return true;
}

/** `(phi of register r at the header) + k <= V_b`, assumed on every iteration's entry. */
interface PhiFact {
  readonly r: number;
  readonly k: number;
  readonly b: number;
  /** Refuted: an entry or a back edge does not bring it. */
  dead: boolean;
}

/** Dry passes before the assumed phi facts are all given up. */
const MAX_ROUNDS = 4;

/**
 * One pass of {@link numberValues}. With `propose`, a loop header's entry state proposes the
 * phi facts to assume (a fact about the value a register the loop writes holds on entry);
 * every pass refutes those an entry or a back edge does not bring. Returns whether any was
 * refuted (then another pass is needed; `visit` is null in such dry passes).
 */
function pass(
  p: DecodedProgram,
  cfg: Cfg,
  blockOf: (pc: number) => number,
  preds: number[][],
  loops: Map<number, LoopEffect>,
  assumed: Map<number, PhiFact[]>,
  propose: boolean,
  visit: ValueVisitor | null,
): boolean {
  const n = cfg.n;
  let refuted = false;
  const out: (State | null)[][] = Array.from({ length: n }, () => [null, null]);
  // forward successors each block still has to feed (its states are dropped after the last)
  const pending = new Int32Array(n);
  for (let b = 0; b < n; b++) {
    for (const t of [cfg.succ0[b], cfg.succ1[b]]) if (t > b) pending[b]++;
  }
  const phi = (h: number, r: number) => PHI - (16 * h + r);
  for (let b = 0; b < n; b++) {
    let s: State | null = b === 0 ? entryState() : null;
    for (const q of preds[b]) {
      if (q >= b) continue; // a back edge: its effect is the loop's, below
      const o = cfg.succ0[q] === b ? out[q][0] : out[q][1];
      if (o === null) continue;
      if (s === null) s = clone(o);
      else meet(s, o);
      // both edges of q lead here: meet the other too
      if (cfg.succ0[q] === b && cfg.succ1[q] === b && out[q][1] !== null) meet(s, out[q][1] as State); // prettier-ignore
      if (--pending[q] <= 0) out[q] = [null, null];
    }
    if (s === null) continue;
    const loop = loops.get(b);
    if (loop !== undefined) {
      const inBody = (id: number) => {
        const d = defBlock(id, blockOf);
        return d >= 0 && loop.body[d] === 1;
      };
      const written = (r: number) => ((loop.writes >> r) & 1) === 1;
      // the phi facts the entry brings (and, first, those it proposes)
      const held = (r: number, k: number, fb: number) =>
        s !== null && s.id[r] !== TOP && hasFact(s, s.id[r], k + s.off[r], fb) && s.guarded.includes(fb); // prettier-ignore
      if (propose && !loop.calls) {
        const list: PhiFact[] = [];
        for (let r = 0; r < 10; r++) {
          if (!written(r) || s.id[r] === TOP || inBody(s.id[r])) continue;
          for (let i = 0; i < s.facts.length; i += 3) {
            const fb = s.facts[i + 2];
            if (s.facts[i] === s.id[r] && !inBody(fb) && s.guarded.includes(fb)) {
              list.push({ r, k: s.facts[i + 1] - s.off[r], b: fb, dead: false });
            }
          }
        }
        if (list.length > 0) assumed.set(b, list);
      }
      const facts = assumed.get(b) ?? [];
      for (const f of facts) {
        if (!f.dead && !held(f.r, f.k, f.b)) {
          f.dead = true;
          refuted = true;
        }
      }
      dropFacts(s, inBody);
      s.guarded = loop.calls ? [] : s.guarded.filter((g) => !inBody(g));
      for (let r = 0; r < 11; r++) {
        if (written(r)) {
          s.id[r] = phi(b, r);
          s.off[r] = 0;
        } else if (inBody(s.id[r])) s.id[r] = TOP;
      }
      for (const f of facts) {
        if (!f.dead && s.facts.length < 3 * MAX_FACTS) s.facts.push(phi(b, f.r), f.k, f.b);
      }
    }
    visit?.block?.(b, s);
    const term = cfg.term[b];
    const end = term === Term.Goto || term === Term.Cond ? cfg.last[b] : -1;
    for (let pc = cfg.start[b]; pc <= cfg.last[b]; pc += p.code[pc] === OP_LDDW ? 2 : 1) {
      visit?.insn(b, pc, s);
      if (pc !== end) step(p, s, pc);
    }
    if (term === Term.Cond) out[b] = branch(p, s, cfg.last[b]);
    else if (term !== Term.Exit) out[b] = [s, null];
    if (visit?.edge) {
      for (const e of [0, 1] as const) {
        const t = e === 0 ? cfg.succ0[b] : cfg.succ1[b];
        const o = out[b][e];
        if (t > b && o !== null) visit.edge(b, t, e, o);
      }
    }
    // back edges: each assumed phi fact must hold for the value the register takes round
    for (const e of [0, 1]) {
      const h = e === 0 ? cfg.succ0[b] : cfg.succ1[b];
      const o = out[b][e];
      if (h < 0 || h > b || o === null) continue;
      for (const f of assumed.get(h) ?? []) {
        const x = o.id[f.r];
        const ok = x !== TOP && hasFact(o, x, f.k + o.off[f.r], f.b) && o.guarded.includes(f.b);
        if (!f.dead && !ok) {
          f.dead = true;
          refuted = true;
        }
      }
    }
  }
  return refuted;
}

/** The block of each pc of `cfg`'s blocks (-1 for a pc in none). */
export function blockIndex(p: DecodedProgram, cfg: Cfg): (pc: number) => number {
  let lo = Infinity;
  let hi = -1;
  for (let b = 0; b < cfg.n; b++) {
    lo = Math.min(lo, cfg.start[b]);
    hi = Math.max(hi, cfg.last[b]);
  }
  const of = new Int32Array(Math.max(hi - lo + 1, 0)).fill(-1);
  for (let b = 0; b < cfg.n; b++) {
    for (let pc = cfg.start[b]; pc <= cfg.last[b]; pc += p.code[pc] === OP_LDDW ? 2 : 1) of[pc - lo] = b; // prettier-ignore
  }
  return (pc) => (pc >= lo && pc <= hi ? of[pc - lo] : -1);
}
