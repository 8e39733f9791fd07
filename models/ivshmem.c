/*
 * ivshmem.c -- the ivshmem device and its peer workloads (ivshmem.h).
 *
 * A message's life, sender S to receiver R:
 *   S's vCPU: copy the message into shared memory, write Doorbell (an exit)
 *   -> R's eventfd: irqfd raises the interrupt (MSI, in the kernel), or R's
 *      device-model thread wakes, sets IntrStatus and raises it
 *   -> R's vCPU: injection as its state allows, the handler's register
 *      accesses (IntrStatus, IntrMask), EOI
 *   -> R's vCPU: copy the waiting messages out of shared memory, then act
 *      on each (reply, or count it towards the round).
 * Items queued on a peer's vCPU carry the peer's epoch, which a detach
 * bumps, so work left over from before a detach is ignored.
 */
#include "models/ivshmem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/rows.h"
#include "sim/report.h"
#include "sim/ring.h"
#include "sim/stats.h"

/* ---- schema ------------------------------------------------------------- */

static const char *const layout_names[] = {"16bit", "32bit", NULL};
static const char *const pattern_names[] = {"pingpong", "fanout", "broadcast", "all-to-all",
                                            NULL};
static const char *const action_names[] = {"detach", "attach", NULL};

static const scn_field event_fields[] = {
    {.key = "at", .type = SCN_DURATION, .offset = SCN_AT(ivshmem_event, at, uint64_t),
     .flags = SCN_REQUIRED, .max = 1e16, .doc = "when, from the start of the run"},
    {.key = "peer", .type = SCN_U64, .offset = SCN_AT(ivshmem_event, peer, uint64_t),
     .flags = SCN_REQUIRED, .max = 65535, .doc = "the peer's id (IVPosition)"},
    {.key = "action", .type = SCN_ENUM, .offset = SCN_AT(ivshmem_event, action, int),
     .flags = SCN_REQUIRED, .enum_names = action_names,
     .doc = "detach (the peer leaves) or attach (it comes back)"},
};

static const scn_schema event_schema = {
    .name = "event",
    .size = sizeof(ivshmem_event),
    .fields = event_fields,
    .nfields = sizeof event_fields / sizeof event_fields[0],
};

static const scn_field ivshmem_fields[] = {
    {.key = "peers", .type = SCN_U64, .offset = SCN_AT(ivshmem_config, peers, uint64_t),
     .max = IVSHMEM_MAX_PEERS, .def = "0",
     .doc = "guests sharing the memory, each with one vCPU (0: no ivshmem device)"},
    {.key = "layout", .type = SCN_ENUM, .offset = SCN_AT(ivshmem_config, layout, int),
     .def = "16bit", .enum_names = layout_names,
     .doc = "register width: 16bit caps peers at 16, 32bit at 1,920"},
    {.key = "shared_memory", .type = SCN_SIZE,
     .offset = SCN_AT(ivshmem_config, shared_memory, uint64_t), .min = 4096,
     .max = 68719476736.0, .def = "1MiB",
     .doc = "BAR1, a power of two; each peer's inbox is an equal share"},
    {.key = "pattern", .type = SCN_ENUM, .offset = SCN_AT(ivshmem_config, pattern, int),
     .def = "pingpong", .enum_names = pattern_names,
     .doc = "pingpong: pairs (0,1), (2,3)... exchange a request and a reply; "
            "fanout: peer 0 sends to each live peer and waits for every reply; "
            "broadcast: peer 0 sends one broadcast doorbell and waits for every "
            "reply; all-to-all: every peer sends to every other each round"},
    {.key = "size", .type = SCN_SIZE, .offset = SCN_AT(ivshmem_config, size, uint64_t),
     .min = 1, .max = 1073741824.0, .def = "64B",
     .doc = "bytes per message, written into and read out of shared memory"},
    {.key = "think", .type = SCN_DURATION, .offset = SCN_AT(ivshmem_config, think, uint64_t),
     .max = 1e12, .def = "0", .doc = "guest work between an initiator's rounds"},
    {.key = "events", .type = SCN_LIST, .offset = offsetof(ivshmem_config, events),
     .count_offset = offsetof(ivshmem_config, nevents), .max = 4096,
     .sub = &event_schema, .doc = "peers detaching and attaching during the run"},
};

