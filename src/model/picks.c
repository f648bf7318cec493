/* SPDX-License-Identifier: MIT */
/* Personalised picks, one function per kind, as of q->now:
 *
 *   for_you         history events weigh by type, decayed by age; the
 *                   strongest history items bring their similar
 *                   neighbours, each scored weight x similarity and
 *                   summed; an item of the history also counts its own
 *                   weight (a removed or badly rated one sinks). Each
 *                   candidate is then weighed up by its momentum (the
 *                   share of its sales that is recent). Bought
 *                   items are left out unless q->candidates names the
 *                   items to rank (then all of them are ranked, and only
 *                   they). Touches the history, the bought set, the
 *                   similar lists of at most pick_seeds_max items, the
 *                   trend list (memoised per snapshot) and the counters
 *                   of the candidates in it.
 *   abandoned_cart  the open cart's items added between min and max age
 *                   ago, newest first, but those ordered or removed at
 *                   or after their add (which arrived later). Touches
 *                   the cart and the history.
 *   back_in_stock   items the user viewed or carted while out of stock,
 *                   in stock again since, not bought since, within
 *                   q->days; freshest restock first. Touches the history
 *                   and the metadata of the items in it.
 *   new_arrivals    items created in the last q->days days, scored by
 *                   the share of the user's taste in their category plus
 *                   their early popularity. Touches the day lists of
 *                   creation and the counters and metadata of those items.
 *   buy_again       items the user bought that other buyers rebuy,
 *                   scored by the user's own orders of them and the
 *                   rebuy rate, weighed up as the usual interval
 *                   passes. Touches the bought set.
 *
 * When personal signals give fewer than k items (for_you without
 * candidates), trending items fill the rest, marked source "trending". */
#include "model/model_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DAY_S 86400.0

static double
decay(double age_s, double half_life_days)
{
	if (age_s <= 0) {
		return 1.0;
	}
	return pow(0.5, age_s / (half_life_days * DAY_S));
}

static int
cmp_cand_item(const void *x, const void *y)
{
	const struct xs_cand *p = x, *q = y;

	return p->item < q->item ? -1 : p->item > q->item;
}

/* One entry per item, weights summed (a user's taste: at most
 * history_max entries, so a sort is cheap). */
static void
merge_by_item(struct xs_cand_vec *vec)
{
	size_t u = 0;

	if (vec->n == 0) {
		return;
	}
	qsort(vec->v, vec->n, sizeof(*vec->v), cmp_cand_item);
	for (size_t i = 0; i < vec->n; i++) {
		if (u != 0 && vec->v[u - 1].item == vec->v[i].item) {
			vec->v[u - 1].score += vec->v[i].score;
		} else {
			vec->v[u++] = vec->v[i];
		}
	}
	vec->n = u;
}

/* ==== for_you's tally (model_impl.h) ==== */

/* The tally's first size: room for a typical answer's candidates (about
 * a thousand on Online Retail), so that most answers never grow it. */
#define TALLY_FIRST_SLOTS 2048u

/* Twice the slots (the first: TALLY_FIRST_SLOTS), or more until they
 * are at most half full with one more entry (a tally leaving its index
 * brings all its entries at once); every entry placed again, entries
 * keep their order. */
static xsell_err
tally_grow_slots(struct xs_tally *t)
{
	size_t               cap = t->cap ? t->cap * 2 : TALLY_FIRST_SLOTS;
	struct xs_cand_slot *slots;
	unsigned             bits = 0;

	while ((t->n + 1) * 2 > cap) {
		cap *= 2;
	}
	if (cap > ((size_t) UINT32_MAX + 1) / 2) {
		return XSELL_ENOMEM; /* more entries than item numbers */
	}
	slots = calloc(cap, sizeof(*slots));
	if (slots == NULL) {
		return XSELL_ENOMEM;
	}
	while (((size_t) 1 << bits) < cap) {
		bits++;
	}
	free(t->slots);
	t->slots = slots;
	t->cap   = cap;
	t->shift = 32 - bits;
	for (size_t i = 0; i < t->n; i++) {
		size_t j = xs_tally_slot_of(t, t->v[i].item);

		while (slots[j].index1 != 0) {
			j = (j + 1) & (cap - 1);
		}
		slots[j].item   = t->v[i].item;
		slots[j].index1 = (uint32_t) i + 1;
	}
	return XSELL_OK;
}

/* Room for one more entry in v. */
static xsell_err
tally_reserve_entry(struct xs_tally *t)
{
	if (t->n == t->room) {
		size_t room = t->room ? t->room * 2 : TALLY_FIRST_SLOTS / 2;
		struct xs_tally_entry *v = realloc(t->v, room * sizeof(*v));

		if (v == NULL) {
			return XSELL_ENOMEM;
		}
		t->v    = v;
		t->room = room;
	}
	return XSELL_OK;
}

/* Room for one more entry (and the slots at most half full after it). */
static xsell_err
tally_reserve(struct xs_tally *t)
{
	if ((t->n + 1) * 2 > t->cap) {
		xsell_err err = tally_grow_slots(t);

		if (err != XSELL_OK) {
			return err;
		}
	}
	return tally_reserve_entry(t);
}

/* Give the index back to its lender, every entry set zero again. */
static void
tally_return_index(struct xs_tally *t)
{
	if (t->index == NULL) {
		return;
	}
	for (size_t i = 0; i < t->n; i++) {
		t->index[t->v[i].item] = 0;
	}
	xs_store_index_give(t->index_st, t->index, t->index_cap);
	t->index     = NULL;
	t->index_cap = 0;
}

void
xs_tally_use_index(struct xs_tally *t, xs_store *st, size_t n)
{
	if (t->n == 0 && t->index == NULL) {
		t->index    = xs_store_index_take(st, n, &t->index_cap);
		t->index_st = st;
	}
}

struct xs_tally_entry *
xs_tally_add(struct xs_tally *t, uint32_t item)
{
	struct xs_tally_entry *e;
	size_t                 j;

	if (t->index != NULL && item >= t->index_cap) {
		tally_return_index(t); /* the hash table takes them all */
	}
	if (t->index != NULL) {
		if (tally_reserve_entry(t) != XSELL_OK) {
			return NULL;
		}
		e = &t->v[t->n++];
		memset(e, 0, sizeof(*e));
		e->item        = item;
		t->index[item] = (uint32_t) t->n;
		return e;
	}
	if (tally_reserve(t) != XSELL_OK) {
		return NULL;
	}
	j = xs_tally_slot_of(t, item);
	while (t->slots[j].index1 != 0) {
		j = (j + 1) & (t->cap - 1);
	}
	e = &t->v[t->n++];
	memset(e, 0, sizeof(*e));
	e->item            = item;
	t->slots[j].item   = item;
	t->slots[j].index1 = (uint32_t) t->n;
	return e;
}

