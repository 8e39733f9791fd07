/*
 * test_rng.c -- per-entity random streams: reproducible, independent,
 * bounded draws within range.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "sim/rng.h"

Test(rng, same_seed_and_name_same_stream)
{
    sim_rng a, b;
    sim_rng_seed(&a, 42, "guest/web/0");
    sim_rng_seed(&b, 42, "guest/web/0");
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(sim_rng_next(&a), sim_rng_next(&b));
}

Test(rng, names_and_seeds_give_different_streams)
{
    sim_rng a, b, c;
    sim_rng_seed(&a, 42, "guest/web/0");
    sim_rng_seed(&b, 42, "guest/web/1");
    sim_rng_seed(&c, 43, "guest/web/0");
    int same_ab = 0, same_ac = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = sim_rng_next(&a);
        same_ab += x == sim_rng_next(&b);
        same_ac += x == sim_rng_next(&c);
    }
    cr_assert_eq(same_ab, 0);
    cr_assert_eq(same_ac, 0);
}

/* The first draws of a known stream are pinned: results must not change
 * across machines or refactorings without anyone noticing. */
/* The published reference outputs: xoshiro256** from state {1, 2, 3, 4}
 * (the authors' xoshiro256starstar.c, as rand_xoshiro's tests pin them),
 * and splitmix64 from 0 (as its reference implementation gives them). A
 * generator that drifts from either fails here. */
Test(rng, generators_match_their_reference_outputs)
{
    static const uint64_t xoshiro[] = {
        11520u, 0u, 1509978240u, 1215971899390074240u, 1216172134540287360u,
        607988272756665600u, 16172922978634559625u, 8476171486693032832u,
        10595114339597558777u, 2904607092377533576u,
    };
    sim_rng r = {.s = {1, 2, 3, 4}};
    for (size_t i = 0; i < sizeof xoshiro / sizeof xoshiro[0]; i++)
        cr_assert_eq(sim_rng_next(&r), xoshiro[i], "output %zu", i);
    static const uint64_t splitmix[] = {0xe220a8397b1dcdafu, 0x6e789e6aa1b965f4u,
                                        0x06c45d188009454fu};
    uint64_t x = 0;
    for (size_t i = 0; i < 3; i++)
        cr_assert_eq(sim_splitmix64(&x), splitmix[i], "output %zu", i);
}

/* Seeding from (seed, name) is pvsim's own: pinned, so that results stay
 * byte-identical across versions unless a commit says otherwise. */
#define PINNED_FIRST 0x0e9828ac4b6737d3u
Test(rng, stream_is_pinned)
{
    sim_rng r;
    sim_rng_seed(&r, 1, "pinned");
    cr_assert_eq(sim_rng_next(&r), PINNED_FIRST);
}

Test(rng, below_stays_in_range_and_covers_it)
{
    sim_rng r;
    sim_rng_seed(&r, 7, "below");
    int seen[10] = {0};
    for (int i = 0; i < 100000; i++) {
        uint64_t v = sim_rng_below(&r, 10);
        cr_assert_lt(v, 10);
        seen[v]++;
    }
    /* Each bucket expects 10,000; 5 sigma is about 475. */
    for (int i = 0; i < 10; i++)
        cr_assert(abs(seen[i] - 10000) < 500, "bucket %d: %d", i, seen[i]);
}

Test(rng, range_is_inclusive)
{
    sim_rng r;
    sim_rng_seed(&r, 7, "range");
    int lo = 0, hi = 0;
    for (int i = 0; i < 10000; i++) {
        uint64_t v = sim_rng_range(&r, 1, 4);
        cr_assert(v >= 1 && v <= 4);
        lo += v == 1;
        hi += v == 4;
    }
    cr_assert_gt(lo, 0);
    cr_assert_gt(hi, 0);
    cr_assert_eq(sim_rng_range(&r, 5, 5), 5);
}

Test(rng, unit_and_exponential)
{
    sim_rng r;
    sim_rng_seed(&r, 9, "exp");
    double sum = 0;
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        double u = sim_rng_unit(&r);
        cr_assert(u >= 0.0 && u < 1.0);
        double e = sim_rng_exp(&r, 100.0);
        cr_assert(e >= 0.0 && isfinite(e));
        sum += e;
    }
    /* Standard error of the mean is 100/sqrt(n) ~ 0.22. */
    cr_assert(fabs(sum / n - 100.0) < 1.5, "mean %f", sum / n);
}

/* The exponential's logarithm agrees with libm's to within a few ulp over
 * the whole range (the point of having our own is bit-identical results
 * across libms, not a different value). */
Test(rng, exponential_matches_libm_closely)
{
    sim_rng a, b;
    sim_rng_seed(&a, 5, "exp-check");
    sim_rng_seed(&b, 5, "exp-check");
    for (int i = 0; i < 100000; i++) {
        double u = sim_rng_unit(&b);
        double want = -log(1.0 - u);
        double got = sim_rng_exp(&a, 1.0);
        double tol = 4 * 2.3e-16 * want + 1e-300;   /* 4 ulp */
        cr_assert(fabs(got - want) <= tol, "u=%.17g: %.17g vs libm %.17g", u, got, want);
    }
}
