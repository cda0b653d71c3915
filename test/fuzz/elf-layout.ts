/**
 * Where the interesting fields of a well-formed eBPF ELF object are: the ELF header, every
 * section header, symbol, relocation and instruction, the `.BTF` header and type records, the
 * `.BTF.ext` header and record tables. The mutators aim at these fields (counts, sizes,
 * offsets, indices) rather than at random bytes, so most mutants get past the magic checks and
 * reach the deep parts of the loader.
 *
 * Only reads objects known to be well formed (the fixtures); it is not hardened itself.
 */

/** What a field means, which decides the values a mutator tries. */
export type FieldKind =
  /** A byte offset into the file or a section. */
  | "offset"
  /** A byte size or length. */
  | "size"
  /** A number of items. */
  | "count"
  /** An index into a table (section, symbol, type, string). */
  | "index"
  /** A type, kind, flag, opcode or other enumerated value. */
  | "enum"
  /** Anything else (values, immediates). */
  | "value";

/** One field of the object. */
export interface Field {
  /** Byte offset in the file. */
  at: number;
  /** Width in bytes (1, 2, 4 or 8). */
  width: 1 | 2 | 4 | 8;
  /** What it means. */
  kind: FieldKind;
  /** Name for reports, e.g. `shdr[3].sh_size` or `.BTF type[12].info`. */
  name: string;
}

/** A section as the layout sees it. */
export interface LayoutSection {
  index: number;
  name: string;
  type: number;
  offset: number;
  size: number;
}

/** The fields of one object. */
export interface ElfLayout {
  /** File size. */
  size: number;
  sections: LayoutSection[];
  fields: Field[];
}

const SHT_SYMTAB = 2;
const SHT_REL = 9;
const SHF_EXECINSTR = 4;

const BTF_KIND_INT = 1;
const BTF_KIND_ARRAY = 3;
const BTF_KIND_STRUCT = 4;
const BTF_KIND_UNION = 5;
const BTF_KIND_ENUM = 6;
const BTF_KIND_FUNC_PROTO = 13;
const BTF_KIND_VAR = 14;
const BTF_KIND_DATASEC = 15;
const BTF_KIND_DECL_TAG = 17;
const BTF_KIND_ENUM64 = 19;

/** Parses the layout of a well-formed ELF64 little-endian object. */
export function elfLayout(bytes: Uint8Array): ElfLayout {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fields: Field[] = [];
  const f = (at: number, width: Field["width"], kind: FieldKind, name: string): void => {
    if (at + width <= bytes.length) fields.push({ at, width, kind, name });
  };
  f(16, 2, "enum", "e_type");
  f(18, 2, "enum", "e_machine");
  f(20, 4, "enum", "e_version");
  f(32, 8, "offset", "e_phoff");
  f(40, 8, "offset", "e_shoff");
  f(48, 4, "enum", "e_flags");
  f(52, 2, "size", "e_ehsize");
  f(54, 2, "size", "e_phentsize");
  f(56, 2, "count", "e_phnum");
  f(58, 2, "size", "e_shentsize");
  f(60, 2, "count", "e_shnum");
  f(62, 2, "index", "e_shstrndx");

  const shoff = Number(v.getBigUint64(40, true));
  const shnum = v.getUint16(60, true);
  const shstrndx = v.getUint16(62, true);
  const raw: { name: number; type: number; flags: number; offset: number; size: number }[] = [];
  for (let i = 0; i < shnum; i++) {
    const h = shoff + i * 64;
    const s = `shdr[${i}]`;
    f(h, 4, "index", `${s}.sh_name`);
    f(h + 4, 4, "enum", `${s}.sh_type`);
    f(h + 8, 8, "enum", `${s}.sh_flags`);
    f(h + 24, 8, "offset", `${s}.sh_offset`);
    f(h + 32, 8, "size", `${s}.sh_size`);
    f(h + 40, 4, "index", `${s}.sh_link`);
    f(h + 44, 4, "index", `${s}.sh_info`);
    f(h + 48, 8, "size", `${s}.sh_addralign`);
    f(h + 56, 8, "size", `${s}.sh_entsize`);
    raw.push({
      name: v.getUint32(h, true),
      type: v.getUint32(h + 4, true),
      flags: Number(v.getBigUint64(h + 8, true)),
      offset: Number(v.getBigUint64(h + 24, true)),
      size: Number(v.getBigUint64(h + 32, true)),
    });
  }
  const strtab = raw[shstrndx];
  const cstr = (base: number, off: number): string => {
    let end = base + off;
    while (end < bytes.length && bytes[end] !== 0) end++;
    return new TextDecoder().decode(bytes.subarray(base + off, end));
  };
  const sections: LayoutSection[] = raw.map((r, index) => ({
    index,
    name: strtab ? cstr(strtab.offset, r.name) : "",
    type: r.type,
    offset: r.offset,
    size: r.size,
  }));

  for (const s of sections) {
    const r = raw[s.index];
    if (s.type === SHT_SYMTAB) {
      for (let o = 0, i = 0; o + 24 <= s.size; o += 24, i++) {
        const a = s.offset + o;
        const n = `sym[${i}]`;
        f(a, 4, "index", `${n}.st_name`);
        f(a + 4, 1, "enum", `${n}.st_info`);
        f(a + 5, 1, "enum", `${n}.st_other`);
        f(a + 6, 2, "index", `${n}.st_shndx`);
        f(a + 8, 8, "offset", `${n}.st_value`);
        f(a + 16, 8, "size", `${n}.st_size`);
      }
    } else if (s.type === SHT_REL) {
      for (let o = 0, i = 0; o + 16 <= s.size; o += 16, i++) {
        const a = s.offset + o;
        const n = `${s.name}[${i}]`;
        f(a, 8, "offset", `${n}.r_offset`);
        f(a + 8, 4, "enum", `${n}.r_type`);
        f(a + 12, 4, "index", `${n}.r_sym`);
      }
    } else if (r.flags & SHF_EXECINSTR) {
      for (let o = 0, i = 0; o + 8 <= s.size; o += 8, i++) {
        const a = s.offset + o;
        const n = `${s.name} insn ${i}`;
        f(a, 1, "enum", `${n}.code`);
        f(a + 1, 1, "enum", `${n}.regs`);
        f(a + 2, 2, "offset", `${n}.off`);
        f(a + 4, 4, "value", `${n}.imm`);
      }
    } else if (s.name === ".BTF") {
      btfFields(v, s, f);
    } else if (s.name === ".BTF.ext") {
      btfExtFields(v, s, f);
    } else if (s.name === ".maps" || s.name === "maps") {
      for (let o = 0; o + 4 <= s.size; o += 4) f(s.offset + o, 4, "count", `${s.name}+${o}`);
    }
  }
  return { size: bytes.length, sections, fields };
}

