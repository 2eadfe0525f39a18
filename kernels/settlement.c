#include "settlement.h"

void mf_settlement_reset(const mf_settlement_policy *policy, mf_settlement_state *state) {
    state->fund = policy->initial_fund;
    state->fund_min = policy->initial_fund;
    state->uncovered_deficit = 0;
    state->bad_debt = 0;
    state->fees = 0;
    state->trader_kept = 0;
    state->adl_notional = 0;
    state->adl_accounts = 0;
    state->socialised_loss = 0;
}

double mf_settle(const mf_settlement_policy *policy, double remaining, double closed_notional,
                 mf_settlement_state *state) {
    if (remaining >= 0) {
        double fee = policy->liquidation_fee * closed_notional;
        if (fee > remaining) fee = remaining;
        state->fund += fee;
        state->fees += fee;
        state->trader_kept += remaining - fee;
        return 0;
    }
    const double loss = -remaining;
    const double paid = loss < state->fund ? loss : state->fund;
    state->bad_debt += loss;
    state->fund -= paid;
    if (state->fund < state->fund_min) state->fund_min = state->fund;
    const double shortfall = loss - paid;
    switch (policy->deficit) {
    case MF_DEFICIT_UNCOVERED:
        state->uncovered_deficit += shortfall;
        break;
    case MF_DEFICIT_ADL:
    case MF_DEFICIT_SOCIALISED:
        break;
    }
    return shortfall;
}

void mf_settle_uncovered(double amount, mf_settlement_state *state) {
    state->uncovered_deficit += amount;
}
