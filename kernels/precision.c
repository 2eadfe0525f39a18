#include "precision.h"

#include <math.h>

#include "reduce.h"

double mf_mean_standard_error(int64_t n, double m2) {
    if (n < 2) return NAN;
    return sqrt(m2 / (double)(n - 1) / (double)n);
}

/* Exact binomial tails over [k0 - half, k0 + half] around the mean, with log weights relative
 * to k0 from the ratio pmf(k + 1) / pmf(k) = (n - k) / (k + 1) * q / (1 - q). Normalising by
 * the window's own sum cancels the constant (no lgamma of huge arguments); the mass outside
 * 12 standard deviations (+ 30 terms, for skewed small n) is far below double precision. Two
 * passes (sum, then cumulative), so nothing is allocated. */
static void exact_ranks(int64_t n, double q, int64_t *low, int64_t *high) {
    const double mean = (double)n * q;
    const double sd = sqrt(mean * (1.0 - q));
    const double log_odds = log(q) - log1p(-q);
    int64_t k0 = (int64_t)floor(mean);
    if (k0 > n) k0 = n;
    const int64_t half = (int64_t)ceil(12.0 * sd) + 30;
    const int64_t first = k0 - half > 0 ? k0 - half : 0;
    const int64_t last = k0 + half < n ? k0 + half : n;

    double total = 1.0, log_weight = 0.0; /* weight of k0 is exp(0) */
    for (int64_t k = k0; k > first; k--) {
        /* log pmf(k - 1) = log pmf(k) - log((n - k + 1) / k) - log_odds */
        log_weight -= log((double)(n - k + 1)) - log((double)k) + log_odds;
        total += exp(log_weight);
    }
    const double log_weight_first = log_weight;
    log_weight = 0.0;
    for (int64_t k = k0; k < last; k++) {
        log_weight += log((double)(n - k)) - log((double)(k + 1)) + log_odds;
        total += exp(log_weight);
    }

    *low = 0;
    *high = n + 1;
    int have_high = 0;
    double cumulative = 0.0;
    log_weight = log_weight_first;
    for (int64_t k = first; k <= last; k++) {
        if (k > first) log_weight += log((double)(n - k + 1)) - log((double)k) + log_odds;
        cumulative += exp(log_weight);
        const double cdf = cumulative / total; /* P(B <= k) */
        if (cdf <= 0.025) *low = k + 1;        /* x(k + 1): P(B <= l - 1) <= 2.5% */
        if (!have_high && cdf >= 0.975) {
            *high = k + 1; /* P(B <= u - 1) >= 97.5% */
            have_high = 1;
            break;
        }
    }
    if (*high > n) *high = n + 1;
}

void mf_order_statistic_ranks(int64_t n, double q, int64_t *low, int64_t *high) {
    *low = 0;
    *high = n + 1;
    if (n <= 0 || !(q > 0.0 && q < 1.0)) return;
    const double variance = (double)n * q * (1.0 - q);
    if (variance <= MF_ORDER_CI_EXACT_MAX_VARIANCE) {
        exact_ranks(n, q, low, high);
        return;
    }
    /* Normal approximation; rounding outward keeps it conservative (the skewness correction
     * at this size is under one rank). */
    const double spread = MF_Z95 * sqrt(variance);
    const double l = floor((double)n * q - spread);
    const double u = ceil((double)n * q + spread) + 1.0;
    *low = l >= 1.0 ? (int64_t)l : 0;
    *high = u <= (double)n ? (int64_t)u : n + 1;
}

void mf_sorted_quantile_ci(const double *sorted, int64_t n, double q, double ci[2]) {
    int64_t low, high;
    mf_order_statistic_ranks(n, q, &low, &high);
    ci[0] = low >= 1 && low <= n ? sorted[low - 1] : NAN;
    ci[1] = high >= 1 && high <= n ? sorted[high - 1] : NAN;
}

int64_t mf_tail_samples(int64_t n, double q) {
    if (n <= 0) return 0;
    int64_t tail = (int64_t)ceil((1.0 - q) * (double)n - MF_RANK_SLACK);
    if (tail < 1) tail = 1;
    if (tail > n) tail = n;
    return tail;
}

double mf_sorted_expected_shortfall_se(const double *sorted, int64_t n, double q) {
    const int64_t tail = mf_tail_samples(n, q);
    if (tail < 2 || !(q > 0.0 && q < 1.0)) return NAN;
    double sum = 0.0;
    for (int64_t i = n - tail; i < n; i++)
        sum += sorted[i];
    const double shortfall = sum / (double)tail;
    double squares = 0.0; /* two passes: the tail's spread can be tiny next to its level */
    for (int64_t i = n - tail; i < n; i++)
        squares += (sorted[i] - shortfall) * (sorted[i] - shortfall);
    const double tail_variance = squares / (double)(tail - 1);
    const double excess = shortfall - mf_sorted_quantile(sorted, n, q);
    const double variance = (tail_variance + q * excess * excess) / ((double)n * (1.0 - q));
    return sqrt(variance);
}

double mf_proportion_standard_error(double p, int64_t n) {
    if (n <= 0 || isnan(p)) return NAN;
    return sqrt(p * (1.0 - p) / (double)n);
}

void mf_wilson_interval(double p, int64_t n, double ci[2]) {
    if (n <= 0 || isnan(p)) {
        ci[0] = ci[1] = NAN;
        return;
    }
    const double z2_n = MF_Z95 * MF_Z95 / (double)n;
    const double centre = (p + z2_n / 2.0) / (1.0 + z2_n);
    const double half =
        MF_Z95 / (1.0 + z2_n) * sqrt(p * (1.0 - p) / (double)n + z2_n / (4.0 * (double)n));
    /* At p = 0 (1) the bound is 0 (1) exactly; rounding would leave 1e-17 or a bound above 1. */
    ci[0] = p <= 0.0 || centre - half < 0.0 ? 0.0 : centre - half;
    ci[1] = p >= 1.0 || centre + half > 1.0 ? 1.0 : centre + half;
}
