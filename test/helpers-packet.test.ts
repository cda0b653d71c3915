import { describe, expect, it } from "vitest";
import { BPF_FUNC as F, redirectTarget, type PacketContext } from "../src/helpers/index.js";
import { HelperError, MemoryAccessError } from "../src/errors.js";
import { SegmentFlags } from "../src/memory/layout.js";
import { Bench } from "./helpers-harness.js";

const XDP = 6;
const SCHED_CLS = 3;
const HEADROOM = 256;
const FRAME = 4096;
const TAILROOM = 320;
const XDP_FRAME_SIZE = 40; // sizeof(struct xdp_frame)

/** An XDP test-run frame as the kernel builds it, with `data` bytes and `meta` metadata bytes. */
function xdpBench(data: number[], meta = 0) {
  const b = new Bench();
  b.env.progType = XDP;
  const mem = b.m.mem;
  const frame = mem.mapRegion("packet", FRAME, SegmentFlags.WRITABLE);
  const ctx = mem.mapRegion("ctx", 24, 0);
  const hard = frame.base;
  const start = hard + HEADROOM;
  mem.write(start, Uint8Array.from(data));
  const packet: PacketContext = {
    data: start,
    dataEnd: start + data.length,
    dataMeta: start - meta,
    frameStart: hard + XDP_FRAME_SIZE,
    frameEnd: hard + FRAME - TAILROOM,
    commit() {
      const dv = mem.dv;
      dv.setUint32(ctx.base, this.data, true);
      dv.setUint32(ctx.base + 4, this.dataEnd, true);
      dv.setUint32(ctx.base + 8, this.dataMeta, true);
      mem.setWindow(frame, Math.min(this.dataMeta, this.data), this.dataEnd);
    },
  };
  packet.commit();
  b.m.run = { ctxAddr: ctx.base, packet };
  return { b, p: packet, hard, ctx: ctx.base };
}

/** A tc skb with `data` bytes and 64 bytes of headroom. */
function skbBench(data: number[]) {
  const b = new Bench();
  b.env.progType = SCHED_CLS;
  const mem = b.m.mem;
  const frame = mem.mapRegion("packet", 64 + data.length + 320, SegmentFlags.WRITABLE);
  const start = frame.base + 64;
  mem.write(start, Uint8Array.from(data));
  const packet: PacketContext = {
    data: start,
    dataEnd: start + data.length,
    dataMeta: start,
    frameStart: frame.base,
    frameEnd: frame.base + frame.bytes,
    commit() {
      mem.setWindow(frame, this.dataMeta, this.dataEnd);
    },
  };
  packet.commit();
  b.m.run = { ctxAddr: 0, packet };
  return { b, p: packet };
}

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => (from + i) & 0xff);

