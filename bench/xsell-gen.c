/* SPDX-License-Identifier: MIT */
/* xsell-gen: synthetic order lines for scale runs, in the CSV that
 * xsell-load reads (order,user,item,category,qty,price,ts).
 *
 * The shape, and why: a shop's catalogue is a fixed set of items whose
 * sales follow a Zipf law (a few sell a lot, most rarely); items belong
 * to categories, and one basket mostly stays within one to three of
 * them, which is what gives co-purchase lists their structure; customers
 * come back, with activity that is Zipf-like too (a few buy weekly, most
 * once or twice); basket sizes are skewed (many single items, a long
 * tail). Everything is drawn from one splitmix64 stream seeded by
 * --seed, so the same flags give the same bytes. Memory is fixed by the
 * catalogue and the customers (about 24 bytes an item and 8 a user),
 * never by --lines: lines are written as they are drawn. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

#define GEN_LINES_MAX 100000000000ull /* 1e11 */
#define GEN_ITEMS_MAX 10000000u
#define GEN_CATEGORIES_MAX 1000000u
#define GEN_USERS_MAX 10000000u
#define GEN_BASKET_MAX 10000u /* XSELL_ORDER_ITEMS_MAX */
#define GEN_DAYS_MAX 36500u
#define GEN_TS_MAX (((int64_t) 1 << 40) - 1) /* the decoder's bound */
/* A basket spans one category, and each further one (up to three) with
 * this probability. */
#define GEN_CATS_PER_BASKET 3
#define GEN_NEXT_CAT_P 0.3
/* Tries to find an item not yet in the basket before a repeat is let
 * through (xsell-load then sums the two lines' quantities). */
#define GEN_DRAW_TRIES 8
#define GEN_PI 3.14159265358979323846

static const char usage[] =
    "usage: xsell-gen --lines N [options] > orders.csv\n"
    "\n"
    "Write N synthetic order lines to standard output, in the CSV that\n"
    "xsell-load reads (header: order,user,item,category,qty,price,ts),\n"
    "for load and query measurements at any scale. The same flags give\n"
    "the same bytes. Lines are streamed; memory depends on --items and\n"
    "--users (about 24 bytes an item and 8 a user), not on --lines.\n"
    "\n"
    "Size:\n"
    "  --lines N          order lines to write, 1..1e11 (required); the\n"
    "                     last order is cut short to make exactly N\n"
    "  --items N          the catalogue, 1..10000000 (default 50000)\n"
    "  --categories N     categories the items are spread over (each item\n"
    "                     in one, by a hash), 1..min(items, 1000000)\n"
    "                     (default 500)\n"
    "  --users N          customers, 1..10000000 (default N/20: a\n"
    "                     customer places a few orders on average)\n"
    "Shape:\n"
    "  --item-s S         Zipf exponent of item popularity, 0..5 (default\n"
    "                     1.0): the item of popularity rank r is drawn\n"
    "                     with weight 1/r^S; 0 is uniform\n"
    "  --user-s S         Zipf exponent of customer activity, 0..5\n"
    "                     (default 0.8): repeat customers\n"
    "  --guests P         share of guest orders (empty user), 0..1\n"
    "                     (default 0.05)\n"
    "  --basket-mean M    mean lines an order, 1..1000 (default 4): 1 +\n"
    "                     a geometric number (most orders are small, a\n"
    "                     long tail is not)\n"
    "  --basket-max N     lines an order at most, 1..10000 (default 50)\n"
    "  --in-category P    chance that a line's item comes from one of the\n"
    "                     order's categories, 0..1 (default 0.85); else\n"
    "                     from the whole catalogue. An order spans one\n"
    "                     category, a second and a third each with\n"
    "                     chance 0.3, chosen by popularity; within a\n"
    "                     category items keep their Zipf weights\n"
    "Time:\n"
    "  --start TS         unix seconds of the first order (default\n"
    "                     1704067200, 2024-01-01 UTC)\n"
    "  --days D           orders are spread evenly over D days, in time\n"
    "                     order, 1..36500 (default 365)\n"
    "Other:\n"
    "  --seed N           the seed (default 1); order ids carry it\n"
    "                     (o<seed>-<n>), so files of different seeds can\n"
    "                     be loaded into one store\n"
    "  -h, --help         this text;  --version  the version\n"
    "\n"
    "Columns: order id; user (U<n>, empty for a guest); item (I<n>);\n"
    "category (C<n>); qty (1 mostly, up to 6); price (each item's own,\n"
    "log-normal around 8.00, two decimals); ts (unix seconds, the same\n"
    "for every line of an order). Item and user numbers are a\n"
    "permutation of the popularity ranks, so the popular items are not\n"
    "I1, I2, ...\n"
    "\n"
    "Each option is given at most once (twice is a usage error).\n"
    "Exit status: 0 done, 1 out of memory or a write error, 2 usage.\n"
    "Example: xsell-gen --lines 1000000 --seed 7 > 1m.csv && \\\n"
    "         xsell-load --db st 1m.csv\n";

