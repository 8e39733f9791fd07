/*
 * test_recording.c -- what the models record when a run has a recorder
 * (pvsim run --trace, --vcd, --requests): scenarios/ivshmem-pingpong.yaml
 * (docs/fabric.md works its first message out by hand) and the default
 * scenario, shortened, read back as the viewers would read them: the JSON
 * with Jansson, the VCD's declarations and value changes, the CSV's rows
 * against the results. Recording must not change the results.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/system.h"
#include "sim/report.h"
#include "tests/trace_text.h"

#define PINGPONG PVSIM_SOURCE_DIR "/scenarios/ivshmem-pingpong.yaml"

typedef struct recorded {
    json_t *results, *trace;        /* the trace parsed */
    char *json, *vcd, *csv;         /* the files' bytes */
} recorded;

/* Runs `path` (NULL: the built-in scenario) for `duration` without a
 * warm-up and with the `nmore` overrides `more`, recording everything
 * within `limit` (NULL: the defaults) when `record`. */
static recorded run_with(const char *path, const char *duration, const trc_limit *limit,
                         int record, const char *const *more, size_t nmore)
{
    char set[64];
    snprintf(set, sizeof set, "run.duration=%s", duration);
    const char *sets[8] = {set, "run.warmup=0"};
    cr_assert_leq(nmore, 6);
    for (size_t i = 0; i < nmore; i++)
        sets[2 + i] = more[i];
    scn_source src = {.path = path, .sets = sets, .nsets = 2 + nmore};
    system_config cfg;
    scn_errors errs = {0};
    cr_assert_eq(system_load(&src, &cfg, &errs), 0);
    if (record)
        cfg.trace = trc_new(TRC_SPANS | TRC_SIGNALS | TRC_ROWS, limit);
    recorded r = {0};
    char err[256];
    cr_assert_eq(system_run(&cfg, NULL, NULL, &r.results, err, sizeof err), 0, "%s", err);
    if (record) {
        r.json = written(cfg.trace, trc_write_json);
        r.vcd = written(cfg.trace, trc_write_vcd);
        r.csv = written(cfg.trace, trc_write_csv);
        json_error_t jerr;
        r.trace = json_loads(r.json, 0, &jerr);
        cr_assert_not_null(r.trace, "invalid JSON, line %d: %s", jerr.line, jerr.text);
        trc_free(cfg.trace);
    }
    system_config_free(&cfg);
    return r;
}

static recorded run(const char *path, const char *duration, const trc_limit *limit, int record)
{
    return run_with(path, duration, limit, record, NULL, 0);
}

static void release(recorded *r)
{
    json_decref(r->results);
    json_decref(r->trace);
    free(r->json);
    free(r->vcd);
    free(r->csv);
}

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static json_int_t arg(const json_t *e, const char *key)
{
    return json_integer_value(json_object_get(json_object_get(e, "args"), key));
}

/* The pid of process `name` ("msi-kernel: ivshmem peers"), and the tid
 * of its thread `thread`; the test fails when either is missing. */
static json_int_t find_track(json_t *doc, const char *process, const char *thread,
                             json_int_t *pid)
{
    size_t i;
    json_t *e;
    *pid = -1;
    json_array_foreach(json_object_get(doc, "traceEvents"), i, e)
        if (!strcmp(str(e, "name"), "process_name") &&
            !strcmp(str(json_object_get(e, "args"), "name"), process))
            *pid = json_integer_value(json_object_get(e, "pid"));
    cr_assert_neq(*pid, -1, "no process %s", process);
    json_array_foreach(json_object_get(doc, "traceEvents"), i, e)
        if (!strcmp(str(e, "name"), "thread_name") &&
            json_integer_value(json_object_get(e, "pid")) == *pid &&
            !strcmp(str(json_object_get(e, "args"), "name"), thread))
            return json_integer_value(json_object_get(e, "tid"));
    cr_assert_fail("no thread %s in %s", thread, process);
    return -1;
}

