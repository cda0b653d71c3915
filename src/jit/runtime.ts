/**
 * The JIT's run-time side, one per {@link Machine}: the shared function table every compiled
 * program registers its functions in, the scratch area in linear memory (registers for helpers,
 * the instruction budget), the imports compiled code calls (helpers, tail calls, faults), the
 * HelperEnv helpers see, and a small trampoline module through which JavaScript calls compiled
 * functions with i32 arguments only.
 */
import { TsbpfError, type RuntimeFault } from "../errors.js";
import { MAX_BPF_STACK, OP_LDDW } from "../isa/opcodes.js";
import { FUNC_ADDR_BASE } from "../memory/layout.js";
import { EngineEnv } from "../runtime/engine-env.js";
import { memoryFault } from "../runtime/fault.js";
import type { Machine } from "../runtime/machine.js";
import {
  atomicFault,
  budgetError,
  callAllowed,
  callbackAddressFault,
  callbackDepthFault,
  callDepthFault,
  callxFault,
  jsStackFault,
  kfuncFault,
  unknownHelperFault,
  unsupportedOpcodeFault,
} from "../runtime/run-errors.js";
import { funcAt, progId, type ExecProgram } from "../runtime/program.js";
import { tailCall } from "../runtime/tail-call.js";
import { hex64 } from "../runtime/trace.js";
import { ArrayMap } from "../maps/array.js";
import { HashMap } from "../maps/hash.js";
import { ProgArrayMap } from "../maps/prog-array.js";
import { MapCore } from "../maps/core/index.js";
import { HELPERS } from "../helpers/index.js";
import { ENTRY_BY_ID, MAX_FAST_ID, RaiseKind, SCRATCH_BASE, Scratch } from "./abi.js";
import { budgetPc, type Checkpoint } from "./budget.js";
import { INLINE_HELPER_IDS } from "./calls.js";
import { compileProgram } from "./compile.js";
import type { TailMap } from "./ctx.js";
import { trampoline, type Invoke, type Repeat } from "./trampoline.js";

const BPF_FUNC_tail_call = 12;
/**
 * Built-in helpers compiled code may run without the `helper` import: map lookup, update and
 * delete (in the map core) and `bpf_loop` (a loop of direct calls), see calls.ts.
 */
const INLINE_HELPERS = HELPERS.filter((d) => INLINE_HELPER_IDS.includes(d.id));
// i32 indices into the scratch view (module constants: cheap in transpiled code too)
const V_RESULT = Scratch.RESULT / 4;
const V_RESULT_HI = V_RESULT + 1;
const V_TCNT = Scratch.TCNT / 4;
const V_EPOCH = Scratch.EPOCH / 4;
const V_LIMIT = Scratch.LIMIT / 4;
const V_SIZE = Scratch.SIZE / 4;
/** Most runs of one call of the trampoline's `repeat` (an i32). */
const MAX_REPEAT = 0x7fff_ffff;

/** One compiled form of a program (plain or traced), registered in the table. */
interface Variant {
  /** Table index of the function entered at each pc. */
  readonly index: Map<number, number>;
  /** Entries compiled on demand (callx / callback targets inside functions). */
  readonly extra: number[];
}

/** What the JIT caches in `ExecProgram.engineData` under "jit". */
interface ProgramCache {
  readonly rt: JitRuntime;
  plain?: Variant;
  traced?: Variant;
}

const runtimes = new WeakMap<Machine, JitRuntime>();

/** The JIT's per-machine state; also the HelperEnv of helpers called from compiled code. */
export class JitRuntime extends EngineEnv {
  /** Every compiled function of every program, by table index. */
  readonly table = new WebAssembly.Table({ element: "anyfunc", initial: 0 });
  /** Base address of the scratch area. */
  readonly scratch: number;
  private depth = 0;
  private traced = false;
  private view: Int32Array;
  private readonly invoke: Invoke;
  private readonly repeat: Repeat;
  private readonly shadow: { prog: ExecProgram; pc: number; depth: number }[] = [];
  private lastProg: ExecProgram | null = null;
  /** Programs {@link prepare} has seen, untraced and traced. */
  private readonly prepared = new WeakSet<ExecProgram>();
  private readonly preparedTraced = new WeakSet<ExecProgram>();
  private lastEntry = 0;

  /** The runtime of machine `m` (created on first use). */
  static of(m: Machine): JitRuntime {
    let rt = runtimes.get(m);
    if (rt === undefined) {
      rt = new JitRuntime(m);
      runtimes.set(m, rt);
    }
    return rt;
  }

