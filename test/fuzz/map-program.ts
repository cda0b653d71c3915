/**
 * The program-side map path under random operation sequences: one eBPF program per map reads
 * an operation from its context (`op`, `flags`, `key`, `value`), calls the map helper
 * (`bpf_map_lookup_elem`, `update`, `delete`, `push`, `pop`, `peek`) through the engine and the
 * helper layer, and writes r0 and the value it got back into the context. A JS model predicts
 * every result.
 */
import fc from "fast-check";
import type { CollectionSpec, MapSpec } from "../../src/elf/types.js";
import { TsbpfError } from "../../src/errors.js";
import { encodeProgram, type Insn } from "../../src/isa/decode.js";
import { Collection } from "../../src/runtime/collection.js";
import type { EngineName } from "../../src/runtime/engine.js";
import { I, programSpec } from "../spec-harness.js";

const EINVAL = -22;
const ENOENT = -2;
const EEXIST = -17;
const E2BIG = -7;

/** Operations, as the program numbers them. */
export const OPS = ["lookup", "update", "delete", "push", "pop", "peek"] as const;

/** One operation on one of the maps. */
export interface MapOp {
  /** Index into {@link MAP_SPECS}. */
  map: number;
  op: (typeof OPS)[number];
  key: number;
  value: bigint;
  flags: bigint;
}

const base = { flags: 0, section: ".maps", readonlyProg: false };
/** The maps under test: small, so that capacity limits are hit often. */
export const MAP_SPECS: MapSpec[] = [
  { ...base, name: "hash", type: 1, keySize: 4, valueSize: 8, maxEntries: 6 },
  { ...base, name: "array", type: 2, keySize: 4, valueSize: 8, maxEntries: 5 },
  { ...base, name: "queue", type: 22, keySize: 0, valueSize: 8, maxEntries: 4 },
  { ...base, name: "stack", type: 23, keySize: 0, valueSize: 8, maxEntries: 4 },
];

/**
 * The program for map `mapIndex`. ctx: op u32 @0, flags u64 @8, key u32 @16, value u64 @24;
 * out: r0 u64 @32, value u64 @40 (lookup: 1 @48 when found).
 */
function opProgram(mapIndex: number): Uint8Array {
  const p: Insn[] = [];
  const labels = new Map<string, number>();
  const fix: { at: number; label: string }[] = [];
  const jeq = (imm: number, label: string): void => {
    fix.push({ at: p.length, label });
    p.push(I(0x15, 7, 0, 0, imm));
  };
  const ja = (label: string): void => {
    fix.push({ at: p.length, label });
    p.push(I(0x05));
  };
  const here = (label: string): void => void labels.set(label, p.length);
  const mapPtr = (): void => void p.push(I(0x18, 1, 1, 0, mapIndex), I(0));
  const stackPtr = (r: number, off: number): void =>
    void p.push(I(0xbf, r, 10), I(0x07, r, 0, 0, off));

  p.push(I(0xbf, 6, 1)); // r6 = ctx
  p.push(I(0x61, 2, 6, 16), I(0x63, 10, 2, -8)); // key -> fp-8
  p.push(I(0x79, 2, 6, 24), I(0x7b, 10, 2, -16)); // value -> fp-16
  p.push(I(0x61, 7, 6, 0)); // r7 = op
  OPS.forEach((op, i) => jeq(i, op));
  p.push(I(0xb7, 0, 0, 0, -1), I(0x95));

  here("lookup");
  mapPtr();
  stackPtr(2, -8);
  p.push(I(0x85, 0, 0, 0, 1));
  p.push(I(0xb7, 1), I(0x7b, 6, 1, 32)); // r0 out = 0
  fix.push({ at: p.length, label: "out" });
  p.push(I(0x15, 0, 0, 0, 0)); // not found
  p.push(I(0x79, 1, 0, 0), I(0x7b, 6, 1, 40), I(0xb7, 1, 0, 0, 1), I(0x7b, 6, 1, 48));
  ja("out");

  here("update");
  mapPtr();
  stackPtr(2, -8);
  stackPtr(3, -16);
  p.push(I(0x79, 4, 6, 8), I(0x85, 0, 0, 0, 2), I(0x7b, 6, 0, 32));
  ja("out");

  here("delete");
  mapPtr();
  stackPtr(2, -8);
  p.push(I(0x85, 0, 0, 0, 3), I(0x7b, 6, 0, 32));
  ja("out");

  here("push");
  mapPtr();
  stackPtr(2, -16);
  p.push(I(0x79, 3, 6, 8), I(0x85, 0, 0, 0, 87), I(0x7b, 6, 0, 32));
  ja("out");

  for (const [op, id] of [
    ["pop", 88],
    ["peek", 89],
  ] as const) {
    here(op);
    mapPtr();
    stackPtr(2, -16);
    p.push(I(0x85, 0, 0, 0, id), I(0x7b, 6, 0, 32), I(0x79, 1, 10, -16), I(0x7b, 6, 1, 40));
    ja("out");
  }

  here("out");
  p.push(I(0xb7, 0), I(0x95));
  for (const f of fix) p[f.at].off = (labels.get(f.label) as number) - f.at - 1;
  return encodeProgram(p);
}

/** A collection with the maps of {@link MAP_SPECS} and one program per map (`op0`...). */
export function mapCollection(engine: EngineName = "interp"): Collection {
  const programs = MAP_SPECS.map((_, i) => programSpec(`op${i}`, opProgram(i)));
  const spec: CollectionSpec = { name: "mapfuzz", programs, maps: MAP_SPECS, license: "GPL" };
  return Collection.load(spec, { engine, maxBytes: 64 << 20, insnLimit: 10_000 });
}

