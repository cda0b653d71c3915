import { TsbpfError } from "../errors.js";
import { EngineEnv } from "../runtime/engine-env.js";
import { memoryFault } from "../runtime/fault.js";
import {
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
import { FUNC_ADDR_BASE } from "../memory/layout.js";
import type { Machine } from "../runtime/machine.js";
import { funcAt, type ExecProgram } from "../runtime/program.js";
import { tailCall } from "../runtime/tail-call.js";
import { hex64 } from "../runtime/trace.js";
import { atomic32, atomic64 } from "./atomics.js";
import { clearCaches, decode, FRAME, type Decoded } from "./decoded.js";
import { runHot, type HotEnv } from "./hot-loop.js";
import { rareAlu } from "./rare-alu.js";

const BPF_FUNC_tail_call = 12;
/** The most instructions of the budget one call of the hot loop gets. */
const CHUNK = 1 << 16;

/**
 * The eBPF interpreter. Registers are 32-bit halves in an Int32Array, instructions are
 * pre-decoded typed arrays, and frames live in typed arrays too: a program's call depth, tail
 * calls and loops never grow the JavaScript stack. Every memory access is checked: through r10
 * inside the frame when decoded, otherwise inline against the slot the instruction touched
 * last, then the live stack frames, then the page table.
 */
export class Interpreter extends EngineEnv implements HotEnv {
  /** r0..r10 as (low, high) halves. */
  readonly regs = new Int32Array(22);
  private depth = 0;
  /** The instruction budget left (while the hot loop runs: beyond the chunk it was given). */
  left = 0;
  // Frame records, one per frame a run may reach (the machine's maxFrames).
  private readonly maxFrames: number;
  private readonly retPc: Int32Array;
  private readonly retBase: Int32Array;
  private readonly retProg: (ExecProgram | null)[];
  private readonly saved: Int32Array;
  private readonly slot = new Int32Array(2);

  constructor(machine: Machine) {
    super(machine);
    const n = machine.maxFrames + 1;
    this.maxFrames = machine.maxFrames;
    this.retPc = new Int32Array(n);
    this.retBase = new Int32Array(n);
    this.retProg = new Array<ExecProgram | null>(n).fill(null);
    this.saved = new Int32Array(n * 8);
  }

  /**
   * Runs `prog` from its first instruction with r1 = (r1lo, r1hi) on a fresh first frame.
   * Returns r0 in `regs[0]`/`regs[1]`.
   */
  runProgram(prog: ExecProgram, r1lo: number, r1hi: number, r2lo = 0, r2hi = 0): void {
    const regs = this.regs;
    regs.fill(0);
    regs[2] = r1lo;
    regs[3] = r1hi;
    regs[4] = r2lo;
    regs[5] = r2hi;
    this.left = this.machine.insnLimit;
    this.machine.tailCallCnt = 0;
    this.machine.trace?.({ kind: "enter", prog: prog.name, depth: 0 });
    this.exec(prog, 0, 0);
    this.machine.trace?.({ kind: "exit", prog: prog.name, r0: hex64(regs[0], regs[1]) });
  }

  /** HelperEnv: calls an eBPF function (a callback) on a new frame above the current one. */
  callFunction(funcAddr: number, args: ReadonlyArray<readonly [number, number]>): [number, number] {
    const prog = this.prog;
    const target = (funcAddr - FUNC_ADDR_BASE) / 8;
    if (prog === null || !Number.isInteger(target) || target < 0 || target >= prog.insns.length) {
      throw callbackAddressFault(funcAddr, this.pc);
    }
    const depth = this.depth + 1;
    if (depth >= this.maxFrames) {
      throw callbackDepthFault(this.pc, this.maxFrames);
    }
    const regs = this.regs;
    const keep = regs.slice();
    const pc = this.pc;
    for (let a = 0; a < 5; a++) {
      regs[2 + 2 * a] = a < args.length ? args[a][0] : 0;
      regs[3 + 2 * a] = a < args.length ? args[a][1] : 0;
    }
    try {
      this.exec(prog, target, depth);
    } catch (e) {
      // Callbacks nest on the JavaScript stack: if it runs out first (a small stack, a large
      // maxFrames), the run stops with the frame limit's error, not a RangeError.
      if (e instanceof RangeError && !(e instanceof TsbpfError)) {
        throw jsStackFault(depth, pc);
      }
      throw e;
    }
    const r0: [number, number] = [regs[0], regs[1]];
    regs.set(keep);
    this.prog = prog;
    this.depth = depth - 1;
    this.pc = pc;
    return r0;
  }

  /** HelperEnv: checks a helper's pointer argument. */
  checkMem(addr: number, hi: number, size: number, write: boolean, what: string): void {
    if (size === 0) return;
    const a = addr >>> 0;
    const sLo = this.machine.stackTop - (this.depth + 1) * FRAME;
    if (hi === 0 && a >= sLo && a + size <= this.machine.stackTop) return;
    if (hi === 0 && this.machine.mem.checkSlot(a, size, write, null)) return;
    throw this.fault(this.pc, addr, hi, size, write, what);
  }

  /** Decodes `prog` now (otherwise its first run does). */
  prepare(prog: ExecProgram): void {
    this.decoded(prog);
  }

  /** The program's {@link Decoded} form; its caches emptied if memory changed since. */
  private decoded(p: ExecProgram): Decoded {
    const epoch = this.machine.mem.epoch;
    let c = p.engineData.get("interp") as Decoded | undefined;
    if (c === undefined) {
      c = decode(p, epoch);
      p.engineData.set("interp", c);
    } else if (c.epoch !== epoch) clearCaches(c, epoch);
    return c;
  }

  /** HotEnv: the page-table check of an access the fast paths did not accept; fills the cache. */
  slow(c: Decoded, i: number, addr: number, hi: number, size: number, write: boolean) {
    if (hi === 0 && this.machine.mem.checkSlot(addr, size, write, this.slot)) {
      c.code[4 * i + 2] = this.slot[0];
      c.code[4 * i + 3] = this.slot[1] - this.slot[0] - size + 1; // >= 1: this access fits
      return;
    }
    throw this.fault(i, addr, hi, size, write, "");
  }

  /** The budget's error at `pc`. */
  private budgetFault(pc: number): Error {
    this.left = 0;
    return budgetError(this.machine, this.prog as ExecProgram, pc);
  }

  private fault(pc: number, addr: number, hi: number, size: number, write: boolean, what: string) {
    return memoryFault(this.machine, this.prog, this.depth, pc, addr, hi, size, write, what);
  }

  /**
   * Runs from `startPc` of `prog` on frame `entryDepth` until that frame exits: the hot loop
   * runs the instructions it can, this loop the rest (calls, exits, tail calls, atomics, the
   * rare ALU operations).
   */
  private exec(prog: ExecProgram, startPc: number, entryDepth: number): void {
    const m = this.machine;
    const mem = m.mem;
    const regs = this.regs;
    let p = prog;
    let c = this.decoded(p);
    let depth = entryDepth;
    let base = entryDepth;
    const sHi = m.stackTop | 0;
    let sLo = sHi - (depth + 1) * FRAME;
    regs[20] = sHi - depth * FRAME;
    regs[21] = 0;
    let pc = startPc | 0;
    this.prog = p;
    this.depth = depth;
    for (;;) {
      // the hot loop runs on at most CHUNK instructions of the budget at a time, so that it
      // returns early in a first long run (V8 then has its feedback from the start)
      const chunk = this.left < CHUNK ? this.left : CHUNK;
      this.left -= chunk;
      const i = runHot(this, c, pc, chunk, sLo, sHi);
      if (i < 0) {
        pc = ~i; // not run: the chunk's budget ran out first
        if (this.left === 0) throw this.budgetFault(pc);
        continue;
      }
      pc = i + 1;
      const code = c.code;
      const j = i << 2;
      const w = code[j];
      const d = (w >> 7) & 0x1e;
      switch (w & 0xff) {
        // ---- atomics ----
        case 0xc3:
        case 0xdb: {
          const size = (w & 0xff) === 0xdb ? 8 : 4;
          const off = w >> 16;
          const lo = regs[d];
          const a = (lo + off) | 0;
          const hi = (regs[d + 1] + (off >> 31) + (a >>> 0 < lo >>> 0 ? 1 : 0)) | 0;
          if (
            hi !== 0 ||
            ((a - code[j + 2]) >>> 0 >= code[j + 3] >>> 0 && (a - sLo) >>> 0 > sHi - sLo - size)
          ) {
            this.slow(c, i, a >>> 0, hi, size, true);
          }
          const dv = mem.dv;
          if (size === 8) atomic64(dv, a, code[j + 1], regs, (w >> 11) & 0x1e);
          else atomic32(dv, a, code[j + 1], regs, (w >> 11) & 0x1e);
          break;
        }
        // ---- calls ----
        case 0x85:
        case 0x8d: {
          let target = -1;
          let helperId = -1;
          if ((w & 0xff) === 0x8d) {
            // callx: a function address (BPF_PSEUDO_FUNC) or, as in uBPF, a helper id
            const vlo = regs[d] >>> 0;
            const vhi = regs[d + 1];
            const t = vlo - FUNC_ADDR_BASE; // integer arithmetic: pc stays a small integer for V8
            if (vhi === 0 && t >= 0 && (t & 7) === 0 && t >>> 3 < p.insns.length) {
              target = t >>> 3;
            } else if (vhi === 0 && m.helpers[vlo] !== undefined) helperId = vlo;
            else throw callxFault(vlo, vhi, i);
          } else if (((w >> 12) & 0xf) === 1) target = pc + code[j + 1];
          else if (((w >> 12) & 0xf) === 0) helperId = code[j + 1];
          else throw kfuncFault(code[j + 1], i);
          if (target >= 0) {
            // bpf-to-bpf call: a new frame; r6-r9 and r10 are restored at its exit
            if (!callAllowed(depth, base, this.maxFrames)) {
              throw callDepthFault(p, i, target, depth, base, this.maxFrames);
            }
            this.retPc[depth] = pc;
            this.retBase[depth] = base;
            this.retProg[depth] = p;
            this.saved.set(regs.subarray(12, 20), depth * 8);
            depth++;
            this.depth = depth;
            sLo -= FRAME;
            regs[20] = sLo + FRAME;
            regs[21] = 0;
            pc = target;
            m.trace?.({ kind: "call", prog: p.name, pc: i, target: funcAt(p, target).name, depth });
            break;
          }
          this.pc = i;
          this.prog = p;
          this.depth = depth;
          if (helperId === BPF_FUNC_tail_call) {
            const next = tailCall(m, p, i, regs, depth);
            if (next !== null) {
              p = next;
              c = this.decoded(p);
              base = depth;
              pc = 0;
              this.prog = p;
            }
            break;
          }
          const h = m.helpers[helperId];
          if (h === undefined) throw unknownHelperFault(helperId, i);
          m.trace?.({ kind: "helper", prog: p.name, pc: i, id: helperId, name: h.name });
          h.fn(this, regs);
          if (c.epoch !== mem.epoch) c = this.decoded(p);
          break;
        }
        case 0x95: {
          if (depth === entryDepth) {
            return;
          }
          depth--;
          const from = funcAt(p, i).name;
          for (let k = 0; k < 8; k++) regs[12 + k] = this.saved[depth * 8 + k];
          sLo += FRAME;
          regs[20] = sLo + FRAME;
          regs[21] = 0;
          pc = this.retPc[depth];
          base = this.retBase[depth];
          const back = this.retProg[depth] as ExecProgram;
          if (back !== p) {
            p = back;
            c = this.decoded(p);
            this.prog = p;
          }
          this.depth = depth;
          m.trace?.({
            kind: "return",
            prog: p.name,
            from,
            to: funcAt(p, pc - 1).name,
            depth,
            r0: hex64(regs[0], regs[1]),
          });
          break;
        }
        default:
          if (!rareAlu(w, code[j + 1], regs)) throw unsupportedOpcodeFault(w, i);
      }
    }
  }
}
