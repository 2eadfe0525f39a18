/* Path-level tests through the real driver (mf_model_build + mf_simulate_block): a closed-form
 * cascade against an independent fixed point, the accounting identity on every path, and
 * model sanity on common random numbers. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "simulate.h"
#include "store.h"

#define N_BOOK 8

typedef struct {
    double start_price;   /* index at t = 0 */
    double shocked_price; /* index after the one-step stress */
    double mmr;
    double liquidation_price[N_BOOK];
    double quantity[N_BOOK];
    double margin[N_BOOK];
} cascade_book;

/* Isolated longs of 1 coin entered at the start price, with liquidation prices
 * L_i = 95 * 0.998^i: margin m = q (P0 - L (1 - mmr)) makes m + q (L - P0) = mmr q L. */
static cascade_book make_cascade_book(void) {
    cascade_book book;
    book.start_price = 100;
    book.shocked_price = 95.0 * (1 - 1e-6); /* just below the first liquidation price */
    book.mmr = 0.01;
    for (int i = 0; i < N_BOOK; i++) {
        book.liquidation_price[i] = 95.0 * pow(0.998, i);
        book.quantity[i] = 1.0;
        book.margin[i] =
            book.quantity[i] * (book.start_price - book.liquidation_price[i] * (1 - book.mmr));
    }
    return book;
}

static void one_asset_config(mf_config *config, const cascade_book *book, double depth) {
    mf_config_set_defaults(config);
    config->run.paths = 1;
    config->run.steps = 4;
    config->run.block_paths = 1;
    config->run.batch_paths = 1;
    config->market.n_assets = 1;
    mf_asset_config *asset = &config->market.assets[0];
    memset(asset, 0, sizeof *asset);
    snprintf(asset->name, sizeof asset->name, "BTC");
    asset->price = book->start_price;
    config->market.correlation[0][0] = 1;
    config->market.student_t_nu = INFINITY;
    config->market.garch_enabled = 0;
    config->market.jump_intensity = 0;
    config->market.impact_law = MF_IMPACT_LINEAR;
    config->market.impact_permanent_fraction = 1.0;
    config->market.depth_feedback_beta = 0;
    config->market.n_stress = 1;
    config->market.stress[0] =
        (mf_stress_config){0, 1, 1, log(book->shocked_price / book->start_price)};
    config->venue.insurance_fund_usd = 1e9;
    config->venue.liquidation_fee = 0;
    config->venue.max_rounds = 1000;
    mf_venue_market_config *market = &config->venue.markets[0];
    memset(market, 0, sizeof *market);
    market->depth_usd = depth;
    market->throughput_usd = INFINITY;
    market->expiry_seconds = INFINITY; /* a perpetual */
    market->n_tiers = 1;
    market->tiers[0] = (mf_tier_config){0, book->mmr, 50, 0};
    memset(&config->population.assets[0], 0, sizeof config->population.assets[0]);
    config->population.assets[0].open_interest_usd = 1e3;
    config->population.assets[0].long_share = 1;
    cr_assert_eq(mf_config_validate(config), MF_OK, "%s", mf_error_message());
}

static void load_cascade_store(mf_store *store, const cascade_book *book) {
    cr_assert_eq(mf_store_alloc(store, N_BOOK, N_BOOK, 1), MF_OK);
    for (int i = 0; i < N_BOOK; i++) {
        store->account_mode[i] = MF_MODE_ISOLATED;
        store->position_account[i] = i;
        store->position_asset[i] = 0;
        store->position_quantity[i] = book->quantity[i];
        store->position_entry[i] = book->start_price;
        store->position_margin[i] = book->margin[i];
    }
    cr_assert_eq(mf_store_finish(store), MF_OK, "%s", mf_error_message());
}

/* The test's own fixed point: rounds of "flag everyone under maintenance, sell their coins
 * at once into linear permanent impact", until nobody new is flagged. */
static double fixed_point(const cascade_book *book, double depth, int *liquidated) {
    double price = book->shocked_price;
    for (int i = 0; i < N_BOOK; i++)
        liquidated[i] = 0;
    for (;;) {
        double sold = 0;
        for (int i = 0; i < N_BOOK; i++) {
            const double equity = book->margin[i] + book->quantity[i] * (price - book->start_price);
            if (!liquidated[i] && equity <= book->mmr * book->quantity[i] * price) {
                liquidated[i] = 1;
                sold += book->quantity[i];
            }
        }
        if (sold == 0) return price;
        price *= exp(-0.01 * sold * price / depth);
    }
}

typedef struct {
    double final_mark;
    uint8_t liquidated[N_BOOK];
    double liquidated_notional;
} cascade_outcome;

