/**
 * `BPF_MAP_TYPE_ARRAY` (2) and `BPF_MAP_TYPE_PERCPU_ARRAY` (6), after the kernel's
 * `kernel/bpf/arraymap.c`.
 *
 * - All `max_entries` values are allocated (zeroed) at creation, as the kernel does, in one
 *   segment of the shared linear memory, `round_up(value_size, 8)` bytes apart; `value_size`
 *   bytes of each are accessible to programs (writable unless `BPF_F_RDONLY_PROG`).
 * - Keys are u32 indexes. Lookup past the end gives NULL (host: undefined); update past the end
 *   is -E2BIG; `BPF_NOEXIST` is -EEXIST (every element exists); delete is -EINVAL.
 * - Per-CPU: entry `i`'s values are CPU 0..n-1 in a row; a program sees and updates the value
 *   of `env.cpu`; the host sees and writes all of them, each padded to 8 bytes.
 * - Global sections (`.bss`, `.data`, `.rodata`) are single-entry arrays: {@link valueAddr} is
 *   what `lddw rX, map_value` resolves to, and {@link freeze} ends host writes (`.rodata`).
 */
import { E2BIG, EEXIST, EINVAL, EPERM } from "../errno.js";
import { MapError } from "../errors.js";
import type { Segment } from "../memory/address-space.js";
import { BaseMap, readU32, round8, u32Bytes, u64 } from "./base.js";
import { BPF_EXIST, BPF_F_LOCK, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_NOEXIST } from "./constants.js";
import { CoreFlags, MapCore } from "./core/index.js";
import type { MapDefinition, MapEnv } from "./types.js";

/** An array map (plain or per-CPU). */
export class ArrayMap extends BaseMap {
  /** Whether each entry holds one value per CPU. */
  readonly percpu: boolean;
  /** Bytes between two values: `round_up(value_size, 8)`. */
  readonly stride: number;
  /** Values per entry. */
  readonly cpus: number;
  /** The values' segment. */
  readonly segment: Segment;
  /** The map core's descriptor (compiled programs look values up through it). */
  private readonly desc: number;

  constructor(def: MapDefinition, env: MapEnv, handle: number) {
    super(def, env, handle);
    this.percpu = def.type === BPF_MAP_TYPE_PERCPU_ARRAY;
    this.cpus = this.percpu ? env.numCpus : 1;
    this.stride = round8(def.valueSize);
    this.segment = this.mapSegment(
      "values",
      def.maxEntries * this.cpus,
      this.stride,
      def.valueSize,
      false,
    );
    const core = MapCore.of(env.mem);
    this.desc = core.allocDescriptor();
    const flags =
      (this.percpu ? CoreFlags.PERCPU : 0) | (this.progWritable ? 0 : CoreFlags.RDONLY_PROG);
    core.x.array_init(this.desc, flags, def.valueSize, this.cpus, def.maxEntries, this.base);
    env.mem.i32[handle / 4] = this.desc;
  }

  /** Address of the first value. */
  get base(): number {
    return this.segment.base;
  }

  /** Bytes of a host value: `value_size`, or every CPU's padded value for per-CPU arrays. */
  get hostValueSize(): number {
    return this.percpu ? this.stride * this.cpus : this.def.valueSize;
  }

  /** Address of entry `index`'s value (CPU `cpu`'s for per-CPU arrays). */
  valueAddr(index: number, cpu = 0): number {
    if (!(index >= 0 && index < this.def.maxEntries && cpu >= 0 && cpu < this.cpus)) {
      throw new MapError(`map "${this.def.name}": no value ${index} (cpu ${cpu})`, "ENOENT");
    }
    return this.segment.base + (index * this.cpus + cpu) * this.stride;
  }

  override lookupElem(keyAddr: number): number {
    const index = readU32(this.mem.u8, keyAddr);
    if (index >= this.def.maxEntries) return 0;
    const cpu = this.percpu ? this.cpu : 0;
    return this.segment.base + (index * this.cpus + cpu) * this.stride;
  }

  override updateElem(keyAddr: number, valueAddr: number, flags: bigint): number {
    if (!this.progWritable) return -EPERM;
    const index = readU32(this.mem.u8, keyAddr);
    const err = this.checkUpdate(index, u64(flags), false);
    if (err < 0) return err;
    const cpu = this.percpu ? this.cpu : 0;
    const dst = this.segment.base + (index * this.cpus + cpu) * this.stride;
    this.mem.u8.copyWithin(dst, valueAddr, valueAddr + this.def.valueSize);
    return 0;
  }

  override deleteElem(_keyAddr: number): number {
    return -EINVAL;
  }

  lookup(key: Uint8Array): Uint8Array | undefined {
    this.checkHostRead("lookup");
    this.checkSize("key", key, 4);
    const index = readU32(key, 0);
    if (index >= this.def.maxEntries) return undefined;
    const addr = this.segment.base + index * this.cpus * this.stride;
    return this.mem.read(addr, this.percpu ? this.stride * this.cpus : this.def.valueSize);
  }

  update(key: Uint8Array, value: Uint8Array, flags = 0n): void {
    this.checkHostWrite("update");
    this.checkSize("key", key, 4);
    this.checkSize("value", value, this.hostValueSize);
    const index = readU32(key, 0);
    this.check("update", this.checkUpdate(index, u64(flags), true));
    const addr = this.segment.base + index * this.cpus * this.stride;
    const u8 = this.mem.u8;
    if (!this.percpu) {
      u8.set(value, addr);
      return;
    }
    const vs = this.def.valueSize;
    for (let c = 0; c < this.cpus; c++) {
      u8.set(value.subarray(c * this.stride, c * this.stride + vs), addr + c * this.stride);
    }
  }

  delete(_key: Uint8Array): void {
    this.checkHostWrite("delete");
    this.fail("delete: array elements cannot be deleted", -EINVAL);
  }

  *keys(): Generator<Uint8Array> {
    for (let i = 0; i < this.def.maxEntries; i++) yield u32Bytes(i);
  }

  override destroy(): void {
    this.mem.i32[this.handle / 4] = 0;
    MapCore.of(this.mem).freeDescriptor(this.desc);
    this.mem.unmap(this.segment);
  }

  /** The kernel's checks of an update, in its order: 0 or a negative errno. */
  private checkUpdate(index: number, f: bigint, host: boolean): number {
    // bpf_percpu_array_update (syscall) knows no BPF_F_LOCK; array_map_update_elem does.
    const known = this.percpu && host ? f : f & ~BPF_F_LOCK;
    if (known > BPF_EXIST) return -EINVAL;
    if (index >= this.def.maxEntries) return -E2BIG;
    if (f & BPF_NOEXIST) return -EEXIST;
    if (f & BPF_F_LOCK) return -EINVAL; // no bpf_spin_lock in the value
    return 0;
  }
}
