#include "scenario.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"

/* Limits and enums have one definition (kernels/); what two layers still size separately: */
_Static_assert(MF_MAX_BATCH <= MF_KERNEL_MAX_BATCH, "a batch must fit the kernels' limit");

/* The ladders as the venue runs them: venue.margin_scale s != 1 scales every market's ladder
 * (mf_tier_ladder_scale); s = 1 copies the config exactly. */
void mf_scenario_tier_table(const mf_config *config, mf_tier_table *tiers) {
    memset(tiers, 0, sizeof *tiers);
    const double scale = config->venue.margin_scale;
    for (int k = 0; k < config->market.n_assets; k++) {
        const mf_venue_market_config *venue_market = &config->venue.markets[k];
        tiers->n_tiers[k] = venue_market->n_tiers;
        for (int i = 0; i < venue_market->n_tiers; i++) {
            tiers->floor_usd[k][i] = venue_market->tiers[i].floor_usd;
            tiers->mmr[k][i] = venue_market->tiers[i].mmr;
            tiers->cum_usd[k][i] = venue_market->tiers[i].cum_usd;
            tiers->max_leverage[k][i] = venue_market->tiers[i].max_leverage;
        }
        if (scale != 1.0) mf_tier_ladder_scale(tiers, k, scale);
        tiers->portfolio.range[k] = venue_market->portfolio_range;
        tiers->portfolio.spread_range[k] = venue_market->portfolio_spread_range;
    }
    tiers->portfolio.points = config->venue.portfolio_points;
    tiers->portfolio.floor_rate = config->venue.portfolio_floor_rate;
    tiers->portfolio.initial_multiplier = config->venue.portfolio_initial_multiplier;
    tiers->maintenance_scale_max = config->venue.dynamic_enabled ? config->venue.dynamic_cap : 1.0;
}

static mf_status build_index(mf_index_model *index, const mf_config *config) {
    const int n = config->market.n_assets;
    const int32_t steps = config->run.steps;
    const double dt_years = config->run.dt_seconds / (365.0 * 86400.0);
    mf_index_params *params = &index->params;
    params->n_assets = n;
    double correlation[MF_MAX_ASSETS * MF_MAX_ASSETS] = {0};
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            correlation[i * n + j] = config->market.correlation[i][j];
    MF_CHECK(mf_cholesky(correlation, n, params->cholesky));
    for (int k = 0; k < n; k++) {
        const mf_asset_config *asset = &config->market.assets[k];
        params->drift_step[k] = asset->drift * dt_years;
        params->variance_step[k] = asset->volatility * asset->volatility * dt_years;
        params->jump_beta[k] = asset->jump_beta;
        index->log_price0[k] = log(asset->price);
        index->price0[k] = asset->price;
    }
    params->garch = config->market.garch_enabled;
    params->garch_alpha = config->market.garch_alpha;
    params->garch_beta = config->market.garch_beta;
    index->student_t_nu = config->market.student_t_nu;
    index->jump_rate_step = config->market.jump_intensity * dt_years;
    index->jump_mean = config->market.jump_mean;
    index->jump_stdev = config->market.jump_stdev;

    if (config->market.n_stress > 0) {
        MF_ALLOC(index->stress, (size_t)steps * n);
        for (int s = 0; s < config->market.n_stress; s++) {
            const mf_stress_config *shock = &config->market.stress[s];
            for (int32_t t = shock->start_step; t < shock->start_step + shock->steps && t < steps;
                 t++)
                for (int k = 0; k < n; k++)
                    if (shock->asset < 0 || shock->asset == k)
                        index->stress[(int64_t)t * n + k] += shock->log_return / shock->steps;
        }
    }
    /* Replay files are read once here. */
    for (int k = 0; k < n; k++) {
        if (config->market.assets[k].replay_format == MF_REPLAY_NONE) continue;
        if (!index->replay_log_index) MF_ALLOC(index->replay_log_index, (size_t)(steps + 1) * n);
        double *column = NULL;
        MF_ALLOC(column, steps + 1);
        mf_status status = mf_replay_load(config, k, steps, column);
        if (status != MF_OK) {
            free(column);
            mf_error_push_frame(__FILE__, __LINE__, __func__);
            return status;
        }
        for (int32_t t = 0; t <= steps; t++)
            index->replay_log_index[(int64_t)t * n + k] = column[t];
        free(column);
        index->replayed[k] = 1;
    }
    return MF_OK;
}

