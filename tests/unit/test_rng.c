/* PCG64 / SeedSequence known answers against numpy (fixtures written by
 * tools/make_pcg64_fixtures.py) and statistical checks of the distributions at fixed seeds. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

#define FIXTURE_DIR MF_SOURCE_DIR "/tests/fixtures/pcg64/"
#define N_RAW 8

/* ---------------------------------------------------------------------------------------- */
/* Fixture reading                                                                          */
/* ---------------------------------------------------------------------------------------- */

static FILE *open_fixture(const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s%s", FIXTURE_DIR, name);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot open fixture %s", path);
    return f;
}

/* Next record line (skipping comments and blank lines); 0 at end of file. */
static int next_record(FILE *f, char *buf, size_t size) {
    while (fgets(buf, (int)size, f)) {
        cr_assert(strchr(buf, '\n') != NULL, "fixture line too long");
        const char *p = buf;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#' || *p == '\n' || *p == '\0') continue;
        return 1;
    }
    return 0;
}

static uint64_t tok_u64(char **p) {
    char *end;
    unsigned long long v = strtoull(*p, &end, 0);
    cr_assert(end != *p, "fixture: expected an integer at '%.20s'", *p);
    *p = end;
    return (uint64_t)v;
}

static mf_u128 tok_u128(char **p) {
    uint64_t hi = tok_u64(p);
    uint64_t lo = tok_u64(p);
    return ((mf_u128)hi << 64) | lo;
}

static double tok_double(char **p) {
    char *end;
    double v = strtod(*p, &end);
    cr_assert(end != *p, "fixture: expected a double at '%.20s'", *p);
    *p = end;
    return v;
}

static void assert_u128_eq(mf_u128 got, mf_u128 want, const char *what, int line) {
    cr_assert(got == want, "%s (record %d): got 0x%016llx%016llx, want 0x%016llx%016llx", what,
              line, (unsigned long long)(got >> 64), (unsigned long long)got,
              (unsigned long long)(want >> 64), (unsigned long long)want);
}

static void assert_raws(mf_pcg64 *rng, char **p, int record) {
    for (int i = 0; i < N_RAW; i++) {
        uint64_t want = tok_u64(p);
        uint64_t got = mf_pcg64_next(rng);
        cr_assert_eq(got, want, "record %d raw %d: got %llu, want %llu", record, i,
                     (unsigned long long)got, (unsigned long long)want);
    }
}

static void assert_state(const mf_pcg64 *rng, char **p, int record) {
    mf_u128 state = tok_u128(p);
    mf_u128 inc = tok_u128(p);
    assert_u128_eq(rng->state, state, "state", record);
    assert_u128_eq(rng->increment, inc, "inc", record);
}

/* ---------------------------------------------------------------------------------------- */
/* Known answers against numpy                                                              */
/* ---------------------------------------------------------------------------------------- */

Test(rng, pcg64_seed42_first_raw_values) {
    /* np.random.PCG64(42).random_raw(4), as quoted in PLATFORM.md. */
    static const uint64_t want[4] = {14276969152011380360ULL, 8095878257575067585ULL,
                                     15838336090824644132ULL, 12864169557245331597ULL};
    mf_pcg64 rng;
    mf_pcg64_seed(&rng, 42);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(mf_pcg64_next(&rng), want[i], "raw %d", i);
}

Test(rng, seed_int_matches_numpy) {
    FILE *f = open_fixture("seed_int.txt");
    char line[1024];
    int n = 0;
    while (next_record(f, line, sizeof line)) {
        char *p = line;
        mf_pcg64 rng;
        mf_pcg64_seed(&rng, tok_u64(&p));
        assert_state(&rng, &p, n);
        assert_raws(&rng, &p, n);
        n++;
    }
    fclose(f);
    cr_assert_geq(n, 8);
}

Test(rng, seed_words_matches_numpy) {
    FILE *f = open_fixture("seed_words.txt");
    char line[1024];
    int n = 0;
    while (next_record(f, line, sizeof line)) {
        char *p = line;
        uint32_t words[16];
        int n_words = (int)tok_u64(&p);
        cr_assert(n_words >= 0 && n_words <= 16);
        for (int i = 0; i < n_words; i++)
            words[i] = (uint32_t)tok_u64(&p);
        mf_pcg64 rng;
        mf_pcg64_seed_words(&rng, words, n_words);
        assert_state(&rng, &p, n);
        assert_raws(&rng, &p, n);
        n++;
    }
    fclose(f);
    cr_assert_geq(n, 8);
}

