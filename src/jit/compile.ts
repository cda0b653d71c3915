/**
 * Compiles one eBPF program (an ExecProgram's instructions) to one WebAssembly module: one Wasm
 * function per eBPF function entry, sharing the machine's memory and function table. See
 * `abi.ts` for the contract with the runtime.
 */
import type { DecodedProgram } from "../isa/decode.js";
import { OP_LDDW, inFrame } from "../isa/opcodes.js";
import { MAX_RUN_FRAMES } from "../limits.js";
import { FUNC_ADDR_BASE } from "../memory/layout.js";
import { IMPORTS, SIG_PARAMS, SIG_RESULTS, Scratch } from "./abi.js";
import { Term, buildCfg, type Cfg } from "./cfg.js";
import { BudgetPlan, observable, type Checkpoint } from "./budget.js";
import {
  emitCharge,
  loadBudget,
  type ArrayLookup,
  type ArrayTarget,
  type FnCtx,
  type HashLookup,
  type HashTarget,
  type TailMap,
} from "./ctx.js";
import { isCall, isSupported, lowerCond, lowerInsn } from "./lower.js";
import {
  CHECK_PARAMS,
  CHECK_RESULTS,
  checkFunction,
  type Cache,
  type WalkLocals,
} from "./memcheck.js";
import { checkedAccess, planAccessGroups, type AccessGroup } from "./groups.js";
import {
  frameOffsetAt,
  functionBoundaries,
  lastWrite,
  mapAt,
  r3IndexAt,
  staticEntries,
} from "./scan.js";
import { planRanges, type RangePlan } from "./ranges.js";
import { planMapValues, type MapValueTarget } from "./mapvals.js";
import {
  dominates,
  emitExitCharge,
  emitGuardCond,
  findCountedLoops,
  type LowerBound,
  type TripLocals,
} from "./loops.js";
import { BlockKind, versionCfg, type VersionedCfg } from "./version.js";
import { emitInRange, type Guard } from "./guards.js";
import { CacheSet } from "./cacheset.js";
import { emitDispatch, emitStructured, type BlockEmitter } from "./structure.js";
import { Bytes, I32, I64, ModuleBuilder, Op, VOID } from "./wasm.js";

const BPF_FUNC_tail_call = 12;

/** Options of {@link compileProgram}. */
export interface CompileOptions {
  /** r10 of the first frame. */
  stackTop: number;
  /** Frames a run may reach (`Machine.maxFrames`; default: MAX_RUN_FRAMES). */
  maxFrames?: number;
  /** Address of the runtime's scratch area. */
  scratch: number;
  /** Emit trace calls at bpf-to-bpf calls and exits. */
  traced: boolean;
  /** The program's id, for direct self tail calls (0: none). */
  progId?: number;
  /** Function starts known from symbols (optional). */
  funcStarts?: readonly number[];
  /** Extra entry points to compile (targets of `callx` found at run time). */
  extraEntries?: readonly number[];
  /**
   * Ids of the helpers that are tsbpf's own (not replaced by the embedder), which compiled code
   * may run without the `helper` import: map lookup/update/delete in the map core, `bpf_loop`
   * as a loop of direct calls (default none).
   */
  builtinHelpers?: ReadonlySet<number>;
  /**
   * The prog_array a map handle names, for tail calls made without leaving WebAssembly;
   * `index`: the slot a tail call uses, when constant (for {@link TailMap.holdsSelf}).
   */
  progArray?: (handle: number, index?: number) => TailMap | undefined;
  /** The array map (not per-CPU) a map handle names, for lookups made in line. */
  arrayMap?: (handle: number) => ArrayTarget | undefined;
  /** The hash or LRU map (not per-CPU) a map handle names, for lookups without its checks. */
  hashMap?: (handle: number) => HashTarget | undefined;
}

/** A compiled program: the module's bytes and the eBPF pc each export `f<i>` starts at. */
export interface CompiledProgram {
  bytes: Uint8Array<ArrayBuffer>;
  /** Entry pc of export `f<i>`; `entries[0]` is 0. */
  entries: number[];
  /** The budget checks, by the id the `budget` import gets. */
  checkpoints: Checkpoint[];
}

