/* `marginfall run`: config -> population -> paths on every rank -> reduction -> HDF5. */
#ifndef MF_RUN_H
#define MF_RUN_H

#include <mpi.h>
#include <stdint.h>
#include <stdio.h>

#include "mf_error.h"

typedef struct {
    const char *config_path;
    const char *output_path; /* NULL: <config stem>.h5 in the current directory */
    int64_t paths;           /* > 0 overrides run.paths */
    int has_seed;
    uint64_t seed;                /* overrides run.seed when has_seed */
    const char *const *overrides; /* "key=value" */
    int n_overrides;
    int force;
    int quiet;
    const char *command_line;
    /* Which points of a sweep: [points_first, points_stop) when points_stop > 0, or part
     * part_index of part_count near-equal contiguous parts when part_count > 0. */
    int64_t points_first, points_stop;
    int64_t part_index, part_count;
    int resume;                 /* continue from OUTPUT.checkpoint/ if it exists */
    double checkpoint_interval; /* seconds between checkpoints; 0 = only when stopped */
} mf_run_options;

/* Collective over comm. Progress goes to stderr and the summary to `summary` (rank 0 only,
 * unless quiet). On failure every rank returns the same status; rank 0 holds the message. */
mf_status mf_run(const mf_run_options *options, MPI_Comm comm, FILE *summary);

/* `marginfall population CONFIG -o FILE`: generate the config's population and save it. */
mf_status mf_save_population(const char *config_path, const char *const *overrides, int n_overrides,
                             const char *output_path, int force, FILE *summary);

/* Format USD amounts for people: $1.23B, $45.6M, $789k, $12. */
void mf_format_usd(double value, char *text, size_t size);

#endif
