/* SPDX-License-Identifier: MIT */
/* A helper thread with its mutex and condition variable: started whole
 * or not at all, joined and torn down together. */
#include "common/common.h"

bool
xs_helper_start(struct xs_helper *h, void *(*run)(void *), void *arg)
{
	if (pthread_mutex_init(&h->mu, NULL) != 0) {
		return false;
	}
	if (pthread_cond_init(&h->cv, NULL) != 0) {
		pthread_mutex_destroy(&h->mu);
		return false;
	}
	if (pthread_create(&h->thread, NULL, run, arg) != 0) {
		pthread_cond_destroy(&h->cv);
		pthread_mutex_destroy(&h->mu);
		return false;
	}
	return true;
}

void
xs_helper_join(struct xs_helper *h)
{
	pthread_join(h->thread, NULL);
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
}
