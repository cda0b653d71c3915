/**
 * Storage of a hash or LRU map's elements, mapped in chunks as entries arrive, never up front
 * for `max_entries`: each chunk is a live-tracked segment of values (programs may access a
 * value from the first time its element is used on, freed or not, as Linux's element memory)
 * and, in hidden memory, as many element records
 * (bucket chain, order links, key) that the map core ({@link MapCore}) threads on its free list.
 *
 * The first chunk fills one 4 KiB page of values; each further chunk holds as many entries as
 * all the chunks before it together (geometric growth: at most half the mapped slots are
 * unused, and a map of 524,288 entries holding 3 costs a few pages). Past `capacity` (the spare
 * element of a preallocated map) the overflow grows the same way. A per-CPU entry is `cpus`
 * consecutive values of `round_up(value_size, 8)` bytes, CPU 0 first, each live-tracked.
 * Chunks stay mapped until the map is destroyed. Freed elements are reused with their old
 * value bytes, as the kernel's are: the core writes a new entry's whole value before a lookup
 * can return it.
 */
import type { AddressSpace, Segment } from "../memory/address-space.js";
import type { CoreExports } from "./core/index.js";
import { chunkEntries } from "./slots.js";

/** Maps a segment of `count` live-tracked slots (the owning map names and flags it). */
export type SegmentMapper = (count: number, slotSize: number, valueSize: number) => Segment;

/** The growing element storage of one hash-like map. */
export class ElementPool {
  /** Bytes between two values: `round_up(value_size, 8)`. */
  readonly stride: number;
  /** Bytes of one entry's values: `stride * cpus`. */
  readonly entryBytes: number;
  private readonly elemSize: number;
  private readonly chunks: { seg: Segment; elems: number; bytes: number }[] = [];
  private allocated = 0;

  constructor(
    private readonly mem: AddressSpace,
    private readonly core: CoreExports,
    /** The map's descriptor. */
    private readonly desc: number,
    private readonly mapper: SegmentMapper,
    keySize: number,
    /** Accessible bytes of each value. */
    readonly valueSize: number,
    /** Values per entry (1, or the number of CPUs). */
    readonly cpus: number,
    /** Entries the map holds at most (one more is mapped for a preallocated map's spare). */
    readonly capacity: number,
  ) {
    this.stride = (valueSize + 7) & ~7;
    this.entryBytes = this.stride * cpus;
    this.elemSize = core.elem_size(keySize);
  }

  /** Entries the mapped chunks can hold. */
  get mappedEntries(): number {
    return this.allocated;
  }

  /**
   * Maps one more chunk and puts its elements on the core's free list. Throws what the address
   * space throws when the memory limit leaves no room.
   */
  grow(): void {
    const count = chunkEntries(this.entryBytes, this.cpus, this.allocated, this.capacity);
    const seg = this.mapper(count * this.cpus, this.stride, this.valueSize);
    const bytes = count * this.elemSize;
    let elems: number;
    try {
      elems = this.mem.allocHidden(bytes);
    } catch (e) {
      this.mem.unmap(seg);
      throw e;
    }
    this.chunks.push({ seg, elems, bytes });
    const live = this.mem.liveBytes(seg);
    // pushed last to first, so the free list hands them out in address order
    for (let i = count - 1; i >= 0; i--) {
      const e = elems + i * this.elemSize;
      this.core.htab_add_free(this.desc, e, seg.base + i * this.entryBytes, live + i * this.cpus);
    }
    this.allocated += count;
  }

  /** Unmaps every chunk. */
  destroy(): void {
    for (const c of this.chunks) {
      this.mem.unmap(c.seg);
      this.mem.freeHidden(c.elems, c.bytes);
    }
    this.chunks.length = 0;
    this.allocated = 0;
  }
}
