#include "event_checks.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A trigger: when the path's signed mark of the heap's list falls to `key` or below, record
 * `record` is due for an exact check, unless it was re-armed since (arm differs). */
typedef struct {
    double key;
    uint32_t record;
    uint32_t arm;
} trigger;

/* A max-heap of triggers (the highest key is the first to fire as the signed mark falls). */
typedef struct {
    trigger *items;
    int64_t count, capacity;
} trigger_heap;

typedef struct {
    uint32_t *items;
    int64_t count, capacity;
} u32_list;

/* One path's pending accounts: records (account index in the group, arm count), reused
 * through a free list, and per list a heap of their triggers. */
typedef struct {
    uint32_t *record_item;
    uint32_t *record_arm;
    uint8_t *record_triggers; /* triggers pushed at the record's last arming */
    int64_t n_records, record_capacity;
    u32_list free_records;
    u32_list due;        /* records to check this round */
    u32_list always;     /* records with no provable range: checked every round */
    u32_list touched;    /* group indices of accounts a mechanism changed: checked next round */
    int touch_failed;    /* out of memory in mf_event_checks_touch: the next round fails */
    trigger_heap *heaps; /* n_lists */
    int64_t n_triggers;  /* in all heaps, stale ones included */
    int64_t n_live;      /* of those, the ones of records still armed */
    int refresh;         /* the funding index moved: every armed record is due */
} path_pending;

typedef struct {
    int group; /* in the venue */
    mf_event_index index;
    int64_t *cursor;       /* n_lists x batch: absolute entry index */
    int64_t *reached;      /* n_lists x batch: where this round's cursors move (advance_cursors) */
    path_pending *pending; /* batch */
    double funding_factor[MF_MAX_ASSETS]; /* mf_events_funding_factor of the group's mode */
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
        MF_ALLOC(events->reached, (size_t)events->index.n_lists * batch);
        MF_ALLOC(events->pending, batch);
        for (int b = 0; b < batch; b++)
            MF_ALLOC(events->pending[b].heaps, events->index.n_lists);
        for (int k = 0; k < venue->book.n_assets; k++)
            events->funding_factor[k] =
                mf_events_funding_factor(&venue->tiers, group->model->mode, k);
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
                path_pending *pending = &events->pending[b];
                free(pending->record_item);
                free(pending->record_arm);
                free(pending->record_triggers);
                free(pending->free_records.items);
                free(pending->due.items);
                free(pending->always.items);
                free(pending->touched.items);
                if (pending->heaps)
                    for (int list = 0; list < events->index.n_lists; list++)
                        free(pending->heaps[list].items);
                free(pending->heaps);
            }
        free(events->pending);
        free(events->cursor);
        free(events->reached);
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

/* Lists longer than this (items) are released between batches (about 1-4 MB each). */
#define MF_EVENT_KEEP_ITEMS ((int64_t)1 << 18)

static void trim_list(u32_list *list) {
    if (list->capacity <= MF_EVENT_KEEP_ITEMS) return;
    free(list->items);
    list->items = NULL;
    list->capacity = 0;
}

void mf_event_checks_reset(mf_event_checks *checks) {
    if (!checks) return;
    for (int i = 0; i < checks->n_groups; i++) {
        event_group *events = &checks->groups[i];
        for (int list = 0; list < events->index.n_lists; list++)
            for (int b = 0; b < checks->batch; b++)
                events->cursor[(int64_t)list * checks->batch + b] = events->index.list_start[list];
        for (int b = 0; b < checks->batch; b++) {
            path_pending *pending = &events->pending[b];
            /* A path that reached many accounts (a crash) leaves long lists: release them, so
             * that one heavy path does not hold its memory for the rest of the run. */
            if (pending->record_capacity > MF_EVENT_KEEP_ITEMS) {
                free(pending->record_item);
                free(pending->record_arm);
                free(pending->record_triggers);
                pending->record_item = pending->record_arm = NULL;
                pending->record_triggers = NULL;
                pending->record_capacity = 0;
            }
            trim_list(&pending->free_records);
            trim_list(&pending->due);
            trim_list(&pending->always);
            trim_list(&pending->touched);
            pending->touched.count = 0;
            pending->touch_failed = 0;
            pending->n_records = 0;
            pending->free_records.count = pending->due.count = pending->always.count = 0;
            for (int list = 0; list < events->index.n_lists; list++) {
                trigger_heap *heap = &pending->heaps[list];
                if (heap->capacity > MF_EVENT_KEEP_ITEMS) {
                    free(heap->items);
                    heap->items = NULL;
                    heap->capacity = 0;
                }
                heap->count = 0;
            }
            pending->n_triggers = pending->n_live = 0;
            pending->refresh = 0;
        }
    }
}

