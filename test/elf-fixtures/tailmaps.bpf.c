// SPDX-License-Identifier: GPL-2.0
// Static initialisation of prog_array and map-in-map slots.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 2);
};

struct inner inner_a SEC(".maps");
struct inner inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner);
} outer SEC(".maps") = {
	.values = { [0] = &inner_a, [3] = &inner_b },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 8);
	__type(key, __u32);
	__array(values, struct inner);
} outer_hash SEC(".maps") = {
	.values = { [5] = &inner_b },
};

int tail_1(struct __sk_buff *skb);
int tail_2(struct __sk_buff *skb);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 8);
	__uint(key_size, sizeof(__u32));
	__array(values, int (void *));
} jmp SEC(".maps") = {
	.values = { [2] = (void *)&tail_1, [7] = (void *)&tail_2 },
};

SEC("tc")
int entry(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jmp, 2);
	return 1;
}

SEC("tc")
int tail_1(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jmp, 7);
	return 2;
}

SEC("tc")
int tail_2(struct __sk_buff *skb)
{
	return 3;
}

char LICENSE[] SEC("license") = "GPL";
