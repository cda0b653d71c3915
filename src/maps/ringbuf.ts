/**
 * `BPF_MAP_TYPE_RINGBUF` (27), after the kernel's `kernel/bpf/ringbuf.c`.
 *
 * - The ring has `max_entries` bytes (a power of 2 and a multiple of 4096) and the kernel's
 *   positions: consumer, producer and pending (oldest uncommitted record), as unbounded byte
 *   counts. A record is an 8-byte header `{ u32 len; u32 pg_off; }` then the data, padded to 8.
 *   `len` carries `BPF_RINGBUF_BUSY_BIT` while reserved and `BPF_RINGBUF_DISCARD_BIT` when
 *   discarded; `pg_off` is what Linux stores (the header's page offset from the ring's struct,
 *   whose data starts 3 pages in).
 * - `reserve(size, flags)`: NULL for flags != 0, size > `UINT_MAX / 4`, a record larger than the
 *   ring, or no space — the kernel's two tests: producer - consumer and producer - pending must
 *   stay <= size - 1 after the record. Else the header is written (busy) and the producer
 *   advances.
 * - Reserved records are accessible memory: each reservation is its own segment of exactly
 *   `size` writable bytes (zeroed) until it is submitted or discarded; then its bytes are copied
 *   into the ring (wrapping at the end as Linux's double mapping does), the header is
 *   committed and the segment is unmapped. Submitting an address that is not an outstanding
 *   reservation returns -EINVAL (the verifier prevents it in Linux). At most
 *   {@link RingBufMap.maxReservations} records are outstanding at once (tsbpf's limit).
 * - `output(data, size, flags)`: flags other than `BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP` are
 *   -EINVAL, no space -EAGAIN. `query(flags)`: available data, ring size, consumer position,
 *   producer position, else 0.
 * - Host: `records()` lists committed, not discarded records from the consumer up to the first
 *   busy one; `drain()` also consumes them (and the discarded ones) as libbpf's ring_buffer
 *   does; `inspect()` shows every header. Host lookup/update/delete are ENOTSUPP; no keys.
 * - The ring's bytes live outside linear memory (programs only see their reservations) and
 *   are allocated on first use.
 */
import { EAGAIN, EINVAL, ENOTSUPP } from "../errno.js";
import { MapError } from "../errors.js";
import type { Segment } from "../memory/address-space.js";
import { SegmentFlags } from "../memory/layout.js";
import { BaseMap, round8, u64 } from "./base.js";
import {
  BPF_RB_AVAIL_DATA,
  BPF_RB_CONS_POS,
  BPF_RB_FORCE_WAKEUP,
  BPF_RB_NO_WAKEUP,
  BPF_RB_PROD_POS,
  BPF_RB_RING_SIZE,
  BPF_RINGBUF_BUSY_BIT,
  BPF_RINGBUF_DISCARD_BIT,
  BPF_RINGBUF_HDR_SZ,
} from "./constants.js";
import type { MapDefinition, MapEnv } from "./types.js";

/** Largest record Linux reserves: `UINT_MAX / 4`. */
export const RINGBUF_MAX_RECORD_SZ = 0x3fff_ffff;
/** Pages before the data in Linux's `struct bpf_ringbuf` (meta page, consumer, producer). */
const RINGBUF_DATA_PGOFF = 3;
const LEN_MASK = ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT) >>> 0;

/** A record header as {@link RingBufMap.inspect} shows it. */
export interface RingRecordInfo {
  /** Position of the header (a byte count since the ring was created). */
  pos: number;
  /** Data length (header `len` without the flag bits). */
  len: number;
  /** `BPF_RINGBUF_BUSY_BIT`: reserved, not committed. */
  busy: boolean;
  /** `BPF_RINGBUF_DISCARD_BIT`: discarded. */
  discarded: boolean;
  /** Header `pg_off`. */
  pgOff: number;
}

interface Reservation {
  pos: number;
  size: number;
  seg: Segment;
}

/** A BPF ring buffer. */
export class RingBufMap extends BaseMap {
  /** Data bytes. */
  readonly size: number;
  /** Most reservations outstanding at once. */
  maxReservations = 1024;
  private consumer = 0;
  private producer = 0;
  private pending = 0;
  private ring: Uint8Array | null = null;
  private ringDv: DataView | null = null;
  private readonly reserved = new Map<number, Reservation>();
  private released = false;

