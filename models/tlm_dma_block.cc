/*
 * tlm_dma_block.cc -- the example TLM-2.0 target (`target: dma-block`): a
 * small DMA block device written as an ordinary SystemC module, with a
 * simple_target_socket and a loosely timed b_transport.
 *
 * It copies the payload to or from its store (grown as writes reach
 * further; unwritten bytes read as zero) and annotates fixed + per_byte x
 * length cycles, the loopback's formula for a one-part request, rounded
 * the same way, so the loopback's costs give the loopback's results.
 */
#include <cmath>
#include <cstring>
#include <vector>

#include <tlm_utils/simple_target_socket.h>

#include "models/tlm_target.h"

namespace {

struct dma_block : sc_core::sc_module {
    tlm_utils::simple_target_socket<dma_block> socket;

    dma_block(sc_core::sc_module_name name, const pvsim::tlm_target_params &p)
        : sc_core::sc_module(name), socket("socket"), params(p)
    {
        socket.register_b_transport(this, &dma_block::b_transport);
    }

  private:
    pvsim::tlm_target_params params;
    std::vector<unsigned char> store;

    /* The time first, so that an access the store refuses still costs
     * what the bus spent on it. */
    void b_transport(tlm::tlm_generic_payload &gp, sc_core::sc_time &delay)
    {
        uint64_t len = gp.get_data_length();
        uint64_t cycles = params.costs.fixed +
                          (uint64_t)std::llround(params.costs.per_byte * (double)len);
        delay += params.cycle * (double)cycles;
        gp.set_response_status(copy(gp) ? tlm::TLM_OK_RESPONSE
                                        : tlm::TLM_ADDRESS_ERROR_RESPONSE);
    }

    bool copy(tlm::tlm_generic_payload &gp)
    {
        uint64_t addr = gp.get_address(), len = gp.get_data_length();
        if (addr + len < addr)
            return false;
        if (gp.is_write()) {
            if (store.size() < addr + len)
                store.resize(addr + len);
            std::memcpy(store.data() + addr, gp.get_data_ptr(), len);
            return true;
        }
        uint64_t have = addr < store.size() ? std::min<uint64_t>(len, store.size() - addr) : 0;
        if (have)
            std::memcpy(gp.get_data_ptr(), store.data() + addr, have);
        std::memset(gp.get_data_ptr() + have, 0, len - have);
        return true;
    }
};

tlm::tlm_target_socket<> &make(const char *name, const pvsim::tlm_target_params &p)
{
    return (new dma_block(name, p))->socket;
}

}  // namespace

void pvsim_tlm_register_tlm_dma_block();

void pvsim_tlm_register_tlm_dma_block()
{
    pvsim::tlm_register_target("dma-block", make);
}
