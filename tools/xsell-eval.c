/* SPDX-License-Identifier: MIT */
/* xsell-eval: offline quality of xsell's answers on an export of orders.
 * A thin main over src/load (reading) and src/eval (split, train, ask,
 * measure): flags, progress on a terminal, the outputs and exit codes.
 * The store it trains is a temporary directory, removed at the end
 * unless --store names one. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"
#include "eval/eval.h"
#include "load/load.h"
#include "model/model.h"

enum { EXIT_EVAL_OK = 0, EXIT_EVAL_FAIL = 1, EXIT_USAGE = 2 };

static const char usage_text[] =
    "usage: xsell-eval [--split time:WHEN|last|random[:FRACTION]]\n"
    "                  [--seed N] [--answers LIST] [-k N]\n"
    "                  [--scorer LIST|all] [--beta LIST]\n"
    "                  [--min-support LIST] [--similar-scorer LIST|all]\n"
    "                  [--pick-half-life LIST] [--pick-seeds LIST]\n"
    "                  [--pick-momentum LIST] [--comp-momentum LIST]\n"
    "                  [--signal LIST]\n"
    "                  [--sweep] [--no-baselines] [--versus ROW]\n"
    "                  [--ask rest|one] [--max-queries N]\n"
    "                  [--max-basket-items N] [--top-m N]\n"
    "                  [--exclude-items LIST] [--format FMT]\n"
    "                  [--comp-lists] [--store DIR] [--json]\n"
    "                  [--report FILE.md]\n"
    "                  [--quiet] [[--type TYPE] [--map ROLE=COLUMN,...]\n"
    "                  FILE...]...\n"
    "\n"
    "Measure the quality of xsell's answers on an export of orders, and\n"
    "of views, cart events and ratings (the files, formats, --map and\n"
    "--type of xsell-load). Orders and events are split into training\n"
    "and test; the training side is loaded into a temporary store with\n"
    "the real write path, in time order (views become sessions, co-view\n"
    "and view -> buy pairs, as in xselld); every eligible test basket\n"
    "becomes one query to the real engine, in process: one known item is\n"
    "hidden, the basket's other known items are asked, and the answer is\n"
    "scored on whether the hidden item comes back in the top K. picks\n"
    "and buy_again ask per test user, similar_views per test session of\n"
    "views and viewed_bought per test order after views instead (see\n"
    "protocols). Baselines answer the same queries in the same run.\n"
    "\n"
    "split and protocol:\n"
    "  --split SPEC          time:WHEN  train on orders before WHEN, test\n"
    "                                   on the rest (a bare date keeps\n"
    "                                   that whole day in training)\n"
    "                        last       test on each known user's latest\n"
    "                                   order (users with 2+ orders;\n"
    "                                   guest orders stay in training)\n"
    "                        random[:F] test on a fraction F of the\n"
    "                                   orders (default 0.2), by a seeded\n"
    "                                   hash of the order id\n"
    "                        default random:0.2. Events (views, carts,\n"
    "                        ratings): time splits them by their time;\n"
    "                        random by a seeded hash of the user (a\n"
    "                        session stays whole); last keeps them all\n"
    "                        in training\n"
    "  --seed N              seed of the random split, of which item is\n"
    "                        hidden and of the random baseline; default 42\n"
    "  --answers LIST        fbt, complements, similar, picks,\n"
    "                        buy_again, similar_views, viewed_bought\n"
    "                        (comma-separated); default fbt,complements\n"
    "  -k N                  list length scored, 1..500; default 10\n"
    "  --ask rest|one        rest (a cart): hide one known item, ask with\n"
    "                        the others; one (a product page): ask with\n"
    "                        one known item, every other item of the\n"
    "                        basket is relevant (similar_views: the\n"
    "                        first viewed item, every other viewed item\n"
    "                        is relevant); default rest\n"
    "  --max-queries N       ask at most N queries per answer (a seeded\n"
    "                        sample of the eligible baskets); default all\n"
    "  --exclude-items LIST  item ids (comma-separated, may be repeated)\n"
    "                        left out of every order before the split:\n"
    "                        lines that are not products (postage, fees);\n"
    "                        their lines are counted as xsell-load counts\n"
    "                        them (lines of the files; returns are not)\n"
    "\n"
    "the grid (every combination is one row; rows are sorted best first\n"
    "by hit rate, then NDCG):\n"
    "  --scorer LIST|all     fbt scorers: count, confidence, lift,\n"
    "                        cosine, jaccard, llr, amazon, tempered;\n"
    "                        default the engine's default\n"
    "  --beta LIST           complements' popularity penalty, 0..2;\n"
    "                        default the engine's default\n"
    "  --min-support LIST    minimum co-count, 1..1000000; default the\n"
    "                        engine's default\n"
    "  --similar-scorer LIST|all  similar and picks: the setting\n"
    "                        similar_scorer (similar's rows: every\n"
    "                        similar scorer x min-support); default the\n"
    "                        engine's\n"
    "  --pick-half-life LIST picks: the setting pick_half_life_days,\n"
    "                        0.01..36500; default the engine's\n"
    "  --pick-seeds LIST     picks: the setting pick_seeds_max, 1..1000;\n"
    "                        default the engine's\n"
    "  --pick-momentum LIST  picks: the setting pick_momentum_weight,\n"
    "                        0..1000 (0: off); default the engine's\n"
    "                        (picks' rows: every similar scorer x\n"
    "                        half-life x seeds x momentum)\n"
    "  --comp-momentum LIST  complements: the setting\n"
    "                        comp_momentum_weight, 0..1000 (0: off);\n"
    "                        default the engine's (rows: every beta x\n"
    "                        min-support x momentum)\n"
    "  --signal LIST         similar_views: the relations similar is\n"
    "                        asked over: view, all, order, cart; default\n"
    "                        view,all (rows: every signal x similar\n"
    "                        scorer x min-support). viewed_bought's rows:\n"
    "                        its setting viewed_bought_scorer, then every\n"
    "                        --scorer, x min-support\n"
    "  --sweep               shorthand for --scorer all --beta\n"
    "                        0,0.25,0.5,0.75,1 --min-support 1,2,3\n"
    "                        (and so not given with any of them)\n"
    "                        (picks' grid is not swept: name it)\n"
    "  --no-baselines        leave out popularity, trending, random and\n"
    "                        co-count\n"
    "  --versus ROW          the row every other row is paired with, by\n"
    "                        name as printed (\"jaccard ms=1\");\n"
    "                        default popularity. An answer without a\n"
    "                        row of that name gets no paired figures\n"
    "  --max-basket-items N  training: pairs of at most N items per order\n"
    "                        (as xsell-load); default the engine's 100\n"
    "  --top-m N             training: the store's top list length, the\n"
    "                        neighbours for_you reads per seed and\n"
    "                        relation (fbt and similar are exact at any\n"
    "                        length), 1..1000; default 300\n"
    "\n"
    "input and output:\n"
    "  --format FMT          csv, tsv, ssv (semicolons), jsonl or baskets\n"
    "                        (as xsell-load), for every file\n"
    "  --map ROLE=COLUMN,... which column plays which role (as\n"
    "                        xsell-load; ts_ms adds milliseconds to ts);\n"
    "                        may be repeated\n"
    "  --type TYPE           what the lines of the files after it are\n"
    "                        when they have no type column: order,\n"
    "                        view, cart_add, cart_remove or rating.\n"
    "                        Each --type starts a group of files: the\n"
    "                        --map flags after it (up to the next\n"
    "                        --type) apply to those files only. Without\n"
    "                        --type, every --map applies to every file\n"
    "                        and lines are orders (or say their type in\n"
    "                        a type column). Baskets have no columns and\n"
    "                        are orders: --map, or a --type but order,\n"
    "                        is a usage error with them\n"
    "  --comp-lists          after training, compute complements'\n"
    "                        precomputed lists (as xselld's refresher\n"
    "                        does), so that its answers come from them\n"
    "                        wherever they prove to be the walk's\n"
    "  --store DIR           train into DIR (an empty or new directory)\n"
    "                        and keep it; default a temporary directory\n"
    "                        under $TMPDIR, removed at the end\n"
    "  --json                the report as JSON on standard output\n"
    "  --report FILE.md      also write a Markdown report, and an SVG\n"
    "                        bar chart of hit rate beside it (FILE.svg),\n"
    "                        at the end; checked writable first\n"
    "  --quiet               no progress (it is drawn on standard error\n"
    "                        only when that is a terminal)\n"
    "  -h, --help            this text\n"
    "\n"
    "metrics (means over queries, at K):\n"
    "  HR         a relevant item in the top K\n"
    "  prec       relevant items in the top K / K\n"
    "  recall     relevant items in the top K / relevant items; the\n"
    "             relevant set is the hidden item plus the basket's items\n"
    "             never seen in training (no one can return those);\n"
    "             per user, see picks and buy_again below\n"
    "  NDCG       binary DCG@K over the ideal DCG@K of that set\n"
    "  MRR        1 / rank of the first relevant item (0 if none)\n"
    "  cover      distinct items recommended / items training knows\n"
    "             (bought or viewed), the same catalogue for every answer\n"
    "  pop        mean training baskets of a recommended item\n"
    "  mean_us    time per query in process (p99_us: 99th percentile)\n"
    "  dHR        paired with the --versus row (popularity) on the same\n"
    "             queries: HR minus its HR, [its 95% interval], from the\n"
    "             queries one hits and the other misses (wins w, losses\n"
    "             l): dHR +- 1.96 sqrt(((w + l)/n - dHR^2) / n); a row\n"
    "             beats the other clearly when the interval is above 0\n"
    "  p          McNemar's exact test on the same queries: 2 P(X <=\n"
    "             min(w, l)), X ~ Binomial(w + l, 1/2), at most 1\n"
    "\n"
    "protocols:\n"
    "  fbt          every test basket with 2+ items known in training\n"
    "  complements  the same, but the hidden item must not have been\n"
    "               bought with any given item in training (not a\n"
    "               first-level neighbour): it measures what the second\n"
    "               level adds. Its baselines also leave out the first\n"
    "               level.\n"
    "  similar      fbt's queries asked of similar (every relation)\n"
    "  similar_views  every test session (a user's test views) with 2+\n"
    "               distinct viewed items known in training (counted\n"
    "               at all): the latest viewed is hidden, similar is\n"
    "               asked with the others (--signal) and scored on it.\n"
    "               Baselines: most viewed, trending, random viewed\n"
    "  viewed_bought  every test order whose user viewed items known\n"
    "               in training in the test period at or before it:\n"
    "               asked with those items; relevant: the order's items\n"
    "               not among them (the answer leaves the asked items\n"
    "               out). Counted, never asked: orders without such\n"
    "               views (guest orders too), cold ones (no viewed or\n"
    "               no bought item known), and those whose items were\n"
    "               all viewed. Baselines: most bought, trending,\n"
    "               random\n"
    "  picks        every test user with a training order: for_you for\n"
    "               the user as of the cut-off (other splits: their\n"
    "               first test order); relevant: the items of their\n"
    "               test orders they had not bought in training\n"
    "  buy_again    the same with kind buy_again; relevant: the items\n"
    "               bought both in training and in the test period\n"
    "  Test baskets with no known item (cold) or one known item are\n"
    "  counted and reported, never asked; so are guest test orders,\n"
    "  new users (no training order), users with nothing relevant and\n"
    "  users whose relevant items are all unknown in training.\n"
    "  baselines: popularity (most training baskets first), trending\n"
    "  (the engine's trending list as of the last training day),\n"
    "  random (seeded, known items), and for fbt the raw co-count\n"
    "  (scorer count, min_support 1). They leave out what the answer\n"
    "  leaves out (the asked items; for picks the user's purchases);\n"
    "  for buy_again they rank the user's own purchases.\n"
    "\n"
    "examples:\n"
    "  xsell-eval --split time:2011-09-30 --sweep \\\n"
    "      --exclude-items POST,DOT,M,C2 online_retail.csv\n"
    "  xsell-eval --format baskets --split random:0.2 --seed 42 \\\n"
    "      --answers fbt --scorer all groceries.csv\n"
    "  xsell-eval --format ssv --split time:2016-05-05 \\\n"
    "      --answers similar_views,viewed_bought \\\n"
    "      --type view --map user=session_id,ts_ms=timeframe \\\n"
    "      sample_train-item-views.csv \\\n"
    "      --type order --map user=sessionId,ts_ms=timeframe \\\n"
    "      train-purchases.csv      (DIGINETICA: sessions as users)\n"
    "\n"
    "exit status:\n"
    "  0  the evaluation ran (whatever the figures)\n"
    "  1  a file could not be read, the store failed, or no test query\n"
    "     could be asked\n"
    "  2  usage error: bad flag or value, an option with a value given\n"
    "     twice (but --exclude-items, --map and --type, which add up),\n"
    "     or a file whose columns cannot be mapped\n";

/* Files and the --map and --type they are read with: each --type
 * starts a group (unless the current one has no file and no type yet),
 * and a --map applies to the group it is given in. */
