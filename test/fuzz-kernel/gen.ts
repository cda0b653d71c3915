/**
 * The program generator: seeded, deterministic, and aware of what the kernel's verifier accepts.
 * It tracks what every register holds (nothing, a scalar — with its value right after a `mov` —,
 * the context, a pointer to a map value or to a caller's stack of known size, a packet pointer
 * with a checked range) and which stack bytes are written, and only emits instructions that read
 * initialised registers and bytes, dereference pointers in bounds, and never leak a pointer into
 * what is compared (maps, r0, the packet).
 *
 * Every case has the maps `out` (array, one 512-byte value: where programs store what they
 * compute), `arr` (array), `hash` (hash, sometimes BPF_F_NO_PREALLOC) and `jmp` (prog_array,
 * its slots filled at random, the entry program's own included), plus per-CPU and LRU maps on
 * request; programs p0 (the entry) … pN, each a main function, up to three subprograms and maybe
 * a bpf_loop callback. In main functions and subprograms r6 holds the context and r9 a pointer to
 * `out`'s value (subprograms get them in r1/r2, then scalars or pointers to 16 bytes of the
 * caller's stack in r3–r5). Statements: ALU32/ALU64 runs (every op, div/mod by zero, shifts,
 * neg, movsx, bswap/be/le, signed div/mod), `lddw` of 64-bit values and of map values (src 2),
 * forward if/else (JMP and JMP32, `gotol`), bounded loops, stack loads/stores/atomics, loads,
 * stores and atomics through map value pointers (constant and variable offsets) and checked
 * packet pointers, map lookups (keeping the pointer across later helper calls), updates and
 * deletes, context fields, bpf-to-bpf calls, tail calls (good, empty and out-of-range slots,
 * 64-bit indexes), bpf_xdp_adjust_head/meta/tail, bpf_xdp_load/store_bytes, bpf_csum_diff and
 * bpf_loop. Every function ends by storing its scalar registers into `out` and returning one.
 */
import {
  blockSize,
  reachableFns,
  type FuzzCase,
  type Fn,
  type Ins,
  type Node,
  type Prog,
} from "./ir.js";
import { Rng } from "./rng.js";

// ---- instruction constructors ---------------------------------------------------------------

const I = (code: number, dst = 0, src = 0, off = 0, imm = 0): Ins => ({ code, dst, src, off, imm });
const lddw = (dst: number, lo: number, hi: number, src = 0): Ins => ({
  code: 0x18,
  dst,
  src,
  off: 0,
  imm: lo | 0,
  imm2: hi | 0,
});
const mov64 = (dst: number, src: number): Ins => I(0xbf, dst, src);
const movImm = (dst: number, imm: number): Ins => I(0xb7, dst, 0, 0, imm);
const callHelper = (id: number): Ins => I(0x85, 0, 0, 0, id);
const EXIT = 0x95;

const ALU = 0x04;
const ALU64 = 0x07;
const JMP = 0x05;
const JMP32 = 0x06;
const K = 0x00;
const X = 0x08;

const OPS = {
  add: 0x00,
  sub: 0x10,
  mul: 0x20,
  div: 0x30,
  or: 0x40,
  and: 0x50,
  lsh: 0x60,
  rsh: 0x70,
  neg: 0x80,
  mod: 0x90,
  xor: 0xa0,
  mov: 0xb0,
  arsh: 0xc0,
  end: 0xd0,
};
const BINARY = [
  OPS.add,
  OPS.sub,
  OPS.mul,
  OPS.div,
  OPS.or,
  OPS.and,
  OPS.lsh,
  OPS.rsh,
  OPS.mod,
  OPS.xor,
  OPS.mov,
  OPS.arsh,
];
const CONDS = [0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0];
/** Load/store size bits by byte count. */
const SIZE: Record<number, number> = { 1: 0x10, 2: 0x08, 4: 0x00, 8: 0x18 };
const ldx = (n: number) => 0x61 | SIZE[n];
const ldsx = (n: number) => 0x81 | SIZE[n];
const stImm = (n: number) => 0x62 | SIZE[n];
const stx = (n: number) => 0x63 | SIZE[n];
const ATOMIC_OPS = [0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1];
const CMPXCHG = 0xf1;

const BPF_FUNC_map_lookup_elem = 1;
const BPF_FUNC_map_update_elem = 2;
const BPF_FUNC_map_delete_elem = 3;
const BPF_FUNC_tail_call = 12;
const BPF_FUNC_csum_diff = 28;
const BPF_FUNC_xdp_adjust_head = 44;
const BPF_FUNC_xdp_adjust_meta = 54;
const BPF_FUNC_xdp_adjust_tail = 65;
const BPF_FUNC_xdp_load_bytes = 189;
const BPF_FUNC_xdp_store_bytes = 190;
const BPF_FUNC_loop = 181;

/** Map indices in every case. */
export const MAP_OUT = 0;
export const MAP_ARR = 1;
export const MAP_HASH = 2;
export const MAP_JMP = 3;
/** Size of `out`'s single value. */
export const OUT_SIZE = 512;

const INTERESTING32 = [
  0, 1, -1, 2, -2, 3, 7, 8, 15, 16, 31, 32, 33, 63, 64, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000,
  0xffff, 0x10000, 0x7fffffff, -0x80000000, -0x7fffffff, 0x12345678, -0x12345678, 0x55555555,
  0x0f0f0f0f, 1000000007,
];
const INTERESTING64: [number, number][] = [
  [0, 0x80000000],
  [-1, 0x7fffffff],
  [-1, 0],
  [0, 1],
  [0, -1],
  [1, 1],
  [-1, -1],
  [0x89abcdef, 0x01234567],
  [0x80000000, 0],
  [0x80000000, -1],
  [0x7fffffff, -1],
];

// ---- what registers and stack bytes hold --------------------------------------------------

type Kind =
  | { k: "u" } // unreadable: never written, clobbered, or different on two paths
  | { k: "s"; v?: number } // a scalar; `v`: its value, when a `mov` just set it
  | { k: "ctx" }
  | { k: "mv"; size: number; map: number } // a non-null pointer to a value of map `map`
  | { k: "pkt"; range: number }; // a packet pointer, `range` bytes checked against data_end

const U: Kind = { k: "u" };
const OUT_PTR: Kind = { k: "mv", size: OUT_SIZE, map: MAP_OUT };
const S: Kind = { k: "s" };

function sameKind(a: Kind, b: Kind): boolean {
  if (a.k !== b.k) return false;
  if (a.k === "s" && b.k === "s") return a.v === b.v;
  if (a.k === "mv" && b.k === "mv") return a.size === b.size && a.map === b.map;
  if (a.k === "pkt" && b.k === "pkt") return a.range === b.range;
  return true;
}

function meetKind(a: Kind, b: Kind): Kind {
  if (a.k === "s" && b.k === "s") return a.v === b.v ? a : S;
  if (a.k === "mv" && b.k === "mv" && a.map === b.map) {
    return { k: "mv", size: Math.min(a.size, b.size), map: a.map };
  }
  if (a.k === "pkt" && b.k === "pkt") return { k: "pkt", range: Math.min(a.range, b.range) };
  return sameKind(a, b) ? a : U; // pointers into two different maps: neither
}

