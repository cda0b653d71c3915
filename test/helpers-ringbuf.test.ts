import { describe, expect, it } from "vitest";
import { BPF_FUNC as F, type PacketContext } from "../src/helpers/index.js";
import { HelperError, MemoryAccessError } from "../src/errors.js";
import type { PerfEventArrayMap, RingBufMap } from "../src/maps/index.js";
import { SegmentFlags } from "../src/memory/layout.js";
import { Bench, le32 } from "./helpers-harness.js";

const RINGBUF = 27;
const PERF_EVENT_ARRAY = 4;

function ringBench(size = 4096) {
  const b = new Bench();
  const rb = b.map({ type: RINGBUF, keySize: 0, valueSize: 0, maxEntries: size }) as RingBufMap;
  return { b, rb };
}

describe("bpf_ringbuf_*", () => {
  it("reserves a writable record of exactly size bytes and submits it", () => {
    const { b, rb } = ringBench();
    const rec = Number(b.call(F.ringbuf_reserve, rb.handle, 12, 0));
    expect(rec).not.toBe(0);
    b.env.checkMem(rec, 0, 12, true, "record");
    expect(() => b.env.checkMem(rec, 0, 13, true, "record")).toThrow(MemoryAccessError);
    b.write(rec, [...le32(1), ...le32(2), ...le32(3)]);
    expect(b.call(F.ringbuf_query, rb.handle, 0)).toBe(24n); // header + 12 bytes, padded to 8
    expect(b.call(F.ringbuf_query, rb.handle, 3)).toBe(24n);
    expect(rb.records()).toEqual([]); // still busy
    expect(b.int(F.ringbuf_submit, rec, 0)).toBe(0);
    expect(rb.records().map((r) => Array.from(r))).toEqual([[...le32(1), ...le32(2), ...le32(3)]]);
    // the record is gone from the program's memory; submitting again is refused
    expect(() => b.env.checkMem(rec, 0, 1, false, "record")).toThrow(MemoryAccessError);
    expect(() => b.call(F.ringbuf_submit, rec, 0)).toThrow(HelperError);
  });

  it("discards records and answers queries", () => {
    const { b, rb } = ringBench();
    const rec = Number(b.call(F.ringbuf_reserve, rb.handle, 8, 0));
    expect(b.int(F.ringbuf_discard, rec, 2)).toBe(0);
    expect(rb.records()).toEqual([]);
    expect(b.call(F.ringbuf_query, rb.handle, 1)).toBe(4096n);
    expect(b.call(F.ringbuf_query, rb.handle, 2)).toBe(0n);
    expect(b.call(F.ringbuf_query, rb.handle, 3)).toBe(16n);
    expect(b.call(F.ringbuf_query, rb.handle, 9)).toBe(0n);
    rb.drain();
    expect(b.call(F.ringbuf_query, rb.handle, 2)).toBe(16n);
    expect(b.call(F.ringbuf_query, rb.handle, 0)).toBe(0n);
  });

  it("returns NULL for bad flags or no room", () => {
    const { b, rb } = ringBench();
    expect(b.call(F.ringbuf_reserve, rb.handle, 8, 1)).toBe(0n);
    expect(b.call(F.ringbuf_reserve, rb.handle, 4096, 0)).toBe(0n);
    expect(b.call(F.ringbuf_reserve, rb.handle, 1n << 32n, 0)).toBe(0n);
    const a = b.call(F.ringbuf_reserve, rb.handle, 4000, 0);
    expect(a).not.toBe(0n);
    expect(b.call(F.ringbuf_reserve, rb.handle, 100, 0)).toBe(0n);
    expect(b.int(F.ringbuf_discard, a, 0)).toBe(0);
  });

  it("outputs copies with -EINVAL / -EAGAIN", () => {
    const { b, rb } = ringBench();
    const data = b.region(6, [1, 2, 3, 4, 5, 6], true);
    expect(b.int(F.ringbuf_output, rb.handle, data, 6, 0)).toBe(0);
    expect(b.int(F.ringbuf_output, rb.handle, data, 6, 3)).toBe(0);
    expect(b.int(F.ringbuf_output, rb.handle, data, 6, 4)).toBe(-22);
    expect(rb.records().map((r) => Array.from(r))).toEqual([
      [1, 2, 3, 4, 5, 6],
      [1, 2, 3, 4, 5, 6],
    ]);
    const big = b.region(4096);
    expect(b.int(F.ringbuf_output, rb.handle, big, 4096, 0)).toBe(-11);
    expect(() => b.call(F.ringbuf_output, rb.handle, data, 7, 0)).toThrow(/r2 \(data\)/);
  });

  it("refuses pointers that are not records and maps that are not ring buffers", () => {
    const { b } = ringBench();
    const r = b.region(8);
    expect(() => b.call(F.ringbuf_submit, r, 0)).toThrow(/bpf_ringbuf_submit.*not a record/);
    expect(() => b.call(F.ringbuf_discard, 0, 0)).toThrow(HelperError);
    const arr = b.map({ type: 2 });
    expect(() => b.call(F.ringbuf_reserve, arr.handle, 8, 0)).toThrow(HelperError);
  });
});

