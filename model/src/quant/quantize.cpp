#pragma GCC optimize("fp-contract=off")  // the same bits with or without FMA hardware
#include "fp8sim/model/quant/quantize.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <limits>
#include <stdexcept>

#include "fp8sim/model/format.h"
#include "fp8sim/model/fp8.h"
#include "fp8sim/model/int8.h"
#include "../fp8_fast.h"

namespace fp8sim::quant {

void Warnings::warn(const std::string& msg) {
  messages.push_back(msg);
  if (!quiet) std::cerr << "warning: " << msg << "\n";
}

namespace {
const model::Fp8Format& fp8_of(Format f) {
  return model::fp8_format(f == Format::E4M3 ? model::Fp8Kind::E4M3 : model::Fp8Kind::E5M2);
}
}  // namespace

float scale_from_amax(Format f, double amax, const std::string& tensor, Warnings* warnings) {
  if (f == Format::FP32) return 1.0f;
  if (!std::isfinite(amax) || amax <= 0.0) {
    if (warnings) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%g", amax);
      warnings->warn("tensor '" + tensor + "' has amax " + buf + " (" +
                     (amax == 0.0 ? "all zero or never observed" : "not a usable range") + "): scale set to 1");
    }
    return 1.0f;
  }
  const float s = static_cast<float>(amax / format_max(f));
  if (!(s > 0.0f) || !std::isfinite(s)) {  // amax below float's range or above it
    if (warnings) warnings->warn("tensor '" + tensor + "' gives a scale outside float32's range: scale set to 1");
    return 1.0f;
  }
  return s;
}

namespace {
// Fast paths of quantize -> dequantize. They give exactly the bits of the reference composition
// (model::fp8_decode_f32(model::fp8_encode(x / scale, Saturate)) * scale, and model::int8_quantize /
// int8_dequantize), which quant tests check on every FP8 rounding boundary and on random inputs, but run
// without per-element calls, table lookups or format switches: fake-quant of every GEMM input dominated
// quantized runs (about half their time) before.

template <int kMant, int kMinExp>
inline float fp8_fake_quant(Format f, float x, float scale, float maxv) {
  const float v = x / scale;  // one float32 division, as the reference
  uint32_t b;
  std::memcpy(&b, &v, 4);
  const uint32_t a = b & 0x7FFFFFFFu;
  if (a > 0x7F800000u) {  // NaN: the reference path (the format's NaN)
    const auto& fmt = fp8_of(f);
    return model::fp8_decode_f32(fmt, model::fp8_encode(fmt, v, model::Overflow::Saturate)) * scale;
  }
  float m = model::fp8_fast::round_magnitude<kMant, kMinExp>(a, maxv);
  uint32_t mb;
  std::memcpy(&mb, &m, 4);
  mb |= b & 0x80000000u;  // values that round to zero keep their sign, as the FP8 code does
  std::memcpy(&m, &mb, 4);
  return m * scale;
}

inline float int8_fake_quant(float x, float scale) {
  float v = x / scale;  // one float32 division, as model::int8_quantize
  if (v != v) v = 0.0f;  // NaN -> code 0
  v = v <= -127.0f ? -127.0f : (v >= 127.0f ? 127.0f : v);
  // |v| <= 127: adding and subtracting 1.5 * 2^23 rounds to an integer, ties to even (= nearbyint in the
  // default rounding mode); zero comes out as +0, as static_cast<float>(int8_t{0}) does.
  const float q = (v + 12582912.0f) - 12582912.0f;
  return q * scale;
}
}  // namespace

float fake_quant(Format f, float x, float scale) {
  switch (f) {
    case Format::FP32: return x;
    case Format::INT8: return int8_fake_quant(x, scale);
    case Format::E4M3: return fp8_fake_quant<3, -6>(f, x, scale, 448.0f);
    case Format::E5M2: return fp8_fake_quant<2, -14>(f, x, scale, 57344.0f);
  }
  return x;
}

float fake_quant_reference(Format f, float x, float scale) {
  switch (f) {
    case Format::FP32: return x;
    case Format::INT8: return model::int8_dequantize(model::int8_quantize(x, scale), scale);
    case Format::E4M3:
    case Format::E5M2: {
      const auto& fmt = fp8_of(f);
      return model::fp8_decode_f32(fmt, model::fp8_encode(fmt, x / scale, model::Overflow::Saturate)) * scale;
    }
  }
  return x;
}

