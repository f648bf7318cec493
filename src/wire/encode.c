/* SPDX-License-Identifier: MIT */
/* Replies: msgpack maps packed with msgpack-c's packer straight into an
 * xs_buf. The packer's write callback records the buffer's first error
 * (a reply over its cap, out of memory) and refuses everything after it,
 * so each builder packs without checking and returns that error once.
 * The request's "id" is echoed as the raw bytes the client sent. */
#include "wire/wire_impl.h"

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

	if (ctx->err != XSELL_OK) {
		return -1;
	}
	ctx->err = xs_buf_append(ctx->out, buf, len);
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

/* Open the reply map of 'n' entries besides "ok" and "id", and pack both. */
static void
reply_begin(msgpack_packer *pk, struct pack_ctx *ctx,
    const struct xs_request *req, size_t n, bool ok)
{
	msgpack_pack_map(pk, n + 1 + (has_id(req) ? 1 : 0));
	pack_cstr(pk, "ok");
	if (ok) {
		msgpack_pack_true(pk);
	} else {
		msgpack_pack_false(pk);
	}
	if (has_id(req)) {
		pack_cstr(pk, "id");
		/* Already valid msgpack: the decoder read it whole. */
		pack_write_cb(ctx, (const char *) req->id_raw, req->id_len);
	}
}

xsell_err
xs_wire_reply_error(struct xs_buf *out, const struct xs_request *req,
    xsell_err err, const struct xs_errinfo *ei)
{
	struct pack_ctx ctx = { out, XSELL_OK };
	msgpack_packer  pk;
	char            msg[sizeof(ei->field) + 2 + sizeof(ei->msg)];

	if (ei != NULL && ei->field[0] != '\0') {
		snprintf(msg, sizeof(msg), "%s: %s", ei->field, ei->msg);
	} else if (ei != NULL && ei->msg[0] != '\0') {
		snprintf(msg, sizeof(msg), "%s", ei->msg);
	} else {
		snprintf(msg, sizeof(msg), "%s", xsell_strerror(err));
	}
	msgpack_packer_init(&pk, &ctx, pack_write_cb);
	reply_begin(&pk, &ctx, req, 1, false);
	pack_cstr(&pk, "error");
	msgpack_pack_map(&pk, 2);
	pack_cstr(&pk, "code");
	pack_cstr(&pk, xsell_err_wire(err));
	pack_cstr(&pk, "message");
	pack_cstr(&pk, msg);
	return ctx.err;
}

xsell_err
xs_wire_reply_event(struct xs_buf *out, const struct xs_request *req,
    const struct xs_apply_result *res)
{
	struct pack_ctx ctx = { out, XSELL_OK };
	msgpack_packer  pk;

	msgpack_packer_init(&pk, &ctx, pack_write_cb);
	reply_begin(&pk, &ctx, req, 2, true);
	pack_cstr(&pk, "applied");
	msgpack_pack_uint32(&pk, res->applied);
	pack_cstr(&pk, "duplicates");
	msgpack_pack_uint32(&pk, res->duplicates);
	return ctx.err;
}

xsell_err
xs_wire_reply_items(
    struct xs_buf *out, const struct xs_request *req, uint32_t applied)
{
	struct pack_ctx ctx = { out, XSELL_OK };
	msgpack_packer  pk;

	msgpack_packer_init(&pk, &ctx, pack_write_cb);
	reply_begin(&pk, &ctx, req, 1, true);
	pack_cstr(&pk, "applied");
	msgpack_pack_uint32(&pk, applied);
	return ctx.err;
}

/* The parts of a similar score, by relation. */
static void
pack_parts(msgpack_packer *pk, const struct xs_why *why)
{
	static const char *const names[XS_PART_COUNT] = { "order", "view",
		"cart" };

	pack_cstr(pk, "parts");
	msgpack_pack_map(pk, XS_PART_COUNT);
	for (int p = 0; p < XS_PART_COUNT; p++) {
		pack_cstr(pk, names[p]);
		msgpack_pack_double(pk, why->parts[p]);
	}
}

/* One answer: item and score always; via when it has one; source when it
 * has one (picks, trending); with explain its count, the history item
 * behind it and the parts of its score. */
