/* SPDX-License-Identifier: MIT */
/* xsell-gen as bench/scale.sh runs it: the built binary run with
 * fork/exec into files here, its output read back and checked, and a
 * generated file loaded with the built xsell-load. No timing. */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define LINES 20000u
#define ITEMS 2000u
#define CATS 50u
#define HEADER "order,user,item,category,qty,price,ts\n"

struct fixture {
	char *dir;
	char  out[8192]; /* stdout of the last xsell-load run */
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->dir = xs_test_tmpdir();
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	xs_test_rmdir(f->dir);
	free(f);
	return 0;
}

static const char *
path_in(struct fixture *f, const char *name)
{
	static char p[4][512];
	static int  which;

	which = (which + 1) % 4;
	snprintf(p[which], sizeof(p[which]), "%s/%s", f->dir, name);
	return p[which];
}

/* Run 'argv' (argv[0] a path) with stdout to 'out_path'; its exit code.
 * Bounded: the child is killed after 120 s. */
static int
run(const char *const *argv, const char *out_path)
{
	int status = xs_test_run(argv, out_path, NULL, 120);

	if (!WIFEXITED(status)) {
		fail_msg("%s died (status %d)", argv[0], status);
	}
	return WEXITSTATUS(status);
}

/* xsell-gen --lines LINES --items ITEMS --categories CATS --seed SEED
 * plus 'extra' flags (NULL or a flag and its value) into 'name'. */
static const char *
gen(struct fixture *f, const char *name, const char *seed,
    const char *extra_flag, const char *extra_value)
{
	const char *path   = path_in(f, name);
	const char *argv[] = { XS_TEST_XSELL_GEN, "--lines", "20000",
		"--items", "2000", "--categories", "50", "--seed", seed,
		extra_flag, extra_value, NULL };

	assert_int_equal(run(argv, path), 0);
	return path;
}

static char *
slurp(const char *path, size_t *lenp)
{
	FILE  *fp = fopen(path, "rb");
	char  *buf;
	long   len;
	size_t n;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	len = ftell(fp);
	assert_true(len >= 0);
	rewind(fp);
	buf = malloc((size_t) len + 1);
	assert_non_null(buf);
	n = fread(buf, 1, (size_t) len, fp);
	fclose(fp);
	assert_int_equal(n, (size_t) len);
	buf[n] = '\0';
	*lenp  = n;
	return buf;
}

static bool
same_bytes(const char *a_path, const char *b_path)
{
	size_t a_len, b_len;
	char  *a    = slurp(a_path, &a_len);
	char  *b    = slurp(b_path, &b_len);
	bool   same = a_len == b_len && memcmp(a, b, a_len) == 0;

	free(a);
	free(b);
	return same;
}

static void
test_same_seed_same_bytes(void **state)
{
	struct fixture *f = *state;
	const char     *a = gen(f, "a.csv", "1", NULL, NULL);
	const char     *b = gen(f, "b.csv", "1", NULL, NULL);
	const char     *c = gen(f, "c.csv", "2", NULL, NULL);

	assert_true(same_bytes(a, b));
	assert_false(same_bytes(a, c));
}

/* What one file holds, counted here from its text. */
struct census {
	unsigned lines;                 /* data lines, header not counted */
	unsigned item_lines[ITEMS + 1]; /* by item number I1..I2000 */
	unsigned orders_multi;          /* orders of two lines or more */
	unsigned lines_multi;           /* their lines */
	unsigned cats_multi;            /* their distinct categories, summed */
};

/* The i-th comma-separated field of 'line' as a number after its
 * one-letter prefix ("I17" -> 17); 0 if there is none. */
static unsigned long
field_number(const char *line, int i)
{
	for (; i > 0 && line != NULL; i--) {
		line = strchr(line, ',');
		line = line != NULL ? line + 1 : NULL;
	}
	return line != NULL && line[0] != ',' ? strtoul(line + 1, NULL, 10)
	                                      : 0;
}

static void
order_end(struct census *c, const bool *cat_seen, unsigned lines)
{
	unsigned cats = 0;

	for (unsigned k = 1; k <= CATS; k++) {
		cats += cat_seen[k];
	}
	if (lines >= 2) {
		c->orders_multi++;
		c->lines_multi += lines;
		c->cats_multi += cats;
	}
}

/* Lines of an order are adjacent (the generator writes orders whole). */
static void
census_of(const char *path, struct census *c)
{
	char     line[512], order[64] = "";
	bool     cat_seen[CATS + 1] = { false };
	unsigned order_lines        = 0;
	FILE    *fp                 = fopen(path, "r");

	assert_non_null(fp);
	memset(c, 0, sizeof(*c));
	assert_non_null(fgets(line, sizeof(line), fp));
	assert_string_equal(line, HEADER);
	while (fgets(line, sizeof(line), fp) != NULL) {
		size_t        id_len = strcspn(line, ",");
		unsigned long item   = field_number(line, 2);
		unsigned long cat    = field_number(line, 3);

		assert_true(item >= 1 && item <= ITEMS);
		assert_true(cat >= 1 && cat <= CATS);
		if (strncmp(order, line, id_len) != 0 ||
		    order[id_len] != '\0') {
			order_end(c, cat_seen, order_lines);
			memset(cat_seen, 0, sizeof(cat_seen));
			order_lines = 0;
			assert_true(id_len < sizeof(order));
			memcpy(order, line, id_len);
			order[id_len] = '\0';
		}
		cat_seen[cat] = true;
		order_lines++;
		c->item_lines[item]++;
		c->lines++;
	}
	order_end(c, cat_seen, order_lines);
	fclose(fp);
}

