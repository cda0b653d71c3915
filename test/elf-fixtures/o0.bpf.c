// SPDX-License-Identifier: GPL-2.0
// Built at -O0: every function is a real subprogram, calls carry no inlining.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int g_sum;

int add(int a, int b)
{
	return a + b;
}

static int twice(int a)
{
	return add(a, a);
}

SEC("xdp")
int o0_prog(struct xdp_md *ctx)
{
	g_sum = twice(ctx->ingress_ifindex);
	return g_sum;
}

char LICENSE[] SEC("license") = "GPL";
