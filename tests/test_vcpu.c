/*
 * test_vcpu.c -- a vCPU driven through the real kernel and host cores:
 * exits run in phases and signal before the entry, and an interrupt costs
 * what the vCPU's state makes it cost. Every time is worked out by hand
 * from the round costs below.
 */
#include <criterion/criterion.h>

#include "models/vcpu.h"

/* exit 1000, entry 800; handlers: hypercall 100, pio 300, eventfd 100,
 * extint 150, inject 50, eoi 200 (exit) or 20 (no exit), hlt 200; a host
 * IPI flies 700; a blocked thread wakes in 2000. */
static vmm_costs round_costs(void)
{
    static const struct {
        vmm_cost_id id;
        uint64_t v;
    } set[] = {
        {VMM_COST_exit, 1000}, {VMM_COST_entry, 800}, {VMM_COST_hypercall, 100},
        {VMM_COST_pio_decode, 300}, {VMM_COST_eventfd_signal, 100}, {VMM_COST_extint, 150},
        {VMM_COST_inject, 50}, {VMM_COST_eoi_handler, 200}, {VMM_COST_eoi_write, 20},
        {VMM_COST_hlt, 200}, {VMM_COST_host_ipi, 700}, {VMM_COST_ipi_send, 250},
    };
    vmm_costs c = {0};
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
        vmm_cost_set(&c, set[i].id, set[i].v);
    return c;
}

typedef struct rig {
    sim_kernel *k;
    cores *host;
    vmm_costs costs;
    vcpu_counts counts;
    vcpu *v;
} rig;

typedef struct log {
    sim_time at[8];
    int n;
} log;

static void note(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)arg;
    log *l = ctx;
    l->at[l->n++] = sim_now(k);
}

static void rig_on(rig *r, const sim_kernel_config *kc, int polling, int posted, int eoi)
{
    r->k = sim_kernel_new(kc);
    r->costs = round_costs();
    r->counts = (vcpu_counts){0};
    cores_costs cc = {.wakeup = 2000};
    r->host = cores_new(r->k, 0, 1, &cc);
    vcpu_env env = {.k = r->k, .host = r->host, .kind = "vcpu", .costs = &r->costs,
                    .polling = polling, .posted = posted, .eoi = eoi, .counts = &r->counts};
    r->v = vcpu_new(&env);
    cr_assert_not_null(r->v);
    cr_assert_eq(cores_start(r->host), 0);
}

static void rig_up(rig *r, int polling, int posted, int eoi)
{
    rig_on(r, NULL, polling, posted, eoi);
}

static void rig_down(rig *r)
{
    vcpu_free(r->v);
    cores_free(r->host);
    sim_kernel_free(r->k);
}

static uint64_t busy(const rig *r)
{
    thread_stats ts;
    vcpu_get_thread_stats(r->v, &ts);
    return ts.busy_cycles;
}

/* An interrupt raised later, from an event. */
typedef struct raise {
    vcpu *v;
    log *l;
    uint64_t cost, sched;
} raise;

static void raise_now(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k;
    (void)arg;
    raise *q = ctx;
    vcpu_interrupt(q->v, (vcpu_call){note, q->l, 0}, &q->cost, &q->sched);
}

static void raise_at(rig *r, raise *q, sim_time when)
{
    cr_assert_eq(sim_schedule(r->k, when, SIM_BAND_NORMAL, raise_now, q, 0, NULL), 0);
}

