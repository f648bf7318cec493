/* SPDX-License-Identifier: MIT */
/* Shared by the model's own files only. */
#ifndef XSELL_MODEL_MODEL_IMPL_H
#define XSELL_MODEL_MODEL_IMPL_H

#include "model/model.h"

#include <xsell/limits.h>

/* Add 'd' to pending pair (a, b) of relation 'rel'. */
xsell_err xs_acc_pair_add(
    xs_acc *acc, enum xs_rel rel, uint32_t a, uint32_t b, int32_t d);
/* Add 1 to pending pair (ids[i], ids[j]) of relation 'rel' for every
 * i != j: a basket's pairs, both ways. The same as those
 * xs_acc_pair_add calls; in bulk mode each a's partners are appended in
 * one copy instead of a call a pair. */
xsell_err xs_acc_pairs_all(
    xs_acc *acc, enum xs_rel rel, const uint32_t *ids, size_t n);
/* Bulk mode: the item id of external id p[0..len) if this transaction
 * resolved it before (xs_acc_item_id_put), without a B-tree search. */
bool xs_acc_item_id_get(
    const xs_acc *acc, const char *p, size_t len, uint32_t *idp);
/* Add 'd' to pending counter 'which' of 'item'. */
xsell_err xs_acc_item_add(
    xs_acc *acc, uint32_t item, enum xs_count which, int32_t d);

/* ==== Ledger entries (ledger.c) ==== */

enum xs_ledger_kind { XS_LEDGER_ORDER = 1, XS_LEDGER_VIEW, XS_LEDGER_CART };

/* One entry; the layout is described in ledger.c. */
struct xs_ledger_entry {
	uint32_t        kind; /* enum xs_ledger_kind */
	uint32_t        a, b;
	struct xs_span  ext;
	const uint32_t *w1, *w2, *w3;
	uint32_t        n1, n2, n3;
};

/* Encode 'e' into 'out' (reset first). */
xsell_err xs_ledger_encode(
    const struct xs_ledger_entry *e, struct xs_buf *out);
/* Read an entry from 4-byte aligned 'words' of 'len' bytes; the arrays
 * point into it. XSELL_ECORRUPT if it does not hold together. */
xsell_err xs_ledger_decode(
    const uint32_t *words, size_t len, struct xs_ledger_entry *e);

/* The day number of a unix time (for day-indexed relations). */
static inline uint32_t
xs_day_of(int64_t ts)
{
	return ts <= 0 ? 0 : (uint32_t) (ts / 86400);
}

/* ==== Ranking (rank.c) ==== */

/* A candidate answer while it is being scored. */
struct xs_cand {
	uint32_t      item;
	uint32_t      cat; /* set by xs_rank_select's filter: its category */
	double        score;
	uint64_t      count; /* co-count behind the score */
	uint32_t      via;   /* intermediate item, 0: none */
	uint32_t      group; /* an answer's scratch (complements: a mark) */
	const char   *ext;   /* loaded lazily: only for ties and the answer */
	size_t        ext_len;
	struct xs_why why;   /* explain: where the score came from */
	double        share; /* the best path's or seed's part of the score */
	double        aux;   /* an answer's scratch (complements: N_c^beta;
	                        for_you: the open group's sum) */
};

int xs_u32_cmp(const void *x, const void *y);
/* Binary search of sorted 'v'. */
bool xs_u32_contains(const uint32_t *v, size_t n, uint32_t x);
/* qsort order: score descending, then item number (a stable base order;
 * xs_rank_select re-sorts runs of equal scores by external id). */
int xs_cand_cmp_score(const void *x, const void *y);

/* Candidates a memo keeps for later answers: the best XS_CANDS_KEPT and
 * those tied with the last (a tie is ranked by external id, so it is
 * kept whole or not at all), or, when the ties run past
 * XS_CANDS_KEPT_MAX, only those above them. */
#define XS_CANDS_KEPT 64u
#define XS_CANDS_KEPT_MAX 256u
/* Copy into out (room for XS_CANDS_KEPT_MAX), best first, the candidates
 * to keep of v[0..n) scoring at least 'below' (every candidate not in v
 * scores less; -INFINITY: v holds them all); returns how many. *belowp:
 * every candidate not kept, in v or not, scores less. */
size_t xs_cands_best(const struct xs_cand *v, size_t n, double below,
    struct xs_cand *out, double *belowp);

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
 * xs_cand_cmp_score) that pass the filter, ties by external id. v keeps
 * its order (the ranking works on pointers to it). */
