/**
 * Map vocabulary as Linux's `include/uapi/linux/bpf.h` spells it: map types, creation flags,
 * update flags, and the ring buffer / perf event constants.
 */

/** `enum bpf_map_type`: the Linux map type numbers (one list, in src/elf/constants.ts). */
export {
  BPF_MAP_TYPE_UNSPEC,
  BPF_MAP_TYPE_HASH,
  BPF_MAP_TYPE_ARRAY,
  BPF_MAP_TYPE_PROG_ARRAY,
  BPF_MAP_TYPE_PERF_EVENT_ARRAY,
  BPF_MAP_TYPE_PERCPU_HASH,
  BPF_MAP_TYPE_PERCPU_ARRAY,
  BPF_MAP_TYPE_STACK_TRACE,
  BPF_MAP_TYPE_CGROUP_ARRAY,
  BPF_MAP_TYPE_LRU_HASH,
  BPF_MAP_TYPE_LRU_PERCPU_HASH,
  BPF_MAP_TYPE_LPM_TRIE,
  BPF_MAP_TYPE_ARRAY_OF_MAPS,
  BPF_MAP_TYPE_HASH_OF_MAPS,
  BPF_MAP_TYPE_DEVMAP,
  BPF_MAP_TYPE_SOCKMAP,
  BPF_MAP_TYPE_CPUMAP,
  BPF_MAP_TYPE_XSKMAP,
  BPF_MAP_TYPE_SOCKHASH,
  BPF_MAP_TYPE_CGROUP_STORAGE,
  BPF_MAP_TYPE_REUSEPORT_SOCKARRAY,
  BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE,
  BPF_MAP_TYPE_QUEUE,
  BPF_MAP_TYPE_STACK,
  BPF_MAP_TYPE_SK_STORAGE,
  BPF_MAP_TYPE_DEVMAP_HASH,
  BPF_MAP_TYPE_STRUCT_OPS,
  BPF_MAP_TYPE_RINGBUF,
  BPF_MAP_TYPE_INODE_STORAGE,
  BPF_MAP_TYPE_TASK_STORAGE,
  BPF_MAP_TYPE_BLOOM_FILTER,
  BPF_MAP_TYPE_USER_RINGBUF,
  BPF_MAP_TYPE_CGRP_STORAGE,
  BPF_MAP_TYPE_ARENA,
  BPF_MAP_TYPE_INSN_ARRAY,
} from "../elf/constants.js";

/** Names of the map types, indexed by number. */
export const MAP_TYPE_NAMES: readonly string[] = [
  "BPF_MAP_TYPE_UNSPEC",
  "BPF_MAP_TYPE_HASH",
  "BPF_MAP_TYPE_ARRAY",
  "BPF_MAP_TYPE_PROG_ARRAY",
  "BPF_MAP_TYPE_PERF_EVENT_ARRAY",
  "BPF_MAP_TYPE_PERCPU_HASH",
  "BPF_MAP_TYPE_PERCPU_ARRAY",
  "BPF_MAP_TYPE_STACK_TRACE",
  "BPF_MAP_TYPE_CGROUP_ARRAY",
  "BPF_MAP_TYPE_LRU_HASH",
  "BPF_MAP_TYPE_LRU_PERCPU_HASH",
  "BPF_MAP_TYPE_LPM_TRIE",
  "BPF_MAP_TYPE_ARRAY_OF_MAPS",
  "BPF_MAP_TYPE_HASH_OF_MAPS",
  "BPF_MAP_TYPE_DEVMAP",
  "BPF_MAP_TYPE_SOCKMAP",
  "BPF_MAP_TYPE_CPUMAP",
  "BPF_MAP_TYPE_XSKMAP",
  "BPF_MAP_TYPE_SOCKHASH",
  "BPF_MAP_TYPE_CGROUP_STORAGE",
  "BPF_MAP_TYPE_REUSEPORT_SOCKARRAY",
  "BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE",
  "BPF_MAP_TYPE_QUEUE",
  "BPF_MAP_TYPE_STACK",
  "BPF_MAP_TYPE_SK_STORAGE",
  "BPF_MAP_TYPE_DEVMAP_HASH",
  "BPF_MAP_TYPE_STRUCT_OPS",
  "BPF_MAP_TYPE_RINGBUF",
  "BPF_MAP_TYPE_INODE_STORAGE",
  "BPF_MAP_TYPE_TASK_STORAGE",
  "BPF_MAP_TYPE_BLOOM_FILTER",
  "BPF_MAP_TYPE_USER_RINGBUF",
  "BPF_MAP_TYPE_CGRP_STORAGE",
  "BPF_MAP_TYPE_ARENA",
  "BPF_MAP_TYPE_INSN_ARRAY",
];

