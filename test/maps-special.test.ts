import { describe, expect, it } from "vitest";
import { setup } from "./maps-harness.js";
import { MapError } from "../src/errors.js";
import {
  ArrayOfMapsMap,
  BPF_ANY,
  BPF_EXIST,
  BPF_F_CURRENT_CPU,
  BPF_F_INNER_MAP,
  BPF_F_NO_PREALLOC,
  BPF_NOEXIST,
  BPF_RB_FORCE_WAKEUP,
  BPF_RINGBUF_BUSY_BIT,
  BPF_RINGBUF_DISCARD_BIT,
  BloomFilterMap,
  HashOfMapsMap,
  LpmTrieMap,
  PerfEventArrayMap,
  ProgArrayMap,
  QueueStackMap,
  RingBufMap,
  bloomBitMask,
  jhash,
  jhash2,
  type MapDefinition,
} from "../src/maps/index.js";

const u32le = (v: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
};

function errnoOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof MapError) return e.errno;
    throw e;
  }
  return "none";
}

/** An IPv4 LPM key: prefixlen then 4 address bytes. */
const v4 = (plen: number, a: number, b: number, c: number, d: number): Uint8Array => {
  const k = new Uint8Array(8);
  new DataView(k.buffer).setUint32(0, plen, true);
  k.set([a, b, c, d], 4);
  return k;
};
const show = (k: Uint8Array): string =>
  `${k[4]}.${k[5]}.${k[6]}.${k[7]}/${new DataView(k.buffer).getUint32(0, true)}`;

