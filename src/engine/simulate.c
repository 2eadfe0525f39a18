#include "simulate.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "margin.h"
#include "replay.h"
#include "rng.h"

/* Accounts per margin-kernel work item: large enough to amortise scheduling, small enough
 * that the serial scan for new flags only visits chunks that have some. */
#define MF_CHUNK_ACCOUNTS 1024

struct mf_workspace {
    int batch;
    int32_t steps;
    int n_assets;
    int64_t n_chunks;
    double *log_index;       /* batch * (steps + 1) * K */
    double *normals;         /* steps * K (one path at a time) */
    double *mixing;          /* steps */
    double *jumps;           /* steps */
    uint8_t *account_state;  /* n_accounts * batch */
    uint8_t *position_state; /* n_positions * batch */
    int64_t *chunk_flags;    /* n_chunks */
    mf_engine_state engines[MF_MAX_BATCH];
    int32_t order_capacity[MF_MAX_BATCH];
    int32_t record_capacity[MF_MAX_BATCH];
    mf_asset_state assets[MF_MAX_BATCH][MF_MAX_ASSETS];
    double *marks; /* K * batch */
    double budget[MF_MAX_BATCH][MF_MAX_ASSETS];
    double *step_notional;   /* batch * steps */
    double *step_accounts;   /* batch * steps */
    double *step_fund;       /* batch * steps */
    double *composite_mark;  /* batch * (steps + 1) */
    double *composite_index; /* batch * (steps + 1) */
    int32_t max_rounds[MF_MAX_BATCH];
    mf_cascade *cascades; /* steps */
    mf_trace *trace;
};

/* ---------------------------------------------------------------- model */

void mf_tier_table_from_config(const mf_config *config, mf_tier_table *tiers) {
    memset(tiers, 0, sizeof *tiers);
    for (int k = 0; k < config->market.n_assets; k++) {
        const mf_venue_market_config *venue_market = &config->venue.markets[k];
        tiers->n_tiers[k] = venue_market->n_tiers;
        for (int i = 0; i < venue_market->n_tiers; i++) {
            tiers->floor_usd[k][i] = venue_market->tiers[i].floor_usd;
            tiers->mmr[k][i] = venue_market->tiers[i].mmr;
            tiers->cum_usd[k][i] = venue_market->tiers[i].cum_usd;
            tiers->max_leverage[k][i] = venue_market->tiers[i].max_leverage;
        }
    }
}

