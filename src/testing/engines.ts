/**
 * Engine registration for tests: importing this module registers the interpreter and the
 * WebAssembly JIT, so `loadObject(path, { engine: "jit" })` works.
 */
import "../vm/index.js";
import "../jit/index.js";
import { engineFactories, type EngineName } from "../runtime/engine.js";

/** The engines registered: `["interp", "jit"]`. */
export function registeredEngines(): EngineName[] {
  return [...engineFactories.keys()];
}
