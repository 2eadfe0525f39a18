#include "settlement.h"

void mf_settlement_reset(const mf_settlement_policy *policy, mf_settlement_state *state) {
    state->fund = policy->initial_fund;
    state->fund_min = policy->initial_fund;
    state->uncovered_deficit = 0;
    state->bad_debt = 0;
    state->fees = 0;
    state->trader_kept = 0;
}

void mf_settle(const mf_settlement_policy *policy, double remaining, double closed_notional,
               mf_settlement_state *state) {
    if (remaining >= 0) {
        double fee = policy->liquidation_fee * closed_notional;
        if (fee > remaining) fee = remaining;
        state->fund += fee;
        state->fees += fee;
        state->trader_kept += remaining - fee;
        return;
    }
    const double loss = -remaining;
    const double paid = loss < state->fund ? loss : state->fund;
    state->bad_debt += loss;
    state->fund -= paid;
    switch (policy->deficit) {
    case MF_DEFICIT_UNCOVERED:
        state->uncovered_deficit += loss - paid;
        break;
    }
    if (state->fund < state->fund_min) state->fund_min = state->fund;
}
