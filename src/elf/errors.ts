/**
 * The one error type the ELF, BTF and object loaders throw. Every malformed, truncated or
 * unsupported input ends in a {@link LoadError} whose message says what is wrong and where.
 */

/** Stable machine-readable reasons for a {@link LoadError}. */
export type LoadErrorCode =
  /** The file does not start with the ELF magic. */
  | "ELF_MAGIC"
  /** Not a 64-bit, little-endian, current-version ELF file. */
  | "ELF_CLASS"
  /** `e_machine` is not EM_BPF (247). */
  | "ELF_MACHINE"
  /** A header, table, section, string or record reaches past the end of its container. */
  | "ELF_TRUNCATED"
  /** Some other inconsistency in the ELF structure (bad sizes, indices, missing tables). */
  | "ELF_FORMAT"
  /** A `.BTF` section that cannot be parsed. */
  | "BTF_FORMAT"
  /** A `.BTF.ext` section that cannot be parsed. */
  | "BTF_EXT_FORMAT"
  /** A relocation that cannot be applied (wrong type, wrong instruction, unknown target). */
  | "RELOCATION"
  /** A program that cannot be extracted or linked (bad size, bad call target, ...). */
  | "PROGRAM"
  /** A map definition that cannot be understood. */
  | "MAP_DEFINITION"
  /** A feature libbpf supports that tsbpf's loader does not (externs, `.kconfig`, ...). */
  | "UNSUPPORTED"
  /** A limit of the loader was exceeded (type count, nesting depth, section size). */
  | "LIMIT"
  /** A bug in tsbpf's loader met an input it did not check (please report it). */
  | "INTERNAL";

/** Where a {@link LoadError} happened, as far as known. */
export interface LoadErrorLocation {
  /** Name of the ELF section involved (or `.BTF`, `.BTF.ext`, `.maps`, a map name). */
  section?: string;
  /** Byte offset (in the file, or in the named section) of the offending item. */
  offset?: number;
}

/** Error thrown for every malformed, truncated or unsupported object file. */
export class LoadError extends Error {
  /** Stable reason code, for programs that branch on the kind of failure. */
  readonly code: LoadErrorCode;
  /** Name of the section involved, when known. */
  readonly section?: string;
  /** Byte offset of the offending item, when known. */
  readonly offset?: number;

  /**
   * @param code stable reason code
   * @param message what is wrong and where (shown to users as-is)
   * @param where section and offset, when known
   */
  constructor(code: LoadErrorCode, message: string, where: LoadErrorLocation = {}) {
    super(message);
    this.name = "LoadError";
    this.code = code;
    if (where.section !== undefined) this.section = where.section;
    if (where.offset !== undefined) this.offset = where.offset;
  }
}

/** Formats a number as `0x…` for error messages. */
export function hex(n: number | bigint): string {
  return "0x" + n.toString(16);
}
