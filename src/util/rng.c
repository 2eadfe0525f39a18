/* PCG64 (XSL-RR 128/64) bit-compatible with numpy's PCG64, numpy's SeedSequence, and the
 * distributions the model draws from. See docs/rng.md.
 *
 * References:
 *   M. E. O'Neill, "PCG: A Family of Simple Fast Space-Efficient Statistically Good
 *     Algorithms for Random Number Generation", HMC-CS-2014-0905 (2014): LCG 128 + XSL-RR.
 *   F. B. Brown, "Random Number Generation with Arbitrary Strides", Trans. Am. Nucl. Soc. 71
 *     (1994): O(log n) jump-ahead of an LCG.
 *   numpy's SeedSequence (R. Kern, after M. E. O'Neill's seed_seq_fe design): hash-mixing
 *     constants as published in numpy's documentation/implementation.
 *   M. J. Wichura, "Algorithm AS 241: The Percentage Points of the Normal Distribution",
 *     Applied Statistics 37 (1988) 477-484: PPND16 coefficients.
 *   G. Marsaglia and W. W. Tsang, "A Simple Method for Generating Gamma Variables",
 *     ACM TOMS 26 (2000) 363-372, including the shape < 1 boost.
 *   W. Hormann, "The transformed rejection method for generating Poisson random
 *     variables", Insurance: Mathematics and Economics 12 (1993) 39-45 (PTRS). */
#include "rng.h"

#include <math.h>
#include <stddef.h>

/* ---------------------------------------------------------------------------------------- */
/* PCG64 core                                                                               */
/* ---------------------------------------------------------------------------------------- */

/* The 128-bit LCG multiplier of PCG64 (O'Neill's default 128-bit multiplier). */
#define MF_PCG64_MULT ((((mf_u128)0x2360ED051FC65DA4ULL) << 64) | (mf_u128)0x4385DF649FCCF645ULL)

static inline void pcg64_step(mf_pcg64 *rng) {
    rng->state = rng->state * MF_PCG64_MULT + rng->increment;
}

/* XSL-RR output: xor the halves, rotate right by the top 6 bits of the state. */
static inline uint64_t pcg64_output(mf_u128 state) {
    uint64_t hi = (uint64_t)(state >> 64);
    uint64_t lo = (uint64_t)state;
    uint64_t x = hi ^ lo;
    unsigned rot = (unsigned)(hi >> 58);
    return (x >> rot) | (x << ((64u - rot) & 63u));
}

void mf_pcg64_set_raw(mf_pcg64 *rng, mf_u128 state, mf_u128 increment) {
    /* Stored exactly as given, as numpy's state setter does (numpy's own increments are
     * always odd; an even one still gives numpy's sequence for that pair). */
    rng->state = state;
    rng->increment = increment;
}

uint64_t mf_pcg64_next(mf_pcg64 *rng) {
    pcg64_step(rng); /* numpy steps first, then outputs from the new state */
    return pcg64_output(rng->state);
}

/* Brown (1994): state_n = A_n * state + C_n, with (A, C) accumulated by repeated squaring of
 * the one-step map x -> M x + inc. Arithmetic is mod 2^128 throughout. */
void mf_pcg64_advance(mf_pcg64 *rng, mf_u128 delta) {
    mf_u128 cur_mult = MF_PCG64_MULT;
    mf_u128 cur_plus = rng->increment;
    mf_u128 acc_mult = 1;
    mf_u128 acc_plus = 0;
    while (delta > 0) {
        if (delta & 1) {
            acc_mult *= cur_mult;
            acc_plus = acc_plus * cur_mult + cur_plus;
        }
        cur_plus = (cur_mult + 1) * cur_plus;
        cur_mult *= cur_mult;
        delta >>= 1;
    }
    rng->state = acc_mult * rng->state + acc_plus;
}

/* ---------------------------------------------------------------------------------------- */
/* numpy's SeedSequence (pool_size 4, no spawn key) and PCG64's use of it                   */
/* ---------------------------------------------------------------------------------------- */

enum { SS_POOL_SIZE = 4, SS_XSHIFT = 16 };
static const uint32_t SS_INIT_A = 0x43b0d7e5u;
static const uint32_t SS_MULT_A = 0x931e8875u;
static const uint32_t SS_INIT_B = 0x8b51f9ddu;
static const uint32_t SS_MULT_B = 0x58f38dedu;
static const uint32_t SS_MIX_MULT_L = 0xca01f9ddu;
static const uint32_t SS_MIX_MULT_R = 0x4973f715u;

