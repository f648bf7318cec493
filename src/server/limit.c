/* SPDX-License-Identifier: MIT */
/* The connection limit of one socket, which is what overload means for
 * xselld. nng keeps at most one unread request per connection in the
 * REP socket (it stops reading a connection until a worker takes its
 * request), so the requests waiting in the server, and the memory they
 * hold, are bounded by the number of connections. Capping connections
 * therefore bounds the queue: a connection that arrives while 'max' are
 * open is "refused": its first request gets `unavailable` at once, with
 * no store work, later ones get nothing, and once it is silent it is
 * closed, so a client that retries reconnects and is admitted again when
 * there is room. At most XS_REFUSED_MAX refused connections are kept: a
 * new one takes the place of a silent one (which is closed), and when
 * none is silent it is closed as soon as it is made.
 *
 * A connection is closed only once it is silent (no request for
 * SILENT_NS), never while its client may still be sending. In libnng
 * 1.5.2, Debian 12's, a pipe closed while its transport's receive
 * callback is re-arming for more data (a client that pipelines) leaves
 * the protocol's receive aio unfinished, and the pipe's teardown waits
 * for it for ever in nng's one reaper thread (nng issue #1813, fixed in
 * 1.8.0): no connection is ever torn down again, each one that ends
 * keeps its descriptor, and every new client hears "unavailable". That
 * was seen in about one run in eight of test_server_overload (gdb: the
 * reaper in rep0's pipe stop, on the receive aio), whether the pipe was
 * closed by nng_pipe_close() or by shutting its socket down. So a
 * connection that left a reply unread is "muted" (its requests are read
 * and dropped, without work or reply) until it falls silent, then
 * closed; the same for a refused one after its answer.
 *
 * The served connections are a set of pipe ids (open addressing, twice
 * 'max' slots), not a count: nng 1.5.2 reports NNG_PIPE_EV_REM_POST also
 * for a pipe closed at NNG_PIPE_EV_ADD_PRE (measured; its manual says
 * otherwise), so only the id tells whether a pipe that goes was one of
 * the served. */
#include "server/server_impl.h"

#include <stdlib.h>
#include <string.h>

#define WARN_EVERY_NS (10ull * 1000000000ull)
/* A refused or muted connection that sent no request for this long is
 * closed (a client sends its request as soon as it is connected, so a
 * new refused one is not silent either until then). */
#define SILENT_NS (1000000000ull)
/* How often the silent ones are looked for. */
#define SWEEP_EVERY_NS (100000000ull)

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

/* ==== The set of served pipe ids ==== */

/* Linear probing; 0 is never a pipe id, so it marks a free slot. */
static size_t
served_home(const struct xs_conn_limit *l, uint32_t id)
{
	return (size_t) (id * 2654435761u) & (l->n_slots - 1);
}

static void
served_add(struct xs_conn_limit *l, uint32_t id)
{
	size_t i = served_home(l, id);

	while (l->served[i] != 0) {
		i = (i + 1) & (l->n_slots - 1);
	}
	l->served[i] = id;
	l->n_served++;
}

/* Remove 'id'; false if it is not in the set. Later entries of its
 * cluster move back, so that lookups need no tombstones. */
static bool
served_del(struct xs_conn_limit *l, uint32_t id)
{
	size_t mask = l->n_slots - 1;
	size_t i    = served_home(l, id);

	while (l->served[i] != id) {
		if (l->served[i] == 0) {
			return false;
		}
		i = (i + 1) & mask;
	}
	for (size_t j = (i + 1) & mask; l->served[j] != 0;
	     j        = (j + 1) & mask) {
		size_t h = served_home(l, l->served[j]);

		/* Move served[j] into the hole at i unless its home lies
		 * cyclically in (i, j]. */
		if (((j - h) & mask) >= ((j - i) & mask)) {
			l->served[i] = l->served[j];
			i            = j;
		}
	}
	l->served[i] = 0;
	l->n_served--;
	return true;
}

/* ==== Refused pipes ==== */

/* Index of 'id' among the refused pipes, or -1. Under the lock. */
static int
refused_find(const struct xs_conn_limit *l, int id)
{
	for (unsigned i = 0; i < l->n_refused; i++) {
		if (nng_pipe_id(l->refused[i].pipe) == id) {
			return (int) i;
		}
	}
	return -1;
}

/* Room in the refused table: a free slot, else the slot of a refused
 * connection silent for SILENT_NS, which is closed (*evictp), so that a
 * flood of connections that never come back, or never ask, cannot keep
 * the newest ones from hearing "unavailable". -1 if every refused one
 * spoke lately. Under the lock. */
static int
refused_slot(
    struct xs_conn_limit *l, uint64_t now, nng_pipe *evictp, bool *evictedp)
{
	if (l->n_refused < XS_REFUSED_MAX) {
		return (int) l->n_refused++;
	}
	for (unsigned i = 0; i < l->n_refused; i++) {
		if (now - l->refused[i].last_ns >= SILENT_NS) {
			*evictp   = l->refused[i].pipe;
			*evictedp = true;
			return (int) i;
		}
	}
	return -1;
}

/* ==== Muted pipes ==== */

/* Index of 'id' among the muted pipes, or -1. Under the lock. */
static int
muted_find(const struct xs_conn_limit *l, int id)
{
	for (unsigned i = 0; i < l->n_muted; i++) {
		if (nng_pipe_id(l->muted[i].pipe) == id) {
			return (int) i;
		}
	}
	return -1;
}

