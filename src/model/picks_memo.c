/* SPDX-License-Identifier: MIT */
/* for_you's best candidates kept per user (model_impl.h): what ranking
 * reads of a for_you tally, so that a user asked for again (a
 * storefront's widget on each page, an email previewed then sent) costs
 * a ranking, not a walk of twenty seeds' lists and their momentum. Kept
 * as a per-item memo under the user's number, good while no commit
 * changes a family of counts (store.h: those change seeds' lists,
 * momentum and bought items) and the user's history is the one it was
 * made from (its tag, checked here): so that the complements refresher's
 * commits, stock updates and other users' ratings leave it standing.
 * A user's first answer keeps what its ranking read anyway, the best
 * k + 32 (no dearer than not keeping it, where most users are asked
 * once: a mail run, the 1M-line generated store's many users); only a
 * user asked again between two such commits (xs_store_user_asked_before)
 * whose filter reaches past those pays for the best 168 (picks.c's
 * for_you_kept_want; bench/RESULTS.md, "for_you's best candidates kept
 * per user" and "Kept from the first ask").
 *
 * The bytes: a head, the best entries by score (largest first), then
 * the rejected items. */
#include "model/model_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* More rejected items than this (a taste of many dislikes) and the
 * answer is not kept. */
#define REJECTED_KEEP_MAX 4096u

struct memo_head {
	struct xs_settings set; /* what the tally was made with */
	struct xs_hist_tag tag; /* the history it was made from */
	int64_t            newest, ref;
	uint64_t           n_best, n_rejected;
	uint64_t           complete;
};

static uint64_t
memo_key(uint32_t user)
{
	return (uint64_t) XS_ITEM_MEMO_FOR_YOU << 60 | user;
}

static size_t
memo_size(size_t n_best, size_t n_rejected)
{
	return sizeof(struct memo_head) + n_best * sizeof(struct xs_fy_entry) +
	    n_rejected * sizeof(uint32_t);
}

/* Largest score first; ties by item, so the order is the tally's
 * function. */
static int
cmp_entry_score(const void *x, const void *y)
{
	const struct xs_fy_entry *p = x, *q = y;

	if (p->score != q->score) {
		return p->score > q->score ? -1 : 1;
	}
	return p->item < q->item ? -1 : p->item > q->item;
}

/* What ranking may see of a tally entry: one the user did not buy,
 * scored above zero (picks.c's for_you_keeps without candidates). */
static bool
entry_ranked(const struct xs_tally_entry *e)
{
	return !e->bought && e->score > 0;
}

static xsell_err
best_take(const struct xs_tally *t, double cut, struct xs_fy_best *b)
{
	size_t n = 0, n_rej = 0;

	for (size_t i = 0; i < t->n; i++) {
		n += entry_ranked(&t->v[i]) && t->v[i].score >= cut;
		n_rej += t->v[i].score <= 0;
	}
	b->own_best     = malloc((n ? n : 1) * sizeof(*b->own_best));
	b->own_rejected = malloc((n_rej ? n_rej : 1) * sizeof(uint32_t));
	if (b->own_best == NULL || b->own_rejected == NULL) {
		return XSELL_ENOMEM;
	}
	for (size_t i = 0; i < t->n; i++) {
		const struct xs_tally_entry *e = &t->v[i];

		if (entry_ranked(e) && e->score >= cut) {
			struct xs_fy_entry *d = &b->own_best[b->n_best++];

			d->item    = e->item;
			d->because = e->because;
			d->score   = e->score;
		}
		if (e->score <= 0) {
			b->own_rejected[b->n_rejected++] = e->item;
		}
	}
	qsort(b->own_best, b->n_best, sizeof(*b->own_best), cmp_entry_score);
	b->best     = b->own_best;
	b->rejected = b->own_rejected;
	return XSELL_OK;
}

