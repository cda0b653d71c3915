import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assemble } from "../src/isa/asm.js";
import { runBoth } from "./jit-harness.js";

/**
 * Random packet loops — what range proofs (ranges.ts) and counted loops (loops.ts) optimise —
 * with counters, steps, compares, bases and budgets drawn at random, including the ones the
 * guards must refuse; each runs on both engines with the same outcome expected.
 */
const loopProgram = fc
  .record({
    init: fc.constantFrom("mov %r3, 0", "mov %r3, 1", "mov %r3, 37", "mov %r3, -4", "lddw %r3, 0x7ffffffe", "lddw %r3, 0x100000002", "mov32 %r3, 5"), // prettier-ignore
    step: fc.integer({ min: -4, max: 4 }).filter((s) => s !== 0),
    step32: fc.boolean(),
    cmp: fc.constantFrom("jne", "jlt", "jle", "jgt", "jge", "jslt", "jsge", "jne32", "jlt32", "jsgt32"), // prettier-ignore
    limit: fc.constantFrom("0", "3", "40", "63", "%r7"),
    base: fc.constantFrom("%r1", "%r1", "%r8", "%r10"),
    span: fc.constantFrom(1, 2, 4, 8),
    access: fc.constantFrom("ldxb %r4, [%r5]", "ldxh %r4, [%r5]", "ldxw %r4, [%r5+1]", "ldxdw %r4, [%r5]", "stxb [%r5], %r3", "stxh [%r5+1], %r3", "ldxb %r4, [%r5-1]"), // prettier-ignore
    extra: fc.constantFrom("", "jset %r4, 1, skip\nadd %r6, 3\nskip:", "jgt %r6, 900, out"),
    end: fc.constantFrom("data", "data", "stack", "short", "unmapped", "far"),
    shift: fc.constantFrom(0, 0, 30, 63, -2, -70),
    pointer: fc.constantFrom(0, 0, 1, 2, -1),
    limitValue: fc.constantFrom("mov %r7, 30", "lddw %r7, 0x100000005", "mov %r7, 0"),
    insnLimit: fc.constantFrom(30, 77, 150, 400, 1000, 100000),
  })
  .map((r) => {
    const add = r.step32 ? (r.step > 0 ? `add32 %r3, ${r.step}` : `sub32 %r3, ${-r.step}`) : r.step > 0 ? `add %r3, ${r.step}` : `sub %r3, ${-r.step}`; // prettier-ignore
    const end =
      r.end === "stack"
        ? "mov %r2, %r10"
        : r.end === "short"
          ? "add %r2, %r1\nadd %r2, -9"
          : r.end === "unmapped"
            ? "mov %r2, 4096"
            : r.end === "far"
              ? "lddw %r2, 0x7fff0000"
              : "add %r2, %r1";
    const src = `
      mov %r8, %r10
      add %r8, -64
      ${end}
      stxdw [%r10-72], %r2
      ldxdw %r9, [%r10-72]
      ${r.limitValue}
      ${r.init}
      mov %r6, 0
    loop:
      mov %r5, ${r.base}
      add %r5, ${r.shift}
      add %r5, %r3
      mov %r0, %r5
      add %r0, ${r.span}
      jgt %r0, %r9, out
      ${r.access}
      add %r6, %r4
      ${r.extra}
      ${add}
      ${r.cmp} %r3, ${r.limit}, loop
    out:
      stxdw [%r1+8], %r6
      mov %r0, %r6
      exit`;
    // pointer mode: the base is set before the loop and stepped in it ('p += n'), not base + i
    const ptr = r.pointer === 0 ? src : src
      .replace("mov %r6, 0\n", `mov %r6, 0\nmov %r5, ${r.base}\nadd %r5, ${r.shift}\n`)
      .replace(`mov %r5, ${r.base}\n      add %r5, ${r.shift}\n      add %r5, %r3`, `add %r5, ${r.pointer}`); // prettier-ignore
    return { src: ptr, insnLimit: r.insnLimit };
  });

/**
 * Random rotated pointer loops: the packet test before the loop and again at its back edge
 * (what the value numbering's phi facts prove, values.ts), with the spans tested and read
 * drawn apart so that some proofs must be refused.
 */
const rotatedProgram = fc
  .record({
    base: fc.constantFrom("%r1", "%r1", "%r8", "%r10"),
    shift: fc.constantFrom(0, 0, 5, -2, -70),
    entrySpan: fc.constantFrom(1, 2, 4),
    backSpan: fc.constantFrom(1, 2, 4),
    access: fc.constantFrom("ldxb %r4, [%r5]", "ldxh %r4, [%r5]", "ldxw %r4, [%r5]", "ldxb %r4, [%r5+1]", "stxh [%r5], %r6", "ldxb %r4, [%r5-1]"), // prettier-ignore
    step: fc.constantFrom(1, 2, 3, 4, -1, 0),
    extra: fc.constantFrom("", "jeq %r4, 7, loop", "add %r5, %r4\nand %r5, -1"),
    end: fc.constantFrom("add %r2, %r1", "add %r2, %r1\nadd %r2, -9", "mov %r2, %r10", "mov %r2, 4096"), // prettier-ignore
    insnLimit: fc.constantFrom(40, 120, 600, 100000),
  })
  .map((r) => ({
    src: `
      ${r.end}
      stxdw [%r10-72], %r2
      ldxdw %r9, [%r10-72]
      mov %r8, %r10
      add %r8, -64
      mov %r5, ${r.base}
      add %r5, ${r.shift}
      mov %r6, 0
      mov %r4, 0
      mov %r0, %r5
      add %r0, ${r.entrySpan}
      jgt %r0, %r9, out
    loop:
      ${r.access}
      add %r6, %r4
      add %r5, ${r.step}
      ${r.extra}
      jgt %r6, 0x40000000, out
      mov %r0, %r5
      add %r0, ${r.backSpan}
      jle %r0, %r9, loop
    out:
      stxdw [%r1+8], %r6
      mov %r0, %r6
      exit`,
    insnLimit: r.insnLimit,
  }));

