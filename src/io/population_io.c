/* Population snapshots: the account store saved to / loaded from an HDF5 group "/population"
 * (docs/output.md, "Population snapshot"). */
#include "store.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

#include "h5_util.h"
#include "hdf5_input.h"
#include "output.h"

#define POPULATION_FORMAT "marginfall-population"
#define POPULATION_VERSION_MAJOR 1
/* 1.1: every dataset is chunked with a Fletcher32 checksum and the metadata is written in the
 * HDF5 1.10 format, whose headers carry checksums too. 1.0 files (no checksums) still load.
 * 1.2: account_mode may be 2 (portfolio margin); 1.0 and 1.1 files load unchanged. */
#define POPULATION_VERSION_MINOR 2
#define POPULATION_GROUP "population"
/* Elements per chunk: each chunk carries its own checksum. */
#define POPULATION_CHUNK ((hsize_t)1 << 16)
/* A snapshot holds what a run can (population.accounts, see config.h); positions average at
 * most one per asset. Sizes a file declares are checked against these before any allocation. */
#define MF_POPULATION_MAX_ACCOUNTS ((int64_t)MF_MAX_ACCOUNTS)
#define MF_POPULATION_MAX_POSITIONS (MF_POPULATION_MAX_ACCOUNTS * MF_MAX_ASSETS)

typedef enum { KIND_U8, KIND_I64, KIND_F64 } column_kind;

/* What every value of a column must be; checked row by row on load, so that a refusal names
 * the dataset and the row (docs/output.md, "Population snapshot"). */
typedef enum {
    RULE_MODE,     /* a margin mode, 0 .. MF_N_MODES - 1 */
    RULE_ASSET,    /* an index into the assets attribute */
    RULE_OWNER,    /* an account index: 0 first, steps of 0 or 1, the last account last */
    RULE_NONZERO,  /* finite and != 0 */
    RULE_POSITIVE, /* finite and > 0 */
    RULE_NONNEG,   /* finite and >= 0 */
} value_rule;

typedef struct {
    const char *name;
    column_kind kind;
    int per_position; /* 0: one per account */
    value_rule rule;
} column_spec;

static const column_spec columns[] = {
    {"account_mode", KIND_U8, 0, RULE_MODE},
    {"account_collateral", KIND_F64, 0, RULE_NONNEG},
    {"position_account", KIND_I64, 1, RULE_OWNER},
    {"position_asset", KIND_U8, 1, RULE_ASSET},
    {"position_quantity", KIND_F64, 1, RULE_NONZERO},
    {"position_entry", KIND_F64, 1, RULE_POSITIVE},
    {"position_margin", KIND_F64, 1, RULE_NONNEG},
};
#define N_COLUMNS ((int)(sizeof columns / sizeof columns[0]))
enum { COLUMN_MODE = 0, COLUMN_ACCOUNT = 2, COLUMN_MARGIN = 6 };

static void *column_data(const mf_store *store, int c) {
    switch (c) {
    case 0:
        return store->account_mode;
    case 1:
        return store->account_collateral;
    case 2:
        return store->position_account;
    case 3:
        return store->position_asset;
    case 4:
        return store->position_quantity;
    case 5:
        return store->position_entry;
    default:
        return store->position_margin;
    }
}

static hid_t memory_type(column_kind kind) {
    return kind == KIND_U8    ? H5T_NATIVE_UINT8
           : kind == KIND_I64 ? H5T_NATIVE_INT64
                              : H5T_NATIVE_DOUBLE;
}

static hid_t file_type(column_kind kind) {
    return kind == KIND_U8 ? H5T_STD_U8LE : kind == KIND_I64 ? H5T_STD_I64LE : H5T_IEEE_F64LE;
}

static hid_t string_type(void) {
    hid_t type = H5Tcopy(H5T_C_S1);
    if (type >= 0 &&
        (H5Tset_size(type, H5T_VARIABLE) < 0 || H5Tset_cset(type, H5T_CSET_UTF8) < 0)) {
        H5Tclose(type);
        return H5I_INVALID_HID;
    }
    return type;
}

/* ---------------------------------------------------------------------------------------
 * Save
 * ------------------------------------------------------------------------------------- */

