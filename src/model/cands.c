/* SPDX-License-Identifier: MIT */
/* Candidates gathered by item: an open-addressing table from item number
 * to a slot in a growing array, so that summing the contributions of many
 * lists costs a probe each instead of a sort of every contribution (a
 * for_you answer gathers tens of thousands). */
#include "model/model_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static size_t
slot_of(uint32_t item, size_t cap)
{
	return (size_t) ((item * 0x9e3779b1u) & (uint32_t) (cap - 1));
}

static xsell_err
map_grow(struct xs_cand_map *m)
{
	size_t               cap   = m->cap ? m->cap * 2 : 1024;
	struct xs_cand_slot *slots = calloc(cap, sizeof(*slots));

	if (slots == NULL) {
		return XSELL_ENOMEM;
	}
	for (size_t i = 0; i < m->vec.n; i++) {
		size_t j = slot_of(m->vec.v[i].item, cap);

		while (slots[j].index1 != 0) {
			j = (j + 1) & (cap - 1);
		}
		slots[j].item   = m->vec.v[i].item;
		slots[j].index1 = (uint32_t) i + 1;
	}
	free(m->slots);
	m->slots = slots;
	m->cap   = cap;
	return XSELL_OK;
}

/* Room for one more candidate in vec. */
static xsell_err
vec_reserve(struct xs_cand_vec *vec)
{
	if (vec->n == vec->cap) {
		size_t          cap = vec->cap ? vec->cap * 2 : 256;
		struct xs_cand *v   = realloc(vec->v, cap * sizeof(*v));

		if (v == NULL) {
			return XSELL_ENOMEM;
		}
		vec->v   = v;
		vec->cap = cap;
	}
	return XSELL_OK;
}

xsell_err
xs_cand_vec_push(struct xs_cand_vec *vec, const struct xs_cand *c)
{
	xsell_err err = vec_reserve(vec);

	if (err == XSELL_OK) {
		vec->v[vec->n++] = *c;
	}
	return err;
}

/* A new candidate for 'item', zeroed, in empty slot j. Built in place:
 * a zeroed candidate on the stack of every lookup cost more than the
 * lookup. */
static xsell_err
map_add(struct xs_cand_map *m, uint32_t item, size_t j, struct xs_cand **cp)
{
	struct xs_cand *c;
	xsell_err       err = vec_reserve(&m->vec);

	if (err != XSELL_OK) {
		return err;
	}
	c = &m->vec.v[m->vec.n++];
	memset(c, 0, sizeof(*c));
	c->item            = item;
	m->slots[j].item   = item;
	m->slots[j].index1 = (uint32_t) m->vec.n;
	*cp                = c;
	return XSELL_OK;
}

xsell_err
xs_cand_map_get(struct xs_cand_map *m, uint32_t item, struct xs_cand **cp)
{
	size_t j;

	if ((m->vec.n + 1) * 2 > m->cap) {
		xsell_err err = map_grow(m);

		if (err != XSELL_OK) {
			return err;
		}
	}
	j = slot_of(item, m->cap);
	while (m->slots[j].index1 != 0) {
		if (m->slots[j].item == item) {
			*cp = &m->vec.v[m->slots[j].index1 - 1];
			return XSELL_OK;
		}
		j = (j + 1) & (m->cap - 1);
	}
	return map_add(m, item, j, cp);
}

struct xs_cand *
xs_cand_map_find(const struct xs_cand_map *m, uint32_t item)
{
	size_t j;

	if (m->cap == 0) {
		return NULL;
	}
	j = slot_of(item, m->cap);
	while (m->slots[j].index1 != 0) {
		if (m->slots[j].item == item) {
			return &m->vec.v[m->slots[j].index1 - 1];
		}
		j = (j + 1) & (m->cap - 1);
	}
	return NULL;
}

void
xs_cand_map_clear(struct xs_cand_map *m)
{
	if (m->cap != 0) {
		memset(m->slots, 0, m->cap * sizeof(*m->slots));
	}
	m->vec.n = 0;
}

void
xs_cand_map_free(struct xs_cand_map *m)
{
	free(m->slots);
	free(m->vec.v);
	memset(m, 0, sizeof(*m));
}

/* ==== The best candidates, for a memo ==== */

/* Sift heap[i] down a min-heap of n scores. */
static void
score_heap_down(double *heap, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		double t;

		if (l < n && heap[l] < heap[m]) {
			m = l;
		}
		if (l + 1 < n && heap[l + 1] < heap[m]) {
			m = l + 1;
		}
		if (m == i) {
			return;
		}
		t       = heap[i];
		heap[i] = heap[m];
		heap[m] = t;
		i       = m;
	}
}

/* The XS_CANDS_KEPT-th best score of v[0..n) among those >= 'below';
 * 'below' if fewer reach it. */
static double
kept_floor(const struct xs_cand *v, size_t n, double below)
{
	double heap[XS_CANDS_KEPT];
	size_t h = 0;

	for (size_t i = 0; i < n; i++) {
		if (!(v[i].score >= below)) {
			continue;
		}
		if (h < XS_CANDS_KEPT) {
			heap[h++] = v[i].score;
			if (h == XS_CANDS_KEPT) {
				for (size_t j = XS_CANDS_KEPT / 2; j-- > 0;) {
					score_heap_down(heap, h, j);
				}
			}
		} else if (v[i].score > heap[0]) {
			heap[0] = v[i].score;
			score_heap_down(heap, h, 0);
		}
	}
	return h == XS_CANDS_KEPT ? heap[0] : below;
}

size_t
xs_cands_best(const struct xs_cand *v, size_t n, double below,
    struct xs_cand *out, double *belowp)
{
	double floor = kept_floor(v, n, below);
	size_t m     = 0;
	bool   above_only;

	for (size_t i = 0; i < n; i++) {
		m += v[i].score >= floor;
	}
	/* Too many tied with the last: keep only those above them. */
	above_only = m > XS_CANDS_KEPT_MAX;
	m          = 0;
	for (size_t i = 0; i < n; i++) {
		if (above_only ? v[i].score > floor : v[i].score >= floor) {
			out[m++] = v[i];
		}
	}
	if (m > 1) {
		qsort(out, m, sizeof(*out), xs_cand_cmp_score);
	}
	*belowp = above_only ? nextafter(floor, INFINITY) : floor;
	return m;
}
