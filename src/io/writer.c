/* The HDF5 result file's writer (rank 0, serial HDF5): docs/output.md describes every group,
 * dataset and attribute written here. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>
#include <hdf5_hl.h>

#include "config.h"

#include "h5_util.h"
#include "mf_version.h"
#include "output.h"

static mf_status check_point(const mf_point_result *point, int index) {
    if (point->n_paths < 0 || point->n_steps < 0)
        return MF_FAIL(MF_ERR_INTERNAL, "point %d: negative paths or steps", index);
    if (point->n_steps > 0 && (!point->profile_liquidated_notional ||
                               !point->profile_liquidated_accounts || !point->profile_fund))
        return MF_FAIL(MF_ERR_INTERNAL, "point %d: profile arrays missing", index);
    for (int m = 0; m < MF_METRIC_COUNT; m++) {
        const mf_metric_result *metric = &point->metrics[m];
        if (metric->n_bins < 1 || !metric->edges || !metric->counts)
            return MF_FAIL(MF_ERR_INTERNAL, "point %d: metric %s has no histogram", index,
                           mf_metric_describe((mf_metric_id)m)->name);
        if (metric->n_quantiles < 1 || metric->n_quantiles > MF_MAX_QUANTILES)
            return MF_FAIL(MF_ERR_INTERNAL, "point %d: metric %s has %d quantile levels", index,
                           mf_metric_describe((mf_metric_id)m)->name, metric->n_quantiles);
    }
    return MF_OK;
}

static mf_status write_metric(const h5_writer *w, hid_t metrics, mf_metric_id id,
                              const mf_metric_result *metric) {
    const mf_metric_info *describe = mf_metric_describe(id);
    hid_t group;
    MF_CHECK(h5_create_group(w, metrics, describe->name, &group));
    hsize_t n = (hsize_t)metric->n_bins;
    double *centers = malloc(n * sizeof *centers);
    mf_status status = centers ? MF_OK : MF_FAIL(MF_ERR_MEMORY, "out of memory for bin centres");
    if (status == MF_OK)
        for (hsize_t i = 0; i < n; i++)
            centers[i] = sqrt(metric->edges[i] * metric->edges[i + 1]);

    if (status == MF_OK) status = h5_attr_string(w, group, "unit", describe->unit);
    if (status == MF_OK) status = h5_attr_string(w, group, "description", describe->description);
    if (status == MF_OK)
        status = h5_attr_string(w, group, "per", describe->per_cascade ? "cascade" : "path");
    if (status == MF_OK) status = h5_scalar_i64(w, group, "sample_count", metric->count);
    if (status == MF_OK) status = h5_scalar_f64(w, group, "sample_mean", metric->mean);
    if (status == MF_OK) status = h5_scalar_f64(w, group, "sample_m2", metric->m2);
    if (status == MF_OK) status = h5_scalar_f64(w, group, "sample_min", metric->min);
    if (status == MF_OK) status = h5_scalar_f64(w, group, "sample_max", metric->max);
    if (status == MF_OK) status = h5_array_f64(w, group, "bin_edges", n + 1, metric->edges);
    if (status == MF_OK) status = h5_array_f64(w, group, "bin_center", n, centers);
    if (status == MF_OK) status = h5_array_f64(w, group, "bin_lower", n, metric->edges);
    if (status == MF_OK) status = h5_array_f64(w, group, "bin_upper", n, metric->edges + 1);
    if (status == MF_OK)
        status = h5_write_dataset(w, group, "counts", H5T_NATIVE_INT64, H5T_STD_I64LE, 1, n,
                                  metric->counts, 0);
    if (status == MF_OK) status = h5_scalar_i64(w, group, "underflow", metric->underflow);
    if (status == MF_OK) status = h5_scalar_i64(w, group, "overflow", metric->overflow);
    const hsize_t n_levels = (hsize_t)metric->n_quantiles;
    if (status == MF_OK)
        status = h5_scalar_f64(w, group, "mean_standard_error", metric->mean_standard_error);
    if (status == MF_OK)
        status = h5_array_f64(w, group, "quantile_levels", n_levels, metric->levels);
    if (status == MF_OK) status = h5_array_f64(w, group, "quantiles", n_levels, metric->quantiles);
    if (status == MF_OK)
        status = h5_array_f64(w, group, "quantile_ci_low", n_levels, metric->quantile_ci_low);
    if (status == MF_OK)
        status = h5_array_f64(w, group, "quantile_ci_high", n_levels, metric->quantile_ci_high);
    if (status == MF_OK)
        status = h5_array_f64(w, group, "expected_shortfall", n_levels, metric->expected_shortfall);
    if (status == MF_OK)
        status = h5_array_f64(w, group, "expected_shortfall_standard_error", n_levels,
                              metric->expected_shortfall_standard_error);
    if (status == MF_OK)
        status = h5_write_dataset(w, group, "tail_samples", H5T_NATIVE_INT64, H5T_STD_I64LE, 1,
                                  n_levels, metric->tail_samples, 0);
    static const char *const counts_only[] = {"counts", "bin_lower", "bin_upper"};
    static const char *const quantile_arrays[] = {"quantiles",
                                                  "quantile_ci_low",
                                                  "quantile_ci_high",
                                                  "expected_shortfall",
                                                  "expected_shortfall_standard_error",
                                                  "tail_samples"};
    if (status == MF_OK)
        status = h5_attach_scale(w, group, "bin_center", "bin_center", counts_only, 3);
    if (status == MF_OK) status = h5_attach_scale(w, group, "bin_edges", "edge", NULL, 0);
    if (status == MF_OK)
        status = h5_attach_scale(w, group, "quantile_levels", "quantile", quantile_arrays, 6);
    free(centers);
    H5Gclose(group);
    if (status != MF_OK) mf_error_push_frame(__FILE__, __LINE__, __func__);
    return status;
}

static mf_status write_profile(const h5_writer *w, hid_t point_group,
                               const mf_point_result *point) {
    hid_t group;
    MF_CHECK(h5_create_group(w, point_group, "profile", &group));
    hsize_t n = (hsize_t)point->n_steps;
    int32_t *steps = malloc((n ? n : 1) * sizeof *steps);
    mf_status status = steps ? MF_OK : MF_FAIL(MF_ERR_MEMORY, "out of memory for step indices");
    if (status == MF_OK) {
        for (hsize_t i = 0; i < n; i++)
            steps[i] = (int32_t)i;
        status =
            h5_write_dataset(w, group, "step", H5T_NATIVE_INT32, H5T_STD_I32LE, 1, n, steps, 0);
    }
    /* The time at the end of each step: a CF coordinate of the profiles (format 2.0). */
    double *time = malloc((n ? n : 1) * sizeof *time);
    if (status == MF_OK && !time) status = MF_FAIL(MF_ERR_MEMORY, "out of memory for step times");
    if (status == MF_OK) {
        for (hsize_t i = 0; i < n; i++)
            time[i] = (double)(i + 1) * point->dt_seconds;
        status = h5_array_f64(w, group, "time", n, time);
    }
    free(time);
    if (status == MF_OK) status = h5_set_unit(w, group, "time", "s");
    if (status == MF_OK)
        status =
            h5_array_f64(w, group, "liquidated_notional", n, point->profile_liquidated_notional);
    if (status == MF_OK)
        status =
            h5_array_f64(w, group, "liquidated_accounts", n, point->profile_liquidated_accounts);
    if (status == MF_OK) status = h5_array_f64(w, group, "fund", n, point->profile_fund);
    if (status == MF_OK) status = h5_set_unit(w, group, "step", "steps");
    if (status == MF_OK) status = h5_set_unit(w, group, "liquidated_notional", "USD");
    if (status == MF_OK) status = h5_set_unit(w, group, "liquidated_accounts", "accounts");
    if (status == MF_OK) status = h5_set_unit(w, group, "fund", "USD");
    static const char *const profiles[] = {"liquidated_notional", "liquidated_accounts", "fund",
                                           "time"};
    if (status == MF_OK) status = h5_attach_scale(w, group, "step", "step", profiles, 4);
    for (int i = 0; i < 3 && status == MF_OK; i++) {
        hid_t series = H5Dopen2(group, profiles[i], H5P_DEFAULT);
        status = series >= 0 ? h5_attr_string(w, series, "coordinates", "time")
                             : h5_write_failed(w, group, profiles[i], "coordinates of");
        if (series >= 0) H5Dclose(series);
    }
    free(steps);
    H5Gclose(group);
    if (status != MF_OK) mf_error_push_frame(__FILE__, __LINE__, __func__);
    return status;
}

