/* Event indexes of the event-driven margin models (docs/model.md, "Event-driven margin
 * checks"): per asset and direction, the group's safe prices sorted so that a path's cursor
 * finds the accounts a move has reached with one binary search per list. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "margin.h"

#define MF_EVENT_SAFETY 1e-9  /* of gross notional: far above the exact check's rounding */
#define MF_EVENT_SHRINK 1e-12 /* relative, on every safe price */
#define MF_EVENT_CEILING 2.0  /* portfolio: bounds hold up to this multiple of the start price */
#define MF_EVENT_HEADER 3     /* n_accounts, n_lists, n_entries */

/* The same tiers with every maintenance requirement scaled by the largest scale a path can
 * have: a position safe under them is safe under any scale up to it (requirements only grow
 * with the scale). */
static mf_tier_table scaled_tiers(const mf_tier_table *tiers, int n_assets) {
    mf_tier_table scaled = *tiers;
    const double s = tiers->maintenance_scale_max > 1 ? tiers->maintenance_scale_max : 1.0;
    for (int k = 0; k < n_assets; k++)
        for (int t = 0; t < tiers->n_tiers[k]; t++) {
            scaled.mmr[k][t] = tiers->mmr[k][t] * s;
            scaled.cum_usd[k][t] = tiers->cum_usd[k][t] * s;
        }
    return scaled;
}

/* falling[k]: asset k has a tier whose (scaled) rate reaches 1, where a long's headroom stops
 * growing with its price (such longs get an upper safe price too, mf_safe_prices). */
static void falling_assets(const mf_tier_table *scaled, int n_assets, int *falling) {
    for (int k = 0; k < n_assets; k++) {
        falling[k] = 0;
        for (int t = 0; t < scaled->n_tiers[k]; t++)
            falling[k] |= scaled->mmr[k][t] >= 1;
    }
}

static size_t index_bytes(int n_assets, int64_t n_entries) {
    return sizeof(int64_t) * (size_t)(MF_EVENT_HEADER + 2 * n_assets + 1) +
           (sizeof(double) + sizeof(uint32_t)) * (size_t)n_entries;
}

/* Entries of the isolated and cross models: one per position, plus an upper one for a long
 * under a tier whose scaled rate reaches 1 (see mf_safe_prices). */
static int64_t position_entries(const mf_book_view *book, const mf_tier_table *tiers,
                                const int64_t *accounts, int64_t n_accounts) {
    const mf_tier_table scaled = scaled_tiers(tiers, book->n_assets);
    int falling[MF_MAX_ASSETS];
    falling_assets(&scaled, book->n_assets, falling);
    int64_t n = 0;
    for (int64_t i = 0; i < n_accounts; i++) {
        const int64_t first = book->account_first[accounts[i]];
        for (int64_t p = first; p < first + book->account_positions[accounts[i]]; p++)
            n += 1 + (falling[book->position_asset[p]] && book->position_quantity[p] > 0);
    }
    return n;
}

size_t mf_events_size_isolated(const mf_book_view *book, const mf_tier_table *tiers,
                               const int64_t *accounts, int64_t n_accounts) {
    return index_bytes(book->n_assets, position_entries(book, tiers, accounts, n_accounts));
}

size_t mf_events_size_cross(const mf_book_view *book, const mf_tier_table *tiers,
                            const int64_t *accounts, int64_t n_accounts) {
    return mf_events_size_isolated(book, tiers, accounts, n_accounts);
}

/* Portfolio: at most a lower and an upper entry per asset an account holds. */
size_t mf_events_size_portfolio(const mf_book_view *book, const mf_tier_table *tiers,
                                const int64_t *accounts, int64_t n_accounts) {
    (void)tiers;
    int64_t n = 0;
    for (int64_t i = 0; i < n_accounts; i++)
        n += 2 * (int64_t)book->account_positions[accounts[i]] + 1;
    return index_bytes(book->n_assets, n);
}

mf_event_index mf_events_view(const void *prepared) {
    const int64_t *header = prepared;
    mf_event_index index;
    index.n_accounts = header[0];
    index.n_lists = (int)header[1];
    const int64_t n_entries = header[2];
    index.list_start = header + MF_EVENT_HEADER;
    index.bound = (const double *)(index.list_start + index.n_lists + 1);
    index.owner = (const uint32_t *)(index.bound + n_entries);
    return index;
}

