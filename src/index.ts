/**
 * tsbpf: run eBPF objects built by clang (`clang -O2 -g -target bpf`) in Node.js and browsers,
 * with the Linux kernel's semantics — maps, helpers, contexts, bpf-to-bpf calls and tail calls.
 *
 * ```ts
 * import { loadCollection } from "tsbpf";
 * const coll = loadCollection(bytes, { name: "xdp_prog.o" });
 * const { retval, data } = coll.program("xdp_main").run({ data: packet });
 * ```
 *
 * Node-only helpers (reading files, the kernel engine) live in `tsbpf/node`.
 * @packageDocumentation
 */
import "./vm/index.js";
import { loadCollectionSpec } from "./elf/loader.js";
import type { LoadCollectionOptions } from "./elf/types.js";
import { Collection, type CollectionOptions } from "./runtime/collection.js";
import { resolveLimits } from "./limits.js";

export { loadCollectionSpec } from "./elf/loader.js";
export { setGlobal, findGlobal, type GlobalVariable } from "./elf/globals.js";
export type {
  CollectionSpec,
  ProgramSpec,
  MapSpec,
  LineInfo,
  LoadCollectionOptions,
} from "./elf/types.js";
export { Collection, type CollectionOptions } from "./runtime/collection.js";
export { Program, type RunOptions, type RunResult } from "./runtime/program-handle.js";
export type { BpfMap, MapDefinition } from "./maps/types.js";
export type { HelperDef, HelperEnv, HelperFn, HostServices } from "./helpers/types.js";
export type { TraceEvent, TraceSink, TailCallFailure } from "./runtime/trace.js";
export type { EngineName } from "./runtime/engine.js";
export { Machine, type MachineOptions, MAX_RUN_FRAMES } from "./runtime/machine.js";
export { execRaw, type ExecOptions } from "./runtime/exec.js";
export { dumpMaps, dumpMap, toHex, fromHex } from "./runtime/dump.js";
export { assemble } from "./isa/asm.js";
export { disassemble, type DisasmOptions } from "./isa/disasm.js";
export { decodeProgram, encodeProgram, type Insn, type DecodedProgram } from "./isa/decode.js";
export { validateProgram } from "./isa/validate.js";
export * from "./errors.js";
export {
  DEFAULT_LIMITS,
  resolveLimits,
  checkElfSize,
  BTF_MAX_TYPE,
  BTF_MAX_RESOLVE_DEPTH,
  MAX_PROGRAM_INSNS,
  MAX_TOTAL_LINKED_INSNS,
  MAX_GLOBAL_DATA_SIZE,
  type Limits,
  type LimitOptions,
} from "./limits.js";
export { TestRunError } from "./progtypes/errors.js";
export { MAX_TAIL_CALL_CNT, MAX_CALL_FRAMES, MAX_BPF_STACK } from "./isa/opcodes.js";

/**
 * Parses an object and loads it: maps created, programs linked and validated, slots filled.
 * An object larger than `opts.maxElfBytes` (default 256 MiB) is refused (`ELF_TOO_LARGE`).
 */
export function loadCollection(
  bytes: Uint8Array,
  opts: CollectionOptions & LoadCollectionOptions = {},
): Collection {
  const { maxElfBytes } = resolveLimits(opts);
  return Collection.load(loadCollectionSpec(bytes, { name: opts.name, maxElfBytes }), opts);
}
