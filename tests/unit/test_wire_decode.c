/* SPDX-License-Identifier: MIT */
/* xs_wire_decode: one valid request of each op with every field checked,
 * and each way a request is refused, with its code, field and message.
 * Requests are built with msgpack-c's packer (or by hand where the bytes
 * themselves are the point). */
#include "support.h"

#include <math.h>
#include <string.h>

#include <msgpack.h>

#include "wire/wire.h"

#define NOW 1700000000

struct fx {
	msgpack_sbuffer   sb;
	msgpack_packer    pk;
	struct xs_arena   arena;
	struct xs_request req;
	struct xs_errinfo ei;
};

static struct fx *F;

static int
setup(void **state)
{
	F = calloc(1, sizeof(*F));
	assert_non_null(F);
	msgpack_sbuffer_init(&F->sb);
	msgpack_packer_init(&F->pk, &F->sb, msgpack_sbuffer_write);
	xs_arena_init(&F->arena, 64u << 20);
	*state = F;
	return 0;
}

static int
teardown(void **state)
{
	(void) state;
	msgpack_sbuffer_destroy(&F->sb);
	xs_arena_fini(&F->arena);
	free(F);
	F = NULL;
	return 0;
}

/* ==== Builders ==== */

static void
s(const char *str)
{
	size_t len = strlen(str);

	msgpack_pack_str(&F->pk, len);
	msgpack_pack_str_body(&F->pk, str, len);
}

static void
m(size_t n)
{
	msgpack_pack_map(&F->pk, n);
}

static void
a(size_t n)
{
	msgpack_pack_array(&F->pk, n);
}

static void
i64(int64_t x)
{
	msgpack_pack_int64(&F->pk, x);
}

static void
raw(const void *p, size_t len)
{
	msgpack_sbuffer_write(&F->sb, p, len);
}

static xsell_err
dec(void)
{
	return xs_wire_decode(
	    F->sb.data, F->sb.size, &F->arena, NOW, &F->req, &F->ei);
}

static void
expect(xsell_err want, const char *field, const char *msg)
{
	assert_xs_err(dec(), want);
	assert_string_equal(F->ei.field, field);
	assert_string_equal(F->ei.msg, msg);
}

static void
span_is(struct xs_span sp, const char *want)
{
	assert_int_equal(sp.len, strlen(want));
	assert_memory_equal(sp.p, want, sp.len);
}

/* {"op":OP, ...}: the caller packs n-1 more entries. */
static void
req(const char *op, size_t n)
{
	m(n);
	s("op");
	s(op);
}

/* {"op":"fbt","items":[ <n ids the caller packs> ]} */
static void
fbt_items(size_t n)
{
	req("fbt", 2);
	s("items");
	a(n);
}

/* n copies of the string 'str', as array elements. */
static void
strs(int n, const char *str)
{
	for (int i = 0; i < n; i++) {
		s(str);
	}
}

/* The "type", "user" and "item" entries of an event of 'type' by user
 * "u" on item "i". */
static void
ev_fields(const char *type)
{
	s("type");
	s(type);
	s("user");
	s("u");
	s("item");
	s("i");
}

/* Drop what was packed, for a test that tries several requests. */
static void
restart(void)
{
	F->sb.size = 0;
}

/* 'buf' as a string of 'len' copies of 'c' (buf holds len + 1 bytes). */
static const char *
filled(char *buf, size_t len, char c)
{
	memset(buf, c, len);
	buf[len] = '\0';
	return buf;
}

/* ==== Valid requests ==== */

static void
test_decode_event(void **state)
{
	const struct xs_event *e;

	(void) state;
	req("event", 4);
	s("id");
	i64(7);
	s("batch");
	s("b1");
	s("events");
	a(3);
	m(5);
	s("type");
	s("order");
	s("user");
	s("u1");
	s("ts");
	i64(100);
	s("order");
	s("o1");
	s("items");
	a(3);
	s("a");
	m(3);
	s("item");
	s("b");
	s("qty");
	i64(2);
	s("price");
	msgpack_pack_double(&F->pk, 3.5);
	i64(42);
	m(3);
	s("user");
	s("u2");
	s("type");
	s("view");
	s("item");
	s("x");
	m(5);
	s("type");
	s("rating");
	s("user");
	s("u3");
	s("item");
	s("y");
	s("rating");
	i64(4);
	s("ts");
	i64(5);

	assert_xs_ok(dec());
	assert_int_equal(F->req.op, XS_OP_event);
	assert_int_equal(F->req.id_len, 1);
	assert_int_equal(F->req.id_raw[0], 0x07);
	span_is(F->req.u.event.batch, "b1");
	assert_int_equal(F->req.u.event.n, 3);
	e = &F->req.u.event.events[0];
	assert_int_equal(e->type, XS_EV_ORDER);
	span_is(e->user, "u1");
	assert_int_equal(e->ts, 100);
	span_is(e->order, "o1");
	assert_int_equal(e->n_lines, 3);
	span_is(e->lines[0].item, "a");
	assert_true(e->lines[0].qty == 1);
	assert_true(isnan(e->lines[0].price));
	span_is(e->lines[1].item, "b");
	assert_true(e->lines[1].qty == 2);
	assert_true(e->lines[1].price == 3.5);
	span_is(e->lines[2].item, "42");
	e = &F->req.u.event.events[1];
	assert_int_equal(e->type, XS_EV_VIEW);
	span_is(e->user, "u2");
	span_is(e->item, "x");
	assert_int_equal(e->ts, NOW);
	e = &F->req.u.event.events[2];
	assert_int_equal(e->type, XS_EV_RATING);
	span_is(e->item, "y");
	assert_int_equal(e->rating, 4);
	assert_int_equal(e->ts, 5);
}