xsell_err xs_rank_select(xs_store *st, MDB_txn *txn, const struct xs_query *q,
    const uint32_t *excluded, size_t n_excluded, struct xs_cand *v, size_t n,
    struct xs_arena *arena, struct xs_answer *ans);

/* A growing array of candidates. */
struct xs_cand_vec {
	struct xs_cand *v; /* malloc'd */
	size_t          n, cap;
};

xsell_err xs_cand_vec_push(struct xs_cand_vec *vec, const struct xs_cand *c);

/* Candidates by item (cands.c): vec holds one per item, in order of
 * first appearance; the pointer from xs_cand_map_get is valid until the
 * next get. */
struct xs_cand_slot {
	uint32_t item;
	uint32_t index1; /* index + 1 into vec; 0: empty */
};

struct xs_cand_map {
	struct xs_cand_slot *slots; /* the item beside its index: a probe
	                               never touches vec */
	size_t             cap;
	struct xs_cand_vec vec;
};

/* The candidate of 'item', zeroed (but for item) when new. */
xsell_err xs_cand_map_get(
    struct xs_cand_map *m, uint32_t item, struct xs_cand **cp);
/* The candidate of 'item', or NULL if it has none (nothing is added). */
struct xs_cand *xs_cand_map_find(const struct xs_cand_map *m, uint32_t item);
void            xs_cand_map_clear(struct xs_cand_map *m);
void            xs_cand_map_free(struct xs_cand_map *m);

/* for_you's candidates while its seeds' neighbours are summed (picks.c):
 * a candidate's sums by seed, a third of an xs_cand,
 * so that the thousands one answer gathers stay in cache and grow by
 * cheap copies (the xs_cand_map's growth and probes were a third of a
 * for_you answer). Entries are in order of first credit. */
struct xs_tally_entry {
	uint32_t item;
	uint32_t group;   /* as xs_cand's: the seed now adding up */
	uint32_t because; /* as xs_cand's why.because */
	uint32_t bought;  /* for_you: the user bought it (left out) */
	double   score, aux, share; /* as xs_cand's */
};

struct xs_tally {
	/* Where an item's entry is: by its number in a scratch index the
	 * store lends (xs_tally_use_index: one load), else in the slots of
	 * a hash table (a probe). */
	uint32_t              *index;     /* item -> index1 into v; 0: none */
	size_t                 index_cap; /* items it covers */
	xs_store              *index_st;  /* the lender */
	struct xs_cand_slot   *slots;     /* index1 into v; 0: empty */
	size_t                 cap;       /* slots: a power of two, or 0 */
	unsigned               shift; /* 32 - log2(cap): a hash's top bits */
	struct xs_tally_entry *v;     /* malloc'd */
	size_t                 n, room;
};

/* Find entries by item number in an index borrowed from st, for items
 * below n (an empty tally; where st lends none, the hash table stays).
 * An item past them moves the tally to the hash table. */
void xs_tally_use_index(struct xs_tally *t, xs_store *st, size_t n);

/* A new entry for 'item' (not in the tally), zeroed; NULL if out of
 * memory. */
struct xs_tally_entry *xs_tally_add(struct xs_tally *t, uint32_t item);

/* The first slot to probe for 'item': a multiplicative hash's top bits. */
static inline size_t
xs_tally_slot_of(const struct xs_tally *t, uint32_t item)
{
	return (uint32_t) (item * 0x9e3779b1u) >> t->shift;
}

/* The entry of 'item', or NULL. */
static inline struct xs_tally_entry *
xs_tally_find(const struct xs_tally *t, uint32_t item)
{
	size_t j;

	if (t->index != NULL) {
		uint32_t i = item < t->index_cap ? t->index[item] : 0;

		return i != 0 ? &t->v[i - 1] : NULL;
	}
	if (t->cap == 0) {
		return NULL;
	}
	j = xs_tally_slot_of(t, item);
	while (t->slots[j].index1 != 0) {
		if (t->slots[j].item == item) {
			return &t->v[t->slots[j].index1 - 1];
		}
		j = (j + 1) & (t->cap - 1);
	}
	return NULL;
}

/* The entry of 'item', added (zeroed) if new; NULL if out of memory. */
static inline struct xs_tally_entry *
xs_tally_get(struct xs_tally *t, uint32_t item)
{
	struct xs_tally_entry *e = xs_tally_find(t, item);

	return e != NULL ? e : xs_tally_add(t, item);
}

