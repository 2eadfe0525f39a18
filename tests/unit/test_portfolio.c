/* Portfolio margin (kernels/margin_portfolio.c; docs/model.md, "Portfolio margin"): the
 * requirement against numbers worked out by hand, a hedge that survives a joint move that
 * liquidates it under cross margin, one-sided accounts never better off than under cross, and
 * a batch of paths against single paths and against a scenario-by-scenario evaluation written
 * here. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "book.h"
#include "margin.h"

#define N_ASSETS 2

/* Asset 0 "BTC": Binance BTCUSDT brackets (cum by hand: 0, 50, 1300, 46300); asset 1 "ETH": a
 * flat 1% rate. Portfolio grid: 9 points, ranges 16%, spread ranges 0.2%, floor 0.05%. */
static mf_tier_table test_tiers(void) {
    mf_tier_table tiers;
    memset(&tiers, 0, sizeof tiers);
    const double floors[] = {0, 50e3, 250e3, 3e6};
    const double mmr[] = {0.004, 0.005, 0.01, 0.025};
    const double cum[] = {0, 50, 1300, 46300};
    tiers.n_tiers[0] = 4;
    for (int i = 0; i < 4; i++) {
        tiers.floor_usd[0][i] = floors[i];
        tiers.mmr[0][i] = mmr[i];
        tiers.cum_usd[0][i] = cum[i];
    }
    tiers.n_tiers[1] = 1;
    tiers.mmr[1][0] = 0.01;
    tiers.portfolio.points = 9;
    tiers.portfolio.floor_rate = 0.0005;
    for (int k = 0; k < N_ASSETS; k++) {
        tiers.portfolio.range[k] = 0.16;
        tiers.portfolio.spread_range[k] = 0.002;
    }
    return tiers;
}

/* A book of up to 8 accounts, one position per asset at most. */
typedef struct {
    uint8_t mode[8];
    double collateral[8];
    int64_t first[8];
    int32_t count[8];
    int64_t account[16];
    uint8_t asset[16];
    double quantity[16], entry[16], margin[16];
    int64_t n_accounts, n_positions;
    mf_book_view view;
} book;

static void add_account(book *b, mf_margin_mode mode, double collateral, double btc,
                        double btc_entry, double eth, double eth_entry) {
    const int64_t a = b->n_accounts++;
    b->mode[a] = (uint8_t)mode;
    b->collateral[a] = collateral;
    b->first[a] = b->n_positions;
    const double quantity[2] = {btc, eth}, entry[2] = {btc_entry, eth_entry};
    for (int k = 0; k < 2; k++) {
        if (quantity[k] == 0) continue;
        const int64_t p = b->n_positions++;
        b->account[p] = a;
        b->asset[p] = (uint8_t)k;
        b->quantity[p] = quantity[k];
        b->entry[p] = entry[k];
        b->count[a]++;
    }
    b->view = (mf_book_view){b->n_accounts, b->n_positions, N_ASSETS,   b->mode,  b->collateral,
                             b->first,      b->count,       b->account, b->asset, b->quantity,
                             b->entry,      b->margin,      NULL};
}

/* One model over every account of the book on `batch` paths (all active). */
static int64_t check_all(const book *b, int64_t (*check)(const mf_margin_call *),
                         const mf_tier_table *tiers, int batch, const double *marks,
                         const double *funding, const double *scale, int neutral,
                         uint8_t *account_state) {
    int64_t accounts[8];
    for (int64_t a = 0; a < b->n_accounts; a++)
        accounts[a] = a;
    uint8_t active[MF_KERNEL_MAX_BATCH];
    memset(active, 1, sizeof active);
    uint8_t position_state[16 * MF_KERNEL_MAX_BATCH] = {0};
    mf_margin_call call = {0};
    call.book = &b->view;
    call.tiers = tiers;
    call.accounts = accounts;
    call.begin = 0;
    call.end = b->n_accounts;
    call.batch = batch;
    call.marks = marks;
    call.vectors = (mf_market_vectors){funding, scale, neutral};
    call.active = active;
    call.account_state = account_state;
    call.position_state = position_state;
    return check(&call);
}

