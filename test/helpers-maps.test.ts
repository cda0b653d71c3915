import { describe, expect, it } from "vitest";
import { BPF_FUNC as F } from "../src/helpers/index.js";
import { HelperError, MemoryAccessError } from "../src/errors.js";
import type { ArrayOfMapsMap } from "../src/maps/index.js";
import { Bench, le32, le64 } from "./helpers-harness.js";

const HASH = 1;
const ARRAY = 2;
const PROG_ARRAY = 3;
const ARRAY_OF_MAPS = 12;
const QUEUE = 22;
const STACK = 23;
const RINGBUF = 27;
const BLOOM = 30;
const RDONLY_PROG = 0x80;

describe("bpf_map_lookup/update/delete_elem", () => {
  it("round-trips a hash entry with the kernel's return values", () => {
    const b = new Bench();
    const map = b.map({ type: HASH, keySize: 4, valueSize: 8, maxEntries: 2 });
    const key = b.region(4, le32(7));
    const val = b.region(8, le64(0x1122334455667788n));
    expect(b.call(F.map_lookup_elem, map.handle, key)).toBe(0n);
    expect(b.int(F.map_update_elem, map.handle, key, val, 0)).toBe(0);
    const addr = b.call(F.map_lookup_elem, map.handle, key);
    expect(addr).not.toBe(0n);
    expect(b.read(Number(addr), 8)).toEqual(le64(0x1122334455667788n));
    // writes through the returned pointer are seen by the host
    b.write(Number(addr), le64(5n));
    expect(Array.from(map.lookup(Uint8Array.from(le32(7))) ?? [])).toEqual(le64(5n));
    // BPF_NOEXIST on an existing key: -EEXIST, sign-extended to 64 bits
    expect(b.call(F.map_update_elem, map.handle, key, val, 1)).toBe(BigInt.asUintN(64, -17n));
    expect(b.int(F.map_update_elem, map.handle, key, val, 1)).toBe(-17);
    // a third key in a 2-entry map
    b.write(key, le32(8));
    expect(b.int(F.map_update_elem, map.handle, key, val, 0)).toBe(0);
    b.write(key, le32(9));
    expect(b.int(F.map_update_elem, map.handle, key, val, 0)).toBe(-7); // -E2BIG
    expect(b.int(F.map_update_elem, map.handle, key, val, 2)).toBe(-2); // BPF_EXIST: -ENOENT
    expect(b.int(F.map_update_elem, map.handle, key, val, 1n << 32n)).toBe(-22); // flags: -EINVAL
    expect(b.int(F.map_delete_elem, map.handle, key)).toBe(-2);
    b.write(key, le32(7));
    expect(b.int(F.map_delete_elem, map.handle, key)).toBe(0);
    expect(b.call(F.map_lookup_elem, map.handle, key)).toBe(0n);
  });

  it("looks up array elements and refuses to delete them", () => {
    const b = new Bench();
    const map = b.map({ type: ARRAY, keySize: 4, valueSize: 4, maxEntries: 3 });
    const key = b.region(4, le32(2));
    const a2 = b.call(F.map_lookup_elem, map.handle, key);
    b.write(key, le32(0));
    const a0 = b.call(F.map_lookup_elem, map.handle, key);
    expect(a2 - a0).toBe(16n); // round_up(4, 8) bytes apart
    b.write(key, le32(3));
    expect(b.call(F.map_lookup_elem, map.handle, key)).toBe(0n);
    expect(b.int(F.map_delete_elem, map.handle, key)).toBe(-22);
  });

  it("checks key and value pointers for the map's sizes", () => {
    const b = new Bench();
    const map = b.map({ type: HASH, keySize: 8, valueSize: 16 });
    const short = b.region(4);
    const val = b.region(16);
    expect(() => b.call(F.map_lookup_elem, map.handle, short)).toThrow(MemoryAccessError);
    expect(() => b.call(F.map_lookup_elem, map.handle, short)).toThrow(/pc 7.*r2 \(key\)/);
    const key = b.region(8);
    const ro = b.region(16, undefined, true);
    expect(b.int(F.map_update_elem, map.handle, key, ro, 0)).toBe(0); // value only read
    expect(() => b.call(F.map_update_elem, map.handle, key, short, 0)).toThrow(/r3 \(value\)/);
    expect(() => b.call(F.map_update_elem, map.handle, key, val + 8, 0)).toThrow(MemoryAccessError);
    expect(() => b.call(F.map_lookup_elem, map.handle, 0)).toThrow(MemoryAccessError);
    expect(() => b.call(F.map_lookup_elem, map.handle, BigInt(key) + (1n << 32n))).toThrow(
      MemoryAccessError,
    );
  });

  it("names the helper when r1 is not a usable map", () => {
    const b = new Bench();
    const key = b.region(4);
    expect(() => b.call(F.map_lookup_elem, 0x1230, key)).toThrow(HelperError);
    expect(() => b.call(F.map_lookup_elem, 0x1230, key)).toThrow(
      /pc 7: bpf_map_lookup_elem: r1 \(0x1230\) is not a map pointer/,
    );
    const arr = b.map({ type: ARRAY });
    expect(() => b.call(F.map_lookup_elem, BigInt(arr.handle) | (1n << 40n), key)).toThrow(
      HelperError,
    );
    for (const type of [PROG_ARRAY, QUEUE, RINGBUF, BLOOM]) {
      const def =
        type === RINGBUF
          ? { type, keySize: 0, valueSize: 0, maxEntries: 4096 }
          : type === QUEUE || type === BLOOM
            ? { type, keySize: 0, valueSize: 4 }
            : { type, keySize: 4, valueSize: 4 };
      const m = b.map(def);
      expect(() => b.call(F.map_lookup_elem, m.handle, key)).toThrow(/verifier refuses/);
      expect(() => b.call(F.map_update_elem, m.handle, key, key, 0)).toThrow(HelperError);
    }
  });

  it("returns -EPERM for program writes to BPF_F_RDONLY_PROG maps", () => {
    const b = new Bench();
    const map = b.map({ type: ARRAY, keySize: 4, valueSize: 4, flags: RDONLY_PROG });
    const key = b.region(4, le32(1));
    const val = b.region(4, le32(9));
    expect(b.int(F.map_update_elem, map.handle, key, val, 0)).toBe(-1);
    expect(b.int(F.map_delete_elem, map.handle, key)).toBe(-1);
    const addr = Number(b.call(F.map_lookup_elem, map.handle, key));
    expect(addr).not.toBe(0);
    const q = b.map({ type: QUEUE, keySize: 0, valueSize: 4, flags: RDONLY_PROG });
    expect(b.int(F.map_push_elem, q.handle, val, 0)).toBe(-1);
    expect(b.int(F.map_pop_elem, q.handle, val)).toBe(-1);
  });

  it("returns the inner map's handle from a map of maps", () => {
    const b = new Bench();
    const innerDef = {
      name: "inner",
      type: ARRAY,
      keySize: 4,
      valueSize: 4,
      maxEntries: 2,
      flags: 0,
    };
    const outer = b.map({ type: ARRAY_OF_MAPS, keySize: 4, valueSize: 4, innerMap: innerDef });
    const inner = b.map(innerDef);
    (outer as ArrayOfMapsMap).setInner(1, inner);
    const key = b.region(4, le32(1));
    expect(b.call(F.map_lookup_elem, outer.handle, key)).toBe(BigInt(inner.handle));
    b.write(key, le32(0));
    expect(b.call(F.map_lookup_elem, outer.handle, key)).toBe(0n);
    // the handle works as a map pointer; maps of maps cannot be updated by programs
    expect(b.call(F.map_lookup_elem, inner.handle, key)).not.toBe(0n);
    expect(() => b.call(F.map_update_elem, outer.handle, key, key, 0)).toThrow(HelperError);
  });
});

