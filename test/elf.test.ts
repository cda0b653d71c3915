// The object loader on clang-built objects (test/elf-fixtures, rebuilt by build.sh there).
// Expected instructions were checked against libbpf: the same object opened and loaded with
// libbpf 1.1 gives byte-identical linked programs (map fds replaced by map indices).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  BPF_F_MMAPABLE,
  BPF_F_NO_PREALLOC,
  BPF_F_RDONLY_PROG,
  BPF_MAP_TYPE_ARRAY,
  BPF_MAP_TYPE_ARRAY_OF_MAPS,
  BPF_MAP_TYPE_BLOOM_FILTER,
  BPF_MAP_TYPE_HASH,
  BPF_MAP_TYPE_HASH_OF_MAPS,
  BPF_MAP_TYPE_LPM_TRIE,
  BPF_MAP_TYPE_PROG_ARRAY,
  BPF_MAP_TYPE_RINGBUF,
  BPF_PROG_TYPE_SCHED_CLS,
  BPF_PROG_TYPE_SOCKET_FILTER,
  BPF_PROG_TYPE_XDP,
  BPF_XDP,
  LoadError,
  loadCollectionSpec,
  type CollectionSpec,
  type ProgramSpec,
} from "../src/elf/index.js";

const dir = fileURLToPath(new URL("./elf-fixtures/", import.meta.url));
const bytes = (f: string): Uint8Array => new Uint8Array(readFileSync(dir + f));
const load = (f: string): CollectionSpec => loadCollectionSpec(bytes(f), { name: dir + f });
const hexInsns = (p: ProgramSpec): string[] =>
  Array.from({ length: p.insns.length / 8 }, (_, i) =>
    Buffer.from(p.insns.subarray(i * 8, i * 8 + 8)).toString("hex"),
  );
const prog = (spec: CollectionSpec, name: string): ProgramSpec => {
  const p = spec.programs.find((x) => x.name === name);
  if (!p) throw new Error(`no program ${name}`);
  return p;
};
/** Every lddw of a program: [insn, src_reg, imm, second imm]. */
const lddws = (p: ProgramSpec): number[][] => {
  const v = new DataView(p.insns.buffer, p.insns.byteOffset, p.insns.byteLength);
  const out: number[][] = [];
  for (let i = 0; i < p.insns.length / 8; i++)
    if (p.insns[i * 8] === 0x18) {
      out.push([
        i,
        p.insns[i * 8 + 1] >> 4,
        v.getInt32(i * 8 + 4, true),
        v.getInt32(i * 8 + 12, true),
      ]);
      i++;
    }
  return out;
};
/** Line info must quote the source line it names. */
const checkLineText = (p: ProgramSpec, src: string): void => {
  const lines = readFileSync(dir + src, "utf8").split("\n");
  expect(p.lineInfo.length).toBeGreaterThan(0);
  for (const li of p.lineInfo) {
    expect(li.file.endsWith(src)).toBe(true);
    expect(li.text).toBe(lines[li.line - 1]);
    expect(li.insn).toBeGreaterThanOrEqual(0);
    expect(li.insn).toBeLessThan(p.insns.length / 8);
  }
};

const SUB_A_B = [
  "8510000002000000", // sub_a: call sub_b
  "0400000002000000",
  "9500000000000000",
  "bc10000000000000", // sub_b
  "2400000003000000",
  "0400000001000000",
  "9500000000000000",
];

