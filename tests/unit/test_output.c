/* The HDF5 result file: layout read back with the HDF5 C API, dimension scales, overwrite
 * protection, temporary files, determinism and `info`. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <hdf5.h>
#include <hdf5_hl.h>

#include "helpers.h"
#include "mf_version.h"
#include "output.h"
#include "results.h"

#define N_BINS 6
#define N_STEPS 7

/* ---- fixtures ----------------------------------------------------------------------- */

static void build_point(mf_point_result *p, int index, int64_t n_paths, int with_paths) {
    memset(p, 0, sizeof *p);
    p->point_index = index;
    p->n_paths = n_paths;
    p->n_steps = N_STEPS;
    for (int m = 0; m < MF_METRIC_COUNT; m++) {
        const mf_metric_info *info = mf_metric_describe((mf_metric_id)m);
        mf_metric_result *r = &p->metrics[m];
        r->n_bins = N_BINS;
        r->edges = malloc((N_BINS + 1) * sizeof *r->edges);
        r->counts = malloc(N_BINS * sizeof *r->counts);
        double ratio = pow(info->hist_max / info->hist_min, 1.0 / N_BINS);
        for (int b = 0; b <= N_BINS; b++)
            r->edges[b] = info->hist_min * pow(ratio, b);
        for (int b = 0; b < N_BINS; b++)
            r->counts[b] = (int64_t)(b * 3 + m);
        r->mean = (m + 1) / 3.0;
        r->m2 = (m + 1) * 0.1;
        r->min = -0.0;
        r->max = 1e300 / (m + 1);
        r->underflow = 5 + m;
        r->overflow = 2 * m;
        /* Five levels: the writer takes the count from the result, not a constant. */
        static const double levels[] = {0.5, 0.9, 0.95, 0.99, 0.999};
        r->n_quantiles = 5;
        r->mean_standard_error = (m + 1) * 0.01;
        for (int q = 0; q < r->n_quantiles; q++) {
            r->levels[q] = levels[q];
            r->quantiles[q] = (m + 1) * (q + 1) / 7.0;
            r->quantile_ci_low[q] = (m + 1) * (q + 0.5) / 7.0;
            r->quantile_ci_high[q] = q == 4 ? NAN : (m + 1) * (q + 1.5) / 7.0;
            r->expected_shortfall[q] = (m + 1) * (q + 2) / 7.0;
            r->expected_shortfall_standard_error[q] = q == 4 ? NAN : (m + 1) * 0.001 * (q + 1);
            r->tail_samples[q] = (int64_t)(1000 - 200 * q);
        }
        if (!info->per_cascade) {
            r->count = n_paths; /* a per-path metric has one value per path */
            r->path_values = malloc((size_t)(n_paths > 0 ? n_paths : 1) * sizeof *r->path_values);
            for (int64_t i = 0; i < r->count; i++)
                r->path_values[i] = (double)(i * (m + 1)) / 3.0;
        }
        /* Every sample in underflow, a bin or overflow: readers check the sum. */
        int64_t binned = r->overflow;
        for (int b = 0; b < N_BINS; b++)
            binned += r->counts[b];
        if (binned > r->count) {
            memset(r->counts, 0, N_BINS * sizeof *r->counts);
            r->overflow = binned = 0;
        }
        r->underflow = r->count - binned;
    }
    p->metrics[MF_METRIC_LIQUIDATED_NOTIONAL].mean = 1.23e9;
    p->metrics[MF_METRIC_LIQUIDATED_NOTIONAL].quantiles[1] = 45.6e6;
    /* A metric without samples: its quantiles are NaN (readers refuse NaN beside samples). */
    mf_metric_result *empty = &p->metrics[MF_METRIC_CASCADE_DURATION];
    memset(empty->counts, 0, N_BINS * sizeof *empty->counts);
    empty->count = empty->underflow = empty->overflow = 0;
    empty->quantiles[0] = NAN;
    p->profile_liquidated_notional = malloc(N_STEPS * sizeof(double));
    p->profile_liquidated_accounts = malloc(N_STEPS * sizeof(double));
    p->profile_fund = malloc(N_STEPS * sizeof(double));
    for (int t = 0; t < N_STEPS; t++) {
        p->profile_liquidated_notional[t] = t * 1234.5 + 0.1;
        p->profile_liquidated_accounts[t] = t / 3.0;
        p->profile_fund[t] = 1e8 - t * 0.7;
    }
    p->prob_bad_debt = 0.123;
    p->prob_fund_shortfall = 0.0456;
    p->prob_bad_debt_standard_error = 0.0104;
    p->prob_fund_shortfall_standard_error = 0.0066;
    p->prob_bad_debt_ci[0] = 0.104;
    p->prob_bad_debt_ci[1] = 0.145;
    p->prob_fund_shortfall_ci[0] = 0.0345;
    p->prob_fund_shortfall_ci[1] = 0.0601;
    if (with_paths) {
        p->paths = calloc((size_t)n_paths, sizeof *p->paths);
        for (int64_t i = 0; i < n_paths; i++) {
            mf_path_row *row = &p->paths[i];
            row->path_index = i;
            row->liquidated_notional = i * 1.5e6 + 0.3;
            row->liquidated_accounts = i * 7;
            row->bad_debt = i % 3 == 0 ? 0.0 : i / 9.0;
            row->uncovered_deficit = i / 11.0;
            row->fund_min = 1e7 - i;
            row->mark_drawdown = 1.0 / (i + 2);
            row->index_drawdown = 1.0 / (i + 3);
            row->cascades = (int32_t)(i % 5);
            row->largest_cascade = i * 0.25;
            row->max_rounds = (int32_t)(i % 4);
        }
    }
}

