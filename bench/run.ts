/**
 * `npm run bench`: the benchmark suite. Every engine tsbpf has (and the Linux kernel, through
 * the native runner, where it can run programs) on the same objects, measured in one run.
 * Prints a markdown table, writes it to bench/RESULTS.md, and with `--readme` into README.md
 * between the `bench:start` / `bench:end` markers.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { assemble } from "../src/isa/asm.js";
import { kernelAvailable, runInKernel } from "../src/kernel/runner.js";
import { SegmentFlags } from "../src/memory/layout.js";
import { loadCollectionFile, loadCollectionSpecFile } from "../src/node.js";
import { createEngine, engineFactories, type EngineName } from "../src/runtime/engine.js";
import { Machine } from "../src/runtime/machine.js";
import { prepareProgram } from "../src/runtime/prepare.js";
import { Collection } from "../src/runtime/collection.js";
import "../src/vm/index.js";

try {
  await import("../src/jit/index.js");
} catch {
  // no JIT in this build
}

const root = join(import.meta.dirname, "progs");
const engines = [...engineFactories.keys()] as EngineName[];
const kernel = kernelAvailable();
const tty = process.stderr.isTTY;
let step = 0;
let steps = 0;

function progress(what: string): void {
  step++;
  if (tty) process.stderr.write(`\r\x1b[K[${step}/${steps}] ${what}`);
  else process.stderr.write(`[${step}/${steps}] ${what}\n`);
}

/** Mean ns per call of `f` (which does `inner` operations), after a warm-up past tier-up. */
function measure(f: () => void, minMs = 400): number {
  const warm = performance.now();
  while (performance.now() - warm < 150) f();
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < minMs) {
    f();
    n++;
    t = performance.now();
  }
  return ((t - t0) * 1e6) / n;
}

/** A 1500-byte UDP/IPv4 packet. */
function packet(): Uint8Array {
  const head =
    "020000000002020000000001080045000028123440004011000" +
    "00a0000010a010203303900350014000068656c6c6f";
  const p = new Uint8Array(1500).fill(0xab);
  const h = Uint8Array.from(head.match(/../g) ?? [], (x) => parseInt(x, 16));
  p.set(h);
  return p;
}

interface Row {
  name: string;
  unit: string;
  values: Map<string, number>;
  note?: string;
}

const rows: Row[] = [];
const fmt = (v: number | undefined, unit: string) =>
  v === undefined
    ? "–"
    : unit === "M insn/s"
      ? v.toFixed(0)
      : v < 100
        ? v.toFixed(1)
        : v.toFixed(0);

/** Raw-instruction speed of each engine, in M instructions/s. */
function insnSpeed(name: string, src: string, insns: number, mem: number): void {
  const values = new Map<string, number>();
  for (const e of engines) {
    progress(`${name} on ${e}`);
    const m = new Machine();
    const prog = prepareProgram(m, { name, insns: assemble(src) });
    const seg = m.mem.mapRegion("mem", mem, SegmentFlags.WRITABLE);
    const engine = createEngine(e, m);
    const ns = measure(() => engine.run(prog, seg.base, 0, mem, 0));
    values.set(e, (insns / ns) * 1e3);
  }
  rows.push({ name, unit: "M insn/s", values });
}

/**
 * ns per run of one program of an object on every engine and in the kernel, measured as
 * BPF_PROG_TEST_RUN measures its `duration`: the mean time of a run inside the repeat loop,
 * without copying the packet in and out or building the context. For tsbpf, the median of
 * `durationNs` over many calls of `run({ repeat })` after a warm-up.
 */
function programRun(name: string, obj: string, prog: string | undefined, data: Uint8Array): void {
  const values = new Map<string, number>();
  for (const e of engines) {
    progress(`${name} on ${e}`);
    const c = loadCollectionFile(join(root, obj), { engine: e });
    const p = prog ? c.program(prog) : c.firstProgram();
    const t0 = performance.now();
    while (performance.now() - t0 < 150) p.run({ data, repeat: 10 }); // past tier-up
    // about a millisecond per call: long enough for the clock, short enough for many samples
    const once = p.run({ data, repeat: 10 }).durationNs;
    const repeat = Math.max(10, Math.min(20000, Math.round(1e6 / Math.max(once, 1))));
    const samples: number[] = [];
    const t1 = performance.now();
    while (performance.now() - t1 < 400) samples.push(p.run({ data, repeat }).durationNs);
    samples.sort((a, b) => a - b);
    values.set(e, samples[samples.length >> 1]);
    c.close();
  }
  if (kernel.ok) {
    progress(`${name} in the kernel`);
    const r = runInKernel(join(root, obj), { prog, data, repeat: 20000 });
    values.set("kernel", r.duration_ns);
  }
  rows.push({ name, unit: "ns/run", values });
}

/** Load (parse, create maps, link, validate, compile) time of an object. */
function loadTime(name: string, obj: string): void {
  const values = new Map<string, number>();
  const bytes = readFileSync(join(root, obj));
  for (const e of engines) {
    progress(`${name} on ${e}`);
    values.set(
      e,
      measure(() => {
        const spec = loadCollectionSpecFile(join(root, obj));
        const c = Collection.load(spec, { engine: e });
        c.close();
      }, 1000) / 1e6,
    );
  }
  const spec = loadCollectionSpecFile(join(root, obj));
  const insns = spec.programs.reduce((n, p) => n + p.insns.length / 8, 0);
  rows.push({
    name,
    unit: "ms",
    values,
    note: `${(bytes.length / 1024).toFixed(0)} KiB, ${spec.programs.length} programs, ${insns} insns, ${spec.maps.length} maps`,
  });
}

