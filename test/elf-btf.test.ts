// The BTF and BTF.ext readers on hand-built blobs: every kind, the resolving helpers, limits
// and malformed input.
import { describe, expect, it } from "vitest";
import {
  BTF_KIND_ARRAY,
  BTF_KIND_CONST,
  BTF_KIND_DATASEC,
  BTF_KIND_DECL_TAG,
  BTF_KIND_ENUM,
  BTF_KIND_ENUM64,
  BTF_KIND_FLOAT,
  BTF_KIND_FUNC,
  BTF_KIND_FUNC_PROTO,
  BTF_KIND_FWD,
  BTF_KIND_INT,
  BTF_KIND_PTR,
  BTF_KIND_RESTRICT,
  BTF_KIND_STRUCT,
  BTF_KIND_TYPEDEF,
  BTF_KIND_TYPE_TAG,
  BTF_KIND_UNION,
  BTF_KIND_UNKN,
  BTF_KIND_VAR,
  BTF_KIND_VOLATILE,
  Btf,
  LoadError,
  parseBtfExt,
} from "../src/elf/index.js";
import { btfBlob, info, strOff } from "./elf-builder.js";

const STR = [
  "int",
  "s",
  "a",
  "b",
  "E",
  "X",
  "E64",
  "Y",
  "fwd",
  "td",
  "f",
  "p",
  "v",
  ".data",
  "tag",
  "float",
  "ttag",
  "u",
];
const o = (name: string): number => strOff(STR, name);

/** Type ids 1..20, one or more of every kind. */
const TYPES = [
  [o("int"), info(BTF_KIND_INT), 4, (1 << 24) | 32], // 1 int
  [0, info(BTF_KIND_PTR), 1], // 2 int *
  [0, info(BTF_KIND_ARRAY), 0, 1, 1, 10], // 3 int[10]
  [o("s"), info(BTF_KIND_STRUCT, 2), 48, o("a"), 1, 0, o("b"), 3, 32], // 4 struct s
  [o("u"), info(BTF_KIND_UNION, 1, true), 4, o("a"), 1, (3 << 24) | 5], // 5 union u { int a:3 @5 }
  [o("E"), info(BTF_KIND_ENUM, 2, true), 4, o("X"), -1, o("Y"), 2], // 6 enum E (signed)
  [o("E64"), info(BTF_KIND_ENUM64, 1), 8, o("X"), 0xffffffff, 0x7fffffff], // 7 enum E64
  [o("fwd"), info(BTF_KIND_FWD, 0, true), 0], // 8 union fwd;
  [o("td"), info(BTF_KIND_TYPEDEF), 4], // 9 typedef struct s td
  [0, info(BTF_KIND_VOLATILE), 9], // 10
  [0, info(BTF_KIND_CONST), 10], // 11
  [0, info(BTF_KIND_RESTRICT), 2], // 12
  [0, info(BTF_KIND_FUNC_PROTO, 2), 1, o("p"), 2, 0, 0], // 13 int (*)(int *p, ...)
  [o("f"), info(BTF_KIND_FUNC, 1), 13], // 14 global func f
  [o("v"), info(BTF_KIND_VAR), 11, 1], // 15 var v
  [o(".data"), info(BTF_KIND_DATASEC, 1), 48, 15, 0, 48], // 16
  [o("float"), info(BTF_KIND_FLOAT), 8], // 17
  [o("tag"), info(BTF_KIND_DECL_TAG), 4, 1], // 18
  [o("ttag"), info(BTF_KIND_TYPE_TAG), 1], // 19
  [o("int"), info(BTF_KIND_STRUCT, 0), 0], // 20 a struct also named "int"
];
const blob = (types = TYPES, strings = STR, layout?: number[]): Uint8Array =>
  btfBlob(types.flat(), strings, layout);
const btf = Btf.parse(blob());
const err = (f: () => unknown): LoadError => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(LoadError);
    return e as LoadError;
  }
  throw new Error("no error");
};

