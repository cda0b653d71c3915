/**
 * Test helpers: a tiny writer of ELF64 little-endian EM_BPF relocatable objects and of raw BTF
 * blobs, to build inputs clang would never emit (bad relocations, odd symbols, malformed BTF).
 */

/** A section to write. Relocation sections name their target in `info` and list `rels`. */
export interface BuildSection {
  name: string;
  type: number;
  flags?: number;
  data?: Uint8Array;
  /** For SHT_NOBITS: the size. */
  size?: number;
  link?: number;
  /** Section index or name of the relocation target. */
  info?: number | string;
  entsize?: number;
  /** For SHT_REL sections: relocations, the symbol given by name. */
  rels?: { offset: number; sym: string; type: number }[];
}

/** A symbol to write. `section` is a section name or a raw index (0 = undefined). */
export interface BuildSymbol {
  name: string;
  section: string | number;
  value?: number;
  size?: number;
  bind?: number;
  type?: number;
  other?: number;
}

/** Builds the object. Sections get indices 1.. in order; .symtab/.strtab/.shstrtab follow. */
export function buildElf(sections: BuildSection[], symbols: BuildSymbol[] = []): Uint8Array {
  const secIndex = (s: string | number): number => {
    if (typeof s === "number") return s;
    const i = sections.findIndex((x) => x.name === s);
    if (i < 0) throw new Error(`no section ${s}`);
    return i + 1;
  };
  const strtab = new StrTab();
  const symIndex = new Map<string, number>();
  const sym = new Uint8Array((symbols.length + 1) * 24);
  const sv = new DataView(sym.buffer);
  symbols.forEach((s, i) => {
    const o = (i + 1) * 24;
    symIndex.set(s.name, i + 1);
    sv.setUint32(o, s.name ? strtab.add(s.name) : 0, true);
    sv.setUint8(o + 4, ((s.bind ?? 1) << 4) | (s.type ?? 0));
    sv.setUint8(o + 5, s.other ?? 0);
    sv.setUint16(o + 6, secIndex(s.section), true);
    sv.setBigUint64(o + 8, BigInt(s.value ?? 0), true);
    sv.setBigUint64(o + 16, BigInt(s.size ?? 0), true);
  });
  const all: BuildSection[] = sections.map((s) => {
    if (!s.rels) return s;
    const d = new Uint8Array(s.rels.length * 16);
    const dv = new DataView(d.buffer);
    s.rels.forEach((r, i) => {
      const idx = symIndex.get(r.sym);
      if (idx === undefined) throw new Error(`no symbol ${r.sym}`);
      dv.setBigUint64(i * 16, BigInt(r.offset), true);
      dv.setUint32(i * 16 + 8, r.type, true);
      dv.setUint32(i * 16 + 12, idx, true);
    });
    return { ...s, data: d, entsize: 16, link: sections.length + 1 };
  });
  const symtabIdx = sections.length + 1;
  all.push({ name: ".symtab", type: 2, data: sym, link: symtabIdx + 1, entsize: 24, info: 1 });
  all.push({ name: ".strtab", type: 3, data: strtab.bytes() });
  const shstr = new StrTab();
  const nameOffs = all.map((s) => shstr.add(s.name));
  const shstrName = shstr.add(".shstrtab");
  all.push({ name: ".shstrtab", type: 3, data: shstr.bytes() });
  nameOffs.push(shstrName);

  let off = 64;
  const offsets = all.map((s) => {
    const o = off;
    off += s.type === 8 ? 0 : (s.data?.length ?? 0);
    off = (off + 7) & ~7;
    return o;
  });
  const shoff = off;
  const out = new Uint8Array(shoff + (all.length + 1) * 64);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  v.setUint16(16, 1, true);
  v.setUint16(18, 247, true);
  v.setUint32(20, 1, true);
  v.setBigUint64(40, BigInt(shoff), true);
  v.setUint16(52, 64, true);
  v.setUint16(58, 64, true);
  v.setUint16(60, all.length + 1, true);
  v.setUint16(62, all.length, true);
  all.forEach((s, i) => {
    if (s.type !== 8 && s.data) out.set(s.data, offsets[i]);
    const h = shoff + (i + 1) * 64;
    v.setUint32(h, nameOffs[i], true);
    v.setUint32(h + 4, s.type, true);
    v.setBigUint64(h + 8, BigInt(s.flags ?? 0), true);
    v.setBigUint64(h + 24, BigInt(offsets[i]), true);
    v.setBigUint64(h + 32, BigInt(s.type === 8 ? (s.size ?? 0) : (s.data?.length ?? 0)), true);
    v.setUint32(h + 40, s.link ?? 0, true);
    v.setUint32(h + 44, s.info === undefined ? 0 : secIndex(s.info), true);
    v.setBigUint64(h + 48, 8n, true);
    v.setBigUint64(h + 56, BigInt(s.entsize ?? 0), true);
  });
  return out;
}

