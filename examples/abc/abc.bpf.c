// SPDX-License-Identifier: MIT
/*
 * abc.bpf.c - the classic A -> B -> C tail call.
 *
 * A (the XDP entry program) calls B, an ordinary bpf-to-bpf subprogram. B tail-calls C
 * through the prog_array `jmp_table`. A tail call is a jump, not a call: C replaces B on
 * B's stack frame, so when C returns, its return value lands in A as B's return value,
 * and the rest of B never runs.
 *
 * Each step appends a letter to the global `path` (.bss):
 *   'A'  A starts            'B'  B starts           'C'  C runs
 *   'b'  the rest of B (only when the tail call fails: empty slot)
 *   'a'  A again, after B "returned"
 * So a run writes "ABCa" and returns XDP_PASS (C's verdict). Empty the slot
 * (`--clear jmp_table=0`) and it writes "ABba" and returns XDP_DROP (B's own verdict).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char path[16];    /* the letters, in the order the steps ran */
__u32 steps;      /* how many letters */
__s32 b_returned; /* what A saw B return */

/* B's own verdict, used when its tail call fails. A global, not a constant: clang does not
 * know that a tail call never returns, and with a constant it would fold B's `return`
 * into A. */
int b_verdict = XDP_DROP;

static __always_inline void step(char letter)
{
	__u32 i = steps;

	if (i < sizeof(path))
		path[i] = letter;
	steps = i + 1;
}

int sub_b(struct xdp_md *ctx);

/* A: the entry program (defined first: the object's first program is what `tsbpf run` runs). */
SEC("xdp")
int prog_a(struct xdp_md *ctx)
{
	step('A');
	int verdict = sub_b(ctx);
	b_returned = verdict;
	step('a');
	return verdict;
}

int prog_c(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, int(void *));
} jmp_table SEC(".maps") = {
	.values = { [0] = (void *)&prog_c },
};

/* B: a global function (verified on its own); to tail-call it must return int. */
__noinline int sub_b(struct xdp_md *ctx)
{
	step('B');
	bpf_tail_call(ctx, &jmp_table, 0);
	step('b'); /* the rest of B: runs only if the tail call failed */
	return b_verdict;
}

/* C: reached by the tail call; runs on B's frame and "returns from B". */
SEC("xdp")
int prog_c(struct xdp_md *ctx)
{
	step('C');
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
