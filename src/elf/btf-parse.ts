/**
 * Decoding of the `.BTF` section's bytes: header, optional layout section, type section and
 * string section, with every offset and count checked against the section.
 */
import { LoadError, hex } from "./errors.js";
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
  btfKindName,
  type BtfType,
} from "./btf-types.js";

/** `btf_header.magic`. */
export const BTF_MAGIC = 0xeb9f;
/** Most type ids a BTF object may hold (the kernel's BTF_MAX_TYPE). */
export const BTF_MAX_TYPE = 0xfffff;

const BTF_HEADER_MIN = 24;
const TYPE_HEADER = 12;
const utf8 = new TextDecoder("utf-8");

/** The NUL-terminated string at `off` (the caller checked a NUL follows), ASCII fast path. */
export function decodeCString(bytes: Uint8Array, off: number): string {
  let end = off;
  let ascii = true;
  while (bytes[end] !== 0) {
    if (bytes[end] >= 0x80) ascii = false;
    end++;
  }
  if (!ascii || end - off > 64) return utf8.decode(bytes.subarray(off, end));
  let out = "";
  for (let i = off; i < end; i++) out += String.fromCharCode(bytes[i]);
  return out;
}

interface Header {
  hdrLen: number;
  typeOff: number;
  typeLen: number;
  strOff: number;
  strLen: number;
  layoutOff: number;
  layoutLen: number;
}

function fail(section: string, msg: string, offset?: number): never {
  throw new LoadError("BTF_FORMAT", `${section}: ${msg}`, { section, offset });
}

function readHeader(data: Uint8Array, v: DataView, section: string): Header {
  if (data.length < BTF_HEADER_MIN)
    fail(section, `${data.length} bytes, too short for a BTF header (${BTF_HEADER_MIN})`, 0);
  const magic = v.getUint16(0, true);
  if (magic !== BTF_MAGIC)
    fail(section, `bad magic ${hex(magic)} (expected ${hex(BTF_MAGIC)}; big-endian?)`, 0);
  if (data[2] !== 1) fail(section, `unsupported BTF version ${data[2]}`, 2);
  const hdrLen = v.getUint32(4, true);
  if (hdrLen < BTF_HEADER_MIN || hdrLen > data.length)
    fail(section, `header length ${hdrLen} out of range (section is ${data.length} bytes)`, 4);
  const h: Header = {
    hdrLen,
    typeOff: v.getUint32(8, true),
    typeLen: v.getUint32(12, true),
    strOff: v.getUint32(16, true),
    strLen: v.getUint32(20, true),
    layoutOff: hdrLen >= 32 ? v.getUint32(24, true) : 0,
    layoutLen: hdrLen >= 32 ? v.getUint32(28, true) : 0,
  };
  const body = data.length - hdrLen;
  if (h.strOff + h.strLen > body)
    fail(
      section,
      `string section at ${hex(h.strOff)} + ${hex(h.strLen)} past end of data (${hex(body)} bytes)`,
      16,
    );
  if (h.typeOff + h.typeLen > h.strOff)
    fail(
      section,
      `type section at ${hex(h.typeOff)} + ${hex(h.typeLen)} overlaps the string section ` +
        `at ${hex(h.strOff)}`,
      8,
    );
  if (h.typeOff % 4 !== 0) fail(section, `type section offset ${h.typeOff} not 4-byte aligned`, 8);
  if (h.layoutLen > 0) {
    if (h.layoutOff % 4 !== 0 || h.layoutLen % 4 !== 0)
      fail(section, `layout section at ${hex(h.layoutOff)} misaligned`, 24);
    if (h.layoutOff < h.typeOff + h.typeLen || h.layoutOff + h.layoutLen > h.strOff)
      fail(section, `layout section at ${hex(h.layoutOff)} + ${hex(h.layoutLen)} misplaced`, 24);
  }
  return h;
}

/** Size of the kind-specific data after the 12-byte common header. */
function extraSize(kind: number, vlen: number, layout: DataView | undefined): number {
  switch (kind) {
    case BTF_KIND_INT:
    case BTF_KIND_VAR:
    case BTF_KIND_DECL_TAG:
      return 4;
    case BTF_KIND_ARRAY:
      return 12;
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION:
    case BTF_KIND_DATASEC:
    case BTF_KIND_ENUM64:
      return vlen * 12;
    case BTF_KIND_ENUM:
    case BTF_KIND_FUNC_PROTO:
      return vlen * 8;
    case BTF_KIND_PTR:
    case BTF_KIND_FWD:
    case BTF_KIND_TYPEDEF:
    case BTF_KIND_VOLATILE:
    case BTF_KIND_CONST:
    case BTF_KIND_RESTRICT:
    case BTF_KIND_FUNC:
    case BTF_KIND_FLOAT:
    case BTF_KIND_TYPE_TAG:
      return 0;
    default:
      if (!layout || kind * 4 + 4 > layout.byteLength) return -1;
      {
        const infoSz = layout.getUint8(kind * 4);
        const elemSz = layout.getUint8(kind * 4 + 1);
        if (infoSz % 4 !== 0 || elemSz % 4 !== 0) return -1;
        return infoSz + vlen * elemSz;
      }
  }
}

