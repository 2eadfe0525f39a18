#include "traces.h"

#include <stdlib.h>
#include <string.h>

#include "block_result.h"

typedef struct {
    int64_t path;
    double liquidated;
} ranked_path;

/* Largest liquidated notional first; equal ones by path index, so the choice is one set of
 * paths whatever the rank count. */
static int compare_worst(const void *a, const void *b) {
    const ranked_path *x = a, *y = b;
    if (x->liquidated != y->liquidated) return x->liquidated > y->liquidated ? -1 : 1;
    return (x->path > y->path) - (x->path < y->path);
}

static int compare_path(const void *a, const void *b) {
    const mf_path_trace *x = a, *y = b;
    return (x->path > y->path) - (x->path < y->path);
}

/* The traced paths of a point, in path order: output.traces, then the worst k not already
 * listed. */
static mf_status select_paths(const mf_config *config, const mf_point_result *result,
                              mf_path_trace **traces_out, int *n_out) {
    const mf_output_config *output = &config->output;
    const int64_t n_paths = result->n_paths;
    const int worst = (int)(output->traces_worst < n_paths ? output->traces_worst : n_paths);
    mf_path_trace *traces = NULL;
    MF_ALLOC(traces, output->n_traces + worst);
    int n = 0;
    for (int i = 0; i < output->n_traces; i++) {
        traces[n].path = output->traces[i];
        traces[n].requested = 1;
        n++;
    }
    if (worst > 0) {
        const double *liquidated = result->metrics[MF_METRIC_LIQUIDATED_NOTIONAL].path_values;
        if (!liquidated) {
            free(traces);
            return MF_FAIL(MF_ERR_INTERNAL, "output.traces_worst without path values");
        }
        ranked_path *ranked = NULL;
        if (!(ranked = malloc((size_t)n_paths * sizeof *ranked))) {
            free(traces);
            return MF_FAIL(MF_ERR_MEMORY, "out of memory ranking %lld paths for their traces",
                           (long long)n_paths);
        }
        for (int64_t p = 0; p < n_paths; p++)
            ranked[p] = (ranked_path){p, liquidated[p]};
        qsort(ranked, (size_t)n_paths, sizeof *ranked, compare_worst);
        for (int r = 0; r < worst; r++) {
            int listed = -1;
            for (int i = 0; i < output->n_traces; i++)
                if (traces[i].path == ranked[r].path) listed = i;
            if (listed >= 0) {
                traces[listed].worst_rank = r + 1;
            } else {
                traces[n].path = ranked[r].path;
                traces[n].worst_rank = r + 1;
                n++;
            }
        }
        free(ranked);
    }
    qsort(traces, (size_t)n, sizeof *traces, compare_path);
    *traces_out = traces;
    *n_out = n;
    return MF_OK;
}

static mf_status allocate_trace(mf_path_trace *trace, int32_t steps, int n_assets, double dt) {
    trace->n_steps = steps;
    trace->n_assets = n_assets;
    trace->dt_seconds = dt;
    const int64_t prices = (int64_t)(steps + 1) * n_assets;
    MF_ALLOC(trace->index, prices);
    MF_ALLOC(trace->mark, prices);
    MF_ALLOC(trace->liquidated_long, steps);
    MF_ALLOC(trace->liquidated_short, steps);
    MF_ALLOC(trace->liquidated_accounts, steps);
    MF_ALLOC(trace->backlog, steps);
    MF_ALLOC(trace->fund, steps);
    MF_ALLOC(trace->rounds, steps);
    return MF_OK;
}

/* The re-simulated path must be the one the statistics counted: its figures are compared bit
 * for bit with the reduced ones (path values, or the per-path table when kept). */
static mf_status check_same_path(const mf_point_result *result, const mf_path_row *row) {
    const int64_t p = row->path_index;
    static const mf_metric_id checked[] = {MF_METRIC_LIQUIDATED_NOTIONAL, MF_METRIC_BAD_DEBT,
                                           MF_METRIC_FUND_MIN};
    const double mine[] = {row->liquidated_notional, row->bad_debt, row->fund_min};
    for (size_t i = 0; i < sizeof checked / sizeof checked[0]; i++) {
        const double *values = result->metrics[checked[i]].path_values;
        const double *reduced = values ? &values[p] : NULL;
        if (!reduced && result->paths) {
            const mf_path_row *kept = &result->paths[p];
            reduced = i == 0   ? &kept->liquidated_notional
                      : i == 1 ? &kept->bad_debt
                               : &kept->fund_min;
        }
        if (reduced && memcmp(reduced, &mine[i], sizeof mine[i]) != 0)
            return MF_FAIL(MF_ERR_INTERNAL,
                           "point %d, path %lld: the traced path's %s is %.17g, the reduced one "
                           "%.17g: a path must not depend on where it is simulated (a bug)",
                           result->point_index, (long long)p, mf_metric_describe(checked[i])->name,
                           mine[i], *reduced);
    }
    return MF_OK;
}

