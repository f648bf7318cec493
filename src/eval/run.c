/* SPDX-License-Identifier: MIT */
/* A run: split, train, build each answer's queries once, then measure
 * every row of the grid and the baselines on the same queries. */
#include "eval/eval_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Scratch per query; the engine's candidate lists are malloc'd, only the
 * answer lives in the arena. */
#define ARENA_MAX ((size_t) 64 << 20)
#define PROGRESS_EVERY 64u

/* ==== Answers: the table that a new answer joins ==== */

struct answer_def {
	const char          *name;
	xs_eval_protocol_fn  protocol;
	xs_eval_recommend_fn engine;
	bool                 co_count; /* raw co-count baseline applies */
	bool                 per_user; /* asks per test user */
};

static const struct answer_def answers[XS_EVAL_ANSWER_COUNT] = {
	[XS_EVAL_FBT] = { "fbt", xs_eval_protocol_fbt, xs_eval_rec_fbt, true,
	    false },
	[XS_EVAL_COMPLEMENTS] = { "complements", xs_eval_protocol_complements,
	    xs_eval_rec_complements, false, false },
	[XS_EVAL_PICKS] = { "picks", xs_eval_protocol_picks, xs_eval_rec_picks,
	    false, true },
	[XS_EVAL_BUY_AGAIN]     = { "buy_again", xs_eval_protocol_buy_again,
	        xs_eval_rec_buy_again, false, true },
	[XS_EVAL_SIMILAR]       = { "similar", xs_eval_protocol_fbt,
	          xs_eval_rec_similar, false, false },
	[XS_EVAL_SIMILAR_VIEWS] = { "similar_views",
	    xs_eval_protocol_similar_views, xs_eval_rec_similar, false,
	    false },
	[XS_EVAL_VIEWED_BOUGHT] = { "viewed_bought",
	    xs_eval_protocol_viewed_bought, xs_eval_rec_viewed_bought, false,
	    false },
};

bool
xs_eval_answer_per_user(enum xs_eval_answer a)
{
	return a < XS_EVAL_ANSWER_COUNT && answers[a].per_user;
}

const char *
xs_eval_answer_name(enum xs_eval_answer a)
{
	return a < XS_EVAL_ANSWER_COUNT ? answers[a].name : "?";
}

bool
xs_eval_answer_parse(const char *name, enum xs_eval_answer *out)
{
	for (int a = 0; a < XS_EVAL_ANSWER_COUNT; a++) {
		if (strcmp(name, answers[a].name) == 0) {
			*out = (enum xs_eval_answer) a;
			return true;
		}
	}
	return false;
}

void
xs_eval_opts_default(struct xs_eval_opts *o)
{
	memset(o, 0, sizeof(*o));
	xs_settings_default(&o->settings);
	o->split.kind                   = XS_SPLIT_RANDOM;
	o->split.test_frac              = 0.2;
	o->k                            = XSELL_K_DEFAULT;
	o->seed                         = 42;
	o->answers[XS_EVAL_FBT]         = true;
	o->answers[XS_EVAL_COMPLEMENTS] = true;
	o->scorers[0]                   = o->settings.fbt_scorer;
	o->n_scorers                    = 1;
	o->min_supports[0]              = o->settings.min_support;
	o->n_min_supports               = 1;
	o->betas[0]                     = o->settings.complements_beta;
	o->n_betas                      = 1;
	o->half_lives[0]                = o->settings.pick_half_life_days;
	o->n_half_lives                 = 1;
	o->seeds_max[0]                 = o->settings.pick_seeds_max;
	o->n_seeds_max                  = 1;
	o->momenta[0]                   = o->settings.pick_momentum_weight;
	o->n_momenta                    = 1;
	o->comp_momenta[0]              = o->settings.comp_momentum_weight;
	o->n_comp_momenta               = 1;
	o->sim_scorers[0]               = o->settings.similar_scorer;
	o->n_sim_scorers                = 1;
	o->signals[0]                   = XS_SIGNAL_VIEW;
	o->signals[1]                   = XS_SIGNAL_ALL;
	o->n_signals                    = 2;
	o->baselines                    = true;
}

/* ==== The grid ==== */

