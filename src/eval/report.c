/* SPDX-License-Identifier: MIT */
/* The report in four forms: an aligned table for a terminal, JSON for
 * machines, Markdown for the README, and an SVG bar chart of hit rate.
 * All four print the same rows in the same (best first) order. */
#include "eval/eval.h"

#include <jansson.h>
#include <string.h>

static const char *
ask_name(const struct xs_eval_report *rep, int a)
{
	if (xs_eval_answer_per_user((enum xs_eval_answer) a)) {
		return a == XS_EVAL_BUY_AGAIN
		    ? "asked per test user; relevant: items bought again"
		    : "asked per test user; relevant: items new to the user";
	}
	if (a == XS_EVAL_VIEWED_BOUGHT) {
		return "asked per test order with the items viewed before it; "
		       "relevant: its items not viewed";
	}
	if (a == XS_EVAL_SIMILAR_VIEWS) {
		return rep->ask_one
		    ? "asked per test session with its first viewed item; "
		      "relevant: the other items viewed"
		    : "asked per test session with its views but the latest; "
		      "relevant: the latest viewed item";
	}
	return rep->ask_one ? "asked with one item of the basket"
	                    : "asked with the rest of the basket";
}

static const char *
method_name(const struct xs_eval_row *r)
{
	return r->cfg.baseline ? "baseline" : "engine";
}

/* The best engine row that is not a baseline, and the popularity row. */
static void
best_and_popular(const struct xs_eval_answer_report *ar,
    const struct xs_eval_row **best, const struct xs_eval_row **pop)
{
	*best = NULL;
	*pop  = NULL;
	for (size_t i = 0; i < ar->n_rows; i++) {
		const struct xs_eval_row *r = &ar->rows[i];

		if (*best == NULL && !r->cfg.baseline &&
		    r->cfg.method == XS_METHOD_ENGINE) {
			*best = r;
		}
		if (*pop == NULL && r->cfg.method == XS_METHOD_POPULAR) {
			*pop = r;
		}
	}
}

/* The end of an answer's counts line: how many were eligible and
 * asked, and the test 'what' (lines, order lines, views) of items
 * training does not know. */
static void
print_asked(FILE *f, const struct xs_eval_answer_report *ar, const char *what)
{
	fprintf(f,
	    "; %llu eligible, %llu asked; %llu test %s of items unknown in "
	    "training\n",
	    (unsigned long long) ar->eligible,
	    (unsigned long long) ar->queries,
	    (unsigned long long) ar->unknown_items, what);
}

/* Per-user answers: who could be asked and who not, and why. */
static void
print_user_counts(
    FILE *f, const struct xs_eval_answer_report *ar, const char *pre)
{
	fprintf(f,
	    "%stest orders %llu (%llu of guests, not asked); test users "
	    "%llu: %llu new (no training order), %llu with nothing "
	    "relevant, %llu whose relevant items are all unknown in "
	    "training",
	    pre, (unsigned long long) ar->test_orders,
	    (unsigned long long) ar->guest_orders,
	    (unsigned long long) ar->test_users,
	    (unsigned long long) ar->new_users,
	    (unsigned long long) ar->ineligible,
	    (unsigned long long) ar->cold_orders);
	print_asked(f, ar, "lines");
}

/* Per-session answers: sessions of views, or orders after views. */
static void
print_session_counts(FILE *f, const struct xs_eval_answer_report *ar,
    const char *pre, bool orders)
{
	if (orders) {
		fprintf(f,
		    "%stest orders %llu: %llu without a test view of their "
		    "user before them (guest orders too), %llu cold (no "
		    "viewed or no bought item known in training), %llu "
		    "whose items were all viewed",
		    pre, (unsigned long long) ar->test_orders,
		    (unsigned long long) ar->no_views,
		    (unsigned long long) ar->cold_orders,
		    (unsigned long long) ar->ineligible);
	} else {
		fprintf(f,
		    "%stest sessions %llu: %llu cold (no viewed item known "
		    "in training), %llu with one known item",
		    pre, (unsigned long long) ar->test_orders,
		    (unsigned long long) ar->cold_orders,
		    (unsigned long long) ar->short_orders);
	}
	print_asked(f, ar, orders ? "order lines" : "views");
}

