// The map core: the program-side operations of hash, LRU and array maps, compiled to
// WebAssembly (build.sh) and run on the shared linear memory, so that compiled programs reach
// their maps without leaving WebAssembly and both engines share one implementation.
//
// Layout (see memory/layout.ts): a map's handle address (0x1000 + 16 * i, never mapped for
// programs) holds the address of its descriptor; descriptors, buckets and element records
// live in hidden pages (allocated, but in no segment, so programs cannot reach them); values
// live in live-tracked segments, accessible from the first time their element is used on (as
// Linux's element memory is, freed or not).
//
// Nothing here allocates: when an update needs an element and the free list is empty it
// returns NEED_ROOM (or NEED_BUCKETS when the bucket array should double first) before
// changing anything, and the host maps more and calls again. Freed elements are reused as
// Linux reuses them (measured: test/fixtures/hash_reuse.bpf.c): a deleted or replaced element
// goes back on the free list at once and the next insert takes it (last freed, first reused);
// its bytes stay readable through a stale pointer until then. A preallocated map's update of
// an existing key takes the map's spare element instead and keeps the replaced one as the next
// spare (Linux's extra_elems).

typedef unsigned char u8;
typedef unsigned int u32;
typedef int i32;
typedef unsigned long long u64;
typedef long long i64;

#define EXPORT(name) __attribute__((export_name(#name)))

#define EPERM 1
#define ENOENT 2
#define E2BIG 7
#define EEXIST 17
#define EINVAL 22

#define BPF_ANY 0
#define BPF_NOEXIST 1
#define BPF_EXIST 2
#define BPF_F_LOCK 4

// Results that send the caller back to the host (never errnos).
#define NEED_ROOM (-4096)
#define NEED_BUCKETS (-4097)
// The helper entry points' "take the generic path" result.
#define SLOW ((i64)0x8000000000000000ULL)

// struct htab.kind
#define KIND_HASH 1
#define KIND_ARRAY 2
// struct htab.flags
#define F_LRU 1
#define F_PERCPU 2
#define F_RDONLY_PROG 4
#define F_NO_PREALLOC 8 // BPF_F_NO_PREALLOC: no spare element, replacements use the free list

// memory/layout.ts
#define MAP_HANDLE_BASE 0x1000u
#define MAP_HANDLE_END 0x100000u
#define MAP_HANDLE_STRIDE 16u
#define PAGE_SHIFT 12
#define PAGE_TABLE_BASE 0x100000u
#define SEGMENT_TABLE_BASE 0x600000u
#define SEG_STACK 2u
#define SEG_WRITABLE 1u
#define RUN_STATE 0x180u

/** Per-run state the host keeps in the null page (memory/layout.ts RUN_STATE_*). */
struct run_state {
  u32 cpu; // CPU of the current run
  u32 stack_top;
};

/** A segment descriptor (memory/layout.ts SEG_*). */
struct segment {
  u32 start, end, slot_size, value_size, live, flags;
};

/**
 * A map descriptor (64 bytes). Arrays use the first fields and `aux`: the values' base. For hash
 * maps `aux` is the spare element of a preallocated map (Linux's `extra_elems`): an update of an
 * existing key takes it and leaves the replaced element as the next spare.
 */
struct htab {
  u32 kind, flags, key_size, value_size, stride, cpus, capacity, count;
  u32 buckets, mask, max_mask, free;
  u32 head, tail, reserved, aux;
};

/** An element: bucket chain, hash, order list (oldest first), its value slot, its key. */
struct elem {
  u32 next;   // bucket chain, or the free list
  u32 hash;
  u32 older, newer;
  u32 value;  // CPU 0's value
  u32 live;   // CPU 0's live byte (the other CPUs' follow)
  u32 pad[2];
  u8 key[];   // key_size bytes, zero-padded to 8
};

#define ELEM_HEADER 32u

static inline struct run_state *run(void) { return (struct run_state *)RUN_STATE; }
static inline struct htab *H(u32 a) { return (struct htab *)a; }
static inline struct elem *E(u32 a) { return (struct elem *)a; }
static inline u32 A(const void *p) { return (u32)p; }

static inline u32 load32(const u8 *p) {
  u32 v;
  __builtin_memcpy(&v, p, 4);
  return v;
}
static inline u64 load64(const u8 *p) {
  u64 v;
  __builtin_memcpy(&v, p, 8);
  return v;
}

