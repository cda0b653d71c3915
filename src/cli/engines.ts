/**
 * Engines for the CLI: the interpreter is always there; the WebAssembly JIT is imported on
 * first use, so a build without it (or a broken one) only affects `--engine jit`.
 */
import "../vm/index.js";
import { engineFactories, type EngineName } from "../runtime/engine.js";
import { TsbpfError } from "../errors.js";

/** The JIT module, relative to this one (a variable, so the build does not require it). */
const JIT_MODULE = "../jit/index.js";

/** Makes sure engine `name` is registered (imports the JIT for "jit"). */
export async function ensureEngine(name: EngineName): Promise<void> {
  if (engineFactories.has(name)) return;
  if (name === "jit") {
    try {
      await import(/* @vite-ignore */ JIT_MODULE);
    } catch (e) {
      throw new TsbpfError(
        "ENOTSUPP",
        `engine "jit" is not available: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }
  if (!engineFactories.has(name)) {
    throw new TsbpfError("ENOTSUPP", `engine "${name}" is not available`);
  }
}
