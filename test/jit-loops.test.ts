import { describe, expect, it } from "vitest";
import { assemble } from "../src/isa/asm.js";
import { decodeProgram } from "../src/isa/decode.js";
import { buildCfg } from "../src/jit/cfg.js";
import { findCountedLoops } from "../src/jit/loops.js";
import { isSupported } from "../src/jit/lower.js";
import { runBoth } from "./jit-harness.js";

/** The counted loops of a one-function program: `r<counter> <pred> step <step>`. */
function loopsOf(src: string): string[] {
  const p = decodeProgram(assemble(src));
  const cfg = buildCfg(p, 0, p.length, 0);
  return findCountedLoops(p, cfg, isSupported).map(
    (l) => `r${l.reg} ${l.pred.toString(16)} step ${l.step} w${l.width} cost ${l.maxCost}`,
  );
}

/** A loop over `init`..`cond` stepping by `update`, summing r1's bytes and storing the total. */
const LOOP = (init: string, update: string, cond: string, extra = "") => `
  ${init}
  mov %r0, 0
  mov %r6, 7
loop:
  mov %r4, %r3
  and %r4, 15
  add %r4, %r1
  ldxb %r5, [%r4]
  add %r0, %r5
  ${extra}
  ${update}
  ${cond}
  ${"add %r0, 1\n".repeat(200)}
  stxdw [%r1+16], %r0
  add %r0, %r6
  stxdw [%r1+24], %r3
  mul %r0, 3
  stxb [%r1+32], %r0
  exit`;

const FORMS: [string, string, string, string][] = [
  ["jne, up", "mov %r3, 0", "add %r3, 2", "jne %r3, 40, loop"],
  ["jlt, up", "mov %r3, 1", "add %r3, 3", "jlt %r3, 40, loop"],
  ["jle, up", "mov %r3, 0", "add %r3, 1", "jle %r3, 20, loop"],
  ["jgt, down", "mov %r3, 50", "sub %r3, 3", "jgt %r3, 5, loop"],
  ["jge, down", "mov %r3, 20", "add %r3, -1", "jge %r3, 3, loop"],
  ["jslt, up", "mov %r3, 0", "add %r3, 1", "jslt %r3, 17, loop"],
  ["jsge, down", "mov %r3, 30", "sub %r3, 2", "jsge %r3, 4, loop"],
  ["32-bit jlt", "mov32 %r3, 0", "add32 %r3, 1", "jlt32 %r3, 25, loop"],
  ["32-bit jne", "mov32 %r3, 2", "add32 %r3, 2", "jne32 %r3, 30, loop"],
  ["limit in a register", "mov %r3, 0\nmov %r7, 33", "add %r3, 1", "jlt %r3, %r7, loop"],
  // clang steps a 64-bit index and compares its low half: 'r3 += 2; if w3 != 1500'
  ["64-bit step, 32-bit compare", "mov %r3, 0", "add %r3, 2", "jne32 %r3, 40, loop"],
  ["32-bit step, 64-bit compare", "lddw %r3, 0x500000001", "add32 %r3, 3", "jlt %r3, 40, loop"],
];

/**
 * Runs `src` on both engines with budgets from 1 to a little past what the run takes (all of
 * the first 50 and the last 60, every 13th between) and expects the same outcome each time: a
 * budget stop at the same pc, the same memory. `LOOP`'s tail of 200 instructions lets a budget
 * big enough for the fast copy's guard still stop after the loop, where a wrong charge shows.
 */
function sweep(src: string, mem: Uint8Array): number {
  const code = assemble(src);
  const ok = (limit: number) => runBoth(code, { mem, machine: { insnLimit: limit } })[0].ok;
  let lo = 1;
  let hi = 8192;
  expect(ok(hi)).toBe(true);
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ok(mid)) hi = mid;
    else lo = mid + 1;
  }
  const needed = lo;
  for (let limit = 1; limit <= needed + 1; limit++) {
    if (limit > 50 && limit < needed - 60 && limit % 13 !== 0) continue;
    const [i, j] = runBoth(code, { mem, machine: { insnLimit: limit } });
    expect(j, `insnLimit ${limit}`).toEqual(i);
    expect(i.ok).toBe(limit >= needed);
  }
  return needed;
}

