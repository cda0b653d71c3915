/**
 * A loaded object for tests: programs run on packets (bytes or {@link Layer}s), maps read and
 * written with numbers or bytes and decoded by their BTF types, ring buffers drained,
 * `bpf_printk` lines collected.
 */
import { readFileSync } from "node:fs";
import { setGlobal } from "../elf/globals.js";
import { loadCollectionSpec } from "../elf/loader.js";
import type { CollectionSpec, MapSpec } from "../elf/types.js";
import { BPF_MAP_TYPE_RINGBUF } from "../maps/constants.js";
import type { BpfMap } from "../maps/types.js";
import { Collection, type CollectionOptions } from "../runtime/collection.js";
import { dumpMaps } from "../runtime/dump.js";
import type { Program, RunOptions, RunResult } from "../runtime/program-handle.js";
import type { TraceEvent } from "../runtime/trace.js";
import {
  bpftoolEntries,
  formatKey,
  formatValue,
  isPerCpu,
  type BpftoolEntry,
} from "./map-format.js";
import type { BtfValue } from "./btf-value.js";
import { buildPacket, type Layer } from "./packet.js";

/** A key or value: bytes, or an integer written little-endian in the map's key/value size. */
export type BytesLike = Uint8Array | number | bigint;

/** A packet: bytes, or layers for {@link buildPacket}. */
export type PacketLike = Uint8Array | (Layer | Uint8Array | string)[];

/** Options of {@link loadObject}. */
export interface LoadObjectOptions extends CollectionOptions {
  /** Object name for libbpf-style map names (default: the file name, or `obj`). */
  name?: string;
  /**
   * Global variables to set before load, by name — libbpf skeleton's `skel->rodata->x = v`
   * for `const volatile` configuration (see `setGlobal`).
   */
  globals?: Record<string, number | bigint | Uint8Array>;
}

/** Options of {@link TestObject.run}. */
export interface TestRunOptions extends Omit<RunOptions, "data" | "trace"> {
  /** Program name (default: the object's first program). */
  prog?: string;
  /** Collect trace events into {@link TestRunResult.trace}. */
  trace?: boolean;
}

/** A {@link RunResult} with the trace events, when asked for. */
export interface TestRunResult extends RunResult {
  /** Trace events of the run (empty unless `trace: true`). */
  trace: TraceEvent[];
}

/** Encodes `v` little-endian in `size` bytes (bytes are checked for the size). */
export function toBytes(v: BytesLike, size: number, what = "value"): Uint8Array {
  if (v instanceof Uint8Array) {
    if (v.length !== size) throw new RangeError(`${what}: ${v.length} bytes, expected ${size}`);
    return v;
  }
  let n = BigInt(v);
  if (n < 0n) n = BigInt.asUintN(size * 8, n);
  if (n >> BigInt(size * 8) !== 0n)
    throw new RangeError(`${what}: ${v} does not fit ${size} bytes`);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++, n >>= 8n) out[i] = Number(n & 0xffn);
  return out;
}

/** Reads bytes as an unsigned little-endian integer. */
export function fromBytes(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  return v;
}

/** One map of a {@link TestObject}. */
export class TestMap {
  constructor(
    /** The map. */
    readonly map: BpfMap,
    /** Its spec (BTF type ids). */
    readonly spec: MapSpec,
    private readonly obj: TestObject,
  ) {}

  /** Map name. */
  get name(): string {
    return this.map.def.name;
  }

  private key(k: BytesLike): Uint8Array {
    return toBytes(k, this.map.def.keySize, `map "${this.name}" key`);
  }

  /** The value stored under `key` (per-CPU maps: every CPU's, each padded to 8 bytes). */
  get(key: BytesLike): Uint8Array | undefined {
    return this.map.lookup(this.key(key));
  }

  /** The value under `key` as an unsigned little-endian integer (0n when absent). */
  getNumber(key: BytesLike): bigint {
    const v = this.get(key);
    return v === undefined ? 0n : fromBytes(v.subarray(0, this.map.def.valueSize));
  }

  /** The value under `key` decoded by its BTF type (bytes as numbers when it has none). */
  getFormatted(key: BytesLike): BtfValue | undefined {
    const v = this.get(key);
    return v === undefined ? undefined : formatValue(this.obj.spec, this.spec, v);
  }

  /** Whether `key` is present. */
  has(key: BytesLike): boolean {
    return this.get(key) !== undefined;
  }

  /**
   * Writes `value` under `key` (BPF_ANY unless `flags`). Per-CPU maps take every CPU's value
   * (each padded to 8 bytes), or a number for all of them.
   */
  set(key: BytesLike, value: BytesLike, flags?: bigint): void {
    const def = this.map.def;
    let bytes: Uint8Array;
    if (isPerCpu(def.type)) {
      // every CPU's value, each padded to 8 bytes; a number goes to every CPU
      const stride = Math.ceil(def.valueSize / 8) * 8;
      const cpus = this.obj.collection.machine.numCpus;
      if (value instanceof Uint8Array) {
        bytes = toBytes(value, stride * cpus, `map "${this.name}" value (${cpus} CPUs)`);
      } else {
        const one = toBytes(value, def.valueSize, `map "${this.name}" value`);
        bytes = new Uint8Array(stride * cpus);
        for (let c = 0; c < cpus; c++) bytes.set(one, c * stride);
      }
    } else bytes = toBytes(value, def.valueSize, `map "${this.name}" value`);
    this.map.update(this.key(key), bytes, flags);
  }

