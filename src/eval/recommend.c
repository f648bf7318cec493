/* SPDX-License-Identifier: MIT */
/* Recommenders: a query -> a ranked list of eval ids. The engine's
 * answers are called exactly as xselld calls them (same structs, same
 * read transaction kind, the default filter); the baselines answer the
 * same queries from the training counts alone.
 *
 * A new engine answer (similar, picks, trending...) is one more function
 * here of the same shape as xs_eval_rec_fbt. */
#include "eval/eval_impl.h"

#include <string.h>

/* The query's given items as spans, for the engine. */
static void
given_spans(struct xs_eval_ctx *c, const struct xs_eval_qset *qs,
    const struct xs_eval_query *q, struct xs_query *xq)
{
	for (uint32_t i = 0; i < q->n_given; i++) {
		c->spans[i] =
		    xs_eval_data_item_ext(c->d, qs->ids[q->given_off + i]);
	}
	memset(xq, 0, sizeof(*xq));
	xq->items           = c->spans;
	xq->n_items         = q->n_given;
	xq->k               = c->o->k;
	xq->filter.in_stock = true;
}

/* The engine's answer -> eval ids (every returned item was trained, so
 * every one has an eval id). */
static void
answer_ids(struct xs_eval_ctx *c, const struct xs_answer *ans, uint32_t *out,
    size_t *np)
{
	size_t n = 0;

	for (uint32_t i = 0; i < ans->n && n < c->o->k; i++) {
		uint32_t id;

		if (xs_eval_data_item_find(
		        c->d, ans->recs[i].ext, ans->recs[i].ext_len, &id)) {
			out[n++] = id;
		}
	}
	*np = n;
}

/* A list answer of the engine ('answer', one of xs_model_fbt and its
 * kin) to query xq, as eval ids. */
typedef xsell_err (*model_answer_fn)(xs_store *, MDB_txn *,
    const struct xs_settings *, const struct xs_query *, struct xs_arena *,
    struct xs_answer *);

static xsell_err
ask_model(struct xs_eval_ctx *c, model_answer_fn answer,
    const struct xs_settings *set, const struct xs_query *xq, uint32_t *out,
    size_t *np)
{
	struct xs_answer ans;
	xsell_err        err = answer(c->st, c->txn, set, xq, &c->arena, &ans);

	if (err == XSELL_OK) {
		answer_ids(c, &ans, out, np);
	}
	return err;
}

xsell_err
xs_eval_rec_fbt(struct xs_eval_ctx *c, const struct xs_eval_config *cfg,
    const struct xs_eval_qset *qs, const struct xs_eval_query *q,
    uint32_t *out, size_t *np)
{
	struct xs_query xq;

	given_spans(c, qs, q, &xq);
	xq.scorer      = cfg->scorer;
	xq.min_support = cfg->min_support;
	return ask_model(c, xs_model_fbt, &c->o->settings, &xq, out, np);
}

xsell_err
xs_eval_rec_complements(struct xs_eval_ctx *c,
    const struct xs_eval_config *cfg, const struct xs_eval_qset *qs,
    const struct xs_eval_query *q, uint32_t *out, size_t *np)
{
	struct xs_settings set = c->o->settings;
	struct xs_query    xq;

	given_spans(c, qs, q, &xq);
	xq.scorer                = c->o->settings.fbt_scorer;
	xq.min_support           = cfg->min_support;
	xq.has_beta              = true;
	xq.beta                  = cfg->beta;
	set.comp_momentum_weight = cfg->momentum;
	return ask_model(c, xs_model_complements, &set, &xq, out, np);
}

/* similar over the row's relations (similar: every one; similar_views:
 * view or all), scored by the row's similar scorer (the setting
 * similar_scorer, which a request without "scorer" gets). */
xsell_err
xs_eval_rec_similar(struct xs_eval_ctx *c, const struct xs_eval_config *cfg,
    const struct xs_eval_qset *qs, const struct xs_eval_query *q,
    uint32_t *out, size_t *np)
{
	struct xs_query xq;

	given_spans(c, qs, q, &xq);
	xq.scorer      = cfg->sim_scorer;
	xq.min_support = cfg->min_support;
	xq.signal      = cfg->signal;
	return ask_model(c, xs_model_similar, &c->o->settings, &xq, out, np);
}