interface State {
  regs: Kind[];
  /** One flag per frame byte: byte i is at r10 - frame + i. */
  stack: Uint8Array;
}

const cloneState = (s: State): State => ({ regs: [...s.regs], stack: s.stack.slice() });

function meetState(a: State, b: State): State {
  return {
    regs: a.regs.map((k, r) => meetKind(k, b.regs[r])),
    stack: a.stack.map((v, i) => v & b.stack[i]),
  };
}

/** Registers the generator may write: r6 (ctx) and r9 (`out`) stay put. */
const POOL = [0, 1, 2, 3, 4, 5, 7, 8];

/** Frame bytes a main function uses, and a subprogram (the tail-call stack rule needs < 256). */
const MAIN_FRAME = 96;
const SUB_FRAME = 48;

interface FnCtx {
  frame: number;
  /** Subprograms this function may call, with the arguments each takes in r3, r4, … */
  callees: Callee[];
  /** Loop counters live here: never written. */
  reserved: Set<number>;
  depth: number;
  /** In loop bodies: no calls of any kind. */
  noCalls: boolean;
  /** Callbacks this function may hand to bpf_loop. */
  callbacks: string[];
  /** This function is a bpf_loop callback: r1 the index, r2 its ctx, no program context. */
  callback: boolean;
}

/** What a subprogram takes in r3–r5: a scalar, or a pointer to 16 bytes of the caller's stack. */
type Arg = "s" | "fp";

interface Callee {
  name: string;
  args: Arg[];
}

/** The `map` of a map-value-like pointer that points into a caller's stack. */
const STACK_ARG = -1;
/** Bytes of the caller's stack a pointer argument covers. */
const STACK_ARG_SIZE = 16;

/** An optional map beyond out/arr/hash/jmp (per-CPU, LRU). */
interface ExtraMap {
  idx: number;
  name: string;
  type: number;
  key: number;
  value: number;
  max: number;
  /** Updates link a new element and deletes recycle: pointers go stale. */
  hashLike: boolean;
  perCpu: boolean;
}

interface CaseShape {
  extra: ExtraMap[];
  arrValue: number;
  arrMax: number;
  hashKey: number;
  hashValue: number;
  hashMax: number;
  jmpMax: number;
}

/** Generator options (defaults give a broad mix). */
export interface GenOptions {
  /** Most programs per case (default 4). */
  maxProgs?: number;
  /** Statements in a main function body: [min, max] (default [4, 24]). */
  mainStmts?: [number, number];
  /**
   * Keep using map value pointers after an update or delete of the same map (default false).
   * The kernel's hash map then leaves them on an element it no longer holds, or recycles
   * (see src/maps/hash.ts for what tsbpf does instead).
   */
  stalePointers?: boolean;
  /**
   * Also generate what Linux 6.18's verifier gets wrong (default false): atomic fetches from a
   * stack slot that holds a spilled register (its precision tracking misses them, prunes a path
   * it must explore, and hard-wires a branch the wrong way).
   */
  kernelBugs?: boolean;
  /** Also per-CPU array and hash maps (default false). */
  perCpuMaps?: boolean;
  /** Also an LRU hash map (default false; see src/maps/lru.ts on eviction order). */
  lru?: boolean;
  /**
   * Possible CPUs of the kernel the cases run on (default 1): the width of per-CPU values
   * written from the host, and what tsbpf models.
   */
  numCpus?: number;
  /**
   * Calls of bpf_xdp_adjust_head/meta/tail, bpf_xdp_load_bytes/store_bytes and bpf_csum_diff
   * (default true).
   */
  xdpHelpers?: boolean;
}

class Gen {
  private ctx!: FnCtx;
  /** Next `out` slot to store into: slots go round so values overwrite each other rarely. */
  private slot: number;

  constructor(
    readonly rng: Rng,
    readonly shape: CaseShape,
    readonly opts: GenOptions,
  ) {
    this.slot = rng.int(OUT_SIZE / 8);
  }

  /** The offset in `out` of the next slot. */
  nextSlot(): number {
    this.slot = (this.slot + 1) % (OUT_SIZE / 8);
    return this.slot * 8;
  }

  // ---- value pickers ----

  imm(): number {
    const r = this.rng;
    if (r.chance(0.6)) return r.pick(INTERESTING32);
    if (r.chance(0.5)) return r.range(-64, 64);
    return r.i32();
  }

  nonzeroImm(): number {
    for (;;) {
      const v = this.imm();
      if (v !== 0) return v;
    }
  }

  /** A pool register that may be written (not one of `avoid`). */
  dstReg(avoid: readonly number[] = []): number {
    return this.rng.pick(POOL.filter((r) => !this.ctx.reserved.has(r) && !avoid.includes(r)));
  }

  scalars(st: State, writable = false): number[] {
    return POOL.filter((r) => st.regs[r].k === "s" && (!writable || !this.ctx.reserved.has(r)));
  }

  /**
   * A scalar register (writable if asked), making one with `mov` when there is none; `avoid`
   * (a pointer about to be used) is never the one overwritten.
   */
  scalar(st: State, out: Ins[], writable = false, avoid: readonly number[] = []): number {
    const s = this.scalars(st, writable);
    if (s.length > 0) return this.rng.pick(s);
    const r = this.dstReg(avoid);
    if (this.rng.chance(0.7)) {
      const v = this.imm();
      out.push(movImm(r, v));
      st.regs[r] = { k: "s", v };
    } else {
      out.push(this.lddwImm(r));
      st.regs[r] = S;
    }
    return r;
  }

  lddwImm(dst: number): Ins {
    const r = this.rng;
    if (r.chance(0.5)) {
      const [lo, hi] = r.pick(INTERESTING64);
      return lddw(dst, lo, hi);
    }
    return lddw(dst, r.i32(), r.chance(0.3) ? r.pick([0, -1]) : r.i32());
  }

  // ---- stack bookkeeping ----

  markStack(st: State, off: number, n: number): void {
    const base = this.ctx.frame + off;
    for (let i = 0; i < n; i++) st.stack[base + i] = 1;
  }

  /** A written, aligned range of `n` bytes (offset from r10); undefined if none. */
  initRange(st: State, n: number): number | undefined {
    const F = this.ctx.frame;
    const ok: number[] = [];
    for (let off = -F; off <= -n; off += n) {
      let all = true;
      for (let i = 0; i < n && all; i++) all = st.stack[F + off + i] === 1;
      if (all) ok.push(off);
    }
    return ok.length === 0 ? undefined : this.rng.pick(ok);
  }

  // ---- statements ----

  /** `n` statements; nested blocks (depth > 0) often end by storing a scalar into `out`. */
  block(st: State, n: number): Node[] {
    const out: Node[] = [];
    for (let i = 0; i < n; i++) out.push(...this.stmt(st));
    if (this.ctx.depth > 0 && this.rng.chance(0.6)) out.push(...this.observe(st));
    return out;
  }

