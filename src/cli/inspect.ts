/**
 * `tsbpf inspect OBJ.o`: what an object holds — programs (section, type, size, subprograms,
 * helpers, the prog_arrays they tail-call through), maps (type, key and value with their BTF
 * types, capacity, flags, static slots), license.
 */
import { BTF_KIND_DATASEC, BTF_KIND_VAR } from "../elf/btf-types.js";
import { progTypeName } from "../elf/constants.js";
import type { CollectionSpec, MapSpec, ProgramSpec } from "../elf/types.js";
import { decodeProgram } from "../isa/decode.js";
import * as MC from "../maps/constants.js";
import { loadCollectionSpecFile } from "../node.js";
import { helperLabel } from "./disasm.js";
import { out } from "./output.js";
import { color } from "./term.js";

/** One program as `inspect --json` lists it. */
export interface ProgramInfo {
  name: string;
  section: string;
  /** Linux program type number and name (`xdp`, `sched_cls`…). */
  type: number;
  type_name: string;
  insns: number;
  subprograms: string[];
  helpers: string[];
  /** Maps the program references (lddw), in first-use order. */
  maps: string[];
}

/** One map as `inspect --json` lists it. */
export interface MapInfo {
  name: string;
  type: string;
  key_size: number;
  value_size: number;
  /** C spelling of the BTF key and value types, when the object has them. */
  key_type?: string;
  value_type?: string;
  max_entries: number;
  flags: number;
  flag_names: string[];
  section: string;
  initial_slots?: { key: number; target: string }[];
  /** Global data maps: the variables in the section, in offset order. */
  variables?: string[];
}

/** What `inspect --json` prints. */
export interface ObjectInfo {
  name: string;
  license: string;
  programs: ProgramInfo[];
  maps: MapInfo[];
}

const FLAG_NAMES: [number, string][] = Object.entries(MC)
  .filter(([k, v]) => k.startsWith("BPF_F_") && typeof v === "number" && k !== "BPF_F_ACCESS_MASK")
  .map(([k, v]) => [v as number, k]);

/** Names of the `BPF_F_*` creation flags set in `flags` (unknown bits as hex). */
export function mapFlagNames(flags: number): string[] {
  const names: string[] = [];
  let left = flags >>> 0;
  for (const [bit, name] of FLAG_NAMES) {
    if ((left & bit) !== 0) {
      names.push(name);
      left &= ~bit;
    }
  }
  if (left !== 0) names.push(`0x${left.toString(16)}`);
  return names;
}

function programInfo(spec: CollectionSpec, p: ProgramSpec): ProgramInfo {
  const insns = decodeProgram(p.insns);
  const helpers = new Set<number>();
  const maps: string[] = [];
  for (let pc = 0; pc < insns.length; pc++) {
    const code = insns.code[pc];
    if (code === 0x85 && insns.src[pc] === 0) helpers.add(insns.imm[pc]);
    if (code === 0x18 && (insns.src[pc] === 1 || insns.src[pc] === 2)) {
      const m = spec.maps[insns.imm[pc]];
      if (m !== undefined && !maps.includes(m.name)) maps.push(m.name);
    }
    if (code === 0x18) pc++;
  }
  return {
    name: p.name,
    section: p.section,
    type: p.progType,
    type_name: progTypeName(p.progType),
    insns: insns.length,
    subprograms: p.funcs.filter((f) => f.start !== 0).map((f) => f.name),
    helpers: [...helpers].sort((a, b) => a - b).map(helperLabel),
    maps,
  };
}

function mapInfo(spec: CollectionSpec, m: MapSpec): MapInfo {
  const vars = sectionVars(spec, m);
  const typeName = (id: number | undefined) =>
    spec.btf !== undefined && id ? spec.btf.typeToString(id) : undefined;
  return {
    name: m.name,
    type: MC.mapTypeName(m.type),
    key_size: m.keySize,
    value_size: m.valueSize,
    ...(typeName(m.keyTypeId) !== undefined ? { key_type: typeName(m.keyTypeId) } : {}),
    ...(typeName(m.valueTypeId) !== undefined ? { value_type: typeName(m.valueTypeId) } : {}),
    max_entries: m.maxEntries,
    flags: m.flags,
    flag_names: mapFlagNames(m.flags),
    section: m.section,
    ...(m.initialSlots ? { initial_slots: m.initialSlots } : {}),
    ...(vars.length ? { variables: vars } : {}),
  };
}

/** The variables of a global data map (its DATASEC), in offset order. */
function sectionVars(spec: CollectionSpec, m: MapSpec): string[] {
  const t = m.valueTypeId !== undefined ? spec.btf?.types[m.valueTypeId] : undefined;
  if (t?.kind !== BTF_KIND_DATASEC) return [];
  return [...t.vars]
    .sort((a, b) => a.offset - b.offset)
    .map((v) => spec.btf?.types[v.type])
    .filter((v) => v?.kind === BTF_KIND_VAR)
    .map((v) => v?.name ?? "");
}

/** The facts `inspect` prints about an object. */
export function objectInfo(spec: CollectionSpec): ObjectInfo {
  return {
    name: spec.name,
    license: spec.license,
    programs: spec.programs.map((p) => programInfo(spec, p)),
    maps: spec.maps.map((m) => mapInfo(spec, m)),
  };
}

/** `tsbpf inspect FILE.o [--json]`. */
export function inspectCommand(file: string, opts: { json?: boolean }): number {
  const info = objectInfo(loadCollectionSpecFile(file));
  if (opts.json) {
    out(JSON.stringify(info));
    return 0;
  }
  const b = color.bold;
  const d = color.dim;
  out(`object ${b(info.name)}, license ${JSON.stringify(info.license)}`);
  out("");
  out(b(`programs (${info.programs.length}):`));
  for (const p of info.programs) {
    out(
      `  ${b(p.name)}  ${d(`section ${p.section}, type ${p.type_name} (${p.type})`)}, ${p.insns} insns`,
    );
    if (p.subprograms.length) out(`    subprograms: ${p.subprograms.join(", ")}`);
    if (p.helpers.length) out(`    helpers:     ${p.helpers.join(", ")}`);
    if (p.maps.length) out(`    maps:        ${p.maps.join(", ")}`);
  }
  out("");
  out(b(`maps (${info.maps.length}):`));
  for (const m of info.maps) {
    const key = m.key_type ? `${m.key_type} (${m.key_size})` : `${m.key_size}`;
    const value = m.value_type ? `${m.value_type} (${m.value_size})` : `${m.value_size}`;
    const flags = m.flag_names.length ? `, flags ${m.flag_names.join("|")}` : "";
    out(`  ${b(m.name)}  ${d(m.type)}`);
    out(`    key ${key}, value ${value}, max_entries ${m.max_entries}${flags}`);
    for (const s of m.initial_slots ?? []) out(`    [${s.key}] = ${s.target}`);
    if (m.variables) out(`    variables: ${m.variables.join(", ")}`);
  }
  return 0;
}
