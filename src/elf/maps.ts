/**
 * Map definitions of an object, following libbpf: BTF-defined maps in `.maps`, legacy
 * `struct bpf_map_def` entries in `maps`, and global data sections as single-entry arrays.
 */
import type { Btf } from "./btf.js";
import {
  BTF_KIND_ARRAY,
  BTF_KIND_DATASEC,
  BTF_KIND_ENUM,
  BTF_KIND_ENUM64,
  BTF_KIND_FUNC_PROTO,
  BTF_KIND_PTR,
  BTF_KIND_STRUCT,
  BTF_KIND_VAR,
  BTF_LINKAGE_GLOBAL,
  BTF_LINKAGE_STATIC,
  btfKindName,
  type BtfComposite,
  type BtfMember,
} from "./btf-types.js";
import {
  BPF_F_MMAPABLE,
  BPF_F_RDONLY_PROG,
  BPF_MAP_TYPE_ARRAY,
  BPF_MAP_TYPE_ARRAY_OF_MAPS,
  BPF_MAP_TYPE_HASH_OF_MAPS,
  BPF_MAP_TYPE_PROG_ARRAY,
  BPF_MAP_TYPE_RINGBUF,
  BPF_MAP_TYPE_USER_RINGBUF,
  BPF_OBJ_NAME_LEN,
} from "./constants.js";
import { STT_SECTION } from "./elf.js";
import { LoadError } from "./errors.js";
import type { ObjectContext } from "./object.js";
import type { MapSpec } from "./types.js";

/** Largest global data section the loader will allocate (a loader limit, not the kernel's). */
export const MAX_GLOBAL_DATA_SIZE = 64 << 20;
/** Page size used to round ring buffer sizes, as libbpf does on x86-64. */
export const RINGBUF_PAGE_SIZE = 4096;

/** Where a BTF-defined map lives in `.maps` (for `.rel.maps` processing). */
export interface BtfMapVar {
  /** Index in the map list. */
  mapIndex: number;
  /** Offset of the variable in `.maps`. */
  offset: number;
  /** Size of the variable. */
  size: number;
  /** The definition struct. */
  def: BtfComposite;
}

/** The maps of an object and what relocations need to find them. */
export interface ObjectMaps {
  /** Every map, in libbpf order. */
  maps: MapSpec[];
  /** BTF-defined maps by position in `.maps`. */
  btfVars: BtfMapVar[];
  /** Map index by `<section index>:<symbol value>` for `.maps` and legacy `maps` symbols. */
  bySymbol: Map<string, number>;
  /** Global data map index by section index. */
  bySection: Map<number, number>;
}

function mapError(map: string, msg: string, section = ".maps"): LoadError {
  return new LoadError("MAP_DEFINITION", `map ${JSON.stringify(map)}: ${msg}`, { section });
}

/** Collects every map definition of the object. */
export function collectMaps(ctx: ObjectContext, btf: Btf | undefined): ObjectMaps {
  const out: ObjectMaps = { maps: [], btfVars: [], bySymbol: new Map(), bySection: new Map() };
  if (ctx.legacyMapsIndex >= 0) collectLegacyMaps(ctx, out);
  if (ctx.btfMapsIndex >= 0) collectBtfMaps(ctx, btf, out);
  for (const { section, kind } of ctx.dataSections) {
    if (section.size === 0) continue;
    if (section.size > MAX_GLOBAL_DATA_SIZE)
      throw new LoadError(
        "LIMIT",
        `section ${JSON.stringify(section.name)}: ${section.size} bytes of global data ` +
          `(tsbpf's limit is ${MAX_GLOBAL_DATA_SIZE})`,
        { section: section.name },
      );
    const typeId = btf?.findByName(section.name)?.id;
    const spec: MapSpec = {
      name: internalMapName(ctx.name, section.name),
      type: BPF_MAP_TYPE_ARRAY,
      keySize: 4,
      valueSize: section.size,
      maxEntries: 1,
      flags: kind === "rodata" ? BPF_F_RDONLY_PROG : 0,
      initialValue: kind === "bss" ? new Uint8Array(section.size) : section.data.slice(),
      section: section.name,
      readonlyProg: kind === "rodata",
    };
    if (typeId !== undefined) {
      spec.valueTypeId = typeId;
      if (btf && hasGlobalVar(btf, typeId)) spec.flags |= BPF_F_MMAPABLE;
    }
    out.bySection.set(section.index, out.maps.length);
    out.maps.push(spec);
  }
  return out;
}

