/**
 * Map keys and values decoded by their BTF types, as `bpftool map dump` prints them in its
 * `formatted` objects: integers as numbers (bigints beyond 2^53), `bool` as true/false, enums
 * by enumerator name, structs and unions as objects, arrays as arrays — a `char` array that
 * holds a NUL-terminated printable string as that string —, global data sections (DATASEC) as
 * `{".bss": [{var: value}, …]}`. Anonymous struct and union members are merged into their
 * parent (bpftool names them "").
 */
import type { Btf } from "../elf/btf.js";
import {
  BTF_INT_BOOL,
  BTF_INT_CHAR,
  BTF_INT_SIGNED,
  BTF_KIND_ARRAY,
  BTF_KIND_CONST,
  BTF_KIND_DATASEC,
  BTF_KIND_ENUM,
  BTF_KIND_ENUM64,
  BTF_KIND_FLOAT,
  BTF_KIND_INT,
  BTF_KIND_PTR,
  BTF_KIND_RESTRICT,
  BTF_KIND_STRUCT,
  BTF_KIND_TYPEDEF,
  BTF_KIND_TYPE_TAG,
  BTF_KIND_UNION,
  BTF_KIND_VAR,
  BTF_KIND_VOLATILE,
  type BtfType,
} from "../elf/btf-types.js";

/** A decoded value: what a bpftool `formatted` field holds. */
export type BtfValue = number | bigint | string | boolean | BtfValue[] | { [k: string]: BtfValue };

const MAX_DEPTH = 32;

/** Reads the unsigned little-endian integer of `size` bytes at `off` as a bigint. */
function readUint(b: Uint8Array, off: number, size: number): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[off + i] ?? 0);
  return v;
}

/** A bigint as a number when it is exactly representable. */
function num(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(v)
    : v;
}

function isMod(t: BtfType): boolean {
  return (
    t.kind === BTF_KIND_TYPEDEF ||
    t.kind === BTF_KIND_CONST ||
    t.kind === BTF_KIND_VOLATILE ||
    t.kind === BTF_KIND_RESTRICT ||
    t.kind === BTF_KIND_TYPE_TAG
  );
}

/** Whether an array of `elem` holding `bytes` prints as a string (bpftool's is_str_array). */
function isStringArray(btf: Btf, elemId: number, bytes: Uint8Array): boolean {
  let t = btf.types[elemId];
  for (let d = 0; t !== undefined && isMod(t) && t.kind !== BTF_KIND_TYPEDEF && d < MAX_DEPTH; d++)
    t = btf.types[(t as { type: number }).type];
  if (t === undefined || t.kind !== BTF_KIND_INT || t.size !== 1) return false;
  if ((t.encoding & BTF_INT_CHAR) === 0 && t.name !== "char") return false;
  for (const b of bytes) {
    if (b === 0) return true;
    if (b <= 0x1f || b >= 0x7f) return false;
  }
  return false;
}

/**
 * Decodes `bytes` (from `offset`) as BTF type `typeId`. Bytes past the end read as zero; a
 * type that cannot be decoded (functions, forward declarations, cycles) gives `"<unknown>"`.
 */
export function decodeBtfValue(btf: Btf, typeId: number, bytes: Uint8Array, offset = 0): BtfValue {
  return decode(btf, typeId, bytes, offset * 8, 0, 0);
}

