/*
 * cli_sweep.c -- `pvsim sweep`: run every point of a design-space sweep on
 * local worker processes or MPI ranks, and gather the results in a CSV.
 *
 * Every MPI rank (and the single process otherwise) reads the scenario,
 * builds the plan and loads every point, so they agree on the points
 * without shipping configurations around; only point numbers and results
 * travel. Only the master (rank 0) prints and writes.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "sim/sweep_mpi.h"
#include "sim/sweep_pool.h"

#define MAX_SWEEPS 32

static const char sweep_usage[] =
    "usage: pvsim sweep FILE [--sweep PATH=V1,V2,...]... [-j N] [--out DIR] [--resume]\n"
    "                  [--mode grid|zip] [--set PATH=VALUE]... [--seed N] [--list] [--quiet]\n"
    "\n"
    "Runs the scenario in FILE once per point of a sweep: the parameters of its\n"
    "`sweep:` block and of --sweep options, combined as a grid (every\n"
    "combination) or zipped (the i-th values together). Each point's results\n"
    "go to DIR/points/<hash>.json as soon as they are done; DIR/sweep.csv gets\n"
    "one row per point and variant (the parameters, then every metric) once\n"
    "all are. The CSV is the same, byte for byte, whatever -j or the number of\n"
    "MPI ranks. docs/sweeps.md has the details.\n"
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
    return system_run(cfg, NULL, NULL, results, err, errlen);
}

static void model_free(void *cfg)
{
    if (cfg)
        system_config_free(cfg);
    free(cfg);
}

static const swp_model system_model = {&system_schema, model_load, model_run, model_free};

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
        return 0;
    case 's':
        return cli_set_seed(&o->scn, arg) ? EXIT_USAGE : 0;
    case 'S':
        return cli_add_set(&o->scn, arg) ? EXIT_USAGE : 0;
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
    if (o->scn.seed_set[0] && cli_add_set(&o->scn, o->scn.seed_set))
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

/* Runs what is left and writes the CSV; the exit status. */
static int run_points(const sweep_opts *o, swp_sweep *s, const char *name, int ranks)
{
    char err[512];
    size_t resumed = o->resume ? swp_find_done(s) : 0, missing = 0;
    swp_outcome out = {0};
    cli_progress prog;
    cli_progress_start(&prog, "of the points done");
    size_t to_run = swp_to_run(s);
    swp_pool *pool = to_run ? make_pool(o, s, to_run, ranks, err, sizeof err) : NULL;
    int rc = to_run && !pool ? SIM_EIO : 0;
    if (pool) {
        rc = swp_execute(s, pool, o->quiet ? NULL : show_points, &prog, &out, err, sizeof err);
        pool->close(pool);
    }
    cli_progress_end(&prog);
    if (rc == 0)
        rc = swp_write_csv(s, &missing, err, sizeof err);
    if (rc) {
        fprintf(stderr, "pvsim sweep: %s\n", err);
        return EXIT_RUN_FAILED;
    }
    report_failures(s, &out);
    double wall = cli_wall_seconds() - prog.start;
    if (!o->quiet) {
        printf("sweep %s: %zu points (%zu distinct), %s over %zu parameter%s\n", name,
               s->npoints, to_run + resumed, swp_mode_names[s->plan->mode],
               s->plan->nparams, s->plan->nparams == 1 ? "" : "s");
        printf("ran %zu in %.2f s (%.1f points/s), %zu found done, %zu failed\n", out.ran, wall,
               wall > 0 ? (double)out.ran / wall : 0.0, resumed, out.failed);
        printf("results: %s/sweep.csv\n", s->dir);
    }
    if (missing) {
        fprintf(stderr, "pvsim sweep: %zu of %zu points have no results (the CSV leaves "
                "them out): run again with --resume to finish them\n", missing, s->npoints);
        return EXIT_RUN_FAILED;
    }
    return 0;
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
        rc = run_points(&o, &s, name, ranks);
    swp_sweep_free(&s);
    swp_plan_free(&plan);
    swp_mpi_stop(prepared);
    return rc;
}
