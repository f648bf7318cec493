/* SPDX-License-Identifier: MIT */
/* Replies: each builder's output is unpacked with msgpack-c and its shape
 * checked, with and without an echoed id. */
#include "support.h"

#include <string.h>

#include <msgpack.h>

#include "wire/wire.h"

struct fx {
	struct xs_buf     out;
	msgpack_unpacked  up;
	struct xs_request req;
};

static struct fx *F;

static int
setup(void **state)
{
	F = calloc(1, sizeof(*F));
	assert_non_null(F);
	xs_buf_init(&F->out, 1u << 20);
	msgpack_unpacked_init(&F->up);
	*state = F;
	return 0;
}

static int
teardown(void **state)
{
	(void) state;
	msgpack_unpacked_destroy(&F->up);
	xs_buf_fini(&F->out);
	free(F);
	F = NULL;
	return 0;
}

/* Unpack the whole reply: exactly one object, a map. */
static const msgpack_object *
reply(void)
{
	size_t off = 0;

	assert_int_equal(
	    msgpack_unpack_next(&F->up, F->out.data, F->out.len, &off),
	    MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(off, F->out.len);
	assert_int_equal(F->up.data.type, MSGPACK_OBJECT_MAP);
	return &F->up.data;
}

/* The value of 'key' in 'map', or NULL. */
static const msgpack_object *
find(const msgpack_object *map, const char *key)
{
	assert_int_equal(map->type, MSGPACK_OBJECT_MAP);
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object_kv *kv = &map->via.map.ptr[i];

		if (kv->key.type == MSGPACK_OBJECT_STR &&
		    kv->key.via.str.size == strlen(key) &&
		    memcmp(kv->key.via.str.ptr, key, strlen(key)) == 0) {
			return &kv->val;
		}
	}
	return NULL;
}

static const msgpack_object *
get(const msgpack_object *map, const char *key)
{
	const msgpack_object *v = find(map, key);

	if (v == NULL) {
		fail_msg("no key '%s'", key);
	}
	return v;
}

static void
str_is(const msgpack_object *o, const char *want)
{
	assert_int_equal(o->type, MSGPACK_OBJECT_STR);
	assert_int_equal(o->via.str.size, strlen(want));
	assert_memory_equal(o->via.str.ptr, want, strlen(want));
}

