/* Reduction kernels: exact mergeable moments, log-binned histograms, quantiles and
 * expected shortfall. Merges happen in a fixed (block) order, so results never depend on
 * how many ranks or threads computed the blocks. */
#ifndef MF_REDUCE_H
#define MF_REDUCE_H

#include <stdint.h>

typedef struct {
    int64_t count;
    double mean, m2, min, max;
} mf_moments;

void mf_moments_init(mf_moments *moments);
/* Welford's update with one sample. */
void mf_moments_add(mf_moments *moments, double x);
/* Chan et al.'s pairwise merge: into += other (order matters for the last bits; callers
 * merge in block order). */
void mf_moments_merge(mf_moments *into, const mf_moments *other);

/* Log-spaced edges: edges[i] = lo * 10^(i / bins_per_decade), i = 0..n_bins where
 * n_bins = round(bins_per_decade * log10(hi / lo)). Returns n_bins; edges may be NULL. */
int mf_log_bins(double lo, double hi, int bins_per_decade, double *edges);
/* Bin index of x: -1 below edges[0] (zeros, negatives), n_bins at or above the last edge. */
int mf_bin_index(const double *edges, int n_bins, double x);

/* q n is computed in binary floating point: 0.01 * 100 is 1.0000000000000009. The slack
 * makes ceil() see the decimal value the user meant (ranks here and in precision.c). */
#define MF_RANK_SLACK 1e-9

/* Sort ascending (in place; NaNs are not expected). */
void mf_sort_doubles(double *values, int64_t n);
/* On sorted samples: quantile q = smallest x with F(x) >= q (x[ceil(q n) - 1]);
 * expected shortfall = mean of the ceil((1 - q) n) largest samples. NaN when n == 0. */
double mf_sorted_quantile(const double *sorted, int64_t n, double q);
double mf_sorted_expected_shortfall(const double *sorted, int64_t n, double q);

#endif
