import { TsbpfError } from "../errors.js";

/** An error in how the command was called: exit status 2. */
export class UsageError extends Error {}

/** Writes a line to stdout. */
export function out(line: string): void {
  process.stdout.write(line + "\n");
}

/**
 * Reports an error as the CLI contract says: a message on stderr (never a stack trace), with
 * `--json` also `{"error": …}` on stdout; returns the exit status (2 usage, 1 otherwise).
 */
export function reportError(e: unknown, json: boolean): number {
  const message = e instanceof Error ? e.message : String(e);
  const usage = e instanceof UsageError;
  if (json)
    out(JSON.stringify({ error: message, ...(e instanceof TsbpfError ? { code: e.code } : {}) }));
  process.stderr.write(`tsbpf: ${message}\n`);
  if (!(e instanceof TsbpfError) && !usage && process.env.TSBPF_DEBUG && e instanceof Error) {
    process.stderr.write(`${e.stack}\n`);
  }
  return usage ? 2 : 1;
}

/** Parses a non-negative integer option. */
export function parseCount(name: string, v: string): number {
  if (!/^\d+$/.test(v)) throw new UsageError(`${name}: "${v}" is not a non-negative integer`);
  return Number(v);
}