static void
print_answer_counts(
    FILE *f, const struct xs_eval_answer_report *ar, const char *pre, int a)
{
	if (ar->per_user) {
		print_user_counts(f, ar, pre);
		return;
	}
	if (ar->per_session) {
		print_session_counts(f, ar, pre, a == XS_EVAL_VIEWED_BOUGHT);
		return;
	}
	fprintf(f,
	    "%stest baskets %llu: %llu cold (no item known in training), "
	    "%llu with one known item",
	    pre, (unsigned long long) ar->test_orders,
	    (unsigned long long) ar->cold_orders,
	    (unsigned long long) ar->short_orders);
	if (ar->ineligible) {
		fprintf(f,
		    ", %llu with every item a first-level neighbour of "
		    "the rest",
		    (unsigned long long) ar->ineligible);
	}
	print_asked(f, ar, "lines");
}

static void
print_table_row(FILE *f, const struct xs_eval_row *r)
{
	fprintf(f,
	    "%-26s %-8s %7.4f %7.4f %7.4f %7.4f %7.4f %7.4f %6.3f %8.1f "
	    "%8.1f %8.1f",
	    r->name, method_name(r), r->hit_rate, r->hit_ci95, r->precision,
	    r->recall, r->ndcg, r->mrr, r->coverage, r->mean_pop,
	    r->lat_mean_us, r->lat_p99_us);
	if (r->has_vs) {
		fprintf(f, " %+8.4f [%+8.4f,%+8.4f] %8.2g\n", r->vs.diff,
		    r->vs.lo, r->vs.hi, r->vs.p);
	} else {
		fprintf(f, " %8s %19s %8s\n", "-", "-", "-");
	}
}

void
xs_eval_print_table(FILE *f, const struct xs_eval_report *rep)
{
	fprintf(f,
	    "orders %llu (train %llu, test %llu), items %u (%u known in "
	    "training); excluded %llu lines, %llu orders left empty\n"
	    "read %.1f s, train %.1f s, evaluate %.1f s\n",
	    (unsigned long long) rep->orders,
	    (unsigned long long) rep->train_orders,
	    (unsigned long long) rep->test_orders, rep->items,
	    rep->known_items, (unsigned long long) rep->excluded_lines,
	    (unsigned long long) rep->excluded_orders, rep->load_s,
	    rep->train_s, rep->eval_s);
	if (rep->events > 0) {
		fprintf(f,
		    "events %llu (train %llu, test %llu): views, cart events "
		    "and ratings; %u items viewed in training, %u bought or "
		    "viewed (coverage's catalogue)\n",
		    (unsigned long long) rep->events,
		    (unsigned long long) rep->train_events,
		    (unsigned long long) rep->test_events, rep->viewed_items,
		    rep->trained_items);
	}
	for (int a = 0; a < XS_EVAL_ANSWER_COUNT; a++) {
		const struct xs_eval_answer_report *ar = &rep->ans[a];

		if (!ar->on) {
			continue;
		}
		fprintf(f, "\n%s @%u, %s\n", xs_eval_answer_name(a), rep->k,
		    ask_name(rep, a));
		print_answer_counts(f, ar, "", a);
		if (ar->queries == 0) {
			fprintf(f, "nothing to measure\n");
			continue;
		}
		if (ar->versus[0] != '\0') {
			fprintf(f,
			    "paired with %s on the same queries: dHR = HR "
			    "minus its, [95%% interval], p = McNemar's exact "
			    "(clearly better: the interval above 0)\n",
			    ar->versus);
		}
		fprintf(f,
		    "%-26s %-8s %7s %7s %7s %7s %7s %7s %6s %8s %8s %8s "
		    "%8s %19s %8s\n",
		    "row", "kind", "HR", "+-95%", "prec", "recall", "NDCG",
		    "MRR", "cover", "pop", "mean_us", "p99_us", "dHR",
		    "[95% interval]", "p");
		for (size_t i = 0; i < ar->n_rows; i++) {
			print_table_row(f, &ar->rows[i]);
		}
	}
}

