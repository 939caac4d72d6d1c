// simrun --workload NAME [options]: the main job. Quantize -> lower -> simulate -> verify -> cost -> report,
// for the chosen format and each compared one (pipeline.h), then the text report on stdout and the
// optional JSON / HTML reports (written atomically).
#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <limits>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "cli.h"
#include "fp8sim/model/mx.h"
#include "fp8sim/model/parse_number.h"
#include "fp8sim/workloads/metrics.h"
#include "pipeline.h"
#include "workload_options.h"

namespace fp8sim::simrun {

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {
// A number option parsed whole and range-checked (parse_number.h); errors are usage errors naming it.
template <class T>
T number(const std::string& what, const std::string& text, T lo = std::numeric_limits<T>::lowest(),
         T hi = std::numeric_limits<T>::max()) {
  try {
    return parse_number<T>(text, what, lo, hi);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

const char* kUsage =
    "usage: simrun --workload NAME [options]\n"
    "Runs a workload's network with post-training quantization on the cycle-accurate accelerator: every\n"
    "quantized GEMM is lowered into commands, simulated, and its output words checked against the golden model;\n"
    "the simulated outputs continue through the network, so the reported accuracy is the hardware's. Then the\n"
    "same for each compared format, and a report of accuracy, cycles, area and energy side by side.\n";

}  // namespace

void add_run_options(po::options_description& d) {
  // clang-format off
  d.add_options()
    ("workload", po::value<std::string>(), "workload name (simrun workloads lists them), a workload .json file, or an ONNX model (.onnx: its GEMMs run on the accelerator, every other op on the host; inputs from --data or --input-shape) (required)")
    ("weights", po::value<std::string>(), "weights instead of the workload's own (safetensors file; BERT: or a directory with model.safetensors, config.json, vocab.txt)")
    ("data", po::value<std::string>(), "inputs instead of the workload's own (CIFAR-10 .bin for ResNet, STS-B .tsv for BERT); for an .onnx model its inputs: a CIFAR-10 .bin (metric top-1) or an STS-B .tsv (Spearman of mean-pooled embeddings, with --vocab)")
    ("vocab", po::value<std::string>(), ".onnx with STS-B --data: the model's WordPiece vocab.txt [vocab.txt beside the model]")
    ("input-shape", po::value<std::string>(), ".onnx without --data: seeded random inputs (labelled SYNTHETIC; metric: output error) of this shape, e.g. 1x3x32x32, or NAME=SHAPE;NAME=SHAPE per input [the model's static shapes]")
    ("format", po::value<std::string>()->default_value("e4m3"), "number format of the chosen run: e4m3, e5m2, int8, or an OCP MX format: mxfp8, mxfp8-e5m2, mxfp6-e3m2, mxfp6-e2m3, mxfp4, mxint8 (weights and activations in blocks of 32 along K with E8M0 scales, activation scales from the data at run time, no calibration; run on an output-stationary MX array with exact accumulation, sim/mx_array.h); fp32 is the reference every run reports against")
    ("compare", po::value<std::string>()->default_value("int8"), "formats to run the same workload in for the side-by-side, comma-separated (any --format name), or none")
    ("config", po::value<std::string>(), "accelerator configuration (TOML) [sim/configs/default32.toml]; its PE type is replaced by each run's format")
    ("array", po::value<std::string>(), "array size RxC instead of the configuration's (buffer banks are widened to carry one row per access, and the report says so)")
    ("dataflow", po::value<std::string>(), "ws or os instead of the configuration's")
    ("accumulator", po::value<std::string>(), "FP8 accumulator: exact (fixed point, exact for K <= 4096) or fp32 (IEEE float32 adds) [the configuration's; default32: exact]; INT8 always accumulates in int32, MX formats always exactly")
    ("seq", po::value<std::string>(), "BERT: tokens per sequence; the workload's sentences are concatenated and cut into sequences of exactly N tokens (spearman workloads: each sentence truncated to N); 0: sentences as tokenized [128 for output-error workloads such as bert-base, 0 for minilm-l6]")
    ("samples", po::value<std::string>(), "inferences (images, sequences, sentence pairs) to simulate on the accelerator, every output verified [1; 2 for spearman workloads such as minilm-l6]")
    ("eval-items", po::value<std::string>(), "items the task metric is evaluated on, N or all: the --samples simulated ones (chosen with --seed among them) and the rest on the bit-exact golden model of the same numerics (model/'s GEMM on the host) [--workload: 1000 for top1 workloads (the first evaluation items), all for spearman workloads, --samples for the others; sweep: --samples]")
    ("batch", po::value<std::string>(), "simulated items (--samples) the accelerator runs together: each weight layer's calls from the batch's items are one GEMM, activation rows stacked, weights read once per batch (a sentence pair is one item, two sequences); attention matmuls stay per sequence [1]")
    ("im2col", po::value<std::string>()->default_value("implicit"), "convolutions: implicit (the activation loads gather each im2col row from the NHWC input: no K-times-larger matrix moved) or explicit (the im2col matrix is read like any GEMM input, for comparison)")
    ("calib", po::value<std::string>(), "calibration items for the static activation scales [the workload's calibration_items; with --seq: the first sequences, holding those sentences' tokens]")
    ("weight-granularity", po::value<std::string>()->default_value("per-channel"), "weight scales: per-channel or per-tensor")
    ("act-granularity", po::value<std::string>()->default_value("per-tensor"), "activation scales: per-tensor (static, min/max calibration) or per-token (dynamic)")
    ("store", po::value<std::string>()->default_value("outputs"), "outputs: every GEMM's outputs leave the array through the post-processing unit (dequantize, bias, convert to BF16 for the BF16 non-GEMM ops, or F32), 2 or 4 bytes each; accumulators: raw accumulator words go to DRAM and the host post-processes them (debugging; reports say so)")
    ("mapping", po::value<std::string>()->default_value("auto"), "auto: per GEMM, the loop order and block sizes that minimise --mapping-objective within the buffers (firmware/mapper.h; shown per layer in the report); fixed: the fixed order (each activation tile re-read for every output-column tile), for comparison")
    ("mapping-objective", po::value<std::string>()->default_value("dram"), "what the mapper minimises: dram (bytes), cycles (its cycle model) or energy (DRAM and SRAM bytes)")
    ("allow-accumulator-wrap", po::bool_switch(), "run GEMMs whose K can wrap the fixed-point (or int32) accumulator (K > floor((2^(w-1) - 1) / largest |product|)) instead of refusing them; the wraps are counted and reported")
    ("engine", po::value<std::string>()->default_value("fast"), "fast: the fast array engine (sim/fast_array.h; MX arrays: make_mx_fast_array in sim/mx_array.h: the same words, cycles, stalls, traffic and toggle counts as cycle, proven by tests/sim/test_engine_fast, test_mx_fast and --check-engine); cycle: the reference array, every PE stepped every cycle; rtl: the Verilated RTL array in the loop, each output row compared with the reference array (only array configurations built in rtl/CMakeLists.txt)")
    ("check-engine", po::value<std::string>()->default_value("0"), "percent of the GEMMs (chosen by --seed, deterministic) run a second time on the other model engine (fast <-> cycle) and compared field by field (output words, cycles, stalls, traffic, toggles); any difference stops the run with an error naming the layer and the field")
    ("threads", po::value<std::string>()->default_value("0"), "threads per format simulating GEMMs in parallel (the network continues on the golden results, with which every simulated output is compared, so the GEMMs are independent); 0: one per CPU; the report is the same for any count; --engine rtl uses 1")
    ("jobs", po::value<std::string>()->default_value("0"), "formats simulated in parallel threads; 0: one per format, at most the CPU count")
    ("report-json", po::value<std::string>(), "write the JSON report here (deterministic: same command and seed, same bytes)")
    ("report-html", po::value<std::string>(), "write a self-contained HTML report here")
    ("seed", po::value<std::string>()->default_value("1"), "seed choosing which evaluation items are simulated (items after the calibration items) and of the bootstrap confidence intervals")
    ("quiet", po::bool_switch(), "no progress line (it is shown only when stderr is a terminal)");
  // clang-format on
}

RunRequest parse_run_request(const po::variables_map& vm, const std::string& cmd) {
  RunRequest q;
  const std::string pre = cmd.empty() ? "" : cmd + ": ";
  if (!vm.count("workload")) throw UsageError(pre + "missing --workload NAME (simrun workloads lists them)");
  q.workload = vm["workload"].as<std::string>();
  if (vm.count("weights")) q.weights = vm["weights"].as<std::string>();
  if (vm.count("data")) q.data = vm["data"].as<std::string>();
  if (vm.count("vocab")) q.onnx.vocab = vm["vocab"].as<std::string>();
  if (vm.count("input-shape")) q.onnx.input_shape = vm["input-shape"].as<std::string>();
  const bool onnx_model = fs::path(q.workload).extension() == ".onnx";
  if (!onnx_model && (vm.count("vocab") || vm.count("input-shape")))
    throw UsageError(pre + "--vocab and --input-shape apply to ONNX models (--workload MODEL.onnx)");
  q.format = vm["format"].as<std::string>();
  if (q.format == "fp32")
    throw UsageError(pre + "--format fp32: fp8sim has no FP32 array to simulate; every report gives the FP32 "
                     "reference's accuracy beside the simulated format's (fp32_value)");
  if (!simulated_format(q.format))
    throw UsageError(pre + "--format '" + q.format + "' is not one of " + simulated_format_names());
  const std::string cmp = vm["compare"].as<std::string>();
  if (cmp != "none" && !cmp.empty()) {
    std::stringstream ss(cmp);
    std::string f;
    while (std::getline(ss, f, ',')) {
      if (f == "fp32")
        throw UsageError(pre + "--compare fp32: the FP32 reference is in every report already (fp32_value); "
                         "compare with " + simulated_format_names());
      if (!simulated_format(f))
        throw UsageError(pre + "--compare '" + f + "' is not one of " + simulated_format_names() + ", none");
      if (f == q.format || std::find(q.compare.begin(), q.compare.end(), f) != q.compare.end())
        throw UsageError(pre + "--compare lists '" + f + "' twice (or the chosen --format)");
      q.compare.push_back(f);
    }
  }
  q.config_path = vm.count("config") ? vm["config"].as<std::string>() : default_config_path();
  if (vm.count("array")) {
    const std::string a = vm["array"].as<std::string>();
    const size_t x = a.find_first_of("xX");
    if (x == std::string::npos)
      throw UsageError(pre + "--array '" + a + "' is not RxC with 1 <= R, C <= 4096 (e.g. 32x32)");
    q.overrides.rows = number<int>(pre + "--array rows", a.substr(0, x), 1, 4096);
    q.overrides.cols = number<int>(pre + "--array columns", a.substr(x + 1), 1, 4096);
  }
  if (vm.count("dataflow")) {
    const std::string d = vm["dataflow"].as<std::string>();
    if (d == "ws") q.overrides.dataflow = firmware::Dataflow::WeightStationary;
    else if (d == "os") q.overrides.dataflow = firmware::Dataflow::OutputStationary;
    else throw UsageError(pre + "--dataflow '" + d + "' is not ws or os");
  }
  if (vm.count("accumulator")) {
    q.overrides.accumulator = vm["accumulator"].as<std::string>();
    if (q.overrides.accumulator != "exact" && q.overrides.accumulator != "fp32")
      throw UsageError(pre + "--accumulator '" + q.overrides.accumulator + "' is not exact or fp32");
  }
  if (vm.count("seq")) q.seq = number<int64_t>(pre + "--seq", vm["seq"].as<std::string>(), 0, 1 << 20);
  if (vm.count("samples")) {
    const std::string v = vm["samples"].as<std::string>();
    if (v == "0") throw UsageError(pre + "--samples must be >= 1");
    q.samples = number<size_t>(pre + "--samples", v, 1, size_t{1} << 32);
  }
  {
    const std::string v = vm["im2col"].as<std::string>();
    if (v != "implicit" && v != "explicit") throw UsageError(pre + "--im2col must be implicit or explicit, not '" + v + "'");
    q.implicit_im2col = v == "implicit";
  }
  if (vm.count("batch")) q.batch = number<size_t>(pre + "--batch", vm["batch"].as<std::string>(), 1, size_t{1} << 16);
  if (vm.count("eval-items")) {
    const std::string v = vm["eval-items"].as<std::string>();
    q.eval_items = v == "all" ? 0 : number<int64_t>(pre + "--eval-items", v, 1, int64_t{1} << 32);
  } else if (!cmd.empty()) {
    q.eval_items = -2;  // sweep: the simulated items only
  }
  if (vm.count("calib")) {
    const std::string v = vm["calib"].as<std::string>();
    if (v == "0") throw UsageError(pre + "--calib must be >= 1");
    q.calib = number<size_t>(pre + "--calib", v, 1, size_t{1} << 32);
  }
  const std::string wg = vm["weight-granularity"].as<std::string>();
  if (wg != "per-channel" && wg != "per-tensor")
    throw UsageError(pre + "--weight-granularity '" + wg + "' is not per-channel or per-tensor");
  q.recipe.weight_granularity = *quant::granularity_from_string(wg);
  const std::string ag = vm["act-granularity"].as<std::string>();
  if (ag != "per-tensor" && ag != "per-token")
    throw UsageError(pre + "--act-granularity '" + ag + "' is not per-tensor or per-token");
  q.recipe.act_granularity = *quant::granularity_from_string(ag);
  if (q.recipe.act_granularity == quant::Granularity::PerToken && q.calib)
    throw UsageError(pre + "--calib does not apply to --act-granularity per-token (no calibration)");
  const std::string store = vm["store"].as<std::string>();
  if (store != "outputs" && store != "accumulators")
    throw UsageError(pre + "--store '" + store + "' is not outputs or accumulators");
  q.store_accumulators = store == "accumulators";
  const std::string mapping = vm["mapping"].as<std::string>();
  if (mapping != "auto" && mapping != "fixed") throw UsageError(pre + "--mapping '" + mapping + "' is not auto or fixed");
  q.mapping_auto = mapping == "auto";
  try {
    q.mapping_objective = firmware::parse_mapping_objective(vm["mapping-objective"].as<std::string>());
  } catch (const std::invalid_argument& e) {
    throw UsageError(pre + "--mapping-objective: " + e.what());
  }
  q.allow_accumulator_wrap = vm.count("allow-accumulator-wrap") && vm["allow-accumulator-wrap"].as<bool>();
  const std::string eng = vm["engine"].as<std::string>();
  if (eng == "cycle") q.engine = sim::Engine::Model;
  else if (eng == "fast") q.engine = sim::Engine::Fast;
  else if (eng == "rtl") q.engine = sim::Engine::Rtl;
  else throw UsageError(pre + "--engine '" + eng + "' is not fast, cycle or rtl");
  q.check_engine_pct = number<double>(pre + "--check-engine", vm["check-engine"].as<std::string>(), 0, 100);
  if (q.check_engine_pct > 0 && q.engine == sim::Engine::Rtl)
    throw UsageError(pre + "--check-engine compares the fast and cycle engines; --engine rtl compares every row "
                     "with the reference array already");

  q.threads = number<unsigned>(pre + "--threads", vm["threads"].as<std::string>(), 0, 4096);
  q.jobs = number<unsigned>(pre + "--jobs", vm["jobs"].as<std::string>(), 0, 4096);
  if (vm.count("report-json")) q.json_path = vm["report-json"].as<std::string>();
  if (vm.count("report-html")) q.html_path = vm["report-html"].as<std::string>();
  q.seed = number<uint64_t>(pre + "--seed", vm["seed"].as<std::string>());
  q.quiet = vm["quiet"].as<bool>();
  return q;
}

std::string default_config_path() { return std::string(FP8SIM_SOURCE_DIR) + "/sim/configs/default32.toml"; }

namespace {

workloads::Paths paths() { return workloads::Paths::defaults(); }

// `samples` distinct items of [begin, end), chosen by a partial Fisher-Yates shuffle with mt19937_64(seed)
// (raw draws modulo, so the choice is the same on every platform), in increasing order.
std::vector<size_t> choose_items(size_t begin, size_t end, size_t samples, uint64_t seed) {
  std::vector<size_t> all;
  for (size_t i = begin; i < end; ++i) all.push_back(i);
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i < samples; ++i) std::swap(all[i], all[i + static_cast<size_t>(rng() % (all.size() - i))]);
  all.resize(samples);
  std::sort(all.begin(), all.end());
  return all;
}

}  // namespace

PreparedRun prepare_run(const RunRequest& q) {
  PreparedRun p;
  try {
    p.workload = std::make_unique<workloads::Workload>(q.workload, paths(), q.weights, q.data, q.onnx);
  } catch (const std::invalid_argument& e) {  // ONNX: --input-shape / --data that do not fit the model
    if (fs::path(q.workload).extension() == ".onnx") throw UsageError(e.what());
    throw;
  } catch (const workloads::MissingData& e) {
    throw std::runtime_error(std::string("workload '") + q.workload + "': " + e.what());
  }
  const workloads::Workload& w = *p.workload;
  if (w.is_bert()) {
    const size_t seq = q.seq >= 0 ? static_cast<size_t>(q.seq) : (w.metric() == "output-error" ? 128 : 0);
    try {
      p.workload->set_sequence_length(seq);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
    p.seq = seq;
  } else if (q.seq >= 0) {
    throw UsageError("--seq applies to BERT workloads; '" + w.name() + "' is a ResNet");
  }
  workloads::RunOptions ro;
  ro.calib_count = q.calib;
  const auto [begin, end] = w.eval_range(ro);
  if (end <= begin)
    throw std::runtime_error("workload '" + w.name() + "' has no evaluation items after its calibration items");
  const size_t samples = q.samples ? q.samples : (w.metric() == "spearman" ? 2 : 1);
  if (samples > end - begin)
    throw UsageError("--samples " + std::to_string(samples) + ": workload '" + w.name() + "' has " +
                     std::to_string(end - begin) + " evaluation items");
  if (w.metric() == "spearman" && samples < 2)
    throw UsageError("workload '" + w.name() + "' reports a Spearman correlation over sentence pairs: --samples must be >= 2");
  if (q.batch > samples)
    throw UsageError("--batch " + std::to_string(q.batch) + " is more than the " + std::to_string(samples) +
                     " simulated items (--samples): a batch is made of simulated items");
  // Items evaluated in all: the simulated ones plus the rest on the bit-exact golden model.
  size_t n_eval = samples;
  if (q.eval_items == 0) n_eval = end - begin;
  else if (q.eval_items > 0) n_eval = static_cast<size_t>(q.eval_items);
  else if (q.eval_items == -1 && w.metric() == "top1") n_eval = std::min<size_t>(1000, end - begin);
  else if (q.eval_items == -1 && w.metric() == "spearman") n_eval = end - begin;
  if (n_eval < samples)
    throw UsageError("--eval-items " + std::to_string(n_eval) + " is fewer than the " + std::to_string(samples) +
                     " simulated items (--samples)");
  if (n_eval > end - begin)
    throw UsageError("--eval-items " + std::to_string(n_eval) + ": workload '" + w.name() + "' has " +
                     std::to_string(end - begin) + " evaluation items");
  if (n_eval == samples) {
    p.items = choose_items(begin, end, samples, q.seed);  // all simulated: chosen among every evaluation item
  } else {
    // The first n_eval evaluation items; --seed chooses which of them are simulated, the rest go to golden.
    p.items = choose_items(begin, begin + n_eval, samples, q.seed);
    for (size_t i = begin, j = 0; i < begin + n_eval; ++i) {
      if (j < p.items.size() && p.items[j] == i) ++j;
      else p.golden_items.push_back(i);
    }
  }
  p.calib_items = q.recipe.act_granularity == quant::Granularity::PerTensor ? begin : 0;
  p.energy = cost::load_energy_table(cost::default_energy_table_path());
  p.area = cost::load_area_table(cost::default_area_table_path());
  cost::check_consistent(p.energy, p.area);
  try {
    p.base = sim::load_config(q.config_path);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--config: ") + e.what());
  }
  return p;
}

PipelineSetup make_setup(const RunRequest& q, const PreparedRun& p) {
  PipelineSetup setup;
  setup.workload = p.workload.get();
  setup.recipe = q.recipe;
  setup.calib_items = q.calib;
  setup.items = p.items;
  setup.golden_items = p.golden_items;
  // The formats run in parallel threads; the CPUs left over evaluate each format's golden items.
  const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  const unsigned formats = static_cast<unsigned>(1 + q.compare.size());
  setup.golden_threads = std::max(1u, (q.jobs ? std::min(q.jobs, cpus) : cpus) / formats);
  setup.engine = q.engine;
  setup.check_engine_pct = q.check_engine_pct;
  setup.check_engine_seed = q.seed;
  setup.gemm_threads = q.engine == sim::Engine::Rtl ? 1 : q.threads ? q.threads : cpus;
  setup.store_accumulators = q.store_accumulators;
  setup.mapping_auto = q.mapping_auto;
  setup.mapping_objective = q.mapping_objective;
  setup.allow_accumulator_wrap = q.allow_accumulator_wrap;
  setup.batch = q.batch;
  setup.implicit_im2col = q.implicit_im2col;
  setup.energy = &p.energy;
  setup.area = &p.area;
  return setup;
}

std::vector<FormatOutcome> run_formats(const RunRequest& q, const PreparedRun& p, const ConfigOverrides& o,
                                       const std::vector<std::string>& formats, bool progress_enabled,
                                       std::vector<sim::AcceleratorConfig>* cfgs_out) {
  std::vector<sim::AcceleratorConfig> cfgs;
  std::vector<std::vector<std::string>> cfg_notes(formats.size());
  std::vector<std::string> clock_warnings;
  for (size_t i = 0; i < formats.size(); ++i) {
    try {
      cfgs.push_back(derive_config(p.base, o, formats[i], &cfg_notes[i]));
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
    // A clock above the PE's maximum from static timing (rtl/synth/area.json, cost::clock_check): one line on
    // stderr once the runs succeeded (a failing run's stderr stays its one error line), and the report's notes
    // say so.
    const report::ConfigSummary cs = summarize(cfgs.back());
    cost::ClockCheck ck;
    try {
      ck = cost::clock_check(p.energy, p.area, cs.pe, cs.accumulator, cfgs.back().clock_mhz);
    } catch (const cost::CostError&) {
      // a PE kind the cost tables do not know: the cost model reports it where it applies; no clock check
    }
    if (ck.exceeds) {
      clock_warnings.push_back("simrun: warning: " + formats[i] + ": " + ck.message);
      cfg_notes[i].push_back("WARNING: " + ck.message);
    }
    if (q.engine == sim::Engine::Rtl && !sim::rtl_array_available(cfgs.back().array))
      throw UsageError("--engine rtl: no Verilated RTL array for the " + formats[i] + " configuration (" +
                       std::to_string(cfgs.back().array.rows) + "x" + std::to_string(cfgs.back().array.cols) + " " +
                       summarize(cfgs.back()).dataflow + ", " + cfgs.back().array.numerics().describe() +
                       "); rtl/CMakeLists.txt lists the built arrays (e.g. default32 with e4m3/exact and int8, small8 "
                       "with e4m3/fp32 and int8)");
  }
  const PipelineSetup setup = make_setup(q, p);
  // The first run to need the calibration computes it; the others wait for it (the workload's cache).
  Progress progress(progress_enabled, formats);
  std::vector<FormatOutcome> outs(formats.size());
  try {
    parallel_for(formats.size(), q.jobs, [&](size_t i) {
      outs[i] = run_format(setup, formats[i], cfgs[i], &progress, i);
      outs[i].notes.insert(outs[i].notes.begin(), cfg_notes[i].begin(), cfg_notes[i].end());
    });
  } catch (const std::invalid_argument& e) {  // a GEMM that does not fit, or whose K can wrap the accumulator
    progress.finish();
    throw UsageError(e.what());
  } catch (...) {
    progress.finish();
    throw;
  }
  progress.finish();
  for (const std::string& w : clock_warnings) std::cerr << w << "\n";
  if (cfgs_out) *cfgs_out = cfgs;
  return outs;
}

std::string timing_summary(const std::vector<FormatOutcome>& outs, double wall) {
  std::ostringstream o;
  char b[600];
  std::snprintf(b, sizeof b, "Run time: %.1f s wall (formats in parallel threads)\n", wall);
  o << b;
  for (const FormatOutcome& f : outs) {
    const uint64_t cycles = f.run.totals.cycles;
    std::snprintf(b, sizeof b,
                  "  %s: %.1f s: %llu GEMMs, %.4g cycles simulated in %.1f s of thread time on %u thread%s (%.3g "
                  "cycles/s per thread; %.1f s of this format's wall time), golden check %.1f s, calibration %.1f s, "
                  "FP32 reference %.1f s, golden-model items %.1f s, host-side layers and the rest %.1f s%s\n",
                  f.run.format.c_str(), f.seconds, static_cast<unsigned long long>(f.gemms), double(cycles),
                  f.sim_seconds, f.sim_threads, f.sim_threads == 1 ? "" : "s",
                  f.sim_seconds > 0 ? double(cycles) / f.sim_seconds : 0.0, f.sim_wall_seconds, f.golden_seconds,
                  f.calibration_seconds, f.reference_seconds, f.golden_items_seconds,
                  f.seconds - f.sim_wall_seconds - f.golden_seconds - f.calibration_seconds - f.reference_seconds -
                      f.golden_items_seconds,
                  f.engine_checked ? (", " + std::to_string(f.engine_checked) +
                                      " GEMMs re-run on the other engine (--check-engine): identical").c_str()
                                   : "");
    o << b;
  }
  return o.str();
}

void print_run_options(std::ostream& os) {
  po::options_description d("options of the main job (simrun --workload NAME ...)", 110, 50);
  add_run_options(d);
  d.add_options()("help,h", "this text");
  os << d;
}

int run_workload(const std::vector<std::string>& args) {
  po::options_description d("options", 110, 50);
  add_run_options(d);
  d.add_options()("help,h", "this text");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(d).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << kUsage << "\n" << d << "\nExit status: 0 success (every GEMM output compared and matched), 1 I/O or data error, a "
              "verification mismatch or GEMM outputs left uncompared, a simulation error (RTL mismatch, watchdog), "
              "2 bad arguments or a workload that does not fit the configuration (or whose K can wrap the "
              "accumulator without --allow-accumulator-wrap).\n";
    return 0;
  }
  const RunRequest q = parse_run_request(vm, "");
  const auto t0 = std::chrono::steady_clock::now();
  const PreparedRun p = prepare_run(q);
  std::vector<std::string> formats{q.format};
  formats.insert(formats.end(), q.compare.begin(), q.compare.end());
  const bool progress_enabled = !q.quiet && isatty(STDERR_FILENO);
  if (progress_enabled)  // (a terminal: errors on a pipe stay one line)
    std::cerr << "simrun: " << p.workload->name() << ": " << formats.size() << " format(s), " << p.items.size()
              << " sample(s) on " << p.base.name
              << (p.golden_items.empty() ? "" : ", " + std::to_string(p.golden_items.size()) + " more items on the golden model") << ((q.engine == sim::Engine::Rtl) ? " with the RTL array" : "")
              << "\n";
  std::vector<sim::AcceleratorConfig> cfgs;
  std::vector<FormatOutcome> outs = run_formats(q, p, q.overrides, formats, progress_enabled, &cfgs);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  std::string command = "simrun";
  for (const std::string& a : args) command += " " + a;
  report::RunReport r = build_report(q, p, command, outs);
  if (!q.json_path.empty()) report::write_file_atomic(q.json_path, report::to_json(r));
  if (!q.html_path.empty()) report::write_file_atomic(q.html_path, report::to_html(r));
  std::cout << report::to_text(r);

  // Wall-clock figures: on stdout after the report, never in the JSON (which must be byte-identical run to run).
  std::cout << "\n" << timing_summary(outs, wall);
  for (const std::string& f : {q.json_path, q.html_path})
    if (!f.empty()) std::cout << "wrote " << f << "\n";

  // Every GEMM output the network produced must have been compared (totals from the executor's GEMM list,
  // checked counts from the comparisons), and none may differ.
  std::vector<report::FormatRun> runs;
  std::string first;
  for (const FormatOutcome& o : outs) {
    runs.push_back(o.run);
    if (first.empty()) first = o.first_mismatch;
  }
  const std::string bad = verification_failure(runs);
  if (!bad.empty())
    throw std::runtime_error("verification failed: " + bad + (first.empty() ? "" : " (first mismatch: " + first + ")"));
  return 0;
}

// Confidence intervals of each run's task metric and paired differences between formats (issue #11), from the
// per-item results; Spearman over fewer than kMinSpearmanPairs pairs is withheld. Deterministic: the bootstrap
// is seeded from the run's seed.
void add_accuracy_statistics(uint64_t seed, const std::vector<FormatOutcome>& outs, report::RunReport* r) {
  const uint64_t bseed = seed ^ 0xb0075747ull;  // not the item choice's stream
  std::vector<report::FormatRun*> runs{&r->run};
  for (auto& c : r->comparison) runs.push_back(&c);
  auto iv = [](const workloads::Interval& i) { return report::Interval{i.low, i.high}; };
  for (size_t k = 0; k < outs.size() && k < runs.size(); ++k) {
    const workloads::ItemScores& s = outs[k].scores;
    report::Accuracy& a = runs[k]->accuracy;
    if (s.size() == 0) continue;
    if (s.metric == "spearman" && s.size() < workloads::kMinSpearmanPairs) {
      a.withheld = "Spearman over " + std::to_string(s.size()) + " sentence pairs (fewer than " +
                   std::to_string(workloads::kMinSpearmanPairs) + ") is not reported as a result; evaluate more "
                   "pairs (--eval-items)";
      continue;
    }
    a.ci95 = iv(workloads::bootstrap_ci(s, bseed));
    a.fp32_ci95 = iv(workloads::bootstrap_ci(outs[k].fp32_scores, bseed));
    a.bootstrap_resamples = workloads::kBootstrapResamples;
  }
  if (outs.empty() || outs[0].scores.size() == 0 || !r->run.accuracy.withheld.empty()) return;
  auto diff = [&](const std::string& an, const workloads::ItemScores& a, const std::string& bn,
                  const workloads::ItemScores& b) {
    report::Difference d;
    d.a = an;
    d.b = bn;
    d.metric = a.metric;
    d.value = workloads::metric_on(a) - workloads::metric_on(b);
    d.ci95 = iv(workloads::paired_bootstrap_diff(a, b, bseed));
    d.items = a.size();
    d.bootstrap_resamples = workloads::kBootstrapResamples;
    r->differences.push_back(d);
  };
  for (size_t k = 1; k < outs.size(); ++k) diff(outs[0].run.format, outs[0].scores, outs[k].run.format, outs[k].scores);
  for (size_t k = 0; k < outs.size(); ++k) diff(outs[k].run.format, outs[k].scores, "fp32", outs[k].fp32_scores);
}

report::RunReport build_report(const RunRequest& q, const PreparedRun& p, const std::string& command,
                               const std::vector<FormatOutcome>& outs) {
  const workloads::Workload& w = *p.workload;
  report::RunReport r;
  r.tool_version = "0.1.0";
  r.command = command;
  r.workload = w.name();
  r.weights = w.weights_label();
  r.inputs = w.inputs_label();
  if (w.is_bert())
    r.inputs += p.seq ? (w.metric() == "spearman" ? "; sentences truncated to " + std::to_string(p.seq) + " tokens"
                                                  : "; concatenated and cut into sequences of " + std::to_string(p.seq) +
                                                        " tokens")
                      : "; sentences as tokenized";
  r.samples = p.items.size();
  r.seed = q.seed;
  r.synthetic = w.synthetic();
  if (r.synthetic) r.synthetic_note = w.weights_label();
  r.engine = q.engine == sim::Engine::Rtl ? "rtl" : q.engine == sim::Engine::Fast ? "fast" : "cycle";
  r.run = outs.at(0).run;
  for (size_t i = 1; i < outs.size(); ++i) r.comparison.push_back(outs[i].run);
  for (const auto& f : cost::describe_model(p.energy, p.area))
    r.cost_model.push_back({f.name, f.value, f.unit, f.source, f.assumption});
  std::set<std::string> seen;
  auto note = [&](const std::string& n) {
    if (seen.insert(n).second) r.notes.push_back(n);
  };
  std::string items;
  for (size_t i = 0; i < p.items.size() && i < 20; ++i) items += (i ? "," : "") + std::to_string(p.items[i]);
  if (p.items.size() > 20) items += ",...";
  note("simulated items " + items + " (chosen with --seed " + std::to_string(q.seed) + " among the " +
       (p.golden_items.empty() ? std::string("items after the calibration items)")
                               : "evaluated items, the first " + std::to_string(p.items.size() + p.golden_items.size()) +
                                     " after the calibration items)"));
  note("recipe: " + [&] {
    quant::Recipe rr = q.recipe;
    return rr.describe();
  }() + " (format per run); " +
       (p.calib_items ? "calibration items: " + std::to_string(p.calib_items) + (q.calib ? "" : " (the workload's default)")
                      : std::string("no calibration (per-token activation scales are computed at run time)")));
  note(std::string("the accelerator runs every quantized GEMM (linear layers, convolutions as im2col GEMMs, attention "
                   "matmuls per head), each on a fresh accelerator (no state or SRAM residency between GEMMs), ") +
       (q.store_accumulators ? "its raw accumulator words dequantized on the host (--store accumulators)"
                             : "its outputs dequantized, biased and converted to BF16 by the post-processing unit") +
       "; softmax/GELU/LayerNorm/residual adds/ReLU/pooling are computed by model/'s BF16 reference code and costed "
       "on the vector unit model (sim/vector_unit.h), after the GEMM that feeds them (no overlap)");
  note("simrun steps the accelerator's tick() in a plain loop (the code the SystemC SC_METHOD calls each clock), "
       "without the SystemC kernel, so formats can run in parallel threads");
  note("layer rows: GEMMs with the same name (attention heads, samples) are summed; M sums their rows, K and N are "
       "the largest; cycles of a layer are the cycles of its command streams (each GEMM one stream, from its first "
       "command fetch to End), and the total is their sum");
  for (const FormatOutcome& o : outs)
    if (model::mx_kind_from_name(o.run.format)) {
      note("MX runs (OCP MX v1.0, model/mx.h): weights blocked per output row and activations per row at run time "
           "(E8M0 scale of each block of " + std::to_string(p.base.array.mx ? p.base.array.mx_block : model::kMxDefaultBlockSize) +
           " along K from its largest magnitude, elements rounded to nearest even and saturated), every quantized GEMM "
           "including the attention matmuls; no calibration (the recipe's granularities and calibration apply to the "
           "other formats); the MX array's MAC semantics: exact element products and block sums, the two scales "
           "added as exponents, exact (Kulisch) accumulation over K, each output rounded once to float32, then bias "
           "and BF16 in the post-processing unit; convolutions read their im2col matrix (explicit im2col: each im2col "
           "row is blocked along its own K)");
      break;
    }
  add_accuracy_statistics(q.seed, outs, &r);
  if (!p.golden_items.empty())
    note(std::to_string(p.items.size()) + " item(s) simulated on the accelerator (every output verified), " +
         std::to_string(p.golden_items.size()) + " more evaluated on the bit-exact golden model of the same " +
         "numerics (model/'s golden GEMM on the host: the same accumulator words the array produces); the task "
         "metric, SQNR and cosine cover all " + std::to_string(p.items.size() + p.golden_items.size()) + " items");
  if (r.run.accuracy.ci95)
    note("95 % confidence intervals: percentile bootstrap over the evaluated items, " +
         std::to_string(workloads::kBootstrapResamples) + " resamples seeded from --seed; differences between "
         "formats: paired bootstrap (the same resampled items for both)");
  if (r.samples < 100 && w.metric() == "top1" && p.golden_items.empty())
    note("top-1 over " + std::to_string(r.samples) + " image(s) is a coarse figure (see its interval); SQNR and "
         "cosine of the logits against FP32 are given beside it");
  if (!w.see_also().empty()) note(w.see_also());
  for (const FormatOutcome& o : outs)
    for (const std::string& n : o.notes) note(n);
  for (const FormatOutcome& o : outs)
    for (const std::string& wmsg : o.warnings) note("quantizer (" + o.run.format + "): " + wmsg);
  return r;
}

}  // namespace fp8sim::simrun
