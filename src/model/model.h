/* SPDX-License-Identifier: MIT */
/* The model: events -> counts (count.c), counts -> scores (score.c), and
 * the answers built from them (fbt.c). It reads and writes the store and
 * knows nothing of msgpack or nng: requests arrive as plain structs whose
 * strings are spans into the caller's memory. */
#ifndef XSELL_MODEL_MODEL_H
#define XSELL_MODEL_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "store/store.h"

/* A borrowed string: not NUL-terminated, len 0 means absent. */
struct xs_span {
	const char *p;
	uint32_t    len;
};

/* ==== Settings (every tunable, one place) ==== */

enum xs_scorer {
	XS_SCORE_COUNT,
	XS_SCORE_CONFIDENCE,
	XS_SCORE_LIFT,
	XS_SCORE_COSINE,
	XS_SCORE_JACCARD,
	XS_SCORE_LLR,
	XS_SCORE_AMAZON,
	XS_SCORE_TEMPERED,
	XS_SCORER_COUNT
};

struct xs_settings {
	/* Pairs are counted for at most this many distinct items of one
	 * order; a larger order is sampled deterministically (by a hash of
	 * order id and item id), so that one huge order costs at most
	 * max_basket_items^2 pair updates. */
	unsigned       max_basket_items;
	unsigned       history_max; /* events kept per user */
	unsigned       min_support; /* co-count below this is noise */
	enum xs_scorer fbt_scorer;  /* default scorer of fbt */
	/* complements: popularity penalty beta of RP3beta (a path's score
	 * is divided by N_c^beta) and how many of each given item's
	 * strongest neighbours the two-hop walk follows. */
	double   complements_beta;
	unsigned walk_width;
	/* complements' momentum: each second-level candidate's score is
	 * weighed as for_you's (pick_momentum_weight below), by this weight
	 * and pick_momentum_prior. 0 turns it off. */
	double comp_momentum_weight;
	/* complements' precomputed lists (README "Scorers"): entries kept
	 * per item, and the age past which a list is not used (the walk
	 * answers) and the refresher recomputes it. */
	unsigned comp_list_len;
	unsigned comp_list_trend; /* and the most trending of them */
	unsigned comp_list_max_age_s;

	/* Relations counted from one user's own events, each capped so that
	 * one event costs a bounded number of pair updates. */
	unsigned session_gap_s;     /* views this close are one session */
	unsigned view_pairs_max;    /* session partners of one counted view */
	unsigned cart_max;          /* items an open cart holds (oldest go) */
	unsigned cart_pairs_max;    /* cart partners of one counted add */
	unsigned cart_window_s;     /* cart items older than this don't pair */
	unsigned view_buy_window_s; /* a view counts for orders this soon */
	unsigned view_buy_views_max; /* viewed items paired with an order */
	unsigned view_buy_items_max; /* items of the order paired with them */
	/* Views and cart adds of one user that are counted at all; beyond
	 * it a user's views and carts go to their history only (a bot cannot
	 * dominate the counts, and forgetting a user stays bounded). */
	unsigned user_counted_max;

	/* Answers. similar sums the scores of co-purchase, co-view and
	 * co-cart (each by similar_scorer), weighted by similar_weight. */
	enum xs_scorer similar_scorer;
	double         similar_weight[3]; /* by enum xs_part */
	enum xs_scorer viewed_bought_scorer;
	double         trend_half_life_days; /* trending's decay */
	double         trend_view_weight;    /* a view against an order */

