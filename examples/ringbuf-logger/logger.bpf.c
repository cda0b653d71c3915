// SPDX-License-Identifier: MIT
/*
 * logger.bpf.c - log a record per packet into a BPF ring buffer.
 *
 * For every IPv4 packet the program reserves a `struct event` in the ring buffer `events`,
 * fills it (addresses, ports, protocol, length, sequence number) and submits it; user space
 * reads the records (with tsbpf: `RingBufMap.drain()`, or `tsbpf run`, which prints them;
 * in Linux: libbpf's ring_buffer__poll). When the ring is full the reservation fails and the
 * packet is counted in `stats[LOST]`. Non-IPv4 packets are counted and skipped, and every
 * TCP packet is also reported with bpf_printk (trace_pipe).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct event {
	__u64 seq;       /* the logger's packet number */
	__u32 saddr;     /* network byte order */
	__u32 daddr;     /* network byte order */
	__u16 sport;     /* host byte order (0 when not TCP/UDP) */
	__u16 dport;     /* host byte order */
	__u8 protocol;   /* IP protocol */
	__u8 ttl;
	__u16 len;       /* bytes on the wire */
};

/* Puts `struct event` in the object's BTF (a type only used through a pointer is left out),
 * so tools can decode the records: `tsbpf run --ringbuf-type events=event`, bpf2go's -type. */
const struct event *unused_event __attribute__((unused));

enum stat { LOGGED, LOST, SKIPPED, NR_STATS };

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NR_STATS);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

__u64 seq; /* packets seen (.bss) */

static __always_inline void bump(__u32 stat)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &stat);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("xdp")
int xdp_logger(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	__u16 sport = 0, dport = 0, len = data_end - data;

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5) {
		bump(SKIPPED);
		return XDP_PASS;
	}
	if (ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP) {
		/* TCP and UDP both start with the two ports */
		struct udphdr *l4 = (void *)(ip + 1);

		if ((void *)(l4 + 1) <= data_end) {
			sport = bpf_ntohs(l4->source);
			dport = bpf_ntohs(l4->dest);
		}
	}

	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		bump(LOST);
		return XDP_PASS;
	}
	e->seq = seq++;
	e->saddr = ip->saddr;
	e->daddr = ip->daddr;
	e->sport = sport;
	e->dport = dport;
	e->protocol = ip->protocol;
	e->ttl = ip->ttl;
	e->len = len;
	bpf_ringbuf_submit(e, 0);
	bump(LOGGED);

	if (ip->protocol == IPPROTO_TCP)
		bpf_printk("tcp %u -> %u, %u bytes", sport, dport, len);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
