/**
 * `loadCollectionSpec`: reads a clang-built eBPF ELF object into a {@link CollectionSpec},
 * applying libbpf's conventions for programs, subprograms, maps, global data and relocations.
 */
import { Btf } from "./btf.js";
import { fixupDatasecs } from "./btf-fixup.js";
import { parseBtfExt, type BtfExt } from "./btf-ext.js";
import { LoadError } from "./errors.js";
import { checkElfSize, resolveLimits } from "../limits.js";
import { linkProgram, sortBtfExt } from "./link.js";
import { applyMapRelocations } from "./map-slots.js";
import { collectMaps } from "./maps.js";
import { objectName, openObject } from "./object.js";
import { applyProgramRelocations, collectFunctions } from "./programs.js";
import { programTypeFromSection } from "./sections.js";
import type { CollectionSpec, LoadCollectionOptions, ProgramSpec } from "./types.js";

/** Most instructions all linked programs of one object may add up to (a loader limit). */
export const MAX_TOTAL_LINKED_INSNS = 8_000_000;

/**
 * Reads an eBPF ELF object (64-bit little-endian, EM_BPF, as `clang -target bpf` builds it).
 *
 * Programs are the functions of every executable section other than `.text`; functions of
 * `.text` are subprograms, appended to each program that reaches them. Maps come from `.maps`
 * (BTF-defined), `maps` (legacy `struct bpf_map_def`) and the global data sections. Relocated
 * `lddw` instructions refer to maps by their index in {@link CollectionSpec.maps}.
 *
 * @param bytes the object file's contents (neither modified nor retained: the spec holds copies)
 * @throws LoadError for any malformed, truncated or unsupported input
 */
export function loadCollectionSpec(
  bytes: Uint8Array,
  opts: LoadCollectionOptions = {},
): CollectionSpec {
  checkElfSize(bytes.length, resolveLimits({ maxElfBytes: opts.maxElfBytes }));
  try {
    // A plain copy: a Node Buffer's slice() is a view, and the loader must never write into
    // (or keep) the caller's bytes.
    return load(Uint8Array.prototype.slice.call(bytes), opts);
  } catch (e) {
    if (e instanceof LoadError) throw e;
    // Defence in depth: a checked input should never get here, but if it does the caller
    // still gets a LoadError, not a TypeError or RangeError.
    const msg = e instanceof Error ? e.message : String(e);
    throw new LoadError("INTERNAL", `internal error while reading the object: ${msg}`);
  }
}

function load(bytes: Uint8Array, opts: LoadCollectionOptions): CollectionSpec {
  const ctx = openObject(bytes, objectName(opts.name));
  const btf = ctx.btfSection ? Btf.parse(ctx.btfSection.data) : undefined;
  if (btf) fixupDatasecs(ctx, btf);
  let btfExt: BtfExt | undefined;
  if (ctx.btfExtSection) {
    if (!btf)
      throw new LoadError("BTF_EXT_FORMAT", ".BTF.ext present without .BTF", {
        section: ".BTF.ext",
      });
    btfExt = parseBtfExt(ctx.btfExtSection.data, btf);
  }
  const maps = collectMaps(ctx, btf);
  const fns = collectFunctions(ctx);
  applyProgramRelocations(ctx, fns, maps);
  const entries = fns.all.filter((f) => !f.subprog);
  applyMapRelocations(ctx, maps, entries);

  const sortedExt = btfExt ? sortBtfExt(btfExt) : undefined;
  const programs: ProgramSpec[] = [];
  let totalInsns = 0;
  for (const fn of entries) {
    const linked = linkProgram(ctx, fns, fn, sortedExt, btf);
    totalInsns += linked.insns.length / 8;
    if (totalInsns > MAX_TOTAL_LINKED_INSNS)
      throw new LoadError(
        "LIMIT",
        `linked programs add up to more than ${MAX_TOTAL_LINKED_INSNS} instructions`,
        { section: fn.section.name },
      );
    const autoload = !fn.section.name.startsWith("?");
    const section = autoload ? fn.section.name : fn.section.name.slice(1);
    const type = programTypeFromSection(section);
    const spec: ProgramSpec = {
      name: fn.name,
      section,
      autoload,
      ...linked,
      license: ctx.license,
      global: fn.global,
      progType: type?.progType ?? 0,
      expectedAttachType: type?.expectedAttachType ?? 0,
      progFlags: type?.progFlags ?? 0,
    };
    if (ctx.kernelVersion !== undefined) spec.kernelVersion = ctx.kernelVersion;
    programs.push(spec);
  }

  const spec: CollectionSpec = {
    name: ctx.name,
    programs,
    maps: maps.maps,
    license: ctx.license,
  };
  if (ctx.kernelVersion !== undefined) spec.kernelVersion = ctx.kernelVersion;
  if (btf) spec.btf = btf;
  if (btfExt) spec.btfExt = btfExt;
  return spec;
}
