/* SPDX-License-Identifier: MIT */
/* The trend list is summed once per committed snapshot and kept (store
 * memo): readers of one snapshot get the same list, a commit makes the
 * next reader sum it again, and what a write transaction sees before it
 * commits is never kept for others. Scores worked by hand: with the
 * default half-life of 7 days, an order on the newest day counts 1 and
 * one 7 days before counts 0.5. */
#include "support.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_impl.h"

#define DAY 86400

/* The trend score of item 'ext' in txn's snapshot (0 if absent). */
static double
trend_of(xs_store *st, MDB_txn *txn, const char *ext)
{
	struct xs_settings set;
	struct xs_cand    *v;
	size_t             n;
	uint32_t           id;
	double             score = 0;

	xs_settings_default(&set);
	if (xs_store_id_get(st, txn, XS_DICT_ITEM, ext, strlen(ext), &id) !=
	    XSELL_OK) {
		return 0;
	}
	assert_xs_ok(xs_model_trend_scores(
	    st, txn, &set, set.trend_half_life_days, &v, &n));
	for (size_t i = 0; i < n; i++) {
		if (v[i].item == id) {
			score = v[i].score;
		}
	}
	free(v);
	return score;
}

static void
test_trend_memo_follows_commits(void **state)
{
	struct xs_test_store *f = *state;
	MDB_txn              *txn;
	char                  spec[256];

	/* Day 100: A; day 107: A and B. Newest day 107. */
	snprintf(spec, sizeof(spec), "%d order u1 A o1; %d order u2 A,B o2",
	    100 * DAY, 107 * DAY);
	xs_test_events(f->st, NULL, spec);

	assert_xs_ok(xs_txn_read(f->st, &txn));
	assert_true(fabs(trend_of(f->st, txn, "A") - 1.5) < 1e-9);
	/* The second reader of the snapshot: the kept list, same values. */
	assert_true(fabs(trend_of(f->st, txn, "A") - 1.5) < 1e-9);
	assert_true(fabs(trend_of(f->st, txn, "B") - 1.0) < 1e-9);
	xs_txn_abort(txn);

	/* A write transaction's list is never kept: its id is the one the
	 * next commit takes (here the order below), whose readers must not
	 * get the state from before it. */
	snprintf(spec, sizeof(spec), "%d order u3 B o3", 107 * DAY);
	assert_xs_ok(xs_txn_write(f->st, &txn));
	{
		struct xs_settings set;
		struct xs_cand    *v;
		size_t             n;

		xs_settings_default(&set);
		assert_xs_ok(xs_model_trend_scores(
		    f->st, txn, &set, set.trend_half_life_days, &v, &n));
		free(v);
	}
	xs_txn_abort(txn);
	assert_xs_ok(xs_txn_read(f->st, &txn));
	assert_true(fabs(trend_of(f->st, txn, "B") - 1.0) < 1e-9);
	xs_txn_abort(txn);

	/* A commit: the next reader sums the new snapshot. */
	xs_test_events(f->st, NULL, spec);
	assert_xs_ok(xs_txn_read(f->st, &txn));
	assert_true(fabs(trend_of(f->st, txn, "B") - 2.0) < 1e-9);
	assert_true(fabs(trend_of(f->st, txn, "A") - 1.5) < 1e-9);
	xs_txn_abort(txn);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_trend_memo_follows_commits, xs_test_store_setup,
		    xs_test_store_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
