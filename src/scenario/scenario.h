/* The scenario: everything a path needs, built once from the config and the population
 * (docs/model.md, "The scenario"). Below this layer nothing reads the raw config: the run
 * shape, the index model shared by every venue, and the venues (one for now), each with its
 * book view, price-impact and depth parameters, liquidation engine, settlement policy and
 * margin models with their accounts grouped by mode. Read-only during the run. */
#ifndef MF_SCENARIO_H
#define MF_SCENARIO_H

#include <stdint.h>

#include "book.h"
#include "config.h"
#include "liquidation.h"
#include "margin.h"
#include "market.h"
#include "mf_error.h"
#include "settlement.h"
#include "store.h"

#define MF_MAX_VENUES 1

/* The run's shape. */
typedef struct {
    int n_assets;
    int32_t steps;
    int batch_paths; /* paths sharing one sweep over the accounts, <= MF_MAX_BATCH */
    uint64_t seed;
    double cascade_threshold_usd;
    int32_t cascade_gap_steps;
} mf_run_shape;

/* The exogenous index, shared by every venue. */
typedef struct {
    mf_index_params params;
    double log_price0[MF_MAX_ASSETS];
    double price0[MF_MAX_ASSETS];
    double *stress;           /* steps * K deterministic log shocks, or NULL */
    double *replay_log_index; /* (steps + 1) * K, replayed assets' columns filled, or NULL */
    uint8_t replayed[MF_MAX_ASSETS];
    double student_t_nu;   /* INFINITY: Gaussian */
    double jump_rate_step; /* Poisson intensity per step */
    double jump_mean, jump_stdev;
} mf_index_model;

/* The accounts one margin model checks: those of its mode, ids ascending. */
typedef struct {
    const mf_margin_model *model;
    int64_t *accounts;
    int64_t n_accounts;
    void *prepared; /* the model's prepared data (model->prepared_size bytes), or NULL */
} mf_margin_group;

/* Funding, dynamic margin and the circuit breaker of a venue (docs/model.md, "Funding",
 * "Dynamic margin", "Circuit breaker"), in steps. */
typedef struct {
    int funding;
    int32_t funding_interval_steps; /* payments at steps t > 0 with t % interval == 0 */
    double funding_share;           /* interval / rate period */
    double funding_interest, funding_clamp, funding_cap;
    int funding_at_index; /* 1: payments valued at the index, 0: at the mark */
    int dynamic;
    double dynamic_decay;                    /* lambda = 2^(-dt / half-life) */
    double dynamic_reference[MF_MAX_ASSETS]; /* sigma_ref^2 dt: the reference per-step variance */
    double dynamic_cap;
    int breaker;
    double breaker_threshold;
    int32_t breaker_window_steps, breaker_halt_steps;
} mf_market_rules;

/* How a venue closes flagged positions beyond the FIFO engine (docs/model.md section 5). */
typedef struct {
    int partial;                      /* partial liquidation on */
    double partial_min_notional;      /* USD: at or below, closed whole */
    double partial_chunk;             /* fraction of the position per chunk */
    double partial_fee;               /* fraction of a chunk's notional, to the fund */
    int partial_target_initial;       /* 1: restore initial margin; 0: maintenance */
    int32_t partial_cooldown_steps;   /* steps before a partially liquidated position is checked */
    double fill_bound[MF_MAX_ASSETS]; /* largest relative distance of a round's mean fill from its
                                         pre-impact mark; 0 = no bound */
    int vault;                        /* backstop vault on */
    double vault_capital;             /* USD at t = 0 */
    double vault_takeover_fraction;   /* of maintenance */
    int live_book;      /* 1: a mechanism changes single positions per path (mf_live_book), or a
                           market is inverse or dated (their rules live in the live-book code), or
                           funding is paid (its ledger is the live book's) */
    int live_positions; /* 1: positions or their cash really change per path (everything above
                           but funding alone): event-driven checks then sweep instead */
} mf_liquidation_policy;

/* Sums over a set of positions, per asset: net coins sum(q), their entry value sum(q e), and
 * coins by side (shorts counted positive). */
typedef struct {
    double quantity[MF_MAX_ASSETS];
    double entry_value[MF_MAX_ASSETS];
    double longs[MF_MAX_ASSETS], shorts[MF_MAX_ASSETS];
} mf_position_totals;

static inline void mf_position_totals_add(mf_position_totals *totals, int asset, double quantity,
                                          double entry) {
    totals->quantity[asset] += quantity;
    totals->entry_value[asset] += quantity * entry;
    if (quantity > 0)
        totals->longs[asset] += quantity;
    else
        totals->shorts[asset] -= quantity;
}

typedef struct {
    mf_book_view book; /* book.contracts points at `contracts` below (NULL: all linear perps) */
    mf_contracts contracts;
    mf_tier_table tiers;
    mf_liquidation_policy liquidation;
    mf_market_rules rules;
    mf_venue_params market; /* impact and depth */
    mf_engine_params engine;
    mf_settlement_policy settlement;
    int32_t max_rounds;
    double composite_weight[MF_MAX_ASSETS]; /* open-interest weights, venue-level prices */
    double initial_trader_collateral;       /* sum of collateral and isolated margins */
    /* The whole book per asset, so that the end-of-path ledger and the funding's open
     * interest count the untouched positions in O(assets), not O(positions). */
    mf_position_totals book_totals;
    int n_groups; /* margin models in use, one per mode present */
    mf_margin_group groups[MF_N_MODES];
} mf_venue;

typedef struct {
    mf_run_shape run;
    mf_index_model index;
    int n_venues;
    mf_venue venues[MF_MAX_VENUES];
} mf_scenario;

/* Build with the code base's model table (mf_margin_models). */
mf_status mf_scenario_build(mf_scenario *scenario, const mf_config *config, const mf_store *store);
/* Build with another model table (tests: a model registered in a table of its own). For each
 * mode present in the store, the first row of that mode whose `reference` matches
 * run.margin_kernel is used, else the first row of that mode; a mode with accounts and no model
 * is an error. */
mf_status mf_scenario_build_with(mf_scenario *scenario, const mf_config *config,
                                 const mf_store *store, const mf_margin_model *models,
                                 int n_models);
void mf_scenario_free(mf_scenario *scenario);

/* The venue's risk tiers as the kernels read them (the population draws margins with them). */
void mf_scenario_tier_table(const mf_config *config, mf_tier_table *tiers);

#endif