mf_status mf_model_build(mf_model *model, const mf_config *config, const mf_store *store) {
    memset(model, 0, sizeof *model);
    const int n = config->market.n_assets;
    if (store->n_assets != n)
        return MF_FAIL(MF_ERR_INPUT, "the population has %d assets, the config %d", store->n_assets,
                       n);
    model->config = config;
    model->store = store;
    model->n_assets = n;
    model->steps = config->run.steps;
    model->reference_kernel = config->run.margin_kernel == MF_MARGIN_KERNEL_REFERENCE;

    model->book =
        (mf_book_view){store->n_accounts,        store->n_positions,        store->n_assets,
                       store->account_mode,      store->account_collateral, store->account_first,
                       store->account_positions, store->position_account,   store->position_asset,
                       store->position_quantity, store->position_entry,     store->position_margin};

    mf_tier_table_from_config(config, &model->tiers);
    for (int k = 0; k < n; k++)
        model->engine.throughput_usd[k] = config->venue.markets[k].throughput_usd;
    model->engine.liquidation_fee = config->venue.liquidation_fee;

    const double dt_years = config->run.dt_seconds / (365.0 * 86400.0);
    mf_market_params *market = &model->market;
    market->n_assets = n;
    double correlation[MF_MAX_ASSETS * MF_MAX_ASSETS] = {0};
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            correlation[i * n + j] = config->market.correlation[i][j];
    MF_CHECK(mf_cholesky(correlation, n, market->cholesky));
    for (int k = 0; k < n; k++) {
        const mf_asset_config *asset = &config->market.assets[k];
        market->drift_step[k] = asset->drift * dt_years;
        market->variance_step[k] = asset->volatility * asset->volatility * dt_years;
        market->jump_beta[k] = asset->jump_beta;
        market->depth_usd[k] = config->venue.markets[k].depth_usd;
        model->log_price0[k] = log(asset->price);
    }
    market->garch = config->market.garch_enabled;
    market->garch_alpha = config->market.garch_alpha;
    market->garch_beta = config->market.garch_beta;
    market->impact_law = config->market.impact_law == MF_IMPACT_SQRT ? MF_LAW_SQRT : MF_LAW_LINEAR;
    market->permanent_fraction = config->market.impact_permanent_fraction;
    market->transient_decay =
        pow(2.0, -config->run.dt_seconds / config->market.impact_half_life_seconds);
    market->feedback_beta = config->market.depth_feedback_beta;
    market->feedback_floor = config->market.depth_feedback_floor;
    model->jump_rate_step = config->market.jump_intensity * dt_years;

    const int32_t steps = config->run.steps;
    if (config->market.n_stress > 0) {
        MF_ALLOC(model->stress, (size_t)steps * n);
        for (int s = 0; s < config->market.n_stress; s++) {
            const mf_stress_config *shock = &config->market.stress[s];
            for (int32_t t = shock->start_step; t < shock->start_step + shock->steps && t < steps;
                 t++)
                for (int k = 0; k < n; k++)
                    if (shock->asset < 0 || shock->asset == k)
                        model->stress[(int64_t)t * n + k] += shock->log_return / shock->steps;
        }
    }
    for (int k = 0; k < n; k++) {
        if (config->market.assets[k].replay_format == MF_REPLAY_NONE) continue;
        if (!model->replay_log_index) MF_ALLOC(model->replay_log_index, (size_t)(steps + 1) * n);
        double *column = NULL;
        MF_ALLOC(column, steps + 1);
        mf_status status = mf_replay_load(config, k, steps, column);
        if (status != MF_OK) {
            free(column);
            mf_error_push_frame(__FILE__, __LINE__, __func__);
            return status;
        }
        for (int32_t t = 0; t <= steps; t++)
            model->replay_log_index[(int64_t)t * n + k] = column[t];
        free(column);
        model->replayed[k] = 1;
    }

    double open_interest[MF_MAX_ASSETS];
    double prices[MF_MAX_ASSETS];
    for (int k = 0; k < n; k++)
        prices[k] = config->market.assets[k].price;
    mf_store_open_interest(store, prices, open_interest);
    double total = 0;
    for (int k = 0; k < n; k++)
        total += open_interest[k];
    for (int k = 0; k < n; k++)
        model->composite_weight[k] = total > 0 ? open_interest[k] / total : 1.0 / n;

    double collateral = 0;
    for (int64_t a = 0; a < store->n_accounts; a++)
        collateral += store->account_collateral[a];
    for (int64_t p = 0; p < store->n_positions; p++)
        collateral += store->position_margin[p];
    model->initial_trader_collateral = collateral;

    MF_ALLOC(model->safe_price, store->n_positions);
    mf_margin_safe_prices(&model->book, &model->tiers, prices, model->safe_price);
    return MF_OK;
}

void mf_model_free(mf_model *model) {
    free(model->stress);
    free(model->replay_log_index);
    free(model->safe_price);
    memset(model, 0, sizeof *model);
}

/* ---------------------------------------------------------------- workspace */

