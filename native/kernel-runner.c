// SPDX-License-Identifier: MIT
/*
 * kernel-runner: load a clang-built eBPF object with libbpf, run one program with
 * BPF_PROG_TEST_RUN and print ONE JSON object on stdout:
 *
 *   {"retval": N, "duration_ns": N, "data_out": "HEX", "ctx_out": "HEX",
 *    "maps": {NAME: {KEYHEX: VALUEHEX}}}
 *
 * Usage (mirrors `tsbpf run`):
 *   kernel-runner OBJ.o [--prog NAME] [--data HEX] [--ctx HEX] [--repeat N] [STEP...]
 *   STEP: --slots MAP=IDX:PROG[,...] | --clear MAP=IDX[,...] |
 *         --update MAP=KEYHEX:VALHEX[,...] | --run
 *
 *   kernel-runner --probe    (loads and test-runs a two-instruction XDP program; prints
 *                             {"ok": true} when this process may use bpf())
 *
 *   kernel-runner --raw FILE.json   (hand-built programs and maps, no object file; one case
 *                                    or many per process: see "raw mode" below)
 *
 * Errors print {"error": "..."} on stdout, the message on stderr, and exit 1 (2 for usage).
 * Build: cc -O2 -o kernel-runner kernel-runner.c -lbpf -lelf -lz
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/btf.h>

/* ---- growable string buffer -------------------------------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (b->len + n + 1 > cap)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p)
			abort();
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

static void buf_puts(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void buf_printf(struct buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	buf_add(b, tmp, n < (int)sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static void buf_hex(struct buf *b, const unsigned char *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		char h[2] = { digits[p[i] >> 4], digits[p[i] & 15] };
		buf_add(b, h, 2);
	}
}

/* A JSON string literal, escaped. */
static void buf_json_str(struct buf *b, const char *s)
{
	buf_add(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			buf_add(b, e, 2);
		} else if (c == '\n') {
			buf_add(b, "\\n", 2);
		} else if (c == '\t') {
			buf_add(b, "\\t", 2);
		} else if (c < 0x20) {
			buf_printf(b, "\\u%04x", c);
		} else {
			buf_add(b, (const char *)&c, 1);
		}
	}
	buf_add(b, "\"", 1);
}

/* ---- errors ------------------------------------------------------------------------- */

static struct buf libbpf_log; /* libbpf's warnings, including any verifier log */
static int with_log;          /* add libbpf_log to errors (while opening and loading) */

static int on_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	char *msg = NULL;
	int n = vasprintf(&msg, fmt, ap);
	if (n > 0)
		buf_add(&libbpf_log, msg, n);
	free(msg);
	return 0;
}

static void die_code(int code, const char *fmt, ...)
{
	struct buf msg = { 0 }, out = { 0 };
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	buf_add(&msg, tmp, strlen(tmp));
	if (with_log && libbpf_log.len) {
		buf_add(&msg, "\n", 1);
		buf_add(&msg, libbpf_log.p, libbpf_log.len);
	}
	buf_add(&out, "{\"error\": ", 10);
	buf_json_str(&out, msg.p);
	buf_add(&out, "}\n", 2);
	fputs(out.p, stdout);
	fprintf(stderr, "kernel-runner: %s\n", msg.p);
	exit(code);
}

#define die(...) die_code(1, __VA_ARGS__)
#define usage(...) die_code(2, __VA_ARGS__)

/* ---- parsing ------------------------------------------------------------------------ */

/* Decode lowercase or uppercase hex into a fresh buffer; *len receives the byte count. */
static unsigned char *parse_hex(const char *s, size_t *len)
{
	size_t n = strlen(s);
	if (n % 2)
		usage("odd-length hex string '%s'", s);
	unsigned char *p = calloc(n / 2 + 1, 1);
	for (size_t i = 0; i < n; i += 2) {
		unsigned v = 0;
		for (int j = 0; j < 2; j++) {
			char c = s[i + j];
			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= c - '0';
			else if (c >= 'a' && c <= 'f')
				v |= c - 'a' + 10;
			else if (c >= 'A' && c <= 'F')
				v |= c - 'A' + 10;
			else
				usage("bad hex digit in '%s'", s);
		}
		p[i / 2] = v;
	}
	*len = n / 2;
	return p;
}

static unsigned long long parse_uint(const char *s, const char *what)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *end)
		usage("bad %s '%s'", what, s);
	return v;
}

/* ---- object helpers ----------------------------------------------------------------- */

static struct bpf_object *obj;

static struct bpf_map *find_map(const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);
	if (!m)
		die("no map named '%s'", name);
	return m;
}

static struct bpf_program *find_prog(const char *name)
{
	struct bpf_program *p = bpf_object__find_program_by_name(obj, name);
	if (p)
		return p;
	bpf_object__for_each_program(p, obj)
		if (strcmp(bpf_program__section_name(p), name) == 0)
			return p;
	die("no program named '%s'", name);
	return NULL;
}

