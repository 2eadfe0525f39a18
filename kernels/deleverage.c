#include "deleverage.h"

#include <math.h>
#include <stdlib.h>

#include "margin.h"

static int64_t at(const mf_path_book *path, int64_t entity) {
    return entity * path->batch + path->slot;
}

double mf_position_open_pnl(const mf_path_book *path, int64_t p) {
    const mf_book_view *book = path->book;
    const int asset = book->position_asset[p];
    const double quantity = path->live_quantity[at(path, p)];
    return quantity * (path->marks[asset] - book->position_entry[p]) -
           quantity * path->funding_index[asset];
}

double mf_path_equity(const mf_path_book *path, int64_t account, int64_t position) {
    const mf_book_view *book = path->book;
    if (position >= 0)
        return mf_margin_value(book, position, path->marks[book->position_asset[position]]) +
               path->live_cash[at(path, position)] + mf_position_open_pnl(path, position);
    double equity = book->account_collateral[account];
    const int64_t first = book->account_first[account];
    const int64_t stop = first + book->account_positions[account];
    for (int64_t p = first; p < stop; p++)
        equity += path->live_cash[at(path, p)] + mf_position_open_pnl(path, p);
    return equity;
}

int mf_position_is_live(const mf_path_book *path, int64_t p) {
    const mf_book_view *book = path->book;
    if (path->live_quantity[at(path, p)] == 0) return 0;
    const int64_t account = book->position_account[p];
    switch ((mf_margin_mode)book->account_mode[account]) {
    case MF_MODE_ISOLATED:
        return path->position_state[at(path, p)] == MF_POSITION_OPEN;
    case MF_MODE_CROSS:
    case MF_MODE_PORTFOLIO:
        return (path->account_state[at(path, account)] &
                (MF_ACCOUNT_LIQUIDATING | MF_ACCOUNT_PARTIAL)) == 0;
    }
    return 0;
}

static int isolated(const mf_path_book *path, int64_t p) {
    return path->book->account_mode[path->book->position_account[p]] == MF_MODE_ISOLATED;
}

double mf_adl_rank_key(const mf_path_book *path, int64_t p) {
    const mf_book_view *book = path->book;
    const int asset = book->position_asset[p];
    const double quantity = path->live_quantity[at(path, p)];
    const double entry = book->position_entry[p];
    const double mark = path->marks[asset];
    const double pnl_share = (quantity > 0 ? 1.0 : -1.0) * (mark - entry) / entry;
    const int64_t account = book->position_account[p];
    const double equity = mf_path_equity(path, account, isolated(path, p) ? p : -1);
    const double leverage = equity > 0 ? fabs(quantity) * mark / equity : 1e300;
    return pnl_share > 0 ? pnl_share * leverage : pnl_share / leverage;
}

/* Sort candidates by key, highest first; equal keys by position index (deterministic). */
static void sort_candidates(int64_t *index, double *key, int64_t n) {
    /* Heap sort: no recursion, no allocation, O(n log n). The heap keeps the lowest-ranked
     * candidate on top, so the sorted array runs from highest to lowest rank. */
#define MF_BEFORE(i, j) (key[i] > key[j] || (key[i] == key[j] && index[i] < index[j]))
#define MF_SWAP(i, j)                                                                              \
    do {                                                                                           \
        const int64_t ti = index[i];                                                               \
        const double tk = key[i];                                                                  \
        index[i] = index[j];                                                                       \
        key[i] = key[j];                                                                           \
        index[j] = ti;                                                                             \
        key[j] = tk;                                                                               \
    } while (0)
    for (int64_t start = n / 2 - 1; start >= 0; start--) {
        int64_t root = start;
        for (;;) {
            int64_t child = 2 * root + 1;
            if (child >= n) break;
            if (child + 1 < n && MF_BEFORE(child, child + 1)) child++;
            if (!MF_BEFORE(root, child)) break;
            MF_SWAP(root, child);
            root = child;
        }
    }
    for (int64_t end = n - 1; end > 0; end--) {
        MF_SWAP(0, end);
        int64_t root = 0;
        for (;;) {
            int64_t child = 2 * root + 1;
            if (child >= end) break;
            if (child + 1 < end && MF_BEFORE(child, child + 1)) child++;
            if (!MF_BEFORE(root, child)) break;
            MF_SWAP(root, child);
            root = child;
        }
    }
#undef MF_BEFORE
#undef MF_SWAP
}

