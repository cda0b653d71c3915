/**
 * Packet builders for tests: stack layers the way scapy does and get the bytes, with lengths,
 * next-protocol fields and checksums (IPv4 header, UDP/TCP/ICMPv6 with their pseudo-headers,
 * ICMP) filled in.
 *
 * ```ts
 * const pkt = buildPacket(eth(), ipv4({ src: "10.0.0.1", dst: "10.1.2.3" }),
 *                         udp({ sport: 12345, dport: 53 }), "hello");
 * ```
 */
import { PacketError, parseIpv4, parseIpv6, parseMac } from "./addr.js";

/** Ethernet header options. */
export interface EthOptions {
  /** Source MAC (default `02:00:00:00:00:01`). */
  src?: string;
  /** Destination MAC (default `02:00:00:00:00:02`). */
  dst?: string;
  /** EtherType (default: from the next layer; 0x0800 IPv4, 0x86dd IPv6, 0x0806 ARP, 0x8100 VLAN). */
  type?: number;
}

/** 802.1Q tag options. */
export interface VlanOptions {
  /** VLAN id (0–4095). */
  id: number;
  /** Priority code point (0–7, default 0). */
  pcp?: number;
  /** Inner EtherType (default: from the next layer). */
  type?: number;
}

/** IPv4 header options. */
export interface Ipv4Options {
  /** Source address, dotted. */
  src: string;
  /** Destination address, dotted. */
  dst: string;
  /** Time to live (default 64). */
  ttl?: number;
  /** Identification (default 0). */
  id?: number;
  /** Type of service / DSCP+ECN byte (default 0). */
  tos?: number;
  /** Don't-fragment flag (default false). */
  df?: boolean;
  /** More-fragments flag (default false). */
  mf?: boolean;
  /** Fragment offset in 8-byte units (default 0). */
  fragOffset?: number;
  /** Protocol (default: from the next layer; 1 ICMP, 6 TCP, 17 UDP). */
  protocol?: number;
  /** Options, padded to a multiple of 4 bytes (default none). */
  options?: Uint8Array;
  /** Header checksum to write instead of the computed one. */
  checksum?: number;
}

/** IPv6 header options. */
export interface Ipv6Options {
  /** Source address. */
  src: string;
  /** Destination address. */
  dst: string;
  /** Hop limit (default 64). */
  hopLimit?: number;
  /** Traffic class (default 0). */
  trafficClass?: number;
  /** Flow label (default 0). */
  flowLabel?: number;
  /** Next header (default: from the next layer; 6 TCP, 17 UDP, 58 ICMPv6). */
  nextHeader?: number;
}

/** UDP header options. */
export interface UdpOptions {
  /** Source port. */
  sport: number;
  /** Destination port. */
  dport: number;
  /** Checksum to write instead of the computed one (0: none, allowed over IPv4). */
  checksum?: number;
}

/** TCP header options. */
export interface TcpOptions {
  /** Source port. */
  sport: number;
  /** Destination port. */
  dport: number;
  /** Sequence number (default 0). */
  seq?: number;
  /** Acknowledgment number (default 0). */
  ack?: number;
  /** Flags as scapy spells them (`"S"`, `"SA"`, `"PA"`, `"F"`, `"R"`…) or as a number (default `"S"`). */
  flags?: string | number;
  /** Window (default 65535). */
  window?: number;
  /** Urgent pointer (default 0). */
  urgent?: number;
  /** Options, padded to a multiple of 4 bytes (default none). */
  options?: Uint8Array;
  /** Checksum to write instead of the computed one. */
  checksum?: number;
}

/** ICMP / ICMPv6 header options (echo fields by default). */
export interface IcmpOptions {
  /** Type (default 8, echo request; ICMPv6 128). */
  type?: number;
  /** Code (default 0). */
  code?: number;
  /** Echo identifier (default 0). */
  id?: number;
  /** Echo sequence number (default 0). */
  seq?: number;
  /** Checksum to write instead of the computed one. */
  checksum?: number;
}

