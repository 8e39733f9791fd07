/*
 * device.h -- the interface between a guest's driver and a host device.
 *
 * A guest hands the device a pv_io and later gets it back through
 * io->complete, which runs when the backend has signalled the completion.
 * The device reads `bytes`, `parts`, `read`, `host_cycles` (work its backend
 * thread does before serving, such as translating the buffer) and
 * `notify_cycles` (work after serving, to signal the guest), fills
 * `device_cycles` with the service it gave, and never keeps the io after
 * completing it. Requests are owned by the guest that
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
    int read;                       /* data flows device to guest (a TLM
                                       device's command: read, else write) */
    uint64_t host_cycles;           /* backend work before the service */
    uint64_t notify_cycles;         /* backend work after it, to signal the
                                       completion (an irqfd write) */
    uint64_t device_cycles;         /* set by the device: its service,
                                       host_cycles included, notify_cycles
                                       not */
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