const scn_schema ivshmem_schema = {
    .name = "ivshmem",
    .size = sizeof(ivshmem_config),
    .fields = ivshmem_fields,
    .nfields = sizeof ivshmem_fields / sizeof ivshmem_fields[0],
};

/* ---- registers ------------------------------------------------------------ */

/* 256-byte BAR0 minus 16 bytes of registers, in 32-bit words. */
#define LIVELIST_WORDS_32 60u
_Static_assert(LIVELIST_WORDS_32 * 32u == IVSHMEM_MAX_PEERS, "the schema's cap is the layout's");

uint32_t ivshmem_max_peers(int layout)
{
    return layout == IVSHMEM_16BIT ? 16u : LIVELIST_WORDS_32 * 32u;
}

static unsigned dest_shift(int layout)
{
    return layout == IVSHMEM_16BIT ? 8u : 16u;
}

uint32_t ivshmem_broadcast_id(int layout)
{
    return (1u << dest_shift(layout)) - 1u;
}

uint32_t ivshmem_doorbell(int layout, uint32_t dest, uint32_t value)
{
    uint32_t mask = ivshmem_broadcast_id(layout);
    return ((dest & mask) << dest_shift(layout)) | (value & mask);
}

void ivshmem_decode(int layout, uint32_t doorbell, uint32_t *dest, uint32_t *value)
{
    uint32_t mask = ivshmem_broadcast_id(layout);
    *dest = (doorbell >> dest_shift(layout)) & mask;
    *value = doorbell & mask;
}

uint32_t ivshmem_livelist_words(int layout, uint32_t peers)
{
    return layout == IVSHMEM_16BIT ? 1u : (peers + 31u) / 32u;
}

static int needs_model_thread(const fabric_config *f)
{
    return f->interrupts == FABRIC_INTX || f->handler == FABRIC_USERSPACE;
}

uint32_t ivshmem_threads(const ivshmem_config *cfg, const fabric_config *f)
{
    return (uint32_t)cfg->peers * (needs_model_thread(f) ? 2u : 1u);
}

/* ---- state ------------------------------------------------------------------ */

enum { MSG_REQUEST, MSG_REPLY };
enum { PEER_IDLE, PEER_THINKING, PEER_IN_ROUND };

typedef struct message {
    uint32_t from, kind;
    sim_time sent;
    uint64_t flow;                  /* its trace flow; 0: none */
} message;

typedef struct peer {
    ivshmem *dev;
    uint32_t id;
    vcpu *vcpu;
    core_thread *model;             /* the device model's thread, or NULL */
    int live;
    uint32_t epoch;
    int status_unread, irq_pending, control_pending;
    sim_ring inbox;                 /* of message */
    uint32_t claimed;               /* inbox messages a drain has taken */
    int state;                      /* PEER_* for initiators */
    int cut;                        /* this round lost a peer */
    sim_time round_start;
    uint32_t awaiting;
    uint8_t *awaiting_from;         /* per peer id */
    uint8_t *early_from;            /* all-to-all: next round's message came */
    trc_id track, doorbell, status, line, source;   /* 0: not recorded */
} peer;

typedef struct counters {
#define X(name) uint64_t name;
    IVSHMEM_COUNTERS(X)
#undef X
} counters;

struct ivshmem {
    sim_kernel *k;
    const ivshmem_config *cfg;
    fabric_config f;
    const vmm_costs *c;
    peer *peers;
    uint32_t n;
    int doorbell_path;              /* fabric_path_id of a Doorbell write */
    uint64_t doorbell_to_signal;    /* its exit and handler up to the signal */
    uint64_t copy_cycles;           /* one message into or out of memory */
    counters st;
    vcpu_counts vc;                 /* every peer's exits and interrupts */
    ivshmem_hooks hooks;
    sim_hist round, one_way;
    trc_recorder *trace;            /* NULL: nothing recorded */
    trc_id send_label, receive_label, row_what;
    int measuring;                  /* the warm-up is over (rows) */
};

static uint64_t pack(uint32_t epoch, uint32_t value)
{
    return (uint64_t)epoch << 32 | value;
}

static int current(const peer *p, uint64_t arg)
{
    return p->live && (uint32_t)(arg >> 32) == p->epoch;
}

