/* SPDX-License-Identifier: MIT */
/* complements' list refresher: one background thread of xselld, at the
 * lowest priority (nice 19), that keeps the precomputed lists fresh
 * (model xs_model_comp_refresh): lists of items ordered since first,
 * then missing ones, then the oldest, before they pass their allowed
 * age. Each round computes at most ROUND_LISTS lists in chunks of
 * CHUNK_LISTS, each chunk computed under a read transaction and then
 * written in a write transaction of its own, so client writes wait at
 * most for one chunk's puts (the group commit takes turns with it).
 * With nothing due it sleeps IDLE_MS, and longer while no commit takes
 * orders in or out and no list comes due by its age (refresh_idle). */
/* A feature-test macro, not an identifier of ours: glibc declares
 * pthread_setname_np only with it. */
// NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp)
#define _GNU_SOURCE
#include "server/server_impl.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define ROUND_LISTS 256u
#define CHUNK_LISTS 16u
#define IDLE_MS 1000u
/* Idle, the longest between two looks for due lists when neither orders
 * nor the lists' age call for one: a bound on what a clock set back
 * can delay. */
#define IDLE_MAX_MS 60000u
/* A list whose item was ordered since waits this long (model.h). */
#define TOUCHED_WAIT_S 60u

/* Between chunks: stop when the server does. */
static xsell_err
refresh_between(void *ctx)
{
	struct xs_refresher *r = ctx;

	return atomic_load(r->stopping) ? XSELL_EUNAVAIL : XSELL_OK;
}

/* Whether a commit took orders in or out since the stamp 'at'. */
static bool
orders_changed(struct xs_refresher *r, uint64_t at)
{
	MDB_txn *txn;
	uint64_t now;

	if (at == UINT64_MAX || xs_txn_read(r->store, &txn) != XSELL_OK) {
		return true;
	}
	now = xs_store_orders_changed_at(r->store, txn);
	xs_txn_abort(txn);
	return now != at;
}

/* Sleep IDLE_MS, or less if the server stops (xs_refresher_join wakes
 * it). */
static void
refresh_nap(struct xs_refresher *r)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += IDLE_MS / 1000u;
	pthread_mutex_lock(&r->nap_mtx);
	while (!atomic_load(r->stopping) &&
	    pthread_cond_timedwait(&r->nap_cv, &r->nap_mtx, &until) == 0) { }
	pthread_mutex_unlock(&r->nap_mtx);
}

/* Sleep after a round that left no list due: IDLE_MS, and then on, a
 * look a second, until a list comes due by age, a commit takes orders
 * in or out, or IDLE_MAX_MS. Looking for due lists reads every item's
 * list (~60 ms of CPU with 49,000 items), which an idle server did
 * every second before. */
static void
refresh_idle(struct xs_refresher *r, const struct xs_comp_refresh_stats *rs)
{
	for (unsigned t = IDLE_MS; !atomic_load(r->stopping); t += IDLE_MS) {
		refresh_nap(r);
		if (t >= IDLE_MAX_MS || xs_now_s() >= rs->next_due_s ||
		    orders_changed(r, rs->orders_at)) {
			return;
		}
	}
}

static void *
refresh_main(void *arg)
{
	struct xs_refresher *r = arg;

	/* Linux: a thread's nice value is its own (the tid as pid). */
	(void) setpriority(PRIO_PROCESS, (id_t) syscall(SYS_gettid), 19);
	while (!atomic_load(r->stopping)) {
		struct xs_comp_refresh_opts  o  = { 0 };
		struct xs_comp_refresh_stats rs = { 0 };
		xsell_err                    err;

		o.now_s          = xs_now_s();
		o.max_lists      = ROUND_LISTS;
		o.chunk          = CHUNK_LISTS;
		o.touched_wait_s = TOUCHED_WAIT_S;
		o.between        = refresh_between;
		o.ctx            = r;
		err = xs_model_comp_refresh(r->store, r->settings, &o, &rs);
		atomic_store(&r->items, rs.items);
		atomic_store(&r->due, rs.due - rs.computed);
		atomic_fetch_add(&r->computed, rs.computed);
		if (err != XSELL_OK && !atomic_load(r->stopping)) {
			xs_log(XS_LOG_WARN, "complements lists: %s",
			    xsell_strerror(err));
		}
		if (err != XSELL_OK) {
			rs.next_due_s = 0; /* look again after IDLE_MS */
		}
		/* A round that left none due rests: looking again at once
		 * after every few lists of ordered items kept a core busy
		 * beside 2 orders a second (49,000 items, a look ~60 ms). */
		if (err != XSELL_OK || rs.computed >= rs.due) {
			refresh_idle(r, &rs);
		}
	}
	return NULL;
}

/* The nap's lock and its condition, timed by CLOCK_MONOTONIC (a clock
 * set back must not lengthen a nap). */
static bool
nap_init(struct xs_refresher *r)
{
	pthread_condattr_t attr;
	bool               ok = pthread_condattr_init(&attr) == 0;

	ok = ok && pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
	    pthread_cond_init(&r->nap_cv, &attr) == 0;
	(void) pthread_condattr_destroy(&attr);
	if (ok && pthread_mutex_init(&r->nap_mtx, NULL) != 0) {
		pthread_cond_destroy(&r->nap_cv);
		ok = false;
	}
	return ok;
}

static void
nap_fini(struct xs_refresher *r)
{
	pthread_mutex_destroy(&r->nap_mtx);
	pthread_cond_destroy(&r->nap_cv);
}

xsell_err
xs_refresher_start(struct xs_refresher *r, xs_store *st,
    const struct xs_settings *set, atomic_bool *stopping)
{
	r->store    = st;
	r->settings = set;
	r->stopping = stopping;
	if (!xs_store_comp_has(st)) {
		return XSELL_OK; /* nowhere to keep lists: answers walk */
	}
	if (!nap_init(r)) {
		xs_log(XS_LOG_ERROR, "complements lists: cannot start");
		return XSELL_EUNAVAIL;
	}
	if (pthread_create(&r->thread, NULL, refresh_main, r) != 0) {
		nap_fini(r);
		xs_log(XS_LOG_ERROR, "complements lists: cannot start");
		return XSELL_EUNAVAIL;
	}
	/* Named for top -H and perf: it works while clients do. */
	(void) pthread_setname_np(r->thread, "xsell-refresh");
	atomic_store(&r->started, true);
	return XSELL_OK;
}

void
xs_refresher_join(struct xs_refresher *r)
{
	if (atomic_load(&r->started)) {
		/* Under the lock: a nap looks at 'stopping' under it. */
		pthread_mutex_lock(&r->nap_mtx);
		pthread_cond_broadcast(&r->nap_cv);
		pthread_mutex_unlock(&r->nap_mtx);
		pthread_join(r->thread, NULL);
		nap_fini(r);
		atomic_store(&r->started, false);
	}
}
