/**
 * The map core: `core.c` compiled to WebAssembly (see build.sh), one instance per address
 * space, on the same linear memory as the programs. It holds the program-side operations of
 * hash, LRU and array maps; the map classes call it from JavaScript (the interpreter's helpers,
 * the host API) and compiled programs call its `map_*_elem` helpers directly, without leaving
 * WebAssembly. The core never allocates or frees: it answers {@link NEED_ROOM} /
 * {@link NEED_BUCKETS} before changing anything and the map grows and calls again; elements it
 * retires are reclaimed when the run ends ({@link MapCore.endRun}).
 */
import type { AddressSpace } from "../../memory/address-space.js";
import { PAGE_SIZE, RUN_STATE_PENDING } from "../../memory/layout.js";
import { CORE_WASM_BASE64 } from "./core-wasm.js";

/** An update needs an element and the free list is empty: grow, then call again. */
export const NEED_ROOM = -4096;
/** An insert should double the bucket array first: grow it, then call again. */
export const NEED_BUCKETS = -4097;
/** `map_*_elem`'s answer for "not mine": run the generic helper (i64 minimum). */
export const CORE_SLOW = -0x8000_0000_0000_0000n;

/** `struct htab.flags`. */
export const CoreFlags = {
  /** LRU: lookups and updates are uses; a full map evicts the least recently used. */
  LRU: 1,
  /** One value per CPU. */
  PERCPU: 2,
  /** `BPF_F_RDONLY_PROG`: program updates and deletes are -EPERM. */
  RDONLY_PROG: 4,
  /**
   * The map's environment has no `defer`: what a change retires is reclaimed at once, so
   * compiled code leaves changes to the host (which does that) instead of the core's helpers.
   */
  RECLAIM_NOW: 8,
} as const;

/** Bytes of a map descriptor block: the descriptor (64) and 16 initial buckets. */
export const DESC_BLOCK = 128;
/** Offset of the initial buckets in a descriptor block. */
export const DESC_BUCKETS = 64;
/** Buckets a descriptor block holds. */
export const INITIAL_BUCKETS = 16;

/** The exports of core.c (addresses and sizes as u32 numbers, errnos negative). */
export interface CoreExports {
  htab_init(
    h: number,
    flags: number,
    keySize: number,
    valueSize: number,
    cpus: number,
    capacity: number,
    buckets: number,
    mask: number,
    maxMask: number,
  ): void;
  elem_size(keySize: number): number;
  htab_add_free(h: number, elem: number, value: number, live: number): void;
  htab_rehash(h: number, buckets: number, mask: number): void;
  htab_find(h: number, key: number): number;
  htab_lookup_elem(h: number, key: number, cpu: number): number;
  htab_update_elem(
    h: number,
    key: number,
    value: number,
    flagsLo: number,
    flagsHi: number,
    cpu: number,
    host: number,
  ): number;
  htab_delete_elem(h: number, key: number, host: number): number;
  htab_reclaim(h: number): number;
  htab_count(h: number): number;
  htab_buckets(h: number): number;
  htab_head(h: number): number;
  elem_newer(e: number): number;
  elem_key(e: number): number;
  elem_value(e: number): number;
  array_init(
    h: number,
    flags: number,
    valueSize: number,
    cpus: number,
    maxEntries: number,
    base: number,
  ): void;
  map_lookup_elem(r1: bigint, r2: bigint, stackLo: number): bigint;
  map_update_elem(r1: bigint, r2: bigint, r3: bigint, r4: bigint, stackLo: number): bigint;
  map_delete_elem(r1: bigint, r2: bigint, stackLo: number): bigint;
}

/** A map whose retired elements the core reclaims at the end of a run. */
export interface Reclaimable {
  /** Returns retired elements to the free list. */
  reclaim(): void;
}

let compiled: WebAssembly.Module | undefined;

function coreModule(): WebAssembly.Module {
  if (compiled === undefined) {
    const bin = atob(CORE_WASM_BASE64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    compiled = new WebAssembly.Module(bytes);
  }
  return compiled;
}

const cores = new WeakMap<AddressSpace, MapCore>();

/** The core instance of one address space, and the maps that use it. */
export class MapCore {
  /** core.c's functions. */
  readonly x: CoreExports;
  /** The instance's exports, for compiled modules to import. */
  readonly exports: WebAssembly.Exports;
  private readonly maps = new Set<Reclaimable>();
  private readonly freeBlocks: number[] = [];
  private queued = false;
  private scratchAt = 0;
  private scratchBytes = 0;

  /** The core of `mem` (instantiated on first use). */
  static of(mem: AddressSpace): MapCore {
    let c = cores.get(mem);
    if (c === undefined) {
      c = new MapCore(mem);
      cores.set(mem, c);
    }
    return c;
  }

  /** The core of `mem` if one was made. */
  static peek(mem: AddressSpace): MapCore | undefined {
    return cores.get(mem);
  }

  private constructor(private readonly mem: AddressSpace) {
    const inst = new WebAssembly.Instance(coreModule(), { env: { memory: mem.memory } });
    this.exports = inst.exports;
    this.x = inst.exports as unknown as CoreExports;
  }

  /**
   * A zeroed {@link DESC_BLOCK}-byte descriptor block in hidden memory, for `map` (reclaimed at
   * the end of runs when it has a `reclaim`).
   */
  addMap(map: Reclaimable | null): number {
    if (map !== null) this.maps.add(map);
    let b = this.freeBlocks.pop();
    if (b === undefined) {
      const page = this.mem.allocHidden(PAGE_SIZE);
      for (let a = page + PAGE_SIZE - DESC_BLOCK; a > page; a -= DESC_BLOCK)
        this.freeBlocks.push(a);
      b = page;
    }
    return b;
  }

  /** Forgets a map and gives back its descriptor block. */
  removeMap(map: Reclaimable | null, block: number): void {
    if (map !== null) this.maps.delete(map);
    this.mem.u8.fill(0, block, block + DESC_BLOCK);
    this.freeBlocks.push(block);
  }

  /**
   * Hidden memory of at least `bytes` for the host's keys and values (shared by every map: valid
   * until the next call).
   */
  hostScratch(bytes: number): number {
    if (this.scratchBytes < bytes) {
      if (this.scratchBytes > 0) this.mem.freeHidden(this.scratchAt, this.scratchBytes);
      this.scratchBytes = Math.ceil(bytes / PAGE_SIZE) * PAGE_SIZE;
      this.scratchAt = this.mem.allocHidden(this.scratchBytes);
    }
    return this.scratchAt;
  }

  /**
   * After a map operation from JavaScript: when it retired elements, reclaims them once the
   * run is over (`defer`, Linux's RCU grace period; the deferring environment marks the run as
   * leaving work, see `Machine.endRun`), or at once without `defer`.
   */
  afterChange(defer: ((task: () => void) => void) | undefined): void {
    const i32 = this.mem.i32;
    if (i32[RUN_STATE_PENDING / 4] === 0) return;
    if (defer === undefined) {
      i32[RUN_STATE_PENDING / 4] = 0;
      return this.reclaimAll();
    }
    if (this.queued) return;
    this.queued = true;
    defer(() => this.reclaimAll());
  }

  /** Returns what every map retired to its free list (at the end of a run). */
  reclaimAll(): void {
    this.queued = false;
    for (const m of this.maps) m.reclaim();
  }
}
