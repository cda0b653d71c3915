// The CLI on hostile input and bad arguments, as a user runs it (a separate process): exit
// status 1 (2 for a usage error), a one-line message on stderr, never a stack trace, and with
// --json exactly one {"error": ...} object on stdout.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { seeds } from "./fuzz/corpus.js";
import { applyMutations, mutationArb } from "./fuzz/mutate.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "tsbpf-cli-fuzz-"));
const fixture = (f: string): string => join(root, "test/fixtures", f);
const regression = (f: string): string => join(root, "test/fuzz/regressions", f);

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * How to start the CLI: the sources bundled by esbuild (what tsx and vitest run on) into
 * node_modules/.cache, which starts in a tenth of the time tsx takes; tsx when esbuild is not
 * there.
 */
const launch: string[] = await (async () => {
  try {
    const esbuild = await import("esbuild");
    const out = join(root, "node_modules/.cache/tsbpf-fuzz-cli/main.mjs");
    await esbuild.build({
      entryPoints: [join(root, "src/cli/main.ts")],
      bundle: true,
      platform: "node",
      format: "esm",
      packages: "external",
      outfile: out,
      logLevel: "error",
    });
    return [out];
  } catch {
    return ["--import", "tsx", join(root, "src/cli/main.ts")];
  }
})();

/** Runs `tsbpf ARGS`. */
function tsbpf(args: string[]): Promise<Result> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...launch, ...args], {
      cwd: root,
      env: { ...process.env, TSBPF_DEBUG: "" },
    });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    p.on("error", reject);
    p.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

/** Runs every command line, two at a time. */
async function all(cmds: string[][]): Promise<Result[]> {
  const out: Result[] = new Array<Result>(cmds.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < cmds.length) {
      const i = next++;
      out[i] = await tsbpf(cmds[i]);
    }
  };
  await Promise.all([lane(), lane()]);
  return out;
}

const STACK = /\n\s+at |\bat .*\.(ts|js):\d+/;

/** The contract for a failing command. */
function expectFailure(r: Result, args: string[], status: 1 | 2): void {
  const what = `tsbpf ${args.join(" ")}: ${r.stderr}`;
  expect(r.status, what).toBe(status);
  expect(r.stderr, what).not.toMatch(STACK);
  expect(r.stderr.trimEnd().split("\n"), what).toHaveLength(1);
  expect(r.stderr.trim().length, what).toBeGreaterThan(0);
  if (args.includes("--json")) {
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines, what).toHaveLength(1);
    const obj = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(typeof obj.error, what).toBe("string");
  }
}

// Corrupted objects: truncated, a bad magic, a bad section table, BTF garbage, and the
// regressions that once crashed the process.
const tail = readFileSync(fixture("tail_subprog.bpf.o"));
const corrupt: Record<string, Uint8Array> = {
  truncated: tail.subarray(0, 300),
  empty: new Uint8Array(0),
  magic: Uint8Array.from(tail, (b, i) => (i === 1 ? 0x41 : b)),
  shoff: (() => {
    const c = Uint8Array.from(tail);
    new DataView(c.buffer).setBigUint64(40, 0xffff_ffff_ffffn, true);
    return c;
  })(),
  text: new TextEncoder().encode("this is not an ELF file\n"),
};
const paths: Record<string, string> = {};
for (const [name, bytes] of Object.entries(corrupt)) {
  paths[name] = join(tmp, `${name}.o`);
  writeFileSync(paths[name], bytes);
}
const oddBin = regression("bytecode-odd-size.bin");
const garbageBin = join(tmp, "garbage.bin");
writeFileSync(
  garbageBin,
  Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff),
);

describe("fuzz: the CLI on hostile input", () => {
  it("fails with status 1, one line on stderr, no stack trace; --json prints one error object", async () => {
    const failing: string[][] = [];
    for (const [name, p] of Object.entries(paths)) {
      failing.push(["run", p], ["run", p, "--json"], ["inspect", p, "--json"]);
      // disasm reads a file without the ELF magic as raw instructions
      if (name === "truncated" || name === "shoff") failing.push(["disasm", p]);
    }
    failing.push(
      ["run", regression("elf-prog-array-max-entries-4g.o"), "--json"],
      ["run", join(tmp, "missing.o"), "--json"],
      ["run", tmp],
      ["run", fixture("tail_self.bpf.o"), "--prog", "nope", "--json"],
      ["run", fixture("parse.bpf.o"), "--data", "00", "--json"],
      ["exec", oddBin, "--json"],
      ["exec", garbageBin],
      ["exec", join(tmp, "missing.bin"), "--json"],
    );
    const results = await all(failing);
    results.forEach((r, i) => expectFailure(r, failing[i], 1));
  }, 60_000);

  it("fails with status 2 for usage errors", async () => {
    const usage = [
      ["run", fixture("tail_self.bpf.o"), "--data", "zz"],
      ["run", fixture("tail_self.bpf.o"), "--data", "zz", "--json"],
      ["run", fixture("tail_self.bpf.o"), "--repeat", "-1", "--json"],
      ["run", fixture("tail_self.bpf.o"), "--bogus", "--json"],
      ["run", fixture("tail_self.bpf.o"), "--engine", "nope"],
      ["frobnicate"],
      ["run"],
    ];
    const results = await all(usage);
    results.forEach((r, i) => expectFailure(r, usage[i], 2));
  }, 60_000);

  it("runs or refuses random mutants of an object, never with a stack trace", async () => {
    const s = seeds().find((x) => x.name === "fixtures/tail_subprog.bpf.o");
    if (s === undefined) throw new Error("fixture missing");
    const mutants = fc.sample(fc.array(mutationArb(s.layout), { minLength: 1, maxLength: 3 }), {
      numRuns: 6,
      seed: 0xc11,
    });
    const cmds = mutants.map((m, i) => {
      const p = join(tmp, `mutant${i}.o`);
      writeFileSync(p, applyMutations(s.bytes, s.layout.fields, m));
      return ["run", p, "--json"];
    });
    const results = await all(cmds);
    results.forEach((r, i) => {
      if (r.status === 0) {
        expect(JSON.parse(r.stdout)).toHaveProperty("retval");
      } else expectFailure(r, cmds[i], 1);
    });
  }, 60_000);
});