  /** Stores a scalar (or two) into `out`, so values computed on the way are compared too. */
  observe(st: State): Node[] {
    const s = this.scalars(st);
    if (s.length === 0) return [];
    const out: Ins[] = [];
    for (let i = this.rng.chance(0.3) ? 2 : 1; i > 0; i--) {
      out.push(I(stx(8), 9, this.rng.pick(s), this.nextSlot()));
    }
    return [{ t: "ins", ins: out }];
  }

  stmt(st: State): Node[] {
    const c = this.ctx;
    const mvRegs = [...POOL, 9].filter((r) => st.regs[r].k === "mv");
    const pktRegs = POOL.filter((r) => {
      const k = st.regs[r];
      return k.k === "pkt" && k.range > 0;
    });
    const calls = !c.noCalls;
    const extra = this.opts.xdpHelpers ?? true;
    const ctxOk = !c.callback; // a bpf_loop callback has no context
    const choices: [number, () => Node[]][] = [
      [40, () => this.aluRun(st)],
      [4, () => this.observe(st)],
      [3, () => [{ t: "ins", ins: [this.lddwImm(this.setScalarDst(st))] }]],
      [c.depth < 3 ? 12 : 0, () => this.ifBlock(st)],
      [6, () => this.stackStore(st)],
      [5, () => this.stackLoad(st)],
      [4, () => this.stackAtomic(st)],
      [mvRegs.length > 0 ? 10 : 0, () => this.mvOp(st, this.rng.pick(mvRegs))],
      [pktRegs.length > 0 ? 8 : 0, () => this.pktOp(st, this.rng.pick(pktRegs))],
      [calls ? 4 : 0, () => this.lookup(st)],
      [calls ? 2 : 0, () => this.update(st)],
      [calls ? 1 : 0, () => this.del(st)],
      [ctxOk ? 1 : 0, () => this.ctxLoad(st)],
      [2, () => this.mapValueLddw(st)],
      [ctxOk && c.depth < 3 ? 3 : 0, () => this.packet(st)],
      [calls && ctxOk && c.callees.length > 0 ? 5 : 0, () => this.callSub(st)],
      [calls && ctxOk ? 3 : 0, () => this.tailCall(st)],
      [calls && c.depth < 2 ? 2 : 0, () => this.loop(st)],
      [calls && ctxOk && extra ? 2 : 0, () => this.xdpAdjust(st)],
      [calls && extra ? 1 : 0, () => this.csumDiff(st)],
      [calls && ctxOk && extra ? 2 : 0, () => this.xdpBytes(st)],
      [calls && c.callbacks.length > 0 ? 3 : 0, () => this.bpfLoop(st)],
    ];
    const i = this.rng.weighted(choices.map((x) => x[0]));
    return choices[i][1]();
  }

  /** A writable destination that becomes a scalar. */
  setScalarDst(st: State): number {
    const r = this.dstReg();
    st.regs[r] = S;
    return r;
  }

  /** One to four ALU instructions. */
  aluRun(st: State): Node[] {
    const ins: Ins[] = [];
    for (let n = this.rng.range(1, 4); n > 0; n--) {
      for (const node of this.alu(st)) if (node.t === "ins") ins.push(...node.ins);
    }
    return [{ t: "ins", ins }];
  }

  alu(st: State): Node[] {
    const r = this.rng;
    const out: Ins[] = [];
    const is64 = r.chance(0.6);
    const cls = is64 ? ALU64 : ALU;
    const bits = is64 ? 64 : 32;
    const form = r.weighted([10, 8, 1, 2, 2]);
    if (form === 0 || form === 1) {
      const op = r.pick(BINARY);
      const signed = (op === OPS.div || op === OPS.mod) && r.chance(0.5);
      let dst: number;
      if (op === OPS.mov) dst = this.dstReg();
      else dst = this.scalar(st, out, true);
      if (form === 0) {
        let imm = this.imm();
        if (op === OPS.div || op === OPS.mod) imm = this.nonzeroImm();
        if (op === OPS.lsh || op === OPS.rsh || op === OPS.arsh) imm = r.int(bits);
        out.push(I(cls | K | op, dst, 0, signed ? 1 : 0, imm));
        if (op === OPS.mov && is64) {
          st.regs[dst] = { k: "s", v: imm };
          return [{ t: "ins", ins: out }];
        }
      } else {
        const src = this.scalar(st, out);
        out.push(I(cls | X | op, dst, src, signed ? 1 : 0, 0));
      }
      st.regs[dst] = S;
    } else if (form === 2) {
      const dst = this.scalar(st, out, true);
      out.push(I(cls | OPS.neg, dst));
    } else if (form === 3) {
      // movsx (cpu v4): 64-bit from 8/16/32 bits, 32-bit from 8/16 bits
      const src = this.scalar(st, out);
      const dst = this.dstReg();
      out.push(I(cls | X | OPS.mov, dst, src, is64 ? r.pick([8, 16, 32]) : r.pick([8, 16])));
      st.regs[dst] = S;
    } else {
      // le/be (class ALU) or bswap (class ALU64, cpu v4)
      const dst = this.scalar(st, out, true);
      const code = is64 ? ALU64 | OPS.end : ALU | OPS.end | (r.chance(0.5) ? X : K);
      out.push(I(code, dst, 0, 0, r.pick([16, 32, 64])));
    }
    if (r.chance(0.25)) out.push(I(stx(8), 9, out[out.length - 1].dst, this.nextSlot()));
    return [{ t: "ins", ins: out }];
  }

  cond(st: State, pre: Ins[]): Ins {
    const r = this.rng;
    const cls = r.chance(0.6) ? JMP : JMP32;
    const op = r.pick(CONDS);
    const knownRegs = POOL.filter((x) => {
      const k = st.regs[x];
      return k.k === "s" && k.v !== undefined;
    });
    const dst = knownRegs.length > 0 && r.chance(0.5) ? r.pick(knownRegs) : this.scalar(st, pre);
    const known = st.regs[dst];
    if (r.chance(0.5)) {
      // against its own value, or one off, now and then: the edges of every comparison
      let imm = this.imm();
      if (known.k === "s" && known.v !== undefined && r.chance(0.6)) {
        imm = (known.v + r.pick([0, 0, -1, 1])) | 0;
      }
      return I(cls | K | op, dst, 0, 0, imm);
    }
    const src = r.chance(0.15) ? dst : this.scalar(st, pre);
    return I(cls | X | op, dst, src);
  }

