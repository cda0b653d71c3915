/**
 * Maps: {@link createMap} builds a map of any supported Linux type from its definition,
 * after checking the definition as the kernel's `BPF_MAP_CREATE` does.
 */
import { ArrayMap } from "./array.js";
import { BloomFilterMap } from "./bloom-filter.js";
import { round8 } from "./base.js";
import {
  BPF_MAP_TYPE_ARRAY,
  BPF_MAP_TYPE_ARRAY_OF_MAPS,
  BPF_MAP_TYPE_BLOOM_FILTER,
  BPF_MAP_TYPE_HASH,
  BPF_MAP_TYPE_HASH_OF_MAPS,
  BPF_MAP_TYPE_LPM_TRIE,
  BPF_MAP_TYPE_LRU_HASH,
  BPF_MAP_TYPE_LRU_PERCPU_HASH,
  BPF_MAP_TYPE_PERCPU_ARRAY,
  BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE,
  BPF_MAP_TYPE_PERCPU_HASH,
  BPF_MAP_TYPE_PERF_EVENT_ARRAY,
  BPF_MAP_TYPE_PROG_ARRAY,
  BPF_MAP_TYPE_QUEUE,
  BPF_MAP_TYPE_RINGBUF,
  BPF_MAP_TYPE_STACK,
} from "./constants.js";
import { HashMap } from "./hash.js";
import { LpmTrieMap } from "./lpm-trie.js";
import { LruHashMap } from "./lru.js";
import { ArrayOfMapsMap, HashOfMapsMap } from "./map-in-map.js";
import { PerfEventArrayMap } from "./perf-event-array.js";
import { ProgArrayMap } from "./prog-array.js";
import { QueueStackMap } from "./queue-stack.js";
import { RingBufMap } from "./ringbuf.js";
import type { BpfMap, MapDefinition, MapEnv } from "./types.js";
import { validateMapDefinition } from "./validate.js";

export * from "./constants.js";
export type { BpfMap, MapDefinition, MapEnv } from "./types.js";
export { BaseMap, keyId, round8, type KeyId } from "./base.js";
export { ArrayMap } from "./array.js";
export { BloomFilterMap, bloomBitMask } from "./bloom-filter.js";
export { HashMap } from "./hash.js";
export { jhash, jhash2 } from "./jhash.js";
export { LpmTrieMap } from "./lpm-trie.js";
export { LruHashMap, lruCapacity } from "./lru.js";
export { ArrayOfMapsMap, HashOfMapsMap, innerMapCompatible } from "./map-in-map.js";
export { PERF_BUFFER_BYTES, PerfEventArrayMap, type PerfRecord } from "./perf-event-array.js";
export { ProgArrayMap } from "./prog-array.js";
export { QueueStackMap } from "./queue-stack.js";
export { RINGBUF_MAX_RECORD_SZ, RingBufMap, type RingRecordInfo } from "./ringbuf.js";
export { SlotPool, type Slot } from "./slots.js";
export { SUPPORTED_MAP_TYPES, validateMapDefinition } from "./validate.js";

/**
 * Creates a map. `handle` is the value programs load for it (`lddw rX, map`), chosen by the
 * caller (an unmapped address in the map handle area, see `memory/layout.ts`). Throws a
 * `MapError` (with the kernel's errno name) for a definition Linux would refuse or a type tsbpf
 * does not run.
 */
export function createMap(def: MapDefinition, env: MapEnv, handle: number): BpfMap {
  validateMapDefinition(def);
  switch (def.type) {
    case BPF_MAP_TYPE_HASH:
    case BPF_MAP_TYPE_PERCPU_HASH:
      return new HashMap(def, env, handle);
    case BPF_MAP_TYPE_LRU_HASH:
    case BPF_MAP_TYPE_LRU_PERCPU_HASH:
      return new LruHashMap(def, env, handle);
    case BPF_MAP_TYPE_ARRAY:
    case BPF_MAP_TYPE_PERCPU_ARRAY:
      return new ArrayMap(def, env, handle);
    case BPF_MAP_TYPE_PROG_ARRAY:
      return new ProgArrayMap(def, env, handle);
    case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
      return new PerfEventArrayMap(def, env, handle);
    case BPF_MAP_TYPE_LPM_TRIE:
      return new LpmTrieMap(def, env, handle);
    case BPF_MAP_TYPE_ARRAY_OF_MAPS:
      return new ArrayOfMapsMap(def, env, handle);
    case BPF_MAP_TYPE_HASH_OF_MAPS:
      return new HashOfMapsMap(def, env, handle);
    case BPF_MAP_TYPE_QUEUE:
    case BPF_MAP_TYPE_STACK:
      return new QueueStackMap(def, env, handle);
    case BPF_MAP_TYPE_RINGBUF:
      return new RingBufMap(def, env, handle);
    case BPF_MAP_TYPE_BLOOM_FILTER:
      return new BloomFilterMap(def, env, handle);
    default:
      // validateMapDefinition refuses every other type.
      throw new RangeError(`map "${def.name}": map type ${def.type}`);
  }
}

/** Whether a map type keeps one value per CPU. */
export function isPerCpuMapType(type: number): boolean {
  return (
    type === BPF_MAP_TYPE_PERCPU_HASH ||
    type === BPF_MAP_TYPE_LRU_PERCPU_HASH ||
    type === BPF_MAP_TYPE_PERCPU_ARRAY ||
    type === BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE
  );
}

/**
 * Bytes of a value on the host side (`bpf_map_value_size`): every CPU's value, each padded to
 * 8 bytes, for per-CPU maps; 4 for maps of fds (prog_array, perf_event_array, maps of maps);
 * else `value_size`.
 */
export function hostValueSize(def: MapDefinition, numCpus: number): number {
  if (isPerCpuMapType(def.type)) return round8(def.valueSize) * numCpus;
  if (
    def.type === BPF_MAP_TYPE_PROG_ARRAY ||
    def.type === BPF_MAP_TYPE_PERF_EVENT_ARRAY ||
    def.type === BPF_MAP_TYPE_ARRAY_OF_MAPS ||
    def.type === BPF_MAP_TYPE_HASH_OF_MAPS
  ) {
    return 4;
  }
  return def.valueSize;
}
