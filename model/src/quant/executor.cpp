#pragma GCC optimize("fp-contract=off")  // the same bits with or without FMA hardware
#include "fp8sim/model/quant/executor.h"

#include "fp8sim/model/requant.h"

#include <cmath>
#include <optional>
#include <stdexcept>

#include "fp8sim/model/bf16.h"
#include "fp8sim/model/nn/sgemm.h"

namespace fp8sim::quant {

std::string to_string(ExecMode m) {
  switch (m) {
    case ExecMode::Fp32: return "fp32";
    case ExecMode::Calibrate: return "calibrate";
    case ExecMode::FakeQuant: return "fake-quant";
    case ExecMode::BitExact: return "bit-exact";
  }
  return "?";
}

Executor::Executor(Recipe recipe) : recipe_(std::move(recipe)) { recipe_.validate(); }

void Executor::set_mode(ExecMode m) {
  if (!mx_ && (m == ExecMode::FakeQuant || m == ExecMode::BitExact) && recipe_.act_granularity == Granularity::PerTensor &&
      !calibrated_)
    throw std::logic_error("Executor: static activation scales need a calibration pass (Calibrate mode, then "
                           "finish_calibration()) before " + to_string(m));
  mode_ = m;
}

bool Executor::nongemm_bf16_active() const {
  return recipe_.nongemm_bf16 && (mode_ == ExecMode::FakeQuant || mode_ == ExecMode::BitExact);
}

const char* vector_op_name(VectorOp op) {
  static const char* const names[kVectorOpCount] = {"layer_norm", "softmax", "gelu", "add", "relu", "pool", "tanh"};
  const auto i = static_cast<unsigned>(op);
  return i < static_cast<unsigned>(kVectorOpCount) ? names[i] : "?";
}

void Executor::vector_op(VectorOp op, int64_t rows, int64_t cols, float* x) const {
  const bool io = has_next_io_;
  has_next_io_ = false;  // for this call only
  round_nongemm(x, static_cast<size_t>(op == VectorOp::Pool ? cols : rows * cols));
  if (mode_ == ExecMode::BitExact && vector_hook_) vector_hook_(VectorCall{op, rows, cols, io ? &next_io_ : nullptr});
}

void Executor::set_consumer(GemmPost& post) const {
  if (!has_next_consumer_ || mode_ != ExecMode::BitExact || !backend_ || mx_ ||
      recipe_.act_granularity != Granularity::PerTensor || post.out_code != static_cast<uint8_t>(model::OutFormat::Bf16))
    return;
  const auto it = info_.find(next_consumer_);
  if (it == info_.end() || it->second.format == Format::FP32 || (next_consumer_b_ && !it->second.act_act)) return;
  const GemmQuantInfo& c = it->second;
  post.to_consumer = true;
  post.consumer_code = c.format == Format::INT8 ? uint8_t{0}
                       : model::out_format_code_fp8(c.format == Format::E4M3 ? model::Fp8Kind::E4M3 : model::Fp8Kind::E5M2);
  post.consumer_scale = next_consumer_b_ ? c.b_scale : c.a_scale;
}

uint8_t Executor::gemm_output_code() const {
  return static_cast<uint8_t>(nongemm_bf16_active() ? model::OutFormat::Bf16 : model::OutFormat::F32);
}

float GemmPost::scale(int64_t i, int64_t j) const {
  return model::combined_scale(row_scales[row_scale_count == 1 ? 0 : i], col_scales[col_scale_count == 1 ? 0 : j]);
}

namespace {
// Runs one GEMM on the backend: true when it ran the post-processing itself (its m * n outputs copied to y);
// false when it returned the m * n accumulator words in *words. Anything else is the backend's bug.
bool run_on_backend(const GemmBackend& backend, const GemmCall& call, float* y, std::vector<model::AccWord>* words,
                    const char* what) {
  const int64_t mn = call.m * call.n;
  *words = backend(call);
  if (words->empty() && static_cast<int64_t>(call.post_out->size()) == mn) {
    std::copy(call.post_out->begin(), call.post_out->end(), y);
    return true;
  }
  if (static_cast<int64_t>(words->size()) != mn)
    throw std::logic_error("Executor: the GEMM backend returned " + std::to_string(words->size()) + " words and " +
                           std::to_string(call.post_out->size()) + " outputs for " + what + "'" + call.name +
                           "', expected " + std::to_string(mn));
  return false;
}
}  // namespace

std::vector<float> postprocess_words(const model::GemmNumerics& num, const GemmPost& post, int64_t m, int64_t n,
                                     const std::vector<model::AccWord>& words) {
  std::vector<float> y(static_cast<size_t>(m * n));
  const bool bf16 = post.out_code == static_cast<uint8_t>(model::OutFormat::Bf16);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      const float v = model::dequantize_word_bias(num, words[static_cast<size_t>(i * n + j)], post.scale(i, j),
                                                  post.bias ? post.bias[j] : 0.0f, post.bias != nullptr);
      y[static_cast<size_t>(i * n + j)] = bf16 ? model::round_to_bf16(v) : v;
    }
  return y;
}

