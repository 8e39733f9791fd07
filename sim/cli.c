/*
 * cli.c -- the `pvsim` command: the only place that prints or exits.
 *
 * Subcommands parse their own flags with getopt_long and hand validated
 * input to the library layers; every failure is reported here, once.
 * Exit status: 0 success, 1 the run or its output failed, 2 bad usage or a
 * bad scenario.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench/hold.h"
#include "models/system.h"
#include "models/vmm.h"
#include "sim/report.h"
#include "sim/scenario.h"

enum { EXIT_RUN_FAILED = 1, EXIT_USAGE = 2 };

#define MAX_SETS 256

static const char main_usage[] =
    "usage: pvsim <command> [options]\n"
    "\n"
    "pvsim simulates paravirtual I/O cycle by cycle: guests, the exits and\n"
    "interrupts between them and the host, and the devices they drive.\n"
    "\n"
    "commands:\n"
    "  run [FILE]        run a scenario (the built-in one without FILE)\n"
    "  check FILE        validate a scenario without running it\n"
    "  presets           list the cost presets and the source of each number\n"
    "  reference         print the scenario key reference (docs/scenarios.md)\n"
    "  bench kernel      measure the event kernel (hold model)\n"
    "\n"
    "options:\n"
    "  -h, --help        show this help; `pvsim <command> --help` for a command\n"
    "  -V, --version     print the version\n"
    "\n"
    "examples:\n"
    "  pvsim run\n"
    "  pvsim run scenarios/loopback.yaml --seed 7 --out results/\n"
    "  pvsim check scenarios/loopback.yaml --set guests.0.workload.depth=8\n";

static const char run_usage[] =
    "usage: pvsim run [FILE] [--out DIR] [--seed N] [--set PATH=VALUE]... [--quiet]\n"
    "\n"
    "Runs the scenario in FILE (or the built-in default scenario), prints a\n"
    "table of results and writes them as JSON to DIR/<scenario name>.json.\n"
    "The same scenario and seed always give the same JSON, byte for byte.\n"
    "\n"
    "options:\n"
    "  -o, --out DIR         directory for the results (default: pvsim-out)\n"
    "  -s, --seed N          seed of every random stream (overrides `seed:`)\n"
    "  -S, --set PATH=VALUE  override one scenario key; repeatable. PATH is\n"
    "                        dotted, with list indices: run.duration=5ms,\n"
    "                        guests.0.workload.size=64KiB\n"
    "  -q, --quiet           print nothing but errors\n"
    "  -h, --help            show this help\n"
    "\n"
    "examples:\n"
    "  pvsim run\n"
    "  pvsim run scenarios/loopback.yaml\n"
    "  pvsim run scenarios/loopback.yaml --seed 42 --set device.workers=4\n";

static const char check_usage[] =
    "usage: pvsim check FILE [--set PATH=VALUE]...\n"
    "\n"
    "Validates FILE against the scenario schema (see `pvsim reference`) and\n"
    "prints every error as file:line:column: error: ...; exit status 2 if\n"
    "there is one.\n"
    "\n"
    "examples:\n"
    "  pvsim check scenarios/loopback.yaml\n"
    "  pvsim check my.yaml --set run.duration=1ms\n";

static const char bench_usage[] =
    "usage: pvsim bench kernel [--pending P] [--events E] [--seed N]\n"
    "\n"
    "The classic hold model: P events pending, each handler reschedules\n"
    "itself at now + uniform[1, 1000] cycles, until E events have run.\n"
    "Prints events per second and nanoseconds per event.\n"
    "\n"
    "options:\n"
    "  -p, --pending P   events pending at once (default 1024)\n"
    "  -e, --events E    events to run (default 10000000)\n"
    "  -s, --seed N      random seed (default 1)\n"
    "\n"
    "examples:\n"
    "  pvsim bench kernel --pending 16 --events 20000000\n"
    "  pvsim bench kernel --pending 65536\n";

/* Parses a whole unsigned decimal; 0 on success. */
static int parse_u64(const char *s, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static void print_errors(const scn_errors *errs)
{
    char line[1024];
    for (int i = 0; i < errs->count; i++) {
        scn_error_format(&errs->items[i], line, sizeof line);
        fprintf(stderr, "%s\n", line);
    }
    if (errs->dropped)
        fprintf(stderr, "pvsim: %d more errors not shown\n", errs->dropped);
}

/* Options shared by run and check. */
typedef struct scenario_opts {
    const char *file;
    const char *sets[MAX_SETS];
    size_t nsets;
    char seed_set[48];              /* "seed=N" when --seed was given */
} scenario_opts;

static int add_set(scenario_opts *o, const char *set)
{
    if (o->nsets == MAX_SETS) {
        fprintf(stderr, "pvsim: at most %d --set options\n", MAX_SETS);
        return -1;
    }
    o->sets[o->nsets++] = set;
    return 0;
}

static int load_scenario(const scenario_opts *o, system_config *cfg)
{
    scn_source src = {.path = o->file, .sets = o->sets, .nsets = o->nsets};
    scn_errors errs = {0};
    int rc = system_load(&src, cfg, &errs);
    if (rc == 0)
        return 0;
    if (errs.count)
        print_errors(&errs);
    else
        fprintf(stderr, "pvsim: %s: %s\n", o->file ? o->file : "<built-in>",
                sim_strerror(rc));
    return -1;
}

/* ---- the results table ------------------------------------------------- */

static double jnum(const json_t *o, const char *path)
{
    char key[64];
    const json_t *v = o;
    while (v && *path) {
        size_t n = strcspn(path, ".");
        snprintf(key, sizeof key, "%.*s", (int)n, path);
        v = json_object_get(v, key);
        path += n + (path[n] == '.');
    }
    return v ? json_number_value(v) : 0.0;
}

/* The side-by-side tables: one column per variant. `path` is read from
 * each variant's totals, or from each class's metrics when `cls` >= 0. */
typedef struct column_set {
    const json_t *variants;
    size_t n;
} column_set;

/* `cls` values that are not class indices. */
#define ROW_TOTALS (-1)                 /* the variant's totals */
#define ROW_VARIANT (-2)                /* the variant object itself */

static const json_t *variant_metrics(const json_t *v, long cls)
{
    if (cls == ROW_VARIANT)
        return v;
    if (cls < 0)
        return json_object_get(v, "totals");
    return json_object_get(json_array_get(json_object_get(v, "classes"), (size_t)cls),
                           "metrics");
}

static void print_header(const column_set *cs, const char *title)
{
    printf("\n%-22s", title);
    for (size_t i = 0; i < cs->n; i++)
        printf(" %11.11s", json_string_value(json_object_get(json_array_get(cs->variants, i),
                                                             "name")));
    printf("\n");
}

static void print_row(const column_set *cs, const char *label, long cls, const char *path,
                      double scale, const char *fmt)
{
    printf("%-22.22s", label);
    for (size_t i = 0; i < cs->n; i++)
        printf(fmt, jnum(variant_metrics(json_array_get(cs->variants, i), cls), path) * scale);
    printf("\n");
}

/* One row per class and a total row, for one metric. */
static void print_by_class(const column_set *cs, const json_t *classes, const char *title,
                           const char *path, double scale, const char *fmt)
{
    print_header(cs, title);
    size_t i;
    json_t *c;
    json_array_foreach(classes, i, c)
        print_row(cs, json_string_value(json_object_get(c, "name")), (long)i, path, scale, fmt);
    if (json_array_size(classes) > 1)
        print_row(cs, "total", -1, path, scale, fmt);
}

static void print_io_tables(const column_set *cs, const json_t *classes)
{
    print_by_class(cs, classes, "mean latency, us", "latency_ns.mean", 1e-3, " %11.2f");
    print_by_class(cs, classes, "p99 latency, us", "latency_ns.p99", 1e-3, " %11.2f");
    print_by_class(cs, classes, "throughput, k req/s", "throughput_rps", 1e-3, " %11.1f");
    static const char *const parts[] = {"notify", "exit", "translate", "copy", "device",
                                        "interrupt", "scheduling", "queueing"};
    print_header(cs, "per request (all)");
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        char path[64], label[64];
        snprintf(path, sizeof path, "breakdown_cycles.%s", parts[i]);
        snprintf(label, sizeof label, "%s, cycles", parts[i]);
        print_row(cs, label, ROW_TOTALS, path, 1, " %11.0f");
    }
    print_row(cs, "exits", ROW_TOTALS, "exits_per_request", 1, " %11.2f");
    print_row(cs, "page walks", ROW_TOTALS, "scheme.walks_per_request", 1, " %11.2f");
    print_row(cs, "tcache hit ratio", ROW_TOTALS, "scheme.tcache_hit_ratio", 1, " %11.3f");
    print_header(cs, "over the window (all)");
    print_row(cs, "requests", ROW_TOTALS, "requests", 1, " %11.0f");
    print_row(cs, "failed requests", ROW_TOTALS, "scheme.failed_requests", 1, " %11.0f");
    print_row(cs, "alloc failures", ROW_TOTALS, "scheme.alloc_failures", 1, " %11.0f");
    print_row(cs, "bounced, MiB", ROW_TOTALS, "scheme.bounce_bytes", 1.0 / (1 << 20), " %11.1f");
    print_row(cs, "copied, MiB", ROW_TOTALS, "scheme.copy_bytes", 1.0 / (1 << 20), " %11.1f");
}

