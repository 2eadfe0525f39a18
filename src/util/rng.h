/* PCG64 (XSL-RR 128/64, numpy's PCG64) and the distributions the model draws from.
 *
 * Streams are keyed by global identity, never by rank or thread: mf_rng_stream(seed,
 * purpose, index) seeds a generator exactly as numpy does with
 *     np.random.PCG64(np.random.SeedSequence([seed, purpose, index]))
 * so a Python user can reproduce any path's noise from the seed alone. */
#ifndef MF_RNG_H
#define MF_RNG_H

#include <stdint.h>

__extension__ typedef unsigned __int128 mf_u128;

typedef struct {
    mf_u128 state;
    mf_u128 increment; /* always odd */
} mf_pcg64;

/* What a stream is for; part of its key so that, e.g., jump draws never shift diffusion
 * draws when a jump parameter changes (common random numbers across sweep points). */
typedef enum {
    MF_STREAM_POPULATION = 1,
    MF_STREAM_DIFFUSION = 2, /* per-step correlated normals */
    MF_STREAM_MIXING = 3,    /* Student-t chi-square mixing draws */
    MF_STREAM_JUMPS = 4,     /* jump counts and sizes */
} mf_stream_purpose;

/* Set the raw (state, increment) pair, as numpy's bit_generator.state dict holds them. */
void mf_pcg64_set_raw(mf_pcg64 *rng, mf_u128 state, mf_u128 increment);
/* numpy's PCG64(seed) for an integer seed (through SeedSequence). */
void mf_pcg64_seed(mf_pcg64 *rng, uint64_t seed);
/* numpy's PCG64(SeedSequence(entropy words)): entropy given as 32-bit words. */
void mf_pcg64_seed_words(mf_pcg64 *rng, const uint32_t *words, int n_words);
/* numpy's PCG64(SeedSequence([seed, purpose, index])). */
void mf_rng_stream(mf_pcg64 *rng, uint64_t seed, uint32_t purpose, uint64_t index);

uint64_t mf_pcg64_next(mf_pcg64 *rng);
/* Jump ahead by delta draws in O(log delta), as numpy's PCG64.advance. */
void mf_pcg64_advance(mf_pcg64 *rng, mf_u128 delta);

/* Uniform on [0, 1): (raw >> 11) * 2^-53, numpy's Generator.random(). */
double mf_rng_uniform(mf_pcg64 *rng);
/* Uniform on (0, 1): never 0, for inverse-CDF sampling. */
double mf_rng_uniform_open(mf_pcg64 *rng);
/* Standard normal by inversion (one uniform per draw: fixed consumption keeps streams aligned). */
double mf_rng_normal(mf_pcg64 *rng);
/* Gamma(shape, scale 1), Marsaglia-Tsang; shape > 0. */
double mf_rng_gamma(mf_pcg64 *rng, double shape);
/* Chi-square with nu > 0 degrees of freedom. */
double mf_rng_chisq(mf_pcg64 *rng, double nu);
/* Student-t with nu > 0 degrees of freedom (not rescaled). */
double mf_rng_student_t(mf_pcg64 *rng, double nu);
/* Poisson(lambda), lambda >= 0. */
uint64_t mf_rng_poisson(mf_pcg64 *rng, double lambda);

/* Inverse of the standard normal CDF on (0, 1), about 1e-16 relative accuracy. */
double mf_normal_quantile(double p);
/* Standard normal CDF. */
double mf_normal_cdf(double x);

#endif