/* The columns come from the per-path column table (mf_path_column_describe); the ledger's
 * are written when the point carries its ledgers, a per-asset column when the run has that
 * asset (with an attribute `asset` naming it). */
static mf_status write_paths(const h5_writer *w, hid_t point_group, const mf_point_result *point,
                             int n_assets, const char *const *asset_names) {
    hid_t group;
    MF_CHECK(h5_create_group(w, point_group, "paths", &group));
    size_t n = (size_t)point->n_paths;
    unsigned char *column = malloc((n ? n : 1) * 8);
    mf_status status = column ? MF_OK : MF_FAIL(MF_ERR_MEMORY, "out of memory for a path column");
    int compress = point->n_paths > MF_H5_COMPRESS_THRESHOLD;
    const int n_columns = mf_path_column_count();
    const char **others = calloc((size_t)n_columns, sizeof *others);
    if (status == MF_OK && !others) status = MF_FAIL(MF_ERR_MEMORY, "out of memory");
    int n_others = 0;
    /* Rows kept elsewhere (collective writing): every column created, none written here. */
    const int rows_here = point->paths != NULL;
    for (int c = 0; c < n_columns && status == MF_OK; c++) {
        const mf_path_column *col = mf_path_column_describe(c);
        if (!mf_path_column_written(col, rows_here ? point->ledgers != NULL : 1, n_assets))
            continue;
        const size_t size = mf_path_column_size(col);
        for (size_t r = 0; r < n && rows_here; r++)
            memcpy(column + r * size,
                   mf_path_column_value(col, &point->paths[r],
                                        point->ledgers ? &point->ledgers[r] : NULL),
                   size);
        hid_t mem = col->type == MF_COLUMN_F64   ? H5T_NATIVE_DOUBLE
                    : col->type == MF_COLUMN_I64 ? H5T_NATIVE_INT64
                                                 : H5T_NATIVE_INT32;
        hid_t file = col->type == MF_COLUMN_F64   ? H5T_IEEE_F64LE
                     : col->type == MF_COLUMN_I64 ? H5T_STD_I64LE
                                                  : H5T_STD_I32LE;
        status = h5_write_dataset(w, group, col->name, mem, file, 1, n, rows_here ? column : NULL,
                                  compress);
        if (status == MF_OK) status = h5_set_unit(w, group, col->name, col->unit);
        if (status == MF_OK && col->asset > 0) {
            hid_t dataset = H5Dopen2(group, col->name, H5P_DEFAULT);
            status = dataset >= 0 ? h5_attr_string(w, dataset, "asset", asset_names[col->asset - 1])
                                  : h5_write_failed(w, group, col->name, "open");
            if (dataset >= 0) H5Dclose(dataset);
        }
        if (c > 0) others[n_others++] = col->name;
    }
    if (status == MF_OK)
        status = h5_attach_scale(w, group, "path_index", "path_index", others, n_others);
    free(others);
    free(column);
    H5Gclose(group);
    if (status != MF_OK) mf_error_push_frame(__FILE__, __LINE__, __func__);
    return status;
}

