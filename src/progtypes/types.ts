import type { Machine } from "../runtime/machine.js";

/** Linux `BPF_PROG_TYPE_*` numbers tsbpf knows contexts for. */
export const BPF_PROG_TYPE_UNSPEC = 0;
export const BPF_PROG_TYPE_SOCKET_FILTER = 1;
export const BPF_PROG_TYPE_KPROBE = 2;
export const BPF_PROG_TYPE_SCHED_CLS = 3;
export const BPF_PROG_TYPE_SCHED_ACT = 4;
export const BPF_PROG_TYPE_TRACEPOINT = 5;
export const BPF_PROG_TYPE_XDP = 6;
export const BPF_PROG_TYPE_PERF_EVENT = 7;
export const BPF_PROG_TYPE_CGROUP_SKB = 8;
export const BPF_PROG_TYPE_LWT_IN = 10;
export const BPF_PROG_TYPE_LWT_OUT = 11;
export const BPF_PROG_TYPE_LWT_XMIT = 12;
export const BPF_PROG_TYPE_RAW_TRACEPOINT = 17;
export const BPF_PROG_TYPE_TRACING = 26;
export const BPF_PROG_TYPE_SYSCALL = 31;

/** Input of one test run (as `bpf_test_run_opts`). */
export interface TestRunInput {
  /** Packet bytes (data_in). */
  data: Uint8Array;
  /** Context bytes (ctx_in), optional. */
  ctx?: Uint8Array;
}

/** A context set up in the address space, ready for runs. */
export interface PreparedContext {
  /** r1 of the run: the ctx address. */
  ctxAddr: number;
  /** Reads back `data_out` and `ctx_out` after the runs. */
  finish(): { data: Uint8Array; ctx: Uint8Array | undefined };
}

/** How a program type builds its context for a test run. */
export interface ContextModel {
  /** Builds the ctx (and packet) in `m`'s address space; throws TestRunError on bad input. */
  prepare(m: Machine, input: TestRunInput): PreparedContext;
}
