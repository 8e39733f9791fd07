/*
 * hold.h -- the classic hold-model benchmark of the event kernel.
 *
 * P events are pending; each handler reschedules itself at now +
 * uniform[1, 1000] cycles until E handlers have run. The cost per event is
 * then the cost of one pop plus one schedule with P events in the queue,
 * which is how event-queue papers have compared queues since the 1970s.
 */
#ifndef PVSIM_BENCH_HOLD_H
#define PVSIM_BENCH_HOLD_H

#include <stdint.h>

#include "sim/kernel.h"

typedef struct bench_hold_result {
    uint64_t events;            /* handlers run in the timed part */
    uint32_t pending;
    double seconds;             /* wall time of the timed part */
    double ns_per_event;
    double events_per_sec;
    uint32_t pool_size;         /* event records the kernel allocated */
} bench_hold_result;

/* Runs the hold model on `backend` (through sim_kernel_open) and fills
 * `out`. Priming the P events is not timed. Returns 0 or a SIM_* status
 * (SIM_ENOTBUILT: that backend is not in this build; SIM_EONCE: SystemC
 * already ran in this process, so each SystemC run needs a process of
 * its own). Prints nothing. */
int bench_hold(sim_backend_kind backend, uint32_t pending, uint64_t events, uint64_t seed,
               bench_hold_result *out);

#endif