namespace {
// The same fast paths on GCC vector types of W floats, branch-free (selects instead of branches), instantiated
// for SSE (W = 4) and, where the CPU has it, inside an AVX2 function (W = 8); the float32 division x / scale
// is the expensive part and vectorizes. (VU)(v) etc. reinterpret the bits (GCC vector casts). Lanes holding NaN are redone by the scalar reference afterwards.
typedef float v4f __attribute__((vector_size(16)));
typedef uint32_t v4u __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));
typedef float v8f __attribute__((vector_size(32)));
typedef uint32_t v8u __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));

template <typename VF, typename VU, typename VI, int W, int kMant, int kMinExp>
inline __attribute__((always_inline)) bool fp8_block(const float* in, float* out, float scale, float maxv) {
  constexpr int kDrop = 23 - kMant;
  constexpr float up = static_cast<float>(1u << (kMant - kMinExp)), down = 1.0f / up;
  VF x;
  std::memcpy(&x, in, sizeof x);
  const VF v = x / scale;
  const VU b = (VU)(v);
  const VU a = b & 0x7FFFFFFFu;
  VU an = (a + ((1u << (kDrop - 1)) - 1u) + ((a >> kDrop) & 1u)) & ~((1u << kDrop) - 1u);
  VF rn = (VF)(an);
  rn = rn < maxv ? rn : maxv;
  const VF av = (VF)(a);
  const VF rs = ((av * up + 8388608.0f) - 8388608.0f) * down;
  const VI normal = (VI)(a) >= static_cast<int32_t>((127 + kMinExp) << 23);
  VF r = normal ? rn : rs;
  VU rb = (VU)(r) | (b & 0x80000000u);
  r = (VF)(rb) * scale;
  std::memcpy(out, &r, sizeof r);
  const VI nan = (VI)(a) > static_cast<int32_t>(0x7F800000);
  bool any = false;
  for (int l = 0; l < W; ++l) any |= nan[l] != 0;
  return any;
}

template <typename VF, int W>
inline __attribute__((always_inline)) void int8_block(const float* in, float* out, float scale) {
  VF x;
  std::memcpy(&x, in, sizeof x);
  VF v = x / scale;
  v = v == v ? v : VF{};  // NaN -> 0
  v = v <= -127.0f ? -127.0f - VF{} : v;
  v = v >= 127.0f ? 127.0f - VF{} : v;
  const VF q = ((v + 12582912.0f) - 12582912.0f) * scale;
  std::memcpy(out, &q, sizeof q);
}

template <typename VF, typename VU, typename VI, int W>
inline __attribute__((always_inline)) void fake_quant_array_impl(Format f, const float* in, float* out, size_t n,
                                                                 float scale) {
  size_t i = 0;
  bool any_nan = false;
  switch (f) {
    case Format::INT8:
      for (; i + W <= n; i += W) int8_block<VF, W>(in + i, out + i, scale);
      break;
    case Format::E4M3:
      for (; i + W <= n; i += W) any_nan |= fp8_block<VF, VU, VI, W, 3, -6>(in + i, out + i, scale, 448.0f);
      break;
    case Format::E5M2:
      for (; i + W <= n; i += W) any_nan |= fp8_block<VF, VU, VI, W, 2, -14>(in + i, out + i, scale, 57344.0f);
      break;
    case Format::FP32: break;
  }
  for (; i < n; ++i) out[i] = fake_quant(f, in[i], scale);
  if (any_nan)
    for (size_t j = 0; j < n; ++j)
      if (std::isnan(in[j] / scale)) out[j] = fake_quant_reference(f, in[j], scale);
}

void fake_quant_array_sse(Format f, const float* in, float* out, size_t n, float scale) {
  fake_quant_array_impl<v4f, v4u, v4i, 4>(f, in, out, n, scale);
}
__attribute__((target("avx2"))) void fake_quant_array_avx2(Format f, const float* in, float* out, size_t n,
                                                           float scale) {
  fake_quant_array_impl<v8f, v8u, v8i, 8>(f, in, out, n, scale);
}
}  // namespace

