import { describe, expect, it, vi } from "vitest";
import { JitEngine } from "../src/jit/index.js";
import type { ProgArrayMap } from "../src/maps/prog-array.js";
import type { ExecProgram } from "../src/runtime/program.js";
import { ENGINES, PROG_ARRAY, both, world } from "./jit-harness.js";

describe("jit: tail calls", () => {
  const selfCall = `
    mov %r6, %r1
    ldxw %r0, [%r1]
    add %r0, 1
    stxw [%r1], %r0
    mov %r1, %r6
    lddw %r2, 0x7ead0000
    mov %r3, 0
    call 12
    ldxw %r0, [%r6]
    exit`;

  it("a program tail-calling itself runs 34 times", () => {
    const r = both({ progs: [{ name: "self", asm: selfCall }], maps: [PROG_ARRAY], slots: [[0, 0, 0]] }); // prettier-ignore
    expect(r.r[0]).toBe(34n);
    expect(r.trace.filter((e) => e.kind === "tail_call").length).toBe(33);
  });

  it("the budget stops a self chain in the same program and pc", () => {
    // 8 instructions a program until the call, 10 for the last: 274 in all
    for (const insnLimit of [7, 8, 100, 101, 263, 264, 272, 273]) {
      const spec = { progs: [{ name: "self", asm: selfCall }], maps: [PROG_ARRAY], slots: [[0, 0, 0]] as [number, number, number][], insnLimit }; // prettier-ignore
      const [a, b] = ENGINES.map((e) => world(e, spec).run());
      expect(b).toBe(a);
      expect(a).toMatch(
        new RegExp(`pc \\d+ in self: instruction budget of ${insnLimit} exhausted`),
      );
    }
  });

  it("a self chain whose entry function is irreducible (dispatch loop)", () => {
    // the cycle a <-> b has two entries; each run enters it by the other one
    const src = `
      mov %r6, %r1
      ldxw %r7, [%r1]
      mov %r8, 0
      jset %r7, 1, b
    a:
      add %r8, 1
    b:
      add %r8, 1
      jlt %r8, 4, a
      add %r7, 1
      stxw [%r6], %r7
      mov %r1, %r6
      lddw %r2, 0x7ead0000
      mov %r3, 0
      call 12
      ldxw %r0, [%r6]
      exit`;
    const r = both({ progs: [{ name: "self", asm: src }], maps: [PROG_ARRAY], slots: [[0, 0, 0]] }, 2); // prettier-ignore
    expect(r.r).toEqual([34n, 68n]);
  });

  it("a self tail call sees its slot change to another program", () => {
    for (const e of ENGINES) {
      const w = world(e, {
        progs: [
          { name: "self", asm: selfCall },
          { name: "q", asm: "mov %r0, 2\nexit" },
        ],
        maps: [PROG_ARRAY],
        slots: [[0, 0, 0]],
      });
      expect(w.run()).toBe(34n);
      (w.maps[0] as ProgArrayMap<ExecProgram>).setSlot(0, w.progs[1]);
      expect(w.run()).toBe(2n);
      (w.maps[0] as ProgArrayMap<ExecProgram>).setSlot(0, w.progs[0]);
      expect(w.run()).toBe(34n * 2n + 1n);
    }
  });

  it("a self tail call whose slot was empty when the program compiled", () => {
    for (const e of ENGINES) {
      const w = world(e, { progs: [{ name: "self", asm: selfCall }], maps: [PROG_ARRAY] });
      expect(w.run()).toBe(1n);
      (w.maps[0] as ProgArrayMap<ExecProgram>).setSlot(0, w.progs[0]);
      expect(w.run()).toBe(35n);
      expect(w.run()).toBe(69n);
    }
  });

  it("A calls B, B tail-calls C: C's r0 comes back to A, A's r6-r9 intact", () => {
    const a = `
      mov %r6, 6
      mov %r9, 9
      stdw [%r10-8], 77
      call local b
      jne %r6, 6, bad
      jne %r9, 9, bad
      ldxdw %r1, [%r10-8]
      add %r0, %r1
      exit
    bad:
      mov %r0, -1
      exit
    b:
      stdw [%r10-8], 5
      mov %r6, 0
      lddw %r2, 0x7ead0000
      mov %r3, 1
      call 12
      mov %r0, 1000
      exit`;
    const c = `
      ldxdw %r0, [%r10-8]
      add %r0, 100
      exit`;
    const r = both({
      progs: [
        { name: "a", asm: a },
        { name: "c", asm: c },
      ],
      maps: [PROG_ARRAY],
      slots: [[0, 1, 1]],
    });
    // C runs on B's frame (sees 5), returns 105 to A, which adds its own 77
    expect(r.r[0]).toBe(182n);
    expect(r.trace.map((e) => e.kind)).toEqual(["enter", "call", "tail_call", "enter", "return", "exit"]); // prettier-ignore
  });

  it("failed tail calls fall through: bad index, empty slot", () => {
    const src = `
      mov %r6, %r1
      lddw %r2, 0x7ead0000
      lddw %r3, 0x100000003
      call 12
      mov %r1, %r6
      lddw %r2, 0x7ead0000
      mov %r3, 9
      call 12
      mov %r0, 7
      exit`;
    const r = both({ progs: [{ name: "p", asm: src }], maps: [PROG_ARRAY] });
    expect(r.r[0]).toBe(7n);
    expect(r.trace.filter((e) => e.kind === "tail_call_failed").length).toBe(2);
  });

  it("sees slot updates between runs without recompiling", () => {
    const src = `
      lddw %r2, 0x7ead0000
      mov %r3, 2
      call 12
      mov %r0, 1
      exit`;
    for (const e of ENGINES) {
      const w = world(e, {
        progs: [
          { name: "p", asm: src },
          { name: "q", asm: "mov %r0, 2\nexit" },
        ],
        maps: [PROG_ARRAY],
      });
      expect(w.run()).toBe(1n);
      (w.maps[0] as ProgArrayMap<ExecProgram>).setSlot(2, w.progs[1]);
      expect(w.run()).toBe(2n);
      (w.maps[0] as ProgArrayMap<ExecProgram>).setSlot(2, null);
      expect(w.run()).toBe(1n);
    }
  });

  it("tail calls from subprograms nest frames (34 programs deep)", () => {
    const src = `
      ldxw %r2, [%r1]
      add %r2, 1
      stxw [%r1], %r2
      stxdw [%r10-8], %r2
      call local sub
      ldxdw %r1, [%r10-8]
      add %r0, %r1
      exit
    sub:
      lddw %r2, 0x7ead0000
      mov %r3, 0
      call 12
      mov %r0, 0
      exit`;
    const r = both({ progs: [{ name: "p", asm: src }], maps: [PROG_ARRAY], slots: [[0, 0, 0]] });
    expect(r.r[0]).toBe(595n); // 34 + 33 + ... + 1
    const depths = r.trace.filter((e) => e.kind === "enter").map((e) => e.depth);
    expect(Math.max(...depths)).toBe(33);
  });

  it("subprogram chains and tail calls stack up to 238 frames", () => {
    const lines = ["call local s1", "exit"];
    for (let k = 1; k < 7; k++) lines.push(`s${k}:`, `call local s${k + 1}`, "add %r0, 1", "exit");
    lines.push("s7:", "lddw %r2, 0x7ead0000", "mov %r3, 0", "call 12", "mov %r0, 1", "exit");
    const r = both({ progs: [{ name: "p", asm: lines.join("\n") }], maps: [PROG_ARRAY], slots: [[0, 0, 0]] }); // prettier-ignore
    expect(r.r[0]).toBe(1n + 34n * 6n);
    const depths = r.trace.filter((e) => e.kind === "call").map((e) => e.depth);
    expect(Math.max(...depths)).toBe(238);
  });

  it("the budget stops a tail-call loop identically", () => {
    const src = `
      mov %r6, %r1
    l:
      mov %r1, %r6
      lddw %r2, 0x7ead0000
      mov %r3, 0
      call 12
      ja l`;
    const r = both({ progs: [{ name: "p", asm: src }], maps: [PROG_ARRAY], slots: [[0, 0, 0]], insnLimit: 5000 }); // prettier-ignore
    expect(r.r[0]).toMatch(/instruction budget of 5000 exhausted/);
  });
});

