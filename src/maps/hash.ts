/**
 * `BPF_MAP_TYPE_HASH` (1) and `BPF_MAP_TYPE_PERCPU_HASH` (5), after the kernel's
 * `kernel/bpf/hashtab.c`.
 *
 * - Values live in the shared linear memory ({@link SlotPool}), allocated as entries arrive.
 *   A value pointer returned by a lookup stays valid, and writes through it are seen by host
 *   lookups, while the entry exists.
 * - As in the kernel, updating an existing key of a (non-per-CPU) hash or LRU map links a new
 *   element, and a deleted or replaced element's value is freed only when the run ends (the RCU
 *   grace period, `MapEnv.defer`): a pointer the program still holds stays readable for the
 *   rest of the run and writes through it are lost. Per-CPU maps update in place, as in Linux.
 * - Flags: anything but `BPF_ANY`/`BPF_NOEXIST`/`BPF_EXIST` is -EINVAL (`BPF_F_LOCK` too: tsbpf
 *   knows no `bpf_spin_lock` in values); `BPF_NOEXIST` on an existing key is -EEXIST,
 *   `BPF_EXIST` on a missing key -ENOENT; a new key in a full map is -E2BIG.
 * - Per-CPU: a program sees the value of `env.cpu`; a program update writes only that CPU's
 *   value (a new entry starts with the other CPUs' values zeroed); the host sees and writes all
 *   CPUs' values concatenated, each padded to `round_up(value_size, 8)` (`bpf_map_value_size`).
 * - Iteration order (`keys()`, the host's get_next_key walk) is insertion order; updating an
 *   existing key keeps its place. (The kernel walks its buckets in hash order.)
 */
import { E2BIG, EEXIST, EINVAL, ENOENT, ENOMEM, EPERM } from "../errno.js";
import { BaseMap, keyId, u64, type KeyId } from "./base.js";
import {
  BPF_EXIST,
  BPF_MAP_TYPE_LRU_PERCPU_HASH,
  BPF_MAP_TYPE_PERCPU_HASH,
  BPF_NOEXIST,
} from "./constants.js";
import { allocOrNull, SlotPool, type Slot } from "./slots.js";
import type { MapDefinition, MapEnv } from "./types.js";

/** One element: its key bytes and its value slot. */
export interface HashEntry {
  /** Index key. */
  readonly id: KeyId;
  /** Key bytes (owned by the map). */
  readonly key: Uint8Array;
  /** Value storage. */
  readonly slot: Slot;
}

/** A hash map (plain or per-CPU). {@link LruHashMap} extends it with eviction. */
export class HashMap extends BaseMap {
  /** Whether each entry holds one value per CPU. */
  readonly percpu: boolean;
  /** Most entries the map holds. */
  readonly capacity: number;
  /** Key → entry, in iteration order. */
  protected readonly index = new Map<KeyId, HashEntry>();
  /** Value storage. */
  protected readonly pool: SlotPool;
  /** Whether the last successful {@link upsert} made a new entry. */
  protected created = false;

  constructor(def: MapDefinition, env: MapEnv, handle: number, capacity = def.maxEntries) {
    super(def, env, handle);
    this.percpu =
      def.type === BPF_MAP_TYPE_PERCPU_HASH || def.type === BPF_MAP_TYPE_LRU_PERCPU_HASH;
    this.capacity = capacity;
    this.pool = new SlotPool(
      env.mem,
      (count, slotSize, valueSize) => this.mapSegment("values", count, slotSize, valueSize, true),
      def.valueSize,
      this.percpu ? env.numCpus : 1,
      capacity,
    );
  }

  /** Number of entries. */
  get count(): number {
    return this.index.size;
  }

  /** Bytes of a host value: `value_size`, or every CPU's padded value for per-CPU maps. */
  get hostValueSize(): number {
    return this.percpu ? this.pool.entryBytes : this.def.valueSize;
  }

  /** Address of a key's value (CPU `cpu`'s for per-CPU maps), or undefined. Host use. */
  addressOf(key: Uint8Array, cpu = 0): number | undefined {
    this.checkSize("key", key, this.def.keySize);
    const e = this.index.get(keyId(key, 0, this.def.keySize));
    return e === undefined ? undefined : e.slot.addr + cpu * this.pool.stride;
  }

  override lookupElem(keyAddr: number): number {
    const e = this.index.get(keyId(this.mem.u8, keyAddr, this.def.keySize));
    if (e === undefined) return 0;
    this.touch(e);
    return this.percpu ? e.slot.addr + this.cpu * this.pool.stride : e.slot.addr;
  }

