/**
 * Process, CPU and lock helpers: `bpf_get_smp_processor_id` (8), `bpf_get_numa_node_id` (42),
 * `bpf_get_current_pid_tgid` (14), `bpf_get_current_uid_gid` (15), `bpf_get_current_comm`
 * (16), `bpf_spin_lock` (93), `bpf_spin_unlock` (94).
 *
 * - Identity comes from the host services (`cpu`, `pidTgid` = tgid << 32 | pid, `uidGid` =
 *   gid << 32 | uid, `comm`); the NUMA node is always 0.
 * - `bpf_get_current_comm(buf, size)` copies at most `TASK_COMM_LEN - 1` (15) bytes of the
 *   host's comm (UTF-8), NUL-terminated within `size` and zero-padded to `size`, as the
 *   kernel's `strscpy_pad`; returns 0.
 * - `struct bpf_spin_lock` (a u32 in a map value): tsbpf runs one program at a time, so a lock
 *   is a flag. Locking a held lock would deadlock the kernel and unlocking a free one is a
 *   program the verifier refuses: both stop the run with a RuntimeFault (code `SPIN_LOCK`).
 */
import { RuntimeFault } from "../errors.js";
import { BPF_FUNC, retInt, retU32, retU64 } from "./common.js";
import type { HelperDef, HelperEnv } from "./types.js";

const TASK_COMM_LEN = 16;

let commText = "";
let commBytes = new Uint8Array(0);

/** The host's comm as the kernel stores it: at most 15 bytes. */
function commOf(comm: string): Uint8Array {
  if (comm !== commText) {
    commBytes = new TextEncoder().encode(comm).subarray(0, TASK_COMM_LEN - 1);
    commText = comm;
  }
  return commBytes;
}

/** `u32 bpf_get_smp_processor_id(void)`. */
function getSmpProcessorId(env: HelperEnv, regs: Int32Array): void {
  retU32(regs, env.host.cpu);
}

/** `long bpf_get_numa_node_id(void)`: 0. */
function getNumaNodeId(_env: HelperEnv, regs: Int32Array): void {
  retInt(regs, 0);
}

/** `u64 bpf_get_current_pid_tgid(void)`. */
function getCurrentPidTgid(env: HelperEnv, regs: Int32Array): void {
  retU64(regs, env.host.pidTgid);
}

/** `u64 bpf_get_current_uid_gid(void)`. */
function getCurrentUidGid(env: HelperEnv, regs: Int32Array): void {
  retU64(regs, env.host.uidGid);
}

/** `long bpf_get_current_comm(void *buf, u32 size_of_buf)`. */
function getCurrentComm(env: HelperEnv, regs: Int32Array): void {
  const size = regs[4] >>> 0;
  env.checkMem(regs[2], regs[3], size, true, "r1 (buf)");
  if (size > 0) {
    const buf = regs[2] >>> 0;
    const comm = commOf(env.host.comm);
    const n = Math.min(comm.length, size - 1);
    const u8 = env.mem.u8;
    u8.set(comm.subarray(0, n), buf);
    u8.fill(0, buf + n, buf + size);
  }
  retInt(regs, 0);
}

/** `long bpf_spin_lock(struct bpf_spin_lock *lock)`. */
function spinLock(env: HelperEnv, regs: Int32Array): void {
  env.checkMem(regs[2], regs[3], 4, true, "r1 (lock)");
  const dv = env.mem.dv;
  const addr = regs[2] >>> 0;
  if (dv.getUint32(addr, true) !== 0) {
    throw new RuntimeFault(
      `bpf_spin_lock: the lock at 0x${addr.toString(16)} is already held (a deadlock in the kernel)`,
      env.pc,
      "SPIN_LOCK",
    );
  }
  dv.setUint32(addr, 1, true);
  retInt(regs, 0);
}

/** `long bpf_spin_unlock(struct bpf_spin_lock *lock)`. */
function spinUnlock(env: HelperEnv, regs: Int32Array): void {
  env.checkMem(regs[2], regs[3], 4, true, "r1 (lock)");
  const dv = env.mem.dv;
  const addr = regs[2] >>> 0;
  if (dv.getUint32(addr, true) === 0) {
    throw new RuntimeFault(
      `bpf_spin_unlock: the lock at 0x${addr.toString(16)} is not held (the kernel's verifier refuses this)`,
      env.pc,
      "SPIN_LOCK",
    );
  }
  dv.setUint32(addr, 0, true);
  retInt(regs, 0);
}

/** Process, CPU and lock helpers. */
export const MISC_HELPERS: readonly HelperDef[] = [
  { id: BPF_FUNC.get_smp_processor_id, name: "bpf_get_smp_processor_id", fn: getSmpProcessorId },
  { id: BPF_FUNC.get_numa_node_id, name: "bpf_get_numa_node_id", fn: getNumaNodeId },
  { id: BPF_FUNC.get_current_pid_tgid, name: "bpf_get_current_pid_tgid", fn: getCurrentPidTgid },
  { id: BPF_FUNC.get_current_uid_gid, name: "bpf_get_current_uid_gid", fn: getCurrentUidGid },
  { id: BPF_FUNC.get_current_comm, name: "bpf_get_current_comm", fn: getCurrentComm },
  { id: BPF_FUNC.spin_lock, name: "bpf_spin_lock", fn: spinLock },
  { id: BPF_FUNC.spin_unlock, name: "bpf_spin_unlock", fn: spinUnlock },
];