static void print_ivshmem_table(const column_set *cs)
{
    print_header(cs, "ivshmem");
    print_row(cs, "round mean, us", ROW_VARIANT, "ivshmem.round_latency_ns.mean", 1e-3,
              " %11.2f");
    print_row(cs, "round p99, us", ROW_VARIANT, "ivshmem.round_latency_ns.p99", 1e-3,
              " %11.2f");
    print_row(cs, "one-way mean, us", ROW_VARIANT, "ivshmem.one_way_latency_ns.mean", 1e-3,
              " %11.2f");
    print_row(cs, "rounds", ROW_VARIANT, "ivshmem.counts.rounds", 1, " %11.0f");
    print_row(cs, "messages", ROW_VARIANT, "ivshmem.counts.messages", 1, " %11.0f");
    print_row(cs, "intercepts/message", ROW_VARIANT, "ivshmem.intercepts_per_message", 1,
              " %11.2f");
    print_row(cs, "exits/message", ROW_VARIANT, "ivshmem.exits_per_message", 1, " %11.2f");
    print_row(cs, "interrupts", ROW_VARIANT, "ivshmem.counts.interrupts", 1, " %11.0f");
    print_row(cs, "coalesced", ROW_VARIANT, "ivshmem.counts.coalesced", 1, " %11.0f");
    print_row(cs, "status lost", ROW_VARIANT, "ivshmem.counts.status_lost", 1, " %11.0f");
    print_row(cs, "dropped", ROW_VARIANT, "ivshmem.counts.dropped", 1, " %11.0f");
}

