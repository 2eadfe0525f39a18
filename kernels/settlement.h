/* Settlement of closed liquidations (docs/model.md, the settlement phase): the waterfall of one
 * venue on one path. A record whose orders are all executed settles its remaining equity
 * R = base equity + realised PnL: if R >= 0, the liquidation fee (capped at R) goes to the
 * insurance fund and the rest back to the trader; if R < 0, the loss is bad debt, paid by the
 * fund as far as it goes, and the rest is an uncovered deficit. Later policies (auto-deleverage,
 * socialised loss) take the uncovered part; today it stays uncovered. */
#ifndef MF_SETTLEMENT_H
#define MF_SETTLEMENT_H

#include <stdint.h>

typedef enum { MF_DEFICIT_UNCOVERED = 0 } mf_deficit_policy;

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
} mf_settlement_state;

void mf_settlement_reset(const mf_settlement_policy *policy, mf_settlement_state *state);
/* Settle one closed liquidation: remaining equity `remaining`, closed notional (for the fee). */
void mf_settle(const mf_settlement_policy *policy, double remaining, double closed_notional,
               mf_settlement_state *state);

#endif
