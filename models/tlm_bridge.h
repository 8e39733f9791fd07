/*
 * tlm_bridge.h -- the C side of the TLM-2.0 bridge: a registered target
 * module, bound to an initiator socket, that C models call through
 * b_transport without knowing C++ (tlm_bridge.cc; tlm_bridge_none.c when
 * pvsim is built without SystemC, where every target is unknown).
 *
 * Targets are loosely timed: b_transport returns at once with the time
 * the access takes annotated in its delay, and never calls wait(). The
 * bridge calls it from inside the SystemC kernel adapter's method, so it
 * is meaningful only under the SystemC backend (docs/systemc.md). One
 * cycle is one SystemC time unit, as in the kernel adapter, so a delay's
 * value is its cycles and no rounding comes in between.
 */
#ifndef PVSIM_MODELS_TLM_BRIDGE_H
#define PVSIM_MODELS_TLM_BRIDGE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tlm_bridge tlm_bridge;

/* What a target is built with: the device block's costs and the clock. */
typedef struct tlm_bridge_params {
    uint64_t fixed;                 /* cycles per transaction */
    double per_byte;                /* cycles per byte */
    uint64_t clock_hz;              /* the scenario's clock */
} tlm_bridge_params;

/* Whether this pvsim was built with the bridge (with SystemC). */
int tlm_bridge_built(void);

/* Whether a target called `name` is registered. */
int tlm_bridge_has_target(const char *name);

/* Builds target `name` and binds it; before the first sim_run of a
 * SystemC kernel (elaboration). NULL with *rc set: SIM_EINVAL for an
 * unknown target, SIM_ENOTBUILT without SystemC, SIM_ENOMEM. The module stays after
 * tlm_bridge_free, as SystemC cannot remove modules once started. */
tlm_bridge *tlm_bridge_new(const char *name, const tlm_bridge_params *p, int *rc);
void tlm_bridge_free(tlm_bridge *b);

/* One transaction: a write (else a read) of `len` bytes at `addr`, from
 * or into the bridge's scratch buffer, with a zero delay to start from.
 * 0 and *delay_cycles set to the annotated delay; SIM_EINVAL when `len`
 * does not fit a payload (32 bits); SIM_ERESPONSE when the target answers
 * other than TLM_OK_RESPONSE; SIM_ETARGET when it throws (a SystemC error,
 * such as a wait() in b_transport); SIM_ENOMEM. */
int tlm_bridge_transport(tlm_bridge *b, int is_write, uint64_t addr, uint64_t len,
                         uint64_t *delay_cycles);

#ifdef __cplusplus
}
#endif

#endif
