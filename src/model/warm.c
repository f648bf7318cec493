/* SPDX-License-Identifier: MIT */
/* Warming: the answers of the most ordered items, made once before a
 * server takes requests.
 *
 * What fbt derives from one item (its best pairs; for a cart, its whole
 * pair list scored and packed: cart_lists.c) is kept in the store's item
 * memos, and a process that has just opened the store has none. The
 * first answers for a popular item then pay for its whole pair list:
 * at 50M order lines, lists of up to 50,000 pairs read from pages not
 * yet mapped, 10-30 times a warm answer (bench/RESULTS.md, "What a
 * cart's p99 at 50M is made of"). Asking the answers of the items most
 * carts hold before serving moves that cost to the start. */
#include "model/model_impl.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct warm_item {
	uint32_t item, baskets;
};

/* Fewer baskets first, then the higher number: the root of the min-heap
 * is the item to drop first. */
static bool
warm_before(const struct warm_item *x, const struct warm_item *y)
{
	if (x->baskets != y->baskets) {
		return x->baskets < y->baskets;
	}
	return x->item > y->item;
}

static void
warm_sift_down(struct warm_item *h, size_t n, size_t i)
{
	for (;;) {
		size_t           l = 2 * i + 1, r = l + 1, m = i;
		struct warm_item t;

		if (l < n && warm_before(&h[l], &h[m])) {
			m = l;
		}
		if (r < n && warm_before(&h[r], &h[m])) {
			m = r;
		}
		if (m == i) {
			return;
		}
		t    = h[i];
		h[i] = h[m];
		h[m] = t;
		i    = m;
	}
}

static int
cmp_most_baskets(const void *x, const void *y)
{
	const struct warm_item *p = x, *q = y;

	if (p->baskets != q->baskets) {
		return p->baskets > q->baskets ? -1 : 1;
	}
	return p->item < q->item ? -1 : p->item > q->item;
}

/* The (at most) n items in most baskets, most first, ties by number;
 * items in none are left out. *np says how many. */
static xsell_err
warm_items_top(xs_store *st, MDB_txn *txn, uint32_t n, struct warm_item **outp,
    size_t *np)
{
	struct xs_counts_reader cr;
	struct warm_item       *h;
	uint32_t                max_id;
	size_t                  have = 0;
	xsell_err err = xs_store_dict_size(st, txn, XS_DICT_ITEM, &max_id);

	*outp = NULL;
	*np   = 0;
	if (err != XSELL_OK || n == 0 || max_id == 0) {
		return err;
	}
	if (n > max_id) {
		n = max_id;
	}
	h = malloc((size_t) n * sizeof(*h));
	if (h == NULL) {
		return XSELL_ENOMEM;
	}
	xs_counts_reader_init(&cr, st, txn);
	for (uint32_t item = 1; item <= max_id; item++) {
		struct warm_item w = { item,
			xs_counts_reader_get(&cr, item, XS_C_BASKETS) };

		if (w.baskets == 0) {
			continue;
		}
		if (have < n) {
			h[have++] = w;
			if (have == n) {
				for (size_t i = n / 2; i-- > 0;) {
					warm_sift_down(h, n, i);
				}
			}
		} else if (warm_before(&h[0], &w)) {
			h[0] = w;
			warm_sift_down(h, n, 0);
		}
	}
	xs_counts_reader_fini(&cr);
	qsort(h, have, sizeof(*h), cmp_most_baskets);
	*outp = h;
	*np   = have;
	return XSELL_OK;
}

/* fbt of 'items' as a request with the defaults asks it. */
static xsell_err
warm_fbt(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct xs_span *items, uint32_t n, struct xs_arena *arena)
{
	struct xs_query  q = { 0 };
	struct xs_answer ans;
	xsell_err        err;

	q.items           = items;
	q.n_items         = n;
	q.k               = 10;
	q.scorer          = set->fbt_scorer;
	q.filter.in_stock = true;
	err               = xs_model_fbt(st, txn, set, &q, arena, &ans);
	xs_arena_reset(arena);
	return err;
}

/* The external id of item 'id' as a span (borrowed from txn). */
static xsell_err
warm_span(xs_store *st, MDB_txn *txn, uint32_t id, struct xs_span *out)
{
	const char *ext;
	size_t      len;
	xsell_err   err =
	    xs_store_ext_get(st, txn, XS_DICT_ITEM, id, &ext, &len);

	if (err == XSELL_OK) {
		out->p   = ext;
		out->len = (uint32_t) len;
	}
	return err;
}

