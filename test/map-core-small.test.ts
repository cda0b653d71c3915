/**
 * The map core's small build (-Oz, what browsers use on their main thread): the map tests that
 * run program-side operations, again on it. The fast build (-O2) is the default everywhere else.
 */
import { describe, expect, it, vi } from "vitest";
import { AddressSpace } from "../src/memory/address-space.js";
import { MapCore, coreBuildInUse, selectCoreBuild } from "../src/maps/core/index.js";

describe("the map core's builds", () => {
  it("uses the fast build where it compiles, else the small one", () => {
    selectCoreBuild("fast");
    expect(coreBuildInUse()).toBe("fast");
    // a browser's main thread refuses to compile modules over 4 KiB synchronously
    const Module = WebAssembly.Module;
    const spy = vi.spyOn(WebAssembly, "Module").mockImplementation((bytes) => {
      if ((bytes as Uint8Array).length > 4096) throw new RangeError("too large");
      return new Module(bytes);
    });
    try {
      selectCoreBuild("fast");
      expect(coreBuildInUse()).toBe("small");
      expect(MapCore.of(new AddressSpace()).x.htab_buckets).toBeTypeOf("function");
    } finally {
      spy.mockRestore();
      selectCoreBuild("small"); // for the tests below
    }
  });
});

// the map tests, on the small build
selectCoreBuild("small");
expect(coreBuildInUse()).toBe("small");
await import("./maps.test.js");
await import("./maps-property.test.js");
await import("./maps-special.test.js");
await import("./helpers-maps.test.js");
