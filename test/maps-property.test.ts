/**
 * Random operation sequences against simple models (JS Maps and arrays): the maps must give
 * the same results, errnos and iteration order.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MapError } from "../src/errors.js";
import { AddressSpace } from "../src/memory/address-space.js";
import { MAP_HANDLE_BASE, SegmentFlags } from "../src/memory/layout.js";
import { createMap, type BpfMap, type MapDefinition, type MapEnv } from "../src/maps/index.js";

const EINVAL = -22;
const ENOENT = -2;
const EEXIST = -17;
const E2BIG = -7;

/** One address space for every run; each run's map is destroyed at its end. */
const mem = new AddressSpace({ maxBytes: 64 << 20 });
const scratch = mem.mapRegion("scratch", 4096, SegmentFlags.WRITABLE);
let live: BpfMap | undefined;

function setup(def: Omit<MapDefinition, "name">, numCpus = 1) {
  live?.destroy();
  const env: MapEnv = { mem, numCpus, cpu: 0, mapByHandle: () => undefined, now: () => 0n };
  const map = createMap({ name: "p", ...def }, env, MAP_HANDLE_BASE);
  live = map;
  const KEY = scratch.base;
  const VAL = scratch.base + 64;
  const putKey = (k: number): number => (mem.dv.setUint32(KEY, k, true), KEY);
  const putVal = (v: number): number => (mem.dv.setUint32(VAL, v, true), VAL);
  return { mem, env, map, putKey, putVal, VAL };
}

const key4 = (k: number): Uint8Array => new Uint8Array(new Uint32Array([k]).buffer);
const val4 = (v: number): Uint8Array => new Uint8Array(new Uint32Array([v]).buffer);
const num = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset).getUint32(0, true);

/** Host call result as a negative errno (0 on success). */
function hostErr(f: () => void): number {
  try {
    f();
    return 0;
  } catch (e) {
    if (!(e instanceof MapError)) throw e;
    return -({ EINVAL: 22, ENOENT: 2, EEXIST: 17, E2BIG: 7 } as Record<string, number>)[e.errno];
  }
}

type Op =
  | { op: "update"; key: number; value: number; flags: bigint; host: boolean }
  | { op: "lookup"; key: number; host: boolean }
  | { op: "delete"; key: number; host: boolean }
  | { op: "cpu"; cpu: number };

const opArb = (keys: number, cpus = 1): fc.Arbitrary<Op> =>
  fc.oneof(
    fc.record({
      op: fc.constant("update" as const),
      key: fc.nat(keys - 1),
      value: fc.nat(),
      flags: fc.constantFrom(0n, 0n, 1n, 2n, 3n, 4n),
      host: fc.boolean(),
    }),
    fc.record({ op: fc.constant("lookup" as const), key: fc.nat(keys - 1), host: fc.boolean() }),
    fc.record({ op: fc.constant("delete" as const), key: fc.nat(keys - 1), host: fc.boolean() }),
    fc.record({ op: fc.constant("cpu" as const), cpu: fc.nat(cpus - 1) }),
  );

