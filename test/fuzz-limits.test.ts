// The resource limits of src/limits.ts: each has a default, an option and its own error code,
// and the error says which limit (option and value) was reached.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  BudgetError,
  MemoryAccessError,
  LimitError,
  MapError,
  RuntimeFault,
  TsbpfError,
  ValidationError,
} from "../src/errors.js";
import { encodeProgram, execRaw, loadCollection, type Insn } from "../src/index.js";
import { DEFAULT_LIMITS, MAX_RUN_FRAMES, resolveLimits } from "../src/limits.js";
import { LoadError } from "../src/elf/errors.js";
import { loadCollectionSpec } from "../src/elf/loader.js";
import type { CollectionSpec } from "../src/elf/types.js";
import { createMap } from "../src/maps/index.js";
import type { MapEnv } from "../src/maps/types.js";
import { AddressSpace } from "../src/memory/address-space.js";
import { MAP_HANDLE_BASE, SegmentFlags } from "../src/memory/layout.js";
import { loadCollectionFile, readObjectFile } from "../src/node.js";
import { Collection } from "../src/runtime/collection.js";
import { Machine } from "../src/runtime/machine.js";
import { I, programSpec } from "./spec-harness.js";

const fixture = (f: string): Uint8Array =>
  new Uint8Array(readFileSync(fileURLToPath(new URL(`./fixtures/${f}`, import.meta.url))));
const EXIT = I(0x95);

/** The error `f` throws (fails the test when it returns). */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error("did not throw");
}

/** `n` functions each calling the next, the last returning 7: n + 1 frames deep. */
function callChain(n: number): Uint8Array {
  const insns: Insn[] = [];
  for (let k = 0; k < n; k++) insns.push(I(0x85, 0, 1, 0, 1), EXIT);
  insns.push(I(0xb7, 0, 0, 0, 7), EXIT);
  return encodeProgram(insns);
}