/** Compiles a program into a module. */
export function compileProgram(p: DecodedProgram, opts: CompileOptions): CompiledProgram {
  const entrySet = new Set(staticEntries(p));
  for (const e of opts.extraEntries ?? []) entrySet.add(e);
  const entries = [...entrySet].sort((a, b) => a - b);
  const bounds = functionBoundaries(p, [...entries, ...(opts.funcStarts ?? [])]);
  const mb = new ModuleBuilder();
  for (const [name, params, results] of IMPORTS) mb.importFunc("e", name, params, results);
  mb.importTable("e", "t");
  mb.importMemory("e", "m");
  const sig = mb.type(SIG_PARAMS, SIG_RESULTS);
  const check = mb.addFunc(checkFunction(mb.type(CHECK_PARAMS, CHECK_RESULTS), opts.stackTop));
  const funcOf = new Map<number, number>();
  const checkpoints: Checkpoint[] = [];
  const first = mb.nextFuncIndex();
  entries.forEach((e, i) => funcOf.set(e, first + i));
  // region of each entry: between the boundaries around it (both lists are sorted)
  let k = 0;
  entries.forEach((e, i) => {
    while (k + 1 < bounds.length && bounds[k + 1] <= e) k++;
    const start = bounds[k];
    const end = k + 1 < bounds.length ? bounds[k + 1] : p.length;
    const cfg = buildCfg(p, start, end, e);
    const newGlobal = (type: number, init: number) => mb.addGlobal(type, init);
    const fc = new FuncCompiler(p, cfg, opts, sig, check, funcOf, newGlobal, checkpoints);
    const index = mb.addFunc({ type: sig, locals: fc.locals, code: fc.compile() });
    mb.exportFunc(`f${i}`, index);
  });
  return { bytes: mb.build(), entries, checkpoints };
}

/** Fixed local indices (params first). */
const L = {
  R0: 7,
  R6: 8,
  R10: 12,
  LEFT: 13,
  TA: 14,
  TB: 15,
  TC: 16,
  STACKLO: 17,
  SPAN: 18,
  TI: 19,
  FPLO: 20,
  STATE: 21,
  WALK: 22, // six i32 temporaries
  TN: 28,
} as const;
const FIXED_LOCALS = [...new Array<number>(12).fill(I64), ...new Array<number>(10).fill(I32)];

/** Compiles one function (one entry of one region). */
class FuncCompiler implements FnCtx, BlockEmitter {
  readonly out = new Bytes(4096);
  readonly R = [L.R0, 0, 1, 2, 3, 4, L.R6, L.R6 + 1, L.R6 + 2, L.R6 + 3, L.R10];
  readonly DEPTH = 5;
  readonly BASE = 6;
  readonly LEFT = L.LEFT;
  readonly TA = L.TA;
  readonly TB = L.TB;
  readonly TC = L.TC;
  readonly TI = L.TI;
  readonly TN = L.TN;
  readonly FPLO = L.FPLO;
  readonly scratch: number;
  readonly traced: boolean;
  readonly progId: number;
  readonly maxFrames: number;
  readonly builtinHelpers: ReadonlySet<number>;
  readonly locals: number[] = [...FIXED_LOCALS];
  private readonly groupOf: Map<number, AccessGroup>;
  /** Whether stepping code is being emitted (see `stepping`). */
  private inStepping = false;
  /** The function's bounds-check caches and range-proof guards. */
  private readonly cs: CacheSet;
  readonly stackTop: number;
  private readonly progArray: CompileOptions["progArray"];
  private readonly arrayMap: CompileOptions["arrayMap"];
  private readonly hashMap: CompileOptions["hashMap"];
  private blockStart = 0;
  private block = 0;
  /** Constructs the structuring pass opened around the current block's body. */
  private nest = 0;
  private readonly hasSelfLoop: boolean;
  private readonly walkLocals: WalkLocals;
  private readonly plan: BudgetPlan;
  private readonly ranges: RangePlan;
  /** Accesses inside map values (mapvals.ts): never checked. */
  private readonly mapValues: Set<number>;

  /** The function's CFG with its counted loops and pivots versioned (version.ts): emitted. */
  private readonly cfg: Cfg;
  private readonly versions: VersionedCfg;
  /** i64 local: a counted loop's counter on entry (loops.ts). */
  private readonly x0: number;

