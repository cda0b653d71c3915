/**
 * `BPF_MAP_TYPE_ARRAY_OF_MAPS` (12) and `BPF_MAP_TYPE_HASH_OF_MAPS` (13): maps whose values are
 * maps, after the kernel's `kernel/bpf/map_in_map.c`, `arraymap.c` and `hashtab.c`.
 *
 * - A value is an inner map. In Linux the host writes an inner map fd and reads back an inner
 *   map id; in tsbpf both are the inner map's **handle** (the u32 its `lddw` loads, which
 *   `env.mapByHandle` resolves). Typed host API: `setInner` / `getInner`.
 * - An inner map must match the definition's `innerMap` template as `bpf_map_meta_equal`
 *   requires (type, key size, value size, flags; for array inner maps also max_entries unless
 *   the template has `BPF_F_INNER_MAP`), else EINVAL; an unknown handle is EBADF.
 * - Programs may only look up: `bpf_map_lookup_elem` returns the inner map's handle (NULL when
 *   absent), which programs pass on to map helpers. Update and delete from a program are
 *   -EINVAL (the verifier refuses them).
 * - Array of maps: host updates take `BPF_ANY` only (-EINVAL), index >= max_entries is E2BIG,
 *   deleting an empty slot ENOENT, `keys()` lists every index. Hash of maps: `BPF_NOEXIST` /
 *   `BPF_EXIST` as for hash maps, a new key in a full map E2BIG, `keys()` in insertion order.
 * - Inner maps are not owned: destroying the outer map leaves them alone.
 */
import { E2BIG, EBADF, EEXIST, EINVAL, ENOENT } from "../errno.js";
import { BaseMap, keyId, readU32, u32Bytes, u64, type KeyId } from "./base.js";
import {
  BPF_ANY,
  BPF_EXIST,
  BPF_F_INNER_MAP,
  BPF_MAP_TYPE_ARRAY,
  BPF_NOEXIST,
} from "./constants.js";
import type { BpfMap, MapDefinition, MapEnv } from "./types.js";

/** Whether `inner` may be stored in a map-in-map created with template `tmpl`. */
export function innerMapCompatible(tmpl: MapDefinition, inner: MapDefinition): boolean {
  if (
    tmpl.type !== inner.type ||
    tmpl.keySize !== inner.keySize ||
    tmpl.valueSize !== inner.valueSize ||
    tmpl.flags !== inner.flags
  ) {
    return false;
  }
  if (tmpl.type === BPF_MAP_TYPE_ARRAY && !(tmpl.flags & BPF_F_INNER_MAP)) {
    return tmpl.maxEntries === inner.maxEntries;
  }
  return true;
}

/** Shared part of the two map-in-map types. */
abstract class MapOfMaps extends BaseMap {
  /** The inner map template. */
  readonly template: MapDefinition;

  constructor(def: MapDefinition, env: MapEnv, handle: number) {
    super(def, env, handle);
    if (def.innerMap === undefined) this.fail("no inner map definition", -EBADF);
    this.template = def.innerMap;
  }

  override updateElem(_keyAddr: number, _valueAddr: number, _flags: bigint): number {
    return -EINVAL;
  }

  override deleteElem(_keyAddr: number): number {
    return -EINVAL;
  }

  /** Checks an inner map against the template. */
  protected checkInner(what: string, inner: BpfMap): void {
    if (!innerMapCompatible(this.template, inner.def)) {
      this.fail(
        `${what}: map "${inner.def.name}" does not match the inner map definition`,
        -EINVAL,
      );
    }
  }

  /** The inner map a host value (a handle) names. */
  protected resolve(what: string, value: Uint8Array): BpfMap {
    this.checkSize("value", value, 4);
    const handle = readU32(value, 0);
    const inner = this.env.mapByHandle(handle);
    if (inner === undefined)
      this.fail(`${what}: no map with handle 0x${handle.toString(16)}`, -EBADF);
    this.checkInner(what, inner);
    return inner;
  }
}

/** `BPF_MAP_TYPE_ARRAY_OF_MAPS`. */
export class ArrayOfMapsMap extends MapOfMaps {
  /** Filled slots only: memory follows what the array holds, not max_entries. */
  private readonly slots = new Map<number, BpfMap>();

  /** Puts `inner` in slot `index` (null empties it). */
  setInner(index: number, inner: BpfMap | null): void {
    this.checkHostWrite("update");
    if (!(Number.isInteger(index) && index >= 0 && index < this.def.maxEntries)) {
      this.fail(`slot ${index} outside 0..${this.def.maxEntries - 1}`, -E2BIG);
    }
    if (inner !== null) this.checkInner("update", inner);
    if (inner === null) this.slots.delete(index);
    else this.slots.set(index, inner);
  }

