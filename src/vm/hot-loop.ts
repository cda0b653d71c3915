/**
 * The interpreter's hot loop: the instructions programs spend their time in (64- and 32-bit
 * ALU operations, jumps, lddw, loads and stores), each written inline. It runs until an
 * instruction it leaves to the interpreter's `exec` (calls, exits, division, negation, byte
 * swaps, atomics, anything unknown) and returns that instruction's index, the instruction
 * already charged to the budget; or until its budget runs out, and returns `~pc` of the
 * instruction it could not charge.
 *
 * It is a function of its own so that the function V8 optimises for the hot path is small;
 * its loop state (pc, budget, the live frames' bounds) is int32 from the start (`|= 0`), so
 * the optimised loop keeps it untagged.
 */
import { SIZES, type Decoded } from "./decoded.js";

/** What the hot loop needs of the interpreter beyond its arguments. */
export interface HotEnv {
  readonly regs: Int32Array;
  readonly mem: { readonly dv: DataView };
  /** The instruction budget beyond the loop's `left`: the loop adds what it leaves unused. */
  left: number;
  /** Checks an access the inline checks did not accept (throws if it faults). */
  slow(c: Decoded, pc: number, addr: number, hi: number, size: number, write: boolean): void;
}

/**
 * Runs `c` from `pc` with `left` instructions of budget, on `vm`'s registers and memory, with
 * the live stack frames at `[sLo, sHi)`.
 */