  constructor(
    readonly p: DecodedProgram,
    private readonly source: Cfg,
    opts: CompileOptions,
    readonly sig: number,
    readonly check: number,
    private readonly funcOf: Map<number, number>,
    newGlobal: (type: number, init: number) => number,
    checkpoints: Checkpoint[],
  ) {
    const cfg = source;
    const loops = findCountedLoops(p, cfg, isSupported);
    this.ranges = planRanges(p, cfg, loops);
    this.versions = versionCfg(cfg, loops, this.ranges.pivots);
    this.cfg = this.versions.cfg;
    this.x0 = this.local(I64);
    const g = this.cfg;
    this.plan = new BudgetPlan(p, g, checkpoints, isSupported, g.reducible, this.versions.kind);
    const w = L.WALK;
    this.walkLocals = {
      stackTop: opts.stackTop,
      stackLo: L.STACKLO,
      span: L.SPAN,
      t: [w, w + 1, w + 2, w + 3, w + 4, w + 5],
    };
    this.scratch = opts.scratch;
    this.traced = opts.traced;
    this.progId = opts.progId ?? 0;
    this.maxFrames = opts.maxFrames ?? MAX_RUN_FRAMES;
    this.builtinHelpers = opts.builtinHelpers ?? new Set();
    this.stackTop = opts.stackTop;
    this.progArray = opts.progArray;
    this.arrayMap = opts.arrayMap;
    this.hashMap = opts.hashMap;
    this.hasSelfLoop = !this.traced && this.progId > 0 && cfg.start[0] === 0 && this.mayCallSelf();
    const alloc = { local: (t: number) => this.local(t), global: newGlobal };
    this.cs = new CacheSet(alloc, this.ranges.baseValue, this.scratch + Scratch.EPOCH);
    this.cs.addGuards(this.ranges.guards);
    this.mapValues = planMapValues(p, cfg, (pc, start) => this.lookupTarget(pc, start));
    // allocate the caches of every checked access and group up front, so resets cover them all
    const proven = this.ranges.proven;
    const apart = (pc: number) => proven.has(pc) || this.mapValues.has(pc);
    this.groupOf = planAccessGroups(p, cfg, (code) => isSupported(code) && !isCall(code), apart);
    // a cache that an access in a loop tests is kept in locals too (see memcheck.ts), and so
    // is every cache of a function that tail-calls itself in a loop (`hasSelfLoop`)
    for (let b = 0; b < cfg.n; b++) {
      for (let pc = cfg.start[b]; pc <= cfg.last[b]; pc += p.code[pc] === OP_LDDW ? 2 : 1) {
        const a = checkedAccess(p, pc);
        const g = this.groupOf.get(pc);
        let c: Cache | undefined;
        if (g !== undefined && g.members[0].pc === pc) c = this.cache(pc, g.reg, g.write, g.span);
        else if (a !== undefined && g === undefined && !apart(pc)) {
          c = this.cache(pc, a.reg, a.write, a.size);
        }
        if (c !== undefined && (cfg.inLoop[b] || this.hasSelfLoop)) c.global = false;
      }
    }
    this.cs.seal();
  }

  /** A new local of `type`. */
  private local(type: number): number {
    this.locals.push(type);
    return 7 + this.locals.length - 1; // params come first
  }

  provenBound(pc: number): Guard | undefined {
    const a = this.inStepping ? undefined : this.ranges.proven.get(pc);
    return a === undefined ? undefined : this.cs.guardOf(a.anchor, a.write);
  }

  uncheckedAccess(pc: number): boolean {
    const { kind, loop } = this.versions;
    if (this.inStepping) return false;
    if (this.mapValues.has(pc)) return true;
    return kind[this.block] === BlockKind.Proved && this.ranges.pivots[loop[this.block]].free.has(pc); // prettier-ignore
  }

  /**
   * The value a lookup at `pc` (helper 1, in the block from `blockStart`) returns a pointer
   * into, when it is lowered in line or as the map core's own lookup (see calls.ts).
   */
  private lookupTarget(pc: number, blockStart: number): MapValueTarget | undefined {
    if (this.traced || !this.builtinHelpers.has(1)) return undefined;
    const t = this.arrayLookup(pc, blockStart) ?? this.hashLookup(pc, blockStart);
    const map = mapAt(this.p, blockStart, pc, 1);
    return t === undefined || map === undefined ? undefined : { map, valueSize: t.valueSize, writable: t.writable }; // prettier-ignore
  }

  fastProven(pc: number): boolean {
    const fast = this.ranges.proven.get(pc)?.fast;
    const { kind, loop } = this.versions;
    return fast !== undefined && kind[this.block] === BlockKind.Fast && loop[this.block] === fast.loop; // prettier-ignore
  }

  guardAt(pc: number): { read?: Guard; write?: Guard } | undefined {
    return this.cs.guardAt(pc);
  }

  stepping(): boolean {
    return this.inStepping;
  }

  accessGroup(pc: number): AccessGroup | undefined {
    return this.inStepping ? undefined : this.groupOf.get(pc);
  }

  cache(pc: number, reg: number, write: boolean, size: number): Cache {
    return this.cs.cache(pc, reg, write, size);
  }

