/**
 * The native kernel runner against Linux itself (BPF_PROG_TEST_RUN). Skipped, with the reason
 * printed, where the kernel cannot be used (not Linux, no compiler or libbpf, no bpf()).
 * The numbers are those recorded in test/fixtures/KERNEL-FACTS.md.
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  kernelAvailable,
  KernelRunnerError,
  runInKernel,
  runInKernelAsync,
} from "../src/kernel/runner.js";
import { PACKETS } from "./fixtures/packets.js";

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const u64 = (n: number | bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(n)));
  return b.toString("hex");
};
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b.toString("hex");
};

const avail = kernelAvailable();
if (!avail.ok) console.warn(`kernel-runner tests skipped: ${avail.reason}`);

describe.skipIf(!avail.ok)("kernel runner (Linux BPF_PROG_TEST_RUN)", () => {
  it("a self tail call runs 34 times per run", () => {
    for (const obj of ["tail_self.bpf.o", "tail_self.v4.bpf.o"]) {
      const r = runInKernel(fixture(obj));
      expect(r.retval).toBe(34);
      expect(r.data_out).toBe("22" + "00".repeat(63));
      expect(r.maps.runs).toEqual({ [u32(0)]: u64(34), [u32(1)]: u64(1) });
      expect(r.maps["tail_sel.bss"]).toEqual({ [u32(0)]: u64(34) });
    }
  });

  it("steps run left to right; maps build up across runs", () => {
    const r = runInKernel(fixture("tail_self.bpf.o"), {
      steps: ["--run", "--clear", "jmp_self=0"],
    });
    expect(r.retval).toBe(1); // slot emptied: the first tail call fails
    expect(r.maps.runs).toEqual({ [u32(0)]: u64(35), [u32(1)]: u64(2) });
  });

  it("A -> B -> C: C's return comes back to A as B's", () => {
    const trace = (...v: number[]) => v.map(u64).join("");
    const r = runInKernel(fixture("tail_subprog.bpf.o"));
    expect(r.retval).toBe(1042);
    expect(r.maps["tail_sub.bss"]).toEqual({ [u32(0)]: trace(1, 1, 0, 1, 42, 1) });
    const empty = runInKernel(fixture("tail_subprog.bpf.o"), { steps: ["--clear", "jmp_c=0"] });
    expect(empty.retval).toBe(999);
    expect(empty.maps["tail_sub.bss"]).toEqual({ [u32(0)]: trace(1, 1, 1, 0, -1, 1) });
  });

  it("one budget shared by subprograms; failed calls spend none", () => {
    const b = runInKernel(fixture("tail_budget.bpf.o"));
    expect(b.retval).toBe(34);
    expect(b.maps.budget).toEqual({
      [u32(0)]: u64(34),
      [u32(1)]: u64(17),
      [u32(2)]: u64(17),
      [u32(4)]: u64(1),
      [u32(5)]: u64(17),
    });
    const f = runInKernel(fixture("tail_fail.bpf.o"));
    expect(f.retval).toBe(33);
    const paths = Object.fromEntries([0, 1, 2, 3, 4, 5, 6].map((i) => [u32(i), u64(1)]));
    expect(f.maps.paths).toEqual({ ...paths, [u32(8)]: u64(33) });
  });

  it("reports packets, contexts and per-CPU values", async () => {
    const udp4 = PACKETS.udp4;
    const p = await runInKernelAsync(fixture("parse.bpf.o"), { data: udp4 });
    expect(p.retval).toBe(2);
    expect(p.data_out).toBe(udp4.replace("4011128d", "3f11138d")); // TTL 64 -> 63
    expect(p.maps.proto_count).toEqual({ [u32(0x411)]: u64(1) });
    expect(p.maps.port_count).toEqual({ [u32(53)]: u64(1) });

    const s = runInKernel(fixture("skb.bpf.o"), { prog: "skb_fields" });
    expect(s.ctx_out.length).toBe(2 * 192);
    expect(s.ctx_out.slice(2 * 8, 2 * 12)).toBe(u32(0x100)); // mark
    expect(s.ctx_out.slice(2 * 40, 2 * 44)).toBe(u32(1)); // ifindex: loopback

    const m = runInKernel(fixture("maps.bpf.o"));
    const pcpu = m.maps.pcpu_arr[u32(0)];
    expect(pcpu.length % 16).toBe(0); // 8 bytes per possible CPU
    expect(pcpu.slice(0, 16)).toBe(u64(5)); // CPU 0: the runner pins itself there
  });

  it("fails with the runner's message", () => {
    expect(() => runInKernel(fixture("tail_self.bpf.o"), { prog: "nope" })).toThrow(
      new KernelRunnerError("no program named 'nope'"),
    );
    expect(() => runInKernel(fixture("missing.bpf.o"))).toThrow(/cannot open/);
  });
});