describe("LPM trie", () => {
  const lpm = { type: 11, keySize: 8, valueSize: 4, flags: BPF_F_NO_PREALLOC };

  it("finds the longest matching prefix, as programs and the host look up", () => {
    const { create, put, mem, KEY } = setup();
    const m = create<LpmTrieMap>({ ...lpm, maxEntries: 16 });
    m.update(v4(0, 0, 0, 0, 0), u32le(1)); // default route
    m.update(v4(8, 10, 0, 0, 0), u32le(2));
    m.update(v4(16, 10, 1, 0, 0), u32le(3));
    m.update(v4(24, 10, 1, 2, 0), u32le(4));
    m.update(v4(32, 10, 1, 2, 3), u32le(5));
    m.update(v4(12, 10, 16, 0, 0), u32le(6));
    const val = (k: Uint8Array): number => {
      const addr = m.lookupElem(put(k, KEY));
      return addr === 0 ? -1 : mem.dv.getUint32(addr, true);
    };
    expect(val(v4(32, 10, 1, 2, 3))).toBe(5);
    expect(val(v4(32, 10, 1, 2, 4))).toBe(4);
    expect(val(v4(32, 10, 1, 3, 4))).toBe(3);
    expect(val(v4(32, 10, 2, 0, 0))).toBe(2);
    expect(val(v4(32, 10, 17, 0, 0))).toBe(6); // 10.16/12 covers 10.16..10.31
    expect(val(v4(32, 10, 32, 0, 0))).toBe(2);
    expect(val(v4(32, 11, 0, 0, 0))).toBe(1);
    // The key's prefixlen limits the match.
    expect(val(v4(20, 10, 1, 2, 3))).toBe(3);
    expect(val(v4(7, 10, 1, 2, 3))).toBe(1);
    expect(val(v4(33, 10, 1, 2, 3))).toBe(-1);
    expect(m.lookup(v4(32, 10, 1, 2, 9))).toEqual(u32le(4));
    // Writes through a pointer are seen by the host.
    const addr = m.lookupElem(put(v4(32, 10, 1, 9, 9), KEY));
    mem.dv.setUint32(addr, 33, true);
    expect(m.lookup(v4(16, 10, 1, 0, 0))).toEqual(u32le(33));
  });

  it("update and delete act on exact prefixes; flags and errnos", () => {
    const { create, put, mem, KEY, VAL } = setup();
    const m = create<LpmTrieMap>({ ...lpm, maxEntries: 2 });
    const v = put(u32le(7), VAL);
    expect(m.updateElem(put(v4(24, 10, 1, 2, 99), KEY), v, BPF_EXIST)).toBe(-2);
    expect(m.updateElem(put(v4(24, 10, 1, 2, 99), KEY), v, BPF_NOEXIST)).toBe(0);
    // Bits past the prefix do not matter for identity.
    expect(m.updateElem(put(v4(24, 10, 1, 2, 0), KEY), v, BPF_NOEXIST)).toBe(-17);
    expect(m.updateElem(put(v4(24, 10, 1, 2, 0), KEY), v, BPF_EXIST)).toBe(0);
    expect(m.updateElem(put(v4(33, 10, 1, 2, 0), KEY), v, BPF_ANY)).toBe(-22);
    expect(m.updateElem(put(v4(8, 10, 0, 0, 0), KEY), v, 4n)).toBe(-22);
    expect(m.updateElem(put(v4(8, 10, 0, 0, 0), KEY), v, BPF_ANY)).toBe(0);
    expect(m.updateElem(put(v4(9, 10, 0, 0, 0), KEY), v, BPF_ANY)).toBe(-28); // ENOSPC
    expect(m.updateElem(put(v4(9, 10, 0, 0, 0), KEY), v, BPF_EXIST)).toBe(-2);
    // The stored key is the last update's bytes.
    expect([...m.keys()].map(show)).toEqual(["10.1.2.0/24", "10.0.0.0/8"]);
    const addr = m.lookupElem(put(v4(32, 10, 1, 2, 1), KEY));
    expect(m.deleteElem(put(v4(16, 10, 1, 0, 0), KEY))).toBe(-2);
    expect(m.deleteElem(put(v4(40, 10, 1, 0, 0), KEY))).toBe(-22);
    expect(m.deleteElem(put(v4(24, 10, 1, 2, 77), KEY))).toBe(0);
    expect(mem.checkSlot(addr, 4, false, null)).toBe(false);
    expect(m.lookup(v4(32, 10, 1, 2, 1))).toEqual(u32le(7)); // now the /8
    expect(errnoOf(() => m.delete(v4(24, 10, 1, 2, 0)))).toBe("ENOENT");
    expect(m.count).toBe(1);
  });

  it("keys() follows the kernel's get_next_key post-order", () => {
    const { create } = setup();
    const m = create<LpmTrieMap>({ ...lpm, maxEntries: 16 });
    for (const k of [
      v4(16, 192, 168, 0, 0),
      v4(24, 192, 168, 128, 0),
      v4(24, 192, 168, 0, 0),
      v4(24, 192, 168, 1, 0),
    ]) {
      m.update(k, u32le(0));
    }
    // The example of kernel/bpf/lpm_trie.c's trie_get_next_key.
    expect([...m.keys()].map(show)).toEqual([
      "192.168.0.0/24",
      "192.168.1.0/24",
      "192.168.128.0/24",
      "192.168.0.0/16",
    ]);
    m.update(v4(0, 0, 0, 0, 0), u32le(0));
    m.update(v4(8, 10, 0, 0, 0), u32le(0));
    m.update(v4(32, 192, 168, 1, 7), u32le(0));
    expect([...m.keys()].map(show)).toEqual([
      "10.0.0.0/8",
      "192.168.0.0/24",
      "192.168.1.7/32",
      "192.168.1.0/24",
      "192.168.128.0/24",
      "192.168.0.0/16",
      "0.0.0.0/0",
    ]);
  });
});

