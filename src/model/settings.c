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
	/* jaccard: best on carts (hit rate 0.276 vs confidence 0.160 and
	 * popularity 0.037 on Online Retail), 5.5% behind confidence with
	 * one given item; confidence loses 42% on carts. */
	s->fbt_scorer = XS_SCORE_JACCARD;
	/* RP3beta's penalty: 0.25 is within noise of 0 and 20% above 0.5
	 * on Online Retail product pages (README "Quality"). */
	s->complements_beta = 0.25;
	s->walk_width       = 50;
}
