// The Internet checksum (RFC 1071) over a whole 1500-byte packet, one 16-bit load at a time,
// each load bounds-checked against data_end as the verifier demands.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int checksum(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 sum = 0;

	for (int i = 0; i < 750; i++) {
		__u16 *p = (__u16 *)data + i;
		if ((void *)(p + 1) > data_end)
			break;
		sum += *p;
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum == 0 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