static void print_cores_table(const column_set *cs)
{
    print_header(cs, "host cores");
    print_row(cs, "cores", ROW_VARIANT, "cores.count", 1, " %11.0f");
    print_row(cs, "utilisation, mean", ROW_VARIANT, "cores.utilisation_mean", 1, " %11.3f");
    print_row(cs, "context switches", ROW_VARIANT, "cores.context_switches", 1, " %11.0f");
    print_row(cs, "wake-ups", ROW_VARIANT, "cores.wakeups", 1, " %11.0f");
    print_row(cs, "run queue, mean", ROW_VARIANT, "cores.mean_runqueue", 1, " %11.2f");
}

static void print_table(const json_t *r, double wall_s)
{
    column_set cs = {json_object_get(r, "variants"), 0};
    cs.n = json_array_size(cs.variants);
    const json_t *first = json_array_get(cs.variants, 0);
    const json_t *classes = json_object_get(first, "classes");
    double events = 0;
    for (size_t i = 0; i < cs.n; i++)
        events += jnum(json_array_get(cs.variants, i), "events");
    printf("scenario %s: seed %.0f, preset %s, clock %.3f GHz, %.3f ms measured\n",
           json_string_value(json_object_get(r, "scenario")), jnum(r, "seed"),
           json_string_value(json_object_get(r, "preset")), jnum(r, "clock_hz") / 1e9,
           jnum(first, "window.seconds") * 1e3);
    printf("%zu variant%s, %.0f events in %.2f s (%.1f M events/s)\n", cs.n,
           cs.n == 1 ? "" : "s", events, wall_s, wall_s > 0 ? events / wall_s / 1e6 : 0.0);
    if (json_array_size(classes) > 0)
        print_io_tables(&cs, classes);
    if (json_object_get(first, "ivshmem"))
        print_ivshmem_table(&cs);
    print_cores_table(&cs);
}

/* ---- run ----------------------------------------------------------------- */

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* mkdir -p: creates `dir` and its parents. */
static int make_dirs(const char *dir)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return -1;
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return (mkdir(path, 0777) != 0 && errno != EEXIST) ? -1 : 0;
}

