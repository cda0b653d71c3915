import { TsbpfError } from "../errors.js";
import type { Machine } from "./machine.js";
import type { ExecProgram } from "./program.js";

/** Engine names: the interpreter, the WebAssembly JIT. */
export type EngineName = "interp" | "jit";

/** An execution engine bound to one {@link Machine}. */
export interface Engine {
  /** Engine name. */
  readonly name: EngineName;
  /**
   * Runs `prog` from instruction 0 on a fresh first frame with r1 and r2 set (as halves),
   * resetting the tail-call budget; returns r0 as [low, high].
   */
  run(
    prog: ExecProgram,
    r1lo: number,
    r1hi: number,
    r2lo?: number,
    r2hi?: number,
  ): [number, number];
  /**
   * Optional: runs `prog` as {@link run} does (r2 = 0) up to `n` times in a row (fewer when it
   * traces, or past what one call counts); returns the runs made and r0 of the last as
   * [runs, low, high]. Engines without it run once per call of {@link runRepeated}.
   */
  runMany?(prog: ExecProgram, r1lo: number, r1hi: number, n: number): [number, number, number];
  /**
   * Optional: does ahead what the first run of `prog` would otherwise do (the JIT compiles it
   * and the programs its prog_arrays hold), so that a run's duration leaves it out.
   * `traced`: for traced runs.
   */
  prepare?(prog: ExecProgram, traced: boolean): void;
}

/**
 * Runs `prog` on `engine` up to `n` (>= 1) times, after the caller's `Machine.beginRun`: with
 * {@link Engine.runMany} where the engine has it, else once. Returns the runs made and r0 of
 * the last as [runs, low, high].
 */
export function runRepeated(
  engine: Engine,
  prog: ExecProgram,
  r1lo: number,
  r1hi: number,
  n: number,
): [number, number, number] {
  if (n > 1 && engine.runMany !== undefined) return engine.runMany(prog, r1lo, r1hi, n);
  const [lo, hi] = engine.run(prog, r1lo, r1hi);
  return [1, lo, hi];
}

/** Creates engines by name; the JIT registers itself here when it is part of the build. */
export const engineFactories = new Map<EngineName, (m: Machine) => Engine>();

/** Creates engine `name` on machine `m`. */
export function createEngine(name: EngineName, m: Machine): Engine {
  const f = engineFactories.get(name);
  if (f === undefined) {
    const have = [...engineFactories.keys()].join(", ");
    throw new TsbpfError(
      "ENOTSUPP",
      `engine "${String(name)}" is not available (engines: ${have}; the JIT registers itself when src/jit is imported)`,
    );
  }
  return f(m);
}

/**
 * The engine used when none is named: the WebAssembly JIT where it is registered and
 * WebAssembly can be compiled synchronously (Node, workers), else the interpreter. Browser main
 * threads refuse synchronous compiles of modules over 4 KiB, so there the interpreter is the
 * default (ask for "jit" after `prepareAsync`, see src/jit).
 */
export function defaultEngine(): EngineName {
  const mainThread = typeof (globalThis as { window?: unknown }).window !== "undefined";
  return engineFactories.has("jit") && typeof WebAssembly === "object" && !mainThread
    ? "jit"
    : "interp";
}
