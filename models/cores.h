/*
 * cores.h -- the host's physical cores and the threads that run on them.
 *
 * Everything the host executes is a thread: each guest's vCPU, each device
 * backend worker, each device model's event loop. A thread owns a FIFO of
 * work items (cycles of CPU work, then a handler). A thread with work needs
 * a core; when runnable threads outnumber free cores they wait in one FIFO
 * run queue, so contention shows up as queueing.
 *
 * The costs of sharing cores:
 *   - wake-up: a blocked thread given work becomes runnable only after the
 *     scheduler's wake-up latency (costs.wakeup);
 *   - context switch: a core that runs a different thread from the one it
 *     ran last pays costs.context_switch before the item.
 * A polling thread never blocks: it owns a core of its own for the whole run
 * (the core is burned even when idle) and pays neither cost.
 *
 * Items are not preempted. At the end of an item a thread with more work
 * keeps its core unless other threads are waiting, in which case it goes to
 * the back of the run queue (round robin at item granularity). A thread
 * prefers the core it last ran on, then a core no thread has used, so with
 * at least as many cores as threads every thread keeps a core to itself and
 * no context switch happens.
 *
 * The model knows nothing of guests or devices; the overhead a thread paid
 * before an item (wake-up plus switch) is added to the item's `sched`
 * counter, so callers can attribute it.
 */
#ifndef PVSIM_MODELS_CORES_H
#define PVSIM_MODELS_CORES_H

#include <stdint.h>

#include "sim/kernel.h"
#include "sim/stats.h"
#include "sim/trace.h"

typedef struct cores cores;
typedef struct core_thread core_thread;

typedef enum thread_state {
    THREAD_BLOCKED,               /* no work; waits to be woken */
    THREAD_WAKING,                /* woken; runnable after the wake-up latency */
    THREAD_RUNNABLE,              /* in the run queue */
    THREAD_RUNNING                /* on a core (a polling thread always is) */
} thread_state;

typedef struct cores_costs {
    uint64_t context_switch;      /* cycles a core spends switching threads */
    uint64_t wakeup;              /* cycles from wake-up to runnable */
} cores_costs;

/* Creates a host of `count` cores for at most `max_threads` threads;
 * count 0 means one core per thread (no contention). NULL when memory is
 * short or max_threads is 0. The kernel must outlive it. */
cores *cores_new(sim_kernel *k, uint32_t count, uint32_t max_threads,
                 const cores_costs *costs);
void cores_free(cores *c);

/* Adds a thread, blocked. A polling thread takes a core for itself when
 * cores_start() runs. `kind` is a static string for reports ("vcpu").
 * NULL when max_threads are taken or memory is short. */
core_thread *cores_add_thread(cores *c, const char *kind, int polling);

/* Fixes the number of cores (count 0: the threads added so far) and gives
 * polling threads their cores. SIM_EINVAL when polling threads outnumber
 * the cores, SIM_ENOMEM. Call once, before any work is queued. */
int cores_start(cores *c);

/* Records, in `t` (not owned; it outlives `c`), a slice per work item on
 * a track per core and one per thread (named by its kind and index), from
 * cores_start() on. Call before cores_start(); without it, nothing. */
void cores_set_trace(cores *c, trc_recorder *t);

/* The number of cores, once started. */
uint32_t cores_count(const cores *c);

/* Queues `cycles` of work on `t`; `fn(k, ctx, arg)` runs when it is done.
 * If `sched` is not NULL, the wake-up and switch cycles the thread pays to
 * start this item are added to it. Wakes a blocked thread. Returns 0,
 * SIM_ENOMEM, or a kernel status. */
int thread_work(core_thread *t, sim_time cycles, sim_handler fn, void *ctx,
                uint64_t arg, uint64_t *sched);

/* One named stretch of an item, for timelines: the device worker's item
 * is its translation, its service and its irqfd write. */
typedef struct thread_part {
    const char *name;               /* a static string */
    uint64_t cycles;
} thread_part;

/* Queues an item of the `n` parts in `parts` (which must live until the
 * item is done), as thread_work() with their cycles' sum; a recording
 * shows each part as a slice within the item's. */
int thread_work_parts(core_thread *t, const thread_part *parts, uint32_t n, sim_handler fn,
                      void *ctx, uint64_t arg, uint64_t *sched);

/* Queues a spin on `t`: it holds its core, busy, checking for work (a
 * busy-poll), for at most `cycles`; then `fn(k, ctx, arg)` runs. A spin
 * ended early by thread_spin_end() counts only the cycles it spun. Same
 * returns as thread_work(). */
int thread_spin(core_thread *t, sim_time cycles, sim_handler fn, void *ctx, uint64_t arg,
                uint64_t *sched);

/* Ends the spin `t` is running now (its handler then runs at once, after
 * the current event); 1 if it ended one, 0 when `t` runs no spin. */
int thread_spin_end(core_thread *t);

thread_state thread_state_of(const core_thread *t);
int thread_polling(const core_thread *t);

/* Work items queued or running on `t`. */
uint32_t thread_backlog(const core_thread *t);

typedef struct thread_stats {
    uint64_t items;               /* work items completed */
    uint64_t busy_cycles;         /* cycles of work items (switches excluded) */
    uint64_t wakeups;
    uint64_t switches;            /* context switches into this thread */
    uint64_t ready_wait_cycles;   /* runnable but waiting for a core */
} thread_stats;

typedef struct core_stats {
    double utilisation;           /* share of time running items or switching
                                     (1 for a polling thread's core) */
    double work_share;            /* share of time running items */
    uint64_t switches;
    int polling;                  /* owned by a polling thread */
} core_stats;

typedef struct cores_summary {
    uint32_t count;
    uint32_t polling;             /* cores owned by polling threads */
    uint32_t threads;
    uint64_t switches, wakeups;
    uint32_t peak_runqueue;
    double mean_runqueue;         /* time-weighted */
} cores_summary;

void thread_get_stats(const core_thread *t, thread_stats *out);
/* Statistics of core `i` < cores_count(). */
void cores_get_core_stats(const cores *c, uint32_t i, core_stats *out);
void cores_get_summary(const cores *c, cores_summary *out);
/* Restarts time integrals and counters at now (end of warm-up). */
void cores_reset_stats(cores *c);

#endif
