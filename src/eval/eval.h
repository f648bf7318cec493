/* SPDX-License-Identifier: MIT */
/* Offline quality: an export of orders -> a split into training and test
 * orders -> a temporary store trained with the real write path
 * (xs_model_apply) -> the real answers (xs_model_fbt,
 * xs_model_complements) asked in process for every test query -> hit
 * rate, precision, recall, NDCG, MRR, coverage, popularity and latency,
 * side by side with baselines (popularity, random) on the same queries.
 *
 * Shaped so that a new answer is one small function: a protocol turns
 * test orders into queries (given items, relevant items), and a
 * recommender turns a query into a ranked list of items. The engine's
 * answers and the baselines are both recommenders, so they are measured
 * by the same code on the same queries.
 *
 * Items are numbered by the evaluator ("eval ids", 0-based, in order of
 * first appearance in the export); the store's dense ids are used only
 * through the engine and for the first-level neighbourhood that the
 * complements protocol needs. Threads: one thread per handle. */
#ifndef XSELL_EVAL_EVAL_H
#define XSELL_EVAL_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/common.h"
#include "load/load.h"
#include "model/model.h"
#include "store/store.h"

/* ==== The export in memory ==== */

/* One order after grouping and exclusions: distinct items only. */
struct xs_eval_order {
	uint64_t items_off; /* first item in xs_eval_data's item array */
	uint32_t n_items;   /* distinct items kept */
	uint32_t user;      /* 0: guest, else user number + 1 */
	uint32_t name;      /* string number of the order id */
	int64_t  ts;        /* unix seconds */
};

typedef struct xs_eval_data xs_eval_data;

xsell_err xs_eval_data_alloc(xs_eval_data **dp);
void      xs_eval_data_free(xs_eval_data *d);

/* What the loader left out of the export (xs_loader_exclude_item), for
 * the report: its excluded lines (xs_load_counts.excluded, the lines of
 * the files, as xsell-load reports them) and the orders that had
 * nothing else (xs_loader_n_orders_left_empty). Items to leave out are
 * given to the loader, which drops them before the orders get here. */
void xs_eval_data_set_excluded(
    xs_eval_data *d, uint64_t lines, uint64_t orders);

/* Add grouped orders and single events (as xs_loader_each_order passes
 * them; the signature is xs_load_orders_cb, so this can be that callback
 * with 'ctx' the data). Strings are copied; an order of no line is
 * none. XSELL_ENOMEM, XSELL_ETOOBIG past 2^32 items, orders or
 * events. */
xsell_err xs_eval_data_add(void *ctx, const struct xs_event *evs, size_t n);

size_t                      xs_eval_data_n_orders(const xs_eval_data *d);
const struct xs_eval_order *xs_eval_data_order(
    const xs_eval_data *d, size_t i);
/* The items of an order (eval ids); borrowed until the next add. */
const uint32_t *xs_eval_data_order_items(
    const xs_eval_data *d, const struct xs_eval_order *o);
/* Items (eval ids are 0 .. n-1). */
uint32_t xs_eval_data_n_items(const xs_eval_data *d);
/* External id of an item or of an order name; borrowed until the next
 * add. */
struct xs_span xs_eval_data_item_ext(const xs_eval_data *d, uint32_t item);
struct xs_span xs_eval_data_order_ext(
    const xs_eval_data *d, const struct xs_eval_order *o);
/* External id of an order's user; len 0 for a guest order. */
struct xs_span xs_eval_data_user_ext(
    const xs_eval_data *d, const struct xs_eval_order *o);
/* Eval id of an external item id; false if never seen. */
bool xs_eval_data_item_find(
    const xs_eval_data *d, const char *p, size_t len, uint32_t *idp);
/* One view, cart event or rating (the loader's single events): views
 * are what the session protocols (similar_views, viewed_bought) read;
 * every kind is trained. */
struct xs_eval_event {
	uint32_t item;   /* eval id */
	uint32_t user;   /* user number + 1 (an event always has a user) */
	int64_t  ts;     /* unix seconds */
	uint8_t  type;   /* enum xs_event_type, never XS_EV_ORDER */
	uint8_t  rating; /* 1..5, ratings only */
};

/* Events, in the order they were added (the loader's file order). */
size_t                      xs_eval_data_n_events(const xs_eval_data *d);
const struct xs_eval_event *xs_eval_data_event(
    const xs_eval_data *d, size_t i);
/* External id of a user number (1-based, as in orders and events). */
struct xs_span xs_eval_data_user_name(const xs_eval_data *d, uint32_t user);

/* Lines dropped by the exclusions, and orders left empty by them, as
 * xs_eval_data_set_excluded gave them (0 if never). */
