/**
 * A strict reader for 64-bit little-endian ELF relocatable objects for the BPF machine
 * (EM_BPF): header, section headers and names, symbols, and `SHT_REL` relocations.
 *
 * Every offset, size, index and count read from the file is checked against the file before it
 * is used, so a malformed file ends in a {@link LoadError}, never in a `RangeError`, a hang or
 * an allocation sized by a count in the file.
 */
import { LoadError, hex } from "./errors.js";

export * from "./elf-constants.js";
import {
  EM_BPF,
  ET_REL,
  SHN_XINDEX,
  SHT_NOBITS,
  SHT_NULL,
  SHT_STRTAB,
  SHT_SYMTAB_SHNDX,
} from "./elf-constants.js";

const EHDR_SIZE = 64;
const SHDR_SIZE = 64;
/** Size of an `Elf64_Sym`. */
export const SYM_SIZE = 24;
/** Size of an `Elf64_Rel`. */
export const REL_SIZE = 16;

/** One section header, with its name and a view of its bytes. */
export interface ElfSection {
  /** Index in the section header table. */
  index: number;
  /** Name from the section header string table. */
  name: string;
  /** `sh_type`. */
  type: number;
  /** Low 32 bits of `sh_flags` (every defined flag lives there). */
  flags: number;
  /** `sh_offset`: where the bytes start in the file. */
  offset: number;
  /** `sh_size` in bytes (for SHT_NOBITS, the run-time size; no file bytes). */
  size: number;
  /** `sh_link`. */
  link: number;
  /** `sh_info` (for relocation sections: the index of the section they apply to). */
  info: number;
  /** `sh_addralign`. */
  addralign: number;
  /** `sh_entsize`. */
  entsize: number;
  /** The section's bytes in the file (a view, not a copy); empty for SHT_NOBITS. */
  data: Uint8Array;
}

/** One `Elf64_Sym`, decoded. */
export interface ElfSymbol {
  /** Index in the symbol table. */
  index: number;
  /** Name from the linked string table ("" for none). */
  name: string;
  /** `st_name`: offset of the name in the string table. */
  nameOffset: number;
  /** Binding (`STB_*`), the high four bits of `st_info`. */
  bind: number;
  /** Type (`STT_*`), the low four bits of `st_info`. */
  type: number;
  /** Visibility (`STV_*`), the low two bits of `st_other`. */
  visibility: number;
  /** Section index (`st_shndx`, with SHN_XINDEX resolved). */
  shndx: number;
  /** `st_value` (for relocatable objects: the offset in its section). */
  value: number;
  /** `st_size` in bytes. */
  size: number;
}

/** One `Elf64_Rel`, decoded. */
export interface ElfRelocation {
  /** `r_offset`: byte offset in the section the relocations apply to. */
  offset: number;
  /** Symbol index (`ELF64_R_SYM`). */
  symbol: number;
  /** Relocation type (`ELF64_R_TYPE`, `R_BPF_*`). */
  type: number;
}

const utf8 = new TextDecoder("utf-8");

/** Reads a u64 as a JS number (exact below 2^53; larger values stay larger than any file). */
function u64(view: DataView, off: number): number {
  return view.getUint32(off, true) + view.getUint32(off + 4, true) * 0x1_0000_0000;
}

/** Describes a section for error messages: `section ".text" (index 3)`. */
export function describeSection(s: { name: string; index: number }): string {
  return s.name ? `section ${JSON.stringify(s.name)} (index ${s.index})` : `section #${s.index}`;
}

/** A parsed ELF64 little-endian EM_BPF object. */
export class ElfFile {
  /** The whole file. */
  readonly bytes: Uint8Array;
  /** `e_type` (always ET_REL = 1: only relocatable objects are accepted). */
  readonly type: number;
  /** `e_flags`. */
  readonly flags: number;
  /** Every section header, index 0 (the null section) included. */
  readonly sections: ElfSection[];
  private readonly view: DataView;

