import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runConformanceFile } from "../src/cli/conformance.js";
import type { EngineName } from "../src/runtime/engine.js";
import { availableEngines } from "./engines.js";

const root = join(import.meta.dirname, "conformance");
const tests = readdirSync(join(root, "tests")).filter((f) => f.endsWith(".data"));
const negative = readdirSync(join(root, "negative")).filter((f) => f.endsWith(".data"));

describe.each(availableEngines())("bpf_conformance on %s", (engine: EngineName) => {
  it("has all 313 files", () => {
    expect(tests.length).toBe(313);
  });

  it.each(tests)("%s", (file) => {
    const r = runConformanceFile(join(root, "tests", file), engine);
    expect(r.detail).toBe("");
    expect(r.pass).toBe(true);
  });

  it.each(negative)("negative/%s is refused or fails", (file) => {
    const r = runConformanceFile(join(root, "negative", file), engine);
    // refused by the assembler or validator, or run with a result that does not match
    expect(r.refused || !r.pass).toBe(true);
  });
});
