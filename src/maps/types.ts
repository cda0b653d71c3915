import type { AddressSpace } from "../memory/address-space.js";

/** What a map is made from: the fields of `bpf_attr` for BPF_MAP_CREATE that tsbpf uses. */
export interface MapDefinition {
  /** Map name (libbpf's name for global sections, e.g. `globals.bss`). */
  name: string;
  /** Linux `BPF_MAP_TYPE_*` number. */
  type: number;
  /** Key size in bytes. */
  keySize: number;
  /** Value size in bytes. */
  valueSize: number;
  /** Capacity. */
  maxEntries: number;
  /** `BPF_F_*` map flags. */
  flags: number;
  /** `map_extra` (bloom filter hash count, ...). */
  mapExtra?: number;
  /** For array_of_maps / hash_of_maps: the inner map's definition (a template). */
  innerMap?: MapDefinition;
}

/** What every map shares with the runtime: memory and the CPU the program runs on. */
export interface MapEnv {
  /** The address space map values live in. */
  readonly mem: AddressSpace;
  /** Number of possible CPUs (per-CPU maps keep one value per CPU). */
  readonly numCpus: number;
  /** CPU the current run executes on (0-based). */
  cpu: number;
  /** Resolves a map handle (as programs see map pointers) to its map, for map-in-map values. */
  mapByHandle(handle: number): BpfMap | undefined;
  /** Monotonic nanoseconds, for LRU bookkeeping if needed. */
  now(): bigint;
}

/**
 * A map. Program-side operations take and return addresses in the {@link AddressSpace}
 * (the helper layer has already checked that `keyAddr`/`valueAddr` are readable for the map's
 * key/value size) and return Linux's negative errnos; host-side operations take bytes and throw
 * {@link MapError}s.
 */
export interface BpfMap {
  /** The definition the map was created from. */
  readonly def: MapDefinition;
  /** The value `lddw rX, map` loads: an unmapped address naming this map. */
  readonly handle: number;

  /** `bpf_map_lookup_elem` from a program: a value address, or 0. */
  lookupElem(keyAddr: number): number;
  /** `bpf_map_update_elem` from a program: 0 or a negative errno. */
  updateElem(keyAddr: number, valueAddr: number, flags: bigint): number;
  /** `bpf_map_delete_elem` from a program: 0 or a negative errno. */
  deleteElem(keyAddr: number): number;
  /** `bpf_map_push_elem` (queue, stack, bloom filter). */
  pushElem(valueAddr: number, flags: bigint): number;
  /** `bpf_map_pop_elem` (queue, stack): copies the value to `valueAddr`. */
  popElem(valueAddr: number): number;
  /** `bpf_map_peek_elem` (queue, stack, bloom filter). */
  peekElem(valueAddr: number): number;

  /** Host lookup. Per-CPU maps return every CPU's value concatenated. */
  lookup(key: Uint8Array): Uint8Array | undefined;
  /** Host update (`BPF_ANY` by default). Per-CPU maps take every CPU's value concatenated. */
  update(key: Uint8Array, value: Uint8Array, flags?: bigint): void;
  /** Host delete; throws ENOENT when absent. */
  delete(key: Uint8Array): void;
  /** Keys in iteration order (as `bpf_map_get_next_key` walks them). */
  keys(): Iterable<Uint8Array>;
  /** `[key, value]` pairs in iteration order (as `bpftool map dump` lists them). */
  entries(): Iterable<[Uint8Array, Uint8Array]>;
  /** Releases the map's memory. */
  destroy(): void;
}