void mf_event_checks_clear_passed(const mf_event_checks *checks, const mf_venue *venue,
                                  uint8_t *account_state, int b) {
    if (!checks) return;
    const int batch = checks->batch;
    for (int i = 0; i < checks->n_groups; i++) {
        const event_group *events = &checks->groups[i];
        const int64_t *accounts = venue->groups[events->group].accounts;
        for (int list = 0; list < events->index.n_lists; list++) {
            const int64_t passed = events->cursor[(int64_t)list * batch + b];
            for (int64_t j = events->index.list_start[list]; j < passed; j++)
                account_state[accounts[events->index.owner[j]] * batch + b] = 0;
        }
    }
}

void mf_event_checks_funding_changed(mf_event_checks *checks) {
    if (!checks) return;
    for (int i = 0; i < checks->n_groups; i++)
        for (int b = 0; b < checks->batch; b++)
            checks->groups[i].pending[b].refresh = 1;
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

static int push_u32(u32_list *list, uint32_t value) {
    if (!grow((void **)&list->items, &list->capacity, list->count + 1, sizeof *list->items))
        return 0;
    list->items[list->count++] = value;
    return 1;
}

static int heap_push(trigger_heap *heap, trigger item) {
    if (!grow((void **)&heap->items, &heap->capacity, heap->count + 1, sizeof *heap->items))
        return 0;
    int64_t i = heap->count++;
    while (i > 0) {
        const int64_t parent = (i - 1) / 2;
        if (!(heap->items[parent].key < item.key)) break;
        heap->items[i] = heap->items[parent];
        i = parent;
    }
    heap->items[i] = item;
    return 1;
}

static trigger heap_pop(trigger_heap *heap) {
    const trigger top = heap->items[0];
    const trigger last = heap->items[--heap->count];
    int64_t i = 0;
    for (;;) {
        int64_t child = 2 * i + 1;
        if (child >= heap->count) break;
        if (child + 1 < heap->count && heap->items[child + 1].key > heap->items[child].key) child++;
        if (!(heap->items[child].key > last.key)) break;
        heap->items[i] = heap->items[child];
        i = child;
    }
    if (heap->count > 0) heap->items[i] = last;
    return top;
}

/* Drop the stale triggers (of records re-armed or released since) when they outnumber the
 * live ones, so a path's heaps stay proportional to its pending accounts. */
static int compact_heaps(path_pending *pending, int n_lists) {
    int64_t total = 0;
    for (int list = 0; list < n_lists; list++) {
        trigger_heap *heap = &pending->heaps[list];
        const int64_t count = heap->count;
        heap->count = 0;
        for (int64_t i = 0; i < count; i++) {
            const trigger item = heap->items[i];
            if (pending->record_arm[item.record] != item.arm) continue;
            if (!heap_push(heap, item)) return 0; /* in place: never grows */
        }
        total += heap->count;
    }
    pending->n_triggers = total;
    return 1;
}

/* A new record for group account index i (its arm count carries on from the record's last
 * use, so old triggers stay stale). */
static int new_record(path_pending *pending, uint32_t i, uint32_t *record) {
    if (pending->free_records.count > 0) {
        *record = pending->free_records.items[--pending->free_records.count];
    } else {
        if (!grow((void **)&pending->record_item, &pending->record_capacity, pending->n_records + 1,
                  sizeof *pending->record_item))
            return 0;
        int64_t capacity = pending->record_capacity;
        uint32_t *arms = realloc(pending->record_arm, sizeof *arms * (size_t)capacity);
        if (!arms) return 0;
        pending->record_arm = arms;
        uint8_t *triggers = realloc(pending->record_triggers, (size_t)capacity);
        if (!triggers) return 0;
        pending->record_triggers = triggers;
        *record = (uint32_t)pending->n_records++;
        pending->record_arm[*record] = 0;
    }
    pending->record_item[*record] = i;
    pending->record_triggers[*record] = 0;
    return 1;
}

/* Path b's marks and funding indices (0 while the vectors are neutral). */
static void path_marks(const mf_margin_call *base, int b, double *marks, double *funding) {
    const int batch = base->batch;
    const int with_funding = !base->vectors.neutral;
    for (int k = 0; k < base->book->n_assets; k++) {
        marks[k] = base->marks[(int64_t)k * batch + b];
        funding[k] = with_funding ? base->vectors.funding_index[(int64_t)k * batch + b] : 0.0;
    }
}

/* The round's first step on path b: each list's cursor target (events->reached) at the path's
 * marks. The safe prices hold at zero funding: a paying long is seen as if its price were lower,
 * a paying short as if it were higher (mf_events_funding_factor). */
static void advance_cursors(event_group *events, const mf_margin_call *base, int b) {
    const int batch = base->batch;
    double marks[MF_MAX_ASSETS], funding[MF_MAX_ASSETS];
    path_marks(base, b, marks, funding);
    for (int list = 0; list < events->index.n_lists; list++) {
        const int k = list / 2;
        const double signed_mark = list % 2 ? -marks[k] : marks[k];
        double shifted = signed_mark;
        if (list % 2 == 0 && funding[k] > 0)
            shifted = isinf(events->funding_factor[k])
                          ? -INFINITY
                          : signed_mark - funding[k] * events->funding_factor[k];
        if (list % 2 == 1 && funding[k] < 0) shifted = signed_mark + funding[k];
        const int64_t i = (int64_t)list * batch + b;
        events->reached[i] = mf_events_advance(&events->index, list, shifted, events->cursor[i]);
    }
}

/* GCC drops __builtin_prefetch from loops that do nothing else (no effect it can see), so on
 * x86-64 the instruction is written out. */
#if defined(__x86_64__) && defined(__GNUC__)
#define MF_PREFETCH(address) __asm__ volatile("prefetcht0 %0" : : "m"(*(const char *)(address)))
#else
#define MF_PREFETCH(address) __builtin_prefetch(address)
#endif

/* A round's accounts are scattered over a book of up to 10^7 accounts, so each exact check
 * would wait on several cache misses in turn. The round therefore runs in phases over all its
 * paths and groups, and between them touches what the next phase reads (group index, then
 * account, then positions), keeping many misses in flight at once. Hints only: no effect on
 * results. `level` 0 and 1: the passed entries' group index and state byte; 2, 3 and 4: the due
 * accounts' group index, account fields and first positions. */
static void prefetch_round(const event_group *events, const mf_margin_group *group,
                           const mf_margin_call *base, int b, int level) {
    const int batch = base->batch;
    const mf_book_view *book = base->book;
    if (level <= 1) {
        for (int list = 0; list < events->index.n_lists; list++) {
            const int64_t i = (int64_t)list * batch + b;
            for (int64_t j = events->cursor[i]; j < events->reached[i]; j++) {
                const int64_t *slot = &group->accounts[events->index.owner[j]];
                if (level == 0)
                    MF_PREFETCH(slot);
                else
                    MF_PREFETCH(&base->account_state[*slot * batch + b]);
            }
        }
        return;
    }
    const path_pending *pending = &events->pending[b];
    for (int64_t n = 0; n < pending->due.count; n++) {
        const int64_t *slot = &group->accounts[pending->record_item[pending->due.items[n]]];
        if (level == 2) {
            MF_PREFETCH(slot);
            continue;
        }
        const int64_t account = *slot;
        if (level == 3) {
            MF_PREFETCH(&book->account_first[account]);
            MF_PREFETCH(&book->account_positions[account]);
            MF_PREFETCH(&book->account_collateral[account]);
            continue;
        }
        const int64_t first = book->account_first[account];
        MF_PREFETCH(&book->position_asset[first]);
        MF_PREFETCH(&book->position_quantity[first]);
        MF_PREFETCH(&book->position_entry[first]);
        MF_PREFETCH(&book->position_margin[first]);
        MF_PREFETCH(&base->position_state[first * batch + b]);
    }
}

/* Path b's round over one group: the accounts of the entries the cursors passed (advanced by
 * advance_cursors) become pending, and the triggers the marks reached make their records due. */
static void group_collect(event_group *events, const mf_margin_group *group,
                          const mf_margin_call *base, int b, path_result *result) {
    const int batch = base->batch;
    const int n_lists = events->index.n_lists;
    path_pending *pending = &events->pending[b];
    double marks[MF_MAX_ASSETS], funding[MF_MAX_ASSETS];
    path_marks(base, b, marks, funding);
    u32_list *due = &pending->due;
    due->count = 0;
    if (pending->refresh) {
        /* The ranges assumed the old funding index: every armed record is checked again. */
        for (int list = 0; list < n_lists; list++) {
            trigger_heap *heap = &pending->heaps[list];
            for (int64_t n = 0; n < heap->count; n++) {
                const trigger item = heap->items[n];
                if (pending->record_arm[item.record] != item.arm) continue;
                pending->record_arm[item.record]++;
                if (!push_u32(due, item.record)) goto failed;
            }
            heap->count = 0;
        }
        pending->n_triggers = pending->n_live = 0;
        pending->refresh = 0;
    }
    for (int64_t n = 0; n < pending->always.count; n++)
        if (!push_u32(due, pending->always.items[n])) goto failed;
    pending->always.count = 0;
    /* Accounts a mechanism changed (their safe prices assumed the store's positions): a new
     * record each, checked now and armed from the live book. An older record of the same
     * account stays valid; its triggers only cause an extra exact check. */
    if (pending->touch_failed) goto failed;
    for (int64_t n = 0; n < pending->touched.count; n++) {
        const uint32_t i = pending->touched.items[n];
        base->account_state[group->accounts[i] * batch + b] |= MF_ACCOUNT_PENDING;
        uint32_t record;
        if (!new_record(pending, i, &record) || !push_u32(due, record)) goto failed;
    }
    pending->touched.count = 0;
    for (int list = 0; list < n_lists; list++) {
        const int k = list / 2;
        const double signed_mark = list % 2 ? -marks[k] : marks[k];
        int64_t *cursor = &events->cursor[(int64_t)list * batch + b];
        const int64_t reached = events->reached[(int64_t)list * batch + b];
        for (int64_t j = *cursor; j < reached; j++) {
            const uint32_t i = events->index.owner[j];
            uint8_t *state = &base->account_state[group->accounts[i] * batch + b];
            if (*state & MF_ACCOUNT_PENDING) continue;
            *state |= MF_ACCOUNT_PENDING;
            uint32_t record;
            if (!new_record(pending, i, &record) || !push_u32(due, record)) goto failed;
        }
        *cursor = reached;
        trigger_heap *heap = &pending->heaps[list];
        while (heap->count > 0 && heap->items[0].key >= signed_mark) {
            const trigger fired = heap_pop(heap);
            pending->n_triggers--;
            if (pending->record_arm[fired.record] != fired.arm) continue; /* stale */
            pending->record_arm[fired.record]++; /* its other triggers are stale now */
            pending->n_live -= pending->record_triggers[fired.record];
            pending->record_triggers[fired.record] = 0;
            if (!push_u32(due, fired.record)) goto failed;
        }
    }
    return;
failed:
    result->failed = 1;
}

/* Then every due account is checked exactly, and released (liquidated), armed again with new
 * ranges (mf_events_rearm), or kept on the every-round list (no provable range). */
static void group_check(event_group *events, const mf_margin_group *group,
                        const mf_margin_call *base, int b, path_result *result) {
    const int batch = base->batch;
    const int n_assets = base->book->n_assets;
    const int n_lists = events->index.n_lists;
    path_pending *pending = &events->pending[b];
    const u32_list *due = &pending->due;
    double marks[MF_MAX_ASSETS], funding[MF_MAX_ASSETS];
    path_marks(base, b, marks, funding);
    const int with_funding = !base->vectors.neutral;
    uint8_t one_path[MF_KERNEL_MAX_BATCH] = {0};
    one_path[b] = 1;
    mf_margin_call call = *base;
    call.accounts = group->accounts;
    call.active = one_path;
    call.one_path = b + 1;
    call.prepared = NULL;
    double low[MF_MAX_ASSETS], high[MF_MAX_ASSETS];
    for (int64_t n = 0; n < due->count; n++) {
        const uint32_t record = due->items[n];
        const uint32_t i = pending->record_item[record];
        const int64_t account = group->accounts[i];
        call.begin = i;
        call.end = (int64_t)i + 1;
        const int64_t flags = group->model->check(&call);
        result->checked++;
        if (flags > 0) {
            result->flags += flags;
            if (!grow((void **)&result->accounts, &result->capacity, result->count + 1,
                      sizeof *result->accounts))
                goto failed;
            result->accounts[result->count++] = account;
        }
        if (account_done(base, account, b)) {
            pending->record_arm[record]++;
            if (!push_u32(&pending->free_records, record)) goto failed;
            continue;
        }
        mf_events_rearm(base->book, base->tiers, group->model->mode, account, marks,
                        with_funding ? funding : NULL, base->live, base->position_state, batch, b,
                        low, high);
        if (low[0] == INFINITY) {
            if (!push_u32(&pending->always, record)) goto failed;
            continue;
        }
        const uint32_t arm = pending->record_arm[record];
        uint8_t pushed = 0;
        for (int k = 0; k < n_assets; k++) {
            if (low[k] != -INFINITY) {
                if (!heap_push(&pending->heaps[2 * k], (trigger){low[k], record, arm})) goto failed;
                pushed++;
            }
            if (high[k] != INFINITY) {
                if (!heap_push(&pending->heaps[2 * k + 1], (trigger){-high[k], record, arm}))
                    goto failed;
                pushed++;
            }
        }
        pending->record_triggers[record] = pushed;
        pending->n_triggers += pushed;
        pending->n_live += pushed;
    }
    if (pending->n_triggers > 2 * pending->n_live + 4096 && !compact_heaps(pending, n_lists))
        goto failed;
    return;
failed:
    result->failed = 1;
}

void mf_event_checks_touch(mf_event_checks *checks, const mf_venue *venue, int64_t account, int b) {
    if (!checks) return;
    const int mode = venue->book.account_mode[account];
    for (int g = 0; g < checks->n_groups; g++) {
        event_group *events = &checks->groups[g];
        const mf_margin_group *group = &venue->groups[events->group];
        if ((int)group->model->mode != mode) continue;
        /* A group's accounts are in id order: find the account's index by bisection. */
        int64_t lo = 0, hi = group->n_accounts;
        while (lo < hi) {
            const int64_t mid = lo + (hi - lo) / 2;
            if (group->accounts[mid] < account)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == group->n_accounts || group->accounts[lo] != account) return;
        path_pending *pending = &events->pending[b];
        if (!push_u32(&pending->touched, (uint32_t)lo)) pending->touch_failed = 1;
        return;
    }
}

int64_t mf_event_checks_round(mf_event_checks *checks, const mf_venue *venue,
                              const mf_margin_call *base, int n_paths, int parallel,
                              int64_t **accounts, int64_t *n_accounts, int64_t *capacity) {
    /* Phases over every path and group (see prefetch_round); a path's phases run in order on
     * one thread, so the flags are the same however the paths are spread. */
#pragma omp parallel if (parallel)
    {
#pragma omp for schedule(static)
        for (int b = 0; b < n_paths; b++) {
            path_result *result = &checks->paths[b];
            result->count = result->flags = result->checked = 0;
            result->failed = 0;
            if (!base->active[b]) continue;
            for (int i = 0; i < checks->n_groups; i++)
                advance_cursors(&checks->groups[i], base, b);
            for (int level = 0; level <= 1; level++)
                for (int i = 0; i < checks->n_groups; i++)
                    prefetch_round(&checks->groups[i], &venue->groups[checks->groups[i].group],
                                   base, b, level);
            for (int i = 0; i < checks->n_groups && !result->failed; i++)
                group_collect(&checks->groups[i], &venue->groups[checks->groups[i].group], base, b,
                              result);
        }
        for (int level = 2; level <= 4; level++) {
#pragma omp for schedule(static)
            for (int b = 0; b < n_paths; b++)
                if (base->active[b] && !checks->paths[b].failed)
                    for (int i = 0; i < checks->n_groups; i++)
                        prefetch_round(&checks->groups[i], &venue->groups[checks->groups[i].group],
                                       base, b, level);
        }
#pragma omp for schedule(static)
        for (int b = 0; b < n_paths; b++) {
            path_result *result = &checks->paths[b];
            if (!base->active[b]) continue;
            for (int i = 0; i < checks->n_groups && !result->failed; i++)
                group_check(&checks->groups[i], &venue->groups[checks->groups[i].group], base, b,
                            result);
        }
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
        memcpy(*accounts + *n_accounts, result->accounts,
               sizeof **accounts * (size_t)result->count);
        *n_accounts += result->count;
    }
    return flags;
}