static int write_attr(hid_t loc, const char *name, hid_t type, hsize_t n, int scalar,
                      const void *data) {
    hid_t space = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, NULL);
    hid_t attr = space < 0 ? H5I_INVALID_HID
                           : H5Acreate2(loc, name, type == H5T_NATIVE_INT32 ? H5T_STD_I32LE : type,
                                        space, H5P_DEFAULT, H5P_DEFAULT);
    int ok = attr >= 0 && H5Awrite(attr, type, data) >= 0;
    if (attr >= 0) H5Aclose(attr);
    if (space >= 0) H5Sclose(space);
    return ok ? 0 : -1;
}

/* Chunked with a Fletcher32 checksum per chunk, so that a damaged byte of data is refused on
 * load. An empty column has no data to protect and stays contiguous (a chunk cannot be larger
 * than a fixed-size dataset). */
static hid_t column_create_plist(hsize_t n) {
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (dcpl < 0) return H5I_INVALID_HID;
    hsize_t chunk = n < POPULATION_CHUNK ? n : POPULATION_CHUNK;
    int ok = H5Pset_obj_track_times(dcpl, 0) >= 0 &&
             (n == 0 || (H5Pset_chunk(dcpl, 1, &chunk) >= 0 && H5Pset_fletcher32(dcpl) >= 0));
    if (!ok) {
        H5Pclose(dcpl);
        return H5I_INVALID_HID;
    }
    return dcpl;
}