/* Entries are written straight into their list's slots and each list is sorted in place (no
 * scratch copy: at 1e7 accounts a copy and a merge sort's buffer would cost more than the
 * index itself). The order is total (safe price descending, then account), so the layout does
 * not depend on the sort. */
typedef struct {
    int64_t *list_start;                 /* 2K + 1 */
    int64_t list_end[2 * MF_MAX_ASSETS]; /* one past the last entry written */
    double *bound;
    uint32_t *owner;
    int n_lists;
} index_writer;

static int entry_before(double bound_a, uint32_t owner_a, double bound_b, uint32_t owner_b) {
    if (bound_a != bound_b) return bound_a > bound_b;
    return owner_a < owner_b;
}

static void swap_entries(double *bound, uint32_t *owner, int64_t i, int64_t j) {
    const double b = bound[i];
    bound[i] = bound[j];
    bound[j] = b;
    const uint32_t o = owner[i];
    owner[i] = owner[j];
    owner[j] = o;
}

/* Heap sort's sift (the introsort fallback below). */
static void sift_down(double *bound, uint32_t *owner, int64_t root, int64_t n) {
    for (;;) {
        int64_t child = 2 * root + 1;
        if (child >= n) return;
        /* a max-heap on "comes later" puts the last entry at the root */
        if (child + 1 < n &&
            entry_before(bound[child], owner[child], bound[child + 1], owner[child + 1]))
            child++;
        if (!entry_before(bound[root], owner[root], bound[child], owner[child])) return;
        swap_entries(bound, owner, root, child);
        root = child;
    }
}

static void heap_sort_entries(double *bound, uint32_t *owner, int64_t n) {
    for (int64_t i = n / 2 - 1; i >= 0; i--)
        sift_down(bound, owner, i, n);
    for (int64_t end = n - 1; end > 0; end--) {
        swap_entries(bound, owner, 0, end);
        sift_down(bound, owner, 0, end);
    }
}

/* Introsort: quicksort (median of three, cache-friendly partitions), insertion sort below 16
 * entries, heap sort when the recursion goes deeper than 2 log2 n (never quadratic). */
static void sort_range(double *bound, uint32_t *owner, int64_t n, int depth) {
    while (n > 16) {
        if (depth-- == 0) {
            heap_sort_entries(bound, owner, n);
            return;
        }
        const int64_t mid = n / 2, last = n - 1;
        if (entry_before(bound[mid], owner[mid], bound[0], owner[0]))
            swap_entries(bound, owner, 0, mid);
        if (entry_before(bound[last], owner[last], bound[0], owner[0]))
            swap_entries(bound, owner, 0, last);
        if (entry_before(bound[last], owner[last], bound[mid], owner[mid]))
            swap_entries(bound, owner, mid, last);
        const double pivot_bound = bound[mid];
        const uint32_t pivot_owner = owner[mid];
        int64_t i = 0, j = last;
        for (;;) {
            while (entry_before(bound[i], owner[i], pivot_bound, pivot_owner))
                i++;
            while (entry_before(pivot_bound, pivot_owner, bound[j], owner[j]))
                j--;
            if (i >= j) break;
            swap_entries(bound, owner, i, j);
            i++;
            j--;
        }
        /* [0, j] and [j + 1, n): recurse into the smaller, loop on the larger */
        const int64_t left = j + 1;
        if (left < n - left) {
            sort_range(bound, owner, left, depth);
            bound += left;
            owner += left;
            n -= left;
        } else {
            sort_range(bound + left, owner + left, n - left, depth);
            n = left;
        }
    }
    for (int64_t i = 1; i < n; i++)
        for (int64_t j = i; j > 0 && entry_before(bound[j], owner[j], bound[j - 1], owner[j - 1]);
             j--)
            swap_entries(bound, owner, j, j - 1);
}

static void sort_entries(double *bound, uint32_t *owner, int64_t n) {
    int depth = 0;
    for (int64_t m = n; m > 1; m /= 2)
        depth += 2;
    sort_range(bound, owner, n, depth);
}

