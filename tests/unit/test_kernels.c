/* Kernel-level unit tests: margin, liquidation engine, cascades, reduction. Each builds tiny
 * flat arrays by hand and checks against numbers computed independently here. */
#include <criterion/criterion.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "book.h"
#include "cascade.h"
#include "liquidation.h"
#include "margin.h"
#include "market.h"
#include "reduce.h"
#include "settlement.h"

static mf_tier_table binance_btc_tiers(void) {
    /* Binance BTCUSDT brackets (Binance leverage-bracket API, docs/model.md section 9), cum derived
     * by hand: 0, 50, 1300, 46300. */
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
    return tiers;
}

Test(margin, tiered_maintenance_is_continuous_and_matches_brackets) {
    mf_tier_table tiers = binance_btc_tiers();
    cr_assert_float_eq(mf_maintenance_margin(&tiers, 0, 10e3), 40.0, 1e-9);
    cr_assert_float_eq(mf_maintenance_margin(&tiers, 0, 100e3), 100e3 * 0.005 - 50, 1e-9);
    cr_assert_float_eq(mf_maintenance_margin(&tiers, 0, 1e6), 1e6 * 0.01 - 1300, 1e-9);
    const double floors[] = {50e3, 250e3, 3e6};
    for (int i = 0; i < 3; i++) {
        const double below = mf_maintenance_margin(&tiers, 0, floors[i] * (1 - 1e-12));
        const double at = mf_maintenance_margin(&tiers, 0, floors[i]);
        cr_assert_float_eq(below, at, 1e-6 * at, "MM jumps at floor %g: %g vs %g", floors[i], below,
                           at);
    }
}

/* venue.margin_scale: plain multiplication below every cap, maintenance capped at its published
 * ratio to initial margin once initial margin reaches 100%, MM continuous, MM below IM. */
Test(margin, scaled_ladder_multiplies_rates_and_keeps_maintenance_below_initial) {
    mf_tier_table tiers = binance_btc_tiers();
    const double caps[] = {125, 100, 50, 20};
    for (int i = 0; i < 4; i++)
        tiers.max_leverage[0][i] = caps[i];
    mf_tier_table doubled = tiers;
    mf_tier_ladder_scale(&doubled, 0, 2.0);
    for (int i = 0; i < 4; i++) {
        cr_assert_float_eq(doubled.mmr[0][i], 2 * tiers.mmr[0][i], 1e-15);
        cr_assert_float_eq(doubled.cum_usd[0][i], 2 * tiers.cum_usd[0][i], 1e-9);
        cr_assert_float_eq(doubled.max_leverage[0][i], caps[i] / 2, 1e-12);
    }
    /* s = 60: brackets with cap 50 and 20 reach 100% initial margin; their maintenance rates
     * become mmr x cap (0.5 and 0.5), the first two mmr x 60 (0.24, 0.30). */
    mf_tier_table strict = tiers;
    mf_tier_ladder_scale(&strict, 0, 60.0);
    const double expected_mmr[] = {0.24, 0.30, 0.50, 0.50};
    const double expected_cap[] = {125.0 / 60, 100.0 / 60, 1, 1};
    for (int i = 0; i < 4; i++) {
        cr_assert_float_eq(strict.mmr[0][i], expected_mmr[i], 1e-12, "bracket %d", i);
        cr_assert_float_eq(strict.max_leverage[0][i], expected_cap[i], 1e-12, "bracket %d", i);
        cr_assert(strict.mmr[0][i] < 1.0 / strict.max_leverage[0][i], "MM below IM, bracket %d", i);
    }
    const double floors[] = {50e3, 250e3, 3e6};
    for (int i = 0; i < 3; i++) {
        const double below = mf_maintenance_margin(&strict, 0, floors[i] * (1 - 1e-12));
        const double at = mf_maintenance_margin(&strict, 0, floors[i]);
        cr_assert_float_eq(below, at, 1e-6 * at, "scaled MM jumps at floor %g", floors[i]);
    }
}

/* Two accounts: isolated long (one position) and cross (long BTC + short BTC hedge is not
 * allowed per asset, so long on asset 0 and short on asset 1). */
typedef struct {
    uint8_t mode[2];
    double collateral[2];
    int64_t first[2];
    int32_t count[2];
    int64_t account[3];
    uint8_t asset[3];
    double quantity[3], entry[3], margin[3];
    mf_book_view view;
} small_book;

