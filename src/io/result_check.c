/* Checks of a result file before `marginfall info` prints it or `marginfall merge` copies it
 * (docs/output.md, "Checksums and checks on reading"): every dataset either reader uses is
 * checked for its type, shape and storage before it is read, read in bounded blocks (which
 * verifies its Fletcher32 checksum), and its values for finiteness and range. A failure is an
 * input error naming the file, the dataset and the row. */
#include <math.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "h5_util.h"

/* Bounds of what a result file can hold (marginfall writes nothing larger): they keep a
 * damaged file's declared sizes from driving an allocation or a loop. */
#define MAX_POINTS 1000000  /* MF_MAX_SWEEP_POINTS */
#define MAX_STEPS 1000000   /* run.steps */
#define MAX_BINS 1000000    /* histogram bins of one metric */
#define MAX_LEVELS 64       /* quantile levels */
#define MAX_ITEMS (1 << 24) /* datasets this reader does not know */
#define MAX_CHUNK 65536     /* rows of one chunk (the writer's CHUNK_MAX) */
#define MAX_LINKS 256       /* links of one group this reader walks */
#define BLOCK_ROWS 65536    /* rows read at a time */

typedef enum { KIND_F64, KIND_I64, KIND_I32, KIND_STRING } value_kind;

/* What the values of a dataset must satisfy. */
typedef enum {
    RULE_ANY,           /* readable (NaN allowed): datasets of a later minor version */
    RULE_FINITE,        /* finite numbers */
    RULE_FINITE_NONNEG, /* finite and >= 0 */
    RULE_NONNEG,        /* integers >= 0 */
    RULE_ROW,           /* the row number: 0, 1, 2, ... */
} value_rule;

static const char *kind_name(value_kind kind) {
    switch (kind) {
    case KIND_F64:
        return "float64";
    case KIND_I64:
        return "int64";
    case KIND_I32:
        return "int32";
    case KIND_STRING:
        return "variable-length string";
    }
    return "?";
}

/* The full HDF5 name of loc/name, for messages. */
static const char *object_name(hid_t loc, const char *name, char *buffer, size_t size) {
    char where[512] = "";
    if (loc >= 0) H5Iget_name(loc, where, sizeof where);
    snprintf(buffer, size, "%s%s%s", where, strcmp(where, "/") == 0 ? "" : "/", name);
    return buffer;
}

/* The stored type matches kind exactly: class, size and sign. */
static int type_matches(hid_t type, value_kind kind) {
    H5T_class_t class = H5Tget_class(type);
    size_t size = H5Tget_size(type);
    switch (kind) {
    case KIND_F64:
        return class == H5T_FLOAT && size == 8;
    case KIND_I64:
        return class == H5T_INTEGER && size == 8 && H5Tget_sign(type) == H5T_SGN_2;
    case KIND_I32:
        return class == H5T_INTEGER && size == 4 && H5Tget_sign(type) == H5T_SGN_2;
    case KIND_STRING:
        return class == H5T_STRING && H5Tis_variable_str(type) > 0;
    }
    return 0;
}

static hid_t memory_type(value_kind kind, hid_t *string_type) {
    switch (kind) {
    case KIND_F64:
        return H5T_NATIVE_DOUBLE;
    case KIND_I64:
        return H5T_NATIVE_INT64;
    case KIND_I32:
        return H5T_NATIVE_INT32;
    case KIND_STRING:
        *string_type = H5Tcopy(H5T_C_S1);
        H5Tset_size(*string_type, H5T_VARIABLE);
        return *string_type;
    }
    return H5I_INVALID_HID;
}

/* The kind a stored numeric type is read as (a dataset this reader does not know). */
static int stored_kind(hid_t type, value_kind *kind) {
    for (value_kind k = KIND_F64; k <= KIND_STRING; k++)
        if (type_matches(type, k)) {
            *kind = k;
            return 1;
        }
    return 0;
}

/* The type of object loc/name (H5O_TYPE_UNKNOWN when there is no such link). This reads the
 * object's whole header, every chunk with its checksum: a damaged one fails here. */
static mf_status object_type(const char *path, hid_t loc, const char *name, H5O_type_t *type) {
    *type = H5O_TYPE_UNKNOWN;
    if (H5Lexists(loc, name, H5P_DEFAULT) <= 0) return MF_OK;
    H5O_info_t info;
    if (H5Oget_info_by_name(loc, name, &info, H5P_DEFAULT) < 0) {
        char full[600];
        return MF_FAIL(MF_ERR_INPUT,
                       "result file '%s' is damaged: the header of %s cannot be read (a "
                       "checksum that does not match, or a broken structure)",
                       path, object_name(loc, name, full, sizeof full));
    }
    *type = info.type;
    return MF_OK;
}

/* The declared elements are backed by storage in the file: a damaged header could declare
 * 2^40 rows of which no byte exists (chunks never written read as zeros, for ever). */
static mf_status check_storage(const char *path, hid_t dataset, const char *name, hsize_t n,
                               size_t element_size) {
    hid_t dcpl = H5Dget_create_plist(dataset);
    if (dcpl < 0)
        return MF_FAIL(MF_ERR_INPUT, "result file '%s' is damaged: cannot read the layout of %s",
                       path, name);
    H5D_layout_t layout = H5Pget_layout(dcpl);
    hsize_t chunk = 0;
    int chunk_rank = layout == H5D_CHUNKED ? H5Pget_chunk(dcpl, 1, &chunk) : 0;
    H5Pclose(dcpl);
    if (n == 0 || layout == H5D_COMPACT) return MF_OK;
    if (layout == H5D_CONTIGUOUS) {
        if (H5Dget_storage_size(dataset) != n * element_size)
            return MF_FAIL(MF_ERR_INPUT,
                           "result file '%s' is damaged: %s declares %llu rows that its storage "
                           "does not hold",
                           path, name, (unsigned long long)n);
        return MF_OK;
    }
    if (layout != H5D_CHUNKED || chunk_rank != 1 || chunk < 1 || chunk > MAX_CHUNK)
        return MF_FAIL(MF_ERR_INPUT,
                       "result file '%s' is damaged: %s has a storage layout marginfall does "
                       "not write",
                       path, name);
    hid_t space = H5Dget_space(dataset);
    hsize_t chunks = 0;
    herr_t got = space >= 0 ? H5Dget_num_chunks(dataset, space, &chunks) : -1;
    if (space >= 0) H5Sclose(space);
    if (got < 0 || chunks != (n + chunk - 1) / chunk)
        return MF_FAIL(MF_ERR_INPUT,
                       "result file '%s' is damaged: %s declares %llu rows that its storage "
                       "does not hold",
                       path, name, (unsigned long long)n);
    return MF_OK;
}

/* Open loc/name as a dataset of `kind`, scalar (rank 0) or 1-D (rank 1) with `expected`
 * elements (or at most `max` when expected < 0), its rows backed by storage. */
