/*
 * guest.h -- a guest with one vCPU running a closed-loop I/O workload.
 *
 * The guest keeps `depth` requests outstanding. Each request is kicked by a
 * PIO write (one exit on the vCPU), served by the device, and completed by
 * an injected interrupt (an external-interrupt exit and an EOI exit on the
 * vCPU). After a think time the slot issues its next request. The vCPU is a
 * FIFO resource, so kicks and interrupts of different requests queue behind
 * each other: that wait is the request's queueing cost.
 *
 * Instances of one guest class share a guest_stats, so results are per
 * class and memory does not grow with a histogram per instance.
 */
#ifndef PVSIM_MODELS_GUEST_H
#define PVSIM_MODELS_GUEST_H

#include <stdint.h>

#include "models/device.h"
#include "models/vmm.h"
#include "sim/resource.h"
#include "sim/scenario.h"
#include "sim/stats.h"

typedef enum guest_think_dist { GUEST_THINK_FIXED, GUEST_THINK_EXPONENTIAL } guest_think_dist;

typedef struct guest_workload_config {
    uint64_t depth;                 /* requests outstanding per guest */
    uint64_t size;                  /* bytes per request */
    uint64_t think;                 /* mean cycles between completion and the
                                       slot's next request */
    int think_dist;                 /* guest_think_dist */
} guest_workload_config;

typedef struct guest_config {
    char *name;                     /* class name; instances are name/0.. */
    uint64_t count;                 /* instances of this class */
    guest_workload_config workload;
} guest_config;

extern const scn_schema guest_schema;

/* Per-class results; all sums in cycles. */
typedef struct guest_stats {
    uint64_t requests, bytes;
    uint64_t submit_failures;       /* requests the device refused */
    uint64_t exits_pio_write, exits_irq, exits_eoi;
    uint64_t interrupts;
    uint64_t sum_exit, sum_device, sum_interrupt, sum_queueing;
    sim_hist latency;               /* issue to interrupt handled */
} guest_stats;

int guest_stats_init(guest_stats *s);
void guest_stats_fini(guest_stats *s);
/* Forgets everything recorded (end of warm-up). */
void guest_stats_reset(guest_stats *s);

/* Called after each completed request, for run control. */
typedef struct guest_hooks {
    void (*completed)(sim_kernel *k, void *ctx);
    void *ctx;
} guest_hooks;

typedef struct guest guest;

/* Creates one guest instance. `costs`, `stats` and the device must outlive
 * it; `instance` names its random stream (copied). NULL when memory is
 * short. */
guest *guest_new(sim_kernel *k, const guest_config *cfg, const vmm_costs *costs,
                 pv_device dev, guest_stats *stats, guest_hooks hooks,
                 uint64_t seed, const char *instance);
void guest_free(guest *g);

/* Issues the first `depth` requests at the current time. Returns 0 or the
 * first SIM_* status met. */
int guest_start(guest *g);

/* The vCPU's utilisation and queue statistics. */
void guest_reset_stats(guest *g);
void guest_get_vcpu_stats(const guest *g, sim_resource_stats *out);

#endif
