/**
 * Shared by the tests that build collections in code instead of loading objects: instructions,
 * one-function program specs, map specs, and reading map values back.
 */
import { join } from "node:path";
import type { MapSpec, ProgramSpec } from "../src/elf/types.js";
import type { Insn } from "../src/isa/decode.js";

/** One instruction; fields default to 0. */
export const I = (code: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({
  code,
  dst,
  src,
  off,
  imm,
});

/** A program spec of one global function `name` (XDP for type 6, else section `syscall`). */
export function programSpec(name: string, insns: Uint8Array, progType = 0): ProgramSpec {
  return {
    name,
    section: progType === 6 ? "xdp" : "syscall",
    autoload: true,
    insns,
    funcs: [{ name, start: 0, global: true }],
    lineInfo: [],
    funcInfo: [],
    coreRelos: [],
    license: "GPL",
    global: true,
    progType,
    expectedAttachType: 0,
    progFlags: 0,
  };
}

/** A BTF-less map spec with 4-byte keys. */
export function mapSpec(
  name: string,
  type: number,
  valueSize: number,
  maxEntries: number,
): MapSpec {
  return {
    name,
    type,
    keySize: 4,
    valueSize,
    maxEntries,
    flags: 0,
    section: ".maps",
    readonlyProg: false,
  };
}

/** Path of a fixture object. */
export const fx = (n: string): string => join(import.meta.dirname, "fixtures", n);

/** A value as little-endian u64s. */
export const u64s = (b: Uint8Array | undefined): bigint[] =>
  b === undefined
    ? []
    : Array.from({ length: b.length / 8 }, (_, i) =>
        new DataView(b.buffer, b.byteOffset).getBigUint64(i * 8, true),
      );

/** A 4-byte little-endian key below 256. */
export const key = (i: number): Uint8Array => Uint8Array.of(i, 0, 0, 0);
