// SPDX-License-Identifier: MIT
/*
 * dispatcher.bpf.c - a protocol dispatcher built from tail calls.
 *
 * The entry program `dispatch` parses Ethernet and IPv4/IPv6, stores what it found in the
 * packet's XDP metadata (struct meta: L4 offset, protocol) and tail-calls the handler for
 * the IP protocol through the prog_array `handlers`, indexed by protocol number and filled
 * at load time:
 *   handlers[IPPROTO_ICMP] = handle_icmp    echo requests counted, everything passes
 *   handlers[IPPROTO_TCP]  = handle_tcp     SYNs counted; port 23 (telnet) is dropped
 *   handlers[IPPROTO_UDP]  = handle_udp     counted per destination port; port 9 dropped
 * Any other protocol finds an empty slot: the tail call falls through and `dispatch`
 * counts the packet as unhandled and passes it. Maps:
 *   packets    hash: IP protocol (u8) -> packets seen by the dispatcher
 *   udp_ports  hash: UDP destination port (host order, u16) -> packets
 *   counters   array of enum counter: TCP SYNs, ICMP echo requests, drops, unhandled
 *   last_proto the protocol of the last packet handled (.bss, enum proto)
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* <linux/icmp.h> drags in libc headers: the two fields used here. */
struct icmphdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be32 rest;
};
#define ICMP_ECHO 8

/* What the dispatcher hands to the handlers, in the XDP metadata before the packet. */
struct meta {
	__u16 l4_off; /* offset of the L4 header from the packet start */
	__u8 proto;   /* IP protocol */
	__u8 family;  /* 4 or 6 */
};

enum proto { PROTO_NONE = 0, PROTO_ICMP = 1, PROTO_TCP = 6, PROTO_UDP = 17 };

enum counter { TCP_SYNS, ICMP_ECHOS, DROPPED, UNHANDLED, NR_COUNTERS };

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u8);
	__type(value, __u64);
} packets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u16);
	__type(value, __u64);
} udp_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NR_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

enum proto last_proto;

/* The prog_array is declared here and defined at the end with its initial slots: a
 * definition naming the handlers before `dispatch` is defined would make clang emit them
 * first, and the object's first program is the one `tsbpf run` runs by default. */
struct handlers_map {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__array(values, int(void *));
};
extern struct handlers_map handlers SEC(".maps");

static __always_inline void count(void *map, const void *key)
{
	__u64 one = 1, *v = bpf_map_lookup_elem(map, key);

	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(map, key, &one, BPF_NOEXIST);
}

static __always_inline void bump(__u32 counter)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &counter);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("xdp")
int dispatch(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct meta m = {};

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end || ip->ihl < 5)
			return XDP_PASS;
		m.l4_off = sizeof(*eth) + ip->ihl * 4;
		m.proto = ip->protocol;
		m.family = 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return XDP_PASS;
		m.l4_off = sizeof(*eth) + sizeof(*ip6);
		m.proto = ip6->nexthdr;
		m.family = 6;
	} else {
		return XDP_PASS;
	}
	count(&packets, &m.proto);

	/* hand the parse result to the handler in the metadata area */
	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(struct meta)))
		return XDP_ABORTED;
	struct meta *mp = (void *)(long)ctx->data_meta;
	if ((void *)(mp + 1) > (void *)(long)ctx->data)
		return XDP_ABORTED;
	*mp = m;

	bpf_tail_call(ctx, &handlers, m.proto);

	/* no handler for this protocol: the slot is empty */
	bump(UNHANDLED);
	return XDP_PASS;
}

/* The metadata the dispatcher left, checked against the packet bounds. */
static __always_inline struct meta *get_meta(struct xdp_md *ctx)
{
	struct meta *mp = (void *)(long)ctx->data_meta;

	if ((void *)(mp + 1) > (void *)(long)ctx->data)
		return 0;
	return mp;
}

static __always_inline int drop(void)
{
	bump(DROPPED);
	return XDP_DROP;
}

SEC("xdp")
int handle_icmp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct meta *m = get_meta(ctx);

	if (!m || m->l4_off > 128)
		return XDP_ABORTED;
	struct icmphdr *icmp = data + m->l4_off;
	if ((void *)(icmp + 1) > data_end)
		return XDP_PASS;
	last_proto = PROTO_ICMP;
	if (icmp->type == ICMP_ECHO)
		bump(ICMP_ECHOS);
	return XDP_PASS;
}

SEC("xdp")
int handle_tcp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct meta *m = get_meta(ctx);

	if (!m || m->l4_off > 128)
		return XDP_ABORTED;
	struct tcphdr *tcp = data + m->l4_off;
	if ((void *)(tcp + 1) > data_end)
		return XDP_PASS;
	last_proto = PROTO_TCP;
	if (tcp->syn && !tcp->ack)
		bump(TCP_SYNS);
	if (tcp->dest == bpf_htons(23))
		return drop();
	return XDP_PASS;
}

SEC("xdp")
int handle_udp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct meta *m = get_meta(ctx);

	if (!m || m->l4_off > 128)
		return XDP_ABORTED;
	struct udphdr *udp = data + m->l4_off;
	if ((void *)(udp + 1) > data_end)
		return XDP_PASS;
	last_proto = PROTO_UDP;
	__u16 port = bpf_ntohs(udp->dest);
	count(&udp_ports, &port);
	if (port == 9)
		return drop();
	return XDP_PASS;
}

struct handlers_map handlers SEC(".maps") = {
	.values = {
		[IPPROTO_ICMP] = (void *)&handle_icmp,
		[IPPROTO_TCP] = (void *)&handle_tcp,
		[IPPROTO_UDP] = (void *)&handle_udp,
	},
};

char LICENSE[] SEC("license") = "GPL";
