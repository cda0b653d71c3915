/**
 * The shrinker: makes a mismatching case small. It tries edits from coarse to fine (drop a
 * program, a slot, a map entry, a node, a branch, a loop, one instruction; simplify the input),
 * keeps the first edit after which the kernel still accepts the case and the engine still
 * disagrees with it in the same way, and starts over until no edit helps. Candidates go to the
 * kernel in batches, so a round costs one runner process.
 */
import {
  isRawError,
  runRawInKernel,
  type KernelRawCase,
  type KernelRawOutcome,
  type KernelRunResult,
} from "../../src/kernel/runner.js";
import type { EngineName } from "../../src/runtime/engine.js";
import {
  caseSize,
  CompileError,
  compileCase,
  reachableFns,
  type FuzzCase,
  type Node,
} from "./ir.js";
import { findNondeterminism } from "./determinism.js";
import { compareOutcome, runRawInTsbpf, type Diff } from "./tsbpf-run.js";

/** The kind of a difference: `retval`, `data_out`, `maps.NAME` or `error`. */
export function diffClass(d: Diff): string {
  return d.field.replace(/\[.*$/, "");
}

/** What the shrinker returns: the smallest case found and its outcomes. */
export interface Shrunk {
  fuzz: FuzzCase;
  raw: KernelRawCase;
  kernel: KernelRunResult;
  diffs: Diff[];
  /** Edits kept, and candidates tried. */
  steps: number;
  tried: number;
}

/** An edit of a (cloned) case; false when it does not apply. */
type Edit = (c: FuzzCase) => boolean;

/** Every node list of a case, in a fixed order, as paths from the case. */
function nodeLists(c: FuzzCase): { get: (c: FuzzCase) => Node[] }[] {
  const out: { get: (c: FuzzCase) => Node[] }[] = [];
  const walk = (get: (c: FuzzCase) => Node[], list: Node[]) => {
    out.push({ get });
    list.forEach((n, j) => {
      if (n.t === "if") {
        walk((c) => (get(c)[j] as Extract<Node, { t: "if" }>).then, n.then);
        const els = n.else;
        if (els !== undefined) {
          walk((c) => (get(c)[j] as Extract<Node, { t: "if" }>).else as Node[], els);
        }
      } else if (n.t === "loop") {
        walk((c) => (get(c)[j] as Extract<Node, { t: "loop" }>).body, n.body);
      }
    });
  };
  c.progs.forEach((p, pi) =>
    p.fns.forEach((f, fi) => walk((c) => c.progs[pi].fns[fi].body, f.body)),
  );
  return out;
}

/** The edits worth trying on `c`, coarse ones first. */
function edits(c: FuzzCase): Edit[] {
  const out: Edit[] = [];
  for (let pi = c.progs.length - 1; pi >= 1; pi--) {
    out.push((c) => {
      c.progs.splice(pi, 1);
      c.slots = c.slots
        .filter((s) => s.prog !== pi)
        .map((s) => ({ ...s, prog: s.prog > pi ? s.prog - 1 : s.prog }));
      return true;
    });
  }
  c.slots.forEach((_, i) => out.push((c) => c.slots.splice(i, 1).length === 1));
  c.updates.forEach((_, i) => out.push((c) => c.updates.splice(i, 1).length === 1));
  const lists = nodeLists(c);
  // whole nodes, then branches and loops, then single instructions
  for (const l of lists) {
    l.get(c).forEach((n, j) => {
      if (n.t === "ins" && n.fixed) return;
      out.push((c) => l.get(c).splice(j, 1).length === 1);
    });
  }
  for (const l of lists) {
    l.get(c).forEach((n, j) => {
      if (n.t === "if") {
        out.push((c) => {
          const m = l.get(c)[j] as Extract<Node, { t: "if" }>;
          l.get(c).splice(j, 1, ...m.then);
          return true;
        });
        if (n.else !== undefined) {
          out.push((c) => {
            const m = l.get(c)[j] as Extract<Node, { t: "if" }>;
            l.get(c).splice(j, 1, ...(m.else ?? []));
            return true;
          });
          out.push((c) => {
            delete (l.get(c)[j] as Extract<Node, { t: "if" }>).else;
            return true;
          });
        }
      } else if (n.t === "loop") {
        out.push((c) => {
          const m = l.get(c)[j] as Extract<Node, { t: "loop" }>;
          l.get(c).splice(j, 1, ...m.body);
          return true;
        });
        if (n.n > 1) {
          out.push((c) => {
            (l.get(c)[j] as Extract<Node, { t: "loop" }>).n = 1;
            return true;
          });
        }
      }
    });
  }
  for (const l of lists) {
    l.get(c).forEach((n, j) => {
      if (n.t !== "ins" || n.fixed || n.ins.length < 2) return;
      n.ins.forEach((_, k) => {
        out.push((c) => (l.get(c)[j] as Extract<Node, { t: "ins" }>).ins.splice(k, 1).length === 1);
      });
    });
  }
  if (c.repeat > 1) out.push((c) => ((c.repeat = 1), true));
  if (c.data.length > 28) out.push((c) => ((c.data = c.data.slice(0, 28)), true));
  if (/[^0]/.test(c.data)) out.push((c) => ((c.data = "0".repeat(c.data.length)), true));
  return out;
}

/** Applies an edit to a copy; undefined when it does not apply or the result does not compile. */
function candidate(c: FuzzCase, e: Edit): { fuzz: FuzzCase; raw: KernelRawCase } | undefined {
  const copy = structuredClone(c);
  if (!e(copy)) return undefined;
  for (const p of copy.progs) p.fns = reachableFns(p.fns);
  let raw: KernelRawCase;
  try {
    raw = compileCase(copy);
  } catch (err) {
    if (err instanceof CompileError) return undefined;
    throw err;
  }
  // an edit may leave a pointer where a scalar was, or a stack byte unwritten: the kernel would
  // accept it and the "mismatch" would be the kernel's addresses or stack garbage
  return findNondeterminism(raw) === undefined ? { fuzz: copy, raw } : undefined;
}

/** Options of {@link shrink}. */
export interface ShrinkOptions {
  /** Give up (keeping the best so far) after this long (default 60 s). */
  timeoutMs?: number;
  /** Candidates per kernel batch (default 64). */
  batch?: number;
  log?: (msg: string) => void;
}

/**
 * Shrinks `start` while `keep` holds: `keep` sees each candidate with what the kernel made of
 * it (a result or a refusal) and says whether it still shows what is being chased. Returns the
 * smallest case found (the start itself when no edit keeps the property).
 */
export function shrinkWith(
  start: FuzzCase,
  keep: (raw: KernelRawCase, kernel: KernelRawOutcome) => boolean,
  opts: ShrinkOptions = {},
): { fuzz: FuzzCase; raw: KernelRawCase; steps: number; tried: number } {
  const deadline = performance.now() + (opts.timeoutMs ?? 60_000);
  const batch = opts.batch ?? 64;
  let best = { fuzz: start, raw: compileCase(start), steps: 0, tried: 0 };
  let tried = 0;
  for (;;) {
    const es = edits(best.fuzz);
    let next: typeof best | undefined;
    for (let i = 0; i < es.length && next === undefined; i += batch) {
      if (performance.now() > deadline) {
        opts.log?.(`shrink: time is up after ${tried} candidates`);
        return { ...best, tried };
      }
      const cands = es
        .slice(i, i + batch)
        .map((e) => candidate(best.fuzz, e))
        .filter((x): x is { fuzz: FuzzCase; raw: KernelRawCase } => x !== undefined);
      const outcomes = runRawInKernel(cands.map((x) => x.raw));
      tried += cands.length;
      const k = cands.findIndex((c, j) => keep(c.raw, outcomes[j]));
      if (k >= 0) next = { ...cands[k], steps: best.steps + 1, tried };
    }
    if (next === undefined) return { ...best, tried };
    best = next;
    opts.log?.(`shrink: ${caseSize(best.fuzz)} instructions after ${best.steps} edits`);
  }
}

/**
 * Shrinks `start`, on which `engine` disagrees with the kernel (`diffs`): the result still
 * makes the engine disagree in at least one of the same kinds of field.
 */
export function shrink(
  start: FuzzCase,
  engine: EngineName,
  kernel: KernelRunResult,
  diffs: Diff[],
  opts: ShrinkOptions = {},
): Shrunk {
  const want = new Set(diffs.map(diffClass));
  let last: { kernel: KernelRunResult; diffs: Diff[] } = { kernel, diffs };
  const s = shrinkWith(
    start,
    (raw, o) => {
      if (isRawError(o)) return false;
      const d = compareOutcome(o, runRawInTsbpf(raw, engine));
      if (!d.some((x) => want.has(diffClass(x)))) return false;
      last = { kernel: o, diffs: d };
      return true;
    },
    opts,
  );
  return { ...s, ...last };
}
