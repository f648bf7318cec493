/* SPDX-License-Identifier: MIT */
/* A ring of slots between a helper thread, which fills them, and the
 * caller, which takes them in the order filled (the loader's reader,
 * the bulk flush's row counter). */
#include "common/common.h"

bool
xs_ring_start(
    struct xs_ring *r, size_t n_slots, void *(*produce)(void *), void *arg)
{
	r->n_slots = n_slots;
	r->filled  = 0;
	r->taken   = 0;
	r->ended   = false;
	r->stopped = false;
	r->end_err = XSELL_OK;
	return n_slots != 0 && xs_helper_start(&r->h, produce, arg);
}

bool
xs_ring_fill(struct xs_ring *r, size_t *slotp)
{
	bool   stopped;
	size_t slot;

	pthread_mutex_lock(&r->h.mu);
	while (r->filled - r->taken == r->n_slots && !r->stopped) {
		pthread_cond_wait(&r->h.cv, &r->h.mu);
	}
	stopped = r->stopped;
	slot    = r->filled % r->n_slots;
	pthread_mutex_unlock(&r->h.mu);
	if (!stopped) {
		*slotp = slot;
	}
	return !stopped;
}

/* Signalling with nobody waiting costs no system call (glibc), so the
 * side that changes a state signals every time instead of keeping
 * track of whether the other side waits. */
void
xs_ring_publish(struct xs_ring *r)
{
	pthread_mutex_lock(&r->h.mu);
	r->filled++;
	pthread_cond_signal(&r->h.cv);
	pthread_mutex_unlock(&r->h.mu);
}

void
xs_ring_end(struct xs_ring *r, xsell_err err)
{
	pthread_mutex_lock(&r->h.mu);
	r->ended   = true;
	r->end_err = err;
	pthread_cond_signal(&r->h.cv);
	pthread_mutex_unlock(&r->h.mu);
}

bool
xs_ring_take(struct xs_ring *r, size_t *slotp, xsell_err *endp)
{
	bool full;

	pthread_mutex_lock(&r->h.mu);
	while (r->taken == r->filled && !r->ended) {
		pthread_cond_wait(&r->h.cv, &r->h.mu);
	}
	full = r->taken != r->filled;
	if (full) {
		*slotp = r->taken % r->n_slots;
	} else {
		*endp = r->end_err;
	}
	pthread_mutex_unlock(&r->h.mu);
	return full;
}

void
xs_ring_release(struct xs_ring *r)
{
	pthread_mutex_lock(&r->h.mu);
	r->taken++;
	pthread_cond_signal(&r->h.cv);
	pthread_mutex_unlock(&r->h.mu);
}

void
xs_ring_join(struct xs_ring *r)
{
	pthread_mutex_lock(&r->h.mu);
	r->stopped = true;
	pthread_cond_signal(&r->h.cv);
	pthread_mutex_unlock(&r->h.mu);
	xs_helper_join(&r->h);
}