/* /point_<i>/path_values: each per-path metric's samples in path order over a `path_index`
 * scale (so xarray opens the group as one dataset), for paired errors between sweep points. */
static mf_status write_path_values(const h5_writer *w, hid_t point_group,
                                   const mf_point_result *point) {
    hid_t group;
    MF_CHECK(h5_create_group(w, point_group, "path_values", &group));
    const hsize_t n = (hsize_t)point->n_paths;
    const int compress = point->n_paths > MF_H5_COMPRESS_THRESHOLD;
    int64_t *index = malloc((n ? n : 1) * sizeof *index);
    mf_status status = index ? MF_OK : MF_FAIL(MF_ERR_MEMORY, "out of memory for path indices");
    for (hsize_t i = 0; index && i < n; i++)
        index[i] = (int64_t)i;
    if (status == MF_OK)
        status = h5_write_dataset(w, group, "path_index", H5T_NATIVE_INT64, H5T_STD_I64LE, 1, n,
                                  index, compress);
    const char *names[MF_METRIC_COUNT];
    int n_names = 0;
    for (int m = 0; m < MF_METRIC_COUNT && status == MF_OK; m++) {
        const mf_metric_result *metric = &point->metrics[m];
        if (!metric->path_values) continue;
        const mf_metric_info *describe = mf_metric_describe((mf_metric_id)m);
        if (metric->count != point->n_paths)
            status = MF_FAIL(MF_ERR_INTERNAL, "point %d: %s has %lld path values for %lld paths",
                             point->point_index, describe->name, (long long)metric->count,
                             (long long)point->n_paths);
        if (status == MF_OK)
            status = h5_write_dataset(w, group, describe->name, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE,
                                      1, n, metric->path_values, compress);
        if (status == MF_OK) status = h5_set_unit(w, group, describe->name, describe->unit);
        names[n_names++] = describe->name;
    }
    if (status == MF_OK)
        status = h5_attach_scale(w, group, "path_index", "path_index", names, n_names);
    free(index);
    H5Gclose(group);
    if (status != MF_OK) mf_error_push_frame(__FILE__, __LINE__, __func__);
    return status;
}

/* "key=value, key=value" for point `point` of the sweep ("" without a sweep). */
#define MF_TRACE_NAME_LEN 64 /* "index_" or "mark_" and an asset name */

/* One traced path: /point_<i>/traces/path_<p>, 1-D series over two time axes so that xarray
 * opens the group as one dataset: `time` (S + 1 instants: the start and the end of every step,
 * for prices) and `step_end` (S: the end of each step, for what happened during the step). */
