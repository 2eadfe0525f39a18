#include "block_result.h"

#include <stdlib.h>
#include <string.h>

mf_status mf_block_result_init(mf_block_result *block, int32_t n_steps, int64_t first_path,
                               int64_t n_paths) {
    memset(block, 0, sizeof *block);
    block->first_path = first_path;
    block->n_paths = n_paths;
    block->n_steps = n_steps;
    MF_ALLOC(block->rows, n_paths);
    MF_ALLOC(block->ledgers, n_paths);
    MF_ALLOC(block->profile, MF_PROFILE_SERIES * (size_t)n_steps);
    block->cascade_capacity = 64;
    MF_ALLOC(block->cascades, MF_CASCADE_FIELDS * block->cascade_capacity);
    return MF_OK;
}

void mf_block_result_free(mf_block_result *block) {
    free(block->rows);
    free(block->ledgers);
    free(block->profile);
    free(block->cascades);
    free(block->metric_values);
    memset(block, 0, sizeof *block);
}

mf_status mf_block_result_add_cascade(mf_block_result *block, const double *fields) {
    if (block->n_cascades == block->cascade_capacity) {
        int64_t capacity = 2 * block->cascade_capacity;
        double *grown =
            realloc(block->cascades, (size_t)capacity * MF_CASCADE_FIELDS * sizeof *grown);
        if (!grown) return MF_FAIL(MF_ERR_MEMORY, "out of memory storing cascades");
        block->cascades = grown;
        block->cascade_capacity = capacity;
    }
    memcpy(block->cascades + block->n_cascades * MF_CASCADE_FIELDS, fields,
           MF_CASCADE_FIELDS * sizeof *fields);
    block->n_cascades++;
    return MF_OK;
}
