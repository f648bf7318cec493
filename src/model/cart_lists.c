/* SPDX-License-Identifier: MIT */
/* fbt (and viewed_bought) of a cart from lists kept across answers.
 *
 * A cart's answer sums, over its given items, each item's score of a
 * candidate. The merged walk (neighbours.c, "Several lists") reads
 * every given item's whole pair list and scores what may reach the
 * answer; a popular item has thousands of pairs, so a cart pays for them
 * on every answer. Here each given item's list is kept (an item memo,
 * good until a commit changes the relation's family of records:
 * store/epochs.c) in the shape a cart needs: its CART_BEST best pairs by
 * score (b, co-count, score), with 'rest', the most any other pair
 * scores. An answer then
 *
 *  1. takes every list's best pairs as candidates, each with a bound:
 *     what its lists' best pairs give it, plus the rest of every list
 *     whose best pairs lack it (an item in no best pairs at all can
 *     score at most the sum of the rests);
 *  2. scores exactly the k + CART_SLACK candidates of largest bound and
 *     ranks them: a candidate's score is summed over the lists in the
 *     walk's order, each part the scorer's on the pair's co-count (from
 *     the best pairs, or else the list's every co-count, kept packed),
 *     so the bits are the walk's;
 *  3. scores every other candidate whose bound reaches the k-th score,
 *     and ranks again;
 *  4. is the walk's answer when k items came back and the k-th score
 *     is above the sum of the rests (adding candidates only raises the
 *     k-th score, whatever the filter: neighbours.c says why); else the
 *     cart is left to the walk, which gives the same answer slower.
 *
 * Orders retire every list of the basket relation (their commit changes
 * its family), yet most lists still hold: an item in none of the new
 * orders has the same pairs and co-counts (an order adds to an item's
 * pairs only with its count). Its list is then refreshed rather than
 * made again (list_refresh): its best pairs scored anew with the
 * snapshot's counters, and its rest raised by what the new orders can
 * have added to any score of a pair whose co-count did not change
 * (xs_score_growth_max). A shop taking ten orders a second made every list a
 * cart needs again after each one (bench/RESULTS.md, "A cart's lists
 * and for_you's seed lists under orders"). */
#include "model/model_impl.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Best pairs kept a list: the more, the smaller its rest, and the more
 * often step 4 can prove an answer (at 16 bytes each). */
#define CART_BEST 128u
/* Candidates scored before the first ranking, beyond k: a filter that
 * drops a few of the best costs no second round of scoring. */
#define CART_SLACK 8u
/* A list of more pairs is not kept: the walk reads it. At ~3 bytes a
 * pair kept, this covers every list of a catalogue of up to 65,536
 * items; at 16,384, the popular items of the 50M-line generated store
 * (50,000 items) kept none and most carts there took the walk, 30 times
 * slower (bench/RESULTS.md). */
#define CART_PAIRS_MAX 65536u
/* Pairs a block of the packed co-counts: a lookup searches the blocks'
 * first b, then decodes at most this many. */
#define CART_BLOCK 16u
/* Relative margin by which a bound is taken as larger than it is and
 * the k-th score as smaller: far above the rounding of any sum, whose
 * order differs between a bound and a score. */
#define CART_MARGIN 1e-9

struct cart_best {
	uint32_t b, count;
	double   score;
};

/* One item's list as kept: its best pairs, ascending b, and every pair
 * (best or not) packed in blocks of CART_BLOCK, ascending b: block j's
 * first b is block_b[j], and its pairs start at byte block_at[j] of the
 * packing, each as two LEB128 varints, b's step from the pair before
 * (0 for a block's first) and the co-count. On Online Retail a list
 * kept so averages 5.5 KB, best pairs included (3,489 lists in 19.3
 * MB), against 8 bytes a pair as (b, count); a co-count not kept would
 * cost a B-tree search of the store (~1,400 instructions). */