static const double no_funding[N_ASSETS * MF_KERNEL_MAX_BATCH];
static double unit_scale[N_ASSETS * MF_KERNEL_MAX_BATCH];

static void set_unit_scale(void) {
    for (int i = 0; i < N_ASSETS * MF_KERNEL_MAX_BATCH; i++)
        unit_scale[i] = 1.0;
}

Test(portfolio, requirement_is_the_hand_computed_worst_scenario_loss) {
    mf_tier_table tiers = test_tiers();
    tiers.portfolio.range[1] = 0.17;
    tiers.portfolio.spread_range[0] = 0.02;
    tiers.portfolio.spread_range[1] = 0.03;
    tiers.portfolio.floor_rate = 0.001;
    const double marks[2] = {100000, 4000};
    const double one[2] = {1, 1};
    /* 2 BTC long ($200k), 50 ETH short ($200k). Common move u: loss = -u (200k x 0.16 - 200k x
     * 0.17) = 2000 u, worst 2000 at u = +1. BTC alone: 200k x 2% = 4000; ETH alone: 200k x 3% =
     * 6000. Floor 0.1% x 400k = 400. Requirement 6000 (the ETH spread scenario). */
    const double hedged[2] = {2, -50};
    cr_assert_float_eq(mf_portfolio_requirement(&tiers, 2, hedged, marks, one), 6000.0, 1e-9);
    /* BTC's maintenance scale 2 doubles its terms: common loss -u (64000 - 34000), worst
     * 30000 at u = -1; BTC alone 8000; ETH alone 6000; floor 0.1% x (400k + 200k) = 600. */
    const double scaled[2] = {2, 1};
    cr_assert_float_eq(mf_portfolio_requirement(&tiers, 2, hedged, marks, scaled), 30000.0, 1e-9);
    /* 3 BTC long ($300k), 10 ETH long ($40k): u = -1 loses 300k x 0.16 + 40k x 0.17 = 54800. */
    const double one_sided[2] = {3, 10};
    cr_assert_float_eq(mf_portfolio_requirement(&tiers, 2, one_sided, marks, one), 54800.0, 1e-9);
    /* Only spreads and floor left when the common exposure cancels: 1 BTC long, 25 ETH short
     * with equal ranges: 100k x 0.16 = 100k x 0.16; spreads 2000 and 3000; floor 200. */
    tiers.portfolio.range[1] = 0.16;
    const double exact_hedge[2] = {1, -25};
    cr_assert_float_eq(mf_portfolio_requirement(&tiers, 2, exact_hedge, marks, one), 3000.0, 1e-9);
    /* No spread ranges: the floor, 0.1% x 200k = 200. */
    tiers.portfolio.spread_range[0] = tiers.portfolio.spread_range[1] = 0;
    cr_assert_float_eq(mf_portfolio_requirement(&tiers, 2, exact_hedge, marks, one), 200.0, 1e-9);
    /* A range below the tier's maintenance rate is raised to it: BTC range 0.5% for a $4M
     * position (tier rate 2.5%): u = -1 loses 4M x 2.5% = 100000 (not 4M x 0.5% = 20000). */
    tiers.portfolio.range[0] = 0.005;
    const double big_btc[2] = {40, 0};
    cr_assert_float_eq(mf_portfolio_requirement(&tiers, 2, big_btc, marks, one), 100000.0, 1e-6);
}

/* Long 10 BTC at 100k, short 250 ETH at 4k ($1M each), collateral 20000. At the start cross
 * needs MM = 1M x 1% - 1300 + 1M x 1% = 18700 < 20000; after a joint +20% (BTC 120k, ETH 4800)
 * the equity is still 20000 (the legs cancel) but cross needs 1.2M x 1% - 1300 + 12000 = 22700:
 * flagged. Portfolio needs max(spread 1.2M x 0.2% = 2400, floor 0.05% x 2.4M = 1200) = 2400:
 * it survives. A joint -20% (BTC 80k, ETH 3200) leaves both unflagged. */
