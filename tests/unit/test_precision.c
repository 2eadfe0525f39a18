/* Precision kernels (kernels/precision.c): standard errors and 95% intervals. Each is checked
 * against a value worked out by hand, an independent computation here (exact binomial sums
 * from lgamma, term by term), or a simulation of its coverage or spread. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "precision.h"
#include "reduce.h"

/* ---- a small independent generator (splitmix64), exponential samples ---------------------- */

static uint64_t next_u64(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double exponential(uint64_t *state) {
    const double u = ((double)(next_u64(state) >> 11) + 0.5) / 9007199254740992.0; /* (0, 1) */
    return -log(u);
}

/* ---- independent exact binomial ranks: every pmf from lgamma, summed from 0 --------------- */

static void reference_ranks(int64_t n, double q, int64_t *low, int64_t *high) {
    const double log_n_factorial = lgamma((double)n + 1.0);
    double cdf = 0.0;
    *low = 0;
    *high = n + 1;
    for (int64_t k = 0; k <= n; k++) {
        cdf += exp(log_n_factorial - lgamma((double)k + 1.0) - lgamma((double)(n - k) + 1.0) +
                   (double)k * log(q) + (double)(n - k) * log1p(-q));
        if (cdf <= 0.025) *low = k + 1;
        if (cdf >= 0.975) {
            *high = k + 1 <= n ? k + 1 : n + 1;
            return;
        }
    }
}

Test(precision, mean_standard_error) {
    /* 1, 2, 3, 4: m2 = 5, variance 5/3, SE = sqrt(5/3/4). */
    cr_expect_float_eq(mf_mean_standard_error(4, 5.0), sqrt(5.0 / 12.0), 1e-15);
    cr_expect(isnan(mf_mean_standard_error(1, 0.0)));
    cr_expect(isnan(mf_mean_standard_error(0, 0.0)));
}

Test(precision, order_statistic_ranks_by_hand) {
    int64_t l, u;
    /* The classical median interval of 10 samples: [x(2), x(9)] (P(B <= 1) = 11/1024 <= 2.5%,
     * P(B <= 2) = 56/1024 > 2.5%; P(B <= 7) = 968/1024 < 97.5% <= P(B <= 8) = 1013/1024). */
    mf_order_statistic_ranks(10, 0.5, &l, &u);
    cr_expect_eq(l, 2);
    cr_expect_eq(u, 9);
    /* One sample, q = 0.99: P(B = 0) = 1% <= 2.5% so x(1) bounds below; nothing above. */
    mf_order_statistic_ranks(1, 0.99, &l, &u);
    cr_expect_eq(l, 1);
    cr_expect_eq(u, 2);
    /* One sample, q = 0.5: P(B = 0) = 50%: no bound either side. */
    mf_order_statistic_ranks(1, 0.5, &l, &u);
    cr_expect_eq(l, 0);
    cr_expect_eq(u, 2);
    /* 100 samples, q = 0.999: P(B <= 99) = 1 - 0.999^100 = 9.5% > 2.5%: no lower rank is
     * excluded below 100... l = 100 is x(100) (P(B <= 99) = 0.095 > 0.025, so l <= 99). */
    mf_order_statistic_ranks(100, 0.999, &l, &u);
    cr_expect_eq(u, 101, "no order statistic bounds the 0.999 quantile of 100 samples above");
    cr_expect_eq(l, 99, "P(B <= 98) = 0.0046 <= 2.5%% < P(B <= 99)");

    const double sorted[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    double ci[2];
    mf_sorted_quantile_ci(sorted, 10, 0.5, ci);
    cr_expect_eq(ci[0], 2.0);
    cr_expect_eq(ci[1], 9.0);
    mf_sorted_quantile_ci(sorted, 10, 0.99, ci);
    cr_expect_eq(ci[0], 9.0, "P(B <= 8) = 0.0043 for n = 10, q = 0.99");
    cr_expect(isnan(ci[1]));
    mf_sorted_quantile_ci(sorted, 0, 0.5, ci);
    cr_expect(isnan(ci[0]) && isnan(ci[1]));
}

Test(precision, order_statistic_ranks_equal_an_independent_exact_sum) {
    const int64_t sizes[] = {2, 3, 5, 10, 20, 50, 64, 100, 200, 1000, 5000, 100000};
    const double levels[] = {0.5, 0.9, 0.95, 0.975, 0.99, 0.999};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        for (size_t j = 0; j < sizeof levels / sizeof levels[0]; j++) {
            int64_t l, u, l_ref, u_ref;
            mf_order_statistic_ranks(sizes[i], levels[j], &l, &u);
            reference_ranks(sizes[i], levels[j], &l_ref, &u_ref);
            cr_expect_eq(l, l_ref, "n %lld q %g: low rank %lld, reference %lld",
                         (long long)sizes[i], levels[j], (long long)l, (long long)l_ref);
            cr_expect_eq(u, u_ref, "n %lld q %g: high rank %lld, reference %lld",
                         (long long)sizes[i], levels[j], (long long)u, (long long)u_ref);
        }
}

Test(precision, large_samples_exact_and_the_normal_switch) {
    int64_t l, u, l_ref, u_ref;
    /* 10^7 samples at q = 0.999: variance 9990, still exact (a window of 12 SDs). */
    mf_order_statistic_ranks(10000000, 0.999, &l, &u);
    reference_ranks(10000000, 0.999, &l_ref, &u_ref);
    cr_expect_eq(l, l_ref, "n 1e7: %lld vs %lld", (long long)l, (long long)l_ref);
    cr_expect_eq(u, u_ref, "n 1e7: %lld vs %lld", (long long)u, (long long)u_ref);
    /* Just past the switch (n q (1 - q) > 1e6) the normal approximation, rounded outward, is
     * within one rank of the exact interval and never inside it. */
    const int64_t n = 4000004;
    mf_order_statistic_ranks(n, 0.5, &l, &u);
    reference_ranks(n, 0.5, &l_ref, &u_ref);
    cr_expect(l <= l_ref && l >= l_ref - 1, "low %lld, exact %lld", (long long)l, (long long)l_ref);
    cr_expect(u >= u_ref && u <= u_ref + 1, "high %lld, exact %lld", (long long)u,
              (long long)u_ref);
}

static int compare(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

Test(precision, quantile_interval_covers_the_true_quantile_about_95_percent) {
    /* 400 samples of 200 unit exponentials: the 0.9 quantile is ln 10. */
    enum { SEEDS = 400, N = 200 };
    double x[N];
    int covered = 0;
    for (int seed = 0; seed < SEEDS; seed++) {
        uint64_t state = 1000003ULL * (uint64_t)seed + 17;
        for (int i = 0; i < N; i++)
            x[i] = exponential(&state);
        qsort(x, N, sizeof x[0], compare);
        double ci[2];
        mf_sorted_quantile_ci(x, N, 0.9, ci);
        cr_assert(!isnan(ci[0]) && !isnan(ci[1]));
        covered += ci[0] <= log(10.0) && log(10.0) < ci[1];
    }
    const double rate = (double)covered / SEEDS;
    cr_log_info("order-statistic CI coverage of the 0.9 quantile, n = 200: %.4f", rate);
    cr_expect(rate >= 0.92 && rate <= 0.98, "coverage %.4f", rate);
}

Test(precision, tail_samples) {
    cr_expect_eq(mf_tail_samples(1000, 0.99), 10);
    cr_expect_eq(mf_tail_samples(1000, 0.999), 1);
    cr_expect_eq(mf_tail_samples(100, 0.999), 1);
    cr_expect_eq(mf_tail_samples(1, 0.5), 1);
    cr_expect_eq(mf_tail_samples(0, 0.5), 0);
    cr_expect_eq(mf_tail_samples(64, 0.9), 7); /* ceil(6.4) */
}

Test(precision, expected_shortfall_standard_error_by_hand) {
    /* 10 samples 1..10 at q = 0.8: tail {9, 10}, ES 9.5, VaR x(8) = 8, tail variance 0.5;
     * Var = (0.5 + 0.8 * 1.5^2) / (10 * 0.2) = 1.15. */
    const double sorted[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    cr_expect_float_eq(mf_sorted_expected_shortfall_se(sorted, 10, 0.8), sqrt(1.15), 1e-12);
    cr_expect(isnan(mf_sorted_expected_shortfall_se(sorted, 10, 0.95)), "one tail sample");
    cr_expect(isnan(mf_sorted_expected_shortfall_se(sorted, 0, 0.5)));
}

/* The formula's SE against the spread of ES estimates over many independent samples. */
static void check_shortfall_spread(int n, double q, int replications) {
    double *x = malloc((size_t)n * sizeof *x);
    double sum = 0, squares = 0, formula = 0;
    for (int r = 0; r < replications; r++) {
        uint64_t state = 7919ULL * (uint64_t)r + 3;
        for (int i = 0; i < n; i++)
            x[i] = exponential(&state);
        mf_sort_doubles(x, n);
        const double es = mf_sorted_expected_shortfall(x, n, q);
        sum += es;
        squares += es * es;
        formula += mf_sorted_expected_shortfall_se(x, n, q);
    }
    free(x);
    const double mean = sum / replications;
    const double empirical = sqrt((squares - replications * mean * mean) / (replications - 1));
    formula /= replications;
    cr_log_info("ES SE n %d q %g: formula %.5f, empirical SD %.5f (ratio %.3f)", n, q, formula,
                empirical, formula / empirical);
    cr_expect(formula > 0.8 * empirical && formula < 1.2 * empirical,
              "n %d q %g: formula SE %.5f, empirical SD of ES %.5f", n, q, formula, empirical);
}

Test(precision, expected_shortfall_standard_error_matches_simulation) {
    /* Unit exponential: ES_q = VaR_q + 1, Var(X | X >= VaR) = 1, so SE = sqrt((1 + q) / (n (1-q))).
     */
    check_shortfall_spread(2000, 0.9, 2000);
    check_shortfall_spread(5000, 0.99, 1000);
}

Test(precision, proportions_and_wilson_interval) {
    double ci[2];
    cr_expect_float_eq(mf_proportion_standard_error(0.5, 100), 0.05, 1e-15);
    cr_expect_eq(mf_proportion_standard_error(0.0, 100), 0.0);
    cr_expect(isnan(mf_proportion_standard_error(0.5, 0)));
    /* Textbook Wilson intervals: 0/10 -> [0, 0.2775]; 50/100 -> [0.4038, 0.5962]. */
    mf_wilson_interval(0.0, 10, ci);
    cr_expect_eq(ci[0], 0.0);
    cr_expect_float_eq(ci[1], 0.2775327999, 1e-9);
    mf_wilson_interval(0.5, 100, ci);
    cr_expect_float_eq(ci[0], 0.4038315304, 1e-9);
    cr_expect_float_eq(ci[1], 0.5961684696, 1e-9);
    mf_wilson_interval(0.3, 50, ci);
    cr_expect_float_eq(ci[0], 0.1910355350, 1e-9);
    cr_expect_float_eq(ci[1], 0.4375035046, 1e-9);
    /* One path with bad debt: "100%" is anything from 21% up. */
    mf_wilson_interval(1.0, 1, ci);
    cr_expect_float_eq(ci[0], 0.2065493144, 1e-9);
    cr_expect_eq(ci[1], 1.0);
    mf_wilson_interval(0.5, 0, ci);
    cr_expect(isnan(ci[0]) && isnan(ci[1]));
}