describe("bpf_map_push/pop/peek_elem", () => {
  it("pushes, peeks and pops a queue and a stack", () => {
    const b = new Bench();
    const q = b.map({ type: QUEUE, keySize: 0, valueSize: 4, maxEntries: 2 });
    const s = b.map({ type: STACK, keySize: 0, valueSize: 4, maxEntries: 2 });
    const v = b.region(4);
    for (const m of [q, s]) {
      for (const x of [1, 2]) {
        b.write(v, le32(x));
        expect(b.int(F.map_push_elem, m.handle, v, 0)).toBe(0);
      }
      expect(b.int(F.map_push_elem, m.handle, v, 0)).toBe(-7); // full: -E2BIG
      expect(b.int(F.map_peek_elem, m.handle, v)).toBe(0);
      expect(b.read(v, 4)).toEqual(le32(m === q ? 1 : 2));
      expect(b.int(F.map_pop_elem, m.handle, v)).toBe(0);
      expect(b.int(F.map_pop_elem, m.handle, v)).toBe(0);
      expect(b.read(v, 4)).toEqual(le32(m === q ? 2 : 1));
      expect(b.int(F.map_pop_elem, m.handle, v)).toBe(-2);
      expect(b.read(v, 4)).toEqual([0, 0, 0, 0]);
    }
    const ro = b.region(4, undefined, true);
    expect(() => b.call(F.map_pop_elem, q.handle, ro)).toThrow(/r2 \(value\)/);
    expect(() => b.call(F.map_pop_elem, b.map({ type: ARRAY }).handle, v)).toThrow(HelperError);
  });

  it("peeks a bloom filter with a read-only value", () => {
    const b = new Bench();
    const bloom = b.map({ type: BLOOM, keySize: 0, valueSize: 4, maxEntries: 16 });
    const v = b.region(4, le32(77), true);
    expect(b.int(F.map_peek_elem, bloom.handle, v)).toBe(-2);
    expect(b.int(F.map_push_elem, bloom.handle, v, 0)).toBe(0);
    expect(b.int(F.map_peek_elem, bloom.handle, v)).toBe(0);
    expect(() => b.call(F.map_pop_elem, bloom.handle, v)).toThrow(HelperError);
  });
});
