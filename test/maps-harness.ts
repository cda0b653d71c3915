/**
 * Shared by the map tests: an address space, a map environment without a machine, maps created
 * from partial definitions, and a writable scratch region for the keys and values programs pass.
 */
import { AddressSpace } from "../src/memory/address-space.js";
import { MAP_HANDLE_BASE, MAP_HANDLE_STRIDE, SegmentFlags } from "../src/memory/layout.js";
import { createMap, type BpfMap, type MapDefinition, type MapEnv } from "../src/maps/index.js";

/** A map environment with `numCpus` CPUs and a scratch region for keys and values. */
export function setup(numCpus = 1) {
  const mem = new AddressSpace({ maxBytes: 256 << 20 });
  const maps: BpfMap[] = [];
  const env: MapEnv = {
    mem,
    numCpus,
    cpu: 0,
    mapByHandle: (h) => maps[(h - MAP_HANDLE_BASE) / MAP_HANDLE_STRIDE],
    now: () => 0n,
  };
  const scratch = mem.mapRegion("scratch", 8192, SegmentFlags.WRITABLE);
  const create = <T extends BpfMap = BpfMap>(def: Partial<MapDefinition> & { type: number }): T => {
    const full: MapDefinition = {
      name: "m",
      keySize: 4,
      valueSize: 4,
      maxEntries: 8,
      flags: 0,
      ...def,
    };
    const m = createMap(full, env, MAP_HANDLE_BASE + maps.length * MAP_HANDLE_STRIDE);
    maps.push(m);
    return m as T;
  };
  /** Writes bytes into the scratch region at `off` and returns their address. */
  const put = (bytes: Uint8Array | number[], off = 0): number => {
    mem.write(scratch.base + off, Uint8Array.from(bytes));
    return scratch.base + off;
  };
  /** Scratch offsets of a key and of a value. */
  const KEY = 0;
  const VAL = 1024;
  return { mem, env, create, put, KEY, VAL, scratch };
}
