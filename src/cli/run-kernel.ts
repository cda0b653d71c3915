/**
 * `tsbpf run --engine kernel`: the same object and steps, run by Linux (BPF_PROG_TEST_RUN)
 * through the native runner; printed as the other engines print.
 */
import { writeFileSync } from "node:fs";
import { runInKernel } from "../kernel/runner.js";
import { loadCollectionSpecFile } from "../node.js";
import { fromHex } from "../runtime/dump.js";
import { out } from "./output.js";
import { printRunHuman } from "./run-format.js";
import type { RunCliOptions, RunJson } from "./run.js";
import { stepArgs, type Step } from "./steps.js";

/** Runs `obj` in the kernel and prints the contract's JSON or the bpftool-like report. */
export function runKernelCommand(
  obj: string,
  opts: RunCliOptions & { dataBytes: Uint8Array; ctxBytes?: Uint8Array },
  steps: Step[],
): number {
  // parse first: a malformed object is reported as tsbpf reports it, not by libbpf
  const spec = loadCollectionSpecFile(obj);
  const r = runInKernel(obj, {
    prog: opts.prog,
    data: opts.dataBytes,
    ctx: opts.ctxBytes,
    repeat: opts.repeat,
    steps: stepArgs(steps),
  });
  const json: RunJson = {
    retval: r.retval,
    duration_ns: r.duration_ns,
    data_out: r.data_out,
    maps: r.maps,
  };
  const dataOut = fromHex(r.data_out);
  if (opts.dataOut !== undefined) writeFileSync(opts.dataOut, dataOut);
  if (opts.json) {
    out(JSON.stringify(json));
    return 0;
  }
  const prog =
    opts.prog !== undefined
      ? spec.programs.find((p) => p.name === opts.prog || p.section === opts.prog)
      : spec.programs[0];
  printRunHuman(
    {
      retval: r.retval,
      durationNs: r.duration_ns,
      dataOut,
      maps: r.maps,
      progType: prog?.progType ?? 0,
      spec,
      note: "(Linux kernel)",
    },
    out,
  );
  return 0;
}
