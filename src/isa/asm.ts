/**
 * Assembler for bpf_conformance's syntax (`mov32 %r0, 0`, `ldxw %r0, [%r1+4]`,
 * `jne32 %r1, 0xfffffffc, fail`, `lddw %r0, 0x1122334455667788`, `call local func1`,
 * `lock fetch add32 [%r10-8], %r1`, labels `fail:`, `#` comments).
 *
 * Beyond the original: `;` also starts a comment; a label may share its line with an
 * instruction; `add64`-style aliases of the 64-bit ALU mnemonics; `gotol` for `ja32`;
 * `callx %rX` for `call %rX`; `ldabs{b,h,w} IMM` and `ldind{b,h,w} %rX, IMM` (legacy packet
 * loads); and `.raw WORD, …`, whole slots as 64-bit little-endian words (the `-- raw` form),
 * which the disassembler writes for encodings the syntax cannot spell. Registers go up to
 * `%r15` (encodable; the validator refuses r11..r15), as in the original. Immediates are
 * decimal (-2^31..2^31-1) or hex (0..0xffffffff, or negative); offsets must fit in 16 signed
 * bits, `ja32`/`call local` offsets in 32. The first `exit` can be jumped to as label `exit`.
 */

import { AsmError } from "../errors.js";
import { encodeProgram, type Insn } from "./decode.js";
import { sizeFromSuffix } from "./names.js";
import {
  BPF_ABS,
  BPF_ALU,
  BPF_ALU64,
  BPF_ATOMIC,
  BPF_CALL,
  BPF_CMPXCHG,
  BPF_END,
  BPF_EXIT,
  BPF_FETCH,
  BPF_IND,
  BPF_JMP,
  BPF_JMP32,
  BPF_LD,
  BPF_LDX,
  BPF_MEM,
  BPF_MEMSX,
  BPF_MOV,
  BPF_NEG,
  BPF_ST,
  BPF_STX,
  BPF_TO_BE,
  BPF_TO_LE,
  BPF_W,
  BPF_X,
  BPF_XCHG,
  OP_LDDW,
} from "./opcodes.js";

/** Options of {@link assemble}. */
export interface AsmOptions {
  /** Line number of the source's first line in error messages (default 1). */
  firstLine?: number;
}

const ALU_OPS: Record<string, number> = {
  add: 0x00,
  sub: 0x10,
  mul: 0x20,
  div: 0x30,
  sdiv: 0x30,
  or: 0x40,
  and: 0x50,
  lsh: 0x60,
  rsh: 0x70,
  mod: 0x90,
  smod: 0x90,
  xor: 0xa0,
  mov: 0xb0,
  arsh: 0xc0,
};

const JMP_OPS: Record<string, number> = {
  jeq: 0x10,
  jgt: 0x20,
  jge: 0x30,
  jset: 0x40,
  jne: 0x50,
  jsgt: 0x60,
  jsge: 0x70,
  jlt: 0xa0,
  jle: 0xb0,
  jslt: 0xc0,
  jsle: 0xd0,
};

const ATOMIC_OPS: Record<string, number> = {
  add: 0x00,
  or: 0x40,
  and: 0x50,
  xor: 0xa0,
  xchg: BPF_XCHG,
  cmpxchg: BPF_CMPXCHG,
};

const MOVSX = new Set(["movsx864", "movsx1664", "movsx3264", "movsx832", "movsx1632"]);

/** A pending label reference: slot `index` gets the distance to `label` in `field`. */
interface Fixup {
  index: number;
  label: string;
  field: "off" | "imm";
  line: number;
}

/** Splits an instruction's text into tokens: words, `[…]` memory operands; commas separate. */
function tokenize(text: string): string[] {
  return text.match(/\[[^\]]*\]?|[^\s,[]+/g) ?? [];
}

/** Parses an integer literal (decimal or `0x` hex, optional sign); undefined if malformed. */
function parseInteger(token: string): bigint | undefined {
  const m = /^([+-]?)(0x[0-9a-f]+|[0-9]+)$/i.exec(token);
  if (!m) return undefined;
  const v = BigInt(m[2]);
  return m[1] === "-" ? -v : v;
}

