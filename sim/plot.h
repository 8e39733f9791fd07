/*
 * plot.h -- draw a sweep's CSV with gnuplot: read the table, pick the rows
 * and columns to plot, write the gnuplot script, run gnuplot.
 *
 * The pipeline is plot_table_read -> plot_select -> plot_draw. Every step
 * returns 0 or a status from sim/error.h and, on failure, one line in `err`
 * for the CLI to print ("out/sweep.csv:7: ..."); nothing here prints or
 * exits. The CSV is RFC 4180 as `pvsim sweep` writes it (docs/plots.md):
 * a header row of column names, then rows with as many cells, quoted only
 * when a cell holds a comma, a quote or a line break. An empty cell means
 * the value is absent. Input is bounded: PLOT_MAX_FILE bytes in all,
 * PLOT_MAX_LINE bytes per row and PLOT_MAX_CELLS cells.
 */
#ifndef PVSIM_SIM_PLOT_H
#define PVSIM_SIM_PLOT_H

#include <stddef.h>
#include <stdint.h>

#define PLOT_MAX_FILE (64u << 20)       /* bytes of CSV */
#define PLOT_MAX_LINE (1u << 20)        /* bytes in one row, quoted breaks included */
#define PLOT_MAX_CELLS (16u << 20)      /* header included */

/* A parsed CSV. Cells are unquoted and NUL-terminated inside `buf`; read
 * them with plot_cell(). Row 0 of `cells` is the header. */
typedef struct plot_table {
    char *name;                 /* the file's name, for messages */
    char *buf;
    uint32_t *cells;            /* offsets into buf, (nrows + 1) * ncols */
    uint32_t *lines;            /* CSV line on which each data row starts */
    size_t ncols, nrows;        /* nrows excludes the header */
} plot_table;

/* Parses `len` bytes of CSV text; `name` names it in messages. Blank lines
 * are skipped, a CR before a line end is dropped. Fills `t` (free it with
 * plot_table_free) and returns 0; or returns SIM_EINVAL (malformed: ragged
 * row, unterminated quote, no header, NUL byte), SIM_ELIMIT (a bound
 * passed) or SIM_ENOMEM, with `t` zeroed and the reason in `err`. */
int plot_table_parse(const char *text, size_t len, const char *name, plot_table *t, char *err,
                     size_t errlen);

/* Reads and parses the CSV file at `path`, as plot_table_parse; also
 * SIM_EIO when the file cannot be read, SIM_ELIMIT when it is larger than
 * PLOT_MAX_FILE. */
int plot_table_read(const char *path, plot_table *t, char *err, size_t errlen);

/* Frees what `t` holds and zeroes it; `t` may be zeroed already. */
void plot_table_free(plot_table *t);

/* Text of data row `row` (0-based, header excluded) in column `col`;
 * row == (size_t)-1 gives the column's name. Valid while `t` lives. */
const char *plot_cell(const plot_table *t, size_t row, size_t col);

/* Index of the first column named `name` in *col and 0; or SIM_ENOTFOUND
 * with "no column 'x' in FILE (did you mean 'y'?)" in err, the hint naming
 * the nearest column when one is close. */
int plot_column(const plot_table *t, const char *name, size_t *col, char *err,
                size_t errlen);

/* --where COL=VALUE: keep rows whose COL is exactly VALUE. */
typedef struct plot_where {
    const char *col;
    const char *value;
} plot_where;

/* The most --y columns one plot draws. */
#define PLOT_MAX_Y 8

/* What to draw and where. Strings are borrowed. */
typedef struct plot_spec {
    const char *x;              /* column name */
    const char *y[PLOT_MAX_Y];  /* column names, y[0 .. ny) */
    size_t ny;                  /* 1 to PLOT_MAX_Y */
    const char *by;             /* grouping column; NULL: "variant" */
    const char *facet;          /* one panel per value of this column; NULL:
                                   one plot */
    const plot_where *where;
    size_t nwhere;
    int log_x, log_y;
    const char *title;          /* NULL: "<y quantity> vs <x quantity>" */
    const char *xlabel, *ylabel; /* NULL: from the columns (plot_axis_of) */
    const char *output;         /* .png or .svg */
    const char *gnuplot;        /* program to run; NULL: "gnuplot" on PATH */
} plot_spec;