static const char *const asset_names[] = {"BTC", "ETH"};

static mf_run_info run_info(uint64_t seed) {
    mf_run_info info = {
        .config_yaml = "run:\n  paths: 10\n",
        .config_file = "scenarios/test.yaml",
        .command_line = "marginfall run scenarios/test.yaml -o out.h5",
        .seed = seed,
        .paths = 10,
        .ranks = 2,
        .threads = 3,
        .wall_seconds = 12.5,
        .accounts = 1000,
        .positions = 1500,
        .n_assets = 2,
        .asset_names = asset_names,
    };
    return info;
}

static char *path_in(const char *dir, const char *name) {
    static char buffers[4][512];
    static int next;
    char *buffer = buffers[next++ % 4];
    snprintf(buffer, 512, "%s/%s", dir, name);
    return buffer;
}

static long read_bytes(const char *path, char **data) {
    FILE *file = fopen(path, "rb");
    if (!file) return -1;
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, 0, SEEK_SET);
    *data = malloc((size_t)size + 1);
    size_t got = fread(*data, 1, (size_t)size, file);
    fclose(file);
    return (long)got == size ? size : -1;
}

/* Entries of dir whose name contains needle. */
static int count_entries(const char *dir, const char *needle) {
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    int n = 0;
    struct dirent *entry;
    while ((entry = readdir(d)))
        if (strcmp(entry->d_name, ".") && strcmp(entry->d_name, "..") &&
            strstr(entry->d_name, needle))
            n++;
    closedir(d);
    return n;
}

static void write_two_point_file(const char *path, uint64_t seed, int64_t n_paths) {
    mf_point_result points[2];
    build_point(&points[0], 0, n_paths, 1);
    build_point(&points[1], 1, 4, 0);
    mf_run_info info = run_info(seed);
    mf_status status = mf_output_write(path, 0, &info, points, 2);
    cr_assert_eq(status, MF_OK, "write failed: %s", mf_error_message());
    mf_point_result_free(&points[0]);
    mf_point_result_free(&points[1]);
}

static char *attr_text(hid_t loc, const char *name) {
    hid_t attr = H5Aopen(loc, name, H5P_DEFAULT);
    cr_assert_geq(attr, 0, "attribute %s missing", name);
    hid_t type = H5Aget_type(attr);
    cr_assert(H5Tis_variable_str(type) > 0, "attribute %s is not a variable-length string", name);
    hid_t mem = H5Tcopy(H5T_C_S1);
    H5Tset_size(mem, H5T_VARIABLE);
    H5Tset_cset(mem, H5T_CSET_UTF8);
    char *text = NULL;
    cr_assert_geq(H5Aread(attr, mem, &text), 0);
    char *copy = strdup(text);
    hid_t space = H5Aget_space(attr);
    H5Dvlen_reclaim(mem, space, H5P_DEFAULT, &text);
    H5Sclose(space);
    H5Tclose(mem);
    H5Tclose(type);
    H5Aclose(attr);
    return copy;
}

static void expect_attr_text(hid_t loc, const char *name, const char *expected) {
    char *text = attr_text(loc, name);
    cr_expect_str_eq(text, expected, "attribute %s", name);
    free(text);
}

static void expect_dataset(hid_t loc, const char *name, hid_t mem, const void *expected, size_t n,
                           size_t size) {
    hid_t dataset = H5Dopen2(loc, name, H5P_DEFAULT);
    cr_assert_geq(dataset, 0, "dataset %s missing", name);
    hid_t space = H5Dget_space(dataset);
    cr_assert_eq((size_t)H5Sget_simple_extent_npoints(space), n, "dataset %s size", name);
    unsigned char *buffer = malloc(n * size + 1);
    cr_assert_geq(H5Dread(dataset, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer), 0);
    cr_expect(memcmp(buffer, expected, n * size) == 0, "dataset %s differs", name);
    free(buffer);
    H5Sclose(space);
    H5Dclose(dataset);
}

/* ---- the metric table ------------------------------------------------------------- */

