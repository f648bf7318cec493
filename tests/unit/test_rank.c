/* SPDX-License-Identifier: MIT */
/* xs_rank_top, which sorts only the best few candidates, gives exactly
 * what a full sort and xs_rank_select give: on many random candidate sets
 * with heavy ties, with and without a filter that throws most of the
 * best away (so that it must fall back to sorting everything); and
 * it leaves the candidates in their order. */
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_impl.h"

#define N_ITEMS 3000

static uint32_t ids[N_ITEMS];

/* Items "i0".."i2999" in the dictionary (in a scrambled order, so that
 * dense numbers and external ids disagree), every third out of stock. */
static void
make_items(xs_store *st)
{
	MDB_txn *txn;

	assert_xs_ok(xs_txn_write(st, &txn));
	for (uint32_t k = 0; k < N_ITEMS; k++) {
		uint32_t              i  = (k * 7919u) % N_ITEMS;
		struct xs_item_update up = { 0 };
		char                  ext[16];

		snprintf(ext, sizeof(ext), "i%u", i);
		up.item = (struct xs_span) { ext, (uint32_t) strlen(ext) };
		up.has_in_stock = true;
		up.in_stock     = i % 3 != 0;
		assert_xs_ok(xs_model_items_upsert(st, txn, &up, 1, 1));
		assert_xs_ok(xs_store_id_get(
		    st, txn, XS_DICT_ITEM, ext, strlen(ext), &ids[i]));
	}
	assert_xs_ok(xs_txn_commit(txn));
}

/* The answer as "id id id ...". */
static void
render(const struct xs_answer *ans, char *out, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	for (uint32_t i = 0; i < ans->n; i++) {
		o += (size_t) snprintf(out + o, len - o, "%.*s ",
		    (int) ans->recs[i].ext_len, ans->recs[i].ext);
	}
}

static void
test_rank_top_equals_full_sort(void **state)
{
	struct xs_test_store *f      = *state;
	struct xs_cand       *a      = calloc(N_ITEMS, sizeof(*a));
	struct xs_cand       *b      = calloc(N_ITEMS, sizeof(*b));
	uint32_t             *order  = calloc(N_ITEMS, sizeof(*order));
	uint32_t             *excl   = calloc(N_ITEMS, sizeof(*excl));
	size_t                n_excl = 0;
	struct xs_arena       arena;
	MDB_txn              *txn;
	unsigned              seed = 42;

	assert_true(a != NULL && b != NULL && order != NULL && excl != NULL);
	make_items(f->st);
	/* Nine in ten excluded: the best k + 16 rarely hold k that pass,
	 * so xs_rank_top has to sort the rest too. */
	for (uint32_t i = 0; i < N_ITEMS; i++) {
		if (i % 10 != 0) {
			excl[n_excl++] = ids[i];
		}
	}
	qsort(excl, n_excl, sizeof(*excl), xs_u32_cmp);
	xs_arena_init(&arena, 16 << 20);
	assert_xs_ok(xs_txn_read(f->st, &txn));
	for (int round = 0; round < 200; round++) {
		struct xs_query  q = { 0 };
		struct xs_answer full, top;
		size_t           n  = 1 + (size_t) rand_r(&seed) % N_ITEMS;
		size_t           ne = round % 4 >= 2 ? n_excl : 0;
		char             want[8192], got[8192];

		q.k               = 1 + (unsigned) rand_r(&seed) % 60;
		q.filter.in_stock = round % 2 == 0; /* a third fails it */
		for (size_t i = 0; i < n; i++) {
			memset(&a[i], 0, sizeof(a[i]));
			a[i].item = ids[(i * 31 + (size_t) round) % N_ITEMS];
			/* Few distinct scores: long runs of ties. */
			a[i].score = (double) (rand_r(&seed) % 17);
		}
		memcpy(b, a, n * sizeof(*a));
		for (size_t i = 0; i < n; i++) {
			order[i] = b[i].item;
		}
		qsort(a, n, sizeof(*a), xs_cand_cmp_score);
		xs_arena_reset(&arena);
		assert_xs_ok(xs_rank_select(
		    f->st, txn, &q, excl, ne, a, n, &arena, &full));
		render(&full, want, sizeof(want));
		assert_xs_ok(
		    xs_rank_top(f->st, txn, &q, excl, ne, b, n, &arena, &top));
		render(&top, got, sizeof(got));
		assert_string_equal(got, want);
		/* It ranks pointers: the candidates keep their order (a
		 * caller's map still indexes them). */
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(b[i].item, order[i]);
		}
	}
	xs_txn_abort(txn);
	xs_arena_fini(&arena);
	free(a);
	free(b);
	free(order);
	free(excl);
}

