/**
 * The trampoline module: how JavaScript enters compiled code with i32 arguments only (no
 * BigInts at the boundary), and the repeat loop of `Program.run({ repeat })` inside
 * WebAssembly, so that a run of a short program costs no JS → Wasm transition.
 */
import { SIG_PARAMS, SIG_RESULTS, Scratch } from "./abi.js";
import { Bytes, I32, I64, ModuleBuilder, Op, VOID } from "./wasm.js";

/**
 * `invoke(tableIndex, r1lo, r1hi, ..., r5lo, r5hi, depth, base) -> r0lo`: calls one compiled
 * function (r0 also in the scratch area's RESULT).
 */
export type Invoke = (...args: number[]) => number;

/**
 * `repeat(tableIndex, r1lo, r1hi, r2lo, r2hi, n) -> runs`: runs the entry at `tableIndex` on
 * the first frame (r3..r5 = 0) up to `n` (>= 1) times, each run starting with BUDGET = LIMIT
 * and no tail calls made. r0 of the last run is in
 * RESULT.
 */
export type Repeat = (
  idx: number,
  r1lo: number,
  r1hi: number,
  r2lo: number,
  r2hi: number,
  n: number,
) => number;

/** Pushes the i64 made of the i32 locals `lo` and `hi`. */
function join(o: Bytes, lo: number, hi: number): void {
  o.get(lo).op(Op.i64_extend_i32_u).get(hi).op(Op.i64_extend_i32_u).i64(32);
  o.op(Op.i64_shl, Op.i64_or);
}

/** The trampoline module's bytes (imports `e.t`, the function table, and `e.m`, the memory). */
export function trampoline(scratch: number): Uint8Array<ArrayBuffer> {
  const mb = new ModuleBuilder();
  mb.importTable("e", "t");
  mb.importMemory("e", "m");
  const sig = mb.type(SIG_PARAMS, SIG_RESULTS);

  const o = new Bytes();
  for (let r = 0; r < 5; r++) join(o, 1 + 2 * r, 2 + 2 * r);
  o.get(11).get(12).get(0).u8(Op.call_indirect).u32(sig).u32(0).set(13);
  o.i32(0)
    .get(13)
    .mem(Op.i64_store, scratch + Scratch.RESULT);
  o.get(13).op(Op.i32_wrap_i64, Op.end);
  const params = new Array<number>(13).fill(I32);
  const invokeType = mb.type(params, [I32]);
  const invoke = mb.addFunc({ type: invokeType, locals: [I64], code: o.view().slice() });
  mb.exportFunc("invoke", invoke);

  // repeat: params idx 0, r1 1-2, r2 3-4, n 5; locals r1 6, r2 7, r0 8, runs 9
  const [R1, R2, R0, RUNS] = [6, 7, 8, 9];
  const q = new Bytes();
  join(q, 1, 2);
  q.set(R1);
  join(q, 3, 4);
  q.set(R2);
  q.u8(Op.loop).u8(VOID);
  q.i32(0)
    .i32(0)
    .mem(Op.i64_load, scratch + Scratch.LIMIT)
    .mem(Op.i64_store, scratch + Scratch.BUDGET);
  q.i32(0)
    .i32(0)
    .mem(Op.i32_store, scratch + Scratch.TCNT);
  q.get(R1).get(R2).i64(0).i64(0).i64(0).i32(0).i32(0).get(0);
  q.u8(Op.call_indirect).u32(sig).u32(0).set(R0);
  q.get(RUNS).i32(1).op(Op.i32_add).tee(RUNS).get(5).op(Op.i32_lt_u);
  q.u8(Op.br_if).u32(0).u8(Op.end);
  q.i32(0)
    .get(R0)
    .mem(Op.i64_store, scratch + Scratch.RESULT);
  q.get(RUNS).u8(Op.end);
  const repeatType = mb.type([I32, I32, I32, I32, I32, I32], [I32]);
  const locals = [I64, I64, I64, I32];
  const repeat = mb.addFunc({ type: repeatType, locals, code: q.view().slice() });
  mb.exportFunc("repeat", repeat);
  return mb.build();
}
