/* SPDX-License-Identifier: MIT */
/* The connection limit of one socket, which is what overload means for
 * xselld. nng keeps at most one unread request per connection in the
 * REP socket (it stops reading a connection until a worker takes its
 * request), so the requests waiting in the server, and the memory they
 * hold, are bounded by the number of connections. Capping connections
 * therefore bounds the queue: a connection that arrives while 'max' are
 * served "waits": each of its requests gets `unavailable` at once, with
 * no store work, until one served goes; then its next request is
 * served. At most XS_WAITING_MAX wait; a connection past those is
 * closed as soon as it is made, before nng starts it.
 *
 * A connection that leaves a reply unread for the send timeout is muted:
 * its requests are read and dropped, with no work and no reply, for
 * MUTE_FIRST_NS, then one is tried (served, or refused while it
 * waits, as any other: xs_conn_limit_check's *trialp); if its reply
 * leaves, the connection is served again, else it is muted twice as
 * long. So a client that stalls gets its answers back once it reads,
 * and one that never reads costs a worker one send timeout per period.
 *
 * xselld never closes a connection that nng has started: hanging up is
 * left to the client. In libnng 1.5.2, Debian 12's, a
 * pipe closed while its transport is between two reads of a message,
 * or two writes of one, leaves the protocol's receive or send aio
 * unfinished (the transport re-arms an aio that the close has stopped,
 * which nng 1.5.2 ignores without a callback: nng PR #1636), and the
 * pipe's teardown waits for it for ever in nng's one reaper thread: no
 * connection is torn down again, each one that ends keeps its
 * descriptor, and every new client hears "unavailable". No silence
 * rule avoids that: a client that pipelines can have a message in
 * nng's hands that no worker has seen yet. test_server_overload hung so
 * in about one run in ten while xselld closed muted and silent
 * connections itself.
 *
 * The open connections are a set of pipe ids (open addressing, at least
 * twice as many slots as connections), not a count: nng 1.5.2 reports
 * NNG_PIPE_EV_REM_POST also for a pipe closed at NNG_PIPE_EV_ADD_PRE
 * (measured; its manual says otherwise), so only the id tells whether a
 * pipe that goes was one of those counted. */
#include "server/server_impl.h"

#include <stdlib.h>
#include <string.h>

#define WARN_EVERY_NS (10ull * 1000000000ull)
/* How long a muted connection's requests are dropped the first time; it
 * doubles each time the connection is muted again, up to 2^MUTES_MAX
 * times as long. */
#define MUTE_FIRST_NS (5ull * 1000000000ull)
#define MUTES_MAX 6

static void
limit_lock(struct xs_conn_limit *l)
{
	pthread_mutex_lock(&l->mtx);
}

static void
limit_unlock(struct xs_conn_limit *l)
{
	pthread_mutex_unlock(&l->mtx);
}

/* ==== The set of open pipes ==== */

/* Linear probing; 0 is never a pipe id, so it marks a free slot. */
static size_t
conn_home(const struct xs_conn_limit *l, uint32_t id)
{
	return (size_t) (id * 2654435761u) & (l->n_slots - 1);
}

/* The slot of pipe 'id', or NULL. Under the lock. */
static struct xs_conn_slot *
conn_find(struct xs_conn_limit *l, uint32_t id)
{
	size_t i = conn_home(l, id);

	while (l->conns[i].id != id) {
		if (l->conns[i].id == 0) {
			return NULL;
		}
		i = (i + 1) & (l->n_slots - 1);
	}
	return &l->conns[i];
}

/* Under the lock; the set has room (n_slots > 2 × what it holds). */
static void
conn_add(struct xs_conn_limit *l, uint32_t id, uint8_t flags)
{
	size_t i = conn_home(l, id);

	while (l->conns[i].id != 0) {
		i = (i + 1) & (l->n_slots - 1);
	}
	l->conns[i] = (struct xs_conn_slot) { .id = id, .flags = flags };
	if (flags & XS_CONN_WAITING) {
		l->n_waiting++;
	} else {
		l->n_served++;
	}
}

