/*
 * rng.h -- per-entity random streams.
 *
 * Every entity (guest, device, allocator) draws from its own stream, seeded
 * from the scenario seed and the entity's name, so adding a guest never
 * changes another guest's numbers. The generator is xoshiro256** (Blackman
 * and Vigna, 2018): 32 bytes of state, fast, and identical on every machine.
 * Seeds are expanded with splitmix64, as its authors recommend. Bounded
 * integers use Lemire's multiply-shift with rejection: unbiased, and no
 * division on the common path.
 */
#ifndef PVSIM_SIM_RNG_H
#define PVSIM_SIM_RNG_H

#include <stdint.h>

typedef struct sim_rng {
    uint64_t s[4];
} sim_rng;

/* splitmix64 (Steele, Lea, Flood): advances `*x` and returns the next
 * well-mixed 64-bit word; seeding expands seeds with it. */
uint64_t sim_splitmix64(uint64_t *x);

/* Seeds `r` from the scenario seed and a stream name ("guest/web0"). Two
 * names give independent streams; the same (seed, name) the same stream. */
void sim_rng_seed(sim_rng *r, uint64_t seed, const char *stream_name);

static inline uint64_t sim_rng_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* The next 64 random bits. */
static inline uint64_t sim_rng_next(sim_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = sim_rng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = sim_rng_rotl(s[3], 45);
    return result;
}

/* Uniform in [0, n); n must be > 0. */
static inline uint64_t sim_rng_below(sim_rng *r, uint64_t n)
{
    unsigned __int128 m = (unsigned __int128)sim_rng_next(r) * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t threshold = (0 - n) % n;
        while (low < threshold) {
            m = (unsigned __int128)sim_rng_next(r) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

/* Uniform in [lo, hi], inclusive; lo <= hi. */
static inline uint64_t sim_rng_range(sim_rng *r, uint64_t lo, uint64_t hi)
{
    if (hi - lo == UINT64_MAX)
        return sim_rng_next(r);
    return lo + sim_rng_below(r, hi - lo + 1);
}

/* Uniform double in [0, 1) with 53 random bits. */
static inline double sim_rng_unit(sim_rng *r)
{
    return (double)(sim_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Exponentially distributed with the given mean (>= 0). Uses a logarithm
 * built from basic IEEE operations, so it gives the same bits on every
 * machine. */
double sim_rng_exp(sim_rng *r, double mean);

#endif
