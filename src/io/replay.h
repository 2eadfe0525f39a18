/* Replayed index paths: real price series read from CSV or HDF5 instead of simulated. */
#ifndef MF_REPLAY_H
#define MF_REPLAY_H

#include <stdint.h>

#include "config.h"
#include "mf_error.h"

/* Read asset's replay series and write steps + 1 log index prices into log_index_out,
 * rescaled so that the first equals log(asset->price): the path keeps the file's returns.
 * Relative file names are resolved against the directory of config->source_file.
 * Fails (MF_ERR_INPUT, naming the file and the row or dataset) when the file cannot be read,
 * has a non-positive or non-numeric price, or has fewer than steps + 1 prices. */
mf_status mf_replay_load(const mf_config *config, int asset, int32_t steps, double *log_index_out);

#endif
