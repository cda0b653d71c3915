/**
 * Packet helpers, after the kernel's `net/core/filter.c`, acting on `env.run.packet`:
 * `bpf_xdp_adjust_head` (44), `bpf_xdp_adjust_meta` (54), `bpf_xdp_adjust_tail` (65),
 * `bpf_xdp_get_buff_len` (188), `bpf_xdp_load_bytes` (189), `bpf_xdp_store_bytes` (190),
 * `bpf_skb_load_bytes` (26), `bpf_skb_store_bytes` (9), `bpf_redirect` (23),
 * `bpf_redirect_map` (51).
 *
 * - `packet.frameStart` is the lowest address `data_meta` (and `data`) may reach: the kernel's
 *   `data_hard_start + sizeof(struct xdp_frame)` (40 bytes on x86-64); `packet.frameEnd` the
 *   highest `data_end`: `data_hard_start + frame_sz - SKB_DATA_ALIGN(sizeof(skb_shared_info))`.
 * - adjust_head(delta): -EINVAL unless `frameStart + metalen <= data + delta <= data_end - 14`;
 *   the metadata moves with `data`. adjust_tail(delta): -EINVAL unless
 *   `data + 14 <= data_end + delta <= frameEnd`; grown bytes are zeroed. adjust_meta(delta):
 *   -EINVAL unless `frameStart <= data_meta + delta <= data`, -EACCES unless the metadata length
 *   is a multiple of 4 and at most 255 (the u8 `skb_shared_info.meta_len`; Linux >= 6.6 —
 *   older kernels capped it at 32). Every success calls `packet.commit()`.
 * - skb_load_bytes / skb_store_bytes work on `[data, data_end)` (`skb->len` bytes of linear
 *   data): an offset above INT_MAX or a range past the end is -EFAULT (load also zeroes the
 *   destination); store flags other than BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH are
 *   -EINVAL (both change nothing on a test-run skb: CHECKSUM_NONE, hash 0).
 * - xdp_load/store_bytes: offset or len above 0xffff is -EFAULT, a range past `data_end`
 *   -EINVAL; xdp_get_buff_len is `data_end - data` (tsbpf has no fragments).
 * - bpf_redirect(ifindex, flags): XDP: flags must be 0 (else XDP_ABORTED), gives XDP_REDIRECT;
 *   other types (tc): flags other than BPF_F_INGRESS give TC_ACT_SHOT, else TC_ACT_REDIRECT.
 *   The target is kept for the host ({@link redirectTarget}); nothing is sent anywhere.
 * - bpf_redirect_map(map, key, flags): flags other than the action bits (the low 2; plus
 *   BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS for devmaps) give XDP_ABORTED. tsbpf has no
 *   devmap, cpumap or xskmap (the only maps the verifier accepts here): the lookup fails, and
 *   as in the kernel a failed lookup returns `flags & 3` (the fallback action).
 */
import { EFAULT, EINVAL, ENOTSUPP } from "../errno.js";
import {
  BPF_FUNC,
  PROG_TYPE_XDP,
  mapArg,
  mapTypeSet,
  retInt,
  retU32,
  skbPacket,
  xdpPacket,
} from "./common.js";
import type { HelperDef, HelperEnv, RunContext } from "./types.js";

const ETH_HLEN = 14;
const EACCES = 13;
const INT_MAX = 0x7fff_ffff;
const META_MAX = 255;
const XDP_ABORTED = 0;
const XDP_REDIRECT = 4;
const TC_ACT_SHOT = 2;
const TC_ACT_REDIRECT = 7;
const BPF_F_INGRESS = 1;
const BPF_F_BROADCAST = 1 << 3;
const BPF_F_EXCLUDE_INGRESS = 1 << 4;
const T_DEVMAP = 14;
const T_DEVMAP_HASH = 25;
const ANY_MAP = mapTypeSet([], true);

/** Where a run's last successful `bpf_redirect` / `bpf_redirect_map` sends the packet. */
export interface RedirectTarget {
  /** Target interface index (`bpf_redirect`) or map key (`bpf_redirect_map`). */
  ifindex: number;
  /** The helper's flags (low 32 bits). */
  flags: number;
  /** The map's name, for `bpf_redirect_map`. */
  map?: string;
}

const redirects = new WeakMap<RunContext, RedirectTarget>();

