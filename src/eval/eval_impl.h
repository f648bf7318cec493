/* SPDX-License-Identifier: MIT */
/* Shared by the files of src/eval only: queries, the run's context and
 * the recommender signature. */
#ifndef XSELL_EVAL_EVAL_IMPL_H
#define XSELL_EVAL_EVAL_IMPL_H

#include "eval/eval.h"

/* One test query: given items and the relevant set, as eval ids in the
 * query set's id array. */
struct xs_eval_query {
	uint32_t order;     /* test order index (per user: the first) */
	uint64_t key;       /* xs_eval_query_key of its order id (per user,
	                       per session: its user id): the --max-queries
	                       sample and the random baseline's seed */
	uint32_t hidden;    /* the item hidden from the basket */
	int64_t  now;       /* per user: the time the answer is for */
	uint64_t given_off; /* into xs_eval_qset.ids */
	uint32_t n_given;
	uint64_t rel_off; /* hidden first, then items unknown in training */
	uint32_t n_rel;
};

struct xs_eval_qset {
	struct xs_eval_query *v;
	size_t                n, cap;
	uint32_t             *ids;
	uint64_t              n_ids, cap_ids;
};

/* Everything a protocol or a recommender may read during a run. */
struct xs_eval_ctx {
	const xs_eval_data        *d;
	const struct xs_eval_opts *o;
	xs_store                  *st;
	MDB_txn                   *txn; /* one read txn for the whole run */
	struct xs_arena            arena;
	uint32_t *pop;    /* per eval item: training baskets holding it */
	uint32_t *by_pop; /* known eval items, most baskets first */
	uint32_t  n_known;
	uint32_t *to_store;   /* eval id -> store id, 0: not in the store */
	uint32_t *from_store; /* store id -> eval id + 1, 0: none */
	uint32_t  n_store;    /* store ids are 1..n_store */
	/* The first level of the current query, for the complements
	 * baselines: stamp[store id] == cur_stamp. */
	uint32_t       *stamp;
	uint32_t        cur_stamp;
	struct xs_span *spans; /* XSELL_QUERY_ITEMS_MAX query items */
	/* xs_model_trending's list (at most XSELL_K_MAX eval ids), asked
	 * once: the store does not change during a run. */
	uint32_t *by_trend;
	uint32_t  n_trend;
	/* Views: per eval item, training views counted (XS_C_VIEWS); the
	 * viewed items, most views first; the events' side of the split. */
	uint32_t      *vpop;
	uint32_t      *by_view;
	uint32_t       n_viewed;
	const uint8_t *ev_is_test;
	/* Items training knows (bought or viewed: to_store set), the
	 * catalogue of coverage for every answer: every recommender
	 * answers from it. */
	uint32_t n_trained;
};

/* Build the queries of an answer from the test orders, and count what
 * could not be asked into 'ar'. */
typedef xsell_err (*xs_eval_protocol_fn)(struct xs_eval_ctx *c,
    const uint8_t *is_test, struct xs_eval_qset *qs,
    struct xs_eval_answer_report *ar);

xsell_err xs_eval_protocol_fbt(struct xs_eval_ctx *c, const uint8_t *is_test,
    struct xs_eval_qset *qs, struct xs_eval_answer_report *ar);
xsell_err xs_eval_protocol_complements(struct xs_eval_ctx *c,
    const uint8_t *is_test, struct xs_eval_qset *qs,
    struct xs_eval_answer_report *ar);
/* Per test user: given = the items the user bought in training (for
 * the baselines to leave out; the engine is asked with the user);
 * picks' relevant set is the items of the user's test orders not bought
 * in training, buy_again's those bought in both. */
xsell_err xs_eval_protocol_picks(struct xs_eval_ctx *c, const uint8_t *is_test,
    struct xs_eval_qset *qs, struct xs_eval_answer_report *ar);
xsell_err xs_eval_protocol_buy_again(struct xs_eval_ctx *c,
    const uint8_t *is_test, struct xs_eval_qset *qs,
    struct xs_eval_answer_report *ar);
/* Per test session of views (sessions.c): a test user's test views in
 * time order, distinct items (by their latest view), known ones (any
 * training count). Cart: hide the latest known item, ask with the
 * others (the most recent first); relevant: the hidden item. Product
 * page (--ask one): ask with the first viewed known item; relevant:
 * every other item viewed, unknown ones too. */
