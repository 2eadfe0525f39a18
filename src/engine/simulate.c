#include "simulate.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deleverage.h"
#include "event_checks.h"
#include "rng.h"
#include "vault.h"

/* Accounts per margin work item: large enough to amortise scheduling, small enough that the
 * serial scan for new flags only visits chunks that have some. */
#define MF_CHUNK_ACCOUNTS 1024
/* The margin phase runs on several threads only when one round's sweep is large enough to pay
 * for a parallel region (accounts x batch paths); below, a region costs more than it saves,
 * the more so on a busy machine (docs/performance.md). */
#define MF_PARALLEL_MIN_ACCOUNT_PATHS ((int64_t)1 << 21)

/* Per-path counts the row reports beyond the engine's and the fund's. */
typedef struct {
    double liquidated_long, liquidated_short; /* USD closed by side (engine fills, takeovers) */
    int64_t partial_liquidations;             /* partial chunks started */
    int64_t full_liquidations;                /* whole positions / accounts sent to the engine */
    double funding_paid, funding_received;    /* traders' gross funding flows, USD */
    int64_t breaker_trips, halted_steps;
    double liquidated_by_asset[MF_MAX_ASSETS]; /* USD closed per asset */
    int64_t long_accounts, short_accounts;     /* accounts with a long / short liquidated */
} path_tally;

/* A partially liquidated position (isolated) or account (cross) that may not be liquidated
 * again before step `release`. */
typedef struct {
    int64_t entity;
    int32_t release;
    int is_account;
} cooling_entry;

/* What a path's full liquidations took out of the book (while positions are the store's): the
 * collateral and margins of the entities handed to the engine, and per asset their coins and entry
 * value, so that the end-of-path ledger counts the rest of the book from the venue's totals. */
typedef struct {
    double collateral; /* account collateral (whole accounts) plus position margins */
    mf_position_totals positions;
} excluded_book;

/* One margin work item: a model's accounts inside one chunk of account ids. */
typedef struct {
    int group;
    int64_t chunk;
    int64_t begin, end; /* range in the group's account list */
} margin_item;

struct mf_workspace {
    int batch;
    int32_t steps;
    int n_assets;
    int64_t n_chunks;
    int64_t n_items;
    margin_item *items;       /* n_items, chunk-major */
    int64_t *item_flags;      /* n_items */
    margin_item *sweep_items; /* the items of groups event-driven checks do not cover */
    int64_t n_sweep_items;
    mf_event_checks *events;   /* event-driven checks, or NULL (no event model in use) */
    int64_t *flagged_accounts; /* one round's accounts with new flags (event-driven rounds) */
    int64_t n_flagged, flagged_capacity;
    int parallel_margin;     /* 1: the margin phase is worth a parallel region */
    int positions_change;    /* mf_liquidation_policy.live_positions */
    int special_contracts;   /* inverse or dated markets (the book's contracts) */
    int sweep_batch;         /* ADL or socialised loss on a path of this batch: sweep to its end */
    int live_ready;          /* the live book holds the store's positions (set once if they never
                                change, else reset every batch) */
    int count_every_account; /* tests: ledgers and open interest summed account by account */
    int64_t n_accounts, n_positions;
    double *log_index;       /* batch * (steps + 1) * K */
    double *normals;         /* steps * K (one path at a time) */
    double *mixing;          /* steps */
    double *jumps;           /* steps */
    uint8_t *account_state;  /* n_accounts * batch */
    uint8_t *position_state; /* n_positions * batch */
    int64_t *chunk_flags;    /* n_chunks */
    mf_engine_state engines[MF_MAX_BATCH];
    mf_settlement_state money[MF_MAX_BATCH];
    int32_t order_capacity[MF_MAX_BATCH];
    int32_t record_capacity[MF_MAX_BATCH];
    mf_index_state index[MF_MAX_BATCH][MF_MAX_ASSETS];      /* shared by every venue */
    mf_venue_book_state books[MF_MAX_BATCH][MF_MAX_ASSETS]; /* venue 0 */
    double *marks;                                          /* K * batch */
    double *funding_index;     /* K * batch: cumulative funding per coin (0 today) */
    double *maintenance_scale; /* K * batch: maintenance-rate scale (1 today) */
    int vectors_neutral;       /* 1 while every funding index is 0 and every scale 1 */
    double budget[MF_MAX_BATCH][MF_MAX_ASSETS];
    double *step_notional;   /* batch * steps */
    double *step_accounts;   /* batch * steps */
    double *step_fund;       /* batch * steps */
    double *composite_mark;  /* batch * (steps + 1) */
    double *composite_index; /* batch * (steps + 1) */
    int32_t max_rounds[MF_MAX_BATCH];
    mf_cascade *cascades; /* steps */
    /* The live book (mf_liquidation_policy.live_book), else NULL: per-path positions. */
    double *live_quantity; /* n_positions * batch */
    double *live_cash;     /* n_positions * batch */
    mf_live_book live;
    int64_t *scratch_index; /* n_positions: ADL ranking, socialised-loss payers */
    double *scratch_key;    /* n_positions */
    mf_vault_state vaults[MF_MAX_BATCH];
    /* Funding, dynamic margin and the breaker (mf_market_rules), allocated when on. */
    double *premium_sum;   /* K * batch: premium samples since the last payment */
    int32_t premium_count; /* samples since the last payment (the same on every path) */
    double *ewma_variance; /* K * batch: EWMA of squared one-step log returns of the mark */
    double *previous_mark; /* K * batch */
    double *mark_history;  /* batch * K * (window + 1): end-of-step marks, a ring */
    int32_t halt_until[MF_MAX_BATCH][MF_MAX_ASSETS];   /* first step not halted */
    int32_t window_start[MF_MAX_BATCH][MF_MAX_ASSETS]; /* earliest time the look-back may use */
    path_tally tally[MF_MAX_BATCH];
    cooling_entry *cooling[MF_MAX_BATCH]; /* partially liquidated entities cooling down */
    int32_t n_cooling[MF_MAX_BATCH], cooling_capacity[MF_MAX_BATCH];
    /* While positions are the store's, only liquidated accounts (listed here) and the accounts the
     * event cursors passed have non-zero state bytes, so a batch clears just those. */
    int states_clean;               /* 1: every state byte is 0 */
    int64_t *touched[MF_MAX_BATCH]; /* accounts handed to the engine on the path (repeats ok) */
    int64_t n_touched[MF_MAX_BATCH], touched_capacity[MF_MAX_BATCH];
    excluded_book excluded[MF_MAX_BATCH];
    mf_trace *trace;
    const volatile sig_atomic_t *stop; /* polled between steps, or NULL */
};

/* ---------------------------------------------------------------- model */

mf_status mf_model_build_with(mf_model *model, const mf_config *config, const mf_store *store,
                              const mf_margin_model *models, int n_models) {
    memset(model, 0, sizeof *model);
    model->config = config;
    model->steps = config->run.steps;
    return mf_scenario_build_with(&model->scenario, config, store, models, n_models);
}

mf_status mf_model_build(mf_model *model, const mf_config *config, const mf_store *store) {
    return mf_model_build_with(model, config, store, mf_margin_models, mf_n_margin_models);
}

void mf_model_free(mf_model *model) {
    mf_scenario_free(&model->scenario);
    memset(model, 0, sizeof *model);
}

/* ---------------------------------------------------------------- workspace */

/* Work items: for every chunk of account ids, each model's accounts in it (chunk-major), so a
 * chunk's flag count is the sum of its items'. */
static mf_status build_margin_items(mf_workspace *ws, const mf_venue *venue) {
    MF_ALLOC(ws->items, ws->n_chunks * MF_N_MODES + 1);
    int64_t cursor[MF_N_MODES] = {0};
    ws->n_items = 0;
    for (int64_t chunk = 0; chunk < ws->n_chunks; chunk++) {
        const int64_t stop = (chunk + 1) * MF_CHUNK_ACCOUNTS;
        for (int g = 0; g < venue->n_groups; g++) {
            const mf_margin_group *group = &venue->groups[g];
            const int64_t begin = cursor[g];
            while (cursor[g] < group->n_accounts && group->accounts[cursor[g]] < stop)
                cursor[g]++;
            if (cursor[g] == begin) continue;
            ws->items[ws->n_items++] = (margin_item){g, chunk, begin, cursor[g]};
        }
    }
    MF_ALLOC(ws->item_flags, ws->n_items + 1);
    return MF_OK;
}

mf_status mf_workspace_create(mf_workspace **out, const mf_model *model) {
    const mf_scenario *scenario = &model->scenario;
    const mf_venue *venue = &scenario->venues[0];
    mf_workspace *ws = NULL;
    MF_ALLOC(ws, 1);
    *out = ws;
    const int batch = scenario->run.batch_paths;
    const int n = scenario->run.n_assets;
    const int32_t steps = scenario->run.steps;
    ws->batch = batch;
    ws->steps = steps;
    ws->n_assets = n;
    ws->n_chunks = (venue->book.n_accounts + MF_CHUNK_ACCOUNTS - 1) / MF_CHUNK_ACCOUNTS;
    ws->n_accounts = venue->book.n_accounts;
    ws->n_positions = venue->book.n_positions;
    mf_workspace_set_parallel_threshold(ws, MF_PARALLEL_MIN_ACCOUNT_PATHS);
    MF_CHECK(build_margin_items(ws, venue));
    MF_CHECK(mf_event_checks_create(&ws->events, venue, batch));
    ws->positions_change = venue->liquidation.live_positions;
    ws->special_contracts = venue->book.contracts != NULL;
    MF_ALLOC(ws->sweep_items, ws->n_items + 1);
    for (int64_t i = 0; i < ws->n_items; i++)
        if (!mf_event_checks_covers(ws->events, ws->items[i].group))
            ws->sweep_items[ws->n_sweep_items++] = ws->items[i];
    MF_ALLOC(ws->log_index, (size_t)batch * (steps + 1) * n);
    MF_ALLOC(ws->normals, (size_t)steps * n);
    MF_ALLOC(ws->mixing, steps);
    MF_ALLOC(ws->jumps, steps);
    MF_ALLOC_LARGE(ws->account_state, (size_t)venue->book.n_accounts * batch);
    MF_ALLOC_LARGE(ws->position_state, (size_t)venue->book.n_positions * batch);
    ws->states_clean = 1; /* calloc */
    MF_ALLOC(ws->chunk_flags, ws->n_chunks);
    MF_ALLOC(ws->marks, (size_t)n * batch);
    MF_ALLOC(ws->funding_index, (size_t)n * batch);
    MF_ALLOC(ws->maintenance_scale, (size_t)n * batch);
    MF_ALLOC(ws->step_notional, (size_t)batch * steps);
    MF_ALLOC(ws->step_accounts, (size_t)batch * steps);
    MF_ALLOC(ws->step_fund, (size_t)batch * steps);
    MF_ALLOC(ws->composite_mark, (size_t)batch * (steps + 1));
    MF_ALLOC(ws->composite_index, (size_t)batch * (steps + 1));
    MF_ALLOC(ws->cascades, steps);
    const mf_market_rules *rules = &venue->rules;
    if (rules->funding) MF_ALLOC(ws->premium_sum, (size_t)n * batch);
    if (rules->dynamic) {
        MF_ALLOC(ws->ewma_variance, (size_t)n * batch);
        MF_ALLOC(ws->previous_mark, (size_t)n * batch);
    }
    if (rules->breaker)
        MF_ALLOC(ws->mark_history, (size_t)batch * n * (rules->breaker_window_steps + 1));
    if (venue->liquidation.live_book) {
        const size_t cells = (size_t)venue->book.n_positions * batch;
        MF_ALLOC(ws->live_quantity, cells);
        MF_ALLOC(ws->live_cash, cells);
        MF_ALLOC(ws->scratch_index, venue->book.n_positions + 1);
        MF_ALLOC(ws->scratch_key, venue->book.n_positions + 1);
        ws->live = (mf_live_book){ws->live_quantity, ws->live_cash};
    }
    for (int b = 0; b < batch; b++) {
        ws->order_capacity[b] = 1024;
        ws->record_capacity[b] = 1024;
        MF_ALLOC(ws->engines[b].orders, ws->order_capacity[b]);
        MF_ALLOC(ws->engines[b].records, ws->record_capacity[b]);
        MF_ALLOC(ws->engines[b].closed, ws->record_capacity[b]);
    }
    return MF_OK;
}

