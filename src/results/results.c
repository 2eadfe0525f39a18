#include "results.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Histogram ranges by kind of quantity (log bins, lower edge > 0). */
#define USD_RANGE 1e3, 1e13
#define COUNT_RANGE 1.0, 1e7
#define FRACTION_RANGE 1e-4, 1.0
#define RATIO_RANGE 1e-2, 1e3
#define STEPS_RANGE 1.0, 1e5

static const mf_metric_info metric_table[MF_METRIC_COUNT] = {
    [MF_METRIC_LIQUIDATED_NOTIONAL] = {"liquidated_notional", "USD",
                                       "notional liquidated over the horizon", 0, USD_RANGE},
    [MF_METRIC_LIQUIDATED_ACCOUNTS] = {"liquidated_accounts", "accounts",
                                       "accounts with at least one position liquidated", 0,
                                       COUNT_RANGE},
    [MF_METRIC_BAD_DEBT] = {"bad_debt", "USD", "negative equity of liquidated accounts (bad debt)",
                            0, USD_RANGE},
    [MF_METRIC_UNCOVERED_DEFICIT] = {"uncovered_deficit", "USD",
                                     "bad debt the insurance fund could not pay", 0, USD_RANGE},
    [MF_METRIC_FUND_MIN] = {"fund_min", "USD", "lowest insurance fund balance over the horizon", 0,
                            USD_RANGE},
    [MF_METRIC_LARGEST_CASCADE] = {"largest_cascade", "USD",
                                   "liquidated notional of the path's largest cascade", 0,
                                   USD_RANGE},
    [MF_METRIC_CASCADE_COUNT] = {"cascade_count", "count", "number of cascades on the path", 0,
                                 COUNT_RANGE},
    [MF_METRIC_MARK_DRAWDOWN] = {"mark_drawdown", "fraction",
                                 "largest fractional drawdown of the mark price (worst asset)", 0,
                                 FRACTION_RANGE},
    [MF_METRIC_INDEX_DRAWDOWN] = {"index_drawdown", "fraction",
                                  "largest fractional drawdown of the index price (worst asset)", 0,
                                  FRACTION_RANGE},
    [MF_METRIC_CASCADE_NOTIONAL] = {"cascade_notional", "USD", "notional liquidated in one cascade",
                                    1, USD_RANGE},
    [MF_METRIC_CASCADE_ACCOUNTS] = {"cascade_accounts", "accounts",
                                    "accounts liquidated in one cascade", 1, COUNT_RANGE},
    [MF_METRIC_CASCADE_AMPLIFICATION] = {"cascade_amplification", "ratio",
                                         "mark over index log-drawdown during one cascade", 1,
                                         RATIO_RANGE},
    [MF_METRIC_CASCADE_DURATION] = {"cascade_duration", "steps",
                                    "steps from a cascade's first to its last liquidation", 1,
                                    STEPS_RANGE},
    [MF_METRIC_LIQUIDATED_LONG] = {"liquidated_long", "USD",
                                   "notional of long positions liquidated over the horizon", 0,
                                   USD_RANGE},
    [MF_METRIC_LIQUIDATED_SHORT] = {"liquidated_short", "USD",
                                    "notional of short positions liquidated over the horizon", 0,
                                    USD_RANGE},
    [MF_METRIC_ADL_NOTIONAL] = {"adl_notional", "USD",
                                "notional closed by auto-deleveraging, at bankruptcy prices", 0,
                                USD_RANGE},
    [MF_METRIC_SOCIALISED_LOSS] = {"socialised_loss", "USD",
                                   "loss charged to profitable accounts (socialised)", 0,
                                   USD_RANGE},
    [MF_METRIC_VAULT_NOTIONAL] = {"vault_notional", "USD",
                                  "notional the backstop vault took over, at the marks", 0,
                                  USD_RANGE},
    [MF_METRIC_FUNDING_PAID] = {"funding_paid", "USD", "funding paid by traders over the horizon",
                                0, USD_RANGE},
    [MF_METRIC_BREAKER_TRIPS] = {"breaker_trips", "count",
                                 "circuit-breaker trips over the horizon (all assets)", 0,
                                 COUNT_RANGE},
};