describe("subprogram linking (calls.bpf.o)", () => {
  const spec = load("calls.bpf.o");

  it("finds entry programs in libbpf order, with section, type and autoload", () => {
    expect(spec.name).toBe("calls");
    expect(spec.license).toBe("GPL");
    expect(spec.kernelVersion).toBeUndefined();
    expect(spec.maps).toEqual([]);
    expect(spec.programs.map((p) => [p.name, p.section, p.autoload, p.progType, p.global])).toEqual(
      [
        ["main_a", "xdp", true, BPF_PROG_TYPE_XDP, true],
        ["main_b", "xdp", true, BPF_PROG_TYPE_XDP, true],
        ["with_loop", "tc", true, BPF_PROG_TYPE_SCHED_CLS, true],
        ["lazy", "socket", false, BPF_PROG_TYPE_SOCKET_FILTER, true],
      ],
    );
    expect(prog(spec, "main_a").expectedAttachType).toBe(BPF_XDP);
  });

  it("appends transitively called subprograms depth-first with pc-relative calls", () => {
    const a = prog(spec, "main_a");
    expect(hexInsns(a)).toEqual([
      "61110c0000000000",
      "8510000001000000",
      "9500000000000000",
      ...SUB_A_B,
    ]);
    expect(a.funcs).toEqual([
      { name: "main_a", start: 0, global: true },
      { name: "sub_a", start: 3, global: false },
      { name: "sub_b", start: 6, global: false },
    ]);
    const b = prog(spec, "main_b");
    expect(hexInsns(b)).toEqual([
      "6111100000000000",
      "8510000001000000",
      "9500000000000000",
      "8510000002000000", // sub_c (global): call sub_b
      "04000000fbffffff",
      "9500000000000000",
      ...SUB_A_B.slice(3),
    ]);
    expect(b.funcs.map((f) => [f.name, f.global])).toEqual([
      ["main_b", true],
      ["sub_c", true],
      ["sub_b", false],
    ]);
  });

  it("relocates a bpf_loop callback address (lddw src=4, pc-relative)", () => {
    const p = prog(spec, "with_loop");
    expect(p.funcs).toEqual([
      { name: "with_loop", start: 0, global: true },
      { name: "loop_cb", start: 11, global: false },
    ]);
    expect(lddws(p)).toEqual([[5, 4, 5, 0]]); // 5 + 5 + 1 = 11
    expect(hexInsns(p)[8]).toBe("85000000b5000000"); // helper call 181 untouched
  });

  it("maps func_info and line_info onto linked instructions", () => {
    for (const p of spec.programs) {
      expect(p.funcInfo.map((f) => [f.insn, f.name])).toEqual(
        p.funcs.map((f) => [f.start, f.name]),
      );
      checkLineText(p, "calls.bpf.c");
    }
    const a = prog(spec, "main_a");
    expect(a.lineInfo[0]).toMatchObject({ insn: 0, text: "\treturn sub_a(ctx->ingress_ifindex);" });
    expect(a.lineInfo.find((l) => l.insn === 3)?.text).toBe("\treturn sub_b(x) + 2;");
    expect(a.lineInfo.find((l) => l.insn === 7)?.text).toBe("\treturn x * 3 + 1;");
    expect(a.coreRelos).toEqual([]);
  });

  it.each(["calls.v1.bpf.o", "calls.v2.bpf.o", "calls.v4.bpf.o"])("loads %s alike", (f) => {
    const other = load(f);
    expect(other.name).toBe("calls");
    expect(other.programs.map((p) => [p.name, p.funcs.map((x) => x.name)])).toEqual(
      spec.programs.map((p) => [p.name, p.funcs.map((x) => x.name)]),
    );
    const cb = prog(other, "with_loop");
    const [[at, src, imm]] = lddws(cb);
    expect(src).toBe(4);
    expect(at + imm + 1).toBe(cb.funcs[1].start);
  });
});

describe("-O0 subprograms (o0.bpf.o)", () => {
  it("links static and global subprograms and relocates .bss", () => {
    const spec = load("o0.bpf.o");
    const p = prog(spec, "o0_prog");
    expect(p.funcs).toEqual([
      { name: "o0_prog", start: 0, global: true },
      { name: "twice", start: 9, global: false },
      { name: "add", start: 14, global: true },
    ]);
    const h = hexInsns(p);
    expect(h[3]).toBe("8510000005000000"); // call twice: 3 + 5 + 1 = 9
    expect(h[12]).toBe("8510000001000000"); // twice: call add: 12 + 1 + 1 = 14
    expect(lddws(p)).toEqual([[4, 2, 0, 0]]);
    expect(spec.maps.map((m) => [m.name, m.valueSize, m.flags])).toEqual([
      ["o0.bss", 4, BPF_F_MMAPABLE],
    ]);
    checkLineText(p, "o0.bpf.c");
  });
});