static void make_small_book(small_book *book) {
    memset(book, 0, sizeof *book);
    book->mode[0] = MF_MODE_ISOLATED;
    book->mode[1] = MF_MODE_CROSS;
    book->collateral[1] = 2000;
    book->first[0] = 0;
    book->count[0] = 1;
    book->first[1] = 1;
    book->count[1] = 2;
    /* Isolated: 1 coin long at 100 with margin 10 (10x). */
    book->account[0] = 0, book->asset[0] = 0, book->quantity[0] = 1, book->entry[0] = 100,
    book->margin[0] = 10;
    /* Cross: 10 coins long asset 0 at 100, 10 coins short asset 1 at 100, collateral 2000. */
    book->account[1] = 1, book->asset[1] = 0, book->quantity[1] = 10, book->entry[1] = 100;
    book->account[2] = 1, book->asset[2] = 1, book->quantity[2] = -10, book->entry[2] = 100;
    book->view = (mf_book_view){2,
                                3,
                                2,
                                book->mode,
                                book->collateral,
                                book->first,
                                book->count,
                                book->account,
                                book->asset,
                                book->quantity,
                                book->entry,
                                book->margin,
                                NULL};
}

static mf_tier_table flat_tiers(double mmr) {
    mf_tier_table tiers;
    memset(&tiers, 0, sizeof tiers);
    for (int k = 0; k < 2; k++) {
        tiers.n_tiers[k] = 1;
        tiers.mmr[k][0] = mmr;
    }
    return tiers;
}

/* The reference models over the small book: account 0 isolated, account 1 cross. */
static int64_t check_small(const small_book *book, const mf_tier_table *tiers, int batch,
                           const double *marks, const double *funding, const double *scale,
                           const uint8_t *active, uint8_t *account_state, uint8_t *position_state) {
    static const int64_t isolated[1] = {0}, cross[1] = {1};
    mf_margin_call call = {0};
    call.book = &book->view;
    call.tiers = tiers;
    call.begin = 0;
    call.end = 1;
    call.batch = batch;
    call.marks = marks;
    call.vectors = (mf_market_vectors){funding, scale, 0};
    call.active = active;
    call.account_state = account_state;
    call.position_state = position_state;
    call.accounts = isolated;
    int64_t flagged = mf_margin_check_isolated(&call);
    call.accounts = cross;
    return flagged + mf_margin_check_cross(&call);
}

static const double no_funding[8] = {0, 0, 0, 0, 0, 0, 0, 0};
static const double unit_scale[8] = {1, 1, 1, 1, 1, 1, 1, 1};

static int64_t mf_margin_check(const mf_book_view *view, const mf_tier_table *tiers, int begin,
                               int end, int batch, const double *marks, const uint8_t *active,
                               uint8_t *account_state, uint8_t *position_state) {
    const small_book *book = (const small_book *)((const char *)view - offsetof(small_book, view));
    cr_assert(begin == 0 && end == 2);
    return check_small(book, tiers, batch, marks, no_funding, unit_scale, active, account_state,
                       position_state);
}

Test(margin, market_vectors_move_the_liquidation_prices) {
    small_book book;
    make_small_book(&book);
    mf_tier_table tiers = flat_tiers(0.01);
    const int batch = 4;
    /* Isolated: m + q (P - e) - q F <= s 0.01 P at P = 95 (equity 5, MM 0.95). */
    double marks[8] = {95, 95, 95, 95, 100, 100, 100, 100};
    const double funding[8] = {0, 4.0, 4.1, 0, 0, 0, 0, 0};
    const double scale[8] = {1, 1, 1, 5.3, 1, 1, 1, 1};
    uint8_t active[4] = {1, 1, 1, 1};
    uint8_t account_state[8] = {0}, position_state[12] = {0};
    check_small(&book, &tiers, batch, marks, funding, scale, active, account_state, position_state);
    /* Path 0: 5 > 0.95. Path 1: 5 - 4 = 1 > 0.95. Path 2: 0.9 <= 0.95. Path 3: 5 <= 5.035. */
    cr_assert_eq(position_state[0], MF_POSITION_OPEN);
    cr_assert_eq(position_state[1], MF_POSITION_OPEN);
    cr_assert_eq(position_state[2], MF_POSITION_NEW);
    cr_assert_eq(position_state[3], MF_POSITION_NEW);
    /* Neutral vectors flag exactly what no vectors would (the driver's default). */
    uint8_t a2[8] = {0}, p2[12] = {0};
    cr_assert_eq(check_small(&book, &tiers, batch, marks, no_funding, unit_scale, active, a2, p2),
                 0);
}