void mf_workspace_free(mf_workspace *ws) {
    if (!ws) return;
    free(ws->items);
    free(ws->item_flags);
    free(ws->sweep_items);
    mf_event_checks_free(ws->events);
    free(ws->flagged_accounts);
    free(ws->log_index);
    free(ws->normals);
    free(ws->mixing);
    free(ws->jumps);
    free(ws->account_state);
    free(ws->position_state);
    free(ws->chunk_flags);
    free(ws->marks);
    free(ws->funding_index);
    free(ws->maintenance_scale);
    free(ws->step_notional);
    free(ws->step_accounts);
    free(ws->step_fund);
    free(ws->composite_mark);
    free(ws->composite_index);
    free(ws->cascades);
    free(ws->premium_sum);
    free(ws->ewma_variance);
    free(ws->previous_mark);
    free(ws->mark_history);
    free(ws->live_quantity);
    free(ws->live_cash);
    free(ws->scratch_index);
    free(ws->scratch_key);
    for (int b = 0; b < MF_MAX_BATCH; b++) {
        free(ws->cooling[b]);
        free(ws->touched[b]);
        free(ws->engines[b].orders);
        free(ws->engines[b].records);
        free(ws->engines[b].closed);
    }
    free(ws);
}

void mf_workspace_set_trace(mf_workspace *ws, mf_trace *trace) {
    ws->trace = trace;
}

void mf_workspace_set_stop_flag(mf_workspace *ws, const volatile sig_atomic_t *stop) {
    ws->stop = stop;
}

void mf_workspace_set_parallel_threshold(mf_workspace *ws, int64_t min_account_paths) {
    ws->parallel_margin = ws->n_accounts * ws->batch >= min_account_paths;
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
        int32_t *closed = realloc(engine->closed, (size_t)capacity * sizeof *closed);
        if (!closed) return MF_FAIL(MF_ERR_MEMORY, "out of memory growing liquidation records");
        engine->closed = closed;
        ws->record_capacity[b] = (int32_t)capacity;
    }
    return MF_OK;
}

/* A heavy path (a crash liquidates millions of accounts at 10^7) grows its slot's pools; the
 * next batch starts them small again, so one heavy path does not hold its memory for the rest
 * of the run. Pools grow back by doubling (ensure_engine_capacity). */
#define MF_KEEP_POOL_ITEMS ((int64_t)1 << 16)

static mf_status trim_path_pools(mf_workspace *ws) {
    for (int b = 0; b < ws->batch; b++) {
        mf_engine_state *engine = &ws->engines[b];
        if (ws->touched_capacity[b] > MF_KEEP_POOL_ITEMS) {
            free(ws->touched[b]);
            ws->touched[b] = NULL;
            ws->touched_capacity[b] = 0;
        }
        if (ws->order_capacity[b] > MF_KEEP_POOL_ITEMS) {
            free(engine->orders);
            engine->orders = NULL;
            ws->order_capacity[b] = 1024;
            MF_ALLOC(engine->orders, ws->order_capacity[b]);
        }
        if (ws->record_capacity[b] > MF_KEEP_POOL_ITEMS) {
            free(engine->records);
            free(engine->closed);
            engine->records = NULL;
            engine->closed = NULL;
            ws->record_capacity[b] = 1024;
            MF_ALLOC(engine->records, ws->record_capacity[b]);
            MF_ALLOC(engine->closed, ws->record_capacity[b]);
        }
    }
    return MF_OK;
}

/* ---------------------------------------------------------------- the index path */

/* The path's exogenous index: replayed columns copied, the rest simulated from its streams. */
static void generate_index_path(const mf_scenario *scenario, mf_workspace *ws, int64_t path,
                                double *log_index) {
    const mf_index_model *index = &scenario->index;
    const int n = scenario->run.n_assets;
    const int32_t steps = scenario->run.steps;
    mf_pcg64 diffusion, mixing, jumps;
    mf_rng_stream(&diffusion, scenario->run.seed, MF_STREAM_DIFFUSION, (uint64_t)path);
    mf_rng_stream(&mixing, scenario->run.seed, MF_STREAM_MIXING, (uint64_t)path);
    mf_rng_stream(&jumps, scenario->run.seed, MF_STREAM_JUMPS, (uint64_t)path);
    const double nu = index->student_t_nu;
    for (int64_t i = 0; i < (int64_t)steps * n; i++)
        ws->normals[i] = mf_rng_normal(&diffusion);
    for (int32_t t = 0; t < steps; t++) {
        ws->mixing[t] = isinf(nu) ? 1.0 : sqrt((nu - 2.0) / mf_rng_chisq(&mixing, nu));
        double jump = 0;
        if (index->jump_rate_step > 0) {
            const uint64_t count = mf_rng_poisson(&jumps, index->jump_rate_step);
            for (uint64_t j = 0; j < count; j++)
                jump += index->jump_mean + index->jump_stdev * mf_rng_normal(&jumps);
        }
        ws->jumps[t] = jump;
    }
    for (int k = 0; k < n; k++)
        log_index[k] = index->log_price0[k];
    if (index->replay_log_index)
        for (int64_t i = 0; i < (int64_t)(steps + 1) * n; i++)
            if (index->replayed[i % n]) log_index[i] = index->replay_log_index[i];
    mf_index_path(&index->params, steps, ws->normals, ws->mixing, ws->jumps, index->stress,
                  index->replayed, log_index);
}

void mf_model_index_path(const mf_model *model, mf_workspace *workspace, int64_t path,
                         double *log_index) {
    generate_index_path(&model->scenario, workspace, path, log_index);
}

static double composite_log_price(const mf_scenario *scenario, const mf_venue *venue,
                                  const mf_index_state *index, const mf_venue_book_state *books,
                                  int mark) {
    double value = 0;
    for (int k = 0; k < scenario->run.n_assets; k++) {
        const double level = mark ? log(books[k].mark) : index[k].log_index;
        value += venue->composite_weight[k] * (level - scenario->index.log_price0[k]);
    }
    return value;
}

/* ---------------------------------------------------------------- the step's phases */

/* What one step of one batch carries between its phases. */
typedef struct {
    const mf_scenario *scenario;
    mf_workspace *ws;
    int64_t first_path; /* the path of batch slot 0 */
    int batch;          /* paths in this batch (<= ws->batch) */
    int32_t t;
    int trace_b;                    /* the traced path's slot in the batch, or -1 */
    double trace_long, trace_short; /* the traced path's liquidations by side in this step */
    int32_t trace_rounds;           /* the traced path's rounds in this step */
    uint8_t active[MF_MAX_BATCH];
} step_context;

/* Index advance (shared by every venue). */
static mf_status phase_index(step_context *step) {
    mf_workspace *ws = step->ws;
    const int n = ws->n_assets;
    for (int b = 0; b < step->batch; b++) {
        const double *row =
            ws->log_index + (int64_t)b * (ws->steps + 1) * n + (int64_t)(step->t + 1) * n;
        for (int k = 0; k < n; k++)
            mf_index_advance(row[k], &ws->index[b][k]);
    }
    return MF_OK;
}

/* Partially liquidated positions and accounts whose cooldown ends by this step may be checked
 * again. The list keeps its order (entries are appended as chunks complete). */
static void release_entity(const mf_venue *venue, mf_workspace *ws, int b, int64_t entity,
                           int is_account) {
    if (is_account)
        ws->account_state[entity * ws->batch + b] &= (uint8_t)~MF_ACCOUNT_PARTIAL;
    else if (ws->position_state[entity * ws->batch + b] == MF_POSITION_PARTIAL)
        ws->position_state[entity * ws->batch + b] = MF_POSITION_OPEN; /* not if it expired */
    /* Smaller now, with cash: checked next round and armed from the live book. */
    mf_event_checks_touch(ws->events, venue,
                          is_account ? entity : venue->book.position_account[entity], b);
}

static void release_cooled(step_context *step) {
    mf_workspace *ws = step->ws;
    for (int b = 0; b < step->batch; b++) {
        int32_t kept = 0;
        for (int32_t i = 0; i < ws->n_cooling[b]; i++) {
            const cooling_entry entry = ws->cooling[b][i];
            if (entry.release <= step->t)
                release_entity(&step->scenario->venues[0], ws, b, entry.entity, entry.is_account);
            else
                ws->cooling[b][kept++] = entry;
        }
        ws->n_cooling[b] = kept;
    }
}

static mf_status add_cooling(mf_workspace *ws, int b, int64_t entity, int is_account,
                             int32_t release) {
    if (ws->n_cooling[b] == ws->cooling_capacity[b]) {
        const int64_t capacity = 2 * (int64_t)ws->cooling_capacity[b] + 64;
        if (capacity > INT32_MAX)
            return MF_FAIL(MF_ERR_MEMORY, "too many partial liquidations cooling down");
        cooling_entry *grown = realloc(ws->cooling[b], (size_t)capacity * sizeof *grown);
        if (!grown) return MF_FAIL(MF_ERR_MEMORY, "out of memory for partial liquidations");
        ws->cooling[b] = grown;
        ws->cooling_capacity[b] = (int32_t)capacity;
    }
    ws->cooling[b][ws->n_cooling[b]++] = (cooling_entry){entity, release, is_account};
    return MF_OK;
}

