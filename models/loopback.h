/*
 * loopback.h -- a device that completes every request after a fixed plus
 * per-byte service time on one of its worker threads.
 *
 * Workers are a FIFO resource: with more requests in flight than workers,
 * requests queue. It is the simplest device that makes a guest's
 * notification and interrupt costs visible next to real device work.
 */
#ifndef PVSIM_MODELS_LOOPBACK_H
#define PVSIM_MODELS_LOOPBACK_H

#include <stdint.h>

#include "models/device.h"
#include "sim/resource.h"
#include "sim/scenario.h"

typedef struct loopback_config {
    uint64_t workers;               /* backend threads serving requests */
    uint64_t fixed;                 /* cycles per request */
    double per_byte;                /* cycles per payload byte */
} loopback_config;

extern const scn_schema loopback_schema;

typedef struct loopback loopback;

/* Creates the device on kernel `k`. Returns NULL when memory is short. */
loopback *loopback_new(sim_kernel *k, const loopback_config *cfg);
void loopback_free(loopback *d);

/* The device as seen by guests; valid while `d` lives. */
pv_device loopback_device(loopback *d);

/* Service time of `bytes` sent as `parts` requests: fixed per part plus
 * per_byte * bytes, rounded to the nearest cycle. */
uint64_t loopback_service(const loopback_config *cfg, uint64_t bytes, uint32_t parts);

/* Restarts the utilisation integral (end of warm-up). */
void loopback_reset_stats(loopback *d);
void loopback_get_stats(const loopback *d, sim_resource_stats *out);

#endif