/** Decodes a value at bit offset `bitOff`; `bitSize` > 0 for a bitfield member. */
function decode(
  btf: Btf,
  id: number,
  b: Uint8Array,
  bitOff: number,
  bitSize: number,
  depth: number,
): BtfValue {
  const t = btf.types[id];
  if (t === undefined || depth > MAX_DEPTH) return "<unknown>";
  const off = bitOff >> 3;
  switch (t.kind) {
    case BTF_KIND_TYPEDEF:
    case BTF_KIND_CONST:
    case BTF_KIND_VOLATILE:
    case BTF_KIND_RESTRICT:
    case BTF_KIND_TYPE_TAG:
    case BTF_KIND_VAR:
      return decode(btf, t.type, b, bitOff, bitSize, depth + 1);
    case BTF_KIND_INT: {
      const bits = bitSize || t.bits;
      const shift = (bitOff % 8) + (bitSize ? 0 : t.bitOffset);
      const bytes = Math.min(16, Math.ceil((shift + bits) / 8));
      let v = (readUint(b, off, bytes) >> BigInt(shift)) & ((1n << BigInt(bits)) - 1n);
      if (t.encoding & BTF_INT_BOOL) return v !== 0n;
      if (t.encoding & BTF_INT_SIGNED) v = BigInt.asIntN(bits, v);
      if (t.encoding & BTF_INT_CHAR && bits === 8 && v >= 0x20n && v < 0x7fn) {
        return String.fromCharCode(Number(v));
      }
      return num(v);
    }
    case BTF_KIND_PTR:
      return num(readUint(b, off, 8));
    case BTF_KIND_ENUM:
    case BTF_KIND_ENUM64: {
      const bits = bitSize || t.size * 8;
      let v =
        (readUint(b, off, Math.ceil(((bitOff % 8) + bits) / 8)) >> BigInt(bitOff % 8)) &
        ((1n << BigInt(bits)) - 1n);
      if (t.signed) v = BigInt.asIntN(bits, v);
      const hit = t.values.find(
        (e) => BigInt(e.value) === v || BigInt.asUintN(bits, BigInt(e.value)) === v,
      );
      return hit !== undefined ? hit.name : num(v);
    }
    case BTF_KIND_FLOAT: {
      const dv = new DataView(new Uint8Array(b.subarray(off, off + t.size)).buffer);
      if (t.size === 4 && dv.byteLength === 4) return dv.getFloat32(0, true);
      if (t.size === 8 && dv.byteLength === 8) return dv.getFloat64(0, true);
      return "<unknown>";
    }
    case BTF_KIND_ARRAY: {
      const elemSize = safeSize(btf, t.type);
      if (elemSize === undefined) return "<unknown>";
      const raw = b.subarray(off, off + elemSize * t.nelems);
      if (elemSize === 1 && isStringArray(btf, t.type, raw)) {
        return new TextDecoder().decode(raw.subarray(0, raw.indexOf(0)));
      }
      const out: BtfValue[] = [];
      for (let i = 0; i < t.nelems && i < 65536; i++) {
        out.push(decode(btf, t.type, b, bitOff + i * elemSize * 8, 0, depth + 1));
      }
      return out;
    }
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION: {
      const out: { [k: string]: BtfValue } = {};
      for (const m of t.members) {
        const v = decode(btf, m.type, b, bitOff + m.bitOffset, m.bitfieldSize, depth + 1);
        if (m.name === "" && typeof v === "object" && !Array.isArray(v)) Object.assign(out, v);
        else out[m.name] = v;
      }
      return out;
    }
    case BTF_KIND_DATASEC: {
      const vars = t.vars.map((vs) => {
        const v = btf.types[vs.type];
        const name = v?.kind === BTF_KIND_VAR ? v.name : `+${vs.offset}`;
        return { [name]: decode(btf, vs.type, b, bitOff + vs.offset * 8, 0, depth + 1) };
      });
      return { [t.name]: vars };
    }
    default:
      return "<unknown>";
  }
}

function safeSize(btf: Btf, id: number): number | undefined {
  try {
    return btf.resolveSize(id);
  } catch {
    return undefined;
  }
}

/**
 * A decoded value as bpftool's JSON writes it: compact JSON, bigints as bare digits, with a
 * space after `:` and `,` when `spaced`.
 */
export function stringifyBtfValue(v: BtfValue, spaced = true): string {
  const sep = spaced ? ", " : ",";
  const colon = spaced ? ": " : ":";
  if (typeof v === "bigint") return v.toString();
  if (typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x) => stringifyBtfValue(x, spaced)).join(sep)}]`;
  const fields = Object.entries(v).map(
    ([k, x]) => `${JSON.stringify(k)}${colon}${stringifyBtfValue(x, spaced)}`,
  );
  return `{${fields.join(sep)}}`;
}
