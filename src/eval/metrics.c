/* SPDX-License-Identifier: MIT */
/* Ranking metrics at K for one query, with binary relevance, as the
 * recommender literature uses them (e.g. Jarvelin and Kekalainen 2002
 * for NDCG). Relevant items that no recommender can return (items of the
 * test basket never seen in training) stay in the relevant set: they
 * lower recall and NDCG honestly instead of vanishing. */
#include "eval/eval.h"

#include <math.h>

static bool
contains(const uint32_t *v, size_t n, uint32_t x)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i] == x) {
			return true;
		}
	}
	return false;
}

void
xs_eval_score(const uint32_t *recs, size_t n_recs, unsigned k,
    const uint32_t *relevant, size_t n_rel, struct xs_eval_qscore *out)
{
	double dcg = 0, idcg = 0;
	size_t hits = 0, n = n_recs < k ? n_recs : k;
	size_t first = 0; /* 1-based rank of the first hit, 0: none */

	for (size_t r = 0; r < n; r++) {
		if (!contains(relevant, n_rel, recs[r])) {
			continue;
		}
		hits++;
		dcg += 1.0 / log2((double) r + 2.0);
		if (first == 0) {
			first = r + 1;
		}
	}
	for (size_t r = 0; r < n_rel && r < k; r++) {
		idcg += 1.0 / log2((double) r + 2.0);
	}
	out->hit       = hits > 0 ? 1.0 : 0.0;
	out->precision = k > 0 ? (double) hits / k : 0.0;
	out->recall    = n_rel > 0 ? (double) hits / (double) n_rel : 0.0;
	out->ndcg      = idcg > 0 ? dcg / idcg : 0.0;
	out->rr        = first > 0 ? 1.0 / (double) first : 0.0;
}
