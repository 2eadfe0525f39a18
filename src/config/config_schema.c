/* The config schema: one table per section and per list of mappings. Each row is one key
 * (type, field, unit, default, bounds, names, doc, source, example). The loader's defaults,
 * scalar conversion, bounds checks and known-key lists, the resolved-YAML emitter,
 * `marginfall schema` and docs/config.md's key tables all come from these rows: adding a
 * scalar key is one row here plus its consumer. List-level and cross-field rules are the
 * section hooks in config.c. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_internal.h"
#include "mf_error.h"

static const char *const impact_law_names[] = {"linear", "sqrt", NULL};
static const char *const notional_law_names[] = {"lognormal", "pareto", NULL};
static const char *const deficit_names[] = {"uncovered", "adl", "socialised", NULL};
static const char *const partial_target_names[] = {"maintenance", "initial", NULL};
static const char *const contract_names[] = {"linear", "inverse", NULL};
static const char *const funding_price_names[] = {"mark", "index", NULL};
static const char *const margin_kernel_names[] = {"filtered", "reference", "events", NULL};
const char *const mf_replay_format_names[] = {"none", "csv", "hdf5", NULL};
static const char *const sweep_mode_names[] = {"product", "zip", NULL};

/* Where a field lives: offset and size in its struct. */
#define AT(S, f) .offset = offsetof(S, f), .size = sizeof(((S *)0)->f)
/* Bounds, checked generically (message: bound_text or "must be ..."). */
#define GE(x) .lo_kind = MF_BOUND_CLOSED, .lo = (x)
#define GT(x) .lo_kind = MF_BOUND_OPEN, .lo = (x)
#define LE(x) .hi_kind = MF_BOUND_CLOSED, .hi = (x)
#define LT(x) .hi_kind = MF_BOUND_OPEN, .hi = (x)
#define INF_OK .allow_inf = 1

#define T_I32 .type = MF_SCHEMA_INT32
#define T_I64 .type = MF_SCHEMA_INT64
#define T_U64 .type = MF_SCHEMA_UINT64
#define T_DBL .type = MF_SCHEMA_DOUBLE
#define T_BOOL .type = MF_SCHEMA_BOOL
#define T_STR .type = MF_SCHEMA_STRING
#define T_PATH .type = MF_SCHEMA_PATH
#define T_ENUM(n) .type = MF_SCHEMA_ENUM, .names = (n)
#define T_NAME .type = MF_SCHEMA_NAME
#define T_LIST .type = MF_SCHEMA_LIST
#define T_RANGE .type = MF_SCHEMA_RANGE

#define N_ROWS(rows) (sizeof(rows) / sizeof((rows)[0]))

/* ---- run ------------------------------------------------------------------------------------ */

#define S mf_run_config
static const mf_schema_row run_rows[] = {
    {.key = "paths",
     T_I64,
     AT(S, paths),
     .unit = "paths",
     .default_text = "200",
     GE(1),
     .doc = "Monte Carlo paths",
     .source = "engineering",
     .example = "6"},
    {.key = "seed",
     T_U64,
     AT(S, seed),
     .unit = "",
     .default_text = "20200312",
     GE(0),
     LE(4294967295.0),
     .bound_text = "must be below 2^32 = 4294967296",
     .doc = "master seed; path p draws from streams keyed by (seed, purpose, p); larger seeds "
            "could alias stream keys (docs/rng.md)",
     .source = "engineering (the date of \"Black Thursday\")",
     .example = "12345"},
    {.key = "steps",
     T_I32,
     AT(S, steps),
     .unit = "steps",
     .default_text = "1440",
     GE(1),
     LE(1e6),
     .bound_text = "must be in 1..1000000 (about two years of 1-minute steps; the cap keeps a "
                   "path's buffers and its run time bounded)",
     .doc = "steps per path",
     .source = "one day of 1-minute steps (docs/model.md)",
     .example = "50"},
    {.key = "dt_seconds",
     T_DBL,
     AT(S, dt_seconds),
     .unit = "s",
     .default_text = "60",
     GT(0),
     LE(86400),
     .bound_text = "must be a step length in (0, 86400] seconds (at most one day: with the jump "
                   "intensity cap, at most 274 jumps a step)",
     .doc = "step length",
     .source = "docs/model.md",
     .example = "30"},
    {.key = "block_paths",
     T_I32,
     AT(S, block_paths),
     .unit = "paths",
     .default_text = "16",
     GE(1),
     .doc = "paths per reduction block; fixed by the config, never by the rank count, so results "
            "are identical on any number of ranks",
     .source = "engineering",
     .example = "3"},
    {.key = "batch_paths",
     T_I32,
     AT(S, batch_paths),
     .unit = "paths",
     .default_text = "8",
     GE(1),
     LE(MF_MAX_BATCH),
     .bound_text = "must be in 1..16 (MF_MAX_BATCH)",
     .doc = "paths that share one sweep over the accounts",
     .source = "engineering",
     .example = "3"},
    {.key = "margin_kernel",
     T_ENUM(margin_kernel_names),
     AT(S, margin_kernel),
     .unit = "",
     .default_text = "events",
     .doc = "which margin check runs: event-driven (only accounts a price move could have "
            "reached are checked), the prefiltered sweep (skips positions provably far from "
            "maintenance) or the full-sweep reference; all flag exactly the same positions, so "
            "results are identical and only speed differs",
     .source = "engineering",
     .example = "reference"},
};
#undef S

/* ---- market --------------------------------------------------------------------------------- */

