import { decodeProgram } from "../isa/decode.js";
import {
  BPF_PSEUDO_BTF_ID,
  BPF_PSEUDO_FUNC,
  BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_MAP_IDX,
  BPF_PSEUDO_MAP_IDX_VALUE,
  BPF_PSEUDO_MAP_VALUE,
  OP_LDDW,
} from "../isa/opcodes.js";
import { validateProgram } from "../isa/validate.js";
import { helperName } from "../isa/names.js";
import { FUNC_ADDR_BASE } from "../memory/layout.js";
import { ValidationError } from "../errors.js";
import type { Machine } from "./machine.js";
import type { ExecProgram, FuncInfo, SourceLine } from "./program.js";

const BPF_FUNC_tail_call = 12;

/** What {@link prepareProgram} builds a runnable program from. */
export interface ProgramInput {
  /** Program name. */
  name: string;
  /** ELF section name ("" for raw bytecode). */
  section?: string;
  /** Linked bytecode; `lddw` map references carry map indices (src 1/2/5/6). */
  insns: Uint8Array;
  /** Functions (default: one, the program). */
  funcs?: FuncInfo[];
  /** Source lines. */
  lines?: SourceLine[];
  /** Linux program type (default 0, unspecified). */
  progType?: number;
  /** Expected attach type. */
  attachType?: number;
  /** Loaded as `xdp.frags`. */
  xdpFrags?: boolean;
}

/** Resolves the map references of `lddw`. */
export interface MapResolver {
  /** The handle of the map with index `index` (BPF_PSEUDO_MAP_FD/IDX). */
  mapHandle(index: number): number | undefined;
  /** The address of byte `offset` of the value of single-value map `index` (MAP_VALUE). */
  mapValueAddr(index: number, offset: number): number | undefined;
}

const NO_MAPS: MapResolver = { mapHandle: () => undefined, mapValueAddr: () => undefined };

/**
 * Validates a program and resolves every `lddw` to the 64-bit value the program sees: map
 * handles, map value addresses, function addresses. Unknown helpers are refused here, by name.
 */
export function prepareProgram(
  m: Machine,
  input: ProgramInput,
  maps: MapResolver = NO_MAPS,
  opts: { allowCallx?: boolean } = {},
): ExecProgram {
  const insns = decodeProgram(input.insns);
  validateProgram(insns, {
    maxInsns: m.limits.maxInsns,
    allowCallx: opts.allowCallx ?? true,
    helperExists: (id: number) => id === BPF_FUNC_tail_call || m.helpers[id] !== undefined,
  });
  const where = (_pc: number) => `program ${input.name}: `;
  for (let pc = 0; pc < insns.length; pc++) {
    if (insns.code[pc] === 0x85 && insns.src[pc] === 0) {
      const id = insns.imm[pc];
      if (id !== BPF_FUNC_tail_call && m.helpers[id] === undefined) {
        throw new ValidationError(
          `${where(pc)}helper ${id} (${helperName(id) ?? "unknown"}) is not implemented`,
          pc,
          "UNKNOWN_HELPER",
        );
      }
    }
    if (insns.code[pc] !== OP_LDDW) continue;
    const src = insns.src[pc];
    let lo = insns.imm[pc];
    let hi = insns.imm[pc + 1];
    if (src === BPF_PSEUDO_MAP_FD || src === BPF_PSEUDO_MAP_IDX) {
      const h = maps.mapHandle(lo);
      if (h === undefined)
        throw new ValidationError(
          `${where(pc)}lddw names map ${lo}, which does not exist`,
          pc,
          "UNKNOWN_MAP",
        );
      lo = h;
      hi = 0;
    } else if (src === BPF_PSEUDO_MAP_VALUE || src === BPF_PSEUDO_MAP_IDX_VALUE) {
      const a = maps.mapValueAddr(lo, hi);
      if (a === undefined) {
        throw new ValidationError(
          `${where(pc)}lddw names the value of map ${lo} at offset ${hi}, which does not exist`,
          pc,
          "UNKNOWN_MAP",
        );
      }
      lo = a | 0;
      hi = 0;
    } else if (src === BPF_PSEUDO_FUNC) {
      const target = pc + lo + 1;
      lo = (FUNC_ADDR_BASE + 8 * target) | 0;
      hi = 0;
    } else if (src === BPF_PSEUDO_BTF_ID) {
      throw new ValidationError(
        `${where(pc)}lddw of a kernel symbol (BTF id ${lo}) is not supported`,
        pc,
        "UNSUPPORTED",
      );
    }
    insns.imm[pc] = lo;
    insns.imm[pc + 1] = hi;
    insns.src[pc] = 0;
    pc++;
  }
  return {
    id: m.newProgId(),
    name: input.name,
    section: input.section ?? "",
    progType: input.progType ?? 0,
    attachType: input.attachType ?? 0,
    xdpFrags: input.xdpFrags ?? false,
    insns,
    funcs: input.funcs && input.funcs.length > 0 ? input.funcs : [{ name: input.name, start: 0 }],
    lines: input.lines ?? [],
    engineData: new Map(),
  };
}
