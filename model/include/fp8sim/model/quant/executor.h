// Runs every GEMM of a reference network in one of four modes, so that a network's code is written once:
//   Fp32       plain float32 (the reference);
//   Calibrate  float32, and the GEMM inputs (activations) are recorded by observers;
//   FakeQuant  weights and activations go through quantize -> dequantize, the GEMM itself in float32;
//   BitExact   operands are encoded to FP8/INT8 codes and multiplied by model/'s golden GEMM with the
//              chosen accumulator (the numbers the array produces), then scaled back to float32:
//              y[m][n] = acc[m][n] * float32(s_a[m] * s_w[n]) rounded once, + bias[n] (s_a per tensor or per
//              token, s_w per tensor or per channel): model/requant.h, the post-processing unit's arithmetic.
// In the quantized modes GEMM outputs are delivered in BF16 when recipe.nongemm_bf16 (the non-GEMM operations
// that read them run in BF16), else in float32.
// In the quantized modes the non-GEMM operations the network marks with round_nongemm() are rounded to BF16
// (recipe.nongemm_bf16).
//
// GEMM names are the layer names (without ".weight"); activation-activation matmuls (attention) observe both
// operands as "<name>.a" and "<name>.b".
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fp8sim/model/gemm.h"
#include "fp8sim/model/mx.h"
#include "fp8sim/model/nn/sgemm.h"
#include "fp8sim/model/quant/quantize.h"
#include "fp8sim/model/quant/recipe.h"