/** Encodes one program from bpf_conformance assembler text. */
class Assembler {
  readonly insns: Insn[] = [];
  private readonly labels = new Map<string, number>();
  private readonly fixups: Fixup[] = [];
  private firstExit: number | undefined;
  private line = 0;

  constructor(private readonly firstLine: number) {}

  fail(message: string, line = this.line): never {
    throw new AsmError(message, line + this.firstLine - 1);
  }

  reg(token: string): number {
    const m = /^%r(\d+)$/.exec(token);
    if (!m || Number(m[1]) > 15) this.fail(`Invalid register: ${token}`);
    return Number(m[1]);
  }

  imm32(token: string): number {
    const v = parseInteger(token);
    if (v === undefined) this.fail(`Invalid immediate: ${token}`);
    const hex = /0x/i.test(token);
    const ok = hex ? v >= -0x80000000n && v <= 0xffffffffn : v >= -0x80000000n && v <= 0x7fffffffn;
    if (!ok) this.fail(`Immediate out of 32-bit range: ${token}`);
    return Number(BigInt.asIntN(32, v));
  }

  imm64(token: string): bigint {
    const v = parseInteger(token);
    if (v === undefined) this.fail(`Invalid immediate: ${token}`);
    if (v < -(1n << 63n) || v > (1n << 64n) - 1n)
      this.fail(`Immediate out of 64-bit range: ${token}`);
    return BigInt.asUintN(64, v);
  }

  offset(token: string, bits: 16 | 32): number {
    const v = parseInteger(token);
    if (v === undefined) this.fail(`Invalid offset: ${token}`);
    const lim = 1n << BigInt(bits - 1);
    if (v < -lim || v >= lim) this.fail(`Offset out of ${bits}-bit range: ${token}`);
    return Number(v);
  }

  /** `[%rN]`, `[%rN+off]`, `[%rN-off]` → register and offset. */
  memory(token: string): [number, number] {
    const m = /^\[\s*(%r\d+)\s*(?:([+-])\s*(\w+)\s*)?\]$/.exec(token);
    if (!m) this.fail(`Failed to decode register and offset: ${token}`);
    const r = this.reg(m[1]);
    return [r, m[2] === undefined ? 0 : this.offset(`${m[2]}${m[3]}`, 16)];
  }

  /** A jump target: `+N`/`-N`, or a label resolved at the end into `field`. */
  target(token: string, field: "off" | "imm"): number {
    if (/^[+-]/.test(token)) return this.offset(token, field === "off" ? 16 : 32);
    if (!/^[A-Za-z_.$][\w.$]*$/.test(token)) this.fail(`Invalid label: ${token}`);
    this.fixups.push({ index: this.insns.length, label: token, field, line: this.line });
    return 0;
  }

  emit(code: number, dst = 0, src = 0, off = 0, imm = 0): void {
    this.insns.push({ code, dst, src, off, imm });
  }

  operands(mnemonic: string, ops: string[], n: number): void {
    if (ops.length !== n) {
      this.fail(`Invalid number of operands for ${mnemonic}: expected ${n}, got ${ops.length}`);
    }
  }

