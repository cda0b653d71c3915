/**
 * Random bytecode: raw 8-byte words (mostly refused by the validator), and structured random
 * instructions — real opcodes, mostly valid registers and fields, jumps that land inside the
 * program, helper calls with pointer-ish arguments — that get past the validator and exercise
 * the engines, the memory checks and the helpers.
 */
import fc from "fast-check";
import { encodeProgram, type Insn } from "../../src/isa/decode.js";
import { HELPERS } from "../../src/helpers/index.js";

/** Raw random words; sometimes a length that is not a multiple of 8. */
export function rawBytecodeArb(maxInsns = 64): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    {
      weight: 9,
      arbitrary: fc
        .integer({ min: 0, max: maxInsns })
        .chain((n) => fc.uint8Array({ minLength: n * 8, maxLength: n * 8 })),
    },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 0, maxLength: maxInsns * 8 + 7 }) },
  );
}

const ALU_OPS = [0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0, 0xb0, 0xc0];
const JMP_OPS = [0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0];
const SIZES = [0x00, 0x08, 0x10, 0x18]; // W, H, B, DW
const ATOMIC_OPS = [0x00, 0x40, 0x50, 0xa0, 0x01, 0x41, 0x51, 0xa1, 0xe1, 0xf1];
const IMMS = [0, 1, -1, 2, 7, 8, 16, 31, 32, 63, 64, 0x7fffffff, -0x80000000, 0xffff, 4096, -512];
const HELPER_IDS = HELPERS.map((h) => h.id).concat([12, 0, 500]);

/** A register: mostly r0..r10, sometimes an invalid one. */
const reg = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 0, max: 9 }) },
  { weight: 3, arbitrary: fc.constant(10) },
  { weight: 1, arbitrary: fc.integer({ min: 11, max: 15 }) },
);
const imm = fc.oneof(fc.constantFrom(...IMMS), fc.integer({ min: -0x80000000, max: 0x7fffffff }));
const smallOff = fc.oneof(
  fc.integer({ min: -520, max: 8 }),
  fc.constantFrom(0, -8, -16, -512, -513, 0x7fff, -0x8000),
);

/**
 * One generated item: an instruction, or an `lddw` pair, or a jump whose offset is fixed up to
 * land inside the program (`rel` in 0..1 of the distance).
 */
type Item =
  | { insns: Insn[] }
  | { jump: Insn; rel: number }
  | { callback: 0 | 1; count: number; ctx: "zero" | "stack" };

/** A destination register: r0..r9, rarely r10 or an invalid one. */
const dstReg = fc.oneof(
  { weight: 30, arbitrary: fc.integer({ min: 0, max: 9 }) },
  { weight: 1, arbitrary: fc.integer({ min: 10, max: 15 }) },
);

/** ALU instructions, in valid forms (sdiv/smod/movsx offsets, byte swaps) with some noise. */
const aluArb: fc.Arbitrary<Item> = fc
  .record({
    cls: fc.constantFrom(0x04, 0x07),
    op: fc.constantFrom(...ALU_OPS, 0xd0),
    x: fc.boolean(),
    dst: dstReg,
    src: reg,
    signed: fc.boolean(),
    width: fc.constantFrom(16, 32, 64),
    noise: fc.oneof(
      { weight: 20, arbitrary: fc.constant(0) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 255 }) },
    ),
    imm,
  })
  .map(({ cls, op, x, dst, src, signed, width, noise, imm }) => {
    let off = 0;
    if (op === 0xd0) {
      // to_le / to_be (ALU) or bswap (ALU64, source bit clear)
      const code = cls === 0x04 ? 0xd4 | (x ? 0x08 : 0) : 0xd7;
      return { insns: [{ code, dst, src: 0, off: noise, imm: width }] };
    }
    if (op === 0x80) return { insns: [{ code: cls | op, dst, src: 0, off: noise, imm: 0 }] };
    if ((op === 0x30 || op === 0x90) && signed) off = 1;
    if (op === 0xb0 && x && signed) off = cls === 0x07 ? (width === 64 ? 32 : width) : 8;
    return {
      insns: [
        {
          code: cls | op | (x ? 0x08 : 0),
          dst,
          src: x ? src : 0,
          off: off || noise,
          imm: x ? 0 : imm,
        },
      ],
    };
  });