static cascade_outcome simulate_cascade(const cascade_book *book, double depth) {
    mf_config config;
    one_asset_config(&config, book, depth);
    mf_store store;
    load_cascade_store(&store, book);
    mf_model model;
    cr_assert_eq(mf_model_build(&model, &config, &store), MF_OK, "%s", mf_error_message());
    mf_workspace *workspace = NULL;
    cr_assert_eq(mf_workspace_create(&workspace, &model), MF_OK);
    double mark[5], index[5], notional[4];
    cascade_outcome outcome;
    mf_trace trace = {.mark = mark,
                      .index = index,
                      .liquidated_notional = notional,
                      .liquidated_accounts = outcome.liquidated};
    mf_workspace_set_trace(workspace, &trace);
    mf_block_result block;
    cr_assert_eq(mf_block_result_init(&block, model.steps, 0, 1), MF_OK);
    cr_assert_eq(mf_simulate_block(&model, workspace, &block), MF_OK, "%s", mf_error_message());
    outcome.final_mark = mark[4];
    outcome.liquidated_notional = block.rows[0].liquidated_notional;
    cr_assert_float_eq(index[4], book->shocked_price, 1e-9, "index after the shock");
    mf_block_result_free(&block);
    mf_workspace_free(workspace);
    mf_model_free(&model);
    mf_store_free(&store);
    return outcome;
}

Test(closed_form, cascade_matches_fixed_point_around_critical_depth) {
    const cascade_book book = make_cascade_book();
    /* Critical depth: the first liquidation's impact just reaches the second liquidation
     * price, 0.01 q P1 / D* = ln(P1 / L_1). */
    const double critical = 0.01 * book.quantity[0] * book.shocked_price /
                            log(book.shocked_price / book.liquidation_price[1]);
    const double depths[] = {1.05 * critical, 0.95 * critical, 3 * critical, 0.2 * critical};
    for (int d = 0; d < 4; d++) {
        int expected[N_BOOK];
        const double expected_price = fixed_point(&book, depths[d], expected);
        const cascade_outcome outcome = simulate_cascade(&book, depths[d]);
        cr_assert_float_eq(outcome.final_mark, expected_price, 1e-12 * expected_price,
                           "depth %g: final mark %.15g, fixed point %.15g", depths[d],
                           outcome.final_mark, expected_price);
        int count = 0;
        for (int i = 0; i < N_BOOK; i++) {
            cr_assert_eq(outcome.liquidated[i], expected[i], "depth %g: account %d", depths[d], i);
            count += expected[i];
        }
        if (d == 0) cr_assert_eq(count, 1, "just above critical depth the cascade stops at once");
        if (d == 1)
            cr_assert_eq(count, N_BOOK, "just below critical depth it runs through the book");
    }
}

static void load_test_config(mf_config *config, const char *name, int64_t paths) {
    char override_paths[64], path[1024];
    snprintf(override_paths, sizeof override_paths, "run.paths=%lld", (long long)paths);
    snprintf(path, sizeof path, "%s/tests/configs/%s", MF_SOURCE_DIR, name);
    const char *overrides[] = {override_paths};
    cr_assert_eq(mf_config_load(config, path, overrides, 1), MF_OK, "%s", mf_error_message());
}

static void load_small(mf_config *config, int64_t paths) {
    load_test_config(config, "small.yaml", paths);
}

typedef struct {
    double mean_liquidated;
    double total_bad_debt;
    int64_t cascades;
    int amplification_all_one;
    int marks_equal_index;
} scenario_summary;

/* Simulate `paths` paths of a config in one block; check the accounting identity on every
 * path on the way. */
