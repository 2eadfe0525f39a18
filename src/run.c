#include "run.h"

#include <libgen.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "mf_version.h"
#include "output.h"
#include "reduction.h"
#include "simulate.h"
#include "store.h"

void mf_format_usd(double value, char *text, size_t size) {
    const double magnitude = fabs(value);
    if (!isfinite(value))
        snprintf(text, size, "%s", isnan(value) ? "n/a" : (value > 0 ? "inf" : "-inf"));
    else if (magnitude >= 1e12)
        snprintf(text, size, "$%.2fT", value / 1e12);
    else if (magnitude >= 1e9)
        snprintf(text, size, "$%.2fB", value / 1e9);
    else if (magnitude >= 1e6)
        snprintf(text, size, "$%.2fM", value / 1e6);
    else if (magnitude >= 1e3)
        snprintf(text, size, "$%.1fk", value / 1e3);
    else
        snprintf(text, size, "$%.0f", value);
}

/* Every rank learns whether any rank failed; the lowest failing rank's message is copied to
 * every rank, so rank 0 can print it. */
static mf_status agree(mf_status status, MPI_Comm comm) {
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    int mine = status != MF_OK ? rank : size;
    int first_failed = size;
    MPI_Allreduce(&mine, &first_failed, 1, MPI_INT, MPI_MIN, comm);
    if (first_failed == size) return MF_OK;
    int code = (int)status;
    MPI_Bcast(&code, 1, MPI_INT, first_failed, comm);
    char message[2048];
    snprintf(message, sizeof message, "%s", mf_error_message());
    MPI_Bcast(message, sizeof message, MPI_CHAR, first_failed, comm);
    if (rank != first_failed) {
        if (first_failed == 0)
            mf_error_set((mf_status)code, __FILE__, __LINE__, __func__, "%s", message);
        else
            mf_error_set((mf_status)code, __FILE__, __LINE__, __func__, "rank %d: %s",
                         first_failed, message);
    }
    return (mf_status)code;
}

static void default_output_path(const char *config_path, char *out, size_t size) {
    char copy[MF_PATH_LEN];
    snprintf(copy, sizeof copy, "%s", config_path);
    char *name = basename(copy);
    char *dot = strrchr(name, '.');
    if (dot && dot != name) *dot = '\0';
    snprintf(out, size, "%s.h5", name);
}

/* Rank 0 loads and validates the config (with the command line's overrides); the other
 * ranks parse the resolved text it broadcasts, so every rank runs the same scenario. */
static mf_status load_config(const mf_run_options *options, MPI_Comm comm, mf_config *config) {
    int rank;
    MPI_Comm_rank(comm, &rank);
    mf_status status = MF_OK;
    char *text = NULL;
    int64_t length = 0;
    if (rank == 0) {
        const int n = options->n_overrides + 2;
        const char **overrides = calloc((size_t)n, sizeof *overrides);
        char paths_override[64], seed_override[64];
        int count = 0;
        if (!overrides) {
            status = MF_FAIL(MF_ERR_MEMORY, "out of memory");
        } else {
            for (int i = 0; i < options->n_overrides; i++) overrides[count++] = options->overrides[i];
            if (options->paths > 0) {
                snprintf(paths_override, sizeof paths_override, "run.paths=%lld",
                         (long long)options->paths);
                overrides[count++] = paths_override;
            }
            if (options->has_seed) {
                snprintf(seed_override, sizeof seed_override, "run.seed=%llu",
                         (unsigned long long)options->seed);
                overrides[count++] = seed_override;
            }
            status = mf_config_load(config, options->config_path, overrides, count);
            free(overrides);
        }
        if (status == MF_OK) status = mf_config_to_yaml(config, &text);
        if (status == MF_OK) length = (int64_t)strlen(text) + 1;
    }
    status = agree(status, comm);
    if (status != MF_OK) {
        free(text);
        return status;
    }
    MPI_Bcast(&length, 1, MPI_INT64_T, 0, comm);
    if (rank != 0) {
        text = malloc((size_t)length);
        if (!text) status = MF_FAIL(MF_ERR_MEMORY, "out of memory");
    }
    status = agree(status, comm);
    if (status != MF_OK) return status;
    MPI_Bcast(text, (int)length, MPI_CHAR, 0, comm);
    if (rank != 0) {
        status = mf_config_load_string(config, text, options->config_path, NULL, 0);
        if (status == MF_OK)
            snprintf(config->source_file, sizeof config->source_file, "%s", options->config_path);
    }
    free(text);
    return agree(status, comm);
}

