// Malformed, truncated and hostile ELF input: always a LoadError that says what and where,
// never another exception, a hang or a huge allocation.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ElfFile, LoadError, loadCollectionSpec } from "../src/elf/index.js";
import { S, Y, buildElf, code, EXIT, mov0 } from "./elf-builder.js";

const dir = fileURLToPath(new URL("./elf-fixtures/", import.meta.url));
const FIXTURES = [
  "calls.bpf.o",
  "globals.bpf.o",
  "tailmaps.bpf.o",
  "legacy.bpf.o",
  "legacy.nobtf.bpf.o",
  "o0.bpf.o",
];
const fixture = (f: string): Uint8Array => new Uint8Array(readFileSync(dir + f));

/** Loads `bytes`; returns the LoadError, or undefined if it loaded. Any other throw fails. */
function attempt(bytes: Uint8Array): LoadError | undefined {
  try {
    loadCollectionSpec(bytes);
    return undefined;
  } catch (e) {
    if (!(e instanceof LoadError)) throw new Error(`not a LoadError: ${String(e)}`, { cause: e });
    if (e.code === "INTERNAL") throw new Error(`unchecked input reached: ${e.message}`);
    return e;
  }
}
const failure = (bytes: Uint8Array): LoadError => {
  const e = attempt(bytes);
  if (!e) throw new Error("loaded");
  return e;
};

const minimal = (): Uint8Array =>
  buildElf(
    [{ name: "xdp", type: S.PROGBITS, flags: S.EXEC, data: code(mov0(2), EXIT) }],
    [{ name: "p", section: "xdp", size: 16, type: Y.FUNC, bind: Y.GLOBAL }],
  );
const u16 = (b: Uint8Array, at: number, v: number): Uint8Array => {
  const c = b.slice();
  new DataView(c.buffer).setUint16(at, v, true);
  return c;
};
const u32 = (b: Uint8Array, at: number, v: number): Uint8Array => {
  const c = b.slice();
  new DataView(c.buffer).setUint32(at, v >>> 0, true);
  return c;
};
const u64 = (b: Uint8Array, at: number, v: bigint): Uint8Array => {
  const c = b.slice();
  new DataView(c.buffer).setBigUint64(at, v, true);
  return c;
};
const shoff = (b: Uint8Array): number => Number(new DataView(b.buffer).getBigUint64(40, true));

describe("ELF header", () => {
  const m = minimal();
  it("loads the minimal object", () => {
    expect(loadCollectionSpec(m).programs.map((p) => p.name)).toEqual(["p"]);
  });
  const cases: [string, Uint8Array, string, RegExp][] = [
    ["empty file", new Uint8Array(0), "ELF_MAGIC", /bad magic/],
    ["bad magic", u32(m, 0, 0x464c457e), "ELF_MAGIC", /not an ELF file/],
    ["short header", m.subarray(0, 40), "ELF_TRUNCATED", /file is 40 bytes, the header needs 64/],
    [
      "32-bit",
      (() => {
        const c = m.slice();
        c[4] = 1;
        return c;
      })(),
      "ELF_CLASS",
      /class 1 is not ELFCLASS64/,
    ],
    [
      "big-endian",
      (() => {
        const c = m.slice();
        c[5] = 2;
        return c;
      })(),
      "ELF_CLASS",
      /not little-endian/,
    ],
    [
      "EI_VERSION",
      (() => {
        const c = m.slice();
        c[6] = 0;
        return c;
      })(),
      "ELF_CLASS",
      /EI_VERSION 0/,
    ],
    ["x86-64 object", u16(m, 18, 62), "ELF_MACHINE", /e_machine 62 is not EM_BPF \(247\)/],
    ["executable", u16(m, 16, 2), "ELF_MACHINE", /e_type 2 is not ET_REL \(1\)/],
    ["no section table", u64(m, 40, 0n), "ELF_FORMAT", /no section header table/],
    ["odd shentsize", u16(m, 58, 40), "ELF_FORMAT", /e_shentsize 40 is not 64/],
    [
      "table past end",
      u64(m, 40, BigInt(m.length)),
      "ELF_TRUNCATED",
      /section header table at 0x[0-9a-f]+ past end of file/,
    ],
    ["table offset 2^64-1", u64(m, 40, 0xffffffffffffffffn), "ELF_TRUNCATED", /past end of file/],
    ["too many sections", u16(m, 60, 0xfffe), "ELF_TRUNCATED", /65534 headers of 64 bytes/],
    [
      "name table index",
      u16(m, 62, 200),
      "ELF_FORMAT",
      /section name table index 200 out of range/,
    ],
    [
      "name table not a strtab",
      u16(m, 62, 1),
      "ELF_FORMAT",
      /section name table \(index 1\) has type 1/,
    ],
  ];
  it.each(cases)("refuses %s", (_, bytes, codeName, re) => {
    const e = failure(bytes);
    expect(e.code).toBe(codeName);
    expect(e.message).toMatch(re);
  });

  it("accepts e_machine EM_NONE like libbpf (old LLVM left it unset)", () => {
    expect(loadCollectionSpec(u16(m, 18, 0)).programs.length).toBe(1);
  });

  it("follows extended section numbering (e_shnum = 0, count in section 0)", () => {
    const n = new DataView(m.buffer).getUint16(60, true);
    const ext = u64(u16(m, 60, 0), shoff(m) + 32, BigInt(n));
    expect(loadCollectionSpec(ext).programs.length).toBe(1);
    const huge = u64(u16(m, 60, 0), shoff(m) + 32, 1n << 40n);
    expect(failure(huge).message).toMatch(/headers of 64 bytes/);
  });
});

