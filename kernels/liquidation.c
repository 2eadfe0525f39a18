#include "liquidation.h"

#include <math.h>

void mf_engine_reset(mf_engine_state *engine) {
    engine->n_orders = 0;
    engine->n_records = 0;
    engine->n_closed = 0;
    for (int k = 0; k < MF_MAX_ASSETS; k++) {
        engine->head[k] = -1;
        engine->tail[k] = -1;
    }
    engine->realized_trading_pnl = 0;
    engine->realized_funding = 0;
    engine->compact_at = 1024;
}

void mf_engine_compact(mf_engine_state *engine, const mf_book_view *book) {
    if (engine->n_closed != 0 || engine->n_records < engine->compact_at) return;
    /* A settled record has no open order, and the closed list is empty: use it as the map. */
    int32_t *new_index = engine->closed;
    int32_t records = 0;
    for (int32_t r = 0; r < engine->n_records; r++) {
        if (engine->records[r].settled) {
            new_index[r] = -1;
            continue;
        }
        new_index[r] = records;
        if (records != r) engine->records[records] = engine->records[r];
        records++;
    }
    engine->n_records = records;
    /* Each FIFO holds its asset's unexecuted orders in pool order (orders are appended at the
     * tail and leave from the head), so relinking the kept orders in pool order rebuilds it. */
    for (int k = 0; k < MF_MAX_ASSETS; k++)
        engine->head[k] = engine->tail[k] = -1;
    int32_t orders = 0;
    for (int32_t o = 0; o < engine->n_orders; o++) {
        if (engine->orders[o].remaining == 0) continue;
        mf_order order = engine->orders[o];
        order.record = new_index[order.record];
        order.next = -1;
        engine->orders[orders] = order;
        const int asset = book->position_asset[order.position];
        if (engine->tail[asset] >= 0)
            engine->orders[engine->tail[asset]].next = orders;
        else
            engine->head[asset] = orders;
        engine->tail[asset] = orders;
        orders++;
    }
    engine->n_orders = orders;
    engine->compact_at = 2 * records + 1024;
}

int32_t mf_engine_open_record(mf_engine_state *engine, int64_t account, double base_equity) {
    mf_liquidation_record *record = &engine->records[engine->n_records];
    record->account = account;
    record->position = -1;
    record->base_equity = base_equity;
    record->realized_pnl = 0;
    record->closed_notional = 0;
    for (int k = 0; k < MF_MAX_ASSETS; k++) {
        record->closed_quantity[k] = 0;
        record->closed_value[k] = 0;
    }
    record->open_orders = 0;
    record->settled = 0;
    record->partial = 0;
    record->collateral_coins = 0;
    record->collateral_start_usd = 0;
    record->last_fill = 0;
    return engine->n_records++;
}

void mf_engine_close_empty(mf_engine_state *engine, int32_t record) {
    if (engine->records[record].open_orders == 0) engine->closed[engine->n_closed++] = record;
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

void mf_engine_select(const mf_engine_state *engine, int n_assets, const double *marks,
                      double *budget_usd, mf_asset_execution *plan) {
    for (int k = 0; k < n_assets; k++) {
        mf_asset_execution *execution = &plan[k];
        execution->last = -1;
        execution->last_quantity = 0;
        execution->net_sold = 0;
        execution->pre_mark = marks[k];
        if (engine->head[k] < 0 || budget_usd[k] <= 0) continue;
        const double pre_mark = marks[k];
        int32_t cursor = engine->head[k];
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
            execution->net_sold += quantity;
            execution->last = cursor;
            execution->last_quantity = quantity;
            cursor = order->next;
        }
    }
}

mf_round_outcome mf_engine_fill(const mf_book_view *book, int n_assets,
                                const mf_asset_execution *plan, const double *post_mark,
                                const double *funding_index, mf_engine_state *engine,
                                mf_partial_sink *partial) {
    mf_round_outcome outcome = {0};
    for (int k = 0; k < n_assets; k++) {
        const int32_t last = plan[k].last;
        if (last < 0) continue;
        const double fill = 0.5 * (plan[k].pre_mark + post_mark[k]);
        int32_t cursor = engine->head[k];
        for (;;) {
            mf_order *order = &engine->orders[cursor];
            const int is_last = cursor == last;
            const double quantity = is_last ? plan[k].last_quantity : order->remaining;
            const double entry = book->position_entry[order->position];
            mf_liquidation_record *record = &engine->records[order->record];
            const double pnl = quantity * (fill - entry);
            const double funding = funding_index ? -quantity * funding_index[k] : 0.0;
            record->realized_pnl += funding_index ? pnl + funding : pnl;
            engine->realized_funding += funding;
            record->closed_notional += fabs(quantity) * fill;
            record->closed_quantity[k] += quantity;
            record->closed_value[k] += quantity * fill;
            record->last_fill = fill;
            engine->realized_trading_pnl += pnl;
            if (record->partial) {
                const int64_t slot = order->position * partial->stride + partial->slot;
                const double fee = partial->fee_rate * fabs(quantity) * fill;
                partial->live_quantity[slot] -= quantity;
                partial->live_cash[slot] += (funding_index ? pnl + funding : pnl) - fee;
                partial->fees_out += fee;
            }
            outcome.executed_notional += fabs(quantity) * fill;
            outcome.executed_by_asset[k] += fabs(quantity) * fill;
            if (quantity > 0) outcome.executed_long_notional += quantity * fill;
            outcome.executed_orders++;
            const int done = !is_last || quantity == order->remaining;
            const int32_t next = order->next;
            if (done) {
                order->remaining = 0;
                engine->head[k] = next;
                if (next < 0) engine->tail[k] = -1;
                if (--record->open_orders == 0) engine->closed[engine->n_closed++] = order->record;
            } else {
                order->remaining -= quantity;
            }
            if (is_last) break;
            cursor = next;
        }
    }
    return outcome;
}

double mf_engine_backlog_usd(const mf_engine_state *engine, int n_assets, const double *marks) {
    double backlog = 0;
    for (int k = 0; k < n_assets; k++)
        for (int32_t cursor = engine->head[k]; cursor >= 0; cursor = engine->orders[cursor].next)
            backlog += fabs(engine->orders[cursor].remaining) * marks[k];
    return backlog;
}
