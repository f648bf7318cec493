/* SPDX-License-Identifier: MIT */
/* Ranking shared by the list answers: resolving the given and excluded
 * ids, the best-first order with ties by external id, and the filter
 * (proto/filter.md), applied only to the items that are about to be
 * returned: each candidate's metadata is read at most once, in score
 * order, until k have passed. */
#include "model/model_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int
xs_u32_cmp(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *) x, b = *(const uint32_t *) y;

	return a < b ? -1 : a > b;
}

bool
xs_u32_contains(const uint32_t *v, size_t n, uint32_t x)
{
	size_t lo = 0, hi = n;

	/* By hand rather than bsearch(): it runs for every neighbour
	 * walked, and the comparison inlines. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid] < x) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo < n && v[lo] == x;
}

int
xs_cand_cmp_score(const void *x, const void *y)
{
	const struct xs_cand *p = x, *q = y;

	if (p->score != q->score) {
		return p->score > q->score ? -1 : 1;
	}
	return p->item < q->item ? -1 : p->item > q->item;
}

/* A candidate as the ranking moves it: a pointer, so that sorting and
 * compacting move 8 bytes, not a candidate, and leave the candidates
 * where their map has them. */
struct cand_ref {
	struct xs_cand *c;
};

/* xs_cand_cmp_score over references. */
static int
cand_ptr_cmp_score(const void *x, const void *y)
{
	return xs_cand_cmp_score(((const struct cand_ref *) x)->c,
	    ((const struct cand_ref *) y)->c);
}

static int
cand_ptr_cmp_ext(const void *x, const void *y)
{
	const struct xs_cand *p = ((const struct cand_ref *) x)->c;
	const struct xs_cand *q = ((const struct cand_ref *) y)->c;
	size_t n = p->ext_len < q->ext_len ? p->ext_len : q->ext_len;
	int    c = memcmp(p->ext, q->ext, n);

	if (c != 0) {
		return c;
	}
	return p->ext_len < q->ext_len ? -1 : p->ext_len > q->ext_len;
}

/* Resolve the given ids; unknown ones are listed, known ones sorted. */
xsell_err
xs_rank_resolve_given(xs_store *st, MDB_txn *txn, const struct xs_query *q,
    struct xs_arena *arena, uint32_t *given, size_t *n_givenp,
    struct xs_answer *ans)
{
	size_t n = 0;

	ans->unknown =
	    xs_arena_calloc(arena, q->n_items + 1, sizeof(uint32_t));
	ans->n_unknown = 0;
	if (ans->unknown == NULL) {
		return XSELL_ENOMEM;
	}
	for (uint32_t i = 0; i < q->n_items; i++) {
		xsell_err err = xs_store_id_get(st, txn, XS_DICT_ITEM,
		    q->items[i].p, q->items[i].len, &given[n]);

		if (err == XSELL_ENOENT) {
			ans->unknown[ans->n_unknown++] = i;
			continue;
		}
		if (err != XSELL_OK) {
			return err;
		}
		n++;
	}
	if (n != 0) {
		qsort(given, n, sizeof(*given), xs_u32_cmp);
	}
	/* The given items are a set: a cart listing A twice asks once. */
	{
		size_t u = 0;

		for (size_t i = 0; i < n; i++) {
			if (u == 0 || given[u - 1] != given[i]) {
				given[u++] = given[i];
			}
		}
		n = u;
	}
	*n_givenp = n;
	return XSELL_OK;
}

xsell_err
xs_rank_resolve_excluded(xs_store *st, MDB_txn *txn, const struct xs_filter *f,
    uint32_t *out, size_t *np)
{
	size_t n = 0;

	for (uint32_t i = 0; i < f->n_exclude; i++) {
		xsell_err err = xs_store_id_get(st, txn, XS_DICT_ITEM,
		    f->exclude[i].p, f->exclude[i].len, &out[n]);

		if (err == XSELL_OK) {
			n++;
		} else if (err != XSELL_ENOENT) {
			return err;
		}
	}
	if (n != 0) {
		qsort(out, n, sizeof(*out), xs_u32_cmp);
	}
	*np = n;
	return XSELL_OK;
}

xsell_err
xs_rank_resolve(xs_store *st, MDB_txn *txn, const struct xs_query *q,
    struct xs_arena *arena, struct xs_rank_ids *ids, struct xs_answer *ans)
{
	xsell_err err;

	memset(ans, 0, sizeof(*ans));
	memset(ids, 0, sizeof(*ids));
	ids->given = xs_arena_calloc(arena, q->n_items + 1, sizeof(uint32_t));
	ids->excluded =
	    xs_arena_calloc(arena, q->filter.n_exclude + 1, sizeof(uint32_t));
	if (ids->given == NULL || ids->excluded == NULL) {
		return XSELL_ENOMEM;
	}
	err = xs_rank_resolve_given(
	    st, txn, q, arena, ids->given, &ids->n_given, ans);
	if (err != XSELL_OK) {
		return err;
	}
	return xs_rank_resolve_excluded(
	    st, txn, &q->filter, ids->excluded, &ids->n_excluded);
}

static xsell_err
load_ext(xs_store *st, MDB_txn *txn, struct xs_cand *c)
{
	if (c->ext != NULL) {
		return XSELL_OK;
	}
	return xs_store_ext_get(
	    st, txn, XS_DICT_ITEM, c->item, &c->ext, &c->ext_len);
}

/* ==== The filter ==== */

/* Items taken so far of one category (0: no category), for
 * max_per_category. A slot with n 0 is empty. */
struct cat_count {
	uint32_t cat;
	uint32_t n;
};

/* The filter of one request with its names resolved to dense ids. */
struct filter_ids {
	const struct xs_filter *f;
	const uint32_t         *excluded; /* sorted */
	size_t                  n_excluded;
	uint32_t               *cats; /* sorted; f->n_categories != 0 */
	size_t                  n_cats;
	uint32_t               *xcats; /* sorted */
	size_t                  n_xcats;
	bool                    need_meta;
	/* max_per_category: an open-addressing table of at least twice
	 * as many slots as the answer can take items, so it is never
	 * more than half full and a lookup is a probe or two. */
	struct cat_count *counts;
	uint32_t          mask;
};

/* Resolve category names to sorted dense ids. A name nobody stored (or
 * one no upsert could have stored) is left out: it matches no item. */
static xsell_err
resolve_categories(xs_store *st, MDB_txn *txn, const struct xs_span *names,
    uint32_t n_names, struct xs_arena *arena, uint32_t **outp, size_t *np)
{
	uint32_t *out = xs_arena_calloc(arena, n_names + 1, sizeof(*out));
	size_t    n   = 0;

	if (out == NULL) {
		return XSELL_ENOMEM;
	}
	for (uint32_t i = 0; i < n_names; i++) {
		xsell_err err;

		if (names[i].len == 0 || names[i].len > XSELL_CATEGORY_MAX) {
			continue;
		}
		err = xs_store_id_get(
		    st, txn, XS_DICT_CAT, names[i].p, names[i].len, &out[n]);
		if (err == XSELL_OK) {
			n++;
		} else if (err != XSELL_ENOENT) {
			return err;
		}
	}
	if (n != 0) {
		qsort(out, n, sizeof(*out), xs_u32_cmp);
	}
	*outp = out;
	*np   = n;
	return XSELL_OK;
}

/* The slot of category 'cat' in the max_per_category table: its own,
 * or the empty one where it belongs. */
static struct cat_count *
cat_slot(const struct filter_ids *fi, uint32_t cat)
{
	uint32_t h = (cat * 2654435761u) & fi->mask;

	while (fi->counts[h].n != 0 && fi->counts[h].cat != cat) {
		h = (h + 1) & fi->mask;
	}
	return &fi->counts[h];
}

/* Resolve q's filter once per request, before any of the 'n'
 * candidates is seen. */
static xsell_err
filter_ids_init(xs_store *st, MDB_txn *txn, const struct xs_query *q, size_t n,
    const uint32_t *excluded, size_t n_excluded, struct xs_arena *arena,
    struct filter_ids *fi)
{
	const struct xs_filter *f = &q->filter;
	xsell_err               err;

	memset(fi, 0, sizeof(*fi));
	fi->f          = f;
	fi->excluded   = excluded;
	fi->n_excluded = n_excluded;
	fi->need_meta  = f->in_stock || f->n_categories != 0 ||
	    f->n_exclude_categories != 0 || f->has_price_min ||
	    f->has_price_max || f->max_per_category != 0;
	err = resolve_categories(st, txn, f->categories, f->n_categories,
	    arena, &fi->cats, &fi->n_cats);
	if (err == XSELL_OK) {
		err = resolve_categories(st, txn, f->exclude_categories,
		    f->n_exclude_categories, arena, &fi->xcats, &fi->n_xcats);
	}
	if (err == XSELL_OK && f->max_per_category != 0) {
		/* The answer takes at most min(k, n) items, so at most
		 * that many categories, besides those it holds already. */
		size_t most = (q->k < n ? q->k : n) + q->n_taken_cats;
		size_t size = 16;

		while (size < 2 * most && size < ((size_t) 1 << 31)) {
			size *= 2;
		}
		fi->counts = xs_arena_calloc(arena, size, sizeof(*fi->counts));
		fi->mask   = (uint32_t) (size - 1);
		if (fi->counts == NULL) {
			err = XSELL_ENOMEM;
		}
		for (uint32_t i = 0; err == XSELL_OK && i < q->n_taken_cats;
		     i++) {
			struct cat_count *slot =
			    cat_slot(fi, q->taken_cats[i]);

			slot->cat = q->taken_cats[i];
			slot->n++;
		}
	}
	return err;
}

/* Can anything pass? Not when every allowed category is unknown. */
static bool
filter_can_pass(const struct filter_ids *fi)
{
	return fi->f->n_categories == 0 || fi->n_cats != 0;
}

/* Inclusive bounds; an item without a price fails any bound set. */
static bool
price_pass(const struct xs_filter *f, const struct xs_item_meta *m)
{
	if (!f->has_price_min && !f->has_price_max) {
		return true;
	}
	if ((m->flags & XS_META_HAS_PRICE) == 0) {
		return false;
	}
	return (!f->has_price_min || m->price >= f->price_min) &&
	    (!f->has_price_max || m->price <= f->price_max);
}

/* Does 'c' pass the rules that do not depend on the answer (exclude,
 * stock, categories, price)? Reads c's metadata once, only when a rule
 * needs it, and keeps its category in c->cat for max_per_category. */
static xsell_err
filter_pass(xs_store *st, MDB_txn *txn, const struct filter_ids *fi,
    struct xs_cand *c, bool *passp)
{
	const struct xs_filter *f = fi->f;
	struct xs_item_meta     m;
	xsell_err               err;

	*passp = false;
	c->cat = 0;
	if (xs_u32_contains(fi->excluded, fi->n_excluded, c->item)) {
		return XSELL_OK;
	}
	if (!fi->need_meta) {
		*passp = true;
		return XSELL_OK;
	}
	err = xs_store_meta_get(st, txn, c->item, &m);
	if (err != XSELL_OK && err != XSELL_ENOENT) {
		return err;
	}
	c->cat = m.category;
	/* Dense category ids start at 1, so an item without a category
	 * (0) is in no list. */
	*passp = !(f->in_stock && !m.in_stock) &&
	    (f->n_categories == 0 ||
	        xs_u32_contains(fi->cats, fi->n_cats, m.category)) &&
	    !xs_u32_contains(fi->xcats, fi->n_xcats, m.category) &&
	    price_pass(f, &m);
	return XSELL_OK;
}

/* Is category 'cat' already at max_per_category? Counts only grow, so a
 * full category stays full. */
static bool
cat_full(const struct filter_ids *fi, uint32_t cat)
{
	return fi->counts != NULL &&
	    cat_slot(fi, cat)->n >= fi->f->max_per_category;
}

/* What filter_pass said of each candidate (indexed from 'base'), so
 * that a wider round, or the next ranking of the same grown candidates
 * (xs_rank_top_kept), reads no metadata twice. */
enum { VERDICT_UNKNOWN = 0, VERDICT_PASS, VERDICT_FAIL };

struct verdicts {
	const struct xs_cand *base;
	uint8_t              *v;
};

/* Keep the members of run p[0..n) that pass filter_pass, and whose
 * category is not full already, in order, at the front; *np is how
 * many. */
static xsell_err
filter_run(xs_store *st, MDB_txn *txn, const struct filter_ids *fi,
    const struct verdicts *vd, struct cand_ref *p, size_t *np)
{
	size_t m = 0;

	for (size_t t = 0; t < *np; t++) {
		uint8_t *known = &vd->v[p[t].c - vd->base];

		if (*known == VERDICT_UNKNOWN) {
			bool      pass;
			xsell_err err =
			    filter_pass(st, txn, fi, p[t].c, &pass);

			if (err != XSELL_OK) {
				return err;
			}
			*known = pass ? VERDICT_PASS : VERDICT_FAIL;
		}
		if (*known == VERDICT_PASS && !cat_full(fi, p[t].c->cat)) {
			p[m++] = p[t];
		}
	}
	*np = m;
	return XSELL_OK;
}

/* max_per_category: may one more item of category 'cat' be taken? If
 * so, count it as taken. */
static bool
filter_take(const struct filter_ids *fi, uint32_t cat)
{
	struct cat_count *slot;

	if (fi->counts == NULL) {
		return true;
	}
	if (cat_full(fi, cat)) {
		return false;
	}
	slot      = cat_slot(fi, cat);
	slot->cat = cat;
	slot->n++;
	return true;
}

/* Append v (its external id loaded) to the answer, with its via-item. */
static xsell_err
answer_add(
    xs_store *st, MDB_txn *txn, struct xs_cand *v, struct xs_answer *ans)
{
	struct xs_rec *r;
	xsell_err      err = load_ext(st, txn, v);

	if (err != XSELL_OK) {
		return err;
	}
	r          = &ans->recs[ans->n++];
	r->item    = v->item;
	r->score   = v->score;
	r->count   = v->count;
	r->ext     = v->ext;
	r->ext_len = v->ext_len;
	r->via     = v->via;
	r->why     = v->why;
	if (v->via != 0) {
		err = xs_store_ext_get(
		    st, txn, XS_DICT_ITEM, v->via, &r->via_ext, &r->via_len);
	}
	return err;
}

/* Take the best k that pass the filter from candidates sorted by score
 * (pointers into vd's array). Each run of equal scores is filtered
 * first, then its survivors are ordered by external id (so a narrow
 * filter never loads and sorts the ids of a long tail it leaves out),
 * then taken in that order while max_per_category allows. The pointer
 * array is scratch; the candidates keep their loaded external ids. */
static xsell_err
rank_select(xs_store *st, MDB_txn *txn, const struct xs_query *q,
    const uint32_t *excluded, size_t n_excluded, const struct verdicts *vd,
    struct cand_ref *p, size_t n, struct xs_arena *arena,
    struct xs_answer *ans)
{
	struct filter_ids fi;
	size_t            i   = 0;
	xsell_err         err = XSELL_OK;

	ans->recs = xs_arena_calloc(arena, q->k, sizeof(*ans->recs));
	ans->n    = 0;
	if (ans->recs == NULL) {
		return XSELL_ENOMEM;
	}
	if (n == 0) {
		return XSELL_OK;
	}
	err = filter_ids_init(st, txn, q, n, excluded, n_excluded, arena, &fi);
	if (err != XSELL_OK || !filter_can_pass(&fi)) {
		return err;
	}
	while (i < n && ans->n < q->k && err == XSELL_OK) {
		size_t j = i + 1, m;

		while (j < n && p[j].c->score == p[i].c->score) {
			j++;
		}
		m   = j - i;
		err = filter_run(st, txn, &fi, vd, p + i, &m);
		for (size_t t = i; t < i + m && m > 1 && err == XSELL_OK;
		     t++) {
			err = load_ext(st, txn, p[t].c);
		}
		if (err == XSELL_OK && m > 1) {
			qsort(p + i, m, sizeof(*p), cand_ptr_cmp_ext);
		}
		for (size_t t = i;
		     t < i + m && ans->n < q->k && err == XSELL_OK; t++) {
			if (filter_take(&fi, p[t].c->cat)) {
				err = answer_add(st, txn, p[t].c, ans);
			}
		}
		i = j;
	}
	return err;
}

xsell_err
xs_rank_select(xs_store *st, MDB_txn *txn, const struct xs_query *q,
    const uint32_t *excluded, size_t n_excluded, struct xs_cand *v, size_t n,
    struct xs_arena *arena, struct xs_answer *ans)
{
	struct cand_ref *p  = malloc((n ? n : 1) * sizeof(*p));
	struct verdicts  vd = { v, calloc(n ? n : 1, 1) };
	xsell_err        err;

	if (p == NULL || vd.v == NULL) {
		free(p);
		free(vd.v);
		return XSELL_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		p[i].c = &v[i];
	}
	err = rank_select(
	    st, txn, q, excluded, n_excluded, &vd, p, n, arena, ans);
	free(p);
	free(vd.v);
	return err;
}

/* Sift s[i] down the min-heap s[0..m). */
static void
heap_sift_down(double *s, size_t m, size_t i)
{
	double x = s[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= m) {
			break;
		}
		/* The analyzer, not knowing that s[] was filled, takes
		 * s[] for garbage (as in the selection below). */
		// NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult)
		if (c + 1 < m && s[c + 1] < s[c]) {
			c++;
		}
		if (!(s[c] < x)) {
			break;
		}
		s[i] = s[c];
		i    = c;
	}
	s[i] = x;
}

