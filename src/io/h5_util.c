/* Shared HDF5 helpers of the io layer (src/io/h5_util.h): a quiet error stack, attributes,
 * datasets and dimension scales, the in-memory file, target checks and publishing under a
 * temporary name, and small readers. Used by the result writer (writer.c), `marginfall info`
 * (info.c), `marginfall merge` (merge.c) and the population snapshot. */
#include "h5_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <hdf5_hl.h>

#include "mf_version.h"

/* Per-path tables chunk at most this many rows, deflated at this level. */
#define CHUNK_MAX ((hsize_t)65536)
#define DEFLATE_LEVEL 4

/* ---------------------------------------------------------------------------------------
 * Small shared pieces
 * ------------------------------------------------------------------------------------- */

/* Keep HDF5 from printing its own error stack: failures are reported by our messages. */
void h5_quiet_begin(h5_quiet *saved) {
    H5Eget_auto2(H5E_DEFAULT, &saved->func, &saved->data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

void h5_quiet_end(const h5_quiet *saved) {
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
 * Writing groups, attributes and datasets
 * ------------------------------------------------------------------------------------- */

mf_status h5_write_failed(const h5_writer *w, hid_t loc, const char *name, const char *what) {
    char reason[256];
    h5_reason(reason);
    char where[512] = "";
    if (loc >= 0) H5Iget_name(loc, where, sizeof where);
    return MF_FAIL(MF_ERR_OUTPUT, "cannot write %s '%s%s%s' in '%s': %s", what, where,
                   strcmp(where, "/") == 0 ? "" : "/", name, w->path, reason);
}

/* Links and attributes stay in the object header (compact storage) up to this many: there the
 * 1.10 format checksums them. HDF5's default moves more than 8 into "dense" storage, a fractal
 * heap whose blocks carry no checksum, and a flipped byte there can crash HDF5 itself while it
 * iterates a group (a group of more than 8 datasets is common here). */
#define MF_H5_MAX_COMPACT 4096

static herr_t keep_compact(hid_t plist) {
    herr_t status = H5Pset_link_phase_change(plist, MF_H5_MAX_COMPACT, MF_H5_MAX_COMPACT - 1);
    if (status >= 0)
        status = H5Pset_attr_phase_change(plist, MF_H5_MAX_COMPACT, MF_H5_MAX_COMPACT - 1);
    return status;
}

mf_status h5_create_group(const h5_writer *w, hid_t loc, const char *name, hid_t *group) {
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    if (gcpl >= 0 && (H5Pset_obj_track_times(gcpl, 0) < 0 || keep_compact(gcpl) < 0)) {
        H5Pclose(gcpl);
        gcpl = H5I_INVALID_HID;
    }
    *group = gcpl < 0 ? H5I_INVALID_HID : H5Gcreate2(loc, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    mf_status status = *group < 0 ? h5_write_failed(w, loc, name, "group") : MF_OK;
    if (gcpl >= 0) H5Pclose(gcpl);
    return status;
}

/* A scalar (rank 0) or 1-D attribute. */
mf_status h5_write_attr(const h5_writer *w, hid_t loc, const char *name, hid_t mem_type,
                        hid_t file_type, int rank, hsize_t n, const void *data) {
    hid_t space = rank == 0 ? H5Screate(H5S_SCALAR)
                  : n == 0  ? H5Screate(H5S_NULL)
                            : H5Screate_simple(1, &n, NULL);
    hid_t attr = space < 0 ? H5I_INVALID_HID
                           : H5Acreate2(loc, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT);
    herr_t status = attr < 0 ? -1 : (rank == 1 && n == 0) ? 0 : H5Awrite(attr, mem_type, data);
    mf_status result = status < 0 ? h5_write_failed(w, loc, name, "attribute") : MF_OK;
    if (attr >= 0) H5Aclose(attr);
    if (space >= 0) H5Sclose(space);
    return result;
}

mf_status h5_attr_string(const h5_writer *w, hid_t loc, const char *name, const char *value) {
    const char *text = value ? value : "";
    return h5_write_attr(w, loc, name, w->string_type, w->string_type, 0, 1, &text);
}

mf_status h5_attr_strings(const h5_writer *w, hid_t loc, const char *name,
                          const char *const *values, int n) {
    const char **texts = calloc(n > 0 ? (size_t)n : 1, sizeof *texts);
    if (!texts) return MF_FAIL(MF_ERR_MEMORY, "out of memory for %d strings", n);
    for (int i = 0; i < n; i++)
        texts[i] = values && values[i] ? values[i] : "";
    mf_status status =
        h5_write_attr(w, loc, name, w->string_type, w->string_type, 1, (hsize_t)n, texts);
    free(texts);
    return status;
}

mf_status h5_attr_int32(const h5_writer *w, hid_t loc, const char *name, int32_t value) {
    return h5_write_attr(w, loc, name, H5T_NATIVE_INT32, H5T_STD_I32LE, 0, 1, &value);
}

mf_status h5_attr_int64(const h5_writer *w, hid_t loc, const char *name, int64_t value) {
    return h5_write_attr(w, loc, name, H5T_NATIVE_INT64, H5T_STD_I64LE, 0, 1, &value);
}

mf_status h5_attr_double(const h5_writer *w, hid_t loc, const char *name, double value) {
    return h5_write_attr(w, loc, name, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 0, 1, &value);
}

/* A scalar (rank 0) or 1-D dataset of n elements; compress: chunk + deflate. */
mf_status h5_write_dataset(const h5_writer *w, hid_t loc, const char *name, hid_t mem_type,
                           hid_t file_type, int rank, hsize_t n, const void *data, int compress) {
    hid_t space = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    herr_t status = space < 0 || dcpl < 0 ? -1 : H5Pset_obj_track_times(dcpl, 0);
    /* Every non-empty numeric array is chunked so that it carries a Fletcher32 checksum, which
     * H5Dread verifies. Scalars cannot be chunked, and HDF5 runs no filter on variable-length
     * strings: readers range-check those instead. */
    if (status >= 0 && rank == 1 && n > 0 && H5Tis_variable_str(file_type) <= 0) {
        hsize_t chunk = n < CHUNK_MAX ? n : CHUNK_MAX;
        status = H5Pset_chunk(dcpl, 1, &chunk);
        if (status >= 0 && compress && w->can_deflate) status = H5Pset_deflate(dcpl, DEFLATE_LEVEL);
        if (status >= 0) status = H5Pset_fletcher32(dcpl);
    }
    hid_t dataset = status < 0
                        ? H5I_INVALID_HID
                        : H5Dcreate2(loc, name, file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (dataset < 0)
        status = -1;
    else if ((rank == 0 || n > 0) && data) /* no data: the ranks write it later */
        status = H5Dwrite(dataset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    mf_status result = status < 0 ? h5_write_failed(w, loc, name, "dataset") : MF_OK;
    if (dataset >= 0) H5Dclose(dataset);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (space >= 0) H5Sclose(space);
    return result;
}

mf_status h5_scalar_f64(const h5_writer *w, hid_t loc, const char *name, double value) {
    return h5_write_dataset(w, loc, name, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 0, 1, &value, 0);
}

mf_status h5_scalar_i64(const h5_writer *w, hid_t loc, const char *name, int64_t value) {
    return h5_write_dataset(w, loc, name, H5T_NATIVE_INT64, H5T_STD_I64LE, 0, 1, &value, 0);
}

mf_status h5_array_f64(const h5_writer *w, hid_t loc, const char *name, hsize_t n,
                       const double *values) {
    return h5_write_dataset(w, loc, name, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 1, n, values, 0);
}

mf_status h5_set_unit(const h5_writer *w, hid_t loc, const char *dataset, const char *unit) {
    hid_t object = H5Oopen(loc, dataset, H5P_DEFAULT);
    if (object < 0) return h5_write_failed(w, loc, dataset, "dataset");
    mf_status status = h5_attr_string(w, object, "unit", unit);
    H5Oclose(object);
    return status;
}

/* Make `scale` (a dataset in loc) a dimension scale named dim_name and attach it as
 * dimension 0 of each target dataset. */
mf_status h5_attach_scale(const h5_writer *w, hid_t loc, const char *scale, const char *dim_name,
                          const char *const *targets, int n_targets) {
    hid_t scale_id = H5Dopen2(loc, scale, H5P_DEFAULT);
    if (scale_id < 0 || H5DSset_scale(scale_id, dim_name) < 0) {
        mf_status status = h5_write_failed(w, loc, scale, "dimension scale");
        if (scale_id >= 0) H5Dclose(scale_id);
        return status;
    }
    mf_status status = MF_OK;
    for (int i = 0; i < n_targets && status == MF_OK; i++) {
        hid_t target = H5Dopen2(loc, targets[i], H5P_DEFAULT);
        if (target < 0 || H5DSattach_scale(target, scale_id, 0) < 0)
            status = h5_write_failed(w, loc, targets[i], "dimension scale attachment of");
        if (target >= 0) H5Dclose(target);
    }
    H5Dclose(scale_id);
    return status;
}

void h5_utc_now(char *buffer, size_t size) {
    time_t now = time(NULL);
    struct tm utc;
    if (gmtime_r(&now, &utc))
        strftime(buffer, size, "%Y-%m-%dT%H:%M:%SZ", &utc);
    else
        snprintf(buffer, size, "unknown");
}

/* The HDF5 file is built in memory (core driver, no backing store) and its image written with
 * plain POSIX calls: HDF5 1.10 crashes at exit after an H5Fclose that failed on a full disk,
 * so HDF5 itself never writes to disk here. h5_memory_file_open sets up the h5_writer (string type)
 * and the file; h5_memory_file_close writes the image to temp_path when status is MF_OK and
 * releases everything either way. */
mf_status h5_memory_file_open(h5_writer *w, const char *temp_path, hid_t *file) {
    *file = H5I_INVALID_HID;
    w->can_deflate = H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0;
    w->string_type = H5Tcopy(H5T_C_S1);
    if (w->string_type < 0 || H5Tset_size(w->string_type, H5T_VARIABLE) < 0 ||
        H5Tset_cset(w->string_type, H5T_CSET_UTF8) < 0) {
        if (w->string_type >= 0) H5Tclose(w->string_type);
        w->string_type = H5I_INVALID_HID;
        return h5_write_failed(w, H5I_INVALID_HID, "", "string type for");
    }
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    herr_t ready = fcpl < 0 || fapl < 0 ? -1 : H5Pset_obj_track_times(fcpl, 0);
    if (ready >= 0) ready = keep_compact(fcpl); /* the root group's links and attributes */
    if (ready >= 0) ready = H5Pset_fapl_core(fapl, (size_t)4 << 20, 0);
    /* The 1.8 file format: its superblock, object headers (attributes included), group
     * indices and heaps of names carry checksums that HDF5 checks on every read. */
    if (ready >= 0) ready = H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_V110);
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

/* Bob Jenkins' lookup3 hash ("hashlittle", public domain), the checksum of HDF5's metadata. */
#define ROTATE32(x, k) (((x) << (k)) | ((x) >> (32 - (k))))
static uint32_t lookup3(const unsigned char *key, size_t length) {
    uint32_t a, b, c;
    a = b = c = 0xdeadbeefu + (uint32_t)length;
    while (length > 12) {
        uint32_t word[3];
        memcpy(word, key, sizeof word); /* little-endian hosts only: see below */
        a += word[0];
        b += word[1];
        c += word[2];
        a -= c, a ^= ROTATE32(c, 4), c += b;
        b -= a, b ^= ROTATE32(a, 6), a += c;
        c -= b, c ^= ROTATE32(b, 8), b += a;
        a -= c, a ^= ROTATE32(c, 16), c += b;
        b -= a, b ^= ROTATE32(a, 19), a += c;
        c -= b, c ^= ROTATE32(b, 4), b += a;
        key += 12;
        length -= 12;
    }
    if (length == 0) return c;
    unsigned char tail[12] = {0};
    memcpy(tail, key, length);
    uint32_t word[3];
    memcpy(word, tail, sizeof word);
    a += word[0];
    b += word[1];
    c += word[2];
    c ^= b, c -= ROTATE32(b, 14);
    a ^= c, a -= ROTATE32(c, 11);
    b ^= a, b -= ROTATE32(a, 25);
    c ^= b, c -= ROTATE32(b, 16);
    a ^= c, a -= ROTATE32(c, 4);
    b ^= a, b -= ROTATE32(a, 14);
    c ^= b, c -= ROTATE32(b, 24);
    return c;
}
#undef ROTATE32

/* HDF5 1.10's H5Fget_file_image clears the superblock's "open for writing" flag in the image
 * but leaves the checksum computed with the flag set, and every reader then refuses the file
 * ("incorrect metadata checksum"). Superblocks of version 2 and 3 (8-byte offsets, 48 bytes)
 * end in the lookup3 checksum of the 44 bytes before it: recompute it. */
static void fix_superblock_checksum(unsigned char *image, size_t size) {
    enum { SUPERBLOCK_SIZE = 48, CHECKSUM_AT = 44 };
    const int one = 1;
    if (size < SUPERBLOCK_SIZE || memcmp(image, "\211HDF\r\n\032\n", 8) != 0) return;
    if ((image[8] != 2 && image[8] != 3) || image[9] != 8 || image[10] != 8) return;
    if (*(const unsigned char *)&one != 1) return; /* lookup3 above reads little-endian words */
    uint32_t sum = lookup3(image, CHECKSUM_AT);
    for (int i = 0; i < 4; i++)
        image[CHECKSUM_AT + i] = (unsigned char)(sum >> (8 * i));
}

mf_status h5_memory_file_close(h5_writer *w, hid_t file, mf_status status, const char *temp_path) {
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
        else
            fix_superblock_checksum(image, (size_t)size);
    }
    if (file >= 0) H5Fclose(file);
    if (w->string_type >= 0) H5Tclose(w->string_type);
    w->string_type = H5I_INVALID_HID;
    if (status == MF_OK) status = mf_output_save_bytes(temp_path, w->path, image, (size_t)size);
    free(image);
    return status;
}

/* A string attribute (variable or fixed length) as a malloc'd string; NULL if absent. */
char *h5_read_attr_string(hid_t loc, const char *name) {
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
char *h5_read_attr_strings_joined(hid_t loc, const char *name) {
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

void h5_error_reason(char *buffer, size_t size) {
    char reason[256];
    snprintf(buffer, size, "%s", h5_reason(reason));
}

/* The stored type may be read as mem_type without HDF5 clipping or rounding a value: the same
 * class; integers of the same sign and at most its width (format 1.0 stored `points` as
 * int32); floats of its width. */
static int type_fits(hid_t stored, hid_t mem_type, int allow_widening) {
    H5T_class_t class = H5Tget_class(stored);
    if (class != H5Tget_class(mem_type) || (class != H5T_INTEGER && class != H5T_FLOAT)) return 0;
    size_t size = H5Tget_size(stored), mem_size = H5Tget_size(mem_type);
    if (class == H5T_INTEGER && H5Tget_sign(stored) != H5Tget_sign(mem_type)) return 0;
    return class == H5T_INTEGER && allow_widening ? size <= mem_size : size == mem_size;
}

/* The dataspace holds n values: a scalar for n = 1, or one dimension of n. */
static int space_holds(hid_t space, int n) {
    H5S_class_t shape = H5Sget_simple_extent_type(space);
    if (shape == H5S_SCALAR) return n == 1;
    return shape == H5S_SIMPLE && H5Sget_simple_extent_ndims(space) == 1 &&
           H5Sget_simple_extent_npoints(space) == n;
}

int h5_attr_is_integer(hid_t loc, const char *name, int is_signed) {
    if (H5Aexists(loc, name) <= 0) return 0;
    hid_t attr = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t type = attr >= 0 ? H5Aget_type(attr) : H5I_INVALID_HID;
    int ok = type >= 0 && H5Tget_class(type) == H5T_INTEGER &&
             (H5Tget_sign(type) == H5T_SGN_2) == (is_signed != 0);
    if (type >= 0) H5Tclose(type);
    if (attr >= 0) H5Aclose(attr);
    return ok;
}

/* A numeric attribute with exactly n elements, converted to mem_type; -1 if absent or of
 * another type or size. */
int h5_read_attr_numbers(hid_t loc, const char *name, hid_t mem_type, void *out, int n) {
    if (H5Aexists(loc, name) <= 0) return -1;
    hid_t attr = H5Aopen(loc, name, H5P_DEFAULT);
    if (attr < 0) return -1;
    hid_t type = H5Aget_type(attr);
    hid_t space = H5Aget_space(attr);
    int ok = type >= 0 && space >= 0 && type_fits(type, mem_type, 1) && space_holds(space, n) &&
             H5Aread(attr, mem_type, out) >= 0;
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    H5Aclose(attr);
    return ok ? 0 : -1;
}

/* A numeric dataset of mem_type's class, width and sign with exactly n elements; -1 if absent
 * or of another type or size. */
int h5_read_dataset_numbers(hid_t loc, const char *name, hid_t mem_type, void *out, int n) {
    if (H5Lexists(loc, name, H5P_DEFAULT) <= 0) return -1;
    hid_t dataset = H5Dopen2(loc, name, H5P_DEFAULT);
    if (dataset < 0) return -1;
    hid_t type = H5Dget_type(dataset);
    hid_t space = H5Dget_space(dataset);
    int ok = type >= 0 && space >= 0 && type_fits(type, mem_type, 0) && space_holds(space, n) &&
             H5Dread(dataset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) >= 0;
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    H5Dclose(dataset);
    return ok ? 0 : -1;
}

/* HDF5 keeps variable-length strings (attribute texts) in "global heap collections", which
 * carry no checksum, and HDF5 1.10 trusts their object sizes: a damaged size makes it read past
 * the collection and crash. So the collections are walked here first. A collection: "GCOL",
 * version 1, 3 reserved bytes, its size (8 bytes, the header included); then objects: index (2
 * bytes), reference count (2), reserved (4), size (8), data padded to 8 bytes; index 0 is the
 * free space, which runs exactly to the end; fewer than 16 bytes may be left over. */
static uint64_t read_le64(const unsigned char *p) {
    uint64_t value = 0;
    for (int i = 7; i >= 0; i--)
        value = value << 8 | p[i];
    return value;
}

static int global_heap_collection_ok(const unsigned char *data, size_t length, size_t at) {
    const uint64_t size = read_le64(data + at + 8);
    if (size < 16 || size > length - at) return 0;
    const size_t end = at + (size_t)size;
    size_t p = at + 16;
    while (end - p >= 16) {
        const unsigned index = (unsigned)data[p] | (unsigned)data[p + 1] << 8;
        const uint64_t object = read_le64(data + p + 8);
        if (index == 0) return object == end - p;
        if (object > end - p - 16) return 0;
        const uint64_t padded = (object + 7) / 8 * 8;
        if (padded > end - p - 16) return 0;
        p += 16 + (size_t)padded;
    }
    return 1;
}

mf_status h5_check_global_heaps(const char *path) {
    const int fd = open(path, O_RDONLY);
    if (fd < 0) return MF_FAIL(MF_ERR_INPUT, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size <= 0) {
        close(fd);
        return MF_OK; /* HDF5's own open names an empty file */
    }
    const size_t length = (size_t)st.st_size;
    void *mapped = mmap(NULL, length, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (mapped == MAP_FAILED)
        return MF_FAIL(MF_ERR_INPUT, "cannot read '%s' to check it: %s", path, strerror(errno));
    const unsigned char *data = mapped;
    mf_status status = MF_OK;
    for (size_t at = 0; at + 16 <= length && status == MF_OK; at++) {
        if (memcmp(data + at, "GCOL", 4) != 0 || data[at + 4] != 1 || data[at + 5] != 0 ||
            data[at + 6] != 0 || data[at + 7] != 0)
            continue;
        if (!global_heap_collection_ok(data, length, at))
            status = MF_FAIL(MF_ERR_INPUT,
                             "'%s' is damaged: the string storage (HDF5 global heap) at byte "
                             "%zu is inconsistent",
                             path, at);
    }
    munmap(mapped, length);
    return status;
}

mf_status h5_result_open(const char *path, hid_t *file, int32_t *version) {
    struct stat st;
    if (stat(path, &st) != 0)
        return MF_FAIL(MF_ERR_INPUT, "cannot open result file '%s': %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return MF_FAIL(MF_ERR_INPUT, "'%s' is a directory, not a result file", path);
    if (!S_ISREG(st.st_mode))
        return MF_FAIL(MF_ERR_INPUT, "'%s' is not a regular file, not a result file", path);
    /* A cut-off file fails HDF5's end-of-file check: name the usual causes, not HDF5's
     * internal reason. */
    MF_CHECK(h5_check_global_heaps(path));
    *file = H5Fis_hdf5(path) > 0 ? H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT) : H5I_INVALID_HID;
    if (*file < 0)
        return MF_FAIL(MF_ERR_INPUT,
                       "cannot read result file '%s': truncated or not an HDF5 file (or its "
                       "first bytes are damaged)",
                       path);
    char *format = h5_read_attr_string(*file, "format");
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
    if (h5_read_attr_numbers(*file, "format_version", H5T_NATIVE_INT32, version, 2) != 0) {
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

const char *h5_moment_name(hid_t group, const char *base) {
    static const char *const moments[][2] = {{"count", "sample_count"},
                                             {"mean", "sample_mean"},
                                             {"m2", "sample_m2"},
                                             {"min", "sample_min"},
                                             {"max", "sample_max"}};
    for (size_t i = 0; i < sizeof moments / sizeof moments[0]; i++)
        if (strcmp(base, moments[i][0]) == 0)
            return H5Lexists(group, moments[i][1], H5P_DEFAULT) > 0 ? moments[i][1] : base;
    return base;
}
