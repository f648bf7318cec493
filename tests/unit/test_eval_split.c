/* SPDX-License-Identifier: MIT */
/* Splits never leak test orders into training: on the hand-made export
 * tests/data/eval-tiny.csv (orders o1..o6 before 2020-01-10, t1..t6
 * after; see tests/data/SOURCE.md) each split marks exactly the orders
 * worked out here, and the store trained from it holds every training
 * order and no test order, nor any item only test orders have. */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval.h"
#include "load/load.h"
#include "store/store.h"

#define TINY XS_TEST_SOURCE_DIR "/tests/data/eval-tiny.csv"

struct one_order {
	xs_eval_data *d;
	bool          done;
};

/* Add only the first order a walk passes. */
static xsell_err
add_first(void *ctx, const struct xs_event *evs, size_t n)
{
	struct one_order *oo = ctx;

	if (oo->done || n == 0) {
		return XSELL_OK;
	}
	oo->done = true;
	return xs_eval_data_add(oo->d, evs, 1);
}

/* The export read through the loader, in file order or (reverse) with
 * its orders added last first. */
static xs_eval_data *
tiny(bool exclude_post, bool reverse)
{
	xs_eval_data *d;
	xs_loader    *l;
	char          err[300];

	assert_xs_ok(xs_eval_data_alloc(&d));
	assert_xs_ok(xs_loader_alloc(&l));
	if (exclude_post) {
		assert_xs_ok(xs_loader_exclude_item(l, "POST", 4));
	}
	assert_xs_ok(xs_loader_read(
	    l, TINY, NULL, XS_LOAD_CSV, NULL, 0, NULL, err, sizeof(err)));
	if (!reverse) {
		assert_xs_ok(
		    xs_loader_each_order(l, 0, 0, xs_eval_data_add, d));
	}
	for (size_t i = xs_loader_n_orders(l); reverse && i-- > 0;) {
		struct one_order oo = { d, false };

		assert_xs_ok(xs_loader_each_order(l, i, 1, add_first, &oo));
	}
	xs_loader_free(l);
	return d;
}

/* The names of the orders marked test, in data order: "t1 t2 ...". */
static void
test_names(
    const xs_eval_data *d, const uint8_t *is_test, char *out, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < xs_eval_data_n_orders(d); i++) {
		struct xs_span nm;

		if (!is_test[i]) {
			continue;
		}
		nm = xs_eval_data_order_ext(d, xs_eval_data_order(d, i));
		o += (size_t) snprintf(out + o, len - o, "%s%.*s",
		    o ? " " : "", (int) nm.len, nm.p);
	}
}

static void
split(const xs_eval_data *d, const char *spec, uint64_t seed, char *out,
    size_t len)
{
	struct xs_eval_split s;
	uint8_t              is_test[32];
	char                 err[200];

	assert_true(xs_eval_data_n_orders(d) <= 32);
	assert_xs_ok(xs_eval_split_parse(spec, &s, err, sizeof(err)));
	s.seed = seed;
	assert_xs_ok(xs_eval_split_apply(d, &s, is_test));
	test_names(d, is_test, out, len);
}

static void
test_split_time(void **state)
{
	xs_eval_data *d = tiny(true, false);
	char          got[200];

	(void) state;
	assert_int_equal(xs_eval_data_n_orders(d), 12);
	split(d, "time:2020-01-10", 0, got, sizeof(got));
	assert_string_equal(got, "t1 t2 t3 t4 t5 t6");
	/* A bare date keeps its whole day in training: t1 is at
	 * 2020-01-20 10:00. */
	split(d, "time:2020-01-20", 0, got, sizeof(got));
	assert_string_equal(got, "t2 t3 t4 t5 t6");
	/* A time cuts at that second. */
	split(d, "time:2020-01-20 10:00:00", 0, got, sizeof(got));
	assert_string_equal(got, "t1 t2 t3 t4 t5 t6");
	split(d, "time:2020-01-20 10:00:01", 0, got, sizeof(got));
	assert_string_equal(got, "t2 t3 t4 t5 t6");
	xs_eval_data_free(d);
}

/* u1: o1 o4 t1 t6 -> t6; u2: o2 o5 t2 -> t2; u3: o3 t3 -> t3; u4 has
 * one order (t5), and guest orders (o6, t4) stay in training. */
static void
test_split_last(void **state)
{
	xs_eval_data *d = tiny(true, false);
	char          got[200];

	(void) state;
	split(d, "last", 0, got, sizeof(got));
	assert_string_equal(got, "t2 t3 t6");
	xs_eval_data_free(d);
}

