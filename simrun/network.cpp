#include "network.h"

#include <algorithm>

namespace fp8sim::simrun {

void NetworkSchedule::spill(const std::string& tensor, uint64_t bytes, bool read_back) {
  ++spilled_;
  spilled_bytes_ += bytes;
  (read_back ? spill_read_ : spill_written_) += bytes;
  report::SpillRow& r = spills_[tensor];
  r.tensor = tensor;
  ++r.calls;
  r.bytes += bytes;
}

NetworkSchedule::Decision NetworkSchedule::gemm(const std::string& name, bool act_act, int64_t m, int64_t k,
                                                int64_t n, int out_bytes, int64_t a_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  Decision d;
  d.index = gemms_++;
  d.vector_before = pending_vector_;
  pending_vector_ = 0;
  vector_before_.push_back(d.vector_before);
  first_wload_.push_back(0);
  // Weights: every distinct weight tensor once (the DRAM floor); attention's second operand is an activation.
  if (!act_act && weights_seen_.insert(name).second) weight_bytes_ += uint64_t(k * n);
  // Without an activation SRAM (size 0) every tensor spills: nothing fits in half of nothing.
  const auto place = [&](const std::string& tensor, uint64_t bytes, bool is_output, bool& on_chip) {
    on_chip = int64_t(bytes) <= half_;
    if (on_chip) {
      ++resident_;
      resident_bytes_ += bytes;
    } else {
      // A spilled output is read back from DRAM by the vector unit; a spilled input was written there by it.
      spill(tensor, bytes, is_output);
    }
  };
  place(name + ".input", uint64_t(a_bytes >= 0 ? a_bytes : m * k), false, d.placement.a_on_chip);
  if (act_act) place(name + ".input_b", uint64_t(k * n), false, d.placement.b_on_chip);
  if (out_bytes > 0) place(name + ".output", uint64_t(m * n * out_bytes), true, d.placement.out_on_chip);
  return d;
}

void NetworkSchedule::vector_op(uint64_t cycles) {
  std::lock_guard<std::mutex> lock(mu_);
  pending_vector_ += cycles;
}

void NetworkSchedule::simulated(size_t index, uint64_t first_weight_load_cycles) {
  std::lock_guard<std::mutex> lock(mu_);
  if (index < first_wload_.size()) first_wload_[index] = first_weight_load_cycles;
}

report::NetworkSchedule NetworkSchedule::finish(uint64_t batch, uint64_t inferences) const {
  std::lock_guard<std::mutex> lock(mu_);
  report::NetworkSchedule r;
  r.present = true;
  r.activation_sram_bytes = uint64_t(sram_);
  r.batch = batch;
  r.resident_tensors = resident_, r.spilled_tensors = spilled_;
  r.resident_bytes = resident_bytes_, r.spilled_bytes = spilled_bytes_;
  r.spill_dram_read = spill_read_, r.spill_dram_written = spill_written_;
  // weight_bytes_ counts each distinct weight tensor once over the whole run; a batch reads them once, so a run
  // of `inferences` items in batches of `batch` reads them ceil(inferences / batch) times at least.
  const uint64_t batches = (std::max<uint64_t>(inferences, 1) + batch - 1) / batch;
  r.io_dram_read = io_in_ * std::max<uint64_t>(inferences, 1);
  r.io_dram_written = io_out_ * std::max<uint64_t>(inferences, 1);
  r.dram_minimum_bytes = weight_bytes_ * batches + r.io_dram_read + r.io_dram_written;
  for (size_t i = 1; i < first_wload_.size(); ++i)
    r.prefetch_overlap_cycles += std::min(vector_before_[i], first_wload_[i]);
  for (const auto& [name, row] : spills_) r.spills.push_back(row);
  std::sort(r.spills.begin(), r.spills.end(),
            [](const report::SpillRow& a, const report::SpillRow& b) { return a.bytes > b.bytes || (a.bytes == b.bytes && a.tensor < b.tensor); });
  return r;
}

}  // namespace fp8sim::simrun