/* Candidates for_you ranks at first: the answer and as many again as
 * ranking keeps in reserve for its filter (rank.c's RANK_SLACK, and
 * more); four times as many each round after. */
#define XS_FOR_YOU_FIRST_EXTRA 32u
/* Best candidates kept for a user: enough for the first two of those
 * rounds at the default k. */
#define XS_FOR_YOU_KEPT (4u * (XSELL_K_DEFAULT + XS_FOR_YOU_FIRST_EXTRA))

/* for_you's best candidates, what its ranking reads of a tally
 * (picks_memo.c): the entries the user did not buy scored above zero,
 * the best of them by score (largest first; every one scoring as the
 * last is there, and whatever is left out scores below it), and the
 * items the history scored at or below zero. Kept per user while the
 * counts and the user's history stand, so that the next answer for the
 * user skips the tally. */
struct xs_fy_entry {
	uint32_t item, because;
	double   score;
};

struct xs_fy_best {
	const struct xs_fy_entry *best;
	size_t                    n_best;
	bool                      complete; /* best holds every one */
	const uint32_t           *rejected;
	size_t                    n_rejected;
	int64_t newest; /* the user's newest event (INT64_MIN: none) */
	int64_t ref;    /* the time the taste was decayed to */
	/* Where the bytes are: the memo's (held), or malloc'd (own_*). */
	const void         *held;
	struct xs_fy_entry *own_best;
	uint32_t           *own_rejected;
};

/* The best candidates of settled tally t: those at or above 'cut', the
 * score of the XS_FOR_YOU_KEPT-th best (-INFINITY: all of them; picks.c's
 * for_you_cut gives it), the taste's times beside. */
xsell_err xs_fy_best_make(const struct xs_tally *t, double cut, int64_t newest,
    int64_t ref, struct xs_fy_best *b);
/* The score at or above which ranking takes the entries when it wants
 * the 'want' best (-INFINITY: all), as picks.c's for_you_cut gives it
 * from the whole tally; false if b does not hold enough to tell. */
bool xs_fy_best_cut(const struct xs_fy_best *b, size_t want, double *cutp);
/* The best candidates kept for 'user' that txn's snapshot can use, made
 * with settings 'set' from the history of tag 'tag'
 * (xs_store_history_tag); false if none. */
bool xs_fy_best_hold(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    uint32_t user, const struct xs_hist_tag *tag, struct xs_fy_best *b);
/* Keep b, made from the history of tag 'tag', for 'user' (if the memo
 * has room). */
void xs_fy_best_put(xs_store *st, MDB_txn *txn, const struct xs_settings *set,
    uint32_t user, const struct xs_hist_tag *tag, const struct xs_fy_best *b);
/* Let go of b (held or made); b is zeroed. */
void xs_fy_best_free(struct xs_fy_best *b);

/* Does a group's sum 's' name a candidate over the sum 'share' that
 * names it now (0: none yet)? The largest positive sum names it; one
 * with no positive sum is named by its most negative, what sank it
 * (ranked only with a candidate list), so that every candidate the
 * history scored has a 'because'. Ties: the first. */
static inline bool
xs_tally_names(double s, double share)
{
	return s > 0 ? s > share : share <= 0 && s < share;
}

/* Close e's open group: the group naming the candidate by
 * xs_tally_names ('because', its sum in 'share'). */
static inline void
xs_tally_entry_settle(struct xs_tally_entry *e)
{
	if (e->group != 0 && xs_tally_names(e->aux, e->share)) {
		e->share   = e->aux;
		e->because = e->group;
	}
	e->group = 0;
	e->aux   = 0;
}

/* Add 's' to the score of 'item''s entry (added, zeroed, if new) as part
 * of 'group' (a seed item): a group's parts arrive together, so another
 * group starting settles the one before (xs_tally_entry_settle). Inline:
 * for_you credits every neighbour of twenty seeds, thousands an
 * answer, and the call cost as much as the probe. */
static inline xsell_err
xs_tally_credit(struct xs_tally *t, uint32_t item, double s, uint32_t group)
{
	struct xs_tally_entry *e = xs_tally_get(t, item);

	if (e == NULL) {
		return XSELL_ENOMEM;
	}
	if (e->group != group) {
		xs_tally_entry_settle(e);
		e->group = group;
	}
	e->aux += s;
	e->score += s;
	return XSELL_OK;
}

