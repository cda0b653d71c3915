/**
 * Checksum helpers with the kernel's exact arithmetic (x86-64): `bpf_csum_diff` (28),
 * `bpf_l3_csum_replace` (10), `bpf_l4_csum_replace` (11).
 *
 * - `bpf_csum_diff(from, from_size, to, to_size, seed)` is the Linux >= 6.13 helper (the
 *   reference kernel): `csum_sub(csum_partial(to, seed), csum_partial(from, 0))` when both sizes
 *   are non-zero, `csum_partial(to, seed)` for a push, `~csum_partial(from, ~seed)` for a pull,
 *   the seed when both are 0, folded to 16 bits with `csum_from32to16` (no complement). Sizes
 *   need not be multiples of 4 and are not capped (older kernels returned the unfolded 32-bit
 *   sum and -EINVAL for sizes not a multiple of 4 or above 512 bytes).
 * - `csum_partial` is x86-64's: 64-bit one's-complement sum of little-endian words, the tail
 *   zero-padded, folded to 32 bits with end-around carry. Its value is the byte sum modulo
 *   2^32 - 1, in [1, 2^32 - 1] unless every input byte and the seed are 0.
 * - l3/l4 replace act on the skb's linear data: flags other than the documented ones are
 *   -EINVAL, an offset above 0xffff or odd -EFAULT, a checksum field past `skb->len` -EFAULT.
 *   Field sizes 2 and 4 use `csum_replace2`/`csum_replace4` (l4: `inet_proto_csum_replace*`,
 *   which is `csum_replace4` on 16-bit values zero-extended), size 0 `csum_replace_by_diff`
 *   (`from` must be 0). Test-run skbs are `CHECKSUM_NONE`, so `BPF_F_PSEUDO_HDR` and
 *   `BPF_F_IPV6` change nothing (no `skb->csum` to update); `BPF_F_MARK_MANGLED_0` keeps a
 *   zero checksum zero (unless `BPF_F_MARK_ENFORCE`) and turns a 0 result into 0xffff.
 */
import { EFAULT, EINVAL } from "../errno.js";
import { BPF_FUNC, retInt, retU32, skbPacket } from "./common.js";
import type { HelperDef, HelperEnv } from "./types.js";

const M32 = 0xffff_ffff;

/** x86-64 `csum_partial(buf, len, seed)` over `len` bytes of `u8` at `addr`: a u32. */
export function csumPartial(u8: Uint8Array, addr: number, len: number, seed: number): number {
  let s = seed >>> 0;
  let folded = false;
  const end = addr + (len & ~3);
  for (let i = addr; i < end; i += 4) {
    s += (u8[i] | (u8[i + 1] << 8) | (u8[i + 2] << 16) | (u8[i + 3] << 24)) >>> 0;
    if (s >= 2 ** 52) {
      s %= M32;
      folded = true;
    }
  }
  const rest = len & 3;
  if (rest > 0) {
    let w = 0;
    for (let k = 0; k < rest; k++) w |= u8[end + k] << (8 * k);
    s += w >>> 0;
  }
  if (s === 0 && !folded) return 0;
  const r = s % M32;
  return r === 0 ? M32 : r;
}

/** `csum_add`: 32-bit one's-complement addition (end-around carry). */
export function csumAdd(a: number, b: number): number {
  const res = ((a >>> 0) + (b >>> 0)) >>> 0;
  return (res + (res < b >>> 0 ? 1 : 0)) >>> 0;
}

/** `csum_sub`: `csum_add(a, ~b)`. */
export function csumSub(a: number, b: number): number {
  return csumAdd(a, ~b >>> 0);
}

