/**
 * Map entries as `bpftool map dump` shows them: raw bytes, and a `formatted` object decoded by
 * the map's BTF key and value types. Per-CPU values are `values: [{cpu, value}]`. Global data
 * maps (a DATASEC value) have no key, as in bpftool.
 */
import type { CollectionSpec, MapSpec } from "../elf/types.js";
import { BTF_KIND_DATASEC } from "../elf/btf-types.js";
import {
  BPF_MAP_TYPE_LRU_PERCPU_HASH,
  BPF_MAP_TYPE_PERCPU_ARRAY,
  BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE,
  BPF_MAP_TYPE_PERCPU_HASH,
} from "../maps/constants.js";
import type { BpfMap } from "../maps/types.js";
import { decodeBtfValue, type BtfValue } from "./btf-value.js";

/** One entry as `bpftool map dump -j` prints it. */
export interface BpftoolEntry {
  /** Key bytes as `"0x.."` strings (absent for global data maps). */
  key?: string[];
  /** Value bytes as `"0x.."` strings (not for per-CPU maps). */
  value?: string[];
  /** Per-CPU maps: each CPU's value bytes. */
  values?: { cpu: number; value: string[] }[];
  /** Key and value decoded by BTF, when the map has BTF types. */
  formatted?: {
    key?: BtfValue;
    value?: BtfValue;
    values?: { cpu: number; value: BtfValue }[];
  };
}

const PERCPU = new Set([
  BPF_MAP_TYPE_PERCPU_HASH,
  BPF_MAP_TYPE_PERCPU_ARRAY,
  BPF_MAP_TYPE_LRU_PERCPU_HASH,
  BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE,
]);

/** Whether the map keeps one value per CPU. */
export function isPerCpu(type: number): boolean {
  return PERCPU.has(type);
}

/** Whether a map is global data (its value type is a DATASEC): bpftool shows no key. */
export function isGlobalData(spec: CollectionSpec, m: MapSpec): boolean {
  const t = m.valueTypeId !== undefined ? spec.btf?.types[m.valueTypeId] : undefined;
  return t?.kind === BTF_KIND_DATASEC;
}

const hexList = (b: Uint8Array) => Array.from(b, (x) => "0x" + x.toString(16).padStart(2, "0"));

/** A key decoded by its BTF type (a list of byte values when the map has none). */
export function formatKey(spec: CollectionSpec, m: MapSpec, key: Uint8Array): BtfValue {
  if (spec.btf === undefined || !m.keyTypeId) return Array.from(key);
  return decodeBtfValue(spec.btf, m.keyTypeId, key);
}

/**
 * A value decoded by its BTF type (a list of byte values when the map has none). Per-CPU
 * values (every CPU's, each padded to 8 bytes) give `[{cpu, value}]`.
 */
export function formatValue(spec: CollectionSpec, m: MapSpec, value: Uint8Array): BtfValue {
  const one = (v: Uint8Array): BtfValue =>
    spec.btf === undefined || !m.valueTypeId
      ? Array.from(v)
      : decodeBtfValue(spec.btf, m.valueTypeId, v);
  if (!isPerCpu(m.type)) return one(value);
  const stride = Math.ceil(m.valueSize / 8) * 8;
  const out: BtfValue[] = [];
  for (let cpu = 0; cpu * stride < value.length; cpu++) {
    out.push({ cpu, value: one(value.subarray(cpu * stride, cpu * stride + m.valueSize)) });
  }
  return out;
}

/** Every entry of `map` as `bpftool map dump -j` prints it. */
export function bpftoolEntries(
  spec: CollectionSpec,
  m: MapSpec,
  map: BpfMap,
  numCpus: number,
): BpftoolEntry[] {
  const out: BpftoolEntry[] = [];
  const btf = spec.btf;
  const global = isGlobalData(spec, m);
  for (const [key, value] of map.entries()) {
    const e: BpftoolEntry = global ? {} : { key: hexList(key) };
    const fmtKey =
      !global && btf !== undefined && m.keyTypeId ? formatKey(spec, m, key) : undefined;
    if (isPerCpu(m.type)) {
      const stride = Math.ceil(m.valueSize / 8) * 8;
      const cpus = Array.from({ length: numCpus }, (_, cpu) =>
        value.subarray(cpu * stride, cpu * stride + m.valueSize),
      );
      e.values = cpus.map((v, cpu) => ({ cpu, value: hexList(v) }));
      if (btf !== undefined && m.valueTypeId) {
        const values = cpus.map((v, cpu) => ({
          cpu,
          value: decodeBtfValue(btf, m.valueTypeId as number, v),
        }));
        e.formatted = { ...(fmtKey !== undefined ? { key: fmtKey } : {}), values };
      }
    } else {
      e.value = hexList(value);
      if (btf !== undefined && m.valueTypeId) {
        const fv = decodeBtfValue(btf, m.valueTypeId, value);
        e.formatted = { ...(fmtKey !== undefined ? { key: fmtKey } : {}), value: fv };
      }
    }
    out.push(e);
  }
  return out;
}
