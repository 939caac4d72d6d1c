// The ONNX ops the importer executes (float32 on the host; GEMMs through the quant::Executor). Semantics follow
// the ONNX operator specification (onnx/docs/Operators.md) for opsets 7..18.
#pragma GCC optimize("fp-contract=off")  // the same bits with or without FMA hardware
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <set>

#include "internal.h"

namespace fp8sim::onnx_import {

namespace {

[[noreturn]] void fail(const Node& n, const std::string& msg) {
  throw OnnxError("node '" + n.name + "' (" + n.op + "): " + msg);
}

const std::set<std::string>& supported() {
  static const std::set<std::string> s = {
      "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Erf", "Tanh", "Exp", "Log", "Neg", "Sigmoid", "Reciprocal",
      "Relu", "Softmax", "LayerNormalization", "ReduceMean", "BatchNormalization", "MatMul", "Gemm", "Conv",
      "MaxPool", "AveragePool", "GlobalAveragePool", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze",
      "Concat", "Slice", "Gather", "Pad", "Shape", "ConstantOfShape", "Range", "Expand", "Cast", "Equal",
      "Greater", "GreaterOrEqual", "Less", "LessOrEqual", "And", "Or", "Not", "Where", "Identity", "Dropout"};
  return s;
}

int64_t norm_axis(const Node& n, int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    fail(n, "axis " + std::to_string(axis) + " out of range for rank " + std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

// A non-GEMM float result through Executor::vector_op (BF16 rounding in the quantized modes, the vector unit's
// accounting in a simulated run), as rows x cols: NCHW tensors as N*H*W rows of C channels (the built-in
// networks' HWC pixels x channels), other tensors as rows of their last dimension.
void vector_result(quant::Executor& ex, quant::VectorOp op, Value& v) {
  const int64_t n = static_cast<int64_t>(v.f.size());
  int64_t cols = v.shape.size() == 4 ? v.shape[1] : v.shape.empty() ? n : v.shape.back();
  if (cols <= 0 || n % cols) cols = n;
  ex.vector_op(op, cols ? n / cols : 0, cols, v.f.data());
}

const Value& need(const Node& n, const std::vector<const Value*>& in, size_t k) {
  if (k >= in.size() || !in[k]) fail(n, "missing input " + std::to_string(k));
  return *in[k];
}
const Value* opt(const std::vector<const Value*>& in, size_t k) { return k < in.size() ? in[k] : nullptr; }

const Value& need_float(const Node& n, const std::vector<const Value*>& in, size_t k) {
  const Value& v = need(n, in, k);
  if (v.type != DType::Float) fail(n, "input " + std::to_string(k) + " is " + to_string(v.type) + ", expected float");
  return v;
}
std::vector<int64_t> need_ints(const Node& n, const std::vector<const Value*>& in, size_t k) {
  const Value& v = need(n, in, k);
  if (v.type == DType::Float) fail(n, "input " + std::to_string(k) + " must be an integer tensor");
  return v.i;
}

// ---------------------------------------------------------------- broadcasting
struct Bcast {
  std::vector<int64_t> shape;
  std::vector<std::vector<int64_t>> strides;  // per input, per output dim (0 where broadcast)
};

Bcast make_bcast(const Node& n, const std::vector<const std::vector<int64_t>*>& shapes) {
  Bcast b;
  size_t r = 0;
  for (auto* s : shapes) r = std::max(r, s->size());
  b.shape.assign(r, 1);
  for (auto* s : shapes)
    for (size_t d = 0; d < s->size(); ++d) {
      const int64_t v = (*s)[d];
      int64_t& o = b.shape[r - s->size() + d];
      if (o == 1) o = v;
      else if (v != 1 && v != o) {
        std::string msg = "shapes cannot be broadcast:";
        for (auto* t : shapes) {
          Value tmp;
          tmp.shape = *t;
          msg += " " + tmp.shape_str();
        }
        fail(n, msg);
      }
    }
  for (auto* s : shapes) {
    std::vector<int64_t> st(r, 0);
    int64_t acc = 1;
    for (size_t d = s->size(); d-- > 0;) {
      const size_t od = r - s->size() + d;
      st[od] = (*s)[d] == 1 ? 0 : acc;
      acc *= (*s)[d];
    }
    b.strides.push_back(st);
  }
  return b;
}

// f(out_index, offsets of each input)
template <class F>
void for_each_bcast(const Bcast& b, F f) {
  const size_t n = Tensorish::numel_of(b.shape), k = b.strides.size(), r = b.shape.size();
  std::vector<int64_t> idx(r, 0), off(k, 0);
  // Fast path: no input is broadcast (every input has the output's shape, e.g. a residual add).
  const std::vector<int64_t> dense = [&] {
    std::vector<int64_t> st(r, 1);
    for (size_t d = r; d-- > 1;) st[d - 1] = st[d] * b.shape[d];
    for (size_t d = 0; d < r; ++d)
      if (b.shape[d] == 1) st[d] = 0;  // make_bcast gives stride 0 to size-1 dimensions
    return st;
  }();
  if (std::all_of(b.strides.begin(), b.strides.end(), [&](const std::vector<int64_t>& st) { return st == dense; })) {
    for (size_t o = 0; o < n; ++o) {
      std::fill(off.begin(), off.end(), static_cast<int64_t>(o));
      f(o, off.data());
    }
    return;
  }
  for (size_t o = 0; o < n; ++o) {
    f(o, off.data());
    for (size_t d = r; d-- > 0;) {
      ++idx[d];
      for (size_t j = 0; j < k; ++j) off[j] += b.strides[j][d];
      if (idx[d] < b.shape[d]) break;
      for (size_t j = 0; j < k; ++j) off[j] -= b.strides[j][d] * b.shape[d];
      idx[d] = 0;
    }
  }
}

Value binary(const Node& n, const Value& a, const Value& b, quant::Executor& ex) {
  const std::string& op = n.op;
  const Bcast bc = make_bcast(n, {&a.shape, &b.shape});
  Value out;
  out.shape = bc.shape;
  const size_t cnt = Tensorish::numel_of(bc.shape);
  const bool cmp = op == "Equal" || op == "Greater" || op == "GreaterOrEqual" || op == "Less" || op == "LessOrEqual";
  const bool logic = op == "And" || op == "Or";
  if (logic) {
    if (a.type == DType::Float || b.type == DType::Float) fail(n, "expects boolean inputs");
    out.type = DType::Bool;
    out.i.resize(cnt);
    const bool is_and = op == "And";
    for_each_bcast(bc, [&](size_t o, const int64_t* off) {
      const bool x = a.i[off[0]] != 0, y = b.i[off[1]] != 0;
      out.i[o] = is_and ? (x && y) : (x || y);
    });
    return out;
  }
  if (op == "Pow") {
    if (a.type != DType::Float) fail(n, "integer Pow is not supported");
    out.type = DType::Float;
    out.f.resize(cnt);
    for_each_bcast(bc, [&](size_t o, const int64_t* off) {
      const float e = b.type == DType::Float ? b.f[off[1]] : static_cast<float>(b.i[off[1]]);
      out.f[o] = std::pow(a.f[off[0]], e);
    });
    vector_result(ex, quant::VectorOp::Add, out);  // costed as an element-wise op
    return out;
  }
  if ((a.type == DType::Float) != (b.type == DType::Float))
    fail(n, "inputs of different types (" + to_string(a.type) + ", " + to_string(b.type) + ")");
  if (cmp) {
    out.type = DType::Bool;
    out.i.resize(cnt);
    const int kind = op == "Equal" ? 0 : op == "Greater" ? 1 : op == "GreaterOrEqual" ? 2 : op == "Less" ? 3 : 4;
    auto c = [kind](auto x, auto y) -> int64_t {
      switch (kind) {
        case 0: return x == y;
        case 1: return x > y;
        case 2: return x >= y;
        case 3: return x < y;
        default: return x <= y;
      }
    };
    if (a.type == DType::Float)
      for_each_bcast(bc, [&](size_t o, const int64_t* off) { out.i[o] = c(a.f[off[0]], b.f[off[1]]); });
    else
      for_each_bcast(bc, [&](size_t o, const int64_t* off) { out.i[o] = c(a.i[off[0]], b.i[off[1]]); });
    return out;
  }
  if (a.type == DType::Float) {
    out.type = DType::Float;
    out.f.resize(cnt);
    const float* pa = a.f.data();
    const float* pb = b.f.data();
    float* po = out.f.data();
    if (op == "Add") for_each_bcast(bc, [&](size_t o, const int64_t* off) { po[o] = pa[off[0]] + pb[off[1]]; });
    else if (op == "Sub") for_each_bcast(bc, [&](size_t o, const int64_t* off) { po[o] = pa[off[0]] - pb[off[1]]; });
    else if (op == "Mul") for_each_bcast(bc, [&](size_t o, const int64_t* off) { po[o] = pa[off[0]] * pb[off[1]]; });
    else for_each_bcast(bc, [&](size_t o, const int64_t* off) { po[o] = pa[off[0]] / pb[off[1]]; });
    vector_result(ex, quant::VectorOp::Add, out);  // Sub, Mul, Div costed as adds
    return out;
  }
  if (a.type == DType::Bool || b.type == DType::Bool) fail(n, "arithmetic on boolean tensors");
  out.type = DType::Int64;
  out.i.resize(cnt);
  const int kind = op == "Add" ? 0 : op == "Sub" ? 1 : op == "Mul" ? 2 : 3;
  for_each_bcast(bc, [&](size_t o, const int64_t* off) {
    const int64_t x = a.i[off[0]], y = b.i[off[1]];
    if (kind == 0) out.i[o] = x + y;
    else if (kind == 1) out.i[o] = x - y;
    else if (kind == 2) out.i[o] = x * y;
    else {
      if (y == 0) fail(n, "integer division by zero");
      out.i[o] = x / y;  // C semantics (truncation), as ONNX Runtime
    }
  });
  return out;
}

Value unary(const Node& n, const Value& x, quant::Executor& ex) {
  if (n.op == "Not") {
    if (x.type == DType::Float) fail(n, "expects a boolean input");
    Value o = x;
    o.type = DType::Bool;
    for (int64_t& v : o.i) v = v == 0;
    return o;
  }
  if (n.op == "Neg" && x.type != DType::Float) {
    Value o = x;
    for (int64_t& v : o.i) v = -v;
    return o;
  }
  if (x.type != DType::Float) fail(n, "expects a float input, got " + to_string(x.type));
  Value o = x;
  const std::string& op = n.op;
  float (*fn)(float) = nullptr;
  if (op == "Relu") fn = [](float v) { return v < 0.0f ? 0.0f : v; };
  else if (op == "Sqrt") fn = [](float v) { return std::sqrt(v); };
  else if (op == "Erf") fn = [](float v) { return std::erf(v); };
  else if (op == "Tanh") fn = [](float v) { return std::tanh(v); };
  else if (op == "Exp") fn = [](float v) { return std::exp(v); };
  else if (op == "Log") fn = [](float v) { return std::log(v); };
  else if (op == "Neg") fn = [](float v) { return -v; };
  else if (op == "Reciprocal") fn = [](float v) { return 1.0f / v; };
  else if (op == "Sigmoid") fn = [](float v) { return static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(v)))); };
  else fail(n, "unsupported op '" + op + "'");
  if (op == "Relu")
    for (float& v : o.f) v = v < 0.0f ? 0.0f : v;  // inline: the most frequent op of CNNs
  else
    for (float& v : o.f) v = fn(v);
  if (op == "Relu") vector_result(ex, quant::VectorOp::Relu, o);
  else if (op == "Erf") vector_result(ex, quant::VectorOp::Gelu, o);
  else if (op == "Tanh" || op == "Exp" || op == "Log" || op == "Sigmoid") vector_result(ex, quant::VectorOp::Tanh, o);
  else if (op != "Neg") vector_result(ex, quant::VectorOp::Add, o);  // Sqrt, Reciprocal
  return o;
}

// ---------------------------------------------------------------- data movement
std::vector<int64_t> strides_of(const std::vector<int64_t>& s) {
  std::vector<int64_t> st(s.size(), 1);
  for (size_t d = s.size(); d-- > 1;) st[d - 1] = st[d] * s[d];
  return st;
}

// Gathers elements: out[o] = in[src(o)], for both storage kinds.
template <class F>
Value remap(const Value& x, std::vector<int64_t> shape, F src) {
  Value o;
  o.type = x.type;
  o.shape = std::move(shape);
  const size_t n = Tensorish::numel_of(o.shape);
  if (x.type == DType::Float) {
    o.f.resize(n);
    for (size_t k = 0; k < n; ++k) o.f[k] = x.f[static_cast<size_t>(src(k))];
  } else {
    o.i.resize(n);
    for (size_t k = 0; k < n; ++k) o.i[k] = x.i[static_cast<size_t>(src(k))];
  }
  return o;
}

Value transpose(const Node& n, const Value& x, std::vector<int64_t> perm) {
  const size_t r = x.shape.size();
  if (perm.empty())
    for (size_t d = r; d-- > 0;) perm.push_back(static_cast<int64_t>(d));
  if (perm.size() != r) fail(n, "perm has " + std::to_string(perm.size()) + " entries for rank " + std::to_string(r));
  std::vector<int64_t> shape(r), ist = strides_of(x.shape);
  for (size_t d = 0; d < r; ++d) shape[d] = x.shape[static_cast<size_t>(norm_axis(n, perm[d], static_cast<int64_t>(r)))];
  const std::vector<int64_t> ost = strides_of(shape);
  return remap(x, shape, [&](size_t o) {
    int64_t rem = static_cast<int64_t>(o), off = 0;
    for (size_t d = 0; d < r; ++d) {
      const int64_t c = rem / ost[d];
      rem -= c * ost[d];
      off += c * ist[static_cast<size_t>(norm_axis(n, perm[d], static_cast<int64_t>(r)))];
    }
    return off;
  });
}

Value reshaped(const Value& x, std::vector<int64_t> shape) {
  Value o = x;
  o.shape = std::move(shape);
  return o;
}

Value slice(const Node& n, const Value& x, std::vector<int64_t> starts, std::vector<int64_t> ends,
            std::vector<int64_t> axes, std::vector<int64_t> steps) {
  const int64_t r = static_cast<int64_t>(x.shape.size());
  if (axes.empty())
    for (size_t k = 0; k < starts.size(); ++k) axes.push_back(static_cast<int64_t>(k));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    fail(n, "starts, ends, axes and steps differ in length");
  std::vector<int64_t> begin(static_cast<size_t>(r), 0), step(static_cast<size_t>(r), 1), shape = x.shape;
  for (size_t k = 0; k < starts.size(); ++k) {
    const size_t a = static_cast<size_t>(norm_axis(n, axes[k], r));
    const int64_t d = x.shape[a], st = steps[k];
    if (st == 0) fail(n, "step 0");
    int64_t s = starts[k], e = ends[k];
    if (s < 0) s += d;
    if (e < 0) e += d;  // no overflow: d > 0 (INT64_MIN + d stays in range)
    int64_t cnt;
    if (st > 0) {
      s = std::clamp<int64_t>(s, 0, d);
      e = std::clamp<int64_t>(e, 0, d);
      cnt = e > s ? (e - s + st - 1) / st : 0;
    } else {
      s = std::clamp<int64_t>(s, 0, d - 1);
      e = std::clamp<int64_t>(e, -1, d - 1);
      cnt = s > e ? (s - e + (-st) - 1) / (-st) : 0;
    }
    begin[a] = s;
    step[a] = st;
    shape[a] = cnt;
  }
  const std::vector<int64_t> ist = strides_of(x.shape), ost = strides_of(shape);
  return remap(x, shape, [&](size_t o) {
    int64_t rem = static_cast<int64_t>(o), off = 0;
    for (int64_t d = 0; d < r; ++d) {
      const int64_t c = rem / ost[d];
      rem -= c * ost[d];
      off += (begin[d] + c * step[d]) * ist[d];
    }
    return off;
  });
}

Value concat(const Node& n, const std::vector<const Value*>& in) {
  std::vector<const Value*> vs;
  for (const Value* v : in)
    if (v) vs.push_back(v);
  if (vs.empty()) fail(n, "no inputs");
  const int64_t r = static_cast<int64_t>(vs[0]->shape.size());
  const int64_t axis = norm_axis(n, n.attr_int("axis", 0), r);
  std::vector<int64_t> shape = vs[0]->shape;
  shape[axis] = 0;
  for (const Value* v : vs) {
    if (v->type != vs[0]->type || static_cast<int64_t>(v->shape.size()) != r) fail(n, "inputs differ in type or rank");
    for (int64_t d = 0; d < r; ++d)
      if (d != axis && v->shape[d] != vs[0]->shape[d]) fail(n, "input shapes differ outside the axis");
    shape[axis] += v->shape[axis];
  }
  Value o;
  o.type = vs[0]->type;
  o.shape.assign(shape.begin(), shape.end());
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= shape[d];
  for (int64_t d = axis + 1; d < r; ++d) inner *= shape[d];
  for (int64_t k = 0; k < outer; ++k)
    for (const Value* v : vs) {
      const int64_t len = v->shape[axis] * inner;
      if (o.type == DType::Float) o.f.insert(o.f.end(), v->f.begin() + k * len, v->f.begin() + (k + 1) * len);
      else o.i.insert(o.i.end(), v->i.begin() + k * len, v->i.begin() + (k + 1) * len);
    }
  return o;
}

Value gather(const Node& n, const Value& x, const Value& idx) {
  if (idx.type == DType::Float) fail(n, "indices must be integers");
  const int64_t r = static_cast<int64_t>(x.shape.size());
  const int64_t axis = norm_axis(n, n.attr_int("axis", 0), r);
  const int64_t d = x.shape[axis];
  std::vector<int64_t> shape(x.shape.begin(), x.shape.begin() + axis);
  shape.insert(shape.end(), idx.shape.begin(), idx.shape.end());
  shape.insert(shape.end(), x.shape.begin() + axis + 1, x.shape.end());
  int64_t outer = 1, inner = 1;
  for (int64_t k = 0; k < axis; ++k) outer *= x.shape[k];
  for (int64_t k = axis + 1; k < r; ++k) inner *= x.shape[k];
  const int64_t ni = static_cast<int64_t>(idx.i.size());
  std::vector<int64_t> ix(idx.i);
  for (int64_t& v : ix) {
    if (v < -d || v >= d) fail(n, "index " + std::to_string(v) + " out of range [" + std::to_string(-d) + ", " + std::to_string(d) + ")");
    if (v < 0) v += d;
  }
  return remap(x, shape, [&](size_t o) {
    const int64_t oo = static_cast<int64_t>(o);
    const int64_t in_ = oo % inner, j = (oo / inner) % ni, out_ = oo / inner / ni;
    return (out_ * d + ix[j]) * inner + in_;
  });
}

Value pad(const Node& n, const Value& x, const std::vector<int64_t>& pads, const Value* cval) {
  const int64_t r = static_cast<int64_t>(x.shape.size());
  if (static_cast<int64_t>(pads.size()) != 2 * r) fail(n, "pads has " + std::to_string(pads.size()) + " values for rank " + std::to_string(r));
  for (int64_t p : pads)
    if (p < 0) fail(n, "negative pads are not supported");
  std::vector<int64_t> shape(x.shape);
  for (int64_t d = 0; d < r; ++d) shape[d] += pads[d] + pads[d + r];
  Value o;
  o.type = x.type;
  o.shape.assign(shape.begin(), shape.end());
  const size_t cnt = Tensorish::numel_of(shape);
  const float cf = cval && cval->numel() ? (cval->type == DType::Float ? cval->f[0] : static_cast<float>(cval->i[0])) : 0.0f;
  const int64_t ci = cval && cval->numel() ? (cval->type == DType::Float ? static_cast<int64_t>(cval->f[0]) : cval->i[0]) : 0;
  if (o.type == DType::Float) o.f.assign(cnt, cf);
  else o.i.assign(cnt, ci);
  const std::vector<int64_t> ist = strides_of(x.shape), ost = strides_of(shape);
  const size_t nin = x.numel();
  for (size_t k = 0; k < nin; ++k) {
    int64_t rem = static_cast<int64_t>(k), off = 0;
    for (int64_t d = 0; d < r; ++d) {
      const int64_t c = rem / ist[d];
      rem -= c * ist[d];
      off += (c + pads[d]) * ost[d];
    }
    if (o.type == DType::Float) o.f[static_cast<size_t>(off)] = x.f[k];
    else o.i[static_cast<size_t>(off)] = x.i[k];
  }
  return o;
}

// ---------------------------------------------------------------- normalization, pooling
Value softmax(const Node& n, const Value& x, int64_t opset, quant::Executor& ex) {
  const int64_t r = static_cast<int64_t>(x.shape.size());
  const int64_t axis = norm_axis(n, n.attr_int("axis", opset >= 13 ? -1 : 1), r);
  // opset >= 13: along `axis`; before: over the flattened dims [axis, r) (the same when axis is the last).
  int64_t outer = 1, len = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.shape[d];
  if (opset >= 13) {
    len = x.shape[axis];
    for (int64_t d = axis + 1; d < r; ++d) inner *= x.shape[d];
  } else {
    for (int64_t d = axis; d < r; ++d) len *= x.shape[d];
  }
  Value o = x;
  for (int64_t a = 0; a < outer; ++a)
    for (int64_t c = 0; c < inner; ++c) {
      float* p = o.f.data() + a * len * inner + c;
      float mx = -std::numeric_limits<float>::infinity();
      for (int64_t k = 0; k < len; ++k) mx = std::max(mx, p[k * inner]);
      double sum = 0.0;
      for (int64_t k = 0; k < len; ++k) {
        p[k * inner] = std::exp(p[k * inner] - mx);
        sum += p[k * inner];
      }
      for (int64_t k = 0; k < len; ++k) p[k * inner] = static_cast<float>(p[k * inner] / sum);
    }
  ex.vector_op(quant::VectorOp::Softmax, outer * inner, len, o.f.data());
  return o;
}

Value layer_norm(const Node& n, const Value& x, const Value* scale, const Value* bias, quant::Executor& ex) {
  const int64_t r = static_cast<int64_t>(x.shape.size());
  const int64_t axis = norm_axis(n, n.attr_int("axis", -1), r);
  const double eps = float_attr_as_decimal(n, "epsilon", 1e-5f);
  int64_t rows = 1, len = 1;
  for (int64_t d = 0; d < axis; ++d) rows *= x.shape[d];
  for (int64_t d = axis; d < r; ++d) len *= x.shape[d];
  auto param = [&](const Value* v, const char* what) {
    if (v && (v->type != DType::Float || static_cast<int64_t>(v->numel()) != len))
      fail(n, std::string(what) + " must be a float tensor of " + std::to_string(len) + " values (no broadcasting)");
  };
  param(scale, "Scale");
  param(bias, "B");
  Value o = x;
  for (int64_t a = 0; a < rows; ++a) {
    float* p = o.f.data() + a * len;
    double mean = 0.0, var = 0.0;
    for (int64_t k = 0; k < len; ++k) mean += p[k];
    mean /= static_cast<double>(len);
    for (int64_t k = 0; k < len; ++k) var += (p[k] - mean) * (p[k] - mean);
    var /= static_cast<double>(len);
    const double inv = 1.0 / std::sqrt(var + eps);
    for (int64_t k = 0; k < len; ++k) {
      double y = (p[k] - mean) * inv;
      if (scale) y *= scale->f[k];
      if (bias) y += bias->f[k];
      p[k] = static_cast<float>(y);
    }
  }
  ex.vector_op(quant::VectorOp::LayerNorm, rows, len, o.f.data());
  return o;
}

Value reduce_mean(const Node& n, const Value& x, std::vector<int64_t> axes, quant::Executor& ex) {
  if (x.type != DType::Float) fail(n, "expects a float input");
  const int64_t r = static_cast<int64_t>(x.shape.size());
  const bool keep = n.attr_int("keepdims", 1) != 0;
  if (axes.empty()) {
    if (n.attr_int("noop_with_empty_axes", 0)) return x;
    for (int64_t d = 0; d < r; ++d) axes.push_back(d);
  }
  std::vector<bool> red(static_cast<size_t>(r), false);
  for (int64_t a : axes) red[static_cast<size_t>(norm_axis(n, a, r))] = true;
  std::vector<int64_t> kshape(x.shape);
  int64_t cnt = 1;
  for (int64_t d = 0; d < r; ++d)
    if (red[d]) cnt *= x.shape[d], kshape[d] = 1;
  const std::vector<int64_t> ist = strides_of(x.shape), kst = strides_of(kshape);
  std::vector<double> acc(Tensorish::numel_of(kshape), 0.0);
  for (size_t k = 0; k < x.f.size(); ++k) {
    int64_t rem = static_cast<int64_t>(k), off = 0;
    for (int64_t d = 0; d < r; ++d) {
      const int64_t c = rem / ist[d];
      rem -= c * ist[d];
      if (!red[d]) off += c * kst[d];
    }
    acc[static_cast<size_t>(off)] += x.f[k];
  }
  Value o;
  o.type = DType::Float;
  for (double v : acc) o.f.push_back(static_cast<float>(v / static_cast<double>(cnt)));
  if (keep) o.shape.assign(kshape.begin(), kshape.end());
  else
    for (int64_t d = 0; d < r; ++d)
      if (!red[d]) o.shape.push_back(x.shape[d]);
  ex.vector_op(quant::VectorOp::Pool, cnt, static_cast<int64_t>(o.f.size()), o.f.data());
  return o;
}

Value batch_norm(const Node& n, const std::vector<const Value*>& in, quant::Executor& ex) {
  check_attrs(n, {"epsilon", "momentum", "training_mode", "spatial"});
  if (n.attr_int("training_mode", 0)) fail(n, "unsupported attribute training_mode=1");
  if (n.out.size() > 1) fail(n, "only the inference form (one output) is supported");
  const Value& x = need_float(n, in, 0);
  if (x.shape.size() < 2) fail(n, "input of rank < 2");
  const int64_t c = x.shape[1];
  std::vector<const Value*> p;
  for (size_t k = 1; k <= 4; ++k) {
    p.push_back(&need_float(n, in, k));
    if (static_cast<int64_t>(p.back()->numel()) != c) fail(n, "parameter " + std::to_string(k) + " must have C values");
  }
  const double eps = float_attr_as_decimal(n, "epsilon", 1e-5f);
  int64_t inner = 1;
  for (size_t d = 2; d < x.shape.size(); ++d) inner *= x.shape[d];
  Value o = x;
  for (size_t k = 0; k < o.f.size(); ++k) {
    const size_t ch = static_cast<size_t>((static_cast<int64_t>(k) / inner) % c);
    const double g = p[0]->f[ch] / std::sqrt(static_cast<double>(p[3]->f[ch]) + eps);
    o.f[k] = static_cast<float>((o.f[k] - p[2]->f[ch]) * g + p[1]->f[ch]);
  }
  vector_result(ex, quant::VectorOp::Add, o);  // an affine map per channel
  return o;
}

Value pool(const Node& n, const Value& x, bool max, quant::Executor& ex) {
  if (x.type != DType::Float || x.shape.size() != 4) fail(n, "only 2-D pooling of a float NCHW tensor is supported");
  check_attrs(n, {"kernel_shape", "strides", "pads", "ceil_mode", "count_include_pad", "auto_pad", "dilations",
                  "storage_order"});
  if (n.attr_int("ceil_mode", 0)) fail(n, "unsupported attribute ceil_mode=1");
  if (n.attr_str("auto_pad", "NOTSET") != "NOTSET" && n.attr_str("auto_pad", "NOTSET") != "VALID")
    fail(n, "unsupported attribute auto_pad=" + n.attr_str("auto_pad", ""));
  for (int64_t d : n.attr_ints("dilations"))
    if (d != 1) fail(n, "unsupported attribute dilations (only 1)");
  if (n.out.size() > 1 && !n.out[1].empty()) fail(n, "the Indices output is not supported");
  const std::vector<int64_t> k = n.attr_ints("kernel_shape");
  if (k.size() != 2) fail(n, "kernel_shape must have 2 values");
  const std::vector<int64_t> s = n.attr_ints("strides", {1, 1}), p = n.attr_ints("pads", {0, 0, 0, 0});
  if (s.size() != 2 || p.size() != 4) fail(n, "strides / pads of the wrong length");
  const bool incl = n.attr_int("count_include_pad", 0) != 0;
  const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  const int64_t OH = (H + p[0] + p[2] - k[0]) / s[0] + 1, OW = (W + p[1] + p[3] - k[1]) / s[1] + 1;
  if (OH < 1 || OW < 1) fail(n, "kernel larger than the padded input");
  Value o = Value::floats({N, C, OH, OW}, std::vector<float>(static_cast<size_t>(N * C * OH * OW)));
  for (int64_t nc = 0; nc < N * C; ++nc) {
    const float* src = x.f.data() + nc * H * W;
    for (int64_t oy = 0; oy < OH; ++oy)
      for (int64_t ox = 0; ox < OW; ++ox) {
        double sum = 0.0;
        float mx = -std::numeric_limits<float>::infinity();
        int64_t cnt = 0;
        for (int64_t ky = 0; ky < k[0]; ++ky)
          for (int64_t kx = 0; kx < k[1]; ++kx) {
            const int64_t iy = oy * s[0] - p[0] + ky, ix = ox * s[1] - p[1] + kx;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
            const float v = src[iy * W + ix];
            sum += v;
            mx = std::max(mx, v);
            ++cnt;
          }
        if (incl) {  // the padded window clipped to the padded input
          const int64_t y0 = oy * s[0] - p[0], x0 = ox * s[1] - p[1];
          const int64_t y1 = std::min(y0 + k[0], H + p[2]), x1 = std::min(x0 + k[1], W + p[3]);
          cnt = (y1 - y0) * (x1 - x0);
        }
        o.f[static_cast<size_t>((nc * OH + oy) * OW + ox)] =
            max ? mx : static_cast<float>(sum / static_cast<double>(std::max<int64_t>(cnt, 1)));
      }
  }
  // Pool: window pixels per output (MaxPool's comparisons costed as the average's adds).
  ex.vector_op(quant::VectorOp::Pool, k[0] * k[1], static_cast<int64_t>(o.f.size()), o.f.data());
  return o;
}

Value global_avg_pool(const Node& n, const Value& x, quant::Executor& ex) {
  if (x.type != DType::Float || x.shape.size() < 3) fail(n, "expects a float N x C x ... tensor");
  const int64_t nc = x.shape[0] * x.shape[1];
  int64_t sp = 1;
  for (size_t d = 2; d < x.shape.size(); ++d) sp *= x.shape[d];
  std::vector<int64_t> shape(x.shape.size(), 1);
  shape[0] = x.shape[0], shape[1] = x.shape[1];
  Value o = Value::floats(shape, std::vector<float>(static_cast<size_t>(nc)));
  for (int64_t c = 0; c < nc; ++c) {
    double s = 0.0;  // summed in double, then one division (as nn::global_avgpool)
    for (int64_t k = 0; k < sp; ++k) s += x.f[static_cast<size_t>(c * sp + k)];
    o.f[static_cast<size_t>(c)] = static_cast<float>(s / static_cast<double>(sp));
  }
  ex.vector_op(quant::VectorOp::Pool, sp, nc, o.f.data());  // as nn::ResNet: pixels summed per channel
  return o;
}

// ---------------------------------------------------------------- GEMMs
Value run_linear(const Node& n, const Value& x, quant::Executor& ex) {
  const quant::LinearParams& p = n.gemm->linear;
  if (x.type != DType::Float || x.shape.empty() || x.shape.back() != p.k)
    fail(n, "input " + x.shape_str() + " does not end in K = " + std::to_string(p.k));
  if (n.op == "Gemm" && x.shape.size() != 2) fail(n, "A must be 2-D");
  const int64_t m = static_cast<int64_t>(x.f.size()) / p.k;
  std::vector<int64_t> shape(x.shape);
  shape.back() = p.n;
  Value o = Value::floats(shape, std::vector<float>(static_cast<size_t>(m * p.n)));
  if (m > 0) ex.linear(p, x.f.data(), m, o.f.data());
  return o;
}

Value run_conv(const Node& n, const Value& x, quant::Executor& ex) {
  const nn::Conv2d& c = n.gemm->conv;
  if (x.type != DType::Float || x.shape.size() != 4 || x.shape[1] != c.cin)
    fail(n, "input " + x.shape_str() + " is not N x " + std::to_string(c.cin) + " x H x W");
  const int64_t N = x.shape[0], H = x.shape[2], W = x.shape[3];
  Value o;
  o.type = DType::Float;
  for (int64_t b = 0; b < N; ++b) {
    nn::Image img(H, W, c.cin);  // NCHW -> HWC
    const float* src = x.f.data() + b * c.cin * H * W;
    for (int64_t ch = 0; ch < c.cin; ++ch)
      for (int64_t k = 0; k < H * W; ++k) img.data[static_cast<size_t>(k * c.cin + ch)] = src[ch * H * W + k];
    nn::Image y;
    try {
      y = nn::conv2d(ex, c, img);
    } catch (const std::invalid_argument& e) {
      fail(n, e.what());
    }
    if (b == 0) {
      o.shape = {N, c.cout, y.h, y.w};
      o.f.resize(static_cast<size_t>(N * c.cout * y.h * y.w));
    }
    float* dst = o.f.data() + b * c.cout * y.h * y.w;
    for (int64_t ch = 0; ch < c.cout; ++ch)
      for (int64_t k = 0; k < y.h * y.w; ++k) dst[ch * y.h * y.w + k] = y.data[static_cast<size_t>(k * c.cout + ch)];
  }
  return o;
}

// MatMul of two activations with numpy broadcasting of the batch dimensions: one executor matmul per matrix.
Value run_act_matmul(const Node& n, const Value& a, const Value& b, quant::Executor& ex) {
  if (a.type != DType::Float || b.type != DType::Float) fail(n, "expects float inputs");
  if (a.shape.size() < 2 || b.shape.size() < 2) fail(n, "1-D operands are not supported");
  const int64_t M = a.shape[a.shape.size() - 2], K = a.shape.back(), N = b.shape.back();
  if (b.shape[b.shape.size() - 2] != K) fail(n, "inner dimensions differ: " + a.shape_str() + " x " + b.shape_str());
  const std::vector<int64_t> ab(a.shape.begin(), a.shape.end() - 2), bb(b.shape.begin(), b.shape.end() - 2);
  const Bcast bc = make_bcast(n, {&ab, &bb});
  std::vector<int64_t> shape = bc.shape;
  shape.push_back(M);
  shape.push_back(N);
  Value o = Value::floats(shape, std::vector<float>(Tensorish::numel_of(shape)));
  std::vector<float> bt(static_cast<size_t>(K * N));
  for_each_bcast(bc, [&](size_t idx, const int64_t* off) {
    const float* pa = a.f.data() + off[0] * M * K;
    const float* pb = b.f.data() + off[1] * K * N;
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = 0; j < N; ++j) bt[static_cast<size_t>(j * K + k)] = pb[k * N + j];
    ex.matmul(n.mm_name, pa, bt.data(), M, K, N, o.f.data() + idx * M * N);
  });
  return o;
}

