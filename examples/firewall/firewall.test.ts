/**
 * Unit tests of the XDP firewall, as an eBPF developer would write them for CI: no root, no
 * VM, no kernel. Copy this file next to your own program and change the names.
 *
 *   npx vitest run examples/firewall/firewall.test.ts
 *
 * `tsbpf/testing` loads the object, builds packets with valid checksums, runs the program as
 * BPF_PROG_TEST_RUN does and reads maps decoded by their BTF types. The same tests run on
 * each engine tsbpf has.
 */
import { beforeEach, describe, expect, it } from "vitest";
import {
  assertMapValue,
  assertRetval,
  buildPacket,
  eth,
  icmp,
  ipv4,
  ipv6,
  lpmKey,
  loadObject,
  registeredEngines,
  tcp,
  udp,
  XDP_DROP,
  XDP_PASS,
  type TestObject,
} from "tsbpf/testing";

const OBJECT = new URL("./firewall.bpf.o", import.meta.url).pathname;

/** `struct rule { __u32 id; __u32 hits; }` as the map stores it. */
const rule = (id: number) => BigInt(id); // hits (the high half) start at 0

describe.each(registeredEngines())("firewall on %s", (engine) => {
  let fw: TestObject;

  beforeEach(() => {
    fw = loadObject(OBJECT, { engine });
    fw.map("blocklist_v4").set(lpmKey("10.1.0.0/16"), rule(7));
    fw.map("blocklist_v6").set(lpmKey("2001:db8:bad::/48"), rule(9));
  });

  it("drops TCP from a blocked IPv4 prefix and counts the hit", () => {
    const syn = buildPacket(
      eth(),
      ipv4({ src: "10.1.2.3", dst: "192.168.1.1" }),
      tcp({ sport: 40000, dport: 80, flags: "S" }),
    );
    const r = fw.run(syn);
    assertRetval(r, "XDP_DROP");
    assertMapValue(fw.map("blocklist_v4"), lpmKey("10.1.0.0/16"), { id: 7, hits: 1 });
    assertMapValue(fw.map("stats"), XDP_DROP, { packets: 1, bytes: syn.length });
    expect(fw.map("firewall.bss").getFormatted(0)).toEqual({
      ".bss": [{ last_block: { rule_id: 7, family: "FAMILY_IPV4", verdict: XDP_DROP } }],
    });
  });

  it("passes other sources, IPv6 outside the blocklist and non-IP frames", () => {
    const packets = [
      buildPacket(
        eth(),
        ipv4({ src: "10.2.0.1", dst: "10.0.0.1" }),
        udp({ sport: 1, dport: 53 }),
        "q",
      ),
      buildPacket(eth(), ipv4({ src: "10.0.0.1", dst: "10.1.2.3" }), icmp({ id: 1, seq: 1 })),
      buildPacket(
        eth(),
        ipv6({ src: "2001:db8::1", dst: "2001:db8::2" }),
        udp({ sport: 1, dport: 53 }),
      ),
      buildPacket(eth({ type: 0x88cc }), new Uint8Array(46)), // LLDP
    ];
    for (const p of packets) expect(fw.test(p)).toBe(XDP_PASS);
    expect(fw.map("stats").getFormatted(XDP_PASS)).toEqual({
      packets: 4,
      bytes: packets.reduce((n, p) => n + p.length, 0),
    });
    assertMapValue(fw.map("stats"), XDP_DROP, { packets: 0, bytes: 0 });
  });

  it("matches the longest prefix, over IPv6 too", () => {
    const from = (src: string) =>
      buildPacket(eth(), ipv6({ src, dst: "2001:db8::2" }), udp({ sport: 5353, dport: 53 }));
    expect(fw.test(from("2001:db8:bad:1::5"))).toBe(XDP_DROP);
    expect(fw.test(from("2001:db8:bae::1"))).toBe(XDP_PASS);
    expect(fw.map("blocklist_v6").formatted()).toEqual([
      {
        key: { prefixlen: 48, addr: [0x20, 0x01, 0x0d, 0xb8, 0x0b, 0xad, ...Array(10).fill(0)] },
        value: { id: 9, hits: 1 },
      },
    ]);
  });

  it("stops blocking when the rule is deleted", () => {
    const p = buildPacket(
      eth(),
      ipv4({ src: "10.1.0.9", dst: "10.0.0.1" }),
      udp({ sport: 1, dport: 2 }),
    );
    expect(fw.test(p)).toBe(XDP_DROP);
    fw.map("blocklist_v4").delete(lpmKey("10.1.0.0/16"));
    expect(fw.test(p)).toBe(XDP_PASS);
  });
});
