/**
 * What every helper family shares: Linux helper ids, writing r0, resolving map arguments,
 * 64-bit flags, probing memory without faulting, and the errors of helper misuse.
 */
import { HelperError, MemoryAccessError } from "../errors.js";
import { helperName } from "../isa/names.js";
import type { BpfMap } from "../maps/types.js";
import type { HelperEnv, PacketContext } from "./types.js";

/** Linux `BPF_FUNC_*` ids of the helpers tsbpf implements (and of `bpf_tail_call`). */
export const BPF_FUNC = {
  map_lookup_elem: 1,
  map_update_elem: 2,
  map_delete_elem: 3,
  probe_read: 4,
  ktime_get_ns: 5,
  trace_printk: 6,
  get_prandom_u32: 7,
  get_smp_processor_id: 8,
  skb_store_bytes: 9,
  l3_csum_replace: 10,
  l4_csum_replace: 11,
  tail_call: 12,
  get_current_pid_tgid: 14,
  get_current_uid_gid: 15,
  get_current_comm: 16,
  redirect: 23,
  perf_event_output: 25,
  skb_load_bytes: 26,
  csum_diff: 28,
  get_numa_node_id: 42,
  xdp_adjust_head: 44,
  probe_read_str: 45,
  redirect_map: 51,
  xdp_adjust_meta: 54,
  xdp_adjust_tail: 65,
  map_push_elem: 87,
  map_pop_elem: 88,
  map_peek_elem: 89,
  spin_lock: 93,
  spin_unlock: 94,
  probe_read_user: 112,
  probe_read_kernel: 113,
  probe_read_user_str: 114,
  probe_read_kernel_str: 115,
  ktime_get_boot_ns: 125,
  ringbuf_output: 130,
  ringbuf_reserve: 131,
  ringbuf_submit: 132,
  ringbuf_discard: 133,
  ringbuf_query: 134,
  ktime_get_coarse_ns: 160,
  for_each_map_elem: 164,
  snprintf: 165,
  trace_vprintk: 177,
  loop: 181,
  strncmp: 182,
  xdp_get_buff_len: 188,
  xdp_load_bytes: 189,
  xdp_store_bytes: 190,
} as const;

/** `BPF_PROG_TYPE_XDP`. */
export const PROG_TYPE_XDP = 6;

/** The Linux name of helper `id`, or `helper N` when Linux has no such id. */
export function nameOf(id: number): string {
  return helperName(id) ?? `helper ${id}`;
}

/** Throws the error of a helper call the kernel's verifier would have refused. */
export function misuse(env: HelperEnv, id: number, message: string): never {
  throw new HelperError(`pc ${env.pc}: ${nameOf(id)}: ${message}`, id);
}

/** r0 = a signed 32-bit value (an errno or an int), sign-extended to 64 bits. */
export function retInt(regs: Int32Array, v: number): void {
  regs[0] = v;
  regs[1] = v >> 31;
}

/** r0 = an unsigned 32-bit value (an address, a u32), zero-extended. */
export function retU32(regs: Int32Array, v: number): void {
  regs[0] = v | 0;
  regs[1] = 0;
}

/** r0 = a 64-bit value given as a bigint (taken modulo 2^64). */
export function retU64(regs: Int32Array, v: bigint): void {
  regs[0] = Number(BigInt.asIntN(32, v));
  regs[1] = Number(BigInt.asIntN(32, v >> 32n));
}

const SMALL_FLAGS: readonly bigint[] = Array.from({ length: 16 }, (_, i) => BigInt(i));

/** A 64-bit argument as the unsigned bigint the kernel sees (no allocation for 0..15). */
export function u64Arg(lo: number, hi: number): bigint {
  if (hi === 0 && lo >>> 0 < 16) return SMALL_FLAGS[lo];
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** A set of map types (by number) as a 0/1 table; `except` gives every type but those. */
export function mapTypeSet(types: readonly number[], except = false): Uint8Array {
  const t = new Uint8Array(64).fill(except ? 1 : 0);
  for (const ty of types) t[ty] = except ? 0 : 1;
  return t;
}

/**
 * The map a map-pointer argument names: r`reg` must hold a map handle (high half 0) of a type
 * in `ok` (a {@link mapTypeSet}); anything else is a call the kernel's verifier refuses.
 */
export function mapArg(
  env: HelperEnv,
  regs: Int32Array,
  id: number,
  reg: number,
  ok: Uint8Array,
): BpfMap {
  const lo = regs[2 * reg];
  const hi = regs[2 * reg + 1];
  const map = hi === 0 ? env.mapByHandle(lo) : undefined;
  if (map !== undefined && ok[map.def.type] === 1) return map;
  if (map === undefined) {
    const v = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    misuse(env, id, `r${reg} (0x${v.toString(16)}) is not a map pointer`);
  }
  return misuse(
    env,
    id,
    `map "${map.def.name}" (type ${map.def.type}) cannot be used with this helper ` +
      "(the kernel's verifier refuses the program)",
  );
}

/** Whether the program may read `[addr, addr + size)` (a probe: never throws for a bad range). */
export function readable(env: HelperEnv, lo: number, hi: number, size: number): boolean {
  try {
    env.checkMem(lo, hi, size, false, "");
    return true;
  } catch (e) {
    if (e instanceof MemoryAccessError) return false;
    throw e;
  }
}

/**
 * Length of the NUL-terminated string at `addr` including its NUL, or -1 when a byte before the
 * NUL (and within `max` bytes) is unreadable; `max` when no NUL comes within `max` bytes.
 */
export function probeStrlen(env: HelperEnv, lo: number, hi: number, max: number): number {
  const addr = lo >>> 0;
  const whole = readable(env, lo, hi, max);
  for (let n = 0; n < max; n++) {
    if (!whole && !readable(env, (addr + n) | 0, hi, 1)) return -1;
    if (env.mem.u8[addr + n] === 0) return n + 1;
  }
  return max;
}

/**
 * Length of a constant string argument (`ARG_PTR_TO_CONST_STR`) including its NUL; reading
 * past readable memory before a NUL is a memory fault, as the verifier guarantees a NUL.
 */
export function constStrlen(env: HelperEnv, lo: number, hi: number, what: string): number {
  const addr = lo >>> 0;
  for (let n = 0; ; n++) {
    env.checkMem((addr + n) | 0, hi, 1, false, what);
    if (env.mem.u8[addr + n] === 0) return n + 1;
  }
}

/**
 * The packet of an skb program (tc, socket filter, cgroup skb, lwt): `data` is `skb->data`,
 * `dataEnd - data` is `skb->len` (test runs build linear skbs).
 */
export function skbPacket(env: HelperEnv, id: number): PacketContext {
  const p = env.run.packet;
  if (p === undefined || env.progType === PROG_TYPE_XDP) {
    misuse(env, id, `not available to program type ${env.progType} (it needs an skb)`);
  }
  return p;
}

/** The packet of an XDP program. */
export function xdpPacket(env: HelperEnv, id: number): PacketContext {
  const p = env.run.packet;
  if (p === undefined || env.progType !== PROG_TYPE_XDP) {
    misuse(env, id, `not available to program type ${env.progType} (XDP only)`);
  }
  return p;
}