Test(rng, stream_matches_numpy_seedsequence) {
    FILE *f = open_fixture("stream.txt");
    char line[1024];
    int n = 0;
    while (next_record(f, line, sizeof line)) {
        char *p = line;
        uint64_t seed = tok_u64(&p);
        uint32_t purpose = (uint32_t)tok_u64(&p);
        uint64_t index = tok_u64(&p);
        mf_pcg64 rng;
        mf_rng_stream(&rng, seed, purpose, index);
        assert_state(&rng, &p, n);
        assert_raws(&rng, &p, n);
        n++;
    }
    fclose(f);
    cr_assert_geq(n, 10);
}

Test(rng, advance_matches_numpy) {
    FILE *f = open_fixture("advance.txt");
    char line[1024];
    int n = 0;
    while (next_record(f, line, sizeof line)) {
        char *p = line;
        mf_pcg64 rng;
        mf_pcg64_seed(&rng, tok_u64(&p));
        mf_pcg64_advance(&rng, tok_u128(&p));
        assert_state(&rng, &p, n);
        assert_raws(&rng, &p, n);
        n++;
    }
    fclose(f);
    cr_assert_geq(n, 6);
}

Test(rng, set_raw_matches_numpy) {
    FILE *f = open_fixture("set_raw.txt");
    char line[1024];
    int n = 0;
    while (next_record(f, line, sizeof line)) {
        char *p = line;
        mf_u128 state = tok_u128(&p);
        mf_u128 inc = tok_u128(&p);
        mf_pcg64 rng;
        mf_pcg64_set_raw(&rng, state, inc);
        assert_raws(&rng, &p, n);
        n++;
    }
    fclose(f);
    cr_assert_geq(n, 4);
}

static void check_uniform_file(const char *name, int is_stream) {
    FILE *f = open_fixture(name);
    char line[1024];
    int n = 0;
    while (next_record(f, line, sizeof line)) {
        char *p = line;
        mf_pcg64 rng;
        uint64_t seed = tok_u64(&p);
        if (is_stream) {
            uint32_t purpose = (uint32_t)tok_u64(&p);
            uint64_t index = tok_u64(&p);
            mf_rng_stream(&rng, seed, purpose, index);
        } else {
            mf_pcg64_seed(&rng, seed);
        }
        for (int i = 0; i < N_RAW; i++) {
            double want = tok_double(&p);
            double got = mf_rng_uniform(&rng);
            cr_assert(memcmp(&got, &want, sizeof got) == 0, "%s record %d draw %d: %a != %a", name,
                      n, i, got, want);
        }
        n++;
    }
    fclose(f);
    cr_assert_geq(n, 8);
}

Test(rng, uniform_seed_bitwise_matches_numpy_random) {
    check_uniform_file("uniform_seed.txt", 0);
}

Test(rng, uniform_stream_bitwise_matches_numpy_random) {
    check_uniform_file("uniform_stream.txt", 1);
}

Test(rng, normal_stream_matches_scipy_ndtri_reference) {
    FILE *f = open_fixture("normal_stream.txt");
    char line[1024];
    int n = 0;
    while (next_record(f, line, sizeof line)) {
        char *p = line;
        uint64_t seed = tok_u64(&p);
        uint32_t purpose = (uint32_t)tok_u64(&p);
        uint64_t index = tok_u64(&p);
        mf_pcg64 rng;
        mf_rng_stream(&rng, seed, purpose, index);
        for (int i = 0; i < N_RAW; i++) {
            double want = tok_double(&p);
            double got = mf_rng_normal(&rng);
            cr_assert(fabs(got - want) <= 1e-14 * fmax(1.0, fabs(want)),
                      "record %d draw %d: %.17g != %.17g", n, i, got, want);
        }
        n++;
    }
    fclose(f);
    cr_assert_geq(n, 8);
}

/* ---------------------------------------------------------------------------------------- */
/* Generator structure                                                                      */
/* ---------------------------------------------------------------------------------------- */

