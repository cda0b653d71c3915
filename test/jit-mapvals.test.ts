import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assemble } from "../src/isa/asm.js";
import { decodeProgram } from "../src/isa/decode.js";
import { buildCfg } from "../src/jit/cfg.js";
import { planMapValues } from "../src/jit/mapvals.js";
import type { MapDefinition } from "../src/maps/types.js";
import { ENGINES, asmLookup, asmUpdate, both, world } from "./jit-harness.js";

/**
 * The accesses planMapValues frees in a one-function program where every lookup (helper 1) is
 * one the compiler lowers itself: of map 0x7ead0000 (16-byte values, writable) unless r1 was
 * loaded with 0x7ead0010 (8-byte values, read-only).
 */
function freeOf(src: string): number[] {
  const p = decodeProgram(assemble(src));
  const cfg = buildCfg(p, 0, p.length, 0);
  const lookupAt = (pc: number) => {
    let handle = 0;
    for (let q = 0; q < pc; q++) if (p.code[q] === 0x18 && p.dst[q] === 1) handle = p.imm[q];
    return handle === 0x7ead0010
      ? { map: handle, valueSize: 8, writable: false }
      : { map: handle, valueSize: 16, writable: true };
  };
  return [...planMapValues(p, cfg, lookupAt)].sort((a, b) => a - b);
}

/** A lookup of map `map` with its key at r10 - 8; r0 is the result (pcs 0-5). */
const LOOKUP = (map = "0x7ead0000") => `stdw [%r10-8], 0
${asmLookup(-8, map)}`;

describe("jit: map value pointers (planning)", () => {
  it("frees accesses inside the value once the pointer is shown not NULL", () => {
    const src = `${LOOKUP()}
      ldxdw %r3, [%r0+8]
      jeq %r0, 0, out
      ldxdw %r3, [%r0+8]
      stxw [%r0+12], %r3
      ldxb %r3, [%r0+16]
      ldxdw %r3, [%r0-1]
    out:
      exit`;
    // pc 6 before the test, pcs 10 and 11 outside the value
    expect(freeOf(src)).toEqual([8, 9]);
  });

  it("follows copies, constant offsets and the taken edge of jne; keeps r6-r9 across calls", () => {
    const src = `${LOOKUP()}
      mov %r6, %r0
      jne %r6, 0, ok
      exit
    ok:
      add %r6, 4
      call 5
      ldxw %r3, [%r6+8]
      ldxw %r3, [%r6+12]
      ldxw %r3, [%r0]
      exit`;
    // r0 was clobbered by the call; r6 + 12 is past the value's end
    expect(freeOf(src)).toEqual([11]);
  });

  it("forgets what an ALU32 write, a load or a variable add makes of the pointer", () => {
    for (const op of ["mov32 %r0, %r0", "ldxdw %r0, [%r10-8]", "add %r0, %r3"]) {
      const src = `${LOOKUP()}
        jeq %r0, 0, out
        ${op}
        ldxb %r3, [%r0]
      out:
        exit`;
      expect(freeOf(src)).toEqual([]);
    }
  });

  it("keeps a pointer two lookups of one map agree on, and round a loop", () => {
    const merged = (second: string) => `${LOOKUP()}
      jne %r0, 0, found
      ${LOOKUP(second)}
      jeq %r0, 0, out
    found:
      ldxdw %r3, [%r0]
    out:
      exit`;
    expect(freeOf(merged("0x7ead0000"))).toEqual([14]);
    expect(freeOf(merged("0x7ead0010"))).toEqual([]);
    const loop = `${LOOKUP()}
      jeq %r0, 0, out
      mov %r4, 0
    again:
      ldxdw %r3, [%r0]
      add %r4, 1
      jlt %r4, 3, again
      add %r0, 1
      ja again
    out:
      exit`;
    // the back edge from 'add %r0, 1' brings another offset: nothing is known at the header
    expect(freeOf(loop)).toEqual([]);
    expect(freeOf(loop.replace("add %r0, 1", "add %r0, 0"))).toEqual([8]);
  });

  it("learns nothing from a test of the pointer plus an offset (NULL + 8 is not 0)", () => {
    // found in review: r0 = NULL + 8 passed 'jeq %r0, 0' and the JIT wrote to address 0
    const src = `${LOOKUP()}
      add %r0, 8
      jeq %r0, 0, out
      stxdw [%r0-8], %r0
      sub %r0, 8
      jne %r0, 0, +1
      exit
      ldxdw %r3, [%r0]
    out:
      exit`;
    expect(freeOf(src)).toEqual([12]);
  });

  it("frees no write into a read-only value", () => {
    const src = `${LOOKUP("0x7ead0010")}
      jeq %r0, 0, out
      ldxdw %r3, [%r0]
      stxdw [%r0], %r3
    out:
      exit`;
    expect(freeOf(src)).toEqual([7]);
  });
});

