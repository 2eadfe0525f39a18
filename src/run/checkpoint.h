/* Checkpoints of a long run: every rank periodically writes the block results it has
 * completed to its own file in OUTPUT.checkpoint/ (temporary name, then rename), so that a
 * run killed by pre-emption (SIGTERM) or anything else (SIGKILL) continues with --resume and
 * ends with exactly the bits an uninterrupted run gives: block results do not depend on
 * where or when they were computed. */
#ifndef MF_CHECKPOINT_H
#define MF_CHECKPOINT_H

#include <stdint.h>

#include "mf_error.h"
#include "simulate.h"

/* What a checkpoint belongs to; a checkpoint whose identity differs is refused. */
typedef struct {
    uint64_t config_hash; /* FNV-1a of the resolved config text (seed, paths, sweep...) */
    int64_t point_first;  /* the run's point range [first, stop) */
    int64_t point_stop;
    int64_t blocks_per_point;
    int32_t steps;
    int64_t block_paths; /* paths per block (run.block_paths): block b starts at path b * this */
} mf_checkpoint_identity;

/* A completed work item: block `block` of point `point`. */
typedef struct {
    int64_t point;
    int64_t block;
    mf_block_result result;
} mf_work_result;

uint64_t mf_hash_text(const char *text);

/* "OUTPUT.checkpoint" */
void mf_checkpoint_dir(const char *output_path, char *dir, size_t size);

/* Write this rank's completed items (done[i] != 0) atomically to DIR/rank-<rank>.ckpt. */
mf_status mf_checkpoint_write(const char *dir, int rank, const mf_checkpoint_identity *identity,
                              const mf_work_result *items, const uint8_t *done, int64_t n_items);

/* Load every rank's file in DIR (any number of files; a duplicated item is read once).
 * Refuses files from another config, point range or engine version with MF_ERR_INPUT.
 * *items is allocated (free each result and the array); *n_items = 0 when DIR is missing. */
mf_status mf_checkpoint_load(const char *dir, const mf_checkpoint_identity *identity,
                             mf_work_result **items, int64_t *n_items);

int mf_checkpoint_exists(const char *dir);
/* Remove DIR and the checkpoint files in it (after the final result is written). */
mf_status mf_checkpoint_remove(const char *dir);

#endif
