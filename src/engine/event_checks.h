/* Event-driven margin checks (docs/model.md, "Event-driven margin checks"): the driver side of
 * the event models. Per path and list (asset x direction) a cursor into the group's event index
 * marks the entries the path's marks have reached; their accounts join the path's pending list
 * and are checked exactly (the model's exact check, one account, one path) every round until
 * they are liquidated, being re-armed with re-check ranges in between. A round costs
 * O(lists x log entries + pending) per path instead of a sweep over every account, and flags
 * exactly what the sweep flags. The safe prices assume the store's positions: the funding index
 * shifts the marks the cursors compare; accounts a partial chunk or the vault changed are
 * pending, armed from the live book, and touched when a cooldown ends; after ADL or socialised
 * loss, and with inverse or dated markets, the driver sweeps instead (simulate.c). */
#ifndef MF_EVENT_CHECKS_H
#define MF_EVENT_CHECKS_H

#include <stdint.h>

#include "margin.h"
#include "mf_error.h"
#include "scenario.h"

typedef struct mf_event_checks mf_event_checks;

/* NULL in *out when no group of the venue has an event model. */
mf_status mf_event_checks_create(mf_event_checks **out, const mf_venue *venue, int batch);
void mf_event_checks_free(mf_event_checks *checks);
/* 1 when group g is checked by events (the sweep skips it). */
int mf_event_checks_covers(const mf_event_checks *checks, int group);
/* A new batch of paths: cursors back to the start, lists emptied. */
void mf_event_checks_reset(mf_event_checks *checks);
/* Zero the state byte of path b of every account whose entry a cursor of path b passed in this
 * batch (the pending bit, and whatever else the account collected); call before the reset. */
void mf_event_checks_clear_passed(const mf_event_checks *checks, const mf_venue *venue,
                                  uint8_t *account_state, int b);

/* One round on the paths b < n_paths with base->active[b]: new flags into the states (as the
 * sweep would set them) and the flagged accounts' ids appended to *accounts (a growable array
 * of *capacity; ids of different paths may repeat). Returns the number of new flags, or -1
 * with the error recorded (out of memory). parallel: paths on several threads. */
int64_t mf_event_checks_round(mf_event_checks *checks, const mf_venue *venue,
                              const mf_margin_call *base, int n_paths, int parallel,
                              int64_t **accounts, int64_t *n_accounts, int64_t *capacity);

/* A mechanism changed account `account`'s positions or cash on path b (a partial chunk done, its
 * cooldown over): it is checked exactly in the next round and armed from the live book. */
void mf_event_checks_touch(mf_event_checks *checks, const mf_venue *venue, int64_t account, int b);

/* The funding index moved (a payment step): every pending account's re-check ranges assumed
 * the old one, so all are checked in the next round. */
void mf_event_checks_funding_changed(mf_event_checks *checks);

/* Accounts checked exactly on the paths so far (a measure of the work, for benchmarks). */
int64_t mf_event_checks_work(const mf_event_checks *checks);

#endif
