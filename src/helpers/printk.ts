/**
 * Formatted output helpers, after the kernel's `kernel/trace/bpf_trace.c` and
 * `kernel/bpf/helpers.c`: `bpf_trace_printk` (6), `bpf_trace_vprintk` (177), `bpf_snprintf`
 * (165). The format subset is {@link bprintf}'s.
 *
 * - `bpf_trace_printk(fmt, fmt_size, a1, a2, a3)`: the format must hold a NUL within
 *   `fmt_size` bytes (else -EINVAL); at most 3 conversions. The message (up to 1023 bytes, cut
 *   at a NUL a `%c` may produce, decoded as UTF-8) goes to `host.printk` as is — a trailing
 *   newline in the format stays in it; the trace_pipe line prefix is the CLI's business. Returns
 *   the full formatted length (what `bstr_printf` returns), or a negative errno and prints
 *   nothing.
 * - `bpf_trace_vprintk(fmt, fmt_size, args, data_len)`: the same with up to 12 u64 arguments in
 *   memory; `data_len` must be a multiple of 8, at most 96, with a non-NULL `args` (-EINVAL).
 * - `bpf_snprintf(str, str_size, fmt, data, data_len)`: `fmt` is a NUL-terminated constant
 *   string; writes at most `str_size - 1` bytes and a NUL (nothing when `str_size` is 0);
 *   returns the length the whole output needs including its NUL, or -EINVAL / -ENOSPC.
 */
import { EINVAL } from "../errno.js";
import { BPF_FUNC, constStrlen, retInt } from "./common.js";
import { bprintf } from "./format.js";
import type { HelperDef, HelperEnv } from "./types.js";

/** `MAX_BPRINTF_BUF`: the kernel's output buffer for trace_printk. */
const MAX_BPRINTF_BUF = 1024;
/** `MAX_BPRINTF_VARARGS`. */
const MAX_BPRINTF_VARARGS = 12;

const UTF8 = new TextDecoder();

/** The format bytes of a `(fmt, fmt_size)` pair before its NUL, or null when it has none. */
function sizedFormat(env: HelperEnv, regs: Int32Array): Uint8Array | null {
  const size = regs[4] >>> 0;
  env.checkMem(regs[2], regs[3], size, false, "r1 (fmt)");
  const addr = regs[2] >>> 0;
  const nul = env.mem.u8.subarray(addr, addr + size).indexOf(0);
  return nul < 0 ? null : env.mem.read(addr, nul);
}

/** `data_len` u64 arguments at `lo:hi` as halves, or null for an invalid `data_len`. */
function argArray(
  env: HelperEnv,
  lo: number,
  hi: number,
  len: number,
  what: string,
): Int32Array | null {
  if (len % 8 !== 0 || len > MAX_BPRINTF_VARARGS * 8 || (len !== 0 && lo === 0 && hi === 0)) {
    return null;
  }
  env.checkMem(lo, hi, len, false, what);
  const a = new Int32Array(len / 4);
  const dv = env.mem.dv;
  for (let i = 0; i < a.length; i++) a[i] = dv.getInt32((lo >>> 0) + 4 * i, true);
  return a;
}

/** Prints a formatted message; r0 = its length or a negative errno. */
function emit(
  env: HelperEnv,
  regs: Int32Array,
  fmt: Uint8Array,
  args: Int32Array,
  n: number,
): void {
  const r = bprintf(env, fmt, args, n, MAX_BPRINTF_BUF - 1);
  if (typeof r === "number") return retInt(regs, r);
  const nul = r.out.indexOf(0);
  env.host.printk(UTF8.decode(nul < 0 ? r.out : r.out.subarray(0, nul)));
  retInt(regs, r.len);
}

/** `long bpf_trace_printk(const char *fmt, u32 fmt_size, ...)`. */
function tracePrintk(env: HelperEnv, regs: Int32Array): void {
  const fmt = sizedFormat(env, regs);
  if (fmt === null) return retInt(regs, -EINVAL);
  emit(env, regs, fmt, regs.slice(6, 12), 3);
}

/** `long bpf_trace_vprintk(const char *fmt, u32 fmt_size, const void *data, u32 data_len)`. */
function traceVprintk(env: HelperEnv, regs: Int32Array): void {
  const fmt = sizedFormat(env, regs);
  const args = argArray(env, regs[6], regs[7], regs[8] >>> 0, "r3 (data)");
  if (args === null || fmt === null) return retInt(regs, -EINVAL);
  emit(env, regs, fmt, args, args.length / 2);
}

/** `long bpf_snprintf(char *str, u32 str_size, const char *fmt, u64 *data, u32 data_len)`. */
function snprintf(env: HelperEnv, regs: Int32Array): void {
  const size = regs[4] >>> 0;
  env.checkMem(regs[2], regs[3], size, true, "r1 (str)");
  const fmtLen = constStrlen(env, regs[6], regs[7], "r3 (fmt)");
  const fmt = env.mem.read(regs[6] >>> 0, fmtLen - 1);
  const args = argArray(env, regs[8], regs[9], regs[10] >>> 0, "r4 (data)");
  if (args === null) return retInt(regs, -EINVAL);
  const r = bprintf(env, fmt, args, args.length / 2, Math.max(size - 1, 0));
  if (typeof r === "number") return retInt(regs, r);
  if (size > 0) {
    const str = regs[2] >>> 0;
    const u8 = env.mem.u8;
    u8.set(r.out, str);
    u8[str + r.out.length] = 0;
  }
  retInt(regs, r.len + 1);
}

/** The formatted output helpers. */
export const PRINTK_HELPERS: readonly HelperDef[] = [
  { id: BPF_FUNC.trace_printk, name: "bpf_trace_printk", fn: tracePrintk },
  { id: BPF_FUNC.trace_vprintk, name: "bpf_trace_vprintk", fn: traceVprintk },
  { id: BPF_FUNC.snprintf, name: "bpf_snprintf", fn: snprintf },
];