describe("BTF types", () => {
  it("decodes every kind", () => {
    expect(btf.types.length).toBe(21);
    expect(btf.types.map((t) => t.kind)).toEqual([
      BTF_KIND_UNKN,
      BTF_KIND_INT,
      BTF_KIND_PTR,
      BTF_KIND_ARRAY,
      BTF_KIND_STRUCT,
      BTF_KIND_UNION,
      BTF_KIND_ENUM,
      BTF_KIND_ENUM64,
      BTF_KIND_FWD,
      BTF_KIND_TYPEDEF,
      BTF_KIND_VOLATILE,
      BTF_KIND_CONST,
      BTF_KIND_RESTRICT,
      BTF_KIND_FUNC_PROTO,
      BTF_KIND_FUNC,
      BTF_KIND_VAR,
      BTF_KIND_DATASEC,
      BTF_KIND_FLOAT,
      BTF_KIND_DECL_TAG,
      BTF_KIND_TYPE_TAG,
      BTF_KIND_STRUCT,
    ]);
    expect(btf.types[1]).toEqual({
      id: 1,
      name: "int",
      kindFlag: false,
      kind: BTF_KIND_INT,
      size: 4,
      encoding: 1,
      bitOffset: 0,
      bits: 32,
    });
    expect(btf.types[3]).toMatchObject({ type: 1, indexType: 1, nelems: 10 });
    expect(btf.types[4]).toMatchObject({
      size: 48,
      members: [
        { name: "a", type: 1, bitOffset: 0, bitfieldSize: 0 },
        { name: "b", type: 3, bitOffset: 32, bitfieldSize: 0 },
      ],
    });
    expect(btf.types[5]).toMatchObject({
      kindFlag: true,
      members: [{ name: "a", bitOffset: 5, bitfieldSize: 3 }],
    });
    expect(btf.types[6]).toMatchObject({
      signed: true,
      values: [
        { name: "X", value: -1 },
        { name: "Y", value: 2 },
      ],
    });
    expect(btf.types[7]).toMatchObject({
      signed: false,
      values: [{ name: "X", value: 0x7fffffffffffffffn }],
    });
    expect(btf.types[8]).toMatchObject({ name: "fwd", isUnion: true });
    expect(btf.types[13]).toMatchObject({
      type: 1,
      params: [
        { name: "p", type: 2 },
        { name: "", type: 0 },
      ],
    });
    expect(btf.types[14]).toMatchObject({ name: "f", type: 13, linkage: 1 });
    expect(btf.types[15]).toMatchObject({ name: "v", type: 11, linkage: 1 });
    expect(btf.types[16]).toMatchObject({
      name: ".data",
      size: 48,
      vars: [{ type: 15, offset: 0, size: 48 }],
    });
    expect(btf.types[17]).toMatchObject({ size: 8 });
    expect(btf.types[18]).toMatchObject({ type: 4, componentIdx: 1 });
    expect(btf.types[19]).toMatchObject({ type: 1 });
  });

  it("resolves sizes like btf__resolve_size", () => {
    expect(
      [1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 15, 16, 17, 18, 19].map((id) => btf.resolveSize(id)),
    ).toEqual([4, 8, 40, 48, 4, 4, 8, 48, 48, 48, 8, 48, 48, 8, 48, 4]);
    for (const id of [0, 8, 13, 14]) expect(err(() => btf.resolveSize(id)).code).toBe("BTF_FORMAT");
    expect(err(() => btf.resolveSize(99)).message).toMatch(/type id 99 out of range \(21 types\)/);
  });

  it("skips modifiers and typedefs, finds by name, spells types", () => {
    expect(btf.skipModsAndTypedefs(11).id).toBe(4);
    expect(btf.skipModsAndTypedefs(19).id).toBe(1);
    expect(btf.skipModsAndTypedefs(2).id).toBe(2);
    expect(btf.findByName("v")?.id).toBe(15);
    expect(btf.findByName("int")?.id).toBe(1);
    expect(btf.findByName("int", BTF_KIND_STRUCT)?.id).toBe(20);
    expect(btf.findByName("nope")).toBeUndefined();
    expect(btf.typeToString(11)).toBe("const volatile td");
    expect(btf.typeToString(13)).toBe("int (*)(int *, ...)");
    expect(btf.typeToString(3)).toBe("int[10]");
    expect(btf.typeToString(15)).toBe("const volatile td v");
    expect(btf.typeToString(0)).toBe("void");
  });

  it("does not hang on cycles and caps deep chains", () => {
    const cyc = Btf.parse(
      blob([
        [o("td"), info(BTF_KIND_TYPEDEF), 2],
        [0, info(BTF_KIND_CONST), 1],
        [0, info(BTF_KIND_ARRAY), 0, 3, 1, 2],
      ]),
    );
    expect(err(() => cyc.skipModsAndTypedefs(1)).code).toBe("LIMIT");
    expect(err(() => cyc.resolveSize(1)).code).toBe("LIMIT");
    expect(err(() => cyc.resolveSize(3)).code).toBe("LIMIT");
    expect(cyc.typeToString(3)).toContain("…");
    const huge = Btf.parse(
      blob([
        TYPES[0],
        [0, info(BTF_KIND_ARRAY), 0, 1, 1, 1 << 20],
        [0, info(BTF_KIND_ARRAY), 0, 2, 1, 1 << 20],
      ]),
    );
    expect(err(() => huge.resolveSize(3)).code).toBe("LIMIT");
  });

  it("skips unknown kinds described by a layout section", () => {
    // kind 25 with 4 bytes of info and 8 bytes per vlen element
    const layout = Array.from({ length: 26 }, (_, k) => (k === 25 ? 4 | (8 << 8) : 0));
    const t = Btf.parse(blob([[0, info(25, 2), 0, 0, 0, 0, 0, 0], TYPES[0]], STR, layout));
    expect(t.types[1]).toMatchObject({ kind: BTF_KIND_UNKN, rawKind: 25 });
    expect(t.types[2]).toMatchObject({ kind: BTF_KIND_INT, name: "int" });
    expect(err(() => Btf.parse(blob([[0, info(25), 0]]))).message).toMatch(
      /type \[1\]: unknown kind 25/,
    );
  });
});

