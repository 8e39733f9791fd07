/*
 * cli_plot.c -- `pvsim plot`: draw columns of a sweep's CSV against
 * another with gnuplot, one line per group and y, one panel per facet.
 * sim/plot.h does the work; this file parses the flags and prints what
 * went wrong.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "sim/error.h"
#include "sim/plot.h"
#include "sim/report.h"

#define MAX_WHERE 64

static const char plot_usage[] =
    "usage: pvsim plot CSV --x COL --y COL [--y COL]... [--by COL] [--facet COL]\n"
    "                  [--where COL=VALUE]... [--log-x] [--log-y] [--title TEXT]\n"
    "                  [--xlabel TEXT] [--ylabel TEXT] [--script FILE]\n"
    "                  -o FILE.png|FILE.svg\n"
    "\n"
    "Draws columns Y against column X of a CSV as `pvsim sweep` writes it, with\n"
    "gnuplot: one line per value of the --by column (and per Y), in order of\n"
    "first appearance, each sorted by X; one panel per value of the --facet\n"
    "column. Rows with an empty X or Y cell are left out. A Y with Y.lower and\n"
    "Y.upper columns (a sweep with --replications) gets error bars. Axes are\n"
    "labelled with the quantity and its unit (latency in us, sizes in KiB).\n"
    "The extension of FILE picks the image type. Needs gnuplot (Debian:\n"
    "gnuplot-nox). See docs/plots.md.\n"
    "\n"
    "options:\n"
    "      --x COL            column for the horizontal axis\n"
    "      --y COL            column for the vertical axis; repeatable (up to 8)\n"
    "      --by COL           one line per value of COL (default: variant)\n"
    "      --facet COL        one panel per value of COL\n"
    "      --where COL=VALUE  keep only rows whose COL is exactly VALUE;\n"
    "                         repeatable, a row must match them all\n"
    "      --log-x, --log-y   logarithmic axis (its values must be > 0)\n"
    "      --title TEXT       title of the plot (default: \"<y> vs <x>\")\n"
    "      --xlabel TEXT      label of the x axis (default: quantity and unit)\n"
    "      --ylabel TEXT      label of the y axis (default: quantity and unit)\n"
    "      --script FILE      also write the gnuplot script, as it draws FILE.png\n"
    "  -o, --output FILE      the image to write: FILE.png or FILE.svg\n"
    "  -h, --help             show this help\n"
    "\n"
    "examples:\n"
    "  pvsim plot out/sweep.csv --x guests.0.workload.size \\\n"
    "      --y totals.latency_ns.mean --log-x -o latency.png\n"
    "  pvsim plot out/sweep.csv --x guests.0.workload.size \\\n"
    "      --y totals.throughput_rps --where device.workers=4 --log-x --log-y \\\n"
    "      --title 'throughput, 4 workers' -o throughput.svg\n"
    "  pvsim plot out/sweep.csv --x guests.0.workload.size \\\n"
    "      --y totals.latency_ns.mean --y totals.latency_ns.p99 \\\n"
    "      --facet device.workers --log-x -o latency-by-workers.png\n";

typedef struct plot_args {
    const char *csv;
    const char *script;         /* --script FILE, or NULL */
    plot_spec spec;
    plot_where where[MAX_WHERE];
} plot_args;

