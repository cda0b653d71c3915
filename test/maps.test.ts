import { describe, expect, it } from "vitest";
import { setup } from "./maps-harness.js";
import { MapError } from "../src/errors.js";
import {
  ArrayMap,
  BPF_ANY,
  BPF_EXIST,
  BPF_F_LOCK,
  BPF_F_NO_COMMON_LRU,
  BPF_F_NO_PREALLOC,
  BPF_F_RDONLY,
  BPF_F_RDONLY_PROG,
  BPF_F_WRONLY,
  BPF_NOEXIST,
  HashMap,
  LruHashMap,
  hostValueSize,
  type MapDefinition,
} from "../src/maps/index.js";

const u32le = (v: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
};
const u64le = (v: bigint): Uint8Array => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v, true);
  return b;
};

/** The errno name of a thrown MapError. */
function errnoOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof MapError) return e.errno;
    throw e;
  }
  return "none";
}

describe("createMap validation", () => {
  const cases: [string, Partial<MapDefinition> & { type: number }, string, RegExp?][] = [
    ["hash key size 0", { type: 1, keySize: 0 }, "EINVAL", /map "m": key size 0: EINVAL/],
    ["hash value size 0", { type: 1, valueSize: 0 }, "EINVAL", /value size 0/],
    ["hash max_entries 0", { type: 1, maxEntries: 0 }, "EINVAL", /max_entries 0/],
    ["hash bad flag", { type: 1, flags: 0x400 }, "EINVAL", /flags 0x400 not allowed/],
    ["hash NO_COMMON_LRU", { type: 1, flags: BPF_F_NO_COMMON_LRU }, "EINVAL"],
    ["hash map_extra", { type: 1, mapExtra: 3 }, "EINVAL", /map_extra/],
    ["hash too big", { type: 1, keySize: 4 << 20 }, "E2BIG"],
    ["hash > 2^31 entries", { type: 1, maxEntries: 2 ** 31 + 1 }, "E2BIG"],
    ["lru without prealloc", { type: 9, flags: BPF_F_NO_PREALLOC }, "ENOTSUPP"],
    ["percpu value too big", { type: 5, valueSize: 32769 }, "E2BIG"],
    ["rdonly and wronly", { type: 1, flags: BPF_F_RDONLY | BPF_F_WRONLY }, "EINVAL"],
    ["array key 8", { type: 2, keySize: 8 }, "EINVAL", /key size 8/],
    ["percpu array mmapable", { type: 6, flags: 0x400 }, "EINVAL"],
    ["prog_array value 8", { type: 3, valueSize: 8 }, "EINVAL", /value size 8 \(must be 4\)/],
    ["prog_array rdonly_prog", { type: 3, flags: BPF_F_RDONLY_PROG }, "EINVAL"],
    ["lpm without NO_PREALLOC", { type: 11, keySize: 8 }, "EINVAL", /BPF_F_NO_PREALLOC/],
    ["lpm key 4", { type: 11, keySize: 4, flags: BPF_F_NO_PREALLOC }, "EINVAL", /key size 4/],
    ["queue key 4", { type: 22, keySize: 4 }, "EINVAL"],
    ["stack value 0", { type: 23, keySize: 0, valueSize: 0 }, "EINVAL"],
    ["ringbuf not pow2", { type: 27, keySize: 0, valueSize: 0, maxEntries: 12288 }, "EINVAL"],
    ["ringbuf not page", { type: 27, keySize: 0, valueSize: 0, maxEntries: 1024 }, "EINVAL"],
    ["ringbuf key", { type: 27, keySize: 4, valueSize: 0, maxEntries: 4096 }, "EINVAL"],
    ["bloom key 4", { type: 30, keySize: 4 }, "EINVAL"],
    ["bloom map_extra 16", { type: 30, keySize: 0, mapExtra: 16 }, "EINVAL"],
    ["array_of_maps without inner", { type: 12 }, "EBADF"],
    [
      "inner prog_array",
      {
        type: 12,
        innerMap: { name: "i", type: 3, keySize: 4, valueSize: 4, maxEntries: 1, flags: 0 },
      },
      "ENOTSUPP",
    ],
    [
      "inner map of maps",
      {
        type: 13,
        innerMap: { name: "i", type: 12, keySize: 4, valueSize: 4, maxEntries: 1, flags: 0 },
      },
      "EINVAL",
    ],
    ["sockmap", { type: 15 }, "ENOTSUPP", /map type 15 \(BPF_MAP_TYPE_SOCKMAP\) is not supported/],
    ["unknown type", { type: 99 }, "EINVAL", /map type 99 is unknown/],
  ];
  for (const [what, def, errno, msg] of cases) {
    it(what, () => {
      const { create } = setup();
      let err: unknown;
      try {
        create(def);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(MapError);
      expect((err as MapError).errno).toBe(errno);
      if (msg) expect((err as MapError).message).toMatch(msg);
    });
  }

  it("accepts the kernel's valid definitions", () => {
    const { create } = setup(2);
    create({ type: 1, flags: BPF_F_NO_PREALLOC | BPF_F_RDONLY_PROG });
    create({ type: 9, flags: BPF_F_NO_COMMON_LRU });
    create({ type: 11, keySize: 8, flags: BPF_F_NO_PREALLOC });
    create({ type: 27, keySize: 0, valueSize: 0, maxEntries: 4096 });
    create({ type: 30, keySize: 0, mapExtra: 3 });
    create({ type: 4, flags: 0x800 });
    create({ type: 2, flags: 0x1000 | 0x400 });
  });

  it("hostValueSize follows bpf_map_value_size", () => {
    const def = { name: "x", type: 6, keySize: 4, valueSize: 12, maxEntries: 1, flags: 0 };
    expect(hostValueSize(def, 3)).toBe(48);
    expect(hostValueSize({ ...def, type: 2 }, 3)).toBe(12);
    expect(hostValueSize({ ...def, type: 13, valueSize: 4 }, 3)).toBe(4);
  });
});

describe("hash map", () => {
  it("honours BPF_ANY / NOEXIST / EXIST with the kernel's errnos", () => {
    const { create, put, KEY, VAL } = setup();
    const m = create({ type: 1, maxEntries: 2 });
    const k = put(u32le(7), KEY);
    const v = put(u32le(100), VAL);
    expect(m.updateElem(k, v, BPF_EXIST)).toBe(-2);
    expect(m.updateElem(k, v, BPF_NOEXIST)).toBe(0);
    expect(m.updateElem(k, v, BPF_NOEXIST)).toBe(-17);
    expect(m.updateElem(k, v, BPF_EXIST)).toBe(0);
    expect(m.updateElem(k, v, BPF_ANY)).toBe(0);
    expect(m.updateElem(k, v, 3n)).toBe(-22);
    expect(m.updateElem(k, v, BPF_F_LOCK)).toBe(-22); // no bpf_spin_lock in the value
    expect(m.updateElem(k, v, -1n)).toBe(-22); // u64 all-ones
    expect(m.updateElem(k, v, 1n << 63n)).toBe(-22);
  });

  it("returns -E2BIG for a new key in a full map, but replaces existing keys", () => {
    const { create, put, KEY, VAL } = setup();
    const m = create({ type: 1, maxEntries: 2 });
    const v = put(u32le(1), VAL);
    expect(m.updateElem(put(u32le(1), KEY), v, BPF_ANY)).toBe(0);
    expect(m.updateElem(put(u32le(2), KEY), v, BPF_ANY)).toBe(0);
    expect(m.updateElem(put(u32le(3), KEY), v, BPF_ANY)).toBe(-7);
    expect(m.updateElem(put(u32le(2), KEY), v, BPF_ANY)).toBe(0);
    expect(m.deleteElem(put(u32le(1), KEY))).toBe(0);
    expect(m.deleteElem(put(u32le(1), KEY))).toBe(-2);
    expect(m.updateElem(put(u32le(3), KEY), v, BPF_ANY)).toBe(0);
  });

  it("gives addressable values whose writes the host sees, until deleted", () => {
    const { create, put, mem, KEY, VAL } = setup();
    const m = create<HashMap>({ type: 1, keySize: 8, valueSize: 12 });
    const k = put(u64le(0x1122334455667788n), KEY);
    expect(m.lookupElem(k)).toBe(0);
    expect(m.updateElem(k, put(new Uint8Array(12).fill(1), VAL), BPF_ANY)).toBe(0);
    const addr = m.lookupElem(k);
    expect(addr).toBeGreaterThan(0);
    expect(mem.checkSlot(addr, 12, true, null)).toBe(true);
    expect(mem.checkSlot(addr + 8, 8, false, null)).toBe(false); // past value_size
    mem.u8[addr + 3] = 0xab;
    mem.dv.setUint32(addr + 8, 0xdeadbeef, true);
    const host = m.lookup(u64le(0x1122334455667788n));
    expect(host?.[3]).toBe(0xab);
    expect(new DataView(host!.buffer).getUint32(8, true)).toBe(0xdeadbeef);
    // An update links a new element, as Linux does; the replaced one becomes the spare the
    // next replacement takes (Linux's extra_elems), its bytes readable until then.
    expect(m.updateElem(k, put(new Uint8Array(12).fill(9), VAL), BPF_EXIST)).toBe(0);
    const addr2 = m.lookupElem(k);
    expect(addr2).not.toBe(addr);
    expect(mem.u8[addr2 + 3]).toBe(9);
    expect(mem.u8[addr + 3]).toBe(0xab);
    expect(m.updateElem(k, put(new Uint8Array(12).fill(7), VAL), BPF_EXIST)).toBe(0);
    expect(m.lookupElem(k)).toBe(addr);
    expect(mem.u8[addr + 3]).toBe(7);
    // A deleted element goes back on the free list, still readable (preallocated memory).
    expect(m.deleteElem(k)).toBe(0);
    expect(mem.checkSlot(addr, 1, false, null)).toBe(true);
    expect(m.lookup(u64le(0x1122334455667788n))).toBeUndefined();
  });

  it("BPF_F_NO_PREALLOC: a replacement takes its element from the free list", () => {
    const { create, put, mem, KEY, VAL } = setup();
    const m = create<HashMap>({ type: 1, valueSize: 8, flags: 1 });
    const k = put(u32le(1), KEY);
    expect(m.updateElem(k, put(new Uint8Array(8).fill(1), VAL), BPF_ANY)).toBe(0);
    const addr = m.lookupElem(k);
    expect(m.updateElem(k, put(new Uint8Array(8).fill(2), VAL), BPF_ANY)).toBe(0);
    const addr2 = m.lookupElem(k);
    expect(addr2).not.toBe(addr);
    // the replaced element went back on the free list first: the next replacement takes it
    expect(mem.checkSlot(addr, 1, false, null)).toBe(true);
    expect(m.updateElem(k, put(new Uint8Array(8).fill(3), VAL), BPF_ANY)).toBe(0);
    expect(m.lookupElem(k)).toBe(addr);
    expect(mem.u8[addr]).toBe(3);
  });

  it("reuses freed slots", () => {
    const { create, put, mem, KEY, VAL } = setup();
    const m = create({ type: 1, valueSize: 8 });
    const v = put(new Uint8Array(8).fill(5), VAL);
    m.updateElem(put(u32le(1), KEY), v, BPF_ANY);
    const a1 = m.lookupElem(put(u32le(1), KEY));
    m.deleteElem(put(u32le(1), KEY));
    m.update(u32le(2), new Uint8Array(8).fill(6));
    expect(m.lookupElem(put(u32le(2), KEY))).toBe(a1);
    expect(mem.checkSlot(a1, 8, true, null)).toBe(true);
    expect(m.lookup(u32le(2))).toEqual(new Uint8Array(8).fill(6));
  });

  it("host API: sizes, errors, iteration in insertion order", () => {
    const { create } = setup();
    const m = create({ type: 1, keySize: 3, valueSize: 2, maxEntries: 3 });
    m.update(Uint8Array.of(1, 2, 3), Uint8Array.of(9, 9));
    m.update(Uint8Array.of(0, 0, 1), Uint8Array.of(8, 8));
    m.update(Uint8Array.of(1, 2, 3), Uint8Array.of(7, 7)); // keeps its place
    expect([...m.keys()].map((k) => [...k])).toEqual([
      [1, 2, 3],
      [0, 0, 1],
    ]);
    expect(m.lookup(Uint8Array.of(1, 2, 3))).toEqual(Uint8Array.of(7, 7));
    expect(errnoOf(() => m.update(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 1), BPF_NOEXIST))).toBe(
      "EEXIST",
    );
    expect(errnoOf(() => m.update(Uint8Array.of(5, 5, 5), Uint8Array.of(1, 1), BPF_EXIST))).toBe(
      "ENOENT",
    );
    expect(errnoOf(() => m.delete(Uint8Array.of(5, 5, 5)))).toBe("ENOENT");
    expect(errnoOf(() => m.update(Uint8Array.of(1, 2), Uint8Array.of(1, 1)))).toBe("EINVAL");
    m.update(Uint8Array.of(4, 4, 4), Uint8Array.of(1, 1));
    expect(errnoOf(() => m.update(Uint8Array.of(6, 6, 6), Uint8Array.of(1, 1)))).toBe("E2BIG");
    expect(() => m.update(Uint8Array.of(6, 6, 6), Uint8Array.of(1, 1))).toThrow(
      'map "m": update: E2BIG',
    );
  });

  it("BPF_F_RDONLY_PROG: values are not writable by programs, helpers refuse", () => {
    const { create, put, mem, KEY, VAL } = setup();
    const m = create({ type: 1, flags: BPF_F_RDONLY_PROG });
    m.update(u32le(1), u32le(5));
    const addr = m.lookupElem(put(u32le(1), KEY));
    expect(mem.checkSlot(addr, 4, false, null)).toBe(true);
    expect(mem.checkSlot(addr, 4, true, null)).toBe(false);
    expect(m.updateElem(put(u32le(1), KEY), put(u32le(1), VAL), BPF_ANY)).toBe(-1);
    expect(m.deleteElem(put(u32le(1), KEY))).toBe(-1);
  });

  it("BPF_F_RDONLY / BPF_F_WRONLY restrict the host side; freeze ends host writes", () => {
    const { create } = setup();
    const ro = create({ type: 1, flags: BPF_F_RDONLY });
    expect(errnoOf(() => ro.update(u32le(1), u32le(1)))).toBe("EPERM");
    const wo = create({ type: 1, flags: BPF_F_WRONLY });
    wo.update(u32le(1), u32le(1));
    expect(errnoOf(() => wo.lookup(u32le(1)))).toBe("EPERM");
    const h = create<HashMap>({ type: 1 });
    h.freeze();
    expect(errnoOf(() => h.update(u32le(1), u32le(1)))).toBe("EPERM");
  });

  it("uses memory proportional to what it holds", () => {
    const { create, mem } = setup();
    const before = mem.heapBytes;
    const m = create({ type: 1, keySize: 16, valueSize: 64, maxEntries: 524288 });
    const lru = create({ type: 9, keySize: 16, valueSize: 64, maxEntries: 524288 });
    for (let i = 0; i < 3; i++) {
      m.update(new Uint8Array(16).fill(i), new Uint8Array(64).fill(i));
      lru.update(new Uint8Array(16).fill(i), new Uint8Array(64).fill(i));
    }
    expect(mem.heapBytes - before).toBeLessThan(1 << 20);
    // per map a page of values and a page of element records; descriptors and host scratch
    // share a page each
    expect(mem.heapBytes - before).toBeLessThanOrEqual(6 * 4096);
  });

  it("grows geometrically and stays addressable across growth", () => {
    const { create, put, mem, KEY } = setup();
    const m = create<HashMap>({ type: 1, valueSize: 40, maxEntries: 5000 });
    for (let i = 0; i < 5000; i++) m.update(u32le(i), new Uint8Array(40).fill(i & 0xff));
    expect(m.count).toBe(5000);
    expect(errnoOf(() => m.update(u32le(5000), new Uint8Array(40)))).toBe("E2BIG");
    for (const i of [0, 99, 2048, 4999]) {
      const addr = m.lookupElem(put(u32le(i), KEY));
      expect(mem.checkSlot(addr, 40, true, null)).toBe(true);
      expect(mem.u8[addr + 39]).toBe(i & 0xff);
    }
  });
});