static xsell_err
row_add(struct xs_eval_answer_report *ar, const struct xs_eval_config *cfg,
    const char *name)
{
	struct xs_eval_row *v =
	    realloc(ar->rows, (ar->n_rows + 1) * sizeof(*v));

	if (v == NULL) {
		return XSELL_ENOMEM;
	}
	ar->rows = v;
	memset(&v[ar->n_rows], 0, sizeof(v[0]));
	v[ar->n_rows].cfg = *cfg;
	snprintf(v[ar->n_rows].name, sizeof(v[0].name), "%s", name);
	ar->n_rows++;
	return XSELL_OK;
}

/* picks (for_you): the rows of one similar scorer and half-life, one
 * per seeds x momentum weight. */
static xsell_err
picks_rows_of(const struct xs_eval_opts *o, struct xs_eval_config *cfg,
    struct xs_eval_answer_report *ar)
{
	char      name[80];
	xsell_err err = XSELL_OK;

	for (size_t n = 0; n < o->n_seeds_max && err == XSELL_OK; n++) {
		for (size_t m = 0; m < o->n_momenta && err == XSELL_OK; m++) {
			cfg->seeds    = o->seeds_max[n];
			cfg->momentum = o->momenta[m];
			snprintf(name, sizeof(name),
			    "%s hl=%g seeds=%u mom=%g",
			    xs_scorer_name(cfg->sim_scorer), cfg->half_life,
			    cfg->seeds, cfg->momentum);
			err = row_add(ar, cfg, name);
		}
	}
	return err;
}

/* picks (for_you): similar scorer x half-life x seeds x momentum. */
static xsell_err
picks_rows(const struct xs_eval_opts *o, struct xs_eval_answer_report *ar)
{
	struct xs_eval_config cfg = { .answer = XS_EVAL_PICKS };
	xsell_err             err = XSELL_OK;

	cfg.method      = XS_METHOD_ENGINE;
	cfg.min_support = o->settings.min_support;
	for (size_t s = 0; s < o->n_sim_scorers && err == XSELL_OK; s++) {
		for (size_t h = 0; h < o->n_half_lives && err == XSELL_OK;
		     h++) {
			cfg.sim_scorer = o->sim_scorers[s];
			cfg.half_life  = o->half_lives[h];
			err            = picks_rows_of(o, &cfg, ar);
		}
	}
	return err;
}

/* The rows of min_support x similar scorer for 'cfg', named "SCORER
 * ms=M" after 'pre' (the signal and a space, or ""). */
static xsell_err
scorer_support_rows(const struct xs_eval_opts *o, struct xs_eval_config *cfg,
    const char *pre, struct xs_eval_answer_report *ar)
{
	char      name[80];
	xsell_err err = XSELL_OK;

	for (size_t m = 0; m < o->n_min_supports && err == XSELL_OK; m++) {
		for (size_t s = 0; s < o->n_sim_scorers && err == XSELL_OK;
		     s++) {
			cfg->min_support = o->min_supports[m];
			cfg->sim_scorer  = o->sim_scorers[s];
			snprintf(name, sizeof(name), "%s%s ms=%u", pre,
			    xs_scorer_name(cfg->sim_scorer), cfg->min_support);
			err = row_add(ar, cfg, name);
		}
	}
	return err;
}

/* similar (fbt's protocol): one row per similar scorer x min_support. */
static xsell_err
similar_rows(const struct xs_eval_opts *o, struct xs_eval_answer_report *ar)
{
	struct xs_eval_config cfg = { .answer = XS_EVAL_SIMILAR };

	cfg.method = XS_METHOD_ENGINE;
	return scorer_support_rows(o, &cfg, "", ar);
}

/* similar_views: one row per signal x similar scorer x min_support. */
static xsell_err
similar_views_rows(
    const struct xs_eval_opts *o, struct xs_eval_answer_report *ar)
{
	struct xs_eval_config cfg = { .answer = XS_EVAL_SIMILAR_VIEWS };
	char                  pre[32];
	xsell_err             err = XSELL_OK;

	cfg.method = XS_METHOD_ENGINE;
	for (size_t g = 0; g < o->n_signals && err == XSELL_OK; g++) {
		cfg.signal = o->signals[g];
		snprintf(pre, sizeof(pre), "%s ", xs_signal_name(cfg.signal));
		err = scorer_support_rows(o, &cfg, pre, ar);
	}
	return err;
}

