/* SPDX-License-Identifier: MIT */
/* The bulk flush's rows: each item's partners (its bucket) counted in a
 * table into its neighbour list, written whole or spilled into the log;
 * counted on a helper thread while the row before is written. */
#include "model/acc_impl.h"

#include <assert.h>
#include <stdlib.h>

/* The counting table of one relation, indexed by b, with a bitmap of
 * the b's counted so far: read word by word, it gives them back in
 * ascending order without a sort or a scan of empty slots. */
struct dense {
	uint32_t *cnt;  /* the count of (a, b), a being counted */
	uint64_t *bits; /* bit b: cnt[b] != 0 */
	size_t    nb;   /* max_b + 1 */
};

static xsell_err
dense_init(struct dense *d, const struct bucket_set *s)
{
	d->nb   = (size_t) s->max_b + 1;
	d->cnt  = calloc(d->nb, sizeof(*d->cnt));
	d->bits = calloc(d->nb / 64 + 1, sizeof(*d->bits));
	if (d->cnt == NULL || d->bits == NULL) {
		free(d->cnt);
		free(d->bits);
		return XSELL_ENOMEM;
	}
	return XSELL_OK;
}

static void
dense_fini(struct dense *d)
{
	free(d->cnt);
	free(d->bits);
}

/* The most entries a's row can have: one a b, at most every b. */
static size_t
dense_room(const struct dense *d, const struct bucket *bk)
{
	return bk->n < d->nb ? bk->n : d->nb;
}

/* Count the b's of one a (the bucket bk) into row (room for
 * dense_room entries), ascending b, each with its count; returns the
 * row's length. The table and bitmap are left zeroed. No branch
 * depends on the data while counting: the first sight of a b is marked
 * in the bitmap, not tested. Touches nothing of the accumulator but the
 * bucket (read): the flush's helper thread calls it. */
static size_t
dense_row(struct dense *d, const struct bucket *bk, struct xs_top_entry *row)
{
	size_t   n_row = 0;
	uint32_t lo = UINT32_MAX, hi = 0;

	for (const struct block *blk = bk->head; blk != NULL;
	     blk                     = blk->next) {
		size_t len = block_len(bk, blk);

		for (size_t k = 0; k < len; k++) {
			uint32_t b = blk->b[k];

			d->cnt[b]++;
			d->bits[b / 64] |= (uint64_t) 1 << (b % 64);
			lo = b < lo ? b : lo;
			hi = b > hi ? b : hi;
		}
	}
	for (size_t wi = lo / 64; bk->n != 0 && wi <= hi / 64; wi++) {
		uint64_t word = d->bits[wi];

		d->bits[wi] = 0;
		while (word != 0) {
			uint32_t b = (uint32_t) (wi * 64) +
			    (uint32_t) __builtin_ctzll(word);

			word &= word - 1;
			row[n_row].b     = b;
			row[n_row].count = d->cnt[b];
			d->cnt[b]        = 0;
			n_row++;
		}
	}
	return n_row;
}

/* Where the rows of rows_count go: row_room gives room for a row of up
 * to 'room' entries, row_put takes the row counted there. */
struct row_sink {
	xsell_err (*row_room)(
	    void *ctx, size_t room, struct xs_top_entry **rowp);
	xsell_err (*row_put)(
	    void *ctx, uint32_t a, const struct xs_top_entry *row, size_t n);
	void *ctx;
};

/* Count set s's rows, a by a (the non-empty buckets), into the sink. */
static xsell_err
rows_count(
    struct dense *d, const struct bucket_set *s, const struct row_sink *sink)
{
	xsell_err err = XSELL_OK;

	for (size_t a = 0; a < s->n_a && err == XSELL_OK; a++) {
		const struct bucket *bk = &s->by_a[a];
		size_t               room, n;
		struct xs_top_entry *row;

		if (bk->n == 0) {
			continue;
		}
		room = dense_room(d, bk);
		err  = sink->row_room(sink->ctx, room, &row);
		if (err == XSELL_OK) {
			n = dense_row(d, bk, row);
			assert(n <= room);
			err = sink->row_put(sink->ctx, (uint32_t) a, row, n);
		}
	}
	return err;
}

/* Relation rel's rows counted on the caller's thread into acc->row. */
struct row_here {
	xs_acc         *acc;
	uint32_t        rel;
	xs_pair_writer *w; /* row_write's */
};

static xsell_err
row_here_room(void *ctx, size_t room, struct xs_top_entry **rowp)
{
	xs_acc *acc = ((struct row_here *) ctx)->acc;

	if (room > acc->row_cap) {
		struct xs_top_entry *row =
		    realloc(acc->row, room * sizeof(*row));

		if (row == NULL) {
			return XSELL_ENOMEM;
		}
		acc->row     = row;
		acc->row_cap = room;
	}
	*rowp = acc->row;
	return XSELL_OK;
}

