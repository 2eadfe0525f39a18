/* Settlement of closed liquidations (docs/model.md, the settlement phase): the waterfall of one
 * venue on one path. A record whose orders are all executed settles its remaining equity
 * R = base equity + realised PnL: if R >= 0, the liquidation fee (capped at R) goes to the
 * insurance fund and the rest back to the trader; if R < 0, the loss is bad debt, paid by the
 * fund as far as it goes. What the fund cannot pay (the shortfall) stays an uncovered deficit,
 * or, by policy, goes to auto-deleveraging or socialised loss (kernels/deleverage.h, run by the
 * driver with the shortfall mf_settle returns); what they cannot cover stays uncovered. */
#ifndef MF_SETTLEMENT_H
#define MF_SETTLEMENT_H

#include <stdint.h>

typedef enum {
    MF_DEFICIT_UNCOVERED = 0, /* the shortfall stays an uncovered deficit */
    MF_DEFICIT_ADL = 1,       /* auto-deleveraging of the opposite side */
    MF_DEFICIT_SOCIALISED = 2 /* charged pro rata to profitable accounts */
} mf_deficit_policy;

typedef struct {
    double liquidation_fee;    /* fraction of closed notional, taken from R >= 0 */
    double initial_fund;       /* insurance fund at t = 0, USD */
    mf_deficit_policy deficit; /* what happens to the loss the fund cannot pay */
} mf_settlement_policy;

/* The money of one venue on one path, USD. */
typedef struct {
    double fund;              /* insurance fund */
    double fund_min;          /* its running minimum */
    double uncovered_deficit; /* bad debt the fund could not pay */
    double bad_debt;          /* all negative remaining equity at settlement */
    double fees;              /* liquidation fees taken by the fund */
    double trader_kept;       /* equity returned to liquidated traders */
    double adl_notional;      /* USD of opposite positions closed by ADL (bankruptcy prices) */
    double adl_accounts;      /* accounts hit by ADL at least once */
    double socialised_loss;   /* USD charged to profitable accounts */
} mf_settlement_state;

void mf_settlement_reset(const mf_settlement_policy *policy, mf_settlement_state *state);
/* Settle one closed liquidation: remaining equity `remaining`, closed notional (for the fee).
 * Returns the shortfall the fund could not pay: with MF_DEFICIT_UNCOVERED it is already added
 * to the uncovered deficit; with the other policies the caller covers what it can and adds the
 * rest (mf_settle_uncovered). */
double mf_settle(const mf_settlement_policy *policy, double remaining, double closed_notional,
                 mf_settlement_state *state);
void mf_settle_uncovered(double amount, mf_settlement_state *state);

#endif
