#include "run.h"

#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <sys/stat.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h"
#include "collective.h"
#include "config.h"
#include "mf_mpi.h"
#include "mf_version.h"
#include "output.h"
#include "reduction.h"
#include "simulate.h"
#include "store.h"
#include "traces.h"

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

/* A status that keeps the first failure: `next` counts only when `status` is MF_OK. Used
 * where a collective must be called on every rank whatever its status so far. */
static mf_status first_failure(mf_status status, mf_status next) {
    return status != MF_OK ? status : next;
}

/* Every rank learns whether any rank failed, with the lowest failing rank's message. */
static mf_status agree(mf_status status, MPI_Comm comm) {
    return mf_mpi_agree(status, comm);
}

/* Without -o: CONFIG's name with .h5 in the current directory, or the first of NAME-2.h5,
 * NAME-3.h5, ... that neither exists nor has a checkpoint, so a second run never collides
 * with the first. With --resume: the first of them holding a checkpoint, else NAME.h5 (so a
 * finished run is recognised as finished). */
static void default_output_path(const char *config_path, int resume, char *out, size_t size) {
    char copy[MF_PATH_LEN];
    snprintf(copy, sizeof copy, "%s", config_path);
    char *name = basename(copy);
    char *dot = strrchr(name, '.');
    if (dot && dot != name) *dot = '\0';
    char checkpoint[MF_PATH_LEN + 16];
    struct stat st;
    for (int n = 1; n <= 9999; n++) {
        if (n == 1)
            snprintf(out, size, "%s.h5", name);
        else
            snprintf(out, size, "%s-%d.h5", name, n);
        mf_checkpoint_dir(out, checkpoint, sizeof checkpoint);
        const int has_checkpoint = mf_checkpoint_exists(checkpoint);
        if (resume ? has_checkpoint : !has_checkpoint && stat(out, &st) != 0 && errno == ENOENT)
            return;
    }
    snprintf(out, size, "%s.h5", name);
}

/* Rank 0 loads and validates the config (with the command line's overrides); the other
 * ranks parse the resolved text it broadcasts, so every rank runs the same scenario. */
static mf_status load_config(const mf_run_options *options, MPI_Comm comm, mf_config *config,
                             char **text_out) {
    int rank;
    MF_CHECK_MPI(MPI_Comm_rank(comm, &rank));
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
            for (int i = 0; i < options->n_overrides; i++)
                overrides[count++] = options->overrides[i];
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
    status = MF_MPI(MPI_Bcast(&length, 1, MPI_INT64_T, 0, comm));
    if (status == MF_OK && rank != 0) {
        text = malloc((size_t)length);
        if (!text) status = MF_FAIL(MF_ERR_MEMORY, "out of memory");
    }
    status = agree(status, comm);
    if (status != MF_OK) {
        free(text);
        return status;
    }
    status = MF_MPI(MPI_Bcast(text, (int)length, MPI_CHAR, 0, comm));
    if (status == MF_OK && rank != 0) {
        status = mf_config_load_string(config, text, options->config_path, NULL, 0);
        if (status == MF_OK)
            snprintf(config->source_file, sizeof config->source_file, "%s", options->config_path);
    }
    *text_out = text;
    return agree(status, comm);
}

typedef struct {
    double start;
    double last_print;
    int tty;
    int quiet;
    double paths_per_item; /* progress counts work items and reports paths */
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
    const double paths_done = (double)done * state->paths_per_item;
    const double paths_total = (double)total * state->paths_per_item;
    const double rate = elapsed > 0 ? paths_done / elapsed : 0;
    const double eta = rate > 0 ? (paths_total - paths_done) / rate : 0;
    fprintf(stderr, "%s  [%3.0f%%] %.0f/%.0f paths  %.1f paths/s  elapsed %.0fs  ETA %.0fs%s",
            state->tty ? "\r" : "", 100.0 * (double)done / (double)(total > 0 ? total : 1),
            paths_done, paths_total, rate, elapsed, eta, state->tty && !final ? "" : "\n");
    fflush(stderr);
}

/* The index of the summary's level `wanted` among the metric's levels: that level when the
 * config has it, else the highest level below it, else the lowest (the label says which). */
static int summary_level(const mf_metric_result *metric, double wanted) {
    const int exact = mf_metric_level_index(metric, wanted);
    if (exact >= 0) return exact;
    int below = -1;
    for (int q = 0; q < metric->n_quantiles; q++)
        if (metric->levels[q] < wanted) below = q;
    return below >= 0 ? below : 0;
}

/* "p99", "p99.9", "p97.5". */
static void level_label(double level, char *text, size_t size) {
    snprintf(text, size, "p%.4g", 100.0 * level);
}

/* "$1.2B [$1.1B, $1.4B]" (a quantile and its 95% order-statistic interval; "open" where too
 * few samples lie beyond the quantile for a bound). */
static void format_quantile(const mf_metric_result *metric, int q, char *text, size_t size) {
    char value[32], low[32], high[32];
    mf_format_usd(metric->quantiles[q], value, sizeof value);
    if (isnan(metric->quantile_ci_low[q]))
        snprintf(low, sizeof low, "open");
    else
        mf_format_usd(metric->quantile_ci_low[q], low, sizeof low);
    if (isnan(metric->quantile_ci_high[q]))
        snprintf(high, sizeof high, "open");
    else
        mf_format_usd(metric->quantile_ci_high[q], high, sizeof high);
    snprintf(text, size, "%s [%s, %s]", value, low, high);
}

/* "$1.23B ± $0.05B": a mean or ES and 1.96 standard errors ("± n/a" below 2 samples). */
static void format_estimate(double value, double standard_error, char *text, size_t size) {
    char a[32], b[32];
    mf_format_usd(value, a, sizeof a);
    if (isnan(standard_error)) {
        snprintf(text, size, "%s ± n/a", a);
        return;
    }
    mf_format_usd(MF_Z95 * standard_error, b, sizeof b);
    snprintf(text, size, "%s ± %s", a, b);
}

static void format_probability(double p, const double ci[2], char *text, size_t size) {
    if (isnan(p))
        snprintf(text, size, "n/a");
    else
        snprintf(text, size, "%.2f%%  [%.2f%%, %.2f%%]", 100.0 * p, 100.0 * ci[0], 100.0 * ci[1]);
}

/* A tail figure needs about 10 samples at or beyond its quantile to mean anything. */
#define MF_MIN_TAIL_SAMPLES 10

/* One warning line per figure shown whose quantile rests on fewer than MF_MIN_TAIL_SAMPLES
 * samples, with the paths (or cascades) it would take. */
static void warn_thin_tail(FILE *out, const mf_metric_result *metric, int q, const char *figure,
                           const char *unit) {
    const int64_t tail = metric->tail_samples[q];
    if (metric->count == 0 || tail >= MF_MIN_TAIL_SAMPLES) return;
    const double level = metric->levels[q];
    /* ceil(10 / (1 - q)), with a slack for 1 - q in binary (10 / 0.001 = 10000.000000000002) */
    const double needed = ceil(MF_MIN_TAIL_SAMPLES / (1.0 - level) - 1e-6);
    char label[16], count[32];
    level_label(level, label, sizeof label);
    /* 10000 -> "10,000" */
    char digits[32];
    snprintf(digits, sizeof digits, "%.0f", needed);
    const size_t length = strlen(digits);
    size_t used = 0;
    for (size_t i = 0; i < length && used + 2 < sizeof count; i++) {
        if (i > 0 && (length - i) % 3 == 0) count[used++] = ',';
        count[used++] = digits[i];
    }
    count[used] = '\0';
    const int paths = strcmp(unit, "path") == 0;
    fprintf(out, "  warning: %s rests on %lld %s%s; %s >= %s %ss for a usable %s\n", figure,
            (long long)tail, unit, tail == 1 ? "" : "s", paths ? "run" : "it needs", count, unit,
            label);
}

/* Liquidations by side (the long share is a ratio of the two means), then what the venue's
 * loss mechanisms did, each only when switched on. */
