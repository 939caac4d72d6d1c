// A memory model for virtual platforms: `size` bytes at bus addresses [base, base + size), with N target
// sockets (one per initiator: the example platform gives the host one and the accelerator's DMA one).
// Loosely-timed initiators call b_transport (the access is done at once and `latency` is added to the
// annotated delay); approximately-timed ones call nb_transport_fw: BEGIN_REQ is answered with END_REQ
// (TLM_UPDATED), and after `latency` the access is done and BEGIN_RESP sent on the backward path
// (a payload event queue, tlm_utils::peq_with_cb_and_phase). Out-of-range accesses get
// TLM_ADDRESS_ERROR_RESPONSE, byte enables TLM_BYTE_ENABLE_ERROR_RESPONSE, streaming widths shorter than
// the data TLM_BURST_ERROR_RESPONSE.
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/peq_with_cb_and_phase.h>
#include <tlm_utils/simple_target_socket.h>

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

namespace fp8sim::vp {

class Memory : public sc_core::sc_module {
 public:
  using Socket = tlm_utils::simple_target_socket_tagged<Memory>;
  Memory(sc_core::sc_module_name name, uint64_t base, uint64_t size, int sockets = 2,
         sc_core::sc_time latency = sc_core::SC_ZERO_TIME);
  Socket& socket(int i) { return *sockets_.at(size_t(i)); }
  // Back door for tests (no simulated time).
  std::vector<uint8_t>& bytes() { return mem_; }
  uint64_t transactions() const { return transactions_; }

 private:
  void b_transport(int id, tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  tlm::tlm_sync_enum nb_transport_fw(int id, tlm::tlm_generic_payload& gp, tlm::tlm_phase& phase,
                                     sc_core::sc_time& delay);
  unsigned transport_dbg(int id, tlm::tlm_generic_payload& gp);
  void peq_cb(tlm::tlm_generic_payload& gp, const tlm::tlm_phase& phase);
  void access(tlm::tlm_generic_payload& gp);

  uint64_t base_;
  std::vector<uint8_t> mem_;
  sc_core::sc_time latency_;
  std::vector<std::unique_ptr<Socket>> sockets_;
  tlm_utils::peq_with_cb_and_phase<Memory> peq_;
  std::map<tlm::tlm_generic_payload*, int> pending_;  // AT requests in flight -> socket
  uint64_t transactions_ = 0;
};

}  // namespace fp8sim::vp
