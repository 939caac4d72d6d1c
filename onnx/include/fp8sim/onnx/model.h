// ONNX import: reads an ONNX model (the protobuf through Debian's libonnx-dev generated classes and
// libprotobuf; initializers inline or in external-data files) and executes its graph on the host, with every
// GEMM (MatMul, Gemm, Conv) going through a quant::Executor, so the same graph runs in FP32, calibrates,
// fake-quantizes or runs bit-exact with its GEMMs on the simulated accelerator (Executor::set_gemm_backend),
// exactly like the hand-written reference networks of model/nn.
//
// GEMMs:
//   * MatMul whose second operand is a constant 2-D [K][N] tensor, Gemm with a constant B, and Conv are
//     linear layers (weights quantized per tensor or per output channel); a following Add of a constant
//     [N] bias (MatMul + Add, as PyTorch exports nn.Linear) is folded into the layer's bias, and a
//     BatchNormalization right after a Conv is folded into the convolution (nn::fold_batchnorm), as the
//     built-in ResNets do. Conv runs as im2col + GEMM (nn::conv2d), weight columns in (ky, kx, ci) order.
//   * MatMul of two activations (attention Q.K^T, P.V) is an activation-activation matmul, one GEMM per
//     batch/head matrix, all under the node's name.
//   * GEMM names: the weight initializer's name without ".weight" when it has that suffix (PyTorch parameter
//     names: "layer1.0.conv1", the built-in ResNet's names), else the node's name (else its first output).
// Every other op runs on the host in float32. The results of Relu, pooling and arithmetic ops go through
// Executor::vector_op (BF16 in the quantized modes, recipe.nongemm_bf16; the vector unit's accounting in a
// simulated run) as rows x cols (NCHW: N*H*W rows of C channels, as the built-in networks' pixels x channels;
// else rows of the last dimension; pooling and ReduceMean: pixels per output x outputs), under the kinds
// Relu; Add (Add, Sub, Mul, Div, Pow, Sqrt, Reciprocal, unfolded BatchNormalization, costed as element-wise
// adds); Gelu (Erf); Tanh (Tanh, Exp, Log, Sigmoid); Softmax; LayerNorm (LayerNormalization); Pool
// (AveragePool, GlobalAveragePool, ReduceMean, MaxPool). A Cast to float is rounded without being reported;
// data movement and selections (Where, Reshape, Transpose, Slice, Pad, Gather, Concat, Neg...) keep their
// input's values.
// Shape computations (Shape, Gather, Concat, Range, ... on int64 tensors) are evaluated at run time.
// An op or attribute outside what is implemented is an OnnxError naming the node and the op.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "fp8sim/model/quant/executor.h"

namespace fp8sim::onnx_import {

// One-line errors: unreadable/invalid files, unsupported ops or attributes, bad inputs.
struct OnnxError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class DType : uint8_t { Float, Int64, Bool };
std::string to_string(DType t);

// A tensor value: float data in f (Float), integer / boolean (0, 1) data in i (Int64, Bool).
struct Value {
  DType type = DType::Float;
  std::vector<int64_t> shape;
  std::vector<float> f;
  std::vector<int64_t> i;
  size_t numel() const;
  std::string shape_str() const;
  static Value floats(std::vector<int64_t> shape, std::vector<float> data);
  static Value ints(std::vector<int64_t> shape, std::vector<int64_t> data, DType t = DType::Int64);
};

// A graph input: its name, element type and shape (-1: a dynamic dimension, dim_names[i] its symbol).
struct InputInfo {
  std::string name;
  DType type = DType::Float;
  std::vector<int64_t> shape;
  std::vector<std::string> dim_names;
};

class Model {
 public:
  // Reads the file (external-data files are looked up relative to its folder). Throws OnnxError.
  static Model load(const std::string& path);
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  ~Model();

  const std::string& path() const;
  const std::vector<InputInfo>& inputs() const;   // graph inputs that are not initializers
  const std::vector<std::string>& outputs() const;
  int64_t opset() const;                          // the default domain's opset version
  // Op type -> number of nodes in the file (before folding).
  const std::map<std::string, int>& op_counts() const;
  // Every GEMM layer with a constant weight (Conv with any BatchNorm folded, MatMul/Gemm with their bias).
  std::vector<const quant::LinearParams*> gemm_layers() const;
  // For an int64 input read by a Gather on a constant table (token ids): the table's size along the
  // gathered axis, the exclusive upper bound of valid values. 0 when there is none.
  int64_t index_bound(const std::string& input) const;

  // Runs the graph on `inputs` (in the order of inputs()), returns the graph outputs in order. Thread-safe
  // for concurrent calls with different executors. Throws OnnxError (naming the node) on shape or type
  // errors.
  std::vector<Value> run(quant::Executor& ex, const std::vector<Value>& inputs) const;

 private:
  Model();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Parses "1x3x32x32" (or "1,3,32,32") into dims; throws OnnxError on anything else.
std::vector<int64_t> parse_shape(const std::string& s);

}  // namespace fp8sim::onnx_import
