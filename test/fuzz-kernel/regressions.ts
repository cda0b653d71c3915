/**
 * Regression fixtures: shrunk cases on which an engine disagreed with the kernel, with what the
 * kernel gave. `test/fuzz-kernel.test.ts` replays every one on every engine against the
 * recorded kernel output, so they run without a kernel too.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { format } from "prettier";
import type { KernelRawCase, KernelRunResult } from "../../src/kernel/runner.js";
import { disassemble } from "../../src/isa/disasm.js";
import { fromHex } from "../../src/runtime/dump.js";
import type { Diff } from "./tsbpf-run.js";

/** The directory of the fixtures. */
export const REGRESSIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), "regressions");

/** The fields of a run that are compared. */
export type RecordedRun = Pick<KernelRunResult, "retval" | "data_out" | "maps"> & {
  ctx_out?: string;
};

/** The compared fields of a kernel result (ctx_out only when there is one). */
export function recorded(k: KernelRunResult): RecordedRun {
  const r: RecordedRun = { retval: k.retval, data_out: k.data_out, maps: k.maps };
  if (k.ctx_out !== "") r.ctx_out = k.ctx_out;
  return r;
}

/** One fixture file. */
export interface RegressionFixture {
  /** What went wrong, in a sentence (fill in by hand when saving). */
  description: string;
  /** Generator seed of the case it was shrunk from. */
  seed: string;
  /** The engine that disagreed when it was found. */
  engine: string;
  /** The differences when it was found (tsbpf's side may have changed since). */
  diffs: Diff[];
  /**
   * Engines still known to disagree: the replay expects the mismatch there (and fails once it
   * is fixed, so the entry gets removed). Absent or empty: every engine must agree.
   */
  open?: string[];
  /** The case, in the kernel runner's raw form. */
  case: KernelRawCase;
  /** What the kernel gave (duration left out; ctx_out when the case has a ctx). */
  kernel: RecordedRun;
  /**
   * Set when the kernel is the one that is wrong (a verifier bug that miscompiles the program):
   * the engines are held to `correct`, what the instructions mean, while the kernel check still
   * expects the recorded (wrong) `kernel` output until Linux is fixed.
   */
  kernelBug?: {
    description: string;
    correct: RecordedRun;
  };
  /** The programs in llvm-objdump's syntax, for people. */
  disasm: Record<string, string[]>;
}

/** Every fixture, by file name. */
export function loadRegressions(dir = REGRESSIONS_DIR): { file: string; fx: RegressionFixture }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((file) => ({
      file,
      fx: JSON.parse(readFileSync(join(dir, file), "utf8")) as RegressionFixture,
    }));
}

/** The programs of a raw case, disassembled. */
export function disasmCase(c: KernelRawCase): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const p of c.progs) {
    out[p.name] = disassemble(fromHex(p.insns)).map((line, i) => `${i}: ${line}`);
  }
  return out;
}

/** A stable file name for a case: engine plus a hash of the case. */
export function fixtureName(engine: string, c: KernelRawCase): string {
  const h = createHash("sha256").update(JSON.stringify(c)).digest("hex").slice(0, 12);
  return `${engine}-${h}.json`;
}

/** Writes a fixture (prettier-formatted JSON); returns its path, or undefined if it existed. */
export async function saveRegression(
  fx: RegressionFixture,
  dir = REGRESSIONS_DIR,
): Promise<string | undefined> {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, fixtureName(fx.engine, fx.case));
  if (existsSync(path)) return undefined;
  const text = await format(JSON.stringify(fx), { parser: "json", printWidth: 100 });
  writeFileSync(path, text);
  return path;
}
