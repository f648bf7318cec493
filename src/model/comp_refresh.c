/* SPDX-License-Identifier: MIT */
/* Keeping complements' precomputed lists fresh: find the items whose
 * list is missing or not fresh (xs_model_comp_is_fresh), most urgent
 * first, and recompute them in chunks. A chunk is computed in a read
 * transaction, which blocks nobody, and only then written in a write
 * transaction of its own, so the write lock is held for a chunk's puts
 * alone (a few milliseconds), never for the walks. A list computed from
 * a snapshot that a commit overtakes is still stamped with that
 * snapshot's basket count of its item: an order of the item since makes
 * it not fresh again at once. */
#include "model/model_impl.h"

#include <stdlib.h>
#include <string.h>

/* Why a list is due, most urgent first. */
enum due_why {
	DUE_TOUCHED, /* its item was ordered (or forgotten) since */
	DUE_MISSING, /* never computed */
	DUE_OLD,     /* other settings, or half its allowed age gone */
};

struct due {
	uint32_t item;
	uint32_t why; /* enum due_why */
	int64_t  computed_s;
};

struct due_vec {
	struct due *v;
	size_t      n, cap;
};

static xsell_err
due_push(struct due_vec *d, uint32_t item, enum due_why why, int64_t at)
{
	if (d->n == d->cap) {
		size_t      cap = d->cap ? d->cap * 2 : 256;
		struct due *v   = realloc(d->v, cap * sizeof(*v));

		if (v == NULL) {
			return XSELL_ENOMEM;
		}
		d->v   = v;
		d->cap = cap;
	}
	d->v[d->n].item       = item;
	d->v[d->n].why        = why;
	d->v[d->n].computed_s = at;
	d->n++;
	return XSELL_OK;
}

/* Most urgent first: by why, then oldest, then item. */
static int
due_cmp(const void *x, const void *y)
{
	const struct due *p = x, *q = y;

	if (p->why != q->why) {
		return p->why < q->why ? -1 : 1;
	}
	if (p->computed_s != q->computed_s) {
		return p->computed_s < q->computed_s ? -1 : 1;
	}
	return p->item < q->item ? -1 : p->item > q->item;
}

/* Whether a list stamped 'stamp' is within half its allowed age at
 * now_s: past it, a fresh list is due, so that it is replaced before
 * answers stop using it. */
static bool
list_young(const struct xs_settings *set, const struct xs_comp_stamp *stamp,
    int64_t now_s)
{
	return now_s - stamp->computed_s <=
	    (int64_t) set->comp_list_max_age_s / 2;
}

/* Whether a's list is due for basis b, and why: missing; made before
 * orders were forgotten; a's basket count changed since, once the list
 * is o->touched_wait_s old; a fresh list past half its allowed age too,
 * so that it is replaced before answers stop using it. A list not due
 * sets *due_sp to the second it comes due by age alone, with no more
 * orders. */
static bool
list_due(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    const struct xs_comp_refresh_opts *o, uint32_t a,
    const struct xs_comp_basis *b, enum due_why *whyp, int64_t *atp,
    int64_t *due_sp)
{
	struct xs_comp_list l;

	*atp = 0;
	if (xs_store_comp_get(st, txn, a, &l) != XSELL_OK) {
		*whyp = DUE_MISSING;
		return true;
	}
	*atp = l.stamp.computed_s;
	if (l.stamp.txnid < b->forgotten_at) {
		/* Not fresh however long it waits: answers walk meanwhile. */
		*whyp = DUE_TOUCHED;
		return true;
	}
	if (l.stamp.n_a != b->n_a) {
		*whyp   = DUE_TOUCHED;
		*due_sp = l.stamp.computed_s + (int64_t) o->touched_wait_s;
		return b->now_s >= *due_sp;
	}
	*whyp   = DUE_OLD;
	*due_sp = l.stamp.computed_s + (int64_t) set->comp_list_max_age_s / 2 +
	    1; /* list_young */
	return !xs_model_comp_is_fresh(&l.stamp, set, set->complements_beta,
	           set->min_support, b) ||
	    !list_young(set, &l.stamp, b->now_s);
}

/* Every item with orders whose list is due, most urgent first. */
static xsell_err
find_due(xs_store *st, const struct xs_settings *set,
    const struct xs_comp_refresh_opts *o, struct due_vec *out,
    struct xs_comp_refresh_stats *stats)
{
	struct xs_counts_reader counts;
	struct xs_comp_basis    basis;
	MDB_txn                *txn;
	uint32_t                max = 0;
	xsell_err               err = xs_txn_read(st, &txn);

	if (err != XSELL_OK) {
		return err;
	}
	err = xs_store_dict_size(st, txn, XS_DICT_ITEM, &max);
	xs_counts_reader_init(&counts, st, txn);
	xs_comp_basis_init(st, txn, o->now_s, &basis);
	stats->orders_at  = xs_store_orders_changed_at(st, txn);
	stats->next_due_s = INT64_MAX;
	for (uint32_t a = 1; a <= max && err == XSELL_OK; a++) {
		enum due_why why;
		int64_t      at, due_s = INT64_MAX;

		basis.n_a = xs_counts_reader_get(&counts, a, XS_C_BASKETS);
		if (basis.n_a == 0) {
			continue; /* no orders: the walk has nothing to walk */
		}
		stats->items++;
		if (list_due(st, txn, set, o, a, &basis, &why, &at, &due_s)) {
			err = due_push(out, a, why, at);
		} else if (due_s < stats->next_due_s) {
			stats->next_due_s = due_s;
		}
	}
	xs_counts_reader_fini(&counts);
	xs_txn_abort(txn);
	if (err == XSELL_OK && out->n != 0) {
		qsort(out->v, out->n, sizeof(*out->v), due_cmp);
	}
	stats->due = out->n;
	return err;
}

