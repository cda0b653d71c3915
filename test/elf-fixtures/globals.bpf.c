// SPDX-License-Identifier: GPL-2.0
// Global data sections and BTF-defined maps of every flavour.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct key { __u32 a; __u16 b; };
struct val { __u64 n; char tag[12]; };

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct key);
	__type(value, struct val);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(key_size, 4);
	__uint(value_size, 8);
	__uint(max_entries, 4);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sizes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 5000);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__type(value, __u32);
	__uint(max_entries, 100);
	__uint(map_extra, 3);
} bloom SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(key_size, 8);
	__uint(value_size, 4);
	__uint(max_entries, 16);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(numa_node, 0);
} lpm SEC(".maps");

int counter = 7;                       /* .data */
__u64 hits;                            /* .bss */
const volatile __u32 limit = 42;       /* .rodata */
__u32 custom_val SEC(".data.custom") = 0xabcd;
static __u32 hidden_bss;               /* .bss, static */

SEC("xdp")
int prog(struct xdp_md *ctx)
{
	struct key k = { .a = ctx->ingress_ifindex, .b = 1 };
	struct val *v = bpf_map_lookup_elem(&counts, &k);
	__u32 zero = 0;
	__u64 *s = bpf_map_lookup_elem(&sizes, &zero);

	if (v)
		v->n++;
	if (s)
		*s += 1;
	hits++;
	hidden_bss += 2;
	counter += limit + custom_val;
	bpf_printk("hits %llu", hits);
	bpf_trace_printk("literal %d\n", sizeof("literal %d\n"), counter);
	bpf_map_push_elem(&bloom, &zero, 0);
	bpf_ringbuf_output(&events, &zero, 4, 0);
	return bpf_map_lookup_elem(&lpm, &zero) ? 1 : 2;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
__u32 _version SEC("version") = 0x060c00;