/**
 * A multiply-mix hash of a key (the kernel's jhash order is not observable: see keys()): each
 * 8-byte word times its own odd constant, so the products do not wait on each other, xored
 * together and mixed once; the top half of the last product, so the bucket index (low bits)
 * depends on every bit.
 */
static u32 hash_key(const u8 *k, u32 n) {
  u64 h = 0x9e3779b97f4a7c15ull * (n + 1);
  u64 c = 0xbf58476d1ce4e5b9ull;
  u32 i = 0;
  for (; i + 8 <= n; i += 8, c += 0x94d049bb133111ecull) h ^= load64(k + i) * c;
  if (i < n) {
    u64 t = 0;
    u32 s = 0;
    if (i + 4 <= n) {
      t = load32(k + i);
      i += 4;
      s = 32;
    }
    for (; i < n; i++, s += 8) t |= (u64)k[i] << s;
    h ^= (t + 1) * c;
  }
  h ^= h >> 29;
  return (u32)((h * 0xff51afd7ed558ccdull) >> 32);
}

static int key_eq(const u8 *a, const u8 *b, u32 n) {
  u32 i = 0;
  for (; i + 8 <= n; i += 8)
    if (load64(a + i) != load64(b + i)) return 0;
  if (i + 4 <= n) {
    if (load32(a + i) != load32(b + i)) return 0;
    i += 4;
  }
  for (; i < n; i++)
    if (a[i] != b[i]) return 0;
  return 1;
}

static u32 find(struct htab *h, const u8 *key, u32 hash) {
  u32 e = ((u32 *)h->buckets)[hash & h->mask];
  while (e != 0 && !(E(e)->hash == hash && key_eq(E(e)->key, key, h->key_size))) e = E(e)->next;
  return e;
}

static void order_unlink(struct htab *h, struct elem *e) {
  if (e->older) E(e->older)->newer = e->newer;
  else h->head = e->newer;
  if (e->newer) E(e->newer)->older = e->older;
  else h->tail = e->older;
}

static void order_append(struct htab *h, struct elem *e) {
  e->older = h->tail;
  e->newer = 0;
  if (h->tail) E(h->tail)->newer = A(e);
  else h->head = A(e);
  h->tail = A(e);
}

static void chain_unlink(struct htab *h, struct elem *e) {
  u32 *p = &((u32 *)h->buckets)[e->hash & h->mask];
  while (*p != A(e)) p = &E(*p)->next;
  *p = e->next;
}

/** Frees an element that is in no chain: first on the free list, still accessible. */
static void park(struct htab *h, struct elem *e) {
  e->next = h->free;
  h->free = A(e);
}

/** Takes an element out of the table and the order, without retiring it. */
static void unlink(struct htab *h, struct elem *e) {
  chain_unlink(h, e);
  order_unlink(h, e);
  h->count--;
}

/** Takes an element out of the map and frees it. */
static void drop(struct htab *h, struct elem *e) {
  unlink(h, e);
  park(h, e);
}

/** Links a new element into its bucket and as the newest in the order. */
static void link(struct htab *h, struct elem *n) {
  u32 *b = &((u32 *)h->buckets)[n->hash & h->mask];
  n->next = *b;
  *b = A(n);
  order_append(h, n);
  h->count++;
}

/** A use (LRU): the element becomes the most recently used. */
static void touch(struct htab *h, struct elem *e) {
  if ((h->flags & F_LRU) && h->tail != A(e)) {
    order_unlink(h, e);
    order_append(h, e);
  }
}

/** An element off the free list, its value slots made live. */
static struct elem *take_free(struct htab *h) {
  struct elem *e = E(h->free);
  h->free = e->next;
  for (u32 c = 0; c < h->cpus; c++) ((u8 *)e->live)[c] = 1;
  return e;
}

/** Writes a value: the host gives every CPU's (stride apart), a program its CPU's. */
static void put_value(struct htab *h, struct elem *e, const u8 *v, u32 cpu, int host, int fresh) {
  u8 *dst = (u8 *)e->value;
  if (host) {
    for (u32 c = 0; c < h->cpus; c++)
      __builtin_memmove(dst + c * h->stride, v + c * h->stride, h->value_size);
    return;
  }
  __builtin_memmove(dst + cpu * h->stride, v, h->value_size);
  if (fresh)
    for (u32 c = 0; c < h->cpus; c++)
      if (c != cpu) __builtin_memset(dst + c * h->stride, 0, h->stride);
}

// ---- hash and LRU maps ----

