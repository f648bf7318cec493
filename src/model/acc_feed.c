/* SPDX-License-Identifier: MIT */
/* Bulk mode: basket pairs appended on a helper thread (the accumulator's
 * feed). */
#include "model/acc_impl.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* A basket of n items makes n(n-1) appends (a tenth of a fresh load's
 * time on Online Retail) and needs nothing of the transaction: the
 * model hands the basket's ids over instead, and a helper thread
 * appends its pairs into a set of buckets of its own, from an arena of
 * its own, while the model goes on with the orders' LMDB writes. The
 * set joins the accumulator (xs_acc_feed_end) before anything reads it:
 * a spill, the flush, a clear. Pairs are counted, so the order in
 * which they are appended changes nothing; but the feed keeps it, one
 * helper taking the records in the order written.
 *
 * The ids go through a ring of FEED_WORDS words (1 MiB): each record is
 * a head word (n, then n ids; or FEED_PAIR, then a and b: one pair of
 * xs_acc_pair_add) written by the model; the helper is told of them
 * FEED_PUBLISH words at a time, so that neither side takes the lock
 * for every basket, and the model waits when the ring is full. A record
 * never wraps around the ring's end: one that would not fit before it
 * starts at the ring's start, after a FEED_WRAP head where it would
 * have begun, so the helper reads every record in place. The words
 * skipped are at most a record's, so a record of FEED_RECORD_MAX words
 * or fewer always fits an empty ring, skip and all. */
#define FEED_WORDS ((size_t) 1 << 18)
#define FEED_PUBLISH ((size_t) 1 << 14)
#define FEED_RECORD_MAX (FEED_WORDS / 2)
#define FEED_PAIR UINT32_MAX
#define FEED_WRAP (UINT32_MAX - 1)

struct feed {
	uint32_t          rel;
	struct bucket_set set; /* the helper's, until xs_acc_feed_end */
	struct arena      arena;
	size_t            bucket_bytes;
	uint32_t         *ring;      /* FEED_WORDS */
	size_t            write;     /* the model's: words written */
	size_t            read_seen; /* the model's copy of read */
	struct xs_helper  h;
	/* Under h.mu. Words [read, published) are the helper's to take. */
	size_t    published, read;
	size_t    bytes; /* the helper's memory, as of its last batch */
	bool      helper_waits, model_waits, closing;
	xsell_err err; /* the helper's first error */
};

/* The helper: append the pairs of the records in [pos, end). */
static xsell_err
feed_take(struct feed *f, size_t pos, size_t end)
{
	xsell_err err = XSELL_OK;

	while (pos < end && err == XSELL_OK) {
		size_t          at   = pos % FEED_WORDS;
		uint32_t        head = f->ring[at];
		size_t          len  = head == FEED_PAIR ? 2 : head;
		const uint32_t *rec  = f->ring + at + 1;

		if (head == FEED_WRAP) {
			pos +=
			    FEED_WORDS - at; /* the record is at the start */
			continue;
		}
		assert(at + 1 + len <= FEED_WORDS);
		if (head == FEED_PAIR) {
			err = xs_acc_pair_push(&f->arena, &f->bucket_bytes,
			    &f->set, rec[0], rec[1]);
		} else {
			err = xs_acc_basket_push(
			    &f->arena, &f->bucket_bytes, &f->set, rec, len);
		}
		pos += 1 + len;
	}
	return err;
}

static void *
feed_run(void *arg)
{
	struct feed *f = arg;
	xsell_err    err;

	for (;;) {
		size_t start, end;

		pthread_mutex_lock(&f->h.mu);
		while (f->read == f->published && !f->closing) {
			f->helper_waits = true;
			pthread_cond_wait(&f->h.cv, &f->h.mu);
		}
		start = f->read;
		end   = f->published;
		pthread_mutex_unlock(&f->h.mu);
		if (start == end) {
			return NULL; /* closing, and everything taken */
		}
		err = feed_take(f, start, end);
		pthread_mutex_lock(&f->h.mu);
		f->read  = end;
		f->err   = err;
		f->bytes = f->bucket_bytes + f->arena.bytes;
		if (f->model_waits) {
			f->model_waits = false;
			pthread_cond_broadcast(&f->h.cv);
		}
		pthread_mutex_unlock(&f->h.mu);
		if (err != XSELL_OK) {
			return NULL;
		}
	}
}

/* Tell the helper of every word written. Returns its error, if any. */
static xsell_err
feed_publish(struct feed *f)
{
	xsell_err err;

	pthread_mutex_lock(&f->h.mu);
	f->published = f->write;
	if (f->helper_waits) {
		f->helper_waits = false;
		pthread_cond_broadcast(&f->h.cv);
	}
	f->read_seen = f->read;
	err          = f->err;
	pthread_mutex_unlock(&f->h.mu);
	return err;
}