static mf_status open_dataset(const char *path, hid_t loc, const char *name, value_kind kind,
                              int rank, int64_t expected, int64_t max, hid_t *dataset, hsize_t *n) {
    char full[600];
    object_name(loc, name, full, sizeof full);
    *dataset = H5I_INVALID_HID;
    H5O_type_t object;
    MF_CHECK(object_type(path, loc, name, &object));
    if (object != H5O_TYPE_DATASET)
        return MF_FAIL(MF_ERR_INPUT, "result file '%s' is damaged: dataset %s is missing", path,
                       full);
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    hid_t type = ds >= 0 ? H5Dget_type(ds) : H5I_INVALID_HID;
    hid_t space = ds >= 0 ? H5Dget_space(ds) : H5I_INVALID_HID;
    H5S_class_t shape = space >= 0 ? H5Sget_simple_extent_type(space) : H5S_NO_CLASS;
    int ndims = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    hsize_t extent = 0;
    if (shape == H5S_SIMPLE && ndims == 1) H5Sget_simple_extent_dims(space, &extent, NULL);
    /* A variable-length string is stored as a 16-byte global heap ID (length, address of
     * the heap collection, index). */
    size_t element_size = kind == KIND_STRING ? 16 : type >= 0 ? H5Tget_size(type) : 0;
    int type_ok = type >= 0 && type_matches(type, kind);
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    mf_status status = MF_OK;
    if (ds < 0)
        status = MF_FAIL(MF_ERR_INPUT, "result file '%s' is damaged: cannot open dataset %s", path,
                         full);
    else if (!type_ok)
        status = MF_FAIL(MF_ERR_INPUT, "result file '%s' is damaged: dataset %s is not of type %s",
                         path, full, kind_name(kind));
    else if (rank == 0 && shape != H5S_SCALAR)
        status = MF_FAIL(MF_ERR_INPUT, "result file '%s' is damaged: dataset %s is not a scalar",
                         path, full);
    else if (rank == 1 && !(shape == H5S_SIMPLE && ndims == 1))
        status =
            MF_FAIL(MF_ERR_INPUT, "result file '%s' is damaged: dataset %s is not one-dimensional",
                    path, full);
    else if (rank == 1 && expected >= 0 && extent != (hsize_t)expected)
        status = MF_FAIL(MF_ERR_INPUT,
                         "result file '%s' is damaged: dataset %s has %llu rows, expected %lld",
                         path, full, (unsigned long long)extent, (long long)expected);
    else if (rank == 1 && expected < 0 && extent > (hsize_t)max)
        status = MF_FAIL(MF_ERR_INPUT,
                         "result file '%s' is damaged: dataset %s declares %llu rows, more than "
                         "the %lld marginfall writes",
                         path, full, (unsigned long long)extent, (long long)max);
    else
        status = check_storage(path, ds, full, rank == 0 ? 1 : extent, element_size);
    if (status != MF_OK) {
        if (ds >= 0) H5Dclose(ds);
        return status;
    }
    *dataset = ds;
    *n = rank == 0 ? 1 : extent;
    return MF_OK;
}

/* Rows [first, first + count) of a dataset into buffer (memory type of kind). A failure is
 * most often a Fletcher32 checksum that does not match: the file is damaged. */
static mf_status read_rows(const char *path, hid_t dataset, value_kind kind, int rank,
                           hsize_t first, hsize_t count, void *buffer) {
    hid_t string_type = H5I_INVALID_HID;
    hid_t mem = memory_type(kind, &string_type);
    hid_t file_space = H5Dget_space(dataset);
    hid_t mem_space = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &count, NULL);
    herr_t ok = file_space >= 0 && mem_space >= 0 ? 0 : -1;
    if (ok >= 0 && rank == 1)
        ok = H5Sselect_hyperslab(file_space, H5S_SELECT_SET, &first, NULL, &count, NULL);
    if (ok >= 0) ok = H5Dread(dataset, mem, mem_space, file_space, H5P_DEFAULT, buffer);
    char reason[256] = "";
    if (ok < 0) h5_error_reason(reason, sizeof reason);
    if (ok >= 0 && kind == KIND_STRING) H5Dvlen_reclaim(mem, mem_space, H5P_DEFAULT, buffer);
    if (mem_space >= 0) H5Sclose(mem_space);
    if (file_space >= 0) H5Sclose(file_space);
    if (string_type >= 0) H5Tclose(string_type);
    if (ok >= 0) return MF_OK;
    char full[512] = "";
    H5Iget_name(dataset, full, sizeof full);
    return MF_FAIL(MF_ERR_INPUT,
                   "result file '%s' is damaged: dataset %s cannot be read (rows %llu..%llu: "
                   "%s; a checksum that does not match means the bytes changed)",
                   path, full, (unsigned long long)first, (unsigned long long)(first + count - 1),
                   reason);
}

/* Check one value against rule; the message names the row. */
static mf_status check_value(const char *path, const char *name, hsize_t row, double value,
                             int64_t integer, value_kind kind, value_rule rule) {
    const int is_float = kind == KIND_F64;
    switch (rule) {
    case RULE_ANY:
        return MF_OK;
    case RULE_FINITE:
    case RULE_FINITE_NONNEG:
        if (is_float && !isfinite(value))
            return MF_FAIL(MF_ERR_INPUT,
                           "result file '%s' is damaged: %s[%llu] is %g, not a finite number", path,
                           name, (unsigned long long)row, value);
        if (rule == RULE_FINITE_NONNEG && (is_float ? value < 0 : integer < 0))
            return MF_FAIL(MF_ERR_INPUT, "result file '%s' is damaged: %s[%llu] is negative", path,
                           name, (unsigned long long)row);
        return MF_OK;
    case RULE_NONNEG:
        if (is_float && !(value >= 0 && isfinite(value)))
            return MF_FAIL(MF_ERR_INPUT,
                           "result file '%s' is damaged: %s[%llu] is %g, not a count >= 0", path,
                           name, (unsigned long long)row, value);
        if (!is_float && integer < 0)
            return MF_FAIL(MF_ERR_INPUT,
                           "result file '%s' is damaged: %s[%llu] is %lld, a count must not be "
                           "negative",
                           path, name, (unsigned long long)row, (long long)integer);
        return MF_OK;
    case RULE_ROW:
        if (is_float || integer != (int64_t)row)
            return MF_FAIL(
                MF_ERR_INPUT, "result file '%s' is damaged: %s[%llu] is %lld, expected %llu", path,
                name, (unsigned long long)row, (long long)integer, (unsigned long long)row);
        return MF_OK;
    }
    return MF_OK;
}

/* Read every row of an open dataset in blocks (bounded memory, checksums verified) and check
 * each value against rule. values, if not NULL, receives a copy of up to n_values doubles. */
static mf_status scan_dataset(const char *path, hid_t dataset, value_kind kind, int rank, hsize_t n,
                              value_rule rule, double *values, hsize_t n_values) {
    char name[512] = "";
    H5Iget_name(dataset, name, sizeof name);
    const hsize_t block = n < BLOCK_ROWS ? (n > 0 ? n : 1) : BLOCK_ROWS;
    void *buffer = calloc((size_t)block, 8);
    if (!buffer) return MF_FAIL(MF_ERR_MEMORY, "out of memory reading '%s'", path);
    mf_status status = MF_OK;
    for (hsize_t first = 0; first < n && status == MF_OK; first += block) {
        const hsize_t count = n - first < block ? n - first : block;
        status = read_rows(path, dataset, kind, rank, first, count, buffer);
        for (hsize_t i = 0; i < count && status == MF_OK && kind != KIND_STRING; i++) {
            double value = 0;
            int64_t integer = 0;
            if (kind == KIND_F64)
                value = ((const double *)buffer)[i];
            else if (kind == KIND_I64)
                integer = ((const int64_t *)buffer)[i];
            else
                integer = ((const int32_t *)buffer)[i];
            if (kind != KIND_F64) value = (double)integer;
            status = check_value(path, name, first + i, value, integer, kind, rule);
            if (values && first + i < n_values) values[first + i] = value;
        }
    }
    free(buffer);
    return status;
}

/* Open, check and scan loc/name; values (optional) receives up to n_values of its values. */
static mf_status check_dataset(const char *path, hid_t loc, const char *name, value_kind kind,
                               int rank, int64_t expected, int64_t max, value_rule rule,
                               double *values, hsize_t n_values, hsize_t *n_out) {
    hid_t dataset;
    hsize_t n = 0;
    MF_CHECK(open_dataset(path, loc, name, kind, rank, expected, max, &dataset, &n));
    mf_status status = scan_dataset(path, dataset, kind, rank, n, rule, values, n_values);
    H5Dclose(dataset);
    if (n_out) *n_out = n;
    return status;
}

static mf_status scalar_f64(const char *path, hid_t loc, const char *name, value_rule rule,
                            double *value) {
    return check_dataset(path, loc, name, KIND_F64, 0, 1, 1, rule, value, 1, NULL);
}

static mf_status scalar_i64(const char *path, hid_t loc, const char *name, value_rule rule,
                            int64_t *value) {
    double copy = 0;
    MF_CHECK(check_dataset(path, loc, name, KIND_I64, 0, 1, 1, rule, &copy, 1, NULL));
    /* Re-read exactly: a double holds integers up to 2^53 only. */
    int64_t exact = 0;
    if (h5_read_dataset_numbers(loc, name, H5T_NATIVE_INT64, &exact, 1) != 0)
        return MF_FAIL(MF_ERR_INPUT, "result file '%s' is damaged: %s cannot be read", path, name);
    *value = exact;
    return MF_OK;
}