Test(results, metric_table_is_complete_and_ranges_match_units) {
    for (int m = 0; m < MF_METRIC_COUNT; m++) {
        const mf_metric_info *info = mf_metric_describe((mf_metric_id)m);
        cr_assert_not_null(info);
        cr_assert(info->name && info->unit && info->description && *info->description);
        cr_assert_gt(info->hist_min, 0);
        cr_assert_gt(info->hist_max, info->hist_min);
        for (int other = 0; other < m; other++)
            cr_assert_str_neq(info->name, mf_metric_describe((mf_metric_id)other)->name);
        if (strcmp(info->unit, "USD") == 0) {
            cr_expect_eq(info->hist_min, 1e3);
            cr_expect_eq(info->hist_max, 1e13);
        } else if (strcmp(info->unit, "fraction") == 0) {
            cr_expect_eq(info->hist_min, 1e-4);
            cr_expect_eq(info->hist_max, 1.0);
        }
    }
    cr_expect_str_eq(mf_metric_describe(MF_METRIC_LIQUIDATED_NOTIONAL)->name,
                     "liquidated_notional");
    cr_expect_eq(mf_metric_describe(MF_METRIC_CASCADE_NOTIONAL)->per_cascade, 1);
    cr_expect_eq(mf_metric_describe(MF_METRIC_BAD_DEBT)->per_cascade, 0);
    cr_expect_eq(mf_metric_describe(MF_METRIC_CASCADE_AMPLIFICATION)->hist_min, 1e-2);
    cr_expect_eq(mf_metric_describe(MF_METRIC_CASCADE_DURATION)->hist_max, 1e5);
    cr_expect_eq(mf_metric_describe(MF_METRIC_LIQUIDATED_ACCOUNTS)->hist_max, 1e7);
    cr_expect_null(mf_metric_describe(MF_METRIC_COUNT));
    mf_metric_result metric = {.n_quantiles = 3, .levels = {0.9, 0.99, 0.999}};
    cr_expect_eq(mf_metric_level_index(&metric, 0.99), 1);
    cr_expect_eq(mf_metric_level_index(&metric, 0.999), 2);
    cr_expect_eq(mf_metric_level_index(&metric, 0.95), -1);
}

Test(results, free_releases_and_clears) {
    mf_point_result point;
    build_point(&point, 0, 3, 1);
    mf_point_result_free(&point);
    cr_expect_null(point.paths);
    cr_expect_null(point.profile_fund);
    cr_expect_null(point.metrics[0].edges);
    mf_point_result_free(&point); /* twice is harmless */
    mf_point_result_free(NULL);
}

/* ---- layout --------------------------------------------------------------------------- */

