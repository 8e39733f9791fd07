/*
 * test_parallel.c -- a run in jobs (system_run_job, system_assemble) and
 * on workers (system_parallel.h): whatever the order the jobs run in and
 * however many processes run them, the document is system_run()'s, byte
 * for byte; a stop ends a parallel run with no results; timings come
 * back from the workers; a backend of one run per process runs jobs apart,
 * and a recording run records as one process would.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "models/system_parallel.h"
#include "sim/trace.h"
#include "run.h"
#include "tests/trace_text.h"

/* Three variants over exponential think times, so the replications'
 * numbers differ and their merge has intervals. */
static const char three_variants[] =
    "name: jobs\n"
    "costs: {host_ipi: 500ns}\n"
    "run: {duration: 2ms, warmup: 500us, replications: 2}\n"
    "guests:\n"
    "  - {name: g, count: 2, workload: {size: 4KiB, think: 2us, think_dist: exponential},\n"
    "     memory: {size: 64MiB, fragmentation: 0.5}}\n"
    "variants:\n"
    "  - {scheme: linear, fabric: {vcpu_idle: poll, backend: poll, posted_interrupts: true}}\n"
    "  - {scheme: sg, fabric: {vcpu_idle: poll, backend: poll, posted_interrupts: true}}\n"
    "  - {scheme: physical, fabric: {vcpu_idle: poll, backend: poll, posted_interrupts: true}}\n";

static void load_or_fail(system_config *cfg)
{
    scn_errors errs;
    if (load_text(three_variants, NULL, 0, cfg, &errs) != 0) {
        char line[1024];
        scn_error_format(&errs.items[0], line, sizeof line);
        cr_assert_fail("scenario rejected: %s", line);
    }
}

/* The document's bytes, every real in full. */
static char *bytes_of(json_t *r)
{
    char *s = json_dumps(r, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    cr_assert_not_null(s);
    json_decref(r);
    return s;
}

static char *plain_run(const system_config *cfg)
{
    json_t *r = NULL;
    char err[512];
    cr_assert_eq(system_run(cfg, NULL, NULL, &r, err, sizeof err), 0, "%s", err);
    return bytes_of(r);
}

/* Jobs run backwards through one runner, which then ages a replication
 * each time it meets it again, give the same document. */
Test(parallel, jobs_in_any_order_assemble_the_same_document)
{
    system_config cfg;
    load_or_fail(&cfg);
    size_t n = system_jobs(&cfg);
    cr_assert_eq(n, 6);
    json_t *jobs[6] = {0};
    system_runner *r = system_runner_new(&cfg);
    char err[512];
    for (size_t j = n; j-- > 0;)
        cr_assert_eq(system_run_job(r, j, NULL, NULL, &jobs[j], err, sizeof err), 0, "%s", err);
    system_runner_free(r);
    json_t *doc = NULL;
    cr_assert_eq(system_assemble(&cfg, jobs, &doc, err, sizeof err), 0, "%s", err);
    for (size_t j = 0; j < n; j++)
        json_decref(jobs[j]);
    char *want = plain_run(&cfg), *got = bytes_of(doc);
    cr_assert_str_eq(got, want);
    free(want);
    free(got);
    system_config_free(&cfg);
}

/* 1, 2 and 4 workers, and a process per job, give system_run()'s bytes. */
Test(parallel, workers_give_the_bytes_of_one_process)
{
    system_config cfg;
    load_or_fail(&cfg);
    char *want = plain_run(&cfg), err[512];
    const system_parallel runs[] = {{.workers = 1}, {.workers = 2}, {.workers = 4},
                                    {.workers = 2, .fresh = 1}};
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        json_t *r = NULL;
        cr_assert_eq(system_run_parallel(&cfg, &runs[i], &r, err, sizeof err), 0, "%s", err);
        char *got = bytes_of(r);
        cr_assert_str_eq(got, want, "workers %d, fresh %d", runs[i].workers, runs[i].fresh);
        free(got);
    }
    free(want);
    system_config_free(&cfg);
}

/* A stop flag already set: nothing runs, SIM_EINTR, no results. */
Test(parallel, a_stop_ends_the_run_without_results)
{
    system_config cfg;
    load_or_fail(&cfg);
    static volatile sig_atomic_t stop = 1;
    system_parallel o = {.workers = 2, .stop = &stop};
    json_t *r = NULL;
    char err[512];
    cr_assert_eq(system_run_parallel(&cfg, &o, &r, err, sizeof err), SIM_EINTR);
    cr_assert_null(r);
    cr_assert_str_eq(err, "interrupted with 0 of 6 jobs done");
    system_config_free(&cfg);
}

/* A timed run on workers counts the events system_run_timed() counts in
 * one process, sends each job's times back beside its answer, and leaves
 * the document's bytes alone. */
