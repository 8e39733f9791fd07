/*
 * test_trace.c -- the recorder and its writers: slices with flows, signals
 * and rows as the three files hold them (the JSON read back with Jansson),
 * the count limit and the window with their notes, the same bytes for
 * the same records, and recordings made in forked children appended as
 * one process's.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/error.h"
#include "sim/trace.h"
#include "tests/trace_text.h"

/* The JSON writer's output, parsed; the test fails when it is invalid. */
static json_t *parsed(const trc_recorder *t)
{
    char *text = written(t, trc_write_json);
    json_error_t err;
    json_t *doc = json_loads(text, 0, &err);
    cr_assert_not_null(doc, "invalid JSON, line %d: %s", err.line, err.text);
    free(text);
    return doc;
}

/* The first event of `doc` with phase `ph` and name `name`. */
static json_t *event(json_t *doc, const char *ph, const char *name)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(doc, "traceEvents"), i, e) {
        if (!strcmp(json_string_value(json_object_get(e, "ph")), ph) &&
            !strcmp(json_string_value(json_object_get(e, "name")), name))
            return e;
    }
    return NULL;
}

static size_t count_phase(json_t *doc, const char *ph)
{
    size_t i, n = 0;
    json_t *e;
    json_array_foreach(json_object_get(doc, "traceEvents"), i, e)
        n += !strcmp(json_string_value(json_object_get(e, "ph")), ph);
    return n;
}

/* A variant at 1 GHz (a cycle is a nanosecond) with one vCPU track and two
 * slices joined by a flow: a kick, then its completion on a host core. */
static trc_recorder *two_slices(const trc_limit *limit)
{
    trc_recorder *t = trc_new(TRC_SPANS | TRC_SIGNALS | TRC_ROWS, limit);
    cr_assert_not_null(t);
    cr_assert_eq(trc_variant(t, "base", 1000000000u), 0);
    trc_id vcpu = trc_track(t, "vCPUs", "g0 vcpu 0");
    trc_id core = trc_track(t, "host cores", "core 0");
    trc_id kick = trc_label(t, "kick", "exit", "bytes");
    trc_id done = trc_label(t, "complete", "device", NULL);
    uint64_t flow = trc_flow_new(t);
    trc_slice_flow(t, vcpu, 1000, 3500, kick, 64, flow, TRC_FLOW_OUT);
    trc_slice_flow(t, core, 4000, 4500, done, 0, flow, TRC_FLOW_IN);
    return t;
}

Test(trace, slices_tracks_and_flows)
{
    trc_recorder *t = two_slices(NULL);
    json_t *doc = parsed(t);
    json_t *kick = event(doc, "X", "kick"), *done = event(doc, "X", "complete");
    cr_assert_not_null(kick);
    cr_assert_not_null(done);
    cr_assert_str_eq(json_string_value(json_object_get(kick, "cat")), "exit");
    cr_assert_float_eq(json_number_value(json_object_get(kick, "ts")), 1.0, 1e-9);
    cr_assert_float_eq(json_number_value(json_object_get(kick, "dur")), 2.5, 1e-9);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(kick, "args"), "bytes")), 64);
    /* The flow binds to both slices: out of the kick, into the completion. */
    cr_assert_eq(json_integer_value(json_object_get(kick, "bind_id")),
                 json_integer_value(json_object_get(done, "bind_id")));
    cr_assert(json_is_true(json_object_get(kick, "flow_out")));
    cr_assert(json_is_true(json_object_get(done, "flow_in")));
    cr_assert_null(json_object_get(kick, "flow_in"));
    /* Each track has its thread name, in its variant's process. */
    json_t *thread = event(doc, "M", "thread_name");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(thread, "args"), "name")),
                     "g0 vcpu 0");
    cr_assert_eq(json_integer_value(json_object_get(thread, "tid")),
                 json_integer_value(json_object_get(kick, "tid")));
    json_t *process = event(doc, "M", "process_name");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(process, "args"), "name")),
                     "base: vCPUs");
    json_decref(doc);
    trc_free(t);
}

Test(trace, a_flow_with_one_end_left_out_is_not_written)
{
    trc_limit limit = {.max_events = 1};
    trc_recorder *t = two_slices(&limit);
    json_t *doc = parsed(t);
    cr_assert_not_null(event(doc, "X", "kick"));
    cr_assert_null(event(doc, "X", "complete"));
    cr_assert_null(json_object_get(event(doc, "X", "kick"), "bind_id"));
    json_decref(doc);
    trc_free(t);
}

