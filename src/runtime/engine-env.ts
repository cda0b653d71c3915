import type { HelperEnv, HostServices, RunContext } from "../helpers/types.js";
import type { BpfMap } from "../maps/types.js";
import type { AddressSpace } from "../memory/address-space.js";
import type { Machine } from "./machine.js";
import type { ExecProgram } from "./program.js";

/**
 * What both engines' {@link HelperEnv} share: the machine's state as helpers see it. Each
 * engine adds the parts that depend on how it runs code (`checkMem`, `callFunction`).
 */
export abstract class EngineEnv implements HelperEnv {
  /** Instruction index of the current helper call. */
  pc = 0;
  /** The program running now (null between runs). */
  protected prog: ExecProgram | null = null;

  constructor(readonly machine: Machine) {}

  get mem(): AddressSpace {
    return this.machine.mem;
  }
  get progType(): number {
    return this.prog?.progType ?? 0;
  }
  get run(): RunContext {
    return this.machine.run;
  }
  get host(): HostServices {
    return this.machine.host;
  }
  mapByHandle(handle: number): BpfMap | undefined {
    return this.machine.mapByHandle(handle);
  }

  abstract checkMem(addr: number, hi: number, size: number, write: boolean, what: string): void;
  abstract callFunction(
    funcAddr: number,
    args: ReadonlyArray<readonly [number, number]>,
  ): [number, number];
}
