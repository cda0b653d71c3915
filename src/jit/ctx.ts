/**
 * What instruction lowering needs of the function being compiled, and the small sequences
 * shared by the lowering modules: moving registers and the budget through the scratch area,
 * charging the budget.
 */
import type { DecodedProgram } from "../isa/decode.js";
import { Imp, Scratch } from "./abi.js";
import type { AccessGroup } from "./groups.js";
import type { Guard } from "./guards.js";
import type { Cache, WalkLocals } from "./memcheck.js";
import { Op, VOID, type Bytes } from "./wasm.js";

/** A prog_array a tail call goes through, as the compiler sees it. */
export interface TailMap {
  /** Its max_entries. */
  readonly maxEntries: number;
  /** Address of its slot mirror (program ids, 0 when empty). */
  readonly tableAddr: number;
  /**
   * Whether the slot the call uses (any slot when the index is not a constant) held the
   * program being compiled when it was compiled.
   */
  readonly holdsSelf: boolean;
}

/** An array map (not per-CPU) whose lookups compiled code makes in line. */
export interface ArrayTarget {
  readonly maxEntries: number;
  readonly valueSize: number;
  /** Whether programs may write its values (not `BPF_F_RDONLY_PROG`). */
  readonly writable: boolean;
  /** Address of entry 0's value. */
  readonly valueBase: number;
  /** Bytes from one value to the next. */
  readonly stride: number;
}

/** A hash or LRU map (not per-CPU) whose lookups call the map core's `htab_lookup_elem`. */
export interface HashTarget {
  /** Address of its descriptor. */
  readonly desc: number;
  readonly keySize: number;
  readonly valueSize: number;
  /** Whether programs may write its values (not `BPF_F_RDONLY_PROG`). */
  readonly writable: boolean;
}

/** A lookup in a {@link HashTarget} with its key in the current frame, at r10 + `keyOff`. */
export interface HashLookup extends HashTarget {
  readonly keyOff: number;
}

/** A lookup in an {@link ArrayTarget} with its key in the current frame, at r10 + `keyOff`. */
export interface ArrayLookup extends ArrayTarget {
  readonly keyOff: number;
}

/** What lowering needs of the function being compiled. */
export interface FnCtx {
  readonly out: Bytes;
  readonly p: DecodedProgram;
  /** Address of the scratch area. */
  readonly scratch: number;
  /** r10 of the first frame. */
  readonly stackTop: number;
  /** Whether to call the trace imports at calls and exits. */
  readonly traced: boolean;
  /** The program's id (as prog_array slot mirrors hold it), 0 if unknown. */
  readonly progId: number;
  /** Frames a run may reach. */
  readonly maxFrames: number;
  /** Helper ids compiled code may run without the `helper` import (tsbpf's own helpers). */
  readonly builtinHelpers: ReadonlySet<number>;
  /** Local index of r0..r10. */
  readonly R: readonly number[];
  /** Locals: frame depth (i32), program base depth (i32), budget left (i64). */
  readonly DEPTH: number;
  readonly BASE: number;
  readonly LEFT: number;
  /** Temporaries: three i64, two i32. */
  readonly TA: number;
  readonly TB: number;
  readonly TC: number;
  readonly TI: number;
  readonly TN: number;
  /** i32 local: the lowest address of the current frame (r10 - 512). */
  readonly FPLO: number;
  /** Function index of `$check`. */
  readonly check: number;
  /** Type index of the eBPF function signature. */
  readonly sig: number;
  /** The cache of `size`-byte accesses through `reg` at `pc` (shared by the value it holds). */
  cache(pc: number, reg: number, write: boolean, size: number): Cache;
  /** The access group the checked access at `pc` belongs to, if any (see groups.ts). */
  accessGroup(pc: number): AccessGroup | undefined;
  /**
   * The guard whose range the access at `pc` in a loop is tested against when a range proof
   * covers it (see ranges.ts), else undefined (and always in stepping code).
   */
  provenBound(pc: number): Guard | undefined;
  /**
   * Whether the access at `pc` needs no test at all: a counted loop's fast copy is being
   * emitted and a range proof's lower bound was checked by its guard (ranges.ts, loops.ts).
   */
  fastProven(pc: number): boolean;
  /**
   * Whether the access at `pc` needs no test at all: a pivot's proved copy is being emitted
   * and covers it (ranges.ts, version.ts), or it stays inside a map value (mapvals.ts); never
   * in stepping code.
   */
  uncheckedAccess(pc: number): boolean;
  /** The guards the load at `pc` fills (see ranges.ts), if it has any. */
  guardAt(pc: number): { read?: Guard; write?: Guard } | undefined;
  /** Whether instructions are being lowered as stepping code (checks walk the tables). */
  stepping(): boolean;
  /** Every cache the access through `reg` at `pc` shares its refills with. */
  cacheGroup(pc: number, reg: number): readonly Cache[];
  /** Locals for an inline table walk when the current block is in a loop, else undefined. */
  walk(): WalkLocals | undefined;
  /**
   * In the program's entry function (pc 0) when one of its tail calls goes through a
   * prog_array that held the program at compile time: the `br` depth, from the current
   * block's body, of the loop around the function's body (a tail call of the program itself
   * branches there: same frame, budget and caches kept in locals). Else undefined.
   */
  selfLoop(): number | undefined;
  /** Function index of the compiled function entered at `pc`. */
  funcIndex(pc: number): number;
  /** Emits the re-validation of every cache after a call (helpers may change the memory). */
  syncCaches(): void;
  /**
   * The function index of the callback r2 holds at the call at `pc`, when the block loads it as
   * a constant (`lddw r2, func`) and it is compiled in this module.
   */
  loopCallback(pc: number): number | undefined;
  /**
   * The array map r1 holds at the `bpf_map_lookup_elem` call at `pc`, when the block loads it
   * as a constant and sets r2 to a key inside the current frame.
   */
  arrayLookup(pc: number): ArrayLookup | undefined;
  /** The hash map lookup at `pc` (helper 1), when the map and the key's frame slot are known. */
  hashLookup(pc: number): HashLookup | undefined;
  /** The prog_array r2 holds at the tail call at `pc`, when the block loads it as a constant. */
  tailMap(pc: number): TailMap | undefined;
}

