/**
 * `BPF_MAP_TYPE_PERF_EVENT_ARRAY` (4): `bpf_perf_event_output` buffers.
 *
 * In Linux each slot holds a perf event (opened by user space on one CPU, e.g. by libbpf's
 * perf_buffer) and a program writes to the event of its own CPU. tsbpf models the events
 * without file descriptors:
 * - Slots start empty, as in the kernel after load: `bpf_perf_event_output` gives -ENOENT
 *   until the host opens events — {@link PerfEventArrayMap.openAll} binds slot `i` to CPU `i`
 *   as libbpf's perf_buffer does; {@link PerfEventArrayMap.open} / `close` (or host
 *   `update(index, cpu)` / `delete(index)`) change single slots.
 * - `output(flags, data)`: flags other than the index bits are -EINVAL (the helper layer strips
 *   `BPF_F_CTXLEN_MASK` after appending packet bytes); index `BPF_F_CURRENT_CPU` means
 *   `env.cpu`; index >= max_entries is -E2BIG; a slot without event -ENOENT; an event bound to
 *   another CPU -EOPNOTSUPP (the kernel's `event->oncpu != cpu`); a full buffer -ENOSPC and
 *   the record is counted as lost.
 * - Each event's buffer holds {@link PerfEventArrayMap.bufferBytes} bytes of records, a record
 *   taking what the kernel's PERF_RECORD_SAMPLE with raw data takes (8-byte header, u32 size,
 *   data, padded to 8). The host reads records in emission order with `records()` and
 *   consumes them with `drain()`, which frees the space.
 * - Host `lookup` is ENOTSUPP, as in Linux; `keys()` lists every index.
 */
import { E2BIG, EINVAL, ENOENT, ENOTSUPP, EOPNOTSUPP, ENOSPC } from "../errno.js";
import { BaseMap, readU32, round8, u32Bytes, u64 } from "./base.js";
import { BPF_ANY, BPF_F_CURRENT_CPU, BPF_F_INDEX_MASK } from "./constants.js";

/** One `bpf_perf_event_output` record. */
export interface PerfRecord {
  /** CPU of the event that received it. */
  cpu: number;
  /** Slot of the event in the array. */
  index: number;
  /** The bytes the program output. */
  data: Uint8Array;
}

/** Default bytes per event buffer (64 pages). */
export const PERF_BUFFER_BYTES = 64 * 4096;

/** A perf event array with an in-memory buffer per event. */
export class PerfEventArrayMap extends BaseMap {
  /** Bytes each event's buffer holds before records are lost. */
  bufferBytes = PERF_BUFFER_BYTES;
  // Sparse, by slot: memory follows the events opened, not max_entries.
  private readonly events = new Map<number, number>();
  private readonly used = new Map<number, number>();
  private readonly lostCounts = new Map<number, number>();
  private pending: PerfRecord[] = [];

  /** Opens an event per CPU, slot `i` bound to CPU `i`, as libbpf's `perf_buffer__new` does. */
  openAll(): void {
    for (let i = 0; i < Math.min(this.def.maxEntries, this.env.numCpus); i++) this.open(i, i);
  }

  /** Opens an event in slot `index`, bound to `cpu` (default: the same number). */
  open(index: number, cpu = index): void {
    this.checkIndex(index);
    if (!(Number.isInteger(cpu) && cpu >= 0 && cpu < this.env.numCpus)) {
      this.fail(`open: cpu ${cpu} outside 0..${this.env.numCpus - 1}`, -EINVAL);
    }
    this.events.set(index, cpu);
  }

  /** Closes the event in slot `index`. */
  close(index: number): void {
    this.checkIndex(index);
    this.events.delete(index);
  }

  /** `bpf_perf_event_output` with the data already gathered: 0 or a negative errno. */
  output(flags: bigint, data: Uint8Array): number {
    const f = u64(flags);
    if (f & ~BPF_F_INDEX_MASK) return -EINVAL;
    const cpu = this.cpu;
    const index = f === BPF_F_CURRENT_CPU ? cpu : Number(f);
    if (index >= this.def.maxEntries) return -E2BIG;
    const ev = this.events.get(index);
    if (ev === undefined) return -ENOENT;
    if (ev !== cpu) return -EOPNOTSUPP;
    const bytes = 8 + round8(4 + data.length);
    const used = this.used.get(index) ?? 0;
    if (used + bytes > this.bufferBytes) {
      this.lostCounts.set(index, (this.lostCounts.get(index) ?? 0) + 1);
      return -ENOSPC;
    }
    this.used.set(index, used + bytes);
    this.pending.push({ cpu, index, data: data.slice() });
    return 0;
  }

  /** `bpf_perf_event_output(ctx, map, flags, data, size)` with `data` in memory. */
  outputElem(flags: bigint, dataAddr: number, size: number): number {
    return this.output(flags, this.mem.read(dataAddr, size));
  }

  /** Records not yet drained, in emission order (copies; the buffers keep them). */
  records(): PerfRecord[] {
    return this.pending.map((r) => ({ cpu: r.cpu, index: r.index, data: r.data.slice() }));
  }

  /** Consumes and returns every buffered record, in emission order. */
  drain(): PerfRecord[] {
    const out = this.pending;
    this.pending = [];
    this.used.clear();
    return out;
  }

  /** Records lost because the buffer of slot `index` was full. */
  lost(index: number): number {
    return this.lostCounts.get(index) ?? 0;
  }

  lookup(_key: Uint8Array): Uint8Array | undefined {
    this.fail("lookup: perf event arrays cannot be read", -ENOTSUPP);
  }

  /** Opens an event: the 4-byte value is the CPU to bind it to (tsbpf's stand-in for an fd). */
  update(key: Uint8Array, value: Uint8Array, flags = 0n): void {
    this.checkHostWrite("update");
    this.checkSize("key", key, 4);
    this.checkSize("value", value, 4);
    if (u64(flags) !== BPF_ANY) this.fail("update: takes BPF_ANY only", -EINVAL);
    this.open(readU32(key, 0), readU32(value, 0));
  }

  delete(key: Uint8Array): void {
    this.checkHostWrite("delete");
    this.checkSize("key", key, 4);
    const index = readU32(key, 0);
    this.checkIndex(index);
    if (!this.events.has(index)) this.fail(`delete: slot ${index} has no event`, -ENOENT);
    this.events.delete(index);
  }

  *keys(): Generator<Uint8Array> {
    for (let i = 0; i < this.def.maxEntries; i++) yield u32Bytes(i);
  }

  override destroy(): void {
    this.pending = [];
  }

  private checkIndex(index: number): void {
    if (!(Number.isInteger(index) && index >= 0 && index < this.def.maxEntries)) {
      this.fail(`slot ${index} outside 0..${this.def.maxEntries - 1}`, -E2BIG);
    }
  }
}
