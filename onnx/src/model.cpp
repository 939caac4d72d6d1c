// ONNX import: loading (protobuf, initializers, external data), graph preparation (constants, GEMM layers,
// MatMul+Add and Conv+BatchNormalization folding) and the run loop. The ops are in ops.cpp.
#include "fp8sim/onnx/model.h"

#include <onnx/onnx_pb.h>

#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <unordered_map>

#include "internal.h"

namespace fs = std::filesystem;

namespace fp8sim::onnx_import {

std::string to_string(DType t) {
  switch (t) {
    case DType::Float: return "float";
    case DType::Int64: return "int64";
    case DType::Bool: return "bool";
  }
  return "?";
}

size_t Value::numel() const { return type == DType::Float ? f.size() : i.size(); }

std::string Value::shape_str() const {
  std::string s = "[";
  for (size_t k = 0; k < shape.size(); ++k) s += (k ? "," : "") + std::to_string(shape[k]);
  return s + "]";
}

Value Value::floats(std::vector<int64_t> shape, std::vector<float> data) {
  Value v;
  v.type = DType::Float;
  v.shape = std::move(shape);
  v.f = std::move(data);
  return v;
}

Value Value::ints(std::vector<int64_t> shape, std::vector<int64_t> data, DType t) {
  Value v;
  v.type = t;
  v.shape = std::move(shape);
  v.i = std::move(data);
  return v;
}

std::vector<int64_t> parse_shape(const std::string& s) {
  std::vector<int64_t> d;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t end = s.find_first_of("x,", pos);
    if (end == std::string::npos) end = s.size();
    const std::string tok = s.substr(pos, end - pos);
    int64_t v = 0;
    const auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), v);
    if (tok.empty() || ec != std::errc() || p != tok.data() + tok.size() || v < 1)
      throw OnnxError("bad shape '" + s + "': expected positive dimensions separated by 'x' or ',' (e.g. 1x3x32x32)");
    d.push_back(v);
    pos = end + 1;
  }
  return d;
}

namespace {

const char* kTypeNames[] = {"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64", "STRING",
                            "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16"};
std::string type_name(int t) {
  if (t >= 0 && t < static_cast<int>(sizeof kTypeNames / sizeof *kTypeNames)) return kTypeNames[t];
  return "type " + std::to_string(t);
}

// The bytes of an external-data tensor: location relative to the model's folder, optional offset/length.
std::string read_external(const ::onnx::TensorProto& t, const fs::path& dir, const std::string& what) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto& kv : t.external_data()) {
    if (kv.key() == "location") location = kv.value();
    else if (kv.key() == "offset") offset = std::stoll(kv.value());
    else if (kv.key() == "length") length = std::stoll(kv.value());
  }
  if (location.empty()) throw OnnxError(what + ": external data without a location");
  const fs::path file = dir / location;
  std::ifstream f(file, std::ios::binary);
  if (!f) throw OnnxError(what + ": cannot open its external-data file " + file.string());
  f.seekg(0, std::ios::end);
  const int64_t size = static_cast<int64_t>(f.tellg());
  if (length < 0) length = size - offset;
  if (offset < 0 || offset + length > size)
    throw OnnxError(what + ": external data [" + std::to_string(offset) + ", +" + std::to_string(length) +
                    ") lies outside " + file.string() + " (" + std::to_string(size) + " bytes)");
  std::string bytes(static_cast<size_t>(length), '\0');
  f.seekg(offset);
  f.read(bytes.data(), length);
  if (!f) throw OnnxError(what + ": cannot read " + file.string());
  return bytes;
}

}  // namespace

