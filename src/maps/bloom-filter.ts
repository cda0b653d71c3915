/**
 * `BPF_MAP_TYPE_BLOOM_FILTER` (30), after the kernel's `kernel/bpf/bloom_filter.c`.
 *
 * - `map_extra` (low 4 bits) is the number of hash functions k, 5 when 0.
 * - The bit array has the kernel's size: `max_entries * k / 5 * 7` bits (integer division,
 *   as the kernel computes it), at least 64, rounded up to a power of two, or 2^32 bits when
 *   that overflows or passes 2^31.
 * - Hash i of a value is the kernel's: `jhash2(value, value_size / 4, seed + i)` when the value
 *   size is a multiple of 4, else `jhash(value, value_size, seed + i)`, masked to the array.
 *   tsbpf's seed is always 0, so bit positions — and false positives — are exactly those of a
 *   Linux bloom filter created with `BPF_F_ZERO_SEED` (without it Linux picks a random seed).
 * - Programs: `bpf_map_push_elem` (flags must be `BPF_ANY`, else -EINVAL) sets the k bits;
 *   `bpf_map_peek_elem` returns 0 when all k bits are set (maybe present) or -ENOENT; pop and
 *   delete are -EOPNOTSUPP; lookup gives NULL and update -EINVAL.
 * - Host: {@link BloomFilterMap.add} / {@link BloomFilterMap.has}; `update(key, value)` adds
 *   (the key is ignored), `lookup(value)` takes the value to test (the map has no keys) and
 *   returns it back when maybe present; delete is EOPNOTSUPP; `keys()` is empty.
 * - The bits are stored sparsely, 4 KiB pages created on first use, outside linear memory.
 */
import { EINVAL, ENOENT, EOPNOTSUPP, EPERM } from "../errno.js";
import { BaseMap, u64 } from "./base.js";
import { BPF_ANY } from "./constants.js";
import { jhash, jhash2 } from "./jhash.js";
import { HOST_ENTRY_BYTES } from "./slots.js";
import type { MapDefinition, MapEnv } from "./types.js";

const PAGE_BITS_SHIFT = 15; // 4 KiB of bits per page
/** What a page costs against `maxBytes`: its bits and its bookkeeping. */
const PAGE_BYTES = (1 << (PAGE_BITS_SHIFT - 3)) + HOST_ENTRY_BYTES;

/** The bit mask of a bloom filter's array (bits - 1), computed as the kernel does. */
export function bloomBitMask(maxEntries: number, nrHash: number): number {
  let bits = maxEntries * nrHash;
  if (bits > 0xffff_ffff) return 0xffff_ffff;
  bits = Math.floor(bits / 5) * 7;
  if (bits > 0xffff_ffff || bits > 2 ** 31) return 0xffff_ffff;
  let size = 64;
  while (size < bits) size *= 2;
  return size - 1;
}

/** A bloom filter. */
export class BloomFilterMap extends BaseMap {
  /** Number of hash functions. */
  readonly nrHash: number;
  /** Bit array size - 1. */
  readonly bitMask: number;
  /** Hash seed (always 0, as with `BPF_F_ZERO_SEED`). */
  readonly seed = 0;
  private readonly pages = new Map<number, Uint32Array>();

  constructor(def: MapDefinition, env: MapEnv, handle: number) {
    super(def, env, handle);
    this.nrHash = (def.mapExtra ?? 0) & 0xf || 5;
    this.bitMask = bloomBitMask(def.maxEntries, this.nrHash);
  }

  /** Bit index of hash function `i` for the value at `off` in `u8`. */
  bitOf(u8: Uint8Array, off: number, i: number): number {
    const vs = this.def.valueSize;
    const seed = (this.seed + i) | 0;
    const h = vs % 4 === 0 ? jhash2(u8, off, vs / 4, seed) : jhash(u8, off, vs, seed);
    return (h & this.bitMask) >>> 0;
  }

  override pushElem(valueAddr: number, flags: bigint): number {
    if (!this.progWritable) return -EPERM;
    if (u64(flags) !== BPF_ANY) return -EINVAL;
    this.setBits(this.mem.u8, valueAddr);
    return 0;
  }

  override peekElem(valueAddr: number): number {
    return this.testBits(this.mem.u8, valueAddr) ? 0 : -ENOENT;
  }

  override popElem(_valueAddr: number): number {
    return -EOPNOTSUPP;
  }

  override deleteElem(_keyAddr: number): number {
    return -EOPNOTSUPP;
  }

  /** Host add (`BPF_MAP_UPDATE_ELEM`). */
  add(value: Uint8Array): void {
    this.checkHostWrite("add");
    this.checkSize("value", value, this.def.valueSize);
    this.setBits(value, 0);
  }

  /** Host test: false means certainly absent, true maybe present. */
  has(value: Uint8Array): boolean {
    this.checkHostRead("lookup");
    this.checkSize("value", value, this.def.valueSize);
    return this.testBits(value, 0);
  }

  /** Tests `value` (a bloom filter has no keys): the value back when maybe present. */
  lookup(value: Uint8Array): Uint8Array | undefined {
    return this.has(value) ? value.slice() : undefined;
  }

  /** Adds `value` (the key is ignored); flags must be `BPF_ANY`. */
  update(_key: Uint8Array, value: Uint8Array, flags = 0n): void {
    if (u64(flags) !== BPF_ANY) this.fail("update: takes BPF_ANY only", -EINVAL);
    this.add(value);
  }

  delete(_key: Uint8Array): void {
    this.fail("delete: bloom filters cannot delete", -EOPNOTSUPP);
  }

  keys(): Uint8Array[] {
    return [];
  }

  override destroy(): void {
    this.mem.releaseExternal(this.pages.size * PAGE_BYTES);
    this.pages.clear();
  }

  private setBits(u8: Uint8Array, off: number): void {
    for (let i = 0; i < this.nrHash; i++) {
      const bit = this.bitOf(u8, off, i);
      const p = bit >>> PAGE_BITS_SHIFT;
      let page = this.pages.get(p);
      if (page === undefined) {
        // Pages count against the address space's maxBytes (MEMORY_LIMIT past it).
        this.mem.reserveExternal(PAGE_BYTES, `map ${this.def.name} bit page`);
        page = new Uint32Array(1 << (PAGE_BITS_SHIFT - 5));
        this.pages.set(p, page);
      }
      const w = (bit & ((1 << PAGE_BITS_SHIFT) - 1)) >>> 5;
      page[w] |= 1 << (bit & 31);
    }
  }

  private testBits(u8: Uint8Array, off: number): boolean {
    for (let i = 0; i < this.nrHash; i++) {
      const bit = this.bitOf(u8, off, i);
      const page = this.pages.get(bit >>> PAGE_BITS_SHIFT);
      if (page === undefined) return false;
      const w = (bit & ((1 << PAGE_BITS_SHIFT) - 1)) >>> 5;
      if ((page[w] & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}