describe("malformed BTF", () => {
  const good = blob();
  const patched = (at: number, value: number, data = good): Uint8Array => {
    const b = data.slice();
    new DataView(b.buffer).setUint32(at, value >>> 0, true);
    return b;
  };
  const cases: [string, Uint8Array, RegExp][] = [
    ["short", good.subarray(0, 10), /too short for a BTF header/],
    ["magic", patched(0, 0x9feb0001), /bad magic/],
    ["header length", patched(4, 0x1000), /header length 4096 out of range/],
    ["string section past end", patched(20, 0x10000), /string section at .* past end of data/],
    ["types overlap strings", patched(12, good.length), /overlaps the string section/],
    ["type truncated", blob([[0, info(BTF_KIND_INT), 4]]), /type \[1\] \(int, vlen 0\) truncated/],
    [
      "vlen huge",
      blob([[0, info(BTF_KIND_STRUCT, 0xffffff), 4]]),
      /type \[1\] \(struct, vlen 16777215\) truncated/,
    ],
    [
      "name past strings",
      blob([[0x7fff, info(BTF_KIND_PTR), 0]]),
      /name offset 0x7fff past end of string section/,
    ],
    [
      "dangling reference",
      blob([[0, info(BTF_KIND_PTR), 5]]),
      /type \[1\] \(ptr ""\): type refers to type \[5\], but there are only 2 types/,
    ],
    [
      "member reference",
      blob([[0, info(BTF_KIND_STRUCT, 1), 4, 0, 9, 0]]),
      /member "" refers to type \[9\]/,
    ],
    [
      "func without proto",
      blob([[o("f"), info(BTF_KIND_FUNC), 0]]),
      /func \[1\] "f": type is not a FUNC_PROTO/,
    ],
  ];
  it.each(cases)("refuses %s", (_, data, re) => {
    const e = err(() => Btf.parse(data));
    expect(e.code).toBe("BTF_FORMAT");
    expect(e.message).toMatch(re);
  });

  it("refuses a string section without its NUL terminator or leading empty string", () => {
    const b = good.slice();
    b[b.length - 1] = 0x41;
    expect(err(() => Btf.parse(b)).message).toMatch(/does not end with NUL/);
    const c = good.slice();
    c[24 + TYPES.flat().length * 4] = 0x41;
    expect(err(() => Btf.parse(c)).message).toMatch(/does not start with an empty string/);
  });
});