static scenario_summary simulate_config(const mf_config *config, int64_t paths) {
    mf_store store;
    cr_assert_eq(mf_population_generate(&store, config), MF_OK, "%s", mf_error_message());
    mf_model model;
    cr_assert_eq(mf_model_build(&model, config, &store), MF_OK, "%s", mf_error_message());
    mf_workspace *workspace = NULL;
    cr_assert_eq(mf_workspace_create(&workspace, &model), MF_OK);
    const int32_t steps = config->run.steps;
    const int n = config->market.n_assets;
    double *mark = calloc((size_t)(steps + 1) * n, sizeof *mark);
    double *index = calloc((size_t)(steps + 1) * n, sizeof *index);
    double *notional = calloc((size_t)steps, sizeof *notional);
    double *longs = calloc((size_t)steps, sizeof *longs);
    double *shorts = calloc((size_t)steps, sizeof *shorts);
    double *accounts = calloc((size_t)steps, sizeof *accounts);
    double *backlog = calloc((size_t)steps, sizeof *backlog);
    double *fund = calloc((size_t)steps, sizeof *fund);
    int32_t *rounds = calloc((size_t)steps, sizeof *rounds);
    mf_trace trace = {.path = paths - 1, /* the last path: its own slot in the last batch */
                      .mark = mark,
                      .index = index,
                      .liquidated_notional = notional,
                      .liquidated_long = longs,
                      .liquidated_short = shorts,
                      .accounts = accounts,
                      .backlog = backlog,
                      .fund = fund,
                      .rounds = rounds};
    mf_workspace_set_trace(workspace, &trace);
    mf_block_result block;
    cr_assert_eq(mf_block_result_init(&block, model.steps, 0, paths), MF_OK);
    cr_assert_eq(mf_simulate_block(&model, workspace, &block), MF_OK, "%s", mf_error_message());
    /* The trace agrees with the traced path's own results, step by step and at the end. */
    const mf_path_row *traced = &block.rows[paths - 1];
    double traced_notional = 0, traced_accounts = 0, fund_min = fund[0];
    int32_t traced_rounds = 0;
    for (int32_t t = 0; t < steps; t++) {
        cr_assert_float_eq(longs[t] + shorts[t], notional[t], 1e-9 * (1 + notional[t]),
                           "step %d: by side %g + %g, in all %g", t, longs[t], shorts[t],
                           notional[t]);
        cr_assert(longs[t] >= 0 && shorts[t] >= 0 && backlog[t] >= 0);
        traced_notional += notional[t];
        traced_accounts += accounts[t];
        if (rounds[t] > traced_rounds) traced_rounds = rounds[t];
        if (fund[t] < fund_min) fund_min = fund[t];
    }
    cr_assert_float_eq(traced_notional, traced->liquidated_notional, 1e-9 * (1 + traced_notional));
    cr_assert_eq((int64_t)traced_accounts, traced->liquidated_accounts);
    cr_assert_eq(traced_rounds, traced->max_rounds);
    cr_assert_eq(backlog[steps - 1], traced->final_backlog);
    cr_assert(fund_min >= traced->fund_min, "the fund's minimum is reached within a round");
    free(longs);
    free(shorts);
    free(accounts);
    free(backlog);
    free(fund);
    free(rounds);

    scenario_summary summary = {0, 0, block.n_cascades, 1, 1};
    for (int64_t p = 0; p < paths; p++) {
        const mf_path_ledger *ledger = &block.ledgers[p];
        const double before =
            ledger->initial_collateral + ledger->initial_fund + ledger->trading_pnl;
        const double after =
            ledger->final_trader_equity + ledger->final_fund - ledger->uncovered_deficit;
        cr_assert_float_eq(before, after,
                           1e-9 * (ledger->initial_collateral + ledger->initial_fund),
                           "path %lld: %.6f in, %.6f out", (long long)p, before, after);
        summary.mean_liquidated += block.rows[p].liquidated_notional / (double)paths;
        summary.total_bad_debt += block.rows[p].bad_debt;
    }
    for (int64_t c = 0; c < block.n_cascades; c++)
        if (block.cascades[c * MF_CASCADE_FIELDS + 2] != 1.0) summary.amplification_all_one = 0;
    for (int64_t i = 0; i < (int64_t)(steps + 1) * n; i++)
        if (mark[i] != index[i]) summary.marks_equal_index = 0;
    free(mark);
    free(index);
    free(notional);
    mf_block_result_free(&block);
    mf_workspace_free(workspace);
    mf_model_free(&model);
    mf_store_free(&store);
    return summary;
}

Test(accounting, every_dollar_is_accounted_for_on_every_path) {
    mf_config config;
    load_small(&config, 16);
    /* A smaller fund so that some paths exhaust it and leave an uncovered deficit. */
    config.venue.insurance_fund_usd = 2e4;
    const scenario_summary summary = simulate_config(&config, 16);
    cr_assert(summary.mean_liquidated > 0, "the scenario liquidates something");
    cr_assert(summary.total_bad_debt > 0, "the scenario has bad debt");
}

Test(sanity, unlimited_depth_keeps_mark_on_index_and_amplification_one) {
    mf_config config;
    load_small(&config, 8);
    for (int k = 0; k < config.market.n_assets; k++)
        config.venue.markets[k].depth_usd = INFINITY;
    const scenario_summary summary = simulate_config(&config, 8);
    cr_assert(summary.cascades > 0, "there are cascades to measure");
    cr_assert(summary.marks_equal_index, "mark == index at every step");
    cr_assert(summary.amplification_all_one, "every cascade's amplification is exactly 1");
}

/* tests/configs/sanity.yaml: the default market on a small book with a -5% shock. (In a
 * scenario so violent that the whole book goes at any depth, more depth raises the notional
 * because the same positions fill at better prices; sanity.yaml is not that scenario.) */
