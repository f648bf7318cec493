/* SPDX-License-Identifier: MIT */
/* Replies: msgpack maps written straight into an xs_buf. The writer
 * records the buffer's first error (a reply over its cap, out of memory)
 * and drops everything after it, so each builder writes without checking
 * and returns that error once. The request's "id" is echoed as the raw
 * bytes the client sent.
 *
 * The writer is ours, not msgpack-c's packer: that one hands every
 * token (a key's header, then its bytes, a score's 9 bytes, ...) to a
 * callback through a pointer, ~150 calls for a list of 10, which were
 * 28% of the instructions xselld spent on an fbt request outside nng
 * (bench/RESULTS.md, "Replies written without msgpack-c's packer"). Each
 * value here takes the room it needs at once and is stored in place, in
 * the smallest form the msgpack spec allows, as the packer did. */
#include "wire/wire_impl.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

struct pack {
	struct xs_buf *out;
	xsell_err      err; /* first append error */
};

/* Room for n more bytes at the end of the reply, taken (NULL after an
 * error, which is recorded). */
static unsigned char *
pack_room(struct pack *pk, size_t n)
{
	struct xs_buf *out = pk->out;
	unsigned char *p;

	if (pk->err != XSELL_OK) {
		return NULL;
	}
	if (out->data == NULL || n > out->cap - out->len) {
		pk->err = xs_buf_reserve(out, n);
		if (pk->err != XSELL_OK) {
			return NULL;
		}
	}
	p = (unsigned char *) out->data + out->len;
	out->len += n;
	return p;
}

/* x's low 'bytes' bytes (0, 1, 2, 4 or 8) at p, big-endian. */
static void
put_be(unsigned char *p, uint64_t x, size_t bytes)
{
	for (size_t i = 0; i < bytes; i++) {
		p[i] = (unsigned char) (x >> (8 * (bytes - 1 - i)));
	}
}

/* A one-byte tag, then the low 'bytes' bytes of x, big-endian: every
 * msgpack form here but a string's. */
static void
pack_tagged(struct pack *pk, unsigned char tag, uint64_t x, size_t bytes)
{
	unsigned char *p = pack_room(pk, 1 + bytes);

	if (p != NULL) {
		p[0] = tag;
		put_be(p + 1, x, bytes);
	}
}

/* Bytes already msgpack (a request's "id"). */
static void
pack_raw(struct pack *pk, const void *bytes, size_t len)
{
	unsigned char *p = pack_room(pk, len);

	if (p != NULL && len > 0) {
		memcpy(p, bytes, len);
	}
}

/* A map's or an array's header: 'fix' holds up to 15 entries in its low
 * bits; 'b16' and 'b16 + 1' are the 16- and 32-bit count forms. */
static void
pack_header(struct pack *pk, unsigned char fix, unsigned char b16, uint32_t n)
{
	if (n < 16) {
		pack_tagged(pk, (unsigned char) (fix | n), 0, 0);
	} else if (n <= UINT16_MAX) {
		pack_tagged(pk, b16, n, 2);
	} else {
		pack_tagged(pk, (unsigned char) (b16 + 1), n, 4);
	}
}

static void
pack_map(struct pack *pk, uint32_t n)
{
	pack_header(pk, 0x80, 0xde, n);
}

static void
pack_array(struct pack *pk, uint32_t n)
{
	pack_header(pk, 0x90, 0xdc, n);
}

/* A string, header and bytes in one room. Lengths come from buffers
 * under the reply's cap (far below 4 GiB); a longer one fails as too
 * big. */
static void
pack_str(struct pack *pk, const char *s, size_t len)
{
	size_t         size = len < 32  ? 0
	            : len <= UINT8_MAX  ? 1
	            : len <= UINT16_MAX ? 2
	                                : 4;
	unsigned char *p;

	if (len > UINT32_MAX) { /* no reply's cap comes near 4 GiB */
		if (pk->err == XSELL_OK) {
			pk->err = XSELL_ETOOBIG;
		}
		return;
	}
	p = pack_room(pk, 1 + size + len);
	if (p == NULL) {
		return;
	}
	/* fixstr (0xa0 | len), then str8, str16, str32. */
	p[0] = size == 0 ? (unsigned char) (0xa0 | len)
	    : size == 1  ? 0xd9
	    : size == 2  ? 0xda
	                 : 0xdb;
	put_be(p + 1, len, size);
	if (len > 0) {
		memcpy(p + 1 + size, s, len);
	}
}

