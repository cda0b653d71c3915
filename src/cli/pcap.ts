/**
 * `tsbpf pcap OBJ.o CAPTURE [STEP…]`: runs a program once per packet of a pcap or pcapng
 * file, in one load (maps build up packet after packet), then prints a line per packet, the
 * return codes counted, and the maps. With `--json`: NDJSON, one `{"type", "data"}` object a
 * line — `packet` for each run, `printk` and `ringbuf` as they happen, `summary` last.
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { dumpMaps, toHex } from "../runtime/dump.js";
import type { EngineName } from "../runtime/engine.js";
import { decodeBtfValue, stringifyBtfValue } from "../testing/btf-value.js";
import { describePacket } from "../testing/dissect.js";
import { LINKTYPE_ETHERNET, readCapture } from "../testing/pcap.js";
import { loadForCli, type GlobalSetting } from "./load.js";
import { out, UsageError } from "./output.js";
import { mapLines, parseRecordTypes, retvalName, tracePipeLine } from "./run-format.js";
import { applyStep, drainRingbufs, hexOption } from "./run.js";
import type { Step } from "./steps.js";
import { color, Progress } from "./term.js";

/** Options of `tsbpf pcap`. */
export interface PcapCliOptions {
  prog?: string;
  ctx?: string;
  engine: EngineName | "kernel";
  json?: boolean;
  /** Only the summary, no line per packet. */
  quiet?: boolean;
  /** Run at most this many packets. */
  limit?: number;
  cpus?: number;
  /** Globals to set before load (`--set`). */
  set?: GlobalSetting[];
  /** `MAP=TYPE`: decode a ring buffer's records as a BTF type. */
  ringbufType?: string[];
}

/** What `tsbpf pcap --json` prints last. */
export interface PcapSummary {
  file: string;
  format: string;
  packets: number;
  /** Return value → how many packets got it. */
  retvals: Record<string, number>;
  /** Mean nanoseconds per run. */
  duration_ns: number;
  /** The maps after the last packet, as `run --json` prints them. */
  maps: Record<string, Record<string, string>>;
}

/** `tsbpf pcap OBJ.o CAPTURE …`. */
export async function pcapCommand(
  obj: string,
  capture: string,
  opts: PcapCliOptions,
  steps: Step[],
): Promise<number> {
  if (opts.engine === "kernel") {
    throw new UsageError("pcap: --engine kernel is not supported (use run --engine kernel)");
  }
  const cap = readCapture(new Uint8Array(readFileSync(capture)));
  const packets = cap.packets.slice(0, opts.limit ?? cap.packets.length);
  const other = packets.find((p) => p.linkType !== LINKTYPE_ETHERNET);
  if (other !== undefined) {
    throw new UsageError(`${capture}: link type ${other.linkType}; only Ethernet (1) is supported`);
  }
  const ctx = opts.ctx !== undefined ? hexOption("--ctx", opts.ctx) : undefined;
  const emit = (type: string, data: unknown) =>
    out(JSON.stringify({ type, data }, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
  let printkSeq = 0;
  let current = -1;
  const pending: string[] = []; // printk lines of the current packet, shown after its line
  const printk = (line: string) => {
    if (opts.json) emit("printk", { packet: current, line: line.replace(/\n$/, "") });
    else if (!opts.quiet) pending.push(`       ${color.dim(tracePipeLine(line, printkSeq))}`);
    printkSeq++;
  };
  const c = await loadForCli(obj, { engine: opts.engine, cpus: opts.cpus, set: opts.set, printk });
  try {
    const prog = opts.prog !== undefined ? c.program(opts.prog) : c.firstProgram();
    const recordTypes = parseRecordTypes(c.spec, opts.ringbufType);
    const btf = c.spec.btf;
    const decode = (map: string, rec: Uint8Array) => {
      const type = recordTypes.get(map);
      return type !== undefined && btf !== undefined ? decodeBtfValue(btf, type, rec) : undefined;
    };
    const first = packets[0]?.data ?? new Uint8Array(64);
    for (const step of steps) applyStep(c, step, () => prog.run({ data: first, ctx }));
    drainRingbufs(c);
    pending.length = 0;
    const retvals = new Map<number, number>();
    // progress on a terminal's stderr, unless stdout already shows a line per packet there
    const quietOut = opts.json || opts.quiet || !process.stdout.isTTY;
    const bar = new Progress(basename(capture), packets.length, quietOut);
    let totalNs = 0;
    if (!opts.json && !opts.quiet) {
      out(color.dim(`  #  verdict       packet`));
    }
    for (let i = 0; i < packets.length; i++) {
      current = i;
      const p = packets[i];
      const r = prog.run({ data: p.data, ctx });
      totalNs += r.durationNs;
      retvals.set(r.retval, (retvals.get(r.retval) ?? 0) + 1);
      const name = retvalName(prog.progType, r.retval);
      const rbs = drainRingbufs(c);
      if (opts.json) {
        emit("packet", {
          index: i,
          retval: r.retval,
          ...(name ? { action: name } : {}),
          duration_ns: Math.round(r.durationNs),
          len: p.data.length,
          data_out: toHex(r.data),
        });
        for (const rb of rbs) {
          for (const rec of rb.records) {
            const formatted = decode(rb.map, rec);
            const extra = formatted !== undefined ? { formatted } : {};
            emit("ringbuf", { packet: i, map: rb.map, record: toHex(rec), ...extra });
          }
        }
      } else if (!opts.quiet) {
        const verdict = `${r.retval}${name ? ` ${name}` : ""}`;
        const painted = r.retval === 1 && name ? color.red(verdict.padEnd(12)) : verdict.padEnd(12);
        out(`${String(i).padStart(3)}  ${painted}  ${describePacket(p.data)}`);
        for (const rb of rbs) {
          for (const rec of rb.records) {
            const v = decode(rb.map, rec);
            const text = v !== undefined ? stringifyBtfValue(v) : toHex(rec);
            out(`       ${color.dim(`ringbuf ${rb.map}:`)} ${text}`);
          }
        }
        pending.forEach((l) => out(l));
        pending.length = 0;
      }
      bar.update(i + 1);
    }
    bar.done();
    const summary: PcapSummary = {
      file: capture,
      format: cap.format,
      packets: packets.length,
      retvals: Object.fromEntries([...retvals].sort((a, b) => a[0] - b[0])),
      duration_ns: packets.length ? Math.round(totalNs / packets.length) : 0,
      maps: dumpMaps(c),
    };
    if (opts.json) {
      emit("summary", summary);
      return 0;
    }
    out("");
    out(
      `${color.bold(prog.name)} ran on ${packets.length} packet${packets.length === 1 ? "" : "s"} ` +
        `from ${basename(capture)} (${cap.format}), ${summary.duration_ns}ns per run (average)`,
    );
    out("return codes:");
    for (const [rv, n] of Object.entries(summary.retvals)) {
      const name = retvalName(prog.progType, Number(rv));
      out(`  ${`${rv}${name ? ` (${name})` : ""}`.padEnd(20)} ${n}`);
    }
    for (const [name, entries] of Object.entries(summary.maps)) {
      const m = c.spec.maps.find((x) => x.name === name);
      if (m !== undefined) mapLines(c.spec, m, entries).forEach(out);
    }
    return 0;
  } finally {
    c.close();
  }
}