static uint32_t ss_hashmix(uint32_t value, uint32_t *hash_const) {
    value ^= *hash_const;
    *hash_const = (uint32_t)(*hash_const * SS_MULT_A);
    value = (uint32_t)(value * *hash_const);
    value ^= value >> SS_XSHIFT;
    return value;
}

static uint32_t ss_mix(uint32_t x, uint32_t y) {
    uint32_t result = (uint32_t)(SS_MIX_MULT_L * x - SS_MIX_MULT_R * y);
    result ^= result >> SS_XSHIFT;
    return result;
}

/* Mix the entropy words into the pool, then generate 4 uint64 words (8 uint32 words, the
 * pool cycled) and seed PCG64 from them as numpy does:
 *   initstate = words[0] << 64 | words[1], initseq = words[2] << 64 | words[3],
 *   inc = initseq << 1 | 1; state = 0; step; state += initstate; step. */
static void ss_seed_pcg64(mf_pcg64 *rng, const uint32_t *entropy, size_t n) {
    uint32_t pool[SS_POOL_SIZE];
    uint32_t hash_const = SS_INIT_A;
    for (size_t i = 0; i < SS_POOL_SIZE; i++)
        pool[i] = ss_hashmix(i < n ? entropy[i] : 0u, &hash_const);
    for (size_t src = 0; src < SS_POOL_SIZE; src++)
        for (size_t dst = 0; dst < SS_POOL_SIZE; dst++)
            if (src != dst) pool[dst] = ss_mix(pool[dst], ss_hashmix(pool[src], &hash_const));
    for (size_t src = SS_POOL_SIZE; src < n; src++)
        for (size_t dst = 0; dst < SS_POOL_SIZE; dst++)
            pool[dst] = ss_mix(pool[dst], ss_hashmix(entropy[src], &hash_const));

    uint32_t out32[8];
    hash_const = SS_INIT_B;
    for (size_t i = 0; i < 8; i++) {
        uint32_t v = pool[i % SS_POOL_SIZE];
        v ^= hash_const;
        hash_const = (uint32_t)(hash_const * SS_MULT_B);
        v = (uint32_t)(v * hash_const);
        v ^= v >> SS_XSHIFT;
        out32[i] = v;
    }
    uint64_t out64[4]; /* numpy views the uint32 array as little-endian uint64 */
    for (size_t i = 0; i < 4; i++)
        out64[i] = (uint64_t)out32[2 * i] | ((uint64_t)out32[2 * i + 1] << 32);

    mf_u128 initstate = ((mf_u128)out64[0] << 64) | out64[1];
    mf_u128 initseq = ((mf_u128)out64[2] << 64) | out64[3];
    rng->state = 0;
    rng->increment = (initseq << 1) | 1u;
    pcg64_step(rng);
    rng->state += initstate;
    pcg64_step(rng);
}

/* numpy coerces a non-negative Python int to little-endian 32-bit words, 0 -> [0]. */
static size_t ss_int_words(uint64_t v, uint32_t *out) {
    out[0] = (uint32_t)v;
    if (v >> 32) {
        out[1] = (uint32_t)(v >> 32);
        return 2;
    }
    return 1;
}

void mf_pcg64_seed(mf_pcg64 *rng, uint64_t seed) {
    uint32_t words[2];
    size_t n = ss_int_words(seed, words);
    ss_seed_pcg64(rng, words, n);
}

void mf_pcg64_seed_words(mf_pcg64 *rng, const uint32_t *words, int n_words) {
    ss_seed_pcg64(rng, words, n_words > 0 ? (size_t)n_words : 0);
}

void mf_rng_stream(mf_pcg64 *rng, uint64_t seed, uint32_t purpose, uint64_t index) {
    /* A list of ints is the concatenation of each int's words. */
    uint32_t words[5];
    size_t n = ss_int_words(seed, words);
    words[n++] = purpose;
    n += ss_int_words(index, words + n);
    ss_seed_pcg64(rng, words, n);
}

/* ---------------------------------------------------------------------------------------- */
/* Uniforms                                                                                 */
/* ---------------------------------------------------------------------------------------- */

