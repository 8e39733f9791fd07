/*
 * tlm_bridge.cc -- tlm_bridge.h on SystemC's TLM-2.0: a registry of target
 * factories by name, and a bridge module whose initiator socket is bound
 * to the target one made.
 *
 * The registry is filled on first use by pvsim_tlm_register_all(), which
 * the build generates from PVSIM_TLM_TARGETS (tlm_targets.cc.in). The
 * bridge reuses one generic payload and one scratch buffer, grown to the
 * longest transaction so far; targets see a zero delay to start from and
 * the bridge reads back what they annotated.
 *
 * Nothing a target throws may unwind into pvsim's C frames: a SystemC
 * error (wait() called from b_transport, which runs inside the kernel
 * adapter's method, is one) becomes SIM_ETARGET, the run stops with it
 * and says so, and the process carries on.
 */
#include <cstdint>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

#include <tlm_utils/simple_initiator_socket.h>

#include "models/tlm_target.h"
#include "sim/error.h"

void pvsim_tlm_register_all();

namespace {

std::unordered_map<std::string, pvsim::tlm_target_factory> &registry()
{
    static std::unordered_map<std::string, pvsim::tlm_target_factory> targets;
    static bool filled = false;
    if (!filled) {
        filled = true;
        pvsim_tlm_register_all();
    }
    return targets;
}

struct bridge_module : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<bridge_module> socket;

    explicit bridge_module(sc_core::sc_module_name name)
        : sc_core::sc_module(name), socket("socket")
    {
    }
};

}  // namespace

struct tlm_bridge {
    bridge_module *module;          /* SystemC's for the process's life */
    tlm::tlm_generic_payload gp;
    std::vector<unsigned char> scratch;
};

bool pvsim::tlm_register_target(const char *name, tlm_target_factory make)
{
    return registry().emplace(name, make).second;
}

extern "C" int tlm_bridge_built(void)
{
    return 1;
}

extern "C" int tlm_bridge_has_target(const char *name)
{
    return name && registry().count(name) > 0;
}

extern "C" tlm_bridge *tlm_bridge_new(const char *name, const tlm_bridge_params *p, int *rc)
{
    auto it = registry().find(name ? name : "");
    if (it == registry().end()) {
        *rc = SIM_EINVAL;
        return nullptr;
    }
    tlm_bridge *b = new (std::nothrow) tlm_bridge;
    if (!b) {
        *rc = SIM_ENOMEM;
        return nullptr;
    }
    /* SystemC names must be unique in the design: a number per bridge. */
    static unsigned made;
    std::string base = "pvsim_tlm" + std::to_string(made++);
    pvsim::tlm_target_params tp{*p, sc_core::sc_time::from_value(1)};
    b->module = new bridge_module((base + "_bridge").c_str());
    b->module->socket.bind(it->second((base + "_" + name).c_str(), tp));
    *rc = 0;
    return b;
}

extern "C" void tlm_bridge_free(tlm_bridge *b)
{
    delete b;
}

extern "C" int tlm_bridge_transport(tlm_bridge *b, int is_write, uint64_t addr, uint64_t len,
                                    uint64_t *delay_cycles)
{
    if (len > UINT32_MAX)           /* the payload's length is 32-bit */
        return SIM_EINVAL;
    if (b->scratch.size() < len) {
        try {
            b->scratch.resize(len);
        } catch (const std::bad_alloc &) {
            return SIM_ENOMEM;
        }
    }
    tlm::tlm_generic_payload &gp = b->gp;
    gp.set_command(is_write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
    gp.set_address(addr);
    gp.set_data_ptr(b->scratch.data());
    gp.set_data_length((unsigned)len);
    gp.set_streaming_width((unsigned)len);
    gp.set_byte_enable_ptr(nullptr);
    gp.set_dmi_allowed(false);
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    try {
        b->module->socket->b_transport(gp, delay);
    } catch (const std::bad_alloc &) {
        return SIM_ENOMEM;
    } catch (...) {
        return SIM_ETARGET;
    }
    if (gp.is_response_error())
        return SIM_ERESPONSE;
    *delay_cycles = delay.value();
    return 0;
}
