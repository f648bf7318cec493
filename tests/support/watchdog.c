/* SPDX-License-Identifier: MIT */
/* A hung test tells where it hung. ctest kills a test past its TIMEOUT
 * (300 s) and shows only its output so far, which names the test but not
 * the call that never returned, in the test or in the xselld it talks
 * to. Past XS_TEST_HANG_S seconds (default 270), this prints the stack
 * of every thread of the test and of its child processes (with gdb,
 * which tools/deps.sh installs) and aborts the test. */
#include "support.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define HANG_S_DEFAULT 270

static pthread_once_t watchdog_once = PTHREAD_ONCE_INIT;
static unsigned       watchdog_s;

/* The parent of process 'pid' from /proc/PID/stat, or -1. The command
 * name, in parentheses, may itself hold spaces and parentheses: the
 * fields after it follow the last ')'. */
static pid_t
parent_of(pid_t pid)
{
	char  path[64], buf[512];
	char *end;
	FILE *fp;
	int   ppid = -1;
	char  state;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
	fp = fopen(path, "r");
	if (fp == NULL) {
		return -1;
	}
	buf[0] = '\0';
	if (fgets(buf, sizeof(buf), fp) != NULL &&
	    (end = strrchr(buf, ')')) != NULL &&
	    sscanf(end + 1, " %c %d", &state, &ppid) != 2) {
		ppid = -1;
	}
	fclose(fp);
	return (pid_t) ppid;
}

static void
print_stacks(pid_t pid)
{
	char cmd[160];

	fprintf(stderr, "---- threads of process %d ----\n", (int) pid);
	fflush(stderr);
	snprintf(cmd, sizeof(cmd),
	    "gdb -batch -nx -p %d -ex 'thread apply all bt 40' 1>&2",
	    (int) pid);
	if (system(cmd) != 0) {
		fprintf(stderr, "(no stacks: is gdb installed?)\n");
	}
}

static void
print_children_stacks(void)
{
	DIR           *d = opendir("/proc");
	struct dirent *e;

	if (d == NULL) {
		return;
	}
	while ((e = readdir(d)) != NULL) {
		char *end;
		long  pid = strtol(e->d_name, &end, 10);

		if (*end == '\0' && pid > 0 &&
		    parent_of((pid_t) pid) == getpid()) {
			print_stacks((pid_t) pid);
		}
	}
	closedir(d);
}

static void *
watchdog_main(void *arg)
{
	struct timespec left = { (time_t) watchdog_s, 0 };

	(void) arg;
	while (nanosleep(&left, &left) != 0 && errno == EINTR) { }
	fprintf(stderr,
	    "\nwatchdog: the test has run %u s (XS_TEST_HANG_S): it hangs; "
	    "its stacks and its children's follow, then it aborts\n",
	    watchdog_s);
	print_stacks(getpid());
	print_children_stacks();
	abort();
	return NULL;
}

static void
watchdog_begin(void)
{
	const char *env  = getenv("XS_TEST_HANG_S");
	const char *wrap = getenv("XSELL_TEST_WRAP");
	pthread_t   t;

	/* Under valgrind (tools/valgrind.sh) a test may run for an hour. */
	if (wrap != NULL && wrap[0] != '\0') {
		return;
	}
	watchdog_s = env != NULL && env[0] != '\0'
	    ? (unsigned) strtoul(env, NULL, 10)
	    : HANG_S_DEFAULT;
	if (watchdog_s == 0) {
		return;
	}
#ifdef PR_SET_PTRACER
	/* Yama may allow tracing only by an ancestor; gdb is our child. */
	(void) prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
#endif
	if (pthread_create(&t, NULL, watchdog_main, NULL) == 0) {
		pthread_detach(t);
	}
}

void
xs_test_watchdog_start(void)
{
	pthread_once(&watchdog_once, watchdog_begin);
}