/* Venue prices: impact decay, mark, depth; the liquidation engine's step budget. */
static mf_status phase_venue_prices(step_context *step) {
    mf_workspace *ws = step->ws;
    const mf_venue *venue = &step->scenario->venues[0];
    for (int b = 0; b < step->batch && b < MF_MAX_BATCH; b++) {
        int halted = 0;
        for (int k = 0; k < ws->n_assets; k++) {
            mf_venue_price(&venue->market, k, &ws->index[b][k], &ws->books[b][k]);
            ws->budget[b][k] = venue->engine.throughput_usd[k];
            /* A tripped breaker: the asset's liquidations queue but do not execute. */
            if (step->t < ws->halt_until[b][k]) {
                ws->budget[b][k] = 0;
                halted = 1;
            }
        }
        ws->tally[b].halted_steps += halted;
        step->active[b] = 1;
    }
    if (venue->liquidation.partial) release_cooled(step);
    return MF_OK;
}

/* The traders' open coins per asset on path b, by side: positions not in the engine (live
 * quantities with the live book) and the unexecuted remainder of whole liquidations (a partial
 * chunk's remainder is still in its position's live quantity). */
static void open_quantities(const mf_venue *venue, const mf_workspace *ws, int b, double *longs,
                            double *shorts) {
    const mf_book_view *book = &venue->book;
    const int stride = ws->batch;
    for (int k = 0; k < ws->n_assets; k++)
        longs[k] = shorts[k] = 0;
    const int from_totals = !ws->positions_change && !ws->count_every_account;
    if (from_totals) /* the book less what went to the engine: O(assets) */
        for (int k = 0; k < ws->n_assets; k++) {
            longs[k] = venue->book_totals.longs[k] - ws->excluded[b].positions.longs[k];
            shorts[k] = venue->book_totals.shorts[k] - ws->excluded[b].positions.shorts[k];
        }
    for (int64_t a = 0; a < book->n_accounts && !from_totals; a++) {
        if (ws->account_state[a * stride + b] & MF_ACCOUNT_LIQUIDATING) continue;
        const int64_t first = book->account_first[a];
        const int64_t stop = first + book->account_positions[a];
        for (int64_t p = first; p < stop; p++) {
            const uint8_t state = ws->position_state[p * stride + b];
            if (state == MF_POSITION_QUEUED || state == MF_POSITION_CLOSED) continue;
            const double quantity =
                ws->live_quantity ? ws->live_quantity[p * stride + b] : book->position_quantity[p];
            if (quantity > 0)
                longs[book->position_asset[p]] += quantity;
            else
                shorts[book->position_asset[p]] -= quantity;
        }
    }
    const mf_engine_state *engine = &ws->engines[b];
    for (int32_t o = 0; o < engine->n_orders; o++) {
        const mf_order *order = &engine->orders[o];
        if (order->remaining == 0 || engine->records[order->record].partial) continue;
        if (order->remaining > 0)
            longs[book->position_asset[order->position]] += order->remaining;
        else
            shorts[book->position_asset[order->position]] -= order->remaining;
    }
}

/* Funding (docs/model.md, "Funding"): every step samples the premium (P - I) / I; at a payment
 * step the rate F = clamp(share (p + clamp(i - p, -c, c)), -cap, cap) from the mean premium p
 * since the last payment moves the cumulative index by F x the payment price: longs pay when it
 * rises. The margin models, fills and ledgers read the index (-q F per position). */
static mf_status phase_funding(step_context *step) {
    mf_workspace *ws = step->ws;
    const mf_venue *venue = &step->scenario->venues[0];
    const mf_market_rules *rules = &venue->rules;
    if (!rules->funding) return MF_OK;
    const int stride = ws->batch;
    const int n = ws->n_assets;
    if (step->t > 0 && step->t % rules->funding_interval_steps == 0 && ws->premium_count > 0) {
        for (int b = 0; b < step->batch; b++) {
            double longs[MF_MAX_ASSETS], shorts[MF_MAX_ASSETS];
            open_quantities(venue, ws, b, longs, shorts);
            for (int k = 0; k < n; k++) {
                const int64_t i = (int64_t)k * stride + b;
                const double premium = ws->premium_sum[i] / ws->premium_count;
                double spread = rules->funding_interest - premium;
                if (spread > rules->funding_clamp) spread = rules->funding_clamp;
                if (spread < -rules->funding_clamp) spread = -rules->funding_clamp;
                double rate = rules->funding_share * (premium + spread);
                if (rate > rules->funding_cap) rate = rules->funding_cap;
                if (rate < -rules->funding_cap) rate = -rules->funding_cap;
                const double price =
                    rules->funding_at_index ? exp(ws->index[b][k].log_index) : ws->books[b][k].mark;
                const double per_coin = rate * price;
                ws->funding_index[i] += per_coin;
                path_tally *tally = &ws->tally[b];
                tally->funding_paid += per_coin > 0 ? per_coin * longs[k] : -per_coin * shorts[k];
                tally->funding_received +=
                    per_coin > 0 ? per_coin * shorts[k] : -per_coin * longs[k];
                ws->premium_sum[i] = 0;
            }
        }
        ws->premium_count = 0;
        ws->vectors_neutral = 0;
        mf_event_checks_funding_changed(ws->events);
    }
    for (int b = 0; b < step->batch; b++)
        for (int k = 0; k < n; k++) {
            const double index = exp(ws->index[b][k].log_index);
            ws->premium_sum[(int64_t)k * stride + b] += (ws->books[b][k].mark - index) / index;
        }
    ws->premium_count++;
    return MF_OK;
}

/* Dynamic margin (docs/model.md, "Dynamic margin"): v = lambda v + (1 - lambda) r^2 from the
 * mark's one-step log return r, and every maintenance requirement of the asset is scaled by
 * min(cap, max(1, sqrt(v / v_ref))), v_ref the reference per-step variance. */
static mf_status phase_dynamic_margin(step_context *step) {
    mf_workspace *ws = step->ws;
    const mf_market_rules *rules = &step->scenario->venues[0].rules;
    if (!rules->dynamic) return MF_OK;
    const int stride = ws->batch;
    for (int b = 0; b < step->batch; b++)
        for (int k = 0; k < ws->n_assets; k++) {
            const int64_t i = (int64_t)k * stride + b;
            const double mark = ws->books[b][k].mark;
            const double r = log(mark / ws->previous_mark[i]);
            ws->previous_mark[i] = mark;
            ws->ewma_variance[i] =
                rules->dynamic_decay * ws->ewma_variance[i] + (1 - rules->dynamic_decay) * r * r;
            double scale = sqrt(ws->ewma_variance[i] / rules->dynamic_reference[k]);
            if (scale < 1) scale = 1;
            if (scale > rules->dynamic_cap) scale = rules->dynamic_cap;
            ws->maintenance_scale[i] = scale;
        }
    ws->vectors_neutral = 0;
    return MF_OK;
}

/* Whether an account has a new flag on any path: its state bytes and its positions' (contiguous)
 * scanned in one pass, without looking at what kind of model flagged it. */
static int has_new_flags(const uint8_t *account_states, const uint8_t *position_states,
                         int64_t n_position_bytes, int batch) {
    uint8_t any = 0;
    for (int b = 0; b < batch; b++)
        any |= account_states[b] & MF_ACCOUNT_NEW;
    for (int64_t i = 0; i < n_position_bytes; i++)
        any |= position_states[i] == MF_POSITION_NEW;
    return any != 0;
}

/* Event-driven rounds (event_checks.h): the event index's safe prices hold for every account
 * whose positions are still the store's. Partial liquidation and the backstop vault change only
 * accounts that were flagged, so pending ones, armed from the live book and checked again when
 * their cooldown ends. Auto-deleveraging and socialised loss change accounts anywhere in the
 * book: after either on a path, the batch sweeps to its end. Inverse and dated contracts value
 * positions otherwise: those venues sweep. */
static int event_round(const mf_workspace *ws) {
    return ws->events && !ws->special_contracts && !ws->sweep_batch;
}

/* Margin models: every model over its accounts, chunk by chunk (the groups event-driven checks
 * cover through their cursors and lists instead); returns the new flags, or -1 on error. */
static int64_t run_margin_models(step_context *step) {
    mf_workspace *ws = step->ws;
    const mf_venue *venue = &step->scenario->venues[0];
    const int stride = ws->batch;
    for (int k = 0; k < ws->n_assets; k++)
        for (int b = 0; b < stride; b++)
            ws->marks[k * stride + b] = b < step->batch ? ws->books[b][k].mark : 1.0;
    mf_margin_call base = {0};
    base.book = &venue->book;
    base.tiers = &venue->tiers;
    base.batch = stride;
    base.marks = ws->marks;
    base.vectors =
        (mf_market_vectors){ws->funding_index, ws->maintenance_scale, ws->vectors_neutral};
    base.active = step->active;
    base.account_state = ws->account_state;
    base.live = ws->live_quantity ? &ws->live : NULL;
    base.position_state = ws->position_state;
    const int events = event_round(ws);
    const margin_item *items = events ? ws->sweep_items : ws->items;
    const int64_t n_items = events ? ws->n_sweep_items : ws->n_items;
    int64_t flagged = 0;
    ws->n_flagged = 0;
    if (events) {
        /* One thread: a round's event work is small, and paths on several threads would write
         * neighbouring state bytes (path-minor layout) and fight over their cache lines; runs
         * use threads on whole blocks instead (src/run/run.c). */
        flagged =
            mf_event_checks_round(ws->events, venue, &base, step->batch, 0, &ws->flagged_accounts,
                                  &ws->n_flagged, &ws->flagged_capacity);
        if (flagged < 0) return -1;
    }
    int64_t swept = 0;
#pragma omp parallel for schedule(dynamic, 4) reduction(+ : swept) if (ws->parallel_margin && n_items > 0)
    for (int64_t i = 0; i < n_items; i++) {
        const margin_item *item = &items[i];
        const mf_margin_group *group = &venue->groups[item->group];
        mf_margin_call call = base;
        call.accounts = group->accounts;
        call.begin = item->begin;
        call.end = item->end;
        call.prepared = group->prepared;
        ws->item_flags[i] = group->model->check(&call);
        swept += ws->item_flags[i];
    }
    if (swept > 0 && !events) {
        for (int64_t chunk = 0; chunk < ws->n_chunks; chunk++)
            ws->chunk_flags[chunk] = 0;
        for (int64_t i = 0; i < n_items; i++)
            ws->chunk_flags[items[i].chunk] += ws->item_flags[i];
    }
    if (swept > 0 && events) {
        /* The sweep's flagged accounts join the event-driven ones: every account of an item
         * with flags that has a new flag on some path. */
        for (int64_t i = 0; i < n_items; i++) {
            if (ws->item_flags[i] == 0) continue;
            const mf_margin_group *group = &venue->groups[items[i].group];
            for (int64_t j = items[i].begin; j < items[i].end; j++) {
                const int64_t account = group->accounts[j];
                const int64_t first = venue->book.account_first[account];
                if (!has_new_flags(
                        ws->account_state + account * stride, ws->position_state + first * stride,
                        (int64_t)venue->book.account_positions[account] * stride, stride))
                    continue;
                if (ws->n_flagged == ws->flagged_capacity) {
                    const int64_t capacity = 2 * ws->flagged_capacity + 64;
                    int64_t *grown =
                        realloc(ws->flagged_accounts, sizeof *grown * (size_t)capacity);
                    if (!grown) {
                        MF_FAIL(MF_ERR_MEMORY, "out of memory collecting flagged accounts");
                        return -1;
                    }
                    ws->flagged_accounts = grown;
                    ws->flagged_capacity = capacity;
                }
                ws->flagged_accounts[ws->n_flagged++] = account;
            }
        }
    }
    return flagged + swept;
}

