/* SPDX-License-Identifier: MIT */
/* Replies: msgpack maps packed with msgpack-c's packer straight into an
 * xs_buf. The packer's write callback records the buffer's first error
 * (a reply over its cap, out of memory) and refuses everything after it,
 * so each builder packs without checking and returns that error once.
 * The request's "id" is echoed as the raw bytes the client sent. */
#include "wire/wire_impl.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include <msgpack.h>

struct pack_ctx {
	struct xs_buf *out;
	xsell_err      err; /* first append error */
};

static int
pack_write_cb(void *data, const char *buf, size_t len)
{
	struct pack_ctx *ctx = data;
	struct xs_buf   *out = ctx->out;

	if (ctx->err != XSELL_OK) {
		return -1;
	}
	/* The packer writes a reply a few bytes at a time: where they fit
	 * (within cap, hence within max_len), no call to grow. */
	if (out->data != NULL && len <= out->cap - out->len) {
		memcpy(out->data + out->len, buf, len);
		out->len += len;
		return 0;
	}
	ctx->err = xs_buf_append(out, buf, len);
	return ctx->err == XSELL_OK ? 0 : -1;
}

static bool
has_id(const struct xs_request *req)
{
	return req != NULL && req->id_raw != NULL && req->id_len > 0;
}

static void
pack_cstr(msgpack_packer *pk, const char *key)
{
	size_t len = strlen(key);

	msgpack_pack_str(pk, len);
	msgpack_pack_str_body(pk, key, len);
}

static void
pack_str(msgpack_packer *pk, const char *p, size_t len)
{
	msgpack_pack_str(pk, len);
	msgpack_pack_str_body(pk, p, len);
}

/* ==== Maps that count their entries ====
 *
 * msgpack puts a map's entry count before its entries. Each map is
 * opened with map_begin, every key is packed through map_key, and
 * map_end asserts that the keys packed are the count declared: a field
 * added without its count fails the first test that packs it (debug
 * builds), instead of shifting every later entry on the wire. */

struct map {
	msgpack_packer *pk;
	uint32_t        declared; /* entry count packed by map_begin */
	uint32_t        keys;     /* keys packed since */
};

