import "../vm/index.js";
import "../jit/index.js";
import { SegmentFlags } from "../memory/layout.js";
import { HELPERS } from "../helpers/index.js";
import { createEngine, defaultEngine, type EngineName } from "./engine.js";
import { Machine, type MachineOptions } from "./machine.js";
import { prepareProgram } from "./prepare.js";

/** Options of {@link execRaw}. */
export interface ExecOptions extends MachineOptions {
  /** Engine (default: {@link defaultEngine}). */
  engine?: EngineName;
  /** Called once the program has loaded (validated), before it runs. */
  onLoaded?: () => void;
}

/**
 * Runs raw bytecode the way bpf_conformance does: r1 points to a copy of `mem` (0 when there
 * is none), r2 holds its length; returns r0 (all 64 bits, unsigned).
 */
export function execRaw(code: Uint8Array, mem?: Uint8Array, opts: ExecOptions = {}): bigint {
  const m = new Machine(opts);
  for (const h of HELPERS) m.registerHelper(h);
  const prog = prepareProgram(m, { name: "prog", insns: code });
  opts.onLoaded?.();
  let addr = 0;
  if (mem !== undefined && mem.length > 0) {
    const seg = m.mem.mapRegion("mem", mem.length, SegmentFlags.WRITABLE);
    m.mem.write(seg.base, mem);
    addr = seg.base;
  }
  const engine = createEngine(opts.engine ?? defaultEngine(), m);
  const [lo, hi] = engine.run(prog, addr, 0, mem?.length ?? 0, 0);
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}