/* The set of names in "t1 o3 ..." as bits: o1..o6 0..5, t1..t6 6..11. */
static unsigned
name_mask(const char *names)
{
	unsigned m = 0;

	for (const char *p = names; *p != '\0'; p++) {
		if ((p[0] == 'o' || p[0] == 't') && p[1] >= '1' &&
		    p[1] <= '6') {
			m |= 1u << ((p[0] == 't' ? 6 : 0) + (p[1] - '1'));
		}
	}
	return m;
}

/* Random: decided by the order id, so the same seed marks the same
 * orders whatever the order of the export; another seed another set. */
static void
test_split_random_by_id(void **state)
{
	xs_eval_data *d  = tiny(true, false);
	xs_eval_data *rd = tiny(true, true);
	char          a[200], b[200], c[200];

	(void) state;
	assert_int_equal(xs_eval_data_n_orders(rd), 12);
	split(d, "random:0.5", 42, a, sizeof(a));
	split(rd, "random:0.5", 42, b, sizeof(b));
	assert_int_equal(name_mask(a), name_mask(b));
	assert_true(name_mask(a) != 0);
	split(d, "random:0.5", 43, c, sizeof(c));
	assert_true(name_mask(a) != name_mask(c));
	xs_eval_data_free(d);
	xs_eval_data_free(rd);
}

static void
test_split_parse_errors(void **state)
{
	struct xs_eval_split s;
	char                 err[200];

	(void) state;
	assert_xs_err(
	    xs_eval_split_parse("time:yesterday", &s, err, sizeof(err)),
	    XSELL_EINVAL);
	assert_non_null(strstr(err, "yesterday"));
	assert_xs_err(xs_eval_split_parse("random:1.5", &s, err, sizeof(err)),
	    XSELL_EINVAL);
	assert_xs_err(xs_eval_split_parse("random:", &s, err, sizeof(err)),
	    XSELL_EINVAL);
	assert_xs_err(
	    xs_eval_split_parse("users", &s, err, sizeof(err)), XSELL_EINVAL);
	assert_xs_ok(xs_eval_split_parse("random", &s, err, sizeof(err)));
	assert_float_equal(s.test_frac, 0.2, 1e-12);
}

static bool
order_stored(xs_store *st, MDB_txn *txn, const char *name)
{
	bool exists = false;

	assert_xs_ok(
	    xs_store_order_exists(st, txn, name, strlen(name), &exists));
	return exists;
}

static bool
item_stored(xs_store *st, MDB_txn *txn, const char *name)
{
	uint32_t  id;
	xsell_err err =
	    xs_store_id_get(st, txn, XS_DICT_ITEM, name, strlen(name), &id);

	assert_true(err == XSELL_OK || err == XSELL_ENOENT);
	return err == XSELL_OK;
}

/* Train on a split and look into the store: every training order is
 * there, no test order, no item only the test side has. */
static void
check_trained(const char *spec, const char *const *train,
    const char *const *test, const char *const *absent_items)
{
	xs_eval_data        *d = tiny(true, false);
	struct xs_eval_split s;
	struct xs_settings   set;
	struct xs_totals     tot;
	uint8_t              is_test[32];
	uint64_t             applied = 0;
	size_t               n_train = 0;
	char                 err[200], *dir;
	xs_store            *st = xs_test_store_open(&dir);
	MDB_txn             *txn;

	xs_settings_default(&set);
	assert_xs_ok(xs_eval_split_parse(spec, &s, err, sizeof(err)));
	assert_xs_ok(xs_eval_split_apply(d, &s, is_test));
	assert_xs_ok(xs_eval_train(d, is_test, NULL, st, &set, &applied));
	assert_xs_ok(xs_txn_read(st, &txn));
	for (; train[n_train] != NULL; n_train++) {
		if (!order_stored(st, txn, train[n_train])) {
			fail_msg("%s: training order %s not in the store",
			    spec, train[n_train]);
		}
	}
	for (size_t i = 0; test[i] != NULL; i++) {
		if (order_stored(st, txn, test[i])) {
			fail_msg("%s: test order %s leaked into training",
			    spec, test[i]);
		}
	}
	for (size_t i = 0; absent_items[i] != NULL; i++) {
		if (item_stored(st, txn, absent_items[i])) {
			fail_msg("%s: item %s leaked into training", spec,
			    absent_items[i]);
		}
	}
	assert_xs_ok(xs_store_totals_get(st, txn, &tot));
	assert_int_equal(tot.baskets, n_train);
	assert_int_equal(applied, n_train);
	xs_txn_abort(txn);
	xs_test_store_close(st, dir);
	xs_eval_data_free(d);
}