void Executor::round_nongemm(float* x, size_t n) const {
  if (!nongemm_bf16_active()) return;
  for (size_t i = 0; i < n; ++i) x[i] = model::round_to_bf16(x[i]);
}

GemmQuantInfo& Executor::info_mut(const std::string& name, bool act_act) {
  auto it = info_.find(name);
  if (it == info_.end()) {
    GemmQuantInfo gi;
    gi.name = name;
    gi.act_act = act_act;
    gi.format = (act_act && !recipe_.quantize_attention_matmuls) ? Format::FP32 : recipe_.format_for(name);
    order_.push_back(name);
    it = info_.emplace(name, gi).first;
  } else if (it->second.act_act != act_act) {
    throw std::logic_error("Executor: GEMM '" + name + "' used both as linear and as activation matmul");
  }
  return it->second;
}

const GemmQuantInfo& Executor::info(const std::string& name) const {
  auto it = info_.find(name);
  if (it == info_.end()) throw std::out_of_range("Executor: no GEMM named '" + name + "'");
  return it->second;
}

const QTensor* Executor::quantized_weight(const std::string& name) const {
  auto it = weights_.find(name);
  return it == weights_.end() ? nullptr : &it->second.q;
}

Executor::WeightCache& Executor::weight_cache(const LinearParams& p, Format f) {
  auto it = weights_.find(p.name);
  if (it != weights_.end()) return it->second;
  if (static_cast<int64_t>(p.weight.size()) != p.n * p.k)
    throw std::invalid_argument("Executor: weight '" + p.name + "' has " + std::to_string(p.weight.size()) +
                                " values, expected " + std::to_string(p.n * p.k));
  WeightCache wc;
  wc.q = quantize_weight(p.name + ".weight", p.weight.data(), p.n, p.k, f, recipe_.weight_granularity,
                         recipe_.weight_calibration, recipe_.percentile, &warnings_);
  return weights_.emplace(p.name, std::move(wc)).first->second;
}

const QTensor& Executor::prepare_weight(const LinearParams& p) {
  const Format f = info_mut(p.name, false).format;
  if (f == Format::FP32) throw std::logic_error("Executor: layer '" + p.name + "' is kept in fp32");
  return weight_cache(p, f).q;
}