Test(trace, the_count_limit_leaves_a_note)
{
    trc_limit limit = {.max_events = 1};
    trc_recorder *t = two_slices(&limit);
    json_t *doc = parsed(t);
    cr_assert_eq(count_phase(doc, "X"), 1);
    json_t *cut = json_object_get(json_object_get(doc, "otherData"), "cut");
    cr_assert_eq(json_array_size(cut), 1);
    cr_assert(strstr(json_string_value(json_array_get(cut, 0)), "slices cut at cycle 4000"));
    cr_assert_not_null(event(doc, "i", "trace cut: base (limit 1)"));
    trc_counts c;
    trc_get_counts(t, &c);
    cr_assert_eq(c.slices, 1);
    cr_assert_eq(c.cut_variants, 1);
    json_decref(doc);
    trc_free(t);
}

Test(trace, the_window_keeps_what_starts_inside_it)
{
    trc_limit limit = {.from = 2000, .to = 5000};
    trc_recorder *t = two_slices(&limit);
    json_t *doc = parsed(t);
    cr_assert_null(event(doc, "X", "kick"));
    cr_assert_not_null(event(doc, "X", "complete"));
    json_t *window = json_object_get(json_object_get(doc, "otherData"), "window_cycles");
    cr_assert_eq(json_integer_value(json_array_get(window, 0)), 2000);
    cr_assert_eq(json_integer_value(json_array_get(window, 1)), 5000);
    /* A window is not a cut: nothing inside it was left out. */
    cr_assert_eq(json_array_size(json_object_get(json_object_get(doc, "otherData"), "cut")), 0);
    json_decref(doc);
    trc_free(t);
}

static const char *const modes[] = {"guest", "host", "halted", NULL};

/* Signals of two kinds in one unit: a named state and a 1-bit line. */
static trc_recorder *signals(const trc_limit *limit)
{
    trc_recorder *t = trc_new(TRC_SIGNALS, limit);
    cr_assert_not_null(t);
    cr_assert_eq(trc_variant(t, "base", 2000000000u), 0);
    trc_id mode = trc_signal(t, "vcpus", "g0 vcpu 0", "mode", 2, modes, 0);
    trc_id irq = trc_signal(t, "irq", "g0", "line", 1, NULL, 0);
    trc_set(t, mode, 10, 1);
    trc_set(t, irq, 10, 1);
    trc_set(t, irq, 12, 1);         /* no change: not recorded */
    trc_set(t, mode, 20, 0);
    trc_set(t, irq, 30, 0);
    return t;
}

Test(trace, signals_as_value_change_dump)
{
    trc_recorder *t = signals(NULL);
    char *vcd = written(t, trc_write_vcd);
    cr_assert(strstr(vcd, "$timescale 1 ps $end\n"));
    cr_assert(strstr(vcd, "$comment mode: 0 = guest, 1 = host, 2 = halted $end\n"));
    cr_assert(strstr(vcd, "$scope module base $end\n$scope module vcpus $end\n"
                          "$scope module g0_vcpu_0 $end\n$var wire 2 \" mode $end\n"
                          "$upscope $end\n$upscope $end\n"));
    cr_assert(strstr(vcd, "$var wire 1 # line $end\n"));
    cr_assert(strstr(vcd, "$enddefinitions $end\n#0\n$dumpvars\nb0 \"\n0#\n$end\n"));
    /* At 2 GHz a cycle is 500 ps. */
    cr_assert(strstr(vcd, "$end\n#5000\nb1 \"\n1#\n#10000\nb0 \"\n#15000\n0#\n"), "%s", vcd);
    free(vcd);
    trc_counts c;
    trc_get_counts(t, &c);
    cr_assert_eq(c.changes, 4);
    trc_free(t);
}

Test(trace, a_cut_dump_says_so)
{
    trc_limit limit = {.max_events = 2};
    trc_recorder *t = signals(&limit);
    char *vcd = written(t, trc_write_vcd);
    cr_assert(strstr(vcd, "$comment variant base: value changes cut at cycle 20"), "%s", vcd);
    cr_assert_null(strstr(vcd, "#10000"));
    free(vcd);
    trc_free(t);
}

Test(trace, rows_as_csv)
{
    trc_recorder *t = trc_new(TRC_ROWS, NULL);
    cr_assert_not_null(t);
    cr_assert_eq(trc_variant(t, "a,b", 1000000000u), 0);
    static const char *const text[] = {"guest"};
    static const char *const num[] = {"issue", "done"};
    cr_assert_eq(trc_columns(t, text, 1, num, 2), 0);
    trc_id g = trc_label(t, "small/0", NULL, NULL);
    trc_row(t, 50, &g, (uint64_t[]){10, 50});
    trc_row(t, 90, &g, (uint64_t[]){60, 90});
    char *csv = written(t, trc_write_csv);
    cr_assert_str_eq(csv, "variant,guest,issue,done\n\"a,b\",small/0,10,50\n"
                          "\"a,b\",small/0,60,90\n");
    free(csv);
    trc_free(t);
}

