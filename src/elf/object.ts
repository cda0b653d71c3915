/**
 * First pass over an eBPF object: classifies its sections the way libbpf's
 * `bpf_object__elf_collect` does (programs, global data, maps, BTF, relocations, license).
 */
import { BPF_OBJ_NAME_LEN } from "./constants.js";
import {
  ElfFile,
  SHF_EXECINSTR,
  SHT_LLVM_ADDRSIG,
  SHT_NOBITS,
  SHT_PROGBITS,
  SHT_REL,
  SHT_RELA,
  SHT_STRTAB,
  SHT_SYMTAB,
  describeSection,
  type ElfSection,
  type ElfSymbol,
} from "./elf.js";
import { LoadError } from "./errors.js";

/** Kind of a global data section. */
export type DataKind = "data" | "rodata" | "bss";

/** A section that becomes a global data map. */
export interface DataSection {
  /** The ELF section. */
  section: ElfSection;
  /** `.data*`, `.rodata*` or `.bss*`. */
  kind: DataKind;
}

/** The classified sections and symbols of an object. */
export interface ObjectContext {
  /** The parsed file. */
  elf: ElfFile;
  /** libbpf's object name. */
  name: string;
  /** The symbol table. */
  symbols: ElfSymbol[];
  /** Index of `.text` (-1 if absent or empty). */
  textIndex: number;
  /** Index of `.maps` (-1 if absent). */
  btfMapsIndex: number;
  /** Index of the legacy `maps` section (-1 if absent). */
  legacyMapsIndex: number;
  /** Non-empty executable sections, in section order. */
  progSections: ElfSection[];
  /** Global data sections, in section order (empty ones included; the map layer skips them). */
  dataSections: DataSection[];
  /** SHT_REL sections whose target is an executable section or `.maps`. */
  relSections: ElfSection[];
  /** `.BTF`, if present. */
  btfSection?: ElfSection;
  /** `.BTF.ext`, if present. */
  btfExtSection?: ElfSection;
  /** `license` string ("" if none). */
  license: string;
  /** `version` section value, if present. */
  kernelVersion?: number;
}