int mf_metric_level_index(const mf_metric_result *metric, double level) {
    for (int q = 0; q < metric->n_quantiles && q < MF_MAX_QUANTILES; q++)
        if (fabs(metric->levels[q] - level) < 1e-12) return q;
    return -1;
}

#define ROW(field) MF_COLUMN_FROM_ROW, offsetof(mf_path_row, field)
#define LEDGER(field) MF_COLUMN_FROM_LEDGER, offsetof(mf_path_ledger, field)

static const mf_path_column path_columns[] = {
    {"path_index", ROW(path_index), MF_COLUMN_I64, "path", "path number in the run", 0},
    {"liquidated_notional", ROW(liquidated_notional), MF_COLUMN_F64, "USD",
     "notional liquidated over the horizon", 0},
    {"liquidated_accounts", ROW(liquidated_accounts), MF_COLUMN_I64, "accounts",
     "accounts with at least one position liquidated", 0},
    {"bad_debt", ROW(bad_debt), MF_COLUMN_F64, "USD", "negative equity at liquidation", 0},
    {"uncovered_deficit", ROW(uncovered_deficit), MF_COLUMN_F64, "USD",
     "bad debt the insurance fund could not pay", 0},
    {"fund_min", ROW(fund_min), MF_COLUMN_F64, "USD", "lowest insurance fund balance", 0},
    {"mark_drawdown", ROW(mark_drawdown), MF_COLUMN_F64, "fraction",
     "largest fractional drawdown of the mark (worst asset)", 0},
    {"index_drawdown", ROW(index_drawdown), MF_COLUMN_F64, "fraction",
     "largest fractional drawdown of the index (worst asset)", 0},
    {"cascades", ROW(cascades), MF_COLUMN_I32, "count", "number of cascades", 0},
    {"largest_cascade", ROW(largest_cascade), MF_COLUMN_F64, "USD",
     "liquidated notional of the largest cascade", 0},
    {"max_rounds", ROW(max_rounds), MF_COLUMN_I32, "rounds", "most cascade rounds in one step", 0},
    {"final_backlog", ROW(final_backlog), MF_COLUMN_F64, "USD",
     "notional still queued for liquidation at the horizon, at the final marks", 0},
    {"liquidated_long", ROW(liquidated_long), MF_COLUMN_F64, "USD",
     "notional of long positions liquidated (engine fills and vault takeovers)", 0},
    {"liquidated_long_accounts", ROW(liquidated_long_accounts), MF_COLUMN_I64, "accounts",
     "accounts with at least one long position liquidated", 0},
    {"liquidated_short_accounts", ROW(liquidated_short_accounts), MF_COLUMN_I64, "accounts",
     "accounts with at least one short position liquidated", 0},
    {"liquidated_short", ROW(liquidated_short), MF_COLUMN_F64, "USD",
     "notional of short positions liquidated (engine fills and vault takeovers)", 0},
    {"partial_liquidations", ROW(partial_liquidations), MF_COLUMN_I64, "count",
     "partial-liquidation chunks started", 0},
    {"full_liquidations", ROW(full_liquidations), MF_COLUMN_I64, "count",
     "positions and accounts sent whole to the liquidation engine", 0},
    {"adl_notional", ROW(adl_notional), MF_COLUMN_F64, "USD",
     "notional closed by auto-deleveraging, at bankruptcy prices", 0},
    {"adl_accounts", ROW(adl_accounts), MF_COLUMN_I64, "accounts",
     "accounts hit by auto-deleveraging", 0},
    {"socialised_loss", ROW(socialised_loss), MF_COLUMN_F64, "USD",
     "loss charged to profitable accounts", 0},
    {"vault_takeovers", ROW(vault_takeovers), MF_COLUMN_I64, "count",
     "positions and accounts the backstop vault took over", 0},
    {"vault_notional", ROW(vault_notional), MF_COLUMN_F64, "USD",
     "notional the backstop vault took over, at the marks", 0},
    {"vault_min_equity", ROW(vault_min_equity), MF_COLUMN_F64, "USD",
     "the backstop vault's lowest end-of-step equity (0 without a vault)", 0},
    {"funding_paid", ROW(funding_paid), MF_COLUMN_F64, "USD", "funding traders paid", 0},
    {"funding_received", ROW(funding_received), MF_COLUMN_F64, "USD", "funding traders received",
     0},
    {"breaker_trips", ROW(breaker_trips), MF_COLUMN_I64, "count",
     "circuit-breaker trips, summed over assets", 0},
    {"halted_steps", ROW(halted_steps), MF_COLUMN_I64, "steps",
     "steps in which at least one asset's liquidations were halted", 0},
#define MF_ASSET_COLUMN(k)                                                                         \
    {                                                                                              \
        "liquidated_asset_" #k, ROW(liquidated_by_asset[k]), MF_COLUMN_F64, "USD",                 \
            "notional liquidated on asset " #k " (market.assets order; attribute asset names it)", \
            k + 1                                                                                  \
    }
    MF_ASSET_COLUMN(0),
    MF_ASSET_COLUMN(1),
    MF_ASSET_COLUMN(2),
    MF_ASSET_COLUMN(3),
    MF_ASSET_COLUMN(4),
    MF_ASSET_COLUMN(5),
    MF_ASSET_COLUMN(6),
    MF_ASSET_COLUMN(7),
#undef MF_ASSET_COLUMN
    /* The money ledger: initial_collateral + initial_fund + trading_pnl
     * = final_trader_equity + final_fund - ledger_uncovered_deficit. */
    {"initial_collateral", LEDGER(initial_collateral), MF_COLUMN_F64, "USD",
     "traders' collateral at t = 0", 0},
    {"initial_fund", LEDGER(initial_fund), MF_COLUMN_F64, "USD", "insurance fund at t = 0", 0},
    {"trading_pnl", LEDGER(trading_pnl), MF_COLUMN_F64, "USD",
     "traders' PnL at fill prices (open positions at the final mark)", 0},
    {"final_trader_equity", LEDGER(final_trader_equity), MF_COLUMN_F64, "USD",
     "traders' equity at the end (open positions marked)", 0},
    {"final_fund", LEDGER(final_fund), MF_COLUMN_F64, "USD", "insurance fund at the end", 0},
    {"ledger_uncovered_deficit", LEDGER(uncovered_deficit), MF_COLUMN_F64, "USD",
     "bad debt the fund could not pay, as the ledger closes it", 0},
    {"initial_vault", LEDGER(initial_vault), MF_COLUMN_F64, "USD",
     "the backstop vault's capital at t = 0 (0 without a vault)", 0},
    {"vault_trading_pnl", LEDGER(vault_trading_pnl), MF_COLUMN_F64, "USD",
     "the vault's price PnL on the positions it took over, at the final marks", 0},
    {"final_vault", LEDGER(final_vault), MF_COLUMN_F64, "USD", "the vault's equity at the end", 0},
    {"funding_net", LEDGER(funding_net), MF_COLUMN_F64, "USD",
     "funding received minus paid by the traders and the vault (the counterparty is outside "
     "the modelled book when long and short open interest differ)",
     0},
};
#define N_PATH_COLUMNS ((int)(sizeof path_columns / sizeof path_columns[0]))

