import { BTF_KIND_DATASEC, BTF_KIND_VAR, type BtfDatasec } from "./btf-types.js";
import { LoadError } from "./errors.js";
import type { CollectionSpec, MapSpec } from "./types.js";

/** Where a global variable lives: its map, offset and size. */
export interface GlobalVariable {
  /** The global data map holding it (`obj.rodata`, `obj.bss`, `.data.custom`...). */
  map: MapSpec;
  /** Byte offset in the map's value. */
  offset: number;
  /** Size in bytes. */
  size: number;
}

/** Finds global variable `name` through the object's BTF (its DATASECs). */
export function findGlobal(spec: CollectionSpec, name: string): GlobalVariable | undefined {
  const btf = spec.btf;
  if (btf === undefined) return undefined;
  for (const t of btf.types) {
    if (t?.kind !== BTF_KIND_DATASEC) continue;
    const sec = t as BtfDatasec;
    const map = spec.maps.find((m) => m.section === sec.name && m.initialValue !== undefined);
    if (map === undefined) continue;
    for (const v of sec.vars) {
      const vt = btf.typeById(v.type);
      if (vt.kind === BTF_KIND_VAR && vt.name === name)
        return { map, offset: v.offset, size: v.size };
    }
  }
  return undefined;
}

/**
 * Sets global variable `name` before load — libbpf skeleton's `skel->rodata->name = value`,
 * the way to configure `const volatile` variables. Numbers and bigints are written
 * little-endian in the variable's size; byte arrays must not be longer than the variable.
 */
export function setGlobal(
  spec: CollectionSpec,
  name: string,
  value: number | bigint | Uint8Array,
): void {
  const g = findGlobal(spec, name);
  if (g === undefined || g.map.initialValue === undefined) {
    throw new LoadError("UNSUPPORTED", `no global variable "${name}" in the object's BTF`);
  }
  let bytes: Uint8Array;
  if (value instanceof Uint8Array) {
    if (value.length > g.size) {
      throw new LoadError(
        "UNSUPPORTED",
        `global "${name}": ${value.length} bytes do not fit its ${g.size}`,
      );
    }
    bytes = value;
  } else {
    bytes = new Uint8Array(g.size);
    let v = BigInt.asUintN(g.size * 8, BigInt(value));
    for (let i = 0; i < g.size; i++, v >>= 8n) bytes[i] = Number(v & 0xffn);
  }
  const init = g.map.initialValue.slice();
  init.fill(0, g.offset, g.offset + g.size);
  init.set(bytes, g.offset);
  g.map.initialValue = init;
}
