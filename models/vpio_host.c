/*
 * vpio_host.c -- the hypervisor's side of VPIO (vpio.h): the device's
 * owner and its wait queue, the hypercalls (state, grab, release), the
 * slices, upcalls and forced stops, the device serving the owner's
 * transmits, packets arriving for every guest, and the variant's
 * `shared_device` results.
 *
 * A handover is the hypervisor's work of giving the device to a guest:
 * the IOMMU's switch to the guest's DMA context (`iommu_switch`, unless
 * the IOMMU holds that context already) and the copy of the packets the
 * host held for it (`copy_per_kib`). It runs where the decision is made:
 * in the grab or release hypercall that frees or takes the device, as
 * busy time on that vCPU's thread, or, after a forced stop, in the
 * hypervisor's timer, which pvsim places on no core (latency only). The
 * device is busy from the decision on (state says busy), and the new
 * owner's slice starts when the handover is done.
 */
#include <stdio.h>
#include <stdlib.h>

#include "models/vpio_int.h"
#include "sim/report.h"

/* ---- the host-wide state --------------------------------------------------- */

void vp_host_free(void *ctx)
{
    vpio_host *h = ctx;
    if (!h)
        return;
    sim_ring_fini(&h->tx);
    free(h->all);
    free(h->first);
    free(h);
}

void *vp_host_new(sim_kernel *k, const system_config *cfg)
{
    vpio_host *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->cfg = cfg;
    h->dc = &cfg->shared_device;
    h->k = k;
    h->first = calloc(cfg->nguests ? cfg->nguests : 1, sizeof *h->first);
    for (size_t c = 0; h->first && c < cfg->nguests; c++) {
        h->first[c] = h->n;
        if (cfg->guests[c].transport == TRANSPORT_VPIO)
            h->n += cfg->guests[c].count;
    }
    h->all = calloc(h->n ? h->n : 1, sizeof *h->all);
    if (!h->first || !h->all || sim_ring_init(&h->tx, sizeof(uint32_t))) {
        vp_host_free(h);
        return NULL;
    }
    h->last = h->n - 1;             /* round robin starts at instance 0 */
    return h;
}

int vp_in_window(const vp *v)
{
    return sim_now(v->env.k) >= v->env.warmup;
}

/* The CPU's copy of `bytes` (at most host_buffer x receive.size, 2^32:
 * the product with a cost of at most 10^12 needs more than 64 bits). */
static uint64_t copy_cost(const vmm_costs *c, uint64_t bytes)
{
    return (uint64_t)(((unsigned __int128)bytes * c->copy_per_kib + 512) / 1024);
}

static void schedule(vpio_host *h, sim_time delay, sim_handler fn, void *ctx, uint64_t arg,
                     sim_event_id *id)
{
    int rc = sim_schedule(h->k, delay, SIM_BAND_NORMAL, fn, ctx, arg, id);
    if (rc)
        sim_fail(h->k, rc);
}

/* Every shared info page shows the device's state (the hypervisor writes
 * them when it changes). */
static void publish(vpio_host *h, int state)
{
    if (h->published == state)
        return;
    h->published = state;
    unsigned char b[4];
    guestbytes_put32(b, (uint32_t)state);
    for (size_t i = 0; i < h->n; i++) {
        vp *v = h->all[i];
        if (v->cfg->state != VPIO_STATE_SHARED_PAGE)
            continue;
        int rc = guestbytes_write(v->env.bytes, v->page, b, sizeof b);
        if (rc) {
            sim_fail(h->k, rc);
            return;
        }
    }
}

/* The owner's time since `since` (within the window) is device time. */
static void account(vp *v)
{
    sim_time now = sim_now(v->env.k), from = v->since > v->env.warmup ? v->since
                                                                       : v->env.warmup;
    if (now <= from)
        return;
    v->counts.device_cycles += now - from;
    v->env.stats->vpio.device_cycles += now - from;
}

/* ---- the wait queue ------------------------------------------------------- */

static void enqueue(vpio_host *h, vp *v)
{
    if (v->waits)
        return;                     /* it keeps its place */
    v->waits = 1;
    v->ticket = h->tickets++;
    h->waiting++;
}

/* The waiting guest the policy picks: round robin, the first after the
 * last owner in instance order; fifo, the earliest failed grab. NULL when
 * nobody waits. */
