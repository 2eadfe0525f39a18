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

#include <math.h>

/* h(P) = q (P - e) - MM(|q| P): the position's contribution to equity minus maintenance.
 * It is continuous and monotonic in P (increasing for longs, decreasing for shorts). */
static double headroom_term(const mf_tier_table *tiers, int asset, double quantity, double entry,
                            double price) {
    const double size = quantity < 0 ? -quantity : quantity;
    return quantity * (price - entry) - mf_maintenance_margin(tiers, asset, size * price);
}

/* The price P > 0 with h(P) = target, tier by tier (h is linear inside a tier); 0 for a long
 * that never gets there, INFINITY for a short that never does. */
static double solve_headroom(const mf_tier_table *tiers, int asset, double quantity, double entry,
                             double target) {
    const double size = quantity < 0 ? -quantity : quantity;
    const int n_tiers = tiers->n_tiers[asset];
    for (int t = 0; t < n_tiers; t++) {
        const double mmr = tiers->mmr[asset][t];
        const double cum = tiers->cum_usd[asset][t];
        /* long: q P (1 - mmr) - q e + cum = target; short: -s P (1 + mmr) + s e + cum = target */
        const double price = quantity > 0
                                 ? (target + quantity * entry - cum) / (quantity * (1 - mmr))
                                 : (size * entry + cum - target) / (size * (1 + mmr));
        const double notional = size * price;
        if (!(price > 0)) continue;
        if (notional < tiers->floor_usd[asset][t]) continue;
        if (t + 1 < n_tiers && notional >= tiers->floor_usd[asset][t + 1]) continue;
        return price;
    }
    return quantity > 0 ? 0.0 : INFINITY;
}

#define MF_SAFETY_FRACTION 1e-9    /* of notional: far above rounding of the exact check */
#define MF_SAFE_PRICE_SHRINK 1e-12 /* relative: covers rounding in the solve itself */

/* Bounds are stored signed, as the hot loop compares them: +bound for a long (inside while
 * mark > bound), -bound for a short (inside while -mark > -bound). +INFINITY never passes. */
static void never_safe(int64_t first, int64_t stop, double *safe_price) {
    for (int64_t p = first; p < stop; p++)
        safe_price[p] = INFINITY;
}

static double signed_bound(double quantity, double bound) {
    return quantity > 0 ? bound * (1 + MF_SAFE_PRICE_SHRINK)
                        : -(bound * (1 - MF_SAFE_PRICE_SHRINK));
}

void mf_margin_safe_prices(const mf_book_view *book, const mf_tier_table *tiers,
                           const double *start_prices, double *safe_price) {
    for (int64_t account = 0; account < book->n_accounts; account++) {
        const int64_t first = book->account_first[account];
        const int64_t stop = first + book->account_positions[account];
        const int cross = book->account_mode[account] == MF_ACCOUNT_CROSS;
        double available = cross ? book->account_collateral[account] : 0;
        double safety = 0;
        for (int64_t p = first; p < stop; p++) {
            const int asset = book->position_asset[p];
            const double quantity = book->position_quantity[p];
            const double price = start_prices[asset];
            const double size = quantity < 0 ? -quantity : quantity;
            const double margin_safety = MF_SAFETY_FRACTION * size * price;
            if (!cross) {
                /* Isolated: its own headroom m + h(P0), kept apart from the others. */
                const double own =
                    book->position_margin[p] +
                    headroom_term(tiers, asset, quantity, book->position_entry[p], price);
                if (!(own > margin_safety)) {
                    never_safe(p, p + 1, safe_price);
                    continue;
                }
                const double target = -book->position_margin[p] + margin_safety;
                const double bound =
                    solve_headroom(tiers, asset, quantity, book->position_entry[p], target);
                safe_price[p] = signed_bound(quantity, bound);
                continue;
            }
            available += headroom_term(tiers, asset, quantity, book->position_entry[p], price);
            safety += margin_safety;
        }
        if (!cross) continue;
        const double share = (available - safety) / (double)(stop - first);
        if (!(share > 0)) {
            never_safe(first, stop, safe_price);
            continue;
        }
        for (int64_t p = first; p < stop; p++) {
            const int asset = book->position_asset[p];
            const double quantity = book->position_quantity[p];
            const double entry = book->position_entry[p];
            const double target =
                headroom_term(tiers, asset, quantity, entry, start_prices[asset]) - share;
            const double bound = solve_headroom(tiers, asset, quantity, entry, target);
            safe_price[p] = signed_bound(quantity, bound);
        }
    }
}

