/**
 * The kernel's printf subset for BPF (`bpf_bprintf_prepare` in `kernel/bpf/helpers.c`, then
 * `bstr_printf`), shared by `bpf_trace_printk`, `bpf_trace_vprintk` and `bpf_snprintf`.
 *
 * Accepted: printable ASCII and whitespace; `%%`; conversions `%d %i %u %x %X` with `l` or
 * `ll` (64-bit; without, the low 32 bits), `%c`, `%s` (must be followed by NUL, whitespace or
 * punctuation), `%p` (same), `%pK %px %ps %pS %pB`, `%pks %pus` (strings), `%pI4 %pi4 %pI6
 * %pi6` (addresses read from memory); flags `0 + - space` and a decimal width. Anything else,
 * or more conversions than arguments, is -EINVAL. Arguments are staged in a 512-byte buffer as
 * the kernel stages them (-ENOSPC when it overflows; strings are cut to what fits).
 *
 * tsbpf's choices: `%p`, `%pK` and `%px` print the raw value as 16 lowercase hex digits (the
 * kernel prints a hashed value for `%p`); `%ps %pS %pB` print `0x` and the hex value (no
 * kernel symbols); a `%s` or IP pointer the program could not read prints as an empty string
 * / zero address, as the kernel's non-faulting copy does.
 */
import { EINVAL, ENOSPC } from "../errno.js";
import { readable } from "./common.js";
import type { HelperEnv } from "./types.js";

/** `MAX_BPRINTF_BIN_ARGS`. */
const BIN_ARGS = 512;
/** `FIELD_WIDTH_MAX`. */
const FIELD_WIDTH_MAX = (1 << 23) - 1;

const LEFT = 1;
const PLUS = 2;
const SPACE = 4;
const ZEROPAD = 8;

/** Output with the kernel's truncation: `cap` bytes kept, the full length counted. */
class Out {
  readonly buf: Uint8Array;
  n = 0;
  constructor(readonly cap: number) {
    this.buf = new Uint8Array(cap);
  }
  byte(b: number): void {
    if (this.n < this.cap) this.buf[this.n] = b;
    this.n++;
  }
  bytes(b: Uint8Array): void {
    const keep = Math.min(b.length, this.cap - this.n);
    if (keep > 0) this.buf.set(b.subarray(0, keep), this.n);
    this.n += b.length;
  }
  ascii(s: string): void {
    for (let i = 0; i < s.length; i++) this.byte(s.charCodeAt(i));
  }
  pad(ch: number, count: number): void {
    if (count <= 0) return;
    const keep = Math.min(count, this.cap - this.n);
    if (keep > 0) this.buf.fill(ch, this.n, this.n + keep);
    this.n += count;
  }
}

/** One conversion after validation, with its staged argument. */
type Op =
  | { t: "lit"; start: number; end: number }
  | { t: "int"; flags: number; width: number; conv: number; wide: boolean; lo: number; hi: number }
  | { t: "ptr"; flags: number; width: number; symbol: boolean; lo: number; hi: number }
  | { t: "str"; flags: number; width: number; s: Uint8Array };

const isPrint = (c: number): boolean => c >= 0x20 && c <= 0x7e;
const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);
const isPunct = (c: number): boolean =>
  (c >= 0x21 && c <= 0x2f) ||
  (c >= 0x3a && c <= 0x40) ||
  (c >= 0x5b && c <= 0x60) ||
  (c >= 0x7b && c <= 0x7e);
const endsSpec = (c: number): boolean => c === 0 || isSpace(c) || isPunct(c);

/** A string the program points to, cut to `max - 1` bytes: [bytes, bytes staged]. */
function copyString(env: HelperEnv, lo: number, hi: number, max: number): [Uint8Array, number] {
  const addr = lo >>> 0;
  for (let n = 0; n < max; n++) {
    if (!readable(env, (addr + n) | 0, hi, 1)) return [new Uint8Array(0), 1];
    if (env.mem.u8[addr + n] === 0) return [env.mem.read(addr, n), n + 1];
  }
  return [env.mem.read(addr, max - 1), max];
}

