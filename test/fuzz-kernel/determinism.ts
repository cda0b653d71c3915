/**
 * Is a case's observable outcome determined by its input? A privileged eBPF program may leak
 * kernel addresses (return a pointer, store one into a map, compare one with a number) and may
 * read stack bytes it never wrote; the verifier accepts all of that for root, and the result
 * then differs from run to run and from tsbpf for no fault of tsbpf's. The generator never does
 * these things, but the shrinker's edits can (drop the `r0 = …` before an exit and r0 is left
 * holding a pointer). This is a small abstract interpreter over the raw instructions that finds
 * them: each register is uninitialised, a scalar, the context, a map, a stack pointer at a known
 * offset, another pointer, or unknown (a mix); each stack byte is written or not.
 */
import type { KernelRawCase } from "../../src/kernel/runner.js";
import { fromHex } from "../../src/runtime/dump.js";

type K =
  | { t: "U" } // uninitialised (the kernel refuses reads)
  | { t: "S"; v?: number } // a scalar that does not depend on an address (`v`: known value)
  | { t: "T" } // may depend on an address
  | { t: "C" } // the context
  | { t: "M"; map: number } // a map (lddw src 1)
  | { t: "F"; off: number } // r10 + off
  | { t: "P" }; // another pointer: map value, packet, function

const U: K = { t: "U" };
const S: K = { t: "S" };
const T: K = { t: "T" };
const P: K = { t: "P" };

const STACK = 512;

interface St {
  r: K[];
  /** One bit per stack byte, set when written: byte i is r10 - 512 + i. */
  stack: Uint32Array;
}

const isSet = (bits: Uint32Array, i: number): boolean => (bits[i >> 5] & (1 << (i & 31))) !== 0;

function same(a: K, b: K): boolean {
  if (a.t !== b.t) return false;
  if (a.t === "F" && b.t === "F") return a.off === b.off;
  if (a.t === "M" && b.t === "M") return a.map === b.map;
  if (a.t === "S" && b.t === "S") return a.v === b.v;
  return true;
}

function join(a: K, b: K): K {
  if (same(a, b)) return a;
  if (a.t === "U" || b.t === "U") return U;
  if (a.t === "S" && b.t === "S") return S;
  return T;
}

const isPtr = (k: K): boolean => k.t !== "S" && k.t !== "U";

function joinInto(dst: St, src: St): boolean {
  let changed = false;
  for (let i = 0; i < 11; i++) {
    const j = join(dst.r[i], src.r[i]);
    if (!same(j, dst.r[i])) {
      dst.r[i] = j;
      changed = true;
    }
  }
  for (let i = 0; i < STACK / 32; i++) {
    const v = (dst.stack[i] & src.stack[i]) >>> 0;
    if (v !== dst.stack[i]) {
      dst.stack[i] = v;
      changed = true;
    }
  }
  return changed;
}

const clone = (s: St): St => ({ r: [...s.r], stack: s.stack.slice() });

interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

function decode(bytes: Uint8Array): Insn[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Insn[] = [];
  for (let pc = 0; pc < bytes.length / 8; pc++) {
    out.push({
      code: bytes[pc * 8],
      dst: bytes[pc * 8 + 1] & 15,
      src: bytes[pc * 8 + 1] >> 4,
      off: dv.getInt16(pc * 8 + 2, true),
      imm: dv.getInt32(pc * 8 + 4, true),
    });
  }
  return out;
}

const SIZES: Record<number, number> = { 0x00: 4, 0x08: 2, 0x10: 1, 0x18: 8 };
/** XDP context fields that hold pointers: data, data_end, data_meta. */
const CTX_POINTERS = new Set([0, 4, 8]);

/**
 * The first thing in `c` that makes its outcome depend on addresses or on stack garbage, as a
 * sentence; undefined when there is none.
 */
export function findNondeterminism(c: KernelRawCase): string | undefined {
  for (const p of c.progs) {
    const why = checkProg(fromHex(p.insns), c);
    if (why !== undefined) return `${p.name}: ${why}`;
  }
  return undefined;
}

