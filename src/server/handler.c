/* SPDX-License-Identifier: MIT */
/* One request, one reply: limits, decode, permission, the op's handler,
 * encode. Every failure becomes an error reply naming what was wrong; a
 * write either commits whole or leaves the store untouched. */
#include "server/server_impl.h"

#include <stdio.h>
#include <string.h>

typedef xsell_err (*op_handler)(struct xs_worker *w,
    const struct xs_request *req, struct xs_buf *out, struct xs_errinfo *ei);

/* ==== Writes ==== */

/* Writes go through the group commit (group.c). */
static xsell_err
handle_event(struct xs_worker *w, const struct xs_request *req,
    struct xs_buf *out, struct xs_errinfo *ei)
{
	struct xs_write_job job = { .req = req };
	xsell_err           err = xs_write_group_run(w, &job);

	(void) ei;
	if (err != XSELL_OK) {
		return err;
	}
	return xs_wire_reply_event(out, req, &job.u.event);
}

static xsell_err
handle_items(struct xs_worker *w, const struct xs_request *req,
    struct xs_buf *out, struct xs_errinfo *ei)
{
	struct xs_write_job job = { .req = req };
	xsell_err           err = xs_write_group_run(w, &job);

	(void) ei;
	if (err != XSELL_OK) {
		return err;
	}
	return xs_wire_reply_items(out, req, req->u.items.n);
}

/* ==== Reads ==== */

static enum xs_scorer
default_scorer(const struct xs_settings *set, enum xs_op op)
{
	switch (op) {
	case XS_OP_similar:
		return set->similar_scorer;
	case XS_OP_viewed_bought:
		return set->viewed_bought_scorer;
	default:
		return set->fbt_scorer;
	}
}

/* A read snapshot of the store for w's request. w keeps its read
 * transaction between requests, reset: renewing it reuses its reader
 * slot and memory, where a begin took the reader table's lock and
 * allocated, and an abort gave both back. One that does not renew (the
 * map grew) is dropped and a new one begun. */
static xsell_err
read_begin(struct xs_worker *w, MDB_txn **txnp)
{
	xsell_err err = XSELL_OK;

	if (w->rtxn != NULL && xs_txn_renew(w->rtxn) != XSELL_OK) {
		xs_txn_abort(w->rtxn);
		w->rtxn = NULL;
	}
	if (w->rtxn == NULL) {
		err = xs_txn_read(w->srv->store, &w->rtxn);
	}
	*txnp = w->rtxn;
	return err;
}

/* The end of w's read: its snapshot released, the transaction kept. */
static void
read_end(struct xs_worker *w)
{
	xs_txn_reset(w->rtxn);
}

/* A list answer from one read snapshot. */
static xsell_err
handle_list(struct xs_worker *w, const struct xs_request *req,
    struct xs_buf *out,
    xsell_err (*answer)(xs_store *, MDB_txn *, const struct xs_settings *,
        const struct xs_query *, struct xs_arena *, struct xs_answer *))
{
	struct xs_query  q = req->u.query.q;
	struct xs_answer ans;
	MDB_txn         *txn;
	xsell_err        err;

	if (!req->u.query.scorer_given) {
		q.scorer = default_scorer(&w->srv->settings, req->op);
	}
	err = read_begin(w, &txn);
	if (err != XSELL_OK) {
		return err;
	}
	err =
	    answer(w->srv->store, txn, &w->srv->settings, &q, &w->arena, &ans);
	/* The answer borrows ids from the snapshot: encode before ending. */
	if (err == XSELL_OK) {
		err = xs_wire_reply_list(out, req, &q, &ans, q.explain);
	}
	read_end(w);
	return err;
}

/* The list answers: each op's handler is handle_list with its model
 * function. */
#define LIST_HANDLER(op, answer)                              \
	static xsell_err handle_##op(struct xs_worker *w,     \
	    const struct xs_request *req, struct xs_buf *out, \
	    struct xs_errinfo *ei)                            \
	{                                                     \
		(void) ei;                                    \
		return handle_list(w, req, out, answer);      \
	}

LIST_HANDLER(fbt, xs_model_fbt)
LIST_HANDLER(complements, xs_model_complements)
LIST_HANDLER(similar, xs_model_similar)
LIST_HANDLER(viewed_bought, xs_model_viewed_bought)
LIST_HANDLER(trending, xs_model_trending)
LIST_HANDLER(picks, xs_model_picks)
#undef LIST_HANDLER

static xsell_err
handle_history(struct xs_worker *w, const struct xs_request *req,
    struct xs_buf *out, struct xs_errinfo *ei)
{
	struct xs_history h;
	MDB_txn          *txn;
	xsell_err         err;

