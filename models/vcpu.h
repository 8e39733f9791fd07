/*
 * vcpu.h -- a virtual CPU: a host thread (cores.h) that runs guest code,
 * takes VM exits phase by phase, and receives interrupts as its state
 * allows.
 *
 * Work reaches a vCPU as guest work (cycles in guest mode), exits (a path
 * of fabric.h: exit transition and handler, a signal where the handler
 * raises one, then the entry transition) and HLTs. They run in the order
 * they were queued, one at a time, except that interrupts go first: an
 * interrupt delivered to the guest runs its handler and EOI as soon as
 * the work in progress ends (work is not preempted mid-item).
 *
 * Its mode decides what an interrupt raised for it costs:
 *   guest   (running guest code, or polling in an idle loop): the raise
 *           sends a host IPI (flight time, busy for no one); when it lands
 *           the interrupt is posted (no exit, no injection) or forces an
 *           external-interrupt exit whose entry injects it;
 *   host    (in an exit, before its entry is queued): no IPI; the entry
 *           injects it (posted: the entry delivers it with no injection);
 *   halted  (blocked after a HLT exit): the raise wakes the thread
 *           (cores' wake-up latency), which re-enters with the injection.
 * A HLT that finds an interrupt pending does not block: it re-enters with
 * the injection at once. The guest's EOI then exits (eoi_handler), or
 * costs eoi_write in the guest, by the EOI mode.
 *
 * The mode turns from host to guest when an entry is queued: an interrupt
 * raised while the entry runs sends an IPI, as KVM's IN_GUEST_MODE does.
 *
 * Errors: these calls happen inside event handlers, where no caller could
 * recover; a failure (memory to queue work) stops the run through
 * sim_fail(), and the call returns.
 */
#ifndef PVSIM_MODELS_VCPU_H
#define PVSIM_MODELS_VCPU_H

#include <jansson.h>
#include <stdint.h>

#include "models/cores.h"
#include "models/fabric.h"
#include "models/vmm.h"
#include "sim/kernel.h"
#include "sim/trace.h"

typedef struct vcpu vcpu;

/* A handler to call later: fn(k, ctx, arg). fn NULL: nothing. */
typedef struct vcpu_call {
    sim_handler fn;
    void *ctx;
    uint64_t arg;
} vcpu_call;

typedef enum vcpu_mode { VCPU_GUEST, VCPU_HOST, VCPU_HALTED } vcpu_mode;

/* What a vCPU counts, where its owner wants it counted (several vCPUs may
 * share one). */
typedef struct vcpu_counts {
    uint64_t exits[FABRIC_REASON_COUNT];
    uint64_t interrupts;            /* delivered to the guest */
    uint64_t posted;                /* of which posted (no injection) */
    uint64_t halts;                 /* HLT exits after which it blocked */
} vcpu_counts;

/* Adds every counter of `add` into `sum`. */
void vcpu_counts_add(vcpu_counts *sum, const vcpu_counts *add);
/* Exits of every reason. */
uint64_t vcpu_counts_exits(const vcpu_counts *c);
/* The counts as a results object: exits by reason, interrupts delivered
 * and how many of them were posted, halts. NULL when memory is short. */
json_t *vcpu_counts_json(const vcpu_counts *c);

typedef struct vcpu_env {
    sim_kernel *k;
    cores *host;                    /* the vCPU becomes one of its threads */
    const char *kind;               /* the thread's kind, static ("vcpu") */
    const vmm_costs *costs;         /* outlives the vCPU */
    int polling;                    /* idles in the guest instead of halting */
    int posted;                     /* posted interrupts */
    int eoi;                        /* vmm_eoi */
    int pio_in_emulated;
    vcpu_counts *counts;            /* outlives the vCPU */
} vcpu_env;

/* Creates a vCPU and its host thread; call before cores_start(). A
 * polling vCPU starts in the guest, a halting one halted (its first work
 * wakes it). NULL when memory is short or the host has no room for the
 * thread. */
vcpu *vcpu_new(const vcpu_env *env);
void vcpu_free(vcpu *v);

/* Queues `cycles` of guest work, then `done`. `sched` (may be NULL)
 * receives the wake-up and switch cycles paid on the way. */