Test(margin, flags_exactly_the_positions_and_accounts_under_maintenance) {
    small_book book;
    make_small_book(&book);
    mf_tier_table tiers = flat_tiers(0.01);
    /* Isolated liquidation price: 10 + (P - 100) = 0.01 P -> P = 90 / 0.99 = 90.909...
     * Cross: 2000 + 10 (P0 - 100) - 10 (P1 - 100) <= 0.01 * 10 (P0 + P1). */
    const int batch = 4;
    /* marks[k * batch + b] */
    double marks[8] = {95, 90.9, 90.0, 100, /* asset 0 */ 100, 100, 100, 300};
    uint8_t active[4] = {1, 1, 1, 1};
    uint8_t account_state[2 * 4] = {0};
    uint8_t position_state[3 * 4] = {0};
    int64_t flagged = mf_margin_check(&book.view, &tiers, 0, 2, batch, marks, active, account_state,
                                      position_state);
    /* Path 0 (P=95): isolated equity 5 > 0.95: safe. Path 1 (90.9): equity 0.9 <= 0.909:
     * flagged. Path 2 (90): flagged. Path 3 (P0 100, P1 300): cross equity 2000 - 2000 = 0 <=
     * 40: flagged; isolated safe. */
    cr_assert_eq(position_state[0 * batch + 0], MF_POSITION_OPEN);
    cr_assert_eq(position_state[0 * batch + 1], MF_POSITION_NEW);
    cr_assert_eq(position_state[0 * batch + 2], MF_POSITION_NEW);
    cr_assert_eq(position_state[0 * batch + 3], MF_POSITION_OPEN);
    for (int b = 0; b < 3; b++)
        cr_assert_eq(account_state[1 * batch + b], 0);
    cr_assert_eq(account_state[1 * batch + 3], MF_ACCOUNT_LIQUIDATING | MF_ACCOUNT_NEW);
    cr_assert_eq(flagged, 3);
    /* A second sweep flags nothing new: flagged entities are not OPEN any more. */
    account_state[1 * batch + 3] &= (uint8_t)~MF_ACCOUNT_NEW;
    position_state[1] = position_state[2] = MF_POSITION_QUEUED;
    cr_assert_eq(mf_margin_check(&book.view, &tiers, 0, 2, batch, marks, active, account_state,
                                 position_state),
                 0);
    /* Inactive paths are skipped. */
    uint8_t fresh_accounts[8] = {0}, fresh_positions[12] = {0};
    uint8_t none[4] = {0, 0, 0, 0};
    cr_assert_eq(mf_margin_check(&book.view, &tiers, 0, 2, batch, marks, none, fresh_accounts,
                                 fresh_positions),
                 0);
}

static mf_venue_params linear_market(double depth, double phi) {
    mf_venue_params market;
    memset(&market, 0, sizeof market);
    market.impact_law = MF_IMPACT_LINEAR;
    market.permanent_fraction = phi;
    market.transient_decay = 0.5;
    market.depth_usd[0] = market.depth_usd[1] = depth;
    market.feedback_floor = 1;
    return market;
}

/* One venue's asset on one path: the index it reads and its book. */
typedef struct {
    mf_index_state index;
    mf_venue_book_state book;
    double mark; /* the book's mark after the last call */
} asset_fixture;

static void asset_init(const mf_venue_params *market, int k, double log_index,
                       asset_fixture *asset) {
    mf_index_state_init(log_index, &asset->index);
    mf_venue_book_init(market, k, &asset->index, &asset->book);
    asset->mark = asset->book.mark;
}

/* One cascade round as the driver runs it: select, impact, fill, settle. */
static mf_round_outcome engine_round(const mf_settlement_policy *policy,
                                     const mf_venue_params *market, const mf_book_view *book,
                                     asset_fixture *assets, double *budget, mf_engine_state *engine,
                                     mf_settlement_state *money) {
    double pre[2], post[2];
    mf_asset_execution plan[2];
    for (int k = 0; k < 2; k++)
        pre[k] = assets[k].book.mark;
    mf_engine_select(engine, 2, pre, budget, plan);
    for (int k = 0; k < 2; k++) {
        post[k] = plan[k].last < 0 ? assets[k].book.mark
                                   : mf_venue_impact(market, &assets[k].index, &assets[k].book,
                                                     plan[k].net_sold * plan[k].pre_mark);
        assets[k].mark = assets[k].book.mark;
    }
    const mf_round_outcome outcome = mf_engine_fill(book, 2, plan, post, NULL, engine, NULL);
    for (int32_t i = 0; i < engine->n_closed; i++) {
        mf_liquidation_record *record = &engine->records[engine->closed[i]];
        mf_settle(policy, record->base_equity + record->realized_pnl, record->closed_notional,
                  money);
        record->settled = 1;
    }
    engine->n_closed = 0;
    return outcome;
}

