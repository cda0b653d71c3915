/**
 * Shared by the JIT tests: machines with the helper table, programs built from assembler text
 * or raw slots, and runs of the same program on both engines.
 */
import { expect } from "vitest";
import "../src/vm/index.js";
import "../src/jit/index.js";
import { assemble } from "../src/isa/asm.js";
import { decodeProgram, insnAt } from "../src/isa/decode.js";
import { createMap } from "../src/maps/index.js";
import type { ProgArrayMap } from "../src/maps/prog-array.js";
import type { BpfMap, MapDefinition } from "../src/maps/types.js";
import { HELPERS } from "../src/helpers/index.js";
import { encodeProgram, type Insn } from "../src/isa/decode.js";
import { SegmentFlags } from "../src/memory/layout.js";
import { createEngine, type EngineName } from "../src/runtime/engine.js";
import { Machine, type MachineOptions } from "../src/runtime/machine.js";
import { prepareProgram } from "../src/runtime/prepare.js";
import type { ExecProgram, FuncInfo } from "../src/runtime/program.js";
import type { TraceEvent } from "../src/runtime/trace.js";

/** Both engines. */
export const ENGINES: EngineName[] = ["interp", "jit"];

/** A machine with every helper, plus helper 5 returning 0 (bpf_conformance's test helper). */
export function makeMachine(opts: MachineOptions = {}): Machine {
  const m = new Machine(opts);
  for (const h of HELPERS) m.registerHelper(h);
  m.registerHelper({
    id: 5,
    name: "test_helper",
    fn: (_env, regs) => {
      regs[0] = 0;
      regs[1] = 0;
    },
  });
  return m;
}

/** What a run ended with. */
export type Outcome =
  | { ok: true; r0: bigint; mem: Uint8Array; trace: TraceEvent[] }
  | { ok: false; error: string; kind: string; mem: Uint8Array; trace: TraceEvent[] };

/** Options of {@link runOn}. */
export interface RunSpec {
  /** The bytes r1 points to (a writable region); r2 holds their length. */
  mem?: Uint8Array;
  /** Machine options (insnLimit...). */
  machine?: MachineOptions;
  /** Function symbols. */
  funcs?: FuncInfo[];
  /** Collect trace events. */
  trace?: boolean;
  /** Called with the machine and program before the run. */
  setup?: (m: Machine, prog: ExecProgram) => void;
  /** Runs (the outcome is the last one's). */
  runs?: number;
}

/** Runs `code` on `engine` in a fresh machine. */
export function runOn(engine: EngineName, code: Uint8Array, spec: RunSpec = {}): Outcome {
  const m = makeMachine(spec.machine);
  const trace: TraceEvent[] = [];
  let addr = 0;
  let len = 0;
  let seg: { base: number } | undefined;
  if (spec.mem !== undefined && spec.mem.length > 0) {
    seg = m.mem.mapRegion("mem", spec.mem.length, SegmentFlags.WRITABLE);
    m.mem.write(seg.base, spec.mem);
    addr = seg.base;
    len = spec.mem.length;
  }
  const memOut = () => (seg ? m.mem.read(seg.base, len) : new Uint8Array(0));
  try {
    const prog = prepareProgram(m, { name: "prog", insns: code, funcs: spec.funcs });
    spec.setup?.(m, prog);
    const e = createEngine(engine, m);
    let r: [number, number] = [0, 0];
    for (let i = 0; i < (spec.runs ?? 1); i++) {
      m.trace = spec.trace ? (ev) => trace.push(ev) : null;
      r = e.run(prog, addr, 0, len, 0);
    }
    return { ok: true, r0: (BigInt(r[1] >>> 0) << 32n) | BigInt(r[0] >>> 0), mem: memOut(), trace };
  } catch (err) {
    const e = err as Error;
    return { ok: false, error: e.message, kind: e.name, mem: memOut(), trace };
  }
}

/** Runs `code` on both engines. */
export function runBoth(code: Uint8Array, spec: RunSpec = {}): [Outcome, Outcome] {
  return [runOn("interp", code, spec), runOn("jit", code, spec)];
}

/** Slots from a list of instructions (fields default to 0). */
export function raw(insns: Partial<Insn>[]): Uint8Array {
  return encodeProgram(insns.map((i) => ({ code: 0, dst: 0, src: 0, off: 0, imm: 0, ...i })));
}

