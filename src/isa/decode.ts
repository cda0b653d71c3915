/**
 * Instruction decoding and encoding. An eBPF instruction is 8 bytes, little-endian:
 * `code:8 dst:4 src:4 off:16 imm:32`; `lddw` takes two slots, the second holding the upper
 * 32 bits of the immediate in its `imm`.
 */
import { ValidationError } from "../errors.js";

/** One decoded instruction slot. */
export interface Insn {
  /** Opcode byte. */
  code: number;
  /** Destination register, 0..15 as encoded. */
  dst: number;
  /** Source register, 0..15 as encoded. */
  src: number;
  /** Signed 16-bit offset. */
  off: number;
  /** Signed 32-bit immediate. */
  imm: number;
}

/** Size of one instruction slot in bytes. */
export const INSN_SIZE = 8;

/**
 * A program decoded into parallel typed arrays, one entry per 8-byte slot: the form both
 * engines consume (the interpreter indexes them directly; the JIT walks them once).
 */
export interface DecodedProgram {
  /** Number of slots. */
  readonly length: number;
  readonly code: Uint8Array;
  readonly dst: Uint8Array;
  readonly src: Uint8Array;
  readonly off: Int16Array;
  readonly imm: Int32Array;
}

/** Reads slot `pc` of `bytes`. */
export function decodeInsn(bytes: Uint8Array, pc: number): Insn {
  const o = pc * INSN_SIZE;
  if (o + INSN_SIZE > bytes.length) {
    throw new RangeError(`instruction ${pc} is past the end of the program`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset + o, INSN_SIZE);
  const regs = bytes[o + 1];
  return {
    code: bytes[o],
    dst: regs & 0x0f,
    src: regs >> 4,
    off: dv.getInt16(2, true),
    imm: dv.getInt32(4, true),
  };
}

/**
 * Decodes a whole program. `bytes.length` must be a multiple of 8: else a
 * {@link ValidationError} with code `BAD_SIZE`.
 */
export function decodeProgram(bytes: Uint8Array): DecodedProgram {
  if (bytes.length % INSN_SIZE !== 0) {
    throw new ValidationError(
      `program size ${bytes.length} bytes is not a multiple of ${INSN_SIZE} (one instruction)`,
      undefined,
      "BAD_SIZE",
    );
  }
  const n = bytes.length / INSN_SIZE;
  const code = new Uint8Array(n);
  const dst = new Uint8Array(n);
  const src = new Uint8Array(n);
  const off = new Int16Array(n);
  const imm = new Int32Array(n);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let pc = 0; pc < n; pc++) {
    const o = pc * INSN_SIZE;
    code[pc] = bytes[o];
    dst[pc] = bytes[o + 1] & 0x0f;
    src[pc] = bytes[o + 1] >> 4;
    off[pc] = dv.getInt16(o + 2, true);
    imm[pc] = dv.getInt32(o + 4, true);
  }
  return { length: n, code, dst, src, off, imm };
}

/** Encodes one slot into `out` at slot `pc`. */
export function encodeInsn(insn: Insn, out: Uint8Array, pc: number): void {
  const o = pc * INSN_SIZE;
  const dv = new DataView(out.buffer, out.byteOffset + o, INSN_SIZE);
  out[o] = insn.code & 0xff;
  out[o + 1] = (insn.dst & 0x0f) | ((insn.src & 0x0f) << 4);
  dv.setInt16(2, insn.off, true);
  dv.setInt32(4, insn.imm, true);
}

/** Encodes a list of slots into program bytes. */
export function encodeProgram(insns: readonly Insn[]): Uint8Array {
  const out = new Uint8Array(insns.length * INSN_SIZE);
  insns.forEach((insn, pc) => encodeInsn(insn, out, pc));
  return out;
}

/** Copies a decoded slot back into an {@link Insn}. */
export function insnAt(p: DecodedProgram, pc: number): Insn {
  return { code: p.code[pc], dst: p.dst[pc], src: p.src[pc], off: p.off[pc], imm: p.imm[pc] };
}