static int is_percpu(enum bpf_map_type t)
{
	return t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

/* Splits "MAP=REST" in place; returns REST. */
static char *split_map(char *arg, const char *opt)
{
	char *eq = strchr(arg, '=');
	if (!eq)
		usage("%s expects MAP=..., got '%s'", opt, arg);
	*eq = 0;
	return eq + 1;
}

/* --slots MAP=IDX:PROG[,IDX:PROG...] */
static void step_slots(char *arg)
{
	char *list = split_map(arg, "--slots"), *save = NULL;
	int fd = bpf_map__fd(find_map(arg));
	for (char *it = strtok_r(list, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(it, ':');
		if (!colon)
			usage("--slots expects IDX:PROG, got '%s'", it);
		*colon = 0;
		__u32 idx = (__u32)parse_uint(it, "slot index");
		int pfd = bpf_program__fd(find_prog(colon + 1));
		if (bpf_map_update_elem(fd, &idx, &pfd, BPF_ANY))
			die("--slots %s[%u] = %s: %s", arg, idx, colon + 1, strerror(errno));
	}
}

/* --clear MAP=IDX[,IDX...]; an empty slot is not an error. */
static void step_clear(char *arg)
{
	char *list = split_map(arg, "--clear"), *save = NULL;
	int fd = bpf_map__fd(find_map(arg));
	for (char *it = strtok_r(list, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
		__u32 idx = (__u32)parse_uint(it, "slot index");
		if (bpf_map_delete_elem(fd, &idx) && errno != ENOENT)
			die("--clear %s[%u]: %s", arg, idx, strerror(errno));
	}
}

/* --update MAP=KEYHEX:VALHEX[,...]; an empty KEYHEX means no key (queue, stack, bloom).
 * For per-CPU maps a single value is written to every possible CPU. */
static void step_update(char *arg)
{
	char *list = split_map(arg, "--update"), *save = NULL;
	struct bpf_map *m = find_map(arg);
	int fd = bpf_map__fd(m), ncpu = libbpf_num_possible_cpus();
	__u32 vsz = bpf_map__value_size(m);
	for (char *it = strtok_r(list, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(it, ':');
		if (!colon)
			usage("--update expects KEYHEX:VALHEX, got '%s'", it);
		*colon = 0;
		size_t klen, vlen;
		unsigned char *key = parse_hex(it, &klen), *val = parse_hex(colon + 1, &vlen);
		if (klen && klen != bpf_map__key_size(m))
			die("--update %s: key is %zu bytes, map wants %u", arg, klen,
			    bpf_map__key_size(m));
		if (is_percpu(bpf_map__type(m))) {
			size_t stride = (vsz + 7) & ~7u;
			unsigned char *all = calloc(stride, ncpu);
			for (int c = 0; c < ncpu; c++) {
				size_t off = vlen == vsz ? 0 : (size_t)c * vsz;
				if (vlen != vsz && vlen != (size_t)ncpu * vsz)
					die("--update %s: value is %zu bytes, map wants %u (or %u per CPU x %d)",
					    arg, vlen, vsz, vsz, ncpu);
				memcpy(all + c * stride, val + off, vsz);
			}
			free(val);
			val = all;
		} else if (vlen != vsz) {
			die("--update %s: value is %zu bytes, map wants %u", arg, vlen, vsz);
		}
		if (bpf_map_update_elem(fd, klen ? key : NULL, val, BPF_ANY))
			die("--update %s: %s", arg, strerror(errno));
		free(key);
		free(val);
	}
}

/* ---- the test run ------------------------------------------------------------------- */

static unsigned char *data_in, *ctx_in;
static size_t data_len = 64, ctx_len;
static int report_repeat = 1; /* --repeat: for the reported run only */

struct result {
	__u32 retval, duration;
	unsigned char *data_out, ctx_out[1024];
	__u32 data_out_len, ctx_out_len;
};

static void test_run(struct bpf_program *prog, struct result *r, int repeat)
{
	enum bpf_prog_type type = bpf_program__type(prog);
	size_t out_cap = data_len + 256 * 1024;
	LIBBPF_OPTS(bpf_test_run_opts, o);

	free(r->data_out);
	memset(r, 0, sizeof(*r));
	r->data_out = calloc(out_cap, 1);

	switch (type) {
	case BPF_PROG_TYPE_RAW_TRACEPOINT:
	case BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE:
	case BPF_PROG_TYPE_SYSCALL:
	case BPF_PROG_TYPE_TRACING:
		/* ctx only: no packet, no ctx_out, no repeat (we loop ourselves) */
		o.ctx_in = ctx_in;
		o.ctx_size_in = ctx_len;
		for (int i = 0; i < (repeat > 1 ? repeat : 1); i++)
			if (bpf_prog_test_run_opts(bpf_program__fd(prog), &o))
				die("BPF_PROG_TEST_RUN: %s", strerror(errno));
		r->retval = o.retval;
		return;
	case BPF_PROG_TYPE_XDP:
		/* the kernel refuses a ctx_out without a ctx_in whose data_end == len */
		if (ctx_in) {
			o.ctx_out = r->ctx_out;
			o.ctx_size_out = sizeof(r->ctx_out);
		}
		break;
	default:
		/* skb types: asking for ctx_out makes the kernel use an all-zero ctx_in when none
		 * is given (then wire_len reads as len; with no ctx at all it reads 0) */
		o.ctx_out = r->ctx_out;
		o.ctx_size_out = sizeof(r->ctx_out);
		break;
	}
	o.data_in = data_in;
	o.data_size_in = data_len;
	o.data_out = r->data_out;
	o.data_size_out = out_cap;
	o.ctx_in = ctx_in;
	o.ctx_size_in = ctx_len;
	o.repeat = repeat;
	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &o))
		die("BPF_PROG_TEST_RUN of '%s' (%s): %s", bpf_program__name(prog),
		    libbpf_bpf_prog_type_str(type), strerror(errno));
	r->retval = o.retval;
	r->duration = o.duration;
	r->data_out_len = o.data_size_out;
	r->ctx_out_len = o.ctx_out ? o.ctx_size_out : 0;
}

/* ---- map dump ----------------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int dumped(enum bpf_map_type t)
{
	switch (t) {
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_ARRAY:
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
	case BPF_MAP_TYPE_LRU_HASH:
	case BPF_MAP_TYPE_LRU_PERCPU_HASH:
	case BPF_MAP_TYPE_LPM_TRIE:
		return 1;
	default:
		return 0;
	}
}

/* Appends `"KEYHEX": "VALHEX"` pairs of one map to *out (per-CPU values concatenated). */
static void dump_map_fd(int fd, enum bpf_map_type t, __u32 ksz, __u32 vsz, struct buf *out)
{
	int ncpu = is_percpu(t) ? libbpf_num_possible_cpus() : 1;
	size_t stride = is_percpu(t) ? ((vsz + 7) & ~7u) : vsz;
	int is_array = t == BPF_MAP_TYPE_ARRAY || t == BPF_MAP_TYPE_PERCPU_ARRAY;
	unsigned char *key = calloc(ksz + 8, 1), *next = calloc(ksz + 8, 1);
	unsigned char *val = calloc(stride * ncpu + 8, 1);
	char **lines = NULL;
	size_t n = 0, cap = 0;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, ksz);
		prev = key;
		if (bpf_map_lookup_elem(fd, key, val))
			continue; /* deleted meanwhile */
		int zero = 1;
		struct buf line = { 0 }, v = { 0 };
		for (int c = 0; c < ncpu; c++) {
			buf_hex(&v, val + c * stride, vsz);
			for (__u32 i = 0; i < vsz; i++)
				zero &= val[c * stride + i] == 0;
		}
		if (is_array && zero) {
			free(v.p);
			continue;
		}
		buf_add(&line, "\"", 1);
		buf_hex(&line, key, ksz);
		buf_add(&line, "\": \"", 4);
		buf_add(&line, v.p ? v.p : "", v.len);
		buf_add(&line, "\"", 1);
		free(v.p);
		if (n == cap)
			lines = realloc(lines, (cap = cap ? cap * 2 : 16) * sizeof(*lines));
		lines[n++] = line.p;
	}
	if (!is_array) /* hash order is arbitrary: sort by key */
		qsort(lines, n, sizeof(*lines), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_add(out, ", ", 2);
		buf_add(out, lines[i], strlen(lines[i]));
		free(lines[i]);
	}
	free(lines);
	free(key);
	free(next);
	free(val);
}