static void
test_split_time_training_holds_no_test_order(void **state)
{
	static const char *const train[] = { "o1", "o2", "o3", "o4", "o5",
		"o6", NULL };
	static const char *const test[] = { "t1", "t2", "t3", "t4", "t5", "t6",
		NULL };
	/* POST is excluded; X, Y, Z, W appear only after the cut. */
	static const char *const absent[] = { "X", "Y", "Z", "W", "POST",
		NULL };

	(void) state;
	check_trained("time:2020-01-10", train, test, absent);
}

static void
test_split_last_training_holds_no_test_order(void **state)
{
	static const char *const train[]  = { "o1", "o2", "o3", "o4", "o5",
		 "o6", "t1", "t4", "t5", NULL };
	static const char *const test[]   = { "t2", "t3", "t6", NULL };
	static const char *const absent[] = { "X", "W", "POST", NULL };

	(void) state;
	check_trained("last", train, test, absent);
}

/* Every split, the random one included (its sets are not worked out by
 * hand): the store holds exactly the training orders, and exactly the
 * items of training orders. */
static void
test_split_store_is_exactly_training(void **state)
{
	static const char *const specs[] = { "time:2020-01-10", "last",
		"random:0.5", "random:0.3" };

	(void) state;
	for (size_t sp = 0; sp < sizeof(specs) / sizeof(specs[0]); sp++) {
		xs_eval_data        *d = tiny(true, false);
		struct xs_eval_split s;
		struct xs_settings   set;
		uint8_t              is_test[32], in_train[32] = { 0 };
		uint64_t             applied;
		char                 err[200], *dir;
		xs_store            *st = xs_test_store_open(&dir);
		MDB_txn             *txn;

		xs_settings_default(&set);
		assert_xs_ok(
		    xs_eval_split_parse(specs[sp], &s, err, sizeof(err)));
		s.seed = 42;
		assert_xs_ok(xs_eval_split_apply(d, &s, is_test));
		assert_xs_ok(
		    xs_eval_train(d, is_test, NULL, st, &set, &applied));
		assert_xs_ok(xs_txn_read(st, &txn));
		for (size_t i = 0; i < xs_eval_data_n_orders(d); i++) {
			const struct xs_eval_order *o =
			    xs_eval_data_order(d, i);
			struct xs_span  nm = xs_eval_data_order_ext(d, o);
			char            name[16];
			const uint32_t *items = xs_eval_data_order_items(d, o);
			bool            stored;

			snprintf(
			    name, sizeof(name), "%.*s", (int) nm.len, nm.p);
			stored = order_stored(st, txn, name);
			if (stored == (is_test[i] != 0)) {
				fail_msg("%s: order %s: test %d, stored %d",
				    specs[sp], name, is_test[i], stored);
			}
			for (uint32_t j = 0; j < o->n_items && !is_test[i];
			     j++) {
				in_train[items[j]] = 1;
			}
		}
		for (uint32_t it = 0; it < xs_eval_data_n_items(d); it++) {
			struct xs_span ext = xs_eval_data_item_ext(d, it);
			char           name[16];

			snprintf(
			    name, sizeof(name), "%.*s", (int) ext.len, ext.p);
			if (item_stored(st, txn, name) != in_train[it]) {
				fail_msg("%s: item %s: in training %d",
				    specs[sp], name, in_train[it]);
			}
		}
		xs_txn_abort(txn);
		xs_test_store_close(st, dir);
		xs_eval_data_free(d);
	}
}

/* ==== Events: tests/data/eval-views.csv ==== */

#define VIEWS XS_TEST_SOURCE_DIR "/tests/data/eval-views.csv"

static xs_eval_data *
views_data(void)
{
	xs_eval_data *d;
	xs_loader    *l;
	char          err[300];

	assert_xs_ok(xs_eval_data_alloc(&d));
	assert_xs_ok(xs_loader_alloc(&l));
	assert_xs_ok(xs_loader_read(
	    l, VIEWS, NULL, XS_LOAD_CSV, NULL, 0, NULL, err, sizeof(err)));
	assert_xs_ok(xs_loader_each_order(l, 0, 0, xs_eval_data_add, d));
	xs_loader_free(l);
	return d;
}

/* The reader keeps every view as an event, with its user and time, and
 * the orders as before: 23 view lines, 9 orders (o1..o3, p1..p6). */
static void
test_events_read(void **state)
{
	xs_eval_data               *d = views_data();
	const struct xs_eval_event *e;
	struct xs_span              u, it;

	(void) state;
	assert_int_equal(xs_eval_data_n_events(d), 23);
	assert_int_equal(xs_eval_data_n_orders(d), 9);
	/* The 14th view of the file (s1..s5 have 13): t1 viewed B. */
	e  = xs_eval_data_event(d, 13);
	u  = xs_eval_data_user_name(d, e->user);
	it = xs_eval_data_item_ext(d, e->item);
	assert_int_equal(e->type, XS_EV_VIEW);
	assert_int_equal(e->ts, 1000100120);
	assert_int_equal(u.len, 2);
	assert_memory_equal(u.p, "t1", 2);
	assert_int_equal(it.len, 1);
	assert_memory_equal(it.p, "B", 1);
	xs_eval_data_free(d);
}