describe("jit: map value pointers (runs match the interpreter)", () => {
  const arr: MapDefinition = { name: "a", type: 2, keySize: 4, valueSize: 12, maxEntries: 2, flags: 0 }; // prettier-ignore
  const hash: MapDefinition = { name: "h", type: 1, keySize: 4, valueSize: 12, maxEntries: 2, flags: 0 }; // prettier-ignore
  const lru: MapDefinition = { ...hash, name: "l", type: 9 };
  const ro: MapDefinition = { ...arr, name: "ro", flags: 0x80 };
  /** Puts key k (value k) into the map, then looks key `look` up and runs `body` on r0. */
  const prog = (body: string, look = 1) => `
    mov %r7, 0
    stw [%r10-4], 1
    stw [%r10-16], 7
    ${asmUpdate(-4, -16)}
    stw [%r10-4], ${look}
    ${asmLookup(-4)}
    jeq %r0, 0, out
    ${body}
  out:
    mov %r0, %r7
    exit`;

  it("reads and writes inside values of array, hash and LRU maps", () => {
    const body = "ldxw %r7, [%r0]\nadd %r7, 1\nstxw [%r0+8], %r7\nldxw %r7, [%r0+8]";
    for (const map of [arr, hash, lru]) {
      const r = both({ progs: [{ name: "p", asm: prog(body) }], maps: [map] }, 2);
      expect(r.r).toEqual([8n, 8n]);
    }
  });

  it("an access past the value's end faults where the interpreter's does", () => {
    for (const map of [arr, hash]) {
      const r = both({ progs: [{ name: "p", asm: prog("ldxw %r7, [%r0+8]\nldxw %r7, [%r0+12]") }], maps: [map] }); // prettier-ignore
      expect(String(r.r[0])).toMatch(/pc 19\b/);
    }
  });

  it("a NULL result plus an offset faults where the interpreter's does", () => {
    const src = `
      stdw [%r10-8], 7
      ${asmLookup(-8)}
      add %r0, 8
      jne %r0, 0, +1
      exit
      ldxw %r0, [%r0-8]
      exit`;
    for (const map of [arr, hash]) {
      const r = both({ progs: [{ name: "p", asm: src }], maps: [map] }, 2);
      expect(String(r.r[0])).toMatch(/pc 9\b.*invalid read of 4 bytes at 0x0/);
    }
  });

  it("a write into a read-only array faults; a read does not", () => {
    const r = both({ progs: [{ name: "p", asm: prog("ldxw %r7, [%r0]\nstxw [%r0], %r7", 0) }], maps: [ro] }); // prettier-ignore
    expect(String(r.r[0])).toMatch(/pc 19\b/);
  });

  it("a value read after its element is deleted, as in Linux (still accessible)", () => {
    const body = `
      mov %r6, %r0
      lddw %r1, 0x7ead0000
      mov %r2, %r10
      add %r2, -4
      call 3
      ldxw %r7, [%r6]`;
    for (const map of [hash, lru]) {
      const r = both({ progs: [{ name: "p", asm: prog(body) }], maps: [map] }, 2);
      expect(r.r).toEqual([7n, 7n]);
    }
  });
});

