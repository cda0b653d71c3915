#!/usr/bin/env node
/** The `tsbpf` executable: runs {@link main} on the process's arguments. */
import { reportError } from "./output.js";
import { main } from "./program.js";

// `tsbpf … | head`: a closed pipe ends the output quietly, as for any Unix tool
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw e;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.exitCode = reportError(e, false);
  },
);
