/* bench_margin: how fast the margin kernels and the whole per-path driver run on this
 * machine, and how that compares with the memory bandwidth the machine delivers.
 *
 *   1. STREAM-like triad a[i] = b[i] + s c[i] (24 bytes per element), best of several
 *      repetitions, per thread count and array size.
 *   2. The margin kernels alone (reference full sweep and prefiltered), one batch of paths
 *      with marks perturbed around the start prices, over every account in 1024-account
 *      chunks under `omp parallel for`, as src/engine/simulate.c does.
 *   3. mf_simulate_block end to end on the default scenario.
 *
 * It prints figures and never judges them (no timed assertions). docs/performance.md
 * explains the method and records one set of results. It calls no MPI function. */
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "margin.h"
#include "mf_version.h"
#include "rng.h"
#include "simulate.h"
#include "store.h"

#define CHUNK_ACCOUNTS 1024 /* the driver's MF_CHUNK_ACCOUNTS */
#define BATCH 8             /* paths per sweep, the default run.batch_paths */
#define MAX_LIST 16
#define MARK_SEED 20261125u /* fixed seed of the mark perturbation */

/* ------------------------------------------------------------------ options */

typedef struct {
    int64_t accounts[MAX_LIST];
    int n_accounts;
    int threads[MAX_LIST];
    int n_threads;
    double triad_mib[MAX_LIST];
    int n_triad;
    int triad_reps;
    double min_time;     /* seconds of kernel sweeps per margin measurement */
    double e2e_seconds;  /* target seconds per end-to-end measurement */
    int32_t large_steps; /* steps for populations >= large_accounts */
    int e2e_reps;        /* end-to-end runs per measurement, best reported */
    int64_t large_accounts;
    int32_t steps;         /* steps for the other populations */
    int64_t reference_max; /* end-to-end reference kernel up to this many accounts */
    double spread;         /* marks uniform in start price x (1 +- spread) */
    double wait_quiet;     /* wait up to this long for a quiet machine before a measurement */
    int do_bandwidth, do_margin, do_e2e;
    int quick;
} options;

static void usage(FILE *out) {
    fprintf(out,
            "usage: bench_margin [options]\n"
            "\n"
            "Prints the machine, then (1) triad memory bandwidth, (2) margin-kernel throughput,\n"
            "(3) end-to-end path-steps/s of mf_simulate_block. Figures only, no pass/fail.\n"
            "\n"
            "  --accounts LIST     population sizes, e.g. 1e4,1e5,1e6 (default; --quick: 1e4,1e5)\n"
            "  --threads LIST      OpenMP thread counts, e.g. 1,2 (default 1,2)\n"
            "  --only LIST         sections to run: bw,margin,e2e (default all)\n"
            "  --triad-mib LIST    MiB per triad array (default 0.25,64,1024; --quick: 0.25,64)\n"
            "  --min-time S        seconds of sweeps per kernel measurement (default 0.5)\n"
            "  --e2e-seconds S     target seconds per end-to-end measurement (default 2)\n"
            "  --e2e-reps N        end-to-end runs per measurement, best reported (default 2)\n"
            "  --steps N           steps per path end to end (default 1440, the default scenario)\n"
            "  --large-steps N     steps for populations >= 1e6 accounts (default 120)\n"
            "  --reference-max N   end-to-end reference kernel up to N accounts (default 1e4)\n"
            "  --spread X          mark perturbation, uniform +-X around start (default 0.03)\n"
            "  --wait-quiet S      before each measurement wait (up to S s) until other processes\n"
            "                      use < 5%% of the machine over 0.5 s (default 0: do not wait)\n"
            "  --quick             short smoke run (about 5 s)\n"
            "  --help              this text\n");
}

static int parse_count(const char *text, int64_t *value) {
    char *end = NULL;
    const double v = strtod(text, &end);
    if (end == text || !(v >= 1) || v > 1e12 || v != floor(v)) return -1;
    *value = (int64_t)v;
    return (int)(end - text);
}

static int parse_count_list(const char *text, int64_t *values, int *n) {
    *n = 0;
    const char *p = text;
    while (*p) {
        if (*n == MAX_LIST) return -1;
        const int used = parse_count(p, &values[*n]);
        if (used < 0) return -1;
        (*n)++;
        p += used;
        if (*p == ',')
            p++;
        else if (*p)
            return -1;
    }
    return *n > 0 ? 0 : -1;
}

static int parse_size_list(const char *text, double *values, int *n) {
    *n = 0;
    const char *p = text;
    while (*p) {
        if (*n == MAX_LIST) return -1;
        char *end = NULL;
        values[*n] = strtod(p, &end);
        if (end == p || !(values[*n] >= 0.01 && values[*n] <= 65536)) return -1;
        (*n)++;
        p = end;
        if (*p == ',')
            p++;
        else if (*p)
            return -1;
    }
    return *n > 0 ? 0 : -1;
}

