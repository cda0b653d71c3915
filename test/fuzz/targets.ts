/**
 * The fuzz targets, shared by the bounded passes of `npm test` and by `scripts/fuzz.ts`: each is
 * an arbitrary of inputs, the oracle that checks one input, and the files that make a failing
 * input a regression fixture (`test/fuzz/regressions/`, replayed by
 * `test/fuzz-regressions.test.ts`).
 */
import fc from "fast-check";
import { fromHex, loadCollection, type Collection } from "../../src/index.js";
import { PACKETS } from "../fixtures/packets.js";
import { memArbitrary, rawBytecodeArb, structuredBytecodeArb } from "./bytecode.js";
import { seeds } from "./corpus.js";
import {
  DEFAULT_BOUNDS,
  fuzzBytecode,
  fuzzObject,
  typed,
  checkBounds,
  type FuzzBounds,
  type Stats,
} from "./harness.js";
import { checkMapOps, mapOpsArb, type MapOp } from "./map-program.js";
import { applyMutations, describeMutations, mutationArb, type Mutation } from "./mutate.js";

/** A fuzz target. */
export interface Target<T> {
  /** Name on the command line and in regression file names. */
  readonly name: TargetName;
  /** Inputs. */
  arb(): fc.Arbitrary<T>;
  /** The oracle: returns, or throws a `FuzzFailure` (or an `Error` for a model mismatch). */
  check(input: T, bounds: FuzzBounds, stats?: Stats): void;
  /** Regression files for `input`: file extension (`.o`, `.bin`, `.json`...) → contents. */
  files(input: T): Record<string, Uint8Array>;
  /** One line saying what the input is. */
  describe(input: T): string;
}

/** Target names. */
export type TargetName = "elf" | "bytecode" | "packets" | "maps";

// ---- elf: mutated fixture objects -------------------------------------------------------------

/** An object mutant: seed index and mutations. */
export interface ElfInput {
  seed: number;
  muts: Mutation[];
}

/** The bytes of a mutant. */
export function elfBytes(input: ElfInput): Uint8Array {
  const s = seeds()[input.seed];
  return applyMutations(s.bytes, s.layout.fields, input.muts);
}

const elfTarget: Target<ElfInput> = {
  name: "elf",
  arb: () => {
    const all = seeds();
    return fc.nat(all.length - 1).chain((seed) =>
      fc.record({
        seed: fc.constant(seed),
        muts: fc.array(mutationArb(all[seed].layout), { minLength: 1, maxLength: 4 }),
      }),
    );
  },
  check: (input, bounds, stats) => fuzzObject(elfBytes(input), bounds, stats),
  files: (input) => ({ ".o": elfBytes(input) }),
  describe: (input) => {
    const s = seeds()[input.seed];
    return `${s.name}: ${describeMutations(s.layout.fields, input.muts)}`;
  },
};

// ---- bytecode: random programs through execRaw ------------------------------------------------

/** A program and the memory r1 points to. */
export interface BytecodeInput {
  code: Uint8Array;
  mem: Uint8Array | undefined;
}

const bytecodeTarget: Target<BytecodeInput> = {
  name: "bytecode",
  arb: () =>
    fc.record({
      code: fc.oneof(
        { weight: 1, arbitrary: rawBytecodeArb() },
        { weight: 3, arbitrary: structuredBytecodeArb() },
      ),
      mem: memArbitrary,
    }),
  check: (input, bounds, stats) => fuzzBytecode(input.code, input.mem, bounds, stats),
  files: (input) => ({
    ".bin": input.code,
    ...(input.mem !== undefined ? { ".mem": input.mem } : {}),
  }),
  describe: (input) =>
    `${input.code.length} bytes of code: ${hexOf(input.code.subarray(0, 64))}` +
    (input.code.length > 64 ? "…" : "") +
    `, mem ${input.mem === undefined ? "none" : `${input.mem.length} bytes`}`,
};

// ---- packets: random packets and contexts against every fixture program ----------------------

/** A run of fixture program `prog` on `data` (and `ctx`). */
export interface PacketInput {
  /** Index into the fixtures that load. */
  fixture: number;
  /** Index into the fixture's programs (modulo their number). */
  prog: number;
  data: Uint8Array;
  ctx: Uint8Array | null;
  repeat: number;
}

const REAL_PACKETS = Object.values(PACKETS).map((h) => fromHex(h));

/** A real packet (IPv4/IPv6 UDP, TCP, ICMP, ARP) with a few bytes changed, cut or extended. */
const realPacketArb: fc.Arbitrary<Uint8Array> = fc
  .record({
    base: fc.nat(REAL_PACKETS.length - 1),
    pokes: fc.array(fc.tuple(fc.nat(80), fc.nat(255)), { maxLength: 4 }),
    length: fc.oneof(fc.constant(-1), fc.nat(120)),
  })
  .map(({ base, pokes, length }) => {
    const p = REAL_PACKETS[base];
    const out = new Uint8Array(length < 0 ? p.length : length);
    out.set(p.subarray(0, out.length));
    for (const [at, v] of pokes) if (at < out.length) out[at] = v;
    return out;
  });

/** The seed objects that load, by index, each with its program names. */
let loadable: { name: string; bytes: Uint8Array; programs: string[] }[] | undefined;
function loadableFixtures(): { name: string; bytes: Uint8Array; programs: string[] }[] {
  if (loadable) return loadable;
  loadable = [];
  for (const s of seeds()) {
    try {
      const c = loadCollection(s.bytes, { name: s.name });
      loadable.push({ name: s.name, bytes: s.bytes, programs: [...c.programs.keys()] });
      c.close();
    } catch {
      // fixtures made to be refused (kconfig externs, static programs)
    }
  }
  return loadable;
}