	(void) ei;
	err = read_begin(w, &txn);
	if (err != XSELL_OK) {
		return err;
	}
	err = xs_model_history(
	    w->srv->store, txn, &req->u.query.q, &w->arena, &h);
	if (err == XSELL_OK) {
		err = xs_wire_reply_history(out, req, &h);
	}
	read_end(w);
	return err;
}

static xsell_err
handle_forget_user(struct xs_worker *w, const struct xs_request *req,
    struct xs_buf *out, struct xs_errinfo *ei)
{
	struct xs_write_job      job = { .req = req };
	struct xs_forget_result *res = &job.u.forget;
	xsell_err                err = xs_write_group_run(w, &job);

	(void) ei;
	if (err != XSELL_OK) {
		return err;
	}
	if (res->found) {
		xs_log(XS_LOG_INFO, "forgot a user: %llu events, %llu orders",
		    (unsigned long long) res->events,
		    (unsigned long long) res->orders);
	}
	return xs_wire_reply_forget(out, req, res);
}

static xsell_err
stats_gather(struct xs_server *srv, struct xs_stats *s)
{
	struct xs_totals     tot;
	struct xs_store_info info;
	MDB_txn             *txn;
	xsell_err            err;

	memset(s, 0, sizeof(*s));
	/* Before the snapshot: a pull message counted as applied was
	 * committed before it was counted, so the counts read below hold
	 * its events (read after, a commit between could leave them out). */
	if (srv->has_pull) {
		xs_pull_stats(&srv->pull, s);
	}
	err = xs_txn_read(srv->store, &txn);
	if (err != XSELL_OK) {
		return err;
	}
	err = xs_store_totals_get(srv->store, txn, &tot);
	if (err == XSELL_OK) {
		err = xs_store_dict_count(
		    srv->store, txn, XS_DICT_ITEM, &s->items);
	}
	if (err == XSELL_OK) {
		err = xs_store_dict_count(
		    srv->store, txn, XS_DICT_USER, &s->users);
	}
	if (err == XSELL_OK) {
		err = xs_store_dict_count(
		    srv->store, txn, XS_DICT_CAT, &s->categories);
	}
	xs_txn_abort(txn);
	if (err == XSELL_OK) {
		err = xs_store_info_get(srv->store, &info);
	}
	if (err != XSELL_OK) {
		return err;
	}
	s->version          = XSELL_VERSION;
	s->orders           = tot.orders;
	s->baskets          = tot.baskets;
	s->events           = tot.events;
	s->map_size         = info.map_size;
	s->used_bytes       = info.used_bytes;
	s->free_bytes       = info.free_bytes;
	s->readers_used     = info.readers_used;
	s->readers_max      = info.readers_max;
	s->memo_items       = info.memo_items;
	s->memo_bytes       = info.memo_bytes;
	s->memo_budget      = info.memo_budget;
	s->memo_hits        = info.memo_hits;
	s->memo_misses      = info.memo_misses;
	s->item_cache_bytes = info.item_cache_bytes;
	s->index_bytes      = info.index_bytes;
	s->uptime_s         = (xs_mono_ns() - srv->started_ns) / 1000000000u;
	s->settings         = &srv->settings;
	for (int op = 0; op < XS_OP_COUNT; op++) {
		s->ops[op].requests = atomic_load(&srv->ops[op].requests);
		s->ops[op].errors   = atomic_load(&srv->ops[op].errors);
	}
	if (srv->has_read) {
		xs_conn_limit_read(&srv->read_limit, &s->conns[0]);
	}
	if (srv->has_admin) {
		xs_conn_limit_read(&srv->admin_limit, &s->conns[1]);
	}
	if (srv->has_pull) {
		xs_conn_limit_read(&srv->pull_limit, &s->conns[2]);
	}
	s->comp_lists.on       = atomic_load(&srv->refresher.started);
	s->comp_lists.items    = atomic_load(&srv->refresher.items);
	s->comp_lists.due      = atomic_load(&srv->refresher.due);
	s->comp_lists.computed = atomic_load(&srv->refresher.computed);
	if (srv->wal != NULL) {
		xs_wal_stats(srv->wal, s);
	}
	return XSELL_OK;
}

static xsell_err
handle_stats(struct xs_worker *w, const struct xs_request *req,
    struct xs_buf *out, struct xs_errinfo *ei)
{
	struct xs_stats s;
	xsell_err       err;

	(void) ei;
	err = stats_gather(w->srv, &s);
	if (err != XSELL_OK) {
		return err;
	}
	return xs_wire_reply_stats(out, req, &s);
}

static const op_handler op_handlers[XS_OP_COUNT] = {
#define XS_OP(name, is_write) [XS_OP_##name] = handle_##name,
#include "wire/ops.def"
#undef XS_OP
};

/* ==== Dispatch ==== */

