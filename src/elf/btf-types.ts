/**
 * BTF type vocabulary (the kernel's `include/uapi/linux/btf.h`), decoded into plain objects.
 */

/** Placeholder kind of type id 0 (`void`), and of kinds only known through a layout section. */
export const BTF_KIND_UNKN = 0;
/** Integer. */
export const BTF_KIND_INT = 1;
/** Pointer. */
export const BTF_KIND_PTR = 2;
/** Array. */
export const BTF_KIND_ARRAY = 3;
/** Struct. */
export const BTF_KIND_STRUCT = 4;
/** Union. */
export const BTF_KIND_UNION = 5;
/** Enumeration with values up to 32 bits. */
export const BTF_KIND_ENUM = 6;
/** Forward declaration. */
export const BTF_KIND_FWD = 7;
/** Typedef. */
export const BTF_KIND_TYPEDEF = 8;
/** Volatile modifier. */
export const BTF_KIND_VOLATILE = 9;
/** Const modifier. */
export const BTF_KIND_CONST = 10;
/** Restrict modifier. */
export const BTF_KIND_RESTRICT = 11;
/** Function (its type is a FUNC_PROTO). */
export const BTF_KIND_FUNC = 12;
/** Function prototype. */
export const BTF_KIND_FUNC_PROTO = 13;
/** Variable. */
export const BTF_KIND_VAR = 14;
/** Data section (a list of variables). */
export const BTF_KIND_DATASEC = 15;
/** Floating point. */
export const BTF_KIND_FLOAT = 16;
/** Declaration tag. */
export const BTF_KIND_DECL_TAG = 17;
/** Type tag. */
export const BTF_KIND_TYPE_TAG = 18;
/** Enumeration with values up to 64 bits. */
export const BTF_KIND_ENUM64 = 19;

/** BTF_KIND_INT encoding bit: signed. */
export const BTF_INT_SIGNED = 1;
/** BTF_KIND_INT encoding bit: char. */
export const BTF_INT_CHAR = 2;
/** BTF_KIND_INT encoding bit: bool. */
export const BTF_INT_BOOL = 4;

/** Linkage of FUNC types and VARs: static. */
export const BTF_LINKAGE_STATIC = 0;
/** Linkage: global (allocated here). */
export const BTF_LINKAGE_GLOBAL = 1;
/** Linkage: extern. */
export const BTF_LINKAGE_EXTERN = 2;

/** What every decoded type has. */
export interface BtfTypeBase {
  /** Type id (index in the type section, 1-based; 0 is `void`). */
  id: number;
  /** Name ("" for anonymous types). */
  name: string;
  /** `kind_flag` (bit 31 of info). */
  kindFlag: boolean;
}

/** `void` (id 0), or a type of a kind unknown to this reader that a layout section let us skip. */
export interface BtfVoid extends BtfTypeBase {
  /** Always BTF_KIND_UNKN. */
  kind: typeof BTF_KIND_UNKN;
  /** The kind number in the file (0 for `void`). */
  rawKind: number;
}

/** BTF_KIND_INT. */
export interface BtfInt extends BtfTypeBase {
  /** Kind. */
  kind: typeof BTF_KIND_INT;
  /** Size in bytes. */
  size: number;
  /** BTF_INT_SIGNED / CHAR / BOOL bits. */
  encoding: number;
  /** Bit offset of the value inside the storage. */
  bitOffset: number;
  /** Number of value bits. */
  bits: number;
}

/** BTF_KIND_PTR, TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG: a reference to another type. */
export interface BtfRef extends BtfTypeBase {
  /** Kind. */
  kind:
    | typeof BTF_KIND_PTR
    | typeof BTF_KIND_TYPEDEF
    | typeof BTF_KIND_VOLATILE
    | typeof BTF_KIND_CONST
    | typeof BTF_KIND_RESTRICT
    | typeof BTF_KIND_TYPE_TAG;
  /** Referenced type id. */
  type: number;
}

/** BTF_KIND_ARRAY. */
export interface BtfArray extends BtfTypeBase {
  /** Kind. */
  kind: typeof BTF_KIND_ARRAY;
  /** Element type id. */
  type: number;
  /** Index type id. */
  indexType: number;
  /** Number of elements. */
  nelems: number;
}

/** A struct or union member. */
export interface BtfMember {
  /** Member name ("" for anonymous members). */
  name: string;
  /** Member type id. */
  type: number;
  /** Offset from the start of the struct, in bits. */
  bitOffset: number;
  /** Bitfield size in bits (0 when not a bitfield). */
  bitfieldSize: number;
}