Test(sanity, more_depth_never_raises_and_more_leverage_raises_liquidations) {
    const double multipliers[] = {0.25, 0.5, 1, 2, 4, INFINITY};
    double previous = INFINITY;
    for (int i = 0; i < 6; i++) {
        mf_config config;
        load_test_config(&config, "sanity.yaml", 12);
        for (int k = 0; k < config.market.n_assets; k++)
            config.venue.markets[k].depth_usd *= multipliers[i];
        const double mean = simulate_config(&config, 12).mean_liquidated;
        cr_assert(mean <= previous, "depth x%g: %.6g > %.6g at less depth", multipliers[i], mean,
                  previous);
        previous = mean;
    }
    const double leverages[] = {10, 12, 25, 50};
    double lower = -1;
    for (int i = 0; i < 4; i++) {
        mf_config config;
        load_test_config(&config, "sanity.yaml", 12);
        config.venue.max_leverage = leverages[i];
        const double mean = simulate_config(&config, 12).mean_liquidated;
        cr_assert(mean > lower, "max leverage %g: %.6g not above %.6g", leverages[i], mean, lower);
        lower = mean;
    }
}

/* Every margin model in the table must flag exactly what the reference model of its mode flags:
 * model by model on random marks, including marks right at the prefilter's bounds, and through
 * the whole driver. */
#include "helpers.h"
#include "margin.h"
#include "rng.h"

static const mf_margin_model *reference_model(mf_margin_mode mode) {
    for (int i = 0; i < mf_n_margin_models; i++)
        if (mf_margin_models[i].mode == mode && mf_margin_models[i].kind == MF_MODEL_REFERENCE)
            return &mf_margin_models[i];
    return NULL;
}