/** The redirect target the program of `run` set last (the kernel's per-CPU redirect info). */
export function redirectTarget(run: RunContext): RedirectTarget | undefined {
  return redirects.get(run);
}

/** `long bpf_xdp_adjust_head(xdp_md, int delta)`. */
function xdpAdjustHead(env: HelperEnv, regs: Int32Array): void {
  const p = xdpPacket(env, BPF_FUNC.xdp_adjust_head);
  const offset = regs[4];
  const metalen = p.dataMeta > p.data ? 0 : p.data - p.dataMeta;
  const data = p.data + offset;
  if (data < p.frameStart + metalen || data > p.dataEnd - ETH_HLEN) return retInt(regs, -EINVAL);
  if (metalen > 0) env.mem.u8.copyWithin(p.dataMeta + offset, p.dataMeta, p.dataMeta + metalen);
  p.dataMeta += offset;
  p.data = data;
  p.commit();
  retInt(regs, 0);
}

/** `long bpf_xdp_adjust_meta(xdp_md, int delta)`. */
function xdpAdjustMeta(env: HelperEnv, regs: Int32Array): void {
  const p = xdpPacket(env, BPF_FUNC.xdp_adjust_meta);
  const meta = p.dataMeta + regs[4];
  const metalen = p.data - meta;
  if (p.dataMeta > p.data) return retInt(regs, -ENOTSUPP);
  if (meta < p.frameStart || meta > p.data) return retInt(regs, -EINVAL);
  if ((metalen & 3) !== 0 || metalen > META_MAX) return retInt(regs, -EACCES);
  p.dataMeta = meta;
  p.commit();
  retInt(regs, 0);
}

/** `long bpf_xdp_adjust_tail(xdp_md, int delta)`. */
function xdpAdjustTail(env: HelperEnv, regs: Int32Array): void {
  const p = xdpPacket(env, BPF_FUNC.xdp_adjust_tail);
  const offset = regs[4];
  const dataEnd = p.dataEnd + offset;
  if (dataEnd > p.frameEnd || dataEnd < p.data + ETH_HLEN) return retInt(regs, -EINVAL);
  if (offset > 0) env.mem.u8.fill(0, p.dataEnd, dataEnd);
  p.dataEnd = dataEnd;
  p.commit();
  retInt(regs, 0);
}

/** `u64 bpf_xdp_get_buff_len(xdp_md)`. */
function xdpGetBuffLen(env: HelperEnv, regs: Int32Array): void {
  const p = xdpPacket(env, BPF_FUNC.xdp_get_buff_len);
  retU32(regs, p.dataEnd - p.data);
}

/** `bpf_xdp_pointer`: the packet address of `[offset, offset + len)` or a negative errno. */
function xdpPointer(env: HelperEnv, id: number, offset: number, len: number): number {
  const p = xdpPacket(env, id);
  if (offset > 0xffff || len > 0xffff) return -EFAULT;
  if (offset + len > p.dataEnd - p.data) return -EINVAL;
  return p.data + offset;
}

/** `long bpf_xdp_load_bytes(xdp_md, u32 offset, void *buf, u32 len)`. */
function xdpLoadBytes(env: HelperEnv, regs: Int32Array): void {
  const len = regs[8] >>> 0;
  env.checkMem(regs[6], regs[7], len, true, "r3 (buf)");
  const ptr = xdpPointer(env, BPF_FUNC.xdp_load_bytes, regs[4] >>> 0, len);
  if (ptr < 0) return retInt(regs, ptr);
  env.mem.u8.copyWithin(regs[6] >>> 0, ptr, ptr + len);
  retInt(regs, 0);
}

/** `long bpf_xdp_store_bytes(xdp_md, u32 offset, void *buf, u32 len)`. */
function xdpStoreBytes(env: HelperEnv, regs: Int32Array): void {
  const len = regs[8] >>> 0;
  env.checkMem(regs[6], regs[7], len, false, "r3 (buf)");
  const ptr = xdpPointer(env, BPF_FUNC.xdp_store_bytes, regs[4] >>> 0, len);
  if (ptr < 0) return retInt(regs, ptr);
  const src = regs[6] >>> 0;
  env.mem.u8.copyWithin(ptr, src, src + len);
  retInt(regs, 0);
}

