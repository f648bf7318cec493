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

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define TOP_ENTRY_LEN 8

bool
xs_rel_has_top(enum xs_rel rel)
{
	return rel >= XS_REL_BASKET && rel <= XS_REL_CART;
}

/* Best first: count descending, then b ascending. bulk.c ranks whole
 * lists with it too, so that a bulk build keeps the same lists. */
int
xs_top_entry_cmp_best(const void *x, const void *y)
{
	const struct xs_top_entry *p = x, *q = y;

	if (p->count != q->count) {
		return p->count > q->count ? -1 : 1;
	}
	return p->b < q->b ? -1 : p->b > q->b;
}

static bool
entry_better(const struct xs_top_entry *p, const struct xs_top_entry *q)
{
	return xs_top_entry_cmp_best(p, q) < 0;
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
		qsort(t->best, t->n, sizeof(*t->best), xs_top_entry_cmp_best);
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
		qsort(t.best, t.n, sizeof(*t.best), xs_top_entry_cmp_best);
		err = xs_err_from_mdb(top_put(st, txn, rel, a, t.best, t.n));
	}
	free(t.best);
	return err;
}

/* Entries that moved past which re-sorting the merged list is left to
 * qsort rather than insertion. */
#define MOVED_FEW 32

/* Rises at most this many are looked up in the old list one by one
 * (a scan each); more, and each old entry is looked up among them. */
#define UP_SCAN_MAX 8

/* Rises of one list that fit the stack; more are allocated. */
#define UP_STACK_MAX 256

/* Index in up[0..n_up) (sorted by b) of b, or n_up. */
static size_t
up_find(const struct xs_top_entry *up, size_t n_up, uint32_t b)
{
	size_t lo = 0, hi = n_up;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (up[mid].b < b) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo < n_up && up[lo].b == b ? lo : n_up;
}

/* Which of old[0..n_old) (encoded) rose: in_up[i] is its index in 'up',
 * or n_up. */
static void
match_rises(const unsigned char *old, size_t n_old,
    const struct xs_top_entry *up, size_t n_up, uint32_t *in_up)
{
	for (size_t i = 0; i < n_old; i++) {
		in_up[i] = (uint32_t) n_up;
	}
	if (n_up > UP_SCAN_MAX) {
		for (size_t i = 0; i < n_old; i++) {
			in_up[i] = (uint32_t) up_find(
			    up, n_up, xs_be32_get(old + i * TOP_ENTRY_LEN));
		}
		return;
	}
	for (size_t j = 0; j < n_up; j++) {
		for (size_t i = 0; i < n_old; i++) {
			if (xs_be32_get(old + i * TOP_ENTRY_LEN) == up[j].b) {
				in_up[i] = (uint32_t) j;
				break;
			}
		}
	}
}

/* The old list with the increased pairs merged in. 'up' (sorted by b)
 * holds every pair of a whose count rose, with its new count. Counts
 * only rose, so the old entries that did not change keep their order:
 * the new list is that order merged with the changed and new entries,
 * sorted best first, cut at top_m. Works on the encoded bytes and
 * allocates nothing, as it runs for every neighbour list a write
 * touched. A list that nothing changed (every rise was to a pair
 * outside it that stays outside) is not written. */
static xsell_err
top_merge(xs_store *st, MDB_txn *txn, enum xs_rel rel, uint32_t a,
    const struct xs_top_entry *up, size_t n_up)
{
	unsigned char       kb[XS_REL_KEY_LEN];
	unsigned char       old[XS_TOP_M_MAX * TOP_ENTRY_LEN];
	unsigned char       buf[XS_TOP_M_MAX * TOP_ENTRY_LEN];
	uint32_t            in_up[XS_TOP_M_MAX];
	struct xs_top_entry moved_few[UP_STACK_MAX], *moved = moved_few;
	bool                taken_few[UP_STACK_MAX], *taken = taken_few;
	struct xs_top_entry last  = { 0, 0 };
	MDB_val             k     = xs_key_rel(kb, rel, a), v;
	size_t              n_old = 0, n_moved = 0, n = 0, i, j;
	bool                full;
	int                 rc;

	assert(n_up < UINT32_MAX);
	rc = mdb_get(txn, st->top, &k, &v);
	if (rc == 0) {
		n_old = v.mv_size / TOP_ENTRY_LEN;
		if (v.mv_size % TOP_ENTRY_LEN != 0 || n_old > st->top_m) {
			return XSELL_ECORRUPT;
		}
		/* The put below may reuse the value's page. */
		memcpy(old, v.mv_data, v.mv_size);
	} else if (rc != MDB_NOTFOUND) {
		return xs_err_from_mdb(rc);
	}
	if (n_up > UP_STACK_MAX) {
		moved = malloc(n_up * sizeof(*moved));
		taken = malloc(n_up * sizeof(*taken));
		if (moved == NULL || taken == NULL) {
			rc = ENOMEM;
			goto done;
		}
	}
	full = n_old != 0 && n_old == st->top_m;
	if (full) {
		last.b = xs_be32_get(old + (n_old - 1) * TOP_ENTRY_LEN);
		last.count =
		    xs_be32_get(old + (n_old - 1) * TOP_ENTRY_LEN + 4);
	}
	match_rises(old, n_old, up, n_up, in_up);
	/* The rises: those in the list, and those outside it that may
	 * enter (a full list's last entry bounds everything outside). */
	memset(taken, 0, n_up * sizeof(*taken));
	for (i = 0; i < n_old; i++) {
		if (in_up[i] != n_up) {
			taken[in_up[i]]  = true;
			moved[n_moved++] = up[in_up[i]];
		}
	}
	for (j = 0; j < n_up; j++) {
		if (!taken[j] && (!full || entry_better(&up[j], &last))) {
			moved[n_moved++] = up[j];
		}
	}
	rc = 0;
	if (n_moved == 0) {
		goto done;
	}
	if (n_moved <= MOVED_FEW) {
		sort_nearly_sorted(moved, n_moved);
	} else {
		qsort(moved, n_moved, sizeof(*moved), xs_top_entry_cmp_best);
	}
	/* Merge the unchanged old entries with the moved ones. */
	i = 0;
	j = 0;
	while (n < st->top_m && (i < n_old || j < n_moved)) {
		struct xs_top_entry o = { 0, 0 };

		if (i < n_old && in_up[i] != n_up) {
			i++;
			continue;
		}
		if (i < n_old) {
			o.b     = xs_be32_get(old + i * TOP_ENTRY_LEN);
			o.count = xs_be32_get(old + i * TOP_ENTRY_LEN + 4);
		}
		if (j < n_moved &&
		    (i == n_old || entry_better(&moved[j], &o))) {
			xs_be32_put(buf + n * TOP_ENTRY_LEN, moved[j].b);
			xs_be32_put(
			    buf + n * TOP_ENTRY_LEN + 4, moved[j].count);
			j++;
		} else {
			memcpy(buf + n * TOP_ENTRY_LEN,
			    old + i * TOP_ENTRY_LEN, TOP_ENTRY_LEN);
			i++;
		}
		n++;
	}
	v.mv_data = buf;
	v.mv_size = n * TOP_ENTRY_LEN;
	rc        = mdb_put(txn, st->top, &k, &v, 0);
done:
	if (moved != moved_few) {
		free(moved);
		free(taken);
	}
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
