/* SPDX-License-Identifier: MIT */
/* The filter on real categories: the purchases and item categories of
 * DIGINETICA (CIKM Cup 2016, ../shared/data/diginetica-sample).
 *
 * Every purchase line is counted (orders grouped by ordernumber) and
 * every bought item gets its category from product-categories.csv (some
 * have none). Then, for each item whose whole fbt candidate list fits in
 * one answer (k 500), the filtered answers are checked against what the
 * filter must do to that unfiltered list, worked out here from the
 * CSV's categories: keep the members of a category set, leave out a
 * category, and take at most m per category (items without one forming
 * one group), all in the unfiltered order. Skipped (77) when the dataset
 * is not on this machine. */
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "store/store.h"

#define ID_LEN 24
#define K_ALL 500
#define K 10

struct pair {
	char a[ID_LEN]; /* order (purchases) or item (categories) */
	char b[ID_LEN]; /* item (purchases) or category (categories) */
};

static int
pair_cmp(const void *x, const void *y)
{
	return strcmp(
	    ((const struct pair *) x)->a, ((const struct pair *) y)->a);
}

/* Fields 'fa' and 'fb' (0-based) of each ';'-separated line after the
 * header, sorted by the first; NULL (skip) if the file is missing. */
static struct pair *
read_pairs(const char *rel, int fa, int fb, size_t *np)
{
	char        *path = xs_test_data_path(rel);
	char         line[512];
	struct pair *v = NULL;
	size_t       n = 0, cap = 0;
	FILE        *f;

	if (path == NULL) {
		return NULL;
	}
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f)); /* header */
	while (fgets(line, sizeof(line), f) != NULL) {
		char *field[8], *save = NULL;
		int   nf = 0;

		line[strcspn(line, "\r\n")] = '\0';
		for (char *t = strtok_r(line, ";", &save); t && nf < 8;
		     t       = strtok_r(NULL, ";", &save)) {
			field[nf++] = t;
		}
		assert_true(nf > fa && nf > fb);
		assert_true(strlen(field[fa]) < ID_LEN);
		assert_true(strlen(field[fb]) < ID_LEN);
		if (n == cap) {
			cap = cap ? 2 * cap : 4096;
			v   = realloc(v, cap * sizeof(*v));
			assert_non_null(v);
		}
		strcpy(v[n].a, field[fa]);
		strcpy(v[n].b, field[fb]);
		n++;
	}
	fclose(f);
	free(path);
	qsort(v, n, sizeof(*v), pair_cmp);
	*np = n;
	return v;
}

/* Count every order (lines grouped by order number) in one txn. */
static void
apply_orders(xs_store *st, const struct pair *lines, size_t n)
{
	struct xs_event       *evs = calloc(n, sizeof(*evs));
	struct xs_order_line  *ls  = calloc(n, sizeof(*ls));
	struct xs_apply_result res;
	size_t                 n_ev = 0;

	assert_non_null(evs);
	assert_non_null(ls);
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || strcmp(lines[i].a, lines[i - 1].a) != 0) {
			evs[n_ev].type  = XS_EV_ORDER;
			evs[n_ev].ts    = 1000 + (int64_t) n_ev;
			evs[n_ev].order = xs_test_span(lines[i].a);
			evs[n_ev].lines = &ls[i];
			n_ev++;
		}
		ls[i].item  = xs_test_span(lines[i].b);
		ls[i].qty   = 1;
		ls[i].price = NAN;
		evs[n_ev - 1].n_lines++;
	}
	xs_test_apply(st, NULL, NULL, evs, n_ev, &res);
	assert_true(res.applied > 10000);
	free(evs);
	free(ls);
}

/* The category of 'item' in the CSV, "" for none. */
static const char *
category_of(const struct pair *cats, size_t n, const char *item)
{
	struct pair  key;
	struct pair *hit;

	snprintf(key.a, sizeof(key.a), "%s", item);
	hit = bsearch(&key, cats, n, sizeof(key), pair_cmp);
	return hit != NULL ? hit->b : "";
}

