// BTF-defined map definitions built by hand: every attribute encoding and libbpf's refusals.
import { describe, expect, it } from "vitest";
import {
  BTF_KIND_ARRAY,
  BTF_KIND_DATASEC,
  BTF_KIND_ENUM64,
  BTF_KIND_FUNC_PROTO,
  BTF_KIND_INT,
  BTF_KIND_PTR,
  BTF_KIND_STRUCT,
  BTF_KIND_VAR,
  LoadError,
  loadCollectionSpec,
  type MapSpec,
} from "../src/elf/index.js";
import { EXIT, S, Y, btfBlob, buildElf, code, info, mov0 } from "./elf-builder.js";

/** Builds BTF for one `.maps` variable `m` whose struct has the given members. */
class MapBtf {
  words: number[][] = [];
  strings: string[] = [];
  constructor() {
    this.type([this.str("int"), info(BTF_KIND_INT), 4, 32]); // [1] int
  }
  str(s: string): number {
    let off = 1;
    for (const x of this.strings) {
      if (x === s) return off;
      off += x.length + 1;
    }
    this.strings.push(s);
    return off;
  }
  type(words: number[]): number {
    this.words.push(words);
    return this.words.length;
  }
  /** `__uint(name, n)`: pointer to int[n]. */
  uint(n: number): number {
    return this.type([0, info(BTF_KIND_PTR), this.type([0, info(BTF_KIND_ARRAY), 0, 1, 1, n])]);
  }
  /** `__type(name, int)`. */
  intPtr(): number {
    return this.type([0, info(BTF_KIND_PTR), 1]);
  }
  build(members: [string, number][], linkage = 1): Uint8Array {
    const size = members.length * 8;
    const flat = members.flatMap(([name, t], i) => [this.str(name), t, i * 64]);
    const def = this.type([0, info(BTF_KIND_STRUCT, members.length), size, ...flat]);
    const v = this.type([this.str("m"), info(BTF_KIND_VAR), def, linkage]);
    this.type([this.str(".maps"), info(BTF_KIND_DATASEC, 1), 0, v, 0, size]);
    const btf = btfBlob(this.words.flat(), this.strings);
    return buildElf(
      [
        { name: "xdp", type: S.PROGBITS, flags: S.EXEC, data: code(mov0(0), EXIT) },
        { name: ".maps", type: S.PROGBITS, flags: S.WA, data: new Uint8Array(size) },
        { name: ".BTF", type: S.PROGBITS, data: btf },
      ],
      [
        { name: "p", section: "xdp", size: 16, type: Y.FUNC, bind: Y.GLOBAL },
        {
          name: "m",
          section: ".maps",
          size,
          type: Y.OBJECT,
          bind: linkage === 0 ? Y.LOCAL : Y.GLOBAL,
        },
      ],
    );
  }
}

const load = (b: Uint8Array): MapSpec[] => loadCollectionSpec(b).maps;
const failure = (b: Uint8Array): LoadError => {
  try {
    load(b);
  } catch (e) {
    expect(e).toBeInstanceOf(LoadError);
    return e as LoadError;
  }
  throw new Error("loaded");
};

