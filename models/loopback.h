/*
 * loopback.h -- a device that completes every request after a fixed plus
 * per-byte service time on one of its worker threads.
 *
 * Each worker is a host thread (cores.h): an idle worker sleeps, and the
 * request that finds it so pays its wake-up, unless the workers poll, each
 * on a core of its own. With more requests in flight than workers,
 * requests wait in one FIFO. It is the simplest device that makes a guest's
 * notification and interrupt costs visible next to real device work.
 */
#ifndef PVSIM_MODELS_LOOPBACK_H
#define PVSIM_MODELS_LOOPBACK_H

#include <stdint.h>

#include "models/cores.h"
#include "models/device.h"
#include "sim/scenario.h"

/* Who computes a request's service time (`device.model`). */
typedef enum loopback_model {
    LOOPBACK_MODEL_LOOPBACK,        /* fixed + per_byte x bytes, here */
    LOOPBACK_MODEL_TLM,             /* a TLM-2.0 target's annotated delay
                                       (tlm_device.h; SystemC backend) */
} loopback_model;

typedef struct loopback_config {
    int model;                      /* loopback_model */
    char *target;                   /* model tlm: the registered target */
    uint64_t workers;               /* backend threads serving requests */
    uint64_t fixed;                 /* cycles per request */
    double per_byte;                /* cycles per payload byte */
} loopback_config;

extern const scn_schema loopback_schema;

typedef struct loopback loopback;

/* Creates the device on kernel `k`, its workers threads of `host` (before
 * cores_start), polling when `polling`. NULL when memory is short or the
 * host has no room for the threads. */
loopback *loopback_new(sim_kernel *k, const loopback_config *cfg, cores *host, int polling);
void loopback_free(loopback *d);

/* Computes the service of `io` (host_cycles excluded) into *cycles when
 * a worker takes it up; 0 or a SIM_* status, which stops the run. */
typedef int (*loopback_service_fn)(void *ctx, const pv_io *io, uint64_t *cycles);

/* Replaces the fixed + per-byte service with `fn` (a TLM target behind
 * the same workers and queue); `ctx` must outlive `d`. */
void loopback_set_service(loopback *d, loopback_service_fn fn, void *ctx);

/* The device as seen by guests; valid while `d` lives. */
pv_device loopback_device(loopback *d);

/* Service time of `bytes` sent as `parts` requests: fixed per part plus
 * per_byte * bytes, rounded to the nearest cycle. */
uint64_t loopback_service(const loopback_config *cfg, uint64_t bytes, uint32_t parts);

typedef struct loopback_stats {
    double utilisation;             /* mean share of its time a worker serves */
    double mean_queue_len;          /* requests waiting for a worker */
    uint32_t peak_queue_len;
    uint64_t wakeups;               /* of sleeping workers */
} loopback_stats;

/* Restarts the integrals (end of warm-up). */
void loopback_reset_stats(loopback *d);
void loopback_get_stats(const loopback *d, loopback_stats *out);

#endif