Test(margin_models, every_model_flags_exactly_what_the_reference_flags) {
    mf_config config;
    load_small(&config, 8);
    /* Every mode present: small.yaml's 50% cross becomes 30% cross and 20% portfolio. */
    config.population.cross_share = 0.3;
    config.population.portfolio_share = 0.2;
    mf_store store;
    cr_assert_eq(mf_population_generate(&store, &config), MF_OK);
    mf_model model;
    cr_assert_eq(mf_model_build(&model, &config, &store), MF_OK, "%s", mf_error_message());
    const mf_venue *venue = &model.scenario.venues[0];
    const int batch = 8, n = config.market.n_assets;
    const int64_t n_acc = store.n_accounts, n_pos = store.n_positions;
    /* Accounts by mode, and every model's prepared data, as the scenario builds them. */
    int64_t *accounts[MF_N_MODES];
    int64_t n_mode[MF_N_MODES] = {0};
    for (int m = 0; m < MF_N_MODES; m++)
        accounts[m] = malloc(sizeof(int64_t) * (size_t)n_acc);
    for (int64_t a = 0; a < n_acc; a++)
        accounts[store.account_mode[a]][n_mode[store.account_mode[a]]++] = a;
    void *prepared[16] = {0};
    cr_assert(mf_n_margin_models <= 16);
    for (int i = 0; i < mf_n_margin_models; i++) {
        const mf_margin_model *m = &mf_margin_models[i];
        if (!m->prepare) continue;
        prepared[i] = malloc(
            m->prepared_size(&venue->book, &venue->tiers, accounts[m->mode], n_mode[m->mode]));
        m->prepare(&venue->book, &venue->tiers, accounts[m->mode], n_mode[m->mode],
                   model.scenario.index.price0, prepared[i]);
    }
    uint8_t *accounts_ref = calloc((size_t)(n_acc * batch), 1);
    uint8_t *positions_ref = calloc((size_t)(n_pos * batch), 1);
    uint8_t *accounts_model = calloc((size_t)(n_acc * batch), 1);
    uint8_t *positions_model = calloc((size_t)(n_pos * batch), 1);
    mf_pcg64 rng;
    mf_rng_stream(&rng, 99, 77, 0);
    int64_t total_flags[16] = {0};
    for (int trial = 0; trial < 200; trial++) {
        double marks[MF_MAX_ASSETS * 8];
        uint8_t active[8];
        for (int b = 0; b < batch; b++)
            active[b] = mf_rng_uniform(&rng) < 0.9;
        for (int k = 0; k < n; k++)
            for (int b = 0; b < batch; b++)
                marks[k * batch + b] =
                    config.market.assets[k].price * exp(0.15 * (2 * mf_rng_uniform(&rng) - 1));
        const double u_edge = mf_rng_uniform(&rng);
        for (int i = 0; i < mf_n_margin_models; i++) {
            const mf_margin_model *m = &mf_margin_models[i];
            const mf_margin_model *ref = reference_model(m->mode);
            cr_assert(ref, "%s: no reference model for its mode", m->name);
            if (trial % 4 == 0 && prepared[i] && m->prepared_size == mf_prefilter_size) {
                /* Put one path exactly on a position's bound. */
                const mf_prefilter_layout layout = mf_prefilter_view(prepared[i]);
                const int64_t j = (int64_t)(u_edge * (double)layout.n_positions);
                if (isfinite(layout.bound[j]))
                    marks[(layout.slot[j] / 2) * batch + 0] = fabs(layout.bound[j]);
            }
            memset(accounts_ref, 0, (size_t)(n_acc * batch));
            memset(positions_ref, 0, (size_t)(n_pos * batch));
            memset(accounts_model, 0, (size_t)(n_acc * batch));
            memset(positions_model, 0, (size_t)(n_pos * batch));
            const int64_t expected = mf_test_margin_check(
                ref, &venue->book, &venue->tiers, accounts[m->mode], n_mode[m->mode], NULL, batch,
                marks, active, accounts_ref, positions_ref);
            const int64_t got = mf_test_margin_check(
                m, &venue->book, &venue->tiers, accounts[m->mode], n_mode[m->mode], prepared[i],
                batch, marks, active, accounts_model, positions_model);
            cr_assert_eq(expected, got, "%s, trial %d: %lld vs %lld flags", m->name, trial,
                         (long long)expected, (long long)got);
            cr_assert(!memcmp(accounts_ref, accounts_model, (size_t)(n_acc * batch)),
                      "%s, trial %d: account flags differ", m->name, trial);
            cr_assert(!memcmp(positions_ref, positions_model, (size_t)(n_pos * batch)),
                      "%s, trial %d: position flags differ", m->name, trial);
            total_flags[i] += got;
        }
    }
    for (int i = 0; i < mf_n_margin_models; i++) {
        cr_log_info("margin model %-22s %lld flags over 200 trials, same as the reference",
                    mf_margin_models[i].name, (long long)total_flags[i]);
        cr_assert(total_flags[i] > 20, "%s: the trials flag something (%lld)",
                  mf_margin_models[i].name, (long long)total_flags[i]);
        free(prepared[i]);
    }
    for (int m = 0; m < MF_N_MODES; m++)
        free(accounts[m]);
    free(accounts_ref);
    free(positions_ref);
    free(accounts_model);
    free(positions_model);
    mf_model_free(&model);

    /* Whole driver, run.margin_kernel filtered, reference and events: identical rows, ledgers,
     * cascades, profiles. */
    mf_block_result results[3];
    const mf_margin_kernel kernels[3] = {MF_MARGIN_KERNEL_FILTERED, MF_MARGIN_KERNEL_REFERENCE,
                                         MF_MARGIN_KERNEL_EVENTS};
    for (int kernel = 0; kernel < 3; kernel++) {
        config.run.margin_kernel = kernels[kernel];
        cr_assert_eq(mf_model_build(&model, &config, &store), MF_OK, "%s", mf_error_message());
        /* Portfolio margin has no prefiltered model: its reference serves that setting. */
        for (int g = 0; g < model.scenario.venues[0].n_groups; g++)
            cr_assert((int)model.scenario.venues[0].groups[g].model->kind == (int)kernels[kernel] ||
                      model.scenario.venues[0].groups[g].model->mode == MF_MODE_PORTFOLIO);
        mf_workspace *workspace = NULL;
        cr_assert_eq(mf_workspace_create(&workspace, &model), MF_OK);
        cr_assert_eq(mf_block_result_init(&results[kernel], model.steps, 0, 8), MF_OK);
        cr_assert_eq(mf_simulate_block(&model, workspace, &results[kernel]), MF_OK);
        /* A batch clears only the state bytes it touched: none may be left, and the next block
         * in the same workspace gives what a fresh workspace gives. */
        cr_assert(mf_workspace_states_clear(workspace), "kernel %d: state bytes left", kernel);
        mf_block_result again, fresh;
        cr_assert_eq(mf_block_result_init(&again, model.steps, 8, 8), MF_OK);
        cr_assert_eq(mf_block_result_init(&fresh, model.steps, 8, 8), MF_OK);
        cr_assert_eq(mf_simulate_block(&model, workspace, &again), MF_OK);
        cr_assert(mf_workspace_states_clear(workspace), "kernel %d: state bytes left", kernel);
        mf_workspace_free(workspace);
        cr_assert_eq(mf_workspace_create(&workspace, &model), MF_OK);
        cr_assert_eq(mf_simulate_block(&model, workspace, &fresh), MF_OK);
        cr_assert(!memcmp(again.rows, fresh.rows, 8 * sizeof(mf_path_row)), "kernel %d", kernel);
        cr_assert(!memcmp(again.ledgers, fresh.ledgers, 8 * sizeof(mf_path_ledger)));
        cr_assert(again.rows[0].liquidated_accounts + again.rows[3].liquidated_accounts > 0);
        mf_block_result_free(&again);
        mf_block_result_free(&fresh);
        mf_workspace_free(workspace);
        mf_model_free(&model);
    }
    for (int kernel = 0; kernel < 3; kernel += 2) {
        cr_assert(!memcmp(results[kernel].rows, results[1].rows, 8 * sizeof(mf_path_row)));
        cr_assert(!memcmp(results[kernel].ledgers, results[1].ledgers, 8 * sizeof(mf_path_ledger)));
        cr_assert_eq(results[kernel].n_cascades, results[1].n_cascades);
        cr_assert(!memcmp(results[kernel].cascades, results[1].cascades,
                          (size_t)results[1].n_cascades * MF_CASCADE_FIELDS * sizeof(double)));
        cr_assert(!memcmp(results[kernel].profile, results[1].profile,
                          3 * sizeof(double) * (size_t)config.run.steps));
    }
    cr_assert(results[0].rows[0].liquidated_accounts + results[0].rows[1].liquidated_accounts > 0);
    for (int kernel = 0; kernel < 3; kernel++)
        mf_block_result_free(&results[kernel]);
    mf_store_free(&store);
}