class StrTab {
  private parts: number[] = [0];
  add(s: string): number {
    const off = this.parts.length;
    this.parts.push(...new TextEncoder().encode(s), 0);
    return off;
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** Encodes one instruction. */
export function insn(code: number, dst = 0, src = 0, off = 0, imm = 0): Uint8Array {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  b[0] = code;
  b[1] = (src << 4) | dst;
  v.setInt16(2, off, true);
  v.setInt32(4, imm, true);
  return b;
}

/** Concatenates instructions. */
export function code(...insns: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(insns.length * 8);
  insns.forEach((x, i) => out.set(x, i * 8));
  return out;
}

/** `exit`. */
export const EXIT = insn(0x95);
/** `r0 = imm` (64-bit mov). */
export const mov0 = (imm: number): Uint8Array => insn(0xb7, 0, 0, 0, imm);
/** `lddw dst, imm64` (two slots), src_reg given. */
export const lddw = (dst: number, src = 0, imm = 0): Uint8Array[] => [
  insn(0x18, dst, src, 0, imm),
  insn(0, 0, 0, 0, 0),
];
/** `call imm` with src_reg (0 helper, 1 bpf-to-bpf). */
export const call = (imm: number, src = 1): Uint8Array => insn(0x85, 0, src, 0, imm);

/** Section type and flag numbers for the builder. */
export const S = {
  PROGBITS: 1,
  SYMTAB: 2,
  STRTAB: 3,
  NOBITS: 8,
  REL: 9,
  EXEC: 0x6,
  WA: 0x3,
} as const;

/** Symbol binding/type numbers for the builder. */
export const Y = {
  LOCAL: 0,
  GLOBAL: 1,
  WEAK: 2,
  NOTYPE: 0,
  OBJECT: 1,
  FUNC: 2,
  SECTION: 3,
} as const;

/** A raw BTF blob: `types` as little-endian u32 words, `strings` NUL-separated (leading "" added). */
export function btfBlob(types: number[], strings: string[], layout?: number[]): Uint8Array {
  const strBytes: number[] = [0];
  for (const s of strings) strBytes.push(...new TextEncoder().encode(s), 0);
  const typeLen = types.length * 4;
  const layoutLen = layout ? layout.length * 4 : 0;
  const hdrLen = layout ? 32 : 24;
  const out = new Uint8Array(hdrLen + typeLen + layoutLen + strBytes.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, 0xeb9f, true);
  out[2] = 1;
  v.setUint32(4, hdrLen, true);
  v.setUint32(8, 0, true);
  v.setUint32(12, typeLen, true);
  v.setUint32(16, typeLen + layoutLen, true);
  v.setUint32(20, strBytes.length, true);
  if (layout) {
    v.setUint32(24, typeLen, true);
    v.setUint32(28, layoutLen, true);
  }
  types.forEach((w, i) => v.setUint32(hdrLen + i * 4, w >>> 0, true));
  layout?.forEach((w, i) => v.setUint32(hdrLen + typeLen + i * 4, w >>> 0, true));
  out.set(strBytes, hdrLen + typeLen + layoutLen);
  return out;
}

/** Offset of `name` in the string section {@link btfBlob} builds from `strings`. */
export function strOff(strings: string[], name: string): number {
  let off = 1;
  for (const s of strings) {
    if (s === name) return off;
    off += new TextEncoder().encode(s).length + 1;
  }
  throw new Error(`no string ${name}`);
}

/** `info` word of a BTF type. */
export function info(kind: number, vlen = 0, kflag = false): number {
  return ((kflag ? 1 : 0) << 31) | (kind << 24) | vlen;
}
