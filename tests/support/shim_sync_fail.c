/* SPDX-License-Identifier: MIT */
/* LD_PRELOAD shim for test_wal: the disk fails a sync of xselld's log,
 * as a failing disk does (fdatasync returns EIO), on every run instead
 * of by chance (server/wal.c, fail_unsynced).
 *
 * The first log sync begun after an entry of more than BIG_BODY bytes
 * was appended is held HOLD_MS, so that other writers can queue behind
 * it meanwhile, and then fails with EIO without syncing.
 *
 * After that failure, a cut of a log file (ftruncate) is made in the
 * file only when a later sync of the same descriptor (fdatasync or
 * fsync) returns 0, as a cut survives a crash only once it is synced:
 * until then the file keeps its bytes, so a server killed meanwhile
 * leaves the file as a crash of the machine could. With
 * XS_SHIM_SYNC_FAIL_CUT in the environment, that later sync fails too
 * (EIO), as on a disk that keeps failing, and the cut never reaches the
 * file. Every other call is passed on as it is. */
/* A feature-test macro, not an identifier of ours: RTLD_NEXT. */
// NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp)
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "shim_wal.h"

#define BIG_BODY ((size_t) 1 << 20)
#define HOLD_MS 1500

static pthread_mutex_t shim_mtx = PTHREAD_MUTEX_INITIALIZER;
static bool            big_logged;  /* an entry past BIG_BODY (shim_mtx) */
static bool            failed;      /* the sync after it failed */
static int             cut_fd = -1; /* a log file cut since, not synced */
static off_t           cut_len;     /* its length after the cut */

static int (*real_fdatasync)(int);
static int (*real_fsync)(int);
static int (*real_ftruncate)(int, off_t);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);

static void
real_resolve(void)
{
	/* The POSIX way to assign a function pointer from dlsym. */
	*(void **) &real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
	*(void **) &real_fsync     = dlsym(RTLD_NEXT, "fsync");
	*(void **) &real_ftruncate = dlsym(RTLD_NEXT, "ftruncate");
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
ftruncate(int fd, off_t len)
{
	bool defer;

	pthread_once(&real_once, real_resolve);
	if (!fd_is_log(fd)) {
		return real_ftruncate(fd, len);
	}
	pthread_mutex_lock(&shim_mtx);
	defer = failed;
	if (defer) {
		cut_fd  = fd;
		cut_len = len;
	}
	pthread_mutex_unlock(&shim_mtx);
	return defer ? 0 : real_ftruncate(fd, len);
}

/* A sync of 'fd' by 'real' (fdatasync or fsync). */
static int
log_sync(int fd, int (*real)(int))
{
	struct timespec hold = { HOLD_MS / 1000, (HOLD_MS % 1000) * 1000000L };
	bool            fail, cut;
	off_t           len;

	if (!fd_is_log(fd)) {
		return real(fd);
	}
	pthread_mutex_lock(&shim_mtx);
	fail = big_logged && !failed;
	failed |= fail;
	cut = !fail && cut_fd == fd;
	len = cut_len;
	pthread_mutex_unlock(&shim_mtx);
	if (fail) {
		nanosleep(&hold, NULL);
		errno = EIO;
		return -1;
	}
	if (cut && getenv("XS_SHIM_SYNC_FAIL_CUT") != NULL) {
		errno = EIO;
		return -1;
	}
	if (cut) {
		if (real_ftruncate(fd, len) != 0) {
			return -1;
		}
		pthread_mutex_lock(&shim_mtx);
		cut_fd = -1;
		pthread_mutex_unlock(&shim_mtx);
	}
	return real(fd);
}

int
fdatasync(int fd)
{
	pthread_once(&real_once, real_resolve);
	return log_sync(fd, real_fdatasync);
}

int
fsync(int fd)
{
	pthread_once(&real_once, real_resolve);
	return log_sync(fd, real_fsync);
}