Test(rng, advance_equals_repeated_next) {
    static const unsigned steps[] = {0, 1, 2, 3, 17, 64, 1000, 65537};
    for (size_t t = 0; t < sizeof steps / sizeof steps[0]; t++) {
        mf_pcg64 a, b;
        mf_rng_stream(&a, 2024, MF_STREAM_DIFFUSION, t);
        b = a;
        for (unsigned i = 0; i < steps[t]; i++)
            (void)mf_pcg64_next(&a);
        mf_pcg64_advance(&b, steps[t]);
        assert_u128_eq(b.state, a.state, "state after advance", (int)steps[t]);
        assert_u128_eq(b.increment, a.increment, "inc after advance", (int)steps[t]);
        cr_assert_eq(mf_pcg64_next(&a), mf_pcg64_next(&b));
    }
}

Test(rng, advance_by_minus_n_undoes_advance_by_n) {
    mf_pcg64 rng, start;
    mf_pcg64_seed(&rng, 99);
    start = rng;
    mf_u128 delta = ((mf_u128)0x123456789ULL << 64) | 0xABCDEF0123456789ULL;
    mf_pcg64_advance(&rng, delta);
    cr_assert(rng.state != start.state);
    mf_pcg64_advance(&rng, (mf_u128)0 - delta);
    assert_u128_eq(rng.state, start.state, "state", 0);
}

/* Position the generator so that its next raw output is `raw_hi ^ raw_lo` unrotated: set the
 * post-step state to (hi, lo) with the top 6 bits of hi zero, then step back once. */
static void next_output_is(mf_pcg64 *rng, uint64_t hi, uint64_t lo) {
    mf_pcg64_set_raw(rng, ((mf_u128)hi << 64) | lo, 0x5851F42D4C957F2DULL);
    mf_pcg64_advance(rng, ~(mf_u128)0);
}

Test(rng, uniform_ranges_at_extreme_raw_values) {
    mf_pcg64 rng;
    next_output_is(&rng, 0, UINT64_MAX);
    mf_pcg64 copy = rng;
    cr_assert_eq(mf_pcg64_next(&copy), UINT64_MAX);
    copy = rng;
    double u = mf_rng_uniform(&copy);
    cr_assert(u < 1.0 && u == 1.0 - 0x1.0p-53, "%a", u);
    copy = rng;
    double uo = mf_rng_uniform_open(&copy);
    cr_assert(uo < 1.0 && uo == 1.0 - 0x1.0p-53, "%a", uo);

    next_output_is(&rng, 0, 0);
    copy = rng;
    cr_assert_eq(mf_pcg64_next(&copy), 0);
    copy = rng;
    cr_assert(mf_rng_uniform(&copy) == 0.0);
    copy = rng;
    cr_assert(mf_rng_uniform_open(&copy) == 0x1.0p-53);
    copy = rng;
    double z = mf_rng_normal(&copy);
    cr_assert(isfinite(z) && z < -8.2 && z > -8.3, "%g", z);
}

/* Each sampler's state advance, in raw draws. */
static unsigned draws_used(mf_pcg64 before, mf_pcg64 after) {
    for (unsigned k = 0; k < 1000; k++) {
        if (before.state == after.state) return k;
        (void)mf_pcg64_next(&before);
    }
    return 1000;
}

Test(rng, fixed_draw_counts_keep_streams_aligned) {
    mf_pcg64 rng;
    mf_rng_stream(&rng, 7, MF_STREAM_JUMPS, 3);
    for (int i = 0; i < 1000; i++) {
        mf_pcg64 before = rng;
        (void)mf_rng_uniform(&rng);
        cr_assert_eq(draws_used(before, rng), 1);
        before = rng;
        (void)mf_rng_uniform_open(&rng);
        cr_assert_eq(draws_used(before, rng), 1);
        before = rng;
        (void)mf_rng_normal(&rng);
        cr_assert_eq(draws_used(before, rng), 1, "normal must use exactly one draw");
        before = rng;
        (void)mf_rng_poisson(&rng, 0.01 * (i % 1000)); /* lambda in [0, 10) */
        cr_assert_eq(draws_used(before, rng), 1, "small-lambda poisson: one draw");
    }
    mf_pcg64 before = rng;
    cr_assert_eq(mf_rng_poisson(&rng, 0.0), 0);
    cr_assert_eq(draws_used(before, rng), 1);
}

Test(rng, invalid_parameters) {
    mf_pcg64 rng;
    mf_pcg64_seed(&rng, 1);
    cr_assert(isnan(mf_rng_gamma(&rng, 0.0)));
    cr_assert(isnan(mf_rng_gamma(&rng, -1.0)));
    cr_assert(isnan(mf_rng_gamma(&rng, NAN)));
    mf_pcg64 before = rng;
    cr_assert_eq(mf_rng_poisson(&rng, -1.0), 0);
    cr_assert_eq(mf_rng_poisson(&rng, NAN), 0);
    cr_assert(rng.state == before.state);
}

