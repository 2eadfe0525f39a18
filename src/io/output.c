/* The HDF5 result file: writer (rank 0, serial HDF5), target checks and `marginfall info`.
 * docs/output.md describes every group, dataset and attribute written here. */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <hdf5.h>
#include <hdf5_hl.h>

#include "mf_version.h"

/* Per-path tables larger than this are chunked and deflated. */
#define COMPRESS_THRESHOLD 4096
#define CHUNK_MAX ((hsize_t)65536)
#define DEFLATE_LEVEL 4

/* ---------------------------------------------------------------------------------------
 * Small shared pieces
 * ------------------------------------------------------------------------------------- */

typedef struct {
    H5E_auto2_t func;
    void *data;
} h5_quiet;

/* Keep HDF5 from printing its own error stack: failures are reported by our messages. */
static void quiet_begin(h5_quiet *saved) {
    H5Eget_auto2(H5E_DEFAULT, &saved->func, &saved->data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static void quiet_end(const h5_quiet *saved) {
    H5Eset_auto2(H5E_DEFAULT, saved->func, saved->data);
}

static herr_t reason_walk(unsigned n, const H5E_error2_t *error, void *data) {
    char *reason = data;
    if (n == 0 && error->desc) snprintf(reason, 256, "%s", error->desc);
    return 0;
}

/* The innermost message of HDF5's current error stack (call right after the failure). */
static const char *h5_reason(char reason[256]) {
    reason[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, reason_walk, reason);
    return reason[0] ? reason : "HDF5 gave no reason";
}

/* Directory part of path ("." when there is none). */
static void directory_of(const char *path, char *dir, size_t size) {
    snprintf(dir, size, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, size, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
}

static int path_exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

mf_status mf_output_check_target(const char *path, int force) {
    if (!path || !*path) return MF_FAIL(MF_ERR_OUTPUT, "no output file name given");
    struct stat st;
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return MF_FAIL(MF_ERR_OUTPUT, "output '%s' is a directory, not a file", path);
        if (!force)
            return MF_FAIL(MF_ERR_OUTPUT,
                           "output file '%s' already exists; use --force to overwrite it", path);
    } else if (errno != ENOENT) {
        return MF_FAIL(MF_ERR_OUTPUT, "cannot check output file '%s': %s", path, strerror(errno));
    } else if (path_exists(path) && !force) {
        /* A dangling symbolic link: rename() would replace it. */
        return MF_FAIL(MF_ERR_OUTPUT,
                       "output file '%s' already exists; use --force to overwrite it", path);
    }
    char dir[4096];
    directory_of(path, dir, sizeof dir);
    if (stat(dir, &st) != 0)
        return MF_FAIL(MF_ERR_OUTPUT, "cannot write '%s': directory '%s' does not exist", path,
                       dir);
    if (!S_ISDIR(st.st_mode))
        return MF_FAIL(MF_ERR_OUTPUT, "cannot write '%s': '%s' is not a directory", path, dir);
    if (access(dir, W_OK | X_OK) != 0)
        return MF_FAIL(MF_ERR_OUTPUT, "cannot write '%s': directory '%s' is not writable (%s)",
                       path, dir, strerror(errno));
    return MF_OK;
}

void mf_output_temp_name(const char *path, char *buffer, size_t size) {
    snprintf(buffer, size, "%s.tmp.%ld", path, (long)getpid());
}

/* Make the new directory entry durable (best effort). */
static void sync_directory(const char *path) {
    char dir[4096];
    directory_of(path, dir, sizeof dir);
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

mf_status mf_output_publish(const char *temp_path, const char *path, int force) {
    if (!force) {
        /* link() fails when path exists: an existing file is never replaced, even when it
         * appeared after mf_output_check_target. */
        if (link(temp_path, path) == 0) {
            unlink(temp_path);
            sync_directory(path);
            return MF_OK;
        }
        int error = errno;
        if (error == EEXIST) {
            unlink(temp_path);
            return MF_FAIL(MF_ERR_OUTPUT,
                           "output file '%s' already exists; use --force to overwrite it", path);
        }
        /* File systems without hard links: check, then rename. */
        if (path_exists(path)) {
            unlink(temp_path);
            return MF_FAIL(MF_ERR_OUTPUT,
                           "output file '%s' already exists; use --force to overwrite it", path);
        }
    }
    if (rename(temp_path, path) != 0) {
        int error = errno;
        unlink(temp_path);
        return MF_FAIL(MF_ERR_OUTPUT, "cannot move '%s' to '%s': %s", temp_path, path,
                       strerror(error));
    }
    sync_directory(path);
    return MF_OK;
}

mf_status mf_output_save_bytes(const char *temp_path, const char *path, const void *data,
                               size_t size) {
    int fd = open(temp_path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd < 0)
        return MF_FAIL(MF_ERR_OUTPUT, "cannot write '%s' (temporary file '%s'): %s", path,
                       temp_path, strerror(errno));
    const unsigned char *bytes = data;
    size_t done = 0;
    int error = 0;
    while (done < size && !error) {
        ssize_t n = write(fd, bytes + done, size - done);
        if (n > 0)
            done += (size_t)n;
        else if (n < 0 && errno != EINTR)
            error = errno;
        else if (n == 0)
            error = EIO;
    }
    if (!error && fsync(fd) != 0) error = errno;
    if (close(fd) != 0 && !error) error = errno;
    if (error) {
        unlink(temp_path);
        return MF_FAIL(MF_ERR_OUTPUT, "cannot write '%s' (%zu of %zu bytes written to '%s'): %s",
                       path, done, size, temp_path, strerror(error));
    }
    return MF_OK;
}

/* ---------------------------------------------------------------------------------------
 * Writer
 * ------------------------------------------------------------------------------------- */

typedef struct {
    const char *path; /* the final file name, for messages */
    hid_t string_type;
    int can_deflate;
} writer;

static mf_status write_failed(const writer *w, hid_t loc, const char *name, const char *what) {
    char reason[256];
    h5_reason(reason);
    char where[512] = "";
    if (loc >= 0) H5Iget_name(loc, where, sizeof where);
    return MF_FAIL(MF_ERR_OUTPUT, "cannot write %s '%s%s%s' in '%s': %s", what, where,
                   strcmp(where, "/") == 0 ? "" : "/", name, w->path, reason);
}

static mf_status create_group(const writer *w, hid_t loc, const char *name, hid_t *group) {
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    if (gcpl >= 0) H5Pset_obj_track_times(gcpl, 0);
    *group = gcpl < 0 ? H5I_INVALID_HID : H5Gcreate2(loc, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    mf_status status = *group < 0 ? write_failed(w, loc, name, "group") : MF_OK;
    if (gcpl >= 0) H5Pclose(gcpl);
    return status;
}

/* A scalar (rank 0) or 1-D attribute. */
static mf_status write_attr(const writer *w, hid_t loc, const char *name, hid_t mem_type,
                            hid_t file_type, int rank, hsize_t n, const void *data) {
    hid_t space = rank == 0 ? H5Screate(H5S_SCALAR)
                  : n == 0  ? H5Screate(H5S_NULL)
                            : H5Screate_simple(1, &n, NULL);
    hid_t attr = space < 0 ? H5I_INVALID_HID
                           : H5Acreate2(loc, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT);
    herr_t status = attr < 0 ? -1 : (rank == 1 && n == 0) ? 0 : H5Awrite(attr, mem_type, data);
    mf_status result = status < 0 ? write_failed(w, loc, name, "attribute") : MF_OK;
    if (attr >= 0) H5Aclose(attr);
    if (space >= 0) H5Sclose(space);
    return result;
}

static mf_status attr_string(const writer *w, hid_t loc, const char *name, const char *value) {
    const char *text = value ? value : "";
    return write_attr(w, loc, name, w->string_type, w->string_type, 0, 1, &text);
}

static mf_status attr_strings(const writer *w, hid_t loc, const char *name,
                              const char *const *values, int n) {
    const char **texts = calloc(n > 0 ? (size_t)n : 1, sizeof *texts);
    if (!texts) return MF_FAIL(MF_ERR_MEMORY, "out of memory for %d strings", n);
    for (int i = 0; i < n; i++)
        texts[i] = values && values[i] ? values[i] : "";
    mf_status status =
        write_attr(w, loc, name, w->string_type, w->string_type, 1, (hsize_t)n, texts);
    free(texts);
    return status;
}

static mf_status attr_int32(const writer *w, hid_t loc, const char *name, int32_t value) {
    return write_attr(w, loc, name, H5T_NATIVE_INT32, H5T_STD_I32LE, 0, 1, &value);
}

static mf_status attr_int64(const writer *w, hid_t loc, const char *name, int64_t value) {
    return write_attr(w, loc, name, H5T_NATIVE_INT64, H5T_STD_I64LE, 0, 1, &value);
}

static mf_status attr_double(const writer *w, hid_t loc, const char *name, double value) {
    return write_attr(w, loc, name, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 0, 1, &value);
}

/* A scalar (rank 0) or 1-D dataset of n elements; compress: chunk + deflate. */
static mf_status write_dataset(const writer *w, hid_t loc, const char *name, hid_t mem_type,
                               hid_t file_type, int rank, hsize_t n, const void *data,
                               int compress) {
    hid_t space = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    herr_t status = space < 0 || dcpl < 0 ? -1 : H5Pset_obj_track_times(dcpl, 0);
    if (status >= 0 && rank == 1 && compress && n > 0 && w->can_deflate) {
        hsize_t chunk = n < CHUNK_MAX ? n : CHUNK_MAX;
        status = H5Pset_chunk(dcpl, 1, &chunk);
        if (status >= 0) status = H5Pset_deflate(dcpl, DEFLATE_LEVEL);
    }
    hid_t dataset = status < 0
                        ? H5I_INVALID_HID
                        : H5Dcreate2(loc, name, file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (dataset < 0)
        status = -1;
    else if (rank == 0 || n > 0)
        status = H5Dwrite(dataset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    mf_status result = status < 0 ? write_failed(w, loc, name, "dataset") : MF_OK;
    if (dataset >= 0) H5Dclose(dataset);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (space >= 0) H5Sclose(space);
    return result;
}

static mf_status scalar_f64(const writer *w, hid_t loc, const char *name, double value) {
    return write_dataset(w, loc, name, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 0, 1, &value, 0);
}

static mf_status scalar_i64(const writer *w, hid_t loc, const char *name, int64_t value) {
    return write_dataset(w, loc, name, H5T_NATIVE_INT64, H5T_STD_I64LE, 0, 1, &value, 0);
}

static mf_status array_f64(const writer *w, hid_t loc, const char *name, hsize_t n,
                           const double *values) {
    return write_dataset(w, loc, name, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 1, n, values, 0);
}

static mf_status set_unit(const writer *w, hid_t loc, const char *dataset, const char *unit) {
    hid_t object = H5Oopen(loc, dataset, H5P_DEFAULT);
    if (object < 0) return write_failed(w, loc, dataset, "dataset");
    mf_status status = attr_string(w, object, "unit", unit);
    H5Oclose(object);
    return status;
}

/* Make `scale` (a dataset in loc) a dimension scale named dim_name and attach it as
 * dimension 0 of each target dataset. */
static mf_status attach_scale(const writer *w, hid_t loc, const char *scale, const char *dim_name,
                              const char *const *targets, int n_targets) {
    hid_t scale_id = H5Dopen2(loc, scale, H5P_DEFAULT);
    if (scale_id < 0 || H5DSset_scale(scale_id, dim_name) < 0) {
        mf_status status = write_failed(w, loc, scale, "dimension scale");
        if (scale_id >= 0) H5Dclose(scale_id);
        return status;
    }
    mf_status status = MF_OK;
    for (int i = 0; i < n_targets && status == MF_OK; i++) {
        hid_t target = H5Dopen2(loc, targets[i], H5P_DEFAULT);
        if (target < 0 || H5DSattach_scale(target, scale_id, 0) < 0)
            status = write_failed(w, loc, targets[i], "dimension scale attachment of");
        if (target >= 0) H5Dclose(target);
    }
    H5Dclose(scale_id);
    return status;
}

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
    }
    return MF_OK;
}

static mf_status write_metric(const writer *w, hid_t metrics, mf_metric_id id,
                              const mf_metric_result *metric) {
    const mf_metric_info *describe = mf_metric_describe(id);
    hid_t group;
    MF_CHECK(create_group(w, metrics, describe->name, &group));
    hsize_t n = (hsize_t)metric->n_bins;
    double *centers = malloc(n * sizeof *centers);
    mf_status status = centers ? MF_OK : MF_FAIL(MF_ERR_MEMORY, "out of memory for bin centres");
    if (status == MF_OK)
        for (hsize_t i = 0; i < n; i++)
            centers[i] = sqrt(metric->edges[i] * metric->edges[i + 1]);

    if (status == MF_OK) status = attr_string(w, group, "unit", describe->unit);
    if (status == MF_OK) status = attr_string(w, group, "description", describe->description);
    if (status == MF_OK)
        status = attr_string(w, group, "per", describe->per_cascade ? "cascade" : "path");
    if (status == MF_OK) status = scalar_i64(w, group, "count", metric->count);
    if (status == MF_OK) status = scalar_f64(w, group, "mean", metric->mean);
    if (status == MF_OK) status = scalar_f64(w, group, "m2", metric->m2);
    if (status == MF_OK) status = scalar_f64(w, group, "min", metric->min);
    if (status == MF_OK) status = scalar_f64(w, group, "max", metric->max);
    if (status == MF_OK) status = array_f64(w, group, "bin_edges", n + 1, metric->edges);
    if (status == MF_OK) status = array_f64(w, group, "bin_center", n, centers);
    if (status == MF_OK)
        status = write_dataset(w, group, "counts", H5T_NATIVE_INT64, H5T_STD_I64LE, 1, n,
                               metric->counts, 0);
    if (status == MF_OK) status = scalar_i64(w, group, "underflow", metric->underflow);
    if (status == MF_OK) status = scalar_i64(w, group, "overflow", metric->overflow);
    if (status == MF_OK)
        status = array_f64(w, group, "quantile_levels", MF_N_QUANTILES, mf_quantile_levels);
    if (status == MF_OK)
        status = array_f64(w, group, "quantiles", MF_N_QUANTILES, metric->quantiles);
    if (status == MF_OK)
        status =
            array_f64(w, group, "expected_shortfall", MF_N_QUANTILES, metric->expected_shortfall);
    static const char *const counts_only[] = {"counts"};
    static const char *const quantile_arrays[] = {"quantiles", "expected_shortfall"};
    if (status == MF_OK)
        status = attach_scale(w, group, "bin_center", "bin_center", counts_only, 1);
    if (status == MF_OK) status = attach_scale(w, group, "bin_edges", "edge", NULL, 0);
    if (status == MF_OK)
        status = attach_scale(w, group, "quantile_levels", "quantile", quantile_arrays, 2);
    free(centers);
    H5Gclose(group);
    if (status != MF_OK) mf_error_push_frame(__FILE__, __LINE__, __func__);
    return status;
}

static mf_status write_profile(const writer *w, hid_t point_group, const mf_point_result *point) {
    hid_t group;
    MF_CHECK(create_group(w, point_group, "profile", &group));
    hsize_t n = (hsize_t)point->n_steps;
    int32_t *steps = malloc((n ? n : 1) * sizeof *steps);
    mf_status status = steps ? MF_OK : MF_FAIL(MF_ERR_MEMORY, "out of memory for step indices");
    if (status == MF_OK) {
        for (hsize_t i = 0; i < n; i++)
            steps[i] = (int32_t)i;
        status = write_dataset(w, group, "step", H5T_NATIVE_INT32, H5T_STD_I32LE, 1, n, steps, 0);
    }
    if (status == MF_OK)
        status = array_f64(w, group, "liquidated_notional", n, point->profile_liquidated_notional);
    if (status == MF_OK)
        status = array_f64(w, group, "liquidated_accounts", n, point->profile_liquidated_accounts);
    if (status == MF_OK) status = array_f64(w, group, "fund", n, point->profile_fund);
    if (status == MF_OK) status = set_unit(w, group, "step", "steps");
    if (status == MF_OK) status = set_unit(w, group, "liquidated_notional", "USD");
    if (status == MF_OK) status = set_unit(w, group, "liquidated_accounts", "accounts");
    if (status == MF_OK) status = set_unit(w, group, "fund", "USD");
    static const char *const profiles[] = {"liquidated_notional", "liquidated_accounts", "fund"};
    if (status == MF_OK) status = attach_scale(w, group, "step", "step", profiles, 3);
    free(steps);
    H5Gclose(group);
    if (status != MF_OK) mf_error_push_frame(__FILE__, __LINE__, __func__);
    return status;
}

/* The columns come from the per-path column table (mf_path_column_describe); the ledger's
 * are written when the point carries its ledgers. */
static mf_status write_paths(const writer *w, hid_t point_group, const mf_point_result *point) {
    hid_t group;
    MF_CHECK(create_group(w, point_group, "paths", &group));
    size_t n = (size_t)point->n_paths;
    unsigned char *column = malloc((n ? n : 1) * 8);
    mf_status status = column ? MF_OK : MF_FAIL(MF_ERR_MEMORY, "out of memory for a path column");
    int compress = point->n_paths > COMPRESS_THRESHOLD;
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
        status = write_dataset(w, group, col->name, mem, file, 1, n, column, compress);
        if (status == MF_OK) status = set_unit(w, group, col->name, col->unit);
        if (c > 0) others[n_others++] = col->name;
    }
    if (status == MF_OK)
        status = attach_scale(w, group, "path_index", "path_index", others, n_others);
    free(others);
    free(column);
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

static mf_status write_point(const writer *w, hid_t file, const mf_sweep_table *sweep,
                             const mf_point_result *point) {
    char name[48];
    snprintf(name, sizeof name, "point_%d", point->point_index);
    hid_t group;
    MF_CHECK(create_group(w, file, name, &group));
    hid_t metrics = H5I_INVALID_HID;
    mf_status status = attr_int32(w, group, "point_index", point->point_index);
    char digest[MF_DIGEST_TEXT_LEN];
    mf_digest_format(mf_point_result_digest(point), digest);
    if (status == MF_OK) status = attr_string(w, group, "verification_digest", digest);
    if (status == MF_OK && sweep && sweep->n_params > 0) {
        /* The point's parameters as attributes: key = value (number, or text). */
        char label[2048];
        point_label(sweep, point->point_index, label, sizeof label);
        status = attr_string(w, group, "label", label);
        for (int p = 0; p < sweep->n_params && status == MF_OK; p++) {
            const int64_t at = (int64_t)point->point_index * sweep->n_params + p;
            status = isnan(sweep->values[at])
                         ? attr_string(w, group, sweep->keys[p], sweep->texts[at])
                         : attr_double(w, group, sweep->keys[p], sweep->values[at]);
        }
    }
    if (status == MF_OK) status = scalar_f64(w, group, "prob_bad_debt", point->prob_bad_debt);
    if (status == MF_OK)
        status = scalar_f64(w, group, "prob_fund_shortfall", point->prob_fund_shortfall);
    if (status == MF_OK) status = scalar_i64(w, group, "n_paths", point->n_paths);
    if (status == MF_OK) status = create_group(w, group, "metrics", &metrics);
    for (int m = 0; m < MF_METRIC_COUNT && status == MF_OK; m++)
        status = write_metric(w, metrics, (mf_metric_id)m, &point->metrics[m]);
    if (status == MF_OK) status = write_profile(w, group, point);
    if (status == MF_OK && point->paths) status = write_paths(w, group, point);
    if (metrics >= 0) H5Gclose(metrics);
    H5Gclose(group);
    if (status != MF_OK) mf_error_push_frame(__FILE__, __LINE__, __func__);
    return status;
}

/* /sweep: one dataset per swept key over the `point` dimension (numbers, or texts when a
 * value is not a number) and `label`, for every point of the sweep, so a notebook opens it
 * with xarray and selects points by parameter. */
static mf_status write_sweep(const writer *w, hid_t file, const mf_sweep_table *sweep) {
    hid_t group;
    MF_CHECK(create_group(w, file, "sweep", &group));
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
        status = write_dataset(w, group, "point", H5T_NATIVE_INT64, H5T_STD_I64LE, 1, (hsize_t)n,
                               index, 0);
    for (int p = 0; p < sweep->n_params && status == MF_OK; p++) {
        int numeric = 1;
        for (int64_t i = 0; i < n; i++) {
            column[i] = sweep->values[i * sweep->n_params + p];
            texts[i] = sweep->texts[i * sweep->n_params + p];
            if (isnan(column[i])) numeric = 0;
        }
        status = numeric ? write_dataset(w, group, sweep->keys[p], H5T_NATIVE_DOUBLE,
                                         H5T_IEEE_F64LE, 1, (hsize_t)n, column, 0)
                         : write_dataset(w, group, sweep->keys[p], w->string_type, w->string_type,
                                         1, (hsize_t)n, texts, 0);
        targets[p] = sweep->keys[p];
    }
    if (status == MF_OK)
        status = write_dataset(w, group, "label", w->string_type, w->string_type, 1, (hsize_t)n,
                               label_ptrs, 0);
    if (status == MF_OK) {
        targets[sweep->n_params] = "label";
        status = attach_scale(w, group, "point", "point", targets, sweep->n_params + 1);
    }
    if (status == MF_OK)
        status = attr_strings(w, group, "parameters", sweep->keys, sweep->n_params);
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

static void utc_now(char *buffer, size_t size) {
    time_t now = time(NULL);
    struct tm utc;
    if (gmtime_r(&now, &utc))
        strftime(buffer, size, "%Y-%m-%dT%H:%M:%SZ", &utc);
    else
        snprintf(buffer, size, "unknown");
}

static mf_status write_root(const writer *w, hid_t file, const mf_run_info *info, int n_points,
                            const int64_t *points_present, const char *digest) {
    static const int32_t version[2] = {MF_FORMAT_VERSION_MAJOR, MF_FORMAT_VERSION_MINOR};
    char created[64];
    utc_now(created, sizeof created);
    MF_CHECK(attr_string(w, file, "format", MF_FORMAT_NAME));
    MF_CHECK(write_attr(w, file, "format_version", H5T_NATIVE_INT32, H5T_STD_I32LE, 1, 2, version));
    MF_CHECK(attr_string(w, file, "engine_version", MF_VERSION_STRING));
    MF_CHECK(attr_string(w, file, "git_commit", MF_GIT_COMMIT));
    MF_CHECK(attr_string(w, file, "compiler", MF_COMPILER));
    MF_CHECK(attr_string(w, file, "compile_flags", MF_COMPILE_FLAGS));
    MF_CHECK(attr_string(w, file, "created", created));
    MF_CHECK(attr_string(w, file, "verification_digest", digest));
    MF_CHECK(attr_string(w, file, "config", info->config_yaml));
    MF_CHECK(attr_string(w, file, "config_file", info->config_file));
    MF_CHECK(attr_string(w, file, "command_line", info->command_line));
    MF_CHECK(write_attr(w, file, "seed", H5T_NATIVE_UINT64, H5T_STD_U64LE, 0, 1, &info->seed));
    MF_CHECK(attr_int64(w, file, "paths", info->paths));
    MF_CHECK(attr_int32(w, file, "ranks", info->ranks));
    MF_CHECK(attr_int32(w, file, "threads", info->threads));
    MF_CHECK(attr_double(w, file, "wall_seconds", info->wall_seconds));
    MF_CHECK(attr_int64(w, file, "accounts", info->accounts));
    MF_CHECK(attr_int64(w, file, "positions", info->positions));
    MF_CHECK(attr_strings(w, file, "assets", info->asset_names, info->n_assets));
    const int64_t total = info->points_total > 0 ? info->points_total : n_points;
    MF_CHECK(attr_int64(w, file, "points", total));
    int64_t *present = calloc((size_t)(n_points > 0 ? n_points : 1), sizeof *present);
    if (!present) return MF_FAIL(MF_ERR_MEMORY, "out of memory");
    for (int i = 0; i < n_points; i++)
        present[i] = points_present ? points_present[i] : i;
    mf_status status = write_attr(w, file, "points_in_file", H5T_NATIVE_INT64, H5T_STD_I64LE, 1,
                                  (hsize_t)n_points, present);
    free(present);
    return status;
}

/* The HDF5 file is built in memory (core driver, no backing store) and its image written with
 * plain POSIX calls: HDF5 1.10 crashes at exit after an H5Fclose that failed on a full disk,
 * so HDF5 itself never writes to disk here. memory_file_open sets up the writer (string type)
 * and the file; memory_file_close writes the image to temp_path when status is MF_OK and
 * releases everything either way. */
static mf_status memory_file_open(writer *w, const char *temp_path, hid_t *file) {
    *file = H5I_INVALID_HID;
    w->can_deflate = H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0;
    w->string_type = H5Tcopy(H5T_C_S1);
    if (w->string_type < 0 || H5Tset_size(w->string_type, H5T_VARIABLE) < 0 ||
        H5Tset_cset(w->string_type, H5T_CSET_UTF8) < 0) {
        if (w->string_type >= 0) H5Tclose(w->string_type);
        w->string_type = H5I_INVALID_HID;
        return write_failed(w, H5I_INVALID_HID, "", "string type for");
    }
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    herr_t ready = fcpl < 0 || fapl < 0 ? -1 : H5Pset_obj_track_times(fcpl, 0);
    if (ready >= 0) ready = H5Pset_fapl_core(fapl, (size_t)4 << 20, 0);
    /* Closing the file closes anything a failure left open. */
    if (ready >= 0) ready = H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
    if (ready >= 0) *file = H5Fcreate(temp_path, H5F_ACC_TRUNC, fcpl, fapl);
    if (fapl >= 0) H5Pclose(fapl);
    if (fcpl >= 0) H5Pclose(fcpl);
    if (*file >= 0) return MF_OK;
    char reason[256];
    H5Tclose(w->string_type);
    w->string_type = H5I_INVALID_HID;
    return MF_FAIL(MF_ERR_OUTPUT, "cannot create '%s' in memory: %s", w->path, h5_reason(reason));
}

static mf_status memory_file_close(writer *w, hid_t file, mf_status status, const char *temp_path) {
    void *image = NULL;
    ssize_t size = -1;
    if (status == MF_OK) {
        if (H5Fflush(file, H5F_SCOPE_GLOBAL) >= 0) size = H5Fget_file_image(file, NULL, 0);
        image = size > 0 ? malloc((size_t)size) : NULL;
        char reason[256];
        if (size <= 0)
            status = MF_FAIL(MF_ERR_OUTPUT, "cannot finish '%s': %s", w->path, h5_reason(reason));
        else if (!image)
            status = MF_FAIL(MF_ERR_MEMORY, "out of memory for the %lld-byte image of '%s'",
                             (long long)size, w->path);
        else if (H5Fget_file_image(file, image, (size_t)size) != size)
            status = MF_FAIL(MF_ERR_OUTPUT, "cannot finish '%s': %s", w->path, h5_reason(reason));
    }
    if (file >= 0) H5Fclose(file);
    if (w->string_type >= 0) H5Tclose(w->string_type);
    w->string_type = H5I_INVALID_HID;
    if (status == MF_OK) status = mf_output_save_bytes(temp_path, w->path, image, (size_t)size);
    free(image);
    return status;
}

static mf_status write_file(const char *temp_path, const char *path, const mf_run_info *info,
                            const mf_point_result *points, int n_points) {
    writer w = {.path = path, .string_type = H5I_INVALID_HID};
    hid_t file;
    MF_CHECK(memory_file_open(&w, temp_path, &file));
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
    status = memory_file_close(&w, file, status, temp_path);
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
    quiet_begin(&saved);
    mf_status status = write_file(temp_path, path, info, points, n_points);
    quiet_end(&saved);
    if (status != MF_OK) {
        unlink(temp_path);
        mf_error_push_frame(__FILE__, __LINE__, __func__);
        return status;
    }
    MF_CHECK(mf_output_publish(temp_path, path, force));
    return MF_OK;
}

/* ---------------------------------------------------------------------------------------
 * Reader: `marginfall info`
 * ------------------------------------------------------------------------------------- */

/* A string attribute (variable or fixed length) as a malloc'd string; NULL if absent. */
static char *read_attr_string(hid_t loc, const char *name) {
    if (H5Aexists(loc, name) <= 0) return NULL;
    hid_t attr = H5Aopen(loc, name, H5P_DEFAULT);
    if (attr < 0) return NULL;
    hid_t type = H5Aget_type(attr);
    hid_t space = H5Aget_space(attr);
    char *result = NULL;
    if (type >= 0 && space >= 0 && H5Tget_class(type) == H5T_STRING &&
        H5Sget_simple_extent_npoints(space) == 1) {
        hid_t mem = H5Tcopy(H5T_C_S1);
        htri_t variable = H5Tis_variable_str(type);
        if (variable > 0) {
            char *text = NULL;
            H5Tset_size(mem, H5T_VARIABLE);
            H5Tset_cset(mem, H5Tget_cset(type));
            if (H5Aread(attr, mem, &text) >= 0 && text) {
                result = strdup(text);
                H5Dvlen_reclaim(mem, space, H5P_DEFAULT, &text);
            }
        } else if (variable == 0) {
            size_t size = H5Tget_size(type);
            H5Tset_size(mem, size + 1);
            H5Tset_strpad(mem, H5T_STR_NULLTERM);
            result = calloc(size + 2, 1);
            if (result && H5Aread(attr, mem, result) < 0) {
                free(result);
                result = NULL;
            }
        }
        H5Tclose(mem);
    }
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    H5Aclose(attr);
    return result;
}

/* A string-array attribute joined with ", " (malloc'd); NULL if absent. */
static char *read_attr_strings_joined(hid_t loc, const char *name) {
    if (H5Aexists(loc, name) <= 0) return NULL;
    hid_t attr = H5Aopen(loc, name, H5P_DEFAULT);
    if (attr < 0) return NULL;
    hid_t type = H5Aget_type(attr);
    hid_t space = H5Aget_space(attr);
    char *result = NULL;
    hssize_t n = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    if (type >= 0 && n >= 0 && H5Tget_class(type) == H5T_STRING && H5Tis_variable_str(type) > 0) {
        char **texts = calloc((size_t)n + 1, sizeof *texts);
        hid_t mem = H5Tcopy(H5T_C_S1);
        H5Tset_size(mem, H5T_VARIABLE);
        H5Tset_cset(mem, H5Tget_cset(type));
        if (texts && (n == 0 || H5Aread(attr, mem, texts) >= 0)) {
            size_t length = 1;
            for (hssize_t i = 0; i < n; i++)
                length += (texts[i] ? strlen(texts[i]) : 0) + 2;
            result = calloc(length, 1);
            for (hssize_t i = 0; result && i < n; i++) {
                if (i) strcat(result, ", ");
                strcat(result, texts[i] ? texts[i] : "");
            }
            if (n > 0) H5Dvlen_reclaim(mem, space, H5P_DEFAULT, texts);
        }
        H5Tclose(mem);
        free(texts);
    }
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    H5Aclose(attr);
    return result;
}

/* A numeric attribute with exactly n elements, converted to mem_type; -1 if absent. */
static int read_attr_numbers(hid_t loc, const char *name, hid_t mem_type, void *out, int n) {
    if (H5Aexists(loc, name) <= 0) return -1;
    hid_t attr = H5Aopen(loc, name, H5P_DEFAULT);
    if (attr < 0) return -1;
    hid_t type = H5Aget_type(attr);
    hid_t space = H5Aget_space(attr);
    int ok = type >= 0 && space >= 0 &&
             (H5Tget_class(type) == H5T_INTEGER || H5Tget_class(type) == H5T_FLOAT) &&
             H5Sget_simple_extent_npoints(space) == n && H5Aread(attr, mem_type, out) >= 0;
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    H5Aclose(attr);
    return ok ? 0 : -1;
}

/* A numeric dataset with exactly n elements; -1 if absent or of another size. */
static int read_dataset_numbers(hid_t loc, const char *name, hid_t mem_type, void *out, int n) {
    if (H5Lexists(loc, name, H5P_DEFAULT) <= 0) return -1;
    hid_t dataset = H5Dopen2(loc, name, H5P_DEFAULT);
    if (dataset < 0) return -1;
    hid_t space = H5Dget_space(dataset);
    int ok = space >= 0 && H5Sget_simple_extent_npoints(space) == n &&
             H5Dread(dataset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) >= 0;
    if (space >= 0) H5Sclose(space);
    H5Dclose(dataset);
    return ok ? 0 : -1;
}

/* 1234567 -> "1,234,567". */
static void format_count(char *buffer, size_t size, long long value) {
    char digits[32];
    snprintf(digits, sizeof digits, "%lld", value < 0 ? -value : value);
    size_t length = strlen(digits), out = 0;
    if (value < 0 && out + 1 < size) buffer[out++] = '-';
    for (size_t i = 0; i < length && out + 1 < size; i++) {
        if (i > 0 && (length - i) % 3 == 0 && out + 2 < size) buffer[out++] = ',';
        buffer[out++] = digits[i];
    }
    buffer[out] = '\0';
}

/* Three significant digits with a K/M/B/T suffix: 45.6M, 1.23B, 512. */
static void format_scaled(char *buffer, size_t size, const char *prefix, double value) {
    static const char *const suffixes[] = {"", "K", "M", "B", "T"};
    double magnitude = fabs(value);
    int s = 0;
    while (s < 4 && magnitude >= 999.5) {
        magnitude /= 1000;
        s++;
    }
    const char *sign = value < 0 ? "-" : "";
    if (s == 4 && magnitude >= 999.5)
        snprintf(buffer, size, "%s%s%.3g", sign, prefix, fabs(value));
    else if (magnitude >= 99.95 || (s == 0 && magnitude == floor(magnitude)))
        snprintf(buffer, size, "%s%s%.0f%s", sign, prefix, magnitude, suffixes[s]);
    else if (magnitude >= 9.995)
        snprintf(buffer, size, "%s%s%.1f%s", sign, prefix, magnitude, suffixes[s]);
    else if (magnitude >= 0.01 || magnitude == 0)
        snprintf(buffer, size, "%s%s%.2f%s", sign, prefix, magnitude, suffixes[s]);
    else
        snprintf(buffer, size, "%s%s%.2g", sign, prefix, magnitude);
}

static void format_percent(char *buffer, size_t size, double fraction) {
    double percent = fraction * 100;
    double magnitude = fabs(percent);
    if (magnitude >= 99.95 || magnitude == 0)
        snprintf(buffer, size, "%.0f%%", percent);
    else if (magnitude >= 9.995)
        snprintf(buffer, size, "%.1f%%", percent);
    else if (magnitude >= 0.01)
        snprintf(buffer, size, "%.2f%%", percent);
    else
        snprintf(buffer, size, "%.2g%%", percent);
}

/* A value in the metric's unit: $1.23B, 12.3%, 4.56M, 0.82. */
static void format_value(char *buffer, size_t size, double value, const char *unit) {
    if (isnan(value))
        snprintf(buffer, size, "-");
    else if (isinf(value))
        snprintf(buffer, size, "%sinf", value < 0 ? "-" : "");
    else if (unit && strcmp(unit, "USD") == 0)
        format_scaled(buffer, size, "$", value);
    else if (unit && strcmp(unit, "fraction") == 0)
        format_percent(buffer, size, value);
    else if (unit && strcmp(unit, "ratio") == 0)
        snprintf(buffer, size, "%.3g", value);
    else
        format_scaled(buffer, size, "", value);
}

static void print_seconds(FILE *out, double seconds) {
    if (isnan(seconds)) {
        fprintf(out, "?\n");
    } else if (seconds < 60) {
        fprintf(out, "%.2f s\n", seconds);
    } else {
        long total = (long)llround(seconds);
        fprintf(out, "%.1f s (%ldh %02ldm %02lds)\n", seconds, total / 3600, total / 60 % 60,
                total % 60);
    }
}

static void print_attr_line(FILE *out, hid_t file, const char *label, const char *name) {
    char *text = read_attr_string(file, name);
    fprintf(out, "  %-16s %s\n", label, text && *text ? text : "?");
    free(text);
}

static void print_provenance(FILE *out, hid_t file, const char *path, const int32_t *version) {
    fprintf(out, "marginfall result file: %s\n", path);
    fprintf(out, "  %-16s %s %d.%d\n", "format", MF_FORMAT_NAME, version[0], version[1]);
    char *engine = read_attr_string(file, "engine_version");
    char *commit = read_attr_string(file, "git_commit");
    fprintf(out, "  %-16s marginfall %s (commit %s)\n", "engine", engine ? engine : "?",
            commit ? commit : "?");
    free(engine);
    free(commit);
    print_attr_line(out, file, "created", "created");
    print_attr_line(out, file, "digest", "verification_digest");
    print_attr_line(out, file, "config file", "config_file");
    print_attr_line(out, file, "command line", "command_line");

    uint64_t seed = 0;
    if (read_attr_numbers(file, "seed", H5T_NATIVE_UINT64, &seed, 1) == 0)
        fprintf(out, "  %-16s %llu\n", "seed", (unsigned long long)seed);
    else
        fprintf(out, "  %-16s ?\n", "seed");
    int64_t paths = -1, accounts = -1, positions = -1;
    char count[48];
    read_attr_numbers(file, "paths", H5T_NATIVE_INT64, &paths, 1);
    format_count(count, sizeof count, (long long)paths);
    fprintf(out, "  %-16s %s\n", "paths", paths >= 0 ? count : "?");
    int32_t ranks = 0, threads = 0;
    read_attr_numbers(file, "ranks", H5T_NATIVE_INT32, &ranks, 1);
    read_attr_numbers(file, "threads", H5T_NATIVE_INT32, &threads, 1);
    fprintf(out, "  %-16s %d rank%s x %d thread%s\n", "parallelism", ranks, ranks == 1 ? "" : "s",
            threads, threads == 1 ? "" : "s");
    double wall = NAN;
    read_attr_numbers(file, "wall_seconds", H5T_NATIVE_DOUBLE, &wall, 1);
    fprintf(out, "  %-16s ", "wall time");
    print_seconds(out, wall);
    read_attr_numbers(file, "accounts", H5T_NATIVE_INT64, &accounts, 1);
    read_attr_numbers(file, "positions", H5T_NATIVE_INT64, &positions, 1);
    char accounts_text[48], positions_text[48];
    format_count(accounts_text, sizeof accounts_text, (long long)accounts);
    format_count(positions_text, sizeof positions_text, (long long)positions);
    char *assets = read_attr_strings_joined(file, "assets");
    fprintf(out, "  %-16s %s accounts, %s positions; assets %s\n", "population", accounts_text,
            positions_text, assets ? assets : "?");
    free(assets);
}

typedef struct {
    int64_t count;
    double mean, max;
    double levels[MF_N_QUANTILES];
    double quantiles[MF_N_QUANTILES];
    double shortfall[MF_N_QUANTILES];
} metric_summary;

static int read_metric_summary(hid_t metrics, const char *name, metric_summary *s, char **unit) {
    hid_t group = H5Gopen2(metrics, name, H5P_DEFAULT);
    if (group < 0) return -1;
    int ok = read_dataset_numbers(group, "count", H5T_NATIVE_INT64, &s->count, 1) == 0 &&
             read_dataset_numbers(group, "mean", H5T_NATIVE_DOUBLE, &s->mean, 1) == 0 &&
             read_dataset_numbers(group, "max", H5T_NATIVE_DOUBLE, &s->max, 1) == 0 &&
             read_dataset_numbers(group, "quantile_levels", H5T_NATIVE_DOUBLE, s->levels,
                                  MF_N_QUANTILES) == 0 &&
             read_dataset_numbers(group, "quantiles", H5T_NATIVE_DOUBLE, s->quantiles,
                                  MF_N_QUANTILES) == 0 &&
             read_dataset_numbers(group, "expected_shortfall", H5T_NATIVE_DOUBLE, s->shortfall,
                                  MF_N_QUANTILES) == 0;
    *unit = read_attr_string(group, "unit");
    H5Gclose(group);
    return ok ? 0 : -1;
}

static void print_metric_row(FILE *out, hid_t metrics, const char *name) {
    metric_summary s;
    char *unit = NULL;
    if (read_metric_summary(metrics, name, &s, &unit) != 0) {
        fprintf(out, "  %-22s (unreadable)\n", name);
        free(unit);
        return;
    }
    int es = MF_N_QUANTILES - 1;
    for (int q = 0; q < MF_N_QUANTILES; q++)
        if (fabs(s.levels[q] - 0.99) < 1e-12) es = q;
    char count[32], cells[MF_N_QUANTILES + 3][32];
    format_count(count, sizeof count, (long long)s.count);
    format_value(cells[0], sizeof cells[0], s.mean, unit);
    for (int q = 0; q < MF_N_QUANTILES; q++)
        format_value(cells[1 + q], sizeof cells[1 + q], s.quantiles[q], unit);
    format_value(cells[1 + MF_N_QUANTILES], sizeof cells[0], s.shortfall[es], unit);
    format_value(cells[2 + MF_N_QUANTILES], sizeof cells[0], s.max, unit);
    fprintf(out, "  %-22s %-9s %11s", name, unit ? unit : "?", count);
    for (int c = 0; c < MF_N_QUANTILES + 3; c++)
        fprintf(out, " %9s", cells[c]);
    fputc('\n', out);
    free(unit);
}

typedef struct {
    char names[64][64];
    int n;
} name_list;

static herr_t collect_names(hid_t group, const char *name, const H5L_info_t *info, void *data) {
    (void)group;
    (void)info;
    name_list *list = data;
    if (list->n < 64) snprintf(list->names[list->n++], sizeof list->names[0], "%s", name);
    return 0;
}

static void print_point(FILE *out, hid_t file, int index) {
    char name[32];
    snprintf(name, sizeof name, "point_%d", index);
    hid_t group = H5Lexists(file, name, H5P_DEFAULT) > 0 ? H5Gopen2(file, name, H5P_DEFAULT)
                                                         : H5I_INVALID_HID;
    if (group < 0) {
        fprintf(out, "\n%s: missing\n", name);
        return;
    }
    int32_t point_index = index;
    int64_t n_paths = 0;
    double prob_bad_debt = NAN, prob_shortfall = NAN;
    read_attr_numbers(group, "point_index", H5T_NATIVE_INT32, &point_index, 1);
    read_dataset_numbers(group, "n_paths", H5T_NATIVE_INT64, &n_paths, 1);
    read_dataset_numbers(group, "prob_bad_debt", H5T_NATIVE_DOUBLE, &prob_bad_debt, 1);
    read_dataset_numbers(group, "prob_fund_shortfall", H5T_NATIVE_DOUBLE, &prob_shortfall, 1);
    char paths_text[48], bad[32], shortfall[32];
    format_count(paths_text, sizeof paths_text, (long long)n_paths);
    format_value(bad, sizeof bad, prob_bad_debt, "fraction");
    format_value(shortfall, sizeof shortfall, prob_shortfall, "fraction");
    fprintf(out, "\npoint %d (%s): %s paths\n", point_index, name, paths_text);
    char *label = H5Aexists(group, "label") > 0 ? read_attr_string(group, "label") : NULL;
    if (label && *label) fprintf(out, "  %-28s %s\n", "parameters", label);
    free(label);
    fprintf(out, "  %-28s %s\n", "P(bad debt > 0)", bad);
    fprintf(out, "  %-28s %s\n", "P(insurance fund shortfall)", shortfall);

    /* Peak of the mean liquidation profile. */
    hid_t profile = H5Lexists(group, "profile", H5P_DEFAULT) > 0
                        ? H5Dopen2(group, "profile/liquidated_notional", H5P_DEFAULT)
                        : H5I_INVALID_HID;
    if (profile >= 0) {
        hid_t space = H5Dget_space(profile);
        hssize_t n = space >= 0 ? H5Sget_simple_extent_npoints(space) : 0;
        double *values = n > 0 ? malloc((size_t)n * sizeof *values) : NULL;
        if (values &&
            H5Dread(profile, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) >= 0) {
            hssize_t peak = 0;
            for (hssize_t t = 1; t < n; t++)
                if (values[t] > values[peak]) peak = t;
            char peak_text[32];
            format_value(peak_text, sizeof peak_text, values[peak], "USD");
            fprintf(out, "  %-28s %s per path at step %lld of %lld\n", "peak mean liquidations",
                    peak_text, (long long)peak, (long long)n);
        }
        free(values);
        if (space >= 0) H5Sclose(space);
        H5Dclose(profile);
    }

    hid_t metrics = H5Lexists(group, "metrics", H5P_DEFAULT) > 0
                        ? H5Gopen2(group, "metrics", H5P_DEFAULT)
                        : H5I_INVALID_HID;
    if (metrics >= 0) {
        fprintf(out, "\n  %-22s %-9s %11s %9s", "metric", "unit", "count", "mean");
        for (int q = 0; q < MF_N_QUANTILES; q++) {
            char header[16];
            snprintf(header, sizeof header, "p%g", mf_quantile_levels[q] * 100);
            fprintf(out, " %9s", header);
        }
        fprintf(out, " %9s %9s\n", "ES99", "max");
        for (int m = 0; m < MF_METRIC_COUNT; m++) {
            const char *metric = mf_metric_describe((mf_metric_id)m)->name;
            if (H5Lexists(metrics, metric, H5P_DEFAULT) > 0) print_metric_row(out, metrics, metric);
        }
        /* Metrics added by a later minor version, in name order. */
        name_list *names = calloc(1, sizeof *names);
        if (names) {
            hsize_t position = 0;
            H5Literate(metrics, H5_INDEX_NAME, H5_ITER_INC, &position, collect_names, names);
            for (int i = 0; i < names->n; i++) {
                int known = 0;
                for (int m = 0; m < MF_METRIC_COUNT; m++)
                    if (strcmp(names->names[i], mf_metric_describe((mf_metric_id)m)->name) == 0)
                        known = 1;
                if (!known) print_metric_row(out, metrics, names->names[i]);
            }
            free(names);
        }
        H5Gclose(metrics);
    }
    H5Gclose(group);
}

/* The sweep's points and their parameters, one line each (at most 50 lines). */
static void print_sweep(FILE *out, hid_t file, const int64_t *present, int64_t n_present) {
    if (H5Lexists(file, "sweep", H5P_DEFAULT) <= 0) return;
    hid_t labels = H5Dopen2(file, "sweep/label", H5P_DEFAULT);
    if (labels < 0) return;
    hid_t space = H5Dget_space(labels);
    const hssize_t n = space >= 0 ? H5Sget_simple_extent_npoints(space) : 0;
    char **texts = n > 0 ? calloc((size_t)n, sizeof *texts) : NULL;
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    if (texts && H5Dread(labels, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, texts) >= 0) {
        fprintf(out, "\nsweep: %lld points\n", (long long)n);
        for (hssize_t i = 0; i < n && i < 50; i++) {
            int here = present == NULL;
            for (int64_t j = 0; j < n_present && !here; j++)
                here = present[j] == i;
            fprintf(out, "  %s point %-5lld %s\n", here ? "*" : " ", (long long)i,
                    texts[i] ? texts[i] : "");
        }
        if (n > 50) fprintf(out, "  ... %lld more\n", (long long)(n - 50));
        fprintf(out, "  (* = in this file)\n");
        H5Dvlen_reclaim(type, space, H5P_DEFAULT, texts);
    }
    free(texts);
    H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    H5Dclose(labels);
}

static mf_status info_open(const char *path, hid_t *file, int32_t *version) {
    struct stat st;
    if (stat(path, &st) != 0)
        return MF_FAIL(MF_ERR_INPUT, "cannot open result file '%s': %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return MF_FAIL(MF_ERR_INPUT, "'%s' is a directory, not a result file", path);
    if (H5Fis_hdf5(path) <= 0)
        return MF_FAIL(MF_ERR_INPUT, "'%s' is not an HDF5 file (not a marginfall result)", path);
    *file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (*file < 0) {
        char reason[256];
        return MF_FAIL(MF_ERR_INPUT, "cannot open result file '%s': %s", path, h5_reason(reason));
    }
    char *format = read_attr_string(*file, "format");
    int is_ours = format && strcmp(format, MF_FORMAT_NAME) == 0;
    if (!is_ours) {
        mf_status status =
            format ? MF_FAIL(MF_ERR_INPUT,
                             "'%s' is not a marginfall result file (its format is '%s', expected "
                             "'%s')",
                             path, format, MF_FORMAT_NAME)
                   : MF_FAIL(MF_ERR_INPUT,
                             "'%s' is not a marginfall result file (no 'format' attribute)", path);
        free(format);
        H5Fclose(*file);
        return status;
    }
    free(format);
    if (read_attr_numbers(*file, "format_version", H5T_NATIVE_INT32, version, 2) != 0) {
        H5Fclose(*file);
        return MF_FAIL(MF_ERR_INPUT, "'%s' has no valid 'format_version' attribute", path);
    }
    if (version[0] > MF_FORMAT_VERSION_MAJOR || version[0] < 1) {
        H5Fclose(*file);
        return MF_FAIL(MF_ERR_INPUT,
                       "'%s' has format version %d.%d; this marginfall (%s) reads major version "
                       "%d only%s",
                       path, version[0], version[1], MF_VERSION_STRING, MF_FORMAT_VERSION_MAJOR,
                       version[0] > MF_FORMAT_VERSION_MAJOR ? ": upgrade marginfall" : "");
    }
    return MF_OK;
}

mf_status mf_output_info(const char *path, FILE *out) {
    if (!path || !*path) return MF_FAIL(MF_ERR_USAGE, "info: no result file given");
    if (!out) return MF_FAIL(MF_ERR_INTERNAL, "mf_output_info: no output stream");
    h5_quiet saved;
    quiet_begin(&saved);
    hid_t file = H5I_INVALID_HID;
    int32_t version[2] = {0, 0};
    mf_status status = info_open(path, &file, version);
    if (status == MF_OK) {
        print_provenance(out, file, path, version);
        int64_t n_points = 0;
        read_attr_numbers(file, "points", H5T_NATIVE_INT64, &n_points, 1);
        /* Format 1.1 lists the points this file holds (a part of a split sweep holds some). */
        int64_t *present = NULL;
        int64_t n_present = n_points;
        hid_t attr = H5Aexists(file, "points_in_file") > 0
                         ? H5Aopen(file, "points_in_file", H5P_DEFAULT)
                         : H5I_INVALID_HID;
        if (attr >= 0) {
            hid_t space = H5Aget_space(attr);
            n_present = space >= 0 ? H5Sget_simple_extent_npoints(space) : 0;
            present = calloc((size_t)(n_present > 0 ? n_present : 1), sizeof *present);
            if (present && n_present > 0 && H5Aread(attr, H5T_NATIVE_INT64, present) < 0)
                n_present = 0;
            if (space >= 0) H5Sclose(space);
            H5Aclose(attr);
        }
        if (n_present == n_points)
            fprintf(out, "  %-16s %lld\n", "points", (long long)n_points);
        else
            fprintf(out, "  %-16s %lld of the sweep's %lld\n", "points", (long long)n_present,
                    (long long)n_points);
        print_sweep(out, file, present, n_present);
        for (int64_t i = 0; i < n_present; i++)
            print_point(out, file, present ? (int)present[i] : (int)i);
        free(present);
        H5Fclose(file);
    }
    quiet_end(&saved);
    if (status != MF_OK) mf_error_push_frame(__FILE__, __LINE__, __func__);
    return status;
}

/* ---------------------------------------------------------------------------------------
 * Merge: `marginfall merge OUT IN...`
 * ------------------------------------------------------------------------------------- */

typedef struct {
    hid_t destination;
    const char *const *skip;
    int failed;
} attribute_copy;

/* Copy one attribute as stored (variable-length strings included). */
static herr_t copy_attribute(hid_t source, const char *name, const H5A_info_t *info, void *data) {
    (void)info;
    attribute_copy *copy = data;
    for (const char *const *skip = copy->skip; *skip; skip++)
        if (strcmp(*skip, name) == 0) return 0;
    hid_t attr = H5Aopen(source, name, H5P_DEFAULT);
    hid_t type = attr >= 0 ? H5Aget_type(attr) : H5I_INVALID_HID;
    hid_t space = attr >= 0 ? H5Aget_space(attr) : H5I_INVALID_HID;
    const hssize_t n = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    const size_t size = type >= 0 ? H5Tget_size(type) : 0;
    void *buffer = n >= 0 && size > 0 ? calloc((size_t)(n > 0 ? n : 1), size) : NULL;
    herr_t status = buffer ? 0 : -1;
    if (status >= 0 && n > 0) status = H5Aread(attr, type, buffer);
    hid_t target = status >= 0
                       ? H5Acreate2(copy->destination, name, type, space, H5P_DEFAULT, H5P_DEFAULT)
                       : H5I_INVALID_HID;
    if (target < 0) status = -1;
    if (status >= 0 && n > 0) status = H5Awrite(target, type, buffer);
    if (buffer && n > 0 && H5Tis_variable_str(type) > 0)
        H5Dvlen_reclaim(type, space, H5P_DEFAULT, buffer);
    free(buffer);
    if (target >= 0) H5Aclose(target);
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    if (attr >= 0) H5Aclose(attr);
    if (status < 0) copy->failed = 1;
    return 0;
}

static int read_points_in_file(hid_t file, int64_t **points, int64_t *n) {
    *points = NULL;
    *n = 0;
    int64_t total = 0;
    read_attr_numbers(file, "points", H5T_NATIVE_INT64, &total, 1);
    hid_t attr = H5Aexists(file, "points_in_file") > 0
                     ? H5Aopen(file, "points_in_file", H5P_DEFAULT)
                     : H5I_INVALID_HID;
    if (attr < 0) { /* a 1.0 file: every point */
        *points = calloc((size_t)(total > 0 ? total : 1), sizeof **points);
        if (!*points) return -1;
        for (int64_t i = 0; i < total; i++)
            (*points)[i] = i;
        *n = total;
        return 0;
    }
    hid_t space = H5Aget_space(attr);
    const hssize_t count = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    *points = count >= 0 ? calloc((size_t)(count > 0 ? count : 1), sizeof **points) : NULL;
    const int ok = *points && (count == 0 || H5Aread(attr, H5T_NATIVE_INT64, *points) >= 0);
    if (space >= 0) H5Sclose(space);
    H5Aclose(attr);
    *n = ok ? count : 0;
    return ok ? 0 : -1;
}

static int strings_equal(const char *a, const char *b) {
    return a && b && strcmp(a, b) == 0;
}

typedef struct {
    const char *path;
    hid_t file;
    int64_t *points;
    int64_t n_points;
} merge_input;

static mf_status merge_check(merge_input *inputs, int n_inputs, int allow_gaps, int64_t *total_out,
                             int *owner_of, int64_t total_capacity) {
    (void)total_capacity;
    char *config0 = read_attr_string(inputs[0].file, "config");
    char *engine0 = read_attr_string(inputs[0].file, "engine_version");
    int32_t version0[2] = {0, 0};
    read_attr_numbers(inputs[0].file, "format_version", H5T_NATIVE_INT32, version0, 2);
    int64_t total0 = 0;
    read_attr_numbers(inputs[0].file, "points", H5T_NATIVE_INT64, &total0, 1);
    mf_status status = MF_OK;
    for (int i = 1; i < n_inputs && status == MF_OK; i++) {
        char *config = read_attr_string(inputs[i].file, "config");
        char *engine = read_attr_string(inputs[i].file, "engine_version");
        int32_t version[2] = {0, 0};
        read_attr_numbers(inputs[i].file, "format_version", H5T_NATIVE_INT32, version, 2);
        uint64_t seed0 = 0, seed = 0;
        int64_t paths0 = 0, paths = 0, total = 0;
        read_attr_numbers(inputs[0].file, "seed", H5T_NATIVE_UINT64, &seed0, 1);
        read_attr_numbers(inputs[i].file, "seed", H5T_NATIVE_UINT64, &seed, 1);
        read_attr_numbers(inputs[0].file, "paths", H5T_NATIVE_INT64, &paths0, 1);
        read_attr_numbers(inputs[i].file, "paths", H5T_NATIVE_INT64, &paths, 1);
        read_attr_numbers(inputs[i].file, "points", H5T_NATIVE_INT64, &total, 1);
        if (version[0] != version0[0] || version[1] != version0[1])
            status = MF_FAIL(
                MF_ERR_INPUT, "cannot merge: '%s' has format version %d.%d, '%s' %d.%d",
                inputs[i].path, version[0], version[1], inputs[0].path, version0[0], version0[1]);
        else if (!strings_equal(engine, engine0))
            status = MF_FAIL(
                MF_ERR_INPUT, "cannot merge: '%s' was made by marginfall %s, '%s' by %s",
                inputs[i].path, engine ? engine : "?", inputs[0].path, engine0 ? engine0 : "?");
        else if (seed != seed0)
            status = MF_FAIL(MF_ERR_INPUT, "cannot merge: '%s' has seed %llu, '%s' seed %llu",
                             inputs[i].path, (unsigned long long)seed, inputs[0].path,
                             (unsigned long long)seed0);
        else if (paths != paths0)
            status = MF_FAIL(MF_ERR_INPUT, "cannot merge: '%s' has %lld paths, '%s' %lld",
                             inputs[i].path, (long long)paths, inputs[0].path, (long long)paths0);
        else if (!strings_equal(config, config0) || total != total0)
            status = MF_FAIL(MF_ERR_INPUT,
                             "cannot merge: '%s' and '%s' come from different configurations "
                             "(compare their 'config' attributes)",
                             inputs[i].path, inputs[0].path);
        free(config);
        free(engine);
    }
    free(config0);
    free(engine0);
    MF_CHECK(status);
    for (int64_t p = 0; p < total0; p++)
        owner_of[p] = -1;
    for (int i = 0; i < n_inputs; i++)
        for (int64_t j = 0; j < inputs[i].n_points; j++) {
            const int64_t p = inputs[i].points[j];
            if (p < 0 || p >= total0)
                return MF_FAIL(MF_ERR_INPUT, "'%s' lists point %lld outside the sweep's %lld",
                               inputs[i].path, (long long)p, (long long)total0);
            if (owner_of[p] >= 0)
                return MF_FAIL(MF_ERR_INPUT, "cannot merge: point %lld is in both '%s' and '%s'",
                               (long long)p, inputs[owner_of[p]].path, inputs[i].path);
            owner_of[p] = i;
        }
    if (!allow_gaps) {
        int64_t missing = 0, first_missing = -1;
        for (int64_t p = 0; p < total0; p++)
            if (owner_of[p] < 0) {
                if (first_missing < 0) first_missing = p;
                missing++;
            }
        if (missing)
            return MF_FAIL(MF_ERR_INPUT,
                           "cannot merge: %lld of the sweep's %lld points are in no input (the "
                           "first is point %lld); pass --allow-gaps to merge anyway",
                           (long long)missing, (long long)total0, (long long)first_missing);
    }
    *total_out = total0;
    return MF_OK;
}

/* The merged file's digest from its points' digests, as the single job computes it. */
static mf_status merge_digest(const writer *w, hid_t file, const int64_t *points, int64_t n) {
    uint64_t *digests = calloc((size_t)(n > 0 ? n : 1), sizeof *digests);
    if (!digests) return MF_FAIL(MF_ERR_MEMORY, "out of memory");
    mf_status status = MF_OK;
    for (int64_t k = 0; k < n && status == MF_OK; k++) {
        char name[48];
        snprintf(name, sizeof name, "point_%lld", (long long)points[k]);
        hid_t group = H5Gopen2(file, name, H5P_DEFAULT);
        char *text = group >= 0 ? read_attr_string(group, "verification_digest") : NULL;
        if (group >= 0) H5Gclose(group);
        if (mf_digest_parse(text, &digests[k]) != 0)
            status = MF_FAIL(MF_ERR_INPUT,
                             "point %lld has no valid verification_digest (a file from an older "
                             "marginfall, or a damaged one)",
                             (long long)points[k]);
        free(text);
    }
    char digest[MF_DIGEST_TEXT_LEN];
    if (status == MF_OK) {
        mf_digest_format(mf_digest_combine(points, digests, n), digest);
        status = attr_string(w, file, "verification_digest", digest);
    }
    free(digests);
    return status;
}

mf_status mf_output_merge(const char *output_path, const char *const *input_paths, int n_inputs,
                          int force, int allow_gaps, const char *command_line) {
    if (n_inputs < 1) return MF_FAIL(MF_ERR_USAGE, "merge: no input files");
    for (int i = 0; i < n_inputs; i++)
        if (strcmp(input_paths[i], output_path) == 0)
            return MF_FAIL(MF_ERR_USAGE, "merge: the output '%s' is also an input", output_path);
    MF_CHECK(mf_output_check_target(output_path, force));
    h5_quiet saved;
    quiet_begin(&saved);
    merge_input *inputs = calloc((size_t)n_inputs, sizeof *inputs);
    mf_status status = inputs ? MF_OK : MF_FAIL(MF_ERR_MEMORY, "out of memory");
    int opened = 0;
    for (int i = 0; i < n_inputs && status == MF_OK; i++) {
        int32_t version[2];
        inputs[i].path = input_paths[i];
        status = info_open(input_paths[i], &inputs[i].file, version);
        if (status != MF_OK) break;
        opened = i + 1;
        if (read_points_in_file(inputs[i].file, &inputs[i].points, &inputs[i].n_points) != 0)
            status = MF_FAIL(MF_ERR_INPUT, "'%s': cannot read its list of points", input_paths[i]);
    }
    int64_t total = 0;
    int *owner_of = NULL;
    if (status == MF_OK) {
        int64_t capacity = 0;
        read_attr_numbers(inputs[0].file, "points", H5T_NATIVE_INT64, &capacity, 1);
        owner_of = calloc((size_t)(capacity > 0 ? capacity : 1), sizeof *owner_of);
        status = owner_of ? merge_check(inputs, n_inputs, allow_gaps, &total, owner_of, capacity)
                          : MF_FAIL(MF_ERR_MEMORY, "out of memory");
    }

    /* Build the merged file in memory, like the writer, then publish it atomically. */
    writer w = {.path = output_path, .string_type = H5I_INVALID_HID};
    hid_t file = H5I_INVALID_HID;
    char temp_path[4200];
    mf_output_temp_name(output_path, temp_path, sizeof temp_path);
    if (status == MF_OK) status = memory_file_open(&w, temp_path, &file);
    if (status == MF_OK) {
        static const char *const skip[] = {
            "command_line",        "created", "points_in_file", "wall_seconds", "merged_from",
            "verification_digest", NULL};
        attribute_copy copy = {file, skip, 0};
        hsize_t position = 0;
        H5Aiterate2(inputs[0].file, H5_INDEX_NAME, H5_ITER_INC, &position, copy_attribute, &copy);
        if (copy.failed) status = write_failed(&w, file, "", "root attributes of");
    }
    int64_t n_merged = 0;
    int64_t *merged = NULL;
    double wall = 0;
    if (status == MF_OK) {
        merged = calloc((size_t)(total > 0 ? total : 1), sizeof *merged);
        if (!merged) status = MF_FAIL(MF_ERR_MEMORY, "out of memory");
        for (int64_t p = 0; p < total && merged; p++)
            if (owner_of[p] >= 0) merged[n_merged++] = p;
        for (int i = 0; i < n_inputs; i++) {
            double seconds = 0;
            read_attr_numbers(inputs[i].file, "wall_seconds", H5T_NATIVE_DOUBLE, &seconds, 1);
            wall += seconds;
        }
    }
    char created[64];
    utc_now(created, sizeof created);
    if (status == MF_OK) status = attr_string(&w, file, "command_line", command_line);
    if (status == MF_OK) status = attr_string(&w, file, "created", created);
    if (status == MF_OK) status = attr_double(&w, file, "wall_seconds", wall);
    if (status == MF_OK)
        status = write_attr(&w, file, "points_in_file", H5T_NATIVE_INT64, H5T_STD_I64LE, 1,
                            (hsize_t)n_merged, merged);
    if (status == MF_OK) status = attr_strings(&w, file, "merged_from", input_paths, n_inputs);
    hid_t copy_properties = H5Pcreate(H5P_OBJECT_COPY);
    if (status == MF_OK && H5Lexists(inputs[0].file, "sweep", H5P_DEFAULT) > 0 &&
        H5Ocopy(inputs[0].file, "sweep", file, "sweep", copy_properties, H5P_DEFAULT) < 0)
        status = write_failed(&w, file, "sweep", "group");
    for (int64_t k = 0; k < n_merged && status == MF_OK; k++) {
        char name[48];
        snprintf(name, sizeof name, "point_%lld", (long long)merged[k]);
        const merge_input *source = &inputs[owner_of[merged[k]]];
        if (H5Lexists(source->file, name, H5P_DEFAULT) <= 0)
            status = MF_FAIL(MF_ERR_INPUT, "'%s' lists point %lld but has no group '%s'",
                             source->path, (long long)merged[k], name);
        else if (H5Ocopy(source->file, name, file, name, copy_properties, H5P_DEFAULT) < 0)
            status = write_failed(&w, file, name, "group");
    }
    if (copy_properties >= 0) H5Pclose(copy_properties);
    if (status == MF_OK) status = merge_digest(&w, file, merged, n_merged);
    if (file >= 0) status = memory_file_close(&w, file, status, temp_path);
    for (int i = 0; i < opened; i++)
        H5Fclose(inputs[i].file);
    for (int i = 0; i < n_inputs && inputs; i++)
        free(inputs[i].points);
    free(inputs);
    free(owner_of);
    free(merged);
    quiet_end(&saved);
    if (status == MF_OK) status = mf_output_publish(temp_path, output_path, force);
    if (status != MF_OK) {
        unlink(temp_path);
        mf_error_push_frame(__FILE__, __LINE__, __func__);
    }
    return status;
}
