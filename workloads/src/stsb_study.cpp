// fp8sim-ptq embed-check / stsb-table (see stsb_study.h and workloads/README.md).
#include "fp8sim/workloads/stsb_study.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "fp8sim/model/nn/stsb.h"
#include "fp8sim/model/quant/quantize.h"
#include "fp8sim/model/safetensors.h"
#include "fp8sim/workloads/runner.h"

namespace fs = std::filesystem;

namespace fp8sim::workloads {
namespace {

using clock_type = std::chrono::steady_clock;
double since(clock_type::time_point t0) { return std::chrono::duration<double>(clock_type::now() - t0).count(); }

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// "--flag value" pairs and bare "--flag"s; throws UsageError on anything not in `known`.
std::map<std::string, std::string> parse_flags(const std::vector<std::string>& args,
                                               const std::vector<std::string>& with_value,
                                               const std::vector<std::string>& bare) {
  std::map<std::string, std::string> m;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (std::find(with_value.begin(), with_value.end(), a) != with_value.end()) {
      if (i + 1 >= args.size()) throw UsageError(a + " needs a value");
      m[a] = args[++i];
    } else if (std::find(bare.begin(), bare.end(), a) != bare.end()) {
      m[a] = "1";
    } else {
      throw UsageError("unknown option '" + a + "'");
    }
  }
  return m;
}

size_t to_count(const std::string& flag, const std::string& v) {
  size_t used = 0;
  long long x = -1;
  try {
    x = std::stoll(v, &used);
  } catch (const std::exception&) {
  }
  if (used != v.size() || x < 0) throw UsageError(flag + " needs a non-negative integer, got '" + v + "'");
  return static_cast<size_t>(x);
}

// Runs f(i) for i in [0, n) on `jobs` threads (each index once); the first exception is rethrown.
void parallel_for(size_t n, size_t jobs, const std::function<void(size_t, size_t)>& f) {
  std::atomic<size_t> next{0};
  std::exception_ptr err;
  std::mutex err_mu;
  auto worker = [&](size_t t) {
    try {
      for (size_t i; (i = next++) < n;) f(i, t);
    } catch (...) {
      std::lock_guard<std::mutex> l(err_mu);
      if (!err) err = std::current_exception();
      next = n;
    }
  };
  std::vector<std::thread> ts;
  for (size_t t = 1; t < std::max<size_t>(jobs, 1); ++t) ts.emplace_back(worker, t);
  worker(0);
  for (std::thread& t : ts) t.join();
  if (err) std::rethrow_exception(err);
}

nlohmann::json workload_spec(const Paths& paths, const std::string& name) {
  fs::path file = name;
  if (file.extension() != ".json") file = fs::path(paths.source_dir) / "workloads" / (name + ".json");
  std::ifstream f(file);
  if (!f) throw std::runtime_error("workload '" + name + "': cannot open " + file.string());
  return nlohmann::json::parse(f);
}

const char* kEmbedHelp =
    "usage: fp8sim-ptq embed-check [--workload mpnet-base] [--reference FILE] [--count N] [--jobs J]\n"
    "Compares the workload's FP32 sentence embeddings (mean of the final hidden states) of the STS-B dev sentences\n"
    "with reference embeddings from the original implementation: a safetensors file with float tensors sentence1\n"
    "and sentence2 [pairs][dim] in file order (default: the workload's reference_embeddings under ../shared).\n"
    "Checks the first N sentences (sentence1, sentence2 of pair 0, of pair 1, ...; default all) for cosine >=\n"
    "the workload's cosine_min (0.9999), and with all sentences reports the FP32 Spearman of ours and of the\n"
    "reference on STS-B dev. Exit 0: all above the bound; 1: some below; 77: model or data missing.\n";

}  // namespace

