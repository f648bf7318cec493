/* SPDX-License-Identifier: MIT */
/* Ranking metrics at K for one query, with binary relevance, as the
 * recommender literature uses them (e.g. Jarvelin and Kekalainen 2002
 * for NDCG). Relevant items that no recommender can return (items of the
 * test basket never seen in training) stay in the relevant set: they
 * lower recall and NDCG honestly instead of vanishing. Two rows asked
 * the same queries are compared query by query (paired), which tells a
 * real difference from noise far better than their separate intervals. */
#include "eval/eval.h"

#include <math.h>
#include <string.h>

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

/* ==== Paired comparison ==== */

/* P(X <= k) for X ~ Binomial(m, 1/2), summed in log space (lgamma) so
 * that m in the hundred thousands neither overflows nor underflows. */
static double
binom_half_cdf(uint64_t m, uint64_t k)
{
	double sum = 0, lm = lgamma((double) m + 1.0);

	for (uint64_t i = 0; i <= k; i++) {
		sum += exp(lm - lgamma((double) i + 1.0) -
		    lgamma((double) (m - i) + 1.0) - (double) m * log(2.0));
	}
	return sum;
}

void
xs_eval_paired_compare(const uint8_t *hit, const uint8_t *ref, size_t n,
    struct xs_eval_paired *out)
{
	uint64_t m, lo_count;
	double   nq = (double) n, var;

	memset(out, 0, sizeof(*out));
	out->n = n;
	for (size_t i = 0; i < n; i++) {
		out->wins += hit[i] && !ref[i];
		out->losses += !hit[i] && ref[i];
	}
	out->p = 1.0;
	if (n == 0) {
		return;
	}
	/* The per-query difference d is -1, 0 or 1; its mean is the
	 * difference of the hit rates, and its variance (b + c)/n - mean^2
	 * (b wins, c losses). Queries both hit or both missed add nothing
	 * but n: the same queries asked of both is what makes this
	 * narrower than the two rows' own intervals. */
	out->diff = ((double) out->wins - (double) out->losses) / nq;
	var =
	    ((double) (out->wins + out->losses) / nq - out->diff * out->diff) /
	    nq;
	out->lo = out->diff - 1.96 * sqrt(var > 0 ? var : 0);
	out->hi = out->diff + 1.96 * sqrt(var > 0 ? var : 0);
	/* McNemar, exact: under "neither is better" each discordant query
	 * is a fair coin, so the smaller side follows Binomial(b + c, 1/2);
	 * two-sided, capped at 1. */
	m        = out->wins + out->losses;
	lo_count = out->wins < out->losses ? out->wins : out->losses;
	if (m > 0) {
		double p = 2.0 * binom_half_cdf(m, lo_count);

		out->p = p < 1.0 ? p : 1.0;
	}
}
