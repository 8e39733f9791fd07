/*
 * test_plot.c -- the library half of `pvsim plot`: CSV parsing (quotes,
 * line numbers, ragged rows, bounds), column lookup with did-you-mean,
 * filtering, grouping and sorting, duplicate x, the gnuplot script, and
 * drawing through a real gnuplot, a missing one and ones that fail (an
 * error, a signal, no image, an image that cannot take its place).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/error.h"
#include "sim/plot.h"
#include "tests/tempdir.h"

static char err[1024];

static plot_table parse_ok(const char *csv)
{
    plot_table t;
    int rc = plot_table_parse(csv, strlen(csv), "t.csv", &t, err, sizeof err);
    cr_assert_eq(rc, 0, "%s", err);
    return t;
}

static void expect_parse_error(const char *csv, size_t len, int status, const char *msg)
{
    plot_table t;
    cr_assert_eq(plot_table_parse(csv, len, "t.csv", &t, err, sizeof err), status,
                 "csv: %.60s", csv);
    cr_assert_str_eq(err, msg);
    cr_assert_null(t.buf);
    cr_assert_eq(t.nrows, 0);
}

static const char sweep[] =
    "point,variant,size,lat,note\n"
    "0,linear,4096,10,\n"
    "0,sg,4096,12,\n"
    "1,linear,1024,5,\n"
    "1,sg,1024,6,\n"
    "2,linear,16384,40,x\n"
    "2,sg,16384,,missing\n";

static plot_spec spec_xy(const char *x, const char *y)
{
    return (plot_spec){.x = x, .y = {y}, .ny = 1, .output = "out.png"};
}

/* ---- parsing ------------------------------------------------------------ */

Test(plot, parses_quotes_breaks_and_empty_cells)
{
    plot_table t = parse_ok("a,b,c\r\n"
                            "1,\"x, y\",\"say \"\"hi\"\"\"\r\n"
                            "\n"
                            "2,\"two\nlines\",\n"
                            "3,,\"\"");
    cr_assert_eq(t.ncols, 3);
    cr_assert_eq(t.nrows, 3);
    cr_assert_str_eq(plot_cell(&t, (size_t)-1, 2), "c");
    cr_assert_str_eq(plot_cell(&t, 0, 1), "x, y");
    cr_assert_str_eq(plot_cell(&t, 0, 2), "say \"hi\"");
    cr_assert_str_eq(plot_cell(&t, 1, 1), "two\nlines");
    cr_assert_str_eq(plot_cell(&t, 1, 2), "");
    cr_assert_str_eq(plot_cell(&t, 2, 0), "3");
    cr_assert_str_eq(plot_cell(&t, 2, 2), "");
    /* Line numbers count the blank line and the break inside the quote. */
    cr_assert_eq(t.lines[0], 2);
    cr_assert_eq(t.lines[1], 4);
    cr_assert_eq(t.lines[2], 6);
    plot_table_free(&t);
    plot_table_free(&t);
}

Test(plot, reports_malformed_rows_by_line)
{
    static const char ragged[] = "a,b,c\n1,2,3\n4,5\n";
    expect_parse_error(ragged, strlen(ragged), SIM_EINVAL,
                       "t.csv:3: 2 cells where the header has 3");
    static const char long_row[] = "a,b\n1,2\n3,4,5\n";
    expect_parse_error(long_row, strlen(long_row), SIM_EINVAL,
                       "t.csv:3: 3 cells where the header has 2");
    static const char open[] = "a,b\n1,\"2\n3,4\n";
    expect_parse_error(open, strlen(open), SIM_EINVAL,
                       "t.csv:2: unterminated quote (the file ends inside it)");
    static const char after[] = "a,b\n1,\"2\"x\n";
    expect_parse_error(after, strlen(after), SIM_EINVAL,
                       "t.csv:2: text after a closing quote (double a quote inside a quoted "
                       "cell)");
    static const char inside[] = "a,b\n1,2\"3\n";
    expect_parse_error(inside, strlen(inside), SIM_EINVAL,
                       "t.csv:2: a quote inside an unquoted cell (quote the whole cell and "
                       "double the quote)");
    expect_parse_error("", 0, SIM_EINVAL, "t.csv: empty file, expected a header row");
    expect_parse_error("\n\n", 2, SIM_EINVAL, "t.csv: empty file, expected a header row");
    expect_parse_error("a,b\n1,\0", 7, SIM_EINVAL, "t.csv:2: a NUL byte: not a text CSV");
}

