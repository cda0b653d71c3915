/**
 * Typed errors. Every error tsbpf throws on purpose is a {@link TsbpfError} with a stable
 * `code`; the CLI prints its message (never a stack trace) and exits 1.
 */

/** Base class of every error tsbpf throws on purpose. */
export class TsbpfError extends Error {
  /** Stable, machine-readable kind, e.g. `MEMORY_ACCESS`. */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Bytecode the validator refuses (at load). */
export class ValidationError extends TsbpfError {
  /** Instruction index, when the error is about one instruction. */
  readonly pc: number | undefined;
  constructor(message: string, pc?: number, code = "INVALID_PROGRAM") {
    super(code, pc === undefined ? message : `pc ${pc}: ${message}`);
    this.pc = pc;
  }
}

/** Assembler input (bpf_conformance syntax or a conformance `.data` file) that is refused. */
export class AsmError extends TsbpfError {
  /** 1-based line number of the offending line in the source given. */
  readonly line: number;
  /** The message without the `line N: ` prefix. */
  readonly detail: string;
  constructor(message: string, line: number, code = "ASM") {
    super(code, `line ${line}: ${message}`);
    this.line = line;
    this.detail = message;
  }
}

/** A load or store outside the memory the program was given. */
export class MemoryAccessError extends TsbpfError {
  constructor(
    message: string,
    /** Instruction index. */
    readonly pc: number,
    /** Faulting address (low 32 bits shown as the program used them). */
    readonly address: bigint,
    /** Access size in bytes. */
    readonly size: number,
    /** Whether it was a write. */
    readonly write: boolean,
    /**
     * The region the address falls in or lies nearest to, e.g. `stack: live frames are [0x…,
     * 0x…)` or `nearest region: packet [0x…, 0x…)`; "" when not known.
     */
    readonly region = "",
  ) {
    super("MEMORY_ACCESS", message);
  }
}

/** The instruction budget of a run (or another run-time limit) was exhausted. */
export class BudgetError extends TsbpfError {
  constructor(
    message: string,
    /** Instruction index where the budget ran out. */
    readonly pc: number,
  ) {
    super("BUDGET_EXCEEDED", message);
  }
}

/** A helper call failed in a way the program cannot observe as a return value. */
export class HelperError extends TsbpfError {
  constructor(
    message: string,
    /** Linux helper id. */
    readonly helperId: number,
    code = "HELPER",
  ) {
    super(code, message);
  }
}

/** A map operation from the host failed; `errno` is the Linux errno name. */
export class MapError extends TsbpfError {
  constructor(
    message: string,
    /** Linux errno name, e.g. `ENOENT`. */
    readonly errno: string,
  ) {
    super(errno, message);
  }
}

/** A run-time fault other than a memory access (bad call target, frame limit...). */
export class RuntimeFault extends TsbpfError {
  constructor(
    message: string,
    /** Instruction index. */
    readonly pc: number,
    code = "RUNTIME_FAULT",
  ) {
    super(code, `pc ${pc}: ${message}`);
  }
}

/**
 * A resource limit was reached (see `src/limits.ts`). `code` says which: `ELF_TOO_LARGE`,
 * `TOO_MANY_MAPS`, `MEMORY_LIMIT`, `RINGBUF_TOO_LARGE`.
 */
export class LimitError extends TsbpfError {
  constructor(
    code: string,
    message: string,
    /** The option that sets the limit, e.g. `maxBytes`. */
    readonly limit: string,
    /** The limit's value. */
    readonly max: number,
  ) {
    super(code, message);
  }
}