static int is_initiator(const ivshmem *d, const peer *p)
{
    switch (d->cfg->pattern) {
    case IVSHMEM_PINGPONG:
        return p->id % 2 == 0;
    case IVSHMEM_ALL_TO_ALL:
        return 1;
    default:
        return p->id == 0;
    }
}

/* Queues `cycles` of work on `p`'s device-model thread, then fn(p, arg); a
 * failure to queue stops the run. */
static void model_work(peer *p, uint64_t cycles, sim_handler fn, uint64_t arg)
{
    int rc = thread_work(p->model, cycles, fn, p, arg, NULL);
    if (rc)
        sim_fail(p->dev->k, rc);
}

/* ---- building ---------------------------------------------------------------- */

static int build_peer(ivshmem *d, peer *p, uint32_t id, cores *host, int eoi)
{
    p->dev = d;
    p->id = id;
    p->live = 1;
    p->awaiting_from = calloc(d->n, 1);
    p->early_from = calloc(d->n, 1);
    vcpu_env ve = {.k = d->k, .host = host, .kind = "ivshmem-vcpu", .costs = d->c,
                   .polling = d->f.vcpu_idle == FABRIC_POLL,
                   .posted = d->f.posted_interrupts, .eoi = eoi, .counts = &d->vc};
    p->vcpu = vcpu_new(&ve);
    if (needs_model_thread(&d->f))
        p->model = cores_add_thread(host, "ivshmem-model", d->f.backend == FABRIC_POLL);
    if (sim_ring_init(&p->inbox, sizeof(message)) || !p->awaiting_from || !p->early_from ||
        !p->vcpu)
        return SIM_ENOMEM;
    if (needs_model_thread(&d->f) && !p->model)
        return SIM_ENOMEM;
    return 0;
}

ivshmem *ivshmem_new(sim_kernel *k, const ivshmem_config *cfg, const fabric_config *f,
                     const vmm_costs *costs, int eoi, cores *host, ivshmem_hooks hooks)
{
    ivshmem *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->k = k;
    d->hooks = hooks;
    d->cfg = cfg;
    d->f = *f;
    d->c = costs;
    d->n = (uint32_t)cfg->peers;
    /* The doorbell is an MMIO register, handled as the fabric says. */
    d->doorbell_path = fabric_kick_path(FABRIC_KICK_MMIO, f->handler);
    d->doorbell_to_signal = fabric_exit_of(costs, d->doorbell_path, 0).to_signal;
    d->copy_cycles = (uint64_t)llround((double)costs->copy_per_kib * (double)cfg->size / 1024.0);
    d->peers = calloc(d->n ? d->n : 1, sizeof *d->peers);
    int rc = d->peers ? 0 : SIM_ENOMEM;
    for (uint32_t i = 0; rc == 0 && i < d->n; i++)
        rc = build_peer(d, &d->peers[i], i, host, eoi);
    if (rc == 0)
        rc = sim_hist_init(&d->round);
    if (rc == 0)
        rc = sim_hist_init(&d->one_way);
    if (rc) {
        ivshmem_free(d);
        return NULL;
    }
    return d;
}

void ivshmem_free(ivshmem *d)
{
    if (!d)
        return;
    for (uint32_t i = 0; d->peers && i < d->n; i++) {
        sim_ring_fini(&d->peers[i].inbox);
        free(d->peers[i].awaiting_from);
        free(d->peers[i].early_from);
        vcpu_free(d->peers[i].vcpu);
    }
    free(d->peers);
    sim_hist_fini(&d->round);
    sim_hist_fini(&d->one_way);
    free(d);
}

int ivshmem_live(const ivshmem *d, uint32_t id)
{
    return id < d->n && d->peers[id].live;
}

/* ---- recording ---------------------------------------------------------------- */