describe("per-CPU hash map", () => {
  it("programs see env.cpu's value; the host sees all CPUs padded to 8 bytes", () => {
    const { create, put, env, mem, KEY, VAL } = setup(3);
    const m = create<HashMap>({ type: 5, valueSize: 4 });
    expect(m.hostValueSize).toBe(24);
    const k = put(u32le(1), KEY);
    env.cpu = 1;
    expect(m.updateElem(k, put(u32le(0xaabbccdd), VAL), BPF_ANY)).toBe(0);
    const host = m.lookup(u32le(1))!;
    expect(host.length).toBe(24);
    const dv = new DataView(host.buffer);
    expect([dv.getUint32(0, true), dv.getUint32(8, true), dv.getUint32(16, true)]).toEqual([
      0, 0xaabbccdd, 0,
    ]);
    const a1 = m.lookupElem(k);
    env.cpu = 2;
    const a2 = m.lookupElem(k);
    expect(a2 - a1).toBe(8);
    mem.dv.setUint32(a2, 77, true);
    expect(new DataView(m.lookup(u32le(1))!.buffer).getUint32(16, true)).toBe(77);
    // A program update on an existing key writes only its CPU's value.
    env.cpu = 0;
    m.updateElem(k, put(u32le(5), VAL), BPF_EXIST);
    const all = new DataView(m.lookup(u32le(1))!.buffer);
    expect([all.getUint32(0, true), all.getUint32(8, true), all.getUint32(16, true)]).toEqual([
      5, 0xaabbccdd, 77,
    ]);
    // The host writes every CPU's value.
    const v = new Uint8Array(24);
    v[0] = 1;
    v[8] = 2;
    v[16] = 3;
    m.update(u32le(2), v);
    env.cpu = 2;
    expect(mem.u8[m.lookupElem(put(u32le(2), KEY))]).toBe(3);
    expect(errnoOf(() => m.update(u32le(3), new Uint8Array(4)))).toBe("EINVAL");
    // A deleted entry's values stay readable (preallocated memory) until an insert takes them.
    m.delete(u32le(1));
    expect(mem.checkSlot(a1, 4, false, null)).toBe(true);
    expect(mem.checkSlot(a2, 4, false, null)).toBe(true);
    m.update(u32le(9), v);
    expect(m.lookupElem(put(u32le(9), KEY))).toBe(a2);
  });
});

