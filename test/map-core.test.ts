/**
 * The map core (src/maps/core): the committed module is what core.c builds to, it stays small
 * enough for a browser's synchronous compile, and its answers that send the host back
 * (NEED_ROOM, NEED_BUCKETS) change nothing.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AddressSpace } from "../src/memory/address-space.js";
import { MAP_HANDLE_BASE } from "../src/memory/layout.js";
import { CORE_WASM_BASE64 } from "../src/maps/core/core-wasm.js";
import { MapCore, NEED_BUCKETS, NEED_ROOM } from "../src/maps/core/index.js";
import { createMap, type HashMap } from "../src/maps/index.js";
import { ROOT } from "./cli-harness.js";

const tools = ["clang-19", "wasm-ld-19", "llvm-objdump-19"].filter(
  (t) => spawnSync("sh", ["-c", `command -v ${t}`]).status !== 0,
);
if (tools.length > 0) console.warn(`map core rebuild test skipped: no ${tools.join(", ")}`);

describe("the map core module", () => {
  it("has a build browsers compile synchronously (under 4 KiB)", () => {
    expect(atob(CORE_WASM_BASE64).length).toBeLessThan(4096);
  });

  it.skipIf(tools.length > 0)("is what build.sh makes of core.c", () => {
    const before = readFileSync(`${ROOT}/src/maps/core/core-wasm.ts`, "utf8");
    const r = spawnSync(`${ROOT}/src/maps/core/build.sh`, { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(`${ROOT}/src/maps/core/core-wasm.ts`, "utf8")).toBe(before);
  });
});

describe("the map core's calls back to the host", () => {
  const setup = () => {
    const mem = new AddressSpace();
    const env = { mem, numCpus: 1, cpu: 0, mapByHandle: () => undefined, now: () => 0n };
    const def = { name: "h", type: 1, keySize: 4, valueSize: 8, maxEntries: 100, flags: 0 };
    const map = createMap(def, env, MAP_HANDLE_BASE) as HashMap;
    const core = MapCore.of(mem);
    const key = core.hostScratch(16);
    return { mem, map, x: core.x, key, value: key + 8 };
  };

  it("NEED_ROOM before any element exists, with the map unchanged", () => {
    const { map, x, key, value, mem } = setup();
    mem.dv.setUint32(key, 7, true);
    expect(x.htab_update_elem(map.desc, key, value, 0, 0, 0, 1)).toBe(NEED_ROOM);
    expect(map.count).toBe(0);
    expect(x.htab_find(map.desc, key)).toBe(0);
  });

  it("NEED_BUCKETS once entries reach the bucket count; entries survive the rehash", () => {
    const { map, x, key, value, mem } = setup();
    for (let i = 0; i < 16; i++) map.update(u32(i), u64(i));
    expect(x.htab_buckets(map.desc)).toBe(16);
    mem.dv.setUint32(key, 99, true);
    const r = x.htab_update_elem(map.desc, key, value, 0, 0, 0, 1);
    expect([NEED_ROOM, NEED_BUCKETS]).toContain(r);
    expect(map.count).toBe(16);
    map.update(u32(99), u64(99));
    expect(x.htab_buckets(map.desc)).toBe(32);
    for (const i of [0, 7, 15, 99]) expect(map.lookup(u32(i))).toEqual(u64(i));
    expect(map.keys().map((k) => k[0])).toEqual([...Array(16).keys(), 99]);
  });
});

function u32(v: number): Uint8Array {
  return new Uint8Array(Uint32Array.of(v).buffer);
}

function u64(v: number): Uint8Array {
  return new Uint8Array(BigUint64Array.of(BigInt(v)).buffer);
}

describe("elements freed by updates", () => {
  const run = (flags: number) => {
    const mem = new AddressSpace();
    const env = {
      mem,
      numCpus: 1,
      cpu: 0,
      mapByHandle: () => undefined,
      now: () => 0n,
    };
    const def = { name: "h", type: 1, keySize: 4, valueSize: 8, maxEntries: 1, flags };
    const map = createMap(def, env, MAP_HANDLE_BASE) as HashMap;
    const key = mem.allocHidden(16);
    // an insert, then a first replacement (which maps the chunk its new element comes from)
    expect(map.updateElem(key, key + 8, 0n)).toBe(0);
    expect(map.updateElem(key, key + 8, 0n)).toBe(0);
    const before = mem.heapBytes;
    for (let i = 0; i < 100_000; i++) {
      mem.dv.setUint32(key + 8, i, true);
      expect(map.updateElem(key, key + 8, 0n)).toBe(0);
    }
    const grown = mem.heapBytes - before;
    expect(map.count).toBe(1);
    expect(map.lookup(u32(0))).toEqual(u64(99_999));
    // the freed elements serve the next updates: no more memory
    const after = mem.heapBytes;
    for (let i = 0; i < 1000; i++) expect(map.updateElem(key, key + 8, 0n)).toBe(0);
    expect(mem.heapBytes).toBe(after);
    return grown;
  };

  it("a preallocated map replaces a key with its spare element: no more memory", () => {
    expect(run(0)).toBe(0);
  });

  it("BPF_F_NO_PREALLOC: the replaced element is the next replacement's: no more memory", () => {
    expect(run(1)).toBe(0);
  });
});
