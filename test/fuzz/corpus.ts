/** The seed objects the fuzzers mutate: every committed fixture object. */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { elfLayout, type ElfLayout } from "./elf-layout.js";

const DIRS = ["../fixtures/", "../elf-fixtures/"].map((d) =>
  fileURLToPath(new URL(d, import.meta.url)),
);

/** A seed object. */
export interface Seed {
  /** File name, e.g. `fixtures/maps.bpf.o`. */
  name: string;
  bytes: Uint8Array;
  layout: ElfLayout;
}

let cache: Seed[] | undefined;

/** Every `*.o` under test/fixtures and test/elf-fixtures, sorted by name. */
export function seeds(): Seed[] {
  if (cache) return cache;
  cache = [];
  for (const dir of DIRS) {
    const tag = dir.split("/").filter(Boolean).pop() as string;
    for (const f of readdirSync(dir).sort()) {
      if (!f.endsWith(".o")) continue;
      const bytes = new Uint8Array(readFileSync(dir + f));
      cache.push({ name: `${tag}/${f}`, bytes, layout: elfLayout(bytes) });
    }
  }
  return cache;
}
