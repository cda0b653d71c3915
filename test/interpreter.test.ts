import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BudgetError, MemoryAccessError, RuntimeFault } from "../src/errors.js";
import { assemble } from "../src/isa/asm.js";
import { execRaw } from "../src/runtime/exec.js";
import { availableEngines } from "./engines.js";

const M64 = (1n << 64n) - 1n;
const s64 = (v: bigint) => BigInt.asIntN(64, v);
const u64 = (v: bigint) => BigInt.asUintN(64, v);
const u32 = (v: bigint) => BigInt.asUintN(32, v);
const s32 = (v: bigint) => BigInt.asIntN(32, v);

/** The reference: each ALU op on BigInts, as RFC 9669 and Linux define it. */
const ALU: Record<string, (a: bigint, b: bigint) => bigint> = {
  add: (a, b) => u64(a + b),
  sub: (a, b) => u64(a - b),
  mul: (a, b) => u64(a * b),
  div: (a, b) => (b === 0n ? 0n : a / b),
  mod: (a, b) => (b === 0n ? a : a % b),
  sdiv: (a, b) => (b === 0n ? 0n : u64(s64(a) / s64(b))),
  smod: (a, b) => (b === 0n ? a : u64(s64(a) % s64(b))),
  or: (a, b) => a | b,
  and: (a, b) => a & b,
  xor: (a, b) => a ^ b,
  lsh: (a, b) => u64(a << (b & 63n)),
  rsh: (a, b) => a >> (b & 63n),
  arsh: (a, b) => u64(s64(a) >> (b & 63n)),
};
const ALU32: Record<string, (a: bigint, b: bigint) => bigint> = {
  add32: (a, b) => u32(a + b),
  sub32: (a, b) => u32(a - b),
  mul32: (a, b) => u32(a * b),
  div32: (a, b) => (u32(b) === 0n ? 0n : u32(a) / u32(b)),
  mod32: (a, b) => (u32(b) === 0n ? u32(a) : u32(a) % u32(b)),
  sdiv32: (a, b) => (u32(b) === 0n ? 0n : u32(s32(a) / s32(b))),
  smod32: (a, b) => (u32(b) === 0n ? u32(a) : u32(s32(a) % s32(b))),
  lsh32: (a, b) => u32(a << (b & 31n)),
  rsh32: (a, b) => u32(a) >> (b & 31n),
  arsh32: (a, b) => u32(s32(a) >> (b & 31n)),
};

const interesting = fc.oneof(
  fc.bigInt(0n, M64),
  fc.constantFrom(0n, 1n, M64, 1n << 63n, (1n << 63n) - 1n, 0xffffffffn, 0x80000000n, 1n << 32n),
);