int mf_path_column_count(void) {
    return N_PATH_COLUMNS;
}

const mf_path_column *mf_path_column_describe(int c) {
    return c >= 0 && c < N_PATH_COLUMNS ? &path_columns[c] : NULL;
}

int mf_path_column_written(const mf_path_column *column, int has_ledgers, int n_assets) {
    if (column->source == MF_COLUMN_FROM_LEDGER && !has_ledgers) return 0;
    return column->asset <= n_assets;
}

size_t mf_path_column_size(const mf_path_column *column) {
    return column->type == MF_COLUMN_I32 ? 4 : 8;
}

const void *mf_path_column_value(const mf_path_column *column, const mf_path_row *row,
                                 const mf_path_ledger *ledger) {
    const unsigned char *base = column->source == MF_COLUMN_FROM_ROW
                                    ? (const unsigned char *)row
                                    : (const unsigned char *)ledger;
    return base + column->offset;
}

void *mf_path_column_slot(const mf_path_column *column, mf_path_row *row, mf_path_ledger *ledger) {
    unsigned char *base =
        column->source == MF_COLUMN_FROM_ROW ? (unsigned char *)row : (unsigned char *)ledger;
    return base + column->offset;
}

const mf_metric_info *mf_metric_describe(mf_metric_id id) {
    if ((int)id < 0 || id >= MF_METRIC_COUNT) return NULL;
    return &metric_table[id];
}

