/**
 * Memory-check lowering. Every load, store and atomic of a compiled function is checked inline
 * against a cached accessible range `[lo, hi)` kept in two i64 locals per (base register,
 * read/write); the caches start as the live stack frames and are refilled by `$check`, the
 * module's slow path, which does exactly what the interpreter does: the live stack frames
 * `[stackTop - 512 * (depth + 1), stackTop)`, then `AddressSpace.checkSlot` on the page table
 * and segment descriptors in linear memory (live byte, WRITABLE, slot geometry), else the
 * `fault` import, which throws the shared `memoryFault()` error. Accesses through r10 with a
 * constant offset inside the current frame need no check at all.
 */
import {
  PAGE_SHIFT,
  PAGE_TABLE_BASE,
  SEGMENT_TABLE_BASE,
  SEG_END,
  SEG_FLAGS,
  SEG_LIVE,
  SEG_SLOT_SIZE,
  SEG_START,
  SEG_VALUE_SIZE,
  SegmentFlags,
} from "../memory/layout.js";
import { Imp } from "./abi.js";
import { Bytes, I32, I64, Op, VOID, type FuncDef } from "./wasm.js";

/** Largest address + 1 the address space can map (2 GiB). */
const ADDR_LIMIT = 0x8000_0000;

/** Params of `$check`: (addr: i64, size, write, pc, depth: i32) -> (lo, hi: i64, w: i32). */
export const CHECK_PARAMS = [I64, I32, I32, I32, I32];
/** Results of `$check`. */
export const CHECK_RESULTS = [I64, I64, I32];

/**
 * The body of `$check(addr, size, write, pc, depth) -> (lo, hi, writable)`: the accessible
 * range that contains the access and whether programs may write it, or a call to the `fault`
 * import; with `pc` -1 (a probe) a miss returns `(INT64_MAX, 0, 0)` instead.
 */