type Add = (at: number, width: Field["width"], kind: FieldKind, name: string) => void;

function btfFields(v: DataView, s: LayoutSection, f: Add): void {
  const b = s.offset;
  if (s.size < 24) return;
  f(b, 2, "enum", ".BTF magic");
  f(b + 2, 1, "enum", ".BTF version");
  f(b + 3, 1, "enum", ".BTF flags");
  f(b + 4, 4, "size", ".BTF hdr_len");
  f(b + 8, 4, "offset", ".BTF type_off");
  f(b + 12, 4, "size", ".BTF type_len");
  f(b + 16, 4, "offset", ".BTF str_off");
  f(b + 20, 4, "size", ".BTF str_len");
  const hdrLen = v.getUint32(b + 4, true);
  const start = b + hdrLen + v.getUint32(b + 8, true);
  const end = start + v.getUint32(b + 12, true);
  let o = start;
  for (let id = 1; o + 12 <= end; id++) {
    const n = `.BTF type[${id}]`;
    f(o, 4, "index", `${n}.name_off`);
    f(o + 4, 4, "enum", `${n}.info`);
    f(o + 6, 2, "count", `${n}.vlen`);
    f(o + 8, 4, "index", `${n}.size_type`);
    const info = v.getUint32(o + 4, true);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    o += 12;
    let extra = 0;
    let member = 0;
    switch (kind) {
      case BTF_KIND_INT:
      case BTF_KIND_VAR:
      case BTF_KIND_DECL_TAG:
        extra = 4;
        break;
      case BTF_KIND_ARRAY:
        f(o, 4, "index", `${n}.elem_type`);
        f(o + 4, 4, "index", `${n}.index_type`);
        f(o + 8, 4, "count", `${n}.nelems`);
        extra = 12;
        break;
      case BTF_KIND_STRUCT:
      case BTF_KIND_UNION:
      case BTF_KIND_DATASEC:
      case BTF_KIND_ENUM64:
        member = 12;
        break;
      case BTF_KIND_ENUM:
      case BTF_KIND_FUNC_PROTO:
        member = 8;
        break;
    }
    if (member > 0) {
      for (let m = 0; m < vlen; m++) {
        const a = o + m * member;
        f(a, 4, "index", `${n}.member[${m}].0`);
        f(a + 4, 4, kind === BTF_KIND_ENUM ? "value" : "index", `${n}.member[${m}].1`);
        if (member === 12) f(a + 8, 4, "offset", `${n}.member[${m}].2`);
      }
      extra = member * vlen;
    }
    o += extra;
  }
}

function btfExtFields(v: DataView, s: LayoutSection, f: Add): void {
  const b = s.offset;
  if (s.size < 24) return;
  f(b, 2, "enum", ".BTF.ext magic");
  f(b + 2, 1, "enum", ".BTF.ext version");
  f(b + 4, 4, "size", ".BTF.ext hdr_len");
  const hdrLen = v.getUint32(b + 4, true);
  const tables: [string, number][] = [
    ["func_info", 8],
    ["line_info", 16],
    ["core_relo", 24],
  ];
  for (const [name, at] of tables) {
    if (at + 8 > hdrLen) break;
    f(b + at, 4, "offset", `.BTF.ext ${name}_off`);
    f(b + at + 4, 4, "size", `.BTF.ext ${name}_len`);
    const off = b + hdrLen + v.getUint32(b + at, true);
    const len = v.getUint32(b + at + 4, true);
    if (len < 4) continue;
    f(off, 4, "size", `.BTF.ext ${name} rec_size`);
    const rec = v.getUint32(off, true);
    let o = off + 4;
    for (let sec = 0; o + 8 <= off + len && rec > 0; sec++) {
      f(o, 4, "index", `.BTF.ext ${name}[${sec}].sec_name_off`);
      f(o + 4, 4, "count", `.BTF.ext ${name}[${sec}].num_info`);
      const num = v.getUint32(o + 4, true);
      o += 8;
      for (let r = 0; r < num && o + rec <= off + len; r++, o += rec) {
        for (let w = 0; w + 4 <= rec; w += 4) {
          f(o + w, 4, w === 0 ? "offset" : "index", `.BTF.ext ${name}[${sec}][${r}]+${w}`);
        }
      }
    }
  }
}
