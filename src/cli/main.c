/* marginfall: the command line. Parses arguments and calls the library through its public
 * C API (include/marginfall.h) only; nothing else. */
#include <getopt.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "marginfall.h"

/* An MPI call's return code as an mf_status (MF_ERR_MPI with MPI's message on failure). */
#define CLI_MPI(call) mf_mpi_status((call), __FILE__, __LINE__, __func__, #call)

static const char usage_text[] =
    "Usage:\n"
    "  marginfall run CONFIG [-o FILE] [--paths N] [--seed S] [--set KEY=VALUE]...\n"
    "                        [--points START:STOP | --points-part I/N] [--resume]\n"
    "                        [--checkpoint-interval SECONDS] [--force] [--quiet]\n"
    "  marginfall merge OUT IN... [--allow-gaps] [--force]\n"
    "  marginfall info FILE [--format text|table|csv|json]\n"
    "  marginfall population CONFIG -o FILE [--set KEY=VALUE]... [--force]\n"
    "  marginfall schema [--format markdown|json]\n"
    "  marginfall --help | --version\n";

static const char help_text[] =
    "\n"
    "Monte Carlo engine for liquidation cascades on crypto derivatives venues: simulates\n"
    "correlated price paths, margin checks and forced liquidations that move the price, and\n"
    "writes cascade-size distributions and tail statistics to an HDF5 file.\n"
    "\n"
    "Commands:\n"
    "  run CONFIG        Simulate the scenario in the YAML file CONFIG. Run it under\n"
    "                    mpirun/srun for several ranks; set OMP_NUM_THREADS for threads.\n"
    "                    Results are bit-identical for any number of ranks and threads.\n"
    "  merge OUT IN...   Combine the part files of one sweep (--points, --points-part)\n"
    "                    into OUT; the result equals a single job's, bit for bit.\n"
    "  info FILE         Print a readable summary of a result file; --format table (one\n"
    "                    line per sweep point), csv or json for a compact or\n"
    "                    machine-readable view (text, the full summary, is the default).\n"
    "  population CONFIG Generate the scenario's account population and save it as HDF5\n"
    "                    (load it back with population.file in a config).\n"
    "  schema            Print the config schema: every key with its type, unit, default,\n"
    "                    bounds, allowed names, meaning and source. --format markdown (the\n"
    "                    key tables of docs/config.md, the default) or --format json.\n"
    "\n"
    "Options for run:\n"
    "  -o, --output FILE   Result file (default: CONFIG's name with .h5 in the current\n"
    "                      directory, or NAME-2.h5, NAME-3.h5, ... if taken; with --resume\n"
    "                      the first of them holding a checkpoint, else NAME.h5). Written\n"
    "                      under a temporary name, renamed when done.\n"
    "  -n, --paths N       Number of paths (overrides run.paths).\n"
    "  -s, --seed S        Random seed (overrides run.seed).\n"
    "  -S, --set KEY=VALUE Override any config key, with the same checks as the file:\n"
    "                      --set venue.max_leverage=50  --set market.assets.0.volatility=0.8\n"
    "                      --set venue.markets.BTC.depth_usd=1e7 (list items by index or name)\n"
    "  --points START:STOP Run only points START..STOP-1 of the config's sweep (or one\n"
    "                      point: --points 3).\n"
    "  --points-part I/N   Run part I (0-based) of N near-equal contiguous parts of the sweep:\n"
    "                      --points-part ${SLURM_ARRAY_TASK_ID}/${SLURM_ARRAY_TASK_COUNT}\n"
    "  --resume            Continue from FILE.checkpoint/ if an interrupted run left one\n"
    "                      (starts afresh if none; does nothing if FILE is complete).\n"
    "  --checkpoint-interval SECONDS\n"
    "                      Write FILE.checkpoint/ this often (default 300; 0 = only on\n"
    "                      SIGTERM). SIGTERM (Slurm pre-emption) or Ctrl-C (SIGINT) writes a\n"
    "                      checkpoint and exits 8; a second Ctrl-C stops at once.\n"
    "  -f, --force         Replace an existing output file (or discard a checkpoint).\n"
    "  -q, --quiet         No progress or summary; print only the output file name.\n"
    "\n"
    "Exit status:\n"
    "  0 success; 1 usage error; 2 config error; 3 unreadable input (replay, population or\n"
    "  result file); 4 output error (file exists without --force, or cannot be written);\n"
    "  5 out of memory; 6 MPI error; 7 internal error (a bug: please report it);\n"
    "  8 stopped by SIGTERM or SIGINT after writing a checkpoint (rerun with --resume);\n"
    "  9 numeric error (a path's results stopped being finite numbers: the message names the\n"
    "  path and the step; the scenario is too extreme for double precision).\n"
    "\n"
    "Options for merge:\n"
    "  --allow-gaps        Merge even if some points of the sweep are in no input.\n"
    "  -f, --force         Replace an existing OUT.\n"
    "\n"
    "Documentation: docs/config.md (every key), docs/model.md, docs/output.md.\n";

