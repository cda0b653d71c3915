// The loader on hand-built objects: relocations and symbols clang would not emit.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ElfFile, LoadError, loadCollectionSpec, type CollectionSpec } from "../src/elf/index.js";
import {
  EXIT,
  S,
  Y,
  buildElf,
  call,
  code,
  insn,
  lddw,
  mov0,
  type BuildSection,
  type BuildSymbol,
} from "./elf-builder.js";

const R_64_64 = 1;
const R_ABS64 = 2;
const R_64_32 = 10;

const failure = (bytes: Uint8Array): LoadError => {
  try {
    loadCollectionSpec(bytes, { name: "t.o" });
  } catch (e) {
    expect(e).toBeInstanceOf(LoadError);
    return e as LoadError;
  }
  throw new Error("loaded");
};
const ok = (sections: BuildSection[], symbols: BuildSymbol[]): CollectionSpec =>
  loadCollectionSpec(buildElf(sections, symbols), { name: "t.o" });
const xdp = (data: Uint8Array): BuildSection => ({
  name: "xdp",
  type: S.PROGBITS,
  flags: S.EXEC,
  data,
});
const text = (data: Uint8Array): BuildSection => ({
  name: ".text",
  type: S.PROGBITS,
  flags: S.EXEC,
  data,
});
const fn = (
  name: string,
  section: string,
  value: number,
  insns: number,
  bind: number = Y.GLOBAL,
): BuildSymbol => ({
  name,
  section,
  value: value * 8,
  size: insns * 8,
  bind,
  type: Y.FUNC,
});
const rel = (target: string, offset: number, sym: string, type: number): BuildSection => ({
  name: `.rel${target}`,
  type: S.REL,
  info: target,
  rels: [{ offset, sym, type }],
});
const imm = (spec: CollectionSpec, prog: number, at: number): number =>
  new DataView(spec.programs[prog].insns.buffer).getInt32(at * 8 + 4, true);

describe("linking", () => {
  it("appends a subprogram once per program, handles recursion and relocation-less calls", () => {
    // .text: f (calls itself via a section-relative call, then g without relocation), g
    const t = code(call(-1), call(1), EXIT, mov0(1), EXIT);
    const spec = ok(
      [
        xdp(code(call(-1), EXIT)),
        text(t),
        rel("xdp", 0, "f", R_64_32),
        rel(".text", 0, "f", R_64_32),
      ],
      [fn("main", "xdp", 0, 2), fn("f", ".text", 0, 3), fn("g", ".text", 3, 2, Y.LOCAL)],
    );
    const p = spec.programs[0];
    expect(p.funcs).toEqual([
      { name: "main", start: 0, global: true },
      { name: "f", start: 2, global: true },
      { name: "g", start: 5, global: false },
    ]);
    expect([imm(spec, 0, 0), imm(spec, 0, 2), imm(spec, 0, 3)]).toEqual([1, -1, 1]);
    expect(p.insns[0 * 8 + 1] >> 4).toBe(1);
  });

  it("survives a 20000-deep chain of subprograms (no recursion in the linker)", () => {
    const n = 20000;
    const parts: Uint8Array[] = [];
    const syms: BuildSymbol[] = [fn("main", "xdp", 0, 2)];
    for (let i = 0; i < n; i++) {
      parts.push(i === n - 1 ? mov0(0) : call(1), EXIT);
      syms.push(fn(`f${i}`, ".text", i * 2, 2));
    }
    const spec = ok(
      [xdp(code(call(-1), EXIT)), text(code(...parts)), rel("xdp", 0, "f0", R_64_32)],
      syms,
    );
    expect(spec.programs[0].funcs.length).toBe(n + 1);
    expect(spec.programs[0].funcs[n]).toEqual({ name: `f${n - 1}`, start: 2 * n, global: true });
  });

  it("refuses a call without relocation outside .text", () => {
    const e = failure(buildElf([xdp(code(call(0), EXIT, EXIT))], [fn("main", "xdp", 0, 3)]));
    expect(e.code).toBe("PROGRAM");
    expect(e.message).toMatch(/"main" insn 0 .*call without a relocation/);
  });

  it("refuses a call to an address outside every .text function", () => {
    const e = failure(
      buildElf(
        [
          xdp(code(call(-1), EXIT)),
          text(code(EXIT, EXIT, EXIT)),
          rel("xdp", 0, "nowhere", R_64_32),
        ],
        [
          fn("main", "xdp", 0, 2),
          fn("f", ".text", 0, 1),
          { name: "nowhere", section: ".text", value: 16, bind: Y.GLOBAL },
        ],
      ),
    );
    expect(e.code).toBe("PROGRAM");
    expect(e.message).toMatch(/call target \(insn 2 of \.text\) is not inside any function/);
  });
});