/** Model of hash and LRU maps: insertion (or recency) order in a JS Map. */
function checkHashLike(type: number, ops: Op[], maxEntries: number, numCpus: number): void {
  const lru = type === 9 || type === 10;
  const percpu = type === 5 || type === 10;
  const { map, env, mem, putKey, putVal } = setup(
    { type, keySize: 4, valueSize: 4, maxEntries, flags: 0 },
    numCpus,
  );
  const model = new Map<number, number[]>();
  const touch = (k: number): void => {
    if (!lru) return;
    const v = model.get(k) as number[];
    model.delete(k);
    model.set(k, v);
  };
  for (const o of ops) {
    if (o.op === "cpu") {
      env.cpu = o.cpu;
      continue;
    }
    if (o.op === "update") {
      // a full LRU map evicts its least recently used entry before it checks key and flags
      // (a per-CPU LRU map not for BPF_EXIST, which never needs a new element)
      if (lru && o.flags <= 2n && model.size >= maxEntries && !(percpu && o.flags === 2n)) {
        model.delete(model.keys().next().value as number);
      }
      const exists = model.has(o.key);
      let want = 0;
      if (o.flags > 2n) want = EINVAL;
      else if (exists && o.flags === 1n) want = EEXIST;
      else if (!exists && o.flags === 2n) want = ENOENT;
      else if (!exists && model.size >= maxEntries && !lru) want = E2BIG;
      const got = o.host
        ? hostErr(() => {
            const v = new Uint8Array(percpu ? 8 * numCpus : 4);
            for (let c = 0; c < (percpu ? numCpus : 1); c++) v.set(val4(o.value + c), c * 8);
            map.update(key4(o.key), v, o.flags);
          })
        : map.updateElem(putKey(o.key), putVal(o.value), o.flags);
      expect(got).toBe(want);
      if (want === 0) {
        const old = model.get(o.key) ?? new Array<number>(numCpus).fill(0);
        const next = percpu
          ? o.host
            ? old.map((_, c) => (o.value + c) >>> 0)
            : old.map((v, c) => (c === env.cpu ? o.value : v))
          : [o.value];
        if (exists) {
          model.set(o.key, next);
          touch(o.key);
        } else {
          model.set(o.key, next);
        }
      }
    } else if (o.op === "lookup") {
      const want = model.get(o.key);
      if (o.host) {
        const got = map.lookup(key4(o.key));
        if (want === undefined) expect(got).toBeUndefined();
        else if (percpu)
          for (let c = 0; c < numCpus; c++) expect(num(got!.subarray(c * 8))).toBe(want[c]);
        else expect(num(got!)).toBe(want[0]);
      } else {
        const addr = map.lookupElem(putKey(o.key));
        if (want === undefined) expect(addr).toBe(0);
        else {
          expect(mem.dv.getUint32(addr, true)).toBe(want[percpu ? env.cpu : 0]);
          touch(o.key);
        }
      }
    } else {
      const want = model.has(o.key) ? 0 : ENOENT;
      const got = o.host ? hostErr(() => map.delete(key4(o.key))) : map.deleteElem(putKey(o.key));
      expect(got).toBe(want);
      model.delete(o.key);
    }
  }
  expect([...map.keys()].map(num)).toEqual([...model.keys()]);
}

/** Model of array maps. */
function checkArray(ops: Op[], maxEntries: number): void {
  const { map, mem, putKey, putVal } = setup({
    type: 2,
    keySize: 4,
    valueSize: 4,
    maxEntries,
    flags: 0,
  });
  const model = new Array<number>(maxEntries).fill(0);
  for (const o of ops) {
    if (o.op === "update") {
      let want = 0;
      if ((o.flags & ~4n) > 2n) want = EINVAL;
      else if (o.key >= maxEntries) want = E2BIG;
      else if (o.flags & 1n) want = EEXIST;
      else if (o.flags & 4n) want = EINVAL;
      const got = o.host
        ? hostErr(() => map.update(key4(o.key), val4(o.value), o.flags))
        : map.updateElem(putKey(o.key), putVal(o.value), o.flags);
      expect(got).toBe(want);
      if (want === 0) model[o.key] = o.value;
    } else if (o.op === "lookup") {
      if (o.host) {
        const got = map.lookup(key4(o.key));
        if (o.key >= maxEntries) expect(got).toBeUndefined();
        else expect(num(got!)).toBe(model[o.key]);
      } else {
        const addr = map.lookupElem(putKey(o.key));
        if (o.key >= maxEntries) expect(addr).toBe(0);
        else expect(mem.dv.getUint32(addr, true)).toBe(model[o.key]);
      }
    } else if (o.op === "delete") {
      const got = o.host ? hostErr(() => map.delete(key4(o.key))) : map.deleteElem(putKey(o.key));
      expect(got).toBe(EINVAL);
    }
  }
}

