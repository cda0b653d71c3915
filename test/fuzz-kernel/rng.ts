/**
 * A small seeded PRNG (sfc32) so every generated program is reproducible from its seed alone.
 */

/** 32-bit FNV-1a of a string: turns seeds like "7:123" into PRNG state. */
function fnv1a(s: string, basis: number): number {
  let h = basis >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** A deterministic random source. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: string) {
    this.a = fnv1a(seed, 0x811c9dc5);
    this.b = fnv1a(seed, 0x9e3779b9);
    this.c = fnv1a(seed, 0x85ebca6b);
    this.d = 1;
    for (let i = 0; i < 16; i++) this.u32();
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A uniform signed 32-bit integer. */
  i32(): number {
    return this.u32() | 0;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.u32() / 0x1_0000_0000) * n);
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }

  /** One element of a non-empty array. */
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }

  /** An index chosen by weight (weights >= 0, not all 0). */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let x = (this.u32() / 0x1_0000_0000) * total;
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i];
      if (x < 0 && weights[i] > 0) return i;
    }
    for (let i = weights.length - 1; i > 0; i--) if (weights[i] > 0) return i;
    return 0;
  }

  /** n random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}