/** libbpf makes a global data map mmapable if its DATASEC has a non-static variable. */
function hasGlobalVar(btf: Btf, typeId: number): boolean {
  const t = btf.types[typeId];
  if (t.kind !== BTF_KIND_DATASEC) return false;
  return t.vars.some((v) => {
    const vt = btf.types[v.type];
    return vt.kind === BTF_KIND_VAR && vt.linkage !== BTF_LINKAGE_STATIC;
  });
}

/**
 * libbpf's `internal_map_name`: up to 8 bytes of the object name then the section name (at
 * least 7 bytes reserved for it), 15 bytes at most; sections with a second dot (`.rodata.str1.1`,
 * `.data.custom`) keep their own name only. Characters other than `[A-Za-z0-9_.]` become `_`.
 */
export function internalMapName(objName: string, sectionName: string): string {
  const enc = new TextEncoder();
  const obj = enc.encode(objName);
  const sec = enc.encode(sectionName);
  const sfxLen = Math.min(Math.max(7, sec.length), BPF_OBJ_NAME_LEN - 1);
  const custom = sectionName.indexOf(".", 1) >= 0;
  const pfxLen = custom ? 0 : Math.min(BPF_OBJ_NAME_LEN - sfxLen - 1, obj.length);
  const bytes = [...obj.subarray(0, pfxLen), ...sec.subarray(0, sfxLen)];
  return bytes
    .map((b) => (ALLOWED.test(String.fromCharCode(b)) ? String.fromCharCode(b) : "_"))
    .join("");
}

const ALLOWED = /^[A-Za-z0-9_.]$/;

// ---- legacy `maps` section ----

const LEGACY_DEF_FIELDS = ["type", "keySize", "valueSize", "maxEntries", "flags"] as const;

function collectLegacyMaps(ctx: ObjectContext, out: ObjectMaps): void {
  const sec = ctx.elf.sections[ctx.legacyMapsIndex];
  const syms = ctx.symbols.filter((s) => s.shndx === sec.index && s.type !== STT_SECTION);
  if (syms.length === 0) return;
  const size = sec.data.length;
  if (size === 0 || size % syms.length !== 0)
    throw new LoadError(
      "MAP_DEFINITION",
      `section "maps": size ${size} is not a multiple of its ${syms.length} map definitions`,
      { section: "maps" },
    );
  const defSize = size / syms.length;
  const v = new DataView(sec.data.buffer, sec.data.byteOffset, size);
  for (const sym of syms) {
    const name = sym.name;
    if (!name) throw mapError(`#${sym.index}`, "legacy map without a name", "maps");
    if (sym.value > size - defSize)
      throw mapError(name, `definition at offset ${sym.value} past end of section`, "maps");
    const fields = [0, 0, 0, 0, 0];
    for (let i = 0; i < LEGACY_DEF_FIELDS.length && (i + 1) * 4 <= defSize; i++)
      fields[i] = v.getUint32(sym.value + i * 4, true);
    for (let o = LEGACY_DEF_FIELDS.length * 4; o < defSize; o++)
      if (sec.data[sym.value + o] !== 0)
        throw mapError(name, `unknown non-zero data in the definition at byte ${o}`, "maps");
    const spec: MapSpec = {
      name,
      type: fields[0],
      keySize: fields[1],
      valueSize: fields[2],
      maxEntries: fields[3],
      flags: fields[4],
      section: "maps",
      readonlyProg: false,
    };
    out.bySymbol.set(`${sec.index}:${sym.value}`, out.maps.length);
    out.maps.push(spec);
  }
}

// ---- BTF-defined maps ----