/* Sum relation rel's buckets a by a and hand each row (of an item with
 * changes) to 'put' (ctx a struct row_here). */
static xsell_err
buckets_each_row(struct row_here *h,
    xsell_err (*put)(void *, uint32_t, const struct xs_top_entry *, size_t))
{
	struct bucket_set    *s    = &h->acc->dense[h->rel];
	const struct row_sink sink = { row_here_room, put, h };
	struct dense          d;
	xsell_err             err;

	if (s->n_a == 0) {
		return XSELL_OK;
	}
	err = dense_init(&d, s);
	if (err == XSELL_OK) {
		err = rows_count(&d, s, &sink);
		dense_fini(&d);
	}
	return err;
}

static xsell_err
row_write(void *ctx, uint32_t a, const struct xs_top_entry *row, size_t n)
{
	struct row_here *h = ctx;

	return xs_pair_writer_put(h->w, (enum xs_rel) h->rel, a, row, n);
}

/* ==== The bulk flush's pipeline: rows counted on a helper thread ==== */

/* Writing a row costs LMDB about 60 ns a pair (an appended duplicate);
 * counting it costs a fifth of that, and the two need nothing of each
 * other but the row. So a helper thread counts the rows ahead of the
 * writer into chunks, and the flush, which alone touches the
 * transaction, writes them in order: the same rows in the same order as
 * counting them here. A chunk holds consecutive rows, up to ROW_CHUNK
 * entries (8 bytes each) or ROW_CHUNK_ROWS rows (a row longer than that
 * gets a chunk of its own, at most DENSE_MAX entries); ROW_RING chunks
 * are in flight, so the ring holds 8 MiB, and at most 32 MiB, and the
 * two threads meet once a chunk (a few dozen times on Online Retail),
 * not once a row: on a busy machine each meeting may wait for the other
 * thread to be scheduled. */
#define ROW_CHUNK ((size_t) 1 << 18)
#define ROW_CHUNK_ROWS 4096u
#define ROW_RING 4u

struct row_ref {
	uint32_t a;
	uint32_t n;   /* entries */
	size_t   off; /* into the chunk's entries */
};

struct row_chunk {
	struct xs_top_entry *e;
	size_t               cap, used;
	struct row_ref      *rows; /* ROW_CHUNK_ROWS */
	size_t               n_rows;
};

struct row_pipe {
	const struct bucket_set *s;
	struct dense             d; /* the helper's */
	struct row_chunk         c[ROW_RING];
	struct row_chunk        *cur;  /* the helper's, being filled */
	struct xs_ring           ring; /* the helper fills c, in turn */
};

/* The helper: the next free chunk, emptied, into p->cur. false if the
 * writer stopped the pipe. */
static bool
pipe_next(struct row_pipe *p)
{
	size_t k;

	if (!xs_ring_fill(&p->ring, &k)) {
		return false;
	}
	p->cur         = &p->c[k];
	p->cur->used   = 0;
	p->cur->n_rows = 0;
	return true;
}

/* The helper: room in the chunk for a row of up to 'room' entries,
 * handing the chunk over first if it is full. XSELL_EINTERNAL if the
 * writer stopped the pipe (never seen by the writer, which failed). */
static xsell_err
pipe_room(void *ctx, size_t room, struct xs_top_entry **rowp)
{
	struct row_pipe  *p = ctx;
	struct row_chunk *c = p->cur;

	if (c->n_rows == ROW_CHUNK_ROWS ||
	    (c->n_rows != 0 && c->cap - c->used < room)) {
		xs_ring_publish(&p->ring);
		if (!pipe_next(p)) {
			return XSELL_EINTERNAL;
		}
		c = p->cur;
	}
	if (c->cap - c->used < room) { /* an empty chunk, a long row */
		struct xs_top_entry *e = realloc(c->e, room * sizeof(*e));

		if (e == NULL) {
			return XSELL_ENOMEM;
		}
		c->e   = e;
		c->cap = room;
	}
	*rowp = c->e + c->used;
	return XSELL_OK;
}

/* The helper: the row just counted at the chunk's end is kept. */
static xsell_err
pipe_put(void *ctx, uint32_t a, const struct xs_top_entry *row, size_t n)
{
	struct row_pipe  *p = ctx;
	struct row_chunk *c = p->cur;

	(void) row; /* c->e + c->used, given by pipe_room */
	c->rows[c->n_rows].a   = a;
	c->rows[c->n_rows].n   = (uint32_t) n;
	c->rows[c->n_rows].off = c->used;
	c->n_rows++;
	c->used += n;
	return XSELL_OK;
}

