/* Who pays a loss the fund cannot (kernels/deleverage.c): the BitMEX ADL ranking and its
 * closing order, socialised loss pro rata, and the partial-liquidation size, on a hand-made
 * book whose answers are computed here from the documented formulas. The book sits in slot 1
 * of a batch of 2, so the stride is exercised; slot 0 holds other values that must not move. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "deleverage.h"
#include "margin.h"

#define BATCH 2
#define SLOT 1
#define N_ACCOUNTS 6
#define N_POSITIONS 7

/* Accounts 0-4 isolated (one position each), account 5 cross with positions 5 (short BTC) and
 * 6 (long ETH). Asset 0 = BTC, 1 = ETH. */
static uint8_t account_mode[N_ACCOUNTS] = {0, 0, 0, 0, 0, 1};
static double account_collateral[N_ACCOUNTS] = {0, 0, 0, 0, 0, 9000};
static int64_t account_first[N_ACCOUNTS] = {0, 1, 2, 3, 4, 5};
static int32_t account_positions[N_ACCOUNTS] = {1, 1, 1, 1, 1, 2};
static int64_t position_account[N_POSITIONS] = {0, 1, 2, 3, 4, 5, 5};
static uint8_t position_asset[N_POSITIONS] = {0, 0, 0, 0, 0, 0, 1};
static double position_quantity[N_POSITIONS] = {1.5, -0.5, -1.0, -2.0, 0.7, -1.2, 10.0};
static double position_entry[N_POSITIONS] = {100000, 110000, 101000, 100500, 90000, 104000, 3000};
static double position_margin[N_POSITIONS] = {3000, 5500, 2020, 4020, 6300, 0, 0};

static double live_quantity[N_POSITIONS * BATCH];
static double live_cash[N_POSITIONS * BATCH];
static uint8_t account_state[N_ACCOUNTS * BATCH];
static uint8_t position_state[N_POSITIONS * BATCH];
static int64_t scratch_index[N_POSITIONS];
static double scratch_key[N_POSITIONS];
static double marks[2] = {97000, 2900};
static double funding[2] = {0, 0};
static mf_book_view book;

static mf_path_book setup(void) {
    book = (mf_book_view){N_ACCOUNTS,
                          N_POSITIONS,
                          2,
                          account_mode,
                          account_collateral,
                          account_first,
                          account_positions,
                          position_account,
                          position_asset,
                          position_quantity,
                          position_entry,
                          position_margin,
                          NULL};
    for (int p = 0; p < N_POSITIONS; p++) {
        live_quantity[p * BATCH + 0] = 99; /* the other slot: must stay */
        live_cash[p * BATCH + 0] = -7;
        live_quantity[p * BATCH + SLOT] = position_quantity[p];
        live_cash[p * BATCH + SLOT] = 0;
    }
    memset(account_state, 0, sizeof account_state);
    memset(position_state, 0, sizeof position_state);
    return (mf_path_book){&book,          BATCH,         SLOT,       marks,
                          funding,        live_quantity, live_cash,  account_state,
                          position_state, scratch_index, scratch_key};
}

/* The BitMEX key, computed independently: PnL% x leverage if PnL% > 0, else PnL% / leverage. */
static double expected_key(double quantity, double entry, double equity, double mark) {
    const double pnl_share = (quantity > 0 ? 1 : -1) * (mark - entry) / entry;
    const double leverage = fabs(quantity) * mark / equity;
    return pnl_share > 0 ? pnl_share * leverage : pnl_share / leverage;
}

static double cross_equity(void) {
    return 9000 + -1.2 * (97000 - 104000) + 10.0 * (2900 - 3000);
}

Test(deleverage, rank_keys_follow_the_bitmex_formula) {
    const mf_path_book path = setup();
    for (int p = 1; p <= 3; p++) {
        const double q = position_quantity[p], e = position_entry[p];
        const double equity = position_margin[p] + q * (97000 - e);
        cr_expect_float_eq(mf_adl_rank_key(&path, p), expected_key(q, e, equity, 97000), 1e-12,
                           "position %d", p);
    }
    cr_expect_float_eq(mf_adl_rank_key(&path, 5), expected_key(-1.2, 104000, cross_equity(), 97000),
                       1e-12, "a cross position ranks with its account's equity");
}

