/**
 * `BPF_MAP_TYPE_HASH` (1) and `BPF_MAP_TYPE_PERCPU_HASH` (5), after the kernel's
 * `kernel/bpf/hashtab.c`.
 *
 * - The table lives in the shared linear memory and its operations in the map core
 *   (`core/core.c`), which compiled programs call without leaving WebAssembly: buckets and
 *   element records in hidden memory, values in live-tracked segments ({@link ElementPool}),
 *   mapped as entries arrive. A value pointer returned by a lookup stays valid, and writes
 *   through it are seen by host lookups, while the entry exists.
 * - As in the kernel, updating an existing key of a (non-per-CPU) hash or LRU map links a new
 *   element; per-CPU maps update in place. Freed elements are reused as Linux reuses them
 *   (measured: `test/fixtures/hash_reuse.bpf.c`): a deleted or replaced element goes back on
 *   the free list at once and the next insert takes it, last freed first; until then a stale
 *   pointer still reads its bytes. A preallocated map's update of an existing key takes the
 *   map's spare element and keeps the replaced one as the next spare (Linux's `extra_elems`);
 *   a `BPF_F_NO_PREALLOC` map takes it from the free list.
 * - Flags: anything but `BPF_ANY`/`BPF_NOEXIST`/`BPF_EXIST` is -EINVAL (`BPF_F_LOCK` too: tsbpf
 *   knows no `bpf_spin_lock` in values); `BPF_NOEXIST` on an existing key is -EEXIST,
 *   `BPF_EXIST` on a missing key -ENOENT; a new key in a full map is -E2BIG.
 * - Per-CPU: a program sees the value of `env.cpu`; a program update writes only that CPU's
 *   value (a new entry starts with the other CPUs' values zeroed); the host sees and writes all
 *   CPUs' values concatenated, each padded to `round_up(value_size, 8)` (`bpf_map_value_size`).
 * - Iteration order (`keys()`, the host's get_next_key walk) is insertion order; updating an
 *   existing key keeps its place. (The kernel walks its buckets in hash order.)
 */
import { ENOMEM, EINVAL } from "../errno.js";
import { TsbpfError } from "../errors.js";
import { BaseMap, u64 } from "./base.js";
import {
  BPF_EXIST,
  BPF_F_NO_PREALLOC,
  BPF_MAP_TYPE_LRU_PERCPU_HASH,
  BPF_MAP_TYPE_PERCPU_HASH,
} from "./constants.js";
import {
  CoreFlags,
  DESC_BUCKETS,
  INITIAL_BUCKETS,
  MapCore,
  NEED_BUCKETS,
  NEED_ROOM,
  type CoreExports,
} from "./core/index.js";
import { ElementPool } from "./hash-pool.js";
import type { MapDefinition, MapEnv } from "./types.js";

/** Most buckets a map's table grows to (the kernel: `roundup_pow_of_two(max_entries)`). */
const MAX_BUCKETS = 1 << 22;

/** A hash map (plain or per-CPU). {@link LruHashMap} is the same with `CoreFlags.LRU`. */
export class HashMap extends BaseMap {
  /** Whether each entry holds one value per CPU. */
  readonly percpu: boolean;
  /** Most entries the map holds. */
  readonly capacity: number;
  /** Address of the map's descriptor in hidden memory (also stored at its handle). */
  readonly desc: number;
  private readonly core: MapCore;
  private readonly x: CoreExports;
  private readonly pool: ElementPool;
  /** The bucket array when it outgrew the descriptor block: [address, bytes]. */
  private table: [number, number] | null = null;

  constructor(
    def: MapDefinition,
    env: MapEnv,
    handle: number,
    capacity = def.maxEntries,
    lru = false,
  ) {
    super(def, env, handle);
    this.percpu =
      def.type === BPF_MAP_TYPE_PERCPU_HASH || def.type === BPF_MAP_TYPE_LRU_PERCPU_HASH;
    this.capacity = capacity;
    const cpus = this.percpu ? env.numCpus : 1;
    this.core = MapCore.of(env.mem);
    this.x = this.core.x;
    this.desc = this.core.allocDescriptor();
    const flags =
      (lru ? CoreFlags.LRU : 0) |
      (this.percpu ? CoreFlags.PERCPU : 0) |
      (this.progWritable ? 0 : CoreFlags.RDONLY_PROG) |
      (def.flags & BPF_F_NO_PREALLOC ? CoreFlags.NO_PREALLOC : 0);
    let max = INITIAL_BUCKETS;
    while (max < capacity && max < MAX_BUCKETS) max *= 2;
    const first = Math.min(INITIAL_BUCKETS, max);
    this.x.htab_init(this.desc, flags, def.keySize, def.valueSize, cpus, capacity, this.desc + DESC_BUCKETS, first - 1, max - 1); // prettier-ignore
    this.pool = new ElementPool(
      env.mem,
      this.x,
      this.desc,
      (count, slotSize, valueSize) => this.mapSegment("values", count, slotSize, valueSize, true),
      def.keySize,
      def.valueSize,
      cpus,
      capacity,
    );
    env.mem.i32[handle / 4] = this.desc;
  }

