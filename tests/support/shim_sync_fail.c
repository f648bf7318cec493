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
 * file.
 *
 * With XS_SHIM_WRITE_FAIL in the environment, no sync fails: the first
 * two log syncs begun after such an entry are each held HOLD_MS and
 * then passed on, and a log entry holding FAIL_MARK written during the
 * second hold fails (ENOSPC), as does the cut (ftruncate, EIO) that takes it
 * back: the log breaks while a sync is under way. A wait on a
 * condition (pthread_cond_wait) of a thread that wrote a log entry ends
 * after WAKE_MS at most, as POSIX allows (a spurious wakeup), so that a
 * writer waiting for that sync wakes before it ends.
 *
 * With $XS_SHIM_DIR_SYNC_FAIL_WHILE set (a flag file's path), the
 * deletion of a log file survives a crash only once its directory is
 * synced (server/wal.c, segs_drop_applied): unlink keeps the file under
 * the name <name>.unsynced until a sync of the directory (fsync) returns
 * 0, so a server killed meanwhile leaves what a crash of the machine
 * could bring back (the test names it back). While the flag file
 * exists, a sync of a directory holding such a file fails (EIO), as on
 * a disk that fails then. At most KEPT_MAX files are kept at once (more
 * are deleted at once). With $XS_SHIM_DIR_SYNC_FAIL set, every sync of
 * a directory (fsync) fails (EIO). With $XS_SHIM_UNLINK_FAIL set, every
 * deletion of a log file (unlink) fails (EIO). Every other call is
 * passed on as it is. */
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
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "shim_wal.h"

#define BIG_BODY ((size_t) 1 << 20)
#define HOLD_MS 1500
#define WAKE_MS 10
#define FAIL_MARK "xfail" /* an order id (test_wal.c) */

static pthread_mutex_t shim_mtx = PTHREAD_MUTEX_INITIALIZER;
static bool            big_logged;  /* an entry past BIG_BODY (shim_mtx) */
static bool            failed;      /* the sync after it failed */
static int             cut_fd = -1; /* a log file cut since, not synced */
static off_t           cut_len;     /* its length after the cut */

/* XS_SHIM_WRITE_FAIL (shim_mtx). */
static int                holds;       /* syncs held so far */
static int                holding;     /* the one under way (1, 2); 0: none */
static bool               trunc_fail;  /* fail the next cut of a log file */
static bool               broke;       /* an entry's write failed */
static _Thread_local bool wrote_entry; /* this thread wrote one */

/* Deleted log files kept until their directory is synced (shim_mtx). */
#define KEPT_MAX 64
static struct kept {
	char  path[1024]; /* <name>.unsynced */
	dev_t dir_dev;    /* its directory */
	ino_t dir_ino;
} kept[KEPT_MAX];
static size_t n_kept;

static int (*real_fdatasync)(int);
static int (*real_fsync)(int);
static int (*real_ftruncate)(int, off_t);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static int (*real_unlink)(const char *);
static int (*real_cond_wait)(pthread_cond_t *, pthread_mutex_t *);
static int (*real_cond_timedwait)(
    pthread_cond_t *, pthread_mutex_t *, const struct timespec *);

static void
real_resolve(void)
{
	/* The POSIX way to assign a function pointer from dlsym. */
	*(void **) &real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
	*(void **) &real_fsync     = dlsym(RTLD_NEXT, "fsync");
	*(void **) &real_ftruncate = dlsym(RTLD_NEXT, "ftruncate");
	*(void **) &real_pwritev   = dlsym(RTLD_NEXT, "pwritev");
	*(void **) &real_unlink    = dlsym(RTLD_NEXT, "unlink");
	*(void **) &real_cond_wait = dlsym(RTLD_NEXT, "pthread_cond_wait");
	*(void **) &real_cond_timedwait =
	    dlsym(RTLD_NEXT, "pthread_cond_timedwait");
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
	} else if (iov_is_entry(iov, n) && fd_is_log(fd)) {
		bool fail;

		wrote_entry = true;
		pthread_mutex_lock(&shim_mtx);
		fail = holding == 2 && !broke &&
		    memmem(iov[1].iov_base, iov[1].iov_len, FAIL_MARK,
		        strlen(FAIL_MARK)) != NULL;
		trunc_fail |= fail;
		broke |= fail;
		pthread_mutex_unlock(&shim_mtx);
		if (fail) {
			errno = ENOSPC;
			return -1;
		}
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
	if (trunc_fail) {
		trunc_fail = false;
		pthread_mutex_unlock(&shim_mtx);
		errno = EIO;
		return -1;
	}
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
	bool            write_fail = getenv("XS_SHIM_WRITE_FAIL") != NULL;
	off_t           len;

	if (!fd_is_log(fd)) {
		return real(fd);
	}
	pthread_mutex_lock(&shim_mtx);
	fail = big_logged && !failed && (!write_fail || holds < 2);
	cut  = !fail && cut_fd == fd;
	len  = cut_len;
	if (write_fail && fail) {
		holding = ++holds;
	} else if (!write_fail) {
		failed |= fail;
	}
	pthread_mutex_unlock(&shim_mtx);
	if (fail && write_fail) {
		nanosleep(&hold, NULL);
		pthread_mutex_lock(&shim_mtx);
		holding = 0;
		pthread_mutex_unlock(&shim_mtx);
		return real(fd);
	}
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

/* Whether deletions are kept until their directory is synced. */
static bool
dir_mode(void)
{
	return getenv("XS_SHIM_DIR_SYNC_FAIL_WHILE") != NULL;
}

int
unlink(const char *path)
{
	const char *slash = strrchr(path, '/');
	char        dir[1024];
	struct stat sb;

	pthread_once(&real_once, real_resolve);
	if (getenv("XS_SHIM_UNLINK_FAIL") != NULL && path_is_log(path)) {
		errno = EIO;
		return -1;
	}
	if (!dir_mode() || !path_is_log(path) || slash == NULL ||
	    (size_t) (slash - path) >= sizeof(dir)) {
		return real_unlink(path);
	}
	memcpy(dir, path, (size_t) (slash - path));
	dir[slash - path] = '\0';
	pthread_mutex_lock(&shim_mtx);
	if (n_kept < KEPT_MAX && stat(dir, &sb) == 0) {
		struct kept *k = &kept[n_kept];

		snprintf(k->path, sizeof(k->path), "%s.unsynced", path);
		k->dir_dev = sb.st_dev;
		k->dir_ino = sb.st_ino;
		if (link(path, k->path) == 0) {
			n_kept++;
		}
	}
	pthread_mutex_unlock(&shim_mtx);
	return real_unlink(path);
}

/* A sync of directory 'fd' (its stat in *sb): fails while the flag
 * file exists if a deletion in it is kept; else, once synced, what it
 * kept is deleted for good. */
static int
dir_sync(int fd, const struct stat *sb)
{
	const char *flag    = getenv("XS_SHIM_DIR_SYNC_FAIL_WHILE");
	bool        pending = false;
	int         rc;

	pthread_mutex_lock(&shim_mtx);
	for (size_t i = 0; i < n_kept; i++) {
		pending |= kept[i].dir_dev == sb->st_dev &&
		    kept[i].dir_ino == sb->st_ino;
	}
	pthread_mutex_unlock(&shim_mtx);
	if (pending && access(flag, F_OK) == 0) {
		errno = EIO;
		return -1;
	}
	rc = real_fsync(fd);
	if (rc != 0) {
		return rc;
	}
	pthread_mutex_lock(&shim_mtx);
	for (size_t i = 0; i < n_kept;) {
		if (kept[i].dir_dev == sb->st_dev &&
		    kept[i].dir_ino == sb->st_ino) {
			real_unlink(kept[i].path);
			kept[i] = kept[--n_kept];
		} else {
			i++;
		}
	}
	pthread_mutex_unlock(&shim_mtx);
	return 0;
}

int
fsync(int fd)
{
	struct stat sb;

	pthread_once(&real_once, real_resolve);
	if (getenv("XS_SHIM_DIR_SYNC_FAIL") != NULL && fstat(fd, &sb) == 0 &&
	    S_ISDIR(sb.st_mode)) {
		errno = EIO;
		return -1;
	}
	if (dir_mode() && fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		return dir_sync(fd, &sb);
	}
	return log_sync(fd, real_fsync);
}

int
pthread_cond_wait(pthread_cond_t *cv, pthread_mutex_t *m)
{
	pthread_once(&real_once, real_resolve);
	if (!wrote_entry || getenv("XS_SHIM_WRITE_FAIL") == NULL) {
		return real_cond_wait(cv, m);
	}
	return cond_wait_at_most(real_cond_timedwait, cv, m, WAKE_MS);
}