struct gen_opts {
	uint64_t lines;
	uint32_t items, categories, users;
	bool     users_given;
	double   item_s, user_s, guests;
	double   basket_mean;
	unsigned basket_max;
	double   in_category;
	int64_t  start;
	unsigned days;
	uint64_t seed;
};

/* The catalogue, by popularity rank r (0 = the most popular). */
struct catalogue {
	uint32_t  n;
	double   *cum;       /* cumulative Zipf weights over ranks */
	uint32_t *cat;       /* rank -> category */
	uint32_t *cat_start; /* category c's ranks: [cat_start[c],
	                        cat_start[c+1]) of cat_ranks */
	uint32_t *cat_ranks; /* ranks grouped by category, ascending */
	double   *cat_cum;   /* cumulative weights within each category */
	uint32_t  n_cats;
	uint64_t  perm_mul; /* rank -> item number: (r * mul + add) mod n */
	uint64_t  perm_add;
};

struct people {
	uint32_t n;
	double  *cum; /* cumulative Zipf weights over activity ranks */
	uint64_t perm_mul, perm_add;
};

/* ==== Random numbers ==== */

static uint64_t
gen_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double
gen_rand01(uint64_t *state)
{
	return (double) (gen_rand(state) >> 11) * 0x1.0p-53;
}

/* A hash of (seed, x): per-item properties that do not depend on the
 * order in which things are drawn. */
static uint64_t
gen_hash(uint64_t seed, uint64_t x)
{
	uint64_t s = seed ^ (x * 0xd6e8feb86659fd93ull);

	return gen_rand(&s);
}

/* The first index of 'cum' (n > 0 ascending) whose value passes x. */
static uint32_t
cum_search(const double *cum, uint32_t n, double x)
{
	uint32_t lo = 0, hi = n - 1;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (cum[mid] > x) {
			hi = mid;
		} else {
			lo = mid + 1;
		}
	}
	return lo;
}

