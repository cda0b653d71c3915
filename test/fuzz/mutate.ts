/**
 * Mutations of well-formed objects, as plain data (so fast-check can shrink them and a failing
 * case can be printed and replayed): set a structural field to an interesting value, flip bits,
 * overwrite bytes, copy a chunk over another place, truncate.
 */
import fc from "fast-check";
import type { ElfLayout, Field, FieldKind } from "./elf-layout.js";

/** One mutation. */
export type Mutation =
  /** Sets field `field` (an index into the layout's fields) to `value` (truncated to its width). */
  | { op: "field"; field: number; value: bigint }
  /** Adds `delta` to field `field`. */
  | { op: "nudge"; field: number; delta: number }
  /** Flips bit `bit` of byte `at`. */
  | { op: "flip"; at: number; bit: number }
  /** Writes `bytes` at `at`. */
  | { op: "bytes"; at: number; bytes: number[] }
  /** Copies `len` bytes from `from` to `at`. */
  | { op: "copy"; from: number; at: number; len: number }
  /** Keeps the first `len` bytes. */
  | { op: "truncate"; len: number }
  /** Inserts `bytes` at `at` (everything after moves). */
  | { op: "insert"; at: number; bytes: number[] };

const U64 = (1n << 64n) - 1n;

/** Values worth trying for a field of `kind` in a file of `size` bytes. */
export function interestingValues(kind: FieldKind, size: number): bigint[] {
  const common = [0n, 1n, 2n, 0x7fn, 0xffn, 0x7fffn, 0xffffn, 0x7fff_ffffn, 0x8000_0000n];
  const wide = [0xffff_ffffn, 0x1_0000_0000n, 0x7fff_ffff_ffff_ffffn, U64, 1n << 53n];
  const n = BigInt(size);
  switch (kind) {
    case "offset":
    case "size":
      return [...common, ...wide, n - 1n, n, n + 1n, n - 8n, n / 2n, 8n, 24n, 64n, 0xfff8n];
    case "count":
      return [...common, ...wide, 3n, 8n, 100n, 1000n, 0x10000n, 0x100000n, 0xfffffn];
    case "index":
      return [...common, ...wide, 3n, 4n, 5n, 10n, 0xfff0n, 0xfff1n, 0xffefn, 0xfffffn];
    case "enum":
      return [...common, ...wide, 3n, 4n, 5n, 6n, 9n, 13n, 14n, 15n, 17n, 19n, 20n, 31n, 0xe0n];
    case "value":
      return [...common, ...wide, -1n & U64, 0xfffffff8n, 0x1000n];
  }
}

/** An arbitrary mutation of an object with layout `layout`. */
export function mutationArb(layout: ElfLayout): fc.Arbitrary<Mutation> {
  const size = layout.size;
  const fields = layout.fields;
  const at = fc.nat(Math.max(size - 1, 0));
  const field = fc.nat(Math.max(fields.length - 1, 0));
  const byte = fc.nat(255);
  const fieldValue = field.chain((i) =>
    fc
      .oneof(
        { weight: 4, arbitrary: fc.constantFrom(...interestingValues(fields[i].kind, size)) },
        { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: U64 }) },
      )
      .map((value): Mutation => ({ op: "field", field: i, value })),
  );
  return fc.oneof(
    { weight: 8, arbitrary: fieldValue },
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant("nudge" as const),
        field,
        delta: fc.oneof(fc.integer({ min: -16, max: 16 }), fc.constantFrom(-4096, 4096, 65536)),
      }),
    },
    { weight: 3, arbitrary: fc.record({ op: fc.constant("flip" as const), at, bit: fc.nat(7) }) },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant("bytes" as const),
        at,
        bytes: fc.array(byte, { minLength: 1, maxLength: 16 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant("copy" as const),
        from: at,
        at,
        len: fc.integer({ min: 1, max: 256 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("truncate" as const), len: at }) },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant("insert" as const),
        at,
        bytes: fc.array(byte, { minLength: 1, maxLength: 64 }),
      }),
    },
  );
}

/** Applies `muts` in order to a copy of `bytes`. */
export function applyMutations(
  bytes: Uint8Array,
  fields: readonly Field[],
  muts: readonly Mutation[],
): Uint8Array {
  let b = bytes.slice();
  for (const m of muts) {
    switch (m.op) {
      case "field":
      case "nudge": {
        const fl = fields[m.field];
        if (fl === undefined || fl.at + fl.width > b.length) break;
        const v = new DataView(b.buffer);
        const cur = readField(v, fl);
        const next = m.op === "field" ? m.value : cur + BigInt(m.delta);
        writeField(v, fl, next);
        break;
      }
      case "flip":
        if (m.at < b.length) b[m.at] ^= 1 << m.bit;
        break;
      case "bytes":
        for (let i = 0; i < m.bytes.length && m.at + i < b.length; i++) b[m.at + i] = m.bytes[i];
        break;
      case "copy": {
        if (m.from >= b.length || m.at >= b.length) break;
        const chunk = b.slice(m.from, Math.min(m.from + m.len, b.length));
        b.set(chunk.subarray(0, b.length - m.at), m.at);
        break;
      }
      case "truncate":
        b = b.slice(0, Math.min(m.len, b.length));
        break;
      case "insert": {
        const at = Math.min(m.at, b.length);
        const out = new Uint8Array(b.length + m.bytes.length);
        out.set(b.subarray(0, at), 0);
        out.set(m.bytes, at);
        out.set(b.subarray(at), at + m.bytes.length);
        b = out;
        break;
      }
    }
  }
  return b;
}

function readField(v: DataView, f: Field): bigint {
  switch (f.width) {
    case 1:
      return BigInt(v.getUint8(f.at));
    case 2:
      return BigInt(v.getUint16(f.at, true));
    case 4:
      return BigInt(v.getUint32(f.at, true));
    case 8:
      return v.getBigUint64(f.at, true);
  }
}

function writeField(v: DataView, f: Field, value: bigint): void {
  const x = BigInt.asUintN(f.width * 8, value);
  switch (f.width) {
    case 1:
      v.setUint8(f.at, Number(x));
      break;
    case 2:
      v.setUint16(f.at, Number(x), true);
      break;
    case 4:
      v.setUint32(f.at, Number(x), true);
      break;
    case 8:
      v.setBigUint64(f.at, x, true);
      break;
  }
}

/** A short description of a mutation list, for reports. */
export function describeMutations(fields: readonly Field[], muts: readonly Mutation[]): string {
  return muts
    .map((m) => {
      switch (m.op) {
        case "field":
          return `${fields[m.field]?.name ?? `field ${m.field}`} = 0x${m.value.toString(16)}`;
        case "nudge":
          return `${fields[m.field]?.name ?? `field ${m.field}`} += ${m.delta}`;
        case "flip":
          return `flip byte ${m.at} bit ${m.bit}`;
        case "bytes":
          return `write ${m.bytes.length} bytes at ${m.at}`;
        case "copy":
          return `copy ${m.len} bytes ${m.from} -> ${m.at}`;
        case "truncate":
          return `truncate to ${m.len}`;
        case "insert":
          return `insert ${m.bytes.length} bytes at ${m.at}`;
      }
    })
    .join("; ");
}
