#include "mf_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Errors are recorded per thread: OpenMP workers never share a failure chain. */
static _Thread_local mf_status current_status = MF_OK;
static _Thread_local char current_message[2048];
static _Thread_local char current_traceback[4096];

mf_status mf_error_set(mf_status status, const char *file, int line, const char *func,
                       const char *fmt, ...) {
    current_status = status;
    va_list args;
    va_start(args, fmt);
    vsnprintf(current_message, sizeof current_message, fmt, args);
    va_end(args);
    snprintf(current_traceback, sizeof current_traceback, "  at %s (%s:%d)\n", func, file, line);
    return status;
}

void mf_error_push_frame(const char *file, int line, const char *func) {
    size_t used = strlen(current_traceback);
    if (used + 1 < sizeof current_traceback)
        snprintf(current_traceback + used, sizeof current_traceback - used, "  from %s (%s:%d)\n",
                 func, file, line);
}

const char *mf_error_message(void) {
    return current_message;
}
const char *mf_error_traceback(void) {
    return current_traceback;
}
mf_status mf_error_status(void) {
    return current_status;
}

void mf_error_clear(void) {
    current_status = MF_OK;
    current_message[0] = '\0';
    current_traceback[0] = '\0';
}

const char *mf_status_name(mf_status status) {
    switch (status) {
    case MF_OK:
        return "ok";
    case MF_ERR_USAGE:
        return "usage error";
    case MF_ERR_CONFIG:
        return "config error";
    case MF_ERR_INPUT:
        return "input error";
    case MF_ERR_OUTPUT:
        return "output error";
    case MF_ERR_MEMORY:
        return "out of memory";
    case MF_ERR_MPI:
        return "MPI error";
    case MF_ERR_INTERNAL:
        return "internal error";
    case MF_ERR_INTERRUPTED:
        return "interrupted";
    case MF_ERR_NUMERIC:
        return "numeric error";
    }
    return "unknown error";
}