/* viewed_bought: the setting viewed_bought_scorer, then every --scorer
 * not already named, x min_support. */
static xsell_err
viewed_bought_rows(
    const struct xs_eval_opts *o, struct xs_eval_answer_report *ar)
{
	struct xs_eval_config cfg = { .answer = XS_EVAL_VIEWED_BOUGHT };
	enum xs_scorer        sc[XS_SCORER_COUNT + 1];
	size_t                n_sc = 0;
	char                  name[80];
	xsell_err             err = XSELL_OK;

	sc[n_sc++] = o->settings.viewed_bought_scorer;
	for (size_t i = 0; i < o->n_scorers; i++) {
		if (o->scorers[i] != o->settings.viewed_bought_scorer) {
			sc[n_sc++] = o->scorers[i];
		}
	}
	cfg.method = XS_METHOD_ENGINE;
	for (size_t m = 0; m < o->n_min_supports && err == XSELL_OK; m++) {
		for (size_t s = 0; s < n_sc && err == XSELL_OK; s++) {
			cfg.min_support = o->min_supports[m];
			cfg.scorer      = sc[s];
			snprintf(name, sizeof(name), "%s ms=%u",
			    xs_scorer_name(cfg.scorer), cfg.min_support);
			err = row_add(ar, &cfg, name);
		}
	}
	return err;
}

/* complements: the rows of one beta and min_support, one per momentum
 * weight; named "beta=B ms=M", with " mom=W" when a weight other than
 * the engine's is asked. */
static xsell_err
complements_rows(const struct xs_eval_opts *o,
    struct xs_eval_answer_report *ar, struct xs_eval_config *cfg)
{
	char      name[80];
	xsell_err err = XSELL_OK;

	for (size_t m = 0; m < o->n_comp_momenta && err == XSELL_OK; m++) {
		int len;

		cfg->momentum = o->comp_momenta[m];
		len = snprintf(name, sizeof(name), "beta=%g ms=%u", cfg->beta,
		    cfg->min_support);
		if (o->n_comp_momenta > 1 ||
		    cfg->momentum != o->settings.comp_momentum_weight) {
			snprintf(name + len, sizeof(name) - (size_t) len,
			    " mom=%g", cfg->momentum);
		}
		err = row_add(ar, cfg, name);
	}
	return err;
}

/* The engine's rows of answer 'a'; *have_countp: one of them is the
 * raw co-count baseline. */
static xsell_err
engine_rows(const struct xs_eval_opts *o, enum xs_eval_answer a,
    struct xs_eval_answer_report *ar, bool *have_countp)
{
	struct xs_eval_config cfg = { .answer = a };
	char                  name[80];
	bool                  have_count = false;
	xsell_err             err        = XSELL_OK;

	if (a == XS_EVAL_PICKS) {
		return picks_rows(o, ar);
	}
	cfg.method = XS_METHOD_ENGINE;
	if (a == XS_EVAL_SIMILAR) {
		return similar_rows(o, ar);
	}
	if (a == XS_EVAL_SIMILAR_VIEWS) {
		return similar_views_rows(o, ar);
	}
	if (a == XS_EVAL_VIEWED_BOUGHT) {
		return viewed_bought_rows(o, ar);
	}
	if (a == XS_EVAL_BUY_AGAIN) {
		cfg.min_support = o->settings.min_support;
		return row_add(ar, &cfg, "buy_again");
	}
	for (size_t m = 0; m < o->n_min_supports && err == XSELL_OK; m++) {
		cfg.min_support = o->min_supports[m];
		if (a == XS_EVAL_FBT) {
			for (size_t s = 0; s < o->n_scorers && err == XSELL_OK;
			     s++) {
				cfg.scorer   = o->scorers[s];
				cfg.baseline = cfg.scorer == XS_SCORE_COUNT &&
				    cfg.min_support <= 1;
				have_count = have_count || cfg.baseline;
				snprintf(name, sizeof(name), "%s ms=%u",
				    xs_scorer_name(cfg.scorer),
				    cfg.min_support);
				err = row_add(ar, &cfg, name);
			}
			continue;
		}
		for (size_t b = 0; b < o->n_betas && err == XSELL_OK; b++) {
			cfg.beta = o->betas[b];
			err      = complements_rows(o, ar, &cfg);
		}
	}
	*have_countp = have_count;
	return err;
}

