import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { conformanceProgram, parseConformanceFile } from "../src/conformance/parse.js";
import { assemble } from "../src/isa/asm.js";
import type { Insn } from "../src/isa/decode.js";
import { raw, runBoth, runOn } from "./jit-harness.js";

const root = join(import.meta.dirname, "conformance", "tests");
const files = readdirSync(root).filter((f) => f.endsWith(".data"));

describe("jit: bpf_conformance, both engines", () => {
  it("has all 313 files", () => {
    expect(files.length).toBe(313);
  });

  it.each(files)("%s", (file) => {
    const t = parseConformanceFile(readFileSync(join(root, file), "utf8"));
    const code = conformanceProgram(t);
    const [i, j] = runBoth(code, { mem: t.mem });
    if (t.error !== undefined) {
      expect(i.ok).toBe(false);
      expect(j.ok).toBe(false);
      return;
    }
    expect(j).toEqual(i);
    expect(j.ok && j.r0).toBe(t.result);
  });
});

// ---- random differential testing -------------------------------------------------------

/** Cases per property (JIT_FUZZ_RUNS=20000 for a long run). */
const FUZZ_RUNS = Number(process.env.JIT_FUZZ_RUNS ?? 400);
const MEM = 64;
const REGS = [0, 2, 3, 4, 5, 6, 7, 8, 9];

type Op =
  | { t: "alu"; cls: number; op: number; x: boolean; dst: number; src: number; imm: number; signed: boolean; sx: number } // prettier-ignore
  | { t: "lddw"; dst: number; lo: number; hi: number }
  | { t: "ldx"; size: number; sx: boolean; stack: boolean; dst: number; slot: number; oob: number } // prettier-ignore
  | { t: "st"; size: number; reg: boolean; stack: boolean; src: number; imm: number; slot: number; oob: number } // prettier-ignore
  | { t: "atomic"; dw: boolean; kind: number; stack: boolean; src: number; slot: number }
  | { t: "ptr"; dst: number; stack: boolean; k: number }
  | { t: "ldp"; size: number; base: number; dst: number; off: number }
  | { t: "jmp"; cls: number; op: number; x: boolean; dst: number; src: number; imm: number; delta: number } // prettier-ignore
  | { t: "call"; slot: number };

const reg = fc.constantFrom(...REGS);
const imm = fc.oneof(
  fc.integer({ min: -4, max: 4 }),
  fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }),
  fc.constantFrom(0x7fff_ffff, -0x8000_0000, 8, 16, 31, 32, 33, 63, 64, 0xffff, -0x10000),
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ t: fc.constant("alu" as const), cls: fc.constantFrom(4, 7), op: fc.constantFrom(0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0, 0xb0, 0xc0, 0xd0), x: fc.boolean(), dst: reg, src: reg, imm, signed: fc.boolean(), sx: fc.constantFrom(0, 0, 8, 16, 32) }) }, // prettier-ignore
  { weight: 1, arbitrary: fc.record({ t: fc.constant("lddw" as const), dst: reg, lo: fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }), hi: fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }) }) }, // prettier-ignore
  { weight: 3, arbitrary: fc.record({ t: fc.constant("ldx" as const), size: fc.constantFrom(1, 2, 4, 8), sx: fc.boolean(), stack: fc.boolean(), dst: reg, slot: fc.nat(63), oob: fc.constantFrom(0, 0, 0, 0, 0, 0, 0, 1, -1) }) }, // prettier-ignore
  { weight: 3, arbitrary: fc.record({ t: fc.constant("st" as const), size: fc.constantFrom(1, 2, 4, 8), reg: fc.boolean(), stack: fc.boolean(), src: reg, imm, slot: fc.nat(63), oob: fc.constantFrom(0, 0, 0, 0, 0, 0, 0, 1, -1) }) }, // prettier-ignore
  { weight: 1, arbitrary: fc.record({ t: fc.constant("atomic" as const), dw: fc.boolean(), kind: fc.constantFrom(0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1), stack: fc.boolean(), src: reg, slot: fc.nat(7) }) }, // prettier-ignore
  { weight: 1, arbitrary: fc.record({ t: fc.constant("ptr" as const), dst: fc.constantFrom(6, 7, 8, 9), stack: fc.boolean(), k: fc.nat(63) }) }, // prettier-ignore
  { weight: 2, arbitrary: fc.record({ t: fc.constant("ldp" as const), size: fc.constantFrom(1, 2, 4, 8), base: fc.constantFrom(6, 7, 8, 9), dst: reg, off: fc.integer({ min: -8, max: 8 }) }) }, // prettier-ignore
  { weight: 1, arbitrary: fc.record({ t: fc.constant("call" as const), slot: fc.nat(3) }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant("jmp" as const), cls: fc.constantFrom(5, 6), op: fc.constantFrom(0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0), x: fc.boolean(), dst: reg, src: reg, imm, delta: fc.integer({ min: -6, max: 8 }) }) }, // prettier-ignore
);
const progArb = fc.record({
  init: fc.array(fc.tuple(fc.integer(), fc.integer()), { minLength: 9, maxLength: 9 }),
  ops: fc.array(opArb, { minLength: 1, maxLength: 40 }),
  mem: fc.uint8Array({ minLength: MEM, maxLength: MEM }),
  limit: fc.oneof(fc.constant(3000), fc.integer({ min: 1, max: 60 })),
});