/* The index's header and slots: list l gets capacity[l] slots, in list order. */
static index_writer open_index(int n_assets, int64_t n_accounts, const int64_t *capacity,
                               void *prepared) {
    int64_t *header = prepared;
    const int n_lists = 2 * n_assets;
    int64_t total = 0;
    for (int l = 0; l < n_lists; l++)
        total += capacity[l];
    header[0] = n_accounts;
    header[1] = n_lists;
    header[2] = total;
    index_writer w;
    w.n_lists = n_lists;
    w.list_start = header + MF_EVENT_HEADER;
    w.bound = (double *)(w.list_start + n_lists + 1);
    w.owner = (uint32_t *)(w.bound + total);
    int64_t at = 0;
    for (int l = 0; l < n_lists; l++) {
        w.list_start[l] = at;
        w.list_end[l] = at;
        at += capacity[l];
    }
    w.list_start[n_lists] = at;
    return w;
}

static void add_entry(index_writer *w, int list, double bound, uint32_t owner) {
    w->bound[w->list_end[list]] = bound;
    w->owner[w->list_end[list]] = owner;
    w->list_end[list]++;
}

/* Sort each list and close the gaps left by unused slots: bounds, then owners (whose array
 * starts right after the last bound), each moved down list by list. */
static void close_index(index_writer *w, void *prepared) {
    int64_t old_start[2 * MF_MAX_ASSETS + 1];
    for (int l = 0; l <= w->n_lists; l++)
        old_start[l] = w->list_start[l];
        /* Lists are independent: sorted on the threads there are (the order is total, so the
         * result does not depend on them). */
#pragma omp parallel for schedule(dynamic, 1)
    for (int l = 0; l < w->n_lists; l++)
        sort_entries(w->bound + old_start[l], w->owner + old_start[l],
                     w->list_end[l] - old_start[l]);
    int64_t at = 0;
    for (int l = 0; l < w->n_lists; l++) {
        const int64_t begin = old_start[l], count = w->list_end[l] - begin;
        memmove(w->bound + at, w->bound + begin, sizeof(double) * (size_t)count);
        w->list_start[l] = at;
        at += count;
    }
    w->list_start[w->n_lists] = at;
    uint32_t *owner = (uint32_t *)(w->bound + at);
    for (int l = 0; l < w->n_lists; l++)
        memmove(owner + w->list_start[l], w->owner + old_start[l],
                sizeof(uint32_t) * (size_t)(w->list_end[l] - old_start[l]));
    ((int64_t *)prepared)[2] = at;
}

/* When the safe prices cannot be computed (no scratch memory), every account gets an entry
 * that always passes: the model then checks every account, still exactly. */
static void write_always(int n_assets, const int64_t *accounts, int64_t n_accounts,
                         void *prepared) {
    (void)accounts;
    int64_t *header = prepared;
    header[0] = n_accounts;
    header[1] = 2 * n_assets;
    header[2] = n_accounts;
    int64_t *list_start = header + MF_EVENT_HEADER;
    double *bound = (double *)(list_start + 2 * n_assets + 1);
    uint32_t *owner = (uint32_t *)(bound + n_accounts);
    list_start[0] = 0;
    for (int list = 1; list <= 2 * n_assets; list++)
        list_start[list] = n_accounts;
    for (int64_t i = 0; i < n_accounts; i++) {
        bound[i] = INFINITY;
        owner[i] = (uint32_t)i;
    }
}

static void prepare_positions(const mf_book_view *book, const mf_tier_table *tiers,
                              const int64_t *accounts, int64_t n_accounts,
                              const double *start_prices, int cross, void *prepared) {
    const mf_tier_table scaled = scaled_tiers(tiers, book->n_assets);
    int falling[MF_MAX_ASSETS];
    falling_assets(&scaled, book->n_assets, falling);
    /* Slots: a long's lower price in list 2k, a short's (negated) upper price in list 2k + 1,
     * and a long's extra upper price there too when its asset has a falling tier. */
    int64_t capacity[2 * MF_MAX_ASSETS] = {0};
    int32_t max_positions = 1;
    for (int64_t i = 0; i < n_accounts; i++) {
        const int64_t first = book->account_first[accounts[i]];
        const int32_t count = book->account_positions[accounts[i]];
        if (count > max_positions) max_positions = count;
        for (int64_t p = first; p < first + count; p++) {
            const int asset = book->position_asset[p];
            const int is_long = book->position_quantity[p] > 0;
            capacity[2 * asset + !is_long]++;
            if (is_long && falling[asset]) capacity[2 * asset + 1]++;
        }
    }
    index_writer w = open_index(book->n_assets, n_accounts, capacity, prepared);
    double *lower = malloc(sizeof(double) * (size_t)max_positions);
    double *upper = malloc(sizeof(double) * (size_t)max_positions);
    if (!lower || !upper) {
        free(lower);
        free(upper);
        write_always(book->n_assets, accounts, n_accounts, prepared);
        return;
    }
    for (int64_t i = 0; i < n_accounts; i++) {
        const int64_t account = accounts[i];
        const int64_t first = book->account_first[account];
        const int32_t count = book->account_positions[account];
        mf_safe_prices(book, &scaled, account, start_prices, cross, lower, upper);
        for (int32_t j = 0; j < count; j++) {
            const int asset = book->position_asset[first + j];
            const int is_long = book->position_quantity[first + j] > 0;
            add_entry(&w, 2 * asset + !is_long, lower[j], (uint32_t)i);
            if (upper[j] != -INFINITY) add_entry(&w, 2 * asset + 1, upper[j], (uint32_t)i);
        }
    }
    close_index(&w, prepared);
    free(lower);
    free(upper);
}

