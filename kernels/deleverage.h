/* What happens to a loss the insurance fund cannot pay (docs/model.md, "Settlement
 * waterfall"): auto-deleveraging closes the highest-ranked opposite positions at the bankrupt
 * position's bankruptcy price; socialised loss charges profitable accounts pro rata. Both work
 * on one path of a batch through the live book (kernels/margin.h), and neither allocates: the
 * driver passes scratch arrays of n_positions entries. */
#ifndef MF_DELEVERAGE_H
#define MF_DELEVERAGE_H

#include <stdint.h>

#include "book.h"

/* One path (slot) of the batch: its marks and funding index (K values each), its live book and
 * state bytes (entity-major, stride batch). */
typedef struct {
    const mf_book_view *book;
    int batch, slot;
    const double *marks;         /* K */
    const double *funding_index; /* K, USD per coin paid by a long since t = 0 */
    double *live_quantity;       /* n_positions x batch */
    double *live_cash;           /* n_positions x batch */
    uint8_t *account_state;      /* n_accounts x batch */
    uint8_t *position_state;     /* n_positions x batch */
    int64_t *scratch_index;      /* n_positions */
    double *scratch_key;         /* n_positions */
} mf_path_book;

/* Unrealised PnL of position p on the path, funding included: q (P - e) - q F. */
double mf_position_open_pnl(const mf_path_book *path, int64_t p);
/* Equity of an account on the path: an isolated position's m + cash + open PnL, or a cross
 * account's C + sum (cash + open PnL) (position -1: the whole account). */
double mf_path_equity(const mf_path_book *path, int64_t account, int64_t position);
/* Whether position p is open and not being liquidated on the path (ADL candidates, socialised
 * loss payers). */
int mf_position_is_live(const mf_path_book *path, int64_t p);

/* The BitMEX auto-deleveraging rank of position p: PnL% x effective leverage when PnL% > 0,
 * PnL% / effective leverage otherwise; PnL% = (P - e) / e signed by the side, effective
 * leverage = |q| P / equity (the position's for isolated, the account's for cross; a huge
 * leverage when the equity is not positive). */
double mf_adl_rank_key(const mf_path_book *path, int64_t p);

typedef struct {
    double covered;       /* USD of the shortfall covered */
    double notional;      /* USD closed, at the bankruptcy price */
    int64_t accounts_hit; /* accounts deleveraged for the first time on this path */
    double reference_pnl; /* counterparts' PnL at the reference price, and inverse margins
                             realised at the mark (the trading ledger) */
    double funding;       /* funding the closed coins realised, -q F */
} mf_adl_outcome;

/* Cover `shortfall` USD of a bankrupt liquidation that closed `bankrupt_quantity` coins of
 * `asset` (signed: > 0 a long was sold) at the mean fill price `reference_price`, with
 * bankruptcy price `bankruptcy_price`: opposite positions of the asset are closed in rank order
 * (ties: lower position index first) at the bankruptcy price, each coin covering
 * |bankruptcy - reference|, until the shortfall is covered or no opposite position is left.
 * A counterpart keeps q (bankruptcy - e) - q F in its cash; a fully closed isolated position is
 * CLOSED. */
mf_adl_outcome mf_adl_cover(const mf_path_book *path, int asset, double bankrupt_quantity,
                            double reference_price, double bankruptcy_price, double shortfall);

/* Charge `loss` USD to the path's profitable payers pro rata to their unrealised PnL (funding
 * included): isolated positions one by one, cross accounts as a whole (charged to their first
 * position's cash). No payer is charged more than its profit; returns the USD charged. */
double mf_socialise_loss(const mf_path_book *path, double loss);

/* Partial liquidation's size (docs/model.md, "Partial liquidation"): the fraction of a position
 * (or of every position of a cross account) to close so that equity E, after a fee of
 * fee_rate x the closed notional, again covers the target requirement T scaled by what stays
 * open: E - fee_rate f N >= (1 - f) T, rounded up to whole chunks of `chunk` (at least one);
 * 1 when nothing short of a full close restores it. */
double mf_partial_fraction(double equity, double target, double notional, double fee_rate,
                           double chunk);

#endif