static void
pack_cstr(struct pack *pk, const char *s)
{
	pack_str(pk, s, strlen(s));
}

static void
pack_bool(struct pack *pk, bool b)
{
	pack_tagged(pk, b ? 0xc3 : 0xc2, 0, 0);
}

/* positive fixint, then uint8, 16, 32, 64 (0xcc..0xcf). */
static void
pack_uint(struct pack *pk, uint64_t x)
{
	if (x < 128) {
		pack_tagged(pk, (unsigned char) x, 0, 0);
	} else if (x <= UINT8_MAX) {
		pack_tagged(pk, 0xcc, x, 1);
	} else if (x <= UINT16_MAX) {
		pack_tagged(pk, 0xcd, x, 2);
	} else if (x <= UINT32_MAX) {
		pack_tagged(pk, 0xce, x, 4);
	} else {
		pack_tagged(pk, 0xcf, x, 8);
	}
}

/* negative fixint, then int8, 16, 32, 64 (0xd0..0xd3), two's
 * complement; not negative, as pack_uint. */
static void
pack_int(struct pack *pk, int64_t x)
{
	uint64_t u = (uint64_t) x;

	if (x >= 0) {
		pack_uint(pk, u);
	} else if (x >= -32) {
		pack_tagged(pk, (unsigned char) u, 0, 0);
	} else if (x >= INT8_MIN) {
		pack_tagged(pk, 0xd0, u, 1);
	} else if (x >= INT16_MIN) {
		pack_tagged(pk, 0xd1, u, 2);
	} else if (x >= INT32_MIN) {
		pack_tagged(pk, 0xd2, u, 4);
	} else {
		pack_tagged(pk, 0xd3, u, 8);
	}
}

/* A float 64, as every score and ratio is sent. */
static void
pack_double(struct pack *pk, double d)
{
	uint64_t bits;

	_Static_assert(sizeof(bits) == sizeof(d), "an IEEE 754 double");
	memcpy(&bits, &d, sizeof(bits));
	pack_tagged(pk, 0xcb, bits, 8);
}

static bool
has_id(const struct xs_request *req)
{
	return req != NULL && req->id_raw != NULL && req->id_len > 0;
}

/* ==== Maps that count their entries ====
 *
 * msgpack puts a map's entry count before its entries. Each map is
 * opened with map_begin, every key is packed through map_key, and
 * map_end asserts that the keys packed are the count declared: a field
 * added without its count fails the first test that packs it (debug
 * builds), instead of shifting every later entry on the wire. */

struct map {
	struct pack *pk;
	uint32_t     declared; /* entry count packed by map_begin */
	uint32_t     keys;     /* keys packed since */
};

static struct map
map_begin(struct pack *pk, uint32_t n)
{
	struct map m = { pk, n, 0 };

	pack_map(pk, n);
	return m;
}

static void
map_key(struct map *m, const char *key)
{
	m->keys++;
	pack_cstr(m->pk, key);
}

static void
map_end(const struct map *m)
{
	assert(m->keys == m->declared);
	(void) m;
}

/* Open the reply map of 'n' entries besides "ok" and "id", and pack both;
 * the caller packs the n entries and ends the map. */
static struct map
reply_begin(struct pack *pk, const struct xs_request *req, uint32_t n, bool ok)
{
	struct map m = map_begin(pk, n + 1 + (has_id(req) ? 1 : 0));

	map_key(&m, "ok");
	pack_bool(pk, ok);
	if (has_id(req)) {
		map_key(&m, "id");
		/* Already valid msgpack: the decoder read it whole. */
		pack_raw(pk, req->id_raw, req->id_len);
	}
	return m;
}

