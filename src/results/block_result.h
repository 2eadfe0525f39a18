/* What one block of consecutive paths contributes to the reduction: the engine fills it, the
 * run layer reduces it (MPI) and saves it (checkpoints). Blocks are fixed ranges of paths, so a
 * block's bits do not depend on where or when it was computed. */
#ifndef MF_BLOCK_RESULT_H
#define MF_BLOCK_RESULT_H

#include <stdint.h>

#include "mf_error.h"
#include "results.h"

/* The per-step series a block sums over its paths (the mean profile of a point). */
typedef enum {
    MF_PROFILE_LIQUIDATED_NOTIONAL = 0, /* USD liquidated in the step */
    MF_PROFILE_LIQUIDATED_ACCOUNTS,     /* accounts liquidated for the first time in the step */
    MF_PROFILE_FUND,                    /* insurance fund at the end of the step */
    MF_PROFILE_SERIES
} mf_profile_series;

/* One cascade's fields, in this order, in mf_block_result.cascades. */
typedef enum {
    MF_CASCADE_NOTIONAL = 0,
    MF_CASCADE_ACCOUNTS,
    MF_CASCADE_AMPLIFICATION,
    MF_CASCADE_DURATION,
    MF_CASCADE_FIELDS
} mf_cascade_field;

typedef struct {
    int64_t first_path;
    int64_t n_paths;
    int32_t n_steps;
    mf_path_row *rows;       /* n_paths */
    mf_path_ledger *ledgers; /* n_paths */
    double *profile;         /* MF_PROFILE_SERIES * n_steps: series s at step t is
                                profile[s * n_steps + t], summed over the block's paths */
    double *cascades;        /* MF_CASCADE_FIELDS per cascade, in (path, cascade) order */
    int64_t n_cascades, cascade_capacity;
    /* Rank 0's reduction when the rows stay on their ranks: the per-path metrics' values,
     * metric-major (metric_values[m * n_paths + j], per-path metrics only), in place of rows
     * and ledgers (NULL then); NULL otherwise. */
    double *metric_values;
} mf_block_result;

mf_status mf_block_result_init(mf_block_result *block, int32_t n_steps, int64_t first_path,
                               int64_t n_paths);
void mf_block_result_free(mf_block_result *block);
/* Append one cascade's fields (MF_CASCADE_FIELDS values), growing the array as needed. */
mf_status mf_block_result_add_cascade(mf_block_result *block, const double *fields);

#endif
