// The example virtual platform: a host CPU model, a memory and the TLM-2.0 accelerator.
//
//   Host.mem  ---> Memory.socket(0)          memory at kMemBase (kMemSize bytes)
//   Host.regs ---> AcceleratorTlm.regs       the accelerator's registers (offsets 0 .. reg::kSize)
//   AcceleratorTlm.dma ---> Memory.socket(1)
//   AcceleratorTlm.irq ---> irq signal ---> Host.irq
//
// The host plays the driver: for each GEMM task it lowers the GEMM for the accelerator's configuration
// (firmware::lower_gemm), writes A, B and the binary command stream into memory, programs CMD_ADDR,
// CMD_LEN, DRAM_BASE and IRQ_ENABLE, writes START, waits for the interrupt, reads STATUS and the statistics
// registers, clears the interrupt, reads C back and compares every word with model::golden_gemm.
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include <cstdint>
#include <string>
#include <vector>

#include "fp8sim/firmware/lowering.h"
#include "fp8sim/model/gemm.h"
#include "fp8sim/tlm/accelerator_tlm.h"
#include "fp8sim/tlm/memory.h"
#include "fp8sim/tlm/transactor.h"

namespace fp8sim::vp {

inline constexpr uint64_t kMemBase = 0x80000000ull;
inline constexpr uint64_t kMemSize = 64ull << 20;
inline constexpr uint64_t kCmdOffset = 0x0;         // command stream, from the start of memory
inline constexpr uint64_t kDramOffset = 0x100000;   // the accelerator's DRAM window (DRAM_BASE) 1 MiB in

struct GemmTask {
  int64_t m = 0, k = 0, n = 0;
  std::vector<uint8_t> a, b;  // operand codes, row-major
};

struct TaskResult {
  uint32_t status = 0, error_code = 0;
  uint64_t cycles = 0, macs = 0, dram_read = 0, dram_written = 0, commands = 0, array_busy = 0, stall_dram = 0;
  std::vector<firmware::Command> stream;  // what the host lowered and wrote
  std::vector<model::AccWord> c;          // read back from memory
  size_t mismatches = 0;                  // words differing from golden_gemm
  std::string first_mismatch;
  sc_core::sc_time started, finished;     // START written, interrupt seen
};

class Host : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<Host> mem;
  tlm_utils::simple_initiator_socket<Host> regs;
  sc_core::sc_in<bool> irq;

  SC_HAS_PROCESS(Host);
  Host(sc_core::sc_module_name name, const sim::AcceleratorConfig& cfg, Timing timing);
  std::vector<GemmTask> tasks;
  std::vector<TaskResult> results;
  bool finished() const { return finished_; }

 private:
  void main_thread();
  TaskResult run_task(const GemmTask& t);
  tlm::tlm_sync_enum mem_bw(tlm::tlm_generic_payload& gp, tlm::tlm_phase& ph, sc_core::sc_time& t) {
    return mem_bus_.on_bw(gp, ph, t);
  }
  tlm::tlm_sync_enum regs_bw(tlm::tlm_generic_payload& gp, tlm::tlm_phase& ph, sc_core::sc_time& t) {
    return reg_bus_.on_bw(gp, ph, t);
  }
  uint64_t read64(uint32_t off);

  sim::AcceleratorConfig cfg_;
  Transactor mem_bus_, reg_bus_;
  bool finished_ = false;
};

// The whole platform in one module; build one (or several side by side) before sc_start().
struct PlatformOptions {
  Timing timing = Timing::LooselyTimed;
  sc_core::sc_time memory_latency = sc_core::sc_time(20, sc_core::SC_NS);
};

class Platform : public sc_core::sc_module {
 public:
  Platform(sc_core::sc_module_name name, const sim::AcceleratorConfig& cfg, const PlatformOptions& opt = {});
  Memory memory;
  AcceleratorTlm accelerator;
  Host host;
  sc_core::sc_signal<bool> irq;
};

}  // namespace fp8sim::vp
