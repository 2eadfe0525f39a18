/* The structure-of-arrays account store: read-only population data shared by every path.
 * Positions are sorted by account; an account's positions are contiguous. */
#ifndef MF_STORE_H
#define MF_STORE_H

#include <stdint.h>

#include "book.h"
#include "config.h"
#include "mf_error.h"

typedef struct {
    int64_t n_accounts;
    int64_t n_positions;
    int n_assets;
    char asset_names[MF_MAX_ASSETS][MF_NAME_LEN];

    /* Accounts (n_accounts). */
    uint8_t *account_mode;      /* mf_margin_mode */
    double *account_collateral; /* cross: wallet collateral C (USD); isolated: 0 */
    int64_t *account_first;     /* index of the account's first position */
    int32_t *account_positions; /* number of positions */

    /* Positions (n_positions). */
    int64_t *position_account; /* owning account */
    uint8_t *position_asset;   /* asset index */
    double *position_quantity; /* signed coins: > 0 long, < 0 short */
    double *position_entry;    /* entry price, USD */
    double *position_margin;   /* isolated margin m (USD); 0 for positions of cross accounts */
} mf_store;

/* Allocate arrays for the given sizes (zeroed). */
mf_status mf_store_alloc(mf_store *store, int64_t n_accounts, int64_t n_positions, int n_assets);
void mf_store_free(mf_store *store);
/* Fill account_first/account_positions from position_account, and check the invariants
 * (positions sorted by account, every account has >= 1 position, asset indices in range,
 * quantities non-zero and finite, entries and margins finite and > 0 / >= 0). */
mf_status mf_store_finish(mf_store *store);

/* Generate the seeded population of docs/model.md section 4 (stream MF_STREAM_POPULATION). */
mf_status mf_population_generate(mf_store *store, const mf_config *config);

/* Save / load a population snapshot (HDF5 group "/population", see docs/output.md).
 * Loading checks the asset names against the config and every invariant above. */
mf_status mf_population_save(const mf_store *store, const char *path, int force);
mf_status mf_population_load(mf_store *store, const char *path, const mf_config *config);

/* Total USD notional per asset at the given prices (K values), for checks and summaries. */
void mf_store_open_interest(const mf_store *store, const double *prices, double *oi_out);

#endif