describe("maps and global data (globals.bpf.o)", () => {
  const spec = load("globals.bpf.o");

  it("reads BTF-defined maps", () => {
    expect(spec.license).toBe("Dual BSD/GPL");
    expect(spec.kernelVersion).toBe(0x060c00);
    const [counts, sizes, bloom, events, lpm] = spec.maps;
    expect(counts).toEqual({
      name: "counts",
      type: BPF_MAP_TYPE_HASH,
      keySize: 8,
      valueSize: 24,
      maxEntries: 1024,
      flags: BPF_F_NO_PREALLOC,
      section: ".maps",
      readonlyProg: false,
      keyTypeId: counts.keyTypeId,
      valueTypeId: counts.valueTypeId,
    });
    expect(spec.btf?.typeToString(counts.keyTypeId ?? 0)).toBe("struct key");
    expect(spec.btf?.typeToString(counts.valueTypeId ?? 0)).toBe("struct val");
    expect(sizes).toMatchObject({ type: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, pinning: 1 });
    expect(sizes.keyTypeId).toBeUndefined();
    expect(bloom).toMatchObject({
      type: BPF_MAP_TYPE_BLOOM_FILTER,
      keySize: 0,
      valueSize: 4,
      mapExtra: 3,
    });
    expect(events).toMatchObject({ type: BPF_MAP_TYPE_RINGBUF, maxEntries: 8192 }); // 5000 rounded
    expect(lpm).toMatchObject({ type: BPF_MAP_TYPE_LPM_TRIE, keySize: 8, flags: 1, numaNode: 0 });
  });

  it("makes global data sections single-entry arrays named as libbpf names them", () => {
    const data = spec.maps.slice(5).map((m) => ({
      name: m.name,
      section: m.section,
      type: m.type,
      keySize: m.keySize,
      valueSize: m.valueSize,
      maxEntries: m.maxEntries,
      flags: m.flags,
      readonlyProg: m.readonlyProg,
      init: Buffer.from(m.initialValue ?? []).toString("hex"),
      typed: m.valueTypeId !== undefined,
    }));
    const arr = { type: BPF_MAP_TYPE_ARRAY, keySize: 4, maxEntries: 1 };
    expect(data).toEqual([
      {
        name: "globals.data",
        section: ".data",
        ...arr,
        valueSize: 4,
        flags: BPF_F_MMAPABLE,
        readonlyProg: false,
        init: "07000000",
        typed: true,
      },
      {
        name: "globals.rodata",
        section: ".rodata",
        ...arr,
        valueSize: 14,
        flags: BPF_F_MMAPABLE | BPF_F_RDONLY_PROG,
        readonlyProg: true,
        init: "2a0000006869747320256c6c7500",
        typed: true,
      },
      {
        name: ".data.custom",
        section: ".data.custom",
        ...arr,
        valueSize: 4,
        flags: BPF_F_MMAPABLE,
        readonlyProg: false,
        init: "cdab0000",
        typed: true,
      },
      {
        name: "globals.bss",
        section: ".bss",
        ...arr,
        valueSize: 12,
        flags: BPF_F_MMAPABLE,
        readonlyProg: false,
        init: "00".repeat(12),
        typed: true,
      },
      {
        name: ".rodata.str1.1",
        section: ".rodata.str1.1",
        ...arr,
        valueSize: 12,
        flags: BPF_F_RDONLY_PROG,
        readonlyProg: true,
        init: Buffer.from("literal %d\n\0").toString("hex"),
        typed: false,
      },
    ]);
    const bssType = spec.btf?.types[spec.maps[8].valueTypeId ?? 0];
    expect(bssType?.name).toBe(".bss");
  });

  it("relocates map and global data references in lddw", () => {
    const p = prog(spec, "prog");
    expect(lddws(p)).toEqual([
      [6, 1, 0, 0], // &counts
      [14, 1, 1, 0], // &sizes
      [25, 2, 8, 8], // hidden_bss: .bss + 8 (static: section symbol + addend)
      [30, 2, 8, 0], // hits
      [35, 2, 6, 0], // limit (.rodata)
      [38, 2, 7, 0], // custom_val (.data.custom)
      [42, 2, 5, 0], // counter (.data)
      [47, 2, 6, 4], // bpf_printk format: .rodata + 4
      [52, 2, 9, 0], // string literal in .rodata.str1.1
      [58, 1, 2, 0], // &bloom
      [63, 1, 3, 0], // &events
      [69, 1, 4, 0], // &lpm
    ]);
    expect(p.funcInfo).toEqual([{ insn: 0, typeId: p.funcInfo[0].typeId, name: "prog" }]);
    checkLineText(p, "globals.bpf.c");
  });

  it("gives each load a fresh copy of initial values", () => {
    const again = load("globals.bpf.o");
    again.maps[5].initialValue?.fill(0xff);
    expect(load("globals.bpf.o").maps[5].initialValue).toEqual(Uint8Array.of(7, 0, 0, 0));
  });

  it("names global data maps after the object name option", () => {
    const named = loadCollectionSpec(bytes("globals.bpf.o"), { name: "/x/my_object_name.bpf.o" });
    expect(named.name).toBe("my_object_name");
    expect(named.maps.slice(5).map((m) => m.name)).toEqual([
      "my_objec.data",
      "my_objec.rodata",
      ".data.custom",
      "my_objec.bss",
      ".rodata.str1.1",
    ]);
    expect(loadCollectionSpec(bytes("globals.bpf.o")).maps[8].name).toBe("obj.bss");
  });
});

