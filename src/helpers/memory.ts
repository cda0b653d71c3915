/**
 * Memory-probing and string helpers, after the kernel's `kernel/trace/bpf_trace.c` and
 * `kernel/bpf/helpers.c`: `bpf_probe_read` (4), `bpf_probe_read_str` (45),
 * `bpf_probe_read_user` (112), `bpf_probe_read_kernel` (113), `bpf_probe_read_user_str` (114),
 * `bpf_probe_read_kernel_str` (115), `bpf_strncmp` (182).
 *
 * - "Kernel" and "user" memory are both the program-visible address space: a source is
 *   readable exactly when the program itself could load it (stack frames, ctx, packet, map
 *   values, global sections, ring buffer records).
 * - The destination must be writable for `size` bytes: a bad destination is a hard
 *   MemoryAccessError (the kernel's verifier checks it). A bad source is not an error of the
 *   program: as in the kernel (`copy_from_kernel_nofault`), the helper returns -EFAULT and
 *   zero-fills the whole destination.
 * - `_str` variants copy up to and including the first NUL, or `size - 1` bytes followed by a
 *   NUL when the string is longer; they return the bytes written including the NUL (0 when
 *   `size` is 0), or -EFAULT (destination zeroed) when a byte before the NUL is unreadable.
 * - `bpf_strncmp(s1, s1_sz, s2)` is the kernel's `strncmp(s1, s2, s1_sz)`: -1, 0 or 1 (not a
 *   byte difference), comparing bytes as unsigned chars.
 */
import { EFAULT } from "../errno.js";
import { BPF_FUNC, probeStrlen, readable, retInt } from "./common.js";
import type { HelperDef, HelperEnv } from "./types.js";

/** `long bpf_probe_read*(void *dst, u32 size, const void *unsafe_ptr)`. */
function probeRead(env: HelperEnv, regs: Int32Array): void {
  const size = regs[4] >>> 0;
  env.checkMem(regs[2], regs[3], size, true, "r1 (dst)");
  if (size === 0) return retInt(regs, 0);
  const dst = regs[2] >>> 0;
  const u8 = env.mem.u8;
  if (!readable(env, regs[6], regs[7], size)) {
    u8.fill(0, dst, dst + size);
    return retInt(regs, -EFAULT);
  }
  const src = regs[6] >>> 0;
  u8.copyWithin(dst, src, src + size);
  retInt(regs, 0);
}

/** `long bpf_probe_read*_str(void *dst, u32 size, const void *unsafe_ptr)`. */
function probeReadStr(env: HelperEnv, regs: Int32Array): void {
  const size = regs[4] >>> 0;
  env.checkMem(regs[2], regs[3], size, true, "r1 (dst)");
  if (size === 0) return retInt(regs, 0);
  const dst = regs[2] >>> 0;
  const n = probeStrlen(env, regs[6], regs[7], size);
  const u8 = env.mem.u8;
  if (n < 0) {
    u8.fill(0, dst, dst + size);
    return retInt(regs, -EFAULT);
  }
  const src = regs[6] >>> 0;
  // byte by byte, front to back, as strncpy_from_kernel_nofault copies
  for (let i = 0; i < n; i++) u8[dst + i] = u8[src + i];
  u8[dst + n - 1] = 0;
  retInt(regs, n);
}

/** `long bpf_strncmp(const char *s1, u32 s1_sz, const char *s2)`. */
function strncmp(env: HelperEnv, regs: Int32Array): void {
  const count = regs[4] >>> 0;
  env.checkMem(regs[2], regs[3], count, false, "r1 (s1)");
  const s1 = regs[2] >>> 0;
  const s2 = regs[6] >>> 0;
  for (let i = 0; i < count; i++) {
    env.checkMem((s2 + i) | 0, regs[7], 1, false, "r3 (s2)");
    const u8 = env.mem.u8;
    const c1 = u8[s1 + i];
    const c2 = u8[s2 + i];
    if (c1 !== c2) return retInt(regs, c1 < c2 ? -1 : 1);
    if (c1 === 0) break;
  }
  retInt(regs, 0);
}

/** Memory-probing and string helpers. */
export const MEMORY_HELPERS: readonly HelperDef[] = [
  { id: BPF_FUNC.probe_read, name: "bpf_probe_read", fn: probeRead },
  { id: BPF_FUNC.probe_read_str, name: "bpf_probe_read_str", fn: probeReadStr },
  { id: BPF_FUNC.probe_read_user, name: "bpf_probe_read_user", fn: probeRead },
  { id: BPF_FUNC.probe_read_kernel, name: "bpf_probe_read_kernel", fn: probeRead },
  { id: BPF_FUNC.probe_read_user_str, name: "bpf_probe_read_user_str", fn: probeReadStr },
  { id: BPF_FUNC.probe_read_kernel_str, name: "bpf_probe_read_kernel_str", fn: probeReadStr },
  { id: BPF_FUNC.strncmp, name: "bpf_strncmp", fn: strncmp },
];
