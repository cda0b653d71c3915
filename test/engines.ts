import "../src/vm/index.js";
import "../src/jit/index.js";
import { engineFactories, type EngineName } from "../src/runtime/engine.js";

/** The engines this build has, so every test runs on each of them. */
export function availableEngines(): EngineName[] {
  return [...engineFactories.keys()];
}