static void print_sides_and_mechanisms(FILE *out, const mf_config *config,
                                       const mf_point_result *result) {
    char a[128], b[128];
    const mf_metric_result *longs = &result->metrics[MF_METRIC_LIQUIDATED_LONG];
    const mf_metric_result *shorts = &result->metrics[MF_METRIC_LIQUIDATED_SHORT];
    format_estimate(longs->mean, longs->mean_standard_error, a, sizeof a);
    format_estimate(shorts->mean, shorts->mean_standard_error, b, sizeof b);
    const double total = longs->mean + shorts->mean;
    if (total > 0)
        fprintf(out, "    longs %s (%.1f%% of it), shorts %s\n", a, 100 * longs->mean / total, b);
    /* By asset, from the per-path table when it is kept (output.paths). */
    if ((result->paths || result->paths_elsewhere) && result->n_paths > 1 && total > 0) {
        fprintf(out, "    by asset:");
        for (int k = 0; k < config->market.n_assets; k++) {
            /* Rows on their ranks: the same Welford sums, carried along them (chain_point). */
            double mean = result->paths ? 0 : result->asset_mean[k];
            double m2 = result->paths ? 0 : result->asset_m2[k];
            for (int64_t i = 0; result->paths && i < result->n_paths; i++) {
                const double x = result->paths[i].liquidated_by_asset[k];
                const double delta = x - mean;
                mean += delta / (double)(i + 1);
                m2 += delta * (x - mean);
            }
            const double n = (double)result->n_paths;
            format_estimate(mean, sqrt(m2 / (n - 1) / n), a, sizeof a);
            fprintf(out, "%s %s %s", k ? "," : "", config->market.assets[k].name, a);
        }
        fputc('\n', out);
    }
    static const struct {
        mf_metric_id id;
        const char *label;
    } mechanisms[] = {
        {MF_METRIC_ADL_NOTIONAL, "Auto-deleveraged (mean)"},
        {MF_METRIC_SOCIALISED_LOSS, "Socialised loss (mean)"},
        {MF_METRIC_VAULT_NOTIONAL, "Taken over by the vault (mean)"},
        {MF_METRIC_FUNDING_PAID, "Funding paid by traders (mean)"},
        {MF_METRIC_BREAKER_TRIPS, "Circuit-breaker trips (mean)"},
    };
    const int on[] = {config->venue.deficit == MF_DEFICIT_ADL,
                      config->venue.deficit == MF_DEFICIT_SOCIALISED, config->venue.vault_enabled,
                      config->venue.funding_enabled, config->venue.breaker_enabled};
    for (size_t i = 0; i < sizeof mechanisms / sizeof mechanisms[0]; i++) {
        if (!on[i]) continue;
        const mf_metric_result *metric = &result->metrics[mechanisms[i].id];
        if (strcmp(mf_metric_describe(mechanisms[i].id)->unit, "USD") == 0)
            format_estimate(metric->mean, metric->mean_standard_error, a, sizeof a);
        else if (isnan(metric->mean_standard_error))
            snprintf(a, sizeof a, "%.2f ± n/a", metric->mean);
        else
            snprintf(a, sizeof a, "%.2f ± %.2f", metric->mean,
                     MF_Z95 * metric->mean_standard_error);
        fprintf(out, "  %-32s %s\n", mechanisms[i].label, a);
    }
}

static void print_summary(FILE *out, const mf_config *config, int64_t accounts, int64_t positions,
                          const mf_point_result *result, const char *output_path, int ranks,
                          int threads, double wall) {
    char a[128], b[128], c[128], p99[16], p999[16];
    const mf_metric_result *liquidated = &result->metrics[MF_METRIC_LIQUIDATED_NOTIONAL];
    const mf_metric_result *largest = &result->metrics[MF_METRIC_LARGEST_CASCADE];
    const mf_metric_result *bad_debt = &result->metrics[MF_METRIC_BAD_DEBT];
    const mf_metric_result *cascades = &result->metrics[MF_METRIC_CASCADE_NOTIONAL];
    /* The levels shown, chosen by value (every metric has the config's levels). */
    const int q99 = summary_level(liquidated, 0.99);
    const int q999 = summary_level(liquidated, 0.999);
    const int q50 = summary_level(liquidated, 0.5);
    level_label(liquidated->levels[q99], p99, sizeof p99);
    level_label(liquidated->levels[q999], p999, sizeof p999);
    fprintf(out, "\nmarginfall %s: %s\n", MF_VERSION_STRING, config->source_file);
    fprintf(out,
            "  %lld paths x %d steps of %gs, %lld accounts (%lld positions), %d assets, "
            "venue %s\n",
            (long long)result->n_paths, result->n_steps, config->run.dt_seconds,
            (long long)accounts, (long long)positions, config->market.n_assets, config->venue.name);
    fprintf(out, "  %d rank%s x %d thread%s, %.1f s (%.1f paths/s)\n\n", ranks,
            ranks == 1 ? "" : "s", threads, threads == 1 ? "" : "s", wall,
            wall > 0 ? (double)result->n_paths / wall : 0.0);
    fprintf(out, "  95%% confidence: ± 1.96 standard errors; [a, b] order-statistic interval "
                 "(quantiles), Wilson (probabilities)\n");
    format_estimate(liquidated->mean, liquidated->mean_standard_error, a, sizeof a);
    fprintf(out, "  Expected liquidated notional     %s\n", a);
    format_quantile(liquidated, q99, a, sizeof a);
    fprintf(out, "    %-6s %s\n", p99, a);
    if (q999 != q99) {
        format_quantile(liquidated, q999, a, sizeof a);
        fprintf(out, "    %-6s %s\n", p999, a);
    }
    print_sides_and_mechanisms(out, config, result);
    format_quantile(largest, q99, a, sizeof a);
    format_estimate(largest->expected_shortfall[q99],
                    largest->expected_shortfall_standard_error[q99], b, sizeof b);
    char title[64];
    snprintf(title, sizeof title, "%.15s largest cascade", p99);
    fprintf(out, "  %-32s %s\n", title, a);
    fprintf(out, "    ES%s %s\n", p99 + 1, b);
    format_probability(result->prob_bad_debt, result->prob_bad_debt_ci, a, sizeof a);
    fprintf(out, "  Probability of bad debt          %s\n", a);
    format_estimate(bad_debt->mean, bad_debt->mean_standard_error, a, sizeof a);
    format_quantile(bad_debt, q99, b, sizeof b);
    fprintf(out, "    bad debt: mean %s, %s %s\n", a, p99, b);
    format_probability(result->prob_fund_shortfall, result->prob_fund_shortfall_ci, a, sizeof a);
    fprintf(out, "  Insurance-fund shortfall prob.   %s\n", a);
    fprintf(out, "  Cascades: %lld over all paths, mean %.2f per path", (long long)cascades->count,
            (double)cascades->count / (double)(result->n_paths ? result->n_paths : 1));
    if (cascades->count > 0) {
        mf_format_usd(cascades->quantiles[q50], a, sizeof a);
        format_quantile(cascades, q99, c, sizeof c);
        char p50[16];
        level_label(cascades->levels[q50], p50, sizeof p50);
        fprintf(out, "; size %s %s, %s %s", p50, a, p99, c);
    }
    fputc('\n', out);
    /* Thin tails: the per-path figures share one sample count, so one line per level. */
    if (result->n_paths < 2)
        fprintf(out,
                "  warning: %lld path%s: no standard error can be estimated; "
                "run >= 100 paths\n",
                (long long)result->n_paths, result->n_paths == 1 ? "" : "s");
    char figure[64];
    warn_thin_tail(out, liquidated, q99, p99, "path");
    if (q999 != q99) warn_thin_tail(out, liquidated, q999, p999, "path");
    snprintf(figure, sizeof figure, "the cascade-size %.15s", p99);
    if (cascades->count > 0) warn_thin_tail(out, cascades, q99, figure, "cascade");
    char digest[MF_DIGEST_TEXT_LEN];
    mf_digest_format(mf_results_digest(result, 1), digest);
    fprintf(out, "\n  Verification digest              %s\n", digest);
    fprintf(out, "\n  Wrote %s  (marginfall info %s for the full table)\n", output_path,
            output_path);
}