namespace fp8sim::quant {

// A linear layer's parameters: weight [n][k] (PyTorch [out][in]), optional bias [n].
struct LinearParams {
  std::string name;
  int64_t n = 0, k = 0;
  std::vector<float> weight;
  std::vector<float> bias;  // empty: none
};

enum class ExecMode : uint8_t { Fp32, Calibrate, FakeQuant, BitExact };

// The non-GEMM operations of the networks, as the accelerator's vector unit executes them. A network reports
// each one through Executor::vector_op() with its shape: `rows` independent rows of `cols` elements (softmax
// and LayerNorm reduce along a row; Pool averages `rows` pixels per channel, `cols` channels).
enum class VectorOp : uint8_t { LayerNorm = 0, Softmax = 1, Gelu = 2, Add = 3, Relu = 4, Pool = 5, Tanh = 6 };
inline constexpr int kVectorOpCount = 7;
const char* vector_op_name(VectorOp op);  // "layer_norm", "softmax", "gelu", "add", "relu", "pool", "tanh"
// The tensors a network operation writes and reads, by name (simrun's timeline of the network on one
// accelerator, simrun/network.h: an operation waits for the last writers of the tensors it reads). Declared by the
// network with Executor::set_next_io() before a linear(), matmul() or vector_op(), for that call only; an
// operation without it is taken to read the result of the operation before it (a conservative chain).
struct OpIo {
  std::string out;
  std::vector<std::string> in;
};
struct VectorCall {
  VectorOp op;
  int64_t rows = 0, cols = 0;
  const OpIo* io = nullptr;  // set_next_io(), or none
};
// Where BitExact non-GEMM operations are accounted (simrun: the vector unit's cycles and energy). Their values
// are computed by the network's reference code (model/, BF16 in the quantized modes) either way.
using VectorHook = std::function<void(const VectorCall&)>;
std::string to_string(ExecMode m);

// Accumulator of the bit-exact path for FP8 (INT8 always uses Int32).
struct BitExactOptions {
  model::AccumulatorKind fp8_acc = model::AccumulatorKind::FixedPoint;
  int64_t k_chunk = 0;  // Float32 accumulation order (model::AccumulationOrder)
};

// How a GEMM's accumulator words become the float outputs the network continues with: the post-processing
// arithmetic of model/requant.h. s = float32(row_scale * col_scale) per output, y = value(word) * s rounded
// once, + bias, then BF16 (recipe.nongemm_bf16: the non-GEMM operations that read it run in BF16) or F32.
struct GemmPost {
  const float* row_scales = nullptr;  // activation scale: 1 (per tensor) or m (per token) values
  int64_t row_scale_count = 1;
  const float* col_scales = nullptr;  // weight scale: 1 (per tensor) or n (per channel) values
  int64_t col_scale_count = 1;
  const float* bias = nullptr;        // n values, or none
  uint8_t out_code = 0;               // model::OutFormat::Bf16 or F32
  // Requantization straight to the consumer's 8-bit code (Executor::set_next_consumer): set when the outputs
  // are read only by another quantized GEMM with a static per-tensor scale. The network still continues with
  // the out_code values (BF16); the consumer quantizes each of them with its scale, and that code is what an
  // accelerator's post-processing unit may deliver instead: model::requantize_via_bf16(y, consumer_code,
  // consumer_scale) (= quant::quantize_code(consumer format, round_to_bf16(y), consumer_scale)).
  bool to_consumer = false;
  uint8_t consumer_code = 0;          // model::OutFormat code: 0 INT8, out_format_code_fp8(kind)
  float consumer_scale = 1.0f;
  float scale(int64_t i, int64_t j) const;  // the combined scale of output (i, j)
};
// The host's post-processing of m x n words (what the accelerator's post-processing unit computes).
std::vector<float> postprocess_words(const model::GemmNumerics& num, const GemmPost& post, int64_t m, int64_t n,
                                     const std::vector<model::AccWord>& words);

// One bit-exact GEMM handed to a GemmBackend: A (m x k) and B (k x n) operand codes, row-major, and the
// numerics of the array that must compute it. The backend returns the m x n accumulator words and the
// AccumulationOrder it summed in (its k_chunk; the caller's BitExactOptions::k_chunk does not apply).
// A backend that runs the post-processing itself (on-chip requantization) instead fills *post_out with the
// m x n outputs `post` describes and returns no words.
// A convolution's geometry, for a GEMM whose A is the im2col matrix of an HWC input (k = (ky * kw + kx) * in_c
// + ci): lets an accelerator gather A from the input itself (implicit im2col) instead of reading the matrix.
struct GemmConv {
  int64_t in_h = 0, in_w = 0, in_c = 0, kh = 1, kw = 1, stride = 1, pad = 0;
};

// An MX GEMM's block scales (issue #13, model/mx.h), handed to the backend beside the element codes in
// GemmCall::a / b_kn: the layouts of model::golden_gemm_mx. The backend returns the m x n float32 words
// golden_gemm_mx computes with `num` (GemmCall::num then reads them: acc Float32, scales 1), or fills post_out.
struct GemmMx {
  model::MxGemmNumerics num;
  const uint8_t* a_scales = nullptr;  // m x ceil(k / block) E8M0 codes, row-major (the blocks of row i along K)
  const uint8_t* b_scales = nullptr;  // ceil(k / block) x n E8M0 codes, row-major (block kb of column j at kb*n + j)
};

struct GemmCall {
  const std::string& name;  // the layer (linear) or matmul name
  bool act_act = false;
  model::GemmNumerics num;
  int64_t m = 0, k = 0, n = 0;
  const uint8_t* a = nullptr;
  const uint8_t* b_kn = nullptr;
  GemmPost post = {};
  std::vector<float>* post_out = nullptr;
  const GemmConv* conv = nullptr;  // set when A is the im2col matrix of a convolution's input
  // Set for an MX GEMM (Executor::set_mx): a and b_kn hold element codes, these the block scales; num then
  // describes the words (float32, acc Float32) and the elements (a_kind / b_kind: the element rows), and
  // post has unit scales (the block scales are inside the words) and the bias. conv is never set for MX
  // (each im2col row is blocked along its own K: not a gather of one blocked input).
  const GemmMx* mx = nullptr;
  const OpIo* io = nullptr;  // set_next_io(), or none
};
// Where BitExact GEMMs run: unset, model::golden_gemm on the host; set (simrun), e.g. the simulated
// accelerator. It must return exactly m * n words, or none with *post_out filled.
using GemmBackend = std::function<std::vector<model::AccWord>(const GemmCall&)>;

// What the quantizer decided for one GEMM.
struct GemmQuantInfo {
  std::string name;
  bool act_act = false;          // both operands activations (attention matmul)
  Format format = Format::FP32;  // FP32: kept unquantized
  float a_scale = 1.0f;          // static input scale (act_granularity PerTensor)
  float b_scale = 1.0f;          // act_act: static scale of the second operand
  double a_amax = 0.0, b_amax = 0.0;
  uint64_t calls = 0;            // GEMM calls seen during calibration
};

// Statistics gathered by a calibration pass: the GEMMs in first-call order and the activation observers.
// Calibration runs the float32 network, so these depend on the inputs only, not on the recipe: one pass can
// serve every recipe with static activation scales (Executor::load_calibration), which gives exactly the
// scales a calibration pass of that recipe's own executor would give.
struct CalibrationData {
  struct Gemm {
    std::string name;
    bool act_act = false;
    uint64_t calls = 0;
  };
  std::vector<Gemm> gemms;
  std::map<std::string, Observer> observers;  // "<gemm>.a", "<gemm>.b"
};

class Executor {
 public:
  explicit Executor(Recipe recipe = {});
  const Recipe& recipe() const { return recipe_; }
  ExecMode mode() const { return mode_; }
  // Switching to FakeQuant/BitExact needs finish_calibration() first when activations are static.
  void set_mode(ExecMode m);
  void set_bit_exact_options(const BitExactOptions& o) { bitexact_ = o; }
  // MX (issue #13, model/mx.h): when set, every GEMM the recipe quantizes uses OCP MX blocks along K instead
  // of the recipe's format and scales: weights blocked per output row, activations per row at run time (the
  // scales are computed from the data, as hardware does; no calibration needed). FakeQuant: both operands go
  // through mx_fake_quantize, the GEMM in float32. BitExact: the element codes and block scales go to the
  // GemmBackend when one is set (GemmCall::mx), else model::golden_gemm_mx with `mx_acc` (default
  // block-fp32: exact block sums, scales as exponent adds, float32 accumulation; FixedPoint is the exact
  // (Kulisch) accumulation of rtl/mx_pe.v, rounded once to float32); then the host post-processing of the
  // float32 words (model/requant.h with unit scales): + bias, BF16 (recipe.nongemm_bf16). nullopt: back to
  // the recipe's format.
  void set_mx(std::optional<model::MxConfig> cfg, model::AccumulatorKind mx_acc = model::AccumulatorKind::BlockFp32) {
    mx_ = cfg;
    mx_acc_ = mx_acc;
    if (mx_) mx_->validate();
    weights_.clear();
    mx_weights_.clear();
  }
  model::AccumulatorKind mx_acc() const { return mx_acc_; }
  const std::optional<model::MxConfig>& mx() const { return mx_; }
  // BitExact GEMMs go to `b` instead of the host golden GEMM (empty function: back to the golden GEMM).
  void set_gemm_backend(GemmBackend b) { backend_ = std::move(b); }
  // BitExact non-GEMM operations are reported to `h` (empty: not reported).
  void set_vector_hook(VectorHook h) { vector_hook_ = std::move(h); }
  Warnings& warnings() { return warnings_; }