	/* picks for_you: each history event weighs by its type (a rating
	 * >= 4 or <= 2 by the two rating weights, 3 not at all), decayed by
	 * age with pick_half_life_days; the strongest pick_seeds_max items
	 * (by |weight|) bring their similar neighbours. A context item
	 * weighs like a fresh event of pick_context_weight. */
	double   pick_weight[XS_EV_TYPE_COUNT];
	double   pick_rating_high, pick_rating_low;
	double   pick_half_life_days;
	unsigned pick_seeds_max;
	double   pick_context_weight;
	/* for_you's momentum: a candidate's score is multiplied by 1 +
	 * pick_momentum_weight x (its trend score / (its orders and
	 * weighted views ever + pick_momentum_prior)), the share of what it
	 * ever sold that sold lately. 0 turns it off. */
	double pick_momentum_weight;
	double pick_momentum_prior;
	/* for_you keeps a user's best candidates from their first answer
	 * (picks_memo.c), so that their next answers, until the counts or
	 * their history change, rank those instead of walking the seeds
	 * again. Off where each user is asked once (xsell-eval) and to
	 * measure a first answer's cost. */
	bool pick_keep_answers;
	/* abandoned_cart: added between these ages ago; new_arrivals and
	 * back_in_stock look this many days back. */
	int64_t  abandoned_min_age_s, abandoned_max_age_s;
	unsigned pick_days;
	/* buy_again: an item scores (the user's orders of it) x (rate floor +
	 * the share of its buyers who rebought it), weighed by how far its
	 * usual rebuy interval has passed (not_due_weight at once, 1 when
	 * due); before due_share of the interval it is not offered. */
	double buy_again_rate_floor;
	double buy_again_not_due_weight;
	double buy_again_due_share;
};

void xs_settings_default(struct xs_settings *s);

/* "lift" -> XS_SCORE_LIFT; false if unknown. */
bool        xs_scorer_parse(const char *name, size_t len, enum xs_scorer *out);
const char *xs_scorer_name(enum xs_scorer s);

/* ==== Events ==== */

struct xs_order_line {
	struct xs_span item;
	double         qty;   /* 1 if not given */
	double         price; /* NaN if not given */
};

struct xs_event {
	enum xs_event_type          type;
	struct xs_span              user;  /* len 0: none (guest order) */
	int64_t                     ts;    /* unix seconds */
	struct xs_span              order; /* orders only */
	const struct xs_order_line *lines; /* orders only */
	uint32_t                    n_lines;
	struct xs_span              item;   /* view, cart_*, rating */
	uint8_t                     rating; /* 1..5, rating only */
};

struct xs_item_update {
	struct xs_span item;
	struct xs_span category; /* len 0: keep */
	bool           has_price, has_in_stock, has_created;
	double         price;
	bool           in_stock;
	int64_t        created;
};

/* Pending count changes of one write transaction, kept in memory and
 * written sorted by xs_acc_flush (one pass over each neighbour list
 * instead of one lookup per pair). */
typedef struct xs_acc xs_acc;

xsell_err xs_acc_alloc(xs_acc **accp);
void      xs_acc_free(xs_acc *acc);
/* Bytes the accumulator holds: a bulk loader flushes when it is large. */
size_t xs_acc_bytes(const xs_acc *acc);
/* Write everything pending into 'txn' and empty the accumulator. */
xsell_err xs_acc_flush(xs_acc *acc, xs_store *st, MDB_txn *txn);
/* Forget everything pending (after an aborted transaction). */
void xs_acc_clear(xs_acc *acc);
/* Bulk mode, for a load into a fresh store: every pair change is kept
 * until the next flush (4 bytes a +1 of item or day ids, 16 of larger
 * ones with their sort; past 'max_held' 4-byte units of them, 0 for
 * 2^28, 1 GiB, they are summed into the ordinary log, which bounds the
 * memory), and the flush writes each
 * neighbour list and top list whole
 * with xs_pair_writer: XSELL_EINVAL then if the store's pair or top
 * database is not empty. The store ends as the ordinary flush would
 * leave it. Ends with that flush or xs_acc_clear. */
void xs_acc_bulk_begin(xs_acc *acc, size_t max_held);
/* Bulk mode: remember that external id p[0..len) is item 'id' in this
 * transaction (up to a bound; elsewhere nothing), so that applying
 * events resolves it without a B-tree search. A loader that numbers the
 * items first tells it each one's id as it gets it. */
xsell_err xs_acc_item_id_put(
    xs_acc *acc, const char *p, size_t len, uint32_t id);

struct xs_apply_result {
	uint32_t applied;    /* events that changed the store */
	uint32_t duplicates; /* orders already stored, or a repeated batch */
};

/* Apply already-validated events in order, inside write txn 'txn',
 * collecting count changes in 'acc' (flushed by the caller before
 * commit). Orders whose id is stored already count as duplicates and
 * change nothing. The result is a pure function of the store and the
 * events: the same events in the same order give the same store. */
xsell_err xs_model_apply(xs_store *st, MDB_txn *txn, xs_acc *acc,
    const struct xs_settings *set, const struct xs_event *evs, size_t n,
    struct xs_apply_result *res);