/* xs_nth_largest for a small m: the m largest kept in a min-heap at the
 * front of s, whose root is then the answer. Once the heap holds large
 * values nearly every other element fails one well-predicted compare,
 * where selection's partitions mispredict about half of theirs. */
static double
nth_largest_by_heap(double *s, size_t n, size_t m)
{
	for (size_t i = m / 2; i-- > 0;) {
		heap_sift_down(s, m, i);
	}
	for (size_t i = m; i < n; i++) {
		if (s[i] > s[0]) {
			s[0] = s[i];
			heap_sift_down(s, m, 0);
		}
	}
	return s[0];
}

/* The buckets of the pre-pass below: each 1/16 of an octave below the
 * largest value (2^48 of a double's 2^52 steps an octave), 255 of them
 * reaching ~16 octaves down; the last takes everything further. */
#define NTH_BUCKETS 256u
#define NTH_BUCKET_SHIFT 48
/* Below this many values the heap alone is as quick. */
#define NTH_BUCKETS_FROM 128u

/* x's bits as an unsigned number in the order of the doubles: a
 * negative one's bits flipped, a positive one's sign bit set. */
static uint64_t
order_key(double x)
{
	uint64_t u;

	memcpy(&u, &x, sizeof(u));
	return u ^ (-(u >> 63) | UINT64_C(1) << 63);
}