Test(portfolio, a_hedge_survives_a_joint_move_that_liquidates_it_under_cross) {
    set_unit_scale();
    const mf_tier_table tiers = test_tiers();
    book cross = {0}, portfolio = {0};
    add_account(&cross, MF_MODE_CROSS, 20000, 10, 100000, -250, 4000);
    add_account(&portfolio, MF_MODE_PORTFOLIO, 20000, 10, 100000, -250, 4000);
    /* Paths: start, +20%, -20%. marks[k * batch + b]. */
    const double marks[2 * 3] = {100000, 120000, 80000, 4000, 4800, 3200};
    uint8_t cross_state[3] = {0}, portfolio_state[3] = {0};
    cr_assert_eq(check_all(&cross, mf_margin_check_cross, &tiers, 3, marks, no_funding, unit_scale,
                           1, cross_state),
                 1);
    cr_assert_eq(cross_state[0], 0, "cross: the hedge meets maintenance at the start");
    cr_assert_eq(cross_state[1], MF_ACCOUNT_LIQUIDATING | MF_ACCOUNT_NEW,
                 "cross: the joint +20%% move liquidates the hedge");
    cr_assert_eq(cross_state[2], 0);
    cr_assert_eq(check_all(&portfolio, mf_margin_check_portfolio, &tiers, 3, marks, no_funding,
                           unit_scale, 1, portfolio_state),
                 0, "portfolio: the hedge survives every path");
    const double net[2] = {10, -250}, up[2] = {120000, 4800}, one[2] = {1, 1};
    cr_assert_float_eq(mf_portfolio_requirement(&tiers, 2, net, up, one), 2400.0, 1e-9);
    /* Its requirement is much less than cross's: 2400 vs 22700. */
}

/* Cross requirement of one account at one path (sum of per-position MM, scaled). */
static double cross_requirement(const mf_tier_table *tiers, const double *quantity,
                                const double *marks, const double *scale) {
    double total = 0;
    for (int k = 0; k < 2; k++)
        if (quantity[k] != 0)
            total += mf_maintenance_margin(tiers, k, fabs(quantity[k]) * marks[k]) * scale[k];
    return total;
}

static uint64_t lcg_state = 0x9e3779b97f4a7c15ull;
static double uniform(void) {
    lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(lcg_state >> 11) * 0x1.0p-53;
}

/* An account whose positions all point one way needs at least its cross requirement, for
 * sizes across every BTC bracket, ranges below some brackets' rates, any scales; so along a
 * falling path a one-sided portfolio account is flagged no later than the same positions
 * under cross margin. */
