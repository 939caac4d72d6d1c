// The network on one accelerator: where each tensor lives between operations (issue #10 item 3).
//
// Policy (stated in the report and README): the activation SRAM ([activation_sram], size S) is used as two
// ping-pong halves, one holding what the current operation reads and one what it writes. A tensor stays on chip
// when it fits in one half (S / 2 bytes); otherwise it spills: its producer writes it to DRAM and its consumer
// reads it from there. For a GEMM that means: its activations (A; for attention matmuls also the second
// operand) are read from the activation SRAM when they fit, and its post-processed outputs are written there
// when they fit. The vector unit between GEMMs reads and writes the activation SRAM; for a spilled tensor it
// pays the DRAM round trip (counted here as spill traffic: a spilled GEMM output is read back, a spilled GEMM
// input was written out). Weights always come from DRAM, once per GEMM call (per batch with --batch).
//
// Calls come in program order from the executor's thread (gemm(), vector_op()); simulated() may come from
// worker threads.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "fp8sim/report/report.h"
#include "fp8sim/sim/config.h"
#include "fp8sim/sim/gemm_run.h"

namespace fp8sim::simrun {

class NetworkSchedule {
 public:
  explicit NetworkSchedule(const sim::AcceleratorConfig& cfg) : half_(cfg.activation_sram.size_bytes / 2),
                                                                sram_(cfg.activation_sram.size_bytes) {}

  struct Decision {
    sim::GemmPlacement placement;
    size_t index = 0;           // the GEMM's position in program order
    uint64_t vector_before = 0;  // vector-unit cycles since the previous GEMM
  };
  // out_bytes: bytes per post-processed output (0: raw accumulator words, --store accumulators: DRAM only).
  // a_bytes: the size of A as stored (implicit im2col: the NHWC input, not the im2col matrix; -1: m * k).
  Decision gemm(const std::string& name, bool act_act, int64_t m, int64_t k, int64_t n, int out_bytes,
                int64_t a_bytes = -1);
  void vector_op(uint64_t cycles);
  // After GEMM `index` ran: the duration of its first weight load (cycles), for the prefetch estimate.
  void simulated(size_t index, uint64_t first_weight_load_cycles);
  // The network's inputs and outputs as the accelerator sees them (bytes per inference), for the DRAM floor.
  static constexpr uint64_t kKeep = ~uint64_t{0};
  void set_io_bytes(uint64_t in, uint64_t out) {
    std::lock_guard<std::mutex> lock(mu_);
    if (in != kKeep) io_in_ = in;
    if (out != kKeep) io_out_ = out;
  }
  report::NetworkSchedule finish(uint64_t batch, uint64_t inferences) const;

 private:
  void spill(const std::string& tensor, uint64_t bytes, bool read_back);
  int64_t half_ = 0, sram_ = 0;
  mutable std::mutex mu_;
  size_t gemms_ = 0;
  uint64_t pending_vector_ = 0;
  std::vector<uint64_t> vector_before_, first_wload_;
  uint64_t resident_ = 0, spilled_ = 0, resident_bytes_ = 0, spilled_bytes_ = 0;
  uint64_t spill_read_ = 0, spill_written_ = 0;
  std::map<std::string, report::SpillRow> spills_;
  std::set<std::string> weights_seen_;
  uint64_t weight_bytes_ = 0, io_in_ = 0, io_out_ = 0;
};

}  // namespace fp8sim::simrun
