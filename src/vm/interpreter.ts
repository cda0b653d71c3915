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
import { MAX_BPF_STACK } from "../isa/opcodes.js";
import { FUNC_ADDR_BASE } from "../memory/layout.js";
import type { Machine } from "../runtime/machine.js";
import { funcAt, type ExecProgram } from "../runtime/program.js";
import { tailCall } from "../runtime/tail-call.js";
import { hex64 } from "../runtime/trace.js";
import * as I from "./int64.js";
import { atomic32, atomic64 } from "./atomics.js";

const BPF_FUNC_tail_call = 12;
const FRAME = MAX_BPF_STACK;

/** The interpreter's per-program bounds cache: the last slot each instruction touched. */
interface BoundsCache {
  /** Instructions packed as `code | dst << 8 | src << 12 | off << 16` (one load each). */
  ins: Int32Array;
  lo: Uint32Array;
  hi: Uint32Array;
  epoch: number;
}

/**
 * The eBPF interpreter. Registers are 32-bit halves in an Int32Array, instructions are
 * pre-decoded typed arrays, and frames live in typed arrays too: a program's call depth, tail
 * calls and loops never grow the JavaScript stack. Every memory access is checked: the live
 * stack frames inline, then the slot the instruction touched last, then the page table.
 */
export class Interpreter extends EngineEnv {
  /** r0..r10 as (low, high) halves. */
  readonly regs = new Int32Array(22);
  private depth = 0;
  private left = 0;
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

  private cacheFor(p: ExecProgram): BoundsCache {
    let c = p.engineData.get("interp") as BoundsCache | undefined;
    if (c === undefined) {
      const d = p.insns;
      const ins = new Int32Array(d.length);
      for (let k = 0; k < d.length; k++) {
        ins[k] = d.code[k] | (d.dst[k] << 8) | (d.src[k] << 12) | (d.off[k] << 16);
      }
      c = {
        ins,
        lo: new Uint32Array(p.insns.length),
        hi: new Uint32Array(p.insns.length),
        epoch: this.machine.mem.epoch,
      };
      p.engineData.set("interp", c);
    } else if (c.epoch !== this.machine.mem.epoch) {
      c.lo.fill(0);
      c.hi.fill(0);
      c.epoch = this.machine.mem.epoch;
    }
    return c;
  }

  /** The page-table check of an access the fast paths did not accept; fills the cache. */
  private slow(c: BoundsCache, i: number, addr: number, hi: number, size: number, write: boolean) {
    if (hi === 0 && this.machine.mem.checkSlot(addr, size, write, this.slot)) {
      c.lo[i] = this.slot[0];
      c.hi[i] = this.slot[1];
      return;
    }
    throw this.fault(i, addr, hi, size, write, "");
  }

  private fault(pc: number, addr: number, hi: number, size: number, write: boolean, what: string) {
    return memoryFault(this.machine, this.prog, this.depth, pc, addr, hi, size, write, what);
  }