/** Sets up a descriptor (zeroed memory) for a hash or LRU map. */
EXPORT(htab_init)
void htab_init(u32 ha, u32 flags, u32 key_size, u32 value_size, u32 cpus, u32 capacity,
               u32 buckets, u32 mask, u32 max_mask) {
  struct htab *h = H(ha);
  h->kind = KIND_HASH;
  h->flags = flags;
  h->key_size = key_size;
  h->value_size = value_size;
  h->stride = (value_size + 7) & ~7u;
  h->cpus = cpus;
  h->capacity = capacity;
  h->buckets = buckets;
  h->mask = mask;
  h->max_mask = max_mask;
}

/** Bytes of one element record of a map with `key_size`-byte keys. */
EXPORT(elem_size)
u32 elem_size(u32 key_size) { return ELEM_HEADER + ((key_size + 7) & ~7u); }

/** Adds an element record (zeroed memory) with its value slot to the free list. */
EXPORT(htab_add_free)
void htab_add_free(u32 ha, u32 ea, u32 value, u32 live) {
  struct elem *e = E(ea);
  e->value = value;
  e->live = live;
  e->next = H(ha)->free;
  H(ha)->free = ea;
}

/** Moves every element to a new zeroed bucket array of `mask + 1` buckets. */
EXPORT(htab_rehash)
void htab_rehash(u32 ha, u32 buckets, u32 mask) {
  struct htab *h = H(ha);
  h->buckets = buckets;
  h->mask = mask;
  for (u32 e = h->head; e != 0; e = E(e)->newer) {
    u32 *b = &((u32 *)buckets)[E(e)->hash & mask];
    E(e)->next = *b;
    *b = e;
  }
}

/** The element of a key, or 0 (no LRU use: host lookups). */
EXPORT(htab_find)
u32 htab_find(u32 ha, u32 key) {
  struct htab *h = H(ha);
  return find(h, (const u8 *)key, hash_key((const u8 *)key, h->key_size));
}

/** `bpf_map_lookup_elem`: the value of CPU `cpu`, or 0; an LRU use. */
EXPORT(htab_lookup_elem)
u32 htab_lookup_elem(u32 ha, u32 key, u32 cpu) {
  struct htab *h = H(ha);
  u32 e = htab_find(ha, key);
  if (e == 0) return 0;
  touch(h, E(e));
  return E(e)->value + ((h->flags & F_PERCPU) ? cpu * h->stride : 0);
}

/**
 * An LRU map's update, after Linux's `htab_lru_map_update_elem` (and the per-CPU variant, for
 * flags other than BPF_EXIST): an element is taken first — a free one, else the least recently
 * used is evicted and its memory reused at once, as in Linux — and, for non-per-CPU maps, the
 * new value is copied into it; only then are the key and the flags looked at. An element taken
 * for an update that fails, or that a per-CPU update in place did not need, is freed again.
 */
static i32 lru_update(struct htab *h, const u8 *k, u32 hash, u32 old, const u8 *v, u64 flags,
                      u32 cpu, i32 host) {
  int percpu = (h->flags & F_PERCPU) != 0;
  int full = h->count >= h->capacity;
  u32 found = old != 0 && !(full && old == h->head) ? old : 0;
  if (!full && h->free == 0) return NEED_ROOM;
  if (!found && h->count >= h->mask + 1 && h->mask < h->max_mask) return NEED_BUCKETS;
  struct elem *n;
  if (full) {
    n = E(h->head);
    unlink(h, n);
  } else {
    n = take_free(h);
  }
  __builtin_memcpy(n->key, k, h->key_size);
  n->hash = hash;
  if (!percpu) put_value(h, n, v, cpu, host, 1);
  if (found ? flags == BPF_NOEXIST : flags == BPF_EXIST) {
    park(h, n);
    return found ? -EEXIST : -ENOENT;
  }
  if (found && percpu) {
    touch(h, E(found));
    put_value(h, E(found), v, cpu, host, 0);
    park(h, n);
    return 0;
  }
  if (percpu) put_value(h, n, v, cpu, host, 1);
  if (found) drop(h, E(found));
  link(h, n);
  return 0;
}

/**
 * `bpf_map_update_elem` (program: `cpu`'s value; host: every CPU's): 0, a negative errno, or
 * NEED_ROOM / NEED_BUCKETS with nothing changed. As in Linux, updating an existing key of a
 * non-per-CPU map links a new element (same place in the order) and frees the old one.
 */
