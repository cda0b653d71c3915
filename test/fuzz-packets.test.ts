// Random packets (lengths 0..4000, random bytes, or real packets with bytes changed, cut or
// extended) and random contexts against every program of every fixture object: a result or a
// typed error (TestRunError for input BPF_PROG_TEST_RUN refuses, run-time faults) only.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import "../src/jit/index.js";
import { DEFAULT_BOUNDS, type Stats } from "./fuzz/harness.js";
import { TARGETS } from "./fuzz/targets.js";

describe("fuzz: random packets against the fixture programs", () => {
  it("every run gives a result or a typed error", () => {
    const t = TARGETS.packets;
    const stats: Stats = new Map();
    fc.assert(
      fc.property(t.arb(), (input) => t.check(input, DEFAULT_BOUNDS, stats)),
      { numRuns: 2000, seed: 0xfacade },
    );
    expect(stats.get("run:ok") ?? 0).toBeGreaterThan(800);
  });

  it("on the JIT too", () => {
    const t = TARGETS.packets;
    const stats: Stats = new Map();
    const jit = { ...DEFAULT_BOUNDS, engine: "jit" as const };
    fc.assert(
      fc.property(t.arb(), (input) => t.check(input, jit, stats)),
      { numRuns: 1000, seed: 0xbeef },
    );
    expect(stats.get("run:ok") ?? 0).toBeGreaterThan(400);
  });
});
