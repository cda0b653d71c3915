import { AddressSpace, type AddressSpaceOptions, type Segment } from "../memory/address-space.js";
import {
  MAP_HANDLE_BASE,
  MAP_HANDLE_END,
  MAP_HANDLE_STRIDE,
  RUN_STATE_CPU,
  RUN_STATE_STACK_TOP,
  SegmentFlags,
} from "../memory/layout.js";
import type { BpfMap } from "../maps/types.js";
import type { HelperDef, HostServices, RunContext } from "../helpers/types.js";
import type { ExecProgram } from "./program.js";
import type { TraceSink } from "./trace.js";
import { LimitError, TsbpfError } from "../errors.js";
import {
  DEFAULT_LIMITS,
  MAX_RUN_FRAMES,
  resolveLimits,
  stackBytes,
  type LimitOptions,
  type Limits,
} from "../limits.js";

export { MAX_RUN_FRAMES };

/** Default instruction budget of one run. */
export const DEFAULT_INSN_LIMIT = DEFAULT_LIMITS.insnLimit;

/**
 * Options of a {@link Machine}: the limits of `src/limits.ts` (`insnLimit`, `maxBytes`,
 * `maxInsns`, `maxMaps`, `maxRingbufBytes`, `maxFrames`, `maxElfBytes`) and more.
 */
export interface MachineOptions extends AddressSpaceOptions, LimitOptions {
  /** Instructions one run may execute before it is stopped (default 100M). */
  insnLimit?: number;
  /** Possible CPUs, for per-CPU maps (default 1). */
  numCpus?: number;
  /** Host services (time, randomness, printk sink...). */
  host?: Partial<HostServices>;
}

/** Default host services: real clocks, Math.random, printk to nowhere. */
function defaultHost(): HostServices {
  const t0 = typeof performance !== "undefined" ? performance.now() : Date.now();
  const ns = (): bigint => {
    const now = typeof performance !== "undefined" ? performance.now() : Date.now();
    return BigInt(Math.floor((now - t0) * 1e6)) + 1_000_000_000n;
  };
  return {
    ktimeNs: ns,
    bootNs: ns,
    prandomU32: () => (Math.random() * 0x1_0000_0000) >>> 0,
    pidTgid: 0n,
    uidGid: 0n,
    comm: "tsbpf",
    cpu: 0,
    printk: () => {},
  };
}

/**
 * The run-time state every engine shares for one loaded collection: the address space, the
 * stack, maps by handle, the helper table, the tail-call budget, tracing.
 */
export class Machine {
  /** The address space. */
  readonly mem: AddressSpace;
  /** The stack segment (every frame of a run, 512 bytes each). */
  readonly stack: Segment;
  /** r10 of the first frame. */
  readonly stackTop: number;
  /** Helpers by Linux id. */
  readonly helpers: (HelperDef | undefined)[] = [];
  /** The limits this machine enforces (`insnLimit` below is the live budget setting). */
  readonly limits: Readonly<Limits>;
  /** Frames a run may reach (`limits.maxFrames`); the stack holds that many 512-byte frames. */
  readonly maxFrames: number;
  /** Instructions a run may execute. */
  insnLimit: number;
  /** Successful tail calls so far in the current run (one counter for every frame). */
  tailCallCnt = 0;
  /** Trace sink, or null when not tracing. */
  trace: TraceSink | null = null;
  /** Host services. */
  readonly host: HostServices;
  /** Possible CPUs. */
  readonly numCpus: number;
  /** The current run's context. */
  run: RunContext = { ctxAddr: 0 };
  private readonly maps: (BpfMap | undefined)[] = [];
  private nextProgId = 1;

  constructor(opts: MachineOptions = {}) {
    this.limits = Object.freeze(resolveLimits(opts));
    this.mem = new AddressSpace({ maxBytes: this.limits.maxBytes });
    this.insnLimit = this.limits.insnLimit;
    this.maxFrames = this.limits.maxFrames;
    this.numCpus = opts.numCpus ?? 1;
    this.host = { ...defaultHost(), ...opts.host };
    const bytes = stackBytes(this.maxFrames);
    this.stack = this.mem.mapRegion("stack", bytes, SegmentFlags.WRITABLE | SegmentFlags.STACK);
    this.stackTop = this.stack.base + bytes;
    this.mem.i32[RUN_STATE_STACK_TOP / 4] = this.stackTop;
  }

  /** Marks the start of a run: tells the map core the run's CPU. */
  beginRun(): void {
    this.mem.i32[RUN_STATE_CPU / 4] = this.host.cpu;
  }

  /** Registers (or replaces) a helper. */
  registerHelper(def: HelperDef): void {
    this.helpers[def.id] = def;
  }

  /** Reserves the handle of the next map; pass it to the map's constructor, then {@link addMap}. */
  nextMapHandle(): number {
    const max = this.limits.maxMaps;
    if (this.maps.length >= max) {
      throw new LimitError(
        "TOO_MANY_MAPS",
        `too many maps: the limit is ${max} (option maxMaps)`,
        "maxMaps",
        max,
      );
    }
    const handle = MAP_HANDLE_BASE + this.maps.length * MAP_HANDLE_STRIDE;
    if (handle >= MAP_HANDLE_END) {
      throw new TsbpfError("E2BIG", `too many maps (limit ${this.maps.length})`);
    }
    return handle;
  }

  /** Adds a map created with {@link nextMapHandle}'s handle. */
  addMap(map: BpfMap): void {
    const i = (map.handle - MAP_HANDLE_BASE) / MAP_HANDLE_STRIDE;
    this.maps[i] = map;
  }

  /** The map a program's map pointer names, or undefined. */
  mapByHandle(handle: number): BpfMap | undefined {
    const off = handle - MAP_HANDLE_BASE;
    if (off < 0 || off % MAP_HANDLE_STRIDE !== 0) return undefined;
    return this.maps[off / MAP_HANDLE_STRIDE];
  }

  /** A fresh program id. */
  newProgId(): number {
    return this.nextProgId++;
  }
}

/** Something that resolves prog_array slots; implemented by the prog_array map. */
export interface ProgArraySlots {
  /** The program in slot `index`, or undefined when empty or out of range. */
  getSlot(index: number): ExecProgram | undefined;
}