/* ---------------------------------------------------------------------------------------
 * Datasets this reader does not know (a later minor version): readable, bounded, 1-D.
 * ------------------------------------------------------------------------------------- */

static mf_status check_unknown_dataset(const char *path, hid_t loc, const char *name) {
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    hid_t type = ds >= 0 ? H5Dget_type(ds) : H5I_INVALID_HID;
    hid_t space = ds >= 0 ? H5Dget_space(ds) : H5I_INVALID_HID;
    value_kind kind = KIND_F64;
    int known_type = type >= 0 && stored_kind(type, &kind);
    int rank = space >= 0 && H5Sget_simple_extent_type(space) == H5S_SCALAR ? 0 : 1;
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    if (ds >= 0) H5Dclose(ds);
    char full[600];
    object_name(loc, name, full, sizeof full);
    if (!known_type)
        return MF_FAIL(MF_ERR_INPUT,
                       "result file '%s' is damaged: dataset %s is of a type marginfall does not "
                       "write",
                       path, full);
    return check_dataset(path, loc, name, kind, rank, -1, MAX_ITEMS, RULE_ANY, NULL, 0, NULL);
}

typedef struct {
    char names[MAX_LINKS][64];
    int n;
    int too_many;
} link_list;

static herr_t collect_link(hid_t group, const char *name, const H5L_info_t *info, void *data) {
    (void)group;
    (void)info;
    link_list *list = data;
    if (list->n < MAX_LINKS && strlen(name) < sizeof list->names[0])
        snprintf(list->names[list->n++], sizeof list->names[0], "%s", name);
    else
        list->too_many = 1;
    return 0;
}

/* The links of a group by name; NULL (and an error) if there are too many or too long. */
static mf_status list_links(const char *path, hid_t group, const char *what, link_list **list) {
    *list = calloc(1, sizeof **list);
    if (!*list) return MF_FAIL(MF_ERR_MEMORY, "out of memory reading '%s'", path);
    hsize_t position = 0;
    if (H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &position, collect_link, *list) < 0 ||
        (*list)->too_many) {
        free(*list);
        *list = NULL;
        char full[512] = "";
        H5Iget_name(group, full, sizeof full);
        return MF_FAIL(MF_ERR_INPUT,
                       "result file '%s' is damaged: the %s group %s cannot be listed, or holds "
                       "more than %d entries or names of 64 characters",
                       path, what, full, MAX_LINKS);
    }
    return MF_OK;
}

static int is_one_of(const char *name, const char *const *names) {
    for (; *names; names++)
        if (strcmp(name, *names) == 0) return 1;
    return 0;
}

static mf_status open_group(const char *path, hid_t loc, const char *name, hid_t *group) {
    *group = H5I_INVALID_HID;
    H5O_type_t type;
    MF_CHECK(object_type(path, loc, name, &type));
    if (type == H5O_TYPE_GROUP) *group = H5Gopen2(loc, name, H5P_DEFAULT);
    if (*group >= 0) return MF_OK;
    char full[600];
    return MF_FAIL(MF_ERR_INPUT, "result file '%s' is damaged: group %s is missing", path,
                   object_name(loc, name, full, sizeof full));
}

/* Every dataset of group (and of its groups, `depth` levels down) not named in known. */
static mf_status check_unknown_links(const char *path, hid_t group, const char *const *known,
                                     int depth) {
    link_list *links;
    MF_CHECK(list_links(path, group, "", &links));
    mf_status status = MF_OK;
    for (int i = 0; i < links->n && status == MF_OK; i++) {
        const char *name = links->names[i];
        if (known && is_one_of(name, known)) continue;
        H5O_type_t type;
        status = object_type(path, group, name, &type);
        if (status != MF_OK) break;
        if (type == H5O_TYPE_GROUP && depth > 0) {
            hid_t child = H5Gopen2(group, name, H5P_DEFAULT);
            status = child >= 0
                         ? check_unknown_links(path, child, NULL, depth - 1)
                         : MF_FAIL(MF_ERR_INPUT,
                                   "result file '%s' is damaged: cannot open group %s", path, name);
            if (child >= 0) H5Gclose(child);
        } else {
            status = check_unknown_dataset(path, group, name);
        }
    }
    free(links);
    return status;
}

/* ---------------------------------------------------------------------------------------
 * Attributes
 * ------------------------------------------------------------------------------------- */

/* A numeric attribute of n values stored in mem_type's class (h5_read_attr_numbers: integers
 * of its sign and at most its width, floats of its width); an error when it is missing and
 * required, or of another type. Left unchanged when absent and not required. */
static mf_status attr_numbers(const char *path, hid_t loc, const char *name, hid_t mem_type,
                              void *out, int n, int required) {
    char full[600];
    object_name(loc, "", full, sizeof full);
    int exists = H5Aexists(loc, name) > 0;
    if (!exists && !required) return MF_OK;
    if (!exists || h5_read_attr_numbers(loc, name, mem_type, out, n) != 0)
        return MF_FAIL(MF_ERR_INPUT, "result file '%s' is damaged: attribute '%s' of %s is %s",
                       path, name, full, exists ? "not of the type marginfall writes" : "missing");
    return MF_OK;
}

/* A string attribute, if present, is a string (info prints it). */
static mf_status attr_text(const char *path, hid_t loc, const char *name, int required) {
    if (H5Aexists(loc, name) <= 0) {
        if (!required) return MF_OK;
        return MF_FAIL(MF_ERR_INPUT, "result file '%s' is damaged: attribute '%s' is missing", path,
                       name);
    }
    char *text = h5_read_attr_string(loc, name);
    if (!text) {
        char full[600];
        return MF_FAIL(MF_ERR_INPUT,
                       "result file '%s' is damaged: attribute '%s' of %s is not a string", path,
                       name, object_name(loc, "", full, sizeof full));
    }
    free(text);
    return MF_OK;
}

/* The verification_digest attribute: *found = 0 when absent (files older than the digest),
 * an error when present but not 16 hex digits. */
static mf_status attr_digest(const char *path, hid_t loc, uint64_t *digest, int *found) {
    *found = H5Aexists(loc, "verification_digest") > 0;
    if (!*found) return MF_OK;
    char *text = h5_read_attr_string(loc, "verification_digest");
    int ok = mf_digest_parse(text, digest) == 0;
    free(text);
    if (ok) return MF_OK;
    char full[600];
    return MF_FAIL(MF_ERR_INPUT, "result file '%s' is damaged: %s has no valid verification_digest",
                   path, object_name(loc, "", full, sizeof full));
}

/* ---------------------------------------------------------------------------------------
 * A point group
 * ------------------------------------------------------------------------------------- */

/* NaN stands for "no sample" (count 0); otherwise a statistic is finite. */
static mf_status statistic(const char *path, hid_t group, const char *name, int64_t count,
                           double *value) {
    MF_CHECK(scalar_f64(path, group, name, RULE_ANY, value));
    if (isinf(*value) || (count > 0 && isnan(*value))) {
        char full[600];
        return MF_FAIL(MF_ERR_INPUT, "result file '%s' is damaged: %s is %g with %lld samples",
                       path, object_name(group, name, full, sizeof full), *value, (long long)count);
    }
    return MF_OK;
}

static mf_status statistics_array(const char *path, hid_t group, const char *name, int64_t count,
                                  hsize_t n, double *values) {
    MF_CHECK(
        check_dataset(path, group, name, KIND_F64, 1, (int64_t)n, 0, RULE_ANY, values, n, NULL));
    for (hsize_t q = 0; q < n; q++)
        if (isinf(values[q]) || (count > 0 && isnan(values[q]))) {
            char full[600];
            return MF_FAIL(MF_ERR_INPUT,
                           "result file '%s' is damaged: %s[%llu] is %g with %lld samples", path,
                           object_name(group, name, full, sizeof full), (unsigned long long)q,
                           values[q], (long long)count);
        }
    return MF_OK;
}