int run_embed_check(const std::vector<std::string>& args) {
  try {
    for (const std::string& a : args)
      if (a == "--help" || a == "-h") return std::cout << kEmbedHelp, 0;
    const auto fl = parse_flags(args, {"--workload", "--reference", "--count", "--jobs"}, {});
    const std::string name = fl.count("--workload") ? fl.at("--workload") : "mpnet-base";
    const size_t jobs = fl.count("--jobs") ? std::max<size_t>(1, to_count("--jobs", fl.at("--jobs"))) : 1;
    const Paths paths = Paths::defaults();
    const nlohmann::json spec = workload_spec(paths, name);
    const nlohmann::json refspec = spec.value("reference_embeddings", nlohmann::json::object());
    fs::path ref = fl.count("--reference") ? fs::path(fl.at("--reference")) : fs::path();
    if (ref.empty()) {
      if (!refspec.contains("path")) throw UsageError("workload '" + name + "' names no reference_embeddings: give --reference FILE");
      ref = fs::path(paths.shared_dir) / refspec.at("path").get<std::string>();
    }
    if (!fs::exists(ref)) throw MissingData("reference embeddings not found: " + ref.string());
    const double cos_min = refspec.value("cosine_min", 0.9999);
    const auto t0 = clock_type::now();
    const Workload w(name, paths);
    if (w.metric() != "spearman") throw UsageError("workload '" + name + "' is not a sentence-pair (spearman) workload");
    const std::vector<std::vector<int32_t>> ids = w.token_ids();  // s1, s2 of each pair, interleaved
    const model::SafetensorsFile rf(ref);
    const model::TensorView &t1 = rf.at("sentence1"), &t2 = rf.at("sentence2");
    if (t1.shape.size() != 2 || t1.shape != t2.shape)
      throw std::runtime_error(ref.string() + ": sentence1 and sentence2 must be 2-D of the same shape");
    const size_t pairs = static_cast<size_t>(t1.shape[0]), dim = static_cast<size_t>(t1.shape[1]);
    if (pairs * 2 != ids.size())
      throw std::runtime_error(ref.string() + ": " + std::to_string(pairs) + " pairs, the workload has " +
                               std::to_string(ids.size() / 2));
    const std::vector<float> r1 = rf.read_float("sentence1"), r2 = rf.read_float("sentence2");
    auto ref_row = [&](size_t s) { return (s % 2 ? r2.data() : r1.data()) + (s / 2) * dim; };
    const size_t n = fl.count("--count") ? std::min(ids.size(), to_count("--count", fl.at("--count"))) : ids.size();
    std::vector<std::vector<float>> emb(n);
    std::vector<quant::Executor> ex(jobs);
    const auto t1s = clock_type::now();
    parallel_for(n, jobs, [&](size_t i, size_t t) { emb[i] = w.fp32_embedding(ids[i], ex[t]); });
    const double secs = since(t1s);
    size_t below = 0;
    double worst = 1.0, sum = 0.0;
    size_t worst_i = 0;
    for (size_t i = 0; i < n; ++i) {
      if (emb[i].size() != dim) throw std::runtime_error("embedding size " + std::to_string(emb[i].size()) + " != reference dim " + std::to_string(dim));
      const double c = quant::cosine_similarity(emb[i].data(), ref_row(i), dim);
      sum += c;
      if (c < worst) worst = c, worst_i = i;
      if (c < cos_min) {
        if (++below <= 5) std::printf("BELOW sentence %zu (pair %zu, sentence%zu): cosine %.6f\n", i, i / 2, i % 2 + 1, c);
      }
    }
    std::printf("workload   %s\nweights    %s\nreference  %s\n", w.name().c_str(), w.weights_label().c_str(), ref.string().c_str());
    std::printf("sentences  %zu of %zu checked (sentence1, sentence2 of pairs 0..%zu), %.1f s (%zu thread(s))\n", n,
                ids.size(), n ? (n - 1) / 2 : 0, secs, jobs);
    std::printf("cosine     min %.7f (sentence %zu)  mean %.7f  below %g: %zu\n", worst, worst_i, n ? sum / n : 0.0, cos_min, below);
    if (n == ids.size()) {
      const std::vector<double> gold = w.gold_scores();
      std::vector<double> ours, theirs;
      for (size_t p = 0; p < pairs; ++p) {
        ours.push_back(quant::cosine_similarity(emb[2 * p].data(), emb[2 * p + 1].data(), dim));
        theirs.push_back(quant::cosine_similarity(ref_row(2 * p), ref_row(2 * p + 1), dim));
      }
      std::printf("spearman   fp8sim FP32 %.6f   reference embeddings %.6f   (STS-B dev, %zu pairs)\n",
                  nn::spearman(ours, gold), nn::spearman(theirs, gold), pairs);
    }
    for (const auto& [k, v] : rf.metadata()) std::printf("metadata   %s = %s\n", k.c_str(), v.c_str());
    std::printf("time       %.1f s in all\n", since(t0));
    return below == 0 ? 0 : 1;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "fp8sim-ptq embed-check: %s\n%s", e.what(), kEmbedHelp);
    return 2;
  } catch (const MissingData& e) {
    std::fprintf(stderr, "fp8sim-ptq embed-check: data missing: %s\n", e.what());
    return 77;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fp8sim-ptq embed-check: error: %s\n", e.what());
    return 1;
  }
}

