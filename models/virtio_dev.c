/*
 * virtio_dev.c -- the virtio device's backend (virtio.h): a host thread
 * per device, vhost-style, that serves the available ring in order.
 *
 * Kicked (or, polling, seeing a new entry), it turns notifications off
 * (without EVENT_IDX it sets used.flags NO_NOTIFY; with it, it leaves
 * avail_event behind, as vhost_disable_notify does), serves each chain:
 * the host translates every descriptor (the scheme's resolve) and the
 * device works `fixed + per_byte x bytes`, then writes the used entry and
 * interrupts the guest if it must (the irqfd write, eventfd_signal, on this
 * thread). With nothing left it polls for its budget, if it has one, then
 * turns notifications back on (avail_event = the next entry it will serve,
 * or the flag cleared) and looks once more before it sleeps, so an entry
 * added meanwhile is never stranded (vhost_enable_notify). A polling
 * thread never turns them on.
 */
#include "models/virtio_int.h"

/* ---- the ring's fields ---------------------------------------------------- */

static uint64_t qsize(const vdev *d)
{
    return d->owner->cfg->queue_size;
}

uint64_t vring_avail_flags(const vdev *d)
{
    return d->avail;
}

uint64_t vring_avail_idx(const vdev *d)
{
    return d->avail + 2;
}

uint64_t vring_avail_ring(const vdev *d, uint16_t i)
{
    return d->avail + 4 + 2 * (uint64_t)(i % qsize(d));
}

uint64_t vring_used_event(const vdev *d)
{
    return d->avail + 4 + 2 * qsize(d);
}

uint64_t vring_used_flags(const vdev *d)
{
    return d->used;
}

uint64_t vring_used_idx(const vdev *d)
{
    return d->used + 2;
}

uint64_t vring_used_elem(const vdev *d, uint16_t i)
{
    return d->used + 4 + 8 * (uint64_t)(i % qsize(d));
}

uint64_t vring_avail_event(const vdev *d)
{
    return d->used + 4 + 8 * qsize(d);
}

uint16_t vring_read16(const vio *v, uint64_t gpa)
{
    unsigned char b[2];
    if (guestbytes_read(v->env.bytes, gpa, b, sizeof b))
        return 0;
    return guestbytes_get16(b);
}

uint32_t vring_read32(const vio *v, uint64_t gpa)
{
    unsigned char b[4];
    if (guestbytes_read(v->env.bytes, gpa, b, sizeof b))
        return 0;
    return guestbytes_get32(b);
}

static void write_field(vio *v, uint64_t gpa, const unsigned char *b, size_t n)
{
    int rc = guestbytes_write(v->env.bytes, gpa, b, n);
    if (rc)
        sim_fail(v->env.k, rc);
}

void vring_write16(vio *v, uint64_t gpa, uint16_t x)
{
    unsigned char b[2];
    guestbytes_put16(b, x);
    write_field(v, gpa, b, sizeof b);
}

void vring_write32(vio *v, uint64_t gpa, uint32_t x)
{
    unsigned char b[4];
    guestbytes_put32(b, x);
    write_field(v, gpa, b, sizeof b);
}

void vring_write64(vio *v, uint64_t gpa, uint64_t x)
{
    unsigned char b[8];
    guestbytes_put64(b, x);
    write_field(v, gpa, b, sizeof b);
}

/* ---- notifications -------------------------------------------------------- */

static void disable_notify(vdev *d)
{
    if (!d->owner->event_idx)
        vring_write16(d->owner, vring_used_flags(d), VIRTQ_USED_F_NO_NOTIFY);
}

static void enable_notify(vdev *d)
{
    if (d->owner->event_idx)
        vring_write16(d->owner, vring_avail_event(d), d->last_avail);
    else
        vring_write16(d->owner, vring_used_flags(d), 0);
}

/* Entries the driver has made available that the backend has not served. */
static int has_work(const vdev *d)
{
    return vring_read16(d->owner, vring_avail_idx(d)) != d->last_avail;
}

int vdev_start(vdev *d)
{
    d->state = d->owner->polling_backend ? DEV_POLL_IDLE : DEV_SLEEP;
    if (d->owner->polling_backend)
        disable_notify(d);
    return 0;
}

/* ---- serving ---------------------------------------------------------------- */

static void serve_next(vdev *d);

static void work(vdev *d, uint64_t cycles, sim_handler fn, uint64_t arg, uint64_t *sched)
{
    int rc = thread_work(d->thread, cycles, fn, d, arg, sched);
    if (rc)
        sim_fail(d->owner->env.k, rc);
}

/* The irqfd write for slot `arg`'s completion is done: the interrupt is
 * raised for the guest, unless one is pending already (an MSI vector's
 * pending bit); only a raised one's path is the request's. */