xsell_err
xs_wire_reply_error(struct xs_buf *out, const struct xs_request *req,
    xsell_err err, const struct xs_errinfo *ei)
{
	struct pack pk = { out, XSELL_OK };
	struct map  reply, error;
	char        msg[sizeof(ei->field) + 2 + sizeof(ei->msg)];

	if (ei != NULL && ei->field[0] != '\0') {
		snprintf(msg, sizeof(msg), "%s: %s", ei->field, ei->msg);
	} else if (ei != NULL && ei->msg[0] != '\0') {
		snprintf(msg, sizeof(msg), "%s", ei->msg);
	} else {
		snprintf(msg, sizeof(msg), "%s", xsell_strerror(err));
	}
	reply = reply_begin(&pk, req, 1, false);
	map_key(&reply, "error");
	error = map_begin(&pk, 2);
	map_key(&error, "code");
	pack_cstr(&pk, xsell_err_wire(err));
	map_key(&error, "message");
	pack_cstr(&pk, msg);
	map_end(&error);
	map_end(&reply);
	return pk.err;
}

xsell_err
xs_wire_reply_event(struct xs_buf *out, const struct xs_request *req,
    const struct xs_apply_result *res)
{
	struct pack pk = { out, XSELL_OK };
	struct map  reply;

	reply = reply_begin(&pk, req, 2, true);
	map_key(&reply, "applied");
	pack_uint(&pk, res->applied);
	map_key(&reply, "duplicates");
	pack_uint(&pk, res->duplicates);
	map_end(&reply);
	return pk.err;
}

xsell_err
xs_wire_reply_items(
    struct xs_buf *out, const struct xs_request *req, uint32_t applied)
{
	struct pack pk = { out, XSELL_OK };
	struct map  reply;

	reply = reply_begin(&pk, req, 1, true);
	map_key(&reply, "applied");
	pack_uint(&pk, applied);
	map_end(&reply);
	return pk.err;
}

/* The parts of a similar score, by relation: the value of the key
 * "parts" its caller packed. */
static void
pack_parts(struct pack *pk, const struct xs_why *why)
{
	static const char *const names[XS_PART_COUNT] = { "order", "view",
		"cart" };
	struct map               parts = map_begin(pk, XS_PART_COUNT);

	for (int p = 0; p < XS_PART_COUNT; p++) {
		map_key(&parts, names[p]);
		pack_double(pk, why->parts[p]);
	}
	map_end(&parts);
}

/* One answer: item and score always; via when it has one; source when it
 * has one (picks, trending); with explain its count, the history item
 * behind it and the parts of its score. */
static void
pack_rec(struct pack *pk, const struct xs_rec *rec, bool explain)
{
	bool       via     = rec->via_ext != NULL;
	bool       source  = rec->why.source != XS_SOURCE_NONE;
	bool       because = explain && rec->why.because_ext != NULL;
	bool       parts   = explain && rec->why.has_parts;
	struct map m       = map_begin(
	          pk, 2u + via + source + (explain ? 1u : 0u) + because + parts);

	map_key(&m, "item");
	pack_str(pk, rec->ext, rec->ext_len);
	map_key(&m, "score");
	pack_double(pk, rec->score);
	if (via) {
		map_key(&m, "via");
		pack_str(pk, rec->via_ext, rec->via_len);
	}
	if (source) {
		map_key(&m, "source");
		pack_cstr(
		    pk, xs_source_name((enum xs_source) rec->why.source));
	}
	if (explain) {
		map_key(&m, "count");
		pack_uint(pk, rec->count);
	}
	if (because) {
		map_key(&m, "because");
		pack_str(pk, rec->why.because_ext, rec->why.because_len);
	}
	if (parts) {
		map_key(&m, "parts");
		pack_parts(pk, &rec->why);
	}
	map_end(&m);
}