  ifBlock(st: State): Node[] {
    const r = this.rng;
    const pre: Ins[] = [];
    const cond = this.cond(st, pre);
    this.ctx.depth++;
    const a = cloneState(st);
    const then = this.block(a, r.range(1, 4));
    let merged: State;
    let els: Node[] | undefined;
    if (r.chance(0.35)) {
      const b = cloneState(st);
      els = this.block(b, r.range(1, 3));
      merged = meetState(a, b);
    } else {
      merged = meetState(a, st);
    }
    this.ctx.depth--;
    st.regs = merged.regs;
    st.stack = merged.stack;
    const node: Node = { t: "if", cond, then };
    if (els !== undefined) {
      node.else = els;
      node.long = r.chance(0.4);
    }
    return pre.length > 0 ? [{ t: "ins", ins: pre }, node] : [node];
  }

  stackStore(st: State): Node[] {
    const r = this.rng;
    const n = r.pick([1, 2, 4, 8]);
    const F = this.ctx.frame;
    const off = -n * r.range(1, Math.floor(F / n)); // the verifier wants aligned stack accesses
    const out: Ins[] = [];
    if (r.chance(0.4)) out.push(I(stImm(n), 10, 0, off, this.imm()));
    else out.push(I(stx(n), 10, this.scalar(st, out), off));
    this.markStack(st, off, n);
    return [{ t: "ins", ins: out }];
  }

  stackLoad(st: State): Node[] {
    const r = this.rng;
    const n = r.pick([1, 2, 4, 8]);
    const off = this.initRange(st, n);
    if (off === undefined) return this.stackStore(st);
    const dst = this.dstReg();
    const code = n < 8 && r.chance(0.35) ? ldsx(n) : ldx(n);
    st.regs[dst] = S;
    return [{ t: "ins", ins: [I(code, dst, 10, off)] }];
  }

  /** An atomic on [base + off]; src and r0 (cmpxchg) prepared as needed. */
  atomic(st: State, base: number, off: number, n: number, out: Ins[]): void {
    const r = this.rng;
    let op = r.pick(ATOMIC_OPS);
    if (op === CMPXCHG && (this.ctx.reserved.has(0) || base === 0)) op = 0x01; // fetch add
    if (op === CMPXCHG && (st.regs[0].k !== "s" || r.chance(0.3))) {
      out.push(movImm(0, this.imm()));
      st.regs[0] = S;
    }
    const fetch = (op & 1) !== 0;
    const src = this.scalar(st, out, fetch, [base]);
    out.push(I(0xc3 | SIZE[n], base, src, off, op));
    if (op === CMPXCHG) st.regs[0] = S;
    else if (fetch) st.regs[src] = S;
  }

  stackAtomic(st: State): Node[] {
    const n = this.rng.pick([4, 8]);
    const off = this.initRange(st, n);
    if (off === undefined) return this.stackStore(st);
    const out: Ins[] = [];
    this.atomic(st, 10, off, n, out);
    const last = out[out.length - 1];
    if (!this.opts.kernelBugs && (last.imm & 1) !== 0) {
      // Linux 6.18's precision tracking does not follow a fetch from a spilled stack slot, so
      // it may prune a path it should not and hard-wire a branch (see the kernel-bug fixture
      // in regressions/): a byte store first turns the slot from a spill into plain bytes
      out.splice(out.length - 1, 0, I(stImm(1), 10, 0, off + this.rng.int(n), this.imm()));
    }
    return [{ t: "ins", ins: out }];
  }

  /** A load, store or atomic through map value pointer `p`, at a constant or variable offset. */
  mvOp(st: State, p: number): Node[] {
    const r = this.rng;
    const k = st.regs[p];
    if (k.k !== "mv") return [];
    const size = k.size;
    const out: Ins[] = [];
    let base = p;
    let room = size;
    let varSpan = 0;
    if (r.chance(0.2) && size >= 16 && k.map !== STACK_ARG) {
      // base = p + (scalar & mask): a variable offset the verifier bounds by the mask
      const masks = [0x7, 0x8, 0x18, 0x38, 0xf8, 0x1f8].filter((m) => m + 8 <= size);
      const mask = r.pick(masks);
      const t = this.scalar(st, out, false, [p]);
      const q = this.dstReg([p, t]);
      const u = this.dstReg([p, q]);
      out.push(mov64(u, t), I(ALU64 | K | OPS.and, u, 0, 0, mask), mov64(q, p));
      out.push(I(ALU64 | X | OPS.add, q, u));
      st.regs[u] = S;
      st.regs[q] = U;
      base = q;
      varSpan = mask;
      room = size - mask;
    }
    const what = r.weighted([4, 4, 3]);
    if (what === 2 && (varSpan & 7) === 0) {
      const n = r.pick([4, 8].filter((x) => x <= room));
      const off = r.int(Math.floor((room - n) / n) + 1) * n;
      this.atomic(st, base, off, n, out);
      const last = out[out.length - 1];
      if (k.map === STACK_ARG && !this.opts.kernelBugs && (last.imm & 1) !== 0) {
        // the caller's stack: the same precision issue as in stackAtomic
        out.splice(out.length - 1, 0, I(stImm(1), base, 0, off + r.int(n), this.imm()));
      }
      return [{ t: "ins", ins: out }];
    }
    const n = r.pick([1, 2, 4, 8].filter((x) => x <= room));
    let off = r.int(room - n + 1);
    if (r.chance(0.7) || k.map === STACK_ARG) off -= off % n; // stack: aligned only
    if (what === 0) {
      const dst = this.dstReg();
      out.push(I(n < 8 && r.chance(0.35) ? ldsx(n) : ldx(n), dst, base, off));
      st.regs[dst] = S;
    } else if (r.chance(0.3)) {
      out.push(I(stImm(n), base, 0, off, this.imm()));
    } else {
      out.push(I(stx(n), base, this.scalar(st, out, false, [base]), off));
    }
    return [{ t: "ins", ins: out }];
  }

  pktOp(st: State, p: number): Node[] {
    const r = this.rng;
    const k = st.regs[p];
    if (k.k !== "pkt") return [];
    const sizes = [1, 2, 4, 8].filter((x) => x <= k.range);
    const n = r.pick(sizes);
    let off = r.int(k.range - n + 1);
    if (r.chance(0.5)) off -= off % n;
    const out: Ins[] = [];
    if (r.chance(0.55)) {
      const dst = this.dstReg();
      out.push(I(n < 8 && r.chance(0.35) ? ldsx(n) : ldx(n), dst, p, off));
      st.regs[dst] = S;
    } else if (r.chance(0.3)) {
      out.push(I(stImm(n), p, 0, off, this.imm()));
    } else {
      out.push(I(stx(n), p, this.scalar(st, out, false, [p]), off));
    }
    return [{ t: "ins", ins: out }];
  }

  /** `lddw rX, map_value(M) + off` (src_reg 2) on a single-value array map. */
  mapValueLddw(st: State): Node[] {
    const r = this.rng;
    const dst = this.dstReg();
    const arr = this.shape.arrMax === 1 && r.chance(0.5);
    const size = arr ? this.shape.arrValue : OUT_SIZE;
    const off = 8 * r.int(size / 8);
    st.regs[dst] = { k: "mv", size: size - off, map: arr ? MAP_ARR : MAP_OUT };
    return [{ t: "ins", ins: [lddw(dst, arr ? MAP_ARR : MAP_OUT, off, 2)] }];
  }

