/*
 * vpio.c -- the vpio transport of vpio.h, the guests' side: the scenario
 * blocks (`shared_device:` and a class's `vpio:`), building an instance,
 * and the driver: a request waits for the device (state, grab, the
 * grant), is posted to it, and is done when its completion interrupt is
 * handled; the upcall, the revocation and the arrivals have their
 * handlers. vpio_host.c is the hypervisor and the device, vpio_check.c
 * what a scenario must give.
 *
 * The driver acquires the device for the requests waiting, not for each:
 * one state and one grab serve every request that waits meanwhile, and
 * their exits count in the breakdown of the request that started them
 * (the others wait: queueing). The acquisition's hypercalls, the grant,
 * the upcall and the revocation go to vCPU 0; a transmit's completion to
 * its slot's vCPU.
 */
#include <stdio.h>
#include <stdlib.h>

#include "models/vpio_int.h"

/* ---- schema --------------------------------------------------------------- */

const char *const vpio_policy_names[] = {"fifo", "round_robin", NULL};
const char *const vpio_state_names[] = {"hypercall", "shared_page", NULL};

static const scn_field service_fields[] = {
    {.key = "fixed", .type = SCN_DURATION, .offset = SCN_AT(vpio_service_config, fixed, uint64_t),
     .max = 1e12, .def = "0", .doc = "the device's time per transmit (device time)"},
    {.key = "per_byte", .type = SCN_DOUBLE,
     .offset = SCN_AT(vpio_service_config, per_byte, double), .min = 0, .max = 1e6,
     .def = "0", .doc = "and its cycles per byte transmitted"},
};

static const scn_schema service_schema = {
    .name = "service", .size = sizeof(vpio_service_config), .fields = service_fields,
    .nfields = sizeof service_fields / sizeof service_fields[0],
};

static const scn_field receive_fields[] = {
    {.key = "rate", .type = SCN_DOUBLE, .offset = SCN_AT(vpio_receive_config, rate, double),
     .min = 0, .max = 1e7, .def = "0",
     .doc = "packets per second arriving for each vpio guest instance (Poisson; 0: none)"},
    {.key = "size", .type = SCN_SIZE, .offset = SCN_AT(vpio_receive_config, size, uint64_t),
     .min = 1, .max = 65536, .def = "1500B", .doc = "bytes of each packet"},
};

static const scn_schema receive_schema = {
    .name = "receive", .size = sizeof(vpio_receive_config), .fields = receive_fields,
    .nfields = sizeof receive_fields / sizeof receive_fields[0],
};

static const scn_field shared_device_fields[] = {
    {.key = "policy", .type = SCN_ENUM, .offset = SCN_AT(shared_device_config, policy, int),
     .def = "fifo", .enum_names = vpio_policy_names,
     .doc = "which waiting guest gets the device when it frees: fifo (the order of their "
            "failed grabs) or round_robin (the first after the last owner, in instance "
            "order)"},
    {.key = "slice", .type = SCN_DURATION, .offset = SCN_AT(shared_device_config, slice, uint64_t),
     .max = 1e12, .doc = "an owner's time before the upcall tells it to stop (required)"},
    {.key = "grace", .type = SCN_DURATION, .offset = SCN_AT(shared_device_config, grace, uint64_t),
     .max = 1e12, .def = "0",
     .doc = "from the upcall to the forced stop of an owner that has not released"},
    {.key = "host_buffer", .type = SCN_U64,
     .offset = SCN_AT(shared_device_config, host_buffer, uint64_t), .max = 65536,
     .def = "0",
     .doc = "packets the host holds for each guest that does not own the device (0: "
            "they are dropped)"},
    {.key = "service", .type = SCN_STRUCT, .offset = offsetof(shared_device_config, service),
     .sub = &service_schema, .doc = "the device's transmit time"},
    {.key = "receive", .type = SCN_STRUCT, .offset = offsetof(shared_device_config, receive),
     .sub = &receive_schema, .doc = "packets arriving for the guests"},
};

const scn_schema shared_device_schema = {
    .name = "shared_device", .size = sizeof(shared_device_config),
    .fields = shared_device_fields,
    .nfields = sizeof shared_device_fields / sizeof shared_device_fields[0],
};

static const scn_field misbehave_fields[] = {
    {.key = "ignore_upcall", .type = SCN_BOOL,
     .offset = SCN_AT(vpio_misbehave_config, ignore_upcall, bool), .def = "false",
     .doc = "the driver ignores the slice-end upcall and keeps posting"},
    {.key = "skip_state", .type = SCN_BOOL,
     .offset = SCN_AT(vpio_misbehave_config, skip_state, bool), .def = "false",
     .doc = "it grabs without asking the state first"},
    {.key = "hold", .type = SCN_BOOL, .offset = SCN_AT(vpio_misbehave_config, hold, bool),
     .def = "false", .doc = "it never releases the device"},
};

