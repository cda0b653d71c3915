/**
 * Runs a raw case (the kernel runner's form) in tsbpf: a hand-built CollectionSpec loaded on one
 * engine, slots and map entries set as the runner sets them, one test run, every map dumped.
 * And the comparison of that against what the kernel printed.
 */
import "../../src/vm/index.js";
import type { CollectionSpec, FuncBoundary, MapSpec, ProgramSpec } from "../../src/elf/types.js";
import type { KernelRawCase, KernelRunResult } from "../../src/kernel/runner.js";
import { Collection } from "../../src/runtime/collection.js";
import { dumpMap, dumpMaps, fromHex, toHex } from "../../src/runtime/dump.js";
import type { EngineName } from "../../src/runtime/engine.js";

/** What tsbpf gave for a case: the kernel's fields, or the error it stopped with. */
export type TsbpfOutcome =
  | {
      retval: number;
      data_out: string;
      /** The context out, when the case gave one in (as the kernel reports it only then). */
      ctx_out: string;
      maps: Record<string, Record<string, string>>;
    }
  | { error: string };

const SECTIONS: Record<number, string> = { 1: "socket", 3: "tc", 6: "xdp" };
/** Map types a dump leaves out (as `dumpMaps` and the kernel runner do). */
const NOT_DUMPED = new Set([3, 4, 12, 13, 22, 23, 27, 30]);

/** Function starts of a linked program: 0 and every bpf-to-bpf call target. */
function funcsOf(name: string, insns: Uint8Array): FuncBoundary[] {
  const dv = new DataView(insns.buffer, insns.byteOffset, insns.byteLength);
  const starts = new Set<number>([0]);
  for (let pc = 0; pc < insns.length / 8; pc++) {
    const code = insns[pc * 8];
    const src = insns[pc * 8 + 1] >> 4;
    if ((code === 0x85 && src === 1) || (code === 0x18 && src === 4)) {
      starts.add(pc + 1 + dv.getInt32(pc * 8 + 4, true));
    }
  }
  return [...starts]
    .sort((a, b) => a - b)
    .map((start, i) => ({ name: i === 0 ? name : `${name}_f${start}`, start, global: false }));
}

/** The CollectionSpec of a raw case (lddw src 1/2 imm already is a map index). */
export function specOfRaw(c: KernelRawCase): CollectionSpec {
  const progType = c.prog_type ?? 6;
  const maps: MapSpec[] = c.maps.map((m) => ({
    name: m.name,
    type: m.type,
    keySize: m.key_size,
    valueSize: m.value_size,
    maxEntries: m.max_entries,
    flags: m.flags ?? 0,
    section: ".maps",
    readonlyProg: false,
  }));
  const programs: ProgramSpec[] = c.progs.map((p) => {
    const insns = fromHex(p.insns);
    const type = p.prog_type ?? progType;
    return {
      name: p.name,
      section: SECTIONS[type] ?? "raw",
      autoload: true,
      insns,
      funcs: funcsOf(p.name, insns),
      lineInfo: [],
      funcInfo: [],
      coreRelos: [],
      license: "GPL",
      global: true,
      progType: type,
      expectedAttachType: p.attach_type ?? 0,
      progFlags: p.flags ?? 0,
    };
  });
  return { name: "fuzz", programs, maps, license: "GPL" };
}

/** Runs a raw case on `engine`; never throws for what the case does. */
export function runRawInTsbpf(c: KernelRawCase, engine: EngineName): TsbpfOutcome {
  let coll: Collection | undefined;
  try {
    // a small linear memory: a case needs a few pages, and thousands of them are loaded
    coll = Collection.load(specOfRaw(c), {
      engine,
      maxBytes: 64 << 20,
      numCpus: c.num_cpus ?? 1,
    });
    for (const s of c.slots ?? []) {
      coll.setSlot(c.maps[s.map].name, s.index, c.progs[s.prog].name);
    }
    for (const u of c.updates ?? []) {
      coll.map(c.maps[u.map].name).update(fromHex(u.key), fromHex(u.value), BigInt(u.flags ?? 0));
    }
    const r = coll.program(c.progs[c.entry ?? 0].name).run({
      data: fromHex(c.data ?? "00".repeat(64)),
      ctx: c.ctx !== undefined ? fromHex(c.ctx) : undefined,
      repeat: c.repeat ?? 1,
    });
    const ctxOut = c.ctx !== undefined && r.ctx !== undefined ? toHex(r.ctx) : "";
    return { retval: r.retval, data_out: toHex(r.data), ctx_out: ctxOut, maps: dumpMaps(coll) };
  } catch (e) {
    const err = e as Error;
    return { error: `${err.name}: ${err.message}` };
  } finally {
    coll?.close();
  }
}

