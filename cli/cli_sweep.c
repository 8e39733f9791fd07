/*
 * cli_sweep.c -- `pvsim sweep`: run every point of a design-space sweep on
 * local worker processes or MPI ranks, and gather the results in a CSV.
 *
 * Every MPI rank (and the single process otherwise) reads the scenario,
 * builds the plan and loads every point, so they agree on the points
 * without shipping configurations around; only point numbers and results
 * travel. Only the master (rank 0) prints and writes.
 *
 * The master claims the results directory (a lock; a second sweep into it
 * is refused) and catches the first Ctrl-C while points run: it then hands
 * out no more, lets the running ones die with their workers, writes what
 * it has as sweep.partial.csv and prints how to resume.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "models/system_parallel.h"
#include "sim/sweep_mpi.h"
#include "sim/sweep_pool.h"
#include "sim/wallclock.h"

#define MAX_SWEEPS 32

static const char sweep_usage[] =
    "usage: pvsim sweep FILE [--sweep PATH=V1,V2,...]... [-j N] [--out DIR] [--resume]\n"
    "                  [--mode grid|zip] [--set PATH=VALUE]... [--seed N]\n"
    "                  [--replications N] [--backend native|systemc] [--list] [--quiet]\n"
    "\n"
    "Runs the scenario in FILE once per point of a sweep: the parameters of its\n"
    "`sweep:` block and of --sweep options, combined as a grid (every\n"
    "combination) or zipped (the i-th values together). Each point's results\n"
    "go to DIR/points/<hash>.json as soon as they are done; DIR/sweep.csv gets\n"
    "one row per point and variant (the parameters, then every metric) once\n"
    "all are, and DIR/sweep.partial.csv the rows there are when some are not.\n"
    "The CSV is the same, byte for byte, whatever -j or the number of MPI\n"
    "ranks. One sweep at a time writes into DIR. Ctrl-C stops the sweep and\n"
    "prints the command that finishes it. docs/sweeps.md has the details.\n"
    "\n"
    "options:\n"
    "  -w, --sweep PATH=V1,V2,...  vary PATH over the values (repeatable); replaces\n"
    "                              the sweep block's parameter of the same PATH\n"
    "  -m, --mode grid|zip         how parameters combine (overrides sweep.mode)\n"
    "  -j, --jobs N                worker processes (default: the number of CPUs)\n"
    "  -o, --out DIR               results directory (default: pvsim-out/<name>)\n"
    "  -r, --resume                keep the points already in DIR, run the rest\n"
    "  -l, --list                  print the points and exit\n"
    "  -s, --seed N                seed of every point (overrides `seed:`)\n"
    "      --replications N        run every point N times from derived seeds; the CSV\n"
    "                              gets a .lower and .upper column (95% confidence)\n"
    "                              beside each latency and throughput\n"
    "      --backend NAME          the event kernel of every point: native or systemc\n"
    "  -S, --set PATH=VALUE        override a scenario key in every point (repeatable)\n"
    "  -q, --quiet                 print nothing but errors\n"
    "  -h, --help                  show this help\n"
    "\n"
    "Under mpirun, rank 0 hands points to the other ranks and writes every file.\n"
    "\n"
    "examples:\n"
    "  pvsim sweep scenarios/schemes-sweep.yaml -j 2\n"
    "  pvsim sweep scenarios/loopback.yaml --sweep guests.0.workload.size=4KiB,64KiB,1MiB \\\n"
    "        --sweep device.workers=1,2,4 --out out/loopback\n"
    "  pvsim sweep scenarios/schemes-sweep.yaml --resume\n"
    "  pvsim sweep scenarios/schemes-sweep.yaml --replications 5 --out out/schemes-ci\n"
    "  mpirun -np 4 pvsim sweep scenarios/schemes-sweep.yaml --out out/schemes\n";

typedef struct sweep_opts {
    scenario_opts scn;
    const char *sweeps[MAX_SWEEPS];
    int nsweeps;
    int mode;                        /* -1: the block's */
    uint64_t jobs;                   /* 0: one per CPU */
    const char *out;
    int resume, list, quiet;
} sweep_opts;

enum { OPT_REPLICATIONS = 256, OPT_BACKEND };

/* ---- the models behind the sweep ------------------------------------------- */

static int model_load(const scn_source *src, void **cfg, scn_errors *errs)
{
    system_config *c = calloc(1, sizeof *c);
    *cfg = NULL;
    if (!c)
        return SIM_ENOMEM;
    int rc = system_load(src, c, errs);
    if (rc) {
        system_config_free(c);
        free(c);
        return rc;
    }
    *cfg = c;
    return 0;
}

