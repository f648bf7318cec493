/* SPDX-License-Identifier: MIT */
/* Pair scores over a 2x2 contingency table (N_ab, N_a, N_b, N), as
 * DESIGN.md defines them. Each formula cites where it comes from. */
#include "model/model.h"

#include <math.h>
#include <string.h>

static const char *const scorer_names[XS_SCORER_COUNT] = {
	[XS_SCORE_COUNT]      = "count",
	[XS_SCORE_CONFIDENCE] = "confidence",
	[XS_SCORE_LIFT]       = "lift",
	[XS_SCORE_COSINE]     = "cosine",
	[XS_SCORE_JACCARD]    = "jaccard",
	[XS_SCORE_LLR]        = "llr",
	[XS_SCORE_AMAZON]     = "amazon",
	[XS_SCORE_TEMPERED]   = "tempered",
};

bool
xs_scorer_parse(const char *name, size_t len, enum xs_scorer *out)
{
	for (int s = 0; s < XS_SCORER_COUNT; s++) {
		if (strlen(scorer_names[s]) == len &&
		    memcmp(scorer_names[s], name, len) == 0) {
			*out = (enum xs_scorer) s;
			return true;
		}
	}
	return false;
}

const char *
xs_scorer_name(enum xs_scorer s)
{
	if ((unsigned) s >= XS_SCORER_COUNT) {
		return "unknown";
	}
	return scorer_names[s];
}

static double
x_log_x(double x)
{
	return x <= 0 ? 0.0 : x * log(x);
}

/* Dunning's log-likelihood ratio, in the form of Mahout's
 * LogLikelihood.logLikelihoodRatio(k11, k12, k21, k22):
 * 2 * (H(rows) + H(cols) - H(matrix)) with unnormalised entropies
 * H(k...) = xlogx(sum k) - sum xlogx(k). */
static double
llr(double k11, double k12, double k21, double k22)
{
	double row = x_log_x(k11 + k12 + k21 + k22) - x_log_x(k11 + k12) -
	    x_log_x(k21 + k22);
	double col = x_log_x(k11 + k12 + k21 + k22) - x_log_x(k11 + k21) -
	    x_log_x(k12 + k22);
	double mat = x_log_x(k11 + k12 + k21 + k22) - x_log_x(k11) -
	    x_log_x(k12) - x_log_x(k21) - x_log_x(k22);

	if (row + col < mat) {
		return 0.0; /* round-off */
	}
	return 2.0 * (row + col - mat);
}

double
xs_score(enum xs_scorer scorer, const struct xs_pair_stats *ps)
{
	double ab = ps->n_ab, a = ps->n_a, b = ps->n_b, n = ps->n;
	double e;

	switch (scorer) {
	case XS_SCORE_COUNT:
		return ab;
	case XS_SCORE_CONFIDENCE:
		return a > 0 ? ab / a : 0.0;
	case XS_SCORE_LIFT:
		return a > 0 && b > 0 ? ab * n / (a * b) : 0.0;
	case XS_SCORE_COSINE:
		return a > 0 && b > 0 ? ab / sqrt(a * b) : 0.0;
	case XS_SCORE_JACCARD:
		return a + b - ab > 0 ? ab / (a + b - ab) : 0.0;
	case XS_SCORE_LLR:
		if (n <= 0 || ab > a || ab > b || a + b - ab > n) {
			return 0.0;
		}
		return llr(ab, a - ab, b - ab, n - a - b + ab);
	case XS_SCORE_AMAZON:
		/* Smith & Linden 2017, "Two decades of recommender systems
		 * at Amazon.com": observed minus expected co-buyers over
		 * the expected count's square root; E_ab = N_a N_b / N is
		 * the co-count if a and b were bought independently. */
		if (n <= 0) {
			return 0.0;
		}
		e = a * b / n;
		return e > 0 ? (ab - e) / sqrt(e) : 0.0;
	case XS_SCORE_TEMPERED:
		/* Naive Bayes ranks b for a cart S by P(b) x the product over
		 * a in S of lift(a, b); per pair, and tempered to lift^(1/2)
		 * so that many weakly tied items of a large cart do not
		 * outvote a few strong ties: P(b|a) x sqrt(lift(a, b)). With
		 * one given item it ranks by N_ab sqrt(N_ab / N_b), between
		 * the co-count (popular b) and P(a|b) (specific b); summed
		 * over a cart, strong ties (large lift) add up more than
		 * confidence lets them. The exponent 1/2 was chosen by
		 * xsell-eval (README "Quality": 0.25 to 1 swept). */
		if (a <= 0 || b <= 0 || n <= 0) {
			return 0.0;
		}
		return ab / a * sqrt(ab * n / (a * b));
	case XS_SCORER_COUNT:
		break;
	}
	return 0.0;
}

double
xs_score_growth_max(enum xs_scorer scorer, double n_made, double n_now)
{
	if (n_now < n_made || n_made <= 0) {
		return NAN;
	}
	switch (scorer) {
	case XS_SCORE_COUNT:
	case XS_SCORE_CONFIDENCE:
	case XS_SCORE_COSINE:
	case XS_SCORE_JACCARD:
		return 1; /* N_b, if anywhere, in a denominator */
	case XS_SCORE_LIFT:
		return n_now / n_made;
	case XS_SCORE_TEMPERED:
		return sqrt(n_now / n_made);
	case XS_SCORE_LLR:
	case XS_SCORE_AMAZON:
	case XS_SCORER_COUNT:
		break;
	}
	return NAN;
}
