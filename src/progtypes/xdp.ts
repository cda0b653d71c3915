import type { PacketContext } from "../helpers/types.js";
import { SegmentFlags } from "../memory/layout.js";
import type { Machine } from "../runtime/machine.js";
import { arenaOf } from "./arena.js";
import { TestRunError } from "./errors.js";
import type { ContextModel, PreparedContext, TestRunInput } from "./types.js";

/** Headroom before `data` in a test-run frame (XDP_PACKET_HEADROOM). */
export const XDP_PACKET_HEADROOM = 256;
/** Test-run frame size (one page). */
export const XDP_FRAME_SIZE = 4096;
/** Tailroom the kernel keeps for `struct skb_shared_info` (SKB_DATA_ALIGN'd, x86-64). */
export const XDP_TAILROOM = 320;
/** Bytes at the start of the headroom the kernel keeps for `struct xdp_frame`. */
export const XDP_FRAME_STRUCT = 40;
/** `sizeof(struct xdp_md)`. */
export const XDP_MD_SIZE = 24;
const ETH_HLEN = 14;
const LOOPBACK_IFINDEX = 1;

/** XDP return codes. */
export const XDP_ACTIONS = ["XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT"];

/**
 * `struct xdp_md` in a 4096-byte frame with 256 bytes of headroom (the first 40 taken by
 * `struct xdp_frame`, so 216 usable by adjust_head and metadata) and 320 bytes of tailroom, as
 * BPF_PROG_TEST_RUN builds it on Linux 6.18: ctx_in's `data` is the length of the metadata at the front of data_in, `data_end` must be
 * the data size, `data_meta` and `egress_ifindex` must be 0; `ingress_ifindex` defaults to the
 * loopback device. data_out is the bytes from `data_meta` to `data_end`.
 */
export const xdpModel: ContextModel = {
  prepare(m: Machine, input: TestRunInput): PreparedContext {
    const size = input.data.length;
    if (size < ETH_HLEN)
      throw new TestRunError(
        `data of ${size} bytes is shorter than an Ethernet header (14)`,
        "EINVAL",
      );
    const maxData = XDP_FRAME_SIZE - XDP_PACKET_HEADROOM - XDP_TAILROOM;
    if (size > maxData)
      throw new TestRunError(
        `data of ${size} bytes does not fit the ${maxData}-byte frame`,
        "EINVAL",
      );
    let metaLen = 0;
    // the program always sees the loopback device; ctx_out gives back what ctx_in said (0 too)
    const ingress = LOOPBACK_IFINDEX;
    let ingressOut = LOOPBACK_IFINDEX;
    let rxQueue = 0;
    if (input.ctx !== undefined && input.ctx.length > 0) {
      const c = new Uint8Array(XDP_MD_SIZE);
      if (input.ctx.length > XDP_MD_SIZE && input.ctx.subarray(XDP_MD_SIZE).some((b) => b !== 0)) {
        throw new TestRunError("ctx_in has non-zero bytes past struct xdp_md", "EINVAL");
      }
      c.set(input.ctx.subarray(0, XDP_MD_SIZE));
      const dv = new DataView(c.buffer);
      metaLen = dv.getUint32(0, true);
      const dataEnd = dv.getUint32(4, true);
      if (dv.getUint32(8, true) !== 0 || dataEnd !== size || metaLen > dataEnd) {
        throw new TestRunError(
          "ctx_in: data_meta must be 0, data <= data_end == data size",
          "EINVAL",
        );
      }
      if (metaLen > XDP_PACKET_HEADROOM - XDP_FRAME_STRUCT || metaLen % 4 !== 0) {
        throw new TestRunError(
          `ctx_in: metadata length ${metaLen} is not a multiple of 4 up to 216`,
          "EINVAL",
        );
      }
      if (dv.getUint32(20, true) !== 0)
        throw new TestRunError("ctx_in: egress_ifindex must be 0", "EINVAL");
      if (dv.getUint32(12, true) > LOOPBACK_IFINDEX) {
        throw new TestRunError(
          `ctx_in: no device with ifindex ${dv.getUint32(12, true)}`,
          "ENODEV",
        );
      }
      ingressOut = dv.getUint32(12, true);
      rxQueue = dv.getUint32(16, true);
      if (rxQueue !== 0)
        throw new TestRunError(`ctx_in: rx queue ${rxQueue} does not exist`, "EINVAL");
    }
    const arena = arenaOf(m);
    const frame = arena.region("packet", XDP_FRAME_SIZE, SegmentFlags.WRITABLE);
    const ctxSeg = arena.region("ctx", XDP_MD_SIZE, 0);
    const mem = m.mem;
    const hard = frame.base;
    const dataMeta = hard + XDP_PACKET_HEADROOM - metaLen;
    mem.write(dataMeta, input.data);
    const ctxAddr = ctxSeg.base;
    const packet: PacketContext = {
      data: dataMeta + metaLen,
      dataEnd: dataMeta + size,
      dataMeta,
      frameStart: hard + XDP_FRAME_STRUCT,
      frameEnd: hard + XDP_FRAME_SIZE - XDP_TAILROOM,
      commit() {
        const dv = mem.dv;
        dv.setUint32(ctxAddr, this.data, true);
        dv.setUint32(ctxAddr + 4, this.dataEnd, true);
        dv.setUint32(ctxAddr + 8, this.dataMeta, true);
        mem.setWindow(frame, this.dataMeta, this.dataEnd);
      },
    };
    mem.dv.setUint32(ctxAddr + 12, ingress, true);
    mem.dv.setUint32(ctxAddr + 16, rxQueue, true);
    packet.commit();
    m.run = { ctxAddr, packet };
    return {
      ctxAddr,
      finish() {
        // byte by byte: a DataView would move this small array's bytes off the JS heap
        const out = new Uint8Array(XDP_MD_SIZE);
        putU32(out, 0, packet.data - packet.dataMeta);
        putU32(out, 4, packet.dataEnd - packet.dataMeta);
        putU32(out, 12, ingressOut);
        putU32(out, 16, rxQueue);
        return { data: mem.read(packet.dataMeta, packet.dataEnd - packet.dataMeta), ctx: out };
      },
    };
  },
};

/** Stores `v` as a little-endian u32 at `off`. */
function putU32(out: Uint8Array, off: number, v: number): void {
  out[off] = v;
  out[off + 1] = v >>> 8;
  out[off + 2] = v >>> 16;
  out[off + 3] = v >>> 24;
}