#define S mf_market_config
static const mf_schema_row market_rows[] = {
    {.key = "assets",
     T_LIST,
     .unit = "",
     .default_doc = "BTC, ETH, SOL",
     .bound_doc = "1 to 8 entries (MF_MAX_ASSETS)",
     .doc = "the assets (table market.assets[]); giving the list replaces the default one, and "
            "then market.correlation, venue.markets and population.assets must be given too",
     .source = "-"},
    {.key = "correlation",
     T_LIST,
     .unit = "",
     .default_doc = "BTC-ETH 0.85, BTC-SOL 0.80, "
                    "ETH-SOL 0.80",
     .bound_doc = "K x K, symmetric, unit diagonal, entries in [-1, 1], positive definite",
     .doc = "correlation of the noise, rows and columns in market.assets order (checked by its "
            "Cholesky factor)",
     .source = "BTC-ETH within the published 0.78 to 0.89 [S][W]; the SOL pairs are an "
               "assumption (one-week readings of 0.93 to 0.99 [W] are too short to use)"},
    {.key = "student_t_nu",
     T_DBL,
     AT(S, student_t_nu),
     .unit = "",
     .default_text = "4",
     GT(2),
     INF_OK,
     .bound_text = "must be > 2 (finite variance) or .inf for Gaussian",
     .doc = "degrees of freedom of the multivariate Student-t noise (one shared mixing draw per "
            "step, so assets crash together); .inf = Gaussian",
     .source = "BTC's tail index is about 3 (inverse cubic law) [P]; 4 keeps a fat tail with some "
               "margin on the variance (assumption)",
     .example = "6"},
    {.key = "garch.enabled",
     T_BOOL,
     AT(S, garch_enabled),
     .unit = "",
     .default_text = "true",
     .doc = "GARCH(1,1) volatility per asset; off = constant volatility",
     .source = "-",
     .example = "false"},
    {.key = "garch.alpha",
     T_DBL,
     AT(S, garch_alpha),
     .unit = "per step",
     .default_text = "0.05",
     GE(0),
     .doc = "ARCH weight",
     .source = "assumption: the BTC fit alpha 0.144, beta 0.817 [P] is for daily steps, not "
               "1-minute ones",
     .example = "0.04"},
    {.key = "garch.beta",
     T_DBL,
     AT(S, garch_beta),
     .unit = "per step",
     .default_text = "0.93",
     GE(0),
     .bound_doc = ">= 0; alpha + beta < 1",
     .doc = "GARCH persistence; omega is derived so the long-run variance equals volatility",
     .source = "assumption, as alpha",
     .example = "0.9"},
    {.key = "jumps.intensity_per_year",
     T_DBL,
     AT(S, jump_intensity),
     .unit = "1/year",
     .default_text = "12",
     GE(0),
     LE(1e5),
     .bound_text = "must be in [0, 1e5] per year (far above any market; with steps of at most a "
                   "day the Poisson sampler draws at most a few hundred jumps a step)",
     .doc = "Poisson intensity lambda of market-wide jumps",
     .source = "assumption: UNSOURCED (SVCJ studies find significant jumps, Hou et al. 2020 [P], "
               "but publish no usable lambda)",
     .example = "50"},
    {.key = "jumps.mean",
     T_DBL,
     AT(S, jump_mean),
     .unit = "log return",
     .default_text = "-0.03",
     GE(-20),
     LE(20),
     .bound_text = "must be a log return in [-20, 20] (a factor of 5e8 either way)",
     .doc = "mean log jump size mu_J",
     .source = "assumption",
     .example = "-0.05"},
    {.key = "jumps.stdev",
     T_DBL,
     AT(S, jump_stdev),
     .unit = "log return",
     .default_text = "0.03",
     GE(0),
     LE(20),
     .bound_text = "must be a log return in [0, 20]",
     .doc = "jump size standard deviation sigma_J",
     .source = "assumption",
     .example = "0.05"},
    {.key = "impact.law",
     T_ENUM(impact_law_names),
     AT(S, impact_law),
     .unit = "",
     .default_text = "sqrt",
     .doc = "impact of a round's net liquidation flow S: -0.01 g(S / D) in log price, g(u) = u "
            "or sign(u) sqrt(abs(u))",
     .source = "square-root law holds for BTC over four decades, Donier & Bonart 2015 [P]",
     .example = "linear"},
    {.key = "impact.permanent_fraction",
     T_DBL,
     AT(S, impact_permanent_fraction),
     .unit = "",
     .default_text = "0.03",
     GE(0),
     LE(1),
     .doc = "share phi of the impact that is permanent; the rest decays",
     .source = "assumption (uninformed impact decays almost fully [P]; 0.03 is calibrated so "
               "that calm days liquidate about 2-4% of open interest, docs/model.md section 10)",
     .example = "0.2"},
    {.key = "impact.half_life_seconds",
     T_DBL,
     AT(S, impact_half_life_seconds),
     .unit = "s",
     .default_text = "60",
     GT(0),
     .bound_text = "must be a finite time > 0",
     .doc = "half-life of the transient impact (order-book resilience)",
     .source = "assumption: UNSOURCED",
     .example = "300"},
    {.key = "depth_feedback.beta",
     T_DBL,
     AT(S, depth_feedback_beta),
     .unit = "",
     .default_text = "3",
     GE(0),
     LE(1e3),
     .bound_text = "must be in [0, 1000] (0 = off; at 1000 a 0.5% drawdown already divides the "
                   "depth by 150)",
     .doc = "depth falls as exp(-beta * drawdown) of the mark from its running maximum; 0 "
            "switches it off",
     .source = "Oct 2025: 1% depth fell 30-48% on a ~17% drawdown [S]; exp(-3 x 0.17) = 0.60, a "
               "40% fall",
     .example = "1.5"},
    {.key = "depth_feedback.floor",
     T_DBL,
     AT(S, depth_feedback_floor),
     .unit = "",
     .default_text = "0.2",
     GT(0),
     LE(1),
     .doc = "depth never falls below this share of depth_usd",
     .source = "assumption",
     .example = "0.5"},
    {.key = "stress",
     T_LIST,
     .unit = "",
     .default_text = NULL,
     .default_doc = "[]",
     .bound_doc = "0 to 32 entries (MF_MAX_STRESS)",
     .doc = "deterministic shocks added on top of the noise (table market.stress[])",
     .source = "-"},
};
#undef S

#define S mf_asset_config
static const mf_schema_row asset_rows[] = {
    {.key = "name",
     T_NAME,
     AT(S, name),
     .unit = "",
     .default_doc = "BTC, ETH, SOL",
     .bound_doc = "required; letters, digits, _ and -, not only digits, not all",
     .doc = "asset name; other sections refer to it",
     .source = "-"},
    {.key = "price",
     T_DBL,
     AT(S, price),
     .unit = "USD",
     .default_doc = "100000, 3500, 180",
     GT(0),
     .bound_text = "must be a finite price > 0",
     .bound_doc = "> 0; required for a new asset",
     .doc = "index price at t = 0",
     .source = "round recent levels (assumption); returns, not levels, drive a path",
     .example = "50000"},
    {.key = "volatility",
     T_DBL,
     AT(S, volatility),
     .unit = "1/sqrt(year)",
     .default_doc = "0.53, 0.64, 0.92",
     GE(0),
     LE(100),
     .bound_text = "must be in [0, 100] (annualised, 0.53 = 53%; 100 = 10000%, far above any "
                   "traded asset)",
     .bound_doc = "in [0, 100]; required for a new asset",
     .doc = "annualised long-run volatility s_k (also the GARCH long-run level)",
     .source = "BTC 53%, ETH 64%: 2024 daily log returns [S]; SOL 92%: 90-day realised-volatility "
               "snapshot [W]",
     .example = "0.7"},
    {.key = "drift",
     T_DBL,
     AT(S, drift),
     .unit = "1/year",
     .default_text = "0",
     GE(-1000),
     LE(1000),
     .bound_text = "must be an annualised drift in [-1000, 1000]",
     .doc = "annualised drift mu_k",
     .source = "assumption: negligible over one day",
     .example = "0.1"},
    {.key = "jump_beta",
     T_DBL,
     AT(S, jump_beta),
     .unit = "",
     .default_text = "1",
     .default_doc = "1.0, 1.2, 1.5 (new asset: 1)",
     GE(-100),
     LE(100),
     .doc = "loading of the asset on the market-wide jump (beta_k J)",
     .source = "assumption: alts fall harder than BTC",
     .example = "1.3"},
    {.key = "replay.format",
     T_ENUM(mf_replay_format_names),
     AT(S, replay_format),
     .unit = "",
     .default_text = "none",
     .doc = "read this asset's index path from a file instead of simulating it",
     .source = "-",
     .example = "csv",
     .example_needs = "replay.file=prices.csv"},
    {.key = "replay.file",
     T_PATH,
     AT(S, replay_file),
     .unit = "",
     .default_text = "",
     .bound_doc = "required unless format is none, empty when it is",
     .doc = "the replay file; relative to the config file's folder (with --set: to the "
            "current directory)",
     .source = "-",
     .example = "prices.csv",
     .example_needs = "replay.format=csv"},
    {.key = "replay.column",
     T_STR,
     AT(S, replay_column),
     .unit = "",
     .default_text = "close",
     .doc = "CSV column holding the price (needed for csv)",
     .source = "-",
     .example = "price"},
    {.key = "replay.dataset",
     T_STR,
     AT(S, replay_dataset),
     .unit = "",
     .default_text = "",
     .doc = "HDF5 dataset path (needed for hdf5)",
     .source = "-",
     .example = "/index/BTC"},
};
#undef S