static xsell_err
grid_rows(const struct xs_eval_opts *o, enum xs_eval_answer a,
    struct xs_eval_answer_report *ar)
{
	struct xs_eval_config cfg        = { .answer = a };
	bool                  have_count = false;
	xsell_err             err        = engine_rows(o, a, ar, &have_count);

	if (err != XSELL_OK || !o->baselines) {
		return err;
	}
	cfg.baseline = true;
	if (answers[a].co_count && !have_count) {
		cfg.method      = XS_METHOD_ENGINE;
		cfg.scorer      = XS_SCORE_COUNT;
		cfg.min_support = 1;
		err             = row_add(ar, &cfg, "count ms=1");
	}
	cfg.method = XS_METHOD_POPULAR;
	if (err == XSELL_OK) {
		err = row_add(ar, &cfg, "popularity");
	}
	cfg.method = XS_METHOD_TRENDING;
	if (err == XSELL_OK) {
		err = row_add(ar, &cfg, "trending");
	}
	cfg.method = XS_METHOD_RANDOM;
	if (err == XSELL_OK) {
		err = row_add(ar, &cfg, "random");
	}
	return err;
}

/* ==== Measuring one row ==== */

static int
cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *) x, b = *(const uint64_t *) y;

	return a < b ? -1 : a > b;
}

/* Ask every query of 'qs' under 'row' and fill in its figures; hits[i]
 * (qs->n entries) is 1 where query i was hit, for the paired
 * comparison. */
static xsell_err
measure(struct xs_eval_ctx *c, enum xs_eval_answer a,
    const struct xs_eval_qset *qs, struct xs_eval_row *row, uint8_t *hits,
    xs_eval_progress_cb cb, void *cb_ctx)
{
	xs_eval_recommend_fn  rec     = answers[a].engine;
	uint32_t              n_items = xs_eval_data_n_items(c->d);
	uint8_t              *seen    = calloc(n_items + 1, 1);
	uint64_t             *lat     = calloc(qs->n + 1, sizeof(*lat));
	uint32_t             *out     = calloc(c->o->k, sizeof(*out));
	struct xs_eval_qscore sum     = { 0 }, one;
	double                pop_sum = 0, lat_sum = 0;
	uint64_t              n_recs = 0, n_seen = 0;
	char                  what[128];
	xsell_err             err = XSELL_OK;

	if (seen == NULL || lat == NULL || out == NULL) {
		err = XSELL_ENOMEM;
	}
	if (row->cfg.method == XS_METHOD_POPULAR) {
		rec = xs_eval_rec_popular;
	} else if (row->cfg.method == XS_METHOD_RANDOM) {
		rec = xs_eval_rec_random;
	} else if (row->cfg.method == XS_METHOD_TRENDING) {
		rec = xs_eval_rec_trending;
	}
	snprintf(what, sizeof(what), "%s %s", answers[a].name, row->name);
	for (size_t i = 0; i < qs->n && err == XSELL_OK; i++) {
		const struct xs_eval_query *q = &qs->v[i];
		size_t                      n = 0;
		uint64_t                    t0;

		xs_arena_reset(&c->arena);
		t0     = xs_mono_ns();
		err    = rec(c, &row->cfg, qs, q, out, &n);
		lat[i] = xs_mono_ns() - t0;
		if (err != XSELL_OK) {
			break;
		}
		xs_eval_score(
		    out, n, c->o->k, qs->ids + q->rel_off, q->n_rel, &one);
		hits[i] = one.hit > 0;
		sum.hit += one.hit;
		sum.precision += one.precision;
		sum.recall += one.recall;
		sum.ndcg += one.ndcg;
		sum.rr += one.rr;
		for (size_t r = 0; r < n; r++) {
			/* Coverage counts the items of its catalogue
			 * (n_trained), which every answer is. */
			n_seen +=
			    seen[out[r]] == 0 && c->to_store[out[r]] != 0;
			seen[out[r]] = 1;
			pop_sum += a == XS_EVAL_SIMILAR_VIEWS ? c->vpop[out[r]]
			                                      : c->pop[out[r]];
		}
		n_recs += n;
		lat_sum += (double) lat[i];
		if (cb != NULL && i % PROGRESS_EVERY == 0) {
			cb(cb_ctx, what, i, qs->n);
		}
	}
	if (err == XSELL_OK && qs->n > 0) {
		double nq        = (double) qs->n;
		size_t median_ix = (qs->n - 1) / 2;

		qsort(lat, qs->n, sizeof(*lat), cmp_u64);
		row->queries  = qs->n;
		row->hit_rate = sum.hit / nq;
		row->hit_ci95 =
		    1.96 * sqrt(row->hit_rate * (1 - row->hit_rate) / nq);
		row->precision = sum.precision / nq;
		row->recall    = sum.recall / nq;
		row->ndcg      = sum.ndcg / nq;
		row->mrr       = sum.rr / nq;
		row->coverage =
		    c->n_trained ? (double) n_seen / c->n_trained : 0;
		row->mean_pop    = n_recs ? pop_sum / (double) n_recs : 0;
		row->lat_mean_us = lat_sum / nq / 1e3;
		row->lat_p50_us  = (double) lat[median_ix] / 1e3;
		row->lat_p99_us =
		    (double) lat[(size_t) ((double) (qs->n - 1) * 0.99)] / 1e3;
	}
	free(seen);
	free(lat);
	free(out);
	return err;
}

