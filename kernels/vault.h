/* The backstop liquidity vault of one venue on one path (docs/model.md, "Backstop vault"): it
 * takes over positions at the mark with the trader's remaining equity, holds them with its own
 * capital, and marks them to market. It takes over only while its equity is positive. */
#ifndef MF_VAULT_H
#define MF_VAULT_H

#include "book.h"

typedef struct {
    double capital;                     /* at t = 0 */
    double cash;                        /* equity received from the traders it took over */
    double inventory[MF_MAX_ASSETS];    /* signed coins held */
    double cost[MF_MAX_ASSETS];         /* sum of quantity x takeover price */
    double funding_base[MF_MAX_ASSETS]; /* sum of quantity x funding index at takeover */
    double realized;                    /* price PnL of inventory settled (dated futures) */
    double funding_realized;            /* funding paid on inventory settled */
    double equity_min;                  /* running minimum of its equity */
    double notional;                    /* USD taken over, at the marks */
    double takeovers;                   /* positions and accounts taken over */
} mf_vault_state;

static inline void mf_vault_reset(mf_vault_state *vault, double capital) {
    *vault = (mf_vault_state){0};
    vault->capital = capital;
    vault->equity_min = capital;
}

/* Price PnL of the inventory at the marks (funding excluded). */
static inline double mf_vault_trading_pnl(const mf_vault_state *vault, int n_assets,
                                          const double *marks) {
    double pnl = vault->realized;
    for (int k = 0; k < n_assets; k++)
        pnl += vault->inventory[k] * marks[k] - vault->cost[k];
    return pnl;
}

/* Equity: capital + cash + price PnL - funding paid on the inventory since its takeover. */
static inline double mf_vault_equity(const mf_vault_state *vault, int n_assets, const double *marks,
                                     const double *funding_index) {
    double equity = vault->capital + vault->cash + mf_vault_trading_pnl(vault, n_assets, marks) -
                    vault->funding_realized;
    for (int k = 0; k < n_assets; k++)
        equity -= vault->inventory[k] * funding_index[k] - vault->funding_base[k];
    return equity;
}

/* Take over q coins of asset k at `mark` (funding index `funding`). */
static inline void mf_vault_take(mf_vault_state *vault, int asset, double quantity, double mark,
                                 double funding) {
    vault->inventory[asset] += quantity;
    vault->cost[asset] += quantity * mark;
    vault->funding_base[asset] += quantity * funding;
    vault->notional += (quantity < 0 ? -quantity : quantity) * mark;
}

/* Settle the inventory of asset k at `price` (a dated future's expiry). */
static inline void mf_vault_settle(mf_vault_state *vault, int asset, double price, double funding) {
    vault->realized += vault->inventory[asset] * price - vault->cost[asset];
    vault->funding_realized += vault->inventory[asset] * funding - vault->funding_base[asset];
    vault->inventory[asset] = 0;
    vault->cost[asset] = 0;
    vault->funding_base[asset] = 0;
}

#endif