/** `long bpf_skb_load_bytes(skb, u32 offset, void *to, u32 len)`. */
function skbLoadBytes(env: HelperEnv, regs: Int32Array): void {
  const p = skbPacket(env, BPF_FUNC.skb_load_bytes);
  const len = regs[8] >>> 0;
  env.checkMem(regs[6], regs[7], len, true, "r3 (to)");
  const offset = regs[4] >>> 0;
  const to = regs[6] >>> 0;
  const u8 = env.mem.u8;
  if (offset > INT_MAX || offset + len > p.dataEnd - p.data) {
    u8.fill(0, to, to + len);
    return retInt(regs, -EFAULT);
  }
  u8.copyWithin(to, p.data + offset, p.data + offset + len);
  retInt(regs, 0);
}

/** `long bpf_skb_store_bytes(skb, u32 offset, const void *from, u32 len, u64 flags)`. */
function skbStoreBytes(env: HelperEnv, regs: Int32Array): void {
  const p = skbPacket(env, BPF_FUNC.skb_store_bytes);
  const len = regs[8] >>> 0;
  env.checkMem(regs[6], regs[7], len, false, "r3 (from)");
  if (regs[11] !== 0 || (regs[10] & ~3) !== 0) return retInt(regs, -EINVAL);
  const offset = regs[4] >>> 0;
  if (offset > INT_MAX || offset + len > p.dataEnd - p.data) return retInt(regs, -EFAULT);
  const from = regs[6] >>> 0;
  env.mem.u8.copyWithin(p.data + offset, from, from + len);
  retInt(regs, 0);
}

/** `long bpf_redirect(u32 ifindex, u64 flags)`. */
function redirect(env: HelperEnv, regs: Int32Array): void {
  const ifindex = regs[2] >>> 0;
  const flags = regs[4];
  if (env.progType === PROG_TYPE_XDP) {
    if (flags !== 0 || regs[5] !== 0) return retInt(regs, XDP_ABORTED);
    redirects.set(env.run, { ifindex, flags: 0 });
    return retInt(regs, XDP_REDIRECT);
  }
  if (regs[5] !== 0 || (flags & ~BPF_F_INGRESS) !== 0) return retInt(regs, TC_ACT_SHOT);
  redirects.set(env.run, { ifindex, flags });
  retInt(regs, TC_ACT_REDIRECT);
}

/** `long bpf_redirect_map(map, u64 key, u64 flags)`. */
function redirectMap(env: HelperEnv, regs: Int32Array): void {
  const map = mapArg(env, regs, BPF_FUNC.redirect_map, 1, ANY_MAP);
  const devmap = map.def.type === T_DEVMAP || map.def.type === T_DEVMAP_HASH;
  const allowed = 3 | (devmap ? BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS : 0);
  if (regs[7] !== 0 || (regs[6] & ~allowed) !== 0) return retInt(regs, XDP_ABORTED);
  // No map tsbpf has is a redirect target: the lookup fails.
  redirects.delete(env.run);
  retInt(regs, regs[6] & 3);
}

/** The packet helpers. */
export const PACKET_HELPERS: readonly HelperDef[] = [
  { id: BPF_FUNC.xdp_adjust_head, name: "bpf_xdp_adjust_head", fn: xdpAdjustHead },
  { id: BPF_FUNC.xdp_adjust_meta, name: "bpf_xdp_adjust_meta", fn: xdpAdjustMeta },
  { id: BPF_FUNC.xdp_adjust_tail, name: "bpf_xdp_adjust_tail", fn: xdpAdjustTail },
  { id: BPF_FUNC.xdp_get_buff_len, name: "bpf_xdp_get_buff_len", fn: xdpGetBuffLen },
  { id: BPF_FUNC.xdp_load_bytes, name: "bpf_xdp_load_bytes", fn: xdpLoadBytes },
  { id: BPF_FUNC.xdp_store_bytes, name: "bpf_xdp_store_bytes", fn: xdpStoreBytes },
  { id: BPF_FUNC.skb_load_bytes, name: "bpf_skb_load_bytes", fn: skbLoadBytes },
  { id: BPF_FUNC.skb_store_bytes, name: "bpf_skb_store_bytes", fn: skbStoreBytes },
  { id: BPF_FUNC.redirect, name: "bpf_redirect", fn: redirect },
  { id: BPF_FUNC.redirect_map, name: "bpf_redirect_map", fn: redirectMap },
];
