/* Replayed index paths: a real price series (CSV column or 1-D HDF5 dataset) turned into
 * steps + 1 log index prices that start at log(asset price) and keep the file's returns. */
#include "replay.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hdf5.h>

#include "h5_util.h"

#include "hdf5_input.h"

#define DEFAULT_COLUMN "close"
#define DEFAULT_DATASET "/close"
/* The most prices a replay file may hold (1 GiB of doubles, 255 years of minute closes; a run
 * uses at most run.steps + 1 <= 1e6 + 1): a length declared by the file is checked against it
 * before anything is allocated. */
#define MF_REPLAY_MAX_PRICES ((size_t)1 << 27)

/* A relative file name is resolved against the config file's directory (the CWD when the
 * config has no file name). */
static void resolve_path(const mf_config *config, const char *file, char *out, size_t size) {
    const char *source = config->source_file;
    const char *slash = strrchr(source, '/');
    if (file[0] == '/' || !source[0] || !slash)
        snprintf(out, size, "%s", file);
    else if (slash == source)
        snprintf(out, size, "/%s", file);
    else
        snprintf(out, size, "%.*s/%s", (int)(slash - source), source, file);
}

static char *trim(char *text) {
    while (*text == ' ' || *text == '\t')
        text++;
    size_t length = strlen(text);
    while (length > 0 && (text[length - 1] == ' ' || text[length - 1] == '\t' ||
                          text[length - 1] == '\r' || text[length - 1] == '\n'))
        text[--length] = '\0';
    return text;
}

static int is_blank(const char *line) {
    for (; *line; line++)
        if (*line != ' ' && *line != '\t' && *line != '\r' && *line != '\n') return 0;
    return 1;
}

/* Field `index` of a comma-separated line (modifies line); NULL when the line is shorter. */
static char *csv_field(char *line, int index, int *n_fields) {
    char *field = line, *found = NULL;
    int i = 0;
    for (;;) {
        char *comma = strchr(field, ',');
        if (comma) *comma = '\0';
        if (i == index) found = field;
        i++;
        if (!comma) break;
        field = comma + 1;
    }
    *n_fields = i;
    return found;
}

static char *unquote(char *text) {
    text = trim(text);
    size_t length = strlen(text);
    if (length >= 2 && text[0] == '"' && text[length - 1] == '"') {
        text[length - 1] = '\0';
        text++;
    }
    return text;
}

typedef struct {
    double *values;
    size_t n, capacity;
} series;

static int series_push(series *s, double value) {
    if (s->n == s->capacity) {
        size_t capacity = s->capacity ? 2 * s->capacity : 1024;
        double *grown = realloc(s->values, capacity * sizeof *grown);
        if (!grown) return -1;
        s->values = grown;
        s->capacity = capacity;
    }
    s->values[s->n++] = value;
    return 0;
}

/* The header's column index of name, or -1; lists the header in columns (for messages). */
static int find_column(char *header, const char *name, char *columns, size_t size) {
    int index = -1, n = 0;
    columns[0] = '\0';
    char *field = header;
    for (;;) {
        char *comma = strchr(field, ',');
        if (comma) *comma = '\0';
        char *label = unquote(field);
        if (index < 0 && strcmp(label, name) == 0) index = n;
        size_t used = strlen(columns);
        snprintf(columns + used, size - used, "%s%s", n ? ", " : "", label);
        n++;
        if (!comma) break;
        field = comma + 1;
    }
    return index;
}

/* A replay is read from a regular file only: opening a FIFO or a device for reading can block
 * for ever or never end. */
static mf_status check_regular(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0)
        return MF_FAIL(MF_ERR_INPUT, "cannot open replay file '%s': %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return MF_FAIL(MF_ERR_INPUT,
                       "replay file '%s' is not a regular file (a directory, FIFO or device)",
                       path);
    return MF_OK;
}

/* Why a price cannot be replayed, NULL when it can. The index replays
 * log(start) + log(price / first): the price must be a normal double > 0 (finite, not 0, not
 * subnormal), and so must its ratio to the first price and the replayed price start * ratio,
 * or the log-price path would leave the doubles (1e-300 followed by 1e300 overflows). */
static const char *price_problem(double price, double first, double start) {
    if (!isfinite(price) || price <= 0) return "must be finite and > 0";
    if (!isnormal(price)) return "is below the smallest normal double (2.2e-308)";
    const double ratio = price / first;
    if (!isnormal(ratio))
        return "is too far from the first price: the ratio to it overflows or underflows";
    if (!isnormal(start * ratio))
        return "is too far from the first price: the replayed price (the asset's price times "
               "the ratio) overflows or underflows";
    return NULL;
}

