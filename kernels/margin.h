/* Margin models (docs/model.md, "Margin models"): each checks the accounts of one margin mode
 * at a batch of paths' prices and reports new flags. Every model is a file under kernels/ with
 * the contract below and one row in the model table (margin_models.c); the driver loops over the
 * scenario's models and never looks at an account's mode byte. */
#ifndef MF_MARGIN_H
#define MF_MARGIN_H

#include <stddef.h>
#include <stdint.h>

#include "book.h"

/* Per-path state bytes, laid out entity-major, path-minor: state[entity * batch + b]. */
enum {
    MF_POSITION_OPEN = 0,
    MF_POSITION_NEW = 1,    /* position flagged on its own in this round, not yet queued */
    MF_POSITION_QUEUED = 2, /* in the liquidation engine (queued or closed), or taken over */
    MF_POSITION_CLOSED = 3, /* closed outside the engine (ADL): margin and cash stay the trader's */
    MF_POSITION_PARTIAL = 4, /* a partial-liquidation chunk is queued or cooling down; still open */
};
enum {
    MF_ACCOUNT_LIQUIDATING = 1,    /* whole account handed to the liquidation engine */
    MF_ACCOUNT_NEW = 2,            /* whole account flagged in this round, not yet queued */
    MF_ACCOUNT_COUNTED = 4,        /* counted once in "liquidated accounts" */
    MF_ACCOUNT_PARTIAL = 8,        /* a partial chunk of the account is queued or cooling down */
    MF_ACCOUNT_DELEVERAGED = 16,   /* counted once in "accounts hit by auto-deleveraging" */
    MF_ACCOUNT_LONG_COUNTED = 32,  /* counted once among accounts with a long liquidated */
    MF_ACCOUNT_SHORT_COUNTED = 64, /* counted once among accounts with a short liquidated */
    MF_ACCOUNT_PENDING = 128 /* event-driven checks: on the path's list of accounts to check */
};

/* What funding and dynamic margin change, per asset and path (k * batch + b), so that no
 * account needs a per-path copy of its collateral: a position of q coins has paid
 * q * funding_index[k, b] of funding since it opened (cumulative index, USD per coin), and its
 * maintenance margin is scaled by maintenance_scale[k, b]. Neutral values (0 and 1) leave every
 * flag as it is: x * 1.0 == x, and x - 0.0 differs from x only in the sign of a zero. */
typedef struct {
    const double *funding_index;     /* K x batch */
    const double *maintenance_scale; /* K x batch */
    int neutral; /* 1: every value is neutral (the driver knows); models may skip the vectors */
} mf_market_vectors;

/* What partial liquidation, auto-deleveraging, socialised loss and the backstop vault change
 * on single positions, per path (position-major: p * batch + b): quantity replaces the store's
 * quantity (coins, same sign or 0), and cash is added to the position's base equity (isolated:
 * its margin m; cross: the account's collateral C, summed over its positions). NULL when none of
 * those mechanisms is on: then the store's values hold on every path. */
typedef struct {
    const double *quantity;
    const double *cash;
} mf_live_book;

/* One call of a model: accounts[begin..end) (ids, ascending, all of the model's mode) on the
 * paths b < batch with active[b]. marks[k * batch + b] is asset k's mark on path b.
 * A model flags a whole account (account_state gains LIQUIDATING | NEW; the engine closes all
 * its positions against base equity C = account_collateral) or single positions
 * (position_state OPEN -> NEW; each closes against base equity m = position_margin), never
 * re-flags what is already flagged, and returns the number of new flags. It writes only the
 * states of its own accounts and their positions (calls on disjoint ranges may run in
 * parallel), and sums run in position order (deterministic). Positions not OPEN and accounts
 * LIQUIDATING or PARTIAL are never flagged. With a live book, quantities and cash come from it. */
typedef struct {
    const mf_book_view *book;
    const mf_tier_table *tiers;
    const int64_t *accounts;
    int64_t begin, end;
    int batch; /* 1..MF_KERNEL_MAX_BATCH: the state arrays' path stride */
    const double *marks;
    mf_market_vectors vectors;
    const uint8_t *active;
    uint8_t *account_state;
    uint8_t *position_state;
    const double *prepared;   /* the model's prepared data, or NULL */
    const mf_live_book *live; /* per-path quantities and cash, or NULL (the store's) */
    int one_path; /* 0: the paths b < batch; b + 1: path b alone (active[b] must be set) */
} mf_margin_call;

typedef int64_t (*mf_margin_check_fn)(const mf_margin_call *call);
/* Optional, once per scenario: read-only data the model needs, from its accounts at the start
 * prices: prepared_size bytes (8-byte aligned, allocated by the caller), filled by prepare. */
