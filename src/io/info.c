/* `marginfall info FILE`: a readable summary of a result file. */
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

/* 1234567 -> "1,234,567" (LLONG_MIN included: its magnitude is taken as unsigned). */
static void format_count(char *buffer, size_t size, long long value) {
    char digits[32];
    unsigned long long magnitude =
        value < 0 ? 0ULL - (unsigned long long)value : (unsigned long long)value;
    snprintf(digits, sizeof digits, "%llu", magnitude);
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
    char *text = h5_read_attr_string(file, name);
    fprintf(out, "  %-16s %s\n", label, text && *text ? text : "?");
    free(text);
}

static void print_provenance(FILE *out, hid_t file, const char *path, const int32_t *version) {
    fprintf(out, "marginfall result file: %s\n", path);
    fprintf(out, "  %-16s %s %d.%d\n", "format", MF_FORMAT_NAME, version[0], version[1]);
    char *engine = h5_read_attr_string(file, "engine_version");
    char *commit = h5_read_attr_string(file, "git_commit");
    fprintf(out, "  %-16s marginfall %s (commit %s)\n", "engine", engine ? engine : "?",
            commit ? commit : "?");
    free(engine);
    free(commit);
    print_attr_line(out, file, "created", "created");
    print_attr_line(out, file, "digest", "verification_digest");
    print_attr_line(out, file, "config file", "config_file");
    print_attr_line(out, file, "command line", "command_line");

    uint64_t seed = 0;
    if (h5_read_attr_numbers(file, "seed", H5T_NATIVE_UINT64, &seed, 1) == 0)
        fprintf(out, "  %-16s %llu\n", "seed", (unsigned long long)seed);
    else
        fprintf(out, "  %-16s ?\n", "seed");
    int64_t paths = -1, accounts = -1, positions = -1;
    char count[48];
    h5_read_attr_numbers(file, "paths", H5T_NATIVE_INT64, &paths, 1);
    format_count(count, sizeof count, (long long)paths);
    fprintf(out, "  %-16s %s\n", "paths", paths >= 0 ? count : "?");
    int32_t ranks = 0, threads = 0;
    h5_read_attr_numbers(file, "ranks", H5T_NATIVE_INT32, &ranks, 1);
    h5_read_attr_numbers(file, "threads", H5T_NATIVE_INT32, &threads, 1);
    fprintf(out, "  %-16s %d rank%s x %d thread%s\n", "parallelism", ranks, ranks == 1 ? "" : "s",
            threads, threads == 1 ? "" : "s");
    double wall = NAN;
    h5_read_attr_numbers(file, "wall_seconds", H5T_NATIVE_DOUBLE, &wall, 1);
    fprintf(out, "  %-16s ", "wall time");
    print_seconds(out, wall);
    h5_read_attr_numbers(file, "accounts", H5T_NATIVE_INT64, &accounts, 1);
    h5_read_attr_numbers(file, "positions", H5T_NATIVE_INT64, &positions, 1);
    char accounts_text[48], positions_text[48];
    format_count(accounts_text, sizeof accounts_text, (long long)accounts);
    format_count(positions_text, sizeof positions_text, (long long)positions);
    char *assets = h5_read_attr_strings_joined(file, "assets");
    fprintf(out, "  %-16s %s accounts, %s positions; assets %s\n", "population", accounts_text,
            positions_text, assets ? assets : "?");
    free(assets);
}

typedef struct {
    int64_t count;
    double mean, max;
    double mean_se, es_se; /* NaN in files before format 1.4 */
    int n_levels;          /* from the length of quantile_levels */
    double levels[MF_MAX_QUANTILES];
    double quantiles[MF_MAX_QUANTILES];
    double shortfall[MF_MAX_QUANTILES];
    double ci_low[MF_MAX_QUANTILES], ci_high[MF_MAX_QUANTILES];
} metric_summary;

