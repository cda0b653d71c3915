/**
 * Linux BPF numbers the loader and the runtime share: map types, program types, attach types,
 * map flags and the `src_reg` values of pseudo instructions (`include/uapi/linux/bpf.h`).
 */
// enum bpf_map_type
/** Linux `BPF_MAP_TYPE_UNSPEC`. */
export const BPF_MAP_TYPE_UNSPEC = 0;
/** Linux `BPF_MAP_TYPE_HASH`. */
export const BPF_MAP_TYPE_HASH = 1;
/** Linux `BPF_MAP_TYPE_ARRAY`. */
export const BPF_MAP_TYPE_ARRAY = 2;
/** Linux `BPF_MAP_TYPE_PROG_ARRAY`. */
export const BPF_MAP_TYPE_PROG_ARRAY = 3;
/** Linux `BPF_MAP_TYPE_PERF_EVENT_ARRAY`. */
export const BPF_MAP_TYPE_PERF_EVENT_ARRAY = 4;
/** Linux `BPF_MAP_TYPE_PERCPU_HASH`. */
export const BPF_MAP_TYPE_PERCPU_HASH = 5;
/** Linux `BPF_MAP_TYPE_PERCPU_ARRAY`. */
export const BPF_MAP_TYPE_PERCPU_ARRAY = 6;
/** Linux `BPF_MAP_TYPE_STACK_TRACE`. */
export const BPF_MAP_TYPE_STACK_TRACE = 7;
/** Linux `BPF_MAP_TYPE_CGROUP_ARRAY`. */
export const BPF_MAP_TYPE_CGROUP_ARRAY = 8;
/** Linux `BPF_MAP_TYPE_LRU_HASH`. */
export const BPF_MAP_TYPE_LRU_HASH = 9;
/** Linux `BPF_MAP_TYPE_LRU_PERCPU_HASH`. */
export const BPF_MAP_TYPE_LRU_PERCPU_HASH = 10;
/** Linux `BPF_MAP_TYPE_LPM_TRIE`. */
export const BPF_MAP_TYPE_LPM_TRIE = 11;
/** Linux `BPF_MAP_TYPE_ARRAY_OF_MAPS`. */
export const BPF_MAP_TYPE_ARRAY_OF_MAPS = 12;
/** Linux `BPF_MAP_TYPE_HASH_OF_MAPS`. */
export const BPF_MAP_TYPE_HASH_OF_MAPS = 13;
/** Linux `BPF_MAP_TYPE_DEVMAP`. */
export const BPF_MAP_TYPE_DEVMAP = 14;
/** Linux `BPF_MAP_TYPE_SOCKMAP`. */
export const BPF_MAP_TYPE_SOCKMAP = 15;
/** Linux `BPF_MAP_TYPE_CPUMAP`. */
export const BPF_MAP_TYPE_CPUMAP = 16;
/** Linux `BPF_MAP_TYPE_XSKMAP`. */
export const BPF_MAP_TYPE_XSKMAP = 17;
/** Linux `BPF_MAP_TYPE_SOCKHASH`. */
export const BPF_MAP_TYPE_SOCKHASH = 18;
/** Linux `BPF_MAP_TYPE_CGROUP_STORAGE_DEPRECATED`. */
export const BPF_MAP_TYPE_CGROUP_STORAGE_DEPRECATED = 19;
/** Linux `BPF_MAP_TYPE_CGROUP_STORAGE`. */
export const BPF_MAP_TYPE_CGROUP_STORAGE = 19;
/** Linux `BPF_MAP_TYPE_REUSEPORT_SOCKARRAY`. */
export const BPF_MAP_TYPE_REUSEPORT_SOCKARRAY = 20;
/** Linux `BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE_DEPRECATED`. */
export const BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE_DEPRECATED = 21;
/** Linux `BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE`. */
export const BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE = 21;
/** Linux `BPF_MAP_TYPE_QUEUE`. */
export const BPF_MAP_TYPE_QUEUE = 22;
/** Linux `BPF_MAP_TYPE_STACK`. */
export const BPF_MAP_TYPE_STACK = 23;
/** Linux `BPF_MAP_TYPE_SK_STORAGE`. */
export const BPF_MAP_TYPE_SK_STORAGE = 24;
/** Linux `BPF_MAP_TYPE_DEVMAP_HASH`. */
export const BPF_MAP_TYPE_DEVMAP_HASH = 25;
/** Linux `BPF_MAP_TYPE_STRUCT_OPS`. */
export const BPF_MAP_TYPE_STRUCT_OPS = 26;
/** Linux `BPF_MAP_TYPE_RINGBUF`. */
export const BPF_MAP_TYPE_RINGBUF = 27;
/** Linux `BPF_MAP_TYPE_INODE_STORAGE`. */
export const BPF_MAP_TYPE_INODE_STORAGE = 28;
/** Linux `BPF_MAP_TYPE_TASK_STORAGE`. */
export const BPF_MAP_TYPE_TASK_STORAGE = 29;
/** Linux `BPF_MAP_TYPE_BLOOM_FILTER`. */
export const BPF_MAP_TYPE_BLOOM_FILTER = 30;
/** Linux `BPF_MAP_TYPE_USER_RINGBUF`. */
export const BPF_MAP_TYPE_USER_RINGBUF = 31;
/** Linux `BPF_MAP_TYPE_CGRP_STORAGE`. */
export const BPF_MAP_TYPE_CGRP_STORAGE = 32;
/** Linux `BPF_MAP_TYPE_ARENA`. */
export const BPF_MAP_TYPE_ARENA = 33;
/** Linux `BPF_MAP_TYPE_INSN_ARRAY`. */
export const BPF_MAP_TYPE_INSN_ARRAY = 34;
/** Linux `BPF_MAP_TYPE_RHASH`. */
export const BPF_MAP_TYPE_RHASH = 35;

