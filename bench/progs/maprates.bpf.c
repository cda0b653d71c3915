// Map operation rates: each run does 256 lookups and 256 updates on a hash, an array and an
// LRU hash map.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define DEF(name, kind)                      \
	struct {                             \
		__uint(type, kind);          \
		__uint(max_entries, 1024);   \
		__type(key, __u32);          \
		__type(value, __u64);        \
	} name SEC(".maps")

DEF(hash, BPF_MAP_TYPE_HASH);
DEF(arr, BPF_MAP_TYPE_ARRAY);
DEF(lru, BPF_MAP_TYPE_LRU_HASH);

static __always_inline void ops(void *map)
{
#pragma clang loop unroll(disable)
	for (__u32 i = 0; i < 256; i++) {
		__u32 k = i;
		__u64 v = i, *p = bpf_map_lookup_elem(map, &k);
		if (p)
			v += *p;
		bpf_map_update_elem(map, &k, &v, BPF_ANY);
	}
}

SEC("xdp")
int hash_ops(struct xdp_md *ctx)
{
	ops(&hash);
	return XDP_PASS;
}

SEC("xdp")
int array_ops(struct xdp_md *ctx)
{
	ops(&arr);
	return XDP_PASS;
}

SEC("xdp")
int lru_ops(struct xdp_md *ctx)
{
	ops(&lru);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