  ctxLoad(st: State): Node[] {
    const dst = this.dstReg();
    st.regs[dst] = S;
    return [{ t: "ins", ins: [I(ldx(4), dst, 6, this.rng.pick([12, 16]))] }];
  }

  /** Writes a map key at r10+off: a small constant, or a masked scalar. */
  key(st: State, out: Ins[], off: number, n: number, max: number): void {
    const r = this.rng;
    if (r.chance(0.6)) {
      out.push(I(stImm(n), 10, 0, off, r.chance(0.9) ? r.int(max + 2) : this.imm()));
    } else {
      const s = this.scalar(st, out);
      const t = this.dstReg([]);
      out.push(mov64(t, s));
      if (r.chance(0.8)) out.push(I(ALU64 | K | OPS.and, t, 0, 0, 7));
      st.regs[t] = S;
      out.push(I(stx(n), 10, t, off));
    }
    this.markStack(st, off, n);
  }

  /** A map for the helpers: arr or hash (lookups also `out`). */
  helperMap(withOut: boolean): { idx: number; key: number; value: number; max: number } {
    const s = this.shape;
    const which = this.rng.weighted([4, 5, withOut ? 1 : 0, ...s.extra.map(() => 3)]);
    if (which === 0) return { idx: MAP_ARR, key: 4, value: s.arrValue, max: s.arrMax };
    if (which === 1) return { idx: MAP_HASH, key: s.hashKey, value: s.hashValue, max: s.hashMax };
    if (which === 2) return { idx: MAP_OUT, key: 4, value: OUT_SIZE, max: 1 };
    return s.extra[which - 3];
  }

  keyOff(n: number): number {
    return -n * this.rng.range(1, Math.floor(this.ctx.frame / n));
  }

  afterHelper(st: State): void {
    for (let i = 1; i <= 5; i++) st.regs[i] = U;
  }

  /**
   * After an update or delete in map `map`, pointers to its values may point to an element the
   * map no longer holds (the kernel's hash map links a new element on update and recycles
   * deleted ones): unless asked to explore that, they are forgotten.
   */
  afterChange(st: State, map: number): void {
    // array maps update in place (and cannot delete): their pointers stay good
    const hashLike = map === MAP_HASH || this.shape.extra.some((e) => e.idx === map && e.hashLike);
    if (this.opts.stalePointers || !hashLike) return;
    st.regs = st.regs.map((k) => (k.k === "mv" && k.map === map ? U : k));
  }

  lookup(st: State): Node[] {
    const m = this.helperMap(true);
    const out: Ins[] = [];
    const koff = this.keyOff(m.key);
    this.key(st, out, koff, m.key, m.max);
    out.push(lddw(1, m.idx, 0, 1), mov64(2, 10), I(ALU64 | K | OPS.add, 2, 0, 0, koff));
    out.push(callHelper(BPF_FUNC_map_lookup_elem));
    this.afterHelper(st);
    const body = cloneState(st);
    body.regs[0] = { k: "mv", size: m.value, map: m.idx };
    this.ctx.depth++;
    const then: Node[] = [];
    let n = this.rng.range(1, 4);
    const keep = this.dstReg([0]);
    if (keep >= 6 && this.rng.chance(0.35)) {
      // keep the pointer in a callee-saved register: it outlives helper calls
      then.push({ t: "ins", ins: [mov64(keep, 0)] });
      body.regs[keep] = body.regs[0];
      n += 2;
      if (this.opts.stalePointers && m.idx !== MAP_OUT && this.rng.chance(0.6)) {
        // update or delete the very entry, then go on using the pointer
        then.push(...this.mvOp(body, keep));
        then.push({ t: "ins", ins: this.changeSameKey(body, m, koff) });
        then.push(...this.mvOp(body, keep), ...this.mvOp(body, keep));
      }
    }
    then.push(...this.block(body, n));
    this.ctx.depth--;
    const after = meetState(body, { ...st, regs: st.regs.map((k, i) => (i === 0 ? U : k)) });
    st.regs = after.regs;
    st.stack = after.stack;
    return [
      { t: "ins", ins: out },
      { t: "if", cond: I(JMP | K | 0x10, 0, 0, 0, 0), then },
    ];
  }

  update(st: State): Node[] {
    const r = this.rng;
    const m = this.helperMap(false);
    const out: Ins[] = [];
    const F = this.ctx.frame;
    const voff = -8 * r.range(m.value / 8 + 1, F / 8);
    const kslots = Math.floor(-(voff + m.value) / m.key);
    const koff = voff + m.value + m.key * r.int(kslots);
    this.key(st, out, koff, m.key, m.max);
    for (let i = 0; i < m.value; i += 8) {
      if (r.chance(0.5)) out.push(I(stImm(8), 10, 0, voff + i, this.imm()));
      else out.push(I(stx(8), 10, this.scalar(st, out), voff + i));
    }
    this.markStack(st, voff, m.value);
    out.push(lddw(1, m.idx, 0, 1), mov64(2, 10), I(ALU64 | K | OPS.add, 2, 0, 0, koff));
    out.push(mov64(3, 10), I(ALU64 | K | OPS.add, 3, 0, 0, voff));
    out.push(movImm(4, r.chance(0.9) ? r.pick([0, 0, 1, 2]) : r.pick([3, 4, 8, -1])));
    out.push(callHelper(BPF_FUNC_map_update_elem));
    this.afterHelper(st);
    this.afterChange(st, m.idx);
    st.regs[0] = S;
    return [{ t: "ins", ins: out }];
  }

  /** An update or delete of the entry of map `m` whose key is at r10+koff. */
  changeSameKey(st: State, m: { idx: number; key: number; value: number }, koff: number): Ins[] {
    const r = this.rng;
    const out: Ins[] = [];
    const F = this.ctx.frame;
    const voff = -8 * r.range(m.value / 8 + 1, F / 8);
    const overlap = voff < koff + m.key && koff < voff + m.value;
    if (r.chance(0.6) && !overlap) {
      for (let i = 0; i < m.value; i += 8) out.push(I(stImm(8), 10, 0, voff + i, this.imm()));
      this.markStack(st, voff, m.value);
      out.push(lddw(1, m.idx, 0, 1), mov64(2, 10), I(ALU64 | K | OPS.add, 2, 0, 0, koff));
      out.push(mov64(3, 10), I(ALU64 | K | OPS.add, 3, 0, 0, voff), movImm(4, r.pick([0, 2])));
      out.push(callHelper(BPF_FUNC_map_update_elem));
    } else {
      out.push(lddw(1, m.idx, 0, 1), mov64(2, 10), I(ALU64 | K | OPS.add, 2, 0, 0, koff));
      out.push(callHelper(BPF_FUNC_map_delete_elem));
    }
    this.afterHelper(st);
    this.afterChange(st, m.idx);
    st.regs[0] = S;
    return out;
  }