describe("BTF map definitions", () => {
  it("reads every attribute", () => {
    const t = new MapBtf();
    const e64 = t.type([t.str("E"), info(BTF_KIND_ENUM64, 1), 8, t.str("X"), 0, 1]);
    const maps = load(
      t.build([
        ["type", t.uint(1)],
        ["key", t.intPtr()],
        ["value_size", t.uint(16)],
        ["max_entries", t.uint(100)],
        ["map_flags", t.uint(1)],
        ["numa_node", t.uint(3)],
        ["pinning", t.uint(1)],
        ["map_extra", e64],
      ]),
    );
    expect(maps).toEqual([
      {
        name: "m",
        type: 1,
        keySize: 4,
        keyTypeId: 1,
        valueSize: 16,
        maxEntries: 100,
        flags: 1,
        numaNode: 3,
        pinning: 1,
        mapExtra: 2 ** 32,
        section: ".maps",
        readonlyProg: false,
      },
    ]);
  });

  it("accepts a prog_array with an empty __array(values)", () => {
    const t = new MapBtf();
    const proto = t.type([0, info(BTF_KIND_FUNC_PROTO, 0), 1]);
    const ptr = t.type([0, info(BTF_KIND_PTR), proto]);
    const arr = t.type([0, info(BTF_KIND_ARRAY), 0, ptr, 1, 0]);
    const [m] = load(
      t.build([
        ["type", t.uint(3)],
        ["key_size", t.uint(4)],
        ["max_entries", t.uint(4)],
        ["values", arr],
      ]),
    );
    expect(m).toMatchObject({ type: 3, keySize: 4, valueSize: 4, maxEntries: 4 });
    expect(m.initialSlots).toBeUndefined();
  });

  const refusals: [string, (t: MapBtf) => [string, number][], string, RegExp][] = [
    [
      "an unknown field",
      (t) => [
        ["type", t.uint(1)],
        ["foo", t.uint(1)],
      ],
      "UNSUPPORTED",
      /^map "m": unknown field 'foo'$/,
    ],
    [
      "a missing type",
      (t) => [["max_entries", t.uint(1)]],
      "MAP_DEFINITION",
      /map type isn't specified/,
    ],
    [
      "conflicting key sizes",
      (t) => [
        ["type", t.uint(1)],
        ["key_size", t.uint(8)],
        ["key", t.intPtr()],
      ],
      "MAP_DEFINITION",
      /conflicting key size 8 != 4/,
    ],
    [
      "__uint that is not a pointer",
      () => [["type", 1]],
      "MAP_DEFINITION",
      /attr 'type': expected PTR, got int/,
    ],
    [
      "__type that is not a pointer",
      (t) => [
        ["type", t.uint(1)],
        ["value", 1],
      ],
      "MAP_DEFINITION",
      /value spec is not PTR: int/,
    ],
    [
      "values on a hash map",
      (t) => [
        ["type", t.uint(1)],
        ["values", 1],
      ],
      "UNSUPPORTED",
      /should be map-in-map or prog-array/,
    ],
    [
      "values not last",
      (t) => [
        ["type", t.uint(3)],
        ["values", 1],
        ["max_entries", t.uint(1)],
      ],
      "MAP_DEFINITION",
      /'values' member should be last/,
    ],
    [
      "a bad pinning value",
      (t) => [
        ["type", t.uint(1)],
        ["pinning", t.uint(7)],
      ],
      "MAP_DEFINITION",
      /invalid pinning value 7/,
    ],
  ];
  it.each(refusals)("refuses %s", (_, members, codeName, re) => {
    const t = new MapBtf();
    const e = failure(t.build(members(t)));
    expect(e.code).toBe(codeName);
    expect(e.message).toMatch(re);
  });

  it("refuses static maps and .maps without BTF", () => {
    const t = new MapBtf();
    expect(failure(t.build([["type", t.uint(1)]], 0)).message).toMatch(
      /unsupported map linkage static/,
    );
    const noBtf = buildElf([
      { name: ".maps", type: S.PROGBITS, flags: S.WA, data: new Uint8Array(8) },
    ]);
    expect(failure(noBtf).message).toMatch(/needs BTF/);
  });

  it("refuses a DATASEC variable without an ELF symbol", () => {
    const t = new MapBtf();
    const b = t.build([["type", t.uint(1)]]);
    // rename the ELF symbol "m" to "n": BTF's VAR "m" then has no symbol to take its offset from
    const at = b.findIndex(
      (_, i) => b[i] === 0 && b[i + 1] === 0x6d && b[i + 2] === 0 && b[i - 1] === 0x70,
    );
    expect(at).toBeGreaterThan(0);
    b[at + 1] = 0x6e;
    expect(failure(b).message).toMatch(/DATASEC "\.maps": no ELF symbol for variable "m"/);
  });
});