Test(output, writes_every_value_bit_for_bit) {
    const char *dir = mf_test_tmpdir();
    const char *path = path_in(dir, "out.h5");
    mf_point_result expected[2];
    build_point(&expected[0], 0, 9, 1);
    build_point(&expected[1], 1, 4, 0);
    write_two_point_file(path, 42, 9);

    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    cr_assert_geq(file, 0);
    expect_attr_text(file, "format", "marginfall");
    expect_attr_text(file, "engine_version", MF_VERSION_STRING);
    expect_attr_text(file, "git_commit", MF_GIT_COMMIT);
    expect_attr_text(file, "config", "run:\n  paths: 10\n");
    expect_attr_text(file, "config_file", "scenarios/test.yaml");
    expect_attr_text(file, "command_line", "marginfall run scenarios/test.yaml -o out.h5");
    char *created = attr_text(file, "created");
    cr_expect_eq(strlen(created), 20, "created '%s' is not YYYY-MM-DDTHH:MM:SSZ", created);
    cr_expect_eq(created[10], 'T');
    cr_expect_eq(created[19], 'Z');
    free(created);
    for (const char *const *name = (const char *const[]){"compiler", "compile_flags", NULL}; *name;
         name++)
        free(attr_text(file, *name));
    int32_t version[2];
    cr_assert_geq(H5LTget_attribute(file, ".", "format_version", H5T_NATIVE_INT32, version), 0);
    cr_expect_eq(version[0], MF_FORMAT_VERSION_MAJOR);
    cr_expect_eq(version[1], MF_FORMAT_VERSION_MINOR);
    uint64_t seed;
    int64_t paths, accounts, positions;
    int32_t ranks, threads, points;
    double wall;
    H5LTget_attribute(file, ".", "seed", H5T_NATIVE_UINT64, &seed);
    H5LTget_attribute(file, ".", "paths", H5T_NATIVE_INT64, &paths);
    H5LTget_attribute(file, ".", "accounts", H5T_NATIVE_INT64, &accounts);
    H5LTget_attribute(file, ".", "positions", H5T_NATIVE_INT64, &positions);
    H5LTget_attribute(file, ".", "ranks", H5T_NATIVE_INT32, &ranks);
    H5LTget_attribute(file, ".", "threads", H5T_NATIVE_INT32, &threads);
    H5LTget_attribute(file, ".", "points", H5T_NATIVE_INT32, &points);
    H5LTget_attribute(file, ".", "wall_seconds", H5T_NATIVE_DOUBLE, &wall);
    cr_expect_eq(seed, 42);
    cr_expect_eq(paths, 10);
    cr_expect_eq(accounts, 1000);
    cr_expect_eq(positions, 1500);
    cr_expect_eq(ranks, 2);
    cr_expect_eq(threads, 3);
    cr_expect_eq(points, 2);
    cr_expect_eq(wall, 12.5);

    /* assets: array of variable-length strings */
    hid_t attr = H5Aopen(file, "assets", H5P_DEFAULT);
    hid_t mem = H5Tcopy(H5T_C_S1);
    H5Tset_size(mem, H5T_VARIABLE);
    H5Tset_cset(mem, H5T_CSET_UTF8);
    char *assets[2] = {0};
    cr_assert_geq(H5Aread(attr, mem, assets), 0);
    cr_expect_str_eq(assets[0], "BTC");
    cr_expect_str_eq(assets[1], "ETH");
    hid_t space = H5Aget_space(attr);
    H5Dvlen_reclaim(mem, space, H5P_DEFAULT, assets);
    H5Sclose(space);
    H5Tclose(mem);
    H5Aclose(attr);

    for (int i = 0; i < 2; i++) {
        const mf_point_result *p = &expected[i];
        char name[64];
        snprintf(name, sizeof name, "point_%d", i);
        hid_t group = H5Gopen2(file, name, H5P_DEFAULT);
        cr_assert_geq(group, 0);
        int32_t point_index;
        H5LTget_attribute(group, ".", "point_index", H5T_NATIVE_INT32, &point_index);
        cr_expect_eq(point_index, i);
        expect_dataset(group, "prob_bad_debt", H5T_NATIVE_DOUBLE, &p->prob_bad_debt, 1, 8);
        expect_dataset(group, "prob_fund_shortfall", H5T_NATIVE_DOUBLE, &p->prob_fund_shortfall, 1,
                       8);
        expect_dataset(group, "n_paths", H5T_NATIVE_INT64, &p->n_paths, 1, 8);
        expect_dataset(group, "prob_bad_debt_standard_error", H5T_NATIVE_DOUBLE,
                       &p->prob_bad_debt_standard_error, 1, 8);
        expect_dataset(group, "prob_bad_debt_ci_low", H5T_NATIVE_DOUBLE, &p->prob_bad_debt_ci[0], 1,
                       8);
        expect_dataset(group, "prob_bad_debt_ci_high", H5T_NATIVE_DOUBLE, &p->prob_bad_debt_ci[1],
                       1, 8);
        expect_dataset(group, "prob_fund_shortfall_standard_error", H5T_NATIVE_DOUBLE,
                       &p->prob_fund_shortfall_standard_error, 1, 8);
        expect_dataset(group, "prob_fund_shortfall_ci_low", H5T_NATIVE_DOUBLE,
                       &p->prob_fund_shortfall_ci[0], 1, 8);
        expect_dataset(group, "prob_fund_shortfall_ci_high", H5T_NATIVE_DOUBLE,
                       &p->prob_fund_shortfall_ci[1], 1, 8);
        for (int m = 0; m < MF_METRIC_COUNT; m++) {
            const mf_metric_info *info = mf_metric_describe((mf_metric_id)m);
            const mf_metric_result *r = &p->metrics[m];
            snprintf(name, sizeof name, "metrics/%s", info->name);
            hid_t metric = H5Gopen2(group, name, H5P_DEFAULT);
            cr_assert_geq(metric, 0, "%s missing", name);
            expect_attr_text(metric, "unit", info->unit);
            expect_attr_text(metric, "description", info->description);
            expect_attr_text(metric, "per", info->per_cascade ? "cascade" : "path");
            expect_dataset(metric, "sample_count", H5T_NATIVE_INT64, &r->count, 1, 8);
            expect_dataset(metric, "sample_mean", H5T_NATIVE_DOUBLE, &r->mean, 1, 8);
            expect_dataset(metric, "sample_m2", H5T_NATIVE_DOUBLE, &r->m2, 1, 8);
            expect_dataset(metric, "sample_min", H5T_NATIVE_DOUBLE, &r->min, 1, 8);
            expect_dataset(metric, "sample_max", H5T_NATIVE_DOUBLE, &r->max, 1, 8);
            expect_dataset(metric, "bin_edges", H5T_NATIVE_DOUBLE, r->edges, N_BINS + 1, 8);
            expect_dataset(metric, "counts", H5T_NATIVE_INT64, r->counts, N_BINS, 8);
            expect_dataset(metric, "underflow", H5T_NATIVE_INT64, &r->underflow, 1, 8);
            expect_dataset(metric, "overflow", H5T_NATIVE_INT64, &r->overflow, 1, 8);
            const int nq = r->n_quantiles;
            expect_dataset(metric, "quantile_levels", H5T_NATIVE_DOUBLE, r->levels, nq, 8);
            expect_dataset(metric, "quantiles", H5T_NATIVE_DOUBLE, r->quantiles, nq, 8);
            expect_dataset(metric, "expected_shortfall", H5T_NATIVE_DOUBLE, r->expected_shortfall,
                           nq, 8);
            expect_dataset(metric, "mean_standard_error", H5T_NATIVE_DOUBLE,
                           &r->mean_standard_error, 1, 8);
            expect_dataset(metric, "quantile_ci_low", H5T_NATIVE_DOUBLE, r->quantile_ci_low, nq, 8);
            expect_dataset(metric, "quantile_ci_high", H5T_NATIVE_DOUBLE, r->quantile_ci_high, nq,
                           8);
            expect_dataset(metric, "expected_shortfall_standard_error", H5T_NATIVE_DOUBLE,
                           r->expected_shortfall_standard_error, nq, 8);
            expect_dataset(metric, "tail_samples", H5T_NATIVE_INT64, r->tail_samples, nq, 8);
            cr_expect_eq(H5Lexists(metric, "path_values", H5P_DEFAULT), 0,
                         "%s: path values belong to the point's path_values group", name);
            if (r->path_values) {
                hid_t values = H5Gopen2(group, "path_values", H5P_DEFAULT);
                cr_assert_geq(values, 0, "point_%d/path_values missing", i);
                expect_dataset(values, info->name, H5T_NATIVE_DOUBLE, r->path_values, r->count, 8);
                H5Gclose(values);
            } else {
                snprintf(name, sizeof name, "path_values/%s", info->name);
                cr_expect(H5Lexists(group, "path_values", H5P_DEFAULT) <= 0 ||
                              H5Lexists(group, name, H5P_DEFAULT) <= 0,
                          "%s written for a per-cascade metric", name);
            }
            double centers[N_BINS];
            for (int b = 0; b < N_BINS; b++)
                centers[b] = sqrt(r->edges[b] * r->edges[b + 1]);
            expect_dataset(metric, "bin_center", H5T_NATIVE_DOUBLE, centers, N_BINS, 8);
            H5Gclose(metric);
        }
        hid_t profile = H5Gopen2(group, "profile", H5P_DEFAULT);
        cr_assert_geq(profile, 0);
        int32_t steps[N_STEPS];
        for (int t = 0; t < N_STEPS; t++)
            steps[t] = t;
        expect_dataset(profile, "step", H5T_NATIVE_INT32, steps, N_STEPS, 4);
        expect_dataset(profile, "liquidated_notional", H5T_NATIVE_DOUBLE,
                       p->profile_liquidated_notional, N_STEPS, 8);
        expect_dataset(profile, "liquidated_accounts", H5T_NATIVE_DOUBLE,
                       p->profile_liquidated_accounts, N_STEPS, 8);
        expect_dataset(profile, "fund", H5T_NATIVE_DOUBLE, p->profile_fund, N_STEPS, 8);
        hid_t fund = H5Dopen2(profile, "fund", H5P_DEFAULT);
        expect_attr_text(fund, "unit", "USD");
        H5Dclose(fund);
        H5Gclose(profile);

        cr_expect_eq(H5Lexists(group, "paths", H5P_DEFAULT) > 0, p->paths != NULL);
        if (p->paths) {
            hid_t table = H5Gopen2(group, "paths", H5P_DEFAULT);
            size_t n = (size_t)p->n_paths;
            int64_t *i64 = malloc(n * 8);
            double *f64 = malloc(n * 8);
            int32_t *i32 = malloc(n * 4);
#define COLUMN(field, buffer, mem, size)                                                           \
    do {                                                                                           \
        for (size_t r = 0; r < n; r++)                                                             \
            buffer[r] = p->paths[r].field;                                                         \
        expect_dataset(table, #field, mem, buffer, n, size);                                       \
    } while (0)
            COLUMN(path_index, i64, H5T_NATIVE_INT64, 8);
            COLUMN(liquidated_notional, f64, H5T_NATIVE_DOUBLE, 8);
            COLUMN(liquidated_accounts, i64, H5T_NATIVE_INT64, 8);
            COLUMN(bad_debt, f64, H5T_NATIVE_DOUBLE, 8);
            COLUMN(uncovered_deficit, f64, H5T_NATIVE_DOUBLE, 8);
            COLUMN(fund_min, f64, H5T_NATIVE_DOUBLE, 8);
            COLUMN(mark_drawdown, f64, H5T_NATIVE_DOUBLE, 8);
            COLUMN(index_drawdown, f64, H5T_NATIVE_DOUBLE, 8);
            COLUMN(cascades, i32, H5T_NATIVE_INT32, 4);
            COLUMN(largest_cascade, f64, H5T_NATIVE_DOUBLE, 8);
            COLUMN(max_rounds, i32, H5T_NATIVE_INT32, 4);
#undef COLUMN
            free(i64);
            free(f64);
            free(i32);
            H5Gclose(table);
        }
        H5Gclose(group);
    }
    H5Fclose(file);
    mf_point_result_free(&expected[0]);
    mf_point_result_free(&expected[1]);
    cr_expect_eq(count_entries(dir, ".tmp."), 0);
}

static void expect_scale(hid_t loc, const char *scale, const char *const *targets, int n) {
    hid_t scale_id = H5Dopen2(loc, scale, H5P_DEFAULT);
    cr_assert_geq(scale_id, 0, "%s missing", scale);
    cr_expect_gt(H5DSis_scale(scale_id), 0, "%s is not a dimension scale", scale);
    for (int i = 0; i < n; i++) {
        hid_t target = H5Dopen2(loc, targets[i], H5P_DEFAULT);
        cr_assert_geq(target, 0);
        cr_expect_gt(H5DSis_attached(target, scale_id, 0), 0, "%s not attached to %s", scale,
                     targets[i]);
        H5Dclose(target);
    }
    H5Dclose(scale_id);
}

Test(output, dimension_scales_are_attached) {
    const char *dir = mf_test_tmpdir();
    const char *path = path_in(dir, "scales.h5");
    write_two_point_file(path, 1, 5);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t profile = H5Gopen2(file, "point_0/profile", H5P_DEFAULT);
    expect_scale(profile, "step",
                 (const char *const[]){"liquidated_notional", "liquidated_accounts", "fund"}, 3);
    H5Gclose(profile);
    hid_t metric = H5Gopen2(file, "point_1/metrics/bad_debt", H5P_DEFAULT);
    expect_scale(metric, "bin_center", (const char *const[]){"counts"}, 1);
    expect_scale(metric, "bin_edges", NULL, 0);
    expect_scale(metric, "quantile_levels",
                 (const char *const[]){"quantiles", "expected_shortfall"}, 2);
    hid_t edges = H5Dopen2(metric, "bin_edges", H5P_DEFAULT);
    char dim_name[32] = "";
    H5DSget_scale_name(edges, dim_name, sizeof dim_name);
    cr_expect_str_eq(dim_name, "edge");
    H5Dclose(edges);
    H5Gclose(metric);
    hid_t table = H5Gopen2(file, "point_0/paths", H5P_DEFAULT);
    expect_scale(table, "path_index",
                 (const char *const[]){"liquidated_notional", "liquidated_accounts", "bad_debt",
                                       "uncovered_deficit", "fund_min", "mark_drawdown",
                                       "index_drawdown", "cascades", "largest_cascade",
                                       "max_rounds"},
                 10);
    H5Gclose(table);
    H5Fclose(file);
}

/* ---- determinism and compression ------------------------------------------------------- */

typedef struct {
    hid_t other;
    int compared;
} compare_state;

static herr_t compare_dataset(hid_t object, const char *name, const H5O_info_t *info, void *data) {
    compare_state *state = data;
    if (info->type != H5O_TYPE_DATASET) return 0;
    hid_t a = H5Dopen2(object, name, H5P_DEFAULT);
    hid_t b = H5Dopen2(state->other, name, H5P_DEFAULT);
    cr_assert_geq(b, 0, "dataset %s missing from the second file", name);
    hid_t type = H5Dget_type(a);
    hid_t space = H5Dget_space(a);
    size_t bytes = H5Tget_size(type) * (size_t)H5Sget_simple_extent_npoints(space);
    unsigned char *x = malloc(bytes + 1), *y = malloc(bytes + 1);
    cr_assert_geq(H5Dread(a, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, x), 0);
    cr_assert_geq(H5Dread(b, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, y), 0);
    cr_expect(memcmp(x, y, bytes) == 0, "dataset %s differs between identical runs", name);
    hsize_t stored_a = H5Dget_storage_size(a), stored_b = H5Dget_storage_size(b);
    cr_expect_eq(stored_a, stored_b, "dataset %s stored size differs", name);
    free(x);
    free(y);
    H5Sclose(space);
    H5Tclose(type);
    H5Dclose(a);
    H5Dclose(b);
    state->compared++;
    return 0;
}

Test(output, datasets_are_identical_for_identical_inputs_and_large_tables_compressed) {
    const char *dir = mf_test_tmpdir();
    const char *first = path_in(dir, "a.h5");
    const char *second = path_in(dir, "b.h5");
    write_two_point_file(first, 7, 5000);
    sleep(1); /* a different `created` attribute */
    write_two_point_file(second, 7, 5000);
    hid_t a = H5Fopen(first, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t b = H5Fopen(second, H5F_ACC_RDONLY, H5P_DEFAULT);
    compare_state state = {b, 0};
    cr_assert_geq(H5Ovisit(a, H5_INDEX_NAME, H5_ITER_INC, compare_dataset, &state), 0);
    cr_expect_gt(state.compared, 2 * MF_METRIC_COUNT * 10);

    hid_t dataset = H5Dopen2(a, "point_0/paths/liquidated_notional", H5P_DEFAULT);
    hid_t dcpl = H5Dget_create_plist(dataset);
    cr_expect_eq(H5Pget_layout(dcpl), H5D_CHUNKED);
    cr_expect_eq(H5Pget_nfilters(dcpl), 2);
    unsigned flags, level = 0;
    size_t n_values = 1;
    char filter_name[32];
    cr_expect_eq(
        H5Pget_filter2(dcpl, 0, &flags, &n_values, &level, sizeof filter_name, filter_name, NULL),
        H5Z_FILTER_DEFLATE);
    cr_expect_eq(level, 4);
    n_values = 0;
    cr_expect_eq(
        H5Pget_filter2(dcpl, 1, &flags, &n_values, NULL, sizeof filter_name, filter_name, NULL),
        H5Z_FILTER_FLETCHER32);
    H5Pclose(dcpl);
    H5Dclose(dataset);
    /* Format 1.5: small arrays are chunked too, for their Fletcher32 checksum, not deflated. */
    dataset = H5Dopen2(a, "point_0/profile/fund", H5P_DEFAULT);
    dcpl = H5Dget_create_plist(dataset);
    cr_expect_eq(H5Pget_layout(dcpl), H5D_CHUNKED);
    cr_expect_eq(H5Pget_nfilters(dcpl), 1);
    cr_expect_eq(
        H5Pget_filter2(dcpl, 0, &flags, &n_values, NULL, sizeof filter_name, filter_name, NULL),
        H5Z_FILTER_FLETCHER32);
    H5Pclose(dcpl);
    H5Dclose(dataset);
    H5Fclose(a);
    H5Fclose(b);
}

/* ---- overwrite protection and temporary files ------------------------------------------ */

Test(output, refuses_to_overwrite_without_force) {
    const char *dir = mf_test_tmpdir();
    const char *path = path_in(dir, "keep.h5");
    write_two_point_file(path, 1, 3);
    char *before = NULL, *after = NULL;
    long size_before = read_bytes(path, &before);
    cr_assert_gt(size_before, 0);

    mf_error_clear();
    cr_expect_eq(mf_output_check_target(path, 0), MF_ERR_OUTPUT);
    cr_expect(strstr(mf_error_message(), path) != NULL, "message: %s", mf_error_message());
    cr_expect(strstr(mf_error_message(), "--force") != NULL, "message: %s", mf_error_message());
    cr_expect_eq(mf_output_check_target(path, 1), MF_OK);

    mf_point_result point;
    build_point(&point, 0, 3, 1);
    mf_run_info info = run_info(99);
    mf_error_clear();
    cr_expect_eq(mf_output_write(path, 0, &info, &point, 1), MF_ERR_OUTPUT);
    cr_expect(strstr(mf_error_message(), "--force") != NULL, "message: %s", mf_error_message());
    long size_after = read_bytes(path, &after);
    cr_assert_eq(size_after, size_before);
    cr_expect(memcmp(before, after, (size_t)size_before) == 0, "the existing file changed");
    free(after);
    cr_expect_eq(count_entries(dir, ".tmp."), 0);

    cr_assert_eq(mf_output_write(path, 1, &info, &point, 1), MF_OK, "%s", mf_error_message());
    uint64_t seed = 0;
    int32_t points = 0;
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    H5LTget_attribute(file, ".", "seed", H5T_NATIVE_UINT64, &seed);
    H5LTget_attribute(file, ".", "points", H5T_NATIVE_INT32, &points);
    H5Fclose(file);
    cr_expect_eq(seed, 99);
    cr_expect_eq(points, 1);
    cr_expect_eq(count_entries(dir, ".tmp."), 0);
    cr_expect_eq(count_entries(dir, "keep.h5"), 1);
    free(before);
    mf_point_result_free(&point);
}

Test(output, missing_directory_fails_cleanly) {
    const char *dir = mf_test_tmpdir();
    const char *path = path_in(dir, "no/such/dir/out.h5");
    mf_point_result point;
    build_point(&point, 0, 3, 1);
    mf_run_info info = run_info(1);
    mf_error_clear();
    cr_expect_eq(mf_output_check_target(path, 1), MF_ERR_OUTPUT);
    cr_expect_eq(mf_output_write(path, 1, &info, &point, 1), MF_ERR_OUTPUT);
    cr_expect(strstr(mf_error_message(), "does not exist") != NULL, "message: %s",
              mf_error_message());
    cr_expect(strstr(mf_error_message(), path) != NULL, "message: %s", mf_error_message());
    cr_expect_eq(count_entries(dir, ""), 0);
    cr_expect_eq(mf_output_check_target(dir, 1), MF_ERR_OUTPUT); /* a directory */
    mf_point_result_free(&point);
}

Test(output, failure_while_writing_leaves_no_temp_file_and_keeps_the_old_file) {
    const char *dir = mf_test_tmpdir();
    const char *path = path_in(dir, "big.h5");
    write_two_point_file(path, 1, 3);
    char *before = NULL, *after = NULL;
    long size_before = read_bytes(path, &before);

    /* A file-size limit makes HDF5's writes fail part way through the file. */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit limit = {.rlim_cur = 256 * 1024, .rlim_max = RLIM_INFINITY};
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &limit), 0);
    mf_point_result point;
    build_point(&point, 0, 200000, 1);
    mf_run_info info = run_info(5);
    mf_error_clear();
    mf_status status = mf_output_write(path, 1, &info, &point, 1);
    limit.rlim_cur = RLIM_INFINITY;
    setrlimit(RLIMIT_FSIZE, &limit);
    cr_expect_eq(status, MF_ERR_OUTPUT);
    cr_expect(strstr(mf_error_message(), "big.h5") != NULL, "message: %s", mf_error_message());
    cr_expect_eq(count_entries(dir, ".tmp."), 0);
    long size_after = read_bytes(path, &after);
    cr_assert_eq(size_after, size_before);
    cr_expect(memcmp(before, after, (size_t)size_before) == 0, "the existing file changed");
    free(before);
    free(after);
    mf_point_result_free(&point);
}

