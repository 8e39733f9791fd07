/*
 * loopback.c -- the fixed + per-byte loopback device of loopback.h.
 */
#include "models/loopback.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>

struct loopback {
    sim_kernel *k;
    loopback_config cfg;
    sim_resource *workers;
};

static const scn_field loopback_fields[] = {
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

loopback *loopback_new(sim_kernel *k, const loopback_config *cfg)
{
    loopback *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->k = k;
    d->cfg = *cfg;
    d->workers = sim_resource_new(k, (uint32_t)cfg->workers, 0);
    if (!d->workers) {
        free(d);
        return NULL;
    }
    return d;
}

void loopback_free(loopback *d)
{
    if (!d)
        return;
    sim_resource_free(d->workers);
    free(d);
}

static void served(sim_kernel *k, void *ctx, uint64_t arg)
{
    (void)arg;
    pv_io *io = ctx;
    io->complete(k, io);
}

static int submit(void *self, pv_io *io)
{
    loopback *d = self;
    io->device_cycles = io->host_cycles + loopback_service(&d->cfg, io->bytes, io->parts);
    return sim_resource_submit(d->workers, io->device_cycles, served, io, 0);
}

pv_device loopback_device(loopback *d)
{
    return (pv_device){.self = d, .submit = submit};
}

void loopback_reset_stats(loopback *d)
{
    sim_resource_reset_stats(d->workers);
}

void loopback_get_stats(const loopback *d, sim_resource_stats *out)
{
    sim_resource_get_stats(d->workers, out);
}