static int write_column(hid_t group, const column_spec *spec, hsize_t n, const void *data) {
    hid_t space = H5Screate_simple(1, &n, NULL);
    hid_t dcpl = column_create_plist(n);
    hid_t dataset = space < 0 || dcpl < 0 ? H5I_INVALID_HID
                                          : H5Dcreate2(group, spec->name, file_type(spec->kind),
                                                       space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    int ok = dataset >= 0 && (n == 0 || H5Dwrite(dataset, memory_type(spec->kind), H5S_ALL, H5S_ALL,
                                                 H5P_DEFAULT, data) >= 0);
    if (dataset >= 0) H5Dclose(dataset);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (space >= 0) H5Sclose(space);
    return ok ? 0 : -1;
}

/* Bob Jenkins' lookup3 hash (hashlittle, initial value 0): HDF5's checksum of metadata. */
static uint32_t rotate(uint32_t x, int k) {
    return (x << k) | (x >> (32 - k));
}

static uint32_t word_at(const uint8_t *k) {
    return (uint32_t)k[0] | (uint32_t)k[1] << 8 | (uint32_t)k[2] << 16 | (uint32_t)k[3] << 24;
}

static uint32_t metadata_checksum(const uint8_t *data, size_t length) {
    uint32_t a, b, c;
    a = b = c = 0xdeadbeefu + (uint32_t)length;
    for (; length > 12; length -= 12, data += 12) {
        a += word_at(data);
        b += word_at(data + 4);
        c += word_at(data + 8);
        a -= c, a ^= rotate(c, 4), c += b;
        b -= a, b ^= rotate(a, 6), a += c;
        c -= b, c ^= rotate(b, 8), b += a;
        a -= c, a ^= rotate(c, 16), c += b;
        b -= a, b ^= rotate(a, 19), a += c;
        c -= b, c ^= rotate(b, 4), b += a;
    }
    if (length == 0) return c;
    uint8_t tail[12] = {0};
    memcpy(tail, data, length);
    a += word_at(tail);
    b += word_at(tail + 4);
    c += word_at(tail + 8);
    c ^= b, c -= rotate(b, 14);
    a ^= c, a -= rotate(c, 11);
    b ^= a, b -= rotate(a, 25);
    c ^= b, c -= rotate(b, 16);
    a ^= c, a -= rotate(c, 4);
    b ^= a, b -= rotate(a, 14);
    c ^= b, c -= rotate(b, 24);
    return c;
}

/* H5Fget_file_image (HDF5 1.10) clears the superblock's "open for writing" flags in the image
 * but leaves the superblock checksum of versions 2 and 3 as it was, so the image would not
 * open again ("incorrect metadata checksum"): the checksum is recomputed. The superblock is
 * signature (8), version, offset and length sizes, flags, then four addresses. */
static int fix_superblock_checksum(uint8_t *image, size_t size) {
    if (size < 12 || image[8] < 2) return image[8] < 2 ? 0 : -1;
    const size_t covered = 12 + 4 * (size_t)image[9];
    if (covered + 4 > size) return -1;
    const uint32_t sum = metadata_checksum(image, covered);
    for (int i = 0; i < 4; i++)
        image[covered + i] = (uint8_t)(sum >> (8 * i));
    return 0;
}

/* Built in memory and written as one image by mf_output_save_bytes: HDF5 1.10 crashes at
 * exit after an H5Fclose that failed on a full disk (see h5_util.c). */
static mf_status save_file(const mf_store *store, const char *temp_path, const char *path) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    /* The 1.10 file format checksums the superblock, object headers and chunk index, so a
     * damaged byte of metadata is refused like one of data; pinned to 1.10 so that a newer
     * library writes the same bytes. */
    int ready = fapl >= 0 && H5Pset_fapl_core(fapl, (size_t)4 << 20, 0) >= 0 &&
                H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) >= 0 &&
                H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_V110) >= 0;
    hid_t file = ready ? H5Fcreate(temp_path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl) : H5I_INVALID_HID;
    if (fapl >= 0) H5Pclose(fapl);
    if (file < 0) return MF_FAIL(MF_ERR_OUTPUT, "cannot create population file '%s'", path);

    const char *failed = NULL;
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    if (gcpl >= 0) H5Pset_obj_track_times(gcpl, 0);
    hid_t group = gcpl < 0 ? H5I_INVALID_HID
                           : H5Gcreate2(file, POPULATION_GROUP, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    if (gcpl >= 0) H5Pclose(gcpl);
    if (group < 0) failed = "group /population";

    hid_t text = string_type();
    if (!failed && text < 0) failed = "string type";
    const char *format = POPULATION_FORMAT;
    static const int32_t version[2] = {POPULATION_VERSION_MAJOR, POPULATION_VERSION_MINOR};
    const char *names[MF_MAX_ASSETS];
    for (int k = 0; k < store->n_assets; k++)
        names[k] = store->asset_names[k];
    if (!failed && write_attr(group, "format", text, 1, 1, &format) != 0)
        failed = "attribute format";
    if (!failed && write_attr(group, "format_version", H5T_NATIVE_INT32, 2, 0, version) != 0)
        failed = "attribute format_version";
    if (!failed && write_attr(group, "assets", text, (hsize_t)store->n_assets, 0, names) != 0)
        failed = "attribute assets";
    for (int c = 0; c < N_COLUMNS && !failed; c++) {
        hsize_t n = (hsize_t)(columns[c].per_position ? store->n_positions : store->n_accounts);
        if (write_column(group, &columns[c], n, column_data(store, c)) != 0)
            failed = columns[c].name;
    }
    if (text >= 0) H5Tclose(text);
    if (group >= 0) H5Gclose(group);

    void *image = NULL;
    ssize_t size = -1;
    if (!failed) {
        if (H5Fflush(file, H5F_SCOPE_GLOBAL) >= 0) size = H5Fget_file_image(file, NULL, 0);
        image = size > 0 ? malloc((size_t)size) : NULL;
        if (!image || H5Fget_file_image(file, image, (size_t)size) != size ||
            fix_superblock_checksum(image, (size_t)size) != 0)
            failed = "file image";
    }
    H5Fclose(file);
    mf_status status = MF_OK;
    if (failed)
        status = MF_FAIL(image || size <= 0 ? MF_ERR_OUTPUT : MF_ERR_MEMORY,
                         "cannot write %s of population file '%s'", failed, path);
    else
        status = mf_output_save_bytes(temp_path, path, image, (size_t)size);
    free(image);
    return status;
}

