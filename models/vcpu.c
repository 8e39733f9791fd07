/*
 * vcpu.c -- the vCPU of vcpu.h.
 *
 * The vCPU hands its host thread one item at a time, so it always knows
 * which phase runs and can put an interrupt's handler before the work
 * queued behind it. An exit is two items: the exit transition and handler
 * up to the signal, then the rest of the handler and the entry (with the
 * injection of whatever is pending by then). An exit with a device step
 * has one more in between, the device's busy cycles, and when the device
 * waits, a timer and then a 0-cycle item that pays the thread's wake-up. A wake-up is a 0-cycle item
 * that absorbs the thread's wake-up latency, then the entry: interrupts
 * raised while the thread wakes are injected by that same entry.
 *
 * Recorded (vcpu_trace), each stage is a slice from when it was handed
 * to the thread to its end; one stage runs at a time, so a vCPU's slices
 * never overlap, and an exit's slice encloses its stages.
 */
#include "models/vcpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/report.h"
#include "sim/ring.h"

typedef enum op_kind { OP_GUEST, OP_EXIT, OP_HALT } op_kind;

typedef struct op {
    int kind;                       /* op_kind */
    int path;                       /* OP_EXIT, OP_HALT: fabric_path_id */
    uint64_t cycles;                /* OP_GUEST */
    const char *name;               /* OP_GUEST: its slice's name; NULL:
                                       "guest" */
    int sti;                        /* OP_HALT: the guest's (sti; hlt), not
                                       the idle loop's */
    vcpu_device dev;                /* OP_EXIT: a device model's step, if fn */
    int irq;                        /* an interrupt's handler (its EOI) */
    uint64_t flow;                  /* vcpu_flow(): its first slice's flow */
    int flow_role;                  /* trc_flow_role */
    vcpu_call signal, done;
    uint64_t *phases, *sched;
} op;

typedef struct irq {
    vcpu_call handled;
    uint64_t *cost, *sched;
    sim_time raised;
} irq;

/* What the thread runs for the vCPU now. */
typedef enum vcpu_stage {
    IDLE,                           /* nothing (polling, or halted) */
    GUEST_WORK,
    EXIT_HANDLER,                   /* exit transition and handler */
    EXIT_DEVICE,                    /* a device model's busy cycles */
    EXIT_BLOCKED,                   /* its wait, the thread blocked */
    EXIT_RESUME,                    /* the thread woken after the wait */
    EXIT_ENTRY,                     /* rest of the handler, entry */
    WAKING                          /* the thread's wake-up after a HLT */
} vcpu_stage;

struct vcpu {
    vcpu_env env;
    core_thread *thread;
    int mode;                       /* vcpu_mode */
    int stage;
    int masked;                     /* the guest disabled interrupts */
    int need_extint;                /* an IPI landed in guest mode */
    int halted_op;                  /* a vcpu_halt() op blocked; its done
                                       runs after the wake */
    op cur;                         /* the op in progress */
    fabric_exit path;               /* its phases, for OP_EXIT and OP_HALT */
    sim_time exit_start;            /* when its exit was queued */
    uint64_t device_wait;           /* the device step's blocked cycles */
    sim_ring ops, pending, delivered;
    trc_recorder *trace;            /* NULL: nothing recorded */
    trc_id track, mode_signal, irq_signal, kick_signal;
    uint32_t irqs_open;             /* raised, their handlers not yet done */
    trc_id stage_label[WAKING + 1], reason_label[FABRIC_REASON_COUNT];
    trc_id inject_label, handler_label;
    sim_time item_start;            /* when the current stage was queued */
    sim_time irq_start;             /* when the current handler began */
    int injecting;                  /* the entry queued injects */
    uint64_t next_flow;             /* for the next op queued (vcpu_flow) */
    int next_role;
};

void vcpu_counts_add(vcpu_counts *sum, const vcpu_counts *add)
{
    for (int r = 0; r < FABRIC_REASON_COUNT; r++)
        sum->exits[r] += add->exits[r];
    sum->interrupts += add->interrupts;
    sum->posted += add->posted;
    sum->halts += add->halts;
}

uint64_t vcpu_counts_exits(const vcpu_counts *c)
{
    uint64_t n = 0;
    for (int r = 0; r < FABRIC_REASON_COUNT; r++)
        n += c->exits[r];
    return n;
}