Value tensor_to_value(const ::onnx::TensorProto& t, const fs::path& dir, const std::string& what) {
  std::vector<int64_t> shape(t.dims().begin(), t.dims().end());
  size_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw OnnxError(what + ": negative dimension");
    n *= static_cast<size_t>(d);
  }
  std::string raw;
  const bool external = t.data_location() == ::onnx::TensorProto::EXTERNAL;
  if (external) raw = read_external(t, dir, what);
  else if (t.has_raw_data()) raw = t.raw_data();
  const bool use_raw = external || t.has_raw_data();
  auto check_raw = [&](size_t elem) {
    if (raw.size() != n * elem)
      throw OnnxError(what + ": " + std::to_string(raw.size()) + " data bytes for " + std::to_string(n) +
                      " elements of " + std::to_string(elem) + " bytes");
  };
  Value v;
  v.shape = shape;
  switch (t.data_type()) {
    case ::onnx::TensorProto::FLOAT:
      v.type = DType::Float;
      if (use_raw) {
        check_raw(4);
        v.f.resize(n);
        if (!raw.empty()) std::memcpy(v.f.data(), raw.data(), raw.size());
      } else {
        v.f.assign(t.float_data().begin(), t.float_data().end());
      }
      break;
    case ::onnx::TensorProto::INT64:
      v.type = DType::Int64;
      if (use_raw) {
        check_raw(8);
        v.i.resize(n);
        if (!raw.empty()) std::memcpy(v.i.data(), raw.data(), raw.size());
      } else {
        v.i.assign(t.int64_data().begin(), t.int64_data().end());
      }
      break;
    case ::onnx::TensorProto::INT32:
    case ::onnx::TensorProto::BOOL:
    case ::onnx::TensorProto::INT8:
    case ::onnx::TensorProto::UINT8: {
      const int dt = t.data_type();
      v.type = dt == ::onnx::TensorProto::BOOL ? DType::Bool : DType::Int64;
      // Integer values are exact in int64 (int32 tensors are computed on as int64).
      if (use_raw) {
        const size_t elem = dt == ::onnx::TensorProto::INT32 ? 4 : 1;
        check_raw(elem);
        v.i.resize(n);
        for (size_t k = 0; k < n; ++k) {
          if (dt == ::onnx::TensorProto::INT32) {
            int32_t x;
            std::memcpy(&x, raw.data() + 4 * k, 4);
            v.i[k] = x;
          } else if (dt == ::onnx::TensorProto::INT8) {
            v.i[k] = static_cast<int8_t>(raw[k]);
          } else {
            v.i[k] = static_cast<uint8_t>(raw[k]);
          }
        }
      } else {
        v.i.assign(t.int32_data().begin(), t.int32_data().end());
      }
      if (v.type == DType::Bool)
        for (int64_t& x : v.i) x = x != 0;
      break;
    }
    default:
      throw OnnxError(what + ": data type " + type_name(t.data_type()) +
                      " is not supported (float32, int64, int32, int8, uint8, bool)");
  }
  if (v.numel() != n)
    throw OnnxError(what + ": " + std::to_string(v.numel()) + " values for shape " + v.shape_str());
  return v;
}

struct Model::Impl {
  std::string path;
  int64_t opset = 0;
  std::vector<InputInfo> inputs;
  std::vector<std::string> outputs;
  std::map<std::string, int> op_counts;
  std::unordered_map<std::string, Value> constants;
  std::vector<Node> nodes;
  std::vector<std::unique_ptr<GemmLayer>> gemms;
};

Model::Model() : impl_(std::make_unique<Impl>()) {}
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;
const std::string& Model::path() const { return impl_->path; }
const std::vector<InputInfo>& Model::inputs() const { return impl_->inputs; }
const std::vector<std::string>& Model::outputs() const { return impl_->outputs; }
int64_t Model::opset() const { return impl_->opset; }
const std::map<std::string, int>& Model::op_counts() const { return impl_->op_counts; }

std::vector<const quant::LinearParams*> Model::gemm_layers() const {
  std::vector<const quant::LinearParams*> v;
  for (const auto& g : impl_->gemms) v.push_back(g->is_conv ? &g->conv.gemm : &g->linear);
  return v;
}

int64_t Model::index_bound(const std::string& input) const {
  for (const Node& n : impl_->nodes)
    if (n.op == "Gather" && n.in.size() == 2 && n.in[1] == input) {
      auto it = impl_->constants.find(n.in[0]);
      if (it == impl_->constants.end()) continue;
      int64_t axis = n.attr_int("axis", 0);
      const int64_t r = static_cast<int64_t>(it->second.shape.size());
      if (axis < 0) axis += r;
      if (axis >= 0 && axis < r) return it->second.shape[static_cast<size_t>(axis)];
    }
  return 0;
}

