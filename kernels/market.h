/* Market kernels (MODEL.md section 1): the exogenous index path, and the venue's mark price
 * with market impact, transient decay and depth feedback. */
#ifndef MF_MARKET_H
#define MF_MARKET_H

#include <stdint.h>

#include "book.h"

enum { MF_LAW_LINEAR = 0, MF_LAW_SQRT = 1 };

typedef struct {
    int n_assets;
    /* Index dynamics, per step. */
    double drift_step[MF_KERNEL_MAX_ASSETS];                      /* mu dt */
    double variance_step[MF_KERNEL_MAX_ASSETS];                   /* long-run sigma^2 dt */
    double cholesky[MF_KERNEL_MAX_ASSETS * MF_KERNEL_MAX_ASSETS]; /* lower, row-major */
    int garch;                                                    /* 1: GARCH(1,1) per asset */
    double garch_alpha, garch_beta;         /* omega = variance_step (1 - alpha - beta) */
    double jump_beta[MF_KERNEL_MAX_ASSETS]; /* loading on the market-wide jump */
    /* Impact. */
    int impact_law;                         /* MF_LAW_LINEAR or MF_LAW_SQRT */
    double permanent_fraction;              /* phi */
    double transient_decay;                 /* per-step factor 2^(-dt / half-life) */
    double depth_usd[MF_KERNEL_MAX_ASSETS]; /* base depth D_k; INFINITY = no impact */
    double feedback_beta, feedback_floor;   /* D(t) = D max(floor, exp(-beta drawdown)) */
} mf_market_params;

/* Index log-prices for one path: log_index[t * K + k], t = 0..steps. The noise comes in as
 * arrays the driver drew from the path's streams: normals[t * K + k] (standard normal),
 * mixing[t] (multiplies the normals: sqrt((nu - 2) / W), W ~ chi2(nu), or 1 when Gaussian),
 * jumps[t] (the step's summed market jump, log units), stress[t * K + k] (deterministic
 * log shock, may be NULL). log_index[0 * K + k] must hold the start log-prices. Assets with
 * replayed[k] != 0 are left untouched (their path is already in log_index, stress added). */
void mf_index_path(const mf_market_params *params, int32_t steps, const double *normals,
                   const double *mixing, const double *jumps, const double *stress,
                   const uint8_t *replayed, double *log_index);

/* The venue-side state of one asset on one path. */
typedef struct {
    double log_index;          /* x_k(t) */
    double impact_perm;        /* J_perm, log units */
    double impact_trans;       /* J_trans, log units */
    double mark;               /* P = exp(x + J) */
    double mark_peak;          /* running maximum of the mark */
    double index_peak;         /* running maximum of the index */
    double depth;              /* current depth D_k(t), USD per 1% */
    double max_mark_drawdown;  /* max over t of 1 - P / peak */
    double max_index_drawdown; /* same for the index */
} mf_asset_state;

void mf_asset_state_init(const mf_market_params *params, int asset, double log_index,
                         mf_asset_state *state);
/* Start of a step: set the new index, decay transient impact, recompute the mark, update
 * peaks, drawdowns and the depth from the mark's drawdown. */
void mf_asset_step(const mf_market_params *params, int asset, double log_index,
                   mf_asset_state *state);
/* Apply one round's net liquidation flow (USD, > 0 = net selling) to the mark; returns the
 * post-impact mark. With infinite depth or zero flow the mark is unchanged. */
double mf_asset_impact(const mf_market_params *params, mf_asset_state *state, double net_sold_usd);

#endif
