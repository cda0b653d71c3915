/**
 * Ring buffer and perf event output helpers, after the kernel's `kernel/bpf/ringbuf.c`,
 * `kernel/trace/bpf_trace.c` and `net/core/filter.c`: `bpf_ringbuf_output` (130),
 * `bpf_ringbuf_reserve` (131), `bpf_ringbuf_submit` (132), `bpf_ringbuf_discard` (133),
 * `bpf_ringbuf_query` (134), `bpf_perf_event_output` (25).
 *
 * - The ring buffer map does the work (`src/maps/ringbuf.ts`): reserve gives a record address
 *   (a region of exactly `size` writable bytes) or 0 (flags != 0, too big, no room); output
 *   gives 0, -EINVAL (flags other than BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP) or -EAGAIN;
 *   query gives available data (0), ring size (1), consumer (2) or producer (3) position, else
 *   0. Submit and discard return 0 (the kernel's helpers are void).
 * - Submit/discard take only the record: tsbpf remembers which ring buffer reserved each
 *   outstanding record. A pointer that is not one is a HelperError (the verifier refuses it).
 * - perf_event_output(ctx, map, flags, data, size): for programs with a packet (tc, xdp...)
 *   flags may carry BPF_F_CTXLEN_MASK (bits 32..51): that many packet bytes from `data` are
 *   appended to the record (-EFAULT when the packet is shorter); other bits above the index are
 *   -EINVAL. The perf event array map checks the index (BPF_F_CURRENT_CPU = this CPU): -E2BIG,
 *   -ENOENT, -EOPNOTSUPP, -ENOSPC as the kernel.
 */
import { EFAULT, EINVAL } from "../errno.js";
import type { AddressSpace } from "../memory/address-space.js";
import type { BpfMap } from "../maps/types.js";
import { BPF_FUNC, mapArg, mapTypeSet, misuse, retInt, retU32, retU64, u64Arg } from "./common.js";
import type { HelperDef, HelperEnv } from "./types.js";

/** What the helpers need of a ring buffer map (`RingBufMap` in `src/maps/ringbuf.ts`). */
export interface RingbufLike extends BpfMap {
  /** A record of `size` bytes: its address, or 0. */
  reserve(size: number, flags: bigint): number;
  /** Commits a reserved record: 0 or -EINVAL. */
  submit(addr: number, flags?: bigint): number;
  /** Discards a reserved record: 0 or -EINVAL. */
  discard(addr: number, flags?: bigint): number;
  /** Copies `size` bytes at `dataAddr` into a new record: 0 or a negative errno. */
  output(dataAddr: number, size: number, flags: bigint): number;
  /** `bpf_ringbuf_query`. */
  query(flags: bigint): bigint;
}

/** What `bpf_perf_event_output` needs of a perf event array (`PerfEventArrayMap`). */
export interface PerfEventOutputLike extends BpfMap {
  /** Emits a record to the event `flags` selects: 0 or a negative errno. */
  output(flags: bigint, data: Uint8Array): number;
}

const RINGBUF_OK = mapTypeSet([27]);
const PERF_OK = mapTypeSet([4]);
const CTXLEN_MASK_HI = 0xfffff;

/** Outstanding reservations: record address → the ring buffer that made it. */
const outstanding = new WeakMap<AddressSpace, Map<number, RingbufLike>>();

function reservationsOf(mem: AddressSpace): Map<number, RingbufLike> {
  let m = outstanding.get(mem);
  if (m === undefined) {
    m = new Map();
    outstanding.set(mem, m);
  }
  return m;
}

function ringbufOf(env: HelperEnv, regs: Int32Array, id: number): RingbufLike {
  const map = mapArg(env, regs, id, 1, RINGBUF_OK) as Partial<RingbufLike> & BpfMap;
  if (typeof map.reserve !== "function" || typeof map.query !== "function") {
    misuse(env, id, `map "${map.def.name}" is not a ring buffer tsbpf can write`);
  }
  return map as RingbufLike;
}

/** `void *bpf_ringbuf_reserve(map, u64 size, u64 flags)`. */
function ringbufReserve(env: HelperEnv, regs: Int32Array): void {
  const rb = ringbufOf(env, regs, BPF_FUNC.ringbuf_reserve);
  const size = (regs[4] >>> 0) + (regs[5] >>> 0) * 2 ** 32;
  const addr = rb.reserve(size, u64Arg(regs[6], regs[7]));
  if (addr !== 0) reservationsOf(env.mem).set(addr, rb);
  retU32(regs, addr);
}

