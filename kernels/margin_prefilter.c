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
static double signed_bound(double quantity, double bound) {
    return quantity > 0 ? bound * (1 + MF_SAFE_PRICE_SHRINK)
                        : -(bound * (1 - MF_SAFE_PRICE_SHRINK));
}

/* The first tier of `asset` whose maintenance rate is 1 or more (a long's headroom falls as
 * the price rises from there), or n_tiers when none is. */
static int falling_tier(const mf_tier_table *tiers, int asset) {
    int t = 0;
    while (t < tiers->n_tiers[asset] && tiers->mmr[asset][t] < 1)
        t++;
    return t;
}

/* One position's safe prices for headroom target `target` (h(P) > target on the safe side):
 * lower[0] signed as the prefilter compares it; upper[0] (a long under a falling tier) the
 * negated price where its notional reaches that tier, or -INFINITY. */
static void position_safe_prices(const mf_tier_table *tiers, int asset, double quantity,
                                 double entry, double target, double *lower, double *upper) {
    const double bound = solve_headroom(tiers, asset, quantity, entry, target);
    const int falling = quantity > 0 ? falling_tier(tiers, asset) : tiers->n_tiers[asset];
    if (falling == tiers->n_tiers[asset]) {
        *lower = signed_bound(quantity, bound);
        if (upper) *upper = -INFINITY;
        return;
    }
    /* h grows only below the falling tier's floor: safe between the bound and that price, if
     * the solve found its bound below it (it scans tiers upwards, so it does when one exists). */
    const double ceiling = tiers->floor_usd[asset][falling] / quantity;
    if (!upper || !(bound * quantity < tiers->floor_usd[asset][falling])) {
        *lower = INFINITY;
        if (upper) *upper = -INFINITY;
        return;
    }
    *lower = signed_bound(quantity, bound);
    *upper = -(ceiling * (1 - MF_SAFE_PRICE_SHRINK));
}

void mf_safe_prices(const mf_book_view *book, const mf_tier_table *tiers, int64_t account,
                    const double *start_prices, int cross, double *lower, double *upper) {
    const int64_t first = book->account_first[account];
    const int64_t stop = first + book->account_positions[account];
    double available = cross ? book->account_collateral[account] : 0;
    double safety = 0, total_notional = 0;
    for (int64_t p = first; p < stop; p++) {
        const int asset = book->position_asset[p];
        const double quantity = book->position_quantity[p];
        const double price = start_prices[asset];
        const double size = quantity < 0 ? -quantity : quantity;
        const double margin_safety = MF_SAFETY_FRACTION * size * price;
        double *upper_p = upper ? &upper[p - first] : NULL;
        if (!cross) {
            /* Isolated: its own headroom m + h(P0), kept apart from the others. */
            const double own =
                book->position_margin[p] +
                headroom_term(tiers, asset, quantity, book->position_entry[p], price);
            if (upper_p) *upper_p = -INFINITY;
            if (!(own > margin_safety)) {
                lower[p - first] = INFINITY;
                continue;
            }
            const double target = -book->position_margin[p] + margin_safety;
            position_safe_prices(tiers, asset, quantity, book->position_entry[p], target,
                                 &lower[p - first], upper_p);
            continue;
        }
        available += headroom_term(tiers, asset, quantity, book->position_entry[p], price);
        safety += margin_safety;
        total_notional += size * price;
    }
    if (!cross) return;
    /* Any shares summing to the headroom are safe; shares in proportion to the positions'
     * notionals put every position's safe price at about the same relative move, close to
     * where a move of the whole (correlated) book liquidates the account. Equal shares would
     * leave the largest position a fraction of the room and reach it far too early. */
    const double headroom = available - safety;
    for (int64_t p = first; p < stop; p++) {
        if (upper) upper[p - first] = -INFINITY;
        const double size = fabs(book->position_quantity[p]);
        const double share =
            total_notional > 0
                ? headroom * (size * start_prices[book->position_asset[p]] / total_notional)
                : headroom / (double)(stop - first);
        if (!(headroom > 0) || !(share > 0)) {
            lower[p - first] = INFINITY;
            continue;
        }
        const int asset = book->position_asset[p];
        const double quantity = book->position_quantity[p];
        const double entry = book->position_entry[p];
        const double target =
            headroom_term(tiers, asset, quantity, entry, start_prices[asset]) - share;
        position_safe_prices(tiers, asset, quantity, entry, target, &lower[p - first],
                             upper ? &upper[p - first] : NULL);
    }
}

static int64_t group_positions(const mf_book_view *book, const int64_t *accounts,
                               int64_t n_accounts) {
    int64_t n = 0;
    for (int64_t i = 0; i < n_accounts; i++)
        n += book->account_positions[accounts[i]];
    return n;
}

