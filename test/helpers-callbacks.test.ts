import { describe, expect, it } from "vitest";
import { BPF_FUNC as F, BPF_MAX_LOOPS } from "../src/helpers/index.js";
import { BudgetError, MemoryAccessError } from "../src/errors.js";
import type { BpfMap } from "../src/maps/types.js";
import { FUNC_ADDR_BASE } from "../src/memory/layout.js";
import { prepareProgram } from "../src/runtime/prepare.js";
import { Interpreter } from "../src/vm/interpreter.js";
import { Bench, le32, le64 } from "./helpers-harness.js";

/** One instruction: code, dst, src, off, imm. */
type Insn = [number, number, number, number, number];

function encode(insns: Insn[]): Uint8Array {
  const out = new Uint8Array(insns.length * 8);
  const dv = new DataView(out.buffer);
  insns.forEach(([code, dst, src, off, imm], i) => {
    out[8 * i] = code;
    out[8 * i + 1] = (src << 4) | dst;
    dv.setInt16(8 * i + 2, off, true);
    dv.setInt32(8 * i + 4, imm, true);
  });
  return out;
}

/** Runs `insns` (main at 0, a callback at `cb`) on the interpreter; returns r0. */
function run(b: Bench, insns: Insn[], cb: number, map?: BpfMap): bigint {
  const prog = prepareProgram(
    b.m,
    {
      name: "main",
      insns: encode(insns),
      funcs: [
        { name: "main", start: 0 },
        { name: "cb", start: cb },
      ],
    },
    { mapHandle: () => map?.handle, mapValueAddr: () => undefined },
  );
  const vm = new Interpreter(b.m);
  vm.runProgram(prog, 0, 0);
  return (BigInt(vm.regs[1] >>> 0) << 32n) | BigInt(vm.regs[0] >>> 0);
}

/** main: bpf_loop(n, cb, &counter, 0); return r0 * 1000 + counter. cb adds i, stops at i == 4. */
function loopProgram(n: number): Insn[] {
  return [
    [0x7a, 10, 0, -8, 0], // *(u64 *)(r10 - 8) = 0
    [0xb7, 1, 0, 0, n], // r1 = n
    [0x18, 2, 4, 0, 12 - 3], // r2 = cb (BPF_PSEUDO_FUNC)
    [0x00, 0, 0, 0, 0],
    [0xbf, 3, 10, 0, 0], // r3 = r10
    [0x07, 3, 0, 0, -8], // r3 += -8
    [0xb7, 4, 0, 0, 0], // r4 = 0
    [0x85, 0, 0, 0, F.loop],
    [0x27, 0, 0, 0, 1000], // r0 *= 1000
    [0x79, 1, 10, -8, 0], // r1 = *(u64 *)(r10 - 8)
    [0x0f, 0, 1, 0, 0], // r0 += r1
    [0x95, 0, 0, 0, 0],
    // cb(r1 = index, r2 = ctx)
    [0x79, 3, 2, 0, 0], // r3 = *(u64 *)(r2 + 0)
    [0x0f, 3, 1, 0, 0], // r3 += r1
    [0x7b, 2, 3, 0, 0], // *(u64 *)(r2 + 0) = r3
    [0xb7, 0, 0, 0, 0], // r0 = 0
    [0x55, 1, 0, 1, 4], // if r1 != 4 goto +1
    [0xb7, 0, 0, 0, 1], // r0 = 1
    [0x95, 0, 0, 0, 0],
  ];
}

