/**
 * The eBPF → WebAssembly JIT engine (`--engine jit`).
 *
 * Each program compiles, on its first run or when a tail call first reaches it, to one
 * WebAssembly module that imports the machine's linear memory (the same one the interpreter
 * uses) and a function table shared by every program of the machine:
 *
 * - one Wasm function per eBPF function (`wasm.ts` emits the binary), registers as i64 locals,
 *   the control-flow graph structured into blocks and loops from its dominator tree
 *   (`cfg.ts`, `structure.ts`; irreducible graphs run as a `br_table` dispatch loop);
 * - instructions lowered with the interpreter's exact semantics (`lower.ts`, `calls.ts`);
 * - memory accesses checked inline (`memcheck.ts`): through r10 inside the frame, nothing;
 *   else a cached range per value of the base register (in globals between runs, in locals in
 *   loops: `cacheset.ts`), refilled by walking the page table and segment descriptors in linear
 *   memory, exactly as `AddressSpace.checkSlot`; faults throw the shared `memoryFault()` error.
 *   Cheaper where the program proves an access in range: packet accesses its own bounds tests
 *   cover (`ranges.ts`: one compare per access in loops, none in a counted loop's fast copy or
 *   in the copy a *pivot* picks after a header test, `version.ts`), and accesses inside a map
 *   value a lookup returned (`mapvals.ts`);
 * - bpf-to-bpf calls are Wasm calls (r6–r9 are the caller's locals); a tail call is a Wasm
 *   `return_call_indirect` on the same frame (when a program calls itself: a branch to the top
 *   of its entry function, or a direct `return_call` from a subprogram), so neither grows the
 *   stack; slots are read from the prog_array's slot mirror at run time, and the shared
 *   `tailCall()` handles what the fast path does not;
 * - the instruction budget is charged per basic block (`budget.ts`), with the error naming the
 *   pc the interpreter stops at; helpers get their registers through a scratch area
 *   (`runtime.ts`).
 *
 * Differences from the interpreter, all on paths the kernel's verifier rejects or in runs that
 * end in an error:
 * - a subprogram, a callback or a tail-call target starts with r0 and r6–r9 at 0, not with the
 *   caller's values; after a bpf-to-bpf call r1–r5 hold the caller's values, not the callee's;
 * - a run stopped by the budget has not run the block it stops in (memory differs), and when a
 *   block both faults and exhausts the budget the JIT reports the budget;
 * - programs compile lazily: in a browser's main thread, which refuses synchronous compilation
 *   of modules over 4 KiB, call {@link JitEngine.prepareAsync} for every program first;
 * - a single eBPF function too large for one Wasm function (V8: 7.6 MB of code, roughly
 *   800,000 instructions) cannot be compiled (a clear error).
 *
 * The JIT sets the `idOf` of prog_arrays its tail calls use to the program id (what Linux's
 * lookup returns), so that their slot mirrors name programs.
 */
import { engineFactories, type Engine } from "../runtime/engine.js";
import type { Machine } from "../runtime/machine.js";
import type { ExecProgram } from "../runtime/program.js";
import { JitRuntime } from "./runtime.js";

export { JitRuntime } from "./runtime.js";
export { compileProgram, type CompileOptions, type CompiledProgram } from "./compile.js";

/** The JIT as an {@link Engine}. Engines of one machine share its compiled programs. */
export class JitEngine implements Engine {
  readonly name = "jit" as const;
  private readonly rt: JitRuntime;
  constructor(m: Machine) {
    this.rt = JitRuntime.of(m);
  }
  run(prog: ExecProgram, r1lo: number, r1hi: number, r2lo = 0, r2hi = 0): [number, number] {
    return this.rt.runProgram(prog, r1lo, r1hi, r2lo, r2hi);
  }
  runMany(prog: ExecProgram, r1lo: number, r1hi: number, n: number): [number, number, number] {
    return this.rt.runMany(prog, r1lo, r1hi, n);
  }

  /**
   * Compiles `prog` now (otherwise its first run does), and the programs its prog_arrays hold,
   * and theirs; `traced`: the form traced runs use.
   */
  prepare(prog: ExecProgram, traced = false): void {
    this.rt.prepare(prog, traced);
  }

  /**
   * Compiles `prog` asynchronously. Browsers refuse synchronous compilation of modules over
   * 4 KiB on their main thread: there, prepare every program a run may reach (the entry and
   * the programs in its prog_arrays) before running.
   */
  prepareAsync(prog: ExecProgram, traced = false): Promise<void> {
    return this.rt.prepareAsync(prog, traced);
  }
}

engineFactories.set("jit", (m) => new JitEngine(m));