static i32 update(struct htab *h, u32 key, u32 value, u64 flags, u32 cpu, i32 host) {
  const u8 *k = (const u8 *)key;
  const u8 *v = (const u8 *)value;
  if (!host && (h->flags & F_RDONLY_PROG)) return -EPERM;
  if (flags > BPF_EXIST) return -EINVAL;
  u32 hash = hash_key(k, h->key_size);
  u32 found = find(h, k, hash);
  int percpu = (h->flags & F_PERCPU) != 0;
  if (!percpu) cpu = 0;
  if ((h->flags & F_LRU) && !(percpu && flags == BPF_EXIST))
    return lru_update(h, k, hash, found, v, flags, cpu, host);
  if (found) {
    if (flags == BPF_NOEXIST) return -EEXIST;
    if (percpu) {
      touch(h, E(found)); // an LRU map's per-CPU update with BPF_EXIST
      put_value(h, E(found), v, cpu, host, 0);
      return 0;
    }
    // a preallocated map takes its spare and keeps the replaced element as the next one
    int spare = !(h->flags & F_NO_PREALLOC) && h->aux != 0;
    if (!spare && h->free == 0) return NEED_ROOM;
    struct elem *o = E(found), *n = spare ? E(h->aux) : take_free(h);
    __builtin_memcpy(n->key, o->key, (h->key_size + 7) & ~7u);
    n->hash = hash;
    put_value(h, n, v, cpu, host, 1);
    // n takes o's place in its chain and in the order
    u32 *p = &((u32 *)h->buckets)[hash & h->mask];
    while (*p != found) p = &E(*p)->next;
    *p = A(n);
    n->next = o->next;
    n->older = o->older;
    n->newer = o->newer;
    if (o->older) E(o->older)->newer = A(n);
    else h->head = A(n);
    if (o->newer) E(o->newer)->older = A(n);
    else h->tail = A(n);
    if (h->flags & F_NO_PREALLOC) park(h, o);
    else h->aux = found;
    return 0;
  }
  if (flags == BPF_EXIST) return -ENOENT;
  if (h->count >= h->capacity) return -E2BIG;
  if (h->free == 0) return NEED_ROOM;
  if (h->count >= h->mask + 1 && h->mask < h->max_mask) return NEED_BUCKETS;
  struct elem *n = take_free(h);
  __builtin_memcpy(n->key, k, h->key_size);
  n->hash = hash;
  put_value(h, n, v, cpu, host, 1);
  link(h, n);
  return 0;
}

EXPORT(htab_update_elem)
i32 htab_update_elem(u32 ha, u32 key, u32 value, u32 flags_lo, u32 flags_hi, u32 cpu, i32 host) {
  return update(H(ha), key, value, (u64)flags_hi << 32 | flags_lo, cpu, host);
}

/** `bpf_map_delete_elem`: 0 or -ENOENT (-EPERM from a program on a read-only map). */
EXPORT(htab_delete_elem)
i32 htab_delete_elem(u32 ha, u32 key, i32 host) {
  struct htab *h = H(ha);
  if (!host && (h->flags & F_RDONLY_PROG)) return -EPERM;
  u32 e = htab_find(ha, key);
  if (e == 0) return -ENOENT;
  drop(h, E(e));
  return 0;
}

/** Entries. */
EXPORT(htab_count)
u32 htab_count(u32 ha) { return H(ha)->count; }

/** Buckets of the table. */
EXPORT(htab_buckets)
u32 htab_buckets(u32 ha) { return H(ha)->mask + 1; }

/** The oldest element (insertion order; LRU: least recently used), or 0. */
EXPORT(htab_head)
u32 htab_head(u32 ha) { return H(ha)->head; }

/** The element after `e` in the order, or 0. */
EXPORT(elem_newer)
u32 elem_newer(u32 e) { return E(e)->newer; }

/** Address of an element's key. */
EXPORT(elem_key)
u32 elem_key(u32 e) { return A(E(e)->key); }

/** Address of an element's value (CPU 0's). */
EXPORT(elem_value)
u32 elem_value(u32 e) { return E(e)->value; }

// ---- array maps ----

/** Sets up a descriptor (zeroed memory) for an array map whose values start at `base`. */
EXPORT(array_init)
void array_init(u32 ha, u32 flags, u32 value_size, u32 cpus, u32 max_entries, u32 base) {
  struct htab *h = H(ha);
  h->kind = KIND_ARRAY;
  h->flags = flags;
  h->key_size = 4;
  h->value_size = value_size;
  h->stride = (value_size + 7) & ~7u;
  h->cpus = cpus;
  h->capacity = max_entries;
  h->aux = base;
}

