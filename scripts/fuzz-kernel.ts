/**
 * Long differential fuzz runs against the Linux kernel:
 *
 *   npx tsx scripts/fuzz-kernel.ts --count 100000 --seed S
 *
 * Generates programs (seeds S:0, S:1, …), runs each in the kernel (BPF_PROG_TEST_RUN, through
 * native/kernel-runner.c's raw mode, many per process) and on every tsbpf engine, and compares
 * retval, packet and maps. Each mismatch is shrunk and saved under
 * test/fuzz-kernel/regressions/, which `npm test` replays. Exit status 1 when any mismatch was
 * found, 2 when the kernel cannot be used.
 *
 * Options: --count N (default 10000)  --seed S (default: random, printed)  --batch N (500)
 *          --engines interp,jit (default: every registered engine)  --shrink N (most mismatches
 *          to shrink and save, default 10)  --no-save  --case SEED (run one seed and print it)
 *          --stale-pointers (use map value pointers after an update/delete of their map)
 *          --per-cpu-maps, --lru (more map types)  --big (programs of thousands of insns)  --kernel-bugs (also what Linux 6.18's
 *          verifier miscompiles: see test/fuzz-kernel/regressions/kernel-bug-*.json)
 *          --out DIR (where to save fixtures; default test/fuzz-kernel/regressions)  --quiet
 */
import { parseArgs } from "node:util";
import { isRawError, kernelAvailable, possibleCpus, runRawInKernel } from "../src/kernel/runner.js";
import type { EngineName } from "../src/runtime/engine.js";
import { generateCase, type GenOptions } from "../test/fuzz-kernel/gen.js";
import { fuzzBatch, fuzzEngines, FuzzStats, type Mismatch } from "../test/fuzz-kernel/harness.js";
import { caseSize, compileCase } from "../test/fuzz-kernel/ir.js";
import { disasmCase, recorded, saveRegression } from "../test/fuzz-kernel/regressions.js";
import { diffClass, shrink } from "../test/fuzz-kernel/shrink.js";
import { compareOutcome, runRawInTsbpf, type Diff } from "../test/fuzz-kernel/tsbpf-run.js";

const { values: args } = parseArgs({
  options: {
    count: { type: "string", default: "10000" },
    seed: { type: "string" },
    batch: { type: "string", default: "500" },
    engines: { type: "string" },
    shrink: { type: "string", default: "10" },
    "no-save": { type: "boolean", default: false },
    case: { type: "string" },
    quiet: { type: "boolean", default: false },
    "stale-pointers": { type: "boolean", default: false },
    "per-cpu-maps": { type: "boolean", default: false },
    lru: { type: "boolean", default: false },
    "kernel-bugs": { type: "boolean", default: false },
    big: { type: "boolean", default: false },
    out: { type: "string" },
  },
  strict: true,
});

function int(name: string, v: string | undefined): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`fuzz-kernel: --${name} wants a whole number, got "${v}"`);
    process.exit(2);
  }
  return n;
}

const showDiffs = (diffs: Diff[]): string =>
  diffs
    .slice(0, 6)
    .map((d) => `    ${d.field}: kernel ${d.kernel} / tsbpf ${d.tsbpf}`)
    .join("\n");