static vp *next_waiting(const vpio_host *h)
{
    vp *best = NULL;
    for (size_t i = 1; h->waiting && i <= h->n; i++) {
        vp *v = h->all[(h->last + i) % h->n];
        if (!v->waits)
            continue;
        if (h->dc->policy == VPIO_ROUND_ROBIN)
            return v;
        if (!best || v->ticket < best->ticket)
            best = v;
    }
    return best;
}

/* ---- handing the device over ------------------------------------------------ */

/* The hypervisor gives the device to `v` now; returns the handover's
 * work, after which complete_grant() lands. */
static uint64_t begin_grant(vpio_host *h, vp *v)
{
    const vmm_costs *c = &h->cfg->costs;
    h->owner = v;
    h->switching = 1;
    if (v->waits) {
        v->waits = 0;
        h->waiting--;
    }
    v->decided = sim_now(h->k);
    publish(h, VPIO_BUSY);
    uint64_t work = h->context == v ? 0 : c->iommu_switch;
    return work + copy_cost(c, v->held * h->dc->receive.size);
}

static void slice_over(sim_kernel *k, void *ctx, uint64_t arg);
static void forced_stop(sim_kernel *k, void *ctx, uint64_t arg);

static void start_slice(vpio_host *h)
{
    h->slice_start = sim_now(h->k);
    schedule(h, h->dc->slice, slice_over, h, 0, &h->slice_end);
    schedule(h, h->dc->slice + h->dc->grace, forced_stop, h, 0, &h->stop);
}

/* The handover is done: `v` owns the device, its slice starts, and the
 * packets held for it are in its memory. */
static void complete_grant(vpio_host *h, vp *v)
{
    h->switching = 0;
    h->context = v;
    h->last = v->pos;
    v->since = sim_now(h->k);
    v->env.stats->vpio.rx_delivered += v->held;
    v->held = 0;
    start_slice(h);
}

/* The device frees: it goes to the next waiting guest, whose handover
 * starts now (its work is returned), or it is idle. */
static uint64_t free_device(vpio_host *h, vp **next)
{
    *next = next_waiting(h);
    if (*next)
        return begin_grant(h, *next);
    h->owner = NULL;
    publish(h, VPIO_IDLE);
    return 0;
}

/* A handover from a forced stop lands: the new owner is told by an
 * upcall. */
static void grant_landed(sim_kernel *k, void *ctx, uint64_t pos)
{
    (void)k;
    vpio_host *h = ctx;
    vp *v = h->all[pos];
    complete_grant(h, v);
    vcpu_interrupt(v->env.vcpus[0], (vcpu_call){vp_on_grant, v, 0}, NULL, NULL);
}

static void cancel(vpio_host *h, sim_event_id id)
{
    sim_cancel(h->k, id);           /* one that already ran is no matter */
}

/* ---- the hypercalls ------------------------------------------------------------ */

vcpu_work vp_host_state(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k, (void)arg;
    vp *v = ctx;
    v->saw = v->host->owner ? VPIO_BUSY : VPIO_IDLE;
    return (vcpu_work){0};
}

/* A grab succeeds on an idle device (the handover runs in the hypercall);
 * on a busy one it fails and the guest waits in line. */
vcpu_work vp_host_grab(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k, (void)arg;
    vp *v = ctx;
    vpio_host *h = v->host;
    transport_vpio_stats *st = &v->env.stats->vpio;
    st->grabs++;
    if (h->owner) {
        st->grab_failures++;
        st->races += v->saw == VPIO_IDLE;
        enqueue(h, v);
        v->answer = VP_QUEUED;
        return (vcpu_work){0};
    }
    v->answer = VP_GRANTED;
    uint64_t work = begin_grant(h, v);
    v->env.requests[v->starter].parts.exit += work;
    return (vcpu_work){.busy = work};
}

void vp_grab_signal(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k, (void)arg;
    vp *v = ctx;
    if (v->answer == VP_GRANTED)
        complete_grant(v->host, v);
}

/* The owner gives the device up: it goes to the next waiting guest, whose
 * handover runs in this hypercall. A release from a guest that no longer
 * owns the device (it was stopped meanwhile) does nothing. The signal's
 * argument names the next owner (its position + 1; 0: none). */
vcpu_work vp_host_release(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k, (void)arg;
    vp *v = ctx;
    vpio_host *h = v->host;
    if (h->owner != v || h->switching)
        return (vcpu_work){0};
    v->env.stats->vpio.releases++;
    account(v);
    cancel(h, h->slice_end);
    cancel(h, h->stop);
    vp *next;
    uint64_t work = free_device(h, &next);
    v->host_next = next ? next->pos + 1 : 0;
    return (vcpu_work){.busy = work};
}