void mf_path_trace_free(mf_path_trace *trace) {
    if (!trace) return;
    free(trace->index);
    free(trace->mark);
    free(trace->liquidated_long);
    free(trace->liquidated_short);
    free(trace->liquidated_accounts);
    free(trace->backlog);
    free(trace->fund);
    free(trace->rounds);
    memset(trace, 0, sizeof *trace);
}

void mf_point_result_free(mf_point_result *result) {
    if (!result) return;
    for (int i = 0; i < result->n_traces && result->traces; i++)
        mf_path_trace_free(&result->traces[i]);
    free(result->traces);
    result->traces = NULL;
    result->n_traces = 0;
    for (int m = 0; m < MF_METRIC_COUNT; m++) {
        free(result->metrics[m].edges);
        free(result->metrics[m].counts);
        free(result->metrics[m].path_values);
        result->metrics[m].path_values = NULL;
        result->metrics[m].edges = NULL;
        result->metrics[m].counts = NULL;
        result->metrics[m].n_bins = 0;
    }
    free(result->profile_liquidated_notional);
    free(result->profile_liquidated_accounts);
    free(result->profile_fund);
    free(result->paths);
    free(result->ledgers);
    result->ledgers = NULL;
    result->profile_liquidated_notional = NULL;
    result->profile_liquidated_accounts = NULL;
    result->profile_fund = NULL;
    result->paths = NULL;
}

/* ---- verification digest ------------------------------------------------------------------
 * FNV-1a (64 bit) over the exact bits of every reduced figure, in a fixed order. Two runs with
 * the same digest produced the same numbers bit for bit, whatever ranks and threads ran them. */

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static uint64_t hash_bytes(uint64_t hash, const void *data, size_t size) {
    const unsigned char *bytes = data;
    for (size_t i = 0; i < size; i++) {
        hash ^= bytes[i];
        hash *= FNV_PRIME;
    }
    return hash;
}

static uint64_t hash_i64(uint64_t hash, int64_t value) {
    unsigned char bytes[8];
    for (int i = 0; i < 8; i++)
        bytes[i] = (unsigned char)((uint64_t)value >> (8 * i)); /* little-endian on any host */
    return hash_bytes(hash, bytes, 8);
}

static uint64_t hash_f64(uint64_t hash, double value) {
    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    return hash_i64(hash, (int64_t)bits);
}

static uint64_t hash_f64s(uint64_t hash, const double *values, int64_t n) {
    for (int64_t i = 0; values && i < n; i++)
        hash = hash_f64(hash, values[i]);
    return hash;
}

uint64_t mf_point_result_digest(const mf_point_result *r) {
    if (r->paths_elsewhere) return r->digest;
    const uint64_t h = mf_point_result_digest_prefix(r);
    return r->paths ? mf_digest_path_rows(h, r->paths, r->ledgers, r->n_paths) : h;
}

