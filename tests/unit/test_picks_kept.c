/* SPDX-License-Identifier: MIT */
/* for_you's best candidates kept per user (picks_memo.c): an answer
 * served from what an earlier answer kept must be the answer the model
 * gives without it, bit for bit. The reference is the same request in a
 * write transaction, where nothing is kept or read from a memo (store.h:
 * a write transaction's state is not committed). Also: a later 'now' is
 * served from what was kept, its scores scaled; a commit, other settings
 * or a filter that reaches past what was kept are not served stale. */
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_impl.h"
#include "store/store.h"

#define DAY 86400
#define T0 1000000000
#define ANSWER_MAX 64

static struct xs_span
span(const char *s)
{
	return (struct xs_span) { s, (uint32_t) strlen(s) };
}

/* One answer of a picks request, copied out of its transaction. */
struct pick {
	uint32_t item, because;
	double   score;
	unsigned source;
};

struct picks {
	struct pick v[ANSWER_MAX];
	size_t      n;
};

/* Ask q in a read transaction (memos kept and read) or, with 'write', in
 * a write transaction aborted after (none). */
static void
ask(xs_store *st, const struct xs_settings *set, const struct xs_query *q,
    bool write, struct picks *out)
{
	struct xs_answer ans;
	struct xs_arena  arena;
	MDB_txn         *txn;

	xs_arena_init(&arena, 1 << 20);
	assert_xs_ok(write ? xs_txn_write(st, &txn) : xs_txn_read(st, &txn));
	assert_xs_ok(xs_model_picks(st, txn, set, q, &arena, &ans));
	assert_true(ans.n <= ANSWER_MAX);
	out->n = ans.n;
	for (uint32_t i = 0; i < ans.n; i++) {
		out->v[i].item    = ans.recs[i].item;
		out->v[i].because = ans.recs[i].why.because;
		out->v[i].score   = ans.recs[i].score;
		out->v[i].source  = ans.recs[i].why.source;
	}
	xs_txn_abort(txn);
	xs_arena_fini(&arena);
}

/* The same items, reasons and sources, each score 'scale' times the
 * reference's (exactly when scale is 1). */
static void
assert_same_picks(
    const struct picks *ref, const struct picks *got, double scale)
{
	assert_int_equal(got->n, ref->n);
	for (size_t i = 0; i < ref->n; i++) {
		const struct pick *a = &ref->v[i], *b = &got->v[i];

		assert_int_equal(b->item, a->item);
		assert_int_equal(b->because, a->because);
		assert_int_equal(b->source, a->source);
		if (scale == 1.0 || a->source != XS_SOURCE_HISTORY) {
			assert_true(b->score == a->score);
		} else {
			assert_true(fabs(b->score - a->score * scale) <=
			    1e-12 * fabs(a->score * scale));
		}
	}
}

/* How many best candidates the store keeps for 'user', made with 'set',
 * for its newest snapshot (0: none kept). */
static size_t
kept_n(xs_store *st, const struct xs_settings *set, const char *user)
{
	struct xs_fy_best  b;
	struct xs_hist_tag tag;
	MDB_txn           *txn;
	uint32_t           uid;
	size_t             n = 0;

	assert_xs_ok(xs_txn_read(st, &txn));
	assert_xs_ok(
	    xs_store_id_get(st, txn, XS_DICT_USER, user, strlen(user), &uid));
	assert_xs_ok(xs_store_history_tag(st, txn, uid, &tag));
	if (xs_fy_best_hold(st, txn, set, uid, &tag, &b)) {
		n = b.n_best + (b.n_best == 0); /* kept, if empty */
	}
	xs_fy_best_free(&b);
	xs_txn_abort(txn);
	return n;
}

static bool
kept_for(xs_store *st, const struct xs_settings *set, const char *user)
{
	return kept_n(st, set, user) != 0;
}

/* Ask q in a read transaction, the answer into 'first': a user's first
 * ask keeps their best candidates (nothing was kept before it), and
 * the next answer, read from them, is the same. */