/* Number of values of a 1-d dataset, or -1. */
static int dataset_length(hid_t group, const char *name) {
    if (H5Lexists(group, name, H5P_DEFAULT) <= 0) return -1;
    hid_t dataset = H5Dopen2(group, name, H5P_DEFAULT);
    if (dataset < 0) return -1;
    hid_t space = H5Dget_space(dataset);
    const hssize_t n = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    if (space >= 0) H5Sclose(space);
    H5Dclose(dataset);
    return n >= 0 && n <= INT32_MAX ? (int)n : -1;
}

/* The level 0.99 (ES99, the interval column), else the last one. */
static int level_99(const metric_summary *s) {
    int at = s->n_levels - 1;
    for (int q = 0; q < s->n_levels; q++)
        if (fabs(s->levels[q] - 0.99) < 1e-12) at = q;
    return at;
}

static int read_metric_summary(hid_t metrics, const char *name, metric_summary *s, char **unit) {
    hid_t group = H5Gopen2(metrics, name, H5P_DEFAULT);
    if (group < 0) return -1;
    const int n = dataset_length(group, "quantile_levels");
    s->n_levels = n;
    int ok =
        n >= 1 && n <= MF_MAX_QUANTILES &&
        h5_read_dataset_numbers(group, h5_moment_name(group, "count"), H5T_NATIVE_INT64, &s->count,
                                1) == 0 &&
        h5_read_dataset_numbers(group, h5_moment_name(group, "mean"), H5T_NATIVE_DOUBLE, &s->mean,
                                1) == 0 &&
        h5_read_dataset_numbers(group, h5_moment_name(group, "max"), H5T_NATIVE_DOUBLE, &s->max,
                                1) == 0 &&
        h5_read_dataset_numbers(group, "quantile_levels", H5T_NATIVE_DOUBLE, s->levels, n) == 0 &&
        h5_read_dataset_numbers(group, "quantiles", H5T_NATIVE_DOUBLE, s->quantiles, n) == 0 &&
        h5_read_dataset_numbers(group, "expected_shortfall", H5T_NATIVE_DOUBLE, s->shortfall, n) ==
            0;
    /* Format 1.4 adds the precision figures; older files show "-" for them. */
    double es_se[MF_MAX_QUANTILES];
    s->mean_se = s->es_se = NAN;
    for (int q = 0; ok && q < n; q++)
        s->ci_low[q] = s->ci_high[q] = es_se[q] = NAN;
    if (ok) {
        h5_read_dataset_numbers(group, "mean_standard_error", H5T_NATIVE_DOUBLE, &s->mean_se, 1);
        h5_read_dataset_numbers(group, "quantile_ci_low", H5T_NATIVE_DOUBLE, s->ci_low, n);
        h5_read_dataset_numbers(group, "quantile_ci_high", H5T_NATIVE_DOUBLE, s->ci_high, n);
        h5_read_dataset_numbers(group, "expected_shortfall_standard_error", H5T_NATIVE_DOUBLE,
                                es_se, n);
        s->es_se = es_se[level_99(s)];
    }
    *unit = h5_read_attr_string(group, "unit");
    H5Gclose(group);
    return ok ? 0 : -1;
}

/* "±x" for 1.96 standard errors, "-" when there is none. */
static void format_plus_minus(char *buffer, size_t size, double standard_error, const char *unit) {
    char value[24];
    format_value(value, sizeof value, isnan(standard_error) ? NAN : 1.96 * standard_error, unit);
    snprintf(buffer, size, "%s%s", isnan(standard_error) ? "" : "±", value);
}

