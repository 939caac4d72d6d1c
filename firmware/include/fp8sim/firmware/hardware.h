// Hardware types shared by firmware/ (which lowers work onto the accelerator) and sim/ (which simulates it):
// the array's shape and dataflow and the capacities of its buffers. sim's AcceleratorConfig (a named
// configuration file) holds the full description and produces an ArrayTarget with target().
#pragma once

#include <cstdint>

namespace fp8sim::firmware {

enum class Dataflow : uint8_t { WeightStationary = 0, OutputStationary = 1 };

// What the lowering needs to know about the hardware.
struct ArrayTarget {
  int rows = 0, cols = 0;
  Dataflow dataflow = Dataflow::WeightStationary;
  int64_t input_buffer_bytes = 0, weight_buffer_bytes = 0, output_buffer_bytes = 0;
  int word_bytes = 4;   // bytes per accumulator word in the output buffer and in DRAM
  int64_t os_k_tile = 0; // OS: preferred K tile (0: as large as the buffers allow)
  // For the mapper's cycle model only (firmware/mapper.h); the lowering itself does not use them.
  int dram_bytes_per_cycle = 64, dram_latency = 100;
  int64_t input_width_bytes = 0, weight_width_bytes = 0, output_width_bytes = 0;  // per access; 0: unlimited
  // Hidden weight loads (WS shadow weight registers) and double-buffered accumulators (OS shadow outputs):
  // the array streams tile after tile without draining in between (the mapper's per-tile cost).
  bool shadow_weights = false, shadow_outputs = false;
  void validate() const;  // throws std::invalid_argument
};

}  // namespace fp8sim::firmware