#define GROUPS_MAX 16
#define FILES_MAX 256
struct group {
	struct xs_load_map map;
	bool               has_type, has_files;
};

struct args {
	struct xs_eval_opts o;
	bool                has_format, quiet, json;
	enum xs_load_format format;
	struct group        groups[GROUPS_MAX];
	size_t              n_groups; /* 1.. */
	const char         *store, *report;
	char              **exclude;
	size_t              n_exclude;
	char               *files[FILES_MAX];
	size_t              file_group[FILES_MAX];
	int                 n_files;
};

/* One line on stderr; returns the usage exit status. */
#define usage_error(...) \
	XS_USAGE_ERROR(  \
	    "xsell-eval", "\nTry 'xsell-eval --help'.\n", __VA_ARGS__)

/* Split a comma-separated list in place, as every tool splits its lists
 * (xs_opt_list_next: "a,,b" has an empty element, which the caller then
 * refuses, where strtok skipped it); *np items, at most 'max'. */
static bool
split_list(char *s, char **out, size_t max, size_t *np)
{
	const char *p = s, *elem;
	size_t      len, n = 0;

	while (xs_opt_list_next(&p, &elem, &len)) {
		if (n == max) {
			return false;
		}
		out[n]      = s + (elem - s);
		out[n][len] = '\0'; /* the comma after it, or the end */
		n++;
	}
	*np = n;
	return n > 0;
}

