/* The seeded population generator (docs/model.md section 4). Each account draws from its own
 * stream (seed, MF_STREAM_POPULATION, account id), so the population does not depend on how
 * many threads generate it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "book.h"
#include "margin.h"
#include "rng.h"
#include "scenario.h"
#include "store.h"

typedef struct {
    uint8_t asset;
    int8_t side;
    double size; /* raw notional draw, rescaled per asset afterwards */
    double entry_shock;
} position_draw;

typedef struct {
    uint8_t mode;
    int32_t count;
    double leverage;
    position_draw positions[MF_MAX_ASSETS];
} account_draw;

/* The account's stream and its first two draws: the mode and the number of positions. */
static void draw_mode_and_count(const mf_config *config, int64_t account, mf_pcg64 *rng,
                                account_draw *draw) {
    const mf_population_config *population = &config->population;
    const int n_assets = config->market.n_assets;
    mf_rng_stream(rng, config->run.seed, MF_STREAM_POPULATION, (uint64_t)account);
    /* One uniform picks the mode: [0, isolated) isolated, then cross, then portfolio (a share
     * of 0 never draws its mode, whatever the rounding of the other two). */
    const double mode_draw = mf_rng_uniform(rng);
    if (mode_draw < population->isolated_share)
        draw->mode = MF_MODE_ISOLATED;
    else if (population->portfolio_share > 0 &&
             mode_draw >= population->isolated_share + population->cross_share)
        draw->mode = MF_MODE_PORTFOLIO;
    else
        draw->mode = MF_MODE_CROSS;
    int max_positions = population->max_positions < n_assets ? population->max_positions : n_assets;
    draw->count = 1 + (int32_t)(mf_rng_uniform(rng) * max_positions);
    if (draw->count > max_positions) draw->count = max_positions;
}

static void draw_account(const mf_config *config, int64_t account, account_draw *draw) {
    const mf_population_config *population = &config->population;
    const int n_assets = config->market.n_assets;
    mf_pcg64 rng;
    draw_mode_and_count(config, account, &rng, draw);
    double leverage =
        population->leverage_median * exp(population->leverage_sigma * mf_rng_normal(&rng));
    if (leverage < 1) leverage = 1;
    if (leverage > config->venue.max_leverage) leverage = config->venue.max_leverage;
    draw->leverage = leverage;

    /* Assets without replacement, weighted by target open interest. */
    double weight[MF_MAX_ASSETS];
    for (int k = 0; k < n_assets; k++)
        weight[k] = population->assets[k].open_interest_usd;
    for (int i = 0; i < draw->count; i++) {
        double total = 0;
        for (int k = 0; k < n_assets; k++)
            total += weight[k];
        double target = mf_rng_uniform(&rng) * total;
        int chosen = -1;
        for (int k = 0; k < n_assets; k++) {
            if (weight[k] <= 0) continue;
            chosen = k;
            if (target < weight[k]) break;
            target -= weight[k];
        }
        position_draw *position = &draw->positions[i];
        position->asset = (uint8_t)chosen;
        weight[chosen] = 0;
        position->side = mf_rng_uniform(&rng) < population->assets[chosen].long_share ? 1 : -1;
        if (population->notional_law == MF_NOTIONAL_PARETO)
            position->size = pow(mf_rng_uniform_open(&rng), -1.0 / population->notional_alpha);
        else
            position->size = exp(population->notional_sigma * mf_rng_normal(&rng));
        position->entry_shock = population->entry_spread * mf_rng_normal(&rng);
    }
    /* Positions of an account are stored in asset order. */
    for (int i = 1; i < draw->count; i++)
        for (int j = i; j > 0 && draw->positions[j - 1].asset > draw->positions[j].asset; j--) {
            const position_draw swap = draw->positions[j];
            draw->positions[j] = draw->positions[j - 1];
            draw->positions[j - 1] = swap;
        }
}

/* Margin posted for a position opened at `entry`: notional at entry over the leverage, the
 * leverage capped by the venue and by the position's risk tier. */
static double initial_margin(const mf_tier_table *tiers, int asset, double leverage,
                             double quantity, double entry) {
    const double notional = fabs(quantity) * entry;
    const double cap = tiers->max_leverage[asset][mf_tier_index(tiers, asset, notional)];
    if (leverage > cap) leverage = cap;
    return notional / leverage;
}

