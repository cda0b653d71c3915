/**
 * The native kernel runner, from Node: builds `native/kernel-runner.c` against the system's
 * libbpf on first use, caches the binary, and runs objects in the Linux kernel with
 * BPF_PROG_TEST_RUN. Node-only (child processes, the file system): core code never imports
 * this module.
 *
 * The runner prints one JSON object, the same shape as `tsbpf run --json` plus `ctx_out`;
 * see native/kernel-runner.c for its command line.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** What the runner printed for one run. Keys and values are lowercase hex of the raw bytes. */
export interface KernelRunResult {
  /** The low 32 bits of r0, unsigned. */
  retval: number;
  /** Mean per run over `repeat`, as the kernel measured it. */
  duration_ns: number;
  /** The packet after the run ("" for program types that take no packet). */
  data_out: string;
  /** The context after the run ("" when the program type or the input gives none back). */
  ctx_out: string;
  /**
   * Map name (as libbpf names it) → key hex → value hex. Array maps omit all-zero values;
   * per-CPU values are every possible CPU's value concatenated; prog_array, maps of maps,
   * queue, stack, ringbuf, perf_event_array and bloom_filter maps are left out.
   */
  maps: Record<string, Record<string, string>>;
}

export interface KernelRunOptions {
  /** Program name (or section name); default: the object's first program. */
  prog?: string;
  /** Packet bytes (or hex); default: 64 zero bytes. */
  data?: Uint8Array | string;
  /** Context bytes (or hex), as test_run's ctx_in. */
  ctx?: Uint8Array | string;
  repeat?: number;
  /**
   * Steps applied left to right before the reported run, as runner arguments:
   * `["--slots", "jmp=0:prog", "--run", "--clear", "jmp=0"]` (see `stepArgs` in src/cli).
   */
  steps?: readonly string[];
  /** Kill the runner after this long (default 60 s). */
  timeoutMs?: number;
}

export type KernelAvailability = { ok: true } | { ok: false; reason: string };

/** A runner failure: the runner's own message (with the verifier log when a load failed). */
export class KernelRunnerError extends Error {
  override name = "KernelRunnerError";
}

const SOURCE = resolve(dirname(fileURLToPath(import.meta.url)), "../../native/kernel-runner.c");
const PACKAGE_ROOT = resolve(dirname(SOURCE), "..");

/** Where built runners are kept: $TSBPF_CACHE_DIR, node_modules/.cache/tsbpf, or the XDG cache. */
function cacheDir(): string {
  if (process.env.TSBPF_CACHE_DIR) return process.env.TSBPF_CACHE_DIR;
  const nodeModules = join(PACKAGE_ROOT, "node_modules");
  if (existsSync(nodeModules)) return join(nodeModules, ".cache", "tsbpf");
  const xdg = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(xdg, "tsbpf");
}

/** The first C compiler that answers: $CC, cc, gcc. */
function findCompiler(): string | undefined {
  for (const cc of [process.env.CC, "cc", "gcc"]) {
    if (cc && spawnSync(cc, ["--version"], { stdio: "ignore" }).status === 0) return cc;
  }
  return undefined;
}

/** Linker flags for libbpf: pkg-config's answer when it has one. */
function libbpfLibs(): string[] {
  const r = spawnSync("pkg-config", ["--libs", "libbpf"], { encoding: "utf8" });
  const libs = r.status === 0 ? r.stdout.trim().split(/\s+/).filter(Boolean) : [];
  return [...new Set([...libs, "-lbpf", "-lelf", "-lz"])];
}

let builtPath: string | undefined;

/**
 * Builds the runner if needed and returns the binary's path. The binary is keyed by a hash of
 * the C source, the compiler and the flags, so a changed source is rebuilt. Throws a
 * KernelRunnerError with the compiler's output when the build fails.
 */