xsell_err xs_eval_protocol_similar_views(struct xs_eval_ctx *c,
    const uint8_t *is_test, struct xs_eval_qset *qs,
    struct xs_eval_answer_report *ar);
/* Per test order of a user: given = the distinct known items the user
 * viewed in the test period at or before the order (the most recent
 * first); relevant = the order's items not among them. */
xsell_err xs_eval_protocol_viewed_bought(struct xs_eval_ctx *c,
    const uint8_t *is_test, struct xs_eval_qset *qs,
    struct xs_eval_answer_report *ar);
/* The list a baseline of answer 'a' ranks from: most viewed for
 * similar_views, else most bought. */
void xs_eval_known_list(const struct xs_eval_ctx *c, enum xs_eval_answer a,
    const uint32_t **listp, uint32_t *np);
void xs_eval_qset_fini(struct xs_eval_qset *qs);
/* A query's key from the export's id of its basket or user: the same
 * whatever the order of the lines. */
uint64_t xs_eval_query_key(struct xs_span id);
/* Append room for one more query and 'more_ids' ids. */
xsell_err xs_eval_qset_reserve(struct xs_eval_qset *qs, uint64_t more_ids);

/* Answer query 'q' under 'cfg' with at most o->k items in out[] (eval
 * ids, best first) and their count in *np. Scratch memory from
 * c->arena, which the caller resets. */
typedef xsell_err (*xs_eval_recommend_fn)(struct xs_eval_ctx *c,
    const struct xs_eval_config *cfg, const struct xs_eval_qset *qs,
    const struct xs_eval_query *q, uint32_t *out, size_t *np);

xsell_err xs_eval_rec_fbt(struct xs_eval_ctx *c,
    const struct xs_eval_config *cfg, const struct xs_eval_qset *qs,
    const struct xs_eval_query *q, uint32_t *out, size_t *np);
xsell_err xs_eval_rec_complements(struct xs_eval_ctx *c,
    const struct xs_eval_config *cfg, const struct xs_eval_qset *qs,
    const struct xs_eval_query *q, uint32_t *out, size_t *np);
xsell_err xs_eval_rec_similar(struct xs_eval_ctx *c,
    const struct xs_eval_config *cfg, const struct xs_eval_qset *qs,
    const struct xs_eval_query *q, uint32_t *out, size_t *np);
xsell_err xs_eval_rec_viewed_bought(struct xs_eval_ctx *c,
    const struct xs_eval_config *cfg, const struct xs_eval_qset *qs,
    const struct xs_eval_query *q, uint32_t *out, size_t *np);
xsell_err xs_eval_rec_picks(struct xs_eval_ctx *c,
    const struct xs_eval_config *cfg, const struct xs_eval_qset *qs,
    const struct xs_eval_query *q, uint32_t *out, size_t *np);
xsell_err xs_eval_rec_buy_again(struct xs_eval_ctx *c,
    const struct xs_eval_config *cfg, const struct xs_eval_qset *qs,
    const struct xs_eval_query *q, uint32_t *out, size_t *np);
xsell_err xs_eval_rec_trending(struct xs_eval_ctx *c,
    const struct xs_eval_config *cfg, const struct xs_eval_qset *qs,
    const struct xs_eval_query *q, uint32_t *out, size_t *np);
xsell_err xs_eval_rec_popular(struct xs_eval_ctx *c,
    const struct xs_eval_config *cfg, const struct xs_eval_qset *qs,
    const struct xs_eval_query *q, uint32_t *out, size_t *np);
xsell_err xs_eval_rec_random(struct xs_eval_ctx *c,
    const struct xs_eval_config *cfg, const struct xs_eval_qset *qs,
    const struct xs_eval_query *q, uint32_t *out, size_t *np);

/* Is store id 'b' a first-level neighbour of any of given[0..n) (store
 * ids)? */
xsell_err xs_eval_is_first_level(struct xs_eval_ctx *c, const uint32_t *given,
    size_t n, uint32_t b, bool *outp);

#endif /* XSELL_EVAL_EVAL_IMPL_H */