describe("ring buffer", () => {
  const rb = { type: 27, keySize: 0, valueSize: 0, maxEntries: 4096 };

  it("reserve / submit / discard with the kernel's headers", () => {
    const { create, mem } = setup();
    const m = create<RingBufMap>(rb);
    const a = m.reserve(5n, 0n);
    expect(a).not.toBe(0);
    expect(mem.checkSlot(a, 5, true, null)).toBe(true);
    expect(mem.checkSlot(a, 6, true, null)).toBe(false);
    mem.u8.set([1, 2, 3, 4, 5], a);
    const b = m.reserve(3n, 0n);
    mem.u8.set([6, 7, 8], b);
    expect(m.inspect()).toEqual([
      { pos: 0, len: 5, busy: true, discarded: false, pgOff: 3 },
      { pos: 16, len: 3, busy: true, discarded: false, pgOff: 3 },
    ]);
    expect(m.query(0n)).toBe(32n); // BPF_RB_AVAIL_DATA
    expect(m.query(3n)).toBe(32n); // BPF_RB_PROD_POS
    // B committed first: not visible while A is busy.
    expect(m.submit(b, BPF_RB_FORCE_WAKEUP)).toBe(0);
    expect(m.records()).toEqual([]);
    expect(mem.checkSlot(b, 1, false, null)).toBe(false);
    expect(m.discard(a, 0n)).toBe(0);
    expect(mem.checkSlot(a, 1, false, null)).toBe(false);
    expect(m.submit(a, 0n)).toBe(-22); // no longer reserved
    expect(m.inspect().map((r) => [r.busy, r.discarded])).toEqual([
      [false, true],
      [false, false],
    ]);
    expect(m.drain()).toEqual([Uint8Array.of(6, 7, 8)]);
    expect(m.query(2n)).toBe(32n); // BPF_RB_CONS_POS
    expect(m.query(0n)).toBe(0n);
    expect(m.query(1n)).toBe(4096n);
    expect(m.query(9n)).toBe(0n);
  });

  it("refuses what the kernel refuses", () => {
    const { create, put } = setup();
    const m = create<RingBufMap>(rb);
    expect(m.reserve(8n, 1n)).toBe(0);
    expect(m.reserve(4089n, 0n)).toBe(0); // record > ring
    expect(m.reserve(1n << 40n, 0n)).toBe(0);
    expect(m.reserve(-1n, 0n)).toBe(0);
    expect(m.output(put([1, 2]), 2, 4n)).toBe(-22);
    // The producer may not get more than ring size - 1 bytes ahead of the consumer.
    expect(m.output(put(new Uint8Array(4081)), 4081, 0n)).toBe(-11); // 4096 bytes
    expect(m.output(put(new Uint8Array(4080)), 4080, 0n)).toBe(0); // 4088 bytes
    expect(m.reserve(0n, 0n)).toBe(0); // 8 more would make 4096
    expect(m.drain().length).toBe(1);
    expect(m.reserve(0n, 0n)).not.toBe(0);
  });

  it("wraps records around the end of the ring", () => {
    const { create, mem, put } = setup();
    const m = create<RingBufMap>(rb);
    expect(m.output(put(new Uint8Array(4000).fill(1)), 4000, 0n)).toBe(0); // 4008 bytes
    expect(m.drain().length).toBe(1);
    const a = m.reserve(100n, 0n); // header at 4008, data 4016..4116 wraps to 0..20
    expect(a).not.toBe(0);
    for (let i = 0; i < 100; i++) mem.u8[a + i] = i;
    expect(m.submit(a, 0n)).toBe(0);
    expect(m.inspect()[0]).toMatchObject({ pos: 4008, len: 100, pgOff: 3 });
    const [rec] = m.drain();
    expect([...rec]).toEqual(Array.from({ length: 100 }, (_, i) => i));
    // The next header lands at 4008 + 112 = 4120, i.e. offset 24 of the ring.
    expect(m.output(put([9, 9, 9]), 3, 0n)).toBe(0);
    expect(m.inspect()[0]).toMatchObject({ pos: 4120, len: 3 });
    expect(m.drain()).toEqual([Uint8Array.of(9, 9, 9)]);
  });

  it("a busy record holds the consumer back, and with it the producer", () => {
    const { create, put } = setup();
    const m = create<RingBufMap>(rb);
    const a = m.reserve(8n, 0n); // 16 bytes at 0, stays busy
    expect(m.output(put(new Uint8Array(2000)), 2000, 0n)).toBe(0); // 2008 bytes
    expect(m.output(put(new Uint8Array(2000)), 2000, 0n)).toBe(0); // 2008 bytes
    expect(m.drain()).toEqual([]); // the consumer stops at the busy record
    expect(m.consumerPos).toBe(0);
    expect(m.output(put(new Uint8Array(64)), 64, 0n)).toBe(-11);
    expect(m.pendingPos).toBe(0);
    expect(m.submit(a, 0n)).toBe(0);
    expect(m.drain().length).toBe(3);
    expect(m.consumerPos).toBe(4032);
    expect(m.output(put(new Uint8Array(2000)), 2000, 0n)).toBe(0);
    expect(m.pendingPos).toBe(4032);
  });

  it("pgOff is the page offset from the kernel's struct bpf_ringbuf", () => {
    const { create, put } = setup();
    const m = create<RingBufMap>({ ...rb, maxEntries: 16384 });
    m.output(put(new Uint8Array(5000)), 5000, 0n);
    m.output(put([1]), 1, 0n);
    expect(m.inspect().map((r) => r.pgOff)).toEqual([3, 4]);
  });

  it("releaseAll discards outstanding records; host element API is ENOTSUPP", () => {
    const { create } = setup();
    const m = create<RingBufMap>(rb);
    m.reserve(4n, 0n);
    m.releaseAll();
    expect(m.inspect()[0].discarded).toBe(true);
    expect(m.drain()).toEqual([]);
    expect(errnoOf(() => m.lookup(new Uint8Array(0)))).toBe("ENOTSUPP");
    expect([...m.keys()]).toEqual([]);
    expect(BPF_RINGBUF_BUSY_BIT).toBe(0x80000000);
    expect(BPF_RINGBUF_DISCARD_BIT).toBe(0x40000000);
  });
});

