/**
 * Map definition checks, as Linux's `map_create` and each type's `map_alloc_check` /
 * `map_alloc` make them: same conditions, same errnos. Errors read
 * `map "flows": key size 0: EINVAL`.
 */
import { E2BIG, EBADF, EINVAL, ENOTSUPP } from "../errno.js";
import { mapError, round8 } from "./base.js";
import {
  BPF_F_ACCESS_MASK,
  BPF_F_INNER_MAP,
  BPF_F_MMAPABLE,
  BPF_F_NO_COMMON_LRU,
  BPF_F_NO_PREALLOC,
  BPF_F_NUMA_NODE,
  BPF_F_PRESERVE_ELEMS,
  BPF_F_RDONLY,
  BPF_F_RDONLY_PROG,
  BPF_F_WRONLY,
  BPF_F_WRONLY_PROG,
  BPF_F_ZERO_SEED,
  BPF_MAP_TYPE_ARENA,
  BPF_MAP_TYPE_ARRAY,
  BPF_MAP_TYPE_ARRAY_OF_MAPS,
  BPF_MAP_TYPE_BLOOM_FILTER,
  BPF_MAP_TYPE_HASH,
  BPF_MAP_TYPE_HASH_OF_MAPS,
  BPF_MAP_TYPE_LPM_TRIE,
  BPF_MAP_TYPE_LRU_HASH,
  BPF_MAP_TYPE_LRU_PERCPU_HASH,
  BPF_MAP_TYPE_PERCPU_ARRAY,
  BPF_MAP_TYPE_PERCPU_HASH,
  BPF_MAP_TYPE_PERF_EVENT_ARRAY,
  BPF_MAP_TYPE_PROG_ARRAY,
  BPF_MAP_TYPE_QUEUE,
  BPF_MAP_TYPE_RINGBUF,
  BPF_MAP_TYPE_STACK,
  KMALLOC_MAX_SIZE,
  MAP_TYPE_NAMES,
  PCPU_MIN_UNIT_SIZE,
  mapTypeName,
} from "./constants.js";
import type { MapDefinition } from "./types.js";

/** Map types tsbpf runs. */
export const SUPPORTED_MAP_TYPES: ReadonlySet<number> = new Set([
  BPF_MAP_TYPE_HASH,
  BPF_MAP_TYPE_ARRAY,
  BPF_MAP_TYPE_PROG_ARRAY,
  BPF_MAP_TYPE_PERF_EVENT_ARRAY,
  BPF_MAP_TYPE_PERCPU_HASH,
  BPF_MAP_TYPE_PERCPU_ARRAY,
  BPF_MAP_TYPE_LRU_HASH,
  BPF_MAP_TYPE_LRU_PERCPU_HASH,
  BPF_MAP_TYPE_LPM_TRIE,
  BPF_MAP_TYPE_ARRAY_OF_MAPS,
  BPF_MAP_TYPE_HASH_OF_MAPS,
  BPF_MAP_TYPE_QUEUE,
  BPF_MAP_TYPE_STACK,
  BPF_MAP_TYPE_RINGBUF,
  BPF_MAP_TYPE_BLOOM_FILTER,
]);

/** `sizeof(struct htab_elem)` on x86-64. */
const HTAB_ELEM_SIZE = 48;
/** `sizeof(struct lpm_trie_node)` on x86-64 and the LPM data size bounds. */
const LPM_NODE_SIZE = 40;
const LPM_DATA_SIZE_MAX = 256;
/** `RINGBUF_MAX_DATA_SZ`: (2^24 - 2 - 1) pages. */
const RINGBUF_MAX_DATA_SZ = ((1 << 24) - 3) * 4096;

const HTAB_FLAGS =
  BPF_F_NO_PREALLOC | BPF_F_NO_COMMON_LRU | BPF_F_NUMA_NODE | BPF_F_ACCESS_MASK | BPF_F_ZERO_SEED;
const ARRAY_FLAGS =
  BPF_F_NUMA_NODE | BPF_F_MMAPABLE | BPF_F_ACCESS_MASK | BPF_F_PRESERVE_ELEMS | BPF_F_INNER_MAP;
const LPM_FLAGS = BPF_F_NO_PREALLOC | BPF_F_NUMA_NODE | BPF_F_ACCESS_MASK;
const QUEUE_FLAGS = BPF_F_NUMA_NODE | BPF_F_ACCESS_MASK;
const BLOOM_FLAGS = BPF_F_NUMA_NODE | BPF_F_ZERO_SEED | BPF_F_ACCESS_MASK;

