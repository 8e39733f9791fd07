/*
 * tlm_bridge_none.c -- tlm_bridge.h in a pvsim built without SystemC:
 * no target exists, so the scenario check refuses `device.model: tlm` at
 * its key before anything here could be asked to build one.
 */
#include "models/tlm_bridge.h"

#include <stddef.h>

#include "sim/error.h"

int tlm_bridge_built(void)
{
    return 0;
}

int tlm_bridge_has_target(const char *name)
{
    (void)name;
    return 0;
}

tlm_bridge *tlm_bridge_new(const char *name, const tlm_bridge_params *p, int *rc)
{
    (void)name, (void)p;
    *rc = SIM_ENOTBUILT;
    return NULL;
}

void tlm_bridge_free(tlm_bridge *b)
{
    (void)b;
}

int tlm_bridge_transport(tlm_bridge *b, int is_write, uint64_t addr, uint64_t len,
                         uint64_t *delay_cycles)
{
    (void)b, (void)is_write, (void)addr, (void)len;
    *delay_cycles = 0;
    return SIM_ENOTBUILT;
}