static json_t *
row_json(const struct xs_eval_row *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "name", json_string(r->name));
	json_object_set_new(o, "kind", json_string(method_name(r)));
	if (r->cfg.method == XS_METHOD_ENGINE) {
		if (r->cfg.answer == XS_EVAL_FBT ||
		    r->cfg.answer == XS_EVAL_VIEWED_BOUGHT) {
			json_object_set_new(o, "scorer",
			    json_string(xs_scorer_name(r->cfg.scorer)));
		} else if (r->cfg.answer == XS_EVAL_PICKS) {
			json_object_set_new(o, "similar_scorer",
			    json_string(xs_scorer_name(r->cfg.sim_scorer)));
			json_object_set_new(
			    o, "half_life_days", json_real(r->cfg.half_life));
			json_object_set_new(
			    o, "seeds_max", json_integer(r->cfg.seeds));
			json_object_set_new(
			    o, "momentum_weight", json_real(r->cfg.momentum));
		} else if (r->cfg.answer == XS_EVAL_SIMILAR) {
			json_object_set_new(o, "similar_scorer",
			    json_string(xs_scorer_name(r->cfg.sim_scorer)));
		} else if (r->cfg.answer == XS_EVAL_SIMILAR_VIEWS) {
			json_object_set_new(o, "similar_scorer",
			    json_string(xs_scorer_name(r->cfg.sim_scorer)));
			json_object_set_new(o, "signal",
			    json_string(xs_signal_name(r->cfg.signal)));
		} else if (r->cfg.answer == XS_EVAL_COMPLEMENTS) {
			json_object_set_new(o, "beta", json_real(r->cfg.beta));
			json_object_set_new(
			    o, "momentum_weight", json_real(r->cfg.momentum));
		}
		json_object_set_new(
		    o, "min_support", json_integer(r->cfg.min_support));
	}
	json_object_set_new(
	    o, "queries", json_integer((json_int_t) r->queries));
	json_object_set_new(o, "hit_rate", json_real(r->hit_rate));
	json_object_set_new(o, "hit_rate_ci95", json_real(r->hit_ci95));
	json_object_set_new(o, "precision", json_real(r->precision));
	json_object_set_new(o, "recall", json_real(r->recall));
	json_object_set_new(o, "ndcg", json_real(r->ndcg));
	json_object_set_new(o, "mrr", json_real(r->mrr));
	json_object_set_new(o, "coverage", json_real(r->coverage));
	json_object_set_new(o, "mean_popularity", json_real(r->mean_pop));
	json_object_set_new(o, "latency_mean_us", json_real(r->lat_mean_us));
	json_object_set_new(o, "latency_p50_us", json_real(r->lat_p50_us));
	json_object_set_new(o, "latency_p99_us", json_real(r->lat_p99_us));
	if (r->has_vs) {
		json_t *v = json_object();

		json_object_set_new(
		    v, "wins", json_integer((json_int_t) r->vs.wins));
		json_object_set_new(
		    v, "losses", json_integer((json_int_t) r->vs.losses));
		json_object_set_new(v, "hit_rate_diff", json_real(r->vs.diff));
		json_object_set_new(v, "ci95_low", json_real(r->vs.lo));
		json_object_set_new(v, "ci95_high", json_real(r->vs.hi));
		json_object_set_new(v, "p_mcnemar", json_real(r->vs.p));
		json_object_set_new(o, "versus", v);
	}
	return o;
}

static void
set_count(json_t *o, const char *key, uint64_t v)
{
	json_object_set_new(o, key, json_integer((json_int_t) v));
}

/* Who was asked, per test basket or per test user. */
static void
answer_counts_json(json_t *o, const struct xs_eval_answer_report *ar, int a)
{
	if (ar->per_user) {
		set_count(o, "test_orders", ar->test_orders);
		set_count(o, "guest_orders", ar->guest_orders);
		set_count(o, "test_users", ar->test_users);
		set_count(o, "new_users", ar->new_users);
		set_count(o, "nothing_relevant", ar->ineligible);
		set_count(o, "cold_users", ar->cold_orders);
	} else if (ar->per_session) {
		bool orders = a == XS_EVAL_VIEWED_BOUGHT;

		set_count(o, orders ? "test_orders" : "test_sessions",
		    ar->test_orders);
		set_count(o, "cold", ar->cold_orders);
		if (orders) {
			set_count(o, "no_views", ar->no_views);
			set_count(o, "all_bought_viewed", ar->ineligible);
		} else {
			set_count(o, "one_known_item", ar->short_orders);
		}
	} else {
		set_count(o, "test_baskets", ar->test_orders);
		set_count(o, "cold_baskets", ar->cold_orders);
		set_count(o, "one_known_item", ar->short_orders);
		set_count(o, "all_first_level", ar->ineligible);
	}
	set_count(o, "eligible", ar->eligible);
	set_count(o, "queries", ar->queries);
	set_count(o, "unknown_item_lines", ar->unknown_items);
}

static json_t *
answer_json(const struct xs_eval_answer_report *ar, int a)
{
	json_t *o    = json_object();
	json_t *rows = json_array();

	answer_counts_json(o, ar, a);
	if (ar->versus[0] != '\0') {
		json_object_set_new(o, "versus", json_string(ar->versus));
	}
	for (size_t i = 0; i < ar->n_rows; i++) {
		json_array_append_new(rows, row_json(&ar->rows[i]));
	}
	json_object_set_new(o, "rows", rows);
	return o;
}