static void dump_map(struct bpf_map *m, struct buf *out)
{
	dump_map_fd(bpf_map__fd(m), bpf_map__type(m), bpf_map__key_size(m), bpf_map__value_size(m),
		    out);
}

/* ---- probe -------------------------------------------------------------------------- */

/* Can this process load and test-run a program? (r0 = XDP_PASS; exit) */
static int probe(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	unsigned char pkt[64] = { 0 }, out[128];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt),
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "probe", "GPL", insns, 2, NULL);
	if (fd < 0)
		die("bpf(BPF_PROG_LOAD): %s", strerror(errno));
	if (bpf_prog_test_run_opts(fd, &o))
		die("bpf(BPF_PROG_TEST_RUN): %s", strerror(errno));
	if (o.retval != XDP_PASS)
		die("probe program returned %u, not %u", o.retval, XDP_PASS);
	puts("{\"ok\": true}");
	return 0;
}

/* ---- raw mode: hand-built programs and maps, many cases per process ----------------- */

/*
 * kernel-runner --raw FILE.json   (FILE "-" reads stdin)
 *
 * FILE holds one case, or {"cases": [CASE, ...]}. A case:
 *   {"prog_type": 6,                       BPF_PROG_TYPE_* of every program (default XDP)
 *    "maps": [{"name": "out", "type": 2, "key_size": 4, "value_size": 8,
 *              "max_entries": 4, "flags": 0}, ...],
 *    "progs": [{"name": "p0", "insns": "HEX"}, ...],
 *    "slots": [{"map": 3, "index": 0, "prog": 1}, ...],      prog_array slots to fill
 *    "updates": [{"map": 1, "key": "HEX", "value": "HEX"}],  map entries to write first
 *    "entry": 0, "data": "HEX", "ctx": "HEX", "repeat": 1,
 *    "btf": 1,                     0: load the programs without BTF (see raw_btf)
 *    "xlated": 0}                  1: add "xlated": [HEX per program], the instructions
 *                                     after the verifier's rewrites (a debugging aid)
 * Instructions are raw little-endian bytes; an `lddw` with src_reg 1 (BPF_PSEUDO_MAP_FD) or
 * 2 (BPF_PSEUDO_MAP_VALUE) names the map by its index in "maps" in its imm, which the runner
 * replaces with that map's fd. One case prints one JSON object, the object mode's (retval,
 * duration_ns, data_out, ctx_out, maps: every dumpable map of the case by its "name"); a
 * "cases" file prints a JSON array, one element per line. A case that fails prints
 * {"error": "...", "stage": "map"|"load"|"slots"|"update"|"run", "errno": N} instead, and for a
 * rejected program also "prog": INDEX and "verifier_log": the tail of the verifier's log.
 */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jval {
	enum jtype t;
	long long num;
	char *str;          /* J_STR */
	size_t n;           /* J_ARR, J_OBJ: element count */
	struct jval *items; /* J_ARR, J_OBJ */
	char **keys;        /* J_OBJ */
};