/** Bytes the program points to, or zeros when it could not read them. */
function readOrZero(env: HelperEnv, lo: number, hi: number, size: number): Uint8Array {
  return readable(env, lo, hi, size) ? env.mem.read(lo >>> 0, size) : new Uint8Array(size);
}

function formatIp(b: Uint8Array, upper: boolean): string {
  const hex = (x: number): string => x.toString(16).padStart(2, "0");
  if (b.length === 4) {
    return Array.from(b, (x) => (upper ? String(x) : String(x).padStart(3, "0"))).join(".");
  }
  if (!upper) return Array.from(b, hex).join("");
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(hex(b[i]) + hex(b[i + 1]));
  return groups.join(":");
}

const ASCII = new TextEncoder();

/**
 * Validates `fmt` (its bytes before the NUL) against `numArgs` u64 arguments (`args`, as
 * low/high halves) and formats it. Returns the output (at most `cap` bytes kept) and its full
 * length, or a negative errno.
 */
export function bprintf(
  env: HelperEnv,
  fmt: Uint8Array,
  args: Int32Array,
  numArgs: number,
  cap: number,
): { out: Uint8Array; len: number } | number {
  const ops: Op[] = [];
  let used = 0;
  let spec = 0;
  let litStart = 0;
  const at = (k: number): number => (k < fmt.length ? fmt[k] : 0);
  const stage = (size: number): boolean => {
    used = (used + 3) & ~3;
    if (BIN_ARGS - used < size) return false;
    used += size;
    return true;
  };
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i];
    if (!(isPrint(c) || isSpace(c)) || c > 0x7f) return -EINVAL;
    if (c !== 0x25) continue;
    if (i > litStart) ops.push({ t: "lit", start: litStart, end: i });
    if (at(i + 1) === 0x25) {
      ops.push({ t: "lit", start: i + 1, end: i + 2 });
      i++;
      litStart = i + 1;
      continue;
    }
    if (spec >= numArgs) return -EINVAL;
    const lo = args[2 * spec];
    const hi = args[2 * spec + 1];
    i++;
    let flags = 0;
    for (;;) {
      const f = at(i);
      if (f === 0x30) flags |= ZEROPAD;
      else if (f === 0x2b) flags |= PLUS;
      else if (f === 0x2d) flags |= LEFT;
      else if (f === 0x20) flags |= SPACE;
      else break;
      i++;
    }
    let width = -1;
    if (at(i) >= 0x31 && at(i) <= 0x39) {
      width = 0;
      while (at(i) >= 0x30 && at(i) <= 0x39) {
        width = Math.min(width * 10 + at(i) - 0x30, FIELD_WIDTH_MAX);
        i++;
      }
    }
    const conv = at(i);
    if (conv === 0x70) {
      // %p and its extensions
      const x = at(i + 1);
      if (endsSpec(x) || x === 0x4b || x === 0x78 || x === 0x73 || x === 0x53) {
        if (!endsSpec(x)) i++;
        if (!stage(8)) return -ENOSPC;
        ops.push({ t: "ptr", flags, width, symbol: x === 0x73 || x === 0x53, lo, hi });
      } else if ((x === 0x6b || x === 0x75) && at(i + 2) === 0x73) {
        i += 2;
        if (!endsSpec(at(i + 1))) return -EINVAL;
        if (used >= BIN_ARGS) return -ENOSPC;
        const [s, n] = copyString(env, lo, hi, BIN_ARGS - used);
        used += n;
        ops.push({ t: "str", flags, width, s });
      } else if (x === 0x42) {
        i++;
        const s = ASCII.encode(`0x${((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)).toString(16)}`);
        used += s.length + 1;
        ops.push({ t: "str", flags, width, s });
      } else if ((x === 0x69 || x === 0x49) && (at(i + 2) === 0x34 || at(i + 2) === 0x36)) {
        i += 2;
        const size = at(i) === 0x34 ? 4 : 16;
        if (BIN_ARGS - used < size) return -ENOSPC;
        const s = ASCII.encode(formatIp(readOrZero(env, lo, hi, size), x === 0x49));
        used += s.length + 1;
        ops.push({ t: "str", flags, width, s });
      } else {
        return -EINVAL;
      }
    } else if (conv === 0x73) {
      if (!endsSpec(at(i + 1))) return -EINVAL;
      if (used >= BIN_ARGS) return -ENOSPC;
      const [s, n] = copyString(env, lo, hi, BIN_ARGS - used);
      used += n;
      ops.push({ t: "str", flags, width, s });
    } else if (conv === 0x63) {
      if (used >= BIN_ARGS) return -ENOSPC;
      used++;
      ops.push({ t: "str", flags: flags & LEFT, width, s: Uint8Array.of(lo & 0xff) });
    } else {
      let wide = false;
      if (at(i) === 0x6c) {
        wide = true;
        i++;
        if (at(i) === 0x6c) i++;
      }
      const k = at(i);
      if (k !== 0x69 && k !== 0x64 && k !== 0x75 && k !== 0x78 && k !== 0x58) return -EINVAL;
      if (!stage(wide ? 8 : 4)) return -ENOSPC;
      ops.push({ t: "int", flags, width, conv: k, wide, lo, hi: wide ? hi : 0 });
    }
    spec++;
    litStart = i + 1;
  }
  if (litStart < fmt.length) ops.push({ t: "lit", start: litStart, end: fmt.length });
  const out = new Out(cap);
  for (const op of ops) render(out, fmt, op);
  return { out: out.buf.subarray(0, Math.min(out.n, cap)), len: out.n };
}