json_t *vcpu_counts_json(const vcpu_counts *c)
{
    json_t *exits = json_object();
    for (int r = 0; exits && r < FABRIC_REASON_COUNT; r++)
        if (rep_set(exits, fabric_reason_name(r), json_integer((json_int_t)c->exits[r]))) {
            json_decref(exits);
            exits = NULL;
        }
    return json_pack("{s:I, s:o, s:I, s:I, s:I}", "exits_total",
                     (json_int_t)vcpu_counts_exits(c), "exits", exits, "interrupts",
                     (json_int_t)c->interrupts, "posted_interrupts", (json_int_t)c->posted,
                     "halts", (json_int_t)c->halts);
}

vcpu *vcpu_new(const vcpu_env *env)
{
    vcpu *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->env = *env;
    /* A halting vCPU starts as it idles: halted, its thread blocked. */
    v->mode = env->polling ? VCPU_GUEST : VCPU_HALTED;
    v->thread = cores_add_thread(env->host, env->kind, env->polling);
    if (!v->thread || sim_ring_init(&v->ops, sizeof(op)) ||
        sim_ring_init(&v->pending, sizeof(irq)) || sim_ring_init(&v->delivered, sizeof(irq))) {
        vcpu_free(v);
        return NULL;
    }
    return v;
}

void vcpu_free(vcpu *v)
{
    if (!v)
        return;
    sim_ring_fini(&v->ops);
    sim_ring_fini(&v->pending);
    sim_ring_fini(&v->delivered);
    free(v);
}

vcpu_mode vcpu_mode_of(const vcpu *v)
{
    return (vcpu_mode)v->mode;
}

void vcpu_get_thread_stats(const vcpu *v, thread_stats *out)
{
    thread_get_stats(v->thread, out);
}

/* ---- recording ----------------------------------------------------------- */

static const char *const mode_names[] = {"guest", "host", "halted", NULL};

/* Slice names of the stages; IDLE and EXIT_RESUME (no cycles) have none. */
static const char *const stage_names[WAKING + 1] = {
    [GUEST_WORK] = "guest", [EXIT_HANDLER] = "exit+handler", [EXIT_DEVICE] = "device",
    [EXIT_BLOCKED] = "blocked", [EXIT_ENTRY] = "entry", [WAKING] = "wake-up"};

void vcpu_trace(vcpu *v, trc_recorder *t, const char *name)
{
    if (trc_wants(t, TRC_SPANS)) {
        v->track = trc_track(t, "vCPUs", name);
        for (int s = 0; s <= WAKING; s++)
            if (stage_names[s])
                v->stage_label[s] = trc_label(t, stage_names[s], "vcpu", NULL);
        for (int r = 0; r < FABRIC_REASON_COUNT; r++) {
            char label[64];
            snprintf(label, sizeof label, "exit: %s", fabric_reason_name(r));
            v->reason_label[r] = trc_label(t, label, "exit", NULL);
        }
        v->inject_label = trc_label(t, "entry+inject", "interrupt", NULL);
        v->handler_label = trc_label(t, "interrupt handler", "interrupt", NULL);
    }
    if (trc_wants(t, TRC_SIGNALS)) {
        v->mode_signal = trc_signal(t, "vcpus", name, "mode", 2, mode_names,
                                    (uint64_t)v->mode);
        v->irq_signal = trc_signal(t, "vcpus", name, "interrupt", 1, NULL, 0);
        v->kick_signal = trc_signal(t, "vcpus", name, "doorbell", 0, NULL, 0);
    }
    v->trace = t;
}

static void set_mode(vcpu *v, int mode)
{
    v->mode = mode;
    if (v->mode_signal)
        trc_set(v->trace, v->mode_signal, sim_now(v->env.k), (uint64_t)mode);
}

/* The interrupt line as the guest sees it: 1 from a raise until the
 * handler of every raised interrupt is done. */
static void irq_level(vcpu *v, int change)
{
    v->irqs_open = (uint32_t)((int64_t)v->irqs_open + change);
    if (v->irq_signal)
        trc_set(v->trace, v->irq_signal, sim_now(v->env.k), v->irqs_open > 0);
}

/* A kick's exit reached its signal (the doorbell's eventfd, or the
 * device model's end of the round trip). */
static void trace_kick(vcpu *v)
{
    if (v->kick_signal && v->cur.path >= FABRIC_PATH_KICK_PIO &&
        v->cur.path <= FABRIC_PATH_KICK_HYPERCALL_USER)
        trc_set(v->trace, v->kick_signal, sim_now(v->env.k), 1);
}

/* The stage that just ended, from when it was queued (its wait for a core
 * included) to now; an exit's own slice when its entry ends, around its
 * phases, and an interrupt handler's around its EOI. */