static mf_status check_histogram(const char *path, hid_t group, int64_t count) {
    char full[600];
    object_name(group, "counts", full, sizeof full);
    int64_t underflow = 0, overflow = 0;
    MF_CHECK(scalar_i64(path, group, "underflow", RULE_NONNEG, &underflow));
    MF_CHECK(scalar_i64(path, group, "overflow", RULE_NONNEG, &overflow));
    hsize_t n_edges = 0;
    MF_CHECK(check_dataset(path, group, "bin_edges", KIND_F64, 1, -1, MAX_BINS + 1, RULE_FINITE,
                           NULL, 0, &n_edges));
    if (n_edges < 2)
        return MF_FAIL(MF_ERR_INPUT, "result file '%s' is damaged: %s has %llu bin edges", path,
                       full, (unsigned long long)n_edges);
    const hsize_t bins = n_edges - 1;
    double *edges = calloc((size_t)n_edges, sizeof *edges);
    int64_t *counts = calloc((size_t)bins, sizeof *counts);
    mf_status status = edges && counts ? MF_OK : MF_FAIL(MF_ERR_MEMORY, "out of memory");
    if (status == MF_OK)
        status = check_dataset(path, group, "bin_edges", KIND_F64, 1, (int64_t)n_edges, 0,
                               RULE_FINITE, edges, n_edges, NULL);
    for (hsize_t j = 1; j < n_edges && status == MF_OK; j++)
        if (!(edges[j] > edges[j - 1]))
            status = MF_FAIL(MF_ERR_INPUT,
                             "result file '%s' is damaged: %s: bin_edges[%llu] does not increase",
                             path, full, (unsigned long long)j);
    if (status == MF_OK)
        status = check_dataset(path, group, "bin_center", KIND_F64, 1, (int64_t)bins, 0,
                               RULE_FINITE, NULL, 0, NULL);
    /* Format 2.0: each bin's edges beside it (CF bounds for plots). */
    static const char *const bounds[] = {"bin_lower", "bin_upper"};
    for (int b = 0; b < 2 && status == MF_OK; b++)
        if (H5Lexists(group, bounds[b], H5P_DEFAULT) > 0)
            status = check_dataset(path, group, bounds[b], KIND_F64, 1, (int64_t)bins, 0,
                                   RULE_FINITE, NULL, 0, NULL);
    if (status == MF_OK)
        status = check_dataset(path, group, "counts", KIND_I64, 1, (int64_t)bins, 0, RULE_NONNEG,
                               NULL, 0, NULL);
    if (status == MF_OK &&
        h5_read_dataset_numbers(group, "counts", H5T_NATIVE_INT64, counts, (int)bins) != 0)
        status =
            MF_FAIL(MF_ERR_INPUT, "result file '%s' is damaged: %s cannot be read", path, full);
    /* Every sample is in exactly one of underflow, a bin, overflow (counts are >= 0 here, so
     * the running sum only grows; stop before it could overflow). */
    int64_t total = underflow;
    int sum_ok = status == MF_OK && overflow <= INT64_MAX - total;
    if (sum_ok) total += overflow;
    for (hsize_t j = 0; j < bins && sum_ok; j++) {
        sum_ok = counts[j] <= INT64_MAX - total;
        if (sum_ok) total += counts[j];
    }
    if (status == MF_OK && (!sum_ok || total != count))
        status = MF_FAIL(MF_ERR_INPUT,
                         "result file '%s' is damaged: %s: underflow + counts + overflow is not "
                         "count (%lld)",
                         path, full, (long long)count);
    free(edges);
    free(counts);
    return status;
}

static mf_status check_quantiles(const char *path, hid_t group, int64_t count) {
    char full[600];
    object_name(group, "quantile_levels", full, sizeof full);
    hsize_t n = 0;
    double levels[MAX_LEVELS], values[MAX_LEVELS];
    MF_CHECK(check_dataset(path, group, "quantile_levels", KIND_F64, 1, -1, MAX_LEVELS, RULE_FINITE,
                           levels, MAX_LEVELS, &n));
    if (n < 1) return MF_FAIL(MF_ERR_INPUT, "result file '%s' is damaged: %s is empty", path, full);
    for (hsize_t q = 0; q < n; q++)
        if (!(levels[q] > 0 && levels[q] < 1) || (q > 0 && !(levels[q] > levels[q - 1])))
            return MF_FAIL(MF_ERR_INPUT,
                           "result file '%s' is damaged: %s[%llu] is %g (levels lie in (0, 1) "
                           "and increase)",
                           path, full, (unsigned long long)q, levels[q]);
    MF_CHECK(statistics_array(path, group, "quantiles", count, n, values));
    MF_CHECK(statistics_array(path, group, "expected_shortfall", count, n, values));
    return MF_OK;
}

/* A metric this build knows has the unit of its table: strings are stored where HDF5 keeps
 * no checksum, and info prints the unit and formats values by it. */
static mf_status check_known_unit(const char *path, hid_t group, const char *name) {
    for (int m = 0; m < MF_METRIC_COUNT; m++) {
        const mf_metric_info *describe = mf_metric_describe((mf_metric_id)m);
        if (strcmp(describe->name, name) != 0) continue;
        char *unit = h5_read_attr_string(group, "unit");
        int ok = unit && strcmp(unit, describe->unit) == 0;
        free(unit);
        if (!ok)
            return MF_FAIL(MF_ERR_INPUT,
                           "result file '%s' is damaged: metric %s has no unit or not '%s'", path,
                           name, describe->unit);
    }
    return MF_OK;
}

static mf_status check_metric(const char *path, hid_t metrics, const char *name) {
    hid_t group;
    MF_CHECK(open_group(path, metrics, name, &group));
    int64_t count = 0;
    double mean, m2, min, max;
    mf_status status = scalar_i64(path, group, h5_moment_name(group, "count"), RULE_NONNEG, &count);
    if (status == MF_OK)
        status = statistic(path, group, h5_moment_name(group, "mean"), count, &mean);
    if (status == MF_OK) status = statistic(path, group, h5_moment_name(group, "m2"), count, &m2);
    if (status == MF_OK) status = statistic(path, group, h5_moment_name(group, "min"), count, &min);
    if (status == MF_OK) status = statistic(path, group, h5_moment_name(group, "max"), count, &max);
    if (status == MF_OK && count > 0 && !(min <= max && m2 >= 0)) {
        char full[600];
        status =
            MF_FAIL(MF_ERR_INPUT, "result file '%s' is damaged: %s: min > max or a negative m2",
                    path, object_name(metrics, name, full, sizeof full));
    }
    if (status == MF_OK) status = check_histogram(path, group, count);
    if (status == MF_OK) status = check_quantiles(path, group, count);
    for (const char *const *a = (const char *const[]){"unit", "description", "per", NULL};
         *a && status == MF_OK; a++)
        status = attr_text(path, group, *a, 0);
    if (status == MF_OK) status = check_known_unit(path, group, name);
    static const char *const known[] = {"count",       "mean",
                                        "m2",          "min",
                                        "max",         "sample_count",
                                        "sample_mean", "sample_m2",
                                        "sample_min",  "sample_max",
                                        "bin_lower",   "bin_upper",
                                        "bin_edges",   "bin_center",
                                        "counts",      "underflow",
                                        "overflow",    "quantile_levels",
                                        "quantiles",   "expected_shortfall",
                                        NULL};
    if (status == MF_OK) status = check_unknown_links(path, group, known, 0);
    H5Gclose(group);
    return status;
}