Test(output, bad_point_is_an_internal_error_before_any_file) {
    const char *dir = mf_test_tmpdir();
    mf_point_result point;
    build_point(&point, 0, 3, 0);
    free(point.metrics[2].counts);
    point.metrics[2].counts = NULL;
    mf_run_info info = run_info(1);
    cr_expect_eq(mf_output_write(path_in(dir, "x.h5"), 0, &info, &point, 1), MF_ERR_INTERNAL);
    cr_expect_eq(count_entries(dir, ""), 0);
    mf_point_result_free(&point);
}

/* ---- info ------------------------------------------------------------------------------ */

static char *info_text(const char *path, mf_status *status) {
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    cr_assert_not_null(out);
    mf_error_clear();
    *status = mf_output_info(path, out);
    fclose(out);
    return text;
}

Test(output, info_prints_provenance_metrics_and_headlines) {
    const char *dir = mf_test_tmpdir();
    const char *path = path_in(dir, "info.h5");
    write_two_point_file(path, 42, 9);
    mf_status status;
    char *text = info_text(path, &status);
    cr_assert_eq(status, MF_OK, "%s", mf_error_message());
    const char *expected[] = {
        "marginfall result file",
        path,
        MF_VERSION_STRING,
        MF_GIT_COMMIT,
        "scenarios/test.yaml",
        "42",
        "2 ranks x 3 threads",
        "12.50 s",
        "1,000 accounts",
        "BTC, ETH",
        "point 0",
        "point 1",
        "P(bad debt > 0)",
        "12.3%",
        "4.56%",
        "p99.9",
        "ES99",
        "$1.23B",
        "$45.6M",
        "liquidated_notional",
        "cascade_duration",
        "cascade_amplification",
        "mark_drawdown",
    };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        cr_expect(strstr(text, expected[i]) != NULL, "info lacks '%s':\n%s", expected[i], text);
    free(text);
}

