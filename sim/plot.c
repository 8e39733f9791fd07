/*
 * plot.c -- the library half of `pvsim plot` (sim/plot.h): the CSV reader,
 * the row selection, the gnuplot script and the gnuplot child.
 *
 * Invariants: a table's cells live in one buffer no longer than the text
 * plus one byte (each cell's NUL takes its separator's place), so 32-bit
 * offsets reach every cell of a file under PLOT_MAX_FILE. A function that
 * fails leaves its output zeroed and one line in `err`. gnuplot reads the
 * script and the data through a pipe (inline datablocks), so the only file
 * written is the image, first under a temporary name beside it.
 */
#include "sim/plot.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/error.h"
#include "sim/nearest.h"

extern char **environ;

#define HEADER ((size_t)-1)             /* plot_cell's row for column names */
#define DEFAULT_BY "variant"

static int fail(char *err, size_t errlen, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Writes the message into err and returns `status`, so callers can
 * `return fail(...)`. */
static int fail(char *err, size_t errlen, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (errlen)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return status;
}

/* ---- reading the CSV ---------------------------------------------------- */

typedef struct parser {
    const char *in;
    size_t len, pos;
    plot_table *t;
    size_t w;                   /* next byte of t->buf to write */
    size_t ncells, cells_cap;
    size_t lines_cap;
    uint32_t line;              /* the line `pos` is on, from 1 */
    uint32_t row_line;          /* the line the current row started on */
    size_t row_end;             /* a row reaching this offset is too long */
    char *err;
    size_t errlen;
} parser;

/* `p` (an array of `size`-byte items) reallocated to twice *cap items, at
 * most `max`; NULL when memory is short, `p` then unchanged. */
static void *grow(void *p, size_t *cap, size_t size, size_t max)
{
    size_t n = *cap ? 2 * *cap : 256;
    if (n > max)
        n = max;
    void *q = realloc(p, n * size);
    if (q)
        *cap = n;
    return q;
}

static int out_of_memory(parser *p)
{
    return fail(p->err, p->errlen, SIM_ENOMEM, "out of memory reading %s", p->t->name);
}

static int push_cell(parser *p, size_t start)
{
    if (p->ncells == p->cells_cap) {
        if (p->cells_cap >= PLOT_MAX_CELLS)
            return fail(p->err, p->errlen, SIM_ELIMIT, "%s:%u: more than %u cells in the file",
                        p->t->name, (unsigned)p->row_line, PLOT_MAX_CELLS);
        uint32_t *cells = grow(p->t->cells, &p->cells_cap, sizeof *cells, PLOT_MAX_CELLS);
        if (!cells)
            return out_of_memory(p);
        p->t->cells = cells;
    }
    p->t->cells[p->ncells++] = (uint32_t)start;
    return 0;
}

static int push_row(parser *p)
{
    if (p->t->nrows == p->lines_cap) {
        uint32_t *lines = grow(p->t->lines, &p->lines_cap, sizeof *lines, PLOT_MAX_CELLS);
        if (!lines)
            return out_of_memory(p);
        p->t->lines = lines;
    }
    p->t->lines[p->t->nrows++] = p->row_line;
    return 0;
}

/* At "\n", "\r\n" or a "\r" that ends the text. */
static int at_line_end(const parser *p)
{
    if (p->pos >= p->len)
        return 0;
    char c = p->in[p->pos];
    return c == '\n' || (c == '\r' && (p->pos + 1 == p->len || p->in[p->pos + 1] == '\n'));
}

static int at_cell_end(const parser *p)
{
    return p->pos == p->len || p->in[p->pos] == ',' || at_line_end(p);
}

static void skip_line_end(parser *p)
{
    if (p->pos < p->len && p->in[p->pos] == '\r')
        p->pos++;
    if (p->pos < p->len && p->in[p->pos] == '\n')
        p->pos++;
    p->line++;
}

static int too_long(const parser *p, int in_quotes)
{
    return fail(p->err, p->errlen, SIM_ELIMIT, "%s:%u: a row longer than %u bytes%s",
                p->t->name, (unsigned)p->row_line, PLOT_MAX_LINE,
                in_quotes ? " (an unterminated quote?)" : "");
}

/* From the opening quote past the closing one: "" stands for one quote,
 * line breaks are part of the cell. */
static int quoted_cell(parser *p)
{
    uint32_t opened = p->line;
    p->pos++;
    for (;;) {
        if (p->pos >= p->len)
            return fail(p->err, p->errlen, SIM_EINVAL,
                        "%s:%u: unterminated quote (the file ends inside it)", p->t->name,
                        (unsigned)opened);
        if (p->pos >= p->row_end)
            return too_long(p, 1);
        char c = p->in[p->pos++];
        if (c == '"' && (p->pos == p->len || p->in[p->pos] != '"'))
            break;
        if (c == '"')
            p->pos++;
        else if (c == '\n')
            p->line++;
        p->t->buf[p->w++] = c;
    }
    if (!at_cell_end(p))
        return fail(p->err, p->errlen, SIM_EINVAL,
                    "%s:%u: text after a closing quote (double a quote inside a quoted cell)",
                    p->t->name, (unsigned)p->line);
    return 0;
}

static int plain_cell(parser *p)
{
    while (!at_cell_end(p)) {
        if (p->pos >= p->row_end)
            return too_long(p, 0);
        char c = p->in[p->pos++];
        if (c == '"')
            return fail(p->err, p->errlen, SIM_EINVAL,
                        "%s:%u: a quote inside an unquoted cell (quote the whole cell and "
                        "double the quote)",
                        p->t->name, (unsigned)p->line);
        p->t->buf[p->w++] = c;
    }
    return 0;
}

static int parse_cell(parser *p)
{
    size_t start = p->w;
    int quoted = p->pos < p->len && p->in[p->pos] == '"';
    int rc = quoted ? quoted_cell(p) : plain_cell(p);
    if (rc)
        return rc;
    p->t->buf[p->w++] = '\0';
    return push_cell(p, start);
}

/* One row through its line end; *count gets its number of cells. */
static int parse_row(parser *p, size_t *count)
{
    p->row_line = p->line;
    p->row_end = p->pos + PLOT_MAX_LINE;
    *count = 0;
    for (;;) {
        int rc = parse_cell(p);
        if (rc)
            return rc;
        ++*count;
        if (p->pos == p->len || p->in[p->pos] != ',')
            break;
        p->pos++;
    }
    skip_line_end(p);
    return 0;
}

static void skip_blank_lines(parser *p)
{
    while (at_line_end(p))
        skip_line_end(p);
}

static int parse_all(parser *p)
{
    plot_table *t = p->t;
    skip_blank_lines(p);
    if (p->pos == p->len)
        return fail(p->err, p->errlen, SIM_EINVAL, "%s: empty file, expected a header row",
                    t->name);
    int rc = parse_row(p, &t->ncols);
    for (skip_blank_lines(p); !rc && p->pos < p->len; skip_blank_lines(p)) {
        size_t n;
        rc = parse_row(p, &n);
        if (!rc && n != t->ncols)
            rc = fail(p->err, p->errlen, SIM_EINVAL, "%s:%u: %zu cells where the header has %zu",
                      t->name, (unsigned)p->row_line, n, t->ncols);
        if (!rc)
            rc = push_row(p);
    }
    return rc;
}

static unsigned line_of(const char *text, const char *at)
{
    unsigned line = 1;
    for (const char *c = text; c < at; c++)
        line += *c == '\n';
    return line;
}

int plot_table_parse(const char *text, size_t len, const char *name, plot_table *t, char *err,
                     size_t errlen)
{
    memset(t, 0, sizeof *t);
    if (len > PLOT_MAX_FILE)
        return fail(err, errlen, SIM_ELIMIT, "%s is larger than %u MiB", name,
                    PLOT_MAX_FILE >> 20);
    const char *nul = len ? memchr(text, '\0', len) : NULL;
    if (nul)
        return fail(err, errlen, SIM_EINVAL, "%s:%u: a NUL byte: not a text CSV", name,
                    line_of(text, nul));
    t->name = strdup(name);
    t->buf = malloc(len + 1);
    if (!t->name || !t->buf) {
        plot_table_free(t);
        return fail(err, errlen, SIM_ENOMEM, "out of memory reading %s", name);
    }
    parser p = {.in = text, .len = len, .t = t, .line = 1, .err = err, .errlen = errlen};
    if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
        p.pos = 3;              /* a UTF-8 byte order mark, as spreadsheets write */
    int rc = parse_all(&p);
    if (rc)
        plot_table_free(t);
    return rc;
}

/* The whole file into a new buffer, refusing more than PLOT_MAX_FILE
 * bytes whether or not the file can say its size. */
static int read_file(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return fail(err, errlen, SIM_EIO, "cannot read %s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (n == cap) {
            char *more = grow(buf, &cap, 1, (size_t)PLOT_MAX_FILE + 1);
            if (!more) {
                rc = fail(err, errlen, SIM_ENOMEM, "out of memory reading %s", path);
                break;
            }
            buf = more;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            rc = fail(err, errlen, SIM_EIO, "cannot read %s: %s", path, strerror(errno));
        else if (n + (size_t)r > PLOT_MAX_FILE)
            rc = fail(err, errlen, SIM_ELIMIT, "%s is larger than %u MiB", path,
                      PLOT_MAX_FILE >> 20);
        if (r <= 0 || rc)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (rc) {
        free(buf);
        return rc;
    }
    *text = buf;
    *len = n;
    return 0;
}

int plot_table_read(const char *path, plot_table *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    char *text = NULL;
    size_t len = 0;
    int rc = read_file(path, &text, &len, err, errlen);
    if (rc)
        return rc;
    rc = plot_table_parse(text, len, path, t, err, errlen);
    free(text);
    return rc;
}

void plot_table_free(plot_table *t)
{
    free(t->name);
    free(t->buf);
    free(t->cells);
    free(t->lines);
    memset(t, 0, sizeof *t);
}

const char *plot_cell(const plot_table *t, size_t row, size_t col)
{
    return t->buf + t->cells[(row + 1) * t->ncols + col];
}

/* ---- columns and did you mean ------------------------------------------- */

/* "size" is short for "guests.0.workload.size": a dotted path's tail. */
static int is_path_tail(const char *name, const char *word, size_t n)
{
    size_t m = strlen(name);
    return n > 0 && m > n && name[m - n - 1] == '.' && !strcmp(name + m - n, word);
}

/* The column a mistyped `word` most likely meant: the first whose dotted
 * tail it is, else the nearest within one edit per three characters;
 * NULL when none is close. */
static const char *nearest_column(const plot_table *t, const char *word)
{
    size_t n = strlen(word), best_d = SIZE_MAX;
    const char *best = NULL;
    for (size_t c = 0; c < t->ncols; c++)
        if (is_path_tail(plot_cell(t, HEADER, c), word, n))
            return plot_cell(t, HEADER, c);
    for (size_t c = 0; c < t->ncols; c++) {
        const char *name = plot_cell(t, HEADER, c);
        size_t d = near_distance(word, n, name, strlen(name));
        if (d != SIZE_MAX && 3 * d <= n && d < best_d) {
            best = name;
            best_d = d;
        }
    }
    return best;
}

int plot_column(const plot_table *t, const char *name, size_t *col, char *err, size_t errlen)
{
    /* The first of equal names: pvsim sweep writes the swept parameters
     * before the metrics, and a run's results may repeat a parameter. */
    for (size_t c = 0; c < t->ncols; c++) {
        if (!strcmp(plot_cell(t, HEADER, c), name)) {
            *col = c;
            return 0;
        }
    }
    const char *near = nearest_column(t, name);
    if (near)
        return fail(err, errlen, SIM_ENOTFOUND, "no column '%s' in %s (did you mean '%s'?)",
                    name, t->name, near);
    return fail(err, errlen, SIM_ENOTFOUND, "no column '%s' in %s", name, t->name);
}

/* ---- choosing the rows -------------------------------------------------- */

#define NO_COLUMN ((size_t)-1)

typedef struct columns {
    size_t x, by, facet;        /* facet: NO_COLUMN without --facet */
    size_t y[PLOT_MAX_Y];
    size_t lower[PLOT_MAX_Y], upper[PLOT_MAX_Y]; /* NO_COLUMN: no bounds */
    size_t *where;              /* one per s->where */
} columns;

typedef struct kept_row {
    double x, y, lower, upper;
    size_t row;
    const char *group;
} kept_row;

/* A group: kept[start .. start + n) once sorted, first seen at `first_row`. */
typedef struct group_run {
    size_t start, n, first_row;
} group_run;

/* A distinct cell of a column and where it first appears (or, once
 * ranked, its rank). */
typedef struct first_seen {
    const char *text;
    size_t row;
} first_seen;

/* One panel's rows for one y: the unit plot_select works in. */
typedef struct pass {
    const char *facet;          /* the panel's value; NULL: every row */
    size_t y;                   /* index into s->y */
} pass;

/* What plot_select works with, freed at its end. */
typedef struct selection {
    columns c;
    kept_row *kept;             /* a pass's rows, nrows of room */
    group_run *runs;            /* a pass's groups, nrows of room */
    first_seen *facets;         /* panel values by first appearance */
    first_seen *ranks;          /* groups by text, `row` holding their rank */
    size_t nfacets, ngroups, nmatched;
} selection;

static int find_column(const plot_table *t, const char *flag, const char *name, size_t *col,
                       char *err, size_t errlen)
{
    char why[768];
    int rc = plot_column(t, name, col, why, sizeof why);
    return rc ? fail(err, errlen, rc, "%s: %s", flag, why) : 0;
}

/* "<y>.lower" and "<y>.upper", when the CSV has both: y's error bars
 * (pvsim sweep writes them with replications, docs/sweeps.md). */
static void find_bounds(const plot_table *t, const char *y, size_t *lower, size_t *upper)
{
    char name[1024];
    size_t lo, up;
    *lower = *upper = NO_COLUMN;
    snprintf(name, sizeof name, "%s.lower", y);
    if (plot_column(t, name, &lo, NULL, 0))
        return;
    snprintf(name, sizeof name, "%s.upper", y);
    if (plot_column(t, name, &up, NULL, 0))
        return;
    *lower = lo;
    *upper = up;
}

static int resolve_columns(const plot_table *t, const plot_spec *s, columns *c, char *err,
                           size_t errlen)
{
    int rc = find_column(t, "--x", s->x, &c->x, err, errlen);
    for (size_t k = 0; !rc && k < s->ny; k++) {
        rc = find_column(t, "--y", s->y[k], &c->y[k], err, errlen);
        find_bounds(t, s->y[k], &c->lower[k], &c->upper[k]);
    }
    if (!rc)
        rc = find_column(t, "--by", s->by ? s->by : DEFAULT_BY, &c->by, err, errlen);
    c->facet = NO_COLUMN;
    if (!rc && s->facet)
        rc = find_column(t, "--facet", s->facet, &c->facet, err, errlen);
    if (rc || !s->nwhere)
        return rc;
    c->where = malloc(s->nwhere * sizeof *c->where);
    if (!c->where)
        return fail(err, errlen, SIM_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < s->nwhere; i++)
        rc = find_column(t, "--where", s->where[i].col, &c->where[i], err, errlen);
    return rc;
}

static int row_matches(const plot_table *t, const plot_spec *s, const columns *c, size_t row)
{
    for (size_t i = 0; i < s->nwhere; i++)
        if (strcmp(plot_cell(t, row, c->where[i]), s->where[i].value))
            return 0;
    return 1;
}

/* Plain decimal text only: strtod would also take "nan", "inf", hex and
 * leading blanks. */
static int parse_number(const char *s, double *v)
{
    if (!*s || strspn(s, "0123456789+-.eE") != strlen(s))
        return -1;
    char *end;
    double d = strtod(s, &end);
    if (*end || !isfinite(d))
        return -1;
    *v = d;
    return 0;
}

static int cell_value(const plot_table *t, size_t row, size_t col, int log_axis, char axis,
                      double *v, char *err, size_t errlen)
{
    const char *text = plot_cell(t, row, col);
    const char *name = plot_cell(t, HEADER, col);
    unsigned line = t->lines[row];
    if (parse_number(text, v))
        return fail(err, errlen, SIM_EINVAL, "%s:%u: %c column '%s' holds '%.40s', not a number",
                    t->name, line, axis, name, text);
    if (log_axis && !(*v > 0))
        return fail(err, errlen, SIM_EINVAL,
                    "%s:%u: --log-%c needs values > 0, and '%s' is %s on this row", t->name,
                    line, axis, name, text);
    return 0;
}

/* The y's interval on `row`: its bound cells, or y itself where they are
 * empty or the CSV has none. Bounds may be <= 0 on a log axis: gnuplot
 * clips such a bar, and the point itself is checked. */
static int row_bounds(const plot_table *t, size_t row, size_t lower, size_t upper,
                      kept_row *k, char *err, size_t errlen)
{
    int rc = 0;
    k->lower = k->upper = k->y;
    if (lower == NO_COLUMN)
        return 0;
    if (*plot_cell(t, row, lower))
        rc = cell_value(t, row, lower, 0, 'y', &k->lower, err, errlen);
    if (!rc && *plot_cell(t, row, upper))
        rc = cell_value(t, row, upper, 0, 'y', &k->upper, err, errlen);
    return rc;
}

static int in_pass(const plot_table *t, const plot_spec *s, const columns *c, const pass *p,
                   size_t row)
{
    return row_matches(t, s, c, row) &&
           (!p->facet || !strcmp(plot_cell(t, row, c->facet), p->facet));
}

/* The pass's rows that have both values, in file order, into sel->kept. */
static int collect_rows(const plot_table *t, const plot_spec *s, selection *sel,
                        const pass *p, size_t *nkept, char *err, size_t errlen)
{
    const columns *c = &sel->c;
    size_t yc = c->y[p->y];
    for (size_t r = 0; r < t->nrows; r++) {
        if (!in_pass(t, s, c, p, r))
            continue;
        sel->nmatched++;
        if (!*plot_cell(t, r, c->x) || !*plot_cell(t, r, yc))
            continue;           /* an empty cell is an absent value */
        kept_row *k = &sel->kept[*nkept];
        int rc = cell_value(t, r, c->x, s->log_x, 'x', &k->x, err, errlen);
        if (!rc)
            rc = cell_value(t, r, yc, s->log_y, 'y', &k->y, err, errlen);
        if (!rc)
            rc = row_bounds(t, r, c->lower[p->y], c->upper[p->y], k, err, errlen);
        if (rc)
            return rc;
        k->row = r;
        k->group = plot_cell(t, r, c->by);
        ++*nkept;
    }
    return 0;
}

static int nothing_left(const plot_table *t, const plot_spec *s, size_t nmatched, char *err,
                        size_t errlen)
{
    if (!t->nrows)
        return fail(err, errlen, SIM_EINVAL, "%s has a header but no rows", t->name);
    if (!nmatched && s->nwhere == 1)
        return fail(err, errlen, SIM_EINVAL, "no rows left after --where: no row of %s has %s=%s",
                    t->name, s->where[0].col, s->where[0].value);
    if (!nmatched)
        return fail(err, errlen, SIM_EINVAL,
                    "no rows left after --where: no row of %s matches all %zu of them", t->name,
                    s->nwhere);
    return fail(err, errlen, SIM_EINVAL,
                "no row of %s has both '%s' and '%s' (an empty cell is an absent value)",
                t->name, s->x, s->y[0]);
}

static int by_group_x_row(const void *a, const void *b)
{
    const kept_row *p = a, *q = b;
    int c = strcmp(p->group, q->group);
    if (c)
        return c;
    if (p->x != q->x)
        return p->x < q->x ? -1 : 1;
    return (p->row > q->row) - (p->row < q->row);
}

static int by_first_row(const void *a, const void *b)
{
    const group_run *p = a, *q = b;
    return (p->first_row > q->first_row) - (p->first_row < q->first_row);
}

static int by_text_row(const void *a, const void *b)
{
    const first_seen *p = a, *q = b;
    int c = strcmp(p->text, q->text);
    return c ? c : (p->row > q->row) - (p->row < q->row);
}

static int by_row(const void *a, const void *b)
{
    const first_seen *p = a, *q = b;
    return (p->row > q->row) - (p->row < q->row);
}

/* The distinct cells of column `col` among the rows that pass every
 * --where, in order of first appearance; NULL when memory is short. */
static first_seen *distinct_cells(const plot_table *t, const plot_spec *s, const columns *c,
                                  size_t col, size_t *n)
{
    first_seen *v = malloc((t->nrows ? t->nrows : 1) * sizeof *v);
    size_t m = 0, u = 0;
    if (!v)
        return NULL;
    for (size_t r = 0; r < t->nrows; r++)
        if (row_matches(t, s, c, r))
            v[m++] = (first_seen){plot_cell(t, r, col), r};
    qsort(v, m, sizeof *v, by_text_row);
    for (size_t i = 0; i < m; i++)
        if (u == 0 || strcmp(v[i].text, v[u - 1].text))
            v[u++] = v[i];
    qsort(v, u, sizeof *v, by_row);
    *n = u;
    return v;
}

/* Every group's rank by first appearance, sorted by text for group_rank,
 * so a group keeps its colour in every panel and for every y. */
static first_seen *rank_groups(const plot_table *t, const plot_spec *s, const columns *c,
                               size_t *n)
{
    first_seen *v = distinct_cells(t, s, c, c->by, n);
    for (size_t i = 0; v && i < *n; i++)
        v[i].row = i;
    if (v)
        qsort(v, *n, sizeof *v, by_text_row);
    return v;
}

static size_t group_rank(const selection *sel, const char *name)
{
    size_t lo = 0, hi = sel->ngroups;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(sel->ranks[mid].text, name);
        if (!c)
            return sel->ranks[mid].row;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;                   /* unreachable: every group was ranked */
}

/* Splits kept rows, sorted by group then x, into groups. Two rows of a
 * group with the same x are an error, since a line cannot go through both;
 * of several such pairs the one whose second row comes first in the file
 * is named. */
static int split_groups(const plot_table *t, const columns *c, const kept_row *k, size_t nk,
                        group_run *runs, size_t *nruns, char *err, size_t errlen)
{
    size_t n = 0, dup = 0;
    for (size_t i = 0; i < nk; i++) {
        if (i == 0 || strcmp(k[i].group, k[i - 1].group)) {
            runs[n++] = (group_run){i, 1, k[i].row};
            continue;
        }
        if (k[i].x == k[i - 1].x && (!dup || k[i].row < k[dup].row))
            dup = i;
        group_run *g = &runs[n - 1];
        g->n++;
        if (k[i].row < g->first_row)
            g->first_row = k[i].row;
    }
    *nruns = n;
    if (!dup)
        return 0;
    return fail(err, errlen, SIM_EINVAL,
                "%s: lines %u and %u share x=%s in group '%s': add --where or --by", t->name,
                (unsigned)t->lines[k[dup - 1].row], (unsigned)t->lines[k[dup].row],
                plot_cell(t, k[dup - 1].row, c->x), k[dup].group);
}

/* The pass's groups in order of first appearance, appended to `d` as
 * series. */
static void append_series(const plot_table *t, const selection *sel, const pass *p,
                          size_t nruns, plot_data *d)
{
    const kept_row *k = sel->kept;
    qsort(sel->runs, nruns, sizeof *sel->runs, by_first_row);
    for (size_t g = 0; g < nruns; g++) {
        const group_run *run = &sel->runs[g];
        const char *name = k[run->start].group;
        d->series[d->nseries++] = (plot_series){
            .name = name, .facet = p->facet, .y = p->y, .group = group_rank(sel, name),
            .bounds = sel->c.lower[p->y] != NO_COLUMN, .first = d->npoints, .n = run->n};
        for (size_t i = run->start; i < run->start + run->n; i++)
            d->points[d->npoints++] =
                (plot_point){k[i].x, k[i].y, k[i].lower, k[i].upper, t->lines[k[i].row]};
    }
}

static int select_pass(const plot_table *t, const plot_spec *s, selection *sel, const pass *p,
                       plot_data *d, char *err, size_t errlen)
{
    size_t nkept = 0, nruns = 0;
    int rc = collect_rows(t, s, sel, p, &nkept, err, errlen);
    if (rc || !nkept)
        return rc;
    qsort(sel->kept, nkept, sizeof *sel->kept, by_group_x_row);
    rc = split_groups(t, &sel->c, sel->kept, nkept, sel->runs, &nruns, err, errlen);
    if (!rc)
        append_series(t, sel, p, nruns, d);
    return rc;
}

/* Room for every pass: a row gives a point per y at most. */
static int prepare(const plot_table *t, const plot_spec *s, selection *sel, plot_data *d)
{
    size_t rows = t->nrows ? t->nrows : 1;
    sel->kept = malloc(rows * sizeof *sel->kept);
    sel->runs = malloc(rows * sizeof *sel->runs);
    d->points = malloc(rows * s->ny * sizeof *d->points);
    d->series = malloc(rows * s->ny * sizeof *d->series);
    sel->ranks = rank_groups(t, s, &sel->c, &sel->ngroups);
    if (s->facet)
        sel->facets = distinct_cells(t, s, &sel->c, sel->c.facet, &sel->nfacets);
    else if ((sel->facets = malloc(sizeof *sel->facets)))
        *sel->facets = (first_seen){NULL, 0};
    if (!s->facet)
        sel->nfacets = 1;
    return sel->kept && sel->runs && d->points && d->series && sel->ranks && sel->facets
               ? 0
               : SIM_ENOMEM;
}

int plot_select(const plot_table *t, const plot_spec *s, plot_data *d, char *err,
                size_t errlen)
{
    memset(d, 0, sizeof *d);
    selection sel = {0};
    int rc = s->ny >= 1 && s->ny <= PLOT_MAX_Y
                 ? resolve_columns(t, s, &sel.c, err, errlen)
                 : fail(err, errlen, SIM_EINVAL, "1 to %d y columns, not %zu", PLOT_MAX_Y, s->ny);
    if (!rc && prepare(t, s, &sel, d))
        rc = fail(err, errlen, SIM_ENOMEM, "out of memory");
    for (size_t f = 0; !rc && f < sel.nfacets; f++)
        for (size_t k = 0; !rc && k < s->ny; k++)
            rc = select_pass(t, s, &sel, &(pass){sel.facets[f].text, k}, d, err, errlen);
    if (!rc && !d->npoints)
        rc = nothing_left(t, s, sel.nmatched, err, errlen);
    d->npanels = sel.nfacets;
    if (rc)
        plot_data_free(d);
    free(sel.c.where);
    free(sel.kept);
    free(sel.runs);
    free(sel.facets);
    free(sel.ranks);
    return rc;
}

void plot_data_free(plot_data *d)
{
    free(d->points);
    free(d->series);
    memset(d, 0, sizeof *d);
}

/* ---- the gnuplot script ------------------------------------------------- */

const char *plot_terminal(const char *output)
{
    const char *dot = output ? strrchr(output, '.') : NULL;
    if (!dot || dot == output || dot[-1] == '/')
        return NULL;
    if (!strcasecmp(dot, ".png"))
        return "pngcairo";
    if (!strcasecmp(dot, ".svg"))
        return "svg";
    return NULL;
}

/* A growing string; after a failed allocation every append is dropped and
 * `oom` stays set. */
typedef struct text_buf {
    char *s;
    size_t len, cap;
    int oom;
} text_buf;

static int tb_reserve(text_buf *b, size_t more)
{
    if (b->oom)
        return -1;
    if (b->len + more < b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap <= b->len + more)
        cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) {
        b->oom = 1;
        return -1;
    }
    b->s = s;
    b->cap = cap;
    return 0;
}

static void tb_printf(text_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void tb_printf(text_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || tb_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* `text` inside a single-quoted gnuplot string: a quote is doubled, and a
 * control character (a line break would end the command) becomes a space. */
static void tb_quoted_body(text_buf *b, const char *text)
{
    if (tb_reserve(b, 2 * strlen(text)))
        return;
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        if (*c == '\'')
            b->s[b->len++] = '\'';
        b->s[b->len++] = *c < 0x20 || *c == 0x7f ? ' ' : (char)*c;
    }
    b->s[b->len] = '\0';
}

/* `command 'text'` and a line break. */
static void tb_command(text_buf *b, const char *command, const char *text)
{
    tb_printf(b, "%s '", command);
    tb_quoted_body(b, text);
    tb_printf(b, "'\n");
}

/* The labels and divisors of one figure, worked out once from the spec
 * and the data. */
typedef struct figure {
    plot_axis x, y[PLOT_MAX_Y], by, facet;
    char xlabel[256], ylabel[512], title[512];
    char what[256];             /* what the y axis shows, without a unit */
    size_t cols, rows;          /* the panels' layout */
} figure;

/* The largest value drawn for y `k` (bounds included), for units that
 * depend on magnitude. */
static double y_max(const plot_data *d, size_t k)
{
    double max = 0;
    for (size_t g = 0; g < d->nseries; g++) {
        if (d->series[g].y != k)
            continue;
        const plot_point *p = d->points + d->series[g].first;
        for (size_t i = 0; i < d->series[g].n; i++)
            max = fmax(max, fmax(p[i].y, p[i].upper));
    }
    return max;
}

static const char *last_word(const char *s)
{
    const char *sp = strrchr(s, ' ');
    return sp ? sp + 1 : s;
}

static int same_unit(const plot_axis *a, const plot_axis *b)
{
    return a->unit == b->unit || (a->unit && b->unit && !strcmp(a->unit, b->unit));
}

/* One y: its label. Several: "<what they share> (<unit>)" when they have
 * one unit and one last word ("mean latency", "p99 latency" give
 * "latency (us)"), else their labels joined by commas. */
static void y_label(const plot_spec *s, figure *f)
{
    const plot_axis *y = f->y;
    int shared = 1;
    for (size_t k = 1; k < s->ny; k++)
        shared &= same_unit(&y[k], &y[0]) &&
                  !strcmp(last_word(y[k].quantity), last_word(y[0].quantity));
    if (shared) {
        plot_axis common = y[0];
        snprintf(common.quantity, sizeof common.quantity, "%s",
                 s->ny > 1 ? last_word(y[0].quantity) : y[0].quantity);
        snprintf(f->what, sizeof f->what, "%s", common.quantity);
        plot_axis_label(&common, f->ylabel, sizeof f->ylabel);
        return;
    }
    f->ylabel[0] = f->what[0] = '\0';
    for (size_t k = 0; k < s->ny; k++) {
        char one[200];
        size_t used = strlen(f->ylabel), wused = strlen(f->what);
        plot_axis_label(&y[k], one, sizeof one);
        snprintf(f->ylabel + used, sizeof f->ylabel - used, "%s%s", k ? ", " : "", one);
        snprintf(f->what + wused, sizeof f->what - wused, "%s%s", k ? ", " : "",
                 y[k].quantity);
    }
}

static void figure_of(const plot_spec *s, const plot_data *d, figure *f)
{
    double xmax = 0;
    for (size_t i = 0; i < d->npoints; i++)
        xmax = fmax(xmax, d->points[i].x);
    plot_axis_of(s->x, xmax, &f->x);
    for (size_t k = 0; k < s->ny; k++)
        plot_axis_of(s->y[k], y_max(d, k), &f->y[k]);
    plot_axis_of(s->by ? s->by : DEFAULT_BY, 0, &f->by);
    plot_axis_of(s->facet ? s->facet : DEFAULT_BY, 0, &f->facet);
    plot_axis_label(&f->x, f->xlabel, sizeof f->xlabel);
    y_label(s, f);
    snprintf(f->title, sizeof f->title, "%s vs %s", f->what, f->x.quantity);
    if (s->xlabel)
        snprintf(f->xlabel, sizeof f->xlabel, "%s", s->xlabel);
    if (s->ylabel)
        snprintf(f->ylabel, sizeof f->ylabel, "%s", s->ylabel);
    if (s->title)
        snprintf(f->title, sizeof f->title, "%s", s->title);
    /* Up to three panels side by side, more in a near-square grid. */
    size_t n = d->npanels ? d->npanels : 1;
    f->cols = n <= 3 ? n : (size_t)ceil(sqrt((double)n));
    f->rows = (n + f->cols - 1) / f->cols;
}

static void script_settings(text_buf *b, const plot_spec *s, const figure *f,
                            const char *path)
{
    unsigned w = f->cols == 1 ? 960 : 560 * (unsigned)f->cols;
    unsigned h = f->rows == 1 ? 600 : 420 * (unsigned)f->rows;
    if (!strcmp(plot_terminal(s->output), "svg"))
        tb_printf(b, "set terminal svg noenhanced size %u,%u dynamic background '#ffffff'\n", w,
                  h);
    else
        tb_printf(b, "set terminal pngcairo noenhanced size %u,%u\n", w, h);
    tb_command(b, "set output", path);
    if (!s->facet)
        tb_command(b, "set title", f->title);
    tb_command(b, "set xlabel", f->xlabel);
    tb_command(b, "set ylabel", f->ylabel);
    /* Panels are narrow: their key goes inside the first one only (a
     * group has one colour in all of them), top left, where latency and
     * size curves rarely run. */
    tb_command(b, s->facet ? "set key inside left top opaque box title"
                           : "set key outside right top title",
               f->by.quantity);
    tb_printf(b, "set grid\n");
    /* x spans the data with a small margin, not to the next round tics: on
     * a log axis, sizes from 0.5 to 1024 KiB would be drawn from 0.1 to
     * 10000. */
    tb_printf(b, "set autoscale xfix\nset offsets graph 0.03, graph 0.03, 0, 0\n");
    if (s->log_x)
        tb_printf(b, "set logscale x\n");
    if (s->log_y)
        tb_printf(b, "set logscale y\n");
}

static void script_data(text_buf *b, const plot_data *d)
{
    for (size_t g = 0; g < d->nseries; g++) {
        const plot_series *se = &d->series[g];
        const plot_point *p = d->points + se->first;
        tb_printf(b, "$d%zu << EOD\n", g);
        for (size_t i = 0; i < se->n; i++) {
            tb_printf(b, "%.17g %.17g", p[i].x, p[i].y);
            if (se->bounds)
                tb_printf(b, " %.17g %.17g", p[i].lower, p[i].upper);
            tb_printf(b, "\n");
        }
        tb_printf(b, "EOD\n");
    }
}

/* Column `col` of a datablock in the axis' unit: "2" or "($2/1000)". */
static void tb_column(text_buf *b, size_t col, const plot_axis *a)
{
    if (a->divisor == 1)
        tb_printf(b, "%zu", col);
    else
        tb_printf(b, "($%zu/%.17g)", col, a->divisor);
}

/* "using ... with ..." for series `se`: error bars when it has bounds;
 * its group's colour, and a dash per y when there are several. */
static void series_style(text_buf *b, const plot_spec *s, const figure *f,
                         const plot_series *se)
{
    const plot_axis *y = &f->y[se->y];
    tb_printf(b, " using ");
    tb_column(b, 1, &f->x);
    for (size_t col = 2; col <= (se->bounds ? 4u : 2u); col++) {
        tb_printf(b, ":");
        tb_column(b, col, y);
    }
    tb_printf(b, " with %s linetype %zu", se->bounds ? "yerrorlines" : "linespoints",
              se->group + 1);
    if (s->ny > 1)
        tb_printf(b, " dashtype %zu", se->y + 1);
}

/* The key's text of a series: its group, and with several y which y. */
static void series_title(text_buf *b, const plot_spec *s, const figure *f,
                         const plot_series *se)
{
    tb_printf(b, " title '");
    tb_quoted_body(b, *se->name ? se->name : "(empty)");
    if (s->ny > 1) {
        tb_printf(b, ", ");
        tb_quoted_body(b, f->y[se->y].quantity);
    }
    tb_printf(b, "'");
}

/* A panel's title: "<facet> = <value>", the value in the facet's unit
 * when it has one and is a number. */
static void panel_title(text_buf *b, const figure *f, const char *value)
{
    double v;
    tb_printf(b, "set title '");
    tb_quoted_body(b, f->facet.quantity);
    tb_printf(b, " = ");
    if (f->facet.unit && !parse_number(value, &v))
        tb_printf(b, "%.6g %s", v / f->facet.divisor, f->facet.unit);
    else
        tb_quoted_body(b, value);
    tb_printf(b, "'\n");
}

/* One `plot` command per panel; the series of a panel are consecutive. */
static void script_plot(text_buf *b, const plot_spec *s, const figure *f, const plot_data *d)
{
    if (s->facet) {
        tb_printf(b, "set multiplot layout %zu,%zu title '", f->rows, f->cols);
        tb_quoted_body(b, f->title);
        tb_printf(b, "'\n");
    }
    for (size_t g = 0; g < d->nseries; g++) {
        const plot_series *se = &d->series[g];
        int first = g == 0 || se->facet != d->series[g - 1].facet;
        if (first && g)
            tb_printf(b, "\n%s", s->facet && d->series[g - 1].facet == d->series[0].facet
                                      ? "unset key\n"
                                      : "");
        if (first && s->facet)
            panel_title(b, f, se->facet);
        tb_printf(b, first ? "plot " : ", \\\n     ");
        tb_printf(b, "$d%zu", g);
        series_style(b, s, f, se);
        series_title(b, s, f, se);
    }
    tb_printf(b, "\n%sunset output\n", s->facet ? "unset multiplot\n" : "");
}

char *plot_script(const plot_spec *s, const plot_data *d, const char *path)
{
    if (!plot_terminal(s->output))
        return NULL;
    figure f;
    figure_of(s, d, &f);
    text_buf b = {0};
    tb_printf(&b, "set encoding utf8\n");
    script_settings(&b, s, &f, path);
    script_data(&b, d);
    script_plot(&b, s, &f, d);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

/* ---- running gnuplot ---------------------------------------------------- */

/* The last bytes gnuplot printed: its error, if any, comes last. */
typedef struct output_tail {
    char text[1024];
    size_t len;
} output_tail;

static void tail_add(output_tail *t, const char *buf, size_t n)
{
    size_t cap = sizeof t->text - 1;
    if (n > cap) {
        buf += n - cap;
        n = cap;
    }
    if (t->len + n > cap) {
        size_t drop = t->len + n - cap;
        memmove(t->text, t->text + drop, t->len - drop);
        t->len -= drop;
    }
    memcpy(t->text + t->len, buf, n);
    t->len += n;
    t->text[t->len] = '\0';
}

/* The last non-blank line, without its leading blanks ("" if none). */
static const char *tail_last_line(output_tail *t)
{
    char *end = t->text + t->len;
    while (end > t->text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
        end--;
    *end = '\0';
    char *start = end;
    while (start > t->text && start[-1] != '\n')
        start--;
    return start + strspn(start, " \t");
}

/* Feeds `script` to the child on `to` while reading what it prints on
 * `from` into `t`, so neither side can block the other on a full pipe.
 * Closes both. A gnuplot that stops at an error closes its end early; the
 * write then fails with EPIPE rather than killing pvsim with SIGPIPE. */
static void converse(int to, int from, const char *script, output_tail *t)
{
    size_t len = strlen(script), done = 0;
    struct sigaction ignore = {.sa_handler = SIG_IGN}, old;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGPIPE, &ignore, &old);
    fcntl(to, F_SETFL, O_NONBLOCK);
    while (to >= 0 || from >= 0) {
        struct pollfd fds[2] = {{.fd = to, .events = POLLOUT}, {.fd = from, .events = POLLIN}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (to >= 0 && fds[0].revents) {
            ssize_t w = write(to, script + done, len - done);
            done += w > 0 ? (size_t)w : 0;
            if (done == len || (w < 0 && errno != EAGAIN && errno != EINTR)) {
                close(to);
                to = -1;
            }
        }
        if (from >= 0 && fds[1].revents) {
            char buf[512];
            ssize_t r = read(from, buf, sizeof buf);
            if (r > 0)
                tail_add(t, buf, (size_t)r);
            else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
                close(from);
                from = -1;
            }
        }
    }
    if (to >= 0)
        close(to);
    if (from >= 0)
        close(from);
    sigaction(SIGPIPE, &old, NULL);
}

/* `prog` with stdin from `in` and stdout and stderr to `out`; 0 or an errno
 * (ENOENT when the program is not on PATH). */
static int spawn(const char *prog, int in, int out, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    int rc = posix_spawn_file_actions_init(&fa);
    if (rc)
        return rc;
    rc = posix_spawn_file_actions_adddup2(&fa, in, STDIN_FILENO);
    if (!rc)
        rc = posix_spawn_file_actions_adddup2(&fa, out, STDOUT_FILENO);
    if (!rc)
        rc = posix_spawn_file_actions_adddup2(&fa, out, STDERR_FILENO);
    char *argv[] = {(char *)prog, NULL};
    if (!rc)
        rc = posix_spawnp(pid, prog, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}

static int not_found(const char *prog, char *err, size_t errlen)
{
    return fail(err, errlen, SIM_ENOTFOUND, "%s not found: install gnuplot-nox", prog);
}

/* Runs `prog` on `script` and waits for it; 0 when it exited with 0. */
static int run_gnuplot(const char *prog, const char *script, char *err, size_t errlen)
{
    int in[2], out[2];
    if (pipe(in))
        return fail(err, errlen, SIM_EIO, "cannot run %s: %s", prog, strerror(errno));
    if (pipe(out)) {
        int e = errno;
        close(in[0]);
        close(in[1]);
        return fail(err, errlen, SIM_EIO, "cannot run %s: %s", prog, strerror(e));
    }
    /* The child keeps only the copies spawn() puts on 0, 1 and 2. */
    for (int i = 0; i < 2; i++) {
        fcntl(in[i], F_SETFD, FD_CLOEXEC);
        fcntl(out[i], F_SETFD, FD_CLOEXEC);
    }
    pid_t pid;
    int rc = spawn(prog, in[0], out[1], &pid);
    close(in[0]);
    close(out[1]);
    if (rc) {
        close(in[1]);
        close(out[0]);
        return rc == ENOENT ? not_found(prog, err, errlen)
                            : fail(err, errlen, SIM_EIO, "cannot run %s: %s", prog, strerror(rc));
    }
    output_tail said = {{0}, 0};
    converse(in[1], out[0], script, &said);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return fail(err, errlen, SIM_EIO, "cannot wait for %s: %s", prog, strerror(errno));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && !said.len)
        return not_found(prog, err, errlen);    /* a shell-like exec failure */
    if (WIFSIGNALED(status))
        return fail(err, errlen, SIM_EIO, "%s was killed by signal %d", prog, WTERMSIG(status));
    const char *why = tail_last_line(&said);
    return fail(err, errlen, SIM_EIO, "%s failed (exit %d)%s%s", prog, WEXITSTATUS(status),
                *why ? ": " : "", why);
}

/* Creates a new empty file beside `path` (path.tmpXXXXXX) with the
 * permissions the umask gives a new file; its name, which the caller
 * frees, goes in *tmp. */
static int temp_beside(const char *path, char **tmp, char *err, size_t errlen)
{
    size_t n = strlen(path) + 16;
    char *name = malloc(n);
    if (!name)
        return fail(err, errlen, SIM_ENOMEM, "out of memory");
    snprintf(name, n, "%s.tmpXXXXXX", path);
    int fd = mkstemp(name);
    if (fd < 0) {
        free(name);
        return fail(err, errlen, SIM_EIO, "cannot write %s: %s", path, strerror(errno));
    }
    /* mkstemp makes the file 0600; an image is shared like any other. */
    mode_t mask = umask(0);
    umask(mask);
    int rc = fchmod(fd, 0666 & ~mask);
    close(fd);
    if (rc != 0) {
        int e = errno;
        unlink(name);
        free(name);
        return fail(err, errlen, SIM_EIO, "cannot write %s: %s", path, strerror(e));
    }
    *tmp = name;
    return 0;
}

/* SIM_EIO unless `path` holds at least one byte. */
static int check_image(const char *prog, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0 || st.st_size == 0)
        return fail(err, errlen, SIM_EIO, "%s exited with 0 but wrote no image", prog);
    return 0;
}

int plot_draw(const plot_spec *s, const plot_data *d, char *err, size_t errlen)
{
    const char *prog = s->gnuplot ? s->gnuplot : "gnuplot";
    if (!plot_terminal(s->output))
        return fail(err, errlen, SIM_EINVAL, "%s: the image must be a .png or .svg file",
                    s->output ? s->output : "(no output)");
    char *tmp = NULL;
    int rc = temp_beside(s->output, &tmp, err, errlen);
    if (rc)
        return rc;
    char *script = plot_script(s, d, tmp);
    rc = script ? run_gnuplot(prog, script, err, errlen)
                    : fail(err, errlen, SIM_ENOMEM, "out of memory");
    if (!rc)
        rc = check_image(prog, tmp, err, errlen);
    if (!rc && rename(tmp, s->output) != 0)
        rc = fail(err, errlen, SIM_EIO, "cannot write %s: %s", s->output, strerror(errno));
    if (rc)
        unlink(tmp);
    free(script);
    free(tmp);
    return rc;
}
