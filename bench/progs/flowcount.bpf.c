// A flow counter: parse Ethernet/IPv4/UDP, count packets and bytes per 5-tuple in a hash map.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct flow {
	__u32 saddr, daddr;
	__u16 sport, dport;
	__u32 proto;
};

struct counters {
	__u64 packets, bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct flow);
	__type(value, struct counters);
} flows SEC(".maps");

SEC("xdp")
int flowcount(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);

	if ((void *)(udp + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	struct flow key = {
		.saddr = ip->saddr, .daddr = ip->daddr,
		.sport = udp->source, .dport = udp->dest, .proto = ip->protocol,
	};
	struct counters *c = bpf_map_lookup_elem(&flows, &key);
	if (!c) {
		struct counters init = {};
		bpf_map_update_elem(&flows, &key, &init, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&flows, &key);
		if (!c)
			return XDP_ABORTED;
	}
	c->packets++;
	c->bytes += data_end - data;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