mf_status mf_workspace_create(mf_workspace **out, const mf_model *model) {
    mf_workspace *ws = NULL;
    MF_ALLOC(ws, 1);
    *out = ws;
    const int batch = model->config->run.batch_paths;
    const int n = model->n_assets;
    const int32_t steps = model->steps;
    ws->batch = batch;
    ws->steps = steps;
    ws->n_assets = n;
    ws->n_chunks = (model->store->n_accounts + MF_CHUNK_ACCOUNTS - 1) / MF_CHUNK_ACCOUNTS;
    MF_ALLOC(ws->log_index, (size_t)batch * (steps + 1) * n);
    MF_ALLOC(ws->normals, (size_t)steps * n);
    MF_ALLOC(ws->mixing, steps);
    MF_ALLOC(ws->jumps, steps);
    MF_ALLOC(ws->account_state, (size_t)model->store->n_accounts * batch);
    MF_ALLOC(ws->position_state, (size_t)model->store->n_positions * batch);
    MF_ALLOC(ws->chunk_flags, ws->n_chunks);
    MF_ALLOC(ws->marks, (size_t)n * batch);
    MF_ALLOC(ws->step_notional, (size_t)batch * steps);
    MF_ALLOC(ws->step_accounts, (size_t)batch * steps);
    MF_ALLOC(ws->step_fund, (size_t)batch * steps);
    MF_ALLOC(ws->composite_mark, (size_t)batch * (steps + 1));
    MF_ALLOC(ws->composite_index, (size_t)batch * (steps + 1));
    MF_ALLOC(ws->cascades, steps);
    for (int b = 0; b < batch; b++) {
        ws->order_capacity[b] = 1024;
        ws->record_capacity[b] = 1024;
        MF_ALLOC(ws->engines[b].orders, ws->order_capacity[b]);
        MF_ALLOC(ws->engines[b].records, ws->record_capacity[b]);
    }
    return MF_OK;
}

void mf_workspace_free(mf_workspace *ws) {
    if (!ws) return;
    free(ws->log_index);
    free(ws->normals);
    free(ws->mixing);
    free(ws->jumps);
    free(ws->account_state);
    free(ws->position_state);
    free(ws->chunk_flags);
    free(ws->marks);
    free(ws->step_notional);
    free(ws->step_accounts);
    free(ws->step_fund);
    free(ws->composite_mark);
    free(ws->composite_index);
    free(ws->cascades);
    for (int b = 0; b < MF_MAX_BATCH; b++) {
        free(ws->engines[b].orders);
        free(ws->engines[b].records);
    }
    free(ws);
}

void mf_workspace_set_trace(mf_workspace *ws, mf_trace *trace) {
    ws->trace = trace;
}

/* The engine's pools grow here, in the driver, so the kernels never allocate. */
static mf_status ensure_engine_capacity(mf_workspace *ws, int b, int32_t orders, int32_t records) {
    mf_engine_state *engine = &ws->engines[b];
    if (engine->n_orders + orders > ws->order_capacity[b]) {
        int64_t capacity = 2 * (int64_t)ws->order_capacity[b] + orders;
        if (capacity > INT32_MAX) capacity = INT32_MAX;
        mf_order *grown = realloc(engine->orders, (size_t)capacity * sizeof *grown);
        if (!grown) return MF_FAIL(MF_ERR_MEMORY, "out of memory growing the liquidation queue");
        engine->orders = grown;
        ws->order_capacity[b] = (int32_t)capacity;
    }
    if (engine->n_records + records > ws->record_capacity[b]) {
        int64_t capacity = 2 * (int64_t)ws->record_capacity[b] + records;
        if (capacity > INT32_MAX) capacity = INT32_MAX;
        mf_liquidation_record *grown = realloc(engine->records, (size_t)capacity * sizeof *grown);
        if (!grown) return MF_FAIL(MF_ERR_MEMORY, "out of memory growing liquidation records");
        engine->records = grown;
        ws->record_capacity[b] = (int32_t)capacity;
    }
    return MF_OK;
}

/* ---------------------------------------------------------------- one batch */