static mf_status trace_one(const mf_model *model, mf_workspace *workspace,
                           const mf_point_result *result, mf_path_trace *out) {
    const int32_t steps = model->config->run.steps;
    MF_CHECK(
        allocate_trace(out, steps, model->config->market.n_assets, model->config->run.dt_seconds));
    double *notional = NULL;
    MF_ALLOC(notional, steps);
    mf_trace trace = {.path = out->path,
                      .mark = out->mark,
                      .index = out->index,
                      .liquidated_notional = notional,
                      .liquidated_long = out->liquidated_long,
                      .liquidated_short = out->liquidated_short,
                      .accounts = out->liquidated_accounts,
                      .backlog = out->backlog,
                      .fund = out->fund,
                      .rounds = out->rounds};
    mf_workspace_set_trace(workspace, &trace);
    mf_block_result block;
    mf_status status = mf_block_result_init(&block, steps, out->path, 1);
    if (status == MF_OK) status = mf_simulate_block(model, workspace, &block);
    if (status == MF_OK) status = check_same_path(result, &block.rows[0]);
    mf_workspace_set_trace(workspace, NULL);
    mf_block_result_free(&block);
    free(notional);
    return status;
}

mf_status mf_trace_select(const mf_config *config, const mf_point_result *result,
                          mf_path_trace **traces, int *n) {
    *traces = NULL;
    *n = 0;
    if (config->output.n_traces == 0 && config->output.traces_worst == 0) return MF_OK;
    return select_paths(config, result, traces, n);
}

/* The re-simulated path against the row of the block that holds it, on the rank that
 * computed it: every column, ledger included, bit for bit. */
static mf_status check_same_row(const mf_block_result *block, const mf_block_result *again) {
    const int64_t j = again->first_path - block->first_path;
    for (int c = 0; c < mf_path_column_count(); c++) {
        const mf_path_column *column = mf_path_column_describe(c);
        const void *kept = mf_path_column_value(column, &block->rows[j], &block->ledgers[j]);
        const void *mine = mf_path_column_value(column, &again->rows[0], &again->ledgers[0]);
        if (memcmp(kept, mine, mf_path_column_size(column)) != 0)
            return MF_FAIL(MF_ERR_INTERNAL,
                           "path %lld: the traced path's %s differs from the one the statistics "
                           "counted: a path must not depend on where it is simulated (a bug)",
                           (long long)again->first_path, column->name);
    }
    return MF_OK;
}

mf_status mf_trace_owned(const mf_model *model, const mf_block_result *const *blocks,
                         int64_t n_blocks, mf_path_trace *traces, int n) {
    const mf_config *config = model->config;
    const int32_t steps = config->run.steps;
    mf_workspace *workspace = NULL;
    mf_status status = MF_OK;
    for (int i = 0; i < n && status == MF_OK; i++) {
        const mf_block_result *holder = NULL;
        for (int64_t b = 0; b < n_blocks && !holder; b++)
            if (traces[i].path >= blocks[b]->first_path &&
                traces[i].path < blocks[b]->first_path + blocks[b]->n_paths)
                holder = blocks[b];
        if (!holder) continue; /* another rank's */
        if (!workspace) status = mf_workspace_create(&workspace, model);
        if (status == MF_OK)
            status =
                allocate_trace(&traces[i], steps, config->market.n_assets, config->run.dt_seconds);
        double *notional = NULL;
        if (status == MF_OK && !(notional = malloc((size_t)(steps ? steps : 1) * sizeof *notional)))
            status = MF_FAIL(MF_ERR_MEMORY, "out of memory tracing a path");
        if (status != MF_OK) break;
        mf_trace trace = {.path = traces[i].path,
                          .mark = traces[i].mark,
                          .index = traces[i].index,
                          .liquidated_notional = notional,
                          .liquidated_long = traces[i].liquidated_long,
                          .liquidated_short = traces[i].liquidated_short,
                          .accounts = traces[i].liquidated_accounts,
                          .backlog = traces[i].backlog,
                          .fund = traces[i].fund,
                          .rounds = traces[i].rounds};
        mf_workspace_set_trace(workspace, &trace);
        mf_block_result block;
        status = mf_block_result_init(&block, steps, traces[i].path, 1);
        if (status == MF_OK) status = mf_simulate_block(model, workspace, &block);
        if (status == MF_OK) status = check_same_row(holder, &block);
        mf_workspace_set_trace(workspace, NULL);
        mf_block_result_free(&block);
        free(notional);
    }
    mf_workspace_free(workspace);
    return status;
}

mf_status mf_trace_point(const mf_model *model, mf_point_result *result) {
    const mf_config *config = model->config;
    if (config->output.n_traces == 0 && config->output.traces_worst == 0) return MF_OK;
    mf_path_trace *traces = NULL;
    int n = 0;
    MF_CHECK(select_paths(config, result, &traces, &n));
    mf_workspace *workspace = NULL;
    mf_status status = mf_workspace_create(&workspace, model);
    for (int i = 0; i < n && status == MF_OK; i++)
        status = trace_one(model, workspace, result, &traces[i]);
    mf_workspace_free(workspace);
    if (status != MF_OK) {
        for (int i = 0; i < n; i++)
            mf_path_trace_free(&traces[i]);
        free(traces);
        return status;
    }
    result->traces = traces;
    result->n_traces = n;
    return MF_OK;
}