void mf_events_prepare_isolated(const mf_book_view *book, const mf_tier_table *tiers,
                                const int64_t *accounts, int64_t n_accounts,
                                const double *start_prices, void *prepared) {
    prepare_positions(book, tiers, accounts, n_accounts, start_prices, 0, prepared);
}

void mf_events_prepare_cross(const mf_book_view *book, const mf_tier_table *tiers,
                             const int64_t *accounts, int64_t n_accounts,
                             const double *start_prices, void *prepared) {
    prepare_positions(book, tiers, accounts, n_accounts, start_prices, 1, prepared);
}

/* Portfolio: on the region where every held asset's price is below MF_EVENT_CEILING times its
 * start price, the requirement is at most s_max sum_k |Q_k| P_k rho_k, rho_k the largest of the
 * asset's common range, its spread range, the floor rate and the tier rate at the ceiling's
 * notional (each candidate loss of mf_portfolio_requirement is at most that sum). So
 * E - requirement >= C - sum q e + sum_k a_k P_k with a_k = Q_k - s_max rho_k |Q_k|, a linear
 * function: its headroom at the start prices, less a safety margin, is shared equally among the
 * held assets, each getting a lower (a_k > 0) or upper (a_k < 0) safe price, and every held
 * asset an upper one at the ceiling. A hedged account's bound is loose (it ignores the hedge):
 * with no headroom under it, the account is checked every round. */
void mf_events_prepare_portfolio(const mf_book_view *book, const mf_tier_table *tiers,
                                 const int64_t *accounts, int64_t n_accounts,
                                 const double *start_prices, void *prepared) {
    const int n_assets = book->n_assets;
    /* Slots: per position of asset k one in each of lists 2k and 2k + 1, and one per account
     * in list 0 (the always-checked entry). */
    int64_t capacity[2 * MF_MAX_ASSETS] = {0};
    capacity[0] = n_accounts;
    for (int64_t i = 0; i < n_accounts; i++) {
        const int64_t first = book->account_first[accounts[i]];
        for (int64_t p = first; p < first + book->account_positions[accounts[i]]; p++) {
            capacity[2 * book->position_asset[p]]++;
            capacity[2 * book->position_asset[p] + 1]++;
        }
    }
    index_writer w = open_index(n_assets, n_accounts, capacity, prepared);
    const double s_max = tiers->maintenance_scale_max > 1 ? tiers->maintenance_scale_max : 1.0;
    const mf_portfolio_grid *grid = &tiers->portfolio;
    for (int64_t i = 0; i < n_accounts; i++) {
        const int64_t account = accounts[i];
        const int64_t first = book->account_first[account];
        const int64_t stop = first + book->account_positions[account];
        double net[MF_MAX_ASSETS] = {0};
        double constant = book->account_collateral[account];
        for (int64_t p = first; p < stop; p++) {
            net[book->position_asset[p]] += book->position_quantity[p];
            constant -= book->position_quantity[p] * book->position_entry[p];
        }
        double slope[MF_MAX_ASSETS];
        double headroom = constant, gross = 0;
        int held = 0;
        for (int k = 0; k < n_assets; k++) {
            slope[k] = 0;
            if (net[k] == 0) continue;
            const double size = fabs(net[k]);
            const double ceiling_notional = size * start_prices[k] * MF_EVENT_CEILING;
            double rho = 0;
            for (int t = 0; t <= mf_tier_index(tiers, k, ceiling_notional); t++)
                if (tiers->mmr[k][t] > rho) rho = tiers->mmr[k][t];
            if (grid->range[k] > rho) rho = grid->range[k];
            if (grid->spread_range[k] > rho) rho = grid->spread_range[k];
            if (grid->floor_rate > rho) rho = grid->floor_rate;
            slope[k] = net[k] - s_max * rho * size;
            headroom += slope[k] * start_prices[k];
            gross += size * start_prices[k];
            held++;
        }
        const double safety = MF_EVENT_SAFETY * gross;
        if (held == 0 || !(headroom > safety)) {
            add_entry(&w, 0, INFINITY, (uint32_t)i); /* always checked */
            continue;
        }
        const double share = (headroom - safety) / held;
        for (int k = 0; k < n_assets; k++) {
            if (net[k] == 0) continue;
            double upper = start_prices[k] * MF_EVENT_CEILING;
            if (slope[k] > 0) {
                const double lower = start_prices[k] - share / slope[k];
                if (lower > 0) add_entry(&w, 2 * k, lower * (1 + MF_EVENT_SHRINK), (uint32_t)i);
            } else if (slope[k] < 0) {
                const double rise = start_prices[k] + share / -slope[k];
                if (rise < upper) upper = rise;
            }
            add_entry(&w, 2 * k + 1, -(upper * (1 - MF_EVENT_SHRINK)), (uint32_t)i);
        }
    }
    close_index(&w, prepared);
}

