/*
 * system_parallel.c -- system_parallel.h: a run's jobs as a pool's jobs.
 *
 * The wire between a worker and the master is the sweep pool's: a job
 * number out, a text back. Here the text is the variant's object, dumped
 * compact with 17 significant digits (Jansson's default, which a parse
 * turns back into the same double), so merging replications in the master
 * gives the bytes of merging them in one process.
 */
#include "models/system_parallel.h"

#include <stdio.h>
#include <stdlib.h>

#include "sim/sweep_pool.h"

/* What the workers share (copied by fork) and the master fills. */
typedef struct parallel_run {
    const system_config *cfg;
    system_runner *runner;          /* each process's own after the fork */
    json_t **answers;               /* by job; the master's */
} parallel_run;

/* Worker side: one job, answered with its variant's text. */
static int run_job(const void *ctx, size_t job, char **text, char *err, size_t errlen)
{
    const parallel_run *pr = ctx;
    json_t *variant = NULL;
    int rc = system_run_job(pr->runner, job, NULL, NULL, &variant, err, errlen);
    if (rc)
        return rc;
    *text = json_dumps(variant, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(variant);
    if (!*text) {
        snprintf(err, errlen, "out of memory");
        return SIM_ENOMEM;
    }
    return 0;
}

/* Master side: keeps job `job`'s variant, parsed. */
static int take_job(void *ctx, size_t job, const char *text, char *err, size_t errlen)
{
    parallel_run *pr = ctx;
    json_error_t jerr;
    pr->answers[job] = json_loads(text, 0, &jerr);
    if (!pr->answers[job]) {
        snprintf(err, errlen, "job %zu: unreadable answer: %s", job, jerr.text);
        return SIM_EIO;
    }
    return 0;
}

/* A job's group: its replication, whose aged memory a worker keeps. */
static size_t replication_of(void *ctx, size_t job)
{
    const parallel_run *pr = ctx;
    return job / pr->cfg->nvariants;
}

/* The pool: in this process for one worker, else forked. */
static swp_pool *make_pool(const system_parallel *o, const swp_jobs *j, char *err,
                           size_t errlen)
{
    int n = o->workers;
    if ((size_t)n > j->njobs)
        n = (int)j->njobs;
    if (n > 1 || o->fresh)
        return swp_pool_fork_jobs(j, n, err, errlen);
    swp_pool *p = swp_pool_inline_jobs(j);
    if (!p)
        snprintf(err, errlen, "out of memory");
    return p;
}

/* Hands every job out, a replication's to the worker that holds its
 * memory when it can, and waits for the answers; the status of the run as
 * system_run_parallel() gives it. */
static int run_all(parallel_run *pr, const system_parallel *o, const swp_jobs *j, char *err,
                   size_t errlen)
{
    size_t *todo = malloc(j->njobs * sizeof *todo);
    swp_pool *pool = todo ? make_pool(o, j, err, errlen) : NULL;
    if (!pool) {
        free(todo);
        return todo ? SIM_EIO : SIM_ENOMEM;
    }
    for (size_t i = 0; i < j->njobs; i++)
        todo[i] = i;
    swp_master m = {.pool = pool, .todo = todo, .ntodo = j->njobs, .stop = o->stop,
                    .first_failure_ends = 1, .take = take_job, .ctx = pr,
                    .group = replication_of, .progress = o->progress,
                    .progress_ctx = o->ctx};
    swp_outcome out;
    int rc = swp_run_jobs(&m, &out, err, errlen);
    pool->close(pool);
    free(todo);
    if (rc == 0 && out.failed) {
        /* A job's own error names it; a dead worker's does not. */
        char job[256] = "";
        if (out.workers_lost)
            system_job_name(pr->cfg, out.shown[0].point, job, sizeof job);
        snprintf(err, errlen, "%s%s%s", job, *job ? ": " : "", out.shown[0].why);
        rc = SIM_EINVAL;
    } else if (rc == 0 && out.interrupted) {
        snprintf(err, errlen, "interrupted with %zu of %zu jobs done", out.ran, j->njobs);
        rc = SIM_EINTR;
    } else if (rc == 0 && out.ran < j->njobs) {
        snprintf(err, errlen, "no worker left with %zu of %zu jobs done", out.ran, j->njobs);
        rc = SIM_EIO;
    }
    return rc;
}

int system_run_parallel(const system_config *cfg, const system_parallel *o, json_t **results,
                        char *err, size_t errlen)
{
    size_t n = system_jobs(cfg);
    parallel_run pr = {cfg, system_runner_new(cfg), calloc(n, sizeof(json_t *))};
    int rc = pr.runner && pr.answers ? 0 : SIM_ENOMEM;
    if (rc)
        snprintf(err, errlen, "out of memory");
    if (rc == 0)
        rc = system_runner_age(pr.runner, 0, err, errlen);
    swp_jobs j = {n, run_job, &pr, o->stop, -1, o->fresh};
    if (rc == 0)
        rc = run_all(&pr, o, &j, err, errlen);
    system_runner_free(pr.runner);
    if (rc == 0)
        rc = system_assemble(cfg, pr.answers, results, err, errlen);
    for (size_t i = 0; pr.answers && i < n; i++)
        json_decref(pr.answers[i]);
    free(pr.answers);
    return rc;
}
