import type { AddressSpace } from "../memory/address-space.js";
import type { BpfMap } from "../maps/types.js";

/**
 * What a helper sees of the run that called it. Both engines provide it, so a helper is written
 * once. Arguments and the result travel in `regs`: r0..r5 as (low, high) 32-bit halves,
 * `regs[2 * n]` the low half of rN, `regs[2 * n + 1]` its high half.
 */
export interface HelperEnv {
  /** The address space. */
  readonly mem: AddressSpace;
  /** Instruction index of the `call`, for error messages. */
  readonly pc: number;
  /** Linux program type of the running program. */
  readonly progType: number;
  /** The run's context (ctx pointer, packet bounds), set by the program type. */
  readonly run: RunContext;
  /** Resolves a map pointer (what `lddw rX, map` loaded) to its map, or undefined. */
  mapByHandle(handle: number): BpfMap | undefined;
  /**
   * Checks that the program may access `[addr, addr + size)` and throws a MemoryAccessError
   * naming the helper argument `what` when it may not. `addr` is the low half of a pointer
   * register, `hi` its high half (must be 0).
   */
  checkMem(addr: number, hi: number, size: number, write: boolean, what: string): void;
  /**
   * Calls the eBPF function at `funcAddr` (a BPF_PSEUDO_FUNC address) with up to five
   * arguments (each a [low, high] pair) and returns r0 as [low, high]. Used by `bpf_loop` and
   * `bpf_for_each_map_elem`.
   */
  callFunction(funcAddr: number, args: ReadonlyArray<readonly [number, number]>): [number, number];
  /** Host services: time, randomness, output sinks, process identity. */
  readonly host: HostServices;
}

/** A helper implementation: reads r1..r5 from `regs`, writes r0. */
export type HelperFn = (env: HelperEnv, regs: Int32Array) => void;

/** A helper in the table, with its Linux id and name. */
export interface HelperDef {
  /** Linux helper id (`BPF_FUNC_*`). */
  id: number;
  /** Linux name, e.g. `bpf_map_lookup_elem`. */
  name: string;
  /** The implementation. */
  fn: HelperFn;
}

/** The run's program context: what program-type helpers (xdp_adjust_head, skb_*) act on. */
export interface RunContext {
  /** Address of the ctx structure the program got in r1. */
  ctxAddr: number;
  /** Packet state for xdp/skb programs (absent for others). */
  packet?: PacketContext;
}

/** A packet whose bounds helpers may move. */
export interface PacketContext {
  /** Current `data`. */
  data: number;
  /** Current `data_end`. */
  dataEnd: number;
  /** Current `data_meta` (xdp; equals `data` when there is no metadata). */
  dataMeta: number;
  /** Lowest address `data_meta`/`data` may move down to (data_hard_start + room). */
  readonly frameStart: number;
  /** Highest address `data_end` may move up to. */
  readonly frameEnd: number;
  /** Re-publishes the bounds into the ctx structure and the address space. */
  commit(): void;
}

/** Services the host supplies to helpers (all replaceable, for deterministic tests). */
export interface HostServices {
  /** `bpf_ktime_get_ns` (monotonic). */
  ktimeNs(): bigint;
  /** `bpf_ktime_get_boot_ns`. */
  bootNs(): bigint;
  /** `bpf_get_prandom_u32`. */
  prandomU32(): number;
  /** `bpf_get_current_pid_tgid`. */
  pidTgid: bigint;
  /** `bpf_get_current_uid_gid`. */
  uidGid: bigint;
  /** `bpf_get_current_comm` (up to 16 bytes). */
  comm: string;
  /** CPU number seen by `bpf_get_smp_processor_id` and per-CPU maps. */
  cpu: number;
  /** `bpf_trace_printk` / `bpf_printk` output, one formatted line each. */
  printk(line: string): void;
}
