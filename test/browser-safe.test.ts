/**
 * The core (`tsbpf`, src/index.ts) must run in browsers: nothing it imports, directly or not,
 * may import a Node module. Node-only parts (src/node.ts, src/kernel, src/cli) stay outside.
 */
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { expect, it } from "vitest";

const SPECIFIER =
  /(?:import|export)\s[^"']*?from\s+["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)|import\s+["']([^"']+)["']/g;

function graph(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const todo = [entry];
  while (todo.length > 0) {
    const file = todo.pop() as string;
    if (seen.has(file)) continue;
    const deps: string[] = [];
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(SPECIFIER)) {
      const spec = m[1] ?? m[2] ?? m[3];
      deps.push(spec);
      if (spec.startsWith(".")) todo.push(resolve(dirname(file), spec.replace(/\.js$/, ".ts")));
    }
    seen.set(file, deps);
  }
  return seen;
}

it("keeps Node modules out of the core's import graph", () => {
  const g = graph(join(import.meta.dirname, "..", "src", "index.ts"));
  expect(g.size).toBeGreaterThan(30);
  const offenders = [...g].flatMap(([file, deps]) =>
    deps
      .filter((d) => d.startsWith("node:") || ["fs", "path", "child_process", "os"].includes(d))
      .map((d) => `${file}: ${d}`),
  );
  expect(offenders).toEqual([]);
  const files = [...g.keys()].map((f) => f.replace(/.*\/src\//, ""));
  expect(
    files.filter((f) => f.startsWith("cli/") || f.startsWith("kernel/") || f === "node.ts"),
  ).toEqual([]);
});