/** Writes `digits` with sign, width and flags as the kernel's `number()` does. */
function number(out: Out, digits: string, sign: string, flags: number, width: number): void {
  const w = width - digits.length - sign.length;
  const left = (flags & LEFT) !== 0;
  const zero = (flags & ZEROPAD) !== 0 && !left;
  if (!left && !zero) out.pad(0x20, w);
  out.ascii(sign);
  if (zero) out.pad(0x30, w);
  out.ascii(digits);
  if (left) out.pad(0x20, w);
}

function render(out: Out, fmt: Uint8Array, op: Op): void {
  switch (op.t) {
    case "lit":
      out.bytes(fmt.subarray(op.start, op.end));
      return;
    case "str": {
      const pad = op.width - op.s.length;
      if (!(op.flags & LEFT)) out.pad(0x20, pad);
      out.bytes(op.s);
      if (op.flags & LEFT) out.pad(0x20, pad);
      return;
    }
    case "ptr": {
      const v = (BigInt(op.hi >>> 0) << 32n) | BigInt(op.lo >>> 0);
      if (op.symbol) {
        const s = `0x${v.toString(16)}`;
        const pad = op.width - s.length;
        if (!(op.flags & LEFT)) out.pad(0x20, pad);
        out.ascii(s);
        if (op.flags & LEFT) out.pad(0x20, pad);
        return;
      }
      const flags = op.width < 0 ? op.flags | ZEROPAD : op.flags;
      number(out, v.toString(16), "", flags, op.width < 0 ? 16 : op.width);
      return;
    }
    case "int": {
      const signed = op.conv === 0x64 || op.conv === 0x69;
      let v: bigint;
      if (op.wide) {
        const u = (BigInt(op.hi >>> 0) << 32n) | BigInt(op.lo >>> 0);
        v = signed ? BigInt.asIntN(64, u) : u;
      } else {
        v = BigInt(signed ? op.lo | 0 : op.lo >>> 0);
      }
      let sign = "";
      if (signed) {
        if (v < 0n) {
          sign = "-";
          v = -v;
        } else if (op.flags & PLUS) sign = "+";
        else if (op.flags & SPACE) sign = " ";
      }
      let digits = op.conv === 0x78 || op.conv === 0x58 ? v.toString(16) : v.toString(10);
      if (op.conv === 0x58) digits = digits.toUpperCase();
      number(out, digits, sign, op.flags, op.width);
      return;
    }
  }
}