/** BTF_KIND_STRUCT or BTF_KIND_UNION. */
export interface BtfComposite extends BtfTypeBase {
  /** Kind. */
  kind: typeof BTF_KIND_STRUCT | typeof BTF_KIND_UNION;
  /** Size in bytes. */
  size: number;
  /** Members in declaration order. */
  members: BtfMember[];
}

/** BTF_KIND_ENUM. */
export interface BtfEnum extends BtfTypeBase {
  /** Kind. */
  kind: typeof BTF_KIND_ENUM;
  /** Size in bytes. */
  size: number;
  /** Whether values are signed (kind_flag). */
  signed: boolean;
  /** Enumerators. */
  values: { name: string; value: number }[];
}

/** BTF_KIND_ENUM64. */
export interface BtfEnum64 extends BtfTypeBase {
  /** Kind. */
  kind: typeof BTF_KIND_ENUM64;
  /** Size in bytes. */
  size: number;
  /** Whether values are signed (kind_flag). */
  signed: boolean;
  /** Enumerators. */
  values: { name: string; value: bigint }[];
}

/** BTF_KIND_FWD. */
export interface BtfFwd extends BtfTypeBase {
  /** Kind. */
  kind: typeof BTF_KIND_FWD;
  /** Forward declaration of a union (kind_flag) rather than a struct. */
  isUnion: boolean;
}

/** BTF_KIND_FUNC. */
export interface BtfFunc extends BtfTypeBase {
  /** Kind. */
  kind: typeof BTF_KIND_FUNC;
  /** The FUNC_PROTO type id. */
  type: number;
  /** BTF_LINKAGE_* (stored in vlen). */
  linkage: number;
}

/** A function parameter. */
export interface BtfParam {
  /** Parameter name ("" if unnamed; a trailing unnamed void parameter means `...`). */
  name: string;
  /** Parameter type id. */
  type: number;
}

/** BTF_KIND_FUNC_PROTO. */
export interface BtfFuncProto extends BtfTypeBase {
  /** Kind. */
  kind: typeof BTF_KIND_FUNC_PROTO;
  /** Return type id (0 = void). */
  type: number;
  /** Parameters. */
  params: BtfParam[];
}

/** BTF_KIND_VAR. */
export interface BtfVar extends BtfTypeBase {
  /** Kind. */
  kind: typeof BTF_KIND_VAR;
  /** Variable's type id. */
  type: number;
  /** BTF_LINKAGE_*. */
  linkage: number;
}

/** One variable of a DATASEC. */
export interface BtfVarSecinfo {
  /** VAR (or FUNC, for `.ksyms`) type id. */
  type: number;
  /** Offset in the section. */
  offset: number;
  /** Size in bytes. */
  size: number;
}

/** BTF_KIND_DATASEC. */
export interface BtfDatasec extends BtfTypeBase {
  /** Kind. */
  kind: typeof BTF_KIND_DATASEC;
  /** Section size in bytes (0 until the linker or loader fills it in). */
  size: number;
  /** Variables. */
  vars: BtfVarSecinfo[];
}

/** BTF_KIND_FLOAT. */
export interface BtfFloat extends BtfTypeBase {
  /** Kind. */
  kind: typeof BTF_KIND_FLOAT;
  /** Size in bytes. */
  size: number;
}

/** BTF_KIND_DECL_TAG. */
export interface BtfDeclTag extends BtfTypeBase {
  /** Kind. */
  kind: typeof BTF_KIND_DECL_TAG;
  /** Tagged type id. */
  type: number;
  /** Member or parameter index, or -1 for the type itself. */
  componentIdx: number;
}

/** Any decoded BTF type. */
export type BtfType =
  | BtfVoid
  | BtfInt
  | BtfRef
  | BtfArray
  | BtfComposite
  | BtfEnum
  | BtfEnum64
  | BtfFwd
  | BtfFunc
  | BtfFuncProto
  | BtfVar
  | BtfDatasec
  | BtfFloat
  | BtfDeclTag;

const KIND_NAMES = [
  "unknown",
  "int",
  "ptr",
  "array",
  "struct",
  "union",
  "enum",
  "fwd",
  "typedef",
  "volatile",
  "const",
  "restrict",
  "func",
  "func_proto",
  "var",
  "datasec",
  "float",
  "decl_tag",
  "type_tag",
  "enum64",
];

/** The kind's name as libbpf prints it (`struct`, `func_proto`, ...). */
export function btfKindName(kind: number): string {
  return KIND_NAMES[kind] ?? `kind ${kind}`;
}