static int
cmp_desc(const void *a, const void *b)
{
	unsigned x = *(const unsigned *) a, y = *(const unsigned *) b;

	return (x < y) - (x > y);
}

/* The share of the lines that the top 1% of items (20 of 2000) hold. */
static double
top_share(struct census *c)
{
	unsigned top = 0;

	qsort(c->item_lines + 1, ITEMS, sizeof(unsigned), cmp_desc);
	for (unsigned i = 1; i <= ITEMS / 100; i++) {
		top += c->item_lines[i];
	}
	return (double) top / (double) c->lines;
}

/* Zipf s = 1 over 2000 items: one draw gives one of the top 20 with
 * probability H(20) / H(2000) = 3.598 / 8.178 = 0.44, against 20/2000 =
 * 0.01 for equal items. An order holds an item once, so a top item
 * drawn again is redrawn (and lines drawn in its category go to the
 * items beside it): the share falls below 0.44 but stays many times
 * 0.01; 0.20 is twenty times an even share. Uniform (s = 0): each item
 * is drawn 10 times on average (20,000 / 2,000), a Poisson spread whose
 * 20 largest of 2,000 are near 20 (10 + 3 sigma): about 400 lines, a
 * share of 0.02. */
static void
test_item_popularity_skewed(void **state)
{
	struct fixture *f = *state;
	struct census  *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	census_of(gen(f, "zipf.csv", "3", NULL, NULL), c);
	assert_int_equal(c->lines, LINES);
	assert_true(top_share(c) > 0.20);
	assert_true(top_share(c) <= 0.44);
	census_of(gen(f, "flat.csv", "3", "--item-s", "0"), c);
	assert_int_equal(c->lines, LINES);
	assert_true(top_share(c) < 0.04);
	free(c);
}

/* Orders stay within few categories: a multi-line order's lines span
 * far fewer categories than lines. Drawn without regard to category
 * (--in-category 0) from 50 categories, 5 lines would span about
 * 50 (1 - (49/50)^5) = 4.8 (a little less, as popular items gather in
 * their categories): the ratio is near 0.95. With the default 0.85 of
 * lines from the order's one to three categories, well under 0.75. */
static void
test_orders_within_categories(void **state)
{
	struct fixture *f = *state;
	struct census  *c = calloc(1, sizeof(*c));
	double          ratio;

	assert_non_null(c);
	census_of(gen(f, "cats.csv", "4", NULL, NULL), c);
	assert_true(c->orders_multi > 1000);
	ratio = (double) c->cats_multi / (double) c->lines_multi;
	assert_true(ratio < 0.75);
	census_of(gen(f, "nocats.csv", "4", "--in-category", "0"), c);
	ratio = (double) c->cats_multi / (double) c->lines_multi;
	assert_true(ratio > 0.85);
	free(c);
}

static void
test_loads_without_rejections(void **state)
{
	struct fixture *f   = *state;
	const char     *csv = gen(f, "load.csv", "5", NULL, NULL);
	const char     *db  = path_in(f, "db");
	const char     *sum = path_in(f, "load.out");
	const char *argv[]  = { XS_TEST_XSELL_LOAD, "--db", db, "--quiet", csv,
		 NULL };
	size_t      len;
	char       *out;

	assert_int_equal(run(argv, sum), 0);
	out = slurp(sum, &len);
	assert_int_equal(xs_test_figure(out, "lines read"), LINES);
	assert_int_equal(xs_test_figure(out, "lines loaded"), LINES);
	assert_int_equal(xs_test_figure(out, "lines skipped"), 0);
	assert_int_equal(xs_test_figure(out, "lines rejected"), 0);
	assert_true(xs_test_figure(out, "orders applied") > 0);
	free(out);
}

/* Bad flags are usage errors (exit 2) and write no lines: an option
 * given twice too, whose last value was kept unsaid. */
static void
test_usage_errors(void **state)
{
	struct fixture   *f          = *state;
	const char       *out        = path_in(f, "usage.out");
	const char *const no_lines[] = { XS_TEST_XSELL_GEN, NULL };
	const char *const zero[] = { XS_TEST_XSELL_GEN, "--lines", "0", NULL };
	const char *const cats[] = { XS_TEST_XSELL_GEN, "--lines", "5",
		"--items", "3", "--categories", "4", NULL };
	const char *const bad_s[] = { XS_TEST_XSELL_GEN, "--lines", "5",
		"--item-s", "x", NULL };
	const char *const twice[] = { XS_TEST_XSELL_GEN, "--lines", "5",
		"--seed", "1", "--lines", "6", NULL };
	const char       *err     = path_in(f, "usage.err");
	char              said[200];
	size_t            len;
	char             *text;
	int               status;

	status = xs_test_run(twice, out, err, 120);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 2);
	xs_test_slurp(err, said, sizeof(said));
	assert_string_equal(
	    said, "xsell-gen: --lines: given twice (see --help)\n");
	text = slurp(out, &len);
	assert_int_equal(len, 0);
	free(text);
	assert_int_equal(run(no_lines, out), 2);
	assert_int_equal(run(zero, out), 2);
	assert_int_equal(run(cats, out), 2);
	assert_int_equal(run(bad_s, out), 2);
	text = slurp(out, &len);
	assert_int_equal(len, 0);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_same_seed_same_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_item_popularity_skewed, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_orders_within_categories, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_loads_without_rejections, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_usage_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