void fake_quant_array(Format f, const float* in, float* out, size_t n, float scale) {
  if (f == Format::FP32) {
    std::copy(in, in + n, out);
    return;
  }
  static const bool avx2 = __builtin_cpu_supports("avx2") && !std::getenv("FP8SIM_NO_AVX2");  // as nn::sgemm_nt
  if (avx2)
    fake_quant_array_avx2(f, in, out, n, scale);
  else
    fake_quant_array_sse(f, in, out, n, scale);
}

uint8_t quantize_code(Format f, float x, float scale) {
  switch (f) {
    case Format::INT8: return static_cast<uint8_t>(model::int8_quantize(x, scale));
    case Format::E4M3:
    case Format::E5M2: return model::fp8_encode(fp8_of(f), x / scale, model::Overflow::Saturate);
    case Format::FP32: break;
  }
  throw std::invalid_argument("quantize_code: fp32 has no 8-bit code");
}

float dequantize_code(Format f, uint8_t code, float scale) {
  switch (f) {
    case Format::INT8: return model::int8_dequantize(static_cast<int8_t>(code), scale);
    case Format::E4M3:
    case Format::E5M2: return model::fp8_decode_f32(fp8_of(f), code) * scale;
    case Format::FP32: break;
  }
  throw std::invalid_argument("dequantize_code: fp32 has no 8-bit code");
}

namespace {
// model::fp8_encode(x / scale, Saturate) without the per-element call (model/src/fp8_fast.h); NaN: the
// reference call. The divisions x / scale go first, a chunk at a time, in a plain loop the compiler vectorizes (the same
// IEEE float32 division per element); then the codes.
template <int kMant, int kMinExp>
void fp8_codes_fast(Format f, const float* in, uint8_t* out, size_t n, float scale, float maxv) {
  constexpr size_t kChunk = 256;
  float v[kChunk];
  for (size_t i0 = 0; i0 < n; i0 += kChunk) {
    const size_t m = std::min(kChunk, n - i0);
    for (size_t i = 0; i < m; ++i) v[i] = in[i0 + i] / scale;
    for (size_t i = 0; i < m; ++i) {
      uint32_t b;
      std::memcpy(&b, &v[i], 4);
      out[i0 + i] = (b & 0x7FFFFFFFu) > 0x7F800000u ? model::fp8_encode(fp8_of(f), v[i], model::Overflow::Saturate)
                                                    : model::fp8_fast::code_of<kMant, kMinExp>(b, maxv);
    }
  }
}
}  // namespace

void quantize_codes(Format f, const float* in, uint8_t* out, size_t n, float scale) {
  switch (f) {
    case Format::INT8:
      for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(model::int8_quantize(in[i], scale));
      return;
    case Format::E4M3:
      fp8_codes_fast<3, -6>(f, in, out, n, scale, 448.0f);
      return;
    case Format::E5M2:
      fp8_codes_fast<2, -14>(f, in, out, n, scale, 57344.0f);
      return;
    case Format::FP32: break;
  }
  for (size_t i = 0; i < n; ++i) out[i] = quantize_code(f, in[i], scale);  // fp32: throws as before
}

double finite_amax(const float* x, size_t n, size_t* nonfinite) {
  // On the bits of |x|: finite iff below 0x7F800000, and for non-negative floats the bit patterns order as
  // the values do, so the largest pattern is the largest magnitude (the same value a double max gives;
  // float -> double is exact). Four lanes at a time on GCC vector types (signed compares: the patterns are
  // below 2^31), the tail one by one.
  typedef int32_t v4 __attribute__((vector_size(16)));
  v4 mx = {0, 0, 0, 0};
  size_t bad = 0;
  size_t i = 0;
  while (i + 4 <= n) {
    v4 badv = {0, 0, 0, 0};  // per-lane counts, flushed at most every 2^28 blocks
    const size_t stop = std::min(n - (n - i) % 4, i + (size_t{1} << 30));
    for (; i < stop; i += 4) {
      v4 b;
      std::memcpy(&b, x + i, sizeof b);
      b &= 0x7FFFFFFF;
      const v4 nonfin = b >= 0x7F800000;  // -1 where Inf/NaN
      badv -= nonfin;
      const v4 bm = b & ~nonfin;
      mx = bm > mx ? bm : mx;
    }
    for (int l = 0; l < 4; ++l) bad += static_cast<size_t>(badv[l]);
  }
  int32_t mb = std::max(std::max(mx[0], mx[1]), std::max(mx[2], mx[3]));
  for (; i < n; ++i) {
    int32_t b;
    std::memcpy(&b, &x[i], 4);
    b &= 0x7FFFFFFF;
    if (b >= 0x7F800000) {
      ++bad;
      continue;
    }
    mb = std::max(mb, b);
  }
  if (nonfinite) *nonfinite = bad;
  float m;
  std::memcpy(&m, &mb, 4);
  return static_cast<double>(m);
}