Test(plot, refuses_rows_over_the_line_cap)
{
    size_t n = PLOT_MAX_LINE + 64;
    char *csv = malloc(n + 1);
    cr_assert_not_null(csv);
    memcpy(csv, "a\n", 2);
    memset(csv + 2, '7', n - 2);
    csv[n] = '\0';
    expect_parse_error(csv, n, SIM_ELIMIT, "t.csv:2: a row longer than 1048576 bytes");
    csv[2] = '"';               /* the same row as an unterminated quote */
    expect_parse_error(csv, n, SIM_ELIMIT,
                       "t.csv:2: a row longer than 1048576 bytes (an unterminated quote?)");
    free(csv);
}

Test(plot, reads_files_and_says_why_not)
{
    plot_table t;
    cr_assert_eq(plot_table_read("/nonexistent/sweep.csv", &t, err, sizeof err), SIM_EIO);
    cr_assert_str_eq(err, "cannot read /nonexistent/sweep.csv: No such file or directory");
    cr_assert_eq(plot_table_read(PVSIM_TEST_DIR "/data/sweep.csv", &t, err, sizeof err), 0,
                 "%s", err);
    cr_assert_eq(t.ncols, 6);
    cr_assert_eq(t.nrows, 8);
    cr_assert_str_eq(plot_cell(&t, 7, 1), "page-list");
    plot_table_free(&t);
}

/* ---- columns ------------------------------------------------------------ */

Test(plot, finds_columns_and_suggests_the_nearest)
{
    plot_table t = parse_ok("point,variant,guests.0.workload.size,totals.latency_ns.mean\n"
                            "0,linear,4096,1\n");
    size_t col = 99;
    cr_assert_eq(plot_column(&t, "variant", &col, err, sizeof err), 0);
    cr_assert_eq(col, 1);
    cr_assert_eq(plot_column(&t, "totals.latency_ns.maen", &col, err, sizeof err),
                 SIM_ENOTFOUND);
    cr_assert_str_eq(err, "no column 'totals.latency_ns.maen' in t.csv (did you mean "
                          "'totals.latency_ns.mean'?)");
    cr_assert_eq(plot_column(&t, "size", &col, err, sizeof err), SIM_ENOTFOUND);
    cr_assert_str_eq(err, "no column 'size' in t.csv (did you mean 'guests.0.workload.size'?)");
    cr_assert_eq(plot_column(&t, "varient", &col, err, sizeof err), SIM_ENOTFOUND);
    cr_assert_str_eq(err, "no column 'varient' in t.csv (did you mean 'variant'?)");
    cr_assert_eq(plot_column(&t, "zzz", &col, err, sizeof err), SIM_ENOTFOUND);
    cr_assert_str_eq(err, "no column 'zzz' in t.csv");
    cr_assert_eq(col, 1, "a failed lookup changed the column");
    plot_table_free(&t);
    /* A name given twice (a swept parameter the results repeat): the first. */
    t = parse_ok("a,b,a\n1,2,3\n");
    cr_assert_eq(plot_column(&t, "a", &col, err, sizeof err), 0);
    cr_assert_eq(col, 0);
    plot_table_free(&t);
}

/* ---- selection ---------------------------------------------------------- */

Test(plot, groups_by_first_appearance_and_sorts_by_x)
{
    plot_table t = parse_ok(sweep);
    plot_spec s = spec_xy("size", "lat");
    plot_data d;
    cr_assert_eq(plot_select(&t, &s, &d, err, sizeof err), 0, "%s", err);
    cr_assert_eq(d.nseries, 2);
    cr_assert_str_eq(d.series[0].name, "linear");
    cr_assert_str_eq(d.series[1].name, "sg");
    cr_assert_eq(d.series[0].n, 3);
    cr_assert_eq(d.series[1].n, 2, "the row with an empty y must be left out");
    const plot_point *p = d.points + d.series[0].first;
    cr_assert(p[0].x == 1024 && p[1].x == 4096 && p[2].x == 16384);
    cr_assert(p[0].y == 5 && p[1].y == 10 && p[2].y == 40);
    cr_assert_eq(p[0].line, 4);
    p = d.points + d.series[1].first;
    cr_assert(p[0].x == 1024 && p[0].y == 6 && p[1].x == 4096 && p[1].y == 12);
    plot_data_free(&d);
    plot_data_free(&d);
    plot_table_free(&t);
}