describe("bpf_loop", () => {
  it("calls the callback until it returns 1, on the interpreter", () => {
    expect(run(new Bench(), loopProgram(10), 12)).toBe(5010n); // 5 calls, 0+1+2+3+4
    expect(run(new Bench(), loopProgram(3), 12)).toBe(3003n);
    expect(run(new Bench(), loopProgram(0), 12)).toBe(0n);
  });

  it("stays inside the instruction budget", () => {
    const b = new Bench();
    b.m.insnLimit = 10_000;
    const p = loopProgram(BPF_MAX_LOOPS);
    p[16] = [0x05, 0, 0, 1, 0]; // never stop
    expect(() => run(b, p, 12)).toThrow(BudgetError);
  });

  it("checks flags, then the loop count", () => {
    const b = new Bench();
    let calls = 0;
    b.env.onCall = () => (calls++, [0, 0]);
    const fn = FUNC_ADDR_BASE + 8 * 5;
    expect(b.int(F.loop, BPF_MAX_LOOPS + 1, fn, 0, 1)).toBe(-22);
    expect(b.int(F.loop, BPF_MAX_LOOPS + 1, fn, 0, 0)).toBe(-7);
    expect(b.int(F.loop, 3, fn, 0, 1n << 32n)).toBe(-22);
    expect(calls).toBe(0);
    expect(b.int(F.loop, (1n << 32n) | 2n, fn, 0, 0)).toBe(2); // nr_loops is a u32
    expect(calls).toBe(2);
  });

  it("passes (index, ctx) and counts the stopping call", () => {
    const b = new Bench();
    const seen: Array<readonly [number, number]>[] = [];
    b.env.onCall = (fn, args) => {
      expect(fn).toBe(FUNC_ADDR_BASE + 40);
      seen.push(args.slice());
      return args[0][0] === 2 ? [0, 1] : [0, 0]; // non-zero high half also stops
    };
    expect(b.int(F.loop, 100, FUNC_ADDR_BASE + 40, -5, 0)).toBe(3);
    expect(seen).toEqual([
      [
        [0, 0],
        [-5, -1],
      ],
      [
        [1, 0],
        [-5, -1],
      ],
      [
        [2, 0],
        [-5, -1],
      ],
    ]);
    expect(() => b.call(F.loop, 1, (1n << 32n) | 8n, 0, 0)).toThrow(/not a callback/);
  });
});

/** main: bpf_for_each_map_elem(map, cb, &sum, 0); return r0 * 100000 + sum. */
function forEachProgram(stopAt: number, writeKey = false): Insn[] {
  return [
    [0x7a, 10, 0, -8, 0], // *(u64 *)(r10 - 8) = 0
    [0x18, 1, 1, 0, 0], // r1 = map
    [0x00, 0, 0, 0, 0],
    [0x18, 2, 4, 0, 13 - 4], // r2 = cb
    [0x00, 0, 0, 0, 0],
    [0xbf, 3, 10, 0, 0], // r3 = r10
    [0x07, 3, 0, 0, -8], // r3 += -8
    [0xb7, 4, 0, 0, 0], // r4 = 0
    [0x85, 0, 0, 0, F.for_each_map_elem],
    [0x27, 0, 0, 0, 100000], // r0 *= 100000
    [0x79, 1, 10, -8, 0], // r1 = sum
    [0x0f, 0, 1, 0, 0], // r0 += r1
    [0x95, 0, 0, 0, 0],
    // cb(r1 = map, r2 = key, r3 = value, r4 = ctx)
    [0x61, 5, 2, 0, 0], // r5 = *(u32 *)(r2 + 0)
    writeKey ? [0x62, 2, 0, 0, 7] : [0x05, 0, 0, 0, 0], // *(u32 *)(r2 + 0) = 7
    [0x79, 6, 3, 0, 0], // r6 = *(u64 *)(r3 + 0)
    [0x27, 5, 0, 0, 1000], // r5 *= 1000
    [0x0f, 6, 5, 0, 0], // r6 += r5
    [0x79, 7, 4, 0, 0], // r7 = *(u64 *)(r4 + 0)
    [0x0f, 7, 6, 0, 0], // r7 += r6
    [0x7b, 4, 7, 0, 0], // *(u64 *)(r4 + 0) = r7
    [0xb7, 0, 0, 0, 0], // r0 = 0
    [0x61, 5, 2, 0, 0], // r5 = key
    [0x55, 5, 0, 1, stopAt], // if r5 != stopAt goto +1
    [0xb7, 0, 0, 0, 1], // r0 = 1
    [0x95, 0, 0, 0, 0],
  ];
}

