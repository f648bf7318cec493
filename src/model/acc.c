/* SPDX-License-Identifier: MIT */
/* The accumulator: count changes of one write transaction, kept in
 * memory and written sorted. Sorting turns tens of thousands of
 * scattered B-tree updates into one ordered pass, which is what makes
 * bulk loads and group commits fast.
 *
 * Pair changes are the hot path of a bulk load (an order of n items
 * makes n(n-1) of them), so they are not summed in a hash table, whose
 * probes miss the cache on every call: they are appended to a log, 16
 * bytes each, and summed by sorting. The sort is an LSD radix sort on
 * (rel, a, b) that skips every byte position on which all entries
 * agree; item ids are dense, so a store of a few thousand items sorts
 * in four linear passes whatever the number of relations. When the log
 * doubles since it was last summed, it is summed in place (sort, then
 * merge equal keys), so memory follows the distinct pairs, not the
 * calls. rel is part of the key, so any relation value works, in any
 * number. Item counter changes are few (one per item of an order) and
 * stay in a small hash table.
 *
 * Bulk mode (a load into a fresh store, flushed once) skips the log for
 * +1s: each item's partners are appended to blocks of their own and
 * counted item by item at the flush, which writes every list whole
 * through xs_pair_writer (store/bulk.c); see "Bulk mode" below. A
 * basket's pairs are appended on a helper thread (acc_feed.c), and the
 * flush counts the lists on one (acc_rows.c); the structures they share
 * are in acc_impl.h. */
#include "model/acc_impl.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* The log is summed no sooner than at this many entries (16 MiB). */
#define COMPACT_MIN ((size_t) 1 << 20)
#define RADIX_BITS 8
#define RADIX_SIZE (1u << RADIX_BITS)
/* Byte positions of the key (rel, a, b), least significant first. */
#define KEY_DIGITS 12

/* splitmix64's finaliser: keys are dense numbers, so their low bits
 * must be mixed. */
static size_t
slot_of(uint64_t key, size_t cap)
{
	key ^= key >> 30;
	key *= 0xbf58476d1ce4e5b9ull;
	key ^= key >> 27;
	key *= 0x94d049bb133111ebull;
	key ^= key >> 31;
	return (size_t) (key & (cap - 1));
}

/* Headers only: the blocks go with the arena (arena_reset). */
void
xs_acc_buckets_free(xs_acc *acc, struct bucket_set *s)
{
	acc->bucket_bytes -= s->n_a * sizeof(*s->by_a);
	free(s->by_a);
	s->by_a  = NULL;
	s->n_a   = 0;
	s->max_b = 0;
}

static void
arena_reset(struct arena *ar)
{
	while (ar->chunks != NULL) {
		struct arena_chunk *c = ar->chunks;

		ar->chunks = c->next;
		munmap(c, c->size);
	}
	ar->p     = NULL;
	ar->left  = 0;
	ar->bytes = 0;
}