static u32 array_value(struct htab *h, u32 index, u32 cpu) {
  return h->aux + (index * h->cpus + ((h->flags & F_PERCPU) ? cpu : 0)) * h->stride;
}

// ---- the helpers, for compiled programs ----

/**
 * Whether a helper may access `size` bytes at `addr`: the live stack frames
 * `[stack_lo, stack_top)`, or an accessible slot of a segment (AddressSpace.checkSlot).
 */
static int accessible(u64 addr, u32 size, u32 write, u32 stack_lo) {
  if (addr >> 32) return 0;
  u32 a = (u32)addr, end = a + size;
  if (end < a) return 0;
  if (a >= stack_lo && end <= run()->stack_top) return 1;
  if (end > (u32)__builtin_wasm_memory_size(0) << 16) return 0;
  u32 id = ((u32 *)PAGE_TABLE_BASE)[a >> PAGE_SHIFT];
  if (id == 0) return 0;
  struct segment *s = (struct segment *)(SEGMENT_TABLE_BASE + id * 32);
  if (s->flags & SEG_STACK) return 0;
  if (write && !(s->flags & SEG_WRITABLE)) return 0;
  if (a < s->start || end > s->end) return 0;
  u32 slot = (a - s->start) / s->slot_size;
  if (end > s->start + slot * s->slot_size + s->value_size) return 0;
  return s->live == 0 || ((u8 *)s->live)[slot] != 0;
}

/** The descriptor r1 names, or 0 (not a map the core runs: the generic helper decides). */
static struct htab *map_arg(u64 r1) {
  if (r1 < MAP_HANDLE_BASE || r1 >= MAP_HANDLE_END || (r1 & (MAP_HANDLE_STRIDE - 1))) return 0;
  return H(*(u32 *)(u32)r1);
}

/** `bpf_map_lookup_elem(r1, r2)` for hash, LRU and array maps; SLOW for anything else. */
EXPORT(map_lookup_elem)
i64 map_lookup_elem(u64 r1, u64 r2, u32 stack_lo) {
  struct htab *h = map_arg(r1);
  if (h == 0 || !accessible(r2, h->key_size, 0, stack_lo)) return SLOW;
  u32 cpu = run()->cpu;
  if ((h->flags & F_PERCPU) && cpu >= h->cpus) return SLOW;
  if (h->kind == KIND_ARRAY) {
    u32 index = load32((const u8 *)(u32)r2);
    return index < h->capacity ? array_value(h, index, cpu) : 0;
  }
  return htab_lookup_elem(A(h), (u32)r2, cpu);
}

/** `bpf_map_update_elem(r1, r2, r3, r4)` for hash, LRU and array maps; SLOW for the rest. */
EXPORT(map_update_elem)
i64 map_update_elem(u64 r1, u64 r2, u64 r3, u64 flags, u32 stack_lo) {
  struct htab *h = map_arg(r1);
  if (h == 0 || !accessible(r2, h->key_size, 0, stack_lo) ||
      !accessible(r3, h->value_size, 0, stack_lo))
    return SLOW;
  u32 cpu = run()->cpu;
  if ((h->flags & F_PERCPU) && cpu >= h->cpus) return SLOW;
  if (h->flags & F_RDONLY_PROG) return -EPERM;
  if (h->kind == KIND_ARRAY) {
    u32 index = load32((const u8 *)(u32)r2);
    if ((flags & ~(u64)BPF_F_LOCK) > BPF_EXIST) return -EINVAL;
    if (index >= h->capacity) return -E2BIG;
    if (flags & BPF_NOEXIST) return -EEXIST;
    if (flags & BPF_F_LOCK) return -EINVAL;
    __builtin_memmove((u8 *)array_value(h, index, cpu), (const u8 *)(u32)r3, h->value_size);
    return 0;
  }
  i32 r = update(h, (u32)r2, (u32)r3, flags, cpu, 0);
  return r == NEED_ROOM || r == NEED_BUCKETS ? SLOW : r;
}

/** `bpf_map_delete_elem(r1, r2)` for hash and LRU maps; SLOW for the rest. */
EXPORT(map_delete_elem)
i64 map_delete_elem(u64 r1, u64 r2, u32 stack_lo) {
  struct htab *h = map_arg(r1);
  if (h == 0 || h->kind != KIND_HASH || !accessible(r2, h->key_size, 0, stack_lo)) return SLOW;
  return htab_delete_elem(A(h), (u32)r2, 0);
}
