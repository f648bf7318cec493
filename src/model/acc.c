/* SPDX-License-Identifier: MIT */
/* The accumulator: count changes of one write transaction, summed in
 * open-addressing hash tables and written sorted. Sorting turns tens of
 * thousands of scattered B-tree updates into one ordered pass, which is
 * what makes bulk loads and group commits fast. */
#include "model/model_impl.h"

#include <stdlib.h>
#include <string.h>

#define REL_SLOTS XS_REL_END

struct pair_slot {
	uint64_t key; /* a << 32 | b; 0: empty (ids start at 1) */
	int32_t  d;
};

struct item_slot {
	uint32_t item; /* 0: empty */
	int32_t  d[XS_C_COUNT];
};

struct pair_map {
	struct pair_slot *slots;
	size_t            cap; /* power of two, or 0 */
	size_t            n;
};

struct item_map {
	struct item_slot *slots;
	size_t            cap;
	size_t            n;
};

struct xs_acc {
	struct pair_map pairs[REL_SLOTS];
	struct item_map items;
};

/* splitmix64's finaliser: keys are dense numbers, so their low bits
 * must be mixed, but a byte-wise hash is needlessly slow here (this is
 * the innermost loop of a bulk load). */
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

xsell_err
xs_acc_alloc(xs_acc **accp)
{
	xs_acc *acc = calloc(1, sizeof(*acc));

	if (acc == NULL) {
		return XSELL_ENOMEM;
	}
	*accp = acc;
	return XSELL_OK;
}

void
xs_acc_free(xs_acc *acc)
{
	if (acc == NULL) {
		return;
	}
	for (int r = 0; r < REL_SLOTS; r++) {
		free(acc->pairs[r].slots);
	}
	free(acc->items.slots);
	free(acc);
}

void
xs_acc_clear(xs_acc *acc)
{
	for (int r = 0; r < REL_SLOTS; r++) {
		struct pair_map *m = &acc->pairs[r];

		if (m->cap != 0) {
			memset(m->slots, 0, m->cap * sizeof(*m->slots));
		}
		m->n = 0;
	}
	if (acc->items.cap != 0) {
		memset(acc->items.slots, 0,
		    acc->items.cap * sizeof(*acc->items.slots));
	}
	acc->items.n = 0;
}

size_t
xs_acc_bytes(const xs_acc *acc)
{
	size_t bytes = acc->items.cap * sizeof(struct item_slot);

	for (int r = 0; r < REL_SLOTS; r++) {
		bytes += acc->pairs[r].cap * sizeof(struct pair_slot);
	}
	return bytes;
}

static xsell_err
pair_map_grow(struct pair_map *m)
{
	size_t            cap   = m->cap ? m->cap * 2 : 1024;
	struct pair_slot *slots = calloc(cap, sizeof(*slots));

	if (slots == NULL) {
		return XSELL_ENOMEM;
	}
	for (size_t i = 0; i < m->cap; i++) {
		size_t j;

		if (m->slots[i].key == 0) {
			continue;
		}
		j = slot_of(m->slots[i].key, cap);
		while (slots[j].key != 0) {
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
xs_acc_pair_add(
    xs_acc *acc, enum xs_rel rel, uint32_t a, uint32_t b, int32_t d)
{
	struct pair_map *m   = &acc->pairs[rel];
	uint64_t         key = (uint64_t) a << 32 | b;
	size_t           j;

	if ((m->n + 1) * 2 > m->cap) {
		xsell_err err = pair_map_grow(m);

		if (err != XSELL_OK) {
			return err;
		}
	}
	j = slot_of(key, m->cap);
	while (m->slots[j].key != 0 && m->slots[j].key != key) {
		j = (j + 1) & (m->cap - 1);
	}
	if (m->slots[j].key == 0) {
		m->slots[j].key = key;
		m->n++;
	}
	m->slots[j].d += d;
	return XSELL_OK;
}

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
cmp_pair_delta(const void *x, const void *y)
{
	const struct xs_pair_delta *p = x, *q = y;

	if (p->a != q->a) {
		return p->a < q->a ? -1 : 1;
	}
	return p->b < q->b ? -1 : p->b > q->b;
}

static int
cmp_count_delta(const void *x, const void *y)
{
	const struct xs_count_delta *p = x, *q = y;

	return p->item < q->item ? -1 : p->item > q->item;
}

static xsell_err
flush_pairs(struct pair_map *m, enum xs_rel rel, xs_store *st, MDB_txn *txn)
{
	struct xs_pair_delta *deltas;
	size_t                n = 0;
	xsell_err             err;

	if (m->n == 0) {
		return XSELL_OK;
	}
	deltas = malloc(m->n * sizeof(*deltas));
	if (deltas == NULL) {
		return XSELL_ENOMEM;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (m->slots[i].key != 0 && m->slots[i].d != 0) {
			deltas[n].a = (uint32_t) (m->slots[i].key >> 32);
			deltas[n].b = (uint32_t) m->slots[i].key;
			deltas[n].d = m->slots[i].d;
			n++;
		}
	}
	qsort(deltas, n, sizeof(*deltas), cmp_pair_delta);
	err = xs_store_pairs_add(st, txn, rel, deltas, n);
	free(deltas);
	return err;
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

xsell_err
xs_acc_flush(xs_acc *acc, xs_store *st, MDB_txn *txn)
{
	xsell_err err = XSELL_OK;

	for (int r = XS_REL_BASKET; r < REL_SLOTS && err == XSELL_OK; r++) {
		err = flush_pairs(&acc->pairs[r], (enum xs_rel) r, st, txn);
	}
	if (err == XSELL_OK) {
		err = flush_items(&acc->items, st, txn);
	}
	xs_acc_clear(acc);
	return err;
}