struct cart_list {
	double n_a;
	double rest;           /* the most a pair not in best[] scores;
	                          -INFINITY: best[] holds every pair */
	double   rest_made;    /* rest where the list was made, */
	double   n_made;       /* at this N of the relation */
	uint64_t forgotten_at; /* xs_store_orders_forgotten_at there */
	uint32_t a;            /* the item */
	uint32_t n_best;       /* best[] */
	uint32_t n_pairs;      /* every pair of a (of min_support) */
	uint32_t n_packed;     /* bytes of packing */
	/* best[n_best], then block_b[], block_at[] (one a block) and the
	 * packing (cart_list_blocks). */
	struct cart_best best[];
};

/* Blocks of the packing of n pairs. */
static size_t
blocks_of(size_t n)
{
	return (n + CART_BLOCK - 1) / CART_BLOCK;
}

static size_t
cart_list_size(uint32_t n_best, uint32_t n_pairs, uint32_t n_packed)
{
	return sizeof(struct cart_list) + n_best * sizeof(struct cart_best) +
	    2 * blocks_of(n_pairs) * sizeof(uint32_t) + n_packed;
}

/* The bytes of list l. */
static size_t
cart_list_bytes(const struct cart_list *l)
{
	return cart_list_size(l->n_best, l->n_pairs, l->n_packed);
}

/* Where l's blocks and packing are. */
struct cart_blocks {
	uint32_t      *b;  /* each block's first b */
	uint32_t      *at; /* where it starts in packed */
	unsigned char *packed;
};

static struct cart_blocks
cart_list_blocks(const struct cart_list *l)
{
	struct cart_blocks bl;
	size_t             n = blocks_of(l->n_pairs);

	bl.b      = (uint32_t *) (void *) &l->best[l->n_best];
	bl.at     = bl.b + n;
	bl.packed = (unsigned char *) (bl.at + n);
	return bl;
}

/* LEB128: 7 bits a byte, low first, the high bit on all but the last. */
static size_t
varint_size(uint32_t x)
{
	size_t n = 1;

	while (x >= 0x80) {
		x >>= 7;
		n++;
	}
	return n;
}

static unsigned char *
varint_put(unsigned char *p, uint32_t x)
{
	while (x >= 0x80) {
		*p++ = (unsigned char) (x | 0x80);
		x >>= 7;
	}
	*p++ = (unsigned char) x;
	return p;
}

static const unsigned char *
varint_get(const unsigned char *p, uint32_t *xp)
{
	uint32_t x     = 0;
	unsigned shift = 0;

	while (*p & 0x80) {
		x |= (uint32_t) (*p++ & 0x7f) << shift;
		shift += 7;
	}
	*xp = x | (uint32_t) *p++ << shift;
	return p;
}

/* Bytes of v[0..m)'s packing. */
static uint32_t
packed_size(const struct xs_top_entry *v, size_t m)
{
	size_t n = 0;

	for (size_t i = 0; i < m; i++) {
		uint32_t step = i % CART_BLOCK == 0 ? 0 : v[i].b - v[i - 1].b;

		n += varint_size(step) + varint_size(v[i].count);
	}
	return (uint32_t) n;
}

/* Pack v[0..m) (ascending b) into l's blocks, sized by cart_list_size. */
static void
cart_list_pack(struct cart_list *l, const struct xs_top_entry *v, size_t m)
{
	struct cart_blocks bl = cart_list_blocks(l);
	unsigned char     *p  = bl.packed;

	for (size_t i = 0; i < m; i++) {
		uint32_t step = 0;

		if (i % CART_BLOCK == 0) {
			bl.b[i / CART_BLOCK]  = v[i].b;
			bl.at[i / CART_BLOCK] = (uint32_t) (p - bl.packed);
		} else {
			step = v[i].b - v[i - 1].b;
		}
		p = varint_put(p, step);
		p = varint_put(p, v[i].count);
	}
	assert((size_t) (p - bl.packed) == l->n_packed);
}