  walk(): WalkLocals | undefined {
    // not in stepping code: one more inline walk per access in a loop costs registers there
    return !this.inStepping && this.cfg.inLoop[this.block] ? this.walkLocals : undefined;
  }

  cacheGroup(pc: number, reg: number): readonly Cache[] {
    return this.cs.group(pc, reg);
  }

  funcIndex(pc: number): number {
    const f = this.funcOf.get(pc);
    if (f === undefined) throw new Error(`jit: no function compiled at pc ${pc}`);
    return f;
  }

  syncCaches(): void {
    this.cs.emitSync(this.out);
  }

  /** The function's code (without its locals vector). */
  compile(): Uint8Array {
    const o = this.out;
    o.i64(this.stackTop, 0).get(this.DEPTH).op(Op.i64_extend_i32_u).i64(9).op(Op.i64_shl);
    o.op(Op.i64_sub).set(L.R10);
    o.get(L.R10).op(Op.i32_wrap_i64).i32(512).op(Op.i32_sub).set(L.FPLO);
    o.i64(this.stackTop, 0).get(L.FPLO).op(Op.i64_extend_i32_u).tee(L.STACKLO);
    o.op(Op.i64_sub).set(L.SPAN);
    loadBudget(this);
    this.cs.emitEntry(o);
    if (this.hasSelfLoop) o.u8(Op.loop).u8(VOID);
    if (this.cfg.reducible) emitStructured(this.cfg, this, o);
    else emitDispatch(this.cfg, this, o, L.STATE);
    if (this.hasSelfLoop) o.u8(Op.end);
    o.op(Op.unreachable, Op.end);
    return o.view().slice();
  }

  loopCallback(pc: number): number | undefined {
    const last = lastWrite(this.p, this.blockStart, pc, 2);
    if (last < 0 || this.p.code[last] !== OP_LDDW || this.p.imm[last + 1] !== 0) return undefined;
    const t = ((this.p.imm[last] >>> 0) - FUNC_ADDR_BASE) / 8;
    return this.funcOf.get(t);
  }

  arrayLookup(pc: number, blockStart = this.blockStart): ArrayLookup | undefined {
    const handle = mapAt(this.p, blockStart, pc, 1);
    const map = handle === undefined ? undefined : this.arrayMap?.(handle);
    const keyOff = frameOffsetAt(this.p, blockStart, pc, 2);
    if (map === undefined || keyOff === undefined || !inFrame(keyOff, 4)) return undefined;
    return { ...map, keyOff };
  }

  hashLookup(pc: number, blockStart = this.blockStart): HashLookup | undefined {
    const handle = mapAt(this.p, blockStart, pc, 1);
    const map = handle === undefined ? undefined : this.hashMap?.(handle);
    const keyOff = frameOffsetAt(this.p, blockStart, pc, 2);
    if (map === undefined || keyOff === undefined || !inFrame(keyOff, map.keySize))
      return undefined;
    return { ...map, keyOff };
  }

  tailMap(pc: number): TailMap | undefined {
    const handle = mapAt(this.p, this.blockStart, pc, 2);
    return handle === undefined ? undefined : this.progArray?.(handle);
  }

  /**
   * Whether a tail call of the function may reach the program itself: its prog_array held the
   * program (in the slot of a constant index) at compile time.
   */
  private mayCallSelf(): boolean {
    const { p, source: cfg } = this;
    for (let b = 0; b < cfg.n; b++) {
      for (let pc = cfg.start[b]; pc <= cfg.last[b]; pc += p.code[pc] === OP_LDDW ? 2 : 1) {
        if (p.code[pc] !== 0x85 || p.src[pc] !== 0 || p.imm[pc] !== BPF_FUNC_tail_call) continue;
        const handle = mapAt(p, cfg.start[b], pc, 2);
        if (handle === undefined) continue;
        const index = r3IndexAt(p, cfg.start[b], pc);
        if (this.progArray?.(handle, index)?.holdsSelf) return true;
      }
    }
    return false;
  }

  selfLoop(): number | undefined {
    return this.hasSelfLoop ? this.nest : undefined;
  }