Test(plot, filters_with_where_and_groups_by_any_column)
{
    plot_table t = parse_ok(sweep);
    plot_where w[] = {{"variant", "sg"}};
    plot_spec s = spec_xy("size", "lat");
    s.where = w;
    s.nwhere = 1;
    s.by = "point";
    plot_data d;
    cr_assert_eq(plot_select(&t, &s, &d, err, sizeof err), 0, "%s", err);
    cr_assert_eq(d.nseries, 2);
    cr_assert_str_eq(d.series[0].name, "0");
    cr_assert_str_eq(d.series[1].name, "1");
    cr_assert_eq(d.npoints, 2);
    plot_data_free(&d);
    w[0].value = "SG";
    cr_assert_eq(plot_select(&t, &s, &d, err, sizeof err), SIM_EINVAL);
    cr_assert_str_eq(err, "no rows left after --where: no row of t.csv has variant=SG");
    cr_assert_null(d.points);
    w[0].col = "variamt";
    cr_assert_eq(plot_select(&t, &s, &d, err, sizeof err), SIM_ENOTFOUND);
    cr_assert_str_eq(err, "--where: no column 'variamt' in t.csv (did you mean 'variant'?)");
    plot_table_free(&t);
}

Test(plot, rejects_what_cannot_be_drawn)
{
    plot_table t = parse_ok(sweep);
    plot_spec s = spec_xy("size", "variant");
    plot_data d;
    cr_assert_eq(plot_select(&t, &s, &d, err, sizeof err), SIM_EINVAL);
    cr_assert_str_eq(err, "t.csv:2: y column 'variant' holds 'linear', not a number");
    s = spec_xy("size", "lat");
    s.by = "note";              /* "" for the first four rows */
    cr_assert_eq(plot_select(&t, &s, &d, err, sizeof err), SIM_EINVAL);
    cr_assert_str_eq(err, "t.csv: lines 2 and 3 share x=4096 in group '': add --where or --by");
    s = spec_xy("sizes", "lat");
    cr_assert_eq(plot_select(&t, &s, &d, err, sizeof err), SIM_ENOTFOUND);
    cr_assert_str_eq(err, "--x: no column 'sizes' in t.csv (did you mean 'size'?)");
    s = spec_xy("size", "note");
    plot_where w[] = {{"note", ""}};
    s.where = w;
    s.nwhere = 1;
    cr_assert_eq(plot_select(&t, &s, &d, err, sizeof err), SIM_EINVAL);
    cr_assert_str_eq(err,
                     "no row of t.csv has both 'size' and 'note' (an empty cell is an absent "
                     "value)");
    plot_table_free(&t);
    t = parse_ok("variant,x,y\nlinear,0,1\nlinear,1e-05,nan\n");
    s = spec_xy("x", "y");
    s.log_x = 1;
    cr_assert_eq(plot_select(&t, &s, &d, err, sizeof err), SIM_EINVAL);
    cr_assert_str_eq(err, "t.csv:2: --log-x needs values > 0, and 'x' is 0 on this row");
    s.log_x = 0;
    cr_assert_eq(plot_select(&t, &s, &d, err, sizeof err), SIM_EINVAL);
    cr_assert_str_eq(err, "t.csv:3: y column 'y' holds 'nan', not a number");
    plot_table_free(&t);
    t = parse_ok("variant,x,y\n");
    cr_assert_eq(plot_select(&t, &s, &d, err, sizeof err), SIM_EINVAL);
    cr_assert_str_eq(err, "t.csv has a header but no rows");
    plot_table_free(&t);
}