Test(parallel, timing_travels_back_with_the_answers)
{
    system_config cfg;
    load_or_fail(&cfg);
    char *want = plain_run(&cfg), err[512];
    system_timing one;
    json_t *r = NULL;
    cr_assert_eq(system_run_timed(&cfg, NULL, NULL, &r, &one, err, sizeof err), 0, "%s", err);
    json_decref(r);
    const system_parallel runs[] = {{.workers = 1}, {.workers = 2, .fresh = 1}};
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        system_timing t = {.events = 12345};        /* overwritten, not added to */
        system_parallel o = runs[i];
        o.timing = &t;
        cr_assert_eq(system_run_parallel(&cfg, &o, &r, err, sizeof err), 0, "%s", err);
        char *got = bytes_of(r);
        cr_assert_str_eq(got, want);
        free(got);
        cr_assert_eq(t.events, one.events, "workers %d: %llu events, not %llu", o.workers,
                     (unsigned long long)t.events, (unsigned long long)one.events);
        cr_assert(t.setup_s > 0 && t.loop_s > 0 && t.report_s >= 0);
    }
    free(want);
    system_config_free(&cfg);
}

typedef struct heard {
    int calls;
    double last_fraction;
} heard;

/* Counts the jobs it hears of and asks to stop at the first. */
static int count_jobs(void *ctx, const system_progress *p)
{
    heard *h = ctx;
    h->calls++;
    h->last_fraction = p->fraction;
    return 1;
}

/* Off the native backend, system_run() refuses a run of several jobs,
 * which one process cannot hold, and names what can;
 * system_run_on_backend() runs it, a process per job, with the native
 * run's bytes. The refusal needs no SystemC in the build: it is decided
 * before any kernel is opened. */
Test(parallel, a_backend_of_one_run_per_process_runs_jobs_apart)
{
    system_config cfg;
    load_or_fail(&cfg);
    char *want = plain_run(&cfg), err[512];
    cfg.backend = SIM_BACKEND_SYSTEMC;
    json_t *r = NULL;
    cr_assert_eq(system_run(&cfg, NULL, NULL, &r, err, sizeof err), SIM_EONCE);
    cr_assert_null(r);
    cr_assert(strstr(err, "system_run_on_backend()"), "%s", err);
    if (sim_kernel_backend_built(SIM_BACKEND_SYSTEMC)) {
        system_timing t;
        cr_assert_eq(system_run_on_backend(&cfg, NULL, NULL, &r, &t, err, sizeof err), 0, "%s",
                     err);
        char *got = bytes_of(r);
        cr_assert_str_eq(got, want);
        free(got);
        cr_assert_gt(t.events, 0);
        /* Progress hears of each job; asking to stop ends the run there. */
        heard h = {0, 0};
        r = NULL;
        cr_assert_eq(system_run_on_backend(&cfg, count_jobs, &h, &r, NULL, err, sizeof err),
                     SIM_EINTR);
        cr_assert_null(r);
        cr_assert_eq(h.calls, 1);
        cr_assert_float_eq(h.last_fraction, 1.0 / 6, 1e-12);
        cr_assert_str_eq(err, "interrupted with 1 of 6 jobs done");
    }
    free(want);
    system_config_free(&cfg);
}

/* A recording run takes one worker. On SystemC its jobs run in processes
 * of their own and send their recordings back, and the recorder ends
 * with what one native process records. */
Test(parallel, a_recording_run_records_as_one_process_would)
{
    system_config cfg;
    load_or_fail(&cfg);
    char err[512];
    json_t *r = NULL;
    cfg.trace = trc_new(TRC_SPANS | TRC_SIGNALS | TRC_ROWS, NULL);
    cr_assert_not_null(cfg.trace);
    system_parallel o = {.workers = 2};
    cr_assert_eq(system_run_parallel(&cfg, &o, &r, err, sizeof err), SIM_EINVAL);
    cr_assert_str_eq(err, "a recording run takes one worker: jobs record one after another");
    cr_assert_eq(system_run(&cfg, NULL, NULL, &r, err, sizeof err), 0, "%s", err);
    char *want = all_written(cfg.trace), *doc = bytes_of(r);
    trc_free(cfg.trace);
    if (sim_kernel_backend_built(SIM_BACKEND_SYSTEMC)) {
        cfg.trace = trc_new(TRC_SPANS | TRC_SIGNALS | TRC_ROWS, NULL);
        cfg.backend = SIM_BACKEND_SYSTEMC;
        r = NULL;
        cr_assert_eq(system_run_on_backend(&cfg, NULL, NULL, &r, NULL, err, sizeof err), 0,
                     "%s", err);
        char *got = all_written(cfg.trace), *got_doc = bytes_of(r);
        cr_assert_str_eq(got, want);
        cr_assert_str_eq(got_doc, doc);
        free(got);
        free(got_doc);
        trc_free(cfg.trace);
    }
    free(want);
    free(doc);
    cfg.trace = NULL;
    system_config_free(&cfg);
}