export function buildKernelRunner(): string {
  if (builtPath) return builtPath;
  if (process.platform !== "linux") throw new KernelRunnerError(`not Linux (${process.platform})`);
  if (!existsSync(SOURCE)) throw new KernelRunnerError(`runner source not found: ${SOURCE}`);
  const cc = findCompiler();
  if (!cc) throw new KernelRunnerError("no C compiler found (tried $CC, cc, gcc)");
  const flags = ["-O2", "-Wall"];
  const libs = libbpfLibs();
  const hash = createHash("sha256")
    .update(readFileSync(SOURCE))
    .update(JSON.stringify([cc, flags, libs]))
    .digest("hex")
    .slice(0, 16);
  const dir = cacheDir();
  const bin = join(dir, `kernel-runner-${hash}`);
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${bin}.${process.pid}.tmp`;
    const r = spawnSync(cc, [...flags, "-o", tmp, SOURCE, ...libs], { encoding: "utf8" });
    if (r.status !== 0) {
      rmSync(tmp, { force: true });
      const why = r.error ? r.error.message : r.stderr.trim();
      throw new KernelRunnerError(`building the kernel runner failed (${cc}):\n${why}`);
    }
    renameSync(tmp, bin); // atomic: concurrent builders agree on the result
  }
  builtPath = bin;
  return bin;
}

let availability: KernelAvailability | undefined;

/**
 * Whether objects can run in this kernel: Linux, a C compiler, libbpf's headers and library,
 * and a bpf() that lets this process load and test-run a trivial XDP program. Cached.
 */
export function kernelAvailable(): KernelAvailability {
  if (availability) return availability;
  try {
    const r = spawnSync(buildKernelRunner(), ["--probe"], { encoding: "utf8", timeout: 30_000 });
    availability =
      r.status === 0 ? { ok: true } : { ok: false, reason: runnerMessage(r.stdout, r.stderr) };
  } catch (e) {
    availability = { ok: false, reason: (e as Error).message };
  }
  return availability;
}

const toHex = (v: Uint8Array | string): string =>
  typeof v === "string" ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex");

/** The runner's command line for one object and options. */
export function kernelRunnerArgs(objPath: string, opts: KernelRunOptions = {}): string[] {
  const args = [objPath];
  if (opts.prog !== undefined) args.push("--prog", opts.prog);
  if (opts.data !== undefined) args.push("--data", toHex(opts.data));
  if (opts.ctx !== undefined) args.push("--ctx", toHex(opts.ctx));
  if (opts.repeat !== undefined) args.push("--repeat", String(opts.repeat));
  return [...args, ...(opts.steps ?? [])];
}

/** The error text of a failed runner: its JSON `error`, else its stderr. */
function runnerMessage(stdout: string, stderr: string): string {
  try {
    const j = JSON.parse(stdout) as { error?: unknown };
    if (typeof j.error === "string") return j.error;
  } catch {
    // not JSON: fall through
  }
  return stderr.trim() || stdout.trim() || "kernel runner failed";
}

function parseResult(status: number | null, stdout: string, stderr: string): KernelRunResult {
  if (status !== 0) throw new KernelRunnerError(runnerMessage(stdout, stderr));
  let j: KernelRunResult & { error?: string };
  try {
    j = JSON.parse(stdout) as KernelRunResult & { error?: string };
  } catch {
    throw new KernelRunnerError(`kernel runner printed no JSON: ${stdout.slice(0, 200)}`);
  }
  if (j.error !== undefined) throw new KernelRunnerError(j.error);
  return j;
}

/** Loads `objPath` in the kernel, applies the steps, runs once (or `repeat` times), reports. */
export function runInKernel(objPath: string, opts: KernelRunOptions = {}): KernelRunResult {
  const r = spawnSync(buildKernelRunner(), kernelRunnerArgs(objPath, opts), {
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    timeout: opts.timeoutMs ?? 60_000,
  });
  if (r.error) throw new KernelRunnerError(`kernel runner: ${r.error.message}`);
  return parseResult(r.status, r.stdout, r.stderr);
}

/** runInKernel without blocking the event loop. */
export async function runInKernelAsync(
  objPath: string,
  opts: KernelRunOptions = {},
): Promise<KernelRunResult> {
  const r = await spawnRunner(kernelRunnerArgs(objPath, opts), undefined, opts.timeoutMs ?? 60_000);
  return parseResult(r.status, r.stdout, r.stderr);
}

/** Runs the runner with `args` (and `input` on stdin) without blocking; collects its output. */
function spawnRunner(
  args: string[],
  input: string | undefined,
  timeoutMs: number,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    let bin: string;
    try {
      bin = buildKernelRunner();
    } catch (e) {
      reject(e);
      return;
    }
    const child = spawn(bin, args, {
      stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      timeout: timeoutMs,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (b: Buffer) => out.push(b));
    child.stderr?.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) => reject(new KernelRunnerError(`kernel runner: ${e.message}`)));
    child.on("close", (status) =>
      resolvePromise({
        status,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      }),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

// ---- raw mode: hand-built programs and maps ------------------------------------------------

/** A map of a {@link KernelRawCase}, created with bpf_map_create. */
export interface KernelRawMap {
  /** The name the dump uses (the kernel gets it sanitised and cut to 15 bytes). */
  name: string;
  /** Linux `BPF_MAP_TYPE_*`. */
  type: number;
  key_size: number;
  value_size: number;
  max_entries: number;
  /** `BPF_F_*` map flags (default 0). */
  flags?: number;
}

/** A program of a {@link KernelRawCase}, loaded with bpf_prog_load. */
export interface KernelRawProg {
  name: string;
  /**
   * Raw little-endian instructions in hex. An `lddw` with src_reg 1 (BPF_PSEUDO_MAP_FD) or 2
   * (BPF_PSEUDO_MAP_VALUE) names a map by its index in {@link KernelRawCase.maps} in its imm.
   */
  insns: string;
  /** `BPF_PROG_TYPE_*`, when not the case's. */
  prog_type?: number;
  /** Expected attach type (default 0). */
  attach_type?: number;
  /** `BPF_F_*` load flags (default 0). */
  flags?: number;
}

/**
 * One raw-mode case: maps, programs, prog_array slots, map entries, and the test run of the
 * entry program. See "raw mode" in native/kernel-runner.c.
 */
export interface KernelRawCase {
  /** `BPF_PROG_TYPE_*` of every program (default XDP, 6). */
  prog_type?: number;
  maps: KernelRawMap[];
  progs: KernelRawProg[];
  /** prog_array slots to fill, after every program loaded: map index, slot, program index. */
  slots?: { map: number; index: number; prog: number }[];
  /** Map entries to write before the run (hex key and value, flags default BPF_ANY). */
  updates?: { map: number; key: string; value: string; flags?: number }[];
  /** Index of the program to run (default 0). */
  entry?: number;
  /** Packet in hex (default 64 zero bytes). */
  data?: string;
  /** Context in hex. */
  ctx?: string;
  repeat?: number;
  /**
   * Possible CPUs of the machine the case is meant for. The runner ignores it (the kernel has
   * its own); a model of the kernel needs it for the layout of per-CPU values.
   */
  num_cpus?: number;
}

/** A raw-mode case that failed: where, why, and for a rejected program the verifier's log. */
export interface KernelRawError {
  error: string;
  /** What failed: creating a map, loading a program, filling a slot, an update, the run. */
  stage: "map" | "load" | "slots" | "update" | "run";
  errno: number;
  /** Index of the program concerned. */
  prog?: number;
  /** The last 4 KiB of the verifier's log (stage "load"). */
  verifier_log?: string;
}

/** What the runner printed for one raw case. */
export type KernelRawOutcome = KernelRunResult | KernelRawError;

/** The kernel's possible CPUs (/sys/devices/system/cpu/possible), or 1 when unknown. */
export function possibleCpus(): number {
  try {
    const text = readFileSync("/sys/devices/system/cpu/possible", "utf8").trim();
    let n = 0;
    for (const part of text.split(",")) {
      const [a, b] = part.split("-").map(Number);
      n += b === undefined ? 1 : b - a + 1;
    }
    return n > 0 ? n : 1;
  } catch {
    return 1;
  }
}

/** Whether a raw outcome is a failure. */
export function isRawError(o: KernelRawOutcome): o is KernelRawError {
  return (o as Partial<KernelRawError>).error !== undefined;
}

function parseRawResults(
  status: number | null,
  stdout: string,
  stderr: string,
  count: number,
): KernelRawOutcome[] {
  if (status !== 0) throw new KernelRunnerError(runnerMessage(stdout, stderr));
  let j: unknown;
  try {
    j = JSON.parse(stdout);
  } catch {
    throw new KernelRunnerError(`kernel runner printed no JSON: ${stdout.slice(0, 200)}`);
  }
  if (!Array.isArray(j) || j.length !== count) {
    throw new KernelRunnerError(`kernel runner printed ${stdout.slice(0, 200)} for ${count} cases`);
  }
  return j as KernelRawOutcome[];
}

/**
 * Runs raw cases (hand-built maps and programs, no object file) in the kernel, all in one runner
 * process, and returns one outcome per case, in order. A case the kernel refuses (a verifier
 * rejection, a failed run) gives a {@link KernelRawError}; malformed input throws.
 */
export function runRawInKernel(
  cases: readonly KernelRawCase[],
  opts: { timeoutMs?: number } = {},
): KernelRawOutcome[] {
  if (cases.length === 0) return [];
  const r = spawnSync(buildKernelRunner(), ["--raw", "-"], {
    input: JSON.stringify({ cases }),
    encoding: "utf8",
    maxBuffer: 1024 * 1024 * 1024,
    timeout: opts.timeoutMs ?? 120_000,
  });
  if (r.error) throw new KernelRunnerError(`kernel runner: ${r.error.message}`);
  return parseRawResults(r.status, r.stdout, r.stderr, cases.length);
}

/** runRawInKernel without blocking the event loop. */
export async function runRawInKernelAsync(
  cases: readonly KernelRawCase[],
  opts: { timeoutMs?: number } = {},
): Promise<KernelRawOutcome[]> {
  if (cases.length === 0) return [];
  const r = await spawnRunner(["--raw", "-"], JSON.stringify({ cases }), opts.timeoutMs ?? 120_000);
  return parseRawResults(r.status, r.stdout, r.stderr, cases.length);
}
