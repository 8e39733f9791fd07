/*
 * test_virtio.c -- virtio-pci (seed 003) through the real loader, guest,
 * vCPU, backend threads and kernel: the kick and the interrupt of one
 * request by hand, kicks and interrupts suppressed exactly as the ring's
 * indices and flags say, a full ring making the driver wait, the
 * hypercall kick's fallback to port I/O, probing, hotplug, and PCI
 * placement.
 */
#include <stdio.h>

#include "tests/run.h"

/* exit 1000, entry 800, pio_decode 300, mmio_decode 400, hypercall 100,
 * eventfd_signal 50, userspace 5000, emulation 0; a memslot lookup 10; a
 * blocked thread wakes in 2000; interrupts are posted to polling vCPUs
 * after a host IPI of 700, the EOI virtualised (eoi_write 20). */
#define COSTS                                                                 \
    "costs: {exit: 1000, entry: 800, pio_decode: 300, mmio_decode: 400,\n"    \
    "        hypercall: 100, eventfd_signal: 50, userspace: 5000,\n"          \
    "        emulation: 0, memslot_lookup: 10, wakeup: 2000, host_ipi: 700,\n" \
    "        eoi_write: 20, indirect_call: 30}\n"

static const char base[] =
    "name: virtio\n"
    "preset: x86-kvm-2012\n" COSTS
    "run: {duration: 1ms, warmup: 0}\n"
    "guests:\n"
    "  - name: g\n"
    "    transport: virtio-pci\n"
    "    workload: {depth: 1, size: 4KiB, think: 100us}\n"
    "    virtio: {queue_size: 8, fixed: 3000}\n"
    "variants:\n"
    "  - {scheme: sg, fabric: {vcpu_idle: poll, posted_interrupts: true,\n"
    "                          eoi: virtualised}}\n";

static double num(json_t *r, const char *path)
{
    char full[160];
    snprintf(full, sizeof full, "classes.0.%s", path);
    return result_num(r, 0, full);
}

static json_t *run_with(const char *const *sets, size_t n)
{
    return run_text(base, sets, n);
}

/* Probing: 10 configuration-space accesses through 0xcf8/0xcfc (two
 * exits each: the address written, the data read or written) and 9
 * legacy virtio registers, all in userspace. */
Test(virtio, probing_takes_its_configuration_accesses)
{
    json_t *r = run_with(NULL, 0);
    cr_assert_eq(num(r, "transport.probe.exits_per_device"), 29);
    cr_assert_eq(num(r, "transport.probe.exits"), 29);
    /* Reads: 6 configuration reads at 0xcfc, 2 register reads; the rest
     * writes: 29 exits of 1000 + 300 + 5000 + 800. */
    cr_assert_eq(num(r, "transport.probe.cycles"), 29 * 7100);
    json_decref(r);
    const char *ecam[] = {"guests.0.virtio.config=ecam"};
    r = run_with(ecam, 1);
    cr_assert_eq(num(r, "transport.probe.exits_per_device"), 19);
    cr_assert_eq(num(r, "transport.probe.cycles"), 10 * 7200 + 9 * 7100);
    json_decref(r);
}

/* One request alone: the kick's exit up to its ioeventfd (1000 + 300 +
 * 50), the backend's wake-up (2000), the descriptor's lookup (10) and the
 * service (3000), the irqfd (50), the interrupt's flight (700, posted)
 * and the EOI (20): 7130. The first request, issued at 0, also waits for
 * the probe (29 x 7100 = 205900). */
