/* Collective writing of the per-path tables and traces (docs/output.md, "How per-path tables
 * and traces are written"): rank 0 writes the result file under its temporary name with the
 * datasets of /point_<i>/paths and the simulated series of /point_<i>/traces created (final
 * shape, chunks, Fletcher32, attributes) but empty; then every rank opens that file with the
 * MPI-IO driver and writes the rows and traces it holds into them with collective hyperslab
 * writes; then rank 0 publishes it. The per-path rows never travel to rank 0. */
#ifndef MF_COLLECTIVE_H
#define MF_COLLECTIVE_H

#include <mpi.h>
#include <stdint.h>

#include "block_result.h"
#include "mf_error.h"
#include "output.h"
#include "results.h"

/* What one rank holds of one point of the file (the same points, in the same order, on
 * every rank). */
typedef struct {
    int point_index;
    int64_t n_paths; /* the point's paths: the length of its paths/<column> datasets */
    int write_paths; /* output.paths: the rows of `blocks` go to /point_<i>/paths */
    int64_t n_blocks;
    const mf_block_result *const *blocks; /* this rank's blocks of the point, in path order */
    int n_traces;                         /* every traced path of the point, in path order */
    const mf_path_trace *traces; /* series (index != NULL) only where this rank simulated it */
} mf_local_point;

/* Collective over comm. info, points and n_points are read on rank 0 only (its point results
 * have paths_elsewhere set and traces without series); local (n_points entries), n_assets and
 * asset_names on every rank. Every rank returns the same status (the lowest failing rank's
 * message); on failure the temporary file is removed and nothing is published. */
mf_status mf_output_write_collective(const char *path, int force, const mf_run_info *info,
                                     const mf_point_result *points, int n_points,
                                     const mf_local_point *local, int n_assets,
                                     const char *const *asset_names, MPI_Comm comm);

#endif
