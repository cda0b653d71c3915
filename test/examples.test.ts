/**
 * Every example of examples/ on every engine, through the CLI (`tsbpf run … --json`), with
 * exact results: return value, packet out, and each map decoded by its BTF types. Where the
 * kernel can be used, Linux (BPF_PROG_TEST_RUN) must print exactly what the interpreter
 * prints, minus the duration.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { captures, traffic } from "../examples/captures.js";
import { kernelAvailable } from "../src/kernel/runner.js";
import { loadCollectionSpecFile } from "../src/node.js";
import { fromHex, toHex } from "../src/runtime/dump.js";
import { stringifyBtfValue, type BtfValue } from "../src/testing/btf-value.js";
import { isGlobalData, formatKey, formatValue } from "../src/testing/map-format.js";
import { lpmKey } from "../src/testing/addr.js";
import { readCapture } from "../src/testing/pcap.js";
import { runJson, cli } from "./cli-harness.js";
import { availableEngines } from "./engines.js";

await import("../src/jit/index.js").catch(() => undefined);
const engines = availableEngines();
const avail = kernelAvailable();
if (!avail.ok) console.warn(`examples in the kernel skipped: ${avail.reason}`);

/** Maps decoded by BTF: global data as `{var: value}`, others as `{KEY: value}`. */
function readable(obj: string, maps: Record<string, Record<string, string>>) {
  const spec = loadCollectionSpecFile(obj);
  const out: Record<string, Record<string, BtfValue>> = {};
  for (const [name, entries] of Object.entries(maps)) {
    const m = spec.maps.find((x) => x.name === name);
    if (m === undefined) throw new Error(`no map ${name}`);
    const dec: Record<string, BtfValue> = {};
    for (const [k, v] of Object.entries(entries)) {
      const value = formatValue(spec, m, fromHex(v));
      if (isGlobalData(spec, m)) {
        const vars = Object.values(value as Record<string, BtfValue[]>)[0];
        for (const entry of vars) Object.assign(dec, entry);
      } else dec[stringifyBtfValue(formatKey(spec, m, fromHex(k)))] = value;
    }
    out[name] = dec;
  }
  return out;
}

const t = traffic;
const hex = toHex;
const n = (first: number) => first.toString(16).padStart(2, "0") + "00".repeat(13);
const rule = (id: number) => hex(new Uint8Array(new Uint32Array([id, 0]).buffer));
const block4 = ["--update", `blocklist_v4=${hex(lpmKey("10.1.0.0/16"))}:${rule(7)}`];
const block6 = ["--update", `blocklist_v6=${hex(lpmKey("2001:db8:bad::/48"))}:${rule(9)}`];
const noBlocks = { blocklist_v4: {}, blocklist_v6: {} };
const fwRodata = { "firewall.rodata": {} };

interface Scenario {
  name: string;
  obj: string;
  data?: string;
  args?: string[];
  retval: number;
  /** Expected data_out (default: the input, or 64 zero bytes). */
  dataOut?: string;
  maps: Record<string, Record<string, BtfValue>>;
}

const ABC = "examples/abc/abc.bpf.o";
const SELF = "examples/self-tail/self_tail.bpf.o";
const FIB = "examples/fib/fib.bpf.o";
const FW = "examples/firewall/firewall.bpf.o";
const DISP = "examples/dispatcher/dispatcher.bpf.o";
const LOG = "examples/ringbuf-logger/logger.bpf.o";
const fib = (n: number, steps: number, a: number, b: number, exhausted = 0) => ({
  state: { "0": { n, steps, a, b, exhausted, pad: 0 } },
  "fib.rodata": { default_n: 30 },
});
const disp = (
  proto: number,
  counters: Record<string, number>,
  last: string | undefined,
  ports: Record<string, number> = {},
) => ({
  packets: { [String(proto)]: 1 },
  udp_ports: ports,
  counters,
  "dispatch.bss": (last ? { last_proto: last } : {}) as Record<string, BtfValue>,
});
/** data_out of a dispatched packet: the 4-byte metadata (l4_off, proto, family), then it. */
const meta = (l4: number, proto: number, family: number, p: Uint8Array) =>
  hex(Uint8Array.of(l4, 0, proto, family)) + hex(p);