/* xs_model_apply for a client's batch: if 'batch' (may be NULL or empty)
 * names a batch applied before, nothing changes and every event counts
 * as a duplicate; otherwise the events are applied and the id kept. This
 * makes retried non-order events (which have no id of their own) safe. */
xsell_err xs_model_apply_batch(xs_store *st, MDB_txn *txn, xs_acc *acc,
    const struct xs_settings *set, const struct xs_span *batch,
    const struct xs_event *evs, size_t n, struct xs_apply_result *res);

struct xs_forget_result {
	bool     found;  /* the user was known */
	uint64_t events; /* their events taken out */
	uint64_t orders; /* of which orders */
};

/* Forget 'user': take every count their events added out again (through
 * 'acc', flushed by the caller before commit), delete their orders,
 * history, cart, bought set and ids. Afterwards the counts are exactly
 * what they would be had the user's events never arrived. An unknown user
 * is not an error (res->found false). Touches the user's ledger, the
 * orders it names and the counts they changed; nothing else. */
xsell_err xs_model_forget_user(xs_store *st, MDB_txn *txn, xs_acc *acc,
    const struct xs_span *user, struct xs_forget_result *res);

/* Upsert item metadata; fields left out keep their value. */
xsell_err xs_model_items_upsert(xs_store *st, MDB_txn *txn,
    const struct xs_item_update *ups, size_t n, int64_t now);

/* ==== Answers ==== */

/* Which candidates of a list answer may come back (proto/filter.md). The
 * filter is applied only to the candidates about to be returned, best
 * first, until k pass; each one's metadata is read at most once. */
struct xs_filter {
	bool                  in_stock; /* leave out items out of stock */
	const struct xs_span *exclude;  /* ids never to return */
	uint32_t              n_exclude;
	/* Only items whose category is one of these names (none given: no
	 * such rule). A name nobody stored matches no item; an item
	 * without a category is in none of them. */
	const struct xs_span *categories;
	uint32_t              n_categories;
	/* Never items whose category is one of these names; an item
	 * without a category is never left out by this rule. */
	const struct xs_span *exclude_categories;
	uint32_t              n_exclude_categories;
	/* Price bounds, inclusive: price_min <= price <= price_max. An item
	 * without a price fails every bound that is set. */
	bool   has_price_min, has_price_max;
	double price_min, price_max;
	/* Diversity: at most this many items of one category in the answer
	 * (0: no cap). Items without a category form one group, capped
	 * like a category. */
	unsigned max_per_category;
};

/* similar: whose behaviour counts. */
enum xs_signal {
	XS_SIGNAL_ALL,
	XS_SIGNAL_ORDER,
	XS_SIGNAL_VIEW,
	XS_SIGNAL_CART,
	XS_SIGNAL_COUNT
};

enum xs_pick_kind {
	XS_PICK_FOR_YOU,
	XS_PICK_ABANDONED_CART,
	XS_PICK_BACK_IN_STOCK,
	XS_PICK_NEW_ARRIVALS,
	XS_PICK_BUY_AGAIN,
	XS_PICK_KIND_COUNT
};

/* "view" -> XS_SIGNAL_VIEW, "abandoned_cart" -> ...; false if unknown. */
bool        xs_signal_parse(const char *name, size_t len, enum xs_signal *out);
const char *xs_signal_name(enum xs_signal s);
bool xs_pick_kind_parse(const char *name, size_t len, enum xs_pick_kind *out);
const char *xs_pick_kind_name(enum xs_pick_kind k);

/* A read request. Fields an op does not take stay zero. */
struct xs_query {
	const struct xs_span *items; /* the given item(s) */
	uint32_t              n_items;
	unsigned              k; /* 1..XSELL_K_MAX */
	enum xs_scorer        scorer;
	unsigned              min_support; /* 0: the setting */
	bool                  explain;
	struct xs_filter      filter;
	/* complements only */
	bool   has_beta; /* else the setting */
	double beta;
	bool   cross_category; /* other categories only */
	bool   fresh;          /* walk, never a precomputed list */
	/* similar */
	enum xs_signal signal;
	/* trending */
	struct xs_span category; /* len 0: every category */
	bool           has_half_life;
	double         half_life_days;
	/* picks, history */
	struct xs_span        user;
	enum xs_pick_kind     kind;
	const struct xs_span *context; /* items on the page: add to history */
	uint32_t              n_context;
	const struct xs_span *candidates; /* rank only these */
	uint32_t              n_candidates;
	bool                  has_min_age, has_max_age, has_days;
	int64_t               min_age_s, max_age_s; /* abandoned_cart */
	unsigned              days;                 /* new_arrivals */
	int64_t               now;   /* the time the answer is for */
	unsigned              limit; /* history: events */
	/* Set by the model, never by the wire: the categories of the items
	 * an answer holds already when a ranking continues it (picks'
	 * trending fill), counted against filter.max_per_category first,
	 * so that the cap is the whole answer's. */
	const uint32_t *taken_cats;
	uint32_t        n_taken_cats;
};

