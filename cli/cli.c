/*
 * cli.c -- the `pvsim` command: main(), the dispatch to subcommands, and the
 * helpers they share (cli/cli.h).
 *
 * The command is the only place that prints or exits. Subcommands parse
 * their own flags with getopt_long and hand validated input to the library
 * layers; every failure is reported once, where it reaches the command.
 */
#include "cli/cli.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "models/system_parallel.h"
#include "sim/wallclock.h"

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
    "  sweep FILE        run every point of a design-space sweep (-j N, MPI)\n"
    "  plot CSV ...      draw a sweep's CSV with gnuplot\n"
    "  regress [DIR]     rerun the scenarios that have baselines and compare\n"
    "  validate [PATH]   replay published measurements and compare (docs/validation.md)\n"
    "\n"
    "options:\n"
    "  -h, --help        show this help; `pvsim <command> --help` for a command\n"
    "  -V, --version     print the version\n"
    "\n"
    "examples:\n"
    "  pvsim run\n"
    "  pvsim run scenarios/loopback.yaml --seed 7 --out results/\n"
    "  pvsim check scenarios/loopback.yaml --set guests.0.workload.depth=8\n";

int cli_parse_u64(const char *s, uint64_t *out)
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

void cli_print_errors(const scn_errors *errs)
{
    char line[1024];
    for (int i = 0; i < errs->count; i++) {
        scn_error_format(&errs->items[i], line, sizeof line);
        fprintf(stderr, "%s\n", line);
    }
    if (errs->dropped)
        fprintf(stderr, "pvsim: %d more errors not shown\n", errs->dropped);
}

int cli_add_set(scenario_opts *o, const char *set)
{
    if (o->nsets == MAX_SETS) {
        fprintf(stderr, "pvsim: at most %d --set options\n", MAX_SETS);
        return -1;
    }
    o->sets[o->nsets++] = set;
    return 0;
}

int cli_set_seed(scenario_opts *o, const char *arg)
{
    uint64_t seed;
    if (cli_parse_u64(arg, &seed)) {
        fprintf(stderr, "pvsim: --seed: expected an unsigned integer, found '%s'\n", arg);
        return -1;
    }
    snprintf(o->seed_set, sizeof o->seed_set, "seed=%" PRIu64, seed);
    return 0;
}

int cli_set_replications(scenario_opts *o, const char *arg)
{
    uint64_t n;
    if (cli_parse_u64(arg, &n) || n < 1 || n > SYSTEM_MAX_REPLICATIONS) {
        fprintf(stderr, "pvsim: --replications: expected 1 to %d, found '%s'\n",
                SYSTEM_MAX_REPLICATIONS, arg);
        return -1;
    }
    snprintf(o->replications_set, sizeof o->replications_set, "run.replications=%" PRIu64, n);
    return 0;
}

int cli_set_backend(scenario_opts *o, const char *arg)
{
    if (strcmp(arg, "native") != 0 && strcmp(arg, "systemc") != 0) {
        fprintf(stderr, "pvsim: --backend: expected native or systemc, found '%s'\n", arg);
        return -1;
    }
    snprintf(o->backend_set, sizeof o->backend_set, "backend=%s", arg);
    return 0;
}

int cli_parse_backend(const char *arg, sim_backend_kind *out)
{
    if (strcmp(arg, "native") != 0 && strcmp(arg, "systemc") != 0) {
        fprintf(stderr, "pvsim: --backend: expected native or systemc, found '%s'\n", arg);
        return -1;
    }
    *out = strcmp(arg, "native") ? SIM_BACKEND_SYSTEMC : SIM_BACKEND_NATIVE;
    /* Said here rather than as "not built" from the kernel later, with the cure. */
    if (!sim_kernel_backend_built(*out)) {
        fprintf(stderr, "pvsim: --backend systemc: this pvsim was built without SystemC "
                "(install libsystemc-dev and configure with -DPVSIM_SYSTEMC=ON)\n");
        return -1;
    }
    return 0;
}

int cli_add_flag_sets(scenario_opts *o)
{
    if (o->seed_set[0] && cli_add_set(o, o->seed_set))
        return -1;
    if (o->replications_set[0] && cli_add_set(o, o->replications_set))
        return -1;
    if (o->backend_set[0] && cli_add_set(o, o->backend_set))
        return -1;
    return 0;
}

/* Events that take minutes at the kernel's few million a second. */
#define HUGE_EVENTS 1e9

int cli_load_scenario(const scenario_opts *o, system_config *cfg)
{
    scn_source src = {.path = o->file, .sets = o->sets, .nsets = o->nsets};
    scn_errors errs = {0};
    int rc = system_load(&src, cfg, &errs);
    if (rc == 0) {
        double events = system_event_bound(cfg);
        if (events > HUGE_EVENTS)
            fprintf(stderr, "pvsim: warning: %s: up to %.2g events, which may take up to "
                    "%.0f minutes; a shorter run.duration shortens it\n",
                    o->file ? o->file : "<built-in>", events, events / 5e6 / 60);
        return 0;
    }
    if (errs.count)
        cli_print_errors(&errs);
    else
        fprintf(stderr, "pvsim: %s: %s\n", o->file ? o->file : "<built-in>",
                sim_strerror(rc));
    return -1;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void cli_free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* A name ending in `suffix` that is not hidden. */
static int has_suffix(const char *name, const char *suffix)
{
    size_t n = strlen(name), s = strlen(suffix);
    return name[0] != '.' && n > s && !strcmp(name + n - s, suffix);
}

int cli_list_files(const char *dir, const char *suffix, char ***out, size_t *count)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (struct dirent *e; rc == 0 && (e = readdir(d));) {
        if (!has_suffix(e->d_name, suffix))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            char **grown = realloc(names, cap * sizeof *names);
            rc = grown ? 0 : -1;
            names = grown ? grown : names;
        }
        if (rc == 0 && !(names[n++] = strdup(e->d_name)))
            rc = -1;
    }
    closedir(d);
    if (rc != 0) {
        cli_free_names(names, n);
        errno = ENOMEM;
        return -1;
    }
    if (n > 1)                      /* with none, names is NULL: no qsort */
        qsort(names, n, sizeof *names, by_name);
    *out = names;
    *count = n;
    return 0;
}

