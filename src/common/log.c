/* SPDX-License-Identifier: MIT */
/* One-line logging to stderr. Lines are written with one fputs under the
 * stdio lock so that threads never interleave within a line. */
#include "common/common.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static enum xs_log_level log_level = XS_LOG_INFO;

void
xs_log_set_level(enum xs_log_level level)
{
	log_level = level;
}

void
xs_log(enum xs_log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warn", "info",
		"debug" };
	char                     line[1024];
	char                     when[32];
	struct tm                tm;
	time_t                   now;
	int                      n;
	va_list                  ap;

	if (level > log_level) {
		return;
	}
	now = time(NULL);
	/* Without a time (a clock past year 9999) the line still goes out;
	 * strftime leaves 'when' undefined when it fails. */
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		snprintf(when, sizeof(when), "-");
	}
	n = snprintf(line, sizeof(line), "%s %s ", when, names[level]);
	va_start(ap, fmt);
	/* clang 14's valist checker misses the va_start just above. */
	// NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized)
	vsnprintf(line + n, sizeof(line) - (size_t) n - 1, fmt, ap);
	va_end(ap);
	/* One event, one line, whatever reached the format: a control
	 * byte that slipped past xs_escape cannot forge a line. */
	for (char *c = line; *c != '\0'; c++) {
		if ((unsigned char) *c < 0x20 || *c == 0x7f) {
			*c = '?';
		}
	}
	fprintf(stderr, "%s\n", line);
}