std::vector<int64_t> axes_of(const Node& n, const std::vector<const Value*>& in, size_t k, int64_t opset, int64_t since) {
  if (opset >= since) {
    const Value* v = opt(in, k);
    return v ? need_ints(n, in, k) : std::vector<int64_t>{};
  }
  if (opt(in, k)) fail(n, "axes given as an input, which opset " + std::to_string(opset) + " does not allow (attribute)");
  return n.attr_ints("axes");
}

}  // namespace

// ---------------------------------------------------------------- shared helpers
void check_attrs(const Node& n, std::initializer_list<const char*> known) {
  for (const auto& [name, a] : n.attrs) {
    bool ok = false;
    for (const char* k : known) ok = ok || name == k;
    if (!ok) fail(n, "unsupported attribute '" + name + "'");
  }
}

double float_attr_as_decimal(const Node& n, const std::string& a, float def) {
  const float v = n.attr_float(a, def);
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest form that reads back as v
  return std::strtod(std::string(buf, r.ptr).c_str(), nullptr);
}

bool op_supported(const std::string& op) { return supported().count(op) != 0; }

Value constant_value(const Node& n) {
  if (n.attrs.size() != 1) fail(n, "expects exactly one attribute");
  const auto& [name, a] = *n.attrs.begin();
  if (name == "value") return *a.t;
  if (name == "value_float") return Value::floats({}, {a.f});
  if (name == "value_floats") return Value::floats({static_cast<int64_t>(a.floats.size())}, a.floats);
  if (name == "value_int") return Value::ints({}, {a.i});
  if (name == "value_ints") return Value::ints({static_cast<int64_t>(a.ints.size())}, a.ints);
  fail(n, "unsupported attribute '" + name + "'");
}

