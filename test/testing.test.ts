/**
 * `tsbpf/testing`: packet builders (bytes and checksums), addresses, capture files (pcap and
 * pcapng, read and written), the packet dissector.
 */
import { describe, expect, it } from "vitest";
import {
  arp,
  buildPacket,
  CaptureError,
  eth,
  icmp,
  icmpv6,
  inetChecksum,
  ipv4,
  ipv6,
  isCapture,
  lpmKey,
  PacketError,
  parseIpv6,
  parseMac,
  readCapture,
  tcp,
  udp,
  vlan,
  writePcap,
} from "../src/testing/index.js";
import { compressV6, describePacket } from "../src/testing/dissect.js";
import { formatIp } from "../src/testing/addr.js";
import { toHex } from "../src/runtime/dump.js";
import { PACKETS } from "./fixtures/packets.js";

const v4 = { id: 0x1234, df: true };

describe("packet builders", () => {
  it("build the fixture packets byte for byte (checksums included)", () => {
    expect(
      toHex(
        buildPacket(
          eth(),
          ipv4({ src: "10.0.0.1", dst: "10.1.2.3", ...v4 }),
          udp({ sport: 12345, dport: 53 }),
          "hello tsbpf!",
        ),
      ),
    ).toBe(PACKETS.udp4);
    expect(
      toHex(
        buildPacket(
          eth(),
          ipv4({ src: "10.0.0.1", dst: "192.168.1.1", ...v4 }),
          tcp({ sport: 40000, dport: 80, seq: 1 }),
        ),
      ),
    ).toBe(PACKETS.tcp4);
    expect(
      toHex(
        buildPacket(
          eth(),
          ipv4({ src: "10.0.0.1", dst: "10.0.0.2", ...v4 }),
          icmp({ id: 0x42, seq: 1 }),
          "ping",
        ),
      ),
    ).toBe(PACKETS.icmp4);
    expect(
      toHex(
        buildPacket(
          eth(),
          ipv6({ src: "2001:db8::1", dst: "2001:db8::2" }),
          udp({ sport: 5353, dport: 53 }),
          "hello tsbpf!",
        ),
      ),
    ).toBe(PACKETS.udp6);
    expect(toHex(buildPacket(eth(), arp({ senderIp: "10.0.0.1", targetIp: "10.0.0.2" })))).toBe(
      PACKETS.arp,
    );
  });

  it("checksums verify (sum over the covered bytes is 0) for odd lengths and options", () => {
    for (let len = 0; len < 9; len++) {
      const body = Uint8Array.from({ length: len }, (_, i) => (i * 37 + 11) & 0xff);
      const p6 = buildPacket(
        eth(),
        ipv6({ src: "fe80::1", dst: "ff02::1" }),
        tcp({ sport: 1, dport: 2, flags: "PA", options: Uint8Array.of(2, 4, 5, 0xb4) }),
        body,
      );
      const ph = new Uint8Array(40);
      ph.set(p6.subarray(22, 54));
      new DataView(ph.buffer).setUint32(32, p6.length - 54);
      ph[39] = 6;
      expect(inetChecksum(ph, p6.subarray(54))).toBe(0);
      const p4 = buildPacket(
        eth(),
        ipv4({ src: "1.2.3.4", dst: "5.6.7.8", options: Uint8Array.of(1, 1, 1) }),
        icmp({ type: 0 }),
        body,
      );
      expect(p4[14]).toBe(0x46); // IHL 6: options padded to 4 bytes
      expect(inetChecksum(p4.subarray(14, 38))).toBe(0);
      expect(inetChecksum(p4.subarray(38))).toBe(0);
    }
  });

  it("ICMPv6 covers the pseudo-header; UDP checksum 0 is sent as 0xffff", () => {
    const p = buildPacket(eth(), ipv6({ src: "::1", dst: "::2" }), icmpv6({ id: 1, seq: 2 }));
    expect(p[20]).toBe(58);
    const ph = new Uint8Array(40);
    ph.set(p.subarray(22, 54));
    ph[35] = 8;
    ph[39] = 58;
    expect(inetChecksum(ph, p.subarray(54))).toBe(0);
    const zero = buildPacket(ipv4({ src: "0.0.0.0", dst: "0.0.0.0" }), udp({ sport: 0, dport: 0 }));
    expect(zero.length).toBe(28);
    expect(toHex(zero.subarray(26, 28))).not.toBe("0000");
  });

  it("fills EtherTypes through VLAN tags and takes explicit fields", () => {
    const p = buildPacket(
      eth({ src: "aa:bb:cc:dd:ee:ff" }),
      vlan({ id: 100, pcp: 5 }),
      ipv4({ src: "10.0.0.1", dst: "10.0.0.2", ttl: 1, tos: 0x10, protocol: 253 }),
      "x",
    );
    expect(toHex(p.subarray(6, 18))).toBe("aabbccddeeff8100a0640800");
    expect(p[18 + 8]).toBe(1);
    expect(p[18 + 9]).toBe(253);
    expect(describePacket(p)).toBe("vlan 100 IPv4 10.0.0.1 → 10.0.0.2 proto 253, 39 bytes");
  });

  it("refuses bad input with a PacketError", () => {
    expect(() => eth({ src: "nope" }) && buildPacket(eth({ src: "nope" }))).toThrow(PacketError);
    expect(() => buildPacket(ipv4({ src: "1.2.3", dst: "1.2.3.4" }))).toThrow(/not an IPv4/);
    expect(() => buildPacket(udp({ sport: 70000, dport: 1 }))).toThrow(/not a u16/);
    expect(() => buildPacket(tcp({ sport: 1, dport: 1, flags: "SX" }))).toThrow(/TCP flag "X"/);
  });
});