/** `bpf_ringbuf_submit` / `bpf_ringbuf_discard(void *data, u64 flags)`. */
function commit(env: HelperEnv, regs: Int32Array, id: number, discard: boolean): void {
  const addr = regs[2] >>> 0;
  const res = reservationsOf(env.mem);
  const rb = regs[3] === 0 ? res.get(addr) : undefined;
  if (rb === undefined) {
    misuse(env, id, `r1 (0x${addr.toString(16)}) is not a record from bpf_ringbuf_reserve`);
  }
  const flags = u64Arg(regs[4], regs[5]);
  const err = discard ? rb.discard(addr, flags) : rb.submit(addr, flags);
  if (err < 0) misuse(env, id, `r1 (0x${addr.toString(16)}) is not an outstanding record`);
  res.delete(addr);
  retInt(regs, 0);
}

function ringbufSubmit(env: HelperEnv, regs: Int32Array): void {
  commit(env, regs, BPF_FUNC.ringbuf_submit, false);
}

function ringbufDiscard(env: HelperEnv, regs: Int32Array): void {
  commit(env, regs, BPF_FUNC.ringbuf_discard, true);
}

/** `long bpf_ringbuf_output(map, void *data, u64 size, u64 flags)`. */
function ringbufOutput(env: HelperEnv, regs: Int32Array): void {
  const rb = ringbufOf(env, regs, BPF_FUNC.ringbuf_output);
  const size = (regs[6] >>> 0) + (regs[7] >>> 0) * 2 ** 32;
  env.checkMem(regs[4], regs[5], size, false, "r2 (data)");
  retInt(regs, rb.output(regs[4] >>> 0, size, u64Arg(regs[8], regs[9])));
}

/** `u64 bpf_ringbuf_query(map, u64 flags)`. */
function ringbufQuery(env: HelperEnv, regs: Int32Array): void {
  const rb = ringbufOf(env, regs, BPF_FUNC.ringbuf_query);
  retU64(regs, rb.query(u64Arg(regs[4], regs[5])));
}

/** `long bpf_perf_event_output(ctx, map, u64 flags, void *data, u64 size)`. */
function perfEventOutput(env: HelperEnv, regs: Int32Array): void {
  const id = BPF_FUNC.perf_event_output;
  const map = mapArg(env, regs, id, 2, PERF_OK) as Partial<PerfEventOutputLike> & BpfMap;
  if (typeof map.output !== "function") {
    misuse(env, id, `map "${map.def.name}" is not a perf event array tsbpf can write`);
  }
  const size = (regs[10] >>> 0) + (regs[11] >>> 0) * 2 ** 32;
  env.checkMem(regs[8], regs[9], size, false, "r4 (data)");
  const src = regs[8] >>> 0;
  const p = env.run.packet;
  if (p === undefined) {
    const data = env.mem.read(src, size);
    return retInt(regs, map.output(u64Arg(regs[6], regs[7]), data));
  }
  if ((regs[7] & ~CTXLEN_MASK_HI) !== 0) return retInt(regs, -EINVAL);
  const ctxLen = regs[7] & CTXLEN_MASK_HI;
  if (ctxLen > p.dataEnd - p.data) return retInt(regs, -EFAULT);
  const data = new Uint8Array(size + ctxLen);
  const u8 = env.mem.u8;
  data.set(u8.subarray(src, src + size), 0);
  data.set(u8.subarray(p.data, p.data + ctxLen), size);
  retInt(regs, map.output(u64Arg(regs[6], 0), data));
}

/** The ring buffer and perf event helpers. */
export const RINGBUF_HELPERS: readonly HelperDef[] = [
  { id: BPF_FUNC.ringbuf_output, name: "bpf_ringbuf_output", fn: ringbufOutput },
  { id: BPF_FUNC.ringbuf_reserve, name: "bpf_ringbuf_reserve", fn: ringbufReserve },
  { id: BPF_FUNC.ringbuf_submit, name: "bpf_ringbuf_submit", fn: ringbufSubmit },
  { id: BPF_FUNC.ringbuf_discard, name: "bpf_ringbuf_discard", fn: ringbufDiscard },
  { id: BPF_FUNC.ringbuf_query, name: "bpf_ringbuf_query", fn: ringbufQuery },
  { id: BPF_FUNC.perf_event_output, name: "bpf_perf_event_output", fn: perfEventOutput },
];
