import { readFileSync, writeFileSync } from "node:fs";
import { assemble } from "../isa/asm.js";
import { decodeProgram } from "../isa/decode.js";
import { disassembleLines, type DisasmSyntax } from "../isa/disasm.js";
import { helperName } from "../isa/names.js";
import type { CollectionSpec, ProgramSpec } from "../elf/types.js";
import { mapTypeName } from "../maps/constants.js";
import { loadCollectionSpecFile } from "../node.js";
import { out } from "./output.js";

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];

/** `tsbpf asm FILE.s [-o OUT.bin]`. */
export function asmCommand(file: string, opts: { output?: string }): number {
  const code = assemble(readFileSync(file, "utf8"));
  const dest = opts.output ?? file.replace(/\.[^./]*$/, "") + ".bin";
  writeFileSync(dest, code);
  return 0;
}

function isElf(bytes: Uint8Array): boolean {
  return ELF_MAGIC.every((b, i) => bytes[i] === b);
}

/** Lines of one object program: function labels, source lines, helper/map/call names. */
export function disasmProgram(
  spec: CollectionSpec,
  p: ProgramSpec,
  opts: { syntax?: DisasmSyntax; linum?: boolean },
): string[] {
  const insns = decodeProgram(p.insns);
  const funcAt = new Map(p.funcs.map((f) => [f.start, f.name]));
  const lineAt = new Map(p.lineInfo.map((l) => [l.insn, l]));
  const lines: string[] = [`${p.name} (section ${p.section}):`];
  const annotate = (pc: number): string | undefined => {
    const code = insns.code[pc];
    if (code === 0x85 && insns.src[pc] === 0) {
      const id = insns.imm[pc];
      return id === 12 ? "bpf_tail_call" : (helperName(id) ?? `helper ${id}`);
    }
    if (code === 0x18 && (insns.src[pc] === 1 || insns.src[pc] === 2)) {
      const map = spec.maps[insns.imm[pc]];
      if (map === undefined) return undefined;
      return insns.src[pc] === 1 ? `map ${map.name}` : `${map.name} + ${insns.imm[pc + 1]}`;
    }
    return undefined;
  };
  for (const l of disassembleLines(insns, {
    syntax: opts.syntax,
    annotate,
    targetLabel: (t) => funcAt.get(t),
  })) {
    const f = funcAt.get(l.pc);
    if (f !== undefined) lines.push(`${f}:`);
    const src = lineAt.get(l.pc);
    if (src !== undefined && opts.syntax !== "conformance") {
      const where = opts.linum ? `${src.file}:${src.line}: ` : "";
      lines.push(`; ${where}${src.text.trim()}`);
    }
    const pcText = opts.syntax === "conformance" ? "" : `${l.pc.toString().padStart(5)}: `;
    lines.push(`${pcText}${l.text}`);
  }
  return lines;
}

/** `tsbpf disasm FILE.o|FILE.bin [--prog NAME]`. */
export function disasmCommand(
  file: string,
  opts: { prog?: string; syntax?: DisasmSyntax; linum?: boolean },
): number {
  const bytes = new Uint8Array(readFileSync(file));
  if (!isElf(bytes)) {
    for (const l of disassembleLines(bytes, { syntax: opts.syntax })) out(l.text);
    return 0;
  }
  const spec = loadCollectionSpecFile(file);
  const progs = spec.programs.filter((p) => opts.prog === undefined || p.name === opts.prog);
  if (progs.length === 0) {
    throw new Error(
      `no program named "${opts.prog}" (programs: ${spec.programs.map((p) => p.name).join(", ")})`,
    );
  }
  progs.forEach((p, i) => {
    if (i > 0) out("");
    disasmProgram(spec, p, opts).forEach(out);
  });
  return 0;
}

/** Helper ids a program calls. */
function helpersOf(p: ProgramSpec): number[] {
  const insns = decodeProgram(p.insns);
  const ids = new Set<number>();
  for (let pc = 0; pc < insns.length; pc++) {
    if (insns.code[pc] === 0x85 && insns.src[pc] === 0) ids.add(insns.imm[pc]);
  }
  return [...ids].sort((a, b) => a - b);
}

/** `tsbpf inspect FILE.o`: programs, maps, helpers, license. */
export function inspectCommand(file: string, opts: { json?: boolean }): number {
  const spec = loadCollectionSpecFile(file);
  const info = {
    name: spec.name,
    license: spec.license,
    programs: spec.programs.map((p) => ({
      name: p.name,
      section: p.section,
      type: p.progType,
      insns: p.insns.length / 8,
      subprograms: p.funcs.slice(1).map((f) => f.name),
      helpers: helpersOf(p).map((id) =>
        id === 12 ? "bpf_tail_call" : (helperName(id) ?? `helper ${id}`),
      ),
    })),
    maps: spec.maps.map((m) => ({
      name: m.name,
      type: mapTypeName(m.type),
      key_size: m.keySize,
      value_size: m.valueSize,
      max_entries: m.maxEntries,
      flags: m.flags,
      ...(m.initialSlots ? { initial_slots: m.initialSlots } : {}),
    })),
  };
  if (opts.json) {
    out(JSON.stringify(info));
    return 0;
  }
  out(`object ${info.name}, license "${info.license}"`);
  out(`programs:`);
  for (const p of info.programs) {
    out(`  ${p.name} (section ${p.section}, type ${p.type}): ${p.insns} insns`);
    if (p.subprograms.length) out(`    subprograms: ${p.subprograms.join(", ")}`);
    if (p.helpers.length) out(`    helpers: ${p.helpers.join(", ")}`);
  }
  out(`maps:`);
  for (const m of info.maps) {
    out(
      `  ${m.name}: ${m.type}, key ${m.key_size}, value ${m.value_size}, max_entries ${m.max_entries}, flags 0x${m.flags.toString(16)}`,
    );
    for (const s of m.initial_slots ?? []) out(`    [${s.key}] = ${s.target}`);
  }
  return 0;
}