/* Wait for room for 'len' more words (at most FEED_WORDS). */
static xsell_err
feed_room(struct feed *f, size_t len)
{
	xsell_err err;

	if (f->write + len - f->read_seen <= FEED_WORDS) {
		return XSELL_OK;
	}
	(void) feed_publish(f);
	pthread_mutex_lock(&f->h.mu);
	err = f->err; /* read under mu: the helper may have failed since */
	while (err == XSELL_OK && f->write + len - f->read > FEED_WORDS) {
		f->model_waits = true;
		pthread_cond_wait(&f->h.cv, &f->h.mu);
		err = f->err;
	}
	f->read_seen = f->read;
	pthread_mutex_unlock(&f->h.mu);
	return err;
}

/* Write one record: 'head', then w[0..n) (n + 1 <= FEED_RECORD_MAX),
 * at the ring's start if it would not fit before its end. */
static xsell_err
feed_put(struct feed *f, uint32_t head, const uint32_t *w, size_t n)
{
	size_t    at = f->write % FEED_WORDS, tail = FEED_WORDS - at;
	size_t    skip = tail < n + 1 ? tail : 0;
	xsell_err err;

	assert(n + 1 <= FEED_RECORD_MAX);
	err = feed_room(f, skip + n + 1);
	if (err != XSELL_OK) {
		return err;
	}
	if (skip != 0) {
		f->ring[at] = FEED_WRAP;
		f->write += skip;
		at = 0;
	}
	f->ring[at] = head;
	memcpy(f->ring + at + 1, w, n * sizeof(uint32_t));
	f->write += n + 1;
	if (f->write - f->published >= FEED_PUBLISH) {
		err = feed_publish(f);
	}
	return err;
}

static void
feed_free(struct feed *f)
{
	free(f->ring);
	free(f);
}

/* Start a helper for relation rel, whose buckets are empty. Without
 * memory or a thread, the feed stays off until the accumulator is
 * cleared: the model appends the pairs itself. */
void
xs_acc_feed_start(xs_acc *acc, uint32_t rel)
{
	struct feed *f = calloc(1, sizeof(*f));

	acc->feed_off = true;
	if (f == NULL) {
		return;
	}
	f->rel  = rel;
	f->ring = malloc(FEED_WORDS * sizeof(uint32_t));
	if (f->ring != NULL && xs_helper_start(&f->h, feed_run, f)) {
		acc->feed     = f;
		acc->feed_off = false;
		return;
	}
	feed_free(f);
}

/* The arena's chunks join 'into' (freed with it). */
static void
arena_join(struct arena *into, struct arena *from)
{
	struct arena_chunk **tail = &into->chunks;

	while (*tail != NULL) {
		tail = &(*tail)->next;
	}
	*tail = from->chunks;
	into->bytes += from->bytes;
	from->chunks = NULL;
	from->bytes  = 0;
}

/* Let the helper take every record, join it, and hand its buckets to
 * the accumulator, whose own for that relation are empty. Returns the
 * helper's error (the buckets it filled join all the same: they are
 * freed with the accumulator's). */
xsell_err
xs_acc_feed_end(xs_acc *acc)
{
	struct feed *f = acc->feed;
	xsell_err    err;

	if (f == NULL) {
		return XSELL_OK;
	}
	acc->feed = NULL;
	pthread_mutex_lock(&f->h.mu);
	f->published = f->write;
	f->closing   = true;
	pthread_cond_broadcast(&f->h.cv);
	pthread_mutex_unlock(&f->h.mu);
	xs_helper_join(&f->h);
	err                = f->err;
	acc->dense[f->rel] = f->set;
	acc->bucket_bytes += f->bucket_bytes;
	arena_join(&acc->arena, &f->arena);
	feed_free(f);
	return err;
}

/* The helper's memory, as of its last batch (none: 0). */
size_t
xs_acc_feed_bytes(struct feed *f)
{
	size_t bytes;

	if (f == NULL) {
		return 0;
	}
	pthread_mutex_lock(&f->h.mu);
	bytes = f->bytes;
	pthread_mutex_unlock(&f->h.mu);
	return bytes;
}

bool
xs_acc_feed_takes(const xs_acc *acc, uint32_t rel)
{
	return acc->feed != NULL && acc->feed->rel == rel;
}

bool
xs_acc_feed_fits(size_t n)
{
	return n + 1 <= FEED_RECORD_MAX;
}

xsell_err
xs_acc_feed_pair(struct feed *f, uint32_t a, uint32_t b)
{
	const uint32_t ab[2] = { a, b };

	return feed_put(f, FEED_PAIR, ab, 2);
}

xsell_err
xs_acc_feed_basket(struct feed *f, const uint32_t *ids, size_t n)
{
	return feed_put(f, (uint32_t) n, ids, n);
}
