/* SPDX-License-Identifier: MIT */
/* LD_PRELOAD shim for test_wal: puts the writers of xselld --wal in the
 * order that lost a forget_user's result, on every run instead of by
 * chance (server/wal.c, forget_list).
 *
 * A log sync begun before any forget_user entry is appended (writer A's)
 * is held until one is (writer W's), so W finds a sync under way and
 * waits for it. After that first wait W is slow to take the log's mutex
 * back, as a descheduled thread is: until a sync begun after W's append
 * (writer C's) has returned, and then APPLY_MARGIN_MS more, for the
 * applier to apply the entry and deliver its result. Each delay is one
 * xselld may meet anyway (an fdatasync may take long; pthread_cond_wait
 * returns once it has the mutex again, whenever that is), so the shim
 * changes no behaviour, only its timing; every hold is bounded. */
/* A feature-test macro, not an identifier of ours: RTLD_NEXT, memmem. */
// NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp)
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "shim_wal.h"

#define HOLD_FIRST_SYNC_MS 5000 /* A's sync waits for W this long at most */
#define HOLD_WRITER_MS 10000    /* W waits for C's sync this long at most */
#define APPLY_MARGIN_MS 1500    /* then this long for the applier */

static pthread_mutex_t    shim_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t     shim_cv  = PTHREAD_COND_INITIALIZER;
static uint64_t           appends;       /* log entries appended (shim_mtx) */
static bool               forget_logged; /* W's entry is appended, */
static uint64_t           forget_at;     /* 'appends' with it */
static bool               covered;       /* a sync begun after it returned */
static _Thread_local bool is_forget_writer; /* this thread appended it */
static _Thread_local bool slowed;           /* its slow wake is done */

static int (*real_cond_wait)(pthread_cond_t *, pthread_mutex_t *);
static int (*real_fdatasync)(int);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);

static void
real_resolve(void)
{
	/* The POSIX way to assign a function pointer from dlsym. */
	*(void **) &real_cond_wait = dlsym(RTLD_NEXT, "pthread_cond_wait");
	*(void **) &real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
	*(void **) &real_pwritev   = dlsym(RTLD_NEXT, "pwritev");
}

static pthread_once_t real_once = PTHREAD_ONCE_INIT;

/* Wait on shim_cv (shim_mtx held) until *flag, at most 'ms'. */
static void
shim_wait_for(const bool *flag, long ms)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (!*flag) {
		if (pthread_cond_timedwait(&shim_cv, &shim_mtx, &until) ==
		    ETIMEDOUT) {
			return;
		}
	}
}

ssize_t
pwritev(int fd, const struct iovec *iov, int n, off_t off)
{
	bool    entry, forget;
	ssize_t r;

	pthread_once(&real_once, real_resolve);
	entry  = iov_is_entry(iov, n) && fd_is_log(fd);
	forget = entry &&
	    memmem(iov[1].iov_base, iov[1].iov_len, "forget_user", 11) != NULL;
	r = real_pwritev(fd, iov, n, off);
	if (entry && r > 0) {
		pthread_mutex_lock(&shim_mtx);
		appends++;
		if (forget && !forget_logged) {
			forget_at        = appends;
			forget_logged    = true;
			is_forget_writer = true;
			pthread_cond_broadcast(&shim_cv);
		}
		pthread_mutex_unlock(&shim_mtx);
	}
	return r;
}

int
fdatasync(int fd)
{
	uint64_t begun;
	int      rc;

	pthread_once(&real_once, real_resolve);
	if (!fd_is_log(fd)) {
		return real_fdatasync(fd);
	}
	pthread_mutex_lock(&shim_mtx);
	/* What the sync covers was taken before it began (wal.c's
	 * sync_upto): W's entry, appended while A's sync is held here, is
	 * not covered by it. */
	begun = appends;
	shim_wait_for(&forget_logged, HOLD_FIRST_SYNC_MS);
	pthread_mutex_unlock(&shim_mtx);
	rc = real_fdatasync(fd);
	pthread_mutex_lock(&shim_mtx);
	if (forget_logged && begun >= forget_at) {
		covered = true;
		pthread_cond_broadcast(&shim_cv);
	}
	pthread_mutex_unlock(&shim_mtx);
	return rc;
}

int
pthread_cond_wait(pthread_cond_t *cv, pthread_mutex_t *m)
{
	int rc;

	pthread_once(&real_once, real_resolve);
	rc = real_cond_wait(cv, m);
	if (is_forget_writer && !slowed) {
		struct timespec margin = { APPLY_MARGIN_MS / 1000,
			(APPLY_MARGIN_MS % 1000) * 1000000L };

		slowed = true;
		pthread_mutex_unlock(m);
		pthread_mutex_lock(&shim_mtx);
		shim_wait_for(&covered, HOLD_WRITER_MS);
		pthread_mutex_unlock(&shim_mtx);
		nanosleep(&margin, NULL);
		pthread_mutex_lock(m);
	}
	return rc;
}
