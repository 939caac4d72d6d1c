#include "fp8sim/tlm/platform.h"

#include <memory>

#include "fp8sim/model/gemm.h"
#include "fp8sim/sim/systolic_array.h"
#include "fp8sim/tlm/command_binary.h"

namespace fp8sim::vp {

Host::Host(sc_core::sc_module_name name, const sim::AcceleratorConfig& cfg, Timing timing)
    : sc_core::sc_module(name),
      mem("mem"),
      regs("regs"),
      irq("irq"),
      cfg_(cfg),
      mem_bus_(timing, nullptr, 1024),
      reg_bus_(timing, nullptr, 4) {
  mem.register_nb_transport_bw(this, &Host::mem_bw);
  regs.register_nb_transport_bw(this, &Host::regs_bw);
  SC_THREAD(main_thread);
}

uint64_t Host::read64(uint32_t off) {
  const uint64_t lo = reg_bus_.read32(off);
  return lo | uint64_t(reg_bus_.read32(off + 4)) << 32;
}

void Host::main_thread() {
  mem_bus_.bind(mem.operator->());
  reg_bus_.bind(regs.operator->());
  for (const GemmTask& t : tasks) results.push_back(run_task(t));
  finished_ = true;
}

TaskResult Host::run_task(const GemmTask& t) {
  TaskResult r;
  // The accelerator's DRAM layout of the GEMM: A at 0, B and C 64-byte aligned after it.
  const auto align = [](uint64_t x) { return (x + 63) / 64 * 64; };
  firmware::GemmSpec g;
  g.m = t.m, g.k = t.k, g.n = t.n;
  g.a_addr = 0;
  g.b_addr = align(uint64_t(t.m * t.k));
  g.c_addr = align(g.b_addr + uint64_t(t.k * t.n));
  const firmware::LoweredGemm low = firmware::lower_gemm(cfg_.target(), g);
  r.stream = low.commands;
  firmware::finish_stream(r.stream);
  const std::vector<uint8_t> bin = encode_commands(r.stream);

  const uint64_t dram = kMemBase + kDramOffset;
  mem_bus_.write(dram + g.a_addr, t.a.data(), t.a.size());
  mem_bus_.write(dram + g.b_addr, t.b.data(), t.b.size());
  mem_bus_.write(kMemBase + kCmdOffset, bin.data(), bin.size());

  reg_bus_.write32(reg::kCmdAddrLo, uint32_t(kMemBase + kCmdOffset));
  reg_bus_.write32(reg::kCmdAddrHi, uint32_t((kMemBase + kCmdOffset) >> 32));
  reg_bus_.write32(reg::kCmdLen, uint32_t(bin.size()));
  reg_bus_.write32(reg::kDramBaseLo, uint32_t(dram));
  reg_bus_.write32(reg::kDramBaseHi, uint32_t(dram >> 32));
  reg_bus_.write32(reg::kIrqEnable, reg::kIrqDone);
  r.started = sc_core::sc_time_stamp();
  reg_bus_.write32(reg::kCtrl, reg::kCtrlStart);
  while (!irq.read()) sc_core::wait(irq.value_changed_event());
  r.finished = sc_core::sc_time_stamp();

  r.status = reg_bus_.read32(reg::kStatus);
  r.error_code = reg_bus_.read32(reg::kErrorCode);
  r.cycles = read64(reg::kCycles);
  r.macs = read64(reg::kMacs);
  r.dram_read = read64(reg::kDramRead);
  r.dram_written = read64(reg::kDramWritten);
  r.commands = read64(reg::kCommands);
  r.array_busy = read64(reg::kArrayBusy);
  r.stall_dram = read64(reg::kStallDram);
  reg_bus_.write32(reg::kIrqStatus, reg::kIrqDone);
  while (irq.read()) sc_core::wait(irq.value_changed_event());

  // C back from memory, compared word for word with the golden GEMM in the lowering's accumulation order.
  const int wb = cfg_.word_bytes();
  std::vector<uint8_t> cbytes(size_t(t.m * t.n * wb));
  mem_bus_.read(dram + g.c_addr, cbytes.data(), cbytes.size());
  const auto arr = sim::make_systolic_array(cfg_.array);
  r.c.resize(size_t(t.m * t.n));
  for (size_t i = 0; i < r.c.size(); ++i) {
    sim::uint128 w = 0;
    for (int b = wb - 1; b >= 0; --b) w = (w << 8) | cbytes[i * size_t(wb) + size_t(b)];
    r.c[i] = arr->to_acc_word(w);
  }
  const auto want = model::golden_gemm(arr->numerics(), model::AccumulationOrder{low.k_chunk}, t.m, t.k, t.n,
                                       t.a.data(), t.b.data());
  for (size_t i = 0; i < want.size(); ++i)
    if (!(r.c[i] == want[i]) && r.mismatches++ == 0)
      r.first_mismatch = "C[" + std::to_string(int64_t(i) / t.n) + "][" + std::to_string(int64_t(i) % t.n) +
                         "]: " + model::acc_word_to_string(arr->numerics(), r.c[i]) + ", golden " +
                         model::acc_word_to_string(arr->numerics(), want[i]);
  return r;
}

Platform::Platform(sc_core::sc_module_name name, const sim::AcceleratorConfig& cfg, const PlatformOptions& opt)
    : sc_core::sc_module(name),
      memory("memory", kMemBase, kMemSize, 2, opt.memory_latency),
      accelerator("accelerator", cfg, AcceleratorTlmOptions{opt.timing}),
      host("host", cfg, opt.timing),
      irq("irq") {
  host.mem.bind(memory.socket(0));
  accelerator.dma.bind(memory.socket(1));
  host.regs.bind(accelerator.regs);
  accelerator.irq(irq);
  host.irq(irq);
}

}  // namespace fp8sim::vp