/* --resume on a finished file keeps it only when it was made by the same resolved config;
 * otherwise the first line where the two differ is named. */
static mf_status check_finished_config(const char *output_path, const char *config_text) {
    char *stored = NULL;
    MF_CHECK(mf_output_read_config(output_path, &stored));
    if (strcmp(stored, config_text) == 0) {
        free(stored);
        return MF_OK;
    }
    const char *a = stored, *b = config_text;
    int line = 1;
    while (*a && *a == *b) {
        if (*a == '\n') line++;
        a++;
        b++;
    }
    while (a > stored && a[-1] != '\n') /* back to the start of the differing line */
        a--, b--;
    const int file_length = (int)strcspn(a, "\n"), run_length = (int)strcspn(b, "\n");
    const mf_status status = MF_FAIL(
        MF_ERR_OUTPUT,
        "'%s' is a finished run of another configuration (resolved config line %d: the file "
        "has '%.*s', this run '%.*s'): --resume keeps it only for the same config; use another "
        "-o, or --force to replace it",
        output_path, line, file_length > 200 ? 200 : file_length, a,
        run_length > 200 ? 200 : run_length, b);
    free(stored);
    return status;
}

/* ------------------------------------------------------------------ sweeps and work items */

/* Set by SIGTERM (Slurm's pre-emption signal) or SIGINT (Ctrl-C) to the signal's number: finish
 * the step in hand, checkpoint, exit. A second Ctrl-C kills at once (SA_RESETHAND). */
static volatile sig_atomic_t stop_requested = 0;
static void request_stop(int signal_number) {
    stop_requested = signal_number;
}

/* The points this run covers, [first, stop), from --points START:STOP or --points-part I/N. */
static mf_status resolve_points(const mf_run_options *options, int64_t total, int64_t *first,
                                int64_t *stop) {
    *first = 0;
    *stop = total;
    if (options->part_count > 0) {
        if (options->part_index < 0 || options->part_index >= options->part_count)
            return MF_FAIL(MF_ERR_USAGE, "--points-part %lld/%lld: the part must be in 0..%lld",
                           (long long)options->part_index, (long long)options->part_count,
                           (long long)options->part_count - 1);
        if (options->part_count > total)
            return MF_FAIL(MF_ERR_USAGE, "--points-part %lld/%lld: the sweep has only %lld point%s",
                           (long long)options->part_index, (long long)options->part_count,
                           (long long)total, total == 1 ? "" : "s");
        *first = total * options->part_index / options->part_count;
        *stop = total * (options->part_index + 1) / options->part_count;
    } else if (options->points_stop > 0) {
        if (options->points_first < 0 || options->points_first >= options->points_stop ||
            options->points_stop > total)
            return MF_FAIL(MF_ERR_USAGE,
                           "--points %lld:%lld is not a non-empty range inside the sweep's %lld "
                           "point%s (0:%lld)",
                           (long long)options->points_first, (long long)options->points_stop,
                           (long long)total, total == 1 ? "" : "s", (long long)total);
        *first = options->points_first;
        *stop = options->points_stop;
    }
    return MF_OK;
}

/* A point's configuration: the base itself without a sweep, else the base text with the
 * point's overrides (every rank derives it the same way). */
static mf_status point_config(const mf_config *base, const char *base_text, int64_t point,
                              mf_config *out) {
    if (base->sweep.n_params == 0) {
        *out = *base;
        return MF_OK;
    }
    MF_CHECK(mf_config_load_point(out, base_text, base->source_file, point));
    snprintf(out->source_file, sizeof out->source_file, "%s", base->source_file);
    return MF_OK;
}

static mf_status build_population(const mf_config *config, mf_store *store) {
    if (!config->population.file[0]) return mf_population_generate(store, config);
    char resolved[2 * MF_PATH_LEN];
    const char *file = config->population.file;
    if (file[0] != '/' && config->source_file[0]) {
        char copy[MF_PATH_LEN];
        snprintf(copy, sizeof copy, "%s", config->source_file);
        snprintf(resolved, sizeof resolved, "%s/%s", dirname(copy), file);
        file = resolved;
    }
    return mf_population_load(store, file, config);
}

/* Everything the population generator (or loader) reads from a config, as text: two points
 * with the same key draw the same accounts (src/scenario/population.c, population_io.c). */
static char *population_key(const mf_config *config) {
    const size_t capacity = 65536;
    char *key = malloc(capacity);
    if (!key) return NULL;
    size_t at = 0;
#define KEY(...)                                                                                   \
    do {                                                                                           \
        const int n_ = snprintf(key + at, capacity - at, __VA_ARGS__);                             \
        if (n_ > 0 && (size_t)n_ < capacity - at) at += (size_t)n_;                                \
    } while (0)
    const mf_population_config *p = &config->population;
    KEY("%lld|%s|%s|%a|%a|%a|%d|%d|%a|%a|%a|%a|%a|", (long long)p->accounts, p->file,
        config->source_file, p->isolated_share, p->cross_share, p->portfolio_share,
        (int)p->max_positions, (int)p->notional_law, p->notional_sigma, p->notional_alpha,
        p->leverage_median, p->leverage_sigma, p->entry_spread);
    KEY("%llu|%d|%a|%a|", (unsigned long long)config->run.seed, config->market.n_assets,
        config->venue.max_leverage, config->venue.portfolio_initial_multiplier);
    mf_tier_table tiers;
    mf_scenario_tier_table(config, &tiers);
    for (int k = 0; k < config->market.n_assets; k++) {
        KEY("%s|%a|%a|%a|%d|", config->market.assets[k].name, config->market.assets[k].price,
            p->assets[k].open_interest_usd, p->assets[k].long_share, tiers.n_tiers[k]);
        for (int t = 0; t < tiers.n_tiers[k]; t++)
            KEY("%a,%a,%a,%a|", tiers.floor_usd[k][t], tiers.mmr[k][t], tiers.cum_usd[k][t],
                tiers.max_leverage[k][t]);
        KEY("%a,%a|", tiers.portfolio.range[k], tiers.portfolio.spread_range[k]);
    }
    KEY("%d,%a,%a", tiers.portfolio.points, tiers.portfolio.floor_rate,
        tiers.portfolio.initial_multiplier);
#undef KEY
    if (at + 1 >= capacity) { /* cannot happen with MF_MAX_ASSETS x MF_MAX_TIERS; never reuse */
        free(key);
        return NULL;
    }
    return key;
}

/* The point's population: the one in *store when its key matches, else built anew. */
static mf_status reuse_or_build_population(const mf_config *point, mf_store *store, char **key,
                                           int64_t *builds) {
    char *wanted = population_key(point);
    if (wanted && *key && strcmp(wanted, *key) == 0) {
        free(wanted);
        return MF_OK;
    }
    mf_store_free(store);
    free(*key);
    *key = NULL;
    const mf_status status = build_population(point, store);
    if (status != MF_OK) {
        free(wanted);
        return status;
    }
    *key = wanted;
    (*builds)++;
    return MF_OK;
}

/* output.traces: the point's paths simulated again with their traces on (rank 0). */
static mf_status trace_point(const mf_config *base, const char *base_text, int64_t p,
                             mf_config *point, mf_point_result *result) {
    if (base->output.n_traces == 0 && base->output.traces_worst == 0) return MF_OK;
    mf_store store;
    memset(&store, 0, sizeof store);
    mf_model model;
    memset(&model, 0, sizeof model);
    mf_status status = point_config(base, base_text, p, point);
    if (status == MF_OK) status = build_population(point, &store);
    if (status == MF_OK) status = mf_model_build(&model, point, &store);
    if (status == MF_OK) status = mf_trace_point(&model, result);
    mf_model_free(&model);
    mf_store_free(&store);
    if (base->sweep.n_params > 0) mf_config_free(point); /* a copy of base otherwise */
    return status;
}

