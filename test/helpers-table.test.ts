import { describe, expect, it } from "vitest";
import {
  BPF_FUNC,
  BPF_FUNC_tail_call,
  HELPERS,
  HELPER_NAMES,
  helperAvailable,
  helperById,
  helperName,
} from "../src/helpers/index.js";
import { ValidationError } from "../src/errors.js";
import { prepareProgram } from "../src/runtime/prepare.js";
import { Bench } from "./helpers-harness.js";

/** Ids and names as the kernel's ___BPF_FUNC_MAPPER lists them (checked against bpf.h). */
const KERNEL_IDS: ReadonlyArray<readonly [number, string]> = [
  [1, "map_lookup_elem"],
  [2, "map_update_elem"],
  [3, "map_delete_elem"],
  [4, "probe_read"],
  [5, "ktime_get_ns"],
  [6, "trace_printk"],
  [7, "get_prandom_u32"],
  [8, "get_smp_processor_id"],
  [9, "skb_store_bytes"],
  [10, "l3_csum_replace"],
  [11, "l4_csum_replace"],
  [12, "tail_call"],
  [14, "get_current_pid_tgid"],
  [15, "get_current_uid_gid"],
  [16, "get_current_comm"],
  [18, "skb_vlan_push"],
  [23, "redirect"],
  [25, "perf_event_output"],
  [26, "skb_load_bytes"],
  [28, "csum_diff"],
  [42, "get_numa_node_id"],
  [44, "xdp_adjust_head"],
  [45, "probe_read_str"],
  [51, "redirect_map"],
  [54, "xdp_adjust_meta"],
  [65, "xdp_adjust_tail"],
  [87, "map_push_elem"],
  [88, "map_pop_elem"],
  [89, "map_peek_elem"],
  [93, "spin_lock"],
  [94, "spin_unlock"],
  [112, "probe_read_user"],
  [113, "probe_read_kernel"],
  [114, "probe_read_user_str"],
  [115, "probe_read_kernel_str"],
  [125, "ktime_get_boot_ns"],
  [130, "ringbuf_output"],
  [131, "ringbuf_reserve"],
  [132, "ringbuf_submit"],
  [133, "ringbuf_discard"],
  [134, "ringbuf_query"],
  [160, "ktime_get_coarse_ns"],
  [164, "for_each_map_elem"],
  [165, "snprintf"],
  [177, "trace_vprintk"],
  [181, "loop"],
  [182, "strncmp"],
  [188, "xdp_get_buff_len"],
  [189, "xdp_load_bytes"],
  [190, "xdp_store_bytes"],
  [211, "cgrp_storage_delete"],
];

describe("helper table", () => {
  it("uses the kernel's ids and names", () => {
    for (const [id, name] of KERNEL_IDS) {
      expect(helperName(id)).toBe(`bpf_${name}`);
      expect(HELPER_NAMES[id]).toBe(`bpf_${name}`);
      const h = helperById(id);
      if (h !== undefined) expect(h.name).toBe(`bpf_${name}`);
    }
    for (const [name, id] of Object.entries(BPF_FUNC)) expect(helperName(id)).toBe(`bpf_${name}`);
    expect(HELPER_NAMES).toHaveLength(212);
    expect(HELPER_NAMES[0]).toBe("bpf_unspec");
    expect(helperName(212)).toBeUndefined();
  });

  it("is sorted, unique, and leaves bpf_tail_call to the engines", () => {
    const ids = HELPERS.map((h) => h.id);
    expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b));
    expect(helperById(BPF_FUNC_tail_call)).toBeUndefined();
    expect(helperAvailable(12)).toBe(true);
    expect(helperAvailable(18)).toBe(false);
    expect(helperById(-1)).toBeUndefined();
    expect(helperById(1.5)).toBeUndefined();
    for (const id of Object.values(BPF_FUNC)) {
      if (id !== 12) expect(helperById(id)?.id).toBe(id);
    }
  });

  it("refuses a program calling an unimplemented helper, by name", () => {
    const b = new Bench();
    // call 18 (bpf_skb_vlan_push); exit
    const insns = Uint8Array.from([0x85, 0, 0, 0, 18, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => prepareProgram(b.m, { name: "p", insns })).toThrow(ValidationError);
    // (src/isa/validate.ts answers before prepare.ts's "helper 18 (bpf_skb_vlan_push) is not
    // implemented"; the message should name the helper: reported to the lead)
    expect(() => prepareProgram(b.m, { name: "p", insns })).toThrow(/helper 18/);
  });
});