describe("jit: preparing a program before its first run", () => {
  const compiled = (p: ExecProgram, traced: boolean) => {
    const cache = p.engineData.get("jit") as { plain?: unknown; traced?: unknown } | undefined;
    return (traced ? cache?.traced : cache?.plain) !== undefined;
  };

  it("compiles the program and those its prog_arrays hold, transitively", () => {
    const spec = {
      progs: [
        { name: "a", asm: "lddw %r2, 0x7ead0000\nmov %r3, 0\ncall 12\nmov %r0, 1\nexit" },
        { name: "b", asm: "lddw %r2, 0x7ead0001\nmov %r3, 0\ncall 12\nmov %r0, 2\nexit" },
        { name: "c", asm: "mov %r0, 3\nexit" },
        { name: "unreached", asm: "mov %r0, 4\nexit" },
      ],
      maps: [PROG_ARRAY, PROG_ARRAY],
      slots: [[0, 0, 1], [1, 0, 2]] as [number, number, number][], // prettier-ignore
    };
    const w = world("jit", spec);
    const engine = new JitEngine(w.m);
    engine.prepare(w.progs[0], false);
    expect(w.progs.map((p) => compiled(p, false))).toEqual([true, true, true, false]);
    expect(compiled(w.progs[0], true)).toBe(false);
    engine.prepare(w.progs[0], true);
    expect(compiled(w.progs[2], true)).toBe(true);
    expect(w.run()).toBe(3n);
  });

  it("leaves a target that does not compile now to its first tail call", () => {
    const spec = {
      progs: [
        { name: "a", asm: "lddw %r2, 0x7ead0000\nmov %r3, 0\ncall 12\nmov %r0, 1\nexit" },
        { name: "b", asm: "mov %r0, 2\nexit" },
      ],
      maps: [PROG_ARRAY],
      slots: [[0, 0, 1]] as [number, number, number][],
    };
    const w = world("jit", spec);
    const engine = new JitEngine(w.m);
    // as a browser's main thread refusing the second module: the target's
    const Module = WebAssembly.Module;
    let made = 0;
    const spy = vi.spyOn(WebAssembly, "Module").mockImplementation((bytes) => {
      if (++made > 1) throw new RangeError("refused");
      return new Module(bytes);
    });
    try {
      engine.prepare(w.progs[0], false);
    } finally {
      spy.mockRestore();
    }
    expect(w.progs.map((p) => compiled(p, false))).toEqual([true, false]);
    expect(w.run()).toBe(2n); // compiled at the tail call
  });
});