#define S mf_stress_config
static const mf_schema_row stress_rows[] = {
    {.key = "asset",
     T_NAME,
     AT(S, asset),
     .unit = "",
     .bound_doc = "required; an asset or all",
     .doc = "the shocked asset; all shocks every asset",
     .source = "-"},
    {.key = "start_step",
     T_I32,
     AT(S, start_step),
     .unit = "step",
     .bound_doc = "required; 0 <= start_step < run.steps",
     .doc = "first step of the shock (steps count from 0)",
     .source = "-",
     .example = "20"},
    {.key = "steps",
     T_I32,
     AT(S, steps),
     .unit = "steps",
     .default_text = "1",
     GE(1),
     .doc = "number of steps the shock is spread over",
     .source = "-",
     .example = "3"},
    {.key = "log_return",
     T_DBL,
     AT(S, log_return),
     .unit = "log return",
     GE(-20),
     LE(20),
     .bound_text = "must be a log return in [-20, 20] (a factor of 5e8 either way)",
     .bound_doc = "in [-20, 20]; required",
     .doc = "total log-price shock, e.g. -0.128 for a -12% move",
     .source = "-",
     .example = "-0.08"},
};
#undef S

/* ---- venue ---------------------------------------------------------------------------------- */

#define S mf_venue_config
static const mf_schema_row venue_rows[] = {
    {.key = "name",
     T_STR,
     AT(S, name),
     .unit = "",
     .default_text = "binance-usdm",
     .doc = "label",
     .source = "-",
     .example = "other-venue"},
    {.key = "max_leverage",
     T_DBL,
     AT(S, max_leverage),
     .unit = "",
     .default_text = "125",
     GE(1),
     .doc = "the venue's maximum leverage",
     .source = "Binance BTCUSDT top bracket [P]",
     .example = "50"},
    {.key = "margin_scale",
     T_DBL,
     AT(S, margin_scale),
     .unit = "",
     .default_text = "1",
     GT(0),
     LE(100),
     .doc = "scales every market's margin ladder: each bracket's initial margin rate 1 / "
            "max_leverage becomes min(1, s / max_leverage) and its maintenance rate mmr x min(s, "
            "max_leverage); 2 = twice as strict (docs/model.md)",
     .source = "engineering (a policy lever for sweeps; docs/model.md)",
     .example = "1.5"},
    {.key = "insurance_fund_usd",
     T_DBL,
     AT(S, insurance_fund_usd),
     .unit = "USD",
     .default_text = "1e9",
     GE(0),
     LE(1e15),
     .bound_text = "must be an amount in [0, 1e15] USD (a thousand times the largest fund; "
                   "sums of the fund and losses stay finite)",
     .doc = "insurance fund at t = 0",
     .source = "assumption of the order of Binance SAFU ($1B, Jan 2022) [S]",
     .example = "5e6"},
    {.key = "liquidation_fee",
     T_DBL,
     AT(S, liquidation_fee),
     .unit = "fraction of notional",
     .default_text = "0.015",
     GE(0),
     LT(1),
     .bound_text = "must be a fraction of notional in [0, 1)",
     .doc = "fee paid to the fund from a liquidated position's remaining equity",
     .source = "dYdX maximum liquidation penalty 1.5% [P]",
     .example = "0.02"},
    {.key = "max_rounds",
     T_I32,
     AT(S, max_rounds),
     .unit = "rounds",
     .default_text = "50",
     GE(1),
     LE(10000),
     .doc = "cap on cascade rounds within one step",
     .source = "engineering",
     .example = "1"},
    {.key = "deficit",
     T_ENUM(deficit_names),
     AT(S, deficit),
     .unit = "",
     .default_text = "uncovered",
     .doc = "what happens to bad debt the fund cannot pay: it stays an uncovered deficit, "
            "auto-deleveraging closes the highest-ranked opposite positions at the bankruptcy "
            "price (adl), or profitable accounts pay pro rata (socialised)",
     .source = "BitMEX ADL ranking [P]; dYdX: fund, then deleveraging [P]; Binance and Bybit ADL "
               "when the fund is short [P] (docs/model.md section 5.4)",
     .example = "adl"},
    {.key = "partial_liquidation.enabled",
     T_BOOL,
     AT(S, partial_enabled),
     .unit = "",
     .default_text = "false",
     .doc = "partial liquidation: a flagged position above min_notional_usd is reduced in chunks "
            "only as far as restores the target margin, then cools down",
     .source = "Hyperliquid: positions above $100k liquidate 20% first, 30 s cooldown [S]",
     .example = "true"},
    {.key = "partial_liquidation.min_notional_usd",
     T_DBL,
     AT(S, partial_min_notional_usd),
     .unit = "USD",
     .default_text = "100000",
     GE(0),
     LE(1e15),
     .bound_text = "must be an amount in [0, 1e15] USD",
     .doc = "positions (cross accounts: gross notional) at or below this are closed whole",
     .source = "Hyperliquid $100k [S]",
     .example = "250000"},
    {.key = "partial_liquidation.chunk_fraction",
     T_DBL,
     AT(S, partial_chunk_fraction),
     .unit = "fraction of the position",
     .default_text = "0.2",
     GT(0),
     LE(1),
     .bound_text = "must be a fraction in (0, 1]",
     .doc = "one chunk; a partial liquidation closes the fewest whole chunks that restore the "
            "target",
     .source = "Hyperliquid 20% [S]",
     .example = "0.25"},
    {.key = "partial_liquidation.target",
     T_ENUM(partial_target_names),
     AT(S, partial_target),
     .unit = "",
     .default_text = "maintenance",
     .doc = "the requirement a partial liquidation restores: maintenance margin, or initial "
            "margin (max leverage of the tier)",
     .source = "MODEL: restore maintenance or initial margin; assumption",
     .example = "initial"},
    {.key = "partial_liquidation.cooldown_seconds",
     T_DBL,
     AT(S, partial_cooldown_seconds),
     .unit = "s",
     .default_text = "30",
     GE(0),
     LE(86400),
     .bound_text = "must be a time in [0, 86400] seconds",
     .doc = "after a chunk executes, the position is not liquidated again for this long (rounded "
            "up to whole steps; at least the rest of the step)",
     .source = "Hyperliquid 30 s [S]",
     .example = "120"},
    {.key = "partial_liquidation.fee",
     T_DBL,
     AT(S, partial_fee),
     .unit = "fraction of notional",
     .default_text = "0.0005",
     GE(0),
     LT(1),
     .bound_text = "must be a fraction of notional in [0, 1)",
     .doc = "fee on a partial chunk's closed notional, paid from the position's equity to the fund "
            "(a chunk is a market order: a taker fee, not the liquidation fee); a chunk is only "
            "sized when the equity exceeds this fee on the whole position",
     .source = "assumption: 5 bp, the order of large venues' base taker fees",
     .example = "0.001"},
    {.key = "fill_bound_mmr",
     T_DBL,
     AT(S, fill_bound_mmr),
     .unit = "multiple of the maintenance rate",
     .default_text = "0",
     GE(0),
     LE(100),
     .bound_text = "must be a multiple in [0, 100] (0 = no bound)",
     .doc = "a liquidation never fills further from the round's pre-impact mark than this multiple "
            "of the asset's first-bracket maintenance rate: a round executes at most the flow "
            "whose mean fill stays inside; the rest waits; 0 = no bound",
     .source = "dYdX: maximum liquidation spread 1.5 x MMR [P]",
     .example = "1.5"},
    {.key = "funding.enabled",
     T_BOOL,
     AT(S, funding_enabled),
     .unit = "",
     .default_text = "false",
     .doc = "perpetual funding: at each payment longs pay shorts rate x price per coin (shorts pay "
            "when the rate is negative); the rate follows the mark's premium over the index",
     .source = "Binance and Hyperliquid funding formulas [P][W] (docs/model.md, \"Funding\")",
     .example = "true"},
    {.key = "funding.interval_seconds",
     T_DBL,
     AT(S, funding_interval_seconds),
     .unit = "s",
     .default_text = "28800",
     GT(0),
     LE(31536000),
     .bound_text = "must be a time in (0, 31536000] seconds",
     .doc = "time between payments, the first this long after the start (rounded to whole "
            "steps, at least one)",
     .source = "Binance: every 8 h [W]; Hyperliquid: hourly [W]",
     .example = "3600"},
    {.key = "funding.rate_period_seconds",
     T_DBL,
     AT(S, funding_rate_period_seconds),
     .unit = "s",
     .default_text = "28800",
     GT(0),
     LE(31536000),
     .bound_text = "must be a time in (0, 31536000] seconds",
     .doc = "the period the formula's rate is quoted for; a payment pays interval / period of it",
     .source = "both venues quote an 8-hour rate; Hyperliquid pays 1/8 of it hourly [W]",
     .example = "3600"},
    {.key = "funding.interest_rate",
     T_DBL,
     AT(S, funding_interest_rate),
     .unit = "fraction per rate period",
     .default_text = "0.0001",
     GE(-0.1),
     LE(0.1),
     .bound_text = "must be a rate in [-0.1, 0.1] per rate period",
     .doc = "interest component i",
     .source = "Binance and Hyperliquid: 0.01% per 8 h [S][W]",
     .example = "0"},
    {.key = "funding.clamp",
     T_DBL,
     AT(S, funding_clamp),
     .unit = "fraction per rate period",
     .default_text = "0.0005",
     GE(0),
     LE(1),
     .bound_text = "must be a rate in [0, 1] per rate period",
     .doc = "clamp c of the interest-minus-premium term: F = p + clamp(i - p, -c, c)",
     .source = "0.05% on Binance and Hyperliquid [P][W]",
     .example = "0.001"},
    {.key = "funding.cap",
     T_DBL,
     AT(S, funding_cap),
     .unit = "fraction per payment",
     .default_text = "0.003",
     GT(0),
     LE(1),
     .bound_text = "must be a rate in (0, 1] per payment",
     .doc = "cap on one payment's rate, either sign",
     .source = "Binance: 0.75 x the maintenance rate of the first bracket (0.75 x 0.4% for BTC) "
               "[W]; Hyperliquid: 4% per hour [W]",
     .example = "0.04"},
    {.key = "funding.price",
     T_ENUM(funding_price_names),
     AT(S, funding_price),
     .unit = "",
     .default_text = "mark",
     .doc = "the price a payment is valued at: the venue's mark or the index (oracle)",
     .source = "Binance pays on the mark price; Hyperliquid on the oracle price [W]",
     .example = "index"},
    {.key = "dynamic_margin.enabled",
     T_BOOL,
     AT(S, dynamic_enabled),
     .unit = "",
     .default_text = "false",
     .doc = "dynamic margin: every maintenance requirement times min(cap, max(1, sigma_ewma / "
            "sigma_ref)), the EWMA of the mark's realised volatility; it applies to open "
            "positions, so a rise can itself liquidate",
     .source = "MODEL: pro-cyclical on purpose (docs/model.md, \"Dynamic margin\"); no crypto "
               "venue publishes such a rule: assumption",
     .example = "true"},
    {.key = "dynamic_margin.half_life_seconds",
     T_DBL,
     AT(S, dynamic_half_life_seconds),
     .unit = "s",
     .default_text = "3600",
     GT(0),
     LE(31536000),
     .bound_text = "must be a time in (0, 31536000] seconds",
     .doc = "half-life of the EWMA of squared one-step log returns of the mark",
     .source = "assumption: one hour, so a crash moves it within the day",
     .example = "600"},
    {.key = "dynamic_margin.reference_volatility",
     T_DBL,
     AT(S, dynamic_reference_volatility),
     .unit = "1/sqrt(year)",
     .default_text = "0",
     GE(0),
     LE(100),
     .bound_text = "must be an annualised volatility in [0, 100] (0 = each asset's)",
     .doc = "sigma_ref, annualised; 0 = each asset's market.assets[].volatility; the EWMA "
            "starts there",
     .source = "assumption: the published rates are set for normal volatility",
     .example = "0.6"},
    {.key = "dynamic_margin.cap",
     T_DBL,
     AT(S, dynamic_cap),
     .unit = "",
     .default_text = "3",
     GE(1),
     LE(100),
     .bound_text = "must be a scale in [1, 100]",
     .doc = "largest scale of the maintenance rates",
     .source = "assumption",
     .example = "5"},
    {.key = "circuit_breaker.enabled",
     T_BOOL,
     AT(S, breaker_enabled),
     .unit = "",
     .default_text = "false",
     .doc = "price-band circuit breaker per asset: when the mark moved by threshold or more over "
            "the window, the asset's liquidations queue without executing for halt_seconds",
     .source = "CME-style price limits [P]; crypto perpetual venues publish none: assumption",
     .example = "true"},
    {.key = "circuit_breaker.threshold",
     T_DBL,
     AT(S, breaker_threshold),
     .unit = "fraction",
     .default_text = "0.07",
     GT(0),
     LT(1),
     .bound_text = "must be a fraction in (0, 1)",
     .doc = "|P(t) / P(t - w) - 1| that trips the breaker",
     .source = "CME equity index futures: 7% level-1 limit [P]",
     .example = "0.1"},
    {.key = "circuit_breaker.window_seconds",
     T_DBL,
     AT(S, breaker_window_seconds),
     .unit = "s",
     .default_text = "3600",
     GT(0),
     LE(86400),
     .bound_text = "must be a time in (0, 86400] seconds",
     .doc = "the look-back w (rounded to whole steps, at least one)",
     .source = "assumption",
     .example = "900"},
    {.key = "circuit_breaker.halt_seconds",
     T_DBL,
     AT(S, breaker_halt_seconds),
     .unit = "s",
     .default_text = "900",
     GT(0),
     LE(86400),
     .bound_text = "must be a time in (0, 86400] seconds",
     .doc = "how long liquidations wait after a trip (rounded up to whole steps)",
     .source = "CME: 15-minute halts [P]",
     .example = "300"},
    {.key = "vault.enabled",
     T_BOOL,
     AT(S, vault_enabled),
     .unit = "",
     .default_text = "false",
     .doc = "backstop liquidity vault: takes over flagged positions whose equity is below "
            "takeover_fraction x maintenance, at the mark, without touching the book",
     .source = "Hyperliquid liquidator vault (HLP) [P]",
     .example = "true"},
    {.key = "vault.capital_usd",
     T_DBL,
     AT(S, vault_capital_usd),
     .unit = "USD",
     .default_text = "4.51e8",
     GE(0),
     LE(1e15),
     .bound_text = "must be an amount in [0, 1e15] USD",
     .doc = "the vault's own capital at t = 0; it takes over positions only while its equity is "
            "positive",
     .source = "HLP TVL $451M (March 2025) [S]",
     .example = "1e8"},
    {.key = "vault.takeover_fraction",
     T_DBL,
     AT(S, vault_takeover_fraction),
     .unit = "fraction of maintenance",
     .default_text = "0.6666666666666666",
     GT(0),
     LE(1),
     .bound_text = "must be a fraction in (0, 1]",
     .doc = "a flagged position (cross account) goes to the vault when its equity is below this "
            "fraction of its maintenance margin; the trader keeps nothing",
     .source = "Hyperliquid: backstop below 2/3 of maintenance, maintenance not returned [P]",
     .example = "0.5"},
    {.key = "portfolio_margin.points",
     T_I32,
     AT(S, portfolio_points),
     .unit = "scenarios",
     .default_text = "9",
     GE(3),
     LE(MF_PORTFOLIO_MAX_POINTS),
     .bound_text = "must be an odd number of common moves in [3, 101] (0 is one of them)",
     .bound_doc = "odd, in [3, 101]",
     .doc = "portfolio margin: common moves u x portfolio_range of every asset together, u evenly "
            "spaced in [-1, 1] (docs/model.md, Portfolio margin)",
     .source = "Deribit portfolio margin: 9 even buckets over the price range [P]",
     .example = "5"},
    {.key = "portfolio_margin.floor_rate",
     T_DBL,
     AT(S, portfolio_floor_rate),
     .unit = "fraction of notional",
     .default_text = "0.002",
     GE(0),
     LT(1),
     .bound_text = "must be a fraction of gross notional in [0, 1)",
     .doc = "portfolio margin: the requirement is at least this times the account's gross notional "
            "(a hedged account still needs margin)",
     .source = "assumption (half Binance's first-bracket BTC maintenance rate 0.4%)",
     .example = "0.005"},
    {.key = "portfolio_margin.initial_multiplier",
     T_DBL,
     AT(S, portfolio_initial_multiplier),
     .unit = "",
     .default_text = "1.5",
     GT(1),
     LE(100),
     .bound_text = "must be in (1, 100] (initial margin above maintenance)",
     .doc = "portfolio margin: initial requirement = this x maintenance requirement; the "
            "population generator posts it as a portfolio account's collateral",
     .source = "assumption (SPAN-style initial/maintenance ratio; Deribit publishes none)",
     .example = "2"},
    {.key = "markets",
     T_LIST,
     .unit = "",
     .default_doc = "BTC, ETH, SOL",
     .bound_doc = "one entry per asset",
     .doc = "each asset's book, liquidation engine and tiers (table venue.markets[])",
     .source = "-"},
};
#undef S