/* The double whose order_key is k. */
static double
of_order_key(uint64_t k)
{
	uint64_t u = k ^ (((k >> 63) - 1) | UINT64_C(1) << 63);
	double   x;

	memcpy(&x, &u, sizeof(x));
	return x;
}

/* The pre-pass below keeps order keys where the doubles were. */
static uint64_t
key_at(const double *s, size_t i)
{
	uint64_t k;

	memcpy(&k, &s[i], sizeof(k));
	return k;
}

static void
key_put(double *s, size_t i, uint64_t k)
{
	memcpy(&s[i], &k, sizeof(k));
}

/* Keep at the front of s[0..n) only the values of the buckets that
 * hold the m largest, the m-th largest among them, and return how many
 * are kept (n when the m-th is in the last bucket, and nothing is
 * dropped). A value dropped is below every value kept, so the m-th
 * largest is the same. Three passes over order keys that hardly branch,
 * where a heap of the m largest over values in no order mispredicts
 * most of its sift-downs (a cart's cut over ~380 bounds was 11% of its
 * answer). */
static size_t
keep_top_buckets(double *s, size_t n, size_t m)
{
	uint32_t count[NTH_BUCKETS] = { 0 };
	uint64_t top                = 0, below;
	size_t   b = 0, above = 0, kept = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t k = order_key(s[i]);

		key_put(s, i, k);
		top = k > top ? k : top;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t d = (top - key_at(s, i)) >> NTH_BUCKET_SHIFT;

		count[d < NTH_BUCKETS - 1 ? d : NTH_BUCKETS - 1]++;
	}
	/* n >= m values in all: the walk stops by the last bucket. */
	while (above + count[b] < m) {
		above += count[b++];
	}
	/* Bucket b ends 'below' under top; the last bucket has no end. */
	below = b == NTH_BUCKETS - 1 ? UINT64_MAX
	                             : (uint64_t) (b + 1) << NTH_BUCKET_SHIFT;
	/* In place: each key is read before the front reaches it. */
	for (size_t i = 0; i < n; i++) {
		uint64_t k = key_at(s, i);

		key_put(s, kept, k);
		kept += top - k < below;
	}
	for (size_t i = 0; i < kept; i++) {
		s[i] = of_order_key(key_at(s, i));
	}
	return kept;
}

