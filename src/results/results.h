/* What a run produces for one sweep point, after the reduction across paths and ranks.
 * The HDF5 writer (src/io/writer.c) stores exactly this; docs/output.md describes the file. */
#ifndef MF_RESULTS_H
#define MF_RESULTS_H

#include <stdint.h>

#include "book.h"
#include "mf_error.h"
#include "precision.h"

/* Metrics that get a histogram, exact moments, quantiles and expected shortfall.
 * Per-path metrics have one sample per path; per-cascade metrics one per cascade. */
typedef enum {
    MF_METRIC_LIQUIDATED_NOTIONAL = 0, /* per path: USD liquidated over the horizon */
    MF_METRIC_LIQUIDATED_ACCOUNTS,     /* per path: accounts liquidated (at least one position) */
    MF_METRIC_BAD_DEBT,                /* per path: USD of negative equity at liquidation */
    MF_METRIC_UNCOVERED_DEFICIT,       /* per path: USD of bad debt the fund could not pay */
    MF_METRIC_FUND_MIN,                /* per path: insurance fund minimum, USD */
    MF_METRIC_LARGEST_CASCADE,         /* per path: largest cascade's liquidated notional, USD */
    MF_METRIC_CASCADE_COUNT,           /* per path: number of cascades */
    MF_METRIC_MARK_DRAWDOWN,    /* per path: max fractional drawdown of the mark (worst asset) */
    MF_METRIC_INDEX_DRAWDOWN,   /* per path: max fractional drawdown of the index (worst asset) */
    MF_METRIC_CASCADE_NOTIONAL, /* per cascade: liquidated notional, USD */
    MF_METRIC_CASCADE_ACCOUNTS, /* per cascade: liquidated accounts */
    MF_METRIC_CASCADE_AMPLIFICATION, /* per cascade: mark / index log-drawdown over the run */
    MF_METRIC_CASCADE_DURATION,      /* per cascade: steps from first to last liquidation */
    MF_METRIC_LIQUIDATED_LONG,       /* per path: USD of long positions liquidated */
    MF_METRIC_LIQUIDATED_SHORT,      /* per path: USD of short positions liquidated */
    MF_METRIC_ADL_NOTIONAL,          /* per path: USD closed by auto-deleveraging */
    MF_METRIC_SOCIALISED_LOSS,       /* per path: USD charged to profitable accounts */
    MF_METRIC_VAULT_NOTIONAL,        /* per path: USD taken over by the backstop vault */
    MF_METRIC_FUNDING_PAID,          /* per path: USD of funding traders paid */
    MF_METRIC_BREAKER_TRIPS,         /* per path: circuit-breaker trips */
    MF_METRIC_COUNT
} mf_metric_id;

typedef struct {
    const char *name;        /* HDF5 group name */
    const char *unit;        /* "USD", "accounts", "fraction", "ratio", "steps", "count" */
    const char *description; /* one line for docs and `marginfall info` */
    int per_cascade;         /* 1: one sample per cascade; 0: one per path */
    double hist_min;         /* lowest log-bin edge (> 0) */
    double hist_max;         /* highest log-bin edge */
} mf_metric_info;

const mf_metric_info *mf_metric_describe(mf_metric_id id);

typedef struct {
    /* Exact, mergeable moments (Welford per block, Chan merge in block order). */
    int64_t count;
    double mean, m2, min, max;
    /* Log-binned histogram: n_bins bins between edges[0] and edges[n_bins]; samples below
     * edges[0] (zeros included) count in underflow, at or above the last edge in overflow. */
    int n_bins;
    double *edges;   /* n_bins + 1 */
    int64_t *counts; /* n_bins */
    int64_t underflow, overflow;
    /* Standard error of `mean`: sqrt(m2 / (count - 1) / count); NaN when count < 2. */
    double mean_standard_error;
    /* The levels of output.quantiles (0 < levels[0] < ... < 1), n_quantiles of them. From the
     * full merged sample: quantile q is the smallest sample x with F(x) >= q; expected
     * shortfall at q is the mean of the tail_samples = ceil((1-q) n) largest samples. NaN when
     * there are no samples. docs/output.md defines the intervals and standard errors. */
    int n_quantiles;
    double levels[MF_MAX_QUANTILES];
    double quantiles[MF_MAX_QUANTILES];
    double quantile_ci_low[MF_MAX_QUANTILES];  /* 95% order-statistic interval; NaN: open */
    double quantile_ci_high[MF_MAX_QUANTILES]; /* (too few samples beyond the quantile) */
    double expected_shortfall[MF_MAX_QUANTILES];
    double expected_shortfall_standard_error[MF_MAX_QUANTILES]; /* NaN: < 2 tail samples */
    int64_t tail_samples[MF_MAX_QUANTILES];
    /* Per-path metrics with output.path_values: the samples in path order (count values),
     * so that the paired standard error of a difference between sweep points can be
     * computed; NULL otherwise. */
    double *path_values;
} mf_metric_result;

