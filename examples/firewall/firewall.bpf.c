// SPDX-License-Identifier: MIT
/*
 * firewall.bpf.c - an XDP firewall: drop packets whose source address matches a
 * blocklist of IPv4 / IPv6 prefixes, kept in longest-prefix-match tries.
 *
 *   blocklist_v4, blocklist_v6  LPM tries: prefix -> struct rule { id, hits }
 *   stats                       array indexed by verdict (XDP_DROP, XDP_PASS):
 *                               struct datarec { packets, bytes }
 *   last_block                  the last match (.bss): rule id, source family, verdict
 *
 * The host fills the tries (bpftool map update, or `tsbpf run --update`), e.g. block
 * 10.1.0.0/16 as rule 7:
 *   key   = prefixlen 16 (u32, little-endian) + address bytes: 10000000 0a010000
 *   value = id 7, hits 0:                                     07000000 00000000
 * A matching rule's `hits` is counted through the value pointer the lookup returned.
 * Non-IP packets (ARP, ...) and truncated headers pass.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct lpm_v4 {
	__u32 prefixlen;
	__u8 addr[4];
};

struct lpm_v6 {
	__u32 prefixlen;
	__u8 addr[16];
};

struct rule {
	__u32 id;   /* the host's rule number */
	__u32 hits; /* packets the rule dropped */
};

struct datarec {
	__u64 packets;
	__u64 bytes;
};

enum family { FAMILY_NONE, FAMILY_IPV4, FAMILY_IPV6 };

struct block_event {
	__u32 rule_id;
	enum family family;
	__u32 verdict;
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__type(key, struct lpm_v4);
	__type(value, struct rule);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} blocklist_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__type(key, struct lpm_v6);
	__type(value, struct rule);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} blocklist_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XDP_REDIRECT + 1);
	__type(key, __u32);
	__type(value, struct datarec);
} stats SEC(".maps");

struct block_event last_block;

static __always_inline int account(struct xdp_md *ctx, __u32 verdict)
{
	struct datarec *rec = bpf_map_lookup_elem(&stats, &verdict);

	if (rec) {
		__sync_fetch_and_add(&rec->packets, 1);
		__sync_fetch_and_add(&rec->bytes, ctx->data_end - ctx->data);
	}
	return verdict;
}

static __always_inline int block(struct xdp_md *ctx, struct rule *r, enum family family)
{
	__sync_fetch_and_add(&r->hits, 1);
	last_block.rule_id = r->id;
	last_block.family = family;
	last_block.verdict = XDP_DROP;
	return account(ctx, XDP_DROP);
}

SEC("xdp")
int xdp_firewall(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct rule *r;

	if ((void *)(eth + 1) > data_end)
		return account(ctx, XDP_PASS);

	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		struct lpm_v4 key = { .prefixlen = 32 };

		if ((void *)(ip + 1) > data_end)
			return account(ctx, XDP_PASS);
		__builtin_memcpy(key.addr, &ip->saddr, sizeof(key.addr));
		r = bpf_map_lookup_elem(&blocklist_v4, &key);
		if (r)
			return block(ctx, r, FAMILY_IPV4);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		struct lpm_v6 key = { .prefixlen = 128 };

		if ((void *)(ip6 + 1) > data_end)
			return account(ctx, XDP_PASS);
		__builtin_memcpy(key.addr, &ip6->saddr, sizeof(key.addr));
		r = bpf_map_lookup_elem(&blocklist_v6, &key);
		if (r)
			return block(ctx, r, FAMILY_IPV6);
	}
	return account(ctx, XDP_PASS);
}

char LICENSE[] SEC("license") = "GPL";