typedef size_t (*mf_margin_prepared_size_fn)(const mf_book_view *book, const mf_tier_table *tiers,
                                             const int64_t *accounts, int64_t n_accounts);
typedef void (*mf_margin_prepare_fn)(const mf_book_view *book, const mf_tier_table *tiers,
                                     const int64_t *accounts, int64_t n_accounts,
                                     const double *start_prices, void *prepared);

/* Which run.margin_kernel setting selects a model (the numbering of the config's enum). */
typedef enum {
    MF_MODEL_FILTERED = 0,  /* a full sweep behind a prefilter */
    MF_MODEL_REFERENCE = 1, /* the exact full sweep of its mode */
    MF_MODEL_EVENTS = 2     /* event-driven: the driver checks only accounts an event reached */
} mf_model_kind;

/* An event-driven model (kind MF_MODEL_EVENTS) has `check` = its mode's exact check, which the
 * driver calls on single accounts, and prepared data = an event index (mf_event_index, below);
 * the driver keeps the per-path cursors and lists (src/engine/event_checks.c). */
typedef struct {
    const char *name;
    mf_margin_mode mode;
    mf_model_kind kind;
    mf_margin_check_fn check;
    mf_margin_prepared_size_fn prepared_size; /* NULL: no prepared data */
    mf_margin_prepare_fn prepare;
} mf_margin_model;

/* The model table: every model of the code base, in selection order. */
extern const mf_margin_model mf_margin_models[];
extern const int mf_n_margin_models;

/* The models (one file each). */
int64_t mf_margin_check_isolated(const mf_margin_call *call);             /* margin_isolated.c */
int64_t mf_margin_check_cross(const mf_margin_call *call);                /* margin_cross.c */
int64_t mf_margin_check_portfolio(const mf_margin_call *call);            /* margin_portfolio.c */
int64_t mf_margin_check_isolated_prefiltered(const mf_margin_call *call); /* margin_prefilter.c */
int64_t mf_margin_check_cross_prefiltered(const mf_margin_call *call);

/* The prefiltered models' prepared data. For every position, a price beyond which it provably
 * cannot push its account (isolated: the position) to maintenance: a long is safe while its
 * mark is above its bound, a short while below. Stored signed, as compared: bound = +bound for a
 * long, -bound for a short (safe while -mark > -bound); +INFINITY never passes. For a cross
 * account, the headroom at the start prices (minus a safety margin of 1e-9 of notional) is
 * shared equally among its positions, so while every position is inside its bound the account's
 * equity exceeds maintenance in exact arithmetic by far more than rounding can change. An account
 * with (almost) no headroom gets bounds that never pass, so it is always checked exactly. The
 * bounds hold for neutral market vectors; with any other, the models check every account.
 * Layout: the group's positions compacted in account order, so a sweep streams 9 bytes per
 * position (slot 2 asset + short, bound) and touches an account only when it fails. */
typedef struct {
    int64_t n_accounts, n_positions;
    const int64_t *start; /* n_accounts + 1: account i's positions are [start[i], start[i + 1]) */
    const int64_t *owner; /* n_positions: index of the position's account in the group */
    const double *bound;  /* n_positions: signed safe price */
    const uint8_t *slot;  /* n_positions: 2 asset + (quantity < 0) */
} mf_prefilter_layout;

size_t mf_prefilter_size(const mf_book_view *book, const mf_tier_table *tiers,
                         const int64_t *accounts, int64_t n_accounts);
mf_prefilter_layout mf_prefilter_view(const void *prepared);
void mf_prefilter_prepare_isolated(const mf_book_view *book, const mf_tier_table *tiers,
                                   const int64_t *accounts, int64_t n_accounts,
                                   const double *start_prices, void *prepared);
void mf_prefilter_prepare_cross(const mf_book_view *book, const mf_tier_table *tiers,
                                const int64_t *accounts, int64_t n_accounts,
                                const double *start_prices, void *prepared);

/* The safe prices of account `account`'s positions into lower[0 .. count) (the prefilter's
 * signed bounds); cross: 1 if the account shares its collateral. With upper != NULL, a long whose
 * headroom stops growing with the price (a tier with maintenance rate >= 1, reachable only with
 * a dynamic-margin scale) gets an upper safe price too, stored signed like a short's (-bound;
 * -INFINITY: none, never passes); without, such a long is always checked. */
void mf_safe_prices(const mf_book_view *book, const mf_tier_table *tiers, int64_t account,
                    const double *start_prices, int cross, double *lower, double *upper);

