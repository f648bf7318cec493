/* SPDX-License-Identifier: MIT */
/* Shared by the model's own files only. */
#ifndef XSELL_MODEL_MODEL_IMPL_H
#define XSELL_MODEL_MODEL_IMPL_H

#include "model/model.h"

/* Add 'd' to pending pair (a, b) of relation 'rel'. */
xsell_err xs_acc_pair_add(
    xs_acc *acc, enum xs_rel rel, uint32_t a, uint32_t b, int32_t d);
/* Add 'd' to pending counter 'which' of 'item'. */
xsell_err xs_acc_item_add(
    xs_acc *acc, uint32_t item, enum xs_count which, int32_t d);

/* ==== Ranking (rank.c) ==== */

/* A candidate answer while it is being scored. */
struct xs_cand {
	uint32_t    item;
	uint32_t    cat; /* set by xs_rank_select's filter: its category */
	double      score;
	uint64_t    count; /* co-count behind the score */
	uint32_t    via;   /* intermediate item, 0: none */
	const char *ext;   /* loaded lazily: only for ties and the answer */
	size_t      ext_len;
};

int xs_u32_cmp(const void *x, const void *y);
/* Binary search of sorted 'v'. */
bool xs_u32_contains(const uint32_t *v, size_t n, uint32_t x);
/* qsort order: score descending, then item number (a stable base order;
 * xs_rank_select re-sorts runs of equal scores by external id). */
int xs_cand_cmp_score(const void *x, const void *y);

/* Resolve q->items to sorted numbers in 'given' (room for n_items);
 * unknown ids are listed in ans->unknown (from the arena). */
xsell_err xs_rank_resolve_given(xs_store *st, MDB_txn *txn,
    const struct xs_query *q, struct xs_arena *arena, uint32_t *given,
    size_t *n_givenp, struct xs_answer *ans);
/* Resolve the filter's exclude ids (unknown ones ignored), sorted. */
xsell_err xs_rank_resolve_excluded(xs_store *st, MDB_txn *txn,
    const struct xs_filter *f, uint32_t *out, size_t *np);
/* The resolved ids of a query: what was given and what to exclude. */
struct xs_rank_ids {
	uint32_t *given; /* sorted, from the arena */
	size_t    n_given;
	uint32_t *excluded; /* sorted, from the arena */
	size_t    n_excluded;
};

/* Both of the above, with the arrays from 'arena'; also clears *ans. */
xsell_err xs_rank_resolve(xs_store *st, MDB_txn *txn, const struct xs_query *q,
    struct xs_arena *arena, struct xs_rank_ids *ids, struct xs_answer *ans);

/* Fill ans->recs with the best q->k of 'v' (sorted by
 * xs_cand_cmp_score) that pass the filter, ties by external id. 'v' is
 * scratch: runs of equal scores are reordered and compacted. */
xsell_err xs_rank_select(xs_store *st, MDB_txn *txn, const struct xs_query *q,
    const uint32_t *excluded, size_t n_excluded, struct xs_cand *v, size_t n,
    struct xs_arena *arena, struct xs_answer *ans);

#endif /* XSELL_MODEL_MODEL_IMPL_H */
