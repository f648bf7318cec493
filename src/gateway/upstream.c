/* SPDX-License-Identifier: MIT */
/* A pool of nng REQ contexts on one xselld endpoint.
 *
 * One req0 socket, 'pool' contexts, each with its own aio: a context
 * carries one request at a time, so the pool bounds what the gateway
 * asks of xselld at once. A call that finds no free context waits in a
 * FIFO of at most 'queue' calls; beyond that it fails at once (503), so
 * a flood costs bounded memory.
 *
 * Every call has two deadlines, because a failure before the send and
 * one after it mean different things to a client. Until a connection
 * takes the request (send_by: the wait and the send), a failure means
 * xselld never saw it; after (reply_by), xselld may have acted on it,
 * and for a write only its reply can say whether. The caller picks
 * both (http.c: a write waits long for its reply). A call still waiting
 * for a context at its send_by fails then (a timer per upstream), not
 * when a context frees: the contexts may all be busy with writes that
 * wait minutes for their replies.
 *
 * As in the client library, a request is never resent, on a timer or
 * after a reconnect (a resent "event" batch could be applied twice):
 * with resending off, nng 1.5.2 fails the receive of a request whose
 * connection broke with NNG_ECONNRESET at once. */
#include "gateway/gateway_impl.h"

#include <stdlib.h>

#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>

#include "common/common.h"
#include "gateway/gateway.h"

struct slot {
	struct xs_gw_upstream *up;
	nng_ctx                ctx;
	nng_aio               *aio;
	struct xs_gw_call     *call;    /* in flight, or NULL */
	bool                   sending; /* the aio is a send, else a recv */
	struct slot           *next;    /* free list link */
};

struct xs_gw_upstream {
	nng_socket         sock;
	nng_mtx           *mtx;
	struct slot       *slots;
	unsigned           n_slots;
	struct slot       *free;   /* idle slots */
	struct xs_gw_call *head;   /* waiting calls, oldest first */
	struct xs_gw_call *tail;   /* last waiting call */
	unsigned           queued; /* calls waiting */
	unsigned           queue_max;
	bool               closed; /* no new calls */
	nng_aio           *timer;  /* fails waiting calls at their send_by */
	bool               timer_armed;
};

static void slot_cb(void *arg);
static void timer_cb(void *arg);

/* ==== Completion ==== */

static void
call_fail(struct xs_gw_call *call, xsell_err err)
{
	if (call->req != NULL) {
		nng_msg_free(call->req);
		call->req = NULL;
	}
	call->cb(call, err, NULL);
}

/* The aio timeout that ends at 'deadline'; zero once it has passed. */
static nng_duration
timeout_until(nng_time deadline)
{
	nng_time now = nng_clock();

	return deadline > now ? (nng_duration) (deadline - now)
	                      : NNG_DURATION_ZERO;
}

/* Under up->mtx: have the timer fire at the send_by of the oldest
 * waiting call, unless it is set already. Every call of an upstream has
 * the same --timeout, so the oldest call's send_by is the first. */
static void
timer_arm(struct xs_gw_upstream *up)
{
	if (up->timer_armed || up->closed || up->head == NULL) {
		return;
	}
	up->timer_armed = true;
	nng_sleep_aio(timeout_until(up->head->send_by), up->timer);
}

/* Fail the waiting calls whose send_by has come: no context took them
 * in time, so xselld never saw them. */
static void
timer_cb(void *arg)
{
	struct xs_gw_upstream *up      = arg;
	struct xs_gw_call     *expired = NULL;
	struct xs_gw_call    **tail    = &expired;
	nng_time               now     = nng_clock();

	nng_mtx_lock(up->mtx);
	up->timer_armed = false;
	while (!up->closed && up->head != NULL && up->head->send_by <= now) {
		struct xs_gw_call *call = up->head;

		up->head = call->next;
		if (up->head == NULL) {
			up->tail = NULL;
		}
		up->queued--;
		call->next = NULL;
		*tail      = call;
		tail       = &call->next;
	}
	timer_arm(up);
	nng_mtx_unlock(up->mtx);
	while (expired != NULL) {
		struct xs_gw_call *next = expired->next;

		call_fail(expired, XSELL_EUNAVAIL);
		expired = next;
	}
}