static mf_status write_trace(const h5_writer *w, hid_t traces, const mf_path_trace *trace,
                             const char *const *asset_names) {
    char name[48];
    snprintf(name, sizeof name, "path_%lld", (long long)trace->path);
    hid_t group;
    MF_CHECK(h5_create_group(w, traces, name, &group));
    const hsize_t steps = (hsize_t)trace->n_steps;
    const int n_assets = trace->n_assets;
    double *series = malloc((steps + 1) * sizeof *series);
    mf_status status = series ? MF_OK : MF_FAIL(MF_ERR_MEMORY, "out of memory writing a trace");
    if (status == MF_OK) status = h5_attr_int64(w, group, "path_index", trace->path);
    if (status == MF_OK) status = h5_attr_int32(w, group, "worst_rank", trace->worst_rank);
    if (status == MF_OK) status = h5_attr_int32(w, group, "requested", trace->requested);
    if (status == MF_OK) {
        for (hsize_t t = 0; t <= steps; t++)
            series[t] = (double)t * trace->dt_seconds;
        status = h5_array_f64(w, group, "time", steps + 1, series);
    }
    if (status == MF_OK) {
        for (hsize_t t = 0; t < steps; t++)
            series[t] = (double)(t + 1) * trace->dt_seconds;
        status = h5_array_f64(w, group, "step_end", steps, series);
    }
    if (status == MF_OK) status = h5_set_unit(w, group, "time", "s");
    if (status == MF_OK) status = h5_set_unit(w, group, "step_end", "s");
    char(*price_names)[MF_TRACE_NAME_LEN] = calloc((size_t)(2 * n_assets), sizeof *price_names);
    const char **price_targets = calloc((size_t)(2 * n_assets), sizeof *price_targets);
    if (status == MF_OK && (!price_names || !price_targets))
        status = MF_FAIL(MF_ERR_MEMORY, "out of memory writing a trace");
    for (int k = 0; k < n_assets && status == MF_OK; k++)
        for (int kind = 0; kind < 2 && status == MF_OK; kind++) {
            const double *prices = kind == 0 ? trace->index : trace->mark;
            char *dataset = price_names[2 * k + kind];
            snprintf(dataset, MF_TRACE_NAME_LEN, "%s_%s", kind == 0 ? "index" : "mark",
                     asset_names[k]);
            price_targets[2 * k + kind] = dataset;
            for (hsize_t t = 0; t <= steps && prices; t++)
                series[t] = prices[t * (hsize_t)n_assets + (hsize_t)k];
            status = h5_array_f64(w, group, dataset, steps + 1, prices ? series : NULL);
            if (status == MF_OK) status = h5_set_unit(w, group, dataset, "USD");
        }
    static const char *const flows[] = {
        "liquidated_long", "liquidated_short", "liquidated_accounts", "backlog", "fund", "rounds"};
    const double *flow_values[] = {trace->liquidated_long, trace->liquidated_short,
                                   trace->liquidated_accounts, trace->backlog, trace->fund};
    static const char *const flow_units[] = {"USD", "USD", "accounts", "USD", "USD", "rounds"};
    for (int f = 0; f < 5 && status == MF_OK; f++) {
        status = h5_array_f64(w, group, flows[f], steps, flow_values[f]);
        if (status == MF_OK) status = h5_set_unit(w, group, flows[f], flow_units[f]);
    }
    if (status == MF_OK) /* NULL series (the ranks write them): created only */
        status = h5_write_dataset(w, group, "rounds", H5T_NATIVE_INT32, H5T_STD_I32LE, 1, steps,
                                  trace->rounds, 0);
    if (status == MF_OK) status = h5_set_unit(w, group, "rounds", flow_units[5]);
    if (status == MF_OK)
        status = h5_attach_scale(w, group, "time", "time", price_targets, 2 * n_assets);
    if (status == MF_OK) status = h5_attach_scale(w, group, "step_end", "step_end", flows, 6);
    free(price_names);
    free(price_targets);
    free(series);
    H5Gclose(group);
    if (status != MF_OK) mf_error_push_frame(__FILE__, __LINE__, __func__);
    return status;
}

static mf_status write_traces(const h5_writer *w, hid_t point_group, const mf_point_result *point,
                              const char *const *asset_names) {
    hid_t group;
    MF_CHECK(h5_create_group(w, point_group, "traces", &group));
    mf_status status = MF_OK;
    for (int i = 0; i < point->n_traces && status == MF_OK; i++)
        status = write_trace(w, group, &point->traces[i], asset_names);
    H5Gclose(group);
    return status;
}

static void point_label(const mf_sweep_table *sweep, int64_t point, char *label, size_t size) {
    label[0] = '\0';
    if (!sweep || sweep->n_params == 0) return;
    size_t used = 0;
    for (int p = 0; p < sweep->n_params && used < size; p++)
        used += (size_t)snprintf(label + used, size - used, "%s%s=%s", p ? ", " : "",
                                 sweep->keys[p], sweep->texts[point * sweep->n_params + p]);
}

