// Shared helpers of the sim tests: configurations built from a TOML template (so every test also goes
// through the strict loader).
#pragma once

#include <string>

#include "fp8sim/sim/config.h"

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

}  // namespace fp8sim::simtest