Model Model::load(const std::string& path) {
  GOOGLE_PROTOBUF_VERIFY_VERSION;
  std::ifstream f(path, std::ios::binary);
  if (!f) throw OnnxError(path + ": cannot open the ONNX model");
  ::onnx::ModelProto mp;
  if (!mp.ParseFromIstream(&f)) throw OnnxError(path + ": not a valid ONNX model (protobuf parse failed)");
  const fs::path dir = fs::path(path).parent_path();
  Model m;
  Impl& im = *m.impl_;
  im.path = path;
  for (const auto& os : mp.opset_import())
    if (os.domain().empty() || os.domain() == "ai.onnx") im.opset = os.version();
  if (im.opset == 0) throw OnnxError(path + ": no opset for the default ONNX domain");
  if (im.opset < 7) throw OnnxError(path + ": opset " + std::to_string(im.opset) + " is older than supported (7..)");
  const ::onnx::GraphProto& g = mp.graph();

  // Constants: initializers and Constant nodes.
  for (const auto& t : g.initializer()) im.constants[t.name()] = tensor_to_value(t, dir, "initializer '" + t.name() + "'");
  for (const auto& vi : g.input()) {
    if (im.constants.count(vi.name())) continue;  // an initializer listed as input (IR < 4)
    InputInfo in;
    in.name = vi.name();
    if (!vi.type().has_tensor_type()) throw OnnxError(path + ": input '" + vi.name() + "' is not a tensor");
    const auto& tt = vi.type().tensor_type();
    switch (tt.elem_type()) {
      case ::onnx::TensorProto::FLOAT: in.type = DType::Float; break;
      case ::onnx::TensorProto::INT64:
      case ::onnx::TensorProto::INT32: in.type = DType::Int64; break;
      case ::onnx::TensorProto::BOOL: in.type = DType::Bool; break;
      default:
        throw OnnxError(path + ": input '" + vi.name() + "' has element type " + type_name(tt.elem_type()) +
                        " (supported: float, int64, int32, bool)");
    }
    for (const auto& d : tt.shape().dim()) {
      in.shape.push_back(d.has_dim_value() ? d.dim_value() : -1);
      in.dim_names.push_back(d.has_dim_param() ? d.dim_param() : "");
    }
    im.inputs.push_back(in);
  }
  for (const auto& vo : g.output()) im.outputs.push_back(vo.name());

  for (int k = 0; k < g.node_size(); ++k) {
    const ::onnx::NodeProto& np = g.node(k);
    ++im.op_counts[np.op_type()];
    Node n;
    n.op = np.op_type();
    n.name = !np.name().empty() ? np.name() : (np.output_size() ? np.output(0) : "node" + std::to_string(k));
    n.in.assign(np.input().begin(), np.input().end());
    n.out.assign(np.output().begin(), np.output().end());
    if (!np.domain().empty() && np.domain() != "ai.onnx")
      throw OnnxError("node '" + n.name + "': unsupported op '" + np.domain() + "::" + n.op + "'");
    for (const auto& a : np.attribute()) {
      Attr at;
      at.type = a.type();
      at.i = a.i();
      at.f = a.f();
      at.s = a.s();
      at.ints.assign(a.ints().begin(), a.ints().end());
      at.floats.assign(a.floats().begin(), a.floats().end());
      if (a.has_t()) at.t = std::make_shared<Value>(tensor_to_value(a.t(), dir, "node '" + n.name + "' attribute '" + a.name() + "'"));
      n.attrs[a.name()] = std::move(at);
    }
    if (n.op == "Constant") {
      if (n.out.size() != 1) throw OnnxError("node '" + n.name + "' (Constant): expected one output");
      im.constants[n.out[0]] = constant_value(n);
      continue;
    }
    if (!op_supported(n.op)) throw OnnxError("node '" + n.name + "': unsupported op '" + n.op + "'");
    im.nodes.push_back(std::move(n));
  }

  // Uses of each value (node inputs and graph outputs), for the folding below.
  std::unordered_map<std::string, int> uses;
  std::unordered_map<std::string, size_t> consumer;
  for (size_t k = 0; k < im.nodes.size(); ++k)
    for (const std::string& s : im.nodes[k].in)
      if (!s.empty()) ++uses[s], consumer[s] = k;
  for (const std::string& s : im.outputs) uses[s] += 2;
  auto constant = [&](const std::string& s) -> const Value* {
    auto it = im.constants.find(s);
    return it == im.constants.end() ? nullptr : &it->second;
  };
  auto sole_consumer = [&](const std::string& s, const char* op) -> Node* {
    if (uses[s] != 1) return nullptr;
    Node& c = im.nodes[consumer[s]];
    return c.op == op ? &c : nullptr;
  };

  std::set<std::string> used_names;
  auto gemm_name = [&](const Node& n, const std::string& weight) {
    std::string base = n.name;
    const std::string suf = ".weight";
    if (weight.size() > suf.size() && weight.compare(weight.size() - suf.size(), suf.size(), suf) == 0)
      base = weight.substr(0, weight.size() - suf.size());
    std::string name = base;
    for (int k = 2; used_names.count(name); ++k) name = base + "#" + std::to_string(k);
    used_names.insert(name);
    return name;
  };

  for (Node& n : im.nodes) {
    if (n.skip) continue;
    if (n.op == "Conv") {
      prepare_conv(n, constant, im.opset);
      const Value* w = constant(n.in[1]);
      auto layer = std::make_unique<GemmLayer>();
      layer->is_conv = true;
      std::vector<float> bias;
      if (n.in.size() > 2 && !n.in[2].empty()) {
        const Value* b = constant(n.in[2]);
        if (!b || b->type != DType::Float || b->numel() != static_cast<size_t>(w->shape[0]))
          throw OnnxError("node '" + n.name + "' (Conv): the bias must be a constant float tensor of " +
                          std::to_string(w->shape[0]) + " values");
        bias = b->f;
      }
      try {
        layer->conv = nn::make_conv(gemm_name(n, n.in[1]), w->f, w->shape[0], w->shape[1], w->shape[2], w->shape[3],
                                    n.conv_stride, n.conv_pad, bias);
      } catch (const std::invalid_argument& e) {
        throw OnnxError("node '" + n.name + "' (Conv): " + e.what());
      }
      // Conv -> BatchNormalization (inference): folded into the convolution, in double (nn::fold_batchnorm).
      if (Node* bn = sole_consumer(n.out[0], "BatchNormalization")) {
        const Value *sc = constant(bn->in[1]), *bb = constant(bn->in[2]), *mean = constant(bn->in[3]),
                    *var = constant(bn->in[4]);
        const bool training = bn->attr_int("training_mode", 0) != 0;
        if (sc && bb && mean && var && !training && bn->out.size() == 1 && bn->in[0] == n.out[0]) {
          check_attrs(*bn, {"epsilon", "momentum", "training_mode", "spatial"});
          try {
            nn::fold_batchnorm(layer->conv, sc->f, bb->f, mean->f, var->f, float_attr_as_decimal(*bn, "epsilon", 1e-5f));
          } catch (const std::invalid_argument& e) {
            throw OnnxError("node '" + bn->name + "' (BatchNormalization): " + e.what());
          }
          bn->skip = true;
          n.out[0] = bn->out[0];
        }
      }
      n.gemm = layer.get();
      im.gemms.push_back(std::move(layer));
    } else if (n.op == "MatMul" || n.op == "Gemm") {
      const Value* b = n.in.size() > 1 ? constant(n.in[1]) : nullptr;
      int64_t trans_b = 0;
      if (n.op == "Gemm") {
        check_attrs(n, {"alpha", "beta", "transA", "transB"});
        if (n.attr_int("transA", 0) != 0) throw OnnxError("node '" + n.name + "' (Gemm): unsupported attribute transA=1");
        if (n.attr_float("alpha", 1.0f) != 1.0f || n.attr_float("beta", 1.0f) != 1.0f)
          throw OnnxError("node '" + n.name + "' (Gemm): unsupported attribute alpha/beta other than 1");
        trans_b = n.attr_int("transB", 0);
        if (!b) throw OnnxError("node '" + n.name + "' (Gemm): unsupported non-constant B");
      } else {
        check_attrs(n, {});
      }
      if (!b || b->shape.size() != 2 || b->type != DType::Float) continue;  // activation-activation matmul
      auto layer = std::make_unique<GemmLayer>();
      quant::LinearParams& p = layer->linear;
      const int64_t r = b->shape[0], c = b->shape[1];
      p.n = trans_b ? r : c;
      p.k = trans_b ? c : r;
      p.weight.resize(static_cast<size_t>(p.n * p.k));
      for (int64_t j = 0; j < p.n; ++j)
        for (int64_t kk = 0; kk < p.k; ++kk)
          p.weight[static_cast<size_t>(j * p.k + kk)] = trans_b ? b->f[static_cast<size_t>(j * c + kk)]
                                                                : b->f[static_cast<size_t>(kk * c + j)];
      auto bias_ok = [&](const Value* v) {
        return v && v->type == DType::Float && static_cast<int64_t>(v->numel()) == p.n &&
               (v->shape.size() == 1 || (v->shape.size() == 2 && v->shape[0] == 1));
      };
      if (n.op == "Gemm" && n.in.size() > 2 && !n.in[2].empty()) {
        const Value* cb = constant(n.in[2]);
        if (!bias_ok(cb))
          throw OnnxError("node '" + n.name + "' (Gemm): unsupported C (a constant bias of " + std::to_string(p.n) +
                          " values is supported)");
        p.bias = cb->f;
      } else if (n.op == "MatMul") {
        // MatMul -> Add(constant [N] bias): the linear layer's bias.
        if (Node* add = sole_consumer(n.out[0], "Add")) {
          const std::string& other = add->in[0] == n.out[0] ? add->in[1] : add->in[0];
          if (add->in.size() == 2 && bias_ok(constant(other))) {
            p.bias = constant(other)->f;
            add->skip = true;
            n.out[0] = add->out[0];
          }
        }
      }
      p.name = gemm_name(n, n.in[1]);
      n.gemm = layer.get();
      im.gemms.push_back(std::move(layer));
    }
  }
  // Activation-activation matmuls are named after their node.
  for (Node& n : im.nodes)
    if (!n.skip && n.op == "MatMul" && !n.gemm) n.mm_name = gemm_name(n, "");
  // Drop folded nodes; free the constants only folded layers read (the weights now live in the layers).
  std::vector<Node> kept;
  for (Node& n : im.nodes)
    if (!n.skip) kept.push_back(std::move(n));
  im.nodes = std::move(kept);
  std::set<std::string> still_read(im.outputs.begin(), im.outputs.end());
  for (const Node& n : im.nodes)
    for (size_t k = 0; k < n.in.size(); ++k)
      if (!(n.gemm && k >= 1)) still_read.insert(n.in[k]);
  for (auto it = im.constants.begin(); it != im.constants.end();)
    it = still_read.count(it->first) ? std::next(it) : im.constants.erase(it);
  // Every node input must be produced before it is read (ONNX requires topological order).
  std::set<std::string> avail;
  for (const auto& [k, v] : im.constants) avail.insert(k);
  for (const InputInfo& in : im.inputs) avail.insert(in.name);
  for (const Node& n : im.nodes) {
    for (size_t k = 0; k < n.in.size(); ++k)
      if (!n.in[k].empty() && !(n.gemm && k >= 1) && !avail.count(n.in[k]))
        throw OnnxError("node '" + n.name + "' (" + n.op + "): input '" + n.in[k] +
                        "' is produced by no earlier node (the graph is not topologically sorted or is incomplete)");
    for (const std::string& o : n.out) avail.insert(o);
  }
  for (const std::string& o : im.outputs)
    if (!avail.count(o)) throw OnnxError(path + ": graph output '" + o + "' is produced by no node");
  return m;
}