static int
cmp_row(const void *x, const void *y)
{
	const struct xs_eval_row *p = x, *q = y;

	if (p->hit_rate != q->hit_rate) {
		return p->hit_rate > q->hit_rate ? -1 : 1;
	}
	if (p->ndcg != q->ndcg) {
		return p->ndcg > q->ndcg ? -1 : 1;
	}
	return strcmp(p->name, q->name);
}

/* ==== Context: popularity and id maps from the trained store ==== */

/* qsort has no context argument */
static const uint32_t     *sort_pop;
static const xs_eval_data *sort_data;

/* Most counted first; ties by item id, not by number (first
 * appearance), so that the baselines' lists do not depend on the order
 * of the lines. */
static int
cmp_by_pop(const void *x, const void *y)
{
	uint32_t       a = *(const uint32_t *) x, b = *(const uint32_t *) y;
	struct xs_span p, q;
	int            c;

	if (sort_pop[a] != sort_pop[b]) {
		return sort_pop[a] > sort_pop[b] ? -1 : 1;
	}
	p = xs_eval_data_item_ext(sort_data, a);
	q = xs_eval_data_item_ext(sort_data, b);
	c = memcmp(p.p, q.p, p.len < q.len ? p.len : q.len);
	if (c != 0) {
		return c;
	}
	return p.len < q.len ? -1 : p.len > q.len;
}

/* The trending baseline's list: xs_model_trending asked once, as a
 * shop's page would ask it, as of the newest training day. */
static xsell_err
trend_init(struct xs_eval_ctx *c)
{
	struct xs_query  xq = { 0 };
	struct xs_answer ans;
	xsell_err        err;

	xq.k               = XSELL_K_MAX;
	xq.filter.in_stock = true;
	c->by_trend        = calloc(XSELL_K_MAX, sizeof(*c->by_trend));
	if (c->by_trend == NULL) {
		return XSELL_ENOMEM;
	}
	xs_arena_reset(&c->arena);
	err = xs_model_trending(
	    c->st, c->txn, &c->o->settings, &xq, &c->arena, &ans);
	for (uint32_t i = 0; i < ans.n && err == XSELL_OK; i++) {
		uint32_t id;

		if (xs_eval_data_item_find(
		        c->d, ans.recs[i].ext, ans.recs[i].ext_len, &id) &&
		    c->to_store[id] != 0) {
			c->by_trend[c->n_trend++] = id;
		}
	}
	return err;
}

