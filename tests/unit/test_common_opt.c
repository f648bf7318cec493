/* SPDX-License-Identifier: MIT */
/* The shared readings of command-line option values (common/opt.c) and
 * of a small text file (common/file.c): what each binary's flags accept
 * and refuse, worked out by hand from strtoull/strtod's rules; and which
 * option given twice is refused. */
#include "support.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

static void
test_u64_takes_a_decimal_in_range(void **state)
{
	uint64_t v = 7;

	(void) state;
	assert_true(xs_opt_u64("0", 0, 10, &v));
	assert_int_equal(v, 0);
	assert_true(xs_opt_u64("10", 0, 10, &v));
	assert_int_equal(v, 10);
	/* 08 is eight: base 10, not octal. */
	assert_true(xs_opt_u64("08", 0, 10, &v));
	assert_int_equal(v, 8);
	assert_true(xs_opt_u64("18446744073709551615", 0, UINT64_MAX, &v));
	assert_true(v == UINT64_MAX);
}

static void
test_u64_refuses_and_leaves_out_alone(void **state)
{
	uint64_t v = 7;

	(void) state;
	assert_false(xs_opt_u64("11", 0, 10, &v));  /* above hi */
	assert_false(xs_opt_u64("0", 1, 10, &v));   /* below lo */
	assert_false(xs_opt_u64("-1", 0, 10, &v));  /* a sign */
	assert_false(xs_opt_u64("", 0, 10, &v));    /* nothing */
	assert_false(xs_opt_u64("5x", 0, 10, &v));  /* trailing text */
	assert_false(xs_opt_u64("0x5", 0, 10, &v)); /* no hex */
	/* 2^64 overflows strtoull (ERANGE). */
	assert_false(xs_opt_u64("18446744073709551616", 0, UINT64_MAX, &v));
	assert_int_equal(v, 7);
}

static void
test_uint_narrows_after_the_range_check(void **state)
{
	unsigned v = 7;

	(void) state;
	assert_true(xs_opt_uint("256", 1, 256, &v));
	assert_int_equal(v, 256);
	/* 2^32 would wrap to 0 if it were cast first. */
	assert_false(xs_opt_uint("4294967296", 0, UINT32_MAX, &v));
	assert_int_equal(v, 256);
}

static void
test_double_takes_a_finite_number_in_range(void **state)
{
	double v = 7;

	(void) state;
	assert_true(xs_opt_double("0.25", 0, 1, &v));
	assert_true(v == 0.25);
	assert_true(xs_opt_double("1e2", 1, 1e8, &v));
	assert_true(v == 100);
	assert_false(xs_opt_double("0.05", 0.1, 86400, &v));
	assert_false(xs_opt_double("inf", 0, 1e308, &v));
	assert_false(xs_opt_double("nan", 0, 1, &v));
	assert_false(xs_opt_double("1s", 0, 10, &v));
	assert_false(xs_opt_double("", 0, 10, &v));
	assert_true(v == 100);
}

static void
test_size_reads_suffixes_as_powers_of_1024(void **state)
{
	size_t v = 7;

	(void) state;
	assert_true(xs_opt_size("512", &v));
	assert_int_equal(v, 512);
	assert_true(xs_opt_size("4k", &v));
	assert_int_equal(v, 4096);
	assert_true(xs_opt_size("64M", &v));
	assert_int_equal(v, 67108864);
	assert_true(xs_opt_size("1g", &v));
	assert_int_equal(v, 1073741824);
	assert_true(xs_opt_size("2T", &v));
	assert_true(v == (size_t) 2 << 40);
}

static void
test_size_refuses_zero_signs_and_other_suffixes(void **state)
{
	size_t v = 7;

	(void) state;
	assert_false(xs_opt_size("0", &v));
	assert_false(xs_opt_size("0M", &v));
	assert_false(xs_opt_size("-1M", &v));
	assert_false(xs_opt_size("M", &v));
	assert_false(xs_opt_size("64MB", &v));
	assert_false(xs_opt_size("64X", &v));
	/* 2^24 T is 2^64 bytes: one past what a size_t holds. */
	assert_false(xs_opt_size("16777216T", &v));
	assert_int_equal(v, 7);
}

