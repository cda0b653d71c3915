/**
 * Shared by the JIT tests: machines with the helper table, programs built from assembler text
 * or raw slots, and runs of the same program on both engines.
 */
import "../src/vm/index.js";
import "../src/jit/index.js";
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