/* A new connection: served, refused, or closed now. */
static void
pipe_added(nng_pipe p, struct xs_conn_limit *l)
{
	nng_pipe evict;
	bool     close_now = false, evicted = false;
	uint64_t warn_n = 0;

	limit_lock(l);
	if (l->n_served < l->max) {
		served_add(l, (uint32_t) nng_pipe_id(p));
	} else {
		uint64_t now  = xs_mono_ns();
		int      slot = refused_slot(l, now, &evict, &evicted);

		if (slot >= 0) {
			l->refused[slot].pipe     = p;
			l->refused[slot].answered = false;
			l->refused[slot].last_ns  = now;
		} else {
			close_now = true;
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
		    "more refused (\"unavailable\") since the last report",
		    l->name, l->max, (unsigned long long) warn_n);
	}
	if (evicted) {
		nng_pipe_close(evict);
	}
	/* Not started yet, so nothing of it is in flight: closing it is
	 * safe (see the top). */
	if (close_now) {
		nng_pipe_close(p);
	}
}

static void
pipe_removed(nng_pipe p, struct xs_conn_limit *l)
{
	int id = nng_pipe_id(p);
	int i;

	limit_lock(l);
	i = muted_find(l, id);
	if (i >= 0) {
		l->muted[i] = l->muted[--l->n_muted];
	}
	if (!served_del(l, (uint32_t) id)) {
		i = refused_find(l, id);
		if (i >= 0) {
			l->refused[i] = l->refused[--l->n_refused];
		}
	}
	limit_unlock(l);
}

static void
pipe_event_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	if (ev == NNG_PIPE_EV_ADD_PRE) {
		pipe_added(p, arg);
	} else if (ev == NNG_PIPE_EV_REM_POST) {
		pipe_removed(p, arg);
	}
}

xsell_err
xs_conn_limit_init(
    struct xs_conn_limit *l, nng_socket sock, unsigned max, const char *name)
{
	int rv;

	memset(l, 0, sizeof(*l));
	atomic_init(&l->next_sweep_ns, 0);
	l->max     = max;
	l->name    = name;
	l->n_slots = 2;
	while (l->n_slots < 2 * (size_t) max) {
		l->n_slots *= 2;
	}
	l->served = calloc(l->n_slots, sizeof(*l->served));
	if (l->served == NULL) {
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
	free(l->served);
	l->served = NULL;
}

enum xs_pipe_verdict
xs_conn_limit_check(struct xs_conn_limit *l, nng_pipe p)
{
	enum xs_pipe_verdict v   = XS_PIPE_SERVE;
	uint64_t             now = xs_mono_ns();
	int                  i;

	limit_lock(l);
	i = muted_find(l, nng_pipe_id(p));
	if (i >= 0) {
		l->muted[i].last_ns = now;
		v                   = XS_PIPE_DROP;
	} else if ((i = refused_find(l, nng_pipe_id(p))) >= 0) {
		v = l->refused[i].answered ? XS_PIPE_DROP : XS_PIPE_REFUSE;
		l->refused[i].answered = true;
		l->refused[i].last_ns  = now;
	}
	l->n_dropped += v == XS_PIPE_DROP;
	limit_unlock(l);
	return v;
}

bool
xs_conn_limit_mute(struct xs_conn_limit *l, nng_pipe p)
{
	bool muted = false;

	limit_lock(l);
	if (muted_find(l, nng_pipe_id(p)) >= 0) {
		muted = true;
	} else if (l->n_muted < XS_MUTED_MAX) {
		l->muted[l->n_muted].pipe    = p;
		l->muted[l->n_muted].last_ns = xs_mono_ns();
		l->n_muted++;
		l->n_muted_total++;
		muted = true;
	}
	limit_unlock(l);
	return muted;
}

/* Take the muted and refused pipes silent for SILENT_NS out of their
 * tables, into silent[] (at most 'max'). Under the lock. */
static size_t
take_silent(
    struct xs_conn_limit *l, uint64_t now, nng_pipe *silent, size_t max)
{
	size_t n = 0;

	for (unsigned i = 0; i < l->n_muted && n < max;) {
		if (now - l->muted[i].last_ns >= SILENT_NS) {
			silent[n++] = l->muted[i].pipe;
			l->muted[i] = l->muted[--l->n_muted];
		} else {
			i++;
		}
	}
	for (unsigned i = 0; i < l->n_refused && n < max;) {
		if (now - l->refused[i].last_ns >= SILENT_NS) {
			silent[n++]   = l->refused[i].pipe;
			l->refused[i] = l->refused[--l->n_refused];
		} else {
			i++;
		}
	}
	return n;
}

void
xs_conn_limit_sweep(struct xs_conn_limit *l)
{
	nng_pipe silent[XS_MUTED_MAX + XS_REFUSED_MAX];
	size_t   n   = 0;
	uint64_t now = xs_mono_ns();

	/* Every worker calls this before each request: one look per
	 * SWEEP_EVERY_NS is enough, and the others take no lock. */
	if (now <
	    atomic_load_explicit(&l->next_sweep_ns, memory_order_relaxed)) {
		return;
	}
	limit_lock(l);
	if (now >=
	    atomic_load_explicit(&l->next_sweep_ns, memory_order_relaxed)) {
		atomic_store_explicit(&l->next_sweep_ns, now + SWEEP_EVERY_NS,
		    memory_order_relaxed);
		n = take_silent(
		    l, now, silent, sizeof(silent) / sizeof(silent[0]));
	}
	limit_unlock(l);
	for (size_t i = 0; i < n; i++) {
		nng_pipe_close(silent[i]);
	}
}

void
xs_conn_limit_read(struct xs_conn_limit *l, struct xs_conn_stats *out)
{
	limit_lock(l);
	out->kind    = l->name;
	out->open    = l->n_served;
	out->max     = l->max;
	out->refused = l->n_refused_total;
	out->muted   = l->n_muted_total;
	out->dropped = l->n_dropped;
	limit_unlock(l);
}
