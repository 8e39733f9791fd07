/*
 * rng.c -- seeding and the non-inline draws of rng.h.
 */
#include "sim/rng.h"

#include <math.h>

uint64_t sim_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* FNV-1a: a stable 64-bit hash of the stream name on every platform. */
static uint64_t name_hash(const char *name)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ull;
    }
    return h;
}

void sim_rng_seed(sim_rng *r, uint64_t seed, const char *stream_name)
{
    uint64_t x = seed;
    uint64_t mix = sim_splitmix64(&x) ^ name_hash(stream_name ? stream_name : "");
    for (int i = 0; i < 4; i++)
        r->s[i] = sim_splitmix64(&mix);
    /* xoshiro's one forbidden state is all zeros; splitmix64 cannot emit four
     * zeros in a row, but say so rather than rely on it silently. */
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0)
        r->s[0] = 1;
}

/*
 * ln(x) for x in (0, 1], from frexp (exact) and +, -, *, / only. Those are
 * correctly rounded by IEEE 754 on every machine, and C11 mode keeps the
 * compiler from contracting them into FMAs, so the result is the same bits
 * everywhere -- which libm's log does not promise (implementations differ
 * in the last place, and one ulp can change a drawn time).
 *
 * x = m * 2^e with m in [sqrt(1/2), sqrt(2)); ln(m) = 2 atanh(s) with
 * s = (m-1)/(m+1), |s| < 0.172, summed by Horner's rule as
 * 2 s (1 + s^2/3 + s^4/5 + ...) to 13 terms, past double precision.
 */
static double portable_log(double x)
{
    static const double ln2 = 0.6931471805599453094172321;
    static const double sqrt_half = 0.7071067811865475244008444;
    int e;
    double m = frexp(x, &e);
    if (m < sqrt_half) {
        m *= 2.0;
        e -= 1;
    }
    double s = (m - 1.0) / (m + 1.0);
    double s2 = s * s, p = 0.0;
    for (int k = 12; k >= 0; k--)
        p = p * s2 + 1.0 / (double)(2 * k + 1);
    return (double)e * ln2 + 2.0 * s * p;
}

double sim_rng_exp(sim_rng *r, double mean)
{
    /* 1 - u lies in (0, 1], so the log is finite. */
    return -mean * portable_log(1.0 - sim_rng_unit(r));
}