/* xs_tally_credit of a group's only part, settled at once: the same
 * entry as xs_tally_credit and a settle later give, without a group
 * left open. for_you's seeds credit this way when a store has one
 * similar relation (a seed's list holds each neighbour once), which
 * saves the group's bookkeeping on each of thousands of credits. */
static inline xsell_err
xs_tally_credit_whole(
    struct xs_tally *t, uint32_t item, double s, uint32_t group)
{
	struct xs_tally_entry *e = xs_tally_get(t, item);

	if (e == NULL) {
		return XSELL_ENOMEM;
	}
	if (e->group != 0) {
		xs_tally_entry_settle(e);
	}
	e->score += s;
	if (xs_tally_names(s, e->share)) {
		e->share   = s;
		e->because = group;
	}
	return XSELL_OK;
}

/* xs_tally_entry_settle on every entry, once all parts are in. */
void xs_tally_settle(struct xs_tally *t);
void xs_tally_free(struct xs_tally *t);

/* What the seeds of one for_you answer share: the totals, the counters
 * (a chunk fetched once for all seeds), and which similar relations
 * (basket, view, cart) hold no pair at all. A store without views asked
 * for each seed's view and cart lists, two B-tree misses a seed; once a
 * seed's list comes back empty, one look at the relation settles it for
 * the rest (a top list is a function of the pairs: none without them). */
struct xs_seed_list;
struct xs_seed_walk {
	struct xs_totals        tot;
	struct xs_counts_reader counts;
	bool                    checked[3], no_pairs[3];
	struct xs_seed_list    *list; /* a seed's list being walked */
	uint32_t                list_room;
	uint64_t                forgotten_at; /* the snapshot's */
};

/* Zero 'sw' and read the totals and the counters' reader from txn;
 * xs_seed_walk_fini frees what it holds (also after an error). */
xsell_err xs_seed_walk_init(
    struct xs_seed_walk *sw, xs_store *st, MDB_txn *txn);
void xs_seed_walk_fini(struct xs_seed_walk *sw);

/* Credit (xs_tally_credit, group 'seed') weight times similar(seed, c) to
 * each neighbour c in the seed's top lists (the store's top_m strongest by
 * co-count) over the similar relations (basket, view, cart; scorer and weights
 * from the settings) in 'out'. Not every neighbour: for_you sums twenty
 * seeds, and past the top lists its hit rate did not move (README,
 * "Performance"). Each list's scores are kept (an item memo, until a
 * commit changes the relation's family of records), so a seed is walked
 * once, not once an answer. */
xsell_err xs_similar_collect(xs_store *st, MDB_txn *txn,
    const struct xs_settings *set, struct xs_seed_walk *sw, uint32_t seed,
    double weight, struct xs_tally *out);

/* ==== Trending (trending.c) ==== */

/* One item of a trend list: its decayed score and its orders in the
 * window (the memo's layout too). */
struct xs_trend_item {
	uint32_t item;
	uint32_t orders;
	double   score;
};

/* Every item ordered or viewed in the trend window with its decayed
 * score, in rank order: score largest first, ties by item number. Read
 * in place from the snapshot's memo (held) or made for the caller (own,
 * malloc'd); v is NULL and n 0 if the store has no events. */
struct xs_trend_list {
	const struct xs_trend_item *v;
	size_t                      n;
	const void                 *held;
	struct xs_trend_item       *own;
};

/* The trend list of txn's snapshot with half-life 'half_life_days';
 * give it to xs_model_trend_list_free (also after an error). */
xsell_err xs_model_trend_list(xs_store *st, MDB_txn *txn,
    const struct xs_settings *set, double half_life_days,
    struct xs_trend_list *l);
void      xs_model_trend_list_free(struct xs_trend_list *l);

/* Whether a trend item may be ranked (*keepp), for xs_trend_rank. */
typedef xsell_err (*xs_trend_keep_fn)(void *ctx, uint32_t item, bool *keepp);

/* Fill ans as xs_rank_select over every item of l that 'keep' keeps
 * (NULL: all) would, as trending candidates (count: orders), from the
 * list's front only: the first k + 16 kept, and four times as many each
 * round the filter leaves the answer short, until the list ends. */
