/**
 * The control-flow graph of one eBPF function: basic blocks in reverse postorder, their
 * dominator tree (Cooper, Harvey and Kennedy's iterative algorithm), loop headers, merge nodes
 * and whether the graph is reducible — what the structuring pass needs. Linear in the size of
 * the function for the graphs clang emits.
 */
import type { DecodedProgram } from "../isa/decode.js";
import { OP_LDDW } from "../isa/opcodes.js";

/** How a basic block ends. */
export const Term = {
  /** Falls through into the next block. */
  Fall: 0,
  /** An unconditional jump (`ja`, `gotol`). */
  Goto: 1,
  /** A conditional jump: `succ0` when taken, `succ1` when not. */
  Cond: 2,
  /** `exit`. */
  Exit: 3,
} as const;

/** A function's control-flow graph; blocks are numbered in reverse postorder (0 = entry). */
export interface Cfg {
  /** Number of (reachable) blocks. */
  readonly n: number;
  /** First instruction of each block. */
  readonly start: Int32Array;
  /** Instruction that ends each block (its terminator, or its last instruction). */
  readonly last: Int32Array;
  /** How each block ends. */
  readonly term: Uint8Array;
  /** The jump target (Goto, Cond) or next block (Fall); -1 for Exit. */
  readonly succ0: Int32Array;
  /** The fall-through successor of a Cond block; -1 otherwise. */
  readonly succ1: Int32Array;
  /** Immediate dominator of each block (the entry's is itself). */
  readonly idom: Int32Array;
  /** Whether the block is the target of a back edge. */
  readonly loopHeader: Uint8Array;
  /** Whether the block has two or more forward in-edges. */
  readonly merge: Uint8Array;
  /** Dominator-tree children that are merge nodes, by decreasing block number. */
  readonly mergeChildren: readonly (readonly number[])[];
  /** False when some cycle has more than one entry. */
  readonly reducible: boolean;
  /** Whether the block is on a cycle (may run many times per call). */
  readonly inLoop: Uint8Array;
}

/** The error of bytecode whose control flow leaves the function (validation prevents it). */
export class CfgError extends Error {}

/**
 * The jump opcodes the engines run: 1 for `ja`/`gotol`, 2 for a conditional jump, 0 otherwise
 * (the interpreter's switch is the reference: other JMP-class opcodes are unsupported).
 */
export const JUMP_KIND = (() => {
  const t = new Uint8Array(256);
  t[0x05] = 1;
  t[0x06] = 1;
  for (const op of [0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0]) {
    for (const cls of [0x05, 0x06]) {
      t[op | cls] = 2;
      t[op | cls | 0x08] = 2;
    }
  }
  return t;
})();

function isJump(code: number): boolean {
  return JUMP_KIND[code] !== 0;
}

function jumpTarget(p: DecodedProgram, pc: number): number {
  return p.code[pc] === 0x06 ? pc + p.imm[pc] + 1 : pc + p.off[pc] + 1;
}

/** Builds the CFG of the function occupying `[start, end)` entered at `entry`. */
export function buildCfg(p: DecodedProgram, start: number, end: number, entry: number): Cfg {
  const len = end - start;
  // 1. leaders (indexed pc - start)
  const leader = new Uint8Array(len + 1);
  leader[entry - start] = 1;
  for (let pc = start; pc < end; pc++) {
    const c = p.code[pc];
    if (c === OP_LDDW) {
      pc++;
      continue;
    }
    if (isJump(c)) {
      const t = jumpTarget(p, pc);
      if (t < start || t >= end) throw new CfgError(`pc ${pc}: jump to ${t} leaves its function`);
      leader[t - start] = 1;
      leader[pc + 1 - start] = 1;
    } else if (c === 0x95) leader[pc + 1 - start] = 1;
  }
  // 2. discover the blocks reachable from entry (depth-first, iterative), numbering in postorder
  const blockOf = new Int32Array(len).fill(-1); // pc-start -> discovery id
  const bStart: number[] = [];
  const bLast: number[] = [];
  const bTerm: number[] = [];
  const bS0: number[] = [];
  const bS1: number[] = [];
  const add = (first: number, last: number, term: number, s0: number, s1: number) => {
    bStart.push(first);
    bLast.push(last);
    bTerm.push(term);
    bS0.push(s0);
    bS1.push(s1);
  };
  const scan = (first: number): number => {
    const id = bStart.length;
    blockOf[first - start] = id;
    let pc = first;
    for (;;) {
      const c = p.code[pc];
      const next = pc + (c === OP_LDDW ? 2 : 1);
      if (c === 0x95) {
        add(first, pc, Term.Exit, -1, -1);
        return id;
      }
      if (isJump(c)) {
        const t = jumpTarget(p, pc);
        const cond = JUMP_KIND[c] === 2;
        add(first, pc, cond ? Term.Cond : Term.Goto, t, cond ? next : -1);
        if (cond && next >= end) throw new CfgError(`pc ${pc}: falls off the end of its function`);
        return id;
      }
      if (next >= end) throw new CfgError(`pc ${pc}: falls off the end of its function`);
      if (leader[next - start]) {
        add(first, pc, Term.Fall, next, -1);
        return id;
      }
      pc = next;
    }
  };
  const post: number[] = [];
  const stack: number[] = [scan(entry)];
  const iter: number[] = [0]; // next successor to visit, per discovered block
  while (stack.length > 0) {
    const b = stack[stack.length - 1];
    const k = iter[b];
    // visit the taken edge first so the fall-through block comes earlier in the order
    const succ = k === 0 ? bS0[b] : k === 1 ? bS1[b] : -2;
    if (succ === -2) {
      stack.pop();
      post.push(b);
      continue;
    }
    iter[b] = k + 1;
    if (succ < 0) continue;
    if (blockOf[succ - start] < 0) {
      const id = scan(succ);
      iter[id] = 0;
      stack.push(id);
    }
  }
  // 3. renumber in reverse postorder
  const n = post.length;
  const rpo = new Int32Array(bStart.length);
  for (let i = 0; i < n; i++) rpo[post[n - 1 - i]] = i;
  const sb = new Int32Array(n);
  const lb = new Int32Array(n);
  const term = new Uint8Array(n);
  const s0 = new Int32Array(n);
  const s1 = new Int32Array(n);
  for (let d = 0; d < n; d++) {
    const r = rpo[d];
    sb[r] = bStart[d];
    lb[r] = bLast[d];
    term[r] = bTerm[d];
    s0[r] = bS0[d] < 0 ? -1 : rpo[blockOf[bS0[d] - start]];
    s1[r] = bS1[d] < 0 ? -1 : rpo[blockOf[bS1[d] - start]];
  }
  return cfgFromGraph(n, sb, lb, term, s0, s1);
}

