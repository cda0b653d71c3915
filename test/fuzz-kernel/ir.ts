/**
 * The fuzzer's program form: a tree of straight-line units, forward `if` blocks and bounded
 * loops per function, functions per program, programs per case. The shrinker edits the tree
 * (dropping a node, an instruction, a branch, a function, a program); `compileCase` lays it
 * out as raw instructions with jump and call offsets resolved, in the kernel runner's raw form.
 */
import type { KernelRawCase, KernelRawMap } from "../../src/kernel/runner.js";

/** One instruction; `lddw` is one `Ins` with its upper immediate in `imm2`. */
export interface Ins {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
  /** `lddw` only: the second slot's imm (the value's upper 32 bits, or 0 for a map). */
  imm2?: number;
  /**
   * A bpf-to-bpf call (code 0x85, src 1), or an `lddw` of a function's address (src 4, for a
   * callback), naming a function of the same program.
   */
  call?: string;
}

/** A node of a function body. */
export type Node =
  /** Straight-line instructions; `fixed` ones (a prologue) the shrinker leaves alone. */
  | { t: "ins"; ins: Ins[]; fixed?: boolean }
  /**
   * `if (cond) skip then-block`: `cond` is a conditional jump whose offset is filled in; with
   * `else`, the then-block ends with a jump over the else-block (`gotol` when `long`).
   */
  | { t: "if"; cond: Ins; then: Node[]; else?: Node[]; long?: boolean }
  /** `reg = 0; do { body; reg += 1 } while (reg < n)`. */
  | { t: "loop"; reg: number; n: number; body: Node[] };

/** A function: the program's entry (first) or a subprogram. */
export interface Fn {
  name: string;
  body: Node[];
}

/** A program: its main function first, then its subprograms. */
export interface Prog {
  name: string;
  fns: Fn[];
}

/** A whole fuzz case: maps, programs (the first is the entry), slots, input. */
export interface FuzzCase {
  /** The seed it was generated from (for reproduction). */
  seed: string;
  maps: KernelRawMap[];
  progs: Prog[];
  /** prog_array slots: map index, slot, program index. */
  slots: { map: number; index: number; prog: number }[];
  /** Map entries written before the run. */
  updates: { map: number; key: string; value: string }[];
  /** The packet, hex. */
  data: string;
  /** XDP context in (`struct xdp_md`), hex, if any. */
  ctx?: string;
  repeat: number;
  /** Possible CPUs of the kernel it is meant for (per-CPU value layout). */
  numCpus?: number;
}

export const BPF_PROG_TYPE_XDP = 6;

const OP_JA = 0x05;
const OP_GOTOL = 0x06;

/** Instruction slots a node takes. */
export function nodeSize(n: Node): number {
  switch (n.t) {
    case "ins":
      return n.ins.reduce((s, i) => s + (i.imm2 !== undefined ? 2 : 1), 0);
    case "if":
      return 1 + blockSize(n.then) + (n.else !== undefined ? 1 + blockSize(n.else) : 0);
    case "loop":
      return 1 + blockSize(n.body) + 2;
  }
}

export function blockSize(ns: readonly Node[]): number {
  return ns.reduce((s, n) => s + nodeSize(n), 0);
}