Test(output, info_refuses_missing_non_hdf5_and_foreign_files) {
    const char *dir = mf_test_tmpdir();
    mf_status status;

    const char *missing = path_in(dir, "missing.h5");
    free(info_text(missing, &status));
    cr_expect_eq(status, MF_ERR_INPUT);
    cr_expect(strstr(mf_error_message(), missing) != NULL, "message: %s", mf_error_message());

    const char *text_file = path_in(dir, "notes.txt");
    cr_assert_eq(mf_test_write_file(text_file, "not hdf5 at all\n"), 0);
    free(info_text(text_file, &status));
    cr_expect_eq(status, MF_ERR_INPUT);
    cr_expect(strstr(mf_error_message(), text_file) != NULL, "message: %s", mf_error_message());
    cr_expect(strstr(mf_error_message(), "not an HDF5 file") != NULL, "message: %s",
              mf_error_message());

    const char *foreign = path_in(dir, "foreign.h5");
    hid_t file = H5Fcreate(foreign, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5LTset_attribute_string(file, ".", "format", "netcdf-thing");
    H5Fclose(file);
    free(info_text(foreign, &status));
    cr_expect_eq(status, MF_ERR_INPUT);
    cr_expect(strstr(mf_error_message(), foreign) != NULL, "message: %s", mf_error_message());
    cr_expect(strstr(mf_error_message(), "netcdf-thing") != NULL, "message: %s",
              mf_error_message());

    const char *bare = path_in(dir, "bare.h5");
    file = H5Fcreate(bare, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Fclose(file);
    free(info_text(bare, &status));
    cr_expect_eq(status, MF_ERR_INPUT);
    cr_expect(strstr(mf_error_message(), "not a marginfall result file") != NULL, "message: %s",
              mf_error_message());
}

Test(output, info_refuses_a_newer_major_version) {
    const char *dir = mf_test_tmpdir();
    const char *path = path_in(dir, "future.h5");
    write_two_point_file(path, 3, 3);
    hid_t file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t attr = H5Aopen(file, "format_version", H5P_DEFAULT);
    int32_t future[2] = {MF_FORMAT_VERSION_MAJOR + 1, 0};
    cr_assert_geq(H5Awrite(attr, H5T_NATIVE_INT32, future), 0);
    H5Aclose(attr);
    H5Fclose(file);
    mf_status status;
    free(info_text(path, &status));
    cr_expect_eq(status, MF_ERR_INPUT);
    char version[32];
    snprintf(version, sizeof version, "version %d.0", MF_FORMAT_VERSION_MAJOR + 1);
    cr_expect(strstr(mf_error_message(), version) != NULL, "message: %s", mf_error_message());
    cr_expect(strstr(mf_error_message(), path) != NULL, "message: %s", mf_error_message());
}

Test(output, result_digest_reads_the_run_digest) {
    const char *dir = mf_test_tmpdir();
    const char *path = path_in(dir, "digest.h5");
    mf_point_result points[2];
    build_point(&points[0], 0, 9, 1);
    build_point(&points[1], 1, 4, 0);
    write_two_point_file(path, 42, 9);
    char expected[MF_DIGEST_TEXT_LEN], digest[MF_DIGEST_TEXT_LEN];
    mf_digest_format(mf_results_digest(points, 2), expected);
    cr_assert_eq(mf_result_digest(path, digest), MF_OK, "%s", mf_error_message());
    cr_assert_str_eq(digest, expected);
    mf_point_result_free(&points[0]);
    mf_point_result_free(&points[1]);
}