/* Give every bought item its category (those without one get none). */
static void
upsert_categories(xs_store *st, const struct pair *lines, size_t n_lines,
    const struct pair *cats, size_t n_cats)
{
	struct xs_item_update *ups = calloc(n_lines, sizeof(*ups));
	size_t                 n   = 0;
	MDB_txn               *txn;

	assert_non_null(ups);
	for (size_t i = 0; i < n_lines; i++) {
		ups[n].item = xs_test_span(lines[i].b);
		ups[n].category =
		    xs_test_span(category_of(cats, n_cats, lines[i].b));
		n++;
	}
	assert_xs_ok(xs_txn_write(st, &txn));
	assert_xs_ok(xs_model_items_upsert(st, txn, ups, n, 1000));
	assert_xs_ok(xs_txn_commit(txn));
	free(ups);
}

/* An answer as a list of item ids. */
struct ids {
	char     id[K_ALL][ID_LEN];
	uint32_t n;
};

static void
fbt(xs_store *st, MDB_txn *txn, const char *seed, const struct xs_filter *f,
    unsigned k, struct ids *out)
{
	struct xs_span     given = xs_test_span(seed);
	struct xs_query    q     = { 0 };
	struct xs_settings set;
	struct xs_answer   ans;
	struct xs_arena    arena;

	q.items   = &given;
	q.n_items = 1;
	q.k       = k;
	q.scorer  = XS_SCORE_CONFIDENCE;
	q.filter  = *f;
	xs_settings_default(&set);
	xs_arena_init(&arena, 1 << 20);
	assert_xs_ok(xs_model_fbt(st, txn, &set, &q, &arena, &ans));
	out->n = ans.n;
	for (uint32_t i = 0; i < ans.n; i++) {
		assert_true(ans.recs[i].ext_len < ID_LEN);
		memcpy(out->id[i], ans.recs[i].ext, ans.recs[i].ext_len);
		out->id[i][ans.recs[i].ext_len] = '\0';
	}
	xs_arena_fini(&arena);
}

/* What the filter must return: the first K of 'all' (the unfiltered
 * answer) whose category is in 'in' (if given) and not 'out' (if
 * given), at most 'per_cat' (0: any) of one category. */
static void
expected(const struct ids *all, const struct pair *cats, size_t n_cats,
    const char *in1, const char *in2, const char *out, unsigned per_cat,
    struct ids *want)
{
	const char *taken[K_ALL];

	want->n = 0;
	for (uint32_t i = 0; i < all->n && want->n < K; i++) {
		const char *c    = category_of(cats, n_cats, all->id[i]);
		unsigned    same = 0;

		if ((in1 != NULL && strcmp(c, in1) != 0 &&
		        (in2 == NULL || strcmp(c, in2) != 0)) ||
		    (in1 != NULL && c[0] == '\0') ||
		    (out != NULL && c[0] != '\0' && strcmp(c, out) == 0)) {
			continue;
		}
		for (uint32_t t = 0; t < want->n; t++) {
			same += strcmp(taken[t], c) == 0;
		}
		if (per_cat != 0 && same >= per_cat) {
			continue;
		}
		taken[want->n] = c;
		strcpy(want->id[want->n++], all->id[i]);
	}
}

static void
assert_same(const char *seed, const char *what, const struct ids *got,
    const struct ids *want)
{
	bool same = got->n == want->n;

	for (uint32_t i = 0; same && i < got->n; i++) {
		same = strcmp(got->id[i], want->id[i]) == 0;
	}
	if (!same) {
		fail_msg("fbt %s with %s: got %u items (first %s), want %u "
		         "(first %s)",
		    seed, what, got->n, got->n ? got->id[0] : "-", want->n,
		    want->n ? want->id[0] : "-");
	}
}

static int
str_cmp(const void *x, const void *y)
{
	return strcmp((const char *) x, (const char *) y);
}