describe("bpf_for_each_map_elem", () => {
  function arrayBench() {
    const b = new Bench();
    const map = b.map({ type: 2, keySize: 4, valueSize: 8, maxEntries: 4 });
    [10n, 20n, 30n, 40n].forEach((v, i) =>
      map.update(Uint8Array.from(le32(i)), Uint8Array.from(le64(v))),
    );
    return { b, map };
  }

  it("visits array elements in order until the callback returns 1", () => {
    const { b, map } = arrayBench();
    expect(run(b, forEachProgram(2), 13, map)).toBe(3n * 100000n + 3060n);
    const { b: b2, map: m2 } = arrayBench();
    expect(run(b2, forEachProgram(99), 13, m2)).toBe(4n * 100000n + 6100n);
  });

  it("gives the callback a read-only key", () => {
    const { b, map } = arrayBench();
    expect(() => run(b, forEachProgram(99, true), 13, map)).toThrow(MemoryAccessError);
  });

  it("walks hash maps, passing map, key copy, value address and ctx", () => {
    const b = new Bench();
    const map = b.map({ type: 1, keySize: 6, valueSize: 4, maxEntries: 8 });
    for (const k of [1, 2, 3]) {
      map.update(Uint8Array.from([k, 0, 0, 0, 0, k]), Uint8Array.from(le32(k * 11)));
    }
    const seen: number[][] = [];
    b.env.onCall = (_fn, args) => {
      expect(args[0]).toEqual([map.handle, 0]);
      expect(args[3]).toEqual([77, 0]);
      const key = args[1][0] >>> 0;
      b.env.checkMem(key, 0, 6, false, "key");
      expect(() => b.env.checkMem(key, 0, 7, false, "key")).toThrow(MemoryAccessError);
      expect(() => b.env.checkMem(key, 0, 1, true, "key")).toThrow(MemoryAccessError);
      seen.push([...b.read(key, 6), ...b.read(args[2][0] >>> 0, 4)]);
      if (seen.length === 1) map.delete(Uint8Array.from([2, 0, 0, 0, 0, 2])); // deleted: skipped
      return [0, 0];
    };
    expect(b.int(F.for_each_map_elem, map.handle, FUNC_ADDR_BASE, 77, 0)).toBe(2);
    expect(seen).toEqual([
      [1, 0, 0, 0, 0, 1, ...le32(11)],
      [3, 0, 0, 0, 0, 3, ...le32(33)],
    ]);
  });

  it("nests, with a key copy per level", () => {
    const b = new Bench();
    const outer = b.map({ type: 2, keySize: 4, valueSize: 4, maxEntries: 2 });
    const inner = b.map({ type: 1, keySize: 8, valueSize: 4, maxEntries: 2 });
    inner.update(Uint8Array.from(le64(5n)), Uint8Array.from(le32(1)));
    const keys: number[] = [];
    b.env.onCall = (_fn, args) => {
      if (args[0][0] === outer.handle) {
        const k = args[1][0];
        expect(b.int(F.for_each_map_elem, inner.handle, FUNC_ADDR_BASE, 0, 0)).toBe(1);
        keys.push(b.read(k, 4)[0]); // outer key still intact
      }
      return [0, 0];
    };
    expect(b.int(F.for_each_map_elem, outer.handle, FUNC_ADDR_BASE, 0, 0)).toBe(2);
    expect(keys).toEqual([0, 1]);
  });

  it("checks flags and the map type", () => {
    const b = new Bench();
    const map = b.map({ type: 2 });
    expect(b.int(F.for_each_map_elem, map.handle, FUNC_ADDR_BASE, 0, 1)).toBe(-22);
    const q = b.map({ type: 22, keySize: 0, valueSize: 4 });
    expect(() => b.call(F.for_each_map_elem, q.handle, FUNC_ADDR_BASE, 0, 0)).toThrow(
      /bpf_for_each_map_elem: map "m" \(type 22\) cannot be used/,
    );
  });
});