export function checkFunction(type: number, stackTop: number): FuncDef {
  const A = 0, SIZE = 1, WRITE = 2, PC = 3, DEPTH = 4; // prettier-ignore
  const SLO = 5, AI = 6, D = 7, FLAGS = 8, START = 9, ENDA = 10, SLOTSZ = 11, SLOT = 12; // prettier-ignore
  const SLOTSTART = 13, VS = 14, LIVE = 15; // prettier-ignore
  const seg = (field: number) => SEGMENT_TABLE_BASE + field * 4;
  const o = new Bytes(512);
  o.i32(stackTop).get(DEPTH).i32(1).op(Op.i32_add).i32(9).op(Op.i32_shl).op(Op.i32_sub).set(SLO);
  o.u8(Op.block).u8(VOID);
  // the live stack frames
  o.get(A).get(SLO).op(Op.i64_extend_i32_u, Op.i64_ge_s);
  o.get(A).i64(stackTop, 0).get(SIZE).op(Op.i64_extend_i32_u, Op.i64_sub, Op.i64_le_s, Op.i32_and);
  o.u8(Op.if).u8(VOID);
  o.get(SLO)
    .op(Op.i64_extend_i32_u)
    .i64(stackTop, 0)
    .i32(CHECK_WRITABLE | CHECK_STACK);
  o.op(Op.return);
  o.u8(Op.end);
  // the page table
  o.get(A)
    .i64(ADDR_LIMIT - 1, 0)
    .op(Op.i64_gt_u)
    .u8(Op.br_if)
    .u32(0);
  o.get(A).op(Op.i32_wrap_i64).set(AI);
  o.get(AI)
    .i32(PAGE_SHIFT)
    .op(Op.i32_shr_u)
    .i32(2)
    .op(Op.i32_shl)
    .mem(Op.i32_load, PAGE_TABLE_BASE);
  o.tee(D).op(Op.i32_eqz).u8(Op.br_if).u32(0);
  o.get(D).i32(5).op(Op.i32_shl).set(D); // id * SEGMENT_SIZE (32)
  o.get(D).mem(Op.i32_load, seg(SEG_FLAGS)).tee(FLAGS);
  o.i32(SegmentFlags.STACK).op(Op.i32_and).u8(Op.br_if).u32(0);
  o.get(WRITE).get(FLAGS).i32(SegmentFlags.WRITABLE).op(Op.i32_and, Op.i32_eqz, Op.i32_and);
  o.u8(Op.br_if).u32(0);
  o.get(AI).get(D).mem(Op.i32_load, seg(SEG_START)).tee(START).op(Op.i32_lt_u);
  o.u8(Op.br_if).u32(0);
  o.get(AI).get(SIZE).op(Op.i32_add).tee(ENDA).get(D).mem(Op.i32_load, seg(SEG_END));
  o.op(Op.i32_gt_u).u8(Op.br_if).u32(0);
  // the slot (its size is not 0 here: an empty segment failed the end check)
  o.get(D).mem(Op.i32_load, seg(SEG_SLOT_SIZE)).set(SLOTSZ);
  o.get(START).set(SLOTSTART);
  o.get(AI).get(START).op(Op.i32_sub).tee(SLOT).get(SLOTSZ).op(Op.i32_ge_u);
  o.u8(Op.if).u8(VOID);
  o.get(SLOT).get(SLOTSZ).op(Op.i32_div_u).tee(SLOT);
  o.get(SLOTSZ).op(Op.i32_mul).get(START).op(Op.i32_add).set(SLOTSTART);
  o.u8(Op.else);
  o.i32(0).set(SLOT);
  o.u8(Op.end);
  o.get(ENDA).get(SLOTSTART).get(D).mem(Op.i32_load, seg(SEG_VALUE_SIZE)).tee(VS);
  o.op(Op.i32_add, Op.i32_gt_u).u8(Op.br_if).u32(0);
  o.get(D).mem(Op.i32_load, seg(SEG_LIVE)).tee(LIVE);
  o.u8(Op.if).u8(VOID);
  o.get(LIVE).get(SLOT).op(Op.i32_add).mem(Op.i32_load8_u).op(Op.i32_eqz).u8(Op.br_if).u32(1);
  o.u8(Op.end);
  o.get(SLOTSTART).op(Op.i64_extend_i32_u);
  o.get(SLOTSTART).get(VS).op(Op.i32_add, Op.i64_extend_i32_u);
  o.get(FLAGS).i32(SegmentFlags.WRITABLE).op(Op.i32_and, Op.return);
  o.u8(Op.end);
  // a probe (pc -1, see ranges.ts) reports the miss as (INT64_MAX, 0, 0); an access faults
  o.get(PC).i32(-1).op(Op.i32_eq).u8(Op.if).u8(VOID);
  o.i64(-1, 0x7fffffff).i64(0).i32(0).op(Op.return);
  o.u8(Op.end);
  o.get(PC).get(A).op(Op.i32_wrap_i64).get(A).i64(32).op(Op.i64_shr_u, Op.i32_wrap_i64);
  o.get(SIZE).get(WRITE).get(DEPTH).call(Imp.fault).op(Op.unreachable, Op.end);
  return { type, locals: new Array<number>(11).fill(I32), code: o.view().slice() };
}

/**
 * The cached accessible range of one (base register, read/write, access size) of a function,
 * as `lo` and `lim = hi - lo - size + 1` (0: empty), so that an access at `a` hits when
 * `(a - lo) <u lim`: one subtraction and one unsigned compare. Kept in two i64 globals, valid
 * between calls of the function while the address space's epoch is unchanged, and refilled by
 * `$check`. A cache that accesses in loops use is also kept in two i64 locals, loaded from the
 * globals on entry: the loop's tests then read registers. The globals never hold the stack's
 * live frames, which depend on the frame depth: a local cache keeps them in its locals only, a
 * global one keeps the outermost frame (live at every depth).
 */
export interface Cache {
  reg: number;
  write: boolean;
  size: number;
  lo: number;
  lim: number;
  glo: number;
  glim: number;
  /**
   * Tested against its globals (no access in a loop uses it): `lo` is unused, `lim` only a
   * temporary of the refill.
   */
  global: boolean;
}

/** `$check`'s flags result: the range is writable. */
export const CHECK_WRITABLE = 1;
/** `$check`'s flags result: the range is the live stack (never kept in globals). */
export const CHECK_STACK = 2;

/** One checked access site. */
export interface AccessSite {
  /** i64 local holding the address. */
  addr: number;
  /** Bytes accessed, and whether the access writes. */
  size: number;
  write: boolean;
  /**
   * The cache tested first (of the same register, kind and size); none: always walk (the first
   * member of an access group whose span missed).
   */
  cache?: Cache;
  /** Every cache of the same base register (filled together). */
  group: readonly Cache[];
  /** Temporaries: i32, and two i64. */
  tmp: number;
  lo: number;
  hi: number;
  pc: number;
  /** i32 local holding the frame depth. */
  depth: number;
  /** Function index of `$check`. */
  check: number;
  /** Walk the tables inline instead of calling `$check` (in loops: no call to spill around). */
  inline?: WalkLocals;
  /** r10 of the first frame (the outermost frame's range is kept in global caches). */
  stackTop: number;
}

