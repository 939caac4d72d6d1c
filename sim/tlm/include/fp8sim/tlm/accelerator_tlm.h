// The accelerator as a TLM-2.0 component for virtual platforms (issue #14): sim::Accelerator (the
// cycle-accurate engine, ticked once per clock) behind
//   regs  a tlm_utils::simple_target_socket: 32-bit memory-mapped registers (map below);
//   dma   a tlm_utils::simple_initiator_socket: the accelerator fetches its command stream (binary form,
//         command_binary.h) through it, and its DMA engine reads operands and writes results through it
//         (sim::DramPort: one transaction per DRAM row of a transfer, split into bursts of at most
//         max_burst_bytes, issued in the cycle the engine's DMA model completes the transfer);
//   irq   sc_out<bool>: high while IRQ_STATUS & IRQ_ENABLE is non-zero (level-triggered).
// Two timing styles, the same results (outputs, cycle counts, statistics):
//   Timing::LooselyTimed  the run is one SC_THREAD that advances a tlm_quantumkeeper by one clock period per
//     cycle and synchronizes when the global quantum (tlm::tlm_global_quantum, set by the platform) is used
//     up; DMA uses b_transport with the local time offset.
//   Timing::ApproximatelyTimed  the thread waits one clock period per cycle; DMA uses nb_transport_fw/bw
//     with the BEGIN_REQ/END_REQ/BEGIN_RESP/END_RESP phases.
// The register socket implements b_transport; an approximately-timed host reaches it through
// simple_target_socket's own nb_transport -> b_transport adaptation.
//
// Cycle counts: the CYCLES register is the engine's own count, whose DRAM timing is the configuration's
// [dram] model (latency, bytes per cycle), exactly as in the standalone engine (sim::Accelerator::run), so it
// does not depend on the platform's bus or memory timing. The SystemC time a run takes is CYCLES clock
// periods plus whatever the platform's bus and memory add.
//
// Register map (byte offsets; 32-bit little-endian registers, 4-byte aligned single-word accesses only;
// anything else answers TLM_ADDRESS_ERROR_RESPONSE / TLM_BURST_ERROR_RESPONSE). 64-bit values are LO/HI
// pairs; the statistics are those of the last completed run.
//   0x00 ID            RO  0x46503853 ("FP8S")
//   0x04 VERSION       RO  1
//   0x08 CMD_ADDR_LO   RW  bus address of the command stream
//   0x0C CMD_ADDR_HI   RW
//   0x10 CMD_LEN       RW  length of the command stream in bytes (a multiple of 160)
//   0x14 DRAM_BASE_LO  RW  bus address of the accelerator's DRAM address 0 (commands' DRAM addresses are
//   0x18 DRAM_BASE_HI  RW    offsets from it)
//   0x1C CTRL          WO  bit 0 START: fetch and run the stream (ignored while BUSY)
//   0x20 STATUS        RO  bit 0 BUSY, bit 1 DONE (the last run finished without error), bit 2 ERROR
//   0x24 IRQ_ENABLE    RW  bit 0: raise irq when a run ends (done or error)
//   0x28 IRQ_STATUS    W1C bit 0: a run ended; write 1 to clear
//   0x2C ERROR_CODE    RO  0 none, 1 bad command stream (length, encoding, no End), 2 bus error,
//                          3 execution error (e.g. a buffer or DRAM range the engine rejects)
//   0x30 CYCLES        RO  (LO, 0x34 HI) clock cycles of the last run
//   0x38 MACS          RO  (LO, 0x3C HI) useful multiply-accumulates
//   0x40 DRAM_READ     RO  (LO, 0x44 HI) bytes the DMA read
//   0x48 DRAM_WRITTEN  RO  (LO, 0x4C HI) bytes the DMA wrote
//   0x50 COMMANDS      RO  (LO, 0x54 HI) commands executed
//   0x58 ARRAY_BUSY    RO  (LO, 0x5C HI) cycles in which a compute beat entered the array
//   0x60 STALL_DRAM    RO  (LO, 0x64 HI) array cycles waiting for loads
//   0x68 DRAM_SIZE_LO  RW  bytes of the DRAM window from DRAM_BASE the DMA may reach (0: up to the end of
//   0x6C DRAM_SIZE_HI        the 64-bit address space); a command beyond it is an execution error
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <tlm_utils/tlm_quantumkeeper.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "fp8sim/sim/accelerator.h"
#include "fp8sim/sim/config.h"
#include "fp8sim/tlm/transactor.h"