/* Remove 'id' if it is in the set (a pipe closed before nng started it
 * never was). Later entries of its cluster move back, so that lookups
 * need no tombstones. */
static void
conn_del(struct xs_conn_limit *l, uint32_t id)
{
	size_t               mask = l->n_slots - 1;
	struct xs_conn_slot *s    = conn_find(l, id);
	size_t               i;

	if (s == NULL) {
		return;
	}
	if (s->flags & XS_CONN_WAITING) {
		l->n_waiting--;
	} else {
		l->n_served--;
	}
	i = (size_t) (s - l->conns);
	for (size_t j = (i + 1) & mask; l->conns[j].id != 0;
	     j        = (j + 1) & mask) {
		size_t h = conn_home(l, l->conns[j].id);

		/* Move conns[j] into the hole at i unless its home lies
		 * cyclically in (i, j]. */
		if (((j - h) & mask) >= ((j - i) & mask)) {
			l->conns[i] = l->conns[j];
			i           = j;
		}
	}
	l->conns[i] = (struct xs_conn_slot) { 0 };
}

/* What a connection past the limit meets, for the log: a pull socket
 * sends nothing, so its messages are dropped (and counted, pull.c). */
static const char *
refusal(const struct xs_conn_limit *l)
{
	return strcmp(l->name, "pull") == 0 ? "their messages dropped"
	                                    : "\"unavailable\"";
}

bool
xs_conn_limit_admit(struct xs_conn_limit *l, uint32_t pipe, uint64_t now)
{
	bool     admitted = true;
	uint64_t warn_n   = 0;

	limit_lock(l);
	if (l->n_served < l->max) {
		conn_add(l, pipe, 0);
	} else {
		if (l->n_waiting < XS_WAITING_MAX) {
			conn_add(l, pipe, XS_CONN_WAITING);
		} else {
			admitted = false;
		}
		l->n_over++;
		l->n_refused_total++;
		/* One log line per WARN_EVERY_NS at most, however hard
		 * the flood. */
		if (l->warned_ns == 0 || now - l->warned_ns >= WARN_EVERY_NS) {
			warn_n       = l->n_over;
			l->n_over    = 0;
			l->warned_ns = now;
		}
	}
	limit_unlock(l);
	if (warn_n != 0) {
		xs_log(XS_LOG_WARN,
		    "%s endpoints at their limit of %u connections: %llu "
		    "more refused (%s) since the last report",
		    l->name, l->max, (unsigned long long) warn_n, refusal(l));
	}
	return admitted;
}

void
xs_conn_limit_leave(struct xs_conn_limit *l, uint32_t pipe)
{
	limit_lock(l);
	conn_del(l, pipe);
	limit_unlock(l);
}

static void
pipe_event_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	uint32_t id = (uint32_t) nng_pipe_id(p);

	/* Not started yet, so nothing of it is in flight: closing it is
	 * safe (see the top). */
	if (ev == NNG_PIPE_EV_ADD_PRE &&
	    !xs_conn_limit_admit(arg, id, xs_mono_ns())) {
		nng_pipe_close(p);
	} else if (ev == NNG_PIPE_EV_REM_POST) {
		xs_conn_limit_leave(arg, id);
	}
}

xsell_err
xs_conn_limit_init(
    struct xs_conn_limit *l, nng_socket sock, unsigned max, const char *name)
{
	int rv;

	memset(l, 0, sizeof(*l));
	l->max     = max;
	l->name    = name;
	l->n_slots = 2;
	while (l->n_slots < 2 * ((size_t) max + XS_WAITING_MAX)) {
		l->n_slots *= 2;
	}
	l->conns = calloc(l->n_slots, sizeof(*l->conns));
	if (l->conns == NULL) {
		return XSELL_ENOMEM;
	}
	if (pthread_mutex_init(&l->mtx, NULL) != 0) {
		return XSELL_ENOMEM;
	}
	l->has_mtx = true;
	rv = nng_pipe_notify(sock, NNG_PIPE_EV_ADD_PRE, pipe_event_cb, l);
	if (rv == 0) {
		rv = nng_pipe_notify(
		    sock, NNG_PIPE_EV_REM_POST, pipe_event_cb, l);
	}
	if (rv != 0) {
		xs_log(XS_LOG_ERROR, "pipe notify: %s", nng_strerror(rv));
		return XSELL_EIO;
	}
	return XSELL_OK;
}