double mf_rng_uniform(mf_pcg64 *rng) {
    return (double)(mf_pcg64_next(rng) >> 11) * 0x1.0p-53;
}

/* (k + 1/2) 2^-52 with k the top 52 bits: every value is exact, the range is
 * [2^-53, 1 - 2^-53] and u -> 1 - u is an exact symmetry. (With 53 bits, k + 1/2 would not be
 * representable and the largest k would round to exactly 1.) */
double mf_rng_uniform_open(mf_pcg64 *rng) {
    return ((double)(mf_pcg64_next(rng) >> 12) + 0.5) * 0x1.0p-52;
}

/* ---------------------------------------------------------------------------------------- */
/* Normal: Wichura's AS 241 (PPND16) and an erfc-based CDF                                  */
/* ---------------------------------------------------------------------------------------- */

static double poly7(const double c[8], double x) {
    double s = c[7];
    for (int i = 6; i >= 0; i--)
        s = s * x + c[i];
    return s;
}

double mf_normal_quantile(double p) {
    static const double a[8] = {3.3871328727963666080e0,  1.3314166789178437745e+2,
                                1.9715909503065514427e+3, 1.3731693765509461125e+4,
                                4.5921953931549871457e+4, 6.7265770927008700853e+4,
                                3.3430575583588128105e+4, 2.5090809287301226727e+3};
    static const double b[8] = {1.0,
                                4.2313330701600911252e+1,
                                6.8718700749205790830e+2,
                                5.3941960214247511077e+3,
                                2.1213794301586595867e+4,
                                3.9307895800092710610e+4,
                                2.8729085735721942674e+4,
                                5.2264952788528545610e+3};
    static const double c[8] = {1.42343711074968357734e0,  4.63033784615654529590e0,
                                5.76949722146069140550e0,  3.64784832476320460504e0,
                                1.27045825245236838258e0,  2.41780725177450611770e-1,
                                2.27238449892691845833e-2, 7.74545014278341407640e-4};
    static const double d[8] = {1.0,
                                2.05319162663775882187e0,
                                1.67638483018380384940e0,
                                6.89767334985100004550e-1,
                                1.48103976427480074590e-1,
                                1.51986665636164571966e-2,
                                5.47593808499534494600e-4,
                                1.05075007164441684324e-9};
    static const double e[8] = {6.65790464350110377720e0,  5.46378491116411436990e0,
                                1.78482653991729133580e0,  2.96560571828504891230e-1,
                                2.65321895265761230930e-2, 1.24266094738807843860e-3,
                                2.71155556874348757815e-5, 2.01033439929228813265e-7};
    static const double f[8] = {1.0,
                                5.99832206555887937690e-1,
                                1.36929880922735805310e-1,
                                1.48753612908506148525e-2,
                                7.86869131145613259100e-4,
                                1.84631831751005468180e-5,
                                1.42151175831644588870e-7,
                                2.04426310338993978564e-15};
    if (isnan(p)) return p;
    if (p <= 0.0) return -INFINITY;
    if (p >= 1.0) return INFINITY;

    double q = p - 0.5;
    if (fabs(q) <= 0.425) {
        double r = 0.180625 - q * q;
        return q * poly7(a, r) / poly7(b, r);
    }
    double r = q < 0.0 ? p : 1.0 - p; /* 1 - p is exact for p >= 1/2 */
    r = sqrt(-log(r));
    double x;
    if (r <= 5.0) {
        r -= 1.6;
        x = poly7(c, r) / poly7(d, r);
    } else {
        r -= 5.0;
        x = poly7(e, r) / poly7(f, r);
    }
    return q < 0.0 ? -x : x;
}

double mf_normal_cdf(double x) {
    static const double inv_sqrt2 = 0.70710678118654752440084436210484903928;
    return 0.5 * erfc(-x * inv_sqrt2);
}

double mf_rng_normal(mf_pcg64 *rng) {
    return mf_normal_quantile(mf_rng_uniform_open(rng));
}

/* ---------------------------------------------------------------------------------------- */
/* Gamma, chi-square, Student-t                                                             */
/* ---------------------------------------------------------------------------------------- */

/* Marsaglia-Tsang for shape >= 1. Each attempt draws one normal and, when 1 + c x > 0, one
 * uniform. */
