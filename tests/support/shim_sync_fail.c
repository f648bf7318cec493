/* SPDX-License-Identifier: MIT */
/* LD_PRELOAD shim for test_wal: the disk fails a sync of xselld's log,
 * as a failing disk does (fdatasync returns EIO), on every run instead
 * of by chance (server/wal.c, fail_unsynced).
 *
 * The first log sync begun after an entry of more than BIG_BODY bytes
 * was appended is held HOLD_MS, so that other writers can queue behind
 * it meanwhile, and then fails with EIO without syncing. Every other
 * call is passed on as it is. */
/* A feature-test macro, not an identifier of ours: RTLD_NEXT. */
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

#define BIG_BODY ((size_t) 1 << 20)
#define HOLD_MS 1500

static pthread_mutex_t shim_mtx = PTHREAD_MUTEX_INITIALIZER;
static bool            big_logged; /* an entry past BIG_BODY (shim_mtx) */
static bool            failed;     /* the sync after it failed */

static int (*real_fdatasync)(int);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);

static void
real_resolve(void)
{
	/* The POSIX way to assign a function pointer from dlsym. */
	*(void **) &real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
	*(void **) &real_pwritev   = dlsym(RTLD_NEXT, "pwritev");
}

static pthread_once_t real_once = PTHREAD_ONCE_INIT;

/* Whether iov[0..n) is the first write of a log entry (its header, then
 * its body: wal.c's entry_write) whose body passes BIG_BODY. */
static bool
iov_is_big_entry(const struct iovec *iov, int n)
{
	uint32_t magic;

	if (n != 2 || iov[0].iov_len != ENTRY_HDR_LEN ||
	    iov[1].iov_len <= BIG_BODY) {
		return false;
	}
	memcpy(&magic, iov[0].iov_base, sizeof(magic));
	return magic == ENTRY_MAGIC;
}

ssize_t
pwritev(int fd, const struct iovec *iov, int n, off_t off)
{
	bool big;

	pthread_once(&real_once, real_resolve);
	big = iov_is_big_entry(iov, n) && fd_is_log(fd);
	if (big) {
		pthread_mutex_lock(&shim_mtx);
		big_logged = true;
		pthread_mutex_unlock(&shim_mtx);
	}
	return real_pwritev(fd, iov, n, off);
}

int
fdatasync(int fd)
{
	struct timespec hold = { HOLD_MS / 1000, (HOLD_MS % 1000) * 1000000L };
	bool            fail;

	pthread_once(&real_once, real_resolve);
	if (!fd_is_log(fd)) {
		return real_fdatasync(fd);
	}
	pthread_mutex_lock(&shim_mtx);
	fail = big_logged && !failed;
	failed |= fail;
	pthread_mutex_unlock(&shim_mtx);
	if (!fail) {
		return real_fdatasync(fd);
	}
	nanosleep(&hold, NULL);
	errno = EIO;
	return -1;
}