static void
test_decode_guest_order_and_signed_ts(void **state)
{
	const struct xs_event *e;

	(void) state;
	req("event", 2);
	s("events");
	a(1);
	m(4);
	s("type");
	s("order");
	s("order");
	i64(9);
	s("items");
	a(1);
	s("a");
	s("ts");
	raw("\xd2\x00\x00\x01\x00", 5); /* int32 256 */
	assert_xs_ok(dec());
	e = &F->req.u.event.events[0];
	assert_int_equal(e->user.len, 0);
	span_is(e->order, "9");
	assert_int_equal(e->ts, 256);
	assert_null(F->req.id_raw);
	assert_int_equal(F->req.u.event.batch.len, 0);
}

static void
test_decode_items(void **state)
{
	const struct xs_item_update *u;

	(void) state;
	req("items", 2);
	s("items");
	a(2);
	m(5);
	s("item");
	s("i1");
	s("category");
	s("shoes");
	s("price");
	i64(10);
	s("in_stock");
	msgpack_pack_false(&F->pk);
	s("created");
	i64(123);
	m(1);
	s("item");
	i64(2);
	assert_xs_ok(dec());
	assert_int_equal(F->req.op, XS_OP_items);
	assert_int_equal(F->req.u.items.n, 2);
	u = &F->req.u.items.ups[0];
	span_is(u->item, "i1");
	span_is(u->category, "shoes");
	assert_true(u->has_price && u->price == 10);
	assert_true(u->has_in_stock && !u->in_stock);
	assert_true(u->has_created && u->created == 123);
	u = &F->req.u.items.ups[1];
	span_is(u->item, "2");
	assert_int_equal(u->category.len, 0);
	assert_false(u->has_price || u->has_in_stock || u->has_created);
}

static void
test_decode_fbt_all_fields(void **state)
{
	const struct xs_query *q;

	(void) state;
	req("fbt", 7);
	s("items");
	a(2);
	s("a");
	s("b");
	s("k");
	i64(5);
	s("scorer");
	s("lift");
	s("explain");
	msgpack_pack_true(&F->pk);
	s("min_support");
	i64(3);
	s("filter");
	m(2);
	s("in_stock");
	msgpack_pack_false(&F->pk);
	s("exclude");
	a(1);
	s("c");
	assert_xs_ok(dec());
	q = &F->req.u.query.q;
	assert_int_equal(F->req.op, XS_OP_fbt);
	assert_int_equal(q->n_items, 2);
	span_is(q->items[0], "a");
	span_is(q->items[1], "b");
	assert_int_equal(q->k, 5);
	assert_int_equal(q->scorer, XS_SCORE_LIFT);
	assert_true(F->req.u.query.scorer_given);
	assert_true(q->explain);
	assert_int_equal(q->min_support, 3);
	assert_false(q->filter.in_stock);
	assert_int_equal(q->filter.n_exclude, 1);
	span_is(q->filter.exclude[0], "c");
}

static void
test_decode_fbt_defaults(void **state)
{
	const struct xs_query *q;

	(void) state;
	fbt_items(1);
	s("a");
	assert_xs_ok(dec());
	q = &F->req.u.query.q;
	assert_int_equal(q->k, XSELL_K_DEFAULT);
	assert_false(F->req.u.query.scorer_given);
	assert_false(q->explain);
	assert_int_equal(q->min_support, 0);
	assert_true(q->filter.in_stock);
	assert_int_equal(q->filter.n_exclude, 0);
}

static void
test_decode_stats(void **state)
{
	(void) state;
	req("stats", 2);
	s("id");
	s("abc");
	assert_xs_ok(dec());
	assert_int_equal(F->req.op, XS_OP_stats);
	assert_int_equal(F->req.id_len, 4);
	assert_memory_equal(F->req.id_raw,
	    "\xa3"
	    "abc",
	    4);
}

/* ==== Refusals: the request as a whole ==== */

static void
test_decode_rejects_not_a_map(void **state)
{
	(void) state;
	a(1);
	i64(1);
	expect(XSELL_EINVAL, "request", "not a map");
}

static void
test_decode_rejects_malformed(void **state)
{
	(void) state;
	raw("\xc1", 1);
	expect(XSELL_EINVAL, "request", "malformed msgpack");
}

static void
test_decode_rejects_truncated(void **state)
{
	size_t full;

	(void) state;
	req("stats", 2);
	s("id");
	s("abc");
	full = F->sb.size;
	for (size_t len = 0; len < full; len++) {
		assert_xs_err(xs_wire_decode(F->sb.data, len, &F->arena, NOW,
		                  &F->req, &F->ei),
		    XSELL_EINVAL);
		assert_string_equal(F->ei.field, "request");
		assert_string_equal(F->ei.msg, "malformed msgpack");
	}
}

