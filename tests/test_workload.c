/*
 * test_workload.c -- workloads through the real loader, guests, vCPUs and
 * kernel: open-loop arrivals (a fixed interval worked by hand, Poisson
 * counts, bursts that queue, are dropped, or overflow the backlog), size
 * mixes broken down by class, reads that copy after their completion, and
 * the same bytes from the same seed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/run.h"

/* One guest, one slot, a device with a fixed time: the closed loop's
 * request is 6450 cycles back to back (test_models.c works it by hand). */
#define SCENARIO(workload, variants)                                                       \
    "name: wl\n"                                                                           \
    "clock: 1GHz\n"                                                                        \
    "costs: {mem_ref: 100, memslot_lookup: 10, tcache_hit: 5, copy_per_kib: 64, wakeup: 0,\n" \
    "        pin_per_page: 50, exit: 1000, entry: 800, pio_decode: 300, eventfd_signal: 100,\n" \
    "        hlt: 200, inject: 50, eoi_handler: 400, host_ipi: 0, extint: 0}\n"             \
    "run: {duration: 1000000, warmup: 100000}\n"                                           \
    "guests:\n"                                                                            \
    "  - name: g\n"                                                                        \
    "    workload: " workload "\n"                                                         \
    "    memory: {size: 64MiB}\n"                                                          \
    "device: {workers: 1, fixed: 1000, per_byte: 0}\n"                                     \
    "variants: " variants "\n"

static double num(json_t *r, const char *path)
{
    return result_num(r, 0, path);
}

/* Every 20000 cycles (50000 a second at 1 GHz) a request arrives at a
 * guest that is halted in its HLT exit since the last one: it re-enters
 * (800) and runs the closed loop's 6450-cycle request, 7250 in all, with
 * nothing waiting. The window [100000, 1000000) sees 45 arrivals and one
 * at its very start. */
Test(workload, interval_arrivals_are_worked_by_hand)
{
    json_t *r = run_text(SCENARIO("{depth: 1, size: 4KiB, arrival: interval, rate: 50000}",
                                  "[{scheme: physical}]"),
                         NULL, 0);
    cr_assert_eq(num(r, "totals.latency_cycles.max"), 7250);
    cr_assert_eq(num(r, "totals.latency_cycles.mean"), 7250);
    cr_assert_eq(num(r, "totals.requests"), 45);
    cr_assert_eq(num(r, "totals.arrivals"), 46);
    cr_assert_eq(num(r, "totals.dropped_arrivals"), 0);
    cr_assert_float_eq(num(r, "totals.offered_rps"), 46 / 0.0009, 1e-6);
    json_decref(r);
}

/* Poisson at 50000 a second over a 9.9 ms window: 495 expected; the count
 * is within four standard deviations (sqrt 495 = 22). */
Test(workload, poisson_arrivals_come_at_their_rate)
{
    const char *sets[] = {"run.duration=10ms"};
    json_t *r = run_text(SCENARIO("{depth: 4, size: 4KiB, arrival: poisson, rate: 50000}",
                                  "[{scheme: physical}]"),
                         sets, 1);
    double arrivals = num(r, "totals.arrivals");
    cr_assert(fabs(arrivals - 495) < 4 * sqrt(495), "arrivals %g", arrivals);
    cr_assert_eq(num(r, "totals.dropped_arrivals"), 0);
    cr_assert(fabs(num(r, "totals.requests") - arrivals) <= 4);
    /* Arrivals that overlap a request in flight wait; none waits long. */
    cr_assert(num(r, "totals.latency_cycles.p50") >= 6450);
    json_decref(r);
}

/* Bursts of 4 every 80000 cycles on one slot: the burst's first request
 * runs at once (7250, from the halt), the others wait for the slot in
 * turn and run back to back with the vCPU awake (6450 each): the last
 * completes 7250 + 3 x 6450 = 26600 after the burst, and the wait shows
 * as queueing. The window sees the bursts at 160000 ... 960000, and the
 * last two completions of the one at 80000 (100150 and 106600). */
Test(workload, a_burst_waits_in_the_backlog)
{
    json_t *r = run_text(
        SCENARIO("{depth: 1, size: 4KiB, arrival: burst, burst: 4, rate: 50000}",
                 "[{scheme: physical}]"),
        NULL, 0);
    cr_assert_eq(num(r, "totals.arrivals"), 44);
    cr_assert_eq(num(r, "totals.dropped_arrivals"), 0);
    cr_assert_eq(num(r, "totals.requests"), 46);
    cr_assert_eq(num(r, "totals.latency_cycles.max"), 7250 + 3 * 6450);
    cr_assert(num(r, "totals.breakdown_cycles.queueing") > 6450);
    json_decref(r);
}

/* The same bursts dropped when the slot is busy: three of every four. */
Test(workload, a_burst_beyond_depth_is_dropped_when_asked)
{
    json_t *r = run_text(SCENARIO("{depth: 1, size: 4KiB, arrival: burst, burst: 4, rate: 50000,"
                                  " on_full: drop}",
                                  "[{scheme: physical}]"),
                         NULL, 0);
    cr_assert_eq(num(r, "totals.arrivals"), 44);
    cr_assert_eq(num(r, "totals.dropped_arrivals"), 33);
    cr_assert_eq(num(r, "totals.requests"), 11);
    cr_assert_eq(num(r, "totals.latency_cycles.max"), 7250);
    json_decref(r);
}

