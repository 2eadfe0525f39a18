/* Margin model "portfolio" (reference; docs/model.md, "Portfolio margin"): equity as cross,
 * E = C + sum q (P - e) - sum q F, and a risk-based requirement: the worst loss of the account's
 * net position per asset over a grid of joint price moves, at least floor_rate x gross
 * notional. The whole account is flagged when E <= requirement. */
#include "margin.h"

/* Net quantity Q_k, mark P_k, maintenance scale s_k. Each asset's moves are scaled by s_k (as
 * the cross requirement's terms are), and an asset's common range is never below the
 * maintenance rate of the tier its net notional sits in, so that an account whose positions all
 * point one way needs at least its cross requirement (docs/model.md). */
double mf_portfolio_requirement(const mf_tier_table *tiers, int n_assets,
                                const double *net_quantity, const double *marks,
                                const double *scale) {
    const mf_portfolio_grid *grid = &tiers->portfolio;
    double common_exposure = 0; /* sum_k Q_k P_k R_k s_k: the loss of the move u = -1 */
    double gross = 0;
    double worst = 0; /* the scenario u = 0 loses nothing */
    for (int k = 0; k < n_assets; k++) {
        const double quantity = net_quantity[k];
        if (quantity == 0) continue;
        const double value = quantity * marks[k];
        const double notional = value < 0 ? -value : value;
        const double tier_rate = tiers->mmr[k][mf_tier_index(tiers, k, notional)];
        const double range = grid->range[k] > tier_rate ? grid->range[k] : tier_rate;
        common_exposure += value * range * scale[k];
        gross += notional * scale[k];
        /* This asset alone moved by -+spread_range against the position. */
        const double spread_loss = notional * grid->spread_range[k] * scale[k];
        if (spread_loss > worst) worst = spread_loss;
    }
    /* Common moves u R_k, u = (2 j - (points - 1)) / (points - 1): -1, 0 and +1 are exact. */
    const int last = grid->points - 1;
    for (int j = 0; j <= last; j++) {
        const double u = (double)(2 * j - last) / (double)last;
        const double loss = -u * common_exposure;
        if (loss > worst) worst = loss;
    }
    const double floor = grid->floor_rate * gross;
    return worst > floor ? worst : floor;
}

/* with_vectors is a constant in each caller below (see margin_isolated.c). The requirement is
 * mf_portfolio_requirement's, operation for operation, evaluated asset-major over the batch. */