_Static_assert((int)MF_MARGIN_KERNEL_FILTERED == (int)MF_MODEL_FILTERED &&
                   (int)MF_MARGIN_KERNEL_REFERENCE == (int)MF_MODEL_REFERENCE &&
                   (int)MF_MARGIN_KERNEL_EVENTS == (int)MF_MODEL_EVENTS,
               "run.margin_kernel numbers the model kinds");

static const mf_margin_model *choose_model(const mf_margin_model *models, int n_models,
                                           mf_margin_mode mode, mf_model_kind kind) {
    const mf_margin_model *fallback = NULL;
    for (int i = 0; i < n_models; i++) {
        if (models[i].mode != mode) continue;
        if (models[i].kind == kind) return &models[i];
        if (!fallback) fallback = &models[i];
    }
    return fallback;
}

static const char *mode_name(mf_margin_mode mode) {
    switch (mode) {
    case MF_MODE_ISOLATED:
        return "isolated";
    case MF_MODE_CROSS:
        return "cross";
    case MF_MODE_PORTFOLIO:
        return "portfolio";
    }
    return "unknown";
}

/* Accounts grouped by mode (ids ascending; the store keeps its order) and one model each. */
static mf_status build_groups(mf_venue *venue, const mf_store *store, const double *start_prices,
                              const mf_margin_model *models, int n_models, mf_model_kind kind) {
    int64_t count[MF_N_MODES] = {0};
    for (int64_t a = 0; a < store->n_accounts; a++)
        count[store->account_mode[a]]++; /* < MF_N_MODES: checked by mf_store_finish */
    int slot_of_mode[MF_N_MODES];
    venue->n_groups = 0;
    for (int m = 0; m < MF_N_MODES; m++) {
        slot_of_mode[m] = -1;
        if (count[m] == 0) continue;
        const mf_margin_model *model = choose_model(models, n_models, (mf_margin_mode)m, kind);
        if (!model)
            return MF_FAIL(MF_ERR_INPUT, "no margin model for the %lld %s-margin accounts",
                           (long long)count[m], mode_name((mf_margin_mode)m));
        mf_margin_group *group = &venue->groups[venue->n_groups];
        slot_of_mode[m] = venue->n_groups++;
        group->model = model;
        MF_ALLOC_LARGE(group->accounts, count[m]);
    }
    for (int64_t a = 0; a < store->n_accounts; a++) {
        mf_margin_group *group = &venue->groups[slot_of_mode[store->account_mode[a]]];
        group->accounts[group->n_accounts++] = a;
    }
    for (int g = 0; g < venue->n_groups; g++) {
        mf_margin_group *group = &venue->groups[g];
        if (!group->model->prepare || !group->model->prepared_size) continue;
        if (group->model->kind == MF_MODEL_EVENTS && group->n_accounts > (int64_t)UINT32_MAX)
            return MF_FAIL(MF_ERR_INPUT,
                           "%lld accounts in one margin mode: event-driven checks index at most "
                           "%lu (run.margin_kernel: filtered handles more)",
                           (long long)group->n_accounts, (unsigned long)UINT32_MAX);
        const size_t bytes = group->model->prepared_size(&venue->book, &venue->tiers,
                                                         group->accounts, group->n_accounts);
        group->prepared = mf_calloc_large(bytes > 0 ? bytes : 1, 1);
        if (!group->prepared)
            return MF_FAIL(MF_ERR_MEMORY,
                           "out of memory for the %s margin model's data (%zu bytes)",
                           group->model->name, bytes);
        group->model->prepare(&venue->book, &venue->tiers, group->accounts, group->n_accounts,
                              start_prices, group->prepared);
    }
    return MF_OK;
}

/* Whole steps of a duration, at least one (rounded to nearest: a 30-minute window at 60 s
 * steps is 30 steps). */