xsell_err
xs_eval_rec_viewed_bought(struct xs_eval_ctx *c,
    const struct xs_eval_config *cfg, const struct xs_eval_qset *qs,
    const struct xs_eval_query *q, uint32_t *out, size_t *np)
{
	struct xs_query xq;

	given_spans(c, qs, q, &xq);
	xq.scorer      = cfg->scorer;
	xq.min_support = cfg->min_support;
	return ask_model(
	    c, xs_model_viewed_bought, &c->o->settings, &xq, out, np);
}

/* Ask xs_model_picks of 'kind' for the query's user as of q->now, with
 * settings 'set'. */
static xsell_err
ask_picks(struct xs_eval_ctx *c, const struct xs_settings *set,
    enum xs_pick_kind kind, const struct xs_eval_query *q, uint32_t *out,
    size_t *np)
{
	struct xs_query  xq;
	struct xs_answer ans;
	xsell_err        err;

	memset(&xq, 0, sizeof(xq));
	xq.user =
	    xs_eval_data_user_ext(c->d, xs_eval_data_order(c->d, q->order));
	xq.kind            = kind;
	xq.now             = q->now;
	xq.k               = c->o->k;
	xq.filter.in_stock = true;
	err = xs_model_picks(c->st, c->txn, set, &xq, &c->arena, &ans);
	if (err == XSELL_OK) {
		answer_ids(c, &ans, out, np);
	}
	return err;
}

xsell_err
xs_eval_rec_picks(struct xs_eval_ctx *c, const struct xs_eval_config *cfg,
    const struct xs_eval_qset *qs, const struct xs_eval_query *q,
    uint32_t *out, size_t *np)
{
	struct xs_settings set = c->o->settings;

	(void) qs;
	set.pick_half_life_days  = cfg->half_life;
	set.pick_seeds_max       = cfg->seeds;
	set.pick_momentum_weight = cfg->momentum;
	set.similar_scorer       = cfg->sim_scorer;
	set.pick_keep_answers    = false; /* each user is asked once */
	return ask_picks(c, &set, XS_PICK_FOR_YOU, q, out, np);
}

xsell_err
xs_eval_rec_buy_again(struct xs_eval_ctx *c, const struct xs_eval_config *cfg,
    const struct xs_eval_qset *qs, const struct xs_eval_query *q,
    uint32_t *out, size_t *np)
{
	(void) cfg;
	(void) qs;
	return ask_picks(c, &c->o->settings, XS_PICK_BUY_AGAIN, q, out, np);
}

/* ==== Baselines ==== */

static xsell_err
mark_cb(void *ctx, uint32_t b, uint32_t count)
{
	struct xs_eval_ctx *c = ctx;

	(void) count;
	if (b <= c->n_store) {
		c->stamp[b] = c->cur_stamp;
	}
	return XSELL_OK;
}

/* Mark what a baseline must not return: the given items, and for
 * complements their first-level neighbours too (the answer leaves those
 * out by definition, so a fair baseline does the same). */
static xsell_err
mark_excluded(struct xs_eval_ctx *c, const struct xs_eval_config *cfg,
    const struct xs_eval_qset *qs, const struct xs_eval_query *q)
{
	c->cur_stamp++;
	for (uint32_t i = 0; i < q->n_given; i++) {
		uint32_t  s   = c->to_store[qs->ids[q->given_off + i]];
		xsell_err err = XSELL_OK;

		c->stamp[s] = c->cur_stamp;
		if (cfg->answer == XS_EVAL_COMPLEMENTS) {
			err = xs_store_pairs_each(
			    c->st, c->txn, XS_REL_BASKET, s, mark_cb, c);
		}
		if (err != XSELL_OK) {
			return err;
		}
	}
	return XSELL_OK;
}

static bool
is_marked(const struct xs_eval_ctx *c, uint32_t item)
{
	return c->stamp[c->to_store[item]] == c->cur_stamp;
}

/* Walk 'list' (eval ids, best first) and keep the first k items that
 * are not marked (buy_again: only those marked, the user's own). */
static void
take_list(struct xs_eval_ctx *c, const struct xs_eval_config *cfg,
    const uint32_t *list, uint32_t n_list, uint32_t *out, size_t *np)
{
	bool   own = cfg->answer == XS_EVAL_BUY_AGAIN;
	size_t n   = 0;

	for (uint32_t i = 0; i < n_list && n < c->o->k; i++) {
		if (is_marked(c, list[i]) == own) {
			out[n++] = list[i];
		}
	}
	*np = n;
}