describe("static slot initialisation (tailmaps.bpf.o)", () => {
  const spec = load("tailmaps.bpf.o");

  it("fills prog_array slots with program names", () => {
    const jmp = spec.maps.find((m) => m.name === "jmp");
    expect(jmp).toMatchObject({
      type: BPF_MAP_TYPE_PROG_ARRAY,
      keySize: 4,
      valueSize: 4,
      maxEntries: 8,
    });
    expect(jmp?.initialSlots).toEqual([
      { key: 2, target: "tail_1" },
      { key: 7, target: "tail_2" },
    ]);
    expect(spec.programs.map((p) => p.name)).toEqual(["tail_1", "tail_2", "entry"]);
    expect(lddws(prog(spec, "entry"))).toEqual([[0, 1, 4, 0]]);
  });

  it("reads inner map templates and map-in-map slots", () => {
    const outer = spec.maps.find((m) => m.name === "outer");
    const inner = {
      name: "outer.inner",
      type: BPF_MAP_TYPE_ARRAY,
      keySize: 4,
      valueSize: 8,
      maxEntries: 2,
      flags: 0,
      section: ".maps",
      readonlyProg: false,
    };
    expect(outer).toMatchObject({
      type: BPF_MAP_TYPE_ARRAY_OF_MAPS,
      keySize: 4,
      valueSize: 4,
      maxEntries: 4,
    });
    expect(outer?.innerMap).toMatchObject(inner);
    expect(outer?.initialSlots).toEqual([
      { key: 0, target: "inner_a" },
      { key: 3, target: "inner_b" },
    ]);
    const hash = spec.maps.find((m) => m.name === "outer_hash");
    expect(hash).toMatchObject({ type: BPF_MAP_TYPE_HASH_OF_MAPS, maxEntries: 8 });
    expect(hash?.innerMap).toMatchObject({ ...inner, name: "outer_hash.inner" });
    expect(hash?.initialSlots).toEqual([{ key: 5, target: "inner_b" }]);
  });
});

describe("legacy maps section (legacy.bpf.o)", () => {
  it.each(["legacy.bpf.o", "legacy.nobtf.bpf.o"])("reads struct bpf_map_def from %s", (f) => {
    const spec = load(f);
    expect(spec.maps).toEqual([
      {
        name: "legacy_hash",
        type: BPF_MAP_TYPE_HASH,
        keySize: 4,
        valueSize: 8,
        maxEntries: 64,
        flags: 0,
        section: "maps",
        readonlyProg: false,
      },
      {
        name: "legacy_array",
        type: BPF_MAP_TYPE_ARRAY,
        keySize: 4,
        valueSize: 4,
        maxEntries: 2,
        flags: 0,
        section: "maps",
        readonlyProg: false,
      },
    ]);
    const p = prog(spec, "sock");
    expect(lddws(p)).toEqual([
      [4, 1, 0, 0],
      [9, 1, 1, 0],
    ]);
    expect(p.progType).toBe(BPF_PROG_TYPE_SOCKET_FILTER);
    if (f === "legacy.nobtf.bpf.o") {
      expect(spec.btf).toBeUndefined();
      expect(p.lineInfo).toEqual([]);
      expect(p.funcInfo).toEqual([]);
    }
  });
});

