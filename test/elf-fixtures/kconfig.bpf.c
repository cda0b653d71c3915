// SPDX-License-Identifier: GPL-2.0
// An extern from .kconfig: tsbpf does not support externs.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern unsigned int LINUX_KERNEL_VERSION __kconfig;

SEC("xdp")
int kver(struct xdp_md *ctx)
{
	return LINUX_KERNEL_VERSION;
}

char LICENSE[] SEC("license") = "GPL";