/* The end-of-path ledger and the funding's open interest come from the venue's totals less what
 * each path liquidated (O(assets + liquidations)); summed account by account instead (the O(N)
 * reference) they agree to rounding, with and without a live book kept for funding. */
Test(ledger, totals_less_liquidated_equal_the_account_by_account_sum) {
    const char *cases[][3] = {
        {"run.paths=8", "run.margin_kernel=events", "venue.funding.enabled=false"},
        {"run.paths=8", "run.margin_kernel=filtered", "venue.funding.enabled=true"},
        {"run.paths=8", "run.margin_kernel=events", "venue.funding.enabled=true"},
    };
    for (int c = 0; c < 3; c++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/tests/configs/small.yaml", MF_SOURCE_DIR);
        const char *overrides[] = {cases[c][0], cases[c][1], cases[c][2],
                                   "venue.funding.interval_seconds=1800"};
        mf_config config;
        cr_assert_eq(mf_config_load(&config, path, overrides, 4), MF_OK, "%s", mf_error_message());
        mf_store store;
        cr_assert_eq(mf_population_generate(&store, &config), MF_OK);
        mf_model model;
        cr_assert_eq(mf_model_build(&model, &config, &store), MF_OK, "%s", mf_error_message());
        mf_block_result results[2];
        for (int reference = 0; reference < 2; reference++) {
            mf_workspace *workspace = NULL;
            cr_assert_eq(mf_workspace_create(&workspace, &model), MF_OK);
            mf_workspace_count_every_account(workspace, reference);
            cr_assert_eq(mf_block_result_init(&results[reference], model.steps, 0, 8), MF_OK);
            cr_assert_eq(mf_simulate_block(&model, workspace, &results[reference]), MF_OK, "%s",
                         mf_error_message());
            mf_workspace_free(workspace);
        }
        int64_t liquidated = 0;
        for (int i = 0; i < 8; i++) {
            const mf_path_ledger *fast = &results[0].ledgers[i], *slow = &results[1].ledgers[i];
            const double fast_fields[] = {fast->trading_pnl, fast->final_trader_equity,
                                          fast->funding_net, fast->final_fund};
            const double slow_fields[] = {slow->trading_pnl, slow->final_trader_equity,
                                          slow->funding_net, slow->final_fund};
            const double scale = fabs(slow->initial_collateral);
            for (int f = 0; f < 4; f++)
                cr_assert(fabs(fast_fields[f] - slow_fields[f]) <= 1e-12 * scale,
                          "case %d path %d field %d: %.17g vs %.17g", c, i, f, fast_fields[f],
                          slow_fields[f]);
            const mf_path_row *a = &results[0].rows[i], *b = &results[1].rows[i];
            cr_assert_eq(a->liquidated_accounts, b->liquidated_accounts, "case %d path %d", c, i);
            cr_assert(fabs(a->funding_paid - b->funding_paid) <= 1e-9 * (1 + b->funding_paid));
            cr_assert(fabs(a->funding_received - b->funding_received) <=
                      1e-9 * (1 + b->funding_received));
            liquidated += a->liquidated_accounts;
            if (config.venue.funding_enabled)
                cr_assert(b->funding_paid > 0 && b->funding_received > 0, "case %d: funding flows",
                          c);
        }
        cr_assert(liquidated > 0, "case %d: the paths liquidate something", c);
        for (int reference = 0; reference < 2; reference++)
            mf_block_result_free(&results[reference]);
        mf_model_free(&model);
        mf_store_free(&store);
        mf_config_free(&config);
    }
}

/* A model of the test tree, registered through a model table: it liquidates every isolated
 * position as soon as it is checked. The driver uses it for the isolated accounts, unchanged. */
static int64_t test_model_flag_everything(const mf_margin_call *call) {
    const mf_book_view *book = call->book;
    int64_t flagged = 0;
    for (int64_t i = call->begin; i < call->end; i++) {
        const int64_t account = call->accounts[i];
        const int64_t first = book->account_first[account];
        for (int64_t p = first; p < first + book->account_positions[account]; p++)
            for (int b = 0; b < call->batch; b++) {
                uint8_t *state = &call->position_state[p * call->batch + b];
                if (!call->active[b] || *state != MF_POSITION_OPEN) continue;
                *state = MF_POSITION_NEW;
                flagged++;
            }
    }
    return flagged;
}

