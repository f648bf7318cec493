/* SPDX-License-Identifier: MIT */
/* Fire-and-forget events (xselld --pull): a PULL socket whose every
 * message is one "event" request, applied as an acknowledged one is
 * (group commit, --wal) but never answered.
 *
 * With no one to hear an error, every outcome is counted (stats.pull)
 * and the sender's mistakes and the store's refusals are logged, at most
 * one line a second so that a flood of bad messages cannot fill the log.
 *
 * pull0 has no contexts in nng 1.5.2: a few threads each block in
 * nng_recvmsg on the socket, so that messages arriving together share a
 * group commit as the admin workers' writes do. nng's pull0 reads one
 * message per connection until a worker takes it, so what waits in the
 * server is bounded by the connections, which --max-connections caps as
 * on the other sockets. Several workers take one connection's messages,
 * so no order is kept between them, not even on one connection. */
#include "server/server_impl.h"

#include <stdio.h>
#include <string.h>

#define WARN_EVERY_NS 1000000000ull

void
xs_pull_init(struct xs_pull *p)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->warn_mtx, NULL);
}

void
xs_pull_fini(struct xs_pull *p)
{
	/* The rate limit held these back, waiting for a next line. */
	if (p->n_unwarned != 0) {
		xs_log(XS_LOG_WARN,
		    "pull: %llu more messages not applied since the last "
		    "such line (stats.pull)",
		    (unsigned long long) p->n_unwarned);
	}
	pthread_mutex_destroy(&p->warn_mtx);
}

/* Log why a message was not applied: at once if no line was logged in
 * the last second, else only counted for the next line, which says how
 * many went unlogged. */
static void
pull_warn(struct xs_pull *p, xsell_err err, const struct xs_errinfo *ei)
{
	uint64_t now = xs_mono_ns();
	uint64_t n   = 0;

	pthread_mutex_lock(&p->warn_mtx);
	p->n_unwarned++;
	if (p->warned_ns == 0 || now - p->warned_ns >= WARN_EVERY_NS) {
		n             = p->n_unwarned;
		p->n_unwarned = 0;
		p->warned_ns  = now;
	}
	pthread_mutex_unlock(&p->warn_mtx);
	if (n == 0) {
		return;
	}
	xs_log(XS_LOG_WARN,
	    "pull: a message %s (%s: %s%s%s); %llu not applied since the "
	    "last such line (stats.pull)",
	    xs_err_is_senders(err) ? "rejected" : "failed",
	    xsell_err_wire(err), ei->field, ei->field[0] != '\0' ? ": " : "",
	    ei->msg[0] != '\0' ? ei->msg : xsell_strerror(err),
	    (unsigned long long) n);
}

/* Decode body[0..len) as an event request and apply it through the
 * group commit, as handler.c does an acknowledged one; on success *res
 * is its outcome. Errors as a reply would carry them, with 'ei'
 * naming what was wrong: a message over the admin limit, one that does
 * not decode, any op but event (XSELL_EFORBIDDEN: items and
 * forget_user must be acknowledged, and reads need a reply), or the
 * write's own error. */
static xsell_err
pull_apply(struct xs_worker *w, const void *body, size_t len,
    struct xs_apply_result *res, struct xs_errinfo *ei)
{
	struct xs_request   req;
	struct xs_write_job job;
	xsell_err           err;