static void trace_stage(vcpu *v)
{
    if (!v->track)
        return;
    sim_time now = sim_now(v->env.k);
    trc_id label = v->stage == EXIT_ENTRY && v->injecting ? v->inject_label
                   : v->stage == GUEST_WORK && v->cur.name
                       ? trc_label(v->trace, v->cur.name, "vcpu", NULL)
                       : v->stage_label[v->stage];
    trc_slice_flow(v->trace, v->track, v->item_start, now, label, 0, v->cur.flow,
                   (trc_flow_role)v->cur.flow_role);
    v->cur.flow = 0;                /* the op's first slice only */
    v->cur.flow_role = TRC_FLOW_NONE;
    if (v->stage == EXIT_ENTRY)
        trc_slice(v->trace, v->track, v->exit_start, now, v->reason_label[v->path.reason], 0);
    if (v->cur.irq && (v->stage == EXIT_ENTRY || v->stage == GUEST_WORK))
        trc_slice(v->trace, v->track, v->irq_start, now, v->handler_label, 0);
}

/* ---- running items ------------------------------------------------------- */

static void item_done(sim_kernel *k, void *ctx, uint64_t arg);

static void submit(vcpu *v, int stage, uint64_t cycles, uint64_t *sched)
{
    v->stage = stage;
    v->item_start = sim_now(v->env.k);
    int rc = thread_work(v->thread, cycles, item_done, v, 0, sched);
    if (rc)
        sim_fail(v->env.k, rc);
}

static void call(sim_kernel *k, vcpu_call c)
{
    if (c.fn)
        c.fn(k, c.ctx, c.arg);
}

static int push(vcpu *v, sim_ring *r, const void *item)
{
    int rc = sim_ring_push(r, item);
    if (rc)
        sim_fail(v->env.k, rc);
    return rc;
}

/* Moves one pending interrupt to the guest, adding `cost` to what its
 * path cost. */
static void deliver_one(vcpu *v, uint64_t cost)
{
    irq q;
    sim_ring_pop(&v->pending, &q);
    if (q.cost)
        *q.cost += cost;
    v->env.counts->interrupts++;
    v->env.counts->posted += (uint64_t)v->env.posted;
    if (push(v, &v->delivered, &q))
        return;                     /* the run stops: sim_fail() */
}

/* The interrupts pending now reach the guest with the entry being queued;
 * returns the injection cycles it pays. Each pays the entry and its
 * injection, but one whose IPI forced this exit (an external-interrupt
 * exit queued after its flight) pays the whole path: flight, exit,
 * handler and entry. */
static uint64_t deliver_pending(vcpu *v)
{
    if (v->masked)
        return 0;
    const vmm_costs *c = v->env.costs;
    uint64_t inject = v->env.posted ? 0 : c->inject, total = 0;
    int forced = v->cur.kind == OP_EXIT && v->cur.path == FABRIC_PATH_EXTINT;
    uint64_t whole = c->host_ipi + v->path.to_signal + v->path.after_signal + v->path.entry;
    while (sim_ring_len(&v->pending)) {
        const irq *q = sim_ring_at(&v->pending, 0);
        int caused = forced && q->raised + c->host_ipi <= v->exit_start;
        deliver_one(v, (caused ? whole : c->entry) + inject);
        total += inject;
    }
    return total;
}

/* Queues the entry: from here on the vCPU counts as in the guest. The
 * entry's switches count for the op only when nobody waits on a signal
 * it already raised. */
static void enter(vcpu *v, uint64_t cycles)
{
    uint64_t inject = deliver_pending(v);
    v->injecting = inject > 0;
    cycles += inject;
    set_mode(v, VCPU_GUEST);
    submit(v, EXIT_ENTRY, cycles, v->cur.signal.fn ? NULL : v->cur.sched);
}

/* Starts v->cur. */
static void begin(vcpu *v)
{
    const op *o = &v->cur;
    if (o->kind == OP_GUEST) {
        submit(v, GUEST_WORK, o->cycles, o->sched);
        return;
    }
    if (o->kind == OP_HALT && o->sti)
        v->masked = 0;
    v->path = fabric_exit_of(v->env.costs, o->path, v->env.pio_in_emulated);
    v->env.counts->exits[v->path.reason]++;
    set_mode(v, VCPU_HOST);
    v->exit_start = sim_now(v->env.k);
    if (o->phases)
        *o->phases += v->path.to_signal;
    submit(v, EXIT_HANDLER, v->path.to_signal, o->sched);
}

