#include "event_checks.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One path's growable list of group account indices, each with the price ranges inside which
 * it needs no check (mf_events_rearm: low[k], high[k] at range[2 K i + k], [2 K i + K + k]). */
typedef struct {
    uint32_t *items;
    double *range;
    int64_t count, capacity, range_capacity;
} index_list;

typedef struct {
    int group; /* in the venue */
    mf_event_index index;
    int64_t *cursor;       /* n_lists x batch: absolute entry index */
    index_list *pending;   /* batch */
} event_group;

/* What one path's round produced, merged after the (possibly parallel) loop over paths. */
typedef struct {
    int64_t *accounts;
    int64_t count, capacity;
    int64_t flags;
    int64_t checked;
    int failed;
} path_result;

struct mf_event_checks {
    int batch;
    int n_groups;
    event_group groups[MF_N_MODES];
    int covers[MF_N_MODES];
    path_result *paths; /* batch */
    int64_t work;
};

static int grow(void **items, int64_t *capacity, int64_t needed, size_t item_size) {
    if (needed <= *capacity) return 1;
    int64_t next = *capacity > 0 ? 2 * *capacity : 64;
    while (next < needed)
        next *= 2;
    void *resized = realloc(*items, item_size * (size_t)next);
    if (!resized) return 0;
    *items = resized;
    *capacity = next;
    return 1;
}

mf_status mf_event_checks_create(mf_event_checks **out, const mf_venue *venue, int batch) {
    *out = NULL;
    int any = 0;
    for (int g = 0; g < venue->n_groups; g++)
        any |= venue->groups[g].model->kind == MF_MODEL_EVENTS && venue->groups[g].prepared;
    if (!any) return MF_OK;
    mf_event_checks *checks;
    MF_ALLOC(checks, 1);
    *out = checks;
    checks->batch = batch;
    MF_ALLOC(checks->paths, batch);
    for (int g = 0; g < venue->n_groups; g++) {
        const mf_margin_group *group = &venue->groups[g];
        if (group->model->kind != MF_MODEL_EVENTS || !group->prepared) continue;
        event_group *events = &checks->groups[checks->n_groups++];
        events->group = g;
        events->index = mf_events_view(group->prepared);
        MF_ALLOC(events->cursor, (size_t)events->index.n_lists * batch);
        MF_ALLOC(events->pending, batch);
        checks->covers[g] = 1;
    }
    mf_event_checks_reset(checks);
    return MF_OK;
}

void mf_event_checks_free(mf_event_checks *checks) {
    if (!checks) return;
    for (int i = 0; i < checks->n_groups; i++) {
        event_group *events = &checks->groups[i];
        if (events->pending)
            for (int b = 0; b < checks->batch; b++) {
                free(events->pending[b].items);
                free(events->pending[b].range);
            }
        free(events->pending);
        free(events->cursor);
    }
    if (checks->paths)
        for (int b = 0; b < checks->batch; b++)
            free(checks->paths[b].accounts);
    free(checks->paths);
    free(checks);
}

int mf_event_checks_covers(const mf_event_checks *checks, int group) {
    return checks && checks->covers[group];
}

void mf_event_checks_reset(mf_event_checks *checks) {
    if (!checks) return;
    for (int i = 0; i < checks->n_groups; i++) {
        event_group *events = &checks->groups[i];
        for (int list = 0; list < events->index.n_lists; list++)
            for (int b = 0; b < checks->batch; b++)
                events->cursor[(int64_t)list * checks->batch + b] = events->index.list_start[list];
        for (int b = 0; b < checks->batch; b++)
            events->pending[b].count = 0;
    }
}

int64_t mf_event_checks_work(const mf_event_checks *checks) {
    return checks ? checks->work : 0;
}

/* Done for good on this path: the whole account is liquidating, or none of its positions can
 * be flagged again (each is queued, closed or newly flagged; a partial one may come back). */
static int account_done(const mf_margin_call *base, int64_t account, int b) {
    const int batch = base->batch;
    if (base->account_state[account * batch + b] & MF_ACCOUNT_LIQUIDATING) return 1;
    const mf_book_view *book = base->book;
    const int64_t first = book->account_first[account];
    for (int64_t p = first; p < first + book->account_positions[account]; p++) {
        const uint8_t state = base->position_state[p * batch + b];
        if (state == MF_POSITION_OPEN || state == MF_POSITION_PARTIAL) return 0;
    }
    return 1;
}

/* Path b's round over one group: the cursors advance to the path's marks, the accounts of the
 * entries passed join the pending list, and every pending account whose marks left its ranges
 * is checked exactly (and its ranges set again). */