static xsell_err
ctx_init(struct xs_eval_ctx *c)
{
	uint32_t                n_items = xs_eval_data_n_items(c->d);
	struct xs_counts_reader cr;
	xsell_err               err;

	err = xs_store_dict_size(c->st, c->txn, XS_DICT_ITEM, &c->n_store);
	if (err != XSELL_OK) {
		return err;
	}
	c->pop      = calloc(n_items + 1, sizeof(*c->pop));
	c->by_pop   = calloc(n_items + 1, sizeof(*c->by_pop));
	c->to_store = calloc(n_items + 1, sizeof(*c->to_store));
	c->from_store =
	    calloc((size_t) c->n_store + 1, sizeof(*c->from_store));
	c->stamp   = calloc((size_t) c->n_store + 1, sizeof(*c->stamp));
	c->spans   = calloc(XSELL_QUERY_ITEMS_MAX, sizeof(*c->spans));
	c->vpop    = calloc(n_items + 1, sizeof(*c->vpop));
	c->by_view = calloc(n_items + 1, sizeof(*c->by_view));
	if (c->pop == NULL || c->by_pop == NULL || c->to_store == NULL ||
	    c->from_store == NULL || c->stamp == NULL || c->spans == NULL ||
	    c->vpop == NULL || c->by_view == NULL) {
		return XSELL_ENOMEM;
	}
	xs_counts_reader_init(&cr, c->st, c->txn);
	for (uint32_t e = 0; e < n_items; e++) {
		struct xs_span ext = xs_eval_data_item_ext(c->d, e);
		uint32_t       s;

		err = xs_store_id_get(
		    c->st, c->txn, XS_DICT_ITEM, ext.p, ext.len, &s);
		if (err == XSELL_ENOENT) {
			continue;
		}
		if (err != XSELL_OK) {
			xs_counts_reader_fini(&cr);
			return err;
		}
		/* Known: the engine counted it in a training basket (the
		 * order protocols), or a training view (the session
		 * protocols: to_store set, pop 0). */
		c->pop[e]  = xs_counts_reader_get(&cr, s, XS_C_BASKETS);
		c->vpop[e] = xs_counts_reader_get(&cr, s, XS_C_VIEWS);
		if ((c->pop[e] == 0 && c->vpop[e] == 0) || s > c->n_store) {
			c->pop[e]  = 0;
			c->vpop[e] = 0;
			continue;
		}
		c->to_store[e]   = s;
		c->from_store[s] = e + 1;
		c->n_trained++;
		if (c->pop[e] > 0) {
			c->by_pop[c->n_known++] = e;
		}
		if (c->vpop[e] > 0) {
			c->by_view[c->n_viewed++] = e;
		}
	}
	xs_counts_reader_fini(&cr);
	sort_data = c->d;
	sort_pop  = c->pop;
	qsort(c->by_pop, c->n_known, sizeof(*c->by_pop), cmp_by_pop);
	sort_pop = c->vpop;
	qsort(c->by_view, c->n_viewed, sizeof(*c->by_view), cmp_by_pop);
	sort_pop  = NULL;
	sort_data = NULL;
	return trend_init(c);
}

static void
ctx_fini(struct xs_eval_ctx *c)
{
	free(c->pop);
	free(c->by_pop);
	free(c->to_store);
	free(c->from_store);
	free(c->stamp);
	free(c->spans);
	free(c->by_trend);
	free(c->vpop);
	free(c->by_view);
	xs_arena_fini(&c->arena);
}

/* Where query 'q' comes in the sample: from its key (the id of its
 * basket or user, not a position: the same sample whatever the order of
 * the lines) and the seed. */
static uint64_t
sample_hash(const struct xs_eval_query *q, uint64_t seed)
{
	return xs_hash64(&q->key, sizeof(q->key), seed);
}

/* Keep at most 'max' queries, chosen by sample_hash so that the sample
 * spreads over the whole test period; order of queries kept. */
static void
cap_queries(struct xs_eval_qset *qs, size_t max, uint64_t seed)
{
	uint64_t cut = UINT64_MAX;
	size_t   u   = 0;

	if (max == 0 || qs->n <= max) {
		return;
	}
	/* The max-th smallest hash, by bisection over the hash range. */
	{
		uint64_t lo = 0, hi = UINT64_MAX;

		while (lo < hi) {
			uint64_t mid = lo + (hi - lo) / 2;
			size_t   n   = 0;

			for (size_t i = 0; i < qs->n; i++) {
				n += sample_hash(&qs->v[i], seed) <= mid;
			}
			if (n >= max) {
				hi = mid;
			} else {
				lo = mid + 1;
			}
		}
		cut = lo;
	}
	for (size_t i = 0; i < qs->n && u < max; i++) {
		if (sample_hash(&qs->v[i], seed) <= cut) {
			qs->v[u++] = qs->v[i];
		}
	}
	qs->n = u;
}

