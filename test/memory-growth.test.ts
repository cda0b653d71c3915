/**
 * Helpers that allocate (hash map inserts) can grow the linear memory, which detaches every
 * view into it; r0 and the program's state must survive that on every engine.
 */
import { describe, expect, it } from "vitest";
import type { CollectionSpec } from "../src/elf/types.js";
import { encodeProgram, type Insn } from "../src/isa/decode.js";
import { Collection } from "../src/runtime/collection.js";
import { availableEngines } from "./engines.js";
import { I, programSpec } from "./spec-harness.js";

const N = 6000;
// r6 counts updates that returned 0; r0 is 12345 before each call, so a lost r0 shows
const insns: Insn[] = [
  I(0xb7, 6, 0, 0, 0), // r6 = 0
  I(0xb7, 7, 0, 0, 0), // r7 = 0
  I(0x63, 10, 7, -4), // loop: *(u32 *)(r10 - 4) = r7
  I(0x18, 1, 1, 0, 0), // r1 = map 0 (lddw, BPF_PSEUDO_MAP_FD)
  I(0, 0, 0, 0, 0),
  I(0xbf, 2, 10), // r2 = r10
  I(0x07, 2, 0, 0, -4), // r2 += -4
  I(0xbf, 3, 10), // r3 = r10
  I(0x07, 3, 0, 0, -264), // r3 += -264 (a 256-byte value)
  I(0xb7, 4, 0, 0, 0), // r4 = BPF_ANY
  I(0xb7, 0, 0, 0, 12345), // r0 = 12345
  I(0x85, 0, 0, 0, 2), // call bpf_map_update_elem
  I(0x55, 0, 0, 1, 0), // if r0 != 0 goto +1
  I(0x07, 6, 0, 0, 1), // r6 += 1
  I(0x07, 7, 0, 0, 1), // r7 += 1
  I(0xa5, 7, 0, -14, N), // if r7 < N goto loop
  I(0xbf, 0, 6), // r0 = r6
  I(0x95),
];

const spec: CollectionSpec = {
  name: "growth",
  license: "GPL",
  maps: [
    {
      name: "h",
      type: 1,
      keySize: 4,
      valueSize: 256,
      maxEntries: 2 * N,
      flags: 0,
      section: ".maps",
      readonlyProg: false,
    },
  ],
  programs: [programSpec("grow", encodeProgram(insns), 6)],
};

describe.each(availableEngines())("%s engine", (engine) => {
  it(`keeps helper results across memory growth (${N} inserts of 256-byte values)`, () => {
    const c = Collection.load(spec, { engine, insnLimit: 10_000_000 });
    const before = c.machine.mem.memory.buffer.byteLength;
    expect(c.program("grow").run().r0).toBe(BigInt(N));
    expect(c.machine.mem.memory.buffer.byteLength).toBeGreaterThan(before);
    c.close();
  });
});
