/* The io layer's API: the HDF5 result file (docs/output.md). Rank 0 writes it under a
 * temporary name in the same directory and renames it when complete; an existing file is
 * never replaced without force. writer.c writes it, info.c prints it, merge.c merges part
 * files, h5_util.{h,c} holds the HDF5 helpers they share (and the publish helpers below). */
#ifndef MF_OUTPUT_H
#define MF_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mf_error.h"
#include "results.h"

#define MF_FORMAT_NAME "marginfall"
#define MF_FORMAT_VERSION_MAJOR 2
#define MF_FORMAT_VERSION_MINOR 1

/* The swept parameters of every point of a sweep (not only the points in this file), so that
 * part files of a split sweep carry the same table as a single job's file. */
typedef struct {
    int n_params;             /* 0: no sweep */
    const char *const *keys;  /* n_params config keys */
    int64_t n_points;         /* all points of the sweep */
    const double *values;     /* n_points * n_params, row-major; NaN where not numeric */
    const char *const *texts; /* n_points * n_params value texts, row-major */
} mf_sweep_table;

typedef struct {
    const char *config_yaml;  /* resolved config text */
    const char *config_file;  /* the file it came from */
    const char *command_line; /* argv joined by spaces */
    uint64_t seed;
    int64_t paths;
    int ranks;
    int threads;
    double wall_seconds;
    int64_t accounts;
    int64_t positions;
    int n_assets;
    const char *const *asset_names;
    int64_t points_total;        /* points of the whole sweep (1 without a sweep) */
    const mf_sweep_table *sweep; /* NULL or n_params == 0 without a sweep */
} mf_run_info;

/* mf_output_write without the publishing: the checks, then the file written to temp_path
 * (removed on failure). The collective writer (collective.h) fills it further, then
 * publishes it. */
mf_status mf_output_write_temp(const char *path, const char *temp_path, int force,
                               const mf_run_info *info, const mf_point_result *points,
                               int n_points);

/* Fails before any simulation work when the file exists and force is 0, or when its
 * directory is not writable. */
mf_status mf_output_check_target(const char *path, int force);

mf_status mf_output_write(const char *path, int force, const mf_run_info *info,
                          const mf_point_result *points, int n_points);

/* The temporary name a file is written under before it is published: "<path>.tmp.<pid>". */
void mf_output_temp_name(const char *path, char *buffer, size_t size);

/* Move a complete temporary file to path (same directory). Without force an existing path is
 * never replaced (atomic: link + unlink); with force it is replaced atomically (rename). The
 * temporary file is removed on failure. Used by the result and population writers. */
mf_status mf_output_publish(const char *temp_path, const char *path, int force);

/* Write size bytes to temp_path (created or truncated, then fsync'd). On failure the file is
 * removed and the message names path, the file the caller is producing. */
mf_status mf_output_save_bytes(const char *temp_path, const char *path, const void *data,
                               size_t size);

/* mf_output_merge (`marginfall merge`), mf_output_info (`marginfall info`) and
 * mf_result_digest are public: include/marginfall.h. */

/* The resolved config text a result file stores (its root attribute `config`); the caller
 * frees it. Used by `--resume` to check that a finished file belongs to the same config. */
mf_status mf_output_read_config(const char *path, char **config_text);

#endif