void prepare_conv(Node& n, const std::function<const Value*(const std::string&)>& constant, int64_t) {
  check_attrs(n, {"kernel_shape", "strides", "pads", "dilations", "group", "auto_pad"});
  if (n.in.size() < 2) fail(n, "missing weight");
  const Value* w = constant(n.in[1]);
  if (!w || w->type != DType::Float || w->shape.size() != 4)
    fail(n, "the weight must be a constant 4-D float tensor (2-D convolution)");
  if (n.attr_int("group", 1) != 1) fail(n, "unsupported attribute group=" + std::to_string(n.attr_int("group", 1)));
  for (int64_t d : n.attr_ints("dilations"))
    if (d != 1) fail(n, "unsupported attribute dilations (only 1)");
  const std::string ap = n.attr_str("auto_pad", "NOTSET");
  if (ap != "NOTSET" && ap != "VALID") fail(n, "unsupported attribute auto_pad=" + ap);
  const std::vector<int64_t> ks = n.attr_ints("kernel_shape");
  if (!ks.empty() && (ks.size() != 2 || ks[0] != w->shape[2] || ks[1] != w->shape[3]))
    fail(n, "kernel_shape differs from the weight's shape");
  const std::vector<int64_t> s = n.attr_ints("strides", {1, 1}), p = n.attr_ints("pads", {0, 0, 0, 0});
  if (s.size() != 2 || s[0] != s[1]) fail(n, "unsupported attribute strides (equal strides only)");
  if (p.size() != 4 || p[0] != p[1] || p[0] != p[2] || p[0] != p[3])
    fail(n, "unsupported attribute pads (the same padding on every side only)");
  n.conv_stride = s[0];
  n.conv_pad = p[0];
}

