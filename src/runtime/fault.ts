import { MemoryAccessError } from "../errors.js";
import { MAX_BPF_STACK } from "../isa/opcodes.js";
import type { Machine } from "./machine.js";
import { funcAt, type ExecProgram } from "./program.js";

/**
 * The error of an access outside the memory a program was given, shared by every engine: it
 * names the pc and function, the address, the size, and the region nearest the address.
 * `depth` is the frame depth at the access (the live stack is the frames up to it).
 */
export function memoryFault(
  m: Machine,
  prog: ExecProgram | null,
  depth: number,
  pc: number,
  addr: number,
  hi: number,
  size: number,
  write: boolean,
  what = "",
): MemoryAccessError {
  const full = (BigInt(hi >>> 0) << 32n) | BigInt(addr >>> 0);
  const kind = write ? "write" : "read";
  const where = prog ? ` in ${funcAt(prog, pc).name}` : "";
  const arg = what ? ` (${what})` : "";
  const a = addr >>> 0;
  const sLo = m.stackTop - (depth + 1) * MAX_BPF_STACK;
  let region: string;
  if (hi === 0 && a >= m.stack.base && a < m.stackTop) {
    region = `stack: live frames are [0x${sLo.toString(16)}, 0x${m.stackTop.toString(16)})`;
  } else {
    const r = hi === 0 ? m.mem.describe(a) : undefined;
    region = r
      ? `nearest region: ${r.name} [0x${r.start.toString(16)}, 0x${r.end.toString(16)})` +
        (write && !r.writable ? " (read-only)" : "")
      : "no region near it";
  }
  return new MemoryAccessError(
    `pc ${pc}${where}: invalid ${kind} of ${size} bytes at 0x${full.toString(16)}${arg}; ${region}`,
    pc,
    full,
    size,
    write,
    region,
  );
}