/* The scorers of 'opt' (--scorer, --similar-scorer): a list, or all. */
static int
parse_scorer_list(const char *opt, char *s, enum xs_scorer *out, size_t *np)
{
	char  *v[XS_SCORER_COUNT + 1];
	size_t n;

	if (strcmp(s, "all") == 0) {
		for (int i = 0; i < XS_SCORER_COUNT; i++) {
			out[i] = (enum xs_scorer) i;
		}
		*np = XS_SCORER_COUNT;
		return EXIT_EVAL_OK;
	}
	if (!split_list(s, v, XS_SCORER_COUNT, &n)) {
		return usage_error(
		    "%s: give 1..%d scorers or all", opt, XS_SCORER_COUNT);
	}
	for (size_t i = 0; i < n; i++) {
		if (!xs_scorer_parse(v[i], strlen(v[i]), &out[i])) {
			return usage_error(
			    "%s: unknown scorer \"%s\"", opt, v[i]);
		}
	}
	*np = n;
	return EXIT_EVAL_OK;
}

/* A list of numbers in lo..hi for 'opt'; 'what' says which in a refusal
 * ("a number in 0..2"). */
static int
parse_number_list(const char *opt, char *s, double lo, double hi,
    const char *what, double *out, size_t *np)
{
	char  *v[XS_EVAL_GRID_MAX];
	size_t n;

	if (!split_list(s, v, XS_EVAL_GRID_MAX, &n)) {
		return usage_error(
		    "%s: give 1..%d numbers", opt, XS_EVAL_GRID_MAX);
	}
	for (size_t i = 0; i < n; i++) {
		char *end;

		out[i] = strtod(v[i], &end);
		if (end == v[i] || *end != '\0' || !(out[i] >= lo) ||
		    out[i] > hi) {
			return usage_error(
			    "%s: \"%s\" is not %s", opt, v[i], what);
		}
	}
	*np = n;
	return EXIT_EVAL_OK;
}

