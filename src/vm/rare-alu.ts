/**
 * The ALU operations the hot loop leaves to the interpreter: 64- and 32-bit division and
 * modulo, negation and byte swaps. Rare in programs, and kept out of the hot loop so that it
 * stays small.
 */
import * as I from "./int64.js";

/**
 * Runs ALU instruction `w` (packed as in {@link Decoded}) with immediate `imm` on `regs` if it
 * is one of the operations here; false if it is not.
 */
export function rareAlu(w: number, imm: number, regs: Int32Array): boolean {
  const d = (w >> 7) & 0x1e;
  const O = I.OUT;
  switch (w & 0xff) {
    case 0x37:
      if (w >> 16 === 1) I.sdiv64(regs[d], regs[d + 1], imm, imm >> 31);
      else I.udiv64(regs[d], regs[d + 1], imm, imm >> 31);
      regs[d] = O[0];
      regs[d + 1] = O[1];
      break;
    case 0x87:
    case 0x8f: {
      const lo = regs[d];
      regs[d] = -lo | 0;
      regs[d + 1] = (~regs[d + 1] + (lo === 0 ? 1 : 0)) | 0;
      break;
    }
    case 0x97:
      if (w >> 16 === 1) I.smod64(regs[d], regs[d + 1], imm, imm >> 31);
      else I.umod64(regs[d], regs[d + 1], imm, imm >> 31);
      regs[d] = O[0];
      regs[d + 1] = O[1];
      break;
    case 0xd7: // bswap16/32/64 (cpu v4), unconditional
    case 0xdc: // be16/32/64: a byte swap on a little-endian machine
      bswap(regs, d, imm);
      break;
    case 0x3f: {
      const s2 = (w >> 11) & 0x1e;
      if (w >> 16 === 1) I.sdiv64(regs[d], regs[d + 1], regs[s2], regs[s2 + 1]);
      else I.udiv64(regs[d], regs[d + 1], regs[s2], regs[s2 + 1]);
      regs[d] = O[0];
      regs[d + 1] = O[1];
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
    case 0x34:
    case 0x3c: {
      const b = (w & 0xff) === 0x34 ? imm : regs[(w >> 11) & 0x1e];
      if (b === 0) regs[d] = 0;
      else if (w >> 16 === 1) regs[d] = (regs[d] / b) | 0;
      else regs[d] = ((regs[d] >>> 0) / (b >>> 0)) >>> 0;
      regs[d + 1] = 0;
      break;
    }
    case 0x94:
    case 0x9c: {
      const b = (w & 0xff) === 0x94 ? imm : regs[(w >> 11) & 0x1e];
      if (b !== 0) {
        if (w >> 16 === 1) regs[d] = (regs[d] % b) | 0;
        else regs[d] = ((regs[d] >>> 0) % (b >>> 0)) | 0;
      }
      regs[d + 1] = 0;
      break;
    }
    case 0x84:
    case 0x8c:
      regs[d] = -regs[d] | 0;
      regs[d + 1] = 0;
      break;
    case 0xd4: {
      // le16/32/64: a truncation on a little-endian machine
      if (imm === 16) regs[d] &= 0xffff;
      if (imm !== 64) regs[d + 1] = 0;
      break;
    }
    default:
      return false;
  }
  return true;
}

/** Swaps the bytes of the low `width` bits of the register at `d` (16, 32 or 64). */
function bswap(regs: Int32Array, d: number, width: number): void {
  if (width === 16) {
    regs[d] = I.bswap16(regs[d]);
    regs[d + 1] = 0;
  } else if (width === 32) {
    regs[d] = I.bswap32(regs[d]);
    regs[d + 1] = 0;
  } else {
    const lo = regs[d];
    regs[d] = I.bswap32(regs[d + 1]);
    regs[d + 1] = I.bswap32(lo);
  }
}