enum {
    OPT_X = 256, OPT_Y, OPT_BY, OPT_WHERE, OPT_LOG_X, OPT_LOG_Y, OPT_TITLE, OPT_FACET,
    OPT_XLABEL, OPT_YLABEL, OPT_SCRIPT
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "pvsim plot: <message>" as one line; returns EXIT_USAGE. */
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("pvsim plot: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return EXIT_USAGE;
}

/* --where COL=VALUE, split at the first '=' (VALUE may hold more). The
 * '=' in argv becomes the end of COL. */
static int add_where(plot_args *a, char *arg)
{
    char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return usage_error("--where: expected COL=VALUE, found '%s'", arg);
    if (a->spec.nwhere == MAX_WHERE)
        return usage_error("at most %d --where options", MAX_WHERE);
    *eq = '\0';
    a->where[a->spec.nwhere++] = (plot_where){arg, eq + 1};
    return 0;
}

/* Where a flag that only names a text goes; NULL for the other flags. */
static const char **text_option(plot_args *a, int c)
{
    switch (c) {
    case OPT_X:
        return &a->spec.x;
    case OPT_BY:
        return &a->spec.by;
    case OPT_FACET:
        return &a->spec.facet;
    case OPT_TITLE:
        return &a->spec.title;
    case OPT_XLABEL:
        return &a->spec.xlabel;
    case OPT_YLABEL:
        return &a->spec.ylabel;
    case OPT_SCRIPT:
        return &a->script;
    case 'o':
        return &a->spec.output;
    default:
        return NULL;
    }
}

/* One flag into `a`; 0 or an exit status, -1 after printing the help. */
static int take_option(plot_args *a, int c, char *arg)
{
    const char **text = text_option(a, c);
    if (text) {
        *text = arg;
        return 0;
    }
    switch (c) {
    case OPT_Y:
        if (a->spec.ny == PLOT_MAX_Y)
            return usage_error("at most %d --y options", PLOT_MAX_Y);
        a->spec.y[a->spec.ny++] = arg;
        return 0;
    case OPT_WHERE:
        return add_where(a, arg);
    case OPT_LOG_X:
        a->spec.log_x = 1;
        return 0;
    case OPT_LOG_Y:
        a->spec.log_y = 1;
        return 0;
    case 'h':
        fputs(plot_usage, stdout);
        return -1;
    default:
        fprintf(stderr, "%.*s", (int)strcspn(plot_usage, "\n") + 1, plot_usage);
        return EXIT_USAGE;
    }
}

/* What the flags must say together, checked before any file is read. */
static int check_args(const plot_args *a)
{
    if (!a->csv)
        return usage_error("a CSV file is required (see pvsim plot --help)");
    if (!a->spec.x || !a->spec.ny)
        return usage_error("--x COL and --y COL are required");
    if (!a->spec.output)
        return usage_error("-o FILE.png|FILE.svg is required: where to write the image");
    if (!plot_terminal(a->spec.output))
        return usage_error("-o %s: the image must be a .png or .svg file", a->spec.output);
    return 0;
}

static int parse_args(int argc, char **argv, plot_args *a)
{
    static const struct option longopts[] = {
        {"x", required_argument, NULL, OPT_X},
        {"y", required_argument, NULL, OPT_Y},
        {"by", required_argument, NULL, OPT_BY},
        {"where", required_argument, NULL, OPT_WHERE},
        {"log-x", no_argument, NULL, OPT_LOG_X},
        {"log-y", no_argument, NULL, OPT_LOG_Y},
        {"title", required_argument, NULL, OPT_TITLE},
        {"facet", required_argument, NULL, OPT_FACET},
        {"xlabel", required_argument, NULL, OPT_XLABEL},
        {"ylabel", required_argument, NULL, OPT_YLABEL},
        {"script", required_argument, NULL, OPT_SCRIPT},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
        int rc = take_option(a, c, optarg);
        if (rc)
            return rc;
    }
    if (optind < argc)
        a->csv = argv[optind++];
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    a->spec.where = a->where;
    return check_args(a);
}

/* --script FILE: the script that draws the image, naming the image
 * itself rather than the temporary file gnuplot writes first, so the same
 * CSV and flags give the same bytes. */
static int write_script(const plot_args *a, const plot_data *d, char *err, size_t errlen)
{
    if (!a->script)
        return 0;
    char *script = plot_script(&a->spec, d, a->spec.output);
    if (!script) {
        snprintf(err, errlen, "out of memory");
        return SIM_ENOMEM;
    }
    int rc = rep_write_text(a->script, script, "", err, errlen);
    free(script);
    return rc;
}

int cli_plot(int argc, char **argv)
{
    plot_args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc < 0 ? 0 : rc;
    char err[1024];
    plot_table t;
    plot_data d = {0};
    /* Reading and choosing fail on what the user gave (exit 2); drawing
     * fails on gnuplot or the disk (exit 1). */
    int st = plot_table_read(a.csv, &t, err, sizeof err);
    if (!st)
        st = plot_select(&t, &a.spec, &d, err, sizeof err);
    rc = st == SIM_ENOMEM ? EXIT_RUN_FAILED : EXIT_USAGE;
    if (!st) {
        st = write_script(&a, &d, err, sizeof err);
        rc = EXIT_RUN_FAILED;
    }
    if (!st)
        st = plot_draw(&a.spec, &d, err, sizeof err);
    if (st)
        fprintf(stderr, "pvsim plot: %s\n", err);
    else
        printf("plot: %s (%zu line%s, %zu point%s)\n", a.spec.output, d.nseries,
               d.nseries == 1 ? "" : "s", d.npoints, d.npoints == 1 ? "" : "s");
    plot_data_free(&d);
    plot_table_free(&t);
    return st ? rc : 0;
}