/* The co-count of (l's item, b): 0 if none. */
static uint32_t
cart_list_count(const struct cart_list *l, uint32_t b)
{
	struct cart_blocks   bl = cart_list_blocks(l);
	size_t               lo = 0, hi = blocks_of(l->n_pairs), end;
	const unsigned char *p;
	uint32_t             at, step, count;

	/* The last block whose first b is at most b. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (bl.b[mid] <= b) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	if (lo == 0) {
		return 0;
	}
	end = lo * CART_BLOCK < l->n_pairs
	    ? CART_BLOCK
	    : l->n_pairs - (lo - 1) * CART_BLOCK;
	p   = bl.packed + bl.at[lo - 1];
	at  = bl.b[lo - 1];
	for (size_t i = 0; i < end; i++) {
		p = varint_get(p, &step);
		p = varint_get(p, &count);
		at += step;
		if (at >= b) {
			return at == b ? count : 0;
		}
	}
	return 0;
}

/* What every list of one answer shares: the relation and its scoring. */
struct cart_ctx {
	xs_store                   *st;
	MDB_txn                    *txn;
	const struct xs_rel_source *src;
	enum xs_scorer              scorer;
	uint32_t                    min_support;
	uint64_t                    forgotten_at; /* the snapshot's */
	struct xs_counts_reader     counts;
};

/* The score of pair (a, b) of co-count 'count', a's N being n_a: what
 * the walk's pair_score gives, to the bit. */
static double
cart_pair_score(struct cart_ctx *cx, double n_a, uint32_t b, uint32_t count)
{
	return cx->src->weight *
	    xs_rel_pair_score(cx->src, cx->scorer, &cx->counts, n_a, b, count);
}

/* The cut of the 'want' largest of v[0..n) (n > want): their smallest,
 * from a copy in the arena; NaN when out of memory. */
static double
largest_cut(const double *v, size_t n, size_t want, struct xs_arena *arena)
{
	double *copy = xs_arena_alloc(arena, n * sizeof(*copy));

	if (copy == NULL) {
		return NAN;
	}
	memcpy(copy, v, n * sizeof(*copy));
	return xs_nth_largest(copy, n, want);
}

/* Item a's list, made from its pair list (malloc'd into *lp).
 * XSELL_ETOOBIG when it has more than CART_PAIRS_MAX pairs. */
static xsell_err
cart_list_make(struct cart_ctx *cx, uint32_t a, struct xs_arena *arena,
    struct cart_list **lp)
{
	struct xs_top_entry *v;
	struct cart_list    *l;
	double              *score;
	size_t               n, m = 0, n_best, ties = CART_BEST;
	uint32_t             n_packed;
	double               cut = -INFINITY, rest = -INFINITY;
	double               n_a;
	xsell_err            err;

	err = xs_store_pairs_read(
	    cx->st, cx->txn, cx->src->rel, a, CART_PAIRS_MAX, arena, &v, &n);
	if (err != XSELL_OK) {
		return err;
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i].count >= cx->min_support) {
			v[m++] = v[i];
		}
	}
	n_a   = xs_counts_reader_get(&cx->counts, a, cx->src->count_a);
	score = xs_arena_alloc(arena, (m + 1) * sizeof(*score));
	if (score == NULL) {
		return XSELL_ENOMEM;
	}
	for (size_t i = 0; i < m; i++) {
		score[i] = cart_pair_score(cx, n_a, v[i].b, v[i].count);
	}
	/* The best CART_BEST: those above the cut, and as many tied with
	 * it as there is room for; walked in b order, so kept in it. */
	if (m > CART_BEST) {
		cut = largest_cut(score, m, CART_BEST, arena);
		if (isnan(cut)) {
			return XSELL_ENOMEM;
		}
		for (size_t i = 0; i < m; i++) {
			ties -= score[i] > cut;
		}
	}
	n_best   = m < CART_BEST ? m : CART_BEST;
	n_packed = packed_size(v, m);
	l = malloc(cart_list_size((uint32_t) n_best, (uint32_t) m, n_packed));
	if (l == NULL) {
		return XSELL_ENOMEM;
	}
	/* The loop below keeps exactly n_best: those above the cut and as
	 * many tied with it as there is room for. */
	l->n_best   = (uint32_t) n_best;
	l->n_pairs  = (uint32_t) m;
	l->n_packed = n_packed;
	n_best      = 0;
	for (size_t i = 0; i < m; i++) {
		bool tie = score[i] == cut && ties > 0;

		if (score[i] > cut || tie) {
			l->best[n_best++] = (struct cart_best) { v[i].b,
				v[i].count, score[i] };
			ties -= tie;
		} else {
			rest = fmax(rest, score[i]);
		}
	}
	assert(n_best == l->n_best);
	cart_list_pack(l, v, m);
	l->n_a          = n_a;
	l->rest         = rest;
	l->rest_made    = rest;
	l->n_made       = cx->src->n_total;
	l->forgotten_at = cx->forgotten_at;
	l->a            = a;
	*lp             = l;
	return XSELL_OK;
}

