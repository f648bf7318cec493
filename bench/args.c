/* SPDX-License-Identifier: MIT */
#include "args.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

bool
bench_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
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
bench_parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
	uint64_t v;

	if (!bench_parse_u64(s, lo, hi, &v)) {
		return false;
	}
	*out = (uint32_t) v;
	return true;
}

bool
bench_parse_double(const char *s, double lo, double hi, double *out)
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