xsell_err
xs_wire_reply_list(struct xs_buf *out, const struct xs_request *req,
    const struct xs_query *q, const struct xs_answer *ans, bool explain)
{
	struct pack pk = { out, XSELL_OK };
	struct map  reply;

	reply = reply_begin(&pk, req, 2, true);
	map_key(&reply, "items");
	pack_array(&pk, ans->n);
	for (uint32_t i = 0; i < ans->n && pk.err == XSELL_OK; i++) {
		pack_rec(&pk, &ans->recs[i], explain);
	}
	map_key(&reply, "unknown");
	pack_array(&pk, ans->n_unknown);
	for (uint32_t i = 0; i < ans->n_unknown && pk.err == XSELL_OK; i++) {
		const struct xs_span *of =
		    ans->unknown_of ? ans->unknown_of : q->items;
		uint32_t n_of =
		    ans->unknown_of ? ans->n_unknown_of : q->n_items;
		uint32_t ix = ans->unknown[i];

		if (ix >= n_of) {
			return XSELL_EINTERNAL;
		}
		pack_str(&pk, of[ix].p, of[ix].len);
	}
	map_end(&reply);
	return pk.err;
}

static const char *const event_type_names[XS_EV_TYPE_COUNT] = { "order",
	"view", "cart_add", "cart_remove", "rating" };

/* One event of a history: type, item and ts always; its rating and
 * whether the item was out of stock when it has them. */
static void
pack_hist_event(struct pack *pk, const struct xs_hist_item *ev)
{
	const struct xs_hist_rec *r      = ev->rec;
	bool                      rating = r->type == XS_EV_RATING;
	bool                      oos = (r->flags & XS_HIST_OUT_OF_STOCK) != 0;
	struct map                m   = map_begin(pk, 3u + rating + oos);

	map_key(&m, "type");
	pack_cstr(
	    pk, r->type < XS_EV_TYPE_COUNT ? event_type_names[r->type] : "?");
	map_key(&m, "item");
	pack_str(pk, ev->ext, ev->ext_len);
	map_key(&m, "ts");
	pack_int(pk, r->ts);
	if (rating) {
		map_key(&m, "rating");
		pack_uint(pk, r->value);
	}
	if (oos) {
		map_key(&m, "out_of_stock");
		pack_bool(pk, true);
	}
	map_end(&m);
}

xsell_err
xs_wire_reply_history(struct xs_buf *out, const struct xs_request *req,
    const struct xs_history *h)
{
	struct pack pk = { out, XSELL_OK };
	struct map  reply;

	reply = reply_begin(&pk, req, 3, true);
	map_key(&reply, "user");
	pack_str(&pk, req->u.query.q.user.p, req->u.query.q.user.len);
	map_key(&reply, "known");
	pack_bool(&pk, h->known);
	map_key(&reply, "events");
	pack_array(&pk, h->n);
	for (uint32_t i = 0; i < h->n && pk.err == XSELL_OK; i++) {
		pack_hist_event(&pk, &h->evs[i]);
	}
	map_end(&reply);
	return pk.err;
}

xsell_err
xs_wire_reply_forget(struct xs_buf *out, const struct xs_request *req,
    const struct xs_forget_result *res)
{
	struct pack pk = { out, XSELL_OK };
	struct map  reply;

	reply = reply_begin(&pk, req, 3, true);
	map_key(&reply, "forgotten");
	pack_bool(&pk, res->found);
	map_key(&reply, "events");
	pack_uint(&pk, res->events);
	map_key(&reply, "orders");
	pack_uint(&pk, res->orders);
	map_end(&reply);
	return pk.err;
}

/* stats.settings: the defaults a request gets when it leaves a field
 * out. */
static void
pack_settings(struct pack *pk, const struct xs_settings *set)
{
	struct map m = map_begin(pk, 16);

	map_key(&m, "fbt_scorer");
	pack_cstr(pk, xs_scorer_name(set->fbt_scorer));
	map_key(&m, "min_support");
	pack_uint(pk, set->min_support);
	map_key(&m, "complements_beta");
	pack_double(pk, set->complements_beta);
	map_key(&m, "walk_width");
	pack_uint(pk, set->walk_width);
	map_key(&m, "max_basket_items");
	pack_uint(pk, set->max_basket_items);
	map_key(&m, "history_max");
	pack_uint(pk, set->history_max);
	map_key(&m, "similar_scorer");
	pack_cstr(pk, xs_scorer_name(set->similar_scorer));
	map_key(&m, "viewed_bought_scorer");
	pack_cstr(pk, xs_scorer_name(set->viewed_bought_scorer));
	map_key(&m, "trend_half_life_days");
	pack_double(pk, set->trend_half_life_days);
	map_key(&m, "pick_half_life_days");
	pack_double(pk, set->pick_half_life_days);
	map_key(&m, "session_gap_s");
	pack_uint(pk, set->session_gap_s);
	map_key(&m, "view_buy_window_s");
	pack_uint(pk, set->view_buy_window_s);
	map_key(&m, "user_counted_max");
	pack_uint(pk, set->user_counted_max);
	map_key(&m, "pick_momentum_weight");
	pack_double(pk, set->pick_momentum_weight);
	map_key(&m, "pick_momentum_prior");
	pack_double(pk, set->pick_momentum_prior);
	map_key(&m, "comp_momentum_weight");
	pack_double(pk, set->comp_momentum_weight);
	map_end(&m);
}

