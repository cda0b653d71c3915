import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assemble } from "../src/isa/asm.js";
import { decodeProgram, type Insn } from "../src/isa/decode.js";
import { buildCfg } from "../src/jit/cfg.js";
import { compileProgram } from "../src/jit/compile.js";
import { functionBoundaries } from "../src/jit/scan.js";
import { raw, runBoth } from "./jit-harness.js";

const irreducible = `
  mov %r0, 0
  mov %r1, 10
  jeq %r2, 0, b
a:
  add %r0, 1
  sub %r1, 1
b:
  add %r0, 2
  jne %r1, 0, a
  exit`;

describe("jit: control-flow graphs", () => {
  it("finds blocks, dominators, loops and merges", () => {
    const p = decodeProgram(assemble(irreducible));
    const cfg = buildCfg(p, 0, p.length, 0);
    expect(cfg.n).toBe(4);
    expect(cfg.reducible).toBe(false);
    const loop = decodeProgram(assemble("mov %r0, 3\nl:\nsub %r0, 1\njne %r0, 0, l\nexit"));
    const c2 = buildCfg(loop, 0, loop.length, 0);
    expect(c2.reducible).toBe(true);
    expect([...c2.loopHeader]).toEqual([0, 1, 0]);
    expect([...c2.inLoop]).toEqual([0, 1, 0]);
    expect([...c2.idom]).toEqual([0, 0, 1]);
  });

  it("runs an irreducible loop through the dispatch fallback", () => {
    for (const r2 of [0, 1]) {
      const code = assemble(irreducible.replace("jeq %r2, 0, b", `jeq %r2, ${r2}, b`));
      const [i, j] = runBoth(code);
      expect(j).toEqual(i);
      expect(j.ok).toBe(true);
    }
    const [i, j] = runBoth(assemble(irreducible), { machine: { insnLimit: 20 } });
    expect(i.ok).toBe(false);
    expect(j).toEqual(i);
  });

  it("cuts functions only where no jump crosses and nothing falls through", () => {
    const p = decodeProgram(assemble("ja +1\nexit\nexit\nmov %r0, 1\nexit"));
    expect(functionBoundaries(p, [1, 2, 3, 4])).toEqual([0, 3]);
  });

  it("emits a valid module for deep and wide graphs", () => {
    // 3000 nested if-diamonds, then a long chain of merges
    const lines = ["mov %r0, 0"];
    for (let k = 0; k < 3000; k++) lines.push(`jeq %r1, ${k}, +1`, "add %r0, 1");
    lines.push("exit");
    const code = assemble(lines.join("\n"));
    const { bytes } = compileProgram(decodeProgram(code), { stackTop: 0x10_0000, scratch: 0x100, traced: false }); // prettier-ignore
    expect(WebAssembly.validate(bytes)).toBe(true);
    const [i, j] = runBoth(code);
    expect(j).toEqual(i);
    // one block dominating 3000 merge nodes: 3000 nested blocks
    const deep = ["mov %r0, 0", "mov %r1, 3"];
    for (let k = 0; k < 3000; k++) deep.push(`jeq %r1, ${k}, L${k}`);
    deep.push("ja end");
    for (let k = 0; k < 3000; k++) deep.push(`L${k}:`, "add %r0, 1");
    deep.push("end:", "exit");
    const [di, dj] = runBoth(assemble(deep.join("\n")));
    expect(dj).toEqual(di);
    expect(dj.ok && dj.r0).toBe(2997n);
  });

  it("computes the same dominators as the textbook data-flow definition", () => {
    const arb = fc.array(fc.tuple(fc.boolean(), fc.nat(40)), { minLength: 1, maxLength: 40 });
    fc.assert(
      fc.property(arb, (ops) => {
        const n = ops.length;
        const insns: Partial<Insn>[] = ops.map(([cond, to], pc) => {
          const off = (to % (n + 1)) - pc - 1; // to an op or the exit
          return cond ? { code: 0x15, dst: 1, imm: pc, off } : { code: 0x07, dst: 0, imm: 1 };
        });
        insns.push({ code: 0x95 });
        const p = decodeProgram(raw(insns));
        const cfg = buildCfg(p, 0, p.length, 0);
        // Dom(b) = {b} + the intersection of Dom(pred) over its predecessors
        const all = () => new Array<boolean>(cfg.n).fill(true);
        const dom = Array.from({ length: cfg.n }, (_, b) => (b === 0 ? all().map((_, k) => k === 0) : all())); // prettier-ignore
        for (let changed = true; changed;) {
          changed = false;
          for (let b = 1; b < cfg.n; b++) {
            const next = all();
            for (let q = 0; q < cfg.n; q++) {
              if (cfg.succ0[q] !== b && cfg.succ1[q] !== b) continue;
              for (let k = 0; k < cfg.n; k++) next[k] = next[k] && dom[q][k];
            }
            next[b] = true;
            if (next.some((v, k) => v !== dom[b][k])) {
              dom[b] = next;
              changed = true;
            }
          }
        }
        for (let b = 1; b < cfg.n; b++) {
          const d = cfg.idom[b];
          expect(d !== b && dom[b][d]).toBe(true);
          // every strict dominator of b dominates its immediate dominator
          for (let k = 0; k < cfg.n; k++) if (k !== b && dom[b][k]) expect(dom[d][k]).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("random jump graphs (reducible or not) agree with the interpreter", () => {
    const arb = fc.array(
      fc.record({
        kind: fc.constantFrom("add", "jeq", "jgt", "ja"),
        to: fc.nat(30),
        imm: fc.integer({ min: -3, max: 3 }),
      }),
      { minLength: 1, maxLength: 30 },
    );
    fc.assert(
      fc.property(arb, (ops) => {
        const insns: Partial<Insn>[] = [
          { code: 0xb7, dst: 0, imm: 0 },
          { code: 0xb7, dst: 1, imm: 5 },
        ];
        const n = ops.length;
        ops.forEach((o, k) => {
          const pc = insns.length;
          const target = 2 + (o.to % (n + 1)); // an op, or the exit after them
          const off = target - pc - 1;
          if (o.kind === "add") insns.push({ code: 0x07, dst: o.imm & 1, imm: o.imm + k });
          else if (o.kind === "ja") insns.push({ code: 0x05, off });
          else insns.push({ code: o.kind === "jeq" ? 0x15 : 0x25, dst: 1, imm: o.imm, off });
        });
        insns.push({ code: 0x95 });
        const [i, j] = runBoth(raw(insns), { machine: { insnLimit: 500 } });
        expect(j).toEqual(i);
      }),
      { numRuns: 300 },
    );
  });
});