/* The exact check of one account that failed the cheap test, on the paths where some
 * position is outside its bound. */
static int64_t check_outside_paths(const mf_book_view *book, const mf_tier_table *tiers,
                                   const double *safe_price, int64_t account, int batch,
                                   const double *marks, const double *signed_marks,
                                   const uint8_t *active, uint8_t *account_state,
                                   uint8_t *position_state) {
    const int64_t first = book->account_first[account];
    const int64_t stop = first + book->account_positions[account];
    uint8_t inside[64];
    for (int b = 0; b < batch; b++)
        inside[b] = active[b];
    for (int64_t p = first; p < stop; p++) {
        const int slot = 2 * book->position_asset[p] + (book->position_quantity[p] < 0);
        const double *row = signed_marks + (int64_t)slot * batch;
        for (int b = 0; b < batch; b++)
            inside[b] &= (uint8_t)(row[b] > safe_price[p]);
    }
    uint8_t needs_check[64];
    int any = 0;
    for (int b = 0; b < batch; b++) {
        needs_check[b] = (uint8_t)(active[b] && !inside[b]);
        any |= needs_check[b];
    }
    if (!any) return 0;
    return mf_margin_check(book, tiers, account, account + 1, batch, marks, needs_check,
                           account_state, position_state);
}

int64_t mf_margin_check_filtered(const mf_book_view *book, const mf_tier_table *tiers,
                                 const double *safe_price, int64_t begin, int64_t end, int batch,
                                 const double *marks, const uint8_t *active, uint8_t *account_state,
                                 uint8_t *position_state) {
    if (begin >= end) return 0;
    /* worst[2k] is asset k's lowest mark over the active paths (the longs' worst case),
     * worst[2k + 1] minus its highest (the shorts'): one signed compare per position. */
    double worst[2 * MF_KERNEL_MAX_ASSETS];
    double signed_marks[2 * MF_KERNEL_MAX_ASSETS * 64];
    int any_active = 0;
    for (int k = 0; k < book->n_assets; k++) {
        worst[2 * k] = INFINITY;
        worst[2 * k + 1] = INFINITY;
        for (int b = 0; b < batch; b++) {
            const double mark = marks[(int64_t)k * batch + b];
            signed_marks[(2 * k) * batch + b] = mark;
            signed_marks[(2 * k + 1) * batch + b] = -mark;
            if (!active[b]) continue;
            any_active = 1;
            if (mark < worst[2 * k]) worst[2 * k] = mark;
            if (-mark < worst[2 * k + 1]) worst[2 * k + 1] = -mark;
        }
    }
    if (!any_active) return 0;
    /* Stream over the positions (sorted by account); the rare failures are handled in
     * account order as they come. */
    const int64_t first = book->account_first[begin];
    const int64_t stop = book->account_first[end - 1] + book->account_positions[end - 1];
    int64_t flagged = 0;
    int64_t last_checked = -1;
    for (int64_t p = first; p < stop; p++) {
        const int slot = 2 * book->position_asset[p] + (book->position_quantity[p] < 0);
        if (worst[slot] > safe_price[p]) continue;
        const int64_t account = book->position_account[p];
        if (account == last_checked) continue;
        last_checked = account;
        flagged += check_outside_paths(book, tiers, safe_price, account, batch, marks, signed_marks,
                                       active, account_state, position_state);
    }
    return flagged;
}
