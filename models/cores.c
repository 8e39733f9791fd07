/*
 * cores.c -- host cores and threads (cores.h).
 *
 * Threads live in one array fixed at creation, so a completion event names
 * its thread by index. Idle cores that have run a thread sit in an array
 * with O(1) removal (a thread asks for its last core by index); cores never
 * used are handed out in order from a cursor. Each thread's work queue is a
 * sim_ring, which doubles, so the steady state allocates nothing.
 * Recorded (cores_set_trace), an item is a slice on its core's track and
 * its thread's when it completes: items are not preempted, so neither
 * track's slices overlap.
 */
#include "models/cores.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/ring.h"

#define NONE UINT32_MAX

typedef struct work {
    sim_time cycles;
    sim_handler fn;
    void *ctx;
    uint64_t arg;
    uint64_t *sched;
    int spin;                     /* thread_spin: may end early */
    const thread_part *parts;     /* thread_work_parts: for recording */
    uint32_t nparts;
} work;

struct core_thread {
    cores *host;
    const char *kind;
    int polling;
    int executing;                /* an item's completion is pending */
    thread_state state;
    uint32_t index;
    uint32_t core, last_core;     /* NONE when not on / never on a core */
    sim_ring q;                   /* of work; the oldest item runs first */
    uint64_t pending_sched;       /* wake-up cycles owed to the next item */
    trc_id track, label;          /* its track and slice name; 0: none */
    sim_time ready_since;
    sim_time item_start;          /* when the running item's cycles began */
    sim_event_id done_ev;         /* its completion, for ending a spin */
    thread_stats st;
};

typedef struct core {
    core_thread *current, *last;
    int polling;
    uint32_t idle_pos;            /* index in cores.idle, or NONE */
    uint64_t switches;
    uint64_t work_cycles;         /* of items started since reset */
    sim_util busy;
    trc_id track;                 /* 0: not traced */
} core;

struct cores {
    sim_kernel *k;
    cores_costs costs;
    uint32_t count, max_threads, nthreads;
    int started;
    core_thread *threads;
    core *cores;
    uint32_t *idle, nidle;        /* idle cores that have run a thread */
    uint32_t next_fresh;          /* cores from here on were never used */
    core_thread **runq;           /* ring of max_threads */
    uint32_t rq_head, rq_len, peak_rq;
    sim_util rq_level;
    sim_time reset_at;
    trc_recorder *trace;          /* NULL: nothing recorded */
};

cores *cores_new(sim_kernel *k, uint32_t count, uint32_t max_threads,
                 const cores_costs *costs)
{
    if (!k || max_threads == 0)
        return NULL;
    cores *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->k = k;
    c->costs = *costs;
    c->count = count;
    c->max_threads = max_threads;
    c->threads = calloc(max_threads, sizeof *c->threads);
    c->runq = calloc(max_threads, sizeof *c->runq);
    if (!c->threads || !c->runq) {
        cores_free(c);
        return NULL;
    }
    return c;
}

void cores_free(cores *c)
{
    if (!c)
        return;
    for (uint32_t i = 0; c->threads && i < c->nthreads; i++)
        sim_ring_fini(&c->threads[i].q);
    free(c->threads);
    free(c->runq);
    free(c->cores);
    free(c->idle);
    free(c);
}

core_thread *cores_add_thread(cores *c, const char *kind, int polling)
{
    if (c->started || c->nthreads == c->max_threads)
        return NULL;
    core_thread *t = &c->threads[c->nthreads];
    if (sim_ring_init(&t->q, sizeof(work)))
        return NULL;
    t->host = c;
    t->kind = kind;
    t->polling = polling;
    t->index = c->nthreads++;
    t->core = t->last_core = NONE;
    t->state = THREAD_BLOCKED;
    return t;
}

void cores_set_trace(cores *c, trc_recorder *t)
{
    c->trace = t;
}

/* A track per core and per thread, and a slice name per thread kind
 * (threads of one kind share it: the track says which thread). */