namespace {

struct Variant {
  std::string id, recipe_label;  // id: "e4m3", "int8:w-per-tensor", ...
  bool quantize = true;
  quant::Recipe recipe;
};

// The FP8-BERT recipe (Li et al. 2023): per-channel weights, static per-tensor min/max activations, every GEMM
// (linear layers and the attention matmuls) quantized, BF16 elsewhere; and one change at a time.
std::vector<std::pair<std::string, std::string>> variation_rows() {
  return {{"", "FP8-BERT recipe: w per-channel, a per-tensor min/max, attention matmuls quantized"},
          {"w-per-tensor", "weights per-tensor"},
          {"a-p99.99", "activations percentile 99.99"},
          {"a-mse", "activations MSE-optimal clipping"},
          {"no-attn-matmuls", "attention matmuls (Q.K^T, P.V) left in FP32"}};
}

std::vector<Variant> all_variants() {
  std::vector<Variant> v;
  Variant fp32;
  fp32.id = "fp32", fp32.quantize = false, fp32.recipe.format = quant::Format::FP32, fp32.recipe_label = "FP32";
  v.push_back(fp32);
  for (const auto& [suffix, label] : variation_rows())
    for (quant::Format f : {quant::Format::INT8, quant::Format::E4M3, quant::Format::E5M2}) {
      Variant x;
      x.id = quant::to_string(f) + (suffix.empty() ? "" : ":" + suffix);
      x.recipe_label = label;
      quant::Recipe& r = x.recipe;
      r.format = f;
      r.weight_granularity = quant::Granularity::PerChannel;
      r.act_granularity = quant::Granularity::PerTensor;
      r.act_calibration = quant::CalibMethod::MinMax;
      r.quantize_attention_matmuls = true;
      r.nongemm_bf16 = true;
      if (suffix == "w-per-tensor") r.weight_granularity = quant::Granularity::PerTensor;
      if (suffix == "a-p99.99") r.act_calibration = quant::CalibMethod::Percentile, r.percentile = 99.99;
      if (suffix == "a-mse") r.act_calibration = quant::CalibMethod::MSE;
      if (suffix == "no-attn-matmuls") r.quantize_attention_matmuls = false;
      v.push_back(x);
    }
  return v;
}

const char* kTableHelp =
    "usage: fp8sim-ptq stsb-table [--workload mpnet-base] [--variants LIST|all] [--jobs J] [--eval-count N]\n"
    "                             [--eval-spread N] [--markdown FILE] [--ranges-markdown FILE] [--ranges-only]\n"
    "                             [--list-variants]\n"
    "STS-B dev Spearman of a sentence-embedding workload in FP32 and under INT8 / E4M3 / E5M2 post-training\n"
    "quantization: FP8-BERT's recipe (per-channel weights, static per-tensor min/max activations from the\n"
    "workload's calibration pairs, every GEMM incl. the attention matmuls quantized, BF16 elsewhere) and one\n"
    "change at a time (per-tensor weights; percentile 99.99 or MSE activation calibration; attention matmuls\n"
    "left in FP32). Every variant is evaluated on the same pairs: all after the calibration pairs, the first N of\n"
    "them (--eval-count N), or N evenly spaced over them (--eval-spread N); cells give Spearman x 100 and the\n"
    "mean cosine of the sentence embeddings against FP32 (--markdown FILE is rewritten after each variant). Also\n"
    "writes the calibrated input range of every GEMM (max |x|, percentiles) and its weight range.\n"
    "Variants (comma-separated ids, default all): fp32, then <fmt>[:<change>] with fmt int8|e4m3|e5m2 and change\n"
    "w-per-tensor|a-p99.99|a-mse|no-attn-matmuls. FakeQuant execution (the same quantized values as the\n"
    "bit-exact path up to FP32 accumulation order; simrun runs the bit-exact GEMMs on the simulated array).\n";

std::string cell(double spearman, double cosine) {
  char b[64];
  std::snprintf(b, sizeof b, "%.1f (cos %.4f)", 100.0 * spearman, cosine);
  return b;
}
std::string num(double x, const char* fmt = "%.3g") {
  char b[64];
  std::snprintf(b, sizeof b, fmt, x);
  return b;
}

std::string ranges_markdown(const Workload& w, const RunOptions& base) {
  const quant::CalibrationData cd = w.calibration_stats(base);
  std::map<std::string, const quant::LinearParams*> weights;
  for (const quant::LinearParams* p : w.gemm_layers()) weights[p->name] = p;
  std::ostringstream md;
  md << "| GEMM input | max \\|x\\| | p99.9 \\|x\\| | p99.99 \\|x\\| | max / p99.9 | weight max \\|w\\| | "
        "weight rows: max / median of row max \\|w\\| |\n|---|---|---|---|---|---|---|\n";
  for (const quant::CalibrationData::Gemm& g : cd.gemms) {
    for (const char* op : {".a", ".b"}) {
      if (!g.act_act && std::string(op) == ".b") continue;
      auto it = cd.observers.find(g.name + op);
      if (it == cd.observers.end()) continue;
      const quant::Observer& o = it->second;
      const double p999 = o.percentile_amax(99.9), p9999 = o.percentile_amax(99.99);
      md << "| " << g.name << (g.act_act ? op : "") << " | " << num(o.amax()) << " | " << num(p999) << " | "
         << num(p9999) << " | " << num(p999 > 0 ? o.amax() / p999 : 0.0, "%.1f") << " | ";
      auto wt = weights.find(g.name);
      if (!g.act_act && wt != weights.end()) {
        const quant::LinearParams& p = *wt->second;
        std::vector<double> rows(static_cast<size_t>(p.n), 0.0);
        for (int64_t r = 0; r < p.n; ++r)
          for (int64_t k = 0; k < p.k; ++k)
            rows[r] = std::max(rows[r], static_cast<double>(std::fabs(p.weight[r * p.k + k])));
        const double mx = *std::max_element(rows.begin(), rows.end());
        std::nth_element(rows.begin(), rows.begin() + rows.size() / 2, rows.end());
        md << num(mx) << " | " << num(mx / rows[rows.size() / 2], "%.1f") << " |\n";
      } else {
        md << "(activation) | |\n";
      }
    }
  }
  return md.str();
}

}  // namespace