static struct map
map_begin(msgpack_packer *pk, uint32_t n)
{
	struct map m = { pk, n, 0 };

	msgpack_pack_map(pk, n);
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
reply_begin(msgpack_packer *pk, struct pack_ctx *ctx,
    const struct xs_request *req, uint32_t n, bool ok)
{
	struct map m = map_begin(pk, n + 1 + (has_id(req) ? 1 : 0));

	map_key(&m, "ok");
	if (ok) {
		msgpack_pack_true(pk);
	} else {
		msgpack_pack_false(pk);
	}
	if (has_id(req)) {
		map_key(&m, "id");
		/* Already valid msgpack: the decoder read it whole. */
		pack_write_cb(ctx, (const char *) req->id_raw, req->id_len);
	}
	return m;
}

xsell_err
xs_wire_reply_error(struct xs_buf *out, const struct xs_request *req,
    xsell_err err, const struct xs_errinfo *ei)
{
	struct pack_ctx ctx = { out, XSELL_OK };
	msgpack_packer  pk;
	struct map      reply, error;
	char            msg[sizeof(ei->field) + 2 + sizeof(ei->msg)];

	if (ei != NULL && ei->field[0] != '\0') {
		snprintf(msg, sizeof(msg), "%s: %s", ei->field, ei->msg);
	} else if (ei != NULL && ei->msg[0] != '\0') {
		snprintf(msg, sizeof(msg), "%s", ei->msg);
	} else {
		snprintf(msg, sizeof(msg), "%s", xsell_strerror(err));
	}
	msgpack_packer_init(&pk, &ctx, pack_write_cb);
	reply = reply_begin(&pk, &ctx, req, 1, false);
	map_key(&reply, "error");
	error = map_begin(&pk, 2);
	map_key(&error, "code");
	pack_cstr(&pk, xsell_err_wire(err));
	map_key(&error, "message");
	pack_cstr(&pk, msg);
	map_end(&error);
	map_end(&reply);
	return ctx.err;
}

xsell_err
xs_wire_reply_event(struct xs_buf *out, const struct xs_request *req,
    const struct xs_apply_result *res)
{
	struct pack_ctx ctx = { out, XSELL_OK };
	msgpack_packer  pk;
	struct map      reply;

	msgpack_packer_init(&pk, &ctx, pack_write_cb);
	reply = reply_begin(&pk, &ctx, req, 2, true);
	map_key(&reply, "applied");
	msgpack_pack_uint32(&pk, res->applied);
	map_key(&reply, "duplicates");
	msgpack_pack_uint32(&pk, res->duplicates);
	map_end(&reply);
	return ctx.err;
}

xsell_err
xs_wire_reply_items(
    struct xs_buf *out, const struct xs_request *req, uint32_t applied)
{
	struct pack_ctx ctx = { out, XSELL_OK };
	msgpack_packer  pk;
	struct map      reply;

	msgpack_packer_init(&pk, &ctx, pack_write_cb);
	reply = reply_begin(&pk, &ctx, req, 1, true);
	map_key(&reply, "applied");
	msgpack_pack_uint32(&pk, applied);
	map_end(&reply);
	return ctx.err;
}

/* The parts of a similar score, by relation: the value of the key
 * "parts" its caller packed. */
static void
pack_parts(msgpack_packer *pk, const struct xs_why *why)
{
	static const char *const names[XS_PART_COUNT] = { "order", "view",
		"cart" };
	struct map               parts = map_begin(pk, XS_PART_COUNT);

	for (int p = 0; p < XS_PART_COUNT; p++) {
		map_key(&parts, names[p]);
		msgpack_pack_double(pk, why->parts[p]);
	}
	map_end(&parts);
}

/* One answer: item and score always; via when it has one; source when it
 * has one (picks, trending); with explain its count, the history item
 * behind it and the parts of its score. */
static void
pack_rec(msgpack_packer *pk, const struct xs_rec *rec, bool explain)
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
	msgpack_pack_double(pk, rec->score);
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
		msgpack_pack_uint64(pk, rec->count);
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
	struct pack_ctx ctx = { out, XSELL_OK };
	msgpack_packer  pk;
	struct map      reply;

	msgpack_packer_init(&pk, &ctx, pack_write_cb);
	reply = reply_begin(&pk, &ctx, req, 2, true);
	map_key(&reply, "items");
	msgpack_pack_array(&pk, ans->n);
	for (uint32_t i = 0; i < ans->n && ctx.err == XSELL_OK; i++) {
		pack_rec(&pk, &ans->recs[i], explain);
	}
	map_key(&reply, "unknown");
	msgpack_pack_array(&pk, ans->n_unknown);
	for (uint32_t i = 0; i < ans->n_unknown && ctx.err == XSELL_OK; i++) {
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
	return ctx.err;
}

static const char *const event_type_names[XS_EV_TYPE_COUNT] = { "order",
	"view", "cart_add", "cart_remove", "rating" };

/* One event of a history: type, item and ts always; its rating and
 * whether the item was out of stock when it has them. */
static void
pack_hist_event(msgpack_packer *pk, const struct xs_hist_item *ev)
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
	msgpack_pack_int64(pk, r->ts);
	if (rating) {
		map_key(&m, "rating");
		msgpack_pack_uint8(pk, r->value);
	}
	if (oos) {
		map_key(&m, "out_of_stock");
		msgpack_pack_true(pk);
	}
	map_end(&m);
}

xsell_err
xs_wire_reply_history(struct xs_buf *out, const struct xs_request *req,
    const struct xs_history *h)
{
	struct pack_ctx ctx = { out, XSELL_OK };
	msgpack_packer  pk;
	struct map      reply;

	msgpack_packer_init(&pk, &ctx, pack_write_cb);
	reply = reply_begin(&pk, &ctx, req, 3, true);
	map_key(&reply, "user");
	pack_str(&pk, req->u.query.q.user.p, req->u.query.q.user.len);
	map_key(&reply, "known");
	if (h->known) {
		msgpack_pack_true(&pk);
	} else {
		msgpack_pack_false(&pk);
	}
	map_key(&reply, "events");
	msgpack_pack_array(&pk, h->n);
	for (uint32_t i = 0; i < h->n && ctx.err == XSELL_OK; i++) {
		pack_hist_event(&pk, &h->evs[i]);
	}
	map_end(&reply);
	return ctx.err;
}

