// fp8sim-ptq: post-training quantization accuracy of the reference workloads.
//   fp8sim-ptq list
//   fp8sim-ptq eval  --workload NAME [recipe options] [--fp32] [--bit-exact] [--export FILE] [ranges]
//   fp8sim-ptq error --workload NAME [recipe options]          output-level SQNR / cosine vs FP32, per format
//   fp8sim-ptq table [--workloads a,b] [--eval-count N] [--markdown FILE]
//   fp8sim-ptq tokenize [--workload minilm-l6]            token ids of every sentence (tokenizer checks)
//   fp8sim-ptq embed-check | stsb-table [--help]          STS-B studies (workloads/src/stsb_study.cpp)
// Recipe options: --format fp32|e4m3|e5m2|int8|mxfp8|mxfp8-e5m2|mxfp6-e3m2|mxfp6-e2m3|mxfp4|mxint8
//   (MX: OCP MX v1.0 blocks of --block-size B (32) along K for weights and activations, activation scales from
//   the data at run time, no calibration; --acc fixed|float32|block-fp32 for the bit-exact MX accumulation,
//   default fixed: exact, as rtl/mx_pe.v)  --weight-granularity per-tensor|per-channel
//   --act-granularity per-tensor|per-token  --calibration minmax|percentile|mse  --percentile P
//   --weight-calibration minmax|mse  --keep LAYER_GLOB (repeatable: keep that layer in FP32)
//   --no-attention-matmuls  --no-bf16   --acc fixed|float32 [--k-chunk N] (bit-exact FP8 accumulator)
// Ranges: --calib-count N (default: the workload's)  --eval-offset N  --eval-count N
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "fp8sim/model/mx.h"
#include "fp8sim/model/parse_number.h"
#include "fp8sim/workloads/metrics.h"
#include "fp8sim/workloads/runner.h"
#include "fp8sim/workloads/stsb_study.h"

using namespace fp8sim;
using workloads::RunOptions;
using workloads::RunResult;