// ---------------------------------------------------------------- Observer
void Observer::grow(double needed) {
  if (hist_.empty()) {
    hist_.assign(kBins, 0);
    range_ = std::ldexp(1.0, std::ilogb(needed) + 1);  // smallest power of two > needed
    return;
  }
  while (range_ <= needed) {
    for (int i = 0; i < kBins / 2; ++i) hist_[i] = hist_[2 * i] + hist_[2 * i + 1];
    std::fill(hist_.begin() + kBins / 2, hist_.end(), 0);
    range_ *= 2.0;
  }
}

void Observer::observe(const float* x, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float v = x[i];
    if (!std::isfinite(v)) {
      ++nonfinite_;
      continue;
    }
    const double a = std::fabs(static_cast<double>(v));
    ++count_;
    if (a == 0.0) {
      if (hist_.empty()) {
        ++zeros_pending_;
      } else {
        ++hist_[0];
      }
      continue;
    }
    if (a > amax_) amax_ = a;
    if (a >= range_) {
      const bool fresh = hist_.empty();
      grow(a);
      if (fresh) hist_[0] += zeros_pending_, zeros_pending_ = 0;
    }
    const double inv = kBins / range_;  // a power of two: exact
    int b = static_cast<int>(a * inv);
    hist_[std::min(b, kBins - 1)]++;
  }
}

double Observer::percentile_amax(double p) const {
  if (count_ == 0 || hist_.empty()) return amax_;
  const double target = std::min(1.0, p / 100.0) * static_cast<double>(count_);
  const double w = range_ / kBins;
  double cum = 0.0;
  for (int i = 0; i < kBins; ++i) {
    const double h = static_cast<double>(hist_[i]);
    if (h > 0 && cum + h >= target) {
      const double frac = std::clamp((target - cum) / h, 0.0, 1.0);
      return std::min(amax_, (i + frac) * w);
    }
    cum += h;
  }
  return amax_;
}

namespace {
// argmin over candidate amax values amax*i/steps of sum_j weight_j * (v_j - fq(v_j))^2. Ties keep the larger
// candidate (less clipping).
double mse_search(Format f, double amax, const std::vector<std::pair<float, double>>& vw, int steps) {
  if (f == Format::FP32 || amax <= 0.0 || !std::isfinite(amax)) return amax;
  double best = amax, best_err = std::numeric_limits<double>::infinity();
  for (int i = steps; i >= 1; --i) {
    const double c = amax * i / steps;
    const float s = static_cast<float>(c / format_max(f));
    if (!(s > 0.0f)) break;
    double err = 0.0;
    for (const auto& [v, wgt] : vw) {
      const double d = static_cast<double>(v) - static_cast<double>(fake_quant(f, v, s));
      err += wgt * d * d;
    }
    if (err < best_err) best_err = err, best = c;
  }
  return best;
}
}  // namespace

double Observer::mse_amax(Format f) const {
  if (count_ == 0 || hist_.empty()) return amax_;
  std::vector<std::pair<float, double>> vw;
  const double w = range_ / kBins;
  for (int i = 0; i < kBins; ++i)
    if (hist_[i]) vw.emplace_back(static_cast<float>(std::min((i + 0.5) * w, amax_)), static_cast<double>(hist_[i]));
  return mse_search(f, amax_, vw, kMseSteps);
}

