/* Margin models "isolated-prefiltered" and "cross-prefiltered": the reference models behind a
 * per-position price bound computed once (mf_margin_safe_prices), so that a sweep touches only
 * the accounts whose positions moved past their bound. Same flags as the reference, by
 * construction (tests/unit/test_engine.c compares them flag for flag). */
#include "margin.h"

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

static void safe_prices(const mf_book_view *book, const mf_tier_table *tiers,
                        const int64_t *accounts, int64_t n_accounts, const double *start_prices,
                        int cross, double *safe_price) {
    for (int64_t i = 0; i < n_accounts; i++) {
        const int64_t account = accounts[i];
        const int64_t first = book->account_first[account];
        const int64_t stop = first + book->account_positions[account];
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

void mf_margin_safe_prices_isolated(const mf_book_view *book, const mf_tier_table *tiers,
                                    const int64_t *accounts, int64_t n_accounts,
                                    const double *start_prices, double *safe_price) {
    safe_prices(book, tiers, accounts, n_accounts, start_prices, 0, safe_price);
}

void mf_margin_safe_prices_cross(const mf_book_view *book, const mf_tier_table *tiers,
                                 const int64_t *accounts, int64_t n_accounts,
                                 const double *start_prices, double *safe_price) {
    safe_prices(book, tiers, accounts, n_accounts, start_prices, 1, safe_price);
}

/* The exact check of one account that failed the cheap test, on the paths where some
 * position is outside its bound. */
static int64_t check_outside_paths(const mf_margin_call *call, mf_margin_check_fn exact,
                                   int64_t index, const double *signed_marks) {
    const mf_book_view *book = call->book;
    const int batch = call->batch;
    const int64_t account = call->accounts[index];
    const int64_t first = book->account_first[account];
    const int64_t stop = first + book->account_positions[account];
    uint8_t inside[MF_KERNEL_MAX_BATCH];
    for (int b = 0; b < batch; b++)
        inside[b] = call->active[b];
    for (int64_t p = first; p < stop; p++) {
        const int slot = 2 * book->position_asset[p] + (book->position_quantity[p] < 0);
        const double *row = signed_marks + (int64_t)slot * batch;
        for (int b = 0; b < batch; b++)
            inside[b] &= (uint8_t)(row[b] > call->prepared[p]);
    }
    uint8_t needs_check[MF_KERNEL_MAX_BATCH];
    int any = 0;
    for (int b = 0; b < batch; b++) {
        needs_check[b] = (uint8_t)(call->active[b] && !inside[b]);
        any |= needs_check[b];
    }
    if (!any) return 0;
    mf_margin_call one = *call;
    one.begin = index;
    one.end = index + 1;
    one.active = needs_check;
    return exact(&one);
}

static int neutral_vectors(const mf_margin_call *call) {
    for (int k = 0; k < call->book->n_assets; k++)
        for (int b = 0; b < call->batch; b++) {
            const int64_t i = (int64_t)k * call->batch + b;
            if (call->vectors.funding_index[i] != 0 || call->vectors.maintenance_scale[i] != 1)
                return 0;
        }
    return 1;
}

/* Same contract and, by construction, the same flags as the exact model `exact`: accounts whose
 * positions are all inside their safe prices are skipped; all others get the exact check. */
static int64_t check_prefiltered(const mf_margin_call *call, mf_margin_check_fn exact) {
    if (call->begin >= call->end) return 0;
    if (!neutral_vectors(call)) return exact(call);
    const mf_book_view *book = call->book;
    const int batch = call->batch;
    /* worst[2k] is asset k's lowest mark over the active paths (the longs' worst case),
     * worst[2k + 1] minus its highest (the shorts'): one signed compare per position. */
    double worst[2 * MF_KERNEL_MAX_ASSETS];
    double signed_marks[2 * MF_KERNEL_MAX_ASSETS * MF_KERNEL_MAX_BATCH];
    int any_active = 0;
    for (int k = 0; k < book->n_assets; k++) {
        worst[2 * k] = INFINITY;
        worst[2 * k + 1] = INFINITY;
        for (int b = 0; b < batch; b++) {
            const double mark = call->marks[(int64_t)k * batch + b];
            signed_marks[(2 * k) * batch + b] = mark;
            signed_marks[(2 * k + 1) * batch + b] = -mark;
            if (!call->active[b]) continue;
            any_active = 1;
            if (mark < worst[2 * k]) worst[2 * k] = mark;
            if (-mark < worst[2 * k + 1]) worst[2 * k + 1] = -mark;
        }
    }
    if (!any_active) return 0;
    /* The rare failures are checked exactly, in account order as they come. */
    int64_t flagged = 0;
    for (int64_t i = call->begin; i < call->end; i++) {
        const int64_t account = call->accounts[i];
        const int64_t first = book->account_first[account];
        const int64_t stop = first + book->account_positions[account];
        for (int64_t p = first; p < stop; p++) {
            const int slot = 2 * book->position_asset[p] + (book->position_quantity[p] < 0);
            if (worst[slot] > call->prepared[p]) continue;
            flagged += check_outside_paths(call, exact, i, signed_marks);
            break;
        }
    }
    return flagged;
}

int64_t mf_margin_check_isolated_prefiltered(const mf_margin_call *call) {
    return check_prefiltered(call, mf_margin_check_isolated);
}

int64_t mf_margin_check_cross_prefiltered(const mf_margin_call *call) {
    return check_prefiltered(call, mf_margin_check_cross);
}