static size_t
request_limit(const struct xs_worker *w)
{
	return w->admin ? XSELL_ADMIN_MSG_MAX : XSELL_READ_MSG_MAX;
}

static void
reply_error(struct xs_worker *w, const struct xs_request *req, xsell_err err,
    const struct xs_errinfo *ei, struct xs_buf *out)
{
	xs_buf_reset(out);
	if (xs_wire_reply_error(out, req, err, ei) != XSELL_OK) {
		/* Only memory can fail it: a reply has room for the
		 * request's id and more (server.c, reply_max); if it does,
		 * an empty reply is still better than none. */
		xs_buf_reset(out);
		xs_log(XS_LOG_ERROR, "could not encode an error reply");
	}
	(void) w;
}

/* Clear what the last request left in 'w' and 'out', and *req. */
static void
request_begin(struct xs_worker *w, struct xs_request *req, struct xs_buf *out)
{
	memset(req, 0, sizeof(*req));
	xs_buf_reset(out);
	xs_arena_reset(&w->arena);
	w->reply_withheld = false;
}

/* A request too large or that does not decode: counted under "invalid"
 * (it has no op), and refused with 'err'. */
static void
reply_invalid(struct xs_worker *w, const struct xs_request *req, xsell_err err,
    const struct xs_errinfo *ei, struct xs_buf *out)
{
	atomic_fetch_add(&w->srv->invalid.requests, 1);
	atomic_fetch_add(&w->srv->invalid.errors, 1);
	reply_error(w, req, err, ei, out);
}

void
xs_server_handle(
    struct xs_worker *w, const void *body, size_t len, struct xs_buf *out)
{
	struct xs_request req;
	struct xs_errinfo ei = { { 0 }, { 0 } };
	xsell_err         err;

	request_begin(w, &req, out);
	if (len > request_limit(w)) {
		snprintf(ei.field, sizeof(ei.field), "request");
		snprintf(ei.msg, sizeof(ei.msg), "larger than %zu bytes",
		    request_limit(w));
		reply_invalid(w, &req, XSELL_ETOOBIG, &ei, out);
		return;
	}
	w->req_body = body; /* a write-ahead log keeps these (wal.c) */
	w->req_len  = len;
	w->req_now  = xs_now_s();
	err = xs_wire_decode(body, len, &w->arena, w->req_now, &req, &ei);
	if (err != XSELL_OK) {
		reply_invalid(w, &req, err, &ei, out);
		return;
	}
	atomic_fetch_add(&w->srv->ops[req.op].requests, 1);
	if (xs_op_is_write(req.op) && !w->admin) {
		snprintf(ei.field, sizeof(ei.field), "op");
		snprintf(ei.msg, sizeof(ei.msg),
		    "'%s' writes; send it to an admin endpoint",
		    xs_op_name(req.op));
		err = XSELL_EFORBIDDEN;
	} else {
		ei.field[0] = '\0';
		ei.msg[0]   = '\0';
		err         = op_handlers[req.op](w, &req, out, &ei);
	}
	if (err != XSELL_OK) {
		atomic_fetch_add(&w->srv->ops[req.op].errors, 1);
		/* A withheld reply's reason is logged where it is known. */
		if (!xs_err_is_senders(err) && !w->reply_withheld) {
			xs_log(XS_LOG_WARN, "%s: %s", xs_op_name(req.op),
			    xsell_strerror(err));
		}
		reply_error(w, &req, err, ei.msg[0] ? &ei : NULL, out);
	}
}

bool
xs_err_is_senders(xsell_err err)
{
	return err == XSELL_EINVAL || err == XSELL_ETOOBIG ||
	    err == XSELL_EFORBIDDEN;
}

void
xs_server_refuse(
    struct xs_worker *w, const void *body, size_t len, struct xs_buf *out)
{
	struct xs_request req;
	struct xs_errinfo ei = { { 0 }, { 0 } };
	xsell_err         err;

	request_begin(w, &req, out);
	/* Decoded only for its id (and so counted under its op); a request
	 * that does not decode gets its own error, as anywhere. */
	err = len > request_limit(w)
	    ? XSELL_ETOOBIG
	    : xs_wire_decode(body, len, &w->arena, xs_now_s(), &req, &ei);
	if (err != XSELL_OK) {
		reply_invalid(w, &req, err, ei.msg[0] ? &ei : NULL, out);
		return;
	}
	atomic_fetch_add(&w->srv->ops[req.op].requests, 1);
	atomic_fetch_add(&w->srv->ops[req.op].errors, 1);
	snprintf(ei.msg, sizeof(ei.msg), "%s",
	    "the server is at its connection limit; retry later");
	reply_error(w, &req, XSELL_EUNAVAIL, &ei, out);
}