/* ---------------------------------------------------- per-path tables and traces by rank */

/* The rank that holds each (point, block) item: restored ones are rank 0's, the remaining
 * ones are split into contiguous ranges in rank order (as mf_run assigns them). */
static void item_owners(const uint8_t *item_done, int64_t n_items, int64_t n_remaining, int size,
                        int *owner) {
    int64_t k = 0;
    int r = 0;
    for (int64_t i = 0; i < n_items; i++) {
        if (item_done[i]) {
            owner[i] = 0;
            continue;
        }
        while (r < size - 1 && k >= n_remaining * (r + 1) / size)
            r++;
        owner[i] = r;
        k++;
    }
}

static int compare_block_first_path(const void *a, const void *b) {
    const mf_block_result *x = *(const mf_block_result *const *)a;
    const mf_block_result *y = *(const mf_block_result *const *)b;
    return (x->first_path > y->first_path) - (x->first_path < y->first_path);
}

/* What needs every row of the table, carried from rank to rank in path order: the digest and
 * the per-asset moments of the summary. */
typedef struct {
    uint64_t digest;
    int64_t count;
    double mean[MF_MAX_ASSETS], m2[MF_MAX_ASSETS];
} table_chain;

static void chain_block(table_chain *chain, const mf_block_result *block, int n_assets) {
    chain->digest = mf_digest_path_rows(chain->digest, block->rows, block->ledgers, block->n_paths);
    for (int64_t j = 0; j < block->n_paths; j++, chain->count++)
        for (int k = 0; k < n_assets; k++) { /* Welford, as print_sides_and_mechanisms */
            const double x = block->rows[j].liquidated_by_asset[k];
            const double delta = x - chain->mean[k];
            chain->mean[k] += delta / (double)(chain->count + 1);
            chain->m2[k] += delta * (x - chain->mean[k]);
        }
}

/* Collective: rank 0 starts the chain with the point's figures, each block's owner continues it
 * over the block's rows, and the last owner hands it back to rank 0, which sets the point's
 * digest and per-asset moments. Every rank walks the same owner list, so sends and receives
 * pair up. blocks: this rank's blocks of the point in path order. */
static mf_status chain_point(const mf_config *config, const int *owner, int64_t blocks_per_point,
                             const mf_block_result *const *blocks, int64_t n_blocks,
                             mf_point_result *result, MPI_Comm comm) {
    int rank;
    MF_CHECK_MPI(MPI_Comm_rank(comm, &rank));
    table_chain chain;
    memset(&chain, 0, sizeof chain);
    if (rank == 0) chain.digest = mf_point_result_digest_prefix(result);
    mf_status status = MF_OK;
    int holder = 0;
    int64_t next = 0; /* this rank's next block */
    const int n_assets = config->market.n_assets;
    for (int64_t b = 0; b < blocks_per_point; b++) {
        if (owner[b] != holder) {
            if (rank == holder)
                status = first_failure(status, MF_MPI(MPI_Send(&chain, (int)sizeof chain, MPI_BYTE,
                                                               owner[b], 71, comm)));
            if (rank == owner[b])
                status =
                    first_failure(status, MF_MPI(MPI_Recv(&chain, (int)sizeof chain, MPI_BYTE,
                                                          holder, 71, comm, MPI_STATUS_IGNORE)));
            holder = owner[b];
        }
        if (rank != owner[b]) continue;
        if (next < n_blocks && blocks[next]->first_path == b * config->run.block_paths)
            chain_block(&chain, blocks[next++], n_assets);
        else if (status == MF_OK)
            status = MF_FAIL(MF_ERR_INTERNAL, "block %lld of a point is not on its rank %d",
                             (long long)b, rank);
    }
    if (holder != 0 && rank == holder)
        status = first_failure(status,
                               MF_MPI(MPI_Send(&chain, (int)sizeof chain, MPI_BYTE, 0, 71, comm)));
    if (holder != 0 && rank == 0)
        status = first_failure(status, MF_MPI(MPI_Recv(&chain, (int)sizeof chain, MPI_BYTE, holder,
                                                       71, comm, MPI_STATUS_IGNORE)));
    if (rank == 0 && status == MF_OK) {
        result->paths_elsewhere = 1;
        result->digest = chain.digest;
        memcpy(result->asset_mean, chain.mean, sizeof chain.mean);
        memcpy(result->asset_m2, chain.m2, sizeof chain.m2);
    }
    return status;
}

/* Collective: rank 0 picks the point's traced paths, every rank learns them, and each rank
 * simulates those in its own blocks (with the point's model, built only when it has one).
 * *traces_out: every traced path on every rank, series only where this rank simulated it;
 * rank 0's result gets the list without series (the file's groups). */
static mf_status trace_point_by_rank(const mf_config *base, const char *base_text, int64_t p,
                                     mf_config *point, const mf_block_result *const *blocks,
                                     int64_t n_blocks, mf_point_result *result, MPI_Comm comm,
                                     mf_path_trace **traces_out, int *n_out) {
    *traces_out = NULL;
    *n_out = 0;
    if (base->output.n_traces == 0 && base->output.traces_worst == 0) return MF_OK;
    int rank;
    MF_CHECK_MPI(MPI_Comm_rank(comm, &rank));
    mf_path_trace *traces = NULL;
    int n = 0;
    mf_status status = rank == 0 ? mf_trace_select(base, result, &traces, &n) : MF_OK;
    status = agree(status, comm);
    if (status == MF_OK) status = MF_MPI(MPI_Bcast(&n, 1, MPI_INT, 0, comm));
    int64_t *chosen = NULL;
    if (status == MF_OK && !(chosen = calloc((size_t)(3 * n + 1), sizeof *chosen)))
        status = MF_FAIL(MF_ERR_MEMORY, "out of memory for the traced paths");
    if (status == MF_OK && rank != 0 && !(traces = calloc((size_t)(n + 1), sizeof *traces)))
        status = MF_FAIL(MF_ERR_MEMORY, "out of memory for the traced paths");
    for (int i = 0; i < n && status == MF_OK && rank == 0; i++) {
        chosen[3 * i] = traces[i].path;
        chosen[3 * i + 1] = traces[i].worst_rank;
        chosen[3 * i + 2] = traces[i].requested;
    }
    status = agree(status, comm);
    if (status == MF_OK) status = MF_MPI(MPI_Bcast(chosen, 3 * n, MPI_INT64_T, 0, comm));
    status = agree(status, comm);
    int owned = 0;
    for (int i = 0; i < n && status == MF_OK; i++) {
        traces[i] = (mf_path_trace){.path = chosen[3 * i],
                                    .worst_rank = (int32_t)chosen[3 * i + 1],
                                    .requested = (int)chosen[3 * i + 2],
                                    .n_steps = base->run.steps,
                                    .n_assets = base->market.n_assets,
                                    .dt_seconds = base->run.dt_seconds};
        for (int64_t b = 0; b < n_blocks; b++)
            owned += traces[i].path >= blocks[b]->first_path &&
                     traces[i].path < blocks[b]->first_path + blocks[b]->n_paths;
    }
    free(chosen);
    if (status == MF_OK && owned > 0) {
        mf_store store;
        memset(&store, 0, sizeof store);
        mf_model model;
        memset(&model, 0, sizeof model);
        status = point_config(base, base_text, p, point);
        if (status == MF_OK) status = build_population(point, &store);
        if (status == MF_OK) status = mf_model_build(&model, point, &store);
        if (status == MF_OK) status = mf_trace_owned(&model, blocks, n_blocks, traces, n);
        mf_model_free(&model);
        mf_store_free(&store);
        if (base->sweep.n_params > 0) mf_config_free(point); /* a copy of base otherwise */
    }
    /* Every traced path was simulated by exactly one rank. */
    int simulated = 0, total = 0;
    for (int i = 0; i < n && traces; i++)
        simulated += traces[i].index != NULL;
    status =
        first_failure(status, MF_MPI(MPI_Allreduce(&simulated, &total, 1, MPI_INT, MPI_SUM, comm)));
    if (status == MF_OK && total != n)
        status = MF_FAIL(MF_ERR_INTERNAL, "%d of %d traced paths were simulated", total, n);
    if (status == MF_OK && rank == 0 && n > 0) { /* the file's list: no series */
        if (!(result->traces = calloc((size_t)n, sizeof *result->traces)))
            status = MF_FAIL(MF_ERR_MEMORY, "out of memory for the traced paths");
        for (int i = 0; i < n && result->traces; i++)
            result->traces[i] = (mf_path_trace){.path = traces[i].path,
                                                .worst_rank = traces[i].worst_rank,
                                                .requested = traces[i].requested,
                                                .n_steps = traces[i].n_steps,
                                                .n_assets = traces[i].n_assets,
                                                .dt_seconds = traces[i].dt_seconds};
        if (result->traces) result->n_traces = n;
    }
    if (status != MF_OK) {
        for (int i = 0; i < n && traces; i++)
            mf_path_trace_free(&traces[i]);
        free(traces);
        return status;
    }
    *traces_out = traces;
    *n_out = n;
    return MF_OK;
}

