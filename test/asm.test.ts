import { describe, expect, it } from "vitest";
import { AsmError } from "../src/errors.js";
import { assemble, assembleInsns } from "../src/isa/asm.js";
import { disassemble } from "../src/isa/disasm.js";

const hex = (bytes: Uint8Array): string =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/** Each line and its encoding (8 or 16 bytes, hex). */
const ENCODINGS: [string, string][] = [
  ["mov32 %r0, 0", "b400000000000000"],
  ["mov %r1, -1", "b7010000ffffffff"],
  ["mov32 %r1, 0xffffffff", "b4010000ffffffff"],
  ["mov %r1, -2147483648", "b701000000000080"],
  ["add %r1, %r2", "0f21000000000000"],
  ["add64 %r1, 5", "0701000005000000"],
  ["sub32 %r1, %r2", "1c21000000000000"],
  ["mul %r1, 0x10", "2701000010000000"],
  ["div32 %r1, 3", "3401000003000000"],
  ["sdiv32 %r1, 5", "3401010005000000"],
  ["smod %r1, %r2", "9f21010000000000"],
  ["mod %r1, %r2", "9f21000000000000"],
  ["or %r0, %r10", "4fa0000000000000"],
  ["and32 %r0, 7", "5400000007000000"],
  ["lsh %r0, 32", "6700000020000000"],
  ["rsh32 %r0, %r1", "7c10000000000000"],
  ["xor %r9, -4", "a7090000fcffffff"],
  ["arsh32 %r0, 16", "c400000010000000"],
  ["neg %r3", "8703000000000000"],
  ["neg32 %r3", "8403000000000000"],
  ["movsx864 %r1, %r2", "bf21080000000000"],
  ["movsx1664 %r1, %r2", "bf21100000000000"],
  ["movsx3264 %r1, %r2", "bf21200000000000"],
  ["movsx832 %r1, %r2", "bc21080000000000"],
  ["movsx1632 %r1, %r2", "bc21100000000000"],
  ["be16 %r1", "dc01000010000000"],
  ["le64 %r1", "d401000040000000"],
  ["bswap32 %r1", "d701000020000000"],
  ["swap16 %r1", "d701000010000000"],
  ["lddw %r1, 0x1122334455667788", "1801000088776655" + "0000000044332211"],
  ["lddw %r1, -1", "18010000ffffffff" + "00000000ffffffff"],
  ["lddw %r2, 18446744073709551615", "18020000ffffffff" + "00000000ffffffff"],
  ["ldxw %r0, [%r1+4]", "6110040000000000"],
  ["ldxdw %r0, [%r10-8]", "79a0f8ff00000000"],
  ["ldxh %r0, [%r1 + 0x10]", "6910100000000000"],
  ["ldxb %r0, [%r1]", "7110000000000000"],
  ["ldxsh %r0, [%r1]", "8910000000000000"],
  ["ldxsw %r0, [%r10-4]", "81a0fcff00000000"],
  ["stb [%r10-1], 0x7f", "720affff7f000000"],
  ["stdw [%r1+8], -1", "7a010800ffffffff"],
  ["stxh [%r1+2], %r3", "6b31020000000000"],
  ["stxdw [%r10-32768], %r1", "7b1a008000000000"],
  ["ja +1", "0500010000000000"],
  ["ja -1", "0500ffff00000000"],
  ["ja32 -1", "06000000ffffffff"],
  ["gotol +100000", "06000000a0860100"],
  ["jeq %r1, 5, +2", "1501020005000000"],
  ["jne32 %r1, 0xfffffffc, +0", "56010000fcffffff"],
  ["jsle32 %r1, %r2, -1", "de21ffff00000000"],
  ["jset %r1, %r2, +3", "4d21030000000000"],
  ["call 12", "850000000c000000"],
  ["call helper 1", "8500000001000000"],
  ["call %r2", "8d02000000000000"],
  ["callx %r3", "8d03000000000000"],
  ["call local +3", "8510000003000000"],
  ["call runtime 7", "8520000007000000"],
  ["exit", "9500000000000000"],
  ["lock add [%r10-8], %r1", "db1af8ff00000000"],
  ["lock fetch or32 [%r1], %r2", "c321000041000000"],
  ["lock fetch xor [%r1], %r2", "db210000a1000000"],
  ["lock and32 [%r1], %r2", "c321000050000000"],
  ["lock xchg [%r1+8], %r2", "db210800e1000000"],
  ["lock fetch xchg32 [%r1], %r2", "c3210000e1000000"],
  ["lock cmpxchg32 [%r1], %r2", "c3210000f1000000"],
  ["ldabsh 12", "280000000c000000"],
  ["ldindb %r2, 3", "5020000003000000"],
  [".raw 0x0000000100040007", "0700040001000000"],
  [".raw 0xffffffffffffffff, 0", "ffffffffffffffff" + "0000000000000000"],
];

describe("assemble encodes", () => {
  it.each(ENCODINGS)("%s", (line, bytes) => {
    expect(hex(assemble(line))).toBe(bytes);
  });

  it("skips comments and blank lines", () => {
    const src = "# a comment\n\n  mov %r0, 1 # trailing\n; llvm-style comment\nexit ; done\n";
    expect(hex(assemble(src))).toBe("b700000001000000" + "9500000000000000");
  });

  it("accepts commas without spaces and operands with spaces", () => {
    expect(assemble("mov %r0,1\nstxdw [ %r10 - 8 ],%r0")).toEqual(
      assemble("mov %r0, 1\nstxdw [%r10-8], %r0"),
    );
  });
});