/* The index of `level` among the metric's levels (exact match within 1e-12), or -1. */
int mf_metric_level_index(const mf_metric_result *metric, double level);

/* One row of the optional per-path table (output.paths: true). */
typedef struct {
    int64_t path_index;
    double liquidated_notional;
    int64_t liquidated_accounts;
    double bad_debt;
    double uncovered_deficit;
    double fund_min;
    double mark_drawdown;
    double index_drawdown;
    int32_t cascades;
    double largest_cascade;
    int32_t max_rounds;      /* most cascade rounds used in one step */
    double final_backlog;    /* USD still queued for liquidation at the horizon (final marks) */
    double liquidated_long;  /* USD of long positions closed (engine fills, vault) */
    double liquidated_short; /* USD of short positions closed */
    int64_t partial_liquidations; /* partial chunks started */
    int64_t full_liquidations;    /* positions / accounts sent whole to the engine */
    double adl_notional;          /* USD closed by auto-deleveraging, at bankruptcy prices */
    int64_t adl_accounts;         /* accounts hit by auto-deleveraging */
    double socialised_loss;       /* USD charged to profitable accounts */
    int64_t vault_takeovers;      /* positions / accounts the backstop vault took over */
    double vault_notional;        /* USD taken over by the vault, at the marks */
    double vault_min_equity; /* the vault's lowest end-of-step equity (its capital: no vault) */
    double funding_paid;     /* USD of funding traders paid */
    double funding_received; /* USD of funding traders received */
    int64_t breaker_trips;   /* circuit-breaker trips, over assets */
    int64_t halted_steps;    /* steps with at least one asset's liquidations halted */
    double liquidated_by_asset[MF_MAX_ASSETS]; /* USD liquidated per asset (market.assets order) */
    int64_t liquidated_long_accounts;          /* accounts with at least one long liquidated */
    int64_t liquidated_short_accounts;         /* accounts with at least one short liquidated */
} mf_path_row;

/* Every dollar of one path: initial collateral + initial fund + initial vault + trading PnL at
 * fill prices + the vault's trading PnL + net funding = final trader equity + final fund +
 * final vault - uncovered deficit (checked by the tests; the vault and funding terms are 0
 * without them). */
typedef struct {
    double initial_collateral;
    double initial_fund;
    double trading_pnl;         /* fills: q (fill - entry); open: q (final mark - entry) */
    double final_trader_equity; /* open positions marked, kept equity of settled ones */
    double final_fund;
    double uncovered_deficit;
    double initial_vault;     /* the backstop vault's capital */
    double vault_trading_pnl; /* its inventory's price PnL at the final marks */
    double final_vault;       /* its equity at the end */
    double funding_net;       /* funding received minus paid, traders and vault (0 without) */
} mf_path_ledger;

/* The per-path table's columns, in file order: one table drives the HDF5 writer, the wire
 * format of block results (MPI reduction, checkpoints) and the verification digest. A column
 * is a field of mf_path_row or of mf_path_ledger. */
typedef enum { MF_COLUMN_F64, MF_COLUMN_I64, MF_COLUMN_I32 } mf_column_type;
typedef enum { MF_COLUMN_FROM_ROW, MF_COLUMN_FROM_LEDGER } mf_column_source;

typedef struct {
    const char *name; /* dataset name in point_<i>/paths */
    mf_column_source source;
    size_t offset; /* of the field in mf_path_row or mf_path_ledger */
    mf_column_type type;
    const char *unit;
    const char *description;
    int asset; /* 0: one column; k + 1: asset k's column, written only when the run has asset k */
} mf_path_column;

/* Number of per-path columns (row columns first, then the ledger's). */
int mf_path_column_count(void);
/* Column c (0 <= c < mf_path_column_count()), or NULL. */
const mf_path_column *mf_path_column_describe(int c);
/* Bytes of one value of a column (4 or 8). */
size_t mf_path_column_size(const mf_path_column *column);
/* The address of column c's value of row / ledger (the one the column's source names). */
const void *mf_path_column_value(const mf_path_column *column, const mf_path_row *row,
                                 const mf_path_ledger *ledger);
void *mf_path_column_slot(const mf_path_column *column, mf_path_row *row, mf_path_ledger *ledger);
/* Whether /point_<i>/paths holds the column: ledger columns with ledgers, an asset's column
 * when the run has that asset. */