const hex = (n: number): string => `0x${n.toString(16)}`;

function isU32(n: unknown): n is number {
  return typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 0xffff_ffff;
}

/** `bpf_map_flags_access_ok`: not read-only and write-only for programs at once. */
function accessOk(flags: number): boolean {
  const both = BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG;
  return (flags & both) !== both;
}

/** Throws the first reason Linux would refuse to create `def`; returns when it would not. */
export function validateMapDefinition(def: MapDefinition): void {
  const bad = (what: string, errno = -EINVAL): never => {
    throw mapError(def, what, errno);
  };
  const { type, keySize: ks, valueSize: vs, maxEntries: max, flags } = def;
  const extra = def.mapExtra ?? 0;
  if (!isU32(type) || type >= MAP_TYPE_NAMES.length) bad(`map type ${type} is unknown`);
  if (!SUPPORTED_MAP_TYPES.has(type)) {
    bad(`map type ${type} (${mapTypeName(type)}) is not supported`, -ENOTSUPP);
  }
  if (!isU32(ks)) bad(`key size ${ks}`);
  if (!isU32(vs)) bad(`value size ${vs}`);
  if (!isU32(max)) bad(`max_entries ${max}`);
  if (!isU32(flags)) bad(`flags ${flags}`);
  if (!isU32(extra)) bad(`map_extra ${extra}`);
  if (extra !== 0 && type !== BPF_MAP_TYPE_BLOOM_FILTER && type !== BPF_MAP_TYPE_ARENA) {
    bad(`map_extra ${hex(extra)} is only for bloom filters`);
  }
  if ((flags & BPF_F_RDONLY) !== 0 && (flags & BPF_F_WRONLY) !== 0) {
    bad("flags BPF_F_RDONLY and BPF_F_WRONLY together");
  }
  const badFlags = (mask: number): void => {
    if (flags & ~mask) bad(`flags ${hex(flags & ~mask)} not allowed for ${mapTypeName(type)}`);
    if (!accessOk(flags)) bad("flags BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG together");
  };
  const sizes = (k: boolean, v: boolean): void => {
    if (max === 0) bad("max_entries 0");
    if (k) bad(`key size ${ks}`);
    if (v) bad(`value size ${vs}`);
  };

  switch (type) {
    case BPF_MAP_TYPE_HASH:
    case BPF_MAP_TYPE_PERCPU_HASH:
    case BPF_MAP_TYPE_LRU_HASH:
    case BPF_MAP_TYPE_LRU_PERCPU_HASH:
    case BPF_MAP_TYPE_HASH_OF_MAPS: {
      const percpu = type === BPF_MAP_TYPE_PERCPU_HASH || type === BPF_MAP_TYPE_LRU_PERCPU_HASH;
      const lru = type === BPF_MAP_TYPE_LRU_HASH || type === BPF_MAP_TYPE_LRU_PERCPU_HASH;
      if (type === BPF_MAP_TYPE_HASH_OF_MAPS && vs !== 4) bad(`value size ${vs} (must be 4)`);
      badFlags(HTAB_FLAGS);
      if (!lru && flags & BPF_F_NO_COMMON_LRU) bad("flag BPF_F_NO_COMMON_LRU needs an LRU map");
      if (lru && flags & BPF_F_NO_PREALLOC) bad("LRU maps need preallocation", -ENOTSUPP);
      if (flags & BPF_F_NUMA_NODE && (percpu || flags & BPF_F_NO_COMMON_LRU)) {
        bad("flag BPF_F_NUMA_NODE with per-CPU storage");
      }
      sizes(ks === 0, vs === 0);
      if (ks + vs >= KMALLOC_MAX_SIZE - HTAB_ELEM_SIZE) bad(`key + value size ${ks + vs}`, -E2BIG);
      if (percpu && round8(vs) > PCPU_MIN_UNIT_SIZE) bad(`per-CPU value size ${vs}`, -E2BIG);
      if (max > 2 ** 31) bad(`max_entries ${max}`, -E2BIG);
      break;
    }
    case BPF_MAP_TYPE_ARRAY:
    case BPF_MAP_TYPE_PERCPU_ARRAY:
    case BPF_MAP_TYPE_PROG_ARRAY:
    case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
    case BPF_MAP_TYPE_ARRAY_OF_MAPS: {
      const percpu = type === BPF_MAP_TYPE_PERCPU_ARRAY;
      const fd = type !== BPF_MAP_TYPE_ARRAY && !percpu;
      if (fd) {
        if (vs !== 4) bad(`value size ${vs} (must be 4)`);
        if (flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)) {
          bad(`flags BPF_F_RDONLY_PROG/BPF_F_WRONLY_PROG not allowed for ${mapTypeName(type)}`);
        }
      }
      sizes(ks !== 4, vs === 0);
      badFlags(ARRAY_FLAGS);
      if (percpu && flags & BPF_F_NUMA_NODE) bad("flag BPF_F_NUMA_NODE with per-CPU storage");
      if (type !== BPF_MAP_TYPE_ARRAY && flags & (BPF_F_MMAPABLE | BPF_F_INNER_MAP)) {
        bad(`flags BPF_F_MMAPABLE/BPF_F_INNER_MAP not allowed for ${mapTypeName(type)}`);
      }
      if (type !== BPF_MAP_TYPE_PERF_EVENT_ARRAY && flags & BPF_F_PRESERVE_ELEMS) {
        bad(`flag BPF_F_PRESERVE_ELEMS not allowed for ${mapTypeName(type)}`);
      }
      if (vs > KMALLOC_MAX_SIZE) bad(`value size ${vs}`, -E2BIG);
      if (percpu && round8(vs) > PCPU_MIN_UNIT_SIZE) bad(`per-CPU value size ${vs}`, -E2BIG);
      break;
    }
    case BPF_MAP_TYPE_LPM_TRIE:
      if (max === 0) bad("max_entries 0");
      if (!(flags & BPF_F_NO_PREALLOC)) bad("LPM tries need flag BPF_F_NO_PREALLOC");
      badFlags(LPM_FLAGS);
      if (ks < 5 || ks > 4 + LPM_DATA_SIZE_MAX) bad(`key size ${ks} (must be 5..260)`);
      if (vs < 1 || vs > KMALLOC_MAX_SIZE - LPM_DATA_SIZE_MAX - LPM_NODE_SIZE) {
        bad(`value size ${vs}`);
      }
      break;
    case BPF_MAP_TYPE_QUEUE:
    case BPF_MAP_TYPE_STACK:
      sizes(ks !== 0, vs === 0);
      badFlags(QUEUE_FLAGS);
      if (vs > KMALLOC_MAX_SIZE) bad(`value size ${vs}`, -E2BIG);
      break;
    case BPF_MAP_TYPE_RINGBUF:
      if (flags & ~BPF_F_NUMA_NODE)
        bad(`flags ${hex(flags & ~BPF_F_NUMA_NODE)} not allowed for ${mapTypeName(type)}`);
      if (ks !== 0) bad(`key size ${ks}`);
      if (vs !== 0) bad(`value size ${vs}`);
      if (max === 0 || (max & (max - 1)) !== 0 || max % 4096 !== 0) {
        bad(`max_entries ${max} (must be a power of 2 and a multiple of 4096)`);
      }
      if (max > RINGBUF_MAX_DATA_SZ) bad(`max_entries ${max}`, -E2BIG);
      break;
    case BPF_MAP_TYPE_BLOOM_FILTER:
      if (vs > KMALLOC_MAX_SIZE) bad(`value size ${vs}`, -E2BIG);
      sizes(ks !== 0, vs === 0);
      badFlags(BLOOM_FLAGS);
      if (extra & ~0xf) bad(`map_extra ${hex(extra)} (hash count must fit 4 bits)`);
      break;
  }

  if (type === BPF_MAP_TYPE_ARRAY_OF_MAPS || type === BPF_MAP_TYPE_HASH_OF_MAPS) {
    const inner = def.innerMap;
    if (inner === undefined) return bad("no inner map definition", -EBADF);
    if (inner.type === BPF_MAP_TYPE_ARRAY_OF_MAPS || inner.type === BPF_MAP_TYPE_HASH_OF_MAPS) {
      bad("inner map is itself a map of maps");
    }
    if (inner.type === BPF_MAP_TYPE_PROG_ARRAY) bad("inner map is a prog_array", -ENOTSUPP);
    validateMapDefinition(inner);
  }
}
