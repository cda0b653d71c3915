import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (f: string) => fileURLToPath(new URL(`./src/${f}`, import.meta.url));

export default defineConfig({
  // the package's own names, as examples/ and users import them, resolve to the sources
  resolve: {
    alias: [
      { find: /^tsbpf$/, replacement: src("index.ts") },
      { find: /^tsbpf\/node$/, replacement: src("node.ts") },
      { find: /^tsbpf\/testing$/, replacement: src("testing/index.ts") },
    ],
  },
  test: {
    include: ["test/**/*.test.ts", "examples/**/*.test.ts"],
    testTimeout: 60_000,
    pool: "forks",
  },
});