static mf_status check_profile(const char *path, hid_t point) {
    hid_t group;
    MF_CHECK(open_group(path, point, "profile", &group));
    hsize_t steps = 0;
    mf_status status =
        check_dataset(path, group, "step", KIND_I32, 1, -1, MAX_STEPS, RULE_ROW, NULL, 0, &steps);
    static const char *const series[] = {"liquidated_notional", "liquidated_accounts", "fund"};
    static const value_rule rules[] = {RULE_FINITE_NONNEG, RULE_FINITE_NONNEG, RULE_FINITE};
    for (int s = 0; s < 3 && status == MF_OK; s++)
        status = check_dataset(path, group, series[s], KIND_F64, 1, (int64_t)steps, 0, rules[s],
                               NULL, 0, NULL);
    /* Format 2.0: the time at the end of each step. */
    if (status == MF_OK && H5Lexists(group, "time", H5P_DEFAULT) > 0)
        status = check_dataset(path, group, "time", KIND_F64, 1, (int64_t)steps, 0,
                               RULE_FINITE_NONNEG, NULL, 0, NULL);
    static const char *const known[] = {
        "step", "time", "liquidated_notional", "liquidated_accounts", "fund", NULL};
    if (status == MF_OK) status = check_unknown_links(path, group, known, 0);
    H5Gclose(group);
    return status;
}

/* The per-path table: every column has one row per path; path_index counts the rows, integer
 * columns are counts (>= 0) and float columns finite. scan = 0 checks types, shapes and
 * storage only (info does not print the table; merge copies it and reads every row). */
static mf_status check_paths(const char *path, hid_t point, int64_t n_paths, int scan) {
    hid_t group;
    MF_CHECK(open_group(path, point, "paths", &group));
    link_list *links = NULL;
    mf_status status = list_links(path, group, "paths", &links);
    if (status == MF_OK && H5Lexists(group, "path_index", H5P_DEFAULT) <= 0)
        status = MF_FAIL(MF_ERR_INPUT,
                         "result file '%s' is damaged: a paths group has no path_index", path);
    for (int i = 0; status == MF_OK && i < links->n; i++) {
        const char *name = links->names[i];
        hid_t dataset = H5I_INVALID_HID, type = H5I_INVALID_HID;
        value_kind kind = KIND_F64;
        H5O_type_t object;
        status = object_type(path, group, name, &object);
        if (status != MF_OK) break;
        if (object == H5O_TYPE_DATASET) dataset = H5Dopen2(group, name, H5P_DEFAULT);
        if (dataset >= 0) type = H5Dget_type(dataset);
        int known = type >= 0 && stored_kind(type, &kind) && kind != KIND_STRING;
        if (type >= 0) H5Tclose(type);
        if (dataset >= 0) H5Dclose(dataset);
        if (!known) {
            char full[600];
            status =
                MF_FAIL(MF_ERR_INPUT, "result file '%s' is damaged: %s is not a numeric column",
                        path, object_name(group, name, full, sizeof full));
            break;
        }
        const value_rule rule = strcmp(name, "path_index") == 0 ? RULE_ROW
                                : kind == KIND_F64              ? RULE_FINITE
                                                                : RULE_NONNEG;
        hsize_t n = 0;
        status = open_dataset(path, group, name, kind, 1, n_paths, 0, &dataset, &n);
        if (status == MF_OK && scan)
            status = scan_dataset(path, dataset, kind, 1, n, rule, NULL, 0);
        if (dataset >= 0) H5Dclose(dataset);
    }
    free(links);
    H5Gclose(group);
    return status;
}

/* ---------------------------------------------------------------------------------------
 * The point's verification digest, recomputed from its datasets. Scalars cannot carry a
 * Fletcher32 checksum (HDF5 chunks arrays only): the digest covers them, and every other
 * figure, bit for bit. Only for files of this build's format version and metric table (the
 * digest walks this build's tables); older files get the checks above only.
 * ------------------------------------------------------------------------------------- */

