// A program that tail-calls itself until the budget runs out: 34 programs a run.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct chain_def {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, int(struct xdp_md *));
};
struct chain_def chain SEC(".maps");

SEC("xdp")
int tailchain(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	if (data + 1 > data_end)
		return XDP_ABORTED;
	*(__u8 *)data += 1;
	bpf_tail_call(ctx, &chain, 0);
	return XDP_PASS;
}

struct chain_def chain SEC(".maps") = {
	.values = { [0] = &tailchain },
};

char LICENSE[] SEC("license") = "GPL";
