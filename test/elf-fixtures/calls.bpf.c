// SPDX-License-Identifier: GPL-2.0
// Subprogram linking: transitive calls, static and global subprograms, callbacks, several
// programs per section, a "?" section.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __attribute__((noinline)) int sub_b(int x)
{
	return x * 3 + 1;
}

static __attribute__((noinline)) int sub_a(int x)
{
	return sub_b(x) + 2;
}

__attribute__((noinline)) int sub_c(int x)
{
	return sub_b(x) - 5;
}

static int loop_cb(__u32 index, void *ctx)
{
	int *acc = ctx;
	*acc += index;
	return 0;
}

SEC("xdp")
int main_a(struct xdp_md *ctx)
{
	return sub_a(ctx->ingress_ifindex);
}

SEC("xdp")
int main_b(struct xdp_md *ctx)
{
	return sub_c(ctx->rx_queue_index);
}

SEC("tc")
int with_loop(struct __sk_buff *skb)
{
	int acc = 0;
	bpf_loop(10, loop_cb, &acc, 0);
	return acc;
}

SEC("?socket")
int lazy(struct __sk_buff *skb)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
