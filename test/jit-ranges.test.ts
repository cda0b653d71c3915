import { describe, expect, it } from "vitest";
import { assemble } from "../src/isa/asm.js";
import { decodeProgram } from "../src/isa/decode.js";
import { buildCfg } from "../src/jit/cfg.js";
import { findCountedLoops } from "../src/jit/loops.js";
import { isSupported } from "../src/jit/lower.js";
import { planRanges } from "../src/jit/ranges.js";
import type { MapDefinition } from "../src/maps/types.js";
import { asmLookup, both, runBoth } from "./jit-harness.js";

/**
 * The proved accesses of a one-function program: pc -> anchor pc, then `w` for a write and
 * `f` when a counted loop's fast copy needs no test (loops.ts).
 */
function provenOf(src: string): Record<number, string> {
  const p = decodeProgram(assemble(src));
  const cfg = buildCfg(p, 0, p.length, 0);
  const plan = planRanges(p, cfg, findCountedLoops(p, cfg, isSupported));
  const out: Record<number, string> = {};
  for (const [pc, a] of plan.proven) {
    out[pc] = `${a.anchor}${a.write ? "w" : ""}${a.fast ? "f" : ""}`;
  }
  return out;
}

/** The pivots of a one-function program: the guard, the accesses left unchecked, `w` if any writes. */
function pivotsOf(src: string): string[] {
  const p = decodeProgram(assemble(src));
  const cfg = buildCfg(p, 0, p.length, 0);
  const plan = planRanges(p, cfg, findCountedLoops(p, cfg, isSupported));
  return plan.pivots.map((v) => `${v.anchor}${v.write ? "w" : ""}: ${[...v.free].sort((a, b) => a - b).join(" ")}`); // prettier-ignore
}

/**
 * A straight-line header parse on r1 = data, r2 = its length (the end goes through the stack
 * so that a load produces it, pc 2): a 14-byte test, two reads, a 34-byte test, two reads and
 * a write at pcs 6, 7, 12, 14 and 16. `before` runs before the first test (pc 3 on).
 */
const PARSE = (before = "") => `
  add %r2, %r1
  stxdw [%r10-8], %r2
  ldxdw %r4, [%r10-8]
  ${before}
  mov %r3, %r1
  add %r3, 14
  jgt %r3, %r4, out
  ldxb %r0, [%r1+12]
  ldxb %r5, [%r1+13]
  add %r0, %r5
  mov %r3, %r1
  add %r3, 34
  jgt %r3, %r4, out
  ldxw %r5, [%r1+26]
  add %r0, %r5
  ldxh %r5, [%r3-2]
  add %r0, %r5
  stxb [%r1+20], %r0
out:
  exit`;

/**
 * The checksum loop of bench/progs/checksum.bpf.c, on r1 = data and r2 = its length: the end
 * goes through the stack so that a load produces it (pc 3). `BODY` is the loop's access.
 */
const SUM16 = (body: string, cmp = "jgt %r0, %r4, out") => `
  mov %r3, 0
  add %r2, %r1
  stxdw [%r10-8], %r2
  ldxdw %r4, [%r10-8]
  mov %r6, 0
loop:
  mov %r5, %r1
  add %r5, %r3
  mov %r0, %r5
  add %r0, 2
  ${cmp}
  ${body}
  add %r6, %r7
  add %r3, 2
  jne %r3, 64, loop
out:
  mov %r0, %r6
  exit`;

/**
 * A pointer loop over r1's data (the end loaded at pc 2, the read at pc 8 for a one-instruction
 * `init`): `init` sets the pointer r5, `step` moves it; the test `r5 + 2 <= end` at the top.
 */
const POINTER_LOOP = (init: string, step: string) => `
  add %r2, %r1
  stxdw [%r10-8], %r2
  ldxdw %r4, [%r10-8]
  ${init}
  mov %r6, 0
loop:
  mov %r0, %r5
  add %r0, 2
  jgt %r0, %r4, out
  ldxh %r7, [%r5]
  add %r6, %r7
  ${step}
  ja loop
out:
  mov %r0, %r6
  exit`;

