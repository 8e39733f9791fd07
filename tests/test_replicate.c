/*
 * test_replicate.c -- replications: seeds, Student t quantiles against the
 * published table and the exact distribution, intervals (by hand, and their
 * coverage over normal samples), the merge of results documents, and the
 * interval bounds as CSV columns.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "sim/replicate.h"
#include "sim/rng.h"

/* ---- seeds ------------------------------------------------------------------- */

Test(replicate, replication_zero_keeps_the_seed)
{
    cr_assert_eq(rpl_seed(1, 0), 1);
    cr_assert_eq(rpl_seed(0x7fffffffffffffffull, 0), 0x7fffffffffffffffull);
}

Test(replicate, later_seeds_are_distinct_63_bit_and_pinned)
{
    uint64_t seen[64];
    for (uint64_t r = 1; r <= 64; r++) {
        uint64_t s = rpl_seed(1, r);
        cr_assert_lt(s, 1ull << 63, "replication %llu", (unsigned long long)r);
        cr_assert_neq(s, 1);
        for (uint64_t q = 1; q < r; q++)
            cr_assert_neq(seen[q - 1], s);
        seen[r - 1] = s;
        cr_assert_eq(rpl_seed(1, r), s, "a seed is a function of (seed, r)");
    }
    cr_assert_neq(rpl_seed(2, 1), rpl_seed(1, 1));
    /* Pinned: a change of the derivation would silently change every
     * replicated result. */
    cr_assert_eq(rpl_seed(1, 1), 0x197212bb7640f847ull, "got %#llx",
                 (unsigned long long)rpl_seed(1, 1));
}

/* ---- t quantiles --------------------------------------------------------------- */

