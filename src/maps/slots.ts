/**
 * Value storage for hash-like maps (hash, LRU, LPM trie): slots in the shared linear memory,
 * mapped in chunks as entries arrive, never up front for `max_entries`.
 *
 * The first chunk fills one 4 KiB page; each further chunk holds as many entries as all the
 * chunks before it together (geometric growth, so at most half the mapped slots are unused and
 * a map of 524,288 entries holding 3 costs one page). Chunks are live-tracked segments: a slot
 * is accessible to programs exactly while its entry exists. Freed slots are reused (last freed,
 * first reused) with their old bytes, as the kernel's preallocated elements are: the map writes
 * a new entry's value (the whole of it) before anyone can read it. Chunks stay mapped until the
 * map is destroyed. Bytes past `value_size` in a slot are never written, so they stay zero.
 *
 * A per-CPU entry is `cpus` consecutive sub-slots of `round_up(value_size, 8)` bytes, CPU 0
 * first, each live-tracked on its own.
 */
import { TsbpfError } from "../errors.js";
import type { AddressSpace, Segment } from "../memory/address-space.js";
import { PAGE_SIZE } from "../memory/layout.js";
import { round8 } from "./base.js";

/**
 * Bytes of JavaScript heap one entry of a hash-like map costs besides its value slot (the index
 * entry, the key copy, the slot record: 330-370 bytes measured on V8 11). Each live entry counts
 * this much against the address space's `maxBytes` ({@link AddressSpace.reserveExternal}), so
 * a program inserting in a loop meets the memory limit instead of exhausting the host's heap.
 */
export const HOST_ENTRY_BYTES = 320;

/**
 * Entries the next chunk of a growing pool holds: the first chunk fills one page, each further
 * one holds as many as all before it, up to `capacity`; past it (a hash map's spare element)
 * the overflow doubles the same way.
 */
export function chunkEntries(
  entryBytes: number,
  cpus: number,
  allocated: number,
  capacity: number,
): number {
  const perPage = Math.max(1, Math.floor(PAGE_SIZE / (entryBytes + cpus)));
  const room = capacity - allocated;
  return room > 0
    ? Math.min(Math.max(perPage, allocated), room)
    : Math.max(perPage, allocated - capacity);
}

/** A slot of `pool`, or null when the memory limit leaves no room (a `TsbpfError`). */
export function allocOrNull(pool: SlotPool): Slot | null {
  try {
    return pool.alloc();
  } catch (e) {
    if (e instanceof TsbpfError) return null;
    throw e;
  }
}

/** One entry's value storage. */
export interface Slot {
  /** Address of the entry's first value (CPU 0's for per-CPU maps). */
  readonly addr: number;
  /** Segment holding it. */
  readonly seg: Segment;
  /** Index of its first sub-slot in the segment. */
  readonly index: number;
}

/** Maps a segment of `count` live-tracked slots (the owning map names and flags it). */
export type SegmentMapper = (count: number, slotSize: number, valueSize: number) => Segment;

/** Growable pool of value slots for one map. */
export class SlotPool {
  /** Bytes between two sub-slots: `round_up(value_size, 8)`. */
  readonly stride: number;
  /** Bytes of one entry: `stride * cpus`. */
  readonly entryBytes: number;
  private readonly segs: Segment[] = [];
  private readonly freeList: Slot[] = [];
  private allocated = 0;
  private cur: Segment | undefined;
  private curNext = 0;
  private curCount = 0;
  private live = 0;

  constructor(
    private readonly mem: AddressSpace,
    private readonly mapper: SegmentMapper,
    /** Accessible bytes of each value. */
    readonly valueSize: number,
    /** Values per entry (1, or the number of CPUs). */
    readonly cpus: number,
    /** Most entries the pool ever holds. */
    readonly capacity: number,
  ) {
    this.stride = round8(valueSize);
    this.entryBytes = this.stride * cpus;
  }

  /** Entries the mapped chunks can hold. */
  get mappedEntries(): number {
    return this.allocated;
  }

  /**
   * A live slot (zeroed when new, else holding its last entry's bytes). The caller guarantees
   * fewer than `capacity` slots are in use.
   */
  alloc(): Slot {
    // Throws a LimitError (MEMORY_LIMIT) when the entry does not fit under maxBytes.
    this.mem.reserveExternal(HOST_ENTRY_BYTES, "a map entry");
    let slot: Slot | undefined;
    try {
      slot = this.freeList.pop();
      if (slot === undefined) {
        if (this.cur === undefined || this.curNext === this.curCount) this.grow();
        const seg = this.cur as Segment;
        const index = this.curNext * this.cpus;
        slot = { addr: seg.base + index * this.stride, seg, index };
        this.curNext++;
      }
    } catch (e) {
      this.mem.releaseExternal(HOST_ENTRY_BYTES);
      throw e;
    }
    this.live++;
    for (let c = 0; c < this.cpus; c++) this.mem.setLive(slot.seg, slot.index + c, true);
    return slot;
  }

  /** Makes a slot inaccessible and keeps it for reuse. */
  release(slot: Slot): void {
    for (let c = 0; c < this.cpus; c++) this.mem.setLive(slot.seg, slot.index + c, false);
    this.freeList.push(slot);
    this.live--;
    this.mem.releaseExternal(HOST_ENTRY_BYTES);
  }

  /** Unmaps every chunk. */
  destroy(): void {
    for (const seg of this.segs) this.mem.unmap(seg);
    this.segs.length = 0;
    this.freeList.length = 0;
    this.cur = undefined;
    this.allocated = 0;
    this.mem.releaseExternal(this.live * HOST_ENTRY_BYTES);
    this.live = 0;
  }

  private grow(): void {
    const count = chunkEntries(this.entryBytes, this.cpus, this.allocated, this.capacity);
    const seg = this.mapper(count * this.cpus, this.stride, this.valueSize);
    this.segs.push(seg);
    this.cur = seg;
    this.curNext = 0;
    this.curCount = count;
    this.allocated += count;
  }
}
