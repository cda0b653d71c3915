/**
 * A small WebAssembly binary emitter: a growable byte buffer with LEB128 encoders, the opcodes
 * the JIT uses, and a module builder (types, imports, functions, exports). Only what tsbpf's
 * JIT needs; no validation beyond what the engine's own compile does.
 */

/** Value types. */
export const I32 = 0x7f;
/** 64-bit integer value type. */
export const I64 = 0x7e;
/** Block type of a block that takes and leaves nothing. */
export const VOID = 0x40;

/** Opcodes (MVP, sign-extension, multi-value, tail calls). */
export const Op = {
  unreachable: 0x00,
  nop: 0x01,
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  br_if: 0x0d,
  br_table: 0x0e,
  return: 0x0f,
  call: 0x10,
  call_indirect: 0x11,
  return_call: 0x12,
  return_call_indirect: 0x13,
  drop: 0x1a,
  select: 0x1b,
  local_get: 0x20,
  local_set: 0x21,
  local_tee: 0x22,
  i32_load: 0x28,
  i64_load: 0x29,
  i32_load8_u: 0x2d,
  i64_load8_s: 0x30,
  i64_load8_u: 0x31,
  i64_load16_s: 0x32,
  i64_load16_u: 0x33,
  i64_load32_s: 0x34,
  i64_load32_u: 0x35,
  i32_store: 0x36,
  i64_store: 0x37,
  i64_store8: 0x3c,
  i64_store16: 0x3d,
  i64_store32: 0x3e,
  i32_const: 0x41,
  i64_const: 0x42,
  i32_eqz: 0x45,
  i32_eq: 0x46,
  i32_ne: 0x47,
  i32_lt_s: 0x48,
  i32_lt_u: 0x49,
  i32_gt_s: 0x4a,
  i32_gt_u: 0x4b,
  i32_le_s: 0x4c,
  i32_le_u: 0x4d,
  i32_ge_s: 0x4e,
  i32_ge_u: 0x4f,
  i64_eqz: 0x50,
  i64_eq: 0x51,
  i64_ne: 0x52,
  i64_lt_s: 0x53,
  i64_lt_u: 0x54,
  i64_gt_s: 0x55,
  i64_gt_u: 0x56,
  i64_le_s: 0x57,
  i64_le_u: 0x58,
  i64_ge_s: 0x59,
  i64_ge_u: 0x5a,
  i32_add: 0x6a,
  i32_sub: 0x6b,
  i32_mul: 0x6c,
  i32_div_s: 0x6d,
  i32_div_u: 0x6e,
  i32_rem_s: 0x6f,
  i32_rem_u: 0x70,
  i32_and: 0x71,
  i32_or: 0x72,
  i32_xor: 0x73,
  i32_shl: 0x74,
  i32_shr_s: 0x75,
  i32_shr_u: 0x76,
  i32_rotl: 0x77,
  i32_rotr: 0x78,
  i64_add: 0x7c,
  i64_sub: 0x7d,
  i64_mul: 0x7e,
  i64_div_s: 0x7f,
  i64_div_u: 0x80,
  i64_rem_s: 0x81,
  i64_rem_u: 0x82,
  i64_and: 0x83,
  i64_or: 0x84,
  i64_xor: 0x85,
  i64_shl: 0x86,
  i64_shr_s: 0x87,
  i64_shr_u: 0x88,
  i64_rotl: 0x89,
  i64_rotr: 0x8a,
  i32_wrap_i64: 0xa7,
  i64_extend_i32_s: 0xac,
  i64_extend_i32_u: 0xad,
  i32_extend8_s: 0xc0,
  i32_extend16_s: 0xc1,
  i64_extend8_s: 0xc2,
  i64_extend16_s: 0xc3,
  i64_extend32_s: 0xc4,
} as const;

