/**
 * Kernel differential tests: every fixture program, on every input packet, runs on each tsbpf
 * engine and in the Linux kernel (BPF_PROG_TEST_RUN through the native runner); retval, the
 * packet out and every map must be identical. Skipped, with the reason, where the kernel
 * cannot run programs.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCollectionSpecFile } from "../src/node.js";
import { PACKETS, ZERO64 } from "./fixtures/packets.js";
import { kernelSkipReason, runKernel, runTsbpf, type Scenario } from "./differential/harness.js";
import { availableEngines } from "./engines.js";

const dir = join(import.meta.dirname, "fixtures");
const PACKET_TYPES = new Set([1, 3, 4, 6]); // socket, sched_cls, sched_act, xdp
const inputs: [string, string][] = [["zero64", ZERO64], ...Object.entries(PACKETS)];

function scenarios(): [string, Scenario][] {
  const out: [string, Scenario][] = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith(".bpf.o"))) {
    const obj = join(dir, f);
    for (const p of loadCollectionSpecFile(obj).programs) {
      if (!PACKET_TYPES.has(p.progType)) {
        out.push([`${f} ${p.name}`, { obj, prog: p.name }]);
        continue;
      }
      for (const [name, data] of inputs)
        out.push([`${f} ${p.name} ${name}`, { obj, prog: p.name, data }]);
    }
  }
  const fx = (n: string) => join(dir, n);
  // the scenarios of KERNEL-FACTS.md that use steps and repeat
  out.push(
    [
      "tail_self clear slot",
      { obj: fx("tail_self.bpf.o"), steps: [{ kind: "clear", map: "jmp_self", indices: [0] }] },
    ],
    [
      "tail_self three runs",
      { obj: fx("tail_self.bpf.o"), steps: [{ kind: "run" }, { kind: "run" }] },
    ],
    ["tail_self repeat 3", { obj: fx("tail_self.bpf.o"), repeat: 3 }],
    [
      "tail_subprog clear C",
      { obj: fx("tail_subprog.bpf.o"), steps: [{ kind: "clear", map: "jmp_c", indices: [0] }] },
    ],
    [
      "tail_subprog A in its own slot",
      {
        obj: fx("tail_subprog.bpf.o"),
        steps: [{ kind: "slots", map: "jmp_c", slots: [{ index: 0, prog: "prog_a" }] }],
      },
    ],
    ["parse repeat 3", { obj: fx("parse.bpf.o"), data: PACKETS.udp4, repeat: 3 }],
  );
  return out;
}

const skip = kernelSkipReason();
if (skip !== undefined) console.warn(`kernel differential tests skipped: ${skip}`);

describe.skipIf(skip !== undefined)("tsbpf = Linux on every fixture", () => {
  const all = scenarios();
  it("covers the fixtures", () => expect(all.length).toBeGreaterThan(100));
  describe.each(availableEngines())("%s engine", (engine) => {
    it.each(all)("%s", (_name, s) => {
      expect(runTsbpf(s, engine)).toEqual(runKernel(s));
    });
  });
});
