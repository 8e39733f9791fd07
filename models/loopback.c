/*
 * loopback.c -- the fixed + per-byte loopback device of loopback.h.
 */
#include "models/loopback.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "sim/ring.h"

struct loopback {
    sim_kernel *k;
    loopback_config cfg;
    uint32_t nworkers;
    core_thread **workers;
    pv_io **serving;                /* per worker; NULL when idle */
    thread_part (*parts)[3];        /* per worker: its item's stretches */
    uint32_t *idle, nidle;          /* idle workers, a stack */
    sim_ring queue;                 /* of pv_io *: waiting requests */
    uint32_t peak;
    sim_util busy, waiting;
    loopback_service_fn service;    /* NULL: fixed + per-byte */
    void *service_ctx;
};

static const char *const model_names[] = {"loopback", "tlm", NULL};

static const scn_field loopback_fields[] = {
    {.key = "model", .type = SCN_ENUM, .offset = SCN_AT(loopback_config, model, int),
     .def = "loopback", .enum_names = model_names,
     .doc = "who sets a request's service time: the loopback (fixed + per_byte x bytes) "
            "or a TLM-2.0 target's annotated delay (backend systemc, docs/systemc.md)"},
    {.key = "target", .type = SCN_STRING, .offset = SCN_AT(loopback_config, target, char *),
     .def = "dma-block",
     .doc = "model tlm: the registered TLM-2.0 target serving requests, given this "
            "block's fixed and per_byte"},
    {.key = "workers", .type = SCN_U64, .offset = SCN_AT(loopback_config, workers, uint64_t),
     .min = 1, .max = 4096, .def = "1",
     .doc = "backend threads serving requests in FIFO order"},
    {.key = "fixed", .type = SCN_DURATION, .offset = SCN_AT(loopback_config, fixed, uint64_t),
     .max = 1e12, .def = "1us",
     .doc = "service time per request (example value, not a measurement)"},
    {.key = "per_byte", .type = SCN_DOUBLE, .offset = SCN_AT(loopback_config, per_byte, double),
     .min = 0, .max = 1e6, .def = "0.1",
     .doc = "service cycles per payload byte (example value, not a measurement)"},
};

const scn_schema loopback_schema = {
    .name = "device",
    .size = sizeof(loopback_config),
    .fields = loopback_fields,
    .nfields = sizeof loopback_fields / sizeof loopback_fields[0],
};

uint64_t loopback_service(const loopback_config *cfg, uint64_t bytes, uint32_t parts)
{
    return cfg->fixed * parts + (uint64_t)llround(cfg->per_byte * (double)bytes);
}

loopback *loopback_new(sim_kernel *k, const loopback_config *cfg, cores *host, int polling)
{
    loopback *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->k = k;
    d->cfg = *cfg;
    d->nworkers = (uint32_t)cfg->workers;
    d->workers = calloc(d->nworkers, sizeof *d->workers);
    d->serving = calloc(d->nworkers, sizeof *d->serving);
    d->idle = calloc(d->nworkers, sizeof *d->idle);
    d->parts = calloc(d->nworkers, sizeof *d->parts);
    int rc = sim_ring_init(&d->queue, sizeof(pv_io *));
    if (!d->workers || !d->serving || !d->idle || !d->parts || rc) {
        loopback_free(d);
        return NULL;
    }
    /* Pushed in reverse, so worker 0 is the first to serve. */
    for (uint32_t i = d->nworkers; i-- > 0;) {
        d->workers[i] = cores_add_thread(host, "device", polling);
        if (!d->workers[i]) {
            loopback_free(d);
            return NULL;
        }
        d->idle[d->nidle++] = i;
    }
    sim_util_init(&d->busy, sim_now(k));
    sim_util_init(&d->waiting, sim_now(k));
    return d;
}

void loopback_free(loopback *d)
{
    if (!d)
        return;
    free(d->workers);
    free(d->serving);
    free(d->idle);
    free(d->parts);
    sim_ring_fini(&d->queue);
    free(d);
}

static void served(sim_kernel *k, void *ctx, uint64_t arg);

void loopback_set_service(loopback *d, loopback_service_fn fn, void *ctx)
{
    d->service = fn;
    d->service_ctx = ctx;
}

/* The service is known when a worker takes the request up, as a TLM
 * target's b_transport would be called then. */
static int serve_time(loopback *d, pv_io *io)
{
    uint64_t cycles = 0;
    if (!d->service)
        cycles = loopback_service(&d->cfg, io->bytes, io->parts);
    else {
        int rc = d->service(d->service_ctx, io, &cycles);
        if (rc)
            return rc;
    }
    io->device_cycles = io->host_cycles + cycles;
    return 0;
}

/* Hands `io` to idle worker `w`: it resolves the buffer, serves the
 * request and writes the completion's irqfd, one item in three parts. */
static int start(loopback *d, uint32_t w, pv_io *io)
{
    int rc = serve_time(d, io);
    if (rc)
        return rc;
    d->serving[w] = io;
    sim_util_set(&d->busy, sim_now(d->k), d->nworkers - d->nidle);
    thread_part *p = d->parts[w];
    p[0] = (thread_part){"translate", io->host_cycles};
    p[1] = (thread_part){"serve", io->device_cycles - io->host_cycles};
    p[2] = (thread_part){"irqfd", io->notify_cycles};
    return thread_work_parts(d->workers[w], p, 3, served, d, w, &io->sched_cycles);
}

static void served(sim_kernel *k, void *ctx, uint64_t arg)
{
    loopback *d = ctx;
    uint32_t w = (uint32_t)arg;
    pv_io *io = d->serving[w];
    d->serving[w] = NULL;
    if (sim_ring_len(&d->queue) > 0) {
        pv_io *next;
        sim_ring_pop(&d->queue, &next);
        sim_util_set(&d->waiting, sim_now(k), sim_ring_len(&d->queue));
        int rc = start(d, w, next);
        if (rc)
            sim_fail(k, rc);
    } else {
        d->idle[d->nidle++] = w;
        sim_util_set(&d->busy, sim_now(k), d->nworkers - d->nidle);
    }
    io->complete(k, io);
}

static int enqueue(loopback *d, pv_io *io)
{
    int rc = sim_ring_push(&d->queue, &io);
    if (rc)
        return rc;
    uint32_t len = sim_ring_len(&d->queue);
    if (len > d->peak)
        d->peak = len;
    sim_util_set(&d->waiting, sim_now(d->k), len);
    return 0;
}

static int submit(void *self, pv_io *io)
{
    loopback *d = self;
    if (d->nidle == 0)
        return enqueue(d, io);
    int rc = start(d, d->idle[--d->nidle], io);
    if (rc)                         /* not taken: the worker stays idle */
        d->nidle++;
    return rc;
}

pv_device loopback_device(loopback *d)
{
    return (pv_device){.self = d, .submit = submit};
}

void loopback_reset_stats(loopback *d)
{
    d->peak = sim_ring_len(&d->queue);
    sim_util_reset(&d->busy, sim_now(d->k));
    sim_util_reset(&d->waiting, sim_now(d->k));
}

void loopback_get_stats(const loopback *d, loopback_stats *out)
{
    sim_time now = sim_now(d->k);
    out->utilisation = sim_util_mean(&d->busy, now) / d->nworkers;
    out->mean_queue_len = sim_util_mean(&d->waiting, now);
    out->peak_queue_len = d->peak;
    out->wakeups = 0;
    for (uint32_t i = 0; i < d->nworkers; i++) {
        thread_stats ts;
        thread_get_stats(d->workers[i], &ts);
        out->wakeups += ts.wakeups;
    }
}
