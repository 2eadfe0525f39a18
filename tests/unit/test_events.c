/* Event-driven margin checks against the full sweep, flag for flag: random mark walks (calm,
 * crashing, crashing and recovering) on every margin mode, with and without a dynamic-margin
 * scale, round after round; after each round both sides see the same liquidation bookkeeping
 * (flags queued), so any flag the events miss, add or delay shows as a differing state byte. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "event_checks.h"
#include "helpers.h"
#include "store.h"
#include "rng.h"
#include "simulate.h"

#define BATCH 8

static void load_small(mf_config *config) {
    cr_assert_eq(mf_config_load(config, MF_SOURCE_DIR "/tests/configs/small.yaml", NULL, 0), MF_OK,
                 "%s", mf_error_message());
    config->population.accounts = 3000;
    config->population.cross_share = 0.3;
    config->population.portfolio_share = 0.3;
    config->population.max_positions = 3;
}

/* What collect_flags does to the states once a round's flags are handed to the engine. */
static void queue_new_flags(const mf_book_view *book, uint8_t *account_state,
                            uint8_t *position_state) {
    for (int64_t a = 0; a < book->n_accounts; a++)
        for (int b = 0; b < BATCH; b++) {
            uint8_t *state = &account_state[a * BATCH + b];
            if (!(*state & MF_ACCOUNT_NEW)) continue;
            *state &= (uint8_t)~MF_ACCOUNT_NEW;
            const int64_t first = book->account_first[a];
            for (int64_t p = first; p < first + book->account_positions[a]; p++)
                position_state[p * BATCH + b] = MF_POSITION_QUEUED;
        }
    for (int64_t i = 0; i < book->n_positions * BATCH; i++)
        if (position_state[i] == MF_POSITION_NEW) position_state[i] = MF_POSITION_QUEUED;
}

/* The events' own bookkeeping bit aside, the states must be equal byte for byte. */
static int64_t differing_bytes(const uint8_t *a, const uint8_t *b, int64_t n) {
    int64_t differ = 0;
    for (int64_t i = 0; i < n; i++)
        differ += (a[i] & (uint8_t)~MF_ACCOUNT_PENDING) != b[i];
    return differ;
}

/* funding: the size of a funding payment (USD per coin, relative to the price) every 20 rounds,
 * its sign drawn at random; 0: none. */
