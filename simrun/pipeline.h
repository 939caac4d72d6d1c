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

// The configuration that runs `format` ("e4m3", "e5m2", "int8", or an MX format: base's array made an MX array
// of that format, output-stationary, block size from an MX base or 32) on `base` with the overrides. Buffers whose
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
  sim::Engine engine = sim::Engine::Fast;
  // --check-engine: this percentage of the GEMMs (chosen from the seed and the GEMM's call index) also runs on the
  // other model engine (Fast <-> Model); any difference in output words or statistics is an error.
  double check_engine_pct = 0;
  uint64_t check_engine_seed = 1;
  // GEMM simulations run in parallel within this format (>= 1; 1: each simulated when its batch is complete, on
  // the format's thread). Results are aggregated in program order: the same report for any count.
  unsigned gemm_threads = 1;
  // false (default): every GEMM's outputs leave the array through the post-processing unit (dequantize, bias,
  // convert to the format its consumer reads: BF16 or F32), as the accelerator is built; true (--store
  // accumulators, for debugging): raw accumulator words go to DRAM and the host post-processes them.
  bool store_accumulators = false;
  // --mapping: auto (default), the mapper's loop order and blocks per GEMM (firmware/mapper.h) for `objective`;
  // fixed: the fixed order of lower_gemm (for comparison).
  bool mapping_auto = true;
  firmware::MappingObjective mapping_objective = firmware::MappingObjective::DramBytes;
  // false (default): a GEMM whose K exceeds the accumulator's wrap-free bound (model::max_wrap_free_k) is
  // refused with the bound in the message; true (--allow-accumulator-wrap): it runs and the wraps are counted
  // (report: accumulator).
  bool allow_accumulator_wrap = false;
  // --batch N: the accelerator runs N items together: each weight layer's calls from the N items are one GEMM
  // (activation rows stacked, weights read once per batch). 1: every call is simulated as it comes.
  size_t batch = 1;
  // --im2col: implicit (default): a convolution's activation loads gather its im2col rows from the NHWC input
  // (no K-times-larger matrix moved); explicit: the im2col matrix is read like any GEMM input (for comparison).
  bool implicit_im2col = true;
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
  uint64_t engine_checked = 0;         // --check-engine: GEMMs re-run on the other engine (all equal)
  unsigned sim_threads = 1;            // GEMM simulation threads (sim_seconds is summed over them)
  double sim_wall_seconds = 0;         // wall time the format's thread spent waiting for / running simulations
  workloads::ItemScores scores, fp32_scores;  // per item (top1, spearman), in increasing item order
};

// How the network's BitExact GEMMs reach the simulated accelerator: given the verifying backend, returns the
// backend the executor calls. Default: the verifying backend itself. (Tests wrap it, as sim::ArrayFactory wraps
// arrays, to provoke a GEMM that bypasses the verification.)
using BackendWrap = std::function<quant::GemmBackend(quant::GemmBackend)>;

// Runs the workload's evaluation items in `format` on `cfg`. Throws std::invalid_argument when a GEMM does
// not fit the configuration (or its K can wrap the accumulator without setup.allow_accumulator_wrap),
// std::runtime_error for simulation errors (e.g. an RTL mismatch, which stops the run naming the layer, tile,
// row and column). Verification (run.verification): total_outputs is the sum of M x N over the GEMMs the
// executor handed to the backend (quant::Executor::backend_gemm_outputs, counted at its call sites); golden
// checked_outputs and mismatches are counted in the comparison loop; the RTL check counts a GEMM's outputs
// when every array output row was compared (rtl_checked_outputs).
FormatOutcome run_format(const PipelineSetup& setup, const std::string& format, const sim::AcceleratorConfig& cfg,
                         Progress* progress, size_t progress_slot, const BackendWrap& wrap = {});

// The RTL check of one GEMM's accelerator run: its m x n outputs count as compared with the Verilated array
// when the compute unit compared every output row the array delivered (Stats::rtl_rows_compared, counted in
// the comparison, equals Stats::array_rows_out, counted where rows are written) and at least one; else 0.
uint64_t rtl_checked_outputs(const sim::Stats& st, int64_t m, int64_t n);

// "" when every verification check of the runs compared all its outputs and found no mismatch; else one line
// naming each gap (outputs not compared) and mismatch count, by format and reference.
std::string verification_failure(const std::vector<report::FormatRun>& runs);

// Runs fn(0 .. n-1) on up to `jobs` threads (0: one per CPU), each index once; rethrows the first exception
// (by index) after every call has returned.
void parallel_for(size_t n, unsigned jobs, const std::function<void(size_t)>& fn);

// Format names simrun accepts for simulation: e4m3, e5m2, int8 and the OCP MX formats (model/mx.h: mxfp8,
// mxfp8-e5m2, mxfp6-e3m2, mxfp6-e2m3, mxfp4, mxint8; run on an MX array, sim/mx_array.h).
bool simulated_format(const std::string& f);
std::string simulated_format_names();  // "e4m3, e5m2, int8, mxfp8|mxfp8-e5m2|..." for messages

}  // namespace fp8sim::simrun
