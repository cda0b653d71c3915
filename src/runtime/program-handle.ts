import { contextModel } from "../progtypes/index.js";
import { TestRunError } from "../progtypes/errors.js";
import type { Collection } from "./collection.js";
import { runRepeated } from "./engine.js";
import type { ExecProgram } from "./program.js";
import type { TraceSink } from "./trace.js";

/** Options of {@link Program.run}, after libbpf's `bpf_test_run_opts`. */
export interface RunOptions {
  /** Packet (data_in). Default: 64 zero bytes for packet programs, none for others. */
  data?: Uint8Array;
  /** Context (ctx_in). */
  ctx?: Uint8Array;
  /** Runs (default 1); `durationNs` is the mean. Maps and the packet change run after run. */
  repeat?: number;
  /** Size of the caller's data_out buffer: a larger packet out is ENOSPC (default unlimited). */
  dataSizeOut?: number;
  /** Receives trace events of the runs. */
  trace?: TraceSink;
}

/** Result of {@link Program.run}, after `bpf_test_run_opts`. */
export interface RunResult {
  /** The low 32 bits of r0, unsigned, as the kernel reports `retval`. */
  retval: number;
  /** All 64 bits of r0. */
  r0: bigint;
  /** The packet after the last run (data_out). */
  data: Uint8Array;
  /** The context after the last run (ctx_out), when the program type has one. */
  ctx: Uint8Array | undefined;
  /**
   * Mean wall time per run, in nanoseconds, as the kernel's `duration`: building the context
   * and compiling the program (and the programs its prog_arrays hold) happen before the clock
   * starts, copying the packet and context out after it stops.
   */
  durationNs: number;
}

/** A loaded program of a {@link Collection}. */
export class Program {
  constructor(
    /** The collection the program belongs to. */
    readonly collection: Collection,
    /** The program as the engines run it. */
    readonly exec: ExecProgram,
  ) {}

  /** Program name. */
  get name(): string {
    return this.exec.name;
  }

  /** ELF section name. */
  get section(): string {
    return this.exec.section;
  }

  /** Linux program type. */
  get progType(): number {
    return this.exec.progType;
  }

  /** Runs the program as BPF_PROG_TEST_RUN does. */
  run(opts: RunOptions = {}): RunResult {
    const m = this.collection.machine;
    const repeat = Math.max(1, Math.floor(opts.repeat ?? 1));
    const data = opts.data ?? new Uint8Array(64);
    const ctx = contextModel(this.exec.progType).prepare(m, { data, ctx: opts.ctx });
    const engine = this.collection.engine;
    m.trace = opts.trace ?? null;
    engine.prepare?.(this.exec, m.trace !== null); // compiling is not part of the duration
    let lo = 0;
    let hi = 0;
    const t0 = now();
    m.beginRun();
    try {
      for (let left = repeat; left > 0;) {
        const [runs, rlo, rhi] = runRepeated(engine, this.exec, ctx.ctxAddr, 0, left);
        left -= runs;
        lo = rlo;
        hi = rhi;
      }
    } finally {
      m.trace = null;
    }
    const durationNs = ((now() - t0) * 1e6) / repeat;
    const out = ctx.finish();
    if (opts.dataSizeOut !== undefined && out.data.length > opts.dataSizeOut) {
      throw new TestRunError(
        `data_out of ${out.data.length} bytes does not fit ${opts.dataSizeOut}`,
        "ENOSPC",
      );
    }
    return {
      retval: lo >>> 0,
      r0: (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0),
      data: out.data,
      ctx: out.ctx,
      durationNs,
    };
  }

  /** Runs once on `data` and returns `retval` (cilium/ebpf's `Program.Test`). */
  test(data: Uint8Array): number {
    return this.run({ data }).retval;
  }

  /** Runs `repeat` times on `data`; returns the mean nanoseconds per run. */
  benchmark(data: Uint8Array, repeat: number): number {
    return this.run({ data, repeat }).durationNs;
  }
}

function now(): number {
  return typeof performance !== "undefined" ? performance.now() : Date.now();
}
