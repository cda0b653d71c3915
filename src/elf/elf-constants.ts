/**
 * ELF64 numbers an eBPF object uses: section types and flags, symbol bindings, types and
 * visibilities, special section indices and the BPF relocation types.
 */

/** `e_type` of relocatable objects (what `clang -c` produces). */
export const ET_REL = 1;

/** `e_machine` of eBPF objects. */
export const EM_BPF = 247;

/** Section header types (`sh_type`). */
export const SHT_NULL = 0;
/** Program data. */
export const SHT_PROGBITS = 1;
/** Symbol table. */
export const SHT_SYMTAB = 2;
/** String table. */
export const SHT_STRTAB = 3;
/** Relocations with addends (not produced for BPF). */
export const SHT_RELA = 4;
/** Zero-filled data that occupies no file space (`.bss`). */
export const SHT_NOBITS = 8;
/** Relocations without addends. */
export const SHT_REL = 9;
/** Extended section indices of the symbol table. */
export const SHT_SYMTAB_SHNDX = 18;
/** LLVM's address-significance table. */
export const SHT_LLVM_ADDRSIG = 0x6fff4c03;

/** Section flag: writable. */
export const SHF_WRITE = 0x1;
/** Section flag: occupies memory at run time. */
export const SHF_ALLOC = 0x2;
/** Section flag: contains instructions. */
export const SHF_EXECINSTR = 0x4;

/** Symbol binding: local. */
export const STB_LOCAL = 0;
/** Symbol binding: global. */
export const STB_GLOBAL = 1;
/** Symbol binding: weak. */
export const STB_WEAK = 2;

/** Symbol type: unspecified. */
export const STT_NOTYPE = 0;
/** Symbol type: data object. */
export const STT_OBJECT = 1;
/** Symbol type: function. */
export const STT_FUNC = 2;
/** Symbol type: section. */
export const STT_SECTION = 3;
/** Symbol type: source file. */
export const STT_FILE = 4;

/** Symbol visibility: hidden. */
export const STV_HIDDEN = 2;
/** Symbol visibility: internal. */
export const STV_INTERNAL = 1;

/** Special section index: undefined (externs). */
export const SHN_UNDEF = 0;
/** First reserved section index. */
export const SHN_LORESERVE = 0xff00;
/** Special section index: absolute value. */
export const SHN_ABS = 0xfff1;
/** Special section index: common block (uninitialised global without a section). */
export const SHN_COMMON = 0xfff2;
/** Special section index: the real index is in SHT_SYMTAB_SHNDX / section 0. */
export const SHN_XINDEX = 0xffff;

/** BPF relocation type: none. */
export const R_BPF_NONE = 0;
/** BPF relocation type: 64-bit immediate of an `lddw` (map, global data, function address). */
export const R_BPF_64_64 = 1;
/** BPF relocation type: 64-bit absolute data (pointers in `.maps`, DWARF, `.BTF`). */
export const R_BPF_64_ABS64 = 2;
/** BPF relocation type: 32-bit absolute data (`.BTF`, `.BTF.ext`, DWARF). */
export const R_BPF_64_ABS32 = 3;
/** BPF relocation type: 32-bit data not resolved by dynamic loaders (`.BTF.ext`, DWARF). */
export const R_BPF_64_NODYLD32 = 4;
/** BPF relocation type: 32-bit call immediate of a `call` instruction. */
export const R_BPF_64_32 = 10;