static mf_status write_point(const h5_writer *w, hid_t file, const mf_sweep_table *sweep,
                             const mf_point_result *point, int n_assets,
                             const char *const *asset_names) {
    char name[48];
    snprintf(name, sizeof name, "point_%d", point->point_index);
    hid_t group;
    MF_CHECK(h5_create_group(w, file, name, &group));
    hid_t metrics = H5I_INVALID_HID;
    mf_status status = h5_attr_int32(w, group, "point_index", point->point_index);
    char digest[MF_DIGEST_TEXT_LEN];
    mf_digest_format(mf_point_result_digest(point), digest);
    if (status == MF_OK) status = h5_attr_string(w, group, "verification_digest", digest);
    if (status == MF_OK && sweep && sweep->n_params > 0) {
        /* The point's parameters as attributes: key = value (number, or text). */
        char label[2048];
        point_label(sweep, point->point_index, label, sizeof label);
        status = h5_attr_string(w, group, "label", label);
        for (int p = 0; p < sweep->n_params && status == MF_OK; p++) {
            const int64_t at = (int64_t)point->point_index * sweep->n_params + p;
            status = isnan(sweep->values[at])
                         ? h5_attr_string(w, group, sweep->keys[p], sweep->texts[at])
                         : h5_attr_double(w, group, sweep->keys[p], sweep->values[at]);
        }
    }
    if (status == MF_OK) status = h5_scalar_f64(w, group, "prob_bad_debt", point->prob_bad_debt);
    if (status == MF_OK)
        status = h5_scalar_f64(w, group, "prob_fund_shortfall", point->prob_fund_shortfall);
    /* Their standard errors and 95% Wilson intervals. */
    if (status == MF_OK)
        status = h5_scalar_f64(w, group, "prob_bad_debt_standard_error",
                               point->prob_bad_debt_standard_error);
    if (status == MF_OK)
        status = h5_scalar_f64(w, group, "prob_bad_debt_ci_low", point->prob_bad_debt_ci[0]);
    if (status == MF_OK)
        status = h5_scalar_f64(w, group, "prob_bad_debt_ci_high", point->prob_bad_debt_ci[1]);
    if (status == MF_OK)
        status = h5_scalar_f64(w, group, "prob_fund_shortfall_standard_error",
                               point->prob_fund_shortfall_standard_error);
    if (status == MF_OK)
        status =
            h5_scalar_f64(w, group, "prob_fund_shortfall_ci_low", point->prob_fund_shortfall_ci[0]);
    if (status == MF_OK)
        status = h5_scalar_f64(w, group, "prob_fund_shortfall_ci_high",
                               point->prob_fund_shortfall_ci[1]);
    if (status == MF_OK) status = h5_scalar_i64(w, group, "n_paths", point->n_paths);
    if (status == MF_OK) status = h5_create_group(w, group, "metrics", &metrics);
    for (int m = 0; m < MF_METRIC_COUNT && status == MF_OK; m++)
        status = write_metric(w, metrics, (mf_metric_id)m, &point->metrics[m]);
    if (status == MF_OK) status = write_profile(w, group, point);
    if (status == MF_OK && (point->paths || point->paths_elsewhere))
        status = write_paths(w, group, point, n_assets, asset_names);
    int has_path_values = 0;
    for (int m = 0; m < MF_METRIC_COUNT; m++)
        has_path_values |= point->metrics[m].path_values != NULL;
    if (status == MF_OK && has_path_values) status = write_path_values(w, group, point);
    if (status == MF_OK && point->n_traces > 0) status = write_traces(w, group, point, asset_names);
    if (metrics >= 0) H5Gclose(metrics);
    H5Gclose(group);
    if (status != MF_OK) mf_error_push_frame(__FILE__, __LINE__, __func__);
    return status;
}

/* /sweep: one dataset per swept key over the `point` dimension (numbers, or texts when a
 * value is not a number) and `label`, for every point of the sweep, so a notebook opens it
 * with xarray and selects points by parameter. */
static mf_status write_sweep(const h5_writer *w, hid_t file, const mf_sweep_table *sweep) {
    hid_t group;
    MF_CHECK(h5_create_group(w, file, "sweep", &group));
    const int64_t n = sweep->n_points;
    int64_t *index = calloc((size_t)(n > 0 ? n : 1), sizeof *index);
    double *column = calloc((size_t)(n > 0 ? n : 1), sizeof *column);
    const char **texts = calloc((size_t)(n > 0 ? n : 1), sizeof *texts);
    char *labels = calloc((size_t)(n > 0 ? n : 1), 2048);
    const char **label_ptrs = calloc((size_t)(n > 0 ? n : 1), sizeof *label_ptrs);
    const char **targets = calloc((size_t)sweep->n_params + 1, sizeof *targets);
    mf_status status = MF_OK;
    if (!index || !column || !texts || !labels || !label_ptrs || !targets)
        status = MF_FAIL(MF_ERR_MEMORY, "out of memory writing the sweep table");
    for (int64_t i = 0; i < n && status == MF_OK; i++) {
        index[i] = i;
        point_label(sweep, i, labels + i * 2048, 2048);
        label_ptrs[i] = labels + i * 2048;
    }
    if (status == MF_OK)
        status = h5_write_dataset(w, group, "point", H5T_NATIVE_INT64, H5T_STD_I64LE, 1, (hsize_t)n,
                                  index, 0);
    for (int p = 0; p < sweep->n_params && status == MF_OK; p++) {
        int numeric = 1;
        for (int64_t i = 0; i < n; i++) {
            column[i] = sweep->values[i * sweep->n_params + p];
            texts[i] = sweep->texts[i * sweep->n_params + p];
            if (isnan(column[i])) numeric = 0;
        }
        status = numeric ? h5_write_dataset(w, group, sweep->keys[p], H5T_NATIVE_DOUBLE,
                                            H5T_IEEE_F64LE, 1, (hsize_t)n, column, 0)
                         : h5_write_dataset(w, group, sweep->keys[p], w->string_type,
                                            w->string_type, 1, (hsize_t)n, texts, 0);
        targets[p] = sweep->keys[p];
    }
    if (status == MF_OK)
        status = h5_write_dataset(w, group, "label", w->string_type, w->string_type, 1, (hsize_t)n,
                                  label_ptrs, 0);
    if (status == MF_OK) {
        targets[sweep->n_params] = "label";
        status = h5_attach_scale(w, group, "point", "point", targets, sweep->n_params + 1);
    }
    if (status == MF_OK)
        status = h5_attr_strings(w, group, "parameters", sweep->keys, sweep->n_params);
    free(index);
    free(column);
    free(texts);
    free(labels);
    free(label_ptrs);
    free(targets);
    H5Gclose(group);
    if (status != MF_OK) mf_error_push_frame(__FILE__, __LINE__, __func__);
    return status;
}

