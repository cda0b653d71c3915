// Naming conventions shared with libbpf: program types from section names, object and
// internal map names, ring buffer sizes, the Linux numbers.
import { describe, expect, it } from "vitest";
import {
  BPF_CGROUP_INET_INGRESS,
  BPF_F_SLEEPABLE,
  BPF_F_XDP_HAS_FRAGS,
  BPF_MAP_TYPE_ARRAY_OF_MAPS,
  BPF_MAP_TYPE_BLOOM_FILTER,
  BPF_MAP_TYPE_HASH_OF_MAPS,
  BPF_MAP_TYPE_LPM_TRIE,
  BPF_MAP_TYPE_LRU_HASH,
  BPF_MAP_TYPE_LRU_PERCPU_HASH,
  BPF_MAP_TYPE_PERCPU_ARRAY,
  BPF_MAP_TYPE_PERCPU_HASH,
  BPF_MAP_TYPE_PERF_EVENT_ARRAY,
  BPF_MAP_TYPE_PROG_ARRAY,
  BPF_MAP_TYPE_QUEUE,
  BPF_MAP_TYPE_RINGBUF,
  BPF_MAP_TYPE_STACK,
  BPF_PROG_TYPE_CGROUP_SKB,
  BPF_PROG_TYPE_KPROBE,
  BPF_PROG_TYPE_PERF_EVENT,
  BPF_PROG_TYPE_RAW_TRACEPOINT,
  BPF_PROG_TYPE_SCHED_ACT,
  BPF_PROG_TYPE_SCHED_CLS,
  BPF_PROG_TYPE_SOCKET_FILTER,
  BPF_PROG_TYPE_SYSCALL,
  BPF_PROG_TYPE_TRACEPOINT,
  BPF_PROG_TYPE_TRACING,
  BPF_PROG_TYPE_XDP,
  BPF_TCX_INGRESS,
  BPF_TRACE_FENTRY,
  BPF_TRACE_RAW_TP,
  BPF_XDP,
  BPF_XDP_DEVMAP,
  adjustRingbufSize,
  internalMapName,
  mapTypeName,
  objectName,
  programTypeFromSection,
  progTypeName,
} from "../src/elf/index.js";

describe("programTypeFromSection", () => {
  const cases: [string, number, number, number?][] = [
    ["xdp", BPF_PROG_TYPE_XDP, BPF_XDP],
    ["xdp.frags", BPF_PROG_TYPE_XDP, BPF_XDP, BPF_F_XDP_HAS_FRAGS],
    ["xdp/devmap", BPF_PROG_TYPE_XDP, BPF_XDP_DEVMAP],
    ["tc", BPF_PROG_TYPE_SCHED_CLS, 0],
    ["tc/ingress", BPF_PROG_TYPE_SCHED_CLS, BPF_TCX_INGRESS],
    ["tcx/ingress", BPF_PROG_TYPE_SCHED_CLS, BPF_TCX_INGRESS],
    ["classifier", BPF_PROG_TYPE_SCHED_CLS, 0],
    ["action", BPF_PROG_TYPE_SCHED_ACT, 0],
    ["socket", BPF_PROG_TYPE_SOCKET_FILTER, 0],
    ["kprobe/do_sys_open", BPF_PROG_TYPE_KPROBE, 0],
    ["kprobe", BPF_PROG_TYPE_KPROBE, 0],
    ["kretprobe/do_sys_open", BPF_PROG_TYPE_KPROBE, 0],
    ["tracepoint/syscalls/sys_enter_open", BPF_PROG_TYPE_TRACEPOINT, 0],
    ["tp/sched/sched_switch", BPF_PROG_TYPE_TRACEPOINT, 0],
    ["raw_tp/sched_switch", BPF_PROG_TYPE_RAW_TRACEPOINT, 0],
    ["raw_tracepoint/sched_switch", BPF_PROG_TYPE_RAW_TRACEPOINT, 0],
    ["tp_btf/sched_switch", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP],
    ["fentry/do_unlinkat", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY],
    ["fentry.s/do_unlinkat", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, BPF_F_SLEEPABLE],
    ["perf_event", BPF_PROG_TYPE_PERF_EVENT, 0],
    ["cgroup_skb/ingress", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_INGRESS],
    ["syscall", BPF_PROG_TYPE_SYSCALL, 0, BPF_F_SLEEPABLE],
    ["?xdp", BPF_PROG_TYPE_XDP, BPF_XDP],
  ];
  it.each(cases)("%s", (name, type, attach, flags = 0) => {
    expect(programTypeFromSection(name)).toMatchObject({
      progType: type,
      expectedAttachType: attach,
      progFlags: flags,
    });
  });

  it("follows libbpf's matching rules", () => {
    expect(programTypeFromSection("kprobe/x")?.target).toBe("x");
    expect(programTypeFromSection("kprobex")).toBeUndefined(); // "kprobe+" needs "/" or nothing
    expect(programTypeFromSection("xdpfoo")).toBeUndefined(); // exact match
    expect(programTypeFromSection("tc/foo")).toBeUndefined();
    expect(programTypeFromSection("fentry/f")?.attachBtf).toBe(true);
    expect(programTypeFromSection("xdp.frags")?.xdpFrags).toBe(true);
    expect(programTypeFromSection(".text")).toBeUndefined();
  });
});

