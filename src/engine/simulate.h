/* The per-rank driver: simulates blocks of paths, a batch of paths at a time, so that one
 * sweep of the margin models over the account arrays serves every path in the batch. A step is
 * a list of phases (docs/model.md, "The step"). */
#ifndef MF_SIMULATE_H
#define MF_SIMULATE_H

#include <signal.h>
#include <stdint.h>

#include "book.h"
#include "cascade.h"
#include "config.h"
#include "liquidation.h"
#include "market.h"
#include "mf_error.h"
#include "block_result.h"
#include "results.h"
#include "scenario.h"
#include "store.h"

/* The engine's handle: the scenario the step reads (src/scenario/scenario.h), built from the
 * config and the population; `config` is kept for the run layer (paths, blocks) only, the
 * engine never reads it. */
typedef struct {
    const mf_config *config;
    mf_scenario scenario;
    int32_t steps;
} mf_model;

mf_status mf_model_build(mf_model *model, const mf_config *config, const mf_store *store);
/* The same with another margin-model table (see mf_scenario_build_with). */
mf_status mf_model_build_with(mf_model *model, const mf_config *config, const mf_store *store,
                              const mf_margin_model *models, int n_models);
void mf_model_free(mf_model *model);

typedef struct mf_workspace mf_workspace;

/* Buffers for batches of up to run.batch_paths paths. */
mf_status mf_workspace_create(mf_workspace **workspace, const mf_model *model);
void mf_workspace_free(mf_workspace *workspace);

/* Simulate paths [block->first_path, + n_paths) into block (rows, ledgers, profile, cascades).
 * Results depend only on (seed, path index, config), never on threads or batch placement. */
mf_status mf_simulate_block(const mf_model *model, mf_workspace *workspace, mf_block_result *block);

/* The exogenous index path of one path: log_index[t * K + k], t = 0..steps (tests and
 * notebooks check its statistics against the configuration). */
void mf_model_index_path(const mf_model *model, mf_workspace *workspace, int64_t path,
                         double *log_index);

/* Optional per-step trace of one path (output.traces, tests and replay studies): when set,
 * path `path` of the next mf_simulate_block records its prices and liquidations per step.
 * Every array but mark and index may be NULL (not recorded). Recording only reads the state:
 * a traced path's results are the same bits as an untraced one's. */
typedef struct {
    int64_t path;
    double *mark;                 /* (steps + 1) * K: mark of every asset at the end of each step */
    double *index;                /* (steps + 1) * K: index, same layout */
    double *liquidated_notional;  /* steps */
    uint8_t *liquidated_accounts; /* n_accounts: 1 where the account was liquidated */
    double *liquidated_long;      /* steps: USD of long positions closed (sold) in the step */
    double *liquidated_short;     /* steps: USD of short positions closed (bought) */
    double *accounts;             /* steps: accounts liquidated in the step */
    double *backlog;              /* steps: USD still queued at the end of the step, at the marks */
    double *fund;                 /* steps: insurance fund at the end of the step */
    int32_t *rounds;              /* steps: cascade rounds the step used */
} mf_trace;
void mf_workspace_set_trace(mf_workspace *workspace, mf_trace *trace);

/* Tests: with on = 1, the end-of-path ledger and the funding's open interest are summed account
 * by account (O(accounts), the reference) instead of from the venue's totals less what the
 * path liquidated; the two agree to rounding. */
void mf_workspace_count_every_account(mf_workspace *workspace, int on);

/* 1 when every per-path state byte of the workspace is 0, as every batch must leave them
 * (tests: the sparse clearing after a batch misses nothing). O(accounts x batch). */
int mf_workspace_states_clear(const mf_workspace *workspace);

/* A stop flag (the run's SIGTERM flag) polled between steps: once it is non-zero,
 * mf_simulate_block returns MF_ERR_INTERRUPTED within one step and the block's results are
 * incomplete (the caller must drop them). NULL (the default): never polled. */
void mf_workspace_set_stop_flag(mf_workspace *workspace, const volatile sig_atomic_t *stop);

/* The end-of-path check: MF_OK when every floating-point field of the path's row and ledger
 * is finite, else MF_ERR_NUMERIC with a message naming the path, the step and the field (the
 * engine also checks prices, money and flows at the end of every step). */
mf_status mf_check_path_finite(int64_t path, int32_t step, const mf_path_row *row,
                               const mf_path_ledger *ledger);

/* The margin phase opens an OpenMP region only when accounts x batch >= this many account-paths
 * (default MF_PARALLEL_MIN_ACCOUNT_PATHS in simulate.c, see docs/performance.md); tests set 0 to
 * exercise the parallel sweep on small books. Results do not depend on it. */
void mf_workspace_set_parallel_threshold(mf_workspace *workspace, int64_t min_account_paths);

#endif
