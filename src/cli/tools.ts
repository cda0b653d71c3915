/** `tsbpf asm`: bpf_conformance assembler syntax to raw instructions. */
import { readFileSync, writeFileSync } from "node:fs";
import { assemble } from "../isa/asm.js";

export { disasmCommand, disasmProgram, isElf } from "./disasm.js";
export { inspectCommand } from "./inspect.js";

/** `tsbpf asm FILE.s [-o OUT.bin]`: writes the instructions (default FILE with `.bin`). */
export function asmCommand(file: string, opts: { output?: string }): number {
  const code = assemble(readFileSync(file, "utf8"));
  const dest = opts.output ?? file.replace(/\.[^./]*$/, "") + ".bin";
  writeFileSync(dest, code);
  return 0;
}