static void
ask_until_kept(xs_store *st, const struct xs_settings *set,
    const struct xs_query *q, struct picks *first)
{
	struct picks again;
	char         user[32];

	assert_true(q->user.len < sizeof(user));
	memcpy(user, q->user.p, q->user.len);
	user[q->user.len] = '\0';
	assert_false(kept_for(st, set, user));
	ask(st, set, q, false, first);
	assert_true(kept_for(st, set, user));
	ask(st, set, q, false, &again);
	assert_same_picks(first, &again, 1.0);
}

/* Guest orders pairing A..H; u1, who bought A and viewed C and E; u3,
 * who viewed G and rated F, a trending item, 1. */
static void
load_small_store(xs_store *st)
{
	char spec[1024];

	snprintf(spec, sizeof(spec),
	    "%d order - A,B,C g1; %d order - A,B g2; %d order - B,C,D g3; "
	    "%d order - C,D,E g4; %d order - A,E,F g5; %d order - F,G g6; "
	    "%d order - G,H,A g7; %d order - H,B g8; %d order - E,F,H g9; "
	    "%d order u1 A o1; %d view u1 C; %d view u1 E; "
	    "%d view u3 G; %d rating u3 F 1",
	    T0 - 50 * DAY, T0 - 40 * DAY, T0 - 30 * DAY, T0 - 20 * DAY,
	    T0 - 10 * DAY, T0 - 5 * DAY, T0 - 2 * DAY, T0 - DAY, T0 - DAY,
	    T0 - 3 * DAY, T0 - 3600, T0 - 7200, T0 - 3 * DAY, T0 - DAY);
	xs_test_events(st, NULL, spec);
}

static struct xs_query
for_you(const char *user, int64_t now, unsigned k)
{
	struct xs_query q = { 0 };

	q.user = span(user);
	q.kind = XS_PICK_FOR_YOU;
	q.now  = now;
	q.k    = k;
	return q;
}

/* Asked once, a user's best candidates are kept; asked again and
 * again, the answer is read from them. Every answer is the reference's,
 * bit for bit. */
static void
test_kept_answer_is_the_models(void **state)
{
	struct xs_test_store *f = *state;
	struct xs_settings    set;
	struct xs_query       q = for_you("u1", T0, 10);
	struct picks          ref, cold, warm;

	xs_settings_default(&set);
	load_small_store(f->st);
	ask(f->st, &set, &q, true, &ref);
	assert_true(ref.n >= 3);
	assert_int_equal(ref.v[0].source, XS_SOURCE_HISTORY);
	ask_until_kept(f->st, &set, &q, &cold);
	assert_same_picks(&ref, &cold, 1.0);
	ask(f->st, &set, &q, false, &warm);
	assert_same_picks(&ref, &warm, 1.0);
}

/* What the history scored at or below zero stays out of the trending
 * fill of an answer read from what was kept: u3's F and what F brings. */
static void
test_kept_answer_keeps_rejected_out(void **state)
{
	struct xs_test_store *f = *state;
	struct xs_settings    set;
	struct xs_query       q = for_you("u3", T0, 8);
	struct picks          ref, warm;

	xs_settings_default(&set);
	load_small_store(f->st);
	ask(f->st, &set, &q, true, &ref);
	/* Of the store's eight items, the fill gave some, F not. */
	assert_true(ref.n >= 2 && ref.n < 8);
	assert_int_equal(ref.v[ref.n - 1].source, XS_SOURCE_TRENDING);
	ask_until_kept(f->st, &set, &q, &warm);
	ask(f->st, &set, &q, false, &warm);
	assert_same_picks(&ref, &warm, 1.0);
}

/* A later 'now' is served from what was kept: the same ranking, every
 * history score decayed by the time between (one half-life: halved). */
static void
test_kept_answer_serves_a_later_now(void **state)
{
	struct xs_test_store *f = *state;
	struct xs_settings    set;
	struct xs_query       q = for_you("u1", T0, 10);
	struct picks          before, later, ref;
	int64_t               half = (int64_t) (30 * DAY);

	xs_settings_default(&set);
	set.pick_half_life_days  = 30;
	set.pick_momentum_weight = 0; /* trending's fill does not decay */
	load_small_store(f->st);
	ask_until_kept(f->st, &set, &q, &before);
	q.now = T0 + half;
	ask(f->st, &set, &q, false, &later);
	assert_same_picks(&before, &later, 0.5);
	ask(f->st, &set, &q, true, &ref);
	assert_same_picks(&ref, &later, 1.0);
}