/* Path b of the batch as the deleverage kernels see it; marks and funding are filled here. */
static mf_path_book path_book(const mf_venue *venue, mf_workspace *ws, int b, double *marks,
                              double *funding) {
    for (int k = 0; k < ws->n_assets; k++) {
        marks[k] = ws->books[b][k].mark;
        funding[k] = ws->funding_index[(int64_t)k * ws->batch + b];
    }
    return (mf_path_book){&venue->book,
                          ws->batch,
                          b,
                          marks,
                          funding,
                          ws->live_quantity,
                          ws->live_cash,
                          ws->account_state,
                          ws->position_state,
                          ws->scratch_index,
                          ws->scratch_key};
}

/* What one flagged position (isolated) or account (cross) is liquidated as, on one path. */
typedef struct {
    int64_t account;
    int64_t first, stop; /* its positions */
    int is_account;
    double base; /* m (isolated) or C (cross), before the live cash */
} flagged_entity;

/* Maintenance (scaled), initial margin and gross notional of live positions [first, stop). */
static void entity_requirements(const mf_venue *venue, const mf_workspace *ws, int b,
                                const flagged_entity *entity, const double *marks,
                                double *maintenance, double *initial, double *notional) {
    const mf_book_view *book = &venue->book;
    *maintenance = *initial = *notional = 0;
    for (int64_t p = entity->first; p < entity->stop; p++) {
        const int asset = book->position_asset[p];
        const double size = fabs(ws->live_quantity[p * ws->batch + b]);
        const double value = mf_requirement_notional(book, p, size, marks[asset]);
        const int tier = mf_tier_index(&venue->tiers, asset, value);
        *maintenance +=
            (value * venue->tiers.mmr[asset][tier] - venue->tiers.cum_usd[asset][tier]) *
            ws->maintenance_scale[(int64_t)asset * ws->batch + b];
        *initial += value / venue->tiers.max_leverage[asset][tier];
        *notional += size * marks[asset];
    }
    if (entity->is_account && book->account_mode[entity->account] == MF_MODE_PORTFOLIO) {
        /* A portfolio account's requirement is its scenario grid's (kernels/margin_portfolio.c). */
        double net_quantity[MF_MAX_ASSETS] = {0}, scale[MF_MAX_ASSETS];
        for (int64_t p = entity->first; p < entity->stop; p++)
            net_quantity[book->position_asset[p]] += ws->live_quantity[p * ws->batch + b];
        for (int k = 0; k < ws->n_assets; k++)
            scale[k] = ws->maintenance_scale[(int64_t)k * ws->batch + b];
        *maintenance =
            mf_portfolio_requirement(&venue->tiers, ws->n_assets, net_quantity, marks, scale);
        *initial = *maintenance * venue->tiers.portfolio.initial_multiplier;
    }
}

static void set_entity_state(mf_workspace *ws, int b, const flagged_entity *entity,
                             uint8_t position_state) {
    if (entity->is_account) return;
    ws->position_state[entity->first * ws->batch + b] = position_state;
}

/* The backstop vault takes the entity over at the marks: no order, no impact; the trader's
 * remaining equity goes to the vault with the positions. */
static void vault_takeover(step_context *step, int b, const flagged_entity *entity,
                           const mf_path_book *path, double equity) {
    mf_workspace *ws = step->ws;
    const mf_book_view *book = &step->scenario->venues[0].book;
    mf_vault_state *vault = &ws->vaults[b];
    for (int64_t p = entity->first; p < entity->stop; p++) {
        const double quantity = ws->live_quantity[p * ws->batch + b];
        if (quantity == 0) continue;
        const int asset = book->position_asset[p];
        const double mark = path->marks[asset];
        ws->engines[b].realized_trading_pnl += quantity * (mark - book->position_entry[p]);
        ws->engines[b].realized_funding -= quantity * path->funding_index[asset];
        mf_vault_take(vault, asset, quantity, mark, path->funding_index[asset]);
        const double value = fabs(quantity) * mark;
        ws->step_notional[(int64_t)b * ws->steps + step->t] += value;
        if (quantity > 0)
            ws->tally[b].liquidated_long += value;
        else
            ws->tally[b].liquidated_short += value;
        ws->tally[b].liquidated_by_asset[asset] += value;
        if (b == step->trace_b) {
            if (quantity > 0)
                step->trace_long += value;
            else
                step->trace_short += value;
        }
    }
    if (!entity->is_account) /* an inverse market's coin margin, revalued at the mark */
        ws->engines[b].realized_trading_pnl +=
            mf_margin_value(book, entity->first, path->marks[book->position_asset[entity->first]]) -
            book->position_margin[entity->first];
    vault->cash += equity;
    vault->takeovers += 1;
    set_entity_state(ws, b, entity, MF_POSITION_QUEUED);
}

/* With the live book, a flagged entity may go to the backstop vault or into a partial chunk
 * (docs/model.md section 5) instead of whole to the engine: returns 1 when it did. */
static mf_status vault_or_partial(step_context *step, int b, const flagged_entity *entity,
                                  int *handled) {
    mf_workspace *ws = step->ws;
    const mf_venue *venue = &step->scenario->venues[0];
    const mf_liquidation_policy *policy = &venue->liquidation;
    const mf_book_view *book = &venue->book;
    *handled = 0;
    if (!policy->vault && !policy->partial) return MF_OK;
    double marks[MF_MAX_ASSETS], funding[MF_MAX_ASSETS];
    const mf_path_book path = path_book(venue, ws, b, marks, funding);
    const double equity =
        mf_path_equity(&path, entity->account, entity->is_account ? -1 : entity->first);
    double maintenance, initial, notional;
    entity_requirements(venue, ws, b, entity, marks, &maintenance, &initial, &notional);
    uint8_t *account_state = &ws->account_state[entity->account * ws->batch + b];
    if (policy->vault && mf_vault_equity(&ws->vaults[b], ws->n_assets, marks, funding) > 0 &&
        equity < policy->vault_takeover_fraction * maintenance) {
        vault_takeover(step, b, entity, &path, equity);
        *account_state &= (uint8_t)~MF_ACCOUNT_NEW;
        *handled = 1;
        return MF_OK;
    }
    if (!policy->partial || !(notional > policy->partial_min_notional)) return MF_OK;
    const double target = policy->partial_target_initial ? initial : maintenance;
    const double fraction =
        mf_partial_fraction(equity, target, notional, policy->partial_fee, policy->partial_chunk);
    if (!(fraction < 1)) return MF_OK;
    MF_CHECK(ensure_engine_capacity(ws, b, (int32_t)(entity->stop - entity->first), 1));
    mf_engine_state *engine = &ws->engines[b];
    const int32_t record = mf_engine_open_record(engine, entity->account, 0.0);
    engine->records[record].partial = 1;
    engine->records[record].position = entity->is_account ? -1 : entity->first;
    for (int64_t p = entity->first; p < entity->stop; p++) {
        const double quantity = ws->live_quantity[p * ws->batch + b];
        if (quantity != 0)
            mf_engine_enqueue(engine, book->position_asset[p], p, quantity * fraction, record);
    }
    if (entity->is_account)
        *account_state = (uint8_t)((*account_state & ~(MF_ACCOUNT_NEW | MF_ACCOUNT_LIQUIDATING)) |
                                   MF_ACCOUNT_PARTIAL);
    set_entity_state(ws, b, entity, MF_POSITION_PARTIAL);
    ws->tally[b].partial_liquidations++;
    *handled = 1;
    return MF_OK;
}

/* While positions are the store's on every path (no live book, or one kept for funding alone):
 * the entity leaves the book the ledger and the funding's open interest count from the venue's
 * totals, and its account's state bytes are cleared after the batch. */
static mf_status exclude_from_book(mf_workspace *ws, int b, const mf_book_view *book,
                                   const flagged_entity *entity) {
    if (ws->n_touched[b] == ws->touched_capacity[b]) {
        const int64_t capacity = ws->touched_capacity[b] ? 2 * ws->touched_capacity[b] : 1024;
        int64_t *grown = realloc(ws->touched[b], (size_t)capacity * sizeof *grown);
        if (!grown) return MF_FAIL(MF_ERR_MEMORY, "out of memory listing liquidated accounts");
        ws->touched[b] = grown;
        ws->touched_capacity[b] = capacity;
    }
    ws->touched[b][ws->n_touched[b]++] = entity->account;
    excluded_book *excluded = &ws->excluded[b];
    if (entity->is_account) excluded->collateral += book->account_collateral[entity->account];
    for (int64_t p = entity->first; p < entity->stop; p++) {
        excluded->collateral += book->position_margin[p];
        mf_position_totals_add(&excluded->positions, book->position_asset[p],
                               book->position_quantity[p], book->position_entry[p]);
    }
    return MF_OK;
}

/* One flagged position (isolated) or account (cross, portfolio) on path b: to the vault or a
 * partial chunk when those are on, else whole to the engine, closing against its base equity
 * (m or C, plus its live cash) with its live quantities (the store's without a live book). */
