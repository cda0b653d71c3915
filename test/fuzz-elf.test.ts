// Hostile objects: mutated fixture objects (structural fields inflated, bits flipped, bytes
// copied, truncated) either load — and then every program runs on a few packets — or fail with
// a typed error; never another exception, a hang or unbounded memory. See test/fuzz/.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import "../src/jit/index.js";
import { seeds } from "./fuzz/corpus.js";
import { DEFAULT_BOUNDS, FUZZ_PACKETS, fuzzObject, type Stats } from "./fuzz/harness.js";
import { applyMutations } from "./fuzz/mutate.js";
import { TARGETS } from "./fuzz/targets.js";

const elf = TARGETS.elf;

describe("fuzz: mutated objects", () => {
  it("load and run, or fail with a typed error (random mutants)", () => {
    const stats: Stats = new Map();
    fc.assert(
      fc.property(elf.arb(), (input) => elf.check(input, DEFAULT_BOUNDS, stats)),
      { numRuns: 1200, seed: 0x7b9f },
    );
    // The mutants reach every stage: some load and run, and failures come from many checks.
    expect(stats.get("load:ok") ?? 0).toBeGreaterThan(200);
    expect(stats.get("run:ok") ?? 0).toBeGreaterThan(500);
    const codes = [...stats.keys()].filter((k) => k.startsWith("load:") && k !== "load:ok");
    expect(codes.length).toBeGreaterThan(10);
  });

  it("load and run on the JIT, or fail with a typed error", () => {
    const stats: Stats = new Map();
    const jit = { ...DEFAULT_BOUNDS, engine: "jit" as const };
    fc.assert(
      fc.property(elf.arb(), (input) => elf.check(input, jit, stats)),
      { numRuns: 400, seed: 0x3e1f },
    );
    expect(stats.get("run:ok") ?? 0).toBeGreaterThan(100);
  });

  it("survive every header, section header, symbol and BTF header field set to extremes", () => {
    // A systematic sweep over one object that has everything: BTF, .BTF.ext, a prog_array,
    // subprograms, relocations.
    const s = seeds().find((x) => x.name === "fixtures/tail_subprog.bpf.o");
    if (s === undefined) throw new Error("fixture missing");
    const fields = s.layout.fields.filter(
      (f) =>
        !f.name.includes(" insn ") &&
        !f.name.includes("line_info[") &&
        !f.name.startsWith(".rel") &&
        f.kind !== "enum",
    );
    expect(fields.length).toBeGreaterThan(200);
    const stats: Stats = new Map();
    for (const f of fields) {
      const i = s.layout.fields.indexOf(f);
      for (const value of [0xffff_ffffn, BigInt(s.bytes.length + 1)]) {
        const bytes = applyMutations(s.bytes, s.layout.fields, [{ op: "field", field: i, value }]);
        try {
          fuzzObject(bytes, DEFAULT_BOUNDS, stats, [FUZZ_PACKETS[0]]);
        } catch (e) {
          throw new Error(`${f.name} = 0x${value.toString(16)}: ${(e as Error).message}`);
        }
      }
    }
    expect(stats.get("load:ok") ?? 0).toBeGreaterThan(0);
  });
});
