/* SPDX-License-Identifier: MIT */
/* One-line logging to stderr. Lines are written with one fputs under the
 * stdio lock so that threads never interleave within a line. A thread
 * that retries (the log's applier, once a second while a disk fails)
 * may have its repeated lines held back (xs_log_repeats_limit), so that
 * an error that lasts does not fill the log with the same line. */
#include "common/common.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static enum xs_log_level log_level = XS_LOG_INFO;

/* ==== Repeated lines ==== */

/* Lines remembered a thread: a retry logs one or two lines a try. */
#define REPEATS_MAX 8

struct repeat {
	uint64_t      hash;     /* of the line's level and text, 0: free */
	uint64_t      logged_s; /* when it was last written, monotonic */
	unsigned long held;     /* times held back since */
};

/* The calling thread's (xs_log_repeats_limit; every_s 0: off). */
static _Thread_local struct {
	unsigned      every_s;
	struct repeat lines[REPEATS_MAX];
} repeats;

void
xs_log_repeats_limit(unsigned every_s)
{
	repeats.every_s = every_s;
}

void
xs_log_repeats_reset(void)
{
	memset(repeats.lines, 0, sizeof(repeats.lines));
}

/* FNV-1a of the line's level and text, never 0 (a free slot's). Its
 * own, not xs_hash64: the gateway links log.c without hash.c. */
static uint64_t
line_hash(enum xs_log_level level, const char *text)
{
	uint64_t h = 0xcbf29ce484222325u ^ (uint64_t) level;

	for (const char *c = text; *c != '\0'; c++) {
		h = (h ^ (unsigned char) *c) * 0x100000001b3u;
	}
	return h | 1u;
}

/* The remembered line whose hash is 'hash', or NULL. */
static struct repeat *
repeat_find(uint64_t hash)
{
	for (size_t i = 0; i < REPEATS_MAX; i++) {
		if (repeats.lines[i].hash == hash) {
			return &repeats.lines[i];
		}
	}
	return NULL;
}

/* Remember the line whose hash is 'hash', written at 'now_s', in a free
 * slot or else over the one written longest ago. */
static void
repeat_add(uint64_t hash, uint64_t now_s)
{
	struct repeat *slot = &repeats.lines[0];

	for (size_t i = 1; i < REPEATS_MAX && slot->hash != 0; i++) {
		struct repeat *r = &repeats.lines[i];

		if (r->hash == 0 || r->logged_s < slot->logged_s) {
			slot = r;
		}
	}
	*slot = (struct repeat) { .hash = hash, .logged_s = now_s };
}

/* Whether the line 'text' of 'level' is held back: the calling thread
 * limits its repeats and wrote the same line less than every_s ago. If
 * it is written again after such holds, their count goes in
 * held_out[0..cap) (else ""). The clock is monotonic: a step of the
 * wall clock neither holds a line for long nor lets repeats through. */
static bool
repeat_is_held(
    enum xs_log_level level, const char *text, char *held_out, size_t cap)
{
	struct repeat *r;
	uint64_t       hash, now_s;

	held_out[0] = '\0';
	if (repeats.every_s == 0) {
		return false;
	}
	hash  = line_hash(level, text);
	now_s = xs_mono_ns() / 1000000000u;
	r     = repeat_find(hash);
	if (r == NULL) {
		repeat_add(hash, now_s);
		return false;
	}
	if (now_s - r->logged_s < repeats.every_s) {
		r->held++;
		return true;
	}
	if (r->held > 0) {
		snprintf(held_out, cap,
		    " (still failing: %lu retries since this line was last "
		    "logged)",
		    r->held);
	}
	r->logged_s = now_s;
	r->held     = 0;
	return false;
}

/* ==== Writing ==== */

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
	char                     held[96];
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
	if (repeat_is_held(level, line + n, held, sizeof(held))) {
		return;
	}
	/* One event, one line, whatever reached the format: a control
	 * byte that slipped past xs_escape cannot forge a line. */
	for (char *c = line; *c != '\0'; c++) {
		if ((unsigned char) *c < 0x20 || *c == 0x7f) {
			*c = '?';
		}
	}
	fprintf(stderr, "%s%s\n", line, held);
}