static void trace_peer(ivshmem *d, peer *p, trc_recorder *t)
{
    char name[48];
    snprintf(name, sizeof name, "ivshmem peer %u vcpu", (unsigned)p->id);
    vcpu_trace(p->vcpu, t, name);
    snprintf(name, sizeof name, "peer %u", (unsigned)p->id);
    if (d->send_label)
        p->track = trc_track(t, "ivshmem peers", name);
    if (trc_wants(t, TRC_SIGNALS)) {
        p->doorbell = trc_signal(t, "ivshmem", name, "doorbell", 0, NULL, 0);
        p->status = trc_signal(t, "ivshmem", name, "IntrStatus", 1, NULL, 0);
        p->line = trc_signal(t, "ivshmem", name, "interrupt", 1, NULL, 0);
    }
    if (d->row_what) {
        snprintf(name, sizeof name, "ivshmem peer %u", (unsigned)p->id);
        p->source = trc_label(t, name, NULL, NULL);
    }
}

void ivshmem_trace(ivshmem *d, trc_recorder *t)
{
    if (trc_wants(t, TRC_SPANS)) {
        d->send_label = trc_label(t, "send", "ivshmem", "to");
        d->receive_label = trc_label(t, "receive", "ivshmem", "from");
    }
    if (trc_wants(t, TRC_ROWS) && rows_declare(t) == 0)
        d->row_what = trc_label(t, "message", NULL, NULL);
    d->trace = t;
    for (uint32_t i = 0; t && i < d->n; i++)
        trace_peer(d, &d->peers[i], t);
}

/* Sets signal `s` (0: not recorded) of the device to `value` now. */
static void trace_set(ivshmem *d, trc_id s, uint64_t value)
{
    if (s)
        trc_set(d->trace, s, sim_now(d->k), value);
}

/* The sender's slice, from its copy in to the doorbell reaching the
 * eventfd (the times `sent` assumes), where the message's flow starts. */
static uint64_t trace_send(peer *s, const message *m, uint32_t dest)
{
    ivshmem *d = s->dev;
    trace_set(d, s->doorbell, 1);
    if (!s->track)
        return 0;
    uint64_t flow = trc_flow_new(d->trace);
    trc_slice_flow(d->trace, s->track, m->sent, sim_now(d->k), d->send_label, dest, flow,
                   TRC_FLOW_OUT);
    return flow;
}

/* The receiver's slice for one of the `n` messages its drain copied out
 * (together, so they share the span), where the flow ends; and its row. */
static void trace_receive(peer *r, const message *m, uint32_t n)
{
    ivshmem *d = r->dev;
    sim_time now = sim_now(d->k);
    if (r->track)
        trc_slice_flow(d->trace, r->track, now - n * d->copy_cycles, now, d->receive_label,
                       m->from, m->flow, TRC_FLOW_IN);
    if (r->source && d->measuring)
        rows_add(d->trace, &(rows_entry){.source = r->source, .what = d->row_what,
                                         .issued = m->sent, .completed = now,
                                         .bytes = d->cfg->size});
}

/* ---- sending ------------------------------------------------------------------ */

static void doorbell_written(sim_kernel *k, void *ctx, uint64_t arg);

static const vcpu_call none = {0};

/* Queues on `p`'s vCPU: write a message to `dest` (or broadcast) into
 * shared memory, then ring the doorbell (an exit whose handler signals
 * the destination's eventfd). */
static void send(peer *p, uint32_t dest, uint32_t kind)
{
    ivshmem *d = p->dev;
    uint32_t value = ivshmem_doorbell(d->cfg->layout, dest, kind);
    vcpu_guest_named(p->vcpu, "copy in", d->copy_cycles, none, NULL);
    vcpu_exit(p->vcpu, d->doorbell_path, (vcpu_call){doorbell_written, p, pack(p->epoch, value)},
              none, NULL, NULL);
}

static void raise_interrupt(peer *r);
static void model_signalled(sim_kernel *k, void *ctx, uint64_t arg);

/* The message is in shared memory; signal R's eventfd. */
static void deliver(peer *r, message m, uint32_t value)
{
    ivshmem *d = r->dev;
    if (sim_ring_push(&r->inbox, &m)) {
        sim_fail(d->k, SIM_ENOMEM);
        return;
    }
    d->st.messages++;
    if (!needs_model_thread(&d->f))
        raise_interrupt(r);         /* the eventfd is R's irqfd */
    else
        model_work(r, 0, model_signalled, pack(r->epoch, value));
}