const SIZE_BITS: Record<number, number> = { 1: 0x10, 2: 0x08, 4: 0x00, 8: 0x18 };

/** Slots of one op; jumps get their offset later (`delta` items ahead). */
function encodeOp(o: Op): Partial<Insn>[] {
  switch (o.t) {
    case "alu": {
      const { cls, op, x } = o;
      if (op === 0x80) return [{ code: cls | 0x80, dst: o.dst }];
      if (op === 0xd0) {
        const w = [16, 32, 64][Math.abs(o.imm) % 3];
        return [{ code: cls === 7 ? 0xd7 : 0xd4 | (x ? 0x08 : 0), dst: o.dst, imm: w }];
      }
      let off = 0;
      if ((op === 0x30 || op === 0x90) && o.signed) off = 1;
      if (op === 0xb0 && x) off = cls === 7 ? o.sx : o.sx === 32 ? 0 : o.sx;
      let i = o.imm;
      if (!x && (op === 0x30 || op === 0x90) && i === 0) i = 3;
      return [
        { code: cls | op | (x ? 8 : 0), dst: o.dst, src: x ? o.src : 0, off, imm: x ? 0 : i },
      ];
    }
    case "lddw":
      return [{ code: 0x18, dst: o.dst, imm: o.lo }, { imm: o.hi }];
    case "ldx": {
      const off = access(o.stack, o.slot, o.size, o.oob);
      const sx = o.sx && o.size !== 8 ? 0x80 : 0x60;
      return [{ code: 0x01 | sx | SIZE_BITS[o.size], dst: o.dst, src: o.stack ? 10 : 1, off }];
    }
    case "st": {
      const off = access(o.stack, o.slot, o.size, o.oob);
      const base = o.stack ? 10 : 1;
      if (o.reg) return [{ code: 0x63 | SIZE_BITS[o.size], dst: base, src: o.src, off }];
      return [{ code: 0x62 | SIZE_BITS[o.size], dst: base, off, imm: o.imm }];
    }
    case "atomic": {
      const off = o.stack ? -8 * (o.slot + 1) : o.slot * 8;
      return [{ code: o.dw ? 0xdb : 0xc3, dst: o.stack ? 10 : 1, src: o.src, off, imm: o.kind }];
    }
    case "ptr":
      return [
        { code: 0xbf, dst: o.dst, src: o.stack ? 10 : 1 },
        { code: 0x07, dst: o.dst, imm: o.stack ? -o.k - 8 : o.k },
      ];
    case "ldp":
      return [{ code: 0x61 | SIZE_BITS[o.size], dst: o.dst, src: o.base, off: o.off }];
    case "call": // the offset is set in build(); the callee reads r1-r5 and writes r0 only
      return [{ code: 0x85, src: 1 }];
    case "jmp":
      if (o.op === 0x00) return [{ code: 0x05 }];
      return [{ code: o.cls | o.op | (o.x ? 8 : 0), dst: o.dst, src: o.x ? o.src : 0, imm: o.x ? 0 : o.imm }]; // prettier-ignore
  }
}

function access(stack: boolean, slot: number, size: number, oob: number): number {
  if (stack) return oob > 0 ? 8 : oob < 0 ? -520 : -size - (slot % (512 / 8)) * 8;
  return oob > 0 ? MEM - size + 1 : oob < 0 ? -1 : slot % (MEM - size + 1);
}