static void group_round(event_group *events, const mf_margin_group *group,
                        const mf_margin_call *base, int b, path_result *result) {
    const int batch = base->batch;
    const int n_assets = base->book->n_assets;
    index_list *pending = &events->pending[b];
    double marks[MF_MAX_ASSETS];
    for (int k = 0; k < n_assets; k++)
        marks[k] = base->marks[(int64_t)k * batch + b];
    for (int list = 0; list < events->index.n_lists; list++) {
        const double signed_mark = list % 2 ? -marks[list / 2] : marks[list / 2];
        int64_t *cursor = &events->cursor[(int64_t)list * batch + b];
        const int64_t reached = mf_events_advance(&events->index, list, signed_mark, *cursor);
        for (int64_t j = *cursor; j < reached; j++) {
            const uint32_t i = events->index.owner[j];
            uint8_t *state = &base->account_state[group->accounts[i] * batch + b];
            if (*state & MF_ACCOUNT_PENDING) continue;
            *state |= MF_ACCOUNT_PENDING;
            if (!grow((void **)&pending->items, &pending->capacity, pending->count + 1,
                      sizeof *pending->items) ||
                !grow((void **)&pending->range, &pending->range_capacity,
                      2 * n_assets * (pending->count + 1), sizeof *pending->range)) {
                result->failed = 1;
                return;
            }
            double *range = pending->range + 2 * n_assets * pending->count;
            range[0] = INFINITY; /* no range yet: checked this round */
            pending->items[pending->count++] = i;
        }
        *cursor = reached;
    }
    uint8_t one_path[MF_KERNEL_MAX_BATCH] = {0};
    one_path[b] = 1;
    mf_margin_call call = *base;
    call.accounts = group->accounts;
    call.active = one_path;
    call.prepared = NULL;
    int64_t kept = 0;
    for (int64_t n = 0; n < pending->count; n++) {
        const uint32_t i = pending->items[n];
        const int64_t account = group->accounts[i];
        double *range = pending->range + 2 * n_assets * n;
        int outside = 0;
        for (int k = 0; k < n_assets; k++)
            outside |= (marks[k] <= range[k]) | (marks[k] >= range[n_assets + k]);
        double *kept_range = pending->range + 2 * n_assets * kept;
        if (!outside) {
            memmove(kept_range, range, sizeof *range * 2 * (size_t)n_assets);
            pending->items[kept++] = i;
            continue;
        }
        call.begin = i;
        call.end = (int64_t)i + 1;
        const int64_t flags = group->model->check(&call);
        result->checked++;
        if (flags > 0) {
            result->flags += flags;
            if (!grow((void **)&result->accounts, &result->capacity, result->count + 1,
                      sizeof *result->accounts)) {
                result->failed = 1;
                return;
            }
            result->accounts[result->count++] = account;
        }
        if (account_done(base, account, b)) continue;
        mf_events_rearm(base->book, base->tiers, group->model->mode, account, marks,
                        base->position_state, batch, b, kept_range, kept_range + n_assets);
        pending->items[kept++] = i;
    }
    pending->count = kept;
}

int64_t mf_event_checks_round(mf_event_checks *checks, const mf_venue *venue,
                              const mf_margin_call *base, int n_paths, int parallel,
                              int64_t **accounts, int64_t *n_accounts, int64_t *capacity) {
#pragma omp parallel for schedule(dynamic, 1) if (parallel)
    for (int b = 0; b < n_paths; b++) {
        path_result *result = &checks->paths[b];
        result->count = result->flags = result->checked = 0;
        result->failed = 0;
        if (!base->active[b]) continue;
        for (int i = 0; i < checks->n_groups && !result->failed; i++)
            group_round(&checks->groups[i], &venue->groups[checks->groups[i].group], base, b,
                        result);
    }
    int64_t flags = 0;
    for (int b = 0; b < n_paths; b++) {
        const path_result *result = &checks->paths[b];
        if (result->failed) {
            MF_FAIL(MF_ERR_MEMORY, "out of memory growing the event-driven margin checks' lists");
            return -1;
        }
        flags += result->flags;
        checks->work += result->checked;
        if (result->count == 0) continue;
        if (!grow((void **)accounts, capacity, *n_accounts + result->count, sizeof **accounts)) {
            MF_FAIL(MF_ERR_MEMORY, "out of memory collecting the round's flagged accounts");
            return -1;
        }
        memcpy(*accounts + *n_accounts, result->accounts, sizeof **accounts * (size_t)result->count);
        *n_accounts += result->count;
    }
    return flags;
}