  del(st: State): Node[] {
    const m = this.helperMap(false);
    const out: Ins[] = [];
    const koff = this.keyOff(m.key);
    this.key(st, out, koff, m.key, m.max);
    out.push(lddw(1, m.idx, 0, 1), mov64(2, 10), I(ALU64 | K | OPS.add, 2, 0, 0, koff));
    out.push(callHelper(BPF_FUNC_map_delete_elem));
    this.afterHelper(st);
    this.afterChange(st, m.idx);
    st.regs[0] = S;
    return [{ t: "ins", ins: out }];
  }

  /** data/data_end from the context, a bounds check, then accesses in the checked range. */
  packet(st: State): Node[] {
    const r = this.rng;
    const a = this.dstReg([]);
    const b = this.dstReg([a]);
    const c = this.dstReg([a, b]);
    const n = r.chance(0.8) ? r.range(1, 40) : r.range(41, 100);
    const out: Ins[] = [I(ldx(4), a, 6, 0), I(ldx(4), b, 6, 4), mov64(c, a)];
    out.push(I(ALU64 | K | OPS.add, c, 0, 0, n));
    const cond = r.chance(0.5) ? I(JMP | X | 0x20, c, b) : I(JMP | X | 0xa0, b, c); // skip if c > b
    st.regs[a] = { k: "pkt", range: 0 };
    st.regs[b] = U;
    st.regs[c] = U;
    const body = cloneState(st);
    body.regs[a] = { k: "pkt", range: n };
    this.ctx.depth++;
    const then = this.block(body, r.range(1, 5));
    this.ctx.depth--;
    const after = meetState(body, st);
    st.regs = after.regs;
    st.stack = after.stack;
    return [
      { t: "ins", ins: out },
      { t: "if", cond, then },
    ];
  }

  /** Moves the packet's start, metadata start or end: bpf_xdp_adjust_head/meta/tail. */
  xdpAdjust(st: State): Node[] {
    const r = this.rng;
    const which = r.weighted([4, 2, 3]);
    let id: number;
    let delta: number;
    if (which === 0) {
      id = BPF_FUNC_xdp_adjust_head;
      delta = r.chance(0.7) ? r.range(-40, 40) : r.pick([-216, -217, -256, 64, 100, 1000]);
    } else if (which === 1) {
      id = BPF_FUNC_xdp_adjust_meta;
      delta = r.chance(0.7) ? -4 * r.range(0, 12) : r.pick([-3, 4, 8, -216, -220, -1]);
    } else {
      id = BPF_FUNC_xdp_adjust_tail;
      delta = r.chance(0.7) ? r.range(-40, 40) : r.pick([-100, 3400, 3456, 3500, -1000]);
    }
    const out: Ins[] = [];
    if (r.chance(0.8)) out.push(movImm(2, delta));
    else out.push(mov64(2, this.scalar(st, out)));
    out.push(mov64(1, 6), callHelper(id));
    this.afterHelper(st);
    st.regs[0] = S;
    this.dropPkt(st);
    return [{ t: "ins", ins: out }];
  }

  /**
   * An 8-byte-aligned stack buffer of `len` bytes (rounded up to 8), written where it was not
   * yet, so a helper may read it; returns its offset from r10.
   */
  stackBuf(st: State, out: Ins[], len: number): number {
    const F = this.ctx.frame;
    const n = Math.max(8, Math.ceil(len / 8) * 8);
    const off = -8 * this.rng.range(n / 8, F / 8);
    for (let o = off; o < off + n; o += 8) {
      const base = F + o;
      if (!st.stack.subarray(base, base + 8).every((b) => b === 1)) {
        out.push(I(stImm(8), 10, 0, o, this.imm()));
      }
    }
    this.markStack(st, off, n);
    return off;
  }

  /** bpf_csum_diff(from, from_size, to, to_size, seed) on stack or `out` bytes. */
  csumDiff(st: State): Node[] {
    const r = this.rng;
    const out: Ins[] = [];
    const sizes = [0, 4, 8, 12, 16, 20, 24, 32, 40, 48];
    const fs = r.chance(0.95) ? r.pick(sizes) : r.pick([2, 3, 6]);
    const ts = r.pick(sizes);
    const buf = (reg: number, size: number) => {
      if (size === 0 && r.chance(0.5)) return [movImm(reg, 0)];
      if (r.chance(0.3)) {
        return [mov64(reg, 9), I(ALU64 | K | OPS.add, reg, 0, 0, 4 * r.int((OUT_SIZE - 48) / 4))];
      }
      const off = this.stackBuf(st, out, Math.min(size, this.ctx.frame));
      return [mov64(reg, 10), I(ALU64 | K | OPS.add, reg, 0, 0, off)];
    };
    if (fs > this.ctx.frame || ts > this.ctx.frame) return [];
    const seed = r.chance(0.5) ? movImm(5, this.imm()) : mov64(5, this.scalar(st, out));
    const from = buf(1, fs);
    const to = buf(3, ts);
    out.push(seed, ...from, movImm(2, fs), ...to, movImm(4, ts), callHelper(BPF_FUNC_csum_diff));
    this.afterHelper(st);
    st.regs[0] = S;
    return [{ t: "ins", ins: out }];
  }

  /** bpf_xdp_load_bytes / bpf_xdp_store_bytes(ctx, offset, stack buffer, len). */
  xdpBytes(st: State): Node[] {
    const r = this.rng;
    const out: Ins[] = [];
    const len = r.chance(0.9) ? r.range(1, 32) : r.pick([0, 40, 64]);
    if (len === 0 || len > this.ctx.frame) return [];
    const off = this.stackBuf(st, out, len);
    if (r.chance(0.7))
      out.push(movImm(2, r.chance(0.8) ? r.range(0, 64) : r.pick([-1, 100, 4000])));
    else {
      out.push(mov64(2, this.scalar(st, out)));
      out.push(I(ALU64 | K | OPS.and, 2, 0, 0, 63));
    }
    out.push(mov64(1, 6), mov64(3, 10), I(ALU64 | K | OPS.add, 3, 0, 0, off), movImm(4, len));
    out.push(callHelper(r.chance(0.5) ? BPF_FUNC_xdp_load_bytes : BPF_FUNC_xdp_store_bytes));
    this.afterHelper(st);
    st.regs[0] = S;
    this.dropPkt(st);
    return [{ t: "ins", ins: out }];
  }

  /** bpf_loop(nr_loops, callback, ctx (16 stack bytes), flags): calls it nr_loops times. */
  bpfLoop(st: State): Node[] {
    const r = this.rng;
    const out: Ins[] = [];
    // Linux 6.18 may refuse bpf_loop with a constant 0 loops ("verifier bug: No program to
    // jit"): it never visits the callback, drops it as dead code, then misses it when it jits
    // the lddw of its address. So at least one loop, as far as the verifier knows.
    if (r.chance(0.8)) out.push(movImm(1, r.range(1, 8)));
    else {
      out.push(mov64(1, this.scalar(st, out)), I(ALU64 | K | OPS.and, 1, 0, 0, 7));
      out.push(I(ALU64 | K | OPS.or, 1, 0, 0, 1));
    }
    out.push({ ...lddw(2, 0, 0, 4), call: r.pick(this.ctx.callbacks) });
    const off = this.stackBuf(st, out, STACK_ARG_SIZE);
    out.push(mov64(3, 10), I(ALU64 | K | OPS.add, 3, 0, 0, off));
    out.push(movImm(4, 0), callHelper(BPF_FUNC_loop));
    this.afterHelper(st);
    st.regs[0] = S;
    this.dropPkt(st);
    return [{ t: "ins", ins: out }];
  }

