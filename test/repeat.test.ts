/**
 * `Program.run({ repeat })` on every engine (the JIT runs the repeat loop inside WebAssembly):
 * each run gets the whole instruction budget and tail-call budget, what a run frees serves the
 * next run as it would after N single runs, errors are those of a single run, and the packet and
 * maps carry over from run to run.
 */
import { describe, expect, it } from "vitest";
import type { CollectionSpec, MapSpec } from "../src/elf/types.js";
import { assemble } from "../src/isa/asm.js";
import { loadCollectionFile } from "../src/node.js";
import { Collection } from "../src/runtime/collection.js";
import { availableEngines } from "./engines.js";
import { withMaps } from "./jit-harness.js";
import { fx, key, mapSpec as map, programSpec, u64s } from "./spec-harness.js";

/** One XDP program `prog` written in assembler (`lddw rX, 0x7ead000N`: map N). */
function spec(asm: string, maps: MapSpec[]): CollectionSpec {
  return {
    name: "repeat",
    license: "GPL",
    maps,
    programs: [programSpec("prog", withMaps(assemble(asm)), 6)],
  };
}

// Each run: n = count[0]++; h[0] = n (BPF_ANY: replaces the value; the replaced element is
// what the next replacement takes); addrs[n] = &h[0]. Returns n.
const REPLACE = `
    mov %r6, 0
    stxw [%r10-4], %r6
    lddw %r1, 0x7ead0000
    mov %r2, %r10
    add %r2, -4
    call 1
    jeq %r0, 0, fail
    ldxdw %r7, [%r0]
    add %r6, %r7
    add %r7, 1
    stxdw [%r0], %r7
    stxdw [%r10-16], %r6
    lddw %r1, 0x7ead0001
    mov %r2, %r10
    add %r2, -4
    mov %r3, %r10
    add %r3, -16
    mov %r4, 0
    call 2
    lddw %r1, 0x7ead0001
    mov %r2, %r10
    add %r2, -4
    call 1
    jeq %r0, 0, fail
    stxdw [%r10-16], %r0
    stxw [%r10-4], %r6
    lddw %r1, 0x7ead0002
    mov %r2, %r10
    add %r2, -4
    mov %r3, %r10
    add %r3, -16
    mov %r4, 0
    call 2
    mov %r0, %r6
    exit
  fail:
    mov %r0, -1
    exit
`;
const REPLACE_MAPS = [map("count", 2, 8, 1), map("h", 1, 8, 1), map("addrs", 2, 8, 8)];

// Each run: n = count[0]++; loops n times; returns n. A run executes 15 + 3n instructions.
const LOOP = `
    mov %r6, 0
    stxw [%r10-4], %r6
    lddw %r1, 0x7ead0000
    mov %r2, %r10
    add %r2, -4
    call 1
    jeq %r0, 0, out
    ldxdw %r6, [%r0]
    mov %r7, %r6
    add %r7, 1
    stxdw [%r0], %r7
    mov %r7, 0
  loop:
    jge %r7, %r6, out
    add %r7, 1
    ja loop
  out:
    mov %r0, %r6
    exit
`;

describe.each(availableEngines())("repeat on %s", (engine) => {
  it("reuses what a run replaced in the next run (as N single runs do)", () => {
    const runs = (repeat: number, times: number) => {
      const c = Collection.load(spec(REPLACE, REPLACE_MAPS), { engine });
      let r0 = 0n;
      for (let i = 0; i < times; i++) r0 = c.program("prog").run({ repeat }).r0;
      const addrs = u64s(c.map("addrs").lookup(key(0)));
      const all = [...Array(6).keys()].map((i) => u64s(c.map("addrs").lookup(key(i)))[0]);
      const h = u64s(c.map("h").lookup(key(0)));
      c.close();
      return { r0, addrs, all, h };
    };
    const many = runs(6, 1);
    expect(many).toEqual(runs(1, 6));
    expect(many.r0).toBe(5n);
    expect(many.h).toEqual([5n]);
    // the second run's update keeps the first element as the spare, the third takes it
    const [a, b] = many.all;
    expect(a).not.toBe(b);
    expect(many.all).toEqual([a, b, a, b, a, b]);
  });

  it("gives every run the whole instruction budget", () => {
    // runs 0..9 execute at most 42 instructions
    const c = Collection.load(spec(LOOP, [map("count", 2, 8, 1)]), { engine, insnLimit: 60 });
    expect(c.program("prog").run({ repeat: 10 }).r0).toBe(9n);
    expect(u64s(c.map("count").lookup(key(0)))).toEqual([10n]);
    c.close();
  });

  it("stops at the run that exhausts the budget, with a single run's error", () => {
    const single = Collection.load(spec(LOOP, [map("count", 2, 8, 1)]), { engine, insnLimit: 28 }); // prettier-ignore
    const errorOf = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e;
      }
      throw new Error("no error");
    };
    for (let i = 0; i < 5; i++) single.program("prog").run();
    const want = errorOf(() => single.program("prog").run());
    const c = Collection.load(spec(LOOP, [map("count", 2, 8, 1)]), { engine, insnLimit: 28 });
    const got = errorOf(() => c.program("prog").run({ repeat: 100 }));
    expect(got).toEqual(want);
    expect(String(got)).toMatch(/instruction budget of 28 exhausted/);
    // five runs completed (at most 27 instructions), the sixth (30) stopped in its loop
    expect(u64s(c.map("count").lookup(key(0)))).toEqual([6n]);
    single.close();
    c.close();
  });

  it("gives every run the whole tail-call budget (34 programs a run)", () => {
    const c = loadCollectionFile(fx("tail_self.bpf.o"), { engine });
    const r = c.firstProgram().run({ repeat: 5 });
    // packet byte 0 counts runs over all five runs; runs[1]: one fall-through per run
    expect(r.data[0]).toBe(5 * 34);
    expect(r.retval).toBe(5 * 34);
    expect(u64s(c.map("runs").lookup(key(0)))).toEqual([5n * 34n]);
    expect(u64s(c.map("runs").lookup(key(1)))).toEqual([5n]);
    c.close();
    const b = loadCollectionFile(fx("tail_budget.bpf.o"), { engine });
    // it returns the runs counted so far
    expect(b.firstProgram().run({ repeat: 3 }).retval).toBe(3 * 34);
    expect(u64s(b.map("budget").lookup(key(0)))).toEqual([3n * 34n]);
    b.close();
  });
});
