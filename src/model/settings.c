/* SPDX-License-Identifier: MIT */
/* Every tunable of the model and its default, in one place. Defaults
 * that decide quality (scorer, support, beta) were chosen by xsell-eval
 * on real data; the README's "Quality" section shows the tables. */
#include "model/model.h"

void
xs_settings_default(struct xs_settings *s)
{
	/* Online Retail has orders of up to 1,110 lines: 1.2 million pair
	 * updates for one order uncapped. 100 items keep 99.4% of its
	 * orders whole (measured: 25,900 invoices, 152 above 100 items). */
	s->max_basket_items = 100;
	s->history_max      = 500;
	/* Chosen by xsell-eval on Online Retail and Groceries: see the
	 * README's "Quality" section for the tables and the commands.
	 * min_support 2 or 3 never raised hit rate beyond noise, and
	 * cost complements on carts half its hits. */
	s->min_support = 1;
	/* tempered: the only scorer that beats popularity clearly on
	 * Groceries carts (+9%, paired interval above 0) and ties it on
	 * product pages, where jaccard loses 12%; on Online Retail it ties
	 * jaccard on carts (0.273 vs 0.276, p 0.66) and beats it on product
	 * pages by 3.6%. Confidence loses 42% on Online Retail carts. */
	s->fbt_scorer = XS_SCORE_TEMPERED;
	/* RP3beta's penalty: 0.25 is within noise of 0 and 20% above 0.5
	 * on Online Retail product pages (README "Quality"). */
	s->complements_beta = 0.25;
	s->walk_width       = 50;
	/* complements on Online Retail (README "Quality", momentum): weight
	 * 300 takes hit rate on product pages from 0.158 (behind the
	 * popularity of the second level, 0.170) to 0.293, on carts from
	 * 0.080 to 0.277. Paired with 100 on three cut-offs it is never
	 * behind and clearly ahead on two of the three carts (+0.047 with
	 * training to August, +0.015 to June); 1,000 ties 300 everywhere,
	 * with less coverage. */
	s->comp_momentum_weight = 300.0;
	/* complements' lists: the best 200 by walk score and, of the 400
	 * most trending items, those reached: on Online Retail every answer
	 * of the bench was then proven the walk's (README "Performance").
	 * An hour bounds how stale a list's answer may be while its own
	 * item sees no order. */
	s->comp_list_len       = 200;
	s->comp_list_trend     = 400;
	s->comp_list_max_age_s = 3600;
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
	/* Jaccard keeps each relation's score in 0..1, so the three can be
	 * summed. Chosen by xsell-eval on Online Retail (README "Quality"):
	 * ahead of cosine for similar on carts (hit rate 0.276 vs 0.260)
	 * and product pages (0.625 vs 0.611), and for picks' for_you in
	 * 19 of 20 half-life x seeds settings tried (0.404 vs 0.398 at
	 * the defaults). Only co-purchase was measured (no export with views
	 * and carts): the weights stay equal until one is. */
	s->similar_scorer                = XS_SCORE_JACCARD;
	s->similar_weight[XS_PART_ORDER] = 1.0;
	s->similar_weight[XS_PART_VIEW]  = 1.0;
	s->similar_weight[XS_PART_CART]  = 1.0;
	s->viewed_bought_scorer          = XS_SCORE_CONFIDENCE;
	s->trend_half_life_days          = 7.0;
	s->trend_view_weight             = 0.1;
	/* DESIGN.md: order > cart > rating >= 4 > view; removals and low
	 * ratings weigh against. Not measured: with orders only (Online
	 * Retail) one weight scales every score alike, so the ranking
	 * cannot tell; they need an export with views and carts. */
	s->pick_weight[XS_EV_ORDER]       = 4.0;
	s->pick_weight[XS_EV_CART_ADD]    = 3.0;
	s->pick_weight[XS_EV_VIEW]        = 1.0;
	s->pick_weight[XS_EV_CART_REMOVE] = -2.0;
	s->pick_weight[XS_EV_RATING]      = 0.0; /* by the two below */
	s->pick_rating_high               = 2.0;
	s->pick_rating_low                = -3.0;
	/* for_you on Online Retail (README "Quality"): half-lives from 7
	 * to 3650 days are within the noise of each other (hit rate
	 * 0.395..0.404 at 20 seeds), so 30 stays. Seeds: 5 -> 20 gains
	 * 0.03 (0.374 -> 0.404); 50 to 200 add under 0.01 (noise) at
	 * 1.7 to 2.5 times the time. */
	s->pick_half_life_days = 30.0;
	s->pick_seeds_max      = 20;
	s->pick_context_weight = 2.0;
	/* for_you on Online Retail (README "Quality", momentum): weight 30
	 * took hit rate from 0.399 (behind trending's 0.413) to 0.468 with
	 * more recall and NDCG; on two earlier cut-offs it lost nothing. The
	 * prior keeps an item with a handful of orders, all last week, from
	 * the full share. */
	s->pick_momentum_weight = 30.0;
	s->pick_momentum_prior  = 10.0;
	s->pick_keep_answers    = true;

	s->abandoned_min_age_s = XSELL_PICK_MIN_AGE_DEFAULT;
	s->abandoned_max_age_s = XSELL_PICK_MAX_AGE_DEFAULT;
	s->pick_days           = 30;
	/* xsell-eval on Online Retail (README, Quality: buy_again): ranking
	 * by the user's own orders of the item beat every baseline's NDCG
	 * and MRR, where other buyers' rebuy rate alone and a hard "due"
	 * cut at 0.8 of the interval lost to random; any hard cut (0.1 of
	 * the interval on) lost hit rate, a half weight before due kept it.
	 */
	s->buy_again_rate_floor     = 0.1;
	s->buy_again_not_due_weight = 0.5;
	s->buy_again_due_share      = 0.0;
}