void vcpu_guest(vcpu *v, uint64_t cycles, vcpu_call done, uint64_t *sched);
/* The same, named in a recording (`name` static: "copy"). */
void vcpu_guest_named(vcpu *v, const char *name, uint64_t cycles, vcpu_call done,
                      uint64_t *sched);

/* Queues an exit by path `path` (fabric_path_id): `signal` runs at the
 * path's signal (if it has one), `done` after the entry. `phases` (may be
 * NULL) receives the cycles of the exit and handler up to the signal;
 * `sched` the wake-up and switch cycles. */
void vcpu_exit(vcpu *v, int path, vcpu_call signal, vcpu_call done, uint64_t *phases,
               uint64_t *sched);

/* What a device model spends inside an exit: `busy` cycles on the vCPU's
 * thread, then `wait` cycles blocked in the host (a disk's latency: the
 * core is free meanwhile, and the thread pays a wake-up to go on). */
typedef struct vcpu_work {
    uint64_t busy, wait;
} vcpu_work;

/* A device model that runs inside an exit. `fn` runs when the exit's
 * handler reaches the device (after the path's phases up to its signal,
 * or its whole handler when it raises none): it reads what it needs then,
 * and returns the work it does. */
typedef struct vcpu_device {
    vcpu_work (*fn)(sim_kernel *k, void *ctx, uint64_t arg);
    void *ctx;
    uint64_t arg;
} vcpu_device;

/* Queues an exit by path `path` whose handler hands the access to a
 * device model (a port the device model decodes, a hypercall the host
 * serves): the path's phases up to its signal, then `dev`'s work, then
 * `signal` (where the device's effects land: a reply written, an
 * interrupt raised), then the rest of the path and the entry, then
 * `done`. `phases` (may be NULL) receives the path's cycles up to the
 * device and the device's busy cycles; `sched` the wake-up and switch
 * cycles. */
void vcpu_exit_device(vcpu *v, int path, vcpu_device dev, vcpu_call signal, vcpu_call done,
                      uint64_t *phases, uint64_t *sched);

/* Queues a HLT with the guest's interrupts enabled (sti; hlt): the vCPU
 * exits and blocks until an interrupt is pending, or re-enters at once if
 * one is; `done` once it has re-entered. */
void vcpu_halt(vcpu *v, vcpu_call done, uint64_t *sched);

/* The guest disables (1) or enables (0) interrupts. While they are
 * disabled, raised interrupts stay pending: nothing is delivered or
 * injected. vcpu_halt() enables them. */
void vcpu_set_masked(vcpu *v, int masked);

/* Raises an interrupt for this vCPU now (an irqfd write, an IPI's send):
 * it becomes pending and is delivered as the mode allows (above).
 * `handled` runs once the guest's handler and EOI are done. `cost` (may
 * be NULL) receives the cycles of the path the interrupt took: flight,
 * the exit or injection that delivered it, and the EOI; `sched` the
 * wake-up and switch cycles. */
void vcpu_interrupt(vcpu *v, vcpu_call handled, uint64_t *cost, uint64_t *sched);

/* Records in `t` (not owned; it outlives `v`; NULL: nothing) the vCPU's
 * work as slices on a track `name` (copied) of group "vCPUs": guest
 * work, each exit by its reason with its phases nested inside (exit and
 * handler, device, blocked, wake-up, entry, "entry+inject" when it injects
 * an interrupt), interrupt handlers; and as signals of group "vcpus" its
 * mode (guest, host, halted), its interrupt line (1 while a raised
 * interrupt's handler is not done) and its doorbell (an event when a
 * kick's exit reaches its signal). Call once, before any work. */
void vcpu_trace(vcpu *v, trc_recorder *t, const char *name);

/* The next work queued on `v` (guest work, an exit, a HLT) takes part in
 * flow `flow` (trc_flow_new) as `role` on its first slice, so an arrow
 * can join a request's kick to its completion. Nothing without recording. */
void vcpu_flow(vcpu *v, uint64_t flow, trc_flow_role role);

vcpu_mode vcpu_mode_of(const vcpu *v);

/* The host thread's statistics (busy time, wake-ups). */
void vcpu_get_thread_stats(const vcpu *v, thread_stats *out);

#endif