uint64_t mf_point_result_digest_prefix(const mf_point_result *r) {
    uint64_t h = FNV_OFFSET;
    h = hash_i64(h, r->n_paths);
    h = hash_i64(h, r->n_steps);
    for (int m = 0; m < MF_METRIC_COUNT; m++) {
        const mf_metric_result *metric = &r->metrics[m];
        h = hash_i64(h, metric->count);
        h = hash_f64(h, metric->mean);
        h = hash_f64(h, metric->m2);
        h = hash_f64(h, metric->min);
        h = hash_f64(h, metric->max);
        h = hash_i64(h, metric->n_bins);
        h = hash_f64s(h, metric->edges, metric->edges ? metric->n_bins + 1 : 0);
        for (int b = 0; metric->counts && b < metric->n_bins; b++)
            h = hash_i64(h, metric->counts[b]);
        h = hash_i64(h, metric->underflow);
        h = hash_i64(h, metric->overflow);
        h = hash_f64(h, metric->mean_standard_error);
        const int n_levels =
            metric->n_quantiles < MF_MAX_QUANTILES ? metric->n_quantiles : MF_MAX_QUANTILES;
        h = hash_i64(h, n_levels);
        h = hash_f64s(h, metric->levels, n_levels);
        h = hash_f64s(h, metric->quantiles, n_levels);
        h = hash_f64s(h, metric->quantile_ci_low, n_levels);
        h = hash_f64s(h, metric->quantile_ci_high, n_levels);
        h = hash_f64s(h, metric->expected_shortfall, n_levels);
        h = hash_f64s(h, metric->expected_shortfall_standard_error, n_levels);
        for (int q = 0; q < n_levels; q++)
            h = hash_i64(h, metric->tail_samples[q]);
        /* Path values (a copy of per-path samples) when kept: like the per-path table, the
         * digest then covers what the file holds. */
        h = hash_i64(h, metric->path_values != NULL);
        h = hash_f64s(h, metric->path_values, metric->path_values ? metric->count : 0);
    }
    h = hash_f64s(h, r->profile_liquidated_notional, r->n_steps);
    h = hash_f64s(h, r->profile_liquidated_accounts, r->n_steps);
    h = hash_f64s(h, r->profile_fund, r->n_steps);
    h = hash_f64(h, r->prob_bad_debt);
    h = hash_f64(h, r->prob_fund_shortfall);
    h = hash_f64(h, r->prob_bad_debt_standard_error);
    h = hash_f64(h, r->prob_fund_shortfall_standard_error);
    h = hash_f64s(h, r->prob_bad_debt_ci, 2);
    h = hash_f64s(h, r->prob_fund_shortfall_ci, 2);
    return h;
}

/* The per-path table row by row, column by column (ledger columns only when kept). */
uint64_t mf_digest_path_rows(uint64_t h, const mf_path_row *rows, const mf_path_ledger *ledgers,
                             int64_t n) {
    for (int64_t i = 0; rows && i < n; i++)
        for (int c = 0; c < N_PATH_COLUMNS; c++) {
            const mf_path_column *column = &path_columns[c];
            if (column->source == MF_COLUMN_FROM_LEDGER && !ledgers) continue;
            const void *value =
                mf_path_column_value(column, &rows[i], ledgers ? &ledgers[i] : NULL);
            if (column->type == MF_COLUMN_F64) {
                double x;
                memcpy(&x, value, sizeof x);
                h = hash_f64(h, x);
            } else if (column->type == MF_COLUMN_I64) {
                int64_t x;
                memcpy(&x, value, sizeof x);
                h = hash_i64(h, x);
            } else {
                int32_t x;
                memcpy(&x, value, sizeof x);
                h = hash_i64(h, x);
            }
        }
    return h;
}

uint64_t mf_digest_combine(const int64_t *point_indices, const uint64_t *point_digests, int64_t n) {
    uint64_t h = FNV_OFFSET;
    for (int64_t i = 0; i < n; i++) {
        h = hash_i64(h, point_indices[i]);
        h = hash_i64(h, (int64_t)point_digests[i]);
    }
    return h;
}

uint64_t mf_results_digest(const mf_point_result *points, int64_t n) {
    uint64_t h = FNV_OFFSET;
    for (int64_t i = 0; i < n; i++) {
        h = hash_i64(h, points[i].point_index);
        h = hash_i64(h, (int64_t)mf_point_result_digest(&points[i]));
    }
    return h;
}

void mf_digest_format(uint64_t digest, char text[MF_DIGEST_TEXT_LEN]) {
    snprintf(text, MF_DIGEST_TEXT_LEN, "%016llx", (unsigned long long)digest);
}

int mf_digest_parse(const char *text, uint64_t *digest) {
    if (!text || strlen(text) != 16) return -1;
    uint64_t value = 0;
    for (int i = 0; i < 16; i++) {
        const char c = text[i];
        const int nibble = c >= '0' && c <= '9'   ? c - '0'
                           : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                                  : -1;
        if (nibble < 0) return -1;
        value = value << 4 | (uint64_t)nibble;
    }
    *digest = value;
    return 0;
}
