/**
 * Instruction lowering: one eBPF instruction to WebAssembly, with the interpreter's semantics
 * (`src/vm/hot-loop.ts`, `rare-alu.ts` and `interpreter.ts` are the reference). Registers are
 * i64 locals, so 64-bit arithmetic is exact; ALU32 results are zero-extended; division by
 * zero and INT_MIN / -1 follow the eBPF rules instead of trapping. Calls and exits are in
 * `calls.ts`.
 */
import { inFrame } from "../isa/opcodes.js";
import { Imp, RaiseKind } from "./abi.js";
import { lowerCall, lowerExit } from "./calls.js";
import type { FnCtx } from "./ctx.js";
import type { Access, AccessGroup } from "./groups.js";
import { emitGuard, emitInRange } from "./guards.js";
import { emitAccessCheck, emitCacheMiss } from "./memcheck.js";
import { I64, Op, VOID } from "./wasm.js";

const SIZE_OF = [4, 2, 1, 8]; // by (code & 0x18) >> 3
const LOAD_U = [Op.i64_load32_u, Op.i64_load16_u, Op.i64_load8_u, Op.i64_load];
const LOAD_S = [Op.i64_load32_s, Op.i64_load16_s, Op.i64_load8_s, Op.i64_load];
const STORE = [Op.i64_store32, Op.i64_store16, Op.i64_store8, Op.i64_store];

const ALU64: Record<number, number> = {
  0x00: Op.i64_add,
  0x10: Op.i64_sub,
  0x20: Op.i64_mul,
  0x40: Op.i64_or,
  0x50: Op.i64_and,
  0x60: Op.i64_shl,
  0x70: Op.i64_shr_u,
  0xa0: Op.i64_xor,
  0xc0: Op.i64_shr_s,
};
const ALU32: Record<number, number> = {
  0x00: Op.i32_add,
  0x10: Op.i32_sub,
  0x20: Op.i32_mul,
  0x40: Op.i32_or,
  0x50: Op.i32_and,
  0x60: Op.i32_shl,
  0x70: Op.i32_shr_u,
  0xa0: Op.i32_xor,
  0xc0: Op.i32_shr_s,
};
const CMP64: Record<number, number> = {
  0x10: Op.i64_eq,
  0x20: Op.i64_gt_u,
  0x30: Op.i64_ge_u,
  0x50: Op.i64_ne,
  0x60: Op.i64_gt_s,
  0x70: Op.i64_ge_s,
  0xa0: Op.i64_lt_u,
  0xb0: Op.i64_le_u,
  0xc0: Op.i64_lt_s,
  0xd0: Op.i64_le_s,
};
const CMP32: Record<number, number> = {
  0x10: Op.i32_eq,
  0x20: Op.i32_gt_u,
  0x30: Op.i32_ge_u,
  0x50: Op.i32_ne,
  0x60: Op.i32_gt_s,
  0x70: Op.i32_ge_s,
  0xa0: Op.i32_lt_u,
  0xb0: Op.i32_le_u,
  0xc0: Op.i32_lt_s,
  0xd0: Op.i32_le_s,
};

/** Whether the interpreter runs opcode `code` (anything else raises "unsupported opcode"). */
export function isSupported(code: number): boolean {
  return SUPPORTED[code] === 1;
}

/** Opcodes the interpreter runs. */
const SUPPORTED = (() => {
  const t = new Uint8Array(256);
  const list = [
    0x07, 0x17, 0x27, 0x37, 0x47, 0x57, 0x67, 0x77, 0x87, 0x8f, 0x97, 0xa7, 0xb7, 0xc7, 0xd7, 0x0f,
    0x1f, 0x2f, 0x3f, 0x4f, 0x5f, 0x6f, 0x7f, 0x9f, 0xaf, 0xbf, 0xcf, 0x04, 0x0c, 0x14, 0x1c, 0x24,
    0x2c, 0x34, 0x3c, 0x94, 0x9c, 0x44, 0x4c, 0x54, 0x5c, 0x64, 0x6c, 0x74, 0x7c, 0x84, 0x8c, 0xa4,
    0xac, 0xb4, 0xbc, 0xc4, 0xcc, 0xd4, 0xdc, 0x18, 0x61, 0x69, 0x71, 0x79, 0x81, 0x89, 0x91, 0x62,
    0x6a, 0x72, 0x7a, 0x63, 0x6b, 0x73, 0x7b, 0xc3, 0xdb, 0x85, 0x8d, 0x95,
  ];
  for (const c of list) t[c] = 1;
  return t;
})();

