/**
 * Map value pointers: registers that hold what a lookup the compiler lowers itself returned (a
 * hash map's lookup in the map core, an array map's in line), once a compare with 0 shows it
 * is not NULL, as the verifier's PTR_TO_MAP_VALUE. An access through such a register that
 * stays inside the value needs no check: value memory stays accessible for the whole run (an
 * array's values always; a hash map's element from its first use on, deleted or not: see
 * maps/core/core.c), so calls do not end what is known, only a write of the register does.
 *
 * A forward dataflow over the function's blocks to a fixpoint: each register holds nothing
 * known, or `value of lookup site s + off` and whether it was shown not to be NULL. Where paths
 * meet, a register keeps what every path agrees on (two lookups of one map at different sites
 * do not agree; see `sameMap`).
 */
import type { DecodedProgram } from "../isa/decode.js";
import { OP_LDDW } from "../isa/opcodes.js";
import { Term, type Cfg } from "./cfg.js";
import { checkedAccess, writesReg } from "./groups.js";
import { callsOut } from "./values.js";

/** What a lookup returns a pointer into: a value of `valueSize` bytes (or NULL). */
export interface MapValueTarget {
  /** The map's handle: lookups of one map agree where paths meet. */
  readonly map: number;
  readonly valueSize: number;
  /** Whether programs may write the value (not `BPF_F_RDONLY_PROG`). */
  readonly writable: boolean;
}

/** Largest |offset| tracked. */
const MAX_OFF = 1 << 30;
const UNKNOWN = -1;

/** Per register: the target's index (or UNKNOWN), the offset, and 1 when not NULL. */
interface State {
  t: Int32Array;
  off: Float64Array;
  nn: Uint8Array;
}

function fresh(): State {
  return { t: new Int32Array(11).fill(UNKNOWN), off: new Float64Array(11), nn: new Uint8Array(11) }; // prettier-ignore
}

function copy(s: State): State {
  return { t: s.t.slice(), off: s.off.slice(), nn: s.nn.slice() };
}

/** `into` := meet(into, s); whether `into` changed. */
function meet(into: State, s: State, targets: readonly MapValueTarget[]): boolean {
  let changed = false;
  for (let r = 0; r < 11; r++) {
    const a = into.t[r];
    if (a === UNKNOWN) continue;
    const b = s.t[r];
    if (b === UNKNOWN || targets[a].map !== targets[b].map || into.off[r] !== s.off[r]) {
      into.t[r] = UNKNOWN;
      changed = true;
    } else if (into.nn[r] === 1 && s.nn[r] === 0) {
      into.nn[r] = 0;
      changed = true;
    }
  }
  return changed;
}

/** The effect of the (non-jump) instruction at `pc`; `site(pc)`: the lookup target of a call. */
function step(p: DecodedProgram, s: State, pc: number, site: (pc: number) => number): void {
  const code = p.code[pc];
  const d = p.dst[pc];
  const forget = (r: number) => {
    s.t[r] = UNKNOWN;
  };
  if (callsOut(code)) {
    for (let r = 1; r <= 5; r++) forget(r);
    const t = code === 0x85 ? site(pc) : UNKNOWN;
    s.t[0] = t;
    s.off[0] = 0;
    s.nn[0] = 0;
    return;
  }
  if (code === 0xbf && p.off[pc] === 0) {
    s.t[d] = s.t[p.src[pc]];
    s.off[d] = s.off[p.src[pc]];
    s.nn[d] = s.nn[p.src[pc]];
    return;
  }
  if ((code === 0x07 || code === 0x17) && s.t[d] !== UNKNOWN) {
    const off = s.off[d] + (code === 0x07 ? p.imm[pc] : -p.imm[pc]);
    if (Math.abs(off) <= MAX_OFF) s.off[d] = off;
    else forget(d);
    return;
  }
  for (let r = 0; r < 11; r++) if (writesReg(p, pc, r)) forget(r);
}

