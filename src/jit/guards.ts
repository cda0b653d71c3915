/**
 * The code of range proofs (ranges.ts): the guard after a load, the test of an access a fact
 * proves, and a pivot's test.
 */
import { CHECK_STACK } from "./memcheck.js";
import { Op, VOID, type Bytes } from "./wasm.js";

/**
 * What one guard keeps (for reads, or for writes): `[lo, lo + span)`, the accessible range
 * below the loaded address `V_b` (`span` 0 when the byte `V_b - 1` is not accessible), in two
 * i64 locals; and in two i64 globals, the last range found (`glo`, `glim`: its start and
 * length), kept between runs while the address space's epoch is unchanged.
 */
export interface Guard {
  readonly lo: number;
  readonly span: number;
  readonly glo: number;
  readonly glim: number;
}

/** Locals and functions a guard's code uses. */
export interface GuardEnv {
  /** i64 and i32 temporaries. */
  readonly t64: number;
  readonly hi64: number;
  readonly t32: number;
  /** i32 local: the frame depth. */
  readonly depth: number;
  /** Function index of `$check`. */
  readonly check: number;
}

const INT64_MAX: [number, number] = [-1, 0x7fffffff];

/** The empty guard (nothing proved): what locals start as. */
export function emitGuardReset(o: Bytes, g: Guard): void {
  o.i64(0)
    .set(g.span)
    .i64(...INT64_MAX)
    .set(g.lo);
}

/**
 * The guard after the load into i64 local `reg`: the range of the byte before the loaded
 * address from the globals, or else from a `$check` probe (which fills the globals unless the
 * range is the stack's, which depends on the frame depth).
 */
export function emitGuard(o: Bytes, reg: number, g: Guard, write: boolean, e: GuardEnv): void {
  o.get(reg).i64(1).op(Op.i64_sub).tee(e.t64).gget(g.glo).op(Op.i64_sub);
  o.gget(g.glim).op(Op.i64_lt_u).u8(Op.if).u8(VOID);
  o.gget(g.glo).set(g.lo);
  o.u8(Op.else);
  o.get(e.t64)
    .i32(1)
    .i32(write ? 1 : 0)
    .i32(-1)
    .get(e.depth)
    .call(e.check);
  o.set(e.t32).set(e.hi64).set(g.lo);
  o.get(e.t32).i32(CHECK_STACK).op(Op.i32_and, Op.i32_eqz);
  o.get(g.lo)
    .i64(...INT64_MAX)
    .op(Op.i64_ne, Op.i32_and)
    .u8(Op.if)
    .u8(VOID);
  o.get(g.lo).gset(g.glo).get(e.hi64).get(g.lo).op(Op.i64_sub).gset(g.glim);
  o.u8(Op.end);
  o.u8(Op.end);
  // span = V_b - lo, or 0 when the probe missed
  o.get(reg).get(g.lo).op(Op.i64_sub).i64(0);
  o.get(g.lo)
    .i64(...INT64_MAX)
    .op(Op.i64_ne, Op.select)
    .set(g.span);
}

/**
 * Pushes the i32 test `(local addr + add) - lo <u span`: the address (plus `add`) is in the
 * guard's range, so every access a fact bounds above it is in range (ranges.ts).
 */
export function emitInRange(o: Bytes, addr: number, add: number, g: Guard): void {
  o.get(addr);
  if (add !== 0) o.i64(add).op(Op.i64_add);
  o.get(g.lo).op(Op.i64_sub).get(g.span).op(Op.i64_lt_u);
}
