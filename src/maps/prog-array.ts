/**
 * `BPF_MAP_TYPE_PROG_ARRAY` (3): the slots `bpf_tail_call` jumps through.
 *
 * - The host fills slots with {@link ProgArrayMap.setSlot} (typed: a slot holds a `T`, the
 *   runtime's program object) and the tail-call path reads them with
 *   {@link ProgArrayMap.getSlot}, at the moment of the call.
 * - Programs cannot read or change a prog_array: the verifier refuses
 *   `bpf_map_lookup/update/delete_elem` on it; at run time tsbpf returns NULL from a lookup
 *   (the kernel's `fd_array_map_lookup_elem` gives no value either) and -EINVAL from update and
 *   delete.
 * - Owner and program-type checks are the runtime's job (see DESIGN.md), not this map's.
 * - For the JIT, slots are mirrored in linear memory as u32s at {@link ProgArrayMap.tableAddr}
 *   (`idOf(prog)`, 0 for empty), in a segment programs cannot access.
 * - Host byte API (`BPF_MAP_UPDATE_ELEM` with a program "fd"): `update` resolves the 4-byte
 *   value with {@link ProgArrayMap.progByFd} and accepts `BPF_ANY` only (-EINVAL otherwise);
 *   `lookup` returns `idOf(prog)` (Linux returns the program id); `delete` of an empty slot is
 *   ENOENT; an index past the end is E2BIG. `keys()` lists every index, as the kernel's
 *   get_next_key does.
 */
import { E2BIG, EBADF, EINVAL, ENOENT } from "../errno.js";
import type { Segment } from "../memory/address-space.js";
import { BaseMap, readU32, u32Bytes, u64 } from "./base.js";
import { BPF_ANY } from "./constants.js";
import type { MapDefinition, MapEnv } from "./types.js";

/** A prog_array whose slots hold programs of type `T`. */
export class ProgArrayMap<T = unknown> extends BaseMap {
  /** Number the slot table stores for a program (non-zero). Default: 1 for every program. */
  idOf: (prog: T) => number = () => 1;
  /** Resolves the 4-byte value of a host byte update to a program. Default: none resolve. */
  progByFd: (fd: number) => T | undefined = () => undefined;
  /** Filled slots only: memory follows what the array holds, not max_entries. */
  private readonly slots = new Map<number, T>();
  private readonly table: Segment;

  constructor(def: MapDefinition, env: MapEnv, handle: number) {
    super(def, env, handle);
    // valueSize 0: mapped, but never accessible to programs.
    this.table = this.mapSegment("slots", def.maxEntries, 4, 0, false);
  }

  /** Address of the u32 slot table (`idOf(prog)` or 0 per slot). */
  get tableAddr(): number {
    return this.table.base;
  }

  /** Number of slots. */
  get size(): number {
    return this.def.maxEntries;
  }

  /** Puts a program in slot `index` (null empties it). Throws E2BIG past the end. */
  setSlot(index: number, prog: T | null): void {
    if (!(Number.isInteger(index) && index >= 0 && index < this.def.maxEntries)) {
      this.fail(`slot ${index} outside 0..${this.def.maxEntries - 1}`, -E2BIG);
    }
    if (prog === null) this.slots.delete(index);
    else this.slots.set(index, prog);
    const id = prog === null ? 0 : this.idOf(prog) >>> 0 || 1;
    this.mem.dv.setUint32(this.table.base + index * 4, id, true);
  }

  /** The programs in the slots (a program in two slots comes twice). */
  programs(): IterableIterator<T> {
    return this.slots.values();
  }

  /** The program in slot `index` (the low 32 bits of the index count), or undefined. */
  getSlot(index: number | bigint): T | undefined {
    const i = typeof index === "bigint" ? Number(BigInt.asUintN(32, index)) : index >>> 0;
    return this.slots.get(i);
  }

  override lookupElem(_keyAddr: number): number {
    return 0;
  }

  override updateElem(_keyAddr: number, _valueAddr: number, _flags: bigint): number {
    return -EINVAL;
  }

  override deleteElem(_keyAddr: number): number {
    return -EINVAL;
  }

  lookup(key: Uint8Array): Uint8Array | undefined {
    this.checkHostRead("lookup");
    this.checkSize("key", key, 4);
    const prog = this.getSlot(readU32(key, 0));
    return prog === undefined ? undefined : u32Bytes(this.idOf(prog) >>> 0);
  }

  update(key: Uint8Array, value: Uint8Array, flags = 0n): void {
    this.checkHostWrite("update");
    this.checkSize("key", key, 4);
    this.checkSize("value", value, 4);
    if (u64(flags) !== BPF_ANY) this.fail("update: prog_array takes BPF_ANY only", -EINVAL);
    const index = readU32(key, 0);
    if (index >= this.def.maxEntries) this.fail(`update: slot ${index}`, -E2BIG);
    const fd = readU32(value, 0);
    const prog = this.progByFd(fd);
    if (prog === undefined) this.fail(`update: no program ${fd}`, -EBADF);
    this.setSlot(index, prog);
  }

  delete(key: Uint8Array): void {
    this.checkHostWrite("delete");
    this.checkSize("key", key, 4);
    const index = readU32(key, 0);
    if (index >= this.def.maxEntries) this.fail(`delete: slot ${index}`, -E2BIG);
    if (!this.slots.has(index)) this.fail(`delete: slot ${index} is empty`, -ENOENT);
    this.setSlot(index, null);
  }

  *keys(): Generator<Uint8Array> {
    for (let i = 0; i < this.def.maxEntries; i++) yield u32Bytes(i);
  }

  /** Empties every slot (what the kernel does when the last user reference goes). */
  clear(): void {
    for (const i of [...this.slots.keys()]) this.setSlot(i, null);
  }

  override destroy(): void {
    this.slots.clear();
    this.mem.unmap(this.table);
  }
}