uint64_t xs_eval_data_excluded_lines(const xs_eval_data *d);
uint64_t xs_eval_data_excluded_orders(const xs_eval_data *d);

/* ==== Splits ==== */

enum xs_eval_split_kind {
	XS_SPLIT_TIME,   /* train: ts before the cut; test: the rest */
	XS_SPLIT_LAST,   /* test: each known user's latest order */
	XS_SPLIT_RANDOM, /* test: each order with probability test_frac */
};

struct xs_eval_split {
	enum xs_eval_split_kind kind;
	int64_t                 cut_ts;    /* time: first second of test */
	double                  test_frac; /* random: (0, 1) */
	uint64_t                seed;      /* random */
};

/* Parse "time:WHEN", "last" or "random[:FRACTION]" (default 0.2). WHEN
 * is any timestamp xs_load_ts_parse takes; a bare date "YYYY-MM-DD" keeps
 * that whole day in training (test starts at the next midnight), so
 * "time:2011-09-30" trains on everything up to 2011-09-30 23:59:59. The
 * seed is not set here. XSELL_EINVAL with the reason in err. */
xsell_err xs_eval_split_parse(
    const char *arg, struct xs_eval_split *out, char *err, size_t err_len);

/* Mark each order: is_test[i] 1 for test, 0 for training (caller's array
 * of xs_eval_data_n_orders entries). last: guest orders and the only
 * order of a one-order user stay in training; among a user's orders the
 * latest ts wins, ties by position in the export. random: decided by a
 * hash of (seed, order id), so the split does not depend on file order.
 * Deterministic. XSELL_ENOMEM. */
xsell_err xs_eval_split_apply(
    const xs_eval_data *d, const struct xs_eval_split *s, uint8_t *is_test);

/* Mark each event: ev_is_test[i] 1 for test (caller's array of
 * xs_eval_data_n_events entries). time: by ts, as orders; random: by a
 * seeded hash of the user (a session stays whole on one side); last:
 * every event in training (only orders are held out). Deterministic. */
void xs_eval_split_events(
    const xs_eval_data *d, const struct xs_eval_split *s, uint8_t *ev_is_test);

/* ==== Training ==== */

/* Apply every training order and event to 'st' with the real write path
 * (xs_model_apply) under settings 'set', in time order (at one second,
 * events before orders: a view precedes the purchase it led to; then
 * the order they were added in), in write transactions of a few
 * thousand. ev_is_test may be NULL when there are no events.
 * *n_appliedp: orders and events the store took. XSELL_EMAPFULL,
 * XSELL_EIO, XSELL_ENOMEM. */
xsell_err xs_eval_train(const xs_eval_data *d, const uint8_t *is_test,
    const uint8_t *ev_is_test, xs_store *st, const struct xs_settings *set,
    uint64_t *n_appliedp);

/* ==== Metrics ==== */

/* One query's scores at K. */
struct xs_eval_qscore {
	double hit;       /* 1 if a relevant item is in the top K */
	double precision; /* relevant in top K / K */
	double recall;    /* relevant in top K / relevant */
	double ndcg;      /* binary DCG@K / ideal DCG@K */
	double rr;        /* 1 / rank of the first relevant, 0 if none */
};

/* Score a ranked list recs[0..n_recs) (only the first k count) against
 * the set relevant[0..n_rel) (n_rel >= 1; items in it may be ones that
 * can never be recommended: they still count in recall and the ideal
 * DCG). DCG = sum over relevant ranks r (1-based) of 1/log2(r+1); the
 * ideal places min(n_rel, k) relevant items first. */
void xs_eval_score(const uint32_t *recs, size_t n_recs, unsigned k,
    const uint32_t *relevant, size_t n_rel, struct xs_eval_qscore *out);

/* Row against reference on the same queries, hit by hit (paired). */
struct xs_eval_paired {
	uint64_t n;      /* queries */
	uint64_t wins;   /* hit by the row, missed by the reference */
	uint64_t losses; /* missed by the row, hit by the reference */
	double   diff;   /* HR(row) - HR(reference) = (wins - losses) / n */
	double   lo, hi; /* diff's 95% interval (normal, paired): a row
	                    beats the reference clearly when lo > 0 */
	double p;        /* McNemar's exact two-sided p-value: 2 P(X <= the
	                    smaller of wins, losses), X ~ Bin(wins + losses,
	                    1/2), capped at 1; 1 when no query differs */
};

/* Compare per-query hits hit[0..n) (1 or 0) with ref[0..n) on the same
 * queries. With d_i = hit_i - ref_i: diff = mean d, and the interval
 * diff +- 1.96 sqrt(((wins + losses)/n - diff^2) / n). */
void xs_eval_paired_compare(const uint8_t *hit, const uint8_t *ref, size_t n,
    struct xs_eval_paired *out);

