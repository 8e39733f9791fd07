/*
 * test_vpio.c -- VPIO, a passthrough device shared between guests (seed
 * 004), through the real loader, guests, vCPUs and kernel: the cost chain
 * of a first request by hand, the shared page's state at no exit, a grab
 * race counted, a forced stop at exactly slice + grace and what it loses,
 * Jain's index of equal demand over whole rounds, fifo against round
 * robin, packets held for a guest or dropped, and a malicious guest whose
 * losses are its own.
 */
#include <math.h>
#include <stdio.h>

#include "tests/run.h"

/* exit 1000, entry 800, hypercall 100: a hypercall is 1900, its device
 * step at 1100. Interrupts are posted to polling vCPUs after a host IPI of
 * 700, and the EOI is virtualised (eoi_write 20): 720 from the raise to
 * the handler's end. The IOMMU's switch 5000; copies 1 cycle a byte. */
#define COSTS                                                                 \
    "costs: {exit: 1000, entry: 800, hypercall: 100, host_ipi: 700,\n"        \
    "        eoi_write: 20, iommu_switch: 5000, copy_per_kib: 1024}\n"

/* A transmit of 1000 bytes: 1000 + 1 x 1000 = 2000 cycles of device time. */
#define DEVICE(extra)                                                         \
    "shared_device:\n"                                                        \
    "  slice: 100000\n"                                                       \
    "  grace: 20000\n"                                                        \
    "  service: {fixed: 1000, per_byte: 1}\n" extra

#define VARIANT                                                               \
    "variants:\n"                                                             \
    "  - {scheme: physical, fabric: {vcpu_idle: poll, posted_interrupts: true,\n" \
    "                                eoi: virtualised}}\n"

#define GUEST(name, count, depth, vpio)                                       \
    "  - name: " name "\n"                                                    \
    "    count: " #count "\n"                                                 \
    "    transport: vpio\n"                                                   \
    "    workload: {depth: " #depth ", size: 1000B}\n"                        \
    "    memory: {size: 64MiB}\n"                                             \
    "    vpio: " vpio "\n"

#define HEAD(name) "name: " name "\npreset: x86-kvm-2012\n" COSTS

static double num(json_t *r, const char *path)
{
    return result_num(r, 0, path);
}

/* ---- one guest alone ---------------------------------------------------- */

static const char alone[] =
    HEAD("alone") "run: {duration: 1ms, warmup: 0}\n" DEVICE("")
    "guests:\n" GUEST("g", 1, 1, "{state: hypercall}") VARIANT;

/* The first request waits for the device: state (1900), then grab, whose
 * handler at 1900 + 1100 = 3000 finds the device idle and switches the
 * IOMMU to the guest in the hypercall (5000), then enters (800): the
 * driver owns the device at 8800 and posts. The device transmits (2000),
 * and its completion interrupt takes 720: 11520, of which exit 1900 +
 * 1900 + 5000, device 2000, interrupt 720, no queueing. */
Test(vpio, the_cost_chain_of_a_first_request_is_worked_by_hand)
{
    const char *sets[] = {"run.max_requests=1"};
    json_t *r = run_text(alone, sets, 1);
    cr_assert_eq(num(r, "classes.0.metrics.latency_cycles.max"), 11520);
    cr_assert_eq(num(r, "classes.0.metrics.breakdown_cycles.exit"), 8800);
    cr_assert_eq(num(r, "classes.0.metrics.breakdown_cycles.device"), 2000);
    cr_assert_eq(num(r, "classes.0.metrics.breakdown_cycles.interrupt"), 720);
    cr_assert_eq(num(r, "classes.0.metrics.breakdown_cycles.queueing"), 0);
    cr_assert_eq(num(r, "classes.0.metrics.breakdown_cycles.notify"), 0);
    cr_assert_eq(num(r, "classes.0.metrics.vcpus.exits.hypercall"), 2);
    json_decref(r);
}

/* Then the owner posts each next request at once: 2000 + 720 = 2720. By
 * 1 ms (3000000 cycles): 1 + (3000000 - 11520) / 2720 = 1099 requests.
 * Nobody waits, so the slice is renewed (every 100000 cycles from 8000)
 * and the guest owns the device from 8000 to the end. */