std::vector<Value> Model::run(quant::Executor& ex, const std::vector<Value>& inputs) const {
  const Impl& im = *impl_;
  if (inputs.size() != im.inputs.size())
    throw OnnxError(im.path + ": " + std::to_string(inputs.size()) + " inputs given, the model has " +
                    std::to_string(im.inputs.size()));
  std::unordered_map<std::string, Value> env;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const InputInfo& info = im.inputs[k];
    const Value& v = inputs[k];
    bool ok = v.shape.size() == info.shape.size() &&
              (v.type == info.type || (info.type == DType::Int64 && v.type == DType::Bool));
    for (size_t d = 0; ok && d < v.shape.size(); ++d) ok = info.shape[d] < 0 || info.shape[d] == v.shape[d];
    if (!ok || v.numel() != Tensorish::numel_of(v.shape))
      throw OnnxError("input '" + info.name + "': got " + to_string(v.type) + " " + v.shape_str() + ", the model expects " +
                      to_string(info.type) + " of rank " + std::to_string(info.shape.size()));
    env[info.name] = v;
  }
  auto get = [&](const std::string& s) -> const Value* {
    if (s.empty()) return nullptr;
    auto it = env.find(s);
    if (it != env.end()) return &it->second;
    auto ct = im.constants.find(s);
    if (ct != im.constants.end()) return &ct->second;
    return nullptr;
  };
  for (const Node& n : im.nodes) {
    std::vector<const Value*> ins;
    for (size_t k = 0; k < n.in.size(); ++k) ins.push_back(n.gemm && k >= 1 ? nullptr : get(n.in[k]));
    std::vector<Value> outs;
    try {
      outs = run_node(n, ins, ex, im.opset);
    } catch (const OnnxError&) {
      throw;
    } catch (const std::exception& e) {
      throw OnnxError("node '" + n.name + "' (" + n.op + "): " + e.what());
    }
    for (size_t k = 0; k < outs.size() && k < n.out.size(); ++k)
      if (!n.out[k].empty()) env[n.out[k]] = std::move(outs[k]);
  }
  std::vector<Value> res;
  for (const std::string& o : im.outputs) res.push_back(*get(o));
  return res;
}

}  // namespace fp8sim::onnx_import
