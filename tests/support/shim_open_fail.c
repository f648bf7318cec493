/* SPDX-License-Identifier: MIT */
/* LD_PRELOAD shim for test_wal: xselld cannot open or read the files of
 * its log, as when the process has no descriptor left (EMFILE) or the
 * disk fails a read (EIO), for as long as the test wants (server/wal.c,
 * reader_open and reader_next).
 *
 * While the file named by $XS_SHIM_OPEN_FAIL_WHILE exists, opening a
 * segment of the log read-only (only the applier's reader does; the
 * writers create them write-only) fails with EMFILE. While the file
 * named by $XS_SHIM_READ_FAIL_WHILE exists, a read (pread) of a segment
 * fails with EIO (only the reader reads them: the applier, and the
 * replay at start). While the file named by $XS_SHIM_READDIR_FAIL_WHILE
 * exists, readdir fails with EIO (only the log's listing of its files
 * calls it). Every other call is passed on as it is. xselld calls open,
 * pread and readdir (not open64, pread64 or readdir64: see nm -D). */
/* A feature-test macro, not an identifier of ours: RTLD_NEXT, O_TMPFILE. */
// NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp)
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "shim_wal.h"

static int (*real_open)(const char *, int, ...);
static ssize_t (*real_pread)(int, void *, size_t, off_t);
static struct dirent *(*real_readdir)(DIR *);

static void
real_resolve(void)
{
	/* The POSIX way to assign a function pointer from dlsym. */
	*(void **) &real_open    = dlsym(RTLD_NEXT, "open");
	*(void **) &real_pread   = dlsym(RTLD_NEXT, "pread");
	*(void **) &real_readdir = dlsym(RTLD_NEXT, "readdir");
}

static pthread_once_t real_once = PTHREAD_ONCE_INIT;

/* Whether the flag file named by environment variable 'var' exists. */
static bool
flag_is_up(const char *var)
{
	const char *flag = getenv(var);

	return flag != NULL && access(flag, F_OK) == 0;
}

/* Whether opening 'path' with 'flags' must fail now. */
static bool
open_fails(const char *path, int flags)
{
	return (flags & O_ACCMODE) == O_RDONLY && path_is_log(path) &&
	    flag_is_up("XS_SHIM_OPEN_FAIL_WHILE");
}

int
open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	pthread_once(&real_once, real_resolve);
	/* The mode is there only with O_CREAT or O_TMPFILE. */
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;

		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (open_fails(path, flags)) {
		errno = EMFILE;
		return -1;
	}
	return real_open(path, flags, mode);
}

ssize_t
pread(int fd, void *buf, size_t len, off_t off)
{
	pthread_once(&real_once, real_resolve);
	if (flag_is_up("XS_SHIM_READ_FAIL_WHILE") && fd_is_log(fd)) {
		errno = EIO;
		return -1;
	}
	return real_pread(fd, buf, len, off);
}

struct dirent *
readdir(DIR *d)
{
	pthread_once(&real_once, real_resolve);
	if (flag_is_up("XS_SHIM_READDIR_FAIL_WHILE")) {
		errno = EIO;
		return NULL;
	}
	return real_readdir(d);
}
