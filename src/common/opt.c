/* SPDX-License-Identifier: MIT */
/* Command-line options: the one strict reading of a count, a number and
 * a size that every binary's flags share, so that "--pool 08" or
 * "--map-size 64M" mean the same to each of them, and the one refusal of
 * an option given twice. */
#include "common/common.h"

#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
xs_opt_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char              *end;
	unsigned long long v;

	errno = 0;
	v     = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < lo ||
	    v > hi) {
		return false;
	}
	*out = v;
	return true;
}

bool
xs_opt_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	uint64_t v;

	if (!xs_opt_u64(s, lo, hi, &v)) {
		return false;
	}
	*out = (unsigned) v;
	return true;
}

bool
xs_opt_double(const char *s, double lo, double hi, double *out)
{
	char  *end;
	double v;

	errno = 0;
	v     = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < lo ||
	    v > hi) {
		return false;
	}
	*out = v;
	return true;
}

/* The shift of a size suffix at *end (moved past it), 0 for none. */
static unsigned
size_shift(char **end)
{
	unsigned shift;

	switch (**end) {
	case 'K':
	case 'k':
		shift = 10;
		break;
	case 'M':
	case 'm':
		shift = 20;
		break;
	case 'G':
	case 'g':
		shift = 30;
		break;
	case 'T':
	case 't':
		shift = 40;
		break;
	default:
		return 0;
	}
	(*end)++;
	return shift;
}

bool
xs_opt_size(const char *s, size_t *out)
{
	char              *end;
	unsigned long long v;
	unsigned           shift;

	errno = 0;
	v     = strtoull(s, &end, 10);
	if (errno != 0 || end == s || s[0] == '-') {
		return false;
	}
	shift = size_shift(&end);
	if (*end != '\0' || v == 0 || v > (SIZE_MAX >> shift)) {
		return false;
	}
	*out = (size_t) v << shift;
	return true;
}

bool
xs_opt_size_in(const char *s, size_t lo, size_t hi, size_t *out)
{
	size_t v;

	if (!xs_opt_size(s, &v) || v < lo || v > hi) {
		return false;
	}
	*out = v;
	return true;
}

bool
xs_opt_list_next(const char **pp, const char **elemp, size_t *lenp)
{
	const char *comma;

	if (*pp == NULL) {
		return false;
	}
	comma  = strchr(*pp, ',');
	*elemp = *pp;
	*lenp  = comma != NULL ? (size_t) (comma - *pp) : strlen(*pp);
	*pp    = comma != NULL ? comma + 1 : NULL;
	return true;
}

/* ==== Options given twice ==== */

/* The row of 'opts' for which getopt_long returns 'c', or NULL. */
static const struct option *
long_option(const struct option *opts, int c)
{
	for (const struct option *o = opts; o != NULL && o->name != NULL;
	     o++) {
		if (o->flag == NULL && o->val == c) {
			return o;
		}
	}
	return NULL;
}

/* Whether 'c' is a short option of 'shortopts' that takes a value. */
static bool
short_takes_value(const char *shortopts, int c)
{
	const char *p;

	/* '-', '+' and ':' lead an optstring; they are no options. */
	if (shortopts == NULL || c <= 0 || c > UCHAR_MAX || c == '-' ||
	    c == '+' || c == ':') {
		return false;
	}
	p = strchr(shortopts, c);
	return p != NULL && p[1] == ':';
}

const char *
xs_opt_given_twice(struct xs_opt_once *once, int c)
{
	const struct option *o = long_option(once->opts, c);
	bool                 takes_value;

	takes_value = o != NULL ? o->has_arg != no_argument
	                        : short_takes_value(once->shortopts, c);
	if (!takes_value) {
		return NULL;
	}
	for (const int *a = once->adds_up; a != NULL && *a != 0; a++) {
		if (*a == c) {
			return NULL;
		}
	}
	for (size_t i = 0; i < once->n_given; i++) {
		if (once->given[i] != c) {
			continue;
		}
		if (o != NULL) {
			snprintf(
			    once->name, sizeof(once->name), "--%s", o->name);
		} else {
			snprintf(once->name, sizeof(once->name), "-%c", c);
		}
		return once->name;
	}
	/* Each value is noted once: a binary's options bound n_given. */
	assert(once->n_given < XS_OPT_ONCE_MAX);
	if (once->n_given < XS_OPT_ONCE_MAX) {
		once->given[once->n_given++] = c;
	}
	return NULL;
}