/* The first slice named `name` on track `tid` (by start time), or the
 * first bound to flow `flow` when flow > 0. */
static json_t *first_slice(json_t *doc, json_int_t tid, const char *name, json_int_t flow)
{
    size_t i;
    json_t *e, *best = NULL;
    json_array_foreach(json_object_get(doc, "traceEvents"), i, e) {
        if (strcmp(str(e, "ph"), "X") || json_integer_value(json_object_get(e, "tid")) != tid ||
            strcmp(str(e, "name"), name))
            continue;
        if (flow > 0 && json_integer_value(json_object_get(e, "bind_id")) != flow)
            continue;
        if (!best || arg(e, "cycle") < arg(best, "cycle"))
            best = e;
    }
    cr_assert_not_null(best, "no slice %s on track %lld", name, (long long)tid);
    return best;
}

Test(recording, pingpong_tracks_and_the_first_message_as_docs_fabric_works_it)
{
    recorded r = run(PINGPONG, "200us", NULL, 1);
    json_int_t pid;
    find_track(r.trace, "msi-kernel: vCPUs", "ivshmem peer 1 vcpu", &pid);
    find_track(r.trace, "intx-userspace: host cores", "core 0", &pid);
    json_int_t sender = find_track(r.trace, "msi-kernel: ivshmem peers", "peer 0", &pid);
    json_int_t receiver = find_track(r.trace, "msi-kernel: ivshmem peers", "peer 1", &pid);
    /* Peer 0 starts writing at 0: the copy (42) and the doorbell up to
     * its signal (3,451); peer 1 has read it 9,821 cycles after 0, its
     * copy out (42) last. One flow joins the two. */
    json_t *send = first_slice(r.trace, sender, "send", 0);
    cr_assert_eq(arg(send, "cycle"), 0);
    cr_assert_eq(arg(send, "cycles"), 42 + 3451);
    cr_assert_eq(arg(send, "to"), 1);
    cr_assert(json_is_true(json_object_get(send, "flow_out")));
    json_int_t flow = json_integer_value(json_object_get(send, "bind_id"));
    json_t *receive = first_slice(r.trace, receiver, "receive", flow);
    cr_assert(json_is_true(json_object_get(receive, "flow_in")));
    cr_assert_eq(arg(receive, "cycle") + arg(receive, "cycles"), 9821);
    cr_assert_eq(arg(receive, "cycles"), 42);
    cr_assert_eq(arg(receive, "from"), 0);
    /* The receiver's trapped EOI lies within the message's time. */
    json_int_t vcpu1 = find_track(r.trace, "msi-kernel: vCPUs", "ivshmem peer 1 vcpu", &pid);
    json_t *eoi = first_slice(r.trace, vcpu1, "exit: eoi", 0);
    cr_assert_geq(arg(eoi, "cycle"), 42 + 3451);
    cr_assert_leq(arg(eoi, "cycle") + arg(eoi, "cycles"), 9821 - 42);
    cr_assert_eq(arg(eoi, "cycles"), 4786);
    release(&r);
}

/* Every flow written has one slice out and one in, the out first. */
Test(recording, every_flow_has_both_ends)
{
    recorded r = run(PINGPONG, "100us", NULL, 1);
    size_t i, flows = 0;
    json_t *e, *out = json_object();
    json_array_foreach(json_object_get(r.trace, "traceEvents"), i, e) {
        if (!json_object_get(e, "bind_id") || !json_is_true(json_object_get(e, "flow_out")))
            continue;
        char key[32];
        snprintf(key, sizeof key, "%lld", json_integer_value(json_object_get(e, "bind_id")));
        json_object_set(out, key, e);
    }
    json_array_foreach(json_object_get(r.trace, "traceEvents"), i, e) {
        if (!json_is_true(json_object_get(e, "flow_in")))
            continue;
        char key[32];
        snprintf(key, sizeof key, "%lld", json_integer_value(json_object_get(e, "bind_id")));
        json_t *from = json_object_get(out, key);
        cr_assert_not_null(from, "flow %s has no start", key);
        cr_assert_leq(arg(from, "cycle"), arg(e, "cycle"));
        flows++;
    }
    cr_assert_eq(flows, json_object_size(out));
    cr_assert_gt(flows, 10);
    json_decref(out);
    release(&r);
}