async function main(): Promise<number> {
  const avail = kernelAvailable();
  if (!avail.ok) {
    console.error(`fuzz-kernel: the kernel cannot be used: ${avail.reason}`);
    return 2;
  }
  const registered = await fuzzEngines();
  const engines = (args.engines?.split(",") ?? registered) as EngineName[];
  for (const e of engines) {
    if (!registered.includes(e)) {
      console.error(`fuzz-kernel: no engine "${e}" (have ${registered.join(", ")})`);
      return 2;
    }
  }

  const gen: GenOptions = {
    numCpus: possibleCpus(),
    stalePointers: args["stale-pointers"],
    perCpuMaps: args["per-cpu-maps"],
    lru: args.lru,
    kernelBugs: args["kernel-bugs"],
    ...(args.big ? { mainStmts: [100, 400] as [number, number], maxProgs: 6 } : {}),
  };
  if (args.case !== undefined) {
    const raw = compileCase(generateCase(args.case, gen));
    for (const [name, lines] of Object.entries(disasmCase(raw))) {
      console.log(`${name}:\n  ${lines.join("\n  ")}`);
    }
    const k = runRawInKernel([raw])[0];
    console.log(`kernel: ${JSON.stringify(k)}`);
    if (isRawError(k)) return 0;
    let bad = 0;
    for (const e of engines) {
      const t = runRawInTsbpf(raw, e);
      const d = compareOutcome(k, t);
      console.log(`${e}: ${d.length === 0 ? "agrees" : `DIFFERS\n${showDiffs(d)}`}`);
      bad += d.length > 0 ? 1 : 0;
    }
    return bad > 0 ? 1 : 0;
  }

  const count = int("count", args.count);
  const batch = Math.max(1, int("batch", args.batch));
  const maxShrink = int("shrink", args.shrink);
  const seed = args.seed ?? Date.now().toString(36);
  console.log(`fuzz-kernel: ${count} programs, seed ${seed}, engines ${engines.join(", ")}`);

  const stats = new FuzzStats();
  const found: Mismatch[] = [];
  const t0 = performance.now();
  for (let i = 0; i < count; i += batch) {
    const seeds = Array.from({ length: Math.min(batch, count - i) }, (_, j) => `${seed}:${i + j}`);
    const mm = fuzzBatch(seeds, { engines, gen }, stats);
    for (const m of mm) {
      console.log(`MISMATCH ${m.engine} seed ${m.seed}\n${showDiffs(m.diffs)}`);
    }
    found.push(...mm);
    if (!args.quiet) {
      const s = (performance.now() - t0) / 1000;
      console.log(
        `[${stats.generated}/${count}] ${(stats.rejectionRate() * 100).toFixed(2)}% rejected, ` +
          `${stats.mismatches} mismatches, ${(stats.generated / s).toFixed(0)} programs/s`,
      );
    }
  }
  const elapsed = performance.now() - t0;
  console.log(stats.summary(elapsed));
  for (const e of stats.examples.slice(0, 3)) {
    const tail = e.log.trim().split("\n").slice(-12).join("\n    ");
    console.log(`rejected: seed ${e.seed}: ${e.reason}\n    ${tail}`);
  }

  const kindOf = (m: Mismatch): string => {
    const classes = [...new Set(m.diffs.map(diffClass))].sort().join(",");
    const err = m.diffs.find((d) => d.field === "error");
    // errors by their message's shape (no numbers)
    const why =
      err !== undefined ? ` (${err.tsbpf.replace(/0x[0-9a-f]+|\d+/g, "N").slice(0, 80)})` : "";
    return `${m.engine} ${classes}${why}`;
  };
  const tally = new Map<string, number>();
  for (const m of found) tally.set(kindOf(m), (tally.get(kindOf(m)) ?? 0) + 1);
  for (const [kind, n] of tally) console.log(`mismatch ${n}x: ${kind}`);

  // shrink one mismatch per kind (engine and fields), save each as a fixture
  const kinds = new Set<string>();
  let shrunk = 0;
  for (const m of found) {
    const kind = kindOf(m);
    if (kinds.has(kind) || shrunk >= maxShrink) continue;
    kinds.add(kind);
    shrunk++;
    console.log(`shrinking ${m.seed} (${kind}, ${caseSize(m.fuzz)} instructions)…`);
    const s = shrink(m.fuzz, m.engine, m.kernel, m.diffs, { timeoutMs: 120_000 });
    console.log(`  → ${caseSize(s.fuzz)} instructions (${s.steps} edits, ${s.tried} tried)`);
    const disasm = disasmCase(s.raw);
    for (const [name, lines] of Object.entries(disasm)) {
      console.log(`  ${name}:\n    ${lines.join("\n    ")}`);
    }
    console.log(showDiffs(s.diffs));
    if (args["no-save"]) continue;
    const path = await saveRegression(
      {
        description: `${kind}: describe me`,
        seed: m.seed,
        engine: m.engine,
        diffs: s.diffs,
        open: [m.engine],
        case: s.raw,
        kernel: recorded(s.kernel),
        disasm,
      },
      args.out,
    );
    console.log(path !== undefined ? `  saved ${path}` : "  (already saved)");
  }
  return found.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(2);
  },
);
