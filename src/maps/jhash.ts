/**
 * Bob Jenkins' lookup3 hash as Linux's `include/linux/jhash.h` defines `jhash` (bytes) and
 * `jhash2` (u32 words), bit-exact on a little-endian machine. The bloom filter uses it so that
 * its bit positions, and so its false positives, are the kernel's.
 */

const JHASH_INITVAL = 0xdeadbeef | 0;

/** Mixing state a, b, c (an Int32Array wraps every store to 32 bits). */
const s = new Int32Array(3);

function rol32(x: number, n: number): number {
  return (x << n) | (x >>> (32 - n));
}

function mix(): void {
  s[0] -= s[2];
  s[0] ^= rol32(s[2], 4);
  s[2] += s[1];
  s[1] -= s[0];
  s[1] ^= rol32(s[0], 6);
  s[0] += s[2];
  s[2] -= s[1];
  s[2] ^= rol32(s[1], 8);
  s[1] += s[0];
  s[0] -= s[2];
  s[0] ^= rol32(s[2], 16);
  s[2] += s[1];
  s[1] -= s[0];
  s[1] ^= rol32(s[0], 19);
  s[0] += s[2];
  s[2] -= s[1];
  s[2] ^= rol32(s[1], 4);
  s[1] += s[0];
}

function final(): void {
  s[2] ^= s[1];
  s[2] -= rol32(s[1], 14);
  s[0] ^= s[2];
  s[0] -= rol32(s[2], 11);
  s[1] ^= s[0];
  s[1] -= rol32(s[0], 25);
  s[2] ^= s[1];
  s[2] -= rol32(s[1], 16);
  s[0] ^= s[2];
  s[0] -= rol32(s[2], 4);
  s[1] ^= s[0];
  s[1] -= rol32(s[0], 14);
  s[2] ^= s[1];
  s[2] -= rol32(s[1], 24);
}

function le32(k: Uint8Array, i: number): number {
  return k[i] | (k[i + 1] << 8) | (k[i + 2] << 16) | (k[i + 3] << 24);
}

/** `jhash(key, length, initval)` over `length` bytes of `k` from `off`. */
export function jhash(k: Uint8Array, off: number, length: number, initval: number): number {
  s[0] = s[1] = s[2] = JHASH_INITVAL + length + initval;
  let i = off;
  let n = length;
  while (n > 12) {
    s[0] += le32(k, i);
    s[1] += le32(k, i + 4);
    s[2] += le32(k, i + 8);
    mix();
    n -= 12;
    i += 12;
  }
  if (n === 0) return s[2] >>> 0;
  // The last 1..12 bytes, little-endian into a, b, c.
  for (let j = n - 1; j >= 0; j--) s[j >> 2] += k[i + j] << ((j & 3) * 8);
  final();
  return s[2] >>> 0;
}

/** `jhash2(words, length, initval)` over `length` little-endian u32 words of `k` from `off`. */
export function jhash2(k: Uint8Array, off: number, length: number, initval: number): number {
  s[0] = s[1] = s[2] = JHASH_INITVAL + (length << 2) + initval;
  let i = off;
  let n = length;
  while (n > 3) {
    s[0] += le32(k, i);
    s[1] += le32(k, i + 4);
    s[2] += le32(k, i + 8);
    mix();
    n -= 3;
    i += 12;
  }
  if (n === 0) return s[2] >>> 0;
  for (let j = 0; j < n; j++) s[j] += le32(k, i + 4 * j);
  final();
  return s[2] >>> 0;
}
