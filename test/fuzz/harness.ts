/**
 * The fuzz oracle: hostile input either works or fails with a typed error (a `TsbpfError`, or
 * the loader's `LoadError` other than `INTERNAL`), within a time bound and without memory
 * growth past a bound. Anything else is a {@link FuzzFailure}.
 */
import { LoadError } from "../../src/elf/errors.js";
import { TsbpfError } from "../../src/errors.js";
import { execRaw, loadCollection, type Collection } from "../../src/index.js";
import type { EngineName } from "../../src/runtime/engine.js";

/** Bounds every fuzz input runs under. */
export interface FuzzBounds {
  /** Address space limit of each collection / execRaw machine (bytes). */
  maxBytes: number;
  /** Instructions per run. */
  insnLimit: number;
  /** Wall time one input may take (ms), load and every run together. */
  timeMs: number;
  /** Resident set size the process may reach (bytes). */
  rssBytes: number;
  /** Engine the programs run on. */
  engine: EngineName;
}

/** Defaults: small enough that thousands of inputs run in seconds. */
export const DEFAULT_BOUNDS: FuzzBounds = {
  maxBytes: 64 << 20,
  insnLimit: 20_000,
  timeMs: 5_000,
  rssBytes: 3 * 1024 ** 3,
  engine: "interp",
};

/** Why an input failed the oracle. */
export type FailureKind = "untyped" | "internal" | "timeout" | "memory";

/** An input that broke the contract. */
export class FuzzFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly original?: unknown,
  ) {
    super(`${kind}: ${message}`);
    this.name = "FuzzFailure";
  }
}

/** Whether `e` is an error tsbpf throws on purpose. */
export function isTyped(e: unknown): boolean {
  if (e instanceof LoadError) return e.code !== "INTERNAL";
  return e instanceof TsbpfError;
}

/** Counts of outcomes, for reports (`ok`, and one key per error code). */
export type Stats = Map<string, number>;

function bump(stats: Stats | undefined, key: string): void {
  if (stats) stats.set(key, (stats.get(key) ?? 0) + 1);
}

function describe(e: unknown): string {
  if (e instanceof Error) {
    const frame = e.stack?.split("\n").find((l) => l.includes("/src/")) ?? "";
    return `${e.name}: ${e.message}${frame ? ` (${frame.trim()})` : ""}`;
  }
  return String(e);
}

/**
 * Runs `f`: returns `"ok"` or the typed error's code; throws a {@link FuzzFailure} for any
 * other exception.
 */
export function typed(what: string, f: () => void, stats?: Stats): string {
  try {
    f();
    bump(stats, `${what}:ok`);
    return "ok";
  } catch (e) {
    if (e instanceof FuzzFailure) throw e;
    if (isTyped(e)) {
      const code = (e as { code: string }).code;
      bump(stats, `${what}:${code}`);
      return code;
    }
    if (e instanceof LoadError) throw new FuzzFailure("internal", `${what}: ${describe(e)}`, e);
    throw new FuzzFailure("untyped", `${what}: ${describe(e)}`, e);
  }
}

/** Throws a {@link FuzzFailure} when the input took too long or the process grew too big. */
export function checkBounds(what: string, t0: number, bounds: FuzzBounds): void {
  const ms = performance.now() - t0;
  if (ms > bounds.timeMs) {
    throw new FuzzFailure("timeout", `${what}: took ${Math.round(ms)} ms (bound ${bounds.timeMs})`);
  }
  const rss = process.memoryUsage.rss();
  if (rss > bounds.rssBytes) {
    throw new FuzzFailure("memory", `${what}: rss ${rss} bytes (bound ${bounds.rssBytes})`);
  }
}

/** Packets every loaded program runs on. */
export const FUZZ_PACKETS: Uint8Array[] = [
  hex(
    "020000000002020000000001080045000028123440004011128d0a0000010a010203" +
      "303900350014385c68656c6c6f20747362706621",
  ),
  hex(
    "0200000000020200000000010800450000281234400040065cf20a000001c0a80101" +
      "9c40005000000001000000005002ffff47a70000",
  ),
  new Uint8Array(64),
  new Uint8Array(14).fill(0xff),
];

/** Bytes of a hex string. */
export function hex(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Runs every program of `coll` on every packet; each run must give a result or a typed error. */
export function runAll(
  coll: Collection,
  packets: readonly Uint8Array[],
  bounds: FuzzBounds,
  stats?: Stats,
): void {
  for (const prog of coll.programs.values()) {
    for (const data of packets) {
      typed("run", () => void prog.run({ data }), stats);
      const heap = coll.machine.mem.heapBytes;
      if (heap > bounds.maxBytes) {
        throw new FuzzFailure("memory", `heap of ${heap} bytes past ${bounds.maxBytes}`);
      }
    }
  }
}

/**
 * The object oracle: `bytes` loads (and then every program runs on every packet) or fails with
 * a typed error; within the time and memory bounds.
 */
export function fuzzObject(
  bytes: Uint8Array,
  bounds: FuzzBounds = DEFAULT_BOUNDS,
  stats?: Stats,
  packets: readonly Uint8Array[] = FUZZ_PACKETS,
): void {
  const t0 = performance.now();
  let coll: Collection | undefined;
  typed(
    "load",
    () => {
      coll = loadCollection(bytes, {
        name: "fuzz.o",
        maxBytes: bounds.maxBytes,
        insnLimit: bounds.insnLimit,
        engine: bounds.engine,
      });
    },
    stats,
  );
  if (coll !== undefined) {
    const c = coll;
    try {
      runAll(c, packets, bounds, stats);
    } finally {
      typed("close", () => c.close());
    }
  }
  checkBounds("object", t0, bounds);
}

/** The bytecode oracle: `code` validates and runs, or fails with a typed error. */
export function fuzzBytecode(
  code: Uint8Array,
  mem: Uint8Array | undefined,
  bounds: FuzzBounds = DEFAULT_BOUNDS,
  stats?: Stats,
): void {
  const t0 = performance.now();
  typed(
    "exec",
    () =>
      void execRaw(code, mem, {
        maxBytes: bounds.maxBytes,
        insnLimit: bounds.insnLimit,
        engine: bounds.engine,
      }),
    stats,
  );
  checkBounds("bytecode", t0, bounds);
}

/** Formats stats as `key=count` lines, sorted. */
export function formatStats(stats: Stats): string {
  return [...stats.entries()]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
}