/** `csum_fold`: the complemented 16-bit fold of a 32-bit sum. */
export function csumFold(csum: number): number {
  let s = (csum & 0xffff) + (csum >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** `csum_from32to16`: the (uncomplemented) 16-bit fold of a 32-bit sum. */
export function csumFrom32to16(sum: number): number {
  const s = ((sum >>> 0) + ((((sum >>> 16) | (sum << 16)) >>> 0) >>> 0)) >>> 0;
  return s >>> 16;
}

/** `csum16_add`: 16-bit one's-complement addition. */
function csum16Add(csum: number, addend: number): number {
  const res = (csum + addend) & 0xffff;
  return (res + (res < addend ? 1 : 0)) & 0xffff;
}

/** `csum_replace2(sum, old, new)`: the new 16-bit checksum. */
export function csumReplace2(sum: number, from: number, to: number): number {
  return ~csum16Add(csum16Add(~sum & 0xffff, ~from & 0xffff), to & 0xffff) & 0xffff;
}

/** `csum_replace4(sum, from, to)`: the new 16-bit checksum. */
export function csumReplace4(sum: number, from: number, to: number): number {
  const tmp = csumSub(~(sum & 0xffff) >>> 0, from >>> 0);
  return csumFold(csumAdd(tmp, to >>> 0));
}

/** `csum_replace_by_diff(sum, diff)`: the new 16-bit checksum. */
export function csumReplaceByDiff(sum: number, diff: number): number {
  return csumFold(csumAdd(diff >>> 0, ~(sum & 0xffff) >>> 0));
}

/** `s64 bpf_csum_diff(__be32 *from, u32 from_size, __be32 *to, u32 to_size, __wsum seed)`. */
function csumDiff(env: HelperEnv, regs: Int32Array): void {
  const fromSize = regs[4] >>> 0;
  const toSize = regs[8] >>> 0;
  env.checkMem(regs[2], regs[3], fromSize, false, "r1 (from)");
  env.checkMem(regs[6], regs[7], toSize, false, "r3 (to)");
  const u8 = env.mem.u8;
  const from = regs[2] >>> 0;
  const to = regs[6] >>> 0;
  const seed = regs[10] >>> 0;
  let ret = seed;
  if (fromSize !== 0 && toSize !== 0) {
    ret = csumSub(csumPartial(u8, to, toSize, seed), csumPartial(u8, from, fromSize, 0));
  } else if (toSize !== 0) {
    ret = csumPartial(u8, to, toSize, seed);
  } else if (fromSize !== 0) {
    ret = ~csumPartial(u8, from, fromSize, ~seed >>> 0) >>> 0;
  }
  retU32(regs, csumFrom32to16(ret));
}

const BPF_F_HDR_FIELD_MASK = 0xf;
const BPF_F_PSEUDO_HDR = 0x10;
const BPF_F_MARK_MANGLED_0 = 0x20;
const BPF_F_MARK_ENFORCE = 0x40;
const BPF_F_IPV6 = 0x80;
const L4_FLAGS =
  BPF_F_MARK_MANGLED_0 | BPF_F_MARK_ENFORCE | BPF_F_PSEUDO_HDR | BPF_F_HDR_FIELD_MASK | BPF_F_IPV6;
const CSUM_MANGLED_0 = 0xffff;

/**
 * The address of the checksum field at `offset` in the skb, or a negative errno, after the
 * flag check (`allowed`) the caller names.
 */
function csumField(env: HelperEnv, regs: Int32Array, id: number, allowed: number): number {
  const p = skbPacket(env, id);
  if (regs[11] !== 0 || (regs[10] & ~allowed) !== 0) return -EINVAL;
  const offset = regs[4] >>> 0;
  if (offset > 0xffff || (offset & 1) !== 0) return -EFAULT;
  if (offset + 2 > p.dataEnd - p.data) return -EFAULT;
  return p.data + offset;
}

/** `long bpf_l3_csum_replace(skb, u32 offset, u64 from, u64 to, u64 flags)`. */
function l3CsumReplace(env: HelperEnv, regs: Int32Array): void {
  const addr = csumField(env, regs, BPF_FUNC.l3_csum_replace, BPF_F_HDR_FIELD_MASK);
  if (addr < 0) return retInt(regs, addr);
  const u8 = env.mem.u8;
  const sum = u8[addr] | (u8[addr + 1] << 8);
  let out: number;
  switch (regs[10] & BPF_F_HDR_FIELD_MASK) {
    case 0:
      if (regs[6] !== 0 || regs[7] !== 0) return retInt(regs, -EINVAL);
      out = csumReplaceByDiff(sum, regs[8]);
      break;
    case 2:
      out = csumReplace2(sum, regs[6] & 0xffff, regs[8] & 0xffff);
      break;
    case 4:
      out = csumReplace4(sum, regs[6], regs[8]);
      break;
    default:
      return retInt(regs, -EINVAL);
  }
  u8[addr] = out & 0xff;
  u8[addr + 1] = out >>> 8;
  retInt(regs, 0);
}

/** `long bpf_l4_csum_replace(skb, u32 offset, u64 from, u64 to, u64 flags)`. */
function l4CsumReplace(env: HelperEnv, regs: Int32Array): void {
  const addr = csumField(env, regs, BPF_FUNC.l4_csum_replace, L4_FLAGS);
  if (addr < 0) return retInt(regs, addr);
  const flags = regs[10];
  const mmzero = (flags & BPF_F_MARK_MANGLED_0) !== 0;
  const u8 = env.mem.u8;
  const sum = u8[addr] | (u8[addr + 1] << 8);
  if (mmzero && (flags & BPF_F_MARK_ENFORCE) === 0 && sum === 0) return retInt(regs, 0);
  let out: number;
  switch (flags & BPF_F_HDR_FIELD_MASK) {
    case 0:
      if (regs[6] !== 0 || regs[7] !== 0) return retInt(regs, -EINVAL);
      out = csumReplaceByDiff(sum, regs[8]);
      break;
    case 2:
      out = csumReplace4(sum, regs[6] & 0xffff, regs[8] & 0xffff);
      break;
    case 4:
      out = csumReplace4(sum, regs[6], regs[8]);
      break;
    default:
      return retInt(regs, -EINVAL);
  }
  if (mmzero && out === 0) out = CSUM_MANGLED_0;
  u8[addr] = out & 0xff;
  u8[addr + 1] = out >>> 8;
  retInt(regs, 0);
}

/** The checksum helpers. */
export const CSUM_HELPERS: readonly HelperDef[] = [
  { id: BPF_FUNC.csum_diff, name: "bpf_csum_diff", fn: csumDiff },
  { id: BPF_FUNC.l3_csum_replace, name: "bpf_l3_csum_replace", fn: l3CsumReplace },
  { id: BPF_FUNC.l4_csum_replace, name: "bpf_l4_csum_replace", fn: l4CsumReplace },
];
