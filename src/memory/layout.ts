/**
 * The address space every engine shares: one WebAssembly linear memory with 32-bit addresses
 * (clang loads `ctx->data` with a 32-bit load, so every address a program sees fits in 32
 * bits). Fixed areas at the bottom, the heap above them:
 *
 * ```
 * 0x0000_0000  null page: never mapped, so a NULL dereference faults
 * 0x0000_1000  map handles: the values `lddw rX, map` loads; never mapped
 * 0x0010_0000  page table: one u32 segment id per 4 KiB page
 * 0x0060_0000  segment table: SEGMENT_SIZE bytes per segment
 * 0x0100_0000  heap: stacks, contexts, packets, map values, global sections, ring buffers
 * ```
 *
 * A page belongs to at most one segment. A segment is a run of equal slots (`slotSize`
 * bytes apart, `valueSize` of each accessible, an optional live byte per slot): a single
 * region is a segment of one slot, an array map's values are one segment, a hash map's values
 * live in segments that are added as entries arrive.
 */

/** Page size of the page table (not the Wasm page). */
export const PAGE_SHIFT = 12;
/** Bytes per page. */
export const PAGE_SIZE = 1 << PAGE_SHIFT;
/** Start of the map handle area. */
export const MAP_HANDLE_BASE = 0x1000;
/** Bytes between two map handles. */
export const MAP_HANDLE_STRIDE = 16;
/** End of the map handle area. */
export const MAP_HANDLE_END = 0x10_0000;
/** Address of the page table. */
export const PAGE_TABLE_BASE = 0x10_0000;
/** Largest linear memory, in bytes (the page table covers it). */
export const MAX_MEMORY_BYTES = 0x8000_0000;
/** Address of the segment table. */
export const SEGMENT_TABLE_BASE = 0x60_0000;
/** Bytes per segment descriptor. */
export const SEGMENT_SIZE = 32;
/** Most segments an address space holds. */
export const MAX_SEGMENTS = (0x100_0000 - SEGMENT_TABLE_BASE) / SEGMENT_SIZE;
/** First heap address. */
export const HEAP_BASE = 0x100_0000;
/** Function addresses (`lddw rX, func`, BPF_PSEUDO_FUNC) are `FUNC_ADDR_BASE + 8 * pc`, never mapped. */
export const FUNC_ADDR_BASE = 0xf000_0000;

/** Field offsets (in i32 units) of a segment descriptor. */
export const SEG_START = 0;
/** End of the last slot (exclusive). */
export const SEG_END = 1;
/** Distance between two slots. */
export const SEG_SLOT_SIZE = 2;
/** Accessible bytes at the start of each slot. */
export const SEG_VALUE_SIZE = 3;
/** Address of the live byte array (0: every slot is live). */
export const SEG_LIVE = 4;
/** {@link SegmentFlags}. */
export const SEG_FLAGS = 5;

/** Segment flag bits. */
export const SegmentFlags = {
  /** Programs may write. */
  WRITABLE: 1,
  /** The stack: its live bounds are checked by the engine, never through the page table. */
  STACK: 2,
} as const;

/**
 * Per-run state in the null page (never mapped, so programs cannot reach it), read by the map
 * core (`maps/core/core.c`, `struct run_state`): u32 fields at these addresses.
 */
export const RUN_STATE_BASE = 0x180;
/** The current run's CPU (`bpf_get_smp_processor_id()`, per-CPU map values). */
export const RUN_STATE_CPU = RUN_STATE_BASE;
/** r10 of the first frame (the top of the stack segment). */
export const RUN_STATE_STACK_TOP = RUN_STATE_BASE + 4;