static void start(vcpu *v, const op *o)
{
    v->cur = *o;
    begin(v);
}

/* The guest's handler for the oldest delivered interrupt: its EOI, then
 * the owner's `handled`. */
static void start_handler(vcpu *v)
{
    irq q;
    sim_ring_pop(&v->delivered, &q);
    const vmm_costs *c = v->env.costs;
    v->irq_start = sim_now(v->env.k);
    if (v->env.eoi == VMM_EOI_EXIT) {
        if (q.cost)
            *q.cost += c->exit + c->eoi_handler + c->entry;
        start(v, &(op){.kind = OP_EXIT, .path = FABRIC_PATH_EOI, .done = q.handled,
                       .sched = q.sched, .irq = 1});
    } else {
        if (q.cost)
            *q.cost += c->eoi_write;
        start(v, &(op){.kind = OP_GUEST, .cycles = c->eoi_write, .done = q.handled,
                       .sched = q.sched, .irq = 1});
    }
}

/* Starts the next piece of work if the thread runs nothing of ours:
 * interrupt handlers first, then an exit a landed IPI forces, then the
 * queue; with nothing to do, a halting vCPU halts. */
static void advance(vcpu *v)
{
    if (v->stage != IDLE || v->mode == VCPU_HALTED)
        return;
    if (!v->masked && sim_ring_len(&v->delivered)) {
        start_handler(v);
        return;
    }
    if (v->need_extint) {
        v->need_extint = 0;
        if (!v->masked && sim_ring_len(&v->pending)) {
            start(v, &(op){.kind = OP_EXIT, .path = FABRIC_PATH_EXTINT});
            return;
        }
    }
    if (sim_ring_len(&v->ops)) {
        v->cur = *(const op *)sim_ring_front(&v->ops);
        sim_ring_drop(&v->ops);
        begin(v);
        return;
    }
    if (!v->env.polling)
        start(v, &(op){.kind = OP_HALT, .path = FABRIC_PATH_HLT});
}

/* The HLT's exit and handler ran: block, unless there is a reason not to
 * (an interrupt pending, or work queued meanwhile). */
static void halted(vcpu *v)
{
    int pending = !v->masked && sim_ring_len(&v->pending) > 0;
    if (pending || sim_ring_len(&v->ops) || sim_ring_len(&v->delivered)) {
        enter(v, v->env.costs->entry);  /* the HLT path holds no entry */
        return;
    }
    v->env.counts->halts++;
    set_mode(v, VCPU_HALTED);
    v->stage = IDLE;
    v->halted_op = v->cur.sti;
}

/* A halted vCPU gets work or an interrupt: its thread wakes. */
static void wake(vcpu *v, uint64_t *sched)
{
    set_mode(v, VCPU_HOST);
    if (!v->halted_op)
        v->cur = (op){.kind = OP_HALT, .sched = sched};
    v->halted_op = 0;
    submit(v, WAKING, 0, sched);
}

/* The handler reached the device model: it decides its work now. */
static void start_device(sim_kernel *k, vcpu *v)
{
    vcpu_work w = v->cur.dev.fn(k, v->cur.dev.ctx, v->cur.dev.arg);
    v->device_wait = w.wait;
    if (v->cur.phases)
        *v->cur.phases += w.busy;
    submit(v, EXIT_DEVICE, w.busy, v->cur.sched);
}

static void wait_over(sim_kernel *k, void *ctx, uint64_t arg);

/* The device's work is done: its effects land, and the handler goes on
 * to the entry. */
static void device_effects(sim_kernel *k, vcpu *v)
{
    call(k, v->cur.signal);
    enter(v, v->path.after_signal + v->path.entry);
}

/* The device's busy part is done: it blocks for its wait, if any. */
static void device_done(sim_kernel *k, vcpu *v)
{
    if (v->device_wait == 0) {
        device_effects(k, v);
        return;
    }
    v->stage = EXIT_BLOCKED;
    v->item_start = sim_now(k);
    int rc = sim_schedule(k, v->device_wait, SIM_BAND_NORMAL, wait_over, v, 0, NULL);
    if (rc)
        sim_fail(k, rc);
}

/* The wait ended: the blocked thread is woken (a 0-cycle item that pays
 * the wake-up) to finish the exit. */
static void wait_over(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k;
    (void)arg;
    vcpu *v = ctx;
    v->device_wait = 0;
    trace_stage(v);
    submit(v, EXIT_RESUME, 0, v->cur.sched);
}

