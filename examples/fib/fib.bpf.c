// SPDX-License-Identifier: MIT
/*
 * fib.bpf.c - tail recursion done as tail calls: fib(n), one step per program run.
 *
 *     fib_step(n, a, b) = n == 0 ? a : fib_step(n - 1, b, a + b)
 *
 * A tail call is a jump that reuses the current frame, so the stack does not grow however
 * many steps run. The state (n, a, b) lives in the array map `state`: the entry program
 * `fib` sets it up and tail-calls `fib_step`, which does one step and tail-calls itself
 * until n reaches 0, then returns fib(n).
 *
 * n is the first packet byte, or `default_n` (.rodata, 30) when that byte is 0. A run
 * makes n + 1 tail calls and Linux allows 33, so n <= 32 works; for a larger n the budget
 * runs out, the tail call falls through and the program returns 0xffffffff with
 * `state.exhausted` set.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 default_n = 30;

struct fib_state {
	__u32 n;         /* steps left */
	__u32 steps;     /* steps done */
	__u64 a, b;      /* fib(k), fib(k + 1) */
	__u32 exhausted; /* 1 when the tail-call budget ran out */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fib_state);
} state SEC(".maps");

/* The prog_array is declared here and defined at the end with its initial slot: a
 * definition naming `fib_step` before `fib` is defined would make clang emit `fib_step`
 * first, and the object's first program is the one `tsbpf run` runs by default. */
struct jmp_map {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, int(void *));
};
extern struct jmp_map jmp SEC(".maps");

#define FIB_FAILED 0xffffffff

SEC("xdp")
int fib(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 zero = 0;
	struct fib_state *s = bpf_map_lookup_elem(&state, &zero);

	if (!s || data + 1 > end)
		return XDP_ABORTED;
	s->n = data[0] ? data[0] : default_n;
	s->steps = 0;
	s->a = 0;
	s->b = 1;
	s->exhausted = 0;
	bpf_tail_call(ctx, &jmp, 0);
	s->exhausted = 1;
	return FIB_FAILED;
}

SEC("xdp")
int fib_step(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct fib_state *s = bpf_map_lookup_elem(&state, &zero);

	if (!s)
		return XDP_ABORTED;
	if (s->n == 0)
		return (__u32)s->a; /* fib(n) */
	__u64 next = s->a + s->b;
	s->a = s->b;
	s->b = next;
	s->n--;
	s->steps++;
	bpf_tail_call(ctx, &jmp, 0);
	s->exhausted = 1; /* the tail call failed: the budget is spent */
	return FIB_FAILED;
}

struct jmp_map jmp SEC(".maps") = {
	.values = { [0] = (void *)&fib_step },
};

char LICENSE[] SEC("license") = "GPL";
