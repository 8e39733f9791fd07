/*
 * cli_bench.c -- `pvsim bench all`: every benchmark in one run, as one
 * table (docs/performance.md reads it).
 *
 * The cases: the kernel's hold model at 16, 1,024 and 65,536 pending
 * events, every .yaml file in scenarios/, and the large case (bench/large.yaml:
 * 1,024 guests, over 10^7 events). Each case runs N times (default 3), each
 * time in a child process of its own, so that the child's peak resident
 * set (its own getrusage ru_maxrss, read before it exits) is the case's
 * alone and one case's heap cannot
 * slow the next. The table gives medians with the spread (min-max) of the
 * rates, because this machine is shared and single runs are noisy.
 *
 * The set-up (loading, aging guest memory, building each variant) and the
 * event loop are timed apart inside the run (system_run_timed); the
 * results document never sees those times, so it stays deterministic.
 *
 * When this pvsim has the SystemC backend, each case also runs as many
 * times on it, each run again in a child, and prints a second row with
 * the same columns and the native/SystemC ratio of the median rates.
 * SystemC allows one kernel per process, so a scenario's SystemC run
 * forks a process per job (system_run_on_backend does): its set-up and loop
 * are the sums of what the job processes measured (they send their times
 * back beside their results), its rate is over the whole wall time,
 * forking and passing results included, and its peak RSS is the largest
 * of the child's and its job processes' (RUSAGE_CHILDREN). The SystemC
 * rows are left out without that backend or with --no-systemc.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/hold.h"
#include "cli/cli.h"
#include "models/system_parallel.h"
#include "sim/wallclock.h"

#define MAX_RUNS 15

static const char all_usage[] =
    "usage: pvsim bench all [--runs N] [--events E] [--scenarios DIR] [--large FILE]\n"
    "                       [--no-systemc]\n"
    "\n"
    "Runs every benchmark and prints one table: the hold model at 16, 1024 and\n"
    "65536 pending events, every DIR/*.yaml and the large case, each N times in\n"
    "a process of its own. Per case: events, events/s over the whole run,\n"
    "ns/event of the event loop alone, set-up and event-loop seconds, peak\n"
    "resident set, and the SystemC backend's M events/s over the whole run\n"
    "(its processes included) with the native/SystemC ratio (n/a without that\n"
    "backend). Figures are medians; [min-max] is their spread.\n"
    "\n"
    "options:\n"
    "  -n, --runs N        runs per case, 1 to 15 (default 3)\n"
    "  -e, --events E      events of each hold-model run (default 20000000)\n"
    "  -d, --scenarios DIR the scenarios to time (default scenarios)\n"
    "  -l, --large FILE    the large case (default bench/large.yaml; '' skips it)\n"
    "  -S, --no-systemc    native runs only (the SystemC runs take most of the time)\n"
    "\n"
    "On a terminal a progress bar on stderr shows the runs done of all.\n"
    "\n"
    "examples:\n"
    "  pvsim bench all\n"
    "  pvsim bench all --runs 5 --large ''\n";

/* One run of one case, as the child measured it. */
typedef struct measure {
    int ok;
    uint64_t events;
    double setup_s, loop_s, whole_s;
    double rss_mib;                 /* peak resident set */
} measure;

/* ---- the children -------------------------------------------------------- */

static measure measure_hold(sim_backend_kind backend, uint32_t pending, uint64_t events)
{
    measure m = {0};
    bench_hold_result r;
    double t0 = sim_wall_seconds();
    if (bench_hold(backend, pending, events, 1, &r) != 0)
        return m;
    m.whole_s = sim_wall_seconds() - t0;
    m.loop_s = r.seconds;
    m.setup_s = m.whole_s - r.seconds;  /* priming the pending events */
    m.events = r.events;
    m.ok = 1;
    return m;
}

/* The scenario as `pvsim run -j 1 --backend B` runs it; loading the
 * file counts as set-up, like aging and building. */
static measure measure_scenario(sim_backend_kind backend, const char *file)
{
    measure m = {0};
    double t0 = sim_wall_seconds();
    system_config cfg;
    system_timing t;
    json_t *results = NULL;
    char err[512];
    int rc = cli_load_file(file, NULL, 0, &cfg);
    double loaded = sim_wall_seconds() - t0;
    cfg.backend = backend;
    if (rc == 0 && system_run_on_backend(&cfg, NULL, NULL, &results, &t, err, sizeof err) != 0)
        fprintf(stderr, "pvsim bench: %s: %s\n", file, err);
    else if (rc == 0)
        m = (measure){.ok = 1, .events = t.events, .setup_s = loaded + t.setup_s,
                      .loop_s = t.loop_s};
    json_decref(results);
    system_config_free(&cfg);
    m.whole_s = sim_wall_seconds() - t0;
    return m;
}

