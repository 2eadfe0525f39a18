/* Margin model "isolated" (reference): every position of an isolated account stands alone:
 * flagged when m + q (P - e) - q F <= s MM(|q| P), F the funding index, s the maintenance
 * scale. */
#include "margin.h"

/* with_vectors is a constant in each caller below, so each gets its own loop: with neutral
 * vectors the check is the plain m + q (P - e) <= MM(|q| P), nothing more per path. */
static inline int64_t check_isolated(const mf_margin_call *call, const int with_vectors) {
    const mf_book_view *book = call->book;
    const int batch = call->batch;
    const int b_lo = call->one_path ? call->one_path - 1 : 0; /* paths [b_lo, b_hi) */
    const int b_hi = call->one_path ? call->one_path : batch;
    int64_t flagged = 0;
    for (int64_t i = call->begin; i < call->end; i++) {
        const int64_t account = call->accounts[i];
        const int64_t first = book->account_first[account];
        const int64_t stop = first + book->account_positions[account];
        for (int64_t p = first; p < stop; p++) {
            const int asset = book->position_asset[p];
            const double quantity = book->position_quantity[p];
            const double entry = book->position_entry[p];
            const double margin = book->position_margin[p];
            const double size = quantity < 0 ? -quantity : quantity;
            const double *asset_marks = call->marks + (int64_t)asset * batch;
            const double *funding = call->vectors.funding_index + (int64_t)asset * batch;
            const double *scale = call->vectors.maintenance_scale + (int64_t)asset * batch;
            uint8_t *states = call->position_state + p * batch;
            for (int b = b_lo; b < b_hi; b++) {
                if (!call->active[b] || states[b] != MF_POSITION_OPEN) continue;
                const double mark = asset_marks[b];
                double position_equity = margin + quantity * (mark - entry);
                double maintenance = mf_maintenance_margin(call->tiers, asset, size * mark);
                if (with_vectors) {
                    position_equity -= quantity * funding[b];
                    maintenance *= scale[b];
                }
                if (position_equity <= maintenance) {
                    states[b] = MF_POSITION_NEW;
                    flagged++;
                }
            }
        }
    }
    return flagged;
}

/* With a live book: each path has its own quantity and cash for the position; an inverse
 * market's margin is worth its coins at the mark and its maintenance is on the face value. */
static int64_t check_isolated_live(const mf_margin_call *call) {
    const mf_book_view *book = call->book;
    const int batch = call->batch;
    const int b_lo = call->one_path ? call->one_path - 1 : 0; /* paths [b_lo, b_hi) */
    const int b_hi = call->one_path ? call->one_path : batch;
    const double *live_quantity = call->live->quantity;
    const double *live_cash = call->live->cash;
    const int contracts = book->contracts != NULL; /* inverse or dated markets */
    int64_t flagged = 0;
    for (int64_t i = call->begin; i < call->end; i++) {
        const int64_t account = call->accounts[i];
        const int64_t first = book->account_first[account];
        const int64_t stop = first + book->account_positions[account];
        for (int64_t p = first; p < stop; p++) {
            const int asset = book->position_asset[p];
            const double entry = book->position_entry[p];
            const double margin = book->position_margin[p];
            const double *asset_marks = call->marks + (int64_t)asset * batch;
            const double *funding = call->vectors.funding_index + (int64_t)asset * batch;
            const double *scale = call->vectors.maintenance_scale + (int64_t)asset * batch;
            const double *quantities = live_quantity + p * batch;
            const double *cash = live_cash + p * batch;
            uint8_t *states = call->position_state + p * batch;
            for (int b = b_lo; b < b_hi; b++) {
                if (!call->active[b] || states[b] != MF_POSITION_OPEN) continue;
                const double quantity = quantities[b];
                const double size = quantity < 0 ? -quantity : quantity;
                const double mark = asset_marks[b];
                const double margin_value = contracts ? mf_margin_value(book, p, mark) : margin;
                const double position_equity =
                    margin_value + cash[b] + quantity * (mark - entry) - quantity * funding[b];
                const double notional =
                    contracts ? mf_requirement_notional(book, p, size, mark) : size * mark;
                const double maintenance =
                    mf_maintenance_margin(call->tiers, asset, notional) * scale[b];
                if (position_equity <= maintenance) {
                    states[b] = MF_POSITION_NEW;
                    flagged++;
                }
            }
        }
    }
    return flagged;
}

int64_t mf_margin_check_isolated(const mf_margin_call *call) {
    if (call->live) return check_isolated_live(call);
    return call->vectors.neutral ? check_isolated(call, 0) : check_isolated(call, 1);
}
