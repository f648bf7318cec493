/* SPDX-License-Identifier: MIT */
/* Top neighbour lists: for each item a and neighbour relation, the
 * store's top_m strongest neighbours by co-count (count descending, then
 * b ascending), kept beside the full pair list so that an answer reads
 * one short value instead of walking every neighbour.
 *
 * Key: (u8 relation, u32 a); value: up to top_m (u32 b, u32 count), both
 * big-endian, best first. A list is an exact function of a's pair list:
 *
 *   - only increments: the new top is the best top_m of the old top
 *     (counts updated) and the increased pairs. A pair outside the old
 *     top was no better than its last entry, every one of which only
 *     grew, so nothing outside this union can belong.
 *   - any decrement (forget_user): rebuilt from the pair list, because
 *     a pair that fell may now lose to one the top never held.
 *
 * So the same events give the same bytes, and forgetting a user leaves
 * the lists as if their events had never arrived. */
#include "store/store_impl.h"

#include <stdlib.h>
#include <string.h>

#define TOP_ENTRY_LEN 8

bool
xs_rel_has_top(enum xs_rel rel)
{
	return rel >= XS_REL_BASKET && rel <= XS_REL_CART;
}

/* Best first: count descending, then b ascending. */
static int
entry_cmp_best(const void *x, const void *y)
{
	const struct xs_top_entry *p = x, *q = y;

	if (p->count != q->count) {
		return p->count > q->count ? -1 : 1;
	}
	return p->b < q->b ? -1 : p->b > q->b;
}

static int
entry_cmp_b(const void *x, const void *y)
{
	const struct xs_top_entry *p = x, *q = y;

	return p->b < q->b ? -1 : p->b > q->b;
}

static bool
entry_better(const struct xs_top_entry *p, const struct xs_top_entry *q)
{
	return entry_cmp_best(p, q) < 0;
}

/* a's list into 'out' (room for st->top_m); *np = 0 if none. */
static int
top_read(xs_store *st, MDB_txn *txn, enum xs_rel rel, uint32_t a,
    struct xs_top_entry *out, size_t *np)
{
	unsigned char        kb[XS_REL_KEY_LEN];
	MDB_val              k = xs_key_rel(kb, rel, a);
	MDB_val              v;
	const unsigned char *p;
	size_t               n;
	int                  rc;

	*np = 0;
	rc  = mdb_get(txn, st->top, &k, &v);
	if (rc != 0) {
		return rc == MDB_NOTFOUND ? 0 : rc;
	}
	n = v.mv_size / TOP_ENTRY_LEN;
	if (v.mv_size % TOP_ENTRY_LEN != 0 || n > st->top_m) {
		return MDB_CORRUPTED;
	}
	p = v.mv_data;
	for (size_t i = 0; i < n; i++) {
		out[i].b     = xs_be32_get(p + i * TOP_ENTRY_LEN);
		out[i].count = xs_be32_get(p + i * TOP_ENTRY_LEN + 4);
	}
	*np = n;
	return 0;
}

/* Write v[0..n), best first, as a's list, cut to st->top_m (none:
 * deleted). */
static int
top_put(xs_store *st, MDB_txn *txn, enum xs_rel rel, uint32_t a,
    const struct xs_top_entry *v, size_t n)
{
	unsigned char kb[XS_REL_KEY_LEN];
	MDB_val       k = xs_key_rel(kb, rel, a);
	MDB_val       val;
	unsigned char buf[XS_TOP_M_MAX * TOP_ENTRY_LEN];
	int           rc;

	if (n == 0) {
		rc = mdb_del(txn, st->top, &k, NULL);
		return rc == MDB_NOTFOUND ? 0 : rc;
	}
	if (n > st->top_m) {
		n = st->top_m;
	}
	for (size_t i = 0; i < n; i++) {
		xs_be32_put(buf + i * TOP_ENTRY_LEN, v[i].b);
		xs_be32_put(buf + i * TOP_ENTRY_LEN + 4, v[i].count);
	}
	val.mv_data = buf;
	val.mv_size = n * TOP_ENTRY_LEN;
	return mdb_put(txn, st->top, &k, &val, 0);
}

/* Best first, for a list that is nearly so: entries whose count only
 * grew move up past their new equals. Quadratic only in how far they
 * move. */
static void
sort_nearly_sorted(struct xs_top_entry *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct xs_top_entry x = v[i];
		size_t              j = i;

		while (j > 0 && entry_better(&x, &v[j - 1])) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = x;
	}
}

/* Keeps the best st->top_m of what it is given, in 'best' (room for
 * 2 * top_m): a buffer compacted whenever it fills. */
struct top_keep {
	struct xs_top_entry *best;
	size_t               n, cap, m;
};

static void
keep_add(struct top_keep *t, uint32_t b, uint32_t count)
{
	if (t->n == t->cap) {
		qsort(t->best, t->n, sizeof(*t->best), entry_cmp_best);
		t->n = t->m;
	}
	t->best[t->n].b     = b;
	t->best[t->n].count = count;
	t->n++;
}