static void
test_decode_rejects_empty_message(void **state)
{
	(void) state;
	expect(XSELL_EINVAL, "request", "malformed msgpack");
}

static void
test_decode_rejects_trailing_bytes(void **state)
{
	(void) state;
	req("stats", 1);
	raw("\xc0", 1);
	expect(XSELL_EINVAL, "request", "trailing bytes");
}

static void
test_decode_rejects_duplicate_key(void **state)
{
	(void) state;
	req("stats", 2);
	s("op");
	s("stats");
	expect(XSELL_EINVAL, "op", "duplicate key");
}

static void
test_decode_rejects_unknown_op(void **state)
{
	(void) state;
	req("xyz", 1);
	expect(XSELL_EINVAL, "op", "unknown op 'xyz'");
}

static void
test_decode_escapes_unknown_op(void **state)
{
	(void) state;
	req("a\"b\n", 1);
	expect(XSELL_EINVAL, "op", "unknown op 'a\\x22b\\x0a'");
}

static void
test_decode_rejects_missing_op(void **state)
{
	(void) state;
	m(1);
	s("id");
	i64(1);
	expect(XSELL_EINVAL, "op", "missing");
}

static void
test_decode_rejects_op_not_string(void **state)
{
	(void) state;
	m(1);
	s("op");
	i64(1);
	expect(XSELL_EINVAL, "op", "must be a string");
}

static void
test_decode_rejects_unknown_field(void **state)
{
	(void) state;
	req("stats", 2);
	s("foo");
	i64(1);
	expect(XSELL_EINVAL, "foo", "unknown field");
}

static void
test_decode_rejects_field_of_other_op(void **state)
{
	(void) state;
	req("stats", 2);
	s("k");
	i64(1);
	expect(XSELL_EINVAL, "k", "unknown field");
}

static void
test_decode_rejects_non_string_key(void **state)
{
	(void) state;
	req("stats", 2);
	i64(1);
	i64(1);
	expect(XSELL_EINVAL, "request", "keys must be strings");
}

static void
test_decode_rejects_too_deep(void **state)
{
	(void) state;
	req("stats", 2);
	s("id");
	for (int i = 0; i < XSELL_DEPTH_MAX; i++) { /* depths 2..9 */
		a(1);
	}
	i64(1);
	assert_xs_err(dec(), XSELL_ETOOBIG);
	assert_null(F->req.id_raw);
}

static void
test_decode_accepts_depth_limit(void **state)
{
	(void) state;
	req("stats", 2);
	s("id");
	for (int i = 0; i < XSELL_DEPTH_MAX - 1; i++) { /* depths 2..8 */
		a(1);
	}
	i64(1);
	assert_xs_ok(dec());
	assert_int_equal(F->req.id_len, XSELL_DEPTH_MAX);
}

/* ==== Refusals: the id is still echoed ==== */

static void
test_decode_echoes_id_on_error(void **state)
{
	(void) state;
	m(2);
	s("id");
	s("abc");
	s("op");
	s("nope");
	assert_xs_err(dec(), XSELL_EINVAL);
	assert_non_null(F->req.id_raw);
	assert_int_equal(F->req.id_len, 4);
	assert_memory_equal(F->req.id_raw,
	    "\xa3"
	    "abc",
	    4);
}

static void
test_decode_echoes_id_after_bad_field(void **state)
{
	(void) state;
	m(3);
	s("foo");
	i64(1);
	s("op");
	s("stats");
	s("id");
	a(2);
	i64(1);
	s("x");
	expect(XSELL_EINVAL, "foo", "unknown field");
	assert_int_equal(F->req.id_len, 4);
	assert_memory_equal(F->req.id_raw, "\x92\x01\xa1x", 4);
}

static void
test_decode_echoes_id_with_trailing_bytes(void **state)
{
	(void) state;
	req("stats", 2);
	s("id");
	i64(5);
	raw("\x01", 1);
	expect(XSELL_EINVAL, "request", "trailing bytes");
	assert_int_equal(F->req.id_len, 1);
}

/* ==== Refusals: types and ranges ==== */

static void
fbt_with(const char *key)
{
	req("fbt", 3);
	s("items");
	a(1);
	s("a");
	s(key);
}

/* fbt_with("filter") and a filter of the one key 'key': the caller packs
 * its value. */
static void
filter_with(const char *key)
{
	fbt_with("filter");
	m(1);
	s(key);
}

/* A filter whose list 'key' holds 'n' category names. */
static void
filter_names(const char *key, int n)
{
	filter_with(key);
	a((size_t) n);
	strs(n, "c");
}

static void
test_decode_rejects_wrong_types(void **state)
{
	(void) state;
	fbt_with("k");
	s("5");
	expect(XSELL_EINVAL, "k", "must be an integer");
}

static void
test_decode_rejects_k_float(void **state)
{
	(void) state;
	fbt_with("k");
	msgpack_pack_double(&F->pk, 5.0);
	expect(XSELL_EINVAL, "k", "must be an integer");
}

