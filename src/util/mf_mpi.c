/* MPI error codes as mf_status (mf_error.h: MF_MPI, MF_CHECK_MPI). */
#include <mpi.h>
#include <stdio.h>

#include "mf_error.h"

mf_status mf_mpi_status(int code, const char *file, int line, const char *func, const char *call) {
    if (code == MPI_SUCCESS) return MF_OK;
    char text[MPI_MAX_ERROR_STRING] = "";
    int length = 0;
    if (MPI_Error_string(code, text, &length) != MPI_SUCCESS)
        snprintf(text, sizeof text, "MPI error code %d", code);
    return mf_error_set(MF_ERR_MPI, file, line, func, "%s failed: %s", call, text);
}
