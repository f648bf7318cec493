/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the request decoder: raw bytes -> xs_wire_decode.
 *
 * Besides "never crashes, never reads out of bounds" (ASan, UBSan), it
 * checks what the decoder promises a caller: an OK decode's spans all lie
 * inside the message (the server replies from them after decode) or are
 * the digits of an id sent as an integer, counts and numbers are within
 * limits.h and finite, and every refusal names a field. The same
 * function runs under the gcc build from driver.c, over the corpus and
 * the regression files, as a test. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xsell/limits.h>

#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The server's per-request cap on scratch memory (server.c). */
#define FUZZ_ARENA_MAX ((size_t) 256 << 20)

struct msg {
	const uint8_t *p;
	size_t         len;
};

/* A broken promise: say which one, then crash so the fuzzer keeps the
 * input (a test harness, not library code: abort is the point). */
static void
broken(const char *what)
{
	fprintf(stderr, "fuzz_decode: %s\n", what);
	abort();
}

static bool
is_inside(const struct msg *m, const void *p, size_t len)
{
	const uint8_t *b = p;

	return b != NULL && b >= m->p && len <= m->len &&
	    (size_t) (b - m->p) <= m->len - len;
}

/* A string field: a span into the message, or (an id sent as an
 * unsigned integer) its decimal digits, which the decoder formats into
 * the arena. */
static void
check_span(const struct msg *m, struct xs_span s, size_t max, const char *what)
{
	if (s.len > max) {
		broken(what);
	}
	if (s.len == 0 || is_inside(m, s.p, s.len)) {
		return;
	}
	if (s.p == NULL || s.len > 20) {
		broken(what);
	}
	for (uint32_t i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9') {
			broken(what);
		}
	}
}

/* An id list: 'n' spans, each a non-empty id (see check_span). */
static void
check_ids(const struct msg *m, const struct xs_span *ids, uint32_t n,
    uint32_t max_n, const char *what)
{
	if (n > max_n || (n > 0 && ids == NULL)) {
		broken(what);
	}
	for (uint32_t i = 0; i < n; i++) {
		if (ids[i].len == 0) {
			broken(what);
		}
		check_span(m, ids[i], XSELL_ID_MAX, what);
	}
}

static void
check_event(const struct msg *m, const struct xs_event *ev)
{
	check_span(m, ev->user, XSELL_ID_MAX, "event user");
	check_span(m, ev->order, XSELL_ID_MAX, "event order");
	check_span(m, ev->item, XSELL_ID_MAX, "event item");
	if (ev->ts < 0 || ev->ts >= ((int64_t) 1 << 40)) {
		broken("event ts out of range");
	}
	/* proto/ops/event.md: an order has an id and 1.. lines; every
	 * other event a user and an item; a rating 1..5. */
	if (ev->type == XS_EV_ORDER) {
		if (ev->order.len == 0 || ev->n_lines == 0) {
			broken("order without id or lines");
		}
	} else if (ev->user.len == 0 || ev->item.len == 0) {
		broken("event without user or item");
	}
	if (ev->type == XS_EV_RATING && (ev->rating < 1 || ev->rating > 5)) {
		broken("rating out of 1..5");
	}
	if (ev->n_lines > XSELL_ORDER_ITEMS_MAX ||
	    (ev->n_lines > 0 && ev->lines == NULL)) {
		broken("order lines");
	}
	for (uint32_t j = 0; j < ev->n_lines; j++) {
		const struct xs_order_line *ln = &ev->lines[j];

		if (ln->item.len == 0) {
			broken("empty order line item");
		}
		check_span(m, ln->item, XSELL_ID_MAX, "order line item");
		if (!isfinite(ln->qty)) {
			broken("order line qty not finite");
		}
	}
}

