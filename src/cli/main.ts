#!/usr/bin/env node
import { Command, CommanderError, Option } from "commander";
import { conformanceCommand } from "./conformance.js";
import { execCommand } from "./exec.js";
import { parseCount, reportError, UsageError } from "./output.js";
import { runCommand } from "./run.js";
import { parseClear, parseSlots, parseUpdate, type Step } from "./steps.js";
import { asmCommand, disasmCommand, inspectCommand } from "./tools.js";

const engines = ["interp", "jit"];

/** Builds the `tsbpf` command line. `steps` collects the run STEPs in command-line order. */
function buildProgram(steps: Step[], state: { json: boolean }): Command {
  const program = new Command("tsbpf")
    .description("Run eBPF objects built by clang, with the Linux kernel's semantics")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command("run")
    .description("load an object and test-run one program (BPF_PROG_TEST_RUN)")
    .argument("<obj>", "object file (.o)")
    .option("--prog <name>", "program to run (default: the first)")
    .option("--data <hex>", "packet bytes in hex (default: 64 zero bytes)")
    .option("--data-file <file>", "packet bytes from a file")
    .option("--ctx <hex>", "context bytes in hex (ctx_in)")
    .option("--repeat <n>", "runs; duration is the mean", (v) => parseCount("--repeat", v), 1)
    .addOption(
      new Option("--engine <engine>", "engine").choices([...engines, "kernel"]).default("interp"),
    )
    .option("--trace", "show programs entered, calls, returns and tail calls")
    .option("--json", "print one JSON object")
    .option(
      "--slots <spec>",
      "MAP=IDX:PROG[,…]: put programs into prog_array slots",
      (v, p: string[]) => {
        steps.push(parseSlots(v));
        return [...p, v];
      },
      [],
    )
    .option(
      "--clear <spec>",
      "MAP=IDX[,…]: empty prog_array slots",
      (v, p: string[]) => {
        steps.push(parseClear(v));
        return [...p, v];
      },
      [],
    )
    .option(
      "--update <spec>",
      "MAP=KEYHEX:VALHEX[,…]: write map entries",
      (v, p: string[]) => {
        steps.push(parseUpdate(v));
        return [...p, v];
      },
      [],
    )
    .option("--run", "run the program once now (not reported)")
    .on("option:run", () => steps.push({ kind: "run" }))
    .on("option:json", () => (state.json = true))
    .action(async (obj: string, opts) => {
      process.exitCode = await runCommand(obj, opts, steps);
    });

  program
    .command("exec")
    .description("run raw instructions: r1 = a copy of --mem, r2 = its length; prints r0")
    .argument("<prog>", "raw little-endian instructions")
    .option("--mem <hex>", "memory bytes in hex")
    .addOption(new Option("--engine <engine>", "engine").choices(engines).default("interp"))
    .option("--json", 'print {"r0": "0x…"}')
    .on("option:json", () => (state.json = true))
    .action((file: string, opts) => {
      process.exitCode = execCommand(file, opts);
    });

  program
    .command("conformance")
    .description("run bpf_conformance test files")
    .argument("<files...>", "test files (.data)")
    .addOption(new Option("--engine <engine>", "engine").choices(engines).default("interp"))
    .action((files: string[], opts) => {
      process.exitCode = conformanceCommand(files, opts);
    });

  program
    .command("asm")
    .description("assemble bpf_conformance assembler syntax")
    .argument("<file>", "assembler source")
    .option("-o, --output <file>", "output file (default: FILE with .bin)")
    .action((file: string, opts) => {
      process.exitCode = asmCommand(file, opts);
    });

  program
    .command("disasm")
    .description("disassemble an object or raw instructions")
    .argument("<file>", "object (.o) or raw instructions")
    .option("--prog <name>", "only this program")
    .addOption(
      new Option("--syntax <syntax>", "syntax").choices(["llvm", "conformance"]).default("llvm"),
    )
    .option("--linum", "show file:line with source lines")
    .action((file: string, opts) => {
      process.exitCode = disasmCommand(file, opts);
    });

  program
    .command("inspect")
    .description("list an object's programs, maps and helpers")
    .argument("<obj>", "object file (.o)")
    .option("--json", "print JSON")
    .on("option:json", () => (state.json = true))
    .action((file: string, opts) => {
      process.exitCode = inspectCommand(file, opts);
    });
  return program;
}

/** Runs the CLI on `argv` (without the node and script entries). */
export async function main(argv: string[]): Promise<number> {
  const steps: Step[] = [];
  const state = { json: argv.includes("--json") };
  const program = buildProgram(steps, state);
  try {
    await program.parseAsync(argv, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return 0;
      if (state.json) process.stdout.write(JSON.stringify({ error: e.message }) + "\n");
      return 2;
    }
    return reportError(e instanceof UsageError ? e : e, state.json);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.exitCode = reportError(e, false);
  },
);