static int gather_rows_requested(void) {
    const char *value = getenv("MARGINFALL_GATHER_PATHS");
    return value && strcmp(value, "1") == 0;
}

/* Rough bytes rank 0 holds per point result (profiles, histograms, the per-path table when
 * it gathers the rows), to refuse a sweep that cannot fit before doing any work. */
static double result_bytes_per_point(const mf_config *config, int gather_rows) {
    double bytes = 3.0 * config->run.steps * sizeof(double);
    bytes += MF_METRIC_COUNT * (2.0 * 13 * config->output.bins_per_decade + 16) * 8.0;
    if (config->output.paths && gather_rows)
        bytes += (double)config->run.paths * (sizeof(mf_path_row) + sizeof(mf_path_ledger));
    if (config->output.path_values)
        for (int m = 0; m < MF_METRIC_COUNT; m++)
            if (!mf_metric_describe((mf_metric_id)m)->per_cascade)
                bytes += (double)config->run.paths * sizeof(double);
    return bytes;
}

/* Plus one point's gathered blocks at a time: rows (or only their metric values, received
 * and kept), profiles, cascades (about 10 per path). */
static double gather_bytes_one_point(const mf_config *config, int gather_rows) {
    const double blocks = ceil((double)config->run.paths / config->run.block_paths);
    const double per_path = gather_rows ? 2.0 * (sizeof(mf_path_row) + sizeof(mf_path_ledger))
                                        : 2.0 * MF_METRIC_COUNT * sizeof(double);
    return (double)config->run.paths * (per_path + 10.0 * MF_CASCADE_FIELDS * 8.0) +
           blocks * 3.0 * config->run.steps * sizeof(double);
}

typedef struct {
    const char *checkpoint_dir;
    mf_checkpoint_identity identity;
    double interval;
    double last_write;
    int rank;
    /* What this rank writes: the items it computed plus, on rank 0, those it loaded. */
    mf_work_result *items;
    uint8_t *done;
    int64_t n_items;
} checkpointer;

/* A segment of this rank's items that all belong to one point (a contiguous range of the
 * checkpointer's item array). With at least two items per thread, threads take whole blocks
 * (one parallel region, a workspace each); otherwise they share each block's margin sweeps
 * over account chunks. Either way a block's result is the same bits. */
static mf_status simulate_segment(const mf_model *model, int64_t begin, int64_t end, int threads,
                                  progress *bar, int64_t *done_items, int64_t total_items,
                                  checkpointer *checkpoint) {
    const int64_t n = end - begin;
    const int64_t paths = model->config->run.paths;
    const int64_t block_paths = model->config->run.block_paths;
    const int by_block = threads > 1 && n >= 2 * threads;
    const int n_workspaces = by_block ? threads : 1;
    mf_workspace *workspaces[256] = {NULL};
    if (n_workspaces > 256) return MF_FAIL(MF_ERR_USAGE, "at most 256 OpenMP threads per rank");
    mf_status status = MF_OK;
    for (int t = 0; t < n_workspaces && status == MF_OK; t++) {
        status = mf_workspace_create(&workspaces[t], model);
        if (status == MF_OK) mf_workspace_set_stop_flag(workspaces[t], &stop_requested);
    }
    int64_t failed_item = end;
    mf_status failed_status = MF_OK;
    char failed_message[2048] = "";
    if (status == MF_OK) {
#pragma omp parallel for schedule(dynamic, 1) if (by_block) num_threads(n_workspaces)
        for (int64_t i = begin; i < end; i++) {
            if (stop_requested) continue;
            mf_work_result *item = &checkpoint->items[i];
            const int64_t first_path = item->block * block_paths;
            const int64_t count =
                first_path + block_paths <= paths ? block_paths : paths - first_path;
            mf_workspace *workspace = workspaces[by_block ? omp_get_thread_num() : 0];
            mf_status item_status =
                mf_block_result_init(&item->result, model->steps, first_path, count);
            if (item_status == MF_OK)
                item_status = mf_simulate_block(model, workspace, &item->result);
#pragma omp critical(mf_item_done)
            {
                if (item_status == MF_OK) {
                    checkpoint->done[i] = 1;
                    (*done_items)++;
                } else if (item_status == MF_ERR_INTERRUPTED && stop_requested) {
                    /* Stopped within the block: it is not done, --resume redoes it. */
                } else if (i < failed_item) {
                    /* The lowest failing item's error is reported: deterministic. */
                    failed_item = i;
                    failed_status = item_status;
                    snprintf(failed_message, sizeof failed_message, "%s", mf_error_message());
                }
                progress_report(bar, *done_items, total_items, 0);
                const double now = now_seconds();
                if (checkpoint->interval > 0 &&
                    now - checkpoint->last_write >= checkpoint->interval) {
                    checkpoint->last_write = now;
                    if (mf_checkpoint_write(checkpoint->checkpoint_dir, checkpoint->rank,
                                            &checkpoint->identity, checkpoint->items,
                                            checkpoint->done, checkpoint->n_items) != MF_OK)
                        fprintf(stderr, "marginfall: warning: %s\n", mf_error_message());
                }
            }
        }
    }
    for (int t = 0; t < n_workspaces; t++)
        mf_workspace_free(workspaces[t]);
    if (status != MF_OK) return status;
    if (failed_status != MF_OK)
        return mf_error_set(failed_status, __FILE__, __LINE__, __func__, "%s", failed_message);
    return MF_OK;
}

