import type { PacketContext } from "../helpers/types.js";
import { SegmentFlags } from "../memory/layout.js";
import type { Machine } from "../runtime/machine.js";
import { arenaOf } from "./arena.js";
import { TestRunError } from "./errors.js";
import type { ContextModel, PreparedContext, TestRunInput } from "./types.js";

/** `sizeof(struct __sk_buff)`. */
export const SK_BUFF_SIZE = 192;
/** Headroom before the packet (NET_SKB_PAD + NET_IP_ALIGN on x86-64). */
export const SKB_HEADROOM = 64;
/** Tailroom after it (SKB_DATA_ALIGN(sizeof(struct skb_shared_info))). */
export const SKB_TAILROOM = 320;
const ETH_HLEN = 14;
const LOOPBACK_IFINDEX = 1;

/** Byte offsets of `struct __sk_buff` fields. */
export const SKB = {
  len: 0,
  pkt_type: 4,
  mark: 8,
  queue_mapping: 12,
  protocol: 16,
  priority: 32,
  ingress_ifindex: 36,
  ifindex: 40,
  tc_index: 44,
  cb: 48,
  hash: 68,
  tc_classid: 72,
  data: 76,
  data_end: 80,
  data_meta: 140,
  tstamp: 152,
  wire_len: 160,
  gso_segs: 164,
  gso_size: 176,
  hwtstamp: 184,
} as const;

/** The ctx_in/ctx_out byte ranges BPF_PROG_TEST_RUN copies; every other byte must be 0. */
const COPIED: ReadonlyArray<readonly [number, number]> = [
  [SKB.mark, 4],
  [SKB.priority, 4],
  [SKB.ingress_ifindex, 4],
  [SKB.ifindex, 4],
  [SKB.cb, 20],
  [SKB.tstamp, 8],
  [SKB.wire_len, 4],
  [SKB.gso_segs, 4],
  [SKB.gso_size, 4],
  [SKB.hwtstamp, 8],
];

/** Network headers test runs require in full, by EtherType. */
const L3_HEADER = new Map([
  [0x0800, { name: "IPv4", bytes: 20 }],
  [0x86dd, { name: "IPv6", bytes: 40 }],
]);

/** `eth_type_trans` on the loopback device: [protocol as __sk_buff shows it, pkt_type]. */
export function ethTypeTrans(pkt: Uint8Array): [number, number] {
  const dst = pkt.subarray(0, 6);
  // loopback's address and its broadcast address are both 00:00:00:00:00:00, so
  // ff:ff:ff:ff:ff:ff is PACKET_MULTICAST there
  let pktType = 0; // PACKET_HOST
  if (dst.some((b) => b !== 0)) pktType = dst[0] & 1 ? 2 : 3; // MULTICAST : OTHERHOST
  const proto = (pkt[12] << 8) | pkt[13];
  let wire: number;
  if (proto >= 0x600) wire = proto;
  else if (pkt.length >= 16 && pkt[14] === 0xff && pkt[15] === 0xff)
    wire = 0x0001; // ETH_P_802_3
  else wire = 0x0004; // ETH_P_802_2
  // __be16 read as a little-endian u32
  return [((wire & 0xff) << 8) | (wire >> 8), pktType];
}

/**
 * `struct __sk_buff` for tc, socket filter and cgroup skb programs, as BPF_PROG_TEST_RUN builds
 * it: 64 bytes of headroom, protocol and pkt_type from `eth_type_trans`, the loopback device
 * (ifindex 1) unless ctx_in names another, and the copied-in fields of ctx_in.
 */
