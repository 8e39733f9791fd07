/*
 * cli_run.c -- `pvsim run` and `pvsim check`: load a scenario, simulate it,
 * print the comparison tables and write the results JSON.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "models/system_parallel.h"
#include "sim/report.h"
#include "sim/sweep.h"
#include "sim/sweep_pool.h"
#include "sim/wallclock.h"

static const char run_usage[] =
    "usage: pvsim run [FILE] [--out DIR] [--seed N] [--replications N]\n"
    "                 [--set PATH=VALUE]... [--jobs N] [--quiet]\n"
    "                 [--backend native|systemc] [--variant NAME]\n"
    "                 [--trace FILE.json] [--vcd FILE.vcd] [--requests FILE.csv]\n"
    "                 [--trace-limit N | --trace-limit FROM..TO]\n"
    "\n"
    "Runs the scenario in FILE (or the built-in default scenario), prints a\n"
    "table of results and writes them as JSON to DIR/<scenario name>.json.\n"
    "The same scenario and seed always give the same JSON, byte for byte.\n"
    "\n"
    "options:\n"
    "  -o, --out DIR         directory for the results (default: pvsim-out)\n"
    "  -s, --seed N          seed of every random stream (overrides `seed:`)\n"
    "      --replications N  run every variant N times (1 to 1000), from the\n"
    "                        seed and seeds derived from it, and report means\n"
    "                        with 95% confidence intervals (overrides\n"
    "                        `run.replications:`)\n"
    "  -S, --set PATH=VALUE  override one scenario key; repeatable. PATH is\n"
    "                        dotted, with list indices: run.duration=5ms,\n"
    "                        guests.0.workload.size=64KiB\n"
    "  -j, --jobs N          run the variants (of every replication) on N\n"
    "                        worker processes (1 to 1024; default: the number\n"
    "                        of CPUs); the JSON is the same bytes whatever N.\n"
    "                        -j 1, and any recording option, run the variant\n"
    "                        runs one at a time (with backend systemc, each\n"
    "                        in a process of its own, as SystemC runs one\n"
    "                        simulation per process)\n"
    "      --backend NAME    the event kernel: native (default) or systemc, when\n"
    "                        built with it (overrides `backend:`); the results\n"
    "                        are the same bytes (docs/systemc.md)\n"
    "      --variant NAME    run only the variant of that name; the results\n"
    "                        then hold that one\n"
    "  -q, --quiet           print nothing but errors\n"
    "      --trace FILE      write a timeline as Chrome / Perfetto trace events\n"
    "                        JSON (open it at ui.perfetto.dev)\n"
    "      --vcd FILE        write signals as a Value Change Dump (GTKWave)\n"
    "      --requests FILE   write one CSV row per completed request or message\n"
    "      --trace-limit N   keep at most N slices, N value changes and N rows\n"
    "                        per variant (default 1000000); the files say where\n"
    "                        they were cut\n"
    "      --trace-limit FROM..TO  keep only what happens in this window of\n"
    "                        simulated time from each variant's start (0us..50us;\n"
    "                        TO may be left out); give both kinds to bound both\n"
    "  -h, --help            show this help\n"
    "\n"
    "examples:\n"
    "  pvsim run\n"
    "  pvsim run scenarios/loopback.yaml\n"
    "  pvsim run scenarios/loopback.yaml --seed 42 --set device.workers=4\n"
    "  pvsim run scenarios/schemes.yaml --replications 10\n"
    "  pvsim run scenarios/schemes.yaml -j 2\n"
    "  pvsim run scenarios/schemes.yaml --variant sg --set run.duration=2ms\n"
    "  pvsim run scenarios/ivshmem-pingpong.yaml --trace pingpong.json \\\n"
    "      --vcd pingpong.vcd --requests pingpong.csv --trace-limit 1ms..1050us\n";

static const char check_usage[] =
    "usage: pvsim check FILE [--set PATH=VALUE]... [--seed N] [--replications N]\n"
    "\n"
    "Validates FILE against the scenario schema (see `pvsim reference`) and\n"
    "prints every error as file:line:column: error: ...; exit status 2 if\n"
    "there is one.\n"
    "\n"
    "examples:\n"
    "  pvsim check scenarios/loopback.yaml\n"
    "  pvsim check my.yaml --set run.duration=1ms\n";

/* ---- the results table ------------------------------------------------- */