double Observer::calibrated_amax(CalibMethod m, Format f, double percentile) const {
  switch (m) {
    case CalibMethod::MinMax: return amax_;
    case CalibMethod::Percentile: return percentile_amax(percentile);
    case CalibMethod::MSE: return mse_amax(f);
  }
  return amax_;
}

double calibrated_amax_of(const float* x, size_t n, CalibMethod m, Format f, double percentile) {
  if (m == CalibMethod::MinMax) return finite_amax(x, n);
  if (m == CalibMethod::MSE && n <= 4096) {  // small tensors (a weight row): search on the exact values
    std::vector<std::pair<float, double>> vw;
    vw.reserve(n);
    for (size_t i = 0; i < n; ++i)
      if (std::isfinite(x[i])) vw.emplace_back(std::fabs(x[i]), 1.0);
    return mse_search(f, finite_amax(x, n), vw, Observer::kMseSteps);
  }
  Observer o;
  o.observe(x, n);
  return o.calibrated_amax(m, f, percentile);
}

// ---------------------------------------------------------------- weights
QTensor quantize_weight(const std::string& name, const float* w, int64_t rows, int64_t cols, Format f,
                        Granularity g, CalibMethod m, double percentile, Warnings* warnings) {
  if (f == Format::FP32) throw std::invalid_argument("quantize_weight: '" + name + "' format fp32 is not quantized");
  if (g == Granularity::PerToken) throw std::invalid_argument("quantize_weight: weights have no per-token scales");
  QTensor q;
  q.format = f;
  q.shape = {rows, cols};
  q.codes.resize(static_cast<size_t>(rows * cols));
  auto check_nonfinite = [&](const float* p, size_t n) {
    size_t bad = 0;
    finite_amax(p, n, &bad);
    if (bad && warnings)
      warnings->warn("weight '" + name + "' has " + std::to_string(bad) + " non-finite values (ignored for the scale)");
  };
  if (g == Granularity::PerTensor) {
    const size_t n = static_cast<size_t>(rows * cols);
    check_nonfinite(w, n);
    const float s = scale_from_amax(f, calibrated_amax_of(w, n, m, f, percentile), name, warnings);
    q.scales = {s};
    quantize_codes(f, w, q.codes.data(), n, s);
  } else {
    q.scales.resize(static_cast<size_t>(rows));
    check_nonfinite(w, static_cast<size_t>(rows * cols));
    for (int64_t r = 0; r < rows; ++r) {
      const float* row = w + r * cols;
      const double amax = calibrated_amax_of(row, static_cast<size_t>(cols), m, f, percentile);
      // An all-zero row is common (pruned channels): scale 1 quietly is correct there, so warn only once.
      const float s = amax > 0.0 && std::isfinite(amax)
                          ? scale_from_amax(f, amax, name + "[" + std::to_string(r) + "]", warnings)
                          : 1.0f;
      q.scales[static_cast<size_t>(r)] = s;
      quantize_codes(f, row, q.codes.data() + r * cols, static_cast<size_t>(cols), s);
    }
  }
  return q;
}

std::vector<float> dequantize(const QTensor& q) {
  std::vector<float> out(q.codes.size());
  if (q.shape.empty()) return out;
  const int64_t rows = q.shape[0];
  const int64_t cols = rows ? static_cast<int64_t>(q.codes.size()) / rows : 0;
  for (int64_t r = 0; r < rows; ++r) {
    const float s = q.scale_of_row(r);
    for (int64_t c = 0; c < cols; ++c) out[r * cols + c] = dequantize_code(q.format, q.codes[r * cols + c], s);
  }
  return out;
}

double sqnr_db(const float* ref, const float* x, size_t n) {
  double sig = 0.0, noise = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double r = ref[i], d = static_cast<double>(ref[i]) - x[i];
    sig += r * r;
    noise += d * d;
  }
  if (noise == 0.0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(sig / noise);
}

double cosine_similarity(const float* a, const float* b, size_t n) {
  double ab = 0.0, aa = 0.0, bb = 0.0;
  for (size_t i = 0; i < n; ++i) {
    ab += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  if (aa == 0.0 && bb == 0.0) return 1.0;
  if (aa == 0.0 || bb == 0.0) return 0.0;
  return ab / std::sqrt(aa * bb);
}

}  // namespace fp8sim::quant