void vp_release_signal(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)arg;
    vp *v = ctx;
    if (!v->host_next)
        return;
    vp *next = v->host->all[v->host_next - 1];
    v->host_next = 0;
    grant_landed(k, v->host, next->pos);
}

/* ---- slices and forced stops --------------------------------------------------- */

/* The owner's slice is over. Nobody waits: it is renewed. Else an upcall
 * tells the owner to stop; the forced stop follows `grace` later. */
static void slice_over(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k, (void)arg;
    vpio_host *h = ctx;
    vp *v = h->owner;
    if (!h->waiting) {
        cancel(h, h->stop);
        v->env.stats->vpio.renewals++;
        start_slice(h);
        return;
    }
    v->env.stats->vpio.upcalls++;
    vcpu_interrupt(v->env.vcpus[0], (vcpu_call){vp_on_upcall, v, 0}, NULL, NULL);
}

/* What is on the device is lost: the IOMMU no longer maps its owner. */
static void lose(vp *v, uint32_t slot)
{
    if (sim_ring_push(&v->lost, &slot)) {
        sim_fail(v->env.k, SIM_ENOMEM);
        return;
    }
    v->env.stats->vpio.lost++;
    v->env.stats->refused[TRANSPORT_REFUSED_forced_stop]++;
    if (vp_in_window(v))
        v->counts.lost++;
}

static void record_stop(vp *v, uint64_t after)
{
    v->env.stats->vpio.forced_stops++;
    if (!vp_in_window(v))
        return;
    vp_counts *c = &v->counts;
    c->stop_min = c->forced_stops == 0 || after < c->stop_min ? after : c->stop_min;
    c->stop_max = after > c->stop_max ? after : c->stop_max;
    c->forced_stops++;
}

/* `grace` after the upcall the owner still holds the device: it is
 * stopped, loses its transmits on the device, is told so by an interrupt,
 * and the device goes to the next waiting guest. */
static void forced_stop(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)arg;
    vpio_host *h = ctx;
    vp *v = h->owner;
    record_stop(v, sim_now(k) - h->slice_start);
    account(v);
    cancel(h, h->slice_end);
    cancel(h, h->tx_done);
    h->serving = 0;
    while (sim_ring_len(&h->tx)) {
        uint32_t slot;
        sim_ring_pop(&h->tx, &slot);
        lose(v, slot);
    }
    vcpu_interrupt(v->env.vcpus[0], (vcpu_call){vp_on_revoke, v, 0}, NULL, NULL);
    vp *next;
    uint64_t work = free_device(h, &next);
    if (next)
        schedule(h, work, grant_landed, h, next->pos, NULL);
}

/* ---- the device --------------------------------------------------------------- */

static void transmitted(sim_kernel *k, void *ctx, uint64_t slot);

/* The device starts on the owner's next transmit. */
static void serve_next(vpio_host *h)
{
    h->serving = sim_ring_len(&h->tx) > 0;
    if (!h->serving)
        return;
    uint32_t slot = *(const uint32_t *)sim_ring_at(&h->tx, 0);
    io_request *r = &h->owner->env.requests[slot];
    const vpio_service_config *s = &h->dc->service;
    uint64_t service = s->fixed + (uint64_t)((double)r->bytes * s->per_byte + 0.5);
    r->parts.device += service;
    schedule(h, service, transmitted, h, slot, &h->tx_done);
}

/* A transmit is done: its completion interrupt goes to its slot's vCPU. */
static void transmitted(sim_kernel *k, void *ctx, uint64_t slot)
{
    (void)k;
    vpio_host *h = ctx;
    vp *v = h->owner;
    io_request *r = &v->env.requests[slot];
    uint32_t head;
    sim_ring_pop(&h->tx, &head);
    vcpu_interrupt(r->cpu, (vcpu_call){vp_on_transmitted, v, slot}, &r->parts.interrupt,
                   &r->io.sched_cycles);
    serve_next(h);
}

void vp_post(vp *v, uint32_t slot)
{
    vpio_host *h = v->host;
    if (h->owner != v || h->switching) {
        lose(v, slot);
        return;
    }
    if (sim_ring_push(&h->tx, &slot)) {
        sim_fail(v->env.k, SIM_ENOMEM);
        return;
    }
    if (!h->serving)
        serve_next(h);
}

/* ---- arrivals ------------------------------------------------------------------ */

static void schedule_arrival(vp *v);

/* A packet arrives for `v`: the owner gets it at once (DMA and an
 * interrupt); for anyone else the host holds it, or drops it when its
 * buffer is full. */
