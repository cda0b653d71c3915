/**
 * Program type from an ELF section name, following libbpf's `section_defs` table and matching
 * rules (`SEC("xdp")`, `SEC("tc/ingress")`, `SEC("kprobe/do_sys_open")`, ...).
 */
import {
  BPF_CGROUP_INET4_BIND,
  BPF_CGROUP_INET4_POST_BIND,
  BPF_CGROUP_INET6_BIND,
  BPF_CGROUP_INET6_POST_BIND,
  BPF_CGROUP_INET_EGRESS,
  BPF_CGROUP_INET_INGRESS,
  BPF_CGROUP_INET_SOCK_CREATE,
  BPF_CGROUP_INET_SOCK_RELEASE,
  BPF_CGROUP_SOCK_OPS,
  BPF_FLOW_DISSECTOR,
  BPF_LIRC_MODE2,
  BPF_LSM_CGROUP,
  BPF_LSM_MAC,
  BPF_MODIFY_RETURN,
  BPF_NETKIT_PEER,
  BPF_NETKIT_PRIMARY,
  BPF_PROG_TYPE_CGROUP_SKB,
  BPF_PROG_TYPE_CGROUP_SOCK,
  BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
  BPF_PROG_TYPE_EXT,
  BPF_PROG_TYPE_FLOW_DISSECTOR,
  BPF_PROG_TYPE_KPROBE,
  BPF_PROG_TYPE_LIRC_MODE2,
  BPF_PROG_TYPE_LSM,
  BPF_PROG_TYPE_LWT_IN,
  BPF_PROG_TYPE_LWT_OUT,
  BPF_PROG_TYPE_LWT_SEG6LOCAL,
  BPF_PROG_TYPE_LWT_XMIT,
  BPF_PROG_TYPE_PERF_EVENT,
  BPF_PROG_TYPE_RAW_TRACEPOINT,
  BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE,
  BPF_PROG_TYPE_SCHED_ACT,
  BPF_PROG_TYPE_SCHED_CLS,
  BPF_PROG_TYPE_SK_MSG,
  BPF_PROG_TYPE_SK_REUSEPORT,
  BPF_PROG_TYPE_SK_SKB,
  BPF_PROG_TYPE_SOCKET_FILTER,
  BPF_PROG_TYPE_SOCK_OPS,
  BPF_PROG_TYPE_SYSCALL,
  BPF_PROG_TYPE_TRACEPOINT,
  BPF_PROG_TYPE_TRACING,
  BPF_PROG_TYPE_XDP,
  BPF_SK_MSG_VERDICT,
  BPF_SK_REUSEPORT_SELECT,
  BPF_SK_REUSEPORT_SELECT_OR_MIGRATE,
  BPF_SK_SKB_STREAM_PARSER,
  BPF_SK_SKB_STREAM_VERDICT,
  BPF_SK_SKB_VERDICT,
  BPF_TCX_EGRESS,
  BPF_TCX_INGRESS,
  BPF_TRACE_FENTRY,
  BPF_TRACE_FENTRY_MULTI,
  BPF_TRACE_FEXIT,
  BPF_TRACE_FEXIT_MULTI,
  BPF_TRACE_FSESSION,
  BPF_TRACE_FSESSION_MULTI,
  BPF_TRACE_ITER,
  BPF_TRACE_KPROBE_MULTI,
  BPF_TRACE_KPROBE_SESSION,
  BPF_TRACE_RAW_TP,
  BPF_TRACE_UPROBE_MULTI,
  BPF_TRACE_UPROBE_SESSION,
  BPF_XDP,
  BPF_XDP_CPUMAP,
  BPF_XDP_DEVMAP,
  BPF_F_SLEEPABLE,
  BPF_F_XDP_HAS_FRAGS,
} from "./constants.js";

/** Section flag: the expected attach type is optional (old kernels). */
const OPT = 1;
/** Section flag: the attach target is a BTF id (`fentry/`, `lsm/`, `tp_btf/`, ...). */
const BTF = 4;
/** Section flag: the program is sleepable (`BPF_F_SLEEPABLE`). */
const SLEEP = 8;
/** Section flag: XDP multi-buffer (`BPF_F_XDP_HAS_FRAGS`). */
const FRAGS = 16;
/** Section flag: a USDT probe. */
const USDT = 32;