mf_adl_outcome mf_adl_cover(const mf_path_book *path, int asset, double bankrupt_quantity,
                            double reference_price, double bankruptcy_price, double shortfall) {
    mf_adl_outcome outcome = {0, 0, 0, 0, 0};
    const double per_coin = fabs(bankruptcy_price - reference_price);
    if (!(shortfall > 0) || !(per_coin > 0) || bankrupt_quantity == 0) return outcome;
    const mf_book_view *book = path->book;
    int64_t n = 0;
    for (int64_t p = 0; p < book->n_positions; p++) {
        if (book->position_asset[p] != asset || !mf_position_is_live(path, p)) continue;
        const double quantity = path->live_quantity[at(path, p)];
        if ((quantity > 0) == (bankrupt_quantity > 0)) continue; /* same side */
        path->scratch_index[n] = p;
        path->scratch_key[n] = mf_adl_rank_key(path, p);
        n++;
    }
    sort_candidates(path->scratch_index, path->scratch_key, n);
    double coins_left = shortfall / per_coin;
    const double funding = path->funding_index[asset];
    for (int64_t i = 0; i < n && coins_left > 0; i++) {
        const int64_t p = path->scratch_index[i];
        const int64_t slot = at(path, p);
        const double quantity = path->live_quantity[slot];
        const double size = fabs(quantity);
        const int whole = size <= coins_left;
        const double closed = whole ? quantity : copysign(coins_left, quantity);
        const double entry = book->position_entry[p];
        path->live_cash[slot] += closed * (bankruptcy_price - entry) - closed * funding;
        path->live_quantity[slot] = whole ? 0.0 : quantity - closed;
        coins_left = whole ? coins_left - size : 0;
        outcome.covered += fabs(closed) * per_coin;
        outcome.notional += fabs(closed) * bankruptcy_price;
        outcome.reference_pnl += closed * (reference_price - entry);
        outcome.funding -= closed * funding;
        if (whole && isolated(path, p)) {
            /* Closed: an inverse position's coin margin is realised at the mark. */
            const double revaluation =
                mf_margin_value(book, p, path->marks[asset]) - book->position_margin[p];
            path->live_cash[slot] += revaluation;
            outcome.reference_pnl += revaluation;
            path->position_state[slot] = MF_POSITION_CLOSED;
        }
        uint8_t *account_state = &path->account_state[at(path, book->position_account[p])];
        if (!(*account_state & MF_ACCOUNT_DELEVERAGED)) {
            *account_state |= MF_ACCOUNT_DELEVERAGED;
            outcome.accounts_hit++;
        }
    }
    if (coins_left == 0) outcome.covered = shortfall; /* exactly covered: no rounding residue */
    return outcome;
}

double mf_socialise_loss(const mf_path_book *path, double loss) {
    const mf_book_view *book = path->book;
    if (!(loss > 0)) return 0;
    /* Payers: isolated positions and cross accounts with a positive unrealised PnL. */
    int64_t n = 0;
    double total_profit = 0;
    for (int64_t a = 0; a < book->n_accounts; a++) {
        const int64_t first = book->account_first[a];
        const int64_t stop = first + book->account_positions[a];
        const int cross = book->account_mode[a] != MF_MODE_ISOLATED; /* whole-account margin */
        double account_profit = 0;
        int account_live = 0;
        for (int64_t p = first; p < stop; p++) {
            if (!mf_position_is_live(path, p)) continue;
            const double profit = mf_position_open_pnl(path, p);
            if (cross) {
                account_profit += profit;
                account_live = 1;
            } else if (profit > 0) {
                path->scratch_index[n] = p;
                path->scratch_key[n++] = profit;
                total_profit += profit;
            }
        }
        if (cross && account_live && account_profit > 0) {
            path->scratch_index[n] = first;
            path->scratch_key[n++] = account_profit;
            total_profit += account_profit;
        }
    }
    if (!(total_profit > 0)) return 0;
    const double share = loss < total_profit ? loss / total_profit : 1.0;
    double charged = 0;
    for (int64_t i = 0; i < n; i++) {
        const double charge = path->scratch_key[i] * share;
        path->live_cash[at(path, path->scratch_index[i])] -= charge;
        charged += charge;
    }
    /* Fully covered: the charges sum to the loss but for rounding, which is not a deficit. */
    return share < 1.0 ? loss : charged;
}

double mf_partial_fraction(double equity, double target, double notional, double fee_rate,
                           double chunk) {
    const double denominator = target - fee_rate * notional;
    if (!(equity > 0) || !(denominator > 0)) return 1.0;
    const double needed = (target - equity) / denominator;
    if (!(needed < 1)) return 1.0;
    double chunks = ceil(needed / chunk);
    if (chunks < 1) chunks = 1;
    const double fraction = chunks * chunk;
    return fraction < 1 ? fraction : 1.0;
}
