/* Reduction of block results into one sweep point's statistics. Blocks are fixed ranges of
 * paths (run.block_paths, never the rank count); rank 0 gathers them and combines them in
 * block order, so every bit of the result is the same for any number of ranks or threads. */
#ifndef MF_REDUCTION_H
#define MF_REDUCTION_H

#include <mpi.h>
#include <stdint.h>

#include "mf_error.h"
#include "results.h"
#include "simulate.h"

/* Serial: combine n_blocks block results of one point, given in block order, into `out`
 * (allocates its arrays; free with mf_point_result_free). keep_paths: also copy the per-path
 * table. Uses config->run.steps and config->output.bins_per_decade. */
mf_status mf_reduce_blocks(const mf_config *config, const mf_block_result *blocks, int64_t n_blocks,
                           int keep_paths, mf_point_result *out);

/* Collective: gather one point's blocks from every rank (each rank passes the blocks of that
 * point it holds, in block order; ranks hold ascending, non-overlapping ranges in rank order)
 * and reduce them on rank 0. Other ranks get an empty `out`. Blocks travel in the wire format
 * (wire.h): whole rows, ledgers included (whole_rows; needed for keep_paths), or only the
 * columns of the per-path metrics (about a third of a row), when the table stays on its ranks
 * or is not written. A rank that fails before the gather returns its error and the
 * others return MF_OK with an empty `out` (no rank waits in a gather that never comes); the
 * caller makes every rank agree on the failure. */
mf_status mf_reduce_gather(const mf_config *config, const mf_block_result *const *local_blocks,
                           int64_t n_local_blocks, int keep_paths, int whole_rows, MPI_Comm comm,
                           mf_point_result *out);

#endif
