import { readFileSync } from "node:fs";
import { loadCollectionFile } from "../node.js";
import {
  XDP_ACTIONS,
  TC_ACTIONS,
  BPF_PROG_TYPE_XDP,
  BPF_PROG_TYPE_SCHED_CLS,
  BPF_PROG_TYPE_SCHED_ACT,
} from "../progtypes/index.js";
import type { Collection } from "../runtime/collection.js";
import { dumpMaps, fromHex, toHex } from "../runtime/dump.js";
import type { EngineName } from "../runtime/engine.js";
import type { RunResult } from "../runtime/program-handle.js";
import type { TraceEvent } from "../runtime/trace.js";
import { out, UsageError } from "./output.js";
import type { Step } from "./steps.js";
import { formatTrace } from "./trace-format.js";

/** Options of `tsbpf run`. */
export interface RunCliOptions {
  prog?: string;
  data?: string;
  dataFile?: string;
  ctx?: string;
  repeat: number;
  engine: EngineName | "kernel";
  trace?: boolean;
  json?: boolean;
}

/** The JSON `tsbpf run --json` prints (the contract of DESIGN.md). */
export interface RunJson {
  retval: number;
  duration_ns: number;
  data_out: string;
  maps: Record<string, Record<string, string>>;
}

function hexOption(name: string, v: string): Uint8Array {
  try {
    return fromHex(v);
  } catch (e) {
    throw new UsageError(`${name}: ${(e as Error).message}`);
  }
}

/** Applies one STEP to a loaded collection. */
export function applyStep(c: Collection, step: Step, run: () => void): void {
  switch (step.kind) {
    case "slots":
      for (const s of step.slots) c.setSlot(step.map, s.index, s.prog);
      break;
    case "clear":
      for (const i of step.indices) c.setSlot(step.map, i, null);
      break;
    case "update":
      for (const e of step.entries) c.map(step.map).update(e.key, e.value);
      break;
    case "run":
      run();
      break;
  }
}

/** `tsbpf run OBJ.o …` on the interpreter or the JIT. */
export async function runCommand(obj: string, opts: RunCliOptions, steps: Step[]): Promise<number> {
  const data =
    opts.dataFile !== undefined
      ? new Uint8Array(readFileSync(opts.dataFile))
      : opts.data !== undefined
        ? hexOption("--data", opts.data)
        : new Uint8Array(64);
  const ctx = opts.ctx !== undefined ? hexOption("--ctx", opts.ctx) : undefined;
  if (opts.engine === "kernel") {
    const { runKernelCommand } = await import("./run-kernel.js");
    return runKernelCommand(obj, { ...opts, dataBytes: data, ctxBytes: ctx }, steps);
  }
  const c = loadCollectionFile(obj, { engine: opts.engine });
  try {
    const prog = opts.prog !== undefined ? c.program(opts.prog) : c.firstProgram();
    for (const step of steps) applyStep(c, step, () => prog.run({ data, ctx }));
    const events: TraceEvent[] = [];
    const result = prog.run({
      data,
      ctx,
      repeat: opts.repeat,
      trace: opts.trace ? (e) => events.push(e) : undefined,
    });
    if (opts.trace) {
      const lines = formatTrace(events, c);
      const sink = opts.json ? (l: string) => process.stderr.write(l + "\n") : out;
      lines.forEach(sink);
    }
    const json: RunJson = {
      retval: result.retval,
      duration_ns: Math.round(result.durationNs),
      data_out: toHex(result.data),
      maps: dumpMaps(c),
    };
    if (opts.json) out(JSON.stringify(json));
    else printHuman(json, result, prog.progType);
    return 0;
  } finally {
    c.close();
  }
}

/** The name of a return code for the program type, e.g. `XDP_PASS`. */
export function retvalName(progType: number, retval: number): string | undefined {
  if (progType === BPF_PROG_TYPE_XDP) return XDP_ACTIONS[retval];
  if (progType === BPF_PROG_TYPE_SCHED_CLS || progType === BPF_PROG_TYPE_SCHED_ACT) {
    return TC_ACTIONS[retval | 0];
  }
  return undefined;
}

/** A hexdump as bpftool prints packets: 16 bytes a line. */
export function hexdump(bytes: Uint8Array): string[] {
  const lines: string[] = [];
  for (let o = 0; o < bytes.length; o += 16) {
    const row = Array.from(bytes.subarray(o, o + 16), (b) => b.toString(16).padStart(2, "0"));
    lines.push(`${o.toString(16).padStart(4, "0")}: ${row.join(" ")}`);
  }
  return lines;
}

function printHuman(json: RunJson, result: RunResult, progType: number): void {
  const name = retvalName(progType, result.retval);
  out(
    `Return value: ${result.retval}${name ? ` (${name})` : ""}, duration (average): ${json.duration_ns}ns`,
  );
  out(`data_out (${result.data.length} bytes):`);
  hexdump(result.data).forEach(out);
  for (const [map, entries] of Object.entries(json.maps)) {
    const keys = Object.keys(entries);
    out(`map ${map}: ${keys.length} entr${keys.length === 1 ? "y" : "ies"}`);
    for (const k of keys) out(`  key: ${k}  value: ${entries[k]}`);
  }
}