static void print_metric_row(FILE *out, hid_t metrics, const char *name) {
    metric_summary s;
    char *unit = NULL;
    if (read_metric_summary(metrics, name, &s, &unit) != 0) {
        fprintf(out, "  %-22s (unreadable)\n", name);
        free(unit);
        return;
    }
    const int es = level_99(&s);
    char count[32], cell[32], low[32], high[32], interval[72];
    format_count(count, sizeof count, (long long)s.count);
    fprintf(out, "  %-22s %-9s %11s", name, unit ? unit : "?", count);
    format_value(cell, sizeof cell, s.mean, unit);
    fprintf(out, " %9s", cell);
    format_plus_minus(cell, sizeof cell, s.mean_se, unit);
    fprintf(out, " %9s", cell);
    for (int q = 0; q < s.n_levels; q++) {
        format_value(cell, sizeof cell, s.quantiles[q], unit);
        fprintf(out, " %9s", cell);
    }
    format_value(low, sizeof low, s.ci_low[es], unit);
    format_value(high, sizeof high, s.ci_high[es], unit);
    snprintf(interval, sizeof interval, "[%s, %s]", low, high);
    fprintf(out, " %21s", interval);
    format_value(cell, sizeof cell, s.shortfall[es], unit);
    fprintf(out, " %9s", cell);
    format_plus_minus(cell, sizeof cell, s.es_se, unit);
    fprintf(out, " %9s", cell);
    format_value(cell, sizeof cell, s.max, unit);
    fprintf(out, " %9s\n", cell);
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
    h5_read_attr_numbers(group, "point_index", H5T_NATIVE_INT32, &point_index, 1);
    h5_read_dataset_numbers(group, "n_paths", H5T_NATIVE_INT64, &n_paths, 1);
    h5_read_dataset_numbers(group, "prob_bad_debt", H5T_NATIVE_DOUBLE, &prob_bad_debt, 1);
    h5_read_dataset_numbers(group, "prob_fund_shortfall", H5T_NATIVE_DOUBLE, &prob_shortfall, 1);
    char paths_text[48], bad[32], shortfall[32];
    format_count(paths_text, sizeof paths_text, (long long)n_paths);
    format_value(bad, sizeof bad, prob_bad_debt, "fraction");
    format_value(shortfall, sizeof shortfall, prob_shortfall, "fraction");
    fprintf(out, "\npoint %d (%s): %s paths\n", point_index, name, paths_text);
    char *label = H5Aexists(group, "label") > 0 ? h5_read_attr_string(group, "label") : NULL;
    if (label && *label) fprintf(out, "  %-28s %s\n", "parameters", label);
    free(label);
    /* With their 95% Wilson intervals (format 1.4). */
    static const char *const probabilities[2][3] = {
        {"P(bad debt > 0)", "prob_bad_debt_ci_low", "prob_bad_debt_ci_high"},
        {"P(insurance fund shortfall)", "prob_fund_shortfall_ci_low",
         "prob_fund_shortfall_ci_high"}};
    for (int i = 0; i < 2; i++) {
        double bounds[2] = {NAN, NAN};
        char low[32], high[32];
        h5_read_dataset_numbers(group, probabilities[i][1], H5T_NATIVE_DOUBLE, &bounds[0], 1);
        h5_read_dataset_numbers(group, probabilities[i][2], H5T_NATIVE_DOUBLE, &bounds[1], 1);
        format_value(low, sizeof low, bounds[0], "fraction");
        format_value(high, sizeof high, bounds[1], "fraction");
        fprintf(out, "  %-28s %s  [95%% CI %s, %s]\n", probabilities[i][0], i ? shortfall : bad,
                low, high);
    }

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
        /* The header's levels are the first metric's (every metric has the run's levels). */
        metric_summary first;
        char *first_unit = NULL;
        if (read_metric_summary(metrics, mf_metric_describe((mf_metric_id)0)->name, &first,
                                &first_unit) != 0)
            first.n_levels = 0;
        free(first_unit);
        char es_label[24] = "ES99", ci_label[32] = "p99 95% CI";
        if (first.n_levels > 0) {
            const double level = 100 * first.levels[level_99(&first)];
            snprintf(es_label, sizeof es_label, "ES%g", level);
            snprintf(ci_label, sizeof ci_label, "p%g 95%% CI", level);
        }
        fprintf(out, "\n  %-22s %-9s %11s %9s %9s", "metric", "unit", "count", "mean", "±95%");
        for (int q = 0; q < first.n_levels; q++) {
            char header[16];
            snprintf(header, sizeof header, "p%g", first.levels[q] * 100);
            fprintf(out, " %9s", header);
        }
        fprintf(out, " %21s %9s %9s %9s\n", ci_label, es_label, "±95%", "max");
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

/* ---- compact forms: one row per point (table, csv) or every figure (json) ------------------ */

typedef struct {
    int index;
    int64_t n_paths;
    char *label;
    double prob[2], prob_low[2], prob_high[2]; /* bad debt, fund shortfall */
} point_summary;

/* The swept keys: /sweep's datasets other than point and label, in name order. */
static name_list *sweep_keys(hid_t file) {
    name_list *names = calloc(1, sizeof *names);
    if (!names || H5Lexists(file, "sweep", H5P_DEFAULT) <= 0) return names;
    hid_t sweep = H5Gopen2(file, "sweep", H5P_DEFAULT);
    if (sweep < 0) return names;
    hsize_t position = 0;
    H5Literate(sweep, H5_INDEX_NAME, H5_ITER_INC, &position, collect_names, names);
    H5Gclose(sweep);
    int kept = 0;
    for (int i = 0; i < names->n; i++)
        if (strcmp(names->names[i], "point") && strcmp(names->names[i], "label"))
            memmove(names->names[kept++], names->names[i], sizeof names->names[i]);
    names->n = kept;
    return names;
}

/* A point's value of a swept key (its group attribute): a number, else the text (malloc'd). */
static void point_parameter(hid_t group, const char *key, double *number, char **text) {
    *number = NAN;
    *text = NULL;
    if (H5Aexists(group, key) <= 0) return;
    hid_t attr = H5Aopen(group, key, H5P_DEFAULT);
    hid_t type = attr >= 0 ? H5Aget_type(attr) : H5I_INVALID_HID;
    const int is_string = type >= 0 && H5Tget_class(type) == H5T_STRING;
    if (type >= 0) H5Tclose(type);
    if (attr >= 0) H5Aclose(attr);
    if (is_string)
        *text = h5_read_attr_string(group, key);
    else
        h5_read_attr_numbers(group, key, H5T_NATIVE_DOUBLE, number, 1);
}

static void read_point_summary(hid_t group, int index, point_summary *p) {
    memset(p, 0, sizeof *p);
    p->index = index;
    h5_read_dataset_numbers(group, "n_paths", H5T_NATIVE_INT64, &p->n_paths, 1);
    static const char *const names[2][3] = {
        {"prob_bad_debt", "prob_bad_debt_ci_low", "prob_bad_debt_ci_high"},
        {"prob_fund_shortfall", "prob_fund_shortfall_ci_low", "prob_fund_shortfall_ci_high"}};
    for (int i = 0; i < 2; i++) {
        p->prob[i] = p->prob_low[i] = p->prob_high[i] = NAN;
        h5_read_dataset_numbers(group, names[i][0], H5T_NATIVE_DOUBLE, &p->prob[i], 1);
        h5_read_dataset_numbers(group, names[i][1], H5T_NATIVE_DOUBLE, &p->prob_low[i], 1);
        h5_read_dataset_numbers(group, names[i][2], H5T_NATIVE_DOUBLE, &p->prob_high[i], 1);
    }
    p->label = H5Aexists(group, "label") > 0 ? h5_read_attr_string(group, "label") : NULL;
}

/* A number for csv and json: %.17g round-trips a double; "" (csv) or null (json) for NaN. */
static void print_number(FILE *out, double value, int json) {
    if (isfinite(value))
        fprintf(out, "%.17g", value);
    else if (json)
        fputs("null", out);
}

static void print_json_string(FILE *out, const char *text) {
    fputc('"', out);
    for (const unsigned char *c = (const unsigned char *)(text ? text : ""); *c; c++) {
        if (*c == '"' || *c == '\\')
            fprintf(out, "\\%c", *c);
        else if (*c < 0x20)
            fprintf(out, "\\u%04x", *c);
        else
            fputc(*c, out);
    }
    fputc('"', out);
}

static void print_csv_text(FILE *out, const char *text) {
    fputc('"', out);
    for (const char *c = text ? text : ""; *c; c++) {
        if (*c == '"') fputc('"', out);
        fputc(*c, out);
    }
    fputc('"', out);
}

/* The headline metrics of the table and csv forms. */
static const char *const headline_metrics[] = {"liquidated_notional", "bad_debt",
                                               "largest_cascade"};

static void print_compact_point(FILE *out, const char *format, hid_t file, int index,
                                const name_list *keys, int first) {
    char name[32];
    snprintf(name, sizeof name, "point_%d", index);
    hid_t group = H5Gopen2(file, name, H5P_DEFAULT);
    if (group < 0) return;
    point_summary p;
    read_point_summary(group, index, &p);
    hid_t metrics = H5Gopen2(group, "metrics", H5P_DEFAULT);
    const int json = !strcmp(format, "json"), csv = !strcmp(format, "csv");
    if (json) {
        fprintf(out, "%s\n    {\"point\": %d, \"n_paths\": %lld, \"parameters\": {",
                first ? "" : ",", p.index, (long long)p.n_paths);
        for (int k = 0; k < keys->n; k++) {
            double number;
            char *text;
            point_parameter(group, keys->names[k], &number, &text);
            fprintf(out, "%s", k ? ", " : "");
            print_json_string(out, keys->names[k]);
            fputs(": ", out);
            if (text)
                print_json_string(out, text);
            else
                print_number(out, number, 1);
            free(text);
        }
        fputs("},\n     \"prob_bad_debt\": ", out);
        print_number(out, p.prob[0], 1);
        fputs(", \"prob_bad_debt_ci\": [", out);
        print_number(out, p.prob_low[0], 1);
        fputs(", ", out);
        print_number(out, p.prob_high[0], 1);
        fputs("], \"prob_fund_shortfall\": ", out);
        print_number(out, p.prob[1], 1);
        fputs(", \"prob_fund_shortfall_ci\": [", out);
        print_number(out, p.prob_low[1], 1);
        fputs(", ", out);
        print_number(out, p.prob_high[1], 1);
        fputs("],\n     \"metrics\": {", out);
        for (int m = 0; m < MF_METRIC_COUNT && metrics >= 0; m++) {
            const char *metric = mf_metric_describe((mf_metric_id)m)->name;
            metric_summary s;
            char *unit = NULL;
            const int ok = read_metric_summary(metrics, metric, &s, &unit) == 0;
            fprintf(out, "%s\n       ", m ? "," : "");
            print_json_string(out, metric);
            fputs(": {\"unit\": ", out);
            print_json_string(out, unit);
            free(unit);
            if (!ok) {
                fputs("}", out);
                continue;
            }
            fprintf(out, ", \"count\": %lld, \"mean\": ", (long long)s.count);
            print_number(out, s.mean, 1);
            fputs(", \"mean_standard_error\": ", out);
            print_number(out, s.mean_se, 1);
            fputs(", \"max\": ", out);
            print_number(out, s.max, 1);
            static const char *const arrays[] = {"levels", "quantiles", "quantile_ci_low",
                                                 "quantile_ci_high", "expected_shortfall"};
            const double *values[] = {s.levels, s.quantiles, s.ci_low, s.ci_high, s.shortfall};
            for (int a = 0; a < 5; a++) {
                fprintf(out, ", \"%s\": [", arrays[a]);
                for (int q = 0; q < s.n_levels; q++) {
                    if (q) fputs(", ", out);
                    print_number(out, values[a][q], 1);
                }
                fputs("]", out);
            }
            fputs("}", out);
        }
        fputs("}}", out);
    } else {
        /* table and csv: the point, its parameters, then the headline figures */
        metric_summary s[3];
        int ok[3];
        for (int m = 0; m < 3; m++) {
            char *unit = NULL;
            ok[m] = metrics >= 0 &&
                    read_metric_summary(metrics, headline_metrics[m], &s[m], &unit) == 0;
            free(unit);
        }
        const double figures[] = {ok[0] ? s[0].mean : NAN,
                                  ok[0] ? 1.96 * s[0].mean_se : NAN,
                                  ok[0] ? s[0].quantiles[level_99(&s[0])] : NAN,
                                  ok[0] ? s[0].ci_low[level_99(&s[0])] : NAN,
                                  ok[0] ? s[0].ci_high[level_99(&s[0])] : NAN,
                                  p.prob[0],
                                  p.prob_low[0],
                                  p.prob_high[0],
                                  ok[1] ? s[1].mean : NAN,
                                  ok[1] ? 1.96 * s[1].mean_se : NAN,
                                  ok[2] ? s[2].quantiles[level_99(&s[2])] : NAN,
                                  p.prob[1]};
        if (csv) {
            fprintf(out, "%d,%lld", p.index, (long long)p.n_paths);
            for (int k = 0; k < keys->n; k++) {
                double number;
                char *text;
                point_parameter(group, keys->names[k], &number, &text);
                fputc(',', out);
                if (text)
                    print_csv_text(out, text);
                else
                    print_number(out, number, 0);
                free(text);
            }
            for (size_t f = 0; f < sizeof figures / sizeof figures[0]; f++) {
                fputc(',', out);
                print_number(out, figures[f], 0);
            }
            fputc('\n', out);
        } else {
            char cells[8][48];
            format_value(cells[0], sizeof cells[0], figures[0], "USD");
            format_plus_minus(cells[1], sizeof cells[1], ok[0] ? s[0].mean_se : NAN, "USD");
            format_value(cells[2], sizeof cells[2], figures[2], "USD");
            format_value(cells[3], sizeof cells[3], figures[5], "fraction");
            char low[16], high[16];
            format_value(low, sizeof low, figures[6], "fraction");
            format_value(high, sizeof high, figures[7], "fraction");
            snprintf(cells[4], sizeof cells[4], "[%s, %s]", low, high);
            format_value(cells[5], sizeof cells[5], figures[8], "USD");
            format_value(cells[6], sizeof cells[6], figures[10], "USD");
            fprintf(out, "%5d %9lld  %-10s %-9s %-10s %-7s %-17s %-10s %-10s  %s\n", p.index,
                    (long long)p.n_paths, cells[0], cells[1], cells[2], cells[3], cells[4],
                    cells[5], cells[6], p.label ? p.label : "");
        }
    }
    free(p.label);
    if (metrics >= 0) H5Gclose(metrics);
    H5Gclose(group);
}

static void print_compact(FILE *out, const char *format, const h5_result *r,
                          const int32_t *version) {
    name_list *keys = sweep_keys(r->file);
    name_list none = {0};
    const name_list *k = keys ? keys : &none;
    char *digest = h5_read_attr_string(r->file, "verification_digest");
    if (!strcmp(format, "json")) {
        fputs("{\"file\": ", out);
        print_json_string(out, r->path);
        fprintf(out, ", \"format_version\": [%d, %d], \"verification_digest\": ", version[0],
                version[1]);
        print_json_string(out, digest);
        fprintf(out, ", \"points\": %lld, \"swept_keys\": [", (long long)r->points);
        for (int i = 0; i < k->n; i++) {
            if (i) fputs(", ", out);
            print_json_string(out, k->names[i]);
        }
        fputs("],\n  \"point_results\": [", out);
    } else if (!strcmp(format, "csv")) {
        fputs("point,n_paths", out);
        for (int i = 0; i < k->n; i++) {
            fputc(',', out);
            print_csv_text(out, k->names[i]);
        }
        fputs(",liquidated_notional_mean_usd,liquidated_notional_mean_ci95_halfwidth_usd,"
              "liquidated_notional_p99_usd,liquidated_notional_p99_ci_low_usd,"
              "liquidated_notional_p99_ci_high_usd,prob_bad_debt,prob_bad_debt_ci_low,"
              "prob_bad_debt_ci_high,bad_debt_mean_usd,bad_debt_mean_ci95_halfwidth_usd,"
              "largest_cascade_p99_usd,prob_fund_shortfall\n",
              out);
    } else {
        fprintf(out, "%s: %lld point%s, digest %s; 95%% intervals (mean: ±1.96 standard errors)\n",
                r->path, (long long)r->n_present, r->n_present == 1 ? "" : "s",
                digest ? digest : "?");
        fprintf(out, "%5s %9s  %-10s %-9s %-10s %-7s %-17s %-10s %-10s  %s\n", "point", "paths",
                "E[liq]", "±95%", "p99 liq", "P(bd)", "P(bd) 95% CI", "E[bad debt]", "p99 casc.",
                "parameters");
    }
    for (int64_t i = 0; i < r->n_present; i++)
        print_compact_point(out, format, r->file, (int)r->present[i], k, i == 0);
    if (!strcmp(format, "json")) fputs("\n  ]\n}\n", out);
    free(digest);
    free(keys);
}

mf_status mf_output_info_format(const char *path, const char *format, FILE *out) {
    if (!format || !strcmp(format, "text")) return mf_output_info(path, out);
    if (strcmp(format, "table") && strcmp(format, "csv") && strcmp(format, "json"))
        return MF_FAIL(MF_ERR_USAGE, "info: --format is text, table, csv or json, not '%s'",
                       format);
    if (!path || !*path) return MF_FAIL(MF_ERR_USAGE, "info: no result file given");
    if (!out) return MF_FAIL(MF_ERR_INTERNAL, "mf_output_info_format: no output stream");
    h5_quiet saved;
    h5_quiet_begin(&saved);
    int32_t version[2] = {0, 0};
    h5_result r = {.path = path, .file = H5I_INVALID_HID};
    mf_status status = h5_result_open(path, &r.file, version);
    if (status == MF_OK) status = h5_result_check(&r, 0);
    if (status == MF_OK) print_compact(out, format, &r, version);
    h5_result_release(&r);
    h5_quiet_end(&saved);
    if (status != MF_OK) mf_error_push_frame(__FILE__, __LINE__, __func__);
    return status;
}

mf_status mf_output_info(const char *path, FILE *out) {
    if (!path || !*path) return MF_FAIL(MF_ERR_USAGE, "info: no result file given");
    if (!out) return MF_FAIL(MF_ERR_INTERNAL, "mf_output_info: no output stream");
    h5_quiet saved;
    h5_quiet_begin(&saved);
    int32_t version[2] = {0, 0};
    h5_result r = {.path = path, .file = H5I_INVALID_HID};
    mf_status status = h5_result_open(path, &r.file, version);
    /* Everything printed below is checked first, so a damaged file prints nothing but the
     * message (the per-path tables, which info does not print, are checked for shape only). */
    if (status == MF_OK) status = h5_result_check(&r, 0);
    if (status == MF_OK) {
        print_provenance(out, r.file, path, version);
        if (r.n_present == r.points)
            fprintf(out, "  %-16s %lld\n", "points", (long long)r.points);
        else
            fprintf(out, "  %-16s %lld of the sweep's %lld\n", "points", (long long)r.n_present,
                    (long long)r.points);
        print_sweep(out, r.file, r.present, r.n_present);
        for (int64_t i = 0; i < r.n_present; i++)
            print_point(out, r.file, (int)r.present[i]);
    }
    h5_result_release(&r);
    h5_quiet_end(&saved);
    if (status != MF_OK) mf_error_push_frame(__FILE__, __LINE__, __func__);
    return status;
}

mf_status mf_result_digest(const char *path, char digest[MF_DIGEST_TEXT_LEN]) {
    digest[0] = '\0';
    if (!path || !*path) return MF_FAIL(MF_ERR_USAGE, "mf_result_digest: no result file given");
    h5_quiet saved;
    h5_quiet_begin(&saved);
    hid_t file = H5I_INVALID_HID;
    int32_t version[2] = {0, 0};
    mf_status status = h5_result_open(path, &file, version);
    h5_result r = {.path = path, .file = file};
    if (status == MF_OK) status = h5_result_check(&r, 0);
    if (status == MF_OK) {
        char *text = h5_read_attr_string(file, "verification_digest");
        uint64_t value = 0;
        if (mf_digest_parse(text, &value) != 0)
            status = MF_FAIL(MF_ERR_INPUT,
                             "'%s' has no valid verification_digest (a file from an older "
                             "marginfall, or a damaged one)",
                             path);
        else
            mf_digest_format(value, digest);
        free(text);
    }
    if (file >= 0) h5_result_release(&r);
    h5_quiet_end(&saved);
    if (status != MF_OK) mf_error_push_frame(__FILE__, __LINE__, __func__);
    return status;
}