/* Tell the store item 'id''s category: a commit of item metadata. */
static void
describe_item(xs_store *st, const char *id, const char *cat)
{
	struct xs_item_update up;
	MDB_txn              *txn;

	memset(&up, 0, sizeof(up));
	up.item     = span(id);
	up.category = span(cat);
	assert_xs_ok(xs_txn_write(st, &txn));
	assert_xs_ok(xs_model_items_upsert(st, txn, &up, 1, T0));
	assert_xs_ok(xs_txn_commit(txn));
}

static bool
has_item(xs_store *st, const struct picks *p, const char *id)
{
	MDB_txn *txn;
	uint32_t item;
	bool     found = false;

	assert_xs_ok(xs_txn_read(st, &txn));
	assert_xs_ok(
	    xs_store_id_get(st, txn, XS_DICT_ITEM, id, strlen(id), &item));
	xs_txn_abort(txn);
	for (size_t i = 0; i < p->n; i++) {
		found = found || p->v[i].item == item;
	}
	return found;
}

/* Others' orders retire what was kept: once guests buy Z with C (which
 * u1 viewed) three times, Z is among u1's picks, as in the
 * reference. */
static void
test_kept_answer_follows_others_orders(void **state)
{
	struct xs_test_store *f = *state;
	struct xs_settings    set;
	struct xs_query       q = for_you("u1", T0, 10);
	struct picks          first, after, ref;
	char                  spec[256];

	xs_settings_default(&set);
	load_small_store(f->st);
	ask_until_kept(f->st, &set, &q, &first);
	snprintf(spec, sizeof(spec),
	    "%d order - C,Z g20; %d order - C,Z g21; %d order - C,Z g22",
	    T0 - 300, T0 - 200, T0 - 100);
	xs_test_events(f->st, NULL, spec);
	assert_false(has_item(f->st, &first, "Z"));
	ask(f->st, &set, &q, false, &after);
	assert_true(has_item(f->st, &after, "Z"));
	ask(f->st, &set, &q, true, &ref);
	assert_same_picks(&ref, &after, 1.0);
}

/* With the setting pick_keep_answers off (xsell-eval, xsell-bench
 * --picks-unkept), a user asked again and again keeps nothing, and the
 * answers are still the reference's. */
static void
test_nothing_kept_when_the_setting_is_off(void **state)
{
	struct xs_test_store *f = *state;
	struct xs_settings    set;
	struct xs_query       q = for_you("u1", T0, 10);
	struct picks          ref, p;

	xs_settings_default(&set);
	set.pick_keep_answers = false;
	load_small_store(f->st);
	ask(f->st, &set, &q, true, &ref);
	for (int i = 0; i < 3; i++) {
		ask(f->st, &set, &q, false, &p);
		assert_same_picks(&ref, &p, 1.0);
	}
	assert_false(kept_for(f->st, &set, "u1"));
}

/* The user's own order retires what was kept: once u1 orders the first
 * pick, it is bought and out of the answer, which is the reference's
 * again. */
static void
test_kept_answer_follows_a_commit(void **state)
{
	struct xs_test_store *f = *state;
	struct xs_settings    set;
	struct xs_query       q = for_you("u1", T0, 10);
	struct picks          first, after, ref;
	const char           *ext;
	size_t                len;
	char                  spec[128];
	char                  top[16];
	MDB_txn              *txn;

	xs_settings_default(&set);
	load_small_store(f->st);
	ask_until_kept(f->st, &set, &q, &first);
	assert_true(first.n >= 1);
	assert_int_equal(first.v[0].source, XS_SOURCE_HISTORY);
	assert_xs_ok(xs_txn_read(f->st, &txn));
	assert_xs_ok(xs_store_ext_get(
	    f->st, txn, XS_DICT_ITEM, first.v[0].item, &ext, &len));
	assert_true(len < sizeof(top));
	memcpy(top, ext, len);
	top[len] = '\0';
	xs_txn_abort(txn);
	snprintf(spec, sizeof(spec), "%d order u1 %s o2", T0 - 60, top);
	xs_test_events(f->st, NULL, spec);
	assert_false(kept_for(f->st, &set, "u1"));
	ask(f->st, &set, &q, false, &after);
	for (size_t i = 0; i < after.n; i++) {
		assert_int_not_equal(after.v[i].item, first.v[0].item);
	}
	ask(f->st, &set, &q, true, &ref);
	assert_same_picks(&ref, &after, 1.0);
}