#define S mf_venue_market_config
static const mf_schema_row venue_market_rows[] = {
    {.key = "asset",
     T_NAME,
     .unit = "",
     .bound_doc = "required",
     .doc = "which asset this market trades",
     .source = "-"},
    {.key = "depth_usd",
     T_DBL,
     AT(S, depth_usd),
     .unit = "USD",
     .default_doc = "20e6, 8e6, 2.5e6",
     GT(0),
     INF_OK,
     .bound_text = "must be > 0 (USD that moves the price 1%; .inf for no impact)",
     .bound_doc = "> 0 or .inf; required for a new asset",
     .doc = "USD of orders that move the price 1% (D_k); .inf = no impact",
     .source = "1% depth averaged over major venues, early Oct 2025 [S]",
     .example = "1.5e6"},
    {.key = "liquidation_throughput_usd",
     T_DBL,
     AT(S, throughput_usd),
     .unit = "USD/step",
     .default_doc = "10e6, 4e6, 1.25e6",
     GT(0),
     INF_OK,
     .bound_text = "must be > 0 (USD per step; .inf for no cap)",
     .bound_doc = "> 0 or .inf; required for a new asset",
     .doc = "most the liquidation engine executes per step; the rest waits in a backlog; .inf = "
            "no cap",
     .source = "assumption: 0.5 x depth",
     .example = "3e6"},
    {.key = "contract",
     T_ENUM(contract_names),
     AT(S, contract),
     .unit = "",
     .default_text = "linear",
     .doc = "linear: USD-margined, PnL and margin in USD; inverse: coin-margined, an isolated "
            "position's margin is held in the asset's coin (its USD value falls with the price: "
            "the double hit) and maintenance is set on the USD face value",
     .source = "BitMEX XBTUSD and Bybit inverse contracts [P] (docs/model.md, \"Contracts\")",
     .example = "inverse"},
    {.key = "expiry_seconds",
     T_DBL,
     AT(S, expiry_seconds),
     .unit = "s",
     .default_text = ".inf",
     GT(0),
     INF_OK,
     .bound_text = "must be a time > 0 seconds, or .inf for a perpetual",
     .doc = "a dated future: every open position settles at the index at this time from the "
            "start (the end of the step it falls in); .inf = a perpetual",
     .source = "quarterly futures settle at the index at expiry (docs/model.md, \"Contracts\")",
     .example = "3600"},
    {.key = "tiers",
     T_LIST,
     .unit = "",
     .default_doc = "see below",
     .bound_doc = "1 to 16 tiers (MF_MAX_TIERS); required for a new asset",
     .doc = "risk-limit brackets by position notional (table venue.markets[].tiers[])",
     .source = "see below"},
    {.key = "portfolio_range",
     T_DBL,
     AT(S, portfolio_range),
     .unit = "fraction of price",
     .default_text = "0.16",
     GE(0),
     LT(1),
     .bound_text = "must be a fraction of the price in [0, 1)",
     .doc = "portfolio margin: the largest common move of this asset (scenario u = +-1); never "
            "below the maintenance rate of the net position's tier (0: that rate)",
     .source = "Deribit portfolio margin price range +-16% [P]; CME SPAN price scan range [P]",
     .example = "0.12"},
    {.key = "portfolio_spread_range",
     T_DBL,
     AT(S, portfolio_spread_range),
     .unit = "fraction of price",
     .default_text = "0.01",
     GE(0),
     LT(1),
     .bound_text = "must be a fraction of the price in [0, 1)",
     .doc = "portfolio margin: this asset moved alone by +- this (the part of a hedge across "
            "assets that does not offset)",
     .source = "Deribit's earlier portfolio margin: 1% contingency on offsetting futures [P]",
     .example = "0.03"},
};
#undef S