Test(liquidation, throughput_cap_splits_fifo_and_fills_at_mid) {
    small_book book;
    make_small_book(&book);
    mf_venue_params market = linear_market(1e4, 1.0);
    mf_settlement_policy params = {0.0, 0, MF_DEFICIT_UNCOVERED};
    asset_fixture assets[2];
    mf_settlement_state money;
    int32_t closed[8];
    asset_init(&market, 0, log(90.0), &assets[0]);
    asset_init(&market, 1, log(100.0), &assets[1]);
    mf_order orders[8];
    mf_liquidation_record records[8];
    mf_engine_state engine;
    memset(&engine, 0, sizeof engine);
    engine.orders = orders;
    engine.records = records;
    engine.closed = closed;
    mf_engine_reset(&engine);
    params.initial_fund = 1000;
    mf_settlement_reset(&params, &money);
    /* Isolated position (1 coin) first, then the cross account's 10 coins of asset 0. */
    int32_t r0 = mf_engine_open_record(&engine, 0, 10);
    mf_engine_enqueue(&engine, 0, 0, 1.0, r0);
    int32_t r1 = mf_engine_open_record(&engine, 1, 2000);
    mf_engine_enqueue(&engine, 0, 1, 10.0, r1);
    mf_engine_enqueue(&engine, 1, 2, -10.0, r1);
    double budget[2] = {1500, INFINITY};
    mf_round_outcome outcome =
        engine_round(&params, &market, &book.view, assets, budget, &engine, &money);
    /* Asset 0: at the pre-impact mark 90 the two orders cost 90 + 900 = 990 <= 1500: both
     * execute whole, netted into one sale of 11 coins. */
    const double pre0 = 90.0;
    const double post0 = 90.0 * exp(-0.01 * (11.0 * 90.0) / 1e4);
    const double fill0 = 0.5 * (pre0 + post0);
    cr_assert_float_eq(assets[0].mark, post0, 1e-12);
    /* Asset 1: buying 10 coins back: net sold -10 -> price up. */
    const double post1 = 100.0 * exp(0.01 * (10.0 * 100.0) / 1e4);
    const double fill1 = 0.5 * (100.0 + post1);
    cr_assert_float_eq(assets[1].mark, post1, 1e-12);
    cr_assert_eq(outcome.executed_orders, 3);
    cr_assert_float_eq(outcome.executed_notional, 11 * fill0 + 10 * fill1, 1e-9);
    /* By side: the 11 coins sold closed longs, the 10 bought back closed a short. */
    cr_assert_float_eq(outcome.executed_long_notional, 11 * fill0, 1e-9);
    cr_assert_float_eq(budget[0], 1500 - 990, 1e-9);
    /* Isolated record: 10 + 1 (fill0 - 100) < 0: bad debt paid by the fund. */
    const double isolated_remaining = 10 + (fill0 - 100);
    cr_assert(isolated_remaining < 0);
    /* Cross record: 2000 + 10 (fill0 - 100) - 10 (fill1 - 100) > 0: kept (fee 0). */
    const double cross_remaining = 2000 + 10 * (fill0 - 100) - 10 * (fill1 - 100);
    cr_assert_float_eq(money.bad_debt, -isolated_remaining, 1e-9);
    cr_assert_float_eq(money.fund, 1000 + isolated_remaining, 1e-9);
    cr_assert_float_eq(money.trader_kept, cross_remaining, 1e-9);
    cr_assert_eq(engine.head[0], -1);
    cr_assert_eq(engine.head[1], -1);
    cr_assert(records[0].settled && records[1].settled);
}

Test(liquidation, partial_fill_at_budget_edge_and_backlog_next_step) {
    small_book book;
    make_small_book(&book);
    mf_venue_params market = linear_market(INFINITY, 0.5);
    mf_settlement_policy params = {0.01, 0, MF_DEFICIT_UNCOVERED};
    asset_fixture assets[2];
    mf_settlement_state money;
    int32_t closed[8];
    asset_init(&market, 0, log(100.0), &assets[0]);
    asset_init(&market, 1, log(100.0), &assets[1]);
    mf_order orders[8];
    mf_liquidation_record records[8];
    mf_engine_state engine;
    memset(&engine, 0, sizeof engine);
    engine.orders = orders;
    engine.records = records;
    engine.closed = closed;
    mf_engine_reset(&engine);
    params.initial_fund = 0;
    mf_settlement_reset(&params, &money);
    int32_t r1 = mf_engine_open_record(&engine, 1, 2000);
    mf_engine_enqueue(&engine, 0, 1, 10.0, r1);
    double budget[2] = {450, 450};
    engine_round(&params, &market, &book.view, assets, budget, &engine, &money);
    /* 4.5 of 10 coins executed at 100 (infinite depth: no impact). */
    cr_assert_float_eq(orders[0].remaining, 5.5, 1e-12);
    cr_assert_eq(records[0].settled, 0);
    /* The backlog: 5.5 coins still queued, valued at the mark given. */
    const double marks[2] = {100.0, 100.0};
    cr_assert_float_eq(mf_engine_backlog_usd(&engine, 2, marks), 550.0, 1e-9);
    cr_assert_float_eq(budget[0], 0, 0);
    /* Same step, next round: no budget, nothing executes. */
    mf_round_outcome idle =
        engine_round(&params, &market, &book.view, assets, budget, &engine, &money);
    cr_assert_eq(idle.executed_orders, 0);
    /* Next step: new budget finishes the order; the account settles with a 1% fee. */
    budget[0] = 1000;
    engine_round(&params, &market, &book.view, assets, budget, &engine, &money);
    cr_assert_eq(records[0].settled, 1);
    cr_assert_float_eq(money.fees, 0.01 * 1000, 1e-9);
    cr_assert_float_eq(money.trader_kept, 2000 - 10, 1e-9);
}