/**
 * The pointer loop rotated: `r5 + entry <= end` tested before it, `r5 + back <= end` at its back
 * edge (the read at pc 8 for a one-instruction `init`); `extra` runs before that test.
 */
const ROTATED_LOOP = (init: string, entry = 2, back = 2, extra = "") => `
  add %r2, %r1
  stxdw [%r10-8], %r2
  ldxdw %r4, [%r10-8]
  ${init}
  mov %r6, 0
  mov %r0, %r5
  add %r0, ${entry}
  jgt %r0, %r4, out
loop:
  ldxh %r7, [%r5]
  add %r6, %r7
  add %r5, 3
  ${extra}
  mov %r0, %r5
  add %r0, ${back}
  jle %r0, %r4, loop
out:
  mov %r0, %r6
  exit`;

describe("jit: range proofs (planning)", () => {
  it("proves the checksum loop's load from its own data_end compare", () => {
    expect(provenOf(SUM16("ldxh %r7, [%r5]"))).toEqual({ 10: "3f" });
    // the proof holds for any access inside the compared span, reads or writes
    expect(provenOf(SUM16("ldxb %r7, [%r5+1]"))).toEqual({ 10: "3f" });
    expect(provenOf(SUM16("stxb [%r5+1], %r3\nmov %r7, 1"))).toEqual({ 10: "3wf" });
    expect(provenOf(SUM16("ldxh %r7, [%r0-2]"))).toEqual({ 10: "3f" });
  });

  it("uses the strict compares' extra byte, and the compare's other edge", () => {
    expect(provenOf(SUM16("ldxh %r7, [%r5]", "jge %r0, %r4, out"))).toEqual({ 10: "3f" });
    expect(provenOf(SUM16("ldxb %r7, [%r5+2]", "jge %r0, %r4, out"))).toEqual({ 10: "3f" });
    expect(provenOf(SUM16("ldxh %r7, [%r5]", "jlt %r4, %r0, out"))).toEqual({ 10: "3f" });
    expect(provenOf(SUM16("ldxb %r7, [%r5+2]", "jlt %r4, %r0, out"))).toEqual({});
  });

  it("proves nothing past the compared span, or from a signed or 32-bit compare", () => {
    expect(provenOf(SUM16("ldxh %r7, [%r5+1]"))).toEqual({});
    expect(provenOf(SUM16("ldxw %r7, [%r5]"))).toEqual({});
    expect(provenOf(SUM16("ldxh %r7, [%r5]", "jsgt %r0, %r4, out"))).toEqual({});
    expect(provenOf(SUM16("ldxh %r7, [%r5]", "jgt32 %r0, %r4, out"))).toEqual({});
  });

  it("forgets a fact when the base changes, the end is loaded again, or a call runs", () => {
    expect(provenOf(SUM16("add %r5, 1\nldxb %r7, [%r5]"))).toEqual({ 11: "3f" });
    expect(provenOf(SUM16("add %r5, 2\nldxb %r7, [%r5]"))).toEqual({});
    expect(provenOf(SUM16("mov %r5, %r3\nldxh %r7, [%r5]"))).toEqual({});
    // the end loaded again in the loop: at the compare r4 is no longer always one load's value
    expect(provenOf(SUM16("ldxdw %r4, [%r10-8]\nldxh %r7, [%r5]"))).toEqual({});
    expect(provenOf(SUM16("call 5\nldxh %r7, [%r5]"))).toEqual({});
    const callBefore = SUM16("ldxh %r7, [%r5]").replace("mov %r6, 0", "mov %r6, 0\ncall 5");
    expect(provenOf(callBefore)).toEqual({});
  });

  it("skips the test in a counted loop's fast copy only for base + 64-bit counter", () => {
    const w32 = SUM16("ldxh %r7, [%r5]").replace("add %r3, 2", "add32 %r3, 2").replace("jne %r3", "jne32 %r3"); // prettier-ignore
    expect(provenOf(w32)).toEqual({ 10: "3" });
    // the base loaded in the loop is not the same value on every iteration
    const reloaded = SUM16("ldxh %r7, [%r5]").replace("loop:", "loop:\nldxdw %r1, [%r10-8]");
    expect(provenOf(reloaded)).toEqual({ 11: "3" });
    // the base stepped with a register that is not the counter
    const other = SUM16("ldxh %r7, [%r5]").replace("add %r5, %r3", "add %r5, %r6");
    expect(provenOf(other)).toEqual({ 10: "3" });
  });

  it("proves a pointer stepped through the packet: a loop-carried register is one value per iteration", () => {
    const ptr = (step: string) => POINTER_LOOP("mov %r5, %r1", step);
    expect(provenOf(ptr("mov %r5, %r0"))).toEqual({ 8: "2" });
    expect(provenOf(ptr("add %r5, 2"))).toEqual({ 8: "2" });
    // a fact about last iteration's pointer does not carry over: r5 + 2 checked, r5 + 3 read
    expect(provenOf(ptr("add %r5, 2").replace("ldxh %r7, [%r5]", "ldxh %r7, [%r5+1]"))).toEqual({}); // prettier-ignore
  });

  it("proves a loop rotated to test at its back edge, when the entry and every back edge test", () => {
    const rotated = (entry: number, back: number, extra = "") =>
      ROTATED_LOOP("mov %r5, %r1", entry, back, extra);
    expect(provenOf(rotated(2, 2))).toEqual({ 8: "2" });
    // the back edge tests less than the access needs, or the entry does
    expect(provenOf(rotated(2, 1))).toEqual({});
    expect(provenOf(rotated(1, 2))).toEqual({});
    // a second way round that does not test
    expect(provenOf(rotated(2, 2, "jeq %r7, 7, loop"))).toEqual({});
  });

  it("only uses guards outside loops, for accesses inside them", () => {
    const endInLoop = SUM16("ldxh %r7, [%r5]").replace("loop:", "loop:\nldxdw %r4, [%r10-8]");
    expect(provenOf(endInLoop)).toEqual({});
    const straight = `
      ldxdw %r4, [%r1+8]
      mov %r5, %r1
      add %r5, 2
      jgt %r5, %r4, out
      ldxh %r0, [%r1]
    out:
      exit`;
    expect(provenOf(straight)).toEqual({});
  });

  it("forgets what only one path into a block knows", () => {
    const src = SUM16("ldxh %r7, [%r5]").replace(
      "  jgt %r0, %r4, out\n",
      "  jeq %r3, 4, skip\n  jgt %r0, %r4, out\nskip:\n",
    );
    expect(provenOf(src)).toEqual({});
  });
});