/** Decodes a `.BTF` section into its string section and its types (index = type id). */
export function parseBtf(
  data: Uint8Array,
  section: string,
): { strings: Uint8Array; types: BtfType[] } {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const h = readHeader(data, v, section);
  const strings = data.slice(h.hdrLen + h.strOff, h.hdrLen + h.strOff + h.strLen);
  if (strings.length === 0 || strings[strings.length - 1] !== 0)
    fail(section, "string section is empty or does not end with NUL", 16);
  if (strings[0] !== 0) fail(section, "string section does not start with an empty string", 16);
  const layout =
    h.layoutLen > 0
      ? new DataView(data.buffer, data.byteOffset + h.hdrLen + h.layoutOff, h.layoutLen)
      : undefined;
  const cache = new Map<number, string>();
  const str = (off: number, where: number): string => {
    const hit = cache.get(off);
    if (hit !== undefined) return hit;
    if (off >= strings.length)
      fail(section, `name offset ${hex(off)} past end of string section`, where);
    const s = decodeCString(strings, off);
    cache.set(off, s);
    return s;
  };

  const types: BtfType[] = [{ id: 0, kind: BTF_KIND_UNKN, rawKind: 0, name: "", kindFlag: false }];
  const start = h.hdrLen + h.typeOff;
  const end = start + h.typeLen;
  let o = start;
  while (o < end) {
    const id = types.length;
    if (id > BTF_MAX_TYPE)
      throw new LoadError("LIMIT", `${section}: more than ${BTF_MAX_TYPE} types`, { section });
    if (end - o < TYPE_HEADER) fail(section, `type [${id}] truncated`, o);
    const nameOff = v.getUint32(o, true);
    const info = v.getUint32(o + 4, true);
    const sizeOrType = v.getUint32(o + 8, true);
    const kind = (info >>> 24) & 0x7f;
    const vlen = info & 0xffffff;
    const kindFlag = info >>> 31 === 1;
    const extra = extraSize(kind, vlen, layout);
    if (extra < 0) fail(section, `type [${id}]: unknown kind ${kind}`, o);
    if (extra > end - o - TYPE_HEADER)
      fail(section, `type [${id}] (${btfKindName(kind)}, vlen ${vlen}) truncated`, o);
    const name = str(nameOff, o);
    const e = o + TYPE_HEADER;
    let t: BtfType;
    switch (kind) {
      case BTF_KIND_INT: {
        const x = v.getUint32(e, true);
        t = {
          id,
          name,
          kindFlag,
          kind,
          size: sizeOrType,
          encoding: (x >>> 24) & 0xf,
          bitOffset: (x >>> 16) & 0xff,
          bits: x & 0xff,
        };
        break;
      }
      case BTF_KIND_PTR:
      case BTF_KIND_TYPEDEF:
      case BTF_KIND_VOLATILE:
      case BTF_KIND_CONST:
      case BTF_KIND_RESTRICT:
      case BTF_KIND_TYPE_TAG:
        t = { id, name, kindFlag, kind, type: sizeOrType };
        break;
      case BTF_KIND_ARRAY:
        t = {
          id,
          name,
          kindFlag,
          kind,
          type: v.getUint32(e, true),
          indexType: v.getUint32(e + 4, true),
          nelems: v.getUint32(e + 8, true),
        };
        break;
      case BTF_KIND_STRUCT:
      case BTF_KIND_UNION: {
        const members = [];
        for (let i = 0; i < vlen; i++) {
          const m = e + i * 12;
          const off = v.getUint32(m + 8, true);
          members.push({
            name: str(v.getUint32(m, true), m),
            type: v.getUint32(m + 4, true),
            bitOffset: kindFlag ? off & 0xffffff : off,
            bitfieldSize: kindFlag ? off >>> 24 : 0,
          });
        }
        t = { id, name, kindFlag, kind, size: sizeOrType, members };
        break;
      }
      case BTF_KIND_ENUM: {
        const values = [];
        for (let i = 0; i < vlen; i++) {
          const m = e + i * 8;
          const value = kindFlag ? v.getInt32(m + 4, true) : v.getUint32(m + 4, true);
          values.push({ name: str(v.getUint32(m, true), m), value });
        }
        t = { id, name, kindFlag, kind, size: sizeOrType, signed: kindFlag, values };
        break;
      }
      case BTF_KIND_ENUM64: {
        const values = [];
        for (let i = 0; i < vlen; i++) {
          const m = e + i * 12;
          const raw = (BigInt(v.getUint32(m + 8, true)) << 32n) | BigInt(v.getUint32(m + 4, true));
          const value = kindFlag ? BigInt.asIntN(64, raw) : raw;
          values.push({ name: str(v.getUint32(m, true), m), value });
        }
        t = { id, name, kindFlag, kind, size: sizeOrType, signed: kindFlag, values };
        break;
      }
      case BTF_KIND_FWD:
        t = { id, name, kindFlag, kind, isUnion: kindFlag };
        break;
      case BTF_KIND_FUNC:
        t = { id, name, kindFlag, kind, type: sizeOrType, linkage: vlen };
        break;
      case BTF_KIND_FUNC_PROTO: {
        const params = [];
        for (let i = 0; i < vlen; i++) {
          const m = e + i * 8;
          params.push({ name: str(v.getUint32(m, true), m), type: v.getUint32(m + 4, true) });
        }
        t = { id, name, kindFlag, kind, type: sizeOrType, params };
        break;
      }
      case BTF_KIND_VAR:
        t = { id, name, kindFlag, kind, type: sizeOrType, linkage: v.getUint32(e, true) };
        break;
      case BTF_KIND_DATASEC: {
        const vars = [];
        for (let i = 0; i < vlen; i++) {
          const m = e + i * 12;
          vars.push({
            type: v.getUint32(m, true),
            offset: v.getUint32(m + 4, true),
            size: v.getUint32(m + 8, true),
          });
        }
        t = { id, name, kindFlag, kind, size: sizeOrType, vars };
        break;
      }
      case BTF_KIND_FLOAT:
        t = { id, name, kindFlag, kind, size: sizeOrType };
        break;
      case BTF_KIND_DECL_TAG:
        t = { id, name, kindFlag, kind, type: sizeOrType, componentIdx: v.getInt32(e, true) };
        break;
      default:
        t = { id, name, kindFlag, kind: BTF_KIND_UNKN, rawKind: kind };
    }
    types.push(t);
    o = e + extra;
  }
  validateRefs(types, section);
  return { strings, types };
}

