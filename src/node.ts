/**
 * Node-only conveniences (file system access). The core (`tsbpf`) never imports this module,
 * so it stays browser-safe.
 */
import { readFileSync, statSync } from "node:fs";
import { loadCollectionSpec } from "./elf/loader.js";
import type { CollectionSpec } from "./elf/types.js";
import { TsbpfError } from "./errors.js";
import { checkElfSize, resolveLimits, type LimitOptions } from "./limits.js";
import { Collection, type CollectionOptions } from "./runtime/collection.js";

/**
 * Reads a file of at most `maxElfBytes` bytes (checked before reading). A file that cannot be
 * read is a `TsbpfError` whose code is the system's (`ENOENT`, `EISDIR`, `EACCES`, ...).
 */
export function readObjectFile(
  path: string,
  opts: Pick<LimitOptions, "maxElfBytes"> = {},
): Uint8Array {
  try {
    const st = statSync(path);
    if (st.isFile()) checkElfSize(st.size, resolveLimits(opts));
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    if (e instanceof TsbpfError) throw e;
    const code = (e as { code?: unknown }).code;
    throw new TsbpfError(
      typeof code === "string" ? code : "EIO",
      `cannot read ${path}: ${(e as Error).message}`,
    );
  }
}

/** Reads and parses an object file. The object name comes from the file name, as in libbpf. */
export function loadCollectionSpecFile(
  path: string,
  opts: Pick<LimitOptions, "maxElfBytes"> = {},
): CollectionSpec {
  return loadCollectionSpec(readObjectFile(path, opts), {
    name: path,
    maxElfBytes: opts.maxElfBytes,
  });
}

/** Reads, parses and loads an object file. */
export function loadCollectionFile(path: string, opts: CollectionOptions = {}): Collection {
  return Collection.load(loadCollectionSpecFile(path, opts), opts);
}
