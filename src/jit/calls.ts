/**
 * Lowering of calls and exits: helpers (registers through the scratch area), bpf-to-bpf calls
 * (Wasm calls, frame limits checked), `callx`, tail calls (through a known prog_array without
 * leaving WebAssembly when possible, else the shared `tailCall()`), and `exit`.
 */
import { E2BIG, EINVAL, ENOENT } from "../errno.js";
import { MAX_CALL_FRAMES, MAX_TAIL_CALL_CNT } from "../isa/opcodes.js";
import { CORE_SLOW_HI, ENTRY_BY_ID, Imp, MAX_FAST_ID, RaiseKind, Scratch } from "./abi.js";
import { loadBudget, loadRegs, storeBudget, storeRegs, type FnCtx, type TailMap } from "./ctx.js";
import { Op, VOID } from "./wasm.js";

const BPF_FUNC_map_lookup_elem = 1;
const BPF_FUNC_tail_call = 12;
const BPF_FUNC_loop = 181;
/** `BPF_MAX_LOOPS`: the most iterations `bpf_loop` runs. */
const BPF_MAX_LOOPS = 1 << 23;
/**
 * `bpf_loop` runs its callbacks as nested WebAssembly calls only while the frame limit keeps
 * the native stack small enough; past it the helper calls them from JavaScript, which turns a
 * stack overflow into the frame-limit error.
 */
const MAX_INLINE_LOOP_FRAMES = 512;

/** Helpers the map core runs for hash, LRU and array maps: [import, argument registers]. */
const CORE_HELPERS = new Map<number, readonly [number, number]>([
  [1, [Imp.mapLookup, 2]], // bpf_map_lookup_elem
  [2, [Imp.mapUpdate, 4]], // bpf_map_update_elem
  [3, [Imp.mapDelete, 2]], // bpf_map_delete_elem
]);

/** Ids of the helpers compiled code runs itself when they are the built-in ones. */
export const INLINE_HELPER_IDS: readonly number[] = [...CORE_HELPERS.keys(), BPF_FUNC_loop];

/** Exit: hands the budget back, traces, returns r0. */
export function lowerExit(c: FnCtx, pc: number): void {
  const o = c.out;
  storeBudget(c);
  if (c.traced) {
    o.i32(pc).get(c.R[0]).op(Op.i32_wrap_i64).get(c.R[0]).i64(32).op(Op.i64_shr_u, Op.i32_wrap_i64);
    o.get(c.DEPTH).call(Imp.traceExit);
  }
  o.get(c.R[0]).u8(Op.return);
}

/** After a call: the budget and the caches (the callee may have run helpers). */
function afterCall(c: FnCtx): void {
  loadBudget(c);
  c.syncCaches();
}

/** Pushes r1..r5, depth + 1, base: the arguments of a bpf-to-bpf call. */
function callArgs(c: FnCtx): void {
  for (let r = 1; r <= 5; r++) c.out.get(c.R[r]);
  c.out.get(c.DEPTH).i32(1).op(Op.i32_add).get(c.BASE);
}

/** The tail-call sequence (r1..r5 must be in the scratch area, the budget stored). */
function tailCallTail(c: FnCtx, pc: number): void {
  const o = c.out;
  o.i32(pc).get(c.DEPTH).call(Imp.tailcall).tee(c.TI).i32(0).op(Op.i32_ge_s);
  o.u8(Op.if).u8(VOID);
  for (let r = 1; r <= 5; r++) o.get(c.R[r]);
  o.get(c.DEPTH).get(c.DEPTH).get(c.TI).u8(Op.return_call_indirect).u32(c.sig).u32(0);
  o.u8(Op.end);
  loadRegs(c, 0, 0);
}

/**
 * A tail call through a known prog_array without leaving WebAssembly (untraced code only): the
 * failures `tailCall()` reports without a trace (index out of range, budget spent, empty slot:
 * r0 = -ENOENT / -E2BIG, execution goes on) and the jump to a compiled target; anything else
 * (a target not compiled yet) takes the shared `tailCall()` path after it.
 */
