/**
 * The helper table: every helper tsbpf implements, by Linux id (`BPF_FUNC_*` in the kernel's
 * `include/uapi/linux/bpf.h`), and the names of all Linux helpers for messages and
 * disassembly. `bpf_tail_call` (12) is not in the table: the engines run it themselves
 * (`src/runtime/tail-call.ts`).
 */
import { MAX_HELPER_ID, helperId, helperName } from "../isa/names.js";
import { CALLBACK_HELPERS } from "./callbacks.js";
import { BPF_FUNC } from "./common.js";
import { CSUM_HELPERS } from "./csum.js";
import { MAP_HELPERS } from "./maps.js";
import { MEMORY_HELPERS } from "./memory.js";
import { MISC_HELPERS } from "./misc.js";
import { PACKET_HELPERS } from "./packet.js";
import { PRINTK_HELPERS } from "./printk.js";
import { RINGBUF_HELPERS } from "./ringbuf.js";
import { TIME_HELPERS } from "./time.js";
import type { HelperDef } from "./types.js";

export type {
  HelperDef,
  HelperEnv,
  HelperFn,
  HostServices,
  PacketContext,
  RunContext,
} from "./types.js";
export { BPF_FUNC } from "./common.js";
export { bprintf } from "./format.js";
export { redirectTarget, type RedirectTarget } from "./packet.js";
export type { PerfEventOutputLike, RingbufLike } from "./ringbuf.js";
export { BPF_MAX_LOOPS } from "./callbacks.js";
export {
  csumAdd,
  csumFold,
  csumFrom32to16,
  csumPartial,
  csumReplace2,
  csumReplace4,
  csumReplaceByDiff,
  csumSub,
} from "./csum.js";
export { MAX_HELPER_ID, helperId, helperName };

/** `BPF_FUNC_tail_call`: implemented by the engines, not in {@link HELPERS}. */
export const BPF_FUNC_tail_call = BPF_FUNC.tail_call;

/** Every helper tsbpf implements, sorted by Linux id. */
export const HELPERS: readonly HelperDef[] = [
  ...MAP_HELPERS,
  ...MEMORY_HELPERS,
  ...TIME_HELPERS,
  ...PRINTK_HELPERS,
  ...MISC_HELPERS,
  ...CSUM_HELPERS,
  ...PACKET_HELPERS,
  ...CALLBACK_HELPERS,
  ...RINGBUF_HELPERS,
].sort((a, b) => a.id - b.id);

const BY_ID: readonly (HelperDef | undefined)[] = (() => {
  const t: (HelperDef | undefined)[] = [];
  for (const h of HELPERS) t[h.id] = h;
  return t;
})();

/** The implemented helper with Linux id `id`, or undefined. */
export function helperById(id: number): HelperDef | undefined {
  return Number.isInteger(id) && id >= 0 ? BY_ID[id] : undefined;
}

/**
 * Names of every Linux helper, indexed by id (index 0, `BPF_FUNC_unspec`, is "bpf_unspec"),
 * implemented or not: `HELPER_NAMES[18] === "bpf_skb_vlan_push"`.
 */
export const HELPER_NAMES: readonly string[] = Array.from({ length: MAX_HELPER_ID + 1 }, (_, id) =>
  id === 0 ? "bpf_unspec" : (helperName(id) as string),
);

/** Whether a Linux helper id is usable by programs: implemented here, or `bpf_tail_call`. */
export function helperAvailable(id: number): boolean {
  return id === BPF_FUNC_tail_call || helperById(id) !== undefined;
}
