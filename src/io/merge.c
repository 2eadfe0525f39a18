/* `marginfall merge OUT IN...`: combine the part files of one sweep into one file. */
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

static int strings_equal(const char *a, const char *b) {
    return a && b && strcmp(a, b) == 0;
}

/* An input part, checked (h5_result_check) before anything is read from it for the merge. */
typedef struct {
    h5_result result;
    int32_t version[2];
} merge_input;

/* The first line where two resolved configs differ, as "line N: 'a' vs 'b'". */
static void first_difference(const char *a, const char *b, char *buffer, size_t size) {
    if (!a || !b) {
        snprintf(buffer, size, "%s has no resolved config", a ? "the second" : "the first");
        return;
    }
    int line = 1;
    while (*a || *b) {
        size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
        if (la != lb || strncmp(a, b, la) != 0) {
            snprintf(buffer, size, "line %d: '%.*s' vs '%.*s'", line, (int)(la < 200 ? la : 200), a,
                     (int)(lb < 200 ? lb : 200), b);
            return;
        }
        a += la + (a[la] ? 1 : 0);
        b += lb + (b[lb] ? 1 : 0);
        line++;
    }
    snprintf(buffer, size, "the same text");
}

static mf_status merge_check(merge_input *inputs, int n_inputs, int allow_gaps, int64_t *total_out,
                             int *owner_of) {
    const h5_result *first = &inputs[0].result;
    char *config0 = h5_read_attr_string(first->file, "config");
    char *engine0 = h5_read_attr_string(first->file, "engine_version");
    const int32_t *version0 = inputs[0].version;
    const int64_t total0 = first->points;
    mf_status status = MF_OK;
    for (int i = 1; i < n_inputs && status == MF_OK; i++) {
        const h5_result *r = &inputs[i].result;
        const int32_t *version = inputs[i].version;
        char *config = h5_read_attr_string(r->file, "config");
        char *engine = h5_read_attr_string(r->file, "engine_version");
        char difference[600];
        if (version[0] != version0[0] || version[1] != version0[1])
            status =
                MF_FAIL(MF_ERR_INPUT, "cannot merge: '%s' has format version %d.%d, '%s' %d.%d",
                        r->path, version[0], version[1], first->path, version0[0], version0[1]);
        else if (!strings_equal(engine, engine0))
            status =
                MF_FAIL(MF_ERR_INPUT, "cannot merge: '%s' was made by marginfall %s, '%s' by %s",
                        r->path, engine ? engine : "?", first->path, engine0 ? engine0 : "?");
        else if (r->seed != first->seed)
            status =
                MF_FAIL(MF_ERR_INPUT, "cannot merge: '%s' has seed %llu, '%s' seed %llu", r->path,
                        (unsigned long long)r->seed, first->path, (unsigned long long)first->seed);
        else if (r->paths != first->paths)
            status = MF_FAIL(MF_ERR_INPUT, "cannot merge: '%s' has %lld paths, '%s' %lld", r->path,
                             (long long)r->paths, first->path, (long long)first->paths);
        else if (r->points != total0)
            status = MF_FAIL(MF_ERR_INPUT,
                             "cannot merge: '%s' is a part of a sweep of %lld points, '%s' of "
                             "%lld",
                             r->path, (long long)r->points, first->path, (long long)total0);
        else if (!strings_equal(config, config0)) {
            first_difference(config0, config, difference, sizeof difference);
            status = MF_FAIL(MF_ERR_INPUT,
                             "cannot merge: '%s' and '%s' come from different configurations "
                             "(their resolved configs differ at %s)",
                             first->path, r->path, difference);
        }
        free(config);
        free(engine);
    }
    free(config0);
    free(engine0);
    MF_CHECK(status);
    for (int64_t p = 0; p < total0; p++)
        owner_of[p] = -1;
    for (int i = 0; i < n_inputs; i++)
        for (int64_t j = 0; j < inputs[i].result.n_present; j++) {
            const int64_t p = inputs[i].result.present[j]; /* in 0..total0-1: checked */
            if (owner_of[p] >= 0)
                return MF_FAIL(MF_ERR_INPUT, "cannot merge: point %lld is in both '%s' and '%s'",
                               (long long)p, inputs[owner_of[p]].result.path,
                               inputs[i].result.path);
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
static mf_status merge_digest(const h5_writer *w, hid_t file, const int64_t *points, int64_t n) {
    uint64_t *digests = calloc((size_t)(n > 0 ? n : 1), sizeof *digests);
    if (!digests) return MF_FAIL(MF_ERR_MEMORY, "out of memory");
    mf_status status = MF_OK;
    for (int64_t k = 0; k < n && status == MF_OK; k++) {
        char name[48];
        snprintf(name, sizeof name, "point_%lld", (long long)points[k]);
        hid_t group = H5Gopen2(file, name, H5P_DEFAULT);
        char *text = group >= 0 ? h5_read_attr_string(group, "verification_digest") : NULL;
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
        status = h5_attr_string(w, file, "verification_digest", digest);
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
    h5_quiet_begin(&saved);
    merge_input *inputs = calloc((size_t)n_inputs, sizeof *inputs);
    mf_status status = inputs ? MF_OK : MF_FAIL(MF_ERR_MEMORY, "out of memory");
    for (int i = 0; i < n_inputs && inputs; i++)
        inputs[i].result = (h5_result){.path = input_paths[i], .file = H5I_INVALID_HID};
    /* Every input is checked in full, every row of every dataset it holds included, before
     * anything is copied: HDF5 copies stored chunks without verifying their checksums. */
    for (int i = 0; i < n_inputs && status == MF_OK; i++) {
        status = h5_result_open(input_paths[i], &inputs[i].result.file, inputs[i].version);
        if (status == MF_OK) status = h5_result_check(&inputs[i].result, 1);
    }
    int64_t total = 0;
    int *owner_of = NULL;
    if (status == MF_OK) {
        owner_of = calloc((size_t)inputs[0].result.points, sizeof *owner_of);
        status = owner_of ? merge_check(inputs, n_inputs, allow_gaps, &total, owner_of)
                          : MF_FAIL(MF_ERR_MEMORY, "out of memory");
    }

    /* Build the merged file in memory, like the h5_writer, then publish it atomically. */
    h5_writer w = {.path = output_path, .string_type = H5I_INVALID_HID};
    hid_t file = H5I_INVALID_HID;
    char temp_path[4200];
    mf_output_temp_name(output_path, temp_path, sizeof temp_path);
    if (status == MF_OK) status = h5_memory_file_open(&w, temp_path, &file);
    if (status == MF_OK) {
        static const char *const skip[] = {
            "command_line",        "created", "points_in_file", "wall_seconds", "merged_from",
            "verification_digest", NULL};
        attribute_copy copy = {file, skip, 0};
        hsize_t position = 0;
        H5Aiterate2(inputs[0].result.file, H5_INDEX_NAME, H5_ITER_INC, &position, copy_attribute,
                    &copy);
        if (copy.failed) status = h5_write_failed(&w, file, "", "root attributes of");
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
            h5_read_attr_numbers(inputs[i].result.file, "wall_seconds", H5T_NATIVE_DOUBLE, &seconds,
                                 1);
            wall += seconds;
        }
    }
    char created[64];
    h5_utc_now(created, sizeof created);
    if (status == MF_OK) status = h5_attr_string(&w, file, "command_line", command_line);
    if (status == MF_OK) status = h5_attr_string(&w, file, "created", created);
    if (status == MF_OK) status = h5_attr_double(&w, file, "wall_seconds", wall);
    if (status == MF_OK)
        status = h5_write_attr(&w, file, "points_in_file", H5T_NATIVE_INT64, H5T_STD_I64LE, 1,
                               (hsize_t)n_merged, merged);
    if (status == MF_OK) status = h5_attr_strings(&w, file, "merged_from", input_paths, n_inputs);
    hid_t copy_properties = H5Pcreate(H5P_OBJECT_COPY);
    if (status == MF_OK && H5Lexists(inputs[0].result.file, "sweep", H5P_DEFAULT) > 0 &&
        H5Ocopy(inputs[0].result.file, "sweep", file, "sweep", copy_properties, H5P_DEFAULT) < 0)
        status = h5_write_failed(&w, file, "sweep", "group");
    for (int64_t k = 0; k < n_merged && status == MF_OK; k++) {
        char name[48];
        snprintf(name, sizeof name, "point_%lld", (long long)merged[k]);
        const h5_result *source = &inputs[owner_of[merged[k]]].result;
        if (H5Ocopy(source->file, name, file, name, copy_properties, H5P_DEFAULT) < 0)
            status = h5_write_failed(&w, file, name, "group");
    }
    if (copy_properties >= 0) H5Pclose(copy_properties);
    if (status == MF_OK) status = merge_digest(&w, file, merged, n_merged);
    if (file >= 0) status = h5_memory_file_close(&w, file, status, temp_path);
    for (int i = 0; i < n_inputs && inputs; i++)
        h5_result_release(&inputs[i].result);
    free(inputs);
    free(owner_of);
    free(merged);
    h5_quiet_end(&saved);
    if (status == MF_OK) status = mf_output_publish(temp_path, output_path, force);
    if (status != MF_OK) {
        unlink(temp_path);
        mf_error_push_frame(__FILE__, __LINE__, __func__);
    }
    return status;
}
