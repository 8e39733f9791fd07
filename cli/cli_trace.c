/*
 * cli_trace.c -- the recording options of `pvsim run`: --trace (Chrome /
 * Perfetto JSON), --vcd, --requests (CSV) and --trace-limit; the recorder
 * they ask for, the files written after the run, and the line that says
 * what was written (docs/traces.md).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "sim/report.h"

/* A --trace-limit that is a count of events per kind and variant. */
static int parse_count(const char *arg, trc_limit *limit)
{
    uint64_t n;
    if (cli_parse_u64(arg, &n) != 0 || n == 0) {
        fprintf(stderr, "pvsim: --trace-limit %s: expected a number of events above 0 "
                        "(100000) or a window of simulated time (0us..50us)\n", arg);
        return -1;
    }
    limit->max_events = n;
    return 0;
}

/* One end of a window: a duration ("50us", "150000" cycles) in cycles. */
static int parse_end(const char *text, uint64_t clock_hz, sim_time *out)
{
    static const scn_field duration = {.key = "--trace-limit", .type = SCN_DURATION};
    double v;
    int timed;
    if (scn_parse_number(&duration, text, &v, &timed) != 0 || v < 0)
        return -1;
    double cycles = timed ? v * (double)clock_hz / 1e9 : v;
    if (cycles >= 1.8e19)
        return -1;
    *out = (sim_time)llround(cycles);
    return 0;
}

/* A --trace-limit that is a window "FROM..TO" of simulated time, from
 * each variant's start (TO may be left out: no end). Times in units are
 * converted with the scenario's clock, known only once it is loaded. */
static int parse_window(const char *arg, uint64_t clock_hz, trc_limit *limit)
{
    const char *dots = strstr(arg, "..");
    char from[64];
    size_t n = (size_t)(dots - arg);
    int open_end = dots[2] == '\0';
    int ok = n < sizeof from;
    if (ok) {
        memcpy(from, arg, n);
        from[n] = '\0';
        ok = parse_end(from, clock_hz, &limit->from) == 0 &&
             (open_end || parse_end(dots + 2, clock_hz, &limit->to) == 0);
    }
    if (!ok || (!open_end && limit->to <= limit->from)) {
        fprintf(stderr, "pvsim: --trace-limit %s: expected a window FROM..TO of simulated "
                        "time with FROM before TO (0us..50us, 1ms.., 0..150000 cycles)\n",
                arg);
        return -1;
    }
    return 0;
}

int cli_trace_limit_arg(cli_trace_opts *o, const char *arg)
{
    if (o->nlimits == sizeof o->limits / sizeof o->limits[0]) {
        fprintf(stderr, "pvsim: --trace-limit: give at most a count and a window\n");
        return -1;
    }
    o->limits[o->nlimits++] = arg;
    return 0;
}

/* Whether the directory of `path` can take the file: checked before the
 * run, so a typo does not cost a long run. 0, or -1 after saying why. */
static int writable_dir(const char *path)
{
    size_t len = strlen(path);
    if (len == 0 || path[len - 1] == '/') {
        fprintf(stderr, "pvsim: '%s': expected a file name\n", path);
        return -1;
    }
    char dir[4096] = ".";
    const char *slash = strrchr(path, '/');
    if (slash) {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        snprintf(dir, sizeof dir, "%.*s", (int)n, path);
    }
    if (access(dir, W_OK) != 0) {
        fprintf(stderr, "pvsim: cannot write %s: %s: %s\n", path, dir, strerror(errno));
        return -1;
    }
    return 0;
}

static int writable_dirs(const cli_trace_opts *o)
{
    const char *paths[] = {o->json, o->vcd, o->csv};
    for (size_t i = 0; i < 3; i++)
        if (paths[i] && writable_dir(paths[i]))
            return -1;
    return 0;
}

int cli_trace_begin(const cli_trace_opts *o, const system_config *cfg, trc_recorder **out)
{
    *out = NULL;
    unsigned what = (o->json ? TRC_SPANS : 0) | (o->vcd ? TRC_SIGNALS : 0) |
                    (o->csv ? TRC_ROWS : 0);
    trc_limit limit = {0};
    int windows = 0;
    for (size_t i = 0; i < o->nlimits; i++) {
        int window = strstr(o->limits[i], "..") != NULL;
        int rc = window ? parse_window(o->limits[i], cfg->clock_hz, &limit)
                        : parse_count(o->limits[i], &limit);
        if (rc)
            return EXIT_USAGE;
        windows += window;
    }
    if (o->nlimits == 2 && windows != 1) {
        fprintf(stderr, "pvsim: --trace-limit: give at most a count and a window, one each\n");
        return EXIT_USAGE;
    }
    if (writable_dirs(o))
        return EXIT_USAGE;
    if (!what) {
        if (o->nlimits)
            fprintf(stderr, "pvsim: --trace-limit bounds --trace, --vcd or --requests; "
                            "give one of them\n");
        return o->nlimits ? EXIT_USAGE : 0;
    }
    *out = trc_new(what, &limit);
    if (!*out) {
        fprintf(stderr, "pvsim: out of memory\n");
        return EXIT_RUN_FAILED;
    }
    return 0;
}

typedef struct write_job {
    const trc_recorder *t;
    int (*write)(const trc_recorder *t, FILE *f);
} write_job;

static int write_one(FILE *f, void *ctx)
{
    const write_job *j = ctx;
    return j->write(j->t, f);
}

/* `path` (NULL: not asked for) through rep_write_with; 0 or -1 after
 * saying why. */
static int write_file(const char *path, const trc_recorder *t,
                      int (*write)(const trc_recorder *t, FILE *f))
{
    char err[512];
    write_job j = {t, write};
    if (!path || rep_write_with(path, write_one, &j, err, sizeof err) == 0)
        return 0;
    fprintf(stderr, "pvsim: %s\n", err);
    return -1;
}

/* The summary: what each file holds, and whether a limit cut it. */
static void print_summary(const cli_trace_opts *o, const trc_recorder *t)
{
    trc_counts c;
    trc_get_counts(t, &c);
    printf("recorded:");
    if (o->json)
        printf(" %s (%" PRIu64 " slices)", o->json, c.slices);
    if (o->vcd)
        printf(" %s (%" PRIu64 " value changes)", o->vcd, c.changes);
    if (o->csv)
        printf(" %s (%" PRIu64 " rows)", o->csv, c.rows);
    if (c.cut_variants)
        printf("; cut by --trace-limit in %u variant%s (the files say where)", c.cut_variants,
               c.cut_variants == 1 ? "" : "s");
    printf("\n");
}

int cli_trace_finish(const cli_trace_opts *o, const trc_recorder *t, int quiet)
{
    if (!t)
        return 0;
    if (write_file(o->json, t, trc_write_json) || write_file(o->vcd, t, trc_write_vcd) ||
        write_file(o->csv, t, trc_write_csv))
        return EXIT_RUN_FAILED;
    if (!quiet)
        print_summary(o, t);
    return 0;
}
