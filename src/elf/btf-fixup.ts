/**
 * libbpf's `bpf_object_fixup_btf`: clang leaves DATASEC sizes and the offsets of global
 * variables at zero, so they are filled in from the ELF section sizes and symbol values; global
 * variables with hidden visibility become static; each DATASEC's variables are sorted by offset.
 */
import type { Btf } from "./btf.js";
import {
  BTF_KIND_DATASEC,
  BTF_KIND_VAR,
  BTF_LINKAGE_EXTERN,
  BTF_LINKAGE_STATIC,
} from "./btf-types.js";
import {
  SHT_NOBITS,
  STB_GLOBAL,
  STB_WEAK,
  STT_OBJECT,
  STV_HIDDEN,
  STV_INTERNAL,
  type ElfSymbol,
} from "./elf.js";
import { LoadError } from "./errors.js";
import type { ObjectContext } from "./object.js";

/** Fixes up every DATASEC of `btf` in place, as libbpf does when it opens an object. */
export function fixupDatasecs(ctx: ObjectContext, btf: Btf): void {
  let varSyms: Map<string, ElfSymbol> | undefined;
  const symbolFor = (name: string): ElfSymbol | undefined => {
    if (!varSyms) {
      varSyms = new Map();
      for (const s of ctx.symbols)
        if (s.type === STT_OBJECT && (s.bind === STB_GLOBAL || s.bind === STB_WEAK) && s.name)
          if (!varSyms.has(s.name)) varSyms.set(s.name, s);
    }
    return varSyms.get(name);
  };
  for (const t of btf.types) {
    if (t.kind !== BTF_KIND_DATASEC) continue;
    if (t.name === ".kconfig" || t.name === ".ksyms") continue;
    const fail = (msg: string): never => {
      throw new LoadError("BTF_FORMAT", `.BTF: DATASEC ${JSON.stringify(t.name)}: ${msg}`, {
        section: ".BTF",
      });
    };
    let fixOffsets = false;
    if (t.size === 0) {
      const sec = ctx.elf.sectionByName(t.name);
      const size = sec ? (sec.type === SHT_NOBITS ? sec.size : sec.data.length) : 0;
      if (!sec || size === 0) fail("cannot determine its size: no such non-empty ELF section");
      t.size = size;
      fixOffsets = true;
    }
    for (const vi of t.vars) {
      const v = btf.typeById(vi.type, `DATASEC ${t.name} variable`);
      if (v.kind !== BTF_KIND_VAR) fail("unexpected non-VAR type found");
      else {
        if (v.linkage === BTF_LINKAGE_STATIC || v.linkage === BTF_LINKAGE_EXTERN) continue;
        const sym = symbolFor(v.name);
        if (!sym) fail(`no ELF symbol for variable ${JSON.stringify(v.name)}`);
        else {
          if (fixOffsets) vi.offset = sym.value;
          if (sym.visibility === STV_HIDDEN || sym.visibility === STV_INTERNAL)
            v.linkage = BTF_LINKAGE_STATIC;
        }
      }
    }
    t.vars.sort((a, b) => a.offset - b.offset);
  }
}
