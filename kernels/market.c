#include "market.h"

#include <math.h>

void mf_index_path(const mf_index_params *params, int32_t steps, const double *normals,
                   const double *mixing, const double *jumps, const double *stress,
                   const uint8_t *replayed, double *log_index) {
    const int n = params->n_assets;
    double variance[MF_MAX_ASSETS];
    double last_shock[MF_MAX_ASSETS];
    double replay_stress[MF_MAX_ASSETS]; /* stress so far, shifting a replayed path */
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

static double effective_depth(const mf_venue_params *params, int asset,
                              const mf_venue_book_state *state) {
    const double base = params->depth_usd[asset];
    if (params->feedback_beta == 0 || isinf(base)) return base;
    const double drawdown = 1.0 - state->mark / state->mark_peak;
    double factor = exp(-params->feedback_beta * drawdown);
    if (factor < params->feedback_floor) factor = params->feedback_floor;
    return base * factor;
}

static void track_mark(mf_venue_book_state *state) {
    if (state->mark > state->mark_peak) state->mark_peak = state->mark;
    const double mark_drawdown = 1.0 - state->mark / state->mark_peak;
    if (mark_drawdown > state->max_mark_drawdown) state->max_mark_drawdown = mark_drawdown;
}

void mf_index_state_init(double log_index, mf_index_state *state) {
    state->log_index = log_index;
    state->index_peak = exp(log_index);
    state->max_index_drawdown = 0;
}

void mf_index_advance(double log_index, mf_index_state *state) {
    state->log_index = log_index;
    const double index = exp(log_index);
    if (index > state->index_peak) state->index_peak = index;
    const double index_drawdown = 1.0 - index / state->index_peak;
    if (index_drawdown > state->max_index_drawdown) state->max_index_drawdown = index_drawdown;
}

void mf_venue_book_init(const mf_venue_params *params, int asset, const mf_index_state *index,
                        mf_venue_book_state *state) {
    state->impact_perm = 0;
    state->impact_trans = 0;
    state->mark = exp(index->log_index);
    state->mark_peak = state->mark;
    state->max_mark_drawdown = 0;
    state->depth = params->depth_usd[asset];
}

void mf_venue_price(const mf_venue_params *params, int asset, const mf_index_state *index,
                    mf_venue_book_state *state) {
    state->impact_trans *= params->transient_decay;
    state->mark = exp(index->log_index + state->impact_perm + state->impact_trans);
    track_mark(state);
    state->depth = effective_depth(params, asset, state);
}

/* Keep J = J_perm + J_trans within +-MF_IMPACT_MAX_LOG: J_perm first, then J_trans takes up
 * the rest. Comparisons only, so a J inside the bound is left exactly as it is; a NaN (from a
 * NaN flow) is left for the engine's finiteness check to report. */
static void clamp_impact(mf_venue_book_state *state) {
    if (state->impact_perm < -MF_IMPACT_MAX_LOG) state->impact_perm = -MF_IMPACT_MAX_LOG;
    if (state->impact_perm > MF_IMPACT_MAX_LOG) state->impact_perm = MF_IMPACT_MAX_LOG;
    const double total = state->impact_perm + state->impact_trans;
    if (total < -MF_IMPACT_MAX_LOG) state->impact_trans = -MF_IMPACT_MAX_LOG - state->impact_perm;
    if (total > MF_IMPACT_MAX_LOG) state->impact_trans = MF_IMPACT_MAX_LOG - state->impact_perm;
}

static double impact_shape(mf_impact_law law, double u) {
    switch (law) {
    case MF_IMPACT_LINEAR:
        return u;
    case MF_IMPACT_SQRT:
        return copysign(sqrt(fabs(u)), u);
    }
    return u;
}

double mf_venue_impact(const mf_venue_params *params, const mf_index_state *index,
                       mf_venue_book_state *state, double net_sold_usd) {
    if (net_sold_usd == 0 || isinf(state->depth)) return state->mark;
    const double u = net_sold_usd / state->depth;
    double jump = -0.01 * impact_shape(params->impact_law, u);
    /* Extreme flow (or a near-zero depth): bound the round's impact so that its shares stay
     * finite (phi x inf would be NaN at phi = 0). Never reached by a finite, moderate flow. */
    if (jump < -2 * MF_IMPACT_MAX_LOG) jump = -2 * MF_IMPACT_MAX_LOG;
    if (jump > 2 * MF_IMPACT_MAX_LOG) jump = 2 * MF_IMPACT_MAX_LOG;
    state->impact_perm += params->permanent_fraction * jump;
    state->impact_trans += (1.0 - params->permanent_fraction) * jump;
    clamp_impact(state);
    state->mark = exp(index->log_index + state->impact_perm + state->impact_trans);
    track_mark(state);
    return state->mark;
}
