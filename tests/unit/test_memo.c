/* SPDX-License-Identifier: MIT */
/* The trend list is summed once per committed snapshot and kept (store
 * memo): readers of one snapshot get the same list, a commit makes the
 * next reader sum it again, and what a write transaction sees before it
 * commits is never kept for others. Per-item memos likewise, many keys
 * at once, within their byte budget. Scores worked by hand: with the
 * default half-life of 7 days, an order on the newest day counts 1 and
 * one 7 days before counts 0.5. */
#include "support.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_impl.h"
#include "store/store_impl.h"

#define DAY 86400

/* The trend score of item 'ext' in txn's snapshot (0 if absent). */
static double
trend_of(xs_store *st, MDB_txn *txn, const char *ext)
{
	struct xs_settings   set;
	struct xs_trend_list l;
	uint32_t             id;
	double               score = 0;

	xs_settings_default(&set);
	if (xs_store_id_get(st, txn, XS_DICT_ITEM, ext, strlen(ext), &id) !=
	    XSELL_OK) {
		return 0;
	}
	assert_xs_ok(
	    xs_model_trend_list(st, txn, &set, set.trend_half_life_days, &l));
	for (size_t i = 0; i < l.n; i++) {
		if (l.v[i].item == id) {
			score = l.v[i].score;
		}
	}
	xs_model_trend_list_free(&l);
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
		struct xs_settings   set;
		struct xs_trend_list l;

		xs_settings_default(&set);
		assert_xs_ok(xs_model_trend_list(
		    f->st, txn, &set, set.trend_half_life_days, &l));
		xs_model_trend_list_free(&l);
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

/* A held memo is the memo's own bytes, and stays readable after a
 * commit's reader replaces the memo, until it is let go (ASan: neither
 * a use after free nor a leak). */
static void
test_memo_hold_outlives_its_memo(void **state)
{
	struct xs_test_store *f = *state;
	MDB_txn              *txn;
	const void           *held, *again;
	void                 *copy;
	size_t                len;
	char                  spec[128];

	snprintf(spec, sizeof(spec), "%d order u1 A o1", 100 * DAY);
	xs_test_events(f->st, NULL, spec);
	assert_xs_ok(xs_txn_read(f->st, &txn));
	assert_false(xs_store_memo_hold(
	    f->st, txn, XS_MEMO_MOMENTUM, "k", 1, &held, &len));
	xs_store_memo_put(f->st, txn, XS_MEMO_MOMENTUM, "k", 1, "old", 4);
	assert_true(xs_store_memo_hold(
	    f->st, txn, XS_MEMO_MOMENTUM, "k", 1, &held, &len));
	assert_int_equal(len, 4);
	assert_string_equal(held, "old");
	/* Another key is another memo; a second holder shares the bytes. */
	assert_false(xs_store_memo_hold(
	    f->st, txn, XS_MEMO_MOMENTUM, "j", 1, &again, &len));
	assert_true(xs_store_memo_hold(
	    f->st, txn, XS_MEMO_MOMENTUM, "k", 1, &again, &len));
	assert_ptr_equal(again, held);
	xs_store_memo_release(again);
	xs_txn_abort(txn);

	snprintf(spec, sizeof(spec), "%d order u2 B o2", 101 * DAY);
	xs_test_events(f->st, NULL, spec);
	assert_xs_ok(xs_txn_read(f->st, &txn));
	assert_false(xs_store_memo_hold(
	    f->st, txn, XS_MEMO_MOMENTUM, "k", 1, &again, &len));
	xs_store_memo_put(f->st, txn, XS_MEMO_MOMENTUM, "k", 1, "new", 4);
	assert_true(xs_store_memo_get(
	    f->st, txn, XS_MEMO_MOMENTUM, "k", 1, &copy, &len));
	assert_string_equal(copy, "new");
	free(copy);
	assert_string_equal(held, "old"); /* the replaced memo, still held */
	xs_store_memo_release(held);
	xs_store_memo_release(NULL);
	xs_txn_abort(txn);
}

/* The momentum table's lookup by item: 1 + weight x trend / (baskets +
 * 0.1 x views + prior 10). Newest day 107; A ordered on days 100 and
 * 107 (trend 0.5 + 1 = 1.5, 2 baskets), B on day 107 (1, 1 basket).
 * With weight 2: A 1 + 3 / 12 = 1.25, B 1 + 2 / 11; an item outside
 * the trend window 1. The second get reads the memo in place. */
/* A and B's factors as above, after 'before' (events outside the trend
 * window, or none); the table looks them up by item number ('dense')
 * or by hash. */
static void
check_momentum_table(xs_store *st, const char *before, bool dense)
{
	struct xs_settings       set;
	struct xs_momentum_table t;
	MDB_txn                 *txn;
	uint32_t                 a, b;
	char                     spec[256];

	xs_settings_default(&set);
	if (before[0] != '\0') {
		xs_test_events(st, NULL, before);
	}
	snprintf(spec, sizeof(spec),
	    "%d order u1 A o1; %d order u2 A o2; %d order u3 B o3", 100 * DAY,
	    107 * DAY, 107 * DAY);
	xs_test_events(st, NULL, spec);
	assert_xs_ok(xs_txn_read(st, &txn));
	assert_xs_ok(xs_store_id_get(st, txn, XS_DICT_ITEM, "A", 1, &a));
	assert_xs_ok(xs_store_id_get(st, txn, XS_DICT_ITEM, "B", 1, &b));
	for (int round = 0; round < 2; round++) {
		assert_xs_ok(xs_momentum_table_get(st, txn, &set, 2.0, &t));
		assert_int_equal(t.n, 2);
		assert_true((t.dense != NULL) == dense);
		assert_true(
		    fabs(xs_momentum_table_find(&t, a) - 1.25) < 1e-12);
		assert_true(fabs(xs_momentum_table_find(&t, b) -
		                (1 + 2.0 / 11)) < 1e-12);
		assert_true(xs_momentum_table_find(&t, a + b + 1) == 1.0);
		assert_true(xs_momentum_table_find(&t, a - 1) == 1.0);
		assert_true(xs_momentum_table_find(&t, UINT32_MAX) == 1.0);
		assert_int_equal(t.by_factor[0].item, a); /* largest first */
		assert_true(round == 0 ? t.owned != NULL : t.held != NULL);
		xs_momentum_table_fini(&t);
	}
	xs_txn_abort(txn);
}

static void
test_momentum_table_find(void **state)
{
	struct xs_test_store *f = *state;

	check_momentum_table(f->st, "", true);
}

/* Items numbered far past the trend's few (eight ordered long before the
 * window): a hash, as the factors by item number would be mostly 1. */
static void
test_momentum_table_find_sparse(void **state)
{
	struct xs_test_store *f = *state;

	check_momentum_table(
	    f->st, "0 order u9 P1,P2,P3,P4,P5,P6,P7,P8 o0", false);
}

/* Per-item memos: many keys kept at once for one snapshot, each the
 * bytes put under it; a write transaction neither keeps nor finds any;
 * a commit retires them all (the next snapshot's reader misses, its put
 * is kept), while a holder keeps its bytes; an older snapshot's reader
 * finds nothing and keeps nothing; a second put for a key replaces it. */
static void
test_item_memos_follow_commits(void **state)
{
	struct xs_test_store *f = *state;
	MDB_txn              *txn, *old;
	const void           *held, *got;
	size_t                len;
	char                  spec[128];

	snprintf(spec, sizeof(spec), "%d order u1 A o1", 100 * DAY);
	xs_test_events(f->st, NULL, spec);

	assert_xs_ok(xs_txn_write(f->st, &txn));
	assert_false(xs_store_memo_kept(f->st, txn));
	xs_store_item_memo_put(f->st, txn, 7, "w", 2);
	assert_false(xs_store_item_memo_hold(f->st, txn, 7, &got, &len));
	xs_txn_abort(txn);

	assert_xs_ok(xs_txn_read(f->st, &old));
	assert_true(xs_store_memo_kept(f->st, old));
	/* 3,000 keys: the table grows past its first size (256 slots). */
	for (uint64_t key = 1; key <= 3000; key++) {
		uint64_t value = key * 3;

		xs_store_item_memo_put(
		    f->st, old, key << 32 | key, &value, sizeof(value));
	}
	for (uint64_t key = 1; key <= 3000; key++) {
		uint64_t value;

		assert_true(xs_store_item_memo_hold(
		    f->st, old, key << 32 | key, &got, &len));
		assert_int_equal(len, sizeof(value));
		memcpy(&value, got, sizeof(value));
		assert_int_equal(value, key * 3);
		xs_store_memo_release(got);
	}
	assert_false(xs_store_item_memo_hold(f->st, old, 3001, &got, &len));
	xs_store_item_memo_put(f->st, old, 5ull << 32 | 5, "five", 5);
	assert_true(
	    xs_store_item_memo_hold(f->st, old, 5ull << 32 | 5, &held, &len));
	assert_int_equal(len, 5);
	assert_string_equal(held, "five");

	snprintf(spec, sizeof(spec), "%d order u2 B o2", 101 * DAY);
	xs_test_events(f->st, NULL, spec);
	assert_xs_ok(xs_txn_read(f->st, &txn));
	assert_false(
	    xs_store_item_memo_hold(f->st, txn, 1ull << 32 | 1, &got, &len));
	xs_store_item_memo_put(f->st, txn, 9, "new", 4);
	assert_true(xs_store_item_memo_hold(f->st, txn, 9, &got, &len));
	assert_string_equal(got, "new");
	xs_store_memo_release(got);
	/* The older snapshot's reader: the newer memos are not its own. */
	assert_false(xs_store_item_memo_hold(f->st, old, 9, &got, &len));
	xs_store_item_memo_put(f->st, old, 10, "stale", 6);
	assert_false(xs_store_item_memo_hold(f->st, txn, 10, &got, &len));
	assert_string_equal(held, "five"); /* retired, still held */
	xs_store_memo_release(held);
	xs_txn_abort(old);

	xs_store_item_memo_put(f->st, txn, 9, "again", 6);
	assert_true(xs_store_item_memo_hold(f->st, txn, 9, &got, &len));
	assert_int_equal(len, 6);
	assert_string_equal(got, "again");
	xs_store_memo_release(got);
	xs_txn_abort(txn);
}

/* A list memo of 'kind' for item 1 under 'rel' (count scorer, no
 * support floor). */
static uint64_t
list_key(enum xs_item_memo_kind kind, enum xs_rel rel)
{
	uint64_t key;

	assert_true(xs_list_memo_key(kind, rel, XS_SCORE_COUNT, 0, 1, &key));
	return key;
}

/* Whether a reader of the newest snapshot finds 'key', holding 'want'
 * (NULL: anything). */
static bool
memo_found(xs_store *st, uint64_t key, const char *want)
{
	MDB_txn    *txn;
	const void *got;
	size_t      len;
	bool        found;

	assert_xs_ok(xs_txn_read(st, &txn));
	found = xs_store_item_memo_hold(st, txn, key, &got, &len);
	if (found && want != NULL) {
		assert_int_equal(len, strlen(want) + 1);
		assert_string_equal(got, want);
	}
	xs_store_memo_release(got);
	xs_txn_abort(txn);
	return found;
}

/* Put 'value' under each key from the newest snapshot. */
static void
memo_put_all(
    xs_store *st, const uint64_t *keys, const char *const *values, size_t n)
{
	MDB_txn *txn;

	assert_xs_ok(xs_txn_read(st, &txn));
	for (size_t i = 0; i < n; i++) {
		xs_store_item_memo_put(
		    st, txn, keys[i], values[i], strlen(values[i]) + 1);
	}
	xs_txn_abort(txn);
}

/* A list memo outlives the commits that leave its relation's pairs,
 * counters and total alone, and only those: a view keeps the basket and
 * cart lists (fbt's, a cart's, for_you's seeds'), an order retires the
 * basket and view_buy lists, a cart add the cart lists, and item
 * metadata none. A complements list an answer made (its maker checks
 * its stamp) stands through all of them. A memo of any other kind
 * (complements' weighed lists, which read momentum too) goes with any
 * commit. An older snapshot's reader still finds a list its own
 * snapshot shares. */
static void
test_item_memos_outlive_other_families_commits(void **state)
{
	struct xs_test_store *f      = *state;
	const uint64_t        keys[] = {
		       list_key(XS_ITEM_MEMO_BEST_LIST, XS_REL_BASKET),
		       list_key(XS_ITEM_MEMO_CART_LIST, XS_REL_BASKET),
		       list_key(XS_ITEM_MEMO_SEED_LIST, XS_REL_VIEW),
		       list_key(XS_ITEM_MEMO_SEED_LIST, XS_REL_CART),
		       list_key(XS_ITEM_MEMO_BEST_LIST, XS_REL_VIEW_BUY),
		       list_key(XS_ITEM_MEMO_COMP_LIST, XS_REL_BASKET),
		       xs_comp_made_list_key(1),
	};
	const char *const values[] = { "fbt", "cart", "view", "carted",
		"viewed_bought", "comp", "made" };
	enum { FBT, CART, VIEW, CARTED, VIEW_BUY, COMP, MADE, N };
	struct xs_item_update up = { 0 };
	MDB_txn              *old, *txn;
	const void           *got;
	size_t                len;

	xs_test_events(f->st, NULL,
	    "0 view u1 A; 60 view u1 B; 120 cart_add u1 A; 180 cart_add u1 B;"
	    " 240 order u1 A,B o1");
	memo_put_all(f->st, keys, values, N);
	assert_xs_ok(xs_txn_read(f->st, &old));

	xs_test_events(f->st, NULL, "300 view u2 A; 360 view u2 C");
	for (int i = 0; i < N; i++) {
		assert_true(memo_found(f->st, keys[i], values[i]) ==
		    (i != VIEW && i != COMP));
	}
	/* The older reader's snapshot shares the basket list's stamps. */
	assert_true(
	    xs_store_item_memo_hold(f->st, old, keys[FBT], &got, &len));
	assert_string_equal(got, "fbt");
	xs_store_memo_release(got);
	xs_txn_abort(old);

	memo_put_all(f->st, keys, values, N);
	xs_test_events(f->st, NULL, "420 order u2 A,C o2");
	for (int i = 0; i < N; i++) {
		assert_true(memo_found(f->st, keys[i], values[i]) ==
		    (i == VIEW || i == CARTED || i == MADE));
	}

	memo_put_all(f->st, keys, values, N);
	xs_test_events(f->st, NULL, "480 cart_add u2 B");
	for (int i = 0; i < N; i++) {
		assert_true(memo_found(f->st, keys[i], values[i]) ==
		    (i != CARTED && i != COMP));
	}

	memo_put_all(f->st, keys, values, N);
	up.item         = xs_test_span("A");
	up.has_in_stock = true;
	assert_xs_ok(xs_txn_write(f->st, &txn));
	assert_xs_ok(xs_model_items_upsert(f->st, txn, &up, 1, 500));
	assert_xs_ok(xs_txn_commit(txn));
	for (int i = 0; i < N; i++) {
		assert_true(
		    memo_found(f->st, keys[i], values[i]) == (i != COMP));
	}
}

/* A list memo held aged: fresh for its own snapshot; after an order,
 * which retires it for xs_store_item_memo_hold, still held, as older;
 * never for a snapshot older than it was made from, nor for a kind
 * without a relation; and a put from the new snapshot makes it fresh
 * again. */
static void
test_item_memo_held_aged(void **state)
{
	struct xs_test_store *f = *state;
	uint64_t    cart = list_key(XS_ITEM_MEMO_CART_LIST, XS_REL_BASKET);
	MDB_txn    *old, *txn;
	const void *got;
	size_t      len;
	enum xs_memo_age age;

	xs_test_events(f->st, NULL, "0 order u1 A,B o1");
	assert_xs_ok(xs_txn_read(f->st, &old));
	xs_store_item_memo_put(f->st, old, cart, "cart", 5);
	xs_store_item_memo_put(f->st, old, 77, "own", 4);
	assert_true(
	    xs_store_item_memo_hold_aged(f->st, old, cart, &got, &len, &age));
	assert_int_equal(age, XS_MEMO_FRESH);
	assert_string_equal(got, "cart");
	xs_store_memo_release(got);

	xs_test_events(f->st, NULL, "60 order u2 A,C o2");
	assert_xs_ok(xs_txn_read(f->st, &txn));
	assert_false(xs_store_item_memo_hold(f->st, txn, cart, &got, &len));
	assert_true(
	    xs_store_item_memo_hold_aged(f->st, txn, cart, &got, &len, &age));
	assert_int_equal(age, XS_MEMO_OLDER);
	assert_int_equal(len, 5);
	assert_string_equal(got, "cart");
	xs_store_memo_release(got);
	assert_false(
	    xs_store_item_memo_hold_aged(f->st, txn, 77, &got, &len, &age));

	xs_store_item_memo_put(f->st, txn, cart, "newer", 6);
	assert_true(
	    xs_store_item_memo_hold_aged(f->st, txn, cart, &got, &len, &age));
	assert_int_equal(age, XS_MEMO_FRESH);
	assert_string_equal(got, "newer");
	xs_store_memo_release(got);
	/* The older snapshot's reader: the newer list is not for it. */
	assert_false(
	    xs_store_item_memo_hold_aged(f->st, old, cart, &got, &len, &age));
	xs_txn_abort(old);
	xs_txn_abort(txn);
}

/* The newest commit that deleted orders, as a new read transaction
 * sees it. */
static uint64_t
orders_forgotten_at(xs_store *st)
{
	MDB_txn *txn;
	uint64_t at;

	assert_xs_ok(xs_txn_read(st, &txn));
	at = xs_store_orders_forgotten_at(st, txn);
	xs_txn_abort(txn);
	return at;
}

/* A store stamped by an xsell from before the family of forgotten
 * orders (its stamps record four families) keeps its list memos and
 * reads as no forget yet; its next forget of orders stamps all five,
 * with that commit's txnid. Forgetting a user without orders stamps
 * nothing. */
static void
test_epochs_of_four_families_are_read(void **state)
{
	struct xs_test_store *f = *state;
	const uint64_t key   = list_key(XS_ITEM_MEMO_BEST_LIST, XS_REL_BASKET);
	const char    *value = "fbt";
	uint64_t       e[XS_FAM_COUNT];
	MDB_val        k = { strlen(XS_META_EPOCHS_KEY),
		       (void *) XS_META_EPOCHS_KEY };
	MDB_val        v;
	MDB_txn       *txn;

	xs_test_events(f->st, NULL,
	    "0 view u1 A; 60 view u2 B; 120 order u1 A,B o1; 180 order u3 B,C "
	    "o2");
	assert_xs_ok(xs_txn_write(f->st, &txn));
	assert_true(xs_store_epochs_read(f->st, txn, e));
	v.mv_size = XS_FAM_COUNT_BEFORE_FORGET * sizeof(e[0]);
	v.mv_data = e;
	assert_int_equal(mdb_put(txn, f->st->meta, &k, &v, 0), 0);
	assert_xs_ok(xs_txn_commit(txn));

	memo_put_all(f->st, &key, &value, 1);
	assert_true(memo_found(f->st, key, value));
	assert_int_equal(orders_forgotten_at(f->st), 0);

	assert_true(xs_test_forget(f->st, "u2")); /* a view: no order */
	assert_int_equal(orders_forgotten_at(f->st), 0);
	assert_true(xs_test_forget(f->st, "u1"));
	assert_xs_ok(xs_txn_read(f->st, &txn));
	assert_int_equal(
	    xs_store_orders_forgotten_at(f->st, txn), mdb_txn_id(txn));
	assert_int_equal(mdb_get(txn, f->st->meta, &k, &v), 0);
	assert_int_equal(v.mv_size, XS_FAM_COUNT * sizeof(e[0]));
	xs_txn_abort(txn);
}

/* A new store whose per-item memo holds 1 MiB, after two views and an
 * order (u1: A, B), and a blob (*blobp, zeroed, to free) of *bigp bytes,
 * two of which fill the memo. */
static xs_store *
small_memo_store(char **dirp, char **blobp, size_t *bigp)
{
	struct xs_store_opts o = { 0 };
	xs_store            *st;

	*dirp       = xs_test_tmpdir();
	*bigp       = (1u << 20) / 2 - 64;
	o.memo_size = 1u << 20;
	assert_xs_ok(xs_store_open(&st, *dirp, &o));
	*blobp = calloc(1, *bigp);
	assert_non_null(*blobp);
	xs_test_events(
	    st, NULL, "0 view u1 A; 60 view u1 B; 240 order u1 A,B o1");
	return st;
}

/* A full memo lets go of what the newest snapshot cannot use before it
 * refuses a put: after an order, the basket lists' bytes make room
 * for a new one, while a view list, still good, stays. */
static void
test_item_memos_full_let_go_of_retired_lists(void **state)
{
	char     *dir, *blob;
	size_t    big;
	uint64_t  fbt, view, cart;
	MDB_txn  *txn;
	xs_store *st = small_memo_store(&dir, &blob, &big);

	(void) state;
	fbt  = list_key(XS_ITEM_MEMO_BEST_LIST, XS_REL_BASKET);
	view = list_key(XS_ITEM_MEMO_SEED_LIST, XS_REL_VIEW);
	cart = list_key(XS_ITEM_MEMO_CART_LIST, XS_REL_BASKET);
	assert_xs_ok(xs_txn_read(st, &txn));
	xs_store_item_memo_put(st, txn, fbt, blob, big);
	xs_store_item_memo_put(st, txn, view, blob, big);
	assert_false(xs_store_item_memo_room(st, txn, big));
	xs_txn_abort(txn);

	xs_test_events(st, NULL, "300 order u2 A,C o2");
	assert_xs_ok(xs_txn_read(st, &txn));
	assert_true(xs_store_item_memo_room(st, txn, big));
	xs_store_item_memo_put(st, txn, cart, blob, big);
	xs_txn_abort(txn);
	assert_false(memo_found(st, fbt, NULL));
	assert_true(memo_found(st, view, NULL));
	assert_true(memo_found(st, cart, NULL));
	free(blob);
	xs_test_store_close(st, dir);
}

/* A full memo lets a complements list an answer made (its maker checks
 * its stamp) go, as it does retired entries, while an entry still good
 * stays. */
static void
test_item_memos_full_let_go_of_made_lists(void **state)
{
	char     *dir, *blob;
	size_t    big;
	uint64_t  made, view;
	MDB_txn  *txn;
	xs_store *st = small_memo_store(&dir, &blob, &big);

	(void) state;
	made = xs_comp_made_list_key(1);
	view = list_key(XS_ITEM_MEMO_SEED_LIST, XS_REL_VIEW);
	assert_xs_ok(xs_txn_read(st, &txn));
	xs_store_item_memo_put(st, txn, made, blob, big);
	xs_store_item_memo_put(st, txn, view, blob, big);
	xs_txn_abort(txn);

	xs_test_events(st, NULL, "300 order u2 A,C o2; 360 cart_add u2 B");
	assert_true(memo_found(st, made, NULL));
	assert_true(memo_found(st, view, NULL));
	/* Full: the made list goes, the view list (good) stays. */
	assert_xs_ok(xs_txn_read(st, &txn));
	assert_true(xs_store_item_memo_room(st, txn, big));
	xs_txn_abort(txn);
	assert_false(memo_found(st, made, NULL));
	assert_true(memo_found(st, view, NULL));
	free(blob);
	xs_test_store_close(st, dir);
}

/* At most 'budget' bytes are kept: past that a put keeps nothing, and
 * what was kept stays; xs_store_item_memo_room tells beforehand. */
static void
check_item_memo_budget(xs_store *st, size_t budget)
{
	size_t      size = budget / 4 + 1;
	char       *big  = calloc(1, size);
	MDB_txn    *txn;
	const void *got;
	size_t      len;
	uint64_t    key;

	assert_non_null(big);
	xs_test_events(st, NULL, "100 order u1 A o1");
	assert_xs_ok(xs_txn_read(st, &txn));
	assert_true(xs_store_item_memo_room(st, txn, size));
	for (key = 1; key <= 4; key++) {
		xs_store_item_memo_put(st, txn, key, big, size);
	}
	for (key = 1; key <= 3; key++) {
		assert_true(xs_store_item_memo_hold(st, txn, key, &got, &len));
		assert_int_equal(len, size);
		xs_store_memo_release(got);
	}
	assert_false(xs_store_item_memo_hold(st, txn, 4, &got, &len));
	/* xs_store_item_memo_room says so before a put: the last quarter
	 * does not fit, what is left of it does. */
	assert_false(xs_store_item_memo_room(st, txn, size));
	assert_true(xs_store_item_memo_room(st, txn, budget - 3 * size));
	/* Replacing a kept one with a smaller one fits. */
	xs_store_item_memo_put(st, txn, 2, "s", 2);
	xs_store_item_memo_put(st, txn, 4, big, size);
	assert_true(xs_store_item_memo_hold(st, txn, 4, &got, &len));
	xs_store_memo_release(got);
	xs_txn_abort(txn);
	free(big);
}

/* A full memo of entries still good gives them a second chance: a put
 * that does not fit first marks every entry unused (put or held since
 * the round before: all were, and the put is refused); then what
 * answers held again stays and the rest goes, so a later put fits. */
static void
test_item_memos_full_let_go_of_what_was_not_held(void **state)
{
	struct xs_store_opts o   = { 0 };
	char                *dir = xs_test_tmpdir();
	size_t               size;
	char                *big;
	MDB_txn             *txn;
	const void          *got;
	size_t               len;
	xs_store            *st;

	(void) state;
	o.memo_size = 1u << 20;
	size        = o.memo_size / 4 + 1;
	big         = calloc(1, size);
	assert_non_null(big);
	assert_xs_ok(xs_store_open(&st, dir, &o));
	xs_test_events(st, NULL, "100 order u1 A o1");
	assert_xs_ok(xs_txn_read(st, &txn));
	for (uint64_t key = 1; key <= 3; key++) {
		xs_store_item_memo_put(st, txn, key, big, size);
	}
	xs_store_item_memo_put(st, txn, 4, big, size);
	assert_false(xs_store_item_memo_hold(st, txn, 4, &got, &len));
	for (uint64_t key = 1; key <= 3; key += 2) {
		assert_true(xs_store_item_memo_hold(st, txn, key, &got, &len));
		xs_store_memo_release(got);
	}
	xs_store_item_memo_put(st, txn, 4, big, size);
	for (uint64_t key = 1; key <= 4; key++) {
		bool held = xs_store_item_memo_hold(st, txn, key, &got, &len);

		assert_true(held == (key != 2));
		xs_store_memo_release(got);
	}
	xs_txn_abort(txn);
	xs_test_store_close(st, dir);
	free(big);
}

/* Entry i of the rounds' test: a view seed list (an order leaves it
 * good), or, one in three, a basket best list (an order retires it),
 * each of item i + 1; its bytes, a 399-character string naming it. */
#define ROUND_ENTRIES 2000u
#define ROUND_VALUE 400u
#define ROUND_KEPT (ROUND_ENTRIES - (ROUND_ENTRIES + 1) / 3)

static bool
round_retired(size_t i)
{
	return i % 3 == 1;
}

static uint64_t
round_key(size_t i)
{
	bool     retired = round_retired(i);
	uint64_t key;

	assert_true(xs_list_memo_key(
	    retired ? XS_ITEM_MEMO_BEST_LIST : XS_ITEM_MEMO_SEED_LIST,
	    retired ? XS_REL_BASKET : XS_REL_VIEW, XS_SCORE_COUNT, 0,
	    (uint32_t) i + 1, &key));
	return key;
}

static void
round_value(size_t i, char *v)
{
	memset(v, 'x', ROUND_VALUE - 1);
	v[ROUND_VALUE - 1] = '\0';
	snprintf(v, 8, "%07zu", i);
	v[7] = 'x';
}

/* Entries found now, each asserted to hold its own bytes. */
static size_t
round_found(xs_store *st, bool *found)
{
	char   v[ROUND_VALUE];
	size_t n = 0;

	for (size_t i = 0; i < ROUND_ENTRIES; i++) {
		round_value(i, v);
		found[i] = memo_found(st, round_key(i), v);
		n += found[i];
	}
	return n;
}

/* A full memo's rounds let entries go where they are, among two
 * thousand whose slots collide in runs: every entry a round keeps is
 * still found, holding its own bytes, and the memo counts exactly what
 * is found. The sweep after an order lets the retired lists go and
 * keeps the others; the next round of second chances lets go only
 * entries no answer held. */
static void
test_item_memo_rounds_keep_the_rest_found(void **state)
{
	struct xs_store_opts      o   = { 0 };
	char                     *dir = xs_test_tmpdir();
	char                     *big = calloc(1, 350u << 10);
	char                      v[ROUND_VALUE];
	bool                     *found = calloc(ROUND_ENTRIES, sizeof(bool));
	struct xs_item_memo_usage u;
	MDB_txn                  *txn;
	const void               *got;
	size_t                    len, bigs;
	xs_store                 *st;

	(void) state;
	assert_non_null(big);
	assert_non_null(found);
	o.memo_size = 1u << 20;
	assert_xs_ok(xs_store_open(&st, dir, &o));
	xs_test_events(st, NULL, "100 order u1 A o1");
	assert_xs_ok(xs_txn_read(st, &txn));
	for (size_t i = 0; i < ROUND_ENTRIES; i++) {
		round_value(i, v);
		xs_store_item_memo_put(st, txn, round_key(i), v, ROUND_VALUE);
	}
	xs_txn_abort(txn);
	assert_int_equal(round_found(st, found), ROUND_ENTRIES);

	/* The sweep: the order retires the basket lists. */
	xs_test_events(st, NULL, "200 order u2 B,C o2");
	assert_xs_ok(xs_txn_read(st, &txn));
	xs_store_item_memo_put(st, txn, 1, big, 350u << 10);
	assert_true(xs_store_item_memo_hold(st, txn, 1, &got, &len));
	xs_store_memo_release(got);
	xs_txn_abort(txn);
	assert_int_equal(round_found(st, found), ROUND_KEPT);
	for (size_t i = 0; i < ROUND_ENTRIES; i++) {
		assert_true(found[i] == !round_retired(i));
	}
	xs_store_item_memo_usage(st, &u);
	assert_int_equal(u.items, ROUND_KEPT + 1);

	/* Second chances: a put that does not fit marks all unused (and is
	 * refused); held since, every fourth entry kept stays, and enough
	 * of the rest goes for the next put. */
	assert_xs_ok(xs_txn_read(st, &txn));
	xs_store_item_memo_put(st, txn, 2, big, 350u << 10);
	assert_false(xs_store_item_memo_hold(st, txn, 2, &got, &len));
	for (size_t i = 0; i < ROUND_ENTRIES; i += 4) {
		bool held =
		    xs_store_item_memo_hold(st, txn, round_key(i), &got, &len);

		assert_true(held == !round_retired(i));
		xs_store_memo_release(got);
	}
	xs_store_item_memo_put(st, txn, 2, big, 350u << 10);
	assert_true(xs_store_item_memo_hold(st, txn, 2, &got, &len));
	xs_store_memo_release(got);
	xs_txn_abort(txn);
	xs_store_item_memo_usage(st, &u);
	/* Counted: the big ones still there (the first was not held since
	 * the first round) and what memo_found sees. */
	bigs = memo_found(st, 1, NULL) + memo_found(st, 2, NULL);
	assert_int_equal(u.items - bigs, round_found(st, found));
	assert_true(u.items - bigs < ROUND_KEPT);
	for (size_t i = 0; i < ROUND_ENTRIES; i += 4) {
		assert_true(found[i] == !round_retired(i));
	}
	xs_test_store_close(st, dir);
	free(found);
	free(big);
}

/* The default budget, 64 MiB (stats shows it). */
static void
test_item_memos_keep_to_their_budget(void **state)
{
	struct xs_test_store *f = *state;
	struct xs_store_info  info;

	assert_xs_ok(xs_store_info_get(f->st, &info));
	assert_int_equal(info.memo_budget, 64u << 20);
	check_item_memo_budget(f->st, 64u << 20);
}

/* A store opened with its own budget (xselld --memo-size) keeps to it. */
static void
test_item_memos_keep_to_a_given_budget(void **state)
{
	struct xs_store_opts o   = { 0 };
	char                *dir = xs_test_tmpdir();
	struct xs_store_info info;
	xs_store            *st;

	(void) state;
	o.memo_size = 3u << 20;
	assert_xs_ok(xs_store_open(&st, dir, &o));
	assert_xs_ok(xs_store_info_get(st, &info));
	assert_int_equal(info.memo_budget, 3u << 20);
	check_item_memo_budget(st, 3u << 20);
	xs_test_store_close(st, dir);
}

/* Without a budget given, a store gets an eighth of its bytes in use,
 * never less than 64 MiB nor more than the most --memo-size takes. */
static void
test_item_memo_budget_follows_the_store(void **state)
{
	(void) state;
	assert_int_equal(xs_store_memo_budget_for(0), 64u << 20);
	assert_int_equal(xs_store_memo_budget_for(1u << 20), 64u << 20);
	assert_int_equal(xs_store_memo_budget_for(512ull << 20), 64u << 20);
	assert_int_equal(xs_store_memo_budget_for(800ull << 20), 100u << 20);
	assert_int_equal(
	    xs_store_memo_budget_for(4770820096ull), 4770820096ull / 8);
	assert_int_equal(
	    xs_store_memo_budget_for(UINT64_MAX), XS_ITEM_MEMO_BYTES_MAX);
}

/* The memo looks (hits, misses) of an fbt of 'items' (comma-separated
 * external ids) with the defaults a request gets. */
static void
fbt_looks(xs_store *st, const char *a, const char *b, uint64_t *hits,
    uint64_t *misses)
{
	struct xs_settings   set;
	struct xs_span       items[2] = { { a, (uint32_t) strlen(a) },
		      { b, b ? (uint32_t) strlen(b) : 0 } };
	struct xs_query      q        = { 0 };
	struct xs_answer     ans;
	struct xs_arena      arena;
	struct xs_store_info before, after;
	MDB_txn             *txn;

	xs_settings_default(&set);
	q.items           = items;
	q.n_items         = b ? 2 : 1;
	q.k               = 10;
	q.scorer          = set.fbt_scorer;
	q.filter.in_stock = true;
	xs_arena_init(&arena, 1 << 20);
	assert_xs_ok(xs_store_info_get(st, &before));
	assert_xs_ok(xs_txn_read(st, &txn));
	assert_xs_ok(xs_model_fbt(st, txn, &set, &q, &arena, &ans));
	xs_txn_abort(txn);
	xs_arena_fini(&arena);
	assert_xs_ok(xs_store_info_get(st, &after));
	*hits   = after.memo_hits - before.memo_hits;
	*misses = after.memo_misses - before.memo_misses;
}

/* xs_model_warm makes the fbt memos of the items in most baskets: A (4
 * orders) and B (3) with n = 2, so that fbt of A, of B and of the cart
 * {A, B} find theirs made (no miss), where C (2), not warmed, misses.
 * n past the items warms every item with a basket, V (only viewed) not
 * among them; n = 0 warms none. */
static void
test_warm_makes_the_most_ordered_items_memos(void **state)
{
	struct xs_test_store *f = *state;
	struct xs_settings    set;
	struct xs_store_info  info;
	uint32_t              warmed;
	uint64_t              hits, misses;

	xs_test_events(f->st, NULL,
	    "100 order u1 A,B,C o1; 101 order u2 A,B,C o2; "
	    "102 order u3 A,B,D o3; 103 order u4 A,E o4; 104 view u5 V");
	xs_settings_default(&set);
	assert_xs_ok(xs_model_warm(f->st, &set, 0, 1, &warmed));
	assert_int_equal(warmed, 0);
	assert_xs_ok(xs_store_info_get(f->st, &info));
	assert_int_equal(info.memo_items, 0);

	assert_xs_ok(xs_model_warm(f->st, &set, 2, 1, &warmed));
	assert_int_equal(warmed, 2);
	fbt_looks(f->st, "A", NULL, &hits, &misses);
	assert_true(hits > 0);
	assert_int_equal(misses, 0);
	fbt_looks(f->st, "B", NULL, &hits, &misses);
	assert_int_equal(misses, 0);
	fbt_looks(f->st, "A", "B", &hits, &misses);
	assert_true(hits > 0);
	assert_int_equal(misses, 0);
	fbt_looks(f->st, "C", NULL, &hits, &misses);
	assert_true(misses > 0);

	assert_xs_ok(xs_model_warm(f->st, &set, 1000, 2, &warmed));
	assert_int_equal(warmed, 5); /* A..E */
}

/* Warming stops once the memos hold half their budget (1 MiB here):
 * 300 items bought ten at a time, each with dozens of partners, would
 * take several times that; on two threads, the items warmed are fewer
 * than those with orders, the most ordered among them (its fbt finds
 * its memo), and the memos hold at least half the budget and leave
 * room (a pair's lists past the half at most, per thread). */
static void
test_warm_stops_at_half_the_memo_budget(void **state)
{
	struct xs_store_opts o   = { 0 };
	char                *dir = xs_test_tmpdir();
	struct xs_settings   set;
	struct xs_store_info info;
	xs_store            *st;
	unsigned             rnd = 3;
	uint32_t             warmed;
	uint64_t             hits, misses;

	(void) state;
	o.memo_size = 1u << 20;
	assert_xs_ok(xs_store_open(&st, dir, &o));
	for (int batch = 0; batch < 8; batch++) {
		char   spec[16384];
		size_t n = 0;

		for (int e = 0; e < 50; e++) {
			n += (size_t) snprintf(spec + n, sizeof(spec) - n,
			    "%s%d order u%d ", n ? "; " : "",
			    100 + batch * 50 + e, e);
			for (int i = 0; i < 10; i++) {
				n += (size_t) snprintf(spec + n,
				    sizeof(spec) - n, "%si%d", i ? "," : "",
				    i == 0 ? 0 : rand_r(&rnd) % 300);
			}
			n += (size_t) snprintf(spec + n, sizeof(spec) - n,
			    " o%d", batch * 50 + e);
		}
		xs_test_events(st, NULL, spec);
	}
	xs_settings_default(&set);
	assert_xs_ok(xs_model_warm(st, &set, 1000, 2, &warmed));
	assert_xs_ok(xs_store_info_get(st, &info));
	assert_true(warmed > 2);
	assert_true(warmed < 250);
	assert_true(info.memo_bytes >= info.memo_budget / 2);
	assert_true(info.memo_bytes < info.memo_budget * 3 / 4);
	fbt_looks(st, "i0", NULL, &hits, &misses);
	assert_int_equal(misses, 0);
	xs_test_store_close(st, dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_trend_memo_follows_commits, xs_test_store_setup,
		    xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_memo_hold_outlives_its_memo, xs_test_store_setup,
		    xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_momentum_table_find,
		    xs_test_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_momentum_table_find_sparse, xs_test_store_setup,
		    xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_item_memos_outlive_other_families_commits,
		    xs_test_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_item_memo_held_aged,
		    xs_test_store_setup, xs_test_store_teardown),
		cmocka_unit_test(test_item_memos_full_let_go_of_retired_lists),
		cmocka_unit_test(test_item_memos_full_let_go_of_made_lists),
		cmocka_unit_test(test_item_memo_rounds_keep_the_rest_found),
		cmocka_unit_test_setup_teardown(
		    test_epochs_of_four_families_are_read, xs_test_store_setup,
		    xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_item_memos_follow_commits,
		    xs_test_store_setup, xs_test_store_teardown),
		cmocka_unit_test(test_item_memos_keep_to_a_given_budget),
		cmocka_unit_test(test_item_memo_budget_follows_the_store),
		cmocka_unit_test_setup_teardown(
		    test_item_memos_keep_to_their_budget, xs_test_store_setup,
		    xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_warm_makes_the_most_ordered_items_memos,
		    xs_test_store_setup, xs_test_store_teardown),
		cmocka_unit_test(
		    test_item_memos_full_let_go_of_what_was_not_held),
		cmocka_unit_test(test_warm_stops_at_half_the_memo_budget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