typedef struct {
    double start;
    double last_print;
    int tty;
    int quiet;
} progress;

/* Monotonic seconds; not MPI_Wtime, which worker threads may not call (MPI_THREAD_FUNNELED). */
static double now_seconds(void) {
    struct timespec time;
    clock_gettime(CLOCK_MONOTONIC, &time);
    return (double)time.tv_sec + 1e-9 * (double)time.tv_nsec;
}

static void progress_report(progress *state, int64_t done, int64_t total, int final) {
    if (state->quiet) return;
    const double now = now_seconds();
    const double interval = state->tty ? 0.5 : 10.0;
    if (!final && now - state->last_print < interval) return;
    state->last_print = now;
    const double elapsed = now - state->start;
    const double rate = elapsed > 0 ? (double)done / elapsed : 0;
    const double eta = rate > 0 ? (double)(total - done) / rate : 0;
    fprintf(stderr, "%s  [%3.0f%%] %lld/%lld paths  %.1f paths/s  elapsed %.0fs  ETA %.0fs%s",
            state->tty ? "\r" : "", 100.0 * (double)done / (double)total, (long long)done,
            (long long)total, rate, elapsed, eta, state->tty && !final ? "" : "\n");
    fflush(stderr);
}

static void print_summary(FILE *out, const mf_config *config, const mf_store *store,
                          const mf_point_result *result, const char *output_path, int ranks,
                          int threads, double wall) {
    char a[32], b[32], c[32];
    const mf_metric_result *liquidated = &result->metrics[MF_METRIC_LIQUIDATED_NOTIONAL];
    const mf_metric_result *largest = &result->metrics[MF_METRIC_LARGEST_CASCADE];
    const mf_metric_result *bad_debt = &result->metrics[MF_METRIC_BAD_DEBT];
    const mf_metric_result *cascades = &result->metrics[MF_METRIC_CASCADE_NOTIONAL];
    fprintf(out, "\nmarginfall %s: %s\n", MF_VERSION_STRING, config->source_file);
    fprintf(out, "  %lld paths x %d steps of %gs, %lld accounts (%lld positions), %d assets, "
                 "venue %s\n",
            (long long)result->n_paths, result->n_steps, config->run.dt_seconds,
            (long long)store->n_accounts, (long long)store->n_positions, store->n_assets,
            config->venue.name);
    fprintf(out, "  %d rank%s x %d thread%s, %.1f s (%.1f paths/s)\n\n", ranks,
            ranks == 1 ? "" : "s", threads, threads == 1 ? "" : "s", wall,
            wall > 0 ? (double)result->n_paths / wall : 0.0);
    mf_format_usd(liquidated->mean, a, sizeof a);
    mf_format_usd(liquidated->quantiles[2], b, sizeof b);
    mf_format_usd(liquidated->quantiles[3], c, sizeof c);
    fprintf(out, "  Expected liquidated notional     %-10s (p99 %s, p99.9 %s)\n", a, b, c);
    mf_format_usd(largest->quantiles[2], a, sizeof a);
    mf_format_usd(largest->expected_shortfall[2], b, sizeof b);
    fprintf(out, "  p99 largest cascade              %-10s (ES99 %s)\n", a, b);
    fprintf(out, "  Probability of bad debt          %.2f%%\n", 100.0 * result->prob_bad_debt);
    mf_format_usd(bad_debt->mean, a, sizeof a);
    mf_format_usd(bad_debt->quantiles[2], b, sizeof b);
    fprintf(out, "    bad debt: mean %s, p99 %s\n", a, b);
    fprintf(out, "  Insurance-fund shortfall prob.   %.2f%%\n",
            100.0 * result->prob_fund_shortfall);
    fprintf(out, "  Cascades: %lld over all paths, mean %.2f per path",
            (long long)cascades->count,
            (double)cascades->count / (double)(result->n_paths ? result->n_paths : 1));
    if (cascades->count > 0) {
        mf_format_usd(cascades->quantiles[0], a, sizeof a);
        mf_format_usd(cascades->quantiles[2], b, sizeof b);
        fprintf(out, "; size p50 %s, p99 %s", a, b);
    }
    fprintf(out, "\n\n  Wrote %s  (marginfall info %s for the full table)\n", output_path,
            output_path);
}