/* A list of whole numbers in lo..hi for 'opt'. */
static int
parse_count_list(const char *opt, char *s, unsigned lo, unsigned hi,
    unsigned *out, size_t *np)
{
	char  *v[XS_EVAL_GRID_MAX];
	size_t n;

	if (!split_list(s, v, XS_EVAL_GRID_MAX, &n)) {
		return usage_error(
		    "%s: give 1..%d numbers", opt, XS_EVAL_GRID_MAX);
	}
	for (size_t i = 0; i < n; i++) {
		if (!xs_opt_uint(v[i], lo, hi, &out[i])) {
			return usage_error(
			    "%s: \"%s\" is not %u..%u", opt, v[i], lo, hi);
		}
	}
	*np = n;
	return EXIT_EVAL_OK;
}

static int
parse_answers(char *s, struct xs_eval_opts *o)
{
	char  *v[XS_EVAL_ANSWER_COUNT + 1];
	size_t n;

	if (!split_list(s, v, XS_EVAL_ANSWER_COUNT, &n)) {
		return usage_error("--answers: fbt, complements, similar, "
		                   "picks, buy_again, similar_views, "
		                   "viewed_bought");
	}
	memset(o->answers, 0, sizeof(o->answers));
	for (size_t i = 0; i < n; i++) {
		enum xs_eval_answer a;

		if (!xs_eval_answer_parse(v[i], &a)) {
			return usage_error(
			    "--answers: \"%s\" is not one of fbt, "
			    "complements, similar, picks, buy_again, "
			    "similar_views, viewed_bought (trending is a "
			    "baseline row of every answer)",
			    v[i]);
		}
		o->answers[a] = true;
	}
	return EXIT_EVAL_OK;
}

/* --exclude-items LIST: every id of it valid (an empty one is not), each
 * kept as a string of its own (the commas of s become NULs). */
static int
add_exclude(struct args *a, char *s)
{
	const char *p = s, *id;
	size_t      len;
	const char *bad = xs_id_list_bad(s, &len);

	if (bad != NULL) {
		return usage_error(
		    "--exclude-items: \"%.*s\" is not an item id",
		    (int) (len < 200 ? len : 200), bad);
	}
	while (xs_opt_list_next(&p, &id, &len)) {
		char **v =
		    realloc(a->exclude, (a->n_exclude + 1) * sizeof(*v));

		if (v == NULL) {
			return usage_error("out of memory");
		}
		a->exclude                 = v;
		a->exclude[a->n_exclude++] = s + (id - s);
		s[(id - s) + len]          = '\0';
	}
	return EXIT_EVAL_OK;
}

/* --type: the files after it (until the next --type) are lines of that
 * event type, read with the --map flags given after it. */
static int
add_type(struct args *a, const char *arg)
{
	struct group *g = &a->groups[a->n_groups - 1];

	if (g->has_type || g->has_files) {
		if (a->n_groups == GROUPS_MAX) {
			return usage_error(
			    "--type: at most %d groups of files", GROUPS_MAX);
		}
		g = &a->groups[a->n_groups++];
	}
	if (!xs_load_event_type_parse(arg, strlen(arg), &g->map.type)) {
		return usage_error("--type: unknown event type \"%s\" (order, "
		                   "view, cart_add, cart_remove, rating)",
		    arg);
	}
	g->has_type = true;
	return EXIT_EVAL_OK;
}

static int
parse_signals(char *s, struct xs_eval_opts *o)
{
	char  *v[XS_SIGNAL_COUNT + 1];
	size_t n;

	if (!split_list(s, v, XS_SIGNAL_COUNT, &n)) {
		return usage_error("--signal: give 1..%d of view, all, order, "
		                   "cart",
		    XS_SIGNAL_COUNT);
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i], "abandoned_cart") == 0 ||
		    !xs_signal_parse(v[i], strlen(v[i]), &o->signals[i])) {
			return usage_error(
			    "--signal: unknown signal \"%s\"", v[i]);
		}
	}
	o->n_signals = n;
	return EXIT_EVAL_OK;
}

static void
sweep(struct xs_eval_opts *o)
{
	static const double beta[] = { 0, 0.25, 0.5, 0.75, 1 };

	for (int i = 0; i < XS_SCORER_COUNT; i++) {
		o->scorers[i] = (enum xs_scorer) i;
	}
	o->n_scorers = XS_SCORER_COUNT;
	for (size_t i = 0; i < 5; i++) {
		o->betas[i] = beta[i];
	}
	o->n_betas = 5;
	for (unsigned i = 0; i < 3; i++) {
		o->min_supports[i] = i + 1;
	}
	o->n_min_supports = 3;
}