static void signalled(sim_kernel *k, void *ctx, uint64_t slot)
{
    (void)k;
    vdev *d = ctx;
    vio *v = d->owner;
    if (d->irq_pending) {
        v->env.stats->irqs_coalesced++;
    } else {
        v->slots[slot].interrupted = 1;
        d->irq_pending = 1;
        d->irq_cost = d->irq_sched = 0;
        vcpu *cpu = v->env.vcpus[d->index % v->env.nvcpus];
        vcpu_interrupt(cpu, (vcpu_call){vio_driver_used, v, d->index}, &d->irq_cost,
                       &d->irq_sched);
    }
    serve_next(d);
}

/* Whether the used entry just written must interrupt the guest
 * (vhost_notify): without EVENT_IDX unless the driver set NO_INTERRUPT;
 * with it, when used idx passed the driver's used_event since the last
 * interrupt. */
static int must_interrupt(vdev *d)
{
    vio *v = d->owner;
    if (!v->event_idx)
        return !(vring_read16(v, vring_avail_flags(d)) & VIRTQ_AVAIL_F_NO_INTERRUPT);
    uint16_t old = d->signalled_used;
    int valid = d->signalled_valid;
    d->signalled_used = d->used_idx;
    d->signalled_valid = 1;
    return !valid || virtq_need_event(vring_read16(v, vring_used_event(d)), d->used_idx, old);
}

/* A chain was served: its used entry, then the interrupt if it must. */
static void served(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k, (void)arg;
    vdev *d = ctx;
    vio *v = d->owner;
    uint16_t head = vring_read16(v, vring_avail_ring(d, d->last_avail));
    io_request *r = &v->env.requests[d->head_slot[head]];
    vring_write32(v, vring_used_elem(d, d->used_idx), head);
    vring_write32(v, vring_used_elem(d, d->used_idx) + 4, (uint32_t)r->bytes);
    d->used_idx++;
    d->last_avail++;
    vring_write16(v, vring_used_idx(d), d->used_idx);
    if (v->poll_completion) {
        vio_poll_used(v, d);
        serve_next(d);
        return;
    }
    if (!must_interrupt(d)) {
        v->env.stats->irqs_suppressed++;
        serve_next(d);
        return;
    }
    v->env.stats->irqs++;
    r->parts.interrupt += v->env.costs->eventfd_signal;
    work(d, v->env.costs->eventfd_signal, signalled, d->head_slot[head], &r->io.sched_cycles);
}

/* Serves the next available chain: the host translates its descriptors
 * (the scheme's resolve) and the device works on it. */
static void serve_chain(vdev *d)
{
    vio *v = d->owner;
    uint16_t head = vring_read16(v, vring_avail_ring(d, d->last_avail));
    io_request *r = &v->env.requests[d->head_slot[head]];
    v->slots[d->head_slot[head]].served = 1;
    v->env.guest.resolve(v->env.guest.ctx, r);
    uint64_t service = v->cfg->fixed + (uint64_t)((double)r->bytes * v->cfg->per_byte + 0.5);
    r->parts.translate += r->cost.host_cycles;
    r->parts.device += service;
    work(d, r->cost.host_cycles + service, served, 0, &r->io.sched_cycles);
}

static void spun(sim_kernel *k, void *ctx, uint64_t arg);

/* Nothing to serve: poll for the budget, or turn notifications on, look
 * once more, and sleep. */
static void go_idle(vdev *d)
{
    vio *v = d->owner;
    if (v->polling_backend) {
        d->state = DEV_POLL_IDLE;
        return;
    }
    if (d->state != DEV_SPIN && v->cfg->poll_budget > 0) {
        d->state = DEV_SPIN;
        int rc = thread_spin(d->thread, v->cfg->poll_budget, spun, d, 0, NULL);
        if (rc)
            sim_fail(v->env.k, rc);
        return;
    }
    enable_notify(d);
    if (has_work(d)) {
        disable_notify(d);
        d->state = DEV_BUSY;
        serve_chain(d);
        return;
    }
    d->state = DEV_SLEEP;
}

static void serve_next(vdev *d)
{
    if (has_work(d)) {
        d->state = DEV_BUSY;
        serve_chain(d);
        return;
    }
    go_idle(d);
}

/* The budget ran out, or the driver added an entry while it polled. */
static void spun(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k, (void)arg;
    vdev *d = ctx;
    if (has_work(d)) {
        d->state = DEV_BUSY;
        serve_chain(d);
        return;
    }
    go_idle(d);
}

void vdev_kicked(sim_kernel *k, void *ctx, uint64_t dev)
{
    (void)k;
    vio *v = ctx;
    vdev *d = &v->devs[dev];
    if (d->state != DEV_SLEEP)
        return;                     /* serving: it will see the entry */
    disable_notify(d);
    serve_next(d);
}

void vdev_added(vdev *d)
{
    if (d->state == DEV_SPIN)
        thread_spin_end(d->thread);
    else if (d->state == DEV_POLL_IDLE)
        serve_next(d);
}