  /** Packet pointers die at calls that may change the packet or tail-call. */
  dropPkt(st: State): void {
    st.regs = st.regs.map((k) => (k.k === "pkt" ? U : k));
  }

  callSub(st: State): Node[] {
    const r = this.rng;
    const callee = r.pick(this.ctx.callees);
    const out: Ins[] = [];
    callee.args.forEach((kind, i) => {
      const a = 3 + i;
      if (kind === "fp") {
        const off = this.stackBuf(st, out, STACK_ARG_SIZE);
        out.push(mov64(a, 10), I(ALU64 | K | OPS.add, a, 0, 0, off));
        st.regs[a] = U;
        return;
      }
      const s = this.scalars(st).filter((x) => x !== a && x !== 3 && x !== 4 && x !== 5);
      if (s.length > 0 && r.chance(0.7)) out.push(mov64(a, r.pick(s)));
      else out.push(movImm(a, this.imm()));
      st.regs[a] = S;
    });
    out.push(mov64(1, 6), mov64(2, 9), { ...I(0x85, 0, 1), call: callee.name });
    this.afterHelper(st);
    st.regs[0] = S;
    this.dropPkt(st);
    return [{ t: "ins", ins: out }];
  }

  tailCall(st: State): Node[] {
    const r = this.rng;
    const out: Ins[] = [];
    const max = this.shape.jmpMax;
    const how = r.weighted([6, 1, 2]);
    if (how === 0) {
      out.push(movImm(3, r.chance(0.85) ? r.int(max + 1) : r.pick([max + 5, -1, 0x7fffffff])));
    } else if (how === 1) {
      out.push(lddw(3, r.int(max + 1), r.pick([1, -1, 0x100])));
    } else {
      const s = this.scalar(st, out);
      out.push(I(r.chance(0.5) ? ALU64 | X | OPS.mov : ALU | X | OPS.mov, 3, s));
      if (r.chance(0.7)) out.push(I(ALU64 | K | OPS.and, 3, 0, 0, 7));
    }
    out.push(mov64(1, 6), lddw(2, MAP_JMP, 0, 1), callHelper(BPF_FUNC_tail_call));
    st.regs[0] = U;
    this.afterHelper(st);
    this.dropPkt(st);
    return [{ t: "ins", ins: out }];
  }

  loop(st: State): Node[] {
    const r = this.rng;
    const reg = this.dstReg([]);
    const body = cloneState(st);
    body.regs[reg] = S;
    this.ctx.reserved.add(reg);
    this.ctx.noCalls = true;
    this.ctx.depth++;
    const nodes = this.block(body, r.range(1, 3));
    this.ctx.depth--;
    this.ctx.noCalls = false;
    this.ctx.reserved.delete(reg);
    // a second iteration starts from the state the first left: it must not have lost anything
    const start = cloneState(st);
    start.regs[reg] = S;
    const lost = start.regs.some(
      (k, i) =>
        k.k !== "u" && !(k.k === "s" && body.regs[i].k === "s") && !sameKind(k, body.regs[i]),
    );
    // a value known on entry is not known in later iterations
    body.regs = body.regs.map((k) => (k.k === "s" ? S : k));
    if (lost || blockSize(nodes) > 200) return this.alu(st);
    st.regs = body.regs;
    st.stack = body.stack;
    return [{ t: "loop", reg, n: r.range(1, 6), body: nodes }];
  }

  /** Stores every scalar into `out`, puts a scalar in r0, exits. */
  epilogue(st: State): Node[] {
    const r = this.rng;
    const out: Ins[] = [];
    for (const reg of POOL) {
      if (st.regs[reg].k === "s") out.push(I(stx(8), 9, reg, this.nextSlot()));
    }
    if (st.regs[0].k !== "s" || r.chance(0.3)) {
      const s = this.scalars(st).filter((x) => x !== 0);
      out.push(s.length > 0 && r.chance(0.7) ? mov64(0, r.pick(s)) : movImm(0, this.imm()));
    }
    // a bpf_loop callback returns 0 (go on) or 1 (stop), which the verifier checks
    if (this.ctx.callback) out.push(I(ALU64 | K | OPS.and, 0, 0, 0, r.chance(0.7) ? 1 : 0));
    out.push(I(EXIT));
    return [{ t: "ins", ins: out }];
  }

  // ---- functions, programs, cases ----

  fn(
    name: string,
    kind: "main" | "sub" | "callback",
    args: Arg[],
    callees: Callee[],
    callbacks: string[],
    stmts: number,
    frame: number,
  ): Fn {
    const isMain = kind === "main";
    this.ctx = {
      frame,
      callees,
      reserved: new Set(),
      depth: 0,
      noCalls: false,
      callbacks,
      callback: kind === "callback",
    };
    const st: State = { regs: new Array<Kind>(11).fill(U), stack: new Uint8Array(frame) };
    let prologue: Ins[];
    if (isMain) {
      prologue = [
        mov64(6, 1),
        I(stImm(4), 10, 0, -4, 0),
        lddw(1, MAP_OUT, 0, 1),
        mov64(2, 10),
        I(ALU64 | K | OPS.add, 2, 0, 0, -4),
        callHelper(BPF_FUNC_map_lookup_elem),
        I(JMP | K | 0x50, 0, 0, 2, 0), // if r0 != 0 goto +2
        movImm(0, 0),
        I(EXIT),
        mov64(9, 0),
      ];
      this.markStack(st, -4, 4);
      st.regs[0] = OUT_PTR;
    } else if (kind === "callback") {
      // long cb(u64 index, void *ctx): ctx is 16 bytes of the caller's stack; `out` comes from
      // an lddw of its value (src_reg 2)
      prologue = [lddw(9, MAP_OUT, 0, 2)];
      st.regs[1] = S;
      st.regs[2] = { k: "mv", size: STACK_ARG_SIZE, map: STACK_ARG };
    } else {
      prologue = [mov64(6, 1), mov64(9, 2)];
      st.regs[2] = OUT_PTR;
      args.forEach((kind, i) => {
        st.regs[3 + i] = kind === "s" ? S : { k: "mv", size: STACK_ARG_SIZE, map: STACK_ARG };
      });
    }
    if (kind !== "callback") st.regs[6] = { k: "ctx" };
    st.regs[9] = OUT_PTR;
    const body: Node[] = [{ t: "ins", ins: prologue, fixed: true }];
    if (isMain && this.rng.chance(0.5)) {
      // count the runs (tail calls run programs again: the budget shows in the count)
      body.push({ t: "ins", ins: [movImm(1, 1), I(0xdb, 9, 1, this.nextSlot(), 0x00)] });
      st.regs[1] = { k: "s", v: 1 };
    }
    body.push(...this.block(st, stmts));
    body.push(...this.epilogue(st));
    return { name, body };
  }

