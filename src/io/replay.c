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

#define DEFAULT_COLUMN "close"
#define DEFAULT_DATASET "/close"

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

static mf_status read_csv(const char *path, const char *column, series *s) {
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
        if (!isfinite(price) || price <= 0) {
            status = MF_FAIL(MF_ERR_INPUT, "%s:%ld: column '%s': price %s must be finite and > 0",
                             path, line_number, column, text);
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

static mf_status read_hdf5(const char *path, const char *dataset_name, series *s) {
    MF_CHECK(check_regular(path));
    if (H5Fis_hdf5(path) <= 0)
        return MF_FAIL(MF_ERR_INPUT, "replay file '%s' is not an HDF5 file", path);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) return MF_FAIL(MF_ERR_INPUT, "cannot open replay file '%s' (HDF5)", path);
    mf_status status = MF_OK;
    hid_t dataset = H5I_INVALID_HID, space = H5I_INVALID_HID, type = H5I_INVALID_HID;
    dataset = H5Dopen2(file, dataset_name, H5P_DEFAULT);
    if (dataset < 0)
        status = MF_FAIL(MF_ERR_INPUT, "replay file '%s': no dataset '%s'", path, dataset_name);
    if (status == MF_OK) {
        space = H5Dget_space(dataset);
        type = H5Dget_type(dataset);
        if (space < 0 || type < 0 || H5Sget_simple_extent_ndims(space) != 1 ||
            H5Tget_class(type) != H5T_FLOAT)
            status = MF_FAIL(MF_ERR_INPUT,
                             "replay file '%s': dataset '%s' must be a 1-D floating-point array",
                             path, dataset_name);
    }
    if (status == MF_OK) {
        hssize_t n = H5Sget_simple_extent_npoints(space);
        s->values = malloc((n > 0 ? (size_t)n : 1) * sizeof *s->values);
        if (!s->values) status = MF_FAIL(MF_ERR_MEMORY, "out of memory reading '%s'", path);
        s->n = s->capacity = (size_t)(n > 0 ? n : 0);
        if (status == MF_OK && n > 0 &&
            H5Dread(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, s->values) < 0)
            status = MF_FAIL(MF_ERR_INPUT, "replay file '%s': cannot read dataset '%s'", path,
                             dataset_name);
    }
    for (size_t i = 0; status == MF_OK && i < s->n; i++)
        if (!isfinite(s->values[i]) || s->values[i] <= 0)
            status = MF_FAIL(MF_ERR_INPUT,
                             "replay file '%s': dataset '%s' element %zu: price %g must be "
                             "finite and > 0",
                             path, dataset_name, i, s->values[i]);
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
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
        status = read_csv(path, where, &s);
    } else if (a->replay_format == MF_REPLAY_HDF5) {
        where = a->replay_dataset[0] ? a->replay_dataset : DEFAULT_DATASET;
        H5E_auto2_t func;
        void *data;
        H5Eget_auto2(H5E_DEFAULT, &func, &data);
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
        status = read_hdf5(path, where, &s);
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