Test(virtio, one_request_is_worked_by_hand)
{
    json_t *r = run_with(NULL, 0);
    double n = num(r, "metrics.requests");
    cr_assert_eq(num(r, "metrics.latency_cycles.max"), 205900 + 7130);
    cr_assert_float_eq(num(r, "metrics.latency_cycles.mean"), (n * 7130 + 205900) / n, 1e-6);
    cr_assert_eq(num(r, "transport.kicks_per_request"), 1);
    cr_assert_eq(num(r, "transport.interrupts_per_request"), 1);
    cr_assert_eq(num(r, "metrics.breakdown_cycles.notify"), 1350);
    cr_assert_eq(num(r, "metrics.breakdown_cycles.translate"), 10);
    cr_assert_eq(num(r, "metrics.breakdown_cycles.device"), 3000);
    cr_assert_eq(num(r, "metrics.breakdown_cycles.interrupt"), 770);
    cr_assert_eq(num(r, "metrics.breakdown_cycles.scheduling"), 2000);
    json_decref(r);
}

/* A burst of 4 requests at once, once (the think time outlasts the run).
 * With EVENT_IDX the first add passes avail_event (0) and kicks; the
 * others do not, as the device has not moved avail_event; with the
 * legacy flags every add kicks until the device, awake, sets NO_NOTIFY,
 * and it is still waking up. */
Test(virtio, event_idx_suppresses_kicks_as_the_indices_say)
{
    const char *idx[] = {"guests.0.workload.depth=4", "guests.0.workload.think=10ms"};
    json_t *r = run_with(idx, 2);
    cr_assert_eq(num(r, "metrics.requests"), 4);
    cr_assert_eq(num(r, "transport.kicks"), 1);
    cr_assert_eq(num(r, "transport.kicks_suppressed"), 3);
    json_decref(r);
    const char *legacy[] = {"guests.0.workload.depth=4", "guests.0.workload.think=10ms",
                            "guests.0.virtio.offer.event_idx=false"};
    r = run_with(legacy, 3);
    cr_assert_eq(num(r, "transport.kicks"), 4);
    cr_assert_eq(num(r, "transport.kicks_suppressed"), 0);
    json_decref(r);
}

/* Interrupts: with service 0 the device finishes all 4 before the first
 * interrupt reaches the driver: the first interrupts (vhost's first
 * signal always does), the others do not pass used_event (still 0). With
 * service 10000, the driver's handler has moved used_event past each
 * entry before the next one is used: every completion interrupts. */
Test(virtio, event_idx_suppresses_interrupts_as_the_indices_say)
{
    const char *fast[] = {"guests.0.workload.depth=4", "guests.0.workload.think=10ms",
                          "guests.0.virtio.fixed=0"};
    json_t *r = run_with(fast, 3);
    cr_assert_eq(num(r, "metrics.requests"), 4);
    cr_assert_eq(num(r, "transport.interrupts"), 1);
    cr_assert_eq(num(r, "transport.interrupts_suppressed"), 3);
    json_decref(r);
    const char *slow[] = {"guests.0.workload.depth=4", "guests.0.workload.think=10ms",
                          "guests.0.virtio.fixed=10000"};
    r = run_with(slow, 3);
    cr_assert_eq(num(r, "transport.interrupts"), 4);
    cr_assert_eq(num(r, "transport.interrupts_suppressed"), 0);
    json_decref(r);
}

/* A ring of 4 descriptors and requests of two pages: two fit, the other
 * two wait for descriptors and go once the first complete. */
Test(virtio, a_full_ring_makes_the_driver_wait)
{
    const char *sets[] = {"guests.0.workload.depth=4", "guests.0.workload.think=10ms",
                          "guests.0.workload.size=8KiB", "guests.0.virtio.queue_size=4"};
    json_t *r = run_with(sets, 4);
    cr_assert_eq(num(r, "transport.ring_full_waits"), 2);
    cr_assert_eq(num(r, "metrics.requests"), 4);
    json_decref(r);
}

/* The hypercall kick needs its feature offered and accepted; without it
 * the driver falls back to port I/O. */
