/**
 * The differential harness: generate cases, run them all in the kernel in one runner process,
 * run each accepted one on every tsbpf engine, compare retval, packet and maps. Verifier
 * rejections are counted by reason (the generator aims to keep them rare).
 */
import {
  isRawError,
  possibleCpus,
  runRawInKernel,
  type KernelRawCase,
  type KernelRawError,
  type KernelRunResult,
} from "../../src/kernel/runner.js";
import type { EngineName } from "../../src/runtime/engine.js";
import { availableEngines } from "../engines.js";
import { generateCase, type GenOptions } from "./gen.js";
import { findNondeterminism } from "./determinism.js";
import { compileCase, type FuzzCase } from "./ir.js";
import { compareOutcome, runRawBatchInTsbpf, runRawInTsbpf, type Diff } from "./tsbpf-run.js";

/** The kernel's possible CPUs: how wide per-CPU values are. */
const CPUS = possibleCpus();

/** Every engine this build has (the JIT too, when its module is there). */
export async function fuzzEngines(): Promise<EngineName[]> {
  try {
    await import("../../src/jit/index.js");
  } catch {
    // no JIT in this build (or it does not load): compare the engines that are registered
  }
  return availableEngines();
}

/** A case on which an engine and the kernel disagree. */
export interface Mismatch {
  seed: string;
  engine: EngineName;
  diffs: Diff[];
  fuzz: FuzzCase;
  raw: KernelRawCase;
  kernel: KernelRunResult;
}

/** Counters of a fuzz run. */
export class FuzzStats {
  generated = 0;
  /** Cases the kernel loaded and ran. */
  accepted = 0;
  /** Cases a verifier refused, by reason. */
  rejected = 0;
  /** Cases that failed in the kernel after loading (slot update, test run). */
  otherErrors = 0;
  /** Generated cases whose outcome would depend on addresses (a generator bug): skipped. */
  nondeterministic = 0;
  mismatches = 0;
  /** Mismatches seen only when running many cases in one collection. */
  batchOnly = 0;
  readonly reasons = new Map<string, number>();
  readonly examples: { seed: string; reason: string; log: string }[] = [];
  kernelMs = 0;
  tsbpfMs = 0;
  genMs = 0;

  rejectionRate(): number {
    return this.generated === 0 ? 0 : this.rejected / this.generated;
  }

  /** A few lines for a log. */
  summary(elapsedMs: number): string {
    const rate = (this.rejectionRate() * 100).toFixed(2);
    const lines = [
      `${this.generated} programs, ${this.accepted} ran in the kernel, ${this.rejected} rejected ` +
        `(${rate}%), ${this.otherErrors} other kernel errors, ${this.mismatches} mismatches` +
        (this.nondeterministic > 0 ? `, ${this.nondeterministic} NONDETERMINISTIC (skipped)` : ""),
      `${((this.generated / elapsedMs) * 1000).toFixed(0)} programs/s ` +
        `(generate ${this.genMs.toFixed(0)} ms, kernel ${this.kernelMs.toFixed(0)} ms, ` +
        `tsbpf ${this.tsbpfMs.toFixed(0)} ms)`,
    ];
    const top = [...this.reasons].sort((a, b) => b[1] - a[1]).slice(0, 8);
    for (const [why, n] of top) lines.push(`  rejected ${n}x: ${why}`);
    return lines.join("\n");
  }
}

/** The verifier's complaint: the last line of its log that is not a statistic. */
export function rejectReason(e: KernelRawError): string {
  const lines = (e.verifier_log ?? "")
    .split("\n")
    .map((l) => l.trim())
    .filter(
      (l) =>
        l !== "" &&
        !l.startsWith("processed ") &&
        !l.startsWith("verification time") &&
        !l.startsWith("stack depth"),
    );
  const last = lines.length > 0 ? lines[lines.length - 1] : e.error;
  // registers and numbers vary: keep the shape of the message
  return `${e.stage}: ${last.replace(/\d+/g, "N").slice(0, 160)}`;
}

/** Compares one kernel result with every engine; returns the disagreements. */
export function diffEngines(
  raw: KernelRawCase,
  kernel: KernelRunResult,
  engines: readonly EngineName[],
): { engine: EngineName; diffs: Diff[] }[] {
  const out: { engine: EngineName; diffs: Diff[] }[] = [];
  for (const engine of engines) {
    const diffs = compareOutcome(kernel, runRawInTsbpf(raw, engine));
    if (diffs.length > 0) out.push({ engine, diffs });
  }
  return out;
}

/** Options of {@link fuzzBatch}. */
export interface BatchOptions {
  engines: readonly EngineName[];
  gen?: GenOptions;
  /** How many rejection examples to keep (default 5). */
  keepExamples?: number;
}

/**
 * Generates the cases of `seeds`, runs them in the kernel (one process) and on every engine;
 * returns the mismatches, updating `stats`.
 */
export function fuzzBatch(
  seedList: readonly string[],
  opts: BatchOptions,
  stats: FuzzStats,
): Mismatch[] {
  let seeds = seedList;
  let t = performance.now();
  const fuzz: FuzzCase[] = [];
  const raws: KernelRawCase[] = [];
  const kept: string[] = [];
  for (const seed of seeds) {
    const f = generateCase(seed, { numCpus: CPUS, ...opts.gen });
    const raw = compileCase(f);
    const why = findNondeterminism(raw);
    if (why !== undefined) {
      stats.generated++;
      stats.nondeterministic++;
      if (stats.examples.length < (opts.keepExamples ?? 5)) {
        stats.examples.push({ seed, reason: `nondeterministic: ${why}`, log: "" });
      }
      continue;
    }
    fuzz.push(f);
    raws.push(raw);
    kept.push(seed);
  }
  seeds = kept;
  stats.genMs += performance.now() - t;
  t = performance.now();
  const outcomes = runRawInKernel(raws);
  stats.kernelMs += performance.now() - t;
  t = performance.now();
  const found: Mismatch[] = [];
  const ran: number[] = [];
  outcomes.forEach((o, i) => {
    stats.generated++;
    if (isRawError(o)) {
      if (o.stage === "load") {
        stats.rejected++;
        const why = rejectReason(o);
        stats.reasons.set(why, (stats.reasons.get(why) ?? 0) + 1);
        if (stats.examples.length < (opts.keepExamples ?? 5)) {
          stats.examples.push({ seed: seeds[i], reason: why, log: o.verifier_log ?? o.error });
        }
      } else {
        stats.otherErrors++;
        const why = `${o.stage}: ${o.error}`;
        stats.reasons.set(why, (stats.reasons.get(why) ?? 0) + 1);
      }
      return;
    }
    stats.accepted++;
    ran.push(i);
  });
  for (const engine of opts.engines) {
    const outs = runRawBatchInTsbpf(
      ran.map((i) => raws[i]),
      engine,
    );
    ran.forEach((i, k) => {
      const o = outcomes[i] as KernelRunResult;
      if (compareOutcome(o, outs[k]).length === 0) return;
      // confirm on a collection of its own: that is what the shrinker and the fixtures run
      const diffs = compareOutcome(o, runRawInTsbpf(raws[i], engine));
      if (diffs.length === 0) {
        stats.batchOnly++;
        diffs.push({ field: "error", kernel: "(agrees alone)", tsbpf: "differs only in a batch" });
      }
      stats.mismatches++;
      found.push({ seed: seeds[i], engine, diffs, fuzz: fuzz[i], raw: raws[i], kernel: o });
    });
  }
  stats.tsbpfMs += performance.now() - t;
  return found;
}
