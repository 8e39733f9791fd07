/*
 * system_parallel.c -- system_parallel.h: a run's jobs as a pool's jobs.
 *
 * The wire between a worker and the master is the sweep pool's: a job
 * number out, a text back. Here the text is the variant's object, dumped
 * compact with 17 significant digits (Jansson's default, which a parse
 * turns back into the same double), so merging replications in the master
 * gives the bytes of merging them in one process. A timed run wraps it
 * as {"timing": [set-up s, loop s, results s, events], "variant": ...}.
 *
 * A recording run (cfg->trace) takes one worker. In this process the jobs
 * record straight into the recorder; in fresh processes each job writes
 * what it recorded to a file the master names (trc_delta_write), and the
 * master appends it before it forks the next job, so the recorder ends as
 * one process's would.
 */
#include "models/system_parallel.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sim/sweep_pool.h"
#include "sim/trace.h"
#include "sim/wallclock.h"

/* What the workers share (copied by fork) and the master fills. */
typedef struct parallel_run {
    const system_config *cfg;
    system_runner *runner;          /* each process's own after the fork */
    json_t **answers;               /* by job; the master's */
    system_timing *timing;          /* the master's sum, or NULL: untimed */
    const char *trace_path;         /* fresh processes recording: where a
                                       job leaves its recording; else NULL */
} parallel_run;

/* Worker side: what this job recorded since `mark`, for the master. */
static int send_recording(const parallel_run *pr, const trc_mark *mark, char *err,
                          size_t errlen)
{
    FILE *f = fopen(pr->trace_path, "wb");
    int rc = f ? trc_delta_write(pr->cfg->trace, mark, f) : SIM_EIO;
    if (f && fclose(f) != 0)
        rc = SIM_EIO;
    if (rc)
        snprintf(err, errlen, "writing the recording to %s: %s", pr->trace_path,
                 sim_strerror(rc));
    return rc;
}

/* Master side: appends job `job`'s recording. */
static int take_recording(parallel_run *pr, size_t job, char *err, size_t errlen)
{
    FILE *f = fopen(pr->trace_path, "rb");
    int rc = f ? trc_delta_read(pr->cfg->trace, f) : SIM_EIO;
    if (f)
        fclose(f);
    if (rc)
        snprintf(err, errlen, "job %zu: reading its recording from %s: %s", job,
                 pr->trace_path, sim_strerror(rc));
    return rc;
}

/* `variant` (taken) with the wall time its job took, from `before` to
 * the runner's timing now; NULL when memory is short. */
static json_t *with_timing(const parallel_run *pr, const system_timing *before,
                           json_t *variant)
{
    const system_timing *now = system_runner_timing(pr->runner);
    return json_pack("{s:[f,f,f,I],s:o}", "timing", now->setup_s - before->setup_s,
                     now->loop_s - before->loop_s, now->report_s - before->report_s,
                     (json_int_t)(now->events - before->events), "variant", variant);
}

/* Adds a timed answer's timing to the master's and leaves its variant in
 * `*answer`; 0, or -1 when the answer is not of that shape. */
static int take_timing(parallel_run *pr, json_t **answer)
{
    double setup, loop, report;
    json_int_t events;
    json_t *variant;
    if (json_unpack(*answer, "{s:[f,f,f,I],s:o}", "timing", &setup, &loop, &report, &events,
                    "variant", &variant) != 0 || events < 0)
        return -1;
    pr->timing->setup_s += setup;
    pr->timing->loop_s += loop;
    pr->timing->report_s += report;
    pr->timing->events += (uint64_t)events;
    json_incref(variant);
    json_decref(*answer);
    *answer = variant;
    return 0;
}

