import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findGlobal, setGlobal } from "../src/elf/globals.js";
import { loadCollectionSpecFile } from "../src/node.js";
import { Collection } from "../src/runtime/collection.js";
import { availableEngines } from "./engines.js";

const obj = join(import.meta.dirname, "fixtures", "globals.bpf.o");

describe.each(availableEngines())("global data on %s", (engine) => {
  it("runs with the object's initial values (as the kernel did: 32310353)", () => {
    const c = Collection.load(loadCollectionSpecFile(obj), { engine });
    expect(c.firstProgram().run().retval).toBe(32310353);
    c.close();
  });

  it("takes .rodata configuration set before load", () => {
    const spec = loadCollectionSpecFile(obj);
    expect(findGlobal(spec, "cfg_step")).toMatchObject({ offset: 0, size: 4 });
    expect(findGlobal(spec, "cfg_step")?.map.name).toBe("globals.rodata");
    setGlobal(spec, "cfg_step", 7);
    setGlobal(spec, "cfg_name", new TextEncoder().encode("other"));
    const c = Collection.load(spec, { engine });
    // 107 + 1 * 1000 + 0xed * 0x10000, and the name no longer matches
    expect(c.firstProgram().run().retval).toBe(107 + 1000 + 0xed * 0x10000);
    c.close();
  });

  it("keeps .rodata read-only to programs", () => {
    const c = Collection.load(loadCollectionSpecFile(obj), { engine });
    const rodata = c.map("globals.rodata");
    expect(rodata.def.flags & 0x80).toBe(0x80);
    c.close();
  });

  it("names unknown globals in the error", () => {
    expect(() => setGlobal(loadCollectionSpecFile(obj), "nope", 1)).toThrow(
      /no global variable "nope"/,
    );
  });
});
