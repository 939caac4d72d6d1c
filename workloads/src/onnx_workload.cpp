#include "onnx_workload.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <stdexcept>

#include "fp8sim/model/nn/rng.h"
#include "fp8sim/model/nn/tokenizer.h"

namespace fs = std::filesystem;

namespace fp8sim::workloads {

using onnx_import::DType;
using onnx_import::InputInfo;
using onnx_import::Value;

namespace {

bool contains(const std::string& s, const char* sub) { return s.find(sub) != std::string::npos; }

std::vector<float> first_output(const std::vector<Value>& outs, const std::string& path) {
  if (outs.empty() || outs[0].type != DType::Float)
    throw std::runtime_error(path + ": the first graph output is not a float tensor");
  return outs[0].f;
}

// The model's inputs for one sentence.
std::vector<Value> text_inputs(const onnx_import::Model& m, const std::vector<int32_t>& ids) {
  std::vector<Value> in;
  const int64_t len = static_cast<int64_t>(ids.size());
  for (const InputInfo& info : m.inputs()) {
    std::vector<int64_t> v(ids.begin(), ids.end());
    if (contains(info.name, "mask")) v.assign(ids.size(), 1);
    else if (contains(info.name, "type")) v.assign(ids.size(), 0);
    in.push_back(Value::ints({1, len}, std::move(v), info.type));
  }
  return in;
}

// Shapes for the synthetic inputs: "SHAPE" for every input of that rank, or "NAME=SHAPE;NAME=SHAPE".
std::vector<std::vector<int64_t>> synthetic_shapes(const onnx_import::Model& m, const std::string& spec) {
  std::map<std::string, std::vector<int64_t>> named;
  std::vector<int64_t> bare;
  bool have_bare = false;
  size_t pos = 0;
  while (!spec.empty() && pos <= spec.size()) {
    size_t end = spec.find(';', pos);
    if (end == std::string::npos) end = spec.size();
    const std::string part = spec.substr(pos, end - pos);
    const size_t eq = part.find('=');
    if (eq == std::string::npos) {
      bare = onnx_import::parse_shape(part);
      have_bare = true;
    } else {
      bool known = false;
      for (const InputInfo& in : m.inputs()) known = known || in.name == part.substr(0, eq);
      if (!known) throw std::invalid_argument("--input-shape: the model has no input '" + part.substr(0, eq) + "'");
      named[part.substr(0, eq)] = onnx_import::parse_shape(part.substr(eq + 1));
    }
    pos = end + 1;
  }
  std::vector<std::vector<int64_t>> shapes;
  for (const InputInfo& in : m.inputs()) {
    std::vector<int64_t> s;
    if (named.count(in.name)) s = named[in.name];
    else if (have_bare && bare.size() == in.shape.size()) s = bare;
    else s = in.shape;
    std::string want = "[";
    for (size_t d = 0; d < in.shape.size(); ++d)
      want += (d ? "," : "") + (in.shape[d] >= 0 ? std::to_string(in.shape[d]) : in.dim_names[d].empty() ? "?" : in.dim_names[d]);
    want += "]";
    if (s.size() != in.shape.size())
      throw std::invalid_argument("input '" + in.name + "' has shape " + want + ": --input-shape gives rank " +
                                  std::to_string(s.size()));
    for (size_t d = 0; d < s.size(); ++d) {
      if (s[d] < 0)
        throw std::invalid_argument("input '" + in.name + "' has dynamic dimensions " + want +
                                    ": give --input-shape (e.g. --input-shape " + in.name + "=1x16)");
      if (in.shape[d] >= 0 && s[d] != in.shape[d])
        throw std::invalid_argument("--input-shape: input '" + in.name + "' has shape " + want);
    }
    shapes.push_back(s);
  }
  return shapes;
}

}  // namespace

std::vector<float> OnnxNet::image_output(quant::Executor& ex, const nn::Image& img) const {
  Value x = Value::floats({1, img.c, img.h, img.w}, std::vector<float>(img.data.size()));
  for (int64_t c = 0; c < img.c; ++c)
    for (int64_t k = 0; k < img.h * img.w; ++k) x.f[static_cast<size_t>(c * img.h * img.w + k)] = img.data[static_cast<size_t>(k * img.c + c)];
  return first_output(model.run(ex, {x}), model.path());
}

std::vector<float> OnnxNet::sentence_embedding(quant::Executor& ex, const std::vector<int32_t>& ids) const {
  const std::vector<Value> outs = model.run(ex, text_inputs(model, ids));
  const std::vector<float> h = first_output(outs, model.path());
  const std::vector<int64_t>& s = outs[0].shape;
  if (s.size() == 2 && s[0] == 1) return h;
  if (s.size() != 3 || s[0] != 1 || s[1] != static_cast<int64_t>(ids.size()))
    throw std::runtime_error(model.path() + ": the first output " + outs[0].shape_str() +
                             " is neither [1, tokens, hidden] nor [1, hidden]");
  const int64_t len = s[1], hid = s[2];
  std::vector<float> e(static_cast<size_t>(hid));
  for (int64_t i = 0; i < hid; ++i) {
    double sum = 0.0;
    for (int64_t t = 0; t < len; ++t) sum += h[static_cast<size_t>(t * hid + i)];
    e[static_cast<size_t>(i)] = static_cast<float>(sum / static_cast<double>(len));
  }
  return e;
}

std::vector<float> OnnxNet::synthetic_output(quant::Executor& ex, size_t item) const {
  return first_output(model.run(ex, synthetic.at(item)), model.path());
}

OnnxSetup load_onnx_workload(const std::string& path, const std::string& weights_override,
                             const std::string& data_override, const OnnxInputs& opt) {
  if (!weights_override.empty())
    throw std::invalid_argument("--weights does not apply to an ONNX model (its weights are its initializers)");
  if (!fs::exists(path)) throw std::runtime_error("ONNX model not found: " + path);
  OnnxSetup s;
  s.net = std::make_unique<OnnxNet>(OnnxNet{onnx_import::Model::load(path), {}});
  const onnx_import::Model& m = s.net->model;
  s.name = fs::path(path).filename().string();
  s.weights_label = path + " (ONNX, opset " + std::to_string(m.opset()) + ", " +
                    std::to_string(m.gemm_layers().size()) + " GEMM layers with constant weights)";
  if (!data_override.empty() && !opt.input_shape.empty())
    throw std::invalid_argument("--data and --input-shape exclude each other");
  if (!data_override.empty()) {
    if (!fs::exists(data_override)) throw std::runtime_error("--data: no such file: " + data_override);
    const std::string ext = fs::path(data_override).extension().string();
    if (ext == ".bin") {  // CIFAR-10 binary: one float NCHW input
      if (m.inputs().size() != 1 || m.inputs()[0].type != DType::Float || m.inputs()[0].shape.size() != 4)
        throw std::invalid_argument("--data " + data_override + " holds CIFAR-10 images, but " + s.name +
                                    " does not take one float N x C x H x W input");
      s.cifar = nn::load_cifar_bin(data_override);
      s.cifar_inputs = true;
      s.metric = "top1";
      s.default_calib = 256;  // as the built-in CIFAR-10 workloads (workloads/resnet*-cifar10.json)
      s.inputs_label = data_override + " (CIFAR-10 images, normalized as the built-in CIFAR workloads)";
    } else if (ext == ".tsv") {  // STS-B sentence pairs, WordPiece-tokenized
      for (const InputInfo& in : m.inputs())
        if (in.type == DType::Float || in.shape.size() != 2)
          throw std::invalid_argument("--data " + data_override + " holds sentences, but input '" + in.name + "' of " +
                                      s.name + " is not a [batch, tokens] integer tensor");
      std::string vocab = opt.vocab;
      if (vocab.empty() && fs::exists(fs::path(path).parent_path() / "vocab.txt"))
        vocab = (fs::path(path).parent_path() / "vocab.txt").string();
      if (vocab.empty())
        throw MissingData(s.name + ": STS-B text needs the model's WordPiece vocabulary: give --vocab FILE (vocab.txt)");
      const nn::WordPieceTokenizer tok = nn::WordPieceTokenizer::from_vocab_file(vocab);
      s.pairs = nn::load_stsb_tsv(data_override);
      const size_t max_len = 256;  // sentence-transformers' max_seq_length of all-MiniLM-L6-v2 (minilm-l6.json)
      for (const nn::StsPair& p : s.pairs) {
        s.seq_a.push_back(tok.encode(p.s1, max_len));
        s.seq_b.push_back(tok.encode(p.s2, max_len));
      }
      s.metric = "spearman";
      s.default_calib = 128;  // sentence pairs, as minilm-l6
      s.inputs_label = data_override + " (STS-B sentences, WordPiece-tokenized with " + vocab + ")";
    } else {
      throw std::invalid_argument("--data " + data_override +
                                  ": expected a CIFAR-10 binary (.bin) or an STS-B file (.tsv)");
    }
    return s;
  }
  // Seeded random inputs: floats N(0, 1); token ids uniform below the embedding table's size; masks ones.
  const std::vector<std::vector<int64_t>> shapes = synthetic_shapes(m, opt.input_shape);
  const size_t items = 8;
  for (size_t i = 0; i < items; ++i) {
    std::vector<Value> in;
    for (size_t k = 0; k < shapes.size(); ++k) {
      const InputInfo& info = m.inputs()[k];
      nn::Rng r(nn::Rng::mix(opt.seed * 1000003ull + i, info.name.c_str()));
      size_t n = 1;
      for (int64_t d : shapes[k]) n *= static_cast<size_t>(d);
      if (info.type == DType::Float) {
        std::vector<float> v(n);
        for (float& x : v) x = static_cast<float>(r.normal());
        in.push_back(Value::floats(shapes[k], std::move(v)));
      } else {
        const int64_t bound = m.index_bound(info.name);
        std::vector<int64_t> v(n, contains(info.name, "mask") ? 1 : 0);
        if (bound > 0 && !contains(info.name, "mask") && !contains(info.name, "type"))
          for (int64_t& x : v) x = static_cast<int64_t>(r.next_u64() % static_cast<uint64_t>(bound));
        in.push_back(Value::ints(shapes[k], std::move(v), info.type));
      }
    }
    s.net->synthetic.push_back(std::move(in));
  }
  s.metric = "output-error";
  s.default_calib = items / 2;
  s.synthetic = true;
  s.inputs_label = "SYNTHETIC seeded random inputs (floats N(0,1), token ids uniform, masks ones)";
  s.weights_label += "; inputs: SYNTHETIC random";
  return s;
}

}  // namespace fp8sim::workloads
