/*
 * tlm_device.h -- the loopback device's workers and queue with a TLM-2.0
 * target setting each request's service (`device: {model: tlm}`).
 *
 * When a worker takes a request up, it sends the target one transaction
 * (a read when data flows to the guest, else a write, of the request's
 * bytes at a synthetic address) and is busy for the delay the target
 * annotated. Queueing, wake-ups and statistics stay the loopback's, so a
 * target charging the loopback's costs gives its results exactly. A
 * request split into several parts is one transaction. Only under the
 * SystemC backend (docs/systemc.md).
 */
#ifndef PVSIM_MODELS_TLM_DEVICE_H
#define PVSIM_MODELS_TLM_DEVICE_H

#include "models/loopback.h"

typedef struct tlm_device tlm_device;

/* Builds cfg->target (before the kernel's first run) and makes it serve
 * `d`'s requests; `d` must outlive the result. NULL with *rc set
 * (SIM_EINVAL: unknown target; SIM_ENOTBUILT: no SystemC;
 * SIM_ENOMEM). */
tlm_device *tlm_device_new(loopback *d, const loopback_config *cfg, uint64_t clock_hz, int *rc);
void tlm_device_free(tlm_device *t);

#endif