static mf_status read_csv(const char *path, const char *column, double start, series *s) {
    MF_CHECK(check_regular(path));
    FILE *file = fopen(path, "r");
    if (!file)
        return MF_FAIL(MF_ERR_INPUT, "cannot open replay file '%s': %s", path, strerror(errno));
    char *line = NULL;
    size_t capacity = 0;
    long line_number = 0;
    int column_index = -1;
    mf_status status = MF_OK;
    for (;;) {
        errno = 0;
        ssize_t length = getline(&line, &capacity, file);
        if (length < 0) {
            if (ferror(file))
                status = MF_FAIL(MF_ERR_INPUT, "%s:%ld: read error: %s", path, line_number + 1,
                                 strerror(errno));
            break;
        }
        line_number++;
        if ((size_t)length != strlen(line)) {
            status = MF_FAIL(MF_ERR_INPUT, "%s:%ld: contains a NUL byte (not a CSV text file)",
                             path, line_number);
            break;
        }
        if (line_number == 1) {
            char columns[512];
            column_index = find_column(line, column, columns, sizeof columns);
            if (column_index < 0) {
                status = MF_FAIL(MF_ERR_INPUT,
                                 "%s:1: the header has no column '%s' (columns: %s); the first "
                                 "line must be a header row",
                                 path, column, columns);
                break;
            }
            continue;
        }
        if (is_blank(line)) continue;
        int n_fields = 0;
        char *field = csv_field(line, column_index, &n_fields);
        if (!field) {
            status =
                MF_FAIL(MF_ERR_INPUT, "%s:%ld: row has %d field%s, no column '%s' (field %d)", path,
                        line_number, n_fields, n_fields == 1 ? "" : "s", column, column_index + 1);
            break;
        }
        char *text = unquote(field);
        char *end = NULL;
        errno = 0;
        double price = strtod(text, &end);
        if (!*text || end == text || *trim(end) != '\0') {
            status = MF_FAIL(MF_ERR_INPUT, "%s:%ld: column '%s': '%s' is not a number", path,
                             line_number, column, text);
            break;
        }
        const char *problem = price_problem(price, s->n ? s->values[0] : price, start);
        if (problem) {
            status = MF_FAIL(MF_ERR_INPUT, "%s:%ld: column '%s': price %s %s", path, line_number,
                             column, text, problem);
            break;
        }
        if (s->n >= MF_REPLAY_MAX_PRICES) {
            status = MF_FAIL(MF_ERR_INPUT, "%s:%ld: more than %zu prices, the most a replay holds",
                             path, line_number, MF_REPLAY_MAX_PRICES);
            break;
        }
        if (series_push(s, price) != 0) {
            status = MF_FAIL(MF_ERR_MEMORY, "out of memory reading '%s'", path);
            break;
        }
    }
    if (status == MF_OK && line_number == 0)
        status = MF_FAIL(MF_ERR_INPUT,
                         "%s: the file is empty (a header row with a '%s' column "
                         "is required)",
                         path, column);
    free(line);
    fclose(file);
    return status;
}

/* The dataset's length, after checking that it is a 1-D array of IEEE float32 or float64 (other
 * types would be converted by HDF5 with a loss or not at all) and not longer than a replay may
 * be. */
static mf_status hdf5_length(hid_t dataset, const char *path, const char *name, size_t *n) {
    hid_t space = H5Dget_space(dataset);
    hid_t type = H5Dget_type(dataset);
    char stored[80] = "an unreadable type";
    if (type >= 0) mf_hdf5_describe_type(type, stored, sizeof stored);
    const int type_ok =
        type >= 0 && (mf_hdf5_is_ieee_float(type, 4) || mf_hdf5_is_ieee_float(type, 8));
    const int rank = space >= 0 && H5Sget_simple_extent_type(space) == H5S_SIMPLE
                         ? H5Sget_simple_extent_ndims(space)
                         : -1;
    const hssize_t points = rank == 1 ? H5Sget_simple_extent_npoints(space) : -1;
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    if (!type_ok)
        return MF_FAIL(
            MF_ERR_INPUT,
            "replay file '%s': dataset '%s' stores %s; it must be a 1-D floating-point array "
            "(IEEE float32 or float64)",
            path, name, stored);
    if (rank != 1 || points < 0)
        return MF_FAIL(MF_ERR_INPUT,
                       "replay file '%s': dataset '%s' has %d dimensions; it must be a 1-D "
                       "floating-point array "
                       "(IEEE float32 or float64)",
                       path, name, rank < 0 ? 0 : rank);
    if ((size_t)points > MF_REPLAY_MAX_PRICES)
        return MF_FAIL(MF_ERR_INPUT,
                       "replay file '%s': dataset '%s' declares %lld prices, more than the %zu a "
                       "replay may hold",
                       path, name, (long long)points, MF_REPLAY_MAX_PRICES);
    *n = (size_t)points;
    return MF_OK;
}