/* One measurement: the hold model at `pending` (file NULL) or a scenario,
 * on `backend`. */
static measure measure_one(sim_backend_kind backend, const char *file, uint32_t pending,
                           uint64_t events)
{
    if (!file)
        return measure_hold(backend, pending, events);
    return measure_scenario(backend, file);
}

/* The peak resident set of this process and of any process it forked
 * and waited for, MiB. */
static double peak_rss_mib(void)
{
    struct rusage self, children;
    long kib = 0;
    if (getrusage(RUSAGE_SELF, &self) == 0)
        kib = self.ru_maxrss;       /* KiB on Linux */
    if (getrusage(RUSAGE_CHILDREN, &children) == 0 && children.ru_maxrss > kib)
        kib = children.ru_maxrss;
    return (double)kib / 1024.0;
}

/* Runs one measurement in a child and fills `*out`, its peak RSS
 * included; -1 when it failed. */
static int run_child(sim_backend_kind backend, const char *file, uint32_t pending,
                     uint64_t events, measure *out)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    fflush(NULL);                   /* the child must not repeat buffered output */
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        measure m = measure_one(backend, file, pending, events);
        m.rss_mib = peak_rss_mib();
        ssize_t w = write(fds[1], &m, sizeof m);
        _exit(w == (ssize_t)sizeof m && m.ok ? 0 : 1);
    }
    close(fds[1]);
    ssize_t got = read(fds[0], out, sizeof *out);
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return got == (ssize_t)sizeof *out && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
                   out->ok
               ? 0
               : -1;
}

/* ---- the table ----------------------------------------------------------- */

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median, min and max of `n` values (n >= 1); sorts them. */
typedef struct spread {
    double med, min, max;
} spread;

static spread spread_of(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, by_value);
    double med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    return (spread){med, v[0], v[n - 1]};
}

static void print_header(int runs, int systemc)
{
    printf("pvsim bench all: medians of %d runs, [min-max]; ev/s over the whole run, "
           "ns/event of the event loops; SystemC %s\n", runs,
           systemc ? "rows: the same runs on that backend, a process per job"
                   : sim_kernel_backend_built(SIM_BACKEND_SYSTEMC) ? "skipped (--no-systemc)"
                                                                  : "not in this build");
    printf("%-28s %-7s %10s %20s %20s %8s %8s %8s %9s\n", "case", "backend", "events",
           "M events/s", "ns/event (loop)", "setup s", "loop s", "RSS MiB", "native/SC");
}

/* The medians of one case's `n` runs on one backend. */
typedef struct row {
    uint64_t events;
    spread rate, ns;                /* M events/s (whole run), ns/event (loop) */
    double setup_s, loop_s, rss_mib;
} row;

static row row_of(const measure *m, int n)
{
    double rate[MAX_RUNS], ns[MAX_RUNS], setup[MAX_RUNS], loop[MAX_RUNS], rss[MAX_RUNS];
    for (int i = 0; i < n; i++) {
        rate[i] = (double)m[i].events / m[i].whole_s / 1e6;
        ns[i] = m[i].loop_s * 1e9 / (double)(m[i].events ? m[i].events : 1);
        setup[i] = m[i].setup_s;
        loop[i] = m[i].loop_s;
        rss[i] = m[i].rss_mib;
    }
    return (row){m[0].events, spread_of(rate, n), spread_of(ns, n), spread_of(setup, n).med,
                 spread_of(loop, n).med, spread_of(rss, n).med};
}

/* One printed row; `ratio` is "" on the native row. */
static void print_row(const char *name, const char *backend, const row *r, const char *ratio)
{
    char rs[32], es[32];
    snprintf(rs, sizeof rs, "%.2f [%.2f-%.2f]", r->rate.med, r->rate.min, r->rate.max);
    snprintf(es, sizeof es, "%.1f [%.1f-%.1f]", r->ns.med, r->ns.min, r->ns.max);
    printf("%-28s %-7s %10" PRIu64 " %20s %20s %8.3f %8.3f %8.1f %9s\n", name, backend,
           r->events, rs, es, r->setup_s, r->loop_s, r->rss_mib, ratio);
    fflush(stdout);
}

/* Prints the rows of `name` from its `n` runs, and of its `n` SystemC
 * runs when `sc` is not NULL. */
static void print_case(const char *name, const measure *m, const measure *sc, int n)
{
    row native = row_of(m, n);
    print_row(name, "native", &native, "");
    if (!sc)
        return;
    row other = row_of(sc, n);
    char ratio[16];
    snprintf(ratio, sizeof ratio, "%.2f", native.rate.med / other.rate.med);
    print_row("", "systemc", &other, ratio);
}