static int parse_options(int argc, char **argv, options *o) {
    memset(o, 0, sizeof *o);
    int accounts_given = 0, triad_given = 0, min_time_given = 0, e2e_given = 0;
    int steps_given = 0, large_given = 0, reps_given = 0;
    o->threads[0] = 1;
    o->threads[1] = 2;
    o->n_threads = 2;
    o->triad_reps = 5;
    o->min_time = 0.5;
    o->e2e_seconds = 2.0;
    o->e2e_reps = 2;
    o->steps = 1440;
    o->large_steps = 120;
    o->large_accounts = 1000000;
    o->reference_max = 10000;
    o->spread = 0.03;
    o->do_bandwidth = o->do_margin = o->do_e2e = 1;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        int64_t list[MAX_LIST], count = 0;
        int n = 0;
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            usage(stdout);
            exit(0);
        } else if (!strcmp(arg, "--quick")) {
            o->quick = 1;
            continue;
        }
        if (!value) {
            fprintf(stderr, "bench_margin: unknown option or missing value: %s\n", arg);
            return -1;
        }
        i++;
        if (!strcmp(arg, "--accounts")) {
            if (parse_count_list(value, o->accounts, &o->n_accounts)) goto bad;
            accounts_given = 1;
        } else if (!strcmp(arg, "--threads")) {
            if (parse_count_list(value, list, &n)) goto bad;
            for (int j = 0; j < n; j++) {
                if (list[j] > 1024) goto bad;
                o->threads[j] = (int)list[j];
            }
            o->n_threads = n;
        } else if (!strcmp(arg, "--triad-mib")) {
            if (parse_size_list(value, o->triad_mib, &o->n_triad)) goto bad;
            triad_given = 1;
        } else if (!strcmp(arg, "--min-time")) {
            o->min_time = atof(value);
            if (!(o->min_time > 0)) goto bad;
            min_time_given = 1;
        } else if (!strcmp(arg, "--e2e-seconds")) {
            o->e2e_seconds = atof(value);
            if (!(o->e2e_seconds > 0)) goto bad;
            e2e_given = 1;
        } else if (!strcmp(arg, "--e2e-reps")) {
            if (parse_count(value, &count) < 0 || count > 100) goto bad;
            o->e2e_reps = (int)count;
            reps_given = 1;
        } else if (!strcmp(arg, "--steps")) {
            if (parse_count(value, &count) < 0 || count > 1000000) goto bad;
            o->steps = (int32_t)count;
            steps_given = 1;
        } else if (!strcmp(arg, "--large-steps")) {
            if (parse_count(value, &count) < 0 || count > 1000000) goto bad;
            o->large_steps = (int32_t)count;
            large_given = 1;
        } else if (!strcmp(arg, "--reference-max")) {
            if (parse_count(value, &o->reference_max) < 0) goto bad;
        } else if (!strcmp(arg, "--spread")) {
            o->spread = atof(value);
            if (!(o->spread >= 0 && o->spread < 0.5)) goto bad;
        } else if (!strcmp(arg, "--wait-quiet")) {
            o->wait_quiet = atof(value);
            if (!(o->wait_quiet >= 0)) goto bad;
        } else if (!strcmp(arg, "--only")) {
            o->do_bandwidth = strstr(value, "bw") != NULL;
            o->do_margin = strstr(value, "margin") != NULL;
            o->do_e2e = strstr(value, "e2e") != NULL;
            if (!o->do_bandwidth && !o->do_margin && !o->do_e2e) goto bad;
        } else {
            fprintf(stderr, "bench_margin: unknown option %s (see --help)\n", arg);
            return -1;
        }
        continue;
    bad:
        fprintf(stderr, "bench_margin: bad value for %s: '%s' (see --help)\n", arg, value);
        return -1;
    }
    if (!accounts_given) {
        const int64_t full[] = {10000, 100000, 1000000}, quick[] = {10000, 100000};
        o->n_accounts = o->quick ? 2 : 3;
        for (int j = 0; j < o->n_accounts; j++)
            o->accounts[j] = o->quick ? quick[j] : full[j];
    }
    if (!triad_given) {
        /* In L2, then 3 x 64 MiB, then well beyond the reported last-level cache. */
        const double full[] = {0.25, 64, 1024}, quick[] = {0.25, 64};
        o->n_triad = o->quick ? 2 : 3;
        for (int j = 0; j < o->n_triad; j++)
            o->triad_mib[j] = o->quick ? quick[j] : full[j];
    }
    if (o->quick) {
        o->triad_reps = 3;
        if (!min_time_given) o->min_time = 0.05;
        if (!e2e_given) o->e2e_seconds = 0.3;
        if (!reps_given) o->e2e_reps = 1;
        if (!steps_given) o->steps = 240;
        if (!large_given) o->large_steps = 60;
    }
    return 0;
}

/* ------------------------------------------------------------------ machine */

static void read_first_field(const char *path, const char *key, char *out, size_t size) {
    snprintf(out, size, "unknown");
    FILE *file = fopen(path, "r");
    if (!file) return;
    char line[512];
    const size_t key_len = strlen(key);
    while (fgets(line, sizeof line, file)) {
        if (key_len && strncmp(line, key, key_len) != 0) continue;
        const char *p = key_len ? strchr(line, ':') : line;
        if (!p) continue;
        if (key_len) p++;
        while (*p == ' ' || *p == '\t')
            p++;
        size_t length = strcspn(p, "\n");
        if (length >= size) length = size - 1;
        memcpy(out, p, length);
        out[length] = 0;
        break;
    }
    fclose(file);
}

static int count_processors(void) {
    FILE *file = fopen("/proc/cpuinfo", "r");
    if (!file) return omp_get_num_procs();
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, file))
        if (!strncmp(line, "processor", 9)) n++;
    fclose(file);
    return n > 0 ? n : omp_get_num_procs();
}

static void print_machine(const options *o) {
    char cpu[256], llc[64], mem[64], load[128], stamp[64];
    read_first_field("/proc/cpuinfo", "model name", cpu, sizeof cpu);
    read_first_field("/sys/devices/system/cpu/cpu0/cache/index3/size", "", llc, sizeof llc);
    read_first_field("/proc/meminfo", "MemTotal", mem, sizeof mem);
    read_first_field("/proc/loadavg", "", load, sizeof load);
    const time_t now = time(NULL);
    struct tm utc;
    gmtime_r(&now, &utc);
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M UTC", &utc);
    printf("bench_margin  marginfall %s (commit %s), %s, flags:%s\n", MF_VERSION_STRING,
           MF_GIT_COMMIT, MF_COMPILER, MF_COMPILE_FLAGS);
    printf("date          %s\n", stamp);
    printf("cpu           %s\n", cpu);
    printf("cores         %d online (omp_get_num_procs %d), OMP max threads %d, thread counts:",
           count_processors(), omp_get_num_procs(), omp_get_max_threads());
    for (int i = 0; i < o->n_threads; i++)
        printf(" %d", o->threads[i]);
    printf("\n");
    printf("last cache    %s (as reported by the kernel)   memory %s\n", llc, mem);
    printf("load average  %s  (other work on the machine skews every figure)\n", load);
    printf("others        column in every table: share of the machine's CPU time that other\n"
           "              processes (or the hypervisor: steal) used during that measurement\n"
           "              (/proc/stat busy time minus this process's CPU time)\n");
    if (o->wait_quiet > 0)
        printf("wait-quiet    up to %.0f s before each measurement for others < 5%%\n",
               o->wait_quiet);
    if (o->quick) printf("mode          --quick (smoke run: short timings, figures are rough)\n");
    printf("\n");
}