void
xs_tally_settle(struct xs_tally *t)
{
	for (size_t i = 0; i < t->n; i++) {
		xs_tally_entry_settle(&t->v[i]);
	}
}

void
xs_tally_free(struct xs_tally *t)
{
	tally_return_index(t);
	free(t->slots);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* ==== The user ==== */

/* One item the user bought: when last, and in how many orders. */
struct bought_item {
	uint32_t item;
	uint32_t orders;
	int64_t  last_ts;
};

struct user_view {
	uint32_t            id;            /* 0: unknown */
	bool                bought_loaded; /* user_bought_load ran */
	struct bought_item *bought;        /* by item, malloc'd */
	size_t              n_bought, cap_bought;
	struct xs_cand_vec  rejected; /* for_you: scored <= 0 by the history */
};

static xsell_err
bought_cb(void *ctx, uint32_t item, int64_t ts, uint32_t count)
{
	struct user_view *u = ctx;

	if (u->n_bought == u->cap_bought) {
		size_t cap            = u->cap_bought ? u->cap_bought * 2 : 64;
		struct bought_item *b = realloc(u->bought, cap * sizeof(*b));

		if (b == NULL) {
			return XSELL_ENOMEM;
		}
		u->bought     = b;
		u->cap_bought = cap;
	}
	/* The store walks items ascending: the array stays sorted. */
	u->bought[u->n_bought].item    = item;
	u->bought[u->n_bought].orders  = count;
	u->bought[u->n_bought].last_ts = ts;
	u->n_bought++;
	return XSELL_OK;
}

/* The user's number into u (0: unknown); their bought set is read when
 * a pick needs it (user_bought_load). */
static xsell_err
user_view_load(xs_store *st, MDB_txn *txn, const struct xs_span *user,
    struct user_view *u)
{
	xsell_err err;

	memset(u, 0, sizeof(*u));
	err =
	    xs_store_id_get(st, txn, XS_DICT_USER, user->p, user->len, &u->id);
	if (err == XSELL_ENOENT) {
		u->id = 0;
		return XSELL_OK;
	}
	return err;
}

/* The user's bought set into u, once. Read only where used: a for_you
 * answer from the user's kept best candidates does not, and reading it
 * was a fifth of that answer's cost (bench/RESULTS.md, "A kept for_you
 * answer reads no bought set"). */
static xsell_err
user_bought_load(xs_store *st, MDB_txn *txn, struct user_view *u)
{
	if (u->bought_loaded || u->id == 0) {
		return XSELL_OK;
	}
	u->bought_loaded = true;
	return xs_store_bought_each(st, txn, u->id, bought_cb, u);
}

static void
user_view_free(struct user_view *u)
{
	free(u->bought);
	free(u->rejected.v);
}

static int
cmp_bought_item(const void *x, const void *y)
{
	const struct bought_item *p = x, *q = y;

	return p->item < q->item ? -1 : p->item > q->item;
}

/* The last purchase of 'item', or -1. */
static int64_t
last_bought(const struct user_view *u, uint32_t item)
{
	struct bought_item  key = { item, 0, 0 };
	struct bought_item *p   = u->n_bought == 0
	      ? NULL
	      : bsearch(
	            &key, u->bought, u->n_bought, sizeof(key), cmp_bought_item);

	return p == NULL ? -1 : p->last_ts;
}

/* ==== for_you ==== */

/* The weight of one history event, before decay. */
static double
event_weight(const struct xs_settings *set, const struct xs_hist_rec *ev)
{
	if (ev->type == XS_EV_RATING) {
		if (ev->value >= 4) {
			return set->pick_rating_high;
		}
		return ev->value <= 2 ? set->pick_rating_low : 0;
	}
	return ev->type < XS_EV_TYPE_COUNT ? set->pick_weight[ev->type] : 0;
}

struct taste_walk {
	const struct xs_settings *set;
	int64_t                   newest; /* the newest event's time */
	struct xs_cand_vec        w;      /* item -> weight (score) */
	struct xs_cand_vec        rated;  /* ratings, oldest first */
};

/* Each event's weight before decay, its time in aux (taste_decay). */
static xsell_err
taste_cb(void *ctx, const struct xs_hist_rec *ev)
{
	struct taste_walk *t = ctx;
	struct xs_cand     c = { 0 };

	c.item  = ev->item;
	c.score = event_weight(t->set, ev);
	c.aux   = (double) ev->ts;
	if (ev->ts > t->newest) {
		t->newest = ev->ts;
	}
	if (ev->type == XS_EV_RATING) {
		/* Kept even at weight 0: a 3 still replaces a 5 before it.
		 * group: its place in the walk, which is oldest first. */
		c.group = (uint32_t) t->rated.n;
		return xs_cand_vec_push(&t->rated, &c);
	}
	return c.score != 0 ? xs_cand_vec_push(&t->w, &c) : XSELL_OK;
}

/* The smallest factor taste_ref_time lets the answer be scaled by: far
 * from doubles' underflow, so that scaling loses no digits. */
#define TASTE_SCALE_MIN 0x1p-600

/* The time for_you decays a taste to: the user's newest event, so that
 * the taste and every score made from it are those of any later 'now'
 * scaled by one factor (the decay from there to 'now'), which is what
 * lets an answer kept for the user (picks_memo.c) serve every later
 * 'now'. 'now' itself when there is no event, when the newest is after
 * 'now' (an age below zero does not decay), or when the factor would
 * leave the range of doubles. */
static int64_t
taste_ref_time(const struct xs_settings *set, int64_t now, int64_t newest)
{
	if (newest == INT64_MIN || newest > now ||
	    decay((double) (now - newest), set->pick_half_life_days) <
	        TASTE_SCALE_MIN) {
		return now;
	}
	return newest;
}

/* The factor that turns scores decayed to 'ref' into those of 'now'. */
static double
taste_scale(const struct xs_settings *set, int64_t now, int64_t ref)
{
	return ref == now
	    ? 1.0
	    : decay((double) (now - ref), set->pick_half_life_days);
}

/* Decay each weight of 'v' (its time in aux) to time 'ref'; with
 * drop_zero, the weights that decay to 0 go. */
static void
taste_decay(const struct xs_settings *set, int64_t ref, struct xs_cand_vec *v,
    bool drop_zero)
{
	size_t kept = 0;

	for (size_t i = 0; i < v->n; i++) {
		struct xs_cand c = v->v[i];

		c.score *= decay((double) (ref - (int64_t) c.aux),
		    set->pick_half_life_days);
		c.aux = 0;
		if (!drop_zero || c.score != 0) {
			v->v[kept++] = c;
		}
	}
	v->n = kept;
}

static int
cmp_rating_item_then_place(const void *x, const void *y)
{
	const struct xs_cand *p = x, *q = y;

	if (p->item != q->item) {
		return p->item < q->item ? -1 : 1;
	}
	return p->group < q->group ? -1 : p->group > q->group;
}

/* A customer's rating of an item is their newest one: a 1 after a 5 is
 * a change of mind, not a second opinion to add to the first. Only
 * that rating joins the taste. */
static xsell_err
taste_add_newest_ratings(struct taste_walk *t)
{
	struct xs_cand_vec *r   = &t->rated;
	xsell_err           err = XSELL_OK;

	qsort(r->v, r->n, sizeof(*r->v), cmp_rating_item_then_place);
	for (size_t i = 0; i < r->n && err == XSELL_OK; i++) {
		bool newest =
		    i + 1 == r->n || r->v[i + 1].item != r->v[i].item;

		if (newest && r->v[i].score != 0) {
			r->v[i].group = 0;
			err           = xs_cand_vec_push(&t->w, &r->v[i]);
		}
	}
	return err;
}

/* The user's weight per item: history plus context, merged by item.
 * The history decays to *refp: 'now', or with to_newest
 * taste_ref_time's choice (a context item weighs as a fresh event, so
 * that it is only right at 'now'); the user's newest event (INT64_MIN:
 * none) in *newestp. */
static xsell_err
taste_load(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct xs_query *q, const struct user_view *u, bool to_newest,
    struct xs_cand_vec *out, int64_t *refp, int64_t *newestp)
{
	struct taste_walk t   = { set, INT64_MIN, { NULL, 0, 0 },
		  { NULL, 0, 0 } };
	int64_t           ref = q->now;
	xsell_err         err = XSELL_OK;

	if (u->id != 0) {
		err =
		    xs_store_history_each(st, txn, u->id, false, taste_cb, &t);
	}
	if (to_newest && q->n_context == 0) {
		ref = taste_ref_time(set, q->now, t.newest);
	}
	taste_decay(set, ref, &t.w, true);
	taste_decay(set, ref, &t.rated, false);
	if (err == XSELL_OK && t.rated.n != 0) {
		err = taste_add_newest_ratings(&t);
	}
	free(t.rated.v);
	for (uint32_t i = 0; i < q->n_context && err == XSELL_OK; i++) {
		struct xs_cand c = { 0 };

		if (xs_store_id_get(st, txn, XS_DICT_ITEM, q->context[i].p,
		        q->context[i].len, &c.item) != XSELL_OK) {
			continue; /* an unknown page item says nothing */
		}
		c.score = set->pick_context_weight;
		err     = xs_cand_vec_push(&t.w, &c);
	}
	if (err == XSELL_OK) {
		merge_by_item(&t.w);
	}
	*out     = t.w;
	*refp    = ref;
	*newestp = t.newest;
	return err;
}

static int
cmp_abs_weight(const void *x, const void *y)
{
	const struct xs_cand *p = x, *q = y;
	double                a = fabs(p->score), b = fabs(q->score);

	if (a != b) {
		return a > b ? -1 : 1;
	}
	return p->item < q->item ? -1 : p->item > q->item;
}

/* Candidates: the similar neighbours of the strongest taste items, and
 * the taste items themselves (their own weight), weighed by momentum. */
static xsell_err
for_you_candidates(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    struct xs_cand_vec *taste, struct xs_tally *out)
{
	struct xs_seed_walk sw;
	size_t              seeds;
	xsell_err           err = xs_seed_walk_init(&sw, st, txn);

	/* taste holds each item once (merged by item): a whole group. */
	for (size_t i = 0; i < taste->n && err == XSELL_OK; i++) {
		err = xs_tally_credit_whole(out, taste->v[i].item,
		    taste->v[i].score, taste->v[i].item);
	}
	if (taste->n != 0) {
		qsort(taste->v, taste->n, sizeof(*taste->v), cmp_abs_weight);
	}
	seeds =
	    taste->n < set->pick_seeds_max ? taste->n : set->pick_seeds_max;
	for (size_t s = 0; s < seeds && err == XSELL_OK; s++) {
		err = xs_similar_collect(st, txn, set, &sw, taste->v[s].item,
		    taste->v[s].score, out);
	}
	xs_seed_walk_fini(&sw);
	xs_tally_settle(out);
	if (err == XSELL_OK) {
		err = xs_tally_weigh_by_momentum(
		    st, txn, set, set->pick_momentum_weight, out);
	}
	return err;
}

/* Mark the tally's entries the user bought: a probe per bought item (a
 * user's few), not a search per candidate (thousands). */
static void
mark_bought(const struct user_view *u, struct xs_tally *t)
{
	for (size_t i = 0; i < u->n_bought; i++) {
		struct xs_tally_entry *e = xs_tally_find(t, u->bought[i].item);

		/* As last_bought: a purchase before 1970 counts as none. */
		if (e != NULL && u->bought[i].last_ts >= 0) {
			e->bought = 1;
		}
	}
}

/* The candidate of a settled tally entry (score, and the seed that gave
 * most of it as why.because and share). */
static void
cand_of_entry(const struct xs_tally_entry *e, struct xs_cand *c)
{
	memset(c, 0, sizeof(*c));
	c->item        = e->item;
	c->score       = e->score;
	c->share       = e->share;
	c->why.because = e->because;
}

/* Items the history scored at or below zero go to u->rejected: trending
 * must not bring them back either. */
static xsell_err
for_you_rejected(struct user_view *u, const struct xs_tally *t)
{
	xsell_err err = XSELL_OK;

	for (size_t i = 0; i < t->n && err == XSELL_OK; i++) {
		if (t->v[i].score <= 0) {
			struct xs_cand c;

			cand_of_entry(&t->v[i], &c);
			err = xs_cand_vec_push(&u->rejected, &c);
		}
	}
	return err;
}

/* Whether the ranking may see tally entry e: with a candidate list, the
 * listed ones, scored or not; else those the user did not buy with a
 * positive score. */
static bool
for_you_keeps(const struct xs_query *q, const struct xs_rank_ids *ids,
    const struct xs_tally_entry *e)
{
	if (q->n_candidates != 0) {
		return xs_u32_contains(ids->given, ids->n_given, e->item);
	}
	return !e->bought && e->score > 0;
}

/* Into 'vec' (empty), the candidates of the tally that the ranking may
 * see and that score at least 'cut', marked as coming from the history.
 * The vector grows with what is kept (a few dozen past a cut), not with
 * the tally's thousands. */
static xsell_err
for_you_keep(const struct xs_query *q, const struct xs_rank_ids *ids,
    const struct xs_tally *t, double cut, struct xs_cand_vec *vec)
{
	xsell_err err = XSELL_OK;

	for (size_t i = 0; i < t->n && err == XSELL_OK; i++) {
		const struct xs_tally_entry *e = &t->v[i];

		if (e->score >= cut && for_you_keeps(q, ids, e)) {
			struct xs_cand c;

			cand_of_entry(e, &c);
			c.why.source = XS_SOURCE_HISTORY;
			err          = xs_cand_vec_push(vec, &c);
		}
	}
	return err;
}

/* The score of the want-th best candidate for_you_keep would keep
 * without a cut, or -INFINITY when it keeps no more than 'want' (or a
 * candidate list is given: then every one is ranked). Ranking sorts
 * only its best few anyway (rank.c); making the thousands of others
 * into candidates first was a tenth of a for_you answer. NaN when out
 * of memory. */
static double
for_you_cut(const struct xs_query *q, const struct xs_rank_ids *ids,
    const struct xs_tally *t, size_t want)
{
	double *s;
	size_t  n = 0;
	double  cut;

	if (q->n_candidates != 0 || t->n <= want) {
		return -INFINITY;
	}
	s = malloc(t->n * sizeof(*s));
	if (s == NULL) {
		return NAN;
	}
	for (size_t i = 0; i < t->n; i++) {
		if (for_you_keeps(q, ids, &t->v[i])) {
			s[n++] = t->v[i].score;
		}
	}
	cut = n > want ? xs_nth_largest(s, n, want) : -INFINITY;
	free(s);
	return cut;
}

/* With a candidate list every candidate is ranked, scored or not. */
static xsell_err
add_unscored_candidates(const struct xs_rank_ids *ids, struct xs_cand_vec *vec)
{
	size_t    have = vec->n;
	xsell_err err  = XSELL_OK;

	if (have > 1) {
		qsort(vec->v, have, sizeof(*vec->v), cmp_cand_item);
	}
	for (size_t g = 0; g < ids->n_given && err == XSELL_OK; g++) {
		struct xs_cand key = { 0 }, c = { 0 };

		key.item = ids->given[g];
		if (have != 0 &&
		    bsearch(&key, vec->v, have, sizeof(key), cmp_cand_item) !=
		        NULL) {
			continue;
		}
		c.item       = ids->given[g];
		c.why.source = XS_SOURCE_HISTORY;
		err          = xs_cand_vec_push(vec, &c);
	}
	return err;
}

/* One round of for_you's ranking: the tally's candidates at or above
 * the want-th best score (all when there are no more; with a candidate
 * list, every listed one) ranked into 'ans'; the cut taken in *cutp. */
static xsell_err
for_you_rank_round(xs_store *st, MDB_txn *txn, const struct xs_query *q,
    const struct xs_rank_ids *ids, const struct xs_tally *tally, size_t want,
    struct xs_arena *arena, struct xs_answer *ans, double *cutp)
{
	struct xs_cand_vec out = { 0 };
	double             cut = for_you_cut(q, ids, tally, want);
	xsell_err          err;

	*cutp = cut;
	if (isnan(cut)) {
		return XSELL_ENOMEM;
	}
	err = for_you_keep(q, ids, tally, cut, &out);
	if (err == XSELL_OK && q->n_candidates != 0) {
		err = add_unscored_candidates(ids, &out);
	}
	if (err == XSELL_OK) {
		err = xs_rank_top(st, txn, q, ids->excluded, ids->n_excluded,
		    out.v, out.n, arena, ans);
	}
	free(out.v);
	return err;
}

/* One round of for_you's ranking from its best candidates: those at or
 * above the cut for the 'want' best ranked into 'ans', the cut in
 * *cutp. *cutp NaN: b cannot tell the cut (the tally can). */
static xsell_err
for_you_rank_best(xs_store *st, MDB_txn *txn, const struct xs_query *q,
    const struct xs_rank_ids *ids, const struct xs_fy_best *b, size_t want,
    struct xs_arena *arena, struct xs_answer *ans, double *cutp)
{
	struct xs_cand_vec out = { 0 };
	double             cut;
	xsell_err          err = XSELL_OK;

	if (!xs_fy_best_cut(b, want, &cut)) {
		*cutp = NAN;
		return XSELL_OK;
	}
	*cutp = cut;
	for (size_t i = 0;
	     i < b->n_best && b->best[i].score >= cut && err == XSELL_OK;
	     i++) {
		struct xs_cand c = { 0 };

		c.item        = b->best[i].item;
		c.score       = b->best[i].score;
		c.why.because = b->best[i].because;
		c.why.source  = XS_SOURCE_HISTORY;
		err           = xs_cand_vec_push(&out, &c);
	}
	/* b's best are sorted by score already: nothing to select first. */
	if (err == XSELL_OK) {
		err = xs_rank_select(st, txn, q, ids->excluded,
		    ids->n_excluded, out.v, out.n, arena, ans);
	}
	free(out.v);
	return err;
}

/* for_you's rounds of ranking, from the best candidates 'b' when given
 * (else, or when they cannot tell a round's cut, from the whole tally):
 * every candidate at or above the cut is ranked, so runs of equal scores
 * are whole; if the filter leaves fewer than k of them, four times as
 * many, until all were. The answer is the one ranking every candidate
 * would give: whatever it leaves out scores below all it holds. *fullp
 * false when b could not tell a cut (nothing ranked then is kept). */
static xsell_err
for_you_rank(xs_store *st, MDB_txn *txn, const struct xs_query *q,
    const struct xs_rank_ids *ids, const struct xs_fy_best *b,
    const struct xs_tally *tally, struct xs_arena *arena,
    struct xs_answer *ans, bool *fullp)
{
	size_t    want = (size_t) q->k + XS_FOR_YOU_FIRST_EXTRA;
	double    cut  = -INFINITY;
	xsell_err err  = XSELL_OK;

	*fullp = true;
	for (;;) {
		if (b != NULL) {
			err = for_you_rank_best(
			    st, txn, q, ids, b, want, arena, ans, &cut);
		}
		if (err == XSELL_OK && (b == NULL || isnan(cut))) {
			if (tally == NULL) {
				*fullp = false;
				return XSELL_OK;
			}
			b   = NULL;
			err = for_you_rank_round(
			    st, txn, q, ids, tally, want, arena, ans, &cut);
		}
		if (err != XSELL_OK || ans->n == q->k || cut == -INFINITY) {
			return err;
		}
		want *= 4;
	}
}

/* Whether an answer for q may be kept for its user and served to the
 * next: not when the page's items weigh in or a candidate list is
 * ranked (those ask once), nor in a write transaction (its state is not
 * committed: nothing is kept, and it is not an ask worth counting). */
static bool
for_you_keepable(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct xs_query *q, const struct user_view *u)
{
	return set->pick_keep_answers && u->id != 0 && q->n_context == 0 &&
	    q->n_candidates == 0 && xs_store_memo_kept(st, txn);
}

/* for_you's tally for q, settled, with the bought marked and the
 * rejected listed in u; the taste's newest event and the time it was
 * decayed to in *newestp, *refp. */
static xsell_err
for_you_tally(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct xs_query *q, struct user_view *u, struct xs_tally *tally,
    int64_t *newestp, int64_t *refp)
{
	struct xs_cand_vec taste = { 0 };
	uint32_t           items;
	xsell_err          err;

	/* Thousands of credits: each finds its candidate by item number. */
	if (xs_store_dict_size(st, txn, XS_DICT_ITEM, &items) == XSELL_OK) {
		xs_tally_use_index(tally, st, (size_t) items + 1);
	}
	err = user_bought_load(st, txn, u);
	if (err == XSELL_OK) {
		err = taste_load(
		    st, txn, set, q, u, true, &taste, refp, newestp);
	}
	if (err == XSELL_OK) {
		err = for_you_candidates(st, txn, set, &taste, tally);
	}
	free(taste.v);
	if (err == XSELL_OK) {
		mark_bought(u, tally);
		err = for_you_rejected(u, tally);
	}
	return err;
}

/* The user's rejected items, from kept best candidates. */
static xsell_err
rejected_of_best(const struct xs_fy_best *b, struct user_view *u)
{
	xsell_err err = XSELL_OK;

	for (size_t i = 0; i < b->n_rejected && err == XSELL_OK; i++) {
		struct xs_cand c = { 0 };

		c.item = b->rejected[i];
		err    = xs_cand_vec_push(&u->rejected, &c);
	}
	return err;
}

/* The answer's scores, decayed to the taste's time 'ref', as of q->now
 * (taste_ref_time). */
static void
for_you_rescale(const struct xs_settings *set, const struct xs_query *q,
    int64_t ref, struct xs_answer *ans)
{
	double f = taste_scale(set, q->now, ref);

	for (uint32_t i = 0; i < ans->n && f != 1.0; i++) {
		ans->recs[i].score *= f;
	}
}

/* for_you from the user's kept best candidates, if there are any for
 * this snapshot, settings, history (of tag 'tag') and q->now that tell
 * the whole answer: *donep then. */
static xsell_err
for_you_from_kept(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct xs_query *q, struct user_view *u,
    const struct xs_hist_tag *tag, const struct xs_rank_ids *ids,
    struct xs_arena *arena, struct xs_answer *ans, bool *donep)
{
	struct xs_fy_best b;
	xsell_err         err = XSELL_OK;

	*donep = false;
	if (!xs_fy_best_hold(st, txn, set, u->id, tag, &b)) {
		return XSELL_OK;
	}
	if (b.ref == taste_ref_time(set, q->now, b.newest)) {
		err =
		    for_you_rank(st, txn, q, ids, &b, NULL, arena, ans, donep);
	}
	if (err == XSELL_OK && *donep) {
		err = rejected_of_best(&b, u);
		for_you_rescale(set, q, b.ref, ans);
	}
	xs_fy_best_free(&b);
	return err;
}

/* How many of a new tally's best candidates to keep for the user's next
 * answers. A user's first ask keeps what its ranking reads anyway, the
 * first round's k + 32 (and their ties): enough for the next answer at
 * the same k, unless a filter leaves out more than 32 of them. A user
 * asked again in the same counts keeps the best 168, enough for two
 * rounds. Picking 168 cost more than ranking's first 42 (a tenth of an
 * answer where most users are asked once, as in a mail run), so only
 * a user asked before pays for it. */
static size_t
for_you_kept_want(xs_store *st, MDB_txn *txn, const struct xs_query *q,
    const struct user_view *u)
{
	size_t first = (size_t) q->k + XS_FOR_YOU_FIRST_EXTRA;

	if (!xs_store_user_asked_before(st, txn, u->id)) {
		return first;
	}
	return first > XS_FOR_YOU_KEPT ? first : XS_FOR_YOU_KEPT;
}

/* for_you, ranked into 'ans': from the user's best candidates kept
 * while the counts and their history stand, or from a new tally (its
 * best then kept for the next answer: for_you_kept_want). The
 * taste decays to the user's newest event (taste_load) and the answer's
 * scores are scaled to q->now, so that both ways give the same bits. */
static xsell_err
pick_for_you(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct xs_query *q, struct user_view *u,
    const struct xs_rank_ids *ids, struct xs_arena *arena,
    struct xs_answer *ans)
{
	struct xs_tally    tally = { 0 };
	struct xs_fy_best  b;
	struct xs_hist_tag tag;
	bool      keep = for_you_keepable(st, txn, set, q, u), full = true;
	int64_t   newest, ref;
	xsell_err err = XSELL_OK;

	/* No tag (a fresh build holds the user): nothing kept or read. */
	keep = keep && xs_store_history_tag(st, txn, u->id, &tag) == XSELL_OK;
	if (keep) {
		err = for_you_from_kept(
		    st, txn, set, q, u, &tag, ids, arena, ans, &full);
		if (err != XSELL_OK || full) {
			return err;
		}
	}
	err = for_you_tally(st, txn, set, q, u, &tally, &newest, &ref);
	memset(&b, 0, sizeof(b));
	if (err == XSELL_OK && keep) {
		double cut = for_you_cut(
		    q, ids, &tally, for_you_kept_want(st, txn, q, u));

		err = isnan(cut)
		    ? XSELL_ENOMEM
		    : xs_fy_best_make(&tally, cut, newest, ref, &b);
	}
	if (err == XSELL_OK) {
		err = for_you_rank(st, txn, q, ids, keep ? &b : NULL, &tally,
		    arena, ans, &full);
	}
	if (err == XSELL_OK) {
		for_you_rescale(set, q, ref, ans);
		if (keep) {
			xs_fy_best_put(st, txn, set, u->id, &tag, &b);
		}
	}
	xs_fy_best_free(&b);
	xs_tally_free(&tally);
	return err;
}

/* ==== abandoned_cart ==== */

/* When the user last ordered or removed an item: the cart goes by time,
 * and an add that arrived after those and is dated before them (a load
 * of the orders, then of the events) had left the cart by then, though
 * the cart kept it (its relations count it as in the cart). */
struct cart_exit {
	uint32_t item;
	int64_t  ts;
};

struct cart_exits {
	struct cart_exit *v; /* malloc'd; by item, each once, its latest */
	size_t            n, cap;
};

static xsell_err
cart_exit_cb(void *ctx, const struct xs_hist_rec *ev)
{
	struct cart_exits *x = ctx;

	if (ev->type != XS_EV_ORDER && ev->type != XS_EV_CART_REMOVE) {
		return XSELL_OK;
	}
	if (x->n == x->cap) {
		size_t            cap = x->cap ? x->cap * 2 : 32;
		struct cart_exit *v   = realloc(x->v, cap * sizeof(*v));

		if (v == NULL) {
			return XSELL_ENOMEM;
		}
		x->v   = v;
		x->cap = cap;
	}
	x->v[x->n].item = ev->item;
	x->v[x->n].ts   = ev->ts;
	x->n++;
	return XSELL_OK;
}

static int
cmp_cart_exit(const void *p, const void *q)
{
	const struct cart_exit *a = p, *b = q;

	if (a->item != b->item) {
		return a->item < b->item ? -1 : 1;
	}
	return a->ts > b->ts ? -1 : a->ts < b->ts; /* the latest first */
}

/* The user's orders and removals from the history, the latest per item. */
static xsell_err
cart_exits_load(
    xs_store *st, MDB_txn *txn, uint32_t user, struct cart_exits *x)
{
	xsell_err err =
	    xs_store_history_each(st, txn, user, false, cart_exit_cb, x);
	size_t u = 0;

	if (err != XSELL_OK || x->n == 0) {
		return err;
	}
	qsort(x->v, x->n, sizeof(*x->v), cmp_cart_exit);
	for (size_t i = 0; i < x->n; i++) {
		if (u == 0 || x->v[u - 1].item != x->v[i].item) {
			x->v[u++] = x->v[i];
		}
	}
	x->n = u;
	return XSELL_OK;
}

static int
cmp_cart_item(const void *p, const void *q)
{
	const struct cart_exit *a = p, *b = q;

	return a->item < b->item ? -1 : a->item > b->item;
}

/* Did the item added at 'added' leave the cart at or after it? */
static bool
cart_exited(const struct cart_exits *x, uint32_t item, int64_t added)
{
	struct cart_exit  key = { item, 0 };
	struct cart_exit *e   = x->n == 0
	      ? NULL
	      : bsearch(&key, x->v, x->n, sizeof(key), cmp_cart_item);

	return e != NULL && e->ts >= added;
}

struct cart_pick {
	const struct xs_query   *q;
	int64_t                  min_age, max_age;
	const struct cart_exits *exits;
	struct xs_cand_vec      *out;
};

static xsell_err
cart_pick_cb(void *ctx, uint32_t item, int64_t added, uint32_t count)
{
	struct cart_pick *c   = ctx;
	int64_t           age = c->q->now - added;
	struct xs_cand    x   = { 0 };

	(void) count;
	/* An add after now (a clock behind the events') is one just made:
	 * age 0, as every age of picks. */
	if (age < 0) {
		age = 0;
	}
	if (age < c->min_age || age > c->max_age ||
	    cart_exited(c->exits, item, added)) {
		return XSELL_OK;
	}
	x.item       = item;
	x.score      = decay((double) age, 7.0); /* the newest first */
	x.why.source = XS_SOURCE_CART;
	return xs_cand_vec_push(c->out, &x);
}

static xsell_err
pick_abandoned_cart(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct xs_query *q, const struct user_view *u,
    struct xs_cand_vec *out)
{
	struct cart_exits exits = { NULL, 0, 0 };
	struct cart_pick  c     = { q, set->abandoned_min_age_s,
		     set->abandoned_max_age_s, &exits, out };
	xsell_err         err;

	if (q->has_min_age) {
		c.min_age = q->min_age_s;
	}
	if (q->has_max_age) {
		c.max_age = q->max_age_s;
	}
	if (u->id == 0) {
		return XSELL_OK;
	}
	err = cart_exits_load(st, txn, u->id, &exits);
	if (err == XSELL_OK) {
		err = xs_store_cart_each(st, txn, u->id, cart_pick_cb, &c);
	}
	free(exits.v);
	return err;
}

/* ==== back_in_stock ==== */

struct stock_pick {
	xs_store               *st;
	MDB_txn                *txn;
	const struct xs_query  *q;
	const struct user_view *u;
	int64_t                 since;
	struct xs_cand_vec     *out;
};

static xsell_err
stock_pick_cb(void *ctx, const struct xs_hist_rec *ev)
{
	struct stock_pick  *s = ctx;
	struct xs_item_meta m;
	struct xs_cand      c = { 0 };
	xsell_err           err;

	if (ev->ts < s->since) {
		return XSELL_ENOENT; /* newest first: the rest is older */
	}
	if (!(ev->flags & XS_HIST_OUT_OF_STOCK) ||
	    (ev->type != XS_EV_VIEW && ev->type != XS_EV_CART_ADD) ||
	    last_bought(s->u, ev->item) >= ev->ts) {
		return XSELL_OK;
	}
	err = xs_store_meta_get(s->st, s->txn, ev->item, &m);
	if (err != XSELL_OK && err != XSELL_ENOENT) {
		return err;
	}
	if (!m.in_stock || m.stock_ts < ev->ts) {
		return XSELL_OK;
	}
	/* An item viewed twice while out of stock is one pick. */
	for (size_t i = 0; i < s->out->n; i++) {
		if (s->out->v[i].item == ev->item) {
			return XSELL_OK;
		}
	}
	c.item       = ev->item;
	c.score      = decay((double) (s->q->now - m.stock_ts), 7.0);
	c.why.source = XS_SOURCE_VIEWED;
	return xs_cand_vec_push(s->out, &c);
}

static xsell_err
pick_back_in_stock(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct xs_query *q, const struct user_view *u,
    struct xs_cand_vec *out)
{
	unsigned          days = q->has_days ? q->days : set->pick_days;
	struct stock_pick s = { st, txn, q, u, q->now - (int64_t) days * 86400,
		out };
	xsell_err         err;

	if (u->id == 0) {
		return XSELL_OK;
	}
	err = xs_store_history_each(st, txn, u->id, true, stock_pick_cb, &s);
	return err == XSELL_ENOENT ? XSELL_OK : err;
}

/* ==== new_arrivals ==== */

struct new_walk {
	struct xs_cand_vec *out;
};

static xsell_err
new_item_cb(void *ctx, uint32_t item, uint32_t count)
{
	struct new_walk *w = ctx;
	struct xs_cand   c = { 0 };

	(void) count;
	c.item       = item;
	c.why.source = XS_SOURCE_NEW;
	return xs_cand_vec_push(w->out, &c);
}

/* Share of the user's positive taste per category: of all of it, taste
 * in items without a category too, so that a share is the fit picks.md
 * describes (a user whose taste is half uncategorised fits a category
 * at most half). */
struct cat_share {
	uint32_t cat;
	double   w;
};

static xsell_err
taste_by_category(xs_store *st, MDB_txn *txn, const struct xs_cand_vec *taste,
    struct cat_share **sharesp, size_t *np)
{
	struct cat_share *s     = calloc(taste->n + 1, sizeof(*s));
	double            total = 0;
	size_t            n     = 0;

	if (s == NULL) {
		return XSELL_ENOMEM;
	}
	for (size_t i = 0; i < taste->n; i++) {
		struct xs_item_meta m;
		xsell_err           err =
		    xs_store_meta_get(st, txn, taste->v[i].item, &m);
		size_t j;

		if (err != XSELL_OK && err != XSELL_ENOENT) {
			free(s);
			return err;
		}
		if (taste->v[i].score <= 0) {
			continue;
		}
		total += taste->v[i].score;
		if (m.category == 0) {
			continue;
		}
		for (j = 0; j < n && s[j].cat != m.category; j++) { }
		if (j == n) {
			s[n++].cat = m.category;
		}
		s[j].w += taste->v[i].score;
	}
	for (size_t j = 0; j < n; j++) {
		s[j].w /= total;
	}
	*sharesp = s;
	*np      = n;
	return XSELL_OK;
}

static xsell_err
pick_new_arrivals(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct xs_query *q, const struct user_view *u,
    struct xs_cand_vec *out)
{
	unsigned                days  = q->has_days ? q->days : set->pick_days;
	uint32_t                today = xs_day_of(q->now);
	struct new_walk         w     = { out };
	struct xs_cand_vec      taste = { 0 };
	struct cat_share       *shares = NULL;
	struct xs_counts_reader counts;
	size_t                  n_shares = 0, kept = 0;
	int64_t                 ref, newest; /* 'now', and unused */
	xsell_err               err = XSELL_OK;

	for (uint32_t age = 0; age <= days && age <= today && err == XSELL_OK;
	     age++) {
		err = xs_store_pairs_each(
		    st, txn, XS_REL_CREATED, today - age, new_item_cb, &w);
	}
	if (err == XSELL_OK) {
		err = taste_load(
		    st, txn, set, q, u, false, &taste, &ref, &newest);
	}
	if (err == XSELL_OK) {
		err = taste_by_category(st, txn, &taste, &shares, &n_shares);
	}
	xs_counts_reader_init(&counts, st, txn);
	for (size_t i = 0; i < out->n && err == XSELL_OK; i++) {
		struct xs_cand     *c = &out->v[i];
		struct xs_item_meta m;
		double              pop, fit = 0;

		err = xs_store_meta_get(st, txn, c->item, &m);
		if (err == XSELL_ENOENT) {
			err = XSELL_OK;
		}
		if (m.created > q->now || last_bought(u, c->item) >= 0) {
			continue; /* not arrived yet, or theirs already */
		}
		for (size_t j = 0; j < n_shares; j++) {
			if (shares[j].cat == m.category && m.category != 0) {
				fit = shares[j].w;
			}
		}
		/* Early popularity, squashed into 0..1. */
		pop = xs_counts_reader_get(&counts, c->item, XS_C_BASKETS) +
		    0.1 * xs_counts_reader_get(&counts, c->item, XS_C_VIEWS);
		c->score       = fit + pop / (pop + 10.0);
		c->count       = (uint64_t) pop;
		out->v[kept++] = *c;
	}
	xs_counts_reader_fini(&counts);
	out->n = kept;
	free(taste.v);
	free(shares);
	return err;
}

/* ==== buy_again ==== */

static xsell_err
pick_buy_again(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct xs_query *q, const struct user_view *u,
    struct xs_cand_vec *out)
{
	struct xs_counts_reader counts;
	xsell_err               err = XSELL_OK;

	xs_counts_reader_init(&counts, st, txn);
	for (size_t i = 0; i < u->n_bought && err == XSELL_OK; i++) {
		uint32_t item = u->bought[i].item;
		double   rebuys =
		    xs_counts_reader_get(&counts, item, XS_C_REBUYS);
		double buyers =
		    xs_counts_reader_get(&counts, item, XS_C_BUYERS);
		double days =
		    xs_counts_reader_get(&counts, item, XS_C_REBUY_DAYS);
		/* A purchase at or after now (a clock behind the events')
		 * is one just made: age 0, as every age of picks. */
		double since =
		    fmax((double) (q->now - u->bought[i].last_ts), 0) / DAY_S;
		double         interval, rate, due, w;
		struct xs_cand c = { 0 };

		if (rebuys == 0 || buyers == 0) {
			continue; /* nobody buys it twice */
		}
		interval = fmax(days / rebuys, 1.0);
		if (since < set->buy_again_due_share * interval) {
			continue; /* not due yet */
		}
		rate = fmin(rebuys / buyers, 1.0);
		due  = fmin(since / interval, 1.0);
		w    = set->buy_again_not_due_weight +
		    (1 - set->buy_again_not_due_weight) * due;
		c.item  = item;
		c.score = u->bought[i].orders *
		    (set->buy_again_rate_floor + rate) * w;
		c.count      = (uint64_t) rebuys;
		c.why.source = XS_SOURCE_BOUGHT;
		err          = xs_cand_vec_push(out, &c);
	}
	xs_counts_reader_fini(&counts);
	return err;
}

/* ==== The answer ==== */

/* The categories of the answer's items (0: none), in q->taken_cats
 * (from the arena), for a ranking that continues it under
 * max_per_category. */
static xsell_err
answer_categories(xs_store *st, MDB_txn *txn, const struct xs_answer *ans,
    struct xs_arena *arena, struct xs_query *q)
{
	uint32_t *cats = xs_arena_calloc(arena, ans->n + 1, sizeof(*cats));

	if (cats == NULL) {
		return XSELL_ENOMEM;
	}
	for (uint32_t i = 0; i < ans->n; i++) {
		struct xs_item_meta m;
		xsell_err           err =
		    xs_store_meta_get(st, txn, ans->recs[i].item, &m);

		if (err != XSELL_OK && err != XSELL_ENOENT) {
			return err;
		}
		cats[i] = m.category;
	}
	q->taken_cats   = cats;
	q->n_taken_cats = ans->n;
	return XSELL_OK;
}

/* What the trending fill leaves out: what the user bought or rejected,
 * and what the answer holds already. */
struct fill_keep {
	const struct user_view *u;
	const struct xs_answer *ans;
};

static xsell_err
fill_keeps(void *ctx, uint32_t item, bool *keepp)
{
	const struct fill_keep *f     = ctx;
	bool                    taken = last_bought(f->u, item) >= 0;

	for (size_t j = 0; j < f->u->rejected.n && !taken; j++) {
		taken = f->u->rejected.v[j].item == item;
	}
	for (uint32_t j = 0; j < f->ans->n && !taken; j++) {
		taken = f->ans->recs[j].item == item;
	}
	*keepp = !taken;
	return XSELL_OK;
}

/* Fill the rest of the answer with trending items not in it already and
 * not bought. */
static xsell_err
fill_with_trending(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct xs_query *q, const struct user_view *u,
    const struct xs_rank_ids *ids, struct xs_arena *arena,
    struct xs_answer *ans)
{
	struct xs_query      q2   = *q;
	struct fill_keep     keep = { u, ans };
	struct xs_trend_list trend;
	struct xs_answer     more;
	struct xs_rec       *recs;
	xsell_err            err;

	err = xs_model_trend_list(
	    st, txn, set, set->trend_half_life_days, &trend);
	q2.k = q->k - ans->n;
	if (err == XSELL_OK && q->filter.max_per_category != 0) {
		/* The cap is the whole answer's, not the fill's alone. */
		err = answer_categories(st, txn, ans, arena, &q2);
	}
	memset(&more, 0, sizeof(more));
	if (err == XSELL_OK) {
		err = xs_trend_rank(st, txn, &q2, ids->excluded,
		    ids->n_excluded, &trend, fill_keeps, &keep, arena, &more);
	}
	xs_model_trend_list_free(&trend);
	if (err != XSELL_OK || more.n == 0) {
		return err;
	}
	recs = xs_arena_calloc(arena, ans->n + more.n, sizeof(*recs));
	if (recs == NULL) {
		return XSELL_ENOMEM;
	}
	if (ans->n != 0) {
		memcpy(recs, ans->recs, ans->n * sizeof(*recs));
	}
	memcpy(recs + ans->n, more.recs, more.n * sizeof(*recs));
	ans->recs = recs;
	ans->n += more.n;
	return XSELL_OK;
}

/* The external id of recs[i]'s 'because' item if an earlier record has
 * the same one: most of an answer comes from a few seeds. */
static bool
because_named_before(struct xs_rec *recs, uint32_t i)
{
	struct xs_why *w = &recs[i].why;

	for (uint32_t j = 0; j < i; j++) {
		if (recs[j].why.because == w->because) {
			w->because_ext = recs[j].why.because_ext;
			w->because_len = recs[j].why.because_len;
			return true;
		}
	}
	return false;
}

/* The external ids of the 'because' items of the answer. */
static xsell_err
name_because(xs_store *st, MDB_txn *txn, struct xs_answer *ans)
{
	xsell_err err = XSELL_OK;

	for (uint32_t i = 0; i < ans->n && err == XSELL_OK; i++) {
		struct xs_why *w = &ans->recs[i].why;

		if (w->because != 0 && !because_named_before(ans->recs, i)) {
			err = xs_store_ext_get(st, txn, XS_DICT_ITEM,
			    w->because, &w->because_ext, &w->because_len);
		}
	}
	return err;
}

/* The answer of q's kind, ranked into 'ans'. */
static xsell_err
pick_ranked(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct xs_query *q, struct user_view *u,
    const struct xs_rank_ids *ids, struct xs_arena *arena,
    struct xs_answer *ans)
{
	struct xs_cand_vec out = { 0 };
	xsell_err          err;

	/* back_in_stock, new_arrivals and buy_again read the bought set;
	 * for_you reads it only when it tallies. */
	if (q->kind != XS_PICK_FOR_YOU && q->kind != XS_PICK_ABANDONED_CART) {
		err = user_bought_load(st, txn, u);
		if (err != XSELL_OK) {
			return err;
		}
	}
	switch (q->kind) {
	case XS_PICK_ABANDONED_CART:
		err = pick_abandoned_cart(st, txn, set, q, u, &out);
		break;
	case XS_PICK_BACK_IN_STOCK:
		err = pick_back_in_stock(st, txn, set, q, u, &out);
		break;
	case XS_PICK_NEW_ARRIVALS:
		err = pick_new_arrivals(st, txn, set, q, u, &out);
		break;
	case XS_PICK_BUY_AGAIN:
		err = pick_buy_again(st, txn, set, q, u, &out);
		break;
	default: /* for_you ranks only its best few */
		return pick_for_you(st, txn, set, q, u, ids, arena, ans);
	}
	if (err == XSELL_OK) {
		err = xs_rank_top(st, txn, q, ids->excluded, ids->n_excluded,
		    out.v, out.n, arena, ans);
	}
	free(out.v);
	return err;
}

xsell_err
xs_model_picks(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct xs_query *q, struct xs_arena *arena, struct xs_answer *ans)
{
	struct xs_query    qc = *q;
	struct user_view   u;
	struct xs_rank_ids ids;
	xsell_err          err;

	/* The candidate list plays the part of the given items: resolved,
	 * unknown ones listed. */
	qc.items          = q->candidates;
	qc.n_items        = q->n_candidates;
	err               = xs_rank_resolve(st, txn, &qc, arena, &ids, ans);
	ans->unknown_of   = q->candidates;
	ans->n_unknown_of = q->n_candidates;
	if (err == XSELL_OK) {
		err = user_view_load(st, txn, &q->user, &u);
	}
	if (err != XSELL_OK) {
		return err;
	}
	err = pick_ranked(st, txn, set, q, &u, &ids, arena, ans);
	if (err == XSELL_OK && q->kind == XS_PICK_FOR_YOU &&
	    q->n_candidates == 0 && ans->n < q->k) {
		err = user_bought_load(st, txn, &u);
		if (err == XSELL_OK) {
			err = fill_with_trending(
			    st, txn, set, q, &u, &ids, arena, ans);
		}
	}
	if (err == XSELL_OK) {
		err = name_because(st, txn, ans);
	}
	user_view_free(&u);
	return err;
}