static void make_tracks(cores *c)
{
    if (!trc_wants(c->trace, TRC_SPANS))
        return;
    char name[64];
    for (uint32_t i = 0; i < c->count; i++) {
        snprintf(name, sizeof name, "core %u", (unsigned)i);
        c->cores[i].track = trc_track(c->trace, "host cores", name);
    }
    for (uint32_t i = 0; i < c->nthreads; i++) {
        core_thread *t = &c->threads[i];
        snprintf(name, sizeof name, "%s %u", t->kind, (unsigned)i);
        t->track = trc_track(c->trace, "host threads", name);
        t->label = trc_label(c->trace, t->kind, "host", "thread");
    }
}

/* The item `t` just finished, on its core's track and its own. Items of
 * no cycles (a vCPU's wake-up step) are left out: they have no width. */
static void trace_item(core_thread *t, const work *w)
{
    cores *c = t->host;
    if (!trc_wants(c->trace, TRC_SPANS) || w->cycles == 0)
        return;
    sim_time now = sim_now(c->k);
    trc_slice(c->trace, c->cores[t->core].track, t->item_start, now, t->label, t->index);
    trc_slice(c->trace, t->track, t->item_start, now, t->label, t->index);
    sim_time at = t->item_start;
    for (uint32_t i = 0; i < w->nparts; i++) {
        const thread_part *p = &w->parts[i];
        if (p->cycles)
            trc_slice(c->trace, t->track, at, at + p->cycles,
                      trc_label(c->trace, p->name, "host", NULL), t->index);
        at += p->cycles;
    }
}

int cores_start(cores *c)
{
    uint32_t polling = 0;
    for (uint32_t i = 0; i < c->nthreads; i++)
        polling += (uint32_t)c->threads[i].polling;
    if (c->count == 0)
        c->count = c->nthreads ? c->nthreads : 1;
    if (polling > c->count)
        return SIM_EINVAL;
    c->cores = calloc(c->count, sizeof *c->cores);
    c->idle = calloc(c->count, sizeof *c->idle);
    if (!c->cores || !c->idle)
        return SIM_ENOMEM;
    sim_time now = sim_now(c->k);
    for (uint32_t i = 0; i < c->count; i++) {
        c->cores[i].idle_pos = NONE;
        sim_util_init(&c->cores[i].busy, now);
    }
    sim_util_init(&c->rq_level, now);
    c->reset_at = now;
    /* Polling threads spin on the first cores from the start. */
    for (uint32_t i = 0; i < c->nthreads; i++) {
        core_thread *t = &c->threads[i];
        if (!t->polling)
            continue;
        core *cr = &c->cores[c->next_fresh];
        cr->polling = 1;
        cr->current = cr->last = t;
        sim_util_set(&cr->busy, now, 1);
        t->core = t->last_core = c->next_fresh++;
        t->state = THREAD_RUNNING;
    }
    c->started = 1;
    make_tracks(c);
    return 0;
}

uint32_t cores_count(const cores *c)
{
    return c->count;
}

/* ---- the run queue and idle cores -------------------------------------- */

static void runq_push(cores *c, core_thread *t)
{
    c->runq[(c->rq_head + c->rq_len) % c->max_threads] = t;
    c->rq_len++;
    if (c->rq_len > c->peak_rq)
        c->peak_rq = c->rq_len;
    sim_util_set(&c->rq_level, sim_now(c->k), c->rq_len);
}

static core_thread *runq_pop(cores *c)
{
    core_thread *t = c->runq[c->rq_head];
    c->rq_head = (c->rq_head + 1) % c->max_threads;
    c->rq_len--;
    sim_util_set(&c->rq_level, sim_now(c->k), c->rq_len);
    return t;
}

static void idle_remove(cores *c, uint32_t i)
{
    uint32_t pos = c->cores[i].idle_pos;
    uint32_t moved = c->idle[--c->nidle];
    c->idle[pos] = moved;
    c->cores[moved].idle_pos = pos;
    c->cores[i].idle_pos = NONE;
}

/* An idle core for `t`: its last one, else a fresh one, else any. */
static uint32_t take_idle_core(cores *c, const core_thread *t)
{
    if (t->last_core != NONE && c->cores[t->last_core].idle_pos != NONE) {
        idle_remove(c, t->last_core);
        return t->last_core;
    }
    if (c->next_fresh < c->count)
        return c->next_fresh++;
    if (c->nidle == 0)
        return NONE;
    uint32_t i = c->idle[c->nidle - 1];
    idle_remove(c, i);
    return i;
}