describe("addresses", () => {
  it("parse MAC, IPv6 forms and CIDR LPM keys", () => {
    expect(toHex(parseMac("02-00-00-00-00-01"))).toBe("020000000001");
    expect(formatIp(parseIpv6("::ffff:10.0.0.1"))).toBe("0:0:0:0:0:ffff:a00:1");
    expect(toHex(parseIpv6("2001:db8::1"))).toBe("20010db8000000000000000000000001");
    expect(() => parseIpv6("1::2::3")).toThrow(PacketError);
    expect(toHex(lpmKey("10.1.0.0/16"))).toBe("100000000a010000");
    expect(toHex(lpmKey("192.168.1.1"))).toBe("20000000c0a80101");
    expect(toHex(lpmKey("2001:db8::/32")).slice(0, 16)).toBe("2000000020010db8");
    expect(() => lpmKey("10.0.0.0/33")).toThrow(/prefix length/);
    expect(compressV6("2001:db8:0:0:0:0:0:1")).toBe("2001:db8::1");
    expect(compressV6("0:0:0:0:0:0:0:0")).toBe("::");
  });
});

/** A pcapng file: an SHB, then `blocks`, in the byte order asked for. */
function pcapng(le: boolean, blocks: { type: number; body: Uint8Array }[]): Uint8Array {
  const all = [{ type: 0x0a0d0d0a, body: new Uint8Array(16) }, ...blocks];
  const parts: Uint8Array[] = [];
  for (const [i, b] of all.entries()) {
    const len = 12 + Math.ceil(b.body.length / 4) * 4;
    const out = new Uint8Array(len);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, b.type, le);
    dv.setUint32(4, len, le);
    out.set(b.body, 8);
    if (i === 0) {
      dv.setUint32(8, 0x1a2b3c4d, le);
      dv.setUint16(12, 1, le);
      dv.setBigInt64(16, -1n, le);
    }
    dv.setUint32(len - 4, len, le);
    parts.push(out);
  }
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

function body(le: boolean, fields: (number | Uint8Array)[], sizes: number[]): Uint8Array {
  const out: number[] = [];
  fields.forEach((f, i) => {
    if (f instanceof Uint8Array) out.push(...f, ...new Array((4 - (f.length % 4)) % 4).fill(0));
    else {
      const b = new Uint8Array(sizes[i]);
      const dv = new DataView(b.buffer);
      if (sizes[i] === 2) dv.setUint16(0, f, le);
      else dv.setUint32(0, f, le);
      out.push(...b);
    }
  });
  return Uint8Array.from(out);
}