static size_t count_lines(const char *text)
{
    size_t n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

/* A guest's requests: a row each, as many as the results count (no
 * warm-up here, so every completion is measured), and their flows. */
Test(recording, a_row_per_request_the_results_count)
{
    recorded r = run(NULL, "500us", NULL, 1);
    json_int_t requests = json_integer_value(
        rep_get(json_array_get(json_object_get(r.results, "variants"), 0), "totals.requests"));
    cr_assert_gt(requests, 0);
    cr_assert_eq(count_lines(r.csv), (size_t)requests + 1);
    cr_assert_eq(strncmp(r.csv, "variant,source,what,issue_cycle,completion_cycle,"
                                "latency_cycles,bytes,notify_cycles,", 62), 0);
    cr_assert(strstr(r.csv, ",guest/small/0,write,"));
    release(&r);
}

Test(recording, the_vcd_declares_then_changes_in_time_order)
{
    recorded r = run(PINGPONG, "100us", NULL, 1);
    const char *defs = strstr(r.vcd, "$enddefinitions $end\n");
    cr_assert_not_null(defs);
    cr_assert(strstr(r.vcd, "$timescale 1 ps $end\n") < defs);
    cr_assert(strstr(r.vcd, "$scope module msi_kernel $end\n") < defs);
    cr_assert(strstr(r.vcd, "$scope module ivshmem $end\n$scope module peer_0 $end\n"));
    cr_assert(strstr(r.vcd, " IntrStatus $end\n"));
    /* Each vCPU's mode, interrupt line and doorbell, in its own scope. */
    cr_assert(strstr(r.vcd, "$scope module ivshmem_peer_0_vcpu $end\n$var wire 2 "));
    cr_assert(strstr(r.vcd, " mode $end\n$var wire 1 "));
    cr_assert(strstr(r.vcd, " interrupt $end\n$var event 1 "));
    cr_assert(strstr(r.vcd, " doorbell $end\n$upscope $end\n"));
    size_t scopes = 0, upscopes = 0;
    for (const char *p = r.vcd; (p = strstr(p, "$scope ")); p++)
        scopes++;
    for (const char *p = r.vcd; (p = strstr(p, "$upscope ")); p++)
        upscopes++;
    cr_assert_eq(scopes, upscopes);
    /* The times after the definitions only grow, and values change. */
    long long last = -1;
    size_t times = 0;
    for (const char *p = defs; (p = strstr(p, "\n#")); p++) {
        long long t = strtoll(p + 2, NULL, 10);
        cr_assert_gt(t, last);
        last = t;
        times++;
    }
    cr_assert_gt(times, 10);
    release(&r);
}

Test(recording, a_limit_cuts_with_a_note)
{
    trc_limit limit = {.max_events = 50};
    recorded r = run(PINGPONG, "100us", &limit, 1);
    json_t *cut = rep_get(r.trace, "otherData.cut");
    cr_assert_eq(json_array_size(cut), 4, "every variant has more than 50 slices");
    cr_assert(strstr(json_string_value(json_array_get(cut, 0)), "variant msi-kernel: slices cut"));
    cr_assert(strstr(r.vcd, "variant msi-kernel: value changes cut at cycle"));
    release(&r);
}

Test(recording, the_same_run_gives_the_same_bytes_and_the_same_results)
{
    recorded a = run(PINGPONG, "100us", NULL, 1), b = run(PINGPONG, "100us", NULL, 1);
    recorded plain = run(PINGPONG, "100us", NULL, 0);
    cr_assert_str_eq(a.json, b.json);
    cr_assert_str_eq(a.vcd, b.vcd);
    cr_assert_str_eq(a.csv, b.csv);
    char *with = rep_dump(a.results), *without = rep_dump(plain.results);
    cr_assert_str_eq(with, without);
    free(with);
    free(without);
    release(&a);
    release(&b);
    release(&plain);
}

/* Every slice named `name` on any track, in the file's order. */
static size_t slices_named(json_t *doc, const char *name, json_t **out, size_t max)
{
    size_t i, n = 0;
    json_t *e;
    json_array_foreach(json_object_get(doc, "traceEvents"), i, e)
        if (!strcmp(str(e, "ph"), "X") && !strcmp(str(e, "name"), name) && n < max)
            out[n++] = e;
    return n;
}

/* The slice named `name` on the track of `e` that starts at cycle `at`;
 * the test fails without one. */
static json_t *slice_at(json_t *doc, const json_t *e, const char *name, json_int_t at)
{
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(doc, "traceEvents"), i, x)
        if (!strcmp(str(x, "ph"), "X") && !strcmp(str(x, "name"), name) &&
            json_integer_value(json_object_get(x, "pid")) ==
                json_integer_value(json_object_get(e, "pid")) &&
            json_integer_value(json_object_get(x, "tid")) ==
                json_integer_value(json_object_get(e, "tid")) &&
            arg(x, "cycle") == at)
            return x;
    cr_assert_fail("no %s at cycle %lld", name, (long long)at);
    return NULL;
}