// enum bpf_prog_type
/** Linux `BPF_PROG_TYPE_UNSPEC`. */
export const BPF_PROG_TYPE_UNSPEC = 0;
/** Linux `BPF_PROG_TYPE_SOCKET_FILTER`. */
export const BPF_PROG_TYPE_SOCKET_FILTER = 1;
/** Linux `BPF_PROG_TYPE_KPROBE`. */
export const BPF_PROG_TYPE_KPROBE = 2;
/** Linux `BPF_PROG_TYPE_SCHED_CLS`. */
export const BPF_PROG_TYPE_SCHED_CLS = 3;
/** Linux `BPF_PROG_TYPE_SCHED_ACT`. */
export const BPF_PROG_TYPE_SCHED_ACT = 4;
/** Linux `BPF_PROG_TYPE_TRACEPOINT`. */
export const BPF_PROG_TYPE_TRACEPOINT = 5;
/** Linux `BPF_PROG_TYPE_XDP`. */
export const BPF_PROG_TYPE_XDP = 6;
/** Linux `BPF_PROG_TYPE_PERF_EVENT`. */
export const BPF_PROG_TYPE_PERF_EVENT = 7;
/** Linux `BPF_PROG_TYPE_CGROUP_SKB`. */
export const BPF_PROG_TYPE_CGROUP_SKB = 8;
/** Linux `BPF_PROG_TYPE_CGROUP_SOCK`. */
export const BPF_PROG_TYPE_CGROUP_SOCK = 9;
/** Linux `BPF_PROG_TYPE_LWT_IN`. */
export const BPF_PROG_TYPE_LWT_IN = 10;
/** Linux `BPF_PROG_TYPE_LWT_OUT`. */
export const BPF_PROG_TYPE_LWT_OUT = 11;
/** Linux `BPF_PROG_TYPE_LWT_XMIT`. */
export const BPF_PROG_TYPE_LWT_XMIT = 12;
/** Linux `BPF_PROG_TYPE_SOCK_OPS`. */
export const BPF_PROG_TYPE_SOCK_OPS = 13;
/** Linux `BPF_PROG_TYPE_SK_SKB`. */
export const BPF_PROG_TYPE_SK_SKB = 14;
/** Linux `BPF_PROG_TYPE_CGROUP_DEVICE`. */
export const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
/** Linux `BPF_PROG_TYPE_SK_MSG`. */
export const BPF_PROG_TYPE_SK_MSG = 16;
/** Linux `BPF_PROG_TYPE_RAW_TRACEPOINT`. */
export const BPF_PROG_TYPE_RAW_TRACEPOINT = 17;
/** Linux `BPF_PROG_TYPE_CGROUP_SOCK_ADDR`. */
export const BPF_PROG_TYPE_CGROUP_SOCK_ADDR = 18;
/** Linux `BPF_PROG_TYPE_LWT_SEG6LOCAL`. */
export const BPF_PROG_TYPE_LWT_SEG6LOCAL = 19;
/** Linux `BPF_PROG_TYPE_LIRC_MODE2`. */
export const BPF_PROG_TYPE_LIRC_MODE2 = 20;
/** Linux `BPF_PROG_TYPE_SK_REUSEPORT`. */
export const BPF_PROG_TYPE_SK_REUSEPORT = 21;
/** Linux `BPF_PROG_TYPE_FLOW_DISSECTOR`. */
export const BPF_PROG_TYPE_FLOW_DISSECTOR = 22;
/** Linux `BPF_PROG_TYPE_CGROUP_SYSCTL`. */
export const BPF_PROG_TYPE_CGROUP_SYSCTL = 23;
/** Linux `BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE`. */
export const BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE = 24;
/** Linux `BPF_PROG_TYPE_CGROUP_SOCKOPT`. */
export const BPF_PROG_TYPE_CGROUP_SOCKOPT = 25;
/** Linux `BPF_PROG_TYPE_TRACING`. */
export const BPF_PROG_TYPE_TRACING = 26;
/** Linux `BPF_PROG_TYPE_STRUCT_OPS`. */
export const BPF_PROG_TYPE_STRUCT_OPS = 27;
/** Linux `BPF_PROG_TYPE_EXT`. */
export const BPF_PROG_TYPE_EXT = 28;
/** Linux `BPF_PROG_TYPE_LSM`. */
export const BPF_PROG_TYPE_LSM = 29;
/** Linux `BPF_PROG_TYPE_SK_LOOKUP`. */
export const BPF_PROG_TYPE_SK_LOOKUP = 30;
/** Linux `BPF_PROG_TYPE_SYSCALL`. */
export const BPF_PROG_TYPE_SYSCALL = 31;
/** Linux `BPF_PROG_TYPE_NETFILTER`. */
export const BPF_PROG_TYPE_NETFILTER = 32;