function checkProg(bytes: Uint8Array, c: KernelRawCase): string | undefined {
  const insns = decode(bytes);
  const n = insns.length;
  const starts = new Set<number>([0]);
  const callbacks: number[] = [];
  insns.forEach((i, pc) => {
    if (i.code === 0x85 && i.src === 1) starts.add(pc + 1 + i.imm);
    if (i.code === 0x18 && i.src === 4) callbacks.push(pc + 1 + i.imm);
  });
  for (const cb of callbacks) starts.add(cb);
  const sorted = [...starts].sort((a, b) => a - b);
  // entry states of the functions: main gets the context; a subprogram what its callers pass
  const entry = new Map<number, St>();
  const fresh = (): St => ({ r: new Array<K>(11).fill(U), stack: new Uint32Array(STACK / 32) });
  const main = fresh();
  main.r[1] = { t: "C" };
  main.r[10] = { t: "F", off: 0 };
  entry.set(0, main);
  for (const cb of callbacks) {
    // bpf_loop's callback: r1 the index, r2 the context pointer it was given
    const s = fresh();
    s.r[1] = S;
    s.r[2] = P;
    s.r[10] = { t: "F", off: 0 };
    entry.set(cb, s);
  }
  for (let f = 0; f < sorted.length; f++) {
    const start = sorted[f];
    const end = f + 1 < sorted.length ? sorted[f + 1] : n;
    const init = entry.get(start);
    if (init === undefined) continue; // nobody calls it: the kernel refuses it anyway
    const states: (St | undefined)[] = new Array(end - start);
    states[0] = clone(init);
    const work = [start];
    while (work.length > 0) {
      const pc = work.pop() as number;
      const st = clone(states[pc - start] as St);
      const res = step(insns, pc, st, c, (target, args) => {
        const e = entry.get(target);
        const s: St = fresh();
        // the caller's stack pointers are just pointers in the callee's frame
        for (let r = 1; r <= 5; r++) s.r[r] = args.r[r].t === "F" ? P : args.r[r];
        s.r[10] = { t: "F", off: 0 };
        if (e === undefined) entry.set(target, s);
        else joinInto(e, s);
      });
      if (typeof res === "string") return `pc ${pc}: ${res}`;
      for (const [next, out] of res) {
        if (next < start || next >= end) continue; // the kernel refuses jumps out of a function
        const cur = states[next - start];
        if (cur === undefined) {
          states[next - start] = clone(out);
          work.push(next);
        } else if (joinInto(cur, out)) {
          work.push(next);
        }
      }
    }
  }
  return undefined;
}