/** Whether `code` is a call (helper, local, callx): budget segments end after calls. */
export function isCall(code: number): boolean {
  return code === 0x85 || code === 0x8d;
}

/** Pushes the 64-bit operand of an ALU/JMP instruction (register or sign-extended imm). */
function operand64(c: FnCtx, pc: number): void {
  if (c.p.code[pc] & 0x08) c.out.get(c.R[c.p.src[pc]]);
  else c.out.i64(c.p.imm[pc]);
}

/** Pushes the 32-bit operand of an ALU32/JMP32 instruction. */
function operand32(c: FnCtx, pc: number): void {
  if (c.p.code[pc] & 0x08) c.out.get(c.R[c.p.src[pc]]).op(Op.i32_wrap_i64);
  else c.out.i32(c.p.imm[pc]);
}

/** Pushes the i32 condition of the conditional jump at `pc`. */
export function lowerCond(c: FnCtx, pc: number): void {
  const o = c.out;
  const code = c.p.code[pc];
  const op = code & 0xf0;
  const d = c.R[c.p.dst[pc]];
  if ((code & 7) === 5) {
    o.get(d);
    operand64(c, pc);
    if (op === 0x40) o.op(Op.i64_and).i64(0).op(Op.i64_ne);
    else o.u8(CMP64[op]);
  } else {
    o.get(d).op(Op.i32_wrap_i64);
    operand32(c, pc);
    if (op === 0x40) o.op(Op.i32_and).i32(0).op(Op.i32_ne);
    else o.u8(CMP32[op]);
  }
}

/** bswap of the i32 on the stack (uses TI). */
function bswap32(c: FnCtx): void {
  const o = c.out;
  o.tee(c.TI).i32(8).op(Op.i32_rotl).i32(0x00ff00ff).op(Op.i32_and);
  o.get(c.TI)
    .i32(8)
    .op(Op.i32_rotr)
    .i32(0xff00ff00 | 0)
    .op(Op.i32_and, Op.i32_or);
}

function lowerEnd(c: FnCtx, pc: number): void {
  const o = c.out;
  const d = c.R[c.p.dst[pc]];
  const w = c.p.imm[pc];
  if (c.p.code[pc] === 0xd4) {
    if (w === 16) o.get(d).i64(0xffff).op(Op.i64_and).set(d);
    else if (w !== 64) o.get(d).op(Op.i32_wrap_i64, Op.i64_extend_i32_u).set(d);
    return;
  }
  if (w === 16) {
    o.get(d).op(Op.i32_wrap_i64).tee(c.TI).i32(0xff).op(Op.i32_and).i32(8).op(Op.i32_shl);
    o.get(c.TI).i32(8).op(Op.i32_shr_u).i32(0xff).op(Op.i32_and, Op.i32_or);
    o.op(Op.i64_extend_i32_u).set(d);
  } else if (w === 32) {
    o.get(d).op(Op.i32_wrap_i64);
    bswap32(c);
    o.op(Op.i64_extend_i32_u).set(d);
  } else {
    o.get(d).op(Op.i32_wrap_i64);
    bswap32(c);
    o.op(Op.i64_extend_i32_u).i64(32).op(Op.i64_shl);
    o.get(d).i64(32).op(Op.i64_shr_u, Op.i32_wrap_i64);
    bswap32(c);
    o.op(Op.i64_extend_i32_u, Op.i64_or).set(d);
  }
}