/* Rows of the NIST/SEMATECH table (1.3.6.7.2), column 0.975. */
Test(replicate, t_quantiles_are_the_tables)
{
    static const struct {
        uint64_t df;
        double t;
    } rows[] = {{1, 12.706}, {2, 4.303}, {3, 3.182}, {4, 2.776}, {5, 2.571}, {9, 2.262},
                {10, 2.228}, {19, 2.093}, {29, 2.045}, {30, 2.042}, {40, 2.021},
                {60, 2.000}, {100, 1.984}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        cr_assert_eq(rpl_t975(rows[i].df), rows[i].t, "df %llu: %.17g",
                     (unsigned long long)rows[i].df, rpl_t975(rows[i].df));
    cr_assert_eq(rpl_t975(0), 0.0);
}

/* Between rows: the exact quantiles (computed from the regularised
 * incomplete beta function) to the table's 3 decimals. */
Test(replicate, t_quantiles_between_rows_match_the_distribution)
{
    static const struct {
        uint64_t df;
        double exact;
    } rows[] = {{35, 2.030108}, {50, 2.008559}, {80, 1.990063}, {120, 1.979930},
                {200, 1.971896}, {999, 1.962341}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        cr_assert(fabs(rpl_t975(rows[i].df) - rows[i].exact) < 6e-4, "df %llu: %.6f",
                  (unsigned long long)rows[i].df, rpl_t975(rows[i].df));
    for (uint64_t df = 1; df < 5000; df++)
        cr_assert_geq(rpl_t975(df), rpl_t975(df + 1), "not decreasing at %llu",
                      (unsigned long long)df);
    cr_assert_geq(rpl_t975(UINT64_MAX), 1.960);
    cr_assert_lt(rpl_t975(UINT64_MAX), 1.96001);
}

/* ---- intervals ------------------------------------------------------------------ */

Test(replicate, an_interval_by_hand)
{
    /* mean 3, s^2 = 10/4, half = t(4) * sqrt(2.5 / 5) = 2.776 * sqrt(0.5). */
    double x[] = {1, 2, 3, 4, 5};
    rpl_interval ci = rpl_interval_of(x, 5);
    cr_assert_eq(ci.mean, 3.0);
    cr_assert_float_eq(ci.upper - 3.0, 1.9629284245738558, 1e-12);
    cr_assert_float_eq(3.0 - ci.lower, 1.9629284245738558, 1e-12);
}

Test(replicate, equal_values_and_one_value_give_a_point)
{
    double same[] = {0.1, 0.1, 0.1}, one[] = {7.5};
    rpl_interval a = rpl_interval_of(same, 3), b = rpl_interval_of(one, 1);
    cr_assert(a.mean == 0.1 && a.lower == 0.1 && a.upper == 0.1);
    cr_assert(b.mean == 7.5 && b.lower == 7.5 && b.upper == 7.5);
}

/* A standard normal draw (Box-Muller): test data only, so libm is fine. */
static double normal(sim_rng *r)
{
    double u = 1.0 - sim_rng_unit(r), v = sim_rng_unit(r);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* For normal samples the t interval is exact: 95% of intervals from 3
 * samples hold the true mean. With t(3) instead of t(2), or a divisor n
 * instead of n - 1, coverage falls under 91%. */
Test(replicate, intervals_cover_the_mean_95_percent_of_the_time)
{
    sim_rng r;
    sim_rng_seed(&r, 7, "coverage");
    int trials = 20000, covered = 0;
    for (int i = 0; i < trials; i++) {
        double x[3];
        for (int k = 0; k < 3; k++)
            x[k] = 10.0 + 2.0 * normal(&r);
        rpl_interval ci = rpl_interval_of(x, 3);
        covered += ci.lower <= 10.0 && 10.0 <= ci.upper;
    }
    double share = (double)covered / trials;
    cr_assert(share > 0.94 && share < 0.96, "coverage %.4f", share);
}

/* ---- merging -------------------------------------------------------------------- */

static json_t *doc(const char *text)
{
    json_error_t e;
    json_t *d = json_loads(text, 0, &e);
    cr_assert_not_null(d, "%s: %s", text, e.text);
    return d;
}

static const char *const ci_keys[] = {"latency_ns", "*throughput*"};

Test(replicate, merge_means_numbers_and_adds_intervals_beside_their_keys)
{
    json_t *d[3] = {
        doc("{\"name\": \"a\", \"requests\": 10, \"workers\": 2, \"ok\": true,"
            " \"latency_ns\": {\"mean\": 1.0, \"p99\": 10, \"max\": 30},"
            " \"throughput_rps\": 100.0, \"util\": [0.5, 0.25], \"gone\": 1, \"n\": null}"),
        doc("{\"name\": \"b\", \"requests\": 12, \"workers\": 2, \"ok\": false,"
            " \"latency_ns\": {\"mean\": 2.0, \"p99\": 20, \"max\": 30},"
            " \"throughput_rps\": 200.0, \"util\": [0.5, 0.75], \"n\": 3}"),
        doc("{\"name\": \"c\", \"requests\": 14, \"workers\": 2, \"ok\": true,"
            " \"latency_ns\": {\"mean\": 3.0, \"p99\": 30, \"max\": 30},"
            " \"throughput_rps\": 300.0, \"util\": [0.5, 0.5], \"n\": 4}"),
    };
    json_t *m = rpl_merge(d, 3, ci_keys, 2);
    cr_assert_not_null(m);
    char *text = json_dumps(m, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    /* half-widths: t(2) / sqrt(3) = 2.484338 for means 1, 2, 3; ten times
     * that for the p99s; a max equal everywhere keeps its integer. */
    cr_assert_str_eq(text,
                     "{\"name\":\"a\",\"requests\":12.0,\"workers\":2,\"ok\":true,"
                     "\"latency_ns\":{\"mean\":2.0,\"p99\":20.0,\"max\":30},"
                     "\"latency_ns_ci95\":{\"mean\":{\"lower\":-0.484338,\"upper\":4.48434},"
                     "\"p99\":{\"lower\":-4.84338,\"upper\":44.8434},"
                     "\"max\":{\"lower\":30.0,\"upper\":30.0}},"
                     "\"throughput_rps\":200.0,"
                     "\"throughput_rps_ci95\":{\"lower\":-48.4338,\"upper\":448.434},"
                     "\"util\":[0.5,0.5],\"gone\":1,\"n\":null}");
    free(text);
    json_decref(m);
    for (int i = 0; i < 3; i++)
        json_decref(d[i]);
}

/* One replication is the plain run: a copy, with no interval. */
Test(replicate, merge_of_one_document_is_a_copy)
{
    json_t *d = doc("{\"a\": 1, \"latency_ns\": {\"mean\": 2.5}, \"l\": [1, {\"b\": 2}]}");
    json_t *m = rpl_merge(&d, 1, ci_keys, 2);
    cr_assert_not_null(m);
    cr_assert_neq(m, d);
    cr_assert(json_equal(m, d));
    json_decref(m);
    json_decref(d);
}

Test(replicate, shapes_that_differ_keep_the_first_documents)
{
    json_t *d[2] = {doc("{\"l\": [1, 2], \"o\": {\"x\": 1}, \"throughput\": \"fast\"}"),
                    doc("{\"l\": [3], \"o\": 5, \"throughput\": \"slow\"}")};
    json_t *m = rpl_merge(d, 2, ci_keys, 2);
    char *text = json_dumps(m, JSON_COMPACT | JSON_PRESERVE_ORDER);
    cr_assert_str_eq(text, "{\"l\":[1,2],\"o\":{\"x\":1},\"throughput\":\"fast\"}");
    free(text);
    json_decref(m);
    json_decref(d[0]);
    json_decref(d[1]);
}

/* ---- bounds as CSV columns --------------------------------------------------------- */

Test(replicate, bounds_follow_their_metric_under_its_name)
{
    json_t *flat = doc("{\"t.latency_ns.mean\": 1, \"t.latency_ns.p99\": 2,"
                       " \"t.throughput_rps\": 3,"
                       " \"t.latency_ns_ci95.mean.lower\": 0.5,"
                       " \"t.latency_ns_ci95.mean.upper\": 1.5,"
                       " \"t.latency_ns_ci95.p99.lower\": 1.5,"
                       " \"t.latency_ns_ci95.p99.upper\": 2.5,"
                       " \"t.throughput_rps_ci95.lower\": 2, \"t.throughput_rps_ci95.upper\": 4,"
                       " \"orphan_ci95.x.lower\": 9, \"t.lower\": 1, \"t.x_ci95y.upper\": 7}");
    json_t *out = rpl_bounds_beside(flat);
    cr_assert_not_null(out);
    static const char *const want[] = {
        "t.latency_ns.mean", "t.latency_ns.mean.lower", "t.latency_ns.mean.upper",
        "t.latency_ns.p99",  "t.latency_ns.p99.lower",  "t.latency_ns.p99.upper",
        "t.throughput_rps",  "t.throughput_rps.lower",  "t.throughput_rps.upper",
        "orphan.x.lower",    "t.lower",                 "t.x_ci95y.upper",
    };
    size_t i = 0;
    const char *key;
    json_t *v;
    json_object_foreach(out, key, v) {
        cr_assert_lt(i, sizeof want / sizeof want[0], "extra key %s", key);
        cr_assert_str_eq(key, want[i++]);
    }
    cr_assert_eq(i, sizeof want / sizeof want[0]);
    cr_assert_eq(json_number_value(json_object_get(out, "t.latency_ns.p99.upper")), 2.5);
    json_decref(out);
    json_decref(flat);
}
