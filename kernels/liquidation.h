/* The liquidation engine of one venue on one path (docs/model.md, the cascade rounds): FIFO
 * queues per asset with a throughput cap per step. A round is three phases, each its own call
 * so that the driver can put price impact in the venue-price phase and settlement in its own
 * kernel (settlement.h): select what executes at the pre-impact marks (mf_engine_select), move
 * the venue's marks by the net flow (mf_venue_impact, market.h), fill every executed piece at the
 * mid of the pre- and post-impact marks (mf_engine_fill), which lists the records whose orders
 * are all done, in the order they closed, for settlement. The driver owns every buffer and
 * guarantees capacity. */
#ifndef MF_LIQUIDATION_H
#define MF_LIQUIDATION_H

#include <stdint.h>

#include "book.h"

typedef struct {
    int64_t position; /* store index of the position */
    double remaining; /* signed coins still to close */
    int32_t record;   /* the liquidation this order belongs to */
    int32_t next;     /* next order in the same asset's FIFO, -1 at the tail */
} mf_order;

/* One liquidation event: isolated positions, or a whole account. */
typedef struct {
    int64_t account;
    int64_t position;       /* partial chunk of an isolated position: that position; else -1 */
    double base_equity;     /* per-position flag: the position's margin m; whole account: C */
    double realized_pnl;    /* sum of executed quantity x (fill - entry) */
    double closed_notional; /* sum of |executed quantity| x fill */
    double closed_quantity[MF_MAX_ASSETS]; /* signed coins executed per asset (for ADL) */
    double closed_value[MF_MAX_ASSETS];    /* signed executed quantity x fill per asset */
    int32_t open_orders;                   /* orders not yet fully executed */
    int32_t settled;                       /* 1 once its equity went to the trader / fund */
    int32_t partial; /* 1: a partial-liquidation chunk: fills go to the live book (below) */
    /* An isolated position of an inverse market holds its margin in coin: collateral_coins of
     * them, counted at their start value collateral_start_usd in base_equity; settlement values
     * them at the record's last fill price (last_fill). 0 for linear markets. */
    double collateral_coins, collateral_start_usd, last_fill;
} mf_liquidation_record;

/* Where the fills of partial-liquidation chunks go: the position stays open, so each executed
 * piece of q coins at fill f reduces its live quantity by q and adds q (f - e) minus the fee
 * rate x |q| f to its live cash; the fee goes to the insurance fund (fees_out). */
typedef struct {
    double *live_quantity; /* p * stride + slot */
    double *live_cash;
    int stride, slot;
    double fee_rate;
    double fees_out; /* accumulated fees of partial fills (the driver moves them to the fund) */
} mf_partial_sink;

typedef struct {
    mf_order *orders; /* order pool (capacity by the driver) */
    int32_t n_orders;
    int32_t head[MF_MAX_ASSETS]; /* FIFO heads, -1 when empty */
    int32_t tail[MF_MAX_ASSETS];
    mf_liquidation_record *records; /* record pool (capacity by the driver) */
    int32_t n_records;
    int32_t *closed; /* records whose orders all executed, awaiting settlement (same capacity) */
    int32_t n_closed;
    double realized_trading_pnl; /* sum over fills of quantity x (fill - entry) */
    double realized_funding;     /* sum over fills of -quantity x funding index (received) */
    int32_t compact_at;          /* mf_engine_compact works once n_records reaches this */
} mf_engine_state;

typedef struct {
    double throughput_usd[MF_MAX_ASSETS]; /* per step; INFINITY = no cap */
} mf_engine_params;

/* What one round executes on one asset: the FIFO from its head through `last` (the last piece
 * possibly partial, last_quantity coins), netted into one flow of net_sold coins. */
typedef struct {
    int32_t last; /* -1: nothing executes on this asset */
    double last_quantity;
    double net_sold;
    double pre_mark;
} mf_asset_execution;

typedef struct {
    double executed_notional;                /* USD at fill prices */
    double executed_long_notional;           /* the part that closed long positions (sold), USD */
    double executed_by_asset[MF_MAX_ASSETS]; /* USD at fill prices, per asset */
    int32_t executed_orders;                 /* order pieces executed */
} mf_round_outcome;

void mf_engine_reset(mf_engine_state *engine);
/* Open a liquidation record; returns its index (capacity guaranteed by the driver). */
int32_t mf_engine_open_record(mf_engine_state *engine, int64_t account, double base_equity);
/* A record with no order (every position already closed) is closed at once: append it to the
 * closed list so that it settles with the round's others. */
void mf_engine_close_empty(mf_engine_state *engine, int32_t record);
/* Append an order for `position` to its asset's FIFO. */
void mf_engine_enqueue(mf_engine_state *engine, int asset, int64_t position, double quantity,
                       int32_t record);
/* Select phase: for each asset, take orders from the FIFO head while the step budget lasts at
 * the pre-impact mark marks[k] (the order at the edge is split); spends budget_usd. */
void mf_engine_select(const mf_engine_state *engine, int n_assets, const double *marks,
                      double *budget_usd, mf_asset_execution *plan);
/* Fill phase: every selected piece of asset k fills at (plan[k].pre_mark + post_mark[k]) / 2;
 * records whose orders are all done are appended to engine->closed. Pieces of partial records
 * go to `partial` (NULL when partial liquidation is off: no record is partial then). With
 * funding (funding_index: the path's K cumulative indices, NULL without funding) a piece of q
 * coins also realises the funding it owes, -q F, into its record (or its live cash). */
mf_round_outcome mf_engine_fill(const mf_book_view *book, int n_assets,
                                const mf_asset_execution *plan, const double *post_mark,
                                const double *funding_index, mf_engine_state *engine,
                                mf_partial_sink *partial);

/* Between rounds (nothing awaiting settlement): once the record pool has doubled since the last
 * time, drop the settled records and the executed orders, keeping the rest in their order, so
 * that the pools hold the liquidations still in play rather than every one of the path (about
 * 280 bytes each). Sums over the pools and the FIFOs see the same items in the same order. */
void mf_engine_compact(mf_engine_state *engine, const mf_book_view *book);

/* The backlog: USD notional still queued in the FIFOs, valued at marks[k]. O(queued orders). */
double mf_engine_backlog_usd(const mf_engine_state *engine, int n_assets, const double *marks);

#endif