function tailCallSite(c: FnCtx, pc: number, map: TailMap) {
  const o = c.out;
  const tcnt = c.scratch + Scratch.TCNT;
  const fail = (errno: number) => {
    o.u8(Op.if).u8(VOID).i64(-errno).set(c.R[0]).br(2).u8(Op.end);
  };
  o.u8(Op.block).u8(VOID); // $end
  o.u8(Op.block).u8(VOID); // $slow
  o.get(c.R[3]).op(Op.i32_wrap_i64).tee(c.TI).i32(map.maxEntries).op(Op.i32_ge_u);
  fail(ENOENT);
  o.i32(0).mem(Op.i32_load, tcnt).tee(c.TN).i32(MAX_TAIL_CALL_CNT).op(Op.i32_ge_u);
  fail(E2BIG);
  o.get(c.TI).i32(2).op(Op.i32_shl).mem(Op.i32_load, map.tableAddr).tee(c.TI).op(Op.i32_eqz);
  fail(ENOENT);
  const count = () => {
    o.i32(0).get(c.TN).i32(1).op(Op.i32_add).mem(Op.i32_store, tcnt);
  };
  const jump = (indirect: boolean) => {
    count();
    storeBudget(c);
    for (let r = 1; r <= 5; r++) o.get(c.R[r]);
    o.get(c.DEPTH).get(c.DEPTH);
    if (indirect) o.get(c.TI).u8(Op.return_call_indirect).u32(c.sig).u32(0);
    else o.u8(Op.return_call).u32(c.funcIndex(0));
  };
  if (c.progId > 0) {
    // the program calls itself: a branch to the top of the entry function (budget and caches
    // stay in locals; r0 and r6-r9 start at 0 as in a call), else a direct tail call
    o.get(c.TI).i32(c.progId).op(Op.i32_eq).u8(Op.if).u8(VOID);
    const self = c.selfLoop();
    if (self === undefined) jump(false);
    else {
      count();
      o.get(c.DEPTH).set(c.BASE);
      for (const r of [0, 6, 7, 8, 9]) o.i64(0).set(c.R[r]);
      o.br(self + 3); // out of the `if`, $slow and $end
    }
    o.u8(Op.end);
  }
  o.get(c.TI).i32(MAX_FAST_ID).op(Op.i32_ge_u).u8(Op.br_if).u32(0);
  o.get(c.TI).i32(2).op(Op.i32_shl).mem(Op.i32_load, ENTRY_BY_ID).tee(c.TI);
  o.op(Op.i32_eqz).u8(Op.br_if).u32(0);
  jump(true);
  o.u8(Op.end);
  storeRegs(c, 2, 3);
  storeBudget(c);
  tailCallTail(c, pc);
  o.u8(Op.end);
}

export function lowerCall(c: FnCtx, pc: number): void {
  const o = c.out;
  const p = c.p;
  const src = p.src[pc];
  const imm = p.imm[pc];
  if (p.code[pc] === 0x8d) {
    // callx: the runtime resolves the target (function, helper or tail call)
    storeRegs(c, 0, 5);
    storeBudget(c);
    const v = c.R[p.dst[pc]];
    o.get(v).op(Op.i32_wrap_i64).get(v).i64(32).op(Op.i64_shr_u, Op.i32_wrap_i64);
    o.i32(pc).get(c.DEPTH).get(c.BASE).call(Imp.callx).tee(c.TI).i32(0).op(Op.i32_ge_s);
    o.u8(Op.if).u8(VOID);
    callArgs(c);
    o.get(c.TI).u8(Op.call_indirect).u32(c.sig).u32(0).set(c.R[0]);
    o.u8(Op.else);
    o.get(c.TI).i32(-1).op(Op.i32_eq).u8(Op.if).u8(VOID);
    tailCallTail(c, pc);
    o.u8(Op.else);
    o.i32(-2).get(c.TI).op(Op.i32_sub).i32(pc).get(c.DEPTH).call(Imp.helper);
    loadRegs(c, 0, 5);
    o.op(Op.end, Op.end);
    afterCall(c);
    return;
  }
  if (src === 1) {
    const target = pc + imm + 1;
    o.get(c.DEPTH).i32(1).op(Op.i32_add).get(c.BASE).op(Op.i32_sub).i32(MAX_CALL_FRAMES);
    o.op(Op.i32_ge_s)
      .get(c.DEPTH)
      .i32(c.maxFrames - 1)
      .op(Op.i32_ge_s, Op.i32_or);
    o.u8(Op.if).u8(VOID);
    o.i32(pc).i32(target).get(c.DEPTH).get(c.BASE).call(Imp.callFault).u8(Op.unreachable);
    o.u8(Op.end);
    if (c.traced) o.i32(pc).i32(target).get(c.DEPTH).i32(1).op(Op.i32_add).call(Imp.traceCall);
    storeBudget(c);
    callArgs(c);
    o.call(c.funcIndex(target)).set(c.R[0]);
    afterCall(c);
    return;
  }
  if (src !== 0) {
    o.i32(RaiseKind.KFUNC).i32(pc).i32(imm).call(Imp.raise).u8(Op.unreachable);
    return;
  }
  if (imm === BPF_FUNC_tail_call) {
    const map = c.traced ? undefined : c.tailMap(pc);
    if (map !== undefined) return tailCallSite(c, pc, map);
    storeRegs(c, 2, 3);
    storeBudget(c);
    tailCallTail(c, pc);
    return;
  }
  const builtin = !c.traced && c.builtinHelpers.has(imm);
  if (builtin && imm === BPF_FUNC_loop) {
    const callee = c.loopCallback(pc);
    if (callee !== undefined && c.maxFrames <= MAX_INLINE_LOOP_FRAMES) {
      return lowerLoop(c, pc, callee);
    }
  }
  const arr = builtin && imm === BPF_FUNC_map_lookup_elem ? c.arrayLookup(pc) : undefined;
  if (arr !== undefined) {
    // as Linux's array_map_gen_lookup: the value's address, or NULL past the last entry
    o.get(c.FPLO)
      .mem(Op.i32_load, arr.keyOff + 512)
      .tee(c.TI)
      .i32(arr.maxEntries);
    o.op(Op.i32_lt_u).u8(Op.if).u8(VOID);
    o.get(c.TI).op(Op.i64_extend_i32_u).i64(arr.stride).op(Op.i64_mul).i64(arr.valueBase);
    o.op(Op.i64_add).set(c.R[0]);
    o.u8(Op.else).i64(0).set(c.R[0]).u8(Op.end);
    return;
  }
  const hash = builtin && imm === BPF_FUNC_map_lookup_elem ? c.hashLookup(pc) : undefined;
  if (hash !== undefined) {
    // the map and a key in the frame are known: the core's lookup without map_lookup_elem's
    // checks of the handle, the key's memory and the CPU
    o.i32(hash.desc)
      .get(c.FPLO)
      .i32(hash.keyOff + 512)
      .op(Op.i32_add)
      .i32(0);
    o.call(Imp.htabLookup).op(Op.i64_extend_i32_u).set(c.R[0]);
    return;
  }
  const core = builtin ? CORE_HELPERS.get(imm) : undefined;
  if (core !== undefined) {
    // the map core, without leaving WebAssembly; the generic helper for what it does not run
    // (other map types, bad pointers: the helper's errors name them)
    const [imp, args] = core;
    for (let r = 1; r <= args; r++) o.get(c.R[r]);
    o.get(c.FPLO).call(imp).tee(c.R[0]).i64(0, CORE_SLOW_HI).op(Op.i64_eq);
    o.u8(Op.if).u8(VOID);
    lowerHelper(c, pc, imm);
    o.u8(Op.end);
    return;
  }
  lowerHelper(c, pc, imm);
}