/* Two engines fed the same liquidations, one compacted between steps: the compacted pools hold
 * only the unsettled records and unexecuted orders, in order, with the FIFOs relinked; the backlog
 * and every later round and settlement are the same bits as without compaction. */
Test(liquidation, compaction_drops_settled_records_and_changes_nothing_else) {
    small_book book;
    make_small_book(&book);
    mf_venue_params market = linear_market(INFINITY, 0.5);
    mf_settlement_policy params = {0.01, 0, MF_DEFICIT_UNCOVERED};
    params.initial_fund = 100;
    mf_order orders[2][8];
    mf_liquidation_record records[2][8];
    int32_t closed[2][8];
    mf_engine_state engines[2];
    mf_settlement_state money[2];
    asset_fixture assets[2][2];
    for (int e = 0; e < 2; e++) {
        memset(&engines[e], 0, sizeof engines[e]);
        engines[e].orders = orders[e];
        engines[e].records = records[e];
        engines[e].closed = closed[e];
        mf_engine_reset(&engines[e]);
        mf_settlement_reset(&params, &money[e]);
        asset_init(&market, 0, log(100.0), &assets[e][0]);
        asset_init(&market, 1, log(100.0), &assets[e][1]);
        /* r0: the isolated coin; r1: the cross account (asset 0 and 1); r2: the coin again. */
        const int32_t r0 = mf_engine_open_record(&engines[e], 0, 10);
        mf_engine_enqueue(&engines[e], 0, 0, 1.0, r0);
        const int32_t r1 = mf_engine_open_record(&engines[e], 1, 2000);
        mf_engine_enqueue(&engines[e], 0, 1, 10.0, r1);
        mf_engine_enqueue(&engines[e], 1, 2, -10.0, r1);
        const int32_t r2 = mf_engine_open_record(&engines[e], 0, 20);
        mf_engine_enqueue(&engines[e], 0, 0, 2.0, r2);
        /* Asset 0 executes r0's coin and 4 of r1's 10; asset 1 nothing: r0 settles. */
        double budget[2] = {500, 0};
        engine_round(&params, &market, &book.view, assets[e], budget, &engines[e], &money[e]);
    }
    cr_assert(records[0][0].settled && !records[0][1].settled && !records[0][2].settled);
    const double marks[2] = {100.0, 100.0};
    const double backlog = mf_engine_backlog_usd(&engines[0], 2, marks);
    engines[0].compact_at = 0; /* now, whatever the pool's size */
    mf_engine_compact(&engines[0], &book.view);
    cr_assert_eq(engines[0].n_records, 2);
    cr_assert_eq(records[0][0].account, 1); /* r1 */
    cr_assert_eq(records[0][1].account, 0); /* r2 */
    cr_assert_float_eq(records[0][1].base_equity, 20, 0);
    cr_assert_eq(engines[0].n_orders, 3);
    /* FIFO 0: r1's remaining 6 coins, then r2's 2; FIFO 1: r1's short. */
    const mf_order *head0 = &orders[0][engines[0].head[0]];
    cr_assert_eq(head0->position, 1);
    cr_assert_float_eq(head0->remaining, 6.0, 1e-12);
    cr_assert_eq(head0->record, 0);
    cr_assert_eq(orders[0][head0->next].position, 0);
    cr_assert_eq(orders[0][head0->next].record, 1);
    cr_assert_eq(orders[0][head0->next].next, -1);
    cr_assert_eq(engines[0].tail[0], head0->next);
    cr_assert_eq(orders[0][engines[0].head[1]].position, 2);
    cr_assert_eq(orders[0][engines[0].head[1]].record, 0);
    cr_assert_eq(mf_engine_backlog_usd(&engines[0], 2, marks), backlog);
    /* The next step: both engines finish and settle every liquidation identically. */
    for (int e = 0; e < 2; e++) {
        double budget[2] = {INFINITY, INFINITY};
        engine_round(&params, &market, &book.view, assets[e], budget, &engines[e], &money[e]);
    }
    cr_assert(!memcmp(&money[0], &money[1], sizeof money[0]));
    cr_assert_eq(engines[0].realized_trading_pnl, engines[1].realized_trading_pnl);
    cr_assert_eq(assets[0][0].mark, assets[1][0].mark);
    cr_assert_eq(assets[0][1].mark, assets[1][1].mark);
    cr_assert(money[0].trader_kept > 0);
}

