// Random bytecode through execRaw with a small instruction budget: validated and run, or a
// typed error (ValidationError at load; MemoryAccessError, BudgetError, HelperError,
// RuntimeFault at run time) — nothing else. See test/fuzz/bytecode.ts.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../src/errors.js";
import "../src/jit/index.js";
import { execRaw } from "../src/index.js";
import { memArbitrary, rawBytecodeArb, structuredBytecodeArb } from "./fuzz/bytecode.js";
import { DEFAULT_BOUNDS, fuzzBytecode, type Stats } from "./fuzz/harness.js";

describe("fuzz: random bytecode", () => {
  it("raw 8-byte words: a result or a typed error", () => {
    const stats: Stats = new Map();
    fc.assert(
      fc.property(rawBytecodeArb(), memArbitrary, (code, mem) =>
        fuzzBytecode(code, mem, DEFAULT_BOUNDS, stats),
      ),
      { numRuns: 600, seed: 0x5eed },
    );
    expect([...stats.keys()].length).toBeGreaterThan(5);
  });

  it("structured random instructions: a result or a typed error", () => {
    const stats: Stats = new Map();
    fc.assert(
      fc.property(structuredBytecodeArb(), memArbitrary, (code, mem) =>
        fuzzBytecode(code, mem, DEFAULT_BOUNDS, stats),
      ),
      { numRuns: 1200, seed: 0xb0b },
    );
    // Most structured programs get past the validator and run (to a result or a fault).
    const ran = ["exec:ok", "exec:MEMORY_ACCESS", "exec:BUDGET_EXCEEDED", "exec:HELPER"];
    const n = ran.reduce((a, k) => a + (stats.get(k) ?? 0), 0);
    expect(n).toBeGreaterThan(300);
  });

  it("structured random instructions on the JIT: a result or a typed error", () => {
    const stats: Stats = new Map();
    const jit = { ...DEFAULT_BOUNDS, engine: "jit" as const };
    fc.assert(
      fc.property(structuredBytecodeArb(), memArbitrary, (code, mem) =>
        fuzzBytecode(code, mem, jit, stats),
      ),
      { numRuns: 400, seed: 0x717 },
    );
    expect(stats.get("exec:ok") ?? 0).toBeGreaterThan(50);
  });

  it("refuses a program whose size is not a multiple of 8 with a ValidationError", () => {
    const e = (() => {
      try {
        execRaw(new Uint8Array(13));
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(ValidationError);
    expect(e).toMatchObject({ code: "BAD_SIZE" });
  });
});
