// A 4000-round 64-bit integer hash (splitmix64-style) over the first packet word: pure ALU work.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int hashloop(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 x = 0x9e3779b97f4a7c15ULL;

	if (data + 8 <= data_end)
		x ^= *(__u64 *)data;
	for (int i = 0; i < 4000; i++) {
		x += 0x9e3779b97f4a7c15ULL;
		__u64 z = x;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		x = z ^ (z >> 31);
	}
	return (__u32)(x ^ (x >> 32)) & 3;
}

char LICENSE[] SEC("license") = "GPL";