Test(portfolio, one_sided_accounts_need_at_least_cross_and_are_flagged_no_later) {
    set_unit_scale();
    mf_tier_table tiers = test_tiers();
    tiers.portfolio.range[0] = 0.02; /* below BTC's 2.5% bracket: the tier rate takes over */
    tiers.portfolio.range[1] = 0.005;
    tiers.portfolio.floor_rate = 0;
    tiers.portfolio.spread_range[0] = tiers.portfolio.spread_range[1] = 0;
    for (int trial = 0; trial < 20000; trial++) {
        const double side = trial % 2 ? 1.0 : -1.0;
        const double quantity[2] = {side * 100 * uniform() * uniform(),
                                    trial % 3 ? side * 2000 * uniform() : 0};
        const double marks[2] = {20000 + 180000 * uniform(), 1000 + 5000 * uniform()};
        const double scale[2] = {0.5 + 3 * uniform(), 0.5 + 3 * uniform()};
        const double portfolio = mf_portfolio_requirement(&tiers, 2, quantity, marks, scale);
        const double cross = cross_requirement(&tiers, quantity, marks, scale);
        cr_assert(portfolio >= cross,
                  "trial %d: q (%g, %g) at (%g, %g): portfolio %.17g < cross %.17g", trial,
                  quantity[0], quantity[1], marks[0], marks[1], portfolio, cross);
    }

    /* Falling path (both prices times 1 - 0.005 s at step s = 1 - d), the grid of test_tiers:
     * long 1 BTC at 100k and 20 ETH at 4k ($180k), collateral 40000. Portfolio: equity
     * 40000 - 180000 d against the u = -1 loss 0.16 x 180000 (1 - d): flagged once
     * d >= 11200 / 151200 = 0.0741, step 15. Cross: against 0.005 x 100000 (1 - d) - 50 +
     * 0.01 x 80000 (1 - d) = 1250 - 1300 d: flagged once d >= 38750 / 178700 = 0.2168, step 44. */
    const mf_tier_table grid = test_tiers();
    book cross = {0}, portfolio = {0};
    add_account(&cross, MF_MODE_CROSS, 40000, 1, 100000, 20, 4000);
    add_account(&portfolio, MF_MODE_PORTFOLIO, 40000, 1, 100000, 20, 4000);
    int cross_step = -1, portfolio_step = -1;
    for (int step = 0; step < 200 && cross_step < 0; step++) {
        const double fall = 1.0 - 0.005 * step;
        const double marks[2] = {100000 * fall, 4000 * fall};
        uint8_t cross_state = 0, portfolio_state = 0;
        check_all(&cross, mf_margin_check_cross, &grid, 1, marks, no_funding, unit_scale, 1,
                  &cross_state);
        check_all(&portfolio, mf_margin_check_portfolio, &grid, 1, marks, no_funding, unit_scale, 1,
                  &portfolio_state);
        if (cross_state && cross_step < 0) cross_step = step;
        if (portfolio_state && portfolio_step < 0) portfolio_step = step;
    }
    cr_assert_eq(portfolio_step, 15);
    cr_assert_eq(cross_step, 44);
    cr_assert_leq(portfolio_step, cross_step);
}

/* Scenario-by-scenario evaluation, written without the kernel's shortcuts: the moves of every
 * scenario as a vector, the loss as the sum over assets. */
static double reference_requirement(const mf_tier_table *tiers, const double *net,
                                    const double *marks, const double *scale) {
    const mf_portfolio_grid *grid = &tiers->portfolio;
    double moves[128][2];
    int n = 0;
    double range[2];
    for (int k = 0; k < 2; k++) {
        const double notional = fabs(net[k]) * marks[k];
        int tier = 0;
        while (tier + 1 < tiers->n_tiers[k] && notional >= tiers->floor_usd[k][tier + 1])
            tier++;
        range[k] = fmax(grid->range[k], tiers->mmr[k][tier]);
    }
    for (int j = 0; j < grid->points; j++) {
        const double u = -1.0 + 2.0 * j / (grid->points - 1);
        moves[n][0] = u * range[0];
        moves[n][1] = u * range[1];
        n++;
    }
    for (int k = 0; k < 2; k++)
        for (int sign = -1; sign <= 1; sign += 2) {
            moves[n][k] = sign * grid->spread_range[k];
            moves[n][1 - k] = 0;
            n++;
        }
    double worst = 0;
    for (int s = 0; s < n; s++) {
        double loss = 0;
        for (int k = 0; k < 2; k++)
            loss -= net[k] * marks[k] * moves[s][k] * scale[k];
        worst = fmax(worst, loss);
    }
    return fmax(worst, grid->floor_rate * (fabs(net[0]) * marks[0] * scale[0] +
                                           fabs(net[1]) * marks[1] * scale[1]));
}

/* Eight paths with their own marks, funding indices and maintenance scales: the batch call flags
 * what eight single-path calls flag, and what the reference evaluation above flags (accounts
 * within 1e-9 of their requirement are left out of that comparison). */