/* Item a's list l, made from an older snapshot, refreshed for this one
 * (malloc'd into *lp); *lp NULL when it no longer holds: a's co-counts
 * may have changed (its N did, or orders were taken out since), or the
 * scorer's rest cannot be bounded. Its best pairs keep their co-counts
 * and get this snapshot's scores; its rest is the one it was made with,
 * raised by xs_score_growth_max (from the made one each time, so that bounds
 * do not compound rounding). */
static xsell_err
list_refresh(
    struct cart_ctx *cx, const struct cart_list *l, struct cart_list **lp)
{
	double n_a = xs_counts_reader_get(&cx->counts, l->a, cx->src->count_a);
	double growth;
	struct cart_list *r;

	*lp = NULL;
	if (cx->src->rel != XS_REL_BASKET || n_a != l->n_a ||
	    l->forgotten_at != cx->forgotten_at) {
		return XSELL_OK;
	}
	growth = xs_score_growth_max(cx->scorer, l->n_made, cx->src->n_total);
	if (isnan(growth)) {
		return XSELL_OK;
	}
	r = malloc(cart_list_bytes(l));
	if (r == NULL) {
		return XSELL_ENOMEM;
	}
	memcpy(r, l, cart_list_bytes(l));
	for (uint32_t j = 0; j < r->n_best; j++) {
		r->best[j].score =
		    cart_pair_score(cx, n_a, r->best[j].b, r->best[j].count);
	}
	if (r->rest != -INFINITY) {
		r->rest = r->rest_made * growth;
	}
	*lp = r;
	return XSELL_OK;
}

/* The lists of one answer: held from the memo, or made (and kept). */
struct cart_lists {
	const struct cart_list *l[XS_CART_LISTS_MAX];
	const void             *held[XS_CART_LISTS_MAX];
	struct cart_list       *made[XS_CART_LISTS_MAX];
	size_t                  n;
};

/* Every slot, not only the first n: those past it are NULL (and so
 * clang's analyzer sees every list made freed). */
static void
cart_lists_release(struct cart_lists *ls)
{
	for (size_t i = 0; i < XS_CART_LISTS_MAX; i++) {
		xs_store_memo_release(ls->held[i]);
		free(ls->made[i]);
		ls->held[i] = NULL;
		ls->made[i] = NULL;
	}
	ls->n = 0;
}

/* Take the list just made (or refreshed) into ls, and keep it. */
static void
keep_made(struct cart_ctx *cx, uint64_t key, struct cart_lists *ls)
{
	ls->l[ls->n] = ls->made[ls->n];
	xs_store_item_memo_put(cx->st, cx->txn, key, ls->made[ls->n],
	    cart_list_bytes(ls->made[ls->n]));
	ls->n++;
}

/* The kept list of 'key' into ls (*foundp): held, fresh for this
 * snapshot, or refreshed from an older one's where it still holds
 * (list_refresh) and kept in its place. */
static xsell_err
cart_list_kept(
    struct cart_ctx *cx, uint64_t key, struct cart_lists *ls, bool *foundp)
{
	const void      *held;
	size_t           len;
	enum xs_memo_age age;
	xsell_err        err;

	*foundp = false;
	if (!xs_store_item_memo_hold_aged(
	        cx->st, cx->txn, key, &held, &len, &age)) {
		return XSELL_OK;
	}
	if (age == XS_MEMO_FRESH) {
		ls->held[ls->n] = held;
		ls->l[ls->n]    = held;
		ls->n++;
		*foundp = true;
		return XSELL_OK;
	}
	err = list_refresh(cx, held, &ls->made[ls->n]);
	xs_store_memo_release(held);
	if (err == XSELL_OK && ls->made[ls->n] != NULL) {
		keep_made(cx, key, ls);
		*foundp = true;
	}
	return err;
}