describe("what libbpf refuses", () => {
  const code = (f: string): string => {
    try {
      load(f);
    } catch (e) {
      expect(e).toBeInstanceOf(LoadError);
      return `${(e as LoadError).code}: ${(e as LoadError).message}`;
    }
    throw new Error("loaded");
  };

  it("refuses a static function in a program section", () => {
    expect(code("static_prog.bpf.o")).toBe(
      'UNSUPPORTED: section "xdp" (index 3): program "hidden" is static and not supported ' +
        "(libbpf refuses static functions outside .text; drop 'static' or move it to .text)",
    );
  });

  it("refuses .kconfig externs, naming the extern", () => {
    expect(code("kconfig.bpf.o")).toMatch(
      /^UNSUPPORTED: section "xdp" \(index \d+\): relocation at offset 0x0 \(insn 0 of "kver"\) against "LINUX_KERNEL_VERSION": extern/,
    );
  });
});

/** Invariants every loaded object must satisfy, whatever it contains. */
function checkInvariants(spec: CollectionSpec): void {
  for (const p of spec.programs) {
    const n = p.insns.length / 8;
    const v = new DataView(p.insns.buffer, p.insns.byteOffset, p.insns.byteLength);
    expect(p.funcs[0]).toMatchObject({ name: p.name, start: 0 });
    const starts = new Set(p.funcs.map((f) => f.start));
    for (let i = 0; i < n; i++) {
      const op = p.insns[i * 8];
      const src = p.insns[i * 8 + 1] >> 4;
      const imm = v.getInt32(i * 8 + 4, true);
      if (op === 0x85 && src === 1) expect(starts.has(i + imm + 1)).toBe(true);
      if (op === 0x18) {
        if (src === 4) expect(starts.has(i + imm + 1)).toBe(true);
        if (src === 1 || src === 2) expect(imm).toBeLessThan(spec.maps.length);
        if (src === 2)
          expect(v.getInt32(i * 8 + 12, true)).toBeLessThanOrEqual(spec.maps[imm].valueSize);
        i++;
      }
    }
    for (const li of p.lineInfo) expect(li.insn).toBeLessThan(n);
    if (spec.btfExt) expect(p.funcInfo.map((f) => f.insn)).toEqual(p.funcs.map((f) => f.start));
  }
  for (const m of spec.maps)
    for (const s of m.initialSlots ?? [])
      expect(
        m.type === BPF_MAP_TYPE_PROG_ARRAY
          ? spec.programs.some((p) => p.name === s.target)
          : spec.maps.some((x) => x.name === s.target),
      ).toBe(true);
}

describe("every object loads consistently", () => {
  const shared = fileURLToPath(new URL("./fixtures/", import.meta.url));
  const objects = [
    ...readdirSync(dir)
      .filter((f) => f.endsWith(".o") && !/static_prog|kconfig/.test(f))
      .map((f) => dir + f),
    ...(existsSync(shared) ? readdirSync(shared).filter((f) => f.endsWith(".o")) : []).map(
      (f) => shared + f,
    ),
  ];
  it.each(objects)("%s", (path) => {
    checkInvariants(loadCollectionSpec(new Uint8Array(readFileSync(path)), { name: path }));
  });
});

describe("input buffers", () => {
  it("loads from a Node Buffer without writing into it", async () => {
    const { readFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const file = join(import.meta.dirname, "..", "examples", "fib", "fib.bpf.o");
    const buf = readFileSync(file);
    const before = Buffer.from(buf);
    const spec = loadCollectionSpec(buf, { name: "fib.bpf.o" });
    expect(spec.programs.length).toBeGreaterThan(0);
    expect(Buffer.compare(buf, before)).toBe(0);
    // and twice from the same buffer gives the same program
    expect(loadCollectionSpec(buf, { name: "fib.bpf.o" }).programs[0].insns).toEqual(
      spec.programs[0].insns,
    );
  });
});