static void
test_size_in_keeps_to_its_range(void **state)
{
	size_t v = 7;

	(void) state;
	assert_true(xs_opt_size_in("1M", 1u << 20, 4u << 20, &v));
	assert_int_equal(v, 1u << 20);
	assert_true(xs_opt_size_in("4M", 1u << 20, 4u << 20, &v));
	assert_int_equal(v, 4u << 20);
	v = 7;
	assert_false(xs_opt_size_in("1023K", 1u << 20, 4u << 20, &v));
	assert_false(xs_opt_size_in("4097K", 1u << 20, 4u << 20, &v));
	assert_false(xs_opt_size_in("2X", 1, 4u << 20, &v));
	assert_int_equal(v, 7);
}

/* "a,,bc" as its elements, each "<...>", in one string. */
static void
list_as_text(const char *list, char *out, size_t size)
{
	const char *p = list, *e;
	size_t      len, o = 0;

	out[0] = '\0';
	while (xs_opt_list_next(&p, &e, &len)) {
		o += (size_t) snprintf(
		    out + o, size - o, "<%.*s>", (int) len, e);
	}
}

static void
test_list_splits_at_every_comma(void **state)
{
	char text[64];

	(void) state;
	list_as_text("a,,bc", text, sizeof(text));
	assert_string_equal(text, "<a><><bc>");
	list_as_text("x", text, sizeof(text));
	assert_string_equal(text, "<x>");
	list_as_text("", text, sizeof(text));
	assert_string_equal(text, "<>");
	list_as_text(",", text, sizeof(text));
	assert_string_equal(text, "<><>");
	list_as_text("a,b,", text, sizeof(text));
	assert_string_equal(text, "<a><b><>");
}

static void
test_id_list_names_its_first_bad_id(void **state)
{
	char        long_id[300];
	char        list[320];
	const char *bad;
	size_t      len = 7;

	(void) state;
	assert_null(xs_id_list_bad("POST,DOT,M", &len));
	assert_int_equal(len, 7);
	bad = xs_id_list_bad("POST,,M", &len);
	assert_non_null(bad);
	assert_int_equal(len, 0);
	assert_string_equal(bad, ",M");
	bad = xs_id_list_bad("A,B,", &len);
	assert_non_null(bad);
	assert_int_equal(len, 0);
	/* Not UTF-8. */
	bad = xs_id_list_bad("ok,\xff\xfe,\xff", &len);
	assert_non_null(bad);
	assert_int_equal(len, 2);
	assert_memory_equal(bad, "\xff\xfe", 2);
	/* 256 bytes are an id, 257 are not. */
	memset(long_id, 'x', 257);
	long_id[256] = '\0';
	snprintf(list, sizeof(list), "a,%s", long_id);
	assert_null(xs_id_list_bad(list, &len));
	long_id[256] = 'x';
	long_id[257] = '\0';
	snprintf(list, sizeof(list), "a,%s,b", long_id);
	bad = xs_id_list_bad(list, &len);
	assert_non_null(bad);
	assert_int_equal(len, 257);
}