/* {"op":"picks","user":"u","kind":"new_arrivals","days":<packed next>} */
static void
picks_days(void)
{
	req("picks", 4);
	s("user");
	s("u");
	s("kind");
	s("new_arrivals");
	s("days");
}

static void
test_decode_picks_days(void **state)
{
	(void) state;
	picks_days();
	i64(5);
	assert_xs_ok(dec());
	assert_true(F->req.u.query.q.has_days);
	assert_int_equal(F->req.u.query.q.days, 5);
}

/* days is an integer field (picks.md): a float is refused as k's is,
 * even one with no fraction. */
static void
test_decode_rejects_days_float(void **state)
{
	(void) state;
	picks_days();
	msgpack_pack_double(&F->pk, 5.0);
	expect(XSELL_EINVAL, "days", "must be an integer");
}

static void
test_decode_rejects_days_out_of_range(void **state)
{
	(void) state;
	picks_days();
	i64(0);
	expect(XSELL_EINVAL, "days", "must be 1..3650");
	msgpack_sbuffer_clear(&F->sb);
	picks_days();
	i64(3651);
	expect(XSELL_EINVAL, "days", "must be 1..3650");
}

/* {"op":"picks","user":"u","kind":"abandoned_cart","<age>":x} */
static void
picks_age(const char *age, int64_t x)
{
	restart();
	req("picks", 4);
	s("user");
	s("u");
	s("kind");
	s("abandoned_cart");
	s(age);
	i64(x);
}

/* min_age_s and max_age_s are checked against each other with the one
 * left out at its default (picks.md: 3600 and 1209600): one sent alone
 * past the other's default is refused, as both sent are, where it was
 * taken and gave an empty window. */
static void
test_decode_rejects_age_past_default(void **state)
{
	(void) state;
	picks_age("min_age_s", 1209601);
	expect(XSELL_EINVAL, "min_age_s",
	    "must not be more than max_age_s (1209600 when left out)");
	picks_age("max_age_s", 3599);
	expect(XSELL_EINVAL, "max_age_s",
	    "must not be less than min_age_s (3600 when left out)");
	picks_age("min_age_s", 1209600);
	assert_xs_ok(dec());
	assert_int_equal(F->req.u.query.q.min_age_s, 1209600);
	picks_age("max_age_s", 3600);
	assert_xs_ok(dec());
	assert_int_equal(F->req.u.query.q.max_age_s, 3600);
	/* Both sent: the message it always had. */
	restart();
	req("picks", 4);
	s("user");
	s("u");
	s("min_age_s");
	i64(7200);
	s("max_age_s");
	i64(3600);
	expect(XSELL_EINVAL, "min_age_s", "must not be more than max_age_s");
}

static void
test_decode_rejects_explain_not_bool(void **state)
{
	(void) state;
	fbt_with("explain");
	i64(1);
	expect(XSELL_EINVAL, "explain", "must be a boolean");
}

static void
test_decode_rejects_filter_not_map(void **state)
{
	(void) state;
	fbt_with("filter");
	a(0);
	expect(XSELL_EINVAL, "filter", "must be a map");
}

static void
test_decode_rejects_events_not_array(void **state)
{
	(void) state;
	req("event", 2);
	s("events");
	m(0);
	expect(XSELL_EINVAL, "events", "must be an array");
}

static void
test_decode_rejects_scorer_not_string(void **state)
{
	(void) state;
	fbt_with("scorer");
	i64(1);
	expect(XSELL_EINVAL, "scorer", "must be a string");
}

static void
test_decode_rejects_unknown_scorer(void **state)
{
	(void) state;
	fbt_with("scorer");
	s("nope");
	expect(XSELL_EINVAL, "scorer", "unknown scorer 'nope'");
}

static void
test_decode_rejects_k_zero(void **state)
{
	(void) state;
	fbt_with("k");
	i64(0);
	expect(XSELL_EINVAL, "k", "must be 1..500");
}

static void
test_decode_rejects_k_negative(void **state)
{
	(void) state;
	fbt_with("k");
	i64(-1);
	expect(XSELL_EINVAL, "k", "must be 1..500");
}

static void
test_decode_rejects_k_501(void **state)
{
	(void) state;
	fbt_with("k");
	i64(501);
	expect(XSELL_EINVAL, "k", "must be 1..500");
}

static void
test_decode_accepts_k_500(void **state)
{
	(void) state;
	fbt_with("k");
	i64(500);
	assert_xs_ok(dec());
	assert_int_equal(F->req.u.query.q.k, 500);
}

static void
test_decode_rejects_min_support_negative(void **state)
{
	(void) state;
	fbt_with("min_support");
	i64(-3);
	expect(XSELL_EINVAL, "min_support", "must be 0..4294967295");
}

static void
test_decode_rejects_unknown_filter_key(void **state)
{
	(void) state;
	filter_with("color");
	s("red");
	expect(XSELL_EINVAL, "filter.color", "unknown field");
}

static void
test_decode_rejects_bad_exclude_id(void **state)
{
	(void) state;
	filter_with("exclude");
	a(5);
	strs(4, "x");
	msgpack_pack_nil(&F->pk);
	expect(XSELL_EINVAL, "filter.exclude[4]",
	    "must be a string or unsigned integer");
}