size_t mf_prefilter_size(const mf_book_view *book, const mf_tier_table *tiers,
                         const int64_t *accounts, int64_t n_accounts) {
    (void)tiers;
    const int64_t n = group_positions(book, accounts, n_accounts);
    return sizeof(int64_t) * (size_t)(2 + n_accounts + 1 + n) + sizeof(double) * (size_t)n +
           (size_t)n;
}

mf_prefilter_layout mf_prefilter_view(const void *prepared) {
    const int64_t *header = prepared;
    mf_prefilter_layout layout;
    layout.n_accounts = header[0];
    layout.n_positions = header[1];
    layout.start = header + 2;
    layout.owner = layout.start + layout.n_accounts + 1;
    layout.bound = (const double *)(layout.owner + layout.n_positions);
    layout.slot = (const uint8_t *)(layout.bound + layout.n_positions);
    return layout;
}

static void prepare(const mf_book_view *book, const mf_tier_table *tiers, const int64_t *accounts,
                    int64_t n_accounts, const double *start_prices, int cross, void *prepared) {
    int64_t *header = prepared;
    header[0] = n_accounts;
    header[1] = group_positions(book, accounts, n_accounts);
    const mf_prefilter_layout layout = mf_prefilter_view(prepared);
    int64_t *start = (int64_t *)layout.start;
    int64_t *owner = (int64_t *)layout.owner;
    double *bound = (double *)layout.bound;
    uint8_t *slot = (uint8_t *)layout.slot;
    int64_t j = 0;
    for (int64_t i = 0; i < n_accounts; i++) {
        const int64_t account = accounts[i];
        const int64_t first = book->account_first[account];
        start[i] = j;
        mf_safe_prices(book, tiers, account, start_prices, cross, bound + j, NULL);
        for (int64_t p = first; p < first + book->account_positions[account]; p++, j++) {
            owner[j] = i;
            slot[j] = (uint8_t)(2 * book->position_asset[p] + (book->position_quantity[p] < 0));
        }
    }
    start[n_accounts] = j;
}

void mf_prefilter_prepare_isolated(const mf_book_view *book, const mf_tier_table *tiers,
                                   const int64_t *accounts, int64_t n_accounts,
                                   const double *start_prices, void *prepared) {
    prepare(book, tiers, accounts, n_accounts, start_prices, 0, prepared);
}

void mf_prefilter_prepare_cross(const mf_book_view *book, const mf_tier_table *tiers,
                                const int64_t *accounts, int64_t n_accounts,
                                const double *start_prices, void *prepared) {
    prepare(book, tiers, accounts, n_accounts, start_prices, 1, prepared);
}

/* The exact check of account accounts[index], which failed the cheap test, on the paths where
 * some position is outside its bound. */
static int64_t check_outside_paths(const mf_margin_call *call, mf_margin_check_fn exact,
                                   const mf_prefilter_layout *layout, int64_t index,
                                   const double *signed_marks) {
    const int batch = call->batch;
    uint8_t inside[MF_KERNEL_MAX_BATCH];
    for (int b = 0; b < batch; b++)
        inside[b] = call->active[b];
    for (int64_t j = layout->start[index]; j < layout->start[index + 1]; j++) {
        const double *row = signed_marks + (int64_t)layout->slot[j] * batch;
        for (int b = 0; b < batch; b++)
            inside[b] &= (uint8_t)(row[b] > layout->bound[j]);
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
    if (call->vectors.neutral) return 1;
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
    /* The bounds hold for the store's positions and neutral vectors only. */
    if (call->live || !neutral_vectors(call)) return exact(call);
    const mf_book_view *book = call->book;
    const int batch = call->batch;
    const mf_prefilter_layout layout = mf_prefilter_view(call->prepared);
    /* worst[2k] is asset k's lowest mark over the active paths (the longs' worst case),
     * worst[2k + 1] minus its highest (the shorts'): one signed compare per position. */
    double worst[2 * MF_MAX_ASSETS];
    double signed_marks[2 * MF_MAX_ASSETS * MF_KERNEL_MAX_BATCH];
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
    /* Stream over the group's positions (compacted, in account order); the rare failures are
     * checked exactly, in account order as they come. */
    int64_t flagged = 0;
    const int64_t stop = layout.start[call->end];
    for (int64_t j = layout.start[call->begin]; j < stop; j++) {
        if (worst[layout.slot[j]] > layout.bound[j]) continue;
        const int64_t index = layout.owner[j];
        flagged += check_outside_paths(call, exact, &layout, index, signed_marks);
        j = layout.start[index + 1] - 1;
    }
    return flagged;
}

int64_t mf_margin_check_isolated_prefiltered(const mf_margin_call *call) {
    return check_prefiltered(call, mf_margin_check_isolated);
}

int64_t mf_margin_check_cross_prefiltered(const mf_margin_call *call) {
    return check_prefiltered(call, mf_margin_check_cross);
}
