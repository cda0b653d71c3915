import type { Collection } from "../runtime/collection.js";
import type { TraceEvent } from "../runtime/trace.js";

/**
 * Renders trace events as a readable chain: `→` a program entered, `call`/`↩` bpf-to-bpf
 * calls and returns, `⇒` a tail call taken, `✗` a tail call that fell through and why.
 */
export function formatTrace(events: TraceEvent[], _c?: Collection): string[] {
  const lines: string[] = [];
  const pad = (depth: number) => "  ".repeat(depth);
  for (const e of events) {
    switch (e.kind) {
      case "enter":
        lines.push(`${pad(e.depth)}→ ${e.prog}`);
        break;
      case "call":
        lines.push(
          `${pad(e.depth - 1)}  call ${e.target} (pc ${e.pc} in ${e.prog}, frame ${e.depth})`,
        );
        break;
      case "return":
        lines.push(
          `${pad(e.depth)}↩ ${e.from} returns ${e.r0} to ${e.to} (${e.prog}, frame ${e.depth})`,
        );
        break;
      case "tail_call":
        lines.push(
          `${pad(e.depth)}⇒ tail call ${e.map}[${e.index}] → ${e.target} (pc ${e.pc} in ${e.prog}; ${e.budgetLeft} left)`,
        );
        break;
      case "tail_call_failed":
        lines.push(
          `${pad(e.depth)}✗ tail call ${e.map}[${e.index}] failed: ${e.reason} (pc ${e.pc} in ${e.prog}; ${e.budgetLeft} left), falls through`,
        );
        break;
      case "helper":
        break;
      case "exit":
        lines.push(`← exit ${e.r0} (${e.prog})`);
        break;
    }
  }
  return lines;
}