static int model_run(const void *cfg, json_t **results, char *err, size_t errlen)
{
    return system_run_on_backend(cfg, NULL, NULL, results, NULL, err, errlen);
}

static void model_free(void *cfg)
{
    if (cfg)
        system_config_free(cfg);
    free(cfg);
}

static const swp_model system_model = {&system_schema, model_load, model_run, model_free,
                                       system_write_canonical_extra};

/* ---- arguments --------------------------------------------------------------- */

static int parse_mode(const char *s)
{
    for (int i = 0; swp_mode_names[i]; i++)
        if (!strcmp(s, swp_mode_names[i]))
            return i;
    return -1;
}

/* One option of the sweep command; 0, or an exit status. */
static int take_option(sweep_opts *o, int c, const char *arg)
{
    switch (c) {
    case 'w':
        if (o->nsweeps == MAX_SWEEPS) {
            fprintf(stderr, "pvsim sweep: at most %d --sweep options\n", MAX_SWEEPS);
            return EXIT_USAGE;
        }
        o->sweeps[o->nsweeps++] = arg;
        return 0;
    case 'm':
        if ((o->mode = parse_mode(arg)) < 0) {
            fprintf(stderr, "pvsim sweep: --mode: expected grid or zip, found '%s'\n", arg);
            return EXIT_USAGE;
        }
        return 0;
    case 'j':
        if (cli_parse_u64(arg, &o->jobs) || o->jobs < 1 || o->jobs > SWP_MAX_WORKERS) {
            fprintf(stderr, "pvsim sweep: --jobs: expected 1 to %d, found '%s'\n",
                    SWP_MAX_WORKERS, arg);
            return EXIT_USAGE;
        }
        return 0;
    case 'o':
        o->out = arg;
        return cli_dir_arg("--out", arg) ? EXIT_USAGE : 0;
    case 's':
        return cli_set_seed(&o->scn, arg) ? EXIT_USAGE : 0;
    case 'S':
        return cli_add_set(&o->scn, arg) ? EXIT_USAGE : 0;
    case OPT_REPLICATIONS:
        return cli_set_replications(&o->scn, arg) ? EXIT_USAGE : 0;
    case OPT_BACKEND:
        return cli_set_backend(&o->scn, arg) ? EXIT_USAGE : 0;
    default:
        o->resume |= c == 'r';
        o->list |= c == 'l';
        o->quiet |= c == 'q';
        return c == 'r' || c == 'l' || c == 'q' ? 0 : EXIT_USAGE;
    }
}

/* 0 to go on, -1 after --help, else an exit status. */
static int parse_args(int argc, char **argv, sweep_opts *o)
{
    static const struct option longopts[] = {
        {"sweep", required_argument, NULL, 'w'}, {"mode", required_argument, NULL, 'm'},
        {"jobs", required_argument, NULL, 'j'},  {"out", required_argument, NULL, 'o'},
        {"resume", no_argument, NULL, 'r'},      {"list", no_argument, NULL, 'l'},
        {"seed", required_argument, NULL, 's'},  {"set", required_argument, NULL, 'S'},
        {"quiet", no_argument, NULL, 'q'},       {"help", no_argument, NULL, 'h'},
        {"replications", required_argument, NULL, OPT_REPLICATIONS},
        {"backend", required_argument, NULL, OPT_BACKEND},
        {0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "w:m:j:o:rls:S:qh", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(sweep_usage, stdout);
            return -1;
        }
        int rc = take_option(o, c, optarg);
        if (rc) {
            if (c == '?' || c == ':')
                fputs(sweep_usage, stderr);
            return rc;
        }
    }
    if (cli_add_flag_sets(&o->scn))
        return EXIT_USAGE;
    if (optind + 1 != argc) {
        fprintf(stderr, optind == argc ? "pvsim sweep: a scenario FILE is required\n%s"
                                       : "pvsim sweep: one scenario FILE, please\n%s",
                sweep_usage);
        return EXIT_USAGE;
    }
    o->scn.file = argv[optind];
    return 0;
}

/* ---- the plan ------------------------------------------------------------------ */

/* Reads the scenario's sweep block and the --sweep options into `plan`;
 * `name` gets the scenario's name (for the default directory). */