/**
 * Random straight-line header parses: bounds tests of random spans, each followed by accesses
 * inside or outside what it proves, with calls and merges between and bases and ends the
 * pivots' tests must refuse (ranges.ts).
 */
const accessOf = fc.record({
  op: fc.constantFrom("ldxb", "ldxh", "ldxw", "ldxdw", "stxb", "stxw"),
  reg: fc.constantFrom("%r5", "%r5", "%r3"),
  off: fc.integer({ min: -3, max: 40 }),
});
const parseProgram = fc
  .record({
    end: fc.constantFrom("add %r2, %r1", "add %r2, %r1", "add %r2, %r1\nadd %r2, -9", "mov %r2, %r10", "mov %r2, 4096", "lddw %r2, 0x7fff0000"), // prettier-ignore
    base: fc.constantFrom("mov %r5, %r1", "mov %r5, %r1", "mov %r5, %r1\nadd %r5, 5", "mov %r5, %r1\nadd %r5, -2", "mov %r5, %r1\nadd %r5, -70", "mov %r5, %r8", "mov %r5, %r10\nadd %r5, -514", "lddw %r5, 0x1000", "mov %r5, -2"), // prettier-ignore
    steps: fc.array(
      fc.record({
        span: fc.constantFrom(1, 8, 14, 20, 34, 60),
        test: fc.constantFrom("jgt %r3, %r9, out", "jge %r3, %r9, out", "jlt %r9, %r3, out", "jle %r3, %r9, +1\nja out", "jsgt %r3, %r9, out"), // prettier-ignore
        accesses: fc.array(accessOf, { minLength: 1, maxLength: 3 }),
        between: fc.constantFrom("", "", "call 5", "jeq %r4, 7, +1\nadd %r6, 1", "ldxdw %r9, [%r10-72]"), // prettier-ignore
      }),
      { minLength: 1, maxLength: 3 },
    ),
    insnLimit: fc.constantFrom(8, 20, 35, 100000),
  })
  .map((r) => {
    const body = r.steps.map((st) => {
      const acc = st.accesses.map(
        (a) =>
        a.op.startsWith("st") ? `${a.op} [${a.reg}${a.off >= 0 ? "+" : ""}${a.off}], %r6` : `${a.op} %r4, [${a.reg}${a.off >= 0 ? "+" : ""}${a.off}]\nadd %r6, %r4`, // prettier-ignore
      );
      return `mov %r3, %r5\nadd %r3, ${st.span}\n${st.test}\n${acc.join("\n")}\n${st.between}`;
    });
    return {
      src: `
      mov %r8, %r10
      add %r8, -64
      mov %r7, %r1
      ${r.end}
      stxdw [%r10-72], %r2
      ldxdw %r9, [%r10-72]
      ${r.base}
      mov %r6, 0
      mov %r4, 0
      ${body.join("\n")}
    out:
      mov %r0, %r6
      exit`,
      insnLimit: r.insnLimit,
    };
  });

/**
 * Runs `src` twice on both engines, with the budget `insnLimit` and r1 pointing to `n` bytes of
 * data: the same result, memory, fault or budget stop.
 */
function agree(src: string, insnLimit: number, n = 64): void {
  const mem = Uint8Array.from({ length: n }, (_, i) => (i * 53 + 11) & 0xff);
  const [i, j] = runBoth(assemble(src), { mem, machine: { insnLimit }, runs: 2 });
  expect(j).toEqual(i);
}

describe("jit: random packet loops match the interpreter", () => {
  it("straight-line header parses: same result, memory, fault or budget stop", () => {
    fc.assert(
      fc.property(parseProgram, fc.integer({ min: 0, max: 64 }), ({ src, insnLimit }, n) => {
        agree(src, insnLimit, n);
      }),
      { numRuns: Number(process.env.JIT_LOOP_RUNS ?? 300), seed: 20261209 },
    );
  });

  it("rotated pointer loops: same result, memory, fault or budget stop", () => {
    fc.assert(
      fc.property(rotatedProgram, ({ src, insnLimit }) => agree(src, insnLimit)),
      { numRuns: Number(process.env.JIT_LOOP_RUNS ?? 200), seed: 20261208 },
    );
  });

  it("same result, memory, fault or budget stop", () => {
    fc.assert(
      fc.property(loopProgram, ({ src, insnLimit }) => agree(src, insnLimit)),
      { numRuns: Number(process.env.JIT_LOOP_RUNS ?? 300), seed: 20261207 },
    );
  });
});