Test(vpio, an_owner_nobody_waits_for_keeps_the_device)
{
    json_t *r = run_text(alone, NULL, 0);
    cr_assert_eq(num(r, "classes.0.metrics.requests"), 1099);
    double mean = (11520.0 + 1098.0 * 2720.0) / 1099.0;
    cr_assert(fabs(num(r, "classes.0.metrics.latency_cycles.mean") - mean) < 1e-6);
    cr_assert_eq(num(r, "classes.0.transport.calls.renewals"), 29);
    cr_assert_eq(num(r, "classes.0.transport.calls.upcalls"), 0);
    cr_assert_eq(num(r, "shared_device.instances.0.device_cycles"), 3000000 - 8000);
    cr_assert_eq(num(r, "shared_device.jain_index"), 1.0);
    json_decref(r);
}

/* With the state read from the shared info page, the first request saves
 * the state hypercall: 11520 - 1900 = 9620, and one hypercall exit. */
Test(vpio, the_shared_page_state_costs_no_exit)
{
    const char *sets[] = {"run.max_requests=1", "guests.0.vpio.state=shared_page"};
    json_t *r = run_text(alone, sets, 2);
    cr_assert_eq(num(r, "classes.0.metrics.latency_cycles.max"), 9620);
    cr_assert_eq(num(r, "classes.0.metrics.breakdown_cycles.exit"), 6900);
    cr_assert_eq(num(r, "classes.0.metrics.vcpus.exits.hypercall"), 1);
    cr_assert_eq(num(r, "classes.0.transport.calls.state_checks"), 1);
    json_decref(r);
}

/* ---- races ------------------------------------------------------------------ */

static const char pair[] =
    HEAD("pair") "run: {duration: 50000, warmup: 0}\n" DEVICE("")
    "guests:\n" GUEST("g", 2, 1, "{state: hypercall}") VARIANT;

/* Both instances ask the state at 1100: idle for both. Both grab at 3000;
 * instance 0's handler runs first and takes the device, instance 1's
 * fails: the state it was told is stale, a race. */
Test(vpio, a_grab_that_fails_after_state_said_idle_is_a_race)
{
    json_t *r = run_text(pair, NULL, 0);
    cr_assert_eq(num(r, "classes.0.transport.calls.state_checks"), 2);
    cr_assert_eq(num(r, "classes.0.transport.calls.grabs"), 2);
    cr_assert_eq(num(r, "classes.0.transport.calls.grab_failures"), 1);
    cr_assert_eq(num(r, "classes.0.transport.calls.races"), 1);
    cr_assert_eq(num(r, "shared_device.instances.0.grants"), 1);
    cr_assert_eq(num(r, "shared_device.instances.1.grants"), 0);
    json_decref(r);
}

/* The same with the shared page: both read idle at 0, both grab at 1100. */
Test(vpio, guests_that_read_idle_from_the_page_race_too)
{
    const char *sets[] = {"guests.0.vpio.state=shared_page"};
    json_t *r = run_text(pair, sets, 1);
    cr_assert_eq(num(r, "classes.0.transport.calls.grab_failures"), 1);
    cr_assert_eq(num(r, "classes.0.transport.calls.races"), 1);
    json_decref(r);
}

/* Grabbing without asking: the failed grab is no race. */
Test(vpio, a_grab_without_the_state_fails_without_a_race)
{
    const char *sets[] = {"guests.0.vpio.misbehave.skip_state=true"};
    json_t *r = run_text(pair, sets, 1);
    cr_assert_eq(num(r, "classes.0.transport.calls.state_checks"), 0);
    cr_assert_eq(num(r, "classes.0.transport.calls.grab_failures"), 1);
    cr_assert_eq(num(r, "classes.0.transport.calls.races"), 0);
    json_decref(r);
}

/* `first` grabs at 1100 without asking; `second` asks at 1100 too, after
 * first's handler (its vCPU started first): busy. Its grab fails, but it
 * knew: no race. Read from the page at 0 instead, the state was idle, and
 * the same failure is a race. */