/** ARP (Ethernet/IPv4) options. */
export interface ArpOptions {
  /** Operation: 1 request (default), 2 reply. */
  op?: number;
  /** Sender MAC (default `02:00:00:00:00:01`). */
  senderMac?: string;
  /** Sender IPv4 address. */
  senderIp: string;
  /** Target MAC (default `00:00:00:00:00:00`). */
  targetMac?: string;
  /** Target IPv4 address. */
  targetIp: string;
}

/** One layer of a packet, as the builder functions return them. */
export type Layer =
  | { kind: "eth"; opts: EthOptions }
  | { kind: "vlan"; opts: VlanOptions }
  | { kind: "ipv4"; opts: Ipv4Options }
  | { kind: "ipv6"; opts: Ipv6Options }
  | { kind: "udp"; opts: UdpOptions }
  | { kind: "tcp"; opts: TcpOptions }
  | { kind: "icmp"; opts: IcmpOptions }
  | { kind: "icmpv6"; opts: IcmpOptions }
  | { kind: "arp"; opts: ArpOptions }
  | { kind: "payload"; bytes: Uint8Array };

/** An Ethernet header. */
export const eth = (opts: EthOptions = {}): Layer => ({ kind: "eth", opts });
/** An 802.1Q VLAN tag (after `eth()`). */
export const vlan = (opts: VlanOptions): Layer => ({ kind: "vlan", opts });
/** An IPv4 header (20 bytes plus options). */
export const ipv4 = (opts: Ipv4Options): Layer => ({ kind: "ipv4", opts });
/** An IPv6 header (40 bytes). */
export const ipv6 = (opts: Ipv6Options): Layer => ({ kind: "ipv6", opts });
/** A UDP header. */
export const udp = (opts: UdpOptions): Layer => ({ kind: "udp", opts });
/** A TCP header (20 bytes plus options). */
export const tcp = (opts: TcpOptions): Layer => ({ kind: "tcp", opts });
/** An ICMP header (8 bytes: type, code, checksum, id, seq). */
export const icmp = (opts: IcmpOptions = {}): Layer => ({ kind: "icmp", opts });
/** An ICMPv6 header (8 bytes; default type 128, echo request). */
export const icmpv6 = (opts: IcmpOptions = {}): Layer => ({ kind: "icmpv6", opts });
/** An ARP packet for Ethernet and IPv4 (28 bytes). */
export const arp = (opts: ArpOptions): Layer => ({ kind: "arp", opts });
/** Payload bytes (a string is UTF-8 encoded). */
export const payload = (data: Uint8Array | string): Layer => ({
  kind: "payload",
  bytes: typeof data === "string" ? new TextEncoder().encode(data) : data,
});

const ETHERTYPE: Partial<Record<Layer["kind"], number>> = {
  ipv4: 0x0800,
  ipv6: 0x86dd,
  arp: 0x0806,
  vlan: 0x8100,
};
const IPPROTO: Partial<Record<Layer["kind"], number>> = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58 };
const TCP_FLAGS: Record<string, number> = { F: 1, S: 2, R: 4, P: 8, A: 16, U: 32, E: 64, C: 128 };

/** The Internet checksum (RFC 1071) of `parts`, concatenated. */
export function inetChecksum(...parts: Uint8Array[]): number {
  let sum = 0;
  let odd = -1;
  for (const p of parts) {
    for (const b of p) {
      if (odd < 0) odd = b;
      else {
        sum += (odd << 8) | b;
        odd = -1;
      }
    }
  }
  if (odd >= 0) sum += odd << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

function u16(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff)
    throw new PacketError(`${what}: ${v} is not a u16`);
  return v;
}

function padded(options: Uint8Array | undefined): Uint8Array {
  const o = options ?? new Uint8Array(0);
  const out = new Uint8Array(Math.ceil(o.length / 4) * 4);
  out.set(o);
  return out;
}