static int build_plan(const sweep_opts *o, swp_plan *plan, char *name, size_t len,
                      scn_errors *errs)
{
    system_config cfg = {0};
    scn_doc *doc = NULL;
    scn_source src = {.path = o->scn.file, .sets = o->scn.sets, .nsets = o->scn.nsets};
    int rc = scn_load(&system_schema, &src, &cfg, &doc, errs);
    if (rc == 0)
        rc = swp_plan_read(plan, &system_schema, doc, errs);
    snprintf(name, len, "%s", cfg.name ? cfg.name : "sweep");
    scn_doc_free(doc);
    scn_free(&system_schema, &cfg);
    for (int i = 0; rc == 0 && i < o->nsweeps; i++)
        rc = swp_plan_add_option(plan, &system_schema, o->sweeps[i], i + 1, errs);
    if (rc == 0 && o->mode >= 0)
        plan->mode = (swp_mode)o->mode;
    if (rc == 0)
        rc = swp_plan_finish(plan, (scn_mark){o->scn.file, 0, 0}, errs);
    return rc;
}

/* "guests.0.workload.size=64KiB device.workers=2" for point i. */
static void describe_point(const swp_plan *p, size_t i, char *buf, size_t len)
{
    size_t index[SWP_MAX_PARAMS], used = 0;
    swp_point_values(p, i, index);
    buf[0] = '\0';
    for (size_t k = 0; k < p->nparams && used < len; k++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s=%s", k ? " " : "",
                                 p->params[k].path, p->params[k].values[index[k]]);
}

static void print_points(const swp_sweep *s)
{
    char text[1024];
    for (size_t i = 0; i < s->npoints; i++) {
        describe_point(s->plan, i, text, sizeof text);
        printf("%6zu  %s  %s\n", i, s->points[i].hash, text);
    }
}

/* swp_progress_fn onto the terminal's progress bar. */
static void show_points(void *ctx, size_t done, size_t total)
{
    cli_progress_show(ctx, total ? (double)done / (double)total : 1.0);
}

/* Loads the plan and every point; 0 or an exit status (errors printed). */
static int prepare(const sweep_opts *o, swp_plan *plan, swp_sweep *s, char *name,
                   size_t len, int master)
{
    scn_errors errs = {0};
    size_t bad = 0;
    int rc = build_plan(o, plan, name, len, &errs);
    if (rc == 0) {
        *s = (swp_sweep){&system_model, plan, o->scn.file, o->scn.sets, o->scn.nsets,
                         o->out, NULL, 0};
        cli_progress prog;
        cli_progress_start(&prog, "of the points loaded");
        rc = swp_prepare(s, master && !o->quiet ? show_points : NULL, &prog, &errs, &bad);
        cli_progress_end(&prog);
        if (rc && master && errs.count) {
            char text[1024];
            describe_point(plan, bad, text, sizeof text);
            fprintf(stderr, "pvsim sweep: point %zu (%s) is not a valid scenario:\n", bad,
                    text);
        }
    }
    if (rc && master) {
        if (errs.count)
            cli_print_errors(&errs);
        else
            fprintf(stderr, "pvsim sweep: %s: %s\n", o->scn.file, sim_strerror(rc));
    }
    return rc == 0 ? 0 : rc == SIM_ENOMEM || rc == SIM_EIO ? EXIT_RUN_FAILED : EXIT_USAGE;
}

/* ---- Ctrl-C ------------------------------------------------------------------------ */

/* Set by SIGINT while points run. A signal handler can reach nothing but a
 * global, so this is the command's one mutable global. */
static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* Catches the first SIGINT (SA_RESETHAND: a second one ends pvsim at
 * once), unless `old`, the action before, ignores it, as in a script's
 * background job. Called once the workers are forked, so they keep
 * `old` and die of a Ctrl-C at the terminal as before. */
static void catch_interrupt(const struct sigaction *old)
{
    struct sigaction sa = {.sa_handler = on_interrupt, .sa_flags = SA_RESETHAND};
    sigemptyset(&sa.sa_mask);
    interrupted = 0;
    if (old->sa_handler != SIG_IGN)
        sigaction(SIGINT, &sa, NULL);
}

