// Two programs that tail-call each other until the budget runs out: 34 programs a run, each
// tail call between different programs (tailchain.bpf.c calls itself).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct pp_def {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, int(struct xdp_md *));
};
struct pp_def pp SEC(".maps");

static __always_inline int step(struct xdp_md *ctx, __u32 next)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	if (data + 1 > data_end)
		return XDP_ABORTED;
	*(__u8 *)data += 1;
	bpf_tail_call(ctx, &pp, next);
	return XDP_PASS;
}

SEC("xdp")
int ping(struct xdp_md *ctx)
{
	return step(ctx, 1);
}

SEC("xdp")
int pong(struct xdp_md *ctx)
{
	return step(ctx, 0);
}

struct pp_def pp SEC(".maps") = {
	.values = { [0] = &ping, [1] = &pong },
};

char LICENSE[] SEC("license") = "GPL";