/** Stores registers `from..to` into the scratch area. */
export function storeRegs(c: FnCtx, from: number, to: number): void {
  for (let r = from; r <= to; r++) {
    c.out
      .i32(0)
      .get(c.R[r])
      .mem(Op.i64_store, c.scratch + Scratch.REGS + 8 * r);
  }
}

/** Loads registers `from..to` from the scratch area. */
export function loadRegs(c: FnCtx, from: number, to: number): void {
  for (let r = from; r <= to; r++) {
    c.out
      .i32(0)
      .mem(Op.i64_load, c.scratch + Scratch.REGS + 8 * r)
      .set(c.R[r]);
  }
}

/** Stores the budget local into the scratch area. */
export function storeBudget(c: FnCtx): void {
  c.out
    .i32(0)
    .get(c.LEFT)
    .mem(Op.i64_store, c.scratch + Scratch.BUDGET);
}

/** Loads the budget local from the scratch area. */
export function loadBudget(c: FnCtx): void {
  c.out
    .i32(0)
    .mem(Op.i64_load, c.scratch + Scratch.BUDGET)
    .set(c.LEFT);
}

/**
 * Charges `n` instructions at checkpoint `id` (see budget.ts): decrements the budget and calls
 * the `budget` import (which throws) when it goes negative. `exhausted`, when given, runs first
 * on that path with the budget local back at its value before the charge (see
 * `FuncCompiler.emitStepping`).
 */
export function emitCharge(c: FnCtx, id: number, n: number, exhausted?: () => void): void {
  const o = c.out;
  o.get(c.LEFT).i64(n).op(Op.i64_sub).tee(c.LEFT).i64(0).op(Op.i64_lt_s);
  o.u8(Op.if).u8(VOID);
  if (exhausted === undefined) {
    o.i32(id).get(c.LEFT).op(Op.i32_wrap_i64).i32(n).op(Op.i32_add).call(Imp.budget);
  } else {
    o.get(c.LEFT).i64(n).op(Op.i64_add).set(c.LEFT);
    exhausted();
    o.i32(id).get(c.LEFT).op(Op.i32_wrap_i64).call(Imp.budget);
  }
  o.op(Op.unreachable, Op.end);
}