const memArb: fc.Arbitrary<Item> = fc
  .record({
    kind: fc.constantFrom("ldx", "stx", "st", "ldsx", "atomic"),
    size: fc.constantFrom(...SIZES),
    dst: fc.oneof(reg, fc.constant(10), fc.constant(6)),
    src: fc.oneof(reg, fc.constant(10), fc.constant(6)),
    off: smallOff,
    imm,
    aop: fc.constantFrom(...ATOMIC_OPS),
  })
  .map(({ kind, size, dst, src, off, imm, aop }) => {
    switch (kind) {
      case "ldx":
        return { insns: [{ code: 0x61 | size, dst: dst % 10, src, off, imm: 0 }] };
      case "ldsx":
        return {
          insns: [{ code: 0x81 | (size === 0x18 ? 0 : size), dst: dst % 10, src, off, imm: 0 }],
        };
      case "stx":
        return { insns: [{ code: 0x63 | size, dst, src, off, imm: 0 }] };
      case "st":
        return { insns: [{ code: 0x62 | size, dst, src: 0, off, imm }] };
      default:
        return { insns: [{ code: 0xc3 | (size & 0x18 ? 0x18 : 0), dst, src, off, imm: aop }] };
    }
  });

const lddwArb: fc.Arbitrary<Item> = fc
  .record({ dst: dstReg, src: fc.constantFrom(0, 0, 0, 1, 2, 3, 4, 5, 6), lo: imm, hi: imm })
  .map(({ dst, src, lo, hi }) => ({
    insns: [
      { code: 0x18, dst, src, off: 0, imm: lo },
      { code: 0, dst: 0, src: 0, off: 0, imm: hi },
    ],
  }));

const jumpArb: fc.Arbitrary<Item> = fc
  .record({
    cls: fc.constantFrom(0x05, 0x06),
    op: fc.constantFrom(0x00, ...JMP_OPS),
    x: fc.boolean(),
    dst: reg,
    src: reg,
    imm,
    rel: fc.double({ min: -1, max: 1, noNaN: true }),
  })
  .map(({ cls, op, x, dst, src, imm, rel }) => ({
    jump: {
      code: cls | op | (op !== 0 && x ? 0x08 : 0),
      dst: op === 0 ? 0 : dst,
      src: op !== 0 && x ? src : 0,
      off: 0,
      imm: op === 0 ? 0 : x ? 0 : imm,
    },
    rel,
  }));

/** Sets r1..r5 to something a helper might accept, then calls a helper. */
const callArb: fc.Arbitrary<Item> = fc
  .record({
    id: fc.constantFrom(...HELPER_IDS),
    args: fc.array(
      fc.oneof(
        fc.record({ k: fc.constant("stack" as const), off: fc.integer({ min: -512, max: -1 }) }),
        fc.record({ k: fc.constant("mem" as const), off: fc.integer({ min: 0, max: 64 }) }),
        fc.record({ k: fc.constant("imm" as const), v: imm }),
      ),
      { minLength: 5, maxLength: 5 },
    ),
  })
  .map(({ id, args }) => {
    const insns: Insn[] = [];
    args.forEach((a, i) => {
      const r = i + 1;
      if (a.k === "stack") {
        insns.push({ code: 0xbf, dst: r, src: 10, off: 0, imm: 0 });
        insns.push({ code: 0x07, dst: r, src: 0, off: 0, imm: a.off });
      } else if (a.k === "mem") {
        insns.push({ code: 0xbf, dst: r, src: 6, off: 0, imm: 0 });
        insns.push({ code: 0x07, dst: r, src: 0, off: 0, imm: a.off });
      } else {
        insns.push({ code: 0xb7, dst: r, src: 0, off: 0, imm: a.v });
      }
    });
    insns.push({ code: 0x85, dst: 0, src: 0, off: 0, imm: id });
    return { insns };
  });

const exitArb: fc.Arbitrary<Item> = fc.constant({
  insns: [{ code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }],
});

/** A local call to a later `exit`-terminated subprogram is left to the validator: random imm. */
const localCallArb: fc.Arbitrary<Item> = fc
  .integer({ min: -8, max: 8 })
  .map((imm) => ({ insns: [{ code: 0x85, dst: 0, src: 1, off: 0, imm }] }));

