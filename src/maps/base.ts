/**
 * What every map type shares: errors named like the kernel's, the refusals of operations a type
 * does not have, host-side permission checks (`BPF_F_RDONLY`, `BPF_F_WRONLY`, freeze) and the
 * key → index key used by hash-like maps.
 */
import { EINVAL, EPERM, errnoName } from "../errno.js";
import { MapError, TsbpfError } from "../errors.js";
import type { AddressSpace, Segment } from "../memory/address-space.js";
import { SegmentFlags } from "../memory/layout.js";
import { BPF_F_RDONLY, BPF_F_RDONLY_PROG, BPF_F_WRONLY, mapTypeName } from "./constants.js";
import type { BpfMap, MapDefinition, MapEnv } from "./types.js";

/** `round_up(n, 8)`. */
export function round8(n: number): number {
  return (n + 7) & ~7;
}

/** The errno name of a negative (or positive) errno, as {@link MapError} carries it. */
export function mapError(def: MapDefinition, what: string, errno: number): MapError {
  const name = errnoName(errno);
  return new MapError(`map "${def.name}": ${what}: ${name}`, name);
}

/** A key as a JS `Map` key: a u32 number for 4-byte keys, else a string of 16-bit units. */
export type KeyId = number | string;

/** The {@link KeyId} of `size` bytes at `off` in `u8` (all keys of a map have one size). */
export function keyId(u8: Uint8Array, off: number, size: number): KeyId {
  if (size === 4) {
    return (u8[off] | (u8[off + 1] << 8) | (u8[off + 2] << 16) | (u8[off + 3] << 24)) >>> 0;
  }
  if (size === 8) {
    return String.fromCharCode(
      u8[off] | (u8[off + 1] << 8),
      u8[off + 2] | (u8[off + 3] << 8),
      u8[off + 4] | (u8[off + 5] << 8),
      u8[off + 6] | (u8[off + 7] << 8),
    );
  }
  let s = "";
  const end = off + size - 1;
  let i = off;
  for (; i < end; i += 2) s += String.fromCharCode(u8[i] | (u8[i + 1] << 8));
  if (i === end) s += String.fromCharCode(u8[i]);
  return s;
}

/** Little-endian u32 at `off`. */
export function readU32(u8: Uint8Array, off: number): number {
  return (u8[off] | (u8[off + 1] << 8) | (u8[off + 2] << 16) | (u8[off + 3] << 24)) >>> 0;
}

/** Four little-endian bytes of a u32. */
export function u32Bytes(v: number): Uint8Array {
  const b = new Uint8Array(4);
  b[0] = v & 0xff;
  b[1] = (v >>> 8) & 0xff;
  b[2] = (v >>> 16) & 0xff;
  b[3] = (v >>> 24) & 0xff;
  return b;
}

/** A program-side flags argument as the u64 the kernel sees. */
export function u64(flags: bigint): bigint {
  return BigInt.asUintN(64, flags);
}

/**
 * Base of every map. Program-side operations a type lacks return what the kernel's runtime
 * would (`NULL`, `-EINVAL`); the verifier refuses most of those calls at load already.
 */
export abstract class BaseMap implements BpfMap {
  /** The definition the map was created from. */
  readonly def: MapDefinition;
  /** The value `lddw rX, map` loads. */
  readonly handle: number;
  /** Shared memory and CPU. */
  protected readonly env: MapEnv;
  /** Whether the host froze the map (`BPF_MAP_FREEZE`): host writes are then EPERM. */
  frozen = false;

  constructor(def: MapDefinition, env: MapEnv, handle: number) {
    this.def = def;
    this.env = env;
    this.handle = handle;
  }

  /** The address space values live in. */
  protected get mem(): AddressSpace {
    return this.env.mem;
  }

  /** `BPF_MAP_TYPE_*` name of the map's type. */
  get typeName(): string {
    return mapTypeName(this.def.type);
  }

  /** Segment flags for value memory: writable unless `BPF_F_RDONLY_PROG`. */
  protected get segmentFlags(): number {
    return this.def.flags & BPF_F_RDONLY_PROG ? 0 : SegmentFlags.WRITABLE;
  }

  /** Whether programs may change the map, through helpers or its values (not `BPF_F_RDONLY_PROG`). */
  get progWritable(): boolean {
    return (this.def.flags & BPF_F_RDONLY_PROG) === 0;
  }

