/*
 * transport_doorbell.c -- the doorbell transport: a kick, a backend worker
 * of the shared device, and an interrupt (docs/fabric.md).
 *
 * A request's life: the scheme describes the buffer; the vCPU copies
 * what must be copied, takes a hypercall exit per registration (whose
 * handler looks up and pins the pages, in the vCPU's thread, as KVM runs
 * hypercall handlers), and kicks once per part; the last kick's signal (the ioeventfd, or the end of the
 * userspace round trip) hands the request to the device while the vCPU
 * re-enters. The device's worker resolves the buffer (the scheme's host
 * side), serves the request and writes the irqfd (eventfd_signal); the
 * interrupt is delivered as the vCPU's state allows, and the guest's
 * handler and EOI end it. With `completion: poll` the driver finds the
 * completion on its next poll instead: no interrupt at all.
 */
#include <stdlib.h>

#include "models/system.h"

typedef struct doorbell {
    transport_env env;
    int kick_path;                  /* fabric_path_id; -1: polled ring */
    uint64_t kick_whole, kick_to_signal, registration;
} doorbell;

int transport_doorbell_kick(const scheme_ops *s, const fabric_config *f)
{
    return s->kick >= 0 ? s->kick : f->kick;
}

/* ---- building ------------------------------------------------------------ */

static transport *create(const transport_env *env, int *rc)
{
    doorbell *d = calloc(1, sizeof *d);
    if (!d) {
        *rc = SIM_ENOMEM;
        return NULL;
    }
    d->env = *env;
    const fabric_config *f = env->fabric;
    d->kick_path = fabric_kick_path(transport_doorbell_kick(env->scheme, f), f->handler);
    if (d->kick_path >= 0) {
        fabric_exit e = fabric_exit_of(env->costs, d->kick_path, env->pio_in_emulated);
        d->kick_whole = e.to_signal + e.after_signal + e.entry;
        d->kick_to_signal = e.to_signal;
    }
    d->registration = fabric_whole(env->costs, FABRIC_PATH_HYPERCALL, env->pio_in_emulated);
    *rc = 0;
    return (transport *)d;
}

static void destroy(transport *t)
{
    free(t);
}

static void start(transport *t)
{
    (void)t;
}

static void finish(transport *t, sim_time now)
{
    (void)t, (void)now;
}

/* ---- a request's life ------------------------------------------------------ */

static void kicked(sim_kernel *k, void *ctx, uint64_t slot);
static void device_done(sim_kernel *k, pv_io *io);

/* A registration hypercall's handler: the host's lookups and pins, busy
 * on the vCPU that exited. */
static vcpu_work pin_pages(sim_kernel *k, void *ctx, uint64_t cycles)
{
    (void)k, (void)ctx;
    return (vcpu_work){.busy = cycles};
}

/* The registrations' exits, their lookups and pins split between them
 * (each registers one buffer of the same pages, so evenly). */
static void register_buffers(doorbell *d, io_request *r, uint64_t *sched)
{
    const vcpu_call none = {0};
    uint32_t n = r->cost.extra_exits;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t pins = r->cost.register_cycles / n +
                        (i + 1 == n ? r->cost.register_cycles % n : 0);
        vcpu_exit_device(r->cpu, FABRIC_PATH_HYPERCALL, (vcpu_device){pin_pages, d, pins}, none,
                         none, NULL, sched);
    }
}

static void send(transport *t, io_request *r)
{
    doorbell *d = (doorbell *)t;
    if (transport_describe(&d->env, r))
        return;
    r->io.complete = device_done;
    r->io.notify_cycles =
        d->env.fabric->completion == FABRIC_COMPLETE_INTERRUPT ? d->env.costs->eventfd_signal : 0;
    const vcpu_call none = {0}, submit = {kicked, d, r->slot};
    uint32_t kicks = d->kick_path < 0 ? 0 : r->cost.kicks;
    uint64_t *sched = &r->io.sched_cycles;
    if (r->cost.copy_cycles)
        vcpu_guest_named(r->cpu, "copy", r->cost.copy_cycles, none, sched);
    register_buffers(d, r, sched);
    for (uint32_t i = 0; i < kicks; i++)
        vcpu_exit(r->cpu, d->kick_path, i + 1 == kicks ? submit : none, none, NULL, sched);
    if (kicks == 0)                 /* a polled ring: the backend sees it now */
        vcpu_guest(r->cpu, 0, submit, sched);
}

/* The kick reached the host: the device's worker resolves the buffer,
 * then serves the request. */
static void kicked(sim_kernel *k, void *ctx, uint64_t slot)
{
    doorbell *d = ctx;
    io_request *r = &d->env.requests[slot];
    d->env.guest.resolve(d->env.guest.ctx, r);
    r->io.parts = r->cost.kicks;
    r->io.read = r->read;
    r->io.host_cycles = r->cost.host_cycles;
    int rc = d->env.dev.submit(d->env.dev.self, &r->io);
    if (rc)
        sim_fail(k, rc);
}