  /**
   * Parses the header and the section header table.
   * @throws LoadError for any malformed or non-BPF input
   */
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const len = bytes.length;
    if (len < 4 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46)
      throw new LoadError("ELF_MAGIC", "not an ELF file: bad magic (expected 7f 45 4c 46)", {
        offset: 0,
      });
    if (len < EHDR_SIZE)
      throw new LoadError(
        "ELF_TRUNCATED",
        `ELF header: file is ${len} bytes, the header needs ${EHDR_SIZE}`,
        { offset: 0 },
      );
    if (bytes[4] !== 2)
      throw new LoadError("ELF_CLASS", `ELF header: class ${bytes[4]} is not ELFCLASS64 (2)`, {
        offset: 4,
      });
    if (bytes[5] !== 1)
      throw new LoadError(
        "ELF_CLASS",
        `ELF header: data encoding ${bytes[5]} is not little-endian (ELFDATA2LSB = 1); ` +
          `big-endian BPF objects are not supported`,
        { offset: 5 },
      );
    if (bytes[6] !== 1)
      throw new LoadError("ELF_CLASS", `ELF header: EI_VERSION ${bytes[6]} is not 1`, {
        offset: 6,
      });
    const v = this.view;
    this.type = v.getUint16(16, true);
    const machine = v.getUint16(18, true);
    // Like libbpf, accept EM_NONE too: old LLVM versions left e_machine unset.
    if (machine !== EM_BPF && machine !== 0)
      throw new LoadError(
        "ELF_MACHINE",
        `ELF header: e_machine ${machine} is not EM_BPF (${EM_BPF}); build with clang -target bpf`,
        { offset: 18 },
      );
    if (this.type !== ET_REL)
      throw new LoadError(
        "ELF_MACHINE",
        `ELF header: e_type ${this.type} is not ET_REL (1); eBPF objects are relocatable files ` +
          `(clang -c)`,
        { offset: 16 },
      );
    this.flags = v.getUint32(48, true);
    this.sections = this.readSectionHeaders();
  }

  private readSectionHeaders(): ElfSection[] {
    const v = this.view;
    const len = this.bytes.length;
    const shoff = u64(v, 40);
    const shentsize = v.getUint16(58, true);
    let shnum = v.getUint16(60, true);
    let shstrndx = v.getUint16(62, true);
    if (shoff === 0)
      throw new LoadError("ELF_FORMAT", "ELF header: no section header table (e_shoff = 0)", {
        offset: 40,
      });
    if (shentsize !== SHDR_SIZE)
      throw new LoadError(
        "ELF_FORMAT",
        `ELF header: e_shentsize ${shentsize} is not ${SHDR_SIZE}`,
        { offset: 58 },
      );
    if (shoff > len || len - shoff < SHDR_SIZE)
      throw new LoadError(
        "ELF_TRUNCATED",
        `section header table at ${hex(shoff)} past end of file (${hex(len)} bytes)`,
        { offset: shoff },
      );
    // Extended numbering: counts that do not fit the header live in section 0.
    if (shnum === 0) shnum = u64(v, shoff + 32);
    if (shstrndx === SHN_XINDEX) shstrndx = v.getUint32(shoff + 40, true);
    if (shnum === 0)
      throw new LoadError("ELF_FORMAT", "ELF header: the object has no sections", { offset: 60 });
    if (shnum > (len - shoff) / SHDR_SIZE)
      throw new LoadError(
        "ELF_TRUNCATED",
        `section header table: ${shnum} headers of ${SHDR_SIZE} bytes at ${hex(shoff)} ` +
          `past end of file (${hex(len)} bytes)`,
        { offset: shoff },
      );
    if (shstrndx === 0 || shstrndx >= shnum)
      throw new LoadError(
        "ELF_FORMAT",
        `ELF header: section name table index ${shstrndx} out of range (${shnum} sections)`,
        { offset: 62 },
      );
    const sections: ElfSection[] = [];
    for (let i = 0; i < shnum; i++) {
      const o = shoff + i * SHDR_SIZE;
      sections.push({
        index: i,
        name: "",
        type: v.getUint32(o + 4, true),
        flags: v.getUint32(o + 8, true),
        offset: u64(v, o + 24),
        size: u64(v, o + 32),
        link: v.getUint32(o + 40, true),
        info: v.getUint32(o + 44, true),
        addralign: u64(v, o + 48),
        entsize: u64(v, o + 56),
        data: new Uint8Array(0),
      });
    }
    const shstr = sections[shstrndx];
    if (shstr.type !== SHT_STRTAB)
      throw new LoadError(
        "ELF_FORMAT",
        `section name table (index ${shstrndx}) has type ${shstr.type}, not SHT_STRTAB`,
        { offset: shoff + shstrndx * SHDR_SIZE + 4 },
      );
    this.attachData(shstr, shoff);
    const nameOf = (i: number): number => v.getUint32(shoff + i * SHDR_SIZE, true);
    shstr.name = this.readString(shstr, nameOf(shstrndx), `name of section #${shstrndx}`);
    for (let i = 1; i < shnum; i++)
      sections[i].name = this.readString(shstr, nameOf(i), `name of section #${i}`);
    for (let i = 1; i < shnum; i++) if (i !== shstrndx) this.attachData(sections[i], shoff);
    return sections;
  }

  /** Checks that a section's bytes lie inside the file and points `data` at them. */
  private attachData(s: ElfSection, shoff: number): void {
    if (s.type === SHT_NOBITS || s.type === SHT_NULL) return;
    const len = this.bytes.length;
    if (s.offset > len || s.size > len - s.offset)
      throw new LoadError(
        "ELF_TRUNCATED",
        `${describeSection(s)}: offset ` +
          `${hex(s.offset)} + size ${hex(s.size)} past end of file (${hex(len)} bytes)`,
        { section: s.name || undefined, offset: shoff + s.index * SHDR_SIZE + 24 },
      );
    s.data = this.bytes.subarray(s.offset, s.offset + s.size);
  }

  /**
   * Reads a NUL-terminated string from a string-table section.
   * @param what what the string is, for error messages
   */
  readString(table: ElfSection, off: number, what: string): string {
    const d = table.data;
    if (off >= d.length)
      throw new LoadError(
        "ELF_TRUNCATED",
        `${what}: string offset ${hex(off)} past end of ${describeSection(table)} ` +
          `(${hex(d.length)} bytes)`,
        { section: table.name, offset: off },
      );
    const end = d.indexOf(0, off);
    if (end < 0)
      throw new LoadError(
        "ELF_TRUNCATED",
        `${what}: string at offset ${hex(off)} in ${describeSection(table)} is not NUL-terminated`,
        { section: table.name, offset: off },
      );
    return utf8.decode(d.subarray(off, end));
  }

  /** The section at `index`, or a LoadError naming `what` refers to it. */
  section(index: number, what: string): ElfSection {
    if (!Number.isInteger(index) || index < 0 || index >= this.sections.length)
      throw new LoadError(
        "ELF_FORMAT",
        `${what}: section index ${index} out of range (${this.sections.length} sections)`,
      );
    return this.sections[index];
  }

  /** The first section named `name`, if any. */
  sectionByName(name: string): ElfSection | undefined {
    return this.sections.find((s) => s.name === name);
  }

  /**
   * Decodes every symbol of a SHT_SYMTAB section, names resolved through its `sh_link` string
   * table and SHN_XINDEX indices through a SHT_SYMTAB_SHNDX section, if any.
   */
  readSymbols(symtab: ElfSection): ElfSymbol[] {
    const where = describeSection(symtab);
    if (symtab.entsize !== SYM_SIZE)
      throw new LoadError(
        "ELF_FORMAT",
        `${where}: sh_entsize ${symtab.entsize} is not ${SYM_SIZE}`,
        { section: symtab.name },
      );
    if (symtab.size % SYM_SIZE !== 0)
      throw new LoadError(
        "ELF_FORMAT",
        `${where}: size ${hex(symtab.size)} is not a multiple of ${SYM_SIZE}`,
        { section: symtab.name },
      );
    const strtab = this.section(symtab.link, `${where}: string table (sh_link)`);
    if (strtab.type !== SHT_STRTAB)
      throw new LoadError(
        "ELF_FORMAT",
        `${where}: linked section ${describeSection(strtab)} is not a string table`,
        { section: symtab.name },
      );
    const xindex = this.sections.find(
      (s) => s.type === SHT_SYMTAB_SHNDX && s.link === symtab.index,
    );
    const d = symtab.data;
    const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
    const count = d.length / SYM_SIZE;
    const syms: ElfSymbol[] = [];
    for (let i = 0; i < count; i++) {
      const o = i * SYM_SIZE;
      const info = d[o + 4];
      const nameOffset = v.getUint32(o, true);
      let shndx = v.getUint16(o + 6, true);
      if (shndx === SHN_XINDEX && xindex) {
        if ((i + 1) * 4 > xindex.data.length)
          throw new LoadError(
            "ELF_TRUNCATED",
            `${describeSection(xindex)}: no extended index for symbol #${i}`,
            { section: xindex.name },
          );
        shndx = new DataView(xindex.data.buffer, xindex.data.byteOffset).getUint32(i * 4, true);
      }
      syms.push({
        index: i,
        name: nameOffset === 0 ? "" : this.readString(strtab, nameOffset, `symbol #${i}`),
        nameOffset,
        bind: info >> 4,
        type: info & 0xf,
        visibility: d[o + 5] & 0x3,
        shndx,
        value: u64(v, o + 8),
        size: u64(v, o + 16),
      });
    }
    return syms;
  }

  /** Decodes the entries of a SHT_REL section. */
  readRelocations(rel: ElfSection): ElfRelocation[] {
    const where = describeSection(rel);
    if (rel.entsize !== REL_SIZE)
      throw new LoadError("ELF_FORMAT", `${where}: sh_entsize ${rel.entsize} is not ${REL_SIZE}`, {
        section: rel.name,
      });
    if (rel.size % REL_SIZE !== 0)
      throw new LoadError(
        "ELF_FORMAT",
        `${where}: size ${hex(rel.size)} is not a multiple of ${REL_SIZE}`,
        { section: rel.name },
      );
    const d = rel.data;
    const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
    const out: ElfRelocation[] = [];
    for (let o = 0; o < d.length; o += REL_SIZE) {
      out.push({
        offset: u64(v, o),
        type: v.getUint32(o + 8, true),
        symbol: v.getUint32(o + 12, true),
      });
    }
    return out;
  }
}
