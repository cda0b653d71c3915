import { describe, expect, it } from "vitest";
import { BPF_FUNC as F } from "../src/helpers/index.js";
import { MemoryAccessError, RuntimeFault } from "../src/errors.js";
import { Bench, le32 } from "./helpers-harness.js";

const READS = [F.probe_read, F.probe_read_user, F.probe_read_kernel];
const STR_READS = [F.probe_read_str, F.probe_read_user_str, F.probe_read_kernel_str];

describe("bpf_probe_read*", () => {
  it("copies readable memory and returns 0", () => {
    const b = new Bench();
    const src = b.region(8, [1, 2, 3, 4, 5, 6, 7, 8], true);
    for (const id of READS) {
      const dst = b.region(8);
      expect(b.int(id, dst, 6, src + 1)).toBe(0);
      expect(b.read(dst, 8)).toEqual([2, 3, 4, 5, 6, 7, 0, 0]);
      expect(b.int(id, dst, 0, 0)).toBe(0);
    }
  });

  it("zero-fills the destination and returns -EFAULT for an unreadable source", () => {
    const b = new Bench();
    const src = b.region(4, [1, 2, 3, 4]);
    for (const id of READS) {
      const dst = b.region(8, [9, 9, 9, 9, 9, 9, 9, 9]);
      expect(b.int(id, dst, 8, src)).toBe(-14); // crosses the end of the source
      expect(b.read(dst, 8)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
      b.write(dst, [9, 9]);
      expect(b.int(id, dst, 2, 0)).toBe(-14); // NULL
      expect(b.read(dst, 2)).toEqual([0, 0]);
      expect(b.int(id, dst, 2, BigInt(src) | (1n << 32n))).toBe(-14);
    }
  });

  it("faults on a destination the program may not write", () => {
    const b = new Bench();
    const src = b.region(8);
    const ro = b.region(8, undefined, true);
    const small = b.region(4);
    for (const id of [...READS, ...STR_READS]) {
      expect(() => b.call(id, ro, 4, src)).toThrow(MemoryAccessError);
      expect(() => b.call(id, small, 8, src)).toThrow(/r1 \(dst\)/);
      expect(() => b.call(id, 0, 1, src)).toThrow(MemoryAccessError);
    }
  });
});

describe("bpf_probe_read*_str", () => {
  it("copies up to the NUL and returns the length with it", () => {
    const b = new Bench();
    const s = b.str("hello", true);
    for (const id of STR_READS) {
      const dst = b.region(16, new Array(16).fill(0xee));
      expect(b.int(id, dst, 16, s)).toBe(6);
      expect(b.read(dst, 8)).toEqual([...Buffer.from("hello"), 0, 0xee, 0xee]);
      // truncated: size - 1 bytes and a NUL
      expect(b.int(id, dst, 4, s)).toBe(4);
      expect(b.read(dst, 5)).toEqual([...Buffer.from("hel"), 0, 0x6f]); // byte 4 untouched
      expect(b.int(id, dst, 1, s)).toBe(1);
      expect(b.read(dst, 1)).toEqual([0]);
      expect(b.int(id, dst, 0, s)).toBe(0);
      // exactly fitting string
      expect(b.int(id, dst, 6, s)).toBe(6);
      expect(b.read(dst, 6)).toEqual([...Buffer.from("hello"), 0]);
    }
  });

  it("reads a string ending at the end of its region, but not past it", () => {
    const b = new Bench();
    const noNul = b.region(3, [0x61, 0x62, 0x63]);
    const withNul = b.str("ab");
    for (const id of STR_READS) {
      const dst = b.region(8, new Array(8).fill(0xee));
      expect(b.int(id, dst, 8, withNul)).toBe(3);
      expect(b.int(id, dst, 8, noNul)).toBe(-14);
      expect(b.read(dst, 8)).toEqual(new Array(8).fill(0));
      expect(b.int(id, dst, 3, noNul)).toBe(3); // within the readable bytes: truncated
      expect(b.read(dst, 3)).toEqual([0x61, 0x62, 0]);
      expect(b.int(id, dst, 8, 0)).toBe(-14);
    }
  });
});

describe("bpf_strncmp", () => {
  it("returns -1, 0 or 1 as the kernel's strncmp", () => {
    const b = new Bench();
    const s1 = b.region(8, [...Buffer.from("abcd"), 0, 0, 0, 0]);
    const cases: Array<[string, number, number]> = [
      ["abcd", 5, 0],
      ["abce", 5, -1],
      ["abcc", 5, 1],
      ["abcz", 3, 0],
      ["ab", 5, 1],
      ["abcdef", 5, -1],
      ["", 0, 0],
      ["\xff", 1, -1], // unsigned comparison
    ];
    for (const [s2, n, want] of cases) {
      const p = b.region(s2.length + 1, [...Buffer.from(s2, "latin1"), 0], true);
      expect(b.int(F.strncmp, s1, n, p)).toBe(want);
    }
  });

  it("checks s1 for s1_sz bytes and s2 as far as it is read", () => {
    const b = new Bench();
    const s1 = b.region(4, [...Buffer.from("abc"), 0]);
    const s2 = b.region(2, [0x61, 0x62]); // no NUL
    expect(() => b.call(F.strncmp, s1, 5, s2)).toThrow(/r1 \(s1\)/);
    expect(b.int(F.strncmp, s1, 2, s2)).toBe(0);
    expect(() => b.call(F.strncmp, s1, 4, s2)).toThrow(/r3 \(s2\)/);
  });
});

describe("process, time and CPU helpers", () => {
  it("answers from the host services", () => {
    const b = new Bench({ cpu: 3 }, 4);
    expect(b.call(F.ktime_get_ns)).toBe(123_456_789_012n);
    expect(b.call(F.ktime_get_coarse_ns)).toBe(123_456_789_012n);
    expect(b.call(F.ktime_get_boot_ns)).toBe(0x1_0000_0002n);
    expect(b.call(F.get_prandom_u32)).toBe(0xdeadbeefn);
    expect(b.call(F.get_smp_processor_id)).toBe(3n);
    expect(b.call(F.get_numa_node_id)).toBe(0n);
    expect(b.call(F.get_current_pid_tgid)).toBe((4242n << 32n) | 4243n);
    expect(b.call(F.get_current_uid_gid)).toBe((1000n << 32n) | 1001n);
    const big = new Bench({ ktimeNs: () => 0xffff_ffff_ffff_fffen });
    expect(big.call(F.ktime_get_ns)).toBe(0xffff_ffff_ffff_fffen);
  });

  it("copies comm NUL-padded, at most 15 bytes", () => {
    const b = new Bench({ comm: "a-very-long-process-name" });
    const buf = b.region(20, new Array(20).fill(0xee));
    expect(b.int(F.get_current_comm, buf, 20)).toBe(0);
    expect(b.read(buf, 20)).toEqual([...Buffer.from("a-very-long-pro"), 0, 0, 0, 0, 0]);
    b.write(buf, new Array(20).fill(0xee));
    expect(b.int(F.get_current_comm, buf, 4)).toBe(0);
    expect(b.read(buf, 5)).toEqual([...Buffer.from("a-v"), 0, 0xee]);
    const s = new Bench({ comm: "ab" });
    const buf2 = s.region(8, new Array(8).fill(0xee));
    expect(s.int(F.get_current_comm, buf2, 8)).toBe(0);
    expect(s.read(buf2, 8)).toEqual([0x61, 0x62, 0, 0, 0, 0, 0, 0]);
    expect(() => s.call(F.get_current_comm, buf2, 9)).toThrow(/r1 \(buf\)/);
  });
});

describe("bpf_spin_lock / bpf_spin_unlock", () => {
  it("takes and releases a lock word, faulting on deadlock and double unlock", () => {
    const b = new Bench();
    const lock = b.region(8);
    expect(b.int(F.spin_lock, lock)).toBe(0);
    expect(b.read(lock, 4)).toEqual(le32(1));
    expect(() => b.call(F.spin_lock, lock)).toThrow(RuntimeFault);
    expect(() => b.call(F.spin_lock, lock)).toThrow(/already held/);
    expect(b.int(F.spin_unlock, lock)).toBe(0);
    expect(b.read(lock, 4)).toEqual(le32(0));
    expect(() => b.call(F.spin_unlock, lock)).toThrow(/not held/);
    const ro = b.region(4, undefined, true);
    expect(() => b.call(F.spin_lock, ro)).toThrow(MemoryAccessError);
  });
});