/* 'len' bytes, 8-aligned, freed only by arena_reset. */
static void *
arena_alloc(struct arena *ar, size_t len)
{
	void *p;

	len = (len + 7) & ~(size_t) 7;
	if (len > ar->left) {
		size_t              size = sizeof(struct arena_chunk) + len;
		struct arena_chunk *c;

		size = size > ARENA_CHUNK ? size : ARENA_CHUNK;
		/* Every byte of a chunk is written, soon: its pages are
		 * faulted in by the one call (MAP_POPULATE) rather than a
		 * trap each as the buckets first touch them, which on the
		 * EPYC VM cost the helper that fills them a third of its
		 * time (a fresh load of Online Retail: 1.12-1.18 ->
		 * 1.08-1.14 s wall, 8% less CPU). */
		c = mmap(NULL, size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (c == MAP_FAILED) {
			return NULL;
		}
		c->size    = size;
		c->next    = ar->chunks;
		ar->chunks = c;
		ar->p      = (char *) c + sizeof(*c);
		ar->left   = size - sizeof(*c);
		ar->bytes += size;
	}
	p = ar->p;
	ar->p += len;
	ar->left -= len;
	return p;
}

xsell_err
xs_acc_alloc(xs_acc **accp)
{
	xs_acc *acc = calloc(1, sizeof(*acc));

	if (acc == NULL) {
		return XSELL_ENOMEM;
	}
	acc->pairs.compact_at = COMPACT_MIN;
	*accp                 = acc;
	return XSELL_OK;
}

void
xs_acc_free(xs_acc *acc)
{
	if (acc == NULL) {
		return;
	}
	(void) xs_acc_feed_end(acc); /* joins the helper; freed below */
	free(acc->pairs.v);
	free(acc->pairs.tmp);
	free(acc->items.slots);
	for (unsigned r = 0; r < XS_REL_END; r++) {
		free(acc->packed[r].v);
		xs_acc_buckets_free(acc, &acc->dense[r]);
	}
	arena_reset(&acc->arena);
	free(acc->ptmp);
	free(acc->row);
	free(acc->items_seen.slots);
	free(acc->items_seen.names);
	free(acc);
}

void
xs_acc_clear(xs_acc *acc)
{
	(void) xs_acc_feed_end(acc); /* its buckets are dropped below */
	acc->feed_off         = false;
	acc->pairs.n          = 0;
	acc->pairs.sorted     = 0;
	acc->pairs.compact_at = COMPACT_MIN;
	if (acc->items.cap != 0) {
		memset(acc->items.slots, 0,
		    acc->items.cap * sizeof(*acc->items.slots));
	}
	acc->items.n = 0;
	for (unsigned r = 0; r < XS_REL_END; r++) {
		acc->packed[r].n     = 0;
		acc->packed[r].max_a = 0;
		acc->packed[r].max_b = 0;
		xs_acc_buckets_free(acc, &acc->dense[r]);
	}
	arena_reset(&acc->arena);
	acc->held = 0;
	acc->bulk = false;
	if (acc->items_seen.n != 0) { /* a slot is set only by a put */
		memset(acc->items_seen.slots, 0,
		    acc->items_seen.cap * sizeof(*acc->items_seen.slots));
	}
	acc->items_seen.n         = 0;
	acc->items_seen.names_len = 0;
}

/* The slot of (h, name) in c, or the empty slot where it would go. */
static struct name_slot *
name_find(const struct name_cache *c, uint64_t h, const char *p, size_t len)
{
	size_t i = (size_t) h & (c->cap - 1);

	for (;; i = (i + 1) & (c->cap - 1)) {
		struct name_slot *sl = &c->slots[i];

		if (sl->id == 0 ||
		    (sl->h == h && sl->len == len &&
		        memcmp(c->names + sl->off, p, len) == 0)) {
			return sl;
		}
	}
}

bool
xs_acc_item_id_get(const xs_acc *acc, const char *p, size_t len, uint32_t *idp)
{
	const struct name_cache *c = &acc->items_seen;
	const struct name_slot  *sl;

	if (!acc->bulk || c->n == 0) {
		return false;
	}
	sl = name_find(c, xs_hash64(p, len, 0), p, len);
	if (sl->id == 0) {
		return false;
	}
	*idp = sl->id;
	return true;
}

static xsell_err
name_cache_grow(struct name_cache *c)
{
	size_t            cap = c->cap ? c->cap * 2 : 4096;
	struct name_slot *old = c->slots, *slots;

	slots = calloc(cap, sizeof(*slots));
	if (slots == NULL) {
		return XSELL_ENOMEM;
	}
	c->slots = slots;
	for (size_t i = 0; i < c->cap; i++) {
		if (old[i].id != 0) {
			size_t j = (size_t) old[i].h & (cap - 1);

			while (slots[j].id != 0) {
				j = (j + 1) & (cap - 1);
			}
			slots[j] = old[i];
		}
	}
	c->cap = cap;
	free(old);
	return XSELL_OK;
}

xsell_err
xs_acc_item_id_put(xs_acc *acc, const char *p, size_t len, uint32_t id)
{
	struct name_cache *c = &acc->items_seen;
	struct name_slot  *sl;
	uint64_t           h;
	xsell_err          err;

	if (!acc->bulk || id == 0 || len > NAME_LEN_MAX ||
	    c->n >= NAME_CACHE_MAX) {
		return XSELL_OK; /* not remembered: the store answers */
	}
	h = xs_hash64(p, len, 0);
	if (2 * (c->n + 1) > c->cap) {
		err = name_cache_grow(c);
		if (err != XSELL_OK) {
			return err;
		}
	}
	if (c->names_len + len > c->names_cap) {
		size_t cap = c->names_cap ? c->names_cap : 65536;
		char  *names;

		while (cap < c->names_len + len) {
			cap *= 2;
		}
		names = realloc(c->names, cap);
		if (names == NULL) {
			return XSELL_ENOMEM;
		}
		c->names     = names;
		c->names_cap = cap;
	}
	sl = name_find(c, h, p, len);
	if (sl->id != 0) {
		return XSELL_OK;
	}
	memcpy(c->names + c->names_len, p, len);
	sl->h   = h;
	sl->id  = id;
	sl->len = (uint32_t) len;
	sl->off = c->names_len;
	c->names_len += len;
	c->n++;
	return XSELL_OK;
}

size_t
xs_acc_bytes(const xs_acc *acc)
{
	size_t packed = acc->ptmp_cap;

	for (unsigned r = 0; r < XS_REL_END; r++) {
		packed += acc->packed[r].cap;
	}
	packed += (acc->bucket_bytes + acc->arena.bytes +
	              xs_acc_feed_bytes(acc->feed)) /
	    sizeof(uint64_t);
	return acc->items.cap * sizeof(struct item_slot) +
	    (acc->pairs.cap + acc->pairs.tmp_cap) * sizeof(struct pair_entry) +
	    packed * sizeof(uint64_t) + acc->row_cap * sizeof(*acc->row);
}

/* ==== Pairs: sort and sum ==== */

/* Byte 'digit' of the key, digit 0 the least significant byte of b. */
static unsigned
digit_of(const struct pair_entry *e, unsigned digit)
{
	uint32_t w = digit < 4 ? e->b : digit < 8 ? e->a : e->rel;

	return (w >> (8 * (digit % 4))) & (RADIX_SIZE - 1);
}

/* Which byte positions of the key differ somewhere in v[0..n): a bit
 * per digit. Dense ids leave the high bytes of a and b zero, and a log
 * of one relation has one rel, so most positions need no pass. */
static unsigned
digits_that_vary(const struct pair_entry *v, size_t n)
{
	uint32_t diff[3] = { 0, 0, 0 };
	unsigned mask    = 0;

	for (size_t i = 1; i < n; i++) {
		diff[0] |= v[i].b ^ v[0].b;
		diff[1] |= v[i].a ^ v[0].a;
		diff[2] |= v[i].rel ^ v[0].rel;
	}
	for (unsigned d = 0; d < KEY_DIGITS; d++) {
		if ((diff[d / 4] >> (8 * (d % 4))) & (RADIX_SIZE - 1)) {
			mask |= 1u << d;
		}
	}
	return mask;
}

static xsell_err
packed_reserve_tmp(xs_acc *acc, size_t n)
{
	uint64_t *t;

	if (acc->ptmp_cap >= n) {
		return XSELL_OK;
	}
	t = realloc(acc->ptmp, n * sizeof(*t));
	if (t == NULL) {
		return XSELL_ENOMEM;
	}
	acc->ptmp     = t;
	acc->ptmp_cap = n;
	return XSELL_OK;
}

/* The low wb bits of a sorted key: its b. */
static uint64_t
b_mask(unsigned wb)
{
	return wb >= 64 ? UINT64_MAX : ((uint64_t) 1 << wb) - 1;
}

/* One stable counting-sort pass of src[0..n) into dst on 'digit'. */
static void
radix_pass(const struct pair_entry *src, struct pair_entry *dst, size_t n,
    unsigned digit)
{
	size_t count[RADIX_SIZE] = { 0 };
	size_t sum               = 0;

	for (size_t i = 0; i < n; i++) {
		count[digit_of(&src[i], digit)]++;
	}
	for (unsigned r = 0; r < RADIX_SIZE; r++) {
		size_t c = count[r];

		count[r] = sum;
		sum += c;
	}
	for (size_t i = 0; i < n; i++) {
		dst[count[digit_of(&src[i], digit)]++] = src[i];
	}
}

/* Sort v[0..n) by (rel, a, b) using tmp (room for n), LSD radix on the
 * bytes that vary. Returns the buffer holding the result (v or tmp). */
static struct pair_entry *
radix_sort(struct pair_entry *v, struct pair_entry *tmp, size_t n)
{
	unsigned           mask = digits_that_vary(v, n);
	struct pair_entry *src = v, *dst = tmp;

	for (unsigned d = 0; d < KEY_DIGITS; d++) {
		struct pair_entry *t;

		if (!(mask & (1u << d))) {
			continue;
		}
		radix_pass(src, dst, n, d);
		t   = src;
		src = dst;
		dst = t;
	}
	return src;
}

static bool
entry_same_key(const struct pair_entry *x, const struct pair_entry *y)
{
	return x->b == y->b && x->a == y->a && x->rel == y->rel;
}

/* Merge runs of equal keys of sorted v[0..n) into 'out' (may be v),
 * summing their changes; keys whose changes cancel are kept (with d 0)
 * so that a sum stays exact across compactions. Returns the count. */
static size_t
sum_runs(const struct pair_entry *v, size_t n, struct pair_entry *out)
{
	size_t m = 0;

	for (size_t i = 0; i < n;) {
		struct pair_entry e = v[i];
		int64_t           d = 0;

		for (; i < n && entry_same_key(&v[i], &e); i++) {
			d += v[i].d;
		}
		e.d      = (int32_t) d;
		out[m++] = e;
	}
	return m;
}

static xsell_err
log_reserve_tmp(struct pair_log *l)
{
	struct pair_entry *tmp;

	if (l->tmp_cap >= l->n) {
		return XSELL_OK;
	}
	tmp = realloc(l->tmp, l->cap * sizeof(*tmp));
	if (tmp == NULL) {
		return XSELL_ENOMEM;
	}
	l->tmp     = tmp;
	l->tmp_cap = l->cap;
	return XSELL_OK;
}

static bool
entry_less(const struct pair_entry *x, const struct pair_entry *y)
{
	if (x->rel != y->rel) {
		return x->rel < y->rel;
	}
	if (x->a != y->a) {
		return x->a < y->a;
	}
	return x->b < y->b;
}

/* Merge the sorted, unique v[0..nv) and t[0..nt) into v (room for
 * nv + nt), summing a key found in both; returns the merged count. The
 * merge runs from the back, so no entry of v is overwritten before it is
 * read; the result is then moved to the front. */
static size_t
merge_back(
    struct pair_entry *v, size_t nv, const struct pair_entry *t, size_t nt)
{
	size_t out = nv + nt, i = nv, j = nt;

	while (j > 0) {
		if (i > 0 && entry_same_key(&v[i - 1], &t[j - 1])) {
			struct pair_entry e = t[--j];

			e.d      = (int32_t) ((int64_t) e.d + v[--i].d);
			v[--out] = e;
		} else if (i > 0 && entry_less(&t[j - 1], &v[i - 1])) {
			v[--out] = v[--i];
		} else {
			v[--out] = t[--j];
		}
	}
	/* v[0..i) is already in place; the rest starts at 'out'. */
	if (out != i) {
		memmove(v + i, v + out, (nv + nt - out) * sizeof(*v));
	}
	return i + (nv + nt - out);
}

/* Sort the entries added since the last compaction, sum equal keys and
 * merge them into the sorted part: afterwards the log holds each pending
 * (rel, a, b) once, in order. Each entry is radix-sorted once; the
 * sorted part is only merged. */
static xsell_err
log_compact(struct pair_log *l)
{
	struct pair_entry *tail = l->v + l->sorted, *sorted;
	size_t             nt   = l->n - l->sorted;
	xsell_err          err;

	if (nt == 0) {
		return XSELL_OK;
	}
	err = log_reserve_tmp(l);
	if (err != XSELL_OK) {
		return err;
	}
	sorted = radix_sort(tail, l->tmp, nt);
	if (sorted != l->tmp) {
		memcpy(l->tmp, sorted, nt * sizeof(*sorted));
	}
	nt        = sum_runs(l->tmp, nt, l->tmp);
	l->n      = merge_back(l->v, l->sorted, l->tmp, nt);
	l->sorted = l->n;
	/* The next compaction when as many new entries came as are sorted,
	 * so the merge costs O(1) per new entry. */
	l->compact_at = l->n * 2 > COMPACT_MIN ? l->n * 2 : COMPACT_MIN;
	return XSELL_OK;
}

static xsell_err
log_grow(struct pair_log *l)
{
	size_t             cap = l->cap ? l->cap * 2 : 4096;
	struct pair_entry *v   = realloc(l->v, cap * sizeof(*v));

	if (v == NULL) {
		return XSELL_ENOMEM;
	}
	l->v   = v;
	l->cap = cap;
	return XSELL_OK;
}

xsell_err
xs_acc_log_add(
    struct pair_log *l, uint32_t rel, uint32_t a, uint32_t b, int32_t d)
{
	xsell_err err;

	if (l->n >= l->compact_at) {
		err = log_compact(l);
		if (err != XSELL_OK) {
			return err;
		}
	}
	if (l->n == l->cap) {
		err = log_grow(l);
		if (err != XSELL_OK) {
			return err;
		}
	}
	l->v[l->n++] = (struct pair_entry) { rel, a, b, d };
	return XSELL_OK;
}

/* ==== Bulk mode: packed keys, one sort at the flush ==== */

static xsell_err bulk_add(
    xs_acc *acc, enum xs_rel rel, uint32_t a, uint32_t b);

xsell_err
xs_acc_pair_add(
    xs_acc *acc, enum xs_rel rel, uint32_t a, uint32_t b, int32_t d)
{
	if (acc->bulk && d == 1 && (unsigned) rel < XS_REL_END) {
		return bulk_add(acc, rel, a, b);
	}
	return xs_acc_log_add(&acc->pairs, (uint32_t) rel, a, b, d);
}

/* Write the summed log, one xs_store_pairs_add per relation, in
 * ascending relation; changes that summed to 0 are left out. */
static xsell_err
flush_pairs(struct pair_log *l, xs_store *st, MDB_txn *txn)
{
	struct xs_pair_delta *deltas;
	xsell_err             err;

	err = log_compact(l);
	if (err != XSELL_OK || l->n == 0) {
		return err;
	}
	/* tmp is free again after the compaction and holds n entries of
	 * 16 bytes, room enough for n deltas of 12. */
	deltas = (struct xs_pair_delta *) (void *) l->tmp;
	for (size_t i = 0; i < l->n && err == XSELL_OK;) {
		uint32_t rel = l->v[i].rel;
		size_t   n   = 0;

		for (; i < l->n && l->v[i].rel == rel; i++) {
			if (l->v[i].d != 0) {
				deltas[n].a = l->v[i].a;
				deltas[n].b = l->v[i].b;
				deltas[n].d = l->v[i].d;
				n++;
			}
		}
		if (n != 0) {
			err = xs_store_pairs_add(
			    st, txn, (enum xs_rel) rel, deltas, n);
		}
	}
	return err;
}

/* ==== Item counters ==== */

static xsell_err
item_map_grow(struct item_map *m)
{
	size_t            cap   = m->cap ? m->cap * 2 : 256;
	struct item_slot *slots = calloc(cap, sizeof(*slots));

	if (slots == NULL) {
		return XSELL_ENOMEM;
	}
	for (size_t i = 0; i < m->cap; i++) {
		size_t j;

		if (m->slots[i].item == 0) {
			continue;
		}
		j = slot_of(m->slots[i].item, cap);
		while (slots[j].item != 0) {
			j = (j + 1) & (cap - 1);
		}
		slots[j] = m->slots[i];
	}
	free(m->slots);
	m->slots = slots;
	m->cap   = cap;
	return XSELL_OK;
}

xsell_err
xs_acc_item_add(xs_acc *acc, uint32_t item, enum xs_count which, int32_t d)
{
	struct item_map *m = &acc->items;
	size_t           j;

	if ((m->n + 1) * 2 > m->cap) {
		xsell_err err = item_map_grow(m);

		if (err != XSELL_OK) {
			return err;
		}
	}
	j = slot_of(item, m->cap);
	while (m->slots[j].item != 0 && m->slots[j].item != item) {
		j = (j + 1) & (m->cap - 1);
	}
	if (m->slots[j].item == 0) {
		m->slots[j].item = item;
		m->n++;
	}
	m->slots[j].d[which] += d;
	return XSELL_OK;
}

static int
cmp_count_delta(const void *x, const void *y)
{
	const struct xs_count_delta *p = x, *q = y;

	return p->item < q->item ? -1 : p->item > q->item;
}

static xsell_err
flush_items(struct item_map *m, xs_store *st, MDB_txn *txn)
{
	struct xs_count_delta *deltas;
	size_t                 n = 0;
	xsell_err              err;

	if (m->n == 0) {
		return XSELL_OK;
	}
	deltas = malloc(m->n * sizeof(*deltas));
	if (deltas == NULL) {
		return XSELL_ENOMEM;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (m->slots[i].item != 0) {
			deltas[n].item = m->slots[i].item;
			memcpy(
			    deltas[n].d, m->slots[i].d, sizeof(deltas[n].d));
			n++;
		}
	}
	qsort(deltas, n, sizeof(*deltas), cmp_count_delta);
	err = xs_store_counts_add(st, txn, deltas, n);
	free(deltas);
	return err;
}

/* ==== Bulk mode: flushed once, into a fresh store ==== */

/* Changes held before they are summed into the log, in 4-byte units
 * (acc->held): 1 GiB. A dense change is one unit (its b in a bucket); a
 * packed one PACKED_UNITS (its 8-byte key, and as much again in the
 * sort's other buffer). Summing into the log is what bounds the memory,
 * but it costs: at 2^25 units a 10M-line load spilled and took 8% more
 * CPU and 14% more memory (the log and its radix passes) than at 2^28
 * (bench/RESULTS.md, "Bulk load: the spill bound"). */
#define HELD_MAX ((size_t) 1 << 28)
#define PACKED_UNITS 4u
#define PACKED_DIGIT_MAX 9u
#define PACKED_TOP_BITS 8u
/* Relations with this many changes are sorted on a helper thread. */
#define SORT_THREAD_MIN ((size_t) 1 << 18)

static unsigned
bits_of(uint64_t v)
{
	unsigned n = 0;

	while (v != 0) {
		n++;
		v >>= 1;
	}
	return n;
}

/* One stable counting-sort pass of src[0..n) into dst on bits
 * [shift, shift + bits) of the key. */
static void
packed_pass(const uint64_t *src, uint64_t *dst, size_t n, unsigned shift,
    unsigned bits)
{
	size_t   count[1u << PACKED_DIGIT_MAX] = { 0 };
	uint64_t mask                          = ((uint64_t) 1 << bits) - 1;
	size_t   sum                           = 0;

	for (size_t i = 0; i < n; i++) {
		count[(src[i] >> shift) & mask]++;
	}
	for (size_t r = 0; r <= mask; r++) {
		size_t c = count[r];

		count[r] = sum;
		sum += c;
	}
	for (size_t i = 0; i < n; i++) {
		dst[count[(src[i] >> shift) & mask]++] = src[i];
	}
}

/* LSD radix sort of v[0..n) on its low 'width' bits, with tmp (room for
 * n); the result ends in v. */
static void
packed_lsd(uint64_t *v, uint64_t *tmp, size_t n, unsigned width)
{
	unsigned  passes = (width + PACKED_DIGIT_MAX - 1) / PACKED_DIGIT_MAX;
	unsigned  digit  = passes != 0 ? (width + passes - 1) / passes : 0;
	uint64_t *src = v, *dst = tmp;

	for (unsigned p = 0; p < passes; p++) {
		uint64_t *t;

		packed_pass(src, dst, n, p * digit, digit);
		t   = src;
		src = dst;
		dst = t;
	}
	if (src != v) {
		memcpy(v, src, n * sizeof(*v));
	}
}

/* One relation's packed changes being sorted: partitioned on the top
 * PACKED_TOP_BITS bits of the key a << wb | b (wb the bits of the
 * largest b: no pass is spent on bits never set) into buckets small
 * enough to stay in cache, then each bucket sorted on the rest (MSD,
 * then LSD). The buckets may be sorted by a helper thread while the
 * flush writes those already done: keys[0..ready) are final. */
struct sort_job {
	uint64_t        *keys;    /* acc->ptmp: the result */
	uint64_t        *scratch; /* the relation's log, reused */
	size_t           n;
	unsigned         wb, low;
	size_t           start[(1u << PACKED_TOP_BITS) + 1];
	struct xs_helper h;
	size_t           ready; /* under h.mu */
	size_t           seen;  /* the reader's copy of ready */
	bool             threaded;
};

/* Partition p's keys into acc->ptmp by their top bits (one pass); the
 * buckets are sorted by sort_run. p->v is scratch afterwards. */
static xsell_err
sort_partition(xs_acc *acc, struct packed_log *p, struct sort_job *j)
{
	size_t    next[1u << PACKED_TOP_BITS];
	unsigned  width, top;
	xsell_err err;

	err = packed_reserve_tmp(acc, p->n);
	if (err != XSELL_OK) {
		return err;
	}
	memset(j->start, 0, sizeof(j->start));
	j->keys    = acc->ptmp;
	j->scratch = p->v;
	j->n       = p->n;
	j->wb      = bits_of(p->max_b);
	width      = j->wb + bits_of(p->max_a);
	top        = width < PACKED_TOP_BITS ? width : PACKED_TOP_BITS;
	j->low     = width - top;
	j->ready   = 0;
	j->seen    = 0;
	for (size_t i = 0; i < p->n; i++) {
		uint64_t k =
		    (p->v[i] >> 32) << j->wb | (p->v[i] & 0xffffffffu);

		p->v[i] = k;
		j->start[(k >> j->low) + 1]++;
	}
	for (size_t r = 0; r < (1u << PACKED_TOP_BITS); r++) {
		j->start[r + 1] += j->start[r];
	}
	memcpy(next, j->start, sizeof(next));
	for (size_t i = 0; i < p->n; i++) {
		j->keys[next[p->v[i] >> j->low]++] = p->v[i];
	}
	return XSELL_OK;
}

/* Sort every bucket, publishing the sorted prefix as it grows. */
static void *
sort_run(void *arg)
{
	struct sort_job *j = arg;

	for (size_t r = 0; r < (1u << PACKED_TOP_BITS); r++) {
		size_t s = j->start[r], e = j->start[r + 1];

		if (e - s > 1) {
			packed_lsd(j->keys + s, j->scratch + s, e - s, j->low);
		}
		if (j->threaded) {
			pthread_mutex_lock(&j->h.mu);
			j->ready = e;
			pthread_cond_broadcast(&j->h.cv);
			pthread_mutex_unlock(&j->h.mu);
		} else {
			j->ready = e;
		}
	}
	return NULL;
}

/* Sort the buckets on a helper thread (or here, if none can start):
 * a flush writes the first buckets while the later ones sort. End with
 * sort_end. */
static void
sort_start(struct sort_job *j, bool thread)
{
	j->threaded = false;
	/* threaded before the start: sort_run reads it */
	j->threaded = thread;
	if (thread && xs_helper_start(&j->h, sort_run, j)) {
		return;
	}
	j->threaded = false;
	sort_run(j);
}

static void
sort_end(struct sort_job *j)
{
	if (j->threaded) {
		xs_helper_join(&j->h);
		j->threaded = false;
	}
}

/* Wait until keys[i] is final. */
static void
sort_wait(struct sort_job *j, size_t i)
{
	if (i < j->seen) {
		return;
	}
	if (j->threaded) {
		pthread_mutex_lock(&j->h.mu);
		while (j->ready <= i) {
			pthread_cond_wait(&j->h.cv, &j->h.mu);
		}
		j->seen = j->ready;
		pthread_mutex_unlock(&j->h.mu);
	} else {
		j->seen = j->ready;
	}
}

/* Sum relation rel's packed changes into the log and empty them: what
 * bounds the memory of a bulk load. */
static xsell_err
packed_spill(xs_acc *acc, uint32_t rel)
{
	struct packed_log *p = &acc->packed[rel];
	struct sort_job    j;
	const uint64_t    *v;
	xsell_err          err;

	if (p->n == 0) {
		return XSELL_OK;
	}
	err = sort_partition(acc, p, &j);
	if (err != XSELL_OK) {
		return err;
	}
	sort_start(&j, false);
	v = j.keys;
	for (size_t i = 0; i < p->n && err == XSELL_OK;) {
		uint64_t key = v[i];
		int32_t  d   = 0;

		for (; i < p->n && v[i] == key; i++) {
			d++;
		}
		err =
		    xs_acc_log_add(&acc->pairs, rel, (uint32_t) (key >> j.wb),
		        (uint32_t) (key & b_mask(j.wb)), d);
	}
	if (err == XSELL_OK) {
		acc->held -= PACKED_UNITS * p->n;
		p->n     = 0;
		p->max_a = 0;
		p->max_b = 0;
	}
	return err;
}

static xsell_err
packed_push(xs_acc *acc, uint32_t rel, uint32_t a, uint32_t b)
{
	struct packed_log *p = &acc->packed[rel];

	if (p->n == p->cap) {
		size_t    cap = p->cap ? p->cap * 2 : (size_t) 1 << 16;
		uint64_t *v   = realloc(p->v, cap * sizeof(*v));

		if (v == NULL) {
			return XSELL_ENOMEM;
		}
		p->v   = v;
		p->cap = cap;
	}
	p->v[p->n++] = (uint64_t) a << 32 | b;
	p->max_a     = a > p->max_a ? a : p->max_a;
	p->max_b     = b > p->max_b ? b : p->max_b;
	acc->held += PACKED_UNITS;
	return XSELL_OK;
}

/* Room in a relation's table of buckets s for a's up to 'a'; *bytes
 * counts the table's headers. */
static xsell_err
buckets_reserve(size_t *bytes, struct bucket_set *s, uint32_t a)
{
	size_t         n_a = s->n_a ? s->n_a : 1024;
	struct bucket *by_a;

	if (a < s->n_a) {
		return XSELL_OK;
	}
	while (n_a <= a) {
		n_a *= 2;
	}
	by_a = realloc(s->by_a, n_a * sizeof(*by_a));
	if (by_a == NULL) {
		return XSELL_ENOMEM;
	}
	memset(by_a + s->n_a, 0, (n_a - s->n_a) * sizeof(*by_a));
	*bytes += (n_a - s->n_a) * sizeof(*by_a);
	s->by_a = by_a;
	s->n_a  = n_a;
	return XSELL_OK;
}

/* A new tail block, from arena ar, for the full bucket k. */
static xsell_err
bucket_grow(struct arena *ar, struct bucket *k)
{
	uint32_t      cap = k->tail == NULL ? BLOCK_FIRST
	         : k->tail->cap < BLOCK_MAX ? k->tail->cap * 2
	                                    : BLOCK_MAX;
	struct block *blk =
	    arena_alloc(ar, sizeof(*blk) + cap * sizeof(uint32_t));

	if (blk == NULL) {
		return XSELL_ENOMEM;
	}
	blk->next = NULL;
	blk->cap  = cap;
	if (k->tail == NULL) {
		k->head = blk;
	} else {
		k->tail->next = blk;
	}
	k->tail = blk;
	k->wp   = blk->b;
	k->end  = blk->b + cap;
	return XSELL_OK;
}

/* Append b[0..n) to bucket k, a block's room at a time; the caller
 * keeps the set's max_b and acc->held. */
static xsell_err
bucket_push_many(
    struct arena *ar, struct bucket *k, const uint32_t *b, size_t n)
{
	while (n > 0) {
		size_t room;

		if (k->wp == k->end) {
			xsell_err err = bucket_grow(ar, k);

			if (err != XSELL_OK) {
				return err;
			}
		}
		room = (size_t) (k->end - k->wp);
		room = room < n ? room : n;
		memcpy(k->wp, b, room * sizeof(*b));
		k->wp += room;
		k->n += (uint32_t) room;
		b += room;
		n -= room;
	}
	return XSELL_OK;
}

/* Append ids[j] to the bucket of ids[i] for every i != j (dense ids):
 * a basket's pairs, both ways, into set s, blocks from arena ar. */
xsell_err
xs_acc_basket_push(struct arena *ar, size_t *bytes, struct bucket_set *s,
    const uint32_t *ids, size_t n)
{
	uint32_t  max = 0;
	xsell_err err;

	for (size_t i = 0; i < n; i++) {
		max = ids[i] > max ? ids[i] : max;
	}
	s->max_b = max > s->max_b ? max : s->max_b;
	err      = buckets_reserve(bytes, s, max);
	for (size_t i = 0; i < n && err == XSELL_OK; i++) {
		struct bucket *k = &s->by_a[ids[i]];

		err = bucket_push_many(ar, k, ids, i);
		if (err == XSELL_OK) {
			err = bucket_push_many(ar, k, ids + i + 1, n - i - 1);
		}
	}
	return err;
}

/* Append b to the bucket of a (dense ids) in set s. */
xsell_err
xs_acc_pair_push(struct arena *ar, size_t *bytes, struct bucket_set *s,
    uint32_t a, uint32_t b)
{
	xsell_err err = buckets_reserve(bytes, s, a);

	if (err == XSELL_OK) {
		err = bucket_push_many(ar, &s->by_a[a], &b, 1);
	}
	if (err == XSELL_OK) {
		s->max_b = b > s->max_b ? b : s->max_b;
	}
	return err;
}

static xsell_err
bucket_push(xs_acc *acc, uint32_t rel, uint32_t a, uint32_t b)
{
	xsell_err err = xs_acc_pair_push(
	    &acc->arena, &acc->bucket_bytes, &acc->dense[rel], a, b);

	if (err == XSELL_OK) {
		acc->held++;
	}
	return err;
}

/* Sum everything held into the log (the memory bound). */
static xsell_err
bulk_spill(xs_acc *acc)
{
	xsell_err err = xs_acc_feed_end(acc);

	for (uint32_t r = 0; r < XS_REL_END && err == XSELL_OK; r++) {
		err = packed_spill(acc, r);
		if (err == XSELL_OK) {
			err = xs_acc_buckets_spill(acc, r);
		}
	}
	if (err == XSELL_OK) {
		arena_reset(&acc->arena);
	}
	return err;
}

static xsell_err
bulk_add(xs_acc *acc, enum xs_rel rel, uint32_t a, uint32_t b)
{
	if (acc->held >= acc->held_max) {
		xsell_err err = bulk_spill(acc);

		if (err != XSELL_OK) {
			return err;
		}
	}
	if (a < DENSE_MAX && b < DENSE_MAX &&
	    xs_acc_feed_takes(acc, (uint32_t) rel)) {
		acc->held++;
		return xs_acc_feed_pair(acc->feed, a, b);
	}
	if (a < DENSE_MAX && b < DENSE_MAX) {
		return bucket_push(acc, (uint32_t) rel, a, b);
	}
	return packed_push(acc, (uint32_t) rel, a, b);
}

/* xs_acc_pairs_all, one xs_acc_pair_add a pair. */
static xsell_err
pairs_all_each(xs_acc *acc, enum xs_rel rel, const uint32_t *ids, size_t n)
{
	xsell_err err = XSELL_OK;

	for (size_t i = 0; i < n && err == XSELL_OK; i++) {
		for (size_t j = 0; j < n && err == XSELL_OK; j++) {
			if (j != i) {
				err = xs_acc_pair_add(
				    acc, rel, ids[i], ids[j], 1);
			}
		}
	}
	return err;
}

xsell_err
xs_acc_pairs_all(xs_acc *acc, enum xs_rel rel, const uint32_t *ids, size_t n)
{
	size_t    pairs = n < 2 ? 0 : n * (n - 1);
	uint32_t  max   = 0;
	xsell_err err;

	for (size_t i = 0; i < n; i++) {
		max = ids[i] > max ? ids[i] : max;
	}
	/* The bulk buckets only, and only where no spill falls inside the
	 * basket: otherwise pair by pair, which is the same sum. */
	if (!acc->bulk || (unsigned) rel >= XS_REL_END || max >= DENSE_MAX ||
	    acc->held >= acc->held_max || pairs >= acc->held_max - acc->held) {
		return pairs_all_each(acc, rel, ids, n);
	}
	if (acc->feed == NULL && !acc->feed_off && acc->dense[rel].n_a == 0) {
		xs_acc_feed_start(acc, (uint32_t) rel);
	}
	acc->held += pairs;
	if (xs_acc_feed_takes(acc, (uint32_t) rel)) {
		if (xs_acc_feed_fits(n)) {
			return xs_acc_feed_basket(acc->feed, ids, n);
		}
		err = xs_acc_feed_end(acc); /* a basket larger than the ring */
		if (err != XSELL_OK) {
			return err;
		}
	}
	return xs_acc_basket_push(
	    &acc->arena, &acc->bucket_bytes, &acc->dense[rel], ids, n);
}

void
xs_acc_bulk_begin(xs_acc *acc, size_t max_held)
{
	acc->bulk     = true;
	acc->held_max = max_held != 0 ? max_held : HELD_MAX;
}

static xsell_err
row_push(xs_acc *acc, size_t *np, uint32_t b, int64_t d)
{
	if (*np == acc->row_cap) {
		size_t cap = acc->row_cap ? acc->row_cap * 2 : 1024;
		struct xs_top_entry *r = realloc(acc->row, cap * sizeof(*r));

		if (r == NULL) {
			return XSELL_ENOMEM;
		}
		acc->row     = r;
		acc->row_cap = cap;
	}
	acc->row[*np].b     = b;
	acc->row[*np].count = d > UINT32_MAX ? UINT32_MAX : (uint32_t) d;
	(*np)++;
	return XSELL_OK;
}

/* Merge one relation's sorted packed changes pk[0..np) (each +1, keys
 * a << wb | b) with its summed log entries g[0..ng), and write each a's
 * list whole. Changes that sum to 0 or less leave no pair, as on an
 * empty store. */
static xsell_err
write_rel(xs_acc *acc, xs_pair_writer *w, uint32_t rel, struct sort_job *sj,
    const struct pair_entry *g, size_t ng)
{
	const uint64_t *pk = sj->keys;
	size_t          np = sj->n, i = 0, j = 0, n_row = 0;
	unsigned        wb    = sj->wb;
	uint32_t        row_a = 0;
	xsell_err       err   = XSELL_OK;

	while ((i < np || j < ng) && err == XSELL_OK) {
		uint64_t kp;

		if (i < np) {
			sort_wait(sj, i);
		}
		kp = i < np ? (pk[i] >> wb) << 32 | (pk[i] & b_mask(wb)) : 0;
		uint64_t kg  = j < ng ? (uint64_t) g[j].a << 32 | g[j].b : 0;
		uint64_t key = j >= ng || (i < np && kp <= kg) ? kp : kg;
		int64_t  d   = 0;
		uint32_t a   = (uint32_t) (key >> 32);

		if (i < np && kp == key) {
			uint64_t same = pk[i];

			for (; i < np; i++) {
				sort_wait(sj, i);
				if (pk[i] != same) {
					break;
				}
				d++;
			}
		}
		if (j < ng && kg == key) {
			d += g[j++].d;
		}
		if (n_row != 0 && a != row_a) {
			err = xs_pair_writer_put(
			    w, (enum xs_rel) rel, row_a, acc->row, n_row);
			n_row = 0;
		}
		if (err == XSELL_OK && d > 0) {
			err   = row_push(acc, &n_row, (uint32_t) key, d);
			row_a = a;
		}
	}
	if (err == XSELL_OK && n_row != 0) {
		err = xs_pair_writer_put(
		    w, (enum xs_rel) rel, row_a, acc->row, n_row);
	}
	return err;
}

/* Move relation rel's buckets into its packed keys (when the radix way
 * must merge them with other changes). */
static xsell_err
buckets_to_packed(xs_acc *acc, uint32_t rel)
{
	struct bucket_set *s   = &acc->dense[rel];
	xsell_err          err = XSELL_OK;

	for (size_t a = 0; a < s->n_a && err == XSELL_OK; a++) {
		for (const struct block *blk             = s->by_a[a].head;
		     blk != NULL && err == XSELL_OK; blk = blk->next) {
			size_t len = block_len(&s->by_a[a], blk);

			for (size_t k = 0; k < len && err == XSELL_OK; k++) {
				err = packed_push(
				    acc, rel, (uint32_t) a, blk->b[k]);
			}
		}
		acc->held -= s->by_a[a].n;
	}
	if (err == XSELL_OK) {
		xs_acc_buckets_free(acc, s);
	}
	return err;
}

/* The bulk flush: every relation's lists written whole, in key order,
 * into the empty pair database (xs_pair_writer). */
static xsell_err
flush_pairs_bulk(xs_acc *acc, xs_store *st, MDB_txn *txn)
{
	struct pair_log *l = &acc->pairs;
	xs_pair_writer  *w;
	size_t           gi  = 0;
	xsell_err        err = XSELL_OK;

	err = xs_acc_feed_end(acc);
	if (err != XSELL_OK) {
		return err;
	}
	/* A load that spilled ends with one more spill: merging the
	 * buckets with the log through packed keys would hold every bucket
	 * entry twice over (4 bytes in the bucket, 8 packed, 8 to sort),
	 * past the bound the spills keep. */
	if (l->n != 0) {
		err = bulk_spill(acc);
	}
	if (err == XSELL_OK) {
		err = log_compact(l);
	}
	if (err == XSELL_OK) {
		err = xs_pair_writer_open(st, txn, &w);
	}
	if (err != XSELL_OK) {
		return err;
	}
	for (uint32_t rel = 0; rel < XS_REL_END && err == XSELL_OK; rel++) {
		struct packed_log *p  = &acc->packed[rel];
		size_t             gj = gi;
		struct sort_job    sj = { 0 };

		while (gj < l->n && l->v[gj].rel == rel) {
			gj++;
		}
		if (gj == gi && p->n == 0) {
			err = xs_acc_buckets_write(acc, w, rel);
			continue;
		}
		err = buckets_to_packed(acc, rel);
		if (err == XSELL_OK && p->n != 0) {
			err = sort_partition(acc, p, &sj);
		}
		if (err != XSELL_OK) {
			break;
		}
		/* A helper thread for the large ones only. */
		sort_start(&sj, p->n >= SORT_THREAD_MIN);
		err = write_rel(acc, w, rel, &sj, l->v + gi, gj - gi);
		sort_end(&sj);
		gi = gj;
	}
	xs_pair_writer_close(w);
	/* Relations past the known ones (none today) go the ordinary way;
	 * their keys sort after everything written above. */
	if (err == XSELL_OK && gi < l->n) {
		l->sorted = l->n = l->n - gi;
		memmove(l->v, l->v + gi, l->n * sizeof(*l->v));
		err = flush_pairs(l, st, txn);
	}
	return err;
}

xsell_err
xs_acc_flush(xs_acc *acc, xs_store *st, MDB_txn *txn)
{
	xsell_err err = acc->bulk ? flush_pairs_bulk(acc, st, txn)
	                          : flush_pairs(&acc->pairs, st, txn);

	if (err == XSELL_OK) {
		err = flush_items(&acc->items, st, txn);
	}
	xs_acc_clear(acc);
	return err;
}