xsell_err xs_trend_rank(xs_store *st, MDB_txn *txn, const struct xs_query *q,
    const uint32_t *excluded, size_t n_excluded, const struct xs_trend_list *l,
    xs_trend_keep_fn keep, void *ctx, struct xs_arena *arena,
    struct xs_answer *ans);
/* ==== Momentum (momentum.c) ==== */

/* Multiply each positively scored candidate of cands (score and share)
 * by 1 + weight x its trend score / (its orders and weighted views ever
 * + set->pick_momentum_prior): the share of what it ever sold that sold
 * lately. Candidates outside the trend window, and all of them when
 * weight is 0, keep their score. */
xsell_err xs_weigh_by_momentum(xs_store *st, MDB_txn *txn,
    const struct xs_settings *set, double weight, struct xs_cand_map *cands);
/* The same on a tally (for_you), its entries settled. */
xsell_err xs_tally_weigh_by_momentum(xs_store *st, MDB_txn *txn,
    const struct xs_settings *set, double weight, struct xs_tally *t);

/* Each trend item's momentum factor, the one xs_weigh_by_momentum
 * multiplies by (momentum.c), memoised per snapshot. */
struct xs_momentum_factor {
	uint32_t item;
	double   factor;
};
struct xs_momentum_table {
	const struct xs_momentum_factor *by_item;   /* ascending item */
	const struct xs_momentum_factor *by_factor; /* descending factor */
	size_t                           n;
	const uint32_t *slots; /* by_item's hash (momentum.c), or NULL */
	size_t          n_slots;
	const double   *dense; /* or factors by item number, n_dense */
	size_t          n_dense;
	const void     *held;  /* the store's memo (xs_store_memo_hold) */
	void           *owned; /* or a block of our own */
};
/* Caller frees with xs_momentum_table_fini. weight 0: an empty table. */
xsell_err xs_momentum_table_get(xs_store *st, MDB_txn *txn,
    const struct xs_settings *set, double weight,
    struct xs_momentum_table *out);
/* The factor of 'item', 1 if it has none (outside the trend window). */
double xs_momentum_table_find(
    const struct xs_momentum_table *t, uint32_t item);
void xs_momentum_table_fini(struct xs_momentum_table *t);

/* xs_rank_select over candidates in any order: only the best k + 16
 * (and everything tied with the last of them) are sorted, unless the
 * filter leaves fewer than k of those, when four times as many are, and
 * so on. v keeps its order; its candidates may get their external ids
 * (ext) and categories (cat) loaded. */
xsell_err xs_rank_top(xs_store *st, MDB_txn *txn, const struct xs_query *q,
    const uint32_t *excluded, size_t n_excluded, struct xs_cand *v, size_t n,
    struct xs_arena *arena, struct xs_answer *ans);
/* What the filter said of candidates v[0..n) of one query, kept between
 * its rankings (xs_rank_top_kept) while v only grows at its end and the
 * query and its filter stay the same. Zero-initialise; free verdicts. */
struct xs_rank_kept {
	uint8_t *verdicts; /* malloc'd */
	size_t   n;
};
/* The m-th largest of s[0..n) (1 <= m <= n, no NaN); s is reordered.
 * When m is at most n / 4 (ranking's k + slack of thousands of
 * candidates), from 128 values up the values below the buckets of the
 * m largest are dropped first (1/16 of an octave each), then a heap
 * keeps the m largest of the rest; else Hoare's selection. */
double xs_nth_largest(double *s, size_t n, size_t m);
/* xs_rank_top, remembering the filter's verdicts in 'kept'. */
xsell_err xs_rank_top_kept(xs_store *st, MDB_txn *txn,
    const struct xs_query *q, const uint32_t *excluded, size_t n_excluded,
    struct xs_cand *v, size_t n, struct xs_rank_kept *kept,
    struct xs_arena *arena, struct xs_answer *ans);

/* ==== A relation as a source of neighbours ==== */

/* One relation as a source of neighbours (neighbours.c): which counters
 * are its N_a and N_b, its N, the weight of its score in the sum, and
 * which part of an explained score it is. */
struct xs_rel_source {
	enum xs_rel   rel;
	enum xs_count count_a, count_b;
	double        n_total;
	double        weight;
	enum xs_part  part;
};

/* The scorer's score of pair (a, b) under 'src' from its co-count, a's
 * N being n_a, before the source's weight: the one formula of the walk,
 * a cart's kept lists and for_you's seed lists, so that they agree to
 * the bit. */