/**
 * `bpf_loop(nr_loops, callback, ctx, flags)` with a constant callback, as the helper in
 * helpers/callbacks.ts runs it but without leaving WebAssembly: flags other than 0 are -EINVAL,
 * more than 1 << 23 loops -E2BIG, then `callback(i, ctx)` on a new frame (as a callback from
 * JavaScript: its own program base) for i = 0.. until it returns non-zero; r0 is the number
 * of calls made.
 */
function lowerLoop(c: FnCtx, pc: number, callee: number): void {
  const o = c.out;
  const [N, I] = [c.TA, c.TB];
  o.get(c.R[4]).op(Op.i64_eqz, Op.i32_eqz).u8(Op.if).u8(VOID);
  o.i64(-EINVAL).set(c.R[0]);
  o.u8(Op.else);
  o.get(c.R[1]).i64(0xffff_ffff, 0).op(Op.i64_and).tee(N).i64(BPF_MAX_LOOPS).op(Op.i64_gt_u);
  o.u8(Op.if).u8(VOID);
  o.i64(-E2BIG).set(c.R[0]);
  o.u8(Op.else);
  o.get(N).op(Op.i64_eqz, Op.i32_eqz);
  o.get(c.DEPTH).i32(1).op(Op.i32_add).i32(c.maxFrames).op(Op.i32_ge_s, Op.i32_and);
  o.u8(Op.if).u8(VOID);
  o.i32(RaiseKind.CALLBACK_DEPTH).i32(pc).i32(c.maxFrames).call(Imp.raise).u8(Op.unreachable);
  o.u8(Op.end);
  storeBudget(c);
  o.get(N).set(c.R[0]);
  o.i64(0).set(I);
  o.u8(Op.block).u8(VOID).u8(Op.loop).u8(VOID);
  o.get(I).get(N).op(Op.i64_ge_u).u8(Op.br_if).u32(1);
  o.get(I).get(c.R[3]).i64(0).i64(0).i64(0);
  o.get(c.DEPTH).i32(1).op(Op.i32_add).get(c.DEPTH).i32(1).op(Op.i32_add);
  o.call(callee);
  o.get(I).i64(1).op(Op.i64_add).set(I);
  o.op(Op.i64_eqz).u8(Op.br_if).u32(0);
  o.get(I).set(c.R[0]);
  o.op(Op.end, Op.end);
  afterCall(c);
  o.op(Op.end, Op.end);
}

/** A call of helper `imm` through the `helper` import (registers through the scratch area). */
function lowerHelper(c: FnCtx, pc: number, imm: number): void {
  storeRegs(c, 0, 5);
  storeBudget(c);
  c.out.i32(imm).i32(pc).get(c.DEPTH).call(Imp.helper);
  loadRegs(c, 0, 5);
  afterCall(c);
}