/* Worker side: one job, answered with its variant's text. */
static int run_job(const void *ctx, size_t job, char **text, char *err, size_t errlen)
{
    const parallel_run *pr = ctx;
    json_t *variant = NULL;
    system_timing before = *system_runner_timing(pr->runner);
    trc_mark mark;
    if (pr->trace_path)
        trc_mark_now(pr->cfg->trace, &mark);
    int rc = system_run_job(pr->runner, job, NULL, NULL, &variant, err, errlen);
    if (rc == 0 && pr->trace_path)
        rc = send_recording(pr, &mark, err, errlen);
    if (rc) {
        json_decref(variant);
        return rc;
    }
    if (pr->timing)
        variant = with_timing(pr, &before, variant);
    *text = variant ? json_dumps(variant, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
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
    if (pr->timing && take_timing(pr, &pr->answers[job]) != 0) {
        snprintf(err, errlen, "job %zu: an answer without its timing", job);
        return SIM_EIO;
    }
    return pr->trace_path ? take_recording(pr, job, err, errlen) : 0;
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

/* An empty file of this process's for the jobs' recordings, in $TMPDIR
 * or /tmp, its name in `path`; -1 (with the directory in `path`) when
 * none can be made. */
static int make_trace_file(char *path, size_t len)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    snprintf(path, len, "%s/pvsim-recording-XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0) {
        snprintf(path, len, "%s", dir);
        return -1;
    }
    close(fd);
    return 0;
}

int system_run_parallel(const system_config *cfg, const system_parallel *o, json_t **results,
                        char *err, size_t errlen)
{
    if (cfg->trace && o->workers > 1) {
        snprintf(err, errlen, "a recording run takes one worker: jobs record one after "
                 "another");
        return SIM_EINVAL;
    }
    char trace_path[4096] = "";
    if (cfg->trace && o->fresh && make_trace_file(trace_path, sizeof trace_path) != 0) {
        snprintf(err, errlen, "cannot make a file for the jobs' recordings in %s",
                 trace_path);
        return SIM_EIO;
    }
    size_t n = system_jobs(cfg);
    parallel_run pr = {cfg, system_runner_new(cfg), calloc(n, sizeof(json_t *)), o->timing,
                       *trace_path ? trace_path : NULL};
    if (o->timing)
        *o->timing = (system_timing){0};
    int rc = pr.runner && pr.answers ? 0 : SIM_ENOMEM;
    if (rc)
        snprintf(err, errlen, "out of memory");
    if (rc == 0)
        rc = system_runner_age(pr.runner, 0, err, errlen);
    if (rc == 0 && o->timing)
        o->timing->setup_s += system_runner_timing(pr.runner)->setup_s;
    swp_jobs j = {n, run_job, &pr, o->stop, -1, o->fresh};
    if (rc == 0)
        rc = run_all(&pr, o, &j, err, errlen);
    system_runner_free(pr.runner);
    double t = sim_wall_seconds();
    if (rc == 0)
        rc = system_assemble(cfg, pr.answers, results, err, errlen);
    if (o->timing)
        o->timing->report_s += sim_wall_seconds() - t;
    for (size_t i = 0; pr.answers && i < n; i++)
        json_decref(pr.answers[i]);
    free(pr.answers);
    if (*trace_path)
        unlink(trace_path);
    return rc;
}

/* system_run()'s progress, told by a pool of the jobs it has answered. */
typedef struct job_progress {
    const system_config *cfg;
    system_progress_fn fn;
    void *ctx;
    volatile sig_atomic_t stop;     /* the callback asked to stop */
} job_progress;

static void job_answered(void *ctx, size_t done, size_t total)
{
    job_progress *jp = ctx;
    size_t last = done ? done - 1 : 0;
    double end = (double)jp->cfg->run.duration / (double)jp->cfg->clock_hz;
    system_progress sp = {.fraction = (double)done / (double)total,
                          .simulated_s = end, .duration_s = end,
                          .variant = last % jp->cfg->nvariants,
                          .variants = jp->cfg->nvariants,
                          .replication = last / jp->cfg->nvariants,
                          .replications = system_jobs(jp->cfg) / jp->cfg->nvariants};
    if (jp->fn(jp->ctx, &sp))
        jp->stop = 1;
}

int system_run_on_backend(const system_config *cfg, system_progress_fn progress, void *ctx,
                          json_t **results, system_timing *timing, char *err, size_t errlen)
{
    if (cfg->backend == SIM_BACKEND_NATIVE)
        return system_run_timed(cfg, progress, ctx, results, timing, err, errlen);
    job_progress jp = {cfg, progress, ctx, 0};
    system_parallel par = {.workers = 1, .fresh = 1, .stop = &jp.stop,
                           .progress = progress ? job_answered : NULL, .ctx = &jp,
                           .timing = timing};
    return system_run_parallel(cfg, &par, results, err, errlen);
}