Test(trace, nothing_is_recorded_that_was_not_asked_for)
{
    cr_assert_eq(trc_wants(NULL, TRC_SPANS), 0);
    trc_recorder *t = trc_new(TRC_ROWS, NULL);
    cr_assert_not_null(t);
    cr_assert_eq(trc_wants(t, TRC_SPANS), 0);
    cr_assert_neq(trc_wants(t, TRC_ROWS), 0);
    trc_free(t);
    trc_free(NULL);
}

Test(trace, the_same_records_give_the_same_bytes)
{
    trc_recorder *a = two_slices(NULL), *b = two_slices(NULL);
    char *ja = written(a, trc_write_json), *jb = written(b, trc_write_json);
    char *va = written(a, trc_write_vcd), *vb = written(b, trc_write_vcd);
    cr_assert_str_eq(ja, jb);
    cr_assert_str_eq(va, vb);
    free(ja);
    free(jb);
    free(va);
    free(vb);
    trc_free(a);
    trc_free(b);
}

/* ---- recording in a forked process ---------------------------------------- */

static const char *const row_text[] = {"guest"};
static const char *const row_num[] = {"issue", "done"};

/* One variant's worth of every kind: a label shared with the variant
 * before (interned once), a track, a flow, a signal and rows. */
static void record_variant(trc_recorder *t, const char *name, uint64_t base)
{
    cr_assert_eq(trc_variant(t, name, 1000000000u), 0);
    trc_id shared = trc_label(t, "work", "host", "n");
    trc_id own = trc_label(t, name, NULL, NULL);
    trc_id track = trc_track(t, "cores", "core 0");
    uint64_t flow = trc_flow_new(t);
    trc_slice_flow(t, track, base, base + 10, shared, 1, flow, TRC_FLOW_OUT);
    trc_slice_flow(t, track, base + 20, base + 30, own, 2, flow, TRC_FLOW_IN);
    trc_id mode = trc_signal(t, "vcpus", name, "mode", 2, modes, 0);
    trc_set(t, mode, base + 5, 1);
    trc_set(t, mode, base + 25, 2);
    cr_assert_eq(trc_columns(t, row_text, 1, row_num, 2), 0);
    trc_row(t, base + 30, &own, (uint64_t[]){base, base + 30});
}

static trc_recorder *new_all(void)
{
    trc_recorder *t = trc_new(TRC_SPANS | TRC_SIGNALS | TRC_ROWS, NULL);
    cr_assert_not_null(t);
    return t;
}

/* Variant `name` recorded by a forked child into `path`, as a SystemC
 * job does, and appended to `t`. */
static int record_in_child(trc_recorder *t, const char *name, uint64_t base, const char *path)
{
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        trc_mark mark;
        trc_mark_now(t, &mark);
        record_variant(t, name, base);
        FILE *f = fopen(path, "wb");
        _exit(f && trc_delta_write(t, &mark, f) == 0 && fclose(f) == 0 ? 0 : 1);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    int rc = trc_delta_read(t, f);
    fclose(f);
    return rc;
}

/* Variants recorded in children, one after another, give the files of
 * one process recording them all; a recording marked on another state,
 * or cut short, is refused. */
Test(trace, recordings_from_forked_children_append_as_one_process)
{
    char path[] = "/tmp/pvsim-test-trace-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    trc_recorder *one = new_all(), *parts = new_all();
    record_variant(one, "a", 100);
    record_variant(one, "b", 200);
    record_variant(one, "c", 300);
    record_variant(parts, "a", 100);                    /* the parent's own */
    cr_assert_eq(record_in_child(parts, "b", 200, path), 0);
    cr_assert_eq(record_in_child(parts, "c", 300, path), 0);
    char *want = all_written(one), *got = all_written(parts);
    cr_assert_str_eq(got, want);
    free(want);
    free(got);
    /* The last recording again: marked on a state `parts` has left. */
    FILE *f = fopen(path, "rb");
    cr_assert_eq(trc_delta_read(parts, f), SIM_EIO);
    fclose(f);
    /* A recording cut short. */
    trc_recorder *cut = new_all();
    record_variant(cut, "a", 100);
    trc_mark mark;
    trc_mark_now(cut, &mark);
    record_variant(cut, "b", 200);
    char *buf = NULL;
    size_t len = 0;
    f = open_memstream(&buf, &len);
    cr_assert_eq(trc_delta_write(cut, &mark, f), 0);
    fclose(f);
    trc_recorder *short_read = new_all();
    record_variant(short_read, "a", 100);
    f = fmemopen(buf, len - 8, "rb");
    cr_assert_eq(trc_delta_read(short_read, f), SIM_EIO);
    cr_assert_eq(trc_status(short_read), SIM_EIO);
    fclose(f);
    free(buf);
    trc_free(short_read);
    trc_free(cut);
    trc_free(parts);
    trc_free(one);
    unlink(path);
}
