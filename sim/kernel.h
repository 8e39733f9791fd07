/*
 * kernel.h -- the discrete-event kernel: simulated time and the event queue.
 *
 * The kernel knows nothing of guests, devices or costs. Models schedule
 * handlers at future times; the kernel runs them in (time, band, sequence)
 * order, so events at the same time and band run in the order they were
 * scheduled (FIFO) and a run is deterministic bit for bit.
 *
 * Models never see the queue: they hold an opaque `sim_kernel *` and an
 * opaque `sim_event_id` per pending event. The queue behind this API is a
 * backend; `native` (timing wheel + overflow heap) is the default, and the
 * SystemC backend (docs/systemc.md) replaces it without any model noticing.
 *
 * Invariants:
 *   - sim_now() never decreases.
 *   - A handler runs at most once per schedule call; a cancelled event never
 *     runs. Cancelling inside a handler (including an event at the same time)
 *     is allowed.
 *   - Scheduling before now() is refused with SIM_EPAST and changes nothing.
 *   - Events come from a pool owned by the kernel: no malloc per event once
 *     the pool has grown to the peak number pending.
 */
#ifndef PVSIM_SIM_KERNEL_H
#define PVSIM_SIM_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "sim/error.h"

typedef uint64_t sim_time;          /* cycles of the host clock */
#define SIM_TIME_MAX UINT64_MAX

typedef struct sim_kernel sim_kernel;

/* A handler: `ctx` and `arg` are what was given to sim_schedule(). */
typedef void (*sim_handler)(sim_kernel *k, void *ctx, uint64_t arg);

/*
 * Priority bands break ties between events at the same time: every
 * SIM_BAND_FIRST event at time t runs before any SIM_BAND_NORMAL one at t,
 * and so on. Within a band, scheduling order decides.
 */
typedef enum sim_band {
    SIM_BAND_FIRST = 0,   /* state changes that others at t must observe */
    SIM_BAND_NORMAL = 1,  /* almost everything */
    SIM_BAND_LAST = 2,    /* sampling, end-of-timestep bookkeeping */
    SIM_BAND_COUNT = 3
} sim_band;

/* Handle of a pending event, for cancellation. {0,0} is never valid. */
typedef struct sim_event_id {
    uint32_t slot;
    uint32_t gen;
} sim_event_id;

/* The queue that runs the events; both give the same results. */
typedef enum sim_backend_kind {
    SIM_BACKEND_NATIVE = 0,     /* sim/kernel.c: timing wheel + heap */
    SIM_BACKEND_SYSTEMC = 1,    /* sim/kernel_systemc.cc, when built */
    SIM_BACKEND_COUNT = 2
} sim_backend_kind;

typedef struct sim_kernel_config {
    /* Upper bound on events pending at once; scheduling beyond it fails with
     * SIM_ELIMIT instead of growing without bound. 0 = default (1 << 24). */
    uint32_t max_pending;
    /* Events to preallocate (the pool grows by doubling up to max_pending).
     * 0 = default (1024). */
    uint32_t initial_pool;
    /* Only sim_kernel_open() reads it; sim_kernel_new() is always native. */
    sim_backend_kind backend;
} sim_kernel_config;

/* Why sim_run() returned. */
typedef enum sim_stop_reason {
    SIM_STOP_QUIESCENT = 0,   /* no event pending */
    SIM_STOP_TIME_LIMIT,      /* next event lies beyond `until` */
    SIM_STOP_EVENT_LIMIT,     /* `max_events` handlers have run */
    SIM_STOP_REQUESTED,       /* a handler called sim_stop() */
    SIM_STOP_FAILED           /* a handler called sim_fail(): see
                                 sim_failure() */
} sim_stop_reason;

typedef struct sim_kernel_stats {
    uint64_t executed;        /* handlers run since creation */
    uint64_t scheduled;       /* successful schedule calls */
    uint64_t cancelled;       /* successful cancel calls */
    uint32_t pending;         /* events pending now (not cancelled) */
    uint32_t peak_pending;
    uint32_t pool_size;       /* event records allocated */
} sim_kernel_stats;

/* Creates a kernel at time 0 with the native backend. `cfg` may be NULL for
 * defaults. Returns NULL when memory is short. Free with sim_kernel_free(). */
sim_kernel *sim_kernel_new(const sim_kernel_config *cfg);

/* Creates a kernel at time 0 with `cfg->backend` (native when `cfg` is
 * NULL) into `*out`. Returns 0, SIM_ENOMEM, SIM_ENOTBUILT (that backend is
 * not in this build) or SIM_EONCE (SystemC: this process already had a
 * kernel); on failure `*out` is NULL. Free with sim_kernel_free(). */
int sim_kernel_open(sim_kernel **out, const sim_kernel_config *cfg);

/* Whether backend `b` is in this build. */
int sim_kernel_backend_built(sim_backend_kind b);

/* Frees the kernel and every pending event (their handlers are not run).
 * Accepts NULL. */
void sim_kernel_free(sim_kernel *k);

/* The current simulated time. */
sim_time sim_now(const sim_kernel *k);

/* Schedules `fn(k, ctx, arg)` at now + delay in `band`. On success returns 0
 * and, if `id` is not NULL, stores a handle for sim_cancel(). Fails with
 * SIM_ELIMIT (pool at max_pending), SIM_ENOMEM, SIM_EINVAL (bad band, NULL fn,
 * or now + delay overflows). */
int sim_schedule(sim_kernel *k, sim_time delay, sim_band band,
                 sim_handler fn, void *ctx, uint64_t arg, sim_event_id *id);

/* Like sim_schedule() at absolute time `when`; fails with SIM_EPAST if
 * `when` < now. */
int sim_schedule_at(sim_kernel *k, sim_time when, sim_band band,
                    sim_handler fn, void *ctx, uint64_t arg, sim_event_id *id);

/* Cancels a pending event: its handler will not run. Returns 0, or
 * SIM_ENOTPENDING if the event already ran, was cancelled, or the id is
 * stale. Safe inside any handler. */
int sim_cancel(sim_kernel *k, sim_event_id id);

/* Runs events in order until none is pending, the next lies after `until`
 * (time then advances to `until`), `max_events` handlers have run (0 = no
 * limit), or a handler calls sim_stop(). Can be called again to continue. */
sim_stop_reason sim_run(sim_kernel *k, sim_time until, uint64_t max_events);

/* Asks sim_run() to return after the current handler. */
void sim_stop(sim_kernel *k);

/* A model met a failure it cannot recover from inside a handler (the
 * event pool could not grow, a thread could not take work): sim_run()
 * returns SIM_STOP_FAILED after the current handler, and every later call
 * returns it at once. The first status recorded wins; `status` must be a
 * negative SIM_* code (anything else is recorded as SIM_EINVAL). */
void sim_fail(sim_kernel *k, int status);

/* The status given to the first sim_fail(), or 0. */
int sim_failure(const sim_kernel *k);

void sim_kernel_get_stats(const sim_kernel *k, sim_kernel_stats *out);

#endif
