/* bench_portfolio: the cost of one margin check per account and path, cross margin against
 * portfolio margin, on the same accounts (docs/performance.md, "Portfolio margin").
 *
 * The default scenario's population (configs' defaults, population.accounts = N, every account
 * generated as cross so both models read identical positions and collateral); one batch of 8
 * paths with marks uniform in the start price x (1 +- 3%), fixed seed; each model sweeps every
 * account of the book (the kernels never read the mode byte) on one thread, repeated until at
 * least 0.5 s has run, best of 5 such measurements. Prints ns per account-path and the flags
 * each model raised. It judges nothing (no timed assertions).
 *
 *   bench_portfolio [ACCOUNTS]     (default 100000) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "margin.h"
#include "mf_error.h"
#include "scenario.h"
#include "store.h"

#define BATCH 8
#define MARK_SEED 20261128u

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void fail(const char *what) {
    fprintf(stderr, "bench_portfolio: %s failed: %s\n", what, mf_error_message());
    exit(1);
}

typedef struct {
    double ns_per_account_path;
    int64_t flags;
} measurement;

static measurement measure(mf_margin_check_fn check, const mf_margin_call *base, int64_t n,
                           uint8_t *account_state, size_t state_bytes) {
    measurement best = {1e300, 0};
    for (int rep = 0; rep < 5; rep++) {
        int64_t sweeps = 0, flags = 0;
        const double start = now_seconds();
        double elapsed = 0;
        do {
            memset(account_state, 0, state_bytes); /* every sweep checks every account */
            flags = check(base);
            sweeps++;
            elapsed = now_seconds() - start;
        } while (elapsed < 0.5);
        const double ns = 1e9 * elapsed / ((double)sweeps * (double)n * BATCH);
        if (ns < best.ns_per_account_path) best.ns_per_account_path = ns;
        best.flags = flags;
    }
    return best;
}

int main(int argc, char **argv) {
    const long long accounts = argc > 1 ? atoll(argv[1]) : 100000;
    if (accounts < 1) {
        fprintf(stderr, "usage: bench_portfolio [ACCOUNTS]\n");
        return 2;
    }
    char accounts_override[64];
    snprintf(accounts_override, sizeof accounts_override, "population.accounts=%lld", accounts);
    const char *overrides[] = {accounts_override, "population.margin_modes.isolated=0",
                               "population.margin_modes.cross=1"};
    mf_config config;
    if (mf_config_load(&config, NULL, overrides, 3) != MF_OK) fail("mf_config_load");
    mf_store store;
    memset(&store, 0, sizeof store);
    if (mf_population_generate(&store, &config) != MF_OK) fail("mf_population_generate");
    mf_tier_table tiers;
    mf_scenario_tier_table(&config, &tiers);
    const int n_assets = store.n_assets;
    const int64_t n = store.n_accounts;

    int64_t *ids = malloc((size_t)n * sizeof *ids);
    uint8_t *account_state = calloc((size_t)n * BATCH, 1);
    uint8_t *position_state = calloc((size_t)store.n_positions * BATCH, 1);
    if (!ids || !account_state || !position_state) fail("allocation");
    for (int64_t a = 0; a < n; a++)
        ids[a] = a;
    double marks[MF_MAX_ASSETS * BATCH], funding[MF_MAX_ASSETS * BATCH] = {0};
    double scale[MF_MAX_ASSETS * BATCH];
    uint64_t state = MARK_SEED;
    for (int k = 0; k < n_assets; k++)
        for (int b = 0; b < BATCH; b++) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            const double u = (double)(state >> 11) * 0x1.0p-53;
            marks[k * BATCH + b] = config.market.assets[k].price * (1 + 0.06 * (u - 0.5));
            scale[k * BATCH + b] = 1.0;
        }
    uint8_t active[BATCH];
    memset(active, 1, sizeof active);
    mf_book_view book = {store.n_accounts,
                         store.n_positions,
                         store.n_assets,
                         store.account_mode,
                         store.account_collateral,
                         store.account_first,
                         store.account_positions,
                         store.position_account,
                         store.position_asset,
                         store.position_quantity,
                         store.position_entry,
                         store.position_margin,
                         NULL};
    mf_margin_call call = {0};
    call.book = &book;
    call.tiers = &tiers;
    call.accounts = ids;
    call.begin = 0;
    call.end = n;
    call.batch = BATCH;
    call.marks = marks;
    call.vectors = (mf_market_vectors){funding, scale, 1};
    call.active = active;
    call.account_state = account_state;
    call.position_state = position_state;

    printf("bench_portfolio: %lld accounts, %lld positions, %d assets, batch %d, 1 thread\n",
           (long long)n, (long long)store.n_positions, n_assets, BATCH);
    const measurement cross =
        measure(mf_margin_check_cross, &call, n, account_state, (size_t)n * BATCH);
    const measurement portfolio =
        measure(mf_margin_check_portfolio, &call, n, account_state, (size_t)n * BATCH);
    call.vectors.neutral = 0;
    const measurement portfolio_vectors =
        measure(mf_margin_check_portfolio, &call, n, account_state, (size_t)n * BATCH);
    printf("%-36s %10s %12s\n", "model", "ns/acct-path", "flags/sweep");
    printf("%-36s %10.2f %12lld\n", "cross (reference)", cross.ns_per_account_path,
           (long long)cross.flags);
    printf("%-36s %10.2f %12lld\n", "portfolio (9 points)", portfolio.ns_per_account_path,
           (long long)portfolio.flags);
    printf("%-36s %10.2f %12lld\n", "portfolio, non-neutral vectors",
           portfolio_vectors.ns_per_account_path, (long long)portfolio_vectors.flags);
    printf("portfolio / cross: %.2f\n", portfolio.ns_per_account_path / cross.ns_per_account_path);
    free(ids);
    free(account_state);
    free(position_state);
    mf_store_free(&store);
    return 0;
}