  private constructor(machine: Machine) {
    super(machine);
    this.scratch = SCRATCH_BASE;
    this.table.grow(1); // index 0 means "not compiled" in ENTRY_BY_ID
    this.view = new Int32Array(machine.mem.memory.buffer, this.scratch, V_SIZE);
    const inst = new WebAssembly.Instance(new WebAssembly.Module(trampoline(this.scratch)), {
      e: { t: this.table, m: machine.mem.memory },
    });
    this.invoke = inst.exports.invoke as Invoke;
    this.repeat = inst.exports.repeat as Repeat;
  }

  /** Helpers' r0..r5, outside the linear memory. */
  private readonly helperIo = new Int32Array(12);

  /** r0..r5 as (low, high) halves, then the budget and the trampoline's result. */
  private regs(): Int32Array {
    // growing the memory detaches the old buffer, which empties the view
    if (this.view.length === 0) {
      this.view = new Int32Array(this.machine.mem.memory.buffer, this.scratch, V_SIZE);
    }
    return this.view;
  }

  /**
   * Runs `prog` from instruction 0 on the first frame with r1 and r2 set, the budget and the
   * tail-call count reset; returns r0 as [low, high].
   */
  runProgram(prog: ExecProgram, r1lo: number, r1hi: number, r2lo = 0, r2hi = 0): [number, number] {
    this.runs(prog, r1lo, r1hi, r2lo, r2hi, 1);
    const v = this.regs();
    return [v[V_RESULT], v[V_RESULT_HI]];
  }

  /** `Engine.runMany`: up to `n` runs inside WebAssembly (one when tracing). */
  runMany(prog: ExecProgram, r1lo: number, r1hi: number, n: number): [number, number, number] {
    const runs = this.runs(prog, r1lo, r1hi, 0, 0, n);
    const v = this.regs();
    return [runs, v[V_RESULT], v[V_RESULT_HI]];
  }

  /** Up to `n` runs of `prog` through the trampoline's repeat loop; the runs made. */
  private runs(
    prog: ExecProgram,
    r1lo: number,
    r1hi: number,
    r2lo: number,
    r2hi: number,
    n: number,
  ): number {
    const m = this.machine;
    const traced = m.trace !== null;
    const idx = this.funcIndex(prog, 0, traced);
    const v = this.regs();
    const limit = m.insnLimit;
    if (limit >= 0 && limit <= 0x7fff_ffff) {
      v[V_LIMIT] = limit | 0;
      v[V_LIMIT + 1] = 0;
    } else {
      const l = Math.min(Math.max(Math.floor(limit), 0), Number.MAX_SAFE_INTEGER);
      v[V_LIMIT] = (l % 0x1_0000_0000) | 0;
      v[V_LIMIT + 1] = Math.floor(l / 0x1_0000_0000);
    }
    v[V_EPOCH] = m.mem.epoch | 0;
    m.tailCallCnt = 0;
    this.traced = traced;
    if (this.shadow.length !== 0) this.shadow.length = 0;
    this.prog = prog;
    this.depth = 0;
    this.pc = 0;
    m.trace?.({ kind: "enter", prog: prog.name, depth: 0 });
    let runs: number;
    try {
      runs = this.repeat(idx, r1lo, r1hi, r2lo, r2hi, traced ? 1 : Math.min(n, MAX_REPEAT));
    } finally {
      m.tailCallCnt = this.regs()[V_TCNT];
    }
    if (m.trace) {
      const r0 = hex64(this.regs()[V_RESULT], this.regs()[V_RESULT_HI]);
      m.trace({ kind: "exit", prog: prog.name, r0 });
    }
    return runs;
  }

  /** HelperEnv: checks a helper's pointer argument. */
  checkMem(addr: number, hi: number, size: number, write: boolean, what: string): void {
    if (size === 0) return;
    const a = addr >>> 0;
    const m = this.machine;
    const sLo = m.stackTop - (this.depth + 1) * MAX_BPF_STACK;
    if (hi === 0 && a >= sLo && a + size <= m.stackTop) return;
    if (hi === 0 && m.mem.checkSlot(a, size, write, null)) return;
    throw memoryFault(m, this.prog, this.depth, this.pc, addr, hi, size, write, what);
  }