/* The list of every given item, held fresh, refreshed from an older
 * snapshot's where it still holds, else made; *okp false when one cannot be
 * kept (no memo key, too many pairs, or the memos are full: a list made for
 * one answer costs more than the walk). */
static xsell_err
cart_lists_get(struct cart_ctx *cx, const struct xs_rank_ids *ids,
    struct xs_arena *arena, struct cart_lists *ls, bool *okp)
{
	*okp = false;
	for (size_t g = 0; g < ids->n_given; g++) {
		uint64_t  key;
		bool      found;
		xsell_err err;

		if (!xs_list_memo_key(XS_ITEM_MEMO_CART_LIST, cx->src->rel,
		        cx->scorer, cx->min_support, ids->given[g], &key)) {
			return XSELL_OK;
		}
		ls->held[ls->n] = NULL;
		ls->made[ls->n] = NULL;
		err             = cart_list_kept(cx, key, ls, &found);
		if (err != XSELL_OK) {
			return err;
		}
		if (found) {
			continue;
		}
		if (!xs_store_item_memo_room(
		        cx->st, cx->txn, cart_list_size(CART_BEST, 0, 0))) {
			return XSELL_OK;
		}
		err =
		    cart_list_make(cx, ids->given[g], arena, &ls->made[ls->n]);
		if (err == XSELL_ETOOBIG) {
			return XSELL_OK;
		}
		if (err != XSELL_OK) {
			return err;
		}
		keep_made(cx, key, ls);
	}
	*okp = true;
	return XSELL_OK;
}

/* A candidate of step 1: its item, the lists whose best pairs hold it
 * (a bit each) and where in them (best_at: its index in list i's best
 * pairs, when bit i is set), its bound, and whether it was scored (or
 * is a given item, never to be). */
struct cart_cand {
	uint32_t item;
	uint32_t known;
	double   bound;
	bool     scored;
	uint8_t  best_at[XS_CART_LISTS_MAX];
};

_Static_assert(CART_BEST <= 256, "cart_cand.best_at holds an index of best");

/* The candidates of every list's best pairs, by item (open addressing
 * over indexes into v). */
struct cart_cands {
	struct cart_cand *v;
	size_t            n;
	uint32_t         *slots; /* index + 1; 0: empty */
	size_t            mask;
};

/* The slot of 'item': its own, or the empty one where it would go. */
static size_t
cart_cand_slot(const struct cart_cands *cs, uint32_t item)
{
	size_t j = (uint32_t) (item * 0x9e3779b1u) & cs->mask;

	while (cs->slots[j] != 0 && cs->v[cs->slots[j] - 1].item != item) {
		j = (j + 1) & cs->mask;
	}
	return j;
}

static struct cart_cand *
cart_cand_get(struct cart_cands *cs, uint32_t item)
{
	size_t j = cart_cand_slot(cs, item);

	if (cs->slots[j] == 0) {
		cs->v[cs->n] = (struct cart_cand) { .item = item };
		cs->slots[j] = (uint32_t) ++cs->n;
	}
	return &cs->v[cs->slots[j] - 1];
}

/* What a list adds at most to an item its best pairs lack. */
static double
list_rest(const struct cart_list *l)
{
	return l->rest > 0 ? l->rest : 0;
}

/* Step 1: the candidates and their bounds; *unseenp the most an item
 * in no list's best pairs scores. Given items are no candidates. */
static xsell_err
cart_cands_gather(const struct cart_lists *ls, const struct xs_rank_ids *ids,
    struct xs_arena *arena, struct cart_cands *cs, double *unseenp)
{
	size_t total = 0, cap = 16;
	double unseen = 0;