/* The path's exogenous index: replayed columns copied, the rest simulated from its streams. */
static void generate_index_path(const mf_model *model, mf_workspace *ws, int64_t path,
                                double *log_index) {
    const mf_config *config = model->config;
    const int n = model->n_assets;
    const int32_t steps = model->steps;
    mf_pcg64 diffusion, mixing, jumps;
    mf_rng_stream(&diffusion, config->run.seed, MF_STREAM_DIFFUSION, (uint64_t)path);
    mf_rng_stream(&mixing, config->run.seed, MF_STREAM_MIXING, (uint64_t)path);
    mf_rng_stream(&jumps, config->run.seed, MF_STREAM_JUMPS, (uint64_t)path);
    const double nu = config->market.student_t_nu;
    for (int64_t i = 0; i < (int64_t)steps * n; i++)
        ws->normals[i] = mf_rng_normal(&diffusion);
    for (int32_t t = 0; t < steps; t++) {
        ws->mixing[t] = isinf(nu) ? 1.0 : sqrt((nu - 2.0) / mf_rng_chisq(&mixing, nu));
        double jump = 0;
        if (model->jump_rate_step > 0) {
            const uint64_t count = mf_rng_poisson(&jumps, model->jump_rate_step);
            for (uint64_t j = 0; j < count; j++)
                jump +=
                    config->market.jump_mean + config->market.jump_stdev * mf_rng_normal(&jumps);
        }
        ws->jumps[t] = jump;
    }
    for (int k = 0; k < n; k++)
        log_index[k] = model->log_price0[k];
    if (model->replay_log_index)
        for (int64_t i = 0; i < (int64_t)(steps + 1) * n; i++)
            if (model->replayed[i % n]) log_index[i] = model->replay_log_index[i];
    mf_index_path(&model->market, steps, ws->normals, ws->mixing, ws->jumps, model->stress,
                  model->replayed, log_index);
}

void mf_model_index_path(const mf_model *model, mf_workspace *workspace, int64_t path,
                         double *log_index) {
    generate_index_path(model, workspace, path, log_index);
}

static double composite_log_price(const mf_model *model, const mf_asset_state *assets, int mark) {
    double value = 0;
    for (int k = 0; k < model->n_assets; k++) {
        const double level = mark ? log(assets[k].mark) : assets[k].log_index;
        value += model->composite_weight[k] * (level - model->log_price0[k]);
    }
    return value;
}

/* Hand this round's new flags to the engines: accounts in id order, so each path's FIFO
 * receives them in account order whatever the thread count. */
static mf_status collect_flags(const mf_model *model, mf_workspace *ws, int batch, int32_t step,
                               int64_t *new_per_path) {
    const mf_book_view *book = &model->book;
    for (int b = 0; b < batch; b++)
        new_per_path[b] = 0;
    for (int64_t chunk = 0; chunk < ws->n_chunks; chunk++) {
        if (ws->chunk_flags[chunk] == 0) continue;
        const int64_t begin = chunk * MF_CHUNK_ACCOUNTS;
        int64_t end = begin + MF_CHUNK_ACCOUNTS;
        if (end > book->n_accounts) end = book->n_accounts;
        for (int64_t account = begin; account < end; account++) {
            const int64_t first = book->account_first[account];
            const int32_t count = book->account_positions[account];
            uint8_t *account_states = ws->account_state + account * ws->batch;
            for (int b = 0; b < batch; b++) {
                if (book->account_mode[account] == MF_ACCOUNT_CROSS) {
                    if (!(account_states[b] & MF_ACCOUNT_NEW)) continue;
                    MF_CHECK(ensure_engine_capacity(ws, b, count, 1));
                    mf_engine_state *engine = &ws->engines[b];
                    const int32_t record =
                        mf_engine_open_record(engine, account, book->account_collateral[account]);
                    for (int64_t p = first; p < first + count; p++) {
                        ws->position_state[p * ws->batch + b] = MF_POSITION_QUEUED;
                        mf_engine_enqueue(engine, book->position_asset[p], p,
                                          book->position_quantity[p], record);
                    }
                    account_states[b] &= (uint8_t)~MF_ACCOUNT_NEW;
                } else {
                    int any = 0;
                    for (int64_t p = first; p < first + count; p++) {
                        uint8_t *state = &ws->position_state[p * ws->batch + b];
                        if (*state != MF_POSITION_NEW) continue;
                        MF_CHECK(ensure_engine_capacity(ws, b, 1, 1));
                        mf_engine_state *engine = &ws->engines[b];
                        const int32_t record =
                            mf_engine_open_record(engine, account, book->position_margin[p]);
                        mf_engine_enqueue(engine, book->position_asset[p], p,
                                          book->position_quantity[p], record);
                        *state = MF_POSITION_QUEUED;
                        any = 1;
                    }
                    if (!any) continue;
                }
                new_per_path[b]++;
                if (!(account_states[b] & MF_ACCOUNT_COUNTED)) {
                    account_states[b] |= MF_ACCOUNT_COUNTED;
                    ws->step_accounts[(int64_t)b * ws->steps + step] += 1;
                }
            }
        }
    }
    return MF_OK;
}

