// Internals of the ONNX importer shared by model.cpp and ops.cpp.
#pragma once

#include <filesystem>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fp8sim/model/nn/layers.h"
#include "fp8sim/onnx/model.h"

namespace onnx {
class TensorProto;
}

namespace fp8sim::onnx_import {

struct Tensorish {
  static size_t numel_of(const std::vector<int64_t>& s) {
    size_t n = 1;
    for (int64_t d : s) n *= static_cast<size_t>(d);
    return n;
  }
};

struct Attr {
  int type = 0;  // onnx::AttributeProto::AttributeType
  int64_t i = 0;
  float f = 0;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<float> floats;
  std::shared_ptr<Value> t;
};

// A GEMM layer with a constant weight: a convolution (BatchNorm folded) or a linear layer.
struct GemmLayer {
  bool is_conv = false;
  nn::Conv2d conv;
  quant::LinearParams linear;
};

struct Node {
  std::string op, name;
  std::vector<std::string> in, out;  // "" for an absent optional input/output
  std::map<std::string, Attr> attrs;
  bool skip = false;                 // folded into another node
  GemmLayer* gemm = nullptr;         // Conv / MatMul / Gemm with a constant weight (inputs 1.. are folded in)
  std::string mm_name;               // activation-activation MatMul: its GEMM name
  int64_t conv_stride = 1, conv_pad = 0;

  bool has(const std::string& a) const { return attrs.count(a) != 0; }
  int64_t attr_int(const std::string& a, int64_t def) const {
    auto it = attrs.find(a);
    return it == attrs.end() ? def : it->second.i;
  }
  float attr_float(const std::string& a, float def) const {
    auto it = attrs.find(a);
    return it == attrs.end() ? def : it->second.f;
  }
  std::string attr_str(const std::string& a, const std::string& def) const {
    auto it = attrs.find(a);
    return it == attrs.end() ? def : it->second.s;
  }
  std::vector<int64_t> attr_ints(const std::string& a, std::vector<int64_t> def = {}) const {
    auto it = attrs.find(a);
    return it == attrs.end() ? def : it->second.ints;
  }
};

// Throws OnnxError naming the node and the first attribute not in `known`.
void check_attrs(const Node& n, std::initializer_list<const char*> known);
// A float attribute as the double its shortest decimal form denotes (ONNX stores epsilon = 1e-5 as the float
// nearest 1e-5; the exporter's value was the decimal 1e-5, which is what PyTorch and the built-in networks use).
double float_attr_as_decimal(const Node& n, const std::string& a, float def);
Value tensor_to_value(const ::onnx::TensorProto& t, const std::filesystem::path& dir, const std::string& what);
Value constant_value(const Node& n);  // a Constant node's value
bool op_supported(const std::string& op);
// Checks a Conv's attributes and weight (constant 4-D, group 1, dilation 1, equal strides, equal pads) and
// sets conv_stride / conv_pad. Throws OnnxError.
void prepare_conv(Node& n, const std::function<const Value*(const std::string&)>& constant, int64_t opset);
std::vector<Value> run_node(const Node& n, const std::vector<const Value*>& in, quant::Executor& ex, int64_t opset);

}  // namespace fp8sim::onnx_import