/* ---- running items --------------------------------------------------------- */

static void item_done(sim_kernel *k, void *ctx, uint64_t arg);

/* Starts the head item of `t` on its core after `overhead` switch cycles. */
static void start_item(core_thread *t, uint64_t overhead)
{
    cores *c = t->host;
    work *w = sim_ring_at(&t->q, 0);
    uint64_t sched = t->pending_sched + overhead;
    t->pending_sched = 0;
    if (w->sched)
        *w->sched += sched;
    t->executing = 1;
    t->item_start = sim_now(c->k) + overhead;
    c->cores[t->core].work_cycles += w->cycles;
    /* A thread has one completion pending at most, so only a kernel out of
     * memory refuses this; the thread could never finish: stop the run. */
    int rc = sim_schedule(c->k, overhead + w->cycles, SIM_BAND_NORMAL, item_done, c,
                          t->index, &t->done_ev);
    if (rc)
        sim_fail(c->k, rc);
}

static void run_on(core_thread *t, uint32_t i)
{
    cores *c = t->host;
    core *cr = &c->cores[i];
    sim_time now = sim_now(c->k);
    uint64_t overhead = 0;
    if (cr->last && cr->last != t) {
        overhead = c->costs.context_switch;
        cr->switches++;
        t->st.switches++;
    }
    t->st.ready_wait_cycles += now - t->ready_since;
    cr->current = cr->last = t;
    t->core = t->last_core = i;
    t->state = THREAD_RUNNING;
    sim_util_set(&cr->busy, now, 1);
    start_item(t, overhead);
}

/* Core `i` has no thread: the run queue's head takes it, or it idles. */
static void release_core(cores *c, uint32_t i)
{
    core *cr = &c->cores[i];
    cr->current = NULL;
    if (c->rq_len > 0) {
        run_on(runq_pop(c), i);
        return;
    }
    sim_util_set(&cr->busy, sim_now(c->k), 0);
    cr->idle_pos = c->nidle;
    c->idle[c->nidle++] = i;
}

static void make_runnable(core_thread *t)
{
    cores *c = t->host;
    t->state = THREAD_RUNNABLE;
    t->ready_since = sim_now(c->k);
    uint32_t i = c->rq_len ? NONE : take_idle_core(c, t);
    if (i == NONE)
        runq_push(c, t);
    else
        run_on(t, i);
}

static void woken(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)k;
    cores *c = ctx;
    make_runnable(&c->threads[arg]);
}

/* After an item: keep the core, yield it to waiting threads, or block. */
static void continue_thread(core_thread *t)
{
    cores *c = t->host;
    if (sim_ring_len(&t->q) > 0 && (t->polling || c->rq_len == 0)) {
        start_item(t, 0);
        return;
    }
    if (t->polling)
        return;
    uint32_t i = t->core;
    t->core = NONE;
    if (sim_ring_len(&t->q) > 0) {
        t->state = THREAD_RUNNABLE;
        t->ready_since = sim_now(c->k);
        runq_push(c, t);
    } else {
        t->state = THREAD_BLOCKED;
    }
    release_core(c, i);
}

static void item_done(sim_kernel *k, void *ctx, uint64_t arg)
{
    cores *c = ctx;
    core_thread *t = &c->threads[arg];
    const work *w = sim_ring_front(&t->q);
    sim_handler fn = w->fn;
    void *fn_ctx = w->ctx;
    uint64_t fn_arg = w->arg;
    t->st.items++;
    t->st.busy_cycles += w->cycles;
    trace_item(t, w);
    sim_ring_drop(&t->q);
    /* Still `executing` during the handler, so work it queues on this
     * (polling) thread waits for continue_thread() instead of starting. */
    fn(k, fn_ctx, fn_arg);
    t->executing = 0;
    continue_thread(t);
}

static int queue_work(core_thread *t, const work *w)
{
    cores *c = t->host;
    if (!w->fn || !c->started)
        return SIM_EINVAL;
    work *slot = sim_ring_push_slot(&t->q);
    if (!slot)
        return SIM_ENOMEM;
    *slot = *w;
    if (t->polling) {
        if (!t->executing)
            start_item(t, 0);
        return 0;
    }
    if (t->state != THREAD_BLOCKED)
        return 0;
    t->st.wakeups++;
    if (c->costs.wakeup == 0) {
        make_runnable(t);
        return 0;
    }
    t->state = THREAD_WAKING;
    t->pending_sched += c->costs.wakeup;
    return sim_schedule(c->k, c->costs.wakeup, SIM_BAND_NORMAL, woken, c, t->index, NULL);
}