/** Locals of an inline table walk. */
export interface WalkLocals {
  /** r10 of the first frame. */
  stackTop: number;
  /** i64 locals: the lowest live stack address, and stackTop minus it. */
  stackLo: number;
  span: number;
  /** i32 temporaries. */
  t: readonly [number, number, number, number, number, number];
}

/**
 * `$check` inline: leaves the range in `s.lo`/`s.hi` and its flags in `s.tmp`, or calls the
 * `fault` import (which throws). Only the fault path calls out.
 */
function emitWalk(o: Bytes, s: AccessSite, w: WalkLocals): void {
  const [AI, D, FL, ST, SL, SZ] = w.t;
  const { size, write } = s;
  const seg = (field: number) => SEGMENT_TABLE_BASE + field * 4;
  o.u8(Op.block).u8(VOID); // $done
  o.u8(Op.block).u8(VOID); // $fault
  // the live stack frames
  o.get(s.addr).get(w.stackLo).op(Op.i64_sub).get(w.span).i64(size).op(Op.i64_sub, Op.i64_le_u);
  o.u8(Op.if).u8(VOID);
  o.get(w.stackLo)
    .set(s.lo)
    .i64(w.stackTop, 0)
    .set(s.hi)
    .i32(CHECK_WRITABLE | CHECK_STACK);
  o.set(s.tmp).br(2);
  o.u8(Op.end);
  // the page table and the segment
  o.get(s.addr)
    .i64(ADDR_LIMIT - 1, 0)
    .op(Op.i64_gt_u)
    .u8(Op.br_if)
    .u32(0);
  o.get(s.addr).op(Op.i32_wrap_i64).tee(AI).i32(PAGE_SHIFT).op(Op.i32_shr_u).i32(2);
  o.op(Op.i32_shl).mem(Op.i32_load, PAGE_TABLE_BASE).tee(D).op(Op.i32_eqz).u8(Op.br_if).u32(0);
  o.get(D).i32(5).op(Op.i32_shl).tee(D).mem(Op.i32_load, seg(SEG_FLAGS)).tee(FL);
  const bad = write ? SegmentFlags.STACK | SegmentFlags.WRITABLE : SegmentFlags.STACK;
  o.i32(bad)
    .op(Op.i32_and)
    .i32(write ? SegmentFlags.WRITABLE : 0)
    .op(Op.i32_ne);
  o.u8(Op.br_if).u32(0);
  o.get(AI).get(D).mem(Op.i32_load, seg(SEG_START)).tee(ST).op(Op.i32_lt_u).u8(Op.br_if).u32(0);
  o.get(AI).i32(size).op(Op.i32_add).get(D).mem(Op.i32_load, seg(SEG_END)).op(Op.i32_gt_u);
  o.u8(Op.br_if).u32(0);
  o.get(AI).get(ST).op(Op.i32_sub).tee(SL).get(D).mem(Op.i32_load, seg(SEG_SLOT_SIZE)).tee(SZ);
  o.op(Op.i32_ge_u).u8(Op.if).u8(VOID);
  o.get(SL).get(SZ).op(Op.i32_div_u).tee(SL).get(SZ).op(Op.i32_mul).get(ST).op(Op.i32_add).set(ST);
  o.u8(Op.else).i32(0).set(SL).u8(Op.end);
  o.get(ST).get(D).mem(Op.i32_load, seg(SEG_VALUE_SIZE)).op(Op.i32_add).tee(SZ);
  o.get(AI).i32(size).op(Op.i32_add, Op.i32_lt_u).u8(Op.br_if).u32(0);
  o.get(D).mem(Op.i32_load, seg(SEG_LIVE)).tee(D).u8(Op.if).u8(VOID);
  o.get(D).get(SL).op(Op.i32_add).mem(Op.i32_load8_u).op(Op.i32_eqz).u8(Op.br_if).u32(1);
  o.u8(Op.end);
  o.get(ST).op(Op.i64_extend_i32_u).set(s.lo).get(SZ).op(Op.i64_extend_i32_u).set(s.hi);
  o.get(FL).i32(CHECK_WRITABLE).op(Op.i32_and).set(s.tmp).br(1);
  o.u8(Op.end);
  o.i32(s.pc).get(s.addr).op(Op.i32_wrap_i64).get(s.addr).i64(32).op(Op.i64_shr_u, Op.i32_wrap_i64);
  o.i32(size)
    .i32(write ? 1 : 0)
    .get(s.depth)
    .call(Imp.fault)
    .u8(Op.unreachable);
  o.u8(Op.end);
}