describe("capture files", () => {
  const a = Uint8Array.from(Buffer.from(PACKETS.udp4, "hex"));
  const b = Uint8Array.from(Buffer.from(PACKETS.arp, "hex"));

  it("writes classic pcap and reads it back", () => {
    const file = writePcap([a, { data: b, timestampNs: 1_500_000_123_000n }]);
    expect(isCapture(file)).toBe(true);
    const cap = readCapture(file);
    expect(cap.format).toBe("pcap");
    expect(cap.packets.map((p) => toHex(p.data))).toEqual([PACKETS.udp4, PACKETS.arp]);
    expect(cap.packets[1].timestampNs).toBe(1_500_000_123_000n);
    expect(cap.packets[0].linkType).toBe(1);
  });

  it("reads big-endian and nanosecond pcap", () => {
    const file = new Uint8Array(24 + 16 + a.length);
    const dv = new DataView(file.buffer);
    dv.setUint32(0, 0xa1b23c4d, false); // nanoseconds, big-endian
    dv.setUint32(20, 1, false);
    dv.setUint32(24, 2, false);
    dv.setUint32(28, 999, false);
    dv.setUint32(32, a.length, false);
    dv.setUint32(36, 1000, false);
    file.set(a, 40);
    const [p] = readCapture(file).packets;
    expect(p.timestampNs).toBe(2_000_000_999n);
    expect(p.originalLength).toBe(1000);
    expect(toHex(p.data)).toBe(PACKETS.udp4);
  });

  it.each([true, false])("reads pcapng (little-endian %s): IDB, EPB, SPB, other blocks", (le) => {
    const tsresol = body(le, [9, 1, Uint8Array.of(9), 0, 0], [2, 2, 0, 2, 2]); // 10^-9
    const idb = body(le, [1, 0, 0xffff, tsresol], [2, 2, 4, 0]);
    const epb = body(le, [0, 0, 1_000_000_007, a.length, a.length, a], [4, 4, 4, 4, 4, 0]);
    const spb = body(le, [b.length, b], [4, 0]);
    const file = pcapng(le, [
      { type: 1, body: idb },
      { type: 0x0bad, body: new Uint8Array(8) },
      { type: 6, body: epb },
      { type: 3, body: spb },
    ]);
    const cap = readCapture(file);
    expect(cap.format).toBe("pcapng");
    expect(cap.packets.map((p) => toHex(p.data))).toEqual([PACKETS.udp4, PACKETS.arp]);
    expect(cap.packets[0].timestampNs).toBe(1_000_000_007n);
  });

  it("refuses malformed files with a CaptureError naming the offset", () => {
    const good = writePcap([a]);
    expect(() => readCapture(good.subarray(0, good.length - 3))).toThrow(/offset 24/);
    expect(() => readCapture(Uint8Array.of(1, 2, 3, 4, 5))).toThrow(CaptureError);
    const bad = pcapng(true, [{ type: 6, body: new Uint8Array(20) }]);
    expect(() => readCapture(bad)).toThrow(/unknown interface 0/);
    expect(() => readCapture(pcapng(true, []).subarray(0, 20))).toThrow(CaptureError);
    expect(isCapture(Uint8Array.of(0x7f, 0x45, 0x4c, 0x46))).toBe(false);
  });
});

describe("describePacket", () => {
  it("summarises frames as tcpdump would", () => {
    const hex = (h: string) => Uint8Array.from(Buffer.from(h, "hex"));
    expect(describePacket(hex(PACKETS.tcp4))).toBe(
      "IPv4 10.0.0.1 → 192.168.1.1 TCP 40000 → 80 [S], 54 bytes",
    );
    expect(describePacket(hex(PACKETS.udp6))).toBe(
      "IPv6 2001:db8::1 → 2001:db8::2 UDP 5353 → 53, 74 bytes",
    );
    expect(describePacket(hex(PACKETS.arp))).toBe("ARP who-has 10.0.0.2 tell 10.0.0.1, 42 bytes");
    expect(describePacket(hex(PACKETS.icmp4))).toBe(
      "IPv4 10.0.0.1 → 10.0.0.2 ICMP type 8 code 0, 46 bytes",
    );
    expect(describePacket(new Uint8Array(3))).toBe("truncated frame, 3 bytes");
  });
});