  /** Deletes `key` (ENOENT when absent). */
  delete(key: BytesLike): void {
    this.map.delete(this.key(key));
  }

  /** Every entry, in iteration order. */
  entries(): { key: Uint8Array; value: Uint8Array }[] {
    return Array.from(this.map.entries(), ([key, value]) => ({ key, value }));
  }

  /** Every entry decoded by BTF: `[{key, value}]` (`values` with `{cpu, value}` for per-CPU maps). */
  formatted(): { key?: BtfValue; value?: BtfValue; values?: { cpu: number; value: BtfValue }[] }[] {
    return this.dump().map((e) => e.formatted ?? {});
  }

  /** The entries as `bpftool map dump -j` prints them (hex bytes plus `formatted`). */
  dump(): BpftoolEntry[] {
    return bpftoolEntries(this.obj.spec, this.spec, this.map, this.obj.collection.machine.numCpus);
  }

  /** A ring buffer's records, consumed (each record's bytes, in order). */
  drain(): Uint8Array[] {
    const rb = this.map as BpfMap & { drain?: () => Uint8Array[] };
    if (this.map.def.type !== BPF_MAP_TYPE_RINGBUF || rb.drain === undefined) {
      throw new TypeError(`map "${this.name}" is not a ring buffer`);
    }
    return rb.drain();
  }

  /** The key decoded by BTF (for messages). */
  formatKey(key: BytesLike): BtfValue {
    return formatKey(this.obj.spec, this.spec, this.key(key));
  }
}

/** A loaded object with test conveniences. Close it when done (or let it be collected). */
export class TestObject {
  constructor(
    /** The loaded collection. */
    readonly collection: Collection,
    /** `bpf_printk` lines (trace_pipe messages without the prefix), oldest first. */
    readonly printk: string[] = [],
  ) {}

  /** The object's spec (programs, maps, BTF). */
  get spec(): CollectionSpec {
    return this.collection.spec;
  }

  /** A program, by name (default: the first). */
  program(name?: string): Program {
    return name === undefined ? this.collection.firstProgram() : this.collection.program(name);
  }

  /** A map, by name. */
  map(name: string): TestMap {
    const map = this.collection.map(name);
    const spec = this.spec.maps.find((m) => m.name === name);
    if (spec === undefined) throw new Error(`map "${name}" has no spec`);
    return new TestMap(map, spec, this);
  }

  /** Runs a program (default: the first) on `packet` as BPF_PROG_TEST_RUN does. */
  run(packet?: PacketLike, opts: TestRunOptions = {}): TestRunResult {
    const trace: TraceEvent[] = [];
    const data = packet === undefined ? undefined : toPacket(packet);
    const r = this.program(opts.prog).run({
      ...opts,
      data,
      trace: opts.trace ? (e) => trace.push(e) : undefined,
    });
    return { ...r, trace };
  }

  /** Runs and returns only `retval` (cilium/ebpf's `Program.Test`). */
  test(packet?: PacketLike, prog?: string): number {
    return this.run(packet, { prog }).retval;
  }

  /** Puts program `prog` in slot `index` of prog_array `map`, or empties it (null). */
  setSlot(map: string, index: number, prog: string | null): void {
    this.collection.setSlot(map, index, prog);
  }

  /** Every dumpable map as `tsbpf run --json` prints them: `{NAME: {KEYHEX: VALUEHEX}}`. */
  dumpMaps(): Record<string, Record<string, string>> {
    return dumpMaps(this.collection);
  }

  /** Releases the maps. */
  close(): void {
    this.collection.close();
  }
}

/** Packet bytes from bytes or layers. */
export function toPacket(p: PacketLike): Uint8Array {
  return p instanceof Uint8Array ? p : buildPacket(...p);
}

/**
 * Loads an object file (a path) or its bytes, with every map created and every program ready:
 * `loadObject("prog.bpf.o", { engine: "jit" })`.
 */
export function loadObject(source: string | Uint8Array, opts: LoadObjectOptions = {}): TestObject {
  const bytes = typeof source === "string" ? new Uint8Array(readFileSync(source)) : source;
  const name = opts.name ?? (typeof source === "string" ? source : undefined);
  const printk: string[] = [];
  const userPrintk = opts.host?.printk;
  const host = {
    ...opts.host,
    printk: (line: string) => {
      printk.push(line);
      userPrintk?.(line);
    },
  };
  const spec = loadCollectionSpec(bytes, { name });
  for (const [k, v] of Object.entries(opts.globals ?? {})) setGlobal(spec, k, v);
  const coll = Collection.load(spec, { ...opts, host });
  return new TestObject(coll, printk);
}