Test(vpio, a_grab_after_state_said_busy_is_no_race)
{
    static const char two[] =
        HEAD("two") "run: {duration: 50000, warmup: 0}\n" DEVICE("")
        "guests:\n" GUEST("first", 1, 1, "{misbehave: {skip_state: true}}")
        GUEST("second", 1, 1, "{state: hypercall}") VARIANT;
    json_t *r = run_text(two, NULL, 0);
    cr_assert_eq(num(r, "classes.1.transport.calls.grab_failures"), 1);
    cr_assert_eq(num(r, "classes.1.transport.calls.races"), 0);
    json_decref(r);
    const char *sets[] = {"guests.1.vpio.state=shared_page"};
    r = run_text(two, sets, 1);
    cr_assert_eq(num(r, "classes.1.transport.calls.grab_failures"), 1);
    cr_assert_eq(num(r, "classes.1.transport.calls.races"), 1);
    json_decref(r);
}

/* ---- forced stops --------------------------------------------------------------- */

static const char rogue[] =
    HEAD("rogue") "run: {duration: 200000, warmup: 0}\n" DEVICE("")
    "guests:\n" GUEST("rogue", 1, 4, "{misbehave: {ignore_upcall: true, skip_state: true}}")
    GUEST("good", 1, 1, "{state: hypercall}") VARIANT;

/* The rogue grabs at 1100 and its slice starts after the switch, at 6100;
 * `good` asked at 1100 (busy) and waits since its grab at 3000. At 106100
 * the upcall tells the rogue to stop; it does not, and at 6100 + 100000 +
 * 20000 = 126100 it is stopped: a run that ends at cycle 126100 sees the
 * stop, one that ends a cycle earlier does not. */
Test(vpio, an_owner_that_ignores_the_upcall_is_stopped_at_slice_plus_grace)
{
    const char *at[] = {"run.duration=126100"}, *before[] = {"run.duration=126099"};
    json_t *r = run_text(rogue, at, 1);
    cr_assert_eq(num(r, "classes.0.transport.forced_stops"), 1);
    cr_assert_eq(num(r, "shared_device.instances.0.forced_stop_after_cycles.min"), 120000);
    cr_assert_eq(num(r, "shared_device.instances.0.forced_stop_after_cycles.max"), 120000);
    json_decref(r);
    r = run_text(rogue, before, 1);
    cr_assert_eq(num(r, "classes.0.transport.forced_stops"), 0);
    cr_assert_eq(num(r, "classes.0.transport.calls.upcalls"), 1);
    json_decref(r);
}

/* The rogue learns its grant at 6900 and posts its 4 requests; the device
 * completes one every 2000 cycles, and each slot posts again 720 later.
 * The last completion before the stop is at 6900 + 59 x 2000 = 124900,
 * posted again at 125620: 4 transmits on the device at 126100, all lost.
 * The revocation's interrupt reaches the rogue at 126820, which counts
 * them refused. `good` gets the device after the switch (131100) and
 * learns it at 131820: a handover of 5720. It loses nothing. */
Test(vpio, a_forced_stop_loses_what_was_on_the_device_and_only_that)
{
    json_t *r = run_text(rogue, NULL, 0);
    cr_assert_eq(num(r, "classes.0.transport.lost_requests"), 4);
    cr_assert_eq(num(r, "classes.0.transport.refused.forced_stop"), 4);
    cr_assert_eq(num(r, "classes.0.metrics.refused_requests"), 4);
    cr_assert_eq(num(r, "classes.1.transport.lost_requests"), 0);
    cr_assert_eq(num(r, "classes.1.metrics.refused_requests"), 0);
    cr_assert_eq(num(r, "classes.1.transport.forced_stops"), 0);
    cr_assert_eq(num(r, "classes.1.transport.handover_latency_cycles"), 5720);
    cr_assert_eq(num(r, "shared_device.instances.1.grants"), 1);
    json_decref(r);
}

/* ---- fairness ---------------------------------------------------------------------- */