interface Slot {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

/** Raised when an edited tree cannot be laid out (a call to a deleted function...). */
export class CompileError extends Error {}

function emitBlock(ns: readonly Node[], out: Slot[], calls: { at: number; fn: string }[]): void {
  for (const n of ns) emitNode(n, out, calls);
}

function emitNode(n: Node, out: Slot[], calls: { at: number; fn: string }[]): void {
  switch (n.t) {
    case "ins":
      for (const i of n.ins) {
        if (i.call !== undefined) calls.push({ at: out.length, fn: i.call });
        out.push({ code: i.code, dst: i.dst, src: i.src, off: i.off, imm: i.imm });
        if (i.imm2 !== undefined) out.push({ code: 0, dst: 0, src: 0, off: 0, imm: i.imm2 });
      }
      return;
    case "if": {
      const thenSize = blockSize(n.then) + (n.else !== undefined ? 1 : 0);
      if (thenSize > 0x7fff) throw new CompileError("jump too far");
      out.push({ ...n.cond, off: thenSize });
      emitBlock(n.then, out, calls);
      if (n.else !== undefined) {
        const elseSize = blockSize(n.else);
        if (n.long) out.push({ code: OP_GOTOL, dst: 0, src: 0, off: 0, imm: elseSize });
        else out.push({ code: OP_JA, dst: 0, src: 0, off: elseSize, imm: 0 });
        emitBlock(n.else, out, calls);
      }
      return;
    }
    case "loop": {
      out.push({ code: 0xb7, dst: n.reg, src: 0, off: 0, imm: 0 }); // reg = 0
      const top = out.length;
      emitBlock(n.body, out, calls);
      out.push({ code: 0x07, dst: n.reg, src: 0, off: 0, imm: 1 }); // reg += 1
      const back = top - (out.length + 1);
      out.push({ code: 0xa5, dst: n.reg, src: 0, off: back, imm: n.n }); // if reg < n goto top
      return;
    }
  }
}

/** Lays a program out: functions in order, calls resolved. Throws CompileError. */
export function compileProg(p: Prog): Uint8Array {
  const out: Slot[] = [];
  const calls: { at: number; fn: string }[] = [];
  const starts = new Map<string, number>();
  for (const f of p.fns) {
    starts.set(f.name, out.length);
    emitBlock(f.body, out, calls);
  }
  for (const c of calls) {
    const start = starts.get(c.fn);
    if (start === undefined) throw new CompileError(`call to missing function ${c.fn}`);
    out[c.at].imm = start - (c.at + 1);
  }
  if (out.length === 0) throw new CompileError("empty program");
  const bytes = new Uint8Array(out.length * 8);
  const dv = new DataView(bytes.buffer);
  out.forEach((s, pc) => {
    bytes[pc * 8] = s.code;
    bytes[pc * 8 + 1] = (s.dst & 15) | ((s.src & 15) << 4);
    dv.setInt16(pc * 8 + 2, s.off, true);
    dv.setInt32(pc * 8 + 4, s.imm, true);
  });
  return bytes;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** The case in the kernel runner's raw form (also what tsbpf runs and fixtures store). */
export function compileCase(c: FuzzCase): KernelRawCase {
  return {
    prog_type: BPF_PROG_TYPE_XDP,
    maps: c.maps.map((m) => ({ ...m })),
    progs: c.progs.map((p) => ({ name: p.name, insns: hex(compileProg(p)) })),
    slots: c.slots.map((s) => ({ ...s })),
    updates: c.updates.map((u) => ({ ...u })),
    entry: 0,
    data: c.data,
    ...(c.ctx !== undefined ? { ctx: c.ctx } : {}),
    repeat: c.repeat,
    ...(c.numCpus !== undefined ? { num_cpus: c.numCpus } : {}),
  };
}

/** Instructions in a case (all programs). */
export function caseSize(c: FuzzCase): number {
  let n = 0;
  for (const p of c.progs) for (const f of p.fns) n += blockSize(f.body);
  return n;
}

/** Names of the functions `nodes` call. */
export function callsIn(nodes: readonly Node[], out = new Set<string>()): Set<string> {
  for (const n of nodes) {
    if (n.t === "ins") {
      for (const i of n.ins) if (i.call !== undefined) out.add(i.call);
    } else if (n.t === "if") {
      callsIn(n.then, out);
      if (n.else !== undefined) callsIn(n.else, out);
    } else {
      callsIn(n.body, out);
    }
  }
  return out;
}

/**
 * The functions reachable from the first by calls, in their order: the kernel refuses
 * unreachable instructions, so a subprogram nobody calls must go.
 */
export function reachableFns(fns: readonly Fn[]): Fn[] {
  if (fns.length === 0) return [];
  const seen = new Set<string>([fns[0].name]);
  const todo = [fns[0]];
  const byName = new Map(fns.map((f) => [f.name, f]));
  while (todo.length > 0) {
    const f = todo.pop() as Fn;
    for (const name of callsIn(f.body)) {
      const g = byName.get(name);
      if (g !== undefined && !seen.has(name)) {
        seen.add(name);
        todo.push(g);
      }
    }
  }
  return fns.filter((f) => seen.has(f.name));
}
