/**
 * Clock and randomness helpers, answered by the host services (replaceable for deterministic
 * tests): `bpf_ktime_get_ns` (5), `bpf_ktime_get_boot_ns` (125), `bpf_ktime_get_coarse_ns`
 * (160, tsbpf answers it with the same monotonic clock as `bpf_ktime_get_ns`) and
 * `bpf_get_prandom_u32` (7).
 */
import { BPF_FUNC, retU32, retU64 } from "./common.js";
import type { HelperDef, HelperEnv } from "./types.js";

/** `u64 bpf_ktime_get_ns(void)`: the host's monotonic clock. */
function ktimeGetNs(env: HelperEnv, regs: Int32Array): void {
  retU64(regs, env.host.ktimeNs());
}

/** `u64 bpf_ktime_get_boot_ns(void)`: the host's boot-time clock. */
function ktimeGetBootNs(env: HelperEnv, regs: Int32Array): void {
  retU64(regs, env.host.bootNs());
}

/** `u32 bpf_get_prandom_u32(void)`: zero-extended. */
function getPrandomU32(env: HelperEnv, regs: Int32Array): void {
  retU32(regs, env.host.prandomU32());
}

/** Clock and randomness helpers. */
export const TIME_HELPERS: readonly HelperDef[] = [
  { id: BPF_FUNC.ktime_get_ns, name: "bpf_ktime_get_ns", fn: ktimeGetNs },
  { id: BPF_FUNC.ktime_get_boot_ns, name: "bpf_ktime_get_boot_ns", fn: ktimeGetBootNs },
  { id: BPF_FUNC.ktime_get_coarse_ns, name: "bpf_ktime_get_coarse_ns", fn: ktimeGetNs },
  { id: BPF_FUNC.get_prandom_u32, name: "bpf_get_prandom_u32", fn: getPrandomU32 },
];