describe("queue and stack", () => {
  it("queue: FIFO, E2BIG when full, BPF_EXIST drops the oldest", () => {
    const { create, put, mem, VAL } = setup();
    const q = create<QueueStackMap>({ type: 22, keySize: 0, valueSize: 4, maxEntries: 3 });
    for (const v of [1, 2, 3]) expect(q.pushElem(put(u32le(v), VAL), BPF_ANY)).toBe(0);
    expect(q.pushElem(put(u32le(4), VAL), BPF_ANY)).toBe(-7);
    expect(q.pushElem(put(u32le(4), VAL), BPF_NOEXIST)).toBe(-22);
    expect(q.pushElem(put(u32le(4), VAL), 4n)).toBe(-22);
    expect(q.pushElem(put(u32le(4), VAL), BPF_EXIST)).toBe(0);
    const out = put(u32le(0xffffffff), 2048);
    expect(q.peekElem(out)).toBe(0);
    expect(mem.dv.getUint32(out, true)).toBe(2);
    const got: number[] = [];
    while (q.popElem(out) === 0) got.push(mem.dv.getUint32(out, true));
    expect(got).toEqual([2, 3, 4]);
    mem.dv.setUint32(out, 0xffffffff, true);
    expect(q.popElem(out)).toBe(-2);
    expect(mem.dv.getUint32(out, true)).toBe(0); // zeroed, as the kernel does
    expect(q.lookupElem(out)).toBe(0);
    expect(q.updateElem(out, out, BPF_ANY)).toBe(-22);
    expect(q.deleteElem(out)).toBe(-22);
  });

  it("stack: LIFO; BPF_EXIST drops the bottom", () => {
    const { create, put, mem, VAL } = setup();
    const s = create<QueueStackMap>({ type: 23, keySize: 0, valueSize: 4, maxEntries: 2 });
    s.push(u32le(1));
    s.push(u32le(2));
    expect(errnoOf(() => s.push(u32le(3)))).toBe("E2BIG");
    s.push(u32le(3), BPF_EXIST);
    expect(s.peek()).toEqual(u32le(3));
    const out = put(u32le(0), VAL);
    expect(s.popElem(out)).toBe(0);
    expect(mem.dv.getUint32(out, true)).toBe(3);
    expect(s.pop()).toEqual(u32le(2));
    expect(s.pop()).toBeUndefined();
    expect(s.lookup(new Uint8Array(0))).toBeUndefined();
    s.update(new Uint8Array(0), u32le(9));
    expect(s.lookup(new Uint8Array(0))).toEqual(u32le(9));
    expect(errnoOf(() => s.delete(new Uint8Array(0)))).toBe("EINVAL");
    expect([...s.keys()]).toEqual([]);
  });
});