  /** The CPU index of the current run, checked against the map's CPUs. */
  protected get cpu(): number {
    const cpu = this.env.cpu;
    if (!(cpu >= 0 && cpu < this.env.numCpus && Number.isInteger(cpu))) {
      throw new MapError(
        `map "${this.def.name}": cpu ${cpu} outside 0..${this.env.numCpus - 1}`,
        "EINVAL",
      );
    }
    return cpu;
  }

  /** `bpf_map_lookup_elem`: a value address, or 0 (types without lookup: always 0). */
  lookupElem(_keyAddr: number): number {
    return 0;
  }
  /** `bpf_map_update_elem`: 0 or a negative errno (types without update: -EINVAL). */
  updateElem(_keyAddr: number, _valueAddr: number, _flags: bigint): number {
    return -EINVAL;
  }
  /** `bpf_map_delete_elem`: 0 or a negative errno (types without delete: -EINVAL). */
  deleteElem(_keyAddr: number): number {
    return -EINVAL;
  }
  /** `bpf_map_push_elem`: 0 or a negative errno (types without push: -EINVAL). */
  pushElem(_valueAddr: number, _flags: bigint): number {
    return -EINVAL;
  }
  /** `bpf_map_pop_elem`: 0 or a negative errno (types without pop: -EINVAL). */
  popElem(_valueAddr: number): number {
    return -EINVAL;
  }
  /** `bpf_map_peek_elem`: 0 or a negative errno (types without peek: -EINVAL). */
  peekElem(_valueAddr: number): number {
    return -EINVAL;
  }

  /** Host lookup (`BPF_MAP_LOOKUP_ELEM`): a copy of the value, or undefined when absent. */
  abstract lookup(key: Uint8Array): Uint8Array | undefined;
  /** Host update (`BPF_MAP_UPDATE_ELEM`); throws a {@link MapError} with the errno. */
  abstract update(key: Uint8Array, value: Uint8Array, flags?: bigint): void;
  /** Host delete (`BPF_MAP_DELETE_ELEM`); throws a {@link MapError} with the errno. */
  abstract delete(key: Uint8Array): void;
  /** Keys in the order `BPF_MAP_GET_NEXT_KEY` walks them (copies). */
  abstract keys(): Iterable<Uint8Array>;

  /** `[key, value]` pairs in iteration order (values as {@link lookup} returns them). */
  *entries(): IterableIterator<[Uint8Array, Uint8Array]> {
    for (const key of this.keys()) {
      const value = this.lookup(key);
      if (value !== undefined) yield [key, value];
    }
  }

  /** Releases the map's memory. */
  destroy(): void {}

  /** `BPF_MAP_FREEZE`: from now on host updates and deletes fail with EPERM. */
  freeze(): void {
    this.frozen = true;
  }

  /** Throws the host-side error `map "name": what: ERRNO`. */
  protected fail(what: string, errno: number): never {
    throw mapError(this.def, what, errno);
  }

  /** Throws for a negative errno result of a host operation. */
  protected check(what: string, ret: number): void {
    if (ret < 0) this.fail(what, ret);
  }

  /** Host write permission: not `BPF_F_RDONLY`, not frozen. */
  protected checkHostWrite(what: string): void {
    if (this.def.flags & BPF_F_RDONLY)
      this.fail(`${what}: map is read-only (BPF_F_RDONLY)`, -EPERM);
    if (this.frozen) this.fail(`${what}: map is frozen`, -EPERM);
  }

  /** Host read permission: not `BPF_F_WRONLY`. */
  protected checkHostRead(what: string): void {
    if (this.def.flags & BPF_F_WRONLY)
      this.fail(`${what}: map is write-only (BPF_F_WRONLY)`, -EPERM);
  }

  /** Checks a host buffer's length. */
  protected checkSize(what: string, buf: Uint8Array, size: number): void {
    if (buf.length !== size) this.fail(`${what} is ${buf.length} bytes, expected ${size}`, -EINVAL);
  }

  /** Maps a segment, turning address-space exhaustion into a map error. */
  protected mapSegment(
    what: string,
    count: number,
    slotSize: number,
    valueSize: number,
    trackLive: boolean,
  ): Segment {
    try {
      return this.mem.mapSegment(
        `map ${this.def.name} ${what}`,
        count,
        slotSize,
        valueSize,
        this.segmentFlags,
        trackLive,
      );
    } catch (e) {
      if (e instanceof TsbpfError || e instanceof RangeError) {
        throw new MapError(
          `map "${this.def.name}": cannot allocate ${what}: ${e.message}`,
          "ENOMEM",
        );
      }
      throw e;
    }
  }
}
