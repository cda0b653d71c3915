/**
 * `tsbpf/testing`: unit-test eBPF programs from any JavaScript test runner (vitest, jest,
 * mocha, node:test). Load an object, build packets, run programs, read and assert maps:
 *
 * ```ts
 * import { loadObject, buildPacket, eth, ipv4, udp, lpmKey, assertRetval } from "tsbpf/testing";
 *
 * const fw = loadObject("examples/firewall/firewall.bpf.o");
 * fw.map("blocklist_v4").set(lpmKey("10.1.0.0/16"), 7n);
 * const pkt = buildPacket(eth(), ipv4({ src: "10.1.2.3", dst: "10.0.0.1" }), udp({ sport: 1, dport: 53 }));
 * assertRetval(fw.run(pkt), "XDP_DROP");
 * ```
 *
 * Importing this module registers every engine the build has (the interpreter, and the
 * WebAssembly JIT when present), so `loadObject(path, { engine: "jit" })` works. Node only
 * (it reads files).
 * @packageDocumentation
 */
export { registeredEngines } from "./engines.js";
export {
  loadObject,
  toBytes,
  fromBytes,
  toPacket,
  TestObject,
  TestMap,
  type BytesLike,
  type PacketLike,
  type LoadObjectOptions,
  type TestRunOptions,
  type TestRunResult,
} from "./object.js";
export {
  buildPacket,
  inetChecksum,
  eth,
  vlan,
  ipv4,
  ipv6,
  udp,
  tcp,
  icmp,
  icmpv6,
  arp,
  payload,
  type Layer,
  type EthOptions,
  type VlanOptions,
  type Ipv4Options,
  type Ipv6Options,
  type UdpOptions,
  type TcpOptions,
  type IcmpOptions,
  type ArpOptions,
} from "./packet.js";
export { parseMac, parseIpv4, parseIpv6, parseIp, formatIp, lpmKey, PacketError } from "./addr.js";
export {
  readCapture,
  writePcap,
  isCapture,
  CaptureError,
  LINKTYPE_ETHERNET,
  type Capture,
  type CapturedPacket,
  type PacketToWrite,
} from "./pcap.js";
export { decodeBtfValue, stringifyBtfValue, type BtfValue } from "./btf-value.js";
export { describePacket, compressV6 } from "./dissect.js";
export {
  bpftoolEntries,
  formatKey,
  formatValue,
  isPerCpu,
  type BpftoolEntry,
} from "./map-format.js";
export {
  AssertionError,
  assertRetval,
  assertPacket,
  assertMapValue,
  retvalByName,
  XDP_ABORTED,
  XDP_DROP,
  XDP_PASS,
  XDP_TX,
  XDP_REDIRECT,
  TC_ACT_OK,
  TC_ACT_SHOT,
  TC_ACT_REDIRECT,
} from "./assert.js";
