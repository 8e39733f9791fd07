/*
 * kernel_backend.h -- what a kernel backend other than the native one
 * provides; private to sim/kernel.c and the backends, never to models.
 *
 * A `sim_kernel` made by sim_kernel_open() for another backend carries that
 * backend's operations and state; every public function of kernel.h first
 * hands such a kernel to them (one predictable branch on the native path).
 * Handlers still receive the `sim_kernel *`, so models see no difference.
 */
#ifndef PVSIM_SIM_KERNEL_BACKEND_H
#define PVSIM_SIM_KERNEL_BACKEND_H

#include "sim/kernel.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sim_backend sim_backend;

/* The kernel.h functions, on the backend's state; same contracts. */
typedef struct sim_kernel_ops {
    void (*destroy)(sim_backend *b);
    sim_time (*now)(const sim_backend *b);
    int (*schedule)(sim_backend *b, sim_time delay, sim_band band, sim_handler fn,
                    void *ctx, uint64_t arg, sim_event_id *id);
    int (*schedule_at)(sim_backend *b, sim_time when, sim_band band, sim_handler fn,
                       void *ctx, uint64_t arg, sim_event_id *id);
    int (*cancel)(sim_backend *b, sim_event_id id);
    sim_stop_reason (*run)(sim_backend *b, sim_time until, uint64_t max_events);
    void (*stop)(sim_backend *b);
    void (*fail)(sim_backend *b, int status);
    int (*failure)(const sim_backend *b);
    void (*get_stats)(const sim_backend *b, sim_kernel_stats *out);
} sim_kernel_ops;

#ifdef PVSIM_HAVE_SYSTEMC
extern const sim_kernel_ops sim_systemc_ops;

/* Creates the SystemC backend for kernel `k` (what its handlers receive)
 * into `*out`. Returns 0, SIM_ENOMEM, or SIM_EONCE when this process already
 * created one: SystemC has one simulation context per process and cannot
 * restart time. */
int sim_systemc_new(sim_kernel *k, const sim_kernel_config *cfg, sim_backend **out);
#endif

#ifdef __cplusplus
}
#endif

#endif