Test(portfolio, a_batch_of_paths_flags_what_single_paths_and_the_reference_flag) {
    mf_tier_table tiers = test_tiers();
    tiers.portfolio.range[1] = 0.2;
    tiers.portfolio.spread_range[1] = 0.01;
    book b = {0};
    add_account(&b, MF_MODE_PORTFOLIO, 20000, 10, 100000, -250, 4000);  /* hedge */
    add_account(&b, MF_MODE_PORTFOLIO, 30000, 1, 101000, 20, 3900);     /* long both */
    add_account(&b, MF_MODE_PORTFOLIO, 9000, -0.5, 99000, 0, 0);        /* short BTC */
    add_account(&b, MF_MODE_PORTFOLIO, 4000, 2, 100000, -40, 4100);     /* partial hedge */
    add_account(&b, MF_MODE_PORTFOLIO, 500000, 40, 100000, -500, 4000); /* big, tiered */
    enum { BATCH = 8 };
    double marks[2 * BATCH], funding[2 * BATCH], scale[2 * BATCH];
    for (int p = 0; p < BATCH; p++) {
        const double common = 0.7 + 0.08 * p, spread = 0.03 * (p % 3 - 1);
        marks[p] = 100000 * common * (1 + spread);
        marks[BATCH + p] = 4000 * common;
        funding[p] = 40.0 * (p - 3);
        funding[BATCH + p] = -2.0 * (p - 4);
        scale[p] = 1 + 0.25 * (p % 4);
        scale[BATCH + p] = 1 + 0.5 * (p % 2);
    }
    for (int neutral = 1; neutral >= 0; neutral--) {
        const double *f = neutral ? no_funding : funding;
        set_unit_scale();
        const double *s = neutral ? unit_scale : scale;
        uint8_t batch_state[5 * BATCH] = {0};
        const int64_t flagged = check_all(&b, mf_margin_check_portfolio, &tiers, BATCH, marks, f, s,
                                          neutral, batch_state);
        int64_t expected_flags = 0, compared = 0;
        for (int p = 0; p < BATCH; p++) {
            const double path_marks[2] = {marks[p], marks[BATCH + p]};
            const double path_funding[2] = {f[p], f[BATCH + p]};
            const double path_scale[2] = {s[p], s[BATCH + p]};
            uint8_t single_state[5] = {0};
            check_all(&b, mf_margin_check_portfolio, &tiers, 1, path_marks, path_funding,
                      path_scale, neutral, single_state);
            for (int64_t a = 0; a < b.n_accounts; a++) {
                cr_assert_eq(batch_state[a * BATCH + p], single_state[a],
                             "neutral %d account %lld path %d: batch and single path differ",
                             neutral, (long long)a, p);
                expected_flags += single_state[a] != 0;
                double net[2] = {0, 0}, equity = b.collateral[a];
                for (int64_t q = b.first[a]; q < b.first[a] + b.count[a]; q++) {
                    const int k = b.asset[q];
                    net[k] += b.quantity[q];
                    equity += b.quantity[q] * (path_marks[k] - b.entry[q] - path_funding[k]);
                }
                const double need = reference_requirement(&tiers, net, path_marks, path_scale);
                if (fabs(equity - need) <= 1e-9 * fmax(1.0, need)) continue;
                compared++;
                cr_assert_eq(single_state[a] != 0, equity <= need,
                             "neutral %d account %lld path %d: equity %g requirement %g", neutral,
                             (long long)a, p, equity, need);
            }
        }
        cr_assert_eq(flagged, expected_flags);
        cr_assert_gt(expected_flags, 0, "some accounts are flagged");
        cr_assert_lt(expected_flags, 5 * BATCH, "some accounts survive");
        cr_assert_geq(compared, 5 * BATCH - 2);
        /* Flags already set are not set again. */
        cr_assert_eq(check_all(&b, mf_margin_check_portfolio, &tiers, BATCH, marks, f, s, neutral,
                               batch_state),
                     0);
    }
}
