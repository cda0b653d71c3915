/**
 * The interpreter's 64-bit division and byte swaps on (low, high) 32-bit halves (the hot ALU
 * operations are written inline in the interpreter). Results land in {@link OUT}: `OUT[0]` the
 * low half, `OUT[1]` the high half. Division of values wider than 32 bits falls back to BigInt,
 * which only programs dividing such values reach.
 */

/** Result halves of the last operation. */
export const OUT = new Int32Array(2);

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