describe("bloom filter", () => {
  it("jhash and jhash2 match Linux's include/linux/jhash.h", () => {
    const buf = Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff);
    // Computed by the kernel's jhash.h macros compiled with gcc.
    const bytes: [number, number, number][] = [
      [0, 3735928559, 3735928566],
      [1, 3116429366, 3303198741],
      [3, 2802853315, 531762300],
      [4, 1155639086, 3229985498],
      [5, 3444770893, 4211417374],
      [7, 1335264351, 2579833904],
      [8, 969280037, 3212516787],
      [11, 937023248, 3393860593],
      [12, 947476729, 3794906146],
      [13, 223622768, 1751513003],
      [16, 2135657191, 11086993],
      [24, 764879783, 1202027571],
      [25, 1136466598, 2823422865],
      [40, 1313736492, 3991816189],
    ];
    for (const [len, h0, h7] of bytes) {
      expect(jhash(buf, 0, len, 0)).toBe(h0);
      expect(jhash(buf, 0, len, 7)).toBe(h7);
    }
    const words: [number, number, number][] = [
      [0, 3735928559, 3735928562],
      [1, 1155639086, 3459064827],
      [2, 969280037, 765012721],
      [3, 947476729, 1673771113],
      [4, 2135657191, 2965266531],
      [6, 764879783, 916400544],
      [7, 2236018427, 3960455359],
      [10, 1313736492, 2040337652],
    ];
    for (const [n, h0, h3] of words) {
      expect(jhash2(buf, 0, n, 0)).toBe(h0);
      expect(jhash2(buf, 0, n, 3)).toBe(h3);
    }
  });

  it("bit array size as the kernel computes it", () => {
    expect(bloomBitMask(1, 5)).toBe(63);
    expect(bloomBitMask(100, 5)).toBe(1023); // 500/5*7 = 700 -> 1024
    expect(bloomBitMask(1000, 3)).toBe(8191); // 3000/5*7 = 4200 -> 8192
    expect(bloomBitMask(4, 1)).toBe(63); // 4/5*7 = 0 -> 64
    expect(bloomBitMask(2 ** 30, 5)).toBe(0xffffffff); // overflows u32
  });

  it("push sets k bits; peek finds every pushed value; never deletes", () => {
    const { create, put, VAL } = setup();
    const m = create<BloomFilterMap>({
      type: 30,
      keySize: 0,
      valueSize: 8,
      maxEntries: 100,
      mapExtra: 3,
    });
    expect(m.nrHash).toBe(3);
    const vals = Array.from({ length: 50 }, (_, i) =>
      Uint8Array.from([i, i * 3, 7, 0, 0, 1, 2, i]),
    );
    for (const v of vals) expect(m.pushElem(put(v, VAL), BPF_ANY)).toBe(0);
    for (const v of vals) expect(m.peekElem(put(v, VAL))).toBe(0);
    expect(m.pushElem(put(vals[0], VAL), BPF_EXIST)).toBe(-22);
    let falsePositives = 0;
    for (let i = 0; i < 1000; i++) {
      const probe = Uint8Array.from([i & 0xff, i >> 8, 99, 99, 99, 99, 99, 99]);
      if (m.peekElem(put(probe, VAL)) === 0) falsePositives++;
    }
    expect(falsePositives).toBeLessThan(200);
    expect(m.popElem(VAL)).toBe(-95);
    expect(m.deleteElem(VAL)).toBe(-95);
    expect(m.lookupElem(VAL)).toBe(0);
    expect(m.updateElem(VAL, VAL, BPF_ANY)).toBe(-22);
    expect(errnoOf(() => m.delete(new Uint8Array(0)))).toBe("EOPNOTSUPP");
  });

  it("hash i is jhash2(value, seed 0 + i) masked: deterministic false positives", () => {
    const { create } = setup();
    const m = create<BloomFilterMap>({ type: 30, keySize: 0, valueSize: 4, maxEntries: 1 });
    expect(m.bitMask).toBe(63);
    const v = u32le(0x12345678);
    for (let i = 0; i < 5; i++) expect(m.bitOf(v, 0, i)).toBe(jhash2(v, 0, 1, i) & 63);
    m.add(v);
    // A value whose 5 bits are all among v's 5 bits is a (deterministic) false positive.
    const bits = new Set(Array.from({ length: 5 }, (_, i) => m.bitOf(v, 0, i)));
    let fp: Uint8Array | undefined;
    for (let x = 0; x < 2_000_000 && fp === undefined; x++) {
      const c = u32le(x);
      if (x !== 0x12345678 && [0, 1, 2, 3, 4].every((i) => bits.has(m.bitOf(c, 0, i)))) fp = c;
    }
    expect(fp).toBeDefined();
    expect(m.has(fp!)).toBe(true);
    expect(m.has(u32le(0x12345678))).toBe(true);
    expect(m.lookup(v)).toEqual(v);
  });
});