static void compare_walks(double dynamic_cap, double drift_per_round, int recover, double funding_size) {
    mf_config config;
    load_small(&config);
    config.venue.dynamic_enabled = dynamic_cap > 1;
    if (dynamic_cap > 1) config.venue.dynamic_cap = dynamic_cap;
    config.run.margin_kernel = MF_MARGIN_KERNEL_EVENTS;
    config.run.batch_paths = BATCH;
    mf_store store;
    cr_assert_eq(mf_population_generate(&store, &config), MF_OK, "%s", mf_error_message());
    mf_model model;
    cr_assert_eq(mf_model_build(&model, &config, &store), MF_OK, "%s", mf_error_message());
    const mf_venue *venue = &model.scenario.venues[0];
    const mf_book_view *book = &venue->book;
    cr_assert_eq(venue->n_groups, 3);
    for (int g = 0; g < 3; g++)
        cr_assert_eq(venue->groups[g].model->kind, MF_MODEL_EVENTS, "%s",
                     venue->groups[g].model->name);
    mf_event_checks *events = NULL;
    cr_assert_eq(mf_event_checks_create(&events, venue, BATCH), MF_OK);
    cr_assert(events != NULL);
    const int n = book->n_assets;
    uint8_t *accounts_ref = calloc((size_t)book->n_accounts * BATCH, 1);
    uint8_t *positions_ref = calloc((size_t)book->n_positions * BATCH, 1);
    uint8_t *accounts_events = calloc((size_t)book->n_accounts * BATCH, 1);
    uint8_t *positions_events = calloc((size_t)book->n_positions * BATCH, 1);
    int64_t *flagged = NULL, n_flagged = 0, capacity = 0;
    double marks[MF_MAX_ASSETS * BATCH], funding[MF_MAX_ASSETS * BATCH] = {0};
    double scale[MF_MAX_ASSETS * BATCH];
    uint8_t active[BATCH];
    mf_pcg64 rng;
    mf_rng_stream(&rng, 2026, (uint64_t)(1000 * dynamic_cap + 10 * recover),
                  (uint64_t)(1e6 * funding_size));
    int64_t total_flags = 0, checked = 0;
    for (int batch_round = 0; batch_round < 3; batch_round++) {
        memset(accounts_ref, 0, (size_t)book->n_accounts * BATCH);
        memset(positions_ref, 0, (size_t)book->n_positions * BATCH);
        memset(accounts_events, 0, (size_t)book->n_accounts * BATCH);
        memset(positions_events, 0, (size_t)book->n_positions * BATCH);
        mf_event_checks_reset(events);
        for (int k = 0; k < n; k++)
            for (int b = 0; b < BATCH; b++) {
                marks[k * BATCH + b] = model.scenario.index.price0[k];
                scale[k * BATCH + b] = 1;
                funding[k * BATCH + b] = 0;
            }
        for (int round = 0; round < 300; round++) {
            const double drift = recover && round >= 150 ? -drift_per_round : drift_per_round;
            for (int b = 0; b < BATCH; b++)
                active[b] = mf_rng_uniform(&rng) < 0.9;
            if (funding_size > 0 && round % 20 == 19) {
                for (int k = 0; k < n; k++)
                    for (int b = 0; b < BATCH; b++)
                        funding[k * BATCH + b] += funding_size * model.scenario.index.price0[k] *
                                                  (2 * mf_rng_uniform(&rng) - 1);
                mf_event_checks_funding_changed(events);
            }
            for (int k = 0; k < n; k++)
                for (int b = 0; b < BATCH; b++) {
                    const double shock = 0.01 * (2 * mf_rng_uniform(&rng) - 1);
                    marks[k * BATCH + b] *= exp(drift * (b % 2 ? 1 : -0.5) + shock);
                    if (dynamic_cap > 1)
                        scale[k * BATCH + b] = 1 + (dynamic_cap - 1) * mf_rng_uniform(&rng);
                }
            mf_margin_call base = {0};
            base.book = book;
            base.tiers = &venue->tiers;
            base.batch = BATCH;
            base.marks = marks;
            base.vectors =
                (mf_market_vectors){funding, scale, dynamic_cap > 1 || funding_size > 0 ? 0 : 1};
            base.active = active;
            /* The reference: every account of every group swept. */
            int64_t expected = 0;
            for (int g = 0; g < venue->n_groups; g++) {
                const mf_margin_model *reference = NULL;
                for (int i = 0; i < mf_n_margin_models; i++)
                    if (mf_margin_models[i].mode == venue->groups[g].model->mode &&
                        mf_margin_models[i].kind == MF_MODEL_REFERENCE)
                        reference = &mf_margin_models[i];
                mf_margin_call call = base;
                call.accounts = venue->groups[g].accounts;
                call.begin = 0;
                call.end = venue->groups[g].n_accounts;
                call.account_state = accounts_ref;
                call.position_state = positions_ref;
                expected += reference->check(&call);
            }
            mf_margin_call call = base;
            call.account_state = accounts_events;
            call.position_state = positions_events;
            n_flagged = 0;
            const int64_t got = mf_event_checks_round(events, venue, &call, BATCH, round % 2,
                                                      &flagged, &n_flagged, &capacity);
            cr_assert_eq(got, expected, "cap %g, round %d: %lld flags, the sweep %lld",
                         dynamic_cap, round, (long long)got, (long long)expected);
            cr_assert_eq(differing_bytes(accounts_events, accounts_ref, book->n_accounts * BATCH),
                         0, "cap %g, round %d: account states differ", dynamic_cap, round);
            cr_assert(!memcmp(positions_events, positions_ref, (size_t)book->n_positions * BATCH),
                      "cap %g, round %d: position states differ", dynamic_cap, round);
            /* Every account reported has a new flag on some path. */
            for (int64_t i = 0; i < n_flagged; i++) {
                const int64_t a = flagged[i];
                int any = 0;
                for (int b = 0; b < BATCH; b++) {
                    any |= accounts_ref[a * BATCH + b] & MF_ACCOUNT_NEW;
                    const int64_t first = book->account_first[a];
                    for (int64_t p = first; p < first + book->account_positions[a]; p++)
                        any |= positions_ref[p * BATCH + b] == MF_POSITION_NEW;
                }
                cr_assert(any, "account %lld reported without a new flag", (long long)a);
            }
            total_flags += got;
            queue_new_flags(book, accounts_ref, positions_ref);
            queue_new_flags(book, accounts_events, positions_events);
        }
    }
    checked = mf_event_checks_work(events);
    cr_log_info("cap %g drift %g recover %d funding %g: %lld flags, %lld exact single-account "
                "checks (a sweep: %lld)",
                dynamic_cap, drift_per_round, recover, funding_size, (long long)total_flags,
                (long long)checked,
                (long long)(3 * 300 * BATCH * book->n_accounts));
    cr_assert(total_flags > 100, "the walks liquidate something (%lld)", (long long)total_flags);
    /* The point of the events: far fewer account checks than a sweep of every account. */
    cr_assert(checked < 3 * 300 * BATCH * book->n_accounts / 4, "%lld checks", (long long)checked);
    free(flagged);
    free(accounts_ref);
    free(positions_ref);
    free(accounts_events);
    free(positions_events);
    mf_event_checks_free(events);
    mf_model_free(&model);
    mf_store_free(&store);
}