mf_status mf_population_save(const mf_store *store, const char *path, int force) {
    if (!store || store->n_assets < 1 || store->n_assets > MF_MAX_ASSETS)
        return MF_FAIL(MF_ERR_INTERNAL, "mf_population_save: bad store");
    MF_CHECK(mf_output_check_target(path, force));
    char temp_path[4200];
    mf_output_temp_name(path, temp_path, sizeof temp_path);
    H5E_auto2_t func;
    void *data;
    H5Eget_auto2(H5E_DEFAULT, &func, &data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    mf_status status = save_file(store, temp_path, path);
    H5Eset_auto2(H5E_DEFAULT, func, data);
    if (status != MF_OK) {
        unlink(temp_path);
        mf_error_push_frame(__FILE__, __LINE__, __func__);
        return status;
    }
    MF_CHECK(mf_output_publish(temp_path, path, force));
    return MF_OK;
}

/* ---------------------------------------------------------------------------------------
 * Load
 * ------------------------------------------------------------------------------------- */

/* Scalar string attribute (variable or fixed length) into buffer; -1 when absent. */
static int read_attr_string(hid_t loc, const char *name, char *buffer, size_t size) {
    if (H5Aexists(loc, name) <= 0) return -1;
    hid_t attr = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t type = attr >= 0 ? H5Aget_type(attr) : H5I_INVALID_HID;
    hid_t space = attr >= 0 ? H5Aget_space(attr) : H5I_INVALID_HID;
    int ok = 0;
    if (type >= 0 && space >= 0 && H5Tget_class(type) == H5T_STRING &&
        H5Sget_simple_extent_npoints(space) == 1) {
        hid_t mem = H5Tcopy(H5T_C_S1);
        if (H5Tis_variable_str(type) > 0) {
            char *text = NULL;
            H5Tset_size(mem, H5T_VARIABLE);
            H5Tset_cset(mem, H5Tget_cset(type));
            if (H5Aread(attr, mem, &text) >= 0 && text) {
                snprintf(buffer, size, "%s", text);
                H5Dvlen_reclaim(mem, space, H5P_DEFAULT, &text);
                ok = 1;
            }
        } else {
            size_t length = H5Tget_size(type);
            char *text = calloc(length + 2, 1);
            H5Tset_size(mem, length + 1);
            H5Tset_strpad(mem, H5T_STR_NULLTERM);
            if (text && H5Aread(attr, mem, text) >= 0) {
                snprintf(buffer, size, "%s", text);
                ok = 1;
            }
            free(text);
        }
        H5Tclose(mem);
    }
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    if (attr >= 0) H5Aclose(attr);
    return ok ? 0 : -1;
}

/* The asset-name array (variable-length strings); returns the count, -1 on failure. */
static int read_asset_names(hid_t loc, char names[MF_MAX_ASSETS][MF_NAME_LEN]) {
    if (H5Aexists(loc, "assets") <= 0) return -1;
    hid_t attr = H5Aopen(loc, "assets", H5P_DEFAULT);
    hid_t type = attr >= 0 ? H5Aget_type(attr) : H5I_INVALID_HID;
    hid_t space = attr >= 0 ? H5Aget_space(attr) : H5I_INVALID_HID;
    hssize_t n = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    int result = -1;
    if (type >= 0 && n >= 1 && n <= MF_MAX_ASSETS && H5Tget_class(type) == H5T_STRING &&
        H5Tis_variable_str(type) > 0) {
        char *texts[MF_MAX_ASSETS] = {0};
        hid_t mem = H5Tcopy(H5T_C_S1);
        H5Tset_size(mem, H5T_VARIABLE);
        H5Tset_cset(mem, H5Tget_cset(type));
        if (H5Aread(attr, mem, texts) >= 0) {
            for (hssize_t k = 0; k < n; k++)
                snprintf(names[k], MF_NAME_LEN, "%s", texts[k] ? texts[k] : "");
            H5Dvlen_reclaim(mem, space, H5P_DEFAULT, texts);
            result = (int)n;
        }
        H5Tclose(mem);
    }
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    if (attr >= 0) H5Aclose(attr);
    return result;
}

static void join_names(char *out, size_t size, const char *const *names, int n) {
    out[0] = '\0';
    for (int k = 0; k < n; k++) {
        size_t used = strlen(out);
        snprintf(out + used, size - used, "%s%s", k ? ", " : "", names[k]);
    }
}

/* The stored type a column may have: float columns exactly IEEE float64 (a float32 column
 * cannot hold the snapshot's values bit for bit); integer columns any integer of 1 to 8 bytes,
 * signed or not, since they are read at 64-bit width and range-checked. */
static int column_type_ok(hid_t type, column_kind kind) {
    if (kind == KIND_F64) return mf_hdf5_is_ieee_float(type, 8);
    const size_t bytes = H5Tget_size(type);
    return H5Tget_class(type) == H5T_INTEGER && bytes >= 1 && bytes <= 8;
}

/* Length of the column, after checking (before anything is read) that it is 1-D and of an
 * allowed stored type. The Fletcher32 filter is not required: a snapshot edited with h5py
 * loads without it, and in a 1.1 file a damaged header that dropped it fails the header's own
 * checksum. */
static mf_status column_length(hid_t group, const column_spec *spec, const char *path,
                               int64_t *length) {
    if (H5Lexists(group, spec->name, H5P_DEFAULT) <= 0)
        return MF_FAIL(MF_ERR_INPUT, "population file '%s': dataset /population/%s is missing",
                       path, spec->name);
    hid_t dataset = H5Dopen2(group, spec->name, H5P_DEFAULT);
    if (dataset < 0)
        return MF_FAIL(MF_ERR_INPUT,
                       "population file '%s': cannot open dataset /population/%s (damaged file?)",
                       path, spec->name);
    hid_t space = H5Dget_space(dataset);
    hid_t type = H5Dget_type(dataset);
    char stored[80] = "an unreadable type";
    if (type >= 0) mf_hdf5_describe_type(type, stored, sizeof stored);
    const int type_ok = type >= 0 && column_type_ok(type, spec->kind);
    const int rank = space >= 0 && H5Sget_simple_extent_type(space) == H5S_SIMPLE
                         ? H5Sget_simple_extent_ndims(space)
                         : -1;
    *length = rank == 1 ? (int64_t)H5Sget_simple_extent_npoints(space) : -1;
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    H5Dclose(dataset);
    const char *wanted =
        spec->kind == KIND_F64 ? "64-bit IEEE floats (float64)" : "integers (1 to 8 bytes)";
    if (!type_ok)
        return MF_FAIL(MF_ERR_INPUT,
                       "population file '%s': dataset /population/%s stores %s; it must be a "
                       "1-D array of %s",
                       path, spec->name, stored, wanted);
    if (rank != 1 || *length < 0)
        return MF_FAIL(MF_ERR_INPUT,
                       "population file '%s': dataset /population/%s has %d dimensions; it must "
                       "be a 1-D array of %s",
                       path, spec->name, rank < 0 ? 0 : rank, wanted);
    return MF_OK;
}

/* What a column's values are checked against. */
typedef struct {
    const char *path;
    int64_t n_accounts;
    int n_assets;
} load_context;

#define ROW_FAIL(ctx, spec, row, fmt, ...)                                                         \
    MF_FAIL(MF_ERR_INPUT, "population file '%s': /population/%s[%lld] " fmt, (ctx)->path,          \
            (spec)->name, (long long)(row), __VA_ARGS__)

/* Integer rules, on the values read at 64-bit width (HDF5 would clip an out-of-range value
 * converted to a narrower type: an asset index of -1 stored as int16 would load as 0). */
static mf_status check_integers(const load_context *ctx, const column_spec *spec,
                                const int64_t *values, int64_t n) {
    int64_t run = 0; /* positions of the current account so far */
    for (int64_t i = 0; i < n; i++) {
        const long long v = (long long)values[i];
        switch (spec->rule) {
        case RULE_MODE:
            if (v < 0 || v >= MF_N_MODES)
                return ROW_FAIL(
                    ctx, spec, i,
                    "is %lld: a margin mode is 0 (isolated), 1 (cross) or 2 (portfolio)", v);
            break;
        case RULE_ASSET:
            if (v < 0 || v >= ctx->n_assets)
                return ROW_FAIL(ctx, spec, i, "is %lld: an asset index must be in 0..%d", v,
                                ctx->n_assets - 1);
            break;
        case RULE_OWNER:
            if (v < 0 || v >= ctx->n_accounts)
                return ROW_FAIL(ctx, spec, i, "is %lld: an account index must be in 0..%lld", v,
                                (long long)ctx->n_accounts - 1);
            if (i == 0 && v != 0)
                return ROW_FAIL(ctx, spec, i, "is %lld: accounts 0..%lld have no positions", v,
                                v - 1);
            if (i > 0 && v < values[i - 1])
                return ROW_FAIL(ctx, spec, i,
                                "is %lld after %lld: positions are not sorted by account", v,
                                (long long)values[i - 1]);
            if (i > 0 && v > values[i - 1] + 1)
                return ROW_FAIL(ctx, spec, i,
                                "is %lld after %lld: every account needs at least one position", v,
                                (long long)values[i - 1]);
            run = i > 0 && v == values[i - 1] ? run + 1 : 1;
            if (run > INT32_MAX)
                return ROW_FAIL(ctx, spec, i, "gives account %lld more than %d positions", v,
                                (int)INT32_MAX);
            if (i == n - 1 && v != ctx->n_accounts - 1)
                return ROW_FAIL(ctx, spec, i,
                                "is the last position, of account %lld: accounts %lld..%lld have "
                                "no positions",
                                v, v + 1, (long long)ctx->n_accounts - 1);
            break;
        case RULE_NONZERO:
        case RULE_POSITIVE:
        case RULE_NONNEG:
            return MF_FAIL(MF_ERR_INTERNAL, "population: integer column %s has a float rule",
                           spec->name);
        }
    }
    return MF_OK;
}

static mf_status check_floats(const load_context *ctx, const column_spec *spec,
                              const double *values, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const double v = values[i];
        switch (spec->rule) {
        case RULE_NONZERO:
            if (!isfinite(v) || v == 0)
                return ROW_FAIL(ctx, spec, i, "is %g: it must be finite and non-zero", v);
            break;
        case RULE_POSITIVE:
            if (!isfinite(v) || v <= 0)
                return ROW_FAIL(ctx, spec, i, "is %g: it must be finite and > 0", v);
            break;
        case RULE_NONNEG:
            if (!isfinite(v) || v < 0)
                return ROW_FAIL(ctx, spec, i, "is %g: it must be finite and >= 0", v);
            break;
        case RULE_MODE:
        case RULE_ASSET:
        case RULE_OWNER:
            return MF_FAIL(MF_ERR_INTERNAL, "population: float column %s has an integer rule",
                           spec->name);
        }
    }
    return MF_OK;
}