static int
parse_one(struct args *a, int c, char *arg)
{
	char     err[200];
	uint64_t v;

	switch (c) {
	case 's':
		if (xs_eval_split_parse(arg, &a->o.split, err, sizeof(err)) !=
		    XSELL_OK) {
			return usage_error("%s", err);
		}
		return EXIT_EVAL_OK;
	case 'S':
		if (!xs_opt_u64(arg, 0, UINT64_MAX, &v)) {
			return usage_error(
			    "--seed: \"%s\" is not a number", arg);
		}
		a->o.seed = v;
		return EXIT_EVAL_OK;
	case 'a':
		return parse_answers(arg, &a->o);
	case 'k':
		if (!xs_opt_u64(arg, 1, XSELL_K_MAX, &v)) {
			return usage_error(
			    "-k: \"%s\" is not 1..%d", arg, XSELL_K_MAX);
		}
		a->o.k = (unsigned) v;
		return EXIT_EVAL_OK;
	case 'c':
		return parse_scorer_list(
		    "--scorer", arg, a->o.scorers, &a->o.n_scorers);
	case 'B':
		return parse_number_list("--beta", arg, 0, 2,
		    "a number in 0..2", a->o.betas, &a->o.n_betas);
	case 'M':
		return parse_count_list("--min-support", arg, 1, 1000000,
		    a->o.min_supports, &a->o.n_min_supports);
	case 'H':
		return parse_number_list("--pick-half-life", arg, 0.01, 36500,
		    "a number of days in 0.01..36500", a->o.half_lives,
		    &a->o.n_half_lives);
	case 'N':
		return parse_count_list("--pick-seeds", arg, 1, 1000,
		    a->o.seeds_max, &a->o.n_seeds_max);
	case 'O':
		return parse_number_list("--pick-momentum", arg, 0, 1000,
		    "a number in 0..1000", a->o.momenta, &a->o.n_momenta);
	case 'P':
		return parse_number_list("--comp-momentum", arg, 0, 1000,
		    "a number in 0..1000", a->o.comp_momenta,
		    &a->o.n_comp_momenta);
	case 'C':
		return parse_scorer_list("--similar-scorer", arg,
		    a->o.sim_scorers, &a->o.n_sim_scorers);
	case 'w':
		sweep(&a->o);
		return EXIT_EVAL_OK;
	case 'n':
		a->o.baselines = false;
		return EXIT_EVAL_OK;
	case 'V':
		if (*arg == '\0' || strlen(arg) >= 80) {
			return usage_error(
			    "%s", "--versus: give a row name of 1..79 bytes");
		}
		a->o.versus = arg;
		return EXIT_EVAL_OK;
	case 'Q':
		if (!xs_opt_u64(arg, 1, 100000000, &v)) {
			return usage_error(
			    "--max-queries: \"%s\" is not 1..100000000", arg);
		}
		a->o.max_queries = v;
		return EXIT_EVAL_OK;
	case 'A':
		if (strcmp(arg, "one") != 0 && strcmp(arg, "rest") != 0) {
			return usage_error(
			    "--ask: \"%s\" is not one or rest", arg);
		}
		a->o.ask_one = strcmp(arg, "one") == 0;
		return EXIT_EVAL_OK;
	case 'b':
		if (!xs_opt_u64(arg, 1, XSELL_ORDER_ITEMS_MAX, &v)) {
			return usage_error(
			    "--max-basket-items: \"%s\" is not 1..%d", arg,
			    XSELL_ORDER_ITEMS_MAX);
		}
		a->o.settings.max_basket_items = (unsigned) v;
		return EXIT_EVAL_OK;
	case 'T':
		if (!xs_opt_u64(arg, 1, XS_TOP_M_MAX, &v)) {
			return usage_error(
			    "--top-m: \"%s\" is not 1..%u", arg, XS_TOP_M_MAX);
		}
		a->o.top_m = (unsigned) v;
		return EXIT_EVAL_OK;
	case 'x':
		return add_exclude(a, arg);
	case 'f':
		if (!xs_load_format_parse(arg, &a->format)) {
			return usage_error(
			    "unknown format \"%s\" (csv, tsv, ssv, jsonl, "
			    "baskets)",
			    arg);
		}
		a->has_format = true;
		return EXIT_EVAL_OK;
	case 'm':
		if (xs_load_map_parse(&a->groups[a->n_groups - 1].map, arg,
		        err, sizeof(err)) != XSELL_OK) {
			return usage_error("%s", err);
		}
		return EXIT_EVAL_OK;
	case 't':
		return add_type(a, arg);
	case 'g':
		return parse_signals(arg, &a->o);
	case 1:
		if (a->n_files == FILES_MAX) {
			return usage_error("at most %d files", FILES_MAX);
		}
		a->files[a->n_files]                 = arg;
		a->file_group[a->n_files++]          = a->n_groups - 1;
		a->groups[a->n_groups - 1].has_files = true;
		return EXIT_EVAL_OK;
	case 'd':
		a->store = arg;
		return EXIT_EVAL_OK;
	case 'L':
		a->o.comp_lists = true;
		return EXIT_EVAL_OK;
	case 'j':
		a->json = true;
		return EXIT_EVAL_OK;
	case 'r':
		a->report = arg;
		return EXIT_EVAL_OK;
	case 'q':
		a->quiet = true;
		return EXIT_EVAL_OK;
	}
	return EXIT_USAGE;
}

/* The option of those --sweep sets that was given as well, or NULL:
 * together, whichever came last would win unsaid. */
static const char *
swept_and_given(const struct xs_opt_once *once)
{
	static const struct {
		int         c;
		const char *name;
	} swept[] = { { 'c', "--scorer" }, { 'B', "--beta" },
		{ 'M', "--min-support" } };

	for (size_t i = 0; i < once->n_given; i++) {
		for (size_t s = 0; s < sizeof(swept) / sizeof(swept[0]); s++) {
			if (once->given[i] == swept[s].c) {
				return swept[s].name;
			}
		}
	}
	return NULL;
}

