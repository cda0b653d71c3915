import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { conformanceProgram, parseConformanceFile } from "../src/conformance/index.js";
import { AsmError, ValidationError } from "../src/errors.js";
import { assemble } from "../src/isa/asm.js";
import { decodeProgram } from "../src/isa/decode.js";
import { disassemble } from "../src/isa/disasm.js";
import { validateProgram } from "../src/isa/validate.js";

const ROOT = join(import.meta.dirname, "conformance");
const TESTS = join(ROOT, "tests");
const NEGATIVE = join(ROOT, "negative");
const files = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith(".data"))
    .sort();
const read = (dir: string, f: string): string => readFileSync(join(dir, f), "utf8");
const permissive = { allowCallx: true, helperExists: () => true };

describe("conformance tests/", () => {
  const names = files(TESTS);
  it("has the 313 files", () => expect(names.length).toBe(313));

  it.each(names)("%s assembles and validates", (name) => {
    const test = parseConformanceFile(read(TESTS, name));
    const bytes = conformanceProgram(test);
    expect(bytes.length).toBeGreaterThan(0);
    validateProgram(decodeProgram(bytes), permissive);
    if (test.asm !== undefined && test.raw !== undefined) {
      expect(assemble(test.asm)).toEqual(test.raw);
    }
    expect(test.result !== undefined || test.error !== undefined).toBe(true);
    // the conformance syntax round-trips every test program
    const text = disassemble(bytes, { syntax: "conformance" }).join("\n");
    expect(assemble(text)).toEqual(bytes);
    expect(text).not.toContain(".raw");
  });
});

describe("conformance negative/", () => {
  const names = files(NEGATIVE);
  const refusedByAssembler = names.filter((n) => n.startsWith("invalid_"));

  it.each(refusedByAssembler)("%s is refused by the assembler", (name) => {
    const text = read(NEGATIVE, name);
    const run = (): Uint8Array => conformanceProgram(parseConformanceFile(text));
    expect(run).toThrow(AsmError);
    const test = (() => {
      try {
        return parseConformanceFile(text);
      } catch {
        return undefined;
      }
    })();
    if (test?.error) expect(() => run()).toThrow(test.error);
  });

  it("invalid_lock*: 'Invalid number of operands for lock'", () => {
    for (const name of ["invalid_lock.data", "invalid_lock2.data"]) {
      const test = parseConformanceFile(read(NEGATIVE, name));
      expect(() => conformanceProgram(test)).toThrow("Invalid number of operands for lock");
    }
  });

  it("error.data is valid code whose expected error never comes (a runner must fail it)", () => {
    const test = parseConformanceFile(read(NEGATIVE, "error.data"));
    expect(test.error).toBe("Invalid");
    const p = decodeProgram(conformanceProgram(test));
    expect(() => validateProgram(p)).not.toThrow();
  });

  it.each(names.filter((n) => n.startsWith("unused-")))(
    "%s is refused by validateProgram",
    (name) => {
      const test = parseConformanceFile(read(NEGATIVE, name));
      expect(test.error).toBe("");
      const p = decodeProgram(conformanceProgram(test));
      expect(() => validateProgram(p, permissive)).toThrow(ValidationError);
      try {
        validateProgram(p, permissive);
      } catch (e) {
        expect((e as ValidationError).pc).toBe(0);
        expect((e as ValidationError).code).toBe("RESERVED_FIELD");
      }
    },
  );

  it.each(names.filter((n) => n.startsWith("empty")))("%s has an empty program", (name) => {
    const test = parseConformanceFile(read(NEGATIVE, name));
    const bytes = conformanceProgram(test);
    expect(bytes.length).toBe(0);
    expect(() => validateProgram(decodeProgram(bytes))).toThrow(/empty program/);
  });

  it("incorrect_return_value_high_bits: result differs from the truth only above bit 31", () => {
    const test = parseConformanceFile(read(NEGATIVE, "incorrect_return_value_high_bits.data"));
    expect(test.result).toBe(0x8977665544332211n);
    validateProgram(decodeProgram(conformanceProgram(test)));
  });

  it("covers every negative file", () => {
    const covered = names.filter(
      (n) =>
        n.startsWith("invalid_") ||
        n.startsWith("unused-") ||
        n.startsWith("empty") ||
        n === "error.data" ||
        n === "incorrect_return_value_high_bits.data",
    );
    expect(covered).toEqual(names);
  });
});