  /** Runs from `startPc` of `prog` on frame `entryDepth` until that frame exits. */
  private exec(prog: ExecProgram, startPc: number, entryDepth: number): void {
    const m = this.machine;
    const mem = m.mem;
    const regs = this.regs;
    const O = I.OUT;
    let p = prog;
    let immA = p.insns.imm;
    let c = this.cacheFor(p);
    let ins = c.ins;
    let cLo = c.lo;
    let cHi = c.hi;
    let depth = entryDepth;
    let base = entryDepth;
    const sHi = m.stackTop;
    let sLo = sHi - (depth + 1) * FRAME;
    regs[20] = sHi - depth * FRAME;
    regs[21] = 0;
    let dv = mem.dv;
    let left = this.left;
    let pc = startPc;
    this.prog = p;
    this.depth = depth;
    for (;;) {
      const i = pc;
      pc = i + 1;
      if (--left < 0) {
        this.left = 0;
        throw budgetError(m, p, i);
      }
      const w = ins[i];
      const d = (w >> 7) & 0x1e;
      switch (w & 0xff) {
        // ---- ALU64, immediate operand (sign-extended) ----
        case 0x07: {
          const b = immA[i];
          const s = (regs[d] >>> 0) + (b >>> 0);
          regs[d] = s | 0;
          regs[d + 1] = (regs[d + 1] + (b >> 31) + (s > 0xffffffff ? 1 : 0)) | 0;
          break;
        }
        case 0x17: {
          const b = immA[i];
          const s = (regs[d] >>> 0) - (b >>> 0);
          regs[d] = s | 0;
          regs[d + 1] = (regs[d + 1] - (b >> 31) - (s < 0 ? 1 : 0)) | 0;
          break;
        }
        case 0x27: {
          const alo = regs[d];
          const ahi = regs[d + 1];
          const blo = immA[i];
          const bhi = immA[i] >> 31;
          const a1 = alo >>> 16;
          const p00 = (alo & 0xffff) * (blo & 0xffff);
          const p01 = (alo & 0xffff) * (blo >>> 16);
          const p10 = a1 * (blo & 0xffff);
          const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
          regs[d] = (mid << 16) | (p00 & 0xffff);
          regs[d + 1] =
            (a1 * (blo >>> 16) +
              (p01 >>> 16) +
              (p10 >>> 16) +
              (mid >>> 16) +
              Math.imul(alo, bhi) +
              Math.imul(ahi, blo)) |
            0;
          break;
        }
        case 0x37:
          if (w >> 16 === 1) I.sdiv64(regs[d], regs[d + 1], immA[i], immA[i] >> 31);
          else I.udiv64(regs[d], regs[d + 1], immA[i], immA[i] >> 31);
          regs[d] = O[0];
          regs[d + 1] = O[1];
          break;
        case 0x47:
          regs[d] |= immA[i];
          regs[d + 1] |= immA[i] >> 31;
          break;
        case 0x57:
          regs[d] &= immA[i];
          regs[d + 1] &= immA[i] >> 31;
          break;
        case 0x67: {
          const n = immA[i] & 63;
          if (n !== 0) {
            const lo = regs[d];
            if (n < 32) {
              regs[d + 1] = (regs[d + 1] << n) | (lo >>> (32 - n));
              regs[d] = lo << n;
            } else {
              regs[d + 1] = lo << (n - 32);
              regs[d] = 0;
            }
          }
          break;
        }
        case 0x77: {
          const n = immA[i] & 63;
          if (n !== 0) {
            const hi = regs[d + 1];
            if (n < 32) {
              regs[d] = (regs[d] >>> n) | (hi << (32 - n));
              regs[d + 1] = hi >>> n;
            } else {
              regs[d] = hi >>> (n - 32);
              regs[d + 1] = 0;
            }
          }
          break;
        }
        case 0x87:
        case 0x8f: {
          const lo = regs[d];
          regs[d] = -lo | 0;
          regs[d + 1] = (~regs[d + 1] + (lo === 0 ? 1 : 0)) | 0;
          break;
        }
        case 0x97:
          if (w >> 16 === 1) I.smod64(regs[d], regs[d + 1], immA[i], immA[i] >> 31);
          else I.umod64(regs[d], regs[d + 1], immA[i], immA[i] >> 31);
          regs[d] = O[0];
          regs[d + 1] = O[1];
          break;
        case 0xa7:
          regs[d] ^= immA[i];
          regs[d + 1] ^= immA[i] >> 31;
          break;
        case 0xb7:
          regs[d] = immA[i];
          regs[d + 1] = immA[i] >> 31;
          break;
        case 0xc7: {
          const n = immA[i] & 63;
          if (n !== 0) {
            const hi = regs[d + 1];
            if (n < 32) {
              regs[d] = (regs[d] >>> n) | (hi << (32 - n));
              regs[d + 1] = hi >> n;
            } else {
              regs[d] = hi >> (n - 32);
              regs[d + 1] = hi >> 31;
            }
          }
          break;
        }
        case 0xd7: {
          // bswap16/32/64 (cpu v4), unconditional
          const w = immA[i];
          if (w === 16) {
            regs[d] = I.bswap16(regs[d]);
            regs[d + 1] = 0;
          } else if (w === 32) {
            regs[d] = I.bswap32(regs[d]);
            regs[d + 1] = 0;
          } else {
            const lo = regs[d];
            regs[d] = I.bswap32(regs[d + 1]);
            regs[d + 1] = I.bswap32(lo);
          }
          break;
        }
        // ---- ALU64, register operand ----
        case 0x0f: {
          const s2 = (w >> 11) & 0x1e;
          const s = (regs[d] >>> 0) + (regs[s2] >>> 0);
          regs[d] = s | 0;
          regs[d + 1] = (regs[d + 1] + regs[s2 + 1] + (s > 0xffffffff ? 1 : 0)) | 0;
          break;
        }
        case 0x1f: {
          const s2 = (w >> 11) & 0x1e;
          const s = (regs[d] >>> 0) - (regs[s2] >>> 0);
          regs[d] = s | 0;
          regs[d + 1] = (regs[d + 1] - regs[s2 + 1] - (s < 0 ? 1 : 0)) | 0;
          break;
        }
        case 0x2f: {
          const s2 = (w >> 11) & 0x1e;
          const alo = regs[d];
          const ahi = regs[d + 1];
          const blo = regs[s2];
          const bhi = regs[s2 + 1];
          const a1 = alo >>> 16;
          const p00 = (alo & 0xffff) * (blo & 0xffff);
          const p01 = (alo & 0xffff) * (blo >>> 16);
          const p10 = a1 * (blo & 0xffff);
          const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
          regs[d] = (mid << 16) | (p00 & 0xffff);
          regs[d + 1] =
            (a1 * (blo >>> 16) +
              (p01 >>> 16) +
              (p10 >>> 16) +
              (mid >>> 16) +
              Math.imul(alo, bhi) +
              Math.imul(ahi, blo)) |
            0;
          break;
        }
        case 0x3f: {
          const s2 = (w >> 11) & 0x1e;
          if (w >> 16 === 1) I.sdiv64(regs[d], regs[d + 1], regs[s2], regs[s2 + 1]);
          else I.udiv64(regs[d], regs[d + 1], regs[s2], regs[s2 + 1]);
          regs[d] = O[0];
          regs[d + 1] = O[1];
          break;
        }
        case 0x4f: {
          const s2 = (w >> 11) & 0x1e;
          regs[d] |= regs[s2];
          regs[d + 1] |= regs[s2 + 1];
          break;
        }
        case 0x5f: {
          const s2 = (w >> 11) & 0x1e;
          regs[d] &= regs[s2];
          regs[d + 1] &= regs[s2 + 1];
          break;
        }
        case 0x6f: {
          const n = regs[(w >> 11) & 0x1e] & 63;
          if (n !== 0) {
            const lo = regs[d];
            if (n < 32) {
              regs[d + 1] = (regs[d + 1] << n) | (lo >>> (32 - n));
              regs[d] = lo << n;
            } else {
              regs[d + 1] = lo << (n - 32);
              regs[d] = 0;
            }
          }
          break;
        }
        case 0x7f: {
          const n = regs[(w >> 11) & 0x1e] & 63;
          if (n !== 0) {
            const hi = regs[d + 1];
            if (n < 32) {
              regs[d] = (regs[d] >>> n) | (hi << (32 - n));
              regs[d + 1] = hi >>> n;
            } else {
              regs[d] = hi >>> (n - 32);
              regs[d + 1] = 0;
            }
          }
          break;
        }
        case 0x9f: {
          const s2 = (w >> 11) & 0x1e;
          if (w >> 16 === 1) I.smod64(regs[d], regs[d + 1], regs[s2], regs[s2 + 1]);
          else I.umod64(regs[d], regs[d + 1], regs[s2], regs[s2 + 1]);
          regs[d] = O[0];
          regs[d + 1] = O[1];
          break;
        }
        case 0xaf: {
          const s2 = (w >> 11) & 0x1e;
          regs[d] ^= regs[s2];
          regs[d + 1] ^= regs[s2 + 1];
          break;
        }
        case 0xbf: {
          const s2 = (w >> 11) & 0x1e;
          const o = w >> 16;
          if (o === 0) {
            regs[d] = regs[s2];
            regs[d + 1] = regs[s2 + 1];
          } else {
            const v =
              o === 8 ? (regs[s2] << 24) >> 24 : o === 16 ? (regs[s2] << 16) >> 16 : regs[s2];
            regs[d] = v;
            regs[d + 1] = v >> 31;
          }
          break;
        }
        case 0xcf: {
          const n = regs[(w >> 11) & 0x1e] & 63;
          if (n !== 0) {
            const hi = regs[d + 1];
            if (n < 32) {
              regs[d] = (regs[d] >>> n) | (hi << (32 - n));
              regs[d + 1] = hi >> n;
            } else {
              regs[d] = hi >> (n - 32);
              regs[d + 1] = hi >> 31;
            }
          }
          break;
        }
        // ---- ALU32 (results zero-extended) ----
        case 0x04:
          regs[d] = (regs[d] + immA[i]) | 0;
          regs[d + 1] = 0;
          break;
        case 0x0c:
          regs[d] = (regs[d] + regs[(w >> 11) & 0x1e]) | 0;
          regs[d + 1] = 0;
          break;
        case 0x14:
          regs[d] = (regs[d] - immA[i]) | 0;
          regs[d + 1] = 0;
          break;
        case 0x1c:
          regs[d] = (regs[d] - regs[(w >> 11) & 0x1e]) | 0;
          regs[d + 1] = 0;
          break;
        case 0x24:
          regs[d] = Math.imul(regs[d], immA[i]);
          regs[d + 1] = 0;
          break;
        case 0x2c:
          regs[d] = Math.imul(regs[d], regs[(w >> 11) & 0x1e]);
          regs[d + 1] = 0;
          break;
        case 0x34:
        case 0x3c: {
          const b = (w & 0xff) === 0x34 ? immA[i] : regs[(w >> 11) & 0x1e];
          if (b === 0) regs[d] = 0;
          else if (w >> 16 === 1) regs[d] = (regs[d] / b) | 0;
          else regs[d] = ((regs[d] >>> 0) / (b >>> 0)) >>> 0;
          regs[d + 1] = 0;
          break;
        }
        case 0x94:
        case 0x9c: {
          const b = (w & 0xff) === 0x94 ? immA[i] : regs[(w >> 11) & 0x1e];
          if (b !== 0) {
            if (w >> 16 === 1) regs[d] = (regs[d] % b) | 0;
            else regs[d] = ((regs[d] >>> 0) % (b >>> 0)) | 0;
          }
          regs[d + 1] = 0;
          break;
        }
        case 0x44:
          regs[d] |= immA[i];
          regs[d + 1] = 0;
          break;
        case 0x4c:
          regs[d] |= regs[(w >> 11) & 0x1e];
          regs[d + 1] = 0;
          break;
        case 0x54:
          regs[d] &= immA[i];
          regs[d + 1] = 0;
          break;
        case 0x5c:
          regs[d] &= regs[(w >> 11) & 0x1e];
          regs[d + 1] = 0;
          break;
        case 0x64:
          regs[d] <<= immA[i] & 31;
          regs[d + 1] = 0;
          break;
        case 0x6c:
          regs[d] <<= regs[(w >> 11) & 0x1e] & 31;
          regs[d + 1] = 0;
          break;
        case 0x74:
          regs[d] = regs[d] >>> (immA[i] & 31);
          regs[d + 1] = 0;
          break;
        case 0x7c:
          regs[d] = regs[d] >>> (regs[(w >> 11) & 0x1e] & 31);
          regs[d + 1] = 0;
          break;
        case 0x84:
        case 0x8c:
          regs[d] = -regs[d] | 0;
          regs[d + 1] = 0;
          break;
        case 0xa4:
          regs[d] ^= immA[i];
          regs[d + 1] = 0;
          break;
        case 0xac:
          regs[d] ^= regs[(w >> 11) & 0x1e];
          regs[d + 1] = 0;
          break;
        case 0xb4:
          regs[d] = immA[i];
          regs[d + 1] = 0;
          break;
        case 0xbc: {
          const v = regs[(w >> 11) & 0x1e];
          const o = w >> 16;
          regs[d] = o === 8 ? (v << 24) >> 24 : o === 16 ? (v << 16) >> 16 : v;
          regs[d + 1] = 0;
          break;
        }
        case 0xc4:
          regs[d] >>= immA[i] & 31;
          regs[d + 1] = 0;
          break;
        case 0xcc:
          regs[d] >>= regs[(w >> 11) & 0x1e] & 31;
          regs[d + 1] = 0;
          break;
        case 0xd4: {
          // le16/32/64: a truncation on a little-endian machine
          const w = immA[i];
          if (w === 16) regs[d] &= 0xffff;
          if (w !== 64) regs[d + 1] = 0;
          break;
        }
        case 0xdc: {
          const w = immA[i];
          if (w === 16) {
            regs[d] = I.bswap16(regs[d]);
            regs[d + 1] = 0;
          } else if (w === 32) {
            regs[d] = I.bswap32(regs[d]);
            regs[d + 1] = 0;
          } else {
            const lo = regs[d];
            regs[d] = I.bswap32(regs[d + 1]);
            regs[d + 1] = I.bswap32(lo);
          }
          break;
        }
        // ---- 64-bit jumps (each case inline: no helper calls on the hot path) ----
        case 0x05:
          pc = pc + (w >> 16);
          break;
        case 0x06:
          pc = pc + immA[i];
          break;
        case 0x15: {
          // jeq imm
          const blo = immA[i];
          const bhi = blo >> 31;
          if (regs[d] === blo && regs[d + 1] === bhi) pc = pc + (w >> 16);
          break;
        }
        case 0x1d: {
          // jeq
          const s2 = (w >> 11) & 0x1e;
          const blo = regs[s2];
          const bhi = regs[s2 + 1];
          if (regs[d] === blo && regs[d + 1] === bhi) pc = pc + (w >> 16);
          break;
        }
        case 0x25: {
          // jgt imm
          const blo = immA[i];
          const bhi = blo >> 31;
          const ahi = regs[d + 1] >>> 0;
          const bhu = bhi >>> 0;
          if (ahi > bhu || (ahi === bhu && regs[d] >>> 0 > blo >>> 0)) pc = pc + (w >> 16);
          break;
        }
        case 0x2d: {
          // jgt
          const s2 = (w >> 11) & 0x1e;
          const blo = regs[s2];
          const bhi = regs[s2 + 1];
          const ahi = regs[d + 1] >>> 0;
          const bhu = bhi >>> 0;
          if (ahi > bhu || (ahi === bhu && regs[d] >>> 0 > blo >>> 0)) pc = pc + (w >> 16);
          break;
        }
        case 0x35: {
          // jge imm
          const blo = immA[i];
          const bhi = blo >> 31;
          const ahi = regs[d + 1] >>> 0;
          const bhu = bhi >>> 0;
          if (ahi > bhu || (ahi === bhu && regs[d] >>> 0 >= blo >>> 0)) pc = pc + (w >> 16);
          break;
        }
        case 0x3d: {
          // jge
          const s2 = (w >> 11) & 0x1e;
          const blo = regs[s2];
          const bhi = regs[s2 + 1];
          const ahi = regs[d + 1] >>> 0;
          const bhu = bhi >>> 0;
          if (ahi > bhu || (ahi === bhu && regs[d] >>> 0 >= blo >>> 0)) pc = pc + (w >> 16);
          break;
        }
        case 0x45: {
          // jset imm
          const blo = immA[i];
          const bhi = blo >> 31;
          if (((regs[d] & blo) | (regs[d + 1] & bhi)) !== 0) pc = pc + (w >> 16);
          break;
        }
        case 0x4d: {
          // jset
          const s2 = (w >> 11) & 0x1e;
          const blo = regs[s2];
          const bhi = regs[s2 + 1];
          if (((regs[d] & blo) | (regs[d + 1] & bhi)) !== 0) pc = pc + (w >> 16);
          break;
        }
        case 0x55: {
          // jne imm
          const blo = immA[i];
          const bhi = blo >> 31;
          if (regs[d] !== blo || regs[d + 1] !== bhi) pc = pc + (w >> 16);
          break;
        }
        case 0x5d: {
          // jne
          const s2 = (w >> 11) & 0x1e;
          const blo = regs[s2];
          const bhi = regs[s2 + 1];
          if (regs[d] !== blo || regs[d + 1] !== bhi) pc = pc + (w >> 16);
          break;
        }
        case 0x65: {
          // jsgt imm
          const blo = immA[i];
          const bhi = blo >> 31;
          const ahi = regs[d + 1];
          if (ahi > bhi || (ahi === bhi && regs[d] >>> 0 > blo >>> 0)) pc = pc + (w >> 16);
          break;
        }
        case 0x6d: {
          // jsgt
          const s2 = (w >> 11) & 0x1e;
          const blo = regs[s2];
          const bhi = regs[s2 + 1];
          const ahi = regs[d + 1];
          if (ahi > bhi || (ahi === bhi && regs[d] >>> 0 > blo >>> 0)) pc = pc + (w >> 16);
          break;
        }
        case 0x75: {
          // jsge imm
          const blo = immA[i];
          const bhi = blo >> 31;
          const ahi = regs[d + 1];
          if (ahi > bhi || (ahi === bhi && regs[d] >>> 0 >= blo >>> 0)) pc = pc + (w >> 16);
          break;
        }
        case 0x7d: {
          // jsge
          const s2 = (w >> 11) & 0x1e;
          const blo = regs[s2];
          const bhi = regs[s2 + 1];
          const ahi = regs[d + 1];
          if (ahi > bhi || (ahi === bhi && regs[d] >>> 0 >= blo >>> 0)) pc = pc + (w >> 16);
          break;
        }
        case 0xa5: {
          // jlt imm
          const blo = immA[i];
          const bhi = blo >> 31;
          const ahi = regs[d + 1] >>> 0;
          const bhu = bhi >>> 0;
          if (ahi < bhu || (ahi === bhu && regs[d] >>> 0 < blo >>> 0)) pc = pc + (w >> 16);
          break;
        }
        case 0xad: {
          // jlt
          const s2 = (w >> 11) & 0x1e;
          const blo = regs[s2];
          const bhi = regs[s2 + 1];
          const ahi = regs[d + 1] >>> 0;
          const bhu = bhi >>> 0;
          if (ahi < bhu || (ahi === bhu && regs[d] >>> 0 < blo >>> 0)) pc = pc + (w >> 16);
          break;
        }
        case 0xb5: {
          // jle imm
          const blo = immA[i];
          const bhi = blo >> 31;
          const ahi = regs[d + 1] >>> 0;
          const bhu = bhi >>> 0;
          if (ahi < bhu || (ahi === bhu && regs[d] >>> 0 <= blo >>> 0)) pc = pc + (w >> 16);
          break;
        }
        case 0xbd: {
          // jle
          const s2 = (w >> 11) & 0x1e;
          const blo = regs[s2];
          const bhi = regs[s2 + 1];
          const ahi = regs[d + 1] >>> 0;
          const bhu = bhi >>> 0;
          if (ahi < bhu || (ahi === bhu && regs[d] >>> 0 <= blo >>> 0)) pc = pc + (w >> 16);
          break;
        }
        case 0xc5: {
          // jslt imm
          const blo = immA[i];
          const bhi = blo >> 31;
          const ahi = regs[d + 1];
          if (ahi < bhi || (ahi === bhi && regs[d] >>> 0 < blo >>> 0)) pc = pc + (w >> 16);
          break;
        }
        case 0xcd: {
          // jslt
          const s2 = (w >> 11) & 0x1e;
          const blo = regs[s2];
          const bhi = regs[s2 + 1];
          const ahi = regs[d + 1];
          if (ahi < bhi || (ahi === bhi && regs[d] >>> 0 < blo >>> 0)) pc = pc + (w >> 16);
          break;
        }
        case 0xd5: {
          // jsle imm
          const blo = immA[i];
          const bhi = blo >> 31;
          const ahi = regs[d + 1];
          if (ahi < bhi || (ahi === bhi && regs[d] >>> 0 <= blo >>> 0)) pc = pc + (w >> 16);
          break;
        }
        case 0xdd: {
          // jsle
          const s2 = (w >> 11) & 0x1e;
          const blo = regs[s2];
          const bhi = regs[s2 + 1];
          const ahi = regs[d + 1];
          if (ahi < bhi || (ahi === bhi && regs[d] >>> 0 <= blo >>> 0)) pc = pc + (w >> 16);
          break;
        }
        // ---- 32-bit jumps ----
        case 0x16: // jeq32 imm
          if (regs[d] === immA[i]) pc = pc + (w >> 16);
          break;
        case 0x1e: // jeq32
          if (regs[d] === regs[(w >> 11) & 0x1e]) pc = pc + (w >> 16);
          break;
        case 0x26: // jgt32 imm
          if (regs[d] >>> 0 > immA[i] >>> 0) pc = pc + (w >> 16);
          break;
        case 0x2e: // jgt32
          if (regs[d] >>> 0 > regs[(w >> 11) & 0x1e] >>> 0) pc = pc + (w >> 16);
          break;
        case 0x36: // jge32 imm
          if (regs[d] >>> 0 >= immA[i] >>> 0) pc = pc + (w >> 16);
          break;
        case 0x3e: // jge32
          if (regs[d] >>> 0 >= regs[(w >> 11) & 0x1e] >>> 0) pc = pc + (w >> 16);
          break;
        case 0x46: // jset32 imm
          if ((regs[d] & immA[i]) !== 0) pc = pc + (w >> 16);
          break;
        case 0x4e: // jset32
          if ((regs[d] & regs[(w >> 11) & 0x1e]) !== 0) pc = pc + (w >> 16);
          break;
        case 0x56: // jne32 imm
          if (regs[d] !== immA[i]) pc = pc + (w >> 16);
          break;
        case 0x5e: // jne32
          if (regs[d] !== regs[(w >> 11) & 0x1e]) pc = pc + (w >> 16);
          break;
        case 0x66: // jsgt32 imm
          if (regs[d] > immA[i]) pc = pc + (w >> 16);
          break;
        case 0x6e: // jsgt32
          if (regs[d] > regs[(w >> 11) & 0x1e]) pc = pc + (w >> 16);
          break;
        case 0x76: // jsge32 imm
          if (regs[d] >= immA[i]) pc = pc + (w >> 16);
          break;
        case 0x7e: // jsge32
          if (regs[d] >= regs[(w >> 11) & 0x1e]) pc = pc + (w >> 16);
          break;
        case 0xa6: // jlt32 imm
          if (regs[d] >>> 0 < immA[i] >>> 0) pc = pc + (w >> 16);
          break;
        case 0xae: // jlt32
          if (regs[d] >>> 0 < regs[(w >> 11) & 0x1e] >>> 0) pc = pc + (w >> 16);
          break;
        case 0xb6: // jle32 imm
          if (regs[d] >>> 0 <= immA[i] >>> 0) pc = pc + (w >> 16);
          break;
        case 0xbe: // jle32
          if (regs[d] >>> 0 <= regs[(w >> 11) & 0x1e] >>> 0) pc = pc + (w >> 16);
          break;
        case 0xc6: // jslt32 imm
          if (regs[d] < immA[i]) pc = pc + (w >> 16);
          break;
        case 0xce: // jslt32
          if (regs[d] < regs[(w >> 11) & 0x1e]) pc = pc + (w >> 16);
          break;
        case 0xd6: // jsle32 imm
          if (regs[d] <= immA[i]) pc = pc + (w >> 16);
          break;
        case 0xde: // jsle32
          if (regs[d] <= regs[(w >> 11) & 0x1e]) pc = pc + (w >> 16);
          break;
        // ---- lddw: the loader resolved the value into the two immediates ----
        case 0x18:
          regs[d] = immA[i];
          regs[d + 1] = immA[i + 1];
          pc = i + 2;
          break;
        // ---- loads ----
        case 0x61:
        case 0x69:
        case 0x71:
        case 0x79:
        case 0x81:
        case 0x89:
        case 0x91: {
          const s2 = (w >> 11) & 0x1e;
          const op = w & 0xff;
          const size =
            op === 0x79 ? 8 : op === 0x61 || op === 0x81 ? 4 : op === 0x71 || op === 0x91 ? 1 : 2;
          const e = (regs[s2] >>> 0) + (w >> 16);
          const hi = regs[s2 + 1] + (e > 0xffffffff ? 1 : e < 0 ? -1 : 0);
          const a = e >>> 0;
          if (
            !(hi === 0 && a >= sLo && a + size <= sHi) &&
            !(hi === 0 && a >= cLo[i] && a + size <= cHi[i])
          ) {
            this.depth = depth;
            this.slow(c, i, a, hi, size, false);
          }
          switch (op) {
            case 0x61: regs[d] = dv.getInt32(a, true); regs[d + 1] = 0; break; // prettier-ignore
            case 0x69: regs[d] = dv.getUint16(a, true); regs[d + 1] = 0; break; // prettier-ignore
            case 0x71: regs[d] = dv.getUint8(a); regs[d + 1] = 0; break; // prettier-ignore
            case 0x79: regs[d] = dv.getInt32(a, true); regs[d + 1] = dv.getInt32(a + 4, true); break; // prettier-ignore
            case 0x81: regs[d] = dv.getInt32(a, true); regs[d + 1] = regs[d] >> 31; break; // prettier-ignore
            case 0x89: regs[d] = dv.getInt16(a, true); regs[d + 1] = regs[d] >> 31; break; // prettier-ignore
            default:
              regs[d] = dv.getInt8(a);
              regs[d + 1] = regs[d] >> 31; // 0x91
          }
          break;
        }
        // ---- stores (immediate and register) ----
        case 0x62:
        case 0x6a:
        case 0x72:
        case 0x7a:
        case 0x63:
        case 0x6b:
        case 0x73:
        case 0x7b: {
          const op = w & 0xff;
          const sz = op & 0x18;
          const size = sz === 0x18 ? 8 : sz === 0x00 ? 4 : sz === 0x10 ? 1 : 2;
          const e = (regs[d] >>> 0) + (w >> 16);
          const hi = regs[d + 1] + (e > 0xffffffff ? 1 : e < 0 ? -1 : 0);
          const a = e >>> 0;
          if (
            !(hi === 0 && a >= sLo && a + size <= sHi) &&
            !(hi === 0 && a >= cLo[i] && a + size <= cHi[i])
          ) {
            this.depth = depth;
            this.slow(c, i, a, hi, size, true);
          }
          let vlo: number, vhi: number;
          if (op & 1) {
            vlo = regs[(w >> 11) & 0x1e];
            vhi = regs[((w >> 11) & 0x1e) + 1];
          } else {
            vlo = immA[i];
            vhi = vlo >> 31;
          }
          if (size === 8) {
            dv.setInt32(a, vlo, true);
            dv.setInt32(a + 4, vhi, true);
          } else if (size === 4) dv.setInt32(a, vlo, true);
          else if (size === 2) dv.setInt16(a, vlo, true);
          else dv.setInt8(a, vlo);
          break;
        }
        // ---- atomics ----
        case 0xc3:
        case 0xdb: {
          const size = (w & 0xff) === 0xdb ? 8 : 4;
          const e = (regs[d] >>> 0) + (w >> 16);
          const hi = regs[d + 1] + (e > 0xffffffff ? 1 : e < 0 ? -1 : 0);
          const a = e >>> 0;
          if (
            !(hi === 0 && a >= sLo && a + size <= sHi) &&
            !(hi === 0 && a >= cLo[i] && a + size <= cHi[i])
          ) {
            this.depth = depth;
            this.slow(c, i, a, hi, size, true);
          }
          if (size === 8) atomic64(dv, a, immA[i], regs, (w >> 11) & 0x1e);
          else atomic32(dv, a, immA[i], regs, (w >> 11) & 0x1e);
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
            const t = (vlo - FUNC_ADDR_BASE) / 8;
            if (vhi === 0 && vlo >= FUNC_ADDR_BASE && Number.isInteger(t) && t < p.insns.length) {
              target = t;
            } else if (vhi === 0 && m.helpers[vlo] !== undefined) helperId = vlo;
            else throw callxFault(vlo, vhi, i);
          } else if (((w >> 12) & 0xf) === 1) target = pc + immA[i];
          else if (((w >> 12) & 0xf) === 0) helperId = immA[i];
          else throw kfuncFault(immA[i], i);
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
              immA = p.insns.imm;
              c = this.cacheFor(p);
              ins = c.ins;
              cLo = c.lo;
              cHi = c.hi;
              base = depth;
              pc = 0;
              this.prog = p;
            }
            break;
          }
          const h = m.helpers[helperId];
          if (h === undefined) throw unknownHelperFault(helperId, i);
          m.trace?.({ kind: "helper", prog: p.name, pc: i, id: helperId, name: h.name });
          this.left = left;
          h.fn(this, regs);
          left = this.left;
          dv = mem.dv;
          if (c.epoch !== mem.epoch) c = this.cacheFor(p);
          ins = c.ins;
          cLo = c.lo;
          cHi = c.hi;
          break;
        }
        case 0x95: {
          if (depth === entryDepth) {
            this.left = left;
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
            immA = p.insns.imm;
            c = this.cacheFor(p);
            ins = c.ins;
            cLo = c.lo;
            cHi = c.hi;
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
          throw unsupportedOpcodeFault(w, i);
      }
    }
  }
}
