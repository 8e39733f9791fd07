/*
 * tlm_target.h -- what a TLM-2.0 target module needs to serve pvsim's
 * `device: {model: tlm, target: NAME}` (C++17; docs/systemc.md).
 *
 * A target file defines `void pvsim_tlm_register_STEM()`, STEM being its
 * file name without `.cc` (tlm_dma_block.cc: pvsim_tlm_register_tlm_dma_block),
 * which calls pvsim::tlm_register_target once. The build calls every
 * listed file's function (PVSIM_TLM_TARGETS, models/CMakeLists.txt), so
 * no static initialiser has to survive the linker.
 *
 * The target must be loosely timed: b_transport returns without wait(),
 * its time in the annotated delay (one cycle = one SystemC time unit:
 * `params.cycle * n`).
 */
#ifndef PVSIM_MODELS_TLM_TARGET_H
#define PVSIM_MODELS_TLM_TARGET_H

#include <systemc>
#include <tlm>

#include "models/tlm_bridge.h"

namespace pvsim {

/* The bridge's parameters, and one cycle as SystemC time. */
struct tlm_target_params {
    tlm_bridge_params costs;
    sc_core::sc_time cycle;
};

/* Makes the target module named `name` (it stays for the process's life)
 * and returns its target socket for the bridge to bind. */
using tlm_target_factory = tlm::tlm_target_socket<> &(*)(const char *name,
                                                        const tlm_target_params &p);

/* Registers `make` under `name`; false if the name is taken. */
bool tlm_register_target(const char *name, tlm_target_factory make);

}  // namespace pvsim

#endif
