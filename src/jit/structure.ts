/**
 * Turns a {@link Cfg} into structured WebAssembly control flow.
 *
 * Reducible graphs (everything clang emits) use the dominator-tree algorithm of Norman Ramsey's
 * "Beyond Relooper" (ICFP 2022): a node's merge-node children become blocks that follow it,
 * loop headers become `loop`s, a branch to a merge node or back to a loop header is a `br`,
 * and any other branch inlines the target's subtree. The walk uses an explicit work stack, so
 * deep dominator trees cannot overflow the JavaScript stack.
 *
 * Irreducible graphs fall back to a dispatch loop: a `loop` around a `br_table` over every
 * block, with the next block's number in a local.
 */
import { Term, type Cfg } from "./cfg.js";
import { Op, VOID, type Bytes } from "./wasm.js";

/** Emits the straight-line parts of blocks for the structuring pass. */
export interface BlockEmitter {
  /**
   * Emits block `b`'s instructions except its jump. An `exit` block must end with `return`
   * (or another instruction that leaves the function). `depth`: the constructs (blocks,
   * loops, ifs) the emitter has opened around the body, so `br depth` leaves them all.
   */
  body(b: number, depth: number): void;
  /** Pushes the i32 condition of block `b`'s conditional jump (non-zero when taken). */
  cond(b: number): void;
  /** Emits what runs on the edge `from -> to` before control moves (budget checks). */
  edge(from: number, to: number): void;
}

const TREE = 0;
const WITHIN = 1;
const END = 2;
const ELSE = 3;
const BRANCH = 4;

const CTX_BLOCK = 0;
const CTX_LOOP = 1;
const CTX_IF = 2;

/** Emits the structured control flow of a reducible `cfg` into `out`. */
export function emitStructured(cfg: Cfg, em: BlockEmitter, out: Bytes): void {
  const ctxKind: number[] = [];
  const ctxNode: number[] = [];
  const blockPos = new Int32Array(cfg.n).fill(-1);
  const loopPos = new Int32Array(cfg.n).fill(-1);
  // task stack: triples (op, a, b)
  const tasks: number[] = [TREE, 0, 0];
  const push = (op: number, a: number, b: number) => {
    tasks.push(op, a, b);
  };
  const open = (opcode: number, kind: number, node: number) => {
    out.u8(opcode).u8(VOID);
    if (kind === CTX_BLOCK) blockPos[node] = ctxKind.length;
    else if (kind === CTX_LOOP) loopPos[node] = ctxKind.length;
    ctxKind.push(kind);
    ctxNode.push(node);
  };
  while (tasks.length > 0) {
    const b = tasks.pop() as number;
    const a = tasks.pop() as number;
    const op = tasks.pop() as number;
    switch (op) {
      case TREE:
        if (cfg.loopHeader[a]) {
          open(Op.loop, CTX_LOOP, a);
          push(END, 0, 0);
        }
        push(WITHIN, a, 0);
        break;
      case WITHIN: {
        const ys = cfg.mergeChildren[a];
        if (b < ys.length) {
          const y = ys[b];
          open(Op.block, CTX_BLOCK, y);
          push(TREE, y, 0);
          push(END, 0, 0);
          push(WITHIN, a, b + 1);
          break;
        }
        em.body(a, ctxKind.length);
        const t = cfg.term[a];
        if (t === Term.Fall || t === Term.Goto) push(BRANCH, a, cfg.succ0[a]);
        else if (t === Term.Cond) {
          em.cond(a);
          out.u8(Op.if).u8(VOID);
          ctxKind.push(CTX_IF);
          ctxNode.push(-1);
          push(END, 0, 0);
          push(BRANCH, a, cfg.succ1[a]);
          push(ELSE, 0, 0);
          push(BRANCH, a, cfg.succ0[a]);
        }
        break;
      }
      case END: {
        out.u8(Op.end);
        const kind = ctxKind.pop() as number;
        const node = ctxNode.pop() as number;
        if (kind === CTX_BLOCK) blockPos[node] = -1;
        else if (kind === CTX_LOOP) loopPos[node] = -1;
        break;
      }
      case ELSE:
        out.u8(Op.else);
        break;
      default: {
        // BRANCH from a to b
        em.edge(a, b);
        if (b <= a) {
          const pos = loopPos[b];
          if (pos < 0) throw new Error(`structuring: back edge ${a}->${b} outside its loop`);
          out.br(ctxKind.length - 1 - pos);
        } else if (cfg.merge[b]) {
          const pos = blockPos[b];
          if (pos < 0) throw new Error(`structuring: merge node ${b} has no enclosing block`);
          out.br(ctxKind.length - 1 - pos);
        } else push(TREE, b, 0);
      }
    }
  }
}

/**
 * Emits `cfg` as a dispatch loop over all its blocks (for irreducible graphs). `state` is an
 * i32 local holding the next block's number; the entry is block 0.
 */
export function emitDispatch(cfg: Cfg, em: BlockEmitter, out: Bytes, state: number): void {
  const n = cfg.n;
  out.i32(0).set(state);
  out.u8(Op.loop).u8(VOID);
  for (let i = 0; i < n; i++) out.u8(Op.block).u8(VOID);
  out.get(state).u8(Op.br_table).u32(n);
  for (let i = 0; i < n; i++) out.u32(i);
  out.u32(n - 1);
  for (let i = 0; i < n; i++) {
    out.u8(Op.end);
    em.body(i, n - i);
    const toLoop = n - 1 - i; // blocks i+1..n-1 enclose this code, then the loop
    const t = cfg.term[i];
    if (t === Term.Fall || t === Term.Goto) {
      const s = cfg.succ0[i];
      em.edge(i, s);
      if (s !== i + 1) out.i32(s).set(state).br(toLoop);
    } else if (t === Term.Cond) {
      em.cond(i);
      out.u8(Op.if).u8(VOID);
      em.edge(i, cfg.succ0[i]);
      out.i32(cfg.succ0[i]).set(state);
      out.u8(Op.else);
      em.edge(i, cfg.succ1[i]);
      out.i32(cfg.succ1[i]).set(state);
      out.u8(Op.end);
      out.br(toLoop);
    }
  }
  out.u8(Op.end);
}
