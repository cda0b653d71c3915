/**
 * Node-only conveniences (file system access). The core (`tsbpf`) never imports this module,
 * so it stays browser-safe.
 */
import { readFileSync } from "node:fs";
import { loadCollectionSpec } from "./elf/loader.js";
import type { CollectionSpec } from "./elf/types.js";
import { Collection, type CollectionOptions } from "./runtime/collection.js";

/** Reads and parses an object file. The object name comes from the file name, as in libbpf. */
export function loadCollectionSpecFile(path: string): CollectionSpec {
  return loadCollectionSpec(new Uint8Array(readFileSync(path)), { name: path });
}

/** Reads, parses and loads an object file. */
export function loadCollectionFile(path: string, opts: CollectionOptions = {}): Collection {
  return Collection.load(loadCollectionSpecFile(path), opts);
}
