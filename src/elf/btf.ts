/**
 * A bounds-checked reader for the `.BTF` section: header, type section (every kind the kernel
 * defines, plus unknown kinds described by an optional layout section), string section, and
 * helpers to resolve modifiers and typedefs, compute sizes and find types by name.
 */
import { LoadError, hex } from "./errors.js";
import { parseBtf } from "./btf-parse.js";
export { BTF_MAGIC, BTF_MAX_TYPE } from "./btf-parse.js";
import {
  BTF_KIND_ARRAY,
  BTF_KIND_CONST,
  BTF_KIND_DATASEC,
  BTF_KIND_DECL_TAG,
  BTF_KIND_ENUM,
  BTF_KIND_ENUM64,
  BTF_KIND_FLOAT,
  BTF_KIND_FUNC,
  BTF_KIND_FUNC_PROTO,
  BTF_KIND_FWD,
  BTF_KIND_INT,
  BTF_KIND_PTR,
  BTF_KIND_RESTRICT,
  BTF_KIND_STRUCT,
  BTF_KIND_TYPEDEF,
  BTF_KIND_TYPE_TAG,
  BTF_KIND_UNION,
  BTF_KIND_VAR,
  BTF_KIND_VOLATILE,
  btfKindName,
  type BtfType,
} from "./btf-types.js";

/** How many typedef/modifier/array links the resolving helpers follow (libbpf's limit). */
export const BTF_MAX_RESOLVE_DEPTH = 32;

const utf8 = new TextDecoder("utf-8");

/** Parsed `.BTF`: types indexed by id (0 is `void`) and the string section. */
export class Btf {
  /** Every type, indexed by type id; `types[0]` is `void`. */
  readonly types: readonly BtfType[];
  /** The raw string section. */
  readonly strings: Uint8Array;
  private readonly stringCache = new Map<number, string>();
  private nameIndex?: Map<string, number[]>;

  private constructor(strings: Uint8Array, types: BtfType[]) {
    this.strings = strings;
    this.types = types;
  }

  /**
   * Parses a `.BTF` section.
   * @param section section name for error messages
   * @throws LoadError on any malformed input
   */
  static parse(data: Uint8Array, section = ".BTF"): Btf {
    const { strings, types } = parseBtf(data, section);
    return new Btf(strings, types);
  }

  /** The string at `off` in the string section. */
  stringAt(off: number): string {
    const cached = this.stringCache.get(off);
    if (cached !== undefined) return cached;
    const s = this.strings;
    if (!Number.isInteger(off) || off < 0 || off >= s.length)
      throw new LoadError(
        "BTF_FORMAT",
        `.BTF: string offset ${hex(off)} past end of string section (${hex(s.length)} bytes)`,
        { section: ".BTF", offset: off },
      );
    // The string section is checked to end with NUL, so indexOf always finds one.
    const str = utf8.decode(s.subarray(off, s.indexOf(0, off)));
    this.stringCache.set(off, str);
    return str;
  }

  /** The type with id `id`; throws a LoadError naming `what` if there is none. */
  typeById(id: number, what = "type reference"): BtfType {
    const t = this.types[id];
    if (!Number.isInteger(id) || t === undefined)
      throw new LoadError(
        "BTF_FORMAT",
        `.BTF: ${what}: type id ${id} out of range (${this.types.length} types)`,
        { section: ".BTF" },
      );
    return t;
  }

  /**
   * Follows typedefs and modifiers (const, volatile, restrict, type tags) from `id` to the
   * first other type (which may be `void`).
   */
  skipModsAndTypedefs(id: number): BtfType {
    let t = this.typeById(id);
    for (let depth = 0; ; depth++) {
      if (
        t.kind !== BTF_KIND_TYPEDEF &&
        t.kind !== BTF_KIND_VOLATILE &&
        t.kind !== BTF_KIND_CONST &&
        t.kind !== BTF_KIND_RESTRICT &&
        t.kind !== BTF_KIND_TYPE_TAG
      )
        return t;
      if (depth >= BTF_MAX_RESOLVE_DEPTH)
        throw new LoadError(
          "LIMIT",
          `.BTF: type [${id}]: more than ${BTF_MAX_RESOLVE_DEPTH} typedef/modifier links ` +
            `(a cycle?)`,
          { section: ".BTF" },
        );
      t = this.typeById(t.type);
    }
  }