static int
cmp_double_desc(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;

	return (x < y) - (x > y);
}

/* xs_nth_largest against a full sort, by each of its ways (a heap for
 * m up to n / 4, after the buckets' cut from 128 values up; selection
 * beyond): random scores, scores with many ties (small integer counts,
 * as count scorers give), sorted and reversed input, values of both
 * signs with zeros of both signs, values all below zero (the m-th
 * largest negative too), values over 120 octaves (so that the
 * m-th falls past the buckets, or in the last one), and values within
 * one bucket of each other; every m of small n and a spread of m for
 * large n. */
static void
test_rank_nth_largest_equals_sort(void **state)
{
	enum { N_MAX = 5000 };
	double  *s       = malloc(N_MAX * sizeof(*s));
	double  *sorted  = malloc(N_MAX * sizeof(*sorted));
	uint32_t rng     = 12345;
	size_t   checked = 0;

	(void) state;
	assert_non_null(s);
	assert_non_null(sorted);
	for (int shape = 0; shape < 8; shape++) {
		for (size_t n = 1; n <= N_MAX; n = n < 40 ? n + 1 : n * 3) {
			for (size_t m = 1; m <= n;
			     m        = n < 40 ? m + 1 : m * 2 + 1) {
				for (size_t i = 0; i < n; i++) {
					rng = rng * 1103515245u + 12345u;
					switch (shape) {
					case 0: /* distinct-ish */
						sorted[i] =
						    (double) (rng >> 8) / 7.0;
						break;
					case 1: /* ties */
						sorted[i] =
						    (double) ((rng >> 16) % 5);
						break;
					case 2: /* ascending */
						sorted[i] = (double) i;
						break;
					case 3: /* descending */
						sorted[i] = (double) (n - i);
						break;
					case 4: /* both signs, both zeros */
						sorted[i] =
						    (double) ((int) ((rng >>
						                         12) %
						                  41) -
						        20) /
						    3.0;
						if (sorted[i] == 0 &&
						    (rng & 1)) {
							sorted[i] = -0.0;
						}
						break;
					case 5: /* over 120 octaves */
						sorted[i] = ldexp(1.0 +
						        (double) ((rng >> 8) &
						            255) /
						            256.0,
						    (int) ((rng >> 20) % 121) -
						        60);
						break;
					case 6: /* all below zero */
						sorted[i] = -1.0 -
						    (double) (rng >> 8) / 7.0;
						break;
					default: /* within one bucket */
						sorted[i] = 1000.0 +
						    (double) ((rng >> 8) %
						        97) *
						        1e-9;
						break;
					}
				}
				memcpy(s, sorted, n * sizeof(*s));
				qsort(sorted, n, sizeof(*sorted),
				    cmp_double_desc);
				assert_true(
				    xs_nth_largest(s, n, m) == sorted[m - 1]);
				checked++;
			}
		}
	}
	assert_true(checked > 1000);
	free(s);
	free(sorted);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rank_top_equals_full_sort,
		    xs_test_store_setup, xs_test_store_teardown),
		cmocka_unit_test(test_rank_nth_largest_equals_sort),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
