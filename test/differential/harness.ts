import { readFileSync } from "node:fs";
import { applyStep } from "../../src/cli/run.js";
import type { Step } from "../../src/cli/steps.js";
import { stepArgs } from "../../src/cli/steps.js";
import { kernelAvailable, runInKernel } from "../../src/kernel/runner.js";
import { loadCollectionFile } from "../../src/node.js";
import { dumpMaps, toHex } from "../../src/runtime/dump.js";
import type { EngineName } from "../../src/runtime/engine.js";

/** What both sides report for one scenario: `tsbpf run --json` minus the duration. */
export interface Observed {
  retval: number;
  data_out: string;
  maps: Record<string, Record<string, string>>;
}

/** One differential scenario: an object, a program, an input, steps. */
export interface Scenario {
  obj: string;
  prog?: string;
  data?: string;
  ctx?: string;
  repeat?: number;
  steps?: Step[];
}

/** Possible CPUs of this machine (the kernel's per-CPU values are that many). */
export function possibleCpus(): number {
  try {
    const text = readFileSync("/sys/devices/system/cpu/possible", "utf8").trim();
    return text.split(",").reduce((n, part) => {
      const [a, b] = part.split("-").map(Number);
      return n + (b === undefined ? 1 : b - a + 1);
    }, 0);
  } catch {
    return 1;
  }
}

const hexBytes = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));

/** Runs a scenario on a tsbpf engine, as `tsbpf run --json` would. */
export function runTsbpf(s: Scenario, engine: EngineName, numCpus = possibleCpus()): Observed {
  const c = loadCollectionFile(s.obj, { engine, numCpus });
  try {
    const prog = s.prog !== undefined ? c.program(s.prog) : c.firstProgram();
    const data = hexBytes(s.data ?? "00".repeat(64));
    const ctx = s.ctx !== undefined ? hexBytes(s.ctx) : undefined;
    for (const step of s.steps ?? []) applyStep(c, step, () => prog.run({ data, ctx }));
    const r = prog.run({ data, ctx, repeat: s.repeat });
    return { retval: r.retval, data_out: toHex(r.data), maps: dumpMaps(c) };
  } finally {
    c.close();
  }
}

/** Runs a scenario in the Linux kernel. */
export function runKernel(s: Scenario): Observed {
  const r = runInKernel(s.obj, {
    prog: s.prog,
    data: s.data,
    ctx: s.ctx,
    repeat: s.repeat,
    steps: stepArgs(s.steps ?? []),
  });
  return { retval: r.retval, data_out: r.data_out, maps: r.maps };
}

/** Why the kernel cannot be the oracle here, or undefined when it can. */
export function kernelSkipReason(): string | undefined {
  const a = kernelAvailable();
  return a.ok ? undefined : a.reason;
}