xsell_err
xs_wire_reply_forget(struct xs_buf *out, const struct xs_request *req,
    const struct xs_forget_result *res)
{
	struct pack_ctx ctx = { out, XSELL_OK };
	msgpack_packer  pk;
	struct map      reply;

	msgpack_packer_init(&pk, &ctx, pack_write_cb);
	reply = reply_begin(&pk, &ctx, req, 3, true);
	map_key(&reply, "forgotten");
	if (res->found) {
		msgpack_pack_true(&pk);
	} else {
		msgpack_pack_false(&pk);
	}
	map_key(&reply, "events");
	msgpack_pack_uint64(&pk, res->events);
	map_key(&reply, "orders");
	msgpack_pack_uint64(&pk, res->orders);
	map_end(&reply);
	return ctx.err;
}

/* stats.settings: the defaults a request gets when it leaves a field
 * out. */
static void
pack_settings(msgpack_packer *pk, const struct xs_settings *set)
{
	struct map m = map_begin(pk, 16);

	map_key(&m, "fbt_scorer");
	pack_cstr(pk, xs_scorer_name(set->fbt_scorer));
	map_key(&m, "min_support");
	msgpack_pack_uint32(pk, set->min_support);
	map_key(&m, "complements_beta");
	msgpack_pack_double(pk, set->complements_beta);
	map_key(&m, "walk_width");
	msgpack_pack_uint32(pk, set->walk_width);
	map_key(&m, "max_basket_items");
	msgpack_pack_uint32(pk, set->max_basket_items);
	map_key(&m, "history_max");
	msgpack_pack_uint32(pk, set->history_max);
	map_key(&m, "similar_scorer");
	pack_cstr(pk, xs_scorer_name(set->similar_scorer));
	map_key(&m, "viewed_bought_scorer");
	pack_cstr(pk, xs_scorer_name(set->viewed_bought_scorer));
	map_key(&m, "trend_half_life_days");
	msgpack_pack_double(pk, set->trend_half_life_days);
	map_key(&m, "pick_half_life_days");
	msgpack_pack_double(pk, set->pick_half_life_days);
	map_key(&m, "session_gap_s");
	msgpack_pack_uint32(pk, set->session_gap_s);
	map_key(&m, "view_buy_window_s");
	msgpack_pack_uint32(pk, set->view_buy_window_s);
	map_key(&m, "user_counted_max");
	msgpack_pack_uint32(pk, set->user_counted_max);
	map_key(&m, "pick_momentum_weight");
	msgpack_pack_double(pk, set->pick_momentum_weight);
	map_key(&m, "pick_momentum_prior");
	msgpack_pack_double(pk, set->pick_momentum_prior);
	map_key(&m, "comp_momentum_weight");
	msgpack_pack_double(pk, set->comp_momentum_weight);
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
pack_connections(msgpack_packer *pk, const struct xs_stats *s)
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
		msgpack_pack_uint32(pk, c->open);
		map_key(&m, "waiting");
		msgpack_pack_uint32(pk, c->waiting);
		map_key(&m, "max");
		msgpack_pack_uint32(pk, c->max);
		map_key(&m, "refused");
		msgpack_pack_uint64(pk, c->refused);
		map_key(&m, "muted");
		msgpack_pack_uint64(pk, c->muted);
		map_key(&m, "dropped");
		msgpack_pack_uint64(pk, c->dropped);
		map_end(&m);
	}
	map_end(&kinds);
}

/* stats.complements_lists: how many lists the refresher keeps. */
static void
pack_comp_lists(msgpack_packer *pk, const struct xs_stats *s)
{
	struct map m = map_begin(pk, 3);

	map_key(&m, "items");
	msgpack_pack_uint64(pk, s->comp_lists.items);
	map_key(&m, "due");
	msgpack_pack_uint64(pk, s->comp_lists.due);
	map_key(&m, "computed");
	msgpack_pack_uint64(pk, s->comp_lists.computed);
	map_end(&m);
}

/* stats.wal: how far the store is behind the write-ahead log. */
static void
pack_wal(msgpack_packer *pk, const struct xs_stats *s)
{
	struct map m = map_begin(pk, 6);

	map_key(&m, "logged");
	msgpack_pack_uint64(pk, s->wal.logged);
	map_key(&m, "applied");
	msgpack_pack_uint64(pk, s->wal.applied);
	map_key(&m, "backlog_bytes");
	msgpack_pack_uint64(pk, s->wal.backlog_bytes);
	map_key(&m, "backlog_max");
	msgpack_pack_uint64(pk, s->wal.backlog_max);
	map_key(&m, "segments");
	msgpack_pack_uint64(pk, s->wal.segments);
	map_key(&m, "skipped");
	msgpack_pack_uint64(pk, s->wal.skipped);
	map_end(&m);
}

