/*
 * tlm_device.c -- the TLM-2.0 device of tlm_device.h: the loopback's
 * service hook calling the bridge (tlm_bridge.h), which keeps C++ away.
 */
#include "models/tlm_device.h"

#include <stdlib.h>

#include "models/tlm_bridge.h"
#include "sim/error.h"

/* Transactions walk a window of this many 4 KiB blocks, so the target
 * sees distinct addresses and its store stays bounded. */
#define TLM_DEVICE_BLOCKS 64
#define TLM_DEVICE_BLOCK 4096

struct tlm_device {
    tlm_bridge *bridge;
    uint64_t sent;                  /* transactions so far */
};

static int serve(void *ctx, const pv_io *io, uint64_t *cycles)
{
    tlm_device *t = ctx;
    uint64_t addr = (t->sent++ % TLM_DEVICE_BLOCKS) * TLM_DEVICE_BLOCK;
    return tlm_bridge_transport(t->bridge, !io->read, addr, io->bytes, cycles);
}

tlm_device *tlm_device_new(loopback *d, const loopback_config *cfg, uint64_t clock_hz, int *rc)
{
    tlm_device *t = calloc(1, sizeof *t);
    if (!t) {
        *rc = SIM_ENOMEM;
        return NULL;
    }
    tlm_bridge_params p = {.fixed = cfg->fixed, .per_byte = cfg->per_byte,
                           .clock_hz = clock_hz};
    t->bridge = tlm_bridge_new(cfg->target, &p, rc);
    if (!t->bridge) {
        free(t);
        return NULL;
    }
    loopback_set_service(d, serve, t);
    return t;
}

void tlm_device_free(tlm_device *t)
{
    if (!t)
        return;
    tlm_bridge_free(t->bridge);
    free(t);
}