static void
test_decode_rejects_too_many_excludes(void **state)
{
	(void) state;
	filter_with("exclude");
	a(XSELL_EXCLUDE_MAX + 1);
	for (int i = 0; i <= XSELL_EXCLUDE_MAX; i++) {
		i64(i);
	}
	expect(XSELL_ETOOBIG, "filter.exclude", "more than 1000 ids");
}

/* ==== The filter's category, price and diversity fields ==== */

static void
test_decode_filter_all_fields(void **state)
{
	const struct xs_filter *f;

	(void) state;
	req("complements", 3);
	s("items");
	a(1);
	s("a");
	s("filter");
	m(5);
	s("categories");
	a(2);
	s("dairy");
	s("молоко");
	s("exclude_categories");
	a(0);
	s("price_max"); /* before price_min: the order of keys is free */
	msgpack_pack_double(&F->pk, 2.5);
	s("price_min");
	i64(1);
	s("max_per_category");
	i64(2);
	assert_xs_ok(dec());
	f = &F->req.u.query.q.filter;
	assert_true(f->in_stock); /* still the default */
	assert_int_equal(f->n_categories, 2);
	span_is(f->categories[0], "dairy");
	span_is(f->categories[1], "молоко");
	assert_int_equal(f->n_exclude_categories, 0);
	assert_true(f->has_price_min && f->has_price_max);
	assert_true(f->price_min == 1.0 && f->price_max == 2.5);
	assert_int_equal(f->max_per_category, 2);
}

static void
test_decode_filter_defaults(void **state)
{
	const struct xs_filter *f;

	(void) state;
	fbt_with("filter");
	m(0);
	assert_xs_ok(dec());
	f = &F->req.u.query.q.filter;
	assert_int_equal(f->n_categories, 0);
	assert_int_equal(f->n_exclude_categories, 0);
	assert_false(f->has_price_min || f->has_price_max);
	assert_int_equal(f->max_per_category, 0);
}

/* A price bound equal on both sides is a one-price range, not an error. */
static void
test_decode_filter_equal_price_bounds(void **state)
{
	(void) state;
	fbt_with("filter");
	m(2);
	s("price_min");
	msgpack_pack_double(&F->pk, 0.9);
	s("price_max");
	msgpack_pack_double(&F->pk, 0.9);
	assert_xs_ok(dec());
}

static void
test_decode_rejects_empty_categories(void **state)
{
	(void) state;
	filter_with("categories");
	a(0);
	expect(XSELL_EINVAL, "filter.categories", "must not be empty");
}

static void
test_decode_rejects_categories_not_array(void **state)
{
	(void) state;
	filter_with("categories");
	s("dairy");
	expect(XSELL_EINVAL, "filter.categories", "must be an array");
}

static void
test_decode_rejects_too_many_categories(void **state)
{
	(void) state;
	filter_names("categories", XSELL_FILTER_CATEGORIES_MAX + 1);
	expect(XSELL_ETOOBIG, "filter.categories", "more than 100 categories");
}

static void
test_decode_accepts_100_categories(void **state)
{
	(void) state;
	filter_names("exclude_categories", XSELL_FILTER_CATEGORIES_MAX);
	assert_xs_ok(dec());
	assert_int_equal(F->req.u.query.q.filter.n_exclude_categories, 100);
}

static void
test_decode_rejects_too_many_exclude_categories(void **state)
{
	(void) state;
	filter_names("exclude_categories", XSELL_FILTER_CATEGORIES_MAX + 1);
	expect(XSELL_ETOOBIG, "filter.exclude_categories",
	    "more than 100 categories");
}

/* Category names follow the rules of the items upsert's category. */
static void
test_decode_rejects_bad_category_names(void **state)
{
	char long_name[XSELL_CATEGORY_MAX + 2];

	(void) state;
	filter_with("categories");
	a(2);
	s("dairy");
	s("");
	expect(XSELL_EINVAL, "filter.categories[1]", "empty");

	restart();
	filter_with("exclude_categories");
	a(1);
	i64(7);
	expect(
	    XSELL_EINVAL, "filter.exclude_categories[0]", "must be a string");

	restart();
	filter_with("categories");
	a(1);
	s(filled(long_name, sizeof(long_name) - 1, 'x'));
	expect(XSELL_ETOOBIG, "filter.categories[0]", "longer than 256 bytes");

	restart();
	filter_with("exclude_categories");
	a(1);
	raw("\xa2\xc3\x28", 3); /* a 2-byte str of invalid UTF-8 */
	expect(XSELL_EINVAL, "filter.exclude_categories[0]", "invalid UTF-8");
}

static void
test_decode_rejects_bad_prices(void **state)
{
	(void) state;
	filter_with("price_min");
	msgpack_pack_double(&F->pk, -0.5);
	expect(XSELL_EINVAL, "filter.price_min", "must be >= 0");

	restart();
	filter_with("price_max");
	s("10");
	expect(XSELL_EINVAL, "filter.price_max", "must be a number");

	restart();
	filter_with("price_max");
	msgpack_pack_double(&F->pk, INFINITY);
	expect(XSELL_EINVAL, "filter.price_max", "must be finite");

	restart();
	filter_with("price_min");
	msgpack_pack_nil(&F->pk);
	expect(XSELL_EINVAL, "filter.price_min", "must be a number");
}

