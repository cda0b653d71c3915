/**
 * The map core: `core.c` compiled to WebAssembly (see build.sh), one instance per address
 * space, on the same linear memory as the programs. It holds the program-side operations of
 * hash, LRU and array maps; the map classes call it from JavaScript (the interpreter's helpers,
 * the host API) and compiled programs call its `map_*_elem` helpers directly, without leaving
 * WebAssembly. The core never allocates: it answers {@link NEED_ROOM} / {@link NEED_BUCKETS}
 * before changing anything and the map grows and calls again. Freed elements go back on the
 * map's free list at once and stay accessible, as Linux's do (see core.c).
 */
import type { AddressSpace } from "../../memory/address-space.js";
import { PAGE_SIZE } from "../../memory/layout.js";
import { CORE_WASM_BASE64, CORE_WASM_FAST_BASE64 } from "./core-wasm.js";

/** An update needs an element and the free list is empty: grow, then call again. */
export const NEED_ROOM = -4096;
/** An insert should double the bucket array first: grow it, then call again. */
export const NEED_BUCKETS = -4097;

/** `struct htab.flags`. */
export const CoreFlags = {
  /** LRU: lookups and updates are uses; a full map evicts the least recently used. */
  LRU: 1,
  /** One value per CPU. */
  PERCPU: 2,
  /** `BPF_F_RDONLY_PROG`: program updates and deletes are -EPERM. */
  RDONLY_PROG: 4,
  /**
   * `BPF_F_NO_PREALLOC`: no spare element; an update of an existing key takes its new element
   * from the free list (a preallocated map takes its spare, Linux's `extra_elems`).
   */
  NO_PREALLOC: 8,
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

/** The two builds of core.c (see build.sh). */
export type CoreBuild = "fast" | "small";

let compiled: WebAssembly.Module | undefined;
let compiledBuild: CoreBuild = "small";
let preferred: CoreBuild = "fast";

/**
 * Which build of the core to use from now on ("fast", the default, falls back to "small" where
 * it does not compile). For tests of the small build; address spaces that already have a core
 * keep theirs.
 */
export function selectCoreBuild(build: CoreBuild): void {
  preferred = build;
  compiled = undefined;
}

/** The build the next new core uses (compiling it if needed). */
export function coreBuildInUse(): CoreBuild {
  coreModule();
  return compiledBuild;
}

function decode(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/**
 * The compiled core: the -O2 build, or the -Oz one (under 4 KiB) where a synchronous compile
 * of the larger module is refused (a browser's main thread).
 */
function coreModule(): WebAssembly.Module {
  if (compiled === undefined) {
    if (preferred === "fast") {
      try {
        compiled = new WebAssembly.Module(decode(CORE_WASM_FAST_BASE64));
        compiledBuild = "fast";
      } catch {
        // RangeError: too large to compile synchronously here
      }
    }
    if (compiled === undefined) {
      compiled = new WebAssembly.Module(decode(CORE_WASM_BASE64));
      compiledBuild = "small";
    }
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
  private readonly freeBlocks: number[] = [];
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

  private constructor(private readonly mem: AddressSpace) {
    const inst = new WebAssembly.Instance(coreModule(), { env: { memory: mem.memory } });
    this.exports = inst.exports;
    this.x = inst.exports as unknown as CoreExports;
  }

  /** A zeroed {@link DESC_BLOCK}-byte descriptor block in hidden memory, for a map. */
  allocDescriptor(): number {
    let b = this.freeBlocks.pop();
    if (b === undefined) {
      const page = this.mem.allocHidden(PAGE_SIZE);
      for (let a = page + PAGE_SIZE - DESC_BLOCK; a > page; a -= DESC_BLOCK)
        this.freeBlocks.push(a);
      b = page;
    }
    return b;
  }

  /** Gives back a map's descriptor block. */
  freeDescriptor(block: number): void {
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
}
