/* The seeded population generator (docs/model.md section 4): open interest hits its targets, every
 * account meets maintenance at t = 0, shares and leverage bounds hold, and the population is
 * the same whatever the thread count. */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#include "config.h"
#include "margin.h"
#include "helpers.h"
#include "simulate.h"
#include "store.h"

static void check_population(const mf_config *config) {
    mf_store store;
    cr_assert_eq(mf_population_generate(&store, config), MF_OK, "%s", mf_error_message());
    const int n = config->market.n_assets;
    cr_assert_eq(store.n_accounts, config->population.accounts);

    /* Open interest per asset equals its target. */
    double prices[MF_MAX_ASSETS], open_interest[MF_MAX_ASSETS];
    for (int k = 0; k < n; k++)
        prices[k] = config->market.assets[k].price;
    mf_store_open_interest(&store, prices, open_interest);
    for (int k = 0; k < n; k++) {
        const double target = config->population.assets[k].open_interest_usd;
        cr_assert_float_eq(open_interest[k], target, 1e-9 * target, "asset %d OI %.6g vs %.6g", k,
                           open_interest[k], target);
    }

    /* Shares: margin mode and long side, within 5 standard errors. */
    int64_t isolated = 0, longs[MF_MAX_ASSETS] = {0}, counts[MF_MAX_ASSETS] = {0};
    for (int64_t a = 0; a < store.n_accounts; a++)
        isolated += store.account_mode[a] == MF_MODE_ISOLATED;
    for (int64_t p = 0; p < store.n_positions; p++) {
        counts[store.position_asset[p]]++;
        longs[store.position_asset[p]] += store.position_quantity[p] > 0;
    }
    const double n_acc = (double)store.n_accounts;
    const double share = config->population.isolated_share;
    cr_assert(fabs(isolated / n_acc - share) < 5 * sqrt(share * (1 - share) / n_acc),
              "isolated share %g vs %g", isolated / n_acc, share);
    for (int k = 0; k < n; k++) {
        const double want = config->population.assets[k].long_share;
        const double got = (double)longs[k] / (double)counts[k];
        cr_assert(fabs(got - want) < 5 * sqrt(want * (1 - want) / (double)counts[k]) + 1e-12,
                  "asset %d long share %g vs %g", k, got, want);
    }

    /* Margin posted at entry never implies more than the venue's maximum leverage. */
    for (int64_t a = 0; a < store.n_accounts; a++) {
        const int64_t first = store.account_first[a];
        double posted = store.account_collateral[a], notional = 0;
        for (int64_t p = first; p < first + store.account_positions[a]; p++) {
            posted += store.position_margin[p];
            notional += fabs(store.position_quantity[p]) * store.position_entry[p];
        }
        cr_assert(posted >= notional / config->venue.max_leverage * (1 - 1e-12),
                  "account %lld: margin %g for notional %g", (long long)a, posted, notional);
        cr_assert(store.account_positions[a] >= 1 &&
                  store.account_positions[a] <= config->population.max_positions);
    }

    /* At t = 0 nobody is under maintenance: the reference kernel flags nothing at the start
     * prices. */
    mf_model model;
    cr_assert_eq(mf_model_build(&model, config, &store), MF_OK, "%s", mf_error_message());
    uint8_t *account_state = calloc((size_t)store.n_accounts, 1);
    uint8_t *position_state = calloc((size_t)store.n_positions, 1);
    const uint8_t active[1] = {1};
    const mf_venue *venue = &model.scenario.venues[0];
    for (int g = 0; g < venue->n_groups; g++) {
        const mf_margin_group *group = &venue->groups[g];
        cr_assert_eq(mf_test_margin_check(group->model, &venue->book, &venue->tiers,
                                          group->accounts, group->n_accounts, group->prepared, 1,
                                          prices, active, account_state, position_state),
                     0, "accounts start under maintenance (%s)", group->model->name);
    }
    free(account_state);
    free(position_state);
    mf_model_free(&model);
    mf_store_free(&store);
}

Test(population, default_lognormal_population_meets_its_targets) {
    mf_config config;
    mf_config_set_defaults(&config);
    config.population.accounts = 20000;
    check_population(&config);
}

Test(population, pareto_whales_and_high_leverage_still_start_healthy) {
    mf_config config;
    const char *overrides[] = {"population.notional.law=pareto", "population.notional.alpha=1.3",
                               "population.leverage.median=40", "population.entry_spread=0.05",
                               "population.accounts=20000"};
    cr_assert_eq(mf_config_load(&config, NULL, overrides, 5), MF_OK, "%s", mf_error_message());
    check_population(&config);
}

Test(population, same_population_on_any_thread_count) {
    mf_config config;
    mf_config_set_defaults(&config);
    config.population.accounts = 5000;
    mf_store one, two;
    omp_set_num_threads(1);
    cr_assert_eq(mf_population_generate(&one, &config), MF_OK);
    omp_set_num_threads(2);
    cr_assert_eq(mf_population_generate(&two, &config), MF_OK);
    cr_assert_eq(one.n_positions, two.n_positions);
    cr_assert(!memcmp(one.position_quantity, two.position_quantity,
                      (size_t)one.n_positions * sizeof(double)));
    cr_assert(
        !memcmp(one.position_entry, two.position_entry, (size_t)one.n_positions * sizeof(double)));
    cr_assert(!memcmp(one.account_collateral, two.account_collateral,
                      (size_t)one.n_accounts * sizeof(double)));
    /* Another seed gives another population. */
    config.run.seed += 1;
    mf_store other;
    cr_assert_eq(mf_population_generate(&other, &config), MF_OK);
    cr_assert(other.n_positions != one.n_positions ||
              memcmp(one.position_quantity, other.position_quantity,
                     (size_t)one.n_positions * sizeof(double)) != 0);
    mf_store_free(&one);
    mf_store_free(&two);
    mf_store_free(&other);
}
