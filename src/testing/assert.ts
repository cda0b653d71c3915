/**
 * Framework-agnostic assertions. They throw an {@link AssertionError} carrying `actual` and
 * `expected` (with `showDiff`), which vitest, jest, mocha and node:test all display as a diff.
 */
import { TC_ACTIONS, XDP_ACTIONS } from "../progtypes/index.js";
import type { RunResult } from "../runtime/program-handle.js";
import type { BtfValue } from "./btf-value.js";
import { stringifyBtfValue } from "./btf-value.js";
import type { BytesLike, TestMap } from "./object.js";
import { fromBytes } from "./object.js";

/** A failed assertion. */
export class AssertionError extends Error {
  override name = "AssertionError";
  /** Test runners show a diff of `actual` and `expected`. */
  readonly showDiff = true;
  constructor(
    message: string,
    /** What was seen. */
    readonly actual: unknown,
    /** What was expected. */
    readonly expected: unknown,
  ) {
    super(message);
  }
}

/** XDP return codes. */
export const XDP_ABORTED = 0;
/** Drop the packet. */
export const XDP_DROP = 1;
/** Pass the packet to the network stack. */
export const XDP_PASS = 2;
/** Send the packet back out of the interface it came in on. */
export const XDP_TX = 3;
/** Redirect the packet (bpf_redirect, bpf_redirect_map). */
export const XDP_REDIRECT = 4;
/** tc: continue with the packet. */
export const TC_ACT_OK = 0;
/** tc: drop the packet. */
export const TC_ACT_SHOT = 2;
/** tc: the packet was redirected. */
export const TC_ACT_REDIRECT = 7;

/** The value of a return-code name (`XDP_PASS`, `TC_ACT_SHOT`…), or undefined. */
export function retvalByName(name: string): number | undefined {
  const xdp = XDP_ACTIONS.indexOf(name);
  if (xdp >= 0) return xdp;
  for (const [k, v] of Object.entries(TC_ACTIONS)) if (v === name) return Number(k) >>> 0;
  return undefined;
}

const describe = (v: number) => {
  const names = [XDP_ACTIONS[v], TC_ACTIONS[v | 0]].filter((n) => n !== undefined);
  return names.length ? `${v} (${names.join(" / ")})` : `${v}`;
};

/**
 * Asserts a run's return value: a number or a name (`"XDP_DROP"`, `"TC_ACT_SHOT"`).
 * `result` is a {@link RunResult} or the retval itself.
 */
export function assertRetval(
  result: RunResult | number,
  expected: number | string,
  message?: string,
): void {
  const actual = typeof result === "number" ? result : result.retval;
  const want = typeof expected === "string" ? retvalByName(expected) : expected >>> 0;
  if (want === undefined) throw new TypeError(`unknown return code name "${expected}"`);
  if (actual !== want) {
    throw new AssertionError(
      message ?? `expected return value ${describe(want)}, got ${describe(actual)}`,
      actual,
      want,
    );
  }
}

/** Asserts the packet after the run (data_out). */
export function assertPacket(result: RunResult, expected: Uint8Array, message?: string): void {
  const a = result.data;
  if (a.length === expected.length && a.every((b, i) => b === expected[i])) return;
  const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  throw new AssertionError(message ?? "data_out differs", hex(a), hex(expected));
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (typeof a === "bigint" || typeof b === "bigint") {
    return (typeof a === "bigint" || typeof a === "number") &&
      (typeof b === "bigint" || typeof b === "number")
      ? BigInt(a) === BigInt(b)
      : false;
  }
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  return ka.every((k) => k in rb && deepEqual(ra[k], rb[k]));
}

/**
 * Asserts the value stored under `key`. `expected` is a number or bigint (the value read as an
 * unsigned little-endian integer), bytes, a decoded object (compared with the BTF-decoded
 * value: `{ packets: 1, bytes: 54 }`), or undefined for "no such entry".
 */
export function assertMapValue(
  map: TestMap,
  key: BytesLike,
  expected: number | bigint | Uint8Array | BtfValue | undefined,
  message?: string,
): void {
  const raw = map.get(key);
  const where = () => `map "${map.name}" key ${stringifyBtfValue(map.formatKey(key))}`;
  if (expected === undefined || raw === undefined) {
    if (expected === raw) return;
    throw new AssertionError(
      message ?? `${where()}: expected ${expected === undefined ? "no entry" : "an entry"}`,
      raw === undefined ? undefined : map.getFormatted(key),
      expected,
    );
  }
  let actual: unknown;
  let want: unknown = expected;
  if (typeof expected === "number" || typeof expected === "bigint") {
    actual = fromBytes(raw.subarray(0, map.map.def.valueSize));
    want = BigInt(expected);
  } else if (expected instanceof Uint8Array) {
    actual = Array.from(raw);
    want = Array.from(expected);
  } else {
    actual = map.getFormatted(key);
  }
  if (!deepEqual(actual, want)) {
    const show = (v: unknown) =>
      typeof v === "bigint" ? v.toString() : stringifyBtfValue(v as BtfValue);
    throw new AssertionError(
      message ?? `${where()}: expected ${show(want)}, got ${show(actual)}`,
      actual,
      want,
    );
  }
}