/* What was kept outlives commits of what it was not made from (an
 * item's metadata; another user's rating, which changes no count), and
 * is still the reference's answer; the user's own rating retires it. */
static void
test_kept_answer_outlives_other_writes(void **state)
{
	struct xs_test_store *f = *state;
	struct xs_settings    set;
	struct xs_query       q = for_you("u1", T0, 10);
	struct picks          first, ref, now;
	char                  spec[64];

	xs_settings_default(&set);
	load_small_store(f->st);
	ask_until_kept(f->st, &set, &q, &first);
	describe_item(f->st, "B", "kitchen");
	snprintf(spec, sizeof(spec), "%d rating u3 B 5", T0 - 60);
	xs_test_events(f->st, NULL, spec);
	assert_true(kept_for(f->st, &set, "u1"));
	ask(f->st, &set, &q, false, &now);
	ask(f->st, &set, &q, true, &ref);
	assert_same_picks(&ref, &now, 1.0);
	assert_same_picks(&first, &now, 1.0);

	snprintf(spec, sizeof(spec), "%d rating u1 %s 1", T0 - 60, "B");
	xs_test_events(f->st, NULL, spec);
	assert_false(kept_for(f->st, &set, "u1"));
	ask(f->st, &set, &q, false, &now);
	ask(f->st, &set, &q, true, &ref);
	assert_same_picks(&ref, &now, 1.0);
}

/* What one settings' answer kept is not served to another's. */
static void
test_kept_answer_is_the_settings(void **state)
{
	struct xs_test_store *f = *state;
	struct xs_settings    set, cosine;
	struct xs_query       q = for_you("u1", T0, 10);
	struct picks          one, other, ref;

	xs_settings_default(&set);
	cosine                = set;
	cosine.similar_scorer = set.similar_scorer == XS_SCORE_COSINE
	    ? XS_SCORE_JACCARD
	    : XS_SCORE_COSINE;
	load_small_store(f->st);
	ask_until_kept(f->st, &set, &q, &one);
	ask(f->st, &cosine, &q, false, &other);
	ask(f->st, &cosine, &q, true, &ref);
	assert_same_picks(&ref, &other, 1.0);
	assert_true(one.v[0].score != other.v[0].score);
}

/* More candidates than are kept (picks_memo.c keeps the best 168 and
 * their ties), and a filter that leaves out the best 170: the third
 * round of ranking reaches past what was kept, both when the answer
 * makes it and when it reads it, and the answer is the reference's. S
 * is ordered with each of P001..P200, P(i) in 1 + i % 50 orders (50
 * scores, four partners each), and u2 viewed S. */
#define PARTNERS 200
#define LEFT_OUT 170

static void
load_partners(xs_store *st)
{
	char spec[64 * 32];
	int  n = 0, in_spec = 0;

	spec[0] = '\0';
	for (int i = 0; i < PARTNERS; i++) {
		for (int c = 0; c <= i % 50; c++) {
			size_t o = strlen(spec);

			snprintf(spec + o, sizeof(spec) - o,
			    "%s%d order - S,P%03d g%d", in_spec ? "; " : "",
			    T0 - 10 * DAY + n, i + 1, n);
			n++;
			if (++in_spec == 60) { /* support.c's orders a spec */
				xs_test_events(st, NULL, spec);
				spec[0] = '\0';
				in_spec = 0;
			}
		}
	}
	if (in_spec != 0) {
		xs_test_events(st, NULL, spec);
	}
	snprintf(spec, sizeof(spec), "%d view u2 S", T0 - 3600);
	xs_test_events(st, NULL, spec);
}

/* The ids of q's best 'n' answers, in a write transaction (nothing
 * kept), into ids[] and spans over them into out[]. */