/**
 * `bpf_loop(count, cb, ctx, 0)` with one of the two callbacks appended after the program: cb 0
 * returns its index's low bit (0 goes on, 1 stops); cb 1 starts another `bpf_loop` of itself, one
 * frame deeper each time (nesting until the frame limit).
 */
const callbackArb: fc.Arbitrary<Item> = fc.record({
  callback: fc.constantFrom(0 as const, 1 as const),
  count: fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constantFrom(1 << 23, (1 << 23) + 1, -1)),
  ctx: fc.constantFrom("zero" as const, "stack" as const),
});

const itemArb: fc.Arbitrary<Item> = fc.oneof(
  { weight: 1, arbitrary: callbackArb },
  { weight: 10, arbitrary: aluArb },
  { weight: 6, arbitrary: memArb },
  { weight: 2, arbitrary: lddwArb },
  { weight: 4, arbitrary: jumpArb },
  { weight: 2, arbitrary: callArb },
  { weight: 1, arbitrary: exitArb },
  { weight: 1, arbitrary: localCallArb },
);

/** Lays items out, fixing each jump to land on an instruction boundary inside the program. */
export function assembleItems(items: readonly Item[]): Uint8Array {
  // Prologue: r6 = the memory pointer, r7 = its length (as execRaw sets r1/r2), r0 = 0.
  const out: Insn[] = [
    { code: 0xbf, dst: 6, src: 1, off: 0, imm: 0 },
    { code: 0xbf, dst: 7, src: 2, off: 0, imm: 0 },
    { code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 },
  ];
  const starts: number[] = [];
  const jumps: { at: number; rel: number }[] = [];
  const funcRefs: { at: number; cb: 0 | 1 }[] = [];
  const I = (code: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({ code, dst, src, off, imm }); // prettier-ignore
  const loopCall = (cb: 0 | 1, count: number, stackCtx: boolean): void => {
    out.push(I(0xb7, 1, 0, 0, count));
    funcRefs.push({ at: out.length, cb });
    out.push(I(0x18, 2, 4), I(0));
    if (stackCtx) out.push(I(0xbf, 3, 10), I(0x07, 3, 0, 0, -64));
    else out.push(I(0xb7, 3));
    out.push(I(0xb7, 4), I(0x85, 0, 0, 0, 181));
  };
  for (const it of items) {
    starts.push(out.length);
    if ("jump" in it) {
      jumps.push({ at: out.length, rel: it.rel });
      out.push({ ...it.jump });
    } else if ("callback" in it) {
      loopCall(it.callback, it.count, it.ctx === "stack");
    } else out.push(...it.insns);
  }
  starts.push(out.length);
  out.push({ code: 0x95, dst: 0, src: 0, off: 0, imm: 0 });
  if (funcRefs.length > 0) {
    // cb 0: r0 = index & 1; exit.  cb 1: bpf_loop(1, cb 1, 0, 0); r0 = 0; exit.
    const cbStart: number[] = [out.length];
    out.push(I(0xbf, 0, 1), I(0x57, 0, 0, 0, 1), I(0x95));
    cbStart.push(out.length);
    loopCall(1, 1, false);
    out.push(I(0xb7, 0), I(0x95));
    for (const f of funcRefs) out[f.at].imm = cbStart[f.cb] - f.at - 1;
  }
  for (const j of jumps) {
    const here = starts.indexOf(j.at);
    const target =
      j.rel >= 0
        ? starts[here + 1 + Math.floor(j.rel * (starts.length - here - 1.0001))]
        : starts[Math.floor((1 + j.rel) * here)];
    const off = target - j.at - 1;
    const insn = out[j.at];
    if (insn.code === 0x06) insn.imm = off;
    else insn.off = Math.max(-0x8000, Math.min(0x7fff, off));
  }
  return encodeProgram(out);
}

/** Structured random programs: mostly valid, often looping, calling helpers. */
export function structuredBytecodeArb(maxItems = 40): fc.Arbitrary<Uint8Array> {
  return fc.array(itemArb, { minLength: 0, maxLength: maxItems }).map(assembleItems);
}

/** The memory `execRaw` gives the program (r1, r2): empty, small or packet-sized. */
export const memArbitrary: fc.Arbitrary<Uint8Array | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.uint8Array({ minLength: 0, maxLength: 16 }),
  fc.uint8Array({ minLength: 64, maxLength: 256 }),
);