Test(liquidation, fund_shortfall_becomes_uncovered_deficit) {
    small_book book;
    make_small_book(&book);
    mf_venue_params market = linear_market(INFINITY, 1.0);
    mf_settlement_policy params = {0.0, 0, MF_DEFICIT_UNCOVERED};
    asset_fixture assets[2];
    mf_settlement_state money;
    int32_t closed[8];
    asset_init(&market, 0, log(50.0), &assets[0]); /* isolated long deep underwater */
    asset_init(&market, 1, log(100.0), &assets[1]);
    mf_order orders[4];
    mf_liquidation_record records[4];
    mf_engine_state engine;
    memset(&engine, 0, sizeof engine);
    engine.orders = orders;
    engine.records = records;
    engine.closed = closed;
    mf_engine_reset(&engine);
    params.initial_fund = 15;
    mf_settlement_reset(&params, &money);
    int32_t r0 = mf_engine_open_record(&engine, 0, 10);
    mf_engine_enqueue(&engine, 0, 0, 1.0, r0);
    double budget[2] = {INFINITY, INFINITY};
    engine_round(&params, &market, &book.view, assets, budget, &engine, &money);
    /* Remaining equity 10 + (50 - 100) = -40: fund pays 15, 25 uncovered. */
    cr_assert_float_eq(money.bad_debt, 40, 1e-12);
    cr_assert_float_eq(money.fund, 0, 0);
    cr_assert_float_eq(money.fund_min, 0, 0);
    cr_assert_float_eq(money.uncovered_deficit, 25, 1e-12);
}

Test(settlement, waterfall_fee_fund_bad_debt_deficit) {
    const mf_settlement_policy policy = {0.01, 100, MF_DEFICIT_UNCOVERED};
    mf_settlement_state money;
    mf_settlement_reset(&policy, &money);
    /* R = 50 >= 0 on 1,000 closed: fee 10 to the fund, 40 back to the trader. */
    mf_settle(&policy, 50, 1000, &money);
    cr_assert_eq(money.fund, 110);
    cr_assert_eq(money.fees, 10);
    cr_assert_eq(money.trader_kept, 40);
    /* R = 5 < fee 10: the fee is capped at R, the trader keeps nothing. */
    mf_settle(&policy, 5, 1000, &money);
    cr_assert_eq(money.fund, 115);
    cr_assert_eq(money.trader_kept, 40);
    /* R = -40: bad debt 40, paid by the fund. */
    mf_settle(&policy, -40, 1000, &money);
    cr_assert_eq(money.bad_debt, 40);
    cr_assert_eq(money.fund, 75);
    cr_assert_eq(money.uncovered_deficit, 0);
    /* R = -100: the fund pays its 75, 25 stay uncovered; the fund's minimum is 0. */
    mf_settle(&policy, -100, 1000, &money);
    cr_assert_eq(money.bad_debt, 140);
    cr_assert_eq(money.fund, 0);
    cr_assert_eq(money.fund_min, 0);
    cr_assert_eq(money.uncovered_deficit, 25);
}

