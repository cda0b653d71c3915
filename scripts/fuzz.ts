/**
 * The long fuzz run: `npx tsx scripts/fuzz.ts --count N --seed S`.
 *
 * Runs N inputs of each target (mutated fixture objects, random bytecode, random packets, random
 * map operations; see test/fuzz/targets.ts) in a worker thread, which the main thread watches:
 * an input that takes longer than `--time-ms` is a hang (the worker is stopped and restarted
 * after it), a worker that dies (out of memory, a native crash) is a crash. Inputs that break
 * the contract — anything but a result or a typed error, a hang, memory past the bound, a model
 * mismatch — are shrunk (when the worker survives) and written to test/fuzz/regressions/, which
 * `test/fuzz-regressions.test.ts` replays. Input i of a target is generated from seed
 * `inputSeed(S, i)`, so every failure can be reproduced alone with `--from i --count 1`.
 *
 * Options:
 *   --count N        inputs per target (default 10000)
 *   --seed S         seed (default: the time)
 *   --target T       elf | bytecode | packets | maps | all (default all); repeatable
 *   --engine E       interp | jit (default interp)
 *   --from I         first input index (default 0)
 *   --time-ms MS     per-input wall-time bound (default 10000)
 *   --max-bytes B    address space limit per collection (default 64 MiB)
 *   --insn-limit N   instructions per run (default 20000)
 *   --out DIR        where regressions go (default test/fuzz/regressions); --no-save: nowhere
 *   --stack-mb MB    JavaScript stack of the fuzzing thread (default 1, as Node's main thread)
 *   --quiet          no progress lines
 * Exit status: 0 when every input passed, 1 when some failed, 2 for a usage error.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import fc from "fast-check";
import { DEFAULT_BOUNDS, FuzzFailure, formatStats, type FuzzBounds } from "../test/fuzz/harness.js";
import { TARGETS, type TargetName } from "../test/fuzz/targets.js";

/** The seed of input `i` of a run seeded with `seed`. */
export function inputSeed(seed: number, i: number): number {
  return (Math.imul(seed | 0, 0x9e3779b1) + Math.imul(i + 1, 0x85ebca6b)) | 0;
}

interface Job {
  target: TargetName;
  seed: number;
  from: number;
  to: number;
  bounds: FuzzBounds;
  /** JavaScript stack of the worker, MB. */
  stackMb: number;
  /** [0]: index of the input in progress (-1 between inputs). */
  progress: SharedArrayBuffer;
}

interface FailureMsg {
  type: "failure";
  index: number;
  kind: string;
  message: string;
  description: string;
  files: Record<string, number[]>;
}
/** Outcome counts since the last such message (sent every 256 inputs and at the end). */
interface StatsMsg {
  type: "stats";
  stats: [string, number][];
}
type Msg = FailureMsg | StatsMsg;

// ---- worker -----------------------------------------------------------------------------------

async function work(job: Job): Promise<void> {
  if (job.bounds.engine === "jit") await import("../src/jit/index.js");
  const progress = new Int32Array(job.progress);
  const t = TARGETS[job.target];
  const arb = t.arb();
  const stats = new Map<string, number>();
  const post = (m: Msg): void => parentPort?.postMessage(m);
  const flush = (): void => {
    post({ type: "stats", stats: [...stats.entries()] });
    stats.clear();
  };
  for (let i = job.from; i < job.to; i++) {
    if ((i - job.from) % 256 === 255) flush();
    Atomics.store(progress, 0, i);
    let failure: unknown;
    const r = fc.check(
      fc.property(arb, (input) => {
        try {
          t.check(input, job.bounds, stats);
        } catch (e) {
          failure ??= e;
          throw e;
        }
      }),
      { seed: inputSeed(job.seed, i), numRuns: 1 },
    );
    if (r.failed && r.counterexample) {
      const input = r.counterexample[0];
      const e = r.errorInstance ?? failure;
      const files = Object.fromEntries(
        Object.entries(t.files(input)).map(([ext, b]) => [ext, Array.from(b)]),
      );
      post({
        type: "failure",
        index: i,
        kind: e instanceof FuzzFailure ? e.kind : "model",
        message: e instanceof Error ? e.message : String(e),
        description: t.describe(input),
        files,
      });
    }
  }
  Atomics.store(progress, 0, -1);
  flush();
}