Test(vcpu, an_exit_signals_at_the_end_of_its_handler_and_enters_after)
{
    rig r;
    rig_up(&r, 1, 0, VMM_EOI_EXIT);
    log signal = {0}, done = {0};
    uint64_t phases = 0;
    vcpu_exit(r.v, FABRIC_PATH_KICK_PIO, (vcpu_call){note, &signal, 0},
              (vcpu_call){note, &done, 0}, &phases, NULL);
    sim_run(r.k, SIM_TIME_MAX, 0);
    /* exit 1000 + decode 300 + eventfd 100; then the entry, 800. */
    cr_assert_eq(signal.n, 1);
    cr_assert_eq(signal.at[0], 1400);
    cr_assert_eq(done.at[0], 2200);
    cr_assert_eq(phases, 1400);
    cr_assert_eq(r.counts.exits[FABRIC_REASON_pio], 1);
    cr_assert_eq(vcpu_counts_exits(&r.counts), 1);
    rig_down(&r);
}

Test(vcpu, a_posted_interrupt_to_a_running_vcpu_costs_its_flight_and_no_busy_time)
{
    rig r;
    rig_up(&r, 1, 1, VMM_EOI_VIRTUALISED);
    log l = {0};
    raise q = {.v = r.v, .l = &l};
    raise_at(&r, &q, 0);
    sim_run(r.k, SIM_TIME_MAX, 0);
    /* The IPI lands at 700; the guest's handler writes the EOI (20). */
    cr_assert_eq(l.at[0], 720);
    cr_assert_eq(q.cost, 720);
    cr_assert_eq(busy(&r), 20);
    cr_assert_eq(r.counts.interrupts, 1);
    cr_assert_eq(r.counts.posted, 1);
    cr_assert_eq(vcpu_counts_exits(&r.counts), 0);
    rig_down(&r);
}

Test(vcpu, without_posting_the_landed_ipi_forces_an_external_interrupt_exit)
{
    rig r;
    rig_up(&r, 1, 0, VMM_EOI_EXIT);
    log l = {0};
    raise q = {.v = r.v, .l = &l};
    raise_at(&r, &q, 0);
    sim_run(r.k, SIM_TIME_MAX, 0);
    /* Lands at 700; exit + extint to 1850; entry + inject to 2700; the
     * EOI traps: exit + handler + entry, 2000, to 4700. */
    cr_assert_eq(l.at[0], 4700, "handled at %llu", (unsigned long long)l.at[0]);
    cr_assert_eq(q.cost, 4700);
    cr_assert_eq(busy(&r), 4700 - 700);       /* the flight is no one's work */
    cr_assert_eq(r.counts.exits[FABRIC_REASON_external_interrupt], 1);
    cr_assert_eq(r.counts.exits[FABRIC_REASON_eoi], 1);
    cr_assert_eq(r.counts.interrupts, 1);      /* one interrupt, one exit */
    cr_assert_eq(r.counts.posted, 0);
    rig_down(&r);
}

Test(vcpu, an_interrupt_raised_in_the_host_is_injected_on_the_next_entry)
{
    rig r;
    rig_up(&r, 1, 0, VMM_EOI_VIRTUALISED);
    log l = {0}, done = {0};
    raise q = {.v = r.v, .l = &l};
    vcpu_exit(r.v, FABRIC_PATH_HYPERCALL, (vcpu_call){0}, (vcpu_call){note, &done, 0}, NULL,
              NULL);
    raise_at(&r, &q, 500);
    sim_run(r.k, SIM_TIME_MAX, 0);
    /* The hypercall's exit and handler end at 1100; its entry injects
     * (800 + 50) to 1950; the EOI write, 20. No IPI, no second exit. */
    cr_assert_eq(done.at[0], 1950);
    cr_assert_eq(l.at[0], 1970);
    cr_assert_eq(q.cost, 800 + 50 + 20);
    cr_assert_eq(vcpu_counts_exits(&r.counts), 1);
    rig_down(&r);
}