// enum bpf_attach_type
/** Linux `BPF_CGROUP_INET_INGRESS`. */
export const BPF_CGROUP_INET_INGRESS = 0;
/** Linux `BPF_CGROUP_INET_EGRESS`. */
export const BPF_CGROUP_INET_EGRESS = 1;
/** Linux `BPF_CGROUP_INET_SOCK_CREATE`. */
export const BPF_CGROUP_INET_SOCK_CREATE = 2;
/** Linux `BPF_CGROUP_SOCK_OPS`. */
export const BPF_CGROUP_SOCK_OPS = 3;
/** Linux `BPF_SK_SKB_STREAM_PARSER`. */
export const BPF_SK_SKB_STREAM_PARSER = 4;
/** Linux `BPF_SK_SKB_STREAM_VERDICT`. */
export const BPF_SK_SKB_STREAM_VERDICT = 5;
/** Linux `BPF_CGROUP_DEVICE`. */
export const BPF_CGROUP_DEVICE = 6;
/** Linux `BPF_SK_MSG_VERDICT`. */
export const BPF_SK_MSG_VERDICT = 7;
/** Linux `BPF_CGROUP_INET4_BIND`. */
export const BPF_CGROUP_INET4_BIND = 8;
/** Linux `BPF_CGROUP_INET6_BIND`. */
export const BPF_CGROUP_INET6_BIND = 9;
/** Linux `BPF_CGROUP_INET4_CONNECT`. */
export const BPF_CGROUP_INET4_CONNECT = 10;
/** Linux `BPF_CGROUP_INET6_CONNECT`. */
export const BPF_CGROUP_INET6_CONNECT = 11;
/** Linux `BPF_CGROUP_INET4_POST_BIND`. */
export const BPF_CGROUP_INET4_POST_BIND = 12;
/** Linux `BPF_CGROUP_INET6_POST_BIND`. */
export const BPF_CGROUP_INET6_POST_BIND = 13;
/** Linux `BPF_CGROUP_UDP4_SENDMSG`. */
export const BPF_CGROUP_UDP4_SENDMSG = 14;
/** Linux `BPF_CGROUP_UDP6_SENDMSG`. */
export const BPF_CGROUP_UDP6_SENDMSG = 15;
/** Linux `BPF_LIRC_MODE2`. */
export const BPF_LIRC_MODE2 = 16;
/** Linux `BPF_FLOW_DISSECTOR`. */
export const BPF_FLOW_DISSECTOR = 17;
/** Linux `BPF_CGROUP_SYSCTL`. */
export const BPF_CGROUP_SYSCTL = 18;
/** Linux `BPF_CGROUP_UDP4_RECVMSG`. */
export const BPF_CGROUP_UDP4_RECVMSG = 19;
/** Linux `BPF_CGROUP_UDP6_RECVMSG`. */
export const BPF_CGROUP_UDP6_RECVMSG = 20;
/** Linux `BPF_CGROUP_GETSOCKOPT`. */
export const BPF_CGROUP_GETSOCKOPT = 21;
/** Linux `BPF_CGROUP_SETSOCKOPT`. */
export const BPF_CGROUP_SETSOCKOPT = 22;
/** Linux `BPF_TRACE_RAW_TP`. */
export const BPF_TRACE_RAW_TP = 23;
/** Linux `BPF_TRACE_FENTRY`. */
export const BPF_TRACE_FENTRY = 24;
/** Linux `BPF_TRACE_FEXIT`. */
export const BPF_TRACE_FEXIT = 25;
/** Linux `BPF_MODIFY_RETURN`. */
export const BPF_MODIFY_RETURN = 26;
/** Linux `BPF_LSM_MAC`. */
export const BPF_LSM_MAC = 27;
/** Linux `BPF_TRACE_ITER`. */
export const BPF_TRACE_ITER = 28;
/** Linux `BPF_CGROUP_INET4_GETPEERNAME`. */
export const BPF_CGROUP_INET4_GETPEERNAME = 29;
/** Linux `BPF_CGROUP_INET6_GETPEERNAME`. */
export const BPF_CGROUP_INET6_GETPEERNAME = 30;
/** Linux `BPF_CGROUP_INET4_GETSOCKNAME`. */
export const BPF_CGROUP_INET4_GETSOCKNAME = 31;
/** Linux `BPF_CGROUP_INET6_GETSOCKNAME`. */
export const BPF_CGROUP_INET6_GETSOCKNAME = 32;
/** Linux `BPF_XDP_DEVMAP`. */
export const BPF_XDP_DEVMAP = 33;
/** Linux `BPF_CGROUP_INET_SOCK_RELEASE`. */
export const BPF_CGROUP_INET_SOCK_RELEASE = 34;
/** Linux `BPF_XDP_CPUMAP`. */
export const BPF_XDP_CPUMAP = 35;
/** Linux `BPF_SK_LOOKUP`. */
export const BPF_SK_LOOKUP = 36;
/** Linux `BPF_XDP`. */
export const BPF_XDP = 37;
/** Linux `BPF_SK_SKB_VERDICT`. */
export const BPF_SK_SKB_VERDICT = 38;
/** Linux `BPF_SK_REUSEPORT_SELECT`. */
export const BPF_SK_REUSEPORT_SELECT = 39;
/** Linux `BPF_SK_REUSEPORT_SELECT_OR_MIGRATE`. */
export const BPF_SK_REUSEPORT_SELECT_OR_MIGRATE = 40;
/** Linux `BPF_PERF_EVENT`. */
export const BPF_PERF_EVENT = 41;
/** Linux `BPF_TRACE_KPROBE_MULTI`. */
export const BPF_TRACE_KPROBE_MULTI = 42;
/** Linux `BPF_LSM_CGROUP`. */
export const BPF_LSM_CGROUP = 43;
/** Linux `BPF_STRUCT_OPS`. */
export const BPF_STRUCT_OPS = 44;
/** Linux `BPF_NETFILTER`. */
export const BPF_NETFILTER = 45;
/** Linux `BPF_TCX_INGRESS`. */
export const BPF_TCX_INGRESS = 46;
/** Linux `BPF_TCX_EGRESS`. */
export const BPF_TCX_EGRESS = 47;
/** Linux `BPF_TRACE_UPROBE_MULTI`. */
export const BPF_TRACE_UPROBE_MULTI = 48;
/** Linux `BPF_CGROUP_UNIX_CONNECT`. */
export const BPF_CGROUP_UNIX_CONNECT = 49;
/** Linux `BPF_CGROUP_UNIX_SENDMSG`. */
export const BPF_CGROUP_UNIX_SENDMSG = 50;
/** Linux `BPF_CGROUP_UNIX_RECVMSG`. */
export const BPF_CGROUP_UNIX_RECVMSG = 51;
/** Linux `BPF_CGROUP_UNIX_GETPEERNAME`. */
export const BPF_CGROUP_UNIX_GETPEERNAME = 52;
/** Linux `BPF_CGROUP_UNIX_GETSOCKNAME`. */
export const BPF_CGROUP_UNIX_GETSOCKNAME = 53;
/** Linux `BPF_NETKIT_PRIMARY`. */
export const BPF_NETKIT_PRIMARY = 54;
/** Linux `BPF_NETKIT_PEER`. */
export const BPF_NETKIT_PEER = 55;
/** Linux `BPF_TRACE_KPROBE_SESSION`. */
export const BPF_TRACE_KPROBE_SESSION = 56;
/** Linux `BPF_TRACE_UPROBE_SESSION`. */
export const BPF_TRACE_UPROBE_SESSION = 57;
/** Linux `BPF_TRACE_FSESSION`. */
export const BPF_TRACE_FSESSION = 58;
/** Linux `BPF_TRACE_FENTRY_MULTI`. */
export const BPF_TRACE_FENTRY_MULTI = 59;
/** Linux `BPF_TRACE_FEXIT_MULTI`. */
export const BPF_TRACE_FEXIT_MULTI = 60;
/** Linux `BPF_TRACE_FSESSION_MULTI`. */
export const BPF_TRACE_FSESSION_MULTI = 61;