describe("jit: pivots (planning)", () => {
  it("checks a header parse once, at its first bounds test", () => {
    expect(pivotsOf(PARSE())).toEqual(["2w: 6 7 12 14 16"]);
    // the reads only: the guard's range need not be writable
    expect(pivotsOf(PARSE().replace("stxb [%r1+20], %r0", "mov %r9, 0"))).toEqual(["2: 6 7 12 14"]); // prettier-ignore
  });

  it("leaves out what no test covers, and everything after a call", () => {
    expect(pivotsOf(PARSE().replace("[%r1+26]", "[%r1+31]"))).toEqual(["2w: 6 7 14 16"]);
    expect(pivotsOf(PARSE().replace("ldxh %r5, [%r3-2]", "call 5"))).toEqual(["2: 6 7 12"]);
    // what is left in one block: one access group, checked once already
    expect(pivotsOf(PARSE().replace("ldxw %r5, [%r1+26]", "call 5"))).toEqual([]);
    // a call before the first test: the end's guard is gone, so no fact and no pivot
    const kept = "mov %r6, %r4\nmov %r7, %r1\ncall 5\nmov %r4, %r6\nmov %r1, %r7";
    expect(pivotsOf(PARSE(kept))).toEqual([]);
    // ... unless the end is loaded again
    expect(pivotsOf(PARSE("call 5\nldxdw %r4, [%r10-8]\nldxdw %r1, [%r10-8]"))).toEqual(["4w: 9 10 15 17 19"]); // prettier-ignore
    // signed compares make no fact
    expect(pivotsOf(PARSE().replace(/jgt/g, "jsgt"))).toEqual([]);
  });

  it("needs two accesses at least, outside loops", () => {
    const one = PARSE().replace(/ldx[bhw] %r5, \[%r[13][+-]\d+\]/g, "mov %r5, 1").replace("stxb [%r1+20], %r0", "mov %r9, 0"); // prettier-ignore
    expect(pivotsOf(one)).toEqual([]);
    expect(pivotsOf(SUM16("ldxh %r7, [%r5]"))).toEqual([]);
  });
});