struct jparser {
	const char *s;
	size_t pos;
};

static void jskip(struct jparser *p)
{
	while (p->s[p->pos] == ' ' || p->s[p->pos] == '\n' || p->s[p->pos] == '\r' ||
	       p->s[p->pos] == '\t')
		p->pos++;
}

static void jfail(struct jparser *p, const char *what)
{
	usage("--raw: bad JSON at byte %zu: %s", p->pos, what);
}

static char *jstring(struct jparser *p)
{
	struct buf b = { 0 };
	if (p->s[p->pos] != '"')
		jfail(p, "expected a string");
	p->pos++;
	buf_add(&b, "", 0);
	for (;;) {
		char c = p->s[p->pos++];
		if (c == 0)
			jfail(p, "unterminated string");
		if (c == '"')
			break;
		if (c == '\\') {
			char e = p->s[p->pos++];
			char out = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
			if (e == 'u') {
				unsigned v = 0;
				for (int i = 0; i < 4; i++) {
					char h = p->s[p->pos++];
					v = v * 16 + (h >= '0' && h <= '9' ? h - '0' : (h | 32) - 'a' + 10);
				}
				out = v < 0x80 ? (char)v : '?';
			}
			buf_add(&b, &out, 1);
		} else {
			buf_add(&b, &c, 1);
		}
	}
	return b.p;
}

static void jparse(struct jparser *p, struct jval *v)
{
	memset(v, 0, sizeof(*v));
	jskip(p);
	char c = p->s[p->pos];
	if (c == '{' || c == '[') {
		int obj = c == '{';
		size_t cap = 0;
		v->t = obj ? J_OBJ : J_ARR;
		p->pos++;
		jskip(p);
		if (p->s[p->pos] == (obj ? '}' : ']')) {
			p->pos++;
			return;
		}
		for (;;) {
			if (v->n == cap) {
				cap = cap ? cap * 2 : 8;
				v->items = realloc(v->items, cap * sizeof(*v->items));
				if (obj)
					v->keys = realloc(v->keys, cap * sizeof(*v->keys));
			}
			if (obj) {
				jskip(p);
				v->keys[v->n] = jstring(p);
				jskip(p);
				if (p->s[p->pos++] != ':')
					jfail(p, "expected ':'");
			}
			jparse(p, &v->items[v->n++]);
			jskip(p);
			char sep = p->s[p->pos++];
			if (sep == (obj ? '}' : ']'))
				return;
			if (sep != ',')
				jfail(p, "expected ',' or a closing bracket");
		}
	}
	if (c == '"') {
		v->t = J_STR;
		v->str = jstring(p);
		return;
	}
	if (!strncmp(p->s + p->pos, "true", 4) || !strncmp(p->s + p->pos, "false", 5)) {
		v->t = J_BOOL;
		v->num = c == 't';
		p->pos += c == 't' ? 4 : 5;
		return;
	}
	if (!strncmp(p->s + p->pos, "null", 4)) {
		p->pos += 4;
		return;
	}
	char *end;
	errno = 0;
	v->t = J_NUM;
	v->num = strtoll(p->s + p->pos, &end, 10);
	if (end == p->s + p->pos || errno)
		jfail(p, "expected a value");
	if (*end == '.' || *end == 'e' || *end == 'E')
		jfail(p, "numbers must be integers");
	p->pos = end - p->s;
}

