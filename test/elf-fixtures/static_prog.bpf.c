// SPDX-License-Identifier: GPL-2.0
// A static function in a program section: libbpf refuses it.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
static int hidden(struct xdp_md *ctx)
{
	return 2;
}

SEC("xdp")
int visible(struct xdp_md *ctx)
{
	return hidden(ctx);
}

char LICENSE[] SEC("license") = "GPL";
