/**
 * Load-time structural validation, as strict as the kernel's verifier is before it starts its
 * data-flow analysis (`kernel/bpf/verifier.c`: the opcode table, the reserved-field checks of
 * `check_alu_op`/`do_check`, `check_subprogs`, `resolve_pseudo_ldimm64`) and RFC 9669.
 *
 * Choices, documented:
 * - Legacy packet loads (`BPF_LD | BPF_ABS/IND`, socket filters only in Linux) are checked for
 *   reserved fields and accepted; pass `legacyPacketLoads: false` for program types that cannot
 *   use them. Engines that do not implement them reject them themselves.
 * - The kernel also refuses shifts by an immediate outside 0..width-1 and unreachable
 *   instructions; the conformance suite uses both, so those two checks are opt-in
 *   (`kernelShiftRange`, `rejectUnreachable`). Division by an immediate 0 is always refused.
 * - Instructions newer than RFC 9669 that Linux accepts (`may_goto`, `addr_space_cast`,
 *   load-acquire/store-release, `gotox`) are refused as not supported; kfunc calls need
 *   `allowKfuncCalls`, `callx` (which Linux refuses) needs `allowCallx`.
 */

import { ValidationError } from "../errors.js";
import type { DecodedProgram } from "./decode.js";
import { formatLlvm } from "./disasm.js";
import {
  BPF_CALL,
  BPF_EXIT,
  BPF_JA,
  BPF_JMP,
  BPF_JMP32,
  BPF_MAXINSNS_LIMIT,
  OP_LDDW,
} from "./opcodes.js";
import { instructionProblem, type ValidateOptions } from "./validate-insn.js";

export { describeOpcode, instructionProblem } from "./validate-insn.js";
export type { InsnProblem, ValidateOptions } from "./validate-insn.js";

/** Target pc of a jump at `pc` (JA in JMP32 uses imm), or undefined if it is not a jump. */
export function jumpTarget(p: DecodedProgram, pc: number): number | undefined {
  const code = p.code[pc];
  const cls = code & 0x07;
  if (cls !== BPF_JMP && cls !== BPF_JMP32) return undefined;
  const op = code & 0xf0;
  if (op === BPF_CALL || op === BPF_EXIT) return undefined;
  return cls === BPF_JMP32 && op === BPF_JA ? pc + p.imm[pc] + 1 : pc + p.off[pc] + 1;
}

/** Target pc of a local call (`call` src=1) or `lddw` src=4 (a function address) at `pc`. */
export function localCallTarget(p: DecodedProgram, pc: number): number | undefined {
  const code = p.code[pc];
  if (code === (BPF_JMP | BPF_CALL) && p.src[pc] === 1) return pc + p.imm[pc] + 1;
  if (code === OP_LDDW && p.src[pc] === 4) return pc + p.imm[pc] + 1;
  return undefined;
}

/** Marks the slots that are the second half of an `lddw`. */
function lddwTails(p: DecodedProgram): Uint8Array {
  const tails = new Uint8Array(p.length);
  for (let pc = 0; pc < p.length; pc++) {
    if (p.code[pc] === OP_LDDW && pc + 1 < p.length) tails[++pc] = 1;
  }
  return tails;
}

/**
 * The entry pcs of the subprograms, sorted: 0 and every in-range target of a local call or of
 * an `lddw` with src=4 (as the kernel's `add_subprog_and_kfunc` collects them).
 */
export function subprogramStarts(p: DecodedProgram): number[] {
  const starts = new Set<number>([0]);
  const tails = lddwTails(p);
  for (let pc = 0; pc < p.length; pc++) {
    if (tails[pc]) continue;
    const t = localCallTarget(p, pc);
    if (t !== undefined && t >= 0 && t < p.length) starts.add(t);
  }
  return [...starts].sort((a, b) => a - b);
}

/**
 * Validates a decoded program's structure; throws a {@link ValidationError} naming the pc and
 * the instruction (`pc 3: invalid field: off=4 on "r0 += 0x1" (add64 with an immediate uses no
 * offset)`). Its `code` says which rule failed (`UNKNOWN_OPCODE`, `RESERVED_FIELD`,
 * `INVALID_REGISTER`, `READONLY_R10`, `JUMP_OUT_OF_RANGE`, `JUMP_INTO_LDDW`, `BAD_LDDW`,
 * `BAD_CALL`, `UNKNOWN_HELPER`, `LAST_INSN`, `EMPTY_PROGRAM`, `TOO_LARGE`, `UNSUPPORTED`,
 * `CPU_VERSION`, `DIV_BY_ZERO`, `BAD_SHIFT`, `UNREACHABLE`).
 */