const scenarios: Scenario[] = [
  {
    name: "abc: A calls B, B tail-calls C, C's return lands in A",
    obj: ABC,
    retval: 2,
    maps: {
      "abc.data": { b_verdict: 1 },
      "abc.bss": { b_returned: 2, path: "ABCa", steps: 4 },
    },
  },
  {
    name: "abc: with the slot empty the rest of B runs",
    obj: ABC,
    args: ["--clear", "jmp_table=0"],
    retval: 1,
    maps: {
      "abc.data": { b_verdict: 1 },
      "abc.bss": { b_returned: 1, path: "ABba", steps: 4 },
    },
  },
  {
    name: "self-tail: 34 runs per run",
    obj: SELF,
    retval: 34,
    dataOut: "22" + "00".repeat(63),
    maps: { runs: { "0": 34, "1": 1 } },
  },
  {
    name: "self-tail: the budget is reset each run",
    obj: SELF,
    args: ["--run"],
    retval: 34,
    dataOut: "22" + "00".repeat(63),
    maps: { runs: { "0": 68, "1": 2 } },
  },
  { name: "fib(30)", obj: FIB, retval: 832040, maps: fib(0, 30, 832040, 1346269) },
  { name: "fib(10)", obj: FIB, data: n(10), retval: 55, maps: fib(0, 10, 55, 89) },
  { name: "fib(32)", obj: FIB, data: n(32), retval: 2178309, maps: fib(0, 32, 2178309, 3524578) },
  {
    name: "fib(33) runs out of tail calls",
    obj: FIB,
    data: n(33),
    retval: 0xffffffff,
    maps: fib(0, 33, 3524578, 5702887, 1),
  },
  {
    name: "firewall: passes a source outside the blocklist",
    obj: FW,
    data: hex(t.dns),
    args: block4,
    retval: 2,
    maps: {
      blocklist_v4: { '{"prefixlen": 16, "addr": [10, 1, 0, 0]}': { id: 7, hits: 0 } },
      blocklist_v6: {},
      stats: { "2": { packets: 1, bytes: 54 } },
      ...fwRodata,
      "firewall.bss": {},
    },
  },
  {
    name: "firewall: drops 10.1.2.3 (10.1.0.0/16), twice",
    obj: FW,
    data: hex(t.httpSyn),
    args: [...block4, "--run"],
    retval: 1,
    maps: {
      blocklist_v4: { '{"prefixlen": 16, "addr": [10, 1, 0, 0]}': { id: 7, hits: 2 } },
      blocklist_v6: {},
      stats: { "1": { packets: 2, bytes: 108 } },
      ...fwRodata,
      "firewall.bss": { last_block: { rule_id: 7, family: "FAMILY_IPV4", verdict: 1 } },
    },
  },
  {
    name: "firewall: drops 2001:db8:bad::1 (2001:db8:bad::/48)",
    obj: FW,
    data: hex(t.ping6),
    args: block6,
    retval: 1,
    maps: {
      blocklist_v4: {},
      blocklist_v6: {
        '{"prefixlen": 48, "addr": [32, 1, 13, 184, 11, 173, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]}': {
          id: 9,
          hits: 1,
        },
      },
      stats: { "1": { packets: 1, bytes: 62 } },
      ...fwRodata,
      "firewall.bss": { last_block: { rule_id: 9, family: "FAMILY_IPV6", verdict: 1 } },
    },
  },
  {
    name: "firewall: ARP passes",
    obj: FW,
    data: hex(t.arp),
    retval: 2,
    maps: {
      ...noBlocks,
      stats: { "2": { packets: 1, bytes: 42 } },
      ...fwRodata,
      "firewall.bss": {},
    },
  },
  {
    name: "dispatcher: UDP 53 → handle_udp, passes",
    obj: DISP,
    data: hex(t.dns),
    retval: 2,
    dataOut: meta(34, 17, 4, t.dns),
    maps: disp(17, {}, "PROTO_UDP", { "53": 1 }),
  },
  {
    name: "dispatcher: UDP 9 → handle_udp, dropped",
    obj: DISP,
    data: hex(t.discard),
    retval: 1,
    dataOut: meta(34, 17, 4, t.discard),
    maps: disp(17, { "2": 1 }, "PROTO_UDP", { "9": 1 }),
  },
  {
    name: "dispatcher: TCP SYN to 80 → handle_tcp, passes",
    obj: DISP,
    data: hex(t.httpSyn),
    retval: 2,
    dataOut: meta(34, 6, 4, t.httpSyn),
    maps: disp(6, { "0": 1 }, "PROTO_TCP"),
  },
  {
    name: "dispatcher: TCP SYN to 23 → handle_tcp, dropped",
    obj: DISP,
    data: hex(t.telnetSyn),
    retval: 1,
    dataOut: meta(34, 6, 4, t.telnetSyn),
    maps: disp(6, { "0": 1, "2": 1 }, "PROTO_TCP"),
  },
  {
    name: "dispatcher: ICMP echo → handle_icmp",
    obj: DISP,
    data: hex(t.ping),
    retval: 2,
    dataOut: meta(34, 1, 4, t.ping),
    maps: disp(1, { "1": 1 }, "PROTO_ICMP"),
  },
  {
    name: "dispatcher: IPv6 UDP → handle_udp",
    obj: DISP,
    data: hex(t.dns6),
    retval: 2,
    dataOut: meta(54, 17, 6, t.dns6),
    maps: disp(17, {}, "PROTO_UDP", { "53": 1 }),
  },
  {
    name: "dispatcher: ICMPv6 finds an empty slot, falls through",
    obj: DISP,
    data: hex(t.ping6),
    retval: 2,
    dataOut: meta(54, 58, 6, t.ping6),
    maps: disp(58, { "3": 1 }, undefined),
  },
  {
    name: "dispatcher: GRE finds an empty slot, falls through",
    obj: DISP,
    data: hex(t.gre),
    retval: 2,
    dataOut: meta(34, 47, 4, t.gre),
    maps: disp(47, { "3": 1 }, undefined),
  },
  {
    name: "dispatcher: ARP is not dispatched",
    obj: DISP,
    data: hex(t.arp),
    retval: 2,
    maps: { packets: {}, udp_ports: {}, counters: {}, "dispatch.bss": {} },
  },
  {
    name: "ringbuf-logger: logs TCP",
    obj: LOG,
    data: hex(t.httpSyn),
    args: ["--run"],
    retval: 2,
    maps: {
      stats: { "0": 2 },
      "logger.bss": { seq: 2, unused_event: 0 },
      "logger.rodata": { "xdp_logger.____fmt": "tcp %u -> %u, %u bytes" },
    },
  },
  {
    name: "ringbuf-logger: skips ARP",
    obj: LOG,
    data: hex(t.arp),
    retval: 2,
    maps: {
      stats: { "2": 1 },
      "logger.bss": {},
      "logger.rodata": { "xdp_logger.____fmt": "tcp %u -> %u, %u bytes" },
    },
  },
];

