/* Precision of Monte Carlo estimates: standard errors and confidence intervals of the
 * figures the reduction computes (docs/output.md, "Statistics: definitions"). Pure functions
 * over flat arrays; every interval is a 95% one (MF_Z95). */
#ifndef MF_PRECISION_H
#define MF_PRECISION_H

#include <stdint.h>

/* output.quantiles: at most this many levels (the result keeps fixed-size arrays of them). */
#define MF_MAX_QUANTILES 16

/* The two-sided 95% normal quantile, Phi^-1(0.975). */
#define MF_Z95 1.959963984540054

/* Above this binomial variance n q (1 - q), the order-statistic interval uses the normal
 * approximation instead of exact binomial tails (docs/output.md says why it is safe there). */
#define MF_ORDER_CI_EXACT_MAX_VARIANCE 1e6

/* Standard error of a sample mean: sqrt(m2 / (n - 1) / n), from Welford's m2 = sum of squared
 * deviations. NaN when n < 2. */
double mf_mean_standard_error(int64_t n, double m2);

/* Ranks (1-based) l and u of the distribution-free 95% interval [x(l), x(u)] for the
 * q-quantile of n samples: with B ~ Binomial(n, q), l is the largest rank with
 * P(B <= l - 1) <= 0.025 and u the smallest with P(B <= u - 1) >= 0.975, so
 * P(x(l) <= xi_q < x(u)) = P(l <= B <= u - 1) >= 0.95 for a continuous distribution, with at
 * most 2.5% in each tail. *low = 0 when no lower order statistic qualifies (P(B = 0) > 2.5%),
 * *high = n + 1 when no upper one does: the bound is then open (NaN). Exact binomial tails
 * (log-space recurrences over a window of 12 standard deviations) while n q (1 - q) <=
 * MF_ORDER_CI_EXACT_MAX_VARIANCE, the normal approximation rounded outward beyond. */
void mf_order_statistic_ranks(int64_t n, double q, int64_t *low, int64_t *high);

/* The interval itself on sorted samples: ci[0] = x(l), ci[1] = x(u); NaN for an open bound
 * or n == 0. */
void mf_sorted_quantile_ci(const double *sorted, int64_t n, double q, double ci[2]);

/* Samples at or beyond the q-quantile that the expected shortfall averages:
 * ceil((1 - q) n) (at least 1 when n >= 1; 0 when n == 0). */
int64_t mf_tail_samples(int64_t n, double q);

/* Asymptotic standard error of the tail-mean estimator of expected shortfall at q on sorted
 * samples: Var = [s^2_tail + q (ES - VaR)^2] / (n (1 - q)), with s^2_tail the sample variance
 * of the tail samples, ES their mean and VaR the q-quantile (Manistre and Hancock 2005;
 * Brazauskas et al. 2008). NaN with fewer than 2 tail samples. */
double mf_sorted_expected_shortfall_se(const double *sorted, int64_t n, double q);

/* A proportion's standard error sqrt(p (1 - p) / n) (NaN when n == 0), and its 95% Wilson
 * score interval ci[0] <= p <= ci[1] (NaN when n == 0). */
double mf_proportion_standard_error(double p, int64_t n);
void mf_wilson_interval(double p, int64_t n, double ci[2]);

#endif
