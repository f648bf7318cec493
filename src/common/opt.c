/* SPDX-License-Identifier: MIT */
/* Values of command-line options: the one strict reading of a count, a
 * number and a size that every binary's flags share, so that "--pool 08"
 * or "--map-size 64M" mean the same to each of them. */
#include "common/common.h"

#include <errno.h>
#include <math.h>
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