/* One line per point of a sweep (at most 40): parameters and headline figures. */
static void print_sweep_summary(FILE *out, const mf_config *config, const mf_point_result *results,
                                int64_t n) {
    /* "±" is two bytes in UTF-8: one more of width keeps the columns aligned */
    fprintf(out, "\n  %-6s %-44s %11s %11s %11s %9s %9s\n", "point", "parameters", "E[liq]", "±95%",
            "p99 casc.", "P(bad)", "P(short)");
    for (int64_t i = 0; i < n && i < 40; i++) {
        const mf_point_result *result = &results[i];
        char label[512] = "", liquidated[32], largest[32];
        size_t used = 0;
        /* A zipped sweep of many keys (one rule switched on per point): only the keys whose
         * value differs from the first point's, so the label says what the point changes. */
        const int only_changes = config->sweep.mode == MF_SWEEP_ZIP && config->sweep.n_params > 2 &&
                                 result->point_index > 0;
        for (int p = 0; p < config->sweep.n_params && used < sizeof label; p++) {
            const char *key = config->sweep.keys[p];
            char value[128], first[128];
            snprintf(value, sizeof value, "%s",
                     mf_sweep_point_text(config, result->point_index, p));
            snprintf(first, sizeof first, "%s", mf_sweep_point_text(config, 0, p));
            if (only_changes && strcmp(value, first) == 0) continue;
            /* The last part of the key, or the last two when the last says little (enabled). */
            const char *short_key = strrchr(key, '.');
            if (short_key && strcmp(short_key, ".enabled") == 0) {
                const char *before = short_key;
                while (before > key && before[-1] != '.')
                    before--;
                short_key = before - 1;
            }
            short_key = short_key ? short_key + 1 : key;
            used += (size_t)snprintf(label + used, sizeof label - used, "%s%s=%s", used ? " " : "",
                                     short_key, value);
        }
        const mf_metric_result *notional = &result->metrics[MF_METRIC_LIQUIDATED_NOTIONAL];
        char spread[32] = "n/a";
        mf_format_usd(notional->mean, liquidated, sizeof liquidated);
        if (!isnan(notional->mean_standard_error))
            mf_format_usd(MF_Z95 * notional->mean_standard_error, spread, sizeof spread);
        const mf_metric_result *cascade = &result->metrics[MF_METRIC_LARGEST_CASCADE];
        mf_format_usd(cascade->quantiles[summary_level(cascade, 0.99)], largest, sizeof largest);
        fprintf(out, "  %-6d %-44.44s %11s %10s %11s %8.1f%% %8.1f%%\n", result->point_index, label,
                liquidated, spread, largest, 100 * result->prob_bad_debt,
                100 * result->prob_fund_shortfall);
    }
    if (n > 40) fprintf(out, "  ... %lld more points: marginfall info\n", (long long)(n - 40));
}

