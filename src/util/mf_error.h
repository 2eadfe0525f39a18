/* One error path for the whole library: functions return an mf_status; the first failure
 * records a message with file, line and function, and every MF_CHECK on the way up adds a
 * traceback frame. The CLI prints the message once and exits with the status's exit code. */
#ifndef MF_ERROR_H
#define MF_ERROR_H

#include <stddef.h>

#include "marginfall.h" /* mf_status and the public error functions */

/* Record the first error of a failure chain (printf-style). Returns status for chaining. */
mf_status mf_error_set(mf_status status, const char *file, int line, const char *func,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Append one traceback frame (called by MF_CHECK when a callee failed). */
void mf_error_push_frame(const char *file, int line, const char *func);

#define MF_FAIL(status, ...) mf_error_set((status), __FILE__, __LINE__, __func__, __VA_ARGS__)

/* Evaluate an mf_status expression; on failure add a frame and return the status. */
#define MF_CHECK(expr)                                                                             \
    do {                                                                                           \
        mf_status mf_check_status_ = (expr);                                                       \
        if (mf_check_status_ != MF_OK) {                                                           \
            mf_error_push_frame(__FILE__, __LINE__, __func__);                                     \
            return mf_check_status_;                                                               \
        }                                                                                          \
    } while (0)

/* Like MF_CHECK but jumps to a cleanup label, storing the status in `var`. */
#define MF_CHECK_GOTO(expr, var, label)                                                            \
    do {                                                                                           \
        (var) = (expr);                                                                            \
        if ((var) != MF_OK) {                                                                      \
            mf_error_push_frame(__FILE__, __LINE__, __func__);                                     \
            goto label;                                                                            \
        }                                                                                          \
    } while (0)

/* MPI: the communicators marginfall uses return errors (MPI_ERRORS_RETURN, set by mf_run
 * and the command line) instead of aborting, and every MPI call's code is checked. A code
 * other than MPI_SUCCESS (0) becomes MF_ERR_MPI with MPI's error string, the call's text and
 * its file and line. MF_MPI(call) is the mf_status of the call; MF_CHECK_MPI(call) returns
 * from the function on failure. Collective failures stay collective: every rank of a failed
 * collective sees an error code, and the run's agree() makes every rank stop together. */
#define MF_MPI(call) mf_mpi_status((call), __FILE__, __LINE__, __func__, #call)
#define MF_CHECK_MPI(call) MF_CHECK(MF_MPI(call))

/* Allocation that records where it failed. */
#define MF_ALLOC(ptr, count)                                                                       \
    do {                                                                                           \
        size_t mf_alloc_n_ = (size_t)(count);                                                      \
        (ptr) = calloc(mf_alloc_n_ ? mf_alloc_n_ : 1, sizeof(*(ptr)));                             \
        if (!(ptr))                                                                                \
            return MF_FAIL(MF_ERR_MEMORY, "out of memory allocating %zu x %zu bytes", mf_alloc_n_, \
                           sizeof(*(ptr)));                                                        \
    } while (0)

/* The same for the arrays that scale with the book (store, event index, per-path states): on
 * Linux they are aligned to 2 MiB and advised onto transparent huge pages, because a margin
 * check reads a few scattered accounts of a book of up to 10^7 and would otherwise miss the TLB
 * on nearly every access. Zeroed like calloc, released with free(). */
void *mf_calloc_large(size_t count, size_t size);
/* Large blocks (1 MiB and more) are mapped and unmapped by malloc, so that memory a heavy path
 * frees goes back to the system instead of staying in the heap (glibc; a no-op elsewhere). */
void mf_memory_return_large_frees(void);
#define MF_ALLOC_LARGE(ptr, count)                                                                 \
    do {                                                                                           \
        size_t mf_alloc_n_ = (size_t)(count);                                                      \
        (ptr) = mf_calloc_large(mf_alloc_n_, sizeof(*(ptr)));                                      \
        if (!(ptr))                                                                                \
            return MF_FAIL(MF_ERR_MEMORY, "out of memory allocating %zu x %zu bytes", mf_alloc_n_, \
                           sizeof(*(ptr)));                                                        \
    } while (0)

#endif