describe("perf event array", () => {
  it("output to the current CPU's event; records with their CPU", () => {
    const { create, env, put, VAL } = setup(2);
    const m = create<PerfEventArrayMap>({ type: 4, maxEntries: 4 });
    expect(m.output(BPF_F_CURRENT_CPU, Uint8Array.of(4))).toBe(-2); // no event until opened
    m.openAll();
    expect(m.outputElem(BPF_F_CURRENT_CPU, put([1, 2, 3], VAL), 3)).toBe(0);
    env.cpu = 1;
    expect(m.output(BPF_F_CURRENT_CPU, Uint8Array.of(4))).toBe(0);
    expect(m.output(1n, Uint8Array.of(5))).toBe(0);
    expect(m.output(0n, Uint8Array.of(6))).toBe(-95); // event bound to CPU 0
    expect(m.output(2n, Uint8Array.of(6))).toBe(-2); // no event in slot 2
    expect(m.output(4n, Uint8Array.of(6))).toBe(-7);
    expect(m.output(1n << 32n, Uint8Array.of(6))).toBe(-22);
    expect(m.records().map((r) => [r.cpu, [...r.data]])).toEqual([
      [0, [1, 2, 3]],
      [1, [4]],
      [1, [5]],
    ]);
    expect(m.drain().length).toBe(3);
    expect(m.records()).toEqual([]);
    m.close(1);
    expect(m.output(BPF_F_CURRENT_CPU, Uint8Array.of(1))).toBe(-2);
    m.update(u32le(3), u32le(1)); // open slot 3 on CPU 1
    expect(m.output(3n, Uint8Array.of(1))).toBe(0);
    expect(errnoOf(() => m.lookup(u32le(0)))).toBe("ENOTSUPP");
  });

  it("a full buffer loses records with -ENOSPC", () => {
    const { create } = setup();
    const m = create<PerfEventArrayMap>({ type: 4, maxEntries: 1 });
    m.openAll();
    m.bufferBytes = 64;
    expect(m.output(0n, new Uint8Array(20))).toBe(0); // 8 + 24 = 32
    expect(m.output(0n, new Uint8Array(20))).toBe(0);
    expect(m.output(0n, new Uint8Array(1))).toBe(-28);
    expect(m.lost(0)).toBe(1);
    m.drain();
    expect(m.output(0n, new Uint8Array(1))).toBe(0);
  });
});

describe("prog_array", () => {
  it("typed slots; programs cannot read or change it", () => {
    const { create, put, mem, KEY, VAL } = setup();
    const m = create<ProgArrayMap<{ name: string; id: number }>>({ type: 3, maxEntries: 4 });
    m.idOf = (p) => p.id;
    const a = { name: "a", id: 11 };
    m.setSlot(2, a);
    expect(m.getSlot(2)).toBe(a);
    expect(m.getSlot(2n + (1n << 32n))).toBe(a); // low 32 bits
    expect(m.getSlot(3)).toBeUndefined();
    expect(m.getSlot(99)).toBeUndefined();
    expect(mem.dv.getUint32(m.tableAddr + 8, true)).toBe(11);
    expect(mem.checkSlot(m.tableAddr + 8, 4, false, null)).toBe(false);
    expect(m.lookupElem(put(u32le(2), KEY))).toBe(0);
    expect(m.updateElem(put(u32le(2), KEY), put(u32le(0), VAL), BPF_ANY)).toBe(-22);
    expect(m.deleteElem(put(u32le(2), KEY))).toBe(-22);
    expect(m.lookup(u32le(2))).toEqual(u32le(11));
    expect(errnoOf(() => m.setSlot(4, a))).toBe("E2BIG");
    expect(errnoOf(() => m.update(u32le(1), u32le(5)))).toBe("EBADF");
    m.progByFd = (fd) => (fd === 5 ? a : undefined);
    expect(errnoOf(() => m.update(u32le(1), u32le(5), BPF_NOEXIST))).toBe("EINVAL");
    m.update(u32le(1), u32le(5));
    expect(m.getSlot(1)).toBe(a);
    m.delete(u32le(1));
    expect(errnoOf(() => m.delete(u32le(1)))).toBe("ENOENT");
    expect(errnoOf(() => m.delete(u32le(9)))).toBe("E2BIG");
    m.setSlot(2, null);
    expect(m.getSlot(2)).toBeUndefined();
    expect(mem.dv.getUint32(m.tableAddr + 8, true)).toBe(0);
    expect([...m.keys()].length).toBe(4);
  });
});