/* FNV-1a over 8 little-endian bytes, as src/results/results.c hashes a figure. */
static uint64_t fnv_i64(uint64_t hash, int64_t value) {
    for (int i = 0; i < 8; i++) {
        hash ^= (unsigned char)((uint64_t)value >> (8 * i));
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

/* The run's number of assets: the length of the root attribute `assets` (0 if unreadable). */
static int file_asset_count(hid_t point) {
    hid_t file = H5Iget_file_id(point);
    hid_t attr = file >= 0 && H5Aexists(file, "assets") > 0 ? H5Aopen(file, "assets", H5P_DEFAULT)
                                                            : H5I_INVALID_HID;
    hid_t space = attr >= 0 ? H5Aget_space(attr) : H5I_INVALID_HID;
    const hssize_t n = space >= 0 ? H5Sget_simple_extent_npoints(space) : 0;
    if (space >= 0) H5Sclose(space);
    if (attr >= 0) H5Aclose(attr);
    if (file >= 0) H5Fclose(file);
    return n > 0 && n <= MF_MAX_ASSETS ? (int)n : 0;
}

/* Whether column c is in the file's per-path table: a per-asset column only for the run's
 * assets (the engine leaves the others 0, and the digest hashes them as 0). */
static int column_written(const mf_path_column *column, int n_assets) {
    return column->asset <= n_assets;
}

/* The file holds exactly this build's metrics and a per-path table of its columns (the
 * ledger's all or none): the digest can be recomputed. *ledger: the ledger columns are kept. */
static int digest_computable(hid_t point, int *ledger) {
    int32_t version[2] = {0, 0};
    hid_t file = H5Iget_file_id(point);
    int ok = file >= 0 &&
             h5_read_attr_numbers(file, "format_version", H5T_NATIVE_INT32, version, 2) == 0 &&
             version[0] == MF_FORMAT_VERSION_MAJOR && version[1] == MF_FORMAT_VERSION_MINOR;
    if (file >= 0) H5Fclose(file);
    hid_t metrics = ok ? H5Gopen2(point, "metrics", H5P_DEFAULT) : H5I_INVALID_HID;
    H5G_info_t info;
    ok = metrics >= 0 && H5Gget_info(metrics, &info) >= 0 && info.nlinks == MF_METRIC_COUNT;
    for (int m = 0; ok && m < MF_METRIC_COUNT; m++)
        ok = H5Lexists(metrics, mf_metric_describe((mf_metric_id)m)->name, H5P_DEFAULT) > 0;
    if (metrics >= 0) H5Gclose(metrics);
    *ledger = 0;
    hid_t paths = ok && H5Lexists(point, "paths", H5P_DEFAULT) > 0
                      ? H5Gopen2(point, "paths", H5P_DEFAULT)
                      : H5I_INVALID_HID;
    if (paths < 0) return ok;
    int rows = 0, ledgers = 0, n_ledger = 0, n_written = 0;
    const int n_assets = file_asset_count(point);
    for (int c = 0; c < mf_path_column_count(); c++) {
        const mf_path_column *column = mf_path_column_describe(c);
        if (!column_written(column, n_assets)) continue;
        n_written++;
        const int present = H5Lexists(paths, column->name, H5P_DEFAULT) > 0;
        if (column->source == MF_COLUMN_FROM_LEDGER) {
            ledgers += present;
            n_ledger++;
        } else {
            rows += !present;
        }
    }
    H5Gget_info(paths, &info);
    H5Gclose(paths);
    *ledger = ledgers == n_ledger;
    return ok && n_assets > 0 && rows == 0 && (ledgers == 0 || ledgers == n_ledger) &&
           info.nlinks == (hsize_t)(n_written - (*ledger ? 0 : n_ledger));
}

/* One metric's figures from its (checked) datasets; edges and counts are malloc'd. */
/* The number of rows of loc/name (-1 if it cannot be read). */
static hssize_t rows_of(hid_t loc, const char *name) {
    hid_t dataset = H5Dopen2(loc, name, H5P_DEFAULT);
    hid_t space = dataset >= 0 ? H5Dget_space(dataset) : H5I_INVALID_HID;
    const hssize_t n = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    if (space >= 0) H5Sclose(space);
    if (dataset >= 0) H5Dclose(dataset);
    return n;
}

/* A metric's per-quantile arrays (n levels each). */
static int read_quantile_figures(hid_t group, mf_metric_result *m, int n) {
    static const struct {
        const char *name;
        size_t offset;
    } arrays[] = {
        {"quantile_levels", offsetof(mf_metric_result, levels)},
        {"quantiles", offsetof(mf_metric_result, quantiles)},
        {"quantile_ci_low", offsetof(mf_metric_result, quantile_ci_low)},
        {"quantile_ci_high", offsetof(mf_metric_result, quantile_ci_high)},
        {"expected_shortfall", offsetof(mf_metric_result, expected_shortfall)},
        {"expected_shortfall_standard_error",
         offsetof(mf_metric_result, expected_shortfall_standard_error)},
    };
    for (size_t a = 0; a < sizeof arrays / sizeof arrays[0]; a++)
        if (h5_read_dataset_numbers(group, arrays[a].name, H5T_NATIVE_DOUBLE,
                                    (char *)m + arrays[a].offset, n) != 0)
            return -1;
    return h5_read_dataset_numbers(group, "tail_samples", H5T_NATIVE_INT64, m->tail_samples, n);
}

static int read_metric_result(hid_t metrics, const char *name, mf_metric_result *m) {
    hid_t group = H5Gopen2(metrics, name, H5P_DEFAULT);
    if (group < 0) return -1;
    const hssize_t levels = rows_of(group, "quantile_levels");
    hid_t counts = H5Dopen2(group, "counts", H5P_DEFAULT);
    hid_t space = counts >= 0 ? H5Dget_space(counts) : H5I_INVALID_HID;
    const hssize_t bins = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    if (space >= 0) H5Sclose(space);
    if (counts >= 0) H5Dclose(counts);
    int ok = bins >= 1 && bins <= MAX_BINS;
    if (ok) {
        m->n_bins = (int)bins;
        m->edges = calloc((size_t)bins + 1, sizeof *m->edges);
        m->counts = calloc((size_t)bins, sizeof *m->counts);
        ok = m->edges && m->counts;
    }
    ok = ok &&
         h5_read_dataset_numbers(group, h5_moment_name(group, "count"), H5T_NATIVE_INT64, &m->count,
                                 1) == 0 &&
         h5_read_dataset_numbers(group, h5_moment_name(group, "mean"), H5T_NATIVE_DOUBLE, &m->mean,
                                 1) == 0 &&
         h5_read_dataset_numbers(group, h5_moment_name(group, "m2"), H5T_NATIVE_DOUBLE, &m->m2,
                                 1) == 0 &&
         h5_read_dataset_numbers(group, h5_moment_name(group, "min"), H5T_NATIVE_DOUBLE, &m->min,
                                 1) == 0 &&
         h5_read_dataset_numbers(group, h5_moment_name(group, "max"), H5T_NATIVE_DOUBLE, &m->max,
                                 1) == 0 &&
         h5_read_dataset_numbers(group, "bin_edges", H5T_NATIVE_DOUBLE, m->edges, m->n_bins + 1) ==
             0 &&
         h5_read_dataset_numbers(group, "counts", H5T_NATIVE_INT64, m->counts, m->n_bins) == 0 &&
         h5_read_dataset_numbers(group, "underflow", H5T_NATIVE_INT64, &m->underflow, 1) == 0 &&
         h5_read_dataset_numbers(group, "overflow", H5T_NATIVE_INT64, &m->overflow, 1) == 0 &&
         h5_read_dataset_numbers(group, "mean_standard_error", H5T_NATIVE_DOUBLE,
                                 &m->mean_standard_error, 1) == 0 &&
         levels >= 1 && levels <= MF_MAX_QUANTILES &&
         read_quantile_figures(group, m, (int)(m->n_quantiles = (int)levels)) == 0;
    H5Gclose(group);
    return ok ? 0 : -1;
}

/* The per-path samples of each per-path metric kept in /point_<i>/path_values (count values,
 * checked above); 1 when all are read. */
static int read_path_values(hid_t point, mf_point_result *p) {
    hid_t group = H5Gopen2(point, "path_values", H5P_DEFAULT);
    int ok = group >= 0;
    for (int m = 0; ok && m < MF_METRIC_COUNT; m++) {
        const char *name = mf_metric_describe((mf_metric_id)m)->name;
        if (H5Lexists(group, name, H5P_DEFAULT) <= 0) continue;
        mf_metric_result *metric = &p->metrics[m];
        ok = metric->count >= 0 && metric->count <= INT32_MAX &&
             rows_of(group, name) == metric->count;
        if (ok)
            metric->path_values =
                calloc((size_t)(metric->count > 0 ? metric->count : 1), sizeof(double));
        ok = ok && metric->path_values &&
             (metric->count == 0 ||
              h5_read_dataset_numbers(group, name, H5T_NATIVE_DOUBLE, metric->path_values,
                                      (int)metric->count) == 0);
    }
    if (group >= 0) H5Gclose(group);
    return ok;
}

/* The probabilities' standard errors and 95% intervals. */
static int read_probability_figures(hid_t point, mf_point_result *p) {
    return h5_read_dataset_numbers(point, "prob_bad_debt_standard_error", H5T_NATIVE_DOUBLE,
                                   &p->prob_bad_debt_standard_error, 1) == 0 &&
                   h5_read_dataset_numbers(point, "prob_bad_debt_ci_low", H5T_NATIVE_DOUBLE,
                                           &p->prob_bad_debt_ci[0], 1) == 0 &&
                   h5_read_dataset_numbers(point, "prob_bad_debt_ci_high", H5T_NATIVE_DOUBLE,
                                           &p->prob_bad_debt_ci[1], 1) == 0 &&
                   h5_read_dataset_numbers(point, "prob_fund_shortfall_standard_error",
                                           H5T_NATIVE_DOUBLE,
                                           &p->prob_fund_shortfall_standard_error, 1) == 0 &&
                   h5_read_dataset_numbers(point, "prob_fund_shortfall_ci_low", H5T_NATIVE_DOUBLE,
                                           &p->prob_fund_shortfall_ci[0], 1) == 0 &&
                   h5_read_dataset_numbers(point, "prob_fund_shortfall_ci_high", H5T_NATIVE_DOUBLE,
                                           &p->prob_fund_shortfall_ci[1], 1) == 0
               ? 0
               : -1;
}

/* Continue the digest over the per-path table, row by row, column by column, a block of rows
 * at a time. */
static mf_status hash_path_table(const char *path, hid_t point, int64_t n_paths, int ledger,
                                 uint64_t *hash) {
    hid_t group = H5Gopen2(point, "paths", H5P_DEFAULT);
    const int n_columns = mf_path_column_count();
    hid_t *datasets = calloc((size_t)n_columns, sizeof *datasets);
    unsigned char *buffer = calloc((size_t)n_columns * BLOCK_ROWS, 8);
    mf_status status = group >= 0 && datasets && buffer
                           ? MF_OK
                           : MF_FAIL(MF_ERR_MEMORY, "out of memory reading '%s'", path);
    const int n_assets = file_asset_count(point);
    for (int c = 0; datasets && c < n_columns; c++) {
        const mf_path_column *column = mf_path_column_describe(c);
        const int used =
            (column->source == MF_COLUMN_FROM_ROW || ledger) && column_written(column, n_assets);
        datasets[c] =
            status == MF_OK && used ? H5Dopen2(group, column->name, H5P_DEFAULT) : H5I_INVALID_HID;
        if (status == MF_OK && used && datasets[c] < 0)
            status = MF_FAIL(MF_ERR_INPUT, "result file '%s' is damaged: cannot open %s", path,
                             column->name);
    }
    for (int64_t first = 0; first < n_paths && status == MF_OK; first += BLOCK_ROWS) {
        const int64_t count = n_paths - first < BLOCK_ROWS ? n_paths - first : BLOCK_ROWS;
        for (int c = 0; c < n_columns && status == MF_OK; c++) {
            if (datasets[c] < 0) continue;
            const mf_column_type type = mf_path_column_describe(c)->type;
            const value_kind kind = type == MF_COLUMN_F64   ? KIND_F64
                                    : type == MF_COLUMN_I64 ? KIND_I64
                                                            : KIND_I32;
            status = read_rows(path, datasets[c], kind, 1, (hsize_t)first, (hsize_t)count,
                               buffer + (size_t)c * BLOCK_ROWS * 8);
        }
        for (int64_t i = 0; i < count && status == MF_OK; i++)
            for (int c = 0; c < n_columns; c++) {
                /* A column of an asset the run lacks is not in the file; the engine left it 0
                 * and the digest hashed that 0 (its buffer stays zeroed). */
                const mf_path_column *described = mf_path_column_describe(c);
                if (datasets[c] < 0 && column_written(described, n_assets)) continue;
                const unsigned char *column = buffer + (size_t)c * BLOCK_ROWS * 8;
                int64_t value;
                if (mf_path_column_describe(c)->type == MF_COLUMN_I32) {
                    int32_t narrow;
                    memcpy(&narrow, column + i * 4, sizeof narrow);
                    value = narrow;
                } else {
                    memcpy(&value, column + i * 8, sizeof value); /* a double's bits */
                }
                *hash = fnv_i64(*hash, value);
            }
    }
    for (int c = 0; datasets && c < n_columns; c++)
        if (datasets[c] >= 0) H5Dclose(datasets[c]);
    free(datasets);
    free(buffer);
    if (group >= 0) H5Gclose(group);
    return status;
}

/* Recompute the point's digest and compare it with its verification_digest attribute. */
static mf_status verify_point_digest(const char *path, hid_t point, const char *name,
                                     uint64_t stored) {
    int ledger = 0;
    if (!digest_computable(point, &ledger)) return MF_OK;
    mf_point_result p;
    memset(&p, 0, sizeof p);
    hid_t metrics = H5Gopen2(point, "metrics", H5P_DEFAULT);
    int ok = metrics >= 0;
    for (int m = 0; ok && m < MF_METRIC_COUNT; m++)
        ok = read_metric_result(metrics, mf_metric_describe((mf_metric_id)m)->name,
                                &p.metrics[m]) == 0;
    if (metrics >= 0) H5Gclose(metrics);
    if (ok && H5Lexists(point, "path_values", H5P_DEFAULT) > 0) ok = read_path_values(point, &p);
    hid_t step = ok ? H5Dopen2(point, "profile/step", H5P_DEFAULT) : H5I_INVALID_HID;
    hid_t space = step >= 0 ? H5Dget_space(step) : H5I_INVALID_HID;
    const hssize_t steps = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    if (space >= 0) H5Sclose(space);
    if (step >= 0) H5Dclose(step);
    ok = ok && steps >= 0 && steps <= MAX_STEPS;
    if (ok) {
        p.n_steps = (int32_t)steps;
        p.profile_liquidated_notional = calloc((size_t)steps + 1, sizeof(double));
        p.profile_liquidated_accounts = calloc((size_t)steps + 1, sizeof(double));
        p.profile_fund = calloc((size_t)steps + 1, sizeof(double));
        ok = p.profile_liquidated_notional && p.profile_liquidated_accounts && p.profile_fund;
    }
    ok = ok && h5_read_dataset_numbers(point, "n_paths", H5T_NATIVE_INT64, &p.n_paths, 1) == 0 &&
         h5_read_dataset_numbers(point, "prob_bad_debt", H5T_NATIVE_DOUBLE, &p.prob_bad_debt, 1) ==
             0 &&
         h5_read_dataset_numbers(point, "prob_fund_shortfall", H5T_NATIVE_DOUBLE,
                                 &p.prob_fund_shortfall, 1) == 0 &&
         read_probability_figures(point, &p) == 0 &&
         (steps == 0 ||
          (h5_read_dataset_numbers(point, "profile/liquidated_notional", H5T_NATIVE_DOUBLE,
                                   p.profile_liquidated_notional, (int)steps) == 0 &&
           h5_read_dataset_numbers(point, "profile/liquidated_accounts", H5T_NATIVE_DOUBLE,
                                   p.profile_liquidated_accounts, (int)steps) == 0 &&
           h5_read_dataset_numbers(point, "profile/fund", H5T_NATIVE_DOUBLE, p.profile_fund,
                                   (int)steps) == 0));
    mf_status status = ok ? MF_OK
                          : MF_FAIL(MF_ERR_INPUT,
                                    "result file '%s' is damaged: the figures of %s cannot be "
                                    "read back",
                                    path, name);
    /* The digest has no finishing step: the hash without the table continues over it. */
    uint64_t hash = status == MF_OK ? mf_point_result_digest(&p) : 0;
    if (status == MF_OK && H5Lexists(point, "paths", H5P_DEFAULT) > 0)
        status = hash_path_table(path, point, p.n_paths, ledger, &hash);
    mf_point_result_free(&p);
    if (status == MF_OK && hash != stored)
        status = MF_FAIL(MF_ERR_INPUT,
                         "result file '%s' is damaged: the figures of %s do not match its "
                         "verification_digest (a value changed)",
                         path, name);
    return status;
}

static mf_status check_point(const h5_result *r, int64_t index, int scan_paths, uint64_t *digest,
                             int *has_digest) {
    const char *path = r->path;
    char name[48];
    snprintf(name, sizeof name, "point_%lld", (long long)index);
    hid_t group;
    MF_CHECK(open_group(path, r->file, name, &group));
    int64_t stored_index = -1;
    mf_status status =
        attr_numbers(path, group, "point_index", H5T_NATIVE_INT64, &stored_index, 1, 1);
    if (status == MF_OK && stored_index != index)
        status = MF_FAIL(MF_ERR_INPUT, "result file '%s' is damaged: group %s has point_index %lld",
                         path, name, (long long)stored_index);
    if (status == MF_OK) status = attr_digest(path, group, digest, has_digest);
    if (status == MF_OK) status = attr_text(path, group, "label", 0);
    int64_t n_paths = 0;
    double probability = 0;
    if (status == MF_OK) status = scalar_i64(path, group, "n_paths", RULE_NONNEG, &n_paths);
    static const char *const probabilities[] = {"prob_bad_debt", "prob_fund_shortfall"};
    for (int k = 0; k < 2 && status == MF_OK; k++) {
        status = scalar_f64(path, group, probabilities[k], RULE_FINITE, &probability);
        if (status == MF_OK && !(probability >= 0 && probability <= 1))
            status = MF_FAIL(MF_ERR_INPUT, "result file '%s' is damaged: /%s/%s is %g", path, name,
                             probabilities[k], probability);
    }
    hid_t metrics = H5I_INVALID_HID;
    if (status == MF_OK) status = open_group(path, group, "metrics", &metrics);
    link_list *links = NULL;
    if (status == MF_OK) status = list_links(path, metrics, "metrics", &links);
    for (int m = 0; status == MF_OK && m < links->n; m++)
        status = check_metric(path, metrics, links->names[m]);
    free(links);
    if (metrics >= 0) H5Gclose(metrics);
    if (status == MF_OK) status = check_profile(path, group);
    if (status == MF_OK && H5Lexists(group, "paths", H5P_DEFAULT) > 0)
        status = check_paths(path, group, n_paths, scan_paths);
    static const char *const known[] = {
        "prob_bad_debt", "prob_fund_shortfall", "n_paths", "metrics", "profile", "paths", NULL};
    if (status == MF_OK) status = check_unknown_links(path, group, known, 2);
    if (status == MF_OK && *has_digest) status = verify_point_digest(path, group, name, *digest);
    H5Gclose(group);
    return status;
}

/* ---------------------------------------------------------------------------------------
 * The root and /sweep
 * ------------------------------------------------------------------------------------- */

static mf_status check_points_list(h5_result *r) {
    const char *path = r->path;
    if (H5Aexists(r->file, "points_in_file") <= 0) {
        /* Format 1.0 has no list: it holds every point, one group each, so a root group with
         * fewer links than `points` is damaged (and bounds the list). */
        H5G_info_t info;
        if (H5Gget_info(r->file, &info) < 0 || (hsize_t)r->points > info.nlinks)
            return MF_FAIL(MF_ERR_INPUT,
                           "result file '%s' is damaged: it claims %lld points but holds fewer "
                           "groups",
                           path, (long long)r->points);
        r->n_present = r->points;
        r->present = calloc((size_t)r->points, sizeof *r->present);
        if (!r->present) return MF_FAIL(MF_ERR_MEMORY, "out of memory reading '%s'", path);
        for (int64_t i = 0; i < r->points; i++)
            r->present[i] = i;
        return MF_OK;
    }
    hid_t attr = H5Aopen(r->file, "points_in_file", H5P_DEFAULT);
    hid_t type = attr >= 0 ? H5Aget_type(attr) : H5I_INVALID_HID;
    hid_t space = attr >= 0 ? H5Aget_space(attr) : H5I_INVALID_HID;
    H5S_class_t shape = space >= 0 ? H5Sget_simple_extent_type(space) : H5S_NO_CLASS;
    hssize_t n = shape == H5S_NULL     ? 0
                 : shape == H5S_SIMPLE ? H5Sget_simple_extent_npoints(space)
                                       : -1;
    int ok = type >= 0 && type_matches(type, KIND_I64) && n >= 0 && n <= r->points &&
             (shape == H5S_NULL || H5Sget_simple_extent_ndims(space) == 1);
    r->present = ok ? calloc((size_t)(n > 0 ? n : 1), sizeof *r->present) : NULL;
    ok = r->present && (n == 0 || H5Aread(attr, H5T_NATIVE_INT64, r->present) >= 0);
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    if (attr >= 0) H5Aclose(attr);
    if (!ok)
        return MF_FAIL(MF_ERR_INPUT,
                       "result file '%s' is damaged: points_in_file is not a list of at most "
                       "%lld int64 point indices",
                       path, (long long)r->points);
    r->n_present = n;
    for (int64_t i = 0; i < n; i++)
        if (r->present[i] < 0 || r->present[i] >= r->points ||
            (i > 0 && r->present[i] <= r->present[i - 1]))
            return MF_FAIL(MF_ERR_INPUT,
                           "result file '%s' is damaged: points_in_file[%lld] is %lld (indices "
                           "ascend and lie in 0..%lld)",
                           path, (long long)i, (long long)r->present[i], (long long)r->points - 1);
    return MF_OK;
}

static mf_status check_root(h5_result *r) {
    const char *path = r->path;
    hid_t file = r->file;
    /* The seed is an unsigned integer: a seed stored as text or a float is refused, not
     * read as 0 (merge compares seeds). */
    if (H5Aexists(file, "seed") <= 0 || !h5_attr_is_integer(file, "seed", 0) ||
        h5_read_attr_numbers(file, "seed", H5T_NATIVE_UINT64, &r->seed, 1) != 0)
        return MF_FAIL(MF_ERR_INPUT,
                       "result file '%s' is damaged: attribute 'seed' is missing or not an "
                       "unsigned integer",
                       path);
    MF_CHECK(attr_numbers(path, file, "paths", H5T_NATIVE_INT64, &r->paths, 1, 1));
    MF_CHECK(attr_numbers(path, file, "points", H5T_NATIVE_INT64, &r->points, 1, 1));
    if (r->paths < 1)
        return MF_FAIL(MF_ERR_INPUT, "result file '%s' is damaged: attribute 'paths' is %lld", path,
                       (long long)r->paths);
    if (r->points < 1 || r->points > MAX_POINTS)
        return MF_FAIL(MF_ERR_INPUT,
                       "result file '%s' is damaged: attribute 'points' is %lld (a sweep has "
                       "1..%d points)",
                       path, (long long)r->points, MAX_POINTS);
    int32_t ranks = 1, threads = 1;
    int64_t accounts = 0, positions = 0;
    double wall = 0;
    MF_CHECK(attr_numbers(path, file, "ranks", H5T_NATIVE_INT32, &ranks, 1, 0));
    MF_CHECK(attr_numbers(path, file, "threads", H5T_NATIVE_INT32, &threads, 1, 0));
    MF_CHECK(attr_numbers(path, file, "accounts", H5T_NATIVE_INT64, &accounts, 1, 0));
    MF_CHECK(attr_numbers(path, file, "positions", H5T_NATIVE_INT64, &positions, 1, 0));
    MF_CHECK(attr_numbers(path, file, "wall_seconds", H5T_NATIVE_DOUBLE, &wall, 1, 0));
    if (ranks < 1 || threads < 1 || accounts < 0 || positions < 0 || !(wall >= 0) || isinf(wall))
        return MF_FAIL(MF_ERR_INPUT,
                       "result file '%s' is damaged: ranks, threads, accounts, positions or "
                       "wall_seconds out of range",
                       path);
    static const char *const texts[] = {"engine_version", "git_commit",   "compiler",
                                        "compile_flags",  "created",      "config",
                                        "config_file",    "command_line", NULL};
    for (const char *const *t = texts; *t; t++)
        MF_CHECK(attr_text(path, file, *t, 0));
    if (H5Aexists(file, "assets") > 0) {
        char *assets = h5_read_attr_strings_joined(file, "assets");
        if (!assets)
            return MF_FAIL(MF_ERR_INPUT,
                           "result file '%s' is damaged: attribute 'assets' is not a list of "
                           "strings",
                           path);
        free(assets);
    }
    MF_CHECK(attr_digest(path, file, &r->digest, &r->has_digest));
    return check_points_list(r);
}

static mf_status check_sweep(const h5_result *r) {
    const char *path = r->path;
    hid_t group;
    MF_CHECK(open_group(path, r->file, "sweep", &group));
    mf_status status =
        check_dataset(path, group, "point", KIND_I64, 1, r->points, 0, RULE_ROW, NULL, 0, NULL);
    if (status == MF_OK)
        status = check_dataset(path, group, "label", KIND_STRING, 1, r->points, 0, RULE_ANY, NULL,
                               0, NULL);
    link_list *links = NULL;
    if (status == MF_OK) status = list_links(path, group, "sweep", &links);
    for (int i = 0; status == MF_OK && i < links->n; i++) {
        const char *name = links->names[i];
        if (strcmp(name, "point") == 0 || strcmp(name, "label") == 0) continue;
        H5O_type_t object;
        status = object_type(path, group, name, &object);
        if (status != MF_OK) break;
        hid_t dataset =
            object == H5O_TYPE_DATASET ? H5Dopen2(group, name, H5P_DEFAULT) : H5I_INVALID_HID;
        hid_t type = dataset >= 0 ? H5Dget_type(dataset) : H5I_INVALID_HID;
        const int text = type >= 0 && type_matches(type, KIND_STRING);
        if (type >= 0) H5Tclose(type);
        if (dataset >= 0) H5Dclose(dataset);
        status = check_dataset(path, group, name, text ? KIND_STRING : KIND_F64, 1, r->points, 0,
                               text ? RULE_ANY : RULE_FINITE, NULL, 0, NULL);
    }
    free(links);
    if (status == MF_OK && H5Aexists(group, "parameters") > 0) {
        char *parameters = h5_read_attr_strings_joined(group, "parameters");
        if (!parameters)
            status = MF_FAIL(MF_ERR_INPUT,
                             "result file '%s' is damaged: /sweep has no list of parameters", path);
        free(parameters);
    }
    H5Gclose(group);
    return status;
}

mf_status h5_result_check(h5_result *r, int scan_paths) {
    MF_CHECK(check_root(r));
    if (H5Lexists(r->file, "sweep", H5P_DEFAULT) > 0) MF_CHECK(check_sweep(r));
    uint64_t *digests = calloc((size_t)(r->n_present > 0 ? r->n_present : 1), sizeof *digests);
    if (!digests) return MF_FAIL(MF_ERR_MEMORY, "out of memory reading '%s'", r->path);
    mf_status status = MF_OK;
    int all_digests = r->has_digest;
    for (int64_t i = 0; i < r->n_present && status == MF_OK; i++) {
        int has_digest = 0;
        status = check_point(r, r->present[i], scan_paths, &digests[i], &has_digest);
        all_digests = all_digests && has_digest;
    }
    /* The file's digest combines its points' digests: a changed digest text (strings are kept
     * where HDF5 keeps no checksum) shows up here. */
    if (status == MF_OK && all_digests &&
        mf_digest_combine(r->present, digests, r->n_present) != r->digest)
        status = MF_FAIL(MF_ERR_INPUT,
                         "result file '%s' is damaged: its verification_digest does not match "
                         "its points' digests",
                         r->path);
    free(digests);
    return status;
}

void h5_result_release(h5_result *r) {
    free(r->present);
    r->present = NULL;
    if (r->file >= 0) H5Fclose(r->file);
    r->file = H5I_INVALID_HID;
}
