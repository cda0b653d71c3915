// SPDX-License-Identifier: MIT
/*
 * self_tail.bpf.c - a program that tail-calls itself until the budget runs out.
 *
 * Linux allows 33 successful tail calls per run (MAX_TAIL_CALL_CNT). The program counts
 * its runs in the first packet byte and tail-calls itself through `jmp_self[0]`; the 34th
 * attempt fails, execution falls through to the next instruction, and the program
 * returns the count: 34. The array map `runs` keeps totals across runs:
 *   runs[0]  every run of the program       runs[1]  runs whose tail call failed
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int self_tail(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, int(void *));
} jmp_self SEC(".maps") = {
	.values = { [0] = (void *)&self_tail },
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} runs SEC(".maps");

static __always_inline void bump(__u32 key)
{
	__u64 *v = bpf_map_lookup_elem(&runs, &key);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("xdp")
int self_tail(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;

	if (data + 1 > end)
		return XDP_ABORTED;
	data[0]++; /* the packet is shared by every program of one run */
	bump(0);

	bpf_tail_call(ctx, &jmp_self, 0);

	/* reached only when the tail call failed: the budget is spent */
	bump(1);
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + 1 > end)
		return XDP_ABORTED;
	return data[0];
}

char LICENSE[] SEC("license") = "GPL";
