#include "fp8sim/tlm/accelerator_tlm.h"

#include <cmath>
#include <vector>

#include "fp8sim/tlm/command_binary.h"

namespace fp8sim::vp {
namespace {

using firmware::Command;
using firmware::Opcode;

struct StreamError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The engine's DRAM: the window [DRAM_BASE, DRAM_BASE + size) of the bus, reached through the initiator
// socket. The DMA calls read()/write() from inside Accelerator::tick(), i.e. in the run thread, where the
// approximately-timed transactor may wait for the response.
class BusDram final : public sim::DramPort {
 public:
  BusDram(Transactor& bus, uint64_t base, uint64_t size) : bus_(bus), base_(base), size_(size) {}
  uint64_t size() const override { return size_; }
  void read(uint64_t addr, uint8_t* dst, size_t n) override { bus_.read(base_ + addr, dst, n); }
  void write(uint64_t addr, const uint8_t* src, size_t n) override { bus_.write(base_ + addr, src, n); }

 private:
  Transactor& bus_;
  uint64_t base_, size_;
};

}  // namespace

AcceleratorTlm::AcceleratorTlm(sc_core::sc_module_name name, const sim::AcceleratorConfig& cfg,
                               const AcceleratorTlmOptions& opt)
    : sc_core::sc_module(name),
      regs("regs"),
      dma("dma"),
      irq("irq"),
      cfg_(cfg),
      opt_(opt),
      bus_(opt.timing, &qk_, opt.max_burst_bytes) {
  cfg_.validate();
  period_ = opt.clock_period != sc_core::SC_ZERO_TIME
                ? opt.clock_period
                : sc_core::sc_time(std::round(1e6 / cfg_.clock_mhz), sc_core::SC_PS);
  regs.register_b_transport(this, &AcceleratorTlm::b_transport);
  regs.register_transport_dbg(this, &AcceleratorTlm::transport_dbg);
  dma.register_nb_transport_bw(this, &AcceleratorTlm::nb_transport_bw);
  SC_THREAD(run_thread);
  SC_METHOD(irq_driver);
  sensitive << irq_ev_;
}

AcceleratorTlm::~AcceleratorTlm() = default;

tlm::tlm_sync_enum AcceleratorTlm::nb_transport_bw(tlm::tlm_generic_payload& gp, tlm::tlm_phase& phase,
                                                   sc_core::sc_time& t) {
  return bus_.on_bw(gp, phase, t);
}

void AcceleratorTlm::irq_driver() { irq.write((irq_status_ & irq_enable_) != 0); }
void AcceleratorTlm::update_irq() { irq_ev_.notify(sc_core::SC_ZERO_TIME); }

uint32_t AcceleratorTlm::read_reg(uint32_t off) const {
  auto lo = [](uint64_t v) { return static_cast<uint32_t>(v); };
  auto hi = [](uint64_t v) { return static_cast<uint32_t>(v >> 32); };
  const sim::Stats none;
  const sim::Stats& s = stats_ ? *stats_ : none;
  const uint64_t commands = stats_ ? commands_ : 0;
  switch (off) {
    case reg::kId: return reg::kIdValue;
    case reg::kVersion: return reg::kVersionValue;
    case reg::kCmdAddrLo: return lo(cmd_addr_);
    case reg::kCmdAddrHi: return hi(cmd_addr_);
    case reg::kCmdLen: return cmd_len_;
    case reg::kDramBaseLo: return lo(dram_base_);
    case reg::kDramBaseHi: return hi(dram_base_);
    case reg::kDramSizeLo: return lo(dram_size_);
    case reg::kDramSizeHi: return hi(dram_size_);
    case reg::kCtrl: return 0;
    case reg::kStatus:
      return (busy_ ? reg::kStatusBusy : 0) | (done_ ? reg::kStatusDone : 0) | (error_code_ ? reg::kStatusError : 0);
    case reg::kIrqEnable: return irq_enable_;
    case reg::kIrqStatus: return irq_status_;
    case reg::kErrorCode: return error_code_;
    case reg::kCycles: return lo(s.cycles);
    case reg::kCycles + 4: return hi(s.cycles);
    case reg::kMacs: return lo(s.macs);
    case reg::kMacs + 4: return hi(s.macs);
    case reg::kDramRead: return lo(s.dram_read);
    case reg::kDramRead + 4: return hi(s.dram_read);
    case reg::kDramWritten: return lo(s.dram_written);
    case reg::kDramWritten + 4: return hi(s.dram_written);
    case reg::kCommands: return lo(commands);
    case reg::kCommands + 4: return hi(commands);
    case reg::kArrayBusy: return lo(s.array_compute);
    case reg::kArrayBusy + 4: return hi(s.array_compute);
    case reg::kStallDram: return lo(s.array_stall_dram);
    case reg::kStallDram + 4: return hi(s.array_stall_dram);
    default: return 0;
  }
}

void AcceleratorTlm::write_reg(uint32_t off, uint32_t v, const sc_core::sc_time& delay) {
  switch (off) {
    case reg::kCmdAddrLo: cmd_addr_ = (cmd_addr_ & ~uint64_t{0xFFFFFFFF}) | v; break;
    case reg::kCmdAddrHi: cmd_addr_ = (cmd_addr_ & 0xFFFFFFFF) | uint64_t(v) << 32; break;
    case reg::kCmdLen: cmd_len_ = v; break;
    case reg::kDramBaseLo: dram_base_ = (dram_base_ & ~uint64_t{0xFFFFFFFF}) | v; break;
    case reg::kDramBaseHi: dram_base_ = (dram_base_ & 0xFFFFFFFF) | uint64_t(v) << 32; break;
    case reg::kDramSizeLo: dram_size_ = (dram_size_ & ~uint64_t{0xFFFFFFFF}) | v; break;
    case reg::kDramSizeHi: dram_size_ = (dram_size_ & 0xFFFFFFFF) | uint64_t(v) << 32; break;
    case reg::kCtrl:
      if ((v & reg::kCtrlStart) && !busy_) {
        busy_ = true;
        done_ = false;
        error_code_ = reg::kErrNone;
        start_ev_.notify(delay);
      }
      break;
    case reg::kIrqEnable:
      irq_enable_ = v & reg::kIrqDone;
      update_irq();
      break;
    case reg::kIrqStatus:
      irq_status_ &= ~v;
      update_irq();
      break;
    default: break;  // read-only registers ignore writes
  }
}

void AcceleratorTlm::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  const uint64_t a = gp.get_address();
  if (gp.get_data_length() != 4 || (a & 3) || gp.get_byte_enable_ptr() || gp.get_streaming_width() < 4) {
    gp.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
    return;
  }
  if (a >= reg::kSize) {
    gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  uint8_t* d = gp.get_data_ptr();
  const uint32_t off = static_cast<uint32_t>(a);
  if (gp.is_read()) {
    const uint32_t v = read_reg(off);
    for (int i = 0; i < 4; ++i) d[i] = uint8_t(v >> (8 * i));
  } else if (gp.is_write()) {
    write_reg(off, uint32_t(d[0]) | uint32_t(d[1]) << 8 | uint32_t(d[2]) << 16 | uint32_t(d[3]) << 24, delay);
  }
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

unsigned AcceleratorTlm::transport_dbg(tlm::tlm_generic_payload& gp) {
  const uint64_t a = gp.get_address();
  if (!gp.is_read() || gp.get_data_length() != 4 || (a & 3) || a >= reg::kSize) return 0;
  const uint32_t v = read_reg(static_cast<uint32_t>(a));
  for (int i = 0; i < 4; ++i) gp.get_data_ptr()[i] = uint8_t(v >> (8 * i));
  return 4;
}

void AcceleratorTlm::run_thread() {
  bus_.bind(dma.operator->());  // the bound socket's forward interface
  for (;;) {
    sc_core::wait(start_ev_);
    qk_.reset();
    error_.clear();
    try {
      execute();
      done_ = true;
    } catch (const StreamError& e) {
      error_code_ = reg::kErrStream, error_ = e.what();
    } catch (const BusError& e) {
      error_code_ = reg::kErrBus, error_ = e.what();
    } catch (const std::exception& e) {
      error_code_ = reg::kErrExec, error_ = e.what();
    }
    if (opt_.timing == Timing::LooselyTimed) qk_.sync();
    ++runs_;
    busy_ = false;
    irq_status_ |= reg::kIrqDone;
    update_irq();
  }
}

void AcceleratorTlm::execute() {
  // Fetch and decode the command stream.
  if (cmd_len_ == 0 || cmd_len_ % kCommandBytes)
    throw StreamError("CMD_LEN " + std::to_string(cmd_len_) + " is not a positive multiple of " +
                      std::to_string(kCommandBytes) + " bytes");
  std::vector<uint8_t> raw(cmd_len_);
  bus_.read(cmd_addr_, raw.data(), raw.size());
  std::vector<Command> cmds;
  try {
    cmds = decode_commands(raw.data(), raw.size());
  } catch (const std::runtime_error& e) {
    throw StreamError(e.what());
  }
  if (cmds.back().op != Opcode::End) throw StreamError("the command stream does not end with End");

  // Every DMA transfer goes through the initiator socket, row by row, in the cycle the engine's DMA model
  // completes it.
  BusDram dram(bus_, dram_base_, dram_size_ ? dram_size_ : ~uint64_t{0} - dram_base_);
  sim::Accelerator acc(cfg_, dram);
  const size_t n_cmds = cmds.size();
  acc.load_program(std::move(cmds));
  const bool lt = opt_.timing == Timing::LooselyTimed;
  while (!acc.done()) {
    if (acc.cycle() >= opt_.max_cycles)
      throw std::runtime_error("run stopped after " + std::to_string(opt_.max_cycles) + " cycles");
    acc.tick();
    if (lt) {
      qk_.inc(period_);
      if (qk_.need_sync()) qk_.sync();
    } else {
      sc_core::wait(period_);
    }
  }
  commands_ = n_cmds;
  stats_ = acc.stats();
}

}  // namespace fp8sim::vp