/* Two instances, each with one request outstanding, reading the state
 * from the page. Instance 0 takes the device at 1100, owns it from 6100.
 * Every later turn, s the slice's start: the owner learns its grant at
 * s + 720 and posts (2000 + 720 a request: posts at s + 720 + 2720k); the
 * upcall reaches it at s + 100720; its transmit in flight then completes
 * and is handled at s + 720 + 37 x 2720 = s + 101360; the release's
 * handler runs at s + 102460 (the owner's device time: 102460), switches
 * the IOMMU (5000), and the other's slice starts at s + 107460. Instance
 * 1's first slice starts at 113640; from there each round is 2 x 107460.
 * Measured over two whole rounds, each instance owned the device for 2 x
 * 102460 cycles: Jain's index is exactly 1. */
static const char fair[] =
    HEAD("fair") "run: {duration: 543480, warmup: 113640}\n" DEVICE("")
    "guests:\n" GUEST("g", 2, 1, "{state: shared_page}") VARIANT;

Test(vpio, equal_demand_over_whole_rounds_has_a_fairness_index_of_1)
{
    json_t *r = run_text(fair, NULL, 0);
    cr_assert_eq(num(r, "shared_device.instances.0.device_cycles"), 2 * 102460);
    cr_assert_eq(num(r, "shared_device.instances.1.device_cycles"), 2 * 102460);
    cr_assert_eq(num(r, "shared_device.jain_index"), 1.0);
    cr_assert_eq(num(r, "classes.0.transport.forced_stops"), 0);
    json_decref(r);
    /* Half a turn more, and instance 1 has had more than instance 0. */
    const char *sets[] = {"run.duration=597210"};
    r = run_text(fair, sets, 1);
    cr_assert_lt(num(r, "shared_device.jain_index"), 1.0);
    json_decref(r);
}

/* `a` grabs first (1100) and owns the device; `c` read idle from its page
 * and failed at 1100 (its place: first), `b` asked at 1100 and failed at
 * 3000 (second). a's turn ends as instance 0's first turn above: the next
 * owner's slice starts at 113640. By 150000: fifo gave it to c, the
 * earlier failed grab; round robin to b, the next instance after a. */
static const char order[] =
    HEAD("order") "run: {duration: 150000, warmup: 0}\n" DEVICE("")
    "guests:\n" GUEST("a", 1, 1, "{misbehave: {skip_state: true}}")
    GUEST("b", 1, 1, "{state: hypercall}") GUEST("c", 1, 1, "{state: shared_page}") VARIANT;

Test(vpio, fifo_serves_the_earlier_failed_grab_round_robin_the_next_instance)
{
    json_t *r = run_text(order, NULL, 0);
    cr_assert_eq(num(r, "classes.1.transport.calls.grants"), 0);
    cr_assert_eq(num(r, "classes.2.transport.calls.grants"), 1);
    json_decref(r);
    const char *sets[] = {"shared_device.policy=round_robin"};
    r = run_text(order, sets, 1);
    cr_assert_eq(num(r, "classes.1.transport.calls.grants"), 1);
    cr_assert_eq(num(r, "classes.2.transport.calls.grants"), 0);
    json_decref(r);
}

/* ---- arrivals ------------------------------------------------------------------------ */

/* `owner` holds the device from 6100 (it honours the upcall, drains, and
 * never releases); `other` waits. Packets arrive for each, 1 per us on
 * average. Until the forced stop at 126100, other's first 4 packets wait
 * in the host's buffer and the rest are dropped; the owner's are
 * delivered (those before its grant, held, with the grant). */
static const char arrivals[] =
    HEAD("arrivals") "run: {duration: 100000, warmup: 0}\n"
    DEVICE("  host_buffer: 4\n  receive: {rate: 1000000, size: 1500B}\n")
    "guests:\n" GUEST("owner", 1, 1, "{misbehave: {skip_state: true, hold: true}}")
    GUEST("other", 1, 1, "{state: hypercall}") VARIANT;