describe("LRU hash map", () => {
  it("evicts the least recently used entry (program lookups and updates count)", () => {
    const { create, put, KEY, VAL } = setup();
    const m = create<LruHashMap>({ type: 9, maxEntries: 3 });
    const v = put(u32le(0), VAL);
    for (const k of [1, 2, 3]) expect(m.updateElem(put(u32le(k), KEY), v, BPF_ANY)).toBe(0);
    expect(m.lookupElem(put(u32le(1), KEY))).not.toBe(0); // 1 is now most recent
    expect(m.updateElem(put(u32le(4), KEY), v, BPF_ANY)).toBe(0); // evicts 2
    expect(m.lookup(u32le(2))).toBeUndefined();
    // full: an update evicts the oldest (3 itself) before it checks the flags, as in Linux
    expect(m.updateElem(put(u32le(3), KEY), v, BPF_EXIST)).toBe(-2);
    m.lookup(u32le(1)); // host lookups do not count
    expect(m.updateElem(put(u32le(5), KEY), v, BPF_NOEXIST)).toBe(0); // room: no eviction
    expect([...m.keys()].map((k) => k[0])).toEqual([1, 4, 5]);
    m.update(u32le(6), u32le(0)); // host update inserts, evicting 1
    expect([...m.keys()].map((k) => k[0])).toEqual([4, 5, 6]);
    expect(m.count).toBe(3);
  });

  it("an update whose value is the evicted entry's value still copies it", () => {
    const { create, put, mem, KEY } = setup(2);
    const m = create({ type: 10, maxEntries: 2 });
    m.update(u32le(1), Uint8Array.of(1, 1, 1, 1, 0, 0, 0, 0, 2, 2, 2, 2, 0, 0, 0, 0));
    m.update(u32le(2), new Uint8Array(16));
    const old = m.lookupElem(put(u32le(1), KEY)); // CPU 0's value of key 1
    m.lookupElem(put(u32le(2), KEY)); // key 1 is now least recently used
    expect(m.updateElem(put(u32le(3), KEY), old + 8, BPF_ANY)).toBe(0); // CPU 1's bytes
    expect(m.lookup(u32le(1))).toBeUndefined();
    expect([...m.lookup(u32le(3))!]).toEqual([2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    // as in Linux, the evicted element is reused at once: the slot now holds key 3
    expect(mem.checkSlot(old, 4, false, null)).toBe(true);
  });

  it("evicts before it checks key and flags when full, as Linux does", () => {
    const { create, put, KEY, VAL } = setup();
    const m = create({ type: 9, maxEntries: 2 });
    const v = put(u32le(0), VAL);
    m.updateElem(put(u32le(1), KEY), v, BPF_ANY);
    m.updateElem(put(u32le(2), KEY), v, BPF_ANY);
    // BPF_NOEXIST on the oldest key: the eviction removes it, then the insert succeeds
    expect(m.updateElem(put(u32le(1), KEY), v, BPF_NOEXIST)).toBe(0);
    expect([...m.keys()].map((k) => k[0])).toEqual([2, 1]);
    // a failed BPF_EXIST update still evicted the oldest entry
    expect(m.updateElem(put(u32le(9), KEY), v, BPF_EXIST)).toBe(-2);
    expect([...m.keys()].map((k) => k[0])).toEqual([1]);
    // unknown flags are refused before anything else
    expect(m.updateElem(put(u32le(9), KEY), v, BPF_F_LOCK)).toBe(-22);
    expect(m.updateElem(put(u32le(2), KEY), v, BPF_ANY)).toBe(0);
    expect([...m.keys()].map((k) => k[0])).toEqual([1, 2]);
  });

  it("per-CPU LRU; BPF_F_NO_COMMON_LRU rounds capacity to the CPUs", () => {
    const { create, env, put, KEY, VAL } = setup(4);
    const m = create<LruHashMap>({ type: 10, maxEntries: 5, flags: BPF_F_NO_COMMON_LRU });
    expect(m.capacity).toBe(8);
    env.cpu = 3;
    m.updateElem(put(u32le(1), KEY), put(u32le(42), VAL), BPF_ANY);
    const host = m.lookup(u32le(1))!;
    expect(host.length).toBe(32);
    expect(host[24]).toBe(42);
  });
});

describe("array map", () => {
  it("flags, bounds and errnos", () => {
    const { create, put, KEY, VAL } = setup();
    const m = create({ type: 2, valueSize: 4, maxEntries: 4 });
    const v = put(u32le(1), VAL);
    expect(m.lookupElem(put(u32le(4), KEY))).toBe(0);
    expect(m.lookupElem(put(u32le(0xffffffff), KEY))).toBe(0);
    expect(m.updateElem(put(u32le(4), KEY), v, BPF_ANY)).toBe(-7);
    expect(m.updateElem(put(u32le(3), KEY), v, BPF_NOEXIST)).toBe(-17);
    expect(m.updateElem(put(u32le(3), KEY), v, BPF_EXIST)).toBe(0);
    expect(m.updateElem(put(u32le(3), KEY), v, BPF_F_LOCK)).toBe(-22);
    expect(m.updateElem(put(u32le(3), KEY), v, 8n)).toBe(-22);
    expect(m.deleteElem(put(u32le(3), KEY))).toBe(-22);
    expect(errnoOf(() => m.delete(u32le(0)))).toBe("EINVAL");
    expect(errnoOf(() => m.update(u32le(9), u32le(0)))).toBe("E2BIG");
    expect(m.lookup(u32le(9))).toBeUndefined();
    expect([...m.keys()].length).toBe(4);
  });

  it("values are 8-byte spaced, zeroed, addressable; writes are seen by the host", () => {
    const { create, put, mem, KEY, VAL } = setup();
    const m = create<ArrayMap>({ type: 2, valueSize: 5, maxEntries: 3 });
    const a0 = m.lookupElem(put(u32le(0), KEY));
    const a1 = m.lookupElem(put(u32le(1), KEY));
    expect(a1 - a0).toBe(8);
    expect(m.valueAddr(1)).toBe(a1);
    expect(mem.checkSlot(a1, 5, true, null)).toBe(true);
    expect(mem.checkSlot(a1 + 4, 2, false, null)).toBe(false); // byte 5 is padding
    expect(m.lookup(u32le(2))).toEqual(new Uint8Array(5));
    mem.u8[a1 + 4] = 0x5a;
    expect(m.lookup(u32le(1))).toEqual(Uint8Array.of(0, 0, 0, 0, 0x5a));
    m.updateElem(put(u32le(2), KEY), put([1, 2, 3, 4, 5], VAL), BPF_ANY);
    expect(m.lookup(u32le(2))).toEqual(Uint8Array.of(1, 2, 3, 4, 5));
  });

  it(".rodata-style: RDONLY_PROG memory, host writes until frozen", () => {
    const { create, mem } = setup();
    const m = create<ArrayMap>({ type: 2, valueSize: 16, maxEntries: 1, flags: BPF_F_RDONLY_PROG });
    m.update(u32le(0), new Uint8Array(16).fill(3));
    expect(mem.checkSlot(m.valueAddr(0), 16, false, null)).toBe(true);
    expect(mem.checkSlot(m.valueAddr(0), 16, true, null)).toBe(false);
    m.freeze();
    expect(errnoOf(() => m.update(u32le(0), new Uint8Array(16)))).toBe("EPERM");
    expect(m.lookup(u32le(0))).toEqual(new Uint8Array(16).fill(3));
  });

  it("per-CPU array layout", () => {
    const { create, env, put, mem, KEY, VAL } = setup(2);
    const m = create<ArrayMap>({ type: 6, valueSize: 4, maxEntries: 2 });
    env.cpu = 1;
    expect(m.updateElem(put(u32le(1), KEY), put(u32le(0x01020304), VAL), BPF_ANY)).toBe(0);
    expect([...m.lookup(u32le(1))!]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 4, 3, 2, 1, 0, 0, 0, 0]);
    const a = m.lookupElem(put(u32le(1), KEY));
    expect(a).toBe(m.valueAddr(1, 1));
    mem.u8[a] = 0xff;
    env.cpu = 0;
    expect(m.lookupElem(put(u32le(1), KEY))).toBe(a - 8);
    const v = new Uint8Array(16);
    v[0] = 7;
    v[8] = 8;
    m.update(u32le(0), v);
    expect(mem.u8[m.valueAddr(0, 0)]).toBe(7);
    expect(mem.u8[m.valueAddr(0, 1)]).toBe(8);
    expect(m.lookup(u32le(1))![8]).toBe(0xff);
    expect(errnoOf(() => m.update(u32le(0), v, BPF_F_LOCK))).toBe("EINVAL");
  });

  it("destroy unmaps the values", () => {
    const { create, mem } = setup();
    const m = create<ArrayMap>({ type: 2, maxEntries: 2 });
    const a = m.valueAddr(0);
    m.destroy();
    expect(mem.checkSlot(a, 4, false, null)).toBe(false);
  });
});
