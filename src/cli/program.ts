/**
 * The `tsbpf` command line, as a function ({@link main}) that tests can call. The forms of
 * DESIGN.md's CLI contract are fixed (outside checks call them); everything else is
 * additions. `main.ts` is the executable.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { conformanceCommand } from "./conformance.js";
import { execCommand } from "./exec.js";
import { parseCount, reportError } from "./output.js";
import { parseSet, type GlobalSetting } from "./load.js";
import { pcapCommand } from "./pcap.js";
import { runCommand } from "./run.js";
import { parseClear, parseSlots, parseUpdate, type Step } from "./steps.js";
import { asmCommand, disasmCommand, inspectCommand } from "./tools.js";

const engines = ["interp", "jit"];

/** The package version (package.json sits two levels up from src/cli and dist/cli). */
function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    return typeof pkg.version === "string" ? pkg.version : "0.0.0";
  } catch {
    return "0.0.0";
  }
}

/** Adds the STEP options (`--slots`, `--clear`, `--update`, `--run`), kept in order in `steps`. */
function addSteps(cmd: Command, steps: Step[]): Command {
  const collect = (parse: (v: string) => Step) => (v: string, prev: string[]) => {
    steps.push(parse(v));
    return [...prev, v];
  };
  return cmd
    .option(
      "--slots <spec>",
      "MAP=IDX:PROG[,…]: put programs into prog_array slots",
      collect(parseSlots),
      [],
    )
    .option("--clear <spec>", "MAP=IDX[,…]: empty prog_array slots", collect(parseClear), [])
    .option("--update <spec>", "MAP=KEYHEX:VALHEX[,…]: write map entries", collect(parseUpdate), [])
    .option("--run", "run the program once now (not reported)")
    .on("option:run", () => steps.push({ kind: "run" }));
}

/** What the commands report back to {@link main}. */
interface CliState {
  /** Whether `--json` was given (errors are then also printed as JSON). */
  json: boolean;
  /** The exit status. */
  code: number;
}

const count = (name: string) => (v: string) => parseCount(name, v);
const collectStr = (v: string, prev: string[]) => [...prev, v];
const collectSet = (v: string, prev: GlobalSetting[]) => [...prev, parseSet(v)];

/** Builds the `tsbpf` command line. `steps` collects the run STEPs in command-line order. */
function buildProgram(steps: Step[], state: CliState): Command {
  const program = new Command("tsbpf")
    .description("Run eBPF objects built by clang, with the Linux kernel's semantics")
    .version(version(), "-V, --version")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showSuggestionAfterError();

  const run = program
    .command("run")
    .description("load an object and test-run one program (BPF_PROG_TEST_RUN)")
    .argument("<obj>", "object file (.o)")
    .option("--prog <name>", "program to run (default: the first)")
    .option("--data <hex>", "packet bytes in hex (default: 64 zero bytes)")
    .option("--data-file <file>", "packet bytes from a file (a pcap/pcapng file: its first packet)")
    .option("--packet <n>", "with a capture file: run its packet N (0-based)", count("--packet"))
    .option("--ctx <hex>", "context bytes in hex (ctx_in)")
    .option("--repeat <n>", "runs; duration is the mean", count("--repeat"), 1)
    .addOption(
      new Option("--engine <engine>", "engine").choices([...engines, "kernel"]).default("jit"),
    )
    .option("--trace", "show programs entered, calls, returns, tail calls and helpers")
    .option("--json", "print one JSON object (retval, duration_ns, data_out, maps)")
    .option("--cpus <n>", "possible CPUs for per-CPU maps (default 1)", count("--cpus"))
    .option("--data-out <file>", "write data_out to a file")
    .option("--set <name=value>", "set a global (const volatile) before load", collectSet, [])
    .option(
      "--ringbuf-type <map=type>",
      "decode a ring buffer's records as a BTF type",
      collectStr,
      [],
    );
  addSteps(run, steps)
    .on("option:json", () => (state.json = true))
    .action(async (obj: string, opts) => {
      state.code = await runCommand(obj, opts, steps);
    });

  const pcap = program
    .command("pcap")
    .description("run a program on every packet of a pcap/pcapng file, in one load")
    .argument("<obj>", "object file (.o)")
    .argument("<capture>", "pcap or pcapng file (Ethernet)")
    .option("--prog <name>", "program to run (default: the first)")
    .option("--ctx <hex>", "context bytes in hex (ctx_in) for every run")
    .addOption(new Option("--engine <engine>", "engine").choices(engines).default("jit"))
    .option("--json", 'NDJSON: {"type": "packet"|"printk"|"ringbuf"|"summary", "data": …} lines')
    .option("-q, --quiet", "only the summary")
    .option("--limit <n>", "run at most N packets", count("--limit"))
    .option("--cpus <n>", "possible CPUs for per-CPU maps (default 1)", count("--cpus"))
    .option("--set <name=value>", "set a global (const volatile) before load", collectSet, [])
    .option(
      "--ringbuf-type <map=type>",
      "decode a ring buffer's records as a BTF type",
      collectStr,
      [],
    );
  addSteps(pcap, steps)
    .on("option:json", () => (state.json = true))
    .action(async (obj: string, capture: string, opts) => {
      state.code = await pcapCommand(obj, capture, opts, steps);
    });

  program
    .command("exec")
    .description("run raw instructions: r1 = a copy of --mem, r2 = its length; prints r0")
    .argument("<prog>", "raw little-endian instructions")
    .option("--mem <hex>", "memory bytes in hex")
    .addOption(new Option("--engine <engine>", "engine").choices(engines).default("jit"))
    .option("--json", 'print {"r0": "0x…"}')
    .on("option:json", () => (state.json = true))
    .action(async (file: string, opts) => {
      state.code = await execCommand(file, opts);
    });

  program
    .command("conformance")
    .description("run bpf_conformance test files")
    .argument("<files...>", "test files (.data)")
    .addOption(new Option("--engine <engine>", "engine").choices(engines).default("jit"))
    .action(async (files: string[], opts) => {
      state.code = await conformanceCommand(files, opts);
    });

  program
    .command("asm")
    .description("assemble bpf_conformance assembler syntax")
    .argument("<file>", "assembler source")
    .option("-o, --output <file>", "output file (default: FILE with .bin)")
    .action((file: string, opts) => {
      state.code = asmCommand(file, opts);
    });

  program
    .command("disasm")
    .description("disassemble an object (with C source lines) or raw instructions")
    .argument("<file>", "object (.o) or raw instructions")
    .option("--prog <name>", "only this program")
    .addOption(
      new Option("--syntax <syntax>", "syntax").choices(["llvm", "conformance"]).default("llvm"),
    )
    .option("--linum", "show file:line with source lines")
    .action((file: string, opts) => {
      state.code = disasmCommand(file, opts);
    });

  program
    .command("inspect")
    .description("list an object's programs, maps, helpers and license")
    .argument("<obj>", "object file (.o)")
    .option("--json", "print JSON")
    .on("option:json", () => (state.json = true))
    .action((file: string, opts) => {
      state.code = inspectCommand(file, opts);
    });
  return program;
}

/** Runs the CLI on `argv` (without the node and script entries); returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  const steps: Step[] = [];
  const state: CliState = { json: argv.includes("--json"), code: 0 };
  const program = buildProgram(steps, state);
  try {
    await program.parseAsync(argv, { from: "user" });
    return state.code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return 0;
      if (state.json) process.stdout.write(JSON.stringify({ error: e.message }) + "\n");
      return 2;
    }
    return reportError(e, state.json);
  }
}