/**
 * Immediate dominators (Lengauer and Tarjan, with path compression: O(m log n) even for the
 * deep dominator trees where iterative algorithms turn quadratic). Block 0 is the entry; the
 * entry's immediate dominator is itself.
 */
function dominators(
  n: number,
  s0: Int32Array,
  s1: Int32Array,
  predCount: Int32Array,
  preds: Int32Array,
): Int32Array {
  // depth-first preorder from the entry: num[block] = index, vertex[index] = block
  const num = new Int32Array(n).fill(-1);
  const vertex = new Int32Array(n);
  const parent = new Int32Array(n).fill(-1); // in preorder indices
  let count = 0;
  const stack = [0];
  const from = [-1];
  while (stack.length > 0) {
    const b = stack.pop() as number;
    const f = from.pop() as number;
    if (num[b] >= 0) continue;
    num[b] = count;
    vertex[count] = b;
    parent[count] = f;
    count++;
    for (const s of [s1[b], s0[b]]) {
      if (s >= 0 && num[s] < 0) {
        stack.push(s);
        from.push(num[b]);
      }
    }
  }
  const semi = new Int32Array(count);
  const label = new Int32Array(count);
  const ancestor = new Int32Array(count).fill(-1);
  const dom = new Int32Array(count);
  const bucketHead = new Int32Array(count).fill(-1);
  const bucketNext = new Int32Array(count).fill(-1);
  for (let v = 0; v < count; v++) {
    semi[v] = v;
    label[v] = v;
  }
  const path: number[] = [];
  const evaluate = (v: number): number => {
    if (ancestor[v] < 0) return v;
    let x = v;
    while (ancestor[ancestor[x]] >= 0) {
      path.push(x);
      x = ancestor[x];
    }
    while (path.length > 0) {
      const y = path.pop() as number;
      const a = ancestor[y];
      if (semi[label[a]] < semi[label[y]]) label[y] = label[a];
      ancestor[y] = ancestor[a];
    }
    return label[v];
  };
  for (let w = count - 1; w > 0; w--) {
    const bw = vertex[w];
    for (let k = predCount[bw]; k < predCount[bw + 1]; k++) {
      const v = num[preds[k]];
      if (v < 0) continue;
      const u = evaluate(v);
      if (semi[u] < semi[w]) semi[w] = semi[u];
    }
    bucketNext[w] = bucketHead[semi[w]];
    bucketHead[semi[w]] = w;
    const p = parent[w];
    ancestor[w] = p;
    for (let v = bucketHead[p]; v >= 0; v = bucketNext[v]) {
      const u = evaluate(v);
      dom[v] = semi[u] < semi[v] ? u : p;
    }
    bucketHead[p] = -1;
  }
  for (let w = 1; w < count; w++) if (dom[w] !== semi[w]) dom[w] = dom[dom[w]];
  const idom = new Int32Array(n).fill(-1);
  idom[0] = 0;
  for (let w = 1; w < count; w++) idom[vertex[w]] = vertex[dom[w]];
  return idom;
}