/* Write 'len' bytes of 'text' to a new file in 'dir'; its path. */
static char *
file_with(const char *dir, const char *text, size_t len)
{
	size_t size = strlen(dir) + 8;
	char  *path = malloc(size);
	FILE  *f;

	assert_non_null(path);
	snprintf(path, size, "%s/f.txt", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

static void
test_file_read_text_bounds_the_file(void **state)
{
	char *dir = xs_test_tmpdir();
	char *path;
	char *text = NULL;

	(void) state;
	path = file_with(dir, "abcd", 4);
	assert_int_equal(xs_file_read_text(path, 4, &text), XSELL_OK);
	assert_string_equal(text, "abcd");
	free(text);
	text = NULL;
	/* 4 bytes where 3 are allowed. */
	assert_int_equal(xs_file_read_text(path, 3, &text), XSELL_ETOOBIG);
	assert_null(text);
	free(path);

	path = file_with(dir, "", 0);
	assert_int_equal(xs_file_read_text(path, 4, &text), XSELL_EINVAL);
	assert_null(text);
	free(path);

	path = file_with(dir, "x", 1);
	assert_int_equal(remove(path), 0);
	assert_int_equal(xs_file_read_text(path, 4, &text), XSELL_EIO);
	assert_null(text);
	free(path);
	xs_test_rmdir(dir);
}

/* The options of a tool: --db (a value), --map (a value that adds up),
 * --quiet (a flag), --lines (a value past the char range, as xsell-gen's
 * OPT_ enums), -k (a short option with a value and no long name) and -h
 * (a short flag). */
static const struct option twice_opts[] = {
	{ "db", required_argument, NULL, 'd' },
	{ "map", required_argument, NULL, 'm' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "lines", required_argument, NULL, 256 },
	{ NULL, 0, NULL, 0 },
};

static void
test_given_twice_names_a_value_given_again(void **state)
{
	static const int   adds_up[] = { 'm', 0 };
	struct xs_opt_once once      = {
		     .opts = twice_opts, .shortopts = "-hk:", .adds_up = adds_up
	};

	(void) state;
	assert_null(xs_opt_given_twice(&once, 'd'));
	assert_null(xs_opt_given_twice(&once, 256));
	assert_null(xs_opt_given_twice(&once, 'k'));
	assert_string_equal(xs_opt_given_twice(&once, 'd'), "--db");
	assert_string_equal(xs_opt_given_twice(&once, 256), "--lines");
	assert_string_equal(xs_opt_given_twice(&once, 'k'), "-k");
	/* Still refused the third time. */
	assert_string_equal(xs_opt_given_twice(&once, 'd'), "--db");
}

static void
test_given_twice_lets_flags_lists_and_files_repeat(void **state)
{
	static const int   adds_up[] = { 'm', 0 };
	struct xs_opt_once once      = {
		     .opts = twice_opts, .shortopts = "-hk:", .adds_up = adds_up
	};
	struct xs_opt_once bare = { .opts = twice_opts };

	(void) state;
	for (int i = 0; i < 3; i++) {
		assert_null(xs_opt_given_twice(&once, 'm')); /* adds up */
		assert_null(xs_opt_given_twice(&once, 'q')); /* a flag */
		assert_null(xs_opt_given_twice(&once, 'h')); /* short flag */
		assert_null(xs_opt_given_twice(&once, 1));   /* a file */
		assert_null(xs_opt_given_twice(&once, '?')); /* unknown */
		assert_null(xs_opt_given_twice(&once, ':'));
	}
	assert_int_equal(once.n_given, 0);
	/* Without a short table or a list of values that add up, --map is
	 * a value like any other, and an unknown letter is no option. */
	assert_null(xs_opt_given_twice(&bare, 'm'));
	assert_string_equal(xs_opt_given_twice(&bare, 'm'), "--map");
	assert_null(xs_opt_given_twice(&bare, 'k'));
	assert_null(xs_opt_given_twice(&bare, 'k'));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64_takes_a_decimal_in_range),
		cmocka_unit_test(test_u64_refuses_and_leaves_out_alone),
		cmocka_unit_test(test_uint_narrows_after_the_range_check),
		cmocka_unit_test(test_double_takes_a_finite_number_in_range),
		cmocka_unit_test(test_size_reads_suffixes_as_powers_of_1024),
		cmocka_unit_test(
		    test_size_refuses_zero_signs_and_other_suffixes),
		cmocka_unit_test(test_size_in_keeps_to_its_range),
		cmocka_unit_test(test_list_splits_at_every_comma),
		cmocka_unit_test(test_id_list_names_its_first_bad_id),
		cmocka_unit_test(test_file_read_text_bounds_the_file),
		cmocka_unit_test(test_given_twice_names_a_value_given_again),
		cmocka_unit_test(
		    test_given_twice_lets_flags_lists_and_files_repeat),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
