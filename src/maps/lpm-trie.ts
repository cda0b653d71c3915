/**
 * `BPF_MAP_TYPE_LPM_TRIE` (11), after the kernel's `kernel/bpf/lpm_trie.c`. Keys are
 * `struct bpf_lpm_trie_key { u32 prefixlen; u8 data[]; }`; bits are numbered from the most
 * significant bit of `data[0]` (network order).
 *
 * - Lookup (program and host) is longest-prefix match: among the entries whose prefix length is
 *   at most the key's `prefixlen` and whose first prefix-length bits equal the key's, the
 *   longest; a key `prefixlen` above `8 * (key_size - 4)` finds nothing.
 * - Update and delete act on the exact (prefixlen, first prefixlen bits) entry. Update flags
 *   above `BPF_EXIST` and prefix lengths above the maximum are -EINVAL; `BPF_NOEXIST` on an
 *   existing prefix -EEXIST; `BPF_EXIST` on a missing one -ENOENT; a new prefix in a full trie
 *   -ENOSPC (Linux's errno here, not E2BIG). Delete of a missing prefix is -ENOENT.
 * - An entry keeps the key bytes of its last update, bits past the prefix included (Linux
 *   copies the whole key into the node); `keys()` returns them.
 * - `keys()` follows the kernel's get_next_key post-order: an entry comes after every entry
 *   its prefix covers, and where two prefixes differ the one with a 0 bit comes first (so
 *   192.168.0.0/24, 192.168.1.0/24, 192.168.128.0/24, 192.168.0.0/16).
 * - Values live in linear memory like a hash map's (allocated as entries arrive; updating an
 *   existing prefix overwrites its value in place, where Linux swaps in a new node).
 *
 * Internally: one JS `Map` per prefix length present, keyed by the masked prefix bytes;
 * a lookup tries the present lengths from the longest down.
 */
import { EEXIST, EINVAL, ENOENT, ENOMEM, ENOSPC, EPERM } from "../errno.js";
import { BaseMap, readU32, u64 } from "./base.js";
import { BPF_EXIST, BPF_NOEXIST } from "./constants.js";
import { allocOrNull, SlotPool, type Slot } from "./slots.js";
import type { MapDefinition, MapEnv } from "./types.js";

/** One prefix. */
interface LpmEntry {
  /** Prefix length. */
  prefixlen: number;
  /** Key bytes of the last update (prefixlen included). */
  key: Uint8Array;
  /** Value storage. */
  slot: Slot;
}

/** The map key of the first `len` bits of the data at `off` (bits past `len` masked off). */
function prefixId(u8: Uint8Array, off: number, len: number): string {
  const full = len >>> 3;
  let s = "";
  for (let i = 0; i < full; i++) s += String.fromCharCode(u8[off + i]);
  const rest = len & 7;
  if (rest !== 0) s += String.fromCharCode(u8[off + full] & ((0xff << (8 - rest)) & 0xff));
  return s;
}

/** Kernel get_next_key order of two entries (see the file comment). */
function postorder(a: LpmEntry, b: LpmEntry): number {
  const m = Math.min(a.prefixlen, b.prefixlen);
  for (let i = 0; i * 8 < m; i++) {
    const x = a.key[4 + i] ^ b.key[4 + i];
    if (x === 0) continue;
    const bit = i * 8 + Math.clz32(x) - 24;
    if (bit >= m) break;
    return a.key[4 + i] & (0x80 >>> (bit & 7)) ? 1 : -1;
  }
  return b.prefixlen - a.prefixlen;
}

/** A longest-prefix-match trie. */
export class LpmTrieMap extends BaseMap {
  /** Bytes of prefix data: `key_size - 4`. */
  readonly dataSize: number;
  /** Longest prefix: `8 * dataSize`. */
  readonly maxPrefixLen: number;
  private readonly byLen = new Map<number, Map<string, LpmEntry>>();
  private lens: number[] = [];
  private n = 0;
  private readonly pool: SlotPool;

  constructor(def: MapDefinition, env: MapEnv, handle: number) {
    super(def, env, handle);
    this.dataSize = def.keySize - 4;
    this.maxPrefixLen = this.dataSize * 8;
    this.pool = new SlotPool(
      env.mem,
      (count, slotSize, valueSize) => this.mapSegment("values", count, slotSize, valueSize, true),
      def.valueSize,
      1,
      def.maxEntries,
    );
  }