/* The distinct items of the purchase lines, sorted (malloc'd). */
static char (
    *distinct_items(const struct pair *lines, size_t n, size_t *np))[ID_LEN]
{
	char(*v)[ID_LEN] = malloc(n * ID_LEN);
	size_t u         = 0;

	assert_non_null(v);
	for (size_t i = 0; i < n; i++) {
		strcpy(v[i], lines[i].b);
	}
	qsort(v, n, ID_LEN, str_cmp);
	for (size_t i = 0; i < n; i++) {
		if (u == 0 || strcmp(v[u - 1], v[i]) != 0) {
			memmove(v[u++], v[i], ID_LEN);
		}
	}
	*np = u;
	return v;
}

static void
test_filter_on_diginetica(void **state)
{
	struct pair *lines, *cats;
	size_t       n_lines = 0, n_cats = 0, n_items = 0, seeds = 0;
	size_t       capped = 0;
	char(*items)[ID_LEN];
	char       *dir;
	xs_store   *st;
	MDB_txn    *txn;
	struct ids *all  = malloc(sizeof(*all));
	struct ids *got  = malloc(sizeof(*got));
	struct ids *want = malloc(sizeof(*want));

	(void) state;
	assert_true(all && got && want);
	lines = read_pairs(
	    "diginetica-sample/train-purchases.csv", 4, 5, &n_lines);
	cats = read_pairs(
	    "diginetica-sample/product-categories.csv", 0, 1, &n_cats);
	if (lines == NULL || cats == NULL) {
		exit(XS_TEST_SKIP);
	}
	assert_int_equal(n_lines, 18025);
	assert_int_equal(n_cats, 184047);
	st = xs_test_store_open(&dir);
	apply_orders(st, lines, n_lines);
	upsert_categories(st, lines, n_lines, cats, n_cats);
	items = distinct_items(lines, n_lines, &n_items);
	assert_xs_ok(xs_txn_read(st, &txn));
	for (size_t i = 0; i < n_items && seeds < 400; i++) {
		const char      *seed = items[i];
		struct xs_filter f    = { 0 };
		struct xs_span   in[2], out;
		const char      *c0, *cl;

		fbt(st, txn, seed, &f, K_ALL, all);
		if (all->n < 4 || all->n == K_ALL) {
			continue; /* too few to filter, or not all of them */
		}
		seeds++;
		c0 = category_of(cats, n_cats, all->id[0]);
		cl = category_of(cats, n_cats, all->id[all->n - 1]);
		for (unsigned m = 1; m <= 2; m++) {
			f.max_per_category = m;
			fbt(st, txn, seed, &f, K, got);
			expected(all, cats, n_cats, NULL, NULL, NULL, m, want);
			assert_same(seed, "max_per_category", got, want);
			capped += got->n < (all->n < K ? all->n : K);
		}
		if (c0[0] != '\0' && cl[0] != '\0') {
			in[0]              = xs_test_span(c0);
			in[1]              = xs_test_span(cl);
			f                  = (struct xs_filter) { 0 };
			f.categories       = in;
			f.n_categories     = 2;
			f.max_per_category = 0;
			fbt(st, txn, seed, &f, K, got);
			expected(all, cats, n_cats, c0, cl, NULL, 0, want);
			assert_same(seed, "categories", got, want);
			f.max_per_category = 1;
			fbt(st, txn, seed, &f, K, got);
			expected(all, cats, n_cats, c0, cl, NULL, 1, want);
			assert_same(
			    seed, "categories+max_per_category", got, want);
		}
		if (c0[0] != '\0') {
			out                    = xs_test_span(c0);
			f                      = (struct xs_filter) { 0 };
			f.exclude_categories   = &out;
			f.n_exclude_categories = 1;
			fbt(st, txn, seed, &f, K, got);
			expected(all, cats, n_cats, NULL, NULL, c0, 0, want);
			assert_same(seed, "exclude_categories", got, want);
		}
	}
	xs_txn_abort(txn);
	fprintf(stderr,
	    "checked %zu seed items; the cap shortened %zu "
	    "answers\n",
	    seeds, capped);
	assert_true(seeds >= 100);
	assert_true(capped > 0);
	xs_test_store_close(st, dir);
	free(items);
	free(lines);
	free(cats);
	free(all);
	free(got);
	free(want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter_on_diginetica),
	};

	return cmocka_run_group_tests_name("filter_data", tests, NULL, NULL);
}