mf_status mf_run(const mf_run_options *options, MPI_Comm comm, FILE *summary) {
    const double start = MPI_Wtime();
    mf_memory_return_large_frees();
    int rank, size;
    /* MPI errors come back as codes (checked by MF_MPI) instead of aborting every rank. */
    MF_CHECK_MPI(MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN));
    MF_CHECK_MPI(MPI_Comm_rank(comm, &rank));
    MF_CHECK_MPI(MPI_Comm_size(comm, &size));
    const int threads = omp_get_max_threads();
    /* Block-level threads must not fan out again inside the margin sweeps. */
    omp_set_max_active_levels(1);
    stop_requested = 0;

    mf_config *config = calloc(1, sizeof *config);
    mf_config *point = calloc(1, sizeof *point);
    if (!config || !point) {
        free(config);
        free(point);
        return MF_FAIL(MF_ERR_MEMORY, "out of memory");
    }
    char *config_text = NULL;
    mf_status status = load_config(options, comm, config, &config_text);
    const int64_t total_points =
        status == MF_OK && config->sweep.n_params > 0 ? config->sweep.n_points : 1;
    int64_t point_first = 0, point_stop = 1;
    if (status == MF_OK) status = resolve_points(options, total_points, &point_first, &point_stop);
    status = agree(status, comm);

    /* MARGINFALL_GATHER_PATHS=1: the former way, whole rows gathered and the per-path table
     * and traces written by rank 0 alone, kept so the tests can compare the two bit for bit.
     * Rank 0's choice holds for every rank. */
    int gather_rows = 0;
    if (rank == 0) gather_rows = gather_rows_requested();
    status = first_failure(status, MF_MPI(MPI_Bcast(&gather_rows, 1, MPI_INT, 0, comm)));
    status = agree(status, comm);

    char output_path[MF_PATH_LEN] = "", checkpoint_dir[MF_PATH_LEN + 16];
    if (options->output_path) {
        snprintf(output_path, sizeof output_path, "%s", options->output_path);
    } else {
        /* Rank 0 looks at the directory; every rank uses its choice. */
        if (rank == 0)
            default_output_path(options->config_path, options->resume, output_path,
                                sizeof output_path);
        if (status == MF_OK)
            status = MF_MPI(MPI_Bcast(output_path, (int)sizeof output_path, MPI_CHAR, 0, comm));
        status = agree(status, comm);
    }
    mf_checkpoint_dir(output_path, checkpoint_dir, sizeof checkpoint_dir);
    const int64_t n_points = point_stop - point_first;
    const int64_t blocks_per_point =
        status == MF_OK
            ? (config->run.paths + config->run.block_paths - 1) / config->run.block_paths
            : 0;
    int already_complete = 0;
    if (status == MF_OK && rank == 0) {
        struct stat st;
        const int finished =
            options->resume && stat(output_path, &st) == 0 && !mf_checkpoint_exists(checkpoint_dir);
        if (finished) status = check_finished_config(output_path, config_text);
        if (finished && status == MF_OK) {
            already_complete = 1; /* a requeued job whose run had finished */
        } else if (finished && !options->force) {
            /* another config's finished file: refused (the message says so) */
        } else {
            if (finished) { /* --force: run again and replace it */
                mf_error_clear();
                status = MF_OK;
            }
            status = mf_output_check_target(output_path, options->force);
            if (status == MF_OK && mf_checkpoint_exists(checkpoint_dir) && !options->resume) {
                if (options->force)
                    status = mf_checkpoint_remove(checkpoint_dir);
                else
                    status = MF_FAIL(MF_ERR_OUTPUT,
                                     "'%s' holds the checkpoint of an interrupted run: pass "
                                     "--resume to continue it, or --force to discard it",
                                     checkpoint_dir);
            }
        }
        /* Refuse what cannot fit before any work. */
        const double physical = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
        const double needed = (double)n_points * result_bytes_per_point(config, gather_rows) +
                              gather_bytes_one_point(config, gather_rows);
        if (status == MF_OK && physical > 0 && needed > 0.5 * physical)
            status =
                MF_FAIL(MF_ERR_CONFIG,
                        "%s: %lld points x %lld paths need about %.3g GB of results on rank 0, "
                        "more than half of this machine's %.3g GB: split the sweep with "
                        "--points or --points-part and merge the parts",
                        options->config_path, (long long)n_points, (long long)config->run.paths,
                        needed / 1e9, physical / 1e9);
    }
    status = first_failure(status, MF_MPI(MPI_Bcast(&already_complete, 1, MPI_INT, 0, comm)));
    status = agree(status, comm);
    if (status == MF_OK && already_complete) {
        if (rank == 0 && summary)
            fprintf(summary, "%s exists and no checkpoint is left: the run is complete\n",
                    output_path);
        free(config_text);
        mf_config_free(config);
        free(config);
        free(point);
        return MF_OK;
    }

    /* Work items: (point, block), point-major. Rank 0 loads a checkpoint when resuming and
     * tells everyone which items are done; the rest are split into contiguous ranges. */
    checkpointer checkpoint;
    memset(&checkpoint, 0, sizeof checkpoint);
    checkpoint.checkpoint_dir = checkpoint_dir;
    checkpoint.rank = rank;
    checkpoint.interval = options->checkpoint_interval;
    checkpoint.last_write = now_seconds();
    if (status == MF_OK)
        checkpoint.identity = (mf_checkpoint_identity){
            mf_hash_text(config_text), point_first,       point_stop,
            blocks_per_point,          config->run.steps, config->run.block_paths};
    mf_work_result *loaded = NULL;
    int64_t n_loaded = 0;
    if (status == MF_OK && rank == 0 && options->resume)
        status = mf_checkpoint_load(checkpoint_dir, &checkpoint.identity, &loaded, &n_loaded);
    status = agree(status, comm);
    const int64_t n_total_items = n_points * blocks_per_point;
    uint8_t *item_done = NULL;
    if (status == MF_OK) {
        item_done = calloc((size_t)(n_total_items > 0 ? n_total_items : 1), 1);
        if (!item_done) status = MF_FAIL(MF_ERR_MEMORY, "out of memory");
        for (int64_t i = 0; i < n_loaded && item_done; i++)
            item_done[(loaded[i].point - point_first) * blocks_per_point + loaded[i].block] = 1;
        status = first_failure(
            status, MF_MPI(MPI_Bcast(item_done, (int)(n_total_items > 0 ? n_total_items : 1),
                                     MPI_BYTE, 0, comm)));
    }
    status = agree(status, comm);
    int64_t n_remaining = 0;
    for (int64_t i = 0; i < n_total_items && status == MF_OK; i++)
        n_remaining += !item_done[i];
    /* This rank's share of the remaining items, plus (rank 0) the loaded ones. */
    const int64_t mine_first = n_remaining * rank / size;
    const int64_t mine_stop = n_remaining * (rank + 1) / size;
    const int64_t n_mine = mine_stop - mine_first;
    checkpoint.n_items = n_mine + (rank == 0 ? n_loaded : 0);
    if (status == MF_OK) {
        checkpoint.items =
            calloc((size_t)(checkpoint.n_items ? checkpoint.n_items : 1), sizeof *checkpoint.items);
        checkpoint.done = calloc((size_t)(checkpoint.n_items ? checkpoint.n_items : 1), 1);
        if (!checkpoint.items || !checkpoint.done) status = MF_FAIL(MF_ERR_MEMORY, "out of memory");
    }
    if (status == MF_OK) {
        int64_t seen = 0, k = 0;
        for (int64_t i = 0; i < n_total_items && k < n_mine; i++) {
            if (item_done[i]) continue;
            if (seen++ < mine_first) continue;
            checkpoint.items[k].point = point_first + i / blocks_per_point;
            checkpoint.items[k].block = i % blocks_per_point;
            k++;
        }
        for (int64_t i = 0; i < n_loaded && rank == 0; i++) {
            checkpoint.items[n_mine + i] = loaded[i];
            checkpoint.done[n_mine + i] = 1;
        }
    }
    free(loaded);
    /* Who holds each item, on every rank: the per-path table's rows and traces stay there. */
    int *item_owner = NULL;
    if (status == MF_OK) {
        item_owner = calloc((size_t)(n_total_items > 0 ? n_total_items : 1), sizeof *item_owner);
        if (!item_owner)
            status = MF_FAIL(MF_ERR_MEMORY, "out of memory");
        else
            item_owners(item_done, n_total_items, n_remaining, size, item_owner);
    }
    status = agree(status, comm);

    if (status == MF_OK && rank == 0 && !options->quiet)
        fprintf(stderr,
                "marginfall %s (%s): %s, points %lld:%lld of %lld, %lld paths in %lld blocks per "
                "point, %d rank%s x %d thread%s%s\n",
                MF_VERSION_STRING, MF_GIT_COMMIT, options->config_path, (long long)point_first,
                (long long)point_stop, (long long)total_points, (long long)config->run.paths,
                (long long)blocks_per_point, size, size == 1 ? "" : "s", threads,
                threads == 1 ? "" : "s", n_loaded ? ", resuming from a checkpoint" : "");
    if (status == MF_OK && rank == 0 && !options->quiet && n_loaded)
        fprintf(stderr, "  %lld of %lld blocks restored from %s\n", (long long)n_loaded,
                (long long)n_total_items, checkpoint_dir);

    struct sigaction action, previous_term, previous_int;
    memset(&action, 0, sizeof action);
    action.sa_handler = request_stop;
    action.sa_flags = SA_RESTART; /* interrupted file writes carry on */
    sigemptyset(&action.sa_mask);
    sigaction(SIGTERM, &action, &previous_term);
    action.sa_flags = SA_RESTART | SA_RESETHAND; /* a second Ctrl-C is not caught */
    sigaction(SIGINT, &action, &previous_int);

    /* Simulate this rank's items, one point at a time. */
    double remaining_paths = 0;
    for (int64_t i = 0; i < n_total_items && status == MF_OK; i++) {
        const int64_t first_path = (i % blocks_per_point) * config->run.block_paths;
        if (!item_done[i])
            remaining_paths += (double)(first_path + config->run.block_paths <= config->run.paths
                                            ? config->run.block_paths
                                            : config->run.paths - first_path);
    }
    progress bar = {now_seconds(), 0, isatty(STDERR_FILENO), options->quiet || rank != 0,
                    n_mine > 0 ? remaining_paths / (double)n_mine : 0};
    /* Rank 0's progress stands for everyone's: the remaining items are spread evenly. */
    const int64_t scale_items = n_mine > 0 ? n_mine : 1;
    int64_t local_done = 0;
    int64_t accounts = 0, positions = 0;
    /* One population for every point that would draw (or load) the same one. */
    mf_store store;
    memset(&store, 0, sizeof store);
    char *store_key = NULL;
    int64_t population_builds = 0, points_run = 0;
    for (int64_t begin = 0; begin < n_mine && status == MF_OK && !stop_requested;) {
        int64_t end = begin;
        while (end < n_mine && checkpoint.items[end].point == checkpoint.items[begin].point)
            end++;
        mf_model model;
        memset(&model, 0, sizeof model);
        status = point_config(config, config_text, checkpoint.items[begin].point, point);
        if (status == MF_OK)
            status = reuse_or_build_population(point, &store, &store_key, &population_builds);
        points_run++;
        if (status == MF_OK) status = mf_model_build(&model, point, &store);
        if (status == MF_OK) {
            accounts = store.n_accounts;
            positions = store.n_positions;
            status = simulate_segment(&model, begin, end, threads, &bar, &local_done, scale_items,
                                      &checkpoint);
        }
        mf_model_free(&model);
        if (config->sweep.n_params > 0) mf_config_free(point); /* a copy of config otherwise */
        begin = end;
    }
    mf_store_free(&store);
    free(store_key);
    if (!bar.quiet && n_mine > 0 && !stop_requested)
        progress_report(&bar, scale_items, scale_items, 1);
    if (rank == 0 && !options->quiet && config->sweep.n_params > 0 && status == MF_OK)
        fprintf(stderr, "  population: built %lld time%s for %lld point%s on rank 0\n",
                (long long)population_builds, population_builds == 1 ? "" : "s",
                (long long)points_run, points_run == 1 ? "" : "s");

    /* Pre-emption: every rank writes what it has, then all stop together. */
    int interrupted = (int)stop_requested, any_interrupted = 0;
    status = first_failure(
        status, MF_MPI(MPI_Allreduce(&interrupted, &any_interrupted, 1, MPI_INT, MPI_MAX, comm)));
    status = agree(status, comm);
    if (status == MF_OK && any_interrupted) {
        status = mf_checkpoint_write(checkpoint_dir, rank, &checkpoint.identity, checkpoint.items,
                                     checkpoint.done, checkpoint.n_items);
        status = agree(status, comm);
        int64_t written = 0, mine_written = 0;
        for (int64_t i = 0; i < checkpoint.n_items; i++)
            mine_written += checkpoint.done[i];
        status = first_failure(
            status, MF_MPI(MPI_Reduce(&mine_written, &written, 1, MPI_INT64_T, MPI_SUM, 0, comm)));
        if (status == MF_OK)
            status = mf_error_set(MF_ERR_INTERRUPTED, __FILE__, __LINE__, __func__,
                                  "stopped by %s: %lld of %lld blocks are saved in %s; run "
                                  "the same command with --resume to continue",
                                  any_interrupted == SIGINT ? "SIGINT (Ctrl-C)" : "SIGTERM",
                                  (long long)written, (long long)n_total_items, checkpoint_dir);
    }

    /* The population's size for the file: that of the last point simulated, as on one rank,
     * from the rank that simulated the last remaining item (rank 0 may have simulated none). */
    status = agree(status, comm);
    int last_owner = 0;
    for (int64_t i = 0; item_owner && item_done && i < n_total_items; i++)
        if (!item_done[i]) last_owner = item_owner[i];
    int64_t book[2] = {accounts, positions};
    if (status == MF_OK) /* agreed on every rank here, and so is last_owner */
        status = MF_MPI(MPI_Bcast(book, 2, MPI_INT64_T, last_owner, comm));
    accounts = book[0];
    positions = book[1];

    /* Reduce point by point on rank 0. The per-path rows stay where they were computed and
     * every rank writes its own into the file (collective), unless gather_rows. */
    mf_point_result *results = NULL;
    if (status == MF_OK && rank == 0) {
        results = calloc((size_t)n_points, sizeof *results);
        if (!results) status = MF_FAIL(MF_ERR_MEMORY, "out of memory");
    }
    status = agree(status, comm);
    const mf_block_result **local = NULL;
    mf_local_point *held = NULL; /* per point: this rank's blocks (path order) and traces */
    if (status == MF_OK) {
        local = calloc((size_t)(checkpoint.n_items ? checkpoint.n_items : 1), sizeof *local);
        held = calloc((size_t)(n_points ? n_points : 1), sizeof *held);
        if (!local || !held) status = MF_FAIL(MF_ERR_MEMORY, "out of memory");
    }
    status = agree(status, comm);
    for (int64_t p = point_first; p < point_stop && status == MF_OK; p++) {
        int64_t n_local = 0;
        for (int64_t i = 0; i < checkpoint.n_items; i++)
            if (checkpoint.items[i].point == p) local[n_local++] = &checkpoint.items[i].result;
        mf_point_result reduced;
        status = mf_reduce_gather(config, local, n_local, gather_rows && config->output.paths,
                                  gather_rows, comm, &reduced);
        mf_point_result *result = rank == 0 ? &results[p - point_first] : NULL;
        if (status == MF_OK && rank == 0) {
            reduced.point_index = (int)p;
            *result = reduced;
        }
        if (gather_rows) {
            if (status == MF_OK && rank == 0)
                status = trace_point(config, config_text, p, point, result);
            status = agree(status, comm);
            continue;
        }
        status = agree(status, comm);
        mf_local_point *mine = &held[p - point_first];
        mine->point_index = (int)p;
        mine->n_paths = config->run.paths;
        mine->write_paths = config->output.paths;
        const mf_block_result **blocks = NULL;
        if (status == MF_OK && !(blocks = malloc((size_t)(n_local ? n_local : 1) * sizeof *blocks)))
            status = MF_FAIL(MF_ERR_MEMORY, "out of memory");
        for (int64_t i = 0; i < n_local && blocks; i++)
            blocks[i] = local[i];
        if (blocks) qsort(blocks, (size_t)n_local, sizeof *blocks, compare_block_first_path);
        mine->blocks = blocks;
        mine->n_blocks = blocks ? n_local : 0;
        status = agree(status, comm);
        mf_path_trace *traces = NULL;
        int n_traces = 0;
        if (status == MF_OK)
            status = trace_point_by_rank(config, config_text, p, point, blocks, n_local, result,
                                         comm, &traces, &n_traces);
        mine->traces = traces;
        mine->n_traces = n_traces;
        status = agree(status, comm);
        if (status == MF_OK && config->output.paths)
            status = chain_point(config, &item_owner[(p - point_first) * blocks_per_point],
                                 blocks_per_point, blocks, n_local, result, comm);
        status = agree(status, comm);
    }
    free(local);

    /* The file: rank 0 alone (MARGINFALL_GATHER_PATHS=1), or every rank writing its rows and
     * traces into the file rank 0 creates, which rank 0 then publishes (collective.h). */
    const char *names[MF_MAX_ASSETS];
    for (int k = 0; k < config->market.n_assets; k++)
        names[k] = config->market.assets[k].name;
    const int n_params = config->sweep.n_params;
    mf_run_info info;
    memset(&info, 0, sizeof info);
    double *values = NULL;
    const char **texts = NULL;
    const char *keys[MF_MAX_SWEEP_PARAMS];
    mf_sweep_table table;
    memset(&table, 0, sizeof table);
    if (status == MF_OK && rank == 0) {
        /* The whole sweep's parameter table goes in every file, parts included. */
        values = calloc((size_t)(total_points * (n_params ? n_params : 1)), sizeof *values);
        texts = calloc((size_t)(total_points * (n_params ? n_params : 1)), sizeof *texts);
        if (!values || !texts) status = MF_FAIL(MF_ERR_MEMORY, "out of memory");
        for (int p = 0; p < n_params; p++)
            keys[p] = config->sweep.keys[p];
        for (int64_t i = 0; i < total_points && status == MF_OK && n_params; i++)
            for (int p = 0; p < n_params; p++) {
                values[i * n_params + p] = mf_sweep_point_value(config, i, p);
                texts[i * n_params + p] = mf_sweep_point_text(config, i, p);
            }
        table = (mf_sweep_table){n_params, keys, total_points, values, texts};
        info = (mf_run_info){config_text,      options->config_path,    options->command_line,
                             config->run.seed, config->run.paths,       size,
                             threads,          MPI_Wtime() - start,     accounts,
                             positions,        config->market.n_assets, names,
                             total_points,     n_params ? &table : NULL};
    }
    status = agree(status, comm);
    if (status == MF_OK && gather_rows && rank == 0)
        status = mf_output_write(output_path, options->force, &info, results, (int)n_points);
    else if (status == MF_OK && !gather_rows)
        status =
            mf_output_write_collective(output_path, options->force, &info, results, (int)n_points,
                                       held, config->market.n_assets, names, comm);
    status = agree(status, comm);
    if (status == MF_OK && rank == 0) {
        const double wall = info.wall_seconds;
        status = mf_checkpoint_remove(checkpoint_dir);
        if (status == MF_OK && !options->quiet && summary) {
            if (n_params == 0) {
                print_summary(summary, config, accounts, positions, &results[0], output_path, size,
                              threads, wall);
            } else {
                fprintf(summary, "\nmarginfall %s: %s, sweep points %lld:%lld of %lld\n",
                        MF_VERSION_STRING, config->source_file, (long long)point_first,
                        (long long)point_stop, (long long)total_points);
                fprintf(summary,
                        "  %lld paths x %d steps per point, %d rank%s x %d thread%s, "
                        "%.1f s\n",
                        (long long)config->run.paths, config->run.steps, size, size == 1 ? "" : "s",
                        threads, threads == 1 ? "" : "s", wall);
                print_sweep_summary(summary, config, results, n_points);
                char digest[MF_DIGEST_TEXT_LEN];
                mf_digest_format(mf_results_digest(results, n_points), digest);
                fprintf(summary, "\n  Verification digest  %s\n", digest);
                fprintf(summary, "\n  Wrote %s  (marginfall info %s for every metric)\n",
                        output_path, output_path);
            }
        }
        if (status == MF_OK && options->quiet && summary) fprintf(summary, "%s\n", output_path);
    }
    free(values);
    free(texts);
    status = agree(status, comm);
    sigaction(SIGTERM, &previous_term, NULL);
    sigaction(SIGINT, &previous_int, NULL);

    for (int64_t i = 0; results && i < n_points; i++)
        mf_point_result_free(&results[i]);
    free(results);
    for (int64_t i = 0; held && i < n_points; i++) {
        free((void *)held[i].blocks);
        for (int t = 0; t < held[i].n_traces; t++)
            mf_path_trace_free((mf_path_trace *)&held[i].traces[t]);
        free((void *)held[i].traces);
    }
    free(held);
    free(item_owner);
    for (int64_t i = 0; i < checkpoint.n_items; i++)
        mf_block_result_free(&checkpoint.items[i].result);
    free(checkpoint.items);
    free(checkpoint.done);
    free(item_done);
    free(config_text);
    mf_config_free(config);
    free(config);
    free(point);
    return status;
}

mf_status mf_save_population(const char *config_path, const char *const *overrides, int n_overrides,
                             const char *output_path, int force, FILE *summary) {
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
        for (int k = 0; k < config->market.n_assets; k++)
            prices[k] = config->market.assets[k].price;
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
    mf_config_free(config); /* a sweep's tables and point texts, not only the struct */
    free(config);
    if (status != MF_OK) mf_error_push_frame(__FILE__, __LINE__, __func__);
    return status;
}