/* stats.pull: what became of the messages of the pull endpoints. */
static void
pack_pull(msgpack_packer *pk, const struct xs_stats *s)
{
	struct map m = map_begin(pk, 7);

	map_key(&m, "messages");
	msgpack_pack_uint64(pk, s->pull.messages);
	map_key(&m, "applied");
	msgpack_pack_uint64(pk, s->pull.applied);
	map_key(&m, "events");
	msgpack_pack_uint64(pk, s->pull.events);
	map_key(&m, "duplicates");
	msgpack_pack_uint64(pk, s->pull.duplicates);
	map_key(&m, "rejected");
	msgpack_pack_uint64(pk, s->pull.rejected);
	map_key(&m, "refused");
	msgpack_pack_uint64(pk, s->pull.refused);
	map_key(&m, "failed");
	msgpack_pack_uint64(pk, s->pull.failed);
	map_end(&m);
}

/* stats.counts: what the store holds. */
static void
pack_counts(msgpack_packer *pk, const struct xs_stats *s)
{
	struct map m = map_begin(pk, 6);

	map_key(&m, "items");
	msgpack_pack_uint32(pk, s->items);
	map_key(&m, "users");
	msgpack_pack_uint32(pk, s->users);
	map_key(&m, "orders");
	msgpack_pack_uint64(pk, s->orders);
	map_key(&m, "events");
	msgpack_pack_uint64(pk, s->events);
	map_key(&m, "baskets");
	msgpack_pack_uint64(pk, s->baskets);
	map_key(&m, "categories");
	msgpack_pack_uint32(pk, s->categories);
	map_end(&m);
}

/* stats.store: the LMDB map, its readers and the answers' memos. */
static void
pack_store(msgpack_packer *pk, const struct xs_stats *s)
{
	struct map m    = map_begin(pk, 13);
	double     used = 0;

	if (s->map_size > 0) {
		used = (double) s->used_bytes / (double) s->map_size;
	}
	map_key(&m, "map_size");
	msgpack_pack_uint64(pk, s->map_size);
	map_key(&m, "used_bytes");
	msgpack_pack_uint64(pk, s->used_bytes);
	map_key(&m, "map_used");
	msgpack_pack_double(pk, used);
	map_key(&m, "readers_used");
	msgpack_pack_uint32(pk, s->readers_used);
	map_key(&m, "readers_max");
	msgpack_pack_uint32(pk, s->readers_max);
	map_key(&m, "memo_items");
	msgpack_pack_uint64(pk, s->memo_items);
	map_key(&m, "memo_bytes");
	msgpack_pack_uint64(pk, s->memo_bytes);
	map_key(&m, "memo_budget");
	msgpack_pack_uint64(pk, s->memo_budget);
	map_key(&m, "memo_hits");
	msgpack_pack_uint64(pk, s->memo_hits);
	map_key(&m, "memo_misses");
	msgpack_pack_uint64(pk, s->memo_misses);
	map_key(&m, "item_cache_bytes");
	msgpack_pack_uint64(pk, s->item_cache_bytes);
	map_key(&m, "index_bytes");
	msgpack_pack_uint64(pk, s->index_bytes);
	map_key(&m, "free_bytes");
	msgpack_pack_uint64(pk, s->free_bytes);
	map_end(&m);
}

/* stats.requests: requests and errors of every op. */
static void
pack_requests(msgpack_packer *pk, const struct xs_stats *s)
{
	struct map ops = map_begin(pk, XS_OP_COUNT);

	for (int op = 0; op < XS_OP_COUNT; op++) {
		struct map m;

		map_key(&ops, xs_op_name((enum xs_op) op));
		m = map_begin(pk, 2);
		map_key(&m, "requests");
		msgpack_pack_uint64(pk, s->ops[op].requests);
		map_key(&m, "errors");
		msgpack_pack_uint64(pk, s->ops[op].errors);
		map_end(&m);
	}
	map_end(&ops);
}

xsell_err
xs_wire_reply_stats(
    struct xs_buf *out, const struct xs_request *req, const struct xs_stats *s)
{
	struct pack_ctx ctx = { out, XSELL_OK };
	msgpack_packer  pk;
	const char     *version = s->version != NULL ? s->version : "";
	uint32_t        n_kinds = conn_kinds(s);
	struct map      reply;

	msgpack_packer_init(&pk, &ctx, pack_write_cb);
	reply = reply_begin(&pk, &ctx, req,
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
	msgpack_pack_uint64(&pk, s->uptime_s);
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
	return ctx.err;
}