/* The number at `path` below `o`; 0 when absent (a table shows 0). */
static double jnum(const json_t *o, const char *path)
{
    return json_number_value(rep_get(o, path));
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

/* A name from the scenario as a table shows it: control bytes (a name may
 * hold any "\e" a YAML string can) become '?', so they cannot drive the
 * terminal. */
static void printable(const char *name, char *buf, size_t len)
{
    size_t n = 0;
    for (; name && name[n] && n + 1 < len; n++)
        buf[n] = (unsigned char)name[n] < 0x20 || name[n] == 0x7f ? '?' : name[n];
    buf[n] = '\0';
}

static void print_header(const column_set *cs, const char *title)
{
    printf("\n%-22s", title);
    for (size_t i = 0; i < cs->n; i++) {
        char name[16];
        printable(json_string_value(json_object_get(json_array_get(cs->variants, i), "name")),
                  name, sizeof name);
        printf(" %11.11s", name);
    }
    printf("\n");
}

static void print_row(const column_set *cs, const char *label, long cls, const char *path,
                      double scale, const char *fmt)
{
    char shown[32];
    printable(label, shown, sizeof shown);
    printf("%-22.22s", shown);
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
    print_row(cs, "interrupts", ROW_TOTALS, "interrupts_per_request", 1, " %11.2f");
    print_row(cs, "page walks", ROW_TOTALS, "scheme.walks_per_request", 1, " %11.2f");
    print_row(cs, "tcache hit ratio", ROW_TOTALS, "scheme.tcache_hit_ratio", 1, " %11.3f");
    print_header(cs, "over the window (all)");
    print_row(cs, "requests", ROW_TOTALS, "requests", 1, " %11.0f");
    print_row(cs, "arrivals", ROW_TOTALS, "arrivals", 1, " %11.0f");
    print_row(cs, "dropped arrivals", ROW_TOTALS, "dropped_arrivals", 1, " %11.0f");
    print_row(cs, "failed requests", ROW_TOTALS, "scheme.failed_requests", 1, " %11.0f");
    print_row(cs, "refused requests", ROW_TOTALS, "refused_requests", 1, " %11.0f");
    print_row(cs, "alloc failures", ROW_TOTALS, "scheme.alloc_failures", 1, " %11.0f");
    print_row(cs, "bounced, MiB", ROW_TOTALS, "scheme.bounce_bytes", 1.0 / (1 << 20), " %11.1f");
    print_row(cs, "copied, MiB", ROW_TOTALS, "scheme.copy_bytes", 1.0 / (1 << 20), " %11.1f");
}

/* Variant `v`'s entry of totals.by_size for `size` bytes in direction
 * `dir`; NULL when it completed none. */
static const json_t *size_class(const json_t *v, json_int_t size, const char *dir)
{
    size_t i;
    const json_t *c;
    json_array_foreach(rep_get(v, "totals.by_size"), i, c)
        if (json_integer_value(json_object_get(c, "size_bytes")) == size &&
            !strcmp(json_string_value(json_object_get(c, "direction")), dir))
            return c;
    return NULL;
}

/* With a mix of sizes or directions, `path`'s latency for each class the
 * first variant saw, in us: "4 KiB read". */
static void print_size_table(const column_set *cs, const char *title, const char *path)
{
    const json_t *classes = rep_get(json_array_get(cs->variants, 0), "totals.by_size");
    if (json_array_size(classes) < 2)
        return;
    print_header(cs, title);
    size_t k;
    const json_t *c;
    json_array_foreach(classes, k, c) {
        json_int_t size = json_integer_value(json_object_get(c, "size_bytes"));
        const char *dir = json_string_value(json_object_get(c, "direction"));
        char label[48];
        if (size % 1024 == 0)
            snprintf(label, sizeof label, "%lld KiB %s", (long long)(size / 1024), dir);
        else
            snprintf(label, sizeof label, "%lld B %s", (long long)size, dir);
        printf("%-22.22s", label);
        for (size_t i = 0; i < cs->n; i++) {
            const json_t *mine = size_class(json_array_get(cs->variants, i), size, dir);
            if (mine)
                printf(" %11.2f", jnum(mine, path) * 1e-3);
            else
                printf(" %11s", "-");
        }
        printf("\n");
    }
}

/* A row of class `i`'s results at `path` below the class: "<class> <what>". */
static void print_class_row(const column_set *cs, const json_t *c, size_t i, const char *what,
                            const char *path, double scale, const char *fmt)
{
    char label[96], full[160];
    snprintf(label, sizeof label, "%s %s", json_string_value(json_object_get(c, "name")), what);
    snprintf(full, sizeof full, "classes.%zu.%s", i, path);
    print_row(cs, label, ROW_VARIANT, full, scale, fmt);
}

/* A row of a transport's table: a class's value at `path` below it. */
typedef struct class_row {
    const char *what, *path;
    double scale;
    const char *fmt;
} class_row;

/* The table of the classes whose transport is `kind`, headed `title`:
 * each row for each such class; 1 when it printed one, 0 when there is
 * none. */
static int print_kind_table(const column_set *cs, const json_t *classes, const char *kind,
                            const char *title, const class_row *rows, size_t nrows)
{
    size_t i;
    json_t *c;
    int any = 0;
    json_array_foreach(classes, i, c) {
        const char *k = json_string_value(rep_get(c, "transport.kind"));
        if (!k || strcmp(k, kind) != 0)
            continue;
        if (!any++)
            print_header(cs, title);
        for (size_t r = 0; r < nrows; r++)
            print_class_row(cs, c, i, rows[r].what, rows[r].path, rows[r].scale, rows[r].fmt);
    }
    return any > 0;
}

/* Each transport's own numbers: the packet port's phases, switches and
 * refusals; lguest's sends, buffers and refusals; virtio-pci's kicks,
 * interrupts and ring waits; the shared device's share, calls, handovers,
 * stops and arrivals, and its fairness. */
static void print_transport_tables(const column_set *cs, const json_t *classes)
{
    static const class_row port[] = {
        {"fast, us", "transport.phases.fast.latency_ns.mean", 1e-3, " %11.2f"},
        {"emulated, us", "transport.phases.emulated.latency_ns.mean", 1e-3, " %11.2f"},
        {"fast, k/s", "transport.phases.fast.throughput_rps", 1e-3, " %11.1f"},
        {"emulated, k/s", "transport.phases.emulated.throughput_rps", 1e-3, " %11.1f"},
        {"go live, us", "transport.switches.go_live.mean_ns", 1e-3, " %11.2f"},
        {"shut down, us", "transport.switches.shut_down.mean_ns", 1e-3, " %11.2f"},
        {"refused", "metrics.refused_requests", 1, " %11.0f"},
    };
    static const class_row lguest[] = {
        {"sends", "transport.sends", 1, " %11.0f"},
        {"received", "transport.received", 1, " %11.0f"},
        {"refused", "metrics.refused_requests", 1, " %11.0f"},
        {"no buffer", "transport.refused.no_buffer", 1, " %11.0f"},
        {"sent again", "transport.waits", 1, " %11.0f"},
    };
    static const class_row virtio[] = {
        {"kicks/req", "transport.kicks_per_request", 1, " %11.3f"},
        {"irqs/req", "transport.interrupts_per_request", 1, " %11.3f"},
        {"ring waits", "transport.ring_full_waits", 1, " %11.0f"},
    };
    static const class_row vpio[] = {
        {"device share", "transport.device_share", 1, " %11.3f"},
        {"grabs", "transport.calls.grabs", 1, " %11.0f"},
        {"grab failures", "transport.calls.grab_failures", 1, " %11.0f"},
        {"races", "transport.calls.races", 1, " %11.0f"},
        {"handover, us", "transport.handover_latency_ns", 1e-3, " %11.2f"},
        {"forced stops", "transport.forced_stops", 1, " %11.0f"},
        {"lost", "transport.lost_requests", 1, " %11.0f"},
        {"rx delivered", "transport.receive.delivered", 1, " %11.0f"},
        {"rx buffered", "transport.receive.buffered", 1, " %11.0f"},
        {"rx dropped", "transport.receive.dropped", 1, " %11.0f"},
    };
    print_kind_table(cs, classes, "packet-port", "packet port", port,
                     sizeof port / sizeof port[0]);
    print_kind_table(cs, classes, "lguest", "lguest", lguest, sizeof lguest / sizeof lguest[0]);
    print_kind_table(cs, classes, "virtio-pci", "virtio-pci", virtio,
                     sizeof virtio / sizeof virtio[0]);
    if (print_kind_table(cs, classes, "vpio", "shared device (vpio)", vpio,
                         sizeof vpio / sizeof vpio[0]))
        print_row(cs, "fairness (Jain)", ROW_VARIANT, "shared_device.jain_index", 1, " %11.4f");
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
    print_row(cs, "interrupts/message", ROW_VARIANT, "ivshmem.interrupts_per_message", 1,
              " %11.2f");
    print_row(cs, "interrupts", ROW_VARIANT, "ivshmem.vcpus.interrupts", 1, " %11.0f");
    print_row(cs, "coalesced", ROW_VARIANT, "ivshmem.counts.coalesced", 1, " %11.0f");
    print_row(cs, "status lost", ROW_VARIANT, "ivshmem.counts.status_lost", 1, " %11.0f");
    print_row(cs, "dropped", ROW_VARIANT, "ivshmem.counts.dropped", 1, " %11.0f");
}

static void print_microbench_table(const column_set *cs)
{
    print_header(cs, "microbench");
    print_row(cs, "iterations", ROW_VARIANT, "microbench.iterations", 1, " %11.0f");
    print_row(cs, "cycles/iteration", ROW_VARIANT, "microbench.cycles_per_iteration", 1,
              " %11.1f");
    print_row(cs, "ns/iteration", ROW_VARIANT, "microbench.ns_per_iteration", 1, " %11.1f");
    print_row(cs, "exits/iteration", ROW_VARIANT, "microbench.exits_per_iteration", 1,
              " %11.2f");
    print_row(cs, "interrupts/iteration", ROW_VARIANT, "microbench.interrupts_per_iteration",
              1, " %11.2f");
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
    /* With replications the variants hold means, events among them. */
    double reps = json_object_get(r, "replications") ? jnum(r, "replications.count") : 1;
    double events = 0;
    for (size_t i = 0; i < cs.n; i++)
        events += jnum(json_array_get(cs.variants, i), "events") * reps;
    printf("scenario %s: seed %.0f, preset %s, clock %.3f GHz, %.3f ms measured\n",
           json_string_value(json_object_get(r, "scenario")), jnum(r, "seed"),
           json_string_value(json_object_get(r, "preset")), jnum(r, "clock_hz") / 1e9,
           jnum(first, "window.seconds") * 1e3);
    if (reps > 1)
        printf("%.0f replications: the tables show their means; the JSON has 95%% "
               "confidence intervals\n",
               reps);
    printf("%zu variant%s, %.0f events in %.2f s (%.1f M events/s)\n", cs.n,
           cs.n == 1 ? "" : "s", events, wall_s, wall_s > 0 ? events / wall_s / 1e6 : 0.0);
    if (json_array_size(classes) > 0) {
        print_io_tables(&cs, classes);
        print_size_table(&cs, "by size: mean, us", "latency_ns.mean");
        print_size_table(&cs, "by size: p99, us", "latency_ns.p99");
    }
    print_transport_tables(&cs, classes);
    if (json_object_get(first, "ivshmem"))
        print_ivshmem_table(&cs);
    if (json_object_get(first, "microbench"))
        print_microbench_table(&cs);
    print_cores_table(&cs);
}

static int write_results(const char *dir, const system_config *cfg, const json_t *r,
                         int quiet)
{
    char path[4096], err[512];
    if (cli_make_dirs(dir) != 0) {
        fprintf(stderr, "pvsim: cannot create directory %s: %s\n", dir, strerror(errno));
        return EXIT_RUN_FAILED;
    }
    cli_json_path(path, sizeof path, dir, cfg->name);
    if (rep_write_json(path, r, err, sizeof err) != 0) {
        fprintf(stderr, "pvsim: %s\n", err);
        return EXIT_RUN_FAILED;
    }
    if (!quiet)
        printf("\nresults: %s\n", path);
    return 0;
}

/* What `run` takes beyond what `check` does. */
typedef struct run_opts {
    const char *out_dir;
    const char *variant;            /* NULL: every variant */
    int quiet;
    uint64_t jobs;                  /* 0: one per CPU */
    cli_trace_opts trace;
} run_opts;

/* Long options without a short form. */
enum { OPT_REPLICATIONS = 256, OPT_BACKEND, OPT_VARIANT, OPT_TRACE, OPT_VCD, OPT_REQUESTS,
       OPT_TRACE_LIMIT };

/* A recording option into `t` (NULL for `check`, which records nothing):
 * 0, 1 when `c` is none of them, -1 after saying why. */
static int trace_arg(cli_trace_opts *t, int c, const char *arg)
{
    if (c < OPT_TRACE || c > OPT_TRACE_LIMIT)
        return 1;
    if (!t)
        return -1;
    if (c == OPT_TRACE_LIMIT)
        return cli_trace_limit_arg(t, arg);
    const char **path = c == OPT_TRACE ? &t->json : c == OPT_VCD ? &t->vcd : &t->csv;
    *path = arg;
    return 0;
}

/* --jobs N into r (NULL for check); 0, or -1 after saying why. */
static int jobs_arg(run_opts *r, const char *arg)
{
    if (!r)
        return -1;
    if (cli_parse_u64(arg, &r->jobs) || r->jobs < 1 || r->jobs > SWP_MAX_WORKERS) {
        fprintf(stderr, "pvsim run: --jobs: expected 1 to %d, found '%s'\n", SWP_MAX_WORKERS,
                arg);
        return -1;
    }
    return 0;
}

/* Collects FILE, --set, --seed, --replications and, into `r` (NULL for
 * check), the options of run alone; 0 or an exit status. */
static int parse_scenario_args(int argc, char **argv, scenario_opts *o, run_opts *r,
                               const char *usage)
{
    static const struct option longopts[] = {
        {"out", required_argument, NULL, 'o'},
        {"jobs", required_argument, NULL, 'j'},
        {"trace", required_argument, NULL, OPT_TRACE},
        {"vcd", required_argument, NULL, OPT_VCD},
        {"requests", required_argument, NULL, OPT_REQUESTS},
        {"trace-limit", required_argument, NULL, OPT_TRACE_LIMIT},
        {"seed", required_argument, NULL, 's'},
        {"set", required_argument, NULL, 'S'},
        {"replications", required_argument, NULL, OPT_REPLICATIONS},
        {"backend", required_argument, NULL, OPT_BACKEND},
        {"variant", required_argument, NULL, OPT_VARIANT},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    int c, rc;
    while ((c = getopt_long(argc, argv, "o:j:s:S:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            if (!r)
                goto bad;
            if (cli_dir_arg("--out", optarg))
                return EXIT_USAGE;
            r->out_dir = optarg;
            break;
        case 'j':
            if (!r)
                goto bad;
            if (jobs_arg(r, optarg))
                return EXIT_USAGE;
            break;
        case 's':
            if (cli_set_seed(o, optarg))
                return EXIT_USAGE;
            break;
        case 'S':
            if (cli_add_set(o, optarg))
                return EXIT_USAGE;
            break;
        case OPT_REPLICATIONS:
            if (cli_set_replications(o, optarg))
                return EXIT_USAGE;
            break;
        case OPT_BACKEND:
            if (cli_set_backend(o, optarg))
                return EXIT_USAGE;
            break;
        case 'q':
            if (!r)
                goto bad;
            r->quiet = 1;
            break;
        case OPT_VARIANT:
            if (!r)
                goto bad;
            r->variant = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return -1;
        default:
            rc = trace_arg(r ? &r->trace : NULL, c, optarg);
            if (rc < 0 && r)
                return EXIT_USAGE;  /* said why */
            if (rc)
                goto bad;
        }
    }
    if (cli_add_flag_sets(o))
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

/* swp_progress_fn onto the progress bar: variant runs done. */
static void show_jobs(void *ctx, size_t done, size_t total)
{
    cli_progress *p = ctx;
    snprintf(p->detail, sizeof p->detail, " (%zu of %zu variant runs)", done, total);
    cli_progress_show(p, total ? (double)done / (double)total : 1.0);
}

/* The workers for this run: --jobs (default one per CPU), no more than
 * there are jobs, and 1 when recording, whose recorder is this
 * process's. */
static int workers_for(const run_opts *r, const system_config *cfg)
{
    uint64_t n = r->jobs ? r->jobs : (uint64_t)sysconf(_SC_NPROCESSORS_ONLN);
    if (cfg->trace || n < 1)
        n = 1;
    if (n > system_jobs(cfg))
        n = system_jobs(cfg);
    return (int)n;
}

/* Simulates cfg in this process or on workers; Ctrl-C stops either. */
static int simulate(const run_opts *r, const system_config *cfg, cli_progress *prog,
                    json_t **results, char *err, size_t errlen)
{
    int workers = workers_for(r, cfg);
    /* SystemC runs one simulation per process: a process per job, on the
     * pool, whose stop flag Ctrl-C sets (system_run_on_backend would only
     * hear of it when a job ends). */
    int fresh = cfg->backend != SIM_BACKEND_NATIVE;
    cli_catch_interrupt();
    if (workers <= 1 && !fresh)
        return system_run(cfg, cli_run_progress, prog, results, err, errlen);
    system_parallel par = {workers, fresh, cli_interrupt_flag(), show_jobs, prog, NULL};
    return system_run_parallel(cfg, &par, results, err, errlen);
}

/* `loaded` as a run of `variant` alone (NULL: all of them) into `*out`,
 * which shares everything with `loaded` (free that one only); 0, or -1
 * after naming the variants there are. */
static int pick_variant(const system_config *loaded, const char *variant, const char *file,
                        system_config *out)
{
    *out = *loaded;
    if (!variant)
        return 0;
    for (size_t i = 0; i < loaded->nvariants; i++) {
        if (strcmp(system_variant_name(&loaded->variants[i]), variant) == 0) {
            out->variants = &loaded->variants[i];
            out->nvariants = 1;
            return 0;
        }
    }
    fprintf(stderr, "pvsim run: --variant: %s has no variant '%s'; it has:",
            file ? file : "the built-in scenario", variant);
    for (size_t i = 0; i < loaded->nvariants; i++)
        fprintf(stderr, "%s %s", i ? "," : "", system_variant_name(&loaded->variants[i]));
    fputc('\n', stderr);
    return -1;
}

int cli_run(int argc, char **argv)
{
    scenario_opts o = {0};
    run_opts r = {.out_dir = "pvsim-out"};
    int rc = parse_scenario_args(argc, argv, &o, &r, run_usage);
    if (rc)
        return rc < 0 ? 0 : rc;
    system_config loaded, cfg;
    trc_recorder *rec = NULL;
    rc = cli_load_scenario(&o, &loaded) != 0          ? EXIT_USAGE
         : pick_variant(&loaded, r.variant, o.file, &cfg) ? EXIT_USAGE
                                                           : cli_trace_begin(&r.trace, &cfg, &rec);
    if (rc) {
        trc_free(rec);
        system_config_free(&loaded);
        return rc;
    }
    cfg.trace = rec;
    json_t *results = NULL;
    cli_progress prog;
    cli_progress_start(&prog, "simulated");
    char err[512];
    prog.silent = r.quiet;  /* the callback still notices Ctrl-C */
    int st = simulate(&r, &cfg, &prog, &results, err, sizeof err);
    cli_progress_end(&prog);
    double wall = sim_wall_seconds() - prog.start;
    if (st == SIM_EINTR) {
        fprintf(stderr, "pvsim: %s: stopped by Ctrl-C; no results written\n", err);
        rc = EXIT_INTERRUPTED;
    } else if (st != 0) {
        fprintf(stderr, "pvsim: run failed: %s\n", err);
        rc = EXIT_RUN_FAILED;
    } else {
        if (!r.quiet)
            print_table(results, wall);
        rc = write_results(r.out_dir, &cfg, results, r.quiet);
        if (rc == 0)
            rc = cli_trace_finish(&r.trace, rec, r.quiet);
    }
    json_decref(results);
    trc_free(rec);
    system_config_free(&loaded);
    return rc;
}

/* Checks the scenario's `sweep:` block, if it has one, as `pvsim sweep`
 * reads it (the plan only: no point is loaded or run); 0, or -1 after
 * printing the errors. */
static int check_sweep_block(const scenario_opts *o)
{
    system_config cfg = {0};
    scn_doc *doc = NULL;
    scn_errors errs = {0};
    swp_plan plan = {0};
    scn_source src = {.path = o->file, .sets = o->sets, .nsets = o->nsets};
    int rc = scn_load(&system_schema, &src, &cfg, &doc, &errs);
    if (rc == 0 && scn_doc_block(doc, "sweep")) {
        rc = swp_plan_read(&plan, &system_schema, doc, &errs);
        if (rc == 0)
            rc = swp_plan_finish(&plan, (scn_mark){o->file, 0, 0}, &errs);
    }
    if (rc && errs.count)
        cli_print_errors(&errs);
    else if (rc)
        fprintf(stderr, "pvsim: %s: %s\n", o->file, sim_strerror(rc));
    swp_plan_free(&plan);
    scn_doc_free(doc);
    scn_free(&system_schema, &cfg);
    return rc ? -1 : 0;
}

int cli_check(int argc, char **argv)
{
    scenario_opts o = {0};
    int rc = parse_scenario_args(argc, argv, &o, NULL, check_usage);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!o.file) {
        fprintf(stderr, "pvsim check: a scenario FILE is required\n%s", check_usage);
        return EXIT_USAGE;
    }
    system_config cfg;
    rc = cli_load_scenario(&o, &cfg);
    if (rc == 0)
        rc = check_sweep_block(&o);
    if (rc == 0)
        printf("%s: ok (%zu guest classes)\n", o.file, cfg.nguests);
    system_config_free(&cfg);
    return rc ? EXIT_USAGE : 0;
}