/* Event-driven models (docs/model.md, "Event-driven margin checks"). The event index of a
 * group: for each asset k two lists of entries (signed safe price, account index in the group),
 * sorted by safe price descending: list 2k holds lower safe prices (an entry is safe while the
 * mark is above it), list 2k + 1 upper ones negated (safe while -mark is above it). The safe
 * prices hold for any maintenance scale up to tiers->maintenance_scale_max, a zero funding index
 * and the store's positions. As a path's mark only reaches further entries, a per-path cursor per
 * list marks how many entries are passed; an account with a passed entry is checked exactly
 * every round from then on, and all others are provably not liquidatable. */
typedef struct {
    int64_t n_accounts;
    int n_lists;               /* 2 x assets */
    const int64_t *list_start; /* n_lists + 1 */
    const double *bound;       /* signed safe prices, descending within each list */
    const uint32_t *owner;     /* index of the entry's account in the group */
} mf_event_index;

size_t mf_events_size_isolated(const mf_book_view *book, const mf_tier_table *tiers,
                               const int64_t *accounts, int64_t n_accounts);
size_t mf_events_size_cross(const mf_book_view *book, const mf_tier_table *tiers,
                            const int64_t *accounts, int64_t n_accounts);
size_t mf_events_size_portfolio(const mf_book_view *book, const mf_tier_table *tiers,
                                const int64_t *accounts, int64_t n_accounts);
void mf_events_prepare_isolated(const mf_book_view *book, const mf_tier_table *tiers,
                                const int64_t *accounts, int64_t n_accounts,
                                const double *start_prices, void *prepared);
void mf_events_prepare_cross(const mf_book_view *book, const mf_tier_table *tiers,
                             const int64_t *accounts, int64_t n_accounts,
                             const double *start_prices, void *prepared);
void mf_events_prepare_portfolio(const mf_book_view *book, const mf_tier_table *tiers,
                                 const int64_t *accounts, int64_t n_accounts,
                                 const double *start_prices, void *prepared);
mf_event_index mf_events_view(const void *prepared);
/* The first entry at or after `cursor` in list `list` that is still safe at signed mark
 * `signed_mark` (entries [cursor, result) are newly passed): a galloping search from the
 * cursor, O(1 + log newly passed). */
int64_t mf_events_advance(const mf_event_index *index, int list, double signed_mark,
                          int64_t cursor);

/* After an exact check found account `account` (of mode `mode`) not liquidatable at one path's
 * marks[k], the price ranges low[k] < P_k < high[k] inside which it provably stays so, for any
 * maintenance scale up to tiers->maintenance_scale_max: its headroom (a position's own, for
 * isolated) shrinks by at most |q| (1 + s_max mmr) per unit of move of each asset, mmr the
 * largest rate up to twice its notional, so the same relative move of every asset held (at
 * most half the mark) is allowed until that could use the headroom up (isolated: only its
 * positions still open on path b count; position_state laid out p * batch + b). funding[k]:
 * the path's funding index (each position has paid q F), or NULL when it is zero. live: the
 * path's quantities and cash when a live book changes them (partial liquidation), else NULL.
 * Only adverse
 * sides are bounded: low[k] = -INFINITY when no long in asset k is held (a fall only helps),
 * high[k] = INFINITY when no short is held and s_max x the highest tier rate < 1 (a rise only
 * helps); an asset not held gets (-INFINITY, INFINITY). When there is no provable range (no
 * headroom, portfolio margin) low[0] = INFINITY: check again next round. */
void mf_events_rearm(const mf_book_view *book, const mf_tier_table *tiers, mf_margin_mode mode,
                     int64_t account, const double *marks, const double *funding,
                     const mf_live_book *live, const uint8_t *position_state, int batch, int b,
                     double *low, double *high);
/* How far a funding index F shifts the safe prices of a group of mode `mode` on asset k: a
 * long pays q F, which costs no more headroom than a fall of the price by F x this factor
 * (1 / (1 - s_max x the steepest rate of its requirement), INFINITY when that is not
 * positive); a short pays no more than a rise of |F|. */
double mf_events_funding_factor(const mf_tier_table *tiers, mf_margin_mode mode, int asset);

/* Portfolio margin's maintenance requirement of one account at one path's marks: net quantity
 * net_quantity[k] of asset k (n_assets entries), marks[k], maintenance scales scale[k]
 * (docs/model.md, "Portfolio margin"). */
double mf_portfolio_requirement(const mf_tier_table *tiers, int n_assets,
                                const double *net_quantity, const double *marks,
                                const double *scale);

#endif