  parseLine(text: string, lineNo: number): void {
    this.line = lineNo;
    let tokens = tokenize(text.replace(/[#;].*$/, ""));
    while (tokens.length && tokens[0].endsWith(":")) {
      const label = tokens[0].slice(0, -1);
      if (!/^[A-Za-z_.$0-9][\w.$]*$/.test(label)) this.fail(`Invalid label: ${label}`);
      if (this.labels.has(label)) this.fail(`Duplicate label: ${label}`);
      this.labels.set(label, this.insns.length);
      tokens = tokens.slice(1);
    }
    if (tokens.length === 0) return;
    const [mnemonic, ...ops] = tokens;
    this.instruction(mnemonic, ops);
  }

  instruction(mn: string, ops: string[]): void {
    let m: RegExpExecArray | null;
    if (mn === ".raw") return this.raw(ops);
    if (mn === "lock") return this.lock(ops);
    if (mn === "exit") {
      this.operands(mn, ops, 0);
      if (this.firstExit === undefined) this.firstExit = this.insns.length;
      return this.emit(BPF_JMP | BPF_EXIT);
    }
    if (mn === "lddw") {
      this.operands(mn, ops, 2);
      const dst = this.reg(ops[0]);
      const v = this.imm64(ops[1]);
      this.emit(OP_LDDW, dst, 0, 0, Number(BigInt.asIntN(32, v)));
      return this.emit(0, 0, 0, 0, Number(BigInt.asIntN(32, v >> 32n)));
    }
    if (mn === "ja" || mn === "ja32" || mn === "gotol") {
      this.operands(mn, ops, 1);
      if (mn === "ja") return this.emit(BPF_JMP, 0, 0, this.target(ops[0], "off"));
      return this.emit(BPF_JMP32, 0, 0, 0, this.target(ops[0], "imm"));
    }
    if (mn === "call" || mn === "callx") return this.call(mn, ops);
    if ((m = /^(neg)(32|64)?$/.exec(mn))) {
      this.operands(mn, ops, 1);
      return this.emit((m[2] === "32" ? BPF_ALU : BPF_ALU64) | BPF_NEG, this.reg(ops[0]));
    }
    if ((m = /^(le|be|bswap|swap)(16|32|64)$/.exec(mn))) {
      this.operands(mn, ops, 1);
      const code =
        m[1] === "le" ? BPF_ALU | BPF_TO_LE : m[1] === "be" ? BPF_ALU | BPF_TO_BE : BPF_ALU64;
      return this.emit(code | BPF_END, this.reg(ops[0]), 0, 0, Number(m[2]));
    }
    if (MOVSX.has(mn)) {
      this.operands(mn, ops, 2);
      const is64 = mn.endsWith("64");
      const off = Number(mn.slice(5, -2));
      if (!ops[1].startsWith("%")) this.fail(`${mn} needs a register source: ${ops[1]}`);
      const code = (is64 ? BPF_ALU64 : BPF_ALU) | BPF_MOV | BPF_X;
      return this.emit(code, this.reg(ops[0]), this.reg(ops[1]), off);
    }
    if ((m = /^([a-z]+?)(32|64)?$/.exec(mn)) && m[1] in ALU_OPS) {
      this.operands(mn, ops, 2);
      const cls = m[2] === "32" ? BPF_ALU : BPF_ALU64;
      const off = m[1] === "sdiv" || m[1] === "smod" ? 1 : 0;
      return this.aluOrJmp(cls | ALU_OPS[m[1]], ops, off);
    }
    if ((m = /^(j[a-z]+?)(32)?$/.exec(mn)) && m[1] in JMP_OPS) {
      this.operands(mn, ops, 3);
      const code = (m[2] ? BPF_JMP32 : BPF_JMP) | JMP_OPS[m[1]];
      return this.aluOrJmp(code, ops, this.target(ops[2], "off"));
    }
    if ((m = /^(ldx|ldxs|st|stx)(b|h|w|dw)$/.exec(mn)) && !(m[1] === "ldxs" && m[2] === "dw")) {
      return this.memoryInsn(mn, m[1], sizeFromSuffix(m[2]) ?? BPF_W, ops);
    }
    if ((m = /^(ldabs|ldind)(b|h|w)$/.exec(mn))) {
      const size = sizeFromSuffix(m[2]) ?? BPF_W;
      if (m[1] === "ldabs") {
        this.operands(mn, ops, 1);
        return this.emit(BPF_LD | BPF_ABS | size, 0, 0, 0, this.imm32(ops[0]));
      }
      this.operands(mn, ops, 2);
      return this.emit(BPF_LD | BPF_IND | size, 0, this.reg(ops[0]), 0, this.imm32(ops[1]));
    }
    this.fail(`Invalid mnemonic: ${mn}`);
  }

  /** ALU or conditional jump with `dst, src|imm` operands. */
  aluOrJmp(code: number, ops: string[], off: number): void {
    const dst = this.reg(ops[0]);
    if (ops[1].startsWith("%")) return this.emit(code | BPF_X, dst, this.reg(ops[1]), off);
    this.emit(code, dst, 0, off, this.imm32(ops[1]));
  }

  memoryInsn(mn: string, kind: string, size: number, ops: string[]): void {
    this.operands(mn, ops, 2);
    if (kind === "ldx" || kind === "ldxs") {
      const dst = this.reg(ops[0]);
      const [src, off] = this.memory(ops[1]);
      return this.emit(BPF_LDX | (kind === "ldx" ? BPF_MEM : BPF_MEMSX) | size, dst, src, off);
    }
    const [dst, off] = this.memory(ops[0]);
    if (kind === "st") return this.emit(BPF_ST | BPF_MEM | size, dst, 0, off, this.imm32(ops[1]));
    this.emit(BPF_STX | BPF_MEM | size, dst, this.reg(ops[1]), off);
  }

  call(mn: string, ops: string[]): void {
    if (ops.length === 1 && mn === "call") ops = ["helper", ops[0]];
    if (mn === "callx") {
      this.operands(mn, ops, 1);
      ops = ["helper", ops[0]];
    }
    this.operands(mn, ops, 2);
    const [kind, what] = ops;
    if (kind === "helper") {
      if (what.startsWith("%")) return this.emit(BPF_JMP | BPF_CALL | BPF_X, this.reg(what));
      return this.emit(BPF_JMP | BPF_CALL, 0, 0, 0, this.imm32(what));
    }
    if (kind === "local") return this.emit(BPF_JMP | BPF_CALL, 0, 1, 0, this.target(what, "imm"));
    if (kind === "runtime") return this.emit(BPF_JMP | BPF_CALL, 0, 2, 0, this.imm32(what));
    this.fail(`Invalid call mode: ${kind} (expected helper, local or runtime)`);
  }

  /** `lock [fetch] OP[32] [%rD+off], %rS`. */
  lock(ops: string[]): void {
    const fetch = ops[0] === "fetch";
    const rest = fetch ? ops.slice(1) : ops;
    if (rest.length !== 3) this.fail("Invalid number of operands for lock");
    const m = /^([a-z]+?)(32)?$/.exec(rest[0]);
    if (!m || !(m[1] in ATOMIC_OPS)) this.fail(`Invalid mnemonic: lock ${rest[0]}`);
    const [dst, off] = this.memory(rest[1]);
    const src = this.reg(rest[2]);
    const imm = ATOMIC_OPS[m[1]] | (fetch ? BPF_FETCH : 0);
    const size = m[2] ? BPF_W : 0x18;
    this.emit(BPF_STX | BPF_ATOMIC | size, dst, src, off, imm);
  }

  raw(ops: string[]): void {
    if (ops.length === 0) this.fail("Invalid number of operands for .raw: expected 1 or more");
    for (const token of ops) {
      const v = parseInteger(token);
      if (v === undefined || v < 0n || v > 0xffffffffffffffffn)
        this.fail(`Invalid raw word: ${token}`);
      const lo = Number(v & 0xffffffffn);
      this.emit(
        lo & 0xff,
        (lo >> 8) & 0x0f,
        (lo >> 12) & 0x0f,
        (lo | 0) >> 16,
        Number(BigInt.asIntN(32, v >> 32n)),
      );
    }
  }

  resolve(): void {
    if (this.firstExit !== undefined && !this.labels.has("exit"))
      this.labels.set("exit", this.firstExit);
    for (const f of this.fixups) {
      const at = this.labels.get(f.label);
      if (at === undefined) this.fail(`Invalid label: ${f.label}`, f.line);
      const distance = at - f.index - 1;
      if (f.field === "off") {
        if (distance < -0x8000 || distance > 0x7fff) {
          this.fail(`Jump to ${f.label} out of 16-bit range (${distance}); use ja32`, f.line);
        }
        this.insns[f.index].off = distance;
      } else {
        this.insns[f.index].imm = distance;
      }
    }
  }
}

/** Assembles bpf_conformance assembler text into slots; throws an {@link AsmError}. */
export function assembleInsns(source: string, opts: AsmOptions = {}): Insn[] {
  const a = new Assembler(opts.firstLine ?? 1);
  source.split(/\r?\n/).forEach((text, i) => a.parseLine(text, i + 1));
  a.resolve();
  return a.insns;
}

/**
 * Assembles bpf_conformance assembler text into program bytes (8 per slot, little-endian).
 * Throws an {@link AsmError} with the line number on the first error.
 */
export function assemble(source: string, opts: AsmOptions = {}): Uint8Array {
  return encodeProgram(assembleInsns(source, opts));
}
