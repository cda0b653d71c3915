/**
 * The eBPF instruction set: opcodes, decoding and encoding, validation, the bpf_conformance
 * assembler, the disassembler (llvm-objdump's and bpf_conformance's syntaxes) and name tables.
 */

export * from "./opcodes.js";
export * from "./decode.js";
export * from "./names.js";
export * from "./validate.js";
export * from "./asm.js";
export * from "./disasm.js";
