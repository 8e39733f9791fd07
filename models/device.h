/*
 * device.h -- the interface between a guest's driver and a host device.
 *
 * A guest hands the device a pv_io and later gets it back through
 * io->complete. The device reads `bytes`, `parts` and `host_cycles` (work
 * its backend thread does before serving, such as translating the
 * buffer), fills `device_cycles` with the whole service it gave, and never
 * keeps the io after completing it. Requests are owned by the guest that
 * issued them.
 */
#ifndef PVSIM_MODELS_DEVICE_H
#define PVSIM_MODELS_DEVICE_H

#include <stdint.h>

#include "sim/kernel.h"

typedef struct pv_io pv_io;

struct pv_io {
    uint64_t bytes;                 /* payload length */
    uint32_t parts;                 /* requests the payload was split into */
    uint64_t host_cycles;           /* backend work before the service */
    uint64_t device_cycles;         /* set by the device: all of its time,
                                       host_cycles included */
    uint64_t sched_cycles;          /* wake-ups and context switches paid on
                                       the way; the device adds its own */
    void (*complete)(sim_kernel *k, pv_io *io);
};

typedef struct pv_device {
    void *self;
    /* Queues `io`; returns 0 or a SIM_* status (the io is then not queued
     * and complete will not be called). */
    int (*submit)(void *self, pv_io *io);
} pv_device;

#endif