mf_status mf_population_generate(mf_store *store, const mf_config *config) {
    const mf_population_config *population = &config->population;
    const int n_assets = config->market.n_assets;
    const int64_t n_accounts = population->accounts;
    /* Two passes over the accounts' own streams, so that no per-account draw record is kept
     * (at 1e7 accounts it would outweigh the store): the positions per account first, then
     * every draw straight into the store's arrays (the raw size, signed by side, in
     * position_quantity, the entry shock in position_entry, the leverage in
     * account_collateral), each replaced by its final value below. */
    int32_t *counts = NULL;
    MF_ALLOC(counts, n_accounts);
#pragma omp parallel for schedule(static)
    for (int64_t a = 0; a < n_accounts; a++) {
        mf_pcg64 rng;
        account_draw head;
        draw_mode_and_count(config, a, &rng, &head);
        counts[a] = head.count;
    }
    int64_t n_positions = 0;
    for (int64_t a = 0; a < n_accounts; a++)
        n_positions += counts[a];
    mf_status status = mf_store_alloc(store, n_accounts, n_positions, n_assets);
    if (status != MF_OK) {
        free(counts);
        MF_CHECK(status);
    }
    int64_t offset = 0;
    for (int64_t a = 0; a < n_accounts; a++) {
        store->account_first[a] = offset;
        offset += counts[a];
    }
    free(counts);
#pragma omp parallel for schedule(static)
    for (int64_t a = 0; a < n_accounts; a++) {
        account_draw draw;
        draw_account(config, a, &draw);
        store->account_mode[a] = draw.mode;
        store->account_collateral[a] = draw.leverage;
        const int64_t p0 = store->account_first[a];
        for (int i = 0; i < draw.count; i++) {
            store->position_account[p0 + i] = a;
            store->position_asset[p0 + i] = draw.positions[i].asset;
            store->position_quantity[p0 + i] = draw.positions[i].side * draw.positions[i].size;
            store->position_entry[p0 + i] = draw.positions[i].entry_shock;
        }
    }

    /* Rescale sizes so that each asset's open interest hits its target exactly (sums in
     * account order: deterministic). */
    double raw_total[MF_MAX_ASSETS] = {0};
    for (int64_t p = 0; p < n_positions; p++)
        raw_total[store->position_asset[p]] += fabs(store->position_quantity[p]);
    double scale[MF_MAX_ASSETS];
    for (int k = 0; k < n_assets; k++)
        scale[k] = raw_total[k] > 0 ? population->assets[k].open_interest_usd / raw_total[k] : 0;
    for (int k = 0; k < n_assets; k++)
        snprintf(store->asset_names[k], MF_NAME_LEN, "%s", config->market.assets[k].name);

    mf_tier_table tiers;
    mf_scenario_tier_table(config, &tiers);
    for (int64_t a = 0; a < n_accounts; a++) {
        const double leverage = store->account_collateral[a];
        store->account_collateral[a] = 0; /* isolated accounts post none */
        const uint8_t mode = store->account_mode[a];
        const int64_t first = store->account_first[a];
        const int64_t p = a + 1 < n_accounts ? store->account_first[a + 1] : n_positions;
        for (int64_t q = first; q < p; q++) {
            const int k = store->position_asset[q];
            const double price = config->market.assets[k].price;
            /* side x size x scale / price, as one product in that order */
            const double signed_size = store->position_quantity[q];
            const double side = signed_size < 0 ? -1.0 : 1.0;
            store->position_quantity[q] = side * fabs(signed_size) * scale[k] / price;
            store->position_entry[q] = price * exp(store->position_entry[q]);
        }
        /* Margins at entry; then every account must meet maintenance at t = 0. An account
         * that would not is re-entered at the start price (no unrealised loss), which the
         * tier caps make safe: MM < notional / tier max leverage <= margin. A portfolio
         * account posts initial_multiplier (> 1) x its portfolio requirement at the start
         * prices, which is as safe once re-entered. */
        for (int attempt = 0; attempt < 2; attempt++) {
            double collateral = 0, equity = 0, maintenance = 0;
            double net_quantity[MF_MAX_ASSETS] = {0};
            int healthy = 1;
            for (int64_t q = first; q < p; q++) {
                const int k = store->position_asset[q];
                const double price = config->market.assets[k].price;
                const double margin = initial_margin(
                    &tiers, k, leverage, store->position_quantity[q], store->position_entry[q]);
                const double pnl = store->position_quantity[q] * (price - store->position_entry[q]);
                const double mm =
                    mf_maintenance_margin(&tiers, k, fabs(store->position_quantity[q]) * price);
                switch ((mf_margin_mode)mode) {
                case MF_MODE_ISOLATED:
                    store->position_margin[q] = margin;
                    if (margin + pnl <= mm) healthy = 0;
                    break;
                case MF_MODE_CROSS:
                    store->position_margin[q] = 0;
                    collateral += margin;
                    equity += pnl;
                    maintenance += mm;
                    break;
                case MF_MODE_PORTFOLIO:
                    store->position_margin[q] = 0;
                    equity += pnl;
                    net_quantity[k] += store->position_quantity[q];
                    break;
                }
            }
            switch ((mf_margin_mode)mode) {
            case MF_MODE_ISOLATED:
                break;
            case MF_MODE_CROSS:
                store->account_collateral[a] = collateral;
                if (collateral + equity <= maintenance) healthy = 0;
                break;
            case MF_MODE_PORTFOLIO: {
                static const double unit_scale[MF_MAX_ASSETS] = {1, 1, 1, 1, 1, 1, 1, 1};
                double prices[MF_MAX_ASSETS];
                for (int k = 0; k < n_assets; k++)
                    prices[k] = config->market.assets[k].price;
                maintenance =
                    mf_portfolio_requirement(&tiers, n_assets, net_quantity, prices, unit_scale);
                collateral = config->venue.portfolio_initial_multiplier * maintenance;
                store->account_collateral[a] = collateral;
                if (collateral + equity <= maintenance) healthy = 0;
                break;
            }
            }
            if (healthy) break;
            for (int64_t q = first; q < p; q++)
                store->position_entry[q] = config->market.assets[store->position_asset[q]].price;
        }
    }
    MF_CHECK(mf_store_finish(store));
    return MF_OK;
}