static void
uint_is(const msgpack_object *o, uint64_t want)
{
	assert_int_equal(o->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
	assert_true(o->via.u64 == want);
}

static void
ok_is(const msgpack_object *r, bool want)
{
	const msgpack_object *ok = get(r, "ok");

	assert_int_equal(ok->type, MSGPACK_OBJECT_BOOLEAN);
	assert_int_equal(ok->via.boolean, want);
}

static const msgpack_object *
error_of(const msgpack_object *r)
{
	ok_is(r, false);
	return get(r, "error");
}

/* True if needle[0..n) occurs in hay[0..len) (memmem is not POSIX). */
static bool
contains(const char *hay, size_t len, const uint8_t *needle, size_t n)
{
	for (size_t i = 0; i + n <= len; i++) {
		if (memcmp(hay + i, needle, n) == 0) {
			return true;
		}
	}
	return false;
}

/* ==== Errors ==== */

static void
test_encode_error_default_message(void **state)
{
	const msgpack_object *r, *e;

	(void) state;
	assert_xs_ok(xs_wire_reply_error(&F->out, NULL, XSELL_EINVAL, NULL));
	r = reply();
	assert_int_equal(r->via.map.size, 2);
	e = error_of(r);
	assert_int_equal(e->via.map.size, 2);
	str_is(get(e, "code"), "bad_request");
	str_is(get(e, "message"), "invalid request");
}

static void
test_encode_error_field_and_message(void **state)
{
	struct xs_errinfo     ei = { "k", "must be 1..500" };
	const msgpack_object *e;

	(void) state;
	assert_xs_ok(xs_wire_reply_error(&F->out, &F->req, XSELL_EINVAL, &ei));
	e = error_of(reply());
	str_is(get(e, "code"), "bad_request");
	str_is(get(e, "message"), "k: must be 1..500");
}

static void
test_encode_error_message_only(void **state)
{
	struct xs_errinfo     ei = { "", "larger than 65536 bytes" };
	const msgpack_object *e;

	(void) state;
	assert_xs_ok(xs_wire_reply_error(&F->out, NULL, XSELL_ETOOBIG, &ei));
	e = error_of(reply());
	str_is(get(e, "code"), "too_large");
	str_is(get(e, "message"), "larger than 65536 bytes");
}

static void
test_encode_error_empty_errinfo(void **state)
{
	struct xs_errinfo     ei = { "", "" };
	const msgpack_object *e;

	(void) state;
	assert_xs_ok(xs_wire_reply_error(&F->out, NULL, XSELL_ENOMEM, &ei));
	e = error_of(reply());
	str_is(get(e, "code"), "unavailable");
	str_is(get(e, "message"), "out of memory");
}

static void
test_encode_error_echoes_id(void **state)
{
	static const uint8_t  id[] = { 0x92, 0x01, 0xa1, 'x' }; /* [1,"x"] */
	const msgpack_object *r, *o;

	(void) state;
	F->req.id_raw = id;
	F->req.id_len = sizeof(id);
	assert_xs_ok(
	    xs_wire_reply_error(&F->out, &F->req, XSELL_EFORBIDDEN, NULL));
	r = reply();
	assert_int_equal(r->via.map.size, 3);
	o = get(r, "id");
	assert_int_equal(o->type, MSGPACK_OBJECT_ARRAY);
	assert_int_equal(o->via.array.size, 2);
	uint_is(&o->via.array.ptr[0], 1);
	str_is(&o->via.array.ptr[1], "x");
	str_is(get(error_of(r), "code"), "forbidden");
	/* The id bytes appear verbatim in the reply. */
	assert_true(contains(F->out.data, F->out.len, id, sizeof(id)));
}

static void
test_encode_error_fails_past_cap(void **state)
{
	(void) state;
	xs_buf_fini(&F->out);
	xs_buf_init(&F->out, 8);
	assert_xs_err(xs_wire_reply_error(&F->out, NULL, XSELL_EINVAL, NULL),
	    XSELL_ETOOBIG);
}

/* ==== Writes ==== */

static void
test_encode_event(void **state)
{
	struct xs_apply_result res  = { 5, 2 };
	static const uint8_t   id[] = { 0x07 };
	const msgpack_object  *r;

	(void) state;
	F->req.id_raw = id;
	F->req.id_len = 1;
	assert_xs_ok(xs_wire_reply_event(&F->out, &F->req, &res));
	r = reply();
	assert_int_equal(r->via.map.size, 4);
	ok_is(r, true);
	uint_is(get(r, "id"), 7);
	uint_is(get(r, "applied"), 5);
	uint_is(get(r, "duplicates"), 2);
}

static void
test_encode_items(void **state)
{
	const msgpack_object *r;

	(void) state;
	assert_xs_ok(xs_wire_reply_items(&F->out, &F->req, 12));
	r = reply();
	assert_int_equal(r->via.map.size, 2);
	ok_is(r, true);
	uint_is(get(r, "applied"), 12);
}

/* ==== Lists ==== */

static void
list_fixture(struct xs_query *q, struct xs_answer *ans, struct xs_rec *recs,
    struct xs_span *items, uint32_t *unknown)
{
	memset(q, 0, sizeof(*q));
	memset(ans, 0, sizeof(*ans));
	items[0]   = (struct xs_span) { "a", 1 };
	items[1]   = (struct xs_span) { "zz", 2 };
	items[2]   = (struct xs_span) { "q", 1 };
	q->items   = items;
	q->n_items = 3;
	recs[0]    = (struct xs_rec) {
		   .item = 1, .score = 0.75, .count = 9, .ext = "b", .ext_len = 1
	};
	recs[1] = (struct xs_rec) {
		.item = 2, .score = 0.5, .count = 3, .ext = "cc", .ext_len = 2
	};
	unknown[0]     = 1;
	unknown[1]     = 2;
	ans->recs      = recs;
	ans->n         = 2;
	ans->unknown   = unknown;
	ans->n_unknown = 2;
}

static void
test_encode_list(void **state)
{
	struct xs_query       q;
	struct xs_answer      ans;
	struct xs_rec         recs[2];
	struct xs_span        items[3];
	uint32_t              unknown[2];
	const msgpack_object *r, *list, *rec, *unk;

	(void) state;
	list_fixture(&q, &ans, recs, items, unknown);
	assert_xs_ok(xs_wire_reply_list(&F->out, NULL, &q, &ans, false));
	r = reply();
	assert_int_equal(r->via.map.size, 3);
	ok_is(r, true);
	list = get(r, "items");
	assert_int_equal(list->type, MSGPACK_OBJECT_ARRAY);
	assert_int_equal(list->via.array.size, 2);
	rec = &list->via.array.ptr[0];
	assert_int_equal(rec->via.map.size, 2);
	str_is(get(rec, "item"), "b");
	assert_int_equal(get(rec, "score")->type, MSGPACK_OBJECT_FLOAT64);
	assert_true(get(rec, "score")->via.f64 == 0.75);
	rec = &list->via.array.ptr[1];
	str_is(get(rec, "item"), "cc");
	assert_true(get(rec, "score")->via.f64 == 0.5);
	unk = get(r, "unknown");
	assert_int_equal(unk->via.array.size, 2);
	str_is(&unk->via.array.ptr[0], "zz");
	str_is(&unk->via.array.ptr[1], "q");
}

static void
test_encode_list_explain(void **state)
{
	struct xs_query       q;
	struct xs_answer      ans;
	struct xs_rec         recs[2];
	struct xs_span        items[3];
	uint32_t              unknown[2];
	const msgpack_object *list;

	(void) state;
	list_fixture(&q, &ans, recs, items, unknown);
	ans.n_unknown = 0;
	assert_xs_ok(xs_wire_reply_list(&F->out, &F->req, &q, &ans, true));
	list = get(reply(), "items");
	assert_int_equal(list->via.array.ptr[0].via.map.size, 3);
	uint_is(get(&list->via.array.ptr[0], "count"), 9);
	uint_is(get(&list->via.array.ptr[1], "count"), 3);
	assert_int_equal(get(reply(), "unknown")->via.array.size, 0);
}

static void
test_encode_list_empty_with_id(void **state)
{
	struct xs_query       q;
	struct xs_answer      ans;
	static const uint8_t  id[] = { 0xa2, 'r', '1' };
	const msgpack_object *r;

	(void) state;
	memset(&q, 0, sizeof(q));
	memset(&ans, 0, sizeof(ans));
	F->req.id_raw = id;
	F->req.id_len = sizeof(id);
	assert_xs_ok(xs_wire_reply_list(&F->out, &F->req, &q, &ans, false));
	r = reply();
	assert_int_equal(r->via.map.size, 4);
	str_is(get(r, "id"), "r1");
	assert_int_equal(get(r, "items")->via.array.size, 0);
}

/* ==== Stats ==== */

static void
test_encode_stats(void **state)
{
	struct xs_stats       s;
	const msgpack_object *r, *o, *st, *req;

	(void) state;
	memset(&s, 0, sizeof(s));
	s.version                   = "0.1";
	s.items                     = 10;
	s.users                     = 20;
	s.categories                = 3;
	s.orders                    = 30;
	s.baskets                   = 25;
	s.events                    = 40;
	s.map_size                  = 4096;
	s.used_bytes                = 1024;
	s.readers_used              = 2;
	s.readers_max               = 126;
	s.memo_items                = 12;
	s.memo_bytes                = 34567;
	s.memo_budget               = 1048576;
	s.memo_hits                 = 900;
	s.memo_misses               = 100;
	s.item_cache_bytes          = 65600;
	s.index_bytes               = 20000;
	s.free_bytes                = 512;
	s.uptime_s                  = 77;
	s.ops[XS_OP_fbt].requests   = 5;
	s.ops[XS_OP_fbt].errors     = 1;
	s.ops[XS_OP_stats].requests = 2;
	assert_xs_ok(xs_wire_reply_stats(&F->out, &F->req, &s));
	r = reply();
	assert_int_equal(r->via.map.size, 6);
	ok_is(r, true);
	str_is(get(r, "version"), "0.1");
	o = get(r, "counts");
	assert_int_equal(o->via.map.size, 6);
	uint_is(get(o, "items"), 10);
	uint_is(get(o, "users"), 20);
	uint_is(get(o, "orders"), 30);
	uint_is(get(o, "events"), 40);
	uint_is(get(o, "baskets"), 25);
	uint_is(get(o, "categories"), 3);
	st = get(r, "store");
	assert_int_equal(st->via.map.size, 13);
	uint_is(get(st, "map_size"), 4096);
	uint_is(get(st, "used_bytes"), 1024);
	assert_true(get(st, "map_used")->via.f64 == 0.25);
	uint_is(get(st, "readers_used"), 2);
	uint_is(get(st, "readers_max"), 126);
	uint_is(get(st, "memo_items"), 12);
	uint_is(get(st, "memo_bytes"), 34567);
	uint_is(get(st, "memo_budget"), 1048576);
	uint_is(get(st, "memo_hits"), 900);
	uint_is(get(st, "memo_misses"), 100);
	uint_is(get(st, "item_cache_bytes"), 65600);
	uint_is(get(st, "index_bytes"), 20000);
	uint_is(get(st, "free_bytes"), 512);
	uint_is(get(r, "uptime_s"), 77);
	req = get(r, "requests");
	assert_int_equal(req->via.map.size, XS_OP_COUNT);
	uint_is(get(get(req, "fbt"), "requests"), 5);
	uint_is(get(get(req, "fbt"), "errors"), 1);
	uint_is(get(get(req, "stats"), "requests"), 2);
	uint_is(get(get(req, "event"), "requests"), 0);
	uint_is(get(get(req, "items"), "errors"), 0);
	/* No connection counters given: no "connections" key; no pull
	 * endpoint: no "pull". */
	assert_null(find(r, "connections"));
	assert_null(find(r, "pull"));
}

/* Connection counters of one kind of endpoint only (a server with no
 * admin endpoint): "connections" holds just that kind. */
static void
test_encode_stats_connections(void **state)
{
	struct xs_stats       s;
	const msgpack_object *r, *c, *rd;

	(void) state;
	memset(&s, 0, sizeof(s));
	s.version          = "0.1";
	s.conns[0].kind    = "read";
	s.conns[0].open    = 3;
	s.conns[0].waiting = 5;
	s.conns[0].max     = 50;
	s.conns[0].refused = 7;
	s.conns[0].muted   = 2;
	s.conns[0].dropped = 11;
	assert_xs_ok(xs_wire_reply_stats(&F->out, &F->req, &s));
	r = reply();
	assert_int_equal(r->via.map.size, 7);
	c = get(r, "connections");
	assert_int_equal(c->via.map.size, 1);
	assert_null(find(c, "admin"));
	rd = get(c, "read");
	assert_int_equal(rd->via.map.size, 6);
	uint_is(get(rd, "open"), 3);
	uint_is(get(rd, "waiting"), 5);
	uint_is(get(rd, "max"), 50);
	uint_is(get(rd, "refused"), 7);
	uint_is(get(rd, "muted"), 2);
	uint_is(get(rd, "dropped"), 11);
}

/* Every optional section at once (settings, connections of three kinds,
 * complements_lists, wal, pull): the top map has the 5 fixed entries,
 * "ok" and these 5, and each section exactly its fields, so a count that
 * misses a field leaves bytes after the map or reads a key as a value. */
static void
test_encode_stats_every_section(void **state)
{
	struct xs_stats       s;
	struct xs_settings    set;
	const msgpack_object *r, *o;

	(void) state;
	memset(&s, 0, sizeof(s));
	memset(&set, 0, sizeof(set));
	set.fbt_scorer           = XS_SCORE_COUNT;
	set.similar_scorer       = XS_SCORE_COUNT;
	set.viewed_bought_scorer = XS_SCORE_COUNT;
	set.min_support          = 2;
	set.history_max          = 500;
	set.complements_beta     = 0.5;
	set.comp_momentum_weight = 0.25;
	s.version                = "0.1";
	s.settings               = &set;
	s.conns[0].kind          = "read";
	s.conns[1].kind          = "admin";
	s.conns[1].refused       = 4;
	s.comp_lists.on          = true;
	s.comp_lists.items       = 12;
	s.comp_lists.due         = 3;
	s.comp_lists.computed    = 40;
	s.wal.on                 = true;
	s.wal.logged             = 9;
	s.wal.applied            = 8;
	s.wal.skipped            = 1;
	s.conns[2].kind          = "pull";
	s.conns[2].open          = 2;
	s.pull.on                = true;
	s.pull.messages          = 20;
	s.pull.applied           = 12;
	s.pull.events            = 300;
	s.pull.duplicates        = 7;
	s.pull.rejected          = 5;
	s.pull.refused           = 2;
	s.pull.failed            = 1;
	assert_xs_ok(xs_wire_reply_stats(&F->out, &F->req, &s));
	r = reply();
	assert_int_equal(r->via.map.size, 11);
	o = get(r, "settings");
	assert_int_equal(o->via.map.size, 16);
	str_is(get(o, "fbt_scorer"), "count");
	uint_is(get(o, "min_support"), 2);
	uint_is(get(o, "history_max"), 500);
	assert_true(get(o, "complements_beta")->via.f64 == 0.5);
	assert_true(get(o, "comp_momentum_weight")->via.f64 == 0.25);
	o = get(r, "connections");
	assert_int_equal(o->via.map.size, 3);
	assert_int_equal(get(o, "read")->via.map.size, 6);
	uint_is(get(get(o, "admin"), "refused"), 4);
	uint_is(get(get(o, "pull"), "open"), 2);
	o = get(r, "complements_lists");
	assert_int_equal(o->via.map.size, 3);
	uint_is(get(o, "items"), 12);
	uint_is(get(o, "due"), 3);
	uint_is(get(o, "computed"), 40);
	o = get(r, "wal");
	assert_int_equal(o->via.map.size, 6);
	uint_is(get(o, "logged"), 9);
	uint_is(get(o, "applied"), 8);
	uint_is(get(o, "backlog_bytes"), 0);
	uint_is(get(o, "skipped"), 1);
	o = get(r, "pull");
	assert_int_equal(o->via.map.size, 7);
	uint_is(get(o, "messages"), 20);
	uint_is(get(o, "applied"), 12);
	uint_is(get(o, "events"), 300);
	uint_is(get(o, "duplicates"), 7);
	uint_is(get(o, "rejected"), 5);
	uint_is(get(o, "refused"), 2);
	uint_is(get(o, "failed"), 1);
}

static void
test_encode_stats_empty_map(void **state)
{
	struct xs_stats s;

	(void) state;
	memset(&s, 0, sizeof(s));
	assert_xs_ok(xs_wire_reply_stats(&F->out, NULL, &s));
	assert_true(get(get(reply(), "store"), "map_used")->via.f64 == 0);
}

/* ==== Every msgpack form, as msgpack-c packs it ====
 *
 * encode.c writes msgpack itself. Its bytes, unpacked by msgpack-c and
 * packed again by msgpack-c's packer (smallest forms), must come back
 * the same, and the values must be the ones given: every integer form,
 * signed and not, at both sides of each boundary, string lengths across
 * fixstr/str8/str16/str32, and arrays past the 16- and 32-bit counts. */

/* msgpack-c's bytes for object o. */
static void
repack(const msgpack_object *o, msgpack_sbuffer *sb)
{
	msgpack_packer pk;

	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	assert_int_equal(msgpack_pack_object(&pk, *o), 0);
}

static void
assert_packed_as_msgpack_c(void)
{
	msgpack_sbuffer sb;

	repack(reply(), &sb);
	assert_int_equal(sb.size, F->out.len);
	assert_memory_equal(sb.data, F->out.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
}

static const int64_t form_edges[] = { 0, 1, 127, 128, 255, 256, 65535, 65536,
	4294967295, 4294967296, INT64_MAX, -1, -32, -33, -128, -129, -32768,
	-32769, INT32_MIN, (int64_t) INT32_MIN - 1, INT64_MIN };
static const size_t  len_edges[]  = { 0, 1, 31, 32, 255, 256, 65535, 65536 };

static void
test_encode_forms_history(void **state)
{
	size_t              n_edges = sizeof(form_edges) / sizeof(*form_edges);
	size_t              n       = 70000; /* an array32 of events */
	struct xs_hist_rec *recs    = calloc(n, sizeof(*recs));
	struct xs_hist_item  *evs   = calloc(n, sizeof(*evs));
	char                 *name  = malloc(65536);
	struct xs_history     h     = { true, evs, recs, (uint32_t) n };
	const msgpack_object *list;

	(void) state;
	assert_non_null(recs);
	assert_non_null(evs);
	assert_non_null(name);
	memset(name, 'n', 65536);
	xs_buf_fini(&F->out);
	xs_buf_init(&F->out, 16u << 20);
	for (size_t i = 0; i < n; i++) {
		recs[i].ts     = form_edges[i % n_edges];
		recs[i].type   = i % 2 ? XS_EV_RATING : XS_EV_VIEW;
		recs[i].value  = (uint8_t) i; /* 0..255 */
		recs[i].flags  = i % 3 ? 0 : XS_HIST_OUT_OF_STOCK;
		evs[i].rec     = &recs[i];
		evs[i].ext     = name;
		evs[i].ext_len = i < 8 ? len_edges[i] : 1;
	}
	F->req.u.query.q.user = (struct xs_span) { name, 300 };
	assert_xs_ok(xs_wire_reply_history(&F->out, &F->req, &h));
	list = get(reply(), "events");
	assert_int_equal(list->via.array.size, n);
	for (size_t i = 0; i < n; i++) {
		const msgpack_object *ev   = &list->via.array.ptr[i];
		const msgpack_object *ts   = get(ev, "ts");
		int64_t               want = form_edges[i % n_edges];

		if (want < 0) {
			assert_int_equal(
			    ts->type, MSGPACK_OBJECT_NEGATIVE_INTEGER);
			assert_true(ts->via.i64 == want);
		} else {
			uint_is(ts, (uint64_t) want);
		}
		assert_int_equal(
		    get(ev, "item")->via.str.size, evs[i].ext_len);
		if (i % 2) {
			uint_is(get(ev, "rating"), (uint8_t) i);
		}
		assert_true(
		    (find(ev, "out_of_stock") != NULL) == (i % 3 == 0));
	}
	assert_memory_equal(
	    get(list->via.array.ptr + 7, "item")->via.str.ptr, name, 65536);
	assert_packed_as_msgpack_c();
	free(name);
	free(evs);
	free(recs);
}

/* Lists of 15 (a fixarray's most) and 16 (an array16's least), scores
 * of every kind of double, and an explain's counts at the unsigned
 * boundaries. */
static void
pack_list_of(uint32_t n)
{
	static const double   scores[] = { 0.75, -0.0, 1e300, -1e-300, 3.0,
		  -2.5 };
	struct xs_rec         recs[16];
	struct xs_query       q;
	struct xs_answer      ans;
	const msgpack_object *list;

	memset(&q, 0, sizeof(q));
	memset(&ans, 0, sizeof(ans));
	for (size_t i = 0; i < n; i++) {
		recs[i] = (struct xs_rec) { .item = (uint32_t) i + 1,
			.score                    = scores[i % 6],
			.count   = (uint64_t) form_edges[i % 11],
			.ext     = "item",
			.ext_len = 4,
			.via_ext = "via",
			.via_len = 3 };
	}
	ans.recs = recs;
	ans.n    = n;
	xs_buf_reset(&F->out);
	assert_xs_ok(xs_wire_reply_list(&F->out, &F->req, &q, &ans, true));
	list = get(reply(), "items");
	assert_int_equal(list->via.array.size, n);
	for (size_t i = 0; i < n; i++) {
		const msgpack_object *rec = &list->via.array.ptr[i];

		assert_memory_equal(&get(rec, "score")->via.f64,
		    &scores[i % 6], sizeof(double));
		uint_is(get(rec, "count"), (uint64_t) form_edges[i % 11]);
		str_is(get(rec, "via"), "via");
	}
	assert_packed_as_msgpack_c();
}

static void
test_encode_forms_list(void **state)
{
	(void) state;
	pack_list_of(15);
	pack_list_of(16);
}

/* A reply that does not fit its cap fails whole, whichever value it
 * stops at. */
static void
test_encode_fails_past_cap_at_any_value(void **state)
{
	struct xs_rec rec = {
		.item = 1, .score = 1, .ext = "a", .ext_len = 1
	};
	struct xs_query  q;
	struct xs_answer ans;
	size_t           full;

	(void) state;
	memset(&q, 0, sizeof(q));
	memset(&ans, 0, sizeof(ans));
	ans.recs = &rec;
	ans.n    = 1;
	assert_xs_ok(xs_wire_reply_list(&F->out, NULL, &q, &ans, false));
	full = F->out.len;
	for (size_t cap = 0; cap < full; cap++) {
		xs_buf_fini(&F->out);
		xs_buf_init(&F->out, cap);
		assert_xs_err(
		    xs_wire_reply_list(&F->out, NULL, &q, &ans, false),
		    XSELL_ETOOBIG);
	}
}

/* ==== ops ==== */

static void
test_encode_op_table(void **state)
{
	(void) state;
	assert_string_equal(xs_op_name(XS_OP_event), "event");
	assert_string_equal(xs_op_name(XS_OP_items), "items");
	assert_string_equal(xs_op_name(XS_OP_fbt), "fbt");
	assert_string_equal(xs_op_name(XS_OP_stats), "stats");
	assert_true(xs_op_is_write(XS_OP_event));
	assert_true(xs_op_is_write(XS_OP_items));
	assert_false(xs_op_is_write(XS_OP_fbt));
	assert_false(xs_op_is_write(XS_OP_stats));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_encode_error_default_message),
		T(test_encode_error_field_and_message),
		T(test_encode_error_message_only),
		T(test_encode_error_empty_errinfo),
		T(test_encode_error_echoes_id),
		T(test_encode_error_fails_past_cap),
		T(test_encode_event),
		T(test_encode_items),
		T(test_encode_list),
		T(test_encode_list_explain),
		T(test_encode_list_empty_with_id),
		T(test_encode_stats),
		T(test_encode_stats_connections),
		T(test_encode_stats_every_section),
		T(test_encode_stats_empty_map),
		T(test_encode_forms_history),
		T(test_encode_forms_list),
		T(test_encode_fails_past_cap_at_any_value),
		T(test_encode_op_table),
	};

	return cmocka_run_group_tests_name("wire_encode", tests, NULL, NULL);
}
