/**
 * Exact 64-bit arithmetic on (low, high) 32-bit halves, for the interpreter. Results land in
 * {@link OUT}: `OUT[0]` the low half, `OUT[1]` the high half. JS numbers are only used where
 * they are exact (sums of two 32-bit values, 16-bit partial products); division of values
 * wider than 32 bits falls back to BigInt, which only programs dividing such values reach.
 */

/** Result halves of the last operation. */
export const OUT = new Int32Array(2);

/** Unsigned 64-bit product (low 64 bits). */
export function mul64(alo: number, ahi: number, blo: number, bhi: number): void {
  const a0 = alo & 0xffff;
  const a1 = alo >>> 16;
  const b0 = blo & 0xffff;
  const b1 = blo >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  OUT[0] = (mid << 16) | (p00 & 0xffff);
  OUT[1] =
    (a1 * b1 +
      (p01 >>> 16) +
      (p10 >>> 16) +
      (mid >>> 16) +
      Math.imul(alo, bhi) +
      Math.imul(ahi, blo)) |
    0;
}

function toU64(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

function fromBig(v: bigint): void {
  OUT[0] = Number(v & 0xffffffffn) | 0;
  OUT[1] = Number((v >> 32n) & 0xffffffffn) | 0;
}

/** Unsigned 64-bit division; division by zero gives 0. */
export function udiv64(alo: number, ahi: number, blo: number, bhi: number): void {
  if (blo === 0 && bhi === 0) {
    OUT[0] = 0;
    OUT[1] = 0;
  } else if (ahi === 0 && bhi === 0) {
    OUT[0] = (alo >>> 0) / (blo >>> 0);
    OUT[1] = 0;
  } else {
    fromBig(toU64(alo, ahi) / toU64(blo, bhi));
  }
}

/** Unsigned 64-bit modulo; modulo by zero leaves the dividend. */
export function umod64(alo: number, ahi: number, blo: number, bhi: number): void {
  if (blo === 0 && bhi === 0) {
    OUT[0] = alo;
    OUT[1] = ahi;
  } else if (ahi === 0 && bhi === 0) {
    OUT[0] = (alo >>> 0) % (blo >>> 0);
    OUT[1] = 0;
  } else {
    fromBig(toU64(alo, ahi) % toU64(blo, bhi));
  }
}

/** Signed 64-bit division; by zero gives 0, INT64_MIN / -1 gives INT64_MIN. */
export function sdiv64(alo: number, ahi: number, blo: number, bhi: number): void {
  if (blo === 0 && bhi === 0) {
    OUT[0] = 0;
    OUT[1] = 0;
    return;
  }
  const a = BigInt.asIntN(64, toU64(alo, ahi));
  const b = BigInt.asIntN(64, toU64(blo, bhi));
  fromBig(BigInt.asUintN(64, a / b));
}

/** Signed 64-bit modulo (sign of the dividend); by zero leaves the dividend. */
export function smod64(alo: number, ahi: number, blo: number, bhi: number): void {
  if (blo === 0 && bhi === 0) {
    OUT[0] = alo;
    OUT[1] = ahi;
    return;
  }
  const a = BigInt.asIntN(64, toU64(alo, ahi));
  const b = BigInt.asIntN(64, toU64(blo, bhi));
  fromBig(BigInt.asUintN(64, a % b));
}

/** 32-bit byte swap. */
export function bswap32(x: number): number {
  return ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
}

/** 16-bit byte swap, zero-extended. */
export function bswap16(x: number): number {
  return ((x & 0xff) << 8) | ((x >>> 8) & 0xff);
}

/** Shifts (lo, hi) left by n (0..63). */
export function lsh64(lo: number, hi: number, n: number): void {
  if (n === 0) {
    OUT[0] = lo;
    OUT[1] = hi;
  } else if (n < 32) {
    OUT[1] = (hi << n) | (lo >>> (32 - n));
    OUT[0] = lo << n;
  } else {
    OUT[1] = lo << (n - 32);
    OUT[0] = 0;
  }
}

/** Logical right shift of (lo, hi) by n (0..63). */
export function rsh64(lo: number, hi: number, n: number): void {
  if (n === 0) {
    OUT[0] = lo;
    OUT[1] = hi;
  } else if (n < 32) {
    OUT[0] = (lo >>> n) | (hi << (32 - n));
    OUT[1] = hi >>> n;
  } else {
    OUT[0] = hi >>> (n - 32);
    OUT[1] = 0;
  }
}

/** Arithmetic right shift of (lo, hi) by n (0..63). */
export function arsh64(lo: number, hi: number, n: number): void {
  if (n === 0) {
    OUT[0] = lo;
    OUT[1] = hi;
  } else if (n < 32) {
    OUT[0] = (lo >>> n) | (hi << (32 - n));
    OUT[1] = hi >> n;
  } else {
    OUT[0] = hi >> (n - 32);
    OUT[1] = hi >> 31;
  }
}

/** Unsigned a < b on 64 bits. */
export function ult64(alo: number, ahi: number, blo: number, bhi: number): boolean {
  return ahi === bhi ? alo >>> 0 < blo >>> 0 : ahi >>> 0 < bhi >>> 0;
}

/** Signed a < b on 64 bits. */
export function slt64(alo: number, ahi: number, blo: number, bhi: number): boolean {
  return ahi === bhi ? alo >>> 0 < blo >>> 0 : ahi < bhi;
}