/* ---------------------------------------------------------------------------------------- */
/* Normal quantile and CDF                                                                  */
/* ---------------------------------------------------------------------------------------- */

Test(rng, normal_quantile_known_values) {
    /* References from scipy.special.ndtri. */
    static const struct {
        double p, x;
    } cases[] = {
        {0.975, 1.959963984540054},
        {0.025, -1.9599639845400545},
        {0.5, 0.0},
        {0.3, -0.5244005127080409},
        {1e-10, -6.361340902404056},
        {1e-300, -37.0470962993612},
        {0.9999999, 5.199337582290661},
        {0x1.0p-53, -8.209536151601387},
        {1.0 - 0x1.0p-53, 8.209536151601387},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double got = mf_normal_quantile(cases[i].p);
        cr_assert(fabs(got - cases[i].x) <= 4e-16 * fmax(1.0, fabs(cases[i].x)),
                  "quantile(%.17g) = %.17g, want %.17g", cases[i].p, got, cases[i].x);
    }
    cr_assert(mf_normal_quantile(0.0) == -INFINITY);
    cr_assert(mf_normal_quantile(1.0) == INFINITY);
    cr_assert(isnan(mf_normal_quantile(NAN)));
}

Test(rng, normal_cdf_known_values) {
    /* References from scipy.special.ndtr. */
    static const struct {
        double x, p;
    } cases[] = {
        {0.0, 0.5},
        {1.959963984540054, 0.975},
        {-1.0, 0.15865525393145707},
        {-10.0, 7.61985302416047e-24},
        {3.0, 0.9986501019683699},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double got = mf_normal_cdf(cases[i].x);
        cr_assert(fabs(got - cases[i].p) <= 1e-14 * cases[i].p, "cdf(%g) = %.17g, want %.17g",
                  cases[i].x, got, cases[i].p);
    }
}

Test(rng, normal_quantile_inverts_cdf) {
    /* For x > 3 the CDF rounds near 1 and loses the digits the inverse would need. */
    double worst = 0.0;
    for (int i = -800; i <= 300; i++) {
        double x = i / 100.0;
        double err = fabs(mf_normal_quantile(mf_normal_cdf(x)) - x);
        if (err > worst) worst = err;
        cr_assert(err <= 1e-13, "quantile(cdf(%g)) off by %g", x, err);
    }
    cr_log_info("worst |quantile(cdf(x)) - x| = %g", worst);
}

/* ---------------------------------------------------------------------------------------- */
/* Distribution checks at fixed seeds                                                       */
/* ---------------------------------------------------------------------------------------- */

typedef struct {
    double mean, var;
} moments;

static moments sample_moments(const double *x, size_t n) {
    double mean = 0.0;
    for (size_t i = 0; i < n; i++)
        mean += x[i];
    mean /= (double)n;
    double ss = 0.0;
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - mean) * (x[i] - mean);
    return (moments){mean, ss / (double)(n - 1)};
}

/* Sample mean and variance within 5 standard errors of theory. mu4 is the 4th central moment
 * (the variance of the sample variance is about (mu4 - var^2) / n). */
static void assert_moments(const double *x, size_t n, double mean, double var, double mu4,
                           const char *what) {
    moments m = sample_moments(x, n);
    double se_mean = sqrt(var / (double)n);
    double se_var = sqrt((mu4 - var * var) / (double)n);
    cr_assert(fabs(m.mean - mean) <= 5.0 * se_mean, "%s: mean %.6g, want %.6g (se %.3g)", what,
              m.mean, mean, se_mean);
    cr_assert(fabs(m.var - var) <= 5.0 * se_var, "%s: variance %.6g, want %.6g (se %.3g)", what,
              m.var, var, se_var);
}

enum { N_MOMENT = 400000, N_KS = 100000 };

static double *draw(size_t n) {
    double *x = malloc(n * sizeof *x);
    cr_assert_not_null(x);
    return x;
}