/* ==== Runs ==== */

/* What is evaluated. Adding an answer: a bit here, a protocol (if its
 * queries differ) in queries.c and a recommender in recommend.c. fbt
 * and complements ask per test basket, and so does similar (with fbt's
 * protocol); picks (for_you) and buy_again per test user, with the
 * user's training history. */
enum xs_eval_answer {
	XS_EVAL_FBT,
	XS_EVAL_COMPLEMENTS,
	XS_EVAL_PICKS,
	XS_EVAL_BUY_AGAIN,
	XS_EVAL_SIMILAR,
	XS_EVAL_SIMILAR_VIEWS, /* per test session of views */
	XS_EVAL_VIEWED_BOUGHT, /* per test order after views */
	XS_EVAL_ANSWER_COUNT
};

/* Does answer 'a' ask per test user (rather than per test basket)? */
bool xs_eval_answer_per_user(enum xs_eval_answer a);

const char *xs_eval_answer_name(enum xs_eval_answer a);
bool        xs_eval_answer_parse(const char *name, enum xs_eval_answer *out);

enum xs_eval_method {
	XS_METHOD_ENGINE,   /* the answer itself, with the config's settings */
	XS_METHOD_POPULAR,  /* most training baskets first */
	XS_METHOD_RANDOM,   /* seeded random known items */
	XS_METHOD_TRENDING, /* xs_model_trending's list, as of training's
	                       last day */
};

/* One row of the grid: how one answer is produced. */
struct xs_eval_config {
	enum xs_eval_answer answer;
	enum xs_eval_method method;
	enum xs_scorer      scorer;      /* fbt */
	unsigned            min_support; /* engine */
	double              beta;        /* complements */
	/* picks: the settings pick_half_life_days, pick_seeds_max,
	 * pick_momentum_weight and similar_scorer for this row (similar:
	 * sim_scorer only; complements: momentum is comp_momentum_weight) */
	double         half_life;
	unsigned       seeds;
	double         momentum;
	enum xs_scorer sim_scorer;
	enum xs_signal signal;   /* similar_views: view or all */
	bool           baseline; /* a baseline row (co-count too) */
};

/* The grid and the protocol's knobs. */
#define XS_EVAL_GRID_MAX 16
struct xs_eval_opts {
	struct xs_eval_split split;
	unsigned             k;    /* 1..XSELL_K_MAX */
	uint64_t             seed; /* hidden items, random baseline */
	bool                 answers[XS_EVAL_ANSWER_COUNT];
	enum xs_scorer       scorers[XS_SCORER_COUNT];
	size_t               n_scorers;
	unsigned             min_supports[XS_EVAL_GRID_MAX];
	size_t               n_min_supports;
	double               betas[XS_EVAL_GRID_MAX];
	size_t               n_betas;
	/* picks (for_you): half-life in days, seeds, momentum weights,
	 * similar scorers */
	double   half_lives[XS_EVAL_GRID_MAX];
	size_t   n_half_lives;
	unsigned seeds_max[XS_EVAL_GRID_MAX];
	size_t   n_seeds_max;
	double   momenta[XS_EVAL_GRID_MAX];
	size_t   n_momenta;
	/* complements: comp_momentum_weight values */
	double         comp_momenta[XS_EVAL_GRID_MAX];
	size_t         n_comp_momenta;
	enum xs_scorer sim_scorers[XS_SCORER_COUNT];
	size_t         n_sim_scorers;
	/* similar_views: the signals asked (view, all) */
	enum xs_signal signals[XS_SIGNAL_COUNT];
	size_t         n_signals;
	bool           baselines;   /* popularity, random, co-count */
	size_t         max_queries; /* per answer, 0: all */
	/* Ask with one item of the basket (a product page) and count every
	 * other item relevant, instead of hiding one item and asking with
	 * the rest (a cart). */
	bool ask_one;
	/* The row every other row of an answer is paired with (its name,
	 * e.g. "jaccard ms=1"); NULL: the popularity baseline. An answer
	 * without such a row gets no paired figures. */
	const char        *versus;
	struct xs_settings settings;  /* training and defaults */
	const char        *store_dir; /* an empty directory for the store */
	unsigned           top_m;     /* the store's top lists; 0: default */
	/* After training, compute complements' precomputed lists, so that
	 * its answers come from them where they prove to be the walk's. */
	bool comp_lists;
};

/* Defaults: time split unset (caller sets it), k 10, seed 42, fbt and
 * complements, the default scorer, min_support, beta and picks
 * settings, baselines on. */
void xs_eval_opts_default(struct xs_eval_opts *o);