/* How much of the machine other processes used during a measurement: busy CPU time of the
 * whole machine (/proc/stat) minus this process's own CPU time, over wall time x cores. */
typedef struct {
    double wall, own_cpu, busy_all;
} meter;

static double machine_busy_seconds(void) {
    FILE *file = fopen("/proc/stat", "r");
    if (!file) return NAN;
    unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0,
                       steal = 0;
    const int n = fscanf(file, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &system,
                         &idle, &iowait, &irq, &softirq, &steal);
    fclose(file);
    if (n < 7) return NAN;
    (void)idle;
    (void)iowait;
    return (double)(user + nice + system + irq + softirq + steal) / 100.0; /* USER_HZ */
}

static double own_cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static meter meter_start(void) {
    meter m = {omp_get_wtime(), own_cpu_seconds(), machine_busy_seconds()};
    return m;
}

/* Share of the machine's cores used by other processes since meter_start. */
static double meter_others(const meter *m) {
    const double wall = omp_get_wtime() - m->wall;
    const double own = own_cpu_seconds() - m->own_cpu;
    const double all = machine_busy_seconds() - m->busy_all;
    const double share = (all - own) / (wall * omp_get_num_procs());
    if (isnan(share) || wall < 0.05) return NAN; /* /proc/stat counts 10 ms ticks */
    return share < 0 ? 0 : share;
}

/* "12%" or "-" when the measurement was too short to tell. */
static const char *share_text(double share, char *text, size_t size) {
    if (isnan(share))
        snprintf(text, size, "-");
    else
        snprintf(text, size, "%.0f%%", 100.0 * share);
    return text;
}

static void sleep_seconds(double seconds) {
    struct timespec ts;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - floor(seconds)) * 1e9);
    nanosleep(&ts, NULL);
}

/* Wait until other processes leave the machine (almost) idle, at most o->wait_quiet s. */
static void wait_quiet(const options *o) {
    if (o->wait_quiet <= 0) return;
    const double t0 = omp_get_wtime();
    for (;;) {
        const meter m = meter_start();
        sleep_seconds(0.5);
        const double others = meter_others(&m);
        if (!(others >= 0.05)) return;
        if (omp_get_wtime() - t0 > o->wait_quiet) {
            printf("  (machine still busy after %.0f s of waiting: %.0f%% used by others)\n",
                   o->wait_quiet, 100.0 * others);
            return;
        }
    }
}

/* ------------------------------------------------------------------ 1. bandwidth */

/* Best triad bandwidth (GB/s) per (size, thread count); [size][thread] */
static double g_triad[MAX_LIST][MAX_LIST];
static int g_have_triad;

static double *alloc_doubles(size_t n) {
    size_t bytes = n * sizeof(double);
    bytes = (bytes + 63) / 64 * 64;
    return aligned_alloc(64, bytes);
}

/* `inner` back-to-back triads (small arrays need many to be timed); seconds per triad. */
static double triad_time(double *a, const double *b, const double *c, int64_t n, double s,
                         int inner) {
    const double t0 = omp_get_wtime();
#pragma omp parallel
    for (int r = 0; r < inner; r++) {
#pragma omp for schedule(static)
        for (int64_t i = 0; i < n; i++)
            a[i] = b[i] + s * c[i];
    }
    return (omp_get_wtime() - t0) / inner;
}

static void bench_bandwidth(const options *o) {
    printf("== 1. Memory bandwidth: triad a[i] = b[i] + s*c[i], 24 bytes/element, best of %d ==\n",
           o->triad_reps);
    printf("%16s %8s %8s %12s %10s %10s %7s\n", "arrays", "threads", "inner", "best us/triad",
           "GB/s", "mean GB/s", "others");
    for (int si = 0; si < o->n_triad; si++) {
        const int64_t n = (int64_t)(o->triad_mib[si] * 1024 * 1024) / (int64_t)sizeof(double);
        double *a = alloc_doubles((size_t)n), *b = alloc_doubles((size_t)n),
               *c = alloc_doubles((size_t)n);
        if (!a || !b || !c) {
            printf("  (cannot allocate 3 x %g MiB, skipped)\n", o->triad_mib[si]);
            free(a), free(b), free(c);
            continue;
        }
        /* About 2 GiB of traffic per timed repetition, at least one triad. */
        int inner = (int)(2048.0 / (3.0 * o->triad_mib[si]));
        if (inner < 1) inner = 1;
        /* First touch with every thread, as the measured loops will. */
        omp_set_num_threads(o->threads[o->n_threads - 1]);
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < n; i++) {
            a[i] = 0.0;
            b[i] = 1.0 + (double)(i & 7);
            c[i] = 0.5;
        }
        for (int ti = 0; ti < o->n_threads; ti++) {
            omp_set_num_threads(o->threads[ti]);
            wait_quiet(o);
            const meter row = meter_start();
            triad_time(a, b, c, n, 3.0, inner); /* warm-up: threads spawned, pages mapped */
            double best = INFINITY, total = 0;
            for (int r = 0; r < o->triad_reps; r++) {
                const double t = triad_time(a, b, c, n, 3.0 + r, inner);
                total += t;
                if (t < best) best = t;
            }
            const double bytes = 24.0 * (double)n;
            g_triad[si][ti] = bytes / best / 1e9;
            char others[16];
            printf("%9g MiB x3 %8d %8d %12.1f %10.2f %10.2f %7s\n", o->triad_mib[si],
                   o->threads[ti], inner, best * 1e6, g_triad[si][ti],
                   bytes / (total / o->triad_reps) / 1e9,
                   share_text(meter_others(&row), others, sizeof others));
        }
        /* Use the result so the loops cannot be dropped: a = b + (3 + reps - 1) c. */
        const double expect = b[n / 2] + (3.0 + o->triad_reps - 1) * c[n / 2];
        if (a[n / 2] != expect) printf("  (triad check failed: %g != %g)\n", a[n / 2], expect);
        free(a), free(b), free(c);
        g_have_triad = 1;
    }
    printf("  (STREAM convention: the write-allocate read of a[] is not counted; the hardware\n"
           "   moves 32 bytes/element unless stores bypass the cache)\n\n");
}