function prepareSkb(m: Machine, input: TestRunInput, socket: boolean): PreparedContext {
  const size = input.data.length;
  if (size < ETH_HLEN)
    throw new TestRunError(
      `data of ${size} bytes is shorter than an Ethernet header (14)`,
      "EINVAL",
    );
  // the kernel refuses a packet too short for the network header its EtherType names
  // (measured on Linux 6.18: IPv4 needs 14 + 20 bytes, IPv6 14 + 40; test/fixtures/KERNEL-FACTS.md)
  const l3 = L3_HEADER.get((input.data[12] << 8) | input.data[13]);
  if (l3 !== undefined && size < ETH_HLEN + l3.bytes)
    throw new TestRunError(
      `data of ${size} bytes is shorter than an Ethernet and ${l3.name} header (${ETH_HLEN + l3.bytes})`,
      "EINVAL",
    );
  const ctxIn = new Uint8Array(SK_BUFF_SIZE);
  if (input.ctx !== undefined) {
    if (input.ctx.length > SK_BUFF_SIZE && input.ctx.subarray(SK_BUFF_SIZE).some((b) => b !== 0)) {
      throw new TestRunError("ctx_in has non-zero bytes past struct __sk_buff", "EINVAL");
    }
    ctxIn.set(input.ctx.subarray(0, SK_BUFF_SIZE));
    const allowed = new Uint8Array(SK_BUFF_SIZE);
    for (const [o, n] of COPIED) allowed.fill(1, o, o + n);
    const bad = ctxIn.findIndex((b, i) => b !== 0 && allowed[i] === 0);
    if (bad >= 0)
      throw new TestRunError(
        `ctx_in byte ${bad} is not a field test runs copy in and must be 0`,
        "EINVAL",
      );
  }
  const cdv = new DataView(ctxIn.buffer);
  // tsbpf has no devices but loopback; it takes any other ifindex as an existing device
  const ifindex = cdv.getUint32(SKB.ifindex, true) || LOOPBACK_IFINDEX;
  const wireLen = cdv.getUint32(SKB.wire_len, true);
  if (wireLen !== 0 && wireLen < size)
    throw new TestRunError(`wire_len ${wireLen} is below the data size ${size}`, "EINVAL");
  const arena = arenaOf(m);
  const frame = arena.region("packet", SKB_HEADROOM + size + SKB_TAILROOM, SegmentFlags.WRITABLE);
  const ctxSeg = arena.region("ctx", SK_BUFF_SIZE, SegmentFlags.WRITABLE);
  const mem = m.mem;
  // socket filters see the skb from the network header on
  const data = frame.base + SKB_HEADROOM + (socket ? ETH_HLEN : 0);
  mem.write(frame.base + SKB_HEADROOM, input.data);
  const ctxAddr = ctxSeg.base;
  const [protocol, pktType] = ethTypeTrans(input.data);
  mem.write(ctxAddr, ctxIn);
  const dv = mem.dv;
  dv.setUint32(ctxAddr + SKB.len, size, true);
  dv.setUint32(ctxAddr + SKB.pkt_type, pktType, true);
  dv.setUint32(ctxAddr + SKB.protocol, protocol, true);
  dv.setUint32(ctxAddr + SKB.ifindex, ifindex, true);
  const len = socket ? size - ETH_HLEN : size;
  if (wireLen === 0) dv.setUint32(ctxAddr + SKB.wire_len, len, true);
  const packet: PacketContext = {
    data,
    dataEnd: frame.base + SKB_HEADROOM + size,
    dataMeta: data,
    frameStart: frame.base,
    frameEnd: frame.base + SKB_HEADROOM + size + SKB_TAILROOM,
    commit() {
      const d = mem.dv;
      d.setUint32(ctxAddr + SKB.data, this.data, true);
      d.setUint32(ctxAddr + SKB.data_end, this.dataEnd, true);
      d.setUint32(ctxAddr + SKB.data_meta, this.dataMeta, true);
      d.setUint32(ctxAddr + SKB.len, this.dataEnd - this.data, true);
      mem.setWindow(frame, this.dataMeta, this.dataEnd);
    },
  };
  packet.commit();
  m.run = { ctxAddr, packet };
  return {
    ctxAddr,
    finish() {
      const now = mem.read(ctxAddr, SK_BUFF_SIZE);
      const out = new Uint8Array(SK_BUFF_SIZE);
      for (const [o, n] of COPIED) out.set(now.subarray(o, o + n), o);
      const bytes = mem.read(packet.data, packet.dataEnd - packet.data);
      if (!socket) return { data: bytes, ctx: out };
      // the kernel pushes a zeroed Ethernet header back in front after a socket filter ran
      const withEth = new Uint8Array(ETH_HLEN + bytes.length);
      withEth.set(bytes, ETH_HLEN);
      return { data: withEth, ctx: out };
    },
  };
}

/** `struct __sk_buff` of tc and cgroup skb programs. */
export const skbModel: ContextModel = { prepare: (m, input) => prepareSkb(m, input, false) };

/** `struct __sk_buff` of a socket filter: the skb starts at the network header. */
export const socketModel: ContextModel = { prepare: (m, input) => prepareSkb(m, input, true) };
