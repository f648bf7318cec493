/* SPDX-License-Identifier: MIT */
/* What the LD_PRELOAD shims of test_wal (shim_forget_race.c,
 * shim_forget_wake.c, shim_sync_fail.c, shim_open_fail.c) know of
 * xselld's log: how an entry starts and which files are its segments.
 * Each shim is one shared object of its own, hence static functions in
 * a header (inline: a shim may use only some). */
#ifndef XS_SHIM_WAL_H
#define XS_SHIM_WAL_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define ENTRY_MAGIC 0x4c415758u /* a log entry's header: "XWAL" */
#define ENTRY_HDR_LEN 32        /* the header's bytes (wal.c) */

/* Whether iov[0..n) is the first write of a log entry: its header, then
 * its body (wal.c's entry_write). */
static inline bool
iov_is_entry(const struct iovec *iov, int n)
{
	uint32_t magic;

	if (n != 2 || iov[0].iov_len != ENTRY_HDR_LEN) {
		return false;
	}
	memcpy(&magic, iov[0].iov_base, sizeof(magic));
	return magic == ENTRY_MAGIC;
}

/* Whether 'path' names a segment of the log: <db>/wal-<16 hex>.log. */
static inline bool
path_is_log(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t      n    = strlen(path);

	base = base != NULL ? base + 1 : path;
	return n >= 4 && strncmp(base, "wal-", 4) == 0 &&
	    strcmp(path + n - 4, ".log") == 0;
}

/* Whether 'fd' is a segment of the log. */
static inline bool
fd_is_log(int fd)
{
	char    link[64], path[4096];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n < 4) {
		return false;
	}
	path[n] = '\0';
	return path_is_log(path);
}

/* A wait on 'cv' that ends after 'ms' at most, as a spurious wakeup
 * (which POSIX allows) would: 0 then. 'timedwait' is the real
 * pthread_cond_timedwait (a shim that replaces pthread_cond_wait calls
 * this for the threads it wakes early). */
static inline int
cond_wait_at_most(int (*timedwait)(pthread_cond_t *, pthread_mutex_t *,
                      const struct timespec *),
    pthread_cond_t *cv, pthread_mutex_t *m, long ms)
{
	struct timespec until;
	int             rc;

	/* A condition's default clock. */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += ms * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
	}
	rc = timedwait(cv, m, &until);
	return rc == ETIMEDOUT ? 0 : rc;
}

#endif