describe("limits", () => {
  it("have documented defaults", () => {
    expect(DEFAULT_LIMITS).toEqual({
      maxInsns: 1_000_000,
      insnLimit: 100_000_000,
      maxElfBytes: 256 << 20,
      maxMaps: 16_384,
      maxBytes: 1 << 30,
      maxRingbufBytes: 256 << 20,
      maxFrames: MAX_RUN_FRAMES,
    });
    expect(new Machine().limits).toEqual(DEFAULT_LIMITS);
  });

  it("refuse option values that are not integers in range (INVALID_OPTION)", () => {
    for (const bad of [{ maxMaps: 0 }, { maxFrames: 1.5 }, { maxInsns: -1 }, { maxMaps: 1e6 }]) {
      expect(thrown(() => resolveLimits(bad))).toMatchObject({ code: "INVALID_OPTION" });
    }
    expect(thrown(() => new Machine({ maxBytes: 4096 }))).toMatchObject({
      code: "INVALID_OPTION",
    });
    expect(resolveLimits({ insnLimit: 0 }).insnLimit).toBe(0);
  });

  it("maxInsns: instructions per program (ValidationError TOO_LARGE)", () => {
    const code = encodeProgram([I(0xb7), I(0xb7), I(0xb7), EXIT]);
    expect(execRaw(code, undefined, { maxInsns: 4 })).toBe(0n);
    const e = thrown(() => execRaw(code, undefined, { maxInsns: 3 }));
    expect(e).toBeInstanceOf(ValidationError);
    expect(e).toMatchObject({ code: "TOO_LARGE", message: /4 instructions, the limit is 3/ });
  });

  it("insnLimit: instructions per run (BudgetError BUDGET_EXCEEDED, with the pc)", () => {
    const loop = encodeProgram([I(0x07, 1, 0, 0, 1), I(0x05, 0, 0, -2), EXIT]);
    const e = thrown(() => execRaw(loop, undefined, { insnLimit: 1000 }));
    expect(e).toBeInstanceOf(BudgetError);
    expect(e).toMatchObject({ code: "BUDGET_EXCEEDED", message: /budget of 1000/ });
    expect((e as BudgetError).pc).toBeGreaterThanOrEqual(0);
  });

  it("maxElfBytes: object size (ELF_TOO_LARGE), checked before a file is read", () => {
    const bytes = fixture("tail_self.bpf.o");
    const e = thrown(() => loadCollection(bytes, { maxElfBytes: 1000 }));
    expect(e).toBeInstanceOf(LimitError);
    expect(e).toMatchObject({ code: "ELF_TOO_LARGE", limit: "maxElfBytes", max: 1000 });
    // the spec loader alone applies the limit too (default 256 MiB)
    expect(thrown(() => loadCollectionSpec(bytes, { maxElfBytes: 1000 }))).toMatchObject({
      code: "ELF_TOO_LARGE",
    });
    expect(loadCollectionSpec(bytes).programs.length).toBeGreaterThan(0);
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-limits-"));
    const path = join(dir, "big.o");
    writeFileSync(path, bytes);
    expect(thrown(() => loadCollectionFile(path, { maxElfBytes: 1000 }))).toMatchObject({
      code: "ELF_TOO_LARGE",
    });
    expect(loadCollectionFile(path).programs.size).toBeGreaterThan(0);
    // A file that cannot be read is a typed error too, with the system's code.
    expect(thrown(() => readObjectFile(join(dir, "missing.o")))).toMatchObject({
      code: "ENOENT",
    });
    expect(thrown(() => readObjectFile(dir))).toBeInstanceOf(TsbpfError);
  });

  it("maxMaps: maps per collection (TOO_MANY_MAPS)", () => {
    const bytes = fixture("maps.bpf.o");
    const n = loadCollection(bytes).maps.size;
    expect(loadCollection(bytes, { maxMaps: n }).maps.size).toBe(n);
    const e = thrown(() => loadCollection(bytes, { maxMaps: n - 1 }));
    expect(e).toBeInstanceOf(LimitError);
    expect(e).toMatchObject({ code: "TOO_MANY_MAPS", limit: "maxMaps", max: n - 1 });
  });

  it("maxBytes: the address space (MEMORY_LIMIT; a map that cannot get memory is ENOMEM)", () => {
    const mem = new AddressSpace({ maxBytes: 32 << 20 });
    const e = thrown(() => mem.mapRegion("big", 64 << 20, SegmentFlags.WRITABLE));
    expect(e).toBeInstanceOf(LimitError);
    expect(e).toMatchObject({ code: "MEMORY_LIMIT", limit: "maxBytes", max: 32 << 20 });
    const env: MapEnv = { mem, numCpus: 1, cpu: 0, mapByHandle: () => undefined, now: () => 0n };
    const def = { name: "a", type: 2, keySize: 4, valueSize: 4096, maxEntries: 1 << 14, flags: 0 };
    const me = thrown(() => createMap(def, env, MAP_HANDLE_BASE));
    expect(me).toBeInstanceOf(MapError);
    expect(me).toMatchObject({ code: "ENOMEM", message: /address space limit/ });
  });

  it("maxRingbufBytes: one ring buffer (RINGBUF_TOO_LARGE); rings count against maxBytes", () => {
    const bytes = fixture("ringbuf.bpf.o");
    expect(loadCollection(bytes, { maxRingbufBytes: 4096 }).maps.has("rb")).toBe(true);
    const e = thrown(() => loadCollection(bytes, { maxRingbufBytes: 2048 }));
    expect(e).toBeInstanceOf(LimitError);
    expect(e).toMatchObject({ code: "RINGBUF_TOO_LARGE", limit: "maxRingbufBytes", max: 2048 });
    // A ring's bytes live outside the linear memory but are counted, and given back on close.
    const mem = new AddressSpace({ maxBytes: 32 << 20 });
    const env: MapEnv = { mem, numCpus: 1, cpu: 0, mapByHandle: () => undefined, now: () => 0n };
    const ring = { name: "r", type: 27, keySize: 0, valueSize: 0, maxEntries: 1 << 22, flags: 0 };
    const rb = createMap(ring, env, MAP_HANDLE_BASE);
    expect(mem.externalBytes).toBe(1 << 22);
    const big = { ...ring, maxEntries: 1 << 25 };
    expect(thrown(() => createMap(big, env, MAP_HANDLE_BASE + 16))).toMatchObject({
      code: "MEMORY_LIMIT",
    });
    rb.destroy();
    rb.destroy();
    expect(mem.externalBytes).toBe(0);
  });

  it("maxFrames: frames per run (RuntimeFault FRAME_LIMIT)", () => {
    expect(execRaw(callChain(4))).toBe(7n);
    const e = thrown(() => execRaw(callChain(4), undefined, { maxFrames: 3 }));
    expect(e).toBeInstanceOf(RuntimeFault);
    expect(e).toMatchObject({ code: "FRAME_LIMIT", message: /limit of 3 frames/ });
    // The kernel's own rule, 8 frames per program, has the same code.
    expect(thrown(() => execRaw(callChain(8)))).toMatchObject({
      code: "FRAME_LIMIT",
      message: /more than 8 frames in one program/,
    });
    // The stack holds exactly maxFrames frames.
    const m = new Machine({ maxFrames: 3 });
    expect(m.stack.bytes).toBeGreaterThanOrEqual(3 * 512);
  });

  it("maxFrames: callbacks nesting deeper than the JavaScript stack allows stop with FRAME_LIMIT", () => {
    // main and cb: bpf_loop(1, cb, 0, 0): each callback starts another loop, one frame deeper
    const loop = (fn: number): Insn[] => [
      I(0xb7, 1, 0, 0, 1),
      I(0x18, 2, 4, 0, fn),
      I(0),
      I(0xb7, 3),
      I(0xb7, 4),
      I(0x85, 0, 0, 0, 181),
    ];
    const code = encodeProgram([...loop(5), EXIT, ...loop(-2), I(0xb7), EXIT]);
    expect(thrown(() => execRaw(code))).toMatchObject({
      code: "FRAME_LIMIT",
      message: /limit of 272 frames/,
    });
    const e = thrown(() => execRaw(code, undefined, { maxFrames: 8192 }));
    expect(e).toBeInstanceOf(RuntimeFault);
    expect(e).toMatchObject({ code: "FRAME_LIMIT" });
  });

  it("an unknown engine is a typed error (ENOTSUPP)", () => {
    const code = encodeProgram([I(0xb7), EXIT]);
    expect(thrown(() => execRaw(code, undefined, { engine: "nope" as "interp" }))).toMatchObject({
      code: "ENOTSUPP",
    });
  });

  it("fd arrays keep memory proportional to what they hold, whatever max_entries says", () => {
    const mem = new AddressSpace({ maxBytes: 32 << 20 });
    const env: MapEnv = { mem, numCpus: 1, cpu: 0, mapByHandle: () => undefined, now: () => 0n };
    const t0 = performance.now();
    const perf = {
      name: "p",
      type: 4,
      keySize: 4,
      valueSize: 4,
      maxEntries: 0xffff_ffff,
      flags: 0,
    };
    const m = createMap(perf, env, MAP_HANDLE_BASE);
    m.update(new Uint8Array([0xfe, 0xff, 0xff, 0xff]), new Uint8Array(4));
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(mem.heapBytes).toBeLessThan(1 << 20);
    // A prog_array's slot table (for the JIT) is linear memory: the address space limit holds.
    const pa = { name: "j", type: 3, keySize: 4, valueSize: 4, maxEntries: 0xffff_ffff, flags: 0 };
    expect(thrown(() => createMap(pa, env, MAP_HANDLE_BASE + 16))).toMatchObject({
      code: "ENOMEM",
    });
  });
});