static void
test_decode_rejects_price_min_above_max(void **state)
{
	(void) state;
	fbt_with("filter");
	m(2);
	s("price_min");
	i64(3);
	s("price_max");
	msgpack_pack_double(&F->pk, 2.5);
	expect(
	    XSELL_EINVAL, "filter.price_min", "must be <= filter.price_max");
}

static void
test_decode_rejects_bad_max_per_category(void **state)
{
	(void) state;
	filter_with("max_per_category");
	i64(0);
	expect(XSELL_EINVAL, "filter.max_per_category", "must be 1..500");

	restart();
	filter_with("max_per_category");
	i64(501);
	expect(XSELL_EINVAL, "filter.max_per_category", "must be 1..500");

	restart();
	filter_with("max_per_category");
	msgpack_pack_double(&F->pk, 2.0);
	expect(XSELL_EINVAL, "filter.max_per_category", "must be an integer");
}

static void
test_decode_rejects_duplicate_filter_key(void **state)
{
	(void) state;
	fbt_with("filter");
	m(2);
	s("price_min");
	i64(1);
	s("price_min");
	i64(2);
	expect(XSELL_EINVAL, "filter.price_min", "duplicate key");
}

static void
test_decode_rejects_fbt_empty_items(void **state)
{
	(void) state;
	fbt_items(0);
	expect(XSELL_EINVAL, "items", "must not be empty");
}

static void
test_decode_rejects_fbt_too_many_items(void **state)
{
	(void) state;
	fbt_items(XSELL_QUERY_ITEMS_MAX + 1);
	for (int i = 0; i <= XSELL_QUERY_ITEMS_MAX; i++) {
		i64(i);
	}
	expect(XSELL_ETOOBIG, "items", "more than 100 ids");
}

static void
test_decode_rejects_fbt_missing_items(void **state)
{
	(void) state;
	req("fbt", 1);
	expect(XSELL_EINVAL, "items", "missing");
}

/* ==== Refusals: ids ==== */

static void
test_decode_rejects_long_id(void **state)
{
	char id[XSELL_ID_MAX + 2];

	(void) state;
	fbt_items(1);
	s(filled(id, XSELL_ID_MAX + 1, 'x'));
	expect(XSELL_ETOOBIG, "items[0]", "longer than 256 bytes");
}

static void
test_decode_accepts_256_byte_id(void **state)
{
	char id[XSELL_ID_MAX + 1];

	(void) state;
	fbt_items(1);
	s(filled(id, XSELL_ID_MAX, 'x'));
	assert_xs_ok(dec());
	assert_int_equal(F->req.u.query.q.items[0].len, XSELL_ID_MAX);
}

static void
test_decode_rejects_bad_utf8_id(void **state)
{
	(void) state;
	fbt_items(2);
	s("ok");
	s("\xc3\x28");
	expect(XSELL_EINVAL, "items[1]", "invalid UTF-8");
}

static void
test_decode_rejects_empty_id(void **state)
{
	(void) state;
	fbt_items(1);
	s("");
	expect(XSELL_EINVAL, "items[0]", "empty");
}

static void
test_decode_integer_id_is_decimal(void **state)
{
	(void) state;
	fbt_items(2);
	i64(12345);
	raw("\xcf\xff\xff\xff\xff\xff\xff\xff\xff", 9);
	assert_xs_ok(dec());
	span_is(F->req.u.query.q.items[0], "12345");
	span_is(F->req.u.query.q.items[1], "18446744073709551615");
}

static void
test_decode_rejects_negative_id(void **state)
{
	(void) state;
	fbt_items(1);
	i64(-4);
	expect(
	    XSELL_EINVAL, "items[0]", "must be a string or unsigned integer");
}

static void
test_decode_rejects_float_id(void **state)
{
	(void) state;
	fbt_items(1);
	msgpack_pack_double(&F->pk, 1.0);
	expect(
	    XSELL_EINVAL, "items[0]", "must be a string or unsigned integer");
}

/* ==== Refusals: event ==== */

/* {"op":"event","events":[ <one event of n entries> ]} */
static void
one_event(size_t n)
{
	req("event", 2);
	s("events");
	a(1);
	m(n);
}

static void
test_decode_rejects_view_without_user(void **state)
{
	(void) state;
	one_event(2);
	s("type");
	s("view");
	s("item");
	s("x");
	expect(XSELL_EINVAL, "events[0].user", "missing");
}

static void
test_decode_rejects_event_without_type(void **state)
{
	(void) state;
	one_event(1);
	s("user");
	s("u");
	expect(XSELL_EINVAL, "events[0].type", "missing");
}

static void
test_decode_rejects_unknown_event_type(void **state)
{
	(void) state;
	one_event(1);
	s("type");
	s("click");
	expect(XSELL_EINVAL, "events[0].type", "unknown type 'click'");
}

static void
test_decode_rejects_rating_6(void **state)
{
	(void) state;
	one_event(4);
	ev_fields("rating");
	s("rating");
	i64(6);
	expect(XSELL_EINVAL, "events[0].rating", "must be 1..5");
}

