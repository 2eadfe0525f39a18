/* Statistical checks of the price kernel at fixed seeds: per-step variance, correlation,
 * tail weight (kurtosis of the Student-t), GARCH's long-run variance and jump variance match
 * the configuration within sampling error. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "simulate.h"
#include "store.h"

typedef struct {
    double variance[3];
    double correlation[3][3];
    double kurtosis[3];
    int64_t samples;
} return_stats;

/* Log returns of n_paths index paths, pooled over steps. */
static return_stats measure(mf_config *config, int64_t n_paths) {
    cr_assert_eq(mf_config_validate(config), MF_OK, "%s", mf_error_message());
    mf_store store;
    cr_assert_eq(mf_population_generate(&store, config), MF_OK, "%s", mf_error_message());
    mf_model model;
    cr_assert_eq(mf_model_build(&model, config, &store), MF_OK, "%s", mf_error_message());
    mf_workspace *workspace = NULL;
    cr_assert_eq(mf_workspace_create(&workspace, &model), MF_OK);
    const int n = config->market.n_assets;
    const int32_t steps = config->run.steps;
    double *path = calloc((size_t)(steps + 1) * n, sizeof *path);
    double sum[3] = {0}, cross[3][3] = {{0}}, fourth[3] = {0};
    int64_t count = 0;
    for (int64_t p = 0; p < n_paths; p++) {
        mf_model_index_path(&model, workspace, p, path);
        for (int32_t t = 0; t < steps; t++, count++) {
            double r[3];
            for (int k = 0; k < n; k++)
                r[k] = path[(t + 1) * n + k] - path[t * n + k];
            for (int k = 0; k < n; k++) {
                sum[k] += r[k];
                fourth[k] += r[k] * r[k] * r[k] * r[k];
                for (int j = 0; j < n; j++)
                    cross[k][j] += r[k] * r[j];
            }
        }
    }
    return_stats stats;
    stats.samples = count;
    for (int k = 0; k < n; k++) {
        const double mean = sum[k] / count;
        stats.variance[k] = cross[k][k] / count - mean * mean;
        stats.kurtosis[k] = (fourth[k] / count) / (stats.variance[k] * stats.variance[k]);
    }
    for (int k = 0; k < n; k++)
        for (int j = 0; j < n; j++)
            stats.correlation[k][j] = (cross[k][j] / count - (sum[k] / count) * (sum[j] / count)) /
                                      sqrt(stats.variance[k] * stats.variance[j]);
    free(path);
    mf_workspace_free(workspace);
    mf_model_free(&model);
    mf_store_free(&store);
    return stats;
}

static void quiet_market(mf_config *config) {
    mf_config_set_defaults(config);
    config->population.accounts = 50;
    config->run.steps = 1440;
    config->market.garch_enabled = 0;
    config->market.jump_intensity = 0;
    config->market.student_t_nu = INFINITY;
    for (int k = 0; k < config->market.n_assets; k++)
        config->market.assets[k].drift = 0;
}

Test(market_stats, gaussian_variance_and_correlation_match_config) {
    mf_config config;
    quiet_market(&config);
    const return_stats stats = measure(&config, 100);
    const double dt_years = 60.0 / (365.0 * 86400.0);
    for (int k = 0; k < 3; k++) {
        const double sigma = config.market.assets[k].volatility;
        const double expected = sigma * sigma * dt_years;
        /* Standard error of a Gaussian sample variance: sqrt(2 / n). */
        const double tolerance = 5 * sqrt(2.0 / stats.samples) * expected;
        cr_assert_float_eq(stats.variance[k], expected, tolerance, "asset %d variance %.4g vs %.4g",
                           k, stats.variance[k], expected);
        cr_assert_float_eq(stats.kurtosis[k], 3.0, 0.05, "Gaussian kurtosis %g", stats.kurtosis[k]);
        for (int j = 0; j < k; j++) {
            const double rho = config.market.correlation[k][j];
            const double tolerance_rho = 5 * (1 - rho * rho) / sqrt((double)stats.samples);
            cr_assert_float_eq(stats.correlation[k][j], rho, tolerance_rho,
                               "correlation %d,%d: %g vs %g", k, j, stats.correlation[k][j], rho);
        }
    }
}

Test(market_stats, student_t_keeps_variance_and_fattens_tails) {
    mf_config config;
    quiet_market(&config);
    config.market.student_t_nu = 12; /* excess kurtosis 6 / (nu - 4) = 0.75 */
    const return_stats stats = measure(&config, 100);
    const double dt_years = 60.0 / (365.0 * 86400.0);
    for (int k = 0; k < 3; k++) {
        const double sigma = config.market.assets[k].volatility;
        const double expected = sigma * sigma * dt_years;
        cr_assert_float_eq(stats.variance[k], expected, 0.02 * expected,
                           "t variance is scaled to the configured volatility");
        cr_assert_float_eq(stats.kurtosis[k], 3.75, 0.15, "asset %d kurtosis %g, want 3.75", k,
                           stats.kurtosis[k]);
    }
    /* The shared mixing draw keeps the correlation of the normals. */
    cr_assert_float_eq(stats.correlation[1][0], config.market.correlation[1][0], 0.01);
}

Test(market_stats, garch_long_run_variance_and_jumps_add_their_variance) {
    mf_config config;
    quiet_market(&config);
    config.market.garch_enabled = 1;
    config.market.garch_alpha = 0.05;
    config.market.garch_beta = 0.90;
    const return_stats garch = measure(&config, 100);
    const double dt_years = 60.0 / (365.0 * 86400.0);
    for (int k = 0; k < 3; k++) {
        const double sigma = config.market.assets[k].volatility;
        const double expected = sigma * sigma * dt_years;
        cr_assert_float_eq(garch.variance[k], expected, 0.03 * expected,
                           "GARCH long-run variance, asset %d: %g vs %g", k, garch.variance[k],
                           expected);
        cr_assert(garch.kurtosis[k] > 3.05, "GARCH fattens tails: kurtosis %g", garch.kurtosis[k]);
    }
    quiet_market(&config);
    config.market.jump_intensity = 365.0 * 24; /* one jump an hour on average */
    config.market.jump_mean = -0.002;
    config.market.jump_stdev = 0.003;
    const return_stats jumps = measure(&config, 100);
    const double rate = config.market.jump_intensity * dt_years;
    for (int k = 0; k < 3; k++) {
        const double sigma = config.market.assets[k].volatility;
        const double beta = config.market.assets[k].jump_beta;
        const double expected =
            sigma * sigma * dt_years + beta * beta * rate * (0.002 * 0.002 + 0.003 * 0.003);
        cr_assert_float_eq(jumps.variance[k], expected, 0.05 * expected,
                           "jump variance, asset %d: %g vs %g", k, jumps.variance[k], expected);
    }
}