/* DIR/<name>.json with the name reduced to characters safe in a file name. */
static void results_path(char *buf, size_t len, const char *dir, const char *name)
{
    char safe[129];
    size_t n = 0;
    for (const char *p = name; *p && n < sizeof safe - 1; p++) {
        int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                 (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.';
        safe[n] = ok && !(n == 0 && *p == '.') ? *p : '_';
        n++;
    }
    safe[n] = '\0';
    snprintf(buf, len, "%s/%s.json", dir, safe);
}

static int write_results(const char *dir, const system_config *cfg, const json_t *r,
                         int quiet)
{
    char path[4096], err[512];
    if (make_dirs(dir) != 0) {
        fprintf(stderr, "pvsim: cannot create directory %s: %s\n", dir, strerror(errno));
        return EXIT_RUN_FAILED;
    }
    results_path(path, sizeof path, dir, cfg->name);
    if (rep_write_json(path, r, err, sizeof err) != 0) {
        fprintf(stderr, "pvsim: %s\n", err);
        return EXIT_RUN_FAILED;
    }
    if (!quiet)
        printf("\nresults: %s\n", path);
    return 0;
}

/* Progress of a long run on stderr: a bar with an ETA on a terminal, a
 * plain line every 10 s otherwise; nothing for runs shorter than that. */
typedef struct progress {
    double start, last;
    int tty, shown;
} progress;

static void show_progress(void *ctx, double fraction)
{
    static const char bar[] = "##############################";
    progress *p = ctx;
    double now = wall_seconds();
    double since_start = now - p->start;
    if (since_start < (p->tty ? 0.5 : 10.0) || now - p->last < (p->tty ? 0.2 : 10.0))
        return;
    p->last = now;
    p->shown = 1;
    double eta = fraction > 0 ? since_start * (1 - fraction) / fraction : 0;
    if (p->tty)
        fprintf(stderr, "\r[%-30.*s] %3.0f%% simulated, %.0f s left ",
                (int)(fraction * 30), bar, fraction * 100, eta);
    else
        fprintf(stderr, "pvsim: %.0f%% simulated, %.0f s left\n", fraction * 100, eta);
}

static void end_progress(const progress *p)
{
    if (p->tty && p->shown)
        fputs("\r\033[K", stderr);
}

/* Collects FILE, --set and --seed for run and check; 0 or an exit status. */
static int parse_scenario_args(int argc, char **argv, scenario_opts *o,
                               const char **out_dir, int *quiet, const char *usage)
{
    static const struct option longopts[] = {
        {"out", required_argument, NULL, 'o'},
        {"seed", required_argument, NULL, 's'},
        {"set", required_argument, NULL, 'S'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    int c;
    uint64_t seed;
    while ((c = getopt_long(argc, argv, "o:s:S:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            if (!out_dir)
                goto bad;
            *out_dir = optarg;
            break;
        case 's':
            if (parse_u64(optarg, &seed)) {
                fprintf(stderr, "pvsim: --seed: expected an unsigned integer, found '%s'\n",
                        optarg);
                return EXIT_USAGE;
            }
            snprintf(o->seed_set, sizeof o->seed_set, "seed=%" PRIu64, seed);
            break;
        case 'S':
            if (add_set(o, optarg))
                return EXIT_USAGE;
            break;
        case 'q':
            if (!quiet)
                goto bad;
            *quiet = 1;
            break;
        case 'h':
            fputs(usage, stdout);
            return -1;
        default:
            goto bad;
        }
    }
    /* --seed wins over any --set seed=..., whatever the order. */
    if (o->seed_set[0] && add_set(o, o->seed_set))
        return EXIT_USAGE;
    if (optind < argc)
        o->file = argv[optind++];
    if (optind < argc) {
        fprintf(stderr, "pvsim: unexpected argument '%s'\n", argv[optind]);
        goto bad;
    }
    return 0;
bad:
    fprintf(stderr, "%s", usage);
    return EXIT_USAGE;
}

static int cmd_run(int argc, char **argv)
{
    scenario_opts o = {0};
    const char *out_dir = "pvsim-out";
    int quiet = 0;
    int rc = parse_scenario_args(argc, argv, &o, &out_dir, &quiet, run_usage);
    if (rc)
        return rc < 0 ? 0 : rc;
    system_config cfg;
    if (load_scenario(&o, &cfg) != 0) {
        system_config_free(&cfg);
        return EXIT_USAGE;
    }
    json_t *results = NULL;
    double t0 = wall_seconds();
    progress prog = {.start = t0, .last = t0, .tty = isatty(STDERR_FILENO)};
    char err[512];
    int st = system_run(&cfg, quiet ? NULL : show_progress, &prog, &results, err, sizeof err);
    end_progress(&prog);
    double wall = wall_seconds() - t0;
    if (st != 0) {
        fprintf(stderr, "pvsim: run failed: %s\n", err);
        rc = EXIT_RUN_FAILED;
    } else {
        if (!quiet)
            print_table(results, wall);
        rc = write_results(out_dir, &cfg, results, quiet);
    }
    json_decref(results);
    system_config_free(&cfg);
    return rc;
}

/* ---- check, presets, reference ------------------------------------------- */

static int cmd_check(int argc, char **argv)
{
    scenario_opts o = {0};
    int rc = parse_scenario_args(argc, argv, &o, NULL, NULL, check_usage);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!o.file) {
        fprintf(stderr, "pvsim check: a scenario FILE is required\n%s", check_usage);
        return EXIT_USAGE;
    }
    system_config cfg;
    rc = load_scenario(&o, &cfg);
    if (rc == 0)
        printf("%s: ok (%zu guest classes)\n", o.file, cfg.nguests);
    system_config_free(&cfg);
    return rc ? EXIT_USAGE : 0;
}

static int cmd_presets(void)
{
    for (const vmm_preset *p = vmm_presets; p->name; p++) {
        printf("%s: %s\n", p->name, p->description);
        for (int i = 0; i < VMM_COST_COUNT; i++) {
            const vmm_cost_source *c = &p->costs[i];
            if (!c->source)
                printf("  %-16s       - (no published figure: give costs.%s)\n",
                       vmm_cost_key((vmm_cost_id)i), vmm_cost_key((vmm_cost_id)i));
            else if (c->ns > 0)
                printf("  %-16s %7.1f ns      %s\n", vmm_cost_key((vmm_cost_id)i), c->ns,
                       c->source);
            else
                printf("  %-16s %7" PRIu64 " cycles  %s\n", vmm_cost_key((vmm_cost_id)i),
                       c->cycles, c->source);
        }
    }
    return 0;
}

static int cmd_reference(void)
{
    if (scn_write_reference(&system_schema, stdout) != 0) {
        fprintf(stderr, "pvsim: cannot write the reference\n");
        return EXIT_RUN_FAILED;
    }
    return 0;
}

/* ---- bench ----------------------------------------------------------------- */

static int cmd_bench(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"pending", required_argument, NULL, 'p'},
        {"events", required_argument, NULL, 'e'},
        {"seed", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    uint64_t pending = 1024, events = 10000000, seed = 1, *dst;
    int c;
    if (argc < 2 || strcmp(argv[1], "kernel") != 0) {
        if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
            fputs(bench_usage, stdout);
            return 0;
        }
        fprintf(stderr, "pvsim bench: expected 'kernel'\n%s", bench_usage);
        return EXIT_USAGE;
    }
    argc--, argv++;
    while ((c = getopt_long(argc, argv, "p:e:s:h", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(bench_usage, stdout);
            return 0;
        }
        dst = c == 'p' ? &pending : c == 'e' ? &events : c == 's' ? &seed : NULL;
        if (!dst || parse_u64(optarg, dst)) {
            if (dst)
                fprintf(stderr, "pvsim bench: expected an unsigned integer, found '%s'\n",
                        optarg);
            fputs(bench_usage, stderr);
            return EXIT_USAGE;
        }
    }
    if (pending < 1 || pending > (1u << 24) || events < 1) {
        fprintf(stderr, "pvsim bench: --pending must be 1..16777216 and --events >= 1\n");
        return EXIT_USAGE;
    }
    bench_hold_result r;
    int st = bench_hold((uint32_t)pending, events, seed, &r);
    if (st) {
        fprintf(stderr, "pvsim bench: %s\n", sim_strerror(st));
        return EXIT_RUN_FAILED;
    }
    printf("hold model: %u pending, %" PRIu64 " events in %.3f s\n", r.pending, r.events,
           r.seconds);
    printf("%.1f M events/s, %.1f ns/event\n", r.events_per_sec / 1e6, r.ns_per_event);
    return 0;
}

/* ---- main -------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(main_usage, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        fputs(main_usage, stdout);
        return 0;
    }
    if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
        printf("pvsim %s\n", PVSIM_VERSION);
        return 0;
    }
    /* Each subcommand sees argv from its own name on, like a program. */
    if (!strcmp(cmd, "run"))
        return cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "check"))
        return cmd_check(argc - 1, argv + 1);
    if (!strcmp(cmd, "bench"))
        return cmd_bench(argc - 1, argv + 1);
    if (!strcmp(cmd, "presets"))
        return cmd_presets();
    if (!strcmp(cmd, "reference"))
        return cmd_reference();
    fprintf(stderr, "pvsim: unknown command '%s'\n\n%s", cmd, main_usage);
    return EXIT_USAGE;
}