Test(vpio, packets_for_a_guest_without_the_device_wait_or_are_dropped)
{
    json_t *r = run_text(arrivals, NULL, 0);
    double arrived = num(r, "classes.1.transport.receive.arrived");
    cr_assert_gt(arrived, 4);
    cr_assert_eq(num(r, "classes.1.transport.receive.buffered"), 4);
    cr_assert_eq(num(r, "classes.1.transport.receive.dropped"), arrived - 4);
    cr_assert_eq(num(r, "classes.1.transport.receive.delivered"), 0);
    cr_assert_eq(num(r, "classes.0.transport.receive.delivered"),
                 num(r, "classes.0.transport.receive.arrived"));
    cr_assert_eq(num(r, "classes.0.transport.receive.dropped"), 0);
    json_decref(r);
    const char *none[] = {"shared_device.host_buffer=0"};
    r = run_text(arrivals, none, 1);
    cr_assert_eq(num(r, "classes.1.transport.receive.buffered"), 0);
    cr_assert_eq(num(r, "classes.1.transport.receive.dropped"),
                 num(r, "classes.1.transport.receive.arrived"));
    json_decref(r);
}

/* The holder is stopped at 126100 with nothing on the device (it drained
 * after the upcall): it loses nothing. The handover to `other` switches
 * the IOMMU (5000) and copies the 4 held packets in (4 x 1500), so its
 * slice starts at 126100 + 11000 = 137100, and the grant reaches it 720
 * later: a handover of 11720, after which its packets arrive directly
 * until its slice ends (237100). */
Test(vpio, held_packets_arrive_with_the_grant)
{
    const char *sets[] = {"run.duration=230000"};
    json_t *r = run_text(arrivals, sets, 1);
    cr_assert_eq(num(r, "classes.0.transport.forced_stops"), 1);
    cr_assert_eq(num(r, "classes.0.transport.lost_requests"), 0);
    cr_assert_eq(num(r, "classes.1.transport.handover_latency_cycles"), 11720);
    cr_assert_eq(num(r, "classes.1.transport.receive.buffered"), 4);
    cr_assert_eq(num(r, "classes.1.transport.receive.delivered") +
                     num(r, "classes.1.transport.receive.dropped"),
                 num(r, "classes.1.transport.receive.arrived"));
    cr_assert_gt(num(r, "classes.1.transport.receive.delivered"), 4);
    json_decref(r);
}

/* ---- a malicious guest among three --------------------------------------------------- */

/* Three guests that behave and one that ignores its upcalls and grabs
 * without asking, over 2 ms: the rogue is stopped at slice + grace every
 * time, loses what it had on the device each time (at most its 4
 * requests), and nobody else loses anything. */
Test(vpio, a_malicious_guests_losses_are_its_own)
{
    static const char four[] =
        HEAD("four") "run: {duration: 2ms, warmup: 0}\n" DEVICE("")
        "guests:\n" GUEST("good", 3, 2, "{state: shared_page}")
        GUEST("rogue", 1, 4, "{misbehave: {ignore_upcall: true, skip_state: true}}")
        VARIANT;
    json_t *r = run_text(four, NULL, 0);
    cr_assert_eq(num(r, "classes.0.transport.lost_requests"), 0);
    cr_assert_eq(num(r, "classes.0.transport.forced_stops"), 0);
    cr_assert_eq(num(r, "classes.0.metrics.refused_requests"), 0);
    double stops = num(r, "classes.1.transport.forced_stops");
    double lost = num(r, "classes.1.transport.lost_requests");
    cr_assert_gt(stops, 1);
    cr_assert_geq(lost, stops);
    cr_assert_leq(lost, 4 * stops);
    cr_assert_eq(num(r, "classes.1.transport.refused.forced_stop"), lost);
    double seen = num(r, "classes.1.metrics.refused_requests");
    cr_assert(seen == lost || (seen < lost && seen >= lost - 4), "%g, %g", seen, lost);
    cr_assert_eq(num(r, "shared_device.instances.3.forced_stop_after_cycles.min"), 120000);
    cr_assert_eq(num(r, "shared_device.instances.3.forced_stop_after_cycles.max"), 120000);
    for (int i = 0; i < 3; i++) {
        char path[64];
        snprintf(path, sizeof path, "shared_device.instances.%d.lost_requests", i);
        cr_assert_eq(num(r, path), 0);
    }
    json_decref(r);
}