Test(margin_models, a_test_model_in_the_table_is_used_for_its_accounts) {
    mf_config config;
    load_small(&config, 4);
    mf_store store;
    cr_assert_eq(mf_population_generate(&store, &config), MF_OK);
    config.run.margin_kernel = MF_MARGIN_KERNEL_FILTERED; /* the kind the test model has */
    mf_margin_model table[32];
    int n_table = 0;
    table[n_table++] = (mf_margin_model){"test-flag-everything",
                                         MF_MODE_ISOLATED,
                                         MF_MODEL_FILTERED,
                                         test_model_flag_everything,
                                         NULL,
                                         NULL};
    cr_assert(mf_n_margin_models < 32);
    for (int i = 0; i < mf_n_margin_models; i++)
        table[n_table++] = mf_margin_models[i];
    mf_model model;
    cr_assert_eq(mf_model_build_with(&model, &config, &store, table, n_table), MF_OK, "%s",
                 mf_error_message());
    const mf_venue *venue = &model.scenario.venues[0];
    int found = 0;
    for (int g = 0; g < venue->n_groups; g++)
        if (venue->groups[g].model->check == test_model_flag_everything) {
            found = 1;
            cr_assert_eq(venue->groups[g].model->mode, MF_MODE_ISOLATED);
        }
    cr_assert(found, "the scenario picked the test model for the isolated accounts");
    mf_workspace *workspace = NULL;
    cr_assert_eq(mf_workspace_create(&workspace, &model), MF_OK);
    const int32_t steps = model.steps, n = config.market.n_assets;
    double *mark = calloc((size_t)(steps + 1) * n, sizeof(double));
    double *index = calloc((size_t)(steps + 1) * n, sizeof(double));
    double *notional = calloc((size_t)steps, sizeof(double));
    uint8_t *liquidated = calloc((size_t)store.n_accounts, 1);
    mf_trace trace = {.mark = mark,
                      .index = index,
                      .liquidated_notional = notional,
                      .liquidated_accounts = liquidated};
    mf_workspace_set_trace(workspace, &trace);
    mf_block_result block;
    cr_assert_eq(mf_block_result_init(&block, steps, 0, 4), MF_OK);
    cr_assert_eq(mf_simulate_block(&model, workspace, &block), MF_OK, "%s", mf_error_message());
    /* Every isolated account is liquidated in the first step; cross accounts are not all. */
    int64_t isolated = 0, cross = 0, cross_liquidated = 0;
    for (int64_t a = 0; a < store.n_accounts; a++) {
        if (store.account_mode[a] == MF_MODE_ISOLATED) {
            isolated++;
            cr_assert(liquidated[a], "isolated account %lld not liquidated", (long long)a);
        } else {
            cross++;
            cross_liquidated += liquidated[a];
        }
    }
    cr_assert(isolated > 0 && cross > 0);
    cr_assert(cross_liquidated < cross, "the cross accounts keep their own (default) model");
    cr_assert(notional[0] > 0, "liquidations start at step 0");
    cr_log_info("test model: %lld of %lld isolated accounts liquidated, %lld of %lld cross",
                (long long)isolated, (long long)isolated, (long long)cross_liquidated,
                (long long)cross);
    /* A mode without a model is an error, not a silent pass. */
    mf_model bad;
    cr_assert_eq(mf_model_build_with(&bad, &config, &store, table, 1), MF_ERR_INPUT);
    mf_model_free(&bad);
    mf_block_result_free(&block);
    mf_workspace_free(workspace);
    mf_model_free(&model);
    free(mark);
    free(index);
    free(notional);
    free(liquidated);
    mf_store_free(&store);
}

/* The margin phase's parallel region (opened only on large books) gives the same bits as the
 * serial sweep: forced on for a small book, on 2 threads. */
#include <omp.h>

Test(margin_models, parallel_and_serial_margin_phase_give_the_same_bits) {
    mf_config config;
    load_small(&config, 16);
    mf_store store;
    cr_assert_eq(mf_population_generate(&store, &config), MF_OK);
    mf_model model;
    cr_assert_eq(mf_model_build(&model, &config, &store), MF_OK, "%s", mf_error_message());
    omp_set_num_threads(2);
    mf_block_result results[2];
    for (int parallel = 0; parallel < 2; parallel++) {
        mf_workspace *workspace = NULL;
        cr_assert_eq(mf_workspace_create(&workspace, &model), MF_OK);
        mf_workspace_set_parallel_threshold(workspace, parallel ? 0 : INT64_MAX);
        cr_assert_eq(mf_block_result_init(&results[parallel], model.steps, 0, 16), MF_OK);
        cr_assert_eq(mf_simulate_block(&model, workspace, &results[parallel]), MF_OK);
        mf_workspace_free(workspace);
    }
    cr_assert(!memcmp(results[0].rows, results[1].rows, 16 * sizeof(mf_path_row)));
    cr_assert(!memcmp(results[0].ledgers, results[1].ledgers, 16 * sizeof(mf_path_ledger)));
    cr_assert_eq(results[0].n_cascades, results[1].n_cascades);
    cr_assert(!memcmp(results[0].cascades, results[1].cascades,
                      (size_t)results[0].n_cascades * MF_CASCADE_FIELDS * sizeof(double)));
    cr_assert(!memcmp(results[0].profile, results[1].profile,
                      MF_PROFILE_SERIES * sizeof(double) * (size_t)config.run.steps));
    mf_block_result_free(&results[0]);
    mf_block_result_free(&results[1]);
    mf_model_free(&model);
    mf_store_free(&store);
}