/** A growable byte buffer with the encoders of the binary format. */
export class Bytes {
  /** Backing store; valid bytes are `[0, length)`. */
  buf: Uint8Array;
  /** Number of bytes written. */
  length = 0;

  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
  }

  private grow(n: number): void {
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.length));
    this.buf = b;
  }

  /** Appends one byte. */
  u8(b: number): this {
    if (this.length === this.buf.length) this.grow(1);
    this.buf[this.length++] = b;
    return this;
  }

  /** Appends opcodes or raw bytes. */
  op(...bs: number[]): this {
    for (const b of bs) this.u8(b);
    return this;
  }

  /** Unsigned LEB128 of a non-negative integer below 2^32. */
  u32(v: number): this {
    v >>>= 0;
    do {
      let b = v & 0x7f;
      v >>>= 7;
      if (v !== 0) b |= 0x80;
      this.u8(b);
    } while (v !== 0);
    return this;
  }

  /** Signed LEB128 of a 32-bit integer. */
  s32(v: number): this {
    v |= 0;
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
        this.u8(b);
        return this;
      }
      this.u8(b | 0x80);
    }
  }

  /** Signed LEB128 of the 64-bit integer with halves (lo, hi). */
  s64(lo: number, hi: number): this {
    if (hi === lo >> 31) return this.s32(lo);
    let v = BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo >>> 0));
    for (;;) {
      const b = Number(v & 0x7fn);
      v >>= 7n;
      if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) {
        this.u8(b);
        return this;
      }
      this.u8(b | 0x80);
    }
  }

  /** Appends bytes. */
  bytes(b: Uint8Array): this {
    if (this.length + b.length > this.buf.length) this.grow(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }

  /** Appends a UTF-8 name (length-prefixed). */
  name(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.u32(b.length).bytes(b);
  }

  /** The bytes written so far (a view). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  // ---- instruction helpers ----

  /** `local.get i`. */
  get(i: number): this {
    return this.u8(Op.local_get).u32(i);
  }
  /** `local.set i`. */
  set(i: number): this {
    return this.u8(Op.local_set).u32(i);
  }
  /** `global.get i`. */
  gget(i: number): this {
    return this.u8(0x23).u32(i);
  }
  /** `global.set i`. */
  gset(i: number): this {
    return this.u8(0x24).u32(i);
  }
  /** `local.tee i`. */
  tee(i: number): this {
    return this.u8(Op.local_tee).u32(i);
  }
  /** `i32.const v`. */
  i32(v: number): this {
    return this.u8(Op.i32_const).s32(v);
  }
  /** `i64.const (lo, hi)`; `hi` defaults to the sign of `lo`. */
  i64(lo: number, hi: number = lo >> 31): this {
    return this.u8(Op.i64_const).s64(lo, hi);
  }
  /** A memory instruction with alignment hint 0 and a constant offset. */
  mem(op: number, offset = 0): this {
    return this.u8(op).u32(0).u32(offset);
  }
  /** `call f`. */
  call(f: number): this {
    return this.u8(Op.call).u32(f);
  }
  /** `br depth`. */
  br(depth: number): this {
    return this.u8(Op.br).u32(depth);
  }
}

/** A function type. */
export interface FuncType {
  params: number[];
  results: number[];
}

/** A function defined in the module. */
export interface FuncDef {
  /** Type index. */
  type: number;
  /** Extra locals (after the params), by value type. */
  locals: number[];
  /** Code, without the locals vector, ending with `end`. */
  code: Uint8Array;
}

/** Builds a module: types, imports (functions, one memory, one table), functions, exports. */
export class ModuleBuilder {
  private readonly types: FuncType[] = [];
  private readonly typeKeys = new Map<string, number>();
  private readonly funcImports: { module: string; name: string; type: number }[] = [];
  private readonly funcs: FuncDef[] = [];
  private readonly exports: { name: string; func: number }[] = [];
  private readonly globals: { type: number; init: number }[] = [];
  private memImport: { module: string; name: string } | null = null;
  private tableImport: { module: string; name: string } | null = null;

  /** The index of a function type, adding it when new. */
  type(params: number[], results: number[]): number {
    const key = params.join(",") + ":" + results.join(",");
    let i = this.typeKeys.get(key);
    if (i === undefined) {
      i = this.types.length;
      this.types.push({ params, results });
      this.typeKeys.set(key, i);
    }
    return i;
  }