	for (size_t i = 0; i < ls->n; i++) {
		total += ls->l[i]->n_best;
		unseen += list_rest(ls->l[i]);
	}
	while (cap < 2 * total) {
		cap *= 2;
	}
	cs->v     = xs_arena_alloc(arena, (total + 1) * sizeof(*cs->v));
	cs->slots = xs_arena_calloc(arena, cap, sizeof(*cs->slots));
	if (cs->v == NULL || cs->slots == NULL) {
		return XSELL_ENOMEM;
	}
	cs->n    = 0;
	cs->mask = cap - 1;
	/* A candidate's bound: the rest of every list, each list whose
	 * best pairs hold it adding what its pair scores past its rest. */
	for (size_t i = 0; i < ls->n; i++) {
		const struct cart_list *l    = ls->l[i];
		double                  rest = list_rest(l);

		for (uint32_t j = 0; j < l->n_best; j++) {
			struct cart_cand *c = cart_cand_get(cs, l->best[j].b);

			if (c->known == 0) {
				c->bound = unseen;
			}
			c->known |= 1u << i;
			c->best_at[i] = (uint8_t) j;
			c->bound += l->best[j].score - rest;
		}
	}
	/* A given item is no candidate: marked as if scored, once. */
	for (size_t g = 0; g < ids->n_given; g++) {
		size_t j = cart_cand_slot(cs, ids->given[g]);

		if (cs->slots[j] != 0) {
			cs->v[cs->slots[j] - 1].scored = true;
		}
	}
	*unseenp = unseen;
	return XSELL_OK;
}

/* What list i adds to candidate c's score, its co-count in *countp (0:
 * no pair, nothing added). Among the list's best pairs (c->known and
 * c->best_at say where) both were kept, the score by cart_pair_score
 * with this snapshot's counts, the same bits again; else the count is
 * read from the packing and scored. */
static double
cart_pair_part(struct cart_ctx *cx, const struct cart_lists *ls, size_t i,
    const struct cart_cand *c, uint32_t *countp)
{
	const struct cart_list *l = ls->l[i];

	if ((c->known >> i & 1u) != 0) {
		*countp = l->best[c->best_at[i]].count;
		return l->best[c->best_at[i]].score;
	}
	*countp = l->rest == -INFINITY ? 0 : cart_list_count(l, c->item);
	return *countp != 0 ? cart_pair_score(cx, l->n_a, c->item, *countp)
	                    : 0;
}

/* Score candidate c exactly into vec: the parts of every list that holds
 * a pair with it, summed in list order (the walk's, so the same bits),
 * with their co-counts. */
static xsell_err
cart_cand_score(struct cart_ctx *cx, const struct cart_lists *ls,
    struct cart_cand *c, struct xs_cand_vec *vec)
{
	struct xs_cand x = { 0 };

	x.item = c->item;
	for (size_t i = 0; i < ls->n; i++) {
		uint32_t count;
		double   part = cart_pair_part(cx, ls, i, c, &count);

		if (count != 0) {
			x.score += part;
			x.count += count;
		}
	}
	c->scored = true;
	return xs_cand_vec_push(vec, &x);
}

static double
lowered(double x)
{
	return x - CART_MARGIN * fabs(x);
}

static double
raised(double x)
{
	return x + CART_MARGIN * fabs(x);
}

/* Step 2's cut: the want-th largest bound of the candidates not scored
 * yet (-INFINITY if there are no more than want; NaN when out of
 * memory). */
static double
cart_cands_cut(
    const struct cart_cands *cs, size_t want, struct xs_arena *arena)
{
	double *bound = xs_arena_alloc(arena, (cs->n + 1) * sizeof(*bound));
	size_t  n     = 0;

	if (bound == NULL) {
		return NAN;
	}
	for (size_t c = 0; c < cs->n; c++) {
		if (!cs->v[c].scored) { /* scored: a given item */
			bound[n++] = cs->v[c].bound;
		}
	}
	return n > want ? xs_nth_largest(bound, n, want) : -INFINITY;
}

/* Score every candidate not scored yet whose bound, taken as a little
 * larger than it is, reaches 'floor': each bound is compared with the
 * floor lowered twice by the margin, which scores at least those whose
 * raised bound reaches it (and a few more, which is safe). */
static xsell_err
cart_cands_score_from(struct cart_ctx *cx, const struct cart_lists *ls,
    struct cart_cands *cs, double floor, struct xs_cand_vec *vec)
{
	double    reach = lowered(lowered(floor));
	xsell_err err   = XSELL_OK;