Test(plot, duplicate_x_names_both_lines)
{
    plot_table t = parse_ok("variant,x,y\nlinear,1,1\nsg,1,2\nlinear,2,3\nlinear,2.0,4\n");
    plot_spec s = spec_xy("x", "y");
    plot_data d;
    cr_assert_eq(plot_select(&t, &s, &d, err, sizeof err), SIM_EINVAL);
    cr_assert_str_eq(err,
                     "t.csv: lines 4 and 5 share x=2 in group 'linear': add --where or --by");
    plot_table_free(&t);
}

/* ---- the script --------------------------------------------------------- */

Test(plot, picks_the_terminal_by_extension)
{
    cr_assert_str_eq(plot_terminal("a/b.png"), "pngcairo");
    cr_assert_str_eq(plot_terminal("b.SVG"), "svg");
    cr_assert_null(plot_terminal("b.jpg"));
    cr_assert_null(plot_terminal("png"));
    cr_assert_null(plot_terminal("dir/.png"));
    cr_assert_null(plot_terminal(NULL));
}

Test(plot, writes_the_script_with_inline_data)
{
    plot_table t = parse_ok("variant,x,y\n\"it's\",2,0.5\n\"it's\",1,1.2e-05\n\"b\nc\",1,3\n");
    plot_spec s = spec_xy("x", "y");
    s.output = "o.svg";
    s.log_y = 1;
    plot_data d;
    cr_assert_eq(plot_select(&t, &s, &d, err, sizeof err), 0, "%s", err);
    char *script = plot_script(&s, &d, "o.svg.tmp'1");
    cr_assert_not_null(script);
    static const char want[] =
        "set encoding utf8\n"
        "set terminal svg noenhanced size 960,600 dynamic background '#ffffff'\n"
        "set output 'o.svg.tmp''1'\n"
        "set title 'y vs x'\n"
        "set xlabel 'x'\n"
        "set ylabel 'y'\n"
        "set key outside right top title 'variant'\n"
        "set grid\n"
        "set autoscale xfix\n"
        "set offsets graph 0.03, graph 0.03, 0, 0\n"
        "set logscale y\n"
        "$d0 << EOD\n"
        "1 1.2e-05\n"
        "2 0.5\n"
        "EOD\n"
        "$d1 << EOD\n"
        "1 3\n"
        "EOD\n"
        "plot $d0 using 1:2 with linespoints linetype 1 title 'it''s', \\\n"
        "     $d1 using 1:2 with linespoints linetype 2 title 'b c'\n"
        "unset output\n";
    cr_assert_str_eq(script, want);
    free(script);
    s.output = "o.png";
    s.title = "p99\nlatency";
    script = plot_script(&s, &d, "o.png");
    cr_assert_not_null(strstr(script, "set terminal pngcairo noenhanced"));
    cr_assert_not_null(strstr(script, "set title 'p99 latency'\n"));
    free(script);
    s.output = "o.gif";
    cr_assert_null(plot_script(&s, &d, "o.gif"));
    plot_data_free(&d);
    plot_table_free(&t);
}

/* The label of column `col` with `max` as its largest value. */
static const char *label_of(const char *col, double max)
{
    static char out[256];
    plot_axis a;
    plot_axis_of(col, max, &a);
    plot_axis_label(&a, out, sizeof out);
    return out;
}

