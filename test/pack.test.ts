/**
 * The published package: `npm pack --dry-run` lists the build, the kernel runner's C source,
 * README and LICENSE — no sources, tests, fixtures or examples — and package.json's
 * `exports` point at files that are in it.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ROOT } from "./cli-harness.js";

interface PackEntry {
  files: { path: string }[];
}

const built = existsSync(`${ROOT}/dist/index.js`);
if (!built) console.warn("pack test skipped: no dist/ (run npm run build)");

describe.skipIf(!built)("npm pack", () => {
  const out = built
    ? execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
        cwd: ROOT,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      })
    : "[]";
  const files = built ? (JSON.parse(out) as PackEntry[])[0].files.map((f) => f.path) : [];
  const pkg = JSON.parse(readFileSync(`${ROOT}/package.json`, "utf8"));

  it("ships the build, the kernel runner's source, README and LICENSE", () => {
    for (const f of [
      "package.json",
      "README.md",
      "LICENSE",
      "native/kernel-runner.c",
      "dist/index.js",
      "dist/index.d.ts",
      "dist/node.js",
      "dist/testing/index.js",
      "dist/testing/index.d.ts",
      "dist/cli/main.js",
    ]) {
      expect(files).toContain(f);
    }
  });

  it("ships no sources, tests, fixtures, examples or source maps", () => {
    const stray = files.filter(
      (f) =>
        /^(src|test|examples|bench|scripts|docs)\//.test(f) ||
        /fixtures|\.test\.|\.map$|\.bpf\.[co]$/.test(f),
    );
    expect(stray).toEqual([]);
  });

  it("exports '.', './node' and './testing' with types, and the bin", () => {
    for (const key of [".", "./node", "./testing"]) {
      const e = pkg.exports[key];
      expect(files).toContain(e.import.replace(/^\.\//, ""));
      expect(files).toContain(e.types.replace(/^\.\//, ""));
    }
    expect(files).toContain(pkg.bin.tsbpf);
    expect(pkg.engines.node).toMatch(/>=\s*20/);
    expect(pkg.type).toBe("module");
  });
});