static void
pack_rec(msgpack_packer *pk, const struct xs_rec *rec, bool explain)
{
	bool     via     = rec->via_ext != NULL;
	bool     source  = rec->why.source != XS_SOURCE_NONE;
	bool     because = explain && rec->why.because_ext != NULL;
	bool     parts   = explain && rec->why.has_parts;
	unsigned n = 2u + via + source + (explain ? 1u : 0u) + because + parts;

	msgpack_pack_map(pk, n);
	pack_cstr(pk, "item");
	pack_str(pk, rec->ext, rec->ext_len);
	pack_cstr(pk, "score");
	msgpack_pack_double(pk, rec->score);
	if (via) {
		pack_cstr(pk, "via");
		pack_str(pk, rec->via_ext, rec->via_len);
	}
	if (source) {
		pack_cstr(pk, "source");
		pack_cstr(
		    pk, xs_source_name((enum xs_source) rec->why.source));
	}
	if (explain) {
		pack_cstr(pk, "count");
		msgpack_pack_uint64(pk, rec->count);
	}
	if (because) {
		pack_cstr(pk, "because");
		pack_str(pk, rec->why.because_ext, rec->why.because_len);
	}
	if (parts) {
		pack_parts(pk, &rec->why);
	}
}

xsell_err
xs_wire_reply_list(struct xs_buf *out, const struct xs_request *req,
    const struct xs_query *q, const struct xs_answer *ans, bool explain)
{
	struct pack_ctx ctx = { out, XSELL_OK };
	msgpack_packer  pk;

	msgpack_packer_init(&pk, &ctx, pack_write_cb);
	reply_begin(&pk, &ctx, req, 2, true);
	pack_cstr(&pk, "items");
	msgpack_pack_array(&pk, ans->n);
	for (uint32_t i = 0; i < ans->n && ctx.err == XSELL_OK; i++) {
		pack_rec(&pk, &ans->recs[i], explain);
	}
	pack_cstr(&pk, "unknown");
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
	return ctx.err;
}

static const char *const event_type_names[XS_EV_TYPE_COUNT] = { "order",
	"view", "cart_add", "cart_remove", "rating" };

xsell_err
xs_wire_reply_history(struct xs_buf *out, const struct xs_request *req,
    const struct xs_history *h)
{
	struct pack_ctx ctx = { out, XSELL_OK };
	msgpack_packer  pk;

	msgpack_packer_init(&pk, &ctx, pack_write_cb);
	reply_begin(&pk, &ctx, req, 3, true);
	pack_cstr(&pk, "user");
	pack_str(&pk, req->u.query.q.user.p, req->u.query.q.user.len);
	pack_cstr(&pk, "known");
	if (h->known) {
		msgpack_pack_true(&pk);
	} else {
		msgpack_pack_false(&pk);
	}
	pack_cstr(&pk, "events");
	msgpack_pack_array(&pk, h->n);
	for (uint32_t i = 0; i < h->n && ctx.err == XSELL_OK; i++) {
		const struct xs_hist_rec *r      = h->evs[i].rec;
		bool                      rating = r->type == XS_EV_RATING;
		bool oos = (r->flags & XS_HIST_OUT_OF_STOCK) != 0;

		msgpack_pack_map(&pk, 3u + rating + oos);
		pack_cstr(&pk, "type");
		pack_cstr(&pk,
		    r->type < XS_EV_TYPE_COUNT ? event_type_names[r->type]
		                               : "?");
		pack_cstr(&pk, "item");
		pack_str(&pk, h->evs[i].ext, h->evs[i].ext_len);
		pack_cstr(&pk, "ts");
		msgpack_pack_int64(&pk, r->ts);
		if (rating) {
			pack_cstr(&pk, "rating");
			msgpack_pack_uint8(&pk, r->value);
		}
		if (oos) {
			pack_cstr(&pk, "out_of_stock");
			msgpack_pack_true(&pk);
		}
	}
	return ctx.err;
}

