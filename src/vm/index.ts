import { engineFactories, type Engine } from "../runtime/engine.js";
import type { Machine } from "../runtime/machine.js";
import type { ExecProgram } from "../runtime/program.js";
import { Interpreter } from "./interpreter.js";

export { Interpreter } from "./interpreter.js";

/** The interpreter as an {@link Engine}. */
export class InterpreterEngine implements Engine {
  readonly name = "interp" as const;
  private readonly vm: Interpreter;
  constructor(m: Machine) {
    this.vm = new Interpreter(m);
  }
  run(prog: ExecProgram, r1lo: number, r1hi: number, r2lo = 0, r2hi = 0): [number, number] {
    this.vm.runProgram(prog, r1lo, r1hi, r2lo, r2hi);
    return [this.vm.regs[0], this.vm.regs[1]];
  }
  /** Decodes `prog` ahead of its first run. */
  prepare(prog: ExecProgram): void {
    this.vm.prepare(prog);
  }
}

engineFactories.set("interp", (m) => new InterpreterEngine(m));