/* The row the others are paired with: the one named o->versus, else
 * the popularity baseline; ar->n_rows if there is none. */
static size_t
versus_row(
    const struct xs_eval_opts *o, const struct xs_eval_answer_report *ar)
{
	for (size_t r = 0; r < ar->n_rows; r++) {
		const struct xs_eval_row *row = &ar->rows[r];

		if (o->versus != NULL ? strcmp(row->name, o->versus) == 0
		                      : row->cfg.method == XS_METHOD_POPULAR) {
			return r;
		}
	}
	return ar->n_rows;
}

/* Pair every row with the reference row on the same queries: hits holds
 * n_rows x n_queries per-query hits, in row order. */
static void
pair_rows(const struct xs_eval_opts *o, struct xs_eval_answer_report *ar,
    const uint8_t *hits, size_t n_queries)
{
	size_t ref = versus_row(o, ar);

	if (ref == ar->n_rows) {
		return;
	}
	snprintf(ar->versus, sizeof(ar->versus), "%s", ar->rows[ref].name);
	for (size_t r = 0; r < ar->n_rows; r++) {
		if (r == ref) {
			continue;
		}
		ar->rows[r].has_vs = true;
		xs_eval_paired_compare(hits + r * n_queries,
		    hits + ref * n_queries, n_queries, &ar->rows[r].vs);
	}
}

static xsell_err
run_answer(struct xs_eval_ctx *c, enum xs_eval_answer a,
    const uint8_t *is_test, xs_eval_progress_cb cb, void *cb_ctx,
    struct xs_eval_answer_report *ar)
{
	struct xs_eval_qset qs   = { 0 };
	uint8_t            *hits = NULL;
	xsell_err           err  = grid_rows(c->o, a, ar);

	ar->on = true;
	if (err == XSELL_OK) {
		err = answers[a].protocol(c, is_test, &qs, ar);
	}
	if (err == XSELL_OK) {
		cap_queries(&qs, c->o->max_queries, c->o->seed);
		ar->queries = qs.n;
		hits        = calloc(ar->n_rows * qs.n + 1, 1);
		if (hits == NULL) {
			err = XSELL_ENOMEM;
		}
	}
	for (size_t r = 0; r < ar->n_rows && err == XSELL_OK; r++) {
		err = measure(
		    c, a, &qs, &ar->rows[r], hits + r * qs.n, cb, cb_ctx);
	}
	if (err == XSELL_OK && qs.n > 0) {
		pair_rows(c->o, ar, hits, qs.n);
	}
	if (err == XSELL_OK && ar->n_rows > 1) {
		qsort(ar->rows, ar->n_rows, sizeof(*ar->rows), cmp_row);
	}
	free(hits);
	xs_eval_qset_fini(&qs);
	return err;
}

static xsell_err
check_opts(const struct xs_eval_opts *o)
{
	if (o->k < 1 || o->k > XSELL_K_MAX || o->n_min_supports == 0 ||
	    o->n_min_supports > XS_EVAL_GRID_MAX || o->n_betas == 0 ||
	    o->n_betas > XS_EVAL_GRID_MAX || o->n_scorers == 0 ||
	    o->n_scorers > XS_SCORER_COUNT || o->n_half_lives == 0 ||
	    o->n_half_lives > XS_EVAL_GRID_MAX || o->n_seeds_max == 0 ||
	    o->n_seeds_max > XS_EVAL_GRID_MAX || o->n_momenta == 0 ||
	    o->n_momenta > XS_EVAL_GRID_MAX || o->n_comp_momenta == 0 ||
	    o->n_comp_momenta > XS_EVAL_GRID_MAX || o->n_sim_scorers == 0 ||
	    o->n_sim_scorers > XS_SCORER_COUNT || o->n_signals == 0 ||
	    o->n_signals > XS_SIGNAL_COUNT || o->store_dir == NULL) {
		return XSELL_EINVAL;
	}
	return XSELL_OK;
}

static xsell_err
split_and_train(const struct xs_eval_opts *o, const xs_eval_data *d,
    uint8_t *is_test, uint8_t *ev_is_test, xs_store *st,
    struct xs_eval_report *rep)
{
	uint64_t  t0  = xs_mono_ns();
	xsell_err err = xs_eval_split_apply(d, &o->split, is_test);

