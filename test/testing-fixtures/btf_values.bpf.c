// SPDX-License-Identifier: MIT
/*
 * btf_values.bpf.c - globals of every BTF kind the map-value decoder handles, with known
 * contents (.data), for test/testing-btf.test.ts. Rebuild: ./build.sh
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum color { RED = 1, GREEN = 2, BLUE = 4 };
enum delta { MINUS = -1, ZERO = 0 };

struct flags {
	unsigned int a : 3;
	unsigned int b : 5;
	int c : 4;
	_Bool on;
};

union word {
	__u32 u;
	__u8 bytes[4];
};

struct mixed {
	char name[8];      /* "tsbpf" + NULs: a string */
	char raw[4];       /* no NUL: an array of numbers */
	__s16 neg;
	enum color col;
	enum delta d;
	struct flags f;
	union word w;
	struct {           /* anonymous member: merged into the parent */
		__u16 x, y;
	};
	__u64 big;
	__s64 small;
	float ratio;
	void *ptr;
	__u32 matrix[2][2];
};

struct mixed values = {
	.name = "tsbpf",
	.raw = { 'a', 'b', 'c', 'd' },
	.neg = -2,
	.col = GREEN,
	.d = MINUS,
	.f = { .a = 5, .b = 17, .c = -3, .on = 1 },
	.w = { .u = 0x04030201 },
	.x = 7,
	.y = 8,
	.big = 0xfedcba9876543210ULL,
	.small = -5,
	.ratio = 0.5f,
	.matrix = { { 1, 2 }, { 3, 4 } },
};

SEC("xdp")
int touch(struct xdp_md *ctx)
{
	return values.col;
}

char LICENSE[] SEC("license") = "GPL";
