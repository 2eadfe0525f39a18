/* The per-rank driver: simulates blocks of paths, a batch of paths at a time, so that one
 * sweep of the margin kernel over the account arrays serves every path in the batch. */
#ifndef MF_SIMULATE_H
#define MF_SIMULATE_H

#include <stdint.h>

#include "book.h"
#include "cascade.h"
#include "config.h"
#include "liquidation.h"
#include "market.h"
#include "mf_error.h"
#include "block_result.h"
#include "results.h"
#include "store.h"

/* Everything a path needs that the config and population fix: read-only during the run. */
typedef struct {
    const mf_config *config;
    const mf_store *store;
    mf_book_view book;
    mf_tier_table tiers;
    mf_market_params market;
    mf_engine_params engine;
    int n_assets;
    int32_t steps;
    double log_price0[MF_MAX_ASSETS];
    double *stress;           /* steps * K deterministic log shocks, or NULL */
    double *replay_log_index; /* (steps + 1) * K, replayed assets' columns filled, or NULL */
    uint8_t replayed[MF_MAX_ASSETS];
    double jump_rate_step;                  /* Poisson intensity per step */
    double composite_weight[MF_MAX_ASSETS]; /* open-interest weights for venue-level prices */
    double initial_trader_collateral;       /* sum of cross collateral and isolated margins */
    double *safe_price;   /* n_positions: the optimised margin kernel's prefilter bounds */
    int reference_kernel; /* 1: use the full-sweep reference margin kernel (tests, bench) */
} mf_model;

mf_status mf_model_build(mf_model *model, const mf_config *config, const mf_store *store);
/* The venue's risk tiers as the kernels read them. */
void mf_tier_table_from_config(const mf_config *config, mf_tier_table *tiers);
void mf_model_free(mf_model *model);

typedef struct mf_workspace mf_workspace;

/* Buffers for batches of up to config->run.batch_paths paths. */
mf_status mf_workspace_create(mf_workspace **workspace, const mf_model *model);
void mf_workspace_free(mf_workspace *workspace);

/* Simulate paths [block->first_path, + n_paths) into block (rows, ledgers, profile, cascades).
 * Results depend only on (seed, path index, config), never on threads or batch placement. */
mf_status mf_simulate_block(const mf_model *model, mf_workspace *workspace, mf_block_result *block);

/* The exogenous index path of one path: log_index[t * K + k], t = 0..steps (tests and
 * notebooks check its statistics against the configuration). */
void mf_model_index_path(const mf_model *model, mf_workspace *workspace, int64_t path,
                         double *log_index);

/* Optional per-step trace of one path (tests and replay studies): when set, path `path` of
 * the next mf_simulate_block records its prices and liquidations per step. */
typedef struct {
    int64_t path;
    double *mark;                 /* (steps + 1) * K: mark of every asset at the end of each step */
    double *index;                /* (steps + 1) * K: index, same layout */
    double *liquidated_notional;  /* steps */
    uint8_t *liquidated_accounts; /* n_accounts: 1 where the account was liquidated */
} mf_trace;
void mf_workspace_set_trace(mf_workspace *workspace, mf_trace *trace);

#endif
