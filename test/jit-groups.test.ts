import { describe, expect, it } from "vitest";
import { assemble } from "../src/isa/asm.js";
import { decodeProgram } from "../src/isa/decode.js";
import { buildCfg } from "../src/jit/cfg.js";
import { planAccessGroups } from "../src/jit/groups.js";
import { isCall, isSupported } from "../src/jit/lower.js";
import type { MapDefinition } from "../src/maps/types.js";
import { both, runBoth } from "./jit-harness.js";

/** The groups of a one-function program, as lists of member pcs. */
function groupsOf(src: string): number[][] {
  const p = decodeProgram(assemble(src));
  const cfg = buildCfg(p, 0, p.length, 0);
  const plan = planAccessGroups(p, cfg, (c) => isSupported(c) && !isCall(c));
  const seen = new Set<object>();
  const out: number[][] = [];
  for (const g of plan.values()) {
    if (seen.has(g)) continue;
    seen.add(g);
    out.push(g.members.map((m) => m.pc));
  }
  return out.sort((a, b) => a[0] - b[0]);
}

describe("jit: access groups (planning)", () => {
  it("groups loads through one register, and a load then a store", () => {
    expect(groupsOf("ldxw %r3, [%r1+4]\nldxw %r2, [%r1]\nldxb %r4, [%r2]\nadd %r4, 1\nstxb [%r2], %r4\nexit")).toEqual([[0, 1], [2, 4]]); // prettier-ignore
  });

  it("ends a group at a store, a call, a write of the base, or an access through another register", () => {
    expect(groupsOf("stxw [%r1], %r2\nldxw %r3, [%r1+4]\nexit")).toEqual([]);
    expect(groupsOf("ldxw %r3, [%r1]\ncall 5\nldxw %r4, [%r1+4]\nexit")).toEqual([]);
    expect(groupsOf("ldxw %r3, [%r1]\nadd %r1, 8\nldxw %r4, [%r1]\nexit")).toEqual([]);
    expect(groupsOf("ldxw %r1, [%r1]\nldxw %r4, [%r1+4]\nexit")).toEqual([]);
    expect(groupsOf("ldxw %r3, [%r1]\nldxw %r4, [%r2]\nldxw %r5, [%r1+4]\nexit")).toEqual([]);
    // stack accesses inside the frame are not checked and do not end a group
    expect(groupsOf("ldxw %r3, [%r1]\nstxdw [%r10-8], %r3\nldxw %r5, [%r1+4]\nexit")).toEqual([[0, 2]]); // prettier-ignore
  });

  it("does not group across blocks, or spans over 4 KiB", () => {
    expect(groupsOf("ldxw %r3, [%r1]\njeq %r3, 0, l\nl:\nldxw %r4, [%r1+4]\nexit")).toEqual([]);
    expect(groupsOf("ldxb %r3, [%r1]\nldxb %r4, [%r1+4096]\nexit")).toEqual([]);
    expect(groupsOf("ldxb %r3, [%r1]\nldxb %r4, [%r1+4095]\nexit")).toEqual([[0, 1]]);
  });
});

/** r0 = the value of key 0 of map 0; to `out` if none. */
const LOOKUP_KEY0 = `
  stw [%r10-4], 0
  lddw %r1, 0x7ead0000
  mov %r2, %r10
  add %r2, -4
  call 1
  jeq %r0, 0, out`;

describe("jit: access groups (runs match the interpreter)", () => {
  const mem = Uint8Array.from({ length: 16 }, (_, i) => i + 1);

  it("a group inside its region runs unchecked after one check", () => {
    const [i, j] = runBoth(assemble("ldxw %r3, [%r1+4]\nldxw %r0, [%r1]\nadd %r0, %r3\nexit"), { mem, runs: 3 }); // prettier-ignore
    expect(i.ok && i.r0).toBe(0x0807_0605n + 0x0403_0201n);
    expect(j).toEqual(i);
  });

  it("a later member out of bounds faults at its own pc, and nothing after the first runs", () => {
    for (const off of [12, 13, 16, -1]) {
      const src = `ldxw %r3, [%r1]\nmov %r0, %r3\nldxw %r4, [%r1${off < 0 ? off : "+" + off}]\nexit`;
      const [i, j] = runBoth(assemble(src), { mem });
      expect(j).toEqual(i);
      expect(i.ok).toBe(off === 12);
      if (!i.ok) expect(i.error).toMatch(/pc 2\b/);
    }
  });

  it("a load then a store in a read-only region faults at the store", () => {
    const ro: MapDefinition = { name: "ro", type: 2, keySize: 4, valueSize: 8, maxEntries: 1, flags: 0x80 }; // prettier-ignore
    const src = `${LOOKUP_KEY0}
      ldxb %r3, [%r0]
      add %r3, 1
      stxb [%r0], %r3
    out:
      exit`;
    const r = both({ progs: [{ name: "p", asm: src }], maps: [ro] }, 2);
    expect(String(r.r[0])).toMatch(/pc 9\b/);
  });

  it("a span across two array elements falls back to each member's check", () => {
    // each element is accessible on its own; the 16-byte span crosses from one into the next
    const arr: MapDefinition = { name: "arr", type: 2, keySize: 4, valueSize: 8, maxEntries: 2, flags: 0 }; // prettier-ignore
    const src = `${LOOKUP_KEY0}
      mov %r6, 0
    loop:
      ldxdw %r3, [%r0]
      ldxdw %r4, [%r0+8]
      add %r3, 1
      add %r4, 2
      stxdw [%r0], %r3
      stxdw [%r0+8], %r4
      add %r6, 1
      jlt %r6, 10, loop
      ldxdw %r0, [%r0+8]
    out:
      exit`;
    const r = both({ progs: [{ name: "p", asm: src }], maps: [arr] }, 2);
    expect(r.r).toEqual([20n, 40n]);
  });
});