/** div/mod (64-bit when `is64`) with the eBPF rules for a zero divisor and INT_MIN / -1. */
function lowerDivMod(c: FnCtx, pc: number, is64: boolean): void {
  const o = c.out;
  const code = c.p.code[pc];
  const d = c.R[c.p.dst[pc]];
  const signed = c.p.off[pc] === 1;
  const isDiv = (code & 0xf0) === 0x30;
  const x = (code & 0x08) !== 0;
  const imm = c.p.imm[pc];
  const W = is64
    ? { eqz: Op.i64_eqz, sub: Op.i64_sub, eq: Op.i64_eq, div: signed ? Op.i64_div_s : Op.i64_div_u, rem: signed ? Op.i64_rem_s : Op.i64_rem_u } // prettier-ignore
    : { eqz: Op.i32_eqz, sub: Op.i32_sub, eq: Op.i32_eq, div: signed ? Op.i32_div_s : Op.i32_div_u, rem: signed ? Op.i32_rem_s : Op.i32_rem_u }; // prettier-ignore
  const type = is64 ? I64 : 0x7f;
  const a = () => (is64 ? o.get(d) : o.get(d).op(Op.i32_wrap_i64));
  const b = () => (is64 ? operand64(c, pc) : operand32(c, pc));
  const konst = (v: number) => (is64 ? o.i64(v) : o.i32(v));
  const finish = () => (is64 ? o.set(d) : o.op(Op.i64_extend_i32_u).set(d));
  if (!x && imm === 0) {
    // validation refuses these; keep the interpreter's meaning anyway
    if (isDiv) o.i64(0).set(d);
    else if (!is64) o.get(d).op(Op.i32_wrap_i64, Op.i64_extend_i32_u).set(d);
    return;
  }
  if (!x) {
    if (isDiv && signed && imm === -1) {
      konst(0);
      a();
      o.u8(W.sub);
    } else {
      a();
      b();
      o.u8(isDiv ? W.div : W.rem);
    }
    finish();
    return;
  }
  const s = c.R[c.p.src[pc]];
  const sv = () => (is64 ? o.get(s) : o.get(s).op(Op.i32_wrap_i64));
  sv();
  o.u8(W.eqz).u8(Op.if).u8(type);
  if (isDiv) konst(0);
  else a(); // mod by zero leaves the dividend (its low half, for mod32)
  o.u8(Op.else);
  if (isDiv && signed) {
    sv();
    konst(-1);
    o.u8(W.eq).u8(Op.if).u8(type);
    konst(0);
    a();
    o.u8(W.sub);
    o.u8(Op.else);
    a();
    b();
    o.u8(W.div);
    o.u8(Op.end);
  } else {
    a();
    b();
    o.u8(isDiv ? W.div : W.rem);
  }
  o.u8(Op.end);
  finish();
}

function lowerAlu(c: FnCtx, pc: number): void {
  const o = c.out;
  const code = c.p.code[pc];
  const op = code & 0xf0;
  const is64 = (code & 7) === 7;
  const d = c.R[c.p.dst[pc]];
  const x = (code & 0x08) !== 0;
  if (op === 0x30 || op === 0x90) return lowerDivMod(c, pc, is64);
  if (op === 0xd0) return lowerEnd(c, pc);
  if (op === 0x80) {
    if (is64) o.i64(0).get(d).op(Op.i64_sub).set(d);
    else o.i32(0).get(d).op(Op.i32_wrap_i64, Op.i32_sub, Op.i64_extend_i32_u).set(d);
    return;
  }
  if (op === 0xb0) {
    const off = c.p.off[pc];
    if (!x) {
      if (is64) o.i64(c.p.imm[pc]).set(d);
      else o.i64(c.p.imm[pc], 0).set(d);
      return;
    }
    const s = c.R[c.p.src[pc]];
    if (is64) {
      o.get(s);
      if (off === 8) o.op(Op.i64_extend8_s);
      else if (off === 16) o.op(Op.i64_extend16_s);
      else if (off !== 0) o.op(Op.i64_extend32_s);
    } else {
      o.get(s).op(Op.i32_wrap_i64);
      if (off === 8) o.op(Op.i32_extend8_s);
      else if (off === 16) o.op(Op.i32_extend16_s);
      o.op(Op.i64_extend_i32_u);
    }
    o.set(d);
    return;
  }
  if (is64) {
    o.get(d);
    operand64(c, pc);
    o.u8(ALU64[op]).set(d);
  } else {
    o.get(d).op(Op.i32_wrap_i64);
    operand32(c, pc);
    o.u8(ALU32[op]).op(Op.i64_extend_i32_u).set(d);
  }
}