/* Every dollar of path b at the end of the horizon (see mf_path_ledger). */
static void close_ledger(const mf_model *model, mf_workspace *ws, int b, mf_path_ledger *ledger) {
    const mf_book_view *book = &model->book;
    const mf_engine_state *engine = &ws->engines[b];
    const mf_asset_state *assets = ws->assets[b];
    double equity = engine->trader_kept;
    double pnl = engine->realized_trading_pnl;
    for (int64_t a = 0; a < book->n_accounts; a++) {
        const uint8_t account_state = ws->account_state[a * ws->batch + b];
        const int64_t first = book->account_first[a];
        const int64_t stop = first + book->account_positions[a];
        if (book->account_mode[a] == MF_ACCOUNT_CROSS && (account_state & MF_ACCOUNT_LIQUIDATING))
            continue; /* in the engine: counted from its records below */
        if (book->account_mode[a] == MF_ACCOUNT_CROSS) equity += book->account_collateral[a];
        for (int64_t p = first; p < stop; p++) {
            if (ws->position_state[p * ws->batch + b] != MF_POSITION_OPEN) continue;
            const double open_pnl =
                book->position_quantity[p] *
                (assets[book->position_asset[p]].mark - book->position_entry[p]);
            pnl += open_pnl;
            equity += book->position_margin[p] + open_pnl;
        }
    }
    /* Liquidations still in progress: their equity so far plus the unexecuted remainder. */
    for (int32_t r = 0; r < engine->n_records; r++)
        if (!engine->records[r].settled)
            equity += engine->records[r].base_equity + engine->records[r].realized_pnl;
    for (int32_t o = 0; o < engine->n_orders; o++) {
        const mf_order *order = &engine->orders[o];
        if (order->remaining == 0) continue;
        const int asset = book->position_asset[order->position];
        const double open_pnl =
            order->remaining * (assets[asset].mark - book->position_entry[order->position]);
        pnl += open_pnl;
        equity += open_pnl;
    }
    ledger->initial_collateral = model->initial_trader_collateral;
    ledger->initial_fund = model->config->venue.insurance_fund_usd;
    ledger->trading_pnl = pnl;
    ledger->final_trader_equity = equity;
    ledger->final_fund = engine->fund;
    ledger->uncovered_deficit = engine->uncovered_deficit;
}

