#include "reduce.h"

#include <math.h>
#include <stdlib.h>

void mf_moments_init(mf_moments *moments) {
    moments->count = 0;
    moments->mean = 0;
    moments->m2 = 0;
    moments->min = INFINITY;
    moments->max = -INFINITY;
}

void mf_moments_add(mf_moments *moments, double x) {
    moments->count++;
    const double delta = x - moments->mean;
    moments->mean += delta / (double)moments->count;
    moments->m2 += delta * (x - moments->mean);
    if (x < moments->min) moments->min = x;
    if (x > moments->max) moments->max = x;
}

void mf_moments_merge(mf_moments *into, const mf_moments *other) {
    if (other->count == 0) return;
    if (into->count == 0) {
        *into = *other;
        return;
    }
    const double n_a = (double)into->count;
    const double n_b = (double)other->count;
    const double n = n_a + n_b;
    const double delta = other->mean - into->mean;
    into->mean += delta * (n_b / n);
    into->m2 += other->m2 + delta * delta * (n_a * n_b / n);
    into->count += other->count;
    if (other->min < into->min) into->min = other->min;
    if (other->max > into->max) into->max = other->max;
}

int mf_log_bins(double lo, double hi, int bins_per_decade, double *edges) {
    const int n_bins = (int)lround(bins_per_decade * log10(hi / lo));
    if (edges)
        for (int i = 0; i <= n_bins; i++)
            edges[i] = lo * pow(10.0, (double)i / (double)bins_per_decade);
    return n_bins;
}

int mf_bin_index(const double *edges, int n_bins, double x) {
    if (!(x >= edges[0])) return -1;
    if (x >= edges[n_bins]) return n_bins;
    int lo = 0, hi = n_bins; /* edges[lo] <= x < edges[hi] */
    while (hi - lo > 1) {
        const int mid = (lo + hi) / 2;
        if (x >= edges[mid])
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static int compare_doubles(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void mf_sort_doubles(double *values, int64_t n) {
    if (n > 1) qsort(values, (size_t)n, sizeof *values, compare_doubles);
}

double mf_sorted_quantile(const double *sorted, int64_t n, double q) {
    if (n <= 0) return NAN;
    int64_t rank = (int64_t)ceil(q * (double)n - MF_RANK_SLACK);
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return sorted[rank - 1];
}

double mf_sorted_expected_shortfall(const double *sorted, int64_t n, double q) {
    if (n <= 0) return NAN;
    int64_t tail = (int64_t)ceil((1.0 - q) * (double)n - MF_RANK_SLACK);
    if (tail < 1) tail = 1;
    if (tail > n) tail = n;
    double sum = 0;
    for (int64_t i = n - tail; i < n; i++)
        sum += sorted[i];
    return sum / (double)tail;
}