  // y[m][n] = x[m][k] . W^T + b. y must not alias x. input_prepared: x already went through prepare_input()
  // (then it is neither observed nor fake-quantized again).
  void linear(const LinearParams& p, const float* x, int64_t m, float* y, bool input_prepared = false);
  // For layers whose GEMM input is a rearrangement of a smaller tensor (convolution: im2col copies each value
  // up to kh*kw times and adds padding zeros): observes the original tensor in Calibrate mode, writes its
  // fake-quantized copy to *quantized in FakeQuant mode with static per-tensor scales (zero padding stays exactly zero, so
  // quantizing before or after im2col gives the same matrix). Returns true when it did either; the caller
  // then passes input_prepared = true to linear(). Per-token activations are left to linear() (returns false).
  bool prepare_input(const LinearParams& p, const float* x, size_t n, std::vector<float>* quantized);
  // The next linear() is a convolution with this geometry (its x: the im2col matrix); passed on to the backend
  // in GemmCall::conv, then forgotten.
  void set_next_conv(const GemmConv& c) { next_conv_ = c, has_next_conv_ = true; }
  // The next linear() or matmul()'s outputs are read only by GEMM `consumer` (its second operand when
  // operand_b), elementwise (any rearrangement, e.g. a split into heads): in BitExact mode with a backend, when
  // the consumer is quantized with a static per-tensor scale (not MX), GemmPost::to_consumer tells the backend
  // the consumer's code and scale. For that call only.
  void set_next_consumer(const std::string& consumer, bool operand_b) {
    next_consumer_ = consumer, next_consumer_b_ = operand_b, has_next_consumer_ = true;
  }
  // The tensors the next linear(), matmul() or vector_op() writes and reads (OpIo), for that call only.
  void set_next_io(std::string out, std::vector<std::string> in) const {
    next_io_.out = std::move(out), next_io_.in = std::move(in), has_next_io_ = true;
  }
  // y[m][n] = sum_k a[m][k] * b[n][k]  (both activations; b given [n][k], e.g. K for Q.K^T, V^T for P.V).
  void matmul(const std::string& name, const float* a, const float* b, int64_t m, int64_t k, int64_t n, float* y);
  // BF16 rounding of non-GEMM results in the quantized modes (no-op otherwise).
  void round_nongemm(float* x, size_t n) const;
  // A non-GEMM operation's result x (rows x cols values; Pool: cols values): rounded as round_nongemm() does,
  // and in BitExact mode reported to the vector hook.
  void vector_op(VectorOp op, int64_t rows, int64_t cols, float* x) const;
  bool nongemm_bf16_active() const;
  // The format quantized GEMMs deliver their outputs in: BF16 when nongemm_bf16_active(), else F32
  // (model::OutFormat code).
  uint8_t gemm_output_code() const;

