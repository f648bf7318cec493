/* SPDX-License-Identifier: MIT */
/* How a daemon (xselld, xsell-gateway) is stopped: SIGINT and SIGTERM
 * are blocked in every thread and taken by main with sigwait, so that
 * no handler runs inside a library call. */
#include "common/common.h"

#include <signal.h>

static void
stop_set(sigset_t *sigs)
{
	sigemptyset(sigs);
	sigaddset(sigs, SIGINT);
	sigaddset(sigs, SIGTERM);
}

void
xs_stop_signals_block(void)
{
	sigset_t sigs;

	stop_set(&sigs);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	/* A peer that goes away is an error on its socket, not an exit. */
	(void) signal(SIGPIPE, SIG_IGN); /* fails only for a bad number */
}

int
xs_stop_signal_wait(void)
{
	sigset_t sigs;
	int      sig = 0;

	stop_set(&sigs);
	while (sigwait(&sigs, &sig) != 0) { }
	return sig;
}
