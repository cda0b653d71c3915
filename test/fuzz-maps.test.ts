// Random map operation sequences from the program side — an eBPF program calling the map
// helpers through the engine and the helper layer — against a model (hash, array, queue,
// stack). The host side is covered by test/maps-property.test.ts.
import fc from "fast-check";
import { describe, it } from "vitest";
import { checkMapOps, mapOpsArb } from "./fuzz/map-program.js";

describe("fuzz: map helpers from programs against a model", () => {
  it("lookup / update / delete / push / pop / peek give the model's results", () => {
    fc.assert(
      fc.property(mapOpsArb, (ops) => checkMapOps(ops)),
      { numRuns: 250, seed: 0x3a95 },
    );
  });
});