static void
test_decode_rejects_rating_missing(void **state)
{
	(void) state;
	one_event(3);
	ev_fields("rating");
	expect(XSELL_EINVAL, "events[0].rating", "missing");
}

static void
test_decode_rejects_field_of_other_type(void **state)
{
	(void) state;
	one_event(4);
	s("user");
	s("u");
	s("item");
	s("i");
	s("order");
	s("o");
	s("type");
	s("view");
	expect(XSELL_EINVAL, "events[0].order", "unknown field");
}

static void
test_decode_rejects_bad_event_item(void **state)
{
	(void) state;
	req("event", 2);
	s("events");
	a(4);
	for (int i = 0; i < 3; i++) {
		m(3);
		s("type");
		s("view");
		s("user");
		s("u");
		s("item");
		s("i");
	}
	m(3);
	s("type");
	s("view");
	s("user");
	s("u");
	s("item");
	msgpack_pack_true(&F->pk);
	expect(XSELL_EINVAL, "events[3].item",
	    "must be a string or unsigned integer");
}

static void
test_decode_rejects_negative_ts(void **state)
{
	(void) state;
	one_event(4);
	ev_fields("view");
	s("ts");
	i64(-1);
	expect(XSELL_EINVAL, "events[0].ts", "must be 0..1099511627775");
}

static void
test_decode_rejects_ts_2_40(void **state)
{
	(void) state;
	one_event(4);
	ev_fields("view");
	s("ts");
	i64((int64_t) 1 << 40);
	expect(XSELL_EINVAL, "events[0].ts", "must be 0..1099511627775");
}

/* An order with the given line for events[0].items[0]. */
static void
order_line_begin(size_t line_entries)
{
	one_event(3);
	s("type");
	s("order");
	s("order");
	s("o");
	s("items");
	a(1);
	m(line_entries);
	s("item");
	s("a");
}

static void
test_decode_rejects_nan_price(void **state)
{
	(void) state;
	order_line_begin(2);
	s("price");
	msgpack_pack_double(&F->pk, NAN);
	expect(XSELL_EINVAL, "events[0].items[0].price", "must be finite");
}

static void
test_decode_rejects_negative_price(void **state)
{
	(void) state;
	order_line_begin(2);
	s("price");
	msgpack_pack_double(&F->pk, -0.5);
	expect(XSELL_EINVAL, "events[0].items[0].price", "must be >= 0");
}

static void
test_decode_rejects_qty_string(void **state)
{
	(void) state;
	order_line_begin(2);
	s("qty");
	s("2");
	expect(XSELL_EINVAL, "events[0].items[0].qty", "must be a number");
}

static void
test_decode_rejects_line_unknown_key(void **state)
{
	(void) state;
	order_line_begin(2);
	s("sku");
	s("2");
	expect(XSELL_EINVAL, "events[0].items[0].sku", "unknown field");
}

static void
test_decode_rejects_empty_order(void **state)
{
	(void) state;
	one_event(3);
	s("type");
	s("order");
	s("order");
	s("o");
	s("items");
	a(0);
	expect(XSELL_EINVAL, "events[0].items", "must not be empty");
}

static void
test_decode_rejects_order_without_id(void **state)
{
	(void) state;
	one_event(2);
	s("type");
	s("order");
	s("items");
	a(1);
	s("a");
	expect(XSELL_EINVAL, "events[0].order", "missing");
}

static void
test_decode_rejects_too_many_events(void **state)
{
	(void) state;
	req("event", 2);
	s("events");
	a(XSELL_EVENTS_MAX + 1);
	for (int i = 0; i <= XSELL_EVENTS_MAX; i++) {
		m(0);
	}
	expect(XSELL_ETOOBIG, "events", "more than 10000 events");
}

static void
test_decode_rejects_too_many_batch_refs(void **state)
{
	unsigned orders = XSELL_BATCH_REFS_MAX / XSELL_ORDER_ITEMS_MAX + 1;

	(void) state;
	req("event", 2);
	s("events");
	a(orders);
	for (unsigned o = 0; o < orders; o++) {
		m(3);
		s("type");
		s("order");
		s("order");
		i64(o);
		s("items");
		a(XSELL_ORDER_ITEMS_MAX);
		for (int i = 0; i < XSELL_ORDER_ITEMS_MAX; i++) {
			i64(i % 100);
		}
	}
	expect(XSELL_ETOOBIG, "events", "more than 200000 item references");
}

static void
test_decode_rejects_events_missing(void **state)
{
	(void) state;
	req("event", 2);
	s("batch");
	s("b");
	expect(XSELL_EINVAL, "events", "missing");
}

/* ==== Refusals: items ==== */

static void
test_decode_rejects_upsert_nan_price(void **state)
{
	(void) state;
	req("items", 2);
	s("items");
	a(2);
	m(1);
	s("item");
	s("a");
	m(2);
	s("item");
	s("b");
	s("price");
	msgpack_pack_double(&F->pk, NAN);
	expect(XSELL_EINVAL, "items[1].price", "must be finite");
}

