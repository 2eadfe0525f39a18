#include "liquidation.h"

#include <math.h>

void mf_engine_reset(mf_engine_state *engine, double fund) {
    engine->n_orders = 0;
    engine->n_records = 0;
    for (int k = 0; k < MF_KERNEL_MAX_ASSETS; k++) {
        engine->head[k] = -1;
        engine->tail[k] = -1;
    }
    engine->fund = fund;
    engine->fund_min = fund;
    engine->uncovered_deficit = 0;
    engine->bad_debt = 0;
    engine->fees = 0;
    engine->trader_kept = 0;
    engine->realized_trading_pnl = 0;
}

int32_t mf_engine_open_record(mf_engine_state *engine, int64_t account, double base_equity) {
    mf_liquidation_record *record = &engine->records[engine->n_records];
    record->account = account;
    record->base_equity = base_equity;
    record->realized_pnl = 0;
    record->closed_notional = 0;
    record->open_orders = 0;
    record->settled = 0;
    return engine->n_records++;
}

void mf_engine_enqueue(mf_engine_state *engine, int asset, int64_t position, double quantity,
                       int32_t record) {
    const int32_t index = engine->n_orders++;
    mf_order *order = &engine->orders[index];
    order->position = position;
    order->remaining = quantity;
    order->record = record;
    order->next = -1;
    if (engine->tail[asset] >= 0)
        engine->orders[engine->tail[asset]].next = index;
    else
        engine->head[asset] = index;
    engine->tail[asset] = index;
    engine->records[record].open_orders++;
}

/* Remaining equity goes to the fund (fee) and the trader; negative equity is bad debt paid
 * by the fund, and what the fund cannot pay is an uncovered deficit. */
static void settle(const mf_engine_params *params, mf_engine_state *engine,
                   mf_liquidation_record *record) {
    const double remaining = record->base_equity + record->realized_pnl;
    if (remaining >= 0) {
        double fee = params->liquidation_fee * record->closed_notional;
        if (fee > remaining) fee = remaining;
        engine->fund += fee;
        engine->fees += fee;
        engine->trader_kept += remaining - fee;
    } else {
        const double loss = -remaining;
        const double paid = loss < engine->fund ? loss : engine->fund;
        engine->bad_debt += loss;
        engine->fund -= paid;
        engine->uncovered_deficit += loss - paid;
        if (engine->fund < engine->fund_min) engine->fund_min = engine->fund;
    }
    record->settled = 1;
}

mf_round_outcome mf_engine_round(const mf_engine_params *params, const mf_market_params *market,
                                 const mf_book_view *book, mf_asset_state *assets,
                                 double *budget_usd, mf_engine_state *engine) {
    mf_round_outcome outcome = {0, 0};
    for (int k = 0; k < book->n_assets; k++) {
        if (engine->head[k] < 0 || budget_usd[k] <= 0) continue;
        const double pre_mark = assets[k].mark;
        /* Pass 1: decide what executes this round (FIFO, split at the budget's edge). The
         * executed pieces are the orders from the head up to `last`, the last possibly partial. */
        double net_sold = 0;
        int32_t cursor = engine->head[k];
        int32_t last = -1;
        double last_quantity = 0;
        while (cursor >= 0 && budget_usd[k] > 0) {
            const mf_order *order = &engine->orders[cursor];
            const double size = fabs(order->remaining);
            const double notional = size * pre_mark;
            double quantity = order->remaining;
            if (notional > budget_usd[k]) {
                quantity = copysign(budget_usd[k] / pre_mark, order->remaining);
                budget_usd[k] = 0;
            } else {
                budget_usd[k] -= notional;
            }
            net_sold += quantity;
            last = cursor;
            last_quantity = quantity;
            cursor = order->next;
        }
        if (last < 0) continue;
        /* One impact for the round's net flow, then every piece fills at the mid of the
         * pre- and post-impact marks. */
        const double post_mark = mf_asset_impact(market, &assets[k], net_sold * pre_mark);
        const double fill = 0.5 * (pre_mark + post_mark);
        /* Pass 2: apply the fills from the head through `last`. */
        cursor = engine->head[k];
        for (;;) {
            mf_order *order = &engine->orders[cursor];
            const int is_last = cursor == last;
            const double quantity = is_last ? last_quantity : order->remaining;
            const double entry = book->position_entry[order->position];
            mf_liquidation_record *record = &engine->records[order->record];
            const double pnl = quantity * (fill - entry);
            record->realized_pnl += pnl;
            record->closed_notional += fabs(quantity) * fill;
            engine->realized_trading_pnl += pnl;
            outcome.executed_notional += fabs(quantity) * fill;
            outcome.executed_orders++;
            const int done = !is_last || quantity == order->remaining;
            const int32_t next = order->next;
            if (done) {
                order->remaining = 0;
                engine->head[k] = next;
                if (next < 0) engine->tail[k] = -1;
                if (--record->open_orders == 0) settle(params, engine, record);
            } else {
                order->remaining -= quantity;
            }
            if (is_last) break;
            cursor = next;
        }
    }
    return outcome;
}