function collectBtfMaps(ctx: ObjectContext, btf: Btf | undefined, out: ObjectMaps): void {
  const sec = ctx.elf.sections[ctx.btfMapsIndex];
  if (!btf)
    throw new LoadError("MAP_DEFINITION", `section ".maps" needs BTF, and the object has no .BTF`, {
      section: ".maps",
    });
  const datasec = btf.findByName(".maps", BTF_KIND_DATASEC);
  if (!datasec || datasec.kind !== BTF_KIND_DATASEC)
    throw new LoadError("MAP_DEFINITION", `.BTF has no DATASEC ".maps"`, { section: ".maps" });
  datasec.vars.forEach((vi, varIdx) => {
    const v = btf.typeById(vi.type, `.maps variable #${varIdx}`);
    const name = v.name;
    if (!name) throw mapError(`#${varIdx}`, "empty name");
    if (vi.offset + vi.size > sec.size) throw mapError(name, "BTF data is corrupted (past .maps)");
    if (v.kind !== BTF_KIND_VAR) throw mapError(name, `unexpected var kind ${btfKindName(v.kind)}`);
    if (v.linkage !== BTF_LINKAGE_GLOBAL)
      throw new LoadError(
        "UNSUPPORTED",
        `map ${JSON.stringify(name)}: unsupported map linkage ` +
          (v.linkage === BTF_LINKAGE_STATIC ? "static" : v.linkage === 2 ? "extern" : v.linkage),
        { section: ".maps" },
      );
    const def = btf.skipModsAndTypedefs(v.type);
    if (def.kind !== BTF_KIND_STRUCT)
      throw mapError(name, `unexpected def kind ${btfKindName(def.kind)}`);
    if (def.size > vi.size) throw mapError(name, "invalid def size");
    const spec = parseBtfMapDef(btf, name, def, false);
    spec.section = ".maps";
    out.bySymbol.set(`${sec.index}:${vi.offset}`, out.maps.length);
    out.btfVars.push({ mapIndex: out.maps.length, offset: vi.offset, size: vi.size, def });
    out.maps.push(spec);
  });
}

/** `__uint(name, N)`: a pointer to an array of N elements. */
function fieldInt(btf: Btf, map: string, m: BtfMember): number {
  const t = btf.skipModsAndTypedefs(m.type);
  if (t.kind !== BTF_KIND_PTR)
    throw mapError(map, `attr '${m.name}': expected PTR, got ${btfKindName(t.kind)}`);
  const arr = btf.typeById(t.type, `map ${map} attr '${m.name}'`);
  if (arr.kind !== BTF_KIND_ARRAY)
    throw mapError(map, `attr '${m.name}': expected ARRAY, got ${btfKindName(arr.kind)}`);
  return arr.nelems;
}

/** `__ulong(name, N)`: like `__uint`, or an enum with a single 64-bit enumerator. */
function fieldLong(btf: Btf, map: string, m: BtfMember): number {
  const t = btf.skipModsAndTypedefs(m.type);
  if (t.kind === BTF_KIND_PTR) return fieldInt(btf, map, m);
  if (t.kind !== BTF_KIND_ENUM && t.kind !== BTF_KIND_ENUM64)
    throw mapError(map, `attr '${m.name}': expected ENUM or ENUM64, got ${btfKindName(t.kind)}`);
  if (t.values.length !== 1) throw mapError(map, `attr '${m.name}': invalid __ulong`);
  const value = BigInt.asUintN(64, BigInt(t.values[0].value));
  if (value > BigInt(Number.MAX_SAFE_INTEGER))
    throw mapError(map, `attr '${m.name}': value ${value} over 2^53 is not supported`);
  return Number(value);
}

/** `__type(name, T)`: a pointer to T; returns T's id and size. */
function fieldType(btf: Btf, map: string, m: BtfMember): { id: number; size: number } {
  const t = btf.typeById(m.type, `map ${map} attr '${m.name}'`);
  if (t.kind !== BTF_KIND_PTR)
    throw mapError(map, `${m.name} spec is not PTR: ${btfKindName(t.kind)}`);
  return { id: t.type, size: btf.resolveSize(t.type) };
}

function setSize(map: string, what: string, prev: number, size: number): number {
  if (prev !== 0 && prev !== size)
    throw mapError(map, `conflicting ${what} size ${prev} != ${size}`);
  return size;
}

