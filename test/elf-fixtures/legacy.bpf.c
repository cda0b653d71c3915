// SPDX-License-Identifier: GPL-2.0
// Legacy `struct bpf_map_def` maps in the "maps" section.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

struct bpf_map_def SEC("maps") legacy_hash = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = 4,
	.value_size = 8,
	.max_entries = 64,
};

struct bpf_map_def SEC("maps") legacy_array = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = 4,
	.value_size = 4,
	.max_entries = 2,
	.map_flags = 0,
};

SEC("socket")
int sock(struct __sk_buff *skb)
{
	__u32 k = 0;
	void *v = bpf_map_lookup_elem(&legacy_hash, &k);
	void *w = bpf_map_lookup_elem(&legacy_array, &k);
	return v && w;
}

char LICENSE[] SEC("license") = "GPL";