/* 1 + s_max x the largest maintenance rate a position of `size` coins of asset k meets while
 * its price stays below twice `price`: a bound on how fast its headroom falls per unit of
 * price move there. */
static double loss_rate(const mf_tier_table *tiers, int k, double s_max, double size,
                        double price) {
    const int top = mf_tier_index(tiers, k, 2 * size * price);
    double rate = 0;
    for (int t = 0; t <= top; t++)
        if (tiers->mmr[k][t] > rate) rate = tiers->mmr[k][t];
    return size * (1 + s_max * rate);
}

double mf_events_funding_factor(const mf_tier_table *tiers, mf_margin_mode mode, int asset) {
    const double s_max = tiers->maintenance_scale_max > 1 ? tiers->maintenance_scale_max : 1.0;
    double rate = 0;
    for (int t = 0; t < tiers->n_tiers[asset]; t++)
        if (tiers->mmr[asset][t] > rate) rate = tiers->mmr[asset][t];
    if (mode == MF_MODE_PORTFOLIO) {
        const mf_portfolio_grid *grid = &tiers->portfolio;
        if (grid->range[asset] > rate) rate = grid->range[asset];
        if (grid->spread_range[asset] > rate) rate = grid->spread_range[asset];
        if (grid->floor_rate > rate) rate = grid->floor_rate;
    }
    const double slope = 1 - s_max * rate;
    return slope > 0 ? 1 / slope : INFINITY;
}

static int rise_is_safe_for_longs(const mf_tier_table *tiers, int k, double s_max) {
    double rate = 0;
    for (int t = 0; t < tiers->n_tiers[k]; t++)
        if (tiers->mmr[k][t] > rate) rate = tiers->mmr[k][t];
    return s_max * rate < 1;
}

