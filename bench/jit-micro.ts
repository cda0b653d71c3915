/**
 * Micro-benchmarks of the interpreter against the JIT, in ns per run (warmed up past V8's
 * tier-up): a 4000-round 64-bit integer hash loop, a 1500-byte Internet checksum with a
 * bounds-checked load per 16-bit word, and a program that tail-calls itself 33 times.
 *
 *     npx tsx bench/jit-micro.ts
 */
import "../src/vm/index.js";
import "../src/jit/index.js";
import { HELPERS } from "../src/helpers/index.js";
import { assemble } from "../src/isa/asm.js";
import { createMap } from "../src/maps/index.js";
import type { ProgArrayMap } from "../src/maps/prog-array.js";
import { SegmentFlags } from "../src/memory/layout.js";
import { createEngine, type EngineName } from "../src/runtime/engine.js";
import { Machine } from "../src/runtime/machine.js";
import { prepareProgram } from "../src/runtime/prepare.js";
import type { ExecProgram } from "../src/runtime/program.js";

const HASH = `
  lddw %r0, 0x123456789abcdef
  lddw %r3, 0xff51afd7ed558ccd
  mov %r1, 4000
loop:
  mov %r2, %r0
  rsh %r2, 33
  xor %r0, %r2
  mul %r0, %r3
  mov %r2, %r0
  rsh %r2, 29
  xor %r0, %r2
  add %r0, %r1
  sub %r1, 1
  jne %r1, 0, loop
  exit`;

// r1 = packet, r2 = its length; the program checks its own bounds, the engine checks each load
const CSUM = `
  mov %r0, 0
  mov %r3, %r1
  mov %r4, %r1
  add %r4, %r2
loop:
  mov %r5, %r3
  add %r5, 2
  jgt %r5, %r4, done
  ldxh %r5, [%r3]
  add %r0, %r5
  add %r3, 2
  ja loop
done:
  mov %r5, %r0
  rsh %r5, 16
  and %r0, 0xffff
  add %r0, %r5
  mov %r5, %r0
  rsh %r5, 16
  add %r0, %r5
  xor %r0, 0xffff
  and %r0, 0xffff
  exit`;

// counts its runs in the packet's first word, then tail-calls itself (slot 0)
const TAIL = `
  mov %r6, %r1
  ldxw %r0, [%r1]
  add %r0, 1
  stxw [%r1], %r0
  mov %r1, %r6
  lddw %r2, 0
  mov %r3, 0
  call 12
  ldxw %r0, [%r6]
  exit`;

interface Case {
  name: string;
  src: string;
  tail?: boolean;
  check: (r0: bigint) => void;
}

function setup(engine: EngineName, c: Case) {
  const m = new Machine();
  for (const h of HELPERS) m.registerHelper(h);
  const env = { mem: m.mem, numCpus: 1, cpu: 0, mapByHandle: (h: number) => m.mapByHandle(h), now: () => 0n }; // prettier-ignore
  const def = { name: "jmp", type: 3, keySize: 4, valueSize: 4, maxEntries: 4, flags: 0 };
  const map = createMap(def, env, m.nextMapHandle()) as ProgArrayMap<ExecProgram>;
  m.addMap(map);
  const code = assemble(c.src);
  if (c.tail) code[5 * 8 + 1] |= 1 << 4; // the lddw at pc 5 names map 0
  const prog = prepareProgram(
    m,
    { name: c.name, insns: code },
    {
      mapHandle: () => map.handle,
      mapValueAddr: () => undefined,
    },
  );
  map.setSlot(0, prog);
  const seg = m.mem.mapRegion("packet", 1500, SegmentFlags.WRITABLE);
  const pkt = new Uint8Array(1500).map((_, i) => (i * 31 + 7) & 0xff);
  const e = createEngine(engine, m);
  return () => {
    if (c.tail) m.mem.dv.setUint32(seg.base, 0, true);
    else m.mem.write(seg.base, pkt);
    const [lo, hi] = e.run(prog, seg.base, 0, 1500, 0);
    return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  };
}

function measure(run: () => bigint, c: Case): number {
  c.check(run());
  // warm up past tier-up, then take the best of 10 batches of at least 50 ms
  const t0 = performance.now();
  while (performance.now() - t0 < 300) run();
  let n = 1;
  let best = Infinity;
  for (let batch = 0; batch < 10;) {
    const s = performance.now();
    for (let i = 0; i < n; i++) run();
    const dt = performance.now() - s;
    if (dt < 50) n *= 2;
    else {
      best = Math.min(best, (dt * 1e6) / n);
      batch++;
    }
  }
  return best;
}

const cases: Case[] = [
  { name: "hash loop (4000 rounds)", src: HASH, check: () => {} },
  {
    name: "checksum (1500 bytes)",
    src: CSUM,
    check: (r) => {
      if (r === 0n) throw new Error("checksum 0");
    },
  },
  {
    name: "self tail calls (34 runs)",
    src: TAIL,
    tail: true,
    check: (r) => {
      if (r !== 34n) throw new Error(`tail chain ran ${r} times`);
    },
  },
];

const results: string[] = [];
for (const c of cases) {
  const ri = setup("interp", c);
  const rj = setup("jit", c);
  if (ri() !== rj()) throw new Error(`${c.name}: engines disagree`);
  const ni = measure(ri, c);
  const nj = measure(rj, c);
  results.push(
    `${c.name.padEnd(28)} interp ${ni.toFixed(0).padStart(9)} ns/run   jit ${nj.toFixed(0).padStart(8)} ns/run   ${(ni / nj).toFixed(1)}x`,
  );
}
console.log(results.join("\n"));
