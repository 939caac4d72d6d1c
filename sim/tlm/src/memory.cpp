#include "fp8sim/tlm/memory.h"

#include <cstring>
#include <string>

namespace fp8sim::vp {

Memory::Memory(sc_core::sc_module_name name, uint64_t base, uint64_t size, int sockets, sc_core::sc_time latency)
    : sc_core::sc_module(name), base_(base), mem_(size, 0), latency_(latency), peq_("peq", this, &Memory::peq_cb) {
  for (int i = 0; i < sockets; ++i) {
    sockets_.push_back(std::make_unique<Socket>(("socket_" + std::to_string(i)).c_str()));
    sockets_.back()->register_b_transport(this, &Memory::b_transport, i);
    sockets_.back()->register_nb_transport_fw(this, &Memory::nb_transport_fw, i);
    sockets_.back()->register_transport_dbg(this, &Memory::transport_dbg, i);
  }
}

void Memory::access(tlm::tlm_generic_payload& gp) {
  ++transactions_;
  const uint64_t a = gp.get_address();
  const unsigned len = gp.get_data_length();
  if (a < base_ || a - base_ > mem_.size() || len > mem_.size() - (a - base_)) {
    gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  if (gp.get_byte_enable_ptr()) {
    gp.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    return;
  }
  if (gp.get_streaming_width() < len) {
    gp.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
    return;
  }
  uint8_t* m = mem_.data() + (a - base_);
  if (gp.is_read()) std::memcpy(gp.get_data_ptr(), m, len);
  else if (gp.is_write()) std::memcpy(m, gp.get_data_ptr(), len);
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

void Memory::b_transport(int, tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  access(gp);
  delay += latency_;
}

unsigned Memory::transport_dbg(int, tlm::tlm_generic_payload& gp) {
  const uint64_t a = gp.get_address();
  const unsigned len = gp.get_data_length();
  if (a < base_ || a - base_ > mem_.size() || len > mem_.size() - (a - base_)) return 0;
  if (gp.is_read()) std::memcpy(gp.get_data_ptr(), mem_.data() + (a - base_), len);
  else if (gp.is_write()) std::memcpy(mem_.data() + (a - base_), gp.get_data_ptr(), len);
  return len;
}

tlm::tlm_sync_enum Memory::nb_transport_fw(int id, tlm::tlm_generic_payload& gp, tlm::tlm_phase& phase,
                                           sc_core::sc_time& delay) {
  if (phase == tlm::BEGIN_REQ) {
    pending_[&gp] = id;
    peq_.notify(gp, phase, delay + latency_);
    phase = tlm::END_REQ;
    return tlm::TLM_UPDATED;
  }
  if (phase == tlm::END_RESP) return tlm::TLM_COMPLETED;
  return tlm::TLM_ACCEPTED;
}

void Memory::peq_cb(tlm::tlm_generic_payload& gp, const tlm::tlm_phase& phase) {
  if (phase != tlm::BEGIN_REQ) return;
  const int id = pending_.at(&gp);
  pending_.erase(&gp);
  access(gp);
  tlm::tlm_phase resp = tlm::BEGIN_RESP;
  sc_core::sc_time t = sc_core::SC_ZERO_TIME;
  (*sockets_[size_t(id)])->nb_transport_bw(gp, resp, t);  // TLM_COMPLETED, or END_RESP later on fw
}

}  // namespace fp8sim::vp