/**
 * libbpf's table, in its order (the first match wins). A pattern ending in `/` matches any
 * name with that prefix; one ending in `+` matches the name alone or followed by `/…`;
 * any other pattern must match exactly.
 */
const SECTION_DEFS: readonly (readonly [string, number, number, number])[] = [
  ["socket", BPF_PROG_TYPE_SOCKET_FILTER, 0, 0],
  ["sk_reuseport/migrate", BPF_PROG_TYPE_SK_REUSEPORT, BPF_SK_REUSEPORT_SELECT_OR_MIGRATE, 0],
  ["sk_reuseport", BPF_PROG_TYPE_SK_REUSEPORT, BPF_SK_REUSEPORT_SELECT, 0],
  ["kprobe+", BPF_PROG_TYPE_KPROBE, 0, 0],
  ["uprobe+", BPF_PROG_TYPE_KPROBE, 0, 0],
  ["uprobe.s+", BPF_PROG_TYPE_KPROBE, 0, SLEEP],
  ["kretprobe+", BPF_PROG_TYPE_KPROBE, 0, 0],
  ["uretprobe+", BPF_PROG_TYPE_KPROBE, 0, 0],
  ["uretprobe.s+", BPF_PROG_TYPE_KPROBE, 0, SLEEP],
  ["kprobe.multi+", BPF_PROG_TYPE_KPROBE, BPF_TRACE_KPROBE_MULTI, 0],
  ["kretprobe.multi+", BPF_PROG_TYPE_KPROBE, BPF_TRACE_KPROBE_MULTI, 0],
  ["kprobe.session+", BPF_PROG_TYPE_KPROBE, BPF_TRACE_KPROBE_SESSION, 0],
  ["uprobe.multi+", BPF_PROG_TYPE_KPROBE, BPF_TRACE_UPROBE_MULTI, 0],
  ["uretprobe.multi+", BPF_PROG_TYPE_KPROBE, BPF_TRACE_UPROBE_MULTI, 0],
  ["uprobe.session+", BPF_PROG_TYPE_KPROBE, BPF_TRACE_UPROBE_SESSION, 0],
  ["uprobe.multi.s+", BPF_PROG_TYPE_KPROBE, BPF_TRACE_UPROBE_MULTI, SLEEP],
  ["uretprobe.multi.s+", BPF_PROG_TYPE_KPROBE, BPF_TRACE_UPROBE_MULTI, SLEEP],
  ["uprobe.session.s+", BPF_PROG_TYPE_KPROBE, BPF_TRACE_UPROBE_SESSION, SLEEP],
  ["ksyscall+", BPF_PROG_TYPE_KPROBE, 0, 0],
  ["kretsyscall+", BPF_PROG_TYPE_KPROBE, 0, 0],
  ["usdt+", BPF_PROG_TYPE_KPROBE, 0, USDT],
  ["usdt.s+", BPF_PROG_TYPE_KPROBE, 0, USDT | SLEEP],
  ["tc/ingress", BPF_PROG_TYPE_SCHED_CLS, BPF_TCX_INGRESS, 0],
  ["tc/egress", BPF_PROG_TYPE_SCHED_CLS, BPF_TCX_EGRESS, 0],
  ["tcx/ingress", BPF_PROG_TYPE_SCHED_CLS, BPF_TCX_INGRESS, 0],
  ["tcx/egress", BPF_PROG_TYPE_SCHED_CLS, BPF_TCX_EGRESS, 0],
  ["tc", BPF_PROG_TYPE_SCHED_CLS, 0, 0],
  ["classifier", BPF_PROG_TYPE_SCHED_CLS, 0, 0],
  ["action", BPF_PROG_TYPE_SCHED_ACT, 0, 0],
  ["netkit/primary", BPF_PROG_TYPE_SCHED_CLS, BPF_NETKIT_PRIMARY, 0],
  ["netkit/peer", BPF_PROG_TYPE_SCHED_CLS, BPF_NETKIT_PEER, 0],
  ["tracepoint+", BPF_PROG_TYPE_TRACEPOINT, 0, 0],
  ["tp+", BPF_PROG_TYPE_TRACEPOINT, 0, 0],
  ["tracepoint.s+", BPF_PROG_TYPE_TRACEPOINT, 0, SLEEP],
  ["tp.s+", BPF_PROG_TYPE_TRACEPOINT, 0, SLEEP],
  ["raw_tracepoint+", BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0],
  ["raw_tp+", BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0],
  ["raw_tracepoint.s+", BPF_PROG_TYPE_RAW_TRACEPOINT, 0, SLEEP],
  ["raw_tp.s+", BPF_PROG_TYPE_RAW_TRACEPOINT, 0, SLEEP],
  ["raw_tracepoint.w+", BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, 0, 0],
  ["raw_tp.w+", BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, 0, 0],
  ["tp_btf+", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, BTF],
  ["tp_btf.s+", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, BTF | SLEEP],
  ["fentry+", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, BTF],
  ["fmod_ret+", BPF_PROG_TYPE_TRACING, BPF_MODIFY_RETURN, BTF],
  ["fexit+", BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT, BTF],
  ["fentry.s+", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, BTF | SLEEP],
  ["fmod_ret.s+", BPF_PROG_TYPE_TRACING, BPF_MODIFY_RETURN, BTF | SLEEP],
  ["fexit.s+", BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT, BTF | SLEEP],
  ["fsession+", BPF_PROG_TYPE_TRACING, BPF_TRACE_FSESSION, BTF],
  ["fsession.s+", BPF_PROG_TYPE_TRACING, BPF_TRACE_FSESSION, BTF | SLEEP],
  ["fsession.multi+", BPF_PROG_TYPE_TRACING, BPF_TRACE_FSESSION_MULTI, 0],
  ["fsession.multi.s+", BPF_PROG_TYPE_TRACING, BPF_TRACE_FSESSION_MULTI, SLEEP],
  ["fentry.multi+", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY_MULTI, 0],
  ["fexit.multi+", BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT_MULTI, 0],
  ["fentry.multi.s+", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY_MULTI, SLEEP],
  ["fexit.multi.s+", BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT_MULTI, SLEEP],
  ["freplace+", BPF_PROG_TYPE_EXT, 0, BTF],
  ["lsm+", BPF_PROG_TYPE_LSM, BPF_LSM_MAC, BTF],
  ["lsm.s+", BPF_PROG_TYPE_LSM, BPF_LSM_MAC, BTF | SLEEP],
  ["lsm_cgroup+", BPF_PROG_TYPE_LSM, BPF_LSM_CGROUP, BTF],
  ["iter+", BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER, BTF],
  ["iter.s+", BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER, BTF | SLEEP],
  ["syscall", BPF_PROG_TYPE_SYSCALL, 0, SLEEP],
  ["xdp.frags/devmap", BPF_PROG_TYPE_XDP, BPF_XDP_DEVMAP, FRAGS],
  ["xdp/devmap", BPF_PROG_TYPE_XDP, BPF_XDP_DEVMAP, 0],
  ["xdp.frags/cpumap", BPF_PROG_TYPE_XDP, BPF_XDP_CPUMAP, FRAGS],
  ["xdp/cpumap", BPF_PROG_TYPE_XDP, BPF_XDP_CPUMAP, 0],
  ["xdp.frags", BPF_PROG_TYPE_XDP, BPF_XDP, FRAGS],
  ["xdp", BPF_PROG_TYPE_XDP, BPF_XDP, OPT],
  ["perf_event", BPF_PROG_TYPE_PERF_EVENT, 0, 0],
  ["lwt_in", BPF_PROG_TYPE_LWT_IN, 0, 0],
  ["lwt_out", BPF_PROG_TYPE_LWT_OUT, 0, 0],
  ["lwt_xmit", BPF_PROG_TYPE_LWT_XMIT, 0, 0],
  ["lwt_seg6local", BPF_PROG_TYPE_LWT_SEG6LOCAL, 0, 0],
  ["sockops", BPF_PROG_TYPE_SOCK_OPS, BPF_CGROUP_SOCK_OPS, OPT],
  ["sk_skb/stream_parser", BPF_PROG_TYPE_SK_SKB, BPF_SK_SKB_STREAM_PARSER, OPT],
  ["sk_skb/stream_verdict", BPF_PROG_TYPE_SK_SKB, BPF_SK_SKB_STREAM_VERDICT, OPT],
  ["sk_skb/verdict", BPF_PROG_TYPE_SK_SKB, BPF_SK_SKB_VERDICT, OPT],
  ["sk_skb", BPF_PROG_TYPE_SK_SKB, 0, 0],
  ["sk_msg", BPF_PROG_TYPE_SK_MSG, BPF_SK_MSG_VERDICT, OPT],
  ["lirc_mode2", BPF_PROG_TYPE_LIRC_MODE2, BPF_LIRC_MODE2, OPT],
  ["flow_dissector", BPF_PROG_TYPE_FLOW_DISSECTOR, BPF_FLOW_DISSECTOR, OPT],
  ["cgroup_skb/ingress", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_INGRESS, OPT],
  ["cgroup_skb/egress", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_EGRESS, OPT],
  ["cgroup/skb", BPF_PROG_TYPE_CGROUP_SKB, 0, 0],
  ["cgroup/sock_create", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE, 0],
  ["cgroup/sock_release", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_RELEASE, 0],
  ["cgroup/sock", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE, OPT],
  ["cgroup/post_bind4", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET4_POST_BIND, 0],
  ["cgroup/post_bind6", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET6_POST_BIND, 0],
  ["cgroup/bind4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_BIND, 0],
  ["cgroup/bind6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_BIND, 0],
];

/** What a section name says about the programs in it. */
export interface ProgramSectionInfo {
  /** The libbpf pattern that matched (e.g. `kprobe+`, `tc/ingress`, `xdp.frags`). */
  pattern: string;
  /** Linux `BPF_PROG_TYPE_*`. */
  progType: number;
  /** Linux `enum bpf_attach_type` value the program is loaded with (0 if none). */
  expectedAttachType: number;
  /** `BPF_F_*` program flags the section implies (sleepable, XDP frags). */
  progFlags: number;
  /** The program may sleep (`.s` sections, `syscall`). */
  sleepable: boolean;
  /** XDP program that accepts multi-buffer packets (`xdp.frags…`). */
  xdpFrags: boolean;
  /** The attach target is named by BTF (`fentry/`, `fexit/`, `lsm/`, `tp_btf/`, `iter/`, ...). */
  attachBtf: boolean;
  /** `expectedAttachType` may be dropped on kernels that do not know it. */
  attachTypeOptional: boolean;
  /** What follows the first `/` (`do_sys_open` in `kprobe/do_sys_open`), or "". */
  target: string;
}

function matches(pattern: string, name: string): boolean {
  const last = pattern[pattern.length - 1];
  if (last === "/") return name.startsWith(pattern);
  if (last === "+") {
    const base = pattern.slice(0, -1);
    return name === base || name.startsWith(base + "/");
  }
  return name === pattern;
}

/**
 * Program type, expected attach type and flags for a program in section `section`, as libbpf
 * decides them; `undefined` if libbpf knows no such section (it then refuses to load the
 * program unless told its type). A leading `?` (libbpf's "do not autoload") is ignored.
 */
export function programTypeFromSection(section: string): ProgramSectionInfo | undefined {
  const name = section.startsWith("?") ? section.slice(1) : section;
  for (const [pattern, progType, expectedAttachType, flags] of SECTION_DEFS) {
    if (!matches(pattern, name)) continue;
    const slash = name.indexOf("/");
    const sleepable = (flags & SLEEP) !== 0;
    const xdpFrags = (flags & FRAGS) !== 0;
    return {
      pattern,
      progType,
      expectedAttachType,
      progFlags: (sleepable ? BPF_F_SLEEPABLE : 0) | (xdpFrags ? BPF_F_XDP_HAS_FRAGS : 0),
      sleepable,
      xdpFrags,
      attachBtf: (flags & BTF) !== 0,
      attachTypeOptional: (flags & OPT) !== 0,
      target: slash < 0 ? "" : name.slice(slash + 1),
    };
  }
  return undefined;
}

/** Every section pattern libbpf knows, in matching order (for help texts and error messages). */
export function sectionPatterns(): string[] {
  return SECTION_DEFS.map((d) => d[0]);
}

/** True for a USDT section (`usdt`, `usdt.s`), whose attach type libbpf picks at load time. */
export function isUsdtSection(section: string): boolean {
  const name = section.startsWith("?") ? section.slice(1) : section;
  return SECTION_DEFS.some(([p, , , f]) => (f & USDT) !== 0 && matches(p, name));
}