/** Each block's predecessors (a block whose two edges lead to the same block is there twice). */
export function predecessors(cfg: Cfg): number[][] {
  const preds: number[][] = Array.from({ length: cfg.n }, () => []);
  for (let b = 0; b < cfg.n; b++) {
    if (cfg.succ0[b] >= 0) preds[cfg.succ0[b]].push(b);
    if (cfg.succ1[b] >= 0) preds[cfg.succ1[b]].push(b);
  }
  return preds;
}

/**
 * The natural loop of loop header `h` of a reducible CFG (`preds`: its predecessors): `h` and
 * every block that reaches one of the back edges into `h` without passing through `h`, as a
 * mask over the blocks.
 */
export function naturalLoop(preds: readonly (readonly number[])[], h: number): Uint8Array {
  const body = new Uint8Array(preds.length);
  body[h] = 1;
  const work = preds[h].filter((u) => u >= h);
  while (work.length > 0) {
    const b = work.pop() as number;
    if (body[b]) continue;
    body[b] = 1;
    for (const q of preds[b]) work.push(q);
  }
  return body;
}

/**
 * The analysed CFG of a graph whose blocks are already numbered in reverse postorder from
 * block 0 (see loops.ts, which adds blocks to a CFG).
 */
export function cfgFromGraph(
  n: number,
  start: Int32Array,
  last: Int32Array,
  term: Uint8Array,
  s0: Int32Array,
  s1: Int32Array,
): Cfg {
  // predecessors (with multiplicity)
  const predCount = new Int32Array(n + 1);
  for (let b = 0; b < n; b++) {
    if (s0[b] >= 0) predCount[s0[b] + 1]++;
    if (s1[b] >= 0) predCount[s1[b] + 1]++;
  }
  for (let b = 0; b < n; b++) predCount[b + 1] += predCount[b];
  const preds = new Int32Array(predCount[n]);
  const fill = predCount.slice(0, n);
  for (let b = 0; b < n; b++) {
    if (s0[b] >= 0) preds[fill[s0[b]]++] = b;
    if (s1[b] >= 0) preds[fill[s1[b]]++] = b;
  }
  const idom = dominators(n, s0, s1, predCount, preds);
  // dominator tree pre/post numbers for O(1) dominance queries
  const childCount = new Int32Array(n + 1);
  for (let b = 1; b < n; b++) childCount[idom[b] + 1]++;
  for (let b = 0; b < n; b++) childCount[b + 1] += childCount[b];
  const kids = new Int32Array(Math.max(n - 1, 0));
  const kf = childCount.slice(0, n);
  for (let b = 1; b < n; b++) kids[kf[idom[b]]++] = b;
  const pre = new Int32Array(n);
  const postN = new Int32Array(n);
  {
    let t = 0;
    const st = [0];
    const it = [childCount[0]];
    pre[0] = t++;
    while (st.length > 0) {
      const x = st[st.length - 1];
      const k = it[it.length - 1];
      if (k < childCount[x + 1]) {
        it[it.length - 1] = k + 1;
        const c = kids[k];
        pre[c] = t++;
        st.push(c);
        it.push(childCount[c]);
      } else {
        postN[x] = t++;
        st.pop();
        it.pop();
      }
    }
  }
  const dominates = (a: number, b: number) => pre[a] <= pre[b] && postN[b] <= postN[a];
  const loopHeader = new Uint8Array(n);
  const fwdIn = new Int32Array(n);
  let reducible = true;
  for (let u = 0; u < n; u++) {
    for (const v of [s0[u], s1[u]]) {
      if (v < 0) continue;
      if (v <= u) {
        loopHeader[v] = 1;
        if (!dominates(v, u)) reducible = false;
      } else fwdIn[v]++;
    }
  }
  const merge = new Uint8Array(n);
  for (let b = 0; b < n; b++) if (fwdIn[b] >= 2) merge[b] = 1;
  const mergeChildren: number[][] = [];
  for (let b = 0; b < n; b++) {
    const list: number[] = [];
    for (let k = childCount[b + 1] - 1; k >= childCount[b]; k--) {
      if (merge[kids[k]]) list.push(kids[k]);
    }
    list.sort((a, c) => c - a);
    mergeChildren.push(list);
  }
  // strongly connected components (Kosaraju: blocks are already in reverse postorder)
  const comp = new Int32Array(n).fill(-1);
  const size = new Int32Array(n);
  for (let root = 0; root < n; root++) {
    if (comp[root] >= 0) continue;
    const st = [root];
    comp[root] = root;
    while (st.length > 0) {
      const x = st.pop() as number;
      size[root]++;
      for (let k = predCount[x]; k < predCount[x + 1]; k++) {
        const q = preds[k];
        if (comp[q] < 0) {
          comp[q] = root;
          st.push(q);
        }
      }
    }
  }
  const inLoop = new Uint8Array(n);
  for (let b = 0; b < n; b++) {
    if (size[comp[b]] > 1 || s0[b] === b || s1[b] === b) inLoop[b] = 1;
  }
  return {
    inLoop,
    n,
    start,
    last,
    term,
    succ0: s0,
    succ1: s1,
    idom,
    loopHeader,
    merge,
    mergeChildren,
    reducible,
  };
}