/* ---- numbers that stay numbers (issue 8) ---- */

Test(finite, the_path_check_trips_on_an_injected_nan_and_names_path_step_and_field) {
    mf_path_row row;
    mf_path_ledger ledger;
    memset(&row, 0, sizeof row);
    memset(&ledger, 0, sizeof ledger);
    row.bad_debt = 12.5;
    ledger.final_fund = 1e15;
    cr_assert_eq(mf_check_path_finite(3, 240, &row, &ledger), MF_OK);
    row.bad_debt = NAN;
    cr_assert_eq(mf_check_path_finite(3, 240, &row, &ledger), MF_ERR_NUMERIC);
    const char *message = mf_error_message();
    cr_assert(strstr(message, "path 3, step 240") != NULL, "%s", message);
    cr_assert(strstr(message, "bad_debt") != NULL, "%s", message);
    row.bad_debt = 0;
    ledger.trading_pnl = -INFINITY;
    cr_assert_eq(mf_check_path_finite(7, 12, &row, &ledger), MF_ERR_NUMERIC);
    message = mf_error_message();
    cr_assert(strstr(message, "path 7, step 12") != NULL, "%s", message);
    cr_assert(strstr(message, "trading_pnl") != NULL, "%s", message);
    mf_error_clear();
}

/* Simulate one block of `paths` paths; returns the status (the block is freed). */
static mf_status simulate_status(const mf_config *config, int64_t paths,
                                 const volatile sig_atomic_t *stop) {
    mf_store store;
    cr_assert_eq(mf_population_generate(&store, config), MF_OK, "%s", mf_error_message());
    mf_model model;
    cr_assert_eq(mf_model_build(&model, config, &store), MF_OK, "%s", mf_error_message());
    mf_workspace *workspace = NULL;
    cr_assert_eq(mf_workspace_create(&workspace, &model), MF_OK);
    mf_workspace_set_stop_flag(workspace, stop);
    mf_block_result block;
    cr_assert_eq(mf_block_result_init(&block, model.steps, 0, paths), MF_OK);
    const mf_status status = mf_simulate_block(&model, workspace, &block);
    mf_block_result_free(&block);
    mf_workspace_free(workspace);
    mf_model_free(&model);
    mf_store_free(&store);
    return status;
}

Test(finite, an_index_that_leaves_double_range_stops_the_block_naming_path_and_step) {
    mf_config config;
    load_small(&config, 4);
    /* Day-long steps at 10000% volatility: -sigma^2 dt / 2 alone is -13.7 a step, so the
     * index underflows to 0 within about 60 steps (values the schema allows). */
    config.run.dt_seconds = 86400;
    for (int k = 0; k < config.market.n_assets; k++)
        config.market.assets[k].volatility = 100;
    cr_assert_eq(simulate_status(&config, 4, NULL), MF_ERR_NUMERIC, "%s", mf_error_message());
    const char *message = mf_error_message();
    cr_assert(strstr(message, "path ") != NULL && strstr(message, ", step ") != NULL, "%s",
              message);
    cr_assert(strstr(message, "mark price") != NULL, "%s", message);
    mf_error_clear();
}

Test(finite, a_thin_book_runs_to_finite_results) {
    mf_config config;
    load_small(&config, 8);
    config.venue.markets[0].depth_usd = 10; /* issue 8: used to reach mark 0 and NaN */
    cr_assert_eq(simulate_status(&config, 8, NULL), MF_OK, "%s", mf_error_message());
}

Test(stop, a_raised_stop_flag_ends_the_block_within_a_step) {
    mf_config config;
    load_small(&config, 4);
    volatile sig_atomic_t stop = 1;
    cr_assert_eq(simulate_status(&config, 4, &stop), MF_ERR_INTERRUPTED);
    cr_assert(strstr(mf_error_message(), "step 0") != NULL, "%s", mf_error_message());
    mf_error_clear();
    stop = 0;
    cr_assert_eq(simulate_status(&config, 4, &stop), MF_OK, "%s", mf_error_message());
}