/** Builds the program: registers initialised, the ops, then r0 ^= every register, exit. */
function build(p: { init: [number, number][]; ops: Op[] }): Uint8Array {
  const items: Partial<Insn>[][] = [];
  REGS.forEach((r, k) =>
    items.push([{ code: 0x18, dst: r, imm: p.init[k][0] }, { imm: p.init[k][1] }]),
  );
  const first = items.length;
  p.ops.forEach((o) => items.push(encodeOp(o)));
  const epilogue = items.length;
  for (const r of REGS.slice(1)) items.push([{ code: 0xaf, dst: 0, src: r }]);
  items.push([{ code: 0x95 }]);
  // the subprogram: r0 = f(r1..r5), with its own frame and a read through r1
  const callee = items.length;
  items.push([
    { code: 0xbf, dst: 0, src: 2 },
    { code: 0xaf, dst: 0, src: 3 },
    { code: 0x7b, dst: 10, src: 4, off: -8 },
    { code: 0x79, dst: 6, src: 10, off: -8 },
    { code: 0x0f, dst: 0, src: 6 },
    { code: 0x2f, dst: 0, src: 5 },
    { code: 0x2d, dst: 0, src: 2, off: 1 },
    { code: 0x17, dst: 0, imm: 7 },
    { code: 0x71, dst: 6, src: 1, off: 3 },
    { code: 0x0f, dst: 0, src: 6 },
    { code: 0x95 },
  ]);
  const at: number[] = [];
  let slot = 0;
  for (const it of items) {
    at.push(slot);
    slot += it.length;
  }
  p.ops.forEach((o, k) => {
    const i = first + k;
    if (o.t === "call") items[i][0].imm = at[callee] - (at[i] + 1);
    if (o.t !== "jmp") return;
    const target = Math.max(first, Math.min(epilogue, i + 1 + o.delta));
    items[i][0].off = at[target] - (at[i] + 1);
  });
  return raw(items.flat());
}

const stats = new Map<string, number>();

describe("jit: random programs against the interpreter", () => {
  it(
    "straight-line and branching ALU / JMP / load / store / atomic programs",
    () => {
      fc.assert(
        fc.property(progArb, (p) => {
          const code = build(p);
          // the same error, pc and memory, also when the budget runs out inside a block
          const [i, j] = runBoth(code, { mem: p.mem, machine: { insnLimit: p.limit } });
          expect(j).toEqual(i);
          const k = i.ok ? "ok" : i.kind;
          stats.set(k, (stats.get(k) ?? 0) + 1);
        }),
        { numRuns: FUZZ_RUNS },
      );
      if (process.env.JIT_FUZZ_STATS) process.stderr.write(JSON.stringify([...stats]) + "\n");
    },
    60_000 + FUZZ_RUNS * 50,
  );

  it("programs with deliberate out-of-bounds accesses fault identically", () => {
    const prog = raw([
      { code: 0xb7, dst: 0, imm: 1 },
      { code: 0x79, dst: 2, src: 1, off: 60 },
      { code: 0x95 },
    ]);
    const [i, j] = runBoth(prog, { mem: new Uint8Array(64) });
    expect(i.ok).toBe(false);
    expect(j).toEqual(i);
    expect(runOn("jit", prog, { mem: new Uint8Array(68) }).ok).toBe(true);
  });
});

describe("jit: the budget running out inside a block", () => {
  // the JIT charges a block at its start; when that fails, the block's instructions run one by
  // one until the budget is spent, as in the interpreter
  const mem = new Uint8Array(16);
  const src = (lines: string[]) => assemble(lines.join("\n"));

  it("stores before the stop happen, those after it do not", () => {
    const code = src(["stb [%r1], 1", "mov %r0, 1", "stb [%r1+1], 2", "mov %r0, 2", "exit"]);
    for (let limit = 1; limit <= 5; limit++) {
      const [i, j] = runBoth(code, { mem, machine: { insnLimit: limit } });
      expect(j).toEqual(i);
      expect([...i.mem.slice(0, 2)]).toEqual([limit >= 1 ? 1 : 0, limit >= 3 ? 2 : 0]);
    }
  });

  it("a fault before the stop is the error, not the budget", () => {
    const code = src(["mov %r0, 1", "ldxdw %r3, [%r1+12]", "mov %r0, 2", "mov %r0, 3", "exit"]);
    for (let limit = 1; limit <= 5; limit++) {
      const [i, j] = runBoth(code, { mem, machine: { insnLimit: limit } });
      expect(j).toEqual(i);
      expect(!i.ok && i.kind).toBe(limit >= 2 ? "MemoryAccessError" : "BudgetError");
    }
  });
});