describe.each(availableEngines())("%s engine", (engine) => {
  const run = (src: string, mem?: Uint8Array, insnLimit?: number) =>
    execRaw(assemble(src), mem, { engine, insnLimit });

  it("computes 64-bit ALU results exactly (property)", () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(ALU)), interesting, interesting, (op, a, b) => {
        const r0 = run(`lddw %r1, ${a}\nlddw %r2, ${b}\n${op} %r1, %r2\nmov %r0, %r1\nexit`);
        expect(r0).toBe(ALU[op](a, b));
      }),
      { numRuns: 400 },
    );
  });

  it("computes 32-bit ALU results exactly, zero-extended (property)", () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(ALU32)), interesting, interesting, (op, a, b) => {
        const r0 = run(`lddw %r1, ${a}\nlddw %r2, ${b}\n${op} %r1, %r2\nmov %r0, %r1\nexit`);
        expect(r0).toBe(ALU32[op](a, b));
      }),
      { numRuns: 400 },
    );
  });

  it("compares 64-bit values exactly in jumps (property)", () => {
    const J: Record<string, (a: bigint, b: bigint) => boolean> = {
      jgt: (a, b) => a > b,
      jge: (a, b) => a >= b,
      jlt: (a, b) => a < b,
      jle: (a, b) => a <= b,
      jsgt: (a, b) => s64(a) > s64(b),
      jsge: (a, b) => s64(a) >= s64(b),
      jslt: (a, b) => s64(a) < s64(b),
      jsle: (a, b) => s64(a) <= s64(b),
      jeq: (a, b) => a === b,
      jne: (a, b) => a !== b,
      jset: (a, b) => (a & b) !== 0n,
    };
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(J)), interesting, interesting, (op, a, b) => {
        const src = `lddw %r1, ${a}\nlddw %r2, ${b}\nmov %r0, 1\n${op} %r1, %r2, yes\nmov %r0, 0\nyes:\nexit`;
        expect(run(src)).toBe(J[op](a, b) ? 1n : 0n);
      }),
      { numRuns: 400 },
    );
  });

  it("faults on a read past the end of the memory it was given", () => {
    const mem = new Uint8Array(8);
    expect(() => run("ldxdw %r0, [%r1+4]\nexit", mem)).toThrow(MemoryAccessError);
    expect(() => run("ldxdw %r0, [%r1+4]\nexit", mem)).toThrow(
      /pc 0 in prog: invalid read of 8 bytes at 0x[0-9a-f]+; nearest region: mem \[0x[0-9a-f]+, 0x[0-9a-f]+\)/,
    );
    expect(run("ldxdw %r0, [%r1+0]\nexit", mem)).toBe(0n);
  });

  it("faults on a write below the live stack frame and above its top", () => {
    expect(() => run("stdw [%r10-520], 1\nexit")).toThrow(
      /invalid write of 8 bytes .* stack: live frames/,
    );
    expect(() => run("stdw [%r10+0], 1\nexit")).toThrow(MemoryAccessError);
    expect(run("stdw [%r10-512], 7\nldxdw %r0, [%r10-512]\nexit")).toBe(7n);
  });

  it("faults on a NULL dereference and on pointers with high bits set", () => {
    expect(() => run("mov %r1, 0\nldxb %r0, [%r1+0]\nexit")).toThrow(
      /invalid read of 1 bytes at 0x0/,
    );
    expect(() => run("lddw %r1, 0x100001000\nldxb %r0, [%r1+0]\nexit")).toThrow(
      /at 0x100001000; no region near it/,
    );
  });

  it("stops a runaway loop at the instruction budget", () => {
    const err = (() => {
      try {
        run("loop:\nja loop\nexit", undefined, 10_000);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(BudgetError);
    expect((err as Error).message).toMatch(/instruction budget of 10000 exhausted/);
  });

  it("caps one program's call chain at 8 frames", () => {
    const chain = (n: number) => {
      let src = "call local f1\nexit\n";
      for (let i = 1; i < n; i++) src += `f${i}:\ncall local f${i + 1}\nexit\n`;
      src += `f${n}:\nmov %r0, ${n}\nexit\n`;
      return src;
    };
    expect(run(chain(7))).toBe(7n); // 8 frames: the program and 7 calls
    expect(() => run(chain(8))).toThrow(RuntimeFault);
    expect(() => run(chain(8))).toThrow(/more than 8 frames in one program/);
  });

  it("gives each frame its own 512 bytes and restores r6-r9 and r10", () => {
    const src = `stdw [%r10-8], 11
mov %r6, 6
call local f
ldxdw %r0, [%r10-8]
add %r0, %r6
exit
f:
stdw [%r10-8], 99
mov %r6, 0
mov %r0, 0
exit`;
    expect(run(src)).toBe(17n);
  });

  describe("memory checks", () => {
    const fault = (src: string, mem?: Uint8Array) => {
      try {
        run(src, mem);
      } catch (e) {
        expect(e).toBeInstanceOf(MemoryAccessError);
        return (e as Error).message;
      }
      throw new Error("no fault");
    };

    it("lets r10 reach both edges of its frame and nothing past them", () => {
      expect(run("stb [%r10-1], 5\nldxb %r0, [%r10-1]\nexit")).toBe(5n);
      expect(run("stdw [%r10-512], 7\nldxdw %r0, [%r10-512]\nexit")).toBe(7n);
      expect(fault("mov %r0, 0\nldxdw %r0, [%r10-4]\nexit")).toMatch(
        /^pc 1 in prog: invalid read of 8 bytes at 0x[0-9a-f]+/,
      );
      expect(fault("stw [%r10-516], 1\nexit")).toMatch(/^pc 0 in prog: invalid write of 4 bytes/);
    });

    it("checks pointers into frames: the caller's is live, a returned callee's is not", () => {
      const live = `stdw [%r10-8], 5
mov %r1, %r10
add %r1, -8
call local f
exit
f:
ldxdw %r0, [%r1+0]
exit`;
      expect(run(live)).toBe(5n);
      const dead = `call local f
ldxdw %r0, [%r0+0]
exit
f:
stdw [%r10-8], 1
mov %r0, %r10
add %r0, -8
exit`;
      expect(fault(dead)).toMatch(/^pc 1 in prog: invalid read of 8 bytes/);
    });

    it("still faults at the right pc once an instruction's slot is cached", () => {
      const src = `mov %r3, 0
loop:
mov %r4, %r1
add %r4, %r3
ldxb %r5, [%r4+0]
add %r3, 1
jle %r3, 8, loop
exit`;
      expect(fault(src, new Uint8Array(8))).toMatch(
        /^pc 3 in prog: invalid read of 1 bytes at 0x[0-9a-f]+; nearest region: mem/,
      );
      expect(fault(src.replace("ldxb %r5", "ldxdw %r5"), new Uint8Array(15))).toMatch(
        /^pc 3 in prog: invalid read of 8 bytes/,
      );
    });

    it("adds the offset to the base in 64 bits", () => {
      expect(fault("lddw %r1, 0xffffffff\nldxb %r0, [%r1+1]\nexit")).toMatch(
        /at 0x100000000; no region near it/,
      );
      expect(fault("lddw %r1, 0x100000000\nstb [%r1-1], 0\nexit")).toMatch(
        /invalid write of 1 bytes at 0xffffffff/,
      );
    });
  });
});