  /** HelperEnv: calls an eBPF function (a callback) on a new frame above the current one. */
  callFunction(funcAddr: number, args: ReadonlyArray<readonly [number, number]>): [number, number] {
    const prog = this.prog;
    const target = (funcAddr - FUNC_ADDR_BASE) / 8;
    if (prog === null || !Number.isInteger(target) || target < 0 || target >= prog.insns.length) {
      throw callbackAddressFault(funcAddr, this.pc);
    }
    const depth = this.depth + 1;
    if (depth >= this.machine.maxFrames) throw callbackDepthFault(this.pc, this.machine.maxFrames);
    const idx = this.funcIndex(prog, target, this.traced);
    // the calling helper's registers: the callback's own helper calls reuse both areas
    const keep = this.regs().slice(0, 12);
    const keepIo = this.helperIo.slice();
    const pc = this.pc;
    const a = (k: number, h: number) => (k < args.length ? args[k][h] : 0);
    let lo: number;
    try {
      lo = this.invoke(idx, a(0, 0), a(0, 1), a(1, 0), a(1, 1), a(2, 0), a(2, 1), a(3, 0), a(3, 1), a(4, 0), a(4, 1), depth, depth); // prettier-ignore
    } catch (e) {
      // callbacks nest on the native stack: if it runs out first, stop with the frame limit
      if (e instanceof RangeError && !(e instanceof TsbpfError)) throw jsStackFault(depth, this.pc);
      throw e;
    }
    const v = this.regs();
    const hi = v[V_RESULT_HI];
    v.set(keep);
    this.helperIo.set(keepIo);
    this.prog = prog;
    this.depth = depth - 1;
    this.pc = pc;
    return [lo, hi];
  }

  /** Table index of `prog`'s function entered at `pc`, compiling what is missing. */
  funcIndex(prog: ExecProgram, pc: number, traced: boolean): number {
    if (pc === 0 && !traced && prog === this.lastProg) return this.lastEntry;
    const idx = this.lookup(prog, pc, traced);
    if (pc === 0 && !traced) {
      this.lastProg = prog;
      this.lastEntry = idx;
    }
    return idx;
  }

  private cacheOf(prog: ExecProgram): ProgramCache {
    let cache = prog.engineData.get("jit") as ProgramCache | undefined;
    if (cache === undefined || cache.rt !== this) {
      cache = { rt: this };
      prog.engineData.set("jit", cache);
    }
    return cache;
  }

  private install(prog: ExecProgram, traced: boolean, v: Variant): void {
    const cache = this.cacheOf(prog);
    if (traced) cache.traced = v;
    else cache.plain = v;
    this.lastProg = null;
  }

  private lookup(prog: ExecProgram, pc: number, traced: boolean): number {
    const cache = this.cacheOf(prog);
    let v = traced ? cache.traced : cache.plain;
    const hit = v?.index.get(pc);
    if (hit !== undefined) return hit;
    const extra = v ? [...v.extra, pc] : pc === 0 ? [] : [pc];
    v = this.compile(prog, traced, extra);
    this.install(prog, traced, v);
    const idx = v.index.get(pc);
    if (idx === undefined) throw new Error(`jit: pc ${pc} was not compiled`);
    return idx;
  }

  /**
   * Compiles and instantiates `prog` asynchronously (`WebAssembly.instantiate`): what browsers
   * require on their main thread for modules over 4 KiB. Runs then find it compiled.
   */
  /**
   * Compiles `prog` and, once per program, the programs held by the prog_arrays it names and
   * theirs. A target that does not compile here (a browser's main thread refuses synchronous
   * compiles of modules over 4 KiB), or a slot filled later, compiles at its first tail call,
   * which reports any error.
   */
  prepare(prog: ExecProgram, traced: boolean): void {
    const done = traced ? this.preparedTraced : this.prepared;
    if (done.has(prog)) return;
    this.funcIndex(prog, 0, traced);
    done.add(prog);
    const p = prog.insns;
    for (let pc = 0; pc < p.length; pc++) {
      if (p.code[pc] !== OP_LDDW) continue;
      const map = p.imm[pc + 1] === 0 ? this.machine.mapByHandle(p.imm[pc] >>> 0) : undefined;
      pc++;
      if (!(map instanceof ProgArrayMap)) continue;
      for (const target of (map as ProgArrayMap<ExecProgram>).programs()) {
        try {
          this.prepare(target, traced);
        } catch {
          // left to its first tail call
        }
      }
    }
  }