/* How many kinds of endpoint stats has connections of. */
static uint32_t
conn_kinds(const struct xs_stats *s)
{
	uint32_t n = 0;

	for (size_t i = 0; i < sizeof(s->conns) / sizeof(s->conns[0]); i++) {
		n += s->conns[i].kind != NULL;
	}
	return n;
}

/* stats.connections: each kind of endpoint's connections. */
static void
pack_connections(struct pack *pk, const struct xs_stats *s)
{
	struct map kinds = map_begin(pk, conn_kinds(s));

	for (size_t i = 0; i < sizeof(s->conns) / sizeof(s->conns[0]); i++) {
		const struct xs_conn_stats *c = &s->conns[i];
		struct map                  m;

		if (c->kind == NULL) {
			continue;
		}
		map_key(&kinds, c->kind);
		m = map_begin(pk, 6);
		map_key(&m, "open");
		pack_uint(pk, c->open);
		map_key(&m, "waiting");
		pack_uint(pk, c->waiting);
		map_key(&m, "max");
		pack_uint(pk, c->max);
		map_key(&m, "refused");
		pack_uint(pk, c->refused);
		map_key(&m, "muted");
		pack_uint(pk, c->muted);
		map_key(&m, "dropped");
		pack_uint(pk, c->dropped);
		map_end(&m);
	}
	map_end(&kinds);
}

/* stats.complements_lists: how many lists the refresher keeps. */
static void
pack_comp_lists(struct pack *pk, const struct xs_stats *s)
{
	struct map m = map_begin(pk, 3);

	map_key(&m, "items");
	pack_uint(pk, s->comp_lists.items);
	map_key(&m, "due");
	pack_uint(pk, s->comp_lists.due);
	map_key(&m, "computed");
	pack_uint(pk, s->comp_lists.computed);
	map_end(&m);
}

/* stats.wal: how far the store is behind the write-ahead log. */
static void
pack_wal(struct pack *pk, const struct xs_stats *s)
{
	struct map m = map_begin(pk, 6);

	map_key(&m, "logged");
	pack_uint(pk, s->wal.logged);
	map_key(&m, "applied");
	pack_uint(pk, s->wal.applied);
	map_key(&m, "backlog_bytes");
	pack_uint(pk, s->wal.backlog_bytes);
	map_key(&m, "backlog_max");
	pack_uint(pk, s->wal.backlog_max);
	map_key(&m, "segments");
	pack_uint(pk, s->wal.segments);
	map_key(&m, "skipped");
	pack_uint(pk, s->wal.skipped);
	map_end(&m);
}

/* stats.pull: what became of the messages of the pull endpoints. */
static void
pack_pull(struct pack *pk, const struct xs_stats *s)
{
	struct map m = map_begin(pk, 7);

	map_key(&m, "messages");
	pack_uint(pk, s->pull.messages);
	map_key(&m, "applied");
	pack_uint(pk, s->pull.applied);
	map_key(&m, "events");
	pack_uint(pk, s->pull.events);
	map_key(&m, "duplicates");
	pack_uint(pk, s->pull.duplicates);
	map_key(&m, "rejected");
	pack_uint(pk, s->pull.rejected);
	map_key(&m, "refused");
	pack_uint(pk, s->pull.refused);
	map_key(&m, "failed");
	pack_uint(pk, s->pull.failed);
	map_end(&m);
}