#define S mf_tier_config
static const mf_schema_row tier_rows[] = {
    {.key = "floor_usd",
     T_DBL,
     AT(S, floor_usd),
     .unit = "USD",
     .bound_doc = "required; the first is 0, then strictly ascending",
     .doc = "lower bound of the bracket on position notional",
     .source = "see below",
     .example = "100000"},
    {.key = "mmr",
     T_DBL,
     AT(S, mmr),
     .unit = "",
     GT(0),
     LT(1),
     .bound_doc = "required; in (0, 1), never decreasing, below 1 / max_leverage",
     .doc = "maintenance margin rate",
     .source = "see below",
     .example = "0.006"},
    {.key = "max_leverage",
     T_DBL,
     AT(S, max_leverage),
     .unit = "",
     GE(1),
     .bound_doc = "required; >= 1",
     .doc = "the bracket's maximum leverage (initial margin rate 1 / max_leverage)",
     .source = "see below",
     .example = "80"},
};
#undef S

/* ---- population ----------------------------------------------------------------------------- */

#define S mf_population_config
static const mf_schema_row population_rows[] = {
    {.key = "accounts",
     T_I64,
     AT(S, accounts),
     .unit = "accounts",
     .default_text = "1000000",
     LE(MF_MAX_ACCOUNTS),
     .bound_text = "must be at most 1e9 accounts",
     .bound_doc = ">= 1 (>= 0 with file), <= 1e9",
     .doc = "accounts to generate",
     .source = "engineering",
     .example = "500"},
    {.key = "file",
     T_PATH,
     AT(S, file),
     .unit = "",
     .default_text = "",
     .doc = "load this HDF5 population snapshot instead of generating one; relative to the "
            "config file's folder (with --set: to the current directory)",
     .source = "-",
     .example = "accounts.h5"},
    {.key = "margin_modes.isolated",
     T_DBL,
     AT(S, isolated_share),
     .unit = "share",
     .default_text = "0.4",
     GE(0),
     LE(1),
     .bound_text = "must be a share in [0, 1]",
     .doc = "share of isolated-margin accounts",
     .source = "assumption",
     .example = "0.3",
     .example_needs = "margin_modes.cross=0.7"},
    {.key = "margin_modes.cross",
     T_DBL,
     AT(S, cross_share),
     .unit = "share",
     .default_text = "0.6",
     GE(0),
     LE(1),
     .bound_text = "must be a share in [0, 1]",
     .bound_doc = "in [0, 1]; isolated + cross + portfolio = 1 (within 1e-9)",
     .doc = "share of cross-margin accounts",
     .source = "assumption",
     .example = "0.7",
     .example_needs = "margin_modes.isolated=0.3"},
    {.key = "margin_modes.portfolio",
     T_DBL,
     AT(S, portfolio_share),
     .unit = "share",
     .default_text = "0",
     GE(0),
     LE(1),
     .bound_text = "must be a share in [0, 1]",
     .doc = "share of portfolio-margin accounts (docs/model.md, Portfolio margin)",
     .source = "assumption (off by default)",
     .example = "0.5", /* with cross 0.5, as tests/configs/small.yaml has */
     .example_needs = "margin_modes.isolated=0"},
    {.key = "max_positions",
     T_I32,
     AT(S, max_positions),
     .unit = "positions",
     .default_text = "3",
     GE(1),
     .doc = "positions per account, drawn from 1..max",
     .source = "assumption",
     .example = "4"},
    {.key = "notional.law",
     T_ENUM(notional_law_names),
     AT(S, notional_law),
     .unit = "",
     .default_text = "lognormal",
     .doc = "law of position notionals (rescaled to hit each asset's open interest)",
     .source = "docs/model.md",
     .example = "pareto"},
    {.key = "notional.sigma",
     T_DBL,
     AT(S, notional_sigma),
     .unit = "",
     .default_text = "1.5",
     GE(0),
     .doc = "lognormal spread of notionals",
     .source = "assumption",
     .example = "1.1"},
    {.key = "notional.alpha",
     T_DBL,
     AT(S, notional_alpha),
     .unit = "",
     .default_text = "1.5",
     GT(1),
     .bound_text = "the Pareto tail index must be > 1 (finite mean)",
     .doc = "Pareto tail index (used when law is pareto; whales)",
     .source = "assumption",
     .example = "2.5"},
    {.key = "leverage.median",
     T_DBL,
     AT(S, leverage_median),
     .unit = "",
     .default_text = "4",
     GE(1),
     .doc = "median effective leverage (clipped to [1, max_leverage])",
     .source = "assumption (BitMEX liquidated traders averaged 60x [P]: the liquidated tail, not "
               "the median)",
     .example = "10"},
    {.key = "leverage.sigma",
     T_DBL,
     AT(S, leverage_sigma),
     .unit = "",
     .default_text = "0.8",
     GE(0),
     .doc = "lognormal spread of leverage",
     .source = "assumption",
     .example = "0.5"},
    {.key = "entry_spread",
     T_DBL,
     AT(S, entry_spread),
     .unit = "log price",
     .default_text = "0.01",
     GE(0),
     .doc = "standard deviation of log(entry price / start price)",
     .source = "assumption",
     .example = "0.02"},
    {.key = "assets",
     T_LIST,
     .unit = "",
     .default_doc = "BTC, ETH, SOL",
     .bound_doc = "one entry per asset",
     .doc = "each asset's open interest and long share (table population.assets[])",
     .source = "-"},
};
#undef S