  body(b: number, depth: number): void {
    const { p, cfg } = this;
    this.nest = depth;
    this.blockStart = cfg.start[b];
    this.block = b;
    const jumpEnds = cfg.term[b] === Term.Goto || cfg.term[b] === Term.Cond;
    const pcs: number[] = [];
    for (let pc = cfg.start[b]; pc <= cfg.last[b]; pc += p.code[pc] === OP_LDDW ? 2 : 1) {
      pcs.push(pc);
    }
    const kind = this.versions.kind[b];
    if (kind === BlockKind.Guard || kind === BlockKind.Pivot) {
      const cp = this.plan.carried(b);
      if (cp !== undefined) emitCharge(this, cp.id, cp.total);
      return;
    }
    if (kind === BlockKind.Fast) {
      const loop = this.versions.loops[this.versions.loop[b]];
      const orig = this.versions.orig[b];
      if (!loop.spine.has(orig)) {
        this.out.get(this.LEFT).i64(pcs.length).op(Op.i64_sub).set(this.LEFT);
      }
      for (let k = 0; k < pcs.length; k++) {
        if (k === pcs.length - 1 && jumpEnds) break;
        lowerInsn(this, pcs[k]);
      }
      return;
    }
    const defer = this.plan.deferrable[b] === 1;
    let i = 0;
    while (i < pcs.length) {
      let j = i;
      while (j < pcs.length - 1 && !isCall(p.code[pcs[j]])) j++;
      if (!defer) {
        const cp = this.plan.segment(b, i === 0, pcs[i], j - i + 1);
        const steps = this.steps(pcs.slice(i, j + 1));
        const carried = cp.total - (j - i + 1);
        emitCharge(this, cp.id, cp.total, steps && (() => this.emitStepping(steps, carried)));
      }
      for (let k = i; k <= j; k++) {
        if (k === pcs.length - 1 && jumpEnds) break;
        lowerInsn(this, pcs[k]);
      }
      i = j + 1;
    }
  }

  /**
   * The instructions of a segment the interpreter may run before its budget runs out in it:
   * up to the last observable one before the segment's last instruction (undefined if none).
   * The segment is charged whole at its start, so when the charge fails these run one by one.
   */
  private steps(seg: readonly number[]): number[] | undefined {
    let last = -1;
    for (let k = 0; k < seg.length - 1; k++) {
      if (observable(this.p, seg[k], isSupported)) last = k;
    }
    return last < 0 ? undefined : seg.slice(0, last + 1);
  }

  /**
   * A segment's instructions run as the interpreter runs them when the budget (in LEFT, as it
   * was before the charge; `carried` of it goes to blocks before the segment) runs out inside
   * it: each after its own budget test, without access groups (a group's check would check a
   * member the budget stops before) and without caches (a grouped member has none). Falls
   * through once the budget is spent.
   */
  private emitStepping(steps: readonly number[], carried: number): void {
    const o = this.out;
    this.inStepping = true;
    o.u8(Op.block).u8(VOID);
    steps.forEach((pc, k) => {
      o.get(this.LEFT)
        .i64(carried + k)
        .op(Op.i64_le_s)
        .u8(Op.br_if)
        .u32(0);
      lowerInsn(this, pc);
    });
    o.u8(Op.end);
    this.inStepping = false;
  }

  edge(from: number, to: number): void {
    const { kind, loop, orig, loops } = this.versions;
    if (kind[from] === BlockKind.Fast && kind[to] !== BlockKind.Fast) {
      const l = loops[loop[from]];
      const at = orig[from];
      const dominatesFrom = (a: number) => dominates(this.source, a, at);
      emitExitCharge(this.out, l, this.regLocal, this.tripLocals(), dominatesFrom);
      return;
    }
    const cp = this.plan.edge(from, to);
    if (cp !== undefined) emitCharge(this, cp.id, cp.total);
  }

  cond(b: number): void {
    const kind = this.versions.kind[b];
    const i = this.versions.loop[b];
    if (kind === BlockKind.Guard) {
      const lower: LowerBound[] = [];
      for (const a of this.ranges.proven.values()) {
        if (a.fast?.loop !== i) continue;
        const guard = this.cs.guardOf(a.anchor, a.write);
        lower.push({ reg: a.fast.reg < 0 ? -1 : this.R[a.fast.reg], add: a.fast.add, guard });
      }
      const l = this.versions.loops[i];
      emitGuardCond(this.out, l, this.regLocal, this.tripLocals(), lower);
    } else if (kind === BlockKind.Pivot) {
      const v = this.ranges.pivots[i];
      emitInRange(this.out, this.R[v.reg], v.add, this.cs.guardOf(v.anchor, v.write));
    } else lowerCond(this, this.cfg.last[b]);
  }

  private readonly regLocal = (r: number) => this.R[r];

  private tripLocals(): TripLocals {
    return { x0: this.x0, t: this.TB, k: this.TC, left: this.LEFT };
  }
}
