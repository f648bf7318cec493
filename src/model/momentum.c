/* SPDX-License-Identifier: MIT */
/* Momentum: how much a candidate sells now, against all it ever sold.
 * Shared by for_you (picks.c) and complements (complements.c), each with
 * its own weight. Touches the trend list (memoised per snapshot) and the
 * counters of the candidates in it. */
#include "model/model_impl.h"

#include <stdlib.h>

/* 1 + weight x trend / (ever + prior), with 'trend' the candidate's trend
 * score (orders and weighted views, decayed by age) and 'ever' the same
 * counted without decay. The neighbours of a year of history say what
 * goes together; what a customer buys next is largely what sells now (a
 * shop's season, its new lines). Normalised per candidate, a rising line
 * is told from a big steady seller: a boost by the trend score alone
 * turned for_you into trending (README, "Quality"). */
static double
momentum_factor(
    const struct xs_settings *set, double weight, double trend, double ever)
{
	double base = ever + set->pick_momentum_prior;

	/* With no prior, counts that say nothing (a forgotten user's) must
	 * not divide by zero: no momentum then. */
	return base > 0 ? 1.0 + weight * trend / base : 1.0;
}

/* Only positive scores are weighed: a negative one is a user's dislike
 * (for_you), which how well the item sells does not change. */
xsell_err
xs_weigh_by_momentum(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    double weight, struct xs_cand_map *cands)
{
	struct xs_counts_reader counts;
	struct xs_trend_item   *trend;
	size_t                  n;
	xsell_err               err;

	if (weight == 0 || cands->vec.n == 0) {
		return XSELL_OK;
	}
	err = xs_model_trend_items(
	    st, txn, set, set->trend_half_life_days, &trend, &n);
	if (err != XSELL_OK) {
		return err;
	}
	xs_counts_reader_init(&counts, st, txn);
	for (size_t i = 0; i < n; i++) {
		struct xs_cand *c = xs_cand_map_find(cands, trend[i].item);
		double          ever, f;

		if (c == NULL || c->score <= 0) {
			continue;
		}
		ever = xs_counts_reader_get(&counts, c->item, XS_C_BASKETS) +
		    set->trend_view_weight *
		        xs_counts_reader_get(&counts, c->item, XS_C_VIEWS);
		f = momentum_factor(set, weight, trend[i].score, ever);
		c->score *= f;
		c->share *= f; /* explain: the seed's or path's part alike */
	}
	free(trend);
	return XSELL_OK;
}