/** libbpf's object name: basename up to the first `.`, at most BPF_OBJ_NAME_LEN - 1 bytes. */
export function objectName(path: string | undefined): string {
  if (path === undefined || path === "") return "obj";
  const base = path.slice(Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")) + 1);
  const truncated = truncateUtf8(base, BPF_OBJ_NAME_LEN - 1);
  const dot = truncated.indexOf(".");
  return dot < 0 ? truncated : truncated.slice(0, dot);
}

/** The longest prefix of `s` whose UTF-8 encoding fits in `max` bytes. */
export function truncateUtf8(s: string, max: number): string {
  const enc = new TextEncoder();
  if (enc.encode(s).length <= max) return s;
  let out = "";
  for (const ch of s) {
    if (enc.encode(out + ch).length > max) break;
    out += ch;
  }
  return out;
}

function isDwarf(name: string): boolean {
  return name.startsWith(".debug_");
}

function ignored(s: ElfSection): boolean {
  if (s.type === SHT_STRTAB || s.type === SHT_LLVM_ADDRSIG) return true;
  if (s.type === SHT_PROGBITS && s.size === 0 && s.name === ".text") return true;
  if (isDwarf(s.name)) return true;
  if (s.name.startsWith(".rel")) {
    const target = s.name.slice(4);
    if (isDwarf(target) || target === ".BTF" || target === ".BTF.ext") return true;
  }
  return false;
}

const LICENSE_MAX = 63;

/** Parses the ELF file and classifies its sections. */
export function openObject(bytes: Uint8Array, name: string): ObjectContext {
  const elf = new ElfFile(bytes);
  const symtabs = elf.sections.filter((s) => s.type === SHT_SYMTAB);
  if (symtabs.length === 0)
    throw new LoadError("ELF_FORMAT", "no symbol table (.symtab): stripped object file?");
  if (symtabs.length > 1)
    throw new LoadError(
      "ELF_FORMAT",
      `multiple symbol tables (${symtabs.map(describeSection).join(", ")})`,
    );
  const ctx: ObjectContext = {
    elf,
    name,
    symbols: elf.readSymbols(symtabs[0]),
    textIndex: -1,
    btfMapsIndex: -1,
    legacyMapsIndex: -1,
    progSections: [],
    dataSections: [],
    relSections: [],
    license: "",
  };
  for (const s of elf.sections) {
    if (s.index === 0 || s.type === SHT_SYMTAB || ignored(s)) continue;
    classify(ctx, s);
  }
  return ctx;
}

function classify(ctx: ObjectContext, s: ElfSection): void {
  const where = describeSection(s);
  const { name } = s;
  if (name === "license") {
    const end = s.data.indexOf(0);
    const raw = s.data.subarray(0, Math.min(end < 0 ? s.data.length : end, LICENSE_MAX));
    ctx.license = new TextDecoder("utf-8").decode(raw);
  } else if (name === "version") {
    if (s.data.length !== 4)
      throw new LoadError("ELF_FORMAT", `${where}: size ${s.data.length} is not 4`, {
        section: name,
      });
    ctx.kernelVersion = new DataView(s.data.buffer, s.data.byteOffset, 4).getUint32(0, true);
  } else if (name === "maps") {
    ctx.legacyMapsIndex = s.index;
  } else if (name === ".maps") {
    ctx.btfMapsIndex = s.index;
  } else if (name === ".kconfig" || name === ".ksyms") {
    throw new LoadError("UNSUPPORTED", `${where}: ${name} externs are not supported by tsbpf`, {
      section: name,
    });
  } else if (name === ".BTF" || name === ".BTF.ext") {
    if (s.type !== SHT_PROGBITS)
      throw new LoadError("ELF_FORMAT", `${where}: type ${s.type} is not SHT_PROGBITS`, {
        section: name,
      });
    if (name === ".BTF") ctx.btfSection = s;
    else ctx.btfExtSection = s;
  } else if (s.type === SHT_PROGBITS && s.size > 0) {
    if (s.flags & SHF_EXECINSTR) {
      if (name === ".text") ctx.textIndex = s.index;
      ctx.progSections.push(s);
    } else if (name === ".data" || name.startsWith(".data.")) {
      ctx.dataSections.push({ section: s, kind: "data" });
    } else if (name === ".rodata" || name.startsWith(".rodata.")) {
      ctx.dataSections.push({ section: s, kind: "rodata" });
    }
  } else if (s.type === SHT_REL) {
    const target = ctx.elf.section(s.info, `${where}: target section (sh_info)`);
    if ((target.flags & SHF_EXECINSTR) !== 0 || target.name === ".maps") ctx.relSections.push(s);
  } else if (s.type === SHT_RELA) {
    const target = ctx.elf.section(s.info, `${where}: target section (sh_info)`);
    if (target.flags & SHF_EXECINSTR)
      throw new LoadError(
        "UNSUPPORTED",
        `${where}: SHT_RELA relocations for ${describeSection(target)} (BPF objects use SHT_REL)`,
        { section: name },
      );
  } else if (s.type === SHT_NOBITS && (name === ".bss" || name.startsWith(".bss."))) {
    ctx.dataSections.push({ section: s, kind: "bss" });
  }
}

/** Name of a symbol for messages: its own, or its section's for STT_SECTION symbols. */
export function symbolName(ctx: ObjectContext, sym: ElfSymbol): string {
  if (sym.name) return sym.name;
  const sec = ctx.elf.sections[sym.shndx];
  return sec?.name ? sec.name : `<symbol #${sym.index}>`;
}

/** The symbol at `index`, or a LoadError. */
export function symbolAt(ctx: ObjectContext, index: number, where: string): ElfSymbol {
  const sym = ctx.symbols[index];
  if (sym === undefined)
    throw new LoadError(
      "ELF_FORMAT",
      `${where}: symbol index ${index} out of range (${ctx.symbols.length} symbols)`,
    );
  return sym;
}