void Executor::quantize_act(Format f, const std::string& tensor, const float* x, int64_t rows, int64_t cols,
                            float static_scale, std::vector<float>* deq, std::vector<uint8_t>* codes,
                            std::vector<float>* row_scales) {
  const size_t n = static_cast<size_t>(rows * cols);
  if (deq) deq->resize(n);
  if (codes) codes->resize(n);
  if (recipe_.act_granularity == Granularity::PerToken) {
    row_scales->resize(static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * cols;
      const double amax = finite_amax(xr, static_cast<size_t>(cols));
      // A zero row (padding, ReLU-dead patch) is legitimate at run time: scale 1 without a warning.
      const float s = amax > 0.0 ? scale_from_amax(f, amax, tensor + "[row " + std::to_string(r) + "]", &warnings_)
                                 : 1.0f;
      (*row_scales)[static_cast<size_t>(r)] = s;
      if (deq) fake_quant_array(f, xr, deq->data() + r * cols, static_cast<size_t>(cols), s);
      if (codes) quantize_codes(f, xr, codes->data() + r * cols, static_cast<size_t>(cols), s);
    }
  } else {
    row_scales->assign(1, static_scale);
    if (deq) fake_quant_array(f, x, deq->data(), n, static_scale);
    if (codes) quantize_codes(f, x, codes->data(), n, static_scale);
  }
}

void Executor::run_golden(const std::string& name, bool act_act, Format f, int64_t m, int64_t k, int64_t n, const uint8_t* a_codes,
                          const std::vector<float>& a_scales, const uint8_t* b_kn, const std::vector<float>& b_scales,
                          const float* bias, float* y) {
  model::GemmNumerics num;
  if (f == Format::INT8) {
    num.int8 = true;
    num.acc = model::AccumulatorKind::Int32;
  } else {
    num.a_kind = num.b_kind = f == Format::E4M3 ? model::Fp8Kind::E4M3 : model::Fp8Kind::E5M2;
    num.acc = bitexact_.fp8_acc;
  }
  model::AccumulationOrder order;
  order.k_chunk = bitexact_.k_chunk;
  std::vector<model::AccWord> words;
  ++golden_calls_;
  golden_macs_ += static_cast<uint64_t>(m * k * n);
  GemmPost post;
  post.row_scales = a_scales.data();
  post.row_scale_count = static_cast<int64_t>(a_scales.size());
  post.col_scales = b_scales.data();
  post.col_scale_count = static_cast<int64_t>(b_scales.size());
  post.bias = bias;
  post.out_code = gemm_output_code();
  set_consumer(post);
  std::vector<float> out;
  if (backend_) {
    GemmCall call{name, act_act, num, m, k, n, a_codes, b_kn, post, &out};
    if (has_next_conv_ && !act_act) call.conv = &next_conv_;
    if (has_next_io_) call.io = &next_io_;
    if (run_on_backend(backend_, call, y, &words, "")) return;
  } else {
    words = model::golden_gemm(num, order, m, k, n, a_codes, b_kn);
  }
  out = postprocess_words(num, post, m, n, words);
  std::copy(out.begin(), out.end(), y);
}

bool Executor::prepare_input(const LinearParams& p, const float* x, size_t n, std::vector<float>* quantized) {
  GemmQuantInfo& gi = info_mut(p.name, false);
  if (mode_ == ExecMode::Calibrate) {
    ++gi.calls;
    observers_[p.name + ".a"].observe(x, n);
    return true;
  }
  if (mode_ == ExecMode::FakeQuant && gi.format != Format::FP32 && recipe_.act_granularity == Granularity::PerTensor) {
    quantized->resize(n);
    fake_quant_array(gi.format, x, quantized->data(), n, gi.a_scale);
    return true;
  }
  return false;
}

