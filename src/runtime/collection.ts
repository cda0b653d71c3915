import "../vm/index.js";
import "../jit/index.js";
import type { CollectionSpec, MapSpec, ProgramSpec } from "../elf/types.js";
import { LimitError, MapError, TsbpfError } from "../errors.js";
import { HELPERS } from "../helpers/index.js";
import type { HelperDef } from "../helpers/types.js";
import { createMap, ProgArrayMap as ProgArrayClass } from "../maps/index.js";
import type { BpfMap, MapEnv } from "../maps/types.js";
import { createEngine, defaultEngine, type Engine, type EngineName } from "./engine.js";
import { Machine, type MachineOptions } from "./machine.js";
import { prepareProgram } from "./prepare.js";
import { Program } from "./program-handle.js";
import { progId, type ExecProgram } from "./program.js";

const BPF_MAP_TYPE_PROG_ARRAY = 3;
const BPF_MAP_TYPE_PERF_EVENT_ARRAY = 4;
const BPF_MAP_TYPE_ARRAY_OF_MAPS = 12;
const BPF_MAP_TYPE_HASH_OF_MAPS = 13;
const BPF_MAP_TYPE_RINGBUF = 27;
const BPF_F_XDP_HAS_FRAGS = 1 << 5;

/** Options of {@link Collection.load}. */
export interface CollectionOptions extends MachineOptions {
  /** Engine that runs the programs (default: the JIT where it can run, see defaultEngine). */
  engine?: EngineName;
  /** Extra helpers, or replacements of built-in ones, by Linux id. */
  helpers?: HelperDef[];
}

/** The program type a prog_array is bound to (its "owner", as the kernel calls it). */
interface ProgArrayOwner {
  progType: number;
  attachType: number;
  xdpFrags: boolean;
}

/** What the prog_array map offers the collection. */
interface ProgArrayMap extends BpfMap {
  setSlot(index: number, prog: ExecProgram | null): void;
  getSlot(index: number): ExecProgram | undefined;
}

/** What array maps offer for `lddw` of global data (BPF_PSEUDO_MAP_VALUE). */
interface ValueAddressable {
  valueAddr(index: number): number;
}

/**
 * A loaded object: its maps created, its programs linked, validated and ready to run, its
 * prog_arrays filled from `__array(values, …)`. Like libbpf's `bpf_object` after load, or
 * cilium/ebpf's `Collection`.
 */
export class Collection {
  /** The run-time state shared by the programs. */
  readonly machine: Machine;
  /** Maps by name, in the object's order. */
  readonly maps = new Map<string, BpfMap>();
  /** Programs by name, in the object's order. */
  readonly programs = new Map<string, Program>();
  /** The engine running the programs. */
  readonly engine: Engine;
  private readonly owners = new Map<BpfMap, ProgArrayOwner>();
  private closed = false;

  private constructor(
    readonly spec: CollectionSpec,
    opts: CollectionOptions,
  ) {
    this.machine = new Machine(opts);
    for (const h of HELPERS) this.machine.registerHelper(h);
    for (const h of opts.helpers ?? []) this.machine.registerHelper(h);
    this.engine = createEngine(opts.engine ?? defaultEngine(), this.machine);
  }

  /** Creates the maps and loads the programs of `spec`. */
  static load(spec: CollectionSpec, opts: CollectionOptions = {}): Collection {
    const c = new Collection(spec, opts);
    const byIndex = spec.maps.map((ms) => c.createMap(ms));
    for (const ps of spec.programs) {
      if (!ps.autoload) continue;
      c.loadProgram(ps, byIndex);
    }
    for (const ms of spec.maps) c.applyInitialSlots(ms);
    return c;
  }

  private createMap(ms: MapSpec): BpfMap {
    const m = this.machine;
    const env: MapEnv = {
      mem: m.mem,
      numCpus: m.numCpus,
      get cpu() {
        return m.host.cpu;
      },
      set cpu(v: number) {
        m.host.cpu = v;
      },
      mapByHandle: (h) => m.mapByHandle(h),
      now: () => m.host.ktimeNs(),
    };
    // libbpf sizes a perf_event_array without max_entries to the number of possible CPUs
    const def =
      ms.type === BPF_MAP_TYPE_PERF_EVENT_ARRAY && ms.maxEntries === 0
        ? { ...ms, maxEntries: m.numCpus }
        : ms;
    const max = m.limits.maxRingbufBytes;
    if (ms.type === BPF_MAP_TYPE_RINGBUF && ms.maxEntries > max) {
      throw new LimitError(
        "RINGBUF_TOO_LARGE",
        `map "${ms.name}": ring buffer of ${ms.maxEntries} bytes is over the limit of ${max} bytes (option maxRingbufBytes)`,
        "maxRingbufBytes",
        max,
      );
    }
    const map = wrap(`map "${ms.name}"`, () => createMap(def, env, m.nextMapHandle()));
    if (map instanceof ProgArrayClass) (map as ProgArrayClass<ExecProgram>).idOf = progId;
    m.addMap(map);
    this.maps.set(ms.name, map);
    if (ms.initialValue !== undefined) {
      map.update(new Uint8Array(4), ms.initialValue);
    }
    return map;
  }