	for (size_t c = 0; c < cs->n && err == XSELL_OK; c++) {
		if (cs->v[c].bound >= reach && !cs->v[c].scored) {
			err = cart_cand_score(cx, ls, &cs->v[c], vec);
		}
	}
	return err;
}

/* The k-th score of the answer, or -INFINITY while it is short. */
static double
kth_score(const struct xs_query *q, const struct xs_answer *ans)
{
	return ans->n == q->k ? ans->recs[ans->n - 1].score : -INFINITY;
}

/* Steps 2 to 4 on gathered candidates. */
static xsell_err
cart_rank(struct cart_ctx *cx, const struct cart_lists *ls,
    struct cart_cands *cs, double unseen, const struct xs_query *q,
    const struct xs_rank_ids *ids, struct xs_arena *arena,
    struct xs_answer *ans, bool *donep)
{
	struct xs_cand_vec  vec  = { 0 };
	struct xs_rank_kept kept = { NULL, 0 };
	double    cut = cart_cands_cut(cs, (size_t) q->k + CART_SLACK, arena);
	bool      lists_whole = true;
	size_t    n_first;
	xsell_err err;

	if (isnan(cut)) {
		return XSELL_ENOMEM;
	}
	for (size_t i = 0; i < ls->n; i++) {
		lists_whole &= ls->l[i]->rest == -INFINITY;
	}
	err = cart_cands_score_from(cx, ls, cs, cut, &vec);
	if (err == XSELL_OK) {
		err = xs_rank_top_kept(cx->st, cx->txn, q, ids->excluded,
		    ids->n_excluded, vec.v, vec.n, &kept, arena, ans);
	}
	n_first = vec.n;
	if (err == XSELL_OK) {
		err = cart_cands_score_from(
		    cx, ls, cs, lowered(kth_score(q, ans)), &vec);
	}
	if (err == XSELL_OK && vec.n != n_first) {
		err = xs_rank_top_kept(cx->st, cx->txn, q, ids->excluded,
		    ids->n_excluded, vec.v, vec.n, &kept, arena, ans);
	}
	/* Every candidate of step 1 not scored is below the k-th score
	 * (or, with a short answer, all were scored); so is every other
	 * item when its most is, or when no list has another pair. */
	*donep = err == XSELL_OK &&
	    (lists_whole || raised(unseen) < lowered(kth_score(q, ans)));
	free(kept.verdicts);
	free(vec.v);
	return err;
}

xsell_err
xs_cart_lists_answer(xs_store *st, MDB_txn *txn, const struct xs_query *q,
    const struct xs_rel_source *src, enum xs_scorer scorer,
    uint32_t min_support, const struct xs_rank_ids *ids,
    struct xs_arena *arena, struct xs_answer *ans, bool *donep)
{
	struct cart_ctx   cx = { st, txn, src, scorer, min_support, 0, { 0 } };
	struct cart_lists ls = { { NULL }, { NULL }, { NULL }, 0 };
	struct cart_cands cs;
	double            unseen;
	bool              ok;
	xsell_err         err;

	*donep = false;
	/* A kept list's scores are the relation's own (the key has no
	 * weight), as the walk's with a weight of 1. */
	if (ids->n_given < 2 || ids->n_given > XS_CART_LISTS_MAX ||
	    src->weight != 1 || !xs_store_memo_kept(st, txn)) {
		return XSELL_OK;
	}
	xs_counts_reader_init(&cx.counts, st, txn);
	cx.forgotten_at = xs_store_orders_forgotten_at(st, txn);
	err             = cart_lists_get(&cx, ids, arena, &ls, &ok);
	if (err == XSELL_OK && ok) {
		err = cart_cands_gather(&ls, ids, arena, &cs, &unseen);
	}
	if (err == XSELL_OK && ok) {
		err = cart_rank(
		    &cx, &ls, &cs, unseen, q, ids, arena, ans, donep);
	}
	cart_lists_release(&ls);
	xs_counts_reader_fini(&cx.counts);
	return err;
}
