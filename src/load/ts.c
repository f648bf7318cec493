/* SPDX-License-Identifier: MIT */
/* Timestamps of export files -> unix seconds, by hand: mktime reads the
 * TZ of whoever runs the loader, so the same file would load differently
 * on two machines. A time without a zone is taken as UTC. */
#include "load/load.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant,
 * "chrono-Compatible Low-Level Date Algorithms", days_from_civil). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t  era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned) (y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t) doe - 719468;
}

static unsigned
days_in_month(unsigned y, unsigned m)
{
	static const unsigned char dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31,
		30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return dm[m - 1] + (m == 2 && leap);
}

/* Read exactly 'n' digits at *pp. */
static bool
digits(const char **pp, const char *end, int n, unsigned *out)
{
	const char *p = *pp;
	unsigned    v = 0;

	if (end - p < n) {
		return false;
	}
	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9') {
			return false;
		}
		v = v * 10 + (unsigned) (p[i] - '0');
	}
	*pp  = p + n;
	*out = v;
	return true;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Unix seconds: digits with an optional fraction, which is dropped.
 * 2^40 seconds is the year 36,812, so a number past it is milliseconds
 * (RetailRocket and most event trackers export those; any such number is
 * a date after November 2004): it is divided by 1000. Past 2^40
 * milliseconds' worth is refused. */
static bool
parse_unix(const char *p, const char *end, int64_t *out)
{
	int64_t v = 0;

	if (p == end || !is_digit(*p)) {
		return false;
	}
	for (; p < end && is_digit(*p); p++) {
		v = v * 10 + (*p - '0');
		if (v >= XS_LOAD_TS_LIMIT * 1000) {
			return false;
		}
	}
	if (v >= XS_LOAD_TS_LIMIT) {
		v /= 1000;
	}
	if (p < end && *p == '.') {
		p++;
		if (p == end) {
			return false;
		}
		while (p < end && is_digit(*p)) {
			p++;
		}
	}
	if (p != end) {
		return false;
	}
	*out = v;
	return true;
}

/* "Z", "+HH:MM", "-HH:MM", "+HHMM" or "+HH" -> seconds east of UTC. */
static bool
parse_zone(const char *p, const char *end, int64_t *offp)
{
	unsigned hh, mm = 0;
	int      sign;

	if (p == end) {
		*offp = 0;
		return true;
	}
	if (*p == 'Z' || *p == 'z') {
		*offp = 0;
		return p + 1 == end;
	}
	if (*p != '+' && *p != '-') {
		return false;
	}
	sign = *p == '-' ? -1 : 1;
	p++;
	if (!digits(&p, end, 2, &hh)) {
		return false;
	}
	if (p < end && *p == ':') {
		p++;
	}
	if (p < end && !digits(&p, end, 2, &mm)) {
		return false;
	}
	if (p != end || hh > 23 || mm > 59) {
		return false;
	}
	*offp = sign * (int64_t) (hh * 3600 + mm * 60);
	return true;
}

bool
xs_load_ts_parse(const char *s, size_t len, int64_t *out)
{
	const char *p = s, *end = s + len;
	unsigned    y, mo, d, hh = 0, mi = 0, ss = 0;
	int64_t     off = 0, t;

	if (len < 10 || s[4] != '-') {
		return parse_unix(s, end, out);
	}
	if (!digits(&p, end, 4, &y) || *p++ != '-' ||
	    !digits(&p, end, 2, &mo) || p == end || *p++ != '-' ||
	    !digits(&p, end, 2, &d)) {
		return false;
	}
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    d > days_in_month(y, mo)) {
		return false;
	}
	if (p < end && (*p == ' ' || *p == 'T' || *p == 't')) {
		p++;
		if (!digits(&p, end, 2, &hh) || p == end || *p++ != ':' ||
		    !digits(&p, end, 2, &mi)) {
			return false;
		}
		if (p < end && *p == ':') {
			p++;
			if (!digits(&p, end, 2, &ss)) {
				return false;
			}
			if (p < end && (*p == '.' || *p == ',')) {
				p++;
				if (p == end || !is_digit(*p)) {
					return false;
				}
				while (p < end && is_digit(*p)) {
					p++;
				}
			}
		}
		if (hh > 23 || mi > 59 || ss > 60) {
			return false;
		}
		if (!parse_zone(p, end, &off)) {
			return false;
		}
	} else if (p != end) {
		return false;
	}
	t = days_from_civil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss - off;
	if (t < 0 || t >= XS_LOAD_TS_LIMIT) {
		return false;
	}
	*out = t;
	return true;
}
