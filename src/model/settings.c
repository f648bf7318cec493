/* SPDX-License-Identifier: MIT */
/* Every tunable of the model and its default, in one place. Defaults
 * that decide quality (scorer, support) are to be chosen by xsell-eval on
 * real data; the README shows the table that chose them. */
#include "model/model.h"

void
xs_settings_default(struct xs_settings *s)
{
	/* Online Retail has orders of up to 1,110 lines: 1.2 million pair
	 * updates for one order uncapped. 100 items keep 99.4% of its
	 * orders whole (measured: 25,900 invoices, 152 above 100 items). */
	s->max_basket_items = 100;
	s->history_max      = 500;
	s->min_support      = 1;
	s->fbt_scorer       = XS_SCORE_CONFIDENCE;
	/* RP3beta's authors found beta near 0.5 best on their data; to be
	 * chosen on ours by xsell-eval. */
	s->complements_beta = 0.5;
	s->walk_width       = 50;
	/* DESIGN.md: a session ends after 30 minutes without a view; a view
	 * leads to a purchase within 7 days. */
	s->session_gap_s      = 30 * 60;
	s->view_pairs_max     = 20;
	s->cart_max           = 100;
	s->cart_pairs_max     = 20;
	s->cart_window_s      = 7 * 86400;
	s->view_buy_window_s  = 7 * 86400;
	s->view_buy_views_max = 10;
	s->view_buy_items_max = 20;
	s->user_counted_max   = 10000;
	/* Cosine keeps each relation's score in 0..1, so the three can be
	 * summed; equal weights until xsell-eval says otherwise. */
	s->similar_scorer                = XS_SCORE_COSINE;
	s->similar_weight[XS_PART_ORDER] = 1.0;
	s->similar_weight[XS_PART_VIEW]  = 1.0;
	s->similar_weight[XS_PART_CART]  = 1.0;
	s->viewed_bought_scorer          = XS_SCORE_CONFIDENCE;
	s->trend_half_life_days          = 7.0;
	s->trend_view_weight             = 0.1;
	/* DESIGN.md: order > cart > rating >= 4 > view; removals and low
	 * ratings weigh against. */
	s->pick_weight[XS_EV_ORDER]       = 4.0;
	s->pick_weight[XS_EV_CART_ADD]    = 3.0;
	s->pick_weight[XS_EV_VIEW]        = 1.0;
	s->pick_weight[XS_EV_CART_REMOVE] = -2.0;
	s->pick_weight[XS_EV_RATING]      = 0.0; /* by the two below */
	s->pick_rating_high               = 2.0;
	s->pick_rating_low                = -3.0;
	s->pick_half_life_days            = 30.0;
	s->pick_seeds_max                 = 20;
	s->pick_context_weight            = 2.0;
	s->abandoned_min_age_s            = 3600;
	s->abandoned_max_age_s            = 14 * 86400;
	s->pick_days                      = 30;
	s->buy_again_due_share            = 0.8;
}
