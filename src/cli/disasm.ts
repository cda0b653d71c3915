/**
 * `tsbpf disasm`: an object's programs in llvm-objdump's syntax, each linked with its
 * subprograms, interleaved with the C source lines of `.BTF.ext`; maps named at `lddw`,
 * helpers at calls, subprograms and jump targets labelled as llvm-objdump labels them
 * (`<prog_a+0xa0>`), and each `bpf_tail_call` annotated with its prog_array and, when the
 * index is a constant and the array has static slots, the program it reaches.
 */
import { readFileSync } from "node:fs";
import { decodeProgram, type DecodedProgram } from "../isa/decode.js";
import { disassembleLines, type DisasmSyntax } from "../isa/disasm.js";
import { helperName } from "../isa/names.js";
import { BTF_KIND_DATASEC, BTF_KIND_VAR } from "../elf/btf-types.js";
import type { CollectionSpec, MapSpec, ProgramSpec } from "../elf/types.js";
import { TsbpfError } from "../errors.js";
import { loadCollectionSpecFile } from "../node.js";
import { out, UsageError } from "./output.js";
import { color } from "./term.js";

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];
const BPF_FUNC_tail_call = 12;

/** Whether `bytes` are an ELF file. */
export function isElf(bytes: Uint8Array): boolean {
  return ELF_MAGIC.every((b, i) => bytes[i] === b);
}

/** Options of {@link disasmProgram}. */
export interface DisasmProgramOptions {
  syntax?: DisasmSyntax;
  /** Show `file:line` with each source line. */
  linum?: boolean;
}

/** The name of helper `id` (`bpf_map_lookup_elem`), or `helper N`. */
export function helperLabel(id: number): string {
  return id === BPF_FUNC_tail_call ? "bpf_tail_call" : (helperName(id) ?? `helper ${id}`);
}

/** The global variable at `off` of a global data map (`path`, `path+0x4`). */
function varAt(spec: CollectionSpec, m: MapSpec, off: number): string | undefined {
  const sec = m.valueTypeId !== undefined ? spec.btf?.types[m.valueTypeId] : undefined;
  if (sec?.kind !== BTF_KIND_DATASEC) return undefined;
  for (const v of sec.vars) {
    if (off < v.offset || off >= v.offset + Math.max(1, v.size)) continue;
    const t = spec.btf?.types[v.type];
    const name = t?.kind === BTF_KIND_VAR ? t.name : undefined;
    if (name === undefined) return undefined;
    return off === v.offset ? name : `${name}+0x${(off - v.offset).toString(16)}`;
  }
  return undefined;
}

/** Instruction indexes some jump or call lands on (a constant cannot be tracked past them). */
function jumpTargets(insns: DecodedProgram): Set<number> {
  const t = new Set<number>();
  for (let pc = 0; pc < insns.length; pc++) {
    const code = insns.code[pc];
    const cls = code & 7;
    if ((cls === 5 || cls === 6) && code !== 0x85 && code !== 0x95) {
      t.add(pc + 1 + (code === 0x06 ? insns.imm[pc] : insns.off[pc]));
    }
    if (code === 0x85 && insns.src[pc] === 1) t.add(pc + 1 + insns.imm[pc]);
  }
  return t;
}

/**
 * What r2 (a prog_array, by map index) and r3 (a constant) hold at the `bpf_tail_call` at
 * `pc`, found by walking back through straight-line code; a field is undefined when unknown.
 */
function tailCallArgs(
  insns: DecodedProgram,
  targets: Set<number>,
  pc: number,
): { map?: number; index?: number } {
  const second = new Set<number>();
  for (let i = 0; i < insns.length; i++) if (insns.code[i] === 0x18) second.add(++i);
  const found: { map?: number; index?: number } = {};
  let need2 = true;
  let need3 = true;
  for (let i = pc - 1; i >= 0 && (need2 || need3) && pc - i < 64; i--) {
    if (second.has(i)) continue;
    const code = insns.code[i];
    const dst = insns.dst[i];
    const cls = code & 7;
    const writes = cls === 0 || cls === 1 || cls === 4 || cls === 7; // LD, LDX, ALU, ALU64
    if (code === 0x85) {
      need2 = need3 = false; // a call clobbers r1-r5
    } else if (writes && dst === 2 && need2) {
      if (code === 0x18 && insns.src[i] === 1) found.map = insns.imm[i];
      need2 = false;
    } else if (writes && dst === 3 && need3) {
      if (code === 0xb7 || code === 0xb4) found.index = insns.imm[i] >>> 0;
      need3 = false;
    }
    if (targets.has(i)) break;
  }
  return found;
}

/** The annotation of a `bpf_tail_call`: `bpf_tail_call(jmp_table[0] → prog_c)`. */
function tailCallNote(spec: CollectionSpec, args: { map?: number; index?: number }): string {
  const m = args.map !== undefined ? spec.maps[args.map] : undefined;
  if (m === undefined) return "bpf_tail_call";
  if (args.index === undefined) {
    const slots = (m.initialSlots ?? []).map((x) => `${x.key} → ${x.target}`);
    const list = slots.length > 8 ? [...slots.slice(0, 8), "…"] : slots;
    return `bpf_tail_call(${m.name}[r3]${list.length ? `; at load: ${list.join(", ")}` : ""})`;
  }
  const slot = m.initialSlots?.find((s) => s.key === args.index);
  const where = `${m.name}[${args.index}]`;
  if (slot !== undefined) return `bpf_tail_call(${where} → ${slot.target})`;
  return `bpf_tail_call(${where}${m.initialSlots ? ", empty at load" : ""})`;
}