static void doorbell_written(sim_kernel *k, void *ctx, uint64_t arg)
{
    peer *s = ctx;
    ivshmem *d = s->dev;
    if (!current(s, arg))
        return;                     /* written before the sender detached */
    uint32_t dest, value;
    ivshmem_decode(d->cfg->layout, (uint32_t)arg, &dest, &value);
    message m = {.from = s->id, .kind = value,
                 .sent = sim_now(k) - d->copy_cycles - d->doorbell_to_signal};
    m.flow = trace_send(s, &m, dest);
    d->st.doorbells++;
    d->st.exits_doorbell++;
    if (dest == ivshmem_broadcast_id(d->cfg->layout)) {
        d->st.broadcasts++;
        for (uint32_t i = 0; i < d->n; i++)
            if (i != s->id && d->peers[i].live)
                deliver(&d->peers[i], m, value);
        return;
    }
    if (dest >= d->n || !d->peers[dest].live) {
        d->st.dropped++;
        return;
    }
    deliver(&d->peers[dest], m, value);
}

/* ---- receiving -------------------------------------------------------------------- */

static void model_raises(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k;
    peer *r = ctx;
    if (current(r, arg))
        raise_interrupt(r);
}

/* INTx (or MSI without irqfd): the device model read the eventfd; it
 * sets IntrStatus and raises the interrupt (an irqfd write). */
static void model_signalled(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k;
    peer *r = ctx;
    ivshmem *d = r->dev;
    if (!current(r, arg))
        return;
    if (d->f.interrupts == FABRIC_INTX) {
        if (r->status_unread)
            d->st.status_lost++;
        r->status_unread = 1;
        trace_set(d, r->status, 1);
    }
    model_work(r, d->c->eventfd_signal, model_raises, arg);
}

static void handled(sim_kernel *k, void *ctx, uint64_t arg);

static void raise_interrupt(peer *r)
{
    ivshmem *d = r->dev;
    if (r->irq_pending) {
        d->st.coalesced++;
        return;
    }
    r->irq_pending = 1;
    trace_set(d, r->line, 1);
    vcpu_interrupt(r->vcpu, (vcpu_call){handled, r, pack(r->epoch, 0)}, NULL, NULL);
}

/* Register accesses the device model serves: exits to userspace. */
static void register_accesses(peer *r, uint32_t n, uint64_t *counter)
{
    for (uint32_t i = 0; i < n; i++)
        vcpu_exit(r->vcpu, FABRIC_PATH_MMIO_USER, none, none, NULL, NULL);
    *counter += n;
}

static void drained(sim_kernel *k, void *ctx, uint64_t arg);
static void drain(sim_kernel *k, void *ctx, uint64_t arg);

/* The interrupt is delivered and its EOI written: the guest's handler
 * reads IntrStatus (INTx), masks and unmasks (mask: true), reads
 * IVLiveList after a membership change, then copies out the messages
 * waiting by then. */
static void handled(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k;
    peer *r = ctx;
    ivshmem *d = r->dev;
    if (!current(r, arg))
        return;
    r->irq_pending = 0;
    r->status_unread = 0;
    trace_set(d, r->line, 0);
    trace_set(d, r->status, 0);
    if (d->f.interrupts == FABRIC_INTX)
        register_accesses(r, 1, &d->st.exits_status);
    if (d->f.mask)
        register_accesses(r, 2, &d->st.exits_mask);
    if (r->control_pending) {
        r->control_pending = 0;
        register_accesses(r, ivshmem_livelist_words(d->cfg->layout, d->n),
                          &d->st.exits_livelist);
    }
    vcpu_guest(r->vcpu, 0, (vcpu_call){drain, r, arg}, NULL);
}

/* Copies out every message not yet taken by an earlier drain. */
static void drain(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k;
    peer *r = ctx;
    if (!current(r, arg))
        return;
    uint32_t n = sim_ring_len(&r->inbox) - r->claimed;
    if (n == 0)
        return;
    r->claimed += n;
    vcpu_guest_named(r->vcpu, "copy out", n * r->dev->copy_cycles,
                     (vcpu_call){drained, r, pack(r->epoch, n)}, NULL);
}

/* ---- rounds -------------------------------------------------------------------------- */

static void start_round(sim_kernel *k, void *ctx, uint64_t arg);