/* A backlog of one: of each burst, one runs, one waits, two are dropped. */
Test(workload, a_full_backlog_drops)
{
    json_t *r = run_text(SCENARIO("{depth: 1, size: 4KiB, arrival: burst, burst: 4, rate: 50000,"
                                  " backlog: 1}",
                                  "[{scheme: physical}]"),
                         NULL, 0);
    cr_assert_eq(num(r, "totals.arrivals"), 44);
    cr_assert_eq(num(r, "totals.dropped_arrivals"), 22);
    cr_assert_eq(num(r, "totals.requests"), 22);
    json_decref(r);
}

/* 70% 4 KiB and 30% 64 KiB: two classes, each with its own latency, and
 * their requests add up to the total; the share of small ones is 0.7
 * within four standard deviations. */
Test(workload, a_weighted_mix_is_broken_down_by_size)
{
    const char *sets[] = {"run.duration=10ms"};
    json_t *r = run_text(SCENARIO("{depth: 1, size_dist: weighted, sizes: [{size: 4KiB, weight: 7},"
                                  " {size: 64KiB, weight: 3}]}",
                                  "[{scheme: physical}]"),
                         sets, 1);
    double total = num(r, "totals.requests");
    cr_assert_eq(num(r, "totals.by_size.0.size_bytes"), 4096);
    cr_assert_str_eq(json_string_value(result_at(r, 0, "totals.by_size.0.direction")), "write");
    cr_assert_eq(num(r, "totals.by_size.1.size_bytes"), 65536);
    double small = num(r, "totals.by_size.0.requests"), large = num(r, "totals.by_size.1.requests");
    cr_assert_eq(small + large, total);
    double sd = sqrt(0.7 * 0.3 / total);
    cr_assert(fabs(small / total - 0.7) < 4 * sd, "share %g", small / total);
    /* Physical addresses cost no copy: the two differ by the bytes only
     * where the scheme touches them, and never in the device (per_byte 0). */
    cr_assert_eq(num(r, "totals.by_size.0.breakdown_cycles.device"), 1000);
    cr_assert_eq(num(r, "totals.by_size.1.breakdown_cycles.device"), 1000);
    cr_assert_null(json_object_get(result_at(r, 0, "totals.by_size"), "2"));
    json_decref(r);
}

/* Uniform sizes fall in power-of-two classes, none above `size`. */
Test(workload, uniform_sizes_fall_in_power_of_two_classes)
{
    json_t *r = run_text(SCENARIO("{depth: 1, size_dist: uniform, size_min: 3KiB, size: 16KiB}",
                                  "[{scheme: physical}]"),
                         NULL, 0);
    json_t *classes = result_at(r, 0, "totals.by_size");
    double sum = 0;
    for (size_t i = 0; i < json_array_size(classes); i++) {
        json_t *c = json_array_get(classes, i);
        uint64_t size = (uint64_t)json_integer_value(json_object_get(c, "size_bytes"));
        cr_assert(size == 4096 || size == 8192 || size == 16384, "class %llu",
                  (unsigned long long)size);
        sum += (double)json_integer_value(json_object_get(c, "requests"));
    }
    cr_assert_eq(sum, num(r, "totals.requests"));
    cr_assert_eq(num(r, "totals.by_size.0.size_bytes"), 4096);
    json_decref(r);
}

/* Page lists outside the registered buffers copy 4 KiB (256 cycles): a
 * write before its kick, a read after its completion, on the vCPU either
 * way, so both take 6450 + 256 (no translation to pay, but the HLT exit
 * the interrupt waits for is as long), and the reads are counted as
 * reads. */
#define PAGE_LIST_COPIES SCENARIO("{depth: 1, size: 4KiB, read_share: 1}", \
                                  "[{scheme: page-list, in_registered: 0}]")

Test(workload, a_read_copies_after_its_completion)
{
    json_t *rd = run_text(PAGE_LIST_COPIES, NULL, 0);
    const char *sets[] = {"guests.0.workload.read_share=0"};
    json_t *wr = run_text(PAGE_LIST_COPIES, sets, 1);
    cr_assert_eq(num(rd, "totals.latency_cycles.max"), 6450 + 256);
    cr_assert_eq(num(rd, "totals.breakdown_cycles.copy"), 256);
    cr_assert_str_eq(json_string_value(result_at(rd, 0, "totals.by_size.0.direction")), "read");
    cr_assert_eq(num(rd, "totals.by_size.0.requests"), num(rd, "totals.requests"));
    cr_assert_eq(num(wr, "totals.latency_cycles.max"), 6450 + 256);
    cr_assert_eq(num(wr, "totals.breakdown_cycles.copy"), 256);
    cr_assert_str_eq(json_string_value(result_at(wr, 0, "totals.by_size.0.direction")), "write");
    json_decref(rd);
    json_decref(wr);
}

/* The same scenario and seed give the same document, byte for byte. */
Test(workload, the_same_seed_gives_the_same_bytes)
{
    const char *text = SCENARIO("{depth: 3, size_dist: weighted, sizes: [{size: 4KiB, weight: 1},"
                                " {size: 16KiB, weight: 1}], read_share: 0.5, arrival: poisson,"
                                " rate: 200000}",
                                "[{scheme: linear}, {scheme: page-list, in_registered: 0.5}]");
    json_t *a = run_text(text, NULL, 0), *b = run_text(text, NULL, 0);
    char *da = rep_dump(a), *db = rep_dump(b);
    cr_assert_str_eq(da, db);
    const char *sets[] = {"seed=2"};
    json_t *c = run_text(text, sets, 1);
    char *dc = rep_dump(c);
    cr_assert_str_neq(da, dc);
    free(da);
    free(db);
    free(dc);
    json_decref(a);
    json_decref(b);
    json_decref(c);
}