namespace fp8sim::vp {

namespace reg {
inline constexpr uint32_t kId = 0x00, kVersion = 0x04, kCmdAddrLo = 0x08, kCmdAddrHi = 0x0C, kCmdLen = 0x10,
                          kDramBaseLo = 0x14, kDramBaseHi = 0x18, kCtrl = 0x1C, kStatus = 0x20, kIrqEnable = 0x24,
                          kIrqStatus = 0x28, kErrorCode = 0x2C, kCycles = 0x30, kMacs = 0x38, kDramRead = 0x40,
                          kDramWritten = 0x48, kCommands = 0x50, kArrayBusy = 0x58, kStallDram = 0x60,
                          kDramSizeLo = 0x68, kDramSizeHi = 0x6C;
inline constexpr uint32_t kSize = 0x70;  // bytes of register space
inline constexpr uint32_t kIdValue = 0x46503853, kVersionValue = 1;
inline constexpr uint32_t kCtrlStart = 1, kStatusBusy = 1, kStatusDone = 2, kStatusError = 4, kIrqDone = 1;
enum ErrorCode : uint32_t { kErrNone = 0, kErrStream = 1, kErrBus = 2, kErrExec = 3 };
}  // namespace reg

struct AcceleratorTlmOptions {
  Timing timing = Timing::LooselyTimed;
  // One clock period; zero: from the configuration's clock_mhz.
  sc_core::sc_time clock_period = sc_core::SC_ZERO_TIME;
  unsigned max_burst_bytes = 256;  // DMA bursts on the initiator socket
  uint64_t max_cycles = uint64_t(1) << 40;  // a run longer than this is stopped with an execution error
};

class AcceleratorTlm : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<AcceleratorTlm> regs;
  tlm_utils::simple_initiator_socket<AcceleratorTlm> dma;
  sc_core::sc_out<bool> irq;

  SC_HAS_PROCESS(AcceleratorTlm);
  AcceleratorTlm(sc_core::sc_module_name name, const sim::AcceleratorConfig& cfg,
                 const AcceleratorTlmOptions& opt = {});
  ~AcceleratorTlm() override;

  const sim::AcceleratorConfig& config() const { return cfg_; }
  Timing timing() const { return opt_.timing; }
  sc_core::sc_time clock_period() const { return period_; }
  // The full statistics of the last completed run (the registers hold a few of them).
  const std::optional<sim::Stats>& last_stats() const { return stats_; }
  // One line describing the last run's error ("" when none).
  const std::string& last_error() const { return error_; }
  uint64_t bus_transactions() const { return bus_.transactions(); }
  uint64_t runs() const { return runs_; }

 private:
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  unsigned transport_dbg(tlm::tlm_generic_payload& gp);
  tlm::tlm_sync_enum nb_transport_bw(tlm::tlm_generic_payload& gp, tlm::tlm_phase& phase, sc_core::sc_time& t);
  uint32_t read_reg(uint32_t off) const;
  void write_reg(uint32_t off, uint32_t v, const sc_core::sc_time& delay);
  void update_irq();
  void run_thread();
  void execute();
  void irq_driver();

  sim::AcceleratorConfig cfg_;
  AcceleratorTlmOptions opt_;
  sc_core::sc_time period_;
  tlm_utils::tlm_quantumkeeper qk_;
  Transactor bus_;
  sc_core::sc_event start_ev_, irq_ev_;
  uint64_t cmd_addr_ = 0, dram_base_ = 0, dram_size_ = 0;
  uint32_t cmd_len_ = 0, irq_enable_ = 0, irq_status_ = 0, error_code_ = 0;
  bool busy_ = false, done_ = false;
  uint64_t commands_ = 0, runs_ = 0;
  std::optional<sim::Stats> stats_;
  std::string error_;
};

}  // namespace fp8sim::vp