Test(market, impact_linear_and_sqrt_with_transient_decay_and_depth_feedback) {
    mf_venue_params market = linear_market(20e6, 0.25);
    asset_fixture state;
    asset_init(&market, 0, log(100.0), &state);
    /* Selling 20M into 20M of depth moves the price 1% (log units). */
    mf_venue_impact(&market, &state.index, &state.book, 20e6);
    cr_assert_float_eq(log(state.book.mark) - log(100.0), -0.01, 1e-12);
    cr_assert_float_eq(state.book.impact_perm, -0.0025, 1e-15);
    cr_assert_float_eq(state.book.impact_trans, -0.0075, 1e-15);
    /* Next step, unchanged index: the transient part halves (decay 0.5 here). */
    mf_index_advance(log(100.0), &state.index);
    mf_venue_price(&market, 0, &state.index, &state.book);
    cr_assert_float_eq(log(state.book.mark) - log(100.0), -0.0025 - 0.00375, 1e-12);
    /* Square-root law: 4x the depth moves 2% . */
    mf_venue_params sqrt_market = linear_market(20e6, 1.0);
    sqrt_market.impact_law = MF_IMPACT_SQRT;
    {
        asset_fixture s2;
        asset_init(&sqrt_market, 0, log(100.0), &s2);
        mf_venue_impact(&sqrt_market, &s2.index, &s2.book, 80e6);
        cr_assert_float_eq(log(s2.book.mark) - log(100.0), -0.02, 1e-12);
    }
    /* Depth feedback: after a 10% drawdown of the mark, depth = D exp(-beta 0.1). */
    mf_venue_params feedback = linear_market(20e6, 1.0);
    feedback.feedback_beta = 3.0;
    feedback.feedback_floor = 0.2;
    asset_fixture s3;
    asset_init(&feedback, 0, log(100.0), &s3);
    mf_index_advance(log(90.0), &s3.index);
    mf_venue_price(&feedback, 0, &s3.index, &s3.book);
    cr_assert_float_eq(s3.book.depth, 20e6 * exp(-0.3), 1e-6);
    mf_index_advance(log(10.0), &s3.index);
    mf_venue_price(&feedback, 0, &s3.index, &s3.book);
    cr_assert_float_eq(s3.book.depth, 20e6 * 0.2, 1e-6);
    cr_assert_float_eq(s3.index.max_index_drawdown, 0.9, 1e-12);
    /* Infinite depth: the mark is the index, bit for bit. */
    mf_venue_params deep = linear_market(INFINITY, 0.5);
    asset_fixture s4;
    asset_init(&deep, 0, log(123.0), &s4);
    mf_venue_impact(&deep, &s4.index, &s4.book, 1e12);
    mf_index_advance(4.5, &s4.index);
    mf_venue_price(&deep, 0, &s4.index, &s4.book);
    cr_assert(s4.book.mark == exp(4.5));
}

Test(cascade, runs_with_gaps_and_amplification) {
    /* Liquidations at steps 2, 3, 6 (gap 2 <= 2: same cascade), 11 (gap 4: new cascade). */
    double notional[14] = {0, 0, 5, 7, 0, 0, 1, 0, 0, 0, 0, 4, 0, 0};
    double accounts[14] = {0, 0, 1, 2, 0, 0, 1, 0, 0, 0, 0, 3, 0, 0};
    double mark[15], index[15];
    for (int t = 0; t < 15; t++) {
        index[t] = -0.001 * t;
        mark[t] = -0.002 * t;
    }
    mf_cascade out[14];
    int32_t n = mf_find_cascades(14, notional, accounts, mark, index, 0.0, 2, out, 14);
    cr_assert_eq(n, 2);
    cr_assert_eq(out[0].start, 2);
    cr_assert_eq(out[0].end, 6);
    cr_assert_float_eq(out[0].notional, 13, 0);
    cr_assert_float_eq(out[0].accounts, 4, 0);
    /* Over entries 2..7: mark falls 0.010, index 0.005. */
    cr_assert_float_eq(out[0].amplification, (0.010 + 1e-4) / (0.005 + 1e-4), 1e-12);
    cr_assert_eq(out[1].start, 11);
    cr_assert_eq(out[1].end, 11);
    /* Threshold above 4: only the 5 and 7 steps count. */
    n = mf_find_cascades(14, notional, accounts, mark, index, 4.5, 2, out, 14);
    cr_assert_eq(n, 1);
    cr_assert_eq(out[0].end, 3);
    cr_assert_float_eq(out[0].notional, 12, 0);
    /* Gap 0: steps 2-3 one cascade, 6 another, 11 another. */
    cr_assert_eq(mf_find_cascades(14, notional, accounts, mark, index, 0.0, 0, out, 14), 3);
}

Test(reduce, merged_moments_equal_two_pass_statistics) {
    double x[1000];
    for (int i = 0; i < 1000; i++)
        x[i] = exp(sin(i * 0.37) * 3) * 1e6;
    mf_moments total;
    mf_moments_init(&total);
    for (int block = 0; block < 10; block++) {
        mf_moments part;
        mf_moments_init(&part);
        for (int i = block * 100; i < block * 100 + 100 - block; i++)
            mf_moments_add(&part, x[i]);
        mf_moments_merge(&total, &part);
    }
    double sum = 0, sq = 0, lo = INFINITY, hi = -INFINITY;
    int64_t n = 0;
    for (int block = 0; block < 10; block++)
        for (int i = block * 100; i < block * 100 + 100 - block; i++) {
            sum += x[i];
            n++;
            if (x[i] < lo) lo = x[i];
            if (x[i] > hi) hi = x[i];
        }
    const double mean = sum / (double)n;
    for (int block = 0; block < 10; block++)
        for (int i = block * 100; i < block * 100 + 100 - block; i++)
            sq += (x[i] - mean) * (x[i] - mean);
    cr_assert_eq(total.count, n);
    cr_assert_float_eq(total.mean, mean, 1e-12 * mean);
    cr_assert_float_eq(total.m2, sq, 1e-10 * sq);
    cr_assert_eq(total.min, lo);
    cr_assert_eq(total.max, hi);
}