static int
parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "split", required_argument, NULL, 's' },
		{ "seed", required_argument, NULL, 'S' },
		{ "answers", required_argument, NULL, 'a' },
		{ "scorer", required_argument, NULL, 'c' },
		{ "beta", required_argument, NULL, 'B' },
		{ "min-support", required_argument, NULL, 'M' },
		{ "pick-half-life", required_argument, NULL, 'H' },
		{ "pick-seeds", required_argument, NULL, 'N' },
		{ "pick-momentum", required_argument, NULL, 'O' },
		{ "comp-momentum", required_argument, NULL, 'P' },
		{ "similar-scorer", required_argument, NULL, 'C' },
		{ "sweep", no_argument, NULL, 'w' },
		{ "no-baselines", no_argument, NULL, 'n' },
		{ "versus", required_argument, NULL, 'V' },
		{ "max-queries", required_argument, NULL, 'Q' },
		{ "ask", required_argument, NULL, 'A' },
		{ "max-basket-items", required_argument, NULL, 'b' },
		{ "top-m", required_argument, NULL, 'T' },
		{ "exclude-items", required_argument, NULL, 'x' },
		{ "format", required_argument, NULL, 'f' },
		{ "map", required_argument, NULL, 'm' },
		{ "type", required_argument, NULL, 't' },
		{ "signal", required_argument, NULL, 'g' },
		{ "store", required_argument, NULL, 'd' },
		{ "comp-lists", no_argument, NULL, 'L' },
		{ "json", no_argument, NULL, 'j' },
		{ "report", required_argument, NULL, 'r' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	/* The --exclude-items lists add up; each --type starts a group of
	 * files, with the --map flags after it. */
	static const int   adds_up[] = { 'x', 'm', 't', 0 };
	struct xs_opt_once once      = {
		     .opts = opts, .shortopts = "-hk:", .adds_up = adds_up
	};
	const char *both;
	bool        swept = false;
	int         c;

	opterr = 0;
	/* "-": files come back in place (as option 1), so that each is
	 * read with the --type and --map given before it. */
	while ((c = getopt_long(argc, argv, "-hk:", opts, NULL)) != -1) {
		const char *twice = xs_opt_given_twice(&once, c);
		int         rc;

		if (c == 'h') {
			fputs(usage_text, stdout);
			return -1;
		}
		if (c == '?' || c == ':') {
			return usage_error("unknown or incomplete option %s",
			    argv[optind - 1]);
		}
		if (twice != NULL) {
			return usage_error("%s given twice", twice);
		}
		swept = swept || c == 'w';
		rc    = parse_one(a, c, optarg);
		if (rc != EXIT_EVAL_OK) {
			return rc;
		}
	}
	both = swept ? swept_and_given(&once) : NULL;
	if (both != NULL) {
		return usage_error(
		    "--sweep sets %s: give one or the other", both);
	}
	if (a->n_files == 0) {
		return usage_error("%s", "no input FILE given");
	}
	for (size_t g = 0; g < a->n_groups; g++) {
		if (!a->groups[g].has_files) {
			return usage_error(
			    "%s", "a --type with no FILE after it");
		}
	}
	a->o.split.seed = a->o.seed;
	return EXIT_EVAL_OK;
}

/* ==== Progress ==== */

#define PROGRESS_BAR_W 30

struct progress {
	bool     on;
	uint64_t last_ns;
};

static bool
progress_due(struct progress *pg)
{
	uint64_t now = xs_mono_ns();

	if (!pg->on || now - pg->last_ns < 200000000u) {
		return false;
	}
	pg->last_ns = now;
	return true;
}

static void
load_progress(void *ctx, const xs_loader *l)
{
	if (progress_due(ctx)) {
		fprintf(stderr, "\rreading: %" PRIu64 " lines\033[K",
		    xs_loader_counts(l)->records);
	}
}

static void
eval_progress(void *ctx, const char *what, uint64_t done, uint64_t total)
{
	char bar[PROGRESS_BAR_W + 1];
	int  full;

	if (!progress_due(ctx) || total == 0) {
		return;
	}
	full = (int) ((double) done / (double) total * PROGRESS_BAR_W);
	for (int i = 0; i < PROGRESS_BAR_W; i++) {
		bar[i] = i < full ? '#' : '.';
	}
	bar[PROGRESS_BAR_W] = '\0';
	fprintf(stderr, "\r%s [%s] %" PRIu64 "/%" PRIu64 " queries\033[K",
	    what, bar, done, total);
}

static void
progress_clear(const struct progress *pg)
{
	if (pg->on) {
		fprintf(stderr, "\r\033[K");
	}
}

/* ==== Reading ==== */

/* Input file i's format. */
static enum xs_load_format
format_of(const struct args *a, int i)
{
	return a->has_format ? a->format : xs_load_format_guess(a->files[i]);
}

/* Read every file into 'd', each checked before any is read: one that
 * can be read only once (a pipe) from where its check stopped
 * (xs_load_check_or_hold). The loader drops the excluded items, as
 * xsell-load's does, so their lines are counted as the files have them.
 * Exit code. */