describe("sections, strings, symbols", () => {
  const m = minimal();
  const sh = (i: number): number => shoff(m) + i * 64;

  it("names the section that reaches past the end of the file", () => {
    const e = failure(u64(m, sh(1) + 32, 0x80n + BigInt(m.length)));
    expect(e.code).toBe("ELF_TRUNCATED");
    expect(e.section).toBe("xdp");
    expect(e.message).toBe(
      `section "xdp" (index 1): offset 0x40 + size 0x${(0x80 + m.length).toString(16)} past end of file (0x${m.length.toString(16)} bytes)`,
    );
    expect(failure(u64(m, sh(1) + 24, 1n << 62n)).message).toMatch(
      /^section "xdp" \(index 1\): offset 0x4000000000000000/,
    );
  });

  it("refuses section and symbol names outside their string table", () => {
    expect(failure(u32(m, sh(1), 0x7000)).message).toMatch(
      /name of section #1: string offset 0x7000 past end of section "\.shstrtab"/,
    );
    const symtab = Number(new DataView(m.buffer).getBigUint64(sh(2) + 24, true));
    const e = failure(u32(m, symtab + 24, 0x7000));
    expect(e.message).toMatch(
      /symbol #1: string offset 0x7000 past end of section "\.strtab" \(index 3\)/,
    );
  });

  it("refuses bad symbol tables", () => {
    expect(failure(u64(m, sh(2) + 56, 16n)).message).toMatch(
      /section "\.symtab" \(index 2\): sh_entsize 16 is not 24/,
    );
    expect(failure(u32(m, sh(2) + 40, 77)).message).toMatch(
      /string table \(sh_link\): section index 77 out of range/,
    );
    expect(failure(u32(m, sh(2) + 4, S.PROGBITS)).message).toMatch(/no symbol table/);
    expect(failure(u32(m, sh(1) + 4, S.SYMTAB)).message).toMatch(/multiple symbol tables/);
  });

  it("refuses a string table without its terminating NUL", () => {
    const strtab = Number(new DataView(m.buffer).getBigUint64(shoff(m) + 3 * 64 + 24, true));
    const c = m.slice();
    c[strtab + 2] = 0x41; // "p\0" -> "pA"
    expect(failure(c).message).toMatch(
      /symbol #1: string at offset 0x1 in section "\.strtab" \(index 3\) is not NUL-terminated/,
    );
  });

  it("refuses relocation sections pointing at missing sections or with bad entry sizes", () => {
    const withRel = buildElf(
      [
        { name: "xdp", type: S.PROGBITS, flags: S.EXEC, data: code(mov0(2), EXIT) },
        { name: ".rel.xdp", type: S.REL, info: "xdp", rels: [] },
      ],
      [{ name: "p", section: "xdp", size: 16, type: Y.FUNC, bind: Y.GLOBAL }],
    );
    const rsh = shoff(withRel) + 2 * 64;
    expect(failure(u32(withRel, rsh + 44, 999)).message).toMatch(
      /target section \(sh_info\): section index 999 out of range/,
    );
  });

  it("parses the readers directly", () => {
    const elf = new ElfFile(m);
    expect(elf.sections.map((s) => s.name)).toEqual(["", "xdp", ".symtab", ".strtab", ".shstrtab"]);
    const syms = elf.readSymbols(elf.sections[2]);
    expect(syms[1]).toMatchObject({
      name: "p",
      bind: Y.GLOBAL,
      type: Y.FUNC,
      shndx: 1,
      value: 0,
      size: 16,
    });
  });
});