  constructor(def: MapDefinition, env: MapEnv, handle: number) {
    super(def, env, handle);
    this.size = def.maxEntries;
    // The ring lives outside linear memory but counts against the address space's limit.
    env.mem.reserveExternal(this.size, `ring buffer ${def.name}`);
  }

  /** Consumer position. */
  get consumerPos(): number {
    return this.consumer;
  }
  /** Producer position. */
  get producerPos(): number {
    return this.producer;
  }
  /** Position of the oldest record not yet committed, as last computed by a reserve. */
  get pendingPos(): number {
    return this.pending;
  }

  /** `bpf_ringbuf_reserve`: the record's address, or 0. */
  reserve(size: bigint | number, flags: bigint): number {
    if (u64(flags) !== 0n) return 0;
    const n = this.recordSize(size);
    if (n < 0 || this.reserved.size >= this.maxReservations) return 0;
    const pos = this.claim(n, true);
    if (pos < 0) return 0;
    let seg: Segment;
    try {
      seg = this.mem.mapRegion(`map ${this.def.name} ringbuf record`, n, SegmentFlags.WRITABLE);
    } catch {
      this.commitHeader(pos, n, true); // cannot happen short of memory exhaustion
      return 0;
    }
    this.reserved.set(seg.base, { pos, size: n, seg });
    return seg.base;
  }

  /** `bpf_ringbuf_submit`: 0, or -EINVAL when `addr` is not an outstanding reservation. */
  submit(addr: number, _flags = 0n): number {
    return this.commit(addr, false);
  }

  /** `bpf_ringbuf_discard`: 0, or -EINVAL when `addr` is not an outstanding reservation. */
  discard(addr: number, _flags = 0n): number {
    return this.commit(addr, true);
  }

  /** `bpf_ringbuf_output` of `size` bytes at `dataAddr`: 0, -EINVAL or -EAGAIN. */
  output(dataAddr: number, size: bigint | number, flags: bigint): number {
    if (u64(flags) & ~(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP)) return -EINVAL;
    const n = this.recordSize(size);
    if (n < 0) return -EAGAIN;
    const pos = this.claim(n, false);
    if (pos < 0) return -EAGAIN;
    this.ringWrite(pos + BPF_RINGBUF_HDR_SZ, this.mem.u8.subarray(dataAddr, dataAddr + n));
    this.commitHeader(pos, n, false);
    return 0;
  }

  /** `bpf_ringbuf_query`. */
  query(flags: bigint): bigint {
    switch (u64(flags)) {
      case BPF_RB_AVAIL_DATA:
        return BigInt(this.producer - this.consumer);
      case BPF_RB_RING_SIZE:
        return BigInt(this.size);
      case BPF_RB_CONS_POS:
        return BigInt(this.consumer);
      case BPF_RB_PROD_POS:
        return BigInt(this.producer);
      default:
        return 0n;
    }
  }

  /** Committed records ready for the consumer, in order (copies; nothing is consumed). */
  records(): Uint8Array[] {
    return this.walk(false);
  }

  /** Consumes and returns the records ready for the consumer, skipping discarded ones. */
  drain(): Uint8Array[] {
    return this.walk(true);
  }

  /** Every header between the consumer and the producer. */
  inspect(): RingRecordInfo[] {
    const out: RingRecordInfo[] = [];
    const dv = this.dv();
    for (let pos = this.consumer; pos < this.producer;) {
      const off = pos % this.size;
      const hdr = dv.getUint32(off, true);
      const len = (hdr & LEN_MASK) >>> 0;
      out.push({
        pos,
        len,
        busy: (hdr & BPF_RINGBUF_BUSY_BIT) !== 0,
        discarded: (hdr & BPF_RINGBUF_DISCARD_BIT) !== 0,
        pgOff: dv.getUint32(off + 4, true),
      });
      pos += round8(len + BPF_RINGBUF_HDR_SZ);
    }
    return out;
  }

  /** Discards every outstanding reservation (for a runtime cleaning up after a run). */
  releaseAll(): void {
    for (const addr of [...this.reserved.keys()]) this.commit(addr, true);
  }

  lookup(_key: Uint8Array): Uint8Array | undefined {
    this.fail("lookup: ring buffers have no elements", -ENOTSUPP);
  }

  update(_key: Uint8Array, _value: Uint8Array, _flags?: bigint): void {
    this.fail("update: ring buffers have no elements", -ENOTSUPP);
  }

  delete(_key: Uint8Array): void {
    this.fail("delete: ring buffers have no elements", -ENOTSUPP);
  }

