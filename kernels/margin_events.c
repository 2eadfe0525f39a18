/* Event indexes of the event-driven margin models (docs/model.md, "Event-driven margin
 * checks"): per asset and direction, the group's safe prices sorted so that a path's cursor
 * finds the accounts a move has reached with one binary search per list. */
#include <math.h>
#include <stdlib.h>

#include "margin.h"

#define MF_EVENT_SAFETY 1e-9     /* of gross notional: far above the exact check's rounding */
#define MF_EVENT_SHRINK 1e-12    /* relative, on every safe price */
#define MF_EVENT_CEILING 2.0     /* portfolio: bounds hold up to this multiple of the start price */
#define MF_EVENT_HEADER 3        /* n_accounts, n_lists, n_entries */

typedef struct {
    double bound;
    uint32_t owner;
    uint8_t list;
} event_entry;

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
    for (int k = 0; k < book->n_assets; k++) {
        falling[k] = 0;
        for (int t = 0; t < scaled.n_tiers[k]; t++)
            falling[k] |= scaled.mmr[k][t] >= 1;
    }
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

/* By list, then safe price descending, then account (a total order: the layout is the same
 * whatever qsort does with ties). */
static int compare_entries(const void *a, const void *b) {
    const event_entry *x = a, *y = b;
    if (x->list != y->list) return x->list < y->list ? -1 : 1;
    if (x->bound != y->bound) return x->bound > y->bound ? -1 : 1;
    return x->owner < y->owner ? -1 : x->owner > y->owner;
}

/* Sort the entries into the prepared layout. `entries` is scratch the caller frees. */
static void write_index(int n_assets, int64_t n_accounts, event_entry *entries, int64_t n,
                        void *prepared) {
    qsort(entries, (size_t)n, sizeof *entries, compare_entries);
    int64_t *header = prepared;
    header[0] = n_accounts;
    header[1] = 2 * n_assets;
    header[2] = n;
    int64_t *list_start = header + MF_EVENT_HEADER;
    double *bound = (double *)(list_start + 2 * n_assets + 1);
    uint32_t *owner = (uint32_t *)(bound + n);
    int64_t j = 0;
    for (int list = 0; list <= 2 * n_assets; list++) {
        list_start[list] = j;
        while (j < n && entries[j].list == list) {
            bound[j] = entries[j].bound;
            owner[j] = entries[j].owner;
            j++;
        }
    }
}

/* When the entries cannot be sorted into place (no scratch memory), every account gets an entry
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
    const int64_t capacity = position_entries(book, tiers, accounts, n_accounts);
    event_entry *entries = malloc(sizeof *entries * (size_t)(capacity > 0 ? capacity : 1));
    int32_t max_positions = 1;
    for (int64_t i = 0; i < n_accounts; i++)
        if (book->account_positions[accounts[i]] > max_positions)
            max_positions = book->account_positions[accounts[i]];
    double *lower = malloc(sizeof(double) * (size_t)max_positions);
    double *upper = malloc(sizeof(double) * (size_t)max_positions);
    if (!entries || !lower || !upper) {
        free(entries);
        free(lower);
        free(upper);
        write_always(book->n_assets, accounts, n_accounts, prepared);
        return;
    }
    int64_t n = 0;
    for (int64_t i = 0; i < n_accounts; i++) {
        const int64_t account = accounts[i];
        const int64_t first = book->account_first[account];
        const int32_t count = book->account_positions[account];
        mf_safe_prices(book, &scaled, account, start_prices, cross, lower, upper);
        for (int32_t j = 0; j < count; j++) {
            const int asset = book->position_asset[first + j];
            const int is_long = book->position_quantity[first + j] > 0;
            /* A long's lower price is in the falling list, a short's (negated) upper one in
             * the rising list; a long's extra upper price in the rising list. */
            entries[n++] = (event_entry){lower[j], (uint32_t)i, (uint8_t)(2 * asset + !is_long)};
            if (upper[j] != -INFINITY)
                entries[n++] = (event_entry){upper[j], (uint32_t)i, (uint8_t)(2 * asset + 1)};
        }
    }
    write_index(book->n_assets, n_accounts, entries, n, prepared);
    free(entries);
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
    int64_t capacity = 0;
    for (int64_t i = 0; i < n_accounts; i++)
        capacity += 2 * (int64_t)book->account_positions[accounts[i]] + 1;
    event_entry *entries = malloc(sizeof *entries * (size_t)(capacity > 0 ? capacity : 1));
    if (!entries) {
        write_always(n_assets, accounts, n_accounts, prepared);
        return;
    }
    const double s_max = tiers->maintenance_scale_max > 1 ? tiers->maintenance_scale_max : 1.0;
    const mf_portfolio_grid *grid = &tiers->portfolio;
    int64_t n = 0;
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
            double rho = tiers->mmr[k][mf_tier_index(tiers, k, ceiling_notional)];
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
            entries[n++] = (event_entry){INFINITY, (uint32_t)i, 0}; /* always checked */
            continue;
        }
        const double share = (headroom - safety) / held;
        for (int k = 0; k < n_assets; k++) {
            if (net[k] == 0) continue;
            const double ceiling = start_prices[k] * MF_EVENT_CEILING;
            double upper = ceiling;
            if (slope[k] > 0) {
                const double lower = start_prices[k] - share / slope[k];
                if (lower > 0)
                    entries[n++] = (event_entry){lower * (1 + MF_EVENT_SHRINK), (uint32_t)i,
                                                 (uint8_t)(2 * k)};
            } else if (slope[k] < 0) {
                const double rise = start_prices[k] + share / -slope[k];
                if (rise < upper) upper = rise;
            }
            entries[n++] =
                (event_entry){-(upper * (1 - MF_EVENT_SHRINK)), (uint32_t)i, (uint8_t)(2 * k + 1)};
        }
    }
    write_index(n_assets, n_accounts, entries, n, prepared);
    free(entries);
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

void mf_events_rearm(const mf_book_view *book, const mf_tier_table *tiers, mf_margin_mode mode,
                     int64_t account, const double *marks, const uint8_t *position_state,
                     int batch, int b, double *low, double *high) {
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
    for (int k = 0; k < n_assets; k++)
        relative[k] = INFINITY;
    switch (mode) {
    case MF_MODE_ISOLATED:
        /* Each position on its own: its headroom over its own rate of loss. */
        for (int64_t p = first; p < stop; p++) {
            if (position_state[p * batch + b] != MF_POSITION_OPEN) continue; /* never again */
            const int k = book->position_asset[p];
            const double quantity = book->position_quantity[p];
            const double size = fabs(quantity);
            const double headroom =
                book->position_margin[p] + quantity * (marks[k] - book->position_entry[p]) -
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
            const double quantity = book->position_quantity[p];
            headroom += quantity * (marks[k] - book->position_entry[p]) -
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
        low[k] = marks[k] - r;
        high[k] = marks[k] + r;
    }
}

int64_t mf_events_advance(const mf_event_index *index, int list, double signed_mark,
                          int64_t cursor) {
    /* Entries of a list are sorted by bound descending: the passed ones (bound >= signed mark,
     * the prefilter's "not provably safe") form a prefix. */
    int64_t low = cursor, high = index->list_start[list + 1];
    while (low < high) {
        const int64_t mid = low + (high - low) / 2;
        if (index->bound[mid] >= signed_mark)
            low = mid + 1;
        else
            high = mid;
    }
    return low;
}