  prog(name: string, mainStmts: number): Prog {
    const r = this.rng;
    const nsubs = r.chance(0.5) ? r.range(1, 3) : 0;
    const subs: Callee[] = Array.from({ length: nsubs }, (_, j) => ({
      name: `${name}_s${j + 1}`,
      args: Array.from({ length: r.range(0, 3) }, (): Arg => (r.chance(0.25) ? "fp" : "s")),
    }));
    // a subprogram that tail-calls needs the frames above it under 256 bytes; without
    // subprograms or callbacks the main function may use the whole 512
    const cbs = r.chance(0.25) ? [`${name}_cb`] : [];
    const frame =
      nsubs === 0 && cbs.length === 0 ? r.pick([MAIN_FRAME, MAIN_FRAME, 256, 512]) : MAIN_FRAME;
    const fns: Fn[] = [this.fn(name, "main", [], subs, cbs, mainStmts, frame)];
    subs.forEach((s, j) => {
      const stmts = r.range(1, 8);
      fns.push(this.fn(s.name, "sub", s.args, subs.slice(j + 1), cbs, stmts, SUB_FRAME));
    });
    for (const cb of cbs) fns.push(this.fn(cb, "callback", [], [], [], r.range(1, 6), SUB_FRAME));
    return { name, fns: reachableFns(fns) };
  }
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** Generates the case of `seed`. The same seed always gives the same case. */
export function generateCase(seed: string, opts: GenOptions = {}): FuzzCase {
  const r = new Rng(seed);
  const shape: CaseShape = {
    extra: [],
    arrValue: r.pick([8, 16, 24, 32]),
    arrMax: r.range(1, 8),
    hashKey: r.pick([4, 8]),
    hashValue: r.pick([8, 16]),
    hashMax: r.range(1, 6),
    jmpMax: r.range(1, 6),
  };
  const extraDefs: [string, number, boolean, boolean][] = [];
  if (opts.perCpuMaps) extraDefs.push(["parr", 6, false, true], ["phash", 5, true, true]);
  if (opts.lru) extraDefs.push(["lru", 9, true, false]);
  extraDefs.forEach(([name, type, hashLike, perCpu], i) => {
    shape.extra.push({
      idx: MAP_JMP + 1 + i,
      name,
      type,
      key: 4,
      value: r.pick([8, 16]),
      max: r.range(1, 4),
      hashLike,
      perCpu,
    });
  });
  const g = new Gen(r, shape, opts);
  const maxProgs = opts.maxProgs ?? 4;
  const nprogs = r.chance(0.5) ? r.range(2, maxProgs) : 1;
  const [lo, hi] = opts.mainStmts ?? [4, 24];
  const progs: Prog[] = [];
  for (let i = 0; i < nprogs; i++)
    progs.push(g.prog(`p${i}`, r.range(lo, i === 0 ? hi : (lo + hi) >> 1)));
  const slots: FuzzCase["slots"] = [];
  for (let i = 0; i < shape.jmpMax; i++) {
    if (r.chance(nprogs > 1 ? 0.7 : 0.5))
      slots.push({ map: MAP_JMP, index: i, prog: r.int(nprogs) });
  }
  const updates: FuzzCase["updates"] = [];
  const keyHex = (k: number, n: number) => {
    const b = new Uint8Array(n);
    new DataView(b.buffer).setUint32(0, k, true);
    return hex(b);
  };
  const used = new Set<number>();
  for (let i = r.int(Math.min(3, shape.hashMax) + 1); i > 0; i--) {
    const k = r.int(6);
    if (used.has(k)) continue;
    used.add(k);
    updates.push({
      map: MAP_HASH,
      key: keyHex(k, shape.hashKey),
      value: hex(r.bytes(shape.hashValue)),
    });
  }
  for (let i = r.int(3); i > 0; i--) {
    updates.push({
      map: MAP_ARR,
      key: keyHex(r.int(shape.arrMax), 4),
      value: hex(r.bytes(shape.arrValue)),
    });
  }
  const numCpus = opts.numCpus ?? 1;
  for (const e of shape.extra) {
    const keys = new Set<number>();
    for (let i = r.int(3); i > 0 && keys.size < e.max; i--) {
      const k = r.int(e.max + (e.hashLike ? 2 : 0));
      if (keys.has(k)) continue;
      keys.add(k);
      // the host writes every possible CPU's value (each padded to 8 bytes; ours are 8 or 16)
      updates.push({
        map: e.idx,
        key: keyHex(k, 4),
        value: hex(r.bytes(e.value * (e.perCpu ? numCpus : 1))),
      });
    }
  }
  const dataLen = r.chance(0.8) ? r.range(14, 64) : r.range(65, 200);
  const data = r.chance(0.15) ? new Uint8Array(dataLen) : r.bytes(dataLen);
  let ctx: string | undefined;
  if (r.chance(0.1)) {
    // struct xdp_md in: data = bytes of metadata in front, data_end = the input's size
    const md = new DataView(new ArrayBuffer(24));
    md.setUint32(0, 4 * r.int(Math.min(8, Math.floor((dataLen - 14) / 4)) + 1), true);
    md.setUint32(4, dataLen, true);
    // ingress_ifindex: loopback (with 0, Linux reads 1 but copies the 0 back to ctx_out: see
    // the xdp-ctx-ingress fixture in regressions/; tsbpf reports 1)
    md.setUint32(12, 1, true);
    ctx = hex(new Uint8Array(md.buffer));
  }
  return {
    seed,
    maps: [
      { name: "out", type: 2, key_size: 4, value_size: OUT_SIZE, max_entries: 1 },
      { name: "arr", type: 2, key_size: 4, value_size: shape.arrValue, max_entries: shape.arrMax },
      {
        name: "hash",
        type: 1,
        key_size: shape.hashKey,
        value_size: shape.hashValue,
        max_entries: shape.hashMax,
        flags: r.chance(0.3) ? 1 : 0, // BPF_F_NO_PREALLOC
      },
      { name: "jmp", type: 3, key_size: 4, value_size: 4, max_entries: shape.jmpMax },
      ...shape.extra.map((e) => ({
        name: e.name,
        type: e.type,
        key_size: e.key,
        value_size: e.value,
        max_entries: e.max,
      })),
    ],
    ...(opts.numCpus !== undefined ? { numCpus: opts.numCpus } : {}),
    progs,
    slots,
    updates,
    data: hex(data),
    ...(ctx !== undefined ? { ctx } : {}),
    // repeat > 1 costs the kernel ~25 ms a run (it swaps the XDP dispatcher): keep it rare
    repeat: r.weighted([97, 2, 1]) + 1,
  };
}