/**
 * Pushes the i32 address of an access through register `base` at `off` of `size` bytes, after
 * its check: none for r10 inside the current frame, the group's check at the first member of
 * an access group (see groups.ts) and none at the others, else its own.
 */
function address(c: FnCtx, pc: number, base: number, off: number, size: number, write: boolean) {
  const o = c.out;
  if (base === 10 && inFrame(off, size)) return { local: c.FPLO, offset: off + 512 };
  const g = c.accessGroup(pc);
  const a = { pc, reg: base, off, size, write };
  const guard = c.provenBound(pc);
  const free =
    c.uncheckedAccess(pc) && (g === undefined || g.members.every((m) => c.uncheckedAccess(m.pc)));
  if (free || c.fastProven(pc)) addressTo(c, base, off, c.TA);
  else if (guard !== undefined) {
    // a range proof (ranges.ts): in range when in the guard's range, else checked in full
    addressTo(c, base, off, c.TA);
    emitInRange(o, c.TA, 0, guard);
    o.op(Op.i32_eqz).u8(Op.if).u8(VOID);
    check(c, a, "call");
    o.u8(Op.end);
  } else if (g === undefined) check(c, a, c.stepping() ? "walk-only" : "cached");
  else {
    if (g.members[0].pc === pc) emitGroupCheck(c, g);
    addressTo(c, base, off, c.TA);
  }
  o.get(c.TA).op(Op.i32_wrap_i64).set(c.TI);
  return { local: c.TI, offset: 0 };
}

/** The check of an access group, at its first member: its span, else each member's. */
function emitGroupCheck(c: FnCtx, g: AccessGroup): void {
  const o = c.out;
  const span = c.cache(g.members[0].pc, g.reg, g.write, g.span);
  addressTo(c, g.reg, g.lo, c.TA);
  emitCacheMiss(o, c.TA, span);
  o.u8(Op.if).u8(VOID);
  for (const m of g.members) check(c, m, "walk");
  o.u8(Op.end);
}

/** Sets i64 local `to` to register `base` plus `off`. */
function addressTo(c: FnCtx, base: number, off: number, to: number): void {
  c.out.get(c.R[base]);
  if (off !== 0) c.out.i64(off).op(Op.i64_add);
  c.out.set(to);
}

/**
 * The check of one access (its address left in TA): its cache, else the table walk, which
 * refills the register's caches. `how`: "walk" walks without a cache (an access group's member
 * after its span missed), "walk-only" neither tests nor refills caches (stepping code), "call"
 * neither and calls `$check` even in a loop (a range proof's miss: in loops an inline walk there
 * costs the fast path more registers than a call does, measured on checksum.bpf.o).
 */
function check(c: FnCtx, a: Access, how: "cached" | "walk" | "walk-only" | "call"): void {
  addressTo(c, a.reg, a.off, c.TA);
  emitAccessCheck(c.out, {
    addr: c.TA,
    size: a.size,
    write: a.write,
    cache: how === "cached" ? c.cache(a.pc, a.reg, a.write, a.size) : undefined,
    group: how === "walk-only" || how === "call" ? [] : c.cacheGroup(a.pc, a.reg),
    tmp: c.TI,
    lo: c.TB,
    hi: c.TC,
    pc: a.pc,
    depth: c.DEPTH,
    check: c.check,
    inline: how === "call" ? undefined : c.walk(),
    stackTop: c.stackTop,
  });
}

