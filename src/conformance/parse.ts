/**
 * Parser of bpf_conformance's `.data` test files: sections `-- asm`, `-- raw`, `-- mem`,
 * `-- result`, `-- error`, and the notes `-- c` and `-- no register offset`. Lines starting with
 * `#` are comments (in `asm`, the assembler strips them). Takes the file's text; no I/O.
 */

import { AsmError } from "../errors.js";
import { assemble } from "../isa/asm.js";

/** A parsed conformance test. */
export interface ConformanceTest {
  /** The `-- asm` section verbatim (comments included), when present. */
  asm?: string;
  /** 1-based line in the file of the first line of {@link asm}, for error messages. */
  asmFirstLine?: number;
  /** The program from `-- raw`, when present (little-endian slots). */
  raw?: Uint8Array;
  /** Bytes of `-- mem` (empty when absent). */
  mem: Uint8Array;
  /** Expected r0 (64 bits, unsigned) from `-- result`, when present. */
  result?: bigint;
  /** Present when the file has `-- error`: the expected message ("" if none is given). */
  error?: string;
}

const SECTIONS = new Set(["asm", "raw", "mem", "result", "error", "c", "no register offset"]);

function stripComment(line: string): string {
  const i = line.indexOf("#");
  return (i < 0 ? line : line.slice(0, i)).trim();
}

function parseRaw(lines: { text: string; line: number }[]): Uint8Array {
  const bytes: number[] = [];
  for (const { text, line } of lines) {
    const tokens = stripComment(text).split(/\s+/).filter(Boolean);
    if (tokens.length === 0) continue;
    if (tokens.length === 1) {
      const m = /^(0x[0-9a-f]{1,16}|[0-9]+)$/i.exec(tokens[0]);
      const v = m ? BigInt(m[1]) : -1n;
      if (v < 0n || v > 0xffffffffffffffffn)
        throw new AsmError(`Invalid raw word: ${tokens[0]}`, line);
      for (let i = 0n; i < 8n; i++) bytes.push(Number((v >> (8n * i)) & 0xffn));
    } else if (tokens.length === 8) {
      for (const t of tokens) bytes.push(parseByte(t, line));
    } else {
      const msg = `Invalid raw line: expected one 64-bit word or 8 bytes, got ${tokens.length} tokens`;
      throw new AsmError(msg, line);
    }
  }
  return new Uint8Array(bytes);
}

function parseByte(token: string, line: number): number {
  if (!/^(0x)?[0-9a-f]{1,2}$/i.test(token)) throw new AsmError(`Invalid byte: ${token}`, line);
  return parseInt(token.replace(/^0x/i, ""), 16);
}

function parseResult(lines: { text: string; line: number }[]): bigint | undefined {
  let result: bigint | undefined;
  for (const { text, line } of lines) {
    const t = stripComment(text);
    if (t === "") continue;
    const m = /^(-?)(0x[0-9a-f]+|[0-9]+)$/i.exec(t);
    if (!m) throw new AsmError(`Invalid result: ${t}`, line);
    const v = BigInt(m[2]);
    result = BigInt.asUintN(64, m[1] === "-" ? -v : v);
  }
  return result;
}

/**
 * Parses a conformance `.data` file. Throws an {@link AsmError} (with the file's line number)
 * for an unknown `-- section` or malformed `raw`/`mem`/`result` text. The program is
 * `raw` when present, else `asm` assembled; a file with neither has no program.
 */
export function parseConformanceFile(text: string): ConformanceTest {
  const sections = new Map<string, { text: string; line: number }[]>();
  let current: { text: string; line: number }[] | undefined;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const header = /^--\s*(.*?)\s*$/.exec(raw);
    if (header) {
      const name = header[1];
      if (!SECTIONS.has(name)) throw new AsmError(`Unknown directive: ${raw.trim()}`, line);
      current = [];
      sections.set(name, current);
      return;
    }
    current?.push({ text: raw, line });
  });

  const test: ConformanceTest = { mem: new Uint8Array(0) };
  const asm = sections.get("asm");
  if (asm) {
    test.asm = asm.map((l) => l.text).join("\n");
    test.asmFirstLine = asm.length ? asm[0].line : undefined;
  }
  const raw = sections.get("raw");
  if (raw) test.raw = parseRaw(raw);
  const mem = sections.get("mem");
  if (mem) {
    const bytes: number[] = [];
    for (const { text: t, line } of mem) {
      for (const tok of stripComment(t).split(/\s+/).filter(Boolean))
        bytes.push(parseByte(tok, line));
    }
    test.mem = new Uint8Array(bytes);
  }
  const result = sections.get("result");
  if (result) test.result = parseResult(result);
  const error = sections.get("error");
  if (error) {
    test.error = error
      .map((l) => stripComment(l.text))
      .filter(Boolean)
      .join("\n");
  }
  return test;
}

/**
 * The program of a parsed test: `raw` when present, else `asm` assembled (errors carry the
 * file's line numbers), else an empty program (which validation refuses).
 */
export function conformanceProgram(test: ConformanceTest): Uint8Array {
  if (test.raw) return test.raw;
  if (test.asm !== undefined) return assemble(test.asm, { firstLine: test.asmFirstLine ?? 1 });
  return new Uint8Array(0);
}
