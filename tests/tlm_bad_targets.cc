/*
 * tlm_bad_targets.cc -- two targets that break the rules, for test_tlm.c:
 * "waits" calls wait() in b_transport (not loosely timed), "refuses"
 * answers every transaction with an address error.
 */
#include <tlm_utils/simple_target_socket.h>

#include "models/tlm_target.h"

namespace {

struct bad_target : sc_core::sc_module {
    tlm_utils::simple_target_socket<bad_target> socket;
    bool waits;

    bad_target(sc_core::sc_module_name name, bool w)
        : sc_core::sc_module(name), socket("socket"), waits(w)
    {
        socket.register_b_transport(this, &bad_target::b_transport);
    }

    void b_transport(tlm::tlm_generic_payload &gp, sc_core::sc_time &delay)
    {
        if (waits) {
            sc_core::wait(delay);
            delay = sc_core::SC_ZERO_TIME;
        }
        gp.set_response_status(waits ? tlm::TLM_OK_RESPONSE : tlm::TLM_ADDRESS_ERROR_RESPONSE);
    }
};

tlm::tlm_target_socket<> &make_waits(const char *name, const pvsim::tlm_target_params &)
{
    return (new bad_target(name, true))->socket;
}

tlm::tlm_target_socket<> &make_refuses(const char *name, const pvsim::tlm_target_params &)
{
    return (new bad_target(name, false))->socket;
}

}  // namespace

extern "C" void tlm_register_bad_targets(void);

extern "C" void tlm_register_bad_targets(void)
{
    pvsim::tlm_register_target("waits", make_waits);
    pvsim::tlm_register_target("refuses", make_refuses);
}
