/**
 * The contract between the JIT's generated code and its JavaScript runtime: the signature of
 * every compiled eBPF function, the imports of a compiled module, and the scratch area in linear
 * memory through which registers and the instruction budget travel.
 */
import { I32, I64 } from "./wasm.js";

/**
 * Every eBPF function compiles to `(r1, r2, r3, r4, r5: i64, depth: i32, base: i32) -> r0: i64`.
 * `depth` is the frame the function runs on (its r10 is `stackTop - 512 * depth`), `base` the
 * depth at which the current program started (for the verifier's 8 frames per program).
 */
export const SIG_PARAMS = [I64, I64, I64, I64, I64, I32, I32];
/** Result of a compiled eBPF function: r0. */
export const SIG_RESULTS = [I64];

/**
 * Address of the scratch area: inside the null page, which `memory/layout.ts` keeps unmapped
 * (the page table has no segment for it), so programs can never reach it, fault messages never
 * name it, and it does not move the heap: both engines place every region at the same address.
 */
export const SCRATCH_BASE = 0x100;

/** Scratch area offsets (from the area's base). */
export const Scratch = {
  /** r0..r5 as 64-bit little-endian words: the `regs` helpers see (as i32 halves). */
  REGS: 0,
  /** Instructions left in the run (i64). */
  BUDGET: 48,
  /** r0 of a function called from JavaScript through the trampoline (i64). */
  RESULT: 56,
  /** Successful tail calls in the run (u32; `Machine.tailCallCnt` is synced around JS calls). */
  TCNT: 64,
  /** `AddressSpace.epoch` (i32), refreshed at run start and after every helper call. */
  EPOCH: 68,
  /** The instruction budget of one run (i64): BUDGET's value at the start of each run. */
  LIMIT: 72,
  /** Bytes used. */
  SIZE: 80,
} as const;

/**
 * Table of entry functions by program id, for tail calls made without leaving WebAssembly: u32
 * table index of the program's (untraced) entry, 0 when not compiled (table slot 0 is never
 * used). Also in the null page, after the scratch area.
 */
export const ENTRY_BY_ID = 0x400;
/** Program ids below this have an {@link ENTRY_BY_ID} slot. */
export const MAX_FAST_ID = (0x1000 - ENTRY_BY_ID) / 4;

/** Indices of the imported functions of every compiled module (module "e"). */
export const Imp = {
  /** `helper(id, pc, depth)`: runs helper `id` on the scratch registers. */
  helper: 0,
  /** `tailcall(pc, depth) -> table index or -1`. */
  tailcall: 1,
  /** `fault(pc, addrLo, addrHi, size, write, depth)`: throws the memory fault. */
  fault: 2,
  /** `budget(checkpoint, leftBefore)`: throws the budget error (see budget.ts). */
  budget: 3,
  /** `callFault(pc, target, depth, base)`: throws the frame-limit error of a call. */
  callFault: 4,
  /** `callx(lo, hi, pc, depth, base) -> k`: k >= 0 table index, -1 tail call, else -2 - helper id. */
  callx: 5,
  /** `raise(kind, pc, arg)`: throws a run-time fault of kind {@link RaiseKind}. */
  raise: 6,
  /** `traceCall(pc, target, depth)` (traced code only). */
  traceCall: 7,
  /** `traceExit(pc, r0lo, r0hi, depth)` (traced code only). */
  traceExit: 8,
  /** The map core's `map_lookup_elem(r1, r2, stackLo) -> r0` (maps/core/core.c). */
  mapLookup: 9,
  /** The map core's `map_update_elem(r1, r2, r3, r4, stackLo) -> r0`. */
  mapUpdate: 10,
  /** The map core's `map_delete_elem(r1, r2, stackLo) -> r0`. */
  mapDelete: 11,
  /** The map core's `htab_lookup_elem(desc, key, cpu) -> value` (a hash or LRU map's lookup). */
  htabLookup: 12,
} as const;

/** The map core's answer "not mine: run the generic helper" (i64 minimum, as halves). */
export const CORE_SLOW_HI = 0x8000_0000 | 0;

/** Import signatures, in {@link Imp} order: [name, params, results]. */
export const IMPORTS: readonly (readonly [string, number[], number[]])[] = [
  ["helper", [I32, I32, I32], []],
  ["tailcall", [I32, I32], [I32]],
  ["fault", [I32, I32, I32, I32, I32, I32], []],
  ["budget", [I32, I32], []],
  ["callFault", [I32, I32, I32, I32], []],
  ["callx", [I32, I32, I32, I32, I32], [I32]],
  ["raise", [I32, I32, I32], []],
  ["traceCall", [I32, I32, I32], []],
  ["traceExit", [I32, I32, I32, I32], []],
  ["mapLookup", [I64, I64, I32], [I64]],
  ["mapUpdate", [I64, I64, I64, I64, I32], [I64]],
  ["mapDelete", [I64, I64, I32], [I64]],
  ["htabLookup", [I32, I32, I32], [I32]],
];

/** What {@link Imp.raise} reports. */
export const RaiseKind = {
  /** An opcode the engines do not run (legacy packet loads). */
  UNSUPPORTED_OPCODE: 0,
  /** A kfunc call; `arg` is the BTF id. */
  KFUNC: 1,
  /** A 32-bit atomic operation with an unknown immediate; `arg` is the immediate. */
  BAD_ATOMIC32: 2,
  /** A 64-bit atomic operation with an unknown immediate; `arg` is the immediate. */
  BAD_ATOMIC64: 3,
  /** A callback would open a frame past the run's limit; `arg` is the limit (maxFrames). */
  CALLBACK_DEPTH: 4,
} as const;