Test(vcpu, a_halted_vcpu_wakes_and_enters_with_the_injection)
{
    rig r;
    rig_up(&r, 0, 0, VMM_EOI_VIRTUALISED);
    log l = {0};
    raise q = {.v = r.v, .l = &l};
    cr_assert_eq(vcpu_mode_of(r.v), VCPU_HALTED); /* nothing to do yet */
    raise_at(&r, &q, 5000);
    sim_run(r.k, 6000, 0);
    cr_assert_eq(vcpu_mode_of(r.v), VCPU_HOST); /* waking */
    sim_run(r.k, SIM_TIME_MAX, 0);
    /* Woken at 7000; entry + inject to 7850; EOI write to 7870. */
    cr_assert_eq(l.at[0], 7870);
    cr_assert_eq(q.sched, 2000);
    cr_assert_eq(q.cost, 800 + 50 + 20);
    /* Idle again after the handler: a HLT that blocks. */
    cr_assert_eq(r.counts.exits[FABRIC_REASON_hlt], 1);
    cr_assert_eq(r.counts.halts, 1);
    cr_assert_eq(vcpu_mode_of(r.v), VCPU_HALTED);
    rig_down(&r);
}

Test(vcpu, a_hlt_with_an_interrupt_pending_does_not_block)
{
    rig r;
    rig_up(&r, 1, 0, VMM_EOI_VIRTUALISED);
    log l = {0}, halted = {0};
    raise q = {.v = r.v, .l = &l};
    vcpu_set_masked(r.v, 1);
    raise_at(&r, &q, 0);
    vcpu_halt(r.v, (vcpu_call){note, &halted, 0}, NULL);
    sim_run(r.k, SIM_TIME_MAX, 0);
    /* sti; hlt: exit + hlt to 1200, the pending interrupt makes it
     * re-enter at once (800 + 50) to 2050; EOI write to 2070. */
    cr_assert_eq(halted.at[0], 2050, "re-entered at %llu", (unsigned long long)halted.at[0]);
    cr_assert_eq(l.at[0], 2070);
    cr_assert_eq(r.counts.exits[FABRIC_REASON_hlt], 1);
    cr_assert_eq(r.counts.halts, 0);           /* it never blocked */
    cr_assert_eq(q.sched, 0);
    rig_down(&r);
}

Test(vcpu, a_delivered_interrupt_waits_for_the_guest_work_in_progress)
{
    rig r;
    rig_up(&r, 1, 1, VMM_EOI_VIRTUALISED);
    log l = {0}, work = {0};
    raise q = {.v = r.v, .l = &l};
    vcpu_guest(r.v, 5000, (vcpu_call){note, &work, 0}, NULL);
    vcpu_guest(r.v, 3000, (vcpu_call){note, &work, 0}, NULL);
    raise_at(&r, &q, 100);
    sim_run(r.k, SIM_TIME_MAX, 0);
    /* Delivered at 800, handled after the first item and before the
     * second: 5000 + 20, then 8020. */
    cr_assert_eq(l.at[0], 5020);
    cr_assert_eq(work.at[1], 8020);
    cr_assert_eq(q.cost, 700 + 20);
    rig_down(&r);
}

/* A vCPU that cannot schedule its work stops the run through the kernel,
 * with the kernel's status: nothing is silently lost. */
Test(vcpu, a_failure_to_schedule_stops_the_run)
{
    sim_kernel_config kc = {.max_pending = 1};
    rig r;
    rig_on(&r, &kc, 1, 1, VMM_EOI_VIRTUALISED);
    log l = {0};
    vcpu_interrupt(r.v, (vcpu_call){note, &l, 0}, NULL, NULL);  /* its IPI is pending */
    vcpu_interrupt(r.v, (vcpu_call){note, &l, 0}, NULL, NULL);  /* no room for this one */
    cr_assert_eq(sim_failure(r.k), SIM_ELIMIT);
    cr_assert_eq(sim_run(r.k, SIM_TIME_MAX, 0), SIM_STOP_FAILED);
    cr_assert_eq(l.n, 0);
    rig_down(&r);
}

/* A device model inside an exit: it decides its work when the handler
 * reaches it, and its effects land before the entry. */
typedef struct port {
    sim_time called_at;
    vcpu_work work;
} port;

