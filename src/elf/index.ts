/**
 * eBPF ELF objects: the ELF64 and BTF readers and the object loader that turns a clang-built
 * object into programs and maps with libbpf's conventions.
 */
export { LoadError, type LoadErrorCode, type LoadErrorLocation } from "./errors.js";
export { ElfFile, type ElfRelocation, type ElfSection, type ElfSymbol, EM_BPF } from "./elf.js";
export { Btf, BTF_MAGIC, BTF_MAX_RESOLVE_DEPTH, BTF_MAX_TYPE } from "./btf.js";
export * from "./btf-types.js";
export {
  parseBtfExt,
  type BtfExt,
  type BtfExtCoreRelo,
  type BtfExtFuncInfo,
  type BtfExtLineInfo,
} from "./btf-ext.js";
export * from "./constants.js";
export {
  programTypeFromSection,
  sectionPatterns,
  isUsdtSection,
  type ProgramSectionInfo,
} from "./sections.js";
export { loadCollectionSpec, MAX_TOTAL_LINKED_INSNS } from "./loader.js";
export { MAX_PROGRAM_INSNS } from "./link.js";
export { internalMapName, adjustRingbufSize, MAX_GLOBAL_DATA_SIZE } from "./maps.js";
export { objectName } from "./object.js";
export type {
  CollectionSpec,
  CoreRelo,
  FuncBoundary,
  FuncInfo,
  LineInfo,
  LoadCollectionOptions,
  MapSpec,
  ProgramSpec,
} from "./types.js";