void mf_events_rearm(const mf_book_view *book, const mf_tier_table *tiers, mf_margin_mode mode,
                     int64_t account, const double *marks, const double *funding,
                     const mf_live_book *live, const uint8_t *position_state, int batch, int b,
                     double *low, double *high) {
    const int n_assets = book->n_assets;
    for (int k = 0; k < n_assets; k++) {
        low[k] = -INFINITY;
        high[k] = INFINITY;
    }
    const double s_max = tiers->maintenance_scale_max > 1 ? tiers->maintenance_scale_max : 1.0;
    const int64_t first = book->account_first[account];
    const int64_t stop = first + book->account_positions[account];
    /* Relative moves up to `relative` x the mark (below 1, so prices stay under twice the mark
     * and loss_rate holds) on the assets held. */
    double relative[MF_MAX_ASSETS];
    int has_long[MF_MAX_ASSETS] = {0}, has_short[MF_MAX_ASSETS] = {0};
    for (int k = 0; k < n_assets; k++)
        relative[k] = INFINITY;
    switch (mode) {
    case MF_MODE_ISOLATED:
        /* Each position on its own: its headroom over its own rate of loss. */
        for (int64_t p = first; p < stop; p++) {
            if (position_state[p * batch + b] != MF_POSITION_OPEN) continue; /* never again */
            const int k = book->position_asset[p];
            const double quantity =
                live ? live->quantity[p * batch + b] : book->position_quantity[p];
            const double cash = live ? live->cash[p * batch + b] : 0.0;
            has_long[k] |= quantity > 0;
            has_short[k] |= quantity < 0;
            const double size = fabs(quantity);
            if (size == 0) continue; /* nothing left to lose */
            const double headroom = book->position_margin[p] + cash +
                                    quantity * (marks[k] - book->position_entry[p]) -
                                    (funding ? quantity * funding[k] : 0.0) -
                                    s_max * mf_maintenance_margin(tiers, k, size * marks[k]) -
                                    MF_EVENT_SAFETY * size * marks[k];
            const double r =
                headroom > 0 ? headroom / (loss_rate(tiers, k, s_max, size, marks[k]) * marks[k])
                             : 0;
            if (r < relative[k]) relative[k] = r;
        }
        break;
    case MF_MODE_CROSS: {
        /* The same relative move on every asset held uses at most sum_k L_k P_k of headroom
         * per unit: each asset gets H / sum_k L_k P_k. */
        double headroom = book->account_collateral[account];
        double size[MF_MAX_ASSETS] = {0};
        for (int64_t p = first; p < stop; p++) {
            const int k = book->position_asset[p];
            const double quantity =
                live ? live->quantity[p * batch + b] : book->position_quantity[p];
            if (live) headroom += live->cash[p * batch + b];
            has_long[k] |= quantity > 0;
            has_short[k] |= quantity < 0;
            headroom += quantity * (marks[k] - book->position_entry[p]) -
                        (funding ? quantity * funding[k] : 0.0) -
                        s_max * mf_maintenance_margin(tiers, k, fabs(quantity) * marks[k]) -
                        MF_EVENT_SAFETY * fabs(quantity) * marks[k];
            size[k] += fabs(quantity);
        }
        double exposure = 0;
        for (int k = 0; k < n_assets; k++)
            if (size[k] > 0) exposure += loss_rate(tiers, k, s_max, size[k], marks[k]) * marks[k];
        for (int k = 0; k < n_assets; k++)
            if (size[k] > 0) relative[k] = headroom > 0 ? headroom / exposure : 0;
        break;
    }
    case MF_MODE_PORTFOLIO:
        low[0] = INFINITY; /* a requirement with jumps: no range from a rate of loss */
        return;
    }
    for (int k = 0; k < n_assets; k++) {
        if (relative[k] == INFINITY) continue;
        if (!(relative[k] > 0)) {
            low[0] = INFINITY;
            return;
        }
        const double r = marks[k] * (relative[k] < 0.5 ? relative[k] : 0.5) * (1 - MF_EVENT_SHRINK);
        /* Only the adverse side needs a trigger. A fall never costs a book without longs in
         * the asset: shorts gain and every requirement shrinks with the notional. A rise never
         * costs a book without shorts while s_max x (the highest tier rate) < 1: longs gain a
         * dollar per dollar of price and their requirement grows by less. */
        low[k] = has_long[k] ? marks[k] - r : -INFINITY;
        high[k] =
            has_short[k] || !rise_is_safe_for_longs(tiers, k, s_max) ? marks[k] + r : INFINITY;
    }
}

int64_t mf_events_advance(const mf_event_index *index, int list, double signed_mark,
                          int64_t cursor) {
    /* Entries of a list are sorted by bound descending: the passed ones (bound >= signed mark,
     * the prefilter's "not provably safe") form a prefix. Most calls pass nothing, so look at
     * the cursor first, then gallop (1, 2, 4, ... entries) and finish with a binary search:
     * O(log passed) instead of O(log entries), one memory access when nothing is passed. */
    const int64_t end = index->list_start[list + 1];
    if (cursor >= end || index->bound[cursor] < signed_mark) return cursor;
    int64_t low = cursor + 1, step = 1, high = cursor + 1;
    while (high < end && index->bound[high] >= signed_mark) {
        low = high + 1;
        step *= 2;
        high = cursor + step;
    }
    if (high > end) high = end;
    while (low < high) {
        const int64_t mid = low + (high - low) / 2;
        if (index->bound[mid] >= signed_mark)
            low = mid + 1;
        else
            high = mid;
    }
    return low;
}