static mf_status write_root(const h5_writer *w, hid_t file, const mf_run_info *info, int n_points,
                            const int64_t *points_present, const char *digest) {
    static const int32_t version[2] = {MF_FORMAT_VERSION_MAJOR, MF_FORMAT_VERSION_MINOR};
    char created[64];
    h5_utc_now(created, sizeof created);
    MF_CHECK(h5_attr_string(w, file, "format", MF_FORMAT_NAME));
    MF_CHECK(
        h5_write_attr(w, file, "format_version", H5T_NATIVE_INT32, H5T_STD_I32LE, 1, 2, version));
    MF_CHECK(h5_attr_string(w, file, "engine_version", MF_VERSION_STRING));
    MF_CHECK(h5_attr_string(w, file, "git_commit", MF_GIT_COMMIT));
    MF_CHECK(h5_attr_string(w, file, "compiler", MF_COMPILER));
    MF_CHECK(h5_attr_string(w, file, "compile_flags", MF_COMPILE_FLAGS));
    MF_CHECK(h5_attr_string(w, file, "created", created));
    MF_CHECK(h5_attr_string(w, file, "verification_digest", digest));
    MF_CHECK(h5_attr_string(w, file, "config", info->config_yaml));
    MF_CHECK(h5_attr_string(w, file, "config_file", info->config_file));
    MF_CHECK(h5_attr_string(w, file, "command_line", info->command_line));
    MF_CHECK(h5_write_attr(w, file, "seed", H5T_NATIVE_UINT64, H5T_STD_U64LE, 0, 1, &info->seed));
    MF_CHECK(h5_attr_int64(w, file, "paths", info->paths));
    MF_CHECK(h5_attr_int32(w, file, "ranks", info->ranks));
    MF_CHECK(h5_attr_int32(w, file, "threads", info->threads));
    MF_CHECK(h5_attr_double(w, file, "wall_seconds", info->wall_seconds));
    MF_CHECK(h5_attr_int64(w, file, "accounts", info->accounts));
    MF_CHECK(h5_attr_int64(w, file, "positions", info->positions));
    MF_CHECK(h5_attr_strings(w, file, "assets", info->asset_names, info->n_assets));
    const int64_t total = info->points_total > 0 ? info->points_total : n_points;
    MF_CHECK(h5_attr_int64(w, file, "points", total));
    int64_t *present = calloc((size_t)(n_points > 0 ? n_points : 1), sizeof *present);
    if (!present) return MF_FAIL(MF_ERR_MEMORY, "out of memory");
    for (int i = 0; i < n_points; i++)
        present[i] = points_present ? points_present[i] : i;
    mf_status status = h5_write_attr(w, file, "points_in_file", H5T_NATIVE_INT64, H5T_STD_I64LE, 1,
                                     (hsize_t)n_points, present);
    free(present);
    return status;
}

/* ---- CF attributes (format 2.0) ------------------------------------------------------------
 * Every dataset gets `units` and `long_name` (CF conventions), so xarray and matplotlib label
 * axes without knowing the layout: added in one pass over the finished file, from the path of
 * each dataset and the unit the writer already recorded (`unit`, kept for 1.x readers). */

typedef struct {
    char **names;
    size_t n, capacity;
} dataset_list;

static herr_t collect_dataset(hid_t object, const char *name, const H5O_info_t *info, void *data) {
    (void)object;
    dataset_list *list = data;
    if (info->type != H5O_TYPE_DATASET) return 0;
    if (list->n == list->capacity) {
        size_t capacity = list->capacity ? 2 * list->capacity : 256;
        char **grown = realloc(list->names, capacity * sizeof *grown);
        if (!grown) return -1;
        list->names = grown;
        list->capacity = capacity;
    }
    list->names[list->n] = strdup(name);
    return list->names[list->n++] ? 0 : -1;
}

/* Dimensionless words become CF's "1"; the others stay as written ("USD", "accounts", "s"). */
static const char *cf_units(const char *unit) {
    if (!unit || !unit[0] || !strcmp(unit, "fraction") || !strcmp(unit, "ratio")) return "1";
    return unit;
}

static const mf_metric_info *metric_named(const char *name) {
    for (int m = 0; m < MF_METRIC_COUNT; m++)
        if (!strcmp(mf_metric_describe((mf_metric_id)m)->name, name))
            return mf_metric_describe((mf_metric_id)m);
    return NULL;
}

/* What a dataset of a metric group holds; unit: 0 none (a count), 1 the metric's, 2 squared. */
static const struct {
    const char *name, *phrase;
    int unit;
} metric_datasets[] = {
    {"sample_count", "number of samples", 0},
    {"sample_mean", "sample mean", 1},
    {"sample_m2", "sum of squared deviations from the mean", 2},
    {"sample_min", "smallest sample", 1},
    {"sample_max", "largest sample", 1},
    {"bin_edges", "histogram bin edges (log-spaced)", 1},
    {"bin_center", "histogram bin centre (geometric)", 1},
    {"bin_lower", "histogram bin lower edge", 1},
    {"bin_upper", "histogram bin upper edge", 1},
    {"counts", "samples in the histogram bin", 0},
    {"underflow", "samples below the lowest bin edge", 0},
    {"overflow", "samples at or above the highest bin edge", 0},
    {"mean_standard_error", "standard error of the mean", 1},
    {"quantile_levels", "quantile level", 0},
    {"quantiles", "quantile", 1},
    {"quantile_ci_low", "quantile, lower end of its 95% order-statistic interval", 1},
    {"quantile_ci_high", "quantile, upper end of its 95% order-statistic interval", 1},
    {"expected_shortfall", "expected shortfall (mean of the samples beyond the quantile)", 1},
    {"expected_shortfall_standard_error", "standard error of the expected shortfall", 1},
    {"tail_samples", "samples at or beyond the quantile", 0},
};