/* Read a column into out (n values of its kind), checking every value against its rule. */
static mf_status read_column(hid_t group, const column_spec *spec, const load_context *ctx,
                             int64_t n, void *out) {
    if (n == 0) return MF_OK;
    /* Small integers go through a 64-bit buffer: they are checked before they are narrowed. */
    int64_t *wide = NULL;
    if (spec->kind == KIND_U8) {
        wide = malloc((size_t)n * sizeof *wide);
        if (!wide)
            return MF_FAIL(MF_ERR_MEMORY, "population file '%s': out of memory for /population/%s",
                           ctx->path, spec->name);
    }
    H5Eclear2(H5E_DEFAULT);
    hid_t dataset = H5Dopen2(group, spec->name, H5P_DEFAULT);
    int ok = dataset >= 0 && H5Dread(dataset, wide ? H5T_NATIVE_INT64 : memory_type(spec->kind),
                                     H5S_ALL, H5S_ALL, H5P_DEFAULT, wide ? (void *)wide : out) >= 0;
    const int checksum = !ok && mf_hdf5_checksum_failed();
    if (dataset >= 0) H5Dclose(dataset);
    mf_status status = MF_OK;
    if (checksum)
        status = MF_FAIL(MF_ERR_INPUT,
                         "population file '%s': dataset /population/%s fails its Fletcher32 "
                         "checksum: the file is damaged",
                         ctx->path, spec->name);
    else if (!ok)
        status = MF_FAIL(MF_ERR_INPUT,
                         "population file '%s': cannot read dataset /population/%s (damaged file?)",
                         ctx->path, spec->name);
    else if (spec->kind == KIND_F64)
        status = check_floats(ctx, spec, out, n);
    else
        status = check_integers(ctx, spec, wide ? wide : (const int64_t *)out, n);
    for (int64_t i = 0; status == MF_OK && wide && i < n; i++)
        ((uint8_t *)out)[i] = (uint8_t)wide[i];
    free(wide);
    return status;
}

