/* The scenario: one YAML file, parsed into a validated struct. The schema grows by
 * sections (run, market, venue, population, cascade, output, sweep; later funding, ...).
 * Every key is documented in docs/config.md with its unit, default and meaning. */
#ifndef MF_CONFIG_H
#define MF_CONFIG_H

#include <stdint.h>

/* The kernels own the limits (MF_MAX_ASSETS, MF_MAX_TIERS) and the enums the config selects
 * (impact law, deficit policy, margin mode): one definition each, read by every layer. */
#include "book.h"
#include "market.h"
#include "mf_error.h"
#include "precision.h"
#include "settlement.h"

#define MF_MAX_STRESS 32
#define MF_MAX_TRACES 64 /* output.traces and output.traces_worst, each */
#define MF_NAME_LEN 32
#define MF_PATH_LEN 1024
/* run.batch_paths: at most this many paths share a sweep over the accounts (the kernels take
 * up to MF_KERNEL_MAX_BATCH; the scenario asserts that this fits). */
#define MF_MAX_BATCH 16
/* population.accounts, and the most accounts a population snapshot may hold. */
#define MF_MAX_ACCOUNTS 1000000000

typedef enum { MF_NOTIONAL_LOGNORMAL = 0, MF_NOTIONAL_PARETO = 1 } mf_notional_law;
typedef enum { MF_REPLAY_NONE = 0, MF_REPLAY_CSV = 1, MF_REPLAY_HDF5 = 2 } mf_replay_format;

/* run.margin_kernel: which implementation checks margin. Both give the same flags bit for
 * bit; the reference full sweep stays selectable at run time (tests, benchmarks). */
typedef enum {
    MF_MARGIN_KERNEL_FILTERED = 0,
    MF_MARGIN_KERNEL_REFERENCE = 1,
    MF_MARGIN_KERNEL_EVENTS = 2
} mf_margin_kernel;
typedef enum { MF_FUNDING_PRICE_MARK = 0, MF_FUNDING_PRICE_INDEX = 1 } mf_funding_price;
typedef enum { MF_CONTRACT_LINEAR = 0, MF_CONTRACT_INVERSE = 1 } mf_contract_kind;
typedef enum { MF_PARTIAL_TARGET_MAINTENANCE = 0, MF_PARTIAL_TARGET_INITIAL = 1 } mf_partial_target;

typedef struct {
    int64_t paths;       /* run.paths: Monte Carlo paths */
    uint64_t seed;       /* run.seed */
    int32_t steps;       /* run.steps: steps per path */
    double dt_seconds;   /* run.dt_seconds: step length */
    int32_t block_paths; /* run.block_paths: paths per reduction block (fixed, rank-independent) */
    int32_t batch_paths; /* run.batch_paths: paths sharing one sweep over the accounts, <=
                            MF_MAX_BATCH */
    mf_margin_kernel margin_kernel; /* run.margin_kernel: filtered | reference */
} mf_run_config;

typedef struct {
    char name[MF_NAME_LEN];           /* market.assets[i].name */
    double price;                     /* .price: index price at t = 0, USD */
    double volatility;                /* .volatility: annualised (365-day) volatility */
    double drift;                     /* .drift: annualised drift mu */
    double jump_beta;                 /* .jump_beta: loading on the market-wide jump */
    mf_replay_format replay_format;   /* .replay.format (csv | hdf5), NONE when no replay */
    char replay_file[MF_PATH_LEN];    /* .replay.file (relative paths: to the config file) */
    char replay_column[MF_NAME_LEN];  /* .replay.column: CSV column (default "close") */
    char replay_dataset[MF_PATH_LEN]; /* .replay.dataset: HDF5 dataset path */
} mf_asset_config;

typedef struct {
    int asset;          /* index into market.assets; -1 = every asset (YAML: asset: all) */
    int32_t start_step; /* first step of the shock */
    int32_t steps;      /* number of steps it is spread over (>= 1) */
    double log_return;  /* total log-price shock, e.g. -0.128 for -12% */
} mf_stress_config;

