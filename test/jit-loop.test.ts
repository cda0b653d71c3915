/**
 * `bpf_loop` with a constant callback: the JIT runs it as a loop of direct calls inside
 * WebAssembly; results, errors (flags, loop count, frame limit, budget) and the callback's view
 * must be the interpreter's (which calls back through the helper).
 */
import { describe, expect, it } from "vitest";
import { BPF_FUNC as F } from "../src/helpers/index.js";
import type { FuncInfo } from "../src/runtime/program.js";
import { raw, runBoth } from "./jit-harness.js";

/** One instruction: code, dst, src, off, imm. */
type Insn = [number, number, number, number, number];

function encode(insns: Insn[]): Uint8Array {
  return raw(insns.map(([code, dst, src, off, imm]) => ({ code, dst, src, off, imm })));
}

const CB = 13;
const FUNCS: FuncInfo[] = [
  { name: "main", start: 0 },
  { name: "cb", start: CB },
];

/**
 * main: bpf_loop(r1 = n (64-bit, as halves), cb, &sum, flags); return r0 * 1000 + sum.
 * cb(i, ctx): *ctx += i; returns 1 once i == stop.
 */
function program(n: [number, number], flags: number, stop: number): Uint8Array {
  return encode([
    [0x7a, 10, 0, -8, 0], // *(u64 *)(r10 - 8) = 0
    [0x18, 1, 0, 0, n[0]], // r1 = n
    [0x00, 0, 0, 0, n[1]],
    [0x18, 2, 4, 0, CB - 4], // r2 = cb (BPF_PSEUDO_FUNC, relative to the next slot)
    [0x00, 0, 0, 0, 0],
    [0xbf, 3, 10, 0, 0], // r3 = r10 - 8
    [0x07, 3, 0, 0, -8],
    [0xb7, 4, 0, 0, flags], // r4 = flags
    [0x85, 0, 0, 0, F.loop],
    [0x27, 0, 0, 0, 1000], // r0 = r0 * 1000 + sum
    [0x79, 1, 10, -8, 0],
    [0x0f, 0, 1, 0, 0],
    [0x95, 0, 0, 0, 0],
    // cb
    [0x79, 3, 2, 0, 0], // r3 = *ctx
    [0x0f, 3, 1, 0, 0], // r3 += i
    [0x7b, 2, 3, 0, 0], // *ctx = r3
    [0xb7, 0, 0, 0, 0], // r0 = 0
    [0x55, 1, 0, 1, stop], // if i != stop goto +1
    [0xb7, 0, 0, 0, 1], // r0 = 1
    [0x95, 0, 0, 0, 0],
  ]);
}

function both(n: [number, number], flags = 0, stop = -1, machine = {}) {
  const [i, j] = runBoth(program(n, flags, stop), { funcs: FUNCS, machine });
  expect(j).toEqual(i);
  return i;
}

describe("jit: bpf_loop as a loop of direct calls", () => {
  it("calls the callback n times, or until it returns 1", () => {
    expect(both([0, 0])).toMatchObject({ ok: true, r0: 0n });
    expect(both([10, 0])).toMatchObject({ ok: true, r0: 10n * 1000n + 45n });
    expect(both([10, 0], 0, 4)).toMatchObject({ ok: true, r0: 5n * 1000n + 10n });
    // nr_loops is a u32: the high half of r1 is ignored
    expect(both([3, 1])).toMatchObject({ ok: true, r0: 3n * 1000n + 3n });
  });

  it("checks the flags, then the loop count", () => {
    const r = both([1 << 24, 0], 1);
    expect(r).toMatchObject({ ok: true, r0: BigInt.asUintN(64, -22n * 1000n) });
    expect(both([(1 << 23) + 1, 0])).toMatchObject({ ok: true, r0: BigInt.asUintN(64, -7000n) });
    expect(both([1 << 23, 0], 0, 0)).toMatchObject({ ok: true, r0: 1000n });
  });

  it("stops at the instruction budget at the same pc", () => {
    for (const insnLimit of [20, 21, 50, 333]) {
      const r = both([1000, 0], 0, -1, { insnLimit });
      expect(r).toMatchObject({ ok: false, kind: "BudgetError" });
    }
  });

  it("stops at the frame limit with the helper's error", () => {
    const r = both([5, 0], 0, -1, { maxFrames: 1 });
    expect(r).toMatchObject({ ok: false, error: expect.stringMatching(/call depth limit of 1/) });
    // no call, no frame: zero loops succeed even at the limit
    expect(both([0, 0], 0, -1, { maxFrames: 1 })).toMatchObject({ ok: true, r0: 0n });
  });
});