#define CHUNK_MAX 32u /* lists one write transaction may hold */

/* One chunk's lists, computed together and written together. */
struct chunk {
	uint32_t n;
	uint32_t n_made; /* of them, taken as answers made them */
	uint32_t item[CHUNK_MAX];
	struct xs_comp_list_out *lists; /* n of them */
};

/* The chunk's lists: those answers made and keep fresh taken as they
 * are, if young (an item being bought has its list made by the first
 * answer after each order: walking it again here was the refresher's
 * work under a stream of orders), the others computed. */
static xsell_err
chunk_compute(xs_store *st, const struct xs_settings *set, int64_t now_s,
    struct chunk *c)
{
	struct xs_counts_reader counts;
	struct xs_comp_basis    basis;
	MDB_txn                *txn = NULL;
	xsell_err               err = xs_txn_read(st, &txn);

	c->n_made = 0;
	if (err == XSELL_OK) {
		xs_counts_reader_init(&counts, st, txn);
		xs_comp_basis_init(st, txn, now_s, &basis);
	}
	for (uint32_t i = 0; i < c->n && err == XSELL_OK; i++) {
		uint32_t a = c->item[i];

		basis.n_a = xs_counts_reader_get(&counts, a, XS_C_BASKETS);
		if (xs_comp_made_list_copy(
		        st, txn, set, a, &basis, &c->lists[i]) &&
		    list_young(set, &c->lists[i].stamp, now_s)) {
			c->n_made++;
			continue;
		}
		err = xs_model_comp_compute(
		    st, txn, set, a, now_s, &c->lists[i]);
	}
	if (txn != NULL) {
		xs_counts_reader_fini(&counts);
		xs_txn_abort(txn);
	}
	return err;
}

static xsell_err
chunk_write(xs_store *st, const struct chunk *c)
{
	MDB_txn  *txn;
	xsell_err err = xs_txn_write(st, &txn);

	if (err != XSELL_OK) {
		return err;
	}
	for (uint32_t i = 0; i < c->n && err == XSELL_OK; i++) {
		const struct xs_comp_list_out *l = &c->lists[i];

		err = xs_store_comp_put(st, txn, c->item[i], &l->stamp,
		    l->entries, l->n, l->skips, l->n_skip);
	}
	if (err != XSELL_OK) {
		xs_txn_abort(txn);
		return err;
	}
	return xs_txn_commit(txn);
}

xsell_err
xs_model_comp_refresh(xs_store *st, const struct xs_settings *set,
    const struct xs_comp_refresh_opts *o, struct xs_comp_refresh_stats *out)
{
	struct due_vec due = { 0 };
	struct chunk  *c;
	uint32_t       chunk = o->chunk == 0 ? 1 : o->chunk;
	size_t         todo;
	xsell_err      err;

	memset(out, 0, sizeof(*out));
	if (!xs_store_comp_has(st)) {
		return XSELL_EINVAL;
	}
	chunk = chunk > CHUNK_MAX ? CHUNK_MAX : chunk;
	c     = calloc(1, sizeof(*c));
	if (c == NULL) {
		return XSELL_ENOMEM;
	}
	c->lists = calloc(chunk, sizeof(*c->lists));
	err      = c->lists != NULL ? XSELL_OK : XSELL_ENOMEM;
	if (err == XSELL_OK) {
		err = find_due(st, set, o, &due, out);
	}
	todo = due.n;
	if (o->max_lists != 0 && todo > o->max_lists) {
		todo = o->max_lists;
	}
	for (size_t i = 0; i < todo && err == XSELL_OK; i += c->n) {
		c->n = (uint32_t) (todo - i < chunk ? todo - i : chunk);
		for (uint32_t j = 0; j < c->n; j++) {
			c->item[j] = due.v[i + j].item;
		}
		err = chunk_compute(st, set, o->now_s, c);
		if (err == XSELL_OK) {
			err = chunk_write(st, c);
		}
		if (err == XSELL_OK) {
			out->computed += c->n;
			out->made += c->n_made;
			out->chunks++;
			out->max_chunk =
			    c->n > out->max_chunk ? c->n : out->max_chunk;
		}
		if (err == XSELL_OK && o->between != NULL) {
			err = o->between(o->ctx);
		}
	}
	free(due.v);
	free(c->lists);
	free(c);
	return err;
}

xsell_err
xs_model_comp_refresh_all(xs_store *st, const struct xs_settings *set,
    int64_t now_s, struct xs_comp_refresh_stats *out)
{
	struct xs_comp_refresh_opts o = { 0 };

	o.now_s = now_s;
	o.chunk = 16;
	return xs_model_comp_refresh(st, set, &o, out);
}
