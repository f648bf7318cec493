/* SPDX-License-Identifier: MIT */
/* What a client sends never reaches a log line raw: xs_escape writes
 * every unsafe byte as \xHH, and xs_log itself turns any control byte
 * that reaches it into '?', so one event stays one line. */
#include "support.h"

#include <stdio.h>
#include <string.h>
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_writes_unsafe_bytes_as_hex),
		cmocka_unit_test(test_escape_truncates_and_terminates),
		cmocka_unit_test(test_log_line_cannot_be_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