static const scn_schema misbehave_schema = {
    .name = "misbehave", .size = sizeof(vpio_misbehave_config), .fields = misbehave_fields,
    .nfields = sizeof misbehave_fields / sizeof misbehave_fields[0],
};

static const scn_field vpio_fields[] = {
    {.key = "state", .type = SCN_ENUM, .offset = SCN_AT(vpio_config, state, int),
     .def = "hypercall", .enum_names = vpio_state_names,
     .doc = "how the driver learns the device's state: a hypercall, or its shared info "
            "page (no exit)"},
    {.key = "misbehave", .type = SCN_STRUCT, .offset = offsetof(vpio_config, misbehave),
     .sub = &misbehave_schema, .doc = "how this guest's driver breaks the protocol"},
};

const scn_schema vpio_schema = {
    .name = "vpio", .size = sizeof(vpio_config), .fields = vpio_fields,
    .nfields = sizeof vpio_fields / sizeof vpio_fields[0],
};

/* ---- building ----------------------------------------------------------------- */

static void destroy(transport *t)
{
    vp *v = (vp *)t;
    if (!v)
        return;
    sim_ring_fini(&v->pending);
    sim_ring_fini(&v->lost);
    free(v);
}

/* A driver that reads the state from its shared info page gets one page
 * of its own memory for it, which the hypervisor writes. */
static int place_page(vp *v)
{
    if (v->cfg->state != VPIO_STATE_SHARED_PAGE)
        return 0;
    uint64_t frame;
    int rc = guestmem_alloc(v->env.mem, guestmem_page_order(v->env.mem), &frame);
    v->page = frame << GM_FRAME_SHIFT;
    return rc;
}

static transport *create(const transport_env *env, int *rc)
{
    vp *v = calloc(1, sizeof *v);
    *rc = SIM_ENOMEM;
    if (!v)
        return NULL;
    v->env = *env;
    v->cfg = &env->cfg->vpio;
    v->host = env->host;
    v->pos = v->host->first[env->cfg - v->host->cfg->guests] + env->index;
    char name[192];
    snprintf(name, sizeof name, "%s/vpio/rx", env->instance);
    sim_rng_seed(&v->rx_rng, env->seed, name);
    v->hypercall_whole = fabric_whole(env->costs, FABRIC_PATH_HYPERCALL, env->pio_in_emulated);
    v->saw = -1;
    if (sim_ring_init(&v->pending, sizeof(uint32_t)) ||
        sim_ring_init(&v->lost, sizeof(uint32_t))) {
        destroy((transport *)v);
        return NULL;
    }
    *rc = place_page(v);
    if (*rc) {
        destroy((transport *)v);
        return NULL;
    }
    v->host->all[v->pos] = v;
    return (transport *)v;
}

/* ---- acquiring the device ---------------------------------------------------- */

static void push_slot(vp *v, sim_ring *ring, uint32_t slot)
{
    if (sim_ring_push(ring, &slot))
        sim_fail(v->env.k, SIM_ENOMEM);
}

static io_request *starter(vp *v)
{
    return &v->env.requests[v->starter];
}

static void grab_returned(sim_kernel *k, void *ctx, uint64_t arg);

/* The grab hypercall, for the requests waiting. */
static void grab(vp *v)
{
    io_request *r = starter(v);
    r->parts.exit += v->hypercall_whole;
    vcpu_exit_device(v->env.vcpus[0], FABRIC_PATH_HYPERCALL, (vcpu_device){vp_host_grab, v, 0},
                     (vcpu_call){vp_grab_signal, v, 0}, (vcpu_call){grab_returned, v, 0}, NULL,
                     &r->io.sched_cycles);
}

static void state_returned(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k, (void)arg;
    grab(ctx);
}

/* The driver reads the state word of its shared info page. */
static int read_page(const vp *v)
{
    unsigned char b[4];
    if (guestbytes_read(v->env.bytes, v->page, b, sizeof b))
        return VPIO_BUSY;
    return (int)guestbytes_get32(b);
}

/* Requests wait and the driver neither owns the device nor has asked for
 * it: it asks the state (unless it skips that), then grabs. While it
 * drains for a release it asks nothing: the release comes first. */
static void acquire(vp *v)
{
    if (v->owns || v->stopping || v->acquiring || v->queued || !sim_ring_len(&v->pending))
        return;
    v->acquiring = 1;
    v->starter = *(const uint32_t *)sim_ring_at(&v->pending, 0);
    v->saw = -1;
    if (v->cfg->misbehave.skip_state) {
        grab(v);
        return;
    }
    v->env.stats->vpio.state_checks++;
    if (v->cfg->state == VPIO_STATE_SHARED_PAGE) {
        v->saw = read_page(v);
        grab(v);
        return;
    }
    io_request *r = starter(v);
    r->parts.exit += v->hypercall_whole;
    vcpu_exit_device(v->env.vcpus[0], FABRIC_PATH_HYPERCALL,
                     (vcpu_device){vp_host_state, v, 0}, (vcpu_call){0},
                     (vcpu_call){state_returned, v, 0}, NULL, &r->io.sched_cycles);
}