static void item_done(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)arg;
    vcpu *v = ctx;
    vcpu_call done = v->cur.done;
    trace_stage(v);
    switch (v->stage) {
    case EXIT_HANDLER:
        if (v->cur.kind == OP_HALT) {
            halted(v);
            return;
        }
        if (v->cur.dev.fn) {
            start_device(k, v);
            return;
        }
        if (v->path.signals) {
            trace_kick(v);
            call(k, v->cur.signal);
        }
        enter(v, v->path.after_signal + v->path.entry);
        return;
    case EXIT_DEVICE:
        device_done(k, v);
        return;
    case EXIT_RESUME:
        device_effects(k, v);
        return;
    case WAKING:
        enter(v, v->env.costs->entry);
        return;
    default:                        /* GUEST_WORK, EXIT_ENTRY */
        v->stage = IDLE;
        if (v->cur.irq)
            irq_level(v, -1);
        call(k, done);
        advance(v);
    }
}

/* ---- what the owner asks for -------------------------------------------- */

static void queue(vcpu *v, const op *in)
{
    op *o = sim_ring_push_slot(&v->ops);
    if (!o) {
        sim_fail(v->env.k, SIM_ENOMEM);
        return;
    }
    *o = *in;
    o->flow = v->next_flow;
    o->flow_role = v->next_role;
    v->next_flow = 0;
    v->next_role = TRC_FLOW_NONE;
    if (v->mode == VCPU_HALTED)
        wake(v, in->sched);
    else
        advance(v);
}

void vcpu_flow(vcpu *v, uint64_t flow, trc_flow_role role)
{
    if (!v->track)
        return;
    v->next_flow = flow;
    v->next_role = role;
}

void vcpu_guest(vcpu *v, uint64_t cycles, vcpu_call done, uint64_t *sched)
{
    queue(v, &(op){.kind = OP_GUEST, .cycles = cycles, .done = done, .sched = sched});
}

void vcpu_guest_named(vcpu *v, const char *name, uint64_t cycles, vcpu_call done,
                      uint64_t *sched)
{
    queue(v, &(op){.kind = OP_GUEST, .cycles = cycles, .name = name, .done = done,
                   .sched = sched});
}

void vcpu_exit(vcpu *v, int path, vcpu_call signal, vcpu_call done, uint64_t *phases,
               uint64_t *sched)
{
    queue(v, &(op){.kind = OP_EXIT, .path = path, .signal = signal, .done = done,
                   .phases = phases, .sched = sched});
}

void vcpu_exit_device(vcpu *v, int path, vcpu_device dev, vcpu_call signal, vcpu_call done,
                      uint64_t *phases, uint64_t *sched)
{
    queue(v, &(op){.kind = OP_EXIT, .path = path, .dev = dev, .signal = signal,
                   .done = done, .phases = phases, .sched = sched});
}

void vcpu_halt(vcpu *v, vcpu_call done, uint64_t *sched)
{
    queue(v, &(op){.kind = OP_HALT, .path = FABRIC_PATH_HLT, .sti = 1, .done = done,
                   .sched = sched});
}

void vcpu_set_masked(vcpu *v, int masked)
{
    v->masked = masked;
    if (!masked)
        advance(v);
}

/* A host IPI reached the core of a vCPU that ran the guest when it left. */
static void landed(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)arg;
    vcpu *v = ctx;
    if (v->mode != VCPU_GUEST || v->masked || sim_ring_len(&v->pending) == 0)
        return;                     /* the entry or HLT in between saw it */
    if (!v->env.posted) {
        v->need_extint = 1;
    } else {
        /* Each interrupt whose own flight has ended. */
        sim_time now = sim_now(k);
        while (sim_ring_len(&v->pending) &&
               ((const irq *)sim_ring_at(&v->pending, 0))->raised + v->env.costs->host_ipi <= now)
            deliver_one(v, v->env.costs->host_ipi);
    }
    advance(v);
}

void vcpu_interrupt(vcpu *v, vcpu_call handled, uint64_t *cost, uint64_t *sched)
{
    irq q = {.handled = handled, .cost = cost, .sched = sched, .raised = sim_now(v->env.k)};
    if (push(v, &v->pending, &q))
        return;
    irq_level(v, +1);
    if (v->mode == VCPU_HALTED) {
        wake(v, sched);
    } else if (v->mode == VCPU_GUEST) {
        int rc = sim_schedule(v->env.k, v->env.costs->host_ipi, SIM_BAND_NORMAL, landed, v,
                              0, NULL);
        if (rc)
            sim_fail(v->env.k, rc);
    }
}