export function validateProgram(p: DecodedProgram, opts: ValidateOptions = {}): void {
  const n = p.length;
  if (n === 0)
    throw new ValidationError("empty program: no instructions", undefined, "EMPTY_PROGRAM");
  const max = opts.maxInsns ?? BPF_MAXINSNS_LIMIT;
  if (n > max) {
    throw new ValidationError(
      `program too large: ${n} instructions, the limit is ${max}`,
      undefined,
      "TOO_LARGE",
    );
  }
  const tails = lddwTails(p);
  for (let pc = 0; pc < n; pc++) {
    if (tails[pc]) continue;
    const problem = instructionProblem(p, pc, opts);
    if (problem) throw new ValidationError(problem.message, pc, problem.code);
  }
  const starts = checkCalls(p, tails);
  checkJumps(p, tails, starts);
  if (opts.rejectUnreachable) checkReachable(p, tails);
}

function checkCalls(p: DecodedProgram, tails: Uint8Array): number[] {
  for (let pc = 0; pc < p.length; pc++) {
    if (tails[pc]) continue;
    const t = localCallTarget(p, pc);
    if (t === undefined) continue;
    const what = p.code[pc] === OP_LDDW ? "function address" : "local call";
    if (t < 0 || t >= p.length) {
      const msg = `${what} to pc ${t}, outside the program (0..${p.length - 1}): "${formatLlvm(p, pc)}"`;
      throw new ValidationError(msg, pc, "BAD_CALL");
    }
    if (tails[t]) {
      const msg = `${what} into the middle of the lddw at pc ${t - 1}: "${formatLlvm(p, pc)}"`;
      throw new ValidationError(msg, pc, "BAD_CALL");
    }
  }
  return subprogramStarts(p);
}

function checkJumps(p: DecodedProgram, tails: Uint8Array, starts: number[]): void {
  let sub = 0;
  let start = 0;
  let end = starts.length > 1 ? starts[1] : p.length;
  for (let pc = 0; pc < p.length; pc++) {
    if (!tails[pc]) {
      const t = jumpTarget(p, pc);
      if (t !== undefined) {
        if (t < start || t >= end) {
          const where = start === 0 && end === p.length ? "the program" : "its subprogram";
          const msg = `jump out of range: "${formatLlvm(p, pc)}" goes to pc ${t}, outside ${where} (${start}..${end - 1})`;
          throw new ValidationError(msg, pc, "JUMP_OUT_OF_RANGE");
        }
        if (tails[t]) {
          const msg = `jump into the middle of the lddw at pc ${t - 1}: "${formatLlvm(p, pc)}"`;
          throw new ValidationError(msg, pc, "JUMP_INTO_LDDW");
        }
      }
    }
    if (pc === end - 1) {
      const code = p.code[pc];
      const ok =
        !tails[pc] &&
        (code === (BPF_JMP | BPF_EXIT) ||
          code === (BPF_JMP | BPF_JA) ||
          code === (BPF_JMP32 | BPF_JA));
      if (!ok) {
        const last = tails[pc] ? `the second half of an lddw` : `"${formatLlvm(p, pc)}"`;
        const what =
          sub === 0 && end === p.length
            ? "the program"
            : `subprogram ${sub} (pc ${start}..${end - 1})`;
        const msg = `the last instruction of ${what} is ${last}, not exit or ja: execution would run off its end`;
        throw new ValidationError(msg, tails[pc] ? pc - 1 : pc, "LAST_INSN");
      }
      sub++;
      start = end;
      end = sub + 1 < starts.length ? starts[sub + 1] : p.length;
    }
  }
}

function checkReachable(p: DecodedProgram, tails: Uint8Array): void {
  const seen = new Uint8Array(p.length);
  const stack = [0];
  seen[0] = 1;
  const push = (t: number): void => {
    if (t >= 0 && t < p.length && !seen[t]) {
      seen[t] = 1;
      stack.push(t);
    }
  };
  while (stack.length) {
    const pc = stack.pop() as number;
    const code = p.code[pc];
    const op = code & 0xf0;
    const cls = code & 0x07;
    const isJmp = cls === BPF_JMP || cls === BPF_JMP32;
    const call = localCallTarget(p, pc);
    if (call !== undefined) push(call);
    const t = jumpTarget(p, pc);
    if (t !== undefined) push(t);
    const ends = isJmp && (op === BPF_EXIT || op === BPF_JA);
    if (!ends) push(pc + (code === OP_LDDW ? 2 : 1));
  }
  for (let pc = 0; pc < p.length; pc++) {
    if (!seen[pc] && !tails[pc]) {
      throw new ValidationError(
        `unreachable instruction: "${formatLlvm(p, pc)}"`,
        pc,
        "UNREACHABLE",
      );
    }
  }
}