Test(reduce, quantiles_expected_shortfall_and_bins) {
    double sorted[100];
    for (int i = 0; i < 100; i++)
        sorted[i] = i + 1; /* 1..100 */
    cr_assert_eq(mf_sorted_quantile(sorted, 100, 0.5), 50);
    cr_assert_eq(mf_sorted_quantile(sorted, 100, 0.9), 90);
    cr_assert_eq(mf_sorted_quantile(sorted, 100, 0.99), 99);
    cr_assert_eq(mf_sorted_quantile(sorted, 100, 0.999), 100);
    cr_assert_eq(mf_sorted_expected_shortfall(sorted, 100, 0.99), 100); /* top 1 */
    cr_assert_eq(mf_sorted_expected_shortfall(sorted, 100, 0.9), 95.5); /* top 10 */
    cr_assert(isnan(mf_sorted_quantile(sorted, 0, 0.5)));
    double edges[64];
    const int n = mf_log_bins(1e3, 1e6, 10, edges);
    cr_assert_eq(n, 30);
    cr_assert_float_eq(edges[10], 1e4, 1e-6);
    cr_assert_float_eq(edges[30], 1e6, 1e-4);
    cr_assert_eq(mf_bin_index(edges, n, 0.0), -1);
    cr_assert_eq(mf_bin_index(edges, n, 999.0), -1);
    cr_assert_eq(mf_bin_index(edges, n, 1e3), 0);
    cr_assert_eq(mf_bin_index(edges, n, 1.5e4), 11);
    cr_assert_eq(mf_bin_index(edges, n, 2e6), 30);
    double values[5] = {3, 1, 2, 5, 4};
    mf_sort_doubles(values, 5);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(values[i], i + 1);
}

Test(market, extreme_flow_keeps_the_mark_positive_finite_and_within_the_bound) {
    const mf_impact_law laws[] = {MF_IMPACT_LINEAR, MF_IMPACT_SQRT};
    const double phis[] = {0.0, 0.5, 1.0};
    const double flows[] = {1e300, -1e300, INFINITY, -INFINITY, 1e30, -1e30};
    for (int l = 0; l < 2; l++)
        for (int p = 0; p < 3; p++)
            for (int f = 0; f < 6; f++) {
                /* A near-zero depth and an enormous (even infinite) flow, many rounds. */
                mf_venue_params market = linear_market(1e-300, phis[p]);
                market.impact_law = laws[l];
                asset_fixture state;
                asset_init(&market, 0, log(100.0), &state);
                for (int round = 0; round < 1000; round++) {
                    const double mark =
                        mf_venue_impact(&market, &state.index, &state.book, flows[f]);
                    cr_assert(isfinite(mark) && mark > 0, "law %d phi %g flow %g round %d: %g", l,
                              phis[p], flows[f], round, mark);
                    const double j = state.book.impact_perm + state.book.impact_trans;
                    cr_assert(fabs(j) <= MF_IMPACT_MAX_LOG * (1 + 1e-15), "J = %g", j);
                }
                /* The bound is reached: a factor 1e6 from the index, no more. */
                const double ratio = state.book.mark / 100.0;
                if (flows[f] > 0)
                    cr_assert_float_eq(ratio, 1e-6, 1e-12);
                else
                    cr_assert_float_eq(ratio, 1e6, 1e-3);
                /* Reverse flow from the bound moves the mark back, still finite. */
                mf_venue_impact(&market, &state.index, &state.book, -flows[f]);
                cr_assert(isfinite(state.book.mark) && state.book.mark > 0);
                mf_index_advance(log(100.0), &state.index);
                mf_venue_price(&market, 0, &state.index, &state.book);
                cr_assert(isfinite(state.book.mark) && state.book.mark > 0);
                cr_assert(isfinite(state.book.max_mark_drawdown));
            }
    /* Inside the bound nothing changes: 20M into 20M of depth is exactly -0.01. */
    mf_venue_params market = linear_market(20e6, 0.25);
    asset_fixture state;
    asset_init(&market, 0, log(100.0), &state);
    mf_venue_impact(&market, &state.index, &state.book, 20e6);
    cr_assert(state.book.impact_perm == 0.25 * -0.01);
    cr_assert(state.book.impact_trans == (1.0 - 0.25) * -0.01);
}
