/* The liquidation engine of one venue on one path (MODEL.md section 3, items 3b-3d):
 * FIFO queues per asset with a throughput cap per step, impact netted once per round,
 * fills at the mean of the pre- and post-impact marks, settlement into the insurance fund,
 * bad debt and uncovered deficit. The driver owns every buffer and guarantees capacity. */
#ifndef MF_LIQUIDATION_H
#define MF_LIQUIDATION_H

#include <stdint.h>

#include "book.h"
#include "market.h"

typedef struct {
    int64_t position; /* store index of the position */
    double remaining; /* signed coins still to close */
    int32_t record;   /* the liquidation this order belongs to */
    int32_t next;     /* next order in the same asset's FIFO, -1 at the tail */
} mf_order;

/* One liquidation event: an isolated position, or a whole cross account. */
typedef struct {
    int64_t account;
    double base_equity;     /* isolated: the position's margin m; cross: collateral C */
    double realized_pnl;    /* sum of executed quantity x (fill - entry) */
    double closed_notional; /* sum of |executed quantity| x fill */
    int32_t open_orders;    /* orders not yet fully executed */
    int32_t settled;        /* 1 once its equity went to the trader / fund */
} mf_liquidation_record;

typedef struct {
    mf_order *orders; /* order pool (capacity by the driver) */
    int32_t n_orders;
    int32_t head[MF_KERNEL_MAX_ASSETS]; /* FIFO heads, -1 when empty */
    int32_t tail[MF_KERNEL_MAX_ASSETS];
    mf_liquidation_record *records;
    int32_t n_records;
    /* Money, USD. */
    double fund; /* insurance fund */
    double fund_min;
    double uncovered_deficit;    /* bad debt the fund could not pay */
    double bad_debt;             /* all negative remaining equity at settlement */
    double fees;                 /* liquidation fees taken by the fund */
    double trader_kept;          /* equity returned to liquidated traders */
    double realized_trading_pnl; /* sum over fills of quantity x (fill - entry) */
} mf_engine_state;

typedef struct {
    double liquidation_fee;                      /* fraction of closed notional */
    double throughput_usd[MF_KERNEL_MAX_ASSETS]; /* per step; INFINITY = no cap */
} mf_engine_params;

typedef struct {
    double executed_notional; /* USD at fill prices */
    int32_t executed_orders;  /* order pieces executed */
} mf_round_outcome;

void mf_engine_reset(mf_engine_state *engine, double fund);
/* Open a liquidation record; returns its index (capacity guaranteed by the driver). */
int32_t mf_engine_open_record(mf_engine_state *engine, int64_t account, double base_equity);
/* Append an order for `position` to its asset's FIFO. */
void mf_engine_enqueue(mf_engine_state *engine, int asset, int64_t position, double quantity,
                       int32_t record);
/* Execute one round: for each asset, take orders from the FIFO head while the step budget
 * lasts (the order at the edge is split), net them into one impact, fill every executed
 * piece at (pre + post) / 2 and settle the records whose orders are all done. */
mf_round_outcome mf_engine_round(const mf_engine_params *params, const mf_market_params *market,
                                 const mf_book_view *book, mf_asset_state *assets,
                                 double *budget_usd, mf_engine_state *engine);

#endif