/** `BPF_MAP_TYPE_*` name of a type number, or `map type N` when unknown. */
export function mapTypeName(type: number): string {
  return MAP_TYPE_NAMES[type] ?? `map type ${type}`;
}

/** Update flags (`bpf_map_update_elem`): create or replace. */
export const BPF_ANY = 0n;
/** Update flags: create only; an existing key is -EEXIST. */
export const BPF_NOEXIST = 1n;
/** Update flags: replace only; a missing key is -ENOENT. */
export const BPF_EXIST = 2n;
/** Update flags: take the value's `bpf_spin_lock`. */
export const BPF_F_LOCK = 4n;

/** Map creation flags (`map_flags` of BPF_MAP_CREATE; one list, in src/elf/constants.ts). */
export {
  BPF_F_NO_PREALLOC,
  BPF_F_NO_COMMON_LRU,
  BPF_F_NUMA_NODE,
  BPF_F_RDONLY,
  BPF_F_WRONLY,
  BPF_F_STACK_BUILD_ID,
  BPF_F_ZERO_SEED,
  BPF_F_RDONLY_PROG,
  BPF_F_WRONLY_PROG,
  BPF_F_CLONE,
  BPF_F_MMAPABLE,
  BPF_F_PRESERVE_ELEMS,
  BPF_F_INNER_MAP,
  BPF_F_LINK,
  BPF_F_PATH_FD,
  BPF_F_VTYPE_BTF_OBJ_FD,
  BPF_F_TOKEN_FD,
  BPF_F_SEGV_ON_FAULT,
  BPF_F_NO_USER_CONV,
  BPF_F_RB_OVERWRITE,
} from "../elf/constants.js";
import {
  BPF_F_RDONLY,
  BPF_F_RDONLY_PROG,
  BPF_F_WRONLY,
  BPF_F_WRONLY_PROG,
} from "../elf/constants.js";

/** Every access-restricting creation flag. */
export const BPF_F_ACCESS_MASK =
  BPF_F_RDONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY | BPF_F_WRONLY_PROG;

/** `bpf_perf_event_output` flags: the index part (which perf event of the array). */
export const BPF_F_INDEX_MASK = 0xffff_ffffn;
/** `bpf_perf_event_output` flags: use the event of the current CPU. */
export const BPF_F_CURRENT_CPU = BPF_F_INDEX_MASK;
/** `bpf_skb/xdp_event_output` flags: bytes of the packet to append. */
export const BPF_F_CTXLEN_MASK = 0xf_ffffn << 32n;

/** Ring buffer record header size. */
export const BPF_RINGBUF_HDR_SZ = 8;
/** Ring buffer header `len` bit: the record is reserved, not yet committed. */
export const BPF_RINGBUF_BUSY_BIT = 0x8000_0000;
/** Ring buffer header `len` bit: the record was discarded. */
export const BPF_RINGBUF_DISCARD_BIT = 0x4000_0000;
/** `bpf_ringbuf_submit/discard/output` flag: no wakeup. */
export const BPF_RB_NO_WAKEUP = 1n;
/** `bpf_ringbuf_submit/discard/output` flag: force a wakeup. */
export const BPF_RB_FORCE_WAKEUP = 2n;
/** `bpf_ringbuf_query` flag: bytes not yet consumed. */
export const BPF_RB_AVAIL_DATA = 0n;
/** `bpf_ringbuf_query` flag: ring size. */
export const BPF_RB_RING_SIZE = 1n;
/** `bpf_ringbuf_query` flag: consumer position. */
export const BPF_RB_CONS_POS = 2n;
/** `bpf_ringbuf_query` flag: producer position. */
export const BPF_RB_PROD_POS = 3n;

/** x86-64 `KMALLOC_MAX_SIZE` (4 MiB): the kernel's bound on element sizes. */
export const KMALLOC_MAX_SIZE = 1 << 22;
/** `PCPU_MIN_UNIT_SIZE` (32 KiB): the bound on a per-CPU value. */
export const PCPU_MIN_UNIT_SIZE = 32 << 10;
