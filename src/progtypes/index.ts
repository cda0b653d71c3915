import { genericModel } from "./generic.js";
import { skbModel, socketModel } from "./skb.js";
import * as T from "./types.js";
import { xdpModel } from "./xdp.js";

export * from "./types.js";
export { TestRunError } from "./errors.js";
export { XDP_ACTIONS } from "./xdp.js";

/** The context model of program type `progType`. */
export function contextModel(progType: number): T.ContextModel {
  switch (progType) {
    case T.BPF_PROG_TYPE_XDP:
      return xdpModel;
    case T.BPF_PROG_TYPE_SOCKET_FILTER:
      return socketModel;
    case T.BPF_PROG_TYPE_SCHED_CLS:
    case T.BPF_PROG_TYPE_SCHED_ACT:
    case T.BPF_PROG_TYPE_CGROUP_SKB:
    case T.BPF_PROG_TYPE_LWT_IN:
    case T.BPF_PROG_TYPE_LWT_OUT:
    case T.BPF_PROG_TYPE_LWT_XMIT:
      return skbModel;
    default:
      return genericModel;
  }
}

/** TC action names by return code. */
export const TC_ACTIONS: Record<number, string> = {
  [-1]: "TC_ACT_UNSPEC",
  0: "TC_ACT_OK",
  1: "TC_ACT_RECLASSIFY",
  2: "TC_ACT_SHOT",
  3: "TC_ACT_PIPE",
  4: "TC_ACT_STOLEN",
  5: "TC_ACT_QUEUED",
  6: "TC_ACT_REPEAT",
  7: "TC_ACT_REDIRECT",
};
