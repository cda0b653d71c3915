import { describe, expect, it } from "vitest";
import { decodeProgram } from "../src/isa/decode.js";
import { disassemble, disassembleLines, formatInsn } from "../src/isa/disasm.js";
import { helperName } from "../src/isa/names.js";

/** What `llvm-objdump-19 -d` prints for each encoding (hex slots, then text). */
const OBJDUMP_DEFAULT = [
  "0401000004000000 w1 += 0x4",
  "04010000fcffffff w1 += -0x4",
  "0c21000000000000 w1 += w2",
  "1401000004000000 w1 -= 0x4",
  "14010000fcffffff w1 -= -0x4",
  "1c21000000000000 w1 -= w2",
  "2401000004000000 w1 *= 0x4",
  "24010000fcffffff w1 *= -0x4",
  "2c21000000000000 w1 *= w2",
  "3401000004000000 w1 /= 0x4",
  "34010000fcffffff w1 /= -0x4",
  "3c21000000000000 w1 /= w2",
  "4401000004000000 w1 |= 0x4",
  "44010000fcffffff w1 |= -0x4",
  "4c21000000000000 w1 |= w2",
  "5401000004000000 w1 &= 0x4",
  "54010000fcffffff w1 &= -0x4",
  "5c21000000000000 w1 &= w2",
  "6401000004000000 w1 <<= 0x4",
  "64010000fcffffff w1 <<= -0x4",
  "6c21000000000000 w1 <<= w2",
  "7401000004000000 w1 >>= 0x4",
  "74010000fcffffff w1 >>= -0x4",
  "7c21000000000000 w1 >>= w2",
  "8401000004000000 w1 = -w1",
  "84010000fcffffff w1 = -w1",
  "9401000004000000 w1 %= 0x4",
  "94010000fcffffff w1 %= -0x4",
  "9c21000000000000 w1 %= w2",
  "a401000004000000 w1 ^= 0x4",
  "a4010000fcffffff w1 ^= -0x4",
  "ac21000000000000 w1 ^= w2",
  "b401000004000000 w1 = 0x4",
  "b4010000fcffffff w1 = -0x4",
  "bc21000000000000 w1 = w2",
  "c401000004000000 w1 s>>= 0x4",
  "c4010000fcffffff w1 s>>= -0x4",
  "cc21000000000000 w1 s>>= w2",
  "0701000004000000 r1 += 0x4",
  "07010000fcffffff r1 += -0x4",
  "0f21000000000000 r1 += r2",
  "1701000004000000 r1 -= 0x4",
  "17010000fcffffff r1 -= -0x4",
  "1f21000000000000 r1 -= r2",
  "2701000004000000 r1 *= 0x4",
  "27010000fcffffff r1 *= -0x4",
  "2f21000000000000 r1 *= r2",
  "3701000004000000 r1 /= 0x4",
  "37010000fcffffff r1 /= -0x4",
  "3f21000000000000 r1 /= r2",
  "4701000004000000 r1 |= 0x4",
  "47010000fcffffff r1 |= -0x4",
  "4f21000000000000 r1 |= r2",
  "5701000004000000 r1 &= 0x4",
  "57010000fcffffff r1 &= -0x4",
  "5f21000000000000 r1 &= r2",
  "6701000004000000 r1 <<= 0x4",
  "67010000fcffffff r1 <<= -0x4",
  "6f21000000000000 r1 <<= r2",
  "7701000004000000 r1 >>= 0x4",
  "77010000fcffffff r1 >>= -0x4",
  "7f21000000000000 r1 >>= r2",
  "8701000004000000 r1 = -r1",
  "87010000fcffffff r1 = -r1",
  "9701000004000000 r1 %= 0x4",
  "97010000fcffffff r1 %= -0x4",
  "9f21000000000000 r1 %= r2",
  "a701000004000000 r1 ^= 0x4",
  "a7010000fcffffff r1 ^= -0x4",
  "af21000000000000 r1 ^= r2",
  "b701000004000000 r1 = 0x4",
  "b7010000fcffffff r1 = -0x4",
  "bf21000000000000 r1 = r2",
  "c701000004000000 r1 s>>= 0x4",
  "c7010000fcffffff r1 s>>= -0x4",
  "cf21000000000000 r1 s>>= r2",
  "d401000010000000 r1 = le16 r1",
  "dc01000010000000 r1 = be16 r1",
  "d701000010000000 r1 = bswap16 r1",
  "d401000020000000 r1 = le32 r1",
  "dc01000020000000 r1 = be32 r1",
  "d701000020000000 r1 = bswap32 r1",
  "d401000040000000 r1 = le64 r1",
  "dc01000040000000 r1 = be64 r1",
  "d701000040000000 r1 = bswap64 r1",
  "db21f8ff00000000 lock *(u64 *)(r1 - 0x8) += r2",
  "db21f8ff01000000 r2 = atomic_fetch_add((u64 *)(r1 - 0x8), r2)",
  "db21f8ff40000000 lock *(u64 *)(r1 - 0x8) |= r2",
  "db21f8ff41000000 r2 = atomic_fetch_or((u64 *)(r1 - 0x8), r2)",
  "db21f8ff50000000 lock *(u64 *)(r1 - 0x8) &= r2",
  "db21f8ff51000000 r2 = atomic_fetch_and((u64 *)(r1 - 0x8), r2)",
  "db21f8ffa0000000 lock *(u64 *)(r1 - 0x8) ^= r2",
  "db21f8ffa1000000 r2 = atomic_fetch_xor((u64 *)(r1 - 0x8), r2)",
  "db21f8ffe1000000 r2 = xchg_64(r1 - 0x8, r2)",
  "db21f8fff1000000 r0 = cmpxchg_64(r1 - 0x8, r0, r2)",
  "c321f8ff00000000 lock *(u32 *)(r1 - 0x8) += r2",
  "bf21010001000000 r1 = addr_space_cast(r2, 0x0, 0x1)",
  "bf21080000000000 r1 = (s8)r2",
  "bf21100000000000 r1 = (s16)r2",
  "bf21200000000000 r1 = (s32)r2",
  "bc21080000000000 w1 = (s8)w2",
  "bc21100000000000 w1 = (s16)w2",
  "3f21010005000000 r1 s/= r2",
  "3721010005000000 r1 s/= 0x5",
  "9f21010005000000 r1 s%= r2",
  "9721010005000000 r1 s%= 0x5",
  "3c21010005000000 w1 s/= w2",
  "3421010005000000 w1 s/= 0x5",
  "9c21010005000000 w1 s%= w2",
  "9421010005000000 w1 s%= 0x5",
  "9121feff00000000 r1 = *(s8 *)(r2 - 0x2)",
  "8921feff00000000 r1 = *(s16 *)(r2 - 0x2)",
  "8121feff00000000 r1 = *(s32 *)(r2 - 0x2)",
  "18030000100000000000000001000000 r3 = 0x100000010 ll",
  "18130000100000000000000001000000 ld_pseudo\tr3, 0x1, 0x10",
  "18230000100000000000000001000000 ld_pseudo\tr3, 0x2, 0x10",
  "18330000100000000000000001000000 ld_pseudo\tr3, 0x3, 0x10",
  "18430000100000000000000001000000 ld_pseudo\tr3, 0x4, 0x10",
  "18530000100000000000000001000000 ld_pseudo\tr3, 0x5, 0x10",
  "18630000100000000000000001000000 ld_pseudo\tr3, 0x6, 0x10",
  "0600000005000000 gotol +0x5",
  "060000006079feff gotol -0x186a0",
  "850000000c000000 call 0xc",
  "85100000fdffffff call -0x3",
  "852000004d000000 call 0x4d",
  "8d02000000000000 callx r2",
  "8d00000002000000 callx r0",
  "0500ff7f00000000 goto +0x7fff",
  "0500ffff00000000 goto -0x1",
  "0500000000000000 goto +0x0",
  "07010000ffffffff r1 += -0x1",
  "07010000ffffff7f r1 += 0x7fffffff",
  "0701000000000080 r1 += -0x80000000",
  "b7010000ffffffff r1 = -0x1",
  "b4010000ffffffff w1 = -0x1",
  "15010200ffffffff if r1 == -0x1 goto +0x2",
  "16010200ffffffff if w1 == -0x1 goto +0x2",
  "1601020000000080 if w1 == -0x80000000 goto +0x2",
  "16010200ffffff7f if w1 == 0x7fffffff goto +0x2",
  "620af8ffffffffff *(u32 *)(r10 - 0x8) = -0x1",
  "7a0af8ffffffffff *(u64 *)(r10 - 0x8) = -0x1",
  "7a0a000000000000 *(u64 *)(r10 + 0x0) = 0x0",
  "61a1000000000000 r1 = *(u32 *)(r10 + 0x0)",
  "61a1008000000000 r1 = *(u32 *)(r10 - 0x8000)",
  "18010000ffffffff00000000ffffffff r1 = -0x1 ll",
  "18010000000000000000000000000000 r1 = 0x0 ll",
  "18010000050000000000000000000000 r1 = 0x5 ll",
  "18010000000000000000000000000080 r1 = -0x8000000000000000 ll",
  "9500000000000000 exit",
  "6321030000000000 *(u32 *)(r1 + 0x3) = r2",
  "7321fdff00000000 *(u8 *)(r1 - 0x3) = r2",
  "7121fdff00000000 r1 = *(u8 *)(r2 - 0x3)",
  "4021000000000000 r0 = *(u32 *)skb[r2]",
  "2000000004000000 r0 = *(u32 *)skb[0x4]",
];