describe("names", () => {
  it.each([
    ["globals", ".bss", "globals.bss"],
    ["globals", ".data", "globals.data"],
    ["globals", ".rodata", "globals.rodata"],
    ["my_object_name", ".rodata", "my_objec.rodata"],
    ["my_object_name", ".bss", "my_objec.bss"],
    ["my_object_name", ".kconfig", "my_obje.kconfig"],
    ["tail_self", ".bss", "tail_sel.bss"],
    ["x", ".rodata.abracadabra", ".rodata.abracad"],
    ["x", ".rodata.str1.1", ".rodata.str1.1"],
    ["x", ".data.custom", ".data.custom"],
    ["a-b", ".data", "a_b.data"],
  ])("internalMapName(%s, %s) = %s", (obj, sec, want) => {
    expect(internalMapName(obj, sec)).toBe(want);
  });

  it.each([
    ["/a/b/globals.bpf.o", "globals"],
    ["globals", "globals"],
    ["verylongobjectname.bpf.o", "verylongobjectn"],
    ["C:\\x\\y.o", "y"],
    ["", "obj"],
  ])("objectName(%s) = %s", (path, want) => {
    expect(objectName(path)).toBe(want);
  });
  it("defaults the object name", () => {
    expect(objectName(undefined)).toBe("obj");
  });

  it("rounds ring buffer sizes like libbpf", () => {
    expect([0, 1, 4096, 5000, 8192, 12288, 1 << 20].map(adjustRingbufSize)).toEqual([
      0,
      4096,
      4096,
      8192,
      8192,
      16384,
      1 << 20,
    ]);
  });
});

describe("Linux numbers", () => {
  it("uses the kernel's map and program type numbers", () => {
    expect([
      BPF_MAP_TYPE_PROG_ARRAY,
      BPF_MAP_TYPE_PERF_EVENT_ARRAY,
      BPF_MAP_TYPE_PERCPU_HASH,
      BPF_MAP_TYPE_PERCPU_ARRAY,
      BPF_MAP_TYPE_LRU_HASH,
      BPF_MAP_TYPE_LRU_PERCPU_HASH,
      BPF_MAP_TYPE_LPM_TRIE,
      BPF_MAP_TYPE_ARRAY_OF_MAPS,
      BPF_MAP_TYPE_HASH_OF_MAPS,
      BPF_MAP_TYPE_QUEUE,
      BPF_MAP_TYPE_STACK,
      BPF_MAP_TYPE_RINGBUF,
      BPF_MAP_TYPE_BLOOM_FILTER,
    ]).toEqual([3, 4, 5, 6, 9, 10, 11, 12, 13, 22, 23, 27, 30]);
    expect([BPF_PROG_TYPE_XDP, BPF_PROG_TYPE_SCHED_CLS, BPF_PROG_TYPE_TRACING]).toEqual([6, 3, 26]);
    expect(mapTypeName(BPF_MAP_TYPE_PROG_ARRAY)).toBe("prog_array");
    expect(mapTypeName(19)).toBe("cgroup_storage");
    expect(progTypeName(BPF_PROG_TYPE_SCHED_CLS)).toBe("sched_cls");
    expect(mapTypeName(999)).toBe("type 999");
  });
});
