/**
 * Links an entry program with the subprograms it reaches, as libbpf's
 * `bpf_object__relocate_calls` / `bpf_object__reloc_code` do: each subprogram of `.text` that
 * is called (or whose address is taken), directly or transitively, is appended once, depth-first
 * in the order the calls are met, and every call and function-address `lddw` gets its
 * pc-relative immediate. `.BTF.ext` records follow their functions.
 */
import type { Btf } from "./btf.js";
import type { BtfExt } from "./btf-ext.js";
import { BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC } from "./constants.js";
import { describeSection } from "./elf.js";
import { LoadError, hex } from "./errors.js";
import type { ObjectContext } from "./object.js";
import {
  INSN_SIZE,
  OP_CALL,
  OP_LDDW,
  functionAt,
  type BpfFunction,
  type ObjectFunctions,
} from "./programs.js";
import type { CoreRelo, FuncBoundary, FuncInfo, LineInfo } from "./types.js";

/** Most instructions one linked program may have (the kernel's BPF_COMPLEXITY_LIMIT_INSNS). */
export const MAX_PROGRAM_INSNS = 1_000_000;

/** A linked program's code and debug records. */
export interface LinkedProgram {
  /** Linked instructions. */
  insns: Uint8Array;
  /** Function boundaries in linked order. */
  funcs: FuncBoundary[];
  /** Line records mapped to linked indices. */
  lineInfo: LineInfo[];
  /** Function records mapped to linked indices. */
  funcInfo: FuncInfo[];
  /** CO-RE records mapped to linked indices. */
  coreRelos: CoreRelo[];
}

interface Frame {
  fn: BpfFunction;
  next: number;
}

/** Links `main` (an entry program) with every subprogram it reaches. */
export function linkProgram(
  ctx: ObjectContext,
  fns: ObjectFunctions,
  main: BpfFunction,
  ext: SortedBtfExt | undefined,
  btf: Btf | undefined,
): LinkedProgram {
  const placed = new Map<BpfFunction, number>([[main, 0]]);
  const order: BpfFunction[] = [main];
  const patches: { at: number; imm: number }[] = [];
  let total = main.insnCount;
  // An explicit stack instead of recursion: deep call chains cannot overflow the JS stack.
  const stack: Frame[] = [{ fn: main, next: 0 }];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1];
    const { fn } = frame;
    if (frame.next >= fn.insnCount) {
      stack.pop();
      continue;
    }
    const i = frame.next++;
    const target = callTarget(ctx, fn, i);
    if (target === undefined) continue;
    const callee = functionAt(fns, ctx.textIndex, target);
    const base = placed.get(fn) ?? 0;
    if (!callee)
      throw new LoadError(
        "PROGRAM",
        `${describeSection(fn.section)}: ${JSON.stringify(fn.name)} insn ${i}: call target ` +
          `(insn ${target} of .text) is not inside any function of .text`,
        { section: fn.section.name, offset: (fn.secInsnOff + i) * INSN_SIZE },
      );
    let start = placed.get(callee);
    if (start === undefined) {
      start = total;
      total += callee.insnCount;
      if (total > MAX_PROGRAM_INSNS)
        throw new LoadError(
          "LIMIT",
          `program ${JSON.stringify(main.name)}: more than ${MAX_PROGRAM_INSNS} instructions ` +
            `once its subprograms are linked`,
          { section: main.section.name },
        );
      placed.set(callee, start);
      order.push(callee);
      stack.push({ fn: callee, next: 0 });
    }
    const at = base + i;
    patches.push({ at, imm: start + (target - callee.secInsnOff) - at - 1 });
  }

  const insns = new Uint8Array(total * INSN_SIZE);
  for (const fn of order) insns.set(fn.code, (placed.get(fn) ?? 0) * INSN_SIZE);
  const view = new DataView(insns.buffer);
  for (const p of patches) view.setInt32(p.at * INSN_SIZE + 4, p.imm, true);

  const out: LinkedProgram = { insns, funcs: [], lineInfo: [], funcInfo: [], coreRelos: [] };
  for (const fn of order) {
    const start = placed.get(fn) ?? 0;
    out.funcs.push({ name: fn.name, start, global: fn.global && !fn.hidden });
    if (!ext) continue;
    const shift = (off: number): number => Math.floor(off / INSN_SIZE) - fn.secInsnOff + start;
    for (const r of recordsOf(ext.lineInfo, fn))
      out.lineInfo.push({
        insn: shift(r.insnOff),
        file: r.file,
        line: r.line,
        column: r.column,
        text: r.text,
      });
    for (const r of recordsOf(ext.funcInfo, fn))
      out.funcInfo.push({
        insn: shift(r.insnOff),
        typeId: r.typeId,
        name: btf?.types[r.typeId]?.name ?? "",
      });
    for (const r of recordsOf(ext.coreRelos, fn))
      out.coreRelos.push({
        insn: shift(r.insnOff),
        typeId: r.typeId,
        accessStr: r.accessStr,
        kind: r.kind,
      });
  }
  return out;
}