static int32_t duration_steps(double seconds, double dt, int round_up) {
    double steps = round_up ? ceil(seconds / dt - 1e-9) : floor(seconds / dt + 0.5);
    if (steps < 1) steps = 1;
    return steps > INT32_MAX ? INT32_MAX : (int32_t)steps;
}

static void build_market_rules(mf_market_rules *rules, const mf_config *config) {
    const mf_venue_config *v = &config->venue;
    const double dt = config->run.dt_seconds;
    rules->funding = v->funding_enabled;
    rules->funding_interval_steps = duration_steps(v->funding_interval_seconds, dt, 0);
    rules->funding_share = rules->funding_interval_steps * dt / v->funding_rate_period_seconds;
    rules->funding_interest = v->funding_interest_rate;
    rules->funding_clamp = v->funding_clamp;
    rules->funding_cap = v->funding_cap;
    rules->funding_at_index = v->funding_price == MF_FUNDING_PRICE_INDEX;
    rules->dynamic = v->dynamic_enabled;
    rules->dynamic_decay = pow(2.0, -dt / v->dynamic_half_life_seconds);
    const double year_fraction = dt / (365.0 * 86400.0);
    for (int k = 0; k < config->market.n_assets; k++) {
        const double sigma = v->dynamic_reference_volatility > 0
                                 ? v->dynamic_reference_volatility
                                 : config->market.assets[k].volatility;
        rules->dynamic_reference[k] = sigma * sigma * year_fraction;
    }
    rules->dynamic_cap = v->dynamic_cap;
    rules->breaker = v->breaker_enabled;
    rules->breaker_threshold = v->breaker_threshold;
    rules->breaker_window_steps = duration_steps(v->breaker_window_seconds, dt, 0);
    rules->breaker_halt_steps = duration_steps(v->breaker_halt_seconds, dt, 1);
}

static void build_liquidation_policy(mf_liquidation_policy *policy, const mf_config *config,
                                     const mf_tier_table *tiers) {
    const mf_venue_config *v = &config->venue;
    policy->partial = v->partial_enabled;
    policy->partial_min_notional = v->partial_min_notional_usd;
    policy->partial_chunk = v->partial_chunk_fraction;
    policy->partial_fee = v->partial_fee;
    policy->partial_target_initial = v->partial_target == MF_PARTIAL_TARGET_INITIAL;
    policy->partial_cooldown_steps =
        (int32_t)ceil(v->partial_cooldown_seconds / config->run.dt_seconds - 1e-9);
    if (policy->partial_cooldown_steps < 0) policy->partial_cooldown_steps = 0;
    for (int k = 0; k < config->market.n_assets; k++)
        policy->fill_bound[k] = v->fill_bound_mmr * tiers->mmr[k][0];
    policy->vault = v->vault_enabled;
    policy->vault_capital = v->vault_enabled ? v->vault_capital_usd : 0;
    policy->vault_takeover_fraction = v->vault_takeover_fraction;
    policy->live_book = policy->partial || policy->vault || v->deficit != MF_DEFICIT_UNCOVERED;
    policy->live_positions = policy->live_book;
}