/** Checks that every type id a type refers to exists, so later lookups cannot go astray. */
function validateRefs(types: BtfType[], section: string): void {
  const n = types.length;
  const check = (t: BtfType, ref: number, what: string): void => {
    if (ref >= n)
      fail(
        section,
        `type [${t.id}] (${btfKindName(t.kind)} ${JSON.stringify(t.name)}): ${what} refers to ` +
          `type [${ref}], but there are only ${n} types`,
      );
  };
  for (const t of types) {
    switch (t.kind) {
      case BTF_KIND_PTR:
      case BTF_KIND_TYPEDEF:
      case BTF_KIND_VOLATILE:
      case BTF_KIND_CONST:
      case BTF_KIND_RESTRICT:
      case BTF_KIND_TYPE_TAG:
      case BTF_KIND_VAR:
      case BTF_KIND_DECL_TAG:
        check(t, t.type, "type");
        break;
      case BTF_KIND_FUNC:
        check(t, t.type, "prototype");
        if (types[t.type].kind !== BTF_KIND_FUNC_PROTO)
          fail(section, `func [${t.id}] ${JSON.stringify(t.name)}: type is not a FUNC_PROTO`);
        break;
      case BTF_KIND_ARRAY:
        check(t, t.type, "element type");
        check(t, t.indexType, "index type");
        break;
      case BTF_KIND_STRUCT:
      case BTF_KIND_UNION:
        for (const m of t.members) check(t, m.type, `member ${JSON.stringify(m.name)}`);
        break;
      case BTF_KIND_FUNC_PROTO:
        check(t, t.type, "return type");
        for (const p of t.params) check(t, p.type, `parameter ${JSON.stringify(p.name)}`);
        break;
      case BTF_KIND_DATASEC:
        for (const s of t.vars) check(t, s.type, "variable");
        break;
      default:
        break;
    }
  }
}