xsell_err
xs_eval_print_json(FILE *f, const struct xs_eval_report *rep)
{
	json_t *o   = json_object();
	json_t *ans = json_object();
	int     rc;

	if (o == NULL || ans == NULL) {
		json_decref(o);
		json_decref(ans);
		return XSELL_ENOMEM;
	}
	json_object_set_new(o, "k", json_integer(rep->k));
	json_object_set_new(
	    o, "ask", json_string(rep->ask_one ? "one" : "rest"));
	json_object_set_new(
	    o, "orders", json_integer((json_int_t) rep->orders));
	json_object_set_new(
	    o, "train_orders", json_integer((json_int_t) rep->train_orders));
	json_object_set_new(
	    o, "test_orders", json_integer((json_int_t) rep->test_orders));
	json_object_set_new(o, "items", json_integer(rep->items));
	json_object_set_new(o, "known_items", json_integer(rep->known_items));
	json_object_set_new(
	    o, "events", json_integer((json_int_t) rep->events));
	json_object_set_new(
	    o, "train_events", json_integer((json_int_t) rep->train_events));
	json_object_set_new(
	    o, "test_events", json_integer((json_int_t) rep->test_events));
	json_object_set_new(
	    o, "viewed_items", json_integer(rep->viewed_items));
	json_object_set_new(
	    o, "trained_items", json_integer(rep->trained_items));
	json_object_set_new(o, "excluded_lines",
	    json_integer((json_int_t) rep->excluded_lines));
	json_object_set_new(o, "excluded_orders",
	    json_integer((json_int_t) rep->excluded_orders));
	json_object_set_new(o, "read_seconds", json_real(rep->load_s));
	json_object_set_new(o, "train_seconds", json_real(rep->train_s));
	json_object_set_new(o, "eval_seconds", json_real(rep->eval_s));
	for (int a = 0; a < XS_EVAL_ANSWER_COUNT; a++) {
		if (rep->ans[a].on) {
			json_object_set_new(ans, xs_eval_answer_name(a),
			    answer_json(&rep->ans[a], a));
		}
	}
	json_object_set_new(o, "answers", ans);
	rc = json_dumpf(o, f, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
	json_decref(o);
	if (rc != 0) {
		return XSELL_EIO;
	}
	fputc('\n', f);
	return XSELL_OK;
}

/* What a paired interval says: above 0, below 0, or neither. */
static const char *
paired_verdict(const struct xs_eval_paired *p)
{
	if (p->lo > 0) {
		return "clearly better";
	}
	return p->hi < 0 ? "clearly worse" : "within the noise";
}

static void
print_markdown_row(FILE *f, const struct xs_eval_row *r)
{
	fprintf(f,
	    "| %s | %s | %.4f ± %.4f | %.4f | %.4f | %.4f | %.4f | %.3f | "
	    "%.1f | %.0f, %.0f | ",
	    r->name, method_name(r), r->hit_rate, r->hit_ci95, r->precision,
	    r->recall, r->ndcg, r->mrr, r->coverage, r->mean_pop,
	    r->lat_mean_us, r->lat_p99_us);
	if (r->has_vs) {
		fprintf(f, "%+.4f [%+.4f, %+.4f], %.2g |\n", r->vs.diff,
		    r->vs.lo, r->vs.hi, r->vs.p);
	} else {
		fprintf(f, " |\n");
	}
}

void
xs_eval_print_markdown(FILE *f, const struct xs_eval_report *rep,
    const char *command, const char *svg_name)
{
	fprintf(f, "# xsell-eval report\n\n");
	if (command != NULL) {
		fprintf(f, "```sh\n%s\n```\n\n", command);
	}
	fprintf(f,
	    "%llu orders (training %llu, test %llu), %u items of which %u "
	    "known in training; %llu excluded lines. Metrics at K = %u; "
	    "reading took %.1f s, training %.1f s, the evaluation %.1f s.\n",
	    (unsigned long long) rep->orders,
	    (unsigned long long) rep->train_orders,
	    (unsigned long long) rep->test_orders, rep->items,
	    rep->known_items, (unsigned long long) rep->excluded_lines, rep->k,
	    rep->load_s, rep->train_s, rep->eval_s);
	for (int a = 0; a < XS_EVAL_ANSWER_COUNT; a++) {
		const struct xs_eval_answer_report *ar = &rep->ans[a];
		const struct xs_eval_row           *best, *pop;

		if (!ar->on) {
			continue;
		}
		fprintf(f, "\n## %s (%s)\n\n", xs_eval_answer_name(a),
		    ask_name(rep, a));
		print_answer_counts(f, ar, "", a);
		if (ar->queries == 0) {
			fprintf(f, "\nNothing to measure.\n");
			continue;
		}
		fprintf(f,
		    "\n| row | kind | HR@%u (±95%%) | P@%u | R@%u | NDCG@%u | "
		    "MRR | coverage | mean pop. | µs/query (mean, p99) | "
		    "ΔHR vs %s [95%%], p |\n"
		    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
		    rep->k, rep->k, rep->k, rep->k,
		    ar->versus[0] != '\0' ? ar->versus : "(none)");
		for (size_t i = 0; i < ar->n_rows; i++) {
			print_markdown_row(f, &ar->rows[i]);
		}
		best_and_popular(ar, &best, &pop);
		if (best != NULL && pop != NULL && pop->hit_rate > 0) {
			fprintf(f,
			    "\nBest: **%s**, hit rate %.4f against "
			    "popularity's "
			    "%.4f (%.2fx).\n",
			    best->name, best->hit_rate, pop->hit_rate,
			    best->hit_rate / pop->hit_rate);
		}
		if (best != NULL && best->has_vs) {
			fprintf(f,
			    "Paired with %s on the same %llu queries: %+.4f "
			    "[%+.4f, %+.4f], McNemar p = %.2g (%s).\n",
			    ar->versus, (unsigned long long) best->vs.n,
			    best->vs.diff, best->vs.lo, best->vs.hi,
			    best->vs.p, paired_verdict(&best->vs));
		}
	}
	if (svg_name != NULL) {
		fprintf(f, "\n![hit rate per row](%s)\n", svg_name);
	}
}

/* ==== SVG ==== */

#define SVG_BAR_H 16
#define SVG_LABEL_W 190
#define SVG_PLOT_W 420

static void
svg_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '<') {
			fputs("&lt;", f);
		} else if (*s == '&') {
			fputs("&amp;", f);
		} else if (*s == '>') {
			fputs("&gt;", f);
		} else {
			fputc(*s, f);
		}
	}
}