/* stats.counts: what the store holds. */
static void
pack_counts(struct pack *pk, const struct xs_stats *s)
{
	struct map m = map_begin(pk, 6);

	map_key(&m, "items");
	pack_uint(pk, s->items);
	map_key(&m, "users");
	pack_uint(pk, s->users);
	map_key(&m, "orders");
	pack_uint(pk, s->orders);
	map_key(&m, "events");
	pack_uint(pk, s->events);
	map_key(&m, "baskets");
	pack_uint(pk, s->baskets);
	map_key(&m, "categories");
	pack_uint(pk, s->categories);
	map_end(&m);
}

/* stats.store: the LMDB map, its readers and the answers' memos. */
static void
pack_store(struct pack *pk, const struct xs_stats *s)
{
	struct map m    = map_begin(pk, 13);
	double     used = 0;

	if (s->map_size > 0) {
		used = (double) s->used_bytes / (double) s->map_size;
	}
	map_key(&m, "map_size");
	pack_uint(pk, s->map_size);
	map_key(&m, "used_bytes");
	pack_uint(pk, s->used_bytes);
	map_key(&m, "map_used");
	pack_double(pk, used);
	map_key(&m, "readers_used");
	pack_uint(pk, s->readers_used);
	map_key(&m, "readers_max");
	pack_uint(pk, s->readers_max);
	map_key(&m, "memo_items");
	pack_uint(pk, s->memo_items);
	map_key(&m, "memo_bytes");
	pack_uint(pk, s->memo_bytes);
	map_key(&m, "memo_budget");
	pack_uint(pk, s->memo_budget);
	map_key(&m, "memo_hits");
	pack_uint(pk, s->memo_hits);
	map_key(&m, "memo_misses");
	pack_uint(pk, s->memo_misses);
	map_key(&m, "item_cache_bytes");
	pack_uint(pk, s->item_cache_bytes);
	map_key(&m, "index_bytes");
	pack_uint(pk, s->index_bytes);
	map_key(&m, "free_bytes");
	pack_uint(pk, s->free_bytes);
	map_end(&m);
}

/* stats.requests: requests and errors of every op. */
static void
pack_requests(struct pack *pk, const struct xs_stats *s)
{
	struct map ops = map_begin(pk, XS_OP_COUNT);

	for (int op = 0; op < XS_OP_COUNT; op++) {
		struct map m;

		map_key(&ops, xs_op_name((enum xs_op) op));
		m = map_begin(pk, 2);
		map_key(&m, "requests");
		pack_uint(pk, s->ops[op].requests);
		map_key(&m, "errors");
		pack_uint(pk, s->ops[op].errors);
		map_end(&m);
	}
	map_end(&ops);
}

xsell_err
xs_wire_reply_stats(
    struct xs_buf *out, const struct xs_request *req, const struct xs_stats *s)
{
	struct pack pk      = { out, XSELL_OK };
	const char *version = s->version != NULL ? s->version : "";
	uint32_t    n_kinds = conn_kinds(s);
	struct map  reply;

	reply = reply_begin(&pk, req,
	    5 + (s->settings != NULL) + (n_kinds != 0) + s->comp_lists.on +
	        s->wal.on + s->pull.on,
	    true);
	map_key(&reply, "version");
	pack_cstr(&pk, version);
	map_key(&reply, "counts");
	pack_counts(&pk, s);
	map_key(&reply, "store");
	pack_store(&pk, s);
	map_key(&reply, "uptime_s");
	pack_uint(&pk, s->uptime_s);
	map_key(&reply, "requests");
	pack_requests(&pk, s);
	if (s->settings != NULL) {
		map_key(&reply, "settings");
		pack_settings(&pk, s->settings);
	}
	if (n_kinds != 0) {
		map_key(&reply, "connections");
		pack_connections(&pk, s);
	}
	if (s->comp_lists.on) {
		map_key(&reply, "complements_lists");
		pack_comp_lists(&pk, s);
	}
	if (s->wal.on) {
		map_key(&reply, "wal");
		pack_wal(&pk, s);
	}
	if (s->pull.on) {
		map_key(&reply, "pull");
		pack_pull(&pk, s);
	}
	map_end(&reply);
	return pk.err;
}
