/**
 * Runs the `tsbpf` CLI for tests: in-process through `main()` (fast, stdout and stderr
 * captured), or as a real process (`node --import tsx src/cli/main.ts`) where exit codes,
 * pipes and stack traces matter.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { main } from "../src/cli/program.js";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** What a CLI run printed and returned. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

/** Runs `tsbpf ARGS…` in this process (colours stripped). */
export async function cli(...args: string[]): Promise<CliResult> {
  const chunks = { stdout: [] as string[], stderr: [] as string[] };
  const origOut = process.stdout.write.bind(process.stdout);
  const origErr = process.stderr.write.bind(process.stderr);
  const capture = (into: string[]) =>
    ((chunk: string | Uint8Array) => {
      into.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString());
      return true;
    }) as typeof process.stdout.write;
  process.stdout.write = capture(chunks.stdout);
  process.stderr.write = capture(chunks.stderr);
  let code: number;
  try {
    code = await main(args);
  } finally {
    process.stdout.write = origOut;
    process.stderr.write = origErr;
  }
  return {
    code,
    stdout: chunks.stdout.join("").replace(ANSI, ""),
    stderr: chunks.stderr.join("").replace(ANSI, ""),
  };
}

/** Runs `tsbpf ARGS…` as a child process from the repository root. */
export function cliProcess(args: string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "", ...env },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `tsbpf run … --json` in-process, parsed. */
export async function runJson(...args: string[]): Promise<{
  retval: number;
  duration_ns: number;
  data_out: string;
  maps: Record<string, Record<string, string>>;
}> {
  const r = await cli("run", ...args, "--json");
  if (r.code !== 0) throw new Error(`tsbpf run ${args.join(" ")}: exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