/* A rank's blocks. With at least two blocks per thread, threads take whole blocks (one
 * parallel region for the run, each thread with its own workspace); otherwise the threads
 * share each block's margin sweeps over account chunks. Either way every block's result is
 * the same bits: where a block runs never changes what it computes. */
static mf_status simulate_local_blocks(const mf_model *model, mf_workspace *first_workspace,
                                       mf_block_result *blocks, int64_t first_block,
                                       int64_t n_local, int threads, progress *bar) {
    const int64_t paths = model->config->run.paths;
    const int64_t block_paths = model->config->run.block_paths;
    const int by_block = threads > 1 && n_local >= 2 * threads;
    const int n_workspaces = by_block ? threads : 1;
    mf_workspace *workspaces[256] = {first_workspace};
    if (n_workspaces > 256) return MF_FAIL(MF_ERR_USAGE, "at most 256 OpenMP threads per rank");
    mf_status status = MF_OK;
    for (int t = 1; t < n_workspaces && status == MF_OK; t++)
        status = mf_workspace_create(&workspaces[t], model);
    int64_t done_blocks = 0;
    int64_t failed_block = n_local;
    mf_status failed_status = MF_OK;
    char failed_message[2048] = "";
    if (status == MF_OK) {
#pragma omp parallel for schedule(dynamic, 1) if (by_block) num_threads(n_workspaces)
        for (int64_t i = 0; i < n_local; i++) {
            const int64_t block = first_block + i;
            const int64_t first_path = block * block_paths;
            const int64_t count =
                first_path + block_paths <= paths ? block_paths : paths - first_path;
            mf_workspace *workspace = workspaces[by_block ? omp_get_thread_num() : 0];
            mf_status block_status = mf_block_result_init(&blocks[i], model, first_path, count);
            if (block_status == MF_OK) block_status = mf_simulate_block(model, workspace, &blocks[i]);
#pragma omp critical(mf_block_progress)
            {
                done_blocks++;
                /* The lowest failing block's error is the one reported: deterministic. */
                if (block_status != MF_OK && i < failed_block) {
                    failed_block = i;
                    failed_status = block_status;
                    snprintf(failed_message, sizeof failed_message, "%s", mf_error_message());
                }
                /* Rank 0's share stands for everyone's: blocks are spread evenly. */
                const int64_t estimate = paths * done_blocks / n_local;
                progress_report(bar, estimate < paths ? estimate : paths, paths,
                                done_blocks == n_local);
            }
        }
    }
    for (int t = 1; t < n_workspaces; t++) mf_workspace_free(workspaces[t]);
    if (status != MF_OK) return status;
    if (failed_status != MF_OK)
        return mf_error_set(failed_status, __FILE__, __LINE__, __func__, "%s", failed_message);
    return MF_OK;
}

