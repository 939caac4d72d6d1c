// The options of a workload run, shared by `simrun --workload` and `simrun sweep`.
#pragma once

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pipeline.h"

namespace fp8sim::simrun {

struct RunRequest {
  std::string workload, weights, data;
  workloads::OnnxInputs onnx;  // --vocab, --input-shape (.onnx workloads)
  std::string format = "e4m3";
  std::vector<std::string> compare;
  std::string config_path;
  ConfigOverrides overrides;
  int64_t seq = -1;  // -1: the default for the workload
  size_t samples = 0;  // 0: 1, or 2 for spearman workloads
  int64_t eval_items = -1;  // items evaluated in all (simulated + golden); -1: the workload's default, 0: all, -2: samples
  size_t calib = 0;  // 0: the workload's default
  size_t batch = 1;  // --batch: simulated items run together (weights read once per batch)
  bool implicit_im2col = true;  // --im2col implicit|explicit
  quant::Recipe recipe;
  sim::Engine engine = sim::Engine::Fast;
  double check_engine_pct = 0;  // --check-engine
  unsigned threads = 0;         // --threads (0: one per CPU)
  bool store_accumulators = false;  // --store accumulators
  bool mapping_auto = true;         // --mapping auto|fixed
  firmware::MappingObjective mapping_objective = firmware::MappingObjective::DramBytes;
  bool allow_accumulator_wrap = false;  // --allow-accumulator-wrap
  unsigned jobs = 0;
  std::string json_path, html_path;
  uint64_t seed = 1;
  bool quiet = false;
};

struct PreparedRun {
  std::unique_ptr<workloads::Workload> workload;
  size_t seq = 0;
  size_t calib_items = 0;  // calibration items actually used
  std::vector<size_t> items;         // simulated on the accelerator
  std::vector<size_t> golden_items;  // evaluated on the bit-exact golden model of the same numerics
  cost::EnergyTable energy;
  cost::AreaTable area;
  sim::AcceleratorConfig base;
};

std::string default_config_path();
void add_run_options(boost::program_options::options_description& d);
// Throws UsageError naming the option.
RunRequest parse_run_request(const boost::program_options::variables_map& vm, const std::string& cmd);
// Loads the workload, chooses the items, loads the cost tables and the base configuration.
PreparedRun prepare_run(const RunRequest& q);
// The pipeline's inputs for this request (pointing into p, which must outlive it).
PipelineSetup make_setup(const RunRequest& q, const PreparedRun& p);
// Runs `formats` (threads: q.jobs) with the overrides; cfgs_out: the derived configurations.
std::vector<FormatOutcome> run_formats(const RunRequest& q, const PreparedRun& p, const ConfigOverrides& o,
                                       const std::vector<std::string>& formats, bool progress_enabled,
                                       std::vector<sim::AcceleratorConfig>* cfgs_out = nullptr);
// Where the wall time went, per format (for people: never part of the JSON).
std::string timing_summary(const std::vector<FormatOutcome>& outs, double wall);
report::RunReport build_report(const RunRequest& q, const PreparedRun& p, const std::string& command,
                               const std::vector<FormatOutcome>& outs);

}  // namespace fp8sim::simrun