static void jfree(struct jval *v)
{
	for (size_t i = 0; i < v->n; i++) {
		jfree(&v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
}

static const struct jval *jget(const struct jval *o, const char *key)
{
	if (!o || o->t != J_OBJ)
		return NULL;
	for (size_t i = 0; i < o->n; i++)
		if (!strcmp(o->keys[i], key))
			return &o->items[i];
	return NULL;
}

static long long jnum(const struct jval *o, const char *key, long long dflt)
{
	const struct jval *v = jget(o, key);
	if (!v || v->t == J_NULL)
		return dflt;
	if (v->t != J_NUM && v->t != J_BOOL)
		usage("--raw: \"%s\" must be a number", key);
	return v->num;
}

static const char *jstr(const struct jval *o, const char *key)
{
	const struct jval *v = jget(o, key);
	if (!v || v->t == J_NULL)
		return NULL;
	if (v->t != J_STR)
		usage("--raw: \"%s\" must be a string", key);
	return v->str;
}

static const struct jval *jarr(const struct jval *o, const char *key)
{
	const struct jval *v = jget(o, key);
	if (!v || v->t == J_NULL)
		return NULL;
	if (v->t != J_ARR)
		usage("--raw: \"%s\" must be an array", key);
	return v;
}

static char *read_all(const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	struct buf b = { 0 };
	char tmp[65536];
	size_t n;
	if (!f)
		usage("--raw: cannot open '%s': %s", path, strerror(errno));
	buf_add(&b, "", 0);
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_add(&b, tmp, n);
	if (f != stdin)
		fclose(f);
	return b.p;
}

/* A failed case: {"error": MSG, "stage": STAGE, "errno": N[, "prog": I, "verifier_log": LOG]} */
static void raw_error(struct buf *out, const char *stage, int err, int prog, const char *log,
		      const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	buf_add(out, "{\"error\": ", 10);
	buf_json_str(out, msg);
	buf_printf(out, ", \"stage\": \"%s\", \"errno\": %d", stage, err);
	if (prog >= 0)
		buf_printf(out, ", \"prog\": %d", prog);
	if (log) {
		buf_add(out, ", \"verifier_log\": ", 18);
		buf_json_str(out, log);
	}
	buf_add(out, "}", 1);
}

#define RAW_LOG_SIZE (1 << 20)
#define RAW_LOG_TAIL 4096

/*
 * BTF for a raw program: `int` and one static FUNC `int fN(void)` per function (the main one
 * global), with a func_info record at each function's first instruction. The kernel wants
 * func_info for a subprogram that tail-calls; functions start at 0 and at every bpf-to-bpf call
 * target (call src_reg 1, lddw src_reg 4). Returns the BTF fd (or -1, errno set) and fills
 * *info / *cnt.
 */
static int raw_btf(const struct bpf_insn *insns, size_t cnt, struct bpf_func_info **info,
		   __u32 *ninfo)
{
	unsigned char *start = calloc(cnt + 1, 1);
	size_t nf = 0;
	start[0] = 1;
	for (size_t k = 0; k < cnt; k++) {
		const struct bpf_insn *in = &insns[k];
		long long t = -1;
		if (in->code == (BPF_JMP | BPF_CALL) && in->src_reg == BPF_PSEUDO_CALL)
			t = (long long)k + 1 + in->imm;
		else if (in->code == (BPF_LD | BPF_IMM | BPF_DW) && in->src_reg == BPF_PSEUDO_FUNC)
			t = (long long)k + 1 + in->imm;
		if (t >= 0 && (size_t)t < cnt)
			start[t] = 1;
		if (in->code == (BPF_LD | BPF_IMM | BPF_DW))
			k++;
	}
	for (size_t k = 0; k < cnt; k++)
		nf += start[k];
	/* strings: "\0int\0f0\0f1..." */
	struct buf str = { 0 }, types = { 0 };
	buf_add(&str, "\0int", 5);
	buf_add(&str, "", 1);
	__u32 int_name = 1;
	/* [1] int */
	struct btf_type t_int = { .name_off = int_name, .info = BTF_KIND_INT << 24, .size = 4 };
	__u32 int_enc = (BTF_INT_SIGNED << 24) | 32;
	buf_add(&types, (const char *)&t_int, sizeof(t_int));
	buf_add(&types, (const char *)&int_enc, sizeof(int_enc));
	/* [2] int (void) */
	struct btf_type t_proto = { .name_off = 0, .info = BTF_KIND_FUNC_PROTO << 24, .type = 1 };
	buf_add(&types, (const char *)&t_proto, sizeof(t_proto));
	*info = calloc(nf, sizeof(**info));
	*ninfo = 0;
	for (size_t k = 0; k < cnt; k++) {
		if (!start[k])
			continue;
		char name[32];
		__u32 off = (__u32)str.len;
		int n = snprintf(name, sizeof(name), "f%zu", k);
		buf_add(&str, name, (size_t)n + 1);
		/* [3 + i] FUNC, static but for the main one (vlen holds the linkage) */
		struct btf_type t_fn = { .name_off = off,
					 .info = (BTF_KIND_FUNC << 24) | (k == 0 ? BTF_FUNC_GLOBAL : BTF_FUNC_STATIC),
					 .type = 2 };
		buf_add(&types, (const char *)&t_fn, sizeof(t_fn));
		(*info)[*ninfo].insn_off = (__u32)k;
		(*info)[*ninfo].type_id = 3 + *ninfo;
		(*ninfo)++;
	}
	struct btf_header h = { .magic = BTF_MAGIC, .version = BTF_VERSION,
				.hdr_len = sizeof(h), .type_off = 0, .type_len = (__u32)types.len,
				.str_off = (__u32)types.len, .str_len = (__u32)str.len };
	struct buf blob = { 0 };
	buf_add(&blob, (const char *)&h, sizeof(h));
	buf_add(&blob, types.p, types.len);
	buf_add(&blob, str.p, str.len);
	int fd = bpf_btf_load(blob.p, blob.len, NULL);
	free(blob.p);
	free(types.p);
	free(str.p);
	free(start);
	return fd;
}

/* Runs one case; appends its result (or error) object to *out. */
static void raw_case(const struct jval *c, struct buf *out)
{
	static char *log;
	const struct jval *maps = jarr(c, "maps"), *progs = jarr(c, "progs");
	const struct jval *slots = jarr(c, "slots"), *updates = jarr(c, "updates");
	size_t nmaps = maps ? maps->n : 0, nprogs = progs ? progs->n : 0;
	int *map_fds = calloc(nmaps + 1, sizeof(int)), *prog_fds = calloc(nprogs + 1, sizeof(int));
	enum bpf_prog_type type = (enum bpf_prog_type)jnum(c, "prog_type", BPF_PROG_TYPE_XDP);
	long long entry = jnum(c, "entry", 0);
	const char *data_hex = jstr(c, "data"), *ctx_hex = jstr(c, "ctx");
	unsigned char *data = NULL, *ctx = NULL, *data_out = NULL, ctx_out[1024];
	size_t dlen = 64, clen = 0;
	struct bpf_insn *insns = NULL;
	struct bpf_func_info *finfo = NULL;
	int btf_fd = -1;

	for (size_t i = 0; i < nmaps; i++)
		map_fds[i] = -1;
	for (size_t i = 0; i < nprogs; i++)
		prog_fds[i] = -1;
	if (!log)
		log = malloc(RAW_LOG_SIZE);

	for (size_t i = 0; i < nmaps; i++) {
		const struct jval *m = &maps->items[i];
		const char *name = jstr(m, "name");
		char kname[16] = { 0 };
		LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = (__u32)jnum(m, "flags", 0));
		if (name) /* the kernel takes [A-Za-z0-9_.], at most 15 bytes */
			for (size_t k = 0; k < 15 && name[k]; k++)
				kname[k] = isalnum((unsigned char)name[k]) || name[k] == '.' ? name[k] : '_';
		map_fds[i] = bpf_map_create((enum bpf_map_type)jnum(m, "type", BPF_MAP_TYPE_ARRAY),
					    kname, (__u32)jnum(m, "key_size", 4),
					    (__u32)jnum(m, "value_size", 8),
					    (__u32)jnum(m, "max_entries", 1), &mo);
		if (map_fds[i] < 0) {
			raw_error(out, "map", errno, -1, NULL, "map %zu (%s): %s", i, name ? name : "",
				  strerror(errno));
			goto done;
		}
	}

	for (size_t i = 0; i < nprogs; i++) {
		const struct jval *p = &progs->items[i];
		const char *hex = jstr(p, "insns"), *name = jstr(p, "name");
		enum bpf_prog_type ptype = (enum bpf_prog_type)jnum(p, "prog_type", type);
		size_t len = 0;
		char kname[16] = { 0 };
		if (!hex)
			usage("--raw: program %zu has no \"insns\"", i);
		free(insns);
		insns = (struct bpf_insn *)parse_hex(hex, &len);
		if (len % 8)
			usage("--raw: program %zu: %zu bytes is not a whole number of instructions", i,
			      len);
		size_t cnt = len / 8;
		for (size_t k = 0; k < cnt; k++) {
			struct bpf_insn *in = &insns[k];
			if (in->code != (BPF_LD | BPF_IMM | BPF_DW))
				continue;
			if (in->src_reg == BPF_PSEUDO_MAP_FD || in->src_reg == BPF_PSEUDO_MAP_VALUE) {
				if (in->imm < 0 || (size_t)in->imm >= nmaps) {
					raw_error(out, "load", EINVAL, (int)i, NULL,
						  "program %zu: lddw at %zu names map %d, which does not exist",
						  i, k, in->imm);
					goto done;
				}
				in->imm = map_fds[in->imm];
			}
			k++;
		}
		if (name)
			for (size_t k = 0; k < 15 && name[k]; k++)
				kname[k] = isalnum((unsigned char)name[k]) ? name[k] : '_';
		LIBBPF_OPTS(bpf_prog_load_opts, po,
			    .expected_attach_type = (enum bpf_attach_type)jnum(p, "attach_type", 0),
			    .prog_flags = (__u32)jnum(p, "flags", 0));
		free(finfo);
		finfo = NULL;
		if (btf_fd >= 0)
			close(btf_fd);
		btf_fd = -1;
		if (jnum(c, "btf", 1)) {
			__u32 ninfo = 0;
			btf_fd = raw_btf(insns, cnt, &finfo, &ninfo);
			if (btf_fd < 0) {
				raw_error(out, "load", errno, (int)i, NULL, "program %zu: loading BTF: %s", i,
					  strerror(errno));
				goto done;
			}
			po.prog_btf_fd = btf_fd;
			po.func_info = finfo;
			po.func_info_cnt = ninfo;
			po.func_info_rec_size = sizeof(*finfo);
		}
		prog_fds[i] = bpf_prog_load(ptype, kname, "GPL", insns, cnt, &po);
		if (prog_fds[i] < 0) {
			/* again, with the verifier's log */
			int err = errno;
			log[0] = 0;
			po.log_buf = log;
			po.log_size = RAW_LOG_SIZE;
			po.log_level = 1;
			int fd = bpf_prog_load(ptype, kname, "GPL", insns, cnt, &po);
			if (fd >= 0) { /* accepted with a log: a transient failure */
				prog_fds[i] = fd;
			} else {
				size_t n = strlen(log);
				raw_error(out, "load", err, (int)i, n > RAW_LOG_TAIL ? log + n - RAW_LOG_TAIL : log,
					  "program %zu (%s): %s", i, name ? name : "", strerror(err));
				goto done;
			}
		}
	}

	for (size_t i = 0; slots && i < slots->n; i++) {
		const struct jval *s = &slots->items[i];
		long long m = jnum(s, "map", -1), p = jnum(s, "prog", -1);
		__u32 idx = (__u32)jnum(s, "index", 0);
		if (m < 0 || (size_t)m >= nmaps || p < 0 || (size_t)p >= nprogs)
			usage("--raw: slot %zu names a map or program that does not exist", i);
		if (bpf_map_update_elem(map_fds[m], &idx, &prog_fds[p], BPF_ANY)) {
			raw_error(out, "slots", errno, (int)p, NULL, "slot %u of map %lld = program %lld: %s",
				  idx, m, p, strerror(errno));
			goto done;
		}
	}

	for (size_t i = 0; updates && i < updates->n; i++) {
		const struct jval *u = &updates->items[i];
		long long m = jnum(u, "map", -1);
		const char *k = jstr(u, "key"), *v = jstr(u, "value");
		size_t kl, vl;
		if (m < 0 || (size_t)m >= nmaps || !k || !v)
			usage("--raw: update %zu needs \"map\", \"key\" and \"value\"", i);
		unsigned char *key = parse_hex(k, &kl), *val = parse_hex(v, &vl);
		int r = bpf_map_update_elem(map_fds[m], kl ? key : NULL, val,
					    (__u64)jnum(u, "flags", BPF_ANY));
		int err = errno;
		free(key);
		free(val);
		if (r) {
			raw_error(out, "update", err, -1, NULL, "update %zu of map %lld: %s", i, m,
				  strerror(err));
			goto done;
		}
	}

	if (entry < 0 || (size_t)entry >= nprogs)
		usage("--raw: entry %lld is not a program of the case", entry);
	if (data_hex)
		data = parse_hex(data_hex, &dlen);
	else
		data = calloc(dlen, 1);
	if (ctx_hex)
		ctx = parse_hex(ctx_hex, &clen);
	{
		size_t cap = dlen + 256 * 1024;
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data, .data_size_in = dlen,
			    .ctx_in = ctx, .ctx_size_in = clen,
			    .repeat = (int)jnum(c, "repeat", 1));
		data_out = calloc(cap, 1);
		o.data_out = data_out;
		o.data_size_out = cap;
		if (type != BPF_PROG_TYPE_XDP || ctx) {
			o.ctx_out = ctx_out;
			o.ctx_size_out = sizeof(ctx_out);
		}
		if (bpf_prog_test_run_opts(prog_fds[entry], &o)) {
			raw_error(out, "run", errno, (int)entry, NULL, "BPF_PROG_TEST_RUN: %s",
				  strerror(errno));
			goto done;
		}
		buf_printf(out, "{\"retval\": %u, \"duration_ns\": %u, \"data_out\": \"", o.retval,
			   o.duration);
		buf_hex(out, data_out, o.data_size_out);
		buf_add(out, "\", \"ctx_out\": \"", 15);
		buf_hex(out, ctx_out, o.ctx_out ? o.ctx_size_out : 0);
		buf_add(out, "\", \"maps\": {", 12);
		int first = 1;
		for (size_t i = 0; i < nmaps; i++) {
			const struct jval *m = &maps->items[i];
			enum bpf_map_type t = (enum bpf_map_type)jnum(m, "type", BPF_MAP_TYPE_ARRAY);
			const char *name = jstr(m, "name");
			char dflt[32];
			if (!dumped(t))
				continue;
			if (!name) {
				snprintf(dflt, sizeof(dflt), "map%zu", i);
				name = dflt;
			}
			if (!first)
				buf_add(out, ", ", 2);
			first = 0;
			buf_json_str(out, name);
			buf_add(out, ": {", 3);
			dump_map_fd(map_fds[i], t, (__u32)jnum(m, "key_size", 4),
				    (__u32)jnum(m, "value_size", 8), out);
			buf_add(out, "}", 1);
		}
		buf_add(out, "}", 1);
		if (jnum(c, "xlated", 0)) { /* the programs as the verifier rewrote them */
			buf_puts(out, ", \"xlated\": [");
			for (size_t i = 0; i < nprogs; i++) {
				struct bpf_prog_info info = { 0 };
				__u32 len = sizeof(info);
				unsigned char *x = NULL;
				if (!bpf_obj_get_info_by_fd(prog_fds[i], &info, &len) && info.xlated_prog_len) {
					__u32 xl = info.xlated_prog_len;
					x = calloc(xl, 1);
					memset(&info, 0, sizeof(info));
					info.xlated_prog_len = xl;
					info.xlated_prog_insns = (__u64)(unsigned long)x;
					len = sizeof(info);
					if (bpf_obj_get_info_by_fd(prog_fds[i], &info, &len))
						info.xlated_prog_len = 0;
				}
				buf_puts(out, i ? ", \"" : "\"");
				if (x)
					buf_hex(out, x, info.xlated_prog_len);
				buf_add(out, "\"", 1);
				free(x);
			}
			buf_add(out, "]", 1);
		}
		buf_add(out, "}", 1);
	}

done:
	for (size_t i = 0; i < nprogs; i++)
		if (prog_fds[i] >= 0)
			close(prog_fds[i]);
	for (size_t i = 0; i < nmaps; i++)
		if (map_fds[i] >= 0)
			close(map_fds[i]);
	if (btf_fd >= 0)
		close(btf_fd);
	free(finfo);
	free(map_fds);
	free(prog_fds);
	free(insns);
	free(data);
	free(ctx);
	free(data_out);
}