  /** Number of entries. */
  get count(): number {
    return this.x.htab_count(this.desc);
  }

  /** Bytes of a host value: `value_size`, or every CPU's padded value for per-CPU maps. */
  get hostValueSize(): number {
    return this.percpu ? this.pool.entryBytes : this.def.valueSize;
  }

  /** Address of a key's value (CPU `cpu`'s for per-CPU maps), or undefined. Host use. */
  addressOf(key: Uint8Array, cpu = 0): number | undefined {
    this.checkSize("key", key, this.def.keySize);
    const e = this.x.htab_find(this.desc, this.hostBytes(key));
    return e === 0 ? undefined : this.x.elem_value(e) + cpu * this.pool.stride;
  }

  override lookupElem(keyAddr: number): number {
    return this.x.htab_lookup_elem(this.desc, keyAddr, this.percpu ? this.cpu : 0);
  }

  override updateElem(keyAddr: number, valueAddr: number, flags: bigint): number {
    const f = u64(flags);
    const lo = Number(f & 0xffff_ffffn);
    const hi = Number(f >> 32n);
    return this.upsert(keyAddr, valueAddr, lo, hi, this.percpu ? this.cpu : 0, 0);
  }

  override deleteElem(keyAddr: number): number {
    const r = this.x.htab_delete_elem(this.desc, keyAddr, 0);
    return r;
  }

  lookup(key: Uint8Array): Uint8Array | undefined {
    this.checkHostRead("lookup");
    this.checkSize("key", key, this.def.keySize);
    const e = this.x.htab_find(this.desc, this.hostBytes(key));
    if (e === 0) return undefined;
    return this.mem.read(this.x.elem_value(e), this.hostValueSize);
  }

  update(key: Uint8Array, value: Uint8Array, flags = 0n): void {
    this.checkHostWrite("update");
    this.checkSize("key", key, this.def.keySize);
    this.checkSize("value", value, this.hostValueSize);
    const f = u64(flags);
    if (f > BPF_EXIST) this.fail(`update: flags 0x${f.toString(16)}`, -EINVAL);
    const k = this.hostBytes(key, value);
    const v = k + ((key.length + 7) & ~7);
    this.check("update", this.upsert(k, v, Number(f), 0, 0, 1));
  }

  delete(key: Uint8Array): void {
    this.checkHostWrite("delete");
    this.checkSize("key", key, this.def.keySize);
    const r = this.x.htab_delete_elem(this.desc, this.hostBytes(key), 1);
    this.check("delete", r);
  }

  keys(): Uint8Array[] {
    const out: Uint8Array[] = [];
    const ks = this.def.keySize;
    for (let e = this.x.htab_head(this.desc); e !== 0; e = this.x.elem_newer(e)) {
      out.push(this.mem.read(this.x.elem_key(e), ks));
    }
    return out;
  }

  override destroy(): void {
    this.pool.destroy();
    if (this.table !== null) this.mem.freeHidden(...this.table);
    this.mem.i32[this.handle / 4] = 0;
    this.core.freeDescriptor(this.desc);
  }

  /** Copies a host key (and value) into hidden scratch memory; the key's address. */
  private hostBytes(key: Uint8Array, value?: Uint8Array): number {
    const at = this.core.hostScratch(((key.length + 7) & ~7) + (value?.length ?? 0));
    this.mem.u8.set(key, at);
    if (value !== undefined) this.mem.u8.set(value, at + ((key.length + 7) & ~7));
    return at;
  }

  /** The core's update, growing the map as it asks: 0, or a negative errno. */
  private upsert(key: number, value: number, lo: number, hi: number, cpu: number, host: number) {
    let r = this.x.htab_update_elem(this.desc, key, value, lo, hi, cpu, host);
    while (r === NEED_ROOM || r === NEED_BUCKETS) {
      if (!this.makeRoom(r)) return -ENOMEM;
      r = this.x.htab_update_elem(this.desc, key, value, lo, hi, cpu, host);
    }
    return r;
  }

  /** Answers the core's NEED_ROOM / NEED_BUCKETS; false when memory is out. */
  private makeRoom(need: number): boolean {
    try {
      if (need === NEED_ROOM) this.pool.grow();
      else this.growBuckets();
      return true;
    } catch (e) {
      if (e instanceof TsbpfError) return false;
      throw e;
    }
  }

  /** Doubles the bucket array. */
  private growBuckets(): void {
    const n = this.x.htab_buckets(this.desc) * 2;
    const bytes = n * 4;
    const at = this.mem.allocHidden(bytes);
    this.x.htab_rehash(this.desc, at, n - 1);
    if (this.table !== null) this.mem.freeHidden(...this.table);
    this.table = [at, bytes];
  }
}
