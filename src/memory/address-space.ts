import { LimitError, TsbpfError } from "../errors.js";
import {
  HEAP_BASE,
  MAX_MEMORY_BYTES,
  MAX_SEGMENTS,
  PAGE_SHIFT,
  PAGE_SIZE,
  PAGE_TABLE_BASE,
  SEGMENT_SIZE,
  SEGMENT_TABLE_BASE,
  SEG_END,
  SEG_FLAGS,
  SEG_LIVE,
  SEG_SLOT_SIZE,
  SEG_START,
  SEG_VALUE_SIZE,
  SegmentFlags,
} from "./layout.js";

const WASM_PAGE = 65536;

/** Options of an {@link AddressSpace}. */
export interface AddressSpaceOptions {
  /**
   * Upper bound of the linear memory in bytes, the 16 MiB of fixed tables at its bottom
   * included, plus what {@link AddressSpace.reserveExternal} holds (default 1 GiB, at most 2 GiB,
   * at least 17 MiB; rounded down to 64 KiB).
   */
  maxBytes?: number;
}

/** A segment of the address space: `count` slots of `slotSize` bytes from `start`. */
export interface Segment {
  /** Segment id (index in the segment table; 0 is never used). */
  readonly id: number;
  /** Name shown in errors, e.g. `stack`, `packet`, `map flows value`. */
  readonly name: string;
  /** First page-aligned address the segment owns. */
  readonly base: number;
  /** Bytes the segment owns from `base` (a multiple of the page size). */
  readonly bytes: number;
}

/** Where an address falls, for error messages. */
export interface RegionInfo {
  /** Region name. */
  name: string;
  /** First accessible address of the nearest slot. */
  start: number;
  /** End (exclusive) of the nearest slot's accessible bytes. */
  end: number;
  /** Whether programs may write it. */
  writable: boolean;
}

/**
 * The linear memory every engine runs on, with its page and segment tables (see layout.ts).
 * The interpreter and the JIT read the same tables, so a pointer means the same in both.
 */
export class AddressSpace {
  /** The linear memory (the JIT imports it). */
  readonly memory: WebAssembly.Memory;
  /** Bumped whenever an accessible range shrinks or moves (engines drop their caches). */
  epoch = 0;
  private buf: ArrayBuffer;
  private _u8: Uint8Array;
  private _dv: DataView;
  private _i32: Int32Array;
  private readonly maxBytes: number;
  private heapTop = HEAP_BASE;
  private external = 0;
  private readonly names: string[] = [""];
  private readonly freeIds: number[] = [];
  private readonly freePages = new Map<number, number[]>();
  private nextId = 1;

  constructor(opts: AddressSpaceOptions = {}) {
    const initial = (HEAP_BASE + 16 * WASM_PAGE) / WASM_PAGE;
    const max = Math.min(opts.maxBytes ?? 0x4000_0000, MAX_MEMORY_BYTES);
    if (!(max >= initial * WASM_PAGE)) {
      throw new TsbpfError(
        "INVALID_OPTION",
        `option maxBytes: ${opts.maxBytes} is below the ${initial * WASM_PAGE} bytes of the fixed tables and first heap pages`,
      );
    }
    this.maxBytes = Math.floor(max / WASM_PAGE) * WASM_PAGE;
    this.memory = new WebAssembly.Memory({ initial, maximum: this.maxBytes / WASM_PAGE });
    this.buf = this.memory.buffer;
    this._u8 = new Uint8Array(this.buf);
    this._dv = new DataView(this.buf);
    this._i32 = new Int32Array(this.buf);
  }

  /**
   * Byte view of the whole memory. Memory only grows through this class, which refreshes the
   * views then: re-read them after anything that may allocate.
   */
  get u8(): Uint8Array {
    return this._u8;
  }

  /** DataView of the whole memory (see {@link u8} about growth). */
  get dv(): DataView {
    return this._dv;
  }

  /** Int32 view of the whole memory (see {@link u8} about growth). */
  get i32(): Int32Array {
    return this._i32;
  }

  /** Bytes of heap in use (including freed pages kept for reuse). */
  get heapBytes(): number {
    return this.heapTop - HEAP_BASE;
  }

  /** Bytes held outside the linear memory on behalf of this address space (ring buffers). */
  get externalBytes(): number {
    return this.external;
  }

  /**
   * Counts `bytes` that a map keeps outside the linear memory (a ring buffer's data) against
   * `maxBytes`; throws a {@link LimitError} `MEMORY_LIMIT` when they do not fit.
   */
  reserveExternal(bytes: number, what: string): void {
    if (this.heapTop + this.external + bytes > this.maxBytes) {
      throw new LimitError(
        "MEMORY_LIMIT",
        `out of memory: ${what} needs ${bytes} bytes, past the address space limit of ${this.maxBytes} bytes (option maxBytes)`,
        "maxBytes",
        this.maxBytes,
      );
    }
    this.external += bytes;
  }