xsell_err
xs_fy_best_make(const struct xs_tally *t, double cut, int64_t newest,
    int64_t ref, struct xs_fy_best *b)
{
	xsell_err err;

	memset(b, 0, sizeof(*b));
	b->newest = newest;
	b->ref    = ref;
	if (isnan(cut)) {
		return XSELL_ENOMEM;
	}
	/* Every entry at the cut is taken, so that whatever is left out
	 * scores below the last one kept (xs_fy_best_cut relies on it). */
	b->complete = cut == -INFINITY;
	err         = best_take(t, cut, b);
	if (err != XSELL_OK) {
		xs_fy_best_free(b);
	}
	return err;
}

bool
xs_fy_best_cut(const struct xs_fy_best *b, size_t want, double *cutp)
{
	if (b->complete && b->n_best <= want) {
		*cutp = -INFINITY;
		return true;
	}
	if (want == 0 || want > b->n_best) {
		return false;
	}
	*cutp = b->best[want - 1].score;
	return true;
}

bool
xs_fy_best_hold(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    uint32_t user, const struct xs_hist_tag *tag, struct xs_fy_best *b)
{
	const unsigned char *p;
	struct memo_head     h;
	const void          *held;
	size_t               len;
	bool                 same_set;

	memset(b, 0, sizeof(*b));
	if (!xs_store_item_memo_hold(st, txn, memo_key(user), &held, &len)) {
		return false;
	}
	p = held;
	memset(&h, 0, sizeof(h));
	if (len >= sizeof(h)) {
		memcpy(&h, p, sizeof(h));
	}
	/* The same bytes are the same settings; other bytes for the same
	 * values (padding, -0.0) only make a miss, never a wrong answer. */
	// NOLINTNEXTLINE(bugprone-suspicious-memory-comparison,cert-exp42-c,cert-flp37-c)
	same_set = memcmp(&h.set, set, sizeof(*set)) == 0;
	/* Made by other settings or from another history: not this one's. */
	if (len != memo_size(h.n_best, h.n_rejected) || !same_set ||
	    memcmp(&h.tag, tag, sizeof(*tag)) != 0) {
		xs_store_memo_release(held);
		return false;
	}
	b->held       = held;
	b->newest     = h.newest;
	b->ref        = h.ref;
	b->complete   = h.complete != 0;
	b->n_best     = h.n_best;
	b->n_rejected = h.n_rejected;
	b->best       = (const void *) (p + sizeof(h));
	b->rejected   = (const void *) (p + sizeof(h) +
            h.n_best * sizeof(struct xs_fy_entry));
	return true;
}

void
xs_fy_best_put(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    uint32_t user, const struct xs_hist_tag *tag, const struct xs_fy_best *b)
{
	struct memo_head h;
	unsigned char   *buf;
	size_t           len = memo_size(b->n_best, b->n_rejected);

	if (b->n_rejected > REJECTED_KEEP_MAX ||
	    !xs_store_item_memo_room(st, txn, len)) {
		return;
	}
	buf = malloc(len);
	if (buf == NULL) {
		return; /* kept next time */
	}
	memset(&h, 0, sizeof(h));
	memcpy(&h.set, set, sizeof(*set));
	h.tag        = *tag;
	h.newest     = b->newest;
	h.ref        = b->ref;
	h.n_best     = b->n_best;
	h.n_rejected = b->n_rejected;
	h.complete   = b->complete;
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), b->best, b->n_best * sizeof(*b->best));
	memcpy(buf + sizeof(h) + b->n_best * sizeof(*b->best), b->rejected,
	    b->n_rejected * sizeof(*b->rejected));
	xs_store_item_memo_put(st, txn, memo_key(user), buf, len);
	free(buf);
}

void
xs_fy_best_free(struct xs_fy_best *b)
{
	xs_store_memo_release(b->held);
	free(b->own_best);
	free(b->own_rejected);
	memset(b, 0, sizeof(*b));
}