/* Is the event's user a test session (t1..t5)? */
static bool
is_test_user(const xs_eval_data *d, size_t i)
{
	struct xs_span u =
	    xs_eval_data_user_name(d, xs_eval_data_event(d, i)->user);

	return u.p[0] == 't';
}

/* time: exactly the t sessions' views are test; random: a user's views
 * all on one side; last: every view trains. */
static void
test_events_split(void **state)
{
	xs_eval_data        *d = views_data();
	struct xs_eval_split s;
	uint8_t              ev[32], side[32];
	char                 err[200];

	(void) state;
	assert_xs_ok(xs_eval_split_parse("time:1000050000", &s, err, 200));
	xs_eval_split_events(d, &s, ev);
	for (size_t i = 0; i < xs_eval_data_n_events(d); i++) {
		assert_int_equal(ev[i], is_test_user(d, i));
	}
	assert_xs_ok(xs_eval_split_parse("last", &s, err, 200));
	xs_eval_split_events(d, &s, ev);
	for (size_t i = 0; i < xs_eval_data_n_events(d); i++) {
		assert_int_equal(ev[i], 0);
	}
	assert_xs_ok(xs_eval_split_parse("random:0.5", &s, err, 200));
	s.seed = 7;
	xs_eval_split_events(d, &s, ev);
	memset(side, 2, sizeof(side));
	for (size_t i = 0; i < xs_eval_data_n_events(d); i++) {
		uint32_t u = xs_eval_data_event(d, i)->user;

		if (side[u] != 2 && side[u] != ev[i]) {
			fail_msg("random split cut user %u's session", u);
		}
		side[u] = ev[i];
	}
	xs_eval_data_free(d);
}

/* Trained on the time split, the store counts only training views:
 * views of A 3 (s1 s2 s3; t1 t2 t4 would make 6), 13 views in all, view
 * -> buy of A 2 (o1, o3), and no item only the test side has. */
static void
test_events_training_holds_no_test_view(void **state)
{
	xs_eval_data           *d = views_data();
	struct xs_eval_split    s;
	struct xs_settings      set;
	struct xs_totals        tot;
	struct xs_counts_reader cr;
	uint8_t                 is_test[16], ev[32];
	uint64_t                applied = 0;
	uint32_t                a;
	char                    err[200], *dir;
	xs_store               *st = xs_test_store_open(&dir);
	MDB_txn                *txn;

	(void) state;
	xs_settings_default(&set);
	assert_xs_ok(xs_eval_split_parse("time:1000050000", &s, err, 200));
	assert_xs_ok(xs_eval_split_apply(d, &s, is_test));
	xs_eval_split_events(d, &s, ev);
	assert_xs_ok(xs_eval_train(d, is_test, ev, st, &set, &applied));
	assert_int_equal(applied, 3 + 13);
	assert_xs_ok(xs_txn_read(st, &txn));
	assert_xs_ok(xs_store_totals_get(st, txn, &tot));
	assert_int_equal(tot.baskets, 3);
	assert_int_equal(tot.views_counted, 13);
	assert_xs_ok(xs_store_id_get(st, txn, XS_DICT_ITEM, "A", 1, &a));
	xs_counts_reader_init(&cr, st, txn);
	assert_int_equal(xs_counts_reader_get(&cr, a, XS_C_VIEWS), 3);
	assert_int_equal(xs_counts_reader_get(&cr, a, XS_C_VIEW_BUYS), 2);
	assert_false(item_stored(st, txn, "Y"));
	assert_false(item_stored(st, txn, "Z"));
	assert_false(item_stored(st, txn, "W"));
	assert_false(order_stored(st, txn, "p1"));
	xs_counts_reader_fini(&cr);
	xs_txn_abort(txn);
	xs_test_store_close(st, dir);
	xs_eval_data_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_time),
		cmocka_unit_test(test_split_last),
		cmocka_unit_test(test_split_random_by_id),
		cmocka_unit_test(test_split_parse_errors),
		cmocka_unit_test(test_split_time_training_holds_no_test_order),
		cmocka_unit_test(test_split_last_training_holds_no_test_order),
		cmocka_unit_test(test_split_store_is_exactly_training),
		cmocka_unit_test(test_events_read),
		cmocka_unit_test(test_events_split),
		cmocka_unit_test(test_events_training_holds_no_test_view),
	};

	return cmocka_run_group_tests_name("eval_split", tests, NULL, NULL);
}