describe("jit: counted loops (planning)", () => {
  it("finds counters stepped by a constant and compared at the back edge", () => {
    expect(loopsOf(LOOP("mov %r3, 0", "add %r3, 2", "jne %r3, 40, loop"))).toEqual(["r3 50 step 2 w64 cost 7"]); // prettier-ignore
    const found = FORMS.map(([, a, b, c]) => loopsOf(LOOP(a, b, c)).length);
    expect(found).toEqual(FORMS.map(() => 1));
    expect(loopsOf(LOOP("mov %r3, 50", "sub %r3, 3", "jgt %r3, 5, loop"))).toEqual(["r3 20 step -3 w64 cost 7"]); // prettier-ignore
    expect(loopsOf(LOOP("mov32 %r3, 0", "add32 %r3, 1", "jlt32 %r3, 25, loop"))).toEqual(["r3 a0 step 1 w32 cost 7"]); // prettier-ignore
  });

  it("refuses loops it cannot bound or copy", () => {
    // a call, a second write of the counter, a register step, the limit written in the loop
    expect(loopsOf(LOOP("mov %r3, 0", "add %r3, 1", "jlt %r3, 9, loop", "call 5"))).toEqual([]);
    expect(loopsOf(LOOP("mov %r3, 0", "add %r3, 1", "jlt %r3, 9, loop", "mov %r3, 2"))).toEqual([]); // prettier-ignore
    expect(loopsOf(LOOP("mov %r3, 0\nmov %r7, 1", "add %r3, %r7", "jlt %r3, 9, loop"))).toEqual([]); // prettier-ignore
    expect(loopsOf(LOOP("mov %r3, 0\nmov %r7, 9", "add %r3, 1", "jlt %r3, %r7, loop", "add %r7, 1"))).toEqual([]); // prettier-ignore
    // counting the wrong way, a negative limit, a step of 2^15 + 1, jset
    expect(loopsOf(LOOP("mov %r3, 0", "sub %r3, 1", "jlt %r3, 9, loop"))).toEqual([]);
    expect(loopsOf(LOOP("mov %r3, 0", "add %r3, 1", "jlt %r3, -9, loop"))).toEqual([]);
    expect(loopsOf(LOOP("mov %r3, 0", "add %r3, 32769", "jlt %r3, 99999, loop"))).toEqual([]);
    expect(loopsOf(LOOP("mov %r3, 0", "add %r3, 1", "jset %r3, 9, loop"))).toEqual([]);
  });

  it("takes only the innermost of nested loops", () => {
    const src = `
      mov %r6, 0
    outer:
      mov %r3, 0
    inner:
      add %r0, %r3
      add %r3, 1
      jlt %r3, 5, inner
      add %r6, 1
      jlt %r6, 4, outer
      exit`;
    expect(loopsOf(src)).toEqual(["r3 a0 step 1 w64 cost 3"]);
  });
});

describe("jit: counted loops (budget stops match the interpreter exactly)", () => {
  const mem = Uint8Array.from({ length: 40 }, (_, i) => (i * 29 + 3) & 0xff);

  for (const [name, init, update, cond] of FORMS) {
    it(name, () => {
      sweep(LOOP(init, update, cond), mem);
    });
  }

  it("a branch inside the loop, and an exit before and after the counter's step", () => {
    const branchy = LOOP("mov %r3, 0", "add %r3, 1", "jlt %r3, 30, loop", "jset %r5, 1, odd\nadd %r0, 100\nodd:"); // prettier-ignore
    sweep(branchy, mem);
    const early = LOOP("mov %r3, 0", "add %r3, 1", "jlt %r3, 30, loop", "jgt %r0, 1500, out");
    sweep(early.replace("  exit", "out:\n  exit"), mem);
    const late = LOOP("mov %r3, 0", "add %r3, 1\njgt %r0, 1500, out", "jlt %r3, 30, loop");
    sweep(late.replace("  exit", "out:\n  exit"), mem);
  });

  it("counters the guard refuses: out of range, or never equal to the limit", () => {
    // from 2^31 to 2^31 + 10: not in [0, 2^31)
    sweep(LOOP("lddw %r3, 0x80000000\nlddw %r7, 0x8000000a", "add %r3, 1", "jne %r3, %r7, loop"), mem); // prettier-ignore
    // -4, stepped by a 32-bit add and compared as 64 bits: 0xfffffffc is out of range (the
    // guard's bound, 2^31, was once emitted sign-extended and let this in)
    sweep(LOOP("mov %r3, -4", "add32 %r3, 4", "jslt %r3, 3, loop"), mem);
    // a 64-bit counter out of range whose low half the compare sees
    sweep(LOOP("lddw %r3, 0x500000000", "add %r3, 2", "jne32 %r3, 40, loop"), mem);
    // only the low 32 bits of the limit count in a 32-bit compare
    sweep(LOOP("mov %r3, 0\nlddw %r7, 0x100000005", "add32 %r3, 1", "jlt32 %r3, %r7, loop"), mem); // prettier-ignore
    // 1, 3, 5, ... never equals 40, and a 64-bit limit of 2^32 + 5 is out of range: both run
    // until the budget stops them
    for (const src of [
      LOOP("mov %r3, 1", "add %r3, 2", "jne %r3, 40, loop"),
      LOOP("mov %r3, 0\nlddw %r7, 0x100000005", "add %r3, 1", "jlt %r3, %r7, loop"),
    ]) {
      const [i, j] = runBoth(assemble(src), { mem, machine: { insnLimit: 5000 } });
      expect(i.ok).toBe(false);
      expect(j).toEqual(i);
    }
  });
});