static mf_status read_hdf5(const char *path, const char *dataset_name, double start, series *s) {
    MF_CHECK(check_regular(path));
    MF_CHECK(h5_check_global_heaps(path));
    if (H5Fis_hdf5(path) <= 0)
        return MF_FAIL(MF_ERR_INPUT, "replay file '%s' is not an HDF5 file", path);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0)
        return MF_FAIL(MF_ERR_INPUT, "cannot open replay file '%s' (damaged HDF5 file?)", path);
    mf_status status = MF_OK;
    hid_t dataset = H5Dopen2(file, dataset_name, H5P_DEFAULT);
    if (dataset < 0)
        status = MF_FAIL(MF_ERR_INPUT, "replay file '%s': no dataset '%s'", path, dataset_name);
    size_t n = 0;
    if (status == MF_OK) status = hdf5_length(dataset, path, dataset_name, &n);
    if (status == MF_OK) {
        s->values = malloc((n > 0 ? n : 1) * sizeof *s->values);
        if (!s->values)
            status =
                MF_FAIL(MF_ERR_MEMORY, "replay file '%s': out of memory for %zu prices", path, n);
        else
            s->n = s->capacity = n;
    }
    if (status == MF_OK && n > 0) {
        H5Eclear2(H5E_DEFAULT);
        if (H5Dread(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, s->values) < 0)
            status = mf_hdf5_checksum_failed()
                         ? MF_FAIL(MF_ERR_INPUT,
                                   "replay file '%s': dataset '%s' fails its Fletcher32 checksum: "
                                   "the file is damaged",
                                   path, dataset_name)
                         : MF_FAIL(MF_ERR_INPUT,
                                   "replay file '%s': cannot read dataset '%s' (damaged file?)",
                                   path, dataset_name);
    }
    for (size_t i = 0; status == MF_OK && i < s->n; i++) {
        const char *problem = price_problem(s->values[i], s->values[0], start);
        if (problem)
            status =
                MF_FAIL(MF_ERR_INPUT, "replay file '%s': dataset '%s' element %zu: price %g %s",
                        path, dataset_name, i, s->values[i], problem);
    }
    if (dataset >= 0) H5Dclose(dataset);
    H5Fclose(file);
    return status;
}

mf_status mf_replay_load(const mf_config *config, int asset, int32_t steps, double *log_index_out) {
    if (!config || !log_index_out || asset < 0 || asset >= config->market.n_assets || steps < 0)
        return MF_FAIL(MF_ERR_INTERNAL, "mf_replay_load: bad arguments (asset %d, steps %d)", asset,
                       (int)steps);
    const mf_asset_config *a = &config->market.assets[asset];
    if (a->replay_format == MF_REPLAY_NONE || !a->replay_file[0])
        return MF_FAIL(MF_ERR_INTERNAL, "asset %s has no replay file", a->name);
    if (!isfinite(a->price) || a->price <= 0)
        return MF_FAIL(MF_ERR_CONFIG, "asset %s: price %g must be > 0 to replay a path", a->name,
                       a->price);

    char path[2 * MF_PATH_LEN + 2];
    resolve_path(config, a->replay_file, path, sizeof path);
    series s = {0};
    mf_status status;
    const char *where;
    if (a->replay_format == MF_REPLAY_CSV) {
        where = a->replay_column[0] ? a->replay_column : DEFAULT_COLUMN;
        status = read_csv(path, where, a->price, &s);
    } else if (a->replay_format == MF_REPLAY_HDF5) {
        where = a->replay_dataset[0] ? a->replay_dataset : DEFAULT_DATASET;
        H5E_auto2_t func;
        void *data;
        H5Eget_auto2(H5E_DEFAULT, &func, &data);
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
        status = read_hdf5(path, where, a->price, &s);
        H5Eset_auto2(H5E_DEFAULT, func, data);
    } else {
        return MF_FAIL(MF_ERR_INTERNAL, "asset %s: unknown replay format %d", a->name,
                       (int)a->replay_format);
    }
    size_t needed = (size_t)steps + 1;
    if (status == MF_OK && s.n < needed)
        status = MF_FAIL(
            MF_ERR_INPUT, "replay file '%s' (%s '%s') has %zu prices, the run needs steps+1 = %zu",
            path, a->replay_format == MF_REPLAY_CSV ? "column" : "dataset", where, s.n, needed);
    if (status == MF_OK) {
        double log_start = log(a->price);
        double first = s.values[0];
        for (size_t t = 0; t < needed; t++)
            log_index_out[t] = log_start + log(s.values[t] / first);
    }
    free(s.values);
    if (status != MF_OK) mf_error_push_frame(__FILE__, __LINE__, __func__);
    return status;
}
