/* Margin kernels: flag live positions (isolated) and accounts (cross) whose equity is at or
 * below maintenance margin, for a batch of paths at once: one sweep over the read-only
 * account arrays serves every path of the batch. */
#ifndef MF_MARGIN_H
#define MF_MARGIN_H

#include <stdint.h>

#include "book.h"

/* Per-path state bytes, laid out entity-major, path-minor: state[entity * batch + b]. */
enum {
    MF_POSITION_OPEN = 0,
    MF_POSITION_NEW = 1,    /* isolated position flagged in this round, not yet queued */
    MF_POSITION_QUEUED = 2, /* in the liquidation engine (queued or closed) */
};
enum {
    MF_ACCOUNT_LIQUIDATING = 1, /* cross account handed to the liquidation engine */
    MF_ACCOUNT_NEW = 2,         /* cross account flagged in this round, not yet queued */
    MF_ACCOUNT_COUNTED = 4,     /* counted once in "liquidated accounts" */
};

/* Full-sweep reference kernel over accounts [begin, end). For every path b with active[b],
 * flags isolated positions (position_state OPEN -> NEW) with m + q (P - e) <= MM(|q| P) and
 * cross accounts (account_state gains LIQUIDATING | NEW) with C + sum q (P - e) <= sum MM.
 * marks[k * batch + b] is asset k's mark on path b. Returns the number of new flags.
 * Deterministic: each entity is written by exactly one caller; sums run in position order. */
int64_t mf_margin_check(const mf_book_view *book, const mf_tier_table *tiers, int64_t begin,
                        int64_t end, int batch, const double *marks, const uint8_t *active,
                        uint8_t *account_state, uint8_t *position_state);

/* The optimised kernel's prefilter. For every position, a price beyond which it provably
 * cannot push its account (isolated: the position) to maintenance: a long is safe while its
 * mark is above its bound, a short while below. Stored signed, as compared: safe_price[p] =
 * +bound for a long, -bound for a short (safe while -mark > -bound); +INFINITY never passes. For a
 * cross account, the headroom at the start prices (minus a safety margin of 1e-9 of notional) is
 * shared equally among its positions, so while every position is inside its bound the account's
 * equity exceeds maintenance in exact arithmetic by far more than rounding can change. An account
 * with (almost) no headroom gets bounds that never pass, so it is always checked exactly. */
void mf_margin_safe_prices(const mf_book_view *book, const mf_tier_table *tiers,
                           const double *start_prices, double *safe_price);

/* Same contract and, by construction, the same flags as mf_margin_check: entities whose
 * positions are all inside their safe prices are skipped; all others get the exact check. */
int64_t mf_margin_check_filtered(const mf_book_view *book, const mf_tier_table *tiers,
                                 const double *safe_price, int64_t begin, int64_t end, int batch,
                                 const double *marks, const uint8_t *active, uint8_t *account_state,
                                 uint8_t *position_state);

#endif