void Executor::linear(const LinearParams& p, const float* x, int64_t m, float* y, bool input_prepared) {
  struct ForgetConv {  // set_next_conv(), set_next_consumer() and set_next_io() hold for this call only
    bool &f, &g, &h;
    ~ForgetConv() { f = g = h = false; }
  } forget{has_next_conv_, has_next_consumer_, has_next_io_};
  GemmQuantInfo& gi = info_mut(p.name, false);
  const float* bias = p.bias.empty() ? nullptr : p.bias.data();
  if (!p.bias.empty() && static_cast<int64_t>(p.bias.size()) != p.n)
    throw std::invalid_argument("Executor: bias of '" + p.name + "' has the wrong size");
  const Format f = gi.format;
  ++gemm_calls_;
  gemm_macs_ += static_cast<uint64_t>(m) * static_cast<uint64_t>(p.k) * static_cast<uint64_t>(p.n);
  if (mode_ == ExecMode::Calibrate && !input_prepared) {
    ++gi.calls;
    observers_[p.name + ".a"].observe(x, static_cast<size_t>(m * p.k));
  }
  if (mode_ == ExecMode::Fp32 || mode_ == ExecMode::Calibrate || f == Format::FP32) {
    if (static_cast<int64_t>(p.weight.size()) != p.n * p.k)
      throw std::invalid_argument("Executor: weight '" + p.name + "' has the wrong size");
    PackedFp32& pf = packed_fp32_[p.name];
    if (pf.src != p.weight.data() || pf.packed.n != p.n || pf.packed.k != p.k) {
      pf.packed = nn::pack_b(p.n, p.k, p.weight.data(), p.k);
      pf.src = p.weight.data();
    }
    nn::sgemm_nt_packed(m, x, p.k, pf.packed, y, p.n, bias);
    return;
  }
  if (mx_) {
    if (static_cast<int64_t>(p.weight.size()) != p.n * p.k)
      throw std::invalid_argument("Executor: weight '" + p.name + "' has the wrong size");
    mx_gemm(p.name, false, x, p.weight.data(), m, p.k, p.n, bias, y);
    return;
  }
  WeightCache& wc = weight_cache(p, f);
  std::vector<float> row_scales;
  if (mode_ == ExecMode::FakeQuant) {
    if (wc.deq.data.empty()) {
      const std::vector<float> deq = dequantize(wc.q);
      wc.deq = nn::pack_b(p.n, p.k, deq.data(), p.k);
    }
    if (input_prepared) {
      nn::sgemm_nt_packed(m, x, p.k, wc.deq, y, p.n, bias);
    } else {
      std::vector<float> xq;
      quantize_act(f, p.name + ".input", x, m, p.k, gi.a_scale, &xq, nullptr, &row_scales);
      nn::sgemm_nt_packed(m, xq.data(), p.k, wc.deq, y, p.n, bias);
    }
    round_nongemm(y, static_cast<size_t>(m * p.n));  // delivered in BF16 as the bit-exact path does
    return;
  }
  // BitExact
  if (wc.codes_kn.empty()) {
    wc.codes_kn.resize(wc.q.codes.size());
    for (int64_t j = 0; j < p.n; ++j)
      for (int64_t kk = 0; kk < p.k; ++kk) wc.codes_kn[kk * p.n + j] = wc.q.codes[j * p.k + kk];
  }
  if (backend_) ++backend_calls_, backend_outputs_ += static_cast<uint64_t>(m) * static_cast<uint64_t>(p.n);
  std::vector<uint8_t> codes;
  quantize_act(f, p.name + ".input", x, m, p.k, gi.a_scale, nullptr, &codes, &row_scales);
  run_golden(p.name, false, f, m, p.k, p.n, codes.data(), row_scales, wc.codes_kn.data(), wc.q.scales, bias, y);
}