int run_stsb_table(const std::vector<std::string>& args) {
  try {
    for (const std::string& a : args)
      if (a == "--help" || a == "-h") return std::cout << kTableHelp, 0;
    const auto fl = parse_flags(args, {"--workload", "--variants", "--jobs", "--eval-count", "--eval-spread", "--markdown",
                                       "--ranges-markdown"},
                                {"--ranges-only", "--list-variants"});
    std::vector<Variant> vars = all_variants();
    if (fl.count("--list-variants")) {
      for (const Variant& v : vars) std::printf("%-28s %s\n", v.id.c_str(), v.quantize ? v.recipe.describe().c_str() : "fp32");
      return 0;
    }
    if (fl.count("--variants") && fl.at("--variants") != "all") {
      std::vector<Variant> chosen;
      std::stringstream ss(fl.at("--variants"));
      for (std::string id; std::getline(ss, id, ',');) {
        auto it = std::find_if(vars.begin(), vars.end(), [&](const Variant& v) { return v.id == id; });
        if (it == vars.end()) throw UsageError("unknown variant '" + id + "' (--list-variants lists them)");
        chosen.push_back(*it);
      }
      vars = chosen;
    }
    const std::string name = fl.count("--workload") ? fl.at("--workload") : "mpnet-base";
    const size_t jobs = fl.count("--jobs") ? std::max<size_t>(1, to_count("--jobs", fl.at("--jobs"))) : 1;
    const auto t0 = clock_type::now();
    const Workload w(name, Paths::defaults());
    if (w.metric() != "spearman") throw UsageError("workload '" + name + "' is not a sentence-pair (spearman) workload");
    RunOptions base;
    base.quantize = true;
    base.mode = quant::ExecMode::FakeQuant;
    if (fl.count("--eval-count")) base.eval_count = to_count("--eval-count", fl.at("--eval-count"));
    const auto [begin, end] = w.eval_range(base);
    // --eval-spread N: N pairs evenly spaced over the evaluation range (all genres of the file, not only its first
    // rows), the same pairs for every variant.
    std::string items_label = "pairs " + std::to_string(begin) + ".." + std::to_string(end - 1);
    if (fl.count("--eval-spread")) {
      const size_t n = to_count("--eval-spread", fl.at("--eval-spread"));
      if (n < 2 || n > end - begin)
        throw UsageError("--eval-spread " + std::to_string(n) + ": needs 2.." + std::to_string(end - begin));
      for (size_t j = 0; j < n; ++j) base.items.push_back(begin + j * (end - begin) / n);
      items_label = std::to_string(n) + " pairs evenly spaced over pairs " + std::to_string(begin) + ".." +
                    std::to_string(end - 1) + " (pair " + std::to_string(begin) + " + floor(j * " +
                    std::to_string(end - begin) + " / " + std::to_string(n) + "))";
    }
    std::fprintf(stderr, "[stsb-table] %s: %s; %s evaluated\n", name.c_str(), w.weights_label().c_str(),
                 items_label.c_str());

    std::string ranges = ranges_markdown(w, base);
    std::fprintf(stderr, "[stsb-table] calibration ranges ready (%.0f s)\n", since(t0));
    if (!fl.count("--ranges-only")) {
      std::vector<RunResult> res(vars.size());
      std::vector<double> secs(vars.size());
      std::vector<bool> done(vars.size(), false);
      std::mutex out_mu;
      // The table from the variants finished so far (written after each one, so a long run that is cut short
      // still leaves its finished cells).
      auto table = [&]() {
        std::ostringstream md;
        size_t items = 0;
        double fp32 = std::nan("");
        for (size_t i = 0; i < vars.size(); ++i)
          if (done[i]) items = res[i].items, fp32 = res[i].fp32_value;  // the same FP32 reference for every variant
        md << "STS-B dev Spearman x 100 of " << name << " (" << w.weights_label() << "); " << items << " evaluated "
           << items_label << "; static activation scales from the first " << begin << " pairs (both sentences); "
           << "FakeQuant execution. In brackets: mean cosine of the sentence embeddings against FP32.\n\n";
        md << "| recipe | FP32 | INT8 | E4M3 | E5M2 |\n|---|---|---|---|---|\n";
        auto find = [&](const std::string& id) -> const RunResult* {
          for (size_t i = 0; i < vars.size(); ++i)
            if (vars[i].id == id && done[i]) return &res[i];
          return nullptr;
        };
        for (const auto& [suffix, label] : variation_rows()) {
          std::string row = "| " + label + " | " + (suffix.empty() ? num(100.0 * fp32, "%.1f") : std::string()) + " |";
          for (const char* f : {"int8", "e4m3", "e5m2"}) {
            const RunResult* r = find(std::string(f) + (suffix.empty() ? "" : ":" + suffix));
            row += " " + (r ? cell(r->value, r->cosine) : std::string("-")) + " |";
          }
          md << row << "\n";
        }
        md << "| FP8-BERT Table 1, BERT-base (Li et al. 2023; GLUE STS-B dev, all 1,500 pairs) | 89.0 | 27.6 | 89.0 | - |\n";
        md << "\nseconds per variant (wall, " << jobs << " thread(s)):";
        for (size_t i = 0; i < vars.size(); ++i)
          if (done[i]) md << " " << vars[i].id << " " << num(secs[i], "%.0f") << ";";
        md << "\n";
        return md.str();
      };
      parallel_for(vars.size(), jobs, [&](size_t i, size_t) {
        const auto tv = clock_type::now();
        RunOptions o = base;
        o.quantize = vars[i].quantize;
        o.recipe = vars[i].recipe;
        RunResult r = w.compare_with_fp32(o);
        std::lock_guard<std::mutex> l(out_mu);
        res[i] = r, secs[i] = since(tv), done[i] = true;
        std::fprintf(stderr, "[stsb-table]   %-26s spearman %.4f (fp32 %.4f)  cosine %.5f  sqnr %.1f dB  (%.0f s)\n",
                     vars[i].id.c_str(), r.value, r.fp32_value, r.cosine, r.sqnr_db, secs[i]);
        if (fl.count("--markdown")) {
          std::ofstream f(fl.at("--markdown"));
          if (!f) throw std::runtime_error("cannot write " + fl.at("--markdown"));
          f << table();
        }
      });
      std::cout << table();
    }
    const std::string rhead = "Calibrated GEMM input ranges of " + name + " (float32 calibration pass over the first " +
                              std::to_string(begin) + " pairs, both sentences): per GEMM input the largest magnitude, "
                              "the 99.9th and 99.99th percentiles of |x| (histogram, interpolated), their ratio; per "
                              "weight its largest magnitude and how far the largest row (output channel) max exceeds "
                              "the median row max. Attention matmuls: .a = Q or P, .b = K or V^T.\n\n";
    if (fl.count("--ranges-markdown")) {
      std::ofstream f(fl.at("--ranges-markdown"));
      if (!f) throw std::runtime_error("cannot write " + fl.at("--ranges-markdown"));
      f << rhead << ranges;
    } else {
      std::cout << "\n" << rhead << ranges;
    }
    std::fprintf(stderr, "[stsb-table] total %.0f s\n", since(t0));
    return 0;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "fp8sim-ptq stsb-table: %s\n%s", e.what(), kTableHelp);
    return 2;
  } catch (const MissingData& e) {
    std::fprintf(stderr, "fp8sim-ptq stsb-table: data missing: %s\n", e.what());
    return 77;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fp8sim-ptq stsb-table: error: %s\n", e.what());
    return 1;
  }
}

}  // namespace fp8sim::workloads
