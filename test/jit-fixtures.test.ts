import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import "../src/jit/index.js";
import { dumpMaps, loadCollection } from "../src/index.js";
import type { TraceEvent } from "../src/runtime/trace.js";

/** Every clang-built object of the repository, run on both engines: the same everything. */
const dirs = [
  join(import.meta.dirname, "fixtures"),
  join(import.meta.dirname, "elf-fixtures"),
  join(import.meta.dirname, "..", "bench", "progs"),
];
const objects = dirs.flatMap((d) => {
  try {
    return readdirSync(d)
      .filter((f) => f.endsWith(".o") && !f.startsWith("large"))
      .map((f) => join(d, f));
  } catch {
    return [];
  }
});

function packet(seed: number): Uint8Array {
  const p = new Uint8Array(128).map((_, i) => (i * 7 + seed * 13) & 0xff);
  p.set([0x08, 0x00, 0x45, 0x00], 12); // IPv4
  p[23] = [6, 17, 1][seed % 3]; // TCP, UDP, ICMP
  return p;
}

function runAll(file: string, engine: "interp" | "jit"): unknown {
  const out: unknown[] = [];
  let c;
  try {
    c = loadCollection(new Uint8Array(readFileSync(file)), { name: file, engine });
  } catch (e) {
    return { load: (e as Error).message };
  }
  for (const [name, p] of c.programs) {
    for (let seed = 0; seed < 3; seed++) {
      const trace: TraceEvent[] = [];
      try {
        // the first packet traced (the JIT's traced code), the others not (its fast paths)
        const sink = seed === 0 ? (ev: TraceEvent) => trace.push(ev) : undefined;
        const r = p.run({ data: packet(seed), repeat: 2, trace: sink });
        out.push({ name, retval: r.retval, data: r.data, ctx: r.ctx, trace });
      } catch (e) {
        out.push({ name, error: (e as Error).message, trace });
      }
    }
  }
  out.push(dumpMaps(c));
  return out;
}

describe("jit: clang-built objects behave the same on both engines", () => {
  it.each(objects.map((f) => [f.split("/").slice(-2).join("/"), f]))("%s", (_name, file) => {
    expect(runAll(file, "jit")).toEqual(runAll(file, "interp"));
  });
});
