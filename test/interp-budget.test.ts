import { describe, expect, it } from "vitest";
import { assemble } from "../src/isa/asm.js";
import { runBoth } from "./jit-harness.js";

// The interpreter hands its hot loop the budget in chunks of 65536 instructions: a run stops
// at the same pc, with the same error, whichever side of a chunk's end the budget runs out.
const loop = `mov %r0, 0
loop:
add %r0, 1
jlt %r0, 300000, loop
exit`;
// a helper call and a division (both run outside the hot loop) in every round
const withCalls = `mov %r6, 0
loop:
call 5
add %r6, 1
div %r0, 3
jlt %r6, 100000, loop
mov %r0, %r6
exit`;
const limits = [1, 2, 65535, 65536, 65537, 131072, 131073, 196610, 300002, 300003, 500003];

describe("interpreter: the instruction budget across the hot loop's chunks", () => {
  it.each([
    ["a loop", loop],
    ["a loop with calls", withCalls],
  ])("%s stops where the JIT stops, at every limit", (_name, src) => {
    for (const insnLimit of limits) {
      const [i, j] = runBoth(assemble(src), { machine: { insnLimit } });
      expect(i).toEqual(j);
    }
  });

  it("stops at the pc the budget names", () => {
    const at = (insnLimit: number) => {
      const [i] = runBoth(assemble(loop), { machine: { insnLimit } });
      return i.ok ? "ok" : i.error;
    };
    expect(at(65536)).toMatch(/^pc 2 in prog: instruction budget of 65536 exhausted/);
    expect(at(65537)).toMatch(/^pc 1 in prog: instruction budget of 65537 exhausted/);
    expect(at(1_000_000)).toBe("ok");
  });
});
