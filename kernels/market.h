/* Market kernels (docs/model.md section 2): the exogenous index shared by every venue, and
 * one venue's order book per asset: mark price with market impact, transient decay and depth
 * feedback. Index and venue state are separate so that several venues can share one index. */
#ifndef MF_MARKET_H
#define MF_MARKET_H

#include <stdint.h>

#include "book.h"

/* Bound on the log impact (docs/model.md, "Market impact"): a single round's impact and the
 * total J = J_perm + J_trans are kept within [-MF_IMPACT_MAX_LOG, +MF_IMPACT_MAX_LOG] =
 * +-ln(1e6), so impact alone never moves the mark more than a factor 1e6 from the index and
 * the mark stays positive and finite whenever the index is. Only a value beyond the bound is
 * changed: impact within it keeps every bit. */
#define MF_IMPACT_MAX_LOG 13.815510557964274 /* ln(1e6) */

/* Price-impact law g(u) of a venue's book (market.impact.law). */
typedef enum { MF_IMPACT_LINEAR = 0, MF_IMPACT_SQRT = 1 } mf_impact_law;

/* The index model's per-step parameters (shared by every venue). */
typedef struct {
    int n_assets;
    double drift_step[MF_MAX_ASSETS];               /* mu dt */
    double variance_step[MF_MAX_ASSETS];            /* long-run sigma^2 dt */
    double cholesky[MF_MAX_ASSETS * MF_MAX_ASSETS]; /* lower, row-major */
    int garch;                                      /* 1: GARCH(1,1) per asset */
    double garch_alpha, garch_beta;                 /* omega = variance_step (1 - alpha - beta) */
    double jump_beta[MF_MAX_ASSETS];                /* loading on the market-wide jump */
} mf_index_params;

/* One venue's book parameters: impact, its decay and depth. */
typedef struct {
    mf_impact_law impact_law;             /* MF_IMPACT_LINEAR or MF_IMPACT_SQRT */
    double permanent_fraction;            /* phi */
    double transient_decay;               /* per-step factor 2^(-dt / half-life) */
    double depth_usd[MF_MAX_ASSETS];      /* base depth D_k; INFINITY = no impact */
    double feedback_beta, feedback_floor; /* D(t) = D max(floor, exp(-beta drawdown)) */
} mf_venue_params;

/* Index log-prices for one path: log_index[t * K + k], t = 0..steps. The noise comes in as
 * arrays the driver drew from the path's streams: normals[t * K + k] (standard normal),
 * mixing[t] (multiplies the normals: sqrt((nu - 2) / W), W ~ chi2(nu), or 1 when Gaussian),
 * jumps[t] (the step's summed market jump, log units), stress[t * K + k] (deterministic
 * log shock, may be NULL). log_index[0 * K + k] must hold the start log-prices. Assets with
 * replayed[k] != 0 are left untouched (their path is already in log_index, stress added). */
void mf_index_path(const mf_index_params *params, int32_t steps, const double *normals,
                   const double *mixing, const double *jumps, const double *stress,
                   const uint8_t *replayed, double *log_index);

/* The index of one asset on one path (shared by every venue). */
typedef struct {
    double log_index;          /* x_k(t) */
    double index_peak;         /* running maximum of the index */
    double max_index_drawdown; /* max over t of 1 - index / peak */
} mf_index_state;

/* One venue's book of one asset on one path. */
typedef struct {
    double impact_perm;       /* J_perm, log units */
    double impact_trans;      /* J_trans, log units */
    double mark;              /* P = exp(x + J) */
    double mark_peak;         /* running maximum of the mark */
    double depth;             /* current depth D_k(t), USD per 1% */
    double max_mark_drawdown; /* max over t of 1 - P / peak */
} mf_venue_book_state;

void mf_index_state_init(double log_index, mf_index_state *state);
/* Index phase of a step: the new index level, its peak and drawdown. */
void mf_index_advance(double log_index, mf_index_state *state);

void mf_venue_book_init(const mf_venue_params *params, int asset, const mf_index_state *index,
                        mf_venue_book_state *state);
/* Venue-price phase of a step (after the index phase): decay transient impact, recompute the
 * mark from the index, update the mark's peak and drawdown and the depth from it. */
void mf_venue_price(const mf_venue_params *params, int asset, const mf_index_state *index,
                    mf_venue_book_state *state);
/* Apply one round's net liquidation flow (USD, > 0 = net selling) to the mark; returns the
 * post-impact mark. With infinite depth or zero flow the mark is unchanged. The round's log
 * impact and the total J are clamped to +-MF_IMPACT_MAX_LOG (see above). */
double mf_venue_impact(const mf_venue_params *params, const mf_index_state *index,
                       mf_venue_book_state *state, double net_sold_usd);

#endif