if (!isMainThread) await work(workerData as Job);

// ---- main -------------------------------------------------------------------------------------

interface Options {
  count: number;
  seed: number;
  targets: TargetName[];
  from: number;
  timeMs: number;
  out: string | null;
  quiet: boolean;
  stackMb: number;
  bounds: FuzzBounds;
}

function usage(msg: string): never {
  process.stderr.write(`fuzz: ${msg}\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    count: 10_000,
    seed: Date.now() % 0x7fffffff,
    targets: [],
    from: 0,
    timeMs: 10_000,
    out: fileURLToPath(new URL("../test/fuzz/regressions/", import.meta.url)),
    quiet: false,
    stackMb: 1,
    bounds: { ...DEFAULT_BOUNDS, timeMs: Infinity },
  };
  const int = (name: string, v: string | undefined): number => {
    if (v === undefined || !/^\d+$/.test(v)) usage(`${name} needs a non-negative integer`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = (): string | undefined => argv[++i];
    if (a === "--count") o.count = int(a, v());
    else if (a === "--seed") o.seed = int(a, v());
    else if (a === "--from") o.from = int(a, v());
    else if (a === "--time-ms") o.timeMs = int(a, v());
    else if (a === "--max-bytes") o.bounds.maxBytes = int(a, v());
    else if (a === "--insn-limit") o.bounds.insnLimit = int(a, v());
    else if (a === "--out") o.out = v() ?? usage("--out needs a directory");
    else if (a === "--no-save") o.out = null;
    else if (a === "--quiet") o.quiet = true;
    else if (a === "--stack-mb") o.stackMb = int(a, v()) || 1;
    else if (a === "--engine") {
      const e = v();
      if (e !== "interp" && e !== "jit") usage("--engine is interp or jit");
      o.bounds.engine = e;
    } else if (a === "--target") {
      const t = v();
      if (t === "all") o.targets.push(...(Object.keys(TARGETS) as TargetName[]));
      else if (t !== undefined && t in TARGETS) o.targets.push(t as TargetName);
      else usage(`--target is one of ${Object.keys(TARGETS).join(", ")}, all`);
    } else usage(`unknown argument ${a}`);
  }
  if (o.targets.length === 0) o.targets = Object.keys(TARGETS) as TargetName[];
  return o;
}

interface Found {
  target: TargetName;
  index: number;
  kind: string;
  message: string;
  description: string;
  files: Record<string, Uint8Array>;
}

/**
 * A worker running this file on `job`. Under tsx (a `.ts` file) the worker registers tsx's
 * loader first: workers do not inherit the `--import` hooks of the main thread.
 */
function startWorker(job: Job): Worker {
  const opts = {
    workerData: job,
    // The stack of Node's main thread (workers get 4 MB by default): deep JavaScript recursion
    // shows as it would in an application.
    resourceLimits: { maxOldGenerationSizeMb: 3072, stackSizeMb: job.stackMb },
  };
  if (!import.meta.url.endsWith(".ts")) return new Worker(new URL(import.meta.url), opts);
  const api = import.meta.resolve("tsx/esm/api");
  const boot =
    `import(${JSON.stringify(api)}).then((m) => { m.register(); ` +
    `return import(${JSON.stringify(import.meta.url)}); })`;
  return new Worker(boot, { ...opts, eval: true });
}

/** Runs inputs [from, to) of one target, restarting the worker after a hang or a crash. */
async function runTarget(
  o: Options,
  target: TargetName,
  found: Found[],
): Promise<Map<string, number>> {
  const stats = new Map<string, number>();
  let from = o.from;
  const to = o.from + o.count;
  const t0 = performance.now();
  while (from < to) {
    const progress = new SharedArrayBuffer(4);
    const cur = new Int32Array(progress);
    cur[0] = -1;
    const job: Job = {
      target,
      seed: o.seed,
      from,
      to,
      bounds: o.bounds,
      stackMb: o.stackMb,
      progress,
    };
    const worker = startWorker(job);
    const outcome = await new Promise<{ next: number }>((resolve) => {
      // Where to go on when the worker exits: past a hung input, or the end of the range.
      let next = to;
      let last = -2;
      let since = performance.now();
      let lastReport = performance.now();
      const timer = setInterval(() => {
        const i = Atomics.load(cur, 0);
        const now = performance.now();
        if (i !== last) {
          last = i;
          since = now;
        } else if (i >= 0 && now - since > o.timeMs) {
          clearInterval(timer);
          record(i, "timeout", `no result after ${o.timeMs} ms`);
          next = i + 1;
          void worker.terminate();
          return;
        }
        if (!o.quiet && now - lastReport > 10_000 && i >= 0) {
          lastReport = now;
          const rate = ((i - o.from) / ((now - t0) / 1000)).toFixed(0);
          process.stderr.write(`fuzz ${target}: input ${i} of ${to} (${rate}/s)\n`);
        }
      }, 50);
      const record = (i: number, kind: string, message: string): void => {
        const input = fc.sample(TARGETS[target].arb(), {
          seed: inputSeed(o.seed, i),
          numRuns: 1,
        })[0];
        found.push({
          target,
          index: i,
          kind,
          message,
          description: TARGETS[target].describe(input),
          files: TARGETS[target].files(input),
        });
      };
      worker.on("message", (m: Msg) => {
        if (m.type === "failure") {
          const files = Object.fromEntries(
            Object.entries(m.files).map(([ext, b]) => [ext, new Uint8Array(b)]),
          );
          found.push({ target, index: m.index, kind: m.kind, message: m.message, description: m.description, files }); // prettier-ignore
        } else {
          for (const [k, n] of m.stats) stats.set(k, (stats.get(k) ?? 0) + n);
        }
      });
      worker.on("error", (e) => {
        clearInterval(timer);
        const i = Atomics.load(cur, 0);
        if (i < 0) {
          process.stderr.write(`fuzz: the worker failed to start: ${e.message}\n`);
          process.exit(1);
        }
        record(i, "crash", `the worker died: ${e.message}`);
        resolve({ next: i + 1 });
      });
      worker.on("exit", () => {
        clearInterval(timer);
        resolve({ next });
      });
    });
    from = outcome.next;
  }
  const ms = performance.now() - t0;
  if (!o.quiet) {
    process.stderr.write(
      `fuzz ${target}: ${o.count} inputs in ${(ms / 1000).toFixed(1)} s\n  ${formatStats(stats)}\n`,
    );
  }
  return stats;
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  process.stderr.write(
    `fuzz: seed ${o.seed}, ${o.count} inputs per target from ${o.from}, targets ${o.targets.join(", ")}, engine ${o.bounds.engine}\n`,
  );
  const found: Found[] = [];
  for (const t of o.targets) await runTarget(o, t, found);
  for (const f of found) {
    process.stdout.write(
      `FAIL ${f.target} #${f.index} (seed ${o.seed}) ${f.kind}: ${f.message}\n  input: ${f.description}\n`,
    );
    if (o.out !== null) {
      mkdirSync(o.out, { recursive: true });
      const base = `${f.target}-${o.seed}-${f.index}`;
      for (const [ext, bytes] of Object.entries(f.files)) writeFileSync(o.out + base + ext, bytes);
      writeFileSync(
        o.out + base + ".txt",
        `${f.kind}: ${f.message}\ninput: ${f.description}\nreproduce: npx tsx scripts/fuzz.ts --target ${f.target} --seed ${o.seed} --from ${f.index} --count 1\n`,
      );
      process.stdout.write(`  saved: ${o.out}${base}.*\n`);
    }
  }
  process.stdout.write(`fuzz: ${found.length} failing input(s)\n`);
  return found.length === 0 ? 0 : 1;
}

if (isMainThread) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`fuzz: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