/**
 * Emits the check of an access whose address is in `s.addr`: the cached range, else (or without
 * a cache) the table walk (inline or `$check`), which fills the caches of the register or
 * faults.
 */
export function emitAccessCheck(o: Bytes, s: AccessSite): void {
  const c = s.cache;
  if (c !== undefined) {
    emitCacheMiss(o, s.addr, c);
    o.u8(Op.if).u8(VOID);
  }
  if (s.inline) emitWalk(o, s, s.inline);
  else {
    o.get(s.addr)
      .i32(s.size)
      .i32(s.write ? 1 : 0)
      .i32(s.pc)
      .get(s.depth)
      .call(s.check);
    o.set(s.tmp).set(s.hi).set(s.lo);
  }
  for (const k of s.group) {
    // a writable range serves reads too; a range a write checked is writable
    const cond = k.write && !s.write;
    if (cond) o.get(s.tmp).i32(CHECK_WRITABLE).op(Op.i32_and).u8(Op.if).u8(VOID);
    // lim = max(hi - lo - size + 1, 0), in the `lim` local (a global cache's temporary)
    o.get(s.hi)
      .get(s.lo)
      .op(Op.i64_sub)
      .i64(1 - k.size)
      .op(Op.i64_add)
      .tee(k.lim);
    o.i64(0).get(k.lim).i64(0).op(Op.i64_gt_s, Op.select).set(k.lim);
    if (!k.global) {
      o.get(s.lo).set(k.lo);
      o.get(s.tmp).i32(CHECK_STACK).op(Op.i32_and, Op.i32_eqz).u8(Op.if).u8(VOID);
      o.get(k.lo).gset(k.glo).get(k.lim).gset(k.glim);
      o.u8(Op.end);
    } else {
      o.get(s.tmp).i32(CHECK_STACK).op(Op.i32_and).u8(Op.if).u8(VOID);
      const frame0 = s.stackTop - 512;
      o.i64(frame0, 0)
        .gset(k.glo)
        .i64(512 + 1 - k.size)
        .gset(k.glim);
      o.u8(Op.else);
      o.get(s.lo).gset(k.glo).get(k.lim).gset(k.glim);
      o.u8(Op.end);
    }
    if (cond) o.u8(Op.end);
  }
  if (c !== undefined) o.u8(Op.end);
}

/** Pushes the i32 test that an access at i64 local `addr` misses cache `c`. */
export function emitCacheMiss(o: Bytes, addr: number, c: Cache): void {
  o.get(addr);
  if (c.global) o.gget(c.glo).op(Op.i64_sub).gget(c.glim);
  else o.get(c.lo).op(Op.i64_sub).get(c.lim);
  o.op(Op.i64_ge_u);
}

/**
 * Emits the (re)load of a function's caches: from their globals when the address space's
 * epoch (in the scratch area) is the one the globals were filled under, else all emptied,
 * with the i64 `globals` (a range proof's guards) too.
 * `onEntry`: the locals are still empty (function entry) and the globals are only read.
 */
export function emitCacheSync(
  o: Bytes,
  caches: readonly Cache[],
  globals: readonly number[],
  epochAddr: number,
  gEpoch: number,
  onEntry: boolean,
): void {
  if (caches.length === 0 && globals.length === 0) return;
  o.i32(0)
    .mem(Op.i32_load, epochAddr)
    .gget(gEpoch)
    .op(onEntry ? Op.i32_eq : Op.i32_ne);
  o.u8(Op.if).u8(VOID);
  if (onEntry) {
    for (const c of caches) if (!c.global) o.gget(c.glo).set(c.lo).gget(c.glim).set(c.lim);
    o.u8(Op.else);
  }
  o.i32(0).mem(Op.i32_load, epochAddr).gset(gEpoch);
  for (const g of globals) o.i64(0).gset(g);
  for (const c of caches) {
    o.i64(0).gset(c.glo).i64(0).gset(c.glim);
    if (!onEntry && !c.global) o.i64(0).set(c.lo).i64(0).set(c.lim);
  }
  o.u8(Op.end);
}