/* The bandwidth a kernel result is compared with: the largest triad size measured. */
static double reference_bandwidth(const options *o, int thread_index) {
    if (!g_have_triad) return NAN;
    return g_triad[o->n_triad - 1][thread_index];
}

/* ------------------------------------------------------------------ populations */

typedef struct {
    mf_config config; /* the model keeps a pointer to it: never moved */
    mf_store store;
    mf_model model;
    double generate_s, build_s;
    int64_t isolated_accounts, isolated_positions;
} population;

static void fail(const char *what) {
    fprintf(stderr, "bench_margin: %s failed: %s\n%s", what, mf_error_message(),
            mf_error_traceback());
    exit(1);
}

static population *population_create(int64_t accounts, int32_t steps) {
    population *pop = calloc(1, sizeof *pop);
    if (!pop) fail("calloc");
    char accounts_override[64], batch_override[64], steps_override[64];
    snprintf(accounts_override, sizeof accounts_override, "population.accounts=%lld",
             (long long)accounts);
    snprintf(batch_override, sizeof batch_override, "run.batch_paths=%d", BATCH);
    snprintf(steps_override, sizeof steps_override, "run.steps=%d", (int)steps);
    const char *overrides[] = {accounts_override, batch_override, steps_override};
    if (mf_config_load(&pop->config, NULL, overrides, 3) != MF_OK) fail("mf_config_load");
    double t0 = omp_get_wtime();
    if (mf_population_generate(&pop->store, &pop->config) != MF_OK) fail("mf_population_generate");
    pop->generate_s = omp_get_wtime() - t0;
    t0 = omp_get_wtime();
    if (mf_model_build(&pop->model, &pop->config, &pop->store) != MF_OK) fail("mf_model_build");
    pop->build_s = omp_get_wtime() - t0;
    const mf_store *s = &pop->store;
    for (int64_t a = 0; a < s->n_accounts; a++) {
        if (s->account_mode[a] != MF_MODE_ISOLATED) continue;
        pop->isolated_accounts++;
        pop->isolated_positions += s->account_positions[a];
    }
    return pop;
}

static void population_free(population *pop) {
    mf_model_free(&pop->model);
    mf_store_free(&pop->store);
    free(pop);
}

/* Bytes of the store per account and per position, from the element types themselves. */
static size_t store_account_bytes(const mf_store *s) {
    return sizeof *s->account_mode + sizeof *s->account_collateral + sizeof *s->account_first +
           sizeof *s->account_positions;
}
static size_t store_position_bytes(const mf_store *s) {
    return sizeof *s->position_account + sizeof *s->position_asset + sizeof *s->position_quantity +
           sizeof *s->position_entry + sizeof *s->position_margin;
}

static void print_population(const population *pop) {
    const mf_store *s = &pop->store;
    const double store_mb = ((double)store_account_bytes(s) * (double)s->n_accounts +
                             (double)store_position_bytes(s) * (double)s->n_positions) /
                            1e6;
    printf("  population %lld accounts (%lld isolated), %lld positions (%.2f per account); "
           "store %.1f MB; generated in %.2f s, model built in %.2f s\n",
           (long long)s->n_accounts, (long long)pop->isolated_accounts, (long long)s->n_positions,
           (double)s->n_positions / (double)s->n_accounts, store_mb, pop->generate_s, pop->build_s);
}

/* ------------------------------------------------------------------ 2. margin kernels */

typedef struct {
    double seconds_per_sweep; /* median */
    double mean_seconds;
    int64_t sweeps;
    int64_t flagged; /* flags raised by one sweep */
} sweep_result;

static const mf_margin_model *reference_of(mf_margin_mode mode) {
    for (int i = 0; i < mf_n_margin_models; i++)
        if (mf_margin_models[i].mode == mode && mf_margin_models[i].kind == MF_MODEL_REFERENCE)
            return &mf_margin_models[i];
    fail("reference margin model lookup");
    return NULL;
}

/* One margin-model call over accounts [begin, end) of group g (neutral market vectors): the
 * group's model, or the reference model of its mode. */
static int64_t check_range(const mf_model *model, int g, int reference, const mf_tier_table *tiers,
                           int64_t begin, int64_t end, const double *marks, const uint8_t *active,
                           uint8_t *account_state, uint8_t *position_state) {
    const mf_venue *venue = &model->scenario.venues[0];
    const mf_margin_group *group = &venue->groups[g];
    const mf_margin_model *m = reference ? reference_of(group->model->mode) : group->model;
    double funding[MF_MAX_ASSETS * BATCH], scale[MF_MAX_ASSETS * BATCH];
    for (int i = 0; i < MF_MAX_ASSETS * BATCH; i++) {
        funding[i] = 0;
        scale[i] = 1;
    }
    mf_margin_call call = {0};
    call.book = &venue->book;
    call.tiers = tiers;
    call.accounts = group->accounts;
    call.begin = begin;
    call.end = end;
    call.batch = BATCH;
    call.marks = marks;
    call.vectors = (mf_market_vectors){funding, scale, 1};
    call.active = active;
    call.account_state = account_state;
    call.position_state = position_state;
    call.prepared = reference ? NULL : group->prepared;
    return m->check(&call);
}