static void
best_ids(xs_store *st, const struct xs_settings *set, const struct xs_query *q,
    char (*ids)[8], struct xs_span *out, size_t n)
{
	struct xs_answer ans;
	struct xs_arena  arena;
	MDB_txn         *txn;

	xs_arena_init(&arena, 1 << 20);
	assert_xs_ok(xs_txn_write(st, &txn));
	assert_xs_ok(xs_model_picks(st, txn, set, q, &arena, &ans));
	assert_true(ans.n >= n + 10);
	for (size_t i = 0; i < n; i++) {
		const struct xs_rec *r = &ans.recs[i];

		assert_true(r->ext_len < 8);
		memcpy(ids[i], r->ext, r->ext_len);
		ids[i][r->ext_len] = '\0';
		out[i]             = span(ids[i]);
	}
	xs_txn_abort(txn);
	xs_arena_fini(&arena);
}

static void
test_kept_answer_past_what_is_kept(void **state)
{
	struct xs_test_store *f = *state;
	static char           ids[LEFT_OUT][8];
	struct xs_span        excl[LEFT_OUT];
	struct xs_settings    set;
	struct xs_query       q = for_you("u2", T0, PARTNERS + 1);
	struct picks          ref, making, reading;

	load_partners(f->st);
	xs_settings_default(&set);
	best_ids(f->st, &set, &q, ids, excl, LEFT_OUT);
	q.k                = 10;
	q.filter.exclude   = excl;
	q.filter.n_exclude = LEFT_OUT;
	ask(f->st, &set, &q, true, &ref);
	assert_int_equal(ref.n, 10);
	assert_int_equal(ref.v[9].source, XS_SOURCE_HISTORY);
	ask_until_kept(f->st, &set, &q, &making);
	assert_same_picks(&ref, &making, 1.0);
	ask(f->st, &set, &q, false, &reading);
	assert_same_picks(&ref, &reading, 1.0);
}

/* A first ask keeps what its ranking reads: the best k + 32 and their
 * ties (u2's candidates score in runs of four: 42 to 48 of them). An ask
 * whose filter reaches past those walks again and, the user asked before
 * in these counts, keeps the best 168 and their ties. After a commit of
 * counts the next ask is a first again. Every answer is the
 * reference's. */
static void
test_kept_grows_for_a_user_asked_again(void **state)
{
	struct xs_test_store *f = *state;
	static char           ids[40][8];
	struct xs_span        excl[40];
	struct xs_settings    set;
	struct xs_query       q = for_you("u2", T0, PARTNERS + 1);
	struct picks          ref, got;
	char                  spec[64];
	size_t                n;

	load_partners(f->st);
	xs_settings_default(&set);
	best_ids(f->st, &set, &q, ids, excl, 40);
	q.k = 10;
	ask(f->st, &set, &q, false, &got);
	n = kept_n(f->st, &set, "u2");
	assert_true(n >= 42 && n < 168);

	q.filter.exclude   = excl;
	q.filter.n_exclude = 40;
	ask(f->st, &set, &q, true, &ref);
	assert_int_equal(ref.n, 10);
	ask(f->st, &set, &q, false, &got);
	assert_same_picks(&ref, &got, 1.0);
	assert_true(kept_n(f->st, &set, "u2") >= 168);

	snprintf(spec, sizeof(spec), "%d order - S,P001 g9000", T0 - 60);
	xs_test_events(f->st, NULL, spec);
	q.filter.n_exclude = 0;
	ask(f->st, &set, &q, true, &ref);
	ask(f->st, &set, &q, false, &got);
	assert_same_picks(&ref, &got, 1.0);
	n = kept_n(f->st, &set, "u2");
	assert_true(n >= 42 && n < 168);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kept_answer_is_the_models,
		    xs_test_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_kept_answer_keeps_rejected_out, xs_test_store_setup,
		    xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_kept_answer_serves_a_later_now, xs_test_store_setup,
		    xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_kept_grows_for_a_user_asked_again,
		    xs_test_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_nothing_kept_when_the_setting_is_off,
		    xs_test_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_kept_answer_follows_others_orders,
		    xs_test_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_kept_answer_follows_a_commit, xs_test_store_setup,
		    xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_kept_answer_outlives_other_writes,
		    xs_test_store_setup, xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_kept_answer_is_the_settings, xs_test_store_setup,
		    xs_test_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_kept_answer_past_what_is_kept, xs_test_store_setup,
		    xs_test_store_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
