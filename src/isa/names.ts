/**
 * Names the instruction set's tools print and parse: mnemonic tables for both syntaxes (llvm-objdump's
 * and bpf_conformance's) and the Linux helper functions by id.
 */

import { BPF_B, BPF_DW, BPF_H, BPF_W } from "./opcodes.js";

/**
 * ALU operation names in bpf_conformance's syntax, indexed by `op >> 4` (BPF_ADD = 0 ...
 * BPF_END = 13). Signed division and modulo (off = 1) are `sdiv`/`smod`; BPF_END is spelt by
 * its direction (`le`, `be`, `bswap`) and width.
 */
export const ALU_OP_NAMES: readonly string[] = [
  "add",
  "sub",
  "mul",
  "div",
  "or",
  "and",
  "lsh",
  "rsh",
  "neg",
  "mod",
  "xor",
  "mov",
  "arsh",
  "end",
];

/** llvm-objdump's compound-assignment operator per ALU op (`r0 += r1`), indexed by `op >> 4`. */
export const ALU_OP_LLVM: readonly string[] = [
  "+=",
  "-=",
  "*=",
  "/=",
  "|=",
  "&=",
  "<<=",
  ">>=",
  "",
  "%=",
  "^=",
  "=",
  "s>>=",
];

/**
 * Jump operation names in bpf_conformance's syntax, indexed by `op >> 4` (BPF_JA = 0 ...
 * BPF_JSLE = 13). `call` and `exit` (8, 9) have their own syntax.
 */
export const JMP_OP_NAMES: readonly string[] = [
  "ja",
  "jeq",
  "jgt",
  "jge",
  "jset",
  "jne",
  "jsgt",
  "jsge",
  "call",
  "exit",
  "jlt",
  "jle",
  "jslt",
  "jsle",
];

/** llvm-objdump's comparison operator per conditional jump (`if r1 s> r2 goto`), by `op >> 4`. */
export const JMP_OP_LLVM: readonly string[] = [
  "",
  "==",
  ">",
  ">=",
  "&",
  "!=",
  "s>",
  "s>=",
  "",
  "",
  "<",
  "<=",
  "s<",
  "s<=",
];

/** Size suffix of load/store mnemonics (`ldxw`, `stxdw`) by the size bits of the opcode. */
export function sizeSuffix(size: number): string {
  switch (size) {
    case BPF_W:
      return "w";
    case BPF_H:
      return "h";
    case BPF_B:
      return "b";
    default:
      return "dw";
  }
}

/** Size in bytes of an access by the size bits of the opcode. */
export function sizeBytes(size: number): number {
  switch (size) {
    case BPF_W:
      return 4;
    case BPF_H:
      return 2;
    case BPF_B:
      return 1;
    default:
      return 8;
  }
}

/** Size bits of the opcode for a mnemonic suffix (`b`, `h`, `w`, `dw`), or undefined. */
export function sizeFromSuffix(suffix: string): number | undefined {
  switch (suffix) {
    case "w":
      return BPF_W;
    case "h":
      return BPF_H;
    case "b":
      return BPF_B;
    case "dw":
      return BPF_DW;
    default:
      return undefined;
  }
}

/** Atomic read-modify-write names (`lock add`) by the operation bits of the immediate. */
export const ATOMIC_OP_NAMES: ReadonlyMap<number, string> = new Map([
  [0x00, "add"],
  [0x40, "or"],
  [0x50, "and"],
  [0xa0, "xor"],
]);

/** What `lddw`'s `src_reg` says the immediate is (RFC 9669 section 5.4), by src value 0..6. */
export const LDDW_SRC_NAMES: readonly string[] = [
  "imm64",
  "map_fd",
  "map_value",
  "btf_id",
  "func",
  "map_idx",
  "map_idx_value",
];

/**
 * Linux helper function names by id, in the order of `___BPF_FUNC_MAPPER` in the kernel's
 * `include/uapi/linux/bpf.h`: each row starts with the id of its first name.
 */
