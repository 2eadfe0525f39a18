/* MPI helpers shared by the run and io layers. */
#ifndef MF_MPI_H
#define MF_MPI_H

#include <mpi.h>

#include "mf_error.h"

/* Collective: every rank learns whether any rank failed; the lowest failing rank's status and
 * message are copied to every rank (so rank 0 can print it). An MPI failure inside is returned
 * as MF_ERR_MPI (the communicators return errors, so no rank aborts the others). */
mf_status mf_mpi_agree(mf_status status, MPI_Comm comm);

#endif