void Executor::matmul(const std::string& name, const float* a, const float* b, int64_t m, int64_t k, int64_t n,
                      float* y) {
  struct Forget {  // set_next_consumer() and set_next_io() hold for this call only
    bool &g, &h;
    ~Forget() { g = h = false; }
  } forget{has_next_consumer_, has_next_io_};
  GemmQuantInfo& gi = info_mut(name, true);
  const Format f = gi.format;
  ++gemm_calls_;
  gemm_macs_ += static_cast<uint64_t>(m) * static_cast<uint64_t>(k) * static_cast<uint64_t>(n);
  if (mode_ == ExecMode::Calibrate) {
    ++gi.calls;
    observers_[name + ".a"].observe(a, static_cast<size_t>(m * k));
    observers_[name + ".b"].observe(b, static_cast<size_t>(n * k));
  }
  if (mode_ == ExecMode::Fp32 || mode_ == ExecMode::Calibrate || f == Format::FP32) {
    nn::sgemm_nt(m, n, k, a, k, b, k, y, n);
    return;
  }
  if (mx_) {
    mx_gemm(name, true, a, b, m, k, n, nullptr, y);
    return;
  }
  std::vector<float> sa, sb;
  if (mode_ == ExecMode::FakeQuant) {
    std::vector<float> aq, bq;
    quantize_act(f, name + ".a", a, m, k, gi.a_scale, &aq, nullptr, &sa);
    quantize_act(f, name + ".b", b, n, k, gi.b_scale, &bq, nullptr, &sb);
    nn::sgemm_nt(m, n, k, aq.data(), k, bq.data(), k, y, n);
    round_nongemm(y, static_cast<size_t>(m * n));  // delivered in BF16 as the bit-exact path does
    return;
  }
  if (backend_) ++backend_calls_, backend_outputs_ += static_cast<uint64_t>(m) * static_cast<uint64_t>(n);
  std::vector<uint8_t> ac, bc;
  quantize_act(f, name + ".a", a, m, k, gi.a_scale, nullptr, &ac, &sa);
  quantize_act(f, name + ".b", b, n, k, gi.b_scale, nullptr, &bc, &sb);
  std::vector<uint8_t> b_kn(bc.size());
  for (int64_t j = 0; j < n; ++j)
    for (int64_t kk = 0; kk < k; ++kk) b_kn[kk * n + j] = bc[j * k + kk];
  run_golden(name, true, f, m, k, n, ac.data(), sa, b_kn.data(), sb, nullptr, y);
}

void Executor::mx_gemm(const std::string& name, bool act_act, const float* a, const float* w, int64_t m, int64_t k,
                       int64_t n, const float* bias, float* y) {
  const model::MxConfig& cfg = *mx_;
  if (mode_ == ExecMode::FakeQuant) {
    std::vector<float> aq(static_cast<size_t>(m * k)), wq(static_cast<size_t>(n * k));
    for (int64_t i = 0; i < m; ++i) model::mx_fake_quantize(cfg, a + i * k, static_cast<size_t>(k), aq.data() + i * k);
    for (int64_t j = 0; j < n; ++j) model::mx_fake_quantize(cfg, w + j * k, static_cast<size_t>(k), wq.data() + j * k);
    nn::sgemm_nt(m, n, k, aq.data(), k, wq.data(), k, y, n);
    if (bias)
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) y[i * n + j] += bias[j];
    round_nongemm(y, static_cast<size_t>(m * n));
    return;
  }
  // BitExact: element codes and scales per row along K (activations at run time, from the data), B = W^T
  // (column j of B is row j of W), in golden_gemm_mx's layouts.
  const int64_t nb = (k + cfg.block_size - 1) / cfg.block_size;
  const auto block_w = [&](MxWeight& mw) {
    std::vector<uint8_t> wc(static_cast<size_t>(n * k)), ws(static_cast<size_t>(n * nb));
    for (int64_t j = 0; j < n; ++j)
      model::mx_quantize(cfg, w + j * k, static_cast<size_t>(k), wc.data() + j * k, ws.data() + j * nb);
    mw.src = w, mw.n = n, mw.k = k;
    mw.codes_kn.assign(static_cast<size_t>(k * n), 0);
    mw.scales_kn.assign(static_cast<size_t>(nb * n), 0);
    for (int64_t j = 0; j < n; ++j) {
      for (int64_t kk = 0; kk < k; ++kk) mw.codes_kn[static_cast<size_t>(kk * n + j)] = wc[static_cast<size_t>(j * k + kk)];
      for (int64_t kb = 0; kb < nb; ++kb) mw.scales_kn[static_cast<size_t>(kb * n + j)] = ws[static_cast<size_t>(j * nb + kb)];
    }
  };
  MxWeight act_b;
  MxWeight* bw = &act_b;
  if (act_act) {
    block_w(act_b);
  } else {
    bw = &mx_weights_[name];  // a layer's weight: blocked once (re-blocked if its storage changes)
    if (bw->src != w || bw->n != n || bw->k != k) block_w(*bw);
  }
  std::vector<uint8_t> ac(static_cast<size_t>(m * k)), as(static_cast<size_t>(m * nb));
  for (int64_t i = 0; i < m; ++i)
    model::mx_quantize(cfg, a + i * k, static_cast<size_t>(k), ac.data() + i * k, as.data() + i * nb);
  GemmMx gm;
  gm.num.a_kind = gm.num.b_kind = cfg.kind;
  gm.num.block_size = cfg.block_size;
  gm.num.acc = mx_acc_;
  gm.a_scales = as.data();
  gm.b_scales = bw->scales_kn.data();
  // The words are float32 bit patterns: read as float32 words (model/requant.h), scaled by 1 (the block
  // scales are inside them), + bias, then BF16 / F32 as every quantized GEMM's outputs.
  model::GemmNumerics word_num;
  word_num.a_kind = word_num.b_kind = cfg.format().element;
  word_num.acc = model::AccumulatorKind::Float32;
  static const float kOne = 1.0f;
  GemmPost post;
  post.row_scales = post.col_scales = &kOne;
  post.bias = bias;
  post.out_code = gemm_output_code();
  ++golden_calls_;
  golden_macs_ += static_cast<uint64_t>(m * k * n);
  std::vector<model::AccWord> words;
  std::vector<float> out;
  if (backend_) {
    ++backend_calls_, backend_outputs_ += static_cast<uint64_t>(m) * static_cast<uint64_t>(n);
    GemmCall call{name, act_act, word_num, m, k, n, ac.data(), bw->codes_kn.data(), post, &out};
    call.mx = &gm;
    if (has_next_io_) call.io = &next_io_;
    if (run_on_backend(backend_, call, y, &words, "MX GEMM ")) return;
  } else {
    words = model::golden_gemm_mx(gm.num, {}, m, k, n, ac.data(), as.data(), bw->codes_kn.data(), bw->scales_kn.data());
  }
  out = postprocess_words(word_num, post, m, n, words);
  std::copy(out.begin(), out.end(), y);
}