namespace {

struct Args {
  std::string cmd, workload, weights, markdown, workload_list, exportp;
  RunOptions opt;
  bool fp32 = false;
};

[[noreturn]] void usage(const std::string& err) {
  std::cerr << "fp8sim-ptq: " << err << "\n"
            << "usage: fp8sim-ptq list | eval --workload NAME [options] | error --workload NAME [options] | "
               "table [--workloads a,b] [--eval-count N] [--markdown FILE] | embed-check --help | stsb-table --help\n(see the header of workloads/src/ptq_main.cpp)\n";
  std::exit(2);
}

size_t parse_count(const std::string& flag, const std::string& v) {
  try {
    return parse_number<size_t>(v, flag);
  } catch (const std::invalid_argument& e) {
    usage(e.what());
  }
}

// Every option through boost::program_options (as simrun); numbers parsed whole and range-checked.
Args parse(int argc, char** argv) {
  if (argc < 2) usage("no command");
  Args a;
  a.cmd = argv[1];
  a.opt.quantize = true;
  namespace po = boost::program_options;
  po::options_description d("options");
  // clang-format off
  d.add_options()
    ("workload", po::value<std::string>(), "")
    ("workloads", po::value<std::string>(), "")
    ("weights", po::value<std::string>(), "")
    ("markdown", po::value<std::string>(), "")
    ("export", po::value<std::string>(), "")
    ("fp32", po::bool_switch(), "")
    ("bit-exact", po::bool_switch(), "")
    ("verbose", po::bool_switch(), "")
    ("format", po::value<std::string>(), "")
    ("block-size", po::value<std::string>(), "")
    ("weight-granularity", po::value<std::string>(), "")
    ("act-granularity", po::value<std::string>(), "")
    ("calibration", po::value<std::string>(), "")
    ("weight-calibration", po::value<std::string>(), "")
    ("percentile", po::value<std::string>(), "")
    ("keep", po::value<std::vector<std::string>>()->composing(), "")
    ("no-attention-matmuls", po::bool_switch(), "")
    ("no-bf16", po::bool_switch(), "")
    ("acc", po::value<std::string>(), "")
    ("k-chunk", po::value<std::string>(), "")
    ("calib-count", po::value<std::string>(), "")
    ("eval-offset", po::value<std::string>(), "")
    ("eval-count", po::value<std::string>(), "");
  // clang-format on
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc - 1, argv + 1).options(d).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    usage(e.what());
  }
  auto str = [&](const char* k, std::string* out) {
    if (vm.count(k)) *out = vm[k].as<std::string>();
  };
  str("workload", &a.workload);
  str("workloads", &a.workload_list);
  str("weights", &a.weights);
  str("markdown", &a.markdown);
  str("export", &a.opt.export_path);
  a.fp32 = vm["fp32"].as<bool>();
  if (vm["bit-exact"].as<bool>()) a.opt.mode = quant::ExecMode::BitExact;
  if (vm["verbose"].as<bool>()) a.opt.quiet_warnings = false;
  if (vm.count("format")) {
    const std::string v = vm["format"].as<std::string>();
    if (const auto mk = model::mx_kind_from_name(v)) {
      a.opt.mx = model::MxConfig{*mk, model::kMxDefaultBlockSize};
    } else {
      auto x = quant::format_from_string(v);
      if (!x) usage("unknown format '" + v + "' (fp32, e4m3, e5m2, int8, " + model::mx_format_names() + ")");
      a.opt.recipe.format = *x;
    }
  }
  if (vm.count("block-size")) {
    if (!a.opt.mx) usage("--block-size applies to the MX formats (" + model::mx_format_names() + ")");
    const size_t b = parse_count("--block-size", vm["block-size"].as<std::string>());
    if (b < 1 || b > 4096) usage("--block-size must be in [1, 4096]");
    a.opt.mx->block_size = static_cast<int>(b);
  }
  for (const char* f : {"weight-granularity", "act-granularity"})
    if (vm.count(f)) {
      const std::string v = vm[f].as<std::string>();
      auto x = quant::granularity_from_string(v);
      if (!x) usage("unknown granularity '" + v + "'");
      (std::string(f) == "weight-granularity" ? a.opt.recipe.weight_granularity : a.opt.recipe.act_granularity) = *x;
    }
  for (const char* f : {"calibration", "weight-calibration"})
    if (vm.count(f)) {
      const std::string v = vm[f].as<std::string>();
      auto x = quant::calib_from_string(v);
      if (!x) usage("unknown calibration '" + v + "' (minmax, percentile, mse)");
      (std::string(f) == "calibration" ? a.opt.recipe.act_calibration : a.opt.recipe.weight_calibration) = *x;
    }
  if (vm.count("percentile")) {
    try {
      a.opt.recipe.percentile = parse_number<double>(vm["percentile"].as<std::string>(), "--percentile");
    } catch (const std::invalid_argument& e) {
      usage(e.what());
    }
  }
  if (vm.count("keep"))
    for (const std::string& k : vm["keep"].as<std::vector<std::string>>())
      a.opt.recipe.overrides.emplace_back(k, quant::Format::FP32);
  if (vm["no-attention-matmuls"].as<bool>()) a.opt.recipe.quantize_attention_matmuls = false;
  if (vm["no-bf16"].as<bool>()) a.opt.recipe.nongemm_bf16 = false;
  if (vm.count("acc")) {
    const std::string v = vm["acc"].as<std::string>();
    if (a.opt.mx) {
      if (v == "fixed") a.opt.mx_acc = model::AccumulatorKind::FixedPoint;
      else if (v == "float32") a.opt.mx_acc = model::AccumulatorKind::Float32;
      else if (v == "block-fp32") a.opt.mx_acc = model::AccumulatorKind::BlockFp32;
      else usage("--acc fixed|float32|block-fp32 (MX formats)");
    } else if (v == "fixed") a.opt.bitexact.fp8_acc = model::AccumulatorKind::FixedPoint;
    else if (v == "float32") a.opt.bitexact.fp8_acc = model::AccumulatorKind::Float32;
    else usage("--acc fixed|float32");
  }
  if (vm.count("k-chunk")) a.opt.bitexact.k_chunk = static_cast<int64_t>(parse_count("--k-chunk", vm["k-chunk"].as<std::string>()));
  if (vm.count("calib-count")) a.opt.calib_count = parse_count("--calib-count", vm["calib-count"].as<std::string>());
  if (vm.count("eval-offset")) a.opt.eval_offset = parse_count("--eval-offset", vm["eval-offset"].as<std::string>());
  if (vm.count("eval-count")) a.opt.eval_count = parse_count("--eval-count", vm["eval-count"].as<std::string>());
  try {
    a.opt.recipe.validate();
  } catch (const std::exception& e) {
    usage(e.what());
  }
  if (a.fp32 || a.opt.recipe.format == quant::Format::FP32) a.opt.quantize = false;
  return a;
}

std::string fmt_value(const RunResult& r) {
  char b[64];
  if (r.metric == "top1") std::snprintf(b, sizeof b, "%.2f", r.value);
  else if (r.metric == "spearman") std::snprintf(b, sizeof b, "%.4f", r.value);
  else std::snprintf(b, sizeof b, "%.2f dB", r.value);
  return b;
}

