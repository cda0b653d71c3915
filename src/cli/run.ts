/**
 * `tsbpf run OBJ.o …`: load the object, apply the STEPs, test-run one program
 * (BPF_PROG_TEST_RUN) and report as the CLI contract says (`--json`) or as bpftool prints.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { BPF_MAP_TYPE_RINGBUF } from "../maps/constants.js";
import type { Collection } from "../runtime/collection.js";
import { dumpMaps, fromHex, toHex } from "../runtime/dump.js";
import type { EngineName } from "../runtime/engine.js";
import type { TraceEvent } from "../runtime/trace.js";
import { isCapture, readCapture } from "../testing/pcap.js";
import { loadForCli, type GlobalSetting } from "./load.js";
import { out, UsageError } from "./output.js";
import { parseRecordTypes, printRunHuman, retvalName, type RunReport } from "./run-format.js";
import type { Step } from "./steps.js";
import { color } from "./term.js";
import { formatTrace } from "./trace-format.js";

export { hexdump, retvalName } from "./run-format.js";

/** Options of `tsbpf run`. */
export interface RunCliOptions {
  prog?: string;
  data?: string;
  dataFile?: string;
  /** With a capture file as `--data-file`: which packet (0-based, default 0). */
  packet?: number;
  ctx?: string;
  repeat: number;
  engine: EngineName | "kernel";
  trace?: boolean;
  json?: boolean;
  /** Possible CPUs for per-CPU maps (default 1). */
  cpus?: number;
  /** Write data_out to this file. */
  dataOut?: string;
  /** Globals to set before load (`--set`). */
  set?: GlobalSetting[];
  /** `MAP=TYPE`: decode a ring buffer's records as a BTF type. */
  ringbufType?: string[];
}

/** The JSON `tsbpf run --json` prints (the contract of DESIGN.md). */
export interface RunJson {
  retval: number;
  duration_ns: number;
  data_out: string;
  maps: Record<string, Record<string, string>>;
}

/** Bytes of a hex option; a usage error names the option. */
export function hexOption(name: string, v: string): Uint8Array {
  try {
    return fromHex(v);
  } catch (e) {
    throw new UsageError(`${name}: ${(e as Error).message}`);
  }
}

/**
 * The packet of a run: `--data` hex, `--data-file` bytes (a pcap or pcapng file gives its
 * `--packet`th packet), or 64 zero bytes.
 */
export function inputData(opts: RunCliOptions): Uint8Array {
  if (opts.data !== undefined && opts.dataFile !== undefined) {
    throw new UsageError("--data and --data-file: give one of them");
  }
  if (opts.dataFile !== undefined) {
    const bytes = new Uint8Array(readFileSync(opts.dataFile));
    if (!isCapture(bytes)) {
      if (opts.packet !== undefined) throw new UsageError("--packet needs a pcap/pcapng file");
      return bytes;
    }
    const packets = readCapture(bytes).packets;
    const i = opts.packet ?? 0;
    if (i >= packets.length) {
      throw new UsageError(`--packet ${i}: ${opts.dataFile} has ${packets.length} packets`);
    }
    return packets[i].data;
  }
  if (opts.data !== undefined) return hexOption("--data", opts.data);
  return new Uint8Array(64);
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

/** Ring buffer records left in the collection's ring buffers (consumed). */
export function drainRingbufs(c: Collection): { map: string; records: Uint8Array[] }[] {
  const out: { map: string; records: Uint8Array[] }[] = [];
  for (const [name, map] of c.maps) {
    const rb = map as typeof map & { drain?: () => Uint8Array[] };
    if (map.def.type === BPF_MAP_TYPE_RINGBUF && rb.drain)
      out.push({ map: name, records: rb.drain() });
  }
  return out;
}

/** `tsbpf run OBJ.o …` on any engine. */
export async function runCommand(obj: string, opts: RunCliOptions, steps: Step[]): Promise<number> {
  const data = inputData(opts);
  const ctx = opts.ctx !== undefined ? hexOption("--ctx", opts.ctx) : undefined;
  if (opts.engine === "kernel") {
    if (opts.trace) throw new UsageError("--trace: the kernel engine does not trace");
    if (opts.set?.length) throw new UsageError("--set: not supported with --engine kernel");
    const { runKernelCommand } = await import("./run-kernel.js");
    return runKernelCommand(obj, { ...opts, dataBytes: data, ctxBytes: ctx }, steps);
  }
  const printk: string[] = [];
  const c = await loadForCli(obj, {
    engine: opts.engine,
    cpus: opts.cpus,
    set: opts.set,
    printk: (line) => printk.push(line),
  });
  try {
    const prog = opts.prog !== undefined ? c.program(opts.prog) : c.firstProgram();
    const recordTypes = parseRecordTypes(c.spec, opts.ringbufType);
    for (const step of steps) applyStep(c, step, () => prog.run({ data, ctx }));
    printk.length = 0;
    const events: TraceEvent[] = [];
    const result = prog.run({
      data,
      ctx,
      repeat: opts.repeat,
      trace: opts.trace ? (e) => events.push(e) : undefined,
    });
    if (opts.trace) {
      const lines = formatTrace(events, {
        collection: c,
        retvalName: (rv) => retvalName(prog.progType, rv),
        color: opts.json ? undefined : color,
      });
      const sink = opts.json ? (l: string) => process.stderr.write(l + "\n") : out;
      lines.forEach(sink);
      if (!opts.json) out("");
    }
    if (opts.dataOut !== undefined) writeFileSync(opts.dataOut, result.data);
    const json: RunJson = {
      retval: result.retval,
      duration_ns: Math.round(result.durationNs),
      data_out: toHex(result.data),
      maps: dumpMaps(c),
    };
    if (opts.json) {
      out(JSON.stringify(json));
      return 0;
    }
    const report: RunReport = {
      retval: result.retval,
      durationNs: result.durationNs,
      dataOut: result.data,
      maps: json.maps,
      progType: prog.progType,
      spec: c.spec,
      ringbufs: drainRingbufs(c),
      recordTypes,
      printk,
    };
    printRunHuman(report, out);
    return 0;
  } finally {
    c.close();
  }
}