/** libbpf's `parse_btf_map_def`, for an outer (`inner` false) or inner map definition. */
function parseBtfMapDef(btf: Btf, name: string, def: BtfComposite, inner: boolean): MapSpec {
  const spec: MapSpec = {
    name,
    type: 0,
    keySize: 0,
    valueSize: 0,
    maxEntries: 0,
    flags: 0,
    section: ".maps",
    readonlyProg: false,
  };
  def.members.forEach((m, i) => {
    switch (m.name) {
      case "type":
        spec.type = fieldInt(btf, name, m);
        break;
      case "max_entries":
        spec.maxEntries = fieldInt(btf, name, m);
        break;
      case "map_flags":
        spec.flags = fieldInt(btf, name, m);
        break;
      case "numa_node":
        spec.numaNode = fieldInt(btf, name, m);
        break;
      case "key_size":
        spec.keySize = setSize(name, "key", spec.keySize, fieldInt(btf, name, m));
        break;
      case "key": {
        const { id, size } = fieldType(btf, name, m);
        spec.keySize = setSize(name, "key", spec.keySize, size);
        spec.keyTypeId = id;
        break;
      }
      case "value_size":
        spec.valueSize = setSize(name, "value", spec.valueSize, fieldInt(btf, name, m));
        break;
      case "value": {
        const { id, size } = fieldType(btf, name, m);
        spec.valueSize = setSize(name, "value", spec.valueSize, size);
        spec.valueTypeId = id;
        break;
      }
      case "values":
        parseValues(btf, name, spec, m, inner, i === def.members.length - 1);
        break;
      case "pinning": {
        if (inner) throw mapError(name, "inner def can't be pinned");
        const val = fieldInt(btf, name, m);
        if (val !== 0 && val !== 1) throw mapError(name, `invalid pinning value ${val}`);
        spec.pinning = val;
        break;
      }
      case "map_extra":
        spec.mapExtra = fieldLong(btf, name, m);
        break;
      default:
        throw new LoadError(
          "UNSUPPORTED",
          `map ${JSON.stringify(name)}: unknown field '${m.name}'`,
          { section: ".maps" },
        );
    }
  });
  if (spec.type === 0) throw mapError(name, "map type isn't specified");
  if (spec.type === BPF_MAP_TYPE_RINGBUF || spec.type === BPF_MAP_TYPE_USER_RINGBUF)
    spec.maxEntries = adjustRingbufSize(spec.maxEntries);
  return spec;
}

/** `__array(values, …)`: prog_array programs or the inner map of a map-in-map. */
function parseValues(
  btf: Btf,
  name: string,
  spec: MapSpec,
  m: BtfMember,
  inner: boolean,
  last: boolean,
): void {
  const isMapInMap =
    spec.type === BPF_MAP_TYPE_ARRAY_OF_MAPS || spec.type === BPF_MAP_TYPE_HASH_OF_MAPS;
  const isProgArray = spec.type === BPF_MAP_TYPE_PROG_ARRAY;
  const desc = isMapInMap ? "map-in-map inner" : "prog-array value";
  if (inner)
    throw new LoadError("UNSUPPORTED", `map "${name}": multi-level inner maps not supported`);
  if (!last) throw mapError(name, "'values' member should be last");
  if (!isMapInMap && !isProgArray)
    throw new LoadError("UNSUPPORTED", `map "${name}": should be map-in-map or prog-array`, {
      section: ".maps",
    });
  spec.valueSize = setSize(name, "value", spec.valueSize, 4);
  const arr = btf.typeById(m.type, `map ${name} values`);
  if (arr.kind !== BTF_KIND_ARRAY || arr.nelems !== 0)
    throw mapError(name, `${desc} spec is not a zero-sized array`);
  const ptr = btf.skipModsAndTypedefs(arr.type);
  if (ptr.kind !== BTF_KIND_PTR)
    throw mapError(name, `${desc} def is of unexpected kind ${btfKindName(ptr.kind)}`);
  const target = btf.skipModsAndTypedefs(ptr.type);
  if (isProgArray) {
    if (target.kind !== BTF_KIND_FUNC_PROTO)
      throw mapError(
        name,
        `prog-array value def is of unexpected kind ${btfKindName(target.kind)}`,
      );
    return;
  }
  if (target.kind !== BTF_KIND_STRUCT)
    throw mapError(name, `map-in-map inner def is of unexpected kind ${btfKindName(target.kind)}`);
  spec.innerMap = parseBtfMapDef(btf, `${name}.inner`, target, true);
}

/** libbpf's `adjust_ringbuf_sz`: the smallest power-of-2 multiple of the page size ≥ `sz`. */
export function adjustRingbufSize(sz: number): number {
  if (sz === 0) return 0;
  if (sz % RINGBUF_PAGE_SIZE === 0) {
    const pages = sz / RINGBUF_PAGE_SIZE;
    if ((pages & (pages - 1)) === 0) return sz;
  }
  for (let mul = 1; mul <= 0xffffffff / RINGBUF_PAGE_SIZE; mul *= 2)
    if (mul * RINGBUF_PAGE_SIZE > sz) return mul * RINGBUF_PAGE_SIZE;
  return sz;
}