static int64_t sweep(const mf_model *model, int reference, const double *marks,
                     const uint8_t *active, uint8_t *account_state, uint8_t *position_state) {
    const mf_venue *venue = &model->scenario.venues[0];
    int64_t flagged = 0;
    for (int g = 0; g < venue->n_groups; g++) {
        const int64_t n = venue->groups[g].n_accounts;
        const int64_t n_chunks = (n + CHUNK_ACCOUNTS - 1) / CHUNK_ACCOUNTS;
#pragma omp parallel for schedule(dynamic, 4) reduction(+ : flagged)
        for (int64_t chunk = 0; chunk < n_chunks; chunk++) {
            const int64_t begin = chunk * CHUNK_ACCOUNTS;
            int64_t end = begin + CHUNK_ACCOUNTS;
            if (end > n) end = n;
            flagged += check_range(model, g, reference, &venue->tiers, begin, end, marks, active,
                                   account_state, position_state);
        }
    }
    return flagged;
}

/* Undo a sweep's flags without dirtying cache lines the sweep left clean. */
static void reset_states(uint8_t *states, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (states[i]) states[i] = 0;
}

static int compare_doubles(const void *x, const void *y) {
    const double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static sweep_result time_sweeps(const mf_model *model, int reference, double min_time,
                                const double *marks, const uint8_t *active, uint8_t *account_state,
                                uint8_t *position_state) {
    const size_t n_account_states = (size_t)model->scenario.venues[0].book.n_accounts * BATCH;
    const size_t n_position_states = (size_t)model->scenario.venues[0].book.n_positions * BATCH;
    sweep_result result = {0};
    /* One untimed sweep: threads started, caches and TLB as in steady state. */
    result.flagged = sweep(model, reference, marks, active, account_state, position_state);
    size_t capacity = 1024;
    double *times = malloc(capacity * sizeof *times);
    if (!times) fail("malloc");
    double total = 0;
    while (total < min_time || result.sweeps < 5) {
        reset_states(account_state, n_account_states);
        reset_states(position_state, n_position_states);
        const double t0 = omp_get_wtime();
        const int64_t flagged =
            sweep(model, reference, marks, active, account_state, position_state);
        const double t = omp_get_wtime() - t0;
        total += t;
        if ((size_t)result.sweeps == capacity) {
            capacity *= 2;
            double *grown = realloc(times, capacity * sizeof *times);
            if (!grown) fail("realloc");
            times = grown;
        }
        times[result.sweeps++] = t;
        if (flagged != result.flagged)
            printf("  (sweeps disagree: %lld vs %lld flags)\n", (long long)flagged,
                   (long long)result.flagged);
    }
    reset_states(account_state, n_account_states);
    reset_states(position_state, n_position_states);
    qsort(times, (size_t)result.sweeps, sizeof *times, compare_doubles);
    result.seconds_per_sweep = times[result.sweeps / 2];
    result.mean_seconds = total / (double)result.sweeps;
    free(times);
    return result;
}

/* Which accounts the filtered kernel hands to the exact check, measured without knowing how
 * its prefilter works: run it with a maintenance table that fails every exact check (mmr
 * 1e6), so every (entity, path) the exact check examines gets flagged, while the prefilter
 * keeps the model's safe prices. States must be zero on entry; they are zero on return. */
typedef struct {
    int64_t accounts, positions, pairs;
} prefilter_result;

static prefilter_result prefilter_stats(const mf_model *model, const double *marks,
                                        const uint8_t *active, uint8_t *account_state,
                                        uint8_t *position_state) {
    const mf_venue *venue = &model->scenario.venues[0];
    const mf_book_view *book = &venue->book;
    mf_tier_table poisoned = venue->tiers;
    for (int k = 0; k < MF_MAX_ASSETS; k++)
        for (int t = 0; t < MF_MAX_TIERS; t++) {
            poisoned.mmr[k][t] = 1e6;
            poisoned.cum_usd[k][t] = 0;
        }
    prefilter_result r = {0, 0, 0};
    for (int g = 0; g < venue->n_groups; g++)
        for (int64_t begin = 0; begin < venue->groups[g].n_accounts; begin += CHUNK_ACCOUNTS) {
            int64_t end = begin + CHUNK_ACCOUNTS;
            if (end > venue->groups[g].n_accounts) end = venue->groups[g].n_accounts;
            r.pairs += check_range(model, g, 0, &poisoned, begin, end, marks, active, account_state,
                                   position_state);
        }
    for (int64_t a = 0; a < book->n_accounts; a++) {
        const int64_t first = book->account_first[a];
        const int64_t stop = first + book->account_positions[a];
        int examined = 0;
        for (int b = 0; b < BATCH; b++)
            examined |= account_state[a * BATCH + b];
        for (int64_t p = first; p < stop; p++)
            for (int b = 0; b < BATCH; b++)
                examined |= position_state[p * BATCH + b];
        if (!examined) continue;
        r.accounts++;
        r.positions += stop - first;
    }
    reset_states(account_state, (size_t)book->n_accounts * BATCH);
    reset_states(position_state, (size_t)book->n_positions * BATCH);
    return r;
}

/* Filtered-kernel sweep times per [population][thread], for the end-to-end comparison. */
static double g_filtered_sweep[MAX_LIST][MAX_LIST];

static void bench_margin_kernels(const options *o) {
    printf("== 2. Margin kernels: batch of %d paths, marks uniform in start x (1 +- %.3g), "
           ">= %.2g s of sweeps each ==\n",
           BATCH, o->spread, o->min_time);
    printf("  checks = positions x batch per sweep; bytes/check = bytes the kernel reads per "
           "sweep / checks\n");
    printf("  reference bytes per sweep: accounts x (mode 1 + collateral 8 + first 8 + count 4 + "
           "state %d)\n"
           "                          + positions x (asset 1 + quantity 8 + entry 8 + margin 8 + "
           "state %d)\n",
           BATCH, BATCH);
    printf("  filtered bytes per sweep: positions x (slot 1 + bound 8), the compacted "
           "stream\n"
           "                          + the reference bytes of the accounts it passes to the "
           "exact check\n");
    printf("  rates use the median sweep time; GB/s = bytes per sweep / time; %% bw = GB/s / triad "
           "GB/s at the same thread count "
           "(largest array size)\n\n");
    for (int pi = 0; pi < o->n_accounts; pi++) {
        population *pop = population_create(o->accounts[pi], 1440);
        print_population(pop);
        const mf_model *model = &pop->model;
        const mf_book_view *book = &model->scenario.venues[0].book;
        const int64_t n_acc = book->n_accounts, n_pos = book->n_positions;
        uint8_t *account_state = calloc((size_t)n_acc * BATCH, 1);
        uint8_t *position_state = calloc((size_t)n_pos * BATCH, 1);
        uint8_t *check_account = calloc((size_t)n_acc * BATCH, 1);
        uint8_t *check_position = calloc((size_t)n_pos * BATCH, 1);
        if (!account_state || !position_state || !check_account || !check_position)
            fail("state allocation");
        double marks[MF_MAX_ASSETS * BATCH];
        uint8_t active[BATCH];
        mf_pcg64 rng;
        mf_pcg64_seed(&rng, MARK_SEED);
        for (int k = 0; k < book->n_assets; k++)
            for (int b = 0; b < BATCH; b++)
                marks[k * BATCH + b] = pop->config.market.assets[k].price *
                                       (1.0 + o->spread * (2.0 * mf_rng_uniform(&rng) - 1.0));
        for (int b = 0; b < BATCH; b++)
            active[b] = 1;

        double start_marks[MF_MAX_ASSETS * BATCH];
        for (int k = 0; k < book->n_assets; k++)
            for (int b = 0; b < BATCH; b++)
                start_marks[k * BATCH + b] = pop->config.market.assets[k].price;
        const prefilter_result pass0 =
            prefilter_stats(model, start_marks, active, account_state, position_state);
        const prefilter_result pass =
            prefilter_stats(model, marks, active, account_state, position_state);
        const int64_t pass_accounts = pass.accounts, pass_positions = pass.positions;
        const double account_bytes = 1 + 8 + 8 + 4 + BATCH;
        const double position_bytes = 1 + 8 + 8 + 8 + BATCH;
        const double reference_bytes =
            (double)n_acc * account_bytes + (double)n_pos * position_bytes;
        const double filtered_bytes = (double)n_pos * 9 + (double)pass_accounts * account_bytes +
                                      (double)pass_positions * position_bytes;
        const double filtered0_bytes = (double)n_pos * 9 + (double)pass0.accounts * account_bytes +
                                       (double)pass0.positions * position_bytes;
        const double checks = (double)n_pos * BATCH;
        const int64_t entities = (n_acc - pop->isolated_accounts) + pop->isolated_positions;
        printf("  prefilter: %lld of %lld accounts (%.2f%%) with %lld of %lld positions (%.2f%%) "
               "go to the exact check;\n"
               "             it examines %lld of %lld (entity, path) pairs (%.2f%%)\n",
               (long long)pass_accounts, (long long)n_acc,
               100.0 * (double)pass_accounts / (double)n_acc, (long long)pass_positions,
               (long long)n_pos, 100.0 * (double)pass_positions / (double)n_pos,
               (long long)pass.pairs, (long long)(entities * BATCH),
               100.0 * (double)pass.pairs / (double)(entities * BATCH));
        printf("  with every mark at its start price (row filt@P0) %lld accounts (%.2f%%) go to "
               "the exact check\n",
               (long long)pass0.accounts, 100.0 * (double)pass0.accounts / (double)n_acc);

        /* Same flags from both kernels (they are specified to agree exactly). */
        const int64_t flags_reference =
            sweep(model, 1, marks, active, check_account, check_position);
        const int64_t flags_filtered =
            sweep(model, 0, marks, active, account_state, position_state);
        const int same = flags_reference == flags_filtered &&
                         !memcmp(check_account, account_state, (size_t)n_acc * BATCH) &&
                         !memcmp(check_position, position_state, (size_t)n_pos * BATCH);
        printf("  one sweep flags %lld (entity, path) pairs; reference and filtered flags "
               "identical: %s\n",
               (long long)flags_reference, same ? "yes" : "NO");
        reset_states(account_state, (size_t)n_acc * BATCH);
        reset_states(position_state, (size_t)n_pos * BATCH);
        free(check_account);
        free(check_position);

        printf("  %-9s %7s %7s %10s %10s %12s %9s %8s %8s %7s %7s\n", "kernel", "threads", "sweeps",
               "ms median", "ms mean", "Mchecks/s", "ns/check", "B/check", "GB/s", "% bw",
               "others");
        for (int ti = 0; ti < o->n_threads; ti++) {
            omp_set_num_threads(o->threads[ti]);
            /* variant 2: reference, 1: filtered, 0: filtered with marks at the start prices */
            for (int variant = 2; variant >= 0; variant--) {
                const int reference = variant == 2;
                wait_quiet(o);
                const meter row = meter_start();
                const sweep_result r =
                    time_sweeps(model, reference, o->min_time, variant ? marks : start_marks,
                                active, account_state, position_state);
                const double bytes =
                    reference ? reference_bytes : (variant ? filtered_bytes : filtered0_bytes);
                const double gbs = bytes / r.seconds_per_sweep / 1e9;
                const double bw = reference_bandwidth(o, ti);
                if (variant == 1) g_filtered_sweep[pi][ti] = r.seconds_per_sweep;
                char fraction[16] = "-";
                if (!isnan(bw)) snprintf(fraction, sizeof fraction, "%.1f%%", 100.0 * gbs / bw);
                char others[16];
                printf("  %-9s %7d %7lld %10.3f %10.3f %12.1f %9.3f %8.2f %8.2f %7s %7s\n",
                       reference ? "reference" : (variant ? "filtered" : "filt@P0"), o->threads[ti],
                       (long long)r.sweeps, r.seconds_per_sweep * 1e3, r.mean_seconds * 1e3,
                       checks / r.seconds_per_sweep / 1e6, r.seconds_per_sweep / checks * 1e9,
                       bytes / checks, gbs, fraction,
                       share_text(meter_others(&row), others, sizeof others));
            }
        }
        printf("\n");
        free(account_state);
        free(position_state);
        population_free(pop);
    }
}

/* ------------------------------------------------------------------ 3. end to end */

typedef struct {
    double seconds;
    /* Sums over the block's paths, and over its first batch: the same whatever the threads,
     * kernel or batch placement, so they check that every run did the same work. */
    double notional, first_notional;
    int64_t accounts, first_accounts, cascades;
    double mean_max_rounds;
} e2e_result;

static e2e_result run_block(const mf_model *model, int64_t n_paths) {
    mf_workspace *ws = NULL;
    mf_block_result block;
    if (mf_workspace_create(&ws, model) != MF_OK) fail("mf_workspace_create");
    if (mf_block_result_init(&block, model->steps, 0, n_paths) != MF_OK)
        fail("mf_block_result_init");
    const double t0 = omp_get_wtime();
    if (mf_simulate_block(model, ws, &block) != MF_OK) fail("mf_simulate_block");
    e2e_result r;
    memset(&r, 0, sizeof r);
    r.seconds = omp_get_wtime() - t0;
    r.cascades = block.n_cascades;
    for (int64_t i = 0; i < n_paths; i++) {
        r.notional += block.rows[i].liquidated_notional;
        r.accounts += block.rows[i].liquidated_accounts;
        r.mean_max_rounds += block.rows[i].max_rounds / (double)n_paths;
        if (i < BATCH) {
            r.first_notional += block.rows[i].liquidated_notional;
            r.first_accounts += block.rows[i].liquidated_accounts;
        }
    }
    mf_block_result_free(&block);
    mf_workspace_free(ws);
    return r;
}

/* The run driver's other mode (src/run/run.c): with enough blocks, each thread simulates whole
 * blocks of run.block_paths paths with its own workspace and the sweeps run serially. */
static e2e_result run_by_blocks(const mf_model *model, int64_t n_paths, int threads) {
    const int64_t block_paths = model->config->run.block_paths;
    const int64_t n_blocks = (n_paths + block_paths - 1) / block_paths;
    mf_workspace *workspaces[MAX_LIST * 64] = {0};
    mf_block_result *blocks = calloc((size_t)n_blocks, sizeof *blocks);
    if (!blocks || threads > MAX_LIST * 64) fail("by-block setup");
    for (int t = 0; t < threads; t++)
        if (mf_workspace_create(&workspaces[t], model) != MF_OK) fail("mf_workspace_create");
    for (int64_t i = 0; i < n_blocks; i++) {
        const int64_t first = i * block_paths;
        const int64_t count = first + block_paths <= n_paths ? block_paths : n_paths - first;
        if (mf_block_result_init(&blocks[i], model->steps, first, count) != MF_OK)
            fail("mf_block_result_init");
    }
    int failed = 0;
    const double t0 = omp_get_wtime();
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) reduction(| : failed)
    for (int64_t i = 0; i < n_blocks; i++)
        failed |= mf_simulate_block(model, workspaces[omp_get_thread_num()], &blocks[i]) != MF_OK;
    e2e_result r;
    memset(&r, 0, sizeof r);
    r.seconds = omp_get_wtime() - t0;
    if (failed) fail("mf_simulate_block (by block)");
    for (int64_t i = 0; i < n_blocks; i++) {
        r.cascades += blocks[i].n_cascades;
        for (int64_t j = 0; j < blocks[i].n_paths; j++) {
            const mf_path_row *row = &blocks[i].rows[j];
            const int64_t path = blocks[i].first_path + j;
            r.notional += row->liquidated_notional;
            r.accounts += row->liquidated_accounts;
            r.mean_max_rounds += row->max_rounds / (double)n_paths;
            if (path < BATCH) {
                r.first_notional += row->liquidated_notional;
                r.first_accounts += row->liquidated_accounts;
            }
        }
        mf_block_result_free(&blocks[i]);
    }
    for (int t = 0; t < threads; t++)
        mf_workspace_free(workspaces[t]);
    free(blocks);
    return r;
}