double
xs_nth_largest(double *s, size_t n, size_t m)
{
	size_t lo = 0, hi, want = m - 1;

	if (m <= n / 4 && n >= NTH_BUCKETS_FROM) {
		n = keep_top_buckets(s, n, m);
	}
	if (m <= n / 4) {
		return nth_largest_by_heap(s, n, m);
	}
	hi = n - 1;

	while (lo < hi) {
		double pivot = s[lo + (hi - lo) / 2];
		size_t i = lo, j = hi;

		/* Each scan stops at the pivot or at an element swapped
		 * past it (Hoare), inside [lo, hi]. The analyzer, not
		 * knowing that s[] was filled, takes s[] for garbage. */
		while (i <= j) {
			// NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult)
			while (s[i] > pivot) {
				i++;
			}
			// NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult)
			while (s[j] < pivot) {
				j--;
			}
			if (i <= j) {
				double t = s[i];

				s[i] = s[j];
				s[j] = t;
				i++;
				if (j == 0) {
					break;
				}
				j--;
			}
		}
		if (want <= j) {
			hi = j;
		} else if (want >= i) {
			lo = i;
		} else {
			return s[want];
		}
	}
	return s[want];
}

/* Pointers to every candidate of vd at or above 't' first (in no
 * order), each once; returns how many. */