// The recipe in one line; MX: the format, block size and (bit-exact) accumulation instead of scales.
std::string recipe_text(const RunOptions& o) {
  if (!o.mx) return o.recipe.describe();
  model::MxGemmNumerics n;
  n.a_kind = n.b_kind = o.mx->kind;
  n.block_size = o.mx->block_size;
  n.acc = o.mx_acc;
  std::string s = std::string(o.mx->format().name) + " (OCP MX, block " + std::to_string(o.mx->block_size) +
                  " along K, weights and activations; activation scales at run time)";
  if (o.mode == quant::ExecMode::BitExact) s += ", GEMM " + n.describe();
  return s;
}

void print_result(const workloads::Workload& w, const RunOptions& o, const RunResult& r) {
  std::printf("workload   %s%s\nweights    %s\nexecution  %s\n", w.name().c_str(), w.synthetic() ? " (SYNTHETIC)" : "",
              w.weights_label().c_str(),
              o.quantize ? (quant::to_string(o.mode) + ", " + recipe_text(o)).c_str() : "fp32 reference");
  std::printf("items      %zu evaluated, %zu calibration (disjoint)\n", r.items, r.calib_items);
  if (r.metric == "sqnr_db")
    std::printf("sqnr       %.2f dB   cosine %.6f\n", r.value, r.cosine);
  else if (r.metric == "spearman" && r.items < workloads::kMinSpearmanPairs)
    std::printf("%-10s withheld: %zu pairs, fewer than %zu\n", r.metric.c_str(), r.items, workloads::kMinSpearmanPairs);
  else if (r.scores.size() > 0) {
    const workloads::Interval ci = workloads::bootstrap_ci(r.scores, 1);
    std::printf("%-10s %s  (95 %% bootstrap interval [%.4g, %.4g], %zu resamples)\n", r.metric.c_str(),
                fmt_value(r).c_str(), ci.low, ci.high, workloads::kBootstrapResamples);
  } else
    std::printf("%-10s %s\n", r.metric.c_str(), fmt_value(r).c_str());
  if (r.golden_gemm_calls) std::printf("golden     %llu GEMMs through model::golden_gemm\n", (unsigned long long)r.golden_gemm_calls);
  std::printf("time       %.1f s\n", r.seconds);
  if (!r.warnings.empty()) {
    std::printf("warnings   %zu\n", r.warnings.size());
    for (size_t i = 0; i < std::min<size_t>(r.warnings.size(), 10); ++i) std::printf("  %s\n", r.warnings[i].c_str());
  }
  if (!o.export_path.empty()) std::printf("exported   %s\n", o.export_path.c_str());
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> v;
  std::stringstream ss(s);
  std::string x;
  while (std::getline(ss, x, ','))
    if (!x.empty()) v.push_back(x);
  return v;
}

int cmd_table(const Args& a, const workloads::Paths& paths) {
  const std::vector<std::string> names =
      a.workload_list.empty() ? std::vector<std::string>{"minilm-l6", "resnet20-cifar10", "resnet56-cifar10"}
                              : split(a.workload_list);
  struct Variant {
    std::string label;
    quant::Format f;
    quant::Granularity wg;
    quant::CalibMethod cm;
  };
  std::vector<Variant> vars = {{"FP32", quant::Format::FP32, {}, {}}};
  for (quant::Format f : {quant::Format::INT8, quant::Format::E4M3, quant::Format::E5M2})
    for (quant::Granularity g : {quant::Granularity::PerTensor, quant::Granularity::PerChannel})
      for (quant::CalibMethod c : {quant::CalibMethod::MinMax, quant::CalibMethod::Percentile})
        vars.push_back({quant::to_string(f) + " w:" + quant::to_string(g) + " a:" +
                            (c == quant::CalibMethod::MinMax ? "minmax" : "p99.99"),
                        f, g, c});
  const auto t_start = std::chrono::steady_clock::now();
  std::ostringstream md;
  md << "| workload | metric | items (calib / eval) |";
  for (const Variant& v : vars) md << " " << v.label << " |";
  md << "\n|---|---|---|";
  for (size_t i = 0; i < vars.size(); ++i) md << "---|";
  md << "\n";
  for (const std::string& n : names) {
    try {
      const workloads::Workload w(n, paths);
      std::fprintf(stderr, "[table] %s: %s\n", n.c_str(), w.weights_label().c_str());
      std::vector<std::string> cells;
      size_t calib = 0, items = 0;
      std::string metric;
      for (const Variant& v : vars) {
        RunOptions o = a.opt;
        o.export_path.clear();
        o.quantize = v.f != quant::Format::FP32;
        o.recipe.format = v.f;
        o.recipe.weight_granularity = v.wg;
        o.recipe.act_calibration = v.cm;
        o.recipe.percentile = 99.99;
        o.mode = quant::ExecMode::FakeQuant;
        // FP32 runs skip calibration but evaluate the same items (right after the calibration split).
        RunResult r = w.run(o);
        calib = std::max(calib, r.calib_items);
        items = r.items;
        metric = r.metric;
        cells.push_back(fmt_value(r));
        std::fprintf(stderr, "[table]   %-28s %s  (%.0f s)\n", v.label.c_str(), fmt_value(r).c_str(), r.seconds);
      }
      md << "| " << n << (w.synthetic() ? " (SYNTHETIC)" : "") << " | " << metric << " | " << calib << " / " << items << " |";
      for (const std::string& c : cells) md << " " << c << " |";
      md << "\n";
    } catch (const workloads::MissingData& e) {
      std::fprintf(stderr, "[table] %s skipped: %s\n", n.c_str(), e.what());
      md << "| " << n << " | skipped: data missing | |\n";
    }
  }
  std::cout << md.str();
  std::fprintf(stderr, "[table] total %.0f s\n",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count());
  if (!a.markdown.empty()) {
    std::ofstream f(a.markdown);
    if (!f) {
      std::cerr << "fp8sim-ptq: cannot write " << a.markdown << "\n";
      return 1;
    }
    f << md.str();
  }
  return 0;
}