describe("jit: pivots (runs match the interpreter)", () => {
  const data = Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 5) & 0xff);
  const faultsAsInterpreter = (src: string, pc: number) => {
    const [i, j] = runBoth(assemble(src), { mem: data, runs: 2 });
    expect(i.ok).toBe(false);
    expect(j).toEqual(i);
    if (!i.ok) expect(i.error).toMatch(new RegExp(`pc ${pc}\\b`));
  };

  it("every packet length, on the proved copy and through both tests", () => {
    for (let n = 0; n <= 40; n++) {
      const [i, j] = runBoth(assemble(PARSE()), { mem: data.slice(0, n), runs: 2 });
      expect(j).toEqual(i);
    }
  });

  it("a base that is not the data's: the pivot's test sends the run to the checked copy", () => {
    for (const base of [
      "lddw %r1, 0x1000",
      "mov %r1, -2",
      "mov %r1, %r10\nadd %r1, -64",
      "add %r1, 30",
      "add %r1, -3",
    ]) {
      // prettier-ignore
      const [i, j] = runBoth(assemble(PARSE(base)), { mem: data, runs: 2 });
      expect(j).toEqual(i);
    }
  });

  it("the pivot tests the least offset it covers: an access below the live frames faults", () => {
    // the end is the stack's top; r1 = r10 - 514: r1 + 12 is in the live frame, r1 + 0 is not
    const src = `
      stxdw [%r10-8], %r10
      ldxdw %r4, [%r10-8]
      mov %r1, %r10
      add %r1, -514
      mov %r3, %r1
      add %r3, 14
      jgt %r3, %r4, out
      ldxb %r0, [%r1+12]
      mov %r3, %r1
      add %r3, 13
      jgt %r3, %r4, out
      ldxb %r5, [%r1+0]
      add %r0, %r5
    out:
      exit`;
    expect(pivotsOf(src)).toEqual(["1: 7 11"]);
    faultsAsInterpreter(src, 11);
  });

  it("an end in a read-only region: the writable range misses, the write faults", () => {
    const ro: MapDefinition = { name: "ro", type: 2, keySize: 4, valueSize: 64, maxEntries: 1, flags: 0x80 }; // prettier-ignore
    const src = `
      stw [%r10-4], 0
      ${asmLookup(-4)}
      jeq %r0, 0, out
      mov %r1, %r0
      mov %r2, 64
      ${PARSE().replace("out:\n  exit", "")}
    out:
      exit`;
    expect(pivotsOf(src)).toEqual(["11w: 15 16 21 23 25"]);
    const r = both({ progs: [{ name: "p", asm: src }], maps: [ro] }, 2);
    expect(String(r.r[0])).toMatch(/pc 25\b/);
  });
});

describe("jit: the values base registers hold (cache keys)", () => {
  it("tells a register's context accesses from its packet accesses", () => {
    const src = `
      ldxw %r2, [%r1+4]
      ldxw %r1, [%r1]
      mov %r3, %r1
      add %r3, 14
      jgt %r3, %r2, out
      ldxb %r0, [%r1+12]
      ldxb %r4, [%r3-1]
    out:
      exit`;
    const p = decodeProgram(assemble(src));
    const { baseValue } = planRanges(p, buildCfg(p, 0, p.length, 0));
    const v = [0, 1, 5, 6].map((pc) => baseValue.get(pc));
    expect(v[0]).toBe(v[1]);
    expect(v[2]).toBe(1); // the value the load at pc 1 produced
    expect(v[3]).toBe(1); // r3 = r1 + 14
    expect(v[0]).not.toBe(v[2]);
  });
});