static size_t
point_at_least(
    const struct verdicts *vd, size_t n, double t, struct cand_ref *p)
{
	size_t front = 0, back = n;

	for (size_t i = 0; i < n; i++) {
		struct xs_cand *c = (struct xs_cand *) &vd->base[i];

		if (c->score >= t) {
			p[front++].c = c;
		} else {
			p[--back].c = c;
		}
	}
	return front;
}

/* Candidates ranked beyond k at first, so that a filter dropping a few
 * of the best costs no second round. */
#define RANK_SLACK 16

/* Rank the candidates of vd at or above the want-th best score (all n
 * if there are no more than 'want'): sort pointers to them (p has room
 * for n; 'scores' too, when n > want) and select; *frontp: how many
 * that was. */
static xsell_err
rank_front(xs_store *st, MDB_txn *txn, const struct xs_query *q,
    const uint32_t *excluded, size_t n_excluded, const struct verdicts *vd,
    size_t n, size_t want, struct cand_ref *p, double *scores,
    struct xs_arena *arena, struct xs_answer *ans, size_t *frontp)
{
	double t = -INFINITY;
	size_t front;

	if (n > want) {
		for (size_t i = 0; i < n; i++) {
			scores[i] = vd->base[i].score;
		}
		t = xs_nth_largest(scores, n, want);
	}
	/* Every candidate tied with the cut is in front: runs of equal
	 * scores are never split. */
	front   = point_at_least(vd, n, t, p);
	*frontp = front;
	if (front > 1) {
		qsort(p, front, sizeof(*p), cand_ptr_cmp_score);
	}
	return rank_select(
	    st, txn, q, excluded, n_excluded, vd, p, front, arena, ans);
}

