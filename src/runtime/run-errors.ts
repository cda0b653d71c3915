/**
 * The run-time errors every engine raises, built in one place so the engines' messages cannot
 * drift apart (the memory fault is in `fault.ts`, the tail call in `tail-call.ts`).
 */
import { BudgetError, RuntimeFault } from "../errors.js";
import { MAX_CALL_FRAMES } from "../isa/opcodes.js";
import type { Machine } from "./machine.js";
import { funcAt, type ExecProgram } from "./program.js";
import { hex64 } from "./trace.js";

/** The instruction budget ran out at `pc` of `prog`. */
export function budgetError(m: Machine, prog: ExecProgram, pc: number): BudgetError {
  return new BudgetError(
    `pc ${pc} in ${funcAt(prog, pc).name}: instruction budget of ${m.insnLimit} exhausted (runaway loop?)`,
    pc,
  );
}

/**
 * Whether a bpf-to-bpf call at frame `depth` (of a program that started at frame `base`)
 * may open a new frame: at most {@link MAX_CALL_FRAMES} per program, `maxFrames` per run.
 */
export function callAllowed(depth: number, base: number, maxFrames: number): boolean {
  return depth + 1 - base < MAX_CALL_FRAMES && depth + 1 < maxFrames;
}

/** The error of a call at `pc` to `target` that {@link callAllowed} refuses. */
export function callDepthFault(
  prog: ExecProgram,
  pc: number,
  target: number,
  depth: number,
  base: number,
  maxFrames: number,
): RuntimeFault {
  const why =
    depth + 1 - base >= MAX_CALL_FRAMES
      ? `more than ${MAX_CALL_FRAMES} frames in one program`
      : `call depth limit of ${maxFrames} frames reached (option maxFrames)`;
  return new RuntimeFault(`call to ${funcAt(prog, target).name}: ${why}`, pc, "FRAME_LIMIT");
}

/** A helper's callback (`bpf_loop`...) would open a frame past `maxFrames`. */
export function callbackDepthFault(pc: number, maxFrames: number): RuntimeFault {
  return new RuntimeFault(
    `call depth limit of ${maxFrames} frames reached (option maxFrames)`,
    pc,
    "FRAME_LIMIT",
  );
}

/** A helper's callback address is not an instruction of the program. */
export function callbackAddressFault(funcAddr: number, pc: number): RuntimeFault {
  return new RuntimeFault(`callback address 0x${funcAddr.toString(16)} is not a function`, pc);
}

/** `callx` with a value that is neither a function address nor a helper id. */
export function callxFault(lo: number, hi: number, pc: number): RuntimeFault {
  return new RuntimeFault(`callx to ${hex64(lo >>> 0, hi)}: not a function or helper`, pc);
}

/** A call of a helper the machine does not have. */
export function unknownHelperFault(id: number, pc: number): RuntimeFault {
  return new RuntimeFault(`unknown helper ${id}`, pc);
}

/** A kfunc call (`call` with src = 2). */
export function kfuncFault(btfId: number, pc: number): RuntimeFault {
  return new RuntimeFault(`kfunc calls are not supported (btf id ${btfId})`, pc);
}

/** An opcode the engines do not run. */
export function unsupportedOpcodeFault(code: number, pc: number): RuntimeFault {
  return new RuntimeFault(`unsupported opcode 0x${(code & 0xff).toString(16)}`, pc);
}

/**
 * An atomic instruction whose immediate the engines do not run (as `src/vm/atomics.ts` reports
 * it: without a pc).
 */
export function atomicFault(imm: number, is64: boolean): RuntimeFault {
  if (is64) {
    if (imm === 0x100 || imm === 0x110) {
      return new RuntimeFault("load-acquire/store-release are not supported", -1);
    }
    return new RuntimeFault(`unknown atomic operation 0x${imm.toString(16)}`, -1);
  }
  if (imm === 0x100) return new RuntimeFault("load-acquire is not a 32-bit store", -1);
  return new RuntimeFault(`unknown atomic operation 0x${(imm & ~1).toString(16)}`, -1);
}

/** Nested callbacks ran out of JavaScript (native) stack before the frame limit. */
export function jsStackFault(depth: number, pc: number): RuntimeFault {
  return new RuntimeFault(
    `nested callbacks exhausted the JavaScript stack at frame ${depth}`,
    pc,
    "FRAME_LIMIT",
  );
}