static int same_paths(const e2e_result *x, const e2e_result *y) {
    return x->notional == y->notional && x->accounts == y->accounts && x->cascades == y->cascades;
}

static void bench_end_to_end(const options *o) {
    printf("== 3. End to end: mf_simulate_block, default scenario (3 assets, batch %d) ==\n",
           BATCH);
    printf(
        "  paths per kernel chosen (multiple of %d, one batch at least) so that one thread takes\n"
        "  about %.3g s; every thread count runs the same paths; best of %d runs, spread =\n"
        "  (slowest - best) / best; step/sweep = seconds per batch-step / seconds per filtered\n"
        "  sweep of section 2 at the same thread count (a step's cost in full sweeps);\n"
        "  mode chunks: threads share each sweep's 1024-account chunks (mf_simulate_block alone);\n"
        "  mode blocks: each thread runs whole blocks of run.block_paths paths with its own\n"
        "  workspace, sweeps serial (what `marginfall run` does when blocks >= 2 x threads)\n",
        BATCH, o->e2e_seconds, o->e2e_reps);
    for (int pi = 0; pi < o->n_accounts; pi++) {
        const int64_t accounts = o->accounts[pi];
        const int32_t steps = accounts >= o->large_accounts ? o->large_steps : o->steps;
        population *pop = population_create(accounts, steps);
        print_population(pop);
        if (steps != 1440)
            printf("  NOTE: run.steps=%d here (the default scenario has 1440)\n", (int)steps);
        const int64_t n_acc = pop->store.n_accounts, n_pos = pop->store.n_positions;
        printf("  memory: store %.1f MB + prefilter bounds %.1f MB (shared by all paths); "
               "per-batch state (accounts + positions) x %d = %.1f MB\n",
               ((double)store_account_bytes(&pop->store) * (double)n_acc +
                (double)store_position_bytes(&pop->store) * (double)n_pos) /
                   1e6,
               17.0 * (double)n_pos / 1e6, BATCH, (double)(n_acc + n_pos) * BATCH / 1e6);
        printf("  %-9s %7s %7s %6s %6s %9s %7s %10s %12s %14s %10s %7s\n", "kernel", "threads",
               "mode", "paths", "steps", "best s", "spread", "paths/s", "path-steps/s",
               "acct-steps/s", "step/sweep", "others");
        e2e_result first_batch_reference = {0};
        int have_reference = 0, all_same = 1;
        double mean_rounds = 0;
        for (int reference = 0; reference <= 1; reference++) {
            if (reference && accounts > o->reference_max) continue;
            pop->config.run.margin_kernel =
                reference ? MF_MARGIN_KERNEL_REFERENCE : MF_MARGIN_KERNEL_FILTERED;
            mf_model_free(&pop->model);
            if (mf_model_build(&pop->model, &pop->config, &pop->store) != MF_OK)
                fail("mf_model_build");
            /* Calibrate with one batch on the first thread count (it is also a warm-up). */
            omp_set_num_threads(o->threads[0]);
            wait_quiet(o);
            const e2e_result probe = run_block(&pop->model, BATCH);
            int64_t n_paths = BATCH;
            if (probe.seconds < o->e2e_seconds / 2) {
                int64_t batches = (int64_t)(o->e2e_seconds / probe.seconds);
                if (batches < 1) batches = 1;
                if (batches > 64) batches = 64;
                n_paths = batches * BATCH;
                /* Whole blocks for every thread in the "blocks" rows, when that is possible. */
                int max_threads = 1;
                for (int ti = 0; ti < o->n_threads; ti++)
                    if (o->threads[ti] > max_threads) max_threads = o->threads[ti];
                const int64_t unit = pop->config.run.block_paths * max_threads;
                if (n_paths >= 2 * unit) n_paths = n_paths / unit * unit;
            }
            if (!have_reference) {
                first_batch_reference = probe;
                have_reference = 1;
            } else if (probe.first_notional != first_batch_reference.first_notional ||
                       probe.first_accounts != first_batch_reference.first_accounts) {
                all_same = 0;
            }
            e2e_result kernel_first = {0};
            const int64_t block_paths = pop->config.run.block_paths;
            const int64_t n_blocks = (n_paths + block_paths - 1) / block_paths;
            /* Rows: every thread count sharing the sweeps ("chunks"), then the thread counts
             * > 1 with whole blocks per thread ("blocks"), when there are 2 blocks per thread. */
            for (int ri = 0; ri < 2 * o->n_threads; ri++) {
                const int ti = ri % o->n_threads;
                const int by_block = ri >= o->n_threads;
                if (by_block && (o->threads[ti] < 2 || n_blocks < 2 * o->threads[ti])) {
                    if (o->threads[ti] >= 2)
                        printf("  %-9s %7d  blocks: skipped, %lld paths make fewer than 2 blocks "
                               "of %lld per thread\n",
                               reference ? "reference" : "filtered", o->threads[ti],
                               (long long)n_paths, (long long)block_paths);
                    continue;
                }
                omp_set_num_threads(o->threads[ti]);
                double best = INFINITY, worst = 0, others = 0;
                e2e_result r = {0};
                for (int rep = 0; rep < o->e2e_reps; rep++) {
                    wait_quiet(o);
                    const meter row = meter_start();
                    const e2e_result run = by_block
                                               ? run_by_blocks(&pop->model, n_paths, o->threads[ti])
                                               : run_block(&pop->model, n_paths);
                    const double share = meter_others(&row);
                    if (run.seconds < best) {
                        best = run.seconds;
                        others = share;
                    }
                    if (run.seconds > worst) worst = run.seconds;
                    if (ti == 0 && rep == 0)
                        kernel_first = run;
                    else if (!same_paths(&run, &kernel_first))
                        all_same = 0;
                    r = run;
                }
                mean_rounds = r.mean_max_rounds;
                const double path_steps = (double)n_paths * steps;
                double ratio = NAN;
                if (o->do_margin && g_filtered_sweep[pi][ti] > 0 && !by_block)
                    ratio = best / ((double)n_paths / BATCH * steps) / g_filtered_sweep[pi][ti];
                char ratio_text[16] = "-";
                if (!isnan(ratio)) snprintf(ratio_text, sizeof ratio_text, "%.2f", ratio);
                char others_text[16];
                printf("  %-9s %7d %7s %6lld %6d %9.3f %6.1f%% %10.2f %12.4g %14.4g %10s %7s\n",
                       reference ? "reference" : "filtered", o->threads[ti],
                       by_block ? "blocks" : "chunks", (long long)n_paths, (int)steps, best,
                       100.0 * (worst - best) / best, (double)n_paths / best, path_steps / best,
                       path_steps * (double)n_acc / best, ratio_text,
                       share_text(others, others_text, sizeof others_text));
            }
        }
        printf("  first batch: liquidated $%.6g, %lld accounts; most cascade rounds in one step, "
               "mean over paths %.1f;\n  identical across runs, threads and kernels: %s\n\n",
               first_batch_reference.first_notional,
               (long long)first_batch_reference.first_accounts, mean_rounds,
               all_same ? "yes" : "NO");
        population_free(pop);
    }
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv) {
    options o;
    if (parse_options(argc, argv, &o)) {
        usage(stderr);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* As src/run/run.c: threads running whole blocks must not fan out again inside the sweeps. */
    omp_set_max_active_levels(1);
    print_machine(&o);
    const double t0 = omp_get_wtime();
    if (o.do_bandwidth) bench_bandwidth(&o);
    if (o.do_margin) bench_margin_kernels(&o);
    if (o.do_e2e) bench_end_to_end(&o);
    char load[128];
    read_first_field("/proc/loadavg", "", load, sizeof load);
    printf("total %.1f s; load average now %s\n", omp_get_wtime() - t0, load);
    return 0;
}