/** `insns` with every map reference (lddw src 1/2/5/6) moved up by `base` maps. */
function shiftMaps(insns: Uint8Array, base: number): Uint8Array {
  const out = insns.slice();
  const dv = new DataView(out.buffer);
  for (let pc = 0; pc < out.length / 8; pc++) {
    if (out[pc * 8] !== 0x18) continue;
    const src = out[pc * 8 + 1] >> 4;
    if (src === 1 || src === 2 || src === 5 || src === 6) {
      dv.setInt32(pc * 8 + 4, dv.getInt32(pc * 8 + 4, true) + base, true);
    }
    pc++;
  }
  return out;
}

/**
 * Runs many raw cases in one collection (each case's maps and programs renamed `K/NAME`), which
 * saves building an address space per case; the outcome of each case is as if it ran alone.
 * Falls back to one collection per case when the combined one does not load.
 */
export function runRawBatchInTsbpf(
  cases: readonly KernelRawCase[],
  engine: EngineName,
): TsbpfOutcome[] {
  const spec: CollectionSpec = { name: "fuzz", programs: [], maps: [], license: "GPL" };
  cases.forEach((c, k) => {
    const one = specOfRaw(c);
    const base = spec.maps.length;
    for (const m of one.maps) spec.maps.push({ ...m, name: `${k}/${m.name}` });
    for (const p of one.programs) {
      spec.programs.push({
        ...p,
        name: `${k}/${p.name}`,
        insns: shiftMaps(p.insns, base),
        funcs: p.funcs.map((f) => ({ ...f, name: `${k}/${f.name}` })),
      });
    }
  });
  const numCpus = cases[0]?.num_cpus ?? 1;
  let coll: Collection;
  try {
    if (cases.some((c) => (c.num_cpus ?? 1) !== numCpus)) throw new Error("mixed num_cpus");
    coll = Collection.load(spec, { engine, maxBytes: 256 << 20, numCpus });
  } catch {
    return cases.map((c) => runRawInTsbpf(c, engine));
  }
  try {
    return cases.map((c, k): TsbpfOutcome => {
      try {
        for (const s of c.slots ?? []) {
          coll.setSlot(`${k}/${c.maps[s.map].name}`, s.index, `${k}/${c.progs[s.prog].name}`);
        }
        for (const u of c.updates ?? []) {
          coll
            .map(`${k}/${c.maps[u.map].name}`)
            .update(fromHex(u.key), fromHex(u.value), BigInt(u.flags ?? 0));
        }
        const r = coll.program(`${k}/${c.progs[c.entry ?? 0].name}`).run({
          data: fromHex(c.data ?? "00".repeat(64)),
          ctx: c.ctx !== undefined ? fromHex(c.ctx) : undefined,
          repeat: c.repeat ?? 1,
        });
        const maps: Record<string, Record<string, string>> = {};
        for (const m of c.maps) {
          if (!NOT_DUMPED.has(m.type)) maps[m.name] = dumpMap(coll.map(`${k}/${m.name}`));
        }
        const ctxOut = c.ctx !== undefined && r.ctx !== undefined ? toHex(r.ctx) : "";
        return { retval: r.retval, data_out: toHex(r.data), ctx_out: ctxOut, maps };
      } catch (e) {
        const err = e as Error;
        return { error: `${err.name}: ${err.message}` };
      }
    });
  } finally {
    coll.close();
  }
}

/** One field where tsbpf and the kernel disagree. */
export interface Diff {
  /** `retval`, `data_out`, `maps.NAME[KEY]`, or `error`. */
  field: string;
  kernel: string;
  tsbpf: string;
}

/** The fields in which tsbpf's outcome differs from the kernel's result ([] when equal). */
export function compareOutcome(k: KernelRunResult, t: TsbpfOutcome): Diff[] {
  if ("error" in t) return [{ field: "error", kernel: "(ran)", tsbpf: t.error }];
  const diffs: Diff[] = [];
  if (k.retval !== t.retval) {
    diffs.push({ field: "retval", kernel: String(k.retval), tsbpf: String(t.retval) });
  }
  if (k.data_out !== t.data_out) {
    diffs.push({ field: "data_out", kernel: k.data_out, tsbpf: t.data_out });
  }
  if ((k.ctx_out ?? "") !== t.ctx_out) {
    diffs.push({ field: "ctx_out", kernel: k.ctx_out ?? "", tsbpf: t.ctx_out });
  }
  const names = new Set([...Object.keys(k.maps), ...Object.keys(t.maps)]);
  for (const name of names) {
    const km = k.maps[name] ?? {};
    const tm = t.maps[name] ?? {};
    const keys = new Set([...Object.keys(km), ...Object.keys(tm)]);
    for (const key of [...keys].sort()) {
      if (km[key] !== tm[key]) {
        diffs.push({
          field: `maps.${name}[${key}]`,
          kernel: km[key] ?? "(absent)",
          tsbpf: tm[key] ?? "(absent)",
        });
      }
    }
  }
  return diffs;
}