  // Turns the observers into static activation scales (and warns about empty / degenerate ones).
  void finish_calibration();
  // The statistics of the Calibrate-mode calls so far (call before finish_calibration(), which drops them).
  CalibrationData calibration_data() const;
  // Instead of running calibration items: takes over statistics gathered by another executor (with any
  // recipe). Call on a fresh executor, then finish_calibration().
  void load_calibration(const CalibrationData& data);
  bool calibrated() const { return calibrated_; }

  // Per GEMM, in first-call order: the decisions, and the quantized weights (after the first quantized call).
  const std::vector<std::string>& gemm_order() const { return order_; }
  const GemmQuantInfo& info(const std::string& name) const;
  const QTensor* quantized_weight(const std::string& name) const;
  // Quantizes a layer's weight now (as the first quantized call would) and returns it.
  const QTensor& prepare_weight(const LinearParams& p);
  // Number of GEMMs run through the golden GEMM and the multiply-accumulates they did.
  uint64_t golden_gemm_calls() const { return golden_calls_; }
  uint64_t golden_macs() const { return golden_macs_; }
  // Multiply-accumulates of every linear() and matmul() call so far, in any mode.
  uint64_t gemm_macs() const { return gemm_macs_; }
  uint64_t gemm_calls() const { return gemm_calls_; }
  // BitExact GEMMs handed to the backend (set_gemm_backend) and their outputs (sum of m x n), counted where
  // linear() and matmul() decide to run a quantized GEMM, apart from whatever the backend does: what a
  // verifying backend must have checked (simrun's verification totals).
  uint64_t backend_gemm_calls() const { return backend_calls_; }
  uint64_t backend_gemm_outputs() const { return backend_outputs_; }

 private:
  GemmConv next_conv_;
  bool has_next_conv_ = false;
  std::string next_consumer_;
  bool next_consumer_b_ = false, has_next_consumer_ = false;
  mutable OpIo next_io_;  // (vector_op() is const: it only reports)
  mutable bool has_next_io_ = false;
  // Fills post's to_consumer fields from the pending set_next_consumer() (BitExact with a backend only).
  void set_consumer(GemmPost& post) const;
  struct WeightCache {
    QTensor q;
    nn::PackedB deq;                // FakeQuant: dequantized weight, packed for nn::sgemm_nt_packed
    std::vector<uint8_t> codes_kn;  // BitExact: codes transposed to [k][n]
  };
  GemmQuantInfo& info_mut(const std::string& name, bool act_act);
  WeightCache& weight_cache(const LinearParams& p, Format f);
  void quantize_act(Format f, const std::string& tensor, const float* x, int64_t rows, int64_t cols,
                    float static_scale, std::vector<float>* deq, std::vector<uint8_t>* codes,
                    std::vector<float>* row_scales);
  void run_golden(const std::string& name, bool act_act, Format f, int64_t m, int64_t k, int64_t n, const uint8_t* a_codes, const std::vector<float>& a_scales,
                  const uint8_t* b_kn, const std::vector<float>& b_scales, const float* bias, float* y);

  Recipe recipe_;
  ExecMode mode_ = ExecMode::Fp32;
  BitExactOptions bitexact_;
  GemmBackend backend_;
  std::optional<model::MxConfig> mx_;
  model::AccumulatorKind mx_acc_ = model::AccumulatorKind::BlockFp32;
  // MX GEMM y[m][n] = A[m][k] . W[n][k]^T (+ bias) per mx_ (FakeQuant or BitExact). act_act: W is an
  // activation (attention); else a layer's weight, whose blocks are cached per name.
  void mx_gemm(const std::string& name, bool act_act, const float* a, const float* w, int64_t m, int64_t k, int64_t n,
               const float* bias, float* y);
  struct MxWeight {
    const float* src = nullptr;
    int64_t n = 0, k = 0;
    std::vector<uint8_t> codes_kn, scales_kn;  // B = W^T: K x N codes, ceil(K/B) x N scales
  };
  std::map<std::string, MxWeight> mx_weights_;
  VectorHook vector_hook_;
  Warnings warnings_;
  bool calibrated_ = false;
  std::vector<std::string> order_;
  std::map<std::string, GemmQuantInfo> info_;
  std::map<std::string, Observer> observers_;
  std::map<std::string, WeightCache> weights_;
  // FP32 / Calibrate: each layer's weight packed once (packing B costs about as much as a BERT-sized product).
  // Keyed by layer name like weights_, and re-packed if the layer's weight storage changes.
  struct PackedFp32 {
    const float* src = nullptr;
    nn::PackedB packed;
  };
  std::map<std::string, PackedFp32> packed_fp32_;
  uint64_t golden_calls_ = 0, golden_macs_ = 0, gemm_macs_ = 0, gemm_calls_ = 0;
  uint64_t backend_calls_ = 0, backend_outputs_ = 0;
};

}  // namespace fp8sim::quant