  private loadProgram(ps: ProgramSpec, byIndex: BpfMap[]): void {
    const exec = wrap(`program ${ps.name} (section ${ps.section})`, () =>
      prepareProgram(
        this.machine,
        {
          name: ps.name,
          section: ps.section,
          insns: ps.insns,
          funcs: ps.funcs,
          lines: ps.lineInfo,
          progType: ps.progType,
          attachType: ps.expectedAttachType,
          xdpFrags: (ps.progFlags & BPF_F_XDP_HAS_FRAGS) !== 0,
        },
        {
          mapHandle: (i) => byIndex[i]?.handle,
          mapValueAddr: (i, off) => {
            const map = byIndex[i] as (BpfMap & Partial<ValueAddressable>) | undefined;
            if (map?.valueAddr === undefined || off < 0 || off >= map.def.valueSize)
              return undefined;
            return map.valueAddr(0) + off;
          },
        },
      ),
    );
    // A program that uses a prog_array binds it to its type, or must match its owner.
    for (let pc = 0; pc < ps.insns.length / 8; pc++) {
      if (ps.insns[pc * 8] !== 0x18 || ps.insns[pc * 8 + 1] >> 4 !== 1) continue;
      const idx = new DataView(ps.insns.buffer, ps.insns.byteOffset + pc * 8 + 4, 4).getInt32(
        0,
        true,
      );
      const map = byIndex[idx];
      if (map?.def.type === BPF_MAP_TYPE_PROG_ARRAY) this.bindOwner(map, exec, "load");
    }
    this.programs.set(ps.name, new Program(this, exec));
  }

  private applyInitialSlots(ms: MapSpec): void {
    if (ms.initialSlots === undefined) return;
    const map = this.map(ms.name);
    for (const { key, target } of ms.initialSlots) {
      const what = `map "${ms.name}" slot ${key}`;
      if (ms.type === BPF_MAP_TYPE_PROG_ARRAY) {
        const prog = this.programs.get(target);
        if (prog === undefined)
          throw new TsbpfError("ENOENT", `${what}: program ${target} is not loaded`);
        this.setSlot(ms.name, key, target);
      } else if (ms.type === BPF_MAP_TYPE_ARRAY_OF_MAPS || ms.type === BPF_MAP_TYPE_HASH_OF_MAPS) {
        const inner = this.maps.get(target);
        if (inner === undefined)
          throw new TsbpfError("ENOENT", `${what}: map ${target} does not exist`);
        const k = new Uint8Array(4);
        new DataView(k.buffer).setUint32(0, key, true);
        const v = new Uint8Array(4);
        new DataView(v.buffer).setUint32(0, inner.handle, true);
        wrap(what, () => map.update(k, v));
      }
    }
  }

  private bindOwner(map: BpfMap, prog: ExecProgram, when: "load" | "update"): void {
    const owner = this.owners.get(map);
    const mine = { progType: prog.progType, attachType: prog.attachType, xdpFrags: prog.xdpFrags };
    if (owner === undefined) {
      this.owners.set(map, mine);
      return;
    }
    if (
      owner.progType !== mine.progType ||
      owner.attachType !== mine.attachType ||
      owner.xdpFrags !== mine.xdpFrags
    ) {
      const verb = when === "load" ? "cannot use" : "cannot be put in";
      throw new MapError(
        `program ${prog.name} (type ${mine.progType}, attach type ${mine.attachType}${mine.xdpFrags ? ", xdp.frags" : ""}) ${verb} prog_array "${map.def.name}", owned by program type ${owner.progType}, attach type ${owner.attachType}${owner.xdpFrags ? ", xdp.frags" : ""}: EINVAL`,
        "EINVAL",
      );
    }
  }

  /** The map named `name`; throws ENOENT. */
  map(name: string): BpfMap {
    const map = this.maps.get(name);
    if (map === undefined) {
      throw new MapError(
        `no map named "${name}" (maps: ${[...this.maps.keys()].join(", ")})`,
        "ENOENT",
      );
    }
    return map;
  }

  /** The program named `name`; throws ENOENT. */
  program(name: string): Program {
    const p = this.programs.get(name);
    if (p === undefined) {
      throw new TsbpfError(
        "ENOENT",
        `no program named "${name}" (programs: ${[...this.programs.keys()].join(", ")})`,
      );
    }
    return p;
  }

  /** The first program of the object. */
  firstProgram(): Program {
    const first = this.programs.values().next();
    if (first.done) throw new TsbpfError("ENOENT", "the object has no programs");
    return first.value;
  }

  /**
   * Puts program `progName` into slot `index` of prog_array `mapName` (BPF_ANY), or empties the
   * slot when `progName` is null. A program whose type differs from the array's owner is refused
   * with EINVAL, as the kernel does.
   */
  setSlot(mapName: string, index: number, progName: string | null): void {
    const map = this.map(mapName) as ProgArrayMap;
    if (map.def.type !== BPF_MAP_TYPE_PROG_ARRAY) {
      throw new MapError(`map "${mapName}" is not a prog_array`, "EINVAL");
    }
    if (!Number.isInteger(index) || index < 0 || index >= map.def.maxEntries) {
      throw new MapError(
        `map "${mapName}": slot ${index} is out of range (max_entries ${map.def.maxEntries}): E2BIG`,
        "E2BIG",
      );
    }
    if (progName === null) {
      map.setSlot(index, null);
      return;
    }
    const prog = this.program(progName).exec;
    this.bindOwner(map, prog, "update");
    map.setSlot(index, prog);
  }

  /** Releases every map (prog_arrays are emptied, as when the last user reference goes). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const map of this.maps.values()) map.destroy();
  }
}

/** Runs `f`, prefixing the message of a TsbpfError with `what`. */
function wrap<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof TsbpfError && !e.message.startsWith(what)) e.message = `${what}: ${e.message}`;
    throw e;
  }
}
