import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  BPF_FUNC as F,
  csumFrom32to16,
  csumPartial,
  type PacketContext,
} from "../src/helpers/index.js";
import { SegmentFlags } from "../src/memory/layout.js";
import { Bench, le64 } from "./helpers-harness.js";

/** Little-endian bytes of u64 words, cut to `len`. */
function words(ws: bigint[], len: number): number[] {
  return ws.flatMap(le64).slice(0, len);
}

/** Independent reference: 16-bit one's-complement sum of LE 16-bit words (RFC 1071 style). */
function ref16(bytes: number[], seed: number): number {
  let s = (seed & 0xffff) + (seed >>> 16);
  for (let i = 0; i < bytes.length; i += 2) s += bytes[i] | ((bytes[i + 1] ?? 0) << 8);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** The checksum of an IPv4 header (bytes), as stored in it. */
function ipCsum(h: number[]): number {
  const c = h.slice();
  c[10] = c[11] = 0;
  return ~ref16(c, 0) & 0xffff; // LE view of the big-endian field
}

const DEAD = 0xdeadbeefdeadbeefn;
const BEEF = 0xbeefdeadbeefdeadn;
const ABAB = 0xababababababababn;

describe("bpf_csum_diff", () => {
  // Vectors of the kernel selftest prog_tests/test_csum_diff.c (little-endian results).
  const cases: Array<[string, number[], number[], number, number]> = [
    ["push 8", [], words([DEAD], 8), 0, 0x3b3b],
    ["push 16", [], words([DEAD, BEEF], 16), 0x1234, 0x88aa],
    ["push 15", [], words([DEAD, BEEF], 15), 0x1234, 0xcaa9],
    ["pull 8", words([DEAD], 8), [], 0, 0xc4c4],
    ["pull 16", words([DEAD, BEEF], 16), [], 0x1234, 0x9bbd],
    ["pull 15", words([DEAD, BEEF], 15), [], 0x1234, 0x59be],
    ["diff 8", words([DEAD], 8), words([ABAB], 8), 0, 0x7373],
    ["diff 7", words([DEAD], 7), words([ABAB], 7), 0, 0xa673],
    ["diff from zeros", words([0n], 8), words([ABAB], 8), 0, 0xaeae],
    ["diff to zeros", words([DEAD], 8), words([0n], 8), 0xffff, 0xc4c4],
    ["edge empty", [], [], 0, 0],
    ["edge seed", [], [], 0x1234, 0x1234],
    ["edge pull zeros", new Array(512).fill(0), [], 0xffff, 0xffff],
  ];
  for (const [name, from, to, seed, want] of cases) {
    it(`matches the kernel selftest: ${name}`, () => {
      const b = new Bench();
      const f = from.length ? b.region(from.length, from, true) : 0;
      const t = to.length ? b.region(to.length, to, true) : 0;
      expect(b.call(F.csum_diff, f, from.length, t, to.length, seed)).toBe(BigInt(want));
    });
  }

  it("matches Linux 6.18 on helpers.bpf.o (test/fixtures/KERNEL-FACTS.md, section 3)", () => {
    const b = new Bench();
    const from = b.region(8, [0x11, 0x22, 0x33, 0x44, 0xde, 0xad, 0xbe, 0xef]);
    const to = b.region(8, [0x55, 0x66, 0x77, 0x88, 0x01, 0x02, 0x03, 0x04]);
    expect(b.call(F.csum_diff, from, 8, to, 8, 0)).toBe(0xf0een);
    expect(b.call(F.csum_diff, 0, 0, to, 8, 0x1234)).toBe(0x0705n);
    expect(b.call(F.csum_diff, from, 3, to, 8, 0)).toBe(0xd28cn);
  });

  it("agrees with a 16-bit reference on random pushes", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 600 }),
        fc.integer({ min: 0, max: 0xffff_ffff }),
        (data, seed) => {
          if (data.every((x) => x === 0) && seed === 0) return;
          const b = new Bench();
          const t = b.region(data.length, Array.from(data));
          const got = Number(b.call(F.csum_diff, 0, 0, t, data.length, seed));
          const want = ref16(Array.from(data), seed);
          // one's-complement zero has two forms; the kernel's never gives 0 for non-zero input
          expect(
            got === want || (got === 0xffff && want === 0) || (got === 0 && want === 0xffff),
          ).toBe(true);
          expect(got).not.toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("checks both buffers, allowing NULL with size 0", () => {
    const b = new Bench();
    const t = b.region(4, [1, 2, 3, 4]);
    expect(() => b.call(F.csum_diff, 0, 4, t, 4, 0)).toThrow(/r1 \(from\)/);
    expect(() => b.call(F.csum_diff, t, 4, t, 8, 0)).toThrow(/r3 \(to\)/);
  });

  it("folds as x86's csum_partial and csum_from32to16", () => {
    const u8 = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    expect(csumPartial(u8, 0, 8, 0)).toBe(0xffff_ffff);
    expect(csumPartial(u8, 0, 0, 0)).toBe(0);
    expect(csumPartial(new Uint8Array(8), 0, 8, 0)).toBe(0);
    expect(csumPartial(Uint8Array.from([1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]), 0, 8, 0)).toBe(1);
    expect(csumFrom32to16(0x0001_fffe)).toBe(0xffff);
    expect(csumFrom32to16(0xffff_ffff)).toBe(0xffff);
    expect(csumFrom32to16(0x1234_0001)).toBe(0x1235);
  });
});

/** An skb whose data is `bytes`. */
function skb(bytes: number[]) {
  const b = new Bench();
  b.env.progType = 3;
  const seg = b.m.mem.mapRegion("packet", bytes.length, SegmentFlags.WRITABLE);
  b.write(seg.base, bytes);
  const packet: PacketContext = {
    data: seg.base,
    dataEnd: seg.base + bytes.length,
    dataMeta: seg.base,
    frameStart: seg.base,
    frameEnd: seg.base + bytes.length,
    commit() {},
  };
  b.m.run = { ctxAddr: 0, packet };
  return { b, base: seg.base };
}

const IP = [0x45, 0, 0, 0x54, 0, 0, 0x40, 0, 0x40, 0x01, 0, 0, 192, 168, 0, 1, 192, 168, 0, 199];
const le32of = (bs: number[]) => (bs[0] | (bs[1] << 8) | (bs[2] << 16) | (bs[3] << 24)) >>> 0;

describe("bpf_l3_csum_replace / bpf_l4_csum_replace", () => {
  const hdr = IP.slice();
  const c = ipCsum(hdr);
  hdr[10] = c & 0xff;
  hdr[11] = c >>> 8;
  const newDst = [10, 0, 0, 1];
  const after = [...hdr.slice(0, 16), ...newDst];
  const want = ipCsum(after);

  for (const [name, id] of [
    ["l3", F.l3_csum_replace],
    ["l4", F.l4_csum_replace],
  ] as const) {
    it(`${name}: updates the checksum for a 4-byte change`, () => {
      const { b, base } = skb(hdr);
      expect(b.int(id, 0, 10, le32of(hdr.slice(16)), le32of(newDst), 4)).toBe(0);
      const got = b.read(base + 10, 2);
      expect(got[0] | (got[1] << 8)).toBe(want);
    });

    it(`${name}: updates it for a 2-byte change and by a csum_diff`, () => {
      const { b, base } = skb(hdr);
      // TTL/protocol word 0x40 0x01 -> 0x3f 0x01
      expect(b.int(id, 0, 10, 0x0140, 0x013f, 2)).toBe(0);
      const h2 = hdr.slice();
      h2[8] = 0x3f;
      let got = b.read(base + 10, 2);
      expect(got[0] | (got[1] << 8)).toBe(ipCsum(h2));
      // by diff: from must be 0
      const { b: b2, base: base2 } = skb(hdr);
      const from = b2.region(4, hdr.slice(16));
      const to = b2.region(4, newDst);
      const diff = b2.call(F.csum_diff, from, 4, to, 4, 0);
      expect(b2.int(id, 0, 10, 1, diff, 0)).toBe(-22);
      expect(b2.int(id, 0, 10, 0, diff, 0)).toBe(0);
      got = b2.read(base2 + 10, 2);
      expect(got[0] | (got[1] << 8)).toBe(want);
    });

    it(`${name}: checks flags and offsets`, () => {
      const { b } = skb(hdr);
      expect(b.int(id, 0, 10, 0, 0, 3)).toBe(-22); // field size 3
      expect(b.int(id, 0, 11, 0, 0, 2)).toBe(-14); // odd offset
      expect(b.int(id, 0, 0x10000, 0, 0, 2)).toBe(-14);
      expect(b.int(id, 0, 18, 0, 0, 2)).toBe(0); // last 2 bytes
      expect(b.int(id, 0, 20, 0, 0, 2)).toBe(-14); // past skb->len
      expect(b.int(id, 0, 10, 0, 0, 0x100)).toBe(-22);
      expect(b.int(id, 0, 10, 0, 0, 1n << 32n)).toBe(-22);
    });
  }

  it("l3 refuses the l4-only flags; l4 takes them", () => {
    const { b } = skb(hdr);
    for (const f of [0x10, 0x20, 0x40, 0x80]) {
      expect(b.int(F.l3_csum_replace, 0, 10, 0, 0, f | 2)).toBe(-22);
      expect(b.int(F.l4_csum_replace, 0, 10, 0, 0, f | 2)).toBe(0);
    }
  });

  it("l4: BPF_F_MARK_MANGLED_0 keeps a zero checksum and never writes zero", () => {
    const { b, base } = skb([0, 0, 0x12, 0x34]);
    expect(b.int(F.l4_csum_replace, 0, 0, 0, 0x1111, 0x20 | 2)).toBe(0);
    expect(b.read(base, 2)).toEqual([0, 0]); // untouched
    expect(b.int(F.l4_csum_replace, 0, 0, 0, 0, 0x60 | 2)).toBe(0); // enforced: 0 -> 0xffff
    expect(b.read(base, 2)).toEqual([0xff, 0xff]);
    // a change that yields 0 becomes CSUM_MANGLED_0
    b.write(base + 2, [0xfe, 0xff]); // checksum 0xfffe (LE)
    expect(b.int(F.l4_csum_replace, 0, 2, 0, 0xfffe, 0x20 | 2)).toBe(0);
    expect(b.read(base + 2, 2)).toEqual([0xff, 0xff]);
    b.write(base + 2, [0xfe, 0xff]);
    expect(b.int(F.l4_csum_replace, 0, 2, 0, 0xfffe, 2)).toBe(0);
    expect(b.read(base + 2, 2)).toEqual([0, 0]);
  });
});
