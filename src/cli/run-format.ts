/**
 * `tsbpf run` without `--json`: what `bpftool prog run` prints (the return value with its
 * name, the mean duration, a hexdump of data_out), then each map decoded by its BTF types as
 * `bpftool map dump` formats them, ring buffer records and `bpf_printk` lines.
 */
import type { CollectionSpec, MapSpec } from "../elf/types.js";
import { mapTypeName } from "../maps/constants.js";
import {
  BPF_PROG_TYPE_SCHED_ACT,
  BPF_PROG_TYPE_SCHED_CLS,
  BPF_PROG_TYPE_XDP,
  TC_ACTIONS,
  XDP_ACTIONS,
} from "../progtypes/index.js";
import { fromHex } from "../runtime/dump.js";
import { decodeBtfValue, stringifyBtfValue, type BtfValue } from "../testing/btf-value.js";
import { formatKey, formatValue, isGlobalData } from "../testing/map-format.js";
import { UsageError } from "./output.js";
import { color } from "./term.js";

/** What a run reports, from any engine. */
export interface RunReport {
  retval: number;
  durationNs: number;
  dataOut: Uint8Array;
  /** `{NAME: {KEYHEX: VALUEHEX}}`, as `--json` prints them. */
  maps: Record<string, Record<string, string>>;
  /** Program type of the program run (names the return code). */
  progType: number;
  /** The object (BTF types of the maps). */
  spec: CollectionSpec;
  /** Ring buffer records left by the run, by map. */
  ringbufs?: { map: string; records: Uint8Array[] }[];
  /** BTF type ids to decode ring buffer records with, by map name (`--ringbuf-type`). */
  recordTypes?: Map<string, number>;
  /** `bpf_printk` lines. */
  printk?: string[];
  /** A note after the duration, e.g. `(Linux kernel)`. */
  note?: string;
}

/** The name of a return code for the program type, e.g. `XDP_PASS`. */
export function retvalName(progType: number, retval: number): string | undefined {
  if (progType === BPF_PROG_TYPE_XDP) return XDP_ACTIONS[retval];
  if (progType === BPF_PROG_TYPE_SCHED_CLS || progType === BPF_PROG_TYPE_SCHED_ACT) {
    return TC_ACTIONS[retval | 0];
  }
  return undefined;
}

/**
 * A hexdump as bpftool's `hex_print` writes data_out: offset, 16 bytes in pairs, then the
 * printable characters.
 */
export function hexdump(bytes: Uint8Array): string[] {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    let hex = "";
    let ascii = "";
    for (let j = i; j < i + 16; j++) {
      if (j < bytes.length) {
        hex += bytes[j].toString(16).padStart(2, "0") + (j % 2 ? " " : "");
        const ch = bytes[j];
        ascii +=
          (ch < 0x20 || ch > 0x7e ? "." : String.fromCharCode(ch)) + (j === i + 7 ? " " : "");
      } else hex += "  " + (j % 2 ? " " : "");
    }
    lines.push(`${i.toString(16).padStart(7, "0")}\t${hex}| ${ascii}`);
  }
  return lines;
}

/** The return-value line of `bpftool prog run`. */
export function returnLine(retval: number, progType: number, durationNs: number): string {
  const name = retvalName(progType, retval);
  const rv = color.bold(`${retval}${name ? ` (${name})` : ""}`);
  return `Return value: ${rv}, duration (average): ${Math.round(durationNs)}ns`;
}

/** The C spelling of a map's key or value type (`struct datarec`), or its size. */
function typeText(spec: CollectionSpec, id: number | undefined, size: number): string {
  if (spec.btf === undefined || !id) return `${size} bytes`;
  return spec.btf.typeToString(id);
}

/** The lines of one map's entries, decoded by BTF (see {@link printRunHuman}). */
export function mapLines(
  spec: CollectionSpec,
  m: MapSpec,
  entries: Record<string, string>,
): string[] {
  const keys = Object.keys(entries);
  const head = `map ${color.bold(m.name)}`;
  if (isGlobalData(spec, m)) {
    const lines = [`${head}  ${color.dim(`(${m.section})`)}`];
    for (const k of keys) {
      const v = formatValue(spec, m, fromHex(entries[k]));
      const vars = (typeof v === "object" && !Array.isArray(v) ? Object.values(v)[0] : []) as
        BtfValue[] | undefined;
      for (const entry of vars ?? []) {
        for (const [name, value] of Object.entries(entry as Record<string, BtfValue>)) {
          lines.push(`  ${name} = ${stringifyBtfValue(value)}`);
        }
      }
      if (!vars?.length) lines.push(color.dim(`  ${entries[k]}  (no named variables in BTF)`));
    }
    if (keys.length === 0) lines.push(color.dim("  (all zero)"));
    return lines;
  }
  const types =
    `${mapTypeName(m.type)}, key ${typeText(spec, m.keyTypeId, m.keySize)}, ` +
    `value ${typeText(spec, m.valueTypeId, m.valueSize)}`;
  const lines = [`${head}  ${color.dim(`(${types}): ${countText(keys.length, m.type)}`)}`];
  // without BTF types, bytes as bpftool prints them: `01 00 00 00`
  const bytes = (hex: string) => (hex.match(/../g) ?? []).join(" ");
  const typed = spec.btf !== undefined;
  const rows = keys.map((k) => [
    typed && m.keyTypeId ? stringifyBtfValue(formatKey(spec, m, fromHex(k))) : bytes(k),
    typed && m.valueTypeId
      ? stringifyBtfValue(formatValue(spec, m, fromHex(entries[k])))
      : bytes(entries[k]),
  ]);
  const width = Math.min(40, Math.max(0, ...rows.map((r) => r[0].length)));
  for (const [k, v] of rows) lines.push(`  key: ${k.padEnd(width)}  value: ${v}`);
  return lines;
}