/** Where `llvm-objdump-19 -d --mcpu=v4` differs (the `alu32` option). */
const OBJDUMP_V4 = [
  "c321f8ff00000000 lock *(u32 *)(r1 - 0x8) += w2",
  "c321f8ff40000000 lock *(u32 *)(r1 - 0x8) |= w2",
  "c321f8ff41000000 w2 = atomic_fetch_or((u32 *)(r1 - 0x8), w2)",
  "c321f8ff50000000 lock *(u32 *)(r1 - 0x8) &= w2",
  "c321f8ff51000000 w2 = atomic_fetch_and((u32 *)(r1 - 0x8), w2)",
  "c321f8ffa0000000 lock *(u32 *)(r1 - 0x8) ^= w2",
  "c321f8ffa1000000 w2 = atomic_fetch_xor((u32 *)(r1 - 0x8), w2)",
  "c321f8ffe1000000 w2 = xchg32_32(r1 - 0x8, w2)",
  "c321f8fff1000000 w0 = cmpxchg32_32(r1 - 0x8, w0, w2)",
  "61a1000000000000 w1 = *(u32 *)(r10 + 0x0)",
  "61a1008000000000 w1 = *(u32 *)(r10 - 0x8000)",
  "6321030000000000 *(u32 *)(r1 + 0x3) = w2",
  "7321fdff00000000 *(u8 *)(r1 - 0x3) = w2",
  "7121fdff00000000 w1 = *(u8 *)(r2 - 0x3)",
];

function bytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
}

function split(row: string): [string, string] {
  const i = row.indexOf(" ");
  return [row.slice(0, i), row.slice(i + 1)];
}

describe("llvm syntax matches llvm-objdump-19", () => {
  it.each(OBJDUMP_DEFAULT.map(split))("%s -> %s", (hex, text) => {
    expect(disassemble(bytes(hex))).toEqual([text]);
  });
  it.each(OBJDUMP_V4.map(split))("alu32: %s -> %s", (hex, text) => {
    expect(disassemble(bytes(hex), { syntax: "llvm", alu32: true })).toEqual([text]);
  });
});

/** `clang-19 -O2 -target bpf -mcpu=v4` output (an XDP program with a subprogram call, atomics,
 * sdiv/smod, movsx, sign-extending loads and bswap) and `llvm-objdump-19 -d --mcpu=v4`'s text. */
const CLANG_PROG = [
  "bf17000000000000620afcff0000000089760200000000009178000000000000bfa200000000000007020000fcffffff",
  "180100000000000000000000000000008500000001000000bf01000000000000b702000005000000db27000000000000",
  "b709000007000000db97080001000000b402000003000000c327000040000000b402000004000000b400000003000000",
  "c3271000f10000001600000003000000b702000009000000db271800e10000007973400000000000a503170006000000",
  "0c190000000000000c290000000000000c09000000000000bf840000000000007978380000000000bf81000000000000",
  "d7010000400000000c1900000000000079713000000000007972200000000000bf230000000000009f13010000000000",
  "0c3900000000000079712800000000003f120100000000000c290000000000000c46000000000000bc61000000000000",
  "85100000ffffffff0c90000000000000d7080000200000000c8000000000000005000400000000007971480000000000",
  "7972500000000000bc201000000000000c100000000000009500000000000000",
].join("");
const CLANG_PROG_OBJDUMP = [
  "r7 = r1",
  "*(u32 *)(r10 - 0x4) = 0x0",
  "r6 = *(s16 *)(r7 + 0x2)",
  "r8 = *(s8 *)(r7 + 0x0)",
  "r2 = r10",
  "r2 += -0x4",
  "r1 = 0x0 ll",
  "call 0x1",
  "r1 = r0",
  "r2 = 0x5",
  "lock *(u64 *)(r7 + 0x0) += r2",
  "r9 = 0x7",
  "r9 = atomic_fetch_add((u64 *)(r7 + 0x8), r9)",
  "w2 = 0x3",
  "lock *(u32 *)(r7 + 0x0) |= w2",
  "w2 = 0x4",
  "w0 = 0x3",
  "w0 = cmpxchg32_32(r7 + 0x10, w0, w2)",
  "if w0 == 0x3 goto +0x0 <prog+0xa0>",
  "r2 = 0x9",
  "r2 = xchg_64(r7 + 0x18, r2)",
  "r3 = *(u64 *)(r7 + 0x40)",
  "if r3 < 0x6 goto +0x17 <prog+0x178>",
  "w9 += w1",
  "w9 += w2",
  "w9 += w0",
  "r4 = r8",
  "r8 = *(u64 *)(r7 + 0x38)",
  "r1 = r8",
  "r1 = bswap64 r1",
  "w9 += w1",
  "r1 = *(u64 *)(r7 + 0x30)",
  "r2 = *(u64 *)(r7 + 0x20)",
  "r3 = r2",
  "r3 s%= r1",
  "w9 += w3",
  "r1 = *(u64 *)(r7 + 0x28)",
  "r2 s/= r1",
  "w9 += w2",
  "w6 += w4",
  "w1 = w6",
  "call -0x1",
  "w0 += w9",
  "r8 = bswap32 r8",
  "w0 += w8",
  "goto +0x4 <prog+0x198>",
  "r1 = *(u64 *)(r7 + 0x48)",
  "r2 = *(u64 *)(r7 + 0x50)",
  "w0 = (s16)w2",
  "w0 += w1",
  "exit",
];