describe("BTF.ext", () => {
  const strings = [...STR, "xdp", "file.c", "line one", "0:1"];
  const base = Btf.parse(blob(TYPES, strings));
  const so = (s: string): number => strOff(strings, s);
  const ext = (func: number[], line: number[], core?: number[]): Uint8Array => {
    const hdrLen = core ? 32 : 24;
    const parts = [func, line, core ?? []];
    const total = parts.reduce((n, p) => n + p.length * 4, 0);
    const out = new Uint8Array(hdrLen + total);
    const v = new DataView(out.buffer);
    v.setUint16(0, 0xeb9f, true);
    out[2] = 1;
    v.setUint32(4, hdrLen, true);
    let off = 0;
    parts.forEach((p, i) => {
      if (i === 2 && !core) return;
      v.setUint32(8 + i * 8, off, true);
      v.setUint32(12 + i * 8, p.length * 4, true);
      p.forEach((w, j) => v.setUint32(hdrLen + off + j * 4, w >>> 0, true));
      off += p.length * 4;
    });
    return out;
  };
  const FUNC = [8, so("xdp"), 2, 0, 14, 16, 14];
  const LINE = [16, so("xdp"), 1, 8, so("file.c"), so("line one"), (7 << 10) | 3];
  const CORE = [16, so("xdp"), 1, 24, 4, so("0:1"), 0];

  it("reads func_info, line_info and core_relo records by section", () => {
    const e = parseBtfExt(ext(FUNC, LINE, CORE), base);
    expect(e.funcInfo.get("xdp")).toEqual([
      { insnOff: 0, typeId: 14 },
      { insnOff: 16, typeId: 14 },
    ]);
    expect(e.lineInfo.get("xdp")).toEqual([
      { insnOff: 8, file: "file.c", text: "line one", line: 7, column: 3 },
    ]);
    expect(e.coreRelos.get("xdp")).toEqual([{ insnOff: 24, typeId: 4, accessStr: "0:1", kind: 0 }]);
    expect(parseBtfExt(ext(FUNC, LINE), base).coreRelos.size).toBe(0);
  });

  it("accepts larger records and refuses malformed ones", () => {
    const big = parseBtfExt(ext([12, so("xdp"), 1, 0, 14, 99], []), base);
    expect(big.funcInfo.get("xdp")).toEqual([{ insnOff: 0, typeId: 14 }]);
    const bad = (data: Uint8Array, re: RegExp): void => {
      const e = err(() => parseBtfExt(data, base));
      expect(e.code).toBe("BTF_EXT_FORMAT");
      expect(e.message).toMatch(re);
    };
    bad(ext([4, so("xdp"), 1, 0], []), /func_info: invalid record size 4/);
    bad(
      ext([8, so("xdp"), 0x10000000, 0, 14], []),
      /func_info for section "xdp": 268435456 records do not fit/,
    );
    bad(ext([8, 0x7fff, 1, 0, 14], []), /func_info section name: string offset 0x7fff past end/);
    bad(ext([], [16, so("xdp"), 1, 8, 0x7fff, 0, 0]), /line_info file name: string offset 0x7fff/);
    bad(ext([8, so("xdp")], []), /func_info: truncated section header/);
    const past = ext(FUNC, LINE);
    new DataView(past.buffer).setUint32(12, 0x1000, true);
    bad(past, /func_info subsection at 0x0 \+ 0x1000 past end of section/);
    bad(ext(FUNC, LINE).subarray(0, 20), /too short for a header/);
  });
});