/* One measured row. */
struct xs_eval_row {
	struct xs_eval_config cfg;
	char                  name[80]; /* "fbt lift ms=2", "popularity" */
	uint64_t              queries;
	double hit_rate, precision, recall, ndcg, mrr; /* means at K */
	double hit_ci95; /* half-width of hit rate's 95% interval (normal
	                    approximation): differences below it are noise */
	double coverage; /* distinct items recommended / items training
	                    knows (trained_items), the same for every
	                    answer */
	double mean_pop; /* mean training baskets of a recommended item */
	double lat_mean_us, lat_p50_us, lat_p99_us; /* per query */
	/* Against the answer's reference row (xs_eval_answer_report's
	 * versus) on the same queries; has_vs false in that row itself and
	 * when the answer has none. */
	bool                  has_vs;
	struct xs_eval_paired vs;
};

/* What the protocol made of the test orders of one answer. */
struct xs_eval_answer_report {
	bool     on;
	uint64_t test_orders;   /* test orders (after exclusions) */
	uint64_t cold_orders;   /* none of their items known in training */
	uint64_t short_orders;  /* fewer than 2 known items */
	uint64_t ineligible;    /* complements: every item a first-level
	                           neighbour of the rest */
	uint64_t eligible;      /* could be asked */
	uint64_t queries;       /* asked (eligible, or --max-queries) */
	uint64_t unknown_items; /* test items never in training (lines) */
	/* Per-user answers (picks, buy_again): test_orders as above;
	 * cold_orders counts users whose relevant items are all unknown in
	 * training, ineligible those with no relevant item (picks: every
	 * test item bought in training already; buy_again: none bought
	 * again), eligible and queries count users. */
	bool per_user;
	/* Per-session answers (similar_views, viewed_bought): test_orders
	 * counts test sessions (similar_views) or test orders
	 * (viewed_bought); cold_orders those with views but none of an item
	 * known in training, short_orders (similar_views) those with one
	 * known item, no_views (viewed_bought) test orders whose user
	 * viewed nothing in the test period before them (guest orders
	 * among them), ineligible (viewed_bought) those whose bought items
	 * were all viewed (the answer leaves the asked items out). */
	bool     per_session;
	uint64_t no_views;
	uint64_t test_users;      /* users with a test order */
	uint64_t new_users;       /* of those, no training order: not asked */
	uint64_t guest_orders;    /* test orders without a user: not asked */
	char     versus[80];      /* the reference row's name; "" if none */
	struct xs_eval_row *rows; /* best first */
	size_t              n_rows;
};

struct xs_eval_report {
	uint64_t orders, train_orders, test_orders;
	uint64_t events, train_events, test_events; /* views, carts... */
	uint64_t excluded_lines, excluded_orders;
	uint32_t items, known_items; /* in the export; in training */
	uint32_t viewed_items;       /* viewed in training */
	uint32_t trained_items;      /* bought or viewed in training */
	uint64_t train_applied;      /* orders the store took */
	double   load_s;             /* reading the files: set by the caller */
	double   train_s;            /* split and training */
	double   eval_s;             /* building queries and asking them */
	unsigned k;
	bool     ask_one; /* the product-page protocol (--ask one) */
	struct xs_eval_answer_report ans[XS_EVAL_ANSWER_COUNT];
};

/* Progress: 'what' is the row being measured, done of total queries. */
typedef void (*xs_eval_progress_cb)(
    void *ctx, const char *what, uint64_t done, uint64_t total);

/* Split 'd', train a store in o->store_dir, build each answer's queries
 * and measure every config of the grid and the baselines on them. Rows
 * are sorted best first (hit rate, then NDCG, then name). The caller
 * frees the rows with xs_eval_report_fini. Errors: the store's
 * (XSELL_EIO, XSELL_EMAPFULL), XSELL_ENOMEM, XSELL_EINVAL for an empty
 * grid or k out of range. */
xsell_err xs_eval_run(const struct xs_eval_opts *o, const xs_eval_data *d,
    xs_eval_progress_cb cb, void *cb_ctx, struct xs_eval_report *rep);
void      xs_eval_report_fini(struct xs_eval_report *rep);

/* ==== Output (report.c) ==== */

/* The table for a terminal (plain text, aligned columns). */
void xs_eval_print_table(FILE *f, const struct xs_eval_report *rep);
/* The report as JSON text (one object, a newline at the end). */
xsell_err xs_eval_print_json(FILE *f, const struct xs_eval_report *rep);
/* A Markdown report: the command, the split, the tables; if 'svg_name'
 * is not NULL the Markdown links that image. */
void xs_eval_print_markdown(FILE *f, const struct xs_eval_report *rep,
    const char *command, const char *svg_name);
/* An SVG bar chart of hit rate per row, one group per answer. */
void xs_eval_print_svg(FILE *f, const struct xs_eval_report *rep);

#endif /* XSELL_EVAL_EVAL_H */