/* Where the request's cycles went: the kicks up to the last one's signal,
 * the registrations' exits with their pinning, the worker's translation
 * and service, the irqfd write and the interrupt's path. */
static void account(const doorbell *d, io_request *r)
{
    const scheme_cost *c = &r->cost;
    io_parts *p = &r->parts;
    p->notify = c->kicks && d->kick_path >= 0
                    ? (uint64_t)(c->kicks - 1) * d->kick_whole + d->kick_to_signal
                    : 0;
    p->exit = (uint64_t)c->extra_exits * d->registration + c->register_cycles;
    p->translate = r->io.host_cycles;
    p->copy = c->copy_cycles;
    p->device = r->io.device_cycles - r->io.host_cycles;
    p->interrupt = r->io.notify_cycles + r->scratch;
    p->scheduling = r->io.sched_cycles;
}

static void handled(sim_kernel *k, void *ctx, uint64_t slot)
{
    doorbell *d = ctx;
    io_request *r = &d->env.requests[slot];
    account(d, r);
    d->env.guest.done(k, d->env.guest.ctx, r);
}

/* The worker signalled the completion: an interrupt for the vCPU, or,
 * when the driver polls, the completion is seen by its next poll. The
 * interrupt's path cycles gather in r->scratch. */
static void device_done(sim_kernel *k, pv_io *io)
{
    (void)k;
    io_request *r = (io_request *)io;
    doorbell *d = r->transport;
    vcpu_call done = {handled, d, r->slot};
    r->scratch = 0;
    if (d->env.fabric->completion == FABRIC_COMPLETE_POLL)
        vcpu_guest(r->cpu, 0, done, &r->io.sched_cycles);
    else
        vcpu_interrupt(r->cpu, done, &r->scratch, &r->io.sched_cycles);
}

/* ---- what the scenario's checks ask --------------------------------------- */

static const scheme_ops *variant_scheme(const variant_config *v)
{
    return scheme_find(system_scheme_names[v->scheme]);
}

/* The class's completion interrupt can find its vCPU running the guest
 * when the vCPU polls, or has other work: other requests in flight, or
 * compute. */
static fabric_receiver receiver(const guest_config *g, const fabric_config *f)
{
    return (fabric_receiver){
        .may_run = f->vcpu_idle == FABRIC_POLL || g->workload.depth > g->vcpus ||
                   g->workload.compute > 0,
        .may_halt = f->vcpu_idle == FABRIC_HALT};
}

static uint64_t needs(const system_config *cfg, const guest_config *g, const variant_config *v)
{
    const fabric_config *f = &v->fabric;
    const scheme_ops *s = variant_scheme(v);
    int pio_in = vmm_presets[cfg->preset].pio_in_emulated;
    uint64_t m = s->needs | (s->hypercalls ? fabric_path_needs(FABRIC_PATH_HYPERCALL, 0) : 0);
    int kick = fabric_kick_path(transport_doorbell_kick(s, f), f->handler);
    if (kick >= 0)
        m |= fabric_path_needs(kick, pio_in);
    if (f->completion == FABRIC_COMPLETE_INTERRUPT)
        m |= SCHEME_NEEDS(VMM_COST_eventfd_signal) |
             fabric_delivery_needs(f, receiver(g, f), fabric_eoi_mode(f, cfg->preset));
    if (f->backend == FABRIC_HALT)
        m |= SCHEME_NEEDS(VMM_COST_wakeup);
    return m;
}

/* The kick up to its signal, the device's service, the completion's
 * delivery, then compute and think. */
static uint64_t least(const system_config *cfg, const guest_config *g, const variant_config *v)
{
    const vmm_costs *c = &cfg->costs;
    const fabric_config *f = &v->fabric;
    const guest_workload_config *w = &g->workload;
    int kick = fabric_kick_path(transport_doorbell_kick(variant_scheme(v), f), f->handler);
    uint64_t notify = kick >= 0 ? fabric_exit_of(c, kick, 0).to_signal : 0;
    uint64_t done = f->completion == FABRIC_COMPLETE_POLL
                        ? 0
                        : c->eventfd_signal +
                              fabric_least_delivery(c, f, receiver(g, f),
                                                    fabric_eoi_mode(f, cfg->preset));
    return notify + loopback_service(&cfg->device, workload_size_min(w), 1) + done + w->compute + w->think;
}

static json_t *stats_json(const transport_stats *s, const guest_config *g, uint64_t clock_hz)
{
    (void)s, (void)g, (void)clock_hz;
    return json_pack("{s:s}", "kind", "doorbell");
}

const transport_ops transport_doorbell = {
    .name = "doorbell",
    .create = create, .start = start, .send = send, .finish = finish, .destroy = destroy,
    .needs = needs, .least = least, .json = stats_json,
};
