import { execRaw } from "../runtime/exec.js";
import { fromHex } from "../runtime/dump.js";
import type { EngineName } from "../runtime/engine.js";
import { ensureEngine } from "./engines.js";
import { readObjectFile } from "../node.js";
import { out, UsageError } from "./output.js";

/** Options of `tsbpf exec`. */
export interface ExecCliOptions {
  mem?: string;
  engine: EngineName;
  json?: boolean;
}

/** `tsbpf exec PROG.bin`: runs raw instructions with r1 = a copy of --mem, r2 = its length. */
export async function execCommand(file: string, opts: ExecCliOptions): Promise<number> {
  await ensureEngine(opts.engine);
  let mem: Uint8Array | undefined;
  try {
    mem = opts.mem !== undefined ? fromHex(opts.mem) : undefined;
  } catch (e) {
    throw new UsageError(`--mem: ${(e as Error).message}`);
  }
  const code = readObjectFile(file); // bounded by the ELF size limit, typed errors

  const r0 = execRaw(code, mem, { engine: opts.engine });
  const hex = "0x" + r0.toString(16);
  out(opts.json ? JSON.stringify({ r0: hex }) : hex);
  return 0;
}