static uint64_t
gcd_u64(uint64_t a, uint64_t b)
{
	while (b != 0) {
		uint64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* A multiplier coprime with n, so that r -> (r * mul + add) mod n is a
 * bijection of 0..n-1 that scatters neighbouring ranks. */
static void
perm_init(uint32_t n, uint64_t seed, uint64_t *mul, uint64_t *add)
{
	uint64_t m;

	if (n <= 1) { /* one rank: nothing to scatter */
		*mul = 1;
		*add = 0;
		return;
	}
	m = 2654435761u % n;
	while (m == 0 || gcd_u64(m, n) != 1) {
		m = (m + 1) % n;
	}
	*mul = m;
	*add = gen_hash(seed, 0x5eed) % n;
}

static uint32_t
perm_apply(uint32_t r, uint32_t n, uint64_t mul, uint64_t add)
{
	return (uint32_t) (((uint64_t) r * mul + add) % n);
}

/* Zipf weights 1/(r+1)^s, summed. */
static double *
zipf_cum(uint32_t n, double s)
{
	double *cum = malloc((size_t) n * sizeof(*cum));
	double  sum = 0;

	if (cum == NULL) {
		return NULL;
	}
	for (uint32_t r = 0; r < n; r++) {
		sum += pow((double) r + 1, -s);
		cum[r] = sum;
	}
	return cum;
}

/* ==== The catalogue ==== */

static void
catalogue_fini(struct catalogue *c)
{
	free(c->cum);
	free(c->cat);
	free(c->cat_start);
	free(c->cat_ranks);
	free(c->cat_cum);
	memset(c, 0, sizeof(*c));
}

/* Group the ranks by category (a counting sort, ranks ascending within
 * each) and sum each category's weights on their own. */
static void
catalogue_group(struct catalogue *c)
{
	for (uint32_t r = 0; r < c->n; r++) {
		c->cat_start[c->cat[r] + 1]++;
	}
	for (uint32_t k = 0; k < c->n_cats; k++) {
		c->cat_start[k + 1] += c->cat_start[k];
	}
	for (uint32_t r = 0; r < c->n; r++) {
		uint32_t k = c->cat[r];
		/* cat_start[k] is moved on as the slots fill; put back below
		 */
		c->cat_ranks[c->cat_start[k]++] = r;
	}
	for (uint32_t k = c->n_cats; k > 0; k--) {
		c->cat_start[k] = c->cat_start[k - 1];
	}
	c->cat_start[0] = 0;
	for (uint32_t k = 0; k < c->n_cats; k++) {
		double sum = 0;

		for (uint32_t i = c->cat_start[k]; i < c->cat_start[k + 1];
		     i++) {
			/* Slots below cat_start[n_cats] == n were all
			 * filled by the sort above; clang's analyzer does
			 * not follow the counts. */
			// NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Assign)
			uint32_t r = c->cat_ranks[i];

			sum += c->cum[r] - (r ? c->cum[r - 1] : 0);
			c->cat_cum[i] = sum;
		}
	}
}

static bool
catalogue_init(struct catalogue *c, const struct gen_opts *o)
{
	memset(c, 0, sizeof(*c));
	c->n         = o->items;
	c->n_cats    = o->categories;
	c->cum       = zipf_cum(c->n, o->item_s);
	c->cat       = malloc((size_t) c->n * sizeof(*c->cat));
	c->cat_start = calloc((size_t) c->n_cats + 1, sizeof(*c->cat_start));
	c->cat_ranks = malloc((size_t) c->n * sizeof(*c->cat_ranks));
	c->cat_cum   = malloc((size_t) c->n * sizeof(*c->cat_cum));
	if (c->cum == NULL || c->cat == NULL || c->cat_start == NULL ||
	    c->cat_ranks == NULL || c->cat_cum == NULL) {
		catalogue_fini(c);
		return false;
	}
	for (uint32_t r = 0; r < c->n; r++) {
		c->cat[r] = (uint32_t) (gen_hash(o->seed, r) % c->n_cats);
	}
	catalogue_group(c);
	perm_init(c->n, o->seed, &c->perm_mul, &c->perm_add);
	return true;
}

/* A rank drawn from the whole catalogue by popularity. */
static uint32_t
draw_item(const struct catalogue *c, uint64_t *rng)
{
	return cum_search(c->cum, c->n, gen_rand01(rng) * c->cum[c->n - 1]);
}

/* A rank drawn from category k (which holds at least one item) by the
 * items' own popularity. */
static uint32_t
draw_item_in(const struct catalogue *c, uint32_t k, uint64_t *rng)
{
	uint32_t      lo = c->cat_start[k];
	uint32_t      n  = c->cat_start[k + 1] - lo;
	const double *cw = c->cat_cum + lo;

	return c
	    ->cat_ranks[lo + cum_search(cw, n, gen_rand01(rng) * cw[n - 1])];
}

/* ==== Customers ==== */

static bool
people_init(struct people *p, const struct gen_opts *o)
{
	p->n   = o->users;
	p->cum = zipf_cum(p->n, o->user_s);
	perm_init(p->n, o->seed ^ 0x7573657273ull, &p->perm_mul, &p->perm_add);
	return p->cum != NULL;
}

static uint32_t
draw_user(const struct people *p, uint64_t *rng)
{
	uint32_t r =
	    cum_search(p->cum, p->n, gen_rand01(rng) * p->cum[p->n - 1]);

	return perm_apply(r, p->n, p->perm_mul, p->perm_add);
}

/* ==== Orders ==== */

/* 1 + a geometric number with mean (mean - 1), at most 'max'. */
static unsigned
draw_basket_size(const struct gen_opts *o, uint64_t *rng)
{
	double p, k;

	if (o->basket_mean <= 1) {
		return 1;
	}
	p = 1.0 / o->basket_mean;
	k = floor(log(1.0 - gen_rand01(rng)) / log(1.0 - p));
	return k + 1 >= o->basket_max ? o->basket_max : (unsigned) k + 1;
}

/* 1 with 0.80, 2 with 0.15, else 3..6. */
static unsigned
draw_qty(uint64_t *rng)
{
	double u = gen_rand01(rng);

	if (u < 0.80) {
		return 1;
	}
	return u < 0.95 ? 2 : 3 + (unsigned) (gen_rand(rng) % 4);
}

/* Item i's price: log-normal, median 8.00, sigma 1, in 0.10..10000. */
static double
item_price(uint64_t seed, uint32_t item)
{
	uint64_t h  = gen_hash(seed ^ 0x7072696365ull, item);
	double   u1 = ((double) (h >> 11) + 0.5) * 0x1.0p-53;
	double   u2 = (double) (gen_hash(h, 1) >> 11) * 0x1.0p-53;
	double   z  = sqrt(-2 * log(u1)) * cos(2 * GEN_PI * u2);
	double   p  = 8.0 * exp(z);

	p = p < 0.1 ? 0.1 : p > 10000 ? 10000 : p;
	return round(p * 100) / 100;
}

static bool
in_basket(const uint32_t *basket, unsigned n, uint32_t r)
{
	for (unsigned i = 0; i < n; i++) {
		if (basket[i] == r) {
			return true;
		}
	}
	return false;
}

/* The ranks of one order's items: within the order's categories mostly,
 * each distinct as far as GEN_DRAW_TRIES allows. */
static void
draw_basket(const struct gen_opts *o, const struct catalogue *c, uint64_t *rng,
    uint32_t *basket, unsigned n)
{
	uint32_t cats[GEN_CATS_PER_BASKET];
	unsigned n_cats = 1;

	cats[0] = c->cat[draw_item(c, rng)];
	while (
	    n_cats < GEN_CATS_PER_BASKET && gen_rand01(rng) < GEN_NEXT_CAT_P) {
		cats[n_cats++] = c->cat[draw_item(c, rng)];
	}
	for (unsigned i = 0; i < n; i++) {
		bool     in_cat = gen_rand01(rng) < o->in_category;
		uint32_t r      = 0;

		/* After GEN_DRAW_TRIES repeats (a small category, or one a
		 * single item dominates), the whole catalogue. */
		for (int t = 0; t < 2 * GEN_DRAW_TRIES; t++) {
			r = in_cat && t < GEN_DRAW_TRIES
			    ? draw_item_in(
			          c, cats[gen_rand(rng) % n_cats], rng)
			    : draw_item(c, rng);
			if (!in_basket(basket, i, r)) {
				break;
			}
		}
		basket[i] = r;
	}
}

/* Write one order of n lines; false on a write error. */
static bool
write_order(FILE *out, const struct gen_opts *o, const struct catalogue *c,
    const struct people *pp, uint64_t *rng, uint64_t order, unsigned n,
    int64_t ts)
{
	uint32_t basket[GEN_BASKET_MAX];
	char     user[16] = "";

	if (gen_rand01(rng) >= o->guests) {
		snprintf(
		    user, sizeof(user), "U%" PRIu32, draw_user(pp, rng) + 1);
	}
	draw_basket(o, c, rng, basket, n);
	for (unsigned i = 0; i < n; i++) {
		uint32_t item =
		    perm_apply(basket[i], c->n, c->perm_mul, c->perm_add) + 1;

		if (fprintf(out,
		        "o%" PRIu64 "-%" PRIu64 ",%s,I%" PRIu32 ",C%" PRIu32
		        ",%u,%.2f,%" PRId64 "\n",
		        o->seed, order, user, item, c->cat[basket[i]] + 1,
		        draw_qty(rng), item_price(o->seed, item), ts) < 0) {
			return false;
		}
	}
	return true;
}

/* Every line, orders in time order, spread evenly over the period. */
static bool
generate(FILE *out, const struct gen_opts *o, const struct catalogue *c,
    const struct people *pp)
{
	uint64_t rng    = gen_hash(o->seed, 0x6f7264657273ull);
	uint64_t done   = 0;
	double   period = (double) o->days * 86400.0;

	if (fputs("order,user,item,category,qty,price,ts\n", out) < 0) {
		return false;
	}
	for (uint64_t order = 1; done < o->lines; order++) {
		unsigned n  = draw_basket_size(o, &rng);
		int64_t  ts = o->start +
		    (int64_t) (period * (double) done / (double) o->lines);

		if (n > o->lines - done) {
			n = (unsigned) (o->lines - done);
		}
		if (!write_order(out, o, c, pp, &rng, order, n, ts)) {
			return false;
		}
		done += n;
	}
	return true;
}

/* ==== Flags ==== */

enum {
	OPT_LINES = 256,
	OPT_ITEMS,
	OPT_CATEGORIES,
	OPT_USERS,
	OPT_ITEM_S,
	OPT_USER_S,
	OPT_GUESTS,
	OPT_BASKET_MEAN,
	OPT_BASKET_MAX,
	OPT_IN_CATEGORY,
	OPT_START,
	OPT_DAYS,
	OPT_SEED,
	OPT_VERSION
};

static const struct option longopts[] = {
	{ "lines", required_argument, NULL, OPT_LINES },
	{ "items", required_argument, NULL, OPT_ITEMS },
	{ "categories", required_argument, NULL, OPT_CATEGORIES },
	{ "users", required_argument, NULL, OPT_USERS },
	{ "item-s", required_argument, NULL, OPT_ITEM_S },
	{ "user-s", required_argument, NULL, OPT_USER_S },
	{ "guests", required_argument, NULL, OPT_GUESTS },
	{ "basket-mean", required_argument, NULL, OPT_BASKET_MEAN },
	{ "basket-max", required_argument, NULL, OPT_BASKET_MAX },
	{ "in-category", required_argument, NULL, OPT_IN_CATEGORY },
	{ "start", required_argument, NULL, OPT_START },
	{ "days", required_argument, NULL, OPT_DAYS },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static int
usage_error(const char *flag, const char *what)
{
	fprintf(stderr, "xsell-gen: %s: %s (see --help)\n", flag, what);
	return 2;
}

static void
opts_default(struct gen_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->items       = 50000;
	o->categories  = 500;
	o->item_s      = 1.0;
	o->user_s      = 0.8;
	o->guests      = 0.05;
	o->basket_mean = 4;
	o->basket_max  = 50;
	o->in_category = 0.85;
	o->start       = 1704067200;
	o->days        = 365;
	o->seed        = 1;
}

/* One flag into 'o'; 0 or a usage exit status. */
static int
parse_flag(int c, const char *arg, struct gen_opts *o)
{
	uint64_t v;

	switch (c) {
	case OPT_LINES:
		return xs_opt_u64(arg, 1, GEN_LINES_MAX, &o->lines)
		    ? 0
		    : usage_error("--lines", "must be 1..1e11");
	case OPT_ITEMS:
		return xs_opt_uint(arg, 1, GEN_ITEMS_MAX, &o->items)
		    ? 0
		    : usage_error("--items", "must be 1..10000000");
	case OPT_CATEGORIES:
		return xs_opt_uint(arg, 1, GEN_CATEGORIES_MAX, &o->categories)
		    ? 0
		    : usage_error("--categories", "must be 1..1000000");
	case OPT_USERS:
		o->users_given = true;
		return xs_opt_uint(arg, 1, GEN_USERS_MAX, &o->users)
		    ? 0
		    : usage_error("--users", "must be 1..10000000");
	case OPT_ITEM_S:
		return xs_opt_double(arg, 0, 5, &o->item_s)
		    ? 0
		    : usage_error("--item-s", "must be 0..5");
	case OPT_USER_S:
		return xs_opt_double(arg, 0, 5, &o->user_s)
		    ? 0
		    : usage_error("--user-s", "must be 0..5");
	case OPT_GUESTS:
		return xs_opt_double(arg, 0, 1, &o->guests)
		    ? 0
		    : usage_error("--guests", "must be 0..1");
	case OPT_BASKET_MEAN:
		return xs_opt_double(arg, 1, 1000, &o->basket_mean)
		    ? 0
		    : usage_error("--basket-mean", "must be 1..1000");
	case OPT_BASKET_MAX:
		return xs_opt_uint(arg, 1, GEN_BASKET_MAX, &o->basket_max)
		    ? 0
		    : usage_error("--basket-max", "must be 1..10000");
	case OPT_IN_CATEGORY:
		return xs_opt_double(arg, 0, 1, &o->in_category)
		    ? 0
		    : usage_error("--in-category", "must be 0..1");
	case OPT_START:
		if (!xs_opt_u64(arg, 0, (uint64_t) GEN_TS_MAX, &v)) {
			return usage_error("--start", "must be 0..2^40-1");
		}
		o->start = (int64_t) v;
		return 0;
	case OPT_DAYS:
		return xs_opt_uint(arg, 1, GEN_DAYS_MAX, &o->days)
		    ? 0
		    : usage_error("--days", "must be 1..36500");
	case OPT_SEED:
		return xs_opt_u64(arg, 0, UINT64_MAX, &o->seed)
		    ? 0
		    : usage_error("--seed", "must be a non-negative integer");
	default:
		fputs(usage, stderr);
		return 2;
	}
}

/* Flags that only make sense together, and the defaults that follow
 * from others. 0 or a usage exit status. */
static int
check_opts(struct gen_opts *o)
{
	if (o->lines == 0) {
		return usage_error("--lines", "required");
	}
	if (o->categories > o->items) {
		return usage_error("--categories", "more than --items");
	}
	if (o->basket_mean > o->basket_max) {
		return usage_error("--basket-mean", "above --basket-max");
	}
	if (o->start + (int64_t) o->days * 86400 > GEN_TS_MAX) {
		return usage_error("--start/--days", "past 2^40 seconds");
	}
	if (!o->users_given) {
		uint64_t u = o->lines / 20;

		o->users = u < 1        ? 1
		    : u > GEN_USERS_MAX ? GEN_USERS_MAX
		                        : (uint32_t) u;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static char        buf[1 << 20];
	struct gen_opts    o;
	struct catalogue   cat;
	struct people      pp   = { 0 };
	struct xs_opt_once once = { .opts = longopts, .shortopts = "h" };
	bool               ok;
	int                c, rc;

	opts_default(&o);
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		const char *twice = xs_opt_given_twice(&once, c);

		if (twice != NULL) {
			return usage_error(twice, "given twice");
		}
		if (c == 'h') {
			fputs(usage, stdout);
			return 0;
		}
		if (c == OPT_VERSION) {
			printf("xsell-gen %s\n", XSELL_VERSION);
			return 0;
		}
		rc = parse_flag(c, optarg, &o);
		if (rc != 0) {
			return rc;
		}
	}
	if (optind != argc) {
		return usage_error(argv[optind], "unexpected argument");
	}
	rc = check_opts(&o);
	if (rc != 0) {
		return rc;
	}
	if (!catalogue_init(&cat, &o) || !people_init(&pp, &o)) {
		fprintf(stderr, "xsell-gen: out of memory\n");
		catalogue_fini(&cat);
		free(pp.cum);
		return 1;
	}
	/* A bigger buffer only speeds writing up: without it, still right. */
	(void) setvbuf(stdout, buf, _IOFBF, sizeof(buf));
	ok = generate(stdout, &o, &cat, &pp);
	ok = fflush(stdout) == 0 && ok && !ferror(stdout);
	if (!ok) {
		fprintf(stderr, "xsell-gen: writing: %s\n", strerror(errno));
	}
	catalogue_fini(&cat);
	free(pp.cum);
	return ok ? 0 : 1;
}