CalibrationData Executor::calibration_data() const {
  if (calibrated_) throw std::logic_error("Executor: calibration_data() after finish_calibration()");
  CalibrationData d;
  for (const std::string& name : order_) {
    const GemmQuantInfo& gi = info_.at(name);
    d.gemms.push_back({name, gi.act_act, gi.calls});
  }
  d.observers = observers_;
  return d;
}

void Executor::load_calibration(const CalibrationData& data) {
  if (calibrated_ || !order_.empty())
    throw std::logic_error("Executor: load_calibration() needs a fresh executor");
  for (const CalibrationData::Gemm& g : data.gemms) info_mut(g.name, g.act_act).calls = g.calls;
  observers_ = data.observers;
}

void Executor::finish_calibration() {
  for (const std::string& name : order_) {
    GemmQuantInfo& gi = info_.at(name);
    if (gi.format == Format::FP32) continue;
    auto scale_of = [&](const std::string& key, double* amax_out) {
      auto it = observers_.find(key);
      if (it == observers_.end() || it->second.count() == 0) {
        warnings_.warn("activation '" + key + "' was never observed during calibration");
        *amax_out = 0.0;
        return scale_from_amax(gi.format, 0.0, key, nullptr);
      }
      const Observer& o = it->second;
      if (o.nonfinite())
        warnings_.warn("activation '" + key + "' had " + std::to_string(o.nonfinite()) +
                       " non-finite values during calibration (ignored for the scale)");
      *amax_out = o.calibrated_amax(recipe_.act_calibration, gi.format, recipe_.percentile);
      return scale_from_amax(gi.format, *amax_out, key, &warnings_);
    };
    gi.a_scale = scale_of(name + ".a", &gi.a_amax);
    if (gi.act_act) gi.b_scale = scale_of(name + ".b", &gi.b_amax);
  }
  observers_.clear();
  calibrated_ = true;
}

}  // namespace fp8sim::quant