xsell_err
xs_wire_reply_forget(struct xs_buf *out, const struct xs_request *req,
    const struct xs_forget_result *res)
{
	struct pack_ctx ctx = { out, XSELL_OK };
	msgpack_packer  pk;

	msgpack_packer_init(&pk, &ctx, pack_write_cb);
	reply_begin(&pk, &ctx, req, 3, true);
	pack_cstr(&pk, "forgotten");
	if (res->found) {
		msgpack_pack_true(&pk);
	} else {
		msgpack_pack_false(&pk);
	}
	pack_cstr(&pk, "events");
	msgpack_pack_uint64(&pk, res->events);
	pack_cstr(&pk, "orders");
	msgpack_pack_uint64(&pk, res->orders);
	return ctx.err;
}

/* The defaults a request gets when it leaves a field out. */
static void
pack_settings(msgpack_packer *pk, const struct xs_settings *set)
{
	pack_cstr(pk, "settings");
	msgpack_pack_map(pk, 16);
	pack_cstr(pk, "fbt_scorer");
	pack_cstr(pk, xs_scorer_name(set->fbt_scorer));
	pack_cstr(pk, "min_support");
	msgpack_pack_uint32(pk, set->min_support);
	pack_cstr(pk, "complements_beta");
	msgpack_pack_double(pk, set->complements_beta);
	pack_cstr(pk, "walk_width");
	msgpack_pack_uint32(pk, set->walk_width);
	pack_cstr(pk, "max_basket_items");
	msgpack_pack_uint32(pk, set->max_basket_items);
	pack_cstr(pk, "history_max");
	msgpack_pack_uint32(pk, set->history_max);
	pack_cstr(pk, "similar_scorer");
	pack_cstr(pk, xs_scorer_name(set->similar_scorer));
	pack_cstr(pk, "viewed_bought_scorer");
	pack_cstr(pk, xs_scorer_name(set->viewed_bought_scorer));
	pack_cstr(pk, "trend_half_life_days");
	msgpack_pack_double(pk, set->trend_half_life_days);
	pack_cstr(pk, "pick_half_life_days");
	msgpack_pack_double(pk, set->pick_half_life_days);
	pack_cstr(pk, "session_gap_s");
	msgpack_pack_uint32(pk, set->session_gap_s);
	pack_cstr(pk, "view_buy_window_s");
	msgpack_pack_uint32(pk, set->view_buy_window_s);
	pack_cstr(pk, "user_counted_max");
	msgpack_pack_uint32(pk, set->user_counted_max);
	pack_cstr(pk, "pick_momentum_weight");
	msgpack_pack_double(pk, set->pick_momentum_weight);
	pack_cstr(pk, "pick_momentum_prior");
	msgpack_pack_double(pk, set->pick_momentum_prior);
	pack_cstr(pk, "comp_momentum_weight");
	msgpack_pack_double(pk, set->comp_momentum_weight);
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

static void
pack_connections(msgpack_packer *pk, const struct xs_stats *s)
{
	pack_cstr(pk, "connections");
	msgpack_pack_map(pk, conn_kinds(s));
	for (size_t i = 0; i < sizeof(s->conns) / sizeof(s->conns[0]); i++) {
		const struct xs_conn_stats *c = &s->conns[i];

		if (c->kind == NULL) {
			continue;
		}
		pack_cstr(pk, c->kind);
		msgpack_pack_map(pk, 5);
		pack_cstr(pk, "open");
		msgpack_pack_uint32(pk, c->open);
		pack_cstr(pk, "max");
		msgpack_pack_uint32(pk, c->max);
		pack_cstr(pk, "refused");
		msgpack_pack_uint64(pk, c->refused);
		pack_cstr(pk, "muted");
		msgpack_pack_uint64(pk, c->muted);
		pack_cstr(pk, "dropped");
		msgpack_pack_uint64(pk, c->dropped);
	}
}

/* stats.complements_lists: how many lists the refresher keeps. */
static void
pack_comp_lists(msgpack_packer *pk, const struct xs_stats *s)
{
	pack_cstr(pk, "complements_lists");
	msgpack_pack_map(pk, 3);
	pack_cstr(pk, "items");
	msgpack_pack_uint64(pk, s->comp_lists.items);
	pack_cstr(pk, "due");
	msgpack_pack_uint64(pk, s->comp_lists.due);
	pack_cstr(pk, "computed");
	msgpack_pack_uint64(pk, s->comp_lists.computed);
}

/* stats.wal: how far the store is behind the write-ahead log. */
static void
pack_wal(msgpack_packer *pk, const struct xs_stats *s)
{
	pack_cstr(pk, "wal");
	msgpack_pack_map(pk, 6);
	pack_cstr(pk, "logged");
	msgpack_pack_uint64(pk, s->wal.logged);
	pack_cstr(pk, "applied");
	msgpack_pack_uint64(pk, s->wal.applied);
	pack_cstr(pk, "backlog_bytes");
	msgpack_pack_uint64(pk, s->wal.backlog_bytes);
	pack_cstr(pk, "backlog_max");
	msgpack_pack_uint64(pk, s->wal.backlog_max);
	pack_cstr(pk, "segments");
	msgpack_pack_uint64(pk, s->wal.segments);
	pack_cstr(pk, "skipped");
	msgpack_pack_uint64(pk, s->wal.skipped);
}

xsell_err
xs_wire_reply_stats(
    struct xs_buf *out, const struct xs_request *req, const struct xs_stats *s)
{
	struct pack_ctx ctx = { out, XSELL_OK };
	msgpack_packer  pk;
	const char     *version = s->version != NULL ? s->version : "";
	double          used    = 0;
	uint32_t        n_kinds = conn_kinds(s);

	if (s->map_size > 0) {
		used = (double) s->used_bytes / (double) s->map_size;
	}
	msgpack_packer_init(&pk, &ctx, pack_write_cb);
	reply_begin(&pk, &ctx, req,
	    5 + (s->settings != NULL) + (n_kinds != 0) + s->comp_lists.on +
	        s->wal.on,
	    true);
	pack_cstr(&pk, "version");
	pack_cstr(&pk, version);

	pack_cstr(&pk, "counts");
	msgpack_pack_map(&pk, 6);
	pack_cstr(&pk, "items");
	msgpack_pack_uint32(&pk, s->items);
	pack_cstr(&pk, "users");
	msgpack_pack_uint32(&pk, s->users);
	pack_cstr(&pk, "orders");
	msgpack_pack_uint64(&pk, s->orders);
	pack_cstr(&pk, "events");
	msgpack_pack_uint64(&pk, s->events);
	pack_cstr(&pk, "baskets");
	msgpack_pack_uint64(&pk, s->baskets);
	pack_cstr(&pk, "categories");
	msgpack_pack_uint32(&pk, s->categories);

	pack_cstr(&pk, "store");
	msgpack_pack_map(&pk, 5);
	pack_cstr(&pk, "map_size");
	msgpack_pack_uint64(&pk, s->map_size);
	pack_cstr(&pk, "used_bytes");
	msgpack_pack_uint64(&pk, s->used_bytes);
	pack_cstr(&pk, "map_used");
	msgpack_pack_double(&pk, used);
	pack_cstr(&pk, "readers_used");
	msgpack_pack_uint32(&pk, s->readers_used);
	pack_cstr(&pk, "readers_max");
	msgpack_pack_uint32(&pk, s->readers_max);

	pack_cstr(&pk, "uptime_s");
	msgpack_pack_uint64(&pk, s->uptime_s);

	pack_cstr(&pk, "requests");
	msgpack_pack_map(&pk, XS_OP_COUNT);
	for (int op = 0; op < XS_OP_COUNT; op++) {
		pack_cstr(&pk, xs_op_name((enum xs_op) op));
		msgpack_pack_map(&pk, 2);
		pack_cstr(&pk, "requests");
		msgpack_pack_uint64(&pk, s->ops[op].requests);
		pack_cstr(&pk, "errors");
		msgpack_pack_uint64(&pk, s->ops[op].errors);
	}
	if (s->settings != NULL) {
		pack_settings(&pk, s->settings);
	}
	if (n_kinds != 0) {
		pack_connections(&pk, s);
	}
	if (s->comp_lists.on) {
		pack_comp_lists(&pk, s);
	}
	if (s->wal.on) {
		pack_wal(&pk, s);
	}
	return ctx.err;
}
