/**
 * eBPF opcode vocabulary, as RFC 9669 and the kernel's `include/uapi/linux/bpf_common.h` and
 * `bpf.h` name it. An instruction's 8-bit `code` is `class | source/size | op/mode`.
 */

/** Instruction classes (the low three bits of `code`). */
export const BPF_LD = 0x00;
export const BPF_LDX = 0x01;
export const BPF_ST = 0x02;
export const BPF_STX = 0x03;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_JMP32 = 0x06;
export const BPF_ALU64 = 0x07;

/** Source operand bit for ALU and JMP classes: immediate (K) or register (X). */
export const BPF_K = 0x00;
export const BPF_X = 0x08;

/** ALU operations (the high four bits of `code`). */
export const BPF_ADD = 0x00;
export const BPF_SUB = 0x10;
export const BPF_MUL = 0x20;
export const BPF_DIV = 0x30;
export const BPF_OR = 0x40;
export const BPF_AND = 0x50;
export const BPF_LSH = 0x60;
export const BPF_RSH = 0x70;
export const BPF_NEG = 0x80;
export const BPF_MOD = 0x90;
export const BPF_XOR = 0xa0;
export const BPF_MOV = 0xb0;
export const BPF_ARSH = 0xc0;
export const BPF_END = 0xd0;

/** Byte-swap direction for BPF_END in class ALU; in class ALU64 it is the v4 `bswap`. */
export const BPF_TO_LE = 0x00;
export const BPF_TO_BE = 0x08;

/** Jump operations (the high four bits of `code`). */
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;
export const BPF_JNE = 0x50;
export const BPF_JSGT = 0x60;
export const BPF_JSGE = 0x70;
export const BPF_CALL = 0x80;
export const BPF_EXIT = 0x90;
export const BPF_JLT = 0xa0;
export const BPF_JLE = 0xb0;
export const BPF_JSLT = 0xc0;
export const BPF_JSLE = 0xd0;

/** Load/store sizes. */
export const BPF_W = 0x00;
export const BPF_H = 0x08;
export const BPF_B = 0x10;
export const BPF_DW = 0x18;

/** Load/store modes. */
export const BPF_IMM = 0x00;
export const BPF_ABS = 0x20;
export const BPF_IND = 0x40;
export const BPF_MEM = 0x60;
/** Sign-extending load (cpu v4). */
export const BPF_MEMSX = 0x80;
export const BPF_ATOMIC = 0xc0;

/** Atomic operations, in the immediate of a BPF_ATOMIC store. */
export const BPF_FETCH = 0x01;
export const BPF_XCHG = 0xe0 | BPF_FETCH;
export const BPF_CMPXCHG = 0xf0 | BPF_FETCH;

/** `src_reg` values of `lddw` (BPF_LD | BPF_IMM | BPF_DW). */
export const BPF_PSEUDO_MAP_FD = 1;
export const BPF_PSEUDO_MAP_VALUE = 2;
export const BPF_PSEUDO_BTF_ID = 3;
export const BPF_PSEUDO_FUNC = 4;
export const BPF_PSEUDO_MAP_IDX = 5;
export const BPF_PSEUDO_MAP_IDX_VALUE = 6;

/** `src_reg` values of `call`. */
export const BPF_PSEUDO_CALL = 1;
export const BPF_PSEUDO_KFUNC_CALL = 2;

/** Register numbers. */
export const BPF_REG_0 = 0;
export const BPF_REG_1 = 1;
export const BPF_REG_10 = 10;
/** Number of registers r0..r10. */
export const MAX_BPF_REG = 11;

/** Stack bytes per frame. */
export const MAX_BPF_STACK = 512;

/**
 * Whether an access through r10 at `off` of `size` bytes stays inside the current frame (both
 * engines access those without a check at run time).
 */
export function inFrame(off: number, size: number): boolean {
  return off >= -MAX_BPF_STACK && off + size <= 0;
}
/** The verifier's cap on one program's call chain. */
export const MAX_CALL_FRAMES = 8;
/** Successful tail calls per run of the entry program. */
export const MAX_TAIL_CALL_CNT = 33;
/** Instructions per program the kernel accepts (BPF_COMPLEXITY_LIMIT_INSNS). */
export const BPF_MAXINSNS_LIMIT = 1_000_000;

/** Full opcode of `lddw`. */
export const OP_LDDW = BPF_LD | BPF_IMM | BPF_DW;

/** The class of an opcode. */
export function bpfClass(code: number): number {
  return code & 0x07;
}
