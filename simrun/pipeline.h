// The main job's pipeline, shared by `simrun --workload` and `simrun sweep`: one workload, one number format,
// one accelerator configuration ->
//   quantize (workloads/ + model/quant: calibrated PTQ, BitExact execution)
//   -> each quantized GEMM lowered (firmware/) and executed on the cycle-accurate accelerator (sim/), whose
//      output words feed the rest of the network (so the accuracy is the simulated hardware's)
//   -> every output word compared with model::golden_gemm (and, with the RTL engine, every array output row
//      with the Verilated RTL array's)
//   -> the statistics of each GEMM costed (cost/) and collected per layer into a report::FormatRun.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "fp8sim/cost/cost.h"
#include "fp8sim/firmware/mapper.h"
#include "fp8sim/report/report.h"
#include "fp8sim/sim/accelerator.h"
#include "fp8sim/sim/config.h"
#include "fp8sim/workloads/runner.h"

namespace fp8sim::simrun {

// Changes applied to a base configuration (sim/configs/*.toml). Unset fields keep the file's values.
struct ConfigOverrides {
  int rows = 0, cols = 0;                       // --array RxC
  std::optional<firmware::Dataflow> dataflow;   // --dataflow
  std::string accumulator;                      // "" | "exact" | "fp32" (FP8 PEs; INT8 always int32)
  int64_t input_buffer_bytes = 0, weight_buffer_bytes = 0, output_buffer_bytes = 0;  // sweep
  int dram_bytes_per_cycle = 0;                                                      // sweep
};

// The configuration that runs `format` ("e4m3", "e5m2", "int8") on `base` with the overrides. Buffers whose
// access width no longer carries one array row get more banks (said in *notes). Throws
// std::invalid_argument ("<config>: <key>: <reason>") when the result is not a valid accelerator.
sim::AcceleratorConfig derive_config(const sim::AcceleratorConfig& base, const ConfigOverrides& o,
                                     const std::string& format, std::vector<std::string>* notes);

report::ConfigSummary summarize(const sim::AcceleratorConfig& cfg);

// Progress of concurrent format runs on one stderr line (only when enabled: a terminal and not --quiet).
class Progress {
 public:
  Progress(bool enabled, std::vector<std::string> slots);
  void plan(size_t slot, uint64_t macs_total, uint64_t calls_total);
  void gemm_done(size_t slot, uint64_t macs, uint64_t cycles);
  void finish();  // ends the line

 private:
  void draw(bool force);
  struct Slot {
    std::string name;
    uint64_t macs_total = 0, calls_total = 0, macs = 0, calls = 0, cycles = 0;
  };
  bool enabled_;
  std::mutex mu_;
  std::vector<Slot> slots_;
  double t0_ = 0, last_draw_ = -1;
};

struct PipelineSetup {
  const workloads::Workload* workload = nullptr;
  quant::Recipe recipe;            // format set per run
  size_t calib_items = 0;          // 0: the workload's default
  std::vector<size_t> items;       // item indices simulated on the accelerator (every output verified)
  std::vector<size_t> golden_items;  // further items evaluated on the host's bit-exact golden GEMM (same numerics)
  unsigned golden_threads = 1;       // threads per format for the golden items
  sim::Engine engine = sim::Engine::Model;
  // false (default): every GEMM's outputs leave the array through the post-processing unit (dequantize, bias,
  // convert to the format its consumer reads: BF16 or F32), as the accelerator is built; true (--store
  // accumulators, for debugging): raw accumulator words go to DRAM and the host post-processes them.
  bool store_accumulators = false;
  // --mapping: auto (default), the mapper's loop order and blocks per GEMM (firmware/mapper.h) for `objective`;
  // fixed: the fixed order of lower_gemm (for comparison).
  bool mapping_auto = true;
  firmware::MappingObjective mapping_objective = firmware::MappingObjective::DramBytes;
  const cost::EnergyTable* energy = nullptr;
  const cost::AreaTable* area = nullptr;
};

struct FormatOutcome {
  report::FormatRun run;
  std::vector<std::string> notes;     // cost-model notes and configuration adjustments
  std::vector<std::string> warnings;  // quantizer warnings
  std::string first_mismatch;         // description of the first mismatching word ("" when none)
  uint64_t gemms = 0;                 // GEMMs simulated
  double seconds = 0;                 // wall time of this format's run
  double sim_seconds = 0, golden_seconds = 0;  // of which: accelerator simulation, golden GEMMs,
  double reference_seconds = 0, calibration_seconds = 0;  // FP32 reference pass, calibration (or waiting for it)
  double golden_items_seconds = 0;     // the golden items' quantized pass
  workloads::ItemScores scores, fp32_scores;  // per item (top1, spearman), in increasing item order
};

// Runs the workload's evaluation items in `format` on `cfg`. Throws std::invalid_argument when a GEMM does
// not fit the configuration, std::runtime_error for simulation errors (e.g. an RTL mismatch, which stops the
// run naming the layer, tile, row and column).
FormatOutcome run_format(const PipelineSetup& setup, const std::string& format, const sim::AcceleratorConfig& cfg,
                         Progress* progress, size_t progress_slot);

// Runs fn(0 .. n-1) on up to `jobs` threads (0: one per CPU), each index once; rethrows the first exception
// (by index) after every call has returned.
void parallel_for(size_t n, unsigned jobs, const std::function<void(size_t)>& fn);

// Format names simrun accepts for simulation.
bool simulated_format(const std::string& f);

}  // namespace fp8sim::simrun
