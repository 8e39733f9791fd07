/*
 * plot_label.c -- axis labels for `pvsim plot` (sim/plot.h): what a CSV
 * column holds and in which unit, read from its dotted path, so a figure
 * says "p99 latency (us)" where the CSV says
 * "classes.io.metrics.latency_ns.p99".
 *
 * The rules know pvsim's naming (docs/results.md): a unit is the suffix of
 * a metric's name ("_ns", "_cycles", "_rps", "_bytes_per_s"), a statistic
 * ("mean", "p99") is the key below it, and the swept sizes are in bytes.
 * Every divisor is a power of two or of ten, so the labels and the script
 * they go in depend on nothing but the column and the data.
 */
#include <stdio.h>
#include <string.h>

#include "sim/plot.h"

#define MAX_SEGMENTS 16

/* The path split at its dots, into `buf`; how many segments. */
static size_t split_path(const char *col, char *buf, size_t len, const char **seg)
{
    snprintf(buf, len, "%s", col);
    size_t n = 0;
    for (char *p = buf; n < MAX_SEGMENTS;) {
        seg[n++] = p;
        p = strchr(p, '.');
        if (!p)
            break;
        *p++ = '\0';
    }
    return n;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* `s` without `suffix` (which it ends with), '_' as spaces, appended to
 * `out` after a space when `out` is not empty. */
static void add_words(char *out, size_t len, const char *s, const char *suffix)
{
    size_t used = strlen(out), n = strlen(s) - strlen(suffix);
    if (n == 0 || used + n + 2 > len)
        return;
    if (used)
        out[used++] = ' ';
    for (size_t i = 0; i < n; i++)
        out[used++] = s[i] == '_' ? ' ' : s[i];
    out[used] = '\0';
}

/* A metric named "<what><suffix>" (e.g. "round_latency_ns") below which
 * `stat` (may be NULL) picks a number: "<stat> <what>". */
static void metric_quantity(plot_axis *a, const char *stat, const char *name,
                            const char *suffix)
{
    a->quantity[0] = '\0';
    if (stat)
        add_words(a->quantity, sizeof a->quantity, stat, "");
    add_words(a->quantity, sizeof a->quantity, name, suffix);
}

/* The unit suffixes of metric names, as the CSV holds them. */
typedef struct unit_rule {
    const char *suffix;
    const char *unit;
    double divisor;
} unit_rule;

static const unit_rule unit_rules[] = {
    {"_ns", "us", 1e3},
    {"_cycles", "cycles", 1},
};

/* Throughput in bytes: GiB/s once the values reach 1 GiB/s, else MB/s. */
static void bytes_per_s(plot_axis *a, const char *stat, const char *name, double max)
{
    metric_quantity(a, stat, name, "_bytes_per_s");
    int gib = max >= 1073741824.0;
    a->unit = gib ? "GiB/s" : "MB/s";
    a->divisor = gib ? 1073741824.0 : 1e6;
}

/* Requests a second, in thousands or millions once the values reach
 * them; "offered_rps" is the offered load. */
static void requests_per_s(plot_axis *a, const char *stat, const char *name, double max)
{
    metric_quantity(a, stat, !strcmp(name, "offered_rps") ? "offered_load_rps" : name, "_rps");
    int m = max >= 1e6, k = max >= 1e3;
    a->unit = m ? "M requests/s" : k ? "k requests/s" : "requests/s";
    a->divisor = m ? 1e6 : k ? 1e3 : 1;
}

/* Whether `name`, with `stat` below it or none, is a metric with a unit. */
static int metric_axis(plot_axis *a, const char *stat, const char *name, double max)
{
    if (ends_with(name, "_bytes_per_s")) {
        bytes_per_s(a, stat, name, max);
        return 1;
    }
    if (ends_with(name, "_rps")) {
        requests_per_s(a, stat, name, max);
        return 1;
    }
    for (size_t i = 0; i < sizeof unit_rules / sizeof unit_rules[0]; i++) {
        if (!ends_with(name, unit_rules[i].suffix))
            continue;
        metric_quantity(a, stat, name, unit_rules[i].suffix);
        a->unit = unit_rules[i].unit;
        a->divisor = unit_rules[i].divisor;
        return 1;
    }
    return 0;
}

/* A size in bytes: "size", "*_size", "bytes", "*_bytes". A workload's size
 * is its requests'. */
static int size_axis(plot_axis *a, const char *parent, const char *name)
{
    if (strcmp(name, "size") && !ends_with(name, "_size") && strcmp(name, "bytes") &&
        !ends_with(name, "_bytes"))
        return 0;
    a->quantity[0] = '\0';
    if (!strcmp(name, "size"))
        add_words(a->quantity, sizeof a->quantity,
                  parent && !strcmp(parent, "workload") ? "request" : parent ? parent : "", "");
    add_words(a->quantity, sizeof a->quantity, name, "");
    a->unit = "KiB";
    a->divisor = 1024;
    return 1;
}

/* Names that say where a number sits, not what it is. */
static int is_container(const char *s)
{
    return !strcmp(s, "totals") || !strcmp(s, "metrics") || !strcmp(s, "result") ||
           strspn(s, "0123456789") == strlen(s);
}

void plot_axis_of(const char *col, double max, plot_axis *a)
{
    char buf[1024];
    const char *seg[MAX_SEGMENTS];
    size_t n = split_path(col, buf, sizeof buf, seg);
    /* An interval's bound is drawn as its metric. */
    if (n > 1 && (!strcmp(seg[n - 1], "lower") || !strcmp(seg[n - 1], "upper")))
        n--;
    const char *last = seg[n - 1], *parent = n > 1 ? seg[n - 2] : NULL;
    a->unit = NULL;
    a->divisor = 1;
    if (parent && metric_axis(a, last, parent, max))
        return;
    if (metric_axis(a, NULL, last, max) || size_axis(a, parent, last))
        return;
    a->quantity[0] = '\0';
    if (parent && !is_container(parent))
        add_words(a->quantity, sizeof a->quantity, parent, "");
    add_words(a->quantity, sizeof a->quantity, last, "");
}

void plot_axis_label(const plot_axis *a, char *out, size_t len)
{
    if (a->unit)
        snprintf(out, len, "%s (%s)", a->quantity, a->unit);
    else
        snprintf(out, len, "%s", a->quantity);
}