/**
 * For a bpf-to-bpf call or a function-address `lddw` at instruction `i` of `fn`, the index in
 * `.text` of the instruction it targets; `undefined` for any other instruction.
 */
function callTarget(ctx: ObjectContext, fn: BpfFunction, i: number): number | undefined {
  const o = i * INSN_SIZE;
  const code = fn.code;
  const op = code[o];
  if (op !== OP_CALL && op !== OP_LDDW) return undefined;
  const src = code[o + 1] >> 4;
  const v = fn.view;
  const isCall =
    op === OP_CALL &&
    src === BPF_PSEUDO_CALL &&
    (code[o + 1] & 0xf) === 0 &&
    v.getInt16(o + 2, true) === 0;
  const isFunc = op === OP_LDDW && src === BPF_PSEUDO_FUNC;
  const ref = fn.refs.get(i);
  if (ref?.kind === "call" && !isCall)
    throw linkError(fn, i, "relocated call has non-zero dst_reg or offset");
  if (!isCall && !isFunc) return undefined;
  const imm = v.getInt32(o + 4, true);
  if (ref) {
    if (ref.kind === "call") return ref.symOff / INSN_SIZE + imm + 1;
    return (ref.symOff + imm) / INSN_SIZE;
  }
  if (isFunc) throw linkError(fn, i, "lddw of a function address without a relocation");
  if (fn.section.index !== ctx.textIndex)
    throw linkError(
      fn,
      i,
      `call without a relocation (imm ${imm}) can only target its own section, and ` +
        `subprograms must be in .text`,
    );
  return fn.secInsnOff + i + imm + 1;
}

function linkError(fn: BpfFunction, i: number, msg: string): LoadError {
  const offset = (fn.secInsnOff + i) * INSN_SIZE;
  return new LoadError(
    "PROGRAM",
    `${describeSection(fn.section)}: ${JSON.stringify(fn.name)} insn ${i} (offset ${hex(offset)}): ${msg}`,
    { section: fn.section.name, offset },
  );
}

/** `.BTF.ext` records sorted by instruction offset, per section. */
export type SortedBtfExt = Pick<BtfExt, "funcInfo" | "lineInfo" | "coreRelos">;

/** Sorts every section's records by instruction offset (stable), for range lookups. */
export function sortBtfExt(ext: BtfExt): SortedBtfExt {
  const sort = <T extends { insnOff: number }>(m: Map<string, T[]>): Map<string, T[]> =>
    new Map([...m].map(([k, list]) => [k, [...list].sort((a, b) => a.insnOff - b.insnOff)]));
  return {
    funcInfo: sort(ext.funcInfo),
    lineInfo: sort(ext.lineInfo),
    coreRelos: sort(ext.coreRelos),
  };
}

/** The records of `fn`'s section that fall inside `fn`. */
function recordsOf<T extends { insnOff: number }>(m: Map<string, T[]>, fn: BpfFunction): T[] {
  const list = m.get(fn.section.name);
  if (!list) return [];
  const lo = fn.secInsnOff * INSN_SIZE;
  const hi = (fn.secInsnOff + fn.insnCount) * INSN_SIZE;
  return list.slice(lowerBound(list, lo), lowerBound(list, hi));
}

function lowerBound(list: { insnOff: number }[], off: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid].insnOff < off) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
