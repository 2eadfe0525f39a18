/* marginfall's C API: the one public header for tools, the command line (src/cli/main.c) and
 * the Python package. Everything a caller needs to run a scenario, check a config, read and
 * merge result files and save or check a population snapshot is declared here; the layers'
 * own headers (under src/) are internal and may change between versions.
 *
 * Conventions
 * - Every function that can fail returns an mf_status. MF_OK (0) is success; any other value
 *   names the kind of failure, and mf_error_message() holds a one-line message (the first
 *   failure of the chain, with file names, keys and values) for the calling thread, and
 *   mf_error_traceback() the frames it came through. The command line exits with the status.
 * - Functions are thread-safe in the sense that errors are recorded per thread; a run uses
 *   OpenMP itself, so do not start two runs at once in one process.
 * - MPI: mf_run is collective over the communicator it is given (MPI must be initialised with
 *   at least MPI_THREAD_FUNNELED); it sets MPI_ERRORS_RETURN on it so that MPI failures come
 *   back as MF_ERR_MPI on every rank instead of aborting. Every other function is serial and
 *   may be called on one rank (rank 0) only, or without MPI for the file functions.
 * - Strings returned through `char **` are allocated with malloc: release them with mf_free.
 */
#ifndef MARGINFALL_H
#define MARGINFALL_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors -------------------------------------------------------------------------- */

/* What went wrong; also the command line's exit code. */
typedef enum {
    MF_OK = 0,
    MF_ERR_USAGE = 1,       /* bad command line or bad arguments to an API call */
    MF_ERR_CONFIG = 2,      /* config file: syntax, unknown key, wrong type, impossible value */
    MF_ERR_INPUT = 3,       /* unreadable replay or population file, or a result file for info */
    MF_ERR_OUTPUT = 4,      /* output exists (no force) or cannot be written */
    MF_ERR_MEMORY = 5,      /* allocation failed */
    MF_ERR_MPI = 6,         /* an MPI call failed */
    MF_ERR_INTERNAL = 7,    /* a broken invariant: a bug */
    MF_ERR_INTERRUPTED = 8, /* stopped by SIGTERM/SIGINT after a checkpoint: rerun with --resume */
    MF_ERR_NUMERIC = 9,     /* a path's results became non-finite (message: path, step, value) */
} mf_status;

/* The message of the calling thread's last error ("" when none). */
const char *mf_error_message(void);
/* Its traceback, one frame per line, innermost first ("" when none). */
const char *mf_error_traceback(void);
/* Its status (MF_OK when none). */
mf_status mf_error_status(void);
/* Forget the calling thread's error. */
void mf_error_clear(void);
/* The status in words for messages: "ok", "config error", "out of memory"... */
const char *mf_status_name(mf_status status);
/* An MPI return code as a status: MF_OK for MPI_SUCCESS, else MF_ERR_MPI with MPI's error
 * string and `call` (the call's text) in the message, recorded at file:line in func. */
mf_status mf_mpi_status(int code, const char *file, int line, const char *func, const char *call);

/* ---- version ------------------------------------------------------------------------- */

/* The engine version, "0.1.0". */
const char *mf_version(void);
/* The build: "commit 1a2b3c4d5e6f, GNU 12.2.0, Release". */
const char *mf_build_description(void);

/* Release a string or array the API returned. */
void mf_free(void *pointer);

/* ---- configs ------------------------------------------------------------------------- */

/* Load the YAML config at `path` with the "key=value" overrides applied (as `--set`) and
 * check every value and cross-field rule (docs/config.md). On success, *resolved_yaml (when
 * not NULL) receives the fully resolved config (every key, defaults included; mf_free it) and
 * *n_points (when not NULL) the number of sweep points (1 without a sweep). Fails with
 * MF_ERR_CONFIG and a message naming the key and the value. */
mf_status mf_config_check(const char *path, const char *const *overrides, int n_overrides,
                          char **resolved_yaml, int64_t *n_points);