const argsOf = (s: Scenario) => [s.obj, ...(s.data ? ["--data", s.data] : []), ...(s.args ?? [])];

describe.each(engines)("examples on the %s engine", (engine) => {
  it.each(scenarios)("$name", async (s) => {
    const r = await runJson(...argsOf(s), "--engine", engine);
    expect(r.retval).toBe(s.retval);
    expect(r.data_out).toBe(s.dataOut ?? s.data ?? "00".repeat(64));
    expect(readable(s.obj, r.maps)).toEqual(s.maps);
  });
});

describe.skipIf(!avail.ok)("examples in the Linux kernel", () => {
  it.each(scenarios)("$name: the kernel prints what the interpreter prints", async (s) => {
    const { duration_ns: _k, ...kernel } = await runJson(...argsOf(s), "--engine", "kernel");
    const { duration_ns: _i, ...interp } = await runJson(...argsOf(s), "--engine", "interp");
    expect(kernel).toEqual(interp);
  });
});

describe("example captures", () => {
  it("are what examples/captures.ts writes", () => {
    for (const [dir, packets] of Object.entries(captures)) {
      const cap = readCapture(new Uint8Array(readFileSync(`examples/${dir}/traffic.pcap`)));
      expect(cap.packets.map((p) => hex(p.data))).toEqual(packets.map(hex));
    }
  });

  it("the dispatcher's capture through `tsbpf pcap`", async () => {
    const r = await cli("pcap", DISP, "examples/dispatcher/traffic.pcap", "--json");
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const retvals = lines.filter((l) => l.type === "packet").map((l) => l.data.retval);
    expect(retvals).toEqual([2, 1, 2, 1, 2, 2, 2, 2, 2]);
    const summary = lines.at(-1);
    expect(summary.type).toBe("summary");
    expect(summary.data.retvals).toEqual({ 1: 2, 2: 7 });
    expect(readable(DISP, summary.data.maps)).toEqual({
      packets: { "1": 1, "6": 2, "17": 3, "47": 1, "58": 1 },
      udp_ports: { "9": 1, "53": 2 },
      counters: { "0": 2, "1": 1, "2": 2, "3": 2 },
      "dispatch.bss": { last_proto: "PROTO_UDP" },
    });
  });
});