  /**
   * Size in bytes of the type `id` as libbpf's `btf__resolve_size` computes it: through
   * typedefs, modifiers, VARs and tags, multiplying array dimensions; pointers are 8 bytes.
   * @throws LoadError for types without a size (void, functions, forward declarations), cycles
   *   or sizes over 4 GiB
   */
  resolveSize(id: number): number {
    let nelems = 1;
    let cur = id;
    for (let depth = 0; depth < BTF_MAX_RESOLVE_DEPTH; depth++) {
      const t = this.typeById(cur);
      let size: number;
      switch (t.kind) {
        case BTF_KIND_INT:
        case BTF_KIND_STRUCT:
        case BTF_KIND_UNION:
        case BTF_KIND_ENUM:
        case BTF_KIND_ENUM64:
        case BTF_KIND_DATASEC:
        case BTF_KIND_FLOAT:
          size = t.size;
          break;
        case BTF_KIND_PTR:
          size = 8;
          break;
        case BTF_KIND_TYPEDEF:
        case BTF_KIND_VOLATILE:
        case BTF_KIND_CONST:
        case BTF_KIND_RESTRICT:
        case BTF_KIND_VAR:
        case BTF_KIND_DECL_TAG:
        case BTF_KIND_TYPE_TAG:
          cur = t.type;
          continue;
        case BTF_KIND_ARRAY:
          nelems *= t.nelems;
          if (nelems > 0xffffffff)
            throw new LoadError("LIMIT", `.BTF: type [${id}]: array size over 4 GiB`, {
              section: ".BTF",
            });
          cur = t.type;
          continue;
        default:
          throw new LoadError(
            "BTF_FORMAT",
            `.BTF: type [${id}]: ${btfKindName(t.kind)} [${t.id}] has no size`,
            { section: ".BTF" },
          );
      }
      const total = size * nelems;
      if (total > 0xffffffff)
        throw new LoadError("LIMIT", `.BTF: type [${id}]: size over 4 GiB`, { section: ".BTF" });
      return total;
    }
    throw new LoadError(
      "LIMIT",
      `.BTF: type [${id}]: more than ${BTF_MAX_RESOLVE_DEPTH} links while computing its size ` +
        `(a cycle?)`,
      { section: ".BTF" },
    );
  }

  /**
   * A C-like spelling of type `id` for messages and listings (`struct key`, `__u32 *`,
   * `const char [12]`); cycles and very deep chains end in `…`.
   */
  typeToString(id: number): string {
    return this.spell(id, 0);
  }

  private spell(id: number, depth: number): string {
    const t = this.types[id];
    if (t === undefined) return `<bad type ${id}>`;
    if (depth > BTF_MAX_RESOLVE_DEPTH) return "…";
    const inner = (ref: number): string => this.spell(ref, depth + 1);
    switch (t.kind) {
      case BTF_KIND_INT:
      case BTF_KIND_FLOAT:
      case BTF_KIND_TYPEDEF:
      case BTF_KIND_FUNC:
        return t.name;
      case BTF_KIND_STRUCT:
      case BTF_KIND_UNION:
      case BTF_KIND_ENUM:
      case BTF_KIND_ENUM64: {
        const word =
          t.kind === BTF_KIND_STRUCT ? "struct" : t.kind === BTF_KIND_UNION ? "union" : "enum";
        return `${word} ${t.name || "{...}"}`;
      }
      case BTF_KIND_FWD:
        return `${t.isUnion ? "union" : "struct"} ${t.name}`;
      case BTF_KIND_PTR:
        return `${inner(t.type)} *`;
      case BTF_KIND_CONST:
        return `const ${inner(t.type)}`;
      case BTF_KIND_VOLATILE:
        return `volatile ${inner(t.type)}`;
      case BTF_KIND_RESTRICT:
        return `${inner(t.type)} restrict`;
      case BTF_KIND_TYPE_TAG:
      case BTF_KIND_DECL_TAG:
        return inner(t.type);
      case BTF_KIND_ARRAY:
        return `${inner(t.type)}[${t.nelems}]`;
      case BTF_KIND_FUNC_PROTO:
        return `${inner(t.type)} (*)(${t.params.map((p) => (p.type === 0 ? "..." : inner(p.type))).join(", ")})`;
      case BTF_KIND_VAR:
        return `${inner(t.type)} ${t.name}`;
      case BTF_KIND_DATASEC:
        return `SEC(${JSON.stringify(t.name)})`;
      default:
        return id === 0 ? "void" : `<kind ${t.rawKind}>`;
    }
  }

  /**
   * The first type (lowest id) named `name`, optionally of the given kind, like libbpf's
   * `btf__find_by_name_kind`.
   */
  findByName(name: string, kind?: number): BtfType | undefined {
    if (!this.nameIndex) {
      const index = new Map<string, number[]>();
      for (const t of this.types) {
        if (!t.name) continue;
        const ids = index.get(t.name);
        if (ids) ids.push(t.id);
        else index.set(t.name, [t.id]);
      }
      this.nameIndex = index;
    }
    for (const id of this.nameIndex.get(name) ?? []) {
      const t = this.types[id];
      if (kind === undefined || t.kind === kind) return t;
    }
    return undefined;
  }
}
