/**
 * Writes the example packet captures (`examples/*\/traffic.pcap`) with tsbpf's packet
 * builders. Run it after changing a capture: `npx tsx examples/captures.ts`.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  arp,
  buildPacket,
  eth,
  icmp,
  icmpv6,
  ipv4,
  ipv6,
  tcp,
  udp,
  writePcap,
} from "tsbpf/testing";

/** The packets every example capture draws from. */
export const traffic = {
  dns: buildPacket(
    eth(),
    ipv4({ src: "10.0.0.1", dst: "10.1.2.3", id: 1 }),
    udp({ sport: 12345, dport: 53 }),
    "hello tsbpf!",
  ),
  discard: buildPacket(
    eth(),
    ipv4({ src: "10.0.0.1", dst: "10.1.2.3", id: 2 }),
    udp({ sport: 12345, dport: 9 }),
    "to the void",
  ),
  httpSyn: buildPacket(
    eth(),
    ipv4({ src: "10.1.2.3", dst: "192.168.1.1", id: 3, df: true }),
    tcp({ sport: 40000, dport: 80, seq: 1, flags: "S" }),
  ),
  telnetSyn: buildPacket(
    eth(),
    ipv4({ src: "192.168.1.1", dst: "10.0.0.1", id: 4, df: true }),
    tcp({ sport: 40001, dport: 23, seq: 1, flags: "S" }),
  ),
  ping: buildPacket(
    eth(),
    ipv4({ src: "10.1.9.9", dst: "10.0.0.1", id: 5 }),
    icmp({ id: 0x42, seq: 1 }),
    "ping",
  ),
  dns6: buildPacket(
    eth(),
    ipv6({ src: "2001:db8::1", dst: "2001:db8::2" }),
    udp({ sport: 5353, dport: 53 }),
    "hello tsbpf!",
  ),
  ping6: buildPacket(
    eth(),
    ipv6({ src: "2001:db8:bad::1", dst: "2001:db8::2" }),
    icmpv6({ id: 7, seq: 1 }),
  ),
  gre: buildPacket(
    eth(),
    ipv4({ src: "10.0.0.1", dst: "10.0.0.2", id: 6, protocol: 47 }),
    new Uint8Array(4),
  ),
  arp: buildPacket(
    eth({ dst: "ff:ff:ff:ff:ff:ff" }),
    arp({ senderIp: "10.0.0.1", targetIp: "10.0.0.2" }),
  ),
};

const t = traffic;
/** Which packets each example's capture holds, in order. */
export const captures: Record<string, Uint8Array[]> = {
  firewall: [t.dns, t.httpSyn, t.ping, t.dns6, t.ping6, t.arp, t.telnetSyn],
  dispatcher: [t.dns, t.discard, t.httpSyn, t.telnetSyn, t.ping, t.dns6, t.ping6, t.gre, t.arp],
  "ringbuf-logger": [t.dns, t.httpSyn, t.ping, t.arp, t.telnetSyn, t.dns6],
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [dir, packets] of Object.entries(captures)) {
    const file = fileURLToPath(new URL(`./${dir}/traffic.pcap`, import.meta.url));
    writeFileSync(file, writePcap(packets));
    console.log(`  examples/${dir}/traffic.pcap: ${packets.length} packets`);
  }
}
