// Reads and writes through a TLM-2.0 initiator socket, loosely or approximately timed: the one piece of
// initiator protocol shared by the accelerator's DMA and the example host.
//   LooselyTimed: b_transport with the quantum keeper's local time as the annotated delay; the delay the
//     target returns becomes the new local time, and the keeper synchronizes when the quantum is used up.
//   ApproximatelyTimed: nb_transport_fw with BEGIN_REQ; the target answers at once (TLM_COMPLETED, or
//     TLM_UPDATED with BEGIN_RESP) or later with BEGIN_RESP on the backward path (nb_transport_bw, which the
//     owning module forwards to on_bw()); the calling thread waits for the response. One transaction in
//     flight per transactor.
// Transfers are split into bursts of at most max_burst bytes. Errors: a response status other than
// TLM_OK_RESPONSE throws BusError naming the address and the status.
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/tlm_quantumkeeper.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace fp8sim::vp {

enum class Timing { LooselyTimed, ApproximatelyTimed };
const char* timing_name(Timing t);

class BusError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Transactor {
 public:
  // fw: the socket's forward interface (socket.operator->() of a bound initiator socket, or the socket itself).
  Transactor(Timing timing, tlm_utils::tlm_quantumkeeper* qk, unsigned max_burst = 256)
      : timing_(timing), qk_(qk), max_burst_(max_burst) {}
  void bind(tlm::tlm_fw_transport_if<>* fw) { fw_ = fw; }

  void read(uint64_t addr, uint8_t* data, uint64_t len) { transfer(tlm::TLM_READ_COMMAND, addr, data, len); }
  void write(uint64_t addr, const uint8_t* data, uint64_t len) {
    transfer(tlm::TLM_WRITE_COMMAND, addr, const_cast<uint8_t*>(data), len);
  }
  uint32_t read32(uint64_t addr);
  void write32(uint64_t addr, uint32_t v);

  // The owning module's nb_transport_bw.
  tlm::tlm_sync_enum on_bw(tlm::tlm_generic_payload& gp, tlm::tlm_phase& phase, sc_core::sc_time& t);

  uint64_t transactions() const { return transactions_; }
  Timing timing() const { return timing_; }

 private:
  void transfer(tlm::tlm_command cmd, uint64_t addr, uint8_t* data, uint64_t len);
  void one(tlm::tlm_generic_payload& gp);

  Timing timing_;
  tlm_utils::tlm_quantumkeeper* qk_;
  unsigned max_burst_;
  tlm::tlm_fw_transport_if<>* fw_ = nullptr;
  sc_core::sc_event resp_ev_;
  bool responded_ = false;
  tlm::tlm_generic_payload* inflight_ = nullptr;
  uint64_t transactions_ = 0;
};

}  // namespace fp8sim::vp