/* The model gives a cross or portfolio account's positions no isolated margin (their margin is
 * the account's collateral). */
static mf_status check_cross_margins(const load_context *ctx, const mf_store *store) {
    for (int64_t p = 0; p < store->n_positions; p++) {
        const int64_t account = store->position_account[p];
        if (store->account_mode[account] != MF_MODE_ISOLATED && store->position_margin[p] != 0)
            return ROW_FAIL(ctx, &columns[COLUMN_MARGIN], p,
                            "is %g but its account %lld is %s (/population/account_mode): "
                            "it must be 0",
                            store->position_margin[p], (long long)account,
                            store->account_mode[account] == MF_MODE_CROSS ? "cross" : "portfolio");
    }
    return MF_OK;
}

/* Format, major version and asset names (any minor version of major 1 loads). */
static mf_status check_header(hid_t group, const char *path, const mf_config *config) {
    char format[64];
    if (read_attr_string(group, "format", format, sizeof format) != 0)
        return MF_FAIL(MF_ERR_INPUT, "population file '%s': /population has no 'format' attribute",
                       path);
    if (strcmp(format, POPULATION_FORMAT) != 0)
        return MF_FAIL(MF_ERR_INPUT, "population file '%s': format is '%s', expected '%s'", path,
                       format, POPULATION_FORMAT);
    int32_t version[2] = {0, 0};
    hid_t attr = H5Aexists(group, "format_version") > 0
                     ? H5Aopen(group, "format_version", H5P_DEFAULT)
                     : H5I_INVALID_HID;
    hid_t space = attr >= 0 ? H5Aget_space(attr) : H5I_INVALID_HID;
    int ok = space >= 0 && H5Sget_simple_extent_npoints(space) == 2 &&
             H5Aread(attr, H5T_NATIVE_INT32, version) >= 0;
    if (space >= 0) H5Sclose(space);
    if (attr >= 0) H5Aclose(attr);
    if (!ok)
        return MF_FAIL(MF_ERR_INPUT,
                       "population file '%s': /population has no valid 'format_version'", path);
    if (version[0] != POPULATION_VERSION_MAJOR)
        return MF_FAIL(MF_ERR_INPUT,
                       "population file '%s': format version %d.%d, this marginfall reads %d.x",
                       path, version[0], version[1], POPULATION_VERSION_MAJOR);

    char names[MF_MAX_ASSETS][MF_NAME_LEN];
    int n = read_asset_names(group, names);
    if (n < 0)
        return MF_FAIL(MF_ERR_INPUT,
                       "population file '%s': /population has no valid 'assets' attribute", path);
    int same = n == config->market.n_assets;
    for (int k = 0; same && k < n; k++)
        same = strcmp(names[k], config->market.assets[k].name) == 0;
    if (!same) {
        const char *file_names[MF_MAX_ASSETS], *config_names[MF_MAX_ASSETS];
        for (int k = 0; k < n; k++)
            file_names[k] = names[k];
        int n_config = config->market.n_assets;
        if (n_config < 0) n_config = 0;
        if (n_config > MF_MAX_ASSETS) n_config = MF_MAX_ASSETS;
        for (int k = 0; k < n_config; k++)
            config_names[k] = config->market.assets[k].name;
        char in_file[MF_MAX_ASSETS * (MF_NAME_LEN + 2) + 1];
        char in_config[MF_MAX_ASSETS * (MF_NAME_LEN + 2) + 1];
        join_names(in_file, sizeof in_file, file_names, n);
        join_names(in_config, sizeof in_config, config_names, n_config);
        return MF_FAIL(MF_ERR_INPUT,
                       "population file '%s' has assets [%s] but the config's market.assets "
                       "are [%s] (same names in the same order needed)",
                       path, in_file, in_config);
    }
    return MF_OK;
}

