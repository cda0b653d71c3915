/**
 * `BPF_MAP_TYPE_LRU_HASH` (9) and `BPF_MAP_TYPE_LRU_PERCPU_HASH` (10): hash maps that evict
 * instead of failing with -E2BIG when a new key meets a full map.
 *
 * tsbpf's eviction policy is exact and deterministic (the kernel's is approximate: per-CPU free
 * lists, active/inactive lists and a reference bit): the map keeps one recency order, and an
 * update of a full map evicts the entry used least recently, where a use is
 * - a program lookup (`bpf_map_lookup_elem`), or
 * - an update of the key, from a program or from the host.
 *
 * Host lookups and `keys()` do not count as uses (the kernel's syscall lookup does not set the
 * reference bit either). As in Linux, a full map evicts before the update checks its key and
 * flags: updating an existing key, or an update that then fails, still evicts.
 * `BPF_F_NO_COMMON_LRU` is accepted and, as in the kernel, rounds the capacity up to a multiple
 * of the number of CPUs, but the order stays global. `keys()` walks from least to most recently
 * used.
 */
import { HashMap } from "./hash.js";
import { BPF_F_NO_COMMON_LRU } from "./constants.js";
import type { MapDefinition, MapEnv } from "./types.js";

/** Capacity of an LRU map: `max_entries`, rounded to a multiple of the CPUs with a per-CPU LRU. */
export function lruCapacity(def: MapDefinition, numCpus: number): number {
  if (!(def.flags & BPF_F_NO_COMMON_LRU)) return def.maxEntries;
  const up = Math.ceil(def.maxEntries / numCpus) * numCpus;
  return up <= 0xffff_ffff ? up : Math.floor(def.maxEntries / numCpus) * numCpus;
}

/**
 * An LRU hash map (plain or per-CPU): the map core keeps its order by use and, as in Linux, an
 * update first takes an element — in a full map the least recently used one, evicted and
 * reused at once — and copies the value into it, and only then checks the key and the flags:
 * a failed update may still evict, a pointer to the evicted value reads the new bytes, and a
 * BPF_NOEXIST update of the oldest key evicts that key and succeeds. A per-CPU LRU update with
 * BPF_EXIST takes no element (it updates in place or fails), so it evicts nothing.
 */
export class LruHashMap extends HashMap {
  constructor(def: MapDefinition, env: MapEnv, handle: number) {
    super(def, env, handle, lruCapacity(def, env.numCpus), true);
  }
}
