import { describe, expect, it } from "vitest";
import { BPF_FUNC as F } from "../src/helpers/index.js";
import { MemoryAccessError } from "../src/errors.js";
import { Bench, le64, type Arg } from "./helpers-harness.js";

/** bpf_trace_printk(fmt, a1..a3): [r0, printed lines]. */
function printk(fmt: string, ...args: Arg[]): [number, string[]] {
  const b = new Bench();
  const f = b.str(fmt, true);
  const r = b.int(F.trace_printk, f, fmt.length + 1, ...args);
  return [r, b.printed];
}

describe("bpf_trace_printk", () => {
  it("formats integers as the kernel does", () => {
    const cases: Array<[string, Arg[], string]> = [
      ["%d %i %u", [-1, -2, -1], "-1 -2 4294967295"],
      ["%ld %lld %lu", [-1, -(1n << 40n), -1], "-1 -1099511627776 18446744073709551615"],
      ["%x %X %lx", [0xabcdef, 0xabcdef, 1n << 36n], "abcdef ABCDEF 1000000000"],
      ["%llX %llx", [0xfedcba9876543210n, -2], "FEDCBA9876543210 fffffffffffffffe"],
      ["%d", [0x1_0000_0005n], "5"], // int: the low 32 bits
      ["[%5d|%-5d|%05d]", [42, 42, -42], "[   42|42   |-0042]"],
      ["[%+d|% d|%+d]", [7, 7, -7], "[+7| 7|-7]"],
      ["[%-05d|%+05d|% 4d]", [3, 3, 3], "[3    |+0003|   3]"],
      ["[%08x|%-8x|%+u]", [0xbeef, 0xbeef, 3], "[0000beef|beef    |3]"],
      ["100%% %c%c", [0x6f, 0x6b], "100% ok"],
      ["[%3c|%-3c]", [0x41, 0x42], "[  A|B  ]"],
      ["line\n", [], "line\n"],
      ["%p %px", [0x1234n, -1], "0000000000001234 ffffffffffffffff"],
      ["%pK|%ps|%pS", [0x10, 0xff, 0x1000], "0000000000000010|0xff|0x1000"],
    ];
    for (const [fmt, args, want] of cases) {
      const [r, out] = printk(fmt, ...args);
      expect(out, fmt).toEqual([want]);
      expect(r, fmt).toBe(want.length);
    }
  });

  it("reads strings and IP addresses from program memory", () => {
    const b = new Bench();
    const s = b.str("world", true);
    const ip4 = b.region(4, [192, 168, 0, 1]);
    const ip6 = b.region(16, [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1]);
    const fmts = ["hi %s [%8s|%-6s]", "%pI4 %pi4 %pI6", "%pi6 %pks %pus."];
    const args = [
      [s, s, s],
      [ip4, ip4, ip6],
      [ip6, s, s],
    ];
    fmts.forEach((fmt, i) => b.int(F.trace_printk, b.str(fmt, true), fmt.length + 1, ...args[i]));
    expect(b.printed).toEqual([
      "hi world [   world|world ]",
      "192.168.0.1 192.168.000.001 2001:0db8:0000:0000:0000:0000:0000:0001",
      "20010db8000000000000000000000001 world world.",
    ]);
  });

  it("prints an unreadable string as empty and an unreadable address as zeros", () => {
    const b = new Bench();
    const f = b.str("<%s> %pI4", true);
    expect(b.int(F.trace_printk, f, 10, 0, 8)).toBe(10);
    expect(b.printed).toEqual(["<> 0.0.0.0"]);
  });

  it("refuses formats the kernel refuses, printing nothing", () => {
    const bad = [
      "%d %d %d %d",
      "%f",
      "%.2d",
      "%hd",
      "%lp",
      "%ls",
      "%#x",
      "%*d",
      "%s5",
      "%pZ",
      "%pks1",
      "\x01",
      "caf\xe9",
      "%",
    ];
    for (const fmt of bad) {
      const b = new Bench();
      const f = b.region(fmt.length + 1, [...Buffer.from(fmt, "latin1"), 0], true);
      expect(b.int(F.trace_printk, f, fmt.length + 1, 1, 2, 3), JSON.stringify(fmt)).toBe(-22);
      expect(b.printed).toEqual([]);
    }
  });

  it("needs a NUL within fmt_size and readable fmt memory", () => {
    const b = new Bench();
    const f = b.str("abc", true);
    expect(b.int(F.trace_printk, f, 3)).toBe(-22);
    expect(b.int(F.trace_printk, f, 4)).toBe(3);
    expect(() => b.call(F.trace_printk, f, 5)).toThrow(MemoryAccessError);
    expect(b.printed).toEqual(["abc"]);
  });

  it("cuts the message at 1023 bytes but returns the full length", () => {
    const [r, out] = printk("%2000d", 1);
    expect(r).toBe(2000);
    expect(out[0]).toHaveLength(1023);
    expect(out[0].endsWith(" ")).toBe(true);
  });

  it("cuts the message at a NUL from %c", () => {
    const [r, out] = printk("a%cb", 0);
    expect(r).toBe(3);
    expect(out).toEqual(["a"]);
  });
});

