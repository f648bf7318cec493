/* SPDX-License-Identifier: MIT */
/* LD_PRELOAD shim for test_wal: xselld's applier cannot open the next
 * file of its log, as when the process has no descriptor left (EMFILE),
 * for as long as the test wants (server/wal.c, reader_open).
 *
 * While the file named by $XS_SHIM_OPEN_FAIL_WHILE exists, opening a
 * segment of the log read-only (only the applier's reader does; the
 * writers create them write-only) fails with EMFILE. Every other call
 * is passed on as it is. xselld calls open (not open64: see nm -D). */
/* A feature-test macro, not an identifier of ours: RTLD_NEXT, O_TMPFILE. */
// NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp)
#define _GNU_SOURCE
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

static void
real_resolve(void)
{
	/* The POSIX way to assign a function pointer from dlsym. */
	*(void **) &real_open = dlsym(RTLD_NEXT, "open");
}

static pthread_once_t real_once = PTHREAD_ONCE_INIT;

/* Whether opening 'path' with 'flags' must fail now. */
static bool
open_fails(const char *path, int flags)
{
	const char *flag = getenv("XS_SHIM_OPEN_FAIL_WHILE");

	return (flags & O_ACCMODE) == O_RDONLY && path_is_log(path) &&
	    flag != NULL && access(flag, F_OK) == 0;
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
