/* SPDX-License-Identifier: MIT */
/* Scratch indexes (store.h): zeroed arrays of u32, one per item number,
 * lent to one answer at a time and given back zeroed. for_you sums
 * thousands of credits into a tally a request; an array indexed by item
 * number finds a candidate with one load where a hash table probed, and
 * lending it keeps its zeroing (a page fault per 4 KiB the first time)
 * out of every request: a borrower clears only the entries it set. */
#include "store/store_impl.h"

#include <stdlib.h>
#include <string.h>

/* Count 'bytes' more (made) or fewer (freed) arrays' memory. */
static void
pool_count(struct xs_index_pool *pool, size_t bytes, bool made)
{
	pthread_mutex_lock(&pool->mtx);
	if (made) {
		pool->bytes += bytes;
	} else {
		pool->bytes -= bytes;
	}
	pthread_mutex_unlock(&pool->mtx);
}

uint32_t *
xs_store_index_take(xs_store *st, size_t n, size_t *capp)
{
	struct xs_index_pool *pool = &st->index_pool;
	uint32_t             *p    = NULL;
	size_t                cap  = 0;

	*capp = 0;
	if (n == 0 || n > XS_INDEX_MAX) {
		return NULL;
	}
	pthread_mutex_lock(&pool->mtx);
	if (pool->n_free > 0) {
		pool->n_free--;
		p   = pool->free[pool->n_free].p;
		cap = pool->free[pool->n_free].cap;
	}
	pthread_mutex_unlock(&pool->mtx);
	if (cap < n) {
		/* Room for the catalogue to grow a while before the next. */
		size_t    want = n + n / 4 < XS_INDEX_MAX ? n + n / 4 : n;
		uint32_t *q    = realloc(p, want * sizeof(*p));

		if (q == NULL) {
			pool_count(pool, cap * sizeof(*p), false);
			free(p);
			return NULL;
		}
		memset(q + cap, 0, (want - cap) * sizeof(*q));
		pool_count(pool, (want - cap) * sizeof(*q), true);
		p   = q;
		cap = want;
	}
	*capp = cap;
	return p;
}

void
xs_store_index_give(xs_store *st, uint32_t *p, size_t cap)
{
	struct xs_index_pool *pool = &st->index_pool;

	if (p == NULL) {
		return;
	}
	pthread_mutex_lock(&pool->mtx);
	if (pool->n_free < XS_INDEX_POOL) {
		pool->free[pool->n_free].p   = p;
		pool->free[pool->n_free].cap = cap;
		pool->n_free++;
		p = NULL;
	} else {
		pool->bytes -= cap * sizeof(*p);
	}
	pthread_mutex_unlock(&pool->mtx);
	free(p);
}

size_t
xs_store_index_bytes(xs_store *st)
{
	size_t bytes;

	pthread_mutex_lock(&st->index_pool.mtx);
	bytes = st->index_pool.bytes;
	pthread_mutex_unlock(&st->index_pool.mtx);
	return bytes;
}

void
xs_store_index_pool_fini(xs_store *st)
{
	struct xs_index_pool *pool = &st->index_pool;

	for (size_t i = 0; i < pool->n_free; i++) {
		free(pool->free[i].p);
	}
	pool->n_free = 0;
	pool->bytes  = 0;
}