  /** Imports a function; returns its function index. All imports precede definitions. */
  importFunc(module: string, name: string, params: number[], results: number[]): number {
    if (this.funcs.length > 0) throw new Error("imports must come before functions");
    this.funcImports.push({ module, name, type: this.type(params, results) });
    return this.funcImports.length - 1;
  }

  /** Imports the memory (no minimum, no maximum checked). */
  importMemory(module: string, name: string): void {
    this.memImport = { module, name };
  }

  /** Imports a funcref table. */
  importTable(module: string, name: string): void {
    this.tableImport = { module, name };
  }

  /** The function index the next {@link addFunc} gets. */
  nextFuncIndex(): number {
    return this.funcImports.length + this.funcs.length;
  }

  /** Defines a function; returns its function index. */
  addFunc(def: FuncDef): number {
    this.funcs.push(def);
    return this.funcImports.length + this.funcs.length - 1;
  }

  /** Replaces the body of a defined function (by function index). */
  setFunc(index: number, def: FuncDef): void {
    this.funcs[index - this.funcImports.length] = def;
  }

  /** Defines a mutable global of type `type` (I32 or I64) initialised to `init`; its index. */
  addGlobal(type: number, init: number): number {
    this.globals.push({ type, init });
    return this.globals.length - 1;
  }

  /** Exports a function. */
  exportFunc(name: string, func: number): void {
    this.exports.push({ name, func });
  }

  /** The module's bytes. */
  build(): Uint8Array<ArrayBuffer> {
    const out = new Bytes(1024);
    out.op(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00);
    const section = (id: number, body: Bytes) => {
      out.u8(id).u32(body.length).bytes(body.view());
    };
    // types
    const t = new Bytes();
    t.u32(this.types.length);
    for (const ft of this.types) {
      t.u8(0x60)
        .u32(ft.params.length)
        .op(...ft.params)
        .u32(ft.results.length)
        .op(...ft.results);
    }
    section(1, t);
    // imports
    const im = new Bytes();
    const nImports =
      this.funcImports.length + (this.memImport ? 1 : 0) + (this.tableImport ? 1 : 0);
    im.u32(nImports);
    for (const f of this.funcImports) im.name(f.module).name(f.name).u8(0x00).u32(f.type);
    if (this.tableImport) {
      im.name(this.tableImport.module)
        .name(this.tableImport.name)
        .u8(0x01)
        .u8(0x70)
        .u8(0x00)
        .u32(0);
    }
    if (this.memImport) {
      im.name(this.memImport.module).name(this.memImport.name).u8(0x02).u8(0x00).u32(0);
    }
    section(2, im);
    // function declarations
    const fn = new Bytes();
    fn.u32(this.funcs.length);
    for (const f of this.funcs) fn.u32(f.type);
    section(3, fn);
    // globals
    if (this.globals.length > 0) {
      const gl = new Bytes();
      gl.u32(this.globals.length);
      for (const g of this.globals) {
        gl.u8(g.type).u8(1);
        if (g.type === I64) gl.i64(g.init);
        else gl.i32(g.init);
        gl.u8(Op.end);
      }
      section(6, gl);
    }
    // exports
    const ex = new Bytes();
    ex.u32(this.exports.length);
    for (const e of this.exports) ex.name(e.name).u8(0x00).u32(e.func);
    section(7, ex);
    // code
    const code = new Bytes(1024);
    code.u32(this.funcs.length);
    for (const f of this.funcs) {
      const body = new Bytes(f.code.length + 16);
      const groups: [number, number][] = [];
      for (const l of f.locals) {
        const g = groups[groups.length - 1];
        if (g !== undefined && g[1] === l) g[0]++;
        else groups.push([1, l]);
      }
      body.u32(groups.length);
      for (const [n, ty] of groups) body.u32(n).u8(ty);
      body.bytes(f.code);
      code.u32(body.length).bytes(body.view());
    }
    section(10, code);
    return new Uint8Array(out.view());
  }
}
