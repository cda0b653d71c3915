import { runInKernel } from "../kernel/runner.js";
import { out } from "./output.js";
import { hexdump, type RunCliOptions } from "./run.js";
import { stepArgs, type Step } from "./steps.js";

/** `tsbpf run --engine kernel`: the same object and steps, run by Linux (BPF_PROG_TEST_RUN). */
export function runKernelCommand(
  obj: string,
  opts: RunCliOptions & { dataBytes: Uint8Array; ctxBytes?: Uint8Array },
  steps: Step[],
): number {
  const r = runInKernel(obj, {
    prog: opts.prog,
    data: opts.dataBytes,
    ctx: opts.ctxBytes,
    repeat: opts.repeat,
    steps: stepArgs(steps),
  });
  const json = { retval: r.retval, duration_ns: r.duration_ns, data_out: r.data_out, maps: r.maps };
  if (opts.json) {
    out(JSON.stringify(json));
    return 0;
  }
  out(`Return value: ${r.retval}, duration (average): ${r.duration_ns}ns (Linux kernel)`);
  const bytes = Uint8Array.from(r.data_out.match(/../g) ?? [], (h) => parseInt(h, 16));
  out(`data_out (${bytes.length} bytes):`);
  hexdump(bytes).forEach(out);
  for (const [map, entries] of Object.entries(r.maps)) {
    out(`map ${map}: ${Object.keys(entries).length} entries`);
    for (const [k, v] of Object.entries(entries)) out(`  key: ${k}  value: ${v}`);
  }
  return 0;
}