/* Start 'call' on the idle slot 's' (no lock held). */
static void
slot_start(struct slot *s, struct xs_gw_call *call)
{
	s->call    = call;
	s->sending = true;
	nng_aio_set_msg(s->aio, call->req);
	call->req = NULL;
	/* A call whose send_by passed while it waited still goes through
	 * the aio with a zero timeout, so that it ends in slot_cb like
	 * every other. */
	nng_aio_set_timeout(s->aio, timeout_until(call->send_by));
	nng_ctx_send(s->ctx, s->aio);
}

/* The slot's call ended: report it, then take the next waiting call or
 * go idle. */
static void
slot_done(struct slot *s, xsell_err err, nng_msg *msg)
{
	struct xs_gw_upstream *up   = s->up;
	struct xs_gw_call     *call = s->call;
	struct xs_gw_call     *next;

	s->call = NULL;
	call->cb(call, err, msg);

	nng_mtx_lock(up->mtx);
	next = up->closed ? NULL : up->head;
	if (next != NULL) {
		up->head = next->next;
		if (up->head == NULL) {
			up->tail = NULL;
		}
		up->queued--;
	} else {
		s->next  = up->free;
		up->free = s;
	}
	nng_mtx_unlock(up->mtx);
	if (next != NULL) {
		slot_start(s, next);
	}
}

static void
slot_cb(void *arg)
{
	struct slot *s  = arg;
	int          rv = nng_aio_result(s->aio);
	nng_msg     *msg;

	if (s->sending) {
		if (rv != 0) {
			/* A failed send leaves the message with us: no
			 * connection took it. */
			msg = nng_aio_get_msg(s->aio);
			if (msg != NULL) {
				nng_msg_free(msg);
			}
			nng_aio_set_msg(s->aio, NULL);
			slot_done(s,
			    rv == NNG_ENOMEM ? XSELL_ENOMEM : XSELL_EUNAVAIL,
			    NULL);
			return;
		}
		s->sending = false;
		nng_aio_set_timeout(s->aio, timeout_until(s->call->reply_by));
		nng_ctx_recv(s->ctx, s->aio);
		return;
	}
	if (rv != 0) {
		/* Sent, whatever ended the wait (the deadline, a broken
		 * connection, the socket closed, even ENOMEM): xselld may
		 * have the request. */
		slot_done(s, XSELL_ENOREPLY, NULL);
		return;
	}
	msg = nng_aio_get_msg(s->aio);
	nng_aio_set_msg(s->aio, NULL);
	slot_done(s, XSELL_OK, msg);
}

/* ==== Calls ==== */

void
xs_gw_upstream_call(xs_gw_upstream *up, struct xs_gw_call *call)
{
	struct slot *s = NULL;

	call->next     = NULL;
	call->overload = false;
	nng_mtx_lock(up->mtx);
	if (up->closed) {
		nng_mtx_unlock(up->mtx);
		call_fail(call, XSELL_EUNAVAIL);
		return;
	}
	if (up->free != NULL) {
		s        = up->free;
		up->free = s->next;
	} else if (up->queued < up->queue_max) {
		if (up->tail != NULL) {
			up->tail->next = call;
		} else {
			up->head = call;
		}
		up->tail = call;
		up->queued++;
		timer_arm(up);
	} else {
		call->overload = true;
	}
	nng_mtx_unlock(up->mtx);
	if (s != NULL) {
		slot_start(s, call);
	} else if (call->overload) {
		call_fail(call, XSELL_EUNAVAIL);
	}
}

/* ==== Open and close ==== */