describe("jit: range proofs (runs match the interpreter)", () => {
  const data = Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 5) & 0xff);
  /** Runs `src` on both engines: the same fault, at `pc`. */
  const faultsAsInterpreter = (src: string, pc: number) => {
    const [i, j] = runBoth(assemble(src), { mem: data });
    expect(i.ok).toBe(false);
    expect(j).toEqual(i);
    if (!i.ok) expect(i.error).toMatch(new RegExp(`pc ${pc}\\b`));
  };

  it("the checksum loop, and a loop that writes what it proved", () => {
    const [i, j] = runBoth(assemble(SUM16("ldxh %r7, [%r5]")), { mem: data, runs: 3 });
    expect(i.ok).toBe(true);
    expect(j).toEqual(i);
    const w = SUM16("ldxb %r7, [%r5+1]\nstxb [%r5], %r7");
    const [wi, wj] = runBoth(assemble(w), { mem: data, runs: 2 });
    expect(wi.ok).toBe(true);
    expect(wj).toEqual(wi);
  });

  it("a short packet: the program's own compare ends the loop", () => {
    const [i, j] = runBoth(assemble(SUM16("ldxh %r7, [%r5]")), { mem: data.slice(0, 9) });
    expect(i.ok).toBe(true);
    expect(j).toEqual(i);
  });

  it("an address below the guarded range, in another region, is still read", () => {
    // the base is the stack (below the data region); the compare against the data's end holds
    const src = SUM16("ldxh %r7, [%r5]").replace("mov %r6, 0", "mov %r6, 0\nmov %r1, %r10\nadd %r1, -64"); // prettier-ignore
    const [i, j] = runBoth(assemble(src), { mem: data });
    expect(i.ok).toBe(true);
    expect(j).toEqual(i);
  });

  it("a base that wraps past the compare faults where the interpreter does", () => {
    // r5 = 2^64 - 2: r5 + 2 wraps to 0, which is <= the end
    faultsAsInterpreter(SUM16("ldxh %r7, [%r5]").replace("mov %r6, 0", "mov %r6, 0\nmov %r1, -2"), 11); // prettier-ignore
  });

  it("a base below every region faults: the fast copy's guard sends the loop to its checks", () => {
    // r1 = 0x1000 (nothing is mapped there) while the end is the data's: r5 + 2 <= end holds
    const src = SUM16("ldxh %r7, [%r5]").replace("mov %r6, 0", "mov %r6, 0\nlddw %r1, 0x1000");
    expect(provenOf(src)).toEqual({ 12: "3f" });
    faultsAsInterpreter(src, 12);
  });

  it("a fast copy uses its own loop's base + counter only, with offsets the guard can add", () => {
    // found in review: the base was stepped by an earlier loop's counter (-600, never
    // range-checked: that loop ran its checked copy), and an offset past 2^31
    const otherLoop = `
      add %r2, %r1
      stxdw [%r10-8], %r2
      ldxdw %r4, [%r10-8]
      mov %r3, -600
    first:
      mov %r5, %r1
      add %r5, %r3
      add %r3, 600
      jne %r3, 0, first
      mov %r8, 0
    second:
      mov %r0, %r5
      add %r0, 1
      jgt %r0, %r4, out
      stxb [%r5], %r8
      add %r8, 1
      jne %r8, 4, second
    out:
      mov %r0, %r8
      exit`;
    expect(provenOf(otherLoop)).toEqual({ 12: "2w" });
    faultsAsInterpreter(otherLoop, 12);
    const farOffset = `
      add %r2, %r1
      stxdw [%r10-8], %r2
      ldxdw %r4, [%r10-8]
      lddw %r9, 0x3ffffda9
      add %r1, %r9
      add %r1, 0x40000000
      mov %r3, 0
      mov %r6, 0
    loop:
      mov %r5, %r1
      add %r5, -0x40000000
      add %r5, -0x40000000
      add %r5, %r3
      mov %r0, %r5
      add %r0, 1
      jgt %r0, %r4, out
      ldxb %r7, [%r5-1]
      add %r6, %r7
      add %r3, 1
      jne %r3, 4, loop
    out:
      mov %r0, %r6
      exit`;
    expect(provenOf(farOffset)).toEqual({ 16: "2" });
    faultsAsInterpreter(farOffset, 16);
  });

  it("a pointer stepped through the packet, and one stepped past it", () => {
    const ptr = (init: string) => POINTER_LOOP(init, "add %r5, 3");
    const [i, j] = runBoth(assemble(ptr("mov %r5, %r1")), { mem: data, runs: 2 });
    expect(i.ok).toBe(true);
    expect(j).toEqual(i);
    faultsAsInterpreter(ptr("mov %r5, %r1\nadd %r5, -7"), 9);
    faultsAsInterpreter(ptr("mov %r5, -2"), 8);
  });

  it("a rotated loop (the test at its back edge) runs as in the interpreter", () => {
    const rotated = (init: string) => ROTATED_LOOP(init);
    for (const mem of [data, data.slice(0, 7), data.slice(0, 2)]) {
      const [i, j] = runBoth(assemble(rotated("mov %r5, %r1")), { mem, runs: 2 });
      expect(i.ok).toBe(true);
      expect(j).toEqual(i);
    }
    faultsAsInterpreter(rotated("mov %r5, %r1\nadd %r5, -70"), 9);
    faultsAsInterpreter(rotated("mov %r5, -2"), 8);
    // a back edge that tests one byte where the loop reads two: the last read overruns
    const short = ROTATED_LOOP("mov %r5, %r1", 2, 1);
    const [i, j] = runBoth(assemble(short), { mem: data.slice(0, 7) });
    expect(i.ok).toBe(false);
    expect(j).toEqual(i);
  });

  it("an end outside every region gives a guard that never passes", () => {
    const src = SUM16("ldxh %r7, [%r5]").replace("add %r2, %r1", "mov %r2, 256\nmov %r1, 0");
    const [i, j] = runBoth(assemble(src), { mem: data });
    expect(i.ok).toBe(false);
    expect(j).toEqual(i);
  });

  it("an end past every region does not admit the address INT64_MAX", () => {
    // end = 2^64 - 1: the guard's probe misses; INT64_MAX + 1 <= end holds, the read faults
    const src = POINTER_LOOP("lddw %r5, 0x7fffffffffffffff", "add %r5, 1").replace(
      "add %r2, %r1",
      "lddw %r2, -1",
    );
    expect(provenOf(src)).toEqual({ 10: "3" });
    faultsAsInterpreter(src, 10);
  });

  it("an end in the stack guards the live frames", () => {
    const src = SUM16("ldxh %r7, [%r5]\nstxh [%r5], %r3").replace(
      "add %r2, %r1",
      "mov %r1, %r10\nadd %r1, -64\nmov %r2, %r10",
    );
    const [i, j] = runBoth(assemble(src), { mem: data, runs: 2 });
    expect(i.ok).toBe(true);
    expect(j).toEqual(i);
  });

  it("a proved write into a read-only region faults at the write", () => {
    const ro: MapDefinition = { name: "ro", type: 2, keySize: 4, valueSize: 16, maxEntries: 1, flags: 0x80 }; // prettier-ignore
    const src = `
      stw [%r10-4], 0
      lddw %r1, 0x7ead0000
      mov %r2, %r10
      add %r2, -4
      call 1
      jeq %r0, 0, out
      mov %r4, %r0
      add %r4, 16
      stxdw [%r10-16], %r4
      ldxdw %r4, [%r10-16]
      mov %r3, 0
    loop:
      mov %r5, %r0
      add %r5, %r3
      mov %r1, %r5
      add %r1, 1
      jgt %r1, %r4, out
      ldxb %r2, [%r5]
      stxb [%r5], %r2
      add %r3, 1
      jne %r3, 16, loop
    out:
      exit`;
    expect(provenOf(src)).toEqual({ 17: "10f", 18: "10wf" });
    const r = both({ progs: [{ name: "p", asm: src }], maps: [ro] }, 2);
    expect(String(r.r[0])).toMatch(/pc 18\b/);
  });
});
