#include "store.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

mf_status mf_store_alloc(mf_store *store, int64_t n_accounts, int64_t n_positions, int n_assets) {
    if (n_accounts < 0 || n_positions < n_accounts || n_assets < 1 || n_assets > MF_MAX_ASSETS)
        return MF_FAIL(MF_ERR_INTERNAL, "bad store sizes: %lld accounts, %lld positions, %d assets",
                       (long long)n_accounts, (long long)n_positions, n_assets);
    memset(store, 0, sizeof *store);
    store->n_accounts = n_accounts;
    store->n_positions = n_positions;
    store->n_assets = n_assets;
    MF_ALLOC_LARGE(store->account_mode, n_accounts);
    MF_ALLOC_LARGE(store->account_collateral, n_accounts);
    MF_ALLOC_LARGE(store->account_first, n_accounts);
    MF_ALLOC_LARGE(store->account_positions, n_accounts);
    MF_ALLOC_LARGE(store->position_account, n_positions);
    MF_ALLOC_LARGE(store->position_asset, n_positions);
    MF_ALLOC_LARGE(store->position_quantity, n_positions);
    MF_ALLOC_LARGE(store->position_entry, n_positions);
    MF_ALLOC_LARGE(store->position_margin, n_positions);
    return MF_OK;
}

void mf_store_free(mf_store *store) {
    if (!store) return;
    free(store->account_mode);
    free(store->account_collateral);
    free(store->account_first);
    free(store->account_positions);
    free(store->position_account);
    free(store->position_asset);
    free(store->position_quantity);
    free(store->position_entry);
    free(store->position_margin);
    memset(store, 0, sizeof *store);
}

mf_status mf_store_finish(mf_store *store) {
    for (int64_t a = 0; a < store->n_accounts; a++) {
        store->account_positions[a] = 0;
        store->account_first[a] = -1;
        if (store->account_mode[a] >= MF_N_MODES)
            return MF_FAIL(MF_ERR_INPUT, "account %lld: unknown margin mode %d", (long long)a,
                           store->account_mode[a]);
        double collateral = store->account_collateral[a];
        if (!isfinite(collateral) || collateral < 0)
            return MF_FAIL(MF_ERR_INPUT, "account %lld: collateral %g is not finite and >= 0",
                           (long long)a, collateral);
    }
    int64_t previous = -1;
    for (int64_t p = 0; p < store->n_positions; p++) {
        int64_t account = store->position_account[p];
        if (account < 0 || account >= store->n_accounts)
            return MF_FAIL(MF_ERR_INPUT, "position %lld: account %lld out of range", (long long)p,
                           (long long)account);
        if (account < previous)
            return MF_FAIL(MF_ERR_INPUT, "position %lld: positions are not sorted by account",
                           (long long)p);
        if (account != previous) store->account_first[account] = p;
        store->account_positions[account]++;
        previous = account;
        if (store->position_asset[p] >= store->n_assets)
            return MF_FAIL(MF_ERR_INPUT, "position %lld: asset %d out of range", (long long)p,
                           store->position_asset[p]);
        double quantity = store->position_quantity[p];
        if (!isfinite(quantity) || quantity == 0)
            return MF_FAIL(MF_ERR_INPUT, "position %lld: quantity %g must be finite and non-zero",
                           (long long)p, quantity);
        double entry = store->position_entry[p];
        if (!isfinite(entry) || entry <= 0)
            return MF_FAIL(MF_ERR_INPUT, "position %lld: entry price %g must be > 0", (long long)p,
                           entry);
        double margin = store->position_margin[p];
        if (!isfinite(margin) || margin < 0)
            return MF_FAIL(MF_ERR_INPUT, "position %lld: margin %g must be finite and >= 0",
                           (long long)p, margin);
        switch ((mf_margin_mode)store->account_mode[account]) {
        case MF_MODE_ISOLATED:
            break;
        case MF_MODE_CROSS:
        case MF_MODE_PORTFOLIO:
            if (margin != 0)
                return MF_FAIL(
                    MF_ERR_INPUT, "position %lld: a %s account's position has isolated margin %g",
                    (long long)p,
                    store->account_mode[account] == MF_MODE_CROSS ? "cross" : "portfolio", margin);
            break;
        }
    }
    for (int64_t a = 0; a < store->n_accounts; a++)
        if (store->account_positions[a] == 0)
            return MF_FAIL(MF_ERR_INPUT, "account %lld has no positions", (long long)a);
    return MF_OK;
}

void mf_store_open_interest(const mf_store *store, const double *prices, double *oi_out) {
    for (int k = 0; k < store->n_assets; k++)
        oi_out[k] = 0;
    for (int64_t p = 0; p < store->n_positions; p++) {
        int k = store->position_asset[p];
        oi_out[k] += fabs(store->position_quantity[p]) * prices[k];
    }
}