/* The helper: every non-empty bucket's row, in a order, into chunks. */
static void *
pipe_count(void *arg)
{
	struct row_pipe      *p    = arg;
	const struct row_sink sink = { pipe_room, pipe_put, p };
	xsell_err             err  = XSELL_EINTERNAL;

	if (pipe_next(p)) {
		err = rows_count(&p->d, p->s, &sink);
	}
	if (err == XSELL_OK && p->cur->n_rows != 0) {
		xs_ring_publish(&p->ring); /* the last one */
	}
	xs_ring_end(&p->ring, err == XSELL_EINTERNAL ? XSELL_OK : err);
	return NULL;
}

/* The writer: the chunks' rows, in order, until the helper is done.
 * Returns the first error, the writer's or the helper's. */
static xsell_err
pipe_write(struct row_pipe *p, xs_pair_writer *w, uint32_t rel)
{
	size_t    k;
	xsell_err err;

	while (xs_ring_take(&p->ring, &k, &err)) {
		const struct row_chunk *c = &p->c[k];

		err = XSELL_OK;
		for (size_t i = 0; i < c->n_rows && err == XSELL_OK; i++) {
			err = xs_pair_writer_put(w, (enum xs_rel) rel,
			    c->rows[i].a, c->e + c->rows[i].off, c->rows[i].n);
		}
		if (err != XSELL_OK) {
			return err;
		}
		xs_ring_release(&p->ring);
	}
	return err;
}

static void
pipe_free(struct row_pipe *p)
{
	for (unsigned i = 0; i < ROW_RING; i++) {
		free(p->c[i].e);
		free(p->c[i].rows);
	}
	dense_fini(&p->d);
	free(p);
}

/* Start the helper on relation set s; NULL if it cannot start (no
 * memory, no thread): the caller counts the rows itself. */
static struct row_pipe *
pipe_start(const struct bucket_set *s)
{
	struct row_pipe *p  = calloc(1, sizeof(*p));
	bool             ok = true;

	if (p == NULL) {
		return NULL;
	}
	p->s = s;
	for (unsigned i = 0; i < ROW_RING && ok; i++) {
		p->c[i].e    = malloc(ROW_CHUNK * sizeof(*p->c[i].e));
		p->c[i].cap  = ROW_CHUNK;
		p->c[i].rows = malloc(ROW_CHUNK_ROWS * sizeof(*p->c[i].rows));
		ok           = p->c[i].e != NULL && p->c[i].rows != NULL;
	}
	if (!ok || dense_init(&p->d, s) != XSELL_OK) {
		pipe_free(p); /* dense_fini of a zeroed dense frees nothing */
		return NULL;
	}
	if (xs_ring_start(&p->ring, ROW_RING, pipe_count, p)) {
		return p;
	}
	pipe_free(p);
	return NULL;
}

/* Stop the helper (at once if the writer failed), join it, free it. */
static void
pipe_end(struct row_pipe *p)
{
	xs_ring_join(&p->ring);
	pipe_free(p);
}

/* Write relation rel's buckets, a by a, each a's list whole: counted
 * on the helper thread while written here, or here alone if the helper
 * cannot start. */
xsell_err
xs_acc_buckets_write(xs_acc *acc, xs_pair_writer *w, uint32_t rel)
{
	struct row_here  h = { acc, rel, w };
	struct row_pipe *p;
	xsell_err        err;

	if (acc->dense[rel].n_a == 0) {
		return XSELL_OK;
	}
	p = pipe_start(&acc->dense[rel]);
	if (p == NULL) {
		return buckets_each_row(&h, row_write);
	}
	err = pipe_write(p, w, rel);
	pipe_end(p);
	return err;
}

static xsell_err
row_spill(void *ctx, uint32_t a, const struct xs_top_entry *row, size_t n)
{
	struct row_here *h   = ctx;
	xs_acc          *acc = h->acc;
	xsell_err        err = XSELL_OK;

	for (size_t k = 0; k < n && err == XSELL_OK; k++) {
		err = xs_acc_log_add(
		    &acc->pairs, h->rel, a, row[k].b, (int32_t) row[k].count);
	}
	acc->held -= acc->dense[h->rel].by_a[a].n;
	return err;
}

/* Sum relation rel's buckets into the log and empty them. */
xsell_err
xs_acc_buckets_spill(xs_acc *acc, uint32_t rel)
{
	struct row_here h   = { acc, rel, NULL };
	xsell_err       err = buckets_each_row(&h, row_spill);

	if (err == XSELL_OK) {
		xs_acc_buckets_free(acc, &acc->dense[rel]);
	}
	return err;
}