static void
check_query(const struct msg *m, const struct xs_query *q)
{
	const struct xs_filter *f = &q->filter;

	check_ids(m, q->items, q->n_items, XSELL_QUERY_ITEMS_MAX, "items");
	check_ids(m, f->exclude, f->n_exclude, XSELL_EXCLUDE_MAX, "exclude");
	check_ids(m, q->context, q->n_context, XSELL_CONTEXT_MAX, "context");
	check_ids(m, q->candidates, q->n_candidates, XSELL_CANDIDATES_MAX,
	    "candidates");
	if (f->n_categories > XSELL_FILTER_CATEGORIES_MAX ||
	    f->n_exclude_categories > XSELL_FILTER_CATEGORIES_MAX) {
		broken("too many filter categories");
	}
	for (uint32_t i = 0; i < f->n_categories; i++) {
		check_span(m, f->categories[i], XSELL_CATEGORY_MAX,
		    "filter category");
	}
	for (uint32_t i = 0; i < f->n_exclude_categories; i++) {
		check_span(m, f->exclude_categories[i], XSELL_CATEGORY_MAX,
		    "filter exclude_category");
	}
	check_span(m, q->category, XSELL_CATEGORY_MAX, "category");
	check_span(m, q->user, XSELL_ID_MAX, "user");
	if (q->k > XSELL_K_MAX || q->limit > XSELL_HISTORY_LIMIT_MAX) {
		broken("k or limit above its limit");
	}
	if ((q->has_beta && !isfinite(q->beta)) ||
	    (q->has_half_life && !isfinite(q->half_life_days)) ||
	    (f->has_price_min && isnan(f->price_min)) ||
	    (f->has_price_max && isnan(f->price_max))) {
		broken("NaN or inf let through");
	}
}

static void
check_request(const struct msg *m, const struct xs_request *req)
{
	if ((unsigned) req->op >= XS_OP_COUNT) {
		broken("op out of range");
	}
	if (req->id_len > 0 && !is_inside(m, req->id_raw, req->id_len)) {
		broken("id outside the message");
	}
	switch (req->op) {
	case XS_OP_event:
		if (req->u.event.n > XSELL_EVENTS_MAX) {
			broken("event count");
		}
		check_span(m, req->u.event.batch, XSELL_ID_MAX, "batch");
		for (uint32_t i = 0; i < req->u.event.n; i++) {
			check_event(m, &req->u.event.events[i]);
		}
		break;
	case XS_OP_items:
		if (req->u.items.n > XSELL_UPSERT_MAX) {
			broken("upsert count");
		}
		for (uint32_t i = 0; i < req->u.items.n; i++) {
			const struct xs_item_update *up = &req->u.items.ups[i];

			if (up->item.len == 0) {
				broken("empty upsert item");
			}
			check_span(m, up->item, XSELL_ID_MAX, "upsert item");
			check_span(m, up->category, XSELL_CATEGORY_MAX,
			    "upsert category");
			if (up->has_price && !isfinite(up->price)) {
				broken("upsert price not finite");
			}
		}
		break;
	case XS_OP_stats:
		break;
	default:
		check_query(m, &req->u.query.q);
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xs_arena   arena;
	struct xs_request req;
	struct xs_errinfo ei;
	struct msg        m;
	uint8_t          *copy;
	xsell_err         err;

	/* An exact-size copy, so that ASan sees a read one byte past the
	 * message even when the fuzzer's buffer is larger. */
	copy = malloc(size > 0 ? size : 1);
	if (copy == NULL) {
		return 0;
	}
	if (size > 0) {
		memcpy(copy, data, size);
	}
	m.p   = copy;
	m.len = size;
	memset(&req, 0, sizeof(req));
	memset(&ei, 0, sizeof(ei));
	xs_arena_init(&arena, FUZZ_ARENA_MAX);
	err = xs_wire_decode(copy, size, &arena, 1700000000, &req, &ei);
	if (err == XSELL_OK) {
		check_request(&m, &req);
	} else {
		if (err != XSELL_EINVAL && err != XSELL_ETOOBIG &&
		    err != XSELL_ENOMEM) {
			broken("unexpected error code");
		}
		if (err != XSELL_ENOMEM &&
		    (ei.field[0] == '\0' || ei.msg[0] == '\0')) {
			broken("refusal without field or message");
		}
		if (memchr(ei.field, '\0', sizeof(ei.field)) == NULL ||
		    memchr(ei.msg, '\0', sizeof(ei.msg)) == NULL) {
			broken("refusal text not terminated");
		}
		if (req.id_len > 0 && !is_inside(&m, req.id_raw, req.id_len)) {
			broken("id of a refusal outside the message");
		}
	}
	xs_arena_fini(&arena);
	free(copy);
	return 0;
}