describe("bpf_perf_event_output", () => {
  function perfBench(cpus = 2) {
    const b = new Bench({}, cpus);
    const pe = b.map({
      type: PERF_EVENT_ARRAY,
      keySize: 4,
      valueSize: 4,
      maxEntries: 4,
    }) as PerfEventArrayMap;
    pe.openAll();
    return { b, pe };
  }

  it("emits to the current CPU's event, or the one flags name", () => {
    const { b, pe } = perfBench();
    const data = b.region(5, [1, 2, 3, 4, 5]);
    expect(b.int(F.perf_event_output, 0, pe.handle, 0xffff_ffff, data, 5)).toBe(0);
    expect(b.int(F.perf_event_output, 0, pe.handle, 0, data, 2)).toBe(0);
    expect(b.int(F.perf_event_output, 0, pe.handle, 1, data, 2)).toBe(-95); // event on cpu 1
    expect(b.int(F.perf_event_output, 0, pe.handle, 2, data, 2)).toBe(-2); // no event
    expect(b.int(F.perf_event_output, 0, pe.handle, 4, data, 2)).toBe(-7);
    expect(b.int(F.perf_event_output, 0, pe.handle, 1n << 32n, data, 2)).toBe(-22);
    expect(pe.drain().map((r) => [r.cpu, r.index, Array.from(r.data)])).toEqual([
      [0, 0, [1, 2, 3, 4, 5]],
      [0, 0, [1, 2]],
    ]);
    expect(() => b.call(F.perf_event_output, 0, pe.handle, 0, data, 6)).toThrow(/r4 \(data\)/);
  });

  it("appends BPF_F_CTXLEN_MASK packet bytes for programs with a packet", () => {
    const { b, pe } = perfBench(1);
    const seg = b.m.mem.mapRegion("packet", 20, SegmentFlags.WRITABLE);
    b.write(
      seg.base,
      Array.from({ length: 20 }, (_, i) => 100 + i),
    );
    const packet: PacketContext = {
      data: seg.base,
      dataEnd: seg.base + 20,
      dataMeta: seg.base,
      frameStart: seg.base,
      frameEnd: seg.base + 20,
      commit() {},
    };
    b.m.run = { ctxAddr: 0, packet };
    b.env.progType = 3;
    const meta = b.region(2, [7, 8]);
    expect(b.int(F.perf_event_output, 0, pe.handle, (3n << 32n) | 0xffff_ffffn, meta, 2)).toBe(0);
    expect(b.int(F.perf_event_output, 0, pe.handle, 21n << 32n, meta, 2)).toBe(-14);
    expect(b.int(F.perf_event_output, 0, pe.handle, 20n << 32n, meta, 0)).toBe(0);
    expect(b.int(F.perf_event_output, 0, pe.handle, 1n << 52n, meta, 2)).toBe(-22);
    const recs = pe.drain().map((r) => Array.from(r.data));
    expect(recs[0]).toEqual([7, 8, 100, 101, 102]);
    expect(recs[1]).toHaveLength(20);
    expect(recs).toHaveLength(2);
  });

  it("wants a perf event array", () => {
    const b = new Bench();
    const arr = b.map({ type: 2 });
    expect(() => b.call(F.perf_event_output, 0, arr.handle, 0, b.region(4), 4)).toThrow(
      /bpf_perf_event_output: map "m" \(type 2\)/,
    );
  });
});
