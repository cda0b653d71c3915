/**
 * The README's TypeScript snippets run as written (from the repository root, with the package
 * names resolved to the sources): a snippet that drifts from the API fails here. The vitest
 * snippet is the firewall suite's first case and runs with examples/firewall/firewall.test.ts.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { ROOT } from "./cli-harness.js";

const readme = readFileSync(join(ROOT, "README.md"), "utf8");
const snippets = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)]
  .map((m) => m[1])
  .filter((code) => !code.includes('from "vitest"'));
const dir = mkdtempSync(join(tmpdir(), "tsbpf-readme-"));

it("has API snippets", () => {
  expect(snippets.length).toBeGreaterThanOrEqual(3);
});

it.each(snippets.map((code, i) => [i, code] as const))("snippet %i runs", (i, code) => {
  const file = join(dir, `snippet${i}.ts`);
  writeFileSync(file, code);
  const r = spawnSync(process.execPath, ["--import", "tsx", file], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, TSX_TSCONFIG_PATH: join(ROOT, "tsconfig.json") },
  });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
});