	memset(&req, 0, sizeof(req));
	xs_arena_reset(&w->arena);
	if (len > XSELL_ADMIN_MSG_MAX) {
		snprintf(ei->field, sizeof(ei->field), "request");
		snprintf(ei->msg, sizeof(ei->msg), "larger than %u bytes",
		    XSELL_ADMIN_MSG_MAX);
		return XSELL_ETOOBIG;
	}
	w->req_body = body; /* a write-ahead log keeps these (wal.c) */
	w->req_len  = len;
	w->req_now  = xs_now_s();
	err = xs_wire_decode(body, len, &w->arena, w->req_now, &req, ei);
	if (err != XSELL_OK) {
		return err;
	}
	if (req.op != XS_OP_event) {
		snprintf(ei->field, sizeof(ei->field), "op");
		snprintf(ei->msg, sizeof(ei->msg),
		    "'%s' is not taken on a pull endpoint, only 'event'",
		    xs_op_name(req.op));
		return XSELL_EFORBIDDEN;
	}
	memset(&job, 0, sizeof(job));
	job.req = &req;
	err     = xs_write_group_run(w, &job);
	if (err == XSELL_OK) {
		*res = job.u.event;
	}
	return err;
}

/* One message dealt with, its outcome counted in 'outcome'. The
 * outcome first: stats reads 'messages' first (xs_pull_stats), so a
 * reader that sees a message counted sees its outcome too. */
static void
pull_done(struct xs_pull *p, atomic_uint_fast64_t *outcome)
{
	atomic_fetch_add(outcome, 1);
	atomic_fetch_add(&p->messages, 1);
}

/* Deal with one message received on w's socket: dropped past the
 * connection limit, applied, rejected or failed, and counted so. */
static void
pull_take(struct xs_worker *w, nng_msg *msg)
{
	struct xs_pull        *p   = &w->srv->pull;
	struct xs_errinfo      ei  = { { 0 }, { 0 } };
	struct xs_apply_result res = { 0, 0 };
	uint32_t  pipe = (uint32_t) nng_pipe_id(nng_msg_get_pipe(msg));
	bool      trial;
	xsell_err err;

	/* A connection past the limit (or muted, which a pull connection
	 * never is: nothing is sent on it) has no one to tell: its
	 * message is dropped unread. The connection limit logs. */
	if (xs_conn_limit_check(&w->srv->pull_limit, pipe, xs_mono_ns(),
	        &trial) != XS_PIPE_SERVE) {
		pull_done(p, &p->refused);
		return;
	}
	err = pull_apply(w, nng_msg_body(msg), nng_msg_len(msg), &res, &ei);
	if (err == XSELL_OK) {
		atomic_fetch_add(&p->events, res.applied);
		atomic_fetch_add(&p->duplicates, res.duplicates);
		pull_done(p, &p->applied);
		return;
	}
	pull_done(p, xs_err_is_senders(err) ? &p->rejected : &p->failed);
	pull_warn(p, err, &ei);
}

void *
xs_pull_main(void *arg)
{
	struct xs_worker *w = arg;

	/* A message received after the stop began is still applied: it
	 * is in hand. Those still in nng's buffers at the close are
	 * lost, which PROTOCOL.md says. */
	while (!atomic_load(&w->srv->stopping)) {
		nng_msg *msg;
		int      rv;

		/* No timeout: a stop cancels the receive (server.c). */
		nng_recv_aio(w->srv->pull_sock, w->recv_aio);
		nng_aio_wait(w->recv_aio);
		rv = nng_aio_result(w->recv_aio);
		if (rv != 0) {
			if (!xs_worker_recv_failed(w, rv)) {
				break;
			}
			continue;
		}
		msg = nng_aio_get_msg(w->recv_aio);
		nng_aio_set_msg(w->recv_aio, NULL);
		pull_take(w, msg);
		nng_msg_free(msg);
	}
	xs_worker_stopped(w);
	return NULL;
}

void
xs_pull_stats(struct xs_pull *p, struct xs_stats *s)
{
	s->pull.on = true;
	/* First: each outcome is counted before its message (pull_done). */
	s->pull.messages   = atomic_load(&p->messages);
	s->pull.applied    = atomic_load(&p->applied);
	s->pull.events     = atomic_load(&p->events);
	s->pull.duplicates = atomic_load(&p->duplicates);
	s->pull.rejected   = atomic_load(&p->rejected);
	s->pull.refused    = atomic_load(&p->refused);
	s->pull.failed     = atomic_load(&p->failed);
}