  /** Gives back bytes counted by {@link reserveExternal}. */
  releaseExternal(bytes: number): void {
    this.external = Math.max(0, this.external - bytes);
  }

  private refresh(): void {
    this.buf = this.memory.buffer;
    this._u8 = new Uint8Array(this.buf);
    this._dv = new DataView(this.buf);
    this._i32 = new Int32Array(this.buf);
  }

  /** Reserves `bytes` (rounded up to pages) of zeroed heap. */
  private allocPages(bytes: number): number {
    const size = Math.ceil(Math.max(bytes, 1) / PAGE_SIZE) * PAGE_SIZE;
    const reuse = this.freePages.get(size);
    if (reuse && reuse.length > 0) {
      const base = reuse.pop() as number;
      this.u8.fill(0, base, base + size);
      return base;
    }
    const base = this.heapTop;
    const top = base + size;
    if (top + this.external > this.maxBytes) {
      throw new LimitError(
        "MEMORY_LIMIT",
        `out of memory: ${size} more bytes would pass the address space limit of ${this.maxBytes} bytes (option maxBytes)`,
        "maxBytes",
        this.maxBytes,
      );
    }
    const have = this._u8.length;
    if (top > have) {
      const grow = Math.max(Math.ceil((top - have) / WASM_PAGE), Math.ceil(have / WASM_PAGE / 4));
      try {
        this.memory.grow(Math.min(grow, (this.maxBytes - have) / WASM_PAGE));
      } catch (e) {
        // The host itself is out of memory (the limit was checked above).
        throw new LimitError(
          "MEMORY_LIMIT",
          `out of memory: the host could not grow the linear memory to ${top} bytes (${(e as Error).message})`,
          "maxBytes",
          this.maxBytes,
        );
      }
      this.refresh();
    }
    this.heapTop = top;
    return base;
  }

  /**
   * Maps a new segment of `count` slots, `slotSize` apart, each with `valueSize` accessible
   * bytes. With `trackLive`, slots start dead and become accessible through {@link setLive}.
   */
  mapSegment(
    name: string,
    count: number,
    slotSize: number,
    valueSize: number,
    flags: number,
    trackLive = false,
  ): Segment {
    if (!(count >= 1 && slotSize >= valueSize && valueSize >= 0)) {
      throw new RangeError(`segment ${name}: bad geometry`);
    }
    const dataBytes = count * slotSize;
    const liveBytes = trackLive ? count : 0;
    const base = this.allocPages(dataBytes + liveBytes);
    const bytes = Math.ceil(Math.max(dataBytes + liveBytes, 1) / PAGE_SIZE) * PAGE_SIZE;
    const id = this.freeIds.pop() ?? this.nextId++;
    if (id >= MAX_SEGMENTS) {
      throw new TsbpfError("E2BIG", `too many memory segments (limit ${MAX_SEGMENTS})`);
    }
    this.names[id] = name;
    const i32 = this.i32;
    const d = (SEGMENT_TABLE_BASE + id * SEGMENT_SIZE) >> 2;
    i32[d + SEG_START] = base;
    i32[d + SEG_END] = base + dataBytes;
    i32[d + SEG_SLOT_SIZE] = slotSize;
    i32[d + SEG_VALUE_SIZE] = valueSize;
    i32[d + SEG_LIVE] = trackLive ? base + dataBytes : 0;
    i32[d + SEG_FLAGS] = flags;
    const p0 = PAGE_TABLE_BASE / 4 + (base >>> PAGE_SHIFT);
    i32.fill(id, p0, p0 + bytes / PAGE_SIZE);
    return { id, name, base, bytes };
  }

  /**
   * Reserves `bytes` (rounded up to pages) of zeroed heap that belongs to no segment, so
   * programs can never access it: map descriptors, buckets and element records live there.
   */
  allocHidden(bytes: number): number {
    return this.allocPages(bytes);
  }

  /** Gives back memory of {@link allocHidden} (same `bytes`); it is zeroed on reuse. */
  freeHidden(base: number, bytes: number): void {
    const size = Math.ceil(Math.max(bytes, 1) / PAGE_SIZE) * PAGE_SIZE;
    const list = this.freePages.get(size) ?? [];
    list.push(base);
    this.freePages.set(size, list);
  }

  /** Address of a live-tracked segment's live bytes (one per slot), or 0. */
  liveBytes(seg: Segment): number {
    return this.i32[(SEGMENT_TABLE_BASE + seg.id * SEGMENT_SIZE) / 4 + SEG_LIVE];
  }

  /** Maps a single region of `size` bytes. */
  mapRegion(name: string, size: number, flags: number): Segment {
    return this.mapSegment(name, 1, Math.max(size, 0), Math.max(size, 0), flags);
  }

