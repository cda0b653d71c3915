/**
 * The interpreter's form of a program: the loader's decoded instructions packed into one
 * Int32Array, with a bounds cache for each memory instruction.
 */
import { MAX_BPF_STACK, inFrame } from "../isa/opcodes.js";
import type { ExecProgram } from "../runtime/program.js";

/** The size of a stack frame. */
export const FRAME = MAX_BPF_STACK;
/** Access sizes by an opcode's size bits (`op & 0x18`: W, H, B, DW), one byte each. */
export const SIZES = 0x08010204;
/**
 * Loads and stores through r10 at an offset inside the frame get this mode (BPF_ABS, invalid
 * for their classes) in place of BPF_MEM when decoded, so opcodes 0x21, 0x29, 0x31, 0x39
 * (ldx), 0x22, 0x2a, 0x32, 0x3a (st) and 0x23, 0x2b, 0x33, 0x3b (stx): the current frame is
 * always live, so they need no check at run time (the JIT drops the same checks).
 */
const FRAME_MODE = 0x20;

/**
 * A program as the interpreter runs it: four int32s per instruction in one typed array, so an
 * instruction costs one array's checks. At `4 * k`, instruction k packed as
 * `opcode | dst << 8 | src << 12 | off << 16`; at `4 * k + 1` its immediate; at `4 * k + 2`
 * and `+ 3` its bounds cache, the slot it touched last as a start `lo` and a count `lim` of
 * the addresses from `lo` it may access with its size: `(addr - lo) >>> 0 < lim` (0: none).
 */
export interface Decoded {
  code: Int32Array;
  /** The address space's epoch the caches were filled in. */
  epoch: number;
}

/** Packs `p`'s instructions (caches empty), for the address space's epoch `epoch`. */
export function decode(p: ExecProgram, epoch: number): Decoded {
  const d = p.insns;
  const code = new Int32Array(d.length * 4);
  for (let k = 0; k < d.length; k++) {
    let op = d.code[k];
    const cls = op & 0x07;
    const base = cls === 0x01 ? d.src[k] : d.dst[k];
    if ((op & 0xe0) === 0x60 && cls >= 0x01 && cls <= 0x03 && base === 10) {
      const size = (SIZES >>> (op & 0x18)) & 0xff;
      if (inFrame(d.off[k], size)) op = (op & ~0xe0) | FRAME_MODE;
    }
    code[4 * k] = op | (d.dst[k] << 8) | (d.src[k] << 12) | (d.off[k] << 16);
    code[4 * k + 1] = d.imm[k];
  }
  return { code, epoch };
}

/** Empties `c`'s bounds caches: the address space changed (epoch `epoch` now). */
export function clearCaches(c: Decoded, epoch: number): void {
  for (let k = 3; k < c.code.length; k += 4) c.code[k] = 0;
  c.epoch = epoch;
}