static mf_status liquidate_entity(step_context *step, int b, const flagged_entity *entity) {
    mf_workspace *ws = step->ws;
    const mf_book_view *book = &step->scenario->venues[0].book;
    const int live = ws->live_quantity != NULL;
    /* Accounts by side: the first liquidation of one of its longs (shorts) counts it there. */
    uint8_t *counted = &ws->account_state[entity->account * ws->batch + b];
    for (int64_t p = entity->first; p < entity->stop; p++) {
        const double quantity =
            live ? ws->live_quantity[p * ws->batch + b] : book->position_quantity[p];
        const uint8_t side = quantity > 0   ? MF_ACCOUNT_LONG_COUNTED
                             : quantity < 0 ? MF_ACCOUNT_SHORT_COUNTED
                                            : 0;
        if (!side || (*counted & side)) continue;
        *counted |= side;
        if (side == MF_ACCOUNT_LONG_COUNTED)
            ws->tally[b].long_accounts++;
        else
            ws->tally[b].short_accounts++;
    }
    if (live) {
        int handled;
        MF_CHECK(vault_or_partial(step, b, entity, &handled));
        if (handled) return MF_OK;
    }
    MF_CHECK(ensure_engine_capacity(ws, b, (int32_t)(entity->stop - entity->first), 1));
    if (!ws->positions_change) MF_CHECK(exclude_from_book(ws, b, book, entity));
    mf_engine_state *engine = &ws->engines[b];
    double base = entity->base;
    if (live)
        for (int64_t p = entity->first; p < entity->stop; p++)
            base += ws->live_cash[p * ws->batch + b];
    const int32_t record = mf_engine_open_record(engine, entity->account, base);
    if (!entity->is_account) {
        const int asset = book->position_asset[entity->first];
        engine->records[record].position = entity->first;
        if (book->contracts && book->contracts->inverse[asset]) {
            engine->records[record].collateral_start_usd = entity->base;
            engine->records[record].collateral_coins =
                entity->base / book->contracts->start_price[asset];
        }
    }
    for (int64_t p = entity->first; p < entity->stop; p++) {
        const double quantity =
            live ? ws->live_quantity[p * ws->batch + b] : book->position_quantity[p];
        ws->position_state[p * ws->batch + b] = MF_POSITION_QUEUED;
        if (quantity != 0) mf_engine_enqueue(engine, book->position_asset[p], p, quantity, record);
    }
    mf_engine_close_empty(engine, record);
    ws->account_state[entity->account * ws->batch + b] &= (uint8_t)~MF_ACCOUNT_NEW;
    ws->tally[b].full_liquidations++;
    return MF_OK;
}

/* One account's new flags on every path of the batch, handed to the engines. */
static mf_status collect_account(step_context *step, int64_t account, int64_t *new_per_path) {
    mf_workspace *ws = step->ws;
    const mf_book_view *book = &step->scenario->venues[0].book;
    const int64_t first = book->account_first[account];
    const int32_t count = book->account_positions[account];
    uint8_t *account_states = ws->account_state + account * ws->batch;
    if (!has_new_flags(account_states, ws->position_state + first * ws->batch,
                       (int64_t)count * ws->batch, ws->batch))
        return MF_OK;
    for (int b = 0; b < step->batch; b++) {
        if (account_states[b] & MF_ACCOUNT_NEW) {
            const flagged_entity entity = {account, first, first + count, 1,
                                           book->account_collateral[account]};
            MF_CHECK(liquidate_entity(step, b, &entity));
        } else {
            int any = 0;
            for (int64_t p = first; p < first + count; p++) {
                if (ws->position_state[p * ws->batch + b] != MF_POSITION_NEW) continue;
                const flagged_entity entity = {account, p, p + 1, 0, book->position_margin[p]};
                MF_CHECK(liquidate_entity(step, b, &entity));
                any = 1;
            }
            if (!any) continue;
        }
        new_per_path[b]++;
        if (!(account_states[b] & MF_ACCOUNT_COUNTED)) {
            account_states[b] |= MF_ACCOUNT_COUNTED;
            ws->step_accounts[(int64_t)b * ws->steps + step->t] += 1;
        }
    }
    return MF_OK;
}

