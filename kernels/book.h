/* Flat-array views the kernels work on. Kernels never allocate, do no I/O and keep no
 * globals: the driver (src/) owns every buffer and passes lengths explicitly. */
#ifndef MF_BOOK_H
#define MF_BOOK_H

#include <stdint.h>

/* The one definition of these limits, for every layer (the config's lists are sized by them). */
#define MF_MAX_ASSETS 8
#define MF_MAX_TIERS 16
/* Paths per margin-kernel call: kernels keep per-path scratch on the stack for at most this
 * many paths, so every `batch` argument must be in [1, MF_KERNEL_MAX_BATCH]. */
#define MF_KERNEL_MAX_BATCH 64

/* How an account is margined: the one mode enum of every layer (the store's account_mode
 * byte holds it). Code that branches on it uses `switch` (built with -Wswitch-enum), so a new
 * mode cannot silently fall into another mode's branch. */
typedef enum { MF_MODE_ISOLATED = 0, MF_MODE_CROSS = 1, MF_MODE_PORTFOLIO = 2 } mf_margin_mode;
#define MF_N_MODES 3

/* What kind of contract each asset's market trades (docs/model.md, "Contracts"). A linear
 * USD-margined perpetual is the default. An inverse (coin-margined) market's positions post
 * their margin in coin: the store's position_margin is its USD value at the start price, so
 * the margin is worth margin / start_price x P at mark P (the collateral falls with the price),
 * and maintenance is set on the contracts' USD face value |q| e, not on |q| P. A dated market
 * expires at the end of step expiry_step - 1 and settles every open position at the index. */
typedef struct {
    int any_inverse;
    uint8_t inverse[MF_MAX_ASSETS];
    double start_price[MF_MAX_ASSETS];
    int32_t expiry_step[MF_MAX_ASSETS]; /* INT32_MAX: a perpetual */
} mf_contracts;

/* Read-only population arrays (the store, seen by a kernel). */
typedef struct {
    int64_t n_accounts;
    int64_t n_positions;
    int n_assets;
    const uint8_t *account_mode;
    const double *account_collateral;
    const int64_t *account_first;
    const int32_t *account_positions;
    const int64_t *position_account;
    const uint8_t *position_asset;
    const double *position_quantity;
    const double *position_entry;
    const double *position_margin;
    const mf_contracts *contracts; /* NULL: every market a linear perpetual */
} mf_book_view;

/* USD value at mark `mark` of position p's own margin (isolated): the stored USD for a linear
 * market, the coin amount at the mark for an inverse one. */
static inline double mf_margin_value(const mf_book_view *book, int64_t p, double mark) {
    const int asset = book->position_asset[p];
    if (book->contracts && book->contracts->inverse[asset])
        return book->position_margin[p] / book->contracts->start_price[asset] * mark;
    return book->position_margin[p];
}

/* The notional maintenance is set on: |q| P (linear) or the USD face value |q| e (inverse). */
static inline double mf_requirement_notional(const mf_book_view *book, int64_t p, double size,
                                             double mark) {
    const int asset = book->position_asset[p];
    if (book->contracts && book->contracts->inverse[asset]) return size * book->position_entry[p];
    return size * mark;
}

/* Portfolio (risk-based) margin's scenario grid (docs/model.md, "Portfolio margin"):
 * `points` common moves u * range[k], u evenly spaced in [-1, 1], and each asset alone moved by
 * +-spread_range[k]; the requirement is at least floor_rate x gross notional. */
#define MF_PORTFOLIO_MAX_POINTS 101 /* venue.portfolio_margin.points is at most this */
typedef struct {
    int points;
    double floor_rate;
    double initial_multiplier; /* initial requirement / maintenance requirement */
    double range[MF_MAX_ASSETS];
    double spread_range[MF_MAX_ASSETS];
} mf_portfolio_grid;

/* Risk tiers per asset: MM(n) = n * mmr[tier] - cum[tier], tier = last floor <= n; and the
 * portfolio-margin grid (the venue's margin parameters, as every margin model reads them). */
typedef struct {
    int n_tiers[MF_MAX_ASSETS];
    double floor_usd[MF_MAX_ASSETS][MF_MAX_TIERS];
    double mmr[MF_MAX_ASSETS][MF_MAX_TIERS];
    double cum_usd[MF_MAX_ASSETS][MF_MAX_TIERS];
    double max_leverage[MF_MAX_ASSETS][MF_MAX_TIERS];
    mf_portfolio_grid portfolio;
    double maintenance_scale_max; /* largest maintenance scale a path can have (dynamic margin's
                                     cap, else 1; 0 is read as 1) */
} mf_tier_table;

/* Scale one asset's ladder by s (venue.margin_scale; docs/model.md): the initial margin rate
 * 1/L of each bracket becomes min(1, s/L), the maintenance rate m becomes m * min(s, L) (so
 * maintenance keeps its ratio m*L < 1 to initial margin once initial margin reaches 100%),
 * never decreasing from bracket to bracket, and the maintenance amounts are derived again so
 * that the maintenance margin stays continuous across floors. Only used for s != 1. */
static inline void mf_tier_ladder_scale(mf_tier_table *tiers, int asset, double scale) {
    for (int i = 0; i < tiers->n_tiers[asset]; i++) {
        const double leverage = tiers->max_leverage[asset][i];
        double mmr = tiers->mmr[asset][i] * (scale < leverage ? scale : leverage);
        if (i > 0 && mmr < tiers->mmr[asset][i - 1]) mmr = tiers->mmr[asset][i - 1];
        tiers->mmr[asset][i] = mmr;
        tiers->max_leverage[asset][i] = leverage / scale > 1.0 ? leverage / scale : 1.0;
        tiers->cum_usd[asset][i] =
            i == 0 ? 0.0
                   : tiers->floor_usd[asset][i] * (mmr - tiers->mmr[asset][i - 1]) +
                         tiers->cum_usd[asset][i - 1];
    }
}

static inline int mf_tier_index(const mf_tier_table *tiers, int asset, double notional) {
    int tier = 0;
    int last = tiers->n_tiers[asset] - 1;
    /* Most positions sit in the first tiers: scan upwards. */
    while (tier < last && notional >= tiers->floor_usd[asset][tier + 1])
        tier++;
    return tier;
}

/* Maintenance margin of one position of USD notional n (continuous in n). */
static inline double mf_maintenance_margin(const mf_tier_table *tiers, int asset, double notional) {
    int tier = mf_tier_index(tiers, asset, notional);
    return notional * tiers->mmr[asset][tier] - tiers->cum_usd[asset][tier];
}

#endif
