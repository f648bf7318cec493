/* SPDX-License-Identifier: MIT */
/* Splits of the orders into training and test. Each is a pure function
 * of the orders (and the seed): the same export gives the same split
 * whatever the machine, so a table in the README can be reproduced. */
#include "eval/eval.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_S 86400

static bool
is_bare_date(const char *p)
{
	return strlen(p) == 10 && p[4] == '-' && p[7] == '-';
}

xsell_err
xs_eval_split_parse(
    const char *arg, struct xs_eval_split *out, char *err, size_t err_len)
{
	struct xs_eval_split s = { 0 };

	if (strncmp(arg, "time:", 5) == 0) {
		const char *when = arg + 5;

		s.kind = XS_SPLIT_TIME;
		if (!xs_load_ts_parse(when, strlen(when), &s.cut_ts)) {
			snprintf(err, err_len,
			    "split time: '%s' is not a timestamp", when);
			return XSELL_EINVAL;
		}
		/* "train to 2011-09-30" means the whole of that day. */
		if (is_bare_date(when)) {
			s.cut_ts += DAY_S;
		}
	} else if (strcmp(arg, "last") == 0) {
		s.kind = XS_SPLIT_LAST;
	} else if (strcmp(arg, "random") == 0 ||
	    strncmp(arg, "random:", 7) == 0) {
		char *end = NULL;

		s.kind      = XS_SPLIT_RANDOM;
		s.test_frac = 0.2;
		if (arg[6] == ':') {
			s.test_frac = strtod(arg + 7, &end);
			if (end == arg + 7 || *end != '\0' ||
			    !(s.test_frac > 0 && s.test_frac < 1)) {
				snprintf(err, err_len,
				    "split random: the test fraction must be "
				    "a number between 0 and 1, not '%s'",
				    arg + 7);
				return XSELL_EINVAL;
			}
		}
	} else {
		snprintf(err, err_len,
		    "unknown split '%s' (time:WHEN, last, random[:FRACTION])",
		    arg);
		return XSELL_EINVAL;
	}
	*out = s;
	return XSELL_OK;
}

static void
split_time(const xs_eval_data *d, int64_t cut, uint8_t *is_test)
{
	for (size_t i = 0; i < xs_eval_data_n_orders(d); i++) {
		is_test[i] = xs_eval_data_order(d, i)->ts >= cut;
	}
}

static void
split_random(
    const xs_eval_data *d, double frac, uint64_t seed, uint8_t *is_test)
{
	/* Hash the order id, not the position, so that reordering the
	 * export does not move orders between the sides. */
	for (size_t i = 0; i < xs_eval_data_n_orders(d); i++) {
		const struct xs_eval_order *o  = xs_eval_data_order(d, i);
		struct xs_span              nm = xs_eval_data_order_ext(d, o);
		uint64_t                    h  = xs_hash64(nm.p, nm.len, seed);

		is_test[i] = (double) (h >> 11) / 9007199254740992.0 < frac;
	}
}

/* Users' latest orders: one pass keeps, per user, the index of the
 * latest order seen (ties: the later position), and how many orders. */
static xsell_err
split_last(const xs_eval_data *d, uint8_t *is_test)
{
	size_t    n        = xs_eval_data_n_orders(d);
	uint32_t  max_user = 0;
	uint32_t *latest, *count;

	memset(is_test, 0, n);
	for (size_t i = 0; i < n; i++) {
		uint32_t u = xs_eval_data_order(d, i)->user;

		max_user = u > max_user ? u : max_user;
	}
	latest = calloc((size_t) max_user + 1, sizeof(*latest));
	count  = calloc((size_t) max_user + 1, sizeof(*count));
	if (latest == NULL || count == NULL) {
		free(latest);
		free(count);
		return XSELL_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct xs_eval_order *o = xs_eval_data_order(d, i);

		if (o->user == 0) {
			continue;
		}
		if (count[o->user] == 0 ||
		    o->ts >= xs_eval_data_order(d, latest[o->user])->ts) {
			latest[o->user] = (uint32_t) i;
		}
		count[o->user]++;
	}
	for (uint32_t u = 1; u <= max_user; u++) {
		if (count[u] >= 2) {
			is_test[latest[u]] = 1;
		}
	}
	free(latest);
	free(count);
	return XSELL_OK;
}

xsell_err
xs_eval_split_apply(
    const xs_eval_data *d, const struct xs_eval_split *s, uint8_t *is_test)
{
	switch (s->kind) {
	case XS_SPLIT_TIME:
		split_time(d, s->cut_ts, is_test);
		break;
	case XS_SPLIT_LAST:
		return split_last(d, is_test);
	case XS_SPLIT_RANDOM:
		split_random(d, s->test_frac, s->seed, is_test);
		break;
	}
	return XSELL_OK;
}

void
xs_eval_split_events(
    const xs_eval_data *d, const struct xs_eval_split *s, uint8_t *ev_is_test)
{
	for (size_t i = 0; i < xs_eval_data_n_events(d); i++) {
		const struct xs_eval_event *e = xs_eval_data_event(d, i);
		struct xs_span              u;
		uint64_t                    h;

		switch (s->kind) {
		case XS_SPLIT_TIME:
			ev_is_test[i] = e->ts >= s->cut_ts;
			break;
		case XS_SPLIT_LAST:
			ev_is_test[i] = 0;
			break;
		case XS_SPLIT_RANDOM:
			/* The user, not the event: a session's views stay
			 * together, so a test session is not half known. */
			u = xs_eval_data_user_name(d, e->user);
			h = xs_hash64(u.p, u.len, s->seed);
			ev_is_test[i] =
			    (double) (h >> 11) / 9007199254740992.0 <
			    s->test_frac;
			break;
		}
	}
}
