/* SPDX-License-Identifier: MIT */
/* What a client sends never reaches a log line raw: xs_escape writes
 * every unsafe byte as \xHH, and xs_log itself turns any control byte
 * that reaches it into '?', so one event stays one line. A thread that
 * limits its repeated lines writes each once, then again with a count
 * once the interval has passed. */
#include "support.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/common.h"

static void
test_escape_writes_unsafe_bytes_as_hex(void **state)
{
	char out[64];

	(void) state;
	xs_escape(out, sizeof(out), "a\nb\"\\\x1b\xc3\xa9", 8);
	assert_string_equal(out, "a\\x0ab\\x22\\x5c\\x1b\\xc3\\xa9");
	xs_escape(out, sizeof(out), "plain-id_42", 11);
	assert_string_equal(out, "plain-id_42");
}

static void
test_escape_truncates_and_terminates(void **state)
{
	char out[12];

	(void) state;
	memset(out, 'x', sizeof(out));
	xs_escape(out, sizeof(out), "0123456789abcdef", 16);
	assert_true(strlen(out) < sizeof(out));
	assert_non_null(strstr(out, "..."));
}

/* stderr into a file for the length of one xs_log call. */
static void
log_captured(const char *text, char *out, size_t len)
{
	FILE  *f = tmpfile();
	int    saved;
	size_t n;

	assert_non_null(f);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(f), STDERR_FILENO) >= 0);
	xs_log(XS_LOG_ERROR, "got %s", text);
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	rewind(f);
	n      = fread(out, 1, len - 1, f);
	out[n] = '\0';
	fclose(f);
}

static void
test_log_line_cannot_be_split(void **state)
{
	char line[256];

	(void) state;
	log_captured("x\nerror forged\r\x1b[31m", line, sizeof(line));
	/* One line: the only newline is the one that ends it. */
	assert_non_null(strchr(line, '\n'));
	assert_int_equal(strchr(line, '\n') - line, (long) strlen(line) - 1);
	assert_null(strchr(line, '\r'));
	assert_null(strchr(line, '\x1b'));
	assert_non_null(strstr(line, "got x?error forged??[31m"));
}

/* With repeats limited to one a second: a line is written once and its
 * repeats held back (another line goes out meanwhile), until a second
 * has passed: then it is written with the count of those held (tried
 * every 10 ms, up to 5 s); after a reset it is written at once,
 * without a count. */
static void
test_log_repeats_written_once_then_counted(void **state)
{
	FILE   *f = tmpfile();
	char    text[65536], want[128];
	int     saved, tries = 2;
	ssize_t len;

	(void) state;
	assert_non_null(f);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(f), STDERR_FILENO) >= 0);
	xs_log_repeats_limit(1);
	xs_log(XS_LOG_ERROR, "disk fails");
	xs_log(XS_LOG_ERROR, "disk fails");
	xs_log(XS_LOG_ERROR, "another line");
	for (bool again = false; !again && tries < 500; tries++) {
		struct timespec ten_ms = { 0, 10000000L };
		ssize_t         n;

		nanosleep(&ten_ms, NULL);
		xs_log(XS_LOG_ERROR, "disk fails");
		n = pread(fileno(f), text, sizeof(text) - 1, 0);
		text[n > 0 ? n : 0] = '\0';
		again               = strstr(text, "still failing") != NULL;
	}
	xs_log_repeats_reset();
	xs_log(XS_LOG_ERROR, "disk fails");
	xs_log_repeats_limit(0);
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	len = pread(fileno(f), text, sizeof(text) - 1, 0);
	assert_true(len >= 0);
	text[len] = '\0';
	fclose(f);

	/* All but the first try and the one written again were held. */
	snprintf(want, sizeof(want),
	    "disk fails (still failing: %d retries since this line was "
	    "last logged)\n",
	    tries - 2);
	assert_int_equal(xs_test_count(text, want), 1);
	assert_int_equal(xs_test_count(text, "disk fails\n"), 2);
	assert_int_equal(xs_test_count(text, "another line\n"), 1);
	assert_int_equal(xs_test_count(text, "\n"), 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_writes_unsafe_bytes_as_hex),
		cmocka_unit_test(test_escape_truncates_and_terminates),
		cmocka_unit_test(test_log_line_cannot_be_split),
		cmocka_unit_test(test_log_repeats_written_once_then_counted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