const HELPER_ROWS = `
  1 map_lookup_elem map_update_elem map_delete_elem probe_read ktime_get_ns trace_printk
  7 get_prandom_u32 get_smp_processor_id skb_store_bytes l3_csum_replace l4_csum_replace
 12 tail_call clone_redirect get_current_pid_tgid get_current_uid_gid get_current_comm
 17 get_cgroup_classid skb_vlan_push skb_vlan_pop skb_get_tunnel_key skb_set_tunnel_key
 22 perf_event_read redirect get_route_realm perf_event_output skb_load_bytes get_stackid
 28 csum_diff skb_get_tunnel_opt skb_set_tunnel_opt skb_change_proto skb_change_type
 33 skb_under_cgroup get_hash_recalc get_current_task probe_write_user
 37 current_task_under_cgroup skb_change_tail skb_pull_data csum_update set_hash_invalid
 42 get_numa_node_id skb_change_head xdp_adjust_head probe_read_str get_socket_cookie
 47 get_socket_uid set_hash setsockopt skb_adjust_room redirect_map sk_redirect_map
 53 sock_map_update xdp_adjust_meta perf_event_read_value perf_prog_read_value getsockopt
 58 override_return sock_ops_cb_flags_set msg_redirect_map msg_apply_bytes msg_cork_bytes
 63 msg_pull_data bind xdp_adjust_tail skb_get_xfrm_state get_stack skb_load_bytes_relative
 69 fib_lookup sock_hash_update msg_redirect_hash sk_redirect_hash lwt_push_encap
 74 lwt_seg6_store_bytes lwt_seg6_adjust_srh lwt_seg6_action rc_repeat rc_keydown skb_cgroup_id
 80 get_current_cgroup_id get_local_storage sk_select_reuseport skb_ancestor_cgroup_id
 84 sk_lookup_tcp sk_lookup_udp sk_release map_push_elem map_pop_elem map_peek_elem
 90 msg_push_data msg_pop_data rc_pointer_rel spin_lock spin_unlock sk_fullsock tcp_sock
 97 skb_ecn_set_ce get_listener_sock skc_lookup_tcp tcp_check_syncookie sysctl_get_name
102 sysctl_get_current_value sysctl_get_new_value sysctl_set_new_value strtol strtoul
107 sk_storage_get sk_storage_delete send_signal tcp_gen_syncookie skb_output probe_read_user
113 probe_read_kernel probe_read_user_str probe_read_kernel_str tcp_send_ack
117 send_signal_thread jiffies64 read_branch_records get_ns_current_pid_tgid xdp_output
122 get_netns_cookie get_current_ancestor_cgroup_id sk_assign ktime_get_boot_ns seq_printf
127 seq_write sk_cgroup_id sk_ancestor_cgroup_id ringbuf_output ringbuf_reserve ringbuf_submit
133 ringbuf_discard ringbuf_query csum_level skc_to_tcp6_sock skc_to_tcp_sock
138 skc_to_tcp_timewait_sock skc_to_tcp_request_sock skc_to_udp6_sock get_task_stack
142 load_hdr_opt store_hdr_opt reserve_hdr_opt inode_storage_get inode_storage_delete d_path
148 copy_from_user snprintf_btf seq_printf_btf skb_cgroup_classid redirect_neigh per_cpu_ptr
154 this_cpu_ptr redirect_peer task_storage_get task_storage_delete get_current_task_btf
159 bprm_opts_set ktime_get_coarse_ns ima_inode_hash sock_from_file check_mtu
164 for_each_map_elem snprintf sys_bpf btf_find_by_name_kind sys_close timer_init
170 timer_set_callback timer_start timer_cancel get_func_ip get_attach_cookie task_pt_regs
176 get_branch_snapshot trace_vprintk skc_to_unix_sock kallsyms_lookup_name find_vma loop
182 strncmp get_func_arg get_func_ret get_func_arg_cnt get_retval set_retval xdp_get_buff_len
189 xdp_load_bytes xdp_store_bytes copy_from_user_task skb_set_tstamp ima_file_hash kptr_xchg
195 map_lookup_percpu_elem skc_to_mptcp_sock dynptr_from_mem ringbuf_reserve_dynptr
199 ringbuf_submit_dynptr ringbuf_discard_dynptr dynptr_read dynptr_write dynptr_data
204 tcp_raw_gen_syncookie_ipv4 tcp_raw_gen_syncookie_ipv6 tcp_raw_check_syncookie_ipv4
207 tcp_raw_check_syncookie_ipv6 ktime_get_tai_ns user_ringbuf_drain cgrp_storage_get
211 cgrp_storage_delete
`;

function parseHelperRows(rows: string): string[] {
  const names: string[] = [];
  for (const line of rows.split("\n")) {
    const [first, ...rest] = line.trim().split(/\s+/);
    if (first === undefined || first === "") continue;
    if (Number(first) !== names.length + 1) {
      throw new Error(`helper table out of order at ${first}`);
    }
    for (const name of rest) names.push(`bpf_${name}`);
  }
  return names;
}

const HELPERS: readonly string[] = parseHelperRows(HELPER_ROWS);

/** The highest helper id in {@link helperName}'s table (`bpf_cgrp_storage_delete`). */
export const MAX_HELPER_ID = HELPERS.length;

/** The Linux name of helper `id` (`bpf_map_lookup_elem` for 1), or undefined if unknown. */
export function helperName(id: number): string | undefined {
  return id >= 1 && id <= HELPERS.length ? HELPERS[id - 1] : undefined;
}

const HELPER_IDS: ReadonlyMap<string, number> = new Map(HELPERS.map((n, i) => [n, i + 1]));

/** The Linux id of a helper by name, with or without the `bpf_` prefix; undefined if unknown. */
export function helperId(name: string): number | undefined {
  return HELPER_IDS.get(name.startsWith("bpf_") ? name : `bpf_${name}`);
}