xsell_err
xs_rank_top_kept(xs_store *st, MDB_txn *txn, const struct xs_query *q,
    const uint32_t *excluded, size_t n_excluded, struct xs_cand *v, size_t n,
    struct xs_rank_kept *kept, struct xs_arena *arena, struct xs_answer *ans)
{
	size_t           want = (size_t) q->k + RANK_SLACK, front;
	struct verdicts  vd   = { v, NULL };
	struct cand_ref *p    = malloc((n ? n : 1) * sizeof(*p));
	double   *scores      = n > want ? malloc(n * sizeof(*scores)) : NULL;
	xsell_err err         = XSELL_OK;

	/* Candidates added since the last ranking start unknown. */
	if (kept->n < n) {
		uint8_t *grown = realloc(kept->verdicts, n);

		if (grown != NULL) {
			memset(grown + kept->n, VERDICT_UNKNOWN, n - kept->n);
			kept->verdicts = grown;
			kept->n        = n;
		}
	}
	vd.v = kept->verdicts;
	if (kept->n < n || p == NULL || (n > want && scores == NULL)) {
		err = XSELL_ENOMEM;
	}
	/* Only the best few are sorted; if the filter leaves fewer than
	 * k of them, four times as many, until all were. */
	while (err == XSELL_OK) {
		err = rank_front(st, txn, q, excluded, n_excluded, &vd, n,
		    want, p, scores, arena, ans, &front);
		if (err != XSELL_OK || ans->n == q->k || front == n) {
			break;
		}
		want = want > n / 4 ? n : want * 4;
	}
	free(p);
	free(scores);
	return err;
}

xsell_err
xs_rank_top(xs_store *st, MDB_txn *txn, const struct xs_query *q,
    const uint32_t *excluded, size_t n_excluded, struct xs_cand *v, size_t n,
    struct xs_arena *arena, struct xs_answer *ans)
{
	struct xs_rank_kept kept = { NULL, 0 };
	xsell_err           err  = xs_rank_top_kept(
	               st, txn, q, excluded, n_excluded, v, n, &kept, arena, ans);

	free(kept.verdicts);
	return err;
}