type QOp =
  | { op: "push"; value: number; flags: bigint; host: boolean }
  | { op: "pop" | "peek"; host: boolean };

/** Model of queue and stack maps. */
function checkQueueStack(type: number, ops: QOp[], maxEntries: number): void {
  const { map, mem, putVal, VAL } = setup({ type, keySize: 0, valueSize: 4, maxEntries, flags: 0 });
  const qs = map as BpfMap & {
    push(v: Uint8Array, f?: bigint): void;
    pop(): Uint8Array | undefined;
  };
  const model: number[] = [];
  const lifo = type === 23;
  for (const o of ops) {
    if (o.op === "push") {
      let want = 0;
      if (o.flags & 1n || o.flags > 2n) want = EINVAL;
      else if (model.length >= maxEntries && !(o.flags & 2n)) want = E2BIG;
      const got = o.host
        ? hostErr(() => qs.push(val4(o.value), o.flags))
        : map.pushElem(putVal(o.value), o.flags);
      expect(got).toBe(want);
      if (want === 0) {
        if (model.length >= maxEntries) model.shift();
        model.push(o.value);
      }
    } else {
      const want = lifo ? model[model.length - 1] : model[0];
      if (o.op === "pop" && model.length > 0) {
        if (lifo) model.pop();
        else model.shift();
      }
      if (o.host) {
        const got = o.op === "pop" ? qs.pop() : map.lookup(new Uint8Array(0));
        expect(got === undefined ? undefined : num(got)).toBe(want);
      } else {
        const ret = o.op === "pop" ? map.popElem(VAL) : map.peekElem(VAL);
        expect(ret).toBe(want === undefined ? ENOENT : 0);
        expect(mem.dv.getUint32(VAL, true)).toBe(want ?? 0);
      }
    }
  }
}

const RUNS = { numRuns: 1000 };

describe("maps against models (fast-check)", () => {
  it("hash", () => {
    fc.assert(
      fc.property(fc.array(opArb(8), { maxLength: 80 }), (ops) => checkHashLike(1, ops, 4, 1)),
      RUNS,
    );
  });
  it("per-CPU hash", () => {
    fc.assert(
      fc.property(fc.array(opArb(6, 3), { maxLength: 80 }), (ops) => checkHashLike(5, ops, 4, 3)),
      RUNS,
    );
  });
  it("LRU hash", () => {
    fc.assert(
      fc.property(fc.array(opArb(8), { maxLength: 80 }), (ops) => checkHashLike(9, ops, 4, 1)),
      RUNS,
    );
  });
  it("LRU per-CPU hash", () => {
    fc.assert(
      fc.property(fc.array(opArb(6, 2), { maxLength: 80 }), (ops) => checkHashLike(10, ops, 3, 2)),
      RUNS,
    );
  });
  it("array", () => {
    fc.assert(
      fc.property(fc.array(opArb(6), { maxLength: 80 }), (ops) => checkArray(ops, 4)),
      RUNS,
    );
  });
  const qop: fc.Arbitrary<QOp> = fc.oneof(
    fc.record({
      op: fc.constant("push" as const),
      value: fc.nat(),
      flags: fc.constantFrom(0n, 0n, 1n, 2n, 3n),
      host: fc.boolean(),
    }),
    fc.record({ op: fc.constantFrom("pop" as const, "peek" as const), host: fc.boolean() }),
  );
  it("queue", () => {
    fc.assert(
      fc.property(fc.array(qop, { maxLength: 80 }), (ops) => checkQueueStack(22, ops, 3)),
      RUNS,
    );
  });
  it("stack", () => {
    fc.assert(
      fc.property(fc.array(qop, { maxLength: 80 }), (ops) => checkQueueStack(23, ops, 3)),
      RUNS,
    );
  });
});