static int fail(mf_status status, int rank) {
    if (rank == 0) {
        fprintf(stderr, "marginfall: %s: %s\n", mf_status_name(status), mf_error_message());
        if (getenv("MARGINFALL_TRACEBACK")) fprintf(stderr, "%s", mf_error_traceback());
    }
    return (int)status;
}

static int usage_error(const char *message, int rank) {
    if (rank == 0) fprintf(stderr, "marginfall: %s\n%s", message, usage_text);
    return MF_ERR_USAGE;
}

static int parse_count(const char *text, int64_t *value) {
    char *end = NULL;
    long long parsed = strtoll(text, &end, 10);
    if (!*text || *end || parsed <= 0) return 0;
    *value = parsed;
    return 1;
}

/* "START:STOP" (half-open) or a single point "I". */
static int parse_points(const char *text, int64_t *first, int64_t *stop) {
    char *end = NULL;
    long long a = strtoll(text, &end, 10);
    if (end == text || a < 0) return 0;
    if (*end == '\0') {
        *first = a;
        *stop = a + 1;
        return 1;
    }
    if (*end != ':') return 0;
    const char *second = end + 1;
    long long b = strtoll(second, &end, 10);
    if (end == second || *end || b <= a) return 0;
    *first = a;
    *stop = b;
    return 1;
}

/* "I/N" with 0 <= I < N. */
static int parse_part(const char *text, int64_t *index, int64_t *count) {
    char *end = NULL;
    long long i = strtoll(text, &end, 10);
    if (end == text || *end != '/' || i < 0) return 0;
    const char *second = end + 1;
    long long n = strtoll(second, &end, 10);
    if (end == second || *end || n < 1 || i >= n) return 0;
    *index = i;
    *count = n;
    return 1;
}

static int parse_seconds(const char *text, double *value) {
    char *end = NULL;
    double parsed = strtod(text, &end);
    if (end == text || *end || !(parsed >= 0) || parsed > 1e9) return 0;
    *value = parsed;
    return 1;
}

static int parse_seed(const char *text, uint64_t *value) {
    char *end = NULL;
    if (!*text || *text == '-') return 0;
    unsigned long long parsed = strtoull(text, &end, 10);
    if (*end) return 0;
    *value = parsed;
    return 1;
}

/* marginfall schema [--format markdown|json] */
static int print_schema(int argc, char **argv, int rank) {
    const char *format = "markdown";
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--format") && i + 1 < argc) {
            format = argv[++i];
        } else if (!strncmp(argv[i], "--format=", 9)) {
            format = argv[i] + 9;
        } else {
            char message[256];
            snprintf(message, sizeof message, "schema: unexpected argument '%.200s'", argv[i]);
            return usage_error(message, rank);
        }
    }
    if (strcmp(format, "markdown") && strcmp(format, "json")) {
        char message[256];
        snprintf(message, sizeof message, "schema: --format is markdown or json, not '%.200s'",
                 format);
        return usage_error(message, rank);
    }
    char *text = NULL;
    mf_status status = mf_config_schema_text(format, &text);
    if (status != MF_OK) return fail(status, rank);
    if (rank == 0) fputs(text, stdout);
    free(text);
    return 0;
}

/* marginfall info FILE [--format text|table|csv|json] */
static int print_info(int argc, char **argv, int rank) {
    const char *format = "text", *file = NULL;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--format") && i + 1 < argc) {
            format = argv[++i];
        } else if (!strncmp(argv[i], "--format=", 9)) {
            format = argv[i] + 9;
        } else if (argv[i][0] != '-' && !file) {
            file = argv[i];
        } else {
            char message[256];
            snprintf(message, sizeof message, "info: unexpected argument '%.200s'", argv[i]);
            return usage_error(message, rank);
        }
    }
    if (!file) return usage_error("info: missing FILE argument", rank);
    if (strcmp(format, "text") && strcmp(format, "table") && strcmp(format, "csv") &&
        strcmp(format, "json")) {
        char message[256];
        snprintf(message, sizeof message,
                 "info: --format is text, table, csv or json, not '%.200s'", format);
        return usage_error(message, rank);
    }
    if (rank != 0) return 0;
    mf_status status = mf_output_info_format(file, format, stdout);
    return status != MF_OK ? fail(status, rank) : 0;
}