mf_status mf_scenario_build_with(mf_scenario *scenario, const mf_config *config,
                                 const mf_store *store, const mf_margin_model *models,
                                 int n_models) {
    memset(scenario, 0, sizeof *scenario);
    const int n = config->market.n_assets;
    if (store->n_assets != n)
        return MF_FAIL(MF_ERR_INPUT, "the population has %d assets, the config %d", store->n_assets,
                       n);
    mf_run_shape *run = &scenario->run;
    run->n_assets = n;
    run->steps = config->run.steps;
    run->batch_paths = config->run.batch_paths;
    run->seed = config->run.seed;
    run->cascade_threshold_usd = config->cascade.threshold_usd;
    run->cascade_gap_steps = config->cascade.gap_steps;
    MF_CHECK(build_index(&scenario->index, config));

    scenario->n_venues = 1;
    mf_venue *venue = &scenario->venues[0];
    venue->book = (mf_book_view){store->n_accounts,
                                 store->n_positions,
                                 store->n_assets,
                                 store->account_mode,
                                 store->account_collateral,
                                 store->account_first,
                                 store->account_positions,
                                 store->position_account,
                                 store->position_asset,
                                 store->position_quantity,
                                 store->position_entry,
                                 store->position_margin,
                                 NULL};
    mf_scenario_tier_table(config, &venue->tiers);
    for (int k = 0; k < n; k++) {
        venue->engine.throughput_usd[k] = config->venue.markets[k].throughput_usd;
        venue->market.depth_usd[k] = config->venue.markets[k].depth_usd;
    }
    venue->market.impact_law = config->market.impact_law;
    venue->market.permanent_fraction = config->market.impact_permanent_fraction;
    venue->market.transient_decay =
        pow(2.0, -config->run.dt_seconds / config->market.impact_half_life_seconds);
    venue->market.feedback_beta = config->market.depth_feedback_beta;
    venue->market.feedback_floor = config->market.depth_feedback_floor;
    venue->settlement.liquidation_fee = config->venue.liquidation_fee;
    venue->settlement.initial_fund = config->venue.insurance_fund_usd;
    venue->settlement.deficit = config->venue.deficit;
    venue->max_rounds = config->venue.max_rounds;
    build_liquidation_policy(&venue->liquidation, config, &venue->tiers);
    build_market_rules(&venue->rules, config);
    /* Funding is paid through the live book's ledger (its fills and closes realise it). */
    if (venue->rules.funding) venue->liquidation.live_book = 1;
    int special_contracts = 0;
    for (int k = 0; k < n; k++) {
        const mf_venue_market_config *market = &config->venue.markets[k];
        venue->contracts.inverse[k] = market->contract == MF_CONTRACT_INVERSE;
        venue->contracts.any_inverse |= venue->contracts.inverse[k];
        venue->contracts.start_price[k] = config->market.assets[k].price;
        /* Expiry at time T: the end of the step that contains it (ceil(T / dt) steps). */
        const double steps = ceil(market->expiry_seconds / config->run.dt_seconds - 1e-9);
        venue->contracts.expiry_step[k] =
            isinf(market->expiry_seconds) || steps > INT32_MAX ? INT32_MAX : (int32_t)steps;
        if (venue->contracts.expiry_step[k] < 1) venue->contracts.expiry_step[k] = 1;
        special_contracts |=
            venue->contracts.inverse[k] || venue->contracts.expiry_step[k] <= config->run.steps;
    }
    if (special_contracts) {
        venue->book.contracts = &venue->contracts;
        venue->liquidation.live_book = 1;
        venue->liquidation.live_positions = 1;
    }

    double open_interest[MF_MAX_ASSETS];
    mf_store_open_interest(store, scenario->index.price0, open_interest);
    double total = 0;
    for (int k = 0; k < n; k++)
        total += open_interest[k];
    for (int k = 0; k < n; k++)
        venue->composite_weight[k] = total > 0 ? open_interest[k] / total : 1.0 / n;

    double collateral = 0;
    for (int64_t a = 0; a < store->n_accounts; a++)
        collateral += store->account_collateral[a];
    for (int64_t p = 0; p < store->n_positions; p++)
        collateral += store->position_margin[p];
    venue->initial_trader_collateral = collateral;
    for (int64_t p = 0; p < store->n_positions; p++)
        mf_position_totals_add(&venue->book_totals, store->position_asset[p],
                               store->position_quantity[p], store->position_entry[p]);

    MF_CHECK(build_groups(venue, store, scenario->index.price0, models, n_models,
                          (mf_model_kind)config->run.margin_kernel));
    return MF_OK;
}

mf_status mf_scenario_build(mf_scenario *scenario, const mf_config *config, const mf_store *store) {
    return mf_scenario_build_with(scenario, config, store, mf_margin_models, mf_n_margin_models);
}

void mf_scenario_free(mf_scenario *scenario) {
    free(scenario->index.stress);
    free(scenario->index.replay_log_index);
    for (int v = 0; v < scenario->n_venues; v++)
        for (int g = 0; g < scenario->venues[v].n_groups; g++) {
            free(scenario->venues[v].groups[g].accounts);
            free(scenario->venues[v].groups[g].prepared);
        }
    memset(scenario, 0, sizeof *scenario);
}