  /** Number of entries. */
  get count(): number {
    return this.n;
  }

  override lookupElem(keyAddr: number): number {
    return this.match(this.mem.u8, keyAddr)?.slot.addr ?? 0;
  }

  override updateElem(keyAddr: number, valueAddr: number, flags: bigint): number {
    if (!this.progWritable) return -EPERM;
    const ks = this.def.keySize;
    const e = this.upsert(this.mem.u8, keyAddr, u64(flags), () =>
      this.mem.u8.slice(keyAddr, keyAddr + ks),
    );
    if (typeof e === "number") return e;
    this.mem.u8.copyWithin(e.slot.addr, valueAddr, valueAddr + this.def.valueSize);
    return 0;
  }

  override deleteElem(keyAddr: number): number {
    if (!this.progWritable) return -EPERM;
    return this.remove(this.mem.u8, keyAddr);
  }

  lookup(key: Uint8Array): Uint8Array | undefined {
    this.checkHostRead("lookup");
    this.checkSize("key", key, this.def.keySize);
    const e = this.match(key, 0);
    return e === undefined ? undefined : this.mem.read(e.slot.addr, this.def.valueSize);
  }

  update(key: Uint8Array, value: Uint8Array, flags = 0n): void {
    this.checkHostWrite("update");
    this.checkSize("key", key, this.def.keySize);
    this.checkSize("value", value, this.def.valueSize);
    const e = this.upsert(key, 0, u64(flags), () => key.slice());
    if (typeof e === "number") this.fail("update", e);
    this.mem.u8.set(value, e.slot.addr);
  }

  delete(key: Uint8Array): void {
    this.checkHostWrite("delete");
    this.checkSize("key", key, this.def.keySize);
    this.check("delete", this.remove(key, 0));
  }

  keys(): Uint8Array[] {
    const all: LpmEntry[] = [];
    for (const m of this.byLen.values()) for (const e of m.values()) all.push(e);
    return all.sort(postorder).map((e) => e.key.slice());
  }

  override destroy(): void {
    this.byLen.clear();
    this.lens = [];
    this.n = 0;
    this.pool.destroy();
  }

  /** Longest-prefix match of the key at `off`. */
  private match(u8: Uint8Array, off: number): LpmEntry | undefined {
    const plen = readU32(u8, off);
    if (plen > this.maxPrefixLen) return undefined;
    for (const len of this.lens) {
      if (len > plen) continue;
      const e = this.byLen.get(len)?.get(prefixId(u8, off + 4, len));
      if (e !== undefined) return e;
    }
    return undefined;
  }

  private upsert(
    u8: Uint8Array,
    off: number,
    f: bigint,
    keyCopy: () => Uint8Array,
  ): LpmEntry | number {
    if (f > BPF_EXIST) return -EINVAL;
    const plen = readU32(u8, off);
    if (plen > this.maxPrefixLen) return -EINVAL;
    const id = prefixId(u8, off + 4, plen);
    const m = this.byLen.get(plen);
    const old = m?.get(id);
    if (old !== undefined) {
      if (f === BPF_NOEXIST) return -EEXIST;
      old.key = keyCopy();
      return old;
    }
    if (f === BPF_EXIST) return -ENOENT;
    if (this.n >= this.def.maxEntries) return -ENOSPC;
    const slot = allocOrNull(this.pool);
    if (slot === null) return -ENOMEM; // no room under the address space limit
    const key = keyCopy();
    const e: LpmEntry = { prefixlen: plen, key, slot };
    if (m === undefined) {
      this.byLen.set(plen, new Map([[id, e]]));
      this.lens = [...this.byLen.keys()].sort((a, b) => b - a);
    } else {
      m.set(id, e);
    }
    this.n++;
    return e;
  }

  private remove(u8: Uint8Array, off: number): number {
    const plen = readU32(u8, off);
    if (plen > this.maxPrefixLen) return -EINVAL;
    const m = this.byLen.get(plen);
    const id = prefixId(u8, off + 4, plen);
    const e = m?.get(id);
    if (m === undefined || e === undefined) return -ENOENT;
    m.delete(id);
    if (m.size === 0) {
      this.byLen.delete(plen);
      this.lens = this.lens.filter((l) => l !== plen);
    }
    this.pool.release(e.slot);
    this.n--;
    return 0;
  }
}