function countText(n: number, type: number): string {
  const arrays = type === 2 || type === 6;
  const what = `${n} entr${n === 1 ? "y" : "ies"}`;
  return arrays ? `${what} not all-zero` : what;
}

/**
 * The BTF id of a type named in a `--ringbuf-type MAP=TYPE` option: `struct event`,
 * `union u`, `enum e`, or a bare name (a struct, union, typedef… of that name).
 */
export function resolveTypeName(spec: CollectionSpec, text: string): number {
  const btf = spec.btf;
  if (btf === undefined) throw new UsageError(`type "${text}": the object has no BTF`);
  const m = /^(struct|union|enum)\s+(\S+)$/.exec(text.trim());
  const kinds = m ? [KIND_BY_WORD[m[1]]] : undefined;
  const name = m ? m[2] : text.trim();
  const t = btf.types.find(
    (x) => x.name === name && (kinds === undefined || kinds.includes(x.kind)) && x.kind !== 14,
  );
  if (t === undefined) throw new UsageError(`no type "${text}" in the object's BTF`);
  return t.id;
}

/** Parses `--ringbuf-type MAP=TYPE` options into BTF type ids by map name. */
export function parseRecordTypes(spec: CollectionSpec, opts: string[] = []): Map<string, number> {
  const out = new Map<string, number>();
  for (const o of opts) {
    const eq = o.indexOf("=");
    if (eq <= 0) throw new UsageError(`--ringbuf-type ${o}: expected MAP=TYPE`);
    const map = o.slice(0, eq);
    if (!spec.maps.some((m) => m.name === map)) {
      throw new UsageError(`--ringbuf-type ${o}: no map named "${map}"`);
    }
    out.set(map, resolveTypeName(spec, o.slice(eq + 1)));
  }
  return out;
}

const KIND_BY_WORD: Record<string, number> = { struct: 4, union: 5, enum: 6 };

/** The trace_pipe line of a `bpf_printk` message, as Linux prints it. */
export function tracePipeLine(msg: string, seq: number): string {
  const ts = (seq / 1e6).toFixed(6).padStart(12);
  return `${"tsbpf-1".padStart(16)}   [000] d..31 ${ts}: bpf_trace_printk: ${msg.replace(/\n$/, "")}`;
}

/** Prints a run report as `bpftool prog run` and `bpftool map dump` would. */
export function printRunHuman(r: RunReport, out: (line: string) => void): void {
  const ret = returnLine(r.retval, r.progType, r.durationNs);
  out(r.note ? `${ret} ${color.dim(r.note)}` : ret);
  out(color.dim(`data_out (${r.dataOut.length} bytes):`));
  hexdump(r.dataOut).forEach(out);
  for (const [name, entries] of Object.entries(r.maps)) {
    const m = r.spec.maps.find((x) => x.name === name);
    if (m === undefined) continue;
    mapLines(r.spec, m, entries).forEach(out);
  }
  for (const rb of r.ringbufs ?? []) {
    const n = rb.records.length;
    out(`ringbuf ${color.bold(rb.map)}: ${n} record${n === 1 ? "" : "s"}`);
    rb.records.forEach((rec, i) => {
      const type = r.recordTypes?.get(rb.map);
      if (type !== undefined && r.spec.btf !== undefined) {
        out(`  ${stringifyBtfValue(decodeBtfValue(r.spec.btf, type, rec))}`);
        return;
      }
      out(color.dim(`  record ${i} (${rec.length} bytes):`));
      hexdump(rec).forEach((l) => out(`  ${l}`));
    });
  }
  if (r.printk?.length) {
    out(color.dim("bpf_printk (trace_pipe):"));
    r.printk.forEach((l, i) => out(tracePipeLine(l, i)));
  }
}