static double gamma_mt(mf_pcg64 *rng, double shape) {
    const double dd = shape - 1.0 / 3.0;
    const double cc = 1.0 / sqrt(9.0 * dd);
    for (;;) {
        double x, v;
        do {
            x = mf_rng_normal(rng);
            v = 1.0 + cc * x;
        } while (v <= 0.0);
        v = v * v * v;
        double u = mf_rng_uniform_open(rng);
        double x2 = x * x;
        if (u < 1.0 - 0.0331 * x2 * x2) return dd * v; /* squeeze */
        if (log(u) < 0.5 * x2 + dd * (1.0 - v + log(v))) return dd * v;
    }
}

double mf_rng_gamma(mf_pcg64 *rng, double shape) {
    if (!(shape > 0.0) || isinf(shape)) return NAN;
    if (shape >= 1.0) return gamma_mt(rng, shape);
    /* Boost: Gamma(a) = Gamma(a + 1) * U^(1/a) (Marsaglia-Tsang, section 6). */
    double g = gamma_mt(rng, shape + 1.0);
    double u = mf_rng_uniform_open(rng);
    return g * exp(log(u) / shape);
}

double mf_rng_chisq(mf_pcg64 *rng, double nu) {
    return 2.0 * mf_rng_gamma(rng, 0.5 * nu);
}

double mf_rng_student_t(mf_pcg64 *rng, double nu) {
    double z = mf_rng_normal(rng);
    double w = mf_rng_chisq(rng, nu);
    return z / sqrt(w / nu);
}

/* ---------------------------------------------------------------------------------------- */
/* Poisson                                                                                  */
/* ---------------------------------------------------------------------------------------- */

/* log(k!) for k >= 0: direct product for small k, Stirling's series beyond (error < 2e-15
 * relative at k = 20; terms from the asymptotic expansion of log Gamma). */
static double log_factorial(double k) {
    if (k < 21.0) {
        double prod = 1.0;
        for (double i = 2.0; i <= k; i += 1.0)
            prod *= i;
        return log(prod);
    }
    static const double half_log_2pi = 0.91893853320467274178032973640561764;
    double inv = 1.0 / k;
    double inv2 = inv * inv;
    double series =
        inv * (1.0 / 12.0 - inv2 * (1.0 / 360.0 - inv2 * (1.0 / 1260.0 - inv2 / 1680.0)));
    return k * log(k) - k + 0.5 * log(k) + half_log_2pi + series;
}

/* Inversion by sequential search from 0: exactly one uniform per draw. */
static uint64_t poisson_inversion(mf_pcg64 *rng, double lambda) {
    double u = mf_rng_uniform(rng);
    double p = exp(-lambda);
    double cdf = p;
    uint64_t k = 0;
    while (u > cdf) {
        k++;
        p *= lambda / (double)k;
        double next = cdf + p;
        if (next == cdf) break; /* rounding left the summed CDF just below u: tail is spent */
        cdf = next;
    }
    return k;
}

/* Hormann's PTRS (transformed rejection with squeeze) for lambda >= 10. Two uniforms per
 * attempt; acceptance is about 0.9 or higher. */
static uint64_t poisson_ptrs(mf_pcg64 *rng, double lambda) {
    const double slam = sqrt(lambda);
    const double loglam = log(lambda);
    const double b = 0.931 + 2.53 * slam;
    const double a = -0.059 + 0.02483 * b;
    const double inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
    const double v_r = 0.9277 - 3.6224 / (b - 2.0);
    for (;;) {
        double u = mf_rng_uniform(rng) - 0.5;
        double v = mf_rng_uniform_open(rng);
        double us = 0.5 - fabs(u);
        double k = floor((2.0 * a / us + b) * u + lambda + 0.43);
        if (us >= 0.07 && v <= v_r) return (uint64_t)k;
        if (k < 0.0 || (us < 0.013 && v > us)) continue;
        if (log(v) + log(inv_alpha) - log(a / (us * us) + b) <=
            -lambda + k * loglam - log_factorial(k))
            return (uint64_t)k;
    }
}

uint64_t mf_rng_poisson(mf_pcg64 *rng, double lambda) {
    if (!(lambda >= 0.0)) return 0; /* negative or NaN: invalid, no draw */
    if (lambda < 10.0) return poisson_inversion(rng, lambda);
    return poisson_ptrs(rng, lambda);
}