typedef struct {
    int n_assets;
    mf_asset_config assets[MF_MAX_ASSETS];
    double correlation[MF_MAX_ASSETS][MF_MAX_ASSETS]; /* market.correlation */
    double student_t_nu;      /* market.student_t_nu: > 2, or INFINITY (YAML .inf) = Gaussian */
    int garch_enabled;        /* market.garch.enabled */
    double garch_alpha;       /* market.garch.alpha */
    double garch_beta;        /* market.garch.beta: alpha + beta < 1 */
    double jump_intensity;    /* market.jumps.intensity_per_year */
    double jump_mean;         /* market.jumps.mean: mean log jump size */
    double jump_stdev;        /* market.jumps.stdev */
    mf_impact_law impact_law; /* market.impact.law: linear | sqrt */
    double impact_permanent_fraction; /* market.impact.permanent_fraction: phi in [0, 1] */
    double impact_half_life_seconds;  /* market.impact.half_life_seconds: transient decay */
    double depth_feedback_beta;       /* market.depth_feedback.beta: 0 switches it off */
    double depth_feedback_floor;      /* market.depth_feedback.floor in (0, 1] */
    int n_stress;
    mf_stress_config stress[MF_MAX_STRESS]; /* market.stress */
} mf_market_config;

typedef struct {
    double floor_usd;    /* tier lower bound on position notional */
    double mmr;          /* maintenance margin rate in this tier */
    double max_leverage; /* tier's maximum leverage (IM rate = 1/max_leverage) */
    double cum_usd;      /* derived: maintenance amount that keeps MM continuous */
} mf_tier_config;

/* One asset's market on the venue: its book, liquidation engine and risk tiers. */
typedef struct {
    double depth_usd;      /* venue.markets[i].depth_usd: USD that moves the price 1%; INFINITY =
                              unlimited */
    double throughput_usd; /* .liquidation_throughput_usd: liquidation engine capacity per step;
                              INFINITY = no cap */
    mf_contract_kind contract; /* .contract: linear (USD-margined) or inverse (coin-margined) */
    double expiry_seconds;     /* .expiry_seconds: INFINITY = perpetual, else a dated future */
    int n_tiers;
    mf_tier_config tiers[MF_MAX_TIERS]; /* .tiers, ascending floors, first floor 0 */
    double portfolio_range;             /* .portfolio_range: portfolio margin's common move range */
    double portfolio_spread_range;      /* .portfolio_spread_range: this asset moved alone */
} mf_venue_market_config;

typedef struct {
    char name[MF_NAME_LEN];    /* venue.name */
    double max_leverage;       /* venue.max_leverage (>= 1) */
    double margin_scale;       /* venue.margin_scale: every bracket's MMR and IM rate times this */
    double insurance_fund_usd; /* venue.insurance_fund_usd */
    double liquidation_fee;    /* venue.liquidation_fee: fraction of notional to the fund */
    int32_t max_rounds;        /* venue.max_rounds: cascade rounds per step */
    mf_deficit_policy deficit; /* venue.deficit */
    int32_t portfolio_points;  /* venue.portfolio_margin.points: common moves in [-1, 1], odd */
    double portfolio_floor_rate;         /* venue.portfolio_margin.floor_rate: x gross notional */
    double portfolio_initial_multiplier; /* venue.portfolio_margin.initial_multiplier: IM / MM */
    /* venue.partial_liquidation.* and venue.fill_bound_mmr: how a flagged position is closed. */
    int partial_enabled;              /* .partial.enabled */
    double partial_min_notional_usd;  /* .partial.min_notional_usd: at or below, closed whole */
    double partial_chunk_fraction;    /* .partial.chunk_fraction */
    mf_partial_target partial_target; /* .partial.target: maintenance or initial */
    double partial_cooldown_seconds;  /* .partial.cooldown_seconds */
    double partial_fee;               /* .partial.fee: fraction of a chunk's notional */
    double fill_bound_mmr;            /* venue.fill_bound_mmr: 0 = no bound on the fill price */
    /* venue.funding.*: perpetual funding (docs/model.md, "Funding"). */
    int funding_enabled;                /* .enabled */
    double funding_interval_seconds;    /* .interval_seconds: time between payments */
    double funding_rate_period_seconds; /* .rate_period_seconds: the formula's rate period */
    double funding_interest_rate;       /* .interest_rate: per rate period */
    double funding_clamp;               /* .clamp: of the interest-minus-premium term */
    double funding_cap;                 /* .cap: of the rate of one payment */
    mf_funding_price funding_price;     /* .price: the price a payment is valued at */
    /* venue.dynamic_margin.*: maintenance scaled by realised volatility. */
    int dynamic_enabled;                 /* .enabled */
    double dynamic_half_life_seconds;    /* .half_life_seconds: of the EWMA */
    double dynamic_reference_volatility; /* .reference_volatility: 0 = each asset's volatility */
    double dynamic_cap;                  /* .cap: largest scale */
    /* venue.circuit_breaker.*: price-band halts of the liquidation engine. */
    int breaker_enabled;           /* .enabled */
    double breaker_threshold;      /* .threshold: |P(t) / P(t - w) - 1| that trips it */
    double breaker_window_seconds; /* .window_seconds: the look-back w */
    double breaker_halt_seconds;   /* .halt_seconds: how long liquidations wait */
    /* venue.vault.*: the backstop vault. */
    int vault_enabled;                             /* .enabled */
    double vault_capital_usd;                      /* .capital_usd */
    double vault_takeover_fraction;                /* .takeover_fraction of maintenance */
    mf_venue_market_config markets[MF_MAX_ASSETS]; /* venue.markets[i], one per asset, same order */
} mf_venue_config;