/* Whether the item memos hold half their budget: warming stops there,
 * leaving the other half to what answers make (a full memo keeps nothing
 * more until commits retire what it holds). */
static bool
memo_half_full(xs_store *st)
{
	struct xs_item_memo_usage u;

	xs_store_item_memo_usage(st, &u);
	return u.bytes >= u.budget / 2;
}

/* What the warming threads share: the items, most ordered first, and
 * the next pair to take. */
struct warm_job {
	xs_store                 *st;
	const struct xs_settings *set;
	const struct warm_item   *top;
	size_t                    have;
	atomic_size_t             next;   /* index of the next pair's first */
	atomic_uint               warmed; /* items asked */
	atomic_int                err;    /* the first error, XSELL_OK */
};

/* Warm the pair of items at i (one, at the end): each alone, then both
 * as a cart. */
static xsell_err
warm_pair(struct warm_job *job, MDB_txn *txn, size_t i, struct xs_arena *arena)
{
	struct xs_span pair[2];
	uint32_t       m   = i + 1 < job->have ? 2 : 1;
	xsell_err      err = XSELL_OK;

	for (uint32_t j = 0; j < m && err == XSELL_OK; j++) {
		err = warm_span(job->st, txn, job->top[i + j].item, &pair[j]);
	}
	for (uint32_t j = 0; j < m && err == XSELL_OK; j++) {
		err = warm_fbt(job->st, txn, job->set, &pair[j], 1, arena);
	}
	if (err == XSELL_OK && m == 2) {
		err = warm_fbt(job->st, txn, job->set, pair, 2, arena);
	}
	if (err == XSELL_OK) {
		atomic_fetch_add(&job->warmed, m);
	}
	return err;
}

/* Record err as the job's, unless a thread failed first. */
static void
warm_fail(struct warm_job *job, xsell_err err)
{
	int ok = XSELL_OK;

	atomic_compare_exchange_strong(&job->err, &ok, (int) err);
}

/* One warming thread: pairs in order of the items' baskets, in a read
 * transaction of its own, until none are left, the memos are half full
 * or a thread failed. */
static void *
warm_main(void *arg)
{
	struct warm_job *job = arg;
	struct xs_arena  arena;
	MDB_txn         *txn;
	xsell_err        err = xs_txn_read(job->st, &txn);

	if (err != XSELL_OK) {
		warm_fail(job, err);
		return NULL;
	}
	xs_arena_init(&arena, XS_REQUEST_ARENA_MAX);
	while (
	    atomic_load(&job->err) == XSELL_OK && !memo_half_full(job->st)) {
		size_t i = atomic_fetch_add(&job->next, 2);

		if (i >= job->have) {
			break;
		}
		err = warm_pair(job, txn, i, &arena);
		if (err != XSELL_OK) {
			warm_fail(job, err);
		}
	}
	xs_arena_fini(&arena);
	xs_txn_abort(txn);
	return NULL;
}

xsell_err
xs_model_warm(xs_store *st, const struct xs_settings *set, uint32_t n,
    unsigned threads, uint32_t *warmedp)
{
	struct warm_job   job = { .st = st, .set = set };
	pthread_t         tid[XS_WARM_THREADS_MAX];
	struct warm_item *top;
	unsigned          started = 0;
	MDB_txn          *txn;
	xsell_err         err = xs_txn_read(st, &txn);

	*warmedp = 0;
	if (err != XSELL_OK) {
		return err;
	}
	err = warm_items_top(st, txn, n, &top, &job.have);
	xs_txn_abort(txn);
	if (err != XSELL_OK) {
		return err;
	}
	job.top = top;
	atomic_init(&job.next, 0);
	atomic_init(&job.warmed, 0);
	atomic_init(&job.err, XSELL_OK);
	threads = threads < 1               ? 1
	    : threads > XS_WARM_THREADS_MAX ? XS_WARM_THREADS_MAX
	                                    : threads;
	/* The calling thread is one of them; a thread that cannot be
	 * started leaves its share to the others. */
	while (started + 1 < threads &&
	    pthread_create(&tid[started], NULL, warm_main, &job) == 0) {
		started++;
	}
	warm_main(&job);
	for (unsigned t = 0; t < started; t++) {
		pthread_join(tid[t], NULL);
	}
	free(top);
	*warmedp = atomic_load(&job.warmed);
	return (xsell_err) atomic_load(&job.err);
}