int cmd_error(const Args& a, const workloads::Paths& paths) {
  const workloads::Workload w(a.workload, paths, a.weights);
  std::printf("output-level error against FP32: %s%s\nweights: %s\n", w.name().c_str(), w.synthetic() ? " (SYNTHETIC)" : "",
              w.weights_label().c_str());
  std::printf("| format | recipe | items | SQNR (dB) | mean cosine |\n|---|---|---|---|---|\n");
  for (quant::Format f : {quant::Format::INT8, quant::Format::E4M3, quant::Format::E5M2}) {
    RunOptions o = a.opt;
    o.quantize = true;
    o.mx.reset();
    o.recipe.format = f;
    const RunResult r = w.output_error(o);
    std::printf("| %s | %s | %zu | %.2f | %.6f |\n", quant::to_string(f).c_str(), o.recipe.describe().c_str(), r.items,
                r.value, r.cosine);
    std::fflush(stdout);
  }
  // The OCP MX formats (block 32, or --block-size), in the same execution mode.
  for (int k = 0; k < model::kMxKindCount; ++k) {
    RunOptions o = a.opt;
    o.quantize = true;
    o.mx = model::MxConfig{static_cast<model::MxKind>(k), a.opt.mx ? a.opt.mx->block_size : model::kMxDefaultBlockSize};
    const RunResult r = w.output_error(o);
    std::printf("| %s | %s | %zu | %.2f | %.6f |\n", std::string(o.mx->format().name).c_str(), recipe_text(o).c_str(),
                r.items, r.value, r.cosine);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && (std::strcmp(argv[1], "embed-check") == 0 || std::strcmp(argv[1], "stsb-table") == 0)) {
    const std::vector<std::string> rest(argv + 2, argv + argc);
    return std::strcmp(argv[1], "embed-check") == 0 ? workloads::run_embed_check(rest) : workloads::run_stsb_table(rest);
  }
  const Args a = parse(argc, argv);
  const workloads::Paths paths = workloads::Paths::defaults();
  try {
    if (a.cmd == "list") {
      for (const std::string& n : workloads::list_workloads(paths)) std::printf("%s\n", n.c_str());
      return 0;
    }
    if (a.cmd == "table") return cmd_table(a, paths);
    if (a.cmd == "tokenize") {  // token ids of every text item, one line each (for the tokenizer check)
      const workloads::Workload w(a.workload.empty() ? "minilm-l6" : a.workload, paths, a.weights);
      std::printf("# model_dir %s\n", w.model_dir().c_str());
      for (const auto& ids : w.token_ids()) {
        for (size_t i = 0; i < ids.size(); ++i) std::printf(i ? " %d" : "%d", ids[i]);
        std::printf("\n");
      }
      return 0;
    }
    if (a.workload.empty()) usage("--workload NAME is required");
    if (a.cmd == "error") return cmd_error(a, paths);
    if (a.cmd != "eval") usage("unknown command '" + a.cmd + "'");
    const workloads::Workload w(a.workload, paths, a.weights);
    RunOptions o = a.opt;
    print_result(w, o, w.run(o));
    return 0;
  } catch (const workloads::MissingData& e) {
    std::fprintf(stderr, "fp8sim-ptq: data missing: %s\n", e.what());
    return 77;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fp8sim-ptq: error: %s\n", e.what());
    return 1;
  }
}
