import { RuntimeFault } from "../errors.js";
import { E2BIG, ENOENT } from "../errno.js";
import { MAX_TAIL_CALL_CNT } from "../isa/opcodes.js";
import type { Machine, ProgArraySlots } from "./machine.js";
import type { ExecProgram } from "./program.js";
import type { TailCallFailure } from "./trace.js";

const BPF_MAP_TYPE_PROG_ARRAY = 3;

/**
 * `bpf_tail_call(ctx, prog_array, index)`, as the x86-64 JIT of Linux >= 6.12 runs it, shared
 * by every engine. `regs` holds r0..r5 as (low, high) halves.
 *
 * Returns the program to jump to (the engine then starts it at instruction 0 on the current
 * frame: same r1, same r10, the frame's bytes untouched), or null when the call fails and
 * execution falls through. It fails when `(u32)index >= max_entries` (only the low 32 bits of
 * the index count), when the budget of {@link MAX_TAIL_CALL_CNT} successful tail calls per run
 * is spent, or when the slot is empty; failures do not spend the budget. After a failure the
 * kernel leaves r0 undefined (its verifier forbids reading it); tsbpf sets r0 to -ENOENT (bad
 * index or empty slot) or -E2BIG (budget spent).
 */
export function tailCall(
  m: Machine,
  caller: ExecProgram,
  pc: number,
  regs: Int32Array,
  depth: number,
): ExecProgram | null {
  const map = regs[5] === 0 ? m.mapByHandle(regs[4]) : undefined;
  if (map === undefined || map.def.type !== BPF_MAP_TYPE_PROG_ARRAY) {
    throw new RuntimeFault("bpf_tail_call: r2 is not a prog_array map", pc);
  }
  const index = regs[6] >>> 0;
  let reason: TailCallFailure | null = null;
  let target: ExecProgram | undefined;
  if (index >= map.def.maxEntries) reason = "index out of range";
  else if (m.tailCallCnt >= MAX_TAIL_CALL_CNT) reason = "budget exhausted";
  else {
    target = (map as unknown as ProgArraySlots).getSlot(index);
    if (target === undefined) reason = "empty slot";
  }
  if (reason !== null || target === undefined) {
    regs[0] = reason === "budget exhausted" ? -E2BIG : -ENOENT;
    regs[1] = -1;
    m.trace?.({
      kind: "tail_call_failed",
      prog: caller.name,
      pc,
      map: map.def.name,
      index: (BigInt(regs[7] >>> 0) << 32n) | BigInt(index),
      reason: reason ?? "empty slot",
      depth,
      budgetLeft: MAX_TAIL_CALL_CNT - m.tailCallCnt,
    });
    return null;
  }
  m.tailCallCnt++;
  if (m.trace) {
    m.trace({
      kind: "tail_call",
      prog: caller.name,
      pc,
      map: map.def.name,
      index: (BigInt(regs[7] >>> 0) << 32n) | BigInt(index),
      target: target.name,
      depth,
      budgetLeft: MAX_TAIL_CALL_CNT - m.tailCallCnt,
    });
    m.trace({ kind: "enter", prog: target.name, depth });
  }
  return target;
}