int thread_work(core_thread *t, sim_time cycles, sim_handler fn, void *ctx,
                uint64_t arg, uint64_t *sched)
{
    return queue_work(t, &(work){cycles, fn, ctx, arg, sched, 0, NULL, 0});
}

int thread_work_parts(core_thread *t, const thread_part *parts, uint32_t n, sim_handler fn,
                      void *ctx, uint64_t arg, uint64_t *sched)
{
    sim_time cycles = 0;
    for (uint32_t i = 0; i < n; i++)
        cycles += parts[i].cycles;
    return queue_work(t, &(work){cycles, fn, ctx, arg, sched, 0, parts, n});
}

int thread_spin(core_thread *t, sim_time cycles, sim_handler fn, void *ctx, uint64_t arg,
                uint64_t *sched)
{
    return queue_work(t, &(work){cycles, fn, ctx, arg, sched, 1, NULL, 0});
}

int thread_spin_end(core_thread *t)
{
    cores *c = t->host;
    if (!t->executing || sim_ring_len(&t->q) == 0)
        return 0;
    work *w = sim_ring_at(&t->q, 0);
    sim_time now = sim_now(c->k);
    if (!w->spin || sim_cancel(c->k, t->done_ev) != 0)
        return 0;
    /* A spin still in its switch overhead ends when the overhead does. */
    sim_time end = now > t->item_start ? now : t->item_start;
    sim_time spun = end - t->item_start;
    c->cores[t->core].work_cycles -= w->cycles - spun;
    w->cycles = spun;
    w->spin = 0;
    int rc = sim_schedule_at(c->k, end, SIM_BAND_NORMAL, item_done, c, t->index, &t->done_ev);
    if (rc)
        sim_fail(c->k, rc);
    return 1;
}

thread_state thread_state_of(const core_thread *t)
{
    return t->state;
}

int thread_polling(const core_thread *t)
{
    return t->polling;
}

uint32_t thread_backlog(const core_thread *t)
{
    return sim_ring_len(&t->q);
}

/* ---- statistics -------------------------------------------------------------- */

void thread_get_stats(const core_thread *t, thread_stats *out)
{
    *out = t->st;
}

void cores_get_core_stats(const cores *c, uint32_t i, core_stats *out)
{
    const core *cr = &c->cores[i];
    sim_time now = sim_now(c->k);
    double span = (double)(now - c->reset_at);
    out->utilisation = sim_util_mean(&cr->busy, now);
    out->work_share = span > 0 ? (double)cr->work_cycles / span : 0.0;
    if (out->work_share > 1.0)
        out->work_share = 1.0;  /* an item started before the window's end
                                   counts whole */
    out->switches = cr->switches;
    out->polling = cr->polling;
}

void cores_get_summary(const cores *c, cores_summary *out)
{
    memset(out, 0, sizeof *out);
    out->count = c->count;
    out->threads = c->nthreads;
    for (uint32_t i = 0; i < c->count; i++) {
        out->polling += (uint32_t)c->cores[i].polling;
        out->switches += c->cores[i].switches;
    }
    for (uint32_t i = 0; i < c->nthreads; i++)
        out->wakeups += c->threads[i].st.wakeups;
    out->peak_runqueue = c->peak_rq;
    out->mean_runqueue = sim_util_mean(&c->rq_level, sim_now(c->k));
}

void cores_reset_stats(cores *c)
{
    sim_time now = sim_now(c->k);
    c->reset_at = now;
    c->peak_rq = c->rq_len;
    sim_util_reset(&c->rq_level, now);
    for (uint32_t i = 0; i < c->count; i++) {
        c->cores[i].switches = 0;
        c->cores[i].work_cycles = 0;
        sim_util_reset(&c->cores[i].busy, now);
    }
    for (uint32_t i = 0; i < c->nthreads; i++)
        memset(&c->threads[i].st, 0, sizeof c->threads[i].st);
}