/** Random operations; keys mostly in range, some beyond. */
export const mapOpsArb: fc.Arbitrary<MapOp[]> = fc.array(
  fc.record({
    map: fc.nat(MAP_SPECS.length - 1),
    op: fc.constantFrom(...OPS),
    key: fc.oneof(fc.nat(7), fc.constantFrom(0xffffffff, 0x80000000)),
    value: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    flags: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(0n, 1n, 2n) },
      { weight: 1, arbitrary: fc.constantFrom(3n, 4n, 5n, 6n) },
      { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) },
    ),
  }),
  { minLength: 1, maxLength: 60 },
);

/**
 * What an operation should give: r0 and, for lookup/pop/peek, the value; or the code of the
 * error that stops the run (a helper the kernel's verifier would not let the program call).
 */
interface Expect {
  r0: bigint;
  value?: bigint;
  throws?: string;
}

const neg = (e: number): bigint => BigInt.asUintN(64, BigInt(e));

/** The model of the four maps. */
export class MapModel {
  private readonly hash = new Map<number, bigint>();
  private readonly array = new Array<bigint>(MAP_SPECS[1].maxEntries).fill(0n);
  private readonly queues: bigint[][] = [[], []];

  apply(o: MapOp): Expect {
    const spec = MAP_SPECS[o.map];
    const keyed = spec.keySize > 0;
    const r = (e: number, value?: bigint): Expect => ({ r0: neg(e), value });
    const queueOp = o.op === "push" || o.op === "pop" || o.op === "peek";
    // Queue helpers on keyed maps, keyed helpers on queues: the verifier refuses the program.
    if (keyed === queueOp) return { r0: 0n, throws: "HELPER" };
    if (spec.type === 1) {
      const m = this.hash;
      if (o.op === "lookup") return m.has(o.key) ? r(0, m.get(o.key)) : r(0);
      if (o.op === "delete") return m.delete(o.key) ? r(0) : r(ENOENT);
      if (o.flags > 2n) return r(EINVAL);
      const exists = m.has(o.key);
      if (exists && o.flags === 1n) return r(EEXIST);
      if (!exists && o.flags === 2n) return r(ENOENT);
      if (!exists && m.size >= spec.maxEntries) return r(E2BIG);
      m.set(o.key, o.value);
      return r(0);
    }
    if (spec.type === 2) {
      const a = this.array;
      const inRange = o.key < spec.maxEntries;
      if (o.op === "lookup") return inRange ? r(0, a[o.key]) : r(0);
      if (o.op === "delete") return r(EINVAL);
      // array_map_update_elem: BPF_F_LOCK (4) passes the flags check, then needs a spin lock
      if ((o.flags & ~4n) > 2n) return r(EINVAL);
      if (!inRange) return r(E2BIG);
      if (o.flags & 1n) return r(EEXIST);
      if (o.flags & 4n) return r(EINVAL);
      a[o.key] = o.value;
      return r(0);
    }
    const q = this.queues[spec.type - 22];
    const lifo = spec.type === 23;
    if (o.op === "push") {
      if (o.flags !== 0n && o.flags !== 2n) return r(EINVAL);
      if (q.length >= spec.maxEntries) {
        if (o.flags !== 2n) return r(E2BIG);
        q.shift();
      }
      q.push(o.value);
      return r(0);
    }
    if (q.length === 0) return r(ENOENT, 0n);
    const v = lifo ? q[q.length - 1] : q[0];
    if (o.op === "pop") {
      if (lifo) q.pop();
      else q.shift();
    }
    return r(0, v);
  }
}

/** Runs `ops` on a fresh collection; throws on the first result the model does not predict. */
export function checkMapOps(ops: readonly MapOp[], engine: EngineName = "interp"): void {
  const c = mapCollection(engine);
  try {
    const model = new MapModel();
    const progs = MAP_SPECS.map((_, i) => c.program(`op${i}`));
    ops.forEach((o, n) => {
      const ctx = new Uint8Array(56);
      const dv = new DataView(ctx.buffer);
      dv.setUint32(0, OPS.indexOf(o.op), true);
      dv.setBigUint64(8, o.flags, true);
      dv.setUint32(16, o.key, true);
      dv.setBigUint64(24, o.value, true);
      const want = model.apply(o);
      const what = `op ${n} (${MAP_SPECS[o.map].name} ${o.op} key ${o.key} flags ${o.flags})`;
      let out: Uint8Array;
      try {
        out = progs[o.map].run({ ctx }).ctx as Uint8Array;
      } catch (e) {
        if (want.throws !== undefined && e instanceof TsbpfError && e.code === want.throws) return;
        throw e;
      }
      if (want.throws !== undefined) throw new Error(`${what}: ran, the model says ${want.throws}`);
      const odv = new DataView(out.buffer, out.byteOffset);
      const r0 = odv.getBigUint64(32, true);
      if (r0 !== want.r0) throw new Error(`${what}: r0 ${r0}, the model says ${want.r0}`);
      if (want.value !== undefined) {
        const got = odv.getBigUint64(40, true);
        const found = o.op !== "lookup" || odv.getBigUint64(48, true) === 1n;
        if (!found || got !== want.value) {
          throw new Error(`${what}: value ${found ? got : "none"}, the model says ${want.value}`);
        }
      } else if (o.op === "lookup" && odv.getBigUint64(48, true) !== 0n) {
        throw new Error(`${what}: found a value, the model says none`);
      }
    });
  } finally {
    c.close();
  }
}