/* Started without a launcher (no mpirun, srun or PMI environment), Open MPI's singleton
 * start forks a runtime daemon and probes every network transport: about 0.3 s before the
 * first step, more than a small run's whole simulation. A singleton has no peers, so it is
 * started isolated, with only the loopback transport (0.02 s). Isolated singletons all use the
 * same job id, hence the same session directory: concurrent ones would race to create and
 * remove it, so each gets a private base directory, removed at exit. Settings the user made
 * win. */
static char singleton_tmpdir[4096];

static void remove_singleton_tmpdir(void) {
    if (singleton_tmpdir[0]) rmdir(singleton_tmpdir); /* Open MPI empties it at finalize */
}

static void prefer_fast_singleton(void) {
    static const char *const launched[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK",
                                           "PMI_SIZE", "OMPI_MCA_orte_ess_num_procs"};
    for (size_t i = 0; i < sizeof launched / sizeof launched[0]; i++)
        if (getenv(launched[i])) return;
    if (getenv("OMPI_MCA_ess_singleton_isolated") || getenv("OMPI_MCA_orte_tmpdir_base")) return;
    const char *base = getenv("TMPDIR");
    if (!base || !base[0]) base = "/tmp";
    const int n = snprintf(singleton_tmpdir, sizeof singleton_tmpdir, "%s/marginfall-XXXXXX", base);
    if (n <= 0 || (size_t)n >= sizeof singleton_tmpdir || !mkdtemp(singleton_tmpdir)) {
        singleton_tmpdir[0] = '\0';
        return; /* the usual (slower) singleton start */
    }
    atexit(remove_singleton_tmpdir);
    setenv("OMPI_MCA_orte_tmpdir_base", singleton_tmpdir, 1);
    setenv("OMPI_MCA_ess_singleton_isolated", "1", 1);
    setenv("OMPI_MCA_pml", "ob1", 0);
    setenv("OMPI_MCA_btl", "self", 0);
}