/* Where an answer came from (picks) and the parts of its score. */
enum xs_source {
	XS_SOURCE_NONE,
	XS_SOURCE_HISTORY,  /* neighbours of the user's history */
	XS_SOURCE_TRENDING, /* popular now: nothing better was known */
	XS_SOURCE_CART,     /* in the user's open cart */
	XS_SOURCE_VIEWED,   /* viewed while out of stock, now back */
	XS_SOURCE_NEW,      /* a new arrival */
	XS_SOURCE_BOUGHT,   /* bought before and due again */
	XS_SOURCE_COUNT
};

/* Parts of a similar score, one per relation. */
enum xs_part { XS_PART_ORDER, XS_PART_VIEW, XS_PART_CART, XS_PART_COUNT };

struct xs_why {
	double parts[XS_PART_COUNT]; /* similar: weighted score per relation */
	bool   has_parts;
	uint8_t     source;  /* enum xs_source */
	uint32_t    because; /* the history item that brought it, 0: none */
	const char *because_ext; /* borrowed like ext */
	size_t      because_len;
};

const char *xs_source_name(enum xs_source s);

struct xs_rec {
	uint32_t item;
	double   score;
	uint64_t count;    /* fbt: co-count summed over the given items;
	                      complements: co-count of via and item */
	const char   *ext; /* borrowed from the read txn */
	size_t        ext_len;
	uint32_t      via;     /* complements: the intermediate item, else 0 */
	const char   *via_ext; /* borrowed like ext; NULL: no via */
	size_t        via_len;
	struct xs_why why;
};

struct xs_answer {
	struct xs_rec *recs; /* best first, from the arena */
	uint32_t       n;
	uint32_t      *unknown; /* indexes into unknown_of (query.items if
	                           NULL) */
	uint32_t              n_unknown;
	const struct xs_span *unknown_of;
	uint32_t              n_unknown_of;
};

/* Frequently bought with: neighbours of the given items over the basket
 * relation, scored by q->scorer and summed over given items, best first
 * with ties by external id. Scratch memory comes from 'arena'; the answer
 * lives until the arena is reset and the txn ends. Touches each given
 * item's neighbour list, the counter chunks of those neighbours, and the
 * metadata of the ones it returns. */
xsell_err xs_model_fbt(xs_store *st, MDB_txn *txn,
    const struct xs_settings *set, const struct xs_query *q,
    struct xs_arena *arena, struct xs_answer *ans);

/* People who viewed this bought: the view -> buy neighbours of the given
 * items, scored by q->scorer with N_a the orders a view of a preceded and
 * N_b the orders of b. Touches what fbt touches, over view_buy. */
xsell_err xs_model_viewed_bought(xs_store *st, MDB_txn *txn,
    const struct xs_settings *set, const struct xs_query *q,
    struct xs_arena *arena, struct xs_answer *ans);

/* Items like the given ones by behaviour: the co-purchase, co-view and
 * co-cart neighbours (q->signal picks one or all), each scored by
 * q->scorer against its own counts and weighted by the setting, summed.
 * Each answer keeps the parts of its score. Touches each given item's
 * list in each relation asked for. */
xsell_err xs_model_similar(xs_store *st, MDB_txn *txn,
    const struct xs_settings *set, const struct xs_query *q,
    struct xs_arena *arena, struct xs_answer *ans);

/* Trending: time-decayed popularity (orders, and views at a lower
 * weight) as of the newest day the store has events for, with half-life
 * q->half_life_days (else the setting); only q->category if given. See
 * trending.c for the cost. */
xsell_err xs_model_trending(xs_store *st, MDB_txn *txn,
    const struct xs_settings *set, const struct xs_query *q,
    struct xs_arena *arena, struct xs_answer *ans);

