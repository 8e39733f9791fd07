/*
 * test_packet_port.c -- the packet port (seed 000) through the real
 * loader, guest, vCPU and kernel: what an accepted packet costs, what
 * each refusal costs before the host gives up, the lifecycle's switches
 * at their times, and a misbehaving guest that changes nobody else's
 * numbers. Every cycle count is worked out by hand from the round costs.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tests/run.h"

/* exit 1000, entry 800, pio_decode 300, kernel_device 100, a memslot
 * lookup 10, copies 1 cycle a byte (1024 a KiB), pinning 20 a page.
 * The vCPU polls, so nothing halts or wakes. A 4 KiB request on channel
 * 1: 2000 + 0.5 x 4096 = 4048 cycles of callback, and a 64-byte reply
 * copied in 64. */
#define COSTS                                                                 \
    "costs: {exit: 1000, entry: 800, pio_decode: 300, kernel_device: 100,\n"  \
    "        userspace: 5000, memslot_lookup: 10, copy_per_kib: 1024,\n"      \
    "        pin_per_page: 20}\n"

static const char base[] =
    "name: port\n"
    "preset: x86-kvm-2012\n" COSTS
    "run: {duration: 1ms, warmup: 0}\n"
    "guests:\n"
    "  - name: g\n"
    "    transport: packet-port\n"
    "    workload: {depth: 1, size: 4KiB}\n"
    "    packet_port:\n"
    "      channels: [{id: 1, fixed: 2000, per_byte: 0.5, reply: 64B}]\n"
    "      emulated: {exits: 4, access: pio_write, handler: kernel}\n"
    "variants:\n"
    "  - {scheme: physical, fabric: {vcpu_idle: poll, handler: kernel}}\n";

static json_t *run_with(const char *const *sets, size_t n)
{
    return run_text(base, sets, n);
}

static double class_num(json_t *r, const char *path)
{
    char full[160];
    snprintf(full, sizeof full, "classes.0.%s", path);
    return result_num(r, 0, full);
}

/* The exit up to the port (1000 + 300 + 100), the device (lookups 10 +
 * 10, physical's resolve: one lookup 10, callback 4048, reply 64), the
 * entry 800: 6342 cycles a request, back to back. The first request,
 * issued at 0, also waits for going live (2210): 8552. */
Test(packet_port, an_accepted_packet_costs_its_exit_checks_and_callback)
{
    json_t *r = run_with(NULL, 0);
    double n = (3000000 - 2210) / 6342;
    cr_assert_eq(class_num(r, "metrics.requests"), n);
    cr_assert_float_eq(class_num(r, "metrics.latency_cycles.mean"),
                       (8552 + (n - 1) * 6342) / n, 1e-6);
    cr_assert_eq(class_num(r, "metrics.latency_cycles.max"), 8552);
    cr_assert_eq(class_num(r, "metrics.breakdown_cycles.notify"), 2200);
    cr_assert_eq(class_num(r, "metrics.breakdown_cycles.translate"), 30);
    cr_assert_eq(class_num(r, "metrics.breakdown_cycles.device"), 4112);
    cr_assert_float_eq(class_num(r, "metrics.breakdown_cycles.queueing"), 2210 / n, 1e-6);
    cr_assert_eq(class_num(r, "metrics.interrupts_per_request"), 0);
    cr_assert_eq(class_num(r, "transport.phases.fast.requests"), n);
    cr_assert_eq(class_num(r, "transport.phases.emulated.requests"), 0);
    /* Going live at 0: one message, the exit, one lookup, the entry. */
    cr_assert_eq(class_num(r, "transport.switches.go_live.count"), 1);
    cr_assert_eq(class_num(r, "transport.switches.go_live.mean_cycles"), 2210);
    cr_assert_eq(class_num(r, "transport.switches.go_live.work_cycles_per_switch"), 2210);
    json_decref(r);
}

/* Every request refused for `why`: the number the guest saw refused by
 * `duration` cycles, which pins the cycles of each refusal; the host
 * counts each by its reason when it refuses it. */
static double refused_by(const char *why, const char *reason, uint64_t duration)
{
    char mis[96], dur[64];
    snprintf(mis, sizeof mis, "guests.0.packet_port.misbehave.%s=1", why);
    snprintf(dur, sizeof dur, "run.duration=%llu", (unsigned long long)duration);
    const char *sets[] = {mis, dur};
    json_t *r = run_with(sets, 2);
    char path[96];
    snprintf(path, sizeof path, "transport.refused.%s", reason);
    double seen = class_num(r, "metrics.refused_requests");
    double host = class_num(r, path);
    cr_assert(host == seen || host == seen + 1, "%s: host %g, guest %g", why, host, seen);
    cr_assert_eq(class_num(r, "metrics.requests"), 0, "%s: nothing is served", why);
    json_decref(r);
    return seen;
}

/* Going live takes 2210 cycles, then each refusal costs the exit path
 * (2200) and the lookups done before the check failed. */
static void refusal_costs(const char *why, const char *reason, uint64_t cycles)
{
    uint64_t tenth = 2210 + 10 * cycles;
    cr_assert_eq(refused_by(why, reason, tenth), 10, "%s at %llu", why,
                 (unsigned long long)tenth);
    cr_assert_eq(refused_by(why, reason, tenth - 1), 9, "%s just before", why);
}

Test(packet_port, a_bad_magic_is_refused_after_finding_the_header)
{
    refusal_costs("bad_magic", "bad_magic", 2210);
}

Test(packet_port, a_packet_outside_the_guest_is_refused_at_its_lookup)
{
    refusal_costs("outside_packet", "outside_guest", 2210);
}