static inline double
xs_rel_pair_score(const struct xs_rel_source *src, enum xs_scorer scorer,
    struct xs_counts_reader *counts, double n_a, uint32_t b, uint32_t count)
{
	struct xs_pair_stats ps;

	ps.n_ab = count;
	ps.n_a  = n_a;
	ps.n_b  = xs_counts_reader_get(counts, b, src->count_b);
	ps.n    = src->n_total;
	return xs_score(scorer, &ps);
}

/* The memo key of what one item's list under (rel, scorer, min_support)
 * gave, for a memo of 'kind' (neighbours.c): every input of its scores
 * but the snapshot's; false if it has none (a min_support past the
 * key's 20 bits). */
bool xs_list_memo_key(enum xs_item_memo_kind kind, enum xs_rel rel,
    enum xs_scorer scorer, uint32_t min_support, uint32_t item,
    uint64_t *keyp);

/* ==== fbt of a cart from lists kept per snapshot (cart_lists.c) ==== */

/* Given items a cart may have for xs_cart_lists_answer (a bit each). */
#define XS_CART_LISTS_MAX 8

/* The answer for the cart ids->given (2 to XS_CART_LISTS_MAX items,
 * sorted) over one relation of weight 1, from each item's list kept for txn's
 * snapshot (made and kept if missing): *donep when it is proven the
 * whole lists' answer, to the last bit; else the caller walks them
 * (ans is then to be overwritten). */
xsell_err xs_cart_lists_answer(xs_store *st, MDB_txn *txn,
    const struct xs_query *q, const struct xs_rel_source *src,
    enum xs_scorer scorer, uint32_t min_support, const struct xs_rank_ids *ids,
    struct xs_arena *arena, struct xs_answer *ans, bool *donep);

/* ==== Complements (complements.c, comp_lists.c) ==== */

/* A bit per item number (complements.c). */
struct xs_item_bits {
	uint8_t *bits; /* malloc'd; NULL: no item is set */
	uint32_t max;  /* highest item number the bits cover */
};
bool xs_item_bits_has(const struct xs_item_bits *b, uint32_t item);

/* The given items and every item bought with any of them, at any count:
 * what a second-level answer leaves out. Caller frees out->bits. */
xsell_err xs_comp_left_out(xs_store *st, MDB_txn *txn, const uint32_t *given,
    size_t n_given, struct xs_item_bits *out);
/* cross_category: keep only the candidates of v[0..*np) of a category
 * none of the given items has (items without one are kept). */
xsell_err xs_comp_keep_other_categories(xs_store *st, MDB_txn *txn,
    const uint32_t *given, size_t n_given, struct xs_cand *v, size_t *np);

/* What the lists and the walk of one complements answer both need,
 * built by the first that does (the lists, then a walk when they cannot
 * prove the answer), over the same snapshot and given items.
 * Zero-initialise; xs_comp_shared_fini. */
struct xs_comp_shared {
	struct xs_item_bits      left_out; /* xs_comp_left_out of the given */
	bool                     has_left_out;
	struct xs_momentum_table momentum; /* weight comp_momentum_weight */
	bool                     has_momentum;
};
void xs_comp_shared_fini(struct xs_comp_shared *sh);

/* The per-item memo key of item a's list made by an answer. */
uint64_t xs_comp_made_list_key(uint32_t a);
/* Copy into *out item a's list made by an answer, if it is fresh for
 * basis b of txn: true if it did. */
bool xs_comp_made_list_copy(xs_store *st, MDB_txn *txn,
    const struct xs_settings *set, uint32_t a, const struct xs_comp_basis *b,
    struct xs_comp_list_out *out);

/* The answer from the given items' precomputed lists (comp_lists.c),
 * when they are fresh and prove that it is the walk's: *donep true and
 * ans filled. Otherwise *donep false and the caller walks (ans is then
 * resolved again), with what the lists built in 'sh'. A given item
 * whose stored list is missing or not fresh gets one made by the answer
 * and kept in the per-item memo under xs_comp_made_list_key, where the
 * memo has room; the answers after it read that one. */
xsell_err xs_comp_from_lists(xs_store *st, MDB_txn *txn,
    const struct xs_settings *set, const struct xs_query *q,
    const struct xs_rank_ids *ids, struct xs_comp_shared *sh,
    struct xs_arena *arena, struct xs_answer *ans, bool *donep);

#endif /* XSELL_MODEL_MODEL_IMPL_H */