/* Prints `arg` as one word a POSIX shell reads back unchanged. */
static void print_word(FILE *f, const char *arg)
{
    static const char plain[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                "0123456789_./=,:+@%-";
    if (*arg && arg[strspn(arg, plain)] == '\0') {
        fputs(arg, f);
        return;
    }
    fputc('\'', f);
    for (; *arg; arg++) {
        if (*arg == '\'')
            fputs("'\\''", f);     /* end the quote, a quoted ', quote again */
        else
            fputc(*arg, f);
    }
    fputc('\'', f);
}

/* How pvsim was started: main's argv[0], which Linux keeps first in
 * /proc/self/cmdline; "pvsim" elsewhere. */
static void program_name(char *buf, size_t len)
{
    FILE *f = fopen("/proc/self/cmdline", "rb");
    size_t n = f ? fread(buf, 1, len - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    if (!buf[0])
        snprintf(buf, len, "pvsim");
}

/* The command line that finishes this sweep: this one, with --resume. */
static void print_resume_command(const sweep_opts *o, int argc, char **argv)
{
    char prog[4096];
    program_name(prog, sizeof prog);
    print_word(stderr, prog);
    for (int i = 0; i < argc; i++) {
        fputc(' ', stderr);
        print_word(stderr, argv[i]);
    }
    fputs(o->resume ? "\n" : " --resume\n", stderr);
}

/* ---- running ---------------------------------------------------------------------- */

/* The pool for this process: the MPI ranks, the master alone, or forks. */
static swp_pool *make_pool(const sweep_opts *o, const swp_sweep *s, size_t to_run,
                           int ranks, char *err, size_t errlen)
{
    if (ranks > 1)
        return swp_pool_mpi(s, ranks, err, errlen);
    uint64_t jobs = o->jobs ? o->jobs : (uint64_t)sysconf(_SC_NPROCESSORS_ONLN);
    if (swp_mpi_active())
        jobs = 1;                   /* MPI processes must not fork */
    if (jobs > to_run)
        jobs = to_run;
    if (jobs <= 1) {
        swp_pool *p = swp_pool_inline(s);
        if (!p)
            snprintf(err, errlen, "out of memory");
        return p;
    }
    return swp_pool_fork(s, (int)jobs, err, errlen);
}

/* Hands the points to a pool until they are done or Ctrl-C stops them;
 * `old` is SIGINT's action before. */
static int execute(const sweep_opts *o, swp_sweep *s, int ranks,
                   const struct sigaction *old, swp_outcome *out, char *err, size_t errlen)
{
    size_t to_run = swp_to_run(s);
    *out = (swp_outcome){.to_run = to_run};
    if (!to_run)
        return 0;
    swp_pool *pool = make_pool(o, s, to_run, ranks, err, errlen);
    if (!pool)
        return SIM_EIO;
    cli_progress prog;
    cli_progress_start(&prog, "of the points done");
    catch_interrupt(old);
    s->stop = &interrupted;
    int rc = swp_execute(s, pool, o->quiet ? NULL : show_points, &prog, out, err, errlen);
    pool->close(pool);
    s->stop = NULL;
    cli_progress_end(&prog);
    return rc;
}

/* ---- the outcome ------------------------------------------------------------------ */

static void report_failures(const swp_sweep *s, const swp_outcome *out)
{
    char text[1024];
    for (size_t i = 0; i < out->nshown; i++) {
        describe_point(s->plan, out->shown[i].point, text, sizeof text);
        fprintf(stderr, "pvsim sweep: point %zu (%s) failed: %s\n", out->shown[i].point, text,
                out->shown[i].why);
    }
    if (out->failed > out->nshown)
        fprintf(stderr, "pvsim sweep: %zu more failed points not shown\n",
                out->failed - out->nshown);
}

/* The points without results, as ranges ("3, 17-20, 42"), cut short with
 * ", ..." when they do not fit in `len` (at least 16) bytes. */
static void list_missing(const swp_sweep *s, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < s->npoints; i++) {
        if (swp_point_done(s, i))
            continue;
        size_t j = i;
        while (j + 1 < s->npoints && !swp_point_done(s, j + 1))
            j++;
        char range[48];
        int n = j > i ? snprintf(range, sizeof range, "%s%zu-%zu", used ? ", " : "", i, j)
                      : snprintf(range, sizeof range, "%s%zu", used ? ", " : "", i);
        if (used + (size_t)n + sizeof ", ..." > len) {
            snprintf(buf + used, len - used, ", ...");
            return;
        }
        memcpy(buf + used, range, (size_t)n + 1);
        used += (size_t)n;
        i = j;
    }
}

static void print_summary(const swp_sweep *s, const char *name, const swp_outcome *out,
                          size_t resumed, size_t missing, double wall)
{
    printf("sweep %s: %zu points (%zu distinct), %s over %zu parameter%s\n", name,
           s->npoints, out->to_run + resumed, swp_mode_names[s->plan->mode],
           s->plan->nparams, s->plan->nparams == 1 ? "" : "s");
    printf("ran %zu in %.2f s (%.1f points/s), %zu found done, %zu failed\n", out->ran, wall,
           wall > 0 ? (double)out->ran / wall : 0.0, resumed, out->failed);
    printf("results: %s/%s\n", s->dir, missing ? SWP_PARTIAL_CSV_NAME : SWP_CSV_NAME);
}

/* What is missing and how to finish; the exit status. */
static int report_missing(const sweep_opts *o, const swp_sweep *s, const swp_outcome *out,
                          size_t missing, int argc, char **argv)
{
    char which[512];
    if (!missing && !out->interrupted)
        return 0;
    list_missing(s, which, sizeof which);
    if (out->interrupted) {
        fprintf(stderr, "pvsim sweep: interrupted: %zu of %zu points done, in %s/%s; "
                "no results for points %s\n", s->npoints - missing, s->npoints, s->dir,
                SWP_PARTIAL_CSV_NAME, which);
        fputs("pvsim sweep: to finish the sweep, run: ", stderr);
        print_resume_command(o, argc, argv);
        return EXIT_INTERRUPTED;
    }
    fprintf(stderr, "pvsim sweep: %zu of %zu points have no results (points %s), so the "
            "CSV is %s/%s: run again with --resume to finish them\n", missing, s->npoints,
            which, s->dir, SWP_PARTIAL_CSV_NAME);
    return EXIT_RUN_FAILED;
}

/* Claims the directory, runs what is left and writes the CSV; the exit
 * status. */
static int run_points(const sweep_opts *o, swp_sweep *s, const char *name, int ranks,
                      int argc, char **argv)
{
    char err[512];
    if (swp_claim(s, err, sizeof err) != 0) {
        fprintf(stderr, "pvsim sweep: %s\n", err);
        return EXIT_RUN_FAILED;
    }
    double start = sim_wall_seconds();
    struct sigaction old;
    sigaction(SIGINT, NULL, &old);
    size_t resumed = o->resume ? swp_find_done(s) : 0, missing = 0;
    swp_outcome out;
    int rc = execute(o, s, ranks, &old, &out, err, sizeof err);
    /* SIGINT stays caught while the CSV is written, so a Ctrl-C cannot
     * cut it short; the points are over by then. */
    if (rc == 0)
        rc = swp_write_csv(s, &missing, err, sizeof err);
    sigaction(SIGINT, &old, NULL);
    swp_release(s);
    if (rc) {
        fprintf(stderr, "pvsim sweep: %s\n", err);
        return EXIT_RUN_FAILED;
    }
    report_failures(s, &out);
    if (!o->quiet)
        print_summary(s, name, &out, resumed, missing, sim_wall_seconds() - start);
    return report_missing(o, s, &out, missing, argc, argv);
}

int cli_sweep(int argc, char **argv)
{
    sweep_opts o = {.mode = -1};
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc < 0 ? 0 : rc;
    int rank = 0, ranks = 1;
    char why[256];
    if (swp_mpi_start(&rank, &ranks, why, sizeof why) != 0) {
        fprintf(stderr, "pvsim sweep: %s\n", why);
        return EXIT_RUN_FAILED;
    }
    if (ranks > 1 && o.jobs > 1 && rank == 0)
        fprintf(stderr, "pvsim sweep: -j is ignored under mpirun: the ranks are the "
                "workers\n");
    swp_plan plan = {0};
    swp_sweep s = {0};
    char name[160], dir[4096];
    rc = prepare(&o, &plan, &s, name, sizeof name, rank == 0);
    int prepared = rc == 0;
    if (rc == 0 && !o.out) {
        char safe[129];
        cli_safe_name(name, safe, sizeof safe);
        snprintf(dir, sizeof dir, "pvsim-out/%s", safe);
        o.out = s.dir = dir;
    }
    if (rc == 0 && rank > 0)
        rc = swp_mpi_serve(&s) ? EXIT_RUN_FAILED : 0;
    else if (rc == 0 && o.list)
        print_points(&s);
    else if (rc == 0 && cli_make_dirs(o.out) != 0) {
        fprintf(stderr, "pvsim sweep: cannot create directory %s: %s\n", o.out,
                strerror(errno));
        rc = EXIT_RUN_FAILED;
    } else if (rc == 0)
        rc = run_points(&o, &s, name, ranks, argc, argv);
    swp_sweep_free(&s);
    swp_plan_free(&plan);
    swp_mpi_stop(prepared);
    return rc;
}
