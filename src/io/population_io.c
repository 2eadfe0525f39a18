/* Population snapshots: the account store saved to / loaded from an HDF5 group "/population"
 * (docs/output.md, "Population snapshot"). */
#include "store.h"

#include <errno.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

#include "output.h"

#define POPULATION_FORMAT "marginfall-population"
#define POPULATION_VERSION_MAJOR 1
#define POPULATION_VERSION_MINOR 0
#define POPULATION_GROUP "population"
/* The most accounts a snapshot may declare (positions: 8 per account), far above any venue. */
#define MF_POPULATION_MAX_ACCOUNTS ((int64_t)1 << 31)

typedef enum { KIND_U8, KIND_I64, KIND_F64 } column_kind;

typedef struct {
    const char *name;
    column_kind kind;
    int per_position; /* 0: one per account */
} column_spec;

static const column_spec columns[] = {
    {"account_mode", KIND_U8, 0},       {"account_collateral", KIND_F64, 0},
    {"position_account", KIND_I64, 1},  {"position_asset", KIND_U8, 1},
    {"position_quantity", KIND_F64, 1}, {"position_entry", KIND_F64, 1},
    {"position_margin", KIND_F64, 1},
};
#define N_COLUMNS ((int)(sizeof columns / sizeof columns[0]))

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

static int write_column(hid_t group, const column_spec *spec, hsize_t n, const void *data) {
    hid_t space = H5Screate_simple(1, &n, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (dcpl >= 0) H5Pset_obj_track_times(dcpl, 0);
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

/* Built in memory and written as one image by mf_output_save_bytes: HDF5 1.10 crashes at
 * exit after an H5Fclose that failed on a full disk (see h5_util.c). */
static mf_status save_file(const mf_store *store, const char *temp_path, const char *path) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    int ready = fapl >= 0 && H5Pset_fapl_core(fapl, (size_t)4 << 20, 0) >= 0 &&
                H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) >= 0;
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
        if (!image || H5Fget_file_image(file, image, (size_t)size) != size) failed = "file image";
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

/* Length of a 1-D dataset of the right kind; -1 with an error set otherwise. */
static mf_status column_length(hid_t group, const column_spec *spec, const char *path,
                               int64_t *length) {
    if (H5Lexists(group, spec->name, H5P_DEFAULT) <= 0)
        return MF_FAIL(MF_ERR_INPUT, "population file '%s': dataset /population/%s is missing",
                       path, spec->name);
    hid_t dataset = H5Dopen2(group, spec->name, H5P_DEFAULT);
    if (dataset < 0)
        return MF_FAIL(MF_ERR_INPUT, "population file '%s': cannot open dataset /population/%s",
                       path, spec->name);
    hid_t space = H5Dget_space(dataset);
    hid_t type = H5Dget_type(dataset);
    H5T_class_t class = type >= 0 ? H5Tget_class(type) : H5T_NO_CLASS;
    H5T_class_t wanted = spec->kind == KIND_F64 ? H5T_FLOAT : H5T_INTEGER;
    int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    *length = space >= 0 ? (int64_t)H5Sget_simple_extent_npoints(space) : -1;
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    H5Dclose(dataset);
    if (rank != 1 || class != wanted || *length < 0)
        return MF_FAIL(MF_ERR_INPUT,
                       "population file '%s': dataset /population/%s must be a 1-D %s array", path,
                       spec->name, spec->kind == KIND_F64 ? "floating-point" : "integer");
    return MF_OK;
}

static mf_status read_column(hid_t group, const column_spec *spec, const char *path, int64_t n,
                             void *out) {
    if (n == 0) return MF_OK;
    /* Small integers are read at full width first: HDF5 would clip an out-of-range value
     * (an asset index of -1 stored as int16 would load as 0, the first asset). */
    int64_t *wide = NULL;
    if (spec->kind == KIND_U8) {
        wide = malloc((size_t)n * sizeof *wide);
        if (!wide)
            return MF_FAIL(MF_ERR_MEMORY, "population file '%s': out of memory for /population/%s",
                           path, spec->name);
    }
    hid_t dataset = H5Dopen2(group, spec->name, H5P_DEFAULT);
    int ok = dataset >= 0 && H5Dread(dataset, wide ? H5T_NATIVE_INT64 : memory_type(spec->kind),
                                     H5S_ALL, H5S_ALL, H5P_DEFAULT, wide ? (void *)wide : out) >= 0;
    if (dataset >= 0) H5Dclose(dataset);
    if (!ok) {
        free(wide);
        return MF_FAIL(MF_ERR_INPUT,
                       "population file '%s': cannot read dataset /population/%s (damaged file?)",
                       path, spec->name);
    }
    for (int64_t i = 0; wide && i < n; i++) {
        if (wide[i] < 0 || wide[i] > UINT8_MAX) {
            const long long value = (long long)wide[i];
            free(wide);
            return MF_FAIL(MF_ERR_INPUT,
                           "population file '%s': /population/%s[%lld] is %lld, out of range", path,
                           spec->name, (long long)i, value);
        }
        ((uint8_t *)out)[i] = (uint8_t)wide[i];
    }
    free(wide);
    return MF_OK;
}

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
    if (status == MF_OK) {
        for (int c = 1; c < N_COLUMNS && status == MF_OK; c++) {
            int reference = columns[c].per_position ? 2 : 0;
            if (lengths[c] != lengths[reference])
                status = MF_FAIL(MF_ERR_INPUT,
                                 "population file '%s': /population/%s has %lld elements but "
                                 "/population/%s has %lld",
                                 path, columns[c].name, (long long)lengths[c],
                                 columns[reference].name, (long long)lengths[reference]);
        }
    }
    if (status == MF_OK && lengths[2] < lengths[0])
        status = MF_FAIL(MF_ERR_INPUT,
                         "population file '%s': %lld positions for %lld accounts (every account "
                         "needs at least one position)",
                         path, (long long)lengths[2], (long long)lengths[0]);
    /* Sizes declared in the file are bounded before anything is allocated for them. */
    if (status == MF_OK && (lengths[0] > MF_POPULATION_MAX_ACCOUNTS ||
                            lengths[2] > MF_POPULATION_MAX_ACCOUNTS * (int64_t)MF_MAX_ASSETS))
        status = MF_FAIL(MF_ERR_INPUT,
                         "population file '%s' declares %lld accounts and %lld positions, more "
                         "than marginfall holds (%lld accounts)",
                         path, (long long)lengths[0], (long long)lengths[2],
                         (long long)MF_POPULATION_MAX_ACCOUNTS);
    if (status == MF_OK) {
        status = mf_store_alloc(store, lengths[0], lengths[2], config->market.n_assets);
        if (status == MF_ERR_MEMORY)
            status = MF_FAIL(MF_ERR_MEMORY,
                             "population file '%s': not enough memory for its %lld accounts and "
                             "%lld positions",
                             path, (long long)lengths[0], (long long)lengths[2]);
        for (int c = 0; c < N_COLUMNS && status == MF_OK; c++)
            status = read_column(group, &columns[c], path, lengths[c], column_data(store, c));
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
