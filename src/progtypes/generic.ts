import { SegmentFlags } from "../memory/layout.js";
import type { Machine } from "../runtime/machine.js";
import { arenaOf } from "./arena.js";
import type { ContextModel, PreparedContext, TestRunInput } from "./types.js";

/**
 * The context of every other program type (kprobe, tracepoint, raw_tp, syscall...): the
 * caller's ctx bytes, as test_run's ctx_in. Without ctx, r1 is NULL. These types take no packet:
 * data_out is empty.
 */
export const genericModel: ContextModel = {
  prepare(m: Machine, input: TestRunInput): PreparedContext {
    const ctx = input.ctx ?? new Uint8Array(0);
    if (ctx.length === 0) {
      m.run = { ctxAddr: 0 };
      return { ctxAddr: 0, finish: () => ({ data: new Uint8Array(0), ctx: undefined }) };
    }
    const seg = arenaOf(m).region("ctx", ctx.length, SegmentFlags.WRITABLE);
    m.mem.write(seg.base, ctx);
    m.run = { ctxAddr: seg.base };
    return {
      ctxAddr: seg.base,
      finish: () => ({ data: new Uint8Array(0), ctx: m.mem.read(seg.base, ctx.length) }),
    };
  },
};
