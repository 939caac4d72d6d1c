#include "fp8sim/tlm/transactor.h"

#include <algorithm>
#include <sstream>

namespace fp8sim::vp {

const char* timing_name(Timing t) { return t == Timing::LooselyTimed ? "loosely-timed" : "approximately-timed"; }

uint32_t Transactor::read32(uint64_t addr) {
  uint8_t b[4];
  read(addr, b, 4);
  return uint32_t(b[0]) | uint32_t(b[1]) << 8 | uint32_t(b[2]) << 16 | uint32_t(b[3]) << 24;
}

void Transactor::write32(uint64_t addr, uint32_t v) {
  const uint8_t b[4] = {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)};
  write(addr, b, 4);
}

void Transactor::transfer(tlm::tlm_command cmd, uint64_t addr, uint8_t* data, uint64_t len) {
  if (!fw_) throw std::logic_error("Transactor: not bound to a socket");
  for (uint64_t off = 0; off < len;) {
    const unsigned n = static_cast<unsigned>(std::min<uint64_t>(max_burst_, len - off));
    tlm::tlm_generic_payload gp;
    gp.set_command(cmd);
    gp.set_address(addr + off);
    gp.set_data_ptr(data + off);
    gp.set_data_length(n);
    gp.set_streaming_width(n);
    gp.set_byte_enable_ptr(nullptr);
    gp.set_dmi_allowed(false);
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    one(gp);
    ++transactions_;
    if (gp.get_response_status() != tlm::TLM_OK_RESPONSE) {
      std::ostringstream o;
      o << (cmd == tlm::TLM_READ_COMMAND ? "read" : "write") << " of " << n << " bytes at 0x" << std::hex
        << addr + off << ": " << gp.get_response_string();
      throw BusError(o.str());
    }
    off += n;
  }
}

void Transactor::one(tlm::tlm_generic_payload& gp) {
  if (timing_ == Timing::LooselyTimed) {
    sc_core::sc_time delay = qk_ ? qk_->get_local_time() : sc_core::SC_ZERO_TIME;
    (*fw_).b_transport(gp, delay);
    if (qk_) {
      qk_->set(delay);
      if (qk_->need_sync()) qk_->sync();
    } else {
      sc_core::wait(delay);
    }
    return;
  }
  tlm::tlm_phase phase = tlm::BEGIN_REQ;
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  responded_ = false;
  inflight_ = &gp;
  const tlm::tlm_sync_enum s = (*fw_).nb_transport_fw(gp, phase, delay);
  if (s == tlm::TLM_COMPLETED) {
    sc_core::wait(delay);
  } else if (s == tlm::TLM_UPDATED && phase == tlm::BEGIN_RESP) {
    sc_core::wait(delay);
    tlm::tlm_phase end = tlm::END_RESP;
    sc_core::sc_time t = sc_core::SC_ZERO_TIME;
    (*fw_).nb_transport_fw(gp, end, t);
  } else {
    while (!responded_) sc_core::wait(resp_ev_);
  }
  inflight_ = nullptr;
}

tlm::tlm_sync_enum Transactor::on_bw(tlm::tlm_generic_payload& gp, tlm::tlm_phase& phase, sc_core::sc_time& t) {
  if (&gp != inflight_) return tlm::TLM_ACCEPTED;  // not ours (cannot happen with one transaction in flight)
  if (phase == tlm::BEGIN_RESP) {
    responded_ = true;
    resp_ev_.notify(t);
    return tlm::TLM_COMPLETED;  // END_RESP implied: the response is taken at once
  }
  return tlm::TLM_ACCEPTED;  // END_REQ
}

}  // namespace fp8sim::vp
