/**
 * Resource limits: what bounds the memory, the time and the depth that hostile input (an ELF
 * object, bytecode, a packet) can cost the host. Each limit has a default, an option of the
 * same name (in `MachineOptions`, hence in `CollectionOptions`, `ExecOptions` and the options of
 * `loadCollection`) and its own error code, listed in README.md ("Errors").
 *
 * The loader also has fixed limits, re-exported here: {@link BTF_MAX_TYPE},
 * {@link BTF_MAX_RESOLVE_DEPTH}, {@link MAX_PROGRAM_INSNS}, {@link MAX_TOTAL_LINKED_INSNS} and
 * {@link MAX_GLOBAL_DATA_SIZE} (a `LoadError` with code `LIMIT`).
 */
import { LimitError, TsbpfError } from "./errors.js";
import {
  BPF_MAXINSNS_LIMIT,
  MAX_BPF_STACK,
  MAX_CALL_FRAMES,
  MAX_TAIL_CALL_CNT,
} from "./isa/opcodes.js";
import {
  MAP_HANDLE_BASE,
  MAP_HANDLE_END,
  MAP_HANDLE_STRIDE,
  MAX_MEMORY_BYTES,
} from "./memory/layout.js";

export { BTF_MAX_RESOLVE_DEPTH, BTF_MAX_TYPE } from "./elf/btf.js";
export { MAX_PROGRAM_INSNS } from "./elf/link.js";
export { MAX_TOTAL_LINKED_INSNS } from "./elf/loader.js";
export { MAX_GLOBAL_DATA_SIZE } from "./elf/maps.js";

/**
 * Frames a run may reach: 8 per program (the verifier's MAX_CALL_FRAMES) for the entry program
 * and each of the 33 tail-call targets, since a tail call made inside a subprogram keeps that
 * subprogram's frame.
 */
export const MAX_RUN_FRAMES = MAX_CALL_FRAMES * (MAX_TAIL_CALL_CNT + 1);

/** The configurable limits. */
export interface Limits {
  /**
   * Instructions one program may have (default 1,000,000, the kernel's
   * BPF_COMPLEXITY_LIMIT_INSNS). Beyond: `ValidationError` `TOO_LARGE` at load. The object
   * loader also refuses linked programs over {@link MAX_PROGRAM_INSNS} (`LoadError` `LIMIT`).
   */
  maxInsns: number;
  /**
   * Instructions one run may execute, every frame, tail call and callback included (default
   * 100,000,000). Beyond: `BudgetError` `BUDGET_EXCEEDED`.
   */
  insnLimit: number;
  /** Bytes of an object file `loadCollection` accepts (default 256 MiB): `ELF_TOO_LARGE`. */
  maxElfBytes: number;
  /**
   * Maps one collection may create (default 16,384; at most 65,280, the map handle area):
   * `TOO_MANY_MAPS`.
   */
  maxMaps: number;
  /**
   * Bytes of the address space (default 1 GiB, at most 2 GiB): map values, global data, the
   * stack, packets, contexts, together with what maps keep in the JavaScript heap — ring
   * buffers, queue and stack elements, bloom filter pages, and about 320 bytes per hash, LRU
   * or LPM entry. Beyond: `MEMORY_LIMIT` (a `MapError` `ENOMEM` when a map cannot be created;
   * a program's map update or push sees -ENOMEM, as from the kernel's allocator).
   */
  maxBytes: number;
  /** Bytes of one ring buffer's data area (default 256 MiB): `RINGBUF_TOO_LARGE` at load. */
  maxRingbufBytes: number;
  /**
   * Frames a run may reach (default {@link MAX_RUN_FRAMES} = 272: 8 per program for the entry
   * program and each of the 33 tail-call targets): a `RuntimeFault` `FRAME_LIMIT`. Each frame
   * has 512 bytes of stack. The kernel's 8 frames per program are checked as well.
   */
  maxFrames: number;
}

/** Options that set limits (every field optional). */
export type LimitOptions = Partial<Limits>;

/** Default limits. */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxInsns: BPF_MAXINSNS_LIMIT,
  insnLimit: 100_000_000,
  maxElfBytes: 256 << 20,
  maxMaps: 16_384,
  maxBytes: 1 << 30,
  maxRingbufBytes: 256 << 20,
  maxFrames: MAX_RUN_FRAMES,
});

/** Largest value each limit accepts. */
export const LIMIT_CEILINGS: Readonly<Limits> = Object.freeze({
  maxInsns: 1 << 26,
  insnLimit: Number.MAX_SAFE_INTEGER,
  maxElfBytes: 2 ** 32,
  maxMaps: (MAP_HANDLE_END - MAP_HANDLE_BASE) / MAP_HANDLE_STRIDE,
  maxBytes: MAX_MEMORY_BYTES,
  maxRingbufBytes: 2 ** 31,
  maxFrames: 8192,
});

/** Stack bytes of a run with the given frame limit. */
export function stackBytes(maxFrames: number): number {
  return maxFrames * MAX_BPF_STACK;
}

/**
 * The limits `opts` asks for, defaults filled in. A value that is not a positive integer, or is
 * above its ceiling, is refused with a `TsbpfError` `INVALID_OPTION` (`insnLimit` may also be
 * 0: every run then stops at its first instruction).
 */
export function resolveLimits(opts: LimitOptions = {}): Limits {
  const out = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]) {
    const v = opts[key];
    if (v === undefined) continue;
    const min = key === "insnLimit" ? 0 : 1;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > LIMIT_CEILINGS[key]) {
      throw new TsbpfError(
        "INVALID_OPTION",
        `option ${key}: ${String(v)} is not an integer in ${min}..${LIMIT_CEILINGS[key]}`,
      );
    }
    out[key] = v;
  }
  return out;
}

/** Throws `ELF_TOO_LARGE` when an object of `size` bytes is over the limit. */
export function checkElfSize(size: number, limits: Pick<Limits, "maxElfBytes">): void {
  if (size > limits.maxElfBytes) {
    throw new LimitError(
      "ELF_TOO_LARGE",
      `object file of ${size} bytes is over the limit of ${limits.maxElfBytes} bytes (option maxElfBytes)`,
      "maxElfBytes",
      limits.maxElfBytes,
    );
  }
}