// map_flags (BPF_MAP_CREATE)
/** Linux map flag `BPF_F_NO_PREALLOC` (1 << 0). */
export const BPF_F_NO_PREALLOC = 0x1;
/** Linux map flag `BPF_F_NO_COMMON_LRU` (1 << 1). */
export const BPF_F_NO_COMMON_LRU = 0x2;
/** Linux map flag `BPF_F_NUMA_NODE` (1 << 2). */
export const BPF_F_NUMA_NODE = 0x4;
/** Linux map flag `BPF_F_RDONLY` (1 << 3). */
export const BPF_F_RDONLY = 0x8;
/** Linux map flag `BPF_F_WRONLY` (1 << 4). */
export const BPF_F_WRONLY = 0x10;
/** Linux map flag `BPF_F_STACK_BUILD_ID` (1 << 5). */
export const BPF_F_STACK_BUILD_ID = 0x20;
/** Linux map flag `BPF_F_ZERO_SEED` (1 << 6). */
export const BPF_F_ZERO_SEED = 0x40;
/** Linux map flag `BPF_F_RDONLY_PROG` (1 << 7). */
export const BPF_F_RDONLY_PROG = 0x80;
/** Linux map flag `BPF_F_WRONLY_PROG` (1 << 8). */
export const BPF_F_WRONLY_PROG = 0x100;
/** Linux map flag `BPF_F_CLONE` (1 << 9). */
export const BPF_F_CLONE = 0x200;
/** Linux map flag `BPF_F_MMAPABLE` (1 << 10). */
export const BPF_F_MMAPABLE = 0x400;
/** Linux map flag `BPF_F_PRESERVE_ELEMS` (1 << 11). */
export const BPF_F_PRESERVE_ELEMS = 0x800;
/** Linux map flag `BPF_F_INNER_MAP` (1 << 12). */
export const BPF_F_INNER_MAP = 0x1000;
/** Linux map flag `BPF_F_LINK` (1 << 13). */
export const BPF_F_LINK = 0x2000;
/** Linux map flag `BPF_F_PATH_FD` (1 << 14). */
export const BPF_F_PATH_FD = 0x4000;
/** Linux map flag `BPF_F_VTYPE_BTF_OBJ_FD` (1 << 15). */
export const BPF_F_VTYPE_BTF_OBJ_FD = 0x8000;
/** Linux map flag `BPF_F_TOKEN_FD` (1 << 16). */
export const BPF_F_TOKEN_FD = 0x10000;
/** Linux map flag `BPF_F_SEGV_ON_FAULT` (1 << 17). */
export const BPF_F_SEGV_ON_FAULT = 0x20000;
/** Linux map flag `BPF_F_NO_USER_CONV` (1 << 18). */
export const BPF_F_NO_USER_CONV = 0x40000;
/** Linux map flag `BPF_F_RB_OVERWRITE` (1 << 19). */
export const BPF_F_RB_OVERWRITE = 0x80000;