static int compare_ids(const void *a, const void *b) {
    const int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Hand this round's new flags to the engines: accounts in id order, so each path's FIFO
 * receives them in account order whatever the thread count or the models. A whole-account flag
 * closes every position against the account's collateral; position flags close each position
 * against its own margin (the margin-model contract, kernels/margin.h). An event-driven round
 * knows its flagged accounts; a sweep finds them in the chunks that have flags. */
static mf_status collect_flags(step_context *step, int64_t *new_per_path) {
    mf_workspace *ws = step->ws;
    const mf_book_view *book = &step->scenario->venues[0].book;
    for (int b = 0; b < step->batch; b++)
        new_per_path[b] = 0;
    if (event_round(ws)) {
        qsort(ws->flagged_accounts, (size_t)ws->n_flagged, sizeof *ws->flagged_accounts,
              compare_ids);
        for (int64_t i = 0; i < ws->n_flagged; i++) {
            if (i > 0 && ws->flagged_accounts[i] == ws->flagged_accounts[i - 1]) continue;
            MF_CHECK(collect_account(step, ws->flagged_accounts[i], new_per_path));
        }
        return MF_OK;
    }
    for (int64_t chunk = 0; chunk < ws->n_chunks; chunk++) {
        if (ws->chunk_flags[chunk] == 0) continue;
        const int64_t begin = chunk * MF_CHUNK_ACCOUNTS;
        int64_t end = begin + MF_CHUNK_ACCOUNTS;
        if (end > book->n_accounts) end = book->n_accounts;
        for (int64_t account = begin; account < end; account++)
            MF_CHECK(collect_account(step, account, new_per_path));
    }
    return MF_OK;
}

/* Price impact of one round's executed flow on path b: the venue-price kernel, per asset. */
static void venue_impact(const mf_venue *venue, mf_workspace *ws, int b,
                         const mf_asset_execution *plan, double *post_mark) {
    for (int k = 0; k < ws->n_assets; k++)
        post_mark[k] = plan[k].last < 0
                           ? ws->books[b][k].mark
                           : mf_venue_impact(&venue->market, &ws->index[b][k], &ws->books[b][k],
                                             plan[k].net_sold * plan[k].pre_mark);
}

/* Auto-deleveraging of one bankrupt record's shortfall: per asset it closed, a share of the
 * shortfall in proportion to its closed value, covered by opposite positions at the record's
 * bankruptcy price on that asset (kernels/deleverage.h). What they cannot cover stays
 * uncovered. */
static void deleverage(const mf_venue *venue, mf_workspace *ws, int b,
                       const mf_liquidation_record *record, double loss, double shortfall) {
    mf_settlement_state *money = &ws->money[b];
    double total_value = 0;
    for (int k = 0; k < ws->n_assets; k++)
        total_value += fabs(record->closed_value[k]);
    if (!(total_value > 0)) {
        mf_settle_uncovered(shortfall, money);
        return;
    }
    double marks[MF_MAX_ASSETS], funding[MF_MAX_ASSETS];
    const mf_path_book path = path_book(venue, ws, b, marks, funding);
    for (int k = 0; k < ws->n_assets; k++) {
        const double quantity = record->closed_quantity[k];
        if (quantity == 0) continue;
        const double weight = fabs(record->closed_value[k]) / total_value;
        const double reference = record->closed_value[k] / quantity;
        const double bankruptcy = reference + copysign(loss * weight / fabs(quantity), quantity);
        const double share = shortfall * weight;
        const mf_adl_outcome outcome =
            mf_adl_cover(&path, k, quantity, reference, bankruptcy, share);
        ws->engines[b].realized_trading_pnl += outcome.reference_pnl;
        ws->engines[b].realized_funding += outcome.funding;
        money->adl_notional += outcome.notional;
        money->adl_accounts += (double)outcome.accounts_hit;
        if (share > outcome.covered) mf_settle_uncovered(share - outcome.covered, money);
    }
}

/* Settlement of the records the round closed, in the order they closed (the waterfall):
 * partial chunks release their entity (now or after the cooldown); whole liquidations settle
 * through fee, fund and the deficit policy. Socialised loss charges the round's shortfall once,
 * after every record of the round. */
static mf_status settle_closed(step_context *step, const mf_venue *venue, mf_workspace *ws, int b) {
    mf_engine_state *engine = &ws->engines[b];
    const mf_liquidation_policy *policy = &venue->liquidation;
    double socialised = 0;
    for (int32_t i = 0; i < engine->n_closed; i++) {
        mf_liquidation_record *record = &engine->records[engine->closed[i]];
        record->settled = 1;
        if (record->partial) {
            const int is_account = record->position < 0;
            const int64_t entity = is_account ? record->account : record->position;
            if (policy->partial_cooldown_steps == 0)
                release_entity(venue, ws, b, entity, is_account);
            else
                MF_CHECK(add_cooling(ws, b, entity, is_account,
                                     step->t + policy->partial_cooldown_steps));
            continue;
        }
        /* An inverse position's coin margin is worth its coins at the last fill. */
        const double revaluation =
            record->collateral_coins * record->last_fill - record->collateral_start_usd;
        engine->realized_trading_pnl += revaluation;
        const double remaining = record->base_equity + record->realized_pnl + revaluation;
        const double shortfall =
            mf_settle(&venue->settlement, remaining, record->closed_notional, &ws->money[b]);
        if (!(shortfall > 0)) continue;
        switch (venue->settlement.deficit) {
        case MF_DEFICIT_UNCOVERED:
            break;
        case MF_DEFICIT_ADL:
            deleverage(venue, ws, b, record, -remaining, shortfall);
            ws->sweep_batch = 1; /* counterparties anywhere in the book changed */
            break;
        case MF_DEFICIT_SOCIALISED:
            socialised += shortfall;
            ws->sweep_batch = 1;
            break;
        }
    }
    engine->n_closed = 0;
    if (socialised > 0) {
        double marks[MF_MAX_ASSETS], funding[MF_MAX_ASSETS];
        const mf_path_book path = path_book(venue, ws, b, marks, funding);
        const double charged = mf_socialise_loss(&path, socialised);
        ws->money[b].socialised_loss += charged;
        if (socialised > charged) mf_settle_uncovered(socialised - charged, &ws->money[b]);
    }
    return MF_OK;
}

/* The most a round may execute on asset k of path b under the fill-price bound: the flow whose
 * impact keeps the mean of the pre- and post-impact marks within the bound (docs/model.md,
 * "Fill-price bound"); INFINITY without one. */
static double fill_bound_flow(const mf_venue *venue, const mf_workspace *ws, int b, int k) {
    const double bound = venue->liquidation.fill_bound[k];
    if (!(bound > 0) || !(2 * bound < 1)) return INFINITY;
    const double log_move = -100.0 * log(1 - 2 * bound); /* largest g(S / D) */
    const double depth = ws->books[b][k].depth;
    switch (venue->market.impact_law) {
    case MF_IMPACT_LINEAR:
        return depth * log_move;
    case MF_IMPACT_SQRT:
        return depth * log_move * log_move;
    }
    return INFINITY;
}

/* Cascade rounds: margin models -> liquidation engine -> impact -> settlement, until no path
 * has new flags or executions (or max_rounds). */
static mf_status phase_cascade_rounds(step_context *step) {
    mf_workspace *ws = step->ws;
    const mf_venue *venue = &step->scenario->venues[0];
    const int32_t t = step->t;
    const int partial = venue->liquidation.partial;
    int bounded = 0;
    for (int k = 0; k < ws->n_assets; k++)
        bounded |= venue->liquidation.fill_bound[k] > 0;
    for (int32_t round = 0; round < venue->max_rounds; round++) {
        const int64_t flagged = run_margin_models(step);
        if (flagged < 0) return MF_ERR_MEMORY; /* recorded where it failed */
        int64_t new_per_path[MF_MAX_BATCH] = {0};
        if (flagged > 0) MF_CHECK(collect_flags(step, new_per_path));
        int any_active = 0;
        for (int b = 0; b < step->batch; b++) {
            if (!step->active[b]) continue;
            double pre_mark[MF_MAX_ASSETS], post_mark[MF_MAX_ASSETS], path_funding[MF_MAX_ASSETS];
            mf_asset_execution plan[MF_MAX_ASSETS];
            for (int k = 0; k < ws->n_assets; k++) {
                pre_mark[k] = ws->books[b][k].mark;
                path_funding[k] = ws->funding_index[(int64_t)k * ws->batch + b];
            }
            if (bounded) {
                /* The bound caps this round's flow; the step's budget pays for what executes. */
                double round_budget[MF_MAX_ASSETS], cap[MF_MAX_ASSETS];
                for (int k = 0; k < ws->n_assets; k++) {
                    const double limit = fill_bound_flow(venue, ws, b, k);
                    cap[k] = ws->budget[b][k] < limit ? ws->budget[b][k] : limit;
                    round_budget[k] = cap[k];
                }
                mf_engine_select(&ws->engines[b], ws->n_assets, pre_mark, round_budget, plan);
                for (int k = 0; k < ws->n_assets; k++)
                    ws->budget[b][k] -= cap[k] - round_budget[k];
            } else {
                mf_engine_select(&ws->engines[b], ws->n_assets, pre_mark, ws->budget[b], plan);
            }
            venue_impact(venue, ws, b, plan, post_mark);
            mf_partial_sink sink = {
                ws->live_quantity, ws->live_cash, ws->batch, b, venue->liquidation.partial_fee, 0};
            const mf_round_outcome outcome =
                mf_engine_fill(&venue->book, ws->n_assets, plan, post_mark,
                               venue->rules.funding ? path_funding : NULL, &ws->engines[b],
                               partial ? &sink : NULL);
            if (sink.fees_out > 0) {
                ws->money[b].fund += sink.fees_out;
                ws->money[b].fees += sink.fees_out;
            }
            MF_CHECK(settle_closed(step, venue, ws, b));
            ws->step_notional[(int64_t)b * ws->steps + t] += outcome.executed_notional;
            ws->tally[b].liquidated_long += outcome.executed_long_notional;
            ws->tally[b].liquidated_short +=
                outcome.executed_notional - outcome.executed_long_notional;
            for (int k = 0; k < ws->n_assets; k++)
                ws->tally[b].liquidated_by_asset[k] += outcome.executed_by_asset[k];
            if (b == step->trace_b) {
                step->trace_long += outcome.executed_long_notional;
                step->trace_short += outcome.executed_notional - outcome.executed_long_notional;
            }
            if (new_per_path[b] == 0 && outcome.executed_orders == 0) {
                step->active[b] = 0;
            } else {
                if (round + 1 > ws->max_rounds[b]) ws->max_rounds[b] = round + 1;
                if (b == step->trace_b) step->trace_rounds = round + 1;
                any_active = 1;
            }
        }
        if (!any_active) break;
    }
    for (int b = 0; b < step->batch; b++)
        mf_engine_compact(&ws->engines[b], &venue->book);
    return MF_OK;
}

/* Circuit breaker (docs/model.md, "Circuit breaker"): at the end of step t, an asset whose
 * mark moved by the threshold or more since time t + 1 - w (not before the end of its last
 * halt) trips: its liquidations wait for the next halt steps. Not re-armed during a halt. */
static mf_status phase_breaker(step_context *step) {
    mf_workspace *ws = step->ws;
    const mf_market_rules *rules = &step->scenario->venues[0].rules;
    if (!rules->breaker) return MF_OK;
    const int32_t ring = rules->breaker_window_steps + 1;
    const int32_t now = step->t + 1; /* time index of the step's end */
    for (int b = 0; b < step->batch; b++)
        for (int k = 0; k < ws->n_assets; k++) {
            double *history = ws->mark_history + ((int64_t)b * ws->n_assets + k) * ring;
            const double mark = ws->books[b][k].mark;
            history[now % ring] = mark;
            if (now < ws->halt_until[b][k]) continue;
            int32_t reference = now - rules->breaker_window_steps;
            if (reference < ws->window_start[b][k]) reference = ws->window_start[b][k];
            if (reference >= now) continue;
            if (fabs(mark / history[reference % ring] - 1) < rules->breaker_threshold) continue;
            ws->halt_until[b][k] = now + rules->breaker_halt_steps;
            ws->window_start[b][k] = now + rules->breaker_halt_steps;
            ws->tally[b].breaker_trips++;
        }
    return MF_OK;
}

/* Dated futures (docs/model.md, "Contracts"): at the end of an expiring market's last step,
 * what its engine still queues fills at the index, then every open position of it settles
 * there: its PnL goes to its cash and it leaves the book; the vault's inventory settles too. */
static mf_status expire_market(step_context *step, int k) {
    mf_workspace *ws = step->ws;
    const mf_venue *venue = &step->scenario->venues[0];
    const mf_book_view *book = &venue->book;
    const int stride = ws->batch;
    for (int b = 0; b < step->batch; b++) {
        const double price = exp(ws->index[b][k].log_index);
        const double funding = ws->funding_index[(int64_t)k * stride + b];
        double path_funding[MF_MAX_ASSETS];
        for (int j = 0; j < ws->n_assets; j++)
            path_funding[j] = ws->funding_index[(int64_t)j * stride + b];
        mf_engine_state *engine = &ws->engines[b];
        if (engine->head[k] >= 0) {
            mf_asset_execution plan[MF_MAX_ASSETS];
            double post[MF_MAX_ASSETS];
            for (int j = 0; j < ws->n_assets; j++) {
                plan[j] = (mf_asset_execution){-1, 0, 0, ws->books[b][j].mark};
                post[j] = ws->books[b][j].mark;
            }
            plan[k].last = engine->tail[k];
            plan[k].last_quantity = engine->orders[engine->tail[k]].remaining;
            plan[k].pre_mark = post[k] = price;
            mf_partial_sink sink = {
                ws->live_quantity, ws->live_cash, stride, b, venue->liquidation.partial_fee, 0};
            const mf_round_outcome outcome =
                mf_engine_fill(book, ws->n_assets, plan, post,
                               venue->rules.funding ? path_funding : NULL, engine, &sink);
            ws->money[b].fund += sink.fees_out;
            ws->money[b].fees += sink.fees_out;
            MF_CHECK(settle_closed(step, venue, ws, b));
            ws->step_notional[(int64_t)b * ws->steps + step->t] += outcome.executed_notional;
            ws->tally[b].liquidated_long += outcome.executed_long_notional;
            ws->tally[b].liquidated_short +=
                outcome.executed_notional - outcome.executed_long_notional;
            ws->tally[b].liquidated_by_asset[k] += outcome.executed_by_asset[k];
        }
        for (int64_t p = 0; p < book->n_positions; p++) {
            if (book->position_asset[p] != k) continue;
            const int64_t slot = p * stride + b;
            const double quantity = ws->live_quantity[slot];
            const int64_t account = book->position_account[p];
            const int isolated = book->account_mode[account] == MF_MODE_ISOLATED;
            if (isolated ? ws->position_state[slot] == MF_POSITION_QUEUED ||
                               ws->position_state[slot] == MF_POSITION_CLOSED
                         : (ws->account_state[account * stride + b] & MF_ACCOUNT_LIQUIDATING) != 0)
                continue;
            const double pnl = quantity * (price - book->position_entry[p]);
            const double revaluation =
                isolated ? mf_margin_value(book, p, price) - book->position_margin[p] : 0.0;
            ws->live_cash[slot] += pnl - quantity * funding + revaluation;
            ws->engines[b].realized_trading_pnl += pnl + revaluation;
            ws->engines[b].realized_funding -= quantity * funding;
            ws->live_quantity[slot] = 0;
            if (isolated) ws->position_state[slot] = MF_POSITION_CLOSED;
        }
        mf_vault_settle(&ws->vaults[b], k, price, funding);
    }
    return MF_OK;
}

static mf_status phase_expiry(step_context *step) {
    const mf_contracts *contracts = step->scenario->venues[0].book.contracts;
    if (!contracts) return MF_OK;
    for (int k = 0; k < step->ws->n_assets; k++)
        if (contracts->expiry_step[k] == step->t + 1) MF_CHECK(expire_market(step, k));
    return MF_OK;
}

/* ---------------------------------------------------------------- finiteness */

/* A value that stopped being a number (or a price that is not positive): the run stops here,
 * naming the path and the step, instead of reducing it. */
static mf_status not_finite(int64_t path, int32_t step, const char *what, double value) {
    return MF_FAIL(
        MF_ERR_NUMERIC,
        "path %lld, step %d: %s became %g; results must stay finite (and prices > 0), so the "
        "run stops: the scenario is too extreme for double precision (docs/model.md, "
        "\"Numbers that stay numbers\")",
        (long long)path, (int)step, what, value);
}

#define MF_REQUIRE_FINITE(path, step, what, value)                                                 \
    do {                                                                                           \
        const double mf_value_ = (value);                                                          \
        if (!isfinite(mf_value_)) return not_finite((path), (step), (what), mf_value_);            \
    } while (0)

/* The end of step t on every path of the batch: prices, money and flows. Reads only. */
static mf_status check_step_finite(const step_context *step) {
    const mf_workspace *ws = step->ws;
    const int32_t t = step->t;
    const int32_t steps = ws->steps;
    for (int b = 0; b < step->batch; b++) {
        const int64_t path = step->first_path + b;
        for (int k = 0; k < ws->n_assets; k++) {
            const double mark = ws->books[b][k].mark;
            if (!(mark > 0) || isinf(mark)) return not_finite(path, t, "a mark price", mark);
            MF_REQUIRE_FINITE(path, t, "a log index price", ws->index[b][k].log_index);
        }
        const mf_settlement_state *money = &ws->money[b];
        MF_REQUIRE_FINITE(path, t, "the insurance fund", money->fund);
        MF_REQUIRE_FINITE(path, t, "the fund's minimum", money->fund_min);
        MF_REQUIRE_FINITE(path, t, "the bad debt", money->bad_debt);
        MF_REQUIRE_FINITE(path, t, "the uncovered deficit", money->uncovered_deficit);
        MF_REQUIRE_FINITE(path, t, "the liquidation fees", money->fees);
        MF_REQUIRE_FINITE(path, t, "the equity kept by traders", money->trader_kept);
        MF_REQUIRE_FINITE(path, t, "the realised trading PnL", ws->engines[b].realized_trading_pnl);
        MF_REQUIRE_FINITE(path, t, "the liquidated notional",
                          ws->step_notional[(int64_t)b * steps + t]);
        MF_REQUIRE_FINITE(path, t, "the composite mark",
                          ws->composite_mark[(int64_t)b * (steps + 1) + t + 1]);
        MF_REQUIRE_FINITE(path, t, "the composite index",
                          ws->composite_index[(int64_t)b * (steps + 1) + t + 1]);
    }
    return MF_OK;
}

mf_status mf_check_path_finite(int64_t path, int32_t step, const mf_path_row *row,
                               const mf_path_ledger *ledger) {
    const int n = mf_path_column_count();
    for (int c = 0; c < n; c++) {
        const mf_path_column *column = mf_path_column_describe(c);
        if (column->type != MF_COLUMN_F64) continue;
        double value;
        memcpy(&value, mf_path_column_value(column, row, ledger), sizeof value);
        if (!isfinite(value)) {
            char what[96];
            snprintf(what, sizeof what, "the path's %s", column->name);
            return not_finite(path, step, what, value);
        }
    }
    return MF_OK;
}

/* Record the step: fund, composite prices, trace; then check that it is all numbers. */
static mf_status phase_record(step_context *step) {
    mf_workspace *ws = step->ws;
    const mf_scenario *scenario = step->scenario;
    const mf_venue *venue = &scenario->venues[0];
    const int32_t t = step->t;
    const int32_t steps = ws->steps;
    const int n = ws->n_assets;
    for (int b = 0; b < step->batch; b++) {
        ws->step_fund[(int64_t)b * steps + t] = ws->money[b].fund;
        if (venue->liquidation.vault) {
            double marks[MF_MAX_ASSETS], funding[MF_MAX_ASSETS];
            for (int k = 0; k < n; k++) {
                marks[k] = ws->books[b][k].mark;
                funding[k] = ws->funding_index[(int64_t)k * ws->batch + b];
            }
            mf_vault_state *vault = &ws->vaults[b];
            const double equity = mf_vault_equity(vault, n, marks, funding);
            if (equity < vault->equity_min) vault->equity_min = equity;
        }
        ws->composite_mark[(int64_t)b * (steps + 1) + t + 1] =
            composite_log_price(scenario, venue, ws->index[b], ws->books[b], 1);
        ws->composite_index[(int64_t)b * (steps + 1) + t + 1] =
            composite_log_price(scenario, venue, ws->index[b], ws->books[b], 0);
    }
    if (step->trace_b >= 0) {
        mf_trace *trace = ws->trace;
        const int b = step->trace_b;
        for (int k = 0; k < n; k++) {
            trace->mark[(int64_t)(t + 1) * n + k] = ws->books[b][k].mark;
            trace->index[(int64_t)(t + 1) * n + k] = exp(ws->index[b][k].log_index);
        }
        trace->liquidated_notional[t] = ws->step_notional[(int64_t)b * steps + t];
        if (trace->liquidated_long) trace->liquidated_long[t] = step->trace_long;
        if (trace->liquidated_short) trace->liquidated_short[t] = step->trace_short;
        if (trace->accounts) trace->accounts[t] = ws->step_accounts[(int64_t)b * steps + t];
        if (trace->fund) trace->fund[t] = ws->money[b].fund;
        if (trace->rounds) trace->rounds[t] = step->trace_rounds;
        if (trace->backlog) {
            double marks[MF_MAX_ASSETS];
            for (int k = 0; k < n; k++)
                marks[k] = ws->books[b][k].mark;
            trace->backlog[t] = mf_engine_backlog_usd(&ws->engines[b], n, marks);
        }
        step->trace_long = step->trace_short = 0;
        step->trace_rounds = 0;
    }
    return check_step_finite(step);
}

/* The step, in order (docs/model.md, "The step"). */
typedef mf_status (*step_phase)(step_context *step);
static const struct {
    const char *name;
    step_phase run;
} step_phases[] = {
    {"index", phase_index},                   /* shared by every venue */
    {"venue prices", phase_venue_prices},     /* per venue */
    {"funding", phase_funding},               /* per-asset per-path vector */
    {"dynamic margin", phase_dynamic_margin}, /* per-asset per-path vector */
    {"cascade rounds", phase_cascade_rounds}, /* margin models, engine, impact, settlement */
    {"expiry", phase_expiry},                 /* dated futures settle at the index */
    {"breaker", phase_breaker},
    {"record", phase_record},
};
#define MF_N_STEP_PHASES ((int)(sizeof step_phases / sizeof step_phases[0]))

/* ---------------------------------------------------------------- ledger and batch */

/* Every dollar of path b at the end of the horizon (see mf_path_ledger). Without a live book a
 * position is either untouched (open at its store quantity) or in a full liquidation, so the open
 * book is the venue's totals less what the path's liquidations took out (excluded_book): O(assets
 * + liquidations) per path, not O(accounts). */
static void close_ledger(const mf_venue *venue, mf_workspace *ws, int b, mf_path_ledger *ledger) {
    const mf_book_view *book = &venue->book;
    const mf_engine_state *engine = &ws->engines[b];
    const mf_settlement_state *money = &ws->money[b];
    const mf_venue_book_state *books = ws->books[b];
    const excluded_book *excluded = &ws->excluded[b];
    const mf_position_totals *book_totals = &venue->book_totals, *taken = &excluded->positions;
    double book_pnl = 0; /* the untouched positions' open PnL at the final marks */
    double book_equity = venue->initial_trader_collateral - excluded->collateral;
    if (!ws->count_every_account) {
        for (int k = 0; k < ws->n_assets; k++)
            book_pnl += books[k].mark * (book_totals->quantity[k] - taken->quantity[k]) -
                        (book_totals->entry_value[k] - taken->entry_value[k]);
    } else { /* the reference the tests compare with: every account's equity */
        book_equity = 0;
        for (int64_t a = 0; a < book->n_accounts; a++) {
            if (ws->account_state[a * ws->batch + b] & MF_ACCOUNT_LIQUIDATING) continue;
            book_equity += book->account_collateral[a];
            const int64_t first = book->account_first[a];
            for (int64_t p = first; p < first + book->account_positions[a]; p++) {
                if (ws->position_state[p * ws->batch + b] != MF_POSITION_OPEN) continue;
                book_equity += book->position_margin[p];
                book_pnl += book->position_quantity[p] *
                            (books[book->position_asset[p]].mark - book->position_entry[p]);
            }
        }
    }
    double equity = money->trader_kept + book_equity + book_pnl;
    double pnl = engine->realized_trading_pnl + book_pnl;
    /* Liquidations still in progress: their equity so far plus the unexecuted remainder. */
    for (int32_t r = 0; r < engine->n_records; r++)
        if (!engine->records[r].settled)
            equity += engine->records[r].base_equity + engine->records[r].realized_pnl;
    for (int32_t o = 0; o < engine->n_orders; o++) {
        const mf_order *order = &engine->orders[o];
        if (order->remaining == 0) continue;
        const int asset = book->position_asset[order->position];
        const double open_pnl =
            order->remaining * (books[asset].mark - book->position_entry[order->position]);
        pnl += open_pnl;
        equity += open_pnl;
    }
    ledger->initial_collateral = venue->initial_trader_collateral;
    ledger->initial_fund = venue->settlement.initial_fund;
    ledger->trading_pnl = pnl;
    ledger->final_trader_equity = equity;
    ledger->final_fund = money->fund;
    ledger->uncovered_deficit = money->uncovered_deficit;
    ledger->initial_vault = 0;
    ledger->vault_trading_pnl = 0;
    ledger->final_vault = 0;
    ledger->funding_net = 0;
}

/* close_ledger with the live book: per-path quantities and cash; positions closed by ADL keep
 * their margin and cash; partial chunks are counted with their open positions; the vault is a
 * third pocket beside the traders and the fund. */
static void close_ledger_live(const mf_venue *venue, mf_workspace *ws, int b,
                              mf_path_ledger *ledger) {
    const mf_book_view *book = &venue->book;
    const mf_engine_state *engine = &ws->engines[b];
    const mf_settlement_state *money = &ws->money[b];
    const mf_venue_book_state *books = ws->books[b];
    const int stride = ws->batch;
    double equity = money->trader_kept;
    double pnl = engine->realized_trading_pnl;
    double funding_net = engine->realized_funding; /* received; fills, ADL and expiry realised */
    if (!ws->positions_change && !ws->count_every_account) {
        /* Positions are the store's (a live book for funding alone): the untouched book from
         * the venue's totals, as in close_ledger, each coin owing the index F. */
        const excluded_book *excluded = &ws->excluded[b];
        equity += venue->initial_trader_collateral - excluded->collateral;
        for (int k = 0; k < ws->n_assets; k++) {
            const mf_position_totals *totals = &venue->book_totals, *taken = &excluded->positions;
            const double open = totals->quantity[k] - taken->quantity[k];
            const double book_pnl =
                books[k].mark * open - (totals->entry_value[k] - taken->entry_value[k]);
            const double funding = -open * ws->funding_index[(int64_t)k * stride + b];
            pnl += book_pnl;
            funding_net += funding;
            equity += book_pnl + funding;
        }
    } else {
        for (int64_t a = 0; a < book->n_accounts; a++) {
            if (ws->account_state[a * stride + b] & MF_ACCOUNT_LIQUIDATING)
                continue; /* in the engine (its records below) or taken over by the vault */
            equity += book->account_collateral[a];
            const int64_t first = book->account_first[a];
            const int64_t stop = first + book->account_positions[a];
            for (int64_t p = first; p < stop; p++) {
                const uint8_t state = ws->position_state[p * stride + b];
                if (state == MF_POSITION_QUEUED) continue;
                const double quantity = ws->live_quantity[p * stride + b];
                const double mark = books[book->position_asset[p]].mark;
                const double open_pnl = quantity * (mark - book->position_entry[p]);
                const double funding =
                    -quantity * ws->funding_index[book->position_asset[p] * stride + b];
                /* An open inverse position's coin margin at the final mark (a closed one has
                 * realised that into its cash). */
                const double revaluation =
                    state == MF_POSITION_CLOSED
                        ? 0.0
                        : mf_margin_value(book, p, mark) - book->position_margin[p];
                pnl += open_pnl + revaluation;
                funding_net += funding;
                equity += book->position_margin[p] + ws->live_cash[p * stride + b] + open_pnl +
                          revaluation + funding;
            }
        }
    }
    for (int32_t r = 0; r < engine->n_records; r++) {
        const mf_liquidation_record *record = &engine->records[r];
        if (record->settled || record->partial) continue;
        /* Still in the engine: an inverse position's coin margin at its final mark. */
        const double revaluation =
            record->collateral_coins > 0
                ? record->collateral_coins * books[book->position_asset[record->position]].mark -
                      record->collateral_start_usd
                : 0.0;
        pnl += revaluation;
        equity += record->base_equity + record->realized_pnl + revaluation;
    }
    for (int32_t o = 0; o < engine->n_orders; o++) {
        const mf_order *order = &engine->orders[o];
        if (order->remaining == 0 || engine->records[order->record].partial) continue;
        const int asset = book->position_asset[order->position];
        const double open_pnl =
            order->remaining * (books[asset].mark - book->position_entry[order->position]);
        const double funding = -order->remaining * ws->funding_index[asset * stride + b];
        pnl += open_pnl;
        funding_net += funding;
        equity += open_pnl + funding;
    }
    double marks[MF_MAX_ASSETS], funding[MF_MAX_ASSETS];
    for (int k = 0; k < ws->n_assets; k++) {
        marks[k] = books[k].mark;
        funding[k] = ws->funding_index[(int64_t)k * stride + b];
    }
    const mf_vault_state *vault = &ws->vaults[b];
    ledger->initial_collateral = venue->initial_trader_collateral;
    ledger->initial_fund = venue->settlement.initial_fund;
    ledger->trading_pnl = pnl;
    ledger->final_trader_equity = equity;
    ledger->final_fund = money->fund;
    ledger->uncovered_deficit = money->uncovered_deficit;
    ledger->initial_vault = vault->capital;
    ledger->vault_trading_pnl = mf_vault_trading_pnl(vault, ws->n_assets, marks);
    ledger->final_vault = mf_vault_equity(vault, ws->n_assets, marks, funding);
    /* The vault's funding: what its equity holds beyond capital, cash and price PnL. */
    ledger->funding_net = funding_net + ledger->final_vault - vault->capital - vault->cash -
                          ledger->vault_trading_pnl;
}

/* Without a live book: every non-zero state byte belongs to an account handed to the engine or
 * passed by an event cursor; clear those (O(liquidations + passed entries), not O(accounts)). */
static void clear_touched_states(const mf_venue *venue, mf_workspace *ws, int batch) {
    const mf_book_view *book = &venue->book;
    const int stride = ws->batch;
    for (int b = 0; b < batch; b++) {
        for (int64_t i = 0; i < ws->n_touched[b]; i++) {
            const int64_t a = ws->touched[b][i];
            ws->account_state[a * stride + b] = 0;
            const int64_t first = book->account_first[a];
            for (int64_t p = first; p < first + book->account_positions[a]; p++)
                ws->position_state[p * stride + b] = 0;
        }
        mf_event_checks_clear_passed(ws->events, venue, ws->account_state, b);
    }
    ws->states_clean = 1;
}

void mf_workspace_count_every_account(mf_workspace *ws, int on) {
    ws->count_every_account = on;
}

int mf_workspace_states_clear(const mf_workspace *ws) {
    const int64_t positions = ws->n_positions;
    for (int64_t i = 0; i < ws->n_accounts * ws->batch; i++)
        if (ws->account_state[i]) return 0;
    for (int64_t i = 0; i < positions * ws->batch; i++)
        if (ws->position_state[i]) return 0;
    return 1;
}

static mf_status simulate_batch(const mf_scenario *scenario, mf_workspace *ws, int64_t first_path,
                                int batch, mf_block_result *block) {
    const mf_run_shape *run = &scenario->run;
    const mf_venue *venue = &scenario->venues[0];
    const mf_book_view *book = &venue->book;
    const int n = run->n_assets;
    const int32_t steps = run->steps;
    const int stride = ws->batch;

    for (int b = 0; b < batch; b++)
        generate_index_path(scenario, ws, first_path + b,
                            ws->log_index + (int64_t)b * (steps + 1) * n);

    if (!ws->states_clean) {
        memset(ws->account_state, 0, (size_t)book->n_accounts * stride);
        memset(ws->position_state, 0, (size_t)book->n_positions * stride);
    }
    ws->states_clean = 0; /* until the batch ends and clears what it touched */
    ws->sweep_batch = 0;
    for (int b = 0; b < stride; b++) {
        ws->n_touched[b] = 0;
        ws->excluded[b] = (excluded_book){0};
    }
    MF_CHECK(trim_path_pools(ws));
    mf_event_checks_reset(ws->events);
    memset(ws->step_notional, 0, sizeof(double) * (size_t)stride * steps);
    memset(ws->step_accounts, 0, sizeof(double) * (size_t)stride * steps);
    for (int64_t i = 0; i < (int64_t)n * stride; i++) {
        ws->funding_index[i] = 0;
        ws->maintenance_scale[i] = 1;
    }
    ws->vectors_neutral = 1; /* phases that move the vectors clear it */
    ws->premium_count = 0;
    step_context step;
    memset(&step, 0, sizeof step);
    step.scenario = scenario;
    step.ws = ws;
    step.first_path = first_path;
    step.batch = batch;
    step.trace_b = -1;
    if (ws->live_quantity && (ws->positions_change || !ws->live_ready)) {
        ws->live_ready = 1; /* positions that never change need no reset between batches */
        for (int64_t p = 0; p < book->n_positions; p++)
            for (int b = 0; b < stride; b++) {
                ws->live_quantity[p * stride + b] = book->position_quantity[p];
                ws->live_cash[p * stride + b] = 0;
            }
    }
    for (int b = 0; b < batch; b++) {
        mf_vault_reset(&ws->vaults[b], venue->liquidation.vault_capital);
        ws->tally[b] = (path_tally){0};
        ws->n_cooling[b] = 0;
        for (int k = 0; k < n; k++) {
            ws->halt_until[b][k] = 0;
            ws->window_start[b][k] = 0;
        }
        mf_engine_reset(&ws->engines[b]);
        mf_settlement_reset(&venue->settlement, &ws->money[b]);
        ws->max_rounds[b] = 0;
        for (int k = 0; k < n; k++) {
            mf_index_state_init(ws->log_index[(int64_t)b * (steps + 1) * n + k], &ws->index[b][k]);
            mf_venue_book_init(&venue->market, k, &ws->index[b][k], &ws->books[b][k]);
            const int64_t i = (int64_t)k * stride + b;
            if (ws->premium_sum) ws->premium_sum[i] = 0;
            if (ws->ewma_variance) {
                ws->ewma_variance[i] = venue->rules.dynamic_reference[k];
                ws->previous_mark[i] = ws->books[b][k].mark;
            }
            if (ws->mark_history)
                ws->mark_history[((int64_t)b * n + k) * (venue->rules.breaker_window_steps + 1)] =
                    ws->books[b][k].mark;
        }
        ws->composite_mark[(int64_t)b * (steps + 1)] = 0;
        ws->composite_index[(int64_t)b * (steps + 1)] = 0;
    }
    mf_trace *trace = ws->trace;
    if (trace && trace->path >= first_path && trace->path < first_path + batch) {
        step.trace_b = (int)(trace->path - first_path);
        for (int k = 0; k < n; k++) {
            trace->mark[k] = ws->books[step.trace_b][k].mark;
            trace->index[k] = exp(ws->index[step.trace_b][k].log_index);
        }
    }
    const int trace_b = step.trace_b;

    for (int32_t t = 0; t < steps; t++) {
        if (ws->stop && *ws->stop)
            return MF_FAIL(MF_ERR_INTERRUPTED, "stopped by a signal at step %d of paths %lld..%lld",
                           (int)t, (long long)first_path, (long long)(first_path + batch - 1));
        step.t = t;
        for (int phase = 0; phase < MF_N_STEP_PHASES; phase++)
            MF_CHECK(step_phases[phase].run(&step));
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
            ws->composite_index + (int64_t)b * (steps + 1), run->cascade_threshold_usd,
            run->cascade_gap_steps, ws->cascades, steps);
        mf_path_row *row = &block->rows[local];
        memset(row, 0, sizeof *row);
        row->path_index = path;
        for (int32_t t = 0; t < steps; t++) {
            row->liquidated_notional += notional[t];
            row->liquidated_accounts += (int64_t)accounts[t];
        }
        const mf_settlement_state *money = &ws->money[b];
        row->bad_debt = money->bad_debt;
        row->uncovered_deficit = money->uncovered_deficit;
        row->fund_min = money->fund_min;
        for (int k = 0; k < n; k++) {
            if (ws->books[b][k].max_mark_drawdown > row->mark_drawdown)
                row->mark_drawdown = ws->books[b][k].max_mark_drawdown;
            if (ws->index[b][k].max_index_drawdown > row->index_drawdown)
                row->index_drawdown = ws->index[b][k].max_index_drawdown;
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
            MF_REQUIRE_FINITE(path, cascade->end, "a cascade's amplification",
                              cascade->amplification);
            MF_CHECK(mf_block_result_add_cascade(block, fields));
        }
        row->max_rounds = ws->max_rounds[b];
        double final_marks[MF_MAX_ASSETS];
        for (int k = 0; k < n; k++)
            final_marks[k] = ws->books[b][k].mark;
        row->final_backlog = mf_engine_backlog_usd(&ws->engines[b], n, final_marks);
        if (b == trace_b && trace->liquidated_accounts)
            for (int64_t a = 0; a < book->n_accounts; a++)
                trace->liquidated_accounts[a] =
                    (ws->account_state[a * stride + b] & MF_ACCOUNT_COUNTED) != 0;
        const path_tally *tally = &ws->tally[b];
        row->liquidated_long = tally->liquidated_long;
        row->liquidated_short = tally->liquidated_short;
        row->partial_liquidations = tally->partial_liquidations;
        row->full_liquidations = tally->full_liquidations;
        row->adl_notional = money->adl_notional;
        row->adl_accounts = (int64_t)money->adl_accounts;
        row->socialised_loss = money->socialised_loss;
        row->vault_takeovers = (int64_t)ws->vaults[b].takeovers;
        row->vault_notional = ws->vaults[b].notional;
        row->vault_min_equity = ws->vaults[b].equity_min;
        row->funding_paid = tally->funding_paid;
        row->funding_received = tally->funding_received;
        row->breaker_trips = tally->breaker_trips;
        row->halted_steps = tally->halted_steps;
        for (int k = 0; k < MF_MAX_ASSETS; k++)
            row->liquidated_by_asset[k] = tally->liquidated_by_asset[k];
        row->liquidated_long_accounts = tally->long_accounts;
        row->liquidated_short_accounts = tally->short_accounts;
        if (ws->live_quantity)
            close_ledger_live(venue, ws, b, &block->ledgers[local]);
        else
            close_ledger(venue, ws, b, &block->ledgers[local]);
        MF_CHECK(mf_check_path_finite(path, steps, row, &block->ledgers[local]));
    }
    if (ws->positions_change) { /* the live book's mechanisms touch states the lists miss */
        memset(ws->account_state, 0, (size_t)book->n_accounts * stride);
        memset(ws->position_state, 0, (size_t)book->n_positions * stride);
        ws->states_clean = 1;
    } else {
        clear_touched_states(venue, ws, batch);
    }
    return MF_OK;
}

mf_status mf_simulate_block(const mf_model *model, mf_workspace *ws, mf_block_result *block) {
    memset(block->profile, 0,
           MF_PROFILE_SERIES * sizeof(double) * (size_t)model->scenario.run.steps);
    block->n_cascades = 0;
    for (int64_t offset = 0; offset < block->n_paths; offset += ws->batch) {
        int batch = ws->batch;
        if (block->n_paths - offset < batch) batch = (int)(block->n_paths - offset);
        MF_CHECK(simulate_batch(&model->scenario, ws, block->first_path + offset, batch, block));
    }
    return MF_OK;
}
