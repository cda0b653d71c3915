import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { conformanceProgram, parseConformanceFile } from "../conformance/parse.js";
import type { EngineName } from "../runtime/engine.js";
import { execRaw } from "../runtime/exec.js";
import { ensureEngine } from "./engines.js";
import { out } from "./output.js";

/** Outcome of one bpf_conformance file. */
export interface ConformanceOutcome {
  file: string;
  pass: boolean;
  /** Whether the program was refused (by the assembler, the parser or the validator). */
  refused: boolean;
  /** Why it failed (or, for an expected error, the error seen). */
  detail: string;
}

/**
 * Runs one bpf_conformance file: assembles (or reads the raw words), loads, runs with r1 = a
 * copy of `-- mem` and r2 = its length, and compares r0 on all 64 bits with `-- result`. A
 * file with `-- error` passes when loading fails.
 */
export function runConformanceFile(file: string, engine: EngineName): ConformanceOutcome {
  const name = basename(file);
  let expectError = false;
  let loaded = false;
  try {
    const t = parseConformanceFile(readFileSync(file, "utf8"));
    expectError = t.error !== undefined;
    const code = t.raw !== undefined || t.asm !== undefined ? conformanceProgram(t) : undefined;
    if (code === undefined || code.length === 0) {
      return { file: name, pass: false, refused: true, detail: "no program in the file" };
    }
    const r0 = execRaw(code, t.mem.length > 0 ? t.mem : undefined, {
      engine,
      onLoaded: () => (loaded = true),
    });
    if (expectError)
      return {
        file: name,
        pass: false,
        refused: false,
        detail: `expected an error, got r0 = 0x${r0.toString(16)}`,
      };
    if (t.result === undefined)
      return { file: name, pass: false, refused: false, detail: "no -- result in the file" };
    if (r0 !== t.result) {
      return {
        file: name,
        pass: false,
        refused: false,
        detail: `r0 = 0x${r0.toString(16)}, expected 0x${t.result.toString(16)}`,
      };
    }
    return { file: name, pass: true, refused: false, detail: "" };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return { file: name, pass: expectError, refused: !loaded, detail: msg };
  }
}

/** `tsbpf conformance FILE…`: a line per failure, then `N passed, M failed`. */
export async function conformanceCommand(
  files: string[],
  opts: { engine: EngineName },
): Promise<number> {
  await ensureEngine(opts.engine);
  let passed = 0;
  let failed = 0;
  for (const f of files) {
    const r = runConformanceFile(f, opts.engine);
    if (r.pass) passed++;
    else {
      failed++;
      out(`FAIL ${r.file}: ${r.detail}`);
    }
  }
  out(`${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}