// prog_flags (BPF_PROG_LOAD)
/** Linux prog flag `BPF_F_STRICT_ALIGNMENT`. */
export const BPF_F_STRICT_ALIGNMENT = 0x1;
/** Linux prog flag `BPF_F_SLEEPABLE`: the program may sleep. */
export const BPF_F_SLEEPABLE = 0x10;
/** Linux prog flag `BPF_F_XDP_HAS_FRAGS`: an XDP program that handles multi-buffer packets. */
export const BPF_F_XDP_HAS_FRAGS = 0x20;

// src_reg of lddw and call instructions
/** `lddw` src_reg: imm is a map (an index into `CollectionSpec.maps` after loading). */
export const BPF_PSEUDO_MAP_FD = 1;
/** `lddw` src_reg: imm is a map, the second imm an offset into its value. */
export const BPF_PSEUDO_MAP_VALUE = 2;
/** `lddw` src_reg: imm is a kernel BTF id (typed ksym). */
export const BPF_PSEUDO_BTF_ID = 3;
/** `lddw` src_reg: imm is the pc-relative address of a function (callbacks). */
export const BPF_PSEUDO_FUNC = 4;
/** `lddw` src_reg: imm is a map index (libbpf's light skeleton). */
export const BPF_PSEUDO_MAP_IDX = 5;
/** `lddw` src_reg: imm is a map index, the second imm an offset into its value. */
export const BPF_PSEUDO_MAP_IDX_VALUE = 6;
/** `call` src_reg: bpf-to-bpf call, imm is pc-relative. */
export const BPF_PSEUDO_CALL = 1;
/** `call` src_reg: kernel function call, imm is a BTF id. */
export const BPF_PSEUDO_KFUNC_CALL = 2;