static void round_done(peer *p)
{
    ivshmem *d = p->dev;
    if (p->cut)
        d->st.rounds_cut++;
    else
        sim_hist_record(&d->round, sim_now(d->k) - p->round_start);
    d->st.rounds++;
    p->state = PEER_THINKING;
    vcpu_guest(p->vcpu, d->cfg->think, (vcpu_call){start_round, p, pack(p->epoch, 0)}, NULL);
    if (d->hooks.round)
        d->hooks.round(d->k, d->hooks.ctx);
}

/* Expect a message from every other live peer (all-to-all counts the
 * ones that already came). */
static void await_all(peer *p)
{
    ivshmem *d = p->dev;
    for (uint32_t j = 0; j < d->n; j++) {
        uint8_t want = j != p->id && d->peers[j].live;
        if (d->cfg->pattern == IVSHMEM_ALL_TO_ALL && p->early_from[j]) {
            p->early_from[j] = 0;
            want = 0;
        }
        p->awaiting_from[j] = want;
        p->awaiting += want;
    }
}

static void begin(peer *p)
{
    ivshmem *d = p->dev;
    uint32_t others = 0;
    for (uint32_t j = 0; j < d->n; j++)
        others += j != p->id && d->peers[j].live;
    p->awaiting = 0;
    p->cut = 0;
    p->round_start = sim_now(d->k);
    switch (d->cfg->pattern) {
    case IVSHMEM_PINGPONG: {
        uint32_t partner = p->id ^ 1u;
        if (partner >= d->n || !d->peers[partner].live)
            break;
        p->awaiting_from[partner] = 1;
        p->awaiting = 1;
        send(p, partner, MSG_REQUEST);
        break;
    }
    case IVSHMEM_BROADCAST:
        if (others == 0)
            break;
        await_all(p);
        send(p, ivshmem_broadcast_id(d->cfg->layout), MSG_REQUEST);
        break;
    default:                        /* fanout, all-to-all: one doorbell each */
        if (others == 0)
            break;
        await_all(p);
        for (uint32_t j = 0; j < d->n; j++)
            if (j != p->id && d->peers[j].live)
                send(p, j, MSG_REQUEST);
        break;
    }
    p->state = p->awaiting ? PEER_IN_ROUND : PEER_IDLE;
    if (p->state == PEER_IDLE && others > 0 && d->cfg->pattern == IVSHMEM_ALL_TO_ALL)
        round_done(p);              /* every message of the round came early */
}

static void start_round(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k;
    peer *p = ctx;
    if (current(p, arg))
        begin(p);
}

/* One message from `from` counts towards p's round. */
static void count_towards_round(peer *p, uint32_t from)
{
    if (p->state == PEER_IN_ROUND && p->awaiting_from[from]) {
        p->awaiting_from[from] = 0;
        if (--p->awaiting == 0)
            round_done(p);
    } else if (p->dev->cfg->pattern == IVSHMEM_ALL_TO_ALL) {
        p->early_from[from] = 1;
    }
}

static void act_on(peer *r, const message *m)
{
    ivshmem *d = r->dev;
    sim_hist_record(&d->one_way, sim_now(d->k) - m->sent);
    if (m->kind == MSG_REPLY || d->cfg->pattern == IVSHMEM_ALL_TO_ALL)
        count_towards_round(r, m->from);
    else if (d->peers[m->from].live)
        send(r, m->from, MSG_REPLY);
}

static void drained(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k;
    peer *r = ctx;
    if (!current(r, arg))
        return;
    uint32_t n = (uint32_t)arg;
    for (uint32_t i = 0; i < n; i++) {
        message m;
        sim_ring_pop(&r->inbox, &m);
        r->claimed--;
        trace_receive(r, &m, n);
        act_on(r, &m);
    }
}

/* ---- attach and detach ------------------------------------------------------------------- */

static void reset_peer(peer *p)
{
    p->epoch++;
    p->status_unread = p->irq_pending = p->control_pending = 0;
    trace_set(p->dev, p->line, 0);
    trace_set(p->dev, p->status, 0);
    sim_ring_clear(&p->inbox);
    p->claimed = 0;
    p->state = PEER_IDLE;
    p->awaiting = 0;
    memset(p->awaiting_from, 0, p->dev->n);
    memset(p->early_from, 0, p->dev->n);
}