Test(packet_port, a_return_buffer_outside_the_guest_costs_a_second_lookup)
{
    refusal_costs("outside_return", "outside_guest", 2220);
}

Test(packet_port, an_unknown_channel_is_refused_after_both_lookups)
{
    refusal_costs("unknown_channel", "unknown_channel", 2220);
}

Test(packet_port, a_return_buffer_too_small_for_the_reply_is_refused)
{
    refusal_costs("small_return", "small_return", 2220);
}

/* Emulated until live at 100000 cycles, fast until shutdown at 300000,
 * emulated after: 4 register exits of 2200, the last one served by the
 * callback (4048): 12848 a request. The request in flight at 100000 ends
 * at 8 x 12848 = 102784; the live message (2210) ends the switch at
 * 104994, 4994 cycles after the event. */
Test(packet_port, the_lifecycle_switches_paths_at_the_given_times)
{
    const char *sets[] = {"guests.0.packet_port.lifecycle.live=100000",
                          "guests.0.packet_port.lifecycle.shutdown=300000",
                          "run.duration=400000"};
    json_t *r = run_with(sets, 3);
    cr_assert_eq(class_num(r, "transport.phases.emulated.latency_cycles.max"), 12848);
    cr_assert_eq(class_num(r, "transport.phases.emulated.latency_cycles.p50"), 12848);
    cr_assert_eq(class_num(r, "transport.phases.fast.latency_cycles.max"), 6342);
    cr_assert_eq(class_num(r, "transport.switches.go_live.count"), 1);
    cr_assert_eq(class_num(r, "transport.switches.go_live.mean_cycles"), 4994);
    cr_assert_eq(class_num(r, "transport.switches.shut_down.count"), 1);
    /* Fast from 104994: requests end at 104994 + k x 6342; the one in
     * flight at 300000 ends at 104994 + 31 x 6342 = 301596, then the
     * shutdown message: 2210 more. */
    cr_assert_eq(class_num(r, "transport.phases.fast.requests"), 31);
    cr_assert_eq(class_num(r, "transport.switches.shut_down.mean_cycles"), 1596 + 2210);
    /* Time in each phase, switches apart: fast from 104994 to 300000. */
    cr_assert_float_eq(class_num(r, "transport.phases.fast.seconds"),
                       (300000.0 - 104994.0) / 3e9, 1e-12);
    cr_assert_float_eq(class_num(r, "transport.phases.emulated.seconds"),
                       (100000.0 + 400000.0 - 303806.0) / 3e9, 1e-12);
    json_decref(r);
}

/* Going live registers every page-list buffer: one message of its 4
 * pages (a 16 KiB buffer), each looked up and pinned (30), after the
 * live message. */
Test(packet_port, going_live_registers_page_lists_on_the_port)
{
    const char *sets[] = {"variants.0.scheme=page-list", "guests.0.workload.depth=2",
                          "guests.0.workload.size=16KiB"};
    json_t *r = run_with(sets, 3);
    cr_assert_eq(class_num(r, "transport.switches.go_live.exits_per_switch"), 3);
    cr_assert_eq(class_num(r, "transport.switches.go_live.work_cycles_per_switch"),
                 3 * 2210 + 2 * 4 * 30);
    json_decref(r);
}

/* A guest whose every packet is wrong, beside one that behaves: the good
 * one's numbers are those it has alone. */
static const char pair[] =
    "name: pair\n"
    "preset: x86-kvm-2012\n" COSTS
    "run: {duration: 1ms, warmup: 100us}\n"
    "guests:\n"
    "  - name: good\n"
    "    transport: packet-port\n"
    "    workload: {depth: 2, size: 8KiB, think: 3us, think_dist: exponential}\n"
    "    packet_port: {channels: [{id: 1, fixed: 2000, per_byte: 0.5, reply: 64B}]}\n"
    "  - name: bad\n"
    "    transport: packet-port\n"
    "    workload: {depth: 2, size: 8KiB}\n"
    "    packet_port:\n"
    "      channels: [{id: 1, fixed: 2000, per_byte: 0.5, reply: 64B}]\n"
    "      misbehave: {bad_magic: 0.2, outside_packet: 0.2, outside_return: 0.2,\n"
    "                  unknown_channel: 0.2, small_return: 0.2}\n"
    "variants:\n"
    "  - {scheme: physical, fabric: {vcpu_idle: poll, handler: userspace}}\n";

Test(packet_port, a_misbehaving_guest_is_refused_and_changes_no_other_guest)
{
    json_t *both = run_text(pair, NULL, 0);
    char text[sizeof pair];
    snprintf(text, sizeof text, "%.*s%s", (int)(strstr(pair, "  - name: bad") - pair), pair,
             strstr(pair, "variants:"));
    json_t *alone = run_text(text, NULL, 0);
    char *a = json_dumps(result_at(both, 0, "classes.0.metrics"), JSON_SORT_KEYS);
    char *b = json_dumps(result_at(alone, 0, "classes.0.metrics"), JSON_SORT_KEYS);
    cr_assert_str_eq(a, b);
    free(a);
    free(b);
    double refused = 0;
    const char *reasons[] = {"bad_magic", "outside_guest", "unknown_channel", "small_return"};
    for (size_t i = 0; i < 4; i++) {
        char path[96];
        snprintf(path, sizeof path, "classes.1.transport.refused.%s", reasons[i]);
        double n = result_num(both, 0, path);
        cr_assert_gt(n, 0, "%s", reasons[i]);
        refused += n;
    }
    cr_assert_eq(result_num(both, 0, "classes.1.metrics.requests"), 0);
    cr_assert_eq(refused, result_num(both, 0, "classes.1.metrics.refused_requests"));
    json_decref(both);
    json_decref(alone);
}
