import { join } from "node:path";
import { expect, it } from "vitest";
import { loadCollectionFile } from "../src/node.js";
import { toHex } from "../src/runtime/dump.js";
import { PACKETS } from "./fixtures/packets.js";

const hex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));

it("lists a map's entries from the host after runs, and takes host updates", () => {
  const c = loadCollectionFile(join(import.meta.dirname, "fixtures", "parse.bpf.o"));
  const p = c.firstProgram();
  p.run({ data: hex(PACKETS.udp4) });
  p.run({ data: hex(PACKETS.udp4) });
  p.run({ data: hex(PACKETS.tcp4) });
  const counts = c.map("proto_count");
  const entries = [...counts.entries()].map(([k, v]) => [toHex(k), toHex(v)]);
  // key = ip version << 8 | protocol: 0x0411 (UDP) twice, 0x0406 (TCP) once
  expect(entries).toEqual([
    ["11040000", "0200000000000000"],
    ["06040000", "0100000000000000"],
  ]);
  counts.update(hex("11040000"), hex("0a00000000000000"));
  p.run({ data: hex(PACKETS.udp4) });
  expect(toHex(counts.lookup(hex("11040000")) ?? new Uint8Array())).toBe("0b00000000000000");
  expect([...counts.keys()].length).toBe(2);
  c.close();
});
