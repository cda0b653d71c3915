/**
 * Helpers that call back into the program, after the kernel's `kernel/bpf/bpf_iter.c`,
 * `arraymap.c` and `hashtab.c`: `bpf_loop` (181) and `bpf_for_each_map_elem` (164).
 *
 * - `bpf_loop(nr_loops, callback, ctx, flags)`: flags other than 0 are -EINVAL, then more
 *   than 1 << 23 loops -E2BIG; calls `callback(i, ctx)` for i = 0.. until it returns non-zero
 *   (the verifier allows only 0 and 1) and returns the number of calls made.
 * - `bpf_for_each_map_elem(map, callback, ctx, flags)`: flags other than 0 are -EINVAL; calls
 *   `callback(map, key, value, ctx)` for each element — array maps every index in order,
 *   hash maps in the map's iteration order — until it returns non-zero; returns the number of
 *   calls made. Only hash, percpu_hash, lru_hash, lru_percpu_hash, array and percpu_array maps
 *   are accepted (what the kernel implements it for). `key` points to a read-only copy of the
 *   key in a scratch region (one per nesting level, exactly `key_size` bytes accessible);
 *   `value` is the element's value address (this CPU's for per-CPU maps). The keys are
 *   snapshotted first: elements deleted by the callback before their turn are skipped,
 *   elements it adds are not visited.
 * - Callbacks run on a new frame through `env.callFunction`, inside the run's instruction
 *   budget.
 */
import { E2BIG, EINVAL } from "../errno.js";
import type { AddressSpace, Segment } from "../memory/address-space.js";
import { BPF_FUNC, mapArg, mapTypeSet, misuse, retInt } from "./common.js";
import type { HelperDef, HelperEnv } from "./types.js";

/** `BPF_MAX_LOOPS`. */
export const BPF_MAX_LOOPS = 1 << 23;

const FOR_EACH_OK = mapTypeSet([1, 2, 5, 6, 9, 10]);

/** Read-only key copies handed to `bpf_for_each_map_elem` callbacks, one per nesting level. */
interface KeyScratch {
  segs: { seg: Segment; size: number }[];
  depth: number;
}

const scratches = new WeakMap<AddressSpace, KeyScratch>();

function scratchOf(mem: AddressSpace): KeyScratch {
  let s = scratches.get(mem);
  if (s === undefined) {
    s = { segs: [], depth: 0 };
    scratches.set(mem, s);
  }
  return s;
}

/** A read-only region of exactly `size` bytes for nesting level `depth`. */
function keyRegion(mem: AddressSpace, s: KeyScratch, depth: number, size: number): number {
  const have = s.segs[depth];
  if (have !== undefined && have.size === size) return have.seg.base;
  if (have !== undefined) mem.unmap(have.seg);
  const seg = mem.mapRegion("for_each key", size, 0);
  s.segs[depth] = { seg, size };
  return seg.base;
}

/** The callback address in r`reg` (a BPF_PSEUDO_FUNC value). */
function callbackArg(env: HelperEnv, regs: Int32Array, id: number, reg: number): number {
  if (regs[2 * reg + 1] !== 0) misuse(env, id, `r${reg} is not a callback function`);
  return regs[2 * reg] >>> 0;
}

/** `long bpf_loop(u32 nr_loops, void *callback_fn, void *callback_ctx, u64 flags)`. */
function loop(env: HelperEnv, regs: Int32Array): void {
  const n = regs[2] >>> 0;
  const fn = callbackArg(env, regs, BPF_FUNC.loop, 2);
  const ctx: [number, number] = [regs[6], regs[7]];
  if (regs[8] !== 0 || regs[9] !== 0) return retInt(regs, -EINVAL);
  if (n > BPF_MAX_LOOPS) return retInt(regs, -E2BIG);
  const index: [number, number] = [0, 0];
  const args = [index, ctx];
  for (let i = 0; i < n; i++) {
    index[0] = i;
    const r = env.callFunction(fn, args);
    if (r[0] !== 0 || r[1] !== 0) return retInt(regs, i + 1);
  }
  retInt(regs, n);
}

/** `long bpf_for_each_map_elem(map, void *callback_fn, void *callback_ctx, u64 flags)`. */
function forEachMapElem(env: HelperEnv, regs: Int32Array): void {
  const map = mapArg(env, regs, BPF_FUNC.for_each_map_elem, 1, FOR_EACH_OK);
  const fn = callbackArg(env, regs, BPF_FUNC.for_each_map_elem, 2);
  const ctx: [number, number] = [regs[6], regs[7]];
  if (regs[8] !== 0 || regs[9] !== 0) return retInt(regs, -EINVAL);
  const mem = env.mem;
  const s = scratchOf(mem);
  const depth = s.depth;
  const keyAddr = keyRegion(mem, s, depth, map.def.keySize);
  const keys = Array.from(map.keys());
  const value: [number, number] = [0, 0];
  const args = [[map.handle, 0] as const, [keyAddr | 0, 0] as const, value, ctx];
  let calls = 0;
  s.depth = depth + 1;
  try {
    for (const key of keys) {
      mem.u8.set(key, keyAddr);
      const v = map.lookupElem(keyAddr);
      if (v === 0) continue;
      value[0] = v | 0;
      calls++;
      const r = env.callFunction(fn, args);
      if (r[0] !== 0 || r[1] !== 0) break;
    }
  } finally {
    s.depth = depth;
  }
  retInt(regs, calls);
}

/** The callback helpers. */
export const CALLBACK_HELPERS: readonly HelperDef[] = [
  { id: BPF_FUNC.loop, name: "bpf_loop", fn: loop },
  { id: BPF_FUNC.for_each_map_elem, name: "bpf_for_each_map_elem", fn: forEachMapElem },
];