  /** Unmaps a segment; its pages are zeroed and reused. */
  unmap(seg: Segment): void {
    const i32 = this.i32;
    const p0 = PAGE_TABLE_BASE / 4 + (seg.base >>> PAGE_SHIFT);
    i32.fill(0, p0, p0 + seg.bytes / PAGE_SIZE);
    const d = (SEGMENT_TABLE_BASE + seg.id * SEGMENT_SIZE) >> 2;
    i32.fill(0, d, d + SEGMENT_SIZE / 4);
    this.names[seg.id] = "";
    this.freeIds.push(seg.id);
    this.freeHidden(seg.base, seg.bytes);
    this.epoch++;
  }

  /** Marks slot `slot` of a live-tracked segment accessible or not. */
  setLive(seg: Segment, slot: number, live: boolean): void {
    const d = (SEGMENT_TABLE_BASE + seg.id * SEGMENT_SIZE) >> 2;
    const liveAddr = this.i32[d + SEG_LIVE];
    this.u8[liveAddr + slot] = live ? 1 : 0;
    if (!live) this.epoch++;
  }

  /**
   * Moves the accessible window of a single-slot segment to `[start, end)` (for packets whose
   * bounds move with `bpf_xdp_adjust_head/tail`). The window must stay inside the segment.
   */
  setWindow(seg: Segment, start: number, end: number): void {
    if (start < seg.base || end > seg.base + seg.bytes || end < start) {
      throw new RangeError(`segment ${seg.name}: window outside its pages`);
    }
    const d = (SEGMENT_TABLE_BASE + seg.id * SEGMENT_SIZE) >> 2;
    const i32 = this.i32;
    i32[d + SEG_START] = start;
    i32[d + SEG_END] = end;
    i32[d + SEG_SLOT_SIZE] = end - start;
    i32[d + SEG_VALUE_SIZE] = end - start;
    this.epoch++;
  }

  /**
   * Checks an access of `size` bytes at `addr` (an unsigned 32-bit number) through the page
   * table. Returns the accessible slot as `[start, end)` packed in `out`, or false. The stack
   * segment is never accessible here: engines check it against the live frames themselves.
   */
  checkSlot(addr: number, size: number, write: boolean, out: Int32Array | null): boolean {
    const end = addr + size;
    if (end > this._u8.length) return false;
    const i32 = this.i32;
    const id = i32[PAGE_TABLE_BASE / 4 + (addr >>> PAGE_SHIFT)];
    if (id === 0) return false;
    const d = (SEGMENT_TABLE_BASE + id * SEGMENT_SIZE) >> 2;
    const flags = i32[d + SEG_FLAGS];
    if (flags & SegmentFlags.STACK) return false;
    if (write && !(flags & SegmentFlags.WRITABLE)) return false;
    const start = i32[d + SEG_START] >>> 0;
    if (addr < start || end > i32[d + SEG_END] >>> 0) return false;
    const slotSize = i32[d + SEG_SLOT_SIZE];
    const slot = Math.floor((addr - start) / slotSize);
    const slotStart = start + slot * slotSize;
    if (end > slotStart + i32[d + SEG_VALUE_SIZE]) return false;
    const live = i32[d + SEG_LIVE];
    if (live !== 0 && this.u8[live + slot] === 0) return false;
    if (out !== null) {
      out[0] = slotStart;
      out[1] = slotStart + i32[d + SEG_VALUE_SIZE];
    }
    return true;
  }

  /** The region an address falls in or lies nearest to, for error messages. */
  describe(addr: number): RegionInfo | undefined {
    const i32 = this.i32;
    let best: RegionInfo | undefined;
    let bestDist = Infinity;
    for (let id = 1; id < this.nextId; id++) {
      if (this.names[id] === "") continue;
      const d = (SEGMENT_TABLE_BASE + id * SEGMENT_SIZE) >> 2;
      const start = i32[d + SEG_START] >>> 0;
      const end = i32[d + SEG_END] >>> 0;
      const slotSize = i32[d + SEG_SLOT_SIZE];
      let s = start;
      if (addr >= start && addr < end && slotSize > 0) {
        s = start + Math.floor((addr - start) / slotSize) * slotSize;
      } else if (addr >= end && slotSize > 0) {
        s = end - slotSize;
      }
      const e = s + i32[d + SEG_VALUE_SIZE];
      const dist = addr < s ? s - addr : addr >= e ? addr - e + 1 : 0;
      if (dist < bestDist) {
        bestDist = dist;
        best = {
          name: this.names[id],
          start: s,
          end: e,
          writable: (i32[d + SEG_FLAGS] & SegmentFlags.WRITABLE) !== 0,
        };
      }
    }
    return best;
  }

  /** Copies bytes into memory (no checks: host use). */
  write(addr: number, bytes: Uint8Array): void {
    this.u8.set(bytes, addr);
  }

  /** Copies `len` bytes out of memory (no checks: host use). */
  read(addr: number, len: number): Uint8Array {
    return this.u8.slice(addr, addr + len);
  }
}