#define S mf_population_asset_config
static const mf_schema_row population_asset_rows[] = {
    {.key = "asset",
     T_NAME,
     .unit = "",
     .bound_doc = "required",
     .doc = "which asset",
     .source = "-"},
    {.key = "open_interest_usd",
     T_DBL,
     AT(S, open_interest_usd),
     .unit = "USD",
     .default_doc = "12e9, 8e9, 2.5e9",
     GT(0),
     .bound_text = "must be a finite amount > 0",
     .bound_doc = "> 0; required for a new asset",
     .doc = "target open interest the generated positions add up to",
     .source = "BTC: Binance BTC futures OI $12.3B, mid-2025 [S]; ETH and SOL: assumptions below "
               "the published records (Binance ETH $14.15B [W], all-venue SOL $10.74B [W])",
     .example = "1e8"},
    {.key = "long_share",
     T_DBL,
     AT(S, long_share),
     .unit = "share",
     .default_doc = "0.55",
     GE(0),
     LE(1),
     .bound_text = "must be a share in [0, 1]",
     .bound_doc = "in [0, 1]; required for a new asset",
     .doc = "share of the asset's positions that are long",
     .source = "assumption",
     .example = "0.45"},
};
#undef S

/* ---- cascade, output, sweep ----------------------------------------------------------------- */

#define S mf_cascade_config
static const mf_schema_row cascade_rows[] = {
    {.key = "threshold_usd",
     T_DBL,
     AT(S, threshold_usd),
     .unit = "USD",
     .default_text = "0",
     GE(0),
     .bound_text = "must be a finite amount >= 0",
     .doc = "a step is \"in a cascade\" when it liquidates more than this",
     .source = "docs/model.md",
     .example = "1e5"},
    {.key = "gap_steps",
     T_I32,
     AT(S, gap_steps),
     .unit = "steps",
     .default_text = "5",
     GE(0),
     .doc = "quiet steps allowed inside one cascade",
     .source = "assumption",
     .example = "2"},
};
#undef S

#define S mf_output_config
static const mf_schema_row output_rows[] = {
    {.key = "paths",
     T_BOOL,
     AT(S, paths),
     .unit = "",
     .default_text = "false",
     .doc = "also write the per-path table",
     .source = "-",
     .example = "true"},
    {.key = "bins_per_decade",
     T_I32,
     AT(S, bins_per_decade),
     .unit = "bins",
     .default_text = "10",
     GE(1),
     .doc = "resolution of the log-binned histograms",
     .source = "engineering",
     .example = "20"},
    {.key = "quantiles",
     T_LIST,
     .unit = "",
     .default_doc = "[0.5, 0.9, 0.95, 0.975, 0.99, 0.999]",
     .bound_doc = "1 to 16 levels (MF_MAX_QUANTILES), each in (0, 1), strictly increasing",
     .doc = "levels of every metric's quantiles and expected shortfall (each with its 95% "
            "interval or standard error); a flow list, also with --set "
            "output.quantiles=[0.9,0.99]",
     .source = "0.95 / 0.99 VaR and 0.975 ES (Basel FRTB); 0.999 for the far tail",
     .example = "[0.9, 0.99]"},
    {.key = "path_values",
     T_BOOL,
     AT(S, path_values),
     .unit = "",
     .default_text = "true",
     .doc = "write each per-path metric's samples in path order (path_values), for the paired "
            "standard error of a difference between sweep points; false saves 8 bytes per path "
            "and metric on huge runs",
     .source = "-",
     .example = "false"},
    {.key = "traces",
     T_LIST,
     .unit = "paths",
     .default_doc = "[]",
     .bound_doc = "0 to 64 path indices, each in [0, run.paths), strictly increasing",
     .doc = "paths whose full time series (index and mark per asset, liquidations by side, "
            "backlog, fund, rounds per step) are written to point_<i>/traces; a flow list, "
            "also with --set output.traces=[0,7]",
     .source = "-",
     .example = "[0, 3]"},
    {.key = "traces_worst",
     T_I32,
     AT(S, traces_worst),
     .unit = "paths",
     .default_text = "0",
     GE(0),
     LE(MF_MAX_TRACES),
     .doc = "also trace the k paths with the largest liquidated notional of each point (ties: "
            "the lower path index), the same paths for any rank count; needs output.path_values",
     .source = "-",
     .example = "2"},
};
#undef S

