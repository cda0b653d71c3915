/**
 * What BPF_PROG_TEST_RUN refuses as input for skb programs (measured: test/fixtures/KERNEL-FACTS.md,
 * section 2.2): data shorter than an Ethernet header, or than the network header its EtherType
 * names (IPv4: 14 + 20 bytes, IPv6: 14 + 40), on tc and socket programs and every engine.
 */
import { describe, expect, it } from "vitest";
import { loadCollectionFile } from "../src/node.js";
import { availableEngines } from "./engines.js";
import { fx } from "./spec-harness.js";

/** `n` bytes of zeros with EtherType `type`. */
function frame(n: number, type: number): Uint8Array {
  const d = new Uint8Array(n);
  if (n >= 14) [d[12], d[13]] = [type >> 8, type & 0xff];
  return d;
}

describe("skb test runs: the input BPF_PROG_TEST_RUN refuses", () => {
  const cases: [number, number, boolean][] = [
    [0x0800, 33, false],
    [0x0800, 34, true],
    [0x86dd, 53, false],
    [0x86dd, 54, true],
    [0x8100, 15, true],
    [0x0806, 19, true],
    [0x0806, 13, false],
  ];
  for (const engine of availableEngines()) {
    for (const prog of ["skb_fields", "sock_fields"]) {
      it(`${prog} on ${engine}`, () => {
        const c = loadCollectionFile(fx("skb.bpf.o"), { engine });
        const p = c.program(prog);
        for (const [type, n, ok] of cases) {
          const run = () => p.run({ data: frame(n, type) });
          if (ok) expect(run, `${n} bytes, 0x${type.toString(16)}`).not.toThrow();
          else expect(run, `${n} bytes, 0x${type.toString(16)}`).toThrow(/EINVAL/);
        }
        c.close();
      });
    }
  }
});