Test(events, calm_walks_flag_what_the_sweep_flags) {
    compare_walks(1.0, 0.0, 0, 0);
}

Test(events, crashing_walks_flag_what_the_sweep_flags) {
    compare_walks(1.0, 0.004, 0, 0);
}

Test(events, crash_and_recovery_flag_what_the_sweep_flags) {
    compare_walks(1.0, 0.006, 1, 0);
}

Test(events, dynamic_margin_scale_up_to_the_cap) {
    compare_walks(3.0, 0.004, 1, 0);
}

Test(events, funding_payments_both_ways) {
    compare_walks(1.0, 0.003, 1, 0.002);
}

Test(events, funding_with_dynamic_margin) {
    compare_walks(2.0, 0.004, 0, 0.003);
}

/* The cursor: a binary search that returns the first entry still safe. */
Test(events, advance_finds_the_first_safe_entry) {
    struct {
        int64_t header[6];
        double bound[5];
        uint32_t owner[5];
    } layout = {{1, 2, 5, 0, 3, 5}, {INFINITY, 10, 10, -INFINITY, -INFINITY}, {0, 0, 0, 0, 0}};
    const mf_event_index index = mf_events_view(&layout);
    cr_assert_eq(mf_events_advance(&index, 0, 11, 0), 1); /* only the always-checked one */
    cr_assert_eq(mf_events_advance(&index, 0, 10, 0), 3); /* ties pass, as the prefilter's */
    cr_assert_eq(mf_events_advance(&index, 0, 10, 2), 3); /* from a cursor */
    cr_assert_eq(mf_events_advance(&index, 1, -1e300, 3), 3); /* -INFINITY never passes */
}

/* The galloping search against a linear scan, on random sorted lists and cursors. */
Test(events, advance_agrees_with_a_linear_scan) {
    enum { N = 300 };
    struct {
        int64_t header[6];
        double bound[N];
        uint32_t owner[N];
    } layout;
    mf_pcg64 rng;
    mf_rng_stream(&rng, 5, 6, 7);
    for (int trial = 0; trial < 2000; trial++) {
        const int64_t n = 1 + (int64_t)(mf_rng_uniform(&rng) * (N - 1));
        layout.header[0] = 1;
        layout.header[1] = 2;
        layout.header[2] = n;
        layout.header[3] = 0;
        layout.header[4] = n;
        layout.header[5] = n;
        double value = 100;
        for (int64_t i = 0; i < n; i++) {
            value -= mf_rng_uniform(&rng) < 0.2 ? 0 : mf_rng_uniform(&rng); /* with ties */
            layout.bound[i] = value;
        }
        const mf_event_index index = mf_events_view(&layout);
        const int64_t cursor = (int64_t)(mf_rng_uniform(&rng) * (double)(n + 1));
        const double mark = 100 - mf_rng_uniform(&rng) * (100 - value + 1);
        int64_t expected = cursor;
        while (expected < n && layout.bound[expected] >= mark)
            expected++;
        cr_assert_eq(mf_events_advance(&index, 0, mark, cursor), expected,
                     "trial %d: n %lld cursor %lld", trial, (long long)n, (long long)cursor);
    }
}

/* The event index is sorted (safe price descending, then account) whatever the input order:
 * checked on a real group, list by list. */
Test(events, index_lists_are_sorted) {
    mf_config config;
    load_small(&config);
    config.run.margin_kernel = MF_MARGIN_KERNEL_EVENTS;
    mf_store store;
    cr_assert_eq(mf_population_generate(&store, &config), MF_OK);
    mf_model model;
    cr_assert_eq(mf_model_build(&model, &config, &store), MF_OK, "%s", mf_error_message());
    const mf_venue *venue = &model.scenario.venues[0];
    int64_t entries = 0;
    for (int g = 0; g < venue->n_groups; g++) {
        const mf_event_index index = mf_events_view(venue->groups[g].prepared);
        for (int list = 0; list < index.n_lists; list++)
            for (int64_t j = index.list_start[list] + 1; j < index.list_start[list + 1]; j++) {
                const double a = index.bound[j - 1], b = index.bound[j];
                cr_assert(a > b || (a == b && index.owner[j - 1] < index.owner[j]),
                          "group %d list %d entry %lld out of order", g, list, (long long)j);
                entries++;
            }
    }
    cr_assert(entries > 3000, "%lld entries", (long long)entries);
    mf_model_free(&model);
    mf_store_free(&store);
}
