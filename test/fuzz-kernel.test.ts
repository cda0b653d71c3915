/**
 * Differential fuzzing against the Linux kernel: generated programs (ALU, jumps, stack, map
 * values, packet, atomics, v4 instructions, bpf-to-bpf calls, map helpers, tail calls) run in the
 * kernel with BPF_PROG_TEST_RUN and on every tsbpf engine, which must give the same retval,
 * packet and maps. Also replays every shrunk mismatch saved in test/fuzz-kernel/regressions/
 * against the kernel output recorded with it, so that part runs without a kernel.
 *
 * TSBPF_FUZZ_COUNT and TSBPF_FUZZ_SEED change the size and seed of the kernel run (default 3000
 * programs, seed "ci"); `npx tsx scripts/fuzz-kernel.ts` runs long campaigns.
 */
import { describe, expect, it } from "vitest";
import { isRawError, kernelAvailable, runRawInKernel } from "../src/kernel/runner.js";
import { fuzzBatch, fuzzEngines, FuzzStats, type Mismatch } from "./fuzz-kernel/harness.js";
import { caseSize } from "./fuzz-kernel/ir.js";
import { isDeepStrictEqual } from "node:util";
import { disasmCase, loadRegressions, recorded } from "./fuzz-kernel/regressions.js";
import { shrink } from "./fuzz-kernel/shrink.js";
import { compareOutcome, runRawInTsbpf } from "./fuzz-kernel/tsbpf-run.js";

const avail = kernelAvailable();
if (!avail.ok) console.warn(`kernel differential fuzzing skipped: ${avail.reason}`);

const engines = await fuzzEngines();
const COUNT = Number(process.env.TSBPF_FUZZ_COUNT ?? 3000);
const SEED = process.env.TSBPF_FUZZ_SEED ?? "ci";
const BATCH = 500;

/** A failure message a person can act on: the shrunk program, what differs, how to rerun. */
function explain(m: Mismatch): string {
  const s = shrink(m.fuzz, m.engine, m.kernel, m.diffs, { timeoutMs: 30_000 });
  const progs = Object.entries(disasmCase(s.raw))
    .map(([name, lines]) => `${name}:\n    ${lines.join("\n    ")}`)
    .join("\n  ");
  const diffs = s.diffs.map((d) => `  ${d.field}: kernel ${d.kernel}, tsbpf ${d.tsbpf}`);
  return [
    `${m.engine} disagrees with the kernel on seed ${m.seed} (shrunk from ${caseSize(m.fuzz)} ` +
      `to ${caseSize(s.fuzz)} instructions):`,
    `  ${progs}`,
    ...diffs,
    `rerun: npx tsx scripts/fuzz-kernel.ts --case ${m.seed}; save it as a regression: ` +
      `npx tsx scripts/fuzz-kernel.ts --seed ${SEED} --count ${COUNT}`,
  ].join("\n");
}

describe("differential fuzzing against the kernel", () => {
  it.skipIf(!avail.ok)(
    `${COUNT} generated programs (seed "${SEED}") agree with the kernel on ${engines.join(", ")}`,
    () => {
      const stats = new FuzzStats();
      const t0 = performance.now();
      const found: Mismatch[] = [];
      for (let i = 0; i < COUNT; i += BATCH) {
        const seeds = Array.from(
          { length: Math.min(BATCH, COUNT - i) },
          (_, j) => `${SEED}:${i + j}`,
        );
        found.push(...fuzzBatch(seeds, { engines }, stats));
      }
      console.log(stats.summary(performance.now() - t0));
      expect(stats.nondeterministic, "the generator made programs that leak addresses").toBe(0);
      // the generator tracks what the verifier wants: rejections mean it lost track
      expect(stats.rejectionRate()).toBeLessThan(0.02);
      expect(stats.otherErrors).toBe(0);
      if (found.length > 0) expect.fail(explain(found[0]) + `\n(${found.length} mismatches)`);
    },
    300_000,
  );
});

describe("fuzz regressions (recorded kernel output)", () => {
  const fixtures = loadRegressions();
  for (const { file, fx } of fixtures) {
    for (const engine of engines) {
      const open = fx.open?.includes(engine) ?? false;
      // a mismatch not fixed yet is expected to persist: the test fails once it is fixed, so
      // the engine gets taken off the fixture's `open` list
      (open ? it.fails : it)(`${file} on ${engine}${open ? " (open: still differs)" : ""}`, () => {
        const want = fx.kernelBug?.correct ?? fx.kernel;
        const kernel = { ...want, duration_ns: 0, ctx_out: want.ctx_out ?? "" };
        expect(compareOutcome(kernel, runRawInTsbpf(fx.case, engine))).toEqual([]);
      });
    }
  }

  it.skipIf(!avail.ok || fixtures.length === 0)(
    "the kernel still gives the recorded outputs",
    () => {
      const outs = runRawInKernel(fixtures.map((f) => f.fx.case));
      outs.forEach((o, i) => {
        const { file, fx } = fixtures[i];
        if (isRawError(o)) expect.fail(`${file}: the kernel now refuses it: ${o.error}`);
        // a kernel bug may be fixed in the running kernel: then it gives the correct output
        const got = { file, ...recorded(o) };
        const fixed = fx.kernelBug ? { file, ...fx.kernelBug.correct } : undefined;
        if (fixed !== undefined && isDeepStrictEqual(got, fixed)) return;
        expect(got).toEqual({ file, ...fx.kernel });
      });
    },
  );
});
