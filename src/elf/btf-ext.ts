/**
 * A bounds-checked reader for `.BTF.ext`: per-section func_info, line_info and CO-RE relocation
 * records, as clang emits them (instruction offsets in bytes from the start of the ELF section).
 */
import type { Btf } from "./btf.js";
import { LoadError, hex } from "./errors.js";

/** `btf_ext_header.magic` (the same as BTF's). */
export const BTF_EXT_MAGIC = 0xeb9f;

/** A `bpf_func_info` record: the BTF FUNC describing the function starting at `insnOff`. */
export interface BtfExtFuncInfo {
  /** Byte offset of the function's first instruction in its ELF section. */
  insnOff: number;
  /** BTF id of the FUNC type. */
  typeId: number;
}

/** A `bpf_line_info` record, with its strings resolved through `.BTF`. */
export interface BtfExtLineInfo {
  /** Byte offset of the instruction in its ELF section. */
  insnOff: number;
  /** Source file name. */
  file: string;
  /** Source line text (may be empty). */
  text: string;
  /** 1-based line number (`line_col >> 10`). */
  line: number;
  /** Column (`line_col & 0x3ff`). */
  column: number;
}

/** A `bpf_core_relo` record (parsed, not applied by tsbpf). */
export interface BtfExtCoreRelo {
  /** Byte offset of the instruction in its ELF section. */
  insnOff: number;
  /** BTF id of the root type. */
  typeId: number;
  /** The access string (e.g. `0:1:0:5`). */
  accessStr: string;
  /** `enum bpf_core_relo_kind`. */
  kind: number;
}

/** Parsed `.BTF.ext`: records grouped by the name of the ELF section they describe. */
export interface BtfExt {
  /** func_info records by section name. */
  funcInfo: Map<string, BtfExtFuncInfo[]>;
  /** line_info records by section name. */
  lineInfo: Map<string, BtfExtLineInfo[]>;
  /** CO-RE relocation records by section name. */
  coreRelos: Map<string, BtfExtCoreRelo[]>;
}

const SECTION = ".BTF.ext";

function fail(msg: string, offset?: number): never {
  throw new LoadError("BTF_EXT_FORMAT", `${SECTION}: ${msg}`, { section: SECTION, offset });
}

/**
 * Parses `.BTF.ext`, resolving names through `btf`.
 * @throws LoadError on any malformed input
 */
export function parseBtfExt(data: Uint8Array, btf: Btf): BtfExt {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.length < 24) fail(`${data.length} bytes, too short for a header (24)`, 0);
  const magic = v.getUint16(0, true);
  if (magic !== BTF_EXT_MAGIC) fail(`bad magic ${hex(magic)} (expected ${hex(BTF_EXT_MAGIC)})`, 0);
  if (data[2] !== 1) fail(`unsupported version ${data[2]}`, 2);
  const hdrLen = v.getUint32(4, true);
  if (hdrLen < 24 || hdrLen > data.length)
    fail(`header length ${hdrLen} out of range (section is ${data.length} bytes)`, 4);
  const str = (off: number, what: string, at: number): string => {
    if (off >= btf.strings.length)
      fail(`${what}: string offset ${hex(off)} past end of the .BTF string section`, at);
    return btf.stringAt(off);
  };

  const funcInfo = new Map<string, BtfExtFuncInfo[]>();
  readInfo(v, hdrLen, 8, "func_info", 8, (sec, o) => {
    push(funcInfo, sec, { insnOff: v.getUint32(o, true), typeId: v.getUint32(o + 4, true) });
  });
  const lineInfo = new Map<string, BtfExtLineInfo[]>();
  readInfo(v, hdrLen, 16, "line_info", 16, (sec, o) => {
    const lineCol = v.getUint32(o + 12, true);
    push(lineInfo, sec, {
      insnOff: v.getUint32(o, true),
      file: str(v.getUint32(o + 4, true), "line_info file name", o + 4),
      text: str(v.getUint32(o + 8, true), "line_info line text", o + 8),
      line: lineCol >>> 10,
      column: lineCol & 0x3ff,
    });
  });
  const coreRelos = new Map<string, BtfExtCoreRelo[]>();
  if (hdrLen >= 32) {
    readInfo(v, hdrLen, 24, "core_relo", 16, (sec, o) => {
      push(coreRelos, sec, {
        insnOff: v.getUint32(o, true),
        typeId: v.getUint32(o + 4, true),
        accessStr: str(v.getUint32(o + 8, true), "core_relo access string", o + 8),
        kind: v.getUint32(o + 12, true),
      });
    });
  }
  return { funcInfo, lineInfo, coreRelos };

  function readInfo(
    view: DataView,
    hdr: number,
    fieldOff: number,
    desc: string,
    minRecSize: number,
    onRecord: (secName: string, recordOffset: number) => void,
  ): void {
    const off = view.getUint32(fieldOff, true);
    const len = view.getUint32(fieldOff + 4, true);
    if (len === 0) return;
    if (off % 4 !== 0) fail(`${desc} subsection offset ${hex(off)} not 4-byte aligned`, fieldOff);
    const start = hdr + off;
    if (start > data.length || len > data.length - start)
      fail(
        `${desc} subsection at ${hex(off)} + ${hex(len)} past end of section ` +
          `(${hex(data.length)} bytes)`,
        fieldOff,
      );
    if (len < 4) fail(`${desc}: no record size`, start);
    const recSize = view.getUint32(start, true);
    if (recSize < minRecSize || recSize % 4 !== 0)
      fail(`${desc}: invalid record size ${recSize} (minimum ${minRecSize})`, start);
    const end = start + len;
    let o = start + 4;
    while (o < end) {
      if (end - o < 8) fail(`${desc}: truncated section header`, o);
      const secNameOff = view.getUint32(o, true);
      const num = view.getUint32(o + 4, true);
      const secName = str(secNameOff, `${desc} section name`, o);
      o += 8;
      if (num > (end - o) / recSize)
        fail(`${desc} for section ${JSON.stringify(secName)}: ${num} records do not fit`, o - 4);
      for (let i = 0; i < num; i++, o += recSize) onRecord(secName, o);
    }
  }
}

function push<T>(m: Map<string, T[]>, key: string, value: T): void {
  const list = m.get(key);
  if (list) list.push(value);
  else m.set(key, [value]);
}
