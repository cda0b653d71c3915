// Every input that once broke the contract (an untyped exception, a hang, memory growth, a
// crash of the process) is kept in test/fuzz/regressions/ and replayed here against the same
// oracle as the fuzzers. scripts/fuzz.ts writes new ones there; see the README in that folder.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { fuzzBytecode, fuzzObject } from "./fuzz/harness.js";
import { checkMapOps } from "./fuzz/map-program.js";
import { parseMapOps, replayPacket } from "./fuzz/targets.js";

const dir = fileURLToPath(new URL("./fuzz/regressions/", import.meta.url));
const files = readdirSync(dir).sort();
const read = (f: string): Uint8Array => new Uint8Array(readFileSync(dir + f));

/** The replay of each regression file, by its extension. */
function replay(f: string): (() => void) | undefined {
  if (f.endsWith(".o")) return () => fuzzObject(read(f));
  if (f.endsWith(".bin")) {
    const mem = f.replace(/\.bin$/, ".mem");
    return () => fuzzBytecode(read(f), existsSync(dir + mem) ? read(mem) : undefined);
  }
  if (f.endsWith(".packet.json")) {
    return () => {
      const p = JSON.parse(readFileSync(dir + f, "utf8")) as {
        fixture: string;
        program: string;
        data: string;
        ctx: string | null;
        repeat: number;
      };
      const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, "hex"));
      replayPacket({ ...p, data: hex(p.data), ctx: p.ctx === null ? null : hex(p.ctx) });
    };
  }
  if (f.endsWith(".maps.json"))
    return () => checkMapOps(parseMapOps(readFileSync(dir + f, "utf8")));
  return undefined;
}

describe("fuzz regressions", () => {
  const cases = files.flatMap((f) => {
    const r = replay(f);
    return r ? [[f, r] as const] : [];
  });
  it("has regression inputs", () => {
    expect(cases.length).toBeGreaterThan(0);
  });
  for (const [f, run] of cases) it(f, run);
});
