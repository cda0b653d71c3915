/**
 * The `tsbpf` CLI: the contract's forms (DESIGN.md "CLI contract") and what eBPF developers
 * expect from bpftool and llvm-objdump (DESIGN.md "Conventions users already know").
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { traffic } from "../examples/captures.js";
import { kernelAvailable } from "../src/kernel/runner.js";
import { toHex } from "../src/runtime/dump.js";
import { writePcap } from "../src/testing/pcap.js";
import { cli, cliProcess, ROOT, runJson } from "./cli-harness.js";

const ABC = "examples/abc/abc.bpf.o";
const SELF = "examples/self-tail/self_tail.bpf.o";
const FIB = "examples/fib/fib.bpf.o";
const DISP = "examples/dispatcher/dispatcher.bpf.o";
const FW = "examples/firewall/firewall.bpf.o";
const LOG = "examples/ringbuf-logger/logger.bpf.o";
const tmp = mkdtempSync(join(tmpdir(), "tsbpf-cli-"));

describe("run --json (the contract)", () => {
  it("prints exactly one object with retval, duration_ns, data_out, maps", async () => {
    const r = await cli("run", ABC, "--json");
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j)).toEqual(["retval", "duration_ns", "data_out", "maps"]);
    expect(j.retval).toBe(2);
    expect(Number.isInteger(j.duration_ns)).toBe(true);
    expect(j.data_out).toBe("00".repeat(64));
    expect(j.maps["abc.bss"]).toEqual({
      "00000000": "020000004142436100000000000000000000000004000000",
    });
  });

  it("sends --trace to stderr and keeps stdout one object", async () => {
    const r = await cli("run", ABC, "--json", "--trace");
    expect(JSON.parse(r.stdout).retval).toBe(2);
    expect(r.stderr).toContain("chain: prog_a → sub_b ⇒ prog_c ↩ prog_a");
  });

  it("applies steps left to right in one load", async () => {
    const j = await runJson(
      SELF,
      "--run",
      "--clear",
      "jmp_self=0",
      "--run",
      "--slots",
      "jmp_self=0:self_tail",
    );
    expect(j.retval).toBe(34);
    // 34 + 1 + 34 runs; fall-throughs: the budget, the empty slot, the budget
    expect(j.maps.runs).toEqual({ "00000000": "4500000000000000", "01000000": "0300000000000000" });
  });

  it("takes the packet from --data-file: raw bytes, or a capture's packet", async () => {
    const raw = join(tmp, "syn.bin");
    writeFileSync(raw, traffic.httpSyn);
    expect((await runJson(DISP, "--data-file", raw)).data_out).toContain(toHex(traffic.httpSyn));
    const pcap = join(tmp, "two.pcap");
    writeFileSync(pcap, writePcap([traffic.dns, traffic.telnetSyn]));
    expect((await runJson(DISP, "--data-file", pcap)).retval).toBe(2);
    expect((await runJson(DISP, "--data-file", pcap, "--packet", "1")).retval).toBe(1);
  });

  it("sets globals before load (--set)", async () => {
    expect((await runJson(FIB, "--set", "default_n=20")).retval).toBe(6765);
    expect((await runJson(FIB, "--set", "default_n=0x10")).retval).toBe(987);
  });

  it("writes data_out to a file (--data-out)", async () => {
    const f = join(tmp, "out.bin");
    await cli("run", SELF, "--data-out", f);
    expect(readFileSync(f)[0]).toBe(34);
  });
});

describe("run, for people", () => {
  it("prints like bpftool prog run, maps like bpftool map dump", async () => {
    const r = await cli("run", ABC);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(/^Return value: 2 \(XDP_PASS\), duration \(average\): \d+ns$/);
    expect(lines).toContain("0000000\t0000 0000 0000 0000 0000 0000 0000 0000 | ........ ........");
    expect(r.stdout).toContain('  path = "ABCa"');
    expect(r.stdout).toContain("  b_returned = 2");
  });

  it("decodes struct and LPM keys and values by BTF", async () => {
    const key = "100000000a010000"; // 10.1.0.0/16
    const r = await cli(
      "run",
      FW,
      "--data",
      toHex(traffic.httpSyn),
      "--update",
      `blocklist_v4=${key}:0700000000000000`,
    );
    expect(r.stdout).toContain("Return value: 1 (XDP_DROP)");
    expect(r.stdout).toContain(
      'key: {"prefixlen": 16, "addr": [10, 1, 0, 0]}  value: {"id": 7, "hits": 1}',
    );
    expect(r.stdout).toContain('key: 1  value: {"packets": 1, "bytes": 54}');
    expect(r.stdout).toContain(
      'last_block = {"rule_id": 7, "family": "FAMILY_IPV4", "verdict": 1}',
    );
  });

  it("shows ring buffer records (typed with --ringbuf-type) and bpf_printk lines", async () => {
    const r = await cli(
      "run",
      LOG,
      "--data",
      toHex(traffic.httpSyn),
      "--ringbuf-type",
      "events=struct event",
    );
    expect(r.stdout).toContain("ringbuf events: 1 record");
    expect(r.stdout).toContain(
      '{"seq": 0, "saddr": 50462986, "daddr": 16885952, "sport": 40000, "dport": 80',
    );
    expect(r.stdout).toMatch(
      /tsbpf-1 +\[000\] d\.\.31 +0\.000000: bpf_trace_printk: tcp 40000 -> 80, 54 bytes/,
    );
  });
});

describe("run --trace", () => {
  it("draws A → B ⇒ C ↩ A with frames, functions, source lines and the budget", async () => {
    const r = await cli("run", ABC, "--trace");
    const t = r.stdout;
    expect(t).toContain("→ prog_a  frame 0");
    expect(t).toMatch(
      /│ → sub_b {2}call, frame 1 {2}\[prog_a pc \d+\] {2}; int verdict = sub_b\(ctx\);/,
    );
    expect(t).toMatch(
      /⇒ tail call jmp_table\[0\] → prog_c {2}\[sub_b, prog_a pc \d+\] {2}32 tail calls left/,
    );
    expect(t).toContain("→ prog_c  replaces sub_b on frame 1");
    expect(t).toContain("↩ prog_c returns 2 to prog_a, as sub_b's result");
    expect(t).toContain("← exit r0 = 2 (XDP_PASS)");
    expect(t).toContain("chain: prog_a → sub_b ⇒ prog_c ↩ prog_a");
  });

  it("names why a tail call failed", async () => {
    const empty = await cli("run", ABC, "--trace", "--clear", "jmp_table=0");
    expect(empty.stdout).toMatch(/✗ tail call jmp_table\[0\] failed: empty slot, falls through/);
    expect(empty.stdout).toContain("chain: prog_a → sub_b ✗ (empty slot) ↩ prog_a");
    const budget = await cli("run", SELF, "--trace");
    expect(budget.stdout).toContain("failed: budget exhausted");
    expect(budget.stdout).toContain("0 tail calls left");
    expect(budget.stdout).toContain("chain: self_tail ⇒ self_tail ×33 ✗ (budget exhausted)");
  });

  it("refuses --trace with the kernel engine", async () => {
    const r = await cli("run", ABC, "--trace", "--engine", "kernel");
    expect(r.code).toBe(2);
  });
});

describe("disasm", () => {
  it("prints llvm-objdump syntax with source lines, maps, helpers and labels", async () => {
    const r = await cli("disasm", ABC);
    const t = r.stdout;
    expect(t).toContain("0000000000000000 <prog_a>:");
    expect(t).toMatch(/^; int verdict = sub_b\(ctx\);$/m);
    expect(t).toMatch(/^ +\d+:\tcall 0x[0-9a-f]+ <sub_b>$/m);
    expect(t).toMatch(/^ +\d+:\tr2 = 0x0 ll {2}; map jmp_table$/m);
    expect(t).toMatch(/^ +\d+:\tcall 0xc {2}; bpf_tail_call\(jmp_table\[0\] → prog_c\)$/m);
    expect(t).toMatch(/r\d = 0x0 ll {2}; &path \(abc\.bss\)/);
    expect(t).toMatch(/goto \+0x5 <prog_a\+0x48>/);
  });

  it("lists the static slots of a computed tail call; --linum adds file:line", async () => {
    const r = await cli("disasm", DISP, "--prog", "dispatch", "--linum");
    expect(r.stdout).toContain(
      "bpf_tail_call(handlers[r3]; at load: 1 → handle_icmp, 6 → handle_tcp, 17 → handle_udp)",
    );
    expect(r.stdout).toMatch(
      /^; \.\/dispatcher\.bpf\.c:\d+: bpf_tail_call\(ctx, &handlers, m\.proto\);$/m,
    );
    expect(r.stdout).toMatch(/^ +\d+:\tcall 0x1 {2}; bpf_map_lookup_elem$/m);
  });

  it("--syntax conformance round-trips through asm", async () => {
    const s = join(tmp, "c.s");
    const r = await cli("disasm", SELF, "--syntax", "conformance");
    writeFileSync(s, r.stdout);
    expect((await cli("asm", s, "-o", join(tmp, "c.bin"))).code).toBe(0);
    const back = await cli("disasm", join(tmp, "c.bin"), "--syntax", "conformance");
    const strip = (x: string) =>
      x
        .split("\n")
        .filter((l) => l && !l.startsWith("#") && !l.endsWith(":"))
        .map((l) => l.replace(/\s+#.*$/, ""));
    expect(strip(back.stdout)).toEqual(strip(r.stdout));
  });

  it("names a missing program (exit 1)", async () => {
    const r = await cli("disasm", ABC, "--prog", "nope");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no program named "nope" (programs: prog_a, prog_c)');
  });
});

describe("inspect", () => {
  it("lists programs, maps with BTF types, helpers, static slots (--json)", async () => {
    const j = JSON.parse((await cli("inspect", DISP, "--json")).stdout);
    expect(j.license).toBe("GPL");
    expect(j.programs.map((p: { name: string }) => p.name)).toEqual([
      "dispatch",
      "handle_icmp",
      "handle_tcp",
      "handle_udp",
    ]);
    expect(j.programs[0]).toMatchObject({
      section: "xdp",
      type: 6,
      type_name: "xdp",
      helpers: [
        "bpf_map_lookup_elem",
        "bpf_map_update_elem",
        "bpf_tail_call",
        "bpf_xdp_adjust_meta",
      ],
    });
    const handlers = j.maps.find((m: { name: string }) => m.name === "handlers");
    expect(handlers).toMatchObject({
      type: "BPF_MAP_TYPE_PROG_ARRAY",
      max_entries: 256,
      initial_slots: [
        { key: 1, target: "handle_icmp" },
        { key: 6, target: "handle_tcp" },
        { key: 17, target: "handle_udp" },
      ],
    });
    const ports = j.maps.find((m: { name: string }) => m.name === "udp_ports");
    expect(ports).toMatchObject({ key_type: "__u16", value_type: "__u64", key_size: 2 });
  });

  it("prints subprograms and flags for people", async () => {
    const t = (await cli("inspect", ABC)).stdout;
    expect(t).toContain("subprograms: sub_b");
    expect(t).toContain("flags BPF_F_MMAPABLE");
    expect(t).toContain("[0] = prog_c");
  });
});

describe("pcap", () => {
  it("runs every packet in one load and sums up", async () => {
    const r = await cli(
      "pcap",
      FW,
      "examples/firewall/traffic.pcap",
      "--update",
      "blocklist_v4=100000000a010000:0700000000000000",
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      / 1 {2}1 XDP_DROP +IPv4 10\.1\.2\.3 → 192\.168\.1\.1 TCP 40000 → 80 \[S\], 54 bytes/,
    );
    expect(r.stdout).toMatch(/1 \(XDP_DROP\) +2\n/);
    expect(r.stdout).toMatch(/2 \(XDP_PASS\) +5\n/);
    expect(r.stdout).toContain('value: {"id": 7, "hits": 2}');
  });

  it("prints NDJSON with --json", async () => {
    const r = await cli(
      "pcap",
      LOG,
      "examples/ringbuf-logger/traffic.pcap",
      "--json",
      "--limit",
      "2",
      "--ringbuf-type",
      "events=event",
    );
    const lines = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type)).toEqual([
      "packet",
      "ringbuf",
      "printk",
      "packet",
      "ringbuf",
      "summary",
    ]);
    expect(lines[1].data.formatted).toMatchObject({
      seq: 0,
      sport: 12345,
      dport: 53,
      protocol: 17,
    });
    expect(lines[2].data).toEqual({ packet: 1, line: "tcp 40000 -> 80, 54 bytes" });
    expect(lines[5].data.maps.stats).toEqual({ "00000000": "0200000000000000" });
  });

  it("rejects a file that is not a capture", async () => {
    const r = await cli("pcap", FW, FW, "--json");
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error).toMatch(/not a pcap or pcapng file/);
  });
});

describe("errors", () => {
  it("usage errors exit 2, input errors 1; --json adds {error}", async () => {
    const usage = await cli("run", ABC, "--bogus", "--json");
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stdout).error).toContain("--bogus");
    const badHex = await cli("run", ABC, "--data", "zz");
    expect(badHex.code).toBe(2);
    expect(badHex.stderr).toBe('tsbpf: --data: not a hex byte string: "zz"\n');
    const missing = await cli("run", "nope.o", "--json");
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout).error).toContain("nope.o");
    const slot = await cli("run", ABC, "--slots", "jmp_table=0:nope");
    expect(slot.code).toBe(1);
    expect(slot.stderr).toContain('no program named "nope"');
    const execHex = await cli("exec", ABC, "--mem", "zz");
    expect(execHex.code).toBe(2);
    expect(execHex.stderr).toBe('tsbpf: --mem: not a hex byte string: "zz"\n');
  });

  it("never prints a stack trace, and ends quietly on a closed pipe", () => {
    const r = cliProcess(["run", "test/fixtures/KERNEL-FACTS.md"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tsbpf: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const piped = spawnSync(
      "sh",
      ["-c", `"${process.execPath}" --import tsx src/cli/main.ts run ${SELF} --trace | head -1`],
      { cwd: ROOT, encoding: "utf8" },
    );
    expect(piped.stdout).toBe("→ self_tail  frame 0\n");
    expect(piped.stderr).toBe("");
  });

  it("prints --version and --help", async () => {
    expect((await cli("--version")).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const help = await cli("run", "--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--slots <spec>");
  });
});

describe.skipIf(!kernelAvailable().ok)("run --engine kernel", () => {
  it("prints the bpftool-like report of Linux's run", async () => {
    const r = await cli("run", ABC, "--engine", "kernel");
    expect(r.stdout).toMatch(
      /^Return value: 2 \(XDP_PASS\), duration \(average\): \d+ns \(Linux kernel\)/,
    );
    expect(r.stdout).toContain('path = "ABCa"');
  });
});
