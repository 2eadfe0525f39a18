/* MPI error codes as mf_status (mf_error.h: MF_MPI, MF_CHECK_MPI). */
#include <mpi.h>
#include <stdio.h>

#include "mf_mpi.h"

mf_status mf_mpi_status(int code, const char *file, int line, const char *func, const char *call) {
    if (code == MPI_SUCCESS) return MF_OK;
    char text[MPI_MAX_ERROR_STRING] = "";
    int length = 0;
    if (MPI_Error_string(code, text, &length) != MPI_SUCCESS)
        snprintf(text, sizeof text, "MPI error code %d", code);
    return mf_error_set(MF_ERR_MPI, file, line, func, "%s failed: %s", call, text);
}

mf_status mf_mpi_agree(mf_status status, MPI_Comm comm) {
    int rank, size;
    MF_CHECK_MPI(MPI_Comm_rank(comm, &rank));
    MF_CHECK_MPI(MPI_Comm_size(comm, &size));
    int mine = status != MF_OK ? rank : size;
    int first_failed = size;
    MF_CHECK_MPI(MPI_Allreduce(&mine, &first_failed, 1, MPI_INT, MPI_MIN, comm));
    if (first_failed == size) return MF_OK;
    int code = (int)status;
    MF_CHECK_MPI(MPI_Bcast(&code, 1, MPI_INT, first_failed, comm));
    char message[2048];
    snprintf(message, sizeof message, "%s", mf_error_message());
    MF_CHECK_MPI(MPI_Bcast(message, sizeof message, MPI_CHAR, first_failed, comm));
    if (rank != first_failed) {
        if (first_failed == 0)
            mf_error_set((mf_status)code, __FILE__, __LINE__, __func__, "%s", message);
        else
            mf_error_set((mf_status)code, __FILE__, __LINE__, __func__, "rank %d: %s", first_failed,
                         message);
    }
    return (mf_status)code;
}
