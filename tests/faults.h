/*
 * faults.h -- an allocator that fails when told to, for the fault loops
 * (test_faults.c, test_faults_engine.c).
 *
 * A fault-loop executable is linked with -Wl,--wrap for malloc, calloc,
 * realloc, free, strdup and the libc calls that allocate for their caller
 * (fopen, open_memstream, realpath), and json_load_file (below;
 * tests/CMakeLists.txt), so every such
 * call pvsim's static libraries make goes through the wrappers below; the
 * setup routes Jansson's allocations to them with json_set_alloc_funcs.
 * libyaml's own allocations are not failed. Once armed, the wrappers
 * number the allocations from 0 and refuse the chosen one (or every one
 * from it on), and they count the blocks live in every build, so a loop
 * can prove that a failure point leaks nothing; the ASan build checks the
 * rest (use after free on a failure path).
 *
 * Header-only, and not static: include it in exactly one file of an
 * executable linked with those options.
 */
#ifndef PVSIM_TESTS_FAULTS_H
#define PVSIM_TESTS_FAULTS_H

#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void __real_free(void *p);
FILE *__real_fopen(const char *path, const char *mode);
FILE *__real_open_memstream(char **text, size_t *len);
char *__real_realpath(const char *path, char *resolved);
json_t *__real_json_load_file(const char *path, size_t flags, json_error_t *error);

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
void __wrap_free(void *p);
FILE *__wrap_fopen(const char *path, const char *mode);
FILE *__wrap_open_memstream(char **text, size_t *len);
char *__wrap_realpath(const char *path, char *resolved);
json_t *__wrap_json_load_file(const char *path, size_t flags, json_error_t *error);

static struct {
    bool armed;
    long made;                  /* allocations asked for since armed */
    long fail_at;               /* the one to refuse; -1: none */
    bool onwards;               /* refuse every one from fail_at on */
    long refused;
    long live;                  /* blocks handed out minus blocks freed */
} fault = {.fail_at = -1};

/* Whether the allocation being asked for is to fail. */
static bool refuse(void)
{
    if (!fault.armed)
        return false;
    long i = fault.made++;
    bool no = fault.fail_at >= 0 && (i == fault.fail_at || (fault.onwards && i > fault.fail_at));
    fault.refused += no;
    return no;
}

static void *counted(void *p)
{
    fault.live += p != NULL;
    return p;
}

void *__wrap_malloc(size_t n)
{
    return refuse() ? NULL : counted(__real_malloc(n));
}

void *__wrap_calloc(size_t n, size_t size)
{
    return refuse() ? NULL : counted(__real_calloc(n, size));
}

void *__wrap_realloc(void *p, size_t n)
{
    if (refuse())
        return NULL;
    void *q = __real_realloc(p, n);
    fault.live += !p && q;
    return q;
}

char *__wrap_strdup(const char *s)
{
    return refuse() ? NULL : counted(__real_strdup(s));
}

void __wrap_free(void *p)
{
    fault.live -= p != NULL;
    __real_free(p);
}

/* The calls below fail as glibc's do when memory is short. fopen's FILE
 * is libc's to free (fclose); open_memstream's buffer and realpath's
 * result are the caller's. */
FILE *__wrap_fopen(const char *path, const char *mode)
{
    if (refuse()) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_fopen(path, mode);
}

FILE *__wrap_open_memstream(char **text, size_t *len)
{
    if (refuse()) {
        errno = ENOMEM;
        return NULL;
    }
    return counted(__real_open_memstream(text, len));
}

char *__wrap_realpath(const char *path, char *resolved)
{
    if (refuse()) {
        errno = ENOMEM;
        return NULL;
    }
    char *r = __real_realpath(path, resolved);
    return resolved ? r : counted(r);
}

/* Jansson 2.14's parser ignores some of its failed allocations (a byte
 * it cannot append to a token is dropped, and the parse goes on), so a
 * file it reads is taken as one allocation: it fails whole, with the
 * error Jansson documents for that, or it runs with nothing refused. */
json_t *__wrap_json_load_file(const char *path, size_t flags, json_error_t *error)
{
    if (refuse()) {
        if (error) {
            memset(error, 0, sizeof *error);
            error->line = error->column = -1;
            snprintf(error->text, sizeof error->text - 1, "out of memory");
            error->text[JSON_ERROR_TEXT_LENGTH - 1] = (char)json_error_out_of_memory;
        }
        return NULL;
    }
    bool armed = fault.armed;
    fault.armed = false;
    json_t *doc = __real_json_load_file(path, flags, error);
    fault.armed = armed;
    return doc;
}

/* From now on, refuse allocation `fail_at` (counting from 0; -1: none),
 * or every one from it on. */
static inline void arm(long fail_at, bool onwards)
{
    fault.made = 0;
    fault.refused = 0;
    fault.fail_at = fail_at;
    fault.onwards = onwards;
    fault.armed = true;
}

/* Stops numbering and refusing; `fault` keeps the counts. */
static inline void disarm(void)
{
    fault.armed = false;
}

/* Numbers and refuses again, on from where disarm() stopped. */
static inline void rearm(void)
{
    fault.armed = true;
}

/* A suite's .init: Jansson allocates through the wrappers too. */
static inline void faults_setup(void)
{
    json_set_alloc_funcs(__wrap_malloc, __wrap_free);
}

/* Which failure points a loop tries: every `stride`th of the first `dense`,
 * then `spread` more evenly over the rest and the very last; then, for
 * every allocation from N on, `onwards` values of N spread over the
 * whole. */
typedef struct fault_sample {
    long dense, stride, spread, onwards;
} fault_sample;

/* The failure point after `n` of `total`. */
static inline long fault_next(long n, long total, const fault_sample *s)
{
    if (n < s->dense)
        return n + s->stride;
    long step = (total - s->dense) / (s->spread > 0 ? s->spread : 1);
    return n + (step > 1 ? step : 1);
}

#endif
