// Shared helpers of the sim tests: configurations built from a TOML template (so every test also goes
// through the strict loader).
#pragma once

#include <string>

#include "fp8sim/sim/config.h"
#include "fp8sim/sim/gemm_run.h"

namespace fp8sim::simtest {

struct CfgText {
  int rows = 4, cols = 4;
  std::string dataflow = "ws", pe = "e4m3", pe_b = "", acc = "fp32";
  int64_t in_bytes = 4096, w_bytes = 4096, out_bytes = 16384;
  int sram_latency = 1, ports = 2;
  int bw = 16, dram_latency = 10;
  int64_t os_k_tile = 0;
  // WS: shadow weights (hidden weight loads); OS: shadow outputs (double-buffered accumulators). Off here so
  // that the older tests' cycle derivations (2R + M + C - 2 and K + 2R + C - 2 per tile) stay checkable;
  // tests of the shadow paths set it (the configuration default is on).
  bool shadow = false;
  std::string text() const {
    auto sram = [&](const char* name, int64_t size, int width) {
      return std::string("[") + name + "]\nsize_bytes = " + std::to_string(size) + "\nbanks = 4\nbank_width_bytes = " +
             std::to_string(width) + "\nports = " + std::to_string(ports) + "\nlatency = " + std::to_string(sram_latency) + "\n";
    };
    const int row_bytes = 16 * cols;  // enough for 16-byte words
    return "name = \"test\"\n[array]\nrows = " + std::to_string(rows) + "\ncols = " + std::to_string(cols) +
           "\ndataflow = \"" + dataflow + "\"\npe = \"" + pe + "\"\n" + (pe_b.empty() ? "" : "pe_b = \"" + pe_b + "\"\n") +
           "accumulator = \"" + acc + "\"\n" + (dataflow == "os" ? "shadow_outputs = " : "shadow_weights = ") + (shadow ? "true\n" : "false\n") + sram("input_buffer", in_bytes, rows) + sram("weight_buffer", w_bytes, cols) +
           sram("output_buffer", out_bytes, row_bytes / 4 + 1) + "[dram]\nbytes_per_cycle = " + std::to_string(bw) +
           "\nlatency = " + std::to_string(dram_latency) + "\n[lowering]\nos_k_tile = " + std::to_string(os_k_tile) + "\n";
  }
  sim::AcceleratorConfig make() const { return sim::parse_config(text(), "test.toml"); }
};

// A GEMM job in a chosen layer, with the arrays built by `factory` (make_gemm_job takes neither): A at 0, B at
// 1024, C at 2048 in DRAM of dram_bytes; the stream lowered and loaded (copied to *program when given).
inline sim::GemmJob gemm_job_in_layer(const sim::AcceleratorConfig& cfg, int64_t m, int64_t k, int64_t n,
                                      const std::vector<uint8_t>& a, const std::vector<uint8_t>& b, sim::Engine engine,
                                      const sim::ArrayFactory& factory, uint16_t layer, uint64_t dram_bytes,
                                      std::vector<firmware::Command>* program = nullptr) {
  sim::GemmJob j;
  j.m = m, j.k = k, j.n = n, j.a = a, j.b = b;
  j.a_addr = 0, j.b_addr = 1024, j.c_addr = 2048;
  firmware::GemmSpec g;
  g.m = m, g.k = k, g.n = n, g.a_addr = j.a_addr, g.b_addr = j.b_addr, g.c_addr = j.c_addr, g.layer = layer;
  j.lowered = firmware::lower_gemm(cfg.target(), g);
  std::vector<firmware::Command> cmds = j.lowered.commands;
  firmware::finish_stream(cmds);
  if (program) *program = cmds;
  j.acc = std::make_unique<sim::Accelerator>(cfg, dram_bytes, engine, factory);
  std::copy(a.begin(), a.end(), j.acc->dram().begin() + int64_t(j.a_addr));
  std::copy(b.begin(), b.end(), j.acc->dram().begin() + int64_t(j.b_addr));
  j.acc->load_program(std::move(cmds));
  return j;
}

}  // namespace fp8sim::simtest