  async prepareAsync(prog: ExecProgram, traced = false): Promise<void> {
    const cache = this.cacheOf(prog);
    if ((traced ? cache.traced : cache.plain)?.index.has(0)) return;
    const c = this.generate(prog, traced, []);
    const { instance } = await WebAssembly.instantiate(c.bytes, c.imports);
    this.install(prog, traced, this.register(prog, traced, [], c.entries, instance));
  }

  private generate(prog: ExecProgram, traced: boolean, extra: number[]) {
    const { bytes, entries, checkpoints } = compileProgram(prog.insns, {
      stackTop: this.machine.stackTop,
      maxFrames: this.machine.maxFrames,
      scratch: this.scratch,
      traced,
      progId: prog.id,
      funcStarts: prog.funcs.map((f) => f.start),
      extraEntries: extra,
      progArray: (handle, index) => this.progArray(handle, prog, index),
      arrayMap: (handle) => {
        const map = this.machine.mapByHandle(handle);
        if (!(map instanceof ArrayMap) || map.percpu) return undefined;
        const { maxEntries, valueSize } = map.def;
        return { maxEntries, valueSize, writable: map.progWritable, valueBase: map.base, stride: map.stride }; // prettier-ignore
      },
      hashMap: (handle) => {
        const map = this.machine.mapByHandle(handle);
        if (!(map instanceof HashMap) || map.percpu) return undefined;
        const { keySize, valueSize } = map.def;
        return { desc: map.desc, keySize, valueSize, writable: map.progWritable };
      },
      builtinHelpers: this.builtinHelpers(),
    });
    return { bytes, entries, imports: { e: this.imports(prog, traced, checkpoints) } };
  }

  private compile(prog: ExecProgram, traced: boolean, extra: number[]): Variant {
    let inst: WebAssembly.Instance;
    let entries: readonly number[];
    try {
      const c = this.generate(prog, traced, extra);
      entries = c.entries;
      inst = new WebAssembly.Instance(new WebAssembly.Module(c.bytes), c.imports);
    } catch (e) {
      if (e instanceof TsbpfError) throw e;
      const why = e instanceof Error ? e.message : String(e);
      throw new TsbpfError("JIT", `program ${prog.name}: the JIT cannot compile it: ${why}`);
    }
    return this.register(prog, traced, extra, entries, inst);
  }

  /** Puts an instance's functions in the table. */
  private register(
    prog: ExecProgram,
    traced: boolean,
    extra: number[],
    entries: readonly number[],
    inst: WebAssembly.Instance,
  ): Variant {
    const base = this.table.grow(entries.length);
    const index = new Map<number, number>();
    entries.forEach((pc, i) => {
      this.table.set(base + i, inst.exports[`f${i}`]);
      index.set(pc, base + i);
    });
    const entry = index.get(0);
    if (!traced && entry !== undefined && prog.id > 0 && prog.id < MAX_FAST_ID) {
      this.machine.mem.i32[ENTRY_BY_ID / 4 + prog.id] = entry;
    }
    return { index, extra };
  }

  /**
   * The prog_array behind a map handle, for compiled tail calls of `prog`. Its slot mirror must
   * hold program ids: the JIT sets `idOf` to the program id (what Linux's lookup returns)
   * unless it already is, and rewrites the mirror. `holdsSelf`: slot `index` (any slot when
   * undefined) holds `prog`.
   */
  private progArray(handle: number, prog: ExecProgram, index?: number): TailMap | undefined {
    const map = this.machine.mapByHandle(handle);
    if (!(map instanceof ProgArrayMap)) return undefined;
    const slots = map as ProgArrayMap<ExecProgram>;
    if (slots.idOf !== progId) {
      slots.idOf = progId;
      for (let i = 0; i < slots.size; i++) slots.setSlot(i, slots.getSlot(i) ?? null);
    }
    let holdsSelf = index !== undefined && slots.getSlot(index) === prog;
    for (let i = 0; i < slots.size && index === undefined && !holdsSelf; i++) {
      holdsSelf = slots.getSlot(i) === prog;
    }
    return { maxEntries: map.def.maxEntries, tableAddr: slots.tableAddr, holdsSelf };
  }

  /** Ids of the helpers compiled code may run itself: those the machine has not replaced. */
  private builtinHelpers(): ReadonlySet<number> {
    const h = this.machine.helpers;
    return new Set(INLINE_HELPERS.filter((d) => h[d.id] === d).map((d) => d.id));
  }