/* What every case shares. */
typedef struct bench_opts {
    int runs;
    int systemc;                    /* also time the SystemC backend */
    uint64_t events;                /* of each hold-model run */
    cli_progress progress;          /* on stderr: runs done of all */
    size_t done, total;
} bench_opts;

/* One more run done, of case `name` on `backend`. */
static void ran_one(bench_opts *o, const char *name, sim_backend_kind backend)
{
    o->done++;
    snprintf(o->progress.detail, sizeof o->progress.detail, " (%.36s, %s)", name,
             backend == SIM_BACKEND_NATIVE ? "native" : "systemc");
    cli_progress_show(&o->progress, (double)o->done / (double)o->total);
}

/* Runs one case `runs` times on `backend` into `m`; -1 when a run failed. */
static int run_case(const char *name, sim_backend_kind backend, const char *file,
                    uint32_t pending, bench_opts *o, measure *m)
{
    for (int i = 0; i < o->runs; i++) {
        int failed = run_child(backend, file, pending, o->events, &m[i]) != 0;
        ran_one(o, name, backend);
        if (failed) {
            cli_progress_end(&o->progress);
            fprintf(stderr, "pvsim bench: %s: %s run %d failed\n", name,
                    backend == SIM_BACKEND_NATIVE ? "native" : "systemc", i + 1);
            return -1;
        }
    }
    return 0;
}

/* Runs one case on each backend and prints its row; -1 when a run failed. */
static int bench_case(const char *name, const char *file, uint32_t pending,
                      bench_opts *o)
{
    measure m[MAX_RUNS], sc[MAX_RUNS];
    if (run_case(name, SIM_BACKEND_NATIVE, file, pending, o, m) != 0)
        return -1;
    if (o->systemc && run_case(name, SIM_BACKEND_SYSTEMC, file, pending, o, sc) != 0)
        return -1;
    cli_progress_end(&o->progress);     /* the row goes where the bar was */
    print_case(name, m, o->systemc ? sc : NULL, o->runs);
    return 0;
}

static int bench_scenarios(const char *dir, char **names, size_t n, bench_opts *o)
{
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        rc = bench_case(names[i], path, 0, o);
    }
    return rc;
}

/* ---- the command ----------------------------------------------------------- */

int cli_bench_all(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"runs", required_argument, NULL, 'n'},
        {"events", required_argument, NULL, 'e'},
        {"scenarios", required_argument, NULL, 'd'},
        {"large", required_argument, NULL, 'l'},
        {"no-systemc", no_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    uint64_t runs = 3, events = 20000000;
    const char *dir = "scenarios", *large = "bench/large.yaml";
    int c, systemc = sim_kernel_backend_built(SIM_BACKEND_SYSTEMC);
    while ((c = getopt_long(argc, argv, "n:e:d:l:Sh", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(all_usage, stdout);
            return 0;
        }
        int bad = c == 'n'   ? cli_parse_u64(optarg, &runs)
                  : c == 'e' ? cli_parse_u64(optarg, &events)
                  : c == 'd' ? (dir = optarg, 0)
                  : c == 'l' ? (large = optarg, 0)
                  : c == 'S' ? (systemc = 0, 0)
                             : 1;
        if (bad) {
            fputs(all_usage, stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc || runs < 1 || runs > MAX_RUNS || events < 1) {
        fprintf(stderr, "pvsim bench all: --runs must be 1..%d and --events >= 1\n%s",
                MAX_RUNS, all_usage);
        return EXIT_USAGE;
    }
    char **names;
    size_t n;
    if (cli_list_files(dir, ".yaml", &names, &n) != 0) {
        fprintf(stderr, "pvsim bench: %s: %s\n", dir, strerror(errno));
        return EXIT_RUN_FAILED;
    }
    static const uint32_t pending[] = {16, 1024, 65536};
    size_t cases = sizeof pending / sizeof pending[0] + n + (*large ? 1 : 0);
    bench_opts o = {(int)runs, systemc, events};
    o.total = cases * (size_t)runs * (systemc ? 2 : 1);
    cli_progress_start(&o.progress, "of the runs done");
    print_header(o.runs, o.systemc);
    int rc = 0;
    for (size_t i = 0; i < sizeof pending / sizeof pending[0] && rc == 0; i++) {
        char name[48];
        snprintf(name, sizeof name, "hold, %" PRIu32 " pending", pending[i]);
        rc = bench_case(name, NULL, pending[i], &o);
    }
    if (rc == 0)
        rc = bench_scenarios(dir, names, n, &o);
    cli_free_names(names, n);
    if (rc == 0 && *large)
        rc = bench_case(large, large, 0, &o);
    cli_progress_end(&o.progress);
    return rc ? EXIT_RUN_FAILED : 0;
}