	if (err != XSELL_OK) {
		return err;
	}
	xs_eval_split_events(d, &o->split, ev_is_test);
	for (size_t i = 0; i < rep->orders; i++) {
		rep->test_orders += is_test[i];
	}
	for (size_t i = 0; i < rep->events; i++) {
		rep->test_events += ev_is_test[i];
	}
	rep->train_orders = rep->orders - rep->test_orders;
	rep->train_events = rep->events - rep->test_events;
	err               = xs_eval_train(
	                  d, is_test, ev_is_test, st, &o->settings, &rep->train_applied);
	rep->train_s = (double) (xs_mono_ns() - t0) / 1e9;
	return err;
}

/* --comp-lists: every trained item's complements list, as xselld's
 * refresher keeps them. */
static xsell_err
train_comp_lists(const struct xs_eval_opts *o, xs_store *st)
{
	struct xs_comp_refresh_stats rs;

	return xs_model_comp_refresh_all(st, &o->settings, xs_now_s(), &rs);
}

xsell_err
xs_eval_run(const struct xs_eval_opts *o, const xs_eval_data *d,
    xs_eval_progress_cb cb, void *cb_ctx, struct xs_eval_report *rep)
{
	struct xs_store_opts so = { .no_sync = true, .top_m = o->top_m };
	struct xs_eval_ctx   c  = { .d = d, .o = o };
	uint8_t             *is_test, *ev_is_test;
	uint64_t             t0;
	xsell_err            err = check_opts(o);

	memset(rep, 0, sizeof(*rep));
	if (err != XSELL_OK) {
		return err;
	}
	rep->k               = o->k;
	rep->ask_one         = o->ask_one;
	rep->orders          = xs_eval_data_n_orders(d);
	rep->items           = xs_eval_data_n_items(d);
	rep->excluded_lines  = xs_eval_data_excluded_lines(d);
	rep->excluded_orders = xs_eval_data_excluded_orders(d);
	rep->events          = xs_eval_data_n_events(d);
	is_test              = calloc(rep->orders + 1, 1);
	ev_is_test           = calloc(rep->events + 1, 1);
	if (is_test == NULL || ev_is_test == NULL) {
		free(is_test);
		free(ev_is_test);
		return XSELL_ENOMEM;
	}
	c.ev_is_test = ev_is_test;
	xs_arena_init(&c.arena, ARENA_MAX);
	err = xs_store_open(&c.st, o->store_dir, &so);
	if (err != XSELL_OK) {
		xs_arena_fini(&c.arena);
		free(is_test);
		free(ev_is_test);
		return err;
	}
	err = split_and_train(o, d, is_test, ev_is_test, c.st, rep);
	if (err == XSELL_OK && o->comp_lists) {
		err = train_comp_lists(o, c.st);
	}
	if (err == XSELL_OK) {
		err = xs_txn_read(c.st, &c.txn);
		if (err != XSELL_OK) {
			c.txn = NULL;
		}
	}
	if (err == XSELL_OK) {
		err = ctx_init(&c);
	}
	rep->known_items   = c.n_known;
	rep->viewed_items  = c.n_viewed;
	rep->trained_items = c.n_trained;
	t0                 = xs_mono_ns();
	for (int a = 0; a < XS_EVAL_ANSWER_COUNT && err == XSELL_OK; a++) {
		if (o->answers[a]) {
			err = run_answer(&c, (enum xs_eval_answer) a, is_test,
			    cb, cb_ctx, &rep->ans[a]);
		}
	}
	rep->eval_s = (double) (xs_mono_ns() - t0) / 1e9;
	ctx_fini(&c);
	if (c.txn != NULL) {
		xs_txn_abort(c.txn);
	}
	xs_store_close(c.st);
	free(is_test);
	free(ev_is_test);
	return err;
}

void
xs_eval_report_fini(struct xs_eval_report *rep)
{
	for (int a = 0; a < XS_EVAL_ANSWER_COUNT; a++) {
		free(rep->ans[a].rows);
		rep->ans[a].rows   = NULL;
		rep->ans[a].n_rows = 0;
	}
}