/** Deterministic PRNG (xorshift32). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** Byte ranges holding structure (headers, tables, BTF, relocations, code), not DWARF. */
function structuredRegions(b: Uint8Array): [number, number][] {
  const elf = new ElfFile(b);
  const regions: [number, number][] = [
    [0, 64],
    [shoff(b), elf.sections.length * 64],
  ];
  for (const s of elf.sections)
    if (s.data.length > 0 && !s.name.startsWith(".debug") && !s.name.startsWith(".rel.debug"))
      regions.push([s.offset, Math.min(s.data.length, 4096)]);
  return regions;
}

describe.each(FIXTURES)("hostile variants of %s", (f) => {
  const orig = fixture(f);

  it("loads unmodified", () => {
    expect(attempt(orig)).toBeUndefined();
  });

  it("gives a LoadError when truncated at every 97th byte", () => {
    for (let len = 0; len < orig.length; len += 97)
      expect(attempt(orig.subarray(0, len))).toBeInstanceOf(LoadError);
  });

  it("never throws anything but a LoadError when header and table bytes are flipped", () => {
    const next = rng(0x5eed + orig.length);
    const regions = structuredRegions(orig);
    for (let i = 0; i < 1500; i++) {
      const b = orig.slice();
      const v = new DataView(b.buffer);
      for (let k = 1 + (next() % 3); k > 0; k--) {
        const [start, len] = regions[next() % regions.length];
        const pos = start + (next() % len);
        switch (next() % 5) {
          case 0:
            b[pos] = next() & 0xff;
            break;
          case 1:
            b[pos] ^= 1 << (next() % 8);
            break;
          case 2:
            b[pos] = 0xff;
            break;
          case 3:
            b[pos] = 0;
            break;
          default:
            if ((pos & ~3) + 4 <= b.length)
              v.setUint32(
                pos & ~3,
                [0xffffffff, 0x7fffffff, 0x80000000, 1, 8, 0x1000][next() % 6],
                true,
              );
        }
      }
      attempt(b);
    }
  });

  it("never throws anything but a LoadError when offsets, sizes and counts are inflated", () => {
    const elf = new ElfFile(orig);
    const big = [
      0xffffffffffffffffn,
      0x8000000000000000n,
      0xffffffffn,
      0x7fffffffn,
      BigInt(orig.length),
      BigInt(orig.length + 8),
    ];
    const base = shoff(orig);
    for (let i = 1; i < elf.sections.length; i++)
      for (const field of [24, 32, 56])
        for (const v of big) attempt(u64(orig, base + i * 64 + field, v));
    for (const field of [40, 44])
      for (let i = 1; i < elf.sections.length; i++)
        attempt(u32(orig, base + i * 64 + field, 0xffff));
    for (const v of [0, 1, 0xffff]) attempt(u16(orig, 60, v));
    // symbol values and sizes, relocation offsets and symbol indices
    for (const s of elf.sections) {
      if (s.type === S.SYMTAB)
        for (let o = 24; o < s.data.length; o += 24 * 7) {
          attempt(u64(orig, s.offset + o + 8, 0xfffffffffffffff8n));
          attempt(u64(orig, s.offset + o + 16, 0x7ffffffffffffff8n));
          attempt(u16(orig, s.offset + o + 6, 0xfff0));
        }
      if (s.type === S.REL)
        for (let o = 0; o < s.data.length; o += 16) {
          attempt(u64(orig, s.offset + o, 0xfffffffffffffff8n));
          attempt(u32(orig, s.offset + o + 12, 0xffffff));
        }
      if (s.name === ".BTF" || s.name === ".BTF.ext")
        for (let o = 4; o < 32 && o < s.data.length; o += 4)
          for (const v of [0xffffffff, 0x7ffffffc, s.data.length])
            attempt(u32(orig, s.offset + o, v));
    }
  });
});
