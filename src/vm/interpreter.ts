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
/** Access sizes by an opcode's size bits (`op & 0x18`: W, H, B, DW), one byte each. */
const SIZES = 0x08010204;
/**
 * Loads and stores through r10 at an offset inside the frame get this mode (BPF_ABS, invalid
 * for their classes) in place of BPF_MEM when decoded: the current frame is always live, so
 * they need no check at run time (the JIT drops the same checks).
 */
const FRAME_MODE = 0x20;

/**
 * A program as the interpreter runs it: four int32s per instruction in one typed array, so an
 * instruction costs one array's checks. At `4 * k`, instruction k packed as
 * `opcode | dst << 8 | src << 12 | off << 16`; at `4 * k + 1` its immediate; at `4 * k + 2`
 * and `+ 3` its bounds cache, the slot it touched last as a start `lo` and a count `lim` of
 * the addresses from `lo` it may access with its size: `(addr - lo) >>> 0 < lim` (0: none).
 */
interface Decoded {
  code: Int32Array;
  /** The address space's epoch the caches were filled in. */
  epoch: number;
}

/**
 * The eBPF interpreter. Registers are 32-bit halves in an Int32Array, instructions are
 * pre-decoded typed arrays, and frames live in typed arrays too: a program's call depth, tail
 * calls and loops never grow the JavaScript stack. Every memory access is checked: through r10
 * inside the frame when decoded, otherwise inline against the slot the instruction touched
 * last, then the live stack frames, then the page table.
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

  /** The program's {@link Decoded} form; its caches emptied if memory changed since. */
  private decoded(p: ExecProgram): Decoded {
    let c = p.engineData.get("interp") as Decoded | undefined;
    if (c === undefined) {
      const d = p.insns;
      const code = new Int32Array(d.length * 4);
      for (let k = 0; k < d.length; k++) {
        let op = d.code[k];
        const cls = op & 0x07;
        const base = cls === 0x01 ? d.src[k] : d.dst[k];
        if ((op & 0xe0) === 0x60 && cls >= 0x01 && cls <= 0x03 && base === 10) {
          const size = (SIZES >>> (op & 0x18)) & 0xff;
          if (d.off[k] >= -FRAME && d.off[k] + size <= 0) op = (op & ~0xe0) | FRAME_MODE;
        }
        code[4 * k] = op | (d.dst[k] << 8) | (d.src[k] << 12) | (d.off[k] << 16);
        code[4 * k + 1] = d.imm[k];
      }
      c = { code, epoch: this.machine.mem.epoch };
      p.engineData.set("interp", c);
    } else if (c.epoch !== this.machine.mem.epoch) {
      for (let k = 3; k < c.code.length; k += 4) c.code[k] = 0;
      c.epoch = this.machine.mem.epoch;
    }
    return c;
  }

  /** The page-table check of an access the fast paths did not accept; fills the cache. */
  private slow(c: Decoded, i: number, addr: number, hi: number, size: number, write: boolean) {
    if (hi === 0 && this.machine.mem.checkSlot(addr, size, write, this.slot)) {
      c.code[4 * i + 2] = this.slot[0];
      c.code[4 * i + 3] = this.slot[1] - this.slot[0] - size + 1; // >= 1: this access fits
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
    let c = this.decoded(p);
    let code = c.code;
    let depth = entryDepth;
    let base = entryDepth;
    const sHi = m.stackTop | 0;
    let sLo = sHi - (depth + 1) * FRAME;
    regs[20] = sHi - depth * FRAME;
    regs[21] = 0;
    let dv = mem.dv;
    let left = this.left;
    let pc = startPc | 0;
    this.prog = p;
    this.depth = depth;
    for (;;) {
      const i = pc;
      pc = i + 1;
      if (--left < 0) {
        this.left = 0;
        throw budgetError(m, p, i);
      }
      const j = i << 2; // 4 * i
      const w = code[j];
      const d = (w >> 7) & 0x1e;
      switch (w & 0xff) {
        // ---- ALU64, immediate operand (sign-extended) ----
        case 0x07: {
          const b = code[j + 1];
          const s = (regs[d] >>> 0) + (b >>> 0);
          regs[d] = s | 0;
          regs[d + 1] = (regs[d + 1] + (b >> 31) + (s > 0xffffffff ? 1 : 0)) | 0;
          break;
        }
        case 0x17: {
          const b = code[j + 1];
          const s = (regs[d] >>> 0) - (b >>> 0);
          regs[d] = s | 0;
          regs[d + 1] = (regs[d + 1] - (b >> 31) - (s < 0 ? 1 : 0)) | 0;
          break;
        }
        case 0x27: {
          const alo = regs[d];
          const ahi = regs[d + 1];
          const blo = code[j + 1];
          const bhi = code[j + 1] >> 31;
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
          if (w >> 16 === 1) I.sdiv64(regs[d], regs[d + 1], code[j + 1], code[j + 1] >> 31);
          else I.udiv64(regs[d], regs[d + 1], code[j + 1], code[j + 1] >> 31);
          regs[d] = O[0];
          regs[d + 1] = O[1];
          break;
        case 0x47:
          regs[d] |= code[j + 1];
          regs[d + 1] |= code[j + 1] >> 31;
          break;
        case 0x57:
          regs[d] &= code[j + 1];
          regs[d + 1] &= code[j + 1] >> 31;
          break;
        case 0x67: {
          const n = code[j + 1] & 63;
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
          const n = code[j + 1] & 63;
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
          if (w >> 16 === 1) I.smod64(regs[d], regs[d + 1], code[j + 1], code[j + 1] >> 31);
          else I.umod64(regs[d], regs[d + 1], code[j + 1], code[j + 1] >> 31);
          regs[d] = O[0];
          regs[d + 1] = O[1];
          break;
        case 0xa7:
          regs[d] ^= code[j + 1];
          regs[d + 1] ^= code[j + 1] >> 31;
          break;
        case 0xb7:
          regs[d] = code[j + 1];
          regs[d + 1] = code[j + 1] >> 31;
          break;
        case 0xc7: {
          const n = code[j + 1] & 63;
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
          const w = code[j + 1];
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
          regs[d] = (regs[d] + code[j + 1]) | 0;
          regs[d + 1] = 0;
          break;
        case 0x0c:
          regs[d] = (regs[d] + regs[(w >> 11) & 0x1e]) | 0;
          regs[d + 1] = 0;
          break;
        case 0x14:
          regs[d] = (regs[d] - code[j + 1]) | 0;
          regs[d + 1] = 0;
          break;
        case 0x1c:
          regs[d] = (regs[d] - regs[(w >> 11) & 0x1e]) | 0;
          regs[d + 1] = 0;
          break;
        case 0x24:
          regs[d] = Math.imul(regs[d], code[j + 1]);
          regs[d + 1] = 0;
          break;
        case 0x2c:
          regs[d] = Math.imul(regs[d], regs[(w >> 11) & 0x1e]);
          regs[d + 1] = 0;
          break;
        case 0x34:
        case 0x3c: {
          const b = (w & 0xff) === 0x34 ? code[j + 1] : regs[(w >> 11) & 0x1e];
          if (b === 0) regs[d] = 0;
          else if (w >> 16 === 1) regs[d] = (regs[d] / b) | 0;
          else regs[d] = ((regs[d] >>> 0) / (b >>> 0)) >>> 0;
          regs[d + 1] = 0;
          break;
        }
        case 0x94:
        case 0x9c: {
          const b = (w & 0xff) === 0x94 ? code[j + 1] : regs[(w >> 11) & 0x1e];
          if (b !== 0) {
            if (w >> 16 === 1) regs[d] = (regs[d] % b) | 0;
            else regs[d] = ((regs[d] >>> 0) % (b >>> 0)) | 0;
          }
          regs[d + 1] = 0;
          break;
        }
        case 0x44:
          regs[d] |= code[j + 1];
          regs[d + 1] = 0;
          break;
        case 0x4c:
          regs[d] |= regs[(w >> 11) & 0x1e];
          regs[d + 1] = 0;
          break;
        case 0x54:
          regs[d] &= code[j + 1];
          regs[d + 1] = 0;
          break;
        case 0x5c:
          regs[d] &= regs[(w >> 11) & 0x1e];
          regs[d + 1] = 0;
          break;
        case 0x64:
          regs[d] <<= code[j + 1] & 31;
          regs[d + 1] = 0;
          break;
        case 0x6c:
          regs[d] <<= regs[(w >> 11) & 0x1e] & 31;
          regs[d + 1] = 0;
          break;
        case 0x74:
          regs[d] = regs[d] >>> (code[j + 1] & 31);
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
          regs[d] ^= code[j + 1];
          regs[d + 1] = 0;
          break;
        case 0xac:
          regs[d] ^= regs[(w >> 11) & 0x1e];
          regs[d + 1] = 0;
          break;
        case 0xb4:
          regs[d] = code[j + 1];
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
          regs[d] >>= code[j + 1] & 31;
          regs[d + 1] = 0;
          break;
        case 0xcc:
          regs[d] >>= regs[(w >> 11) & 0x1e] & 31;
          regs[d + 1] = 0;
          break;
        case 0xd4: {
          // le16/32/64: a truncation on a little-endian machine
          const w = code[j + 1];
          if (w === 16) regs[d] &= 0xffff;
          if (w !== 64) regs[d + 1] = 0;
          break;
        }
        case 0xdc: {
          const w = code[j + 1];
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
          pc = pc + code[j + 1];
          break;
        case 0x15: {
          // jeq imm
          const blo = code[j + 1];
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
          const blo = code[j + 1];
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
          const blo = code[j + 1];
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
          const blo = code[j + 1];
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
          const blo = code[j + 1];
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
          const blo = code[j + 1];
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
          const blo = code[j + 1];
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
          const blo = code[j + 1];
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
          const blo = code[j + 1];
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
          const blo = code[j + 1];
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
          const blo = code[j + 1];
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
          if (regs[d] === code[j + 1]) pc = pc + (w >> 16);
          break;
        case 0x1e: // jeq32
          if (regs[d] === regs[(w >> 11) & 0x1e]) pc = pc + (w >> 16);
          break;
        case 0x26: // jgt32 imm
          if (regs[d] >>> 0 > code[j + 1] >>> 0) pc = pc + (w >> 16);
          break;
        case 0x2e: // jgt32
          if (regs[d] >>> 0 > regs[(w >> 11) & 0x1e] >>> 0) pc = pc + (w >> 16);
          break;
        case 0x36: // jge32 imm
          if (regs[d] >>> 0 >= code[j + 1] >>> 0) pc = pc + (w >> 16);
          break;
        case 0x3e: // jge32
          if (regs[d] >>> 0 >= regs[(w >> 11) & 0x1e] >>> 0) pc = pc + (w >> 16);
          break;
        case 0x46: // jset32 imm
          if ((regs[d] & code[j + 1]) !== 0) pc = pc + (w >> 16);
          break;
        case 0x4e: // jset32
          if ((regs[d] & regs[(w >> 11) & 0x1e]) !== 0) pc = pc + (w >> 16);
          break;
        case 0x56: // jne32 imm
          if (regs[d] !== code[j + 1]) pc = pc + (w >> 16);
          break;
        case 0x5e: // jne32
          if (regs[d] !== regs[(w >> 11) & 0x1e]) pc = pc + (w >> 16);
          break;
        case 0x66: // jsgt32 imm
          if (regs[d] > code[j + 1]) pc = pc + (w >> 16);
          break;
        case 0x6e: // jsgt32
          if (regs[d] > regs[(w >> 11) & 0x1e]) pc = pc + (w >> 16);
          break;
        case 0x76: // jsge32 imm
          if (regs[d] >= code[j + 1]) pc = pc + (w >> 16);
          break;
        case 0x7e: // jsge32
          if (regs[d] >= regs[(w >> 11) & 0x1e]) pc = pc + (w >> 16);
          break;
        case 0xa6: // jlt32 imm
          if (regs[d] >>> 0 < code[j + 1] >>> 0) pc = pc + (w >> 16);
          break;
        case 0xae: // jlt32
          if (regs[d] >>> 0 < regs[(w >> 11) & 0x1e] >>> 0) pc = pc + (w >> 16);
          break;
        case 0xb6: // jle32 imm
          if (regs[d] >>> 0 <= code[j + 1] >>> 0) pc = pc + (w >> 16);
          break;
        case 0xbe: // jle32
          if (regs[d] >>> 0 <= regs[(w >> 11) & 0x1e] >>> 0) pc = pc + (w >> 16);
          break;
        case 0xc6: // jslt32 imm
          if (regs[d] < code[j + 1]) pc = pc + (w >> 16);
          break;
        case 0xce: // jslt32
          if (regs[d] < regs[(w >> 11) & 0x1e]) pc = pc + (w >> 16);
          break;
        case 0xd6: // jsle32 imm
          if (regs[d] <= code[j + 1]) pc = pc + (w >> 16);
          break;
        case 0xde: // jsle32
          if (regs[d] <= regs[(w >> 11) & 0x1e]) pc = pc + (w >> 16);
          break;
        // ---- lddw: the loader resolved the value into the two immediates ----
        case 0x18:
          regs[d] = code[j + 1];
          regs[d + 1] = code[j + 5];
          pc = i + 2;
          break;
        // ---- loads ----
        case 0x61:
        case 0x69:
        case 0x71:
        case 0x79:
        case 0x81:
        case 0x89:
        case 0x91:
        case 0x21:
        case 0x29:
        case 0x31:
        case 0x39: {
          let op = w & 0xff;
          let a: number;
          if ((op & 0xe0) === FRAME_MODE) {
            a = regs[20] + (w >> 16); // inside the current frame: checked when decoded
            op |= 0x40; // back to BPF_MEM
          } else {
            // base + offset in 64 bits (the carry into the high half), then the slot this
            // instruction touched last, the live stack frames, and the page table (slow)
            const s2 = (w >> 11) & 0x1e;
            const size = (SIZES >>> (op & 0x18)) & 0xff;
            const off = w >> 16;
            const lo = regs[s2];
            a = (lo + off) | 0;
            const hi = (regs[s2 + 1] + (off >> 31) + (a >>> 0 < lo >>> 0 ? 1 : 0)) | 0;
            if (
              hi !== 0 ||
              ((a - code[j + 2]) >>> 0 >= code[j + 3] >>> 0 && (a - sLo) >>> 0 > sHi - sLo - size)
            ) {
              this.depth = depth;
              this.slow(c, i, a >>> 0, hi, size, false);
            }
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
        case 0x7b:
        case 0x22:
        case 0x2a:
        case 0x32:
        case 0x3a:
        case 0x23:
        case 0x2b:
        case 0x33:
        case 0x3b: {
          const op = w & 0xff;
          const size = (SIZES >>> (op & 0x18)) & 0xff;
          let a: number;
          if ((op & 0xe0) === FRAME_MODE) {
            a = regs[20] + (w >> 16); // inside the current frame: checked when decoded
          } else {
            // as for loads
            const off = w >> 16;
            const lo = regs[d];
            a = (lo + off) | 0;
            const hi = (regs[d + 1] + (off >> 31) + (a >>> 0 < lo >>> 0 ? 1 : 0)) | 0;
            if (
              hi !== 0 ||
              ((a - code[j + 2]) >>> 0 >= code[j + 3] >>> 0 && (a - sLo) >>> 0 > sHi - sLo - size)
            ) {
              this.depth = depth;
              this.slow(c, i, a >>> 0, hi, size, true);
            }
          }
          let vlo: number, vhi: number;
          if (op & 1) {
            vlo = regs[(w >> 11) & 0x1e];
            vhi = regs[((w >> 11) & 0x1e) + 1];
          } else {
            vlo = code[j + 1];
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
          const off = w >> 16;
          const lo = regs[d];
          const a = (lo + off) | 0;
          const hi = (regs[d + 1] + (off >> 31) + (a >>> 0 < lo >>> 0 ? 1 : 0)) | 0;
          if (
            hi !== 0 ||
            ((a - code[j + 2]) >>> 0 >= code[j + 3] >>> 0 && (a - sLo) >>> 0 > sHi - sLo - size)
          ) {
            this.depth = depth;
            this.slow(c, i, a >>> 0, hi, size, true);
          }
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
              code = c.code;
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
          if (c.epoch !== mem.epoch) c = this.decoded(p);
          code = c.code;
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
            c = this.decoded(p);
            code = c.code;
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