  override updateElem(keyAddr: number, valueAddr: number, flags: bigint): number {
    if (!this.progWritable) return -EPERM;
    const f = u64(flags);
    if (f > BPF_EXIST) return -EINVAL;
    const off = this.percpu ? this.cpu * this.pool.stride : 0;
    const ks = this.def.keySize;
    const id = keyId(this.mem.u8, keyAddr, ks);
    const e = this.upsert(id, f, () => this.mem.u8.slice(keyAddr, keyAddr + ks));
    if (typeof e === "number") return e;
    const u8 = this.mem.u8;
    // The value may be the old bytes of the slot just evicted and reused: copy it first.
    u8.copyWithin(e.slot.addr + off, valueAddr, valueAddr + this.def.valueSize);
    if (this.created && this.percpu) {
      const { stride, cpus } = this.pool;
      for (let c = 0; c < cpus; c++) {
        if (c * stride !== off)
          u8.fill(0, e.slot.addr + c * stride, e.slot.addr + (c + 1) * stride);
      }
    }
    return 0;
  }

  override deleteElem(keyAddr: number): number {
    if (!this.progWritable) return -EPERM;
    return this.remove(keyId(this.mem.u8, keyAddr, this.def.keySize));
  }

  lookup(key: Uint8Array): Uint8Array | undefined {
    this.checkHostRead("lookup");
    this.checkSize("key", key, this.def.keySize);
    const e = this.index.get(keyId(key, 0, this.def.keySize));
    if (e === undefined) return undefined;
    return this.mem.read(e.slot.addr, this.percpu ? this.pool.entryBytes : this.def.valueSize);
  }

  update(key: Uint8Array, value: Uint8Array, flags = 0n): void {
    this.checkHostWrite("update");
    this.checkSize("key", key, this.def.keySize);
    this.checkSize("value", value, this.hostValueSize);
    const f = u64(flags);
    if (f > BPF_EXIST) this.fail(`update: flags 0x${f.toString(16)}`, -EINVAL);
    const e = this.upsert(keyId(key, 0, this.def.keySize), f, () => key.slice());
    if (typeof e === "number") this.fail("update", e);
    const u8 = this.mem.u8;
    if (!this.percpu) {
      u8.set(value, e.slot.addr);
      return;
    }
    const { stride } = this.pool;
    const vs = this.def.valueSize;
    for (let c = 0; c < this.pool.cpus; c++) {
      u8.set(value.subarray(c * stride, c * stride + vs), e.slot.addr + c * stride);
    }
  }

  delete(key: Uint8Array): void {
    this.checkHostWrite("delete");
    this.checkSize("key", key, this.def.keySize);
    this.check("delete", this.remove(keyId(key, 0, this.def.keySize)));
  }

  keys(): Uint8Array[] {
    return Array.from(this.index.values(), (e) => e.key.slice());
  }

  override destroy(): void {
    this.index.clear();
    this.pool.destroy();
  }

  /**
   * Finds or creates the entry of `id` as `flags` allow: the entry, or a negative errno.
   * `keyCopy` is called (before any allocation) only when a new entry is made.
   */
  protected upsert(id: KeyId, flags: bigint, keyCopy: () => Uint8Array): HashEntry | number {
    if (this.evictsFirst && this.index.size >= this.capacity) {
      // Linux's LRU maps take a free element (evicting) before they look at the key or flags
      const room = this.makeRoom();
      if (room < 0) return room;
    }
    const old = this.index.get(id);
    if (old !== undefined) {
      if (flags === BPF_NOEXIST) return -EEXIST;
      this.touch(old);
      this.created = false;
      if (this.percpu) return old; // per-CPU values are updated in place, as in Linux
      // Linux links a new element and frees the old one after the run: a pointer to the old
      // value stays readable, and writes through it are lost
      const slot = allocOrNull(this.pool);
      if (slot === null) return -ENOMEM;
      const e: HashEntry = { id, key: old.key, slot };
      this.index.set(id, e);
      this.retire(old.slot);
      return e;
    }
    if (flags === BPF_EXIST) return -ENOENT;
    if (this.index.size >= this.capacity) {
      const room = this.makeRoom();
      if (room < 0) return room;
    }
    const slot = allocOrNull(this.pool);
    if (slot === null) return -ENOMEM; // no room under the address space limit, as kmalloc
    const key = keyCopy();
    const e: HashEntry = { id, key, slot };
    this.index.set(id, e);
    this.created = true;
    return e;
  }

  /** Removes an entry: 0, or -ENOENT. */
  protected remove(id: KeyId): number {
    const e = this.index.get(id);
    if (e === undefined) return -ENOENT;
    this.index.delete(id);
    this.retire(e.slot);
    return 0;
  }

  /** Frees a value slot once the current run is over (at once outside runs). */
  private retire(slot: Slot): void {
    const release = () => this.pool.release(slot);
    if (this.env.defer) this.env.defer(release);
    else release();
  }

  /** Whether an update of a full map evicts before it checks the key and flags (LRU). */
  protected readonly evictsFirst: boolean = false;

  /** Called when a program looks up or anyone updates an entry (LRU bookkeeping). */
  protected touch(_e: HashEntry): void {}

  /** Called when a new key meets a full map: 0 once there is room, or a negative errno. */
  protected makeRoom(): number {
    return -E2BIG;
  }
}
