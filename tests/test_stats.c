/*
 * test_stats.c -- the log-linear histogram's layout and quantile accuracy,
 * and the time integral behind utilisation.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "sim/rng.h"
#include "sim/stats.h"

Test(hist, buckets_tile_the_range_with_bounded_width)
{
    uint64_t prev_hi = 0;
    for (uint32_t b = 0; b < SIM_HIST_BUCKETS; b++) {
        uint64_t lo, hi;
        sim_hist_bucket_range(b, &lo, &hi);
        if (b > 0)
            cr_assert_eq(lo, prev_hi + 1, "bucket %u starts at %llu", b,
                         (unsigned long long)lo);
        cr_assert_eq(sim_hist_bucket_of(lo), b);
        cr_assert_eq(sim_hist_bucket_of(hi), b);
        /* Width at most 1/128 of the lower bound: the 1% promise. */
        if (lo >= SIM_HIST_SUB)
            cr_assert_leq((hi - lo + 1) * SIM_HIST_SUB, lo);
        prev_hi = hi;
    }
    cr_assert_eq(prev_hi, UINT64_MAX);
}

Test(hist, small_values_are_exact)
{
    sim_hist h;
    cr_assert_eq(sim_hist_init(&h), 0);
    for (uint64_t v = 0; v < 100; v++)
        sim_hist_record(&h, v);
    cr_assert_eq(sim_hist_quantile(&h, 0.5), 49);
    cr_assert_eq(sim_hist_quantile(&h, 0.99), 98);
    cr_assert_eq(sim_hist_quantile(&h, 1.0), 99);
    cr_assert_eq(sim_hist_quantile(&h, 0.0), 0);
    cr_assert_float_eq(sim_hist_mean(&h), 49.5, 1e-12);
    sim_hist_fini(&h);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Against exact order statistics of a heavy-tailed sample spanning nine
 * orders of magnitude. */
Test(hist, quantiles_within_one_percent)
{
    enum { N = 200000 };
    static uint64_t vals[N];
    sim_hist h;
    sim_rng r;
    cr_assert_eq(sim_hist_init(&h), 0);
    sim_rng_seed(&r, 3, "hist");
    for (int i = 0; i < N; i++) {
        vals[i] = (uint64_t)exp(sim_rng_unit(&r) * 20.0) + 1;
        sim_hist_record(&h, vals[i]);
    }
    qsort(vals, N, sizeof vals[0], cmp_u64);
    const double qs[] = {0.5, 0.9, 0.99, 0.999, 0.9999};
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        uint64_t exact = vals[(size_t)ceil(qs[i] * N) - 1];
        double got = (double)sim_hist_quantile(&h, qs[i]);
        double rel = fabs(got - (double)exact) / (double)exact;
        cr_assert_leq(rel, 0.01, "q=%g exact=%llu got=%.0f", qs[i],
                      (unsigned long long)exact, got);
    }
    cr_assert_eq(sim_hist_quantile(&h, 1.0), vals[N - 1]);
    cr_assert_eq(h.min, vals[0]);
    sim_hist_fini(&h);
}

Test(hist, merge_equals_recording_everything_once)
{
    sim_hist a, b, all;
    cr_assert_eq(sim_hist_init(&a), 0);
    cr_assert_eq(sim_hist_init(&b), 0);
    cr_assert_eq(sim_hist_init(&all), 0);
    for (uint64_t v = 1; v < 5000; v += 7) {
        sim_hist_record(v % 2 ? &a : &b, v * 13);
        sim_hist_record(&all, v * 13);
    }
    sim_hist_merge(&a, &b);
    cr_assert_eq(a.count, all.count);
    cr_assert_eq(a.min, all.min);
    cr_assert_eq(a.max, all.max);
    for (double q = 0.05; q < 1.0; q += 0.05)
        cr_assert_eq(sim_hist_quantile(&a, q), sim_hist_quantile(&all, q));
    sim_hist_clear(&a);
    cr_assert_eq(a.count, 0);
    cr_assert_eq(sim_hist_quantile(&a, 0.5), 0);
    sim_hist_fini(&a);
    sim_hist_fini(&b);
    sim_hist_fini(&all);
}

Test(util, integrates_level_over_time)
{
    sim_util u;
    sim_util_init(&u, 100);
    sim_util_set(&u, 100, 1);   /* busy from 100 */
    sim_util_set(&u, 150, 0);   /* idle from 150 */
    sim_util_set(&u, 175, 2);   /* two busy from 175 */
    /* Over [100, 200]: 50*1 + 25*0 + 25*2 = 100 -> mean level 1.0 */
    cr_assert_float_eq(sim_util_mean(&u, 200), 1.0, 1e-12);
    sim_util_reset(&u, 200);
    cr_assert_float_eq(sim_util_mean(&u, 300), 2.0, 1e-12);
    cr_assert_float_eq(sim_util_mean(&u, 200), 0.0, 1e-12);
}