/* Rounds waiting on `gone` give up on it. */
static void forget_peer(ivshmem *d, uint32_t gone)
{
    for (uint32_t i = 0; i < d->n; i++) {
        peer *p = &d->peers[i];
        p->early_from[gone] = 0;
        if (p->state != PEER_IN_ROUND || !p->awaiting_from[gone])
            continue;
        p->awaiting_from[gone] = 0;
        p->cut = 1;
        if (--p->awaiting == 0)
            round_done(p);
    }
}

static void membership_changed(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k;
    ivshmem *d = ctx;
    const ivshmem_event *e = &d->cfg->events[arg];
    peer *p = &d->peers[e->peer];
    if ((e->action == IVSHMEM_ATTACH) == p->live)
        return;                     /* the loader refuses this; be safe */
    reset_peer(p);
    p->live = e->action == IVSHMEM_ATTACH;
    if (p->live)
        d->st.attaches++;
    else
        d->st.detaches++;
    if (!p->live)
        forget_peer(d, p->id);
    for (uint32_t i = 0; i < d->n; i++) {
        peer *o = &d->peers[i];
        if (i == p->id || !o->live)
            continue;
        o->control_pending = 1;
        raise_interrupt(o);
        if (p->live && o->state == PEER_IDLE && is_initiator(d, o))
            vcpu_guest(o->vcpu, 0, (vcpu_call){start_round, o, pack(o->epoch, 0)}, NULL);
    }
    if (p->live && is_initiator(d, p))
        vcpu_guest(p->vcpu, 0, (vcpu_call){start_round, p, pack(p->epoch, 0)}, NULL);
}

void ivshmem_start(ivshmem *d)
{
    for (size_t i = 0; i < d->cfg->nevents; i++) {
        int rc = sim_schedule_at(d->k, d->cfg->events[i].at, SIM_BAND_NORMAL,
                                 membership_changed, d, i, NULL);
        if (rc) {
            sim_fail(d->k, rc);
            return;
        }
    }
    for (uint32_t i = 0; i < d->n; i++) {
        peer *p = &d->peers[i];
        if (is_initiator(d, p))
            vcpu_guest(p->vcpu, 0, (vcpu_call){start_round, p, pack(p->epoch, 0)}, NULL);
    }
}

/* ---- results ---------------------------------------------------------------------------------- */

void ivshmem_reset_stats(ivshmem *d)
{
    d->measuring = 1;
    memset(&d->st, 0, sizeof d->st);
    memset(&d->vc, 0, sizeof d->vc);
    sim_hist_clear(&d->round);
    sim_hist_clear(&d->one_way);
}

static json_t *counters_json(const counters *st)
{
    json_t *o = json_object();
#define X(name)                                                                \
    if (o && rep_set(o, #name, json_integer((json_int_t)st->name))) {          \
        json_decref(o);                                                        \
        o = NULL;                                                              \
    }
    IVSHMEM_COUNTERS(X)
#undef X
    return o;
}

json_t *ivshmem_json(const ivshmem *d, uint64_t clock_hz)
{
    const counters *st = &d->st;
    double msgs = (double)(st->messages ? st->messages : 1);
    uint32_t live = 0;
    for (uint32_t i = 0; i < d->n; i++)
        live += (uint32_t)d->peers[i].live;
    return json_pack("{s:I, s:s, s:s, s:I, s:I, s:o, s:o, s:f, s:f, s:o, s:o, s:o, s:o}",
                     "peers", (json_int_t)d->n,
                     "layout", layout_names[d->cfg->layout],
                     "pattern", pattern_names[d->cfg->pattern],
                     "max_peers", (json_int_t)ivshmem_max_peers(d->cfg->layout),
                     "live_at_end", (json_int_t)live,
                     "counts", counters_json(st),
                     "vcpus", vcpu_counts_json(&d->vc),
                     "intercepts_per_message", (double)vcpu_counts_exits(&d->vc) / msgs,
                     "interrupts_per_message", (double)d->vc.interrupts / msgs,
                     "round_latency_cycles", rep_quantiles(&d->round, 0),
                     "round_latency_ns", rep_quantiles(&d->round, clock_hz),
                     "one_way_latency_cycles", rep_quantiles(&d->one_way, 0),
                     "one_way_latency_ns", rep_quantiles(&d->one_way, clock_hz));
}