  keys(): Uint8Array[] {
    return [];
  }

  override destroy(): void {
    for (const r of this.reserved.values()) this.mem.unmap(r.seg);
    this.reserved.clear();
    if (!this.released) this.mem.releaseExternal(this.size);
    this.released = true;
    this.ring = null;
    this.ringDv = null;
  }

  /** A requested record size as a number, or -1 when Linux refuses it. */
  private recordSize(size: bigint | number): number {
    const s = typeof size === "bigint" ? u64(size) : BigInt(size);
    if (s > BigInt(RINGBUF_MAX_RECORD_SZ)) return -1;
    const n = Number(s);
    return round8(n + BPF_RINGBUF_HDR_SZ) > this.size ? -1 : n;
  }

  /** Writes a header for `n` bytes at the producer and advances it: the position, or -1. */
  private claim(n: number, busy: boolean): number {
    const mask = this.size - 1;
    const len = round8(n + BPF_RINGBUF_HDR_SZ);
    const at = (p: number): number => p % this.size;
    const dv = this.dv();
    // Move the pending position past committed records, as __bpf_ringbuf_reserve does.
    let pend = this.pending;
    while (pend < this.producer) {
      const hdr = dv.getUint32(at(pend), true);
      if (hdr & BPF_RINGBUF_BUSY_BIT) break;
      pend += round8(((hdr & ~BPF_RINGBUF_DISCARD_BIT) >>> 0) + BPF_RINGBUF_HDR_SZ);
    }
    this.pending = pend;
    const prod = this.producer;
    const next = prod + len;
    if (next - this.consumer > mask || next - pend > mask) return -1;
    const off = at(prod);
    dv.setUint32(off, busy ? (n | BPF_RINGBUF_BUSY_BIT) >>> 0 : n, true);
    dv.setUint32(off + 4, RINGBUF_DATA_PGOFF + (off >>> 12), true);
    this.producer = next;
    return prod;
  }

  private commit(addr: number, discard: boolean): number {
    const r = this.reserved.get(addr);
    if (r === undefined) return -EINVAL;
    this.ringWrite(r.pos + BPF_RINGBUF_HDR_SZ, this.mem.u8.subarray(addr, addr + r.size));
    this.commitHeader(r.pos, r.size, discard);
    this.reserved.delete(addr);
    this.mem.unmap(r.seg);
    return 0;
  }

  private commitHeader(pos: number, n: number, discard: boolean): void {
    const len = discard ? (n | BPF_RINGBUF_DISCARD_BIT) >>> 0 : n;
    this.dv().setUint32(pos % this.size, len, true);
  }

  private walk(consume: boolean): Uint8Array[] {
    const out: Uint8Array[] = [];
    const dv = this.dv();
    let pos = this.consumer;
    while (pos < this.producer) {
      const hdr = dv.getUint32(pos % this.size, true);
      if (hdr & BPF_RINGBUF_BUSY_BIT) break;
      const len = (hdr & LEN_MASK) >>> 0;
      if (!(hdr & BPF_RINGBUF_DISCARD_BIT)) out.push(this.ringRead(pos + BPF_RINGBUF_HDR_SZ, len));
      pos += round8(len + BPF_RINGBUF_HDR_SZ);
    }
    if (consume) this.consumer = pos;
    return out;
  }

  private bytes(): Uint8Array {
    if (this.ring === null) {
      try {
        this.ring = new Uint8Array(this.size);
      } catch {
        throw new MapError(`map "${this.def.name}": cannot allocate ${this.size} bytes`, "ENOMEM");
      }
      this.ringDv = new DataView(this.ring.buffer);
    }
    return this.ring;
  }

  private dv(): DataView {
    this.bytes();
    return this.ringDv as DataView;
  }

  private ringWrite(pos: number, src: Uint8Array): void {
    const ring = this.bytes();
    const off = pos % this.size;
    const first = Math.min(src.length, this.size - off);
    ring.set(src.subarray(0, first), off);
    if (first < src.length) ring.set(src.subarray(first), 0);
  }

  private ringRead(pos: number, len: number): Uint8Array {
    const ring = this.bytes();
    const off = pos % this.size;
    const first = Math.min(len, this.size - off);
    const out = new Uint8Array(len);
    out.set(ring.subarray(off, off + first), 0);
    if (first < len) out.set(ring.subarray(0, len - first), first);
    return out;
  }
}