typedef struct {
    double open_interest_usd; /* population.assets[i].open_interest_usd: target OI */
    double long_share;        /* .long_share: share of the asset's positions that are long */
} mf_population_asset_config;

typedef struct {
    int64_t accounts;       /* population.accounts */
    char file[MF_PATH_LEN]; /* population.file: load this HDF5 snapshot instead of generating */
    double isolated_share;  /* population.margin_modes.isolated */
    double cross_share;     /* population.margin_modes.cross */
    double portfolio_share; /* population.margin_modes.portfolio; the three shares sum to 1 */
    int32_t max_positions;  /* population.max_positions: positions per account drawn from 1..max */
    mf_notional_law notional_law; /* population.notional.law */
    double notional_sigma;        /* population.notional.sigma (lognormal) */
    double notional_alpha;        /* population.notional.alpha (Pareto tail index, > 1) */
    double leverage_median;       /* population.leverage.median */
    double leverage_sigma;        /* population.leverage.sigma: lognormal spread */
    double entry_spread;          /* population.entry_spread: stdev of log(entry / start price) */
    mf_population_asset_config assets[MF_MAX_ASSETS]; /* population.assets[i], same order */
} mf_population_config;

typedef struct {
    double threshold_usd; /* cascade.threshold_usd: a step is "in a cascade" above this */
    int32_t gap_steps;    /* cascade.gap_steps: quiet steps allowed inside one cascade */
} mf_cascade_config;

typedef struct {
    int paths;               /* output.paths: write the per-path table */
    int32_t bins_per_decade; /* output.bins_per_decade: log-histogram resolution */
    int path_values;         /* output.path_values: each per-path metric's samples in path order */
    int32_t traces_worst;    /* output.traces_worst: trace the k paths with most liquidations */
    int n_traces;            /* output.traces: paths to trace, strictly increasing */
    int64_t traces[MF_MAX_TRACES];
    int n_quantiles;                    /* output.quantiles: 1..MF_MAX_QUANTILES levels, */
    double quantiles[MF_MAX_QUANTILES]; /* each in (0, 1), strictly increasing */
} mf_output_config;

#define MF_MAX_SWEEP_PARAMS 8
#define MF_MAX_SWEEP_VALUES 4096    /* per parameter */
#define MF_MAX_SWEEP_POINTS 1000000 /* points of one sweep */

typedef enum { MF_SWEEP_PRODUCT = 0, MF_SWEEP_ZIP = 1 } mf_sweep_mode;
/* How a parameter's values were given; the resolved YAML writes them back the same way. */
typedef enum { MF_SWEEP_VALUES = 0, MF_SWEEP_LINEAR = 1, MF_SWEEP_LOG = 2 } mf_sweep_kind;

/* sweep: parameter sweeps over config keys (docs/config.md). The values live on the heap
 * (only when n_params > 0): a config that holds a sweep is released with mf_config_free.
 * A struct copy shares that memory, so exactly one of the copies may be freed. */
typedef struct {
    int n_params;                                /* 0 = no sweep: one point, the config itself */
    mf_sweep_mode mode;                          /* sweep.mode */
    int64_t n_points;                            /* derived: points of the sweep (1 without one) */
    char keys[MF_MAX_SWEEP_PARAMS][MF_PATH_LEN]; /* .parameters[p].key, in --set syntax */
    mf_sweep_kind kind[MF_MAX_SWEEP_PARAMS];     /* values, linear or log */
    int n_values[MF_MAX_SWEEP_PARAMS];           /* values (or the range's num) */
    double start[MF_MAX_SWEEP_PARAMS];           /* a range's start (linear, log) */
    double stop[MF_MAX_SWEEP_PARAMS];            /* a range's stop */
    /* heap, n_values[p] entries: the value as YAML scalar text (what --set would take;
     * ranges in the shortest text that reads back as the same double). One block per
     * parameter: the pointers followed by the texts. */
    char **values[MF_MAX_SWEEP_PARAMS];
    double *numbers[MF_MAX_SWEEP_PARAMS]; /* heap: the values as doubles (NaN: not a number) */
} mf_sweep_config;