static int
slots_open(xs_gw_upstream *up)
{
	int rv;

	for (unsigned i = 0; i < up->n_slots; i++) {
		struct slot *s = &up->slots[i];

		s->up = up;
		rv    = nng_aio_alloc(&s->aio, slot_cb, s);
		if (rv != 0) {
			return rv;
		}
		rv = nng_ctx_open(&s->ctx, up->sock);
		if (rv != 0) {
			return rv;
		}
		rv = nng_ctx_set_ms(
		    s->ctx, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
		if (rv != 0) {
			return rv;
		}
		s->next  = up->free;
		up->free = s;
	}
	return 0;
}

static xsell_err
err_from_nng(int rv)
{
	switch (rv) {
	case NNG_ENOMEM:
		return XSELL_ENOMEM;
	case NNG_EINVAL:
	case NNG_EADDRINVAL:
	case NNG_ENOTSUP:
		return XSELL_EINVAL;
	default:
		return XSELL_EUNAVAIL;
	}
}

xsell_err
xs_gw_upstream_open(
    xs_gw_upstream **upp, const char *url, unsigned pool, unsigned queue)
{
	xs_gw_upstream *up;
	int             rv;

	up = calloc(1, sizeof(*up));
	if (up == NULL) {
		return XSELL_ENOMEM;
	}
	up->slots = calloc(pool, sizeof(*up->slots));
	if (up->slots == NULL) {
		free(up);
		return XSELL_ENOMEM;
	}
	up->n_slots   = pool;
	up->queue_max = queue;
	rv            = nng_mtx_alloc(&up->mtx);
	if (rv != 0) {
		free(up->slots);
		free(up);
		return err_from_nng(rv);
	}
	rv = nng_req0_open(&up->sock);
	if (rv != 0) {
		nng_mtx_free(up->mtx);
		free(up->slots);
		free(up);
		return err_from_nng(rv);
	}
	/* From here on xs_gw_upstream_close() undoes everything. */
	rv = nng_socket_set_size(
	    up->sock, NNG_OPT_RECVMAXSZ, (size_t) XS_GW_REPLY_MAX);
	if (rv == 0) {
		rv = nng_aio_alloc(&up->timer, timer_cb, up);
	}
	if (rv == 0) {
		rv = slots_open(up);
	}
	if (rv == 0) {
		/* In the background: the gateway may start before xselld,
		 * and nng keeps reconnecting while it is away. */
		rv = nng_dial(up->sock, url, NULL, NNG_FLAG_NONBLOCK);
	}
	if (rv != 0) {
		xs_log(XS_LOG_ERROR, "upstream %s: %s", url, nng_strerror(rv));
		xs_gw_upstream_close(up);
		return err_from_nng(rv);
	}
	*upp = up;
	return XSELL_OK;
}

void
xs_gw_upstream_stop(xs_gw_upstream *up)
{
	struct xs_gw_call *waiting;

	if (up == NULL) {
		return;
	}
	nng_mtx_lock(up->mtx);
	if (up->closed) {
		nng_mtx_unlock(up->mtx);
		return;
	}
	up->closed = true;
	waiting    = up->head;
	up->head   = NULL;
	up->tail   = NULL;
	up->queued = 0;
	nng_mtx_unlock(up->mtx);
	while (waiting != NULL) {
		struct xs_gw_call *next = waiting->next;

		call_fail(waiting, XSELL_EUNAVAIL);
		waiting = next;
	}
	/* The timer finds the upstream closed and the queue empty. */
	if (up->timer != NULL) {
		nng_aio_stop(up->timer);
	}
	/* Closing the socket completes every aio in flight with
	 * NNG_ECLOSED; nng_aio_stop waits for those callbacks. */
	nng_close(up->sock);
	for (unsigned i = 0; i < up->n_slots; i++) {
		if (up->slots[i].aio != NULL) {
			nng_aio_stop(up->slots[i].aio);
		}
	}
}

void
xs_gw_upstream_close(xs_gw_upstream *up)
{
	if (up == NULL) {
		return;
	}
	xs_gw_upstream_stop(up);
	if (up->timer != NULL) {
		nng_aio_free(up->timer);
	}
	for (unsigned i = 0; i < up->n_slots; i++) {
		if (up->slots[i].aio != NULL) {
			nng_aio_free(up->slots[i].aio);
		}
	}
	nng_mtx_free(up->mtx);
	free(up->slots);
	free(up);
}
