/* SPDX-License-Identifier: MIT */
/* The hang watchdog (support/watchdog.c): a test process that runs past
 * XS_TEST_HANG_S prints its own threads' stacks and its children's, then
 * aborts. Run in a child whose stderr goes to a file, with a child of
 * its own that sleeps too. */
#include "support.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static char out[1 << 20];

/* A test that hangs: arms the watchdog at 1 s, starts a child that
 * sleeps, and sleeps. Never returns. */
static void
hang(const char *log)
{
	pid_t child;

	if (freopen(log, "w", stderr) == NULL) {
		_exit(126);
	}
	setenv("XS_TEST_HANG_S", "1", 1);
	unsetenv("XSELL_TEST_WRAP");
	child = fork();
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		pause();
		_exit(0);
	}
	fprintf(stderr, "child %d\n", (int) child);
	fflush(stderr);
	xs_test_watchdog_start();
	for (;;) {
		pause();
	}
}

static void
test_watchdog_hung_test_prints_stacks_and_aborts(void **state)
{
	char *dir = xs_test_tmpdir();
	char  log[4200], want[64];
	int   status, child = 0;
	pid_t pid, got      = 0;

	(void) state;
	snprintf(log, sizeof(log), "%s/stderr", dir);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		hang(log);
	}
	/* gdb takes a second or two a process; a watchdog that never
	 * fires fails here, not at ctest's timeout. */
	for (int i = 0; i < 600 && (got = waitpid(pid, &status, WNOHANG)) == 0;
	     i++) {
		usleep(100 * 1000);
	}
	if (got != pid) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		fail_msg("the hung child was not aborted within 60 s");
	}
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);

	xs_test_slurp(log, out, sizeof(out));
	xs_test_assert_has(out, "watchdog: the test has run 1 s");
	snprintf(
	    want, sizeof(want), "---- threads of process %d ----", (int) pid);
	xs_test_assert_has(out, want);
	assert_int_equal(sscanf(out, "child %d", &child), 1);
	snprintf(want, sizeof(want), "---- threads of process %d ----", child);
	xs_test_assert_has(out, want);
	/* gdb's stacks (tools/deps.sh installs it), not its absence. */
	xs_test_assert_has(out, "Thread 1 ");
	assert_null(strstr(out, "no stacks"));
	xs_test_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_watchdog_hung_test_prints_stacks_and_aborts),
	};

	return cmocka_run_group_tests_name("watchdog", tests, NULL, NULL);
}
