/*
 * rng.c -- seeding and the non-inline draws of rng.h.
 */
#include "sim/rng.h"

#include <math.h>

/* splitmix64: turns any 64-bit value into well-mixed seed words. */
static uint64_t splitmix64(uint64_t *x)
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
    uint64_t mix = splitmix64(&x) ^ name_hash(stream_name ? stream_name : "");
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&mix);
    /* xoshiro's one forbidden state is all zeros; splitmix64 cannot emit four
     * zeros in a row, but say so rather than rely on it silently. */
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0)
        r->s[0] = 1;
}

double sim_rng_exp(sim_rng *r, double mean)
{
    /* 1 - u lies in (0, 1], so the log is finite. */
    return -mean * log(1.0 - sim_rng_unit(r));
}