function tcpFlags(flags: string | number | undefined): number {
  if (flags === undefined) return TCP_FLAGS.S;
  if (typeof flags === "number") return flags & 0xff;
  let v = 0;
  for (const ch of flags.toUpperCase()) {
    const bit = TCP_FLAGS[ch];
    if (bit === undefined) throw new PacketError(`unknown TCP flag "${ch}" in "${flags}"`);
    v |= bit;
  }
  return v;
}

/** What an L4 checksum covers besides its own bytes. */
type PseudoHeader = (l4Length: number, proto: number) => Uint8Array;

/**
 * Builds a packet from layers, outermost first. A string or bytes among the layers is payload.
 * Lengths, EtherTypes, IP protocols and checksums are computed unless given.
 */
export function buildPacket(...layers: (Layer | Uint8Array | string)[]): Uint8Array {
  const ls = layers.map((l) => (typeof l === "string" || l instanceof Uint8Array ? payload(l) : l));
  return encode(ls, 0, undefined);
}

function encode(ls: Layer[], i: number, pseudo: PseudoHeader | undefined): Uint8Array {
  if (i >= ls.length) return new Uint8Array(0);
  const l = ls[i];
  const next = ls[i + 1]?.kind;
  const concat = (head: Uint8Array, body: Uint8Array) => {
    const out = new Uint8Array(head.length + body.length);
    out.set(head);
    out.set(body, head.length);
    return out;
  };
  switch (l.kind) {
    case "payload":
      return concat(l.bytes, encode(ls, i + 1, pseudo));
    case "eth": {
      const h = new Uint8Array(14);
      h.set(parseMac(l.opts.dst ?? "02:00:00:00:00:02"), 0);
      h.set(parseMac(l.opts.src ?? "02:00:00:00:00:01"), 6);
      const type = l.opts.type ?? (next && ETHERTYPE[next]) ?? 0;
      new DataView(h.buffer).setUint16(12, u16(type, "eth type"));
      return concat(h, encode(ls, i + 1, undefined));
    }
    case "vlan": {
      const h = new Uint8Array(4);
      const dv = new DataView(h.buffer);
      dv.setUint16(0, (((l.opts.pcp ?? 0) & 7) << 13) | (l.opts.id & 0xfff));
      dv.setUint16(2, u16(l.opts.type ?? (next && ETHERTYPE[next]) ?? 0, "vlan type"));
      return concat(h, encode(ls, i + 1, undefined));
    }
    case "ipv4": {
      const o = l.opts;
      const src = parseIpv4(o.src);
      const dst = parseIpv4(o.dst);
      const proto = o.protocol ?? (next && IPPROTO[next]) ?? 0;
      const ph: PseudoHeader = (len, p) => {
        const b = new Uint8Array(12);
        b.set(src, 0);
        b.set(dst, 4);
        b[9] = p;
        new DataView(b.buffer).setUint16(10, len);
        return b;
      };
      const body = encode(ls, i + 1, ph);
      const opts = padded(o.options);
      const h = new Uint8Array(20 + opts.length);
      const dv = new DataView(h.buffer);
      h[0] = 0x40 | (h.length / 4);
      h[1] = (o.tos ?? 0) & 0xff;
      dv.setUint16(2, u16(h.length + body.length, "IPv4 total length"));
      dv.setUint16(4, u16(o.id ?? 0, "IPv4 id"));
      const frag = (o.df ? 0x4000 : 0) | (o.mf ? 0x2000 : 0) | ((o.fragOffset ?? 0) & 0x1fff);
      dv.setUint16(6, frag);
      h[8] = o.ttl ?? 64;
      h[9] = proto;
      h.set(src, 12);
      h.set(dst, 16);
      h.set(opts, 20);
      dv.setUint16(10, o.checksum ?? inetChecksum(h));
      return concat(h, body);
    }
    case "ipv6": {
      const o = l.opts;
      const src = parseIpv6(o.src);
      const dst = parseIpv6(o.dst);
      const ph: PseudoHeader = (len, p) => {
        const b = new Uint8Array(40);
        b.set(src, 0);
        b.set(dst, 16);
        const dv = new DataView(b.buffer);
        dv.setUint32(32, len);
        b[39] = p;
        return b;
      };
      const body = encode(ls, i + 1, ph);
      const h = new Uint8Array(40);
      const dv = new DataView(h.buffer);
      const tc = (o.trafficClass ?? 0) & 0xff;
      dv.setUint32(0, ((6 << 28) | (tc << 20) | ((o.flowLabel ?? 0) & 0xfffff)) >>> 0);
      dv.setUint16(4, u16(body.length, "IPv6 payload length"));
      h[6] = o.nextHeader ?? (next && IPPROTO[next]) ?? 59;
      h[7] = o.hopLimit ?? 64;
      h.set(src, 8);
      h.set(dst, 24);
      return concat(h, body);
    }
    case "udp": {
      const o = l.opts;
      const body = encode(ls, i + 1, undefined);
      const h = new Uint8Array(8);
      const dv = new DataView(h.buffer);
      dv.setUint16(0, u16(o.sport, "UDP sport"));
      dv.setUint16(2, u16(o.dport, "UDP dport"));
      dv.setUint16(4, u16(8 + body.length, "UDP length"));
      let sum = o.checksum;
      if (sum === undefined) {
        sum = pseudo ? inetChecksum(pseudo(8 + body.length, 17), h, body) : 0;
        if (pseudo && sum === 0) sum = 0xffff;
      }
      dv.setUint16(6, sum);
      return concat(h, body);
    }
    case "tcp": {
      const o = l.opts;
      const body = encode(ls, i + 1, undefined);
      const opts = padded(o.options);
      const h = new Uint8Array(20 + opts.length);
      const dv = new DataView(h.buffer);
      dv.setUint16(0, u16(o.sport, "TCP sport"));
      dv.setUint16(2, u16(o.dport, "TCP dport"));
      dv.setUint32(4, (o.seq ?? 0) >>> 0);
      dv.setUint32(8, (o.ack ?? 0) >>> 0);
      h[12] = (h.length / 4) << 4;
      h[13] = tcpFlags(o.flags);
      dv.setUint16(14, u16(o.window ?? 65535, "TCP window"));
      dv.setUint16(18, u16(o.urgent ?? 0, "TCP urgent pointer"));
      h.set(opts, 20);
      const len = h.length + body.length;
      dv.setUint16(16, o.checksum ?? (pseudo ? inetChecksum(pseudo(len, 6), h, body) : 0));
      return concat(h, body);
    }
    case "icmp":
    case "icmpv6": {
      const o = l.opts;
      const v6 = l.kind === "icmpv6";
      const body = encode(ls, i + 1, undefined);
      const h = new Uint8Array(8);
      const dv = new DataView(h.buffer);
      h[0] = o.type ?? (v6 ? 128 : 8);
      h[1] = o.code ?? 0;
      dv.setUint16(4, u16(o.id ?? 0, "ICMP id"));
      dv.setUint16(6, u16(o.seq ?? 0, "ICMP seq"));
      const covered = v6 && pseudo ? [pseudo(8 + body.length, 58), h, body] : [h, body];
      dv.setUint16(2, o.checksum ?? inetChecksum(...covered));
      return concat(h, body);
    }
    case "arp": {
      const o = l.opts;
      const h = new Uint8Array(28);
      const dv = new DataView(h.buffer);
      dv.setUint16(0, 1); // Ethernet
      dv.setUint16(2, 0x0800);
      h[4] = 6;
      h[5] = 4;
      dv.setUint16(6, o.op ?? 1);
      h.set(parseMac(o.senderMac ?? "02:00:00:00:00:01"), 8);
      h.set(parseIpv4(o.senderIp), 14);
      h.set(parseMac(o.targetMac ?? "00:00:00:00:00:00"), 18);
      h.set(parseIpv4(o.targetIp), 24);
      return concat(h, encode(ls, i + 1, undefined));
    }
  }
}