/** A straight-line program of about `n` instructions: ALU work with a forward branch every 8. */
function generated(n: number): string {
  const ops = [
    "add %r0, %r1",
    "xor %r0, 0x5555",
    "lsh %r0, 3",
    "rsh %r0, 1",
    "mul %r0, 7",
    "add32 %r1, 3",
    "sub %r0, %r1",
  ];
  const lines = ["mov %r0, 1", "mov %r1, 2"];
  for (let i = 0; lines.length < n - 1; i++) {
    lines.push(i % 8 === 7 ? `jeq %r0, ${i}, l${i}\nl${i}:` : ops[i % ops.length]);
  }
  lines.push("exit");
  return lines.join("\n");
}

/** Load (validate, resolve) + compile + first run of an `n`-instruction program, in ms. */
function compileTime(name: string, n: number): void {
  const values = new Map<string, number>();
  const code = assemble(generated(n));
  for (const e of engines) {
    progress(`${name} on ${e}`);
    values.set(
      e,
      measure(() => {
        const m = new Machine();
        const prog = prepareProgram(m, { name, insns: code });
        createEngine(e, m).run(prog, 0, 0);
      }, 1000) / 1e6,
    );
  }
  rows.push({ name, unit: "ms", values });
}

const ALU_N = 100_000;
const aluLoop = `mov %r0, 0
mov %r1, 0
loop:
add %r0, %r1
xor %r0, 0x5555
lsh %r0, 3
rsh %r0, 1
mul %r0, 7
add %r1, 1
jlt %r1, ${ALU_N}, loop
exit`;
const memLoop = `mov %r0, 0
mov %r3, 0
loop:
mov %r4, %r1
add %r4, %r3
ldxb %r5, [%r4]
add %r0, %r5
stxdw [%r10-8], %r0
ldxdw %r6, [%r10-8]
add %r3, 1
jlt %r3, %r2, loop
exit`;

const pkt = packet();
const tasks: (() => void)[] = [
  () => insnSpeed("ALU loop (7 insns × 100k)", aluLoop, 3 + 7 * ALU_N, 8),
  () => insnSpeed("memory loop (8 insns × 1500)", memLoop, 3 + 8 * 1500, 1500),
  () => programRun("hash loop, 4000 rounds (hashloop.bpf.o)", "hashloop.bpf.o", undefined, pkt),
  () => programRun("checksum, 1500 bytes (checksum.bpf.o)", "checksum.bpf.o", undefined, pkt),
  () => programRun("flow counter, hash map (flowcount.bpf.o)", "flowcount.bpf.o", undefined, pkt),
  () =>
    programRun("34-program tail-call chain (tailchain.bpf.o)", "tailchain.bpf.o", undefined, pkt),
  () =>
    programRun(
      "34 tail calls between two programs (pingpong.bpf.o)",
      "pingpong.bpf.o",
      "ping",
      pkt,
    ),
  () => programRun("256 hash lookups+updates (maprates.bpf.o)", "maprates.bpf.o", "hash_ops", pkt),
  () =>
    programRun("256 array lookups+updates (maprates.bpf.o)", "maprates.bpf.o", "array_ops", pkt),
  () => programRun("256 LRU lookups+updates (maprates.bpf.o)", "maprates.bpf.o", "lru_ops", pkt),
  () => loadTime("load a datapath-sized object (large.bpf.o)", "large.bpf.o"),
  () => compileTime("load + compile + first run, 1k insns", 1000),
  () => compileTime("load + compile + first run, 50k insns", 50_000),
];
steps = tasks.length * (engines.length + 1);
for (const t of tasks) t();
if (tty) process.stderr.write("\r\x1b[K");

const cols = [...engines, ...(kernel.ok ? ["kernel"] : [])];
const ratio = (r: Row, e: string) => {
  const k = r.values.get("kernel");
  const v = r.values.get(e);
  return k === undefined || v === undefined || r.unit !== "ns/run" ? "–" : `${(v / k).toFixed(2)}×`;
};
const lines = [
  `| benchmark | unit | ${cols.join(" | ")} |${kernel.ok ? engines.map((e) => ` ${e}/kernel |`).join("") : ""}`,
  `|---|---|${cols.map(() => "---:|").join("")}${kernel.ok ? engines.map(() => "---:|").join("") : ""}`,
  ...rows.map(
    (r) =>
      `| ${r.name}${r.note ? ` (${r.note})` : ""} | ${r.unit} | ${cols.map((c) => fmt(r.values.get(c), r.unit)).join(" | ")} |` +
      (kernel.ok ? engines.map((e) => ` ${ratio(r, e)} |`).join("") : ""),
  ),
];
const header =
  `Measured ${new Date().toISOString().slice(0, 10)} on ${process.platform}/${process.arch}, Node ${process.version}` +
  (kernel.ok
    ? ", kernel: Linux x86-64 JIT via BPF_PROG_TEST_RUN"
    : `, no kernel engine (${kernel.reason})`);
const table = [header, "", ...lines].join("\n");
console.log(table);
writeFileSync(join(import.meta.dirname, "RESULTS.md"), `# Benchmark results\n\n${table}\n`);
if (process.argv.includes("--readme")) {
  const readme = join(import.meta.dirname, "..", "README.md");
  const text = readFileSync(readme, "utf8");
  const start = "<!-- bench:start -->";
  const end = "<!-- bench:end -->";
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i >= 0 && j > i) {
    writeFileSync(readme, text.slice(0, i + start.length) + "\n" + table + "\n" + text.slice(j));
  }
}