int cli_load_file(const char *file, const char *const *sets, size_t nsets,
                  system_config *cfg)
{
    scenario_opts o = {.file = file};
    for (size_t i = 0; i < nsets; i++) {
        if (cli_add_set(&o, sets[i]) != 0) {
            memset(cfg, 0, sizeof *cfg);
            return -1;
        }
    }
    return cli_load_scenario(&o, cfg);
}

int cli_simulate(const system_config *cfg, const char *file, json_t **results)
{
    char err[512];
    if (system_run_on_backend(cfg, NULL, NULL, results, NULL, err, sizeof err) == 0)
        return 0;
    fprintf(stderr, "pvsim: %s: run failed: %s\n", file, err);
    return -1;
}

int cli_simulate_file(const char *file, const char *const *sets, size_t nsets,
                      json_t **results)
{
    system_config cfg;
    int rc = cli_load_file(file, sets, nsets, &cfg);
    if (rc == 0)
        rc = cli_simulate(&cfg, file, results);
    system_config_free(&cfg);
    return rc;
}

int cli_dir_arg(const char *what, const char *dir)
{
    if (*dir)
        return 0;
    fprintf(stderr, "pvsim: %s: expected a directory, found ''\n", what);
    return -1;
}

int cli_make_dirs(const char *dir)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
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

void cli_safe_name(const char *name, char *buf, size_t len)
{
    size_t n = 0;
    for (const char *p = name; *p && n + 1 < len; p++, n++) {
        int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                 (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.';
        buf[n] = ok && !(n == 0 && *p == '.') ? *p : '_';
    }
    if (len)
        buf[n] = '\0';
}

void cli_json_path(char *buf, size_t len, const char *dir, const char *name)
{
    char safe[129];
    cli_safe_name(name, safe, sizeof safe);
    snprintf(buf, len, "%s/%s.json", dir, safe);
}

void cli_progress_start(cli_progress *p, const char *what)
{
    double now = sim_wall_seconds();
    *p = (cli_progress){.start = now, .last = now, .tty = isatty(STDERR_FILENO), .what = what};
}

void cli_progress_show(void *ctx, double fraction)
{
    static const char bar[] = "##############################";
    cli_progress *p = ctx;
    double now = sim_wall_seconds();
    double since_start = now - p->start;
    if (p->silent || since_start < (p->tty ? 0.5 : 10.0) ||
        now - p->last < (p->tty ? 0.2 : 10.0))
        return;
    p->last = now;
    p->shown = 1;
    double eta = fraction > 0 ? since_start * (1 - fraction) / fraction : 0;
    if (p->tty)
        fprintf(stderr, "\r[%-30.*s] %3.0f%% %s%s, %.0f s left ", (int)(fraction * 30), bar,
                fraction * 100, p->what, p->detail, eta);
    else
        fprintf(stderr, "pvsim: %.0f%% %s%s, %.0f s left\n", fraction * 100, p->what,
                p->detail, eta);
}

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
    (void)sig;
    interrupted = 1;
}

void cli_catch_interrupt(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
}

int cli_interrupted(void)
{
    return interrupted;
}

const volatile sig_atomic_t *cli_interrupt_flag(void)
{
    return &interrupted;
}

int cli_run_progress(void *ctx, const system_progress *sp)
{
    cli_progress *p = ctx;
    if (sp->variants > 1)
        snprintf(p->detail, sizeof p->detail, " (variant %zu of %zu: %.3g of %.3g s)",
                 sp->variant + 1, sp->variants, sp->simulated_s, sp->duration_s);
    else
        snprintf(p->detail, sizeof p->detail, " (%.3g of %.3g s)", sp->simulated_s,
                 sp->duration_s);
    cli_progress_show(p, sp->fraction);
    return interrupted;
}

void cli_progress_end(const cli_progress *p)
{
    if (p->tty && p->shown)
        fputs("\r\033[K", stderr);
}

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
        return cli_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "check"))
        return cli_check(argc - 1, argv + 1);
    if (!strcmp(cmd, "bench"))
        return cli_bench(argc - 1, argv + 1);
    if (!strcmp(cmd, "presets"))
        return cli_presets(argc - 1, argv + 1);
    if (!strcmp(cmd, "reference"))
        return cli_reference(argc - 1, argv + 1);
    if (!strcmp(cmd, "sweep"))
        return cli_sweep(argc - 1, argv + 1);
    if (!strcmp(cmd, "plot"))
        return cli_plot(argc - 1, argv + 1);
    if (!strcmp(cmd, "regress"))
        return cli_regress(argc - 1, argv + 1);
    if (!strcmp(cmd, "validate"))
        return cli_validate(argc - 1, argv + 1);
    fprintf(stderr, "pvsim: unknown command '%s'\n\n%s", cmd, main_usage);
    return EXIT_USAGE;
}

