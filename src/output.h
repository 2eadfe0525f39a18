/* The HDF5 result file (docs/output.md). Rank 0 writes it under a temporary name in the same
 * directory and renames it when complete; an existing file is never replaced without force. */
#ifndef MF_OUTPUT_H
#define MF_OUTPUT_H

#include <stdint.h>
#include <stdio.h>

#include "mf_error.h"
#include "results.h"

#define MF_FORMAT_NAME "marginfall"
#define MF_FORMAT_VERSION_MAJOR 1
#define MF_FORMAT_VERSION_MINOR 0

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
} mf_run_info;

/* Fails before any simulation work when the file exists and force is 0, or when its
 * directory is not writable. */
mf_status mf_output_check_target(const char *path, int force);

mf_status mf_output_write(const char *path, int force, const mf_run_info *info,
                          const mf_point_result *points, int n_points);

/* Print a readable summary of a result file (what `marginfall info FILE` shows). */
mf_status mf_output_info(const char *path, FILE *out);

#endif
