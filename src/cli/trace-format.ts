/**
 * `tsbpf run --trace`: trace events drawn as the run's chain of programs and frames.
 *
 *   → prog_a  frame 0
 *   │ → sub_b  call, frame 1  [prog_a pc 11]  ; int verdict = sub_b(ctx);
 *   │ │ ⇒ tail call jmp_table[0] → prog_c  [sub_b, prog_a pc 41]  32 tail calls left
 *   │ │ → prog_c  replaces sub_b on frame 1
 *   │ │ ↩ prog_c returns 2 to prog_a, as sub_b's result
 *   ← exit r0 = 2 (XDP_PASS)
 *   chain: prog_a → sub_b ⇒ prog_c ↩ prog_a
 *
 * `pc` is an index into the linked program named (subprograms are appended to it, as
 * `tsbpf disasm` shows); the function that holds it is named too.
 */
import type { Collection } from "../runtime/collection.js";
import { funcAt, type ExecProgram, type SourceLine } from "../runtime/program.js";
import type { TraceEvent } from "../runtime/trace.js";
import type { Colors } from "./term.js";

/** What the trace formatter needs besides the events. */
export interface TraceContext {
  /** The collection the run used (programs' functions and source lines). */
  collection?: Collection;
  /** The name of a return code (`XDP_PASS`), for the exit line. */
  retvalName?: (retval: number) => string | undefined;
  /** Colours (identity functions when not on a terminal). */
  color?: Colors;
  /** Also show helper calls (default true). */
  helpers?: boolean;
}

interface Frame {
  /** The function running in the frame now. */
  name: string;
  /** The function called into the frame, when a tail call replaced it. */
  calledAs?: string;
}

const plain = (s: string | number | null | undefined) => String(s ?? "");
const identity: Colors = new Proxy({} as Colors, { get: () => plain });

/** The source line record that covers `pc` (the last one at or before it). */
export function sourceLineAt(lines: readonly SourceLine[], pc: number): SourceLine | undefined {
  let lo = 0;
  let hi = lines.length - 1;
  let best: SourceLine | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (lines[mid].insn <= pc) {
      best = lines[mid];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best;
}

/** r0 as the trace shows it: decimal when it fits 32 bits, hex otherwise. */
function showR0(hex: string): string {
  const v = BigInt(hex);
  if (v <= 0xffffffffn) return v.toString();
  const s = BigInt.asIntN(64, v);
  return s < 0n && s >= -4096n ? `${s} (${hex})` : hex;
}

/** Renders trace events as lines (see the module comment). */
export function formatTrace(events: TraceEvent[], ctx: TraceContext = {}): string[] {
  const c = ctx.color ?? identity;
  const showHelpers = ctx.helpers ?? true;
  const lines: string[] = [];
  const frames: Frame[] = [];
  const chain: string[] = [];
  const execOf = (name: string): ExecProgram | undefined =>
    ctx.collection?.programs.get(name)?.exec;
  const bar = (depth: number) => c.dim("│ ".repeat(Math.max(0, depth)));
  const where = (prog: string, pc: number): string => {
    const exec = execOf(prog);
    const fn = exec ? funcAt(exec, pc).name : prog;
    return c.dim(fn === prog ? `[${prog} pc ${pc}]` : `[${fn}, ${prog} pc ${pc}]`);
  };
  const source = (prog: string, pc: number): string => {
    const exec = execOf(prog);
    const l = exec ? sourceLineAt(exec.lines, pc) : undefined;
    return l ? "  " + c.dim(`; ${l.text.trim()}`) : "";
  };
  for (const e of events) {
    switch (e.kind) {
      case "enter": {
        if (frames.length === 0 || e.depth >= frames.length) {
          frames[e.depth] = { name: e.prog };
          lines.push(
            `${bar(e.depth)}${c.green("→")} ${c.bold(e.prog)}  ${c.dim(`frame ${e.depth}`)}`,
          );
          chain.push(e.prog);
        } else {
          const replaced = frames[e.depth];
          frames[e.depth] = { name: e.prog, calledAs: replaced.calledAs ?? replaced.name };
          const note = `replaces ${replaced.name} on frame ${e.depth}`;
          lines.push(`${bar(e.depth + 1)}${c.green("→")} ${c.bold(e.prog)}  ${c.dim(note)}`);
          chain.push(`⇒ ${e.prog}`);
        }
        break;
      }
      case "call": {
        frames[e.depth] = { name: e.target };
        frames.length = e.depth + 1;
        lines.push(
          `${bar(e.depth)}${c.green("→")} ${c.bold(e.target)}  ${c.dim(`call, frame ${e.depth}`)}  ` +
            `${where(e.prog, e.pc)}${source(e.prog, e.pc)}`,
        );
        chain.push(`→ ${e.target}`);
        break;
      }
      case "return": {
        const popped = frames[e.depth + 1];
        const as =
          popped?.calledAs !== undefined && popped.calledAs !== e.from
            ? `, as ${popped.calledAs}'s result`
            : "";
        lines.push(
          `${bar(e.depth + 2)}${c.yellow("↩")} ${e.from} returns ${showR0(e.r0)} to ${e.to}${as}`,
        );
        frames.length = e.depth + 1;
        chain.push(`↩ ${e.to}`);
        break;
      }
      case "tail_call": {
        const idx = e.index.toString();
        lines.push(
          `${bar(e.depth + 1)}${c.cyan("⇒")} tail call ${e.map}[${idx}] → ${c.bold(e.target)}  ` +
            `${where(e.prog, e.pc)}  ${c.dim(`${e.budgetLeft} tail calls left`)}` +
            source(e.prog, e.pc),
        );
        break;
      }
      case "tail_call_failed": {
        const idx = e.index.toString();
        lines.push(
          `${bar(e.depth + 1)}${c.red("✗")} tail call ${e.map}[${idx}] failed: ${c.red(e.reason)}, ` +
            `falls through  ${where(e.prog, e.pc)}  ${c.dim(`${e.budgetLeft} tail calls left`)}` +
            source(e.prog, e.pc),
        );
        chain.push(`✗ (${e.reason})`);
        break;
      }
      case "helper":
        if (showHelpers) {
          lines.push(
            `${bar(frames.length)}${c.dim("·")} ${e.name}  ${where(e.prog, e.pc)}${source(e.prog, e.pc)}`,
          );
        }
        break;
      case "exit": {
        const r0 = BigInt(e.r0);
        const name = ctx.retvalName?.(Number(r0 & 0xffffffffn));
        lines.push(`${c.green("←")} exit r0 = ${showR0(e.r0)}${name ? ` (${name})` : ""}`);
        frames.length = 0;
        lines.push(`${c.dim("chain:")} ${compressChain(chain).join(" ")}`);
        chain.length = 0;
        break;
      }
    }
  }
  if (chain.length > 0) lines.push(`${c.dim("chain:")} ${compressChain(chain).join(" ")}`);
  return lines;
}

/** Collapses runs of the same step: `⇒ self ⇒ self ⇒ self` → `⇒ self ×3`. */
export function compressChain(steps: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < steps.length;) {
    let j = i + 1;
    while (j < steps.length && steps[j] === steps[i]) j++;
    out.push(j - i > 1 ? `${steps[i]} ×${j - i}` : steps[i]);
    i = j;
  }
  return out;
}