Test(rng, normal_mean_and_variance) {
    mf_pcg64 rng;
    mf_rng_stream(&rng, 11, MF_STREAM_DIFFUSION, 0);
    double *x = draw(N_MOMENT);
    for (size_t i = 0; i < N_MOMENT; i++)
        x[i] = mf_rng_normal(&rng);
    assert_moments(x, N_MOMENT, 0.0, 1.0, 3.0, "normal");
    free(x);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Kolmogorov-Smirnov statistic of a sample (sorted in place) against a CDF. */
static double ks_statistic(double *x, size_t n, double (*cdf)(double)) {
    qsort(x, n, sizeof *x, cmp_double);
    double d = 0.0;
    for (size_t i = 0; i < n; i++) {
        double f = cdf(x[i]);
        double lo = f - (double)i / (double)n;
        double hi = (double)(i + 1) / (double)n - f;
        if (lo > d) d = lo;
        if (hi > d) d = hi;
    }
    return d;
}

static double uniform_cdf(double x) {
    return x < 0.0 ? 0.0 : (x > 1.0 ? 1.0 : x);
}

Test(rng, normal_ks_against_cdf) {
    mf_pcg64 rng;
    mf_rng_stream(&rng, 12, MF_STREAM_DIFFUSION, 5);
    double *x = draw(N_KS);
    for (size_t i = 0; i < N_KS; i++)
        x[i] = mf_rng_normal(&rng);
    double d = ks_statistic(x, N_KS, mf_normal_cdf);
    cr_assert(d < 1.63 / sqrt((double)N_KS), "KS D = %g", d);
    free(x);
}

Test(rng, uniform_ks_and_moments) {
    mf_pcg64 rng;
    mf_pcg64_seed(&rng, 13);
    double *x = draw(N_KS);
    for (size_t i = 0; i < N_KS; i++) {
        x[i] = mf_rng_uniform(&rng);
        cr_assert(x[i] >= 0.0 && x[i] < 1.0);
    }
    assert_moments(x, N_KS, 0.5, 1.0 / 12.0, 1.0 / 80.0, "uniform");
    double d = ks_statistic(x, N_KS, uniform_cdf);
    cr_assert(d < 1.63 / sqrt((double)N_KS), "KS D = %g", d);
    for (size_t i = 0; i < N_KS; i++) {
        x[i] = mf_rng_uniform_open(&rng);
        cr_assert(x[i] > 0.0 && x[i] < 1.0);
    }
    d = ks_statistic(x, N_KS, uniform_cdf);
    cr_assert(d < 1.63 / sqrt((double)N_KS), "KS D (open) = %g", d);
    free(x);
}

Test(rng, gamma_mean_and_variance) {
    static const double shapes[] = {0.1, 0.5, 0.9, 1.0, 2.5, 10.0, 150.0};
    mf_pcg64 rng;
    mf_rng_stream(&rng, 14, MF_STREAM_MIXING, 0);
    double *x = draw(N_MOMENT);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        double k = shapes[s];
        for (size_t i = 0; i < N_MOMENT; i++) {
            x[i] = mf_rng_gamma(&rng, k);
            cr_assert(x[i] >= 0.0);
        }
        char what[64];
        snprintf(what, sizeof what, "gamma(%g)", k);
        assert_moments(x, N_MOMENT, k, k, 3.0 * k * k + 6.0 * k, what);
    }
    free(x);
}

Test(rng, chisq_mean_and_variance) {
    static const double nus[] = {1.0, 3.0, 7.5, 40.0};
    mf_pcg64 rng;
    mf_rng_stream(&rng, 15, MF_STREAM_MIXING, 1);
    double *x = draw(N_MOMENT);
    for (size_t s = 0; s < sizeof nus / sizeof nus[0]; s++) {
        double nu = nus[s];
        for (size_t i = 0; i < N_MOMENT; i++)
            x[i] = mf_rng_chisq(&rng, nu);
        char what[64];
        snprintf(what, sizeof what, "chisq(%g)", nu);
        assert_moments(x, N_MOMENT, nu, 2.0 * nu, 12.0 * nu * nu + 48.0 * nu, what);
    }
    free(x);
}

