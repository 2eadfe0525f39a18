/* Margin model "cross" (reference): an account's positions share its collateral C: the whole
 * account is flagged when C + sum q (P - e) - sum q F <= sum s MM(|q| P), F the funding index,
 * s the maintenance scale; sums in position order. */
#include "margin.h"

/* with_vectors is a constant in each caller below (see margin_isolated.c). */
static inline int64_t check_cross(const mf_margin_call *call, const int with_vectors) {
    const mf_book_view *book = call->book;
    const int batch = call->batch;
    const int b_lo = call->one_path ? call->one_path - 1 : 0; /* paths [b_lo, b_hi) */
    const int b_hi = call->one_path ? call->one_path : batch;
    int64_t flagged = 0;
    double equity[MF_KERNEL_MAX_BATCH];
    double maintenance[MF_KERNEL_MAX_BATCH];
    for (int64_t i = call->begin; i < call->end; i++) {
        const int64_t account = call->accounts[i];
        const int64_t first = book->account_first[account];
        const int64_t stop = first + book->account_positions[account];
        uint8_t *states = call->account_state + account * batch;
        const double collateral = book->account_collateral[account];
        for (int b = b_lo; b < b_hi; b++) {
            equity[b] = collateral;
            maintenance[b] = 0;
        }
        for (int64_t p = first; p < stop; p++) {
            const int asset = book->position_asset[p];
            const double quantity = book->position_quantity[p];
            const double entry = book->position_entry[p];
            const double size = quantity < 0 ? -quantity : quantity;
            const double *asset_marks = call->marks + (int64_t)asset * batch;
            const double *funding = call->vectors.funding_index + (int64_t)asset * batch;
            const double *scale = call->vectors.maintenance_scale + (int64_t)asset * batch;
            if (!with_vectors) {
                for (int b = b_lo; b < b_hi; b++) {
                    const double mark = asset_marks[b];
                    equity[b] += quantity * (mark - entry);
                    maintenance[b] += mf_maintenance_margin(call->tiers, asset, size * mark);
                }
                continue;
            }
            for (int b = b_lo; b < b_hi; b++) {
                const double mark = asset_marks[b];
                equity[b] += quantity * (mark - entry) - quantity * funding[b];
                maintenance[b] += mf_maintenance_margin(call->tiers, asset, size * mark) * scale[b];
            }
        }
        for (int b = b_lo; b < b_hi; b++) {
            if (!call->active[b] || (states[b] & MF_ACCOUNT_LIQUIDATING)) continue;
            if (equity[b] <= maintenance[b]) {
                states[b] |= MF_ACCOUNT_LIQUIDATING | MF_ACCOUNT_NEW;
                flagged++;
            }
        }
    }
    return flagged;
}

/* With a live book: each path has its own quantities and cash for the account's positions. A
 * cross wallet is in USD, so an inverse position differs from a linear one only in its
 * maintenance base (the face value). */
static int64_t check_cross_live(const mf_margin_call *call) {
    const mf_book_view *book = call->book;
    const int contracts = book->contracts != NULL; /* inverse markets: maintenance on face */
    const int batch = call->batch;
    const int b_lo = call->one_path ? call->one_path - 1 : 0; /* paths [b_lo, b_hi) */
    const int b_hi = call->one_path ? call->one_path : batch;
    int64_t flagged = 0;
    double equity[MF_KERNEL_MAX_BATCH];
    double maintenance[MF_KERNEL_MAX_BATCH];
    for (int64_t i = call->begin; i < call->end; i++) {
        const int64_t account = call->accounts[i];
        const int64_t first = book->account_first[account];
        const int64_t stop = first + book->account_positions[account];
        uint8_t *states = call->account_state + account * batch;
        const double collateral = book->account_collateral[account];
        for (int b = b_lo; b < b_hi; b++) {
            equity[b] = collateral;
            maintenance[b] = 0;
        }
        for (int64_t p = first; p < stop; p++) {
            const int asset = book->position_asset[p];
            const double entry = book->position_entry[p];
            const double *asset_marks = call->marks + (int64_t)asset * batch;
            const double *funding = call->vectors.funding_index + (int64_t)asset * batch;
            const double *scale = call->vectors.maintenance_scale + (int64_t)asset * batch;
            const double *quantities = call->live->quantity + p * batch;
            const double *cash = call->live->cash + p * batch;
            for (int b = b_lo; b < b_hi; b++) {
                const double quantity = quantities[b];
                const double size = quantity < 0 ? -quantity : quantity;
                const double mark = asset_marks[b];
                const double notional =
                    contracts ? mf_requirement_notional(book, p, size, mark) : size * mark;
                equity[b] += cash[b] + quantity * (mark - entry) - quantity * funding[b];
                maintenance[b] += mf_maintenance_margin(call->tiers, asset, notional) * scale[b];
            }
        }
        for (int b = b_lo; b < b_hi; b++) {
            if (!call->active[b] || (states[b] & (MF_ACCOUNT_LIQUIDATING | MF_ACCOUNT_PARTIAL)))
                continue;
            if (equity[b] <= maintenance[b]) {
                states[b] |= MF_ACCOUNT_LIQUIDATING | MF_ACCOUNT_NEW;
                flagged++;
            }
        }
    }
    return flagged;
}

int64_t mf_margin_check_cross(const mf_margin_call *call) {
    if (call->live) return check_cross_live(call);
    return call->vectors.neutral ? check_cross(call, 0) : check_cross(call, 1);
}