/** Runs one instruction on `st`: its successors with their states, or what is wrong. */
function step(
  insns: Insn[],
  pc: number,
  st: St,
  c: KernelRawCase,
  onCall: (target: number, args: St) => void,
): [number, St][] | string {
  const i = insns[pc];
  const cls = i.code & 7;
  const r = st.r;
  /** A helper's (buffer, size) argument pair: the size known, the stack bytes written. */
  const sized = (buf: K, size: K): string | undefined => {
    if (buf.t !== "F") return isPtr(size) ? "passes an address as a size" : undefined;
    if (size.t !== "S" || size.v === undefined) return "a stack buffer of unknown size";
    return stackRange(buf, 0, size.v, false);
  };
  const stackRange = (base: K, off: number, size: number, write: boolean): string | undefined => {
    if (base.t !== "F") return undefined;
    const from = STACK + base.off + off;
    if (from < 0 || from + size > STACK) return undefined; // the kernel refuses it
    for (let b = from; b < from + size; b++) {
      if (write) st.stack[b >> 5] |= 1 << (b & 31);
      else if (!isSet(st.stack, b)) return `reads stack byte r10${b - STACK} before writing it`;
    }
    return undefined;
  };
  switch (cls) {
    case 0x04: // ALU
    case 0x07: {
      // ALU64
      const op = i.code & 0xf0;
      const x = (i.code & 0x08) !== 0;
      const d = r[i.dst];
      const s = x && op !== 0xd0 ? r[i.src] : S;
      const is64 = cls === 0x07;
      if (op === 0xb0) {
        if (!x) r[i.dst] = { t: "S", v: i.imm };
        else r[i.dst] = isPtr(s) ? (is64 && i.off === 0 ? s : T) : s;
      } else if ((op === 0x00 || op === 0x10) && is64 && !x && d.t === "F") {
        r[i.dst] = { t: "F", off: d.off + (op === 0x00 ? i.imm : -i.imm) };
      } else if ((op === 0x00 || op === 0x10) && is64 && (isPtr(d) || isPtr(s))) {
        r[i.dst] = isPtr(d) && isPtr(s) ? T : d.t === "U" || s.t === "U" ? U : P;
      } else if (isPtr(d) || isPtr(s)) {
        r[i.dst] = T;
      } else {
        r[i.dst] = d.t === "U" || s.t === "U" ? U : S;
      }
      return [[pc + 1, st]];
    }
    case 0x00: {
      if (i.code !== 0x18) return "legacy packet load";
      r[i.dst] = i.src === 0 ? S : i.src === 1 ? { t: "M", map: i.imm } : P;
      return [[pc + 2, st]];
    }
    case 0x01: {
      // LDX (and LDSX)
      const size = SIZES[i.code & 0x18];
      const base = r[i.src];
      const why = stackRange(base, i.off, size, false);
      if (why !== undefined) return why;
      if (base.t === "C") r[i.dst] = CTX_POINTERS.has(i.off) ? P : S;
      else r[i.dst] = base.t === "T" ? T : S;
      return [[pc + 1, st]];
    }
    case 0x02:
    case 0x03: {
      const size = SIZES[i.code & 0x18];
      const base = r[i.dst];
      const mode = i.code & 0xe0;
      const v = cls === 0x03 ? r[i.src] : S;
      if (isPtr(v)) return "stores an address";
      if (mode === 0xc0) {
        const why = stackRange(base, i.off, size, false);
        if (why !== undefined) return why;
        if (i.imm === 0xf1) {
          if (isPtr(r[0])) return "cmpxchg compares with an address";
          r[0] = S;
        } else if (i.imm & 1) {
          r[i.src] = S;
        }
        return [[pc + 1, st]];
      }
      stackRange(base, i.off, size, true);
      return [[pc + 1, st]];
    }
    default: {
      // JMP, JMP32
      const op = i.code & 0xf0;
      if (op === 0x00) return [[cls === 0x06 ? pc + 1 + i.imm : pc + 1 + i.off, st]];
      if (op === 0x90) {
        if (isPtr(r[0])) return "returns an address";
        return [];
      }
      if (op === 0x80) {
        if (i.src === 1) {
          // a pointer into this frame passed down: the callee may read 16 bytes of it
          for (let a = 1; a <= 5; a++) {
            const why = stackRange(r[a], 0, 16, false);
            if (why !== undefined) return `argument r${a}: ${why}`;
          }
          onCall(pc + 1 + i.imm, st);
        } else if (i.imm >= 1 && i.imm <= 3) {
          const m = r[1];
          const def = m.t === "M" ? c.maps[m.map] : undefined;
          if (def !== undefined) {
            const key = stackRange(r[2], 0, def.key_size, false);
            if (key !== undefined) return `map key: ${key}`;
            if (i.imm === 2) {
              const val = stackRange(r[3], 0, def.value_size, false);
              if (val !== undefined) return `map value: ${val}`;
              if (isPtr(r[4])) return "passes an address as flags";
            }
          }
        } else if (i.imm === 12) {
          if (isPtr(r[3])) return "passes an address as a tail-call index";
        } else if (i.imm === 28) {
          // bpf_csum_diff(from, from_size, to, to_size, seed)
          for (const [p, n] of [
            [1, 2],
            [3, 4],
          ]) {
            const why = sized(r[p], r[n]);
            if (why !== undefined) return `csum_diff: ${why}`;
          }
          if (isPtr(r[5])) return "passes an address as a checksum seed";
        } else if (i.imm === 189 || i.imm === 190) {
          // bpf_xdp_load_bytes / store_bytes(ctx, offset, buf, len)
          const why = sized(r[3], r[4]);
          if (why !== undefined) return `xdp bytes: ${why}`;
          if (isPtr(r[2])) return "passes an address as a packet offset";
        } else if (i.imm === 181) {
          // bpf_loop(nr, callback, ctx, flags): the callback may read 16 bytes of ctx
          const why = stackRange(r[3], 0, 16, false);
          if (why !== undefined) return `bpf_loop ctx: ${why}`;
        } else if (i.imm === 44 || i.imm === 54 || i.imm === 65) {
          if (isPtr(r[2])) return "passes an address as a packet delta";
        }
        r[0] = i.src === 0 && i.imm === 1 ? P : i.src === 0 && i.imm === 12 ? U : S;
        for (let k = 1; k <= 5; k++) r[k] = U;
        return [[pc + 1, st]];
      }
      const x = (i.code & 0x08) !== 0;
      const a = r[i.dst];
      const b = x ? r[i.src] : S;
      const nullCheck = !x && i.imm === 0 && (op === 0x10 || op === 0x50) && cls === 0x05;
      const pktCheck = x && isPtr(a) && isPtr(b) && a.t !== "T" && b.t !== "T";
      if ((isPtr(a) || isPtr(b)) && !nullCheck && !pktCheck) return "compares an address";
      return [
        [pc + 1, st],
        [pc + 1 + i.off, clone(st)],
      ];
    }
  }
}