/** Loaded fixtures reused across inputs (maps keep what earlier runs wrote, as in a session). */
const loaded = new Map<string, Collection>();

/** Runs one packet input on a fixture loaded once and reused. */
export function runPacket(input: PacketInput, bounds: FuzzBounds, stats?: Stats): void {
  const fixtures = loadableFixtures();
  const f = fixtures[input.fixture % fixtures.length];
  const key = `${f.name}/${bounds.engine}/${bounds.insnLimit}/${bounds.maxBytes}`;
  let c = loaded.get(key);
  if (c === undefined) {
    c = loadCollection(f.bytes, {
      name: f.name,
      engine: bounds.engine,
      insnLimit: bounds.insnLimit,
      maxBytes: bounds.maxBytes,
    });
    loaded.set(key, c);
  }
  runOn(c, f.programs[input.prog % f.programs.length], input, bounds, stats);
}

/** A packet regression: fixture and program by name. */
export interface PacketRegression {
  fixture: string;
  program: string;
  data: Uint8Array;
  ctx: Uint8Array | null;
  repeat: number;
}

/** Replays a packet regression on a freshly loaded fixture. */
export function replayPacket(r: PacketRegression, bounds: FuzzBounds = DEFAULT_BOUNDS): void {
  const s = seeds().find((x) => x.name === r.fixture);
  if (s === undefined) throw new Error(`no fixture ${r.fixture}`);
  const c = loadCollection(s.bytes, {
    name: s.name,
    engine: bounds.engine,
    insnLimit: bounds.insnLimit,
    maxBytes: bounds.maxBytes,
  });
  try {
    runOn(c, r.program, r, bounds);
  } finally {
    c.close();
  }
}

function runOn(
  c: Collection,
  program: string,
  input: { data: Uint8Array; ctx: Uint8Array | null; repeat: number },
  bounds: FuzzBounds,
  stats?: Stats,
): void {
  const prog = c.program(program);
  const t0 = performance.now();
  typed(
    "run",
    () => void prog.run({ data: input.data, ctx: input.ctx ?? undefined, repeat: input.repeat }),
    stats,
  );
  checkBounds("packet", t0, bounds);
}

const packetTarget: Target<PacketInput> = {
  name: "packets",
  arb: () =>
    fc.record({
      fixture: fc.nat(1000),
      prog: fc.nat(100),
      data: fc.oneof(
        fc
          .oneof(
            { weight: 1, arbitrary: fc.integer({ min: 0, max: 13 }) },
            { weight: 6, arbitrary: fc.integer({ min: 14, max: 1600 }) },
            { weight: 2, arbitrary: fc.integer({ min: 1600, max: 4000 }) },
          )
          .chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
        realPacketArb,
      ),
      ctx: fc.oneof(
        { weight: 4, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }) },
      ),
      repeat: fc.constantFrom(1, 1, 1, 3),
    }),
  check: (input, bounds, stats) => runPacket(input, bounds, stats),
  files: (input) => {
    const fixtures = loadableFixtures();
    const f = fixtures[input.fixture % fixtures.length];
    const json = {
      fixture: f.name,
      program: f.programs[input.prog % f.programs.length],
      data: hexOf(input.data),
      ctx: input.ctx === null ? null : hexOf(input.ctx),
      repeat: input.repeat,
    };
    return { ".packet.json": utf8(JSON.stringify(json, null, 2) + "\n") };
  },
  describe: (input) => {
    const fixtures = loadableFixtures();
    const f = fixtures[input.fixture % fixtures.length];
    return `${f.name} ${f.programs[input.prog % f.programs.length]}: ${input.data.length} bytes of data, ctx ${input.ctx?.length ?? "none"}, repeat ${input.repeat}`;
  },
};

// ---- maps: program-side map operations against a model ---------------------------------------

const mapsTarget: Target<MapOp[]> = {
  name: "maps",
  arb: () => mapOpsArb,
  check: (ops, bounds, stats) => {
    const t0 = performance.now();
    checkMapOps(ops, bounds.engine);
    checkBounds("maps", t0, bounds);
    stats?.set("maps:ok", (stats.get("maps:ok") ?? 0) + 1);
    stats?.set("maps:ops", (stats.get("maps:ops") ?? 0) + ops.length);
  },
  files: (ops) => ({
    ".maps.json": utf8(
      JSON.stringify(ops, (_, v: unknown) => (typeof v === "bigint" ? `${v}n` : v), 2) + "\n",
    ),
  }),
  describe: (ops) => `${ops.length} map operations`,
};

/** Every target by name. */
export const TARGETS: { [K in TargetName]: Target<never> } = {
  elf: elfTarget as Target<never>,
  bytecode: bytecodeTarget as Target<never>,
  packets: packetTarget as Target<never>,
  maps: mapsTarget as Target<never>,
};

/** Parses a `.maps.json` regression (bigints are written as `"123n"`). */
export function parseMapOps(text: string): MapOp[] {
  return JSON.parse(text, (_, v: unknown) =>
    typeof v === "string" && /^\d+n$/.test(v) ? BigInt(v.slice(0, -1)) : v,
  ) as MapOp[];
}

/** Lowercase hex. */
export function hexOf(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

export { DEFAULT_BOUNDS };