void
xs_conn_limit_fini(struct xs_conn_limit *l)
{
	if (l->has_mtx) {
		pthread_mutex_destroy(&l->mtx);
		l->has_mtx = false;
	}
	free(l->conns);
	l->conns = NULL;
}

/* The verdict for a request on the open connection in 's' at 'now';
 * *trialp set when it is a muted connection's try. Under the lock. */
static enum xs_pipe_verdict
slot_verdict(struct xs_conn_limit *l, struct xs_conn_slot *s, uint64_t now,
    bool *trialp)
{
	if (s->flags & XS_CONN_MUTED) {
		/* One request at a time is tried, once the time is up:
		 * a client that reads again gets its answers back. */
		if ((s->flags & XS_CONN_TRIAL) || now < s->mute_until) {
			l->n_dropped++;
			return XS_PIPE_DROP;
		}
		s->flags |= XS_CONN_TRIAL;
		*trialp = true;
	}
	if (!(s->flags & XS_CONN_WAITING)) {
		return XS_PIPE_SERVE;
	}
	/* A waiting connection's try is refused like its other requests
	 * while there is no room: its reply still shows that it reads. */
	if (l->n_served >= l->max) {
		return XS_PIPE_REFUSE;
	}
	/* Room now: served from this request on. */
	s->flags &= (uint8_t) ~XS_CONN_WAITING;
	l->n_waiting--;
	l->n_served++;
	return XS_PIPE_SERVE;
}

enum xs_pipe_verdict
xs_conn_limit_check(
    struct xs_conn_limit *l, uint32_t pipe, uint64_t now, bool *trialp)
{
	enum xs_pipe_verdict v = XS_PIPE_SERVE;
	struct xs_conn_slot *s;

	*trialp = false;
	limit_lock(l);
	/* A pipe not in the set went since nng read its request: its
	 * reply goes nowhere, and serving it costs nothing more. */
	s = conn_find(l, pipe);
	if (s != NULL) {
		v = slot_verdict(l, s, now, trialp);
	}
	limit_unlock(l);
	return v;
}

bool
xs_conn_limit_mute(struct xs_conn_limit *l, uint32_t pipe, uint64_t now)
{
	struct xs_conn_slot *s;
	bool                 first = false;

	limit_lock(l);
	s = conn_find(l, pipe);
	if (s != NULL) {
		bool muted = s->flags & XS_CONN_MUTED;

		/* A second worker timing out on the same stall finds the
		 * connection muted with no trial pending: nothing new. */
		if (!muted || (s->flags & XS_CONN_TRIAL)) {
			s->mute_until = now + (MUTE_FIRST_NS << s->mutes);
			first         = s->mutes == 0;
			s->mutes += s->mutes < MUTES_MAX;
		}
		s->flags |= XS_CONN_MUTED;
		s->flags &= (uint8_t) ~XS_CONN_TRIAL;
		l->n_muted_total += first;
	}
	limit_unlock(l);
	return first;
}

void
xs_conn_limit_unmute(struct xs_conn_limit *l, uint32_t pipe)
{
	struct xs_conn_slot *s;

	limit_lock(l);
	s = conn_find(l, pipe);
	if (s != NULL && (s->flags & XS_CONN_TRIAL)) {
		s->flags &= (uint8_t) ~(XS_CONN_MUTED | XS_CONN_TRIAL);
	}
	limit_unlock(l);
}

void
xs_conn_limit_read(struct xs_conn_limit *l, struct xs_conn_stats *out)
{
	limit_lock(l);
	out->kind    = l->name;
	out->open    = l->n_served;
	out->waiting = l->n_waiting;
	out->max     = l->max;
	out->refused = l->n_refused_total;
	out->muted   = l->n_muted_total;
	out->dropped = l->n_dropped;
	limit_unlock(l);
}