describe("maps of maps", () => {
  const inner: MapDefinition = {
    name: "inner",
    type: 2,
    keySize: 4,
    valueSize: 8,
    maxEntries: 4,
    flags: 0,
  };

  it("array of maps: lookups give the inner map's handle", () => {
    const { create, put, KEY } = setup();
    const outer = create<ArrayOfMapsMap>({ type: 12, maxEntries: 2, innerMap: inner });
    const a = create({ ...inner, name: "a" });
    const wrongSize = create({ ...inner, name: "b", maxEntries: 5 });
    const wrongType = create({ ...inner, name: "c", type: 1 });
    expect(outer.lookupElem(put(u32le(0), KEY))).toBe(0);
    outer.setInner(0, a);
    expect(outer.lookupElem(put(u32le(0), KEY))).toBe(a.handle);
    expect(outer.lookupElem(put(u32le(7), KEY))).toBe(0);
    expect(outer.getInner(0)).toBe(a);
    expect(outer.lookup(u32le(0))).toEqual(u32le(a.handle));
    expect(errnoOf(() => outer.setInner(1, wrongSize))).toBe("EINVAL");
    expect(errnoOf(() => outer.setInner(1, wrongType))).toBe("EINVAL");
    expect(errnoOf(() => outer.update(u32le(1), u32le(0x999)))).toBe("EBADF");
    expect(errnoOf(() => outer.update(u32le(1), u32le(a.handle), BPF_NOEXIST))).toBe("EINVAL");
    expect(errnoOf(() => outer.update(u32le(2), u32le(a.handle)))).toBe("E2BIG");
    outer.update(u32le(1), u32le(a.handle));
    expect(outer.getInner(1)).toBe(a);
    outer.delete(u32le(1));
    expect(errnoOf(() => outer.delete(u32le(1)))).toBe("ENOENT");
    expect(outer.updateElem(put(u32le(0), KEY), put(u32le(0), 1024), BPF_ANY)).toBe(-22);
    expect(outer.deleteElem(put(u32le(0), KEY))).toBe(-22);
  });

  it("BPF_F_INNER_MAP lets inner arrays differ in max_entries", () => {
    const { create } = setup();
    const tmpl = { ...inner, flags: BPF_F_INNER_MAP };
    const outer = create<ArrayOfMapsMap>({ type: 12, maxEntries: 2, innerMap: tmpl });
    outer.setInner(0, create({ ...tmpl, name: "big", maxEntries: 100 }));
    expect(errnoOf(() => outer.setInner(1, create({ ...inner, name: "noflag" })))).toBe("EINVAL");
  });

  it("hash of maps: flags, capacity, lookups", () => {
    const { create, put, KEY } = setup();
    const tmpl: MapDefinition = {
      name: "t",
      type: 1,
      keySize: 4,
      valueSize: 4,
      maxEntries: 10,
      flags: 0,
    };
    const outer = create<HashOfMapsMap>({ type: 13, keySize: 2, maxEntries: 2, innerMap: tmpl });
    const h1 = create({ ...tmpl, name: "h1", maxEntries: 99 }); // hash inner maps may differ
    const h2 = create({ ...tmpl, name: "h2" });
    outer.update(Uint8Array.of(1, 0), u32le(h1.handle), BPF_NOEXIST);
    expect(errnoOf(() => outer.update(Uint8Array.of(1, 0), u32le(h2.handle), BPF_NOEXIST))).toBe(
      "EEXIST",
    );
    expect(errnoOf(() => outer.update(Uint8Array.of(2, 0), u32le(h2.handle), BPF_EXIST))).toBe(
      "ENOENT",
    );
    outer.setInner(Uint8Array.of(2, 0), h2);
    expect(errnoOf(() => outer.setInner(Uint8Array.of(3, 0), h2))).toBe("E2BIG");
    expect(outer.lookupElem(put([2, 0], KEY))).toBe(h2.handle);
    expect(outer.lookupElem(put([3, 0], KEY))).toBe(0);
    expect(outer.lookup(Uint8Array.of(1, 0))).toEqual(u32le(h1.handle));
    expect([...outer.keys()].map((k) => k[0])).toEqual([1, 2]);
    outer.delete(Uint8Array.of(1, 0));
    expect(outer.getInner(Uint8Array.of(1, 0))).toBeUndefined();
    expect(outer.count).toBe(1);
  });
});