static int
read_files(struct args *a, xs_eval_data *d, struct progress *pg)
{
	xs_load_file               **held;
	xs_loader                   *l;
	const struct xs_load_reject *rej;
	size_t                       n_rej;
	char                         err[600];
	xsell_err                    e;
	int                          rc = EXIT_EVAL_OK;

	held = xs_load_held_alloc((size_t) a->n_files);
	if (held == NULL) {
		fprintf(stderr, "xsell-eval: out of memory\n");
		return EXIT_EVAL_FAIL;
	}
	for (int i = 0; i < a->n_files && rc == EXIT_EVAL_OK; i++) {
		e = xs_load_check_or_hold(a->files[i], format_of(a, i),
		    &a->groups[a->file_group[i]].map, &held[i], err,
		    sizeof(err));
		if (e != XSELL_OK) {
			fprintf(stderr, "xsell-eval: %s\n", err);
			rc = e == XSELL_EINVAL ? EXIT_USAGE : EXIT_EVAL_FAIL;
		}
	}
	if (rc != EXIT_EVAL_OK) {
		xs_load_held_free(held, (size_t) a->n_files);
		return rc;
	}
	if (xs_loader_alloc(&l) != XSELL_OK) {
		fprintf(stderr, "xsell-eval: out of memory\n");
		xs_load_held_free(held, (size_t) a->n_files);
		return EXIT_EVAL_FAIL;
	}
	for (size_t i = 0; i < a->n_exclude && rc == EXIT_EVAL_OK; i++) {
		if (xs_loader_exclude_item(
		        l, a->exclude[i], strlen(a->exclude[i])) != XSELL_OK) {
			fprintf(stderr, "xsell-eval: out of memory\n");
			rc = EXIT_EVAL_FAIL;
		}
	}
	xs_loader_set_progress(l, load_progress, pg);
	for (int i = 0; i < a->n_files && rc == EXIT_EVAL_OK; i++) {
		e = xs_loader_read_checked(l, a->files[i], &held[i],
		    format_of(a, i), &a->groups[a->file_group[i]].map,
		    xs_now_s(), NULL, err, sizeof(err));
		if (e != XSELL_OK) {
			progress_clear(pg);
			fprintf(stderr, "xsell-eval: %s\n", err);
			rc = e == XSELL_EINVAL ? EXIT_USAGE : EXIT_EVAL_FAIL;
		}
	}
	if (rc == EXIT_EVAL_OK) {
		e = xs_loader_each_order(l, 0, 1000, xs_eval_data_add, d);
		if (e != XSELL_OK) {
			fprintf(stderr, "xsell-eval: reading orders: %s\n",
			    xsell_strerror(e));
			rc = EXIT_EVAL_FAIL;
		}
		xs_eval_data_set_excluded(d, xs_loader_counts(l)->excluded,
		    xs_loader_n_orders_left_empty(l));
	}
	progress_clear(pg);
	rej = xs_loader_rejects(l, &n_rej);
	for (size_t i = 0; i < n_rej; i++) {
		fprintf(stderr, "xsell-eval: rejected %s\n", rej[i].text);
	}
	if (xs_loader_counts(l)->rejected > n_rej) {
		fprintf(stderr,
		    "xsell-eval: ... %" PRIu64 " rejected lines in all\n",
		    xs_loader_counts(l)->rejected);
	}
	xs_loader_free(l);
	xs_load_held_free(held, (size_t) a->n_files);
	return rc;
}

/* ==== Store directory ==== */

/* Remove the files of a store directory made by us, then the directory. */
static void
remove_store(const char *dir)
{
	DIR           *dh = opendir(dir);
	struct dirent *de;
	char           path[4096];

	if (dh == NULL) {
		return;
	}
	for (de = readdir(dh); de != NULL; de = readdir(dh)) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0) {
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(dh);
	rmdir(dir);
}

/* True if 'dir' has no entry but . and ..: a store trained before holds
 * orders that may be test orders of this split. */
static bool
dir_is_empty(const char *dir)
{
	DIR           *dh = opendir(dir);
	struct dirent *de;
	bool           empty = true;

	if (dh == NULL) {
		return false;
	}
	de = readdir(dh);
	while (empty && de != NULL) {
		empty = strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0;
		de = readdir(dh);
	}
	closedir(dh);
	return empty;
}

/* ==== Outputs ==== */

/* The command line as one shell line, for the report. */
static void
command_line(int argc, char **argv, char *out, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	for (int i = 0; i < argc && o + 1 < len; i++) {
		bool quote = strpbrk(argv[i], " \t'\"$*?;&|<>()") != NULL;
		int  w = snprintf(out + o, len - o, quote ? "%s'%s'" : "%s%s",
                    i ? " " : "", argv[i]);

		if (w < 0) {
			break;
		}
		o += (size_t) w;
	}
}

/* The chart beside the report: FILE.md -> FILE.svg, else FILE.svg. */
static void
report_svg_path(const char *report, char *svg, size_t svg_len)
{
	size_t len = strlen(report);

	if (len >= 3 && strcmp(report + len - 3, ".md") == 0) {
		snprintf(svg, svg_len, "%.*s.svg", (int) (len - 3), report);
	} else {
		snprintf(svg, svg_len, "%s.svg", report);
	}
}

/* Whether 'path' can be written, said on stderr if not: opened for
 * appending, so that nothing it holds is lost, and removed again if
 * this made it. */
static bool
can_write(const char *path)
{
	struct stat sb;
	bool        existed = stat(path, &sb) == 0;
	FILE       *f       = fopen(path, "a");

	if (f == NULL) {
		fprintf(stderr, "xsell-eval: cannot write %s: %s\n", path,
		    strerror(errno));
		return false;
	}
	(void) fclose(f);
	if (!existed) {
		(void) unlink(path);
	}
	return true;
}