/* The config schema, every key with its type, unit, default, bounds, allowed names, doc and
 * source, as text: format "markdown" (the key tables of docs/config.md) or "json" (an array
 * of rows, for tools and the Python package). *text is the caller's (mf_free it).
 * `marginfall schema` prints it. */
mf_status mf_config_schema_text(const char *format, char **text);

/* ---- runs ---------------------------------------------------------------------------- */

typedef struct {
    const char *config_path;
    const char *output_path; /* NULL: <config stem>.h5 in the current directory */
    int64_t paths;           /* > 0 overrides run.paths */
    int has_seed;
    uint64_t seed;                /* overrides run.seed when has_seed */
    const char *const *overrides; /* "key=value" */
    int n_overrides;
    int force;
    int quiet;
    const char *command_line;
    /* Which points of a sweep: [points_first, points_stop) when points_stop > 0, or part
     * part_index of part_count near-equal contiguous parts when part_count > 0. */
    int64_t points_first, points_stop;
    int64_t part_index, part_count;
    int resume;                 /* continue from OUTPUT.checkpoint/ if it exists */
    double checkpoint_interval; /* seconds between checkpoints; 0 = only when stopped */
} mf_run_options;

/* `marginfall run`: config -> population -> paths on every rank -> reduction -> HDF5 file
 * (docs/output.md). Collective over comm. Progress goes to stderr and the summary, with the
 * verification digest, to `summary` (rank 0 only; NULL for none). On failure every rank
 * returns the same status and rank 0 holds the message. MF_ERR_INTERRUPTED: SIGTERM or SIGINT
 * stopped the run after a checkpoint; the same options with resume = 1 continue it. */
mf_status mf_run(const mf_run_options *options, MPI_Comm comm, FILE *summary);

/* ---- result files -------------------------------------------------------------------- */

/* Length of a verification digest's text: 16 lower-case hex digits and the NUL. */
#define MF_DIGEST_TEXT_LEN 17

/* The verification digest of a result file (its root attribute `verification_digest`, the
 * figure a run prints at the end): equal digests mean bit-identical results. Fails with
 * MF_ERR_INPUT when the file is not a marginfall result file or has no valid digest. */
mf_status mf_result_digest(const char *path, char digest[MF_DIGEST_TEXT_LEN]);

/* `marginfall info FILE`: print a readable summary of a result file to `out`. */
mf_status mf_output_info(const char *path, FILE *out);
/* The same file in another form: "text" (mf_output_info), "table" (one line per point with
 * the headline figures and their 95% intervals), "csv" (those figures as raw numbers, a column
 * per swept key) or "json" (every point's figures). */
mf_status mf_output_info_format(const char *path, const char *format, FILE *out);

/* `marginfall merge OUT IN...`: combine part files of one sweep (from --points or
 * --points-part) into OUT. Refuses inputs whose format version, engine version, resolved
 * config (hence seed, paths and sweep) differ, points present in two inputs, and (unless
 * allow_gaps) points of the sweep present in none; writes nothing then. Point groups and the
 * sweep table are copied unchanged, so OUT's datasets equal a single job's bit for bit.
 * command_line is stored as OUT's provenance (may be ""). */
mf_status mf_output_merge(const char *output_path, const char *const *inputs, int n_inputs,
                          int force, int allow_gaps, const char *command_line);

/* ---- population snapshots ------------------------------------------------------------ */

/* `marginfall population CONFIG -o FILE`: generate the config's population (the base config
 * of a sweep) and save it as an HDF5 snapshot (docs/output.md); a summary of its size and open
 * interest goes to `summary` (NULL for none). An existing file is replaced only with force. */
mf_status mf_save_population(const char *config_path, const char *const *overrides, int n_overrides,
                             const char *output_path, int force, FILE *summary);

/* Load the snapshot at population_path as a run of the config would (population.file), with
 * every check of the file against the config's assets and venue, and report its size. */
mf_status mf_population_check(const char *config_path, const char *const *overrides,
                              int n_overrides, const char *population_path, int64_t *accounts,
                              int64_t *positions);

#ifdef __cplusplus
}
#endif

#endif