  /** The inner map in slot `index`, or undefined. */
  getInner(index: number): BpfMap | undefined {
    return this.slots.get(index >>> 0);
  }

  override lookupElem(keyAddr: number): number {
    const index = readU32(this.mem.u8, keyAddr);
    return this.slots.get(index)?.handle ?? 0;
  }

  lookup(key: Uint8Array): Uint8Array | undefined {
    this.checkHostRead("lookup");
    this.checkSize("key", key, 4);
    const inner = this.getInner(readU32(key, 0));
    return inner === undefined ? undefined : u32Bytes(inner.handle);
  }

  update(key: Uint8Array, value: Uint8Array, flags = 0n): void {
    this.checkHostWrite("update");
    this.checkSize("key", key, 4);
    if (u64(flags) !== BPF_ANY) this.fail("update: takes BPF_ANY only", -EINVAL);
    const index = readU32(key, 0);
    if (index >= this.def.maxEntries) this.fail(`update: slot ${index}`, -E2BIG);
    this.slots.set(index, this.resolve("update", value));
  }

  delete(key: Uint8Array): void {
    this.checkHostWrite("delete");
    this.checkSize("key", key, 4);
    const index = readU32(key, 0);
    if (index >= this.def.maxEntries) this.fail(`delete: slot ${index}`, -E2BIG);
    if (!this.slots.delete(index)) this.fail(`delete: slot ${index} is empty`, -ENOENT);
  }

  *keys(): Generator<Uint8Array> {
    for (let i = 0; i < this.def.maxEntries; i++) yield u32Bytes(i);
  }

  override destroy(): void {
    this.slots.clear();
  }
}

/** `BPF_MAP_TYPE_HASH_OF_MAPS`. */
export class HashOfMapsMap extends MapOfMaps {
  private readonly index = new Map<KeyId, { key: Uint8Array; inner: BpfMap }>();

  /** Number of entries. */
  get count(): number {
    return this.index.size;
  }

  /** Sets (or with null deletes) the inner map of `key`, honouring update flags. */
  setInner(key: Uint8Array, inner: BpfMap | null, flags = 0n): void {
    this.checkHostWrite("update");
    this.checkSize("key", key, this.def.keySize);
    const id = keyId(key, 0, this.def.keySize);
    if (inner === null) {
      if (!this.index.delete(id)) this.fail("delete", -ENOENT);
      return;
    }
    this.checkInner("update", inner);
    this.put(id, key, inner, u64(flags));
  }

  /** The inner map of `key`, or undefined. */
  getInner(key: Uint8Array): BpfMap | undefined {
    this.checkSize("key", key, this.def.keySize);
    return this.index.get(keyId(key, 0, this.def.keySize))?.inner;
  }

  override lookupElem(keyAddr: number): number {
    return this.index.get(keyId(this.mem.u8, keyAddr, this.def.keySize))?.inner.handle ?? 0;
  }

  lookup(key: Uint8Array): Uint8Array | undefined {
    this.checkHostRead("lookup");
    const inner = this.getInner(key);
    return inner === undefined ? undefined : u32Bytes(inner.handle);
  }

  update(key: Uint8Array, value: Uint8Array, flags = 0n): void {
    this.checkHostWrite("update");
    this.checkSize("key", key, this.def.keySize);
    const f = u64(flags);
    if (f > BPF_EXIST) this.fail(`update: flags 0x${f.toString(16)}`, -EINVAL);
    const inner = this.resolve("update", value);
    this.put(keyId(key, 0, this.def.keySize), key, inner, f);
  }

  delete(key: Uint8Array): void {
    this.checkHostWrite("delete");
    this.checkSize("key", key, this.def.keySize);
    if (!this.index.delete(keyId(key, 0, this.def.keySize))) this.fail("delete", -ENOENT);
  }

  keys(): Uint8Array[] {
    return Array.from(this.index.values(), (e) => e.key.slice());
  }

  override destroy(): void {
    this.index.clear();
  }

  private put(id: KeyId, key: Uint8Array, inner: BpfMap, f: bigint): void {
    if (f > BPF_EXIST) this.fail(`update: flags 0x${f.toString(16)}`, -EINVAL);
    const old = this.index.get(id);
    if (old !== undefined) {
      if (f === BPF_NOEXIST) this.fail("update", -EEXIST);
      old.inner = inner;
      return;
    }
    if (f === BPF_EXIST) this.fail("update", -ENOENT);
    if (this.index.size >= this.def.maxEntries) this.fail("update", -E2BIG);
    this.index.set(id, { key: key.slice(), inner });
  }
}