describe("a clang-built program", () => {
  it("disassembles as llvm-objdump --mcpu=v4 does, jump labels through targetLabel", () => {
    const lines = disassemble(bytes(CLANG_PROG), {
      alu32: true,
      targetLabel: (pc) => `prog+0x${(pc * 8).toString(16)}`,
    });
    expect(lines).toEqual(CLANG_PROG_OBJDUMP);
  });
});

describe("llvm syntax details", () => {
  it("prints lddw once, with the pcs of its slots", () => {
    const p = bytes("18010000785634120000000000000000" + "9500000000000000");
    expect(disassembleLines(p)).toEqual([
      { pc: 0, slots: 2, text: "r1 = 0x12345678 ll" },
      { pc: 2, slots: 1, text: "exit" },
    ]);
  });

  it("appends annotations as comments", () => {
    const p = bytes("8500000001000000" + "850000000c000000" + "9500000000000000");
    const lines = disassemble(p, {
      annotate: (pc) => {
        const name = helperName(decodeProgram(p).imm[pc]);
        return pc < 2 ? name : undefined;
      },
    });
    expect(lines).toEqual(["call 0x1  ; bpf_map_lookup_elem", "call 0xc  ; bpf_tail_call", "exit"]);
    const conf = disassemble(p, { syntax: "conformance", annotate: () => "x" });
    expect(conf[0]).toBe("call 1  # x");
  });

  it("prints <unknown> for opcodes that do not exist", () => {
    for (const hex of [
      "8c21000000000000",
      "df01000000000000",
      "f701000000000000",
      "9901000000000000",
    ]) {
      expect(disassemble(bytes(hex))).toEqual(["<unknown>"]);
    }
    expect(disassemble(bytes("1801000000000000"))).toEqual(["<unknown>"]); // truncated lddw
  });

  it("ignores unused fields (validation reports them)", () => {
    expect(disassemble(bytes("0710030004000000"))).toEqual(["r0 += 0x4"]);
    expect(disassemble(bytes("9501000000000000"))).toEqual(["exit"]);
  });

  it("shows callx, gotol, may_goto, addr_space_cast and ld_ind with an immediate", () => {
    expect(disassemble(bytes("8d02000000000000"))).toEqual(["callx r2"]);
    expect(disassemble(bytes("0600000060790000"))).toEqual(["gotol +0x7960"]);
    expect(disassemble(bytes("e500050000000000"))).toEqual(["may_goto +0x5"]);
    expect(disassemble(bytes("bf21010000000100"))).toEqual(["r1 = addr_space_cast(r2, 0x1, 0x0)"]);
    expect(disassemble(bytes("50200000fcffffff"))).toEqual(["r0 = *(u8 *)skb[r2 - 0x4]"]);
  });

  it("formatInsn formats one slot", () => {
    const p = decodeProgram(bytes("b701000005000000" + "bc21000000000000"));
    expect(formatInsn(p, 0)).toBe("r1 = 0x5");
    expect(formatInsn(p, 1)).toBe("w1 = w2");
    expect(formatInsn(p, 1, { syntax: "conformance" })).toBe("mov32 %r1, %r2");
  });
});
