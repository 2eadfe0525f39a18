#include "margin.h"

int64_t mf_margin_check(const mf_book_view *book, const mf_tier_table *tiers, int64_t begin,
                        int64_t end, int batch, const double *marks, const uint8_t *active,
                        uint8_t *account_state, uint8_t *position_state) {
    int64_t flagged = 0;
    double equity[64];
    double maintenance[64];
    for (int64_t account = begin; account < end; account++) {
        const int64_t first = book->account_first[account];
        const int64_t stop = first + book->account_positions[account];
        if (book->account_mode[account] == MF_ACCOUNT_ISOLATED) {
            for (int64_t p = first; p < stop; p++) {
                const int asset = book->position_asset[p];
                const double quantity = book->position_quantity[p];
                const double entry = book->position_entry[p];
                const double margin = book->position_margin[p];
                const double size = quantity < 0 ? -quantity : quantity;
                const double *asset_marks = marks + (int64_t)asset * batch;
                uint8_t *states = position_state + p * batch;
                for (int b = 0; b < batch; b++) {
                    if (!active[b] || states[b] != MF_POSITION_OPEN) continue;
                    const double mark = asset_marks[b];
                    const double position_equity = margin + quantity * (mark - entry);
                    if (position_equity <= mf_maintenance_margin(tiers, asset, size * mark)) {
                        states[b] = MF_POSITION_NEW;
                        flagged++;
                    }
                }
            }
        } else {
            uint8_t *states = account_state + account * batch;
            const double collateral = book->account_collateral[account];
            for (int b = 0; b < batch; b++) {
                equity[b] = collateral;
                maintenance[b] = 0;
            }
            for (int64_t p = first; p < stop; p++) {
                const int asset = book->position_asset[p];
                const double quantity = book->position_quantity[p];
                const double entry = book->position_entry[p];
                const double size = quantity < 0 ? -quantity : quantity;
                const double *asset_marks = marks + (int64_t)asset * batch;
                for (int b = 0; b < batch; b++) {
                    const double mark = asset_marks[b];
                    equity[b] += quantity * (mark - entry);
                    maintenance[b] += mf_maintenance_margin(tiers, asset, size * mark);
                }
            }
            for (int b = 0; b < batch; b++) {
                if (!active[b] || (states[b] & MF_ACCOUNT_LIQUIDATING)) continue;
                if (equity[b] <= maintenance[b]) {
                    states[b] |= MF_ACCOUNT_LIQUIDATING | MF_ACCOUNT_NEW;
                    flagged++;
                }
            }
        }
    }
    return flagged;
}
