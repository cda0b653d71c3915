import { describe, expect, it } from "vitest";
import { assemble } from "../src/isa/asm.js";
import { runBoth } from "./jit-harness.js";

/**
 * Bounds-check caches that live in globals between runs (memcheck.ts): outside loops a cache is
 * tested against its globals, which keep the outermost stack frame only (live at every depth).
 */
describe("jit: bounds-check caches kept between runs", () => {
  /**
   * `f` reads through r1 outside loops. Runs alternate by a counter in the data: odd runs reach
   * f through g (depth 2) with a pointer into f's own frame (frame 2, live); even runs call f
   * from main (depth 1) with the same address (frame 2, dead there).
   */
  const src = `
    ldxb %r6, [%r1]
    add %r6, 1
    stxb [%r1], %r6
    mov %r1, %r10
    add %r1, -1032
    and %r6, 1
    jeq %r6, 0, direct
    call local g
    exit
  direct:
    call local f
    exit
  g:
    mov %r1, %r10
    add %r1, -520
    call local f
    exit
  f:
    stxdw [%r10-8], %r1
    ldxdw %r2, [%r10-8]
    stdw [%r2], 7
    ldxdw %r0, [%r2]
    exit`;

  it("a stack range cached at one depth admits no frame dead at another", () => {
    const mem = new Uint8Array(8);
    for (const runs of [1, 2]) {
      const [i, j] = runBoth(assemble(src), { mem, runs });
      expect(j).toEqual(i);
      expect(i.ok).toBe(runs === 1);
    }
  });

  it("a pointer into the outermost frame hits the cache on every run", () => {
    const outer = src.replace("add %r1, -1032", "add %r1, -16").replace("add %r1, -520", "add %r1, 0"); // prettier-ignore
    const mem = new Uint8Array(8);
    for (let runs = 1; runs <= 4; runs++) {
      const [i, j] = runBoth(assemble(outer), { mem, runs });
      expect(i.ok).toBe(true);
      expect(j).toEqual(i);
    }
  });
});
