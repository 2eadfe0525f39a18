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
    if (status == MF_OK) status = h5_scalar_i64(w, group, "count", metric->count);
    if (status == MF_OK) status = h5_scalar_f64(w, group, "mean", metric->mean);
    if (status == MF_OK) status = h5_scalar_f64(w, group, "m2", metric->m2);
    if (status == MF_OK) status = h5_scalar_f64(w, group, "min", metric->min);
    if (status == MF_OK) status = h5_scalar_f64(w, group, "max", metric->max);
    if (status == MF_OK) status = h5_array_f64(w, group, "bin_edges", n + 1, metric->edges);
    if (status == MF_OK) status = h5_array_f64(w, group, "bin_center", n, centers);
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
    static const char *const counts_only[] = {"counts"};
    static const char *const quantile_arrays[] = {"quantiles",
                                                  "quantile_ci_low",
                                                  "quantile_ci_high",
                                                  "expected_shortfall",
                                                  "expected_shortfall_standard_error",
                                                  "tail_samples"};
    if (status == MF_OK)
        status = h5_attach_scale(w, group, "bin_center", "bin_center", counts_only, 1);
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
    static const char *const profiles[] = {"liquidated_notional", "liquidated_accounts", "fund"};
    if (status == MF_OK) status = h5_attach_scale(w, group, "step", "step", profiles, 3);
    free(steps);
    H5Gclose(group);
    if (status != MF_OK) mf_error_push_frame(__FILE__, __LINE__, __func__);
    return status;
}

/* The columns come from the per-path column table (mf_path_column_describe); the ledger's
 * are written when the point carries its ledgers. */
static mf_status write_paths(const h5_writer *w, hid_t point_group, const mf_point_result *point) {
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
    for (int c = 0; c < n_columns && status == MF_OK; c++) {
        const mf_path_column *col = mf_path_column_describe(c);
        if (col->source == MF_COLUMN_FROM_LEDGER && !point->ledgers) continue;
        const size_t size = mf_path_column_size(col);
        for (size_t r = 0; r < n; r++)
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
        status = h5_write_dataset(w, group, col->name, mem, file, 1, n, column, compress);
        if (status == MF_OK) status = h5_set_unit(w, group, col->name, col->unit);
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
static void point_label(const mf_sweep_table *sweep, int64_t point, char *label, size_t size) {
    label[0] = '\0';
    if (!sweep || sweep->n_params == 0) return;
    size_t used = 0;
    for (int p = 0; p < sweep->n_params && used < size; p++)
        used += (size_t)snprintf(label + used, size - used, "%s%s=%s", p ? ", " : "",
                                 sweep->keys[p], sweep->texts[point * sweep->n_params + p]);
}

static mf_status write_point(const h5_writer *w, hid_t file, const mf_sweep_table *sweep,
                             const mf_point_result *point) {
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
    if (status == MF_OK && point->paths) status = write_paths(w, group, point);
    int has_path_values = 0;
    for (int m = 0; m < MF_METRIC_COUNT; m++)
        has_path_values |= point->metrics[m].path_values != NULL;
    if (status == MF_OK && has_path_values) status = write_path_values(w, group, point);
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
        status = write_point(&w, file, info->sweep, &points[i]);
    status = h5_memory_file_close(&w, file, status, temp_path);
    if (status != MF_OK) mf_error_push_frame(__FILE__, __LINE__, __func__);
    return status;
}

mf_status mf_output_write(const char *path, int force, const mf_run_info *info,
                          const mf_point_result *points, int n_points) {
    if (!info || n_points < 0 || (n_points > 0 && !points))
        return MF_FAIL(MF_ERR_INTERNAL, "mf_output_write: bad arguments");
    if (info->n_assets < 0 || (info->n_assets > 0 && !info->asset_names))
        return MF_FAIL(MF_ERR_INTERNAL, "mf_output_write: bad asset list");
    for (int i = 0; i < n_points; i++)
        MF_CHECK(check_point(&points[i], i));
    MF_CHECK(mf_output_check_target(path, force));

    char temp_path[4200];
    mf_output_temp_name(path, temp_path, sizeof temp_path);
    h5_quiet saved;
    h5_quiet_begin(&saved);
    mf_status status = write_file(temp_path, path, info, points, n_points);
    h5_quiet_end(&saved);
    if (status != MF_OK) {
        unlink(temp_path);
        mf_error_push_frame(__FILE__, __LINE__, __func__);
        return status;
    }
    MF_CHECK(mf_output_publish(temp_path, path, force));
    return MF_OK;
}