describe("relocation errors", () => {
  const base = (
    relSym: string,
    relType: number,
    prog: Uint8Array,
    extra: BuildSection[] = [],
    syms: BuildSymbol[] = [],
  ): LoadError =>
    failure(
      buildElf(
        [
          xdp(prog),
          text(code(EXIT)),
          { name: ".foo", type: S.PROGBITS, flags: S.WA, data: new Uint8Array(8) },
          ...extra,
          rel("xdp", 0, relSym, relType),
        ],
        [
          fn("main", "xdp", 0, prog.length / 8),
          fn("f", ".text", 0, 1),
          { name: "foo_var", section: ".foo", size: 4, type: Y.OBJECT },
          ...syms,
        ],
      ),
    );

  it("names section, offset and symbol for a relocation on a non-call, non-lddw instruction", () => {
    const e = base("f", R_64_32, code(mov0(0), EXIT));
    expect(e.code).toBe("RELOCATION");
    expect(e.section).toBe("xdp");
    expect(e.offset).toBe(0);
    expect(e.message).toBe(
      'section "xdp" (index 1): relocation at offset 0x0 (insn 0 of "main") against "f": instruction code 0xb7 is neither call nor lddw',
    );
  });

  it("refuses a relocation type that does not fit the instruction", () => {
    expect(base("f", R_ABS64, code(call(-1), EXIT)).message).toMatch(
      /relocation type 2 on call \(expected R_BPF_64_32/,
    );
    expect(base("foo_var", R_64_32, code(...lddw(1), EXIT)).message).toMatch(
      /relocation type 10 on lddw \(expected R_BPF_64_64/,
    );
  });

  it("refuses a call relocation against a helper call or a non-.text symbol", () => {
    expect(base("f", R_64_32, code(call(1, 0), EXIT)).message).toMatch(
      /src_reg 0 is not a bpf-to-bpf call/,
    );
    expect(base("foo_var", R_64_32, code(call(-1), EXIT)).message).toMatch(
      /call target is not in \.text/,
    );
  });

  it("refuses data relocations against sections that are not maps", () => {
    const e = base("foo_var", R_64_64, code(...lddw(1), EXIT));
    expect(e.message).toMatch(/against "foo_var": bad data relocation against section "\.foo"/);
  });

  it("refuses lddw in the last slot, COMMON symbols and externs", () => {
    expect(base("foo_var", R_64_64, code(insn(0x18, 1))).message).toMatch(/last instruction/);
    const common = base(
      "c",
      R_64_64,
      code(...lddw(1), EXIT),
      [],
      [{ name: "c", section: 0xfff2, size: 4, type: Y.OBJECT }],
    );
    expect(common.message).toMatch(/forgot to initialize a global variable/);
    const ext = base(
      "kfunc",
      R_64_32,
      code(call(-1), EXIT),
      [],
      [{ name: "kfunc", section: 0, bind: Y.GLOBAL }],
    );
    expect(ext.code).toBe("UNSUPPORTED");
    expect(ext.message).toMatch(
      /against "kfunc": calls to extern \(kernel\) functions are not supported/,
    );
  });

  it("refuses relocations at unaligned or out-of-range offsets and bad symbol indices", () => {
    const mk = (offset: number): LoadError =>
      failure(
        buildElf(
          [xdp(code(call(-1), EXIT)), text(code(EXIT)), rel("xdp", offset, "f", R_64_32)],
          [fn("main", "xdp", 0, 2), fn("f", ".text", 0, 1)],
        ),
      );
    expect(mk(4).message).toMatch(/invalid offset 0x4/);
    expect(mk(16).message).toMatch(/invalid offset 0x10/);
  });

  it("skips relocations of instructions outside every function, like libbpf", () => {
    const spec = ok(
      [xdp(code(mov0(0), EXIT, ...lddw(1))), rel("xdp", 16, "main", R_64_64)],
      [fn("main", "xdp", 0, 2)],
    );
    expect(spec.programs.length).toBe(1);
  });
});

describe("programs and sections", () => {
  it("refuses functions crossing their section, of odd size, or static outside .text", () => {
    const one = (sym: BuildSymbol): string =>
      failure(buildElf([xdp(code(mov0(0), EXIT))], [sym])).message;
    expect(one(fn("p", "xdp", 1, 2))).toMatch(/crosses the section boundary/);
    expect(
      one({ name: "p", section: "xdp", value: 0, size: 12, type: Y.FUNC, bind: Y.GLOBAL }),
    ).toMatch(/corrupted program "p"/);
    expect(
      one({ name: "p", section: "xdp", value: 0, size: 0, type: Y.FUNC, bind: Y.GLOBAL }),
    ).toMatch(/corrupted program "p"/);
    expect(one(fn("p", "xdp", 0, 2, Y.LOCAL))).toMatch(/is static and not supported/);
  });

  it("reads license (at most 63 bytes) and version, and refuses a bad version size", () => {
    const lic = new TextEncoder().encode("GPL".padEnd(80, "x") + "\0");
    const spec = ok(
      [
        xdp(code(mov0(0), EXIT)),
        { name: "license", type: S.PROGBITS, flags: S.WA, data: lic },
        { name: "version", type: S.PROGBITS, flags: S.WA, data: Uint8Array.of(1, 2, 3, 4) },
      ],
      [fn("p", "xdp", 0, 2)],
    );
    expect(spec.license).toBe("GPL".padEnd(63, "x"));
    expect(spec.kernelVersion).toBe(0x04030201);
    expect(spec.programs[0]).toMatchObject({ license: spec.license, kernelVersion: 0x04030201 });
    const e = failure(
      buildElf(
        [xdp(code(mov0(0), EXIT)), { name: "version", type: S.PROGBITS, data: Uint8Array.of(1) }],
        [fn("p", "xdp", 0, 2)],
      ),
    );
    expect(e.message).toBe('section "version" (index 2): size 1 is not 4');
  });

  it("refuses a .kconfig section", () => {
    const e = failure(buildElf([{ name: ".kconfig", type: S.PROGBITS, data: new Uint8Array(4) }]));
    expect(e.code).toBe("UNSUPPORTED");
    expect(e.message).toMatch(/\.kconfig externs are not supported/);
  });

  it("maps empty .bss away and keeps big ones within a limit", () => {
    const spec = ok(
      [
        xdp(code(mov0(0), EXIT)),
        { name: ".bss", type: S.NOBITS, flags: S.WA, size: 0 },
        { name: ".bss.big", type: S.NOBITS, flags: S.WA, size: 5 },
      ],
      [fn("p", "xdp", 0, 2)],
    );
    expect(spec.maps.map((m) => [m.name, m.valueSize, m.initialValue?.length])).toEqual([
      [".bss.big", 5, 5],
    ]);
    const e = failure(buildElf([{ name: ".bss", type: S.NOBITS, flags: S.WA, size: 0x7fffffff }]));
    expect(e.code).toBe("LIMIT");
  });
});

describe("legacy maps", () => {
  const defs = (words: number[], n: number): Uint8Array => {
    const b = new Uint8Array(words.length * 4);
    words.forEach((w, i) => new DataView(b.buffer).setUint32(i * 4, w, true));
    expect(b.length % n).toBe(0);
    return b;
  };
  it("reads short and long definitions and refuses unknown non-zero fields", () => {
    const syms = (size: number): BuildSymbol[] => [
      { name: "m1", section: "maps", value: 0, size, type: Y.OBJECT },
      { name: "m2", section: "maps", value: size, size, type: Y.OBJECT },
    ];
    const short = ok(
      [{ name: "maps", type: S.PROGBITS, flags: S.WA, data: defs([1, 4, 8, 16, 2, 4, 4, 1], 2) }],
      syms(16),
    );
    expect(
      short.maps.map((m) => [m.name, m.type, m.keySize, m.valueSize, m.maxEntries, m.flags]),
    ).toEqual([
      ["m1", 1, 4, 8, 16, 0],
      ["m2", 2, 4, 4, 1, 0],
    ]);
    const long = ok(
      [
        {
          name: "maps",
          type: S.PROGBITS,
          flags: S.WA,
          data: defs([1, 4, 8, 16, 1, 0, 0, 2, 4, 4, 1, 0, 0, 0], 2),
        },
      ],
      syms(28),
    );
    expect(long.maps[0].flags).toBe(1);
    const e = failure(
      buildElf(
        [
          {
            name: "maps",
            type: S.PROGBITS,
            flags: S.WA,
            data: defs([1, 4, 8, 16, 1, 0, 9, 2, 4, 4, 1, 0, 0, 0], 2),
          },
        ],
        syms(28),
      ),
    );
    expect(e.message).toBe('map "m1": unknown non-zero data in the definition at byte 24');
    const odd = failure(
      buildElf(
        [{ name: "maps", type: S.PROGBITS, flags: S.WA, data: new Uint8Array(31) }],
        syms(16),
      ),
    );
    expect(odd.message).toMatch(/not a multiple of its 2 map definitions/);
  });
});

describe("static slot relocations in .maps", () => {
  const orig = new Uint8Array(
    readFileSync(fileURLToPath(new URL("./elf-fixtures/tailmaps.bpf.o", import.meta.url))),
  );
  const elf = new ElfFile(orig);
  const relMaps = elf.sections.find((s) => s.name === ".rel.maps");
  const symtab = elf.sections.find((s) => s.type === S.SYMTAB);
  if (!relMaps || !symtab) throw new Error("fixture without .rel.maps");
  const syms = elf.readSymbols(symtab);
  const rels = elf.readRelocations(relMaps);
  const symIdx = (name: string): number => syms.findIndex((s) => s.name === name);
  const relTo = (name: string): number => rels.findIndex((r) => r.symbol === symIdx(name));
  const patch = (rel: number, field: number, value: number, size = 4): Uint8Array => {
    const b = orig.slice();
    const v = new DataView(b.buffer);
    const at = relMaps.offset + rel * 16 + field;
    if (size === 8) v.setBigUint64(at, BigInt(value), true);
    else v.setUint32(at, value, true);
    return b;
  };

  it("refuses a prog_array slot naming something that is not an entry program", () => {
    const e = failure(patch(relTo("tail_1"), 12, symIdx("inner_a")));
    expect(e.code).toBe("RELOCATION");
    expect(e.message).toMatch(
      /^section "\.rel\.maps" \(index \d+\): relocation #\d+ at offset 0x[0-9a-f]+: "inner_a" isn't a valid program reference$/,
    );
  });

  it("refuses a map-in-map slot naming something that is not a BTF map", () => {
    expect(failure(patch(relTo("inner_a"), 12, symIdx("tail_1"))).message).toMatch(
      /"tail_1" isn't a BTF-defined map/,
    );
  });

  it("refuses misplaced slots and other relocation types", () => {
    const r = relTo("tail_1");
    expect(failure(patch(r, 0, rels[r].offset + 4, 8)).message).toMatch(
      /misplaced 'values' relocation/,
    );
    expect(failure(patch(r, 8, 10)).message).toMatch(
      /unexpected relocation type 10 against "tail_1"/,
    );
    expect(failure(patch(r, 0, 0x100000, 8)).message).toMatch(/no map at this offset/);
  });
});

describe("visibility", () => {
  it("treats hidden global subprograms as static for the verifier", () => {
    const spec = ok(
      [xdp(code(call(-1), EXIT)), text(code(mov0(1), EXIT)), rel("xdp", 0, "f", R_64_32)],
      [fn("main", "xdp", 0, 2), { ...fn("f", ".text", 0, 2), other: 2 }],
    );
    expect(spec.programs[0].funcs.map((f) => [f.name, f.global])).toEqual([
      ["main", true],
      ["f", false],
    ]);
  });
});