describe("typed errors carry their details", () => {
  it("MemoryAccessError: pc, address, size, write, region", () => {
    // r0 = *(u32 *)(r1 + 64) with 16 bytes of memory: past the end of the "mem" region
    const code = encodeProgram([I(0x61, 0, 1, 64), EXIT]);
    const e = thrown(() => execRaw(code, new Uint8Array(16)));
    expect(e).toBeInstanceOf(MemoryAccessError);
    const m = e as MemoryAccessError;
    expect(m).toMatchObject({ code: "MEMORY_ACCESS", pc: 0, size: 4, write: false });
    expect(m.region).toMatch(/^nearest region: mem \[0x[0-9a-f]+, 0x[0-9a-f]+\)$/);
    expect(m.address).toBeGreaterThan(0n);
  });

  it("LoadError: section and offset", () => {
    const bytes = fixture("tail_self.bpf.o").slice();
    new DataView(bytes.buffer).setBigUint64(40, BigInt(bytes.length), true); // e_shoff at EOF
    const e = thrown(() => loadCollection(bytes));
    expect(e).toBeInstanceOf(LoadError);
    expect((e as LoadError).code).toMatch(/^ELF_/);
    expect((e as LoadError).offset).toBeTypeOf("number");
  });
});

describe("maps count their entries against maxBytes", () => {
  const env = (mem: AddressSpace): MapEnv => ({
    mem,
    numCpus: 1,
    cpu: 0,
    mapByHandle: () => undefined,
    now: () => 0n,
  });

  it("a program filling a huge hash map gets -ENOMEM, and the host's memory stays bounded", () => {
    // for (i = 0;; i++) if (bpf_map_update_elem(&h, &i, &i, 0)) return r0 == -ENOMEM ? i : -1;
    const code = encodeProgram([
      I(0xb7, 6),
      I(0x63, 10, 6, -4),
      I(0x7b, 10, 6, -16),
      I(0x18, 1, 1, 0, 0),
      I(0),
      I(0xbf, 2, 10),
      I(0x07, 2, 0, 0, -4),
      I(0xbf, 3, 10),
      I(0x07, 3, 0, 0, -16),
      I(0xb7, 4),
      I(0x85, 0, 0, 0, 2),
      I(0x55, 0, 0, 2, 0), // if r0 != 0 goto out
      I(0x07, 6, 0, 0, 1),
      I(0x05, 0, 0, -13),
      I(0xb7, 7, 0, 0, -12), // out: r7 = -ENOMEM
      I(0xbf, 1, 0),
      I(0xb7, 0, 0, 0, -1),
      I(0x5d, 1, 7, 1, 0), // if r1 != r7 goto +1
      I(0xbf, 0, 6),
      EXIT,
    ]);
    const spec: CollectionSpec = {
      name: "fill",
      license: "GPL",
      maps: [
        {
          name: "h",
          type: 1,
          keySize: 4,
          valueSize: 8,
          maxEntries: 1 << 30,
          flags: 0,
          section: ".maps",
          readonlyProg: false,
        },
      ],
      programs: [programSpec("fill", code)],
    };
    const maxBytes = 24 << 20;
    const c = Collection.load(spec, { maxBytes });
    const n = c.program("fill").run().retval;
    expect(n).toBeGreaterThan(1000);
    // an entry costs its element record (32 + 8 bytes), its value (8) and its live byte
    expect(n).toBeLessThan(maxBytes / 49);
    const mem = c.machine.mem;
    expect(mem.heapBytes + mem.externalBytes).toBeLessThanOrEqual(maxBytes);
    // Closing the collection gives every byte back.
    c.close();
    expect(mem.externalBytes).toBe(0);
  });

  it("queues and stacks: a push past the limit is -ENOMEM", () => {
    const mem = new AddressSpace({ maxBytes: 20 << 20 });
    const q = createMap(
      { name: "q", type: 22, keySize: 0, valueSize: 64, maxEntries: 1 << 30, flags: 0 },
      env(mem),
      MAP_HANDLE_BASE,
    );
    const v = mem.mapRegion("v", 64, SegmentFlags.WRITABLE).base;
    let pushed = 0;
    let r = 0;
    while ((r = q.pushElem(v, 0n)) === 0) pushed++;
    expect(r).toBe(-12);
    expect(pushed).toBeGreaterThan(1000);
    expect(q.popElem(v)).toBe(0);
    expect(q.pushElem(v, 0n)).toBe(0); // the popped element's bytes were given back
    q.destroy();
    expect(mem.externalBytes).toBe(0);
  });

  it("bloom filters: bit pages count too (MEMORY_LIMIT when they do not fit)", () => {
    const mem = new AddressSpace({ maxBytes: 18 << 20 });
    const def = { name: "b", type: 30, keySize: 0, valueSize: 8, maxEntries: 1 << 30, flags: 0 };
    const b = createMap(def, env(mem), MAP_HANDLE_BASE);
    const v = mem.mapRegion("v", 8, SegmentFlags.WRITABLE).base;
    const e = thrown(() => {
      for (let i = 0; i < 1 << 20; i++) {
        mem.dv.setUint32(v, i, true);
        b.pushElem(v, 0n);
      }
    });
    expect(e).toMatchObject({ code: "MEMORY_LIMIT" });
    b.destroy();
    expect(mem.externalBytes).toBe(0);
  });
});