#define S mf_sweep_config
static const mf_schema_row sweep_rows[] = {
    {.key = "mode",
     T_ENUM(sweep_mode_names),
     AT(S, mode),
     .unit = "",
     .default_text = "product",
     .doc = "product: every combination of the parameters' values; zip: the lists are walked "
            "together (all must have the same length)",
     .source = "-",
     .example = "zip"},
    {.key = "parameters",
     T_LIST,
     .unit = "",
     .default_doc = "[]",
     .bound_doc = "0 to 8 entries (MF_MAX_SWEEP_PARAMS)",
     .doc = "the swept keys (table sweep.parameters[]); [] = no sweep",
     .source = "-"},
};
#undef S

static const mf_schema_row sweep_parameter_rows[] = {
    {.key = "key",
     .type = MF_SCHEMA_STRING,
     .unit = "",
     .bound_doc = "required",
     .doc = "the key to sweep, in --set syntax: dotted, list items by position or by name",
     .source = "-"},
    {.key = "values",
     T_LIST,
     .unit = "",
     .bound_doc = "1 to 4096 scalars",
     .doc = "the values, in order: numbers or strings",
     .source = "-"},
    {.key = "linear",
     T_RANGE,
     .unit = "",
     .bound_doc = "{start, stop, num}",
     .doc = "num values from start to stop inclusive: start + (stop - start) * i / (num - 1)",
     .source = "-"},
    {.key = "log",
     T_RANGE,
     .unit = "",
     .bound_doc = "{start, stop, num}; start, stop > 0",
     .doc = "num values spaced geometrically: start * pow(stop / start, i / (num - 1))",
     .source = "-"},
};

/* ---- the tables ----------------------------------------------------------------------------- */

#define TABLE(name, title, prefix, rows)                                                           \
    { name, title, prefix, rows, N_ROWS(rows) }
const mf_schema_table mf_schema_tables[] = {
    TABLE("run", "the shape of the computation", "run.", run_rows),
    TABLE("market", "return distribution, jumps, impact and depth", "market.", market_rows),
    TABLE("market.assets[]", "one entry per asset (1 to 8)", "market.assets.0.", asset_rows),
    TABLE("market.stress[]", "deterministic shocks (0 to 32; default none)", "market.stress.0.",
          stress_rows),
    TABLE("venue", "the exchange", "venue.", venue_rows),
    TABLE("venue.markets[]", "one entry per asset", "venue.markets.0.", venue_market_rows),
    TABLE("venue.markets[].tiers[]", "risk tiers of one market, 1 to 16",
          "venue.markets.0.tiers.1.", tier_rows),
    TABLE("population", "the accounts", "population.", population_rows),
    TABLE("population.assets[]", "one entry per asset", "population.assets.0.",
          population_asset_rows),
    TABLE("cascade", "what counts as a cascade", "cascade.", cascade_rows),
    TABLE("output", "what the run writes", "output.", output_rows),
    TABLE("sweep", "parameter sweeps", "sweep.", sweep_rows),
    TABLE("sweep.parameters[]", "one swept key (0 to 8)", "sweep.parameters.0.",
          sweep_parameter_rows),
};
const size_t mf_schema_n_tables = N_ROWS(mf_schema_tables);

const mf_schema_table *mf_schema_table_named(const char *name) {
    for (size_t t = 0; t < mf_schema_n_tables; t++)
        if (strcmp(mf_schema_tables[t].name, name) == 0) return &mf_schema_tables[t];
    return NULL;
}

void mf_schema_known_keys(const mf_schema_table *table, const char *prefix, mf_schema_keys *out) {
    size_t n = 0, length = strlen(prefix);
    for (size_t r = 0; r < table->n_rows && n < MF_SCHEMA_MAX_KEYS; r++) {
        const char *key = table->rows[r].key;
        if (strncmp(key, prefix, length) != 0) continue;
        const char *rest = key + length;
        size_t segment = strcspn(rest, ".");
        int seen = 0;
        for (size_t i = 0; i < n && !seen; i++)
            seen = strlen(out->keys[i]) == segment && strncmp(out->keys[i], rest, segment) == 0;
        if (seen) continue;
        snprintf(out->text[n], sizeof out->text[n], "%.*s", (int)segment, rest);
        out->keys[n] = out->text[n];
        n++;
    }
    out->keys[n] = NULL;
}

void mf_schema_bounds_text(const mf_schema_row *row, char *out, size_t size) {
    if (row->bound_doc) {
        snprintf(out, size, "%s", row->bound_doc);
        return;
    }
    char lo[40], hi[40];
    mf_cfg_format_double(row->lo, lo, sizeof lo);
    mf_cfg_format_double(row->hi, hi, sizeof hi);
    const char *inf = row->allow_inf ? " or .inf" : "";
    if (row->lo_kind && row->hi_kind)
        snprintf(out, size, "in %c%s, %s%c%s", row->lo_kind == MF_BOUND_CLOSED ? '[' : '(', lo, hi,
                 row->hi_kind == MF_BOUND_CLOSED ? ']' : ')', inf);
    else if (row->lo_kind)
        snprintf(out, size, "%s %s%s", row->lo_kind == MF_BOUND_CLOSED ? ">=" : ">", lo, inf);
    else if (row->hi_kind)
        snprintf(out, size, "%s %s%s", row->hi_kind == MF_BOUND_CLOSED ? "<=" : "<", hi, inf);
    else if (row->type == MF_SCHEMA_DOUBLE)
        snprintf(out, size, "finite%s", inf);
    else
        out[0] = '\0';
}

/* ---- marginfall schema: Markdown and JSON -------------------------------------------------- */

typedef struct {
    char *data;
    size_t length, capacity;
    int failed;
} out_text;

static void put(out_text *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out_text *o, const char *fmt, ...) {
    if (o->failed) return;
    for (;;) {
        va_list args;
        va_start(args, fmt);
        int needed = vsnprintf(o->data + o->length, o->capacity - o->length, fmt, args);
        va_end(args);
        if (needed < 0) {
            o->failed = 1;
            return;
        }
        if ((size_t)needed < o->capacity - o->length) {
            o->length += (size_t)needed;
            return;
        }
        size_t capacity = 2 * o->capacity + (size_t)needed + 1;
        char *grown = realloc(o->data, capacity);
        if (!grown) {
            o->failed = 1;
            return;
        }
        o->data = grown;
        o->capacity = capacity;
    }
}

static const char *type_name(mf_schema_type type) {
    switch (type) {
    case MF_SCHEMA_INT32:
        return "int32";
    case MF_SCHEMA_INT64:
        return "int64";
    case MF_SCHEMA_UINT64:
        return "uint64";
    case MF_SCHEMA_DOUBLE:
        return "double";
    case MF_SCHEMA_BOOL:
        return "bool";
    case MF_SCHEMA_STRING:
        return "string";
    case MF_SCHEMA_PATH:
        return "path";
    case MF_SCHEMA_ENUM:
        return "enum";
    case MF_SCHEMA_NAME:
        return "name";
    case MF_SCHEMA_LIST:
        return "list";
    case MF_SCHEMA_RANGE:
        return "range";
    }
    return "?";
}

