import { TsbpfError } from "../errors.js";
import type { BpfMap } from "../maps/types.js";
import type { Collection } from "./collection.js";

/** Map types whose contents `dumpMaps` leaves out (not key/value stores a dump can walk). */
const NOT_DUMPED = new Set([
  3, // prog_array
  4, // perf_event_array
  12, // array_of_maps
  13, // hash_of_maps
  22, // queue
  23, // stack
  27, // ringbuf
  30, // bloom_filter
]);
/** Array-like types, whose all-zero values are left out. */
const ARRAYS = new Set([2, 6]);

/** Lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/** Bytes of a hex string (whitespace and a `0x` prefix allowed); throws on bad input. */
export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/^0x/i, "").replace(/[\s:]/g, "");
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) {
    throw new TsbpfError(
      "EINVAL",
      `not a hex byte string: "${hex.length > 40 ? hex.slice(0, 40) + "…" : hex}"`,
    );
  }
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** One map's entries as `{KEYHEX: VALUEHEX}` (array maps without their all-zero values). */
export function dumpMap(map: BpfMap): Record<string, string> {
  const out: Record<string, string> = {};
  const skipZero = ARRAYS.has(map.def.type);
  for (const [key, value] of map.entries()) {
    if (skipZero && value.every((b) => b === 0)) continue;
    out[toHex(key)] = toHex(value);
  }
  return out;
}

/**
 * Every dumpable map of a collection, as `tsbpf run --json` prints them: `{NAME: {KEYHEX:
 * VALUEHEX}}`. prog_arrays, maps of maps, queues, stacks, ring buffers, perf event arrays and
 * bloom filters are left out.
 */
export function dumpMaps(c: Collection): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const [name, map] of c.maps) {
    if (NOT_DUMPED.has(map.def.type)) continue;
    out[name] = dumpMap(map);
  }
  return out;
}