describe("labels", () => {
  it("resolve forward and backward jumps, ja32 and local calls", () => {
    const insns = assembleInsns(`
      top:
        ja forward
        jeq %r1, 0, top
        ja32 forward
        call local fn
      forward: exit
      fn:
        exit
    `);
    expect(insns.map((i) => [i.off, i.imm])).toEqual([
      [3, 0],
      [-2, 0],
      [0, 1],
      [0, 1],
      [0, 0],
      [0, 0],
    ]);
  });

  it("count lddw as two slots", () => {
    const insns = assembleInsns("ja end\nlddw %r0, 1\nend:\nexit");
    expect(insns[0].off).toBe(2);
  });

  it("know the first exit as `exit`", () => {
    const insns = assembleInsns("jeq %r1, 0, exit\nmov %r0, 1\nexit\nexit");
    expect(insns[0].off).toBe(1);
  });

  it("refuse unknown and duplicate labels, and jumps beyond 16 bits", () => {
    expect(() => assemble("ja nowhere\nexit")).toThrow(/line 1: Invalid label: nowhere/);
    expect(() => assemble("a:\na:\nexit")).toThrow(/line 2: Duplicate label: a/);
    const far = `ja end\n${"mov %r0, 0\n".repeat(32768)}end:\nexit`;
    expect(() => assemble(far)).toThrow(/out of 16-bit range.*ja32/);
    expect(() => assemble(far.replace("ja end", "ja32 end"))).not.toThrow();
  });
});

describe("assembler errors", () => {
  const refused: [string, RegExp][] = [
    ["mov32 %r0, 2147483648", /Immediate out of 32-bit range: 2147483648/],
    ["mov32 %r0, -2147483649", /Immediate out of 32-bit range/],
    ["mov32 %r0, 0x100000000", /Immediate out of 32-bit range: 0x100000000/],
    ["mov %r0, 12abc", /Invalid immediate: 12abc/],
    ["lddw %r0, 0x10000000000000000", /out of 64-bit range/],
    ["ldxb %r0, [%r1+0x10000]", /Offset out of 16-bit range/],
    ["ldxb %r0, [%r1+32768]", /Offset out of 16-bit range/],
    ["ldxb %r0, [%r1-32769]", /Offset out of 16-bit range/],
    ["ja +32768", /Offset out of 16-bit range/],
    ["ja32 +2147483648", /Offset out of 32-bit range/],
    ["ldxb %r0, %r1", /Failed to decode register and offset: %r1/],
    ["or %r0, %r50", /Invalid register: %r50/],
    ["or %r0, r1", /Invalid immediate: r1/],
    ["mov %r16, 1", /Invalid register: %r16/],
    ["ldxq %r0, %r1", /Invalid mnemonic: ldxq/],
    ["ldxsdw %r0, [%r1]", /Invalid mnemonic: ldxsdw/],
    ["movsx3232 %r0, %r1", /Invalid mnemonic: movsx3232/],
    ["movsx864 %r0, 1", /needs a register source/],
    ["be8 %r0", /Invalid mnemonic: be8/],
    ["lddw %r0", /Invalid number of operands for lddw/],
    ["exit %r0", /Invalid number of operands for exit/],
    ["neg %r0, 1", /Invalid number of operands for neg/],
    ["lock", /Invalid number of operands for lock/],
    ["lock or [%r10-8]", /Invalid number of operands for lock/],
    ["lock fetch", /Invalid number of operands for lock/],
    ["lock sub [%r10-8], %r1", /Invalid mnemonic: lock sub/],
    ["call foo 1", /Invalid call mode: foo/],
    ["stw [%r1], %r2", /Invalid immediate: %r2/],
    [".raw 0x1ffffffffffffffff", /Invalid raw word/],
  ];
  it.each(refused)("%s", (line, message) => {
    expect(() => assemble(line)).toThrow(AsmError);
    expect(() => assemble(line)).toThrow(message);
  });

  it("give the line number, offset by firstLine", () => {
    const src = "# header\nmov %r0, 1\n\nbogus %r0\nexit";
    expect(() => assemble(src)).toThrow(/^line 4: Invalid mnemonic: bogus$/);
    try {
      assemble(src, { firstLine: 10 });
    } catch (e) {
      expect(e).toBeInstanceOf(AsmError);
      expect((e as AsmError).line).toBe(13);
      expect((e as AsmError).detail).toBe("Invalid mnemonic: bogus");
    }
  });
});

describe("conformance disassembly of assembled text", () => {
  it("gives back the test-file spelling", () => {
    const src = [
      "mov32 %r0, 0",
      "lddw %r1, 0x1122334455667788",
      "ldxw %r0, [%r1+4]",
      "stxdw [%r10-8], %r1",
      "lock fetch add32 [%r10-4], %r1",
      "lock cmpxchg [%r10-8], %r1",
      "jne32 %r1, -4, +1",
      "movsx1632 %r4, %r3",
      "sdiv %r0, %r1",
      "be16 %r0",
      "bswap64 %r0",
      "call local +1",
      "call 5",
      "call %r2",
      "ja32 -1",
      "exit",
    ];
    expect(disassemble(assemble(src.join("\n")), { syntax: "conformance" })).toEqual(src);
  });
});
