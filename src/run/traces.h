/* Traces of chosen paths (output.traces, output.traces_worst; docs/output.md "Traces"): after
 * the reduction, rank 0 picks a point's paths and simulates each again with its trace on. A
 * path's results depend only on (seed, path index, config), so a trace is the story of exactly
 * the path the statistics counted (checked bit for bit), for any rank count. */
#ifndef MF_TRACES_H
#define MF_TRACES_H

#include "mf_error.h"
#include "results.h"
#include "simulate.h"

/* Fill result->traces for the point whose model is given (nothing when the config asks for
 * no trace). The worst paths are ranked by the result's liquidated-notional path values. */
mf_status mf_trace_point(const mf_model *model, mf_point_result *result);

/* Collective writing (src/run/run.c): rank 0 picks the point's traced paths from its reduced
 * result (path, worst_rank, requested set; no series), in path order; then each rank
 * simulates those of `traces` that lie in its own blocks of the point (filling their series,
 * checked bit for bit against the block's row) and leaves the others' series NULL. */
mf_status mf_trace_select(const mf_config *config, const mf_point_result *result,
                          mf_path_trace **traces, int *n);
mf_status mf_trace_owned(const mf_model *model, const mf_block_result *const *blocks,
                         int64_t n_blocks, mf_path_trace *traces, int n);

#endif
