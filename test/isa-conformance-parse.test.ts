import { describe, expect, it } from "vitest";
import { conformanceProgram, parseConformanceFile } from "../src/conformance/index.js";
import { AsmError } from "../src/errors.js";
import { assemble } from "../src/isa/asm.js";

describe("parseConformanceFile", () => {
  it("reads asm, raw 64-bit words, mem and result", () => {
    const t = parseConformanceFile(
      [
        "# Copyright",
        "-- asm",
        "lddw %r0, 0x1122334455667788",
        "exit",
        "-- raw",
        "0x5566778800000018",
        "0x1122334400000000",
        "0x0000000000000095",
        "-- mem",
        "aa bb 11 22",
        "33 44",
        "-- result",
        "0x1122334455667788",
      ].join("\n"),
    );
    expect(t.asm).toBe("lddw %r0, 0x1122334455667788\nexit");
    expect(t.asmFirstLine).toBe(3);
    expect(t.raw).toEqual(assemble(t.asm ?? ""));
    expect(t.mem).toEqual(Uint8Array.from([0xaa, 0xbb, 0x11, 0x22, 0x33, 0x44]));
    expect(t.result).toBe(0x1122334455667788n);
    expect(t.error).toBeUndefined();
  });

  it("reads raw in the 8-byte form, an empty error and CRLF lines", () => {
    const t = parseConformanceFile(
      "# test\r\n-- raw\r\n07 00 01 00 01 00 00 00\r\n95 00 00 00 00 00 00 00\r\n-- error\r\n",
    );
    expect(Array.from(t.raw ?? [])).toEqual([7, 0, 1, 0, 1, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
    expect(t.error).toBe("");
    expect(t.mem.length).toBe(0);
    expect(t.result).toBeUndefined();
    expect(t.asm).toBeUndefined();
  });

  it("reads the expected error text and results in any case or in decimal", () => {
    const t = parseConformanceFile(
      "-- asm\nlock\nexit\n-- error\nInvalid number of operands for lock",
    );
    expect(t.error).toBe("Invalid number of operands for lock");
    expect(parseConformanceFile("-- result\n0xFFFFFFF6").result).toBe(0xfffffff6n);
    expect(parseConformanceFile("-- result\n42").result).toBe(42n);
    expect(parseConformanceFile("-- result\n-1").result).toBe(0xffffffffffffffffn);
  });

  it("ignores the notes sections", () => {
    const t = parseConformanceFile(
      "-- asm\nexit\n-- c\nint f() { return 0; }\n-- no register offset\ncall instruction\n-- result\n0x0",
    );
    expect(t.asm).toBe("exit");
    expect(t.result).toBe(0n);
  });

  it("refuses unknown directives and malformed sections, with the file's line", () => {
    expect(() => parseConformanceFile("-- asm\n-- Unknown directive\n")).toThrow(
      /line 2: Unknown directive: -- Unknown directive/,
    );
    expect(() => parseConformanceFile("-- raw\n07 00 01\n")).toThrow(/line 2: Invalid raw line/);
    expect(() => parseConformanceFile("-- raw\n0xzz\n")).toThrow(AsmError);
    expect(() => parseConformanceFile("-- mem\n00 1x2\n")).toThrow(/Invalid byte: 1x2/);
    expect(() => parseConformanceFile("-- result\nabc\n")).toThrow(/Invalid result/);
  });
});

describe("conformanceProgram", () => {
  it("prefers raw, else assembles asm with file line numbers", () => {
    const both = parseConformanceFile("-- asm\nexit\n-- raw\n0x0000000000000195");
    expect(conformanceProgram(both)[1]).toBe(1);
    const bad = parseConformanceFile("# c\n-- asm\nmov %r0, 0\nbogus\n-- result\n0x0");
    expect(() => conformanceProgram(bad)).toThrow(/^line 4: Invalid mnemonic: bogus$/);
    expect(conformanceProgram(parseConformanceFile("-- result\n0x0")).length).toBe(0);
  });
});