void
xs_eval_known_list(const struct xs_eval_ctx *c, enum xs_eval_answer a,
    const uint32_t **listp, uint32_t *np)
{
	if (a == XS_EVAL_SIMILAR_VIEWS) {
		*listp = c->by_view;
		*np    = c->n_viewed;
	} else {
		*listp = c->by_pop;
		*np    = c->n_known;
	}
}

xsell_err
xs_eval_rec_popular(struct xs_eval_ctx *c, const struct xs_eval_config *cfg,
    const struct xs_eval_qset *qs, const struct xs_eval_query *q,
    uint32_t *out, size_t *np)
{
	const uint32_t *list;
	uint32_t        n_list;
	xsell_err       err = mark_excluded(c, cfg, qs, q);

	*np = 0;
	xs_eval_known_list(c, cfg->answer, &list, &n_list);
	if (err == XSELL_OK) {
		take_list(c, cfg, list, n_list, out, np);
	}
	return err;
}

/* The engine's trending list, asked once per run (k = XSELL_K_MAX): a
 * user who bought most of its 500 items gets a shorter list. */
xsell_err
xs_eval_rec_trending(struct xs_eval_ctx *c, const struct xs_eval_config *cfg,
    const struct xs_eval_qset *qs, const struct xs_eval_query *q,
    uint32_t *out, size_t *np)
{
	xsell_err err = mark_excluded(c, cfg, qs, q);

	*np = 0;
	if (err == XSELL_OK) {
		take_list(c, cfg, c->by_trend, c->n_trend, out, np);
	}
	return err;
}

/* splitmix64: a small seeded generator, the same on every machine. */
static uint64_t
next_random(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* buy_again's random baseline: the user's own training purchases in a
 * seeded random order, drawn from their ids (a hash of each with the
 * query's seed), not from their numbers, which follow the order of the
 * lines: the k with the smallest draws, smallest first. */
static xsell_err
random_own(struct xs_eval_ctx *c, const struct xs_eval_qset *qs,
    const struct xs_eval_query *q, uint64_t rng, uint32_t *out, size_t *np)
{
	const uint32_t *given = qs->ids + q->given_off;
	uint64_t       *draw =
	    xs_arena_calloc(&c->arena, q->n_given + 1, sizeof(*draw));
	uint8_t *taken = xs_arena_calloc(&c->arena, q->n_given + 1, 1);
	size_t   n     = 0;

	if (draw == NULL || taken == NULL) {
		return XSELL_ENOMEM;
	}
	for (uint32_t i = 0; i < q->n_given; i++) {
		struct xs_span ext = xs_eval_data_item_ext(c->d, given[i]);

		draw[i] = xs_hash64(ext.p, ext.len, rng);
	}
	for (; n < c->o->k && n < q->n_given; n++) {
		uint32_t best = UINT32_MAX;

		for (uint32_t i = 0; i < q->n_given; i++) {
			if (!taken[i] &&
			    (best == UINT32_MAX || draw[i] < draw[best])) {
				best = i;
			}
		}
		out[n]      = given[best];
		taken[best] = 1;
	}
	*np = n;
	return XSELL_OK;
}

xsell_err
xs_eval_rec_random(struct xs_eval_ctx *c, const struct xs_eval_config *cfg,
    const struct xs_eval_qset *qs, const struct xs_eval_query *q,
    uint32_t *out, size_t *np)
{
	uint64_t        rng = c->o->seed ^ q->key; /* not its position */
	size_t          n   = 0;
	const uint32_t *list;
	uint32_t        n_list;
	xsell_err       err = mark_excluded(c, cfg, qs, q);

	if (cfg->answer == XS_EVAL_BUY_AGAIN) {
		return random_own(c, qs, q, rng, out, np);
	}
	xs_eval_known_list(c, cfg->answer, &list, &n_list);
	/* Drawing with rejection, bounded: a query whose first level
	 * covers nearly the catalogue gets a shorter list, not a hang. */
	for (unsigned tries = 0;
	     err == XSELL_OK && n < c->o->k && tries < 64 * c->o->k && n_list;
	     tries++) {
		uint32_t it = list[next_random(&rng) % n_list];

		if (!is_marked(c, it)) {
			c->stamp[c->to_store[it]] = c->cur_stamp;
			out[n++]                  = it;
		}
	}
	*np = n;
	return err;
}