/* scenarios/loopback.yaml's device workers (linear: they walk the
 * guest's page tables), which signal completions by interrupt: each item
 * is its translation, its service and its irqfd write, back to back
 * inside the worker's slice (an irqfd write of 100 cycles, where the
 * preset's stand-in has none). */
Test(recording, a_device_item_shows_its_translation_service_and_irqfd)
{
    const char *more[] = {"costs.eventfd_signal=100"};  /* the preset's is 0 */
    recorded r = run_with(PVSIM_SOURCE_DIR "/scenarios/loopback.yaml", "100us", NULL, 1, more, 1);
    json_t *found[4];
    size_t n = slices_named(r.trace, "translate", found, 4);
    cr_assert_gt(n, 0);
    for (size_t i = 0; i < n; i++) {
        json_int_t at = arg(found[i], "cycle"), walk = arg(found[i], "cycles");
        json_t *item = slice_at(r.trace, found[i], "device", at);
        json_t *serve = slice_at(r.trace, found[i], "serve", at + walk);
        json_t *irqfd = slice_at(r.trace, found[i], "irqfd", at + walk + arg(serve, "cycles"));
        cr_assert_eq(walk + arg(serve, "cycles") + arg(irqfd, "cycles"), arg(item, "cycles"));
    }
    release(&r);
}

/* Page lists outside their registered buffers copy: a write before its
 * kick ("copy") and a read after its completion ("copy out"), each a
 * slice of its own on the vCPU, 4 KiB at the preset's copy cost. */
Test(recording, a_copy_is_a_slice_on_the_vcpu_before_a_write_and_after_a_read)
{
    const char *more[] = {"variants.0.scheme=page-list", "variants.0.in_registered=0",
                          "guests.0.workload.read_share=0.5"};
    recorded r = run_with(NULL, "100us", NULL, 1, more, 3);
    json_t *in[4], *out[4];
    cr_assert_gt(slices_named(r.trace, "copy", in, 4), 0);
    cr_assert_gt(slices_named(r.trace, "copy out", out, 4), 0);
    cr_assert_eq(arg(in[0], "cycles"), arg(out[0], "cycles"));
    cr_assert_str_eq(str(in[0], "cat"), "vcpu");
    release(&r);
}