Test(plot, labels_name_the_quantity_and_its_unit)
{
    static const struct {
        const char *col;
        double max;
        const char *want;
    } cases[] = {
        {"classes.io.metrics.latency_ns.p99", 0, "p99 latency (us)"},
        {"totals.latency_ns.mean.lower", 0, "mean latency (us)"},
        {"ivshmem.round_latency_ns.p50", 0, "p50 round latency (us)"},
        {"totals.latency_cycles.p99", 0, "p99 latency (cycles)"},
        {"totals.throughput_rps", 0, "throughput (requests/s)"},
        {"totals.throughput_rps", 5e5, "throughput (k requests/s)"},
        {"totals.offered_rps", 2e6, "offered load (M requests/s)"},
        {"totals.throughput_bytes_per_s", 5e8, "throughput (MB/s)"},
        {"totals.throughput_bytes_per_s", 2e9, "throughput (GiB/s)"},
        {"guests.0.workload.size", 0, "request size (KiB)"},
        {"guests.1.memory.size", 0, "memory size (KiB)"},
        {"device.workers", 0, "device workers"},
        {"totals.exits_per_request", 0, "exits per request"},
        {"variant", 0, "variant"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_str_eq(label_of(cases[i].col, cases[i].max), cases[i].want, "%s",
                         cases[i].col);
    plot_axis a;
    plot_axis_of("totals.latency_ns.p99", 0, &a);
    cr_assert(a.divisor == 1000);
    plot_axis_of("guests.0.workload.size", 0, &a);
    cr_assert(a.divisor == 1024);
}

/* Two y columns, one with bounds, in two panels: series panel by panel,
 * then y by y; a group keeps its colour where another is missing. */
static const char facets[] =
    "variant,workers,size,lat,lat.lower,lat.upper,p99\n"
    "a,1,1024,1000,900,1100,2000\n"
    "b,1,1024,1500,1400,1600,2500\n"
    "a,2,1024,800,,,1600\n"
    "b,2,2048,1200,1100,1300,\n";

Test(plot, facets_several_y_and_error_bars)
{
    plot_table t = parse_ok(facets);
    plot_spec s = spec_xy("size", "lat");
    s.y[1] = "p99";
    s.ny = 2;
    s.facet = "workers";
    s.output = "o.png";
    plot_data d;
    cr_assert_eq(plot_select(&t, &s, &d, err, sizeof err), 0, "%s", err);
    cr_assert_eq(d.npanels, 2);
    cr_assert_eq(d.nseries, 7);
    cr_assert_str_eq(d.series[0].facet, "1");
    cr_assert(d.series[0].bounds && !d.series[2].bounds);
    cr_assert_eq(d.series[2].y, 1);
    cr_assert_str_eq(d.series[4].facet, "2");
    const plot_point *p = d.points + d.series[4].first;
    cr_assert(p[0].y == 800 && p[0].lower == 800 && p[0].upper == 800,
              "an empty bound is the value");
    cr_assert_str_eq(d.series[6].name, "a");
    cr_assert_eq(d.series[6].group, 0);
    char *script = plot_script(&s, &d, "o.png");
    cr_assert_not_null(script);
    cr_assert_not_null(strstr(script, "set terminal pngcairo noenhanced size 1120,600\n"));
    cr_assert_not_null(strstr(script, "set multiplot layout 1,2 title 'lat, p99 vs size'\n"));
    cr_assert_not_null(strstr(script, "set ylabel 'lat, p99'\n"));
    cr_assert_not_null(strstr(script, "set key inside left top opaque box title 'variant'\n"));
    cr_assert_not_null(strstr(script, "\nunset key\nset title 'workers = 2'\n"),
                       "the key is drawn in the first panel only");
    cr_assert_not_null(strstr(script, "$d0 << EOD\n1024 1000 900 1100\nEOD\n"));
    cr_assert_not_null(strstr(script, "plot $d0 using ($1/1024):2:3:4 with yerrorlines "
                                      "linetype 1 dashtype 1 title 'a, lat', \\\n"));
    cr_assert_not_null(strstr(script, "$d3 using ($1/1024):2 with linespoints linetype 2 "
                                      "dashtype 2 title 'b, p99'\n"));
    cr_assert_not_null(strstr(script, "\nunset multiplot\nunset output\n"));
    free(script);
    s.xlabel = "bytes/1024";
    s.ylabel = "time";
    script = plot_script(&s, &d, "o.png");
    cr_assert_not_null(strstr(script, "set xlabel 'bytes/1024'\nset ylabel 'time'\n"));
    free(script);
    plot_data_free(&d);
    s.facet = "worker";
    cr_assert_eq(plot_select(&t, &s, &d, err, sizeof err), SIM_ENOTFOUND);
    cr_assert_str_eq(err, "--facet: no column 'worker' in t.csv (did you mean 'workers'?)");
    plot_table_free(&t);
}

/* ---- drawing ------------------------------------------------------------ */

Test(plot, draws_with_gnuplot_and_leaves_no_temporary)
{
    char dir[] = "/tmp/pvsim-plot-XXXXXX", path[64];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/p.png", dir);
    plot_table t = parse_ok(sweep);
    plot_spec s = spec_xy("size", "lat");
    s.output = path;
    s.log_x = 1;
    plot_data d;
    cr_assert_eq(plot_select(&t, &s, &d, err, sizeof err), 0, "%s", err);
    cr_assert_eq(plot_draw(&s, &d, err, sizeof err), 0, "%s", err);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    unsigned char sig[8] = {0};
    cr_assert_eq(fread(sig, 1, 8, f), 8);
    fclose(f);
    cr_assert_eq(memcmp(sig, "\x89PNG\r\n\x1a\n", 8), 0);
    cr_assert_eq(count_entries(dir), 1);
    /* A gnuplot that fails, and one that is not there, leave nothing. */
    unlink(path);
    s.gnuplot = "false";
    cr_assert_eq(plot_draw(&s, &d, err, sizeof err), SIM_EIO);
    cr_assert_str_eq(err, "false failed (exit 1)");
    s.gnuplot = "pvsim-no-such-gnuplot";
    cr_assert_eq(plot_draw(&s, &d, err, sizeof err), SIM_ENOTFOUND);
    cr_assert_str_eq(err, "pvsim-no-such-gnuplot not found: install gnuplot-nox");
    cr_assert_eq(count_entries(dir), 0);
    s.gnuplot = NULL;
    snprintf(path, sizeof path, "%s/no/such/dir.png", dir);
    cr_assert_eq(plot_draw(&s, &d, err, sizeof err), SIM_EIO);
    cr_assert_not_null(strstr(err, "cannot write"), "%s", err);
    plot_data_free(&d);
    plot_table_free(&t);
    rmdir(dir);
}

/* ---- gnuplots that fail --------------------------------------------------- */

/* A directory with an executable `name` holding `body` (a shell script),
 * and the data of `sweep` to draw into DIR/p.png with it. */
typedef struct fake_gnuplot {
    char dir[64], prog[96], out[96];
    plot_table t;
    plot_spec s;
    plot_data d;
} fake_gnuplot;

static void fake_start(fake_gnuplot *g, const char *body)
{
    snprintf(g->dir, sizeof g->dir, "/tmp/pvsim-plot-XXXXXX");
    cr_assert_not_null(mkdtemp(g->dir));
    snprintf(g->prog, sizeof g->prog, "%s/gnuplot", g->dir);
    snprintf(g->out, sizeof g->out, "%s/p.png", g->dir);
    FILE *f = fopen(g->prog, "w");
    cr_assert_not_null(f);
    fprintf(f, "#!/bin/sh\n%s", body);
    fclose(f);
    cr_assert_eq(chmod(g->prog, 0755), 0);
    g->t = parse_ok(sweep);
    g->s = spec_xy("size", "lat");
    g->s.output = g->out;
    g->s.gnuplot = g->prog;
    cr_assert_eq(plot_select(&g->t, &g->s, &g->d, err, sizeof err), 0, "%s", err);
}

/* Draws; the status, with the message in err. Nothing but the program
 * (and a directory the test made) may be left in the directory. */
static int fake_draw(fake_gnuplot *g, int entries)
{
    int rc = plot_draw(&g->s, &g->d, err, sizeof err);
    cr_assert_eq(count_entries(g->dir), entries, "a temporary was left behind");
    return rc;
}

static void fake_end(fake_gnuplot *g)
{
    plot_data_free(&g->d);
    plot_table_free(&g->t);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g->dir);
    cr_assert_eq(system(cmd), 0);
}

/* What gnuplot wrote last is the reason, however much it wrote before. */
Test(plot, a_failing_gnuplot_is_quoted)
{
    fake_gnuplot g;
    fake_start(&g, "cat >/dev/null\nhead -c 3000 /dev/zero | tr '\\0' x\n"
                   "printf '\\n   line 12: undefined variable: foo  \\n\\n'\nexit 3\n");
    cr_assert_eq(fake_draw(&g, 1), SIM_EIO);
    char want[160];
    snprintf(want, sizeof want, "%s failed (exit 3): line 12: undefined variable: foo", g.prog);
    cr_assert_str_eq(err, want);
    fake_end(&g);
}

/* One that stops without reading its script: pvsim gets EPIPE, not
 * SIGPIPE, and says how gnuplot ended. */
Test(plot, a_gnuplot_that_stops_early_or_is_killed)
{
    fake_gnuplot g;
    fake_start(&g, "kill -9 $$\n");
    cr_assert_eq(fake_draw(&g, 1), SIM_EIO);
    char want[160];
    snprintf(want, sizeof want, "%s was killed by signal 9", g.prog);
    cr_assert_str_eq(err, want);
    fake_end(&g);
    fake_start(&g, "exit 127\n");
    cr_assert_eq(fake_draw(&g, 1), SIM_ENOTFOUND);
    snprintf(want, sizeof want, "%s not found: install gnuplot-nox", g.prog);
    cr_assert_str_eq(err, want);
    fake_end(&g);
    fake_start(&g, "exit 1\n");
    cr_assert_eq(fake_draw(&g, 1), SIM_EIO);
    snprintf(want, sizeof want, "%s failed (exit 1)", g.prog);
    cr_assert_str_eq(err, want);
    fake_end(&g);
}

Test(plot, a_gnuplot_that_draws_nothing_fails)
{
    fake_gnuplot g;
    fake_start(&g, "cat >/dev/null\n");
    cr_assert_eq(fake_draw(&g, 1), SIM_EIO);
    char want[160];
    snprintf(want, sizeof want, "%s exited with 0 but wrote no image", g.prog);
    cr_assert_str_eq(err, want);
    fake_end(&g);
}

/* The image goes where it was asked only when it can: a directory in its
 * place keeps it out, and takes no temporary. */
Test(plot, an_image_that_cannot_take_its_place_fails)
{
    fake_gnuplot g;
    fake_start(&g, "out=$(sed -n \"s/^set output '\\(.*\\)'$/\\1/p\")\nprintf x >\"$out\"\n");
    cr_assert_eq(fake_draw(&g, 2), 0, "%s", err);
    cr_assert_eq(unlink(g.out), 0);
    cr_assert_eq(mkdir(g.out, 0700), 0);
    cr_assert_eq(fake_draw(&g, 2), SIM_EIO);
    cr_assert(strstr(err, "cannot write") && strstr(err, "p.png: Is a directory"), "%s", err);
    cr_assert_eq(rmdir(g.out), 0);
    g.s.output = "p.gif";
    cr_assert_eq(fake_draw(&g, 1), SIM_EINVAL);
    cr_assert_str_eq(err, "p.gif: the image must be a .png or .svg file");
    fake_end(&g);
}

/* ---- more CSV --------------------------------------------------------------- */

Test(plot, a_byte_order_mark_and_bare_line_ends)
{
    plot_table t = parse_ok("\xef\xbb\xbfvariant,x,y\r\nlinear,1,2\r");
    cr_assert_str_eq(plot_cell(&t, (size_t)-1, 0), "variant");
    cr_assert_eq(t.nrows, 1);
    cr_assert_str_eq(plot_cell(&t, 0, 2), "2");
    plot_table_free(&t);
    /* A CR inside a row is text, not a line end. */
    t = parse_ok("a,b\n1\r2,3\n");
    cr_assert_str_eq(plot_cell(&t, 0, 0), "1\r2");
    plot_table_free(&t);
}

Test(plot, a_directory_is_not_a_csv)
{
    plot_table t;
    cr_assert_eq(plot_table_read("/tmp", &t, err, sizeof err), SIM_EIO);
    cr_assert_str_eq(err, "cannot read /tmp: Is a directory");
}

Test(plot, several_wheres_must_all_hold)
{
    plot_table t = parse_ok(sweep);
    plot_where w[] = {{"variant", "sg"}, {"point", "7"}};
    plot_spec s = spec_xy("size", "lat");
    s.where = w;
    s.nwhere = 2;
    plot_data d;
    cr_assert_eq(plot_select(&t, &s, &d, err, sizeof err), SIM_EINVAL);
    cr_assert_str_eq(err, "no rows left after --where: no row of t.csv matches all 2 of them");
    w[1].value = "1";
    cr_assert_eq(plot_select(&t, &s, &d, err, sizeof err), 0, "%s", err);
    cr_assert_eq(d.npoints, 1);
    cr_assert(d.points[0].x == 1024 && d.points[0].y == 6);
    plot_data_free(&d);
    plot_table_free(&t);
}