mf_status mf_run(const mf_run_options *options, MPI_Comm comm, FILE *summary) {
    const double start = MPI_Wtime();
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    const int threads = omp_get_max_threads();
    /* Block-level threads must not fan out again inside the margin sweeps. */
    omp_set_max_active_levels(1);

    mf_config *config = calloc(1, sizeof *config);
    if (!config) return MF_FAIL(MF_ERR_MEMORY, "out of memory");
    mf_status status = load_config(options, comm, config);
    if (status != MF_OK) {
        free(config);
        return status;
    }

    char output_path[MF_PATH_LEN];
    if (options->output_path)
        snprintf(output_path, sizeof output_path, "%s", options->output_path);
    else
        default_output_path(options->config_path, output_path, sizeof output_path);
    /* Refuse to clobber a result before doing any work. */
    if (rank == 0) status = mf_output_check_target(output_path, options->force);
    status = agree(status, comm);

    mf_store store;
    memset(&store, 0, sizeof store);
    mf_model model;
    memset(&model, 0, sizeof model);
    mf_workspace *workspace = NULL;
    mf_block_result *blocks = NULL;
    int64_t first_block = 0, n_local = 0;
    mf_point_result result;
    memset(&result, 0, sizeof result);

    if (status == MF_OK) {
        if (config->population.file[0]) {
            char resolved[2 * MF_PATH_LEN];
            const char *file = config->population.file;
            if (file[0] != '/' && config->source_file[0]) {
                char copy[MF_PATH_LEN];
                snprintf(copy, sizeof copy, "%s", config->source_file);
                snprintf(resolved, sizeof resolved, "%s/%s", dirname(copy), file);
                file = resolved;
            }
            status = mf_population_load(&store, file, config);
        } else {
            status = mf_population_generate(&store, config);
        }
    }
    status = agree(status, comm);
    if (status == MF_OK) status = mf_model_build(&model, config, &store);
    if (status == MF_OK) status = mf_workspace_create(&workspace, &model);
    status = agree(status, comm);

    const int64_t paths = config->run.paths;
    const int64_t block_paths = config->run.block_paths;
    const int64_t n_blocks = (paths + block_paths - 1) / block_paths;
    if (status == MF_OK) {
        first_block = n_blocks * rank / size;
        n_local = n_blocks * (rank + 1) / size - first_block;
        blocks = calloc((size_t)(n_local ? n_local : 1), sizeof *blocks);
        if (!blocks) status = MF_FAIL(MF_ERR_MEMORY, "out of memory");
        if (rank == 0 && !options->quiet) {
            fprintf(stderr,
                    "marginfall %s (%s): %s, %lld paths in %lld blocks, %d rank%s x %d thread%s, "
                    "%lld accounts\n",
                    MF_VERSION_STRING, MF_GIT_COMMIT, options->config_path, (long long)paths,
                    (long long)n_blocks, size, size == 1 ? "" : "s", threads,
                    threads == 1 ? "" : "s", (long long)store.n_accounts);
        }
    }
    progress bar = {now_seconds(), 0, isatty(STDERR_FILENO), options->quiet || rank != 0};
    if (status == MF_OK) status = simulate_local_blocks(&model, workspace, blocks, first_block,
                                                        n_local, threads, &bar);
    status = agree(status, comm);
    if (status == MF_OK)
        status = mf_reduce_gather(&model, blocks, n_local, config->output.paths, comm, &result);
    status = agree(status, comm);

    if (status == MF_OK && rank == 0) {
        char *config_text = NULL;
        status = mf_config_to_yaml(config, &config_text);
        const char *names[MF_MAX_ASSETS];
        for (int k = 0; k < config->market.n_assets; k++) names[k] = config->market.assets[k].name;
        const double wall = MPI_Wtime() - start;
        mf_run_info info = {config_text, options->config_path, options->command_line,
                            config->run.seed, paths, size, threads, wall, store.n_accounts,
                            store.n_positions, config->market.n_assets, names};
        result.point_index = 0;
        if (status == MF_OK) status = mf_output_write(output_path, options->force, &info, &result, 1);
        free(config_text);
        if (status == MF_OK && !options->quiet && summary)
            print_summary(summary, config, &store, &result, output_path, size, threads, wall);
        if (status == MF_OK && options->quiet && summary) fprintf(summary, "%s\n", output_path);
    }
    status = agree(status, comm);

    for (int64_t i = 0; i < n_local && blocks; i++) mf_block_result_free(&blocks[i]);
    free(blocks);
    mf_point_result_free(&result);
    mf_workspace_free(workspace);
    mf_model_free(&model);
    mf_store_free(&store);
    free(config);
    return status;
}

mf_status mf_save_population(const char *config_path, const char *const *overrides,
                             int n_overrides, const char *output_path, int force, FILE *summary) {
    mf_config *config = calloc(1, sizeof *config);
    if (!config) return MF_FAIL(MF_ERR_MEMORY, "out of memory");
    mf_status status = mf_config_load(config, config_path, overrides, n_overrides);
    mf_store store;
    memset(&store, 0, sizeof store);
    if (status == MF_OK) status = mf_output_check_target(output_path, force);
    if (status == MF_OK) status = mf_population_generate(&store, config);
    if (status == MF_OK) status = mf_population_save(&store, output_path, force);
    if (status == MF_OK && summary) {
        double prices[MF_MAX_ASSETS], open_interest[MF_MAX_ASSETS];
        for (int k = 0; k < config->market.n_assets; k++) prices[k] = config->market.assets[k].price;
        mf_store_open_interest(&store, prices, open_interest);
        fprintf(summary, "Wrote %s: %lld accounts, %lld positions\n", output_path,
                (long long)store.n_accounts, (long long)store.n_positions);
        for (int k = 0; k < config->market.n_assets; k++) {
            char text[32];
            mf_format_usd(open_interest[k], text, sizeof text);
            fprintf(summary, "  %-6s open interest %s\n", config->market.assets[k].name, text);
        }
    }
    mf_store_free(&store);
    free(config);
    if (status != MF_OK) mf_error_push_frame(__FILE__, __LINE__, __func__);
    return status;
}
