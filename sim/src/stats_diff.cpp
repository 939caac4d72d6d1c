// stats_difference (fast_array.h): field-by-field comparison of two accelerator runs' statistics.
#include <string>

#include "fp8sim/sim/fast_array.h"

namespace fp8sim::sim {

std::string stats_difference(const Stats& a, const Stats& b) {
#define FP8SIM_EQ(f)                                                                                  \
  if (a.f != b.f) return std::string(#f) + ": " + std::to_string(a.f) + " vs " + std::to_string(b.f);
  FP8SIM_EQ(cycles) FP8SIM_EQ(array_compute) FP8SIM_EQ(array_weight_load) FP8SIM_EQ(array_fill_drain)
  FP8SIM_EQ(array_stall_dram) FP8SIM_EQ(array_stall_conflict) FP8SIM_EQ(array_idle) FP8SIM_EQ(dma_busy)
  FP8SIM_EQ(dma_stall_conflict) FP8SIM_EQ(dma_wait_deps) FP8SIM_EQ(macs) FP8SIM_EQ(postprocessed)
  FP8SIM_EQ(buffer_adds) FP8SIM_EQ(first_beat_cycle) FP8SIM_EQ(last_output_cycle) FP8SIM_EQ(first_compute_cycle)
  FP8SIM_EQ(input.bytes_read) FP8SIM_EQ(input.bytes_written) FP8SIM_EQ(input.accesses) FP8SIM_EQ(input.conflicts)
  FP8SIM_EQ(weight.bytes_read) FP8SIM_EQ(weight.bytes_written) FP8SIM_EQ(weight.accesses) FP8SIM_EQ(weight.conflicts)
  FP8SIM_EQ(output.bytes_read) FP8SIM_EQ(output.bytes_written) FP8SIM_EQ(output.accesses) FP8SIM_EQ(output.conflicts)
  FP8SIM_EQ(dram_read) FP8SIM_EQ(dram_written) FP8SIM_EQ(array_rows_out) FP8SIM_EQ(rtl_rows_compared)
  FP8SIM_EQ(rtl_words_compared) FP8SIM_EQ(rtl_mismatches) FP8SIM_EQ(acc_wraps) FP8SIM_EQ(toggles.a_regs)
  FP8SIM_EQ(toggles.b_regs) FP8SIM_EQ(toggles.acc_regs) FP8SIM_EQ(commands.size()) FP8SIM_EQ(layers.size())
  for (size_t i = 0; i < a.commands.size(); ++i) {
    const CommandStats &x = a.commands[i], &y = b.commands[i];
    if (x.index != y.index || x.op != y.op || x.layer != y.layer || x.tile != y.tile || x.dispatch != y.dispatch ||
        x.start != y.start || x.end != y.end || x.stall_cycles != y.stall_cycles)
      return "command record " + std::to_string(i) + " (program index " + std::to_string(x.index) +
             "): dispatch/start/end/stalls " + std::to_string(x.dispatch) + "/" + std::to_string(x.start) + "/" +
             std::to_string(x.end) + "/" + std::to_string(x.stall_cycles) + " vs " + std::to_string(y.dispatch) + "/" +
             std::to_string(y.start) + "/" + std::to_string(y.end) + "/" + std::to_string(y.stall_cycles);
  }
  for (auto ix = a.layers.begin(), iy = b.layers.begin(); ix != a.layers.end(); ++ix, ++iy) {
    const LayerStats &x = ix->second, &y = iy->second;
    if (ix->first != iy->first || x.first_cycle != y.first_cycle || x.last_cycle != y.last_cycle || x.macs != y.macs ||
        x.dram_read != y.dram_read || x.dram_written != y.dram_written || x.commands != y.commands)
      return "layer record " + std::to_string(ix->first) + " differs";
  }
#undef FP8SIM_EQ
  return "";
}

}  // namespace fp8sim::sim
