/**
 * eBPF atomic read-modify-write instructions (BPF_STX | BPF_ATOMIC) on 32- and 64-bit words.
 * tsbpf runs one program at a time per address space, so plain reads and writes are atomic.
 */
import { RuntimeFault } from "../errors.js";

const ADD = 0x00;
const OR = 0x40;
const AND = 0x50;
const XOR = 0xa0;
const FETCH = 0x01;
const XCHG = 0xe1;
const CMPXCHG = 0xf1;
/** Load-acquire / store-release (Linux 6.15): plain accesses here. */
const LOAD_ACQ = 0x100;
const STORE_REL = 0x110;

function op32(kind: number, old: number, v: number): number {
  switch (kind) {
    case ADD: return (old + v) | 0; // prettier-ignore
    case OR: return old | v; // prettier-ignore
    case AND: return old & v; // prettier-ignore
    case XOR: return old ^ v; // prettier-ignore
    case XCHG & ~FETCH: return v; // prettier-ignore
    default:
      throw new RuntimeFault(`unknown atomic operation 0x${kind.toString(16)}`, -1);
  }
}

/**
 * Runs a 32-bit atomic at `a` with operand register `s` (index of its low half in `regs`).
 * `regs` holds (low, high) halves; r0 is `regs[0..1]`.
 */
export function atomic32(dv: DataView, a: number, imm: number, regs: Int32Array, s: number): void {
  const old = dv.getInt32(a, true);
  if (imm === CMPXCHG) {
    if (old === regs[0]) dv.setInt32(a, regs[s], true);
    regs[0] = old;
    regs[1] = 0;
    return;
  }
  if (imm === LOAD_ACQ) {
    throw new RuntimeFault("load-acquire is not a 32-bit store", -1);
  }
  dv.setInt32(a, op32(imm & ~FETCH, old, regs[s]), true);
  if (imm & FETCH) {
    regs[s] = old;
    regs[s + 1] = 0;
  }
}

/** Runs a 64-bit atomic at `a`; see {@link atomic32}. */
export function atomic64(dv: DataView, a: number, imm: number, regs: Int32Array, s: number): void {
  const lo = dv.getInt32(a, true);
  const hi = dv.getInt32(a + 4, true);
  let nlo = regs[s];
  let nhi = regs[s + 1];
  if (imm === CMPXCHG) {
    if (lo === regs[0] && hi === regs[1]) {
      dv.setInt32(a, nlo, true);
      dv.setInt32(a + 4, nhi, true);
    }
    regs[0] = lo;
    regs[1] = hi;
    return;
  }
  if (imm === LOAD_ACQ || imm === STORE_REL) {
    throw new RuntimeFault("load-acquire/store-release are not supported", -1);
  }
  switch (imm & ~FETCH) {
    case ADD: {
      const sum = (lo >>> 0) + (nlo >>> 0);
      nhi = (hi + nhi + (sum > 0xffffffff ? 1 : 0)) | 0;
      nlo = sum | 0;
      break;
    }
    case OR: nlo |= lo; nhi |= hi; break; // prettier-ignore
    case AND: nlo &= lo; nhi &= hi; break; // prettier-ignore
    case XOR: nlo ^= lo; nhi ^= hi; break; // prettier-ignore
    case XCHG & ~FETCH: break; // prettier-ignore
    default:
      throw new RuntimeFault(`unknown atomic operation 0x${imm.toString(16)}`, -1);
  }
  dv.setInt32(a, nlo, true);
  dv.setInt32(a + 4, nhi, true);
  if (imm & FETCH) {
    regs[s] = lo;
    regs[s + 1] = hi;
  }
}