Test(virtio, the_hypercall_kick_falls_back_to_port_io)
{
    const char *fallback[] = {"guests.0.virtio.kick=hypercall"};
    json_t *r = run_with(fallback, 1);
    cr_assert_str_eq(json_string_value(result_at(r, 0, "classes.0.transport.kick")), "pio");
    cr_assert_eq(num(r, "metrics.vcpus.exits.hypercall"), 0);
    json_decref(r);
    const char *offered[] = {"guests.0.virtio.kick=hypercall",
                             "guests.0.virtio.offer.hypercall_kick=true"};
    r = run_with(offered, 2);
    cr_assert_str_eq(json_string_value(result_at(r, 0, "classes.0.transport.kick")),
                     "hypercall");
    cr_assert_gt(num(r, "metrics.vcpus.exits.hypercall"), 0);
    /* exit 1000 + hypercall 100 + eventfd 50 up to the signal. */
    cr_assert_eq(num(r, "metrics.breakdown_cycles.notify"), 1150);
    json_decref(r);
    const char *declined[] = {"guests.0.virtio.kick=hypercall",
                              "guests.0.virtio.offer.hypercall_kick=true",
                              "guests.0.virtio.accept.hypercall_kick=false"};
    r = run_with(declined, 3);
    cr_assert_str_eq(json_string_value(result_at(r, 0, "classes.0.transport.kick")), "pio");
    json_decref(r);
}

/* Through paravirt_ops' indirect call, the hypercall kick costs the call
 * (30) on the vCPU first. */
Test(virtio, an_indirect_hypercall_kick_pays_its_call)
{
    const char *sets[] = {"guests.0.virtio.kick=hypercall",
                          "guests.0.virtio.offer.hypercall_kick=true",
                          "guests.0.virtio.call=indirect"};
    json_t *r = run_with(sets, 3);
    cr_assert_eq(num(r, "metrics.breakdown_cycles.notify"), 1180);
    json_decref(r);
}

/* A backend that polls 50 us before it sleeps sees a request issued 10
 * us after the last one without a kick. */
Test(virtio, a_polling_backend_needs_no_kick)
{
    const char *sets[] = {"guests.0.virtio.poll_budget=50us", "guests.0.workload.think=10us"};
    json_t *r = run_with(sets, 2);
    double n = num(r, "metrics.requests");
    cr_assert_gt(n, 10);
    /* The first request, right after the probe, kicks; the backend then
     * never sleeps again. */
    cr_assert_eq(num(r, "transport.kicks"), 1);
    json_decref(r);
}

/* A device hotplugged at 500 us: it is probed then, and its requests
 * start after. */
Test(virtio, a_hotplugged_device_is_probed_and_carries_traffic)
{
    const char *sets[] = {"guests.0.workload.depth=2", "guests.0.virtio.hotplug.at=500us",
                          "guests.0.virtio.hotplug.devices=1",
                          "guests.0.workload.think=10us"};
    json_t *r = run_with(sets, 4);
    cr_assert_eq(num(r, "transport.probe.exits"), 2 * 29);
    cr_assert_eq(num(r, "transport.pci.devices"), 2);
    cr_assert_str_eq(json_string_value(result_at(r, 0, "classes.0.transport.pci.last")),
                     "00:02.0");
    /* The second slot's first request waited for the hotplug: the class's
     * largest latency is at least 500 us. */
    cr_assert_geq(num(r, "metrics.latency_cycles.max"), 1500000);
    json_decref(r);
}

/* 40 devices, one a slot: bus 0 holds 31 (slot 0 is the host bridge's),
 * bus 1 the other 9. */
Test(virtio, devices_fill_pci_slots_then_buses)
{
    const char *sets[] = {"guests.0.virtio.devices=40", "guests.0.workload.depth=40",
                          "run.duration=100us"};
    json_t *r = run_with(sets, 3);
    cr_assert_str_eq(json_string_value(result_at(r, 0, "classes.0.transport.pci.last")),
                     "01:08.0");
    cr_assert_eq(num(r, "transport.pci.buses"), 2);
    json_decref(r);
}