static const struct {
    const char *name, *long_name, *units;
} named_datasets[] = {
    {"prob_bad_debt", "probability of bad debt (share of paths)", "1"},
    {"prob_bad_debt_standard_error", "standard error of the probability of bad debt", "1"},
    {"prob_bad_debt_ci_low", "probability of bad debt, lower end of its 95% Wilson interval", "1"},
    {"prob_bad_debt_ci_high", "probability of bad debt, upper end of its 95% Wilson interval", "1"},
    {"prob_fund_shortfall", "probability of an insurance-fund shortfall (share of paths)", "1"},
    {"prob_fund_shortfall_standard_error",
     "standard error of the probability of an insurance-fund shortfall", "1"},
    {"prob_fund_shortfall_ci_low",
     "probability of an insurance-fund shortfall, lower end of its 95% Wilson interval", "1"},
    {"prob_fund_shortfall_ci_high",
     "probability of an insurance-fund shortfall, upper end of its 95% Wilson interval", "1"},
    {"n_paths", "paths of the point", "paths"},
    {"path_index", "path index", "1"},
    {"point", "sweep point", "1"},
    {"label", "sweep point's parameters", "1"},
    {"step", "step index", "1"},
    {"time", "time", "s"},
    {"step_end", "time at the end of the step", "s"},
    {"liquidated_long", "notional of long positions liquidated in the step", NULL},
    {"liquidated_short", "notional of short positions liquidated in the step", NULL},
    {"backlog", "notional queued for liquidation at the end of the step", NULL},
    {"rounds", "cascade rounds used in the step", "1"},
};

static const struct {
    const char *name, *long_name;
} profile_datasets[] = {
    {"liquidated_notional", "mean notional liquidated in the step"},
    {"liquidated_accounts", "mean accounts liquidated in the step"},
    {"fund", "mean insurance fund at the end of the step"},
};

/* long_name and units of the dataset at `path` (relative to the root); unit: its `unit`. */
static void cf_describe(const char *path, const char *unit, char *long_name, size_t size,
                        char *units, size_t units_size) {
    char copy[512];
    snprintf(copy, sizeof copy, "%s", path);
    const char *parts[8] = {0};
    int n = 0;
    char *save = NULL;
    for (char *part = strtok_r(copy, "/", &save); part && n < 8; part = strtok_r(NULL, "/", &save))
        parts[n++] = part;
    const char *base = n ? parts[n - 1] : path;
    const char *parent = n >= 2 ? parts[n - 2] : "";
    const char *grand = n >= 3 ? parts[n - 3] : "";
    snprintf(units, units_size, "%s", cf_units(unit));
    const mf_metric_info *metric = NULL;
    if (!strcmp(grand, "metrics") && (metric = metric_named(parent))) {
        for (size_t i = 0; i < sizeof metric_datasets / sizeof metric_datasets[0]; i++)
            if (!strcmp(base, metric_datasets[i].name)) {
                snprintf(long_name, size, "%s: %s", metric->description, metric_datasets[i].phrase);
                const char *u = cf_units(metric->unit);
                if (metric_datasets[i].unit == 0)
                    snprintf(units, units_size, "1");
                else if (metric_datasets[i].unit == 1)
                    snprintf(units, units_size, "%s", u);
                else
                    snprintf(units, units_size, "%s^2", u);
                return;
            }
    }
    if (!strcmp(parent, "path_values") && (metric = metric_named(base))) {
        snprintf(long_name, size, "%s (one value per path)", metric->description);
        snprintf(units, units_size, "%s", cf_units(metric->unit));
        return;
    }
    if (!strcmp(parent, "paths"))
        for (int c = 0; c < mf_path_column_count(); c++)
            if (!strcmp(mf_path_column_describe(c)->name, base)) {
                snprintf(long_name, size, "%s", mf_path_column_describe(c)->description);
                return;
            }
    if (!strcmp(parent, "profile"))
        for (size_t i = 0; i < sizeof profile_datasets / sizeof profile_datasets[0]; i++)
            if (!strcmp(base, profile_datasets[i].name)) {
                snprintf(long_name, size, "%s", profile_datasets[i].long_name);
                return;
            }
    if (!strncmp(base, "index_", 6) || !strncmp(base, "mark_", 5)) {
        const int is_index = base[0] == 'i';
        snprintf(long_name, size, "%s price of %s", is_index ? "index" : "mark",
                 base + (is_index ? 6 : 5));
        return;
    }
    if (!strcmp(grand, "traces") && !strcmp(base, "liquidated_accounts")) {
        snprintf(long_name, size, "accounts liquidated in the step");
        return;
    }
    if (!strcmp(grand, "traces") && !strcmp(base, "fund")) {
        snprintf(long_name, size, "insurance fund at the end of the step");
        return;
    }
    for (size_t i = 0; i < sizeof named_datasets / sizeof named_datasets[0]; i++)
        if (!strcmp(base, named_datasets[i].name)) {
            snprintf(long_name, size, "%s", named_datasets[i].long_name);
            if (named_datasets[i].units) snprintf(units, units_size, "%s", named_datasets[i].units);
            return;
        }
    if (!strcmp(parent, "sweep")) { /* a swept key: its name and documented unit */
        snprintf(long_name, size, "%s", base);
        snprintf(units, units_size, "%s", cf_units(mf_config_key_unit(base)));
        return;
    }
    /* Anything else: its name, readable. */
    snprintf(long_name, size, "%s", base);
    for (char *c = long_name; *c; c++)
        if (*c == '_') *c = ' ';
}