void
xs_eval_print_svg(FILE *f, const struct xs_eval_report *rep)
{
	double max   = 0;
	int    lines = 0, y = 0;

	for (int a = 0; a < XS_EVAL_ANSWER_COUNT; a++) {
		if (!rep->ans[a].on) {
			continue;
		}
		lines += 1 + (int) rep->ans[a].n_rows;
		for (size_t i = 0; i < rep->ans[a].n_rows; i++) {
			if (rep->ans[a].rows[i].hit_rate > max) {
				max = rep->ans[a].rows[i].hit_rate;
			}
		}
	}
	if (max <= 0) {
		max = 1;
	}
	fprintf(f,
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	    "height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">\n",
	    SVG_LABEL_W + SVG_PLOT_W + 70, (lines + 1) * (SVG_BAR_H + 4));
	for (int a = 0; a < XS_EVAL_ANSWER_COUNT; a++) {
		const struct xs_eval_answer_report *ar = &rep->ans[a];

		if (!ar->on) {
			continue;
		}
		y += SVG_BAR_H + 4;
		fprintf(f,
		    "<text x=\"4\" y=\"%d\" font-weight=\"bold\">%s: hit "
		    "rate @%u</text>\n",
		    y - 4, xs_eval_answer_name(a), rep->k);
		for (size_t i = 0; i < ar->n_rows; i++) {
			const struct xs_eval_row *r = &ar->rows[i];
			int w = (int) (r->hit_rate / max * SVG_PLOT_W);

			fprintf(f,
			    "<text x=\"%d\" y=\"%d\" "
			    "text-anchor=\"end\">",
			    SVG_LABEL_W - 6, y + SVG_BAR_H);
			svg_escape(f, r->name);
			fprintf(f,
			    "</text>\n<rect x=\"%d\" y=\"%d\" width=\"%d\" "
			    "height=\"%d\" fill=\"%s\"/>\n"
			    "<text x=\"%d\" y=\"%d\">%.4f</text>\n",
			    SVG_LABEL_W, y + 4, w, SVG_BAR_H - 2,
			    r->cfg.baseline ? "#999999" : "#3a6ea5",
			    SVG_LABEL_W + w + 4, y + SVG_BAR_H, r->hit_rate);
			y += SVG_BAR_H + 4;
		}
	}
	fprintf(f, "</svg>\n");
}