std::vector<Value> run_node(const Node& n, const std::vector<const Value*>& in, quant::Executor& ex, int64_t opset) {
  const std::string& op = n.op;
  if (n.gemm) {
    if (op == "Conv") return {run_conv(n, need(n, in, 0), ex)};
    return {run_linear(n, need(n, in, 0), ex)};
  }
  if (op == "MatMul") return {run_act_matmul(n, need(n, in, 0), need(n, in, 1), ex)};
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Pow" || op == "Equal" || op == "Greater" ||
      op == "GreaterOrEqual" || op == "Less" || op == "LessOrEqual" || op == "And" || op == "Or") {
    check_attrs(n, {});
    return {binary(n, need(n, in, 0), need(n, in, 1), ex)};
  }
  if (op == "Relu" || op == "Sqrt" || op == "Erf" || op == "Tanh" || op == "Exp" || op == "Log" || op == "Neg" ||
      op == "Sigmoid" || op == "Reciprocal" || op == "Not") {
    check_attrs(n, {});
    return {unary(n, need(n, in, 0), ex)};
  }
  if (op == "Identity" || op == "Dropout") {
    if (n.out.size() > 1 && !n.out[1].empty()) fail(n, "the mask output is not supported");
    if (op == "Dropout") {
      const Value* tm = opt(in, 2);
      if (tm && tm->numel() && tm->i[0]) fail(n, "training mode is not supported");
    }
    return {need(n, in, 0)};
  }
  if (op == "Softmax") {
    check_attrs(n, {"axis"});
    const Value& x = need_float(n, in, 0);
    return {softmax(n, x, opset, ex)};
  }
  if (op == "LayerNormalization") {
    check_attrs(n, {"axis", "epsilon", "stash_type"});
    if (n.out.size() > 1 && (!n.out[1].empty() || (n.out.size() > 2 && !n.out[2].empty())))
      fail(n, "the Mean / InvStdDev outputs are not supported");
    return {layer_norm(n, need_float(n, in, 0), opt(in, 1), opt(in, 2), ex)};
  }
  if (op == "ReduceMean") {
    check_attrs(n, {"axes", "keepdims", "noop_with_empty_axes"});
    return {reduce_mean(n, need(n, in, 0), axes_of(n, in, 1, opset, 18), ex)};
  }
  if (op == "BatchNormalization") return {batch_norm(n, in, ex)};
  if (op == "MaxPool" || op == "AveragePool") return {pool(n, need(n, in, 0), op == "MaxPool", ex)};
  if (op == "GlobalAveragePool") {
    check_attrs(n, {});
    return {global_avg_pool(n, need(n, in, 0), ex)};
  }
  if (op == "Reshape") {
    check_attrs(n, {"allowzero"});
    const Value& x = need(n, in, 0);
    std::vector<int64_t> shape = need_ints(n, in, 1);
    const bool allowzero = n.attr_int("allowzero", 0) != 0;
    int64_t known = 1, infer = -1;
    for (size_t d = 0; d < shape.size(); ++d) {
      if (shape[d] == 0 && !allowzero) {
        if (d >= x.shape.size()) fail(n, "shape copies a dimension the input lacks");
        shape[d] = x.shape[d];
      }
      if (shape[d] == -1) {
        if (infer >= 0) fail(n, "more than one -1 in the shape");
        infer = static_cast<int64_t>(d);
      } else {
        known *= shape[d];
      }
    }
    if (infer >= 0) shape[static_cast<size_t>(infer)] = known ? static_cast<int64_t>(x.numel()) / known : 0;
    if (Tensorish::numel_of(shape) != x.numel())
      fail(n, "cannot reshape " + x.shape_str() + " to " + reshaped(x, shape).shape_str());
    return {reshaped(x, shape)};
  }
  if (op == "Flatten") {
    check_attrs(n, {"axis"});
    const Value& x = need(n, in, 0);
    const int64_t r = static_cast<int64_t>(x.shape.size());
    int64_t axis = n.attr_int("axis", 1);
    if (axis < 0) axis += r;
    if (axis < 0 || axis > r) fail(n, "axis out of range");
    int64_t a = 1, b = 1;
    for (int64_t d = 0; d < r; ++d) (d < axis ? a : b) *= x.shape[d];
    return {reshaped(x, {a, b})};
  }
  if (op == "Transpose") {
    check_attrs(n, {"perm"});
    return {transpose(n, need(n, in, 0), n.attr_ints("perm"))};
  }
  if (op == "Unsqueeze" || op == "Squeeze") {
    check_attrs(n, {"axes"});
    const Value& x = need(n, in, 0);
    const std::vector<int64_t> axes = axes_of(n, in, 1, opset, 13);
    std::vector<int64_t> shape;
    if (op == "Unsqueeze") {
      const int64_t r = static_cast<int64_t>(x.shape.size() + axes.size());
      std::vector<bool> ins(static_cast<size_t>(r), false);
      for (int64_t a : axes) ins[static_cast<size_t>(norm_axis(n, a, r))] = true;
      size_t k = 0;
      for (int64_t d = 0; d < r; ++d) shape.push_back(ins[d] ? 1 : x.shape.at(k++));
    } else {
      const int64_t r = static_cast<int64_t>(x.shape.size());
      std::vector<bool> rm(static_cast<size_t>(r), axes.empty());
      for (int64_t a : axes) {
        const int64_t d = norm_axis(n, a, r);
        if (x.shape[d] != 1) fail(n, "cannot squeeze dimension " + std::to_string(d) + " of size " + std::to_string(x.shape[d]));
        rm[d] = true;
      }
      for (int64_t d = 0; d < r; ++d)
        if (!(rm[d] && x.shape[d] == 1)) shape.push_back(x.shape[d]);
    }
    return {reshaped(x, shape)};
  }
  if (op == "Concat") {
    check_attrs(n, {"axis"});
    return {concat(n, in)};
  }
  if (op == "Slice") {
    check_attrs(n, {"starts", "ends", "axes"});
    const Value& x = need(n, in, 0);
    if (opset < 10) return {slice(n, x, n.attr_ints("starts"), n.attr_ints("ends"), n.attr_ints("axes"), {})};
    return {slice(n, x, need_ints(n, in, 1), need_ints(n, in, 2), opt(in, 3) ? need_ints(n, in, 3) : std::vector<int64_t>{},
                  opt(in, 4) ? need_ints(n, in, 4) : std::vector<int64_t>{})};
  }
  if (op == "Gather") {
    check_attrs(n, {"axis"});
    return {gather(n, need(n, in, 0), need(n, in, 1))};
  }
  if (op == "Pad") {
    check_attrs(n, {"mode", "pads", "value"});
    if (n.attr_str("mode", "constant") != "constant") fail(n, "unsupported attribute mode=" + n.attr_str("mode", ""));
    const Value& x = need(n, in, 0);
    if (opset < 11) {
      Value cv = Value::floats({}, {n.attr_float("value", 0.0f)});
      return {pad(n, x, n.attr_ints("pads"), &cv)};
    }
    if (opt(in, 3)) fail(n, "the axes input is not supported");
    return {pad(n, x, need_ints(n, in, 1), opt(in, 2))};
  }
  if (op == "Shape") {
    check_attrs(n, {"start", "end"});
    const Value& x = need(n, in, 0);
    const int64_t r = static_cast<int64_t>(x.shape.size());
    int64_t s = n.attr_int("start", 0), e = n.attr_int("end", r);
    if (s < 0) s += r;
    if (e < 0) e += r;
    s = std::clamp<int64_t>(s, 0, r);
    e = std::clamp<int64_t>(e, 0, r);
    std::vector<int64_t> d(x.shape.begin() + s, x.shape.begin() + std::max(s, e));
    return {Value::ints({static_cast<int64_t>(d.size())}, d)};
  }
  if (op == "ConstantOfShape") {
    check_attrs(n, {"value"});
    const std::vector<int64_t> shape = need_ints(n, in, 0);
    for (int64_t d : shape)
      if (d < 0) fail(n, "negative dimension");
    const size_t cnt = Tensorish::numel_of(shape);
    auto it = n.attrs.find("value");
    if (it == n.attrs.end()) return {Value::floats(shape, std::vector<float>(cnt, 0.0f))};
    const Value& v = *it->second.t;
    if (v.numel() != 1) fail(n, "value must hold one element");
    if (v.type == DType::Float) return {Value::floats(shape, std::vector<float>(cnt, v.f[0]))};
    return {Value::ints(shape, std::vector<int64_t>(cnt, v.i[0]), v.type)};
  }
  if (op == "Range") {
    check_attrs(n, {});
    const Value &s = need(n, in, 0), &l = need(n, in, 1), &d = need(n, in, 2);
    if (s.numel() != 1 || l.numel() != 1 || d.numel() != 1) fail(n, "start, limit and delta must be scalars");
    if (s.type == DType::Float) {
      const float a = s.f[0], b = l.f[0], st = d.f[0];
      if (st == 0.0f) fail(n, "delta 0");
      const int64_t cnt = std::max<int64_t>(static_cast<int64_t>(std::ceil((b - a) / st)), 0);
      std::vector<float> v(static_cast<size_t>(cnt));
      for (int64_t k = 0; k < cnt; ++k) v[static_cast<size_t>(k)] = a + static_cast<float>(k) * st;
      return {Value::floats({cnt}, v)};
    }
    const int64_t a = s.i[0], b = l.i[0], st = d.i[0];
    if (st == 0) fail(n, "delta 0");
    const int64_t cnt = st > 0 ? std::max<int64_t>((b - a + st - 1) / st, 0) : std::max<int64_t>((a - b - st - 1) / -st, 0);
    std::vector<int64_t> v(static_cast<size_t>(cnt));
    for (int64_t k = 0; k < cnt; ++k) v[static_cast<size_t>(k)] = a + k * st;
    return {Value::ints({cnt}, v)};
  }
  if (op == "Expand") {
    check_attrs(n, {});
    const Value& x = need(n, in, 0);
    const std::vector<int64_t> shape = need_ints(n, in, 1);
    const Bcast bc = make_bcast(n, {&x.shape, &shape});
    Value o;
    o.type = x.type;
    o.shape.assign(bc.shape.begin(), bc.shape.end());
    const size_t cnt = Tensorish::numel_of(bc.shape);
    if (x.type == DType::Float) {
      o.f.resize(cnt);
      for_each_bcast(bc, [&](size_t k, const int64_t* off) { o.f[k] = x.f[static_cast<size_t>(off[0])]; });
    } else {
      o.i.resize(cnt);
      for_each_bcast(bc, [&](size_t k, const int64_t* off) { o.i[k] = x.i[static_cast<size_t>(off[0])]; });
    }
    return {o};
  }
  if (op == "Where") {
    check_attrs(n, {});
    const Value &c = need(n, in, 0), &x = need(n, in, 1), &y = need(n, in, 2);
    if (c.type == DType::Float) fail(n, "the condition must be boolean");
    if ((x.type == DType::Float) != (y.type == DType::Float)) fail(n, "X and Y differ in type");
    const Bcast bc = make_bcast(n, {&c.shape, &x.shape, &y.shape});
    Value o;
    o.type = x.type;
    o.shape.assign(bc.shape.begin(), bc.shape.end());
    const size_t cnt = Tensorish::numel_of(bc.shape);
    if (x.type == DType::Float) {
      o.f.resize(cnt);
      for_each_bcast(bc, [&](size_t k, const int64_t* off) { o.f[k] = c.i[off[0]] ? x.f[off[1]] : y.f[off[2]]; });
    } else {
      o.i.resize(cnt);
      for_each_bcast(bc, [&](size_t k, const int64_t* off) { o.i[k] = c.i[off[0]] ? x.i[off[1]] : y.i[off[2]]; });
    }
    return {o};
  }
  if (op == "Cast") {
    check_attrs(n, {"to", "saturate"});
    const Value& x = need(n, in, 0);
    const int64_t to = n.attr_int("to", 0);
    Value o;
    o.shape.assign(x.shape.begin(), x.shape.end());
    if (to == ::onnx::TensorProto::FLOAT) {
      o.type = DType::Float;
      if (x.type == DType::Float) o.f = x.f;
      else
        for (int64_t v : x.i) o.f.push_back(static_cast<float>(v));
      ex.round_nongemm(o.f.data(), o.f.size());
    } else if (to == ::onnx::TensorProto::INT64 || to == ::onnx::TensorProto::INT32) {
      o.type = DType::Int64;
      if (x.type != DType::Float) o.i.assign(x.i.begin(), x.i.end());
      else
        for (float v : x.f) {
          if (!(std::fabs(v) < 9.2e18f)) fail(n, "cannot cast " + std::to_string(v) + " to an integer");
          o.i.push_back(static_cast<int64_t>(v));  // truncation toward zero
        }
    } else if (to == ::onnx::TensorProto::BOOL) {
      o.type = DType::Bool;
      if (x.type == DType::Float)
        for (float v : x.f) o.i.push_back(v != 0.0f);
      else
        for (int64_t v : x.i) o.i.push_back(v != 0);
    } else {
      fail(n, "unsupported attribute to=" + std::to_string(to) + " (float, int64, int32 and bool only)");
    }
    return {o};
  }
  fail(n, "unsupported op '" + op + "'");
}

}  // namespace fp8sim::onnx_import
