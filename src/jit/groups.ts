/**
 * Access groups: checked accesses of one basic block that go through the same base register
 * and share one bounds check. `r2 = *(u32 *)(r1 + 4); r3 = *(u32 *)(r1 + 0)` needs one check of
 * `[r1, r1 + 8)`, and `r3 = *(u8 *)(r2 + 0); *(u8 *)(r2 + 0) = r3` one writable check of
 * `[r2, r2 + 1)`.
 *
 * The group's check runs at its first member. When the whole span is inside one cached range,
 * no member is checked again; otherwise every member is checked there, in order, with its own
 * check (which faults exactly as it would have at the member). Checking a member early is only
 * invisible when nothing observable can run between the first member and it, so a group is a
 * run of consecutive checked accesses (no other checked access in between) with no call, no
 * unsupported opcode, no store except as its last member, and its base register unchanged
 * until its last member.
 */
import type { DecodedProgram } from "../isa/decode.js";
import { OP_LDDW, inFrame } from "../isa/opcodes.js";
import type { Cfg } from "./cfg.js";

const SIZE_OF = [4, 2, 1, 8]; // by (code & 0x18) >> 3

/** Largest span one group check covers. */
export const MAX_GROUP_SPAN = 4096;

/** One checked access: `size` bytes at `reg + off`. */
export interface Access {
  readonly pc: number;
  readonly reg: number;
  readonly off: number;
  readonly size: number;
  readonly write: boolean;
}

/** A group of two or more accesses checked together at its first member. */
export interface AccessGroup {
  readonly reg: number;
  readonly members: readonly Access[];
  /** Offset of the span's first byte from the base register. */
  readonly lo: number;
  /** Bytes in the span. */
  readonly span: number;
  /** Whether any member writes (the span must be writable). */
  readonly write: boolean;
}

/** The checked access at `pc`, if it is one (accesses through r10 inside the frame are not). */
export function checkedAccess(p: DecodedProgram, pc: number): Access | undefined {
  const code = p.code[pc];
  const cls = code & 7;
  const size = SIZE_OF[(code >> 3) & 3];
  if (cls === 1) {
    const reg = p.src[pc];
    if (reg === 10 && inFrame(p.off[pc], size)) return undefined;
    return { pc, reg, off: p.off[pc], size, write: false };
  }
  if (cls === 2 || cls === 3) {
    const reg = p.dst[pc];
    if (reg === 10 && inFrame(p.off[pc], size)) return undefined;
    return { pc, reg, off: p.off[pc], size, write: true };
  }
  return undefined;
}

/** Whether the instruction at `pc` (not a call) may write register `r`. */
export function writesReg(p: DecodedProgram, pc: number, r: number): boolean {
  const c = p.code[pc];
  const cls = c & 7;
  if (cls === 4 || cls === 7 || cls === 1 || c === OP_LDDW) return p.dst[pc] === r;
  if (c === 0xc3 || c === 0xdb) return r === 0 || p.src[pc] === r;
  return false;
}

/**
 * The access groups of `cfg`'s blocks, by the pc of each member. `plain(code)`: whether the
 * opcode is lowered in line without calling out (not a call, supported); `apart(pc)`: an
 * access checked its own way (a range proof), in no group and ending any group before it.
 */
export function planAccessGroups(
  p: DecodedProgram,
  cfg: Cfg,
  plain: (code: number) => boolean,
  apart: (pc: number) => boolean = () => false,
): Map<number, AccessGroup> {
  const out = new Map<number, AccessGroup>();
  const close = (g: Access[]) => {
    if (g.length < 2) return;
    let lo = Infinity;
    let hi = -Infinity;
    for (const a of g) {
      lo = Math.min(lo, a.off);
      hi = Math.max(hi, a.off + a.size);
    }
    const group = { reg: g[0].reg, members: g, lo, span: hi - lo, write: g.some((a) => a.write) };
    for (const a of g) out.set(a.pc, group);
  };
  for (let b = 0; b < cfg.n; b++) {
    let cur: Access[] = [];
    let open = false;
    for (let pc = cfg.start[b]; pc <= cfg.last[b]; pc += p.code[pc] === OP_LDDW ? 2 : 1) {
      if (!plain(p.code[pc]) || apart(pc)) {
        close(cur);
        cur = [];
        open = false;
        continue;
      }
      const a = checkedAccess(p, pc);
      if (a !== undefined) {
        const fits =
          open &&
          a.reg === cur[0].reg &&
          Math.max(...cur.map((m) => m.off + m.size), a.off + a.size) -
            Math.min(...cur.map((m) => m.off), a.off) <=
            MAX_GROUP_SPAN;
        if (fits) cur.push(a);
        else {
          close(cur);
          cur = [a];
        }
        open = !a.write;
      }
      if (open && writesReg(p, pc, cur[0].reg)) open = false;
    }
    close(cur);
  }
  return out;
}
