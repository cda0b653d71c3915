/**
 * Tail calls through the public API, on the fixtures whose kernel results are recorded in
 * test/fixtures/KERNEL-FACTS.md: jump not call, same frame, 33 per run shared by every frame,
 * fall-through on failure, live slot updates, prog_array ownership.
 */
import { describe, expect, it } from "vitest";
import { MapError } from "../src/errors.js";
import { assemble } from "../src/isa/asm.js";
import { loadCollectionFile, loadCollectionSpecFile } from "../src/node.js";
import { Collection } from "../src/runtime/collection.js";
import type { TraceEvent } from "../src/runtime/trace.js";
import { availableEngines } from "./engines.js";
import { fx, key, u64s } from "./spec-harness.js";

describe.each(availableEngines())("tail calls on %s", (engine) => {
  it("A calls B, B tail-calls C: C's return comes back to A, B's rest never runs", () => {
    const c = loadCollectionFile(fx("tail_subprog.bpf.o"), { engine });
    const events: TraceEvent[] = [];
    const r = c.program("prog_a").run({ trace: (e) => events.push(e) });
    expect(r.retval).toBe(1042);
    // A_RAN B_RAN B_REST C_RAN B_RESULT A_KEPT
    expect(u64s(c.map("tail_sub.bss").lookup(key(0)))).toEqual([1n, 1n, 0n, 1n, 42n, 1n]);
    const flow = events.filter((e) => e.kind !== "helper");
    expect(flow.map((e) => [e.kind, "depth" in e ? e.depth : -1])).toEqual([
      ["enter", 0],
      ["call", 1],
      ["tail_call", 1],
      ["enter", 1],
      ["return", 0],
      ["exit", -1],
    ]);
    const tail = events.find((e) => e.kind === "tail_call");
    expect(tail).toMatchObject({
      prog: "prog_a",
      map: "jmp_c",
      index: 0n,
      target: "prog_c",
      budgetLeft: 32,
    });
    c.close();
  });

  it("a program that tail-calls itself runs 34 times; the budget resets every run", () => {
    const c = loadCollectionFile(fx("tail_self.bpf.o"), { engine });
    const p = c.firstProgram();
    expect(p.run().retval).toBe(34);
    expect(p.run().retval).toBe(34);
    expect(u64s(c.map("runs").lookup(key(0)))).toEqual([68n]);
    const events: TraceEvent[] = [];
    p.run({ trace: (e) => events.push(e) });
    const failed = events.filter((e) => e.kind === "tail_call_failed");
    expect(events.filter((e) => e.kind === "tail_call")).toHaveLength(33);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ reason: "budget exhausted", budgetLeft: 0 });
    c.close();
  });

  it("sees slot updates between runs: an empty slot falls through", () => {
    const c = loadCollectionFile(fx("tail_self.bpf.o"), { engine });
    const p = c.firstProgram();
    c.setSlot("jmp_self", 0, null);
    const events: TraceEvent[] = [];
    expect(p.run({ trace: (e) => events.push(e) }).retval).toBe(1);
    expect(events.find((e) => e.kind === "tail_call_failed")).toMatchObject({
      reason: "empty slot",
    });
    c.setSlot("jmp_self", 0, "tail_self");
    expect(p.run().retval).toBe(34);
    c.close();
  });

  it("shares one budget between the main program and subprograms", () => {
    const c = loadCollectionFile(fx("tail_budget.bpf.o"), { engine });
    expect(c.firstProgram().run().retval).toBe(34);
    const b = c.map("budget");
    expect(u64s(b.lookup(key(1)))).toEqual([17n]);
    expect(u64s(b.lookup(key(2)))).toEqual([17n]);
    c.close();
  });

  it("uses only the low 32 bits of the index and spends no budget on failures", () => {
    const c = loadCollectionFile(fx("tail_fail.bpf.o"), { engine });
    const events: TraceEvent[] = [];
    expect(c.firstProgram().run({ trace: (e) => events.push(e) }).retval).toBe(33);
    const reasons = events.flatMap((e) => (e.kind === "tail_call_failed" ? [e.reason] : []));
    expect(reasons).toContain("index out of range");
    expect(reasons).toContain("empty slot");
    c.close();
  });
});

describe("prog_array ownership", () => {
  it("refuses a program of another type at update with EINVAL", () => {
    const spec = loadCollectionSpecFile(fx("tail_self.bpf.o"));
    const tc = { ...spec.programs[0], name: "as_tc", section: "tc", progType: 3 };
    const c = Collection.load({
      ...spec,
      programs: [spec.programs[0], { ...tc, insns: assemble("mov %r0, 0\nexit"), funcs: [] }],
    });
    expect(() => c.setSlot("jmp_self", 0, "as_tc")).toThrow(MapError);
    expect(() => c.setSlot("jmp_self", 0, "as_tc")).toThrow(/EINVAL/);
    c.close();
  });

  it("refuses at load a program that uses a prog_array owned by another type", () => {
    const spec = loadCollectionSpecFile(fx("tail_self.bpf.o"));
    const tc = { ...spec.programs[0], name: "as_tc", section: "tc", progType: 3 };
    expect(() => Collection.load({ ...spec, programs: [spec.programs[0], tc] })).toThrow(
      /owned by program type 6.*EINVAL/,
    );
  });
});
