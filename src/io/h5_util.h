/* Shared HDF5 helpers of the io layer: used by the result writer (writer.c), `marginfall
 * info` (info.c), `marginfall merge` (merge.c) and the checks of a result file before either
 * reads it (result_check.c). Functions that
 * write take an h5_writer (the final file's name, for messages) and return MF_ERR_OUTPUT with
 * HDF5's innermost reason; readers return NULL or -1 and let the caller word the message. */
#ifndef MF_H5_UTIL_H
#define MF_H5_UTIL_H

#include <stdint.h>

#include <hdf5.h>

#include "mf_error.h"
#include "output.h"

/* Per-path tables longer than this are chunked and deflated. */
#define MF_H5_COMPRESS_THRESHOLD 4096

/* ---- HDF5's error stack ---- */

typedef struct {
    H5E_auto2_t func;
    void *data;
} h5_quiet;

/* Keep HDF5 from printing its own error stack (h5_quiet_end restores it): failures are
 * reported by our messages. */
void h5_quiet_begin(h5_quiet *saved);
void h5_quiet_end(const h5_quiet *saved);

/* ---- writing ---- */

typedef struct {
    const char *path; /* the final file name, for messages */
    hid_t string_type;
    int can_deflate;
} h5_writer;

/* The innermost reason of HDF5's error stack in a message naming the object and the file. */
mf_status h5_write_failed(const h5_writer *w, hid_t loc, const char *name, const char *what);
/* A group without time stamps (files are reproducible bit for bit). */
mf_status h5_create_group(const h5_writer *w, hid_t loc, const char *name, hid_t *group);
/* An attribute of `rank` 0 (scalar) or 1 (n values). */
mf_status h5_write_attr(const h5_writer *w, hid_t loc, const char *name, hid_t mem_type,
                        hid_t file_type, int rank, hsize_t n, const void *data);
mf_status h5_attr_string(const h5_writer *w, hid_t loc, const char *name, const char *value);
/* A string array attribute. */
mf_status h5_attr_strings(const h5_writer *w, hid_t loc, const char *name,
                          const char *const *values, int n);
mf_status h5_attr_int32(const h5_writer *w, hid_t loc, const char *name, int32_t value);
mf_status h5_attr_int64(const h5_writer *w, hid_t loc, const char *name, int64_t value);
mf_status h5_attr_double(const h5_writer *w, hid_t loc, const char *name, double value);
/* A dataset of rank 0 or 1; compress: chunked and deflated when the filter is there. data
 * NULL: created with its final shape and filters but not written (the collective write
 * fills it, src/io/collective.c). */
mf_status h5_write_dataset(const h5_writer *w, hid_t loc, const char *name, hid_t mem_type,
                           hid_t file_type, int rank, hsize_t n, const void *data, int compress);
mf_status h5_scalar_f64(const h5_writer *w, hid_t loc, const char *name, double value);
mf_status h5_scalar_i64(const h5_writer *w, hid_t loc, const char *name, int64_t value);
mf_status h5_array_f64(const h5_writer *w, hid_t loc, const char *name, hsize_t n,
                       const double *values);
/* The string attribute `unit` of dataset. */
mf_status h5_set_unit(const h5_writer *w, hid_t loc, const char *dataset, const char *unit);
/* Make dataset `scale` a dimension scale named dim_name and attach it to the targets. */
mf_status h5_attach_scale(const h5_writer *w, hid_t loc, const char *scale, const char *dim_name,
                          const char *const *targets, int n_targets);
/* ISO 8601 UTC time, "2025-01-31T14:05:09Z". */
void h5_utc_now(char *buffer, size_t size);

/* The file is built in memory (core driver) and its image written with POSIX calls; open
 * sets up the writer's string type, close writes the image to temp_path when status is MF_OK
 * and releases everything either way (returns the final status). */
mf_status h5_memory_file_open(h5_writer *w, const char *temp_path, hid_t *file);
mf_status h5_memory_file_close(h5_writer *w, hid_t file, mf_status status, const char *temp_path);

/* ---- reading ---- */

/* A string attribute (variable or fixed length) as a malloc'd string; NULL if absent. */
char *h5_read_attr_string(hid_t loc, const char *name);
/* A string array attribute joined by ", " (malloc'd); NULL if absent. */
char *h5_read_attr_strings_joined(hid_t loc, const char *name);
/* A numeric attribute of the stored class of mem_type (integers: the same sign and at most
 * its width; floats: its width) and n values, converted to mem_type; -1 otherwise or if
 * absent. A numeric dataset of exactly mem_type's class, width and sign and n values. */
int h5_read_attr_numbers(hid_t loc, const char *name, hid_t mem_type, void *out, int n);
int h5_read_dataset_numbers(hid_t loc, const char *name, hid_t mem_type, void *out, int n);
/* The attribute is stored as an integer, signed (is_signed) or not. */
int h5_attr_is_integer(hid_t loc, const char *name, int is_signed);
/* The innermost reason of HDF5's error stack (call right after a failure). */
void h5_error_reason(char *buffer, size_t size);
/* Format 2.0 names a metric's moments sample_count, sample_mean, sample_m2, sample_min and
 * sample_max (the bare names collide with xarray methods); 1.x files use count, mean, m2, min
 * and max. The name `group` uses for the moment `base` ("count", "mean", ...). */
const char *h5_moment_name(hid_t group, const char *base);

/* Refuse a file whose variable-length string storage (HDF5 global heap collections, which have
 * no checksum) is inconsistent: HDF5 1.10 would read past it. Scans the whole file (mapped). */
mf_status h5_check_global_heaps(const char *path);

/* Open a marginfall result file read-only and check its format and major version. */
mf_status h5_result_open(const char *path, hid_t *file, int32_t *version);

/* ---- checking a result file before it is used (result_check.c) ---- */

typedef struct {
    const char *path; /* for messages */
    hid_t file;
    uint64_t seed;
    int64_t paths;    /* per point */
    int64_t points;   /* of the whole sweep */
    int64_t *present; /* the points this file holds, ascending (malloc'd) */
    int64_t n_present;
    uint64_t digest; /* the root verification_digest, when has_digest */
    int has_digest;
} h5_result;

/* Check everything `info` and `merge` read (docs/output.md, "Checksums and checks on
 * reading"): root attributes, /sweep, every point this file lists, and (scan_paths) every
 * row of the per-path tables. An input error names the file, the dataset and the row. */
mf_status h5_result_check(h5_result *r, int scan_paths);
/* Free the list and close the file. */
void h5_result_release(h5_result *r);

#endif