/** Lines of one object program: function labels, source lines, helper/map/call names. */
export function disasmProgram(
  spec: CollectionSpec,
  p: ProgramSpec,
  opts: DisasmProgramOptions = {},
): string[] {
  const insns = decodeProgram(p.insns);
  const llvm = opts.syntax !== "conformance";
  const funcs = [...p.funcs].sort((a, b) => a.start - b.start);
  const funcAt = new Map(funcs.map((f) => [f.start, f.name]));
  const lineAt = new Map(p.lineInfo.map((l) => [l.insn, l]));
  const targets = jumpTargets(insns);
  const label = (t: number): string | undefined => {
    let f = funcs[0];
    for (const g of funcs) if (g.start <= t) f = g;
    if (f === undefined) return undefined;
    return t === f.start ? f.name : `${f.name}+0x${((t - f.start) * 8).toString(16)}`;
  };
  const annotate = (pc: number): string | undefined => {
    const code = insns.code[pc];
    const src = insns.src[pc];
    if (code === 0x85 && src === 0) {
      const id = insns.imm[pc];
      if (id === BPF_FUNC_tail_call) return tailCallNote(spec, tailCallArgs(insns, targets, pc));
      return helperLabel(id);
    }
    if (code === 0x18 && (src === 1 || src === 2)) {
      const map = spec.maps[insns.imm[pc]];
      if (map === undefined) return undefined;
      if (src === 1) return `map ${map.name}`;
      const off = insns.imm[pc + 1];
      const v = varAt(spec, map, off);
      return v !== undefined ? `&${v} (${map.name})` : `${map.name} + ${off}`;
    }
    if (code === 0x18 && src === 4) return `&${label(pc + 1 + insns.imm[pc]) ?? "?"}`;
    return undefined;
  };
  const text = (pc: number, base: string): string => {
    if (!llvm) return base;
    const code = insns.code[pc];
    // as llvm-objdump prints the object before relocation: the value is filled in at load
    if (code === 0x18 && insns.src[pc] >= 1 && insns.src[pc] <= 6 && insns.src[pc] !== 3) {
      const note = annotate(pc);
      return `r${insns.dst[pc]} = 0x0 ll${note ? `  ${color.dim(`; ${note}`)}` : ""}`;
    }
    if (code === 0x85 && insns.src[pc] === 1) {
      return `call ${llvmImm(insns.imm[pc])} <${label(pc + 1 + insns.imm[pc]) ?? "?"}>`;
    }
    return base;
  };
  const lines: string[] = [
    llvm
      ? `${color.bold(p.name)} ${color.dim(`(section ${p.section}):`)}`
      : `# ${p.name} (section ${p.section})`,
  ];
  let lastSrc = "";
  for (const l of disassembleLines(insns, {
    syntax: opts.syntax,
    annotate: (pc) => {
      const note = annotate(pc);
      return note === undefined ? undefined : color.dim(note);
    },
    targetLabel: label,
  })) {
    const f = funcAt.get(l.pc);
    if (f !== undefined) {
      lines.push("");
      lines.push(llvm ? `${(l.pc * 8).toString(16).padStart(16, "0")} <${f}>:` : `${f}:`);
      lastSrc = "";
    }
    const src = lineAt.get(l.pc);
    if (src !== undefined && llvm) {
      const key = `${src.file}:${src.line}`;
      if (key !== lastSrc) {
        const where = opts.linum ? `${src.file}:${src.line}: ` : "";
        lines.push(color.dim(`; ${where}${src.text.trim()}`));
        lastSrc = key;
      }
    }
    const body = text(l.pc, l.text);
    lines.push(llvm ? `${l.pc.toString().padStart(8)}:\t${body}` : body);
  }
  return lines;
}

function llvmImm(n: number): string {
  return n < 0 ? `-0x${(-n).toString(16)}` : `0x${n.toString(16)}`;
}

/** `tsbpf disasm FILE.o|FILE.bin [--prog NAME]`. */
export function disasmCommand(
  file: string,
  opts: { prog?: string; syntax?: DisasmSyntax; linum?: boolean },
): number {
  const bytes = new Uint8Array(readFileSync(file));
  if (!isElf(bytes)) {
    if (opts.prog !== undefined) throw new UsageError("--prog: the file is not an object");
    const insns = decodeProgram(bytes);
    for (const l of disassembleLines(insns, { syntax: opts.syntax })) {
      out(opts.syntax === "conformance" ? l.text : `${l.pc.toString().padStart(8)}:\t${l.text}`);
    }
    return 0;
  }
  const spec = loadCollectionSpecFile(file);
  const progs = spec.programs.filter((p) => opts.prog === undefined || p.name === opts.prog);
  if (progs.length === 0) {
    throw new TsbpfError(
      "ENOENT",
      `no program named "${opts.prog}" (programs: ${spec.programs.map((p) => p.name).join(", ")})`,
    );
  }
  progs.forEach((p, i) => {
    if (i > 0) out("");
    disasmProgram(spec, p, opts).forEach(out);
  });
  return 0;
}