static mf_status simulate_batch(const mf_model *model, mf_workspace *ws, int64_t first_path,
                                int batch, mf_block_result *block) {
    const mf_config *config = model->config;
    const mf_book_view *book = &model->book;
    const int n = model->n_assets;
    const int32_t steps = model->steps;
    const int stride = ws->batch;

    for (int b = 0; b < batch; b++)
        generate_index_path(model, ws, first_path + b,
                            ws->log_index + (int64_t)b * (steps + 1) * n);

    memset(ws->account_state, 0, (size_t)book->n_accounts * stride);
    memset(ws->position_state, 0, (size_t)book->n_positions * stride);
    memset(ws->step_notional, 0, sizeof(double) * (size_t)stride * steps);
    memset(ws->step_accounts, 0, sizeof(double) * (size_t)stride * steps);
    uint8_t active[MF_MAX_BATCH] = {0};
    for (int b = 0; b < batch; b++) {
        mf_engine_reset(&ws->engines[b], config->venue.insurance_fund_usd);
        ws->max_rounds[b] = 0;
        for (int k = 0; k < n; k++)
            mf_asset_state_init(&model->market, k, ws->log_index[(int64_t)b * (steps + 1) * n + k],
                                &ws->assets[b][k]);
        ws->composite_mark[(int64_t)b * (steps + 1)] = 0;
        ws->composite_index[(int64_t)b * (steps + 1)] = 0;
    }
    mf_trace *trace = ws->trace;
    int trace_b = -1;
    if (trace && trace->path >= first_path && trace->path < first_path + batch) {
        trace_b = (int)(trace->path - first_path);
        for (int k = 0; k < n; k++) {
            trace->mark[k] = ws->assets[trace_b][k].mark;
            trace->index[k] = exp(ws->assets[trace_b][k].log_index);
        }
    }

    for (int32_t t = 0; t < steps; t++) {
        for (int b = 0; b < batch; b++) {
            const double *row = ws->log_index + (int64_t)b * (steps + 1) * n + (int64_t)(t + 1) * n;
            for (int k = 0; k < n; k++) {
                mf_asset_step(&model->market, k, row[k], &ws->assets[b][k]);
                ws->budget[b][k] = model->engine.throughput_usd[k];
            }
            active[b] = 1;
        }
        for (int32_t round = 0; round < config->venue.max_rounds; round++) {
            for (int k = 0; k < n; k++)
                for (int b = 0; b < stride; b++)
                    ws->marks[k * stride + b] = b < batch ? ws->assets[b][k].mark : 1.0;
            int64_t flagged = 0;
#pragma omp parallel for schedule(dynamic, 4) reduction(+ : flagged)
            for (int64_t chunk = 0; chunk < ws->n_chunks; chunk++) {
                const int64_t begin = chunk * MF_CHUNK_ACCOUNTS;
                int64_t end = begin + MF_CHUNK_ACCOUNTS;
                if (end > book->n_accounts) end = book->n_accounts;
                ws->chunk_flags[chunk] =
                    model->reference_kernel
                        ? mf_margin_check(book, &model->tiers, begin, end, stride, ws->marks,
                                          active, ws->account_state, ws->position_state)
                        : mf_margin_check_filtered(book, &model->tiers, model->safe_price, begin,
                                                   end, stride, ws->marks, active,
                                                   ws->account_state, ws->position_state);
                flagged += ws->chunk_flags[chunk];
            }
            int64_t new_per_path[MF_MAX_BATCH] = {0};
            if (flagged > 0) MF_CHECK(collect_flags(model, ws, batch, t, new_per_path));
            int any_active = 0;
            for (int b = 0; b < batch; b++) {
                if (!active[b]) continue;
                const mf_round_outcome outcome =
                    mf_engine_round(&model->engine, &model->market, book, ws->assets[b],
                                    ws->budget[b], &ws->engines[b]);
                ws->step_notional[(int64_t)b * steps + t] += outcome.executed_notional;
                if (new_per_path[b] == 0 && outcome.executed_orders == 0) {
                    active[b] = 0;
                } else {
                    if (round + 1 > ws->max_rounds[b]) ws->max_rounds[b] = round + 1;
                    any_active = 1;
                }
            }
            if (!any_active) break;
        }
        for (int b = 0; b < batch; b++) {
            ws->step_fund[(int64_t)b * steps + t] = ws->engines[b].fund;
            ws->composite_mark[(int64_t)b * (steps + 1) + t + 1] =
                composite_log_price(model, ws->assets[b], 1);
            ws->composite_index[(int64_t)b * (steps + 1) + t + 1] =
                composite_log_price(model, ws->assets[b], 0);
        }
        if (trace_b >= 0) {
            for (int k = 0; k < n; k++) {
                trace->mark[(int64_t)(t + 1) * n + k] = ws->assets[trace_b][k].mark;
                trace->index[(int64_t)(t + 1) * n + k] = exp(ws->assets[trace_b][k].log_index);
            }
            trace->liquidated_notional[t] = ws->step_notional[(int64_t)trace_b * steps + t];
        }
    }

    /* Path results, in path order. */
    for (int b = 0; b < batch; b++) {
        const int64_t path = first_path + b;
        const int64_t local = path - block->first_path;
        const double *notional = ws->step_notional + (int64_t)b * steps;
        const double *accounts = ws->step_accounts + (int64_t)b * steps;
        const double *fund = ws->step_fund + (int64_t)b * steps;
        double *profile_notional = block->profile + MF_PROFILE_LIQUIDATED_NOTIONAL * (int64_t)steps;
        double *profile_accounts = block->profile + MF_PROFILE_LIQUIDATED_ACCOUNTS * (int64_t)steps;
        double *profile_fund = block->profile + MF_PROFILE_FUND * (int64_t)steps;
        for (int32_t t = 0; t < steps; t++) {
            profile_notional[t] += notional[t];
            profile_accounts[t] += accounts[t];
            profile_fund[t] += fund[t];
        }
        const int32_t n_cascades = mf_find_cascades(
            steps, notional, accounts, ws->composite_mark + (int64_t)b * (steps + 1),
            ws->composite_index + (int64_t)b * (steps + 1), config->cascade.threshold_usd,
            config->cascade.gap_steps, ws->cascades, steps);
        mf_path_row *row = &block->rows[local];
        memset(row, 0, sizeof *row);
        row->path_index = path;
        for (int32_t t = 0; t < steps; t++) {
            row->liquidated_notional += notional[t];
            row->liquidated_accounts += (int64_t)accounts[t];
        }
        const mf_engine_state *engine = &ws->engines[b];
        row->bad_debt = engine->bad_debt;
        row->uncovered_deficit = engine->uncovered_deficit;
        row->fund_min = engine->fund_min;
        for (int k = 0; k < n; k++) {
            if (ws->assets[b][k].max_mark_drawdown > row->mark_drawdown)
                row->mark_drawdown = ws->assets[b][k].max_mark_drawdown;
            if (ws->assets[b][k].max_index_drawdown > row->index_drawdown)
                row->index_drawdown = ws->assets[b][k].max_index_drawdown;
        }
        row->cascades = n_cascades;
        for (int32_t c = 0; c < n_cascades; c++) {
            if (ws->cascades[c].notional > row->largest_cascade)
                row->largest_cascade = ws->cascades[c].notional;
            const mf_cascade *cascade = &ws->cascades[c];
            double fields[MF_CASCADE_FIELDS];
            fields[MF_CASCADE_NOTIONAL] = cascade->notional;
            fields[MF_CASCADE_ACCOUNTS] = cascade->accounts;
            fields[MF_CASCADE_AMPLIFICATION] = cascade->amplification;
            fields[MF_CASCADE_DURATION] = (double)(cascade->end - cascade->start + 1);
            MF_CHECK(mf_block_result_add_cascade(block, fields));
        }
        row->max_rounds = ws->max_rounds[b];
        if (b == trace_b && trace->liquidated_accounts)
            for (int64_t a = 0; a < book->n_accounts; a++)
                trace->liquidated_accounts[a] =
                    (ws->account_state[a * stride + b] & MF_ACCOUNT_COUNTED) != 0;
        close_ledger(model, ws, b, &block->ledgers[local]);
    }
    return MF_OK;
}

mf_status mf_simulate_block(const mf_model *model, mf_workspace *ws, mf_block_result *block) {
    memset(block->profile, 0, MF_PROFILE_SERIES * sizeof(double) * (size_t)model->steps);
    block->n_cascades = 0;
    for (int64_t offset = 0; offset < block->n_paths; offset += ws->batch) {
        int batch = ws->batch;
        if (block->n_paths - offset < batch) batch = (int)(block->n_paths - offset);
        MF_CHECK(simulate_batch(model, ws, block->first_path + offset, batch, block));
    }
    return MF_OK;
}