int main(int argc, char **argv) {
    int provided = 0;
    prefer_fast_singleton();
    mf_status started = CLI_MPI(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided));
    if (started != MF_OK) return fail(started, 0); /* MPI is not usable: nothing to finalize */
    int rank = 0;
    /* MPI failures come back as codes rather than aborting every rank. */
    started = CLI_MPI(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    if (started == MF_OK) started = CLI_MPI(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    int code = started != MF_OK ? fail(started, 0) : 0;
    if (code) goto done;

    if (argc < 2) {
        code = usage_error("no command given", rank);
        goto done;
    }
    const char *command = argv[1];
    if (!strcmp(command, "--help") || !strcmp(command, "-h") || !strcmp(command, "help")) {
        if (rank == 0) printf("marginfall %s\n\n%s%s", mf_version(), usage_text, help_text);
        goto done;
    }
    if (!strcmp(command, "--version")) {
        if (rank == 0) printf("marginfall %s (%s)\n", mf_version(), mf_build_description());
        goto done;
    }

    if (!strcmp(command, "schema")) {
        code = print_schema(argc, argv, rank);
        goto done;
    }
    if (!strcmp(command, "info")) {
        code = print_info(argc, argv, rank);
        goto done;
    }

    if (strcmp(command, "run") && strcmp(command, "info") && strcmp(command, "population") &&
        strcmp(command, "merge")) {
        char message[256];
        snprintf(message, sizeof message, "unknown command '%s'", command);
        code = usage_error(message, rank);
        goto done;
    }

    mf_run_options options;
    memset(&options, 0, sizeof options);
    const char **overrides = calloc((size_t)argc, sizeof *overrides);
    size_t line_length = 1;
    for (int i = 0; i < argc; i++)
        line_length += strlen(argv[i]) + 1;
    char *command_line = calloc(line_length, 1);
    if (!overrides || !command_line) {
        if (rank == 0) fprintf(stderr, "marginfall: %s\n", mf_status_name(MF_ERR_MEMORY));
        code = MF_ERR_MEMORY;
        goto cleanup;
    }
    for (int i = 0; i < argc; i++) {
        if (i) strcat(command_line, " ");
        strcat(command_line, argv[i]);
    }

    static const struct option long_options[] = {
        {"output", required_argument, NULL, 'o'},
        {"paths", required_argument, NULL, 'n'},
        {"seed", required_argument, NULL, 's'},
        {"set", required_argument, NULL, 'S'},
        {"force", no_argument, NULL, 'f'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"points", required_argument, NULL, 'P'},
        {"points-part", required_argument, NULL, 'A'},
        {"resume", no_argument, NULL, 'R'},
        {"checkpoint-interval", required_argument, NULL, 'C'},
        {"allow-gaps", no_argument, NULL, 'G'},
        {NULL, 0, NULL, 0}};
    options.checkpoint_interval = 300;
    int allow_gaps = 0;
    optind = 2;
    opterr = 0;
    int option;
    while ((option = getopt_long(argc, argv, "o:n:s:S:fqh", long_options, NULL)) != -1) {
        switch (option) {
        case 'o':
            options.output_path = optarg;
            break;
        case 'n':
            if (!parse_count(optarg, &options.paths)) {
                code = usage_error("--paths needs a positive integer", rank);
                goto cleanup;
            }
            break;
        case 's':
            if (!parse_seed(optarg, &options.seed)) {
                code = usage_error("--seed needs a non-negative integer", rank);
                goto cleanup;
            }
            options.has_seed = 1;
            break;
        case 'S':
            if (!strchr(optarg, '=')) {
                code = usage_error("--set needs KEY=VALUE", rank);
                goto cleanup;
            }
            overrides[options.n_overrides++] = optarg;
            break;
        case 'P':
            if (!parse_points(optarg, &options.points_first, &options.points_stop)) {
                code =
                    usage_error("--points needs START:STOP (0 <= START < STOP) or one point", rank);
                goto cleanup;
            }
            break;
        case 'A':
            if (!parse_part(optarg, &options.part_index, &options.part_count)) {
                code = usage_error("--points-part needs I/N with 0 <= I < N", rank);
                goto cleanup;
            }
            break;
        case 'R':
            options.resume = 1;
            break;
        case 'C':
            if (!parse_seconds(optarg, &options.checkpoint_interval)) {
                code = usage_error("--checkpoint-interval needs a number of seconds >= 0", rank);
                goto cleanup;
            }
            break;
        case 'G':
            allow_gaps = 1;
            break;
        case 'f':
            options.force = 1;
            break;
        case 'q':
            options.quiet = 1;
            break;
        case 'h':
            if (rank == 0) printf("%s%s", usage_text, help_text);
            goto cleanup;
        default: {
            char message[256];
            snprintf(message, sizeof message, "unknown or incomplete option '%s'",
                     argv[optind - 1]);
            code = usage_error(message, rank);
            goto cleanup;
        }
        }
    }
    if (options.points_stop > 0 && options.part_count > 0) {
        code = usage_error("--points and --points-part exclude each other", rank);
        goto cleanup;
    }
    if (!strcmp(command, "merge")) {
        if (argc - optind < 2) {
            code = usage_error("merge needs OUT and at least one IN file", rank);
        } else if (rank == 0) {
            mf_status status =
                mf_output_merge(argv[optind], (const char *const *)&argv[optind + 1],
                                argc - optind - 1, options.force, allow_gaps, command_line);
            if (status != MF_OK)
                code = fail(status, rank);
            else
                printf("Wrote %s from %d file%s\n", argv[optind], argc - optind - 1,
                       argc - optind - 1 == 1 ? "" : "s");
        }
        goto cleanup;
    }
    if (optind != argc - 1) {
        code = usage_error(
            optind >= argc ? "missing CONFIG or FILE argument" : "too many arguments", rank);
        goto cleanup;
    }
    const char *target = argv[optind];

    if (!strcmp(command, "run")) {
        options.config_path = target;
        options.overrides = overrides;
        options.command_line = command_line;
        mf_status status = mf_run(&options, MPI_COMM_WORLD, stdout);
        if (status != MF_OK) code = fail(status, rank);
    } else if (!strcmp(command, "info")) {
        if (rank == 0) {
            mf_status status = mf_output_info(target, stdout);
            if (status != MF_OK) code = fail(status, rank);
        }
    } else { /* population */
        if (!options.output_path) {
            code = usage_error("population needs -o FILE", rank);
        } else if (rank == 0) {
            mf_status status = mf_save_population(target, overrides, options.n_overrides,
                                                  options.output_path, options.force, stdout);
            if (status != MF_OK) code = fail(status, rank);
        }
    }

cleanup:
    free(overrides);
    free(command_line);
done:;
    const mf_status finalized = CLI_MPI(MPI_Finalize());
    if (finalized != MF_OK && code == 0) code = fail(finalized, rank);
    return code;
}
