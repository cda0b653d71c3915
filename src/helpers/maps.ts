/**
 * Generic map helpers: `bpf_map_lookup_elem` (1), `bpf_map_update_elem` (2),
 * `bpf_map_delete_elem` (3), `bpf_map_push_elem` (87), `bpf_map_pop_elem` (88),
 * `bpf_map_peek_elem` (89), after the kernel's `kernel/bpf/helpers.c`.
 *
 * - r1 is a map handle; a value that names no map, or a map type the kernel's verifier refuses
 *   for the helper (`check_map_func_compatibility`: no lookup on prog_array, perf_event_array,
 *   ringbuf, queue/stack, bloom filter...; only lookup on maps of maps; push/pop/peek only on
 *   queue/stack, push/peek on bloom filters), is a {@link HelperError} naming the helper.
 * - Key and value pointers are checked for `key_size` / `value_size` bytes before the map
 *   touches them (a bad pointer is a MemoryAccessError naming the argument).
 * - Results as the kernel returns them: lookup gives the value address or 0 (for maps of maps,
 *   the inner map's handle); the others 0 or a negative errno, sign-extended to 64 bits.
 * - `BPF_F_RDONLY_PROG` maps: the kernel's verifier refuses update, delete, push and pop on
 *   them ("write into map forbidden"); tsbpf returns -EPERM at run time instead.
 */
import { EPERM } from "../errno.js";
import type { BpfMap } from "../maps/types.js";
import { BPF_FUNC, mapArg, mapTypeSet, retInt, retU32, u64Arg } from "./common.js";
import type { HelperDef, HelperEnv } from "./types.js";

const BPF_F_RDONLY_PROG = 0x80;

const T_PROG_ARRAY = 3;
const T_PERF_EVENT_ARRAY = 4;
const T_STACK_TRACE = 7;
const T_CGROUP_ARRAY = 8;
const T_ARRAY_OF_MAPS = 12;
const T_HASH_OF_MAPS = 13;
const T_QUEUE = 22;
const T_STACK = 23;
const T_RINGBUF = 27;
const T_BLOOM_FILTER = 30;
const T_USER_RINGBUF = 31;
const T_ARENA = 33;

const NOT_KEYED = [
  T_PROG_ARRAY,
  T_PERF_EVENT_ARRAY,
  T_STACK_TRACE,
  T_CGROUP_ARRAY,
  T_QUEUE,
  T_STACK,
  T_RINGBUF,
  T_BLOOM_FILTER,
  T_USER_RINGBUF,
  T_ARENA,
];
const LOOKUP_OK = mapTypeSet(NOT_KEYED, true);
const UPDATE_OK = mapTypeSet([...NOT_KEYED, T_ARRAY_OF_MAPS, T_HASH_OF_MAPS], true);
const PUSH_PEEK_OK = mapTypeSet([T_QUEUE, T_STACK, T_BLOOM_FILTER]);
const POP_OK = mapTypeSet([T_QUEUE, T_STACK]);

/** The map r1 names, of a type in `ok`. */
function mapOf(env: HelperEnv, regs: Int32Array, id: number, ok: Uint8Array): BpfMap {
  return mapArg(env, regs, id, 1, ok);
}

/** `void *bpf_map_lookup_elem(map, key)`. */
function mapLookupElem(env: HelperEnv, regs: Int32Array): void {
  const map = mapOf(env, regs, BPF_FUNC.map_lookup_elem, LOOKUP_OK);
  env.checkMem(regs[4], regs[5], map.def.keySize, false, "r2 (key)");
  retU32(regs, map.lookupElem(regs[4] >>> 0));
}

/** `long bpf_map_update_elem(map, key, value, flags)`. */
function mapUpdateElem(env: HelperEnv, regs: Int32Array): void {
  const map = mapOf(env, regs, BPF_FUNC.map_update_elem, UPDATE_OK);
  env.checkMem(regs[4], regs[5], map.def.keySize, false, "r2 (key)");
  env.checkMem(regs[6], regs[7], map.def.valueSize, false, "r3 (value)");
  if (map.def.flags & BPF_F_RDONLY_PROG) return retInt(regs, -EPERM);
  retInt(regs, map.updateElem(regs[4] >>> 0, regs[6] >>> 0, u64Arg(regs[8], regs[9])));
}

/** `long bpf_map_delete_elem(map, key)`. */
function mapDeleteElem(env: HelperEnv, regs: Int32Array): void {
  const map = mapOf(env, regs, BPF_FUNC.map_delete_elem, UPDATE_OK);
  env.checkMem(regs[4], regs[5], map.def.keySize, false, "r2 (key)");
  if (map.def.flags & BPF_F_RDONLY_PROG) return retInt(regs, -EPERM);
  retInt(regs, map.deleteElem(regs[4] >>> 0));
}

/** `long bpf_map_push_elem(map, value, flags)`. */
function mapPushElem(env: HelperEnv, regs: Int32Array): void {
  const map = mapOf(env, regs, BPF_FUNC.map_push_elem, PUSH_PEEK_OK);
  env.checkMem(regs[4], regs[5], map.def.valueSize, false, "r2 (value)");
  if (map.def.flags & BPF_F_RDONLY_PROG) return retInt(regs, -EPERM);
  retInt(regs, map.pushElem(regs[4] >>> 0, u64Arg(regs[6], regs[7])));
}

/** `long bpf_map_pop_elem(map, value)`: the value is written. */
function mapPopElem(env: HelperEnv, regs: Int32Array): void {
  const map = mapOf(env, regs, BPF_FUNC.map_pop_elem, POP_OK);
  env.checkMem(regs[4], regs[5], map.def.valueSize, true, "r2 (value)");
  if (map.def.flags & BPF_F_RDONLY_PROG) return retInt(regs, -EPERM);
  retInt(regs, map.popElem(regs[4] >>> 0));
}

/**
 * `long bpf_map_peek_elem(map, value)`: written for queues and stacks; for a bloom filter the
 * value is the one tested, so it is only read.
 */
function mapPeekElem(env: HelperEnv, regs: Int32Array): void {
  const map = mapOf(env, regs, BPF_FUNC.map_peek_elem, PUSH_PEEK_OK);
  const write = map.def.type !== T_BLOOM_FILTER;
  env.checkMem(regs[4], regs[5], map.def.valueSize, write, "r2 (value)");
  retInt(regs, map.peekElem(regs[4] >>> 0));
}

/** The generic map helpers. */
export const MAP_HELPERS: readonly HelperDef[] = [
  { id: BPF_FUNC.map_lookup_elem, name: "bpf_map_lookup_elem", fn: mapLookupElem },
  { id: BPF_FUNC.map_update_elem, name: "bpf_map_update_elem", fn: mapUpdateElem },
  { id: BPF_FUNC.map_delete_elem, name: "bpf_map_delete_elem", fn: mapDeleteElem },
  { id: BPF_FUNC.map_push_elem, name: "bpf_map_push_elem", fn: mapPushElem },
  { id: BPF_FUNC.map_pop_elem, name: "bpf_map_pop_elem", fn: mapPopElem },
  { id: BPF_FUNC.map_peek_elem, name: "bpf_map_peek_elem", fn: mapPeekElem },
];
