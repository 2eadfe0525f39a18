/* `marginfall run`: config -> population -> paths on every rank -> reduction -> HDF5. */
#ifndef MF_RUN_H
#define MF_RUN_H

#include <mpi.h>
#include <stdint.h>
#include <stdio.h>

#include "marginfall.h" /* mf_run_options, mf_run, mf_save_population */
#include "mf_error.h"

/* Format USD amounts for people: $1.23B, $45.6M, $789k, $12. */
void mf_format_usd(double value, char *text, size_t size);

#endif