static mf_status load_file(mf_store *store, const char *path, const mf_config *config) {
    struct stat st;
    if (stat(path, &st) != 0)
        return MF_FAIL(MF_ERR_INPUT, "cannot open population file '%s': %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return MF_FAIL(MF_ERR_INPUT, "population file '%s' is a directory", path);
    if (!S_ISREG(st.st_mode))
        return MF_FAIL(MF_ERR_INPUT, "population file '%s' is not a regular file", path);
    MF_CHECK(h5_check_global_heaps(path));
    if (H5Fis_hdf5(path) <= 0)
        return MF_FAIL(MF_ERR_INPUT, "population file '%s' is not an HDF5 file", path);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0)
        return MF_FAIL(MF_ERR_INPUT, "cannot open population file '%s' (damaged HDF5 file?)", path);
    hid_t group = H5Lexists(file, POPULATION_GROUP, H5P_DEFAULT) > 0
                      ? H5Gopen2(file, POPULATION_GROUP, H5P_DEFAULT)
                      : H5I_INVALID_HID;
    mf_status status = MF_OK;
    if (group < 0)
        status = MF_FAIL(MF_ERR_INPUT,
                         "population file '%s' has no /population group (not a marginfall "
                         "population snapshot)",
                         path);
    if (status == MF_OK) status = check_header(group, path, config);

    int64_t lengths[N_COLUMNS];
    for (int c = 0; c < N_COLUMNS && status == MF_OK; c++)
        status = column_length(group, &columns[c], path, &lengths[c]);
    const int64_t n_accounts = status == MF_OK ? lengths[COLUMN_MODE] : 0;
    const int64_t n_positions = status == MF_OK ? lengths[COLUMN_ACCOUNT] : 0;
    for (int c = 1; c < N_COLUMNS && status == MF_OK; c++) {
        int reference = columns[c].per_position ? COLUMN_ACCOUNT : COLUMN_MODE;
        if (lengths[c] != lengths[reference])
            status = MF_FAIL(MF_ERR_INPUT,
                             "population file '%s': /population/%s has %lld elements but "
                             "/population/%s has %lld",
                             path, columns[c].name, (long long)lengths[c], columns[reference].name,
                             (long long)lengths[reference]);
    }
    if (status == MF_OK && n_positions < n_accounts)
        status = MF_FAIL(MF_ERR_INPUT,
                         "population file '%s': %lld positions for %lld accounts (every account "
                         "needs at least one position)",
                         path, (long long)n_positions, (long long)n_accounts);
    /* Sizes declared in the file are bounded before anything is allocated for them. */
    if (status == MF_OK &&
        (n_accounts > MF_POPULATION_MAX_ACCOUNTS || n_positions > MF_POPULATION_MAX_POSITIONS))
        status =
            MF_FAIL(MF_ERR_INPUT,
                    "population file '%s' declares %lld accounts and %lld positions, more "
                    "than marginfall holds (at most %lld accounts, as population.accounts, "
                    "and %lld positions)",
                    path, (long long)n_accounts, (long long)n_positions,
                    (long long)MF_POPULATION_MAX_ACCOUNTS, (long long)MF_POPULATION_MAX_POSITIONS);
    if (status == MF_OK) {
        status = mf_store_alloc(store, n_accounts, n_positions, config->market.n_assets);
        if (status == MF_ERR_MEMORY)
            status = MF_FAIL(MF_ERR_MEMORY,
                             "population file '%s': not enough memory for its %lld accounts and "
                             "%lld positions",
                             path, (long long)n_accounts, (long long)n_positions);
        const load_context ctx = {path, n_accounts, config->market.n_assets};
        for (int c = 0; c < N_COLUMNS && status == MF_OK; c++)
            status = read_column(group, &columns[c], &ctx, lengths[c], column_data(store, c));
        if (status == MF_OK) status = check_cross_margins(&ctx, store);
        for (int k = 0; status == MF_OK && k < config->market.n_assets; k++)
            snprintf(store->asset_names[k], MF_NAME_LEN, "%s", config->market.assets[k].name);
    }
    if (group >= 0) H5Gclose(group);
    H5Fclose(file);
    return status;
}

mf_status mf_population_load(mf_store *store, const char *path, const mf_config *config) {
    if (!store || !path || !config)
        return MF_FAIL(MF_ERR_INTERNAL, "mf_population_load: bad arguments");
    memset(store, 0, sizeof *store);
    H5E_auto2_t func;
    void *data;
    H5Eget_auto2(H5E_DEFAULT, &func, &data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    mf_status status = load_file(store, path, config);
    H5Eset_auto2(H5E_DEFAULT, func, data);
    if (status == MF_OK && mf_store_finish(store) != MF_OK) {
        /* Put the file name in front of the invariant that failed. */
        char message[1800];
        snprintf(message, sizeof message, "%s", mf_error_message());
        status = MF_FAIL(MF_ERR_INPUT, "population file '%s': %s", path, message);
    }
    if (status != MF_OK) {
        mf_store_free(store);
        mf_error_push_frame(__FILE__, __LINE__, __func__);
    }
    return status;
}