static xsell_err
keep_row(void *ctx, uint32_t b, uint32_t count)
{
	keep_add(ctx, b, count);
	return XSELL_OK;
}

/* a's list from its whole pair list. */
static xsell_err
top_rebuild(xs_store *st, MDB_txn *txn, enum xs_rel rel, uint32_t a)
{
	struct top_keep t = { NULL, 0, 2 * (size_t) st->top_m, st->top_m };
	xsell_err       err;

	t.best = malloc(t.cap * sizeof(*t.best));
	if (t.best == NULL) {
		return XSELL_ENOMEM;
	}
	err = xs_store_pairs_each(st, txn, rel, a, keep_row, &t);
	if (err == XSELL_OK) {
		qsort(t.best, t.n, sizeof(*t.best), entry_cmp_best);
		err = xs_err_from_mdb(top_put(st, txn, rel, a, t.best, t.n));
	}
	free(t.best);
	return err;
}

/* Entries that moved past which re-sorting the merged list is left to
 * qsort rather than insertion. */
#define MOVED_FEW 32

/* The old list with the increased pairs merged in. 'up' (sorted by b)
 * holds every pair of a whose count rose, with its new count. A list
 * that nothing changed (every rise was to a pair outside it that stays
 * outside) is not written. */
static xsell_err
top_merge(xs_store *st, MDB_txn *txn, enum xs_rel rel, uint32_t a,
    const struct xs_top_entry *up, size_t n_up)
{
	struct xs_top_entry  old[XS_TOP_M_MAX];
	struct xs_top_entry *v, *hit;
	bool                *taken;
	size_t               n_old, n = 0, moved = 0;
	bool                 full;
	int                  rc;

	rc = top_read(st, txn, rel, a, old, &n_old);
	if (rc != 0) {
		return xs_err_from_mdb(rc);
	}
	v     = malloc((n_old + n_up) * sizeof(*v));
	taken = calloc(n_up, sizeof(*taken));
	if (v == NULL || taken == NULL) {
		free(v);
		free(taken);
		return XSELL_ENOMEM;
	}
	full = n_old != 0 && n_old == st->top_m;
	for (size_t i = 0; i < n_old; i++) {
		v[n] = old[i];
		hit  = bsearch(&old[i], up, n_up, sizeof(*up), entry_cmp_b);
		if (hit != NULL) {
			taken[hit - up] = true;
			v[n].count      = hit->count;
			moved++;
		}
		n++;
	}
	for (size_t i = 0; i < n_up; i++) {
		/* A full list's last entry bounds everything outside it. */
		if (taken[i] ||
		    (full && !entry_better(&up[i], &old[n_old - 1]))) {
			continue;
		}
		v[n++] = up[i];
		moved++;
	}
	rc = 0;
	if (moved != 0) {
		if (moved <= MOVED_FEW) {
			sort_nearly_sorted(v, n);
		} else {
			qsort(v, n, sizeof(*v), entry_cmp_best);
		}
		rc = top_put(st, txn, rel, a, v, n);
	}
	free(v);
	free(taken);
	return xs_err_from_mdb(rc);
}

xsell_err
xs_store_top_update(xs_store *st, MDB_txn *txn, enum xs_rel rel, uint32_t a,
    const struct xs_top_entry *up, size_t n_up, bool decreased)
{
	if (!xs_rel_has_top(rel)) {
		return XSELL_OK;
	}
	if (decreased) {
		return top_rebuild(st, txn, rel, a);
	}
	if (n_up == 0) {
		return XSELL_OK;
	}
	return top_merge(st, txn, rel, a, up, n_up);
}

xsell_err
xs_store_top_each(xs_store *st, MDB_txn *txn, enum xs_rel rel, uint32_t a,
    size_t limit, xs_pair_cb cb, void *ctx, bool *wholep)
{
	unsigned char        kb[XS_REL_KEY_LEN];
	MDB_val              k = xs_key_rel(kb, rel, a);
	MDB_val              v;
	const unsigned char *p;
	size_t               n;
	xsell_err            err = XSELL_OK;
	int                  rc;

	if (wholep != NULL) {
		*wholep = true;
	}
	if (!xs_rel_has_top(rel)) {
		return XSELL_EINVAL;
	}
	rc = mdb_get(txn, st->top, &k, &v);
	if (rc != 0) {
		return rc == MDB_NOTFOUND ? XSELL_OK : xs_err_from_mdb(rc);
	}
	if (v.mv_size % TOP_ENTRY_LEN != 0) {
		return XSELL_ECORRUPT;
	}
	p = v.mv_data;
	n = v.mv_size / TOP_ENTRY_LEN;
	/* A list shorter than top_m is the whole pair list. */
	if (wholep != NULL) {
		*wholep = n < st->top_m && n <= limit;
	}
	for (size_t i = 0; i < n && i < limit && err == XSELL_OK; i++) {
		err = cb(ctx, xs_be32_get(p + i * TOP_ENTRY_LEN),
		    xs_be32_get(p + i * TOP_ENTRY_LEN + 4));
	}
	return err;
}

unsigned
xs_store_top_m(const xs_store *st)
{
	return st->top_m;
}