export function runHot(
  vm: HotEnv,
  c: Decoded,
  pc: number,
  left: number,
  sLo: number,
  sHi: number,
): number {
  const regs = vm.regs;
  const code = c.code;
  const dv = vm.mem.dv;
  pc |= 0;
  left |= 0;
  sLo |= 0;
  sHi |= 0;
  for (;;) {
    const i = pc;
    pc = i + 1;
    if (--left < 0) return ~i; // out of budget before instruction i: the caller's to decide
    const j = i << 2; // 4 * i
    const w = code[j];
    const d = (w >> 7) & 0x1e; // dst's low half in regs
    const s = (w >> 11) & 0x1e; // src's
    switch (w & 0xff) {
      // ---- ALU64, immediate operand (sign-extended) ----
      case 0x07: {
        const b = code[j + 1];
        const r = (regs[d] >>> 0) + (b >>> 0);
        regs[d] = r | 0;
        regs[d + 1] = (regs[d + 1] + (b >> 31) + (r > 0xffffffff ? 1 : 0)) | 0;
        break;
      }
      case 0x17: {
        const b = code[j + 1];
        const r = (regs[d] >>> 0) - (b >>> 0);
        regs[d] = r | 0;
        regs[d + 1] = (regs[d + 1] - (b >> 31) - (r < 0 ? 1 : 0)) | 0;
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
      // ---- ALU64, register operand ----
      case 0x0f: {
        const r = (regs[d] >>> 0) + (regs[s] >>> 0);
        regs[d] = r | 0;
        regs[d + 1] = (regs[d + 1] + regs[s + 1] + (r > 0xffffffff ? 1 : 0)) | 0;
        break;
      }
      case 0x1f: {
        const r = (regs[d] >>> 0) - (regs[s] >>> 0);
        regs[d] = r | 0;
        regs[d + 1] = (regs[d + 1] - regs[s + 1] - (r < 0 ? 1 : 0)) | 0;
        break;
      }
      case 0x2f: {
        const alo = regs[d];
        const ahi = regs[d + 1];
        const blo = regs[s];
        const bhi = regs[s + 1];
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
      case 0x4f: {
        regs[d] |= regs[s];
        regs[d + 1] |= regs[s + 1];
        break;
      }
      case 0x5f: {
        regs[d] &= regs[s];
        regs[d + 1] &= regs[s + 1];
        break;
      }
      case 0x6f: {
        const n = regs[s] & 63;
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
        const n = regs[s] & 63;
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
      case 0xaf: {
        regs[d] ^= regs[s];
        regs[d + 1] ^= regs[s + 1];
        break;
      }
      case 0xbf: {
        const o = w >> 16;
        if (o === 0) {
          regs[d] = regs[s];
          regs[d + 1] = regs[s + 1];
        } else {
          const v = o === 8 ? (regs[s] << 24) >> 24 : o === 16 ? (regs[s] << 16) >> 16 : regs[s];
          regs[d] = v;
          regs[d + 1] = v >> 31;
        }
        break;
      }
      case 0xcf: {
        const n = regs[s] & 63;
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
      // ---- ALU32 (results zero-extended): immediate, then register operand ----
      case 0x04: regs[d] = (regs[d] + code[j + 1]) | 0; regs[d + 1] = 0; break; // prettier-ignore
      case 0x0c: regs[d] = (regs[d] + regs[s]) | 0; regs[d + 1] = 0; break; // prettier-ignore
      case 0x14: regs[d] = (regs[d] - code[j + 1]) | 0; regs[d + 1] = 0; break; // prettier-ignore
      case 0x1c: regs[d] = (regs[d] - regs[s]) | 0; regs[d + 1] = 0; break; // prettier-ignore
      case 0x24: regs[d] = Math.imul(regs[d], code[j + 1]); regs[d + 1] = 0; break; // prettier-ignore
      case 0x2c: regs[d] = Math.imul(regs[d], regs[s]); regs[d + 1] = 0; break; // prettier-ignore
      case 0x44: regs[d] |= code[j + 1]; regs[d + 1] = 0; break; // prettier-ignore
      case 0x4c: regs[d] |= regs[s]; regs[d + 1] = 0; break; // prettier-ignore
      case 0x54: regs[d] &= code[j + 1]; regs[d + 1] = 0; break; // prettier-ignore
      case 0x5c: regs[d] &= regs[s]; regs[d + 1] = 0; break; // prettier-ignore
      case 0x64: regs[d] <<= code[j + 1] & 31; regs[d + 1] = 0; break; // prettier-ignore
      case 0x6c: regs[d] <<= regs[s] & 31; regs[d + 1] = 0; break; // prettier-ignore
      case 0x74: regs[d] = regs[d] >>> (code[j + 1] & 31); regs[d + 1] = 0; break; // prettier-ignore
      case 0x7c: regs[d] = regs[d] >>> (regs[s] & 31); regs[d + 1] = 0; break; // prettier-ignore
      case 0xa4: regs[d] ^= code[j + 1]; regs[d + 1] = 0; break; // prettier-ignore
      case 0xac: regs[d] ^= regs[s]; regs[d + 1] = 0; break; // prettier-ignore
      case 0xb4: regs[d] = code[j + 1]; regs[d + 1] = 0; break; // prettier-ignore
      case 0xbc: {
        // mov32, and movsx32 (cpu v4) with off 8, 16
        const v = regs[s];
        const o = w >> 16;
        regs[d] = o === 8 ? (v << 24) >> 24 : o === 16 ? (v << 16) >> 16 : v;
        regs[d + 1] = 0;
        break;
      }
      case 0xc4: regs[d] >>= code[j + 1] & 31; regs[d + 1] = 0; break; // prettier-ignore
      case 0xcc: regs[d] >>= regs[s] & 31; regs[d + 1] = 0; break; // prettier-ignore
      // ---- 64-bit jumps (all inline: no calls on the hot path); immediate or register ----
      case 0x05:
        pc += w >> 16;
        break;
      case 0x06: // gotol
        pc += code[j + 1];
        break;
      case 0x15: // jeq imm
      case 0x1d: {
        // jeq
        const bl = w & 8 ? regs[s] : code[j + 1];
        const bh = w & 8 ? regs[s + 1] : bl >> 31;
        if (regs[d] === bl && regs[d + 1] === bh) pc += w >> 16;
        break;
      }
      case 0x25: // jgt imm
      case 0x2d: {
        // jgt
        const bl = w & 8 ? regs[s] : code[j + 1];
        const bh = w & 8 ? regs[s + 1] : bl >> 31;
        const ah = regs[d + 1];
        if (ah !== bh ? ah >>> 0 > bh >>> 0 : regs[d] >>> 0 > bl >>> 0) pc += w >> 16;
        break;
      }
      case 0x35: // jge imm
      case 0x3d: {
        // jge
        const bl = w & 8 ? regs[s] : code[j + 1];
        const bh = w & 8 ? regs[s + 1] : bl >> 31;
        const ah = regs[d + 1];
        if (ah !== bh ? ah >>> 0 > bh >>> 0 : regs[d] >>> 0 >= bl >>> 0) pc += w >> 16;
        break;
      }
      case 0x45: // jset imm
      case 0x4d: {
        // jset
        const bl = w & 8 ? regs[s] : code[j + 1];
        const bh = w & 8 ? regs[s + 1] : bl >> 31;
        if (((regs[d] & bl) | (regs[d + 1] & bh)) !== 0) pc += w >> 16;
        break;
      }
      case 0x55: // jne imm
      case 0x5d: {
        // jne
        const bl = w & 8 ? regs[s] : code[j + 1];
        const bh = w & 8 ? regs[s + 1] : bl >> 31;
        if (regs[d] !== bl || regs[d + 1] !== bh) pc += w >> 16;
        break;
      }
      case 0x65: // jsgt imm
      case 0x6d: {
        // jsgt
        const bl = w & 8 ? regs[s] : code[j + 1];
        const bh = w & 8 ? regs[s + 1] : bl >> 31;
        const ah = regs[d + 1];
        if (ah !== bh ? ah > bh : regs[d] >>> 0 > bl >>> 0) pc += w >> 16;
        break;
      }
      case 0x75: // jsge imm
      case 0x7d: {
        // jsge
        const bl = w & 8 ? regs[s] : code[j + 1];
        const bh = w & 8 ? regs[s + 1] : bl >> 31;
        const ah = regs[d + 1];
        if (ah !== bh ? ah > bh : regs[d] >>> 0 >= bl >>> 0) pc += w >> 16;
        break;
      }
      case 0xa5: // jlt imm
      case 0xad: {
        // jlt
        const bl = w & 8 ? regs[s] : code[j + 1];
        const bh = w & 8 ? regs[s + 1] : bl >> 31;
        const ah = regs[d + 1];
        if (ah !== bh ? ah >>> 0 < bh >>> 0 : regs[d] >>> 0 < bl >>> 0) pc += w >> 16;
        break;
      }
      case 0xb5: // jle imm
      case 0xbd: {
        // jle
        const bl = w & 8 ? regs[s] : code[j + 1];
        const bh = w & 8 ? regs[s + 1] : bl >> 31;
        const ah = regs[d + 1];
        if (ah !== bh ? ah >>> 0 < bh >>> 0 : regs[d] >>> 0 <= bl >>> 0) pc += w >> 16;
        break;
      }
      case 0xc5: // jslt imm
      case 0xcd: {
        // jslt
        const bl = w & 8 ? regs[s] : code[j + 1];
        const bh = w & 8 ? regs[s + 1] : bl >> 31;
        const ah = regs[d + 1];
        if (ah !== bh ? ah < bh : regs[d] >>> 0 < bl >>> 0) pc += w >> 16;
        break;
      }
      case 0xd5: // jsle imm
      case 0xdd: {
        // jsle
        const bl = w & 8 ? regs[s] : code[j + 1];
        const bh = w & 8 ? regs[s + 1] : bl >> 31;
        const ah = regs[d + 1];
        if (ah !== bh ? ah < bh : regs[d] >>> 0 <= bl >>> 0) pc += w >> 16;
        break;
      }
      // ---- 32-bit jumps: imm, then register ----
      case 0x16: if (regs[d] === code[j + 1]) pc += w >> 16; break; // prettier-ignore
      case 0x1e: if (regs[d] === regs[s]) pc += w >> 16; break; // prettier-ignore
      case 0x26: if (regs[d] >>> 0 > code[j + 1] >>> 0) pc += w >> 16; break; // prettier-ignore
      case 0x2e: if (regs[d] >>> 0 > regs[s] >>> 0) pc += w >> 16; break; // prettier-ignore
      case 0x36: if (regs[d] >>> 0 >= code[j + 1] >>> 0) pc += w >> 16; break; // prettier-ignore
      case 0x3e: if (regs[d] >>> 0 >= regs[s] >>> 0) pc += w >> 16; break; // prettier-ignore
      case 0x46: if ((regs[d] & code[j + 1]) !== 0) pc += w >> 16; break; // prettier-ignore
      case 0x4e: if ((regs[d] & regs[s]) !== 0) pc += w >> 16; break; // prettier-ignore
      case 0x56: if (regs[d] !== code[j + 1]) pc += w >> 16; break; // prettier-ignore
      case 0x5e: if (regs[d] !== regs[s]) pc += w >> 16; break; // prettier-ignore
      case 0x66: if (regs[d] > code[j + 1]) pc += w >> 16; break; // prettier-ignore
      case 0x6e: if (regs[d] > regs[s]) pc += w >> 16; break; // prettier-ignore
      case 0x76: if (regs[d] >= code[j + 1]) pc += w >> 16; break; // prettier-ignore
      case 0x7e: if (regs[d] >= regs[s]) pc += w >> 16; break; // prettier-ignore
      case 0xa6: if (regs[d] >>> 0 < code[j + 1] >>> 0) pc += w >> 16; break; // prettier-ignore
      case 0xae: if (regs[d] >>> 0 < regs[s] >>> 0) pc += w >> 16; break; // prettier-ignore
      case 0xb6: if (regs[d] >>> 0 <= code[j + 1] >>> 0) pc += w >> 16; break; // prettier-ignore
      case 0xbe: if (regs[d] >>> 0 <= regs[s] >>> 0) pc += w >> 16; break; // prettier-ignore
      case 0xc6: if (regs[d] < code[j + 1]) pc += w >> 16; break; // prettier-ignore
      case 0xce: if (regs[d] < regs[s]) pc += w >> 16; break; // prettier-ignore
      case 0xd6: if (regs[d] <= code[j + 1]) pc += w >> 16; break; // prettier-ignore
      case 0xde: if (regs[d] <= regs[s]) pc += w >> 16; break; // prettier-ignore
      // ---- lddw: the loader resolved the value into the two immediates ----
      case 0x18:
        regs[d] = code[j + 1];
        regs[d + 1] = code[j + 5];
        pc = i + 2;
        break;
      // ---- loads and stores through r10 inside the frame: checked when decoded ----
      case 0x21: regs[d] = dv.getInt32(regs[20] + (w >> 16), true); regs[d + 1] = 0; break; // prettier-ignore
      case 0x29: regs[d] = dv.getUint16(regs[20] + (w >> 16), true); regs[d + 1] = 0; break; // prettier-ignore
      case 0x31: regs[d] = dv.getUint8(regs[20] + (w >> 16)); regs[d + 1] = 0; break; // prettier-ignore
      case 0x39: {
        const a = regs[20] + (w >> 16);
        regs[d] = dv.getInt32(a, true);
        regs[d + 1] = dv.getInt32(a + 4, true);
        break;
      }
      case 0x22: dv.setInt32(regs[20] + (w >> 16), code[j + 1], true); break; // prettier-ignore
      case 0x2a: dv.setInt16(regs[20] + (w >> 16), code[j + 1], true); break; // prettier-ignore
      case 0x32: dv.setInt8(regs[20] + (w >> 16), code[j + 1]); break; // prettier-ignore
      case 0x3a: {
        const a = regs[20] + (w >> 16);
        dv.setInt32(a, code[j + 1], true);
        dv.setInt32(a + 4, code[j + 1] >> 31, true);
        break;
      }
      case 0x23: dv.setInt32(regs[20] + (w >> 16), regs[s], true); break; // prettier-ignore
      case 0x2b: dv.setInt16(regs[20] + (w >> 16), regs[s], true); break; // prettier-ignore
      case 0x33: dv.setInt8(regs[20] + (w >> 16), regs[s]); break; // prettier-ignore
      case 0x3b: {
        const a = regs[20] + (w >> 16);
        dv.setInt32(a, regs[s], true);
        dv.setInt32(a + 4, regs[s + 1], true);
        break;
      }
      // ---- loads ----
      case 0x61:
      case 0x69:
      case 0x71:
      case 0x79:
      case 0x81:
      case 0x89:
      case 0x91: {
        // base + offset in 64 bits (the carry into the high half), then the slot this
        // instruction touched last, the live stack frames, and the page table (slow)
        const op = w & 0xff;
        const size = (SIZES >>> (op & 0x18)) & 0xff;
        const off = w >> 16;
        const lo = regs[s];
        const a = (lo + off) | 0;
        const hi = (regs[s + 1] + (off >> 31) + (a >>> 0 < lo >>> 0 ? 1 : 0)) | 0;
        if (
          hi !== 0 ||
          ((a - code[j + 2]) >>> 0 >= code[j + 3] >>> 0 && (a - sLo) >>> 0 > sHi - sLo - size)
        ) {
          vm.slow(c, i, a >>> 0, hi, size, false);
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
        // as for loads
        const op = w & 0xff;
        const size = (SIZES >>> (op & 0x18)) & 0xff;
        const off = w >> 16;
        const lo = regs[d];
        const a = (lo + off) | 0;
        const hi = (regs[d + 1] + (off >> 31) + (a >>> 0 < lo >>> 0 ? 1 : 0)) | 0;
        if (
          hi !== 0 ||
          ((a - code[j + 2]) >>> 0 >= code[j + 3] >>> 0 && (a - sLo) >>> 0 > sHi - sLo - size)
        ) {
          vm.slow(c, i, a >>> 0, hi, size, true);
        }
        let vlo: number, vhi: number;
        if (op & 1) {
          vlo = regs[s];
          vhi = regs[s + 1];
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
      default:
        // everything else: the caller's
        vm.left += left;
        return i;
    }
  }
}