function lowerAtomic(c: FnCtx, pc: number): void {
  const o = c.out;
  const p = c.p;
  const is64 = p.code[pc] === 0xdb;
  const imm = p.imm[pc];
  const a = address(c, pc, p.dst[pc], p.off[pc], is64 ? 8 : 4, true);
  const s = c.R[p.src[pc]];
  const ld = is64 ? Op.i64_load : Op.i64_load32_u;
  const st = is64 ? Op.i64_store : Op.i64_store32;
  const at = () => o.get(a.local);
  if (imm === 0xf1) {
    // cmpxchg: r0 = old; store src when old == r0
    at().mem(ld, a.offset).set(c.TB);
    if (is64) o.get(c.TB).get(c.R[0]).op(Op.i64_eq);
    else o.get(c.TB).op(Op.i32_wrap_i64).get(c.R[0]).op(Op.i32_wrap_i64, Op.i32_eq);
    o.u8(Op.if).u8(VOID);
    at().get(s).mem(st, a.offset);
    o.u8(Op.end);
    o.get(c.TB).set(c.R[0]);
    return;
  }
  const rmw = imm & ~1;
  const fn = rmw === 0x00 ? Op.i64_add : rmw === 0x40 ? Op.i64_or : rmw === 0x50 ? Op.i64_and : rmw === 0xa0 ? Op.i64_xor : rmw === 0xe0 ? -1 : -2; // prettier-ignore
  if (fn === -2 || imm === 0x100 || imm === 0x110) {
    const kind = is64 ? RaiseKind.BAD_ATOMIC64 : RaiseKind.BAD_ATOMIC32;
    o.i32(kind).i32(pc).i32(imm).call(Imp.raise).u8(Op.unreachable);
    return;
  }
  at().mem(ld, a.offset).set(c.TB);
  at();
  if (fn === -1) o.get(s);
  else o.get(c.TB).get(s).u8(fn);
  o.mem(st, a.offset);
  if (imm & 1) o.get(c.TB).set(s);
}

/**
 * Lowers the instruction at `pc` (anything but a jump; `exit` returns). The budget is charged
 * by the caller.
 */
export function lowerInsn(c: FnCtx, pc: number): void {
  const o = c.out;
  const p = c.p;
  const code = p.code[pc];
  if (!SUPPORTED[code]) {
    o.i32(RaiseKind.UNSUPPORTED_OPCODE).i32(pc).i32(code).call(Imp.raise).u8(Op.unreachable);
    return;
  }
  const cls = code & 7;
  if (cls === 4 || cls === 7) return lowerAlu(c, pc);
  if (code === 0x18) {
    o.i64(p.imm[pc], p.imm[pc + 1]).set(c.R[p.dst[pc]]);
    return;
  }
  if (cls === 1) {
    const sz = (code >> 3) & 3;
    const size = SIZE_OF[sz];
    const a = address(c, pc, p.src[pc], p.off[pc], size, false);
    o.get(a.local).mem((code & 0xe0) === 0x80 ? LOAD_S[sz] : LOAD_U[sz], a.offset);
    o.set(c.R[p.dst[pc]]);
    const g = c.guardAt(pc);
    if (g !== undefined) {
      const env = { t64: c.TB, hi64: c.TC, t32: c.TI, depth: c.DEPTH, check: c.check };
      if (g.read) emitGuard(o, c.R[p.dst[pc]], g.read, false, env);
      if (g.write) emitGuard(o, c.R[p.dst[pc]], g.write, true, env);
    }
    return;
  }
  if (cls === 2 || code === 0x63 || code === 0x6b || code === 0x73 || code === 0x7b) {
    const sz = (code >> 3) & 3;
    const size = SIZE_OF[sz];
    const a = address(c, pc, p.dst[pc], p.off[pc], size, true);
    o.get(a.local);
    if (cls === 2) o.i64(p.imm[pc]);
    else o.get(c.R[p.src[pc]]);
    o.mem(STORE[sz], a.offset);
    return;
  }
  if (code === 0xc3 || code === 0xdb) return lowerAtomic(c, pc);
  if (code === 0x85 || code === 0x8d) return lowerCall(c, pc);
  if (code === 0x95) return lowerExit(c, pc);
}
