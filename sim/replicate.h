/*
 * replicate.h -- independent replications of a run: their seeds, and their
 * results merged into means with 95% confidence intervals.
 *
 * A run with N replications simulates the same configuration N times, each
 * from its own seed (rpl_seed: replication 0 keeps the scenario's seed, so
 * one replication is the plain run), and rpl_merge folds the N results
 * documents into one of the same shape: every number becomes the mean over
 * the replications, and beside each key the caller names (a latency, a
 * throughput) goes a sibling "<key>_ci95" holding a Student t interval for
 * each number below it. The arithmetic is IEEE +, -, *, / and sqrt (all
 * correctly rounded) over the replications in order, and the t quantiles
 * come from a table, so the merged document is the same bytes on every
 * machine. Nothing here knows what a result means.
 */
#ifndef PVSIM_SIM_REPLICATE_H
#define PVSIM_SIM_REPLICATE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* The suffix of an interval's key: "latency_ns" -> "latency_ns_ci95". */
#define RPL_CI_SUFFIX "_ci95"

/* The seed of replication `r` of a run seeded `seed`: `seed` itself for
 * r = 0, else a 63-bit word drawn from the stream named "replication/<r>"
 * of `seed` (sim/rng.h), so seeds never depend on how many replications
 * run, and every seed fits a JSON integer. */
uint64_t rpl_seed(uint64_t seed, uint64_t r);

/* The 0.975 quantile of Student's t distribution with `df` degrees of
 * freedom (the half-width factor of a two-sided 95% interval): the table of
 * NIST/SEMATECH e-Handbook of Statistical Methods, section 1.3.6.7.2, for
 * df 1 to 30, 40, 60, 100 and infinity (3 decimals), linear in 1/df
 * between its rows. 0 for df = 0 (no interval from one sample). */
double rpl_t975(uint64_t df);

/* A sample's mean and its two-sided 95% confidence interval for the mean:
 * mean -+ t(n - 1) * s / sqrt(n), with s the sample standard deviation
 * (divisor n - 1). When every value is equal, or n < 2, the mean is x[0]
 * and lower = upper = mean. */
typedef struct rpl_interval {
    double mean, lower, upper;
} rpl_interval;

rpl_interval rpl_interval_of(const double *x, size_t n);

/*
 * Merges `n` (>= 1) documents of the same shape into a new one, walking
 * docs[0]'s keys in order:
 *  - a number present in every document is kept as it is when all are
 *    equal (same type and value), else becomes the mean (a real);
 *  - objects merge key by key, arrays of equal lengths item by item;
 *  - anything else (strings, booleans, nulls, a value that some document
 *    lacks or holds with another type, arrays of unequal lengths) is
 *    docs[0]'s;
 *  - after each object key matching one of `ci_keys` (fnmatch patterns),
 *    "<key>_ci95" holds, for a number, {"lower", "upper"}, and for an
 *    object, the same for each number below it (the keys that are numbers
 *    in every document). With one document there are no intervals.
 * New reference; NULL when memory is short.
 */
json_t *rpl_merge(json_t *const *docs, size_t n, const char *const *ci_keys, size_t nkeys);

/*
 * A flattened document (rep_flatten) with its interval bounds named and
 * placed for a table: "totals.latency_ns_ci95.p99.lower" becomes
 * "totals.latency_ns.p99.lower" and follows "totals.latency_ns.p99",
 * ".upper" after it; a bound whose metric is absent stays where it was,
 * renamed. Other keys keep their order. New reference; NULL when memory is
 * short.
 */
json_t *rpl_bounds_beside(const json_t *flat);

#endif