/* The report is written when the evaluation, which can take minutes,
 * is done: a path it cannot be written to is said before. */
static int
check_report(const struct args *a)
{
	char svg[4096];

	report_svg_path(a->report, svg, sizeof(svg));
	return can_write(a->report) && can_write(svg) ? EXIT_EVAL_OK
	                                              : EXIT_EVAL_FAIL;
}

static int
write_report(const struct args *a, const struct xs_eval_report *rep,
    const char *command)
{
	char        svg[4096];
	const char *base;
	FILE       *f;

	report_svg_path(a->report, svg, sizeof(svg));
	f = fopen(svg, "w");
	if (f == NULL) {
		fprintf(stderr, "xsell-eval: cannot write %s: %s\n", svg,
		    strerror(errno));
		return EXIT_EVAL_FAIL;
	}
	xs_eval_print_svg(f, rep);
	if (fclose(f) != 0) {
		return EXIT_EVAL_FAIL;
	}
	f = fopen(a->report, "w");
	if (f == NULL) {
		fprintf(stderr, "xsell-eval: cannot write %s: %s\n", a->report,
		    strerror(errno));
		return EXIT_EVAL_FAIL;
	}
	base = strrchr(svg, '/');
	xs_eval_print_markdown(f, rep, command, base ? base + 1 : svg);
	return fclose(f) == 0 ? EXIT_EVAL_OK : EXIT_EVAL_FAIL;
}

static uint64_t
total_queries(const struct xs_eval_report *rep)
{
	uint64_t n = 0;

	for (int i = 0; i < XS_EVAL_ANSWER_COUNT; i++) {
		n += rep->ans[i].queries;
	}
	return n;
}

int
main(int argc, char **argv)
{
	struct args           a  = { 0 };
	struct progress       pg = { 0 };
	struct xs_eval_report rep;
	xs_eval_data         *d = NULL;
	char                  tmp[4096], command[8192];
	const char           *dir;
	uint64_t              t0;
	double                read_s;
	xsell_err             e;
	int                   rc;

	/* Before parsing: list flags are split in place. */
	command_line(argc, argv, command, sizeof(command));
	xs_eval_opts_default(&a.o);
	a.n_groups = 1;
	rc         = parse_args(argc, argv, &a);
	if (rc != EXIT_EVAL_OK) {
		free(a.exclude);
		return rc < 0 ? EXIT_EVAL_OK : rc;
	}
	if (a.report != NULL && check_report(&a) != EXIT_EVAL_OK) {
		free(a.exclude);
		return EXIT_EVAL_FAIL;
	}
	pg.on = !a.quiet && isatty(STDERR_FILENO);
	if (xs_eval_data_alloc(&d) != XSELL_OK) {
		free(a.exclude);
		return EXIT_EVAL_FAIL;
	}
	t0     = xs_mono_ns();
	rc     = read_files(&a, d, &pg);
	read_s = (double) (xs_mono_ns() - t0) / 1e9;
	free(a.exclude);
	if (rc != EXIT_EVAL_OK) {
		xs_eval_data_free(d);
		return rc;
	}
	if (a.store != NULL) {
		dir = a.store;
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			fprintf(stderr, "xsell-eval: cannot make %s: %s\n",
			    dir, strerror(errno));
			xs_eval_data_free(d);
			return EXIT_EVAL_FAIL;
		}
		if (!dir_is_empty(dir)) {
			fprintf(stderr,
			    "xsell-eval: --store %s: not an empty directory "
			    "(a store trained before could hold test "
			    "orders)\n",
			    dir);
			xs_eval_data_free(d);
			return EXIT_USAGE;
		}
	} else {
		const char *t = getenv("TMPDIR");

		snprintf(tmp, sizeof(tmp), "%s/xsell-eval.XXXXXX",
		    t != NULL && *t != '\0' ? t : "/tmp");
		dir = mkdtemp(tmp);
		if (dir == NULL) {
			fprintf(stderr,
			    "xsell-eval: cannot make a temporary "
			    "directory: %s\n",
			    strerror(errno));
			xs_eval_data_free(d);
			return EXIT_EVAL_FAIL;
		}
	}
	a.o.store_dir = dir;
	e             = xs_eval_run(&a.o, d, eval_progress, &pg, &rep);
	rep.load_s    = read_s;
	progress_clear(&pg);
	if (a.store == NULL) {
		remove_store(dir);
	}
	if (e != XSELL_OK) {
		fprintf(stderr, "xsell-eval: %s\n", xsell_strerror(e));
		xs_eval_report_fini(&rep);
		xs_eval_data_free(d);
		return EXIT_EVAL_FAIL;
	}
	if (a.json) {
		rc = xs_eval_print_json(stdout, &rep) == XSELL_OK
		    ? EXIT_EVAL_OK
		    : EXIT_EVAL_FAIL;
	} else {
		xs_eval_print_table(stdout, &rep);
	}
	if (rc == EXIT_EVAL_OK && a.report != NULL) {
		rc = write_report(&a, &rep, command);
	}
	if (rc == EXIT_EVAL_OK && total_queries(&rep) == 0) {
		fprintf(stderr, "xsell-eval: no test basket could be asked\n");
		rc = EXIT_EVAL_FAIL;
	}
	xs_eval_report_fini(&rep);
	xs_eval_data_free(d);
	return rc;
}