/** Longest object name the kernel keeps, NUL included (`BPF_OBJ_NAME_LEN`). */
export const BPF_OBJ_NAME_LEN = 16;

const MAP_TYPE_NAMES: Record<number, string> = {
  0: "unspec",
  1: "hash",
  2: "array",
  3: "prog_array",
  4: "perf_event_array",
  5: "percpu_hash",
  6: "percpu_array",
  7: "stack_trace",
  8: "cgroup_array",
  9: "lru_hash",
  10: "lru_percpu_hash",
  11: "lpm_trie",
  12: "array_of_maps",
  13: "hash_of_maps",
  14: "devmap",
  15: "sockmap",
  16: "cpumap",
  17: "xskmap",
  18: "sockhash",
  19: "cgroup_storage",
  20: "reuseport_sockarray",
  21: "percpu_cgroup_storage",
  22: "queue",
  23: "stack",
  24: "sk_storage",
  25: "devmap_hash",
  26: "struct_ops",
  27: "ringbuf",
  28: "inode_storage",
  29: "task_storage",
  30: "bloom_filter",
  31: "user_ringbuf",
  32: "cgrp_storage",
  33: "arena",
  34: "insn_array",
  35: "rhash",
};

const PROG_TYPE_NAMES: Record<number, string> = {
  0: "unspec",
  1: "socket_filter",
  2: "kprobe",
  3: "sched_cls",
  4: "sched_act",
  5: "tracepoint",
  6: "xdp",
  7: "perf_event",
  8: "cgroup_skb",
  9: "cgroup_sock",
  10: "lwt_in",
  11: "lwt_out",
  12: "lwt_xmit",
  13: "sock_ops",
  14: "sk_skb",
  15: "cgroup_device",
  16: "sk_msg",
  17: "raw_tracepoint",
  18: "cgroup_sock_addr",
  19: "lwt_seg6local",
  20: "lirc_mode2",
  21: "sk_reuseport",
  22: "flow_dissector",
  23: "cgroup_sysctl",
  24: "raw_tracepoint_writable",
  25: "cgroup_sockopt",
  26: "tracing",
  27: "struct_ops",
  28: "ext",
  29: "lsm",
  30: "sk_lookup",
  31: "syscall",
  32: "netfilter",
};

/** Short lowercase name of a map type as bpftool prints it (`hash`, `prog_array`, ...). */
export function mapTypeName(type: number): string {
  return MAP_TYPE_NAMES[type] ?? `type ${type}`;
}

/** Short lowercase name of a program type (`xdp`, `sched_cls`, `kprobe`, ...). */
export function progTypeName(type: number): string {
  return PROG_TYPE_NAMES[type] ?? `type ${type}`;
}