/* One event of a user's history, for the history answer. */
struct xs_hist_item {
	const struct xs_hist_rec *rec;
	const char               *ext; /* the item; borrowed from the txn */
	size_t                    ext_len;
};

struct xs_history {
	bool                 known; /* the user has been seen */
	struct xs_hist_item *evs;   /* newest first, from the arena */
	struct xs_hist_rec  *recs;
	uint32_t             n;
};

/* The newest q->limit events of q->user, newest first. Touches the
 * user's history and the external ids of the items in it. */
xsell_err xs_model_history(xs_store *st, MDB_txn *txn,
    const struct xs_query *q, struct xs_arena *arena, struct xs_history *out);

/* Personalised picks for q->user of kind q->kind, as of q->now (see
 * picks.c for each kind and what it touches). Each answer says where it
 * came from (why.source); for_you names the history item behind it
 * (why.because). A user with no usable history gets trending items. */
xsell_err xs_model_picks(xs_store *st, MDB_txn *txn,
    const struct xs_settings *set, const struct xs_query *q,
    struct xs_arena *arena, struct xs_answer *ans);

/* Second-level complements: items two hops away over the basket graph,
 * scored in the manner of P3 / RP3beta (Paudel et al. 2017): the walk
 * a -> b -> c with probability p(b|a) p(c|b) = N_ab/N_a * N_bc/N_b,
 * divided by N_c^beta to damp popular items, summed over the given items
 * and the paths. The given items and every first-level neighbour of
 * them are left out, so what comes back is genuinely second-level; each
 * item names its via-item, the b whose path contributed most. With
 * q->cross_category, items sharing a category with a given item are left
 * out too. Touches the given items' precomputed lists (below) when they
 * are fresh and prove the answer to be the walk's (then, with more than
 * one given item, their neighbour lists too); otherwise, or with
 * q->fresh, walks: the given items' neighbour lists and those of their
 * settings.walk_width strongest neighbours. */
xsell_err xs_model_complements(xs_store *st, MDB_txn *txn,
    const struct xs_settings *set, const struct xs_query *q,
    struct xs_arena *arena, struct xs_answer *ans);

/* Scratch memory one request may use (candidate lists, decoded
 * batches): each xselld worker's arena cap, and so what warming and
 * xsell-bench's in-process calls give an answer. */
#define XS_REQUEST_ARENA_MAX ((size_t) 256 << 20)

/* ==== Warming (warm.c) ==== */

/* Make what fbt keeps of the n items in most baskets (ties by number)
 * in the store's item memos, so that the first requests after a start
 * find them made: fbt of each alone and of each two in a row as a cart,
 * with the default scorer, k and filter, most ordered first, on
 * 'threads' threads (the caller's among them; 1..XS_WARM_THREADS_MAX),
 * each in a read transaction of its own. Stops once the memos hold half
 * their budget, leaving the rest to what answers make. *warmedp says
 * how many items were asked. */
#define XS_WARM_THREADS_MAX 16u
xsell_err xs_model_warm(xs_store *st, const struct xs_settings *set,
    uint32_t n, unsigned threads, uint32_t *warmedp);

/* ==== Scores (score.c) ==== */

/* One pair's numbers: N_ab, N_a, N_b, N. */
struct xs_pair_stats {
	double n_ab, n_a, n_b, n;
};

/* The score of a pair under 'scorer', as DESIGN.md defines them. Zero
 * or negative denominators give 0. */
double xs_score(enum xs_scorer scorer, const struct xs_pair_stats *ps);

/* By how much, at most, a pair's score under 'scorer' can have grown
 * since its relation's N was n_made, now n_now, when the pair's
 * co-count and its first item's N are the same and no order was taken
 * out (so every other N only grew): N is in the numerator under lift
 * (as N) and tempered (as its square root), and N_b in a denominator or
 * nowhere. NaN where no such factor bounds it (llr and amazon: a score
 * near zero can grow by any multiple; or N fell). What a list kept from an
 * older snapshot multiplies its bound on the pairs it left out by
 * (cart_lists.c). */
double xs_score_growth_max(enum xs_scorer scorer, double n_made, double n_now);

/* ==== Precomputed complements lists (complements.c, comp_refresh.c) ==== */