static void post(vp *v, uint32_t slot)
{
    v->inflight++;
    vp_post(v, slot);
}

/* The driver learns that it owns the device (its grab returned granted,
 * or its grant's upcall was handled): what waited is posted. */
static void granted(vp *v)
{
    v->owns = 1;
    v->queued = 0;
    if (vp_in_window(v)) {
        uint64_t latency = sim_now(v->env.k) - v->decided;
        v->env.stats->vpio.grants++;
        v->env.stats->vpio.handover_cycles += latency;
        v->counts.grants++;
        v->counts.handover_cycles += latency;
    }
    while (sim_ring_len(&v->pending)) {
        uint32_t slot;
        sim_ring_pop(&v->pending, &slot);
        post(v, slot);
    }
}

static void grab_returned(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k, (void)arg;
    vp *v = ctx;
    v->acquiring = 0;
    if (v->answer == VP_GRANTED)
        granted(v);
    else
        v->queued = 1;              /* it awaits its grant's upcall */
}

void vp_on_grant(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k, (void)arg;
    granted(ctx);
}

/* ---- giving the device back ----------------------------------------------------- */

static void release_returned(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k, (void)arg;
    vp *v = ctx;
    v->owns = 0;
    v->stopping = 0;
    acquire(v);                     /* requests that waited meanwhile */
}

/* A driver told to stop releases once its last transmit is done; one
 * that holds the device never does. */
static void maybe_release(vp *v)
{
    if (!v->owns || !v->stopping || v->inflight > 0 || v->cfg->misbehave.hold)
        return;
    vcpu_exit_device(v->env.vcpus[0], FABRIC_PATH_HYPERCALL,
                     (vcpu_device){vp_host_release, v, 0}, (vcpu_call){vp_release_signal, v, 0},
                     (vcpu_call){release_returned, v, 0}, NULL, NULL);
}

void vp_on_upcall(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k, (void)arg;
    vp *v = ctx;
    if (v->cfg->misbehave.ignore_upcall || !v->owns)
        return;
    v->stopping = 1;
    maybe_release(v);
}

/* The hypervisor stopped the guest: the requests it lost end refused,
 * and those waiting ask for the device again. */
void vp_on_revoke(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)arg;
    vp *v = ctx;
    v->owns = 0;
    v->stopping = 0;
    while (sim_ring_len(&v->lost)) {
        uint32_t slot;
        sim_ring_pop(&v->lost, &slot);
        v->inflight--;
        v->env.guest.refused(k, v->env.guest.ctx, &v->env.requests[slot]);
    }
    acquire(v);
}

/* ---- transmitting and receiving ---------------------------------------------------- */

void vp_on_transmitted(sim_kernel *k, void *ctx, uint64_t slot)
{
    vp *v = ctx;
    io_request *r = &v->env.requests[slot];
    v->inflight--;
    v->env.stats->vpio.transmits++;
    r->parts.scheduling = r->io.sched_cycles;
    v->env.guest.done(k, v->env.guest.ctx, r);
    maybe_release(v);
}

void vp_on_receive(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k, (void)ctx, (void)arg;  /* the packet is in its buffer: the
                                       interrupt's cost is what it adds */
}

/* The request's buffer is described: the owner posts it, anyone else
 * waits for the device. */
static void dispatch(vp *v, uint32_t slot)
{
    if (v->owns && !v->stopping) {
        post(v, slot);
        return;
    }
    push_slot(v, &v->pending, slot);
    acquire(v);
}

static void copied(sim_kernel *k, void *ctx, uint64_t slot)
{
    (void)k;
    dispatch(ctx, (uint32_t)slot);
}

/* The scheme describes the buffer (a contiguous run, or sections); a
 * bounce copy runs on the slot's vCPU first. */
static void send(transport *t, io_request *r)
{
    vp *v = (vp *)t;
    if (transport_describe(&v->env, r))
        return;
    r->parts.copy = r->cost.copy_cycles;
    if (r->cost.copy_cycles) {
        vcpu_guest_named(r->cpu, "copy", r->cost.copy_cycles, (vcpu_call){copied, v, r->slot},
                         &r->io.sched_cycles);
        return;
    }
    dispatch(v, r->slot);
}

static void start(transport *t)
{
    vp_host_start((vp *)t);
}

static void finish(transport *t, sim_time now)
{
    vp_host_finish((vp *)t, now);
}

const transport_ops transport_vpio = {
    .name = "vpio",
    .host_new = vp_host_new, .host_free = vp_host_free,
    .create = create, .start = start, .send = send, .finish = finish, .destroy = destroy,
    .needs = vp_needs, .check = vp_check, .least = vp_least, .json = vp_stats_json,
    .host_results = "shared_device", .host_json = vp_host_json,
};