describe("bpf_xdp_adjust_head", () => {
  it("moves data within [xdp_frame end + metalen, data_end - 14]", () => {
    const { b, p, hard, ctx } = xdpBench(range(64));
    expect(b.int(F.xdp_adjust_head, ctx, -(HEADROOM - XDP_FRAME_SIZE) - 1)).toBe(-22);
    expect(b.int(F.xdp_adjust_head, ctx, -(HEADROOM - XDP_FRAME_SIZE))).toBe(0);
    expect(p.data).toBe(hard + XDP_FRAME_SIZE);
    expect(p.dataMeta).toBe(p.data);
    expect(b.m.mem.dv.getUint32(ctx, true)).toBe(p.data); // committed
    expect(b.int(F.xdp_adjust_head, ctx, HEADROOM - XDP_FRAME_SIZE + 50)).toBe(0);
    expect(p.dataEnd - p.data).toBe(14);
    expect(b.read(p.data, 14)).toEqual(range(14, 50));
    expect(b.int(F.xdp_adjust_head, ctx, 1)).toBe(-22);
    // the packet window follows: the bytes before data are no longer accessible
    expect(() => b.env.checkMem(p.data - 1, 0, 1, false, "x")).toThrow(MemoryAccessError);
  });

  it("moves the metadata with data", () => {
    const { b, p, hard, ctx } = xdpBench(range(32), 8);
    b.write(p.dataMeta, [1, 2, 3, 4, 5, 6, 7, 8]);
    expect(b.int(F.xdp_adjust_head, ctx, -16)).toBe(0);
    expect(p.data - p.dataMeta).toBe(8);
    expect(b.read(p.dataMeta, 8)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // the floor counts the metadata
    const room = p.dataMeta - (hard + XDP_FRAME_SIZE);
    expect(b.int(F.xdp_adjust_head, ctx, -room - 1)).toBe(-22);
    expect(b.int(F.xdp_adjust_head, ctx, -room)).toBe(0);
    expect(p.dataMeta).toBe(hard + XDP_FRAME_SIZE);
  });

  it("is XDP only", () => {
    const { b } = skbBench(range(20));
    expect(() => b.call(F.xdp_adjust_head, 0, 0)).toThrow(HelperError);
    expect(() => b.call(F.xdp_adjust_head, 0, 0)).toThrow(/bpf_xdp_adjust_head.*XDP only/);
  });
});

describe("bpf_xdp_adjust_tail", () => {
  it("grows up to the frame end minus the shared-info tailroom, zeroing, and shrinks to 14", () => {
    const { b, p, hard, ctx } = xdpBench(range(100));
    b.write(p.dataEnd, [0xaa, 0xbb]); // stale bytes past the end
    expect(b.int(F.xdp_adjust_tail, ctx, 4)).toBe(0);
    expect(b.read(p.dataEnd - 6, 6)).toEqual([98, 99, 0, 0, 0, 0]);
    const max = hard + FRAME - TAILROOM - p.dataEnd;
    expect(b.int(F.xdp_adjust_tail, ctx, max + 1)).toBe(-22);
    expect(b.int(F.xdp_adjust_tail, ctx, max)).toBe(0);
    expect(p.dataEnd).toBe(hard + FRAME - TAILROOM);
    expect(b.m.mem.dv.getUint32(ctx + 4, true)).toBe(p.dataEnd);
    const len = p.dataEnd - p.data;
    expect(b.int(F.xdp_adjust_tail, ctx, -(len - 14) - 1)).toBe(-22);
    expect(b.int(F.xdp_adjust_tail, ctx, -(len - 14))).toBe(0);
    expect(b.call(F.xdp_get_buff_len, ctx)).toBe(14n);
  });
});

describe("bpf_xdp_adjust_meta", () => {
  it("accepts 4-aligned metadata up to 255 bytes above the xdp_frame", () => {
    const { b, p, ctx } = xdpBench(range(20));
    expect(b.int(F.xdp_adjust_meta, ctx, -6)).toBe(-13); // -EACCES: not 4-aligned
    expect(b.int(F.xdp_adjust_meta, ctx, 4)).toBe(-22); // past data
    expect(b.int(F.xdp_adjust_meta, ctx, -32)).toBe(0);
    expect(p.data - p.dataMeta).toBe(32);
    expect(b.m.mem.dv.getUint32(ctx + 8, true)).toBe(p.dataMeta);
    expect(b.int(F.xdp_adjust_meta, ctx, -184)).toBe(0); // 216 bytes
    expect(b.int(F.xdp_adjust_meta, ctx, -4)).toBe(-22); // below the xdp_frame
    expect(b.int(F.xdp_adjust_meta, ctx, 216)).toBe(0);
    expect(p.dataMeta).toBe(p.data);
  });

  it("caps the metadata at 255 bytes (252 aligned)", () => {
    const { b, p, ctx } = xdpBench(range(100));
    expect(b.int(F.xdp_adjust_head, ctx, 87)).toBe(-22); // data_end - 14 is the limit
    expect(b.int(F.xdp_adjust_head, ctx, 60)).toBe(0); // 276 bytes above the xdp_frame
    expect(b.int(F.xdp_adjust_meta, ctx, -256)).toBe(-13);
    expect(b.int(F.xdp_adjust_meta, ctx, -252)).toBe(0);
    expect(p.data - p.dataMeta).toBe(252);
  });
});

describe("bpf_xdp_load_bytes / bpf_xdp_store_bytes", () => {
  it("copies inside [data, data_end)", () => {
    const { b, p, ctx } = xdpBench(range(40));
    const buf = b.region(8);
    expect(b.int(F.xdp_load_bytes, ctx, 32, buf, 8)).toBe(0);
    expect(b.read(buf, 8)).toEqual(range(8, 32));
    expect(b.int(F.xdp_load_bytes, ctx, 33, buf, 8)).toBe(-22);
    expect(b.int(F.xdp_load_bytes, ctx, 0x10000, buf, 8)).toBe(-14);
    b.write(buf, [9, 9, 9, 9, 9, 9, 9, 9]);
    expect(b.int(F.xdp_store_bytes, ctx, 1, buf, 4)).toBe(0);
    expect(b.read(p.data, 6)).toEqual([0, 9, 9, 9, 9, 5]);
    expect(() => b.call(F.xdp_load_bytes, ctx, 0, buf, 9)).toThrow(/r3 \(buf\)/);
  });
});

describe("bpf_skb_load_bytes / bpf_skb_store_bytes", () => {
  it("loads from the linear data with -EFAULT (and a zeroed buffer) past the end", () => {
    const { b } = skbBench(range(60));
    const to = b.region(16, new Array(16).fill(0xee));
    expect(b.int(F.skb_load_bytes, 0, 50, to, 10)).toBe(0);
    expect(b.read(to, 11)).toEqual([...range(10, 50), 0xee]);
    expect(b.int(F.skb_load_bytes, 0, 51, to, 10)).toBe(-14);
    expect(b.read(to, 11)).toEqual([...new Array(10).fill(0), 0xee]);
    expect(b.int(F.skb_load_bytes, 0, 0x8000_0000, to, 1)).toBe(-14);
    expect(() => b.call(F.skb_load_bytes, 0, 0, to, 17)).toThrow(/r3 \(to\)/);
  });

  it("stores with the kernel's flag and bound checks", () => {
    const { b, p } = skbBench(range(60));
    const from = b.region(4, [0xa, 0xb, 0xc, 0xd], true);
    expect(b.int(F.skb_store_bytes, 0, 56, from, 4, 0)).toBe(0);
    expect(b.read(p.data + 55, 5)).toEqual([55, 0xa, 0xb, 0xc, 0xd]);
    expect(b.int(F.skb_store_bytes, 0, 57, from, 4, 0)).toBe(-14);
    expect(b.int(F.skb_store_bytes, 0, 0, from, 4, 3)).toBe(0);
    expect(b.int(F.skb_store_bytes, 0, 0, from, 4, 4)).toBe(-22);
    expect(b.int(F.skb_store_bytes, 0, 0, from, 4, 1n << 32n)).toBe(-22);
    expect(() => b.call(F.skb_store_bytes, 0, 0, from, 5, 0)).toThrow(/r3 \(from\)/);
  });

  it("needs an skb", () => {
    const { b, ctx } = xdpBench(range(20));
    expect(() => b.call(F.skb_load_bytes, ctx, 0, b.region(4), 4)).toThrow(/needs an skb/);
    const g = new Bench();
    expect(() => g.call(F.skb_store_bytes, 0, 0, g.region(4), 4, 0)).toThrow(HelperError);
  });
});

describe("bpf_redirect / bpf_redirect_map", () => {
  it("returns XDP_REDIRECT or XDP_ABORTED in XDP", () => {
    const { b } = xdpBench(range(20));
    expect(b.int(F.redirect, 5, 0)).toBe(4);
    expect(redirectTarget(b.m.run)).toEqual({ ifindex: 5, flags: 0 });
    expect(b.int(F.redirect, 5, 1)).toBe(0);
  });

  it("returns TC_ACT_REDIRECT or TC_ACT_SHOT in tc", () => {
    const { b } = skbBench(range(20));
    expect(b.int(F.redirect, 3, 1)).toBe(7);
    expect(redirectTarget(b.m.run)).toEqual({ ifindex: 3, flags: 1 });
    expect(b.int(F.redirect, 3, 0)).toBe(7);
    expect(b.int(F.redirect, 3, 2)).toBe(2);
    expect(b.int(F.redirect, 3, 1n << 32n)).toBe(2);
  });

  it("falls back to flags & 3 when the map has no target", () => {
    const { b } = xdpBench(range(20));
    const map = b.map({ type: 2 });
    expect(b.int(F.redirect, 5, 0)).toBe(4);
    expect(b.int(F.redirect_map, map.handle, 0, 2)).toBe(2);
    expect(redirectTarget(b.m.run)).toBeUndefined();
    expect(b.int(F.redirect_map, map.handle, 0, 0)).toBe(0);
    expect(b.int(F.redirect_map, map.handle, 0, 3)).toBe(3);
    expect(b.int(F.redirect_map, map.handle, 0, 4)).toBe(0); // unknown flag: XDP_ABORTED
    expect(b.int(F.redirect_map, map.handle, 0, 1n << 32n)).toBe(0);
    expect(() => b.call(F.redirect_map, 0, 0, 2)).toThrow(/not a map pointer/);
  });
});