/* One item's list as computed, for xs_store_comp_put. */
struct xs_comp_list_out {
	struct xs_comp_stamp stamp;
	struct xs_comp_entry entries[XS_COMP_LIST_MAX];
	uint32_t             n;
	uint32_t             skips[XS_COMP_LIST_MAX];
	uint32_t             n_skip;
};

/* a's list as the walk from a alone sees it in txn, at the default beta,
 * walk_width and min_support, by walk score before momentum: its best
 * set->comp_list_len second-level items, and every one of them among the
 * set->comp_list_trend items of the largest momentum factors now (the
 * others of those are its skips), stamped with now_s, the snapshot and
 * the best score left out. */
xsell_err xs_model_comp_compute(xs_store *st, MDB_txn *txn,
    const struct xs_settings *set, uint32_t a, int64_t now_s,
    struct xs_comp_list_out *out);

/* What a list of item a is judged against: a reader's snapshot of the
 * store (xs_comp_basis_init) and a's basket count in it. */
struct xs_comp_basis {
	uint64_t txnid;        /* the snapshot's */
	uint64_t forgotten_at; /* xs_store_orders_forgotten_at of it */
	int64_t  now_s;
	uint32_t n_a;
};
void xs_comp_basis_init(
    xs_store *st, MDB_txn *txn, int64_t now_s, struct xs_comp_basis *b);

/* Whether a list stamped 'stamp' answers for item a in the snapshot and
 * at the time of basis b: computed with these settings (beta 'beta',
 * min_support 'min_support'), from a snapshot no newer than b's and no
 * older than its last forget of orders (a forget lowers counts, and an
 * order can raise them back to the stamp's), while a had the basket
 * count b->n_a, at most set->comp_list_max_age_s ago. */
bool xs_model_comp_is_fresh(const struct xs_comp_stamp *stamp,
    const struct xs_settings *set, double beta, unsigned min_support,
    const struct xs_comp_basis *b);

struct xs_comp_refresh_opts {
	int64_t  now_s;     /* the stamp of what is computed */
	uint32_t max_lists; /* lists computed by this call; 0: no bound */
	uint32_t chunk;     /* lists per write transaction (>= 1) */
	/* A list whose item was ordered since it was made is due only once
	 * it is this old (0: at once): meanwhile answers make their own
	 * (comp_lists.c), and under a stream of orders remaking the lists
	 * of the items being bought kept the refresher busy for good. */
	uint32_t touched_wait_s;
	/* Called after each chunk's commit, with no transaction open (a
	 * test writes there; the server's refresher checks for stop). A
	 * non-zero return stops the refresh and is returned. */
	xsell_err (*between)(void *ctx);
	void *ctx;
};

struct xs_comp_refresh_stats {
	uint64_t items;     /* items with orders */
	uint64_t due;       /* of them, lists missing or not fresh */
	uint64_t computed;  /* lists written by this call */
	uint64_t made;      /* of them, taken as answers made them */
	uint64_t chunks;    /* write transactions committed */
	uint32_t max_chunk; /* most lists one transaction wrote */
	/* Of the look for due lists: the second the first list it left
	 * comes due by age alone (INT64_MAX: none; 0 when the look failed),
	 * and the orders' stamp of the snapshot it read
	 * (xs_store_orders_changed_at). While that stamp stays and that
	 * second has not come, a look finds nothing new to compute. */
	int64_t  next_due_s;
	uint64_t orders_at;
};

/* Recompute the lists that are missing or not fresh (items whose basket
 * count changed since first, then missing ones, then the oldest), at
 * most o->max_lists of them: each chunk of o->chunk lists is computed in
 * a read transaction and then written in a write transaction of its own,
 * so the write lock is held only for a chunk's puts. Needs a writable
 * store with the lists' sub-database. */
xsell_err xs_model_comp_refresh(xs_store *st, const struct xs_settings *set,
    const struct xs_comp_refresh_opts *o, struct xs_comp_refresh_stats *out);
/* Every list missing or not fresh at now_s, in write transactions of 16
 * lists (a whole store at once: xsell-load --complements, xsell-eval
 * --comp-lists). */
xsell_err xs_model_comp_refresh_all(xs_store *st,
    const struct xs_settings *set, int64_t now_s,
    struct xs_comp_refresh_stats *out);

#endif /* XSELL_MODEL_MODEL_H */