static void
test_decode_rejects_long_category(void **state)
{
	char cat[XSELL_CATEGORY_MAX + 2];

	(void) state;
	req("items", 2);
	s("items");
	a(1);
	m(2);
	s("item");
	s("a");
	s("category");
	s(filled(cat, XSELL_CATEGORY_MAX + 1, 'c'));
	expect(XSELL_ETOOBIG, "items[0].category", "longer than 256 bytes");
}

static void
test_decode_rejects_upsert_without_item(void **state)
{
	(void) state;
	req("items", 2);
	s("items");
	a(1);
	m(1);
	s("in_stock");
	msgpack_pack_true(&F->pk);
	expect(XSELL_EINVAL, "items[0].item", "missing");
}

static void
test_decode_rejects_upsert_not_map(void **state)
{
	(void) state;
	req("items", 2);
	s("items");
	a(1);
	s("a");
	expect(XSELL_EINVAL, "items[0]", "must be a map");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_decode_event),
		T(test_decode_guest_order_and_signed_ts),
		T(test_decode_items),
		T(test_decode_fbt_all_fields),
		T(test_decode_fbt_defaults),
		T(test_decode_stats),
		T(test_decode_rejects_not_a_map),
		T(test_decode_rejects_malformed),
		T(test_decode_rejects_truncated),
		T(test_decode_rejects_empty_message),
		T(test_decode_rejects_trailing_bytes),
		T(test_decode_rejects_duplicate_key),
		T(test_decode_rejects_unknown_op),
		T(test_decode_escapes_unknown_op),
		T(test_decode_rejects_missing_op),
		T(test_decode_rejects_op_not_string),
		T(test_decode_rejects_unknown_field),
		T(test_decode_rejects_field_of_other_op),
		T(test_decode_rejects_non_string_key),
		T(test_decode_rejects_too_deep),
		T(test_decode_accepts_depth_limit),
		T(test_decode_echoes_id_on_error),
		T(test_decode_echoes_id_after_bad_field),
		T(test_decode_echoes_id_with_trailing_bytes),
		T(test_decode_rejects_wrong_types),
		T(test_decode_rejects_k_float),
		T(test_decode_picks_days),
		T(test_decode_rejects_days_float),
		T(test_decode_rejects_days_out_of_range),
		T(test_decode_rejects_age_past_default),
		T(test_decode_rejects_explain_not_bool),
		T(test_decode_rejects_filter_not_map),
		T(test_decode_rejects_events_not_array),
		T(test_decode_rejects_scorer_not_string),
		T(test_decode_rejects_unknown_scorer),
		T(test_decode_rejects_k_zero),
		T(test_decode_rejects_k_negative),
		T(test_decode_rejects_k_501),
		T(test_decode_accepts_k_500),
		T(test_decode_rejects_min_support_negative),
		T(test_decode_rejects_unknown_filter_key),
		T(test_decode_rejects_bad_exclude_id),
		T(test_decode_rejects_too_many_excludes),
		T(test_decode_filter_all_fields),
		T(test_decode_filter_defaults),
		T(test_decode_filter_equal_price_bounds),
		T(test_decode_rejects_empty_categories),
		T(test_decode_rejects_categories_not_array),
		T(test_decode_rejects_too_many_categories),
		T(test_decode_accepts_100_categories),
		T(test_decode_rejects_too_many_exclude_categories),
		T(test_decode_rejects_bad_category_names),
		T(test_decode_rejects_bad_prices),
		T(test_decode_rejects_price_min_above_max),
		T(test_decode_rejects_bad_max_per_category),
		T(test_decode_rejects_duplicate_filter_key),
		T(test_decode_rejects_fbt_empty_items),
		T(test_decode_rejects_fbt_too_many_items),
		T(test_decode_rejects_fbt_missing_items),
		T(test_decode_rejects_long_id),
		T(test_decode_accepts_256_byte_id),
		T(test_decode_rejects_bad_utf8_id),
		T(test_decode_rejects_empty_id),
		T(test_decode_integer_id_is_decimal),
		T(test_decode_rejects_negative_id),
		T(test_decode_rejects_float_id),
		T(test_decode_rejects_view_without_user),
		T(test_decode_rejects_event_without_type),
		T(test_decode_rejects_unknown_event_type),
		T(test_decode_rejects_rating_6),
		T(test_decode_rejects_rating_missing),
		T(test_decode_rejects_field_of_other_type),
		T(test_decode_rejects_bad_event_item),
		T(test_decode_rejects_negative_ts),
		T(test_decode_rejects_ts_2_40),
		T(test_decode_rejects_nan_price),
		T(test_decode_rejects_negative_price),
		T(test_decode_rejects_qty_string),
		T(test_decode_rejects_line_unknown_key),
		T(test_decode_rejects_empty_order),
		T(test_decode_rejects_order_without_id),
		T(test_decode_rejects_too_many_events),
		T(test_decode_rejects_too_many_batch_refs),
		T(test_decode_rejects_events_missing),
		T(test_decode_rejects_upsert_nan_price),
		T(test_decode_rejects_long_category),
		T(test_decode_rejects_upsert_without_item),
		T(test_decode_rejects_upsert_not_map),
	};

	return cmocka_run_group_tests_name("wire_decode", tests, NULL, NULL);
}