static void arrival(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k, (void)arg;
    vp *v = ctx;
    vpio_host *h = v->host;
    transport_vpio_stats *st = &v->env.stats->vpio;
    schedule_arrival(v);
    st->rx_arrived++;
    if (h->owner == v && !h->switching) {
        st->rx_delivered++;
        vcpu_interrupt(v->env.vcpus[0], (vcpu_call){vp_on_receive, v, 0}, NULL, NULL);
    } else if (v->held < h->dc->host_buffer) {
        v->held++;
        st->rx_buffered++;
    } else {
        st->rx_dropped++;
    }
}

static void schedule_arrival(vp *v)
{
    double mean = (double)v->host->cfg->clock_hz / v->host->dc->receive.rate;
    uint64_t gap = (uint64_t)(sim_rng_exp(&v->rx_rng, mean) + 0.5) + 1;
    schedule(v->host, gap, arrival, v, 0, NULL);
}

void vp_host_start(vp *v)
{
    vpio_host *h = v->host;
    if (v->cfg->state == VPIO_STATE_SHARED_PAGE) {
        unsigned char b[4];
        guestbytes_put32(b, (uint32_t)h->published);
        int rc = guestbytes_write(v->env.bytes, v->page, b, sizeof b);
        if (rc)
            sim_fail(v->env.k, rc);
    }
    if (h->dc->receive.rate > 0)
        schedule_arrival(v);
}

void vp_host_finish(vp *v, sim_time now)
{
    vpio_host *h = v->host;
    v->env.stats->vpio.window_cycles += now - v->env.warmup;
    if (h->owner == v && !h->switching)
        account(v);
}

/* ---- results ------------------------------------------------------------------- */

/* Jain's fairness index of the instances' device time, (sum x)^2 / (n sum
 * x^2), from exact integer sums; null when nobody owned the device. */
static json_t *jain_json(const vpio_host *h)
{
    unsigned __int128 sum = 0, squares = 0;
    for (size_t i = 0; i < h->n; i++) {
        uint64_t x = h->all[i]->counts.device_cycles;
        sum += x;
        squares += (unsigned __int128)x * x;
    }
    if (squares == 0)
        return json_null();
    return json_real((double)(sum * sum) / (double)(squares * h->n));
}

static json_t *stops_json(const vp_counts *c)
{
    if (c->forced_stops == 0)
        return json_null();
    return json_pack("{s:I, s:I}", "min", (json_int_t)c->stop_min, "max",
                     (json_int_t)c->stop_max);
}

static json_t *instance_json(const vp *v, double window)
{
    const vp_counts *c = &v->counts;
    char name[96];
    snprintf(name, sizeof name, "guest/%s/%llu", v->env.cfg->name,
             (unsigned long long)v->env.index);
    return json_pack("{s:s, s:I, s:f, s:I, s:I, s:I, s:o}", "guest", name,
                     "device_cycles", (json_int_t)c->device_cycles,
                     "device_share", window > 0 ? (double)c->device_cycles / window : 0.0,
                     "grants", (json_int_t)c->grants, "forced_stops",
                     (json_int_t)c->forced_stops, "lost_requests", (json_int_t)c->lost,
                     "forced_stop_after_cycles", stops_json(c));
}

json_t *vp_host_json(const void *ctx, uint64_t hz, sim_time start, sim_time end)
{
    const vpio_host *h = ctx;
    double window = (double)(end - start);
    uint64_t grants = 0, handover = 0, owned = 0;
    json_t *each = json_array();
    for (size_t i = 0; each && i < h->n; i++) {
        const vp *v = h->all[i];
        grants += v->counts.grants;
        handover += v->counts.handover_cycles;
        owned += v->counts.device_cycles;
        if (json_array_append_new(each, instance_json(v, window))) {
            json_decref(each);
            each = NULL;
        }
    }
    double mean = grants ? (double)handover / (double)grants : 0.0;
    return json_pack("{s:s, s:I, s:I, s:o, s:f, s:I, s:f, s:f, s:o}",
                     "policy", vpio_policy_names[h->dc->policy],
                     "slice_cycles", (json_int_t)h->dc->slice,
                     "grace_cycles", (json_int_t)h->dc->grace, "jain_index", jain_json(h),
                     "owned_share", window > 0 ? (double)owned / window : 0.0,
                     "handovers", (json_int_t)grants, "handover_latency_cycles", mean,
                     "handover_latency_ns", rep_ns(mean, hz), "instances", each);
}