/** `lddw rX, 0x7ead000N` in assembler text becomes a reference to map N. */
export function withMaps(code: Uint8Array): Uint8Array {
  const p = decodeProgram(code);
  const out = [];
  for (let pc = 0; pc < p.length; pc++) {
    const i = insnAt(p, pc);
    if (i.code === 0x18 && (i.imm & 0xffff_fff0) === 0x7ead_0000) {
      out.push({ ...i, src: 1, imm: i.imm & 15 }, { ...insnAt(p, pc + 1), imm: 0 });
      pc++;
    } else out.push(i);
  }
  return encodeProgram(out);
}

export interface WorldSpec {
  progs: { name: string; asm?: string; code?: Uint8Array; funcs?: FuncInfo[] }[];
  maps?: MapDefinition[];
  /** [map, slot, program] */
  slots?: [number, number, number][];
  mem?: Uint8Array;
  insnLimit?: number;
}

/** Programs and maps loaded into one machine, run on `engine`. */
export function world(engine: EngineName, spec: WorldSpec) {
  const m = makeMachine({ insnLimit: spec.insnLimit });
  const maps: BpfMap[] = (spec.maps ?? []).map((def) => {
    const env = { mem: m.mem, numCpus: 1, cpu: 0, mapByHandle: (h: number) => m.mapByHandle(h), now: () => 0n }; // prettier-ignore
    const map = createMap(def, env, m.nextMapHandle());
    m.addMap(map);
    return map;
  });
  const resolver = {
    mapHandle: (i: number) => maps[i]?.handle,
    mapValueAddr: () => undefined,
  };
  const progs: ExecProgram[] = spec.progs.map((p) =>
    prepareProgram(
      m,
      { name: p.name, insns: p.code ?? withMaps(assemble(p.asm ?? "exit")), funcs: p.funcs },
      resolver,
    ),
  );
  for (const [mi, slot, pi] of spec.slots ?? []) {
    (maps[mi] as ProgArrayMap<ExecProgram>).setSlot(slot, progs[pi]);
  }
  const seg = m.mem.mapRegion("ctx", spec.mem?.length ?? 64, SegmentFlags.WRITABLE);
  if (spec.mem) m.mem.write(seg.base, spec.mem);
  const e = createEngine(engine, m);
  const trace: TraceEvent[] = [];
  return {
    m,
    progs,
    maps,
    trace,
    ctx: () => m.mem.read(seg.base, spec.mem?.length ?? 64),
    run(which = 0, traced = false): bigint | string {
      trace.length = 0;
      m.trace = traced ? (ev) => trace.push(ev) : null;
      try {
        const [lo, hi] = e.run(progs[which], seg.base, 0, 64, 0);
        return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
      } catch (err) {
        return (err as Error).message;
      } finally {
        m.trace = null;
      }
    },
  };
}

/** Assembly of `r0 = bpf_map_lookup_elem(map, r10 + key)` (4 instructions, 5 slots). */
export const asmLookup = (key: number, map = "0x7ead0000") => `
  lddw %r1, ${map}
  mov %r2, %r10
  add %r2, ${key}
  call 1`;

/** Assembly of `bpf_map_update_elem(map, r10 + key, r10 + value, 0)` (7 instructions). */
export const asmUpdate = (key: number, value: number, map = "0x7ead0000") => `
  lddw %r1, ${map}
  mov %r2, %r10
  add %r2, ${key}
  mov %r3, %r10
  add %r3, ${value}
  mov %r4, 0
  call 2`;

export const PROG_ARRAY: MapDefinition = { name: "jmp", type: 3, keySize: 4, valueSize: 4, maxEntries: 8, flags: 0 }; // prettier-ignore

/** Runs the same world on both engines; expects the same results (traced too). */
export function both(spec: WorldSpec, runs = 1) {
  const res = ENGINES.map((e) => {
    const w = world(e, spec);
    const r: (bigint | string)[] = [];
    for (let k = 0; k < runs; k++) r.push(w.run());
    const traced = w.run(0, true);
    return { r, traced, trace: [...w.trace], ctx: w.ctx() };
  });
  expect(res[1]).toEqual(res[0]);
  return res[0];
}