static vcpu_work port_work(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)arg;
    port *p = ctx;
    p->called_at = sim_now(k);
    return p->work;
}

Test(vcpu, a_device_step_runs_after_the_handler_and_before_the_entry)
{
    rig r;
    rig_up(&r, 1, 0, VMM_EOI_EXIT);
    log signal = {0}, done = {0};
    port p = {.work = {.busy = 500}};
    uint64_t phases = 0;
    vcpu_exit_device(r.v, FABRIC_PATH_PIO_WRITE_KERNEL, (vcpu_device){port_work, &p, 0},
                     (vcpu_call){note, &signal, 0}, (vcpu_call){note, &done, 0}, &phases,
                     NULL);
    sim_run(r.k, SIM_TIME_MAX, 0);
    /* exit 1000 + decode 300 (kernel_device unset: 0); the device 500;
     * its effects at 1800; the entry 800. */
    cr_assert_eq(p.called_at, 1300);
    cr_assert_eq(signal.at[0], 1800);
    cr_assert_eq(done.at[0], 2600);
    cr_assert_eq(phases, 1800);
    cr_assert_eq(busy(&r), 2600);
    cr_assert_eq(r.counts.exits[FABRIC_REASON_pio], 1);
    rig_down(&r);
}

Test(vcpu, a_device_wait_blocks_the_thread_and_the_wake_up_is_paid)
{
    rig r;
    rig_up(&r, 0, 0, VMM_EOI_EXIT);
    log signal = {0}, done = {0};
    port p = {.work = {.busy = 500, .wait = 10000}};
    uint64_t sched = 0;
    /* A halted vCPU: the queued exit wakes it first (2000). */
    vcpu_exit_device(r.v, FABRIC_PATH_HYPERCALL, (vcpu_device){port_work, &p, 0},
                     (vcpu_call){note, &signal, 0}, (vcpu_call){note, &done, 0}, NULL,
                     &sched);
    sim_run(r.k, SIM_TIME_MAX, 0);
    /* wake 2000, entry 800 (the wake's), exit 1000 + hypercall 100 = 3900;
     * busy 500 to 4400; blocked 10000 to 14400; woken 2000 to 16400: the
     * effects; the entry 800. */
    cr_assert_eq(p.called_at, 3900);
    cr_assert_eq(signal.at[0], 16400);
    cr_assert_eq(done.at[0], 17200);
    cr_assert_eq(sched, 4000, "two wake-ups: %llu", (unsigned long long)sched);
    /* The core was free while the thread waited: busy is the work only,
     * and the HLT (exit 1000 + hlt 200) the idle vCPU takes at the end. */
    cr_assert_eq(busy(&r), 800 + 1100 + 500 + 800 + 1200);
    rig_down(&r);
}

Test(vcpu, an_interrupt_raised_during_a_device_wait_is_injected_by_its_entry)
{
    rig r;
    rig_up(&r, 1, 0, VMM_EOI_EXIT);
    log done = {0}, handled = {0};
    port p = {.work = {.busy = 0, .wait = 5000}};
    vcpu_exit_device(r.v, FABRIC_PATH_HYPERCALL, (vcpu_device){port_work, &p, 0},
                     (vcpu_call){0}, (vcpu_call){note, &done, 0}, NULL, NULL);
    raise q = {.v = r.v, .l = &handled};
    raise_at(&r, &q, 3000);
    sim_run(r.k, SIM_TIME_MAX, 0);
    /* exit+hypercall 1100, blocked to 6100 (a polling thread pays no
     * wake-up), entry 800 + inject 50 = 6950; then the EOI exit 2000. */
    cr_assert_eq(done.at[0], 6950);
    cr_assert_eq(handled.at[0], 8950);
    cr_assert_eq(r.counts.exits[FABRIC_REASON_external_interrupt], 0);
    cr_assert_eq(q.cost, 800 + 50 + 2000);
    rig_down(&r);
}
