/**
 * Test harness for the helper tests: a Machine, a HelperEnv over it (no engine), maps, memory
 * regions and a `call(id, r1..r5)` that returns r0.
 */
import { HELPERS, helperById } from "../src/helpers/index.js";
import type { HelperEnv, HostServices, RunContext } from "../src/helpers/types.js";
import { createMap } from "../src/maps/index.js";
import type { BpfMap, MapDefinition, MapEnv } from "../src/maps/types.js";
import type { AddressSpace } from "../src/memory/address-space.js";
import { SegmentFlags } from "../src/memory/layout.js";
import { memoryFault } from "../src/runtime/fault.js";
import { Machine } from "../src/runtime/machine.js";

/** A callback stand-in: gets the callback address and its arguments, returns r0. */
export type FakeCallback = (
  fnAddr: number,
  args: ReadonlyArray<readonly [number, number]>,
) => [number, number];

/** A HelperEnv without an engine: memory checks through the page table only. */
export class FakeEnv implements HelperEnv {
  pc = 7;
  progType = 0;
  onCall: FakeCallback = () => [0, 0];
  constructor(readonly m: Machine) {}
  get mem(): AddressSpace {
    return this.m.mem;
  }
  get run(): RunContext {
    return this.m.run;
  }
  get host(): HostServices {
    return this.m.host;
  }
  mapByHandle(handle: number): BpfMap | undefined {
    return this.m.mapByHandle(handle);
  }
  checkMem(addr: number, hi: number, size: number, write: boolean, what: string): void {
    if (size === 0) return;
    if (hi === 0 && this.m.mem.checkSlot(addr >>> 0, size, write, null)) return;
    throw memoryFault(this.m, null, 0, this.pc, addr, hi, size, write, what);
  }
  callFunction(funcAddr: number, args: ReadonlyArray<readonly [number, number]>): [number, number] {
    return this.onCall(
      funcAddr,
      args.map((a) => [a[0], a[1]] as const),
    );
  }
}

/** An argument: a number (taken as a 64-bit two's complement value) or a bigint. */
export type Arg = number | bigint;

/** The helper test bench. */
export class Bench {
  readonly m: Machine;
  readonly env: FakeEnv;
  readonly regs = new Int32Array(12);
  readonly printed: string[] = [];

  constructor(host: Partial<HostServices> = {}, numCpus = 1) {
    this.m = new Machine({
      numCpus,
      host: {
        ktimeNs: () => 123_456_789_012n,
        bootNs: () => 0x1_0000_0002n,
        prandomU32: () => 0xdeadbeef,
        pidTgid: (4242n << 32n) | 4243n,
        uidGid: (1000n << 32n) | 1001n,
        comm: "tsbpf-test",
        cpu: 0,
        printk: (line) => this.printed.push(line),
        ...host,
      },
    });
    for (const h of HELPERS) this.m.registerHelper(h);
    this.env = new FakeEnv(this.m);
  }

  /** Calls helper `id` with r1..r5; returns r0 as an unsigned 64-bit bigint. */
  call(id: number, ...args: Arg[]): bigint {
    const h = helperById(id);
    if (h === undefined) throw new Error(`no helper ${id}`);
    this.regs.fill(0x5a5a5a5a);
    args.forEach((a, i) => {
      const v = BigInt.asUintN(64, BigInt(a));
      this.regs[2 + 2 * i] = Number(BigInt.asIntN(32, v));
      this.regs[3 + 2 * i] = Number(BigInt.asIntN(32, v >> 32n));
    });
    for (let i = args.length; i < 5; i++) {
      this.regs[2 + 2 * i] = 0;
      this.regs[3 + 2 * i] = 0;
    }
    h.fn(this.env, this.regs);
    return (BigInt(this.regs[1] >>> 0) << 32n) | BigInt(this.regs[0] >>> 0);
  }

  /** Calls helper `id` and returns r0 as a signed 64-bit number (errnos come out negative). */
  int(id: number, ...args: Arg[]): number {
    return Number(BigInt.asIntN(64, this.call(id, ...args)));
  }

  /** A fresh region of `size` bytes (writable unless `readOnly`), filled with `init`. */
  region(size: number, init?: Uint8Array | number[], readOnly = false): number {
    const seg = this.m.mem.mapRegion("test", size, readOnly ? 0 : SegmentFlags.WRITABLE);
    if (init !== undefined) this.m.mem.write(seg.base, Uint8Array.from(init));
    return seg.base;
  }

  /** A NUL-terminated ASCII string in a fresh region. */
  str(s: string, readOnly = false): number {
    return this.region(s.length + 1, [...new TextEncoder().encode(s), 0], readOnly);
  }

  /** Creates and registers a map. */
  map(def: Partial<MapDefinition> & { type: number }): BpfMap {
    const m = this.m;
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
      now: () => 0n,
    };
    const full: MapDefinition = {
      name: def.name ?? "m",
      keySize: 4,
      valueSize: 8,
      maxEntries: 4,
      flags: 0,
      ...def,
    };
    const map = createMap(full, env, m.nextMapHandle());
    m.addMap(map);
    return map;
  }

  /** Bytes at `addr`. */
  read(addr: number, len: number): number[] {
    return Array.from(this.m.mem.read(addr, len));
  }

  /** Writes bytes at `addr` (host write, no checks). */
  write(addr: number, bytes: number[] | Uint8Array): void {
    this.m.mem.write(addr, Uint8Array.from(bytes));
  }
}

/** Little-endian bytes of a u32. */
export function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/** Little-endian bytes of a u64. */
export function le64(v: bigint): number[] {
  const out: number[] = [];
  for (let i = 0n; i < 8n; i++) out.push(Number((BigInt.asUintN(64, v) >> (8n * i)) & 0xffn));
  return out;
}