typedef struct {
    char source_file[MF_PATH_LEN]; /* the YAML file this came from */
    mf_run_config run;
    mf_market_config market;
    mf_venue_config venue;
    mf_population_config population;
    mf_cascade_config cascade;
    mf_output_config output;
    mf_sweep_config sweep;
} mf_config;

/* Fill every field with its documented default (the default scenario's values). Safe on a
 * zeroed or uninitialised struct: it frees nothing (free a config holding a sweep first). */
void mf_config_set_defaults(mf_config *config);

/* Release the sweep's values (the only heap memory a config owns) and leave no sweep
 * (n_params 0, n_points 1). Safe on a zeroed struct and on any loaded config; NULL is fine.
 * Whoever loads a config frees it; the loaders never free what *config held before. */
void mf_config_free(mf_config *config);

/* Parse a YAML file, apply "key=value" overrides (dotted keys, list items by index:
 * market.assets.0.volatility=0.8), validate, derive (tier cum amounts). On failure the
 * message names the file, line and key (or the --set argument), and *config is untouched.
 * path NULL: no file, the defaults plus the overrides (source_file stays ""). A sweep is
 * checked by building and validating every point's config; the first failing point is
 * reported with its values. A loaded sweep owns heap memory: see mf_config_free. */
mf_status mf_config_load(mf_config *config, const char *path, const char *const *overrides,
                         int n_overrides);

/* The same from a YAML string (tests); `name` is used in messages as the file name. */
mf_status mf_config_load_string(mf_config *config, const char *yaml_text, const char *name,
                                const char *const *overrides, int n_overrides);

/* Check every value and cross-field rule; derives cum amounts and sweep.n_points. Called by
 * the loaders. Of a sweep it checks the shape only: the points need the source (loaders). */
mf_status mf_config_validate(mf_config *config);

/* The fully resolved config (every key, defaults included, the sweep too) as YAML text;
 * caller frees. Loading this text again gives the same struct and the same sweep points. */
mf_status mf_config_to_yaml(const mf_config *config, char **yaml_text);

/* ---- sweeps -------------------------------------------------------------------------------
 * A sweep point's config is the base config (same source, same overrides) with the point's
 * overrides applied after the user's, and without the sweep. Product sweeps run through
 * the values row-major (the last parameter varies fastest); zip sweeps take value i of every
 * parameter at point i. Without a sweep there is one point, 0: the config itself. */

/* Rank-side loader: `yaml_text` is the resolved YAML of a base config (mf_config_to_yaml,
 * sweep included); *out receives point `point` of its sweep, validated, without a sweep
 * (out->sweep.n_params == 0). `name` is used in messages (NULL: "<string>"). The sweep's
 * points are not all checked again here (the base load did that). */
mf_status mf_config_load_point(mf_config *out, const char *yaml_text, const char *name,
                               int64_t point);

/* The overrides ("key=value") that make point `point` (0-based, < n_points) out of the base
 * config, one per parameter in parameter order (none without a sweep). The caller frees them
 * with mf_sweep_free_overrides. */
mf_status mf_sweep_point_overrides(const mf_config *config, int64_t point, char ***overrides_out,
                                   int *n_out);
void mf_sweep_free_overrides(char **overrides, int n);

/* Which value of parameter `param` point `point` takes (0-based), -1 for bad arguments. */
int mf_sweep_value_index(const mf_config *config, int64_t point, int param);
/* The numeric value of parameter `param` at `point` (NaN when the value is not a number or
 * the arguments are out of range), for HDF5 attributes and tables. */
double mf_sweep_point_value(const mf_config *config, int64_t point, int param);
/* Its text (the YAML scalar, e.g. "0.004", "sqrt"), for labels; NULL for bad arguments.
 * Points into the config: valid until mf_config_free. */
const char *mf_sweep_point_text(const mf_config *config, int64_t point, int param);

/* mf_config_schema_text (the schema as Markdown or JSON) is part of the public API:
 * include/marginfall.h. */

/* Lower Cholesky factor of the K x K correlation (row-major, K*K); fails if not PD. */
mf_status mf_cholesky(const double *matrix, int k, double *lower);

/* The unit the schema documents for a config key in --set form ("venue.markets.BTC.depth_usd"
 * -> "USD"), "" for a dimensionless one, NULL for an unknown key. */
const char *mf_config_key_unit(const char *key);

#endif