/**
 * Random lookups and accesses through what they return: null checks of every form the analysis
 * knows and some it does not, pointer arithmetic, calls between, a second lookup on one path,
 * accesses inside and outside the value, in maps writable or not, hash, LRU, array or per-CPU.
 */
const valueProgram = fc
  .record({
    type: fc.constantFrom(1, 2, 5, 6, 9), // hash, array, per-CPU hash, per-CPU array, LRU
    valueSize: fc.constantFrom(4, 8, 12, 16),
    readOnly: fc.boolean(),
    key: fc.constantFrom(0, 1, 3, 7),
    check: fc.constantFrom("jeq %r0, 0, out", "jne %r0, 0, +1\nja out", "jgt %r0, 0, +1\nja out", "jeq32 %r0, 0, out", "", ""), // prettier-ignore
    ptr: fc.constantFrom("mov %r6, %r0", "mov %r6, %r0\nadd %r6, 4", "mov %r6, %r0\nadd %r6, -4", "mov %r6, %r0\ncall 5", "mov %r6, %r0\nmov32 %r6, %r6"), // prettier-ignore
    second: fc.constantFrom(false, false, true),
    // arithmetic on the result before its test (found in review: NULL + 8 is not 0)
    before: fc.constantFrom("", "", "add %r0, 4", "add %r0, 8\nsub %r0, 8"),
    accesses: fc.array(
      fc.record({
        op: fc.constantFrom("ldxb", "ldxh", "ldxw", "ldxdw", "stxb", "stxw", "stxdw"),
        reg: fc.constantFrom("%r6", "%r6", "%r0"),
        off: fc.integer({ min: -4, max: 20 }),
      }),
      { minLength: 1, maxLength: 4 },
    ),
  })
  .map((r) => {
    const map: MapDefinition = { name: "m", type: r.type, keySize: 4, valueSize: r.valueSize, maxEntries: 4, flags: r.readOnly ? 0x80 : 0 }; // prettier-ignore
    const acc = r.accesses.map(
      (a) =>
      a.op.startsWith("st") ? `${a.op} [${a.reg}${a.off >= 0 ? "+" : ""}${a.off}], %r7` : `${a.op} %r3, [${a.reg}${a.off >= 0 ? "+" : ""}${a.off}]\nadd %r7, %r3`, // prettier-ignore
    );
    const again = r.second
      ? `jeq %r7, 3, +${5 + 1}\nstw [%r10-4], 1\n${asmLookup(-4)}\njeq %r0, 0, out`
      : "";
    const src = `
      mov %r7, 1
      stw [%r10-4], ${r.key}
      stdw [%r10-16], 5
      ${r.readOnly || r.type === 2 || r.type === 6 ? "" : asmUpdate(-4, -16)}
      stw [%r10-4], ${r.key}
      ${asmLookup(-4)}
      ${r.before}
      ${r.check}
      ${again}
      ${r.ptr}
      ${acc.join("\n")}
    out:
      mov %r0, %r7
      exit`;
    return { src, map };
  });

describe("jit: random map value accesses match the interpreter", () => {
  it("same results, faults and values across runs", () => {
    fc.assert(
      fc.property(valueProgram, ({ src, map }) => {
        // two runs on each engine (no traced run: a second compile per program)
        const [i, j] = ENGINES.map((e) => {
          const w = world(e, { progs: [{ name: "p", asm: src }], maps: [map] });
          return [w.run(), w.run()];
        });
        expect(j).toEqual(i);
      }),
      { numRuns: Number(process.env.JIT_LOOP_RUNS ?? 300), seed: 20261210 },
    );
  });
});