static mf_status add_cf_attributes(const h5_writer *w, hid_t file) {
    dataset_list list = {0};
    if (H5Ovisit2(file, H5_INDEX_NAME, H5_ITER_INC, collect_dataset, &list, H5O_INFO_BASIC) < 0) {
        for (size_t i = 0; i < list.n; i++)
            free(list.names[i]);
        free(list.names);
        return h5_write_failed(w, file, "/", "CF attributes of");
    }
    mf_status status = MF_OK;
    for (size_t i = 0; i < list.n && status == MF_OK; i++) {
        hid_t dataset = H5Dopen2(file, list.names[i], H5P_DEFAULT);
        if (dataset < 0) {
            status = h5_write_failed(w, file, list.names[i], "CF attributes of");
            break;
        }
        char *unit = H5Aexists(dataset, "unit") > 0 ? h5_read_attr_string(dataset, "unit") : NULL;
        char long_name[512], units[64];
        cf_describe(list.names[i], unit, long_name, sizeof long_name, units, sizeof units);
        free(unit);
        status = h5_attr_string(w, dataset, "long_name", long_name);
        if (status == MF_OK) status = h5_attr_string(w, dataset, "units", units);
        H5Dclose(dataset);
    }
    for (size_t i = 0; i < list.n; i++)
        free(list.names[i]);
    free(list.names);
    return status;
}

static mf_status write_file(const char *temp_path, const char *path, const mf_run_info *info,
                            const mf_point_result *points, int n_points) {
    h5_writer w = {.path = path, .string_type = H5I_INVALID_HID};
    hid_t file;
    MF_CHECK(h5_memory_file_open(&w, temp_path, &file));
    mf_status status = MF_OK;
    int64_t *present = calloc((size_t)(n_points > 0 ? n_points : 1), sizeof *present);
    if (!present) status = MF_FAIL(MF_ERR_MEMORY, "out of memory");
    for (int i = 0; i < n_points && present; i++)
        present[i] = points[i].point_index;
    char digest[MF_DIGEST_TEXT_LEN];
    mf_digest_format(mf_results_digest(points, n_points), digest);
    if (status == MF_OK) status = write_root(&w, file, info, n_points, present, digest);
    free(present);
    if (status == MF_OK && info->sweep && info->sweep->n_params > 0)
        status = write_sweep(&w, file, info->sweep);
    for (int i = 0; i < n_points && status == MF_OK; i++)
        status = write_point(&w, file, info->sweep, &points[i], info->n_assets, info->asset_names);
    if (status == MF_OK) status = add_cf_attributes(&w, file);
    status = h5_memory_file_close(&w, file, status, temp_path);
    if (status != MF_OK) mf_error_push_frame(__FILE__, __LINE__, __func__);
    return status;
}

mf_status mf_output_write_temp(const char *path, const char *temp_path, int force,
                               const mf_run_info *info, const mf_point_result *points,
                               int n_points) {
    if (!info || n_points < 0 || (n_points > 0 && !points))
        return MF_FAIL(MF_ERR_INTERNAL, "mf_output_write: bad arguments");
    if (info->n_assets < 0 || (info->n_assets > 0 && !info->asset_names))
        return MF_FAIL(MF_ERR_INTERNAL, "mf_output_write: bad asset list");
    for (int i = 0; i < n_points; i++)
        MF_CHECK(check_point(&points[i], i));
    MF_CHECK(mf_output_check_target(path, force));

    h5_quiet saved;
    h5_quiet_begin(&saved);
    mf_status status = write_file(temp_path, path, info, points, n_points);
    h5_quiet_end(&saved);
    if (status != MF_OK) {
        unlink(temp_path);
        mf_error_push_frame(__FILE__, __LINE__, __func__);
        return status;
    }
    return MF_OK;
}

mf_status mf_output_write(const char *path, int force, const mf_run_info *info,
                          const mf_point_result *points, int n_points) {
    char temp_path[4200];
    mf_output_temp_name(path, temp_path, sizeof temp_path);
    MF_CHECK(mf_output_write_temp(path, temp_path, force, info, points, n_points));
    MF_CHECK(mf_output_publish(temp_path, path, force));
    return MF_OK;
}