  /** The imports of `prog`'s module (see abi.ts). */
  private imports(
    prog: ExecProgram,
    traced: boolean,
    checkpoints: readonly Checkpoint[],
  ): WebAssembly.ModuleImports {
    const m = this.machine;
    const core = MapCore.of(m.mem).exports;
    return {
      m: m.mem.memory,
      t: this.table,
      mapLookup: core.map_lookup_elem,
      mapUpdate: core.map_update_elem,
      mapDelete: core.map_delete_elem,
      htabLookup: core.htab_lookup_elem,
      helper: (id: number, pc: number, depth: number) => {
        const h = m.helpers[id];
        if (h === undefined) throw unknownHelperFault(id, pc);
        m.trace?.({ kind: "helper", prog: prog.name, pc, id, name: h.name });
        this.pc = pc;
        this.prog = prog;
        this.depth = depth;
        // a plain copy of r0..r5: a helper that grows the memory detaches views into it
        const io = this.helperIo;
        io.set(this.regs().subarray(0, 12));
        h.fn(this, io);
        const v = this.regs();
        v.set(io);
        v[V_EPOCH] = m.mem.epoch | 0;
      },
      tailcall: (pc: number, depth: number) => {
        this.pc = pc;
        this.prog = prog;
        this.depth = depth;
        const v = this.regs();
        m.tailCallCnt = v[V_TCNT];
        const next = tailCall(m, prog, pc, v, depth);
        this.regs()[V_TCNT] = m.tailCallCnt;
        if (next === null || next === undefined) return -1;
        return this.funcIndex(next, 0, traced);
      },
      fault: (pc: number, lo: number, hi: number, size: number, write: number, depth: number) => {
        throw memoryFault(m, prog, depth, pc, lo, hi, size, write !== 0);
      },
      budget: (id: number, leftBefore: number) => {
        throw budgetError(m, prog, budgetPc(prog.insns, checkpoints[id], leftBefore));
      },
      callFault: (pc: number, target: number, depth: number, base: number) => {
        throw callDepthFault(prog, pc, target, depth, base, m.maxFrames);
      },
      callx: (lo: number, hi: number, pc: number, depth: number, base: number) => {
        const vlo = lo >>> 0;
        const t = (vlo - FUNC_ADDR_BASE) / 8;
        if (hi === 0 && vlo >= FUNC_ADDR_BASE && Number.isInteger(t) && t < prog.insns.length) {
          if (!callAllowed(depth, base, m.maxFrames)) {
            throw callDepthFault(prog, pc, t, depth, base, m.maxFrames);
          }
          const idx = this.funcIndex(prog, t, traced);
          if (traced) this.traceCall(prog, pc, t, depth + 1);
          return idx;
        }
        if (hi === 0 && m.helpers[vlo] !== undefined)
          return vlo === BPF_FUNC_tail_call ? -1 : -2 - vlo;
        throw callxFault(vlo, hi, pc);
      },
      raise: (kind: number, pc: number, arg: number) => {
        throw raised(kind, pc, arg);
      },
      traceCall: (pc: number, target: number, depth: number) => {
        this.traceCall(prog, pc, target, depth);
      },
      traceExit: (pc: number, lo: number, hi: number, depth: number) => {
        const top = this.shadow[this.shadow.length - 1];
        if (top === undefined || top.depth !== depth) return;
        this.shadow.pop();
        m.trace?.({
          kind: "return",
          prog: top.prog.name,
          from: funcAt(prog, pc).name,
          to: funcAt(top.prog, top.pc).name,
          depth: depth - 1,
          r0: hex64(lo, hi),
        });
      },
    };
  }

  private traceCall(prog: ExecProgram, pc: number, target: number, depth: number): void {
    this.machine.trace?.({ kind: "call", prog: prog.name, pc, target: funcAt(prog, target).name, depth }); // prettier-ignore
    this.shadow.push({ prog, pc, depth });
  }
}

/** The error of an instruction the engines cannot run. */
function raised(kind: number, pc: number, arg: number): RuntimeFault {
  switch (kind) {
    case RaiseKind.KFUNC:
      return kfuncFault(arg, pc);
    case RaiseKind.BAD_ATOMIC32:
      return atomicFault(arg, false);
    case RaiseKind.BAD_ATOMIC64:
      return atomicFault(arg, true);
    case RaiseKind.CALLBACK_DEPTH:
      return callbackDepthFault(pc, arg);
    default:
      return unsupportedOpcodeFault(arg, pc);
  }
}
