#include "market.h"

#include <math.h>

void mf_index_path(const mf_market_params *params, int32_t steps, const double *normals,
                   const double *mixing, const double *jumps, const double *stress,
                   const uint8_t *replayed, double *log_index) {
    const int n = params->n_assets;
    double variance[MF_KERNEL_MAX_ASSETS];
    double last_shock[MF_KERNEL_MAX_ASSETS];
    double replay_stress[MF_KERNEL_MAX_ASSETS]; /* stress so far, shifting a replayed path */
    for (int k = 0; k < n; k++) {
        variance[k] = params->variance_step[k];
        last_shock[k] = 0;
        replay_stress[k] = 0;
    }
    for (int32_t t = 0; t < steps; t++) {
        const double *z = normals + (int64_t)t * n;
        const double *previous = log_index + (int64_t)t * n;
        double *next = log_index + (int64_t)(t + 1) * n;
        for (int k = 0; k < n; k++) {
            if (params->garch && t > 0) {
                const double omega =
                    params->variance_step[k] * (1.0 - params->garch_alpha - params->garch_beta);
                variance[k] = omega + params->garch_alpha * last_shock[k] * last_shock[k] +
                              params->garch_beta * variance[k];
            }
            /* Correlate: eps_k = sum_j L[k][j] z_j, then the shared Student-t mixing. */
            double correlated = 0;
            for (int j = 0; j <= k; j++)
                correlated += params->cholesky[k * n + j] * z[j];
            const double shock = sqrt(variance[k]) * correlated * mixing[t];
            last_shock[k] = shock;
            if (replayed && replayed[k]) {
                if (stress) replay_stress[k] += stress[(int64_t)t * n + k];
                next[k] += replay_stress[k];
                continue;
            }
            double step =
                params->drift_step[k] - 0.5 * variance[k] + shock + params->jump_beta[k] * jumps[t];
            if (stress) step += stress[(int64_t)t * n + k];
            next[k] = previous[k] + step;
        }
    }
}

static double effective_depth(const mf_market_params *params, int asset,
                              const mf_asset_state *state) {
    const double base = params->depth_usd[asset];
    if (params->feedback_beta == 0 || isinf(base)) return base;
    const double drawdown = 1.0 - state->mark / state->mark_peak;
    double factor = exp(-params->feedback_beta * drawdown);
    if (factor < params->feedback_floor) factor = params->feedback_floor;
    return base * factor;
}

static void track_extremes(mf_asset_state *state) {
    if (state->mark > state->mark_peak) state->mark_peak = state->mark;
    const double mark_drawdown = 1.0 - state->mark / state->mark_peak;
    if (mark_drawdown > state->max_mark_drawdown) state->max_mark_drawdown = mark_drawdown;
    const double index = exp(state->log_index);
    if (index > state->index_peak) state->index_peak = index;
    const double index_drawdown = 1.0 - index / state->index_peak;
    if (index_drawdown > state->max_index_drawdown) state->max_index_drawdown = index_drawdown;
}

void mf_asset_state_init(const mf_market_params *params, int asset, double log_index,
                         mf_asset_state *state) {
    state->log_index = log_index;
    state->impact_perm = 0;
    state->impact_trans = 0;
    state->mark = exp(log_index);
    state->mark_peak = state->mark;
    state->index_peak = state->mark;
    state->max_mark_drawdown = 0;
    state->max_index_drawdown = 0;
    state->depth = params->depth_usd[asset];
}

void mf_asset_step(const mf_market_params *params, int asset, double log_index,
                   mf_asset_state *state) {
    state->log_index = log_index;
    state->impact_trans *= params->transient_decay;
    state->mark = exp(log_index + state->impact_perm + state->impact_trans);
    track_extremes(state);
    state->depth = effective_depth(params, asset, state);
}

double mf_asset_impact(const mf_market_params *params, mf_asset_state *state, double net_sold_usd) {
    if (net_sold_usd == 0 || isinf(state->depth)) return state->mark;
    const double u = net_sold_usd / state->depth;
    const double g = params->impact_law == MF_LAW_SQRT ? copysign(sqrt(fabs(u)), u) : u;
    const double jump = -0.01 * g;
    state->impact_perm += params->permanent_fraction * jump;
    state->impact_trans += (1.0 - params->permanent_fraction) * jump;
    state->mark = exp(state->log_index + state->impact_perm + state->impact_trans);
    track_extremes(state);
    return state->mark;
}