/** Marks register `r` not NULL on the edge of the compare at `pc` that shows it (`taken`). */
function nonNullOn(p: DecodedProgram, pc: number, taken: boolean): number {
  const code = p.code[pc];
  if (p.imm[pc] !== 0) return -1;
  // jne r, 0 and jgt r, 0 (taken); jeq r, 0 (not taken)
  if ((code === 0x55 || code === 0x25) && taken) return p.dst[pc];
  if (code === 0x15 && !taken) return p.dst[pc];
  return -1;
}

/**
 * The checked accesses of `cfg` (of `p`) that stay inside a map value a not-NULL register
 * points to. `lookupAt(pc, blockStart)`: the target of the helper call at `pc` when the
 * compiler lowers it as a lookup it knows the map of (undefined otherwise).
 */
export function planMapValues(
  p: DecodedProgram,
  cfg: Cfg,
  lookupAt: (pc: number, blockStart: number) => MapValueTarget | undefined,
): Set<number> {
  const free = new Set<number>();
  if (!cfg.reducible) return free;
  const targets: MapValueTarget[] = [];
  const siteOf = new Map<number, number>();
  for (let b = 0; b < cfg.n; b++) {
    for (let pc = cfg.start[b]; pc <= cfg.last[b]; pc += p.code[pc] === OP_LDDW ? 2 : 1) {
      if (p.code[pc] !== 0x85 || p.src[pc] !== 0 || p.imm[pc] !== 1) continue;
      const t = lookupAt(pc, cfg.start[b]);
      if (t === undefined) continue;
      siteOf.set(pc, targets.length);
      targets.push(t);
    }
  }
  if (targets.length === 0) return free;
  const site = (pc: number) => siteOf.get(pc) ?? UNKNOWN;
  const entry: (State | null)[] = new Array<State | null>(cfg.n).fill(null);
  entry[0] = fresh();
  // blocks in reverse postorder until nothing changes (a register only ever loses knowledge)
  const dirty = new Uint8Array(cfg.n);
  dirty[0] = 1;
  const out = (b: number, s: State, succ: number, taken: boolean) => {
    if (succ < 0) return;
    const e = copy(s);
    if (cfg.term[b] === Term.Cond) {
      // only the lookup's own result (offset 0) is NULL exactly when it compares equal to 0
      const r = nonNullOn(p, cfg.last[b], taken);
      if (r >= 0 && e.t[r] !== UNKNOWN && e.off[r] === 0) e.nn[r] = 1;
    }
    const cur = entry[succ];
    if (cur === null) {
      entry[succ] = e;
      dirty[succ] = 1;
    } else if (meet(cur, e, targets)) dirty[succ] = 1;
  };
  for (let again = true; again;) {
    again = false;
    for (let b = 0; b < cfg.n; b++) {
      const e = entry[b];
      if (!dirty[b] || e === null) continue;
      dirty[b] = 0;
      const s = copy(e);
      const end = cfg.term[b] === Term.Cond || cfg.term[b] === Term.Goto ? cfg.last[b] : -1;
      for (let pc = cfg.start[b]; pc <= cfg.last[b]; pc += p.code[pc] === OP_LDDW ? 2 : 1) {
        if (pc !== end) step(p, s, pc, site);
      }
      out(b, s, cfg.succ0[b], true);
      out(b, s, cfg.succ1[b], false);
      // a back edge made an earlier block dirty: another pass
      for (const q of [cfg.succ0[b], cfg.succ1[b]]) if (q >= 0 && q <= b && dirty[q]) again = true; // prettier-ignore
    }
  }
  // the accesses, with the final states
  for (let b = 0; b < cfg.n; b++) {
    const e = entry[b];
    if (e === null) continue;
    const s = copy(e);
    for (let pc = cfg.start[b]; pc <= cfg.last[b]; pc += p.code[pc] === OP_LDDW ? 2 : 1) {
      const a = checkedAccess(p, pc);
      if (a !== undefined && s.t[a.reg] !== UNKNOWN && s.nn[a.reg] === 1) {
        const t = targets[s.t[a.reg]];
        const lo = s.off[a.reg] + a.off;
        if (lo >= 0 && lo + a.size <= t.valueSize && (t.writable || !a.write)) free.add(pc);
      }
      step(p, s, pc, site);
    }
  }
  return free;
}