/* The key as the docs write it: run.paths, market.assets[].price. */
static void full_key(const mf_schema_table *table, const mf_schema_row *row, char *out,
                     size_t size) {
    snprintf(out, size, "%s.%s", table->name, row->key);
}

static int textual(const mf_schema_row *row) {
    return row->type == MF_SCHEMA_STRING || row->type == MF_SCHEMA_PATH ||
           row->type == MF_SCHEMA_ENUM || row->type == MF_SCHEMA_BOOL;
}

static void markdown(out_text *o) {
    for (size_t t = 0; t < mf_schema_n_tables; t++) {
        const mf_schema_table *table = &mf_schema_tables[t];
        put(o, "<!-- schema:begin %s -->\n", table->name);
        put(o, "| key | type | unit | default | bounds | meaning | source |\n");
        put(o, "|---|---|---|---|---|---|---|\n");
        for (size_t r = 0; r < table->n_rows; r++) {
            const mf_schema_row *row = &table->rows[r];
            char key[MF_CFG_KEY_LEN], bounds[256];
            full_key(table, row, key, sizeof key);
            mf_schema_bounds_text(row, bounds, sizeof bounds);
            put(o, "| `%s` | %s", key, type_name(row->type));
            for (int i = 0; row->names && row->names[i]; i++)
                put(o, "%s`%s`", i ? ", " : ": ", row->names[i]);
            put(o, " | %s | ", row->unit && row->unit[0] ? row->unit : "-");
            if (row->default_doc)
                put(o, "%s", row->default_doc);
            else if (!row->default_text)
                put(o, "-");
            else if (textual(row))
                put(o, row->default_text[0] ? "`%s`" : "`\"%s\"`", row->default_text);
            else
                put(o, "%s", row->default_text);
            put(o, " | %s | %s | %s |\n", bounds[0] ? bounds : "-", row->doc, row->source);
        }
        put(o, "<!-- schema:end %s -->\n\n", table->name);
    }
}

static void json_string(out_text *o, const char *text) {
    if (!text) {
        put(o, "null");
        return;
    }
    put(o, "\"");
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '"' || *p == '\\')
            put(o, "\\%c", *p);
        else if (*p < 0x20)
            put(o, "\\u%04x", *p);
        else
            put(o, "%c", *p);
    }
    put(o, "\"");
}

static void json_bound(out_text *o, unsigned char kind, double value) {
    if (!kind) {
        put(o, "null");
        return;
    }
    char text[40];
    mf_cfg_format_double(value, text, sizeof text);
    put(o, "%s", text);
}

static void json(out_text *o) {
    put(o, "[\n");
    int first = 1;
    for (size_t t = 0; t < mf_schema_n_tables; t++) {
        const mf_schema_table *table = &mf_schema_tables[t];
        for (size_t r = 0; r < table->n_rows; r++) {
            const mf_schema_row *row = &table->rows[r];
            char key[MF_CFG_KEY_LEN], bounds[256];
            full_key(table, row, key, sizeof key);
            mf_schema_bounds_text(row, bounds, sizeof bounds);
            put(o, "%s  {\"key\": ", first ? "" : ",\n");
            first = 0;
            json_string(o, key);
            put(o, ", \"table\": ");
            json_string(o, table->name);
            put(o, ", \"type\": ");
            json_string(o, type_name(row->type));
            put(o, ", \"unit\": ");
            json_string(o, row->unit);
            put(o, ", \"default\": ");
            json_string(o, row->default_doc ? row->default_doc : row->default_text);
            put(o, ", \"bounds\": {\"min\": ");
            json_bound(o, row->lo_kind, row->lo);
            put(o, ", \"min_inclusive\": %s, \"max\": ",
                row->lo_kind == MF_BOUND_CLOSED ? "true" : "false");
            json_bound(o, row->hi_kind, row->hi);
            put(o, ", \"max_inclusive\": %s, \"inf\": %s, \"text\": ",
                row->hi_kind == MF_BOUND_CLOSED ? "true" : "false",
                row->allow_inf ? "true" : "false");
            json_string(o, bounds);
            put(o, "}, \"names\": ");
            if (row->names) {
                put(o, "[");
                for (int i = 0; row->names[i]; i++) {
                    if (i) put(o, ", ");
                    json_string(o, row->names[i]);
                }
                put(o, "]");
            } else {
                put(o, "null");
            }
            put(o, ", \"doc\": ");
            json_string(o, row->doc);
            put(o, ", \"source\": ");
            json_string(o, row->source);
            put(o, ", \"set_key\": ");
            char set_key[MF_CFG_KEY_LEN];
            snprintf(set_key, sizeof set_key, "%s%s", table->prefix, row->key);
            json_string(o, set_key);
            put(o, ", \"example\": ");
            json_string(o, row->example);
            put(o, ", \"example_needs\": ");
            char needs[MF_CFG_KEY_LEN];
            snprintf(needs, sizeof needs, "%s%s", table->prefix,
                     row->example_needs ? row->example_needs : "");
            json_string(o, row->example_needs ? needs : NULL);
            put(o, "}");
        }
    }
    put(o, "\n]\n");
}

mf_status mf_config_schema_text(const char *format, char **text) {
    if (!format || !text) return MF_FAIL(MF_ERR_INTERNAL, "mf_config_schema_text: NULL argument");
    *text = NULL;
    out_text o = {malloc(4096), 0, 4096, 0};
    if (!o.data) return MF_FAIL(MF_ERR_MEMORY, "out of memory for the schema");
    o.data[0] = '\0';
    if (strcmp(format, "markdown") == 0) {
        markdown(&o);
    } else if (strcmp(format, "json") == 0) {
        json(&o);
    } else {
        free(o.data);
        return MF_FAIL(MF_ERR_USAGE, "unknown schema format '%s' (markdown or json)", format);
    }
    if (o.failed) {
        free(o.data);
        return MF_FAIL(MF_ERR_MEMORY, "out of memory for the schema");
    }
    *text = o.data;
    return MF_OK;
}

/* The unit a config key is documented with (venue.max_leverage, venue.markets.BTC.depth_usd,
 * market.assets.0.volatility): the table whose name matches the key with its list selectors
 * (an index or a name after each "[]" part) skipped, then the row of the rest. */
static const char *unit_in_table(const mf_schema_table *table, const char *key) {
    const char *name = table->name;
    const char *at = key;
    while (*name) {
        const size_t part = strcspn(name, ".");
        const int is_list = part >= 2 && name[part - 2] == '[' && name[part - 1] == ']';
        const size_t compare = is_list ? part - 2 : part;
        if (strncmp(at, name, compare) != 0 || at[compare] != '.') return NULL;
        at += compare + 1;
        if (is_list) { /* skip the selector */
            const size_t selector = strcspn(at, ".");
            if (at[selector] != '.') return NULL;
            at += selector + 1;
        }
        name += part;
        if (*name == '.') name++;
    }
    for (size_t r = 0; r < table->n_rows; r++)
        if (strcmp(table->rows[r].key, at) == 0) return table->rows[r].unit;
    return NULL;
}

const char *mf_config_key_unit(const char *key) {
    if (!key) return NULL;
    for (size_t t = 0; t < mf_schema_n_tables; t++) {
        const char *unit = unit_in_table(&mf_schema_tables[t], key);
        if (unit) return unit;
    }
    return NULL;
}