typedef struct plot_point {
    double x, y;
    double lower, upper;        /* the y's interval; both y without one */
    uint32_t line;              /* the CSV line of its row */
} plot_point;

/* One line of the plot: points[first .. first + n), sorted by x. */
typedef struct plot_series {
    const char *name;           /* the group's text, borrowed from the table */
    const char *facet;          /* its panel's value of s->facet, or NULL */
    size_t y;                   /* which of s->y it draws */
    size_t group;               /* its group's rank among all groups, by
                                   first appearance: its colour in every
                                   panel */
    int bounds;                 /* whether it has error bars: the CSV has
                                   "<y>.lower" and "<y>.upper" columns */
    size_t first, n;
} plot_series;

typedef struct plot_data {
    plot_point *points;
    size_t npoints;
    plot_series *series;        /* panel by panel (facet values by first
                                   appearance), then by y, then groups by
                                   first appearance */
    size_t nseries;
    size_t npanels;             /* 1 without a facet */
} plot_data;

/* Keeps the rows of `t` that match every where; for each value of
 * s->facet (or once) and each y, skips rows whose x or y cell is empty,
 * groups the rest by s->by and sorts each group by x. A y whose CSV has
 * "<y>.lower" and "<y>.upper" columns gets them as its points' bounds (an
 * empty bound is the y itself). Fills
 * `d` (free with plot_data_free; it borrows from `t`, so free it first)
 * and returns 0. Otherwise `d` is zeroed and the status is SIM_ENOTFOUND
 * (a column does not exist), SIM_EINVAL (a cell is not a number, a value
 * cannot go on a log scale, no row is left, two rows of a group share an
 * x) or SIM_ENOMEM, with the reason in `err`. */
int plot_select(const plot_table *t, const plot_spec *s, plot_data *d, char *err,
                size_t errlen);

/* Frees what `d` holds and zeroes it; `d` may be zeroed already. */
void plot_data_free(plot_data *d);

/* An axis as a reader of a paper expects it: the quantity a column holds
 * and its unit, and the divisor that takes the CSV's base units to it. */
typedef struct plot_axis {
    char quantity[160];         /* "p99 latency", "request size", "workers" */
    const char *unit;           /* "us", "KiB", "requests/s"; NULL: none */
    double divisor;             /* drawn value = CSV value / divisor */
} plot_axis;

/* The axis of column `col` from its dotted path (plot_label.c has the
 * rules: "*.latency_ns.p99" is "p99 latency" in us, a byte size is in KiB,
 * "*_cycles" stays in cycles, throughput in requests/s, or in MB/s or
 * GiB/s as `max`, the largest value drawn, suggests); any other column is
 * its last names with '_' as spaces, without a unit. Deterministic. */
void plot_axis_of(const char *col, double max, plot_axis *a);

/* "quantity (unit)", or the quantity alone, into `out`. */
void plot_axis_label(const plot_axis *a, char *out, size_t len);

/* The gnuplot terminal for `output` by its extension: "pngcairo" for .png,
 * "svg" for .svg (any case); NULL for anything else. */
const char *plot_terminal(const char *output);

/* The whole gnuplot script that draws `d` per `s` into `path` (normally a
 * temporary name for s->output, whose extension picks the terminal), with
 * the data inline as datablocks. Text from the CSV and the command line is
 * quoted for gnuplot and cleared of control characters. Returns a string
 * the caller frees, or NULL when memory is short or s->output has no
 * known extension. */
char *plot_script(const plot_spec *s, const plot_data *d, const char *path);

/* Draws `d` into s->output: runs gnuplot on the script through a pipe,
 * writing to a temporary file beside the output that is renamed over it
 * only when gnuplot succeeded and the image is not empty. Returns 0; or
 * SIM_ENOTFOUND when gnuplot is not installed, SIM_EINVAL for an output
 * with an unknown extension, SIM_EIO when gnuplot or a file operation
 * failed, SIM_ENOMEM; with the reason (gnuplot's own first message line
 * when it has one) in `err`. No temporary file is left behind. */
int plot_draw(const plot_spec *s, const plot_data *d, char *err, size_t errlen);

#endif