Test(rng, student_t_mean_and_variance) {
    static const double nus[] = {5.0, 12.0};
    mf_pcg64 rng;
    mf_rng_stream(&rng, 16, MF_STREAM_MIXING, 2);
    double *x = draw(N_MOMENT);
    for (size_t s = 0; s < sizeof nus / sizeof nus[0]; s++) {
        double nu = nus[s];
        for (size_t i = 0; i < N_MOMENT; i++)
            x[i] = mf_rng_student_t(&rng, nu);
        double var = nu / (nu - 2.0);                           /* 5/3 for nu = 5 */
        double mu4 = 3.0 * nu * nu / ((nu - 2.0) * (nu - 4.0)); /* finite for nu > 4 */
        char what[64];
        snprintf(what, sizeof what, "student_t(%g)", nu);
        assert_moments(x, N_MOMENT, 0.0, var, mu4, what);
    }
    free(x);
}

Test(rng, poisson_mean_and_variance) {
    static const double lambdas[] = {0.05, 0.5, 3.0, 9.99, 10.0, 25.0, 1000.0, 1e5};
    mf_pcg64 rng;
    mf_rng_stream(&rng, 17, MF_STREAM_JUMPS, 0);
    double *x = draw(N_MOMENT);
    for (size_t s = 0; s < sizeof lambdas / sizeof lambdas[0]; s++) {
        double lam = lambdas[s];
        for (size_t i = 0; i < N_MOMENT; i++)
            x[i] = (double)mf_rng_poisson(&rng, lam);
        char what[64];
        snprintf(what, sizeof what, "poisson(%g)", lam);
        assert_moments(x, N_MOMENT, lam, lam, lam + 3.0 * lam * lam, what);
    }
    free(x);
}

/* Chi-square goodness of fit of Poisson counts: cells with expected count >= 5 (tails pooled),
 * statistic below the 1% critical value (Wilson-Hilferty approximation to the chi-square
 * quantile, z_0.99 = 2.3263). */
static void poisson_gof(double lam, uint64_t index) {
    enum { N = 200000, MAX_CELLS = 4096 };
    static unsigned long counts[MAX_CELLS];
    memset(counts, 0, sizeof counts);
    mf_pcg64 rng;
    mf_rng_stream(&rng, 18, MF_STREAM_JUMPS, index);
    for (int i = 0; i < N; i++) {
        uint64_t k = mf_rng_poisson(&rng, lam);
        counts[k < MAX_CELLS - 1 ? k : MAX_CELLS - 1]++;
    }
    double pmf[MAX_CELLS];
    for (int k = 0; k < MAX_CELLS; k++)
        pmf[k] = exp(k * log(lam) - lam - lgamma(k + 1.0));
    /* Cells [lo, hi] each with expectation >= 5; everything below lo and above hi pooled. */
    int lo = 0, hi = MAX_CELLS - 2;
    double below = 0.0;
    while (N * (below + pmf[lo]) < 5.0)
        below += pmf[lo++];
    double above = 0.0;
    while (N * (above + pmf[hi]) < 5.0)
        above += pmf[hi--];
    cr_assert(lo < hi);
    double chi2 = 0.0;
    int cells = 0;
    unsigned long obs_below = 0, obs_above = 0;
    for (int k = 0; k < lo; k++)
        obs_below += counts[k];
    for (int k = hi + 1; k < MAX_CELLS; k++)
        obs_above += counts[k];
    /* Pool the small tails into their neighbour cells; the top cell takes all the rest of the
     * probability. */
    double cum = 0.0;
    for (int k = lo; k <= hi; k++) {
        double e = N * pmf[k];
        double o = (double)counts[k];
        if (k == lo) {
            e += N * below;
            o += (double)obs_below;
        }
        if (k == hi) {
            e = N * (1.0 - cum);
            o += (double)obs_above;
        }
        cum += e / N;
        chi2 += (o - e) * (o - e) / e;
        cells++;
    }
    double df = cells - 1;
    double z = 2.3263478740408408;
    double h = 2.0 / (9.0 * df);
    double crit = df * pow(1.0 - h + z * sqrt(h), 3.0);
    cr_log_info("poisson(%g): chi2 = %.2f, df = %g, 1%% critical %.2f", lam, chi2, df, crit);
    cr_assert(chi2 < crit, "poisson(%g): chi2 = %.2f >= %.2f (df %g)", lam, chi2, crit, df);
}

Test(rng, poisson_chisq_goodness_of_fit_small_lambda) {
    poisson_gof(0.7, 1);
    poisson_gof(3.0, 2);
    poisson_gof(9.5, 3);
}

Test(rng, poisson_chisq_goodness_of_fit_large_lambda) {
    poisson_gof(10.0, 4);
    poisson_gof(30.0, 5);
    poisson_gof(400.0, 6);
}