static inline int64_t check_portfolio(const mf_margin_call *call, const int with_vectors) {
    const mf_book_view *book = call->book;
    const mf_tier_table *tiers = call->tiers;
    const mf_portfolio_grid *grid = &tiers->portfolio;
    const int batch = call->batch;
    const int b_lo = call->one_path ? call->one_path - 1 : 0; /* paths [b_lo, b_hi) */
    const int b_hi = call->one_path ? call->one_path : batch;
    const int n_assets = book->n_assets;
    const int last = grid->points - 1;
    int64_t flagged = 0;
    double equity[MF_KERNEL_MAX_BATCH];
    double common_exposure[MF_KERNEL_MAX_BATCH];
    double gross[MF_KERNEL_MAX_BATCH];
    double worst[MF_KERNEL_MAX_BATCH];
    double net_quantity[MF_MAX_ASSETS];
    double common_move[MF_PORTFOLIO_MAX_POINTS]; /* u_j, as mf_portfolio_requirement has them */
    for (int j = 0; j <= last; j++)
        common_move[j] = (double)(2 * j - last) / (double)last;
    for (int64_t i = call->begin; i < call->end; i++) {
        const int64_t account = call->accounts[i];
        const int64_t first = book->account_first[account];
        const int64_t stop = first + book->account_positions[account];
        uint8_t *states = call->account_state + account * batch;
        const double collateral = book->account_collateral[account];
        for (int b = b_lo; b < b_hi; b++) {
            equity[b] = collateral;
            common_exposure[b] = 0;
            gross[b] = 0;
            worst[b] = 0;
        }
        for (int k = 0; k < n_assets; k++)
            net_quantity[k] = 0;
        for (int64_t p = first; p < stop; p++) {
            const int asset = book->position_asset[p];
            const double quantity = book->position_quantity[p];
            const double entry = book->position_entry[p];
            const double *asset_marks = call->marks + (int64_t)asset * batch;
            const double *funding = call->vectors.funding_index + (int64_t)asset * batch;
            net_quantity[asset] += quantity;
            if (!with_vectors) {
                for (int b = b_lo; b < b_hi; b++)
                    equity[b] += quantity * (asset_marks[b] - entry);
                continue;
            }
            for (int b = b_lo; b < b_hi; b++)
                equity[b] += quantity * (asset_marks[b] - entry) - quantity * funding[b];
        }
        for (int k = 0; k < n_assets; k++) {
            const double quantity = net_quantity[k];
            if (quantity == 0) continue;
            const double *asset_marks = call->marks + (int64_t)k * batch;
            const double *scale = call->vectors.maintenance_scale + (int64_t)k * batch;
            for (int b = b_lo; b < b_hi; b++) {
                const double asset_scale = with_vectors ? scale[b] : 1.0;
                const double value = quantity * asset_marks[b];
                const double notional = value < 0 ? -value : value;
                const double tier_rate = tiers->mmr[k][mf_tier_index(tiers, k, notional)];
                const double range = grid->range[k] > tier_rate ? grid->range[k] : tier_rate;
                common_exposure[b] += value * range * asset_scale;
                gross[b] += notional * asset_scale;
                const double spread_loss = notional * grid->spread_range[k] * asset_scale;
                if (spread_loss > worst[b]) worst[b] = spread_loss;
            }
        }
        for (int b = b_lo; b < b_hi; b++) {
            if (!call->active[b] || (states[b] & MF_ACCOUNT_LIQUIDATING)) continue;
            double requirement = worst[b];
            for (int j = 0; j <= last; j++) {
                const double loss = -common_move[j] * common_exposure[b];
                if (loss > requirement) requirement = loss;
            }
            const double floor = grid->floor_rate * gross[b];
            if (floor > requirement) requirement = floor;
            if (equity[b] <= requirement) {
                states[b] |= MF_ACCOUNT_LIQUIDATING | MF_ACCOUNT_NEW;
                flagged++;
            }
        }
    }
    return flagged;
}

/* With a live book (kernels/margin.h): each path has its own quantities and cash, so each
 * path's net positions and requirement are computed on their own (mf_portfolio_requirement). */
static int64_t check_portfolio_live(const mf_margin_call *call) {
    const mf_book_view *book = call->book;
    const int batch = call->batch;
    const int b_lo = call->one_path ? call->one_path - 1 : 0; /* paths [b_lo, b_hi) */
    const int b_hi = call->one_path ? call->one_path : batch;
    const int n_assets = book->n_assets;
    int64_t flagged = 0;
    for (int64_t i = call->begin; i < call->end; i++) {
        const int64_t account = call->accounts[i];
        const int64_t first = book->account_first[account];
        const int64_t stop = first + book->account_positions[account];
        uint8_t *states = call->account_state + account * batch;
        for (int b = b_lo; b < b_hi; b++) {
            if (!call->active[b] || (states[b] & (MF_ACCOUNT_LIQUIDATING | MF_ACCOUNT_PARTIAL)))
                continue;
            double net_quantity[MF_MAX_ASSETS] = {0}, marks[MF_MAX_ASSETS], scale[MF_MAX_ASSETS];
            for (int k = 0; k < n_assets; k++) {
                marks[k] = call->marks[(int64_t)k * batch + b];
                scale[k] = call->vectors.maintenance_scale[(int64_t)k * batch + b];
            }
            double equity = book->account_collateral[account];
            for (int64_t p = first; p < stop; p++) {
                const int asset = book->position_asset[p];
                const double quantity = call->live->quantity[p * batch + b];
                net_quantity[asset] += quantity;
                equity += call->live->cash[p * batch + b] +
                          quantity * (marks[asset] - book->position_entry[p]) -
                          quantity * call->vectors.funding_index[(int64_t)asset * batch + b];
            }
            if (equity <=
                mf_portfolio_requirement(call->tiers, n_assets, net_quantity, marks, scale)) {
                states[b] |= MF_ACCOUNT_LIQUIDATING | MF_ACCOUNT_NEW;
                flagged++;
            }
        }
    }
    return flagged;
}

int64_t mf_margin_check_portfolio(const mf_margin_call *call) {
    if (call->live) return check_portfolio_live(call);
    return call->vectors.neutral ? check_portfolio(call, 0) : check_portfolio(call, 1);
}
