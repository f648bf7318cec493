/* SPDX-License-Identifier: MIT */
/* LD_PRELOAD shim for test_wal: a forget_user's writer in xselld --wal
 * wakes after the applier has delivered the forget's result and before
 * the applier's next hold of the log's mutex, on every run instead of by
 * chance (server/wal.c, group_record and forget_segs_drop).
 *
 * The applier delivered a forget's result in one hold of the log's
 * mutex and recorded its group as applied in the next (it now does both
 * in one). A writer wakes early in between when another writer waiting
 * for backlog room hands on its place, the log breaks, the server
 * stops, or the wakeup is spurious.
 * Here it is spurious: the wait of the thread that appended a
 * forget_user entry on a condition (pthread_cond_wait) ends after
 * WAKE_MS at most, as POSIX allows. And once that thread has waited with
 * a mutex (the log's), each of the next HOLDS_MAX times the applier
 * (the thread named "xsell-wal") takes that mutex, it takes it HOLD_MS
 * late, as a descheduled thread does. Both change only timing; every
 * hold is bounded. */
/* A feature-test macro, not an identifier of ours: RTLD_NEXT, memmem. */
// NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp)
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "shim_wal.h"

#define WAKE_MS 10  /* the forget's writer waits this long at most */
#define HOLD_MS 500 /* the applier takes the log's mutex this late, */
#define HOLDS_MAX 4 /* this many times */
#define APPLIER_NAME "xsell-wal"

/* The mutex the forget's writer waited with (wal->mtx); NULL: none yet.
 * Atomics, not a mutex of the shim's: pthread_mutex_lock is the shim's
 * own, and every thread of xselld calls it. */
static _Atomic(pthread_mutex_t *) watched;
static atomic_int                 holds_left = HOLDS_MAX;
static _Thread_local bool is_forget_writer; /* this thread appended one */

static int (*real_cond_wait)(pthread_cond_t *, pthread_mutex_t *);
static int (*real_cond_timedwait)(
    pthread_cond_t *, pthread_mutex_t *, const struct timespec *);
static int (*real_mutex_lock)(pthread_mutex_t *);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);

static void
real_resolve(void)
{
	/* The POSIX way to assign a function pointer from dlsym. */
	*(void **) &real_cond_wait = dlsym(RTLD_NEXT, "pthread_cond_wait");
	*(void **) &real_cond_timedwait =
	    dlsym(RTLD_NEXT, "pthread_cond_timedwait");
	*(void **) &real_mutex_lock = dlsym(RTLD_NEXT, "pthread_mutex_lock");
	*(void **) &real_pwritev    = dlsym(RTLD_NEXT, "pwritev");
}

static pthread_once_t real_once = PTHREAD_ONCE_INIT;

/* Whether the calling thread is xselld's applier. */
static bool
thread_is_applier(void)
{
	char name[16] = { 0 };

	return prctl(PR_GET_NAME, name) == 0 &&
	    strcmp(name, APPLIER_NAME) == 0;
}

ssize_t
pwritev(int fd, const struct iovec *iov, int n, off_t off)
{
	pthread_once(&real_once, real_resolve);
	if (iov_is_entry(iov, n) && fd_is_log(fd) &&
	    memmem(iov[1].iov_base, iov[1].iov_len, "forget_user", 11) !=
	        NULL) {
		is_forget_writer = true;
	}
	return real_pwritev(fd, iov, n, off);
}

int
pthread_cond_wait(pthread_cond_t *cv, pthread_mutex_t *m)
{
	pthread_once(&real_once, real_resolve);
	if (!is_forget_writer) {
		return real_cond_wait(cv, m);
	}
	atomic_store(&watched, m);
	return cond_wait_at_most(real_cond_timedwait, cv, m, WAKE_MS);
}

int
pthread_mutex_lock(pthread_mutex_t *m)
{
	pthread_once(&real_once, real_resolve);
	if (m == atomic_load(&watched) && atomic_load(&holds_left) > 0 &&
	    thread_is_applier() && atomic_fetch_sub(&holds_left, 1) > 0) {
		struct timespec hold = { HOLD_MS / 1000,
			(HOLD_MS % 1000) * 1000000L };

		nanosleep(&hold, NULL);
	}
	return real_mutex_lock(m);
}
