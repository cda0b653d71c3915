/**
 * Loading an object for `run` and `pcap`: the engine made available, `--set` globals
 * written before load (libbpf skeleton's `rodata` configuration), `bpf_printk` collected.
 */
import { setGlobal } from "../elf/globals.js";
import { loadCollectionSpecFile } from "../node.js";
import { Collection } from "../runtime/collection.js";
import type { EngineName } from "../runtime/engine.js";
import { fromHex } from "../runtime/dump.js";
import { ensureEngine } from "./engines.js";
import { UsageError } from "./output.js";

/** A `--set NAME=VALUE`: an integer (decimal or 0x…) or `hex:BYTES`. */
export interface GlobalSetting {
  name: string;
  value: bigint | Uint8Array;
}

/** Parses `--set NAME=VALUE`. */
export function parseSet(spec: string): GlobalSetting {
  const eq = spec.indexOf("=");
  if (eq <= 0 || eq === spec.length - 1) throw new UsageError(`--set ${spec}: expected NAME=VALUE`);
  const name = spec.slice(0, eq);
  const v = spec.slice(eq + 1);
  if (v.startsWith("hex:")) {
    try {
      return { name, value: fromHex(v.slice(4)) };
    } catch (e) {
      throw new UsageError(`--set ${spec}: ${(e as Error).message}`);
    }
  }
  if (!/^-?(\d+|0x[0-9a-f]+)$/i.test(v)) {
    throw new UsageError(`--set ${spec}: "${v}" is not an integer (or hex:BYTES)`);
  }
  const neg = v.startsWith("-");
  const abs = BigInt(neg ? v.slice(1) : v);
  return { name, value: neg ? -abs : abs };
}

/** Options shared by the commands that load an object. */
export interface LoadCliOptions {
  engine: EngineName;
  cpus?: number;
  set?: GlobalSetting[];
  printk?: (line: string) => void;
}

/** Loads `obj` for a command. */
export async function loadForCli(obj: string, opts: LoadCliOptions): Promise<Collection> {
  await ensureEngine(opts.engine);
  const spec = loadCollectionSpecFile(obj);
  for (const g of opts.set ?? []) setGlobal(spec, g.name, g.value);
  return Collection.load(spec, {
    engine: opts.engine,
    numCpus: opts.cpus,
    host: opts.printk ? { printk: opts.printk } : undefined,
  });
}