static int raw_mode(const char *path)
{
	struct jparser p = { .s = read_all(path) };
	struct jval root;
	struct buf out = { 0 };
	cpu_set_t cpus;

	jparse(&p, &root);
	if (root.t != J_OBJ)
		usage("--raw: the file must hold a JSON object");
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus))
		die("sched_setaffinity: %s", strerror(errno));
	const struct jval *cases = jarr(&root, "cases");
	if (!cases) {
		raw_case(&root, &out);
		buf_add(&out, "\n", 1);
	} else {
		buf_add(&out, "[", 1);
		for (size_t i = 0; i < cases->n; i++) {
			if (cases->items[i].t != J_OBJ)
				usage("--raw: case %zu is not an object", i);
			buf_add(&out, i ? ",\n" : "\n", i ? 2 : 1);
			raw_case(&cases->items[i], &out);
			if (out.len > (1 << 20)) { /* stream big batches */
				fwrite(out.p, 1, out.len, stdout);
				out.len = 0;
			}
		}
		buf_add(&out, "\n]\n", 3);
	}
	fwrite(out.p ? out.p : "", 1, out.len, stdout);
	jfree(&root);
	free((char *)p.s);
	free(out.p);
	return 0;
}

/* ---- main --------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	const char *prog_name = NULL;
	struct bpf_program *prog = NULL;
	struct result r = { 0 };
	cpu_set_t cpus;

	libbpf_set_print(on_libbpf_print);
	if (argc == 2 && !strcmp(argv[1], "--probe"))
		return probe();
	if (argc == 3 && !strcmp(argv[1], "--raw"))
		return raw_mode(argv[2]);
	if (argc < 2 || argv[1][0] == '-')
		usage("usage: kernel-runner OBJ.o [--prog NAME] [--data HEX] [--ctx HEX] "
		      "[--repeat N] [--slots|--clear|--update MAP=...|--run]...");

	/* First pass: the options that shape the reported run. */
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--run"))
			continue;
		if (strcmp(a, "--prog") && strcmp(a, "--data") && strcmp(a, "--ctx") &&
		    strcmp(a, "--repeat") && strcmp(a, "--slots") && strcmp(a, "--clear") &&
		    strcmp(a, "--update"))
			usage("unknown option '%s'", a);
		if (i + 1 >= argc)
			usage("%s needs a value", a);
		if (!strcmp(a, "--prog"))
			prog_name = argv[i + 1];
		else if (!strcmp(a, "--data"))
			data_in = parse_hex(argv[i + 1], &data_len);
		else if (!strcmp(a, "--ctx"))
			ctx_in = parse_hex(argv[i + 1], &ctx_len);
		else if (!strcmp(a, "--repeat"))
			report_repeat = (int)parse_uint(argv[i + 1], "repeat count");
		i++;
	}
	if (!data_in)
		data_in = calloc(data_len, 1);

	/* Pin to CPU 0 so per-CPU map values land in CPU 0's slot. */
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus))
		die("sched_setaffinity: %s", strerror(errno));

	with_log = 1;
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj)
		die("cannot open '%s': %s", argv[1], strerror(errno));
	if (bpf_object__load(obj))
		die("cannot load '%s': %s", argv[1], strerror(errno));
	with_log = 0;

	if (prog_name) {
		prog = find_prog(prog_name);
	} else {
		prog = bpf_object__next_program(obj, NULL);
		if (!prog)
			die("'%s' has no programs", argv[1]);
	}

	/* Second pass: the steps, left to right. */
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--run")) { /* once, not reported */
			test_run(prog, &r, 1);
			continue;
		}
		if (!strcmp(a, "--slots"))
			step_slots(argv[i + 1]);
		else if (!strcmp(a, "--clear"))
			step_clear(argv[i + 1]);
		else if (!strcmp(a, "--update"))
			step_update(argv[i + 1]);
		i++;
	}
	test_run(prog, &r, report_repeat);

	/* The report. */
	struct buf out = { 0 };
	struct bpf_map *m;
	int first = 1;
	buf_printf(&out, "{\"retval\": %u, \"duration_ns\": %u, \"data_out\": \"", r.retval,
		   r.duration);
	buf_hex(&out, r.data_out, r.data_out_len);
	buf_add(&out, "\", \"ctx_out\": \"", 15);
	buf_hex(&out, r.ctx_out, r.ctx_out_len);
	buf_add(&out, "\", \"maps\": {", 12);
	bpf_object__for_each_map(m, obj) {
		if (!dumped(bpf_map__type(m)))
			continue;
		if (!first)
			buf_add(&out, ", ", 2);
		first = 0;
		buf_json_str(&out, bpf_map__name(m));
		buf_add(&out, ": {", 3);
		dump_map(m, &out);
		buf_add(&out, "}", 1);
	}
	buf_add(&out, "}}\n", 3);
	fputs(out.p, stdout);
	bpf_object__close(obj);
	return 0;
}