Test(deleverage, adl_closes_the_highest_ranked_at_the_bankruptcy_price) {
    const mf_path_book path = setup();
    /* The candidates' keys, sorted here: short positions 1, 2, 3 and the cross short 5. */
    const int shorts[] = {1, 2, 3, 5};
    double keys[4];
    for (int i = 0; i < 4; i++)
        keys[i] = mf_adl_rank_key(&path, shorts[i]);
    int order[4] = {0, 1, 2, 3};
    for (int i = 0; i < 4; i++)
        for (int j = i + 1; j < 4; j++)
            if (keys[order[j]] > keys[order[i]]) {
                const int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
    /* A long of 2.5 BTC was sold at 97,000 with a loss of 2,500 and no fund: bankruptcy price
     * 98,000, each coin covers 1,000, so 2.5 coins are taken in rank order. */
    const double shortfall = 2500, reference = 97000, bankruptcy = 98000;
    const mf_adl_outcome outcome = mf_adl_cover(&path, 0, 2.5, reference, bankruptcy, shortfall);
    cr_expect_eq(outcome.covered, shortfall, "covered to the cent: %.17g", outcome.covered);
    double need = 2.5, notional = 0, reference_pnl = 0;
    int hit = 0;
    for (int i = 0; i < 4; i++) {
        const int p = shorts[order[i]];
        const double q = position_quantity[p];
        const double take = need < fabs(q) ? need : fabs(q);
        const double closed = copysign(take, q);
        const double left = live_quantity[p * BATCH + SLOT];
        if (take > 0) {
            hit++;
            notional += take * bankruptcy;
            reference_pnl += closed * (reference - position_entry[p]);
            cr_expect_float_eq(left, q - closed, 1e-12, "position %d keeps %g", p, q - closed);
            cr_expect_float_eq(live_cash[p * BATCH + SLOT],
                               closed * (bankruptcy - position_entry[p]), 1e-9,
                               "position %d keeps its value at the bankruptcy price", p);
            cr_expect(account_state[position_account[p] * BATCH + SLOT] & MF_ACCOUNT_DELEVERAGED);
            if (take == fabs(q) && account_mode[position_account[p]] == 0)
                cr_expect_eq(position_state[p * BATCH + SLOT], MF_POSITION_CLOSED);
        } else {
            cr_expect_eq(left, q, "position %d below the cut is untouched", p);
            cr_expect_eq(live_cash[p * BATCH + SLOT], 0);
        }
        need -= take;
    }
    cr_expect_eq(outcome.accounts_hit, hit);
    cr_expect_float_eq(outcome.notional, notional, 1e-9);
    cr_expect_float_eq(outcome.reference_pnl, reference_pnl, 1e-9);
    /* Same-side positions and the other slot never move. */
    cr_expect_eq(live_quantity[0 * BATCH + SLOT], 1.5);
    cr_expect_eq(live_quantity[4 * BATCH + SLOT], 0.7);
    for (int p = 0; p < N_POSITIONS; p++)
        cr_expect(live_quantity[p * BATCH] == 99 && live_cash[p * BATCH] == -7);
}

Test(deleverage, adl_skips_positions_being_liquidated_and_stops_when_none_are_left) {
    const mf_path_book path = setup();
    position_state[2 * BATCH + SLOT] = MF_POSITION_QUEUED;    /* in the engine */
    account_state[5 * BATCH + SLOT] = MF_ACCOUNT_LIQUIDATING; /* whole cross account */
    const mf_adl_outcome outcome = mf_adl_cover(&path, 0, 100.0, 97000, 98000, 100000);
    cr_expect_eq(live_quantity[2 * BATCH + SLOT], -1.0);
    cr_expect_eq(live_quantity[5 * BATCH + SLOT], -1.2);
    /* Only positions 1 and 3 (2.5 coins) are left: they cover 2,500 of 100,000. */
    cr_expect_float_eq(outcome.covered, 2500, 1e-9);
    cr_expect_eq(outcome.accounts_hit, 2);
    cr_expect_eq(live_quantity[1 * BATCH + SLOT], 0);
    cr_expect_eq(live_quantity[3 * BATCH + SLOT], 0);
}

Test(deleverage, socialised_loss_is_pro_rata_to_profit) {
    const mf_path_book path = setup();
    /* Payers at the marks: isolated positions with q (P - e) > 0, the cross account as a whole
     * (-1.2 x -7,000 + 10 x -100 = 7,400 > 0). */
    double profit[N_POSITIONS] = {0};
    double total = 0;
    for (int p = 0; p <= 4; p++) {
        const double pnl = position_quantity[p] * (marks[0] - position_entry[p]);
        profit[p] = pnl > 0 ? pnl : 0;
        total += profit[p];
    }
    profit[5] = -1.2 * (97000 - 104000) + 10.0 * (2900 - 3000);
    total += profit[5];
    const double loss = 1234.56;
    const double charged = mf_socialise_loss(&path, loss);
    cr_expect_eq(charged, loss);
    double sum = 0;
    for (int p = 0; p < N_POSITIONS; p++) {
        const double expected = -loss * profit[p] / total;
        cr_expect_float_eq(live_cash[p * BATCH + SLOT], expected, 1e-9, "payer %d charged %.6f", p,
                           -expected);
        sum -= live_cash[p * BATCH + SLOT];
    }
    cr_expect(fabs(sum - loss) < 0.005, "the charges add up to the loss to the cent: %.9f", sum);
    cr_expect_eq(live_cash[0 * BATCH + SLOT], 0, "a losing position pays nothing");
}

Test(deleverage, socialised_loss_never_takes_more_than_the_profits) {
    const mf_path_book path = setup();
    double total = 0;
    for (int p = 0; p <= 4; p++) {
        const double pnl = position_quantity[p] * (marks[0] - position_entry[p]);
        if (pnl > 0) total += pnl;
    }
    total += -1.2 * (97000 - 104000) + 10.0 * (2900 - 3000);
    const double charged = mf_socialise_loss(&path, 1e9);
    cr_expect_float_eq(charged, total, 1e-9, "every profit, no more: %.6f of %.6f", charged, total);
}

Test(deleverage, partial_fraction_takes_the_fewest_whole_chunks) {
    /* E - fee f N >= (1 - f) T: f >= (T - E) / (T - fee N). */
    cr_expect_float_eq(mf_partial_fraction(800, 958, 95800, 0.0005, 0.2), 0.2, 1e-15);
    cr_expect_float_eq(mf_partial_fraction(550.42, 764, 76400, 0.0005, 0.2), 0.4, 1e-15);
    cr_expect_float_eq(mf_partial_fraction(100, 1000, 100000, 0.0005, 0.25), 1.0, 1e-15,
                       "0.947 needs all four chunks");
    cr_expect_float_eq(mf_partial_fraction(1000, 1000, 100000, 0, 0.2), 0.2, 1e-15,
                       "at the boundary: one chunk");
    cr_expect_eq(mf_partial_fraction(-5, 1000, 100000, 0, 0.2), 1.0, "no equity: close it all");
    cr_expect_eq(mf_partial_fraction(500, 1000, 100000, 0.01, 0.2), 1.0,
                 "a fee above the rate: closing cannot restore it");
}