describe("bpf_trace_vprintk", () => {
  it("takes up to 12 u64 arguments from memory", () => {
    const b = new Bench();
    const fmt = "%d %d %d %d %d %d %d %d %d %d %d %d";
    const f = b.str(fmt, true);
    const args = b.region(96, Array.from({ length: 12 }, (_, i) => le64(BigInt(i + 1))).flat());
    expect(b.int(F.trace_vprintk, f, fmt.length + 1, args, 96)).toBe(26);
    expect(b.printed).toEqual(["1 2 3 4 5 6 7 8 9 10 11 12"]);
    expect(b.int(F.trace_vprintk, f, fmt.length + 1, args, 88)).toBe(-22); // 11 args
    expect(b.int(F.trace_vprintk, f, fmt.length + 1, args, 95)).toBe(-22);
    expect(b.int(F.trace_vprintk, f, fmt.length + 1, args, 104)).toBe(-22);
    expect(b.int(F.trace_vprintk, f, fmt.length + 1, 0, 8)).toBe(-22);
    expect(() => b.call(F.trace_vprintk, f, fmt.length + 1, args + 8, 96)).toThrow(/r3 \(data\)/);
  });
});

describe("bpf_snprintf", () => {
  it("writes at most str_size bytes with a NUL and returns the needed size", () => {
    const b = new Bench();
    const f = b.str("%s=%05u", true);
    const name = b.str("port");
    const args = b.region(16, [...le64(BigInt(name)), ...le64(80n)]);
    const out = b.region(16, new Array(16).fill(0xee));
    expect(b.int(F.snprintf, out, 16, f, args, 16)).toBe(11);
    expect(b.read(out, 12)).toEqual([...Buffer.from("port=00080"), 0, 0xee]);
    b.write(out, new Array(16).fill(0xee));
    expect(b.int(F.snprintf, out, 5, f, args, 16)).toBe(11);
    expect(b.read(out, 6)).toEqual([...Buffer.from("port"), 0, 0xee]);
    expect(b.int(F.snprintf, 0, 0, f, args, 16)).toBe(11);
    expect(b.int(F.snprintf, out, 16, f, args, 8)).toBe(-22); // 2 conversions, 1 argument
    expect(b.int(F.snprintf, out, 16, f, args, 12)).toBe(-22);
    expect(b.int(F.snprintf, out, 16, f, 0, 16)).toBe(-22);
    expect(() => b.call(F.snprintf, out, 17, f, args, 16)).toThrow(/r1 \(str\)/);
  });

  it("matches Linux 6.18 on helpers.bpf.o (test/fixtures/KERNEL-FACTS.md, section 3)", () => {
    const b = new Bench();
    const f = b.str("%d %u %x [%s] %pI4 %c", true);
    const name = b.str("tsbpf");
    const ip = b.region(4, [192, 168, 0, 1]);
    const args = b.region(48, [
      ...le64(-42n),
      ...le64(42n),
      ...le64(0xbeefn),
      ...le64(BigInt(name)),
      ...le64(BigInt(ip)),
      ...le64(0x5an),
    ]);
    const buf = b.region(64);
    expect(b.int(F.snprintf, buf, 64, f, args, 48)).toBe(34);
    expect(Buffer.from(b.read(buf, 34)).toString("latin1")).toBe(
      "-42 42 beef [tsbpf] 192.168.0.1 Z\0",
    );
    const f2 = b.str("%u%u", true);
    const args2 = b.region(16, [...le64(42n), ...le64(0xbeefn)]);
    expect(b.int(F.snprintf, buf + 40, 8, f2, args2, 16)).toBe(8);
    expect(Buffer.from(b.read(buf + 40, 8)).toString("latin1")).toBe("4248879\0");
  });

  it("needs a NUL-terminated format", () => {
    const b = new Bench();
    const f = b.region(3, [0x61, 0x62, 0x63], true);
    const out = b.region(8);
    expect(() => b.call(F.snprintf, out, 8, f, 0, 0)).toThrow(/r3 \(fmt\)/);
    const ok = b.str("abc", true);
    expect(b.int(F.snprintf, out, 8, ok, 0, 0)).toBe(4);
    expect(b.read(out, 4)).toEqual([0x61, 0x62, 0x63, 0]);
  });

  it("stages arguments in 512 bytes: long strings are cut, then -ENOSPC", () => {
    const b = new Bench();
    const long = b.str("x".repeat(600));
    const f = b.str("%s%s", true);
    const args = b.region(16, [...le64(BigInt(long)), ...le64(BigInt(long))]);
    expect(b.int(F.snprintf, 0, 0, f, args, 16)).toBe(-28);
    const f1 = b.str("%s", true);
    expect(b.int(F.snprintf, 0, 0, f1, args, 8)).toBe(512); // 511 bytes + NUL
  });
});