int mf_path_column_written(const mf_path_column *column, int has_ledgers, int n_assets);

/* The time series of one path (output.traces, output.traces_worst), simulated again after the
 * reduction with its trace on: the same bits as its reduced row (checked), so a trace is the
 * story of exactly the path the statistics counted. Not part of the verification digest. */
typedef struct {
    int64_t path;
    int32_t worst_rank; /* 1 = the largest liquidated notional of the point; 0: only requested */
    int requested;      /* 1: listed in output.traces */
    int32_t n_steps;
    int n_assets;
    double dt_seconds;
    double *index;               /* (n_steps + 1) x n_assets: index at t = 0 and after each step */
    double *mark;                /* same layout: the venue's mark */
    double *liquidated_long;     /* n_steps: USD of longs liquidated in the step */
    double *liquidated_short;    /* n_steps: USD of shorts liquidated in the step */
    double *liquidated_accounts; /* n_steps: accounts liquidated in the step */
    double *backlog;             /* n_steps: USD queued for liquidation at the end of the step */
    double *fund;                /* n_steps: insurance fund at the end of the step */
    int32_t *rounds;             /* n_steps: cascade rounds the step used */
} mf_path_trace;

void mf_path_trace_free(mf_path_trace *trace);

typedef struct {
    int point_index;
    int64_t n_paths;
    int32_t n_steps;
    double dt_seconds; /* run.dt_seconds: the profile's time axis */
    mf_metric_result metrics[MF_METRIC_COUNT];
    /* Mean over paths, per step. */
    double *profile_liquidated_notional; /* USD per step */
    double *profile_liquidated_accounts; /* accounts per step */
    double *profile_fund;                /* insurance fund at the end of the step, USD */
    /* Headline probabilities, their standard errors sqrt(p (1 - p) / n) and 95% Wilson score
     * intervals [ci[0], ci[1]]. */
    double prob_bad_debt;       /* share of paths with bad debt > 0 */
    double prob_fund_shortfall; /* share of paths whose fund could not cover bad debt */
    double prob_bad_debt_standard_error;
    double prob_fund_shortfall_standard_error;
    double prob_bad_debt_ci[2];
    double prob_fund_shortfall_ci[2];
    mf_path_row *paths;      /* n_paths rows in path order, or NULL */
    mf_path_ledger *ledgers; /* n_paths money ledgers in path order, or NULL */
    int n_traces;            /* traced paths, in path order */
    mf_path_trace *traces;
    /* The per-path table written collectively (output.paths): the rows stay on the ranks that
     * computed them (paths is NULL here) and these figures, which need every row, were carried
     * along the ranks in path order (src/run/run.c). */
    int paths_elsewhere;
    uint64_t digest;                  /* the point's digest, the table's rows included */
    double asset_mean[MF_MAX_ASSETS]; /* mean liquidated notional per asset (Welford) */
    double asset_m2[MF_MAX_ASSETS];   /* and its sum of squared deviations */
} mf_point_result;

void mf_point_result_free(mf_point_result *result);

/* Verification digest (docs/output.md): a 64-bit FNV-1a hash of the exact bits of every
 * figure of a point (metrics with their levels, standard errors and intervals, profiles,
 * probabilities with theirs, the metrics' path values, the per-path table and ledger when
 * kept). The
 * run's digest combines the points' digests in point order, so a merged sweep has the digest
 * of the single job. Printed at the end of every run and stored in the file: two runs are
 * compared by one line. */
/* MF_DIGEST_TEXT_LEN (16 hex digits and the NUL) is in marginfall.h. */
uint64_t mf_point_result_digest(const mf_point_result *result);
/* The digest is a hash of the figures, then of the table's rows in path order: the part
 * before the rows (the whole digest when no table is kept), and the digest continued over n
 * more rows (ledgers: NULL when not kept). With paths_elsewhere, mf_point_result_digest
 * returns result->digest. */
uint64_t mf_point_result_digest_prefix(const mf_point_result *result);
uint64_t mf_digest_path_rows(uint64_t digest, const mf_path_row *rows,
                             const mf_path_ledger *ledgers, int64_t n);
uint64_t mf_digest_combine(const int64_t *point_indices, const uint64_t *point_digests, int64_t n);
/* The run's digest over its points (mf_digest_combine of their indices and digests). */
uint64_t mf_results_digest(const mf_point_result *points, int64_t n);
void mf_digest_format(uint64_t digest, char text[MF_DIGEST_TEXT_LEN]);
/* 16 lower-case hex digits -> digest; -1 when the text is not one. */
int mf_digest_parse(const char *text, uint64_t *digest);

#endif
